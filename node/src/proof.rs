//! Offline checks of what a node serves. A client that holds only the genesis file can
//! check that a block was finalized by this chain: the header hashes to the block id, the
//! transactions hash to the header's `txs_root`, and more than two thirds of the genesis
//! voting power signed a precommit for that id at that height and round.
//!
//! The JSON forms here are exactly what `GET /block/{height}` returns; the provenance and
//! lottery proofs build on the same certificate check.

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_contracts::state::RecordProof;
use jiu_contracts::{Hash, PublicKey, SignedTx, TxBody};
use jiu_genesis::Genesis;
use malachitebft_core_types::{NilOrVal, Round, VoteType};
use serde::{Deserialize, Serialize};

use crate::block::{txs_root, BlockHeader};
use crate::context::{Address, BlockId, Height, Vote};
use crate::signing::{verify_bytes, vote_sign_bytes};

/// One validator's precommit signature in a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct CommitSignatureJson {
    pub address: Address,
    #[serde(with = "hex::serde")]
    pub signature: [u8; 64],
}

/// A commit certificate as the RPC serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct CertificateJson {
    pub height: u64,
    pub round: i64,
    pub block_id: BlockId,
    pub signatures: Vec<CommitSignatureJson>,
}

/// A 32-byte hash as lowercase hex in JSON, written from a stack buffer: a verify answer
/// carries a few dozen hashes, and a `String` for each showed in the profile.
pub(crate) struct HexJson<'a>(pub &'a Hash);

impl Serialize for HexJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 64];
        hex::encode_to_slice(self.0, &mut text).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

/// A record proof in JSON with its fields in key order (and an SMT proof's likewise): the
/// JSON a `serde_json::Value` of a [`RecordProof`] gives, which is what verify answers
/// have always carried, written without building the `Value`.
pub(crate) struct RecordProofView(pub RecordProof);

impl Serialize for RecordProofView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // Destructured without `..`: a new field must be added here too.
        let RecordProof {
            smt,
            records_root,
            state_leaf_index,
            state_leaf_count,
            state_path,
        } = &self.0;
        let mut out = serializer.serialize_struct("RecordProof", 5)?;
        out.serialize_field("records_root", &HexJson(records_root))?;
        out.serialize_field("smt", &SmtProofView(smt))?;
        out.serialize_field("state_leaf_count", state_leaf_count)?;
        out.serialize_field("state_leaf_index", state_leaf_index)?;
        out.serialize_field("state_path", &HexListJson(state_path))?;
        out.end()
    }
}

struct SmtProofView<'a>(&'a jiu_contracts::smt::Proof);

impl Serialize for SmtProofView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let jiu_contracts::smt::Proof { siblings, leaf } = self.0;
        let mut out = serializer.serialize_struct("Proof", 2)?;
        out.serialize_field("leaf", &leaf.as_ref().map(ProofLeafView))?;
        out.serialize_field("siblings", &HexListJson(siblings))?;
        out.end()
    }
}

struct ProofLeafView<'a>(&'a jiu_contracts::smt::ProofLeaf);

impl Serialize for ProofLeafView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let jiu_contracts::smt::ProofLeaf { key, value_hash } = self.0;
        let mut out = serializer.serialize_struct("ProofLeaf", 2)?;
        out.serialize_field("key", &HexJson(key))?;
        out.serialize_field("value_hash", &HexJson(value_hash))?;
        out.end()
    }
}

pub(crate) struct HexListJson<'a>(pub &'a [Hash]);

impl Serialize for HexListJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(HexJson))
    }
}

/// A transaction as the RPC serves it inside a block.
#[derive(Clone, Debug, Deserialize)]
pub struct TxJson {
    pub body: TxBody,
    #[serde(with = "hex::serde")]
    pub signature: [u8; 64],
}

/// The answer of `GET /block/{height}`.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockAnswer {
    pub block_id: BlockId,
    pub header: BlockHeader,
    pub txs: Vec<TxJson>,
    pub certificate: CertificateJson,
}

