//! The RFC 6962 root of a growing list of leaf hashes, without keeping the list.
//!
//! An RFC 6962 tree over `n` leaves is its perfect subtrees for the set bits of `n`, largest
//! first, joined right to left: `root = node(p_1, node(p_2, ... node(p_{k-1}, p_k)))`. The
//! frontier keeps those subtree roots (at most 64), so appending a leaf and reading the root
//! cost O(log n) hashes, where recomputing the root over all batch roots at every batch would
//! cost O(n). Equal to [`jiu_types::merkle::root`] over the same leaves (tested).

use jiu_types::{sha256, Hash};

/// The perfect-subtree roots of a list of `len` leaf hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frontier {
    len: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first: one per set bit of `len`.
    peaks: Vec<Hash>,
}

impl Frontier {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends one leaf hash: merges equal-size subtrees, as a binary counter carries.
    pub(crate) fn push(&mut self, leaf_hash: Hash) {
        let mut node = leaf_hash;
        let mut carry = self.len;
        while carry & 1 == 1 {
            let left = self.peaks.pop().expect("a set bit of len has its subtree");
            node = node_hash(&left, &node);
            carry >>= 1;
        }
        self.peaks.push(node);
        self.len += 1;
    }

    /// The RFC 6962 root of the leaves so far; `SHA-256("")` when empty.
    pub(crate) fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return sha256(&[]);
        };
        peaks.fold(*last, |right, left| node_hash(left, &right))
    }
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiu_types::merkle;

    #[test]
    fn test_root_equals_the_rfc6962_root_at_every_length() {
        let leaves: Vec<Hash> = (0u32..130).map(|i| sha256(&[&i.to_be_bytes()])).collect();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), merkle::root(&[]));
        for (i, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf);
            assert_eq!(frontier.len(), i as u64 + 1);
            assert_eq!(
                frontier.root(),
                merkle::root(&leaves[..=i]),
                "{} leaves",
                i + 1
            );
            assert_eq!(frontier.peaks.len(), (i + 1).count_ones() as usize);
        }
    }
}
