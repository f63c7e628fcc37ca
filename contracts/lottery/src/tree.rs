//! The entries tree and the status tree: two-level RFC 6962 trees in (batch, index) order.
//!
//! The operator appends batches during the window and the chain records each batch's root
//! (design 6.3 step 3); at close `entries_root = MTH(batch roots)` is computed from those
//! records alone, without the leaf data. A leaf's proof is therefore its path inside its batch
//! plus the batch root's path in the top tree. The status tree has exactly the same shape
//! over the status leaves, so an entry and its status sit at the same (batch, index) and
//! both proofs have the same batch sizes.
//!
//! Batches are numbered 0, 1, 2, ... with no gap and none empty; inside batch `b` the indexes
//! are exactly `0..count(b)`. `Layout` checks that once, in O(n), and gives the canonical
//! order of any permutation of the entries.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::{merkle, Hash};
use serde::{Deserialize, Serialize};

use crate::rules::ENTRIES_MAX;
use crate::{par, DrawError, Entry, EntryId, Status};

/// The canonical order of a set of entries and its batch boundaries.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// `order[slot]` is the input position of the entry at canonical position `slot`.
    pub(crate) order: Vec<u32>,
    /// `batch_starts[b]` is the slot of batch `b`'s first entry; the last element is `n`.
    pub(crate) batch_starts: Vec<usize>,
}

impl Layout {
    /// Checks the batch numbering and indexes of `entries` (any order) and sorts them.
    pub(crate) fn new(entries: &[Entry]) -> Result<Self, DrawError> {
        let n = entries.len();
        if n > ENTRIES_MAX {
            return Err(DrawError::TooManyEntries {
                entries: n,
                max: ENTRIES_MAX,
            });
        }
        let counts = batch_counts(entries)?;
        let mut batch_starts = Vec::with_capacity(counts.len() + 1);
        let mut start = 0usize;
        for count in &counts {
            batch_starts.push(start);
            start += *count as usize;
        }
        batch_starts.push(start);

        // Each entry claims slot start(batch) + index. With n entries and n slots, no
        // collision and no index past its batch's count means every slot is filled once.
        let mut order = vec![u32::MAX; n];
        for (pos, entry) in entries.iter().enumerate() {
            let batch = entry.batch_no as usize;
            if entry.index >= counts[batch] {
                return Err(DrawError::IndexGap {
                    batch_no: entry.batch_no,
                    count: counts[batch],
                });
            }
            let slot = &mut order[batch_starts[batch] + entry.index as usize];
            if *slot != u32::MAX {
                return Err(DrawError::DuplicateEntry(entry.id()));
            }
            *slot = u32::try_from(pos).expect("ENTRIES_MAX fits in u32");
        }
        Ok(Self {
            order,
            batch_starts,
        })
    }

    /// The canonical position of `id`, if the layout has it.
    pub(crate) fn slot(&self, id: EntryId) -> Option<usize> {
        let batch = id.batch_no as usize;
        let start = *self.batch_starts.get(batch)?;
        let end = *self.batch_starts.get(batch + 1)?;
        let slot = start + id.index as usize;
        (slot < end).then_some(slot)
    }
}

/// Entries per batch; every batch from 0 to the largest number must be non-empty.
fn batch_counts(entries: &[Entry]) -> Result<Vec<u32>, DrawError> {
    let Some(max) = entries.iter().map(|e| e.batch_no).max() else {
        return Ok(Vec::new());
    };
    // n entries fill at most n batches, so a number >= n means a lower batch is empty; count
    // only the possible ones and report the first empty.
    let batches = (max as usize + 1).min(entries.len());
    let mut counts = vec![0u32; batches];
    for entry in entries {
        if let Some(count) = counts.get_mut(entry.batch_no as usize) {
            *count += 1;
        }
    }
    if let Some(empty) = counts.iter().position(|count| *count == 0) {
        return Err(DrawError::BatchMissing {
            batch_no: u32::try_from(empty).expect("batch numbers are u32"),
        });
    }
    Ok(counts)
}

/// A two-level tree over leaf hashes in canonical order, kept whole for serving proofs.
#[derive(Clone, Debug)]
pub struct BatchedTree {
    leaf_hashes: Vec<Hash>,
    batch_starts: Vec<usize>,
    batch_roots: Vec<Hash>,
    root: Hash,
}

impl BatchedTree {
    /// Builds the tree over `leaf_hashes` (canonical order) cut at `layout`'s batches.
    pub(crate) fn new(leaf_hashes: Vec<Hash>, layout: &Layout) -> Self {
        assert_eq!(
            leaf_hashes.len(),
            layout.order.len(),
            "one leaf per entry of the layout"
        );
        let batch_starts = layout.batch_starts.clone();
        let mut batch_roots = vec![[0; 32]; batch_starts.len() - 1];
        par::map_into(&mut batch_roots, par::threads_for(leaf_hashes.len()), |b| {
            merkle::root(&leaf_hashes[batch_starts[b]..batch_starts[b + 1]])
        });
        let root = merkle::root(&batch_roots);
        Self {
            leaf_hashes,
            batch_starts,
            batch_roots,
            root,
        }
    }

