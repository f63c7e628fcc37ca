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
use jiu_contracts::provenance::{
    judge, AlertCode, AlertView, Flag, LifeState, RecordLeaf, Severity, Verdict,
};
use jiu_contracts::state::RecordProof;
use jiu_contracts::{Hash, Role, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use crate::block::BlockHeader;
use crate::history::{history_of, HistoryEntry};
use crate::proof::{CertificateJson, HexJson, RecordProofView};
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
    // Fields in key order: an answer shows them in that order (see `AnswerJson`).
    pub cities_30d: usize,
    pub count: u64,
    pub first_ms: Option<u64>,
    /// Distinct cities seen within the window, with the last time each was seen.
    #[serde(skip)]
    cities: Vec<(String, u64)>,
}

/// Shards of the scan book, by the first byte of the record key. One table under one lock
/// stalled every public answer for 170 ms when it grew from 0.9 M to 1.8 M slots; a shard
/// grows a 64th of that at a time, and concurrent answers rarely share a lock.
const SCAN_SHARDS: usize = 64;

/// Node-local scan statistics by record key.
pub struct ScanBook {
    shards: Vec<Mutex<HashMap<Hash, ScanStats>>>,
    /// Codes each shard counts; together about [`SCAN_STATS_CODES_MAX`].
    shard_codes_max: usize,
}

impl Default for ScanBook {
    fn default() -> Self {
        Self::with_codes_max(SCAN_STATS_CODES_MAX)
    }
}

impl ScanBook {
    /// A book that counts at most about `codes_max` codes (each shard its share).
    pub fn with_codes_max(codes_max: usize) -> Self {
        Self {
            shards: (0..SCAN_SHARDS).map(|_| Mutex::default()).collect(),
            shard_codes_max: codes_max.div_ceil(SCAN_SHARDS),
        }
    }

    /// Records a public check at `now_ms` from `city` and returns the statistics after it.
    /// Once the code's shard is full, a code not yet counted gets empty statistics.
    pub fn record(&self, key: Hash, now_ms: u64, city: Option<&str>) -> ScanStats {
        // Record keys are SHA-256 outputs: their first byte spreads codes evenly.
        let shard = &self.shards[usize::from(key[0]) % SCAN_SHARDS];
        let mut stats = shard.lock().unwrap_or_else(|e| e.into_inner());
        if !stats.contains_key(&key) && stats.len() >= self.shard_codes_max {
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
    /// The product master data the answer shows, proven as a leaf of the same state root;
    /// absent when the GTIN is not registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductProofJson>,
}

/// A product's committed master data and its proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductProofJson {
    pub product: jiu_contracts::product::Product,
    pub proof: jiu_contracts::product::ProductProof,
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

/// Builds the answer for `raw` (any accepted code form), as the JSON bytes the RPC sends.
/// An invalid code is answered with the verdict `INVALID_CODE`, not a server error.
///
/// The answer is written straight from borrowed views ([`AnswerJson`] and below) rather
/// than through a `serde_json::Value` tree: building the tree (a map node and an owned
/// string per field, a deep copy of the header and certificate) was a large part of the
/// cost of an answer.
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
) -> Vec<u8> {
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
            .to_string()
            .into_bytes()
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
    let mut body = AnswerJson {
        alerts: alerts.iter().map(AlertJson::from).collect(),
        code: code.to_string(),
        contents: None,
        custodian: None,
        element_string: code.element_string(),
        flags: None,
        history: history_view(state, &history, viewer),
        in_container: None,
        kind: "unknown",
        product: None,
        proof: proof_view(committed, &code, leaf.as_ref(), &containers),
        query: QueryJson { code: raw },
        replaced_by: None,
        sale: None,
        scan_stats: stats.as_ref(),
        state: None,
        tag: tag.as_ref().map(TagJson::from),
        verdict: verdict.as_str(),
    };
    if let Some(leaf) = &leaf {
        record_view(state, leaf, viewer, &mut body);
    }
    // Every field is a string, a number, a sequence or a struct: nothing can fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The proof part of an answer: the same JSON as a [`RecordProofJson`], with the header and
/// certificate made once per height.
fn proof_view<'a>(
    committed: &'a Committed,
    code: &Code,
    leaf: Option<&RecordLeaf>,
    containers: &[RecordLeaf],
) -> Option<ProofJson<'a>> {
    // Height 0: nothing is signed yet.
    let (Some(header), Some(head)) = (&committed.header, &committed.proof_head) else {
        return None;
    };
    Some(ProofJson {
        block_id: &committed.tip.block_id,
        certificate: &head.1,
        chain_id: &header.chain_id,
        containers: containers
            .iter()
            .map(|c| ContainerProofView {
                code: c.code.to_string(),
                record_hex: jiu_contracts::types::hex_encode(&c.encode()),
                record_proof: RecordProofView(
                    committed
                        .state
                        .prove_record_in(&c.code, &committed.proof_leaves),
                ),
            })
            .collect(),
        header: &head.0,
        height: header.height,
        // The answer shows master data only for a bottle.
        product: leaf
            .filter(|l| l.bottle.is_some())
            .and_then(|_| product_proof(committed, code)),
        record_hex: leaf.map(|l| jiu_contracts::types::hex_encode(&l.encode())),
        record_proof: RecordProofView(
            committed
                .state
                .prove_record_in(code, &committed.proof_leaves),
        ),
    })
}

