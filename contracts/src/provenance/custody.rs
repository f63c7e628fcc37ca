//! Custody ops: pack and unpack (T3), ship (T4), void shipping (T5), receive (T6).
//! They run on the staged clone; a refusal midway is discarded by `Ledger::apply`.

use super::error::ProvenanceError;
use super::ops::MOVERS;
use super::state::{
    BottleRecord, Child, Container, ContainerId, Flag, Ledger, LifeState, Shipment,
};
use super::{Actor, Parties, CONTAINER_CHILDREN_MAX, NESTING_DEPTH_MAX};
use crate::gs1::{Code, Sgtin};

type Result<T> = std::result::Result<T, ProvenanceError>;

fn require_mover(actor: &Actor, op: &'static str) -> Result<()> {
    if MOVERS.contains(&actor.role) {
        Ok(())
    } else {
        Err(ProvenanceError::RoleNotAllowed {
            role: actor.role,
            op,
        })
    }
}

impl Ledger {
    /// State of an existing child, or the unknown-code refusal.
    fn state_of(&self, child: &Child) -> Result<LifeState> {
        match child {
            Child::Bottle(id) => self
                .bottle(id)
                .map(|b| b.state)
                .ok_or_else(|| ProvenanceError::UnknownBottle(id.clone())),
            Child::Container(id) => self
                .container(id)
                .map(|c| c.state)
                .ok_or_else(|| ProvenanceError::UnknownContainer(id.clone())),
        }
    }

    /// Refuses `child` unless it exists and `actor` holds it.
    fn check_custodian(&self, child: &Child, actor: &Actor) -> Result<LifeState> {
        let state = self.state_of(child)?;
        let custodian = self.custodian_of(child).unwrap_or_default();
        if custodian != actor.org_id {
            return Err(ProvenanceError::NotCustodian {
                code: child.code(),
                custodian: custodian.to_string(),
            });
        }
        Ok(state)
    }

    /// Creates `parent` for the first child if it does not exist yet.
    fn open_container(&mut self, parent: &ContainerId, first: &Child, actor: &Actor) -> Result<()> {
        match parent {
            ContainerId::Case(id) => match self.item_records(id) {
                (_, Some(_)) => return Ok(()),
                (Some(_), None) => return Err(ProvenanceError::CodeInUse(parent.code())),
                (None, None) => {}
            },
            ContainerId::Sscc(_) => {
                if self.has_container(parent) {
                    return Ok(());
                }
            }
        }
        let state = self.check_custodian(first, actor)?;
        if !state.is_at_rest() {
            return Err(ProvenanceError::WrongState {
                code: first.code(),
                state,
                op: "pack",
            });
        }
        self.put_container(
            parent.clone(),
            Container {
                custodian: actor.org_id.clone(),
                owner: actor.org_id.clone(),
                state,
                children: Default::default(),
                parent: None,
                shipment: None,
            },
        );
        Ok(())
    }

    pub(super) fn on_pack(
        &mut self,
        parent: &ContainerId,
        children: &[Child],
        actor: &Actor,
    ) -> Result<usize> {
        require_mover(actor, "pack")?;
        let first = children.first().ok_or(ProvenanceError::EmptyBatch)?;
        self.open_container(parent, first, actor)?;
        let parent_child = Child::Container(parent.clone());
        let parent_state = self.check_custodian(&parent_child, actor)?;
        if !parent_state.is_at_rest() {
            return Err(ProvenanceError::WrongState {
                code: parent.code(),
                state: parent_state,
                op: "pack into",
            });
        }
        for child in children {
            let state = self.check_custodian(child, actor)?;
            if !state.is_at_rest() {
                return Err(ProvenanceError::WrongState {
                    code: child.code(),
                    state,
                    op: "pack",
                });
            }
            if state != parent_state {
                return Err(ProvenanceError::StateMismatch {
                    code: child.code(),
                    child: state,
                    parent: parent_state,
                });
            }
            if let Some(at) = self.parent_of(child) {
                return Err(ProvenanceError::AlreadyPacked {
                    code: child.code(),
                    parent: at.clone(),
                });
            }
            if let Child::Container(id) = child {
                self.check_nesting(parent, id)?;
            }
            let container = self.container_mut(parent)?;
            if container.children.len() >= CONTAINER_CHILDREN_MAX {
                return Err(ProvenanceError::ContainerFull(parent.clone()));
            }
            container.children.insert(child.clone());
            self.set_parent(child, Some(parent.clone()));
        }
        Ok(children.len() + 1)
    }

