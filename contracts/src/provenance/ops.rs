//! The operations (T1-T12 of section 7.3) and their all-or-nothing application.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::error::ProvenanceError;
use super::state::{BottleRecord, Child, Container, ContainerId, Flag, Ledger, LifeState};
use super::{Actor, Ctx, Parties, BATCH_CODES_MAX};
use crate::gs1::{Code, Lot, Sgtin};
use crate::types::Role;

type Result<T> = std::result::Result<T, ProvenanceError>;

/// One lifecycle op; each carries a batch of 1 to [`BATCH_CODES_MAX`] distinct codes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// T1: allocate codes not yet on a bottle.
    Issue { items: Vec<Sgtin> },
    /// T2: put codes on filled bottles, in the producer's custody; `lot` is the batch they
    /// were filled from (EPCIS `ilmd` `cbvmda:lotNumber`), recorded on each bottle.
    Commission {
        items: Vec<Sgtin>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lot: Option<Lot>,
    },
    /// T3: put items (bottles or containers) into `parent`, created if new.
    Pack {
        parent: ContainerId,
        children: Vec<Child>,
    },
    /// T3: take items out of `parent`.
    Unpack {
        parent: ContainerId,
        children: Vec<Child>,
    },
    /// T4: ship unpacked items (each with everything inside) to the party `to`.
    Ship { roots: Vec<Child>, to: String },
    /// T5: cancel a shipment not yet received.
    VoidShip { roots: Vec<Child> },
    /// T6: take custody of items shipped to the actor.
    Receive { roots: Vec<Child> },
    /// T7: sell bottles to consumers, in `city`.
    Sell { items: Vec<Sgtin>, city: String },
    /// T8: undo a sale recorded in error.
    UndoSale { items: Vec<Sgtin> },
    /// T9: take sold bottles back to the producer, on hold for inspection.
    Return { items: Vec<Sgtin> },
    /// T10: set an overlay flag.
    SetFlag { items: Vec<Sgtin>, flag: Flag },
    /// T10: clear an overlay flag.
    ClearFlag { items: Vec<Sgtin>, flag: Flag },
    /// T11: destroy bottles.
    Destroy { items: Vec<Sgtin> },
    /// T12: retire codes, each optionally replaced by a new code of the same product.
    Void { items: Vec<(Sgtin, Option<Sgtin>)> },
}

/// What an applied op did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Bottle and container records changed or created.
    pub records_changed: usize,
    /// Every code whose record the op wrote, in code order: a superset of the leaves that
    /// changed (a write may leave a record as it was). The node re-hashes exactly these.
    pub touched: Vec<Code>,
}

impl Op {
    /// Every code the op names, in order; the batch rules apply to this list.
    pub fn codes(&self) -> Vec<Code> {
        let items = |v: &[Sgtin]| v.iter().cloned().map(Code::Item).collect::<Vec<_>>();
        let children = |v: &[Child]| v.iter().map(Child::code).collect::<Vec<_>>();
        match self {
            Op::Issue { items: v }
            | Op::Commission { items: v, .. }
            | Op::Sell { items: v, .. }
            | Op::UndoSale { items: v }
            | Op::Return { items: v }
            | Op::SetFlag { items: v, .. }
            | Op::ClearFlag { items: v, .. }
            | Op::Destroy { items: v } => items(v),
            Op::Pack { children: v, .. } | Op::Unpack { children: v, .. } => children(v),
            Op::Ship { roots: v, .. } | Op::VoidShip { roots: v } | Op::Receive { roots: v } => {
                children(v)
            }
            Op::Void { items: v } => v
                .iter()
                .flat_map(|(old, new)| std::iter::once(old).chain(new))
                .cloned()
                .map(Code::Item)
                .collect(),
        }
    }

