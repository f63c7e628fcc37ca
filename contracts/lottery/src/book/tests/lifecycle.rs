//! The lifecycle end to end: the refusals issue #5 names, with their exact errors; what the
//! entries root covers; weighted and tiered pools; the book's draw against the auditor's;
//! prepared draws; a real threshold BLS seed from jiu-beacon; the encodings.

use jiu_beacon::rand_core::SeedableRng;
use jiu_beacon::{combine, partial_sign, run_local_ceremony, threshold, SeedMessage};
use jiu_types::{merkle, sha256, Hash};
use rand_chacha_10::ChaCha20Rng;

use super::kit::*;
use crate::book::{LotteryError, LotteryOp, SeedVerifier, Stage, BOOK_LEAF_TAG};
use crate::rules::RULES_TAG;
use crate::{draw, entry_score, status_root, Entry, Prover};

#[test]
fn test_late_batch_is_rejected() {
    let mut w = World::created(rules());
    w.time_ms = CLOSE + GRACE;
    let op = w.fresh_batch(2, &[1]);
    w.ok(&operator(), op);
    w.time_ms = CLOSE + GRACE + 1;
    let late = w.fresh_batch(2, &[1]);
    assert_eq!(
        w.step(&operator(), &late),
        Err(LotteryError::LateBatch {
            time_ms: CLOSE + GRACE + 1,
            intake_end_ms: CLOSE + GRACE,
        })
    );
    // Still late, much later, and after the status commitment.
    w.ok(&operator(), status(0, 1, vec![]));
    w.ok(&operator(), w.commit_status_op());
    w.time_ms = CLOSE + 10 * GRACE;
    assert_eq!(
        w.step(&operator(), &late).map_err(|e| e.code()),
        Err("LATE_BATCH")
    );
    assert_eq!(w.record().entries_count(), 2);
}

#[test]
fn test_duplicate_nullifier_is_rejected() {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    let first = entry(0, 0, 1, OPEN, 1);
    let mut twin = entry(0, 1, 2, OPEN, 2);
    twin.nullifier = first.nullifier;
    let error = LotteryError::DuplicateNullifier {
        position: 1,
        nullifier: first.nullifier,
    };
    assert_eq!(
        w.step(&operator(), &append(0, vec![first.clone(), twin])),
        Err(error)
    );
    w.ok(&operator(), append(0, vec![first.clone()]));
    // Across batches: same person, another pool, another commitment, another key.
    let fresh = entry(1, 0, 2, OPEN, 4);
    let mut again = entry(1, 1, 2, OPEN, 3);
    again.nullifier = first.nullifier;
    assert_eq!(
        w.step(&operator_2(), &append(1, vec![fresh, again])),
        Err(LotteryError::DuplicateNullifier {
            position: 1,
            nullifier: first.nullifier,
        })
    );
    assert_eq!(w.record().entries_count(), 1);
}

#[test]
fn test_status_root_not_covering_the_entries_is_rejected() {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    for _ in 0..3 {
        let op = w.fresh_batch(4, &[1, 2]);
        w.ok(&operator(), op);
    }
    w.time_ms = AFTER_INTAKE;
    w.ok(&operator(), status(0, 3, vec![exclude(1, 3)]));
    let (entries, decisions) = w.record().dataset().expect("held");
    let root = w.record().entries_root();
    let commit = |count: u64, entries_root: Hash, status_root: Hash| LotteryOp::CommitStatus {
        lottery_id: ID,
        entries_count: count,
        entries_root,
        status_root,
    };
    let not_covering = |got_count, got_root| LotteryError::StatusNotCovering {
        count: 12,
        root,
        got_count,
        got_root,
    };
    // Over the first two batches only: count and root of a prefix.
    let prefix_root = crate::entries_root(&entries[..8]).expect("valid");
    let prefix_status = status_root(&entries[..8], &decisions[..8]).expect("valid");
    assert_eq!(
        w.step(&operator(), &commit(8, prefix_root, prefix_status)),
        Err(not_covering(8, prefix_root))
    );
    // Over one entry more than the chain accepted.
    let mut more = entries.clone();
    more.push(entry(2, 4, 1, OPEN, 999));
    let mut more_status = decisions.clone();
    more_status.push(crate::Status::eligible(more[12].leaf_hash()));
    let more_root = crate::entries_root(&more).expect("valid");
    let more_status_root = status_root(&more, &more_status).expect("valid");
    assert_eq!(
        w.step(&operator(), &commit(13, more_root, more_status_root)),
        Err(not_covering(13, more_root))
    );
    // The right count with another root.
    assert_eq!(
        w.step(&operator(), &commit(12, prefix_root, prefix_status)),
        Err(not_covering(12, prefix_root))
    );
    // The right entry set, but a status root over decisions the chain was not given.
    let mut other = decisions.clone();
    other[0] = crate::Status::excluded(entries[0].leaf_hash(), [9; 32]);
    let other_root = status_root(&entries, &other).expect("valid");
    let expected = status_root(&entries, &decisions).expect("valid");
    assert_eq!(
        w.step(&operator(), &commit(12, root, other_root)),
        Err(LotteryError::StatusRootMismatch {
            expected,
            got: other_root,
        })
    );
    w.ok(&operator(), commit(12, root, expected));
    assert_eq!(w.record().status_root(), Some(expected));
}