    /// The root the chain records (`entries_root` or `status_root`).
    pub fn root(&self) -> Hash {
        self.root
    }

    /// Each batch's root, as the batch headers record them.
    pub fn batch_roots(&self) -> &[Hash] {
        &self.batch_roots
    }

    /// Leaf hashes in canonical order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.leaf_hashes
    }

    /// The inclusion proof of the leaf at `id`, or `None` if there is no such leaf.
    pub fn proof(&self, id: EntryId) -> Option<BatchedProof> {
        let batch = id.batch_no as usize;
        let leaves =
            &self.leaf_hashes[*self.batch_starts.get(batch)?..*self.batch_starts.get(batch + 1)?];
        Some(BatchedProof {
            batch_len: u32::try_from(leaves.len()).ok()?,
            batch_root: self.batch_roots[batch],
            batch_path: merkle::proof(leaves, id.index as usize)?,
            batch_count: u32::try_from(self.batch_roots.len()).ok()?,
            top_path: merkle::proof(&self.batch_roots, batch)?,
        })
    }
}

/// A leaf's path to a [`BatchedTree`] root: inside its batch, then among the batches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct BatchedProof {
    /// Leaves in the leaf's batch.
    pub batch_len: u32,
    /// The batch's root, as its batch header on chain records it.
    #[serde(with = "crate::serde_hex")]
    pub batch_root: Hash,
    #[serde(with = "crate::serde_hex::list")]
    pub batch_path: Vec<Hash>,
    /// Batches in the lottery.
    pub batch_count: u32,
    #[serde(with = "crate::serde_hex::list")]
    pub top_path: Vec<Hash>,
}

impl BatchedProof {
    /// True if `leaf_hash` is the leaf at `id` under `root`.
    pub fn verify(&self, leaf_hash: Hash, id: EntryId, root: &Hash) -> bool {
        merkle::verify(
            leaf_hash,
            id.index as usize,
            self.batch_len as usize,
            &self.batch_path,
            self.batch_root,
        ) && merkle::verify(
            self.batch_root,
            id.batch_no as usize,
            self.batch_count as usize,
            &self.top_path,
            *root,
        )
    }

    /// Same batch sizes, so two proofs describe the same position in same-shaped trees.
    pub fn same_shape(&self, other: &BatchedProof) -> bool {
        self.batch_len == other.batch_len && self.batch_count == other.batch_count
    }
}

/// The entries tree of `entries` (any order).
pub fn entry_tree(entries: &[Entry]) -> Result<BatchedTree, DrawError> {
    let layout = Layout::new(entries)?;
    Ok(entry_tree_with(entries, &layout))
}

pub(crate) fn entry_tree_with(entries: &[Entry], layout: &Layout) -> BatchedTree {
    let mut leaves = vec![[0; 32]; entries.len()];
    par::map_into(&mut leaves, par::threads_for(entries.len()), |slot| {
        entries[layout.order[slot] as usize].leaf_hash()
    });
    BatchedTree::new(leaves, layout)
}

/// The status tree; `status[i]` is the decision on `entries[i]` (both in any order). Refuses a
/// status about another entry or a malformed one, as validators refuse such a StatusCommit.
pub fn status_tree(entries: &[Entry], status: &[Status]) -> Result<BatchedTree, DrawError> {
    let layout = Layout::new(entries)?;
    status_tree_with(entries, status, &layout)
}

pub(crate) fn status_tree_with(
    entries: &[Entry],
    status: &[Status],
    layout: &Layout,
) -> Result<BatchedTree, DrawError> {
    if entries.len() != status.len() {
        return Err(DrawError::StatusCountMismatch {
            entries: entries.len(),
            status: status.len(),
        });
    }
    for (entry, decision) in entries.iter().zip(status) {
        if decision.leaf_hash != entry.leaf_hash() {
            return Err(DrawError::StatusForOtherEntry(entry.id()));
        }
        if !decision.is_well_formed() {
            return Err(DrawError::MalformedStatus(entry.id()));
        }
    }
    let mut leaves = vec![[0; 32]; status.len()];
    par::map_into(&mut leaves, par::threads_for(status.len()), |slot| {
        status[layout.order[slot] as usize].hash()
    });
    Ok(BatchedTree::new(leaves, layout))
}

/// `entries_root`: the root over the batch roots of `entries` (any order).
pub fn entries_root(entries: &[Entry]) -> Result<Hash, DrawError> {
    entry_tree(entries).map(|tree| tree.root())
}

