//! The on-chain lottery lifecycle (design 6.3): a pure, deterministic state machine a node
//! calls for lottery transactions, one [`LotteryRecord`] per lottery id.
//!
//! # Stages and ops
//!
//! | op | stage and time | who | effect |
//! |---|---|---|---|
//! | `CreateLottery` | new id, block time before `open_at_ms` | a Producer (the issuer) | rules, `rules_hash` |
//! | `AmendRules` | `Collecting`, before `open_at_ms` | the issuer | new rules (frozen once open) |
//! | `AppendBatch` | `Collecting`, `open_at_ms <= time <= close_at_ms + grace_ms` | an operator key | next batch of entries |
//! | `AppendStatus` | `Collecting`, after close + grace | an operator key | statuses of the next batches |
//! | `CommitStatus` | `Collecting` -> `StatusCommitted`, all statuses uploaded | an operator key | status root |
//! | `SubmitSeed` | `StatusCommitted` -> `Seeded` | anyone (self-verifying) | seed |
//! | `CommitResults` | `Seeded` -> `Drawn` | anyone (recomputed) | results root, ranked lists |
//! | `Settle` | `Drawn` | an operator key | claims, disqualifications, forfeits |
//!
//! "An operator key" is the transaction's signing key, one of the rules' `operator_keys`: the
//! chain has already verified the transaction signature (ZIP-215, `jiu-contracts`), so that
//! signature *is* the operator's signature over the batch, and the finalized transaction is
//! the portable evidence of what the operator submitted. The book checks the key
//! ([`Actor::key`]); it verifies no ed25519 signature itself.
//!
//! # What is checked
//!
//! - Entries: batch numbers run 0, 1, 2, ... with no gap or repeat; each leaf's `lottery_id`,
//!   `batch_no` and `index` (= its position in the batch) are its place; its pool exists;
//!   `tier < tier_count`, `1 <= weight <= weight_max`; `open_at_ms <= received_at_ms <=
//!   close_at_ms` and `received_at_ms <=` block time; its nullifier is new to the whole
//!   lottery (a persistent set). A batch has 1 to [`BATCH_ENTRIES_MAX`] entries.
//! - The entries root covers exactly the accepted leaves: `batch_root(b)` = RFC 6962 root over
//!   `leaf_hash` of batch `b`'s entries in index order (`leaf_hash = SHA-256(0x00 ||
//!   "mtl/leaf/v1" || 95 leaf bytes)`), `entries_root` = RFC 6962 root over the batch roots in
//!   batch order ([`crate::entries_root`] of the same entries).
//! - Statuses: uploaded after the intake, in batch order, each op covering whole batches; an
//!   entry is eligible unless listed with a non-zero reason hash. `CommitStatus` must state the
//!   lottery's entry count and entries root (else `STATUS_NOT_COVERING`) and the root the
//!   uploads give ([`crate::status_root`] of the dataset; else `STATUS_ROOT_MISMATCH`).
//! - Seed: the op's message must be, byte for byte, [`crate::encoding::seed_message`] of
//!   (chain id, lottery id, rules hash, entries root, status root), which is jiu-beacon's
//!   `SeedMessage` (else `SEED_MESSAGE_MISMATCH`), and the [`SeedVerifier`] must accept the
//!   signature; `seed = SHA-256("mtl/seed/v1" || signature)`.
//! - Results: the book runs [`crate::draw`]'s ranking on its own entries, statuses and seed
//!   (or takes a [`PreparedDraw`] of exactly those inputs) and refuses another root.
//! - Settlement ([`settle`]): strictly in ranked order.
//!
//! # Determinism
//!
//! No I/O, clock or randomness; time is block time from [`LotteryCtx`]; every map is ordered
//! (imbl `OrdMap`/`OrdSet`/`Vector`, persistent, so cloning the book is O(1)). The draw may use
//! threads, whose results are combined order-free ([`crate::draw`]).
//!
//! # All or nothing
//!
//! [`LotteryBook::check`] works out the whole change on an O(1) clone of the lottery and
//! touches nothing; [`LotteryBook::commit`] installs it and cannot fail. So a refused op
//! leaves the book exactly as it was.

