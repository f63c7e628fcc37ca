//! Creating a lottery, amending it before it opens, the entry batches, the status uploads and
//! the status commitment (design 6.3 steps 1-4).

use std::sync::Arc;

use imbl::OrdSet;
use jiu_types::{merkle, Hash, Role};

use super::ops::Exclusion;
use super::record::{BatchHeader, LotteryRecord, Stage, StatusBatch};
use super::{
    require_operator, Actor, LotteryCtx, LotteryError, LotteryEvent, Result, BATCHES_MAX,
    STATUS_ENTRIES_PER_OP_MAX,
};
use crate::rules::ENTRIES_MAX;
use crate::{Entry, LotteryRules, Rules, Status};

/// A new lottery, created by a Producer before its window opens (so applicants can read the
/// rules before they apply). The rules were validated by `check_bounds`.
pub(super) fn create(
    rules: &LotteryRules,
    actor: &Actor,
    ctx: &LotteryCtx<'_>,
) -> Result<(LotteryRecord, LotteryEvent)> {
    require_issuer_role(actor)?;
    require_future_open(rules, ctx)?;
    let record = LotteryRecord::new(rules.clone(), &actor.org_id);
    let event = LotteryEvent::LotteryCreated {
        lottery_id: rules.lottery_id(),
        rules_hash: record.rules_hash,
    };
    Ok((record, event))
}

fn require_issuer_role(actor: &Actor) -> Result<()> {
    if actor.role == Role::Producer {
        Ok(())
    } else {
        Err(LotteryError::NotIssuer {
            org_id: actor.org_id.clone(),
            role: actor.role,
        })
    }
}

fn require_future_open(rules: &LotteryRules, ctx: &LotteryCtx<'_>) -> Result<()> {
    let open_at_ms = rules.draw.open_at_ms;
    if ctx.time_ms < open_at_ms {
        Ok(())
    } else {
        Err(LotteryError::OpensInThePast {
            open_at_ms,
            time_ms: ctx.time_ms,
        })
    }
}

impl LotteryRecord {
    fn intake_end_ms(&self) -> u64 {
        self.rules.intake_end_ms()
    }

    /// New rules for the same lottery, by its issuer, while the window has not opened.
    /// Nothing else exists before the opening (an entry cannot be received before it), so
    /// replacing the rules is all there is to do.
    pub(super) fn amend(
        &mut self,
        rules: &LotteryRules,
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        require_issuer_role(actor)?;
        if actor.org_id != self.issuer {
            return Err(LotteryError::NotIssuer {
                org_id: actor.org_id.clone(),
                role: actor.role,
            });
        }
        let open_at_ms = self.rules.draw.open_at_ms;
        if ctx.time_ms >= open_at_ms {
            return Err(LotteryError::RulesFrozen { open_at_ms });
        }
        require_future_open(rules, ctx)?;
        assert!(
            self.batches.is_empty(),
            "no batch is accepted before the window opens"
        );
        *self = LotteryRecord::new(rules.clone(), &self.issuer);
        Ok(LotteryEvent::RulesAmended {
            lottery_id: rules.lottery_id(),
            rules_hash: self.rules_hash,
        })
    }

