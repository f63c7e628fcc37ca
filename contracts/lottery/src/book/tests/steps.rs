//! Step tables for every op: each row is (actor, op, expected), run in order; the world
//! checks after every row that the invariants hold, that the transition is allowed and that
//! a refused row left the book unchanged.

use super::kit::*;
use crate::book::{
    Exclusion, LotteryOp, SettleAction, Settlement, SlotState, Stage, BATCH_ENTRIES_MAX,
};
use crate::rules::GRACE_MS_MAX;
use crate::{seed_from_signature, Entry, LotteryRules};

fn create(rules: LotteryRules) -> LotteryOp {
    LotteryOp::CreateLottery { rules }
}

fn amend(rules: LotteryRules) -> LotteryOp {
    LotteryOp::AmendRules { rules }
}

fn changed(change: impl FnOnce(&mut LotteryRules)) -> LotteryRules {
    let mut r = rules();
    change(&mut r);
    r
}

#[test]
fn test_create_lottery_steps() {
    let mut w = World::new();
    w.run(vec![
        (store(), create(rules()), Err("NOT_ISSUER")),
        (
            issuer(),
            create(changed(|r| r.draw.pools.clear())),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.operator_keys.reverse())),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.operator_keys.clear())),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.algorithm_version = 2)),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.grace_ms = GRACE_MS_MAX + 1)),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.claim_window_ms = 0)),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.draw.open_at_ms = r.draw.close_at_ms + 1)),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            create(changed(|r| r.draw.open_at_ms = OPEN - 1_000)),
            Err("OPENS_IN_THE_PAST"),
        ),
        (
            operator(),
            append(0, vec![entry(0, 0, 1, OPEN, 1)]),
            Err("UNKNOWN_LOTTERY"),
        ),
        (issuer(), create(rules()), Ok(())),
        (issuer(), create(rules()), Err("LOTTERY_EXISTS")),
        (other_producer(), create(rules()), Err("LOTTERY_EXISTS")),
        (
            other_producer(),
            create(changed(|r| r.draw.lottery_id = ID + 1)),
            Ok(()),
        ),
    ]);
    let record = w.record();
    assert_eq!(record.issuer(), "moutai");
    assert_eq!(record.rules_hash(), rules().hash());
    assert_eq!(record.stage(), Stage::Collecting);
    assert_eq!(
        w.book.lottery(ID + 1).map(|r| r.issuer()),
        Some("wuliangye")
    );
}

#[test]
fn test_amend_rules_steps() {
    let mut w = World::created(rules());
    let later = changed(|r| r.draw.close_at_ms += 60_000);
    w.run(vec![
        (other_producer(), amend(later.clone()), Err("NOT_ISSUER")),
        (store(), amend(later.clone()), Err("NOT_ISSUER")),
        (
            issuer(),
            amend(changed(|r| r.draw.lottery_id = 99)),
            Err("UNKNOWN_LOTTERY"),
        ),
        (
            issuer(),
            amend(changed(|r| r.draw.pools.clear())),
            Err("INVALID_RULES"),
        ),
        (
            issuer(),
            amend(changed(|r| r.draw.open_at_ms = OPEN - 1_000)),
            Err("OPENS_IN_THE_PAST"),
        ),
        // Any key of the issuing org may amend; the operator's belongs to it.
        (operator(), amend(later.clone()), Ok(())),
    ]);
    assert_eq!(w.record().rules_hash(), later.hash());
    w.time_ms = OPEN;
    w.run(vec![(issuer(), amend(rules()), Err("RULES_FROZEN"))]);
}

