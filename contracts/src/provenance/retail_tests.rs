//! Step tables for sell, undo sale, return, flags, destroy and void (T7-T12), and the alerts of
//! refused attempts.

use super::testkit::*;
use super::*;
use crate::gs1::{Code, Serial, Sgtin};
use crate::types::Role;
#[test]
fn test_sell_steps() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2, 3]);
    w.ok(STORE, pack(&case(1), &[1]));
    w.ok(PRODUCER, commission(&[5]));
    w.ok(PRODUCER, issue(&[6]));
    w.ok(PRODUCER, set_flag(&[3], Flag::Recalled));
    w.run(vec![
        (
            DISTRIBUTOR,
            sell(&[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Distributor,
                op: "sell",
            }),
        ),
        (
            STORE,
            Op::Sell {
                items: bottles(&[1]),
                city: String::new(),
            },
            Err(ProvenanceError::BadCity {
                max: CITY_CHARS_MAX,
            }),
        ),
        (
            STORE_2,
            sell(&[1]),
            Err(ProvenanceError::SaleByNonCustodian {
                code: item(&b(1)),
                custodian: STORE.into(),
            }),
        ),
        (
            STORE,
            sell(&[5]),
            Err(ProvenanceError::SaleByNonCustodian {
                code: item(&b(5)),
                custodian: PRODUCER.into(),
            }),
        ),
        (STORE, sell(&[6]), wrong(6, LifeState::Issued, "sell")),
        (
            STORE,
            sell(&[2, 3]),
            Err(ProvenanceError::Flagged {
                code: item(&b(3)),
                flag: Flag::Recalled,
            }),
        ),
        (STORE, sell(&[7]), Err(ProvenanceError::UnknownBottle(b(7)))),
        (STORE, sell(&[1, 2]), Ok(())),
        (
            STORE,
            sell(&[1]),
            Err(ProvenanceError::AlreadySold(item(&b(1)))),
        ),
        (
            STORE_2,
            sell(&[2]),
            Err(ProvenanceError::AlreadySold(item(&b(2)))),
        ),
    ]);
    let one = w.ledger.bottle(&b(1)).expect("b1");
    assert_eq!(one.state, LifeState::Sold);
    assert_eq!(one.parent, None, "a sale unpacks the bottle");
    assert!(w
        .ledger
        .container(&case(1))
        .expect("case")
        .children
        .is_empty());
    let sale = one.sold.as_ref().expect("sale");
    assert_eq!(
        (sale.store.as_str(), sale.city.as_str()),
        (STORE, "CN-GZ-GY")
    );
}

#[test]
fn test_undo_sale_steps() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2, 3]);
    w.ok(STORE, sell(&[1, 2, 3]));
    w.ok(PRODUCER, set_flag(&[3], Flag::Recalled));
    let undo = |ns: &[u64]| Op::UndoSale { items: bottles(ns) };
    w.run(vec![
        (
            STORE_2,
            undo(&[1]),
            Err(ProvenanceError::NotSeller {
                code: item(&b(1)),
                store: STORE.into(),
            }),
        ),
        (
            STORE,
            undo(&[1, 3]),
            Err(ProvenanceError::Flagged {
                code: item(&b(3)),
                flag: Flag::Recalled,
            }),
        ),
        (STORE, undo(&[1]), Ok(())),
        (
            STORE,
            undo(&[1]),
            wrong(1, LifeState::InStock, "undo a sale"),
        ),
    ]);
    w.ctx.time_ms += UNDO_WINDOW_MS_DEFAULT;
    w.run(vec![(
        STORE,
        undo(&[2]),
        Err(ProvenanceError::UndoWindowPassed(item(&b(2)))),
    )]);
    w.ctx.undo_window_ms = 30 * DAY_MS;
    w.run(vec![(STORE, undo(&[2]), Ok(()))]);
    assert_eq!(w.state(2), LifeState::InStock);
    assert_eq!(w.ledger.bottle(&b(2)).expect("b2").sold, None);
    w.run(vec![(STORE, sell(&[2]), Ok(()))]);
}

