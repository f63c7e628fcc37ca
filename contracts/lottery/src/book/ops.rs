//! The lottery ops: what a transaction payload carries to the book. Each has a borsh and a
//! JSON form and a bounded size, checked by [`LotteryOp::check_bounds`] before any state is
//! read, so a node can refuse an oversized op in its stateless checks.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::Hash;
use serde::{Deserialize, Serialize};

use super::error::LotteryError;
use crate::{Entry, LotteryRules};

/// Most entries in one batch. 10,000 leaves are 950 KB of borsh, so a batch fits one 1 MiB
/// transaction, and checking one (leaf hashes, batch root, 10,000 nullifier inserts) takes
/// about 10 ms, a bounded share of a block. At the design's rate (3 M entries in an hour) the
/// operator sends about one batch every 12 s.
pub const BATCH_ENTRIES_MAX: usize = 10_000;
/// Most entries whose status one AppendStatus covers; it hashes one status leaf per entry,
/// so its cost equals an AppendBatch's.
pub const STATUS_ENTRIES_PER_OP_MAX: u64 = BATCH_ENTRIES_MAX as u64;
/// Most settlements (claims, disqualifications, forfeits) in one op.
pub const SETTLEMENTS_MAX: usize = 1_000;
/// Longest seed message: tag (15) + length (1) + chain id (255) + id (8) + three roots (96).
pub const SEED_MESSAGE_BYTES_MAX: usize = 375;
/// Longest seed signature accepted for checking (a BLS12-381 min-sig signature is 48 bytes).
pub const SEED_SIGNATURE_BYTES_MAX: usize = 96;

/// One lottery op. Who may submit which is in the [`super`] module doc.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LotteryOp {
    /// Creates a lottery; its id is `rules.draw.lottery_id`.
    CreateLottery { rules: LotteryRules },
    /// Replaces the rules of a lottery that has not opened yet (same id).
    AmendRules { rules: LotteryRules },
    /// Appends batch `batch_no` of entries, in index order.
    AppendBatch {
        lottery_id: u64,
        batch_no: u32,
        entries: Vec<Entry>,
    },
    /// Uploads the status of batches `first_batch_no .. first_batch_no + batches`: every
    /// entry of them is eligible except the listed exclusions.
    AppendStatus {
        lottery_id: u64,
        first_batch_no: u32,
        batches: u32,
        /// Strictly ascending by (batch, index), inside the covered batches.
        exclusions: Vec<Exclusion>,
    },
    /// Commits the status root; states the entry set it covers.
    CommitStatus {
        lottery_id: u64,
        entries_count: u64,
        #[serde(with = "crate::serde_hex")]
        entries_root: Hash,
        #[serde(with = "crate::serde_hex")]
        status_root: Hash,
    },
    /// Records the threshold signature over the seed message; the seed is its hash.
    SubmitSeed {
        lottery_id: u64,
        /// The signed message, exactly as signed (jiu-beacon `SeedMessage::to_bytes`).
        #[serde(with = "crate::serde_hex::bytes")]
        message: Vec<u8>,
        #[serde(with = "crate::serde_hex::bytes")]
        signature: Vec<u8>,
    },
    /// Commits the draw's results root; the book recomputes it.
    CommitResults {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        results_root: Hash,
    },
    /// Claims, disqualifications and forfeits, applied in order.
    Settle {
        lottery_id: u64,
        items: Vec<Settlement>,
    },
}

/// An entry excluded by the operator's risk control, with the hash of its reason code.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
pub struct Exclusion {
    pub batch_no: u32,
    pub index: u32,
    /// Non-zero (a zero reason is the encoding of "eligible").
    #[serde(with = "crate::serde_hex")]
    pub reason_hash: Hash,
}