    /// The snake_case name of the op, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Issue { .. } => "issue",
            Op::Commission { .. } => "commission",
            Op::Pack { .. } => "pack",
            Op::Unpack { .. } => "unpack",
            Op::Ship { .. } => "ship",
            Op::VoidShip { .. } => "void_ship",
            Op::Receive { .. } => "receive",
            Op::Sell { .. } => "sell",
            Op::UndoSale { .. } => "undo_sale",
            Op::Return { .. } => "return",
            Op::SetFlag { .. } => "set_flag",
            Op::ClearFlag { .. } => "clear_flag",
            Op::Destroy { .. } => "destroy",
            Op::Void { .. } => "void",
        }
    }

    /// How many codes the op names (with repeats), without building the list.
    pub fn codes_len(&self) -> usize {
        match self {
            Op::Issue { items: v }
            | Op::Commission { items: v, .. }
            | Op::Sell { items: v, .. }
            | Op::UndoSale { items: v }
            | Op::Return { items: v }
            | Op::SetFlag { items: v, .. }
            | Op::ClearFlag { items: v, .. }
            | Op::Destroy { items: v } => v.len(),
            Op::Pack { children: v, .. } | Op::Unpack { children: v, .. } => v.len(),
            Op::Ship { roots: v, .. } | Op::VoidShip { roots: v } | Op::Receive { roots: v } => {
                v.len()
            }
            Op::Void { items: v } => v
                .iter()
                .map(|(_, new)| 1 + usize::from(new.is_some()))
                .sum(),
        }
    }

    /// The batch rules: 1 to `BATCH_CODES_MAX` codes, none twice.
    fn check_batch(&self) -> Result<()> {
        let codes = self.codes();
        if codes.is_empty() {
            return Err(ProvenanceError::EmptyBatch);
        }
        if codes.len() > BATCH_CODES_MAX {
            return Err(ProvenanceError::BatchTooLarge {
                len: codes.len(),
                max: BATCH_CODES_MAX,
            });
        }
        let mut seen = BTreeSet::new();
        for code in codes {
            if !seen.insert(code.clone()) {
                return Err(ProvenanceError::Duplicate(code));
            }
        }
        Ok(())
    }
}

fn require_role(actor: &Actor, allowed: &[Role], op: &'static str) -> Result<()> {
    if allowed.contains(&actor.role) {
        Ok(())
    } else {
        Err(ProvenanceError::RoleNotAllowed {
            role: actor.role,
            op,
        })
    }
}

pub(super) const MOVERS: &[Role] = &[Role::Producer, Role::Distributor, Role::Store];

impl Ledger {
    /// Applies `op` for `actor`, or refuses it and leaves the ledger exactly as it was. The
    /// op runs on an O(1) clone that replaces `self` only when every code passed.
    pub fn apply(
        &mut self,
        op: &Op,
        actor: &Actor,
        parties: &dyn Parties,
        ctx: &Ctx,
    ) -> Result<Outcome> {
        op.check_batch()?;
        if parties.role_of(&actor.org_id) != Some(actor.role) {
            return Err(ProvenanceError::UnknownActor(actor.org_id.clone()));
        }
        let mut next = self.clone();
        // Drop any writes a caller made outside `apply`: the op reports its own.
        next.take_written();
        let records_changed = next.dispatch(op, actor, parties, ctx)?;
        let touched = next.take_written();
        *self = next;
        Ok(Outcome {
            records_changed,
            touched,
        })
    }

    fn dispatch(
        &mut self,
        op: &Op,
        actor: &Actor,
        parties: &dyn Parties,
        ctx: &Ctx,
    ) -> Result<usize> {
        match op {
            Op::Issue { items } => self.on_issue(items, actor, parties),
            Op::Commission { items, lot } => {
                self.on_commission(items, lot.as_ref(), actor, parties)
            }
            Op::Pack { parent, children } => self.on_pack(parent, children, actor),
            Op::Unpack { parent, children } => self.on_unpack(parent, children, actor),
            Op::Ship { roots, to } => self.on_ship(roots, to, actor, parties),
            Op::VoidShip { roots } => self.on_void_ship(roots, actor),
            Op::Receive { roots } => self.on_receive(roots, actor),
            Op::Sell { items, city } => self.on_sell(items, city, actor, parties, ctx),
            Op::UndoSale { items } => self.on_undo_sale(items, actor, parties, ctx),
            Op::Return { items } => self.on_return(items, actor),
            Op::SetFlag { items, flag } => self.on_set_flag(items, *flag, actor),
            Op::ClearFlag { items, flag } => self.on_clear_flag(items, *flag, actor),
            Op::Destroy { items } => self.on_destroy(items, actor),
            Op::Void { items } => self.on_void(items, actor),
        }
    }