#[test]
fn test_seed_message_mismatch_is_rejected() {
    let mut w = World::drawn_until_status(2, 3);
    let record = w.record();
    let (rules_hash, entries_root) = (record.rules_hash(), record.entries_root());
    let status = record.status_root().expect("committed");
    let cases: [(&str, &str, u64, Hash, Hash, Hash); 5] = [
        (
            "chain_id",
            "jiu-other",
            ID,
            rules_hash,
            entries_root,
            status,
        ),
        (
            "lottery_id",
            CHAIN,
            ID + 1,
            rules_hash,
            entries_root,
            status,
        ),
        ("rules_hash", CHAIN, ID, [1; 32], entries_root, status),
        // An entry set or status set other than the committed one: the late-insertion and
        // re-decided-eligibility attacks the seed message exists to stop.
        ("entries_root", CHAIN, ID, rules_hash, [2; 32], status),
        ("status_root", CHAIN, ID, rules_hash, entries_root, [3; 32]),
    ];
    for (field, chain_id, lottery_id, rules, entries, statuses) in cases {
        let message = SeedMessage::new(chain_id, lottery_id, rules, entries, statuses)
            .expect("valid")
            .to_bytes();
        let op = LotteryOp::SubmitSeed {
            lottery_id: ID,
            signature: fake_sign(&message),
            message,
        };
        assert_eq!(
            w.step(&store(), &op),
            Err(LotteryError::SeedMessageMismatch { field }),
            "{field}"
        );
    }
    let mut truncated = w.seed_op();
    if let LotteryOp::SubmitSeed { message, .. } = &mut truncated {
        message.pop();
    }
    assert_eq!(
        w.step(&store(), &truncated),
        Err(LotteryError::SeedMessageMismatch { field: "encoding" })
    );
    assert_eq!(w.record().stage(), Stage::StatusCommitted);
    w.ok(&store(), w.seed_op());
}

#[test]
fn test_entries_root_covers_exactly_the_accepted_leaves() {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    for n in [3, 1, 5] {
        let op = w.fresh_batch(n, &[1, 2]);
        w.ok(&operator(), op);
    }
    let record = w.record();
    let (entries, _) = record.dataset().expect("held");
    let batch_roots: Vec<Hash> = [0..3, 3..4, 4..9]
        .into_iter()
        .map(|range| {
            let leaves: Vec<Hash> = entries[range].iter().map(Entry::leaf_hash).collect();
            merkle::root(&leaves)
        })
        .collect();
    let headers: Vec<Hash> = record.batches().iter().map(|h| h.root).collect();
    assert_eq!(headers, batch_roots);
    assert_eq!(record.entries_root(), merkle::root(&batch_roots));
    // An applicant's inclusion proof from the dataset checks against the book's root.
    let tree = crate::entry_tree(&entries).expect("valid");
    let proof = tree.proof(entries[4].id()).expect("exists");
    assert!(proof.verify(
        entries[4].leaf_hash(),
        entries[4].id(),
        &record.entries_root()
    ));
}

