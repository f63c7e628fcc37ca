//! One lottery's record in the book, and its committed leaf.

use std::sync::Arc;

use imbl::{OrdSet, Vector};
use jiu_types::{sha256, Hash, PublicKey};
use serde::Serialize;

use super::frontier::Frontier;
use super::ops::Exclusion;
use crate::{Entry, EntryId, LotteryRules, Status};

/// Tag of a lottery's committed leaf: `SHA-256(0x00 || tag || LotteryRecord::leaf_bytes())`.
pub const BOOK_LEAF_TAG: &[u8] = b"mtl/book/v1";
/// Tag of the settlement hash chain.
pub const SETTLE_TAG: &[u8] = b"mtl/settle/v1";

/// Where a lottery is in its lifecycle. Only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Created; batches come in during the window, statuses after it.
    Collecting,
    /// The status root is committed; waiting for the seed.
    StatusCommitted,
    /// The seed is set; waiting for the results.
    Seeded,
    /// The results are committed; claims are settled.
    Drawn,
}

/// The stage with what block time says about the window, for clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before `open_at_ms`: the rules may still be amended.
    Scheduled,
    /// Entries are being received (`open_at_ms ..= close_at_ms`).
    Open,
    /// After the close, batches in flight are still accepted (until close + grace).
    Grace,
    /// Intake over; statuses are uploaded.
    Closed,
    StatusCommitted,
    Seeded,
    Drawn,
}

/// What the chain records of one accepted batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchHeader {
    pub batch_no: u32,
    pub count: u32,
    /// RFC 6962 root over the batch's leaf hashes in index order.
    #[serde(with = "crate::serde_hex")]
    pub root: Hash,
    pub first_received_ms: u64,
    pub last_received_ms: u64,
    /// Block time of the block that accepted it.
    pub appended_at_ms: u64,
    /// The operator key that signed the transaction.
    pub signer: PublicKey,
}

/// The status of one batch: its status root and its exclusions (index order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusBatch {
    pub root: Hash,
    pub exclusions: Arc<[Exclusion]>,
}

/// The seed and the signature it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeedRecord {
    #[serde(with = "crate::serde_hex::bytes")]
    pub signature: Vec<u8>,
    #[serde(with = "crate::serde_hex")]
    pub seed: Hash,
    pub at_ms: u64,
}

/// The state of one ranked position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlotState {
    /// Not settled.
    Pending,
    Claimed {
        #[serde(with = "crate::serde_hex")]
        order_hash: Hash,
        at_ms: u64,
    },
    Disqualified {
        #[serde(with = "crate::serde_hex")]
        reason_hash: Hash,
        at_ms: u64,
    },
    Forfeited {
        at_ms: u64,
    },
}

impl SlotState {
    /// When it was settled; `None` while pending.
    pub fn settled_at_ms(&self) -> Option<u64> {
        match self {
            SlotState::Pending => None,
            SlotState::Claimed { at_ms, .. }
            | SlotState::Disqualified { at_ms, .. }
            | SlotState::Forfeited { at_ms } => Some(*at_ms),
        }
    }

    /// Disqualified or forfeited: the position no longer holds a slot.
    pub fn released(&self) -> bool {
        matches!(
            self,
            SlotState::Disqualified { .. } | SlotState::Forfeited { .. }
        )
    }
}

/// One ranked position of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub id: EntryId,
    #[serde(with = "crate::serde_hex")]
    pub leaf_hash: Hash,
    pub state: SlotState,
}

/// A pool's ranked list (winners, then waitlist) and the state of each position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSlots {
    pub pool_id: u32,
    pub quota: u32,
    /// Positions in state `Claimed`, kept so a settlement need not count them.
    pub claimed: u32,
    pub slots: Vector<Slot>,
}

impl PoolSlots {
    /// Positions in state `Claimed`, counted.
    pub fn count_claimed(&self) -> u32 {
        let claimed = self
            .slots
            .iter()
            .filter(|slot| matches!(slot.state, SlotState::Claimed { .. }))
            .count();
        u32::try_from(claimed).expect("a pool ranks at most 2^33 entries")
    }
}

/// The committed draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Results {
    pub root: Hash,
    pub at_ms: u64,
    /// One per pool of the rules, in rules order.
    pub pools: Vector<PoolSlots>,
}

