//! What the lottery RPC answers and how a client checks them holding only the genesis file:
//! the applicant's bundle (`jiu lottery verify`) and the whole draw (`jiu lottery audit`).
//!
//! # The chain part, shared by both
//!
//! A [`ChainProof`] carries the lottery's committed leaf bytes, their path to the state
//! root ([`jiu_contracts::lottery::LotteryProof`]), and the header and commit certificate of
//! the block whose state root that is. Checked: the header is of the genesis chain and
//! hashes to the block id; more than two thirds of the genesis voting power precommitted
//! it; the leaf is under its state root. The leaf's fields ([`LeafFields`]) are then what
//! the chain says about the lottery: its rules hash, entries root, status root, seed and
//! results root.
//!
//! # The seed
//!
//! The answer carries the seed message and the threshold signature. The message must be the
//! one the chain's rules define for this lottery's committed values, the signature must
//! verify against the genesis beacon's group key, and `SHA-256("mtl/seed/v1" || signature)`
//! must be the leaf's seed. So the seed is not the node's word either.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_beacon::{SeedMessage, Signature};
use jiu_contracts::lottery::{verify_lottery, LotteryProof};
use jiu_genesis::Genesis;
use jiu_lottery::book::{LeafFields, Stage};
use jiu_lottery::{verify_applicant, ApplicantBundle, Dataset, LotteryRules, Verdict};
use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::context::BlockId;
use crate::proof::{verify_header, verify_header_certificate, CertificateJson, ProofError};

/// A lottery's committed leaf, proven under a finalized block's state root.
#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct ChainProof {
    pub height: u64,
    pub block_id: BlockId,
    pub header: BlockHeader,
    pub certificate: CertificateJson,
    /// [`jiu_lottery::LotteryRecord::leaf_bytes`].
    #[serde(with = "hex::serde")]
    pub leaf: Vec<u8>,
    pub lottery_proof: LotteryProof,
}

/// The seed message and its threshold signature.
#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct SeedJson {
    #[serde(with = "hex::serde")]
    pub message: Vec<u8>,
    #[serde(with = "hex::serde")]
    pub signature: Vec<u8>,
}

/// `GET /lottery/{id}/bundle/{batch}/{index}`: JSON, or borsh with `?format=borsh` (the
/// compact form an app stores: same fields, no hex).
#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct BundleAnswer {
    pub lottery_id: u64,
    pub bundle: ApplicantBundle,
    pub seed: SeedJson,
    pub proof: ChainProof,
}

/// Exactly what failed in an offline lottery check. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotteryCheckError {
    #[error(transparent)]
    Chain(#[from] ProofError),
    #[error("{message}")]
    Leaf { code: &'static str, message: String },
    #[error("the leaf is not a lottery leaf")]
    LeafMalformed,
    #[error("the answer is about lottery {answer}, the proven leaf about lottery {leaf}")]
    WrongLottery { answer: u64, leaf: u64 },
    #[error("the lottery is not drawn on chain (stage {0:?})")]
    NotDrawn(Stage),
    #[error("the {field} shown ({shown}) is not the one committed on chain ({committed})")]
    CommitmentMismatch {
        field: &'static str,
        shown: String,
        committed: String,
    },
    #[error("the genesis has no lottery beacon to check the seed against")]
    NoBeacon,
    #[error("the seed message is not this lottery's ({0})")]
    SeedMessageMismatch(String),
    #[error("the seed signature does not verify against the genesis group key")]
    BadSeedSignature,
    #[error("the seed is not the hash of the signature")]
    SeedMismatch,
    #[error("the entry is not under the committed entries root at its stated position")]
    NotIncluded,
    #[error("the dataset is inconsistent: {0}")]
    BadDataset(String),
}

impl LotteryCheckError {
    pub fn code(&self) -> &'static str {
        match self {
            LotteryCheckError::Chain(e) => e.code(),
            LotteryCheckError::Leaf { code, .. } => code,
            LotteryCheckError::LeafMalformed => "LEAF_MALFORMED",
            LotteryCheckError::WrongLottery { .. } => "WRONG_LOTTERY",
            LotteryCheckError::NotDrawn(_) => "NOT_DRAWN",
            LotteryCheckError::CommitmentMismatch { .. } => "COMMITMENT_MISMATCH",
            LotteryCheckError::NoBeacon => "NO_BEACON",
            LotteryCheckError::SeedMessageMismatch(_) => "SEED_MESSAGE_MISMATCH",
            LotteryCheckError::BadSeedSignature => "BAD_SEED_SIGNATURE",
            LotteryCheckError::SeedMismatch => "SEED_MISMATCH",
            LotteryCheckError::NotIncluded => "ENTRY_NOT_INCLUDED",
            LotteryCheckError::BadDataset(_) => "BAD_DATASET",
        }
    }
}

type Result<T> = std::result::Result<T, LotteryCheckError>;

