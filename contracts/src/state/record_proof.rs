//! Proof that a code has a given committed record (or none) under a state root.
//!
//! Two hops: the record's leaf in the records sparse Merkle tree ([`crate::smt`]), then the
//! records root as the last leaf of the state root's RFC 6962 tree. A client holding a state
//! root it trusts (from a block header signed by a quorum) checks both with hashing only.

use serde::{Deserialize, Serialize};

use crate::gs1::Code;
use crate::provenance::{record_key, RecordLeaf};
use crate::smt;
use crate::types::Hash;

use super::records_leaf_hash;

/// A record's proof against a state root; see [`super::State::prove_record`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordProof {
    /// The record's path in the records tree (membership or non-membership).
    pub smt: smt::Proof,
    #[serde(with = "crate::serde_hex")]
    pub records_root: Hash,
    /// Position of the records leaf among the state root's leaves (the last one).
    pub state_leaf_index: u64,
    pub state_leaf_count: u64,
    /// RFC 6962 path of the records leaf, deepest sibling first.
    #[serde(with = "crate::smt::serde_hex_list")]
    pub state_path: Vec<Hash>,
}

/// Why a record proof fails; each names the hop that broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProofError {
    #[error("the record is for {got}, the question was about {expected}")]
    WrongCode { expected: String, got: String },
    #[error("record does not match the records tree: {0}")]
    Record(#[from] smt::ProofError),
    #[error("the records root is not under the state root")]
    StateRoot,
    #[error("the records leaf must be the last of the state root's leaves")]
    NotLastLeaf,
}

impl RecordProofError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RecordProofError::WrongCode { .. } => "WRONG_CODE",
            RecordProofError::Record(smt::ProofError::ValueMismatch) => "RECORD_TAMPERED",
            RecordProofError::Record(smt::ProofError::ProofOfAbsence) => "RECORD_NOT_PROVEN",
            RecordProofError::Record(smt::ProofError::ProofOfPresence) => "RECORD_HIDDEN",
            RecordProofError::Record(_) => "BAD_RECORD_PATH",
            RecordProofError::StateRoot | RecordProofError::NotLastLeaf => "BAD_STATE_PATH",
        }
    }
}

/// Checks that under `state_root`, `code` has exactly `record` (`None`: the chain has no
/// record of it).
pub fn verify_record(
    state_root: &Hash,
    code: &Code,
    record: Option<&RecordLeaf>,
    proof: &RecordProof,
) -> Result<(), RecordProofError> {
    if let Some(leaf) = record {
        if &leaf.code != code {
            return Err(RecordProofError::WrongCode {
                expected: code.to_string(),
                got: leaf.code.to_string(),
            });
        }
    }
    let value_hash = record.map(|leaf| smt::value_hash(&leaf.encode()));
    smt::verify(proof.records_root, record_key(code), value_hash, &proof.smt)?;
    if proof.state_leaf_count == 0 || proof.state_leaf_index + 1 != proof.state_leaf_count {
        return Err(RecordProofError::NotLastLeaf);
    }
    if super::is_state_leaf(
        records_leaf_hash(&proof.records_root),
        proof.state_leaf_index,
        proof.state_leaf_count,
        &proof.state_path,
        state_root,
    ) {
        Ok(())
    } else {
        Err(RecordProofError::StateRoot)
    }
}
