//! The verification query (section 7.4 of the traceability research): "is this bottle
//! genuine, what is its history, was it already sold?", with a proof a client checks offline.
//!
//! `GET /verify/{code}` and the GS1 resolver path `GET /01/{gtin}/21/{serial}` answer with:
//! - `verdict` and chain-derived `alerts` ([`judge`] over the committed leaf: an offline
//!   verifier recomputes them), plus node-local alerts (scan statistics) that can only make
//!   the verdict worse;
//! - the public view of the record: state, flags, custodian, sale, coarse history. The
//!   public view names producers and stores (they are public brands and shops) but never a
//!   distributor ("a licensed distributor"), and shows no tx ids; a partner (a request with
//!   a token from `rpc_partner_tokens`) gets org ids and tx ids.
//! - `proof`: the committed leaf bytes, its path to the state root, the block header that
//!   carries that root, and the commit certificate signed by the validators.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use jiu_contracts::gs1::{parse_code, Code};
use jiu_contracts::provenance::{judge, AlertCode, AlertView, RecordLeaf, Severity, Verdict};
use jiu_contracts::state::RecordProof;
use jiu_contracts::{Hash, Role, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::block::BlockHeader;
use crate::history::{history_of, HistoryEntry};
use crate::proof::CertificateJson;
use crate::shared::Committed;

/// Public checks of one code above which it is flagged `MULTI_SCAN`.
pub const MULTI_SCAN_CHECKS: u64 = 20;
/// Distinct cities within [`SCAN_WINDOW_MS`] at which it is flagged `MULTI_SCAN`.
pub const MULTI_SCAN_CITIES: usize = 3;
/// The window of the city rule: 30 days.
pub const SCAN_WINDOW_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Codes whose scan statistics a node keeps in memory; beyond it new codes are not counted.
pub const SCAN_STATS_CODES_MAX: usize = 1_000_000;

/// What the client says about the check.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct VerifyQuery {
    /// `check` (default), `pre_sale` (a buyer about to pay), `post_purchase_claim`.
    pub intent: Option<String>,
    /// Coarse location of the check, e.g. a city code.
    pub city: Option<String>,
    /// NFC tap data (NTAG 424 DNA SUN): encrypted PICCData, truncated MAC, file data.
    pub picc: Option<String>,
    pub cmac: Option<String>,
    pub enc: Option<String>,
}

/// Public verification statistics of one code, kept by this node.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanStats {
    pub first_ms: Option<u64>,
    pub count: u64,
    /// Distinct cities seen within the window, with the last time each was seen.
    #[serde(skip)]
    cities: Vec<(String, u64)>,
    pub cities_30d: usize,
}

/// Node-local scan statistics by record key.
#[derive(Default)]
pub struct ScanBook {
    stats: Mutex<HashMap<Hash, ScanStats>>,
}

impl ScanBook {
    /// Records a public check at `now_ms` from `city` and returns the statistics after it.
    pub fn record(&self, key: Hash, now_ms: u64, city: Option<&str>) -> ScanStats {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        if !stats.contains_key(&key) && stats.len() >= SCAN_STATS_CODES_MAX {
            return ScanStats::default();
        }
        let entry = stats.entry(key).or_default();
        entry.first_ms.get_or_insert(now_ms);
        entry.count += 1;
        entry
            .cities
            .retain(|(_, at)| now_ms.saturating_sub(*at) <= SCAN_WINDOW_MS);
        if let Some(city) = city.filter(|c| !c.is_empty() && c.len() <= 64) {
            if let Some(seen) = entry.cities.iter_mut().find(|(c, _)| c == city) {
                seen.1 = now_ms;
            } else if entry.cities.len() < 64 {
                entry.cities.push((city.to_string(), now_ms));
            }
        }
        entry.cities_30d = entry.cities.len();
        entry.clone()
    }
}

/// The proof part of an answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordProofJson {
    pub chain_id: String,
    pub height: u64,
    pub block_id: crate::context::BlockId,
    pub header: BlockHeader,
    pub certificate: CertificateJson,
    /// `borsh(RecordLeaf)`, hex; absent when the chain has no record of the code.
    pub record_hex: Option<String>,
    pub record_proof: RecordProof,
    /// The containers the bottle is in that have alerts on record (a diversion attempt is
    /// made on the case or pallet that was shipped), each proven like the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerProofJson>,
}

/// A container's committed leaf and its proof, under the same state root.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerProofJson {
    pub code: String,
    pub record_hex: String,
    pub record_proof: RecordProof,
}

/// The containers above `leaf` (case, pallet, ...) whose leaves carry alerts.
fn flagged_containers(state: &State, leaf: Option<&RecordLeaf>) -> Vec<RecordLeaf> {
    let mut out = Vec::new();
    let mut parent = leaf
        .and_then(|l| l.bottle.as_ref())
        .and_then(|b| b.parent.clone());
    for _ in 0..jiu_contracts::provenance::NESTING_DEPTH_MAX {
        let Some(id) = parent else { break };
        let Some(container) = state.record(&id.code()) else {
            break;
        };
        parent = container.container.as_ref().and_then(|c| c.parent.clone());
        if container.alerts.total > 0 {
            out.push(container);
        }
    }
    out
}

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Public,
    Partner,
}

