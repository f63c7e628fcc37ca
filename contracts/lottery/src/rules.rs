//! The rules of one lottery, as fixed at CREATE and immutable after OPEN.
//!
//! [`Rules`] is the part the draw reads. [`LotteryRules`] is the whole on-chain record the
//! [`crate::LotteryBook`] keeps: the draw's rules unchanged, plus the product, the grace
//! period, the operator's batch keys, the reason-code table, the draw algorithm version and
//! the claim window. Its [`LotteryRules::hash`] is the `rules_hash` in the seed message.

use borsh::{BorshDeserialize, BorshSerialize};
use jiu_types::gs1::Gtin;
use jiu_types::{sha256, Hash, PublicKey};
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

/// Tag of the rules hash: `rules_hash = SHA-256(tag || LotteryRules::encode())`.
pub const RULES_TAG: &[u8] = b"mtl/rules/v1";
/// The only draw algorithm this crate runs: the ranking of `docs/lottery-spec.md` (v1 tags).
pub const DRAW_ALGORITHM_VERSION: u16 = 1;
/// At most this many operator batch keys per lottery (the registry's per-org key limit).
pub const OPERATOR_KEYS_MAX: usize = 16;
/// At most this many pools in the on-chain rules: 50,000 pools are 600 KB of borsh, so a
/// CreateLottery still fits a 1 MiB transaction.
pub const RULES_POOLS_MAX: usize = 50_000;
/// Longest grace period after the close: 5 minutes. The grace only absorbs batches in
/// flight at the close; the operator may backdate entries inside it (design 6.8), so it is
/// kept short (the design suggests 30 s).
pub const GRACE_MS_MAX: u64 = 5 * 60 * 1000;
/// Longest claim window: 90 days.
pub const CLAIM_WINDOW_MS_MAX: u64 = 90 * 24 * 60 * 60 * 1000;

/// The whole rules record of a lottery (design 6.3 step 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct LotteryRules {
    /// What the draw reads: id, window, tiers, weights, pools.
    pub draw: Rules,
    /// The product the reservations are for.
    pub product: Gtin,
    /// Batches are accepted until block time `close_at_ms + grace_ms`.
    pub grace_ms: u64,
    /// The operator's batch keys, strictly ascending: a transaction signed by one of them
    /// may append batches, statuses and settlements.
    pub operator_keys: Vec<PublicKey>,
    /// SHA-256 of the published table of exclusion reason codes; a status's reason hash is
    /// meant to be the hash of one of its codes (the book cannot check that, the table is
    /// off chain).
    #[serde(with = "crate::serde_hex")]
    pub reason_codes_hash: Hash,
    /// Must be [`DRAW_ALGORITHM_VERSION`].
    pub algorithm_version: u16,
    /// How long an offered slot may be claimed: from the results for winners, from the
    /// moment the slot passed to it for a substitute.
    pub claim_window_ms: u64,
}

impl LotteryRules {
    pub fn lottery_id(&self) -> u64 {
        self.draw.lottery_id
    }

    /// The last block time at which a batch is accepted.
    pub fn intake_end_ms(&self) -> u64 {
        self.draw.close_at_ms.saturating_add(self.grace_ms)
    }

    /// The canonical bytes: every field fixed-width big-endian, lists with a 4-byte count.
    ///
    /// `lottery_id (8) || product GTIN-14 value (8) || open_at_ms (8) || close_at_ms (8) ||
    /// grace_ms (8) || claim_window_ms (8) || tier_count (1) || weight_max (2) ||
    /// algorithm_version (2) || reason_codes_hash (32) || key count (4) || keys (32 each) ||
    /// pool count (4) || pools (pool_id (4) || quota (4) || waitlist_size (4) each)`.
    pub fn encode(&self) -> Vec<u8> {
        let d = &self.draw;
        let mut out = Vec::with_capacity(97 + 32 * self.operator_keys.len() + 12 * d.pools.len());
        out.extend_from_slice(&d.lottery_id.to_be_bytes());
        out.extend_from_slice(&self.product.value().to_be_bytes());
        for ms in [
            d.open_at_ms,
            d.close_at_ms,
            self.grace_ms,
            self.claim_window_ms,
        ] {
            out.extend_from_slice(&ms.to_be_bytes());
        }
        out.push(d.tier_count);
        out.extend_from_slice(&d.weight_max.to_be_bytes());
        out.extend_from_slice(&self.algorithm_version.to_be_bytes());
        out.extend_from_slice(&self.reason_codes_hash);
        out.extend_from_slice(&count(self.operator_keys.len()));
        for key in &self.operator_keys {
            out.extend_from_slice(&key.0);
        }
        out.extend_from_slice(&count(d.pools.len()));
        for pool in &d.pools {
            for value in [pool.pool_id, pool.quota, pool.waitlist_size] {
                out.extend_from_slice(&value.to_be_bytes());
            }
        }
        out
    }

    /// `rules_hash = SHA-256("mtl/rules/v1" || encode())`.
    pub fn hash(&self) -> Hash {
        sha256(&[RULES_TAG, &self.encode()])
    }

    /// Refuses rules the book cannot run: invalid draw rules, no pool, more than
    /// [`RULES_POOLS_MAX`] pools, no or too many or unsorted operator keys, a grace or claim
    /// window out of bounds, an unknown algorithm version. The reason is for the client.
    pub fn validate(&self) -> Result<(), String> {
        self.draw.validate().map_err(|error| error.to_string())?;
        let pools = self.draw.pools.len();
        if pools == 0 || pools > RULES_POOLS_MAX {
            return Err(format!("{pools} pools, allowed 1..={RULES_POOLS_MAX}"));
        }
        let keys = &self.operator_keys;
        if keys.is_empty() || keys.len() > OPERATOR_KEYS_MAX {
            return Err(format!(
                "{} operator keys, allowed 1..={OPERATOR_KEYS_MAX}",
                keys.len()
            ));
        }
        if keys.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err("operator keys must be strictly ascending".to_string());
        }
        if let Some(key) = keys.iter().find(|key| key.verifying_key().is_err()) {
            return Err(format!(
                "operator key {} is not a curve point",
                hex::encode(key.0)
            ));
        }
        if self.grace_ms > GRACE_MS_MAX {
            return Err(format!(
                "grace {} ms, at most {GRACE_MS_MAX}",
                self.grace_ms
            ));
        }
        if self.claim_window_ms == 0 || self.claim_window_ms > CLAIM_WINDOW_MS_MAX {
            return Err(format!(
                "claim window {} ms, allowed 1..={CLAIM_WINDOW_MS_MAX}",
                self.claim_window_ms
            ));
        }
        if self.algorithm_version != DRAW_ALGORITHM_VERSION {
            return Err(format!(
                "draw algorithm version {}, this node runs {DRAW_ALGORITHM_VERSION}",
                self.algorithm_version
            ));
        }
        Ok(())
    }
}

fn count(len: usize) -> [u8; 4] {
    u32::try_from(len)
        .expect("validated lists are far below u32::MAX")
        .to_be_bytes()
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
