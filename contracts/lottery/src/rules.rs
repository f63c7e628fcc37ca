//! The draw parameters of one lottery, as fixed at CREATE and immutable after OPEN.
//!
//! This is the part of the on-chain rules the draw reads; the chain's rules record (SKU,
//! prices, operator keys, claim windows) and its `rules_hash` live with the chain
//! integration and must carry these fields unchanged.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::DrawError;

/// At most this many pools per lottery (5,000 stores is the planning figure).
pub const POOLS_MAX: usize = 100_000;
/// At most this many tickets per entry. The draw hashes every ticket, so this bounds its
/// cost at `WEIGHT_LIMIT` times the unweighted draw.
pub const WEIGHT_LIMIT: u16 = 64;
/// At most this many entries per lottery (the design expects up to ~8 M a day).
pub const ENTRIES_MAX: usize = 1 << 26;

/// One allocation unit (a store or a region) with its own quota and waitlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    pub pool_id: u32,
    /// Number of winners (bottles).
    pub quota: u32,
    /// Number of ranked non-winners kept, in order, to take forfeited slots.
    pub waitlist_size: u32,
}

impl Pool {
    /// How many ranked entries the pool keeps: winners plus waitlist.
    pub fn ranked_max(&self) -> u64 {
        u64::from(self.quota) + u64::from(self.waitlist_size)
    }
}

/// What the draw needs to know about a lottery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Rules {
    pub lottery_id: u64,
    /// Entries must have `open_at_ms <= received_at_ms <= close_at_ms` (Unix ms).
    pub open_at_ms: u64,
    pub close_at_ms: u64,
    /// Entries have `tier < tier_count`; tier 0 is served first.
    pub tier_count: u8,
    /// Entries have `1 <= weight <= weight_max`; 1 means unweighted.
    pub weight_max: u16,
    /// Strictly ascending by `pool_id`; the results tree has one leaf per pool, in this order.
    pub pools: Vec<Pool>,
}

impl Rules {
    /// Refuses rules the draw cannot run deterministically and within its bounds.
    pub fn validate(&self) -> Result<(), DrawError> {
        if self.pools.len() > POOLS_MAX {
            return Err(DrawError::TooManyPools {
                pools: self.pools.len(),
                max: POOLS_MAX,
            });
        }
        if let Some(pair) = self.pools.windows(2).find(|w| w[0].pool_id >= w[1].pool_id) {
            return Err(DrawError::PoolsNotAscending {
                pool_id: pair[1].pool_id,
            });
        }
        if self.tier_count == 0 {
            return Err(DrawError::NoTiers);
        }
        if self.weight_max == 0 || self.weight_max > WEIGHT_LIMIT {
            return Err(DrawError::WeightMaxOutOfRange {
                weight_max: self.weight_max,
                limit: WEIGHT_LIMIT,
            });
        }
        if self.open_at_ms > self.close_at_ms {
            return Err(DrawError::WindowReversed {
                open_at_ms: self.open_at_ms,
                close_at_ms: self.close_at_ms,
            });
        }
        Ok(())
    }

    /// Position of `pool_id` in [`Rules::pools`] (binary search; the list is ascending).
    pub fn pool_position(&self, pool_id: u32) -> Option<usize> {
        self.pools
            .binary_search_by_key(&pool_id, |p| p.pool_id)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            lottery_id: 1,
            open_at_ms: 10,
            close_at_ms: 20,
            tier_count: 2,
            weight_max: 4,
            pools: vec![
                Pool {
                    pool_id: 3,
                    quota: 1,
                    waitlist_size: 0,
                },
                Pool {
                    pool_id: 9,
                    quota: 2,
                    waitlist_size: 1,
                },
            ],
        }
    }

    #[test]
    fn test_valid_rules_pass_and_pools_are_found() {
        assert_eq!(rules().validate(), Ok(()));
        assert_eq!(rules().pool_position(9), Some(1));
        assert_eq!(rules().pool_position(4), None);
    }

    #[test]
    fn test_each_invalid_rule_is_refused_with_its_reason() {
        type Change = fn(&mut Rules);
        let cases: [(Change, DrawError); 7] = [
            (
                |r| r.pools[1].pool_id = 3,
                DrawError::PoolsNotAscending { pool_id: 3 },
            ),
            (
                |r| r.pools.swap(0, 1),
                DrawError::PoolsNotAscending { pool_id: 3 },
            ),
            (|r| r.tier_count = 0, DrawError::NoTiers),
            (
                |r| r.pools = vec![r.pools[0].clone(); POOLS_MAX + 1],
                DrawError::TooManyPools {
                    pools: POOLS_MAX + 1,
                    max: POOLS_MAX,
                },
            ),
            (
                |r| r.weight_max = 0,
                DrawError::WeightMaxOutOfRange {
                    weight_max: 0,
                    limit: WEIGHT_LIMIT,
                },
            ),
            (
                |r| r.weight_max = WEIGHT_LIMIT + 1,
                DrawError::WeightMaxOutOfRange {
                    weight_max: WEIGHT_LIMIT + 1,
                    limit: WEIGHT_LIMIT,
                },
            ),
            (
                |r| r.open_at_ms = 21,
                DrawError::WindowReversed {
                    open_at_ms: 21,
                    close_at_ms: 20,
                },
            ),
        ];
        for (change, expected) in cases {
            let mut changed = rules();
            change(&mut changed);
            assert_eq!(changed.validate(), Err(expected));
        }
    }
}