#[test]
fn test_applicant_bundles_from_the_draw_job_match_the_book() {
    let mut w = World::drawn_until_status(3, 20);
    w.ok(&store(), w.seed_op());
    let job = w.book.draw_job(ID).expect("seeded");
    let prepared = job.run();
    let (entries, decisions) = job.dataset();
    let seed = job.key().seed;
    let prover =
        Prover::new(entries.clone(), decisions, seed, prepared.result().clone()).expect("valid");
    w.ok(
        &store(),
        LotteryOp::CommitResults {
            lottery_id: ID,
            results_root: prepared.result().results_root,
        },
    );
    let record = w.record();
    let c = prover.commitments();
    assert_eq!(c.entries_root, record.entries_root());
    assert_eq!(Some(c.status_root), record.status_root());
    assert_eq!(c.seed, record.seed().expect("seeded").seed);
    assert_eq!(Some(c.results_root), record.results_root());
    let mut verdicts = std::collections::BTreeMap::new();
    for e in &entries {
        let bundle = prover.bundle(e.id()).expect("entry exists");
        let verdict = crate::verify_applicant(&bundle);
        let kind = format!("{verdict:?}");
        let kind = kind.split([' ', '{', '(']).next().unwrap_or("").to_string();
        *verdicts.entry(kind).or_insert(0) += 1;
    }
    // 60 entries over two pools: 3 + 2 ranked, one excluded, the rest not winners.
    assert_eq!(verdicts.get("Winner"), Some(&3));
    assert_eq!(verdicts.get("Waitlisted"), Some(&3));
    assert_eq!(verdicts.get("Ineligible"), Some(&1));
    assert_eq!(verdicts.get("NotWinner"), Some(&53));
}

/// Entry `i` of the weighted and tiered lottery: pool, tier, weight, excluded.
fn shape(i: u64) -> (u32, u8, u16, bool) {
    let pools = [1, 2, 3];
    (
        pools[(i % 3) as usize],
        ((i / 3) % 3) as u8,
        1 + ((i / 9) % 4) as u16,
        i % 11 == 5,
    )
}

#[test]
fn test_weighted_and_tiered_pools_are_drawn() {
    let rules = rules_with(vec![pool(1, 3, 2), pool(2, 5, 0), pool(3, 0, 2)], 3, 4);
    let mut w = World::created(rules);
    w.time_ms = OPEN;
    let mut n = 0u64;
    let mut exclusions = Vec::new();
    for b in 0..4u32 {
        let entries: Vec<Entry> = (0..50u32)
            .map(|i| {
                let (pool_id, tier, weight, excluded) = shape(n);
                if excluded {
                    exclusions.push(exclude(b, i));
                }
                let mut e = entry(b, i, pool_id, OPEN, n);
                (e.tier, e.weight) = (tier, weight);
                n += 1;
                e
            })
            .collect();
        w.ok(&operator(), append(b, entries));
    }
    w.time_ms = AFTER_INTAKE;
    w.ok(&operator(), status(0, 4, exclusions));
    w.ok(&operator(), w.commit_status_op());
    w.ok(&store(), w.seed_op());
    let (entries, decisions) = w.record().dataset().expect("held");
    let seed = w.record().seed().expect("seeded").seed;
    w.ok(&store(), w.results_op());

    for pool in &w.record().rules().draw.pools.clone() {
        // The naive ranking: every eligible entry's (tier, min over tickets, leaf), sorted.
        let mut expected: Vec<(u8, Hash, Hash)> = entries
            .iter()
            .zip(&decisions)
            .filter(|(e, s)| e.pool_id == pool.pool_id && s.eligible)
            .map(|(e, _)| {
                let leaf = e.leaf_hash();
                let score = entry_score(&seed, ID, e.pool_id, &leaf, e.weight).expect("weight");
                (e.tier, score, leaf)
            })
            .collect();
        expected.sort();
        expected.truncate(pool.ranked_max() as usize);
        let slots = &w.record().pool_slots(pool.pool_id).expect("drawn").slots;
        let got: Vec<Hash> = slots.iter().map(|s| s.leaf_hash).collect();
        let want: Vec<Hash> = expected.iter().map(|k| k.2).collect();
        assert_eq!(got, want, "pool {}", pool.pool_id);
        // Tiers fill in order: tier 0 entries come before any tier 1 entry.
        let tiers: Vec<u8> = expected.iter().map(|k| k.0).collect();
        assert!(tiers.windows(2).all(|t| t[0] <= t[1]));
    }
    // Pool 1 has 17 tier-0 entries (some excluded), so its 5 ranked are all tier 0; the
    // weights are 1..=4, so every weight class appears among the ranked of some pool.
    let ranked_weights: std::collections::BTreeSet<u16> = [1, 2, 3]
        .iter()
        .flat_map(|p| w.record().pool_slots(*p).expect("drawn").slots.clone())
        .map(|slot| entries[(slot.id.batch_no * 50 + slot.id.index) as usize].weight)
        .collect();
    assert!(ranked_weights.len() >= 2, "{ranked_weights:?}");
}