/// Checks the chain part and returns the proven leaf's fields and the power that signed.
pub fn verify_chain(genesis: &Genesis, proof: &ChainProof) -> Result<(LeafFields, u64)> {
    verify_header(genesis, &proof.header, proof.block_id)?;
    let signed =
        verify_header_certificate(genesis, &proof.header, proof.block_id, &proof.certificate)?;
    verify_lottery(&proof.header.state_root, &proof.leaf, &proof.lottery_proof).map_err(|e| {
        LotteryCheckError::Leaf {
            code: e.code(),
            message: e.to_string(),
        }
    })?;
    let fields = LeafFields::parse(&proof.leaf).ok_or(LotteryCheckError::LeafMalformed)?;
    Ok((fields, signed))
}

/// Checks the seed message and signature against the leaf and the genesis group key.
pub fn verify_seed(genesis: &Genesis, fields: &LeafFields, seed: &SeedJson) -> Result<()> {
    let public = genesis.beacon.as_ref().ok_or(LotteryCheckError::NoBeacon)?;
    let expected = SeedMessage::new(
        &genesis.chain_id,
        fields.lottery_id,
        fields.rules_hash,
        fields.entries_root,
        fields.status_root,
    )
    .map_err(|e| LotteryCheckError::SeedMessageMismatch(e.to_string()))?;
    if expected.to_bytes() != seed.message {
        return Err(LotteryCheckError::SeedMessageMismatch(
            "it does not name this lottery's committed rules, entries and statuses".into(),
        ));
    }
    let signature =
        Signature::from_bytes(&seed.signature).map_err(|_| LotteryCheckError::BadSeedSignature)?;
    if signature.to_bytes()[..] != seed.signature[..]
        || jiu_beacon::verify(public.group_key(), &expected, &signature).is_err()
    {
        return Err(LotteryCheckError::BadSeedSignature);
    }
    if jiu_beacon::seed_from_signature(&signature) != fields.seed {
        return Err(LotteryCheckError::SeedMismatch);
    }
    Ok(())
}

fn same(field: &'static str, shown: &[u8; 32], committed: &[u8; 32]) -> Result<()> {
    if shown == committed {
        Ok(())
    } else {
        Err(LotteryCheckError::CommitmentMismatch {
            field,
            shown: hex::encode(shown),
            committed: hex::encode(committed),
        })
    }
}

/// What an applicant's bundle says, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBundle {
    pub lottery_id: u64,
    pub height: u64,
    pub signed_power: u64,
    /// Winner, waitlisted, not a winner, ineligible; or fraud evidence: the committed draw
    /// contradicts itself about this applicant ([`jiu_lottery::FraudReason`]).
    pub verdict: Verdict,
}

impl BundleAnswer {
    /// Reads a saved answer in either form: JSON (starts with `{`) or borsh.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let text_start = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if text_start == Some(&b'{') {
            serde_json::from_slice(bytes).map_err(|e| format!("not a bundle answer: {e}"))
        } else {
            borsh::from_slice(bytes).map_err(|e| format!("not a borsh bundle answer: {e}"))
        }
    }
}

/// Checks a bundle answer offline: chain, leaf, commitments, seed, then the bundle itself.
pub fn verify_bundle_answer(genesis: &Genesis, answer: &BundleAnswer) -> Result<CheckedBundle> {
    let (fields, signed_power) = verify_chain(genesis, &answer.proof)?;
    let commitments = &answer.bundle.commitments;
    for shown in [answer.lottery_id, commitments.lottery_id] {
        if shown != fields.lottery_id {
            return Err(LotteryCheckError::WrongLottery {
                answer: shown,
                leaf: fields.lottery_id,
            });
        }
    }
    if fields.stage != Stage::Drawn {
        return Err(LotteryCheckError::NotDrawn(fields.stage));
    }
    same(
        "entries_root",
        &commitments.entries_root,
        &fields.entries_root,
    )?;
    same("status_root", &commitments.status_root, &fields.status_root)?;
    same("seed", &commitments.seed, &fields.seed)?;
    same(
        "results_root",
        &commitments.results_root,
        &fields.results_root,
    )?;
    verify_seed(genesis, &fields, &answer.seed)?;
    Ok(CheckedBundle {
        lottery_id: fields.lottery_id,
        height: answer.proof.height,
        signed_power,
        verdict: verify_applicant(&answer.bundle),
    })
}

/// `GET /lottery/{id}/entries/{batch}/{index}`: an accepted entry and its path to the
/// entries root, with the lottery leaf proven: the applicant's check, before the draw, that
/// the operator really appended their entry (design 6.3 step 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InclusionAnswer {
    pub lottery_id: u64,
    pub entry: jiu_lottery::Entry,
    pub entry_proof: jiu_lottery::BatchedProof,
    pub proof: ChainProof,
}

/// What an inclusion answer proves, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedInclusion {
    pub lottery_id: u64,
    pub height: u64,
    pub signed_power: u64,
    /// The lottery's stage at that height.
    pub stage: Stage,
}