    /// Refuses putting container `child` into `parent` when that makes a cycle or nests too deep.
    fn check_nesting(&self, parent: &ContainerId, child: &ContainerId) -> Result<()> {
        let mut at = Some(parent.clone());
        while let Some(id) = at {
            if &id == child {
                return Err(ProvenanceError::NestingTooDeep(child.clone()));
            }
            at = self.container(&id).and_then(|c| c.parent.clone());
        }
        if self.depth(parent) + self.height_below(child) > NESTING_DEPTH_MAX {
            return Err(ProvenanceError::NestingTooDeep(child.clone()));
        }
        Ok(())
    }

    fn set_parent(&mut self, child: &Child, parent: Option<ContainerId>) {
        match child {
            Child::Bottle(id) => {
                if let Some(bottle) = self.bottle_entry(id) {
                    bottle.parent = parent;
                    bottle.history_len += 1;
                }
            }
            Child::Container(id) => {
                if let Some(container) = self.container_entry(id) {
                    container.parent = parent;
                }
            }
        }
    }

    pub(super) fn on_unpack(
        &mut self,
        parent: &ContainerId,
        children: &[Child],
        actor: &Actor,
    ) -> Result<usize> {
        require_mover(actor, "unpack")?;
        let parent_state = self.check_custodian(&Child::Container(parent.clone()), actor)?;
        if !parent_state.is_at_rest() {
            return Err(ProvenanceError::WrongState {
                code: parent.code(),
                state: parent_state,
                op: "unpack from",
            });
        }
        for child in children {
            self.state_of(child)?;
            if self.parent_of(child).as_ref() != Some(parent) {
                return Err(ProvenanceError::NotInContainer {
                    code: child.code(),
                    parent: parent.clone(),
                });
            }
            self.set_parent(child, None);
            self.container_mut(parent)?.children.remove(child);
        }
        Ok(children.len() + 1)
    }

    /// The bottles and containers a root carries (itself included).
    fn nodes_of(&self, root: &Child) -> (Vec<ContainerId>, Vec<Sgtin>) {
        match root {
            Child::Bottle(id) => (Vec::new(), vec![id.clone()]),
            Child::Container(id) => self.subtree(id),
        }
    }

