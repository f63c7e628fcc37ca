//! Random op sequences from random actors over a small universe of codes (so ops collide
//! often): the invariants hold after every step, a refused op changes nothing, and recording
//! the alert of a refused op keeps the invariants.

use proptest::prelude::*;

use super::testkit::{actor, b, case, parties, sscc, World, DAY_MS, ORGS};
use super::*;
use crate::gs1::Sgtin;
use crate::types::Role;

const BOTTLES: u64 = 7;

fn arb_bottles() -> impl Strategy<Value = Vec<Sgtin>> {
    prop::collection::btree_set(0..BOTTLES, 1..3).prop_map(|set| set.into_iter().map(b).collect())
}

fn arb_container() -> impl Strategy<Value = ContainerId> {
    prop_oneof![(1u64..3).prop_map(sscc), (1u64..3).prop_map(case),]
}

fn arb_child() -> impl Strategy<Value = Child> {
    prop_oneof![
        2 => (0..BOTTLES).prop_map(|n| Child::Bottle(b(n))),
        1 => arb_container().prop_map(Child::Container),
    ]
}

fn arb_children() -> impl Strategy<Value = Vec<Child>> {
    prop::collection::btree_set(arb_child(), 1..3).prop_map(|set| set.into_iter().collect())
}

fn arb_org() -> impl Strategy<Value = &'static str> {
    (0..ORGS.len()).prop_map(|i| ORGS[i].0)
}

fn arb_flag() -> impl Strategy<Value = Flag> {
    (0..Flag::ALL.len()).prop_map(|i| Flag::ALL[i])
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => arb_bottles().prop_map(|items| Op::Issue { items }),
        3 => (arb_bottles(), prop::option::of(0u8..3)).prop_map(|(items, lot)| Op::Commission {
            items,
            lot: lot.map(|n| crate::gs1::Lot::parse(&format!("L{n}")).expect("a lot")),
        }),
        2 => (arb_container(), arb_children())
            .prop_map(|(parent, children)| Op::Pack { parent, children }),
        1 => (arb_container(), arb_children())
            .prop_map(|(parent, children)| Op::Unpack { parent, children }),
        3 => (arb_children(), arb_org())
            .prop_map(|(roots, to)| Op::Ship { roots, to: to.to_string() }),
        1 => arb_children().prop_map(|roots| Op::VoidShip { roots }),
        3 => arb_children().prop_map(|roots| Op::Receive { roots }),
        3 => arb_bottles().prop_map(|items| Op::Sell { items, city: "CN-BJ".to_string() }),
        1 => arb_bottles().prop_map(|items| Op::UndoSale { items }),
        1 => arb_bottles().prop_map(|items| Op::Return { items }),
        2 => (arb_bottles(), arb_flag()).prop_map(|(items, flag)| Op::SetFlag { items, flag }),
        2 => (arb_bottles(), arb_flag()).prop_map(|(items, flag)| Op::ClearFlag { items, flag }),
        1 => arb_bottles().prop_map(|items| Op::Destroy { items }),
        1 => prop::collection::vec((0..BOTTLES, proptest::option::of(0..BOTTLES + 4)), 1..3)
            .prop_map(|pairs| Op::Void {
                items: pairs.into_iter().map(|(o, n)| (b(o), n.map(b))).collect(),
            }),
    ]
}

/// Bottles 0-5 commissioned by the producer; 0-3 received by the distributor; 2-3 passed
/// on to the store; 4-5 packed in a case at the producer; so random ops reach every state quickly.
fn seeded_world() -> World {
    seeded_world_with_lots(None, None)
}

/// [`seeded_world`] with bottles 0, 2 and 4 commissioned in lot `even`, 1, 3 and 5 in `odd`.
fn seeded_world_with_lots(even: Option<&str>, odd: Option<&str>) -> World {
    use super::testkit::{DISTRIBUTOR, PRODUCER, STORE};
    let mut w = World::new();
    let kids = |ns: std::ops::Range<u64>| ns.map(|n| Child::Bottle(b(n))).collect::<Vec<_>>();
    for (first, lot) in [(0, even), (1, odd)] {
        w.ok(
            PRODUCER,
            Op::Commission {
                items: (0..6).filter(|n| n % 2 == first).map(b).collect(),
                lot: lot.map(|l| crate::gs1::Lot::parse(l).expect("a lot")),
            },
        );
    }
    w.ok(
        PRODUCER,
        Op::Ship {
            roots: kids(0..4),
            to: DISTRIBUTOR.to_string(),
        },
    );
    w.ok(DISTRIBUTOR, Op::Receive { roots: kids(0..4) });
    w.ok(
        DISTRIBUTOR,
        Op::Ship {
            roots: kids(2..4),
            to: STORE.to_string(),
        },
    );
    w.ok(STORE, Op::Receive { roots: kids(2..4) });
    w.ok(
        PRODUCER,
        Op::Pack {
            parent: case(1),
            children: kids(4..6),
        },
    );
    w
}