/// The registered product of an item code, with its proof.
fn product_proof(committed: &Committed, code: &Code) -> Option<ProductProofJson> {
    let gtin = code.as_item()?.gtin;
    let state = &committed.state;
    Some(ProductProofJson {
        product: state.product(&gtin)?.clone(),
        proof: state.prove_product_in(&gtin, &committed.proof_leaves)?,
    })
}

/// How the public may see an org: producers and stores by name, distributors anonymously.
fn party<'a>(state: &'a State, org_id: &'a str, viewer: Viewer) -> PartyJson<'a> {
    let org = state.org(org_id);
    let role = org.map(|o| o.role);
    let name = org.map_or(org_id, |o| o.name.as_str());
    match (viewer, role) {
        (Viewer::Partner, _) => PartyJson {
            name,
            org_id: Some(org_id),
            role: RoleJson::Role(role),
        },
        (Viewer::Public, Some(Role::Distributor)) => PartyJson {
            name: "a licensed distributor",
            org_id: None,
            role: RoleJson::Anonymous("DISTRIBUTOR"),
        },
        (Viewer::Public, _) => PartyJson {
            name,
            org_id: None,
            role: RoleJson::Role(role),
        },
    }
}

/// Fills the record's public view (state, flags, custodian, sale, ...) into `out`.
fn record_view<'a>(
    state: &'a State,
    leaf: &'a RecordLeaf,
    viewer: Viewer,
    out: &mut AnswerJson<'a>,
) {
    if let Some(bottle) = &leaf.bottle {
        out.kind = "bottle";
        out.state = Some(&bottle.state);
        out.flags = Some(bottle.flags.keys().collect());
        if let Code::Item(sgtin) = &leaf.code {
            let master = state.product(&sgtin.gtin);
            out.product = Some(ProductJson {
                abv_bp: master.map(|p| p.abv_bp),
                gtin: sgtin.gtin.to_string(),
                name: master.map(|p| p.name.as_str()),
                producer: party(state, &bottle.producer, viewer),
                volume_ml: master.map(|p| p.volume_ml),
            });
        }
        out.custodian = Some(party(state, &bottle.custodian, viewer));
        out.in_container = bottle.parent.as_ref().map(|p| p.code().to_string());
        out.sale = bottle.sold.as_ref().map(|sale| SaleJson {
            city: &sale.city,
            store: party(state, &sale.store, viewer),
            time_ms: sale.time_ms,
        });
        out.replaced_by = bottle.replaced_by.as_ref().map(|new| new.to_string());
    } else if let Some(container) = &leaf.container {
        out.kind = "container";
        out.state = Some(&container.state);
        out.custodian = Some(party(state, &container.custodian, viewer));
        out.contents = Some(container.children);
    }
}