/// One lottery: its rules, the committed entry set, statuses, seed, results and claims.
///
/// The leaf data (entries and nullifiers) are held only while a later step needs them: the
/// nullifier set until the status commitment (no entry can arrive after it), the entries
/// until the results are committed (the draw is their last reader). The committed leaf
/// ([`LotteryRecord::leaf_bytes`]) covers them through the roots, and the finalized
/// AppendBatch transactions keep them for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotteryRecord {
    pub(super) rules: Arc<LotteryRules>,
    pub(super) rules_hash: Hash,
    pub(super) issuer: String,
    pub(super) batches: Vector<BatchHeader>,
    pub(super) entries_count: u64,
    /// Over the batch roots.
    pub(super) entries_tree: Frontier,
    /// Batch `b`'s entries at `b`, until the results are committed.
    pub(super) entries: Vector<Arc<[Entry]>>,
    /// Every entry's nullifier, until the status commitment.
    pub(super) nullifiers: OrdSet<Hash>,
    pub(super) status: Vector<StatusBatch>,
    /// Over the status batch roots.
    pub(super) status_tree: Frontier,
    pub(super) excluded_count: u64,
    pub(super) status_root: Option<Hash>,
    pub(super) seed: Option<SeedRecord>,
    pub(super) results: Option<Results>,
    pub(super) settlements: u64,
    /// `SHA-256(SETTLE_TAG || acc || settlement)` over every settlement, from all zeros.
    pub(super) settlements_acc: Hash,
}

impl LotteryRecord {
    pub(super) fn new(rules: LotteryRules, issuer: &str) -> Self {
        Self {
            rules_hash: rules.hash(),
            rules: Arc::new(rules),
            issuer: issuer.to_string(),
            batches: Vector::new(),
            entries_count: 0,
            entries_tree: Frontier::new(),
            entries: Vector::new(),
            nullifiers: OrdSet::new(),
            status: Vector::new(),
            status_tree: Frontier::new(),
            excluded_count: 0,
            status_root: None,
            seed: None,
            results: None,
            settlements: 0,
            settlements_acc: [0; 32],
        }
    }

    pub fn rules(&self) -> &LotteryRules {
        &self.rules
    }

    pub fn rules_hash(&self) -> Hash {
        self.rules_hash
    }

    /// The org that created the lottery (and alone may amend it before it opens).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Derived from what is set, so it cannot disagree with it.
    pub fn stage(&self) -> Stage {
        if self.results.is_some() {
            Stage::Drawn
        } else if self.seed.is_some() {
            Stage::Seeded
        } else if self.status_root.is_some() {
            Stage::StatusCommitted
        } else {
            Stage::Collecting
        }
    }

    /// The stage refined by block time.
    pub fn phase(&self, time_ms: u64) -> Phase {
        let draw = &self.rules.draw;
        match self.stage() {
            Stage::Collecting if time_ms < draw.open_at_ms => Phase::Scheduled,
            Stage::Collecting if time_ms <= draw.close_at_ms => Phase::Open,
            Stage::Collecting if time_ms <= self.rules.intake_end_ms() => Phase::Grace,
            Stage::Collecting => Phase::Closed,
            Stage::StatusCommitted => Phase::StatusCommitted,
            Stage::Seeded => Phase::Seeded,
            Stage::Drawn => Phase::Drawn,
        }
    }

    pub fn batches(&self) -> &Vector<BatchHeader> {
        &self.batches
    }

    pub fn entries_count(&self) -> u64 {
        self.entries_count
    }

    /// The RFC 6962 root over the batch roots so far; final once the intake ends.
    pub fn entries_root(&self) -> Hash {
        self.entries_tree.root()
    }

    /// Batches whose status has been uploaded (a prefix).
    pub fn status_batches(&self) -> u32 {
        u32::try_from(self.status.len()).expect("batches are numbered by u32")
    }

    /// Entries excluded by the uploaded statuses.
    pub fn excluded_count(&self) -> u64 {
        self.excluded_count
    }

    /// The RFC 6962 root over the uploaded status batch roots: what `CommitStatus` must
    /// state once every batch's status is uploaded.
    pub fn uploaded_status_root(&self) -> Hash {
        self.status_tree.root()
    }

    /// The committed status root, once committed.
    pub fn status_root(&self) -> Option<Hash> {
        self.status_root
    }

