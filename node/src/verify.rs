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

use std::collections::BTreeSet;

use jiu_contracts::gs1::{parse_scanned, Code};
use jiu_contracts::product::Product;
use jiu_contracts::provenance::{
    judge, judge_scan, AlertCode, AlertView, RecordLeaf, Severity, Verdict,
};
use jiu_contracts::state::RecordProof;
use jiu_contracts::{Role, State};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::block::BlockHeader;
use crate::history::{history_of, HistoryEntry};
use crate::proof::{CertificateJson, HexJson, RecordProofView};
use crate::shared::Committed;

mod json;
mod scan;
#[cfg(test)]
mod tests;

use json::*;
pub use scan::{
    ClientId, ScanBook, ScanStats, MULTI_SCAN_CHECKS, MULTI_SCAN_CITIES, SCAN_STATS_CODES_MAX,
    SCAN_WINDOW_MS,
};

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
    /// On the Digital Link path: the GS1 link type asked for (see `resolver`).
    #[serde(rename = "linkType")]
    pub link_type: Option<String>,
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
/// The answer is written straight from borrowed views (`AnswerJson` and below, in
/// `verify/json.rs`) rather than through a `serde_json::Value` tree: building the tree (a
/// map node and an owned string per field, a deep copy of the header and certificate) was
/// a large part of the cost of an answer.
#[allow(clippy::too_many_arguments)]
pub fn answer(
    committed: &Committed,
    db: &crate::db::Db,
    scans: &ScanBook,
    tags: &crate::tags::TagBook,
    raw: &str,
    query: &VerifyQuery,
    viewer: Viewer,
    client: Option<ClientId>,
    now_ms: u64,
) -> Vec<u8> {
    let scanned = match parse_scanned(raw) {
        Ok(scanned) => scanned,
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
    let code = scanned.code;
    let state: &State = &committed.state;
    let leaf = state.record(&code);
    let product = code.as_item().and_then(|item| state.product(&item.gtin));
    let (verdict, mut alerts) = judge_scan(leaf.as_ref(), scanned.lot.as_ref(), product);
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
    // A public check counts for its client; a request that checks nothing (HEAD, whose
    // answer is never sent) has no client and is not counted.
    let stats = client
        .filter(|_| viewer == Viewer::Public)
        .map(|client| scans.record(key, now_ms, query.city.as_deref(), client));
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
        lot: None,
        product: None,
        proof: proof_view(committed, &code, leaf.as_ref(), &containers, product),
        query: QueryJson { code: raw },
        replaced_by: None,
        sale: None,
        scan_stats: stats.as_ref(),
        state: None,
        tag: tag.as_ref().map(TagJson::from),
        verdict: verdict.as_str(),
    };
    if let Some(leaf) = &leaf {
        record_view(state, leaf, product, viewer, &mut body);
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
    product: Option<&Product>,
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
            .and(product)
            .and_then(|p| product_proof(committed, p)),
        record_hex: leaf.map(|l| jiu_contracts::types::hex_encode(&l.encode())),
        record_proof: RecordProofView(
            committed
                .state
                .prove_record_in(code, &committed.proof_leaves),
        ),
    })
}

/// Why `GET /01/{gtin}[/10/{lot}]` has no product answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProductAnswerError {
    /// The GTIN or the lot does not parse.
    #[error("{0}")]
    InvalidCode(String),
    /// Nobody registered the GTIN: the chain keeps no master data or recalls for it. The
    /// answer (JSON bytes, sent with 404) carries the error and the proof of the absence.
    #[error("GTIN {0} has no registered product on this chain")]
    UnknownProduct(jiu_contracts::gs1::Gtin, Vec<u8>),
    /// Height 0: nothing is signed yet.
    #[error("the chain has no block yet")]
    NoBlock,
}

impl ProductAnswerError {
    pub fn code(&self) -> &'static str {
        match self {
            ProductAnswerError::InvalidCode(_) => "INVALID_CODE",
            ProductAnswerError::UnknownProduct(..) => "UNKNOWN_PRODUCT",
            ProductAnswerError::NoBlock => "NO_BLOCK",
        }
    }
}

