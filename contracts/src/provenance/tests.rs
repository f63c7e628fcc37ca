//! Step tables for issue, commission, pack, ship, void shipping and receive (T1-T6), batch
//! limits and the invariant checker. Each step is (actor, op, expected result); the runner
//! checks the invariants after every step and that a refusal changed nothing.

use super::testkit::*;
use super::*;
use crate::gs1::{Gtin, Lot, Serial, Sgtin};
use crate::types::Role;

#[test]
fn test_commission_records_the_lot_and_a_replacement_code_keeps_it() {
    let mut w = World::new();
    let lot = Lot::parse("L2026-07").expect("a lot");
    let lot_of = |w: &World, n: u64| w.ledger.bottle(&b(n)).expect("bottle").lot.clone();
    w.ok(
        PRODUCER,
        Op::Commission {
            items: bottles(&[1, 2]),
            lot: Some(lot.clone()),
        },
    );
    w.ok(PRODUCER, issue(&[3]));
    assert_eq!(lot_of(&w, 3), None, "an issued code is on no bottle yet");
    w.ok(
        PRODUCER,
        Op::Commission {
            items: bottles(&[3]),
            lot: Some(lot.clone()),
        },
    );
    w.ok(PRODUCER, commission(&[5]));
    assert_eq!(
        [1, 2, 3, 5].map(|n| lot_of(&w, n)),
        [
            Some(lot.clone()),
            Some(lot.clone()),
            Some(lot.clone()),
            None
        ]
    );
    // T12: a new label on the same bottle; the bottle's lot goes with it.
    w.ok(
        PRODUCER,
        Op::Void {
            items: vec![(b(1), Some(b(4)))],
        },
    );
    assert_eq!(lot_of(&w, 4), Some(lot));
}

#[test]
fn test_issue_and_commission_steps() {
    let mut w = World::new();
    w.run(vec![
        (
            STORE,
            issue(&[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Store,
                op: "issue codes",
            }),
        ),
        (PRODUCER, issue(&[]), Err(ProvenanceError::EmptyBatch)),
        (
            PRODUCER,
            issue(&[1, 1]),
            Err(ProvenanceError::Duplicate(item(&b(1)))),
        ),
        (PRODUCER, issue(&[1, 2]), Ok(())),
        (
            PRODUCER,
            issue(&[3, 1]),
            Err(ProvenanceError::CodeInUse(item(&b(1)))),
        ),
        (
            PRODUCER_2,
            commission(&[1]),
            Err(ProvenanceError::NotProducer {
                code: item(&b(1)),
                producer: PRODUCER.into(),
            }),
        ),
        (
            DISTRIBUTOR,
            commission(&[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Distributor,
                op: "commission",
            }),
        ),
        (PRODUCER, commission(&[1, 3]), Ok(())),
        (
            PRODUCER,
            commission(&[2, 1]),
            wrong(1, LifeState::Active, "commission"),
        ),
    ]);
    assert_eq!(w.state(1), LifeState::Active);
    assert_eq!(w.state(2), LifeState::Issued);
    assert_eq!(w.state(3), LifeState::Active);
    assert_eq!(w.custodian(3), PRODUCER);
    assert!(w.ledger.bottle(&b(4)).is_none());
}

#[test]
fn test_unregistered_or_wrong_role_actor_is_refused() {
    let mut w = World::new();
    let ghost = Actor::new("ghost", Role::Producer);
    let posing = Actor::new(STORE, Role::Producer);
    for who in [ghost, posing] {
        let got = w.ledger.apply(&issue(&[1]), &who, &w.parties, &w.ctx);
        assert_eq!(got, Err(ProvenanceError::UnknownActor(who.org_id.clone())));
        assert_eq!(w.ledger, Ledger::new());
    }
}

struct OneBrand;
impl Parties for OneBrand {
    fn role_of(&self, org_id: &str) -> Option<Role> {
        parties().get(org_id).copied()
    }
    fn may_brand(&self, org_id: &str, gtin_: &Gtin) -> bool {
        org_id == PRODUCER && *gtin_ == gtin(0)
    }
}

