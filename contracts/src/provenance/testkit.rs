//! Test fixtures: orgs, codes, a ledger with a block clock, op builders, and the step-table
//! runner, which checks after every step that the invariants hold and that a refused step
//! left the ledger equal to what it was.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    Actor, Child, ContainerId, Ctx, Flag, Ledger, LifeState, MemRecords, Op, Outcome,
    ProvenanceError, RecordLeaf, UNDO_WINDOW_MS_DEFAULT,
};
use crate::gs1::{Code, Gtin, Serial, Sgtin, Sscc};
use crate::types::Role;

pub(super) const PRODUCER: &str = "moutai";
pub(super) const PRODUCER_2: &str = "wuliangye";
pub(super) const DISTRIBUTOR: &str = "dist-a";
pub(super) const DISTRIBUTOR_2: &str = "dist-b";
pub(super) const STORE: &str = "store-a";
pub(super) const STORE_2: &str = "store-b";
pub(super) const AUDITOR: &str = "auditor";

pub(super) const ORGS: [(&str, Role); 7] = [
    (PRODUCER, Role::Producer),
    (PRODUCER_2, Role::Producer),
    (DISTRIBUTOR, Role::Distributor),
    (DISTRIBUTOR_2, Role::Distributor),
    (STORE, Role::Store),
    (STORE_2, Role::Store),
    (AUDITOR, Role::Auditor),
];

pub(super) fn parties() -> BTreeMap<String, Role> {
    ORGS.iter()
        .map(|(id, role)| (id.to_string(), *role))
        .collect()
}

pub(super) fn actor(org_id: &str) -> Actor {
    let role = ORGS
        .iter()
        .find(|(id, _)| *id == org_id)
        .map(|(_, role)| *role)
        .expect("test org");
    Actor::new(org_id, role)
}

/// Appends the GS1 mod-10 check digit to `body`.
fn with_check_digit(body: u64) -> u64 {
    let mut sum = 0;
    let mut rest = body;
    let mut weight = 3;
    while rest > 0 {
        sum += (rest % 10) * weight;
        rest /= 10;
        weight = 4 - weight;
    }
    body * 10 + (10 - sum % 10) % 10
}

pub(super) fn gtin(n: u64) -> Gtin {
    Gtin::from_value(with_check_digit(950_600_013_430 + n)).expect("valid gtin")
}

/// Bottle `n` of the first product.
pub(super) fn b(n: u64) -> Sgtin {
    Sgtin::new(gtin(0), Serial::parse(&format!("B{n}")).expect("serial"))
}

pub(super) fn sscc(n: u64) -> ContainerId {
    ContainerId::Sscc(Sscc::from_value(with_check_digit(10_950_600_000_000_000 + n)).expect("sscc"))
}

pub(super) fn case(n: u64) -> ContainerId {
    ContainerId::Case(Sgtin::new(
        gtin(1),
        Serial::parse(&format!("C{n}")).expect("serial"),
    ))
}

pub(super) fn item(id: &Sgtin) -> Code {
    Code::Item(id.clone())
}

pub(super) fn bottles(ns: &[u64]) -> Vec<Sgtin> {
    ns.iter().map(|n| b(*n)).collect()
}

pub(super) fn kids(ns: &[u64]) -> Vec<Child> {
    ns.iter().map(|n| Child::Bottle(b(*n))).collect()
}

pub(super) const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A ledger with a block clock and the standard parties.
pub(super) struct World {
    pub ledger: Ledger,
    pub parties: BTreeMap<String, Role>,
    pub ctx: Ctx,
}

/// Every leaf that differs between `before` and `after` is among the codes the op reported
/// as touched: the node re-hashes only those, so a missing one would fork the state root.
fn check_touched(before: &Ledger, after: &Ledger, outcome: &Outcome, op: &Op) {
    let leaves = |ledger: &Ledger| -> BTreeMap<Code, RecordLeaf> {
        ledger
            .leaves()
            .into_iter()
            .map(|l| (l.code.clone(), l))
            .collect()
    };
    let (was, now) = (leaves(before), leaves(after));
    for code in was.keys().chain(now.keys()) {
        if was.get(code) != now.get(code) {
            assert!(
                outcome.touched.binary_search(code).is_ok(),
                "{code} changed but {op:?} did not report it"
            );
        }
    }
}

