//! The draw: per pool, rank the eligible entries by (tier, score, leaf hash) and keep the
//! best `quota + waitlist_size`.
//!
//! Cost is one pass over the entries: the leaf hash and the score (two SHA-256 compressions
//! each, plus one per extra ticket), then a per-pool partial selection of the best
//! `m = quota + waitlist_size`: candidates are appended to the pool's buffer, and when it
//! holds `2m` a `select_nth_unstable` cuts it back to the best `m` (amortized O(1) an entry,
//! and an append touches one cache line where a heap insert touches several). A per-pool
//! bound, the worst key kept at the last cut, turns most entries away before the buffer.
//! The pass runs on contiguous chunks of the input in parallel; a pool's result is the best
//! `m` of the union of the chunks' candidates, which does not depend on where the chunks
//! were cut, and the order is total, so every thread count and every input permutation
//! gives the same result.

use std::ops::Range;

use jiu_types::Hash;

use crate::book::Exclusion;
use crate::tree::Layout;
use crate::{par, DrawError, DrawResult, Entry, EntryId, PoolResult, Ranked, Rules, Status};

/// Draws the lottery.
///
/// `status[i]` is the decision on `entries[i]`; the pairs may come in any order. `seed` is
/// [`crate::seed_from_signature`] of the threshold signature. Refuses (without a partial
/// result) anything the chain should not have accepted: see [`DrawError`].
pub fn draw(
    rules: &Rules,
    entries: &[Entry],
    status: &[Status],
    seed: &Hash,
) -> Result<DrawResult, DrawError> {
    draw_with_threads(
        rules,
        entries,
        status,
        seed,
        par::threads_for(entries.len()),
    )
}

/// [`draw`] on exactly `threads` chunks; tests use it to show the count does not matter.
pub(crate) fn draw_with_threads(
    rules: &Rules,
    entries: &[Entry],
    status: &[Status],
    seed: &Hash,
    threads: usize,
) -> Result<DrawResult, DrawError> {
    rules.validate()?;
    if entries.len() != status.len() {
        return Err(DrawError::StatusCountMismatch {
            entries: entries.len(),
            status: status.len(),
        });
    }
    Layout::new(entries)?;
    let mut scans = par::chunked(entries.len(), threads, |range| {
        scan(rules, entries, status, seed, range)
    });
    // Chunks are in input order and each stopped at its first fault, so this is the first
    // fault in input order whatever the thread count.
    if let Some(error) = scans.iter_mut().find_map(|scan| scan.error.take()) {
        return Err(error);
    }
    check_nullifiers(entries, &mut scans)?;
    Ok(DrawResult::new(rules.lottery_id, merge(rules, scans)))
}

/// What one chunk found.
struct Scan {
    /// Per pool (rules order): candidates; always includes the chunk's best `ranked_max`.
    kept: Vec<Vec<Ranked>>,
    /// Per pool: (tier, score) of the worst entry kept at the last cut, else above any real
    /// key. Compact (33 bytes a pool), so it stays in cache while the buffers do not.
    bound: Vec<(u8, Hash)>,
    entries_count: Vec<u32>,
    eligible_count: Vec<u32>,
    /// First 8 bytes of every nullifier, sorted.
    nullifier_prefixes: Vec<u64>,
    error: Option<DrawError>,
}

fn scan(
    rules: &Rules,
    entries: &[Entry],
    status: &[Status],
    seed: &Hash,
    range: Range<usize>,
) -> Scan {
    let mut scan = Scan::new(rules.pools.len(), range.len());
    for pos in range {
        if let Err(error) = scan_one(&mut scan, rules, &entries[pos], &status[pos], seed) {
            scan.error = Some(error);
            break;
        }
    }
    scan.nullifier_prefixes.sort_unstable();
    scan
}