/// The coarse public history (one line per height and op), or the full one for partners.
fn history_view<'a>(
    state: &'a State,
    history: &'a [HistoryEntry],
    viewer: Viewer,
) -> Vec<HistoryLineJson<'a>> {
    let partner = viewer == Viewer::Partner;
    let mut seen = BTreeSet::new();
    history
        .iter()
        .filter(|e| partner || seen.insert((e.height, e.op.as_str())))
        .map(|e| HistoryLineJson {
            by: party(state, &e.org_id, viewer),
            city: e.city.as_deref(),
            container: e.container.as_deref().filter(|_| partner),
            detail: e.detail.as_deref().filter(|_| partner),
            height: e.height,
            op: &e.op,
            time_ms: e.time_ms,
            to: e.to.as_deref().map(|to| party(state, to, viewer)),
            tx_id: partner.then_some(HexJson(&e.tx_id)),
            via: e.via.as_deref(),
        })
        .collect()
}

// The JSON views of an answer. The answer used to be built as a `serde_json::Value`, whose
// objects write their keys in sorted order; these views declare their fields in that order
// so that the bytes are unchanged (`test_answers_keep_sorted_keys` checks it).

/// A whole answer for a parsable code.
#[derive(Serialize)]
struct AnswerJson<'a> {
    alerts: Vec<AlertJson<'a>>,
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    contents: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custodian: Option<PartyJson<'a>>,
    element_string: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<Vec<&'a Flag>>,
    history: Vec<HistoryLineJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_container: Option<String>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<ProductJson<'a>>,
    /// `null` at height 0.
    proof: Option<ProofJson<'a>>,
    query: QueryJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sale: Option<SaleJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scan_stats: Option<&'a ScanStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a LifeState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<TagJson<'a>>,
    verdict: &'static str,
}

#[derive(Serialize)]
struct QueryJson<'a> {
    code: &'a str,
}

/// An [`AlertView`] with its fields in key order.
#[derive(Serialize)]
struct AlertJson<'a> {
    code: &'a AlertCode,
    count: u64,
    message: &'a str,
    severity: &'a Severity,
    since_ms: Option<u64>,
}

impl<'a> From<&'a AlertView> for AlertJson<'a> {
    fn from(alert: &'a AlertView) -> Self {
        // Destructured without `..`: a new field must be added here too.
        let AlertView {
            code,
            severity,
            since_ms,
            count,
            message,
        } = alert;
        Self {
            code,
            count: *count,
            message,
            severity,
            since_ms: *since_ms,
        }
    }
}

/// A [`crate::tags::TagView`] with its fields in key order.
#[derive(Serialize)]
struct TagJson<'a> {
    cmac_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u32>,
    counter_fresh: bool,
    message: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
}

impl<'a> From<&'a crate::tags::TagView> for TagJson<'a> {
    fn from(view: &'a crate::tags::TagView) -> Self {
        // Destructured without `..`: a new field must be added here too.
        let crate::tags::TagView {
            status,
            uid,
            counter,
            cmac_ok,
            counter_fresh,
            message,
        } = view;
        Self {
            cmac_ok: *cmac_ok,
            counter: *counter,
            counter_fresh: *counter_fresh,
            message,
            status: *status,
            uid: uid.as_deref(),
        }
    }
}

/// An org as [`party`] shows it.
#[derive(Serialize)]
struct PartyJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a str>,
    role: RoleJson,
}

