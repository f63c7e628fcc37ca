//! The invariant checker. It recomputes every root from the data the book holds, so it costs
//! O(entries) hashes: tests run it after every op, a node may run it in debug builds.
//! [`check_transition`] checks what may change between two books (states only move forward).

use jiu_types::merkle;

use super::intake::status_batch_root;
use super::record::{LotteryRecord, SlotState, Stage};
use super::{LotteryBook, BATCHES_MAX, BATCH_ENTRIES_MAX};
use crate::seed_from_signature;

type Check = Result<(), String>;

fn ensure(condition: bool, why: &str) -> Check {
    if condition {
        Ok(())
    } else {
        Err(why.to_string())
    }
}

impl LotteryBook {
    /// Checks every structural invariant; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Check {
        for (id, record) in self.lotteries() {
            record
                .check_invariants(*id)
                .map_err(|why| format!("lottery {id}: {why}"))?;
        }
        Ok(())
    }
}

impl LotteryRecord {
    fn check_invariants(&self, id: u64) -> Check {
        ensure(self.rules.lottery_id() == id, "filed under another id")?;
        ensure(self.rules.validate().is_ok(), "invalid rules")?;
        ensure(self.rules_hash == self.rules.hash(), "stale rules hash")?;
        self.check_batches()?;
        if self.holds_entries() {
            self.check_entries()?;
        } else {
            ensure(self.entries.is_empty(), "entries kept after the draw")?;
        }
        self.check_nullifiers()?;
        self.check_status()?;
        self.check_seed_and_results()
    }

    /// Batch headers: numbered from 0, bounded, counted, rooted, inside the window, appended
    /// by an operator key before close + grace (entries frozen after the close).
    fn check_batches(&self) -> Check {
        let draw = &self.rules.draw;
        ensure(self.batches.len() as u64 <= BATCHES_MAX, "too many batches")?;
        let mut count = 0u64;
        for (b, header) in self.batches.iter().enumerate() {
            ensure(header.batch_no as usize == b, "batch numbers have a gap")?;
            ensure(
                header.count >= 1 && header.count as usize <= BATCH_ENTRIES_MAX,
                "batch size out of bounds",
            )?;
            ensure(
                draw.open_at_ms <= header.first_received_ms
                    && header.first_received_ms <= header.last_received_ms
                    && header.last_received_ms <= draw.close_at_ms,
                "an entry received outside the window",
            )?;
            ensure(
                header.last_received_ms <= header.appended_at_ms
                    && header.appended_at_ms <= self.rules.intake_end_ms(),
                "a batch appended after close + grace or before its entries",
            )?;
            ensure(
                self.rules.operator_keys.contains(&header.signer),
                "a batch signed by a non-operator key",
            )?;
            count += u64::from(header.count);
        }
        ensure(
            count == self.entries_count,
            "entry count differs from the batches",
        )?;
        let roots: Vec<_> = self.batches.iter().map(|h| h.root).collect();
        ensure(
            self.entries_tree.len() == roots.len() as u64
                && self.entries_tree.root() == merkle::root(&roots),
            "entries root differs from the root over the batch roots",
        )
    }

    /// Held entries: one list per batch, each leaf at its place, each batch root recomputed.
    fn check_entries(&self) -> Check {
        ensure(
            self.entries.len() == self.batches.len(),
            "entries and batches differ",
        )?;
        for (header, batch) in self.batches.iter().zip(self.entries.iter()) {
            ensure(batch.len() == header.count as usize, "batch count differs")?;
            for (index, entry) in batch.iter().enumerate() {
                ensure(
                    entry.lottery_id == self.rules.lottery_id()
                        && entry.batch_no == header.batch_no
                        && entry.index as usize == index,
                    "an entry out of place",
                )?;
            }
            let leaves: Vec<_> = batch.iter().map(|e| e.leaf_hash()).collect();
            ensure(merkle::root(&leaves) == header.root, "batch root differs")?;
            let received = batch.iter().map(|e| e.received_at_ms);
            ensure(
                received.clone().min() == Some(header.first_received_ms)
                    && received.max() == Some(header.last_received_ms),
                "batch time range differs",
            )?;
        }
        Ok(())
    }