#[test]
fn test_issue_refused_for_foreign_brand() {
    let mut ledger = Ledger::new();
    let ctx = World::new().ctx;
    let op = issue(&[1]);
    let got = ledger.apply(&op, &actor(PRODUCER_2), &OneBrand, &ctx);
    assert_eq!(
        got,
        Err(ProvenanceError::NotBrandOwner {
            org_id: PRODUCER_2.into(),
            gtin: gtin(0)
        })
    );
    assert_eq!(ledger, Ledger::new());
    ledger
        .apply(&op, &actor(PRODUCER), &OneBrand, &ctx)
        .expect("brand owner issues");
}

#[test]
fn test_pack_unpack_steps() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2, 3]));
    w.ok(PRODUCER, issue(&[4]));
    w.ok(PRODUCER_2, commission(&[9]));
    let (c1, pallet) = (case(1), sscc(1));
    w.run(vec![
        (
            AUDITOR,
            pack(&c1, &[1]),
            Err(ProvenanceError::RoleNotAllowed {
                role: Role::Auditor,
                op: "pack",
            }),
        ),
        (
            PRODUCER,
            pack(&c1, &[1, 9]),
            Err(ProvenanceError::NotCustodian {
                code: item(&b(9)),
                custodian: PRODUCER_2.into(),
            }),
        ),
        (
            PRODUCER,
            pack(&c1, &[4]),
            wrong(4, LifeState::Issued, "pack"),
        ),
        (
            PRODUCER,
            pack(&ContainerId::Case(b(1)), &[2]),
            Err(ProvenanceError::CodeInUse(item(&b(1)))),
        ),
        (PRODUCER, pack(&c1, &[1, 2]), Ok(())),
        (
            PRODUCER,
            pack(&sscc(2), &[2]),
            Err(ProvenanceError::AlreadyPacked {
                code: item(&b(2)),
                parent: c1.clone(),
            }),
        ),
        (
            PRODUCER,
            Op::Pack {
                parent: pallet.clone(),
                children: vec![cont(&c1)],
            },
            Ok(()),
        ),
        (
            PRODUCER,
            Op::Pack {
                parent: c1.clone(),
                children: vec![cont(&pallet)],
            },
            Err(ProvenanceError::NestingTooDeep(pallet.clone())),
        ),
        (
            PRODUCER,
            Op::Issue {
                items: vec![Sgtin::new(gtin(1), Serial::parse("C1").expect("serial"))],
            },
            Err(ProvenanceError::CodeInUse(c1.code())),
        ),
        (
            PRODUCER_2,
            Op::Unpack {
                parent: c1.clone(),
                children: kids(&[1]),
            },
            Err(ProvenanceError::NotCustodian {
                code: c1.code(),
                custodian: PRODUCER.into(),
            }),
        ),
        (
            PRODUCER,
            Op::Unpack {
                parent: c1.clone(),
                children: kids(&[1, 3]),
            },
            Err(ProvenanceError::NotInContainer {
                code: item(&b(3)),
                parent: c1.clone(),
            }),
        ),
        (
            PRODUCER,
            Op::Unpack {
                parent: c1.clone(),
                children: kids(&[1]),
            },
            Ok(()),
        ),
    ]);
    assert_eq!(w.ledger.bottle(&b(1)).expect("b1").parent, None);
    assert_eq!(w.ledger.bottle(&b(2)).expect("b2").parent, Some(c1.clone()));
    let children: Vec<_> = w
        .ledger
        .container(&c1)
        .expect("c1")
        .children
        .iter()
        .cloned()
        .collect();
    assert_eq!(children, kids(&[2]));
}

