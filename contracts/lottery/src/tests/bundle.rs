use super::fixture::{mixed, pool, seed, Lottery};
use crate::tree::{BatchedTree, Layout};
use crate::{
    draw, verify_applicant, ApplicantBundle, DrawResult, Entry, FraudReason, Hash, Prover, Ranked,
    Verdict,
};

/// Pool 1 has a full list, pool 2 more slots than entries, pool 3 no slots, pool 8 a quota
/// and no waitlist.
fn setup() -> (Lottery, Hash, DrawResult) {
    let lottery = mixed(
        200,
        vec![pool(1, 4, 3), pool(2, 80, 10), pool(3, 0, 0), pool(8, 2, 0)],
        6,
    );
    let seed = seed(11);
    let result = draw(&lottery.rules, &lottery.entries, &lottery.status, &seed).expect("valid");
    (lottery, seed, result)
}

fn bundle_for(
    lottery: &Lottery,
    seed: Hash,
    result: &DrawResult,
    entry: &Entry,
) -> ApplicantBundle {
    Prover::new(
        lottery.entries.clone(),
        lottery.status.clone(),
        seed,
        result.clone(),
    )
    .expect("valid dataset")
    .bundle(entry.id())
    .expect("entry exists")
}

fn ranked_of(entry: &Entry, seed: &Hash) -> Ranked {
    let leaf_hash = entry.leaf_hash();
    Ranked {
        tier: entry.tier,
        score: entry.score(seed, &leaf_hash).expect("weight >= 1"),
        leaf_hash,
        id: entry.id(),
    }
}

/// The first entry whose verdict is `wanted` in pool `pool_id`.
fn find(
    lottery: &Lottery,
    seed: Hash,
    result: &DrawResult,
    pool_id: u32,
    wanted: fn(&Verdict) -> bool,
) -> Entry {
    let prover = Prover::new(
        lottery.entries.clone(),
        lottery.status.clone(),
        seed,
        result.clone(),
    )
    .expect("valid");
    lottery
        .entries
        .iter()
        .filter(|e| e.pool_id == pool_id)
        .find(|e| wanted(&verify_applicant(&prover.bundle(e.id()).expect("exists"))))
        .expect("the fixture has such an entry")
        .clone()
}

#[test]
fn test_every_applicant_verdict_matches_the_draw() {
    let (lottery, seed, result) = setup();
    let prover = Prover::new(
        lottery.entries.clone(),
        lottery.status.clone(),
        seed,
        result.clone(),
    )
    .expect("valid");
    let mut seen = [0usize; 4];
    for (entry, status) in lottery.entries.iter().zip(&lottery.status) {
        let (_, pool) = result.pool(entry.pool_id).expect("pool exists");
        let leaf = entry.leaf_hash();
        let rank_in = |list: &[Ranked]| {
            list.iter()
                .position(|r| r.leaf_hash == leaf)
                .map(|at| at as u32 + 1)
        };
        let expected = if !status.eligible {
            Verdict::Ineligible {
                reason_hash: status.reason_hash,
            }
        } else if let Some(rank) = rank_in(&pool.winners) {
            Verdict::Winner { rank }
        } else if let Some(rank) = rank_in(&pool.waitlist) {
            Verdict::Waitlisted { rank }
        } else {
            Verdict::NotWinner
        };
        let bundle = prover.bundle(entry.id()).expect("exists");
        let verdict = verify_applicant(&bundle);
        assert_eq!(verdict, expected, "{}", entry.id());
        seen[match verdict {
            Verdict::Winner { .. } => 0,
            Verdict::Waitlisted { .. } => 1,
            Verdict::NotWinner => 2,
            _ => 3,
        }] += 1;
    }
    assert!(seen.iter().all(|count| *count > 0), "{seen:?}");
    assert_eq!(prover.commitments().results_root, result.results_root);
}

