//! Why the book refuses an op. Every variant is bad input from a client, the operator or a
//! peer (never a bug), and a refused op leaves the book exactly as it was.

use jiu_types::{Hash, Role};

use super::record::{SlotState, Stage};

/// A refused lottery op. [`LotteryError::code`] is the stable name clients match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotteryError {
    #[error("malformed op: {0}")]
    MalformedOp(String),
    #[error("a batch must carry at least one entry")]
    EmptyBatch,
    #[error("batch of {len} entries exceeds the maximum of {max}")]
    BatchTooLarge { len: usize, max: usize },
    #[error("invalid rules: {0}")]
    InvalidRules(String),
    #[error("lottery {0} already exists")]
    LotteryExists(u64),
    #[error("no lottery {0}")]
    UnknownLottery(u64),
    #[error("'{org_id}' ({role}) may not create or change lottery rules")]
    NotIssuer { org_id: String, role: Role },
    #[error("the signing key is not one of lottery {lottery_id}'s operator keys")]
    NotOperator { lottery_id: u64 },
    #[error("the lottery opened at {open_at_ms}; its rules are frozen")]
    RulesFrozen { open_at_ms: u64 },
    #[error("the window would open at {open_at_ms}, not after block time {time_ms}")]
    OpensInThePast { open_at_ms: u64, time_ms: u64 },
    #[error("the lottery opens at {open_at_ms}; block time is {time_ms}")]
    NotOpen { open_at_ms: u64, time_ms: u64 },
    #[error("block time {time_ms} is after the close plus grace ({intake_end_ms})")]
    LateBatch { time_ms: u64, intake_end_ms: u64 },
    #[error("expected batch {expected}, got batch {got}")]
    BatchOutOfOrder { expected: u32, got: u32 },
    #[error("the batch would take the lottery past {max} entries")]
    TooManyEntries { max: u64 },
    #[error("the lottery already holds {max} batches")]
    TooManyBatches { max: u64 },
    #[error("entry {position} of the batch has {field} {got}, expected {expected}")]
    EntryFieldMismatch {
        position: u32,
        field: &'static str,
        expected: u64,
        got: u64,
    },
    #[error("entry {position} names pool {pool_id}, which the rules do not have")]
    UnknownPool { position: u32, pool_id: u32 },
    #[error("entry {position} has tier {tier}; the rules allow tiers below {tier_count}")]
    TierNotAllowed {
        position: u32,
        tier: u8,
        tier_count: u8,
    },
    #[error("entry {position} has weight {weight}; the rules allow 1..={weight_max}")]
    WeightNotAllowed {
        position: u32,
        weight: u16,
        weight_max: u16,
    },
    #[error("entry {position} was received at {received_at_ms}, outside the window")]
    EntryOutsideWindow { position: u32, received_at_ms: u64 },
    #[error("entry {position} was received at {received_at_ms}, after block time {time_ms}")]
    EntryFromTheFuture {
        position: u32,
        received_at_ms: u64,
        time_ms: u64,
    },
    #[error("entry {position} repeats nullifier {}", hex::encode(nullifier))]
    DuplicateNullifier { position: u32, nullifier: Hash },
    #[error("the intake ends at {intake_end_ms}; block time is {time_ms}")]
    NotClosed { intake_end_ms: u64, time_ms: u64 },
    #[error("expected status for batch {expected}, got batch {got}")]
    StatusOutOfOrder { expected: u32, got: u32 },
    #[error("status for batches up to {last}, but the lottery has {batches} batches")]
    StatusBeyondBatches { last: u64, batches: u32 },
    #[error("one status op covers at most {max} entries, this one {entries}")]
    StatusRangeTooLarge { entries: u64, max: u64 },
    #[error("exclusion {position}: {why}")]
    BadExclusion { position: u32, why: &'static str },
    #[error("status covers {covered} of {batches} batches")]
    StatusIncomplete { covered: u32, batches: u32 },
    #[error(
        "the status commitment covers {got_count} entries under root {}, the lottery has {count} under {}",
        hex::encode(got_root), hex::encode(root)
    )]
    StatusNotCovering {
        count: u64,
        root: Hash,
        got_count: u64,
        got_root: Hash,
    },
    #[error(
        "status root {} differs from the uploaded statuses' {}",
        hex::encode(got),
        hex::encode(expected)
    )]
    StatusRootMismatch { expected: Hash, got: Hash },
    #[error("the status is already committed")]
    StatusAlreadyCommitted,
    #[error("no seed before the status commitment")]
    SeedBeforeStatus,
    #[error("the seed is already set")]
    SeedAlreadySet,
    #[error("the seed message differs from the lottery's in its {field}")]
    SeedMessageMismatch { field: &'static str },
    #[error("the seed signature does not verify against the group key")]
    BadSeedSignature,
    #[error("chain id '{0}' cannot be put in a seed message")]
    BadChainId(String),
    #[error("no results before the seed")]
    ResultsBeforeSeed,
    #[error("the results are already committed")]
    ResultsAlreadyCommitted,
    #[error(
        "results root {} differs from the draw's {}",
        hex::encode(got),
        hex::encode(expected)
    )]
    ResultsMismatch { expected: Hash, got: Hash },
    #[error("the lottery is not drawn (stage {0:?})")]
    NotDrawn(Stage),
    #[error("pool {pool_id} has no ranked position {position}")]
    NotRanked { pool_id: u32, position: u32 },
    #[error("pool {pool_id} position {position} holds another entry")]
    RankEntryMismatch { pool_id: u32, position: u32 },
    #[error("pool {pool_id} position {position} is already {state:?}")]
    AlreadySettled {
        pool_id: u32,
        position: u32,
        state: SlotState,
    },
    #[error("pool {pool_id} position {position} waits for position {blocking} to be settled")]
    OutOfOrderClaim {
        pool_id: u32,
        position: u32,
        blocking: u32,
    },
    #[error("pool {pool_id} has claimed all {quota} of its slots")]
    QuotaFilled { pool_id: u32, quota: u32 },
    #[error("pool {pool_id} position {position} has not been offered a slot")]
    NotOffered { pool_id: u32, position: u32 },
    #[error("pool {pool_id} position {position}: the claim window closed at {deadline_ms}")]
    ClaimWindowPassed {
        pool_id: u32,
        position: u32,
        deadline_ms: u64,
    },
    #[error("pool {pool_id} position {position}: the claim window is open until {deadline_ms}")]
    ClaimWindowOpen {
        pool_id: u32,
        position: u32,
        deadline_ms: u64,
    },
    #[error("a disqualification needs a non-zero reason hash")]
    MissingReason,
}

