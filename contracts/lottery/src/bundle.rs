//! The applicant's proof bundle (design 6.6, pieces 1, 2 and 5) and its verifier.
//!
//! The bundle proves, against four committed values (entries root, status root, seed,
//! results root), what the committed draw says about one entry, and recomputes from the seed
//! every ranked entry of its pool. It holds:
//! - the applicant's entry and its path to the entries root; its status and its path, at the
//!   same position, to the status root;
//! - the pool's result leaf and its path to the results root;
//! - the pool's whole ranked list (winners, then waitlist) as committed (tier, score, leaf
//!   hash), each with its 95-byte leaf preimage.
//!
//! Why the whole list and nothing less: "not a winner" (and "not waitlisted") is a claim
//! about every listed entry; with only the cut-off, a wrong entry listed above the applicant
//! would go unseen. The preimages let the verifier recompute each listed entry's tier,
//! weight, pool and score itself, so a wrong score, tier, pool or order in the committed
//! result is caught and named. Not included: other entries' inclusion proofs. Under the
//! chain's assumption (fewer than n - f faulty validators) the results root was re-derived
//! by a quorum from the committed entries; an RPC can serve a listed entry's proofs
//! ([`crate::Prover::bundle`] of that entry) to anyone who wants to check further.
//! Size: about 1.6 KB plus 128 bytes per ranked entry (plus the chain's certificates).
//!
//! The caller still has to: check `commitments` against finalized chain records (and the
//! seed against the threshold signature), and check `entry.commitment` against the app's
//! salt with [`crate::applicant_commitment`].

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::{merkle, Hash};
use serde::{Deserialize, Serialize};

use crate::result::{ranked_hash, ranked_item};
use crate::tree::BatchedProof;
use crate::{Entry, PoolSummary, Status};

/// The committed values a bundle is checked against, read from finalized chain records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Commitments {
    pub lottery_id: u64,
    #[serde(with = "crate::serde_hex")]
    pub entries_root: Hash,
    #[serde(with = "crate::serde_hex")]
    pub status_root: Hash,
    #[serde(with = "crate::serde_hex")]
    pub seed: Hash,
    #[serde(with = "crate::serde_hex")]
    pub results_root: Hash,
}

/// A pool leaf's path in the results tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct PoolProof {
    /// The pool's position among the rules' pools.
    pub position: u32,
    pub pool_count: u32,
    #[serde(with = "crate::serde_hex::list")]
    pub path: Vec<Hash>,
}

/// One item of a committed ranked list with the preimage of its leaf. The item's leaf hash
/// is not carried: it is the preimage's hash (a preimage determines it, and the list's hash
/// check fails for any other), which keeps a 30-item list 960 bytes smaller. Tier and score
/// are carried as committed, so a wrong one in the committed list is provable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct ListedEntry {
    pub tier: u8,
    #[serde(with = "crate::serde_hex")]
    pub score: Hash,
    pub entry: Entry,
}

impl ListedEntry {
    /// The item's leaf hash: its preimage's.
    pub fn leaf_hash(&self) -> Hash {
        self.entry.leaf_hash()
    }
}

/// Everything one applicant needs to check their outcome offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct ApplicantBundle {
    pub commitments: Commitments,
    pub entry: Entry,
    pub entry_proof: BatchedProof,
    pub status: Status,
    pub status_proof: BatchedProof,
    pub pool: PoolSummary,
    pub pool_proof: PoolProof,
    /// Winners then waitlist, best first.
    pub ranked: Vec<ListedEntry>,
}

/// The outcome for the applicant. Ranks start at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Winner {
        rank: u32,
    },
    Waitlisted {
        rank: u32,
    },
    /// Eligible, ranked after the whole list.
    NotWinner,
    /// Excluded before the seed existed, for this reason.
    Ineligible {
        reason_hash: Hash,
    },
    Fraud(FraudReason),
}

