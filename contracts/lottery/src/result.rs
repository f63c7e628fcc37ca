//! What a draw produces and how it is committed: per pool a ranked list (winners, then
//! waitlist), per pool a result leaf, and the results root over all pools.
//!
//! - ranked item = `tier (1) || score (32) || leaf_hash (32)`;
//!   `ranked_hash = SHA-256("mtl/ranked/v1" || item_1 || ... || item_m)` over winners then
//!   waitlist, best first. Items are fixed-size, so no count is needed.
//! - pool result leaf bytes = `lottery_id (8) || pool_id (4) || quota (4) || waitlist_size (4)
//!   || entries_count (4) || eligible_count (4) || ranked_hash (32)`; its leaf hash is
//!   `SHA-256(0x00 || "mtl/result/v1" || bytes)`.
//! - `results_root` = RFC 6962 root over the pool leaf hashes, one per pool of the rules
//!   (empty pools included), ascending pool id.
//!
//! The winners are the first `min(quota, eligible_count)` items; the list has
//! `min(quota + waitlist_size, eligible_count)` items. Both follow from the leaf's counts, so
//! the leaf does not repeat them.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::{merkle, sha256, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::{RANKED_ITEM_BYTES, RANKED_TAG, RESULT_TAG};
use crate::EntryId;

/// Length of [`PoolSummary::leaf_bytes`].
pub const RESULT_LEAF_BYTES: usize = 8 + 4 * 5 + 32;

/// One ranked entry. The derived order is the ranking: tier, then score, then leaf hash
/// (distinct entries have distinct leaf hashes), then id; smaller is better.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Ranked {
    pub tier: u8,
    #[serde(with = "crate::serde_hex")]
    pub score: Hash,
    #[serde(with = "crate::serde_hex")]
    pub leaf_hash: Hash,
    pub id: EntryId,
}

impl Ranked {
    /// The committed item: `tier || score || leaf_hash`.
    pub fn item_bytes(&self) -> [u8; RANKED_ITEM_BYTES] {
        ranked_item(self.tier, &self.score, &self.leaf_hash)
    }
}

/// `tier || score || leaf_hash`.
pub fn ranked_item(tier: u8, score: &Hash, leaf_hash: &Hash) -> [u8; RANKED_ITEM_BYTES] {
    let mut item = [0u8; RANKED_ITEM_BYTES];
    item[0] = tier;
    item[1..33].copy_from_slice(score);
    item[33..].copy_from_slice(leaf_hash);
    item
}

/// `SHA-256("mtl/ranked/v1" || items...)`.
pub fn ranked_hash<'a>(items: impl IntoIterator<Item = [u8; RANKED_ITEM_BYTES]> + 'a) -> Hash {
    let mut hasher = Sha256::new().chain_update(RANKED_TAG);
    for item in items {
        hasher.update(item);
    }
    hasher.finalize().into()
}

/// The outcome in one pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct PoolResult {
    pub pool_id: u32,
    pub quota: u32,
    pub waitlist_size: u32,
    /// Entries in the pool, eligible or not.
    pub entries_count: u32,
    pub eligible_count: u32,
    /// Best first; `min(quota, eligible_count)` of them.
    pub winners: Vec<Ranked>,
    /// Best first, after the last winner; `min(waitlist_size, eligible_count - winners)`.
    pub waitlist: Vec<Ranked>,
}

impl PoolResult {
    /// Winners then waitlist, best first.
    pub fn ranked(&self) -> impl Iterator<Item = &Ranked> {
        self.winners.iter().chain(&self.waitlist)
    }

    /// The hash over the ranked list.
    pub fn ranked_hash(&self) -> Hash {
        ranked_hash(self.ranked().map(Ranked::item_bytes))
    }

    /// The committed summary of this pool.
    pub fn summary(&self, lottery_id: u64) -> PoolSummary {
        PoolSummary {
            lottery_id,
            pool_id: self.pool_id,
            quota: self.quota,
            waitlist_size: self.waitlist_size,
            entries_count: self.entries_count,
            eligible_count: self.eligible_count,
            ranked_hash: self.ranked_hash(),
        }
    }
}

/// A pool's leaf in the results tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct PoolSummary {
    pub lottery_id: u64,
    pub pool_id: u32,
    pub quota: u32,
    pub waitlist_size: u32,
    pub entries_count: u32,
    pub eligible_count: u32,
    #[serde(with = "crate::serde_hex")]
    pub ranked_hash: Hash,
}

impl PoolSummary {
    /// The 60 leaf bytes, big-endian, in declaration order.
    pub fn leaf_bytes(&self) -> [u8; RESULT_LEAF_BYTES] {
        let mut out = [0u8; RESULT_LEAF_BYTES];
        out[..8].copy_from_slice(&self.lottery_id.to_be_bytes());
        let counts = [
            self.pool_id,
            self.quota,
            self.waitlist_size,
            self.entries_count,
            self.eligible_count,
        ];
        for (i, value) in counts.iter().enumerate() {
            out[8 + 4 * i..12 + 4 * i].copy_from_slice(&value.to_be_bytes());
        }
        out[28..].copy_from_slice(&self.ranked_hash);
        out
    }

