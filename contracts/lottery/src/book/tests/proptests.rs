//! Random op sequences, from random actors, with random flaws, over a small lottery and a
//! moving block clock: after every op the invariants hold and the transition is allowed (the
//! world checks both), a refused op changes nothing, and an unflawed op whose stage and time
//! allow it is accepted (so the book and the independent computations of the roots and the
//! draw agree on random data).

use proptest::prelude::*;

use super::kit::*;
use crate::book::{Actor, Exclusion, LotteryOp, SettleAction, Settlement, Stage};

#[derive(Clone, Debug)]
enum Intent {
    Advance(u64),
    /// Move the close by this much (before the opening only).
    Amend(u64),
    /// `flaw`: 0 none; 1 a repeated nullifier; 2 the wrong batch number; 3 an index gap;
    /// 4 an unknown pool; 5 an entry from the future.
    Batch {
        n: u32,
        flaw: u8,
        by: u8,
    },
    /// `flaw`: 0 none; 1 the wrong first batch; 2 unsorted exclusions.
    Status {
        batches: u32,
        mask: u8,
        flaw: u8,
    },
    /// `flaw`: 0 none; 1 the wrong count; 2 the wrong entries root; 3 the wrong status root.
    CommitStatus {
        flaw: u8,
    },
    /// `flaw`: 0 none; 1 another status root in the message; 2 a bad signature.
    Seed {
        flaw: u8,
    },
    /// `flaw`: 0 none; 1 the wrong results root.
    Results {
        flaw: u8,
    },
    Settle {
        pool_id: u32,
        position: u32,
        action: u8,
        wrong_leaf: bool,
        by: u8,
    },
}

fn arb_intent() -> impl Strategy<Value = Intent> {
    let steps = [0, 500, 2_000, 8_000, 20_000];
    prop_oneof![
        3 => (0..steps.len()).prop_map(move |i| Intent::Advance(steps[i])),
        1 => (0u64..3).prop_map(|k| Intent::Amend(k * 1_000)),
        4 => (1u32..9, prop_oneof![3 => Just(0u8), 1 => 1u8..6], 0u8..6)
            .prop_map(|(n, flaw, by)| Intent::Batch { n, flaw, by }),
        3 => (1u32..9, any::<u8>(), prop_oneof![3 => Just(0u8), 1 => 1u8..3])
            .prop_map(|(batches, mask, flaw)| Intent::Status { batches, mask, flaw }),
        3 => prop_oneof![3 => Just(0u8), 1 => 1u8..4].prop_map(|flaw| Intent::CommitStatus { flaw }),
        3 => prop_oneof![3 => Just(0u8), 1 => 1u8..3].prop_map(|flaw| Intent::Seed { flaw }),
        3 => prop_oneof![3 => Just(0u8), 1 => Just(1u8)].prop_map(|flaw| Intent::Results { flaw }),
        6 => arb_settle(),
    ]
}

fn arb_settle() -> impl Strategy<Value = Intent> {
    (1u32..4, 0u32..8, 0u8..3, prop::bool::weighted(0.1), 0u8..6).prop_map(
        |(pool_id, position, action, wrong_leaf, by)| Intent::Settle {
            pool_id,
            position,
            action,
            wrong_leaf,
            by,
        },
    )
}

/// Settlements, and time passing over the claim windows.
fn arb_claims() -> impl Strategy<Value = Intent> {
    let steps = [0, 10_000, 31_000];
    prop_oneof![
        1 => (0..steps.len()).prop_map(move |i| Intent::Advance(steps[i])),
        4 => arb_settle(),
    ]
}

/// Mostly the operator (either key), sometimes a store, which may do none of these.
fn actor(by: u8) -> Actor {
    match by {
        0..=3 => operator(),
        4 => operator_2(),
        _ => store(),
    }
}