#[test]
fn test_book_draw_equals_the_auditor_draw_for_any_thread_count() {
    let rules = rules_with(vec![pool(1, 20, 10), pool(2, 3, 3), pool(5, 50, 0)], 2, 3);
    let mut w = World::created(rules);
    w.time_ms = OPEN;
    for _ in 0..6 {
        let op = w.fresh_batch(700, &[1, 2, 5, 1]);
        w.ok(&operator(), op);
    }
    w.time_ms = AFTER_INTAKE;
    let exclusions = (0..6).map(|b| exclude(b, 7 * b + 3)).collect();
    w.ok(&operator(), status(0, 6, exclusions));
    w.ok(&operator(), w.commit_status_op());
    w.ok(&store(), w.seed_op());
    let job = w.book.draw_job(ID).expect("seeded");
    let (entries, decisions) = job.dataset();
    assert_eq!(
        Some((entries.clone(), decisions.clone())),
        w.record().dataset()
    );
    let auditor = draw(
        &w.record().rules().draw,
        &entries,
        &decisions,
        &job.key().seed,
    )
    .expect("the book's dataset is valid");
    for threads in [1, 2, 3, 8] {
        assert_eq!(
            job.run_with_threads(threads).result(),
            &auditor,
            "{threads}"
        );
    }
}

#[test]
fn test_the_book_and_the_draw_job_can_cross_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<crate::LotteryBook>();
    send_and_sync::<crate::book::DrawJob>();
    send_and_sync::<crate::book::PreparedDraw>();
    let mut w = World::drawn_until_status(2, 5);
    w.ok(&store(), w.seed_op());
    let job = w.book.draw_job(ID).expect("seeded");
    let prepared = std::thread::spawn(move || job.run())
        .join()
        .expect("the draw thread finishes");
    assert_eq!(prepared.key().seed, w.record().seed().expect("seeded").seed);
}

#[test]
fn test_prepared_draw_is_used_only_for_its_own_inputs() {
    let mut w = World::drawn_until_status(3, 10);
    w.ok(&store(), w.seed_op());
    // A draw prepared for another lottery state (another seed) is ignored, not trusted.
    let mut elsewhere = World::drawn_until_status(3, 11);
    elsewhere.ok(&store(), elsewhere.seed_op());
    let foreign = elsewhere.book.draw_job(ID).expect("seeded").run();
    let foreign_root = foreign.result().results_root;
    w.prepared = vec![foreign];
    let wrong = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: foreign_root,
    };
    assert_eq!(
        w.step(&store(), &wrong).map_err(|e| e.code()),
        Err("RESULTS_MISMATCH")
    );
    // The lottery's own prepared draw is used and gives the same root as running inline.
    let own = w.book.draw_job(ID).expect("seeded").run();
    assert_eq!(own.key().seed, w.record().seed().expect("seeded").seed);
    let root = own.result().results_root;
    w.prepared.push(own);
    w.ok(
        &store(),
        LotteryOp::CommitResults {
            lottery_id: ID,
            results_root: root,
        },
    );
    assert_eq!(w.record().results_root(), Some(root));
}

/// The node's adapter from jiu-beacon's group key to the book's seed check: parse both,
/// refuse a non-canonical signature encoding, verify the pairing equation.
struct Beacon(jiu_beacon::GroupKey);

impl SeedVerifier for Beacon {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let (Ok(message), Ok(parsed)) = (
            SeedMessage::from_bytes(message),
            jiu_beacon::Signature::from_bytes(signature),
        ) else {
            return false;
        };
        parsed.to_bytes()[..] == *signature
            && jiu_beacon::verify(&self.0, &message, &parsed).is_ok()
    }
}