#[test]
fn test_pack_refuses_cycles_and_deep_nesting() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1]));
    w.ok(PRODUCER, pack(&sscc(1), &[1]));
    for n in 2..=NESTING_DEPTH_MAX as u64 {
        w.ok(
            PRODUCER,
            Op::Pack {
                parent: sscc(n),
                children: vec![cont(&sscc(n - 1))],
            },
        );
    }
    let top = sscc(NESTING_DEPTH_MAX as u64);
    w.run(vec![
        (
            PRODUCER,
            Op::Pack {
                parent: sscc(1),
                children: vec![cont(&top)],
            },
            Err(ProvenanceError::NestingTooDeep(top.clone())),
        ),
        (
            PRODUCER,
            Op::Pack {
                parent: sscc(99),
                children: vec![cont(&top)],
            },
            Err(ProvenanceError::NestingTooDeep(top.clone())),
        ),
    ]);
}

#[test]
fn test_ship_receive_void_steps() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2, 3]));
    w.ok(PRODUCER, issue(&[4]));
    w.ok(PRODUCER, pack(&case(1), &[1, 2]));
    let c1 = cont(&case(1));
    w.run(vec![
        (
            PRODUCER,
            ship(vec![c1.clone()], "nobody"),
            Err(ProvenanceError::UnknownDestination("nobody".into())),
        ),
        (
            PRODUCER,
            ship(vec![c1.clone()], AUDITOR),
            Err(ProvenanceError::UnknownDestination(AUDITOR.into())),
        ),
        (
            PRODUCER,
            ship(vec![c1.clone()], PRODUCER),
            Err(ProvenanceError::ShipToSelf),
        ),
        (
            PRODUCER,
            ship(kids(&[1]), DISTRIBUTOR),
            Err(ProvenanceError::InContainer {
                code: item(&b(1)),
                parent: case(1),
            }),
        ),
        (
            PRODUCER,
            ship(kids(&[3, 4]), DISTRIBUTOR),
            wrong(4, LifeState::Issued, "ship"),
        ),
        (
            DISTRIBUTOR,
            ship(vec![c1.clone()], STORE),
            Err(ProvenanceError::NotCustodian {
                code: case(1).code(),
                custodian: PRODUCER.into(),
            }),
        ),
        (
            PRODUCER,
            ship(vec![c1.clone(), Child::Bottle(b(3))], DISTRIBUTOR),
            Ok(()),
        ),
        (
            PRODUCER,
            ship(vec![c1.clone()], DISTRIBUTOR),
            Err(ProvenanceError::WrongState {
                code: case(1).code(),
                state: LifeState::InTransit,
                op: "ship",
            }),
        ),
        (
            DISTRIBUTOR_2,
            receive(vec![c1.clone()]),
            Err(ProvenanceError::Diverted {
                code: case(1).code(),
                expected: DISTRIBUTOR.into(),
                by: DISTRIBUTOR_2.into(),
            }),
        ),
        (
            DISTRIBUTOR,
            receive(kids(&[1])),
            Err(ProvenanceError::InContainer {
                code: item(&b(1)),
                parent: case(1),
            }),
        ),
        (
            DISTRIBUTOR,
            Op::VoidShip { roots: kids(&[3]) },
            Err(ProvenanceError::NotShipper {
                code: item(&b(3)),
                shipper: PRODUCER.into(),
            }),
        ),
        (PRODUCER, Op::VoidShip { roots: kids(&[3]) }, Ok(())),
        (
            DISTRIBUTOR,
            receive(kids(&[3])),
            wrong(3, LifeState::Active, "receive"),
        ),
        (DISTRIBUTOR, receive(vec![c1.clone()]), Ok(())),
        (
            PRODUCER,
            Op::VoidShip {
                roots: vec![c1.clone()],
            },
            Err(ProvenanceError::WrongState {
                code: case(1).code(),
                state: LifeState::InStock,
                op: "void a shipment",
            }),
        ),
    ]);
    assert_eq!(w.state(3), LifeState::Active);
    assert_eq!(w.custodian(3), PRODUCER);
    for n in [1, 2] {
        assert_eq!(w.state(n), LifeState::InStock);
        assert_eq!(w.custodian(n), DISTRIBUTOR);
    }
    assert_eq!(
        w.ledger.container(&case(1)).expect("case").custodian,
        DISTRIBUTOR
    );
}