/// The op for `intent` in the world's current state, and whether it must be accepted.
fn build(w: &World, intent: &Intent) -> Option<(Actor, LotteryOp, bool)> {
    let record = w.record();
    let stage = record.stage();
    let collecting = stage == Stage::Collecting;
    let rules = record.rules();
    let open = (rules.draw.open_at_ms..=rules.intake_end_ms()).contains(&w.time_ms);
    let closed = w.time_ms > rules.intake_end_ms();
    Some(match intent {
        Intent::Advance(_) => return None,
        Intent::Amend(shift) => {
            let mut rules = record.rules().clone();
            rules.draw.close_at_ms += shift;
            let may = w.time_ms < record.rules().draw.open_at_ms;
            (issuer(), LotteryOp::AmendRules { rules }, may)
        }
        Intent::Batch { n, flaw, by } => {
            let mut op = w.clone_for_batch(*n);
            let LotteryOp::AppendBatch {
                batch_no, entries, ..
            } = &mut op
            else {
                unreachable!("fresh_batch builds an AppendBatch")
            };
            let last = entries.len() - 1;
            match flaw {
                1 => match record.dataset().and_then(|(all, _)| all.first().cloned()) {
                    Some(old) => entries[last].nullifier = old.nullifier,
                    None if last > 0 => entries[last].nullifier = entries[0].nullifier,
                    None => entries[0].pool_id = 9,
                },
                2 => *batch_no += 1,
                3 => entries[last].index += 1,
                4 => entries[last].pool_id = 9,
                5 => entries[last].received_at_ms = w.time_ms + 1,
                _ => {}
            }
            let must = *flaw == 0 && *by <= 4 && collecting && open;
            (actor(*by), op, must)
        }
        Intent::Status {
            batches,
            mask,
            flaw,
        } => {
            let first = record.status_batches();
            let remaining = record.batches().len() as u32 - first;
            let covered = (*batches).min(remaining).max(1);
            let mut exclusions: Vec<Exclusion> = (first..first + covered)
                .filter(|b| mask & (1 << (b % 8)) != 0)
                .map(|b| exclude(b, 0))
                .collect();
            let mut first_batch_no = first;
            match flaw {
                1 => first_batch_no += 1,
                2 => exclusions.reverse(),
                _ => {}
            }
            let unsorted = *flaw == 2 && exclusions.len() > 1;
            let must =
                (*flaw == 0 || (*flaw == 2 && !unsorted)) && collecting && closed && remaining > 0;
            (
                operator(),
                status(first_batch_no, covered, exclusions),
                must,
            )
        }
        Intent::CommitStatus { flaw } => {
            let mut op = if record.holds_entries() {
                w.commit_status_op()
            } else {
                commit_zero()
            };
            if let LotteryOp::CommitStatus {
                entries_count,
                entries_root,
                status_root,
                ..
            } = &mut op
            {
                match flaw {
                    1 => *entries_count += 1,
                    2 => entries_root[0] ^= 1,
                    3 => status_root[0] ^= 1,
                    _ => {}
                }
            }
            let complete = record.status_batches() as usize == record.batches().len();
            let must = *flaw == 0 && collecting && closed && complete;
            (operator(), op, must)
        }
        Intent::Seed { flaw } => {
            let mut op = if stage == Stage::Collecting {
                LotteryOp::SubmitSeed {
                    lottery_id: ID,
                    message: vec![1],
                    signature: fake_sign(&[1]),
                }
            } else if stage == Stage::StatusCommitted {
                w.seed_op()
            } else {
                // The seed op of a later stage cannot be rebuilt; any op is refused.
                LotteryOp::SubmitSeed {
                    lottery_id: ID,
                    message: vec![2],
                    signature: vec![2],
                }
            };
            if let LotteryOp::SubmitSeed {
                message, signature, ..
            } = &mut op
            {
                match flaw {
                    1 => {
                        *message.last_mut().expect("not empty") ^= 1;
                        *signature = fake_sign(message);
                    }
                    2 => signature[0] ^= 1,
                    _ => {}
                }
            }
            (store(), op, *flaw == 0 && stage == Stage::StatusCommitted)
        }
        Intent::Results { flaw } => {
            let mut op = if stage == Stage::Seeded {
                w.results_op()
            } else {
                LotteryOp::CommitResults {
                    lottery_id: ID,
                    results_root: [3; 32],
                }
            };
            if let (1, LotteryOp::CommitResults { results_root, .. }) = (flaw, &mut op) {
                results_root[0] ^= 1;
            }
            (store(), op, *flaw == 0 && stage == Stage::Seeded)
        }
        Intent::Settle {
            pool_id,
            position,
            action,
            wrong_leaf,
            by,
        } => {
            // Mostly a ranked position of the pool; sometimes one past the list.
            let ranked = record
                .pool_slots(*pool_id)
                .map_or(0, |pool| pool.slots.len() as u32);
            let position = &(*position % (ranked + 1));
            let leaf_hash = record
                .pool_slots(*pool_id)
                .and_then(|pool| pool.slots.get(*position as usize))
                .map_or([0; 32], |slot| slot.leaf_hash);
            let mut item = Settlement {
                pool_id: *pool_id,
                position: *position,
                leaf_hash,
                action: match action {
                    0 => SettleAction::Claim {
                        order_hash: bytes("order", u64::from(*position)),
                    },
                    1 => SettleAction::Disqualify {
                        reason_hash: bytes("fraud", u64::from(*position)),
                    },
                    _ => SettleAction::Forfeit,
                },
            };
            if *wrong_leaf {
                item.leaf_hash[0] ^= 1;
            }
            (actor(*by), settle(vec![item]), false)
        }
    })
}