impl Scan {
    fn new(pools: usize, entries: usize) -> Self {
        Self {
            kept: vec![Vec::new(); pools],
            // Tiers are below tier_count <= 255, so tier 255 is above every real key.
            bound: vec![(u8::MAX, [0xff; 32]); pools],
            entries_count: vec![0; pools],
            eligible_count: vec![0; pools],
            nullifier_prefixes: Vec::with_capacity(entries),
            error: None,
        }
    }
}

/// The draw over a committed dataset: batches in order, each its entries in index order and
/// its exclusions (ascending index), as the [`crate::LotteryBook`] holds them. The book has
/// already checked everything [`draw`] checks (layout, rules, nullifiers), so this only
/// ranks; the ranking and the merge are [`draw`]'s, so the result equals [`draw`] of the same
/// dataset (tested). Chunks are runs of whole batches.
pub(crate) fn draw_batches(
    rules: &Rules,
    batches: &[(&[Entry], &[Exclusion])],
    seed: &Hash,
    threads: usize,
) -> DrawResult {
    let scans = par::chunked(batches.len(), threads, |range| {
        let mut scan = Scan::new(rules.pools.len(), 0);
        for (entries, exclusions) in &batches[range] {
            let mut excluded = exclusions.iter().map(|x| x.index).peekable();
            for entry in entries.iter() {
                let eligible = excluded.next_if_eq(&entry.index).is_none();
                let pool = rules
                    .pool_position(entry.pool_id)
                    .expect("the book accepts only entries of the rules' pools");
                rank(
                    &mut scan,
                    rules,
                    pool,
                    entry,
                    entry.leaf_hash(),
                    eligible,
                    seed,
                )
                .expect("the book accepts only weights of at least 1");
            }
            assert!(
                excluded.next().is_none(),
                "exclusions name entries of their batch"
            );
        }
        scan
    });
    DrawResult::new(rules.lottery_id, merge(rules, scans))
}

fn scan_one(
    scan: &mut Scan,
    rules: &Rules,
    entry: &Entry,
    status: &Status,
    seed: &Hash,
) -> Result<(), DrawError> {
    let pool = check_entry(rules, entry)?;
    let leaf_hash = entry.leaf_hash();
    if status.leaf_hash != leaf_hash {
        return Err(DrawError::StatusForOtherEntry(entry.id()));
    }
    if !status.is_well_formed() {
        return Err(DrawError::MalformedStatus(entry.id()));
    }
    scan.nullifier_prefixes.push(prefix(&entry.nullifier));
    rank(scan, rules, pool, entry, leaf_hash, status.eligible, seed)
}

/// Counts a checked entry of the pool at position `pool` and, if eligible and good enough,
/// keeps it as a candidate.
fn rank(
    scan: &mut Scan,
    rules: &Rules,
    pool: usize,
    entry: &Entry,
    leaf_hash: Hash,
    eligible: bool,
    seed: &Hash,
) -> Result<(), DrawError> {
    scan.entries_count[pool] += 1;
    if !eligible {
        return Ok(());
    }
    scan.eligible_count[pool] += 1;
    let keep = usize::try_from(rules.pools[pool].ranked_max()).unwrap_or(usize::MAX);
    if keep == 0 {
        return Ok(());
    }
    let score = entry
        .score(seed, &leaf_hash)
        .ok_or(DrawError::WeightOutOfRange {
            id: entry.id(),
            weight: entry.weight,
            weight_max: rules.weight_max,
        })?;
    // At least `keep` kept entries rank strictly better than this one: out. An equal
    // (tier, score) goes on to the full comparison at the next cut.
    if (entry.tier, score) > scan.bound[pool] {
        return Ok(());
    }
    let kept = &mut scan.kept[pool];
    kept.push(Ranked {
        tier: entry.tier,
        score,
        leaf_hash,
        id: entry.id(),
    });
    if kept.len() >= keep.saturating_mul(2) {
        let worst = cut(kept, keep);
        scan.bound[pool] = worst;
    }
    Ok(())
}