#[test]
fn test_pallet_ship_moves_whole_subtree() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2, 3, 4]));
    w.ok(PRODUCER, pack(&case(1), &[1, 2]));
    w.ok(PRODUCER, pack(&case(2), &[3, 4]));
    w.ok(
        PRODUCER,
        Op::Pack {
            parent: sscc(1),
            children: vec![cont(&case(1)), cont(&case(2))],
        },
    );
    w.ok(PRODUCER, ship(vec![cont(&sscc(1))], DISTRIBUTOR));
    assert!((1..=4).all(|n| w.state(n) == LifeState::InTransit));
    w.ok(DISTRIBUTOR, receive(vec![cont(&sscc(1))]));
    assert!((1..=4).all(|n| w.custodian(n) == DISTRIBUTOR && w.state(n) == LifeState::InStock));
    // Break the pallet, ship one case on.
    w.ok(
        DISTRIBUTOR,
        Op::Unpack {
            parent: sscc(1),
            children: vec![cont(&case(2))],
        },
    );
    w.ok(DISTRIBUTOR, ship(vec![cont(&case(2))], STORE));
    w.ok(STORE, receive(vec![cont(&case(2))]));
    assert_eq!(
        (w.custodian(1).as_str(), w.custodian(3).as_str()),
        (DISTRIBUTOR, STORE)
    );
}

#[test]
fn test_ship_refuses_flagged_bottles() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2, 3]));
    w.ok(PRODUCER, ship(kids(&[1, 2, 3]), DISTRIBUTOR));
    w.ok(DISTRIBUTOR, receive(kids(&[1, 2, 3])));
    w.ok(DISTRIBUTOR, set_flag(&[1], Flag::Stolen));
    w.ok(AUDITOR, set_flag(&[2], Flag::Hold));
    w.ok(PRODUCER, set_flag(&[3], Flag::Recalled));
    w.ok(DISTRIBUTOR, pack(&case(1), &[3]));
    w.run(vec![
        (
            DISTRIBUTOR,
            ship(kids(&[1]), STORE),
            Err(ProvenanceError::Flagged {
                code: item(&b(1)),
                flag: Flag::Stolen,
            }),
        ),
        (
            DISTRIBUTOR,
            ship(kids(&[2]), STORE),
            Err(ProvenanceError::Flagged {
                code: item(&b(2)),
                flag: Flag::Hold,
            }),
        ),
        (
            DISTRIBUTOR,
            ship(vec![cont(&case(1))], STORE),
            Err(ProvenanceError::RecalledNotToProducer(item(&b(3)))),
        ),
        (DISTRIBUTOR, ship(vec![cont(&case(1))], PRODUCER), Ok(())),
    ]);
}

#[test]
fn test_batch_of_10000_commission() {
    let mut w = World::new();
    let items: Vec<Sgtin> = (0..BATCH_CODES_MAX as u64).map(b).collect();
    let outcome = w
        .step(
            PRODUCER,
            &Op::Commission {
                items: items.clone(),
                lot: None,
            },
        )
        .expect("commission");
    assert_eq!(outcome.records_changed, BATCH_CODES_MAX);
    assert_eq!(w.ledger.bottles_len(), BATCH_CODES_MAX);
    let children: Vec<Child> = items.iter().cloned().map(Child::Bottle).collect();
    w.ok(
        PRODUCER,
        Op::Pack {
            parent: sscc(1),
            children,
        },
    );
    w.ok(PRODUCER, ship(vec![cont(&sscc(1))], DISTRIBUTOR));
    w.ok(DISTRIBUTOR, receive(vec![cont(&sscc(1))]));
    assert_eq!(w.custodian(9_999), DISTRIBUTOR);
}