/// An org's role (`null` for an unknown org), or the fixed word shown for a distributor.
#[derive(Serialize)]
#[serde(untagged)]
enum RoleJson {
    Role(Option<Role>),
    Anonymous(&'static str),
}

/// The GTIN, its brand owner, and the registered master data if any (proven in
/// `proof.product`).
#[derive(Serialize)]
struct ProductJson<'a> {
    /// Alcohol by volume in basis points (5300 = 53.00%).
    #[serde(skip_serializing_if = "Option::is_none")]
    abv_bp: Option<u16>,
    gtin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    producer: PartyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume_ml: Option<u32>,
}

#[derive(Serialize)]
struct SaleJson<'a> {
    city: &'a str,
    store: PartyJson<'a>,
    time_ms: u64,
}

/// One history line; `container`, `detail` and `tx_id` for partners only.
#[derive(Serialize)]
struct HistoryLineJson<'a> {
    by: PartyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    height: u64,
    op: &'a str,
    time_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<PartyJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tx_id: Option<HexJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
}

/// A [`RecordProofJson`] with its fields in key order, borrowing the per-height parts.
#[derive(Serialize)]
struct ProofJson<'a> {
    block_id: &'a crate::context::BlockId,
    certificate: &'a RawValue,
    chain_id: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containers: Vec<ContainerProofView>,
    header: &'a RawValue,
    height: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<ProductProofJson>,
    record_hex: Option<String>,
    record_proof: RecordProofView,
}

/// A [`ContainerProofJson`] with its fields in key order.
#[derive(Serialize)]
struct ContainerProofView {
    code: String,
    record_hex: String,
    record_proof: RecordProofView,
}

#[cfg(test)]
mod tests {
    use jiu_contracts::gs1::Sgtin;
    use jiu_contracts::provenance::{Child, ContainerId, Flag, Op};
    use jiu_contracts::{Payload, PublicKey, SignedTx, TxBody};
    use jiu_genesis::devnet::devnet;

    use super::*;
    use crate::block::{build, Parent};
    use crate::context::{Address, BlockId};
    use crate::db::{Col, CommitRecord, Db};
    use crate::proof::{CertificateJson, CommitSignatureJson};
    use crate::shared::Tip;

    fn bottle(serial: &str) -> Sgtin {
        match parse_code(&format!("(01)09506000134352(21){serial}")) {
            Ok(Code::Item(sgtin)) => sgtin,
            other => panic!("test code: {other:?}"),
        }
    }

    fn case(serial: &str) -> ContainerId {
        ContainerId::Case(bottle(serial))
    }

    struct Chain {
        state: State,
        parent: Parent,
        chain_id: String,
        keys: Vec<(String, ed25519_dalek::SigningKey)>,
        db: Db,
        nonce: u64,
        header: Option<BlockHeader>,
    }

    impl Chain {
        fn new() -> Self {
            let net = devnet("jiu-verify", 4, 27000, Some([6; 32]));
            Self {
                state: State::new(net.genesis.initial_orgs()).expect("genesis state"),
                parent: Parent {
                    height: 0,
                    id: BlockId(net.genesis.hash()),
                    time_ms: 1_000,
                },
                chain_id: net.genesis.chain_id,
                keys: net.org_keys,
                db: Db::in_memory(),
                nonce: 0,
                header: None,
            }
        }

        /// One block with one tx of `org`'s ops; its history rows go to the db.
        fn block(&mut self, org: &str, ops: Vec<Op>) {
            let key = &self.keys.iter().find(|(id, _)| id == org).expect("org").1;
            self.nonce += 1;
            let body = TxBody {
                chain_id: self.chain_id.clone(),
                signer: PublicKey::from_signing_key(key),
                nonce: self.nonce,
                expires_at_height: 100,
                payload: Payload::Provenance { ops },
            };
            let tx = SignedTx::sign(body, key).verify().expect("signed");
            let time_ms = self.parent.time_ms + 1_000;
            let (executed, _) = build(
                &self.state,
                &self.parent,
                &self.chain_id,
                Address([1; 20]),
                time_ms,
                vec![tx],
                std::time::Duration::from_secs(60),
            );
            let height = executed.block.header.height;
            let rows = crate::history::rows_for_block(
                height,
                time_ms,
                &executed.block.txs,
                &executed.receipts,
            );
            let index_rows: Vec<_> = rows
                .into_iter()
                .map(|(k, v)| (Col::History, k, v))
                .collect();
            self.db
                .commit(CommitRecord {
                    height,
                    block: &[],
                    certificate: &[],
                    tx_ids: &[],
                    tx_events: &[],
                    state: &[],
                    records: &[],
                    index_rows: &index_rows,
                })
                .expect("commit");
            self.parent = Parent {
                height,
                id: executed.id,
                time_ms,
            };
            self.header = Some(executed.block.header.clone());
            self.state = executed.state;
        }