/// Why a bundle does not support an outcome. Ranks start at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FraudReason {
    #[error("the entry is for another lottery")]
    EntryForOtherLottery,
    #[error("the entry is not in the entries root")]
    EntryNotInEntriesRoot,
    #[error("the status is about another entry")]
    StatusForOtherEntry,
    #[error("the status proof is for a differently shaped tree than the entry proof")]
    StatusProofShapeMismatch,
    #[error("the status is not in the status root at the entry's position")]
    StatusNotInStatusRoot,
    #[error("the committed status is malformed")]
    MalformedStatus,
    #[error("the committed entry has weight 0")]
    EntryWithoutTickets,
    #[error("the pool result is for another lottery or pool")]
    PoolResultForOtherPool,
    #[error("the pool result is not in the results root")]
    PoolResultNotInResultsRoot,
    #[error("the ranked list does not hash to the pool result")]
    RankedListNotCommitted,
    #[error("listed entry {rank} belongs to another lottery or pool")]
    ListedFromOtherPool { rank: u32 },
    #[error("listed entry {rank} is committed with a tier its leaf does not have")]
    ListedTierWrong { rank: u32 },
    #[error("listed entry {rank} is committed with a score the seed does not give")]
    ListedScoreWrong { rank: u32 },
    #[error("listed entry {rank} is not ranked after entry {}", rank - 1)]
    ListNotSorted { rank: u32 },
    #[error("the pool result counts more eligible entries than entries")]
    EligibleCountExceedsEntries,
    #[error("the ranked list has {got} entries, the pool's counts say {expected}")]
    ListLengthWrong { expected: u64, got: u64 },
    #[error("the applicant's excluded entry is ranked {rank}")]
    IneligibleEntryRanked { rank: u32 },
    #[error("the applicant's eligible entry is missing although the pool list is not full")]
    OmittedFromUnfilledPool,
    #[error("the applicant's eligible entry ranks above the last listed entry but is missing")]
    OmittedAboveCutoff,
}

impl FraudReason {
    /// True when, provided the bundle's [`Commitments`] are the finalized ones, the bundle is
    /// evidence that the committed data or draw is wrong (to hand to the notary). False when
    /// the bundle merely fails to prove anything, as a broken or forged RPC answer does.
    pub fn proves_wrong_draw(&self) -> bool {
        use FraudReason::*;
        !matches!(
            self,
            EntryForOtherLottery
                | EntryNotInEntriesRoot
                | StatusForOtherEntry
                | StatusProofShapeMismatch
                | StatusNotInStatusRoot
                | PoolResultForOtherPool
                | PoolResultNotInResultsRoot
                | RankedListNotCommitted
        )
    }
}

/// Checks `bundle` and returns the applicant's outcome. Uses the bundle alone; see the
/// module documentation for what the caller must check besides.
pub fn verify_applicant(bundle: &ApplicantBundle) -> Verdict {
    match verify(bundle) {
        Ok(verdict) => verdict,
        Err(reason) => Verdict::Fraud(reason),
    }
}

fn verify(bundle: &ApplicantBundle) -> Result<Verdict, FraudReason> {
    let own_leaf = check_inclusion(bundle)?;
    check_list(bundle)?;
    let pool = &bundle.pool;
    let listed_at = bundle.ranked.iter().position(|l| l.leaf_hash() == own_leaf);
    if !bundle.status.eligible {
        return match listed_at {
            Some(at) => Err(FraudReason::IneligibleEntryRanked { rank: rank(at) }),
            None => Ok(Verdict::Ineligible {
                reason_hash: bundle.status.reason_hash,
            }),
        };
    }
    if let Some(at) = listed_at {
        let winners = pool.winners_count() as usize;
        return Ok(if at < winners {
            Verdict::Winner { rank: rank(at) }
        } else {
            Verdict::Waitlisted {
                rank: rank(at - winners),
            }
        });
    }
    // Eligible and not listed: the list must be full and end above the applicant.
    if (bundle.ranked.len() as u64) < pool.ranked_max() {
        return Err(FraudReason::OmittedFromUnfilledPool);
    }
    let c = &bundle.commitments;
    let entry = &bundle.entry;
    let own_score = entry
        .score(&c.seed, &own_leaf)
        .ok_or(FraudReason::EntryWithoutTickets)?;
    if let Some(last) = bundle.ranked.last() {
        if (entry.tier, own_score, own_leaf) < (last.tier, last.score, last.leaf_hash()) {
            return Err(FraudReason::OmittedAboveCutoff);
        }
    }
    Ok(Verdict::NotWinner)
}