    pub(super) fn bottle_mut(&mut self, id: &Sgtin) -> Result<&mut BottleRecord> {
        self.bottle_entry(id)
            .ok_or_else(|| ProvenanceError::UnknownBottle(id.clone()))
    }

    pub(super) fn container_mut(&mut self, id: &ContainerId) -> Result<&mut Container> {
        self.container_entry(id)
            .ok_or_else(|| ProvenanceError::UnknownContainer(id.clone()))
    }

    /// Refuses a code already used by a bottle or a case.
    fn check_unused(&self, id: &Sgtin) -> Result<()> {
        let (bottle, case) = self.item_records(id);
        if bottle.is_some() || case.is_some() {
            return Err(ProvenanceError::CodeInUse(Code::Item(id.clone())));
        }
        Ok(())
    }

    fn new_bottle(&mut self, id: &Sgtin, state: LifeState, lot: Option<&Lot>, actor: &Actor) {
        let record = BottleRecord {
            state,
            flags: Default::default(),
            producer: actor.org_id.clone(),
            custodian: actor.org_id.clone(),
            owner: actor.org_id.clone(),
            parent: None,
            shipment: None,
            sold: None,
            history_len: 1,
            replaced_by: None,
            replaces: None,
            lot: lot.cloned(),
        };
        self.put_bottle(id.clone(), record);
    }

    fn on_issue(&mut self, items: &[Sgtin], actor: &Actor, parties: &dyn Parties) -> Result<usize> {
        require_role(actor, &[Role::Producer], "issue codes")?;
        for id in items {
            check_brand(id, actor, parties)?;
            self.check_unused(id)?;
            self.new_bottle(id, LifeState::Issued, None, actor);
        }
        Ok(items.len())
    }

    fn on_commission(
        &mut self,
        items: &[Sgtin],
        lot: Option<&Lot>,
        actor: &Actor,
        parties: &dyn Parties,
    ) -> Result<usize> {
        require_role(actor, &[Role::Producer], "commission")?;
        // A batch is usually one GTIN: asked once per GTIN change, not per bottle.
        let mut registered = None;
        for id in items {
            if lot.is_some() && registered != Some(id.gtin) {
                if !parties.has_product(&id.gtin) {
                    return Err(ProvenanceError::LotWithoutProduct(id.gtin));
                }
                registered = Some(id.gtin);
            }
            match self.bottle_entry(id) {
                Some(bottle) => {
                    if bottle.state != LifeState::Issued {
                        return Err(wrong_state(id, bottle.state, "commission"));
                    }
                    if bottle.producer != actor.org_id {
                        return Err(not_producer(id, bottle));
                    }
                    bottle.state = LifeState::Active;
                    bottle.lot = lot.cloned();
                    bottle.history_len += 1;
                }
                None => {
                    check_brand(id, actor, parties)?;
                    self.check_unused(id)?;
                    self.new_bottle(id, LifeState::Active, lot, actor);
                }
            }
        }
        Ok(items.len())
    }
}

fn check_brand(id: &Sgtin, actor: &Actor, parties: &dyn Parties) -> Result<()> {
    if parties.may_brand(&actor.org_id, &id.gtin) {
        Ok(())
    } else {
        Err(ProvenanceError::NotBrandOwner {
            org_id: actor.org_id.clone(),
            gtin: id.gtin,
        })
    }
}

pub(super) fn wrong_state(id: &Sgtin, state: LifeState, op: &'static str) -> ProvenanceError {
    ProvenanceError::WrongState {
        code: Code::Item(id.clone()),
        state,
        op,
    }
}

pub(super) fn not_producer(id: &Sgtin, bottle: &BottleRecord) -> ProvenanceError {
    ProvenanceError::NotProducer {
        code: Code::Item(id.clone()),
        producer: bottle.producer.clone(),
    }
}