/// Exactly what failed in an offline check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the block is from chain '{got}', the genesis is for '{expected}'")]
    ChainId { expected: String, got: String },
    #[error("the header hashes to {computed}, not to the claimed block id {claimed}")]
    BlockId { claimed: BlockId, computed: BlockId },
    #[error("the transactions hash to {computed}, not to the header's txs_root {header}")]
    TxsRoot { header: String, computed: String },
    #[error("the certificate is for {what} {certificate}, the block is {block}")]
    CertificateMismatch {
        what: &'static str,
        certificate: String,
        block: String,
    },
    #[error("the certificate round {0} is not a valid round")]
    BadRound(i64),
    #[error("signature by {0} is not from a genesis validator")]
    UnknownSigner(Address),
    #[error("validator {0} signed twice")]
    DuplicateSigner(Address),
    #[error("the signature by validator {0} does not verify (forged or altered)")]
    BadSignature(Address),
    #[error(
        "the signatures carry {signed} of {total} voting power; more than two thirds is needed"
    )]
    InsufficientPower { signed: u64, total: u64 },
    #[error("the answer carries no proof (the chain had no block yet)")]
    NoProof,
    #[error("the answer is not a verify answer: {0}")]
    Malformed(String),
    #[error("the record bytes do not decode as a record")]
    RecordBytes,
    #[error("record proof: {message} ({code})")]
    Record { code: &'static str, message: String },
    #[error("the answer shows {field} = {shown}, the proven record says {proven}")]
    Shown {
        field: &'static str,
        shown: String,
        proven: String,
    },
}

impl ProofError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::ChainId { .. } => "WRONG_CHAIN",
            ProofError::BlockId { .. } => "HEADER_TAMPERED",
            ProofError::TxsRoot { .. } => "TXS_TAMPERED",
            ProofError::CertificateMismatch { .. } => "CERTIFICATE_MISMATCH",
            ProofError::BadRound(_) => "BAD_ROUND",
            ProofError::UnknownSigner(_) => "UNKNOWN_SIGNER",
            ProofError::DuplicateSigner(_) => "DUPLICATE_SIGNER",
            ProofError::BadSignature(_) => "FORGED_SIGNATURE",
            ProofError::InsufficientPower { .. } => "INSUFFICIENT_SIGNATURES",
            ProofError::NoProof => "NO_PROOF",
            ProofError::Malformed(_) => "MALFORMED",
            ProofError::RecordBytes => "RECORD_TAMPERED",
            ProofError::Record { code, .. } => code,
            ProofError::Shown { .. } => "ANSWER_TAMPERED",
        }
    }
}

/// What an offline check of a verify answer established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedRecord {
    pub code: String,
    pub verdict: String,
    pub height: u64,
    pub block_id: BlockId,
    /// Voting power that signed the header, of `total_power`.
    pub signed_power: u64,
    pub total_power: u64,
    pub has_record: bool,
    /// The alerts behind the verdict: those the proven record (and the scanned lot) give,
    /// then the node-local ones the answer shows, by catalogue name.
    pub alerts: Vec<&'static str>,
}

