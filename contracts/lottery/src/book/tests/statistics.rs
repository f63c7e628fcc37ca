//! Winners are uniform over submission time (no DV-2012-style bias, where a programming
//! error selected 90% of the winners from the first two days of a 30-day window).
//!
//! 20,000 entries are received evenly over a day (one every 4.32 s, in 20 batches of 1,000)
//! into one pool with 2,000 winners, taken through the whole book lifecycle for each of 20
//! fixed seeds; the winners are counted in 10 submission-time buckets (2.4 h each) over all
//! seeds and compared with the uniform 4,000 per bucket by a chi-square statistic with 9
//! degrees of freedom. A fair draw stays below 27.88 with probability 0.999; the seeds are
//! fixed, so the test is deterministic. The negative controls feed the same check with a
//! first-come ranking (rank by index, the DV-2012 failure) and with a draw that lets only
//! the 20 earliest entries (1% of the winners) jump the queue; both must fail it.

use super::kit::*;
use crate::book::{LotteryOp, SeedVerifier};
use crate::EntryId;

const ENTRIES: u32 = 20_000;
const PER_BATCH: u32 = 1_000;
const WINNERS: u32 = 2_000;
const SEEDS: u64 = 20;
const BUCKETS: usize = 10;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Chi-square with 9 degrees of freedom: P(X > 27.88) = 0.001.
const CHI_SQUARE_MAX: f64 = 27.88;

/// Accepts any signature: the test chooses its seeds (the seed is the hash of the bytes).
struct AnySignature;

impl SeedVerifier for AnySignature {
    fn verify(&self, _message: &[u8], _signature: &[u8]) -> bool {
        true
    }
}

/// The lottery up to the status commitment; entry `i` (batch `i / 1000`) is received at
/// `open + i * 4.32 s`.
fn day_lottery() -> World {
    let mut rules = rules_with(vec![pool(1, WINNERS, 0)], 1, 1);
    rules.draw.close_at_ms = OPEN + DAY_MS;
    let mut w = World::created(rules);
    w.verifier = Box::new(AnySignature);
    let spacing = DAY_MS / u64::from(ENTRIES);
    for b in 0..ENTRIES / PER_BATCH {
        let entries: Vec<_> = (0..PER_BATCH)
            .map(|i| {
                let n = u64::from(b * PER_BATCH + i);
                entry(b, i, 1, OPEN + n * spacing, n)
            })
            .collect();
        w.time_ms = entries.last().expect("not empty").received_at_ms;
        w.ok(&operator(), append(b, entries));
    }
    w.time_ms = OPEN + DAY_MS + GRACE + 1;
    for b in 0..ENTRIES / PER_BATCH {
        w.ok(&operator(), status(b, 1, vec![]));
    }
    w.ok(&operator(), w.commit_status_op());
    w
}

/// Position in submission order.
fn order(id: EntryId) -> u32 {
    id.batch_no * PER_BATCH + id.index
}

/// The winners' submission positions for each fixed seed, drawn by the book.
fn book_winners(lottery: &World) -> Vec<Vec<u32>> {
    (0..SEEDS)
        .map(|k| {
            let mut w = World {
                book: lottery.book.clone(),
                time_ms: lottery.time_ms,
                chain_id: CHAIN,
                prepared: Vec::new(),
                next_entry: 0,
                verifier: Box::new(AnySignature),
            };
            let mut seed = w.seed_op();
            if let LotteryOp::SubmitSeed { signature, .. } = &mut seed {
                *signature = bytes("fixed seed", k).to_vec();
            }
            w.ok(&store(), seed);
            w.prepared = vec![w.book.draw_job(ID).expect("seeded").run()];
            let root = w.prepared[0].result().results_root;
            w.ok(
                &store(),
                LotteryOp::CommitResults {
                    lottery_id: ID,
                    results_root: root,
                },
            );
            let slots = &w.record().pool_slots(1).expect("drawn").slots;
            assert_eq!(slots.len(), WINNERS as usize);
            slots.iter().map(|slot| order(slot.id)).collect()
        })
        .collect()
}

fn chi_square(draws: &[Vec<u32>]) -> (f64, [u64; BUCKETS]) {
    let mut counts = [0u64; BUCKETS];
    for position in draws.iter().flatten() {
        counts[*position as usize * BUCKETS / ENTRIES as usize] += 1;
    }
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / BUCKETS as f64;
    let chi = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    (chi, counts)
}

#[test]
fn test_winners_are_uniform_over_submission_time() {
    let lottery = day_lottery();
    let fair = book_winners(&lottery);
    let (chi, counts) = chi_square(&fair);
    println!("winners per 2.4 h bucket over {SEEDS} seeds: {counts:?}, chi-square {chi:.1}");
    assert_eq!(counts.iter().sum::<u64>(), SEEDS * u64::from(WINNERS));
    assert!(chi < CHI_SQUARE_MAX, "chi-square {chi:.1} for {counts:?}");

    // Negative control 1: first come, first served (rank by index), as in DV-2012.
    let first_come: Vec<Vec<u32>> = (0..SEEDS).map(|_| (0..WINNERS).collect()).collect();
    let (chi_first, _) = chi_square(&first_come);
    // Negative control 2: the 20 earliest entries always win, the rest as drawn.
    let early = 20;
    let slightly_biased: Vec<Vec<u32>> = fair
        .iter()
        .map(|winners| {
            let rest = winners.iter().copied().filter(|p| *p >= early);
            (0..early).chain(rest).take(WINNERS as usize).collect()
        })
        .collect();
    let (chi_slight, slight_counts) = chi_square(&slightly_biased);
    println!(
        "first-come chi-square {chi_first:.0}; 1% early bias {slight_counts:?}, chi-square {chi_slight:.1}"
    );
    assert!(chi_first > CHI_SQUARE_MAX);
    assert!(chi_slight > CHI_SQUARE_MAX);
}