/// Builds the answer for `raw` (any accepted code form). `Err` only for an invalid code,
/// which the caller answers with `INVALID_CODE` (a verdict, not a server error).
#[allow(clippy::too_many_arguments)]
pub fn answer(
    committed: &Committed,
    db: &crate::db::Db,
    scans: &ScanBook,
    tags: &crate::tags::TagBook,
    raw: &str,
    query: &VerifyQuery,
    viewer: Viewer,
    now_ms: u64,
) -> Value {
    let code = match parse_code(raw) {
        Ok(code) => code,
        Err(error) => {
            return json!({
                "query": { "code": raw },
                "verdict": Verdict::InvalidCode.as_str(),
                "alerts": [{
                    "code": "INVALID_CODE",
                    "severity": "info",
                    "message": format!("{}; rescan the code", error.reason()),
                }],
            })
        }
    };
    let state: &State = &committed.state;
    let leaf = state.record(&code);
    let (verdict, mut alerts) = judge(leaf.as_ref());
    let containers = flagged_containers(&committed.state, leaf.as_ref());
    for container in &containers {
        let (_, container_alerts) = judge(Some(container));
        alerts.extend(container_alerts.into_iter().map(|mut a| {
            a.severity = a.severity.min(Severity::Warning);
            a.message = format!("on its container {}: {}", container.code, a.message);
            a
        }));
    }
    let key = jiu_contracts::provenance::record_key(&code);
    let stats =
        (viewer == Viewer::Public).then(|| scans.record(key, now_ms, query.city.as_deref()));
    let mut verdict = verdict;
    if let Some(stats) = &stats {
        if stats.count > MULTI_SCAN_CHECKS || stats.cities_30d >= MULTI_SCAN_CITIES {
            let severity = if stats.cities_30d >= MULTI_SCAN_CITIES {
                Severity::Critical
            } else {
                Severity::Warning
            };
            alerts.push(AlertView {
                code: AlertCode::MultiScan,
                severity,
                since_ms: stats.first_ms,
                count: stats.count,
                message: format!(
                    "checked {} times, from {} cities in 30 days",
                    stats.count, stats.cities_30d
                ),
            });
            if severity == Severity::Critical
                && matches!(verdict, Verdict::GenuineSold | Verdict::GenuineUnsold)
            {
                verdict = Verdict::Suspect;
            }
        }
    }
    let mut tag = None;
    if let (Some(picc), Some(cmac)) = (&query.picc, &query.cmac) {
        // The tag writes `...?picc=..&cmac=..`: the MAC covers no URL text in that layout;
        // with `enc`, it covers `<enc>&cmac=`.
        let mac_input = query
            .enc
            .as_ref()
            .map(|enc| format!("{enc}&cmac="))
            .unwrap_or_default();
        if let Ok(view) = tags.check(&key, picc, cmac, query.enc.as_deref(), mac_input.as_bytes()) {
            let alert = match view.status {
                "invalid" => Some((AlertCode::TagInvalid, Severity::Critical)),
                "replay" => Some((AlertCode::TagReplay, Severity::Warning)),
                _ => None,
            };
            if let Some((code, severity)) = alert {
                alerts.push(AlertView {
                    code,
                    severity,
                    since_ms: None,
                    count: 1,
                    message: view.message.clone(),
                });
                if severity == Severity::Critical
                    && matches!(verdict, Verdict::GenuineSold | Verdict::GenuineUnsold)
                {
                    verdict = Verdict::Suspect;
                }
            }
            tag = Some(view);
        }
    }
    if let Some(bottle) = leaf.as_ref().and_then(|l| l.bottle.as_ref()) {
        if let Some(sale) = &bottle.sold {
            if query.intent.as_deref() == Some("pre_sale") {
                alerts.push(AlertView {
                    code: AlertCode::AlreadySold,
                    severity: Severity::Critical,
                    since_ms: Some(sale.time_ms),
                    count: 1,
                    message: format!(
                        "this bottle was already sold in {}; do not buy it as new",
                        sale.city
                    ),
                });
            }
        }
    }
    let history = history_of(db, &code).unwrap_or_default();
    let mut body = json!({
        "query": { "code": raw },
        "code": code.to_string(),
        "element_string": code.element_string(),
        "verdict": verdict.as_str(),
        "alerts": alerts,
        "proof": proof_json(committed, &code, leaf.as_ref(), &containers),
    });
    let object = body.as_object_mut().expect("built as an object");
    if let Some(stats) = stats {
        object.insert("scan_stats".into(), json!(stats));
    }
    if let Some(tag) = tag {
        object.insert("tag".into(), json!(tag));
    }
    if let Some(leaf) = &leaf {
        object.extend(record_view(state, leaf, viewer));
    } else {
        object.insert("kind".into(), json!("unknown"));
    }
    object.insert("history".into(), history_view(state, &history, viewer));
    body
}