    /// While collecting, the set holds exactly every entry's nullifier (so they are distinct);
    /// afterwards it is dropped and distinctness is checked on the held entries.
    fn check_nullifiers(&self) -> Check {
        if self.stage() == Stage::Collecting {
            ensure(
                self.nullifiers.len() as u64 == self.entries_count,
                "nullifier set size differs from the entry count",
            )?;
            for batch in self.entries.iter() {
                for entry in batch.iter() {
                    ensure(
                        self.nullifiers.contains(&entry.nullifier),
                        "a nullifier missing",
                    )?;
                }
            }
            return Ok(());
        }
        ensure(
            self.nullifiers.is_empty(),
            "nullifier set kept after the status commitment",
        )?;
        let mut all: Vec<_> = self
            .entries
            .iter()
            .flat_map(|batch| batch.iter().map(|e| e.nullifier).collect::<Vec<_>>())
            .collect();
        all.sort_unstable();
        ensure(all.windows(2).all(|w| w[0] != w[1]), "a repeated nullifier")
    }

    /// Status batches: a prefix of the batches, each exclusion in its batch, ascending, with a
    /// reason; each status root recomputed; complete and committed after the commitment.
    fn check_status(&self) -> Check {
        ensure(
            self.status.len() <= self.batches.len(),
            "status beyond the batches",
        )?;
        let mut excluded = 0u64;
        for (b, status) in self.status.iter().enumerate() {
            let count = self.batches[b].count;
            let x = &status.exclusions;
            ensure(
                x.iter()
                    .all(|x| x.batch_no as usize == b && x.index < count),
                "an exclusion outside its batch",
            )?;
            ensure(
                x.windows(2).all(|w| w[0].index < w[1].index),
                "exclusions unsorted",
            )?;
            ensure(
                x.iter().all(|x| x.reason_hash != [0; 32]),
                "an exclusion without reason",
            )?;
            if self.holds_entries() {
                ensure(
                    status_batch_root(&self.entries[b], x) == status.root,
                    "status batch root differs",
                )?;
            }
            excluded += x.len() as u64;
        }
        ensure(excluded == self.excluded_count, "excluded count differs")?;
        let roots: Vec<_> = self.status.iter().map(|s| s.root).collect();
        ensure(
            self.status_tree.len() == roots.len() as u64
                && self.status_tree.root() == merkle::root(&roots),
            "status tree differs from the status batch roots",
        )?;
        if let Some(root) = self.status_root {
            ensure(
                self.status.len() == self.batches.len() && root == self.status_tree.root(),
                "committed status root does not cover the entries",
            )?;
        }
        Ok(())
    }

    /// Seed after status, results after seed; the seed is the signature's; the ranked lists
    /// match the rules; claims within quota and in order.
    fn check_seed_and_results(&self) -> Check {
        if let Some(seed) = &self.seed {
            ensure(
                self.status_root.is_some(),
                "a seed before the status commitment",
            )?;
            ensure(
                seed.seed == seed_from_signature(&seed.signature),
                "seed differs",
            )?;
        }
        let Some(results) = &self.results else {
            return ensure(self.settlements == 0, "settlements before the draw");
        };
        let seed_at_ms = self.seed.as_ref().map(|s| s.at_ms);
        ensure(
            seed_at_ms.is_some_and(|at| at <= results.at_ms),
            "results before the seed",
        )?;
        let rule_pools = &self.rules.draw.pools;
        ensure(
            results.pools.len() == rule_pools.len(),
            "a pool missing from the results",
        )?;
        let mut settled = 0u64;
        for (pool, rule) in results.pools.iter().zip(rule_pools) {
            ensure(
                pool.pool_id == rule.pool_id && pool.quota == rule.quota,
                "results pool differs from the rules",
            )?;
            ensure(
                pool.slots.len() as u64 <= rule.ranked_max(),
                "too many ranked",
            )?;
            ensure(
                pool.claimed == pool.count_claimed(),
                "claimed count differs",
            )?;
            ensure(pool.claimed <= pool.quota, "more claims than the quota")?;
            for (p, slot) in pool.slots.iter().enumerate() {
                let Some(at_ms) = slot.state.settled_at_ms() else {
                    continue;
                };
                settled += 1;
                ensure(at_ms >= results.at_ms, "settled before the results")?;
                let substitute_claim =
                    p >= pool.quota as usize && matches!(slot.state, SlotState::Claimed { .. });
                // Every better position is settled. When, relative to this claim, is checked
                // at the claim itself (`check_transition`): a claimed winner may later be
                // disqualified, which moves its settlement time past the substitute's claim.
                if substitute_claim {
                    ensure(
                        pool.slots
                            .iter()
                            .take(p)
                            .all(|before| before.state.settled_at_ms().is_some()),
                        "a substitute claimed before a better position was settled",
                    )?;
                }
            }
        }
        ensure(
            self.settlements >= settled,
            "fewer settlements than settled positions",
        )
    }
}

