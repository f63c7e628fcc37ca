//! The records of the lifecycle and the invariant checker.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

use super::alerts::Alert;
use super::leaf::{AlertLog, ContainerRecord, RecordLeaf, StoredRecord, ALERTS_KEPT_PER_CODE};
use super::{CONTAINER_CHILDREN_MAX, NESTING_DEPTH_MAX};
use crate::gs1::{Code, Lot, Sgtin, Sscc};

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
    /// The batch the bottle was filled from, as commissioned; a replacement code keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<Lot>,
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

impl Container {
    /// A container from its committed record and its children.
    pub fn from_record(record: ContainerRecord, children: OrdSet<Child>) -> Container {
        Container {
            custodian: record.custodian,
            owner: record.owner,
            state: record.state,
            children,
            parent: record.parent,
            shipment: record.shipment,
        }
    }
}

/// The committed records a [`Ledger`] reads through: what a node stored at the height the
/// ledger was rebased to (see [`Ledger::rebase`]). Implementations must answer as of that
/// one height, whatever is written later, so that a ledger and the records tree it was
/// committed with always agree. The lifecycle is pure: the store is the node's I/O edge.
pub trait RecordStore: Send + Sync {
    /// The stored record of `code`, or `None` if the chain knows nothing about it.
    fn get(&self, code: &Code) -> Option<StoredRecord>;

    /// The committed leaf of `code` alone: what a verify answer reads for a code and each
    /// container above it. A store may skip decoding a container's children (a pallet's
    /// hundred cases) here.
    fn leaf(&self, code: &Code) -> Option<RecordLeaf> {
        self.get(code).map(|stored| stored.leaf)
    }
}

/// A [`RecordStore`] in memory: every record of a ledger at one moment. For tests and
/// tools; a node reads its rocksdb.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemRecords {
    records: BTreeMap<Code, StoredRecord>,
}

impl MemRecords {
    /// Every record `ledger` holds (all of them without a base; over a base, the base's
    /// records are not listed, so take a snapshot of an unbased ledger).
    pub fn snapshot(ledger: &Ledger) -> MemRecords {
        let records = ledger
            .overlay_codes()
            .into_iter()
            .filter_map(|code| ledger.stored_record(&code).map(|stored| (code, stored)))
            .collect();
        MemRecords { records }
    }

    /// Stores `record` under its code, or removes `code` for `None`.
    pub fn put(&mut self, code: Code, record: Option<StoredRecord>) {
        match record {
            Some(record) => self.records.insert(code, record),
            None => self.records.remove(&code),
        };
    }
}

impl RecordStore for MemRecords {
    fn get(&self, code: &Code) -> Option<StoredRecord> {
        self.records.get(code).cloned()
    }
}

/// The lifecycle state: bottles, containers and the alert log.
///
/// Two layers: an optional committed `base` ([`RecordStore`], the node's rocksdb at one
/// height) and, over it, persistent maps of the records changed since (the overlay). Reads
/// look in the overlay first; a write copies the record up from the base first. A node
/// rebases its committed ledger after writing each block, so memory holds one block's
/// changes, not the whole ledger. Without a base (tests, tools) the overlay is everything.
/// Cloning is O(1) (persistent maps and a shared base), which is how [`Ledger::apply`]
/// stages a batch.
#[derive(Clone, Default)]
pub struct Ledger {
    pub(super) bottles: OrdMap<Sgtin, BottleRecord>,
    pub(super) containers: OrdMap<ContainerId, Container>,
    /// The alerts about each code (section 7.4 queries), bounded per code.
    pub(super) alerts: OrdMap<Code, AlertLog>,
    base: Option<Arc<dyn RecordStore>>,
    /// The codes whose records were written since [`Ledger::take_written`] last ran, in
    /// write order, with repeats: how [`Ledger::apply`] knows which leaves an op may have
    /// changed. Not part of the ledger's value (equality ignores it).
    written: Vec<Code>,
}