#[test]
fn test_return_after_sale_steps() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2]);
    w.ok(STORE, sell(&[1]));
    let back = |ns: &[u64]| Op::Return { items: bottles(ns) };
    w.run(vec![
        (
            STORE,
            back(&[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Store,
                op: "take back a sold bottle",
            }),
        ),
        (
            PRODUCER_2,
            back(&[1]),
            Err(ProvenanceError::NotProducer {
                code: item(&b(1)),
                producer: PRODUCER.into(),
            }),
        ),
        (
            PRODUCER,
            back(&[1, 2]),
            wrong(2, LifeState::InStock, "take back"),
        ),
        (PRODUCER, back(&[1]), Ok(())),
    ]);
    let one = w.ledger.bottle(&b(1)).expect("b1");
    assert_eq!(
        (one.state, one.custodian.as_str()),
        (LifeState::InStock, PRODUCER)
    );
    assert_eq!(
        one.flags.get(&Flag::Hold).map(String::as_str),
        Some(PRODUCER)
    );
    w.run(vec![(PRODUCER, clear_flag(&[1], Flag::Hold), Ok(()))]);
}

#[test]
fn test_flag_steps() {
    let mut w = World::new();
    stocked_at(&mut w, DISTRIBUTOR, &[1, 2]);
    let not_allowed = |n: u64, flag: Flag, org: &str| {
        Err(ProvenanceError::FlagNotAllowed {
            code: item(&b(n)),
            flag,
            org_id: org.into(),
        })
    };
    w.run(vec![
        (
            DISTRIBUTOR,
            set_flag(&[1], Flag::Recalled),
            not_allowed(1, Flag::Recalled, DISTRIBUTOR),
        ),
        (
            PRODUCER_2,
            set_flag(&[1], Flag::Recalled),
            not_allowed(1, Flag::Recalled, PRODUCER_2),
        ),
        (PRODUCER, set_flag(&[1, 2], Flag::Recalled), Ok(())),
        (
            PRODUCER,
            set_flag(&[1], Flag::Recalled),
            Err(ProvenanceError::FlagAlreadySet {
                code: item(&b(1)),
                flag: Flag::Recalled,
            }),
        ),
        (
            AUDITOR,
            clear_flag(&[1], Flag::Recalled),
            not_allowed(1, Flag::Recalled, AUDITOR),
        ),
        (PRODUCER, clear_flag(&[1], Flag::Recalled), Ok(())),
        (
            PRODUCER,
            clear_flag(&[1], Flag::Recalled),
            Err(ProvenanceError::FlagNotSet {
                code: item(&b(1)),
                flag: Flag::Recalled,
            }),
        ),
        // Stolen: custodian or producer sets; setter or producer clears.
        (
            STORE,
            set_flag(&[1], Flag::Stolen),
            not_allowed(1, Flag::Stolen, STORE),
        ),
        (DISTRIBUTOR, set_flag(&[1], Flag::Stolen), Ok(())),
        (
            AUDITOR,
            clear_flag(&[1], Flag::Stolen),
            not_allowed(1, Flag::Stolen, AUDITOR),
        ),
        (PRODUCER, clear_flag(&[1], Flag::Stolen), Ok(())),
        (PRODUCER, set_flag(&[1], Flag::Stolen), Ok(())),
        (
            DISTRIBUTOR,
            clear_flag(&[1], Flag::Stolen),
            not_allowed(1, Flag::Stolen, DISTRIBUTOR),
        ),
        // Hold: producer or auditor.
        (
            DISTRIBUTOR,
            set_flag(&[2], Flag::Hold),
            not_allowed(2, Flag::Hold, DISTRIBUTOR),
        ),
        (AUDITOR, set_flag(&[2], Flag::Hold), Ok(())),
        (
            DISTRIBUTOR,
            clear_flag(&[2], Flag::Hold),
            not_allowed(2, Flag::Hold, DISTRIBUTOR),
        ),
        (PRODUCER, clear_flag(&[2], Flag::Hold), Ok(())),
        // Damaged and Opened: custodian, producer or auditor; setter or producer clears.
        (DISTRIBUTOR, set_flag(&[2], Flag::Damaged), Ok(())),
        (
            AUDITOR,
            clear_flag(&[2], Flag::Damaged),
            not_allowed(2, Flag::Damaged, AUDITOR),
        ),
        (DISTRIBUTOR, clear_flag(&[2], Flag::Damaged), Ok(())),
        (AUDITOR, set_flag(&[2], Flag::Opened), Ok(())),
        (AUDITOR, clear_flag(&[2], Flag::Opened), Ok(())),
    ]);
    let one = w.ledger.bottle(&b(1)).expect("b1");
    assert_eq!(
        one.flags.get(&Flag::Stolen).map(String::as_str),
        Some(PRODUCER)
    );
}

