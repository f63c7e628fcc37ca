//! The records of the lifecycle and the invariant checker.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

use super::alerts::Alert;
use super::leaf::{AlertLog, ContainerRecord, RecordLeaf, ALERTS_KEPT_PER_CODE};
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
    /// The alerts about each code (section 7.4 queries), bounded per code.
    pub(super) alerts: OrdMap<Code, AlertLog>,
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

    /// Records an alert about its subject (the committed effect of a refused attempt; see
    /// [`super::alert_for`]). Only the latest [`ALERTS_KEPT_PER_CODE`] per code are kept.
    pub fn record_alert(&mut self, alert: Alert) {
        self.alerts
            .entry(alert.subject.clone())
            .or_default()
            .push(alert);
    }

    /// The kept alerts about `subject`, oldest first.
    pub fn alerts_about(&self, subject: &Code) -> impl Iterator<Item = &Alert> + '_ {
        self.alerts
            .get(subject)
            .into_iter()
            .flat_map(|log| log.recent.iter())
    }

    /// How many alerts were ever recorded about `subject`.
    pub fn alerts_total(&self, subject: &Code) -> u64 {
        self.alerts.get(subject).map_or(0, |log| log.total)
    }

    /// The committed leaf of `code`, or `None` if the chain knows nothing about it.
    pub fn leaf(&self, code: &Code) -> Option<RecordLeaf> {
        let bottle = code.as_item().and_then(|id| self.bottles.get(id)).cloned();
        let container = container_id(code)
            .and_then(|id| self.containers.get(&id))
            .map(|c| ContainerRecord {
                custodian: c.custodian.clone(),
                owner: c.owner.clone(),
                state: c.state,
                parent: c.parent.clone(),
                shipment: c.shipment.clone(),
                children: c.children.len() as u32,
            });
        let alerts = self.alerts.get(code).cloned().unwrap_or_default();
        if bottle.is_none() && container.is_none() && alerts.total == 0 {
            return None;
        }
        Some(RecordLeaf {
            code: code.clone(),
            bottle,
            container,
            alerts,
        })
    }

    /// Every leaf, in code order: the whole ledger as committed.
    pub fn leaves(&self) -> Vec<RecordLeaf> {
        let mut codes: std::collections::BTreeSet<Code> = self.alerts.keys().cloned().collect();
        codes.extend(self.bottles.keys().cloned().map(Code::Item));
        codes.extend(self.containers.keys().map(ContainerId::code));
        codes.iter().filter_map(|code| self.leaf(code)).collect()
    }

    /// Rebuilds a ledger from its leaves (any order), as stored by a node. Containers' child
    /// sets are rebuilt from the children's parent pointers. `Err` names the first leaf or
    /// invariant that does not fit: stored state that fails this is corrupt.
    pub fn from_leaves(leaves: impl IntoIterator<Item = RecordLeaf>) -> Result<Ledger, String> {
        let mut ledger = Ledger::new();
        let mut children: Vec<(ContainerId, Child)> = Vec::new();
        let mut expected_children: Vec<(ContainerId, u32)> = Vec::new();
        for leaf in leaves {
            let RecordLeaf {
                code,
                bottle,
                container,
                alerts,
            } = leaf;
            if alerts.recent.len() > ALERTS_KEPT_PER_CODE
                || (alerts.recent.len() as u64) > alerts.total
                || alerts.recent.iter().any(|a| a.subject != code)
            {
                return Err(format!("leaf {code}: malformed alert log"));
            }
            if alerts.total > 0 {
                ledger.alerts.insert(code.clone(), alerts);
            }
            match (bottle, container) {
                (Some(_), Some(_)) => return Err(format!("leaf {code}: bottle and container")),
                (Some(bottle), None) => {
                    let Code::Item(id) = &code else {
                        return Err(format!("leaf {code}: a bottle must be an item code"));
                    };
                    if let Some(parent) = &bottle.parent {
                        children.push((parent.clone(), Child::Bottle(id.clone())));
                    }
                    ledger.bottles.insert(id.clone(), bottle);
                }
                (None, Some(c)) => {
                    let Some(id) = container_id(&code) else {
                        return Err(format!("leaf {code}: not a container code"));
                    };
                    if let Some(parent) = &c.parent {
                        children.push((parent.clone(), Child::Container(id.clone())));
                    }
                    expected_children.push((id.clone(), c.children));
                    ledger.containers.insert(
                        id,
                        Container {
                            custodian: c.custodian,
                            owner: c.owner,
                            state: c.state,
                            children: OrdSet::new(),
                            parent: c.parent,
                            shipment: c.shipment,
                        },
                    );
                }
                (None, None) => {}
            }
        }
        for (parent, child) in children {
            let Some(container) = ledger.containers.get_mut(&parent) else {
                return Err(format!("{} names a missing parent", child.code()));
            };
            container.children.insert(child);
        }
        for (id, expected) in expected_children {
            let placed = ledger.containers.get(&id).map_or(0, |c| c.children.len());
            if placed != expected as usize {
                return Err(format!(
                    "container {id:?} holds {placed}, its leaf says {expected}"
                ));
            }
        }
        ledger.check_invariants()?;
        Ok(ledger)
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
        for (subject, log) in &self.alerts {
            if log.recent.is_empty() || log.recent.len() > ALERTS_KEPT_PER_CODE {
                return Err(format!("alert log of {subject} keeps {}", log.recent.len()));
            }
            if (log.recent.len() as u64) > log.total {
                return Err(format!("alert log of {subject} counts fewer than it keeps"));
            }
            if log.recent.iter().any(|alert| &alert.subject != subject) {
                return Err(format!("alert log of {subject} holds another code's alert"));
            }
        }
        Ok(())
    }
}

/// The container a code can name: an SSCC, or an item code used as a case.
fn container_id(code: &Code) -> Option<ContainerId> {
    match code {
        Code::Logistic(sscc) => Some(ContainerId::Sscc(*sscc)),
        Code::Item(sgtin) => Some(ContainerId::Case(sgtin.clone())),
        Code::Party(_) | Code::Location(_) => None,
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