impl World {
    pub fn new() -> Self {
        Self {
            ledger: Ledger::new(),
            parties: parties(),
            ctx: Ctx {
                height: 1,
                time_ms: 1_000_000,
                undo_window_ms: UNDO_WINDOW_MS_DEFAULT,
            },
        }
    }

    /// Applies `op` as `org`; checks invariants, and that a refusal changed nothing.
    pub fn step(&mut self, org: &str, op: &Op) -> Result<Outcome, ProvenanceError> {
        let before = self.ledger.clone();
        // The same op on a twin that reads every record through a store, as a node does.
        let mut based = Ledger::new();
        based.rebase(Arc::new(MemRecords::snapshot(&self.ledger)));
        let based_result = based.apply(op, &actor(org), &self.parties, &self.ctx);
        let result = self.ledger.apply(op, &actor(org), &self.parties, &self.ctx);
        assert_eq!(
            based_result, result,
            "a ledger over a store decided {op:?} otherwise"
        );
        based.check_invariants().expect("invariants over a store");
        for code in self.ledger.overlay_codes() {
            assert_eq!(
                based.stored_record(&code),
                self.ledger.stored_record(&code),
                "{code} over a store after {op:?}"
            );
        }
        match &result {
            Err(_) => assert_eq!(
                self.ledger, before,
                "a refused op changed the ledger: {op:?}"
            ),
            Ok(outcome) => check_touched(&before, &self.ledger, outcome, op),
        }
        self.ledger.check_invariants().expect("invariants");
        let rebuilt = Ledger::from_leaves(self.ledger.leaves()).expect("rebuild from leaves");
        assert_eq!(rebuilt, self.ledger, "the leaves hold the whole ledger");
        self.ctx.height += 1;
        self.ctx.time_ms += 1000;
        result
    }

    pub fn ok(&mut self, org: &str, op: Op) {
        if let Err(e) = self.step(org, &op) {
            panic!("{org} {op:?} refused: {e}");
        }
    }

    /// Runs a step table.
    pub fn run(&mut self, steps: Vec<(&str, Op, Result<(), ProvenanceError>)>) {
        for (i, (org, op, expected)) in steps.into_iter().enumerate() {
            let got = self.step(org, &op).map(drop);
            assert_eq!(got, expected, "step {i}: {org} {op:?}");
        }
    }

    pub fn state(&self, n: u64) -> LifeState {
        self.ledger.bottle(&b(n)).expect("bottle").state
    }

    pub fn custodian(&self, n: u64) -> String {
        self.ledger.bottle(&b(n)).expect("bottle").custodian.clone()
    }
}

pub(super) fn issue(ns: &[u64]) -> Op {
    Op::Issue { items: bottles(ns) }
}
pub(super) fn commission(ns: &[u64]) -> Op {
    Op::Commission {
        items: bottles(ns),
        lot: None,
    }
}
pub(super) fn pack(parent: &ContainerId, ns: &[u64]) -> Op {
    Op::Pack {
        parent: parent.clone(),
        children: kids(ns),
    }
}
pub(super) fn ship(roots: Vec<Child>, to: &str) -> Op {
    Op::Ship {
        roots,
        to: to.to_string(),
    }
}
pub(super) fn receive(roots: Vec<Child>) -> Op {
    Op::Receive { roots }
}
pub(super) fn sell(ns: &[u64]) -> Op {
    Op::Sell {
        items: bottles(ns),
        city: "CN-GZ-GY".to_string(),
    }
}
pub(super) fn set_flag(ns: &[u64], flag: Flag) -> Op {
    Op::SetFlag {
        items: bottles(ns),
        flag,
    }
}
pub(super) fn clear_flag(ns: &[u64], flag: Flag) -> Op {
    Op::ClearFlag {
        items: bottles(ns),
        flag,
    }
}
pub(super) fn cont(id: &ContainerId) -> Child {
    Child::Container(id.clone())
}
pub(super) fn wrong(n: u64, state: LifeState, op: &'static str) -> Result<(), ProvenanceError> {
    Err(ProvenanceError::WrongState {
        code: item(&b(n)),
        state,
        op,
    })
}

/// Bottles `ns` commissioned by PRODUCER, shipped to `org` and received there.
pub(super) fn stocked_at(w: &mut World, org: &str, ns: &[u64]) {
    w.ok(PRODUCER, commission(ns));
    w.ok(PRODUCER, ship(kids(ns), org));
    w.ok(org, receive(kids(ns)));
}
