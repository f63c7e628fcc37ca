use proptest::prelude::*;

use super::fixture::{self, mixed, naive_ranking, pool, rules, seed, Lottery, Shape};
use crate::draw::draw_with_threads;
use crate::{draw, entries_root, status_root, DrawError, EntryId, Ranked, Status};

fn keys(ranked: &[Ranked]) -> Vec<(u8, crate::Hash, crate::Hash)> {
    ranked
        .iter()
        .map(|r| (r.tier, r.score, r.leaf_hash))
        .collect()
}

fn draw_ok(lottery: &Lottery, seed: &crate::Hash) -> crate::DrawResult {
    draw(&lottery.rules, &lottery.entries, &lottery.status, seed).expect("valid lottery")
}

#[test]
fn test_winners_and_waitlist_match_a_naive_full_sort() {
    let lottery = mixed(
        600,
        vec![
            pool(2, 5, 3),
            pool(4, 1, 0),
            pool(9, 40, 10),
            pool(11, 0, 4),
        ],
        7,
    );
    for s in 0..5 {
        let result = draw_ok(&lottery, &seed(s));
        for p in &result.pools {
            let expected = naive_ranking(&lottery, &seed(s), p.pool_id);
            let kept = expected.len().min((p.quota + p.waitlist_size) as usize);
            let winners = kept.min(p.quota as usize);
            assert_eq!(keys(&p.winners), expected[..winners], "pool {}", p.pool_id);
            assert_eq!(keys(&p.waitlist), expected[winners..kept]);
            assert_eq!(p.eligible_count as usize, expected.len());
        }
    }
}

#[test]
fn test_thread_count_does_not_change_the_result() {
    let lottery = mixed(
        20_000,
        (0..37).map(|p| pool(p * 3, p % 5, p % 4)).collect(),
        9,
    );
    let one = draw_with_threads(
        &lottery.rules,
        &lottery.entries,
        &lottery.status,
        &seed(1),
        1,
    )
    .expect("valid");
    for threads in [2, 3, 8] {
        let many = draw_with_threads(
            &lottery.rules,
            &lottery.entries,
            &lottery.status,
            &seed(1),
            threads,
        )
        .expect("valid");
        assert_eq!(many, one, "{threads} threads");
    }
}

proptest! {
    #[test]
    fn test_any_permutation_of_the_entries_gives_the_same_result(
        n in 0usize..300,
        pools in 1u32..6,
        shuffle in any::<u64>(),
    ) {
        let lottery = mixed(n, (0..pools).map(|p| pool(p, p % 3, p % 2 + 1)).collect(), 5);
        let mut pairs: Vec<_> = lottery.entries.iter().cloned().zip(lottery.status.iter().cloned()).collect();
        // Fisher-Yates driven by the proptest value.
        for i in (1..pairs.len()).rev() {
            let j = (fixture::number("shuffle", shuffle ^ i as u64) % (i as u64 + 1)) as usize;
            pairs.swap(i, j);
        }
        let (entries, status): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let original = draw_ok(&lottery, &seed(2));
        let permuted = draw(&lottery.rules, &entries, &status, &seed(2)).expect("valid");
        prop_assert_eq!(permuted, original);
        prop_assert_eq!(entries_root(&entries), entries_root(&lottery.entries));
        prop_assert_eq!(status_root(&entries, &status), status_root(&lottery.entries, &lottery.status));
    }
}

#[test]
fn test_fewer_eligible_entries_than_quota_all_win_and_waitlist_is_empty() {
    let lottery = fixture::lottery(rules(vec![pool(1, 10, 5)], 1, 1), 4, 1, |i| Shape {
        pool_at: 0,
        tier: 0,
        weight: 1,
        eligible: i != 2,
    });
    let result = draw_ok(&lottery, &seed(3));
    let p = &result.pools[0];
    assert_eq!((p.entries_count, p.eligible_count), (4, 3));
    assert!(p.waitlist.is_empty());
    let mut winners: Vec<u32> = p.winners.iter().map(|r| r.id.index).collect();
    winners.sort();
    assert_eq!(winners, [0, 1, 3]);
}