#[test]
fn test_threshold_bls_seed_end_to_end() {
    let (n, t) = (4, threshold(4));
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let ceremony = run_local_ceremony(n, t, &mut rng).expect("ceremony");
    let group_key = *ceremony.output.public.group_key();
    let mut w = World::drawn_until_status(2, 4);
    w.verifier = Box::new(Beacon(group_key));
    let record = w.record();
    let message = SeedMessage::new(
        CHAIN,
        ID,
        record.rules_hash(),
        record.entries_root(),
        record.status_root().expect("committed"),
    )
    .expect("valid");
    let public = &ceremony.output.public;
    let sign = |message: &SeedMessage, shares: &[usize]| {
        let partials: Vec<_> = shares
            .iter()
            .map(|i| partial_sign(&ceremony.shares[*i], message))
            .collect();
        combine(public, message, &partials).expect("t valid partials")
    };
    let sigma = sign(&message, &[0, 1, 2]);
    assert_eq!(
        sign(&message, &[1, 2, 3]),
        sigma,
        "any t shares give one signature"
    );
    let submit = |message: &SeedMessage, signature: Vec<u8>| LotteryOp::SubmitSeed {
        lottery_id: ID,
        message: message.to_bytes(),
        signature,
    };
    // A valid threshold signature over another status root: refused for its message.
    let other = SeedMessage::new(
        CHAIN,
        ID,
        *message.rules_hash(),
        *message.entries_root(),
        [3; 32],
    )
    .expect("valid");
    let other_sigma = sign(&other, &[0, 1, 3]);
    let refusals = [
        (
            submit(&other, other_sigma.to_bytes().to_vec()),
            "SEED_MESSAGE_MISMATCH",
        ),
        (
            submit(&message, other_sigma.to_bytes().to_vec()),
            "BAD_SEED_SIGNATURE",
        ),
        (
            submit(&message, [&sigma.to_bytes()[..], &[0]].concat()),
            "BAD_SEED_SIGNATURE",
        ),
        (
            submit(&message, fake_sign(&message.to_bytes())),
            "BAD_SEED_SIGNATURE",
        ),
    ];
    for (op, code) in refusals {
        assert_eq!(w.step(&store(), &op).map_err(|e| e.code()), Err(code));
    }
    w.ok(&store(), submit(&message, sigma.to_bytes().to_vec()));
    assert_eq!(
        w.record().seed().expect("seeded").seed,
        jiu_beacon::seed_from_signature(&sigma)
    );
    w.ok(&store(), w.results_op());
}

#[test]
fn test_rules_hash_encoding() {
    let r = rules();
    let d = &r.draw;
    let mut keys = Vec::new();
    for key in &r.operator_keys {
        keys.extend_from_slice(&key.0);
    }
    let pools: Vec<u8> = [(1u32, 2u32, 2u32), (2, 1, 1)]
        .iter()
        .flat_map(|(p, q, w)| [p.to_be_bytes(), q.to_be_bytes(), w.to_be_bytes()].concat())
        .collect();
    let expected = [
        &ID.to_be_bytes()[..],
        &95_060_001_343_016u64.to_be_bytes(),
        &d.open_at_ms.to_be_bytes(),
        &d.close_at_ms.to_be_bytes(),
        &GRACE.to_be_bytes(),
        &CLAIM_WINDOW.to_be_bytes(),
        &[2],
        &3u16.to_be_bytes(),
        &1u16.to_be_bytes(),
        &r.reason_codes_hash,
        &2u32.to_be_bytes(),
        &keys,
        &2u32.to_be_bytes(),
        &pools,
    ]
    .concat();
    assert_eq!(r.encode(), expected);
    assert_eq!(r.hash(), sha256(&[b"mtl/rules/v1", &expected]));
    assert_eq!(RULES_TAG, b"mtl/rules/v1");
    let mut other = rules();
    other.grace_ms += 1;
    assert_ne!(other.hash(), r.hash());
}