#[test]
fn test_flags_after_sale_and_on_terminal() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2]);
    w.ok(STORE, sell(&[1]));
    w.ok(
        PRODUCER,
        Op::Destroy {
            items: bottles(&[2]),
        },
    );
    w.run(vec![
        (
            STORE,
            set_flag(&[1], Flag::Stolen),
            Err(ProvenanceError::FlagNotAllowed {
                code: item(&b(1)),
                flag: Flag::Stolen,
                org_id: STORE.into(),
            }),
        ),
        (PRODUCER, set_flag(&[1], Flag::Recalled), Ok(())),
        (
            PRODUCER,
            set_flag(&[2], Flag::Recalled),
            wrong(2, LifeState::Destroyed, "flag"),
        ),
    ]);
}

#[test]
fn test_destroy_steps() {
    let mut w = World::new();
    stocked_at(&mut w, DISTRIBUTOR, &[1, 2]);
    w.ok(DISTRIBUTOR, pack(&case(1), &[1, 2]));
    w.ok(DISTRIBUTOR, ship(vec![cont(&case(1))], STORE));
    w.ok(PRODUCER, commission(&[3]));
    let destroy = |ns: &[u64]| Op::Destroy { items: bottles(ns) };
    w.run(vec![
        (
            DISTRIBUTOR,
            destroy(&[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Distributor,
                op: "destroy",
            }),
        ),
        (
            PRODUCER_2,
            destroy(&[1]),
            Err(ProvenanceError::NotProducer {
                code: item(&b(1)),
                producer: PRODUCER.into(),
            }),
        ),
        (AUDITOR, destroy(&[1]), Ok(())),
        (
            PRODUCER,
            destroy(&[3, 1]),
            wrong(1, LifeState::Destroyed, "destroy"),
        ),
        (PRODUCER, destroy(&[3]), Ok(())),
        (STORE, receive(vec![cont(&case(1))]), Ok(())),
        (STORE, sell(&[1]), wrong(1, LifeState::Destroyed, "sell")),
    ]);
    assert_eq!(w.ledger.bottle(&b(1)).expect("b1").parent, None);
    assert_eq!(w.custodian(2), STORE);
}

#[test]
fn test_void_and_replace_steps() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2]));
    w.ok(PRODUCER, issue(&[3, 8]));
    w.ok(PRODUCER_2, issue(&[9]));
    w.ok(PRODUCER, pack(&case(1), &[1]));
    w.ok(PRODUCER, set_flag(&[1], Flag::Damaged));
    let void = |pairs: &[(u64, Option<u64>)]| Op::Void {
        items: pairs.iter().map(|(o, n)| (b(*o), n.map(b))).collect(),
    };
    let foreign_gtin = Sgtin::new(gtin(2), Serial::parse("X").expect("serial"));
    w.run(vec![
        (
            PRODUCER_2,
            void(&[(1, None)]),
            Err(ProvenanceError::NotProducer {
                code: item(&b(1)),
                producer: PRODUCER.into(),
            }),
        ),
        (
            PRODUCER,
            void(&[(1, Some(1))]),
            Err(ProvenanceError::Duplicate(item(&b(1)))),
        ),
        (
            PRODUCER,
            void(&[(1, Some(2))]),
            Err(ProvenanceError::BadReplacement(item(&b(2)))),
        ),
        (
            PRODUCER,
            void(&[(1, Some(9))]),
            Err(ProvenanceError::BadReplacement(item(&b(9)))),
        ),
        (
            PRODUCER,
            Op::Void {
                items: vec![(b(1), Some(foreign_gtin.clone()))],
            },
            Err(ProvenanceError::BadReplacement(Code::Item(foreign_gtin))),
        ),
        (PRODUCER, void(&[(1, Some(3)), (2, Some(7))]), Ok(())),
        (PRODUCER, void(&[(8, None)]), Ok(())),
        (
            PRODUCER,
            void(&[(1, None)]),
            wrong(1, LifeState::Void, "void"),
        ),
    ]);
    let old = w.ledger.bottle(&b(1)).expect("b1");
    assert_eq!(
        (old.state, old.replaced_by.clone()),
        (LifeState::Void, Some(b(3)))
    );
    let new = w.ledger.bottle(&b(3)).expect("b3");
    assert_eq!(new.state, LifeState::Active);
    assert_eq!(
        new.parent,
        Some(case(1)),
        "the replacement takes the old code's place"
    );
    assert_eq!(new.replaces, Some(b(1)));
    assert!(new.flags.contains_key(&Flag::Damaged));
    assert_eq!(w.state(7), LifeState::Active);
    assert_eq!(w.state(8), LifeState::Void);
}