fn proof_json(
    committed: &Committed,
    code: &Code,
    leaf: Option<&RecordLeaf>,
    containers: &[RecordLeaf],
) -> Value {
    let (Some(header), Some(head)) = (&committed.header, &committed.proof_head) else {
        return Value::Null; // height 0: nothing is signed yet
    };
    // The same JSON as serializing a `RecordProofJson`, with the per-height parts reused.
    let containers: Vec<ContainerProofJson> = containers
        .iter()
        .map(|c| ContainerProofJson {
            code: c.code.to_string(),
            record_hex: jiu_contracts::types::hex_encode(&c.encode()),
            record_proof: committed.state.prove_record(&c.code),
        })
        .collect();
    let mut proof = json!({
        "chain_id": header.chain_id,
        "height": header.height,
        "block_id": committed.tip.block_id,
        "header": head.0.clone(),
        "certificate": head.1.clone(),
        "record_hex": leaf.map(|l| jiu_contracts::types::hex_encode(&l.encode())),
        "record_proof": committed.state.prove_record(code),
    });
    if !containers.is_empty() {
        proof["containers"] = json!(containers);
    }
    proof
}

/// How the public may see an org: producers and stores by name, distributors anonymously.
fn party(state: &State, org_id: &str, viewer: Viewer) -> Value {
    let org = state.org(org_id);
    let role = org.map(|o| o.role);
    let name = org
        .map(|o| o.name.clone())
        .unwrap_or_else(|| org_id.to_string());
    match (viewer, role) {
        (Viewer::Partner, _) => json!({ "org_id": org_id, "name": name, "role": role }),
        (Viewer::Public, Some(Role::Distributor)) => {
            json!({ "role": "DISTRIBUTOR", "name": "a licensed distributor" })
        }
        (Viewer::Public, _) => json!({ "role": role, "name": name }),
    }
}

fn record_view(state: &State, leaf: &RecordLeaf, viewer: Viewer) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    if let Some(bottle) = &leaf.bottle {
        out.insert("kind".into(), json!("bottle"));
        out.insert("state".into(), json!(bottle.state));
        let flags: Vec<_> = bottle.flags.keys().collect();
        out.insert("flags".into(), json!(flags));
        if let Code::Item(sgtin) = &leaf.code {
            out.insert(
                "product".into(),
                json!({
                    "gtin": sgtin.gtin.to_string(),
                    "producer": party(state, &bottle.producer, viewer),
                }),
            );
        }
        out.insert("custodian".into(), party(state, &bottle.custodian, viewer));
        if let Some(parent) = &bottle.parent {
            out.insert("in_container".into(), json!(parent.code().to_string()));
        }
        if let Some(sale) = &bottle.sold {
            out.insert(
                "sale".into(),
                json!({
                    "store": party(state, &sale.store, viewer),
                    "city": sale.city,
                    "time_ms": sale.time_ms,
                }),
            );
        }
        if let Some(new) = &bottle.replaced_by {
            out.insert("replaced_by".into(), json!(new.to_string()));
        }
    } else if let Some(container) = &leaf.container {
        out.insert("kind".into(), json!("container"));
        out.insert("state".into(), json!(container.state));
        out.insert(
            "custodian".into(),
            party(state, &container.custodian, viewer),
        );
        out.insert("contents".into(), json!(container.children));
    } else {
        out.insert("kind".into(), json!("unknown"));
    }
    out
}

/// The coarse public history, or the full one for partners.
fn history_view(state: &State, history: &[HistoryEntry], viewer: Viewer) -> Value {
    let mut seen = BTreeSet::new();
    let lines: Vec<Value> = history
        .iter()
        .filter(|e| viewer == Viewer::Partner || seen.insert((e.height, e.op.clone())))
        .map(|e| {
            let mut line = json!({
                "op": e.op,
                "time_ms": e.time_ms,
                "height": e.height,
                "by": party(state, &e.org_id, viewer),
            });
            let obj = line.as_object_mut().expect("object");
            if let Some(city) = &e.city {
                obj.insert("city".into(), json!(city));
            }
            if let Some(to) = &e.to {
                obj.insert("to".into(), party(state, to, viewer));
            }
            if let Some(via) = &e.via {
                obj.insert("via".into(), json!(via));
            }
            if viewer == Viewer::Partner {
                obj.insert("tx_id".into(), json!(hex::encode(e.tx_id)));
                if let Some(container) = &e.container {
                    obj.insert("container".into(), json!(container));
                }
                if let Some(detail) = &e.detail {
                    obj.insert("detail".into(), json!(detail));
                }
            }
            line
        })
        .collect();
    Value::Array(lines)
}