    pub fn seed(&self) -> Option<&SeedRecord> {
        self.seed.as_ref()
    }

    pub fn results_root(&self) -> Option<Hash> {
        self.results.as_ref().map(|r| r.root)
    }

    /// A pool's ranked positions and their states, once drawn.
    pub fn pool_slots(&self, pool_id: u32) -> Option<&PoolSlots> {
        let at = self.rules.draw.pool_position(pool_id)?;
        self.results.as_ref()?.pools.get(at)
    }

    pub fn settlements(&self) -> u64 {
        self.settlements
    }

    /// Whether the leaf data (entries) are still held (until the results are committed).
    pub fn holds_entries(&self) -> bool {
        self.results.is_none()
    }

    /// An accepted entry and its path to the entries root (the applicant's inclusion proof
    /// before the draw), while the entries are held. Hashes only the entry's batch.
    pub fn entry_proof(&self, id: crate::EntryId) -> Option<(Entry, crate::BatchedProof)> {
        let batch = self.entries.get(id.batch_no as usize)?;
        let entry = batch.get(id.index as usize)?.clone();
        let leaves: Vec<Hash> = batch.iter().map(Entry::leaf_hash).collect();
        let roots: Vec<Hash> = self.batches.iter().map(|b| b.root).collect();
        let proof = crate::BatchedProof {
            batch_len: u32::try_from(leaves.len()).ok()?,
            batch_root: *roots.get(id.batch_no as usize)?,
            batch_path: jiu_types::merkle::proof(&leaves, id.index as usize)?,
            batch_count: u32::try_from(roots.len()).ok()?,
            top_path: jiu_types::merkle::proof(&roots, id.batch_no as usize)?,
        };
        Some((entry, proof))
    }

    /// Every entry and its status decision so far, in canonical order, while the entries are
    /// held: what an auditor's re-run of [`crate::draw`] takes. Entries of batches whose
    /// status is not uploaded yet are listed as eligible.
    pub fn dataset(&self) -> Option<(Vec<Entry>, Vec<Status>)> {
        self.holds_entries()
            .then(|| dataset_of(&self.entries, &self.status))
    }

    /// The committed leaf: everything a validator must agree on about this lottery, fixed
    /// width, big-endian (absent values are zero):
    ///
    /// `lottery_id (8) || rules_hash (32) || stage (1: 0..3) || batches (4) ||
    /// entries_count (8) || entries_root (32) || status_batches (4) || excluded_count (8) ||
    /// status_tree_root (32) || seed (32) || results_root (32) || settlements (8) ||
    /// settlements_acc (32)`.
    ///
    /// The entries are covered by `entries_root`, the statuses by the status tree's root
    /// (the committed `status_root` once committed), the claims by the settlement chain.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(233);
        out.extend_from_slice(&self.rules.lottery_id().to_be_bytes());
        out.extend_from_slice(&self.rules_hash);
        out.push(self.stage() as u8);
        out.extend_from_slice(&(self.batches.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.entries_count.to_be_bytes());
        out.extend_from_slice(&self.entries_root());
        out.extend_from_slice(&self.status_batches().to_be_bytes());
        out.extend_from_slice(&self.excluded_count.to_be_bytes());
        out.extend_from_slice(&self.status_tree.root());
        out.extend_from_slice(&self.seed.as_ref().map_or([0; 32], |s| s.seed));
        out.extend_from_slice(&self.results_root().unwrap_or([0; 32]));
        out.extend_from_slice(&self.settlements.to_be_bytes());
        out.extend_from_slice(&self.settlements_acc);
        out
    }

    /// `SHA-256(0x00 || "mtl/book/v1" || leaf bytes)`.
    pub fn leaf_hash(&self) -> Hash {
        sha256(&[&[0x00], BOOK_LEAF_TAG, &self.leaf_bytes()])
    }
}

/// Entries and statuses in canonical order; a batch without uploaded status is all eligible.
pub(super) fn dataset_of(
    entries: &Vector<Arc<[Entry]>>,
    status: &Vector<StatusBatch>,
) -> (Vec<Entry>, Vec<Status>) {
    let (mut all, mut decisions) = (Vec::new(), Vec::new());
    for (b, batch) in entries.iter().enumerate() {
        let exclusions = status.get(b).map_or(&[][..], |s| &s.exclusions[..]);
        let mut next = exclusions.iter().peekable();
        for entry in batch.iter() {
            let leaf = entry.leaf_hash();
            decisions.push(match next.next_if(|x| x.index == entry.index) {
                Some(exclusion) => Status::excluded(leaf, exclusion.reason_hash),
                None => Status::eligible(leaf),
            });
            all.push(entry.clone());
        }
    }
    (all, decisions)
}