#[test]
fn test_alert_log_keeps_the_latest_and_counts_all() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1]);
    w.ok(STORE, sell(&[1]));
    let op = sell(&[1]);
    let total = ALERTS_KEPT_PER_CODE as u64 + 5;
    for n in 0..total {
        w.ctx.height += 1;
        let error = w.step(STORE, &op).expect_err("second sale");
        let alert = w
            .ledger
            .alert_for(&op, &actor(STORE), &error, &w.ctx)
            .expect("alert");
        w.ledger.record_alert(alert);
        assert_eq!(w.ledger.alerts_total(&item(&b(1))), n + 1);
        w.ledger.check_invariants().expect("invariants");
    }
    let heights: Vec<u64> = w
        .ledger
        .alerts_about(&item(&b(1)))
        .map(|a| a.height)
        .collect();
    assert_eq!(heights.len(), ALERTS_KEPT_PER_CODE);
    assert!(heights.windows(2).all(|p| p[0] < p[1]), "oldest first");
    assert_eq!(
        heights.last().copied(),
        Some(w.ctx.height),
        "the newest is kept"
    );
}

#[test]
fn test_alert_for_refused_sale_and_receive() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2]);
    w.ok(STORE, sell(&[1]));
    w.ok(PRODUCER, commission(&[3]));
    w.ok(PRODUCER, ship(kids(&[3]), DISTRIBUTOR));
    let cases = [
        (STORE, sell(&[1]), AlertCode::AlreadySold, b(1)),
        (STORE_2, sell(&[2]), AlertCode::SaleByNonCustodian, b(2)),
        (
            DISTRIBUTOR_2,
            receive(kids(&[3])),
            AlertCode::Diverted,
            b(3),
        ),
        (STORE, sell(&[4]), AlertCode::UnknownCode, b(4)),
    ];
    for (org, op, code, subject) in cases {
        let error = w.step(org, &op).expect_err("refused");
        let alert = w
            .ledger
            .alert_for(&op, &actor(org), &error, &w.ctx)
            .expect("alert");
        assert_eq!(alert.code, code);
        assert_eq!(alert.subject, item(&subject));
        assert_eq!(alert.actor_org, org);
        assert_eq!(alert.height, w.ctx.height);
        w.ledger.record_alert(alert);
        w.ledger.check_invariants().expect("invariants");
    }
    let codes: Vec<&str> = [1, 2, 3, 4]
        .iter()
        .flat_map(|n| w.ledger.alerts_about(&item(&b(*n))))
        .map(|a| a.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "ALREADY_SOLD",
            "SALE_BY_NON_CUSTODIAN",
            "DIVERTED",
            "UNKNOWN_CODE"
        ]
    );
    // The unknown code now has a leaf: the attempt itself is on record.
    let leaf = w.ledger.leaf(&item(&b(4))).expect("alert leaf");
    assert!(leaf.bottle.is_none() && leaf.container.is_none());
    assert_eq!(leaf.alerts.total, 1);
    let about_one: Vec<AlertCode> = w
        .ledger
        .alerts_about(&item(&b(1)))
        .map(|a| a.code)
        .collect();
    assert_eq!(about_one, [AlertCode::AlreadySold]);
    assert_eq!(w.ledger.alerts_about(&item(&b(5))).count(), 0);
    // A refused op that is not a sale or receive raises no alert.
    let op = commission(&[3]);
    let error = w.step(PRODUCER, &op).expect_err("refused");
    assert_eq!(
        w.ledger.alert_for(&op, &actor(PRODUCER), &error, &w.ctx),
        None
    );
}

#[test]
fn test_alert_for_flagged_and_terminal_sale() {
    let mut w = World::new();
    stocked_at(&mut w, STORE, &[1, 2]);
    w.ok(PRODUCER, set_flag(&[1], Flag::Recalled));
    w.ok(
        AUDITOR,
        Op::Destroy {
            items: bottles(&[2]),
        },
    );
    w.ok(PRODUCER, issue(&[3]));
    for (n, code) in [
        (1, AlertCode::Recalled),
        (2, AlertCode::Destroyed),
        (3, AlertCode::NotReleased),
    ] {
        let op = sell(&[n]);
        let error = w.step(STORE, &op).expect_err("refused");
        let alert = alert_for(&op, &actor(STORE), &error, &w.ctx).expect("alert");
        assert_eq!(alert.code, code, "bottle {n}: {error}");
    }
}