mod drawing;
mod error;
mod frontier;
mod intake;
mod invariants;
mod ops;
mod record;
pub mod settle;

#[cfg(test)]
mod tests;

pub use drawing::{DrawJob, DrawKey, PreparedDraw};
pub use error::LotteryError;
pub use invariants::check_transition;
pub use ops::{
    Exclusion, LotteryOp, SettleAction, Settlement, BATCH_ENTRIES_MAX, SEED_MESSAGE_BYTES_MAX,
    SEED_SIGNATURE_BYTES_MAX, SETTLEMENTS_MAX, STATUS_ENTRIES_PER_OP_MAX,
};
pub use record::{
    BatchHeader, LeafFields, LotteryRecord, Phase, PoolSlots, SeedRecord, Slot, SlotState, Stage,
    StatusBatch, BOOK_LEAF_BYTES, BOOK_LEAF_TAG, SETTLE_TAG,
};

use imbl::OrdMap;
use jiu_types::{Hash, PublicKey, Role};
use serde::Serialize;

/// Most batches in one lottery: an hour at one batch a second, or a day at one every 10 s.
/// Bounds the batch headers kept (about 150 bytes each) whatever the batch sizes.
pub const BATCHES_MAX: u64 = 100_000;

type Result<T> = std::result::Result<T, LotteryError>;

/// Checks the threshold signature over a seed message.
///
/// Implementors must be deterministic and accept, for a message, at most one signature byte
/// string: the seed is the hash of the accepted bytes, so a second accepted encoding of the
/// same signature would be a second seed. BLS signatures are unique per key and message; a
/// verifier over jiu-beacon's group key must also refuse every encoding but the canonical
/// compressed one. The node's adapter (jiu-lottery does not link the BLS stack):
///
/// ```text
/// struct Beacon(jiu_beacon::GroupKey);
/// impl SeedVerifier for Beacon {
///     fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
///         let (Ok(m), Ok(s)) = (SeedMessage::from_bytes(message), Signature::from_bytes(signature))
///         else { return false };
///         s.to_bytes()[..] == *signature && jiu_beacon::verify(&self.0, &m, &s).is_ok()
///     }
/// }
/// ```
pub trait SeedVerifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}

/// Who submits an op: the registered org that signed the transaction, its role, and the key
/// it signed with (already verified by the chain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub org_id: String,
    pub role: Role,
    pub key: PublicKey,
}

/// What the block and the chain tell the book. Never the local clock.
#[derive(Clone, Copy)]
pub struct LotteryCtx<'a> {
    /// Block time, Unix ms.
    pub time_ms: u64,
    /// The genesis chain id, part of every seed message.
    pub chain_id: &'a str,
    /// Checks seed signatures (the genesis group key).
    pub seed_verifier: &'a dyn SeedVerifier,
    /// Draws the node ran ahead of the block ([`DrawJob::run`]); `CommitResults` uses one
    /// whose inputs are the lottery's and otherwise runs the draw itself. Either way the
    /// result is the same function of the committed inputs.
    pub prepared_draws: &'a [PreparedDraw],
}

/// One observable effect of an applied op, for receipts and subscribers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LotteryEvent {
    LotteryCreated {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        rules_hash: Hash,
    },
    RulesAmended {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        rules_hash: Hash,
    },
    BatchAppended {
        lottery_id: u64,
        batch_no: u32,
        count: u32,
        #[serde(with = "crate::serde_hex")]
        batch_root: Hash,
        entries_count: u64,
        #[serde(with = "crate::serde_hex")]
        entries_root: Hash,
    },
    StatusAppended {
        lottery_id: u64,
        first_batch_no: u32,
        batches: u32,
        excluded: u32,
    },
    StatusCommitted {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        status_root: Hash,
    },
    SeedSet {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        seed: Hash,
    },
    ResultsCommitted {
        lottery_id: u64,
        #[serde(with = "crate::serde_hex")]
        results_root: Hash,
        /// Winners over all pools.
        winners: u64,
    },
    Settled {
        lottery_id: u64,
        claimed: u32,
        disqualified: u32,
        forfeited: u32,
    },
}