/// Orgs that might plausibly submit `op`; a random org is drawn a quarter of the time.
fn arb_actor_for(op: &Op) -> BoxedStrategy<&'static str> {
    let roles: &[Role] = match op {
        Op::Issue { .. } | Op::Commission { .. } | Op::Return { .. } | Op::Void { .. } => {
            &[Role::Producer]
        }
        Op::Sell { .. } | Op::UndoSale { .. } => &[Role::Store],
        Op::Destroy { .. } => &[Role::Producer, Role::Auditor],
        Op::SetFlag { .. } | Op::ClearFlag { .. } => &Role::ALL,
        _ => &[Role::Producer, Role::Distributor, Role::Store],
    };
    let plausible: Vec<&'static str> = ORGS
        .iter()
        .filter(|(_, role)| roles.contains(role))
        .map(|(id, _)| *id)
        .collect();
    prop_oneof![
        3 => prop::sample::select(plausible),
        1 => arb_org(),
    ]
    .boxed()
}

fn arb_step() -> impl Strategy<Value = (&'static str, Op)> {
    arb_op().prop_flat_map(|op| (arb_actor_for(&op), Just(op)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn test_random_op_sequences_keep_invariants(
        steps in prop::collection::vec((arb_step(), 0..3 * DAY_MS), 1..80)
    ) {
        let mut w = seeded_world();
        for ((org, op), wait_ms) in steps {
            w.ctx.time_ms += wait_ms;
            // World::step asserts the invariants and that a refusal changed nothing.
            if let Err(error) = w.step(org, &op) {
                if let Some(alert) = w.ledger.alert_for(&op, &actor(org), &error, &w.ctx) {
                    w.ledger.record_alert(alert);
                    prop_assert!(w.ledger.check_invariants().is_ok());
                }
            }
        }
    }

    #[test]
    fn test_same_ops_give_same_ledger(
        steps in prop::collection::vec(arb_step(), 1..40)
    ) {
        let run = || {
            let mut w = World::new();
            let results: Vec<_> = steps.iter().map(|(org, op)| w.step(org, op)).collect();
            (w.ledger, results)
        };
        prop_assert_eq!(run(), run());
    }
}

/// The registry with lot `L1` of every GTIN recalled by its brand owner.
struct RecallingL1(std::collections::BTreeMap<String, Role>);

impl Parties for RecallingL1 {
    fn role_of(&self, org_id: &str) -> Option<Role> {
        self.0.role_of(org_id)
    }

    fn lot_recalled(&self, _gtin: &crate::gs1::Gtin, lot: &crate::gs1::Lot) -> bool {
        lot.to_string() == "L1"
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the ops, a bottle of a recalled lot never becomes sold, and only ever
    /// starts a shipment to its producer.
    #[test]
    fn test_a_recalled_lot_is_never_sold_nor_shipped_elsewhere(
        steps in prop::collection::vec(arb_step(), 1..80)
    ) {
        // Seeded before the recall: lot L1 (bottles 0, 2, 4) at the distributor, the store
        // and the producer, lot L0 beside it.
        let World { mut ledger, mut ctx, .. } = seeded_world_with_lots(Some("L1"), Some("L0"));
        let parties = RecallingL1(parties());
        for (org, op) in steps {
            let before = ledger.clone();
            if ledger.apply(&op, &actor(org), &parties, &ctx).is_ok() {
                for (id, bottle) in ledger.bottles.iter() {
                    let was = before.bottle(id).map(|b| b.state);
                    let recalled = bottle.lot.as_ref().is_some_and(|l| l.to_string() == "L1");
                    let newly = |state| bottle.state == state && was != Some(state);
                    if recalled {
                        prop_assert!(!newly(LifeState::Sold), "{id} of L1 sold by {op:?}");
                        if newly(LifeState::InTransit) {
                            let to = bottle.shipment.as_ref().map(|s| s.to.as_str());
                            prop_assert_eq!(to, Some(bottle.producer.as_str()));
                        }
                    }
                }
            }
            ctx.height += 1;
            ctx.time_ms += 1000;
        }
    }
}

/// An op chosen against the current ledger (`pick`s index its existing records) and, when
/// `honest`, submitted by the org that would plausibly submit it (custodian, destination,
/// seller, producer). Reaches deep states that blind random ops rarely reach.
fn guided_step(w: &World, kind: u8, pick: usize, pick2: usize, honest: bool) -> (&'static str, Op) {
    use super::testkit::{AUDITOR, PRODUCER, PRODUCER_2};
    let bottles: Vec<&Sgtin> = w.ledger.bottles.keys().collect();
    let containers: Vec<&ContainerId> = w.ledger.containers.keys().collect();
    let bottle = bottles
        .get(pick % bottles.len().max(1))
        .map_or_else(|| b(pick as u64 % 12), |id| (*id).clone());
    let record = w.ledger.bottle(&bottle).map(std::borrow::Cow::into_owned);
    let record = record.as_ref();
    let root = match containers.get(pick2 % 4) {
        Some(id) if pick2.is_multiple_of(3) => Child::Container((*id).clone()),
        _ => Child::Bottle(bottle.clone()),
    };
    let custodian = w
        .ledger
        .custodian_of(&root)
        .unwrap_or_else(|| PRODUCER.to_string());
    let shipment = match &root {
        Child::Bottle(id) => w.ledger.bottle(id).and_then(|r| r.shipment.clone()),
        Child::Container(id) => w.ledger.container(id).and_then(|c| c.shipment.clone()),
    };
    let producer = record.map_or(PRODUCER, |r| org_name(&r.producer));
    let parent = [sscc(1), sscc(2), case(1), case(2)][pick2 % 4].clone();
    let flag = Flag::ALL[pick2 % Flag::ALL.len()];
    let movers = [
        PRODUCER, PRODUCER_2, "dist-a", "dist-b", "store-a", "store-b",
    ];
    let (org, op): (&'static str, Op) = match kind % 14 {
        0 => (
            [PRODUCER, PRODUCER_2][pick2 % 2],
            Op::Issue {
                items: vec![b(pick as u64 % 12)],
            },
        ),
        1 => (
            [PRODUCER, PRODUCER_2][pick2 % 2],
            Op::Commission {
                items: vec![b(pick as u64 % 12)],
                lot: None,
            },
        ),
        2 => (
            org_name(&custodian),
            Op::Pack {
                parent,
                children: vec![root],
            },
        ),
        3 => {
            let child = w
                .ledger
                .container(&parent)
                .and_then(|c| {
                    c.children
                        .iter()
                        .nth(pick % c.children.len().max(1))
                        .cloned()
                })
                .unwrap_or(root);
            let org = w
                .ledger
                .container(&parent)
                .map_or(PRODUCER, |c| org_name(&c.custodian));
            (
                org,
                Op::Unpack {
                    parent,
                    children: vec![child],
                },
            )
        }
        4 => (
            org_name(&custodian),
            Op::Ship {
                roots: vec![root],
                to: movers[pick2 % 6].to_string(),
            },
        ),
        5 => (
            shipment.as_ref().map_or(PRODUCER, |s| org_name(&s.from)),
            Op::VoidShip { roots: vec![root] },
        ),
        6 | 7 => (
            shipment.as_ref().map_or(PRODUCER, |s| org_name(&s.to)),
            Op::Receive { roots: vec![root] },
        ),
        8 => (
            record.map_or(PRODUCER, |r| org_name(&r.custodian)),
            Op::Sell {
                items: vec![bottle],
                city: "CN-SH".to_string(),
            },
        ),
        9 => (
            record
                .and_then(|r| r.sold.as_ref())
                .map_or("store-a", |s| org_name(&s.store)),
            Op::UndoSale {
                items: vec![bottle],
            },
        ),
        10 => (
            producer,
            Op::Return {
                items: vec![bottle],
            },
        ),
        11 => {
            let by = [
                producer,
                record.map_or(PRODUCER, |r| org_name(&r.custodian)),
                AUDITOR,
            ];
            let by = by[pick % 3];
            if pick2.is_multiple_of(2) {
                (
                    by,
                    Op::SetFlag {
                        items: vec![bottle],
                        flag,
                    },
                )
            } else {
                (
                    by,
                    Op::ClearFlag {
                        items: vec![bottle],
                        flag,
                    },
                )
            }
        }
        12 => (
            [producer, AUDITOR][pick2 % 2],
            Op::Destroy {
                items: vec![bottle],
            },
        ),
        _ => {
            let new = pick2.is_multiple_of(2).then(|| b(pick2 as u64 % 12));
            (
                producer,
                Op::Void {
                    items: vec![(bottle, new)],
                },
            )
        }
    };
    if honest {
        (org, op)
    } else {
        (ORGS[pick2 % ORGS.len()].0, op)
    }
}

/// The static name of a test org.
fn org_name(id: &str) -> &'static str {
    ORGS.iter()
        .find(|(name, _)| *name == id)
        .map_or(ORGS[0].0, |(name, _)| name)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn test_guided_op_sequences_keep_invariants(
        steps in prop::collection::vec(
            (any::<u8>(), any::<usize>(), any::<usize>(), prop::bool::weighted(0.85), 0..DAY_MS),
            1..120,
        )
    ) {
        let mut w = seeded_world();
        for (kind, pick, pick2, honest, wait_ms) in steps {
            w.ctx.time_ms += wait_ms;
            let (org, op) = guided_step(&w, kind, pick, pick2, honest);
            if let Err(error) = w.step(org, &op) {
                if let Some(alert) = w.ledger.alert_for(&op, &actor(org), &error, &w.ctx) {
                    w.ledger.record_alert(alert);
                    prop_assert!(w.ledger.check_invariants().is_ok());
                }
            }
        }
    }

    #[test]
    fn test_op_borsh_round_trip(op in arb_op()) {
        let bytes = borsh::to_vec(&op).expect("borsh writes to a Vec");
        let back: Op = borsh::from_slice(&bytes).expect("decodes");
        prop_assert_eq!(back, op);
    }
}