/// Checks a verify answer (`GET /verify/{code}`) offline: header and certificate against
/// the genesis validators, the record against the header's state root, then that what the
/// answer shows (verdict, state, flags) is what the proven record says.
pub fn verify_record_answer(
    genesis: &Genesis,
    answer: &serde_json::Value,
) -> Result<VerifiedRecord, ProofError> {
    use jiu_contracts::provenance::{is_node_local, judge_scan, AlertCode, RecordLeaf, Verdict};

    let field = |name: &str| answer.get(name).filter(|v| !v.is_null());
    let proof = field("proof").ok_or(ProofError::NoProof)?;
    let proof: crate::verify::RecordProofJson =
        serde_json::from_value(proof.clone()).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let shown_code = field("code")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ProofError::Malformed("no code".into()))?;
    let code = jiu_contracts::gs1::parse_code(shown_code)
        .map_err(|e| ProofError::Malformed(format!("code: {e}")))?;
    // What was scanned, as the answer echoes it: its lot (AI 10), if any, is compared with
    // the proven record's. A node answers only a code it could read, so a query that is
    // missing, unreadable, or names another code than the answer is refused (it could
    // otherwise hide the lot the label gave).
    let raw_query = field("query")
        .and_then(|q| q.get("code"))
        .and_then(|c| c.as_str());
    let scanned_lot = match raw_query.map(jiu_contracts::gs1::parse_scanned) {
        Some(Ok(scanned)) if scanned.code == code => scanned.lot,
        _ => {
            return Err(ProofError::Shown {
                field: "query",
                shown: raw_query.unwrap_or("no query code").to_string(),
                proven: code.to_string(),
            })
        }
    };
    verify_header(genesis, &proof.header, proof.block_id)?;
    let signed =
        verify_header_certificate(genesis, &proof.header, proof.block_id, &proof.certificate)?;
    let leaf = match &proof.record_hex {
        None => None,
        Some(hex_text) => {
            let bytes = hex::decode(hex_text).map_err(|_| ProofError::RecordBytes)?;
            Some(RecordLeaf::decode(&bytes).ok_or(ProofError::RecordBytes)?)
        }
    };
    jiu_contracts::state::verify_record(
        &proof.header.state_root,
        &code,
        leaf.as_ref(),
        &proof.record_proof,
    )
    .map_err(|e| ProofError::Record {
        code: e.code(),
        message: e.to_string(),
    })?;
    // The containers whose alerts the answer shows are proven the same way.
    for container in &proof.containers {
        let container_code = jiu_contracts::gs1::parse_code(&container.code)
            .map_err(|e| ProofError::Malformed(format!("container code: {e}")))?;
        let bytes = hex::decode(&container.record_hex).map_err(|_| ProofError::RecordBytes)?;
        let container_leaf = RecordLeaf::decode(&bytes).ok_or(ProofError::RecordBytes)?;
        jiu_contracts::state::verify_record(
            &proof.header.state_root,
            &container_code,
            Some(&container_leaf),
            &container.record_proof,
        )
        .map_err(|e| ProofError::Record {
            code: e.code(),
            message: format!("container {}: {e}", container.code),
        })?;
    }
    check_product(&proof, &code, field("product"))?;
    // A bottle with a lot is of a registered product (the chain records a lot on no other),
    // and only the product's recalled lots say whether the lot is recalled: an answer
    // without them could hide a recall.
    let product = proof.product.as_ref().map(|p| &p.product);
    if let Some(lot) = leaf
        .as_ref()
        .and_then(|l| l.bottle.as_ref())
        .and_then(|b| b.lot.as_ref())
    {
        if product.is_none() {
            return Err(ProofError::Shown {
                field: "product",
                shown: "no product proof".into(),
                proven: format!("a bottle of lot {lot}, whose product lists its recalled lots"),
            });
        }
    }
    // What the answer shows must be what the proven record says.
    let (proven_verdict, proven_alerts) = judge_scan(leaf.as_ref(), scanned_lot.as_ref(), product);
    let shown_verdict = field("verdict").and_then(|v| v.as_str()).unwrap_or("");
    let node_local: Vec<AlertCode> = field("alerts")
        .and_then(|v| serde_json::from_value::<Vec<serde_json::Value>>(v.clone()).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| serde_json::from_value(a.get("code")?.clone()).ok())
        .filter(|c: &AlertCode| is_node_local(*c))
        .collect();
    let escalated = shown_verdict == Verdict::Suspect.as_str()
        && matches!(
            proven_verdict,
            Verdict::GenuineSold | Verdict::GenuineUnsold
        )
        && !node_local.is_empty();
    if shown_verdict != proven_verdict.as_str() && !escalated {
        return Err(ProofError::Shown {
            field: "verdict",
            shown: shown_verdict.to_string(),
            proven: proven_verdict.as_str().to_string(),
        });
    }
    if let Some(bottle) = leaf.as_ref().and_then(|l| l.bottle.as_ref()) {
        let proven = [
            ("state", serde_json::to_value(bottle.state)),
            (
                "flags",
                serde_json::to_value(bottle.flags.keys().collect::<Vec<_>>()),
            ),
            ("lot", serde_json::to_value(&bottle.lot)),
        ];
        for (name, proven) in proven {
            let proven = proven.unwrap_or_default();
            let shown = field(name).cloned().unwrap_or_default();
            if shown != proven {
                return Err(ProofError::Shown {
                    field: name,
                    shown: shown.to_string(),
                    proven: proven.to_string(),
                });
            }
        }
    }
    Ok(VerifiedRecord {
        code: code.to_string(),
        verdict: shown_verdict.to_string(),
        height: proof.header.height,
        block_id: proof.block_id,
        signed_power: signed,
        total_power: genesis.validators.iter().map(|v| v.power).sum(),
        has_record: leaf.is_some(),
        alerts: proven_alerts
            .iter()
            .map(|a| a.code)
            .chain(node_local)
            .map(AlertCode::as_str)
            .collect(),
    })
}