#[test]
fn test_append_batch_steps() {
    let mut w = World::created(rules());
    w.run(vec![(
        operator(),
        append(0, vec![entry(0, 0, 1, OPEN, 1)]),
        Err("NOT_OPEN"),
    )]);
    w.time_ms = OPEN + 10;
    let e = |index, pool_id, n| entry(0, index, pool_id, OPEN, n);
    let with = |change: fn(&mut Entry)| {
        let mut x = e(0, 1, 1);
        change(&mut x);
        append(0, vec![x])
    };
    let mut heavy = entry(1, 0, 2, OPEN + 10, 3);
    (heavy.tier, heavy.weight) = (1, 3);
    w.run(vec![
        (store(), append(0, vec![e(0, 1, 1)]), Err("NOT_OPERATOR")),
        (issuer(), append(0, vec![e(0, 1, 1)]), Err("NOT_OPERATOR")),
        (operator(), append(0, vec![]), Err("EMPTY_BATCH")),
        (
            operator(),
            append(0, vec![e(0, 1, 1); BATCH_ENTRIES_MAX + 1]),
            Err("BATCH_TOO_LARGE"),
        ),
        (
            operator(),
            append(1, vec![entry(1, 0, 1, OPEN, 1)]),
            Err("BATCH_OUT_OF_ORDER"),
        ),
        (
            operator(),
            with(|x| x.lottery_id += 1),
            Err("ENTRY_FIELD_MISMATCH"),
        ),
        (
            operator(),
            with(|x| x.batch_no = 1),
            Err("ENTRY_FIELD_MISMATCH"),
        ),
        (
            operator(),
            with(|x| x.index = 1),
            Err("ENTRY_FIELD_MISMATCH"),
        ),
        (operator(), with(|x| x.pool_id = 3), Err("UNKNOWN_POOL")),
        (operator(), with(|x| x.tier = 2), Err("TIER_NOT_ALLOWED")),
        (
            operator(),
            with(|x| x.weight = 0),
            Err("WEIGHT_NOT_ALLOWED"),
        ),
        (
            operator(),
            with(|x| x.weight = 4),
            Err("WEIGHT_NOT_ALLOWED"),
        ),
        (
            operator(),
            with(|x| x.received_at_ms = OPEN - 1),
            Err("ENTRY_OUTSIDE_WINDOW"),
        ),
        (
            operator(),
            with(|x| x.received_at_ms = OPEN + 11),
            Err("ENTRY_FROM_THE_FUTURE"),
        ),
        (
            operator(),
            append(0, vec![e(0, 1, 1), e(1, 2, 1)]),
            Err("DUPLICATE_NULLIFIER"),
        ),
        (operator(), append(0, vec![e(0, 1, 1), e(1, 2, 2)]), Ok(())),
        (
            operator(),
            append(0, vec![e(0, 1, 3)]),
            Err("BATCH_OUT_OF_ORDER"),
        ),
        (operator_2(), append(1, vec![heavy]), Ok(())),
        (
            operator(),
            append(2, vec![entry(2, 0, 1, OPEN, 2)]),
            Err("DUPLICATE_NULLIFIER"),
        ),
    ]);
    w.time_ms = CLOSE + GRACE;
    w.run(vec![
        (
            operator(),
            append(2, vec![entry(2, 0, 1, CLOSE + 1, 4)]),
            Err("ENTRY_OUTSIDE_WINDOW"),
        ),
        (
            operator(),
            append(2, vec![entry(2, 0, 1, CLOSE, 4)]),
            Ok(()),
        ),
    ]);
    w.time_ms = AFTER_INTAKE;
    w.run(vec![(
        operator(),
        append(3, vec![entry(3, 0, 1, CLOSE, 5)]),
        Err("LATE_BATCH"),
    )]);
    let record = w.record();
    assert_eq!(record.batches().len(), 3);
    assert_eq!(record.entries_count(), 4);
    let (entries, _) = record.dataset().expect("held");
    assert_eq!(
        record.entries_root(),
        crate::entries_root(&entries).expect("valid")
    );
    assert_eq!(record.batches()[1].signer, key(2));
}

/// Three batches of three entries, the intake over.
fn closed_with_three_batches() -> World {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    for _ in 0..3 {
        let op = w.fresh_batch(3, &[1, 2]);
        w.ok(&operator(), op);
    }
    w.time_ms = AFTER_INTAKE;
    w
}

