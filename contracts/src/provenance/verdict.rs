//! The verdict of a verification query (section 7.4), as a pure function of the committed
//! leaf, so that an offline verifier recomputes exactly what the node answered.
//!
//! Node-local evidence (scan statistics, NFC tag checks) can only make a verdict worse: the
//! node adds those alerts and may raise `GENUINE_*` to `SUSPECT`, and a verifier accepts
//! such an escalation only when a node-local alert explains it.

use serde::{Deserialize, Serialize};

use super::alerts::AlertCode;
use super::leaf::RecordLeaf;
use super::state::{Flag, LifeState};
use crate::gs1::Lot;
use crate::product::Product;

/// The answer to "is this bottle genuine?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// On record, in the supply chain, not sold: fine to buy.
    GenuineUnsold,
    /// On record and sold once: fine for its buyer, a warning for anyone offered it.
    GenuineSold,
    /// On record, but flagged, terminal, never released, or with attempts recorded against it.
    Suspect,
    /// Not on record, but someone tried to trade it: a counterfeit code in circulation.
    NotGenuine,
    /// Not on record at all.
    Unknown,
    /// Not a valid code (checked before any lookup).
    InvalidCode,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::GenuineUnsold => "GENUINE_UNSOLD",
            Verdict::GenuineSold => "GENUINE_SOLD",
            Verdict::Suspect => "SUSPECT",
            Verdict::NotGenuine => "NOT_GENUINE",
            Verdict::Unknown => "UNKNOWN",
            Verdict::InvalidCode => "INVALID_CODE",
        }
    }
}

/// How loud an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One alert as a verify answer shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub code: AlertCode,
    pub severity: Severity,
    /// Block time of the first occurrence, if the chain recorded one.
    pub since_ms: Option<u64>,
    /// How many times it was recorded.
    pub count: u64,
    pub message: String,
}

/// Alert codes that only a node's own observations can raise (not provable from the chain).
pub fn is_node_local(code: AlertCode) -> bool {
    matches!(
        code,
        AlertCode::MultiScan
            | AlertCode::TagInvalid
            | AlertCode::TagReplay
            | AlertCode::TagOpened
            | AlertCode::InvalidCode
    )
}

/// The verdict and the chain-derived alerts for a code with leaf `leaf` (`None`: no record).
pub fn judge(leaf: Option<&RecordLeaf>) -> (Verdict, Vec<AlertView>) {
    let Some(leaf) = leaf else {
        return (
            Verdict::Unknown,
            vec![view(
                AlertCode::UnknownCode,
                Severity::Critical,
                None,
                1,
                "no record of this code on the chain",
            )],
        );
    };
    let mut alerts = recorded_alerts(leaf);
    let suspicious_attempt = alerts.iter().any(|a| a.severity == Severity::Critical);
    let Some(bottle) = &leaf.bottle else {
        if let Some(container) = &leaf.container {
            // A case or pallet: genuine packaging in the chain; never "sold" itself.
            let verdict = if suspicious_attempt {
                Verdict::Suspect
            } else {
                let _ = container;
                Verdict::GenuineUnsold
            };
            return (verdict, alerts);
        }
        // Only attempts are on record: a code that was never issued is being traded.
        return (Verdict::NotGenuine, alerts);
    };
    let mut suspect = suspicious_attempt;
    for (flag, setter) in &bottle.flags {
        let (code, severity) = match flag {
            Flag::Recalled => (AlertCode::Recalled, Severity::Critical),
            Flag::Stolen => (AlertCode::Stolen, Severity::Critical),
            Flag::Hold => (AlertCode::Hold, Severity::Critical),
            Flag::Damaged | Flag::Opened => continue,
        };
        suspect = true;
        alerts.push(view(
            code,
            severity,
            None,
            1,
            &format!("flagged {flag:?} by {setter}"),
        ));
    }
    let terminal = match bottle.state {
        LifeState::Destroyed => Some((AlertCode::Destroyed, "this code was destroyed")),
        LifeState::Void => Some((AlertCode::Void, "this code was retired")),
        LifeState::Issued => Some((
            AlertCode::NotReleased,
            "this code was issued but never put on a filled bottle",
        )),
        _ => None,
    };
    if let Some((code, message)) = terminal {
        suspect = true;
        alerts.push(view(code, Severity::Critical, None, 1, message));
    }
    let verdict = if suspect {
        Verdict::Suspect
    } else if bottle.state == LifeState::Sold {
        Verdict::GenuineSold
    } else {
        Verdict::GenuineUnsold
    };
    (verdict, alerts)
}