#[test]
fn test_quota_filled_then_waitlist_then_nothing() {
    let lottery = fixture::lottery(rules(vec![pool(1, 3, 2)], 1, 1), 9, 2, |_| Shape {
        pool_at: 0,
        tier: 0,
        weight: 1,
        eligible: true,
    });
    let p = &draw_ok(&lottery, &seed(4)).pools[0];
    assert_eq!((p.winners.len(), p.waitlist.len()), (3, 2));
    let ranked: Vec<&Ranked> = p.ranked().collect();
    assert!(ranked.windows(2).all(|w| w[0] < w[1]), "best first");
}

#[test]
fn test_better_tier_fills_first_then_next_tier_by_score() {
    // Tier 0 has 3 entries for a quota of 5: all win, then the best 2 of tier 1, then the
    // waitlist continues in tier 1; tier 2 is reached only after tier 1 runs out.
    let tiers = [1u8, 2, 0, 1, 1, 0, 2, 1, 0, 1, 2, 2];
    let lottery = fixture::lottery(rules(vec![pool(1, 5, 6)], 3, 1), tiers.len(), 1, |i| {
        Shape {
            pool_at: 0,
            tier: tiers[i],
            weight: 1,
            eligible: true,
        }
    });
    let p = &draw_ok(&lottery, &seed(5)).pools[0];
    let winner_tiers: Vec<u8> = p.winners.iter().map(|r| r.tier).collect();
    let waitlist_tiers: Vec<u8> = p.waitlist.iter().map(|r| r.tier).collect();
    assert_eq!(winner_tiers, [0, 0, 0, 1, 1]);
    assert_eq!(waitlist_tiers, [1, 1, 1, 2, 2, 2]);
    assert!(p.winners[3].score < p.winners[4].score);
}

#[test]
fn test_excluded_entries_are_counted_but_never_ranked() {
    let lottery = mixed(300, vec![pool(1, 100, 100)], 3);
    let p = &draw_ok(&lottery, &seed(6)).pools[0];
    assert_eq!(p.entries_count, 300);
    assert_eq!(p.eligible_count, 200);
    for r in p.ranked() {
        let at = lottery
            .entries
            .iter()
            .position(|e| e.id() == r.id)
            .expect("listed");
        assert!(lottery.status[at].eligible);
    }
}

#[test]
fn test_zero_slot_pools_empty_pools_and_empty_lottery() {
    let lottery = fixture::lottery(
        rules(vec![pool(1, 0, 0), pool(2, 2, 0), pool(3, 1, 1)], 1, 1),
        6,
        2,
        |i| Shape {
            pool_at: i % 2,
            tier: 0,
            weight: 1,
            eligible: true,
        },
    );
    let result = draw_ok(&lottery, &seed(7));
    assert_eq!(result.pools.len(), 3);
    assert!(result.pools[0].winners.is_empty() && result.pools[0].eligible_count == 3);
    assert_eq!(result.pools[1].winners.len(), 2);
    assert_eq!(result.pools[2].entries_count, 0);

    let empty = Lottery {
        entries: vec![],
        status: vec![],
        ..lottery
    };
    let result = draw_ok(&empty, &seed(7));
    assert!(result.pools.iter().all(|p| p.winners.is_empty()));
}

#[test]
fn test_huge_quota_and_waitlist_take_every_eligible_entry() {
    let lottery = mixed(50, vec![pool(1, u32::MAX, u32::MAX)], 5);
    let p = &draw_ok(&lottery, &seed(7)).pools[0];
    assert_eq!(p.winners.len() as u32, p.eligible_count);
    assert!(p.waitlist.is_empty());
}

#[test]
fn test_another_seed_gives_other_winners() {
    let lottery = mixed(500, vec![pool(1, 20, 0)], 100);
    let a = draw_ok(&lottery, &seed(8));
    let b = draw_ok(&lottery, &seed(9));
    assert_ne!(a.pools[0].winners, b.pools[0].winners);
    assert_ne!(a.results_root, b.results_root);
}