    /// `SHA-256(0x00 || "mtl/result/v1" || leaf bytes)`.
    pub fn leaf_hash(&self) -> Hash {
        sha256(&[&[0x00], RESULT_TAG, &self.leaf_bytes()])
    }

    /// Number of winners: `min(quota, eligible_count)`.
    pub fn winners_count(&self) -> u32 {
        self.quota.min(self.eligible_count)
    }

    /// `quota + waitlist_size`: the list length when enough entries are eligible.
    pub fn ranked_max(&self) -> u64 {
        u64::from(self.quota) + u64::from(self.waitlist_size)
    }

    /// Length of the ranked list: `min(quota + waitlist_size, eligible_count)`.
    pub fn ranked_count(&self) -> u64 {
        self.ranked_max().min(u64::from(self.eligible_count))
    }
}

/// The whole draw: every pool of the rules, in rules order, and the root over them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct DrawResult {
    pub lottery_id: u64,
    pub pools: Vec<PoolResult>,
    #[serde(with = "crate::serde_hex")]
    pub results_root: Hash,
}

impl DrawResult {
    /// Commits to `pools` (which must be in ascending pool id order).
    pub fn new(lottery_id: u64, pools: Vec<PoolResult>) -> Self {
        let results_root = merkle::root(&pool_leaf_hashes(lottery_id, &pools));
        Self {
            lottery_id,
            pools,
            results_root,
        }
    }

    /// The result of `pool_id`, with its position in the results tree.
    pub fn pool(&self, pool_id: u32) -> Option<(usize, &PoolResult)> {
        let at = self
            .pools
            .binary_search_by_key(&pool_id, |p| p.pool_id)
            .ok()?;
        Some((at, &self.pools[at]))
    }
}

/// The results tree's leaves.
pub fn pool_leaf_hashes(lottery_id: u64, pools: &[PoolResult]) -> Vec<Hash> {
    pools
        .iter()
        .map(|pool| pool.summary(lottery_id).leaf_hash())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(tier: u8, score: u8, leaf: u8) -> Ranked {
        Ranked {
            tier,
            score: [score; 32],
            leaf_hash: [leaf; 32],
            id: EntryId {
                batch_no: 0,
                index: u32::from(leaf),
            },
        }
    }

    #[test]
    fn test_ranking_order_is_tier_then_score_then_leaf() {
        let mut items = [
            ranked(1, 0, 1),
            ranked(0, 9, 2),
            ranked(0, 3, 4),
            ranked(0, 3, 3),
        ];
        items.sort();
        let leaves: Vec<u8> = items.iter().map(|r| r.leaf_hash[0]).collect();
        assert_eq!(leaves, [3, 4, 2, 1]);
    }

    #[test]
    fn test_result_leaf_encoding() {
        let pool = PoolResult {
            pool_id: 0x0a0b_0c0d,
            quota: 2,
            waitlist_size: 1,
            entries_count: 9,
            eligible_count: 7,
            winners: vec![ranked(0, 1, 1), ranked(0, 2, 2)],
            waitlist: vec![ranked(1, 0, 3)],
        };
        let items = [
            [&[0u8][..], &[1; 32], &[1; 32]].concat(),
            [&[0u8][..], &[2; 32], &[2; 32]].concat(),
            [&[1u8][..], &[0; 32], &[3; 32]].concat(),
        ]
        .concat();
        let ranked = sha256(&[b"mtl/ranked/v1", &items]);
        assert_eq!(pool.ranked_hash(), ranked);
        let summary = pool.summary(5);
        let bytes = [
            &5u64.to_be_bytes()[..],
            &[0x0a, 0x0b, 0x0c, 0x0d],
            &2u32.to_be_bytes(),
            &1u32.to_be_bytes(),
            &9u32.to_be_bytes(),
            &7u32.to_be_bytes(),
            &ranked,
        ]
        .concat();
        assert_eq!(summary.leaf_bytes().to_vec(), bytes);
        assert_eq!(
            summary.leaf_hash(),
            sha256(&[&[0], b"mtl/result/v1", &bytes])
        );
        assert_eq!(summary.winners_count(), 2);
        assert_eq!(summary.ranked_count(), 3);
        let result = DrawResult::new(5, vec![pool.clone()]);
        assert_eq!(result.results_root, merkle::root(&[summary.leaf_hash()]));
        assert_eq!(result.pool(0x0a0b_0c0d).map(|(at, _)| at), Some(0));
        assert_eq!(result.pool(1), None);
    }
}