/// What an applied op did: the lottery whose committed leaf changed, and the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub lottery_id: u64,
    pub event: LotteryEvent,
}

/// A change that passed every check ([`LotteryBook::check`]): the lottery's next record.
/// Commit it only to the book it was checked against, unchanged since.
#[derive(Clone, Debug)]
pub struct Change {
    lottery_id: u64,
    record: LotteryRecord,
    event: LotteryEvent,
}

/// Every lottery on the chain, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LotteryBook {
    lotteries: OrdMap<u64, LotteryRecord>,
}

impl LotteryBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `op` for `actor`, or refuses it and leaves the book exactly as it was.
    pub fn apply(
        &mut self,
        op: &LotteryOp,
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<Outcome> {
        let change = self.check(op, actor, ctx)?;
        Ok(self.commit(change))
    }

    /// Every check of `op` against the book, and the resulting record. Mutates nothing.
    pub fn check(&self, op: &LotteryOp, actor: &Actor, ctx: &LotteryCtx<'_>) -> Result<Change> {
        op.check_bounds()?;
        let lottery_id = op.lottery_id();
        let (record, event) = match (self.lotteries.get(&lottery_id), op) {
            (None, LotteryOp::CreateLottery { rules }) => intake::create(rules, actor, ctx)?,
            (None, _) => return Err(LotteryError::UnknownLottery(lottery_id)),
            (Some(current), _) => {
                let mut record = current.clone();
                let event = record.dispatch(op, actor, ctx)?;
                (record, event)
            }
        };
        Ok(Change {
            lottery_id,
            record,
            event,
        })
    }

    /// Installs a checked change. Cannot fail.
    pub fn commit(&mut self, change: Change) -> Outcome {
        self.lotteries.insert(change.lottery_id, change.record);
        Outcome {
            lottery_id: change.lottery_id,
            event: change.event,
        }
    }

    pub fn lottery(&self, lottery_id: u64) -> Option<&LotteryRecord> {
        self.lotteries.get(&lottery_id)
    }

    /// Every lottery, ascending id.
    pub fn lotteries(&self) -> impl Iterator<Item = (&u64, &LotteryRecord)> {
        self.lotteries.iter()
    }

    /// The draw of a seeded lottery, to run off the transaction path (see [`DrawJob`]).
    pub fn draw_job(&self, lottery_id: u64) -> Option<DrawJob> {
        DrawJob::of(self.lotteries.get(&lottery_id)?)
    }
}

impl LotteryRecord {
    /// Runs `op` on this record (a clone of the committed one).
    fn dispatch(
        &mut self,
        op: &LotteryOp,
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        match op {
            LotteryOp::CreateLottery { rules } => {
                Err(LotteryError::LotteryExists(rules.lottery_id()))
            }
            LotteryOp::AmendRules { rules } => self.amend(rules, actor, ctx),
            LotteryOp::AppendBatch {
                batch_no, entries, ..
            } => self.append_batch(*batch_no, entries, actor, ctx),
            LotteryOp::AppendStatus {
                first_batch_no,
                batches,
                exclusions,
                ..
            } => self.append_status(*first_batch_no, *batches, exclusions, actor, ctx),
            LotteryOp::CommitStatus {
                entries_count,
                entries_root,
                status_root,
                ..
            } => self.commit_status(*entries_count, entries_root, status_root, actor, ctx),
            LotteryOp::SubmitSeed {
                message, signature, ..
            } => self.submit_seed(message, signature, ctx),
            LotteryOp::CommitResults { results_root, .. } => self.commit_results(results_root, ctx),
            LotteryOp::Settle { items, .. } => self.settle(items, actor, ctx),
        }
    }
}

/// Refuses a signing key that is not one of the lottery's operator keys.
fn require_operator(record: &LotteryRecord, actor: &Actor) -> Result<()> {
    if record.rules.operator_keys.binary_search(&actor.key).is_ok() {
        Ok(())
    } else {
        Err(LotteryError::NotOperator {
            lottery_id: record.rules.lottery_id(),
        })
    }
}
