//! The records of the lifecycle and the invariant checker.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

use super::alerts::Alert;
use super::{CONTAINER_CHILDREN_MAX, NESTING_DEPTH_MAX};
use crate::gs1::{Code, Sgtin, Sscc};

/// The primary lifecycle state of a bottle (section 7.2). "Unknown" is the absence of a record.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifeState {
    Issued,
    Active,
    InTransit,
    InStock,
    Sold,
    Destroyed,
    Void,
}

impl LifeState {
    /// No transition leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(self, LifeState::Destroyed | LifeState::Void)
    }

    /// At a custodian's site and movable: may be packed or shipped.
    pub fn is_at_rest(self) -> bool {
        matches!(self, LifeState::Active | LifeState::InStock)
    }
}

/// An overlay flag (EPCIS `persistentDisposition`); see the module doc for who may set it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Flag {
    Recalled,
    Stolen,
    Hold,
    Damaged,
    Opened,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::Recalled,
        Flag::Stolen,
        Flag::Hold,
        Flag::Damaged,
        Flag::Opened,
    ];

    /// Flags that stop shipping and selling.
    pub fn blocks_trade(self) -> bool {
        matches!(self, Flag::Recalled | Flag::Stolen | Flag::Hold)
    }
}

/// A case or pallet: an SSCC, or a case-level GTIN + serial.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ContainerId {
    Sscc(Sscc),
    Case(Sgtin),
}

impl ContainerId {
    /// The code printed on the container.
    pub fn code(&self) -> Code {
        match self {
            ContainerId::Sscc(sscc) => Code::Logistic(*sscc),
            ContainerId::Case(sgtin) => Code::Item(sgtin.clone()),
        }
    }
}

/// Something a container holds.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Child {
    Bottle(Sgtin),
    Container(ContainerId),
}

impl Child {
    pub fn code(&self) -> Code {
        match self {
            Child::Bottle(sgtin) => Code::Item(sgtin.clone()),
            Child::Container(id) => id.code(),
        }
    }
}

/// A shipment under way: who sent it, who must receive it, and the state to go back to if the
/// shipper voids it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Shipment {
    pub from: String,
    pub to: String,
    pub previous_state: LifeState,
}

/// The one sale of a bottle.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Sale {
    pub store: String,
    pub city: String,
    pub time_ms: u64,
}

/// Everything the chain keeps about one bottle.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BottleRecord {
    pub state: LifeState,
    /// Each set flag and the org that set it.
    pub flags: BTreeMap<Flag, String>,
    /// The brand owner that issued or commissioned the code.
    pub producer: String,
    pub custodian: String,
    pub owner: String,
    pub parent: Option<ContainerId>,
    pub shipment: Option<Shipment>,
    pub sold: Option<Sale>,
    /// Number of applied ops that changed this record.
    pub history_len: u64,
    pub replaced_by: Option<Sgtin>,
    pub replaces: Option<Sgtin>,
}

/// A case or pallet. Its state is one of `Active`, `InTransit`, `InStock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub custodian: String,
    pub owner: String,
    pub state: LifeState,
    pub children: OrdSet<Child>,
    pub parent: Option<ContainerId>,
    pub shipment: Option<Shipment>,
}