#[test]
fn test_append_status_steps() {
    let mut w = closed_with_three_batches();
    w.time_ms = CLOSE + GRACE;
    w.run(vec![(operator(), status(0, 1, vec![]), Err("NOT_CLOSED"))]);
    w.time_ms = AFTER_INTAKE;
    let no_reason = Exclusion {
        reason_hash: [0; 32],
        ..exclude(0, 0)
    };
    w.run(vec![
        (store(), status(0, 1, vec![]), Err("NOT_OPERATOR")),
        (operator(), status(0, 0, vec![]), Err("MALFORMED_OP")),
        (operator(), status(1, 1, vec![]), Err("STATUS_OUT_OF_ORDER")),
        (
            operator(),
            status(0, 4, vec![]),
            Err("STATUS_BEYOND_BATCHES"),
        ),
        (
            operator(),
            status(0, 2, vec![exclude(0, 2), exclude(0, 1)]),
            Err("BAD_EXCLUSION"),
        ),
        (
            operator(),
            status(0, 2, vec![exclude(0, 1), exclude(0, 1)]),
            Err("BAD_EXCLUSION"),
        ),
        (
            operator(),
            status(0, 2, vec![exclude(2, 0)]),
            Err("BAD_EXCLUSION"),
        ),
        (
            operator(),
            status(0, 2, vec![exclude(0, 3)]),
            Err("BAD_EXCLUSION"),
        ),
        (
            operator(),
            status(0, 2, vec![no_reason]),
            Err("BAD_EXCLUSION"),
        ),
        (
            operator(),
            status(0, 2, vec![exclude(0, 1), exclude(1, 0)]),
            Ok(()),
        ),
        (operator(), status(0, 1, vec![]), Err("STATUS_OUT_OF_ORDER")),
        (operator_2(), status(2, 1, vec![exclude(2, 2)]), Ok(())),
        (
            operator(),
            status(3, 1, vec![]),
            Err("STATUS_BEYOND_BATCHES"),
        ),
    ]);
    assert_eq!(w.record().status_batches(), 3);
    assert_eq!(w.record().excluded_count(), 3);
}

#[test]
fn test_one_status_op_covers_at_most_a_batch_worth_of_entries() {
    let mut w = World::created(rules());
    w.time_ms = OPEN;
    for _ in 0..2 {
        let op = w.fresh_batch(6_000, &[1, 2]);
        w.ok(&operator(), op);
    }
    w.time_ms = AFTER_INTAKE;
    w.run(vec![
        (
            operator(),
            status(0, 2, vec![]),
            Err("STATUS_RANGE_TOO_LARGE"),
        ),
        (operator(), status(0, 1, vec![]), Ok(())),
        (operator(), status(1, 1, vec![]), Ok(())),
    ]);
}

#[test]
fn test_commit_status_steps() {
    let mut w = closed_with_three_batches();
    w.ok(&operator(), status(0, 2, vec![exclude(1, 2)]));
    // What the operator would commit if the third batch were all eligible.
    let early = w.commit_status_op();
    w.run(vec![(operator(), early, Err("STATUS_INCOMPLETE"))]);
    w.ok(&operator(), status(2, 1, vec![]));
    let good = w.commit_status_op();
    let LotteryOp::CommitStatus {
        entries_count,
        entries_root,
        status_root,
        ..
    } = good.clone()
    else {
        unreachable!("commit_status_op builds a CommitStatus")
    };
    let commit = |count, entries: [u8; 32], status: [u8; 32]| LotteryOp::CommitStatus {
        lottery_id: ID,
        entries_count: count,
        entries_root: entries,
        status_root: status,
    };
    w.time_ms = CLOSE + GRACE;
    w.run(vec![(operator(), good.clone(), Err("NOT_CLOSED"))]);
    w.time_ms = AFTER_INTAKE;
    w.run(vec![
        (store(), good.clone(), Err("NOT_OPERATOR")),
        (
            operator(),
            commit(entries_count - 1, entries_root, status_root),
            Err("STATUS_NOT_COVERING"),
        ),
        (
            operator(),
            commit(entries_count, [7; 32], status_root),
            Err("STATUS_NOT_COVERING"),
        ),
        (
            operator(),
            commit(entries_count, entries_root, [7; 32]),
            Err("STATUS_ROOT_MISMATCH"),
        ),
        (operator(), good.clone(), Ok(())),
        (operator(), good, Err("STATUS_ALREADY_COMMITTED")),
        (
            operator(),
            status(3, 1, vec![]),
            Err("STATUS_ALREADY_COMMITTED"),
        ),
        (
            operator(),
            append(3, vec![entry(3, 0, 1, CLOSE, 99)]),
            Err("LATE_BATCH"),
        ),
    ]);
    assert_eq!(w.record().stage(), Stage::StatusCommitted);
    assert_eq!(w.record().status_root(), Some(status_root));
}

