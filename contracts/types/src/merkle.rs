//! RFC 6962 (Certificate Transparency) Merkle tree over SHA-256.
//!
//! - leaf hash: `sha256(0x00 || data)`; interior node: `sha256(0x01 || left || right)`. The
//!   distinct prefixes stop a node from being passed off as a leaf (second-preimage attack).
//! - a tree of `n > 1` leaves splits at `k`, the largest power of two smaller than `n`; the
//!   left subtree is always perfect. The root of the empty tree is `sha256("")`.
//! - an inclusion proof lists sibling hashes from the leaf up (RFC 6962 `PATH`), and is
//!   verified with the RFC 9162 section 2.1.3.2 algorithm, which also binds the tree size.
//!
//! Using the standard (and not a home-made tree) lets anyone check a jiu state proof with any
//! CT library. The functions take leaf hashes, not data, so callers choose the leaf encoding.

use crate::types::{sha256, Hash};

/// The RFC 6962 leaf hash of `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    sha256(&[&[0x00], data])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// Largest power of two strictly smaller than `n`; `n` must be at least 2.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2, "only trees of two or more leaves split");
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root over `leaf_hashes`, in order.
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => sha256(&[]),
        [leaf] => *leaf,
        _ => {
            let (left, right) = leaf_hashes.split_at(split(leaf_hashes.len()));
            node_hash(&root(left), &root(right))
        }
    }
}

/// The inclusion proof of leaf `index`, or `None` when there is no such leaf.
pub fn proof(leaf_hashes: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaf_hashes.len() {
        return None;
    }
    let mut path = Vec::new();
    push_path(leaf_hashes, index, &mut path);
    Some(path)
}

/// Appends RFC 6962 `PATH(index, leaf_hashes)`: the deeper siblings first.
fn push_path(leaf_hashes: &[Hash], index: usize, path: &mut Vec<Hash>) {
    if leaf_hashes.len() <= 1 {
        return;
    }
    let (left, right) = leaf_hashes.split_at(split(leaf_hashes.len()));
    if index < left.len() {
        push_path(left, index, path);
        path.push(root(right));
    } else {
        push_path(right, index - left.len(), path);
        path.push(root(left));
    }
}

/// True if `proof` shows `leaf_hash` is leaf `index` of a `count`-leaf tree with `root`.
pub fn verify(leaf_hash: Hash, index: usize, count: usize, proof: &[Hash], root: Hash) -> bool {
    root_from_path(leaf_hash, index, count, proof) == Some(root)
}

/// The root that `proof` gives for `leaf_hash` as leaf `index` of a `count`-leaf tree, or
/// `None` if the path has the wrong shape for that position (RFC 9162 2.1.3.2). For a
/// leaf whose tree root is itself committed under another root.
pub fn root_from_path(leaf_hash: Hash, index: usize, count: usize, proof: &[Hash]) -> Option<Hash> {
    if index >= count {
        return None;
    }
    // `node` is the position of the running hash in its level, `last` the position of the
    // level's last node; both move up one level per step (RFC 9162 calls them fn and sn).
    let (mut node, mut last) = (index, count - 1);
    let mut hash = leaf_hash;
    for sibling in proof {
        if last == 0 {
            return None; // proof longer than the tree is tall
        }
        if node & 1 == 1 || node == last {
            hash = node_hash(sibling, &hash);
            // A node that is last in its level with no right sibling is promoted unchanged;
            // skip the levels where that happens.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    (last == 0).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(text: &str) -> Hash {
        hex::decode(text)
            .expect("test vector is hex")
            .try_into()
            .expect("test vector is 32 bytes")
    }

    /// certificate-transparency / transparency-dev reference leaves.
    fn reference_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
        ]
        .into_iter()
        .chain(["606162636465666768696a6b6c6d6e6f"])
        .map(|data| leaf_hash(&hex::decode(data).expect("hex")))
        .collect()
    }

    #[test]
    fn test_roots_match_rfc6962_reference_vectors() {
        let roots = [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = reference_leaves();
        for (size, expected) in roots.iter().enumerate() {
            assert_eq!(root(&leaves[..size]), h(expected), "size {size}");
        }
    }

    #[test]
    fn test_proofs_match_rfc6962_reference_vectors() {
        let leaves = reference_leaves();
        let full = root(&leaves);
        let cases = [
            (
                0,
                [
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                [
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (index, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
            assert_eq!(proof(&leaves, index), Some(expected.clone()));
            assert!(verify(leaves[index], index, leaves.len(), &expected, full));
        }
    }

    #[test]
    fn test_split_is_largest_power_of_two_below_n() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)] {
            assert_eq!(split(n), k, "n = {n}");
        }
    }

    #[test]
    fn test_single_leaf_and_out_of_range() {
        let leaf = leaf_hash(b"only");
        assert_eq!(root(&[leaf]), leaf);
        assert_eq!(proof(&[leaf], 0), Some(vec![]));
        assert!(verify(leaf, 0, 1, &[], leaf));
        assert_eq!(proof(&[leaf], 1), None);
        assert_eq!(proof(&[], 0), None);
        assert!(!verify(leaf, 1, 1, &[], leaf));
        assert!(!verify(leaf, 0, 0, &[], leaf));
    }

    proptest! {
        #[test]
        fn test_every_proof_verifies_and_any_flipped_bit_fails(
            count in 1usize..70,
            index_seed in any::<usize>(),
            flip_seed in any::<usize>(),
        ) {
            let leaves: Vec<Hash> = (0..count).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let index = index_seed % count;
            let top = root(&leaves);
            let path = proof(&leaves, index).expect("index is in range");
            prop_assert!(verify(leaves[index], index, count, &path, top));

            // Another index, or a truncated or extended proof, is refused. (Another tree size
            // may accept the same path when the leaf's route up has the same shape; that
            // still proves the leaf is in `top`.)
            if count > 1 {
                prop_assert!(!verify(leaves[index], (index + 1) % count, count, &path, top));
            }
            let longer = [path.clone(), vec![top]].concat();
            prop_assert!(!verify(leaves[index], index, count, &longer, top));
            if let Some((_, shorter)) = path.split_last() {
                prop_assert!(!verify(leaves[index], index, count, shorter, top));
            }

            // Flip one bit in the leaf, the root, or one proof element.
            let bit = flip_seed % 256;
            let flip = |mut hash: Hash| { hash[bit / 8] ^= 1 << (bit % 8); hash };
            prop_assert!(!verify(flip(leaves[index]), index, count, &path, top));
            prop_assert!(!verify(leaves[index], index, count, &path, flip(top)));
            if !path.is_empty() {
                let mut bad = path.clone();
                let at = flip_seed % bad.len();
                bad[at] = flip(bad[at]);
                prop_assert!(!verify(leaves[index], index, count, &bad, top));
            }
        }
    }
}