/// Equal overlays over the same base (the same store object) are the same ledger.
impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        let same_base = match (&self.base, &other.base) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_base
            && self.bottles == other.bottles
            && self.containers == other.containers
            && self.alerts == other.alerts
    }
}

impl Eq for Ledger {}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("bottles", &self.bottles)
            .field("containers", &self.containers)
            .field("alerts", &self.alerts)
            .field("based", &self.base.is_some())
            .finish()
    }
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops the overlay and reads everything from `base` from now on. The caller vouches
    /// that `base` holds exactly this ledger's records (it just stored them).
    pub fn rebase(&mut self, base: Arc<dyn RecordStore>) {
        *self = Ledger {
            base: Some(base),
            ..Ledger::default()
        };
    }

    /// Whether records are read through a store.
    pub fn has_base(&self) -> bool {
        self.base.is_some()
    }

    /// Bottles held in memory (see [`Ledger::overlay_len`]).
    pub fn bottles_len(&self) -> usize {
        self.bottles.len()
    }

    /// Records held in memory: changed since the last rebase, or all of them without a base.
    pub fn overlay_len(&self) -> usize {
        self.bottles.len() + self.containers.len() + self.alerts.len()
    }

    fn stored(&self, code: &Code) -> Option<StoredRecord> {
        self.base.as_ref().and_then(|base| base.get(code))
    }

    pub fn bottle(&self, id: &Sgtin) -> Option<Cow<'_, BottleRecord>> {
        if let Some(bottle) = self.bottles.get(id) {
            return Some(Cow::Borrowed(bottle));
        }
        self.stored(&Code::Item(id.clone()))
            .and_then(|s| s.leaf.bottle)
            .map(Cow::Owned)
    }

    pub fn container(&self, id: &ContainerId) -> Option<Cow<'_, Container>> {
        if let Some(container) = self.containers.get(id) {
            return Some(Cow::Borrowed(container));
        }
        self.stored(&id.code())
            .and_then(StoredRecord::into_container)
            .map(Cow::Owned)
    }

    /// The bottle and the case a serialised item's code names. A code is a bottle or a case,
    /// never both (commission and the first pack refuse a code in use), so one found in the
    /// overlay is the answer; otherwise one read of the base answers both questions, where
    /// [`Ledger::bottle`] and [`Ledger::container`] would read the same record twice.
    /// Commissioning asks both of every new code, and each base read of a code never stored
    /// hashes it.
    pub(super) fn item_records(
        &self,
        id: &Sgtin,
    ) -> (Option<Cow<'_, BottleRecord>>, Option<Cow<'_, Container>>) {
        if let Some(bottle) = self.bottles.get(id) {
            return (Some(Cow::Borrowed(bottle)), None);
        }
        let case = ContainerId::Case(id.clone());
        if let Some(container) = self.containers.get(&case) {
            return (None, Some(Cow::Borrowed(container)));
        }
        let Some(mut stored) = self.stored(&case.code()) else {
            return (None, None);
        };
        let bottle = stored.leaf.bottle.take();
        (
            bottle.map(Cow::Owned),
            stored.into_container().map(Cow::Owned),
        )
    }

    pub(super) fn has_container(&self, id: &ContainerId) -> bool {
        self.container(id).is_some()
    }

    /// The bottle for writing, copied up from the base if the overlay lacks it.
    pub(super) fn bottle_entry(&mut self, id: &Sgtin) -> Option<&mut BottleRecord> {
        if !self.bottles.contains_key(id) {
            let bottle = self.bottle(id)?.into_owned();
            self.bottles.insert(id.clone(), bottle);
        }
        self.written.push(Code::Item(id.clone()));
        self.bottles.get_mut(id)
    }

    /// The container for writing, copied up from the base if the overlay lacks it.
    pub(super) fn container_entry(&mut self, id: &ContainerId) -> Option<&mut Container> {
        if !self.containers.contains_key(id) {
            let container = self.container(id)?.into_owned();
            self.containers.insert(id.clone(), container);
        }
        self.written.push(id.code());
        self.containers.get_mut(id)
    }

    pub(super) fn put_bottle(&mut self, id: Sgtin, bottle: BottleRecord) {
        self.written.push(Code::Item(id.clone()));
        self.bottles.insert(id, bottle);
    }

    pub(super) fn put_container(&mut self, id: ContainerId, container: Container) {
        self.written.push(id.code());
        self.containers.insert(id, container);
    }

    /// The codes whose records were written since the last call, sorted and distinct: every
    /// code whose leaf may differ. Every write of a record goes through the methods above
    /// and [`Ledger::record_alert`], which note the code.
    pub fn take_written(&mut self) -> Vec<Code> {
        let mut written = std::mem::take(&mut self.written);
        written.sort_unstable();
        written.dedup();
        written
    }

    /// Records an alert about its subject (the committed effect of a refused attempt; see
    /// [`super::alert_for`]). Only the latest [`ALERTS_KEPT_PER_CODE`] per code are kept.
    pub fn record_alert(&mut self, alert: Alert) {
        let subject = alert.subject.clone();
        self.written.push(subject.clone());
        if !self.alerts.contains_key(&subject) {
            let log = self.alert_log(&subject).into_owned();
            self.alerts.insert(subject.clone(), log);
        }
        if let Some(log) = self.alerts.get_mut(&subject) {
            log.push(alert);
        }
    }

    /// The alert log of `subject` (empty if none).
    pub fn alert_log(&self, subject: &Code) -> Cow<'_, AlertLog> {
        if let Some(log) = self.alerts.get(subject) {
            return Cow::Borrowed(log);
        }
        Cow::Owned(
            self.stored(subject)
                .map(|s| s.leaf.alerts)
                .unwrap_or_default(),
        )
    }

    /// The kept alerts about `subject`, oldest first.
    pub fn alerts_about(&self, subject: &Code) -> std::vec::IntoIter<Alert> {
        self.alert_log(subject).into_owned().recent.into_iter()
    }

    /// How many alerts were ever recorded about `subject`.
    pub fn alerts_total(&self, subject: &Code) -> u64 {
        self.alert_log(subject).total
    }

    /// The committed leaf of `code`, or `None` if the chain knows nothing about it.
    pub fn leaf(&self, code: &Code) -> Option<RecordLeaf> {
        let touched = code
            .as_item()
            .is_some_and(|id| self.bottles.contains_key(id))
            || container_id(code).is_some_and(|id| self.containers.contains_key(&id))
            || self.alerts.contains_key(code);
        if touched {
            return self.stored_record(code).map(|stored| stored.leaf);
        }
        // Untouched since the base: its leaf as stored (`stored_record` would decode a
        // container's children only to drop them).
        self.base.as_ref()?.leaf(code).filter(|leaf| {
            leaf.bottle.is_some() || leaf.container.is_some() || leaf.alerts.total > 0
        })
    }

    /// What a node stores for `code`: its leaf and, for a container, the children the leaf
    /// only counts. `None` if the chain knows nothing about it. Reads the base at most once.
    pub fn stored_record(&self, code: &Code) -> Option<StoredRecord> {
        let case = container_id(code);
        let item = code.as_item();
        let in_overlay = item.is_none_or(|id| self.bottles.contains_key(id))
            && case
                .as_ref()
                .is_none_or(|id| self.containers.contains_key(id))
            && self.alerts.contains_key(code);
        let base = if in_overlay { None } else { self.stored(code) };
        let (base_bottle, base_container, base_alerts, base_children) = match base {
            Some(StoredRecord { leaf, children }) => {
                (leaf.bottle, leaf.container, leaf.alerts, children)
            }
            None => (None, None, AlertLog::default(), Vec::new()),
        };
        let bottle = match item.and_then(|id| self.bottles.get(id)) {
            Some(bottle) => Some(bottle.clone()),
            None => base_bottle,
        };
        let (container, children) = match case.as_ref().and_then(|id| self.containers.get(id)) {
            Some(c) => (
                Some(ContainerRecord {
                    custodian: c.custodian.clone(),
                    owner: c.owner.clone(),
                    state: c.state,
                    parent: c.parent.clone(),
                    shipment: c.shipment.clone(),
                    children: c.children.len() as u32,
                }),
                c.children.iter().cloned().collect(),
            ),
            None => (base_container, base_children),
        };
        let alerts = match self.alerts.get(code) {
            Some(log) => log.clone(),
            None => base_alerts,
        };
        if bottle.is_none() && container.is_none() && alerts.total == 0 {
            return None;
        }
        Some(StoredRecord {
            leaf: RecordLeaf {
                code: code.clone(),
                bottle,
                container,
                alerts,
            },
            children,
        })
    }

    /// Every leaf the overlay holds, in code order: the whole ledger without a base, the
    /// records changed since the rebase with one.
    pub fn leaves(&self) -> Vec<RecordLeaf> {
        self.overlay_codes()
            .iter()
            .filter_map(|code| self.leaf(code))
            .collect()
    }

    /// The codes the overlay holds, in order.
    pub fn overlay_codes(&self) -> BTreeSet<Code> {
        let mut codes: BTreeSet<Code> = self.alerts.keys().cloned().collect();
        codes.extend(self.bottles.keys().cloned().map(Code::Item));
        codes.extend(self.containers.keys().map(ContainerId::code));
        codes
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
            check_alert_log(&code, &alerts)?;
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
                    ledger
                        .containers
                        .insert(id, Container::from_record(c, OrdSet::new()));
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
    pub(super) fn custodian_of(&self, child: &Child) -> Option<String> {
        match child {
            Child::Bottle(id) => self.bottle(id).map(|b| b.custodian.clone()),
            Child::Container(id) => self.container(id).map(|c| c.custodian.clone()),
        }
    }

    pub(super) fn parent_of(&self, child: &Child) -> Option<ContainerId> {
        match child {
            Child::Bottle(id) => self.bottle(id).and_then(|b| b.parent.clone()),
            Child::Container(id) => self.container(id).and_then(|c| c.parent.clone()),
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
            let Some(container) = self.container(&id) else {
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
        let mut at = self.container(id).and_then(|c| c.parent.clone());
        while let Some(parent) = at {
            depth += 1;
            if depth > NESTING_DEPTH_MAX + 1 {
                break;
            }
            at = self.container(&parent).and_then(|c| c.parent.clone());
        }
        depth
    }

    /// Height of the container subtree at `id` (1 for a container holding only bottles).
    pub(super) fn height_below(&self, id: &ContainerId) -> usize {
        let Some(container) = self.container(id) else {
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

    /// Checks every structural invariant of the records in the overlay (all of them without
    /// a base; with one, those changed since the rebase, against whatever they point to);
    /// `Err` names the first one broken. Tests run it after every op.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (id, bottle) in &self.bottles {
            check_bottle(self, id, bottle)?;
        }
        for (id, container) in &self.containers {
            check_container(self, id, container)?;
        }
        for (subject, log) in &self.alerts {
            if log.recent.is_empty() {
                return Err(format!("alert log of {subject} keeps none"));
            }
            check_alert_log(subject, log)?;
        }
        Ok(())
    }
}

fn check_alert_log(subject: &Code, log: &AlertLog) -> Result<(), String> {
    if log.recent.len() > ALERTS_KEPT_PER_CODE {
        return Err(format!("alert log of {subject} keeps {}", log.recent.len()));
    }
    if (log.recent.len() as u64) > log.total {
        return Err(format!("alert log of {subject} counts fewer than it keeps"));
    }
    if log.recent.iter().any(|alert| &alert.subject != subject) {
        return Err(format!("alert log of {subject} holds another code's alert"));
    }
    Ok(())
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
    if ledger.has_container(&ContainerId::Case(id.clone())) {
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
        let Some(container) = ledger.container(parent) else {
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
        if ledger.parent_of(child).as_ref() != Some(id) {
            return fail("a child does not point back");
        }
    }
    if let Some(parent) = &container.parent {
        let Some(up) = ledger.container(parent) else {
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