/// Closed, statuses uploaded and committed.
fn status_committed() -> World {
    let mut w = closed_with_three_batches();
    w.ok(&operator(), status(0, 3, vec![exclude(0, 0)]));
    w.ok(&operator(), w.commit_status_op());
    w
}

#[test]
fn test_submit_seed_steps() {
    let mut w = closed_with_three_batches();
    let early = LotteryOp::SubmitSeed {
        lottery_id: ID,
        message: b"anything".to_vec(),
        signature: fake_sign(b"anything"),
    };
    w.run(vec![(store(), early, Err("SEED_BEFORE_STATUS"))]);
    let mut w = status_committed();
    let good = w.seed_op();
    let LotteryOp::SubmitSeed {
        message, signature, ..
    } = good.clone()
    else {
        unreachable!("seed_op builds a SubmitSeed")
    };
    let seed = |message: Vec<u8>, signature: Vec<u8>| LotteryOp::SubmitSeed {
        lottery_id: ID,
        message,
        signature,
    };
    let mut other = message.clone();
    *other.last_mut().expect("not empty") ^= 1;
    w.run(vec![
        (
            store(),
            seed(other.clone(), fake_sign(&other)),
            Err("SEED_MESSAGE_MISMATCH"),
        ),
        (
            store(),
            seed(b"garbage".to_vec(), fake_sign(b"garbage")),
            Err("SEED_MESSAGE_MISMATCH"),
        ),
        (
            store(),
            seed(message.clone(), fake_sign(&other)),
            Err("BAD_SEED_SIGNATURE"),
        ),
        (
            store(),
            seed(message.clone(), vec![0; 97]),
            Err("MALFORMED_OP"),
        ),
    ]);
    w.chain_id = "";
    w.run(vec![(store(), good.clone(), Err("BAD_CHAIN_ID"))]);
    w.chain_id = CHAIN;
    w.run(vec![
        (store(), good.clone(), Ok(())),
        (operator(), good, Err("SEED_ALREADY_SET")),
    ]);
    let record = w.record();
    assert_eq!(record.stage(), Stage::Seeded);
    let stored = record.seed().expect("seeded");
    assert_eq!(stored.seed, seed_from_signature(&signature));
    assert_eq!(stored.signature, signature);
}

#[test]
fn test_commit_results_steps() {
    let mut w = status_committed();
    let wrong = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: [7; 32],
    };
    w.run(vec![(store(), wrong.clone(), Err("RESULTS_BEFORE_SEED"))]);
    w.ok(&store(), w.seed_op());
    let good = w.results_op();
    w.run(vec![
        (store(), wrong, Err("RESULTS_MISMATCH")),
        (store(), good.clone(), Ok(())),
        (operator(), good, Err("RESULTS_ALREADY_COMMITTED")),
    ]);
    let record = w.record();
    assert_eq!(record.stage(), Stage::Drawn);
    assert!(!record.holds_entries());
    assert!(w.book.draw_job(ID).is_none());
}

fn claim(w: &World, pool_id: u32, position: u32) -> Settlement {
    item(
        w,
        pool_id,
        position,
        SettleAction::Claim {
            order_hash: bytes("order", u64::from(position)),
        },
    )
}

fn disqualify(w: &World, pool_id: u32, position: u32) -> Settlement {
    item(
        w,
        pool_id,
        position,
        SettleAction::Disqualify {
            reason_hash: bytes("fraud", u64::from(position)),
        },
    )
}

fn forfeit(w: &World, pool_id: u32, position: u32) -> Settlement {
    item(w, pool_id, position, SettleAction::Forfeit)
}

fn item(w: &World, pool_id: u32, position: u32, action: SettleAction) -> Settlement {
    let leaf_hash = w
        .record()
        .pool_slots(pool_id)
        .and_then(|pool| pool.slots.get(position as usize))
        .map_or([0; 32], |slot| slot.leaf_hash);
    Settlement {
        pool_id,
        position,
        leaf_hash,
        action,
    }
}