    /// The next batch of entries (see the module doc of [`super`] for every check).
    pub(super) fn append_batch(
        &mut self,
        batch_no: u32,
        entries: &[Entry],
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        require_operator(self, actor)?;
        let rules = Arc::clone(&self.rules);
        let intake_end_ms = rules.intake_end_ms();
        if ctx.time_ms > intake_end_ms || self.stage() != Stage::Collecting {
            return Err(LotteryError::LateBatch {
                time_ms: ctx.time_ms,
                intake_end_ms,
            });
        }
        if ctx.time_ms < rules.draw.open_at_ms {
            return Err(LotteryError::NotOpen {
                open_at_ms: rules.draw.open_at_ms,
                time_ms: ctx.time_ms,
            });
        }
        let expected = self.batches_len();
        if batch_no != expected {
            return Err(LotteryError::BatchOutOfOrder {
                expected,
                got: batch_no,
            });
        }
        if u64::from(expected) >= BATCHES_MAX {
            return Err(LotteryError::TooManyBatches { max: BATCHES_MAX });
        }
        let count = entries.len() as u64;
        if self.entries_count + count > ENTRIES_MAX as u64 {
            return Err(LotteryError::TooManyEntries {
                max: ENTRIES_MAX as u64,
            });
        }
        let mut leaves = Vec::with_capacity(entries.len());
        for (position, entry) in entries.iter().enumerate() {
            let position = u32::try_from(position).expect("batches are bounded");
            check_entry(&rules.draw, batch_no, position, entry, ctx.time_ms)?;
            // `self` is a clone: on a refusal the whole record, this set included, is dropped.
            if self.nullifiers.insert(entry.nullifier).is_some() {
                return Err(LotteryError::DuplicateNullifier {
                    position,
                    nullifier: entry.nullifier,
                });
            }
            leaves.push(entry.leaf_hash());
        }
        let received = entries.iter().map(|e| e.received_at_ms);
        let header = BatchHeader {
            batch_no,
            count: u32::try_from(entries.len()).expect("batches are bounded"),
            root: merkle::root(&leaves),
            first_received_ms: received.clone().min().expect("a batch is not empty"),
            last_received_ms: received.max().expect("a batch is not empty"),
            appended_at_ms: ctx.time_ms,
            signer: actor.key,
        };
        self.entries_tree.push(header.root);
        self.entries_count += count;
        self.entries.push_back(Arc::from(entries));
        let event = LotteryEvent::BatchAppended {
            lottery_id: rules.lottery_id(),
            batch_no,
            count: header.count,
            batch_root: header.root,
            entries_count: self.entries_count,
            entries_root: self.entries_tree.root(),
        };
        self.batches.push_back(header);
        Ok(event)
    }

    fn batches_len(&self) -> u32 {
        u32::try_from(self.batches.len()).expect("at most BATCHES_MAX batches")
    }

    fn require_closed(&self, ctx: &LotteryCtx<'_>) -> Result<()> {
        if self.stage() != Stage::Collecting {
            return Err(LotteryError::StatusAlreadyCommitted);
        }
        let intake_end_ms = self.intake_end_ms();
        if ctx.time_ms <= intake_end_ms {
            return Err(LotteryError::NotClosed {
                intake_end_ms,
                time_ms: ctx.time_ms,
            });
        }
        Ok(())
    }

    /// The status of the next `batches` batches: all eligible but the exclusions.
    pub(super) fn append_status(
        &mut self,
        first_batch_no: u32,
        batches: u32,
        exclusions: &[Exclusion],
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        require_operator(self, actor)?;
        self.require_closed(ctx)?;
        let expected = self.status_batches();
        if first_batch_no != expected {
            return Err(LotteryError::StatusOutOfOrder {
                expected,
                got: first_batch_no,
            });
        }
        let end = u64::from(first_batch_no) + u64::from(batches);
        if end > self.batches.len() as u64 {
            return Err(LotteryError::StatusBeyondBatches {
                last: end - 1,
                batches: self.batches_len(),
            });
        }
        let range = first_batch_no as usize..end as usize;
        let covered: u64 = range
            .clone()
            .map(|b| u64::from(self.batches[b].count))
            .sum();
        if covered > STATUS_ENTRIES_PER_OP_MAX {
            return Err(LotteryError::StatusRangeTooLarge {
                entries: covered,
                max: STATUS_ENTRIES_PER_OP_MAX,
            });
        }
        self.check_exclusions(first_batch_no, end, exclusions)?;
        let mut rest = exclusions;
        for b in range {
            let split = rest.partition_point(|x| x.batch_no as usize == b);
            let (own, after) = rest.split_at(split);
            rest = after;
            let root = status_batch_root(&self.entries[b], own);
            self.status_tree.push(root);
            self.status.push_back(StatusBatch {
                root,
                exclusions: Arc::from(own),
            });
        }
        self.excluded_count += exclusions.len() as u64;
        Ok(LotteryEvent::StatusAppended {
            lottery_id: self.rules.lottery_id(),
            first_batch_no,
            batches,
            excluded: u32::try_from(exclusions.len()).expect("bounded by check_bounds"),
        })
    }