    /// Refuses a root that is packed in a container.
    fn check_root(&self, root: &Child) -> Result<()> {
        match self.parent_of(root) {
            Some(parent) => Err(ProvenanceError::InContainer {
                code: root.code(),
                parent: parent.clone(),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn on_ship(
        &mut self,
        roots: &[Child],
        to: &str,
        actor: &Actor,
        parties: &dyn Parties,
    ) -> Result<usize> {
        require_mover(actor, "ship")?;
        if to == actor.org_id {
            return Err(ProvenanceError::ShipToSelf);
        }
        if !matches!(parties.role_of(to), Some(role) if MOVERS.contains(&role)) {
            return Err(ProvenanceError::UnknownDestination(to.to_string()));
        }
        let mut changed = 0;
        for root in roots {
            let state = self.check_custodian(root, actor)?;
            self.check_root(root)?;
            if !state.is_at_rest() {
                return Err(ProvenanceError::WrongState {
                    code: root.code(),
                    state,
                    op: "ship",
                });
            }
            let (containers, bottles) = self.nodes_of(root);
            for id in &bottles {
                let bottle = self.bottle_mut(id)?;
                check_shippable(id, bottle, to, parties)?;
                bottle.shipment = Some(shipment(actor, to, bottle.state));
                bottle.state = LifeState::InTransit;
                bottle.history_len += 1;
            }
            for id in &containers {
                let container = self.container_mut(id)?;
                container.shipment = Some(shipment(actor, to, container.state));
                container.state = LifeState::InTransit;
            }
            changed += containers.len() + bottles.len();
        }
        Ok(changed)
    }

    /// Checks a root is in transit and returns its shipment.
    fn shipment_of(&self, root: &Child, op: &'static str) -> Result<Shipment> {
        let state = self.state_of(root)?;
        self.check_root(root)?;
        let shipment = match root {
            Child::Bottle(id) => self.bottle(id).and_then(|b| b.shipment.clone()),
            Child::Container(id) => self.container(id).and_then(|c| c.shipment.clone()),
        };
        shipment.ok_or(ProvenanceError::WrongState {
            code: root.code(),
            state,
            op,
        })
    }

    pub(super) fn on_void_ship(&mut self, roots: &[Child], actor: &Actor) -> Result<usize> {
        require_mover(actor, "void a shipment")?;
        let mut changed = 0;
        for root in roots {
            let shipment = self.shipment_of(root, "void a shipment")?;
            if shipment.from != actor.org_id {
                return Err(ProvenanceError::NotShipper {
                    code: root.code(),
                    shipper: shipment.from,
                });
            }
            let (containers, bottles) = self.nodes_of(root);
            for id in &bottles {
                let bottle = self.bottle_mut(id)?;
                if let Some(s) = bottle.shipment.take() {
                    bottle.state = s.previous_state;
                }
                bottle.history_len += 1;
            }
            for id in &containers {
                let container = self.container_mut(id)?;
                if let Some(s) = container.shipment.take() {
                    container.state = s.previous_state;
                }
            }
            changed += containers.len() + bottles.len();
        }
        Ok(changed)
    }

    pub(super) fn on_receive(&mut self, roots: &[Child], actor: &Actor) -> Result<usize> {
        require_mover(actor, "receive")?;
        let mut changed = 0;
        for root in roots {
            let shipment = self.shipment_of(root, "receive")?;
            if shipment.to != actor.org_id {
                return Err(ProvenanceError::Diverted {
                    code: root.code(),
                    expected: shipment.to,
                    by: actor.org_id.clone(),
                });
            }
            let (containers, bottles) = self.nodes_of(root);
            for id in &bottles {
                let bottle = self.bottle_mut(id)?;
                bottle.shipment = None;
                bottle.state = LifeState::InStock;
                bottle.custodian = actor.org_id.clone();
                bottle.owner = actor.org_id.clone();
                bottle.history_len += 1;
            }
            for id in &containers {
                let container = self.container_mut(id)?;
                container.shipment = None;
                container.state = LifeState::InStock;
                container.custodian = actor.org_id.clone();
                container.owner = actor.org_id.clone();
            }
            changed += containers.len() + bottles.len();
        }
        Ok(changed)
    }
}

fn shipment(actor: &Actor, to: &str, previous_state: LifeState) -> Shipment {
    Shipment {
        from: actor.org_id.clone(),
        to: to.to_string(),
        previous_state,
    }
}

/// Stolen or held bottles do not move; recalled ones (by their own flag or their lot's
/// recall) only go back to their producer.
fn check_shippable(
    id: &Sgtin,
    bottle: &BottleRecord,
    to: &str,
    parties: &dyn Parties,
) -> Result<()> {
    let code = Code::Item(id.clone());
    for flag in [Flag::Stolen, Flag::Hold] {
        if bottle.flags.contains_key(&flag) {
            return Err(ProvenanceError::Flagged { code, flag });
        }
    }
    let recalled = bottle.flags.contains_key(&Flag::Recalled)
        || super::retail::recalled_lot(id, bottle, parties).is_some();
    if recalled && bottle.producer != to {
        return Err(ProvenanceError::RecalledNotToProducer(code));
    }
    Ok(())
}