#[test]
fn test_settle_steps() {
    let mut w = status_committed();
    w.ok(&store(), w.seed_op());
    let early = settle(vec![claim(&w, 1, 0)]);
    w.run(vec![(operator(), early, Err("NOT_DRAWN"))]);

    // Pool 1: quota 2, waitlist 2; pool 2: quota 1, waitlist 1; 12 entries, none excluded.
    let mut w = World::drawn(2, 6, false);
    assert_eq!(w.record().pool_slots(1).map(|p| p.slots.len()), Some(4));
    assert_eq!(w.record().pool_slots(2).map(|p| p.slots.len()), Some(2));
    let mut misnamed = claim(&w, 1, 0);
    misnamed.leaf_hash = claim(&w, 1, 1).leaf_hash;
    let mut no_reason = disqualify(&w, 1, 0);
    no_reason.action = SettleAction::Disqualify {
        reason_hash: [0; 32],
    };
    w.run(vec![
        (store(), settle(vec![claim(&w, 1, 0)]), Err("NOT_OPERATOR")),
        (operator(), settle(vec![]), Err("MALFORMED_OP")),
        (operator(), settle(vec![claim(&w, 3, 0)]), Err("NOT_RANKED")),
        (operator(), settle(vec![claim(&w, 1, 4)]), Err("NOT_RANKED")),
        (
            operator(),
            settle(vec![misnamed]),
            Err("RANK_ENTRY_MISMATCH"),
        ),
        // A substitute before the winners are settled.
        (
            operator(),
            settle(vec![claim(&w, 1, 2)]),
            Err("OUT_OF_ORDER_CLAIM"),
        ),
        // Winners claim in any order.
        (operator(), settle(vec![claim(&w, 1, 1)]), Ok(())),
        (
            operator(),
            settle(vec![claim(&w, 1, 1)]),
            Err("ALREADY_SETTLED"),
        ),
        (
            operator(),
            settle(vec![forfeit(&w, 1, 0)]),
            Err("CLAIM_WINDOW_OPEN"),
        ),
        (
            operator(),
            settle(vec![forfeit(&w, 1, 2)]),
            Err("NOT_OFFERED"),
        ),
        (operator(), settle(vec![no_reason]), Err("MISSING_REASON")),
        // All or nothing: the disqualification does not stay when the next item fails.
        (
            operator(),
            settle(vec![disqualify(&w, 1, 0), claim(&w, 1, 3)]),
            Err("OUT_OF_ORDER_CLAIM"),
        ),
        // Items apply in order: the freed slot goes to the first substitute.
        (
            operator(),
            settle(vec![disqualify(&w, 1, 0), claim(&w, 1, 2)]),
            Ok(()),
        ),
        (
            operator(),
            settle(vec![claim(&w, 1, 3)]),
            Err("QUOTA_FILLED"),
        ),
        (
            operator(),
            settle(vec![forfeit(&w, 1, 3)]),
            Err("NOT_OFFERED"),
        ),
        // Payment fraud after the claim frees the slot.
        (operator_2(), settle(vec![disqualify(&w, 1, 1)]), Ok(())),
        (
            operator(),
            settle(vec![disqualify(&w, 1, 1)]),
            Err("ALREADY_SETTLED"),
        ),
    ]);
    w.time_ms += CLAIM_WINDOW + 1;
    w.run(vec![
        (
            operator(),
            settle(vec![claim(&w, 1, 3)]),
            Err("CLAIM_WINDOW_PASSED"),
        ),
        (operator(), settle(vec![forfeit(&w, 1, 3)]), Ok(())),
        (
            operator(),
            settle(vec![claim(&w, 2, 0)]),
            Err("CLAIM_WINDOW_PASSED"),
        ),
        (
            operator(),
            settle(vec![claim(&w, 2, 1)]),
            Err("OUT_OF_ORDER_CLAIM"),
        ),
        // The forfeit passes the slot on; the substitute's window starts now.
        (
            operator(),
            settle(vec![forfeit(&w, 2, 0), claim(&w, 2, 1)]),
            Ok(()),
        ),
    ]);
    let states = |pool_id: u32| -> Vec<&'static str> {
        let slots = &w.record().pool_slots(pool_id).expect("drawn").slots;
        slots
            .iter()
            .map(|slot| match slot.state {
                SlotState::Pending => "pending",
                SlotState::Claimed { .. } => "claimed",
                SlotState::Disqualified { .. } => "disqualified",
                SlotState::Forfeited { .. } => "forfeited",
            })
            .collect()
    };
    assert_eq!(
        states(1),
        ["disqualified", "disqualified", "claimed", "forfeited"]
    );
    assert_eq!(states(2), ["forfeited", "claimed"]);
    assert_eq!(w.record().settlements(), 7);
}
