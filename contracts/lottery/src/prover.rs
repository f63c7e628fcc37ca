//! Builds applicant bundles from the full dataset, as an RPC node or an auditor would.

use jiu_types::{merkle, Hash};

use crate::bundle::{ApplicantBundle, Commitments, ListedEntry, PoolProof};
use crate::tree::{self, BatchedTree, Layout};
use crate::{DrawError, DrawResult, Entry, EntryId, Status};

/// The trees of one drawn lottery, kept to serve proofs. Building it hashes every entry and
/// status once; each bundle after that costs a few proofs plus the pool's ranked list. It
/// owns its dataset, so a node can keep one per drawn lottery.
pub struct Prover {
    entries: Vec<Entry>,
    status: Vec<Status>,
    result: DrawResult,
    commitments: Commitments,
    layout: Layout,
    entry_tree: BatchedTree,
    status_tree: BatchedTree,
    pool_leaves: Vec<Hash>,
}

impl Prover {
    /// `status[i]` is the decision on `entries[i]`; `result` is the finalized draw over them.
    pub fn new(
        entries: Vec<Entry>,
        status: Vec<Status>,
        seed: Hash,
        result: DrawResult,
    ) -> Result<Self, DrawError> {
        let layout = Layout::new(&entries)?;
        let entry_tree = tree::entry_tree_with(&entries, &layout);
        let status_tree = tree::status_tree_with(&entries, &status, &layout)?;
        let pool_leaves = crate::result::pool_leaf_hashes(result.lottery_id, &result.pools);
        let commitments = Commitments {
            lottery_id: result.lottery_id,
            entries_root: entry_tree.root(),
            status_root: status_tree.root(),
            seed,
            results_root: merkle::root(&pool_leaves),
        };
        Ok(Self {
            entries,
            status,
            result,
            commitments,
            layout,
            entry_tree,
            status_tree,
            pool_leaves,
        })
    }

    /// The roots and seed the bundles are built against.
    pub fn commitments(&self) -> &Commitments {
        &self.commitments
    }

    /// The bundle for the entry at `id`, or `None` if there is no such entry or its pool is
    /// not in the result.
    pub fn bundle(&self, id: EntryId) -> Option<ApplicantBundle> {
        let entry = self.entry(id)?;
        let slot = self.layout.slot(id)?;
        let status = self.status[self.layout.order[slot] as usize].clone();
        let (position, pool) = self.result.pool(entry.pool_id)?;
        let ranked = pool
            .ranked()
            .map(|r| {
                Some(ListedEntry {
                    tier: r.tier,
                    score: r.score,
                    entry: self.entry(r.id)?.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ApplicantBundle {
            commitments: self.commitments.clone(),
            entry: entry.clone(),
            entry_proof: self.entry_tree.proof(id)?,
            status,
            status_proof: self.status_tree.proof(id)?,
            pool: pool.summary(self.result.lottery_id),
            pool_proof: PoolProof {
                position: u32::try_from(position).ok()?,
                pool_count: u32::try_from(self.pool_leaves.len()).ok()?,
                path: merkle::proof(&self.pool_leaves, position)?,
            },
            ranked,
        })
    }

    /// The draw the bundles prove.
    pub fn result(&self) -> &DrawResult {
        &self.result
    }

    /// Every entry, in canonical order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every status decision, `status()[i]` for `entries()[i]`.
    pub fn status(&self) -> &[Status] {
        &self.status
    }

    fn entry(&self, id: EntryId) -> Option<&Entry> {
        let slot = self.layout.slot(id)?;
        Some(&self.entries[self.layout.order[slot] as usize])
    }
}