#[test]
fn test_batch_too_large_or_one_bad_code_changes_nothing() {
    let mut w = World::new();
    let items: Vec<Sgtin> = (0..=BATCH_CODES_MAX as u64).map(b).collect();
    let got = w.step(PRODUCER, &Op::Issue { items });
    assert_eq!(
        got,
        Err(ProvenanceError::BatchTooLarge {
            len: BATCH_CODES_MAX + 1,
            max: BATCH_CODES_MAX,
        })
    );
    w.ok(PRODUCER, commission(&[5_000]));
    let items: Vec<Sgtin> = (0..BATCH_CODES_MAX as u64).map(b).collect();
    let got = w.step(PRODUCER, &Op::Issue { items });
    assert_eq!(got, Err(ProvenanceError::CodeInUse(item(&b(5_000)))));
    assert_eq!(w.ledger.bottles_len(), 1);
}

#[test]
fn test_check_invariants_detects_broken_records() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2]));
    w.ok(PRODUCER, pack(&case(1), &[1]));
    let good = w.ledger.clone();

    let mut broken = good.clone();
    broken.bottles.get_mut(&b(1)).expect("b1").custodian = STORE.into();
    assert!(broken.check_invariants().is_err(), "custody chain");

    let mut broken = good.clone();
    broken.bottles.get_mut(&b(2)).expect("b2").parent = Some(case(1));
    assert!(broken.check_invariants().is_err(), "child not listed");

    let mut broken = good.clone();
    broken.bottles.get_mut(&b(1)).expect("b1").state = LifeState::Sold;
    assert!(broken.check_invariants().is_err(), "sold without sale");

    let mut broken = good.clone();
    let c = broken.containers.get_mut(&case(1)).expect("case");
    c.parent = Some(case(1));
    c.children.insert(Child::Container(case(1)));
    assert!(broken.check_invariants().is_err(), "cycle");

    let mut broken = good;
    broken.bottles.get_mut(&b(1)).expect("b1").state = LifeState::Destroyed;
    assert!(broken.check_invariants().is_err(), "terminal with parent");
}

#[test]
fn test_pack_refuses_a_full_container() {
    let mut w = World::new();
    let items: Vec<Sgtin> = (0..=CONTAINER_CHILDREN_MAX as u64).map(b).collect();
    let (first, last) = items.split_at(CONTAINER_CHILDREN_MAX);
    w.ok(
        PRODUCER,
        Op::Commission {
            items: first.to_vec(),
            lot: None,
        },
    );
    w.ok(
        PRODUCER,
        Op::Commission {
            items: last.to_vec(),
            lot: None,
        },
    );
    let children = |ids: &[Sgtin]| ids.iter().cloned().map(Child::Bottle).collect::<Vec<_>>();
    w.ok(
        PRODUCER,
        Op::Pack {
            parent: sscc(1),
            children: children(first),
        },
    );
    w.run(vec![(
        PRODUCER,
        Op::Pack {
            parent: sscc(1),
            children: children(last),
        },
        Err(ProvenanceError::ContainerFull(sscc(1))),
    )]);
}

#[test]
fn test_void_ship_restores_each_node_and_custody() {
    let mut w = World::new();
    w.ok(PRODUCER, commission(&[1, 2]));
    w.ok(PRODUCER, ship(kids(&[1, 2]), DISTRIBUTOR));
    w.ok(DISTRIBUTOR, receive(kids(&[1, 2])));
    w.ok(DISTRIBUTOR, pack(&case(1), &[1, 2]));
    let before = w.ledger.clone();
    w.ok(DISTRIBUTOR, ship(vec![cont(&case(1))], STORE));
    w.ok(
        DISTRIBUTOR,
        Op::VoidShip {
            roots: vec![cont(&case(1))],
        },
    );
    for n in [1, 2] {
        let (now, then) = (w.ledger.bottle(&b(n)), before.bottle(&b(n)));
        assert_eq!(
            now.map(|r| (r.state, r.custodian.clone(), r.parent.clone())),
            then.map(|r| (r.state, r.custodian.clone(), r.parent.clone()))
        );
    }
    assert_eq!(w.ledger.container(&case(1)), before.container(&case(1)));
    w.run(vec![(
        STORE,
        receive(vec![cont(&case(1))]),
        Err(ProvenanceError::WrongState {
            code: case(1).code(),
            state: LifeState::InStock,
            op: "receive",
        }),
    )]);
}