        fn committed(&self) -> Committed {
            let header = self.header.clone().expect("a block");
            let certificate = CertificateJson {
                height: header.height,
                round: 0,
                block_id: self.parent.id,
                signatures: vec![CommitSignatureJson {
                    address: Address([2; 20]),
                    signature: [3; 64],
                }],
            };
            let tip = Tip {
                height: header.height,
                block_id: self.parent.id,
                time_ms: header.time_ms,
                state_root: header.state_root,
            };
            Committed::new(
                tip,
                std::sync::Arc::new(self.state.clone()),
                Some(header),
                Some(certificate),
            )
        }
    }

    /// Bottles in cases in a pallet, shipped through a distributor to a store; one case
    /// unpacked and a bottle sold, one flagged, one case left packed.
    fn chain() -> Chain {
        let mut chain = Chain::new();
        let items: Vec<Sgtin> = ["B1", "B2", "B3", "B4", "B5"].map(bottle).to_vec();
        let pallet = case("PAL1");
        chain.block(
            "producer",
            vec![
                Op::Commission {
                    items: items.clone(),
                },
                Op::Pack {
                    parent: case("CASE1"),
                    children: items[..3].iter().cloned().map(Child::Bottle).collect(),
                },
                Op::Pack {
                    parent: case("CASE2"),
                    children: items[3..].iter().cloned().map(Child::Bottle).collect(),
                },
                Op::Pack {
                    parent: pallet.clone(),
                    children: vec![
                        Child::Container(case("CASE1")),
                        Child::Container(case("CASE2")),
                    ],
                },
                Op::Ship {
                    roots: vec![Child::Container(pallet.clone())],
                    to: "distributor-1".into(),
                },
            ],
        );
        chain.block(
            "distributor-1",
            vec![
                Op::Receive {
                    roots: vec![Child::Container(pallet.clone())],
                },
                Op::Ship {
                    roots: vec![Child::Container(pallet.clone())],
                    to: "store-1".into(),
                },
            ],
        );
        chain.block(
            "store-1",
            vec![
                Op::Receive {
                    roots: vec![Child::Container(pallet.clone())],
                },
                Op::Unpack {
                    parent: pallet.clone(),
                    children: vec![Child::Container(case("CASE1"))],
                },
                Op::Unpack {
                    parent: case("CASE1"),
                    children: items[..2].iter().cloned().map(Child::Bottle).collect(),
                },
                Op::Sell {
                    items: vec![items[0].clone()],
                    city: "Lyon".into(),
                },
            ],
        );
        chain.block(
            "producer",
            vec![Op::SetFlag {
                items: vec![items[1].clone()],
                flag: Flag::Recalled,
            }],
        );
        // Not shipped to it: refused with an alert on the case.
        chain.block(
            "distributor-1",
            vec![Op::Receive {
                roots: vec![Child::Container(case("CASE2"))],
            }],
        );
        chain
    }