/// What an offline check of a product answer (`GET /01/{gtin}[/10/{lot}]`) established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedProduct {
    pub gtin: String,
    /// Whether a product is registered under the GTIN: `false` when the answer proved
    /// that none is (then name, recalled lots and lot are empty).
    pub registered: bool,
    pub name: String,
    pub height: u64,
    pub block_id: BlockId,
    pub signed_power: u64,
    pub total_power: u64,
    /// The lots under recall, as proven.
    pub recalled_lots: Vec<String>,
    /// The lot the address named, and whether it is recalled.
    pub lot: Option<(String, bool)>,
}

/// The proof part of a product answer.
#[derive(Clone, Debug, Deserialize)]
struct ProductAnswerProof {
    block_id: BlockId,
    header: BlockHeader,
    certificate: CertificateJson,
    /// A registered product's leaf, or (for an unregistered GTIN) the proof of its absence.
    #[serde(default)]
    product: Option<crate::verify::ProductProofJson>,
    #[serde(default)]
    absence: Option<jiu_contracts::product::ProductAbsenceProof>,
}

/// Checks a product answer offline: header and certificate against the genesis
/// validators, the product's leaf against the header's state root, then that the GTIN,
/// master data, recalled lots and the named lot's status the answer shows are the proven
/// product's, for the GTIN and lot the answer says were asked.
pub fn verify_product_answer(
    genesis: &Genesis,
    answer: &serde_json::Value,
) -> Result<VerifiedProduct, ProofError> {
    let field = |name: &str| answer.get(name).filter(|v| !v.is_null());
    let proof = field("proof").ok_or(ProofError::NoProof)?;
    let proof: ProductAnswerProof =
        serde_json::from_value(proof.clone()).map_err(|e| ProofError::Malformed(e.to_string()))?;
    verify_header(genesis, &proof.header, proof.block_id)?;
    let signed =
        verify_header_certificate(genesis, &proof.header, proof.block_id, &proof.certificate)?;
    let shown = |name: &'static str, shown: serde_json::Value, proven: serde_json::Value| {
        if shown == proven {
            Ok(())
        } else {
            Err(ProofError::Shown {
                field: name,
                shown: shown.to_string(),
                proven: proven.to_string(),
            })
        }
    };
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let query = field("query");
    let asked_gtin = text(query.and_then(|q| q.get("gtin")))
        .and_then(|g| jiu_contracts::gs1::Gtin::parse(&g).ok());
    let total_power = genesis.validators.iter().map(|v| v.power).sum();
    let proof_error = |e: jiu_contracts::product::ProductProofError| ProofError::Record {
        code: e.code(),
        message: e.to_string(),
    };
    let proven = match (&proof.product, &proof.absence) {
        (Some(proven), _) => proven,
        (None, Some(absence)) => {
            // No product of the asked GTIN: the proof encloses its place, and the answer
            // says so of that GTIN.
            let gtin = asked_gtin.ok_or_else(|| {
                ProofError::Malformed("the answer does not say which GTIN was asked".into())
            })?;
            jiu_contracts::product::verify_product_absence(
                &proof.header.state_root,
                &gtin,
                absence,
            )
            .map_err(proof_error)?;
            shown(
                "gtin",
                field("gtin").cloned().unwrap_or_default(),
                serde_json::json!(gtin.to_string()),
            )?;
            shown(
                "kind",
                field("kind").cloned().unwrap_or_default(),
                serde_json::json!("unregistered"),
            )?;
            return Ok(VerifiedProduct {
                gtin: gtin.to_string(),
                registered: false,
                name: String::new(),
                height: proof.header.height,
                block_id: proof.block_id,
                signed_power: signed,
                total_power,
                recalled_lots: Vec::new(),
                lot: None,
            });
        }
        (None, None) => return Err(ProofError::NoProof),
    };
    let product = &proven.product;
    jiu_contracts::product::verify_product(&proof.header.state_root, product, &proven.proof)
        .map_err(proof_error)?;
    // The product is the one asked for.
    shown(
        "query",
        serde_json::json!(asked_gtin.map(|g| g.to_string())),
        serde_json::json!(product.gtin.to_string()),
    )?;
    shown(
        "gtin",
        field("gtin").cloned().unwrap_or_default(),
        serde_json::json!(product.gtin.to_string()),
    )?;
    let master = field("product");
    let gtin = ("gtin", serde_json::json!(product.gtin.to_string()));
    for (name, proven) in master_data(product).into_iter().chain([gtin]) {
        let got = master
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_default();
        shown("product", got, proven)?;
    }
    // As `serde_json::Value`s, compared whatever the key order.
    shown(
        "recalled_lots",
        field("recalled_lots")
            .cloned()
            .unwrap_or(serde_json::json!([])),
        serde_json::json!(product.recalled_lots),
    )?;
    // The lot the address named: its status is the proven product's.
    let asked_lot = text(query.and_then(|q| q.get("lot")));
    let lot = match asked_lot {
        None => {
            shown(
                "lot",
                field("lot").cloned().unwrap_or_default(),
                serde_json::Value::Null,
            )?;
            None
        }
        Some(asked) => {
            let lot = jiu_contracts::gs1::Lot::parse(&asked)
                .map_err(|e| ProofError::Malformed(format!("query lot: {e}")))?;
            let recall = product.lot_recall(&lot);
            let proven = serde_json::json!({
                "lot": lot,
                "recall": recall,
                "recalled": recall.is_some(),
            });
            shown("lot", field("lot").cloned().unwrap_or_default(), proven)?;
            Some((lot.to_string(), recall.is_some()))
        }
    };
    Ok(VerifiedProduct {
        gtin: product.gtin.to_string(),
        registered: true,
        name: product.name.clone(),
        height: proof.header.height,
        block_id: proof.block_id,
        signed_power: signed,
        total_power,
        recalled_lots: product
            .recalled_lots
            .iter()
            .map(|r| r.lot.to_string())
            .collect(),
        lot,
    })
}