/// [`judge`] for a scan, with the bottle's product master data.
///
/// - A scan that named a lot (AI 10, `/01/{gtin}/10/{lot}/21/{serial}`) other than the one
///   the chain recorded at commissioning is an `ATTRIBUTE_MISMATCH` (the label and the record
///   disagree: a copied code on another batch's bottle, or a relabelled one). With no lot on
///   either side there is nothing to compare.
/// - A bottle whose recorded lot is on its product's recalled lots is `RECALLED` (the
///   lot-scope recall of section 7.2), unless its own flag already says so.
///
/// Either makes a genuine verdict `SUSPECT`. A function of the leaf, the scanned text and
/// the product, so an offline verifier recomputes it.
pub fn judge_scan(
    leaf: Option<&RecordLeaf>,
    scanned_lot: Option<&Lot>,
    product: Option<&Product>,
) -> (Verdict, Vec<AlertView>) {
    let (mut verdict, mut alerts) = judge(leaf);
    let recorded = leaf
        .and_then(|l| l.bottle.as_ref())
        .and_then(|b| b.lot.as_ref());
    let recall = recorded.and_then(|lot| product?.lot_recall(lot));
    if let Some(recall) = recall {
        if !alerts.iter().any(|a| a.code == AlertCode::Recalled) {
            alerts.push(view(
                AlertCode::Recalled,
                Severity::Critical,
                Some(recall.since_ms),
                1,
                &format!("lot {} recalled by {}", recall.lot, recall.by),
            ));
            if matches!(verdict, Verdict::GenuineSold | Verdict::GenuineUnsold) {
                verdict = Verdict::Suspect;
            }
        }
    }
    if let (Some(scanned), Some(recorded)) = (scanned_lot, recorded) {
        if scanned != recorded {
            alerts.push(view(
                AlertCode::AttributeMismatch,
                Severity::Critical,
                None,
                1,
                &format!(
                    "the code names lot {scanned}, but the chain recorded lot {recorded} \
                     for this bottle"
                ),
            ));
            if matches!(verdict, Verdict::GenuineSold | Verdict::GenuineUnsold) {
                verdict = Verdict::Suspect;
            }
        }
    }
    (verdict, alerts)
}

/// The alerts the chain recorded about the code, one view per alert code.
fn recorded_alerts(leaf: &RecordLeaf) -> Vec<AlertView> {
    let mut views: Vec<AlertView> = Vec::new();
    for alert in &leaf.alerts.recent {
        if let Some(existing) = views.iter_mut().find(|v| v.code == alert.code) {
            existing.count += 1;
            continue;
        }
        let severity = match alert.code {
            AlertCode::Diverted => Severity::Warning,
            _ => Severity::Critical,
        };
        let message = format!(
            "{} attempted by {} at height {}",
            alert.code.as_str(),
            alert.actor_org,
            alert.height
        );
        views.push(view(alert.code, severity, Some(alert.time_ms), 1, &message));
    }
    // Alerts older than the kept window still count.
    let kept = leaf.alerts.recent.len() as u64;
    if leaf.alerts.total > kept {
        if let Some(first) = views.first_mut() {
            first.count += leaf.alerts.total - kept;
        }
    }
    views
}

fn view(
    code: AlertCode,
    severity: Severity,
    since_ms: Option<u64>,
    count: u64,
    message: &str,
) -> AlertView {
    AlertView {
        code,
        severity,
        since_ms,
        count,
        message: message.to_string(),
    }
}