/// Checks an entry against the rules and returns its pool's position.
fn check_entry(rules: &Rules, entry: &Entry) -> Result<usize, DrawError> {
    let id = entry.id();
    if entry.lottery_id != rules.lottery_id {
        return Err(DrawError::WrongLottery {
            id,
            lottery_id: entry.lottery_id,
        });
    }
    let pool = rules
        .pool_position(entry.pool_id)
        .ok_or(DrawError::UnknownPool {
            id,
            pool_id: entry.pool_id,
        })?;
    if entry.tier >= rules.tier_count {
        return Err(DrawError::TierOutOfRange {
            id,
            tier: entry.tier,
            tier_count: rules.tier_count,
        });
    }
    if entry.weight == 0 || entry.weight > rules.weight_max {
        return Err(DrawError::WeightOutOfRange {
            id,
            weight: entry.weight,
            weight_max: rules.weight_max,
        });
    }
    if !(rules.open_at_ms..=rules.close_at_ms).contains(&entry.received_at_ms) {
        return Err(DrawError::ReceivedOutsideWindow {
            id,
            received_at_ms: entry.received_at_ms,
        });
    }
    Ok(pool)
}

/// Cuts `kept` (at least `keep >= 1` items) to its `keep` best; returns the worst one's key.
fn cut(kept: &mut Vec<Ranked>, keep: usize) -> (u8, Hash) {
    let (_, worst, _) = kept.select_nth_unstable(keep - 1);
    let key = (worst.tier, worst.score);
    kept.truncate(keep);
    key
}

fn prefix(nullifier: &Hash) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&nullifier[..8]);
    u64::from_be_bytes(bytes)
}

/// Refuses two entries with one nullifier. Compares 8-byte prefixes (sorted per chunk,
/// merged here), and only entries whose prefix repeats are compared in full.
fn check_nullifiers(entries: &[Entry], scans: &mut [Scan]) -> Result<(), DrawError> {
    let mut prefixes: Vec<u64> = Vec::with_capacity(entries.len());
    for scan in scans.iter_mut() {
        prefixes.append(&mut scan.nullifier_prefixes);
    }
    // The stable sort finds the sorted runs and merges them: linear for a few chunks.
    prefixes.sort();
    let mut repeated: Vec<u64> = prefixes
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    if repeated.is_empty() {
        return Ok(());
    }
    repeated.dedup();
    let mut suspects: Vec<(Hash, EntryId)> = entries
        .iter()
        .filter(|e| repeated.binary_search(&prefix(&e.nullifier)).is_ok())
        .map(|e| (e.nullifier, e.id()))
        .collect();
    suspects.sort_unstable();
    match suspects.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        Some(pair) => Err(DrawError::DuplicateNullifier {
            first: pair[0].1,
            second: pair[1].1,
        }),
        None => Ok(()),
    }
}

/// Combines the chunks' kept entries into each pool's ranked list.
fn merge(rules: &Rules, mut scans: Vec<Scan>) -> Vec<PoolResult> {
    let mut pools = Vec::with_capacity(rules.pools.len());
    for (at, pool) in rules.pools.iter().enumerate() {
        let mut ranked: Vec<Ranked> = Vec::new();
        let (mut entries_count, mut eligible_count) = (0u32, 0u32);
        for scan in scans.iter_mut() {
            ranked.append(&mut scan.kept[at]);
            entries_count += scan.entries_count[at];
            eligible_count += scan.eligible_count[at];
        }
        ranked.sort_unstable();
        ranked.truncate(usize::try_from(pool.ranked_max()).unwrap_or(usize::MAX));
        let waitlist = ranked.split_off(ranked.len().min(pool.quota as usize));
        pools.push(PoolResult {
            pool_id: pool.pool_id,
            quota: pool.quota,
            waitlist_size: pool.waitlist_size,
            entries_count,
            eligible_count,
            winners: ranked,
            waitlist,
        });
    }
    pools
}