/// What may change from `before` to `after` (one applied op, at block time `time_ms`):
/// no lottery disappears; stages only move forward; rules are frozen once open; batches and
/// statuses only grow, and not at all after close + grace; status root, seed and results,
/// once set, stay; a settled position never returns to pending, and only a claim may later
/// become a disqualification.
pub fn check_transition(before: &LotteryBook, after: &LotteryBook, time_ms: u64) -> Check {
    for (id, was) in before.lotteries() {
        let now = after
            .lottery(*id)
            .ok_or_else(|| format!("lottery {id} disappeared"))?;
        let fail = |why: &str| Err(format!("lottery {id}: {why}"));
        if now.stage() < was.stage() {
            return fail("stage moved back");
        }
        if time_ms >= was.rules.draw.open_at_ms && now.rules_hash != was.rules_hash {
            return fail("rules changed after the opening");
        }
        let grown = |a: usize, b: usize| a <= b;
        if !grown(was.batches.len(), now.batches.len())
            || was
                .batches
                .iter()
                .zip(now.batches.iter())
                .any(|(a, b)| a != b)
        {
            return fail("a batch changed");
        }
        if time_ms > was.rules.intake_end_ms() && now.batches.len() != was.batches.len() {
            return fail("entries changed after close + grace");
        }
        if !grown(was.status.len(), now.status.len())
            || was
                .status
                .iter()
                .zip(now.status.iter())
                .any(|(a, b)| a != b)
        {
            return fail("a status batch changed");
        }
        let kept = |a: Option<[u8; 32]>, b: Option<[u8; 32]>| a.is_none() || a == b;
        if !kept(was.status_root, now.status_root)
            || !kept(
                was.seed.as_ref().map(|s| s.seed),
                now.seed.as_ref().map(|s| s.seed),
            )
            || !kept(was.results_root(), now.results_root())
        {
            return fail("a committed root or seed changed");
        }
        if now.settlements < was.settlements {
            return fail("settlements went back");
        }
        if let (Some(a), Some(b)) = (&was.results, &now.results) {
            for (pa, pb) in a.pools.iter().zip(b.pools.iter()) {
                // A substitute that claims in this step finds every better position settled.
                for (p, (sa, sb)) in pa.slots.iter().zip(pb.slots.iter()).enumerate() {
                    let new_claim = sa.state == SlotState::Pending
                        && matches!(sb.state, SlotState::Claimed { .. });
                    if new_claim
                        && p >= pb.quota as usize
                        && pb
                            .slots
                            .iter()
                            .take(p)
                            .any(|s| s.state == SlotState::Pending)
                    {
                        return fail("a substitute claimed before a better position was settled");
                    }
                }
                for (sa, sb) in pa.slots.iter().zip(pb.slots.iter()) {
                    let allowed = match (sa.state, sb.state) {
                        (SlotState::Pending, _) => true,
                        (SlotState::Claimed { .. }, SlotState::Disqualified { .. }) => true,
                        (x, y) => x == y,
                    };
                    if !allowed || sa.leaf_hash != sb.leaf_hash {
                        return fail("a settled position moved back");
                    }
                }
            }
        }
    }
    Ok(())
}