/// The lifecycle state: bottles, containers and the alert log. Cloning is O(1) (persistent
/// maps), which is how [`Ledger::apply`] stages a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub(super) bottles: OrdMap<Sgtin, BottleRecord>,
    pub(super) containers: OrdMap<ContainerId, Container>,
    pub(super) alerts: OrdMap<u64, Alert>,
    /// (subject, index into `alerts`), for the alerts of one code (section 7.4 queries).
    pub(super) alerts_by_subject: OrdSet<(Code, u64)>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bottle(&self, id: &Sgtin) -> Option<&BottleRecord> {
        self.bottles.get(id)
    }

    pub fn container(&self, id: &ContainerId) -> Option<&Container> {
        self.containers.get(id)
    }

    pub fn bottles_len(&self) -> usize {
        self.bottles.len()
    }

    /// The alert log in the order alerts were recorded.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Appends an alert (the committed effect of a refused attempt; see [`super::alert_for`]).
    pub fn record_alert(&mut self, alert: Alert) {
        let index = self.alerts.len() as u64;
        self.alerts_by_subject
            .insert((alert.subject.clone(), index));
        self.alerts.insert(index, alert);
    }

    /// The alerts recorded about `subject`, oldest first.
    pub fn alerts_about(&self, subject: &Code) -> impl Iterator<Item = &Alert> + '_ {
        let from = (subject.clone(), 0);
        let to = (subject.clone(), u64::MAX);
        self.alerts_by_subject
            .range(from..=to)
            .filter_map(|(_, index)| self.alerts.get(index))
    }

    /// The custodian of a child, if it exists.
    pub(super) fn custodian_of(&self, child: &Child) -> Option<&str> {
        match child {
            Child::Bottle(id) => self.bottles.get(id).map(|b| b.custodian.as_str()),
            Child::Container(id) => self.containers.get(id).map(|c| c.custodian.as_str()),
        }
    }

    pub(super) fn parent_of(&self, child: &Child) -> Option<&ContainerId> {
        match child {
            Child::Bottle(id) => self.bottles.get(id).and_then(|b| b.parent.as_ref()),
            Child::Container(id) => self.containers.get(id).and_then(|c| c.parent.as_ref()),
        }
    }

    /// Every container and bottle under `root`, root included, in a deterministic order.
    pub(super) fn subtree(&self, root: &ContainerId) -> (Vec<ContainerId>, Vec<Sgtin>) {
        let mut containers = vec![root.clone()];
        let mut bottles = Vec::new();
        let mut next = 0;
        while next < containers.len() {
            let id = containers[next].clone();
            next += 1;
            let Some(container) = self.containers.get(&id) else {
                continue;
            };
            for child in &container.children {
                match child {
                    Child::Bottle(b) => bottles.push(b.clone()),
                    Child::Container(c) => containers.push(c.clone()),
                }
            }
        }
        (containers, bottles)
    }

    /// Depth of `id`: 1 for a root container, 2 inside one, and so on. Stops past the bound
    /// so a corrupt cycle cannot loop.
    pub(super) fn depth(&self, id: &ContainerId) -> usize {
        let mut depth = 1;
        let mut at = self.containers.get(id).and_then(|c| c.parent.clone());
        while let Some(parent) = at {
            depth += 1;
            if depth > NESTING_DEPTH_MAX + 1 {
                break;
            }
            at = self.containers.get(&parent).and_then(|c| c.parent.clone());
        }
        depth
    }

    /// Height of the container subtree at `id` (1 for a container holding only bottles).
    pub(super) fn height_below(&self, id: &ContainerId) -> usize {
        let Some(container) = self.containers.get(id) else {
            return 0;
        };
        1 + container
            .children
            .iter()
            .filter_map(|child| match child {
                Child::Container(c) => Some(self.height_below(c)),
                Child::Bottle(_) => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Checks every structural invariant; `Err` names the first one broken. Tests run it after
    /// every op; a node may run it in debug builds.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (id, bottle) in &self.bottles {
            check_bottle(self, id, bottle)?;
        }
        for (id, container) in &self.containers {
            check_container(self, id, container)?;
        }
        for (index, (at, alert)) in self.alerts.iter().enumerate() {
            if *at != index as u64 {
                return Err(format!("alert log has a gap at {index}"));
            }
            if !self
                .alerts_by_subject
                .contains(&(alert.subject.clone(), *at))
            {
                return Err(format!("alert {index} missing from the subject index"));
            }
        }
        if self.alerts_by_subject.len() != self.alerts.len() {
            return Err("alert subject index has extra entries".to_string());
        }
        Ok(())
    }
}

fn check_bottle(ledger: &Ledger, id: &Sgtin, bottle: &BottleRecord) -> Result<(), String> {
    let fail = |why: &str| Err(format!("bottle {id}: {why}"));
    if ledger
        .containers
        .contains_key(&ContainerId::Case(id.clone()))
    {
        return fail("also a case id");
    }
    if (bottle.state == LifeState::Sold) != bottle.sold.is_some() && !bottle.state.is_terminal() {
        return fail("sold iff it has a sale, outside terminal states");
    }
    if (bottle.state == LifeState::InTransit) != bottle.shipment.is_some() {
        return fail("in transit iff it has a shipment");
    }
    if bottle.replaced_by.is_some() && bottle.state != LifeState::Void {
        return fail("only a void code is replaced");
    }
    if bottle.parent.is_some() && !bottle.state.is_at_rest() && bottle.state != LifeState::InTransit
    {
        return fail("only an active, in-stock or in-transit bottle has a parent");
    }
    if let Some(parent) = &bottle.parent {
        let Some(container) = ledger.containers.get(parent) else {
            return fail("parent does not exist");
        };
        if !container.children.contains(&Child::Bottle(id.clone())) {
            return fail("parent does not list it");
        }
        if container.custodian != bottle.custodian {
            return fail("custodian differs from its parent's");
        }
        if container.state != bottle.state {
            return fail("state differs from its parent's");
        }
        if container.shipment.as_ref().map(|s| &s.to) != bottle.shipment.as_ref().map(|s| &s.to) {
            return fail("shipment differs from its parent's");
        }
    }
    Ok(())
}

fn check_container(ledger: &Ledger, id: &ContainerId, container: &Container) -> Result<(), String> {
    let fail = |why: &str| Err(format!("container {id:?}: {why}"));
    if !matches!(
        container.state,
        LifeState::Active | LifeState::InStock | LifeState::InTransit
    ) {
        return fail("state must be active, in stock or in transit");
    }
    if (container.state == LifeState::InTransit) != container.shipment.is_some() {
        return fail("in transit iff it has a shipment");
    }
    if container.children.len() > CONTAINER_CHILDREN_MAX {
        return fail("too many children");
    }
    if ledger.depth(id) > NESTING_DEPTH_MAX {
        return fail("nested too deep, or in a cycle");
    }
    for child in &container.children {
        if ledger.parent_of(child) != Some(id) {
            return fail("a child does not point back");
        }
    }
    if let Some(parent) = &container.parent {
        let Some(up) = ledger.containers.get(parent) else {
            return fail("parent does not exist");
        };
        if !up.children.contains(&Child::Container(id.clone())) {
            return fail("parent does not list it");
        }
        if up.custodian != container.custodian || up.state != container.state {
            return fail("custody or state differs from its parent's");
        }
    }
    Ok(())
}
