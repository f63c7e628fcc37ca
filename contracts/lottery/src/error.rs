//! Why rules or a dataset cannot be drawn (or committed to).
//!
//! Every variant is bad input from the operator or a peer, never a bug: the dataset does not
//! match what the chain accepted, so no validator may vote for a result over it. When a
//! dataset has several faults, the one reported is the first the checks meet (rules, counts,
//! the batch layout, then each entry in input order, then nullifiers); the same input gives
//! the same error whatever the thread count.

use crate::EntryId;

/// A refusal of [`crate::draw`] or of building a tree or proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("{pools} pools, more than the {max} allowed")]
    TooManyPools { pools: usize, max: usize },
    #[error("pool ids must be strictly ascending; pool {pool_id} is out of order or repeated")]
    PoolsNotAscending { pool_id: u32 },
    #[error("rules must allow at least one tier")]
    NoTiers,
    #[error("weight_max {weight_max} is outside 1..={limit}")]
    WeightMaxOutOfRange { weight_max: u16, limit: u16 },
    #[error("window opens at {open_at_ms} after it closes at {close_at_ms}")]
    WindowReversed { open_at_ms: u64, close_at_ms: u64 },
    #[error("{entries} entries, more than the {max} allowed")]
    TooManyEntries { entries: usize, max: usize },
    #[error("{entries} entries but {status} status records")]
    StatusCountMismatch { entries: usize, status: usize },
    #[error("batch numbers must run 0, 1, 2, ... without gaps; batch {batch_no} is missing")]
    BatchMissing { batch_no: u32 },
    #[error("batch {batch_no} has {count} entries but their indexes are not 0..{count}")]
    IndexGap { batch_no: u32, count: u32 },
    #[error("{0} appears twice")]
    DuplicateEntry(EntryId),
    #[error("{id} belongs to lottery {lottery_id}")]
    WrongLottery { id: EntryId, lottery_id: u64 },
    #[error("{id} names pool {pool_id}, which the rules do not have")]
    UnknownPool { id: EntryId, pool_id: u32 },
    #[error("{id} has tier {tier}, the rules allow tiers below {tier_count}")]
    TierOutOfRange {
        id: EntryId,
        tier: u8,
        tier_count: u8,
    },
    #[error("{id} has weight {weight}, the rules allow 1..={weight_max}")]
    WeightOutOfRange {
        id: EntryId,
        weight: u16,
        weight_max: u16,
    },
    #[error("{id} was received at {received_at_ms}, outside the lottery window")]
    ReceivedOutsideWindow { id: EntryId, received_at_ms: u64 },
    #[error("the status record at the position of {0} is about another entry")]
    StatusForOtherEntry(EntryId),
    #[error("the status of {0} is malformed: eligible needs a zero reason hash, excluded a non-zero one")]
    MalformedStatus(EntryId),
    #[error("{first} and {second} have the same nullifier")]
    DuplicateNullifier { first: EntryId, second: EntryId },
}
