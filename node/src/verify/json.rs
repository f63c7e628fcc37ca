//! The JSON views of an answer, borrowing from the state and the committed height. The
//! answer used to be built as a `serde_json::Value`, whose objects write their keys in
//! sorted order; these views declare their fields in that order so that the bytes are
//! unchanged (`test_answers_keep_sorted_keys` checks it).

use jiu_contracts::provenance::{AlertCode, AlertView, Flag, LifeState, Severity};
use jiu_contracts::Role;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{ProductProofJson, ScanStats};
use crate::proof::{HexJson, HexListJson, RecordProofView};

/// A whole answer for a parsable code.
#[derive(Serialize)]
pub(super) struct AnswerJson<'a> {
    pub(super) alerts: Vec<AlertJson<'a>>,
    pub(super) code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) contents: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) custodian: Option<PartyJson<'a>>,
    pub(super) element_string: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) flags: Option<Vec<&'a Flag>>,
    pub(super) history: Vec<HistoryLineJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) in_container: Option<String>,
    pub(super) kind: &'static str,
    /// The bottle's lot as commissioned (absent when none was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lot: Option<&'a jiu_contracts::gs1::Lot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) product: Option<ProductJson<'a>>,
    /// `null` at height 0.
    pub(super) proof: Option<ProofJson<'a>>,
    pub(super) query: QueryJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) replaced_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sale: Option<SaleJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) scan_stats: Option<&'a ScanStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) state: Option<&'a LifeState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tag: Option<TagJson<'a>>,
    pub(super) verdict: &'static str,
}

#[derive(Serialize)]
pub(super) struct QueryJson<'a> {
    pub(super) code: &'a str,
}

/// An [`AlertView`] with its fields in key order.
#[derive(Serialize)]
pub(super) struct AlertJson<'a> {
    pub(super) code: &'a AlertCode,
    pub(super) count: u64,
    pub(super) message: &'a str,
    pub(super) severity: &'a Severity,
    pub(super) since_ms: Option<u64>,
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
pub(super) struct TagJson<'a> {
    pub(super) cmac_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) counter: Option<u32>,
    pub(super) counter_fresh: bool,
    pub(super) message: &'a str,
    pub(super) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uid: Option<&'a str>,
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
pub(super) struct PartyJson<'a> {
    pub(super) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) org_id: Option<&'a str>,
    pub(super) role: RoleJson,
}

/// An org's role (`null` for an unknown org), or the fixed word shown for a distributor.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum RoleJson {
    Role(Option<Role>),
    Anonymous(&'static str),
}

/// The GTIN, its brand owner, and the registered master data if any (proven in
/// `proof.product`).
#[derive(Serialize)]
pub(super) struct ProductJson<'a> {
    /// Alcohol by volume in basis points (5300 = 53.00%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) abv_bp: Option<u16>,
    pub(super) gtin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<&'a str>,
    pub(super) producer: PartyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) volume_ml: Option<u32>,
}

#[derive(Serialize)]
pub(super) struct SaleJson<'a> {
    pub(super) city: &'a str,
    pub(super) store: PartyJson<'a>,
    pub(super) time_ms: u64,
}

/// One history line; `container`, `detail` and `tx_id` for partners only.
#[derive(Serialize)]
pub(super) struct HistoryLineJson<'a> {
    pub(super) by: PartyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<&'a str>,
    pub(super) height: u64,
    pub(super) op: &'a str,
    pub(super) time_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) to: Option<PartyJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tx_id: Option<HexJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) via: Option<&'a str>,
}

/// A [`RecordProofJson`] with its fields in key order, borrowing the per-height parts.
#[derive(Serialize)]
pub(super) struct ProofJson<'a> {
    pub(super) block_id: &'a crate::context::BlockId,
    pub(super) certificate: &'a RawValue,
    pub(super) chain_id: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) containers: Vec<ContainerProofView>,
    pub(super) header: &'a RawValue,
    pub(super) height: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "product_in_key_order"
    )]
    pub(super) product: Option<ProductProofJson>,
    pub(super) record_hex: Option<String>,
    pub(super) record_proof: RecordProofView,
}

/// A lot's recall in key order (its struct declares `lot` first, its borsh order).
pub(super) struct RecallJson<'a>(pub(super) &'a jiu_contracts::product::LotRecall);

impl Serialize for RecallJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let jiu_contracts::product::LotRecall { lot, by, since_ms } = self.0;
        let mut out = serializer.serialize_struct("LotRecall", 3)?;
        out.serialize_field("by", by)?;
        out.serialize_field("lot", lot)?;
        out.serialize_field("since_ms", since_ms)?;
        out.end()
    }
}