/// `status_root`: same shape as the entries tree, over the status leaves.
pub fn status_root(entries: &[Entry], status: &[Status]) -> Result<Hash, DrawError> {
    status_tree(entries, status).map(|tree| tree.root())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiu_types::sha256;

    fn entry(batch_no: u32, index: u32) -> Entry {
        Entry {
            lottery_id: 1,
            pool_id: 1,
            batch_no,
            index,
            nullifier: sha256(&[&batch_no.to_be_bytes(), &index.to_be_bytes()]),
            commitment: [0; 32],
            received_at_ms: 0,
            tier: 0,
            weight: 1,
        }
    }

    fn entries(batch_lens: &[u32]) -> Vec<Entry> {
        let mut out = Vec::new();
        for (b, len) in batch_lens.iter().enumerate() {
            out.extend((0..*len).map(|i| entry(b as u32, i)));
        }
        out
    }

    #[test]
    fn test_root_is_merkle_root_over_batch_roots() {
        let all = entries(&[3, 1, 5]);
        let leaves: Vec<Hash> = all.iter().map(Entry::leaf_hash).collect();
        let batch_roots = [
            merkle::root(&leaves[0..3]),
            merkle::root(&leaves[3..4]),
            merkle::root(&leaves[4..9]),
        ];
        let tree = entry_tree(&all).expect("valid layout");
        assert_eq!(tree.batch_roots(), batch_roots);
        assert_eq!(tree.root(), merkle::root(&batch_roots));
        assert_eq!(entries_root(&[]), Ok(sha256(&[])));
    }

    #[test]
    fn test_every_leaf_proof_verifies_at_its_position_only() {
        let mut all = entries(&[3, 1, 5, 8]);
        all.reverse();
        let tree = entry_tree(&all).expect("valid layout");
        for e in &all {
            let proof = tree.proof(e.id()).expect("leaf exists");
            assert!(proof.verify(e.leaf_hash(), e.id(), &tree.root()));
            let elsewhere = EntryId {
                batch_no: e.batch_no,
                index: (e.index + 1) % proof.batch_len.max(2),
            };
            if elsewhere != e.id() {
                assert!(!proof.verify(e.leaf_hash(), elsewhere, &tree.root()));
            }
        }
        assert_eq!(
            tree.proof(EntryId {
                batch_no: 1,
                index: 1
            }),
            None
        );
        assert_eq!(
            tree.proof(EntryId {
                batch_no: 4,
                index: 0
            }),
            None
        );
    }

    #[test]
    fn test_layout_refuses_gaps_duplicates_and_missing_batches() {
        let mut gap = entries(&[3, 2]);
        gap[1].index = 7;
        assert_eq!(
            entries_root(&gap),
            Err(DrawError::IndexGap {
                batch_no: 0,
                count: 3
            })
        );
        let mut duplicate = entries(&[3, 2]);
        duplicate[1].index = 2;
        assert_eq!(
            entries_root(&duplicate),
            Err(DrawError::DuplicateEntry(EntryId {
                batch_no: 0,
                index: 2
            }))
        );
        let mut missing = entries(&[3, 2]);
        missing[3].batch_no = 2;
        missing[4].batch_no = 2;
        assert_eq!(
            entries_root(&missing),
            Err(DrawError::BatchMissing { batch_no: 1 })
        );
        let mut far = entries(&[2]);
        far[1].batch_no = u32::MAX;
        assert_eq!(
            entries_root(&far),
            Err(DrawError::BatchMissing { batch_no: 1 })
        );
        let mut beyond = entries(&[1, 1]);
        beyond[1].batch_no = 2;
        assert_eq!(
            entries_root(&beyond),
            Err(DrawError::BatchMissing { batch_no: 1 })
        );
    }

    #[test]
    fn test_status_tree_has_entry_shape_and_checks_each_record() {
        let all = entries(&[2, 3]);
        let status: Vec<Status> = all
            .iter()
            .map(|e| Status::eligible(e.leaf_hash()))
            .collect();
        let tree = status_tree(&all, &status).expect("valid status");
        let entry_proof = entry_tree(&all)
            .expect("valid")
            .proof(all[3].id())
            .expect("exists");
        let status_proof = tree.proof(all[3].id()).expect("exists");
        assert!(entry_proof.same_shape(&status_proof));
        assert!(status_proof.verify(status[3].hash(), all[3].id(), &tree.root()));

        let mut other = status.clone();
        other.swap(0, 1);
        assert_eq!(
            status_root(&all, &other),
            Err(DrawError::StatusForOtherEntry(all[0].id()))
        );
        let mut malformed = status.clone();
        malformed[2].eligible = false;
        assert_eq!(
            status_root(&all, &malformed),
            Err(DrawError::MalformedStatus(all[2].id()))
        );
        assert_eq!(
            status_root(&all, &status[1..]),
            Err(DrawError::StatusCountMismatch {
                entries: 5,
                status: 4
            })
        );
    }
}