/// Checks an inclusion answer offline: chain, leaf, then the entry under the leaf's
/// entries root at its stated (batch, index).
pub fn verify_inclusion_answer(
    genesis: &Genesis,
    answer: &InclusionAnswer,
) -> Result<CheckedInclusion> {
    let (fields, signed_power) = verify_chain(genesis, &answer.proof)?;
    for shown in [answer.lottery_id, answer.entry.lottery_id] {
        if shown != fields.lottery_id {
            return Err(LotteryCheckError::WrongLottery {
                answer: shown,
                leaf: fields.lottery_id,
            });
        }
    }
    let entry = &answer.entry;
    if !answer
        .entry_proof
        .verify(entry.leaf_hash(), entry.id(), &fields.entries_root)
    {
        return Err(LotteryCheckError::NotIncluded);
    }
    Ok(CheckedInclusion {
        lottery_id: fields.lottery_id,
        height: answer.proof.height,
        signed_power,
        stage: fields.stage,
    })
}

/// `GET /lottery/{id}`: the lottery as the chain has it, with its proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LotteryAnswer {
    pub lottery_id: u64,
    pub rules: LotteryRules,
    /// The proven leaf's fields, for reading (the check reads the leaf bytes).
    pub committed: serde_json::Value,
    /// Once the seed is set.
    pub seed: Option<SeedJson>,
    /// `None` at height 0.
    pub proof: Option<ChainProof>,
}

/// The steps of an audit, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditStep {
    Chain,
    EntriesRoot,
    StatusRoot,
    Seed,
    Draw,
}

/// What an audit re-derived and found equal to the chain's commitments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub lottery_id: u64,
    pub height: u64,
    pub entries: u64,
    pub excluded: u64,
    pub pools: usize,
    pub winners: u64,
    /// `(name, root)` of each root recomputed and matched.
    pub roots: Vec<(&'static str, [u8; 32])>,
}

/// Re-runs a whole lottery from its public dataset and compares every root with the proven
/// leaf: rules hash, entries root (and count), status root (and exclusions), the seed (its
/// signature against the group key), and the results root of a fresh draw.
pub fn audit(
    genesis: &Genesis,
    answer: &LotteryAnswer,
    dataset: &Dataset,
    progress: &mut dyn FnMut(AuditStep),
) -> Result<AuditReport> {
    progress(AuditStep::Chain);
    let proof = answer
        .proof
        .as_ref()
        .ok_or(LotteryCheckError::NotDrawn(Stage::Collecting))?;
    let (fields, _) = verify_chain(genesis, proof)?;
    if answer.lottery_id != fields.lottery_id || dataset.lottery_id != fields.lottery_id {
        return Err(LotteryCheckError::WrongLottery {
            answer: dataset.lottery_id,
            leaf: fields.lottery_id,
        });
    }
    if fields.stage != Stage::Drawn {
        return Err(LotteryCheckError::NotDrawn(fields.stage));
    }
    same("rules_hash", &answer.rules.hash(), &fields.rules_hash)?;
    progress(AuditStep::EntriesRoot);
    let entries_root = jiu_lottery::entries_root(&dataset.entries)
        .map_err(|e| LotteryCheckError::BadDataset(e.to_string()))?;
    same("entries_root", &entries_root, &fields.entries_root)?;
    if dataset.entries.len() as u64 != fields.entries_count {
        return Err(LotteryCheckError::BadDataset(format!(
            "{} entries, the chain committed {}",
            dataset.entries.len(),
            fields.entries_count
        )));
    }
    progress(AuditStep::StatusRoot);
    let status = dataset.status().ok_or_else(|| {
        LotteryCheckError::BadDataset("an exclusion names no entry or is out of order".into())
    })?;
    let status_root = jiu_lottery::status_root(&dataset.entries, &status)
        .map_err(|e| LotteryCheckError::BadDataset(e.to_string()))?;
    same("status_root", &status_root, &fields.status_root)?;
    progress(AuditStep::Seed);
    let seed = answer
        .seed
        .as_ref()
        .ok_or(LotteryCheckError::NotDrawn(fields.stage))?;
    verify_seed(genesis, &fields, seed)?;
    progress(AuditStep::Draw);
    let result = jiu_lottery::draw(&answer.rules.draw, &dataset.entries, &status, &fields.seed)
        .map_err(|e| LotteryCheckError::BadDataset(e.to_string()))?;
    same("results_root", &result.results_root, &fields.results_root)?;
    Ok(AuditReport {
        lottery_id: fields.lottery_id,
        height: proof.height,
        entries: fields.entries_count,
        excluded: dataset.exclusions.len() as u64,
        pools: result.pools.len(),
        winners: result.pools.iter().map(|p| p.winners.len() as u64).sum(),
        roots: vec![
            ("rules_hash", fields.rules_hash),
            ("entries_root", entries_root),
            ("status_root", status_root),
            ("seed", fields.seed),
            ("results_root", result.results_root),
        ],
    })
}