/// The answer of `GET /01/{gtin}[/10/{lot}]`: a product's master data and recalled lots,
/// and the status of the lot the address names, proven by the product's state leaf.
#[derive(Serialize)]
pub(super) struct ProductAnswerJson<'a> {
    pub(super) gtin: String,
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lot: Option<LotStatusJson<'a>>,
    pub(super) product: ProductJson<'a>,
    pub(super) proof: ProductAnswerProofJson<'a>,
    pub(super) query: ProductQueryJson<'a>,
    pub(super) recalled_lots: Vec<RecallJson<'a>>,
}

/// The answer of `GET /01/{gtin}[/10/{lot}]` for a GTIN nobody registered (sent with 404):
/// the error, and the proof that the state has no product of the GTIN.
#[derive(Serialize)]
pub(super) struct UnregisteredAnswerJson<'a> {
    pub(super) error: ErrorJson,
    pub(super) gtin: String,
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) proof: Option<AbsenceProofJson<'a>>,
    pub(super) query: ProductQueryJson<'a>,
}

/// An API error as `ApiError` writes it.
#[derive(Serialize)]
pub(super) struct ErrorJson {
    pub(super) code: &'static str,
    pub(super) message: String,
}

/// The proof of an unregistered GTIN's answer: the signed header and the state leaves
/// either side of the GTIN's place.
#[derive(Serialize)]
pub(super) struct AbsenceProofJson<'a> {
    pub(super) absence: jiu_contracts::product::ProductAbsenceProof,
    pub(super) block_id: &'a crate::context::BlockId,
    pub(super) certificate: &'a RawValue,
    pub(super) chain_id: &'a str,
    pub(super) header: &'a RawValue,
    pub(super) height: u64,
}

/// Whether the lot an address names is recalled.
#[derive(Serialize)]
pub(super) struct LotStatusJson<'a> {
    pub(super) lot: &'a jiu_contracts::gs1::Lot,
    pub(super) recall: Option<RecallJson<'a>>,
    pub(super) recalled: bool,
}

/// What a product answer was asked, as the address gave it.
#[derive(Serialize)]
pub(super) struct ProductQueryJson<'a> {
    pub(super) gtin: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lot: Option<&'a str>,
}

/// The proof of a product answer: the signed header and the product's state leaf path.
#[derive(Serialize)]
pub(super) struct ProductAnswerProofJson<'a> {
    pub(super) block_id: &'a crate::context::BlockId,
    pub(super) certificate: &'a RawValue,
    pub(super) chain_id: &'a str,
    pub(super) header: &'a RawValue,
    pub(super) height: u64,
    #[serde(serialize_with = "product_in_key_order")]
    pub(super) product: Option<ProductProofJson>,
}

/// A [`ProductProofJson`] written with its fields in key order, as a `serde_json::Value`
/// of it would be (the product's own field order is its borsh layout, which the leaf hash
/// fixes). Destructured without `..`: a new field must be added here too.
fn product_in_key_order<S: serde::Serializer>(
    proven: &Option<ProductProofJson>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    struct Leaf<'a>(&'a jiu_contracts::product::Product);
    impl Serialize for Leaf<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let jiu_contracts::product::Product {
                gtin,
                brand_owner,
                name,
                volume_ml,
                abv_bp,
                recalled_lots,
            } = self.0;
            let mut out = serializer.serialize_struct("Product", 6)?;
            out.serialize_field("abv_bp", abv_bp)?;
            out.serialize_field("brand_owner", brand_owner)?;
            out.serialize_field("gtin", gtin)?;
            out.serialize_field("name", name)?;
            if !recalled_lots.is_empty() {
                let recalls: Vec<_> = recalled_lots.iter().map(RecallJson).collect();
                out.serialize_field("recalled_lots", &recalls)?;
            }
            out.serialize_field("volume_ml", volume_ml)?;
            out.end()
        }
    }
    struct Path<'a>(&'a jiu_contracts::product::ProductProof);
    impl Serialize for Path<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let jiu_contracts::product::ProductProof {
                state_leaf_index,
                state_leaf_count,
                state_path,
            } = self.0;
            let mut out = serializer.serialize_struct("ProductProof", 3)?;
            out.serialize_field("state_leaf_count", state_leaf_count)?;
            out.serialize_field("state_leaf_index", state_leaf_index)?;
            out.serialize_field("state_path", &HexListJson(state_path))?;
            out.end()
        }
    }
    match proven {
        None => serializer.serialize_none(),
        Some(p) => {
            let mut out = serializer.serialize_struct("ProductProofJson", 2)?;
            out.serialize_field("product", &Leaf(&p.product))?;
            out.serialize_field("proof", &Path(&p.proof))?;
            out.end()
        }
    }
}

/// A [`ContainerProofJson`] with its fields in key order.
#[derive(Serialize)]
pub(super) struct ContainerProofView {
    pub(super) code: String,
    pub(super) record_hex: String,
    pub(super) record_proof: RecordProofView,
}