/// The fields of a committed lottery leaf ([`LotteryRecord::leaf_bytes`]), parsed back: what
/// a client holding only the proven leaf bytes knows about the lottery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeafFields {
    pub lottery_id: u64,
    #[serde(with = "crate::serde_hex")]
    pub rules_hash: Hash,
    pub stage: Stage,
    pub batches: u32,
    pub entries_count: u64,
    #[serde(with = "crate::serde_hex")]
    pub entries_root: Hash,
    pub status_batches: u32,
    pub excluded_count: u64,
    /// The committed status root once the stage is past `Collecting`.
    #[serde(with = "crate::serde_hex")]
    pub status_root: Hash,
    /// All zero before the seed.
    #[serde(with = "crate::serde_hex")]
    pub seed: Hash,
    /// All zero before the results.
    #[serde(with = "crate::serde_hex")]
    pub results_root: Hash,
    pub settlements: u64,
    #[serde(with = "crate::serde_hex")]
    pub settlements_acc: Hash,
}

/// Length of [`LotteryRecord::leaf_bytes`].
pub const BOOK_LEAF_BYTES: usize = 8 + 32 + 1 + 4 + 8 + 32 + 4 + 8 + 32 + 32 + 32 + 8 + 32;

impl LeafFields {
    /// Parses leaf bytes; `None` for a wrong length or an unknown stage. Never panics.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != BOOK_LEAF_BYTES {
            return None;
        }
        let mut at = 0;
        let mut take = |n: usize| {
            let part = &bytes[at..at + n];
            at += n;
            part
        };
        let u64_of = |b: &[u8]| u64::from_be_bytes(b.try_into().unwrap_or_default());
        let u32_of = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap_or_default());
        let hash_of = |b: &[u8]| -> Hash { b.try_into().unwrap_or_default() };
        let lottery_id = u64_of(take(8));
        let rules_hash = hash_of(take(32));
        let stage = match take(1)[0] {
            0 => Stage::Collecting,
            1 => Stage::StatusCommitted,
            2 => Stage::Seeded,
            3 => Stage::Drawn,
            _ => return None,
        };
        Some(Self {
            lottery_id,
            rules_hash,
            stage,
            batches: u32_of(take(4)),
            entries_count: u64_of(take(8)),
            entries_root: hash_of(take(32)),
            status_batches: u32_of(take(4)),
            excluded_count: u64_of(take(8)),
            status_root: hash_of(take(32)),
            seed: hash_of(take(32)),
            results_root: hash_of(take(32)),
            settlements: u64_of(take(8)),
            settlements_acc: hash_of(take(32)),
        })
    }
}

#[cfg(test)]
mod leaf_tests {
    use super::*;

    #[test]
    fn test_leaf_fields_parse_every_field_back() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&7u64.to_be_bytes());
        bytes.extend_from_slice(&[1; 32]);
        bytes.push(2);
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(&40u64.to_be_bytes());
        bytes.extend_from_slice(&[5; 32]);
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(&6u64.to_be_bytes());
        bytes.extend_from_slice(&[7; 32]);
        bytes.extend_from_slice(&[8; 32]);
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&9u64.to_be_bytes());
        bytes.extend_from_slice(&[10; 32]);
        let fields = LeafFields::parse(&bytes).expect("well formed");
        assert_eq!(fields.lottery_id, 7);
        assert_eq!(fields.stage, Stage::Seeded);
        assert_eq!(fields.entries_count, 40);
        assert_eq!(fields.entries_root, [5; 32]);
        assert_eq!(fields.excluded_count, 6);
        assert_eq!(fields.status_root, [7; 32]);
        assert_eq!(fields.seed, [8; 32]);
        assert_eq!(fields.settlements, 9);
        assert_eq!(fields.settlements_acc, [10; 32]);
        assert!(LeafFields::parse(&bytes[1..]).is_none());
        bytes[40] = 4;
        assert!(
            LeafFields::parse(&bytes).is_none(),
            "stage 4 does not exist"
        );
    }
}