#[test]
fn test_tampered_bundle_pieces_fail_with_the_precise_reason() {
    let (lottery, seed, result) = setup();
    let applicant = find(&lottery, seed, &result, 1, |v| *v == Verdict::NotWinner);
    let bundle = bundle_for(&lottery, seed, &result, &applicant);
    assert_eq!(verify_applicant(&bundle), Verdict::NotWinner);
    assert!(!bundle.entry_proof.batch_path.is_empty() && !bundle.status_proof.top_path.is_empty());

    use FraudReason::*;
    type Tamper = fn(&mut ApplicantBundle);
    let cases: [(Tamper, FraudReason); 18] = [
        (|b| b.commitments.lottery_id += 1, EntryForOtherLottery),
        (|b| b.entry.received_at_ms += 1, EntryNotInEntriesRoot),
        (
            |b| b.entry_proof.batch_path[0][0] ^= 1,
            EntryNotInEntriesRoot,
        ),
        (|b| b.entry_proof.batch_root[0] ^= 1, EntryNotInEntriesRoot),
        (
            |b| b.commitments.entries_root[0] ^= 1,
            EntryNotInEntriesRoot,
        ),
        (|b| b.status.leaf_hash[0] ^= 1, StatusForOtherEntry),
        (|b| b.status_proof.batch_len += 1, StatusProofShapeMismatch),
        (
            |b| {
                b.status.eligible = false;
                b.status.reason_hash = [1; 32];
            },
            StatusNotInStatusRoot,
        ),
        (
            |b| b.status_proof.top_path[0][0] ^= 1,
            StatusNotInStatusRoot,
        ),
        (|b| b.commitments.status_root[0] ^= 1, StatusNotInStatusRoot),
        (|b| b.pool.pool_id += 1, PoolResultForOtherPool),
        (|b| b.pool.eligible_count -= 1, PoolResultNotInResultsRoot),
        (|b| b.pool_proof.position += 1, PoolResultNotInResultsRoot),
        (
            |b| b.commitments.results_root[0] ^= 1,
            PoolResultNotInResultsRoot,
        ),
        (
            |b| {
                b.ranked.pop();
            },
            RankedListNotCommitted,
        ),
        (|b| b.ranked.swap(0, 1), RankedListNotCommitted),
        // A changed preimage no longer hashes to the committed item.
        (
            |b| b.ranked[1].entry.commitment[0] ^= 1,
            RankedListNotCommitted,
        ),
        (|b| b.commitments.seed[0] ^= 1, ListedScoreWrong { rank: 1 }),
    ];
    for (at, (tamper, reason)) in cases.iter().enumerate() {
        let mut tampered = bundle.clone();
        tamper(&mut tampered);
        assert_eq!(
            verify_applicant(&tampered),
            Verdict::Fraud(*reason),
            "case {at}"
        );
        // Only a wrong seed is draw evidence, and only if the seed is the finalized one.
        assert_eq!(
            reason.proves_wrong_draw(),
            *reason == ListedScoreWrong { rank: 1 }
        );
    }
}

/// Re-commits `result` after `forge` changes pool `pool_id`, as a faulty quorum would.
fn forged(
    result: &DrawResult,
    pool_id: u32,
    forge: impl FnOnce(&mut crate::PoolResult),
) -> DrawResult {
    let mut pools = result.pools.clone();
    let (at, _) = result.pool(pool_id).expect("pool exists");
    forge(&mut pools[at]);
    DrawResult::new(result.lottery_id, pools)
}

fn verdict_under(lottery: &Lottery, seed: Hash, result: &DrawResult, entry: &Entry) -> Verdict {
    verify_applicant(&bundle_for(lottery, seed, result, entry))
}

#[test]
fn test_wrong_committed_lists_are_caught_as_draw_fraud() {
    let (lottery, seed, result) = setup();
    let loser = find(&lottery, seed, &result, 1, |v| *v == Verdict::NotWinner);
    let outsider = lottery
        .entries
        .iter()
        .find(|e| e.pool_id == 8)
        .expect("pool 8 has entries");
    use FraudReason::*;
    type Forge = Box<dyn Fn(&mut crate::PoolResult)>;
    let other = ranked_of(outsider, &seed);
    let cases: Vec<(Forge, FraudReason)> = vec![
        (
            Box::new(|p| p.winners[0].score = [0; 32]),
            ListedScoreWrong { rank: 1 },
        ),
        (
            Box::new(|p| p.winners[3].tier += 1),
            ListedTierWrong { rank: 4 },
        ),
        (
            Box::new(|p| p.winners.swap(1, 2)),
            ListNotSorted { rank: 3 },
        ),
        (
            Box::new(move |p| p.winners[0] = other.clone()),
            ListedFromOtherPool { rank: 1 },
        ),
        (
            Box::new(|p| {
                p.waitlist.pop();
            }),
            ListLengthWrong {
                expected: 7,
                got: 6,
            },
        ),
        (
            Box::new(|p| p.eligible_count = p.entries_count + 1),
            EligibleCountExceedsEntries,
        ),
    ];
    for (at, (forge, reason)) in cases.iter().enumerate() {
        let bad = forged(&result, 1, forge);
        assert_eq!(
            verdict_under(&lottery, seed, &bad, &loser),
            Verdict::Fraud(*reason),
            "case {at}"
        );
        assert!(reason.proves_wrong_draw());
    }
}