/// Checks the entry, its status and the pool result against the roots; returns the leaf hash.
fn check_inclusion(bundle: &ApplicantBundle) -> Result<Hash, FraudReason> {
    let (c, entry, status) = (&bundle.commitments, &bundle.entry, &bundle.status);
    if entry.lottery_id != c.lottery_id {
        return Err(FraudReason::EntryForOtherLottery);
    }
    let leaf = entry.leaf_hash();
    if !bundle.entry_proof.verify(leaf, entry.id(), &c.entries_root) {
        return Err(FraudReason::EntryNotInEntriesRoot);
    }
    if status.leaf_hash != leaf {
        return Err(FraudReason::StatusForOtherEntry);
    }
    if !bundle.status_proof.same_shape(&bundle.entry_proof) {
        return Err(FraudReason::StatusProofShapeMismatch);
    }
    if !bundle
        .status_proof
        .verify(status.hash(), entry.id(), &c.status_root)
    {
        return Err(FraudReason::StatusNotInStatusRoot);
    }
    if !status.is_well_formed() {
        return Err(FraudReason::MalformedStatus);
    }
    let pool = &bundle.pool;
    if pool.lottery_id != c.lottery_id || pool.pool_id != entry.pool_id {
        return Err(FraudReason::PoolResultForOtherPool);
    }
    let proof = &bundle.pool_proof;
    if !merkle::verify(
        pool.leaf_hash(),
        proof.position as usize,
        proof.pool_count as usize,
        &proof.path,
        c.results_root,
    ) {
        return Err(FraudReason::PoolResultNotInResultsRoot);
    }
    Ok(leaf)
}

/// Checks the ranked list is the committed one and recomputes every item from the seed.
fn check_list(bundle: &ApplicantBundle) -> Result<(), FraudReason> {
    let (c, pool) = (&bundle.commitments, &bundle.pool);
    let leaves: Vec<Hash> = bundle.ranked.iter().map(ListedEntry::leaf_hash).collect();
    let committed = ranked_hash(
        bundle
            .ranked
            .iter()
            .zip(&leaves)
            .map(|(l, leaf)| ranked_item(l.tier, &l.score, leaf)),
    );
    if committed != pool.ranked_hash {
        return Err(FraudReason::RankedListNotCommitted);
    }
    for (at, (listed, leaf)) in bundle.ranked.iter().zip(&leaves).enumerate() {
        let rank = rank(at);
        let entry = &listed.entry;
        if entry.lottery_id != c.lottery_id || entry.pool_id != pool.pool_id {
            return Err(FraudReason::ListedFromOtherPool { rank });
        }
        if entry.tier != listed.tier {
            return Err(FraudReason::ListedTierWrong { rank });
        }
        if entry.score(&c.seed, leaf) != Some(listed.score) {
            return Err(FraudReason::ListedScoreWrong { rank });
        }
        if let Some(b) = at.checked_sub(1) {
            let before = (bundle.ranked[b].tier, bundle.ranked[b].score, leaves[b]);
            if before >= (listed.tier, listed.score, *leaf) {
                return Err(FraudReason::ListNotSorted { rank });
            }
        }
    }
    if pool.eligible_count > pool.entries_count {
        return Err(FraudReason::EligibleCountExceedsEntries);
    }
    let (expected, got) = (pool.ranked_count(), bundle.ranked.len() as u64);
    if expected != got {
        return Err(FraudReason::ListLengthWrong { expected, got });
    }
    Ok(())
}

/// 1-based rank of list position `at`.
fn rank(at: usize) -> u32 {
    u32::try_from(at + 1).unwrap_or(u32::MAX)
}