/// What happens to one ranked position of a pool.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Settlement {
    pub pool_id: u32,
    /// Position in the pool's ranked list (winners, then waitlist), from 0.
    pub position: u32,
    /// The leaf hash at that position, so a slip of the operator cannot settle another entry.
    #[serde(with = "crate::serde_hex")]
    pub leaf_hash: Hash,
    pub action: SettleAction,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SettleAction {
    /// The applicant paid; `order_hash` links the order (and later the bottle).
    Claim {
        #[serde(with = "crate::serde_hex")]
        order_hash: Hash,
    },
    /// Excluded after the draw (e.g. payment fraud); frees the slot if it was claimed.
    Disqualify {
        #[serde(with = "crate::serde_hex")]
        reason_hash: Hash,
    },
    /// The offered slot was not claimed within the claim window.
    Forfeit,
}

impl LotteryOp {
    /// The lottery the op is about.
    pub fn lottery_id(&self) -> u64 {
        match self {
            LotteryOp::CreateLottery { rules } | LotteryOp::AmendRules { rules } => {
                rules.lottery_id()
            }
            LotteryOp::AppendBatch { lottery_id, .. }
            | LotteryOp::AppendStatus { lottery_id, .. }
            | LotteryOp::CommitStatus { lottery_id, .. }
            | LotteryOp::SubmitSeed { lottery_id, .. }
            | LotteryOp::CommitResults { lottery_id, .. }
            | LotteryOp::Settle { lottery_id, .. } => *lottery_id,
        }
    }

    /// The snake_case name of the op, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            LotteryOp::CreateLottery { .. } => "create_lottery",
            LotteryOp::AmendRules { .. } => "amend_rules",
            LotteryOp::AppendBatch { .. } => "append_batch",
            LotteryOp::AppendStatus { .. } => "append_status",
            LotteryOp::CommitStatus { .. } => "commit_status",
            LotteryOp::SubmitSeed { .. } => "submit_seed",
            LotteryOp::CommitResults { .. } => "commit_results",
            LotteryOp::Settle { .. } => "settle",
        }
    }

    /// The size bounds, checkable without the state.
    pub fn check_bounds(&self) -> Result<(), LotteryError> {
        let malformed = |why: String| Err(LotteryError::MalformedOp(why));
        match self {
            LotteryOp::CreateLottery { rules } | LotteryOp::AmendRules { rules } => {
                rules.validate().map_err(LotteryError::InvalidRules)
            }
            LotteryOp::AppendBatch { entries, .. } => match entries.len() {
                0 => Err(LotteryError::EmptyBatch),
                len if len > BATCH_ENTRIES_MAX => Err(LotteryError::BatchTooLarge {
                    len,
                    max: BATCH_ENTRIES_MAX,
                }),
                _ => Ok(()),
            },
            LotteryOp::AppendStatus {
                batches,
                exclusions,
                ..
            } => {
                if *batches == 0 {
                    return malformed("a status op must cover at least one batch".into());
                }
                if exclusions.len() as u64 > STATUS_ENTRIES_PER_OP_MAX {
                    return malformed(format!(
                        "{} exclusions, at most {STATUS_ENTRIES_PER_OP_MAX}",
                        exclusions.len()
                    ));
                }
                Ok(())
            }
            LotteryOp::SubmitSeed {
                message, signature, ..
            } => {
                if message.len() > SEED_MESSAGE_BYTES_MAX {
                    return malformed(format!("seed message of {} bytes", message.len()));
                }
                if signature.len() > SEED_SIGNATURE_BYTES_MAX {
                    return malformed(format!("seed signature of {} bytes", signature.len()));
                }
                Ok(())
            }
            LotteryOp::Settle { items, .. } => {
                if items.is_empty() || items.len() > SETTLEMENTS_MAX {
                    return malformed(format!(
                        "{} settlements, allowed 1..={SETTLEMENTS_MAX}",
                        items.len()
                    ));
                }
                Ok(())
            }
            LotteryOp::CommitStatus { .. } | LotteryOp::CommitResults { .. } => Ok(()),
        }
    }
}