    /// Every answer of the scenario, serialized as the RPC sends it.
    fn answers(chain: &Chain) -> Vec<String> {
        let committed = chain.committed();
        let scans = ScanBook::default();
        let tags = crate::tags::TagBook::new(None, chain.db.clone());
        let codes = [
            "(01)09506000134352(21)B1",
            "https://id.gs1.org/01/09506000134352/21/B2",
            "(01)09506000134352(21)B3",
            "(01)09506000134352(21)B4",
            "urn:epc:id:sgtin:9506000.013435.B5",
            "(01)09506000134352(21)CASE1",
            "(01)09506000134352(21)CASE2",
            "(01)09506000134352(21)PAL1",
            "(01)09506000134352(21)NOPE",
            "not a code",
        ];
        let queries = [
            VerifyQuery::default(),
            VerifyQuery {
                intent: Some("pre_sale".into()),
                city: Some("Paris".into()),
                ..Default::default()
            },
            VerifyQuery {
                picc: Some("00".into()),
                cmac: Some("00".into()),
                ..Default::default()
            },
        ];
        let mut out = Vec::new();
        for code in codes {
            for query in &queries {
                for viewer in [Viewer::Public, Viewer::Partner] {
                    let answer = answer(
                        &committed, &chain.db, &scans, &tags, code, query, viewer, 5_000,
                    );
                    out.push(String::from_utf8(answer).expect("utf-8"));
                }
            }
        }
        out
    }

    #[test]
    fn test_scan_book_counts_up_to_its_bound() {
        let book = ScanBook::with_codes_max(128);
        let keys: Vec<Hash> = (0u32..2_000)
            .map(|n| jiu_contracts::sha256(&[&n.to_be_bytes()]))
            .collect();
        for (n, key) in keys.iter().enumerate() {
            book.record(*key, n as u64, Some("SHA"));
        }
        let counted: Vec<&Hash> = keys
            .iter()
            .filter(|k| book.record(**k, 10_000, None).count == 2)
            .collect();
        // Each of the 64 shards counts 2 codes: 128 in all, as keys spread over shards.
        assert_eq!(counted.len(), 128, "the bound holds");
        let first = book.record(*counted[0], 10_001, Some("PEK"));
        assert_eq!(
            (first.count, first.cities_30d),
            (3, 2),
            "a counted code keeps counting"
        );
        let uncounted = keys.iter().find(|k| !counted.contains(k)).expect("some");
        assert_eq!(book.record(*uncounted, 10_002, None).count, 0);
    }

    #[test]
    fn test_answers_keep_sorted_keys() {
        // The answer was once a `serde_json::Value`, whose objects sort their keys: the
        // views must write the same bytes, which a round trip through a `Value` shows.
        let chain = chain();
        for answer in answers(&chain) {
            let value: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
            assert_eq!(value.to_string(), answer);
        }
    }

    #[test]
    fn test_answer_shows_container_lines_and_hides_distributors() {
        let chain = chain();
        let committed = chain.committed();
        let tags = crate::tags::TagBook::new(None, chain.db.clone());
        let ask = |viewer| {
            let bytes = answer(
                &committed,
                &chain.db,
                &ScanBook::default(),
                &tags,
                "(01)09506000134352(21)B4",
                &VerifyQuery::default(),
                viewer,
                5_000,
            );
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON")
        };
        let public = ask(Viewer::Public);
        let history = public["history"].as_array().expect("history");
        let pallet = "https://id.gs1.org/01/09506000134352/21/PAL1";
        assert!(history.iter().any(|l| l["via"] == pallet), "{history:?}");
        assert!(history.iter().all(|l| l.get("tx_id").is_none()));
        assert!(history
            .iter()
            .all(|l| l["by"]["role"] != "distributor" && l["by"].get("org_id").is_none()));
        assert_eq!(public["scan_stats"]["count"], 1);
        assert!(public["proof"]["record_hex"].is_string());
        let partner = ask(Viewer::Partner);
        let lines = partner["history"].as_array().expect("history");
        let via: BTreeSet<_> = lines.iter().filter_map(|l| l["via"].as_str()).collect();
        assert_eq!(via.len(), 2, "lines of the case and the pallet: {lines:?}");
        assert!(lines
            .iter()
            .all(|l| l["tx_id"].as_str().map(str::len) == Some(64)));
        assert!(partner.get("scan_stats").is_none());
    }
}