impl LotteryError {
    /// A stable machine-readable code for the RPC; clients match on it, so never change one.
    pub fn code(&self) -> &'static str {
        use LotteryError as E;
        match self {
            E::MalformedOp(_) => "MALFORMED_OP",
            E::EmptyBatch => "EMPTY_BATCH",
            E::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            E::InvalidRules(_) => "INVALID_RULES",
            E::LotteryExists(_) => "LOTTERY_EXISTS",
            E::UnknownLottery(_) => "UNKNOWN_LOTTERY",
            E::NotIssuer { .. } => "NOT_ISSUER",
            E::NotOperator { .. } => "NOT_OPERATOR",
            E::RulesFrozen { .. } => "RULES_FROZEN",
            E::OpensInThePast { .. } => "OPENS_IN_THE_PAST",
            E::NotOpen { .. } => "NOT_OPEN",
            E::LateBatch { .. } => "LATE_BATCH",
            E::BatchOutOfOrder { .. } => "BATCH_OUT_OF_ORDER",
            E::TooManyEntries { .. } => "TOO_MANY_ENTRIES",
            E::TooManyBatches { .. } => "TOO_MANY_BATCHES",
            E::EntryFieldMismatch { .. } => "ENTRY_FIELD_MISMATCH",
            E::UnknownPool { .. } => "UNKNOWN_POOL",
            E::TierNotAllowed { .. } => "TIER_NOT_ALLOWED",
            E::WeightNotAllowed { .. } => "WEIGHT_NOT_ALLOWED",
            E::EntryOutsideWindow { .. } => "ENTRY_OUTSIDE_WINDOW",
            E::EntryFromTheFuture { .. } => "ENTRY_FROM_THE_FUTURE",
            E::DuplicateNullifier { .. } => "DUPLICATE_NULLIFIER",
            E::NotClosed { .. } => "NOT_CLOSED",
            E::StatusOutOfOrder { .. } => "STATUS_OUT_OF_ORDER",
            E::StatusBeyondBatches { .. } => "STATUS_BEYOND_BATCHES",
            E::StatusRangeTooLarge { .. } => "STATUS_RANGE_TOO_LARGE",
            E::BadExclusion { .. } => "BAD_EXCLUSION",
            E::StatusIncomplete { .. } => "STATUS_INCOMPLETE",
            E::StatusNotCovering { .. } => "STATUS_NOT_COVERING",
            E::StatusRootMismatch { .. } => "STATUS_ROOT_MISMATCH",
            E::StatusAlreadyCommitted => "STATUS_ALREADY_COMMITTED",
            E::SeedBeforeStatus => "SEED_BEFORE_STATUS",
            E::SeedAlreadySet => "SEED_ALREADY_SET",
            E::SeedMessageMismatch { .. } => "SEED_MESSAGE_MISMATCH",
            E::BadSeedSignature => "BAD_SEED_SIGNATURE",
            E::BadChainId(_) => "BAD_CHAIN_ID",
            E::ResultsBeforeSeed => "RESULTS_BEFORE_SEED",
            E::ResultsAlreadyCommitted => "RESULTS_ALREADY_COMMITTED",
            E::ResultsMismatch { .. } => "RESULTS_MISMATCH",
            E::NotDrawn(_) => "NOT_DRAWN",
            E::NotRanked { .. } => "NOT_RANKED",
            E::RankEntryMismatch { .. } => "RANK_ENTRY_MISMATCH",
            E::AlreadySettled { .. } => "ALREADY_SETTLED",
            E::OutOfOrderClaim { .. } => "OUT_OF_ORDER_CLAIM",
            E::QuotaFilled { .. } => "QUOTA_FILLED",
            E::NotOffered { .. } => "NOT_OFFERED",
            E::ClaimWindowPassed { .. } => "CLAIM_WINDOW_PASSED",
            E::ClaimWindowOpen { .. } => "CLAIM_WINDOW_OPEN",
            E::MissingReason => "MISSING_REASON",
        }
    }
}
