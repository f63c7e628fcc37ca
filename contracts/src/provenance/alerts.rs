//! The alert catalogue of section 7.4 and the alerts raised by refused attempts.
//!
//! EMVS records a refused decommissioning as an alert. Here a refused op changes nothing, so
//! the node asks [`alert_for`] whether the refusal is worth an alert and, if so, commits it
//! with [`super::Ledger::record_alert`] as the tx's only effect. Only refused `Sell` and
//! `Receive` ops raise alerts: they are the attempts a counterfeiter or a diverter makes.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::error::ProvenanceError;
use super::ops::Op;
use super::state::{Flag, LifeState};
use super::{Actor, Ctx, Ledger};
use crate::gs1::Code;

/// Alert codes of the catalogue in section 7.4. Verification-time alerts (scan statistics,
/// tags) are listed so the RPC and the ledger share one catalogue.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertCode {
    InvalidCode,
    UnknownCode,
    AttributeMismatch,
    NotReleased,
    AlreadySold,
    SaleByNonCustodian,
    Diverted,
    Recalled,
    Stolen,
    Hold,
    Destroyed,
    Void,
    MultiScan,
    TagInvalid,
    TagReplay,
    TagOpened,
    AggregationMismatch,
}

impl AlertCode {
    /// The catalogue name, as the RPC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertCode::InvalidCode => "INVALID_CODE",
            AlertCode::UnknownCode => "UNKNOWN_CODE",
            AlertCode::AttributeMismatch => "ATTRIBUTE_MISMATCH",
            AlertCode::NotReleased => "NOT_RELEASED",
            AlertCode::AlreadySold => "ALREADY_SOLD",
            AlertCode::SaleByNonCustodian => "SALE_BY_NON_CUSTODIAN",
            AlertCode::Diverted => "DIVERTED",
            AlertCode::Recalled => "RECALLED",
            AlertCode::Stolen => "STOLEN",
            AlertCode::Hold => "HOLD",
            AlertCode::Destroyed => "DESTROYED",
            AlertCode::Void => "VOID",
            AlertCode::MultiScan => "MULTI_SCAN",
            AlertCode::TagInvalid => "TAG_INVALID",
            AlertCode::TagReplay => "TAG_REPLAY",
            AlertCode::TagOpened => "TAG_OPENED",
            AlertCode::AggregationMismatch => "AGGREGATION_MISMATCH",
        }
    }
}

/// A recorded alert: what, about which code, who tried, and when (block height and time).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Alert {
    pub code: AlertCode,
    pub subject: Code,
    pub actor_org: String,
    pub height: u64,
    pub time_ms: u64,
}

impl Ledger {
    /// The alert a refused op deserves, if any; `self` is the state the op was refused
    /// against (unchanged by the refusal), `ctx` the block it was refused in.
    pub fn alert_for(
        &self,
        op: &Op,
        actor: &Actor,
        error: &ProvenanceError,
        ctx: &Ctx,
    ) -> Option<Alert> {
        alert_for(op, actor, error, ctx)
    }
}

/// The alert a refused op deserves, if any: it depends on the op and the reason only.
pub fn alert_for(op: &Op, actor: &Actor, error: &ProvenanceError, ctx: &Ctx) -> Option<Alert> {
    if !matches!(op, Op::Sell { .. } | Op::Receive { .. }) {
        return None;
    }
    let unknown;
    let (code, subject) = match error {
        ProvenanceError::AlreadySold(code) => (AlertCode::AlreadySold, code),
        ProvenanceError::SaleByNonCustodian { code, .. } => (AlertCode::SaleByNonCustodian, code),
        ProvenanceError::Diverted { code, .. } => (AlertCode::Diverted, code),
        ProvenanceError::Flagged { code, flag } => (flag_alert(*flag)?, code),
        ProvenanceError::LotRecalled { code, .. } => (AlertCode::Recalled, code),
        ProvenanceError::WrongState { code, state, .. } => (state_alert(*state)?, code),
        ProvenanceError::UnknownBottle(sgtin) => {
            unknown = Code::Item(sgtin.clone());
            (AlertCode::UnknownCode, &unknown)
        }
        _ => return None,
    };
    Some(Alert {
        code,
        subject: subject.clone(),
        actor_org: actor.org_id.clone(),
        height: ctx.height,
        time_ms: ctx.time_ms,
    })
}

fn flag_alert(flag: Flag) -> Option<AlertCode> {
    match flag {
        Flag::Recalled => Some(AlertCode::Recalled),
        Flag::Stolen => Some(AlertCode::Stolen),
        Flag::Hold => Some(AlertCode::Hold),
        Flag::Damaged | Flag::Opened => None,
    }
}

fn state_alert(state: LifeState) -> Option<AlertCode> {
    match state {
        LifeState::Issued => Some(AlertCode::NotReleased),
        LifeState::Destroyed => Some(AlertCode::Destroyed),
        LifeState::Void => Some(AlertCode::Void),
        _ => None,
    }
}