/// The master data an answer shows of `product`, by field name, as the answers write it.
fn master_data(
    product: &jiu_contracts::product::Product,
) -> [(&'static str, serde_json::Value); 3] {
    [
        ("name", serde_json::json!(product.name)),
        ("volume_ml", serde_json::json!(product.volume_ml)),
        ("abv_bp", serde_json::json!(product.abv_bp)),
    ]
}

/// The product master data an answer shows must be the proven entry of the code's GTIN: a
/// name, volume or strength without a proof, or differing from it, is refused.
fn check_product(
    proof: &crate::verify::RecordProofJson,
    code: &jiu_contracts::gs1::Code,
    shown: Option<&serde_json::Value>,
) -> Result<(), ProofError> {
    let shown_fields = |name: &str| shown.and_then(|p| p.get(name)).filter(|v| !v.is_null());
    let Some(proven) = &proof.product else {
        return match ["name", "volume_ml", "abv_bp"]
            .into_iter()
            .find(|f| shown_fields(f).is_some())
        {
            Some(field) => Err(ProofError::Shown {
                field: "product",
                shown: format!("{field} without a proof"),
                proven: "nothing".into(),
            }),
            None => Ok(()),
        };
    };
    let product = &proven.product;
    if code.as_item().map(|s| s.gtin) != Some(product.gtin) {
        return Err(ProofError::Shown {
            field: "product",
            shown: product.gtin.to_string(),
            proven: format!("the GTIN of {code}"),
        });
    }
    jiu_contracts::product::verify_product(&proof.header.state_root, product, &proven.proof)
        .map_err(|e| ProofError::Record {
            code: e.code(),
            message: e.to_string(),
        })?;
    if shown.is_none() {
        // Proven but not shown: nothing to compare.
        return Ok(());
    }
    for (name, value) in master_data(product) {
        let got = shown_fields(name).cloned().unwrap_or_default();
        if got != value {
            return Err(ProofError::Shown {
                field: "product",
                shown: format!("{name} {got}"),
                proven: format!("{name} {value}"),
            });
        }
    }
    Ok(())
}

/// The JSON form of a commit certificate.
pub fn certificate_json(
    certificate: &malachitebft_core_types::ExtendedCommitCertificate<crate::context::JiuContext>,
) -> CertificateJson {
    CertificateJson {
        height: certificate.height.0,
        round: certificate.round.as_i64(),
        block_id: certificate.value_id,
        signatures: certificate
            .commit_signatures
            .iter()
            .map(|s| CommitSignatureJson {
                address: s.address,
                signature: s.signature.0,
            })
            .collect(),
    }
}

/// Checks that `certificate` holds valid precommits of more than two thirds of the genesis
/// voting power for its (height, round, block id). Returns the power that signed.
pub fn verify_certificate(
    genesis: &Genesis,
    certificate: &CertificateJson,
) -> Result<u64, ProofError> {
    let genesis_hash = genesis.hash();
    let validators: BTreeMap<Address, (PublicKey, u64)> = genesis
        .validators
        .iter()
        .map(|v| {
            (
                Address::from_public_key(&v.public_key),
                (v.public_key, v.power),
            )
        })
        .collect();
    let total: u64 = validators.values().map(|(_, power)| power).sum();
    let round =
        u32::try_from(certificate.round).map_err(|_| ProofError::BadRound(certificate.round))?;
    let mut seen = BTreeSet::new();
    let mut signed = 0u64;
    for sig in &certificate.signatures {
        let (key, power) = validators
            .get(&sig.address)
            .ok_or(ProofError::UnknownSigner(sig.address))?;
        if !seen.insert(sig.address) {
            return Err(ProofError::DuplicateSigner(sig.address));
        }
        let vote = Vote {
            vote_type: VoteType::Precommit,
            height: Height(certificate.height),
            round: Round::new(round),
            value: NilOrVal::Val(certificate.block_id),
            validator_address: sig.address,
            extension: None,
        };
        if !verify_bytes(key, &vote_sign_bytes(&genesis_hash, &vote), &sig.signature) {
            return Err(ProofError::BadSignature(sig.address));
        }
        signed += power;
    }
    if signed.saturating_mul(3) <= total.saturating_mul(2) {
        return Err(ProofError::InsufficientPower { signed, total });
    }
    Ok(signed)
}

/// Checks that `header` is of this chain and hashes to `block_id`.
pub fn verify_header(
    genesis: &Genesis,
    header: &BlockHeader,
    block_id: BlockId,
) -> Result<(), ProofError> {
    if header.chain_id != genesis.chain_id {
        return Err(ProofError::ChainId {
            expected: genesis.chain_id.clone(),
            got: header.chain_id.clone(),
        });
    }
    let computed = header.id();
    if computed != block_id {
        return Err(ProofError::BlockId {
            claimed: block_id,
            computed,
        });
    }
    Ok(())
}

/// Checks that `certificate` signs `header` (same block id and height) with a quorum.
pub fn verify_header_certificate(
    genesis: &Genesis,
    header: &BlockHeader,
    block_id: BlockId,
    cert: &CertificateJson,
) -> Result<u64, ProofError> {
    if cert.block_id != block_id {
        return Err(ProofError::CertificateMismatch {
            what: "block",
            certificate: cert.block_id.to_string(),
            block: block_id.to_string(),
        });
    }
    if cert.height != header.height {
        return Err(ProofError::CertificateMismatch {
            what: "height",
            certificate: cert.height.to_string(),
            block: header.height.to_string(),
        });
    }
    verify_certificate(genesis, cert)
}

/// Checks a whole block answer: chain, header hash, transactions, certificate.
pub fn verify_block_answer(genesis: &Genesis, answer: &BlockAnswer) -> Result<(), ProofError> {
    let header = &answer.header;
    verify_header(genesis, header, answer.block_id)?;
    let txs: Vec<SignedTx> = answer
        .txs
        .iter()
        .map(|tx| SignedTx {
            body: tx.body.clone(),
            signature: tx.signature,
        })
        .collect();
    let root = txs_root(&txs);
    if root != header.txs_root || txs.len() != header.tx_count as usize {
        return Err(ProofError::TxsRoot {
            header: hex::encode(header.txs_root),
            computed: hex::encode(root),
        });
    }
    verify_header_certificate(genesis, header, answer.block_id, &answer.certificate).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use jiu_genesis::devnet::devnet;

    use crate::signing::JiuSigner;

    struct Fixture {
        genesis: Genesis,
        keys: Vec<SigningKey>,
    }

    fn fixture() -> Fixture {
        let net = devnet("jiu-proof", 4, 27000, Some([4; 32]));
        Fixture {
            genesis: net.genesis,
            keys: net.validator_keys,
        }
    }

    fn signed_by(f: &Fixture, signers: &[usize], height: u64, block: BlockId) -> CertificateJson {
        let genesis_hash = f.genesis.hash();
        let signatures = signers
            .iter()
            .map(|&i| {
                let key = &f.keys[i];
                let address = Address::from_public_key(&PublicKey::from_signing_key(key));
                let vote = Vote {
                    vote_type: VoteType::Precommit,
                    height: Height(height),
                    round: Round::new(0),
                    value: NilOrVal::Val(block),
                    validator_address: address,
                    extension: None,
                };
                let signer = JiuSigner::new(key.clone(), genesis_hash);
                let signature = signer.sign_bytes(&vote_sign_bytes(&genesis_hash, &vote)).0;
                CommitSignatureJson { address, signature }
            })
            .collect();
        CertificateJson {
            height,
            round: 0,
            block_id: block,
            signatures,
        }
    }

    #[test]
    fn test_quorum_certificate_verifies() {
        let f = fixture();
        let cert = signed_by(&f, &[0, 1, 2], 5, BlockId([7; 32]));
        assert_eq!(verify_certificate(&f.genesis, &cert), Ok(3));
    }

    #[test]
    fn test_certificate_refusals_name_the_fault() {
        let f = fixture();
        let block = BlockId([7; 32]);
        let two = signed_by(&f, &[0, 1], 5, block);
        assert_eq!(
            verify_certificate(&f.genesis, &two),
            Err(ProofError::InsufficientPower {
                signed: 2,
                total: 4
            })
        );
        let mut dup = signed_by(&f, &[0, 1], 5, block);
        dup.signatures.push(dup.signatures[0].clone());
        assert_eq!(
            verify_certificate(&f.genesis, &dup),
            Err(ProofError::DuplicateSigner(dup.signatures[0].address))
        );
        let mut forged = signed_by(&f, &[0, 1, 2], 5, block);
        forged.signatures[1].signature[9] ^= 1;
        assert_eq!(
            verify_certificate(&f.genesis, &forged),
            Err(ProofError::BadSignature(forged.signatures[1].address))
        );
        let mut moved = signed_by(&f, &[0, 1, 2], 5, block);
        moved.height = 6;
        assert!(matches!(
            verify_certificate(&f.genesis, &moved),
            Err(ProofError::BadSignature(_))
        ));
        let mut stranger = signed_by(&f, &[0, 1, 2], 5, block);
        stranger.signatures[2].address = Address([9; 20]);
        assert_eq!(
            verify_certificate(&f.genesis, &stranger),
            Err(ProofError::UnknownSigner(Address([9; 20])))
        );
        let other = devnet("jiu-proof", 4, 27000, Some([5; 32])).genesis;
        assert!(matches!(
            verify_certificate(&other, &signed_by(&f, &[0, 1, 2], 5, block)),
            Err(ProofError::UnknownSigner(_))
        ));
        let mut round = signed_by(&f, &[0, 1, 2], 5, block);
        round.round = -1;
        assert_eq!(
            verify_certificate(&f.genesis, &round),
            Err(ProofError::BadRound(-1))
        );
    }
}