#[test]
fn test_book_leaf_encoding_follows_every_step() {
    let mut w = World::created(rules());
    let mut seen = vec![w.record().leaf_hash()];
    let bytes = w.record().leaf_bytes();
    assert_eq!(
        bytes.len(),
        8 + 32 + 1 + 4 + 8 + 32 + 4 + 8 + 32 + 32 + 32 + 8 + 32
    );
    assert_eq!(&bytes[..8], &ID.to_be_bytes());
    assert_eq!(&bytes[8..40], &w.record().rules_hash());
    assert_eq!(
        w.record().leaf_hash(),
        sha256(&[&[0], BOOK_LEAF_TAG, &bytes])
    );
    w.time_ms = OPEN;
    let op = w.fresh_batch(3, &[1, 2]);
    w.ok(&operator(), op);
    seen.push(w.record().leaf_hash());
    w.time_ms = AFTER_INTAKE;
    w.ok(&operator(), status(0, 1, vec![exclude(0, 2)]));
    seen.push(w.record().leaf_hash());
    w.ok(&operator(), w.commit_status_op());
    seen.push(w.record().leaf_hash());
    w.ok(&store(), w.seed_op());
    seen.push(w.record().leaf_hash());
    w.ok(&store(), w.results_op());
    seen.push(w.record().leaf_hash());
    let slots = w.record().pool_slots(1).expect("drawn").slots.clone();
    let claim = crate::book::Settlement {
        pool_id: 1,
        position: 0,
        leaf_hash: slots[0].leaf_hash,
        action: crate::book::SettleAction::Claim {
            order_hash: [4; 32],
        },
    };
    w.ok(&operator(), settle(vec![claim]));
    seen.push(w.record().leaf_hash());
    let distinct: std::collections::BTreeSet<Hash> = seen.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "every step changes the committed leaf"
    );
}

#[test]
fn test_ops_round_trip_through_borsh_and_json() {
    let w = World::drawn_until_status(1, 3);
    let ops = vec![
        LotteryOp::CreateLottery { rules: rules() },
        append(0, vec![entry(0, 0, 1, OPEN, 1)]),
        status(0, 1, vec![exclude(0, 0)]),
        w.commit_status_op(),
        w.seed_op(),
        LotteryOp::CommitResults {
            lottery_id: ID,
            results_root: [8; 32],
        },
        settle(vec![crate::book::Settlement {
            pool_id: 1,
            position: 2,
            leaf_hash: [1; 32],
            action: crate::book::SettleAction::Forfeit,
        }]),
    ];
    for op in ops {
        let back: LotteryOp =
            borsh::from_slice(&borsh::to_vec(&op).expect("encodes")).expect("decodes");
        assert_eq!(back, op);
        let json = serde_json::to_string(&op).expect("encodes");
        assert_eq!(
            serde_json::from_str::<LotteryOp>(&json).expect("decodes"),
            op,
            "{json}"
        );
        assert!(
            json.starts_with(&format!("{{\"op\":\"{}\"", op.kind())),
            "{json}"
        );
    }
}

impl World {
    /// `batches` batches of `per_batch` entries (over pools 1 and 2), statuses with one
    /// exclusion, status committed; `per_batch` also varies the entries, hence the roots.
    pub fn drawn_until_status(batches: u32, per_batch: u32) -> Self {
        let mut w = World::created(rules());
        w.time_ms = OPEN;
        for _ in 0..batches {
            let op = w.fresh_batch(per_batch, &[1, 2]);
            w.ok(&operator(), op);
        }
        w.time_ms = AFTER_INTAKE;
        w.ok(&operator(), status(0, batches, vec![exclude(0, 0)]));
        w.ok(&operator(), w.commit_status_op());
        w
    }
}

#[test]
fn test_entry_proofs_of_every_accepted_entry_verify_against_the_entries_root() {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    for size in [4, 1, 7] {
        let op = w.fresh_batch(size, &[1, 2]);
        w.ok(&operator(), op);
    }
    let root = w.record().entries_root();
    let (entries, _) = w.record().dataset().expect("held");
    for entry in &entries {
        let (got, proof) = w.record().entry_proof(entry.id()).expect("accepted");
        assert_eq!(&got, entry);
        assert!(proof.verify(entry.leaf_hash(), entry.id(), &root));
        // Another position's proof does not prove this entry.
        let other = crate::EntryId {
            batch_no: entry.batch_no,
            index: entry.index + 1,
        };
        if let Some((_, wrong)) = w.record().entry_proof(other) {
            assert!(!wrong.verify(entry.leaf_hash(), entry.id(), &root));
        }
    }
    let beyond = crate::EntryId {
        batch_no: 3,
        index: 0,
    };
    assert!(w.record().entry_proof(beyond).is_none());
}
