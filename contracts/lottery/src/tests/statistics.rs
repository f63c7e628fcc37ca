//! Statistical checks that the draw is a fair lottery: they fail for a draw that ignores the
//! seed, favours early or late entries, or gets weights wrong. All inputs are fixed, so each
//! check gives the same figure on every run; the bounds are loose (p < 1e-5 for a fair draw).

use super::fixture::{self, pool, rules, seed, Lottery, Shape};
use crate::{draw, DrawResult};

const ENTRIES: usize = 1_000;
const QUOTA: u32 = 50;
const DRAWS: u64 = 200;
const DECILES: usize = 10;
/// Chi-square bound for 9 degrees of freedom: P(X > 40) < 1e-5.
const CHI_SQUARE_MAX: f64 = 40.0;

/// One pool of entries received in time order (entry i at open + i ms, batches of 100).
fn time_ordered() -> Lottery {
    fixture::lottery(rules(vec![pool(1, QUOTA, 0)], 1, 1), ENTRIES, 10, |_| {
        Shape {
            pool_at: 0,
            tier: 0,
            weight: 1,
            eligible: true,
        }
    })
}

/// Winners per submission-time decile over `DRAWS` draws; `pick` gives one draw's winners
/// as canonical positions (= receive order).
fn decile_counts(mut pick: impl FnMut(u64) -> Vec<usize>) -> [u64; DECILES] {
    let mut counts = [0u64; DECILES];
    for s in 0..DRAWS {
        for position in pick(s) {
            counts[position * DECILES / ENTRIES] += 1;
        }
    }
    counts
}

fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

fn winner_positions(result: &DrawResult) -> Vec<usize> {
    result.pools[0]
        .winners
        .iter()
        .map(|r| (r.id.batch_no * 100 + r.id.index) as usize)
        .collect()
}

#[test]
fn test_winners_are_uniform_over_submission_time() {
    let lottery = time_ordered();
    let counts = decile_counts(|s| {
        let result =
            draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(s)).expect("valid");
        winner_positions(&result)
    });
    let chi = chi_square(&counts);
    println!("winners per decile {counts:?}, chi-square {chi:.1}");
    assert_eq!(counts.iter().sum::<u64>(), DRAWS * u64::from(QUOTA));
    assert!(chi < CHI_SQUARE_MAX, "chi-square {chi:.1} for {counts:?}");
}

#[test]
fn test_uniformity_check_rejects_a_seed_blind_or_time_ordered_draw() {
    let lottery = time_ordered();
    // A draw that ignores the seed picks the same winners every time.
    let fixed = draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(0)).expect("valid");
    let seed_blind = chi_square(&decile_counts(|_| winner_positions(&fixed)));
    // First come, first served (rank by index or time).
    let first_come = chi_square(&decile_counts(|_| (0..QUOTA as usize).collect()));
    println!("seed-blind chi-square {seed_blind:.0}, first-come {first_come:.0}");
    assert!(seed_blind > CHI_SQUARE_MAX);
    assert!(first_come > CHI_SQUARE_MAX);
}

#[test]
fn test_weight_two_entries_win_twice_as_often() {
    // One slot among 5 weight-1 and 5 weight-2 entries: P(weight-2 group wins) = 10/15.
    const TRIALS: u64 = 3_000;
    let lottery = fixture::lottery(rules(vec![pool(1, 1, 0)], 1, 2), 10, 1, |i| Shape {
        pool_at: 0,
        tier: 0,
        weight: if i.is_multiple_of(2) { 2 } else { 1 },
        eligible: true,
    });
    let mut heavy_wins = 0u64;
    for s in 0..TRIALS {
        let result =
            draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(s)).expect("valid");
        let winner = &result.pools[0].winners[0];
        if winner.id.index.is_multiple_of(2) {
            heavy_wins += 1;
        }
    }
    let light_wins = TRIALS - heavy_wins;
    let ratio = heavy_wins as f64 / light_wins as f64;
    // Expected 2000 of 3000, standard deviation ~25.8; allow 5 of them.
    let expected = TRIALS as f64 * 2.0 / 3.0;
    let deviation = (TRIALS as f64 * 2.0 / 9.0).sqrt();
    println!("weight-2 wins {heavy_wins}, weight-1 wins {light_wins}, ratio {ratio:.2}");
    assert!(
        (heavy_wins as f64 - expected).abs() < 5.0 * deviation,
        "{heavy_wins}"
    );
}

#[test]
fn test_weighted_entries_keep_uniformity_within_each_weight() {
    // Weights 1..=4 spread over time; within each weight class, winners are uniform in time
    // (two halves), and heavier classes win more per entry.
    let lottery = fixture::lottery(rules(vec![pool(1, 40, 0)], 1, 4), ENTRIES, 10, |i| Shape {
        pool_at: 0,
        tier: 0,
        weight: 1 + (i % 4) as u16,
        eligible: true,
    });
    let mut wins = [[0u64; 2]; 4];
    for s in 0..DRAWS {
        let result =
            draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(s)).expect("valid");
        for position in winner_positions(&result) {
            wins[position % 4][position * 2 / ENTRIES] += 1;
        }
    }
    println!("wins by weight and half: {wins:?}");
    for class in &wins {
        assert!(chi_square(class) < 20.0, "{wins:?}");
    }
    let totals: Vec<u64> = wins.iter().map(|c| c[0] + c[1]).collect();
    assert!(totals.windows(2).all(|w| w[0] < w[1]), "{totals:?}");
}
