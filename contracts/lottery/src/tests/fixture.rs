//! Deterministic lotteries for tests: every byte comes from SHA-256 of a label and a counter,
//! so a fixture is the same on every machine and in every version of `rand`.

use jiu_types::{sha256, Hash};

use crate::{Entry, Pool, Rules, Status};

/// A lottery's rules and its (entry, status) pairs, in canonical order.
#[derive(Clone, Debug)]
pub(crate) struct Lottery {
    pub rules: Rules,
    pub entries: Vec<Entry>,
    pub status: Vec<Status>,
}

pub(crate) fn bytes(label: &str, i: u64) -> Hash {
    sha256(&[label.as_bytes(), &i.to_be_bytes()])
}

pub(crate) fn number(label: &str, i: u64) -> u64 {
    let b = bytes(label, i);
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

pub(crate) fn seed(i: u64) -> Hash {
    bytes("seed", i)
}

pub(crate) fn pool(pool_id: u32, quota: u32, waitlist_size: u32) -> Pool {
    Pool {
        pool_id,
        quota,
        waitlist_size,
    }
}

pub(crate) fn rules(pools: Vec<Pool>, tier_count: u8, weight_max: u16) -> Rules {
    Rules {
        lottery_id: 77,
        open_at_ms: 1_000,
        close_at_ms: 1_000 + 3_600_000,
        tier_count,
        weight_max,
        pools,
    }
}

/// What a test decides about entry `i`: pool position, tier, weight, eligibility.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub pool_at: usize,
    pub tier: u8,
    pub weight: u16,
    pub eligible: bool,
}

/// `n` entries in `batches` near-equal batches, received in canonical order; `shape(i)`
/// decides the rest. Nullifiers are distinct.
pub(crate) fn lottery(
    rules: Rules,
    n: usize,
    batches: usize,
    shape: impl Fn(usize) -> Shape,
) -> Lottery {
    let per_batch = n.div_ceil(batches.max(1)).max(1);
    let mut entries = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    for i in 0..n {
        let s = shape(i);
        let entry = Entry {
            lottery_id: rules.lottery_id,
            pool_id: rules.pools[s.pool_at].pool_id,
            batch_no: (i / per_batch) as u32,
            index: (i % per_batch) as u32,
            nullifier: bytes("nullifier", i as u64),
            commitment: bytes("commitment", i as u64),
            received_at_ms: rules.open_at_ms + i as u64,
            tier: s.tier,
            weight: s.weight,
        };
        let leaf = entry.leaf_hash();
        status.push(if s.eligible {
            Status::eligible(leaf)
        } else {
            Status::excluded(leaf, bytes("reason", i as u64 % 3))
        });
        entries.push(entry);
    }
    Lottery {
        rules,
        entries,
        status,
    }
}

/// A mixed lottery: `pools` pools, tiers, weights, one entry in `excluded_every` excluded.
pub(crate) fn mixed(n: usize, pools: Vec<Pool>, excluded_every: usize) -> Lottery {
    let pool_count = pools.len();
    lottery(rules(pools, 3, 4), n, 5, |i| Shape {
        pool_at: (number("pool", i as u64) % pool_count as u64) as usize,
        tier: (number("tier", i as u64) % 3) as u8,
        weight: 1 + (number("weight", i as u64) % 4) as u16,
        eligible: i % excluded_every != excluded_every - 1,
    })
}

/// The draw recomputed naively: every eligible entry's key, fully sorted per pool.
pub(crate) fn naive_ranking(lottery: &Lottery, seed: &Hash, pool_id: u32) -> Vec<(u8, Hash, Hash)> {
    let mut keys: Vec<(u8, Hash, Hash)> = lottery
        .entries
        .iter()
        .zip(&lottery.status)
        .filter(|(e, s)| e.pool_id == pool_id && s.eligible)
        .map(|(e, _)| {
            let leaf = e.leaf_hash();
            let tickets = (0..e.weight).map(|j| {
                let ticket = (e.weight > 1).then_some(j);
                crate::ticket_score(seed, e.lottery_id, e.pool_id, &leaf, ticket)
            });
            (e.tier, tickets.min().expect("weight >= 1"), leaf)
        })
        .collect();
    keys.sort();
    keys
}