    /// Strictly ascending by (batch, index), inside batches `first..end`, each naming an
    /// entry, each with a reason.
    fn check_exclusions(&self, first: u32, end: u64, exclusions: &[Exclusion]) -> Result<()> {
        for (position, x) in exclusions.iter().enumerate() {
            let bad = |why| LotteryError::BadExclusion {
                position: u32::try_from(position).expect("bounded by check_bounds"),
                why,
            };
            if position > 0
                && (
                    exclusions[position - 1].batch_no,
                    exclusions[position - 1].index,
                ) >= (x.batch_no, x.index)
            {
                return Err(bad("not strictly ascending by batch and index"));
            }
            if x.batch_no < first || u64::from(x.batch_no) >= end {
                return Err(bad("outside the covered batches"));
            }
            if x.index >= self.batches[x.batch_no as usize].count {
                return Err(bad("index beyond its batch"));
            }
            if x.reason_hash == [0; 32] {
                return Err(bad("zero reason hash"));
            }
        }
        Ok(())
    }

    /// The status commitment: it must cover exactly the entry set and equal the root of the
    /// uploaded statuses. Drops the nullifier set: no entry can come after it.
    pub(super) fn commit_status(
        &mut self,
        entries_count: u64,
        entries_root: &Hash,
        status_root: &Hash,
        actor: &Actor,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        require_operator(self, actor)?;
        self.require_closed(ctx)?;
        let root = self.entries_root();
        if entries_count != self.entries_count || *entries_root != root {
            return Err(LotteryError::StatusNotCovering {
                count: self.entries_count,
                root,
                got_count: entries_count,
                got_root: *entries_root,
            });
        }
        if self.status.len() < self.batches.len() {
            return Err(LotteryError::StatusIncomplete {
                covered: self.status_batches(),
                batches: self.batches_len(),
            });
        }
        let expected = self.status_tree.root();
        if *status_root != expected {
            return Err(LotteryError::StatusRootMismatch {
                expected,
                got: *status_root,
            });
        }
        self.status_root = Some(expected);
        self.nullifiers = OrdSet::new();
        Ok(LotteryEvent::StatusCommitted {
            lottery_id: self.rules.lottery_id(),
            status_root: expected,
        })
    }
}

/// One entry against its place in the batch, the rules and the block time.
fn check_entry(
    rules: &Rules,
    batch_no: u32,
    position: u32,
    entry: &Entry,
    time_ms: u64,
) -> Result<()> {
    let fields = [
        ("lottery_id", rules.lottery_id, entry.lottery_id),
        ("batch_no", u64::from(batch_no), u64::from(entry.batch_no)),
        ("index", u64::from(position), u64::from(entry.index)),
    ];
    if let Some((field, expected, got)) = fields.into_iter().find(|(_, e, g)| e != g) {
        return Err(LotteryError::EntryFieldMismatch {
            position,
            field,
            expected,
            got,
        });
    }
    if rules.pool_position(entry.pool_id).is_none() {
        return Err(LotteryError::UnknownPool {
            position,
            pool_id: entry.pool_id,
        });
    }
    if entry.tier >= rules.tier_count {
        return Err(LotteryError::TierNotAllowed {
            position,
            tier: entry.tier,
            tier_count: rules.tier_count,
        });
    }
    if entry.weight == 0 || entry.weight > rules.weight_max {
        return Err(LotteryError::WeightNotAllowed {
            position,
            weight: entry.weight,
            weight_max: rules.weight_max,
        });
    }
    let received_at_ms = entry.received_at_ms;
    if !(rules.open_at_ms..=rules.close_at_ms).contains(&received_at_ms) {
        return Err(LotteryError::EntryOutsideWindow {
            position,
            received_at_ms,
        });
    }
    if received_at_ms > time_ms {
        return Err(LotteryError::EntryFromTheFuture {
            position,
            received_at_ms,
            time_ms,
        });
    }
    Ok(())
}

/// RFC 6962 root over a batch's status leaves: eligible, except the exclusions (which are
/// ascending and name entries of this batch).
pub(super) fn status_batch_root(entries: &[Entry], exclusions: &[Exclusion]) -> Hash {
    let mut next = exclusions.iter().peekable();
    let leaves: Vec<Hash> = entries
        .iter()
        .map(|entry| {
            let leaf = entry.leaf_hash();
            match next.next_if(|x| x.index == entry.index) {
                Some(x) => Status::excluded(leaf, x.reason_hash).hash(),
                None => Status::eligible(leaf).hash(),
            }
        })
        .collect();
    assert!(
        next.next().is_none(),
        "every exclusion names an entry of its batch"
    );
    merkle::root(&leaves)
}