fn commit_zero() -> LotteryOp {
    LotteryOp::CommitStatus {
        lottery_id: ID,
        entries_count: 0,
        entries_root: [0; 32],
        status_root: [0; 32],
    }
}

impl World {
    /// A fresh batch without advancing the entry counter when it is refused.
    fn clone_for_batch(&self, n: u32) -> LotteryOp {
        let mut scratch = World {
            book: self.book.clone(),
            time_ms: self.time_ms,
            chain_id: self.chain_id,
            prepared: Vec::new(),
            next_entry: self.next_entry,
            verifier: Box::new(FakeVerifier),
        };
        scratch.fresh_batch(n, &[1, 2, 3])
    }
}

/// Three small pools; a 20 s window, 1 s grace and a 30 s claim window, so that a sequence
/// of a few dozen ops crosses every stage.
fn three_pool_rules() -> crate::LotteryRules {
    let mut rules = rules_with(vec![pool(1, 2, 1), pool(2, 1, 2), pool(3, 0, 1)], 2, 3);
    rules.draw.close_at_ms = OPEN + 20_000;
    rules.grace_ms = 1_000;
    rules.claim_window_ms = 30_000;
    rules
}

impl World {
    /// Runs the intents; checks that an unflawed op the stage and time allow is accepted.
    fn play(&mut self, intents: &[Intent]) -> Result<(), TestCaseError> {
        for intent in intents {
            if let Intent::Advance(ms) = intent {
                self.time_ms += ms;
                continue;
            }
            let Some((actor, op, must)) = build(self, intent) else {
                continue;
            };
            let result = self.step(&actor, &op);
            if let (Ok(_), LotteryOp::AppendBatch { entries, .. }) = (&result, &op) {
                self.next_entry += entries.len() as u64;
            }
            prop_assert!(
                !must || result.is_ok(),
                "{intent:?} at {} in {:?} refused: {result:?}",
                self.time_ms,
                self.record().stage()
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A first run of ops from the opening (mostly batches land), then a jump past close +
    /// grace and a second run (statuses, commitment, seed, draw), then settlements.
    #[test]
    fn test_random_op_sequences_keep_the_invariants(
        during in prop::collection::vec(arb_intent(), 1..30),
        after in prop::collection::vec(arb_intent(), 1..60),
        claims in prop::collection::vec(arb_claims(), 0..30),
    ) {
        let mut w = World::created(three_pool_rules());
        w.time_ms = OPEN;
        w.play(&during)?;
        w.time_ms = w.time_ms.max(w.record().rules().intake_end_ms() + 1);
        w.play(&after)?;
        w.play(&claims)?;
    }
}