#[test]
fn test_each_invalid_dataset_is_refused_with_its_reason() {
    let base = mixed(40, vec![pool(1, 3, 1), pool(5, 2, 2)], 4);
    let id = base.entries[6].id();
    let relink = |l: &mut Lottery, at: usize| {
        let leaf = l.entries[at].leaf_hash();
        l.status[at].leaf_hash = leaf;
    };
    type Change = Box<dyn Fn(&mut Lottery)>;
    let cases: Vec<(Change, DrawError)> = vec![
        (
            Box::new(|l| l.entries[6].lottery_id = 1),
            DrawError::WrongLottery { id, lottery_id: 1 },
        ),
        (
            Box::new(|l| l.entries[6].pool_id = 3),
            DrawError::UnknownPool { id, pool_id: 3 },
        ),
        (
            Box::new(|l| l.entries[6].tier = 3),
            DrawError::TierOutOfRange {
                id,
                tier: 3,
                tier_count: 3,
            },
        ),
        (
            Box::new(|l| l.entries[6].weight = 0),
            DrawError::WeightOutOfRange {
                id,
                weight: 0,
                weight_max: 4,
            },
        ),
        (
            Box::new(|l| l.entries[6].weight = 5),
            DrawError::WeightOutOfRange {
                id,
                weight: 5,
                weight_max: 4,
            },
        ),
        (
            Box::new(|l| l.entries[6].received_at_ms = l.rules.close_at_ms + 1),
            DrawError::ReceivedOutsideWindow {
                id,
                received_at_ms: 1_000 + 3_600_001,
            },
        ),
        (
            Box::new(|l| l.entries[6].received_at_ms = l.rules.open_at_ms - 1),
            DrawError::ReceivedOutsideWindow {
                id,
                received_at_ms: 999,
            },
        ),
        (
            Box::new(|l| l.entries[6].nullifier[0] ^= 1),
            DrawError::StatusForOtherEntry(id),
        ),
        (
            Box::new(|l| l.status[6].reason_hash = [1; 32]),
            DrawError::MalformedStatus(id),
        ),
        (
            Box::new(|l| l.status[3].reason_hash = [0; 32]),
            DrawError::MalformedStatus(base.entries[3].id()),
        ),
        (
            Box::new(|l| {
                l.status.pop();
            }),
            DrawError::StatusCountMismatch {
                entries: 40,
                status: 39,
            },
        ),
        (
            Box::new(move |l| {
                l.entries[9].nullifier = l.entries[30].nullifier;
                relink(l, 9);
            }),
            DrawError::DuplicateNullifier {
                first: base.entries[9].id(),
                second: base.entries[30].id(),
            },
        ),
        (
            Box::new(move |l| {
                l.entries[7].index = l.entries[6].index;
                relink(l, 7);
            }),
            DrawError::DuplicateEntry(id),
        ),
        (Box::new(|l| l.rules.tier_count = 0), DrawError::NoTiers),
    ];
    for (at, (change, expected)) in cases.iter().enumerate() {
        let mut lottery = base.clone();
        change(&mut lottery);
        let got = draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(0));
        assert_eq!(got, Err(expected.clone()), "case {at}");
    }
}

#[test]
fn test_nullifiers_sharing_a_prefix_are_compared_in_full() {
    let mut lottery = mixed(30, vec![pool(1, 3, 1)], 100);
    for at in [4, 17, 25] {
        lottery.entries[at].nullifier[..8].copy_from_slice(&[0xab; 8]);
        lottery.status[at] = Status::eligible(lottery.entries[at].leaf_hash());
    }
    assert!(draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(0)).is_ok());
    lottery.entries[25].nullifier = lottery.entries[4].nullifier;
    lottery.status[25] = Status::eligible(lottery.entries[25].leaf_hash());
    assert_eq!(
        draw(&lottery.rules, &lottery.entries, &lottery.status, &seed(0)),
        Err(DrawError::DuplicateNullifier {
            first: lottery.entries[4].id(),
            second: lottery.entries[25].id(),
        })
    );
}

#[test]
fn test_first_fault_in_input_order_is_reported_for_any_thread_count() {
    let mut lottery = mixed(20_000, vec![pool(1, 3, 1)], 100);
    for at in [15_000, 4_000, 12_000] {
        lottery.entries[at].tier = 9;
    }
    let id = |at: usize| lottery.entries[at].id();
    for threads in [1, 2, 5] {
        let got = draw_with_threads(
            &lottery.rules,
            &lottery.entries,
            &lottery.status,
            &seed(0),
            threads,
        );
        assert_eq!(
            got,
            Err(DrawError::TierOutOfRange {
                id: id(4_000),
                tier: 9,
                tier_count: 3
            })
        );
    }
    assert_eq!(
        id(4_000),
        EntryId {
            batch_no: 1,
            index: 0
        }
    );
}