#[test]
fn test_an_omitted_applicant_holds_a_fraud_proof() {
    let (lottery, seed, result) = setup();
    // Full pool: the rank-1 winner is dropped and everyone moves up one place.
    let first = find(&lottery, seed, &result, 1, |v| {
        *v == Verdict::Winner { rank: 1 }
    });
    let (_, pool) = result.pool(1).expect("pool 1");
    let mut ranked: Vec<Ranked> = pool.ranked().skip(1).cloned().collect();
    let next = lottery
        .entries
        .iter()
        .zip(&lottery.status)
        .filter(|(e, s)| e.pool_id == 1 && s.eligible)
        .map(|(e, _)| ranked_of(e, &seed))
        .filter(|r| r > ranked.last().expect("non-empty"))
        .min()
        .expect("pool 1 has more eligible entries than slots");
    ranked.push(next);
    let bad = forged(&result, 1, |p| {
        p.waitlist = ranked.split_off(p.winners.len());
        p.winners = ranked;
    });
    assert_eq!(
        verdict_under(&lottery, seed, &bad, &first),
        Verdict::Fraud(FraudReason::OmittedAboveCutoff)
    );

    // Unfilled pool: a winner is dropped and the eligible count lowered to match.
    let winner = find(&lottery, seed, &result, 2, |v| {
        matches!(v, Verdict::Winner { .. })
    });
    let leaf = winner.leaf_hash();
    let bad = forged(&result, 2, |p| {
        p.winners.retain(|r| r.leaf_hash != leaf);
        p.eligible_count -= 1;
    });
    assert_eq!(
        verdict_under(&lottery, seed, &bad, &winner),
        Verdict::Fraud(FraudReason::OmittedFromUnfilledPool)
    );

    // An excluded entry slipped into the list in its score's place.
    let excluded = find(&lottery, seed, &result, 2, |v| {
        matches!(v, Verdict::Ineligible { .. })
    });
    let bad = forged(&result, 2, |p| {
        p.winners.push(ranked_of(&excluded, &seed));
        p.winners.sort();
        p.eligible_count += 1;
    });
    assert!(matches!(
        verdict_under(&lottery, seed, &bad, &excluded),
        Verdict::Fraud(FraudReason::IneligibleEntryRanked { .. })
    ));
}

#[test]
fn test_bundle_round_trips_through_borsh_and_json() {
    let (lottery, seed, result) = setup();
    let entry = find(&lottery, seed, &result, 1, |v| {
        matches!(v, Verdict::Waitlisted { .. })
    });
    let bundle = bundle_for(&lottery, seed, &result, &entry);
    let bytes = borsh::to_vec(&bundle).expect("encodes");
    let back: ApplicantBundle = borsh::from_slice(&bytes).expect("decodes");
    assert_eq!(back, bundle);
    let json = serde_json::to_string(&bundle).expect("encodes");
    let back: ApplicantBundle = serde_json::from_str(&json).expect("decodes");
    assert_eq!(back, bundle);
    println!(
        "bundle with {} ranked entries: {} bytes (borsh)",
        bundle.ranked.len(),
        bytes.len()
    );
}

#[test]
fn test_committed_malformed_status_or_ticketless_entry_is_draw_fraud() {
    let (lottery, seed, result) = setup();
    let loser = find(&lottery, seed, &result, 1, |v| *v == Verdict::NotWinner);
    let at = lottery
        .entries
        .iter()
        .position(|e| e.id() == loser.id())
        .expect("exists");

    // A status root over an eligible status that carries a reason.
    let mut bundle = bundle_for(&lottery, seed, &result, &loser);
    let mut status = lottery.status.clone();
    status[at].reason_hash = [5; 32];
    let layout = Layout::new(&lottery.entries).expect("valid");
    let leaves = layout
        .order
        .iter()
        .map(|&pos| status[pos as usize].hash())
        .collect();
    let tree = BatchedTree::new(leaves, &layout);
    bundle.status = status[at].clone();
    bundle.status_proof = tree.proof(loser.id()).expect("exists");
    bundle.commitments.status_root = tree.root();
    assert_eq!(
        verify_applicant(&bundle),
        Verdict::Fraud(FraudReason::MalformedStatus)
    );

    // An entries root holding the applicant with weight 0 (intake should have refused it).
    let mut forged = lottery.clone();
    forged.entries[at].weight = 0;
    forged.status[at].leaf_hash = forged.entries[at].leaf_hash();
    let bundle = bundle_for(&forged, seed, &result, &forged.entries[at]);
    assert_eq!(
        verify_applicant(&bundle),
        Verdict::Fraud(FraudReason::EntryWithoutTickets)
    );
    assert!(FraudReason::EntryWithoutTickets.proves_wrong_draw());
}