/// The answer of `GET /01/{gtin}` and `GET /01/{gtin}/10/{lot}` (a GS1 Digital Link that
/// names a product, or one of its lots, rather than a bottle), as JSON bytes: the
/// product's master data, its recalled lots, and whether the named lot is recalled, with
/// the product's state leaf and the signed header that prove all of it
/// ([`crate::proof::verify_product_answer`]). `gtin` and `lot` are the address's segments.
pub fn product_answer(
    committed: &Committed,
    gtin: &str,
    lot: Option<&str>,
) -> Result<Vec<u8>, ProductAnswerError> {
    let parsed = jiu_contracts::gs1::Gtin::parse(gtin)
        .map_err(|e| ProductAnswerError::InvalidCode(format!("GTIN: {e}")))?;
    let parsed_lot = lot
        .map(jiu_contracts::gs1::Lot::parse)
        .transpose()
        .map_err(|e| ProductAnswerError::InvalidCode(format!("lot: {e}")))?;
    let state: &State = &committed.state;
    let (Some(header), Some(head)) = (&committed.header, &committed.proof_head) else {
        return Err(ProductAnswerError::NoBlock);
    };
    let Some(product) = state.product(&parsed) else {
        // `None` only for a state without orgs, which no genesis makes: then the answer
        // is the bare error.
        let proof = state
            .prove_product_absence_in(&parsed, &committed.proof_leaves)
            .map(|absence| AbsenceProofJson {
                absence,
                block_id: &committed.tip.block_id,
                certificate: &head.1,
                chain_id: &header.chain_id,
                header: &head.0,
                height: header.height,
            });
        let body = UnregisteredAnswerJson {
            error: ErrorJson {
                code: "UNKNOWN_PRODUCT",
                message: format!("GTIN {parsed} has no registered product on this chain"),
            },
            gtin: parsed.to_string(),
            kind: "unregistered",
            proof,
            query: ProductQueryJson { gtin, lot },
        };
        return Err(ProductAnswerError::UnknownProduct(
            parsed,
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    };
    let proven = product_proof(committed, product).ok_or(ProductAnswerError::NoBlock)?;
    let body = ProductAnswerJson {
        gtin: parsed.to_string(),
        kind: "product",
        lot: parsed_lot.as_ref().map(|lot| {
            let recall = product.lot_recall(lot);
            LotStatusJson {
                lot,
                recall: recall.map(RecallJson),
                recalled: recall.is_some(),
            }
        }),
        product: ProductJson {
            abv_bp: Some(product.abv_bp),
            gtin: parsed.to_string(),
            name: Some(&product.name),
            producer: party(state, &product.brand_owner, Viewer::Public),
            volume_ml: Some(product.volume_ml),
        },
        proof: ProductAnswerProofJson {
            block_id: &committed.tip.block_id,
            certificate: &head.1,
            chain_id: &header.chain_id,
            header: &head.0,
            height: header.height,
            product: Some(proven),
        },
        query: ProductQueryJson { gtin, lot },
        recalled_lots: product.recalled_lots.iter().map(RecallJson).collect(),
    };
    // Every field is a string, a number, a sequence or a struct: nothing can fail.
    Ok(serde_json::to_vec(&body).unwrap_or_default())
}

/// A registered product with its proof.
fn product_proof(committed: &Committed, product: &Product) -> Option<ProductProofJson> {
    Some(ProductProofJson {
        product: product.clone(),
        proof: committed
            .state
            .prove_product_in(&product.gtin, &committed.proof_leaves)?,
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

/// Fills the record's public view (state, flags, custodian, sale, ...) into `out`; `master`
/// is the registered product of the code's GTIN, if any.
fn record_view<'a>(
    state: &'a State,
    leaf: &'a RecordLeaf,
    master: Option<&'a Product>,
    viewer: Viewer,
    out: &mut AnswerJson<'a>,
) {
    if let Some(bottle) = &leaf.bottle {
        out.kind = "bottle";
        out.state = Some(&bottle.state);
        out.flags = Some(bottle.flags.keys().collect());
        if let Code::Item(sgtin) = &leaf.code {
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
        out.lot = bottle.lot.as_ref();
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
