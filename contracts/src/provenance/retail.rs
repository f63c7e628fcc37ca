//! Ops on single bottles: sell (T7), undo sale (T8), return (T9), flags (T10), destroy (T11),
//! void and replace (T12). They run on the staged clone; see `Ledger::apply`.

use std::borrow::Cow;

use super::error::ProvenanceError;
use super::ops::{not_producer, wrong_state};
use super::state::{BottleRecord, Child, Flag, Ledger, LifeState, Sale};
use super::{Actor, Ctx, Parties, CITY_CHARS_MAX};
use crate::gs1::{Code, Sgtin};
use crate::types::Role;

type Result<T> = std::result::Result<T, ProvenanceError>;

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

fn code(id: &Sgtin) -> Code {
    Code::Item(id.clone())
}

/// The first flag that stops trade, if any.
fn blocking_flag(bottle: &BottleRecord) -> Option<Flag> {
    bottle
        .flags
        .keys()
        .copied()
        .find(|flag| flag.blocks_trade())
}

/// The bottle's lot, if its brand owner recalled it.
pub(super) fn recalled_lot<'b>(
    id: &Sgtin,
    bottle: &'b BottleRecord,
    parties: &dyn Parties,
) -> Option<&'b crate::gs1::Lot> {
    bottle
        .lot
        .as_ref()
        .filter(|lot| parties.lot_recalled(&id.gtin, lot))
}

/// Refuses a bottle whose lot its brand owner recalled (checked after the bottle's own
/// flags, so a bottle recalled both ways reports its own flag).
fn check_lot(id: &Sgtin, bottle: &BottleRecord, parties: &dyn Parties) -> Result<()> {
    match recalled_lot(id, bottle, parties) {
        Some(lot) => Err(ProvenanceError::LotRecalled {
            code: code(id),
            lot: lot.clone(),
        }),
        None => Ok(()),
    }
}

fn is_producer(bottle: &BottleRecord, actor: &Actor) -> bool {
    actor.role == Role::Producer && bottle.producer == actor.org_id
}

/// Custodian rights end at the sale: the buyer holds the bottle then.
fn is_custodian(bottle: &BottleRecord, actor: &Actor) -> bool {
    bottle.custodian == actor.org_id && bottle.state != LifeState::Sold
}

/// T10: who may set `flag`.
fn may_set(flag: Flag, bottle: &BottleRecord, actor: &Actor) -> bool {
    let producer = is_producer(bottle, actor);
    let auditor = actor.role == Role::Auditor;
    match flag {
        Flag::Recalled => producer,
        Flag::Stolen => producer || is_custodian(bottle, actor),
        Flag::Hold => producer || auditor,
        Flag::Damaged | Flag::Opened => producer || auditor || is_custodian(bottle, actor),
    }
}

/// T10: who may clear `flag`, set by `setter`.
fn may_clear(flag: Flag, setter: &str, bottle: &BottleRecord, actor: &Actor) -> bool {
    let producer = is_producer(bottle, actor);
    match flag {
        Flag::Recalled => producer,
        Flag::Hold => producer || actor.role == Role::Auditor,
        Flag::Stolen | Flag::Damaged | Flag::Opened => producer || setter == actor.org_id,
    }
}

impl Ledger {
    /// Takes a bottle out of its container, if packed.
    fn detach(&mut self, id: &Sgtin) {
        let Some(parent) = self.bottle_entry(id).and_then(|b| b.parent.take()) else {
            return;
        };
        if let Some(container) = self.container_entry(&parent) {
            container.children.remove(&Child::Bottle(id.clone()));
        }
    }

    pub(super) fn on_sell(
        &mut self,
        items: &[Sgtin],
        city: &str,
        actor: &Actor,
        parties: &dyn Parties,
        ctx: &Ctx,
    ) -> Result<usize> {
        require_role(actor, &[Role::Store], "sell")?;
        let chars = city.chars().count();
        if !(1..=CITY_CHARS_MAX).contains(&chars) {
            return Err(ProvenanceError::BadCity {
                max: CITY_CHARS_MAX,
            });
        }
        for id in items {
            let bottle = self.bottle_mut(id)?;
            match bottle.state {
                LifeState::Sold => return Err(ProvenanceError::AlreadySold(code(id))),
                state @ (LifeState::Issued | LifeState::Destroyed | LifeState::Void) => {
                    return Err(wrong_state(id, state, "sell"))
                }
                _ => {}
            }
            if bottle.custodian != actor.org_id {
                return Err(ProvenanceError::SaleByNonCustodian {
                    code: code(id),
                    custodian: bottle.custodian.clone(),
                });
            }
            if bottle.state != LifeState::InStock {
                return Err(wrong_state(id, bottle.state, "sell"));
            }
            if let Some(flag) = blocking_flag(bottle) {
                return Err(ProvenanceError::Flagged {
                    code: code(id),
                    flag,
                });
            }
            check_lot(id, bottle, parties)?;
            bottle.state = LifeState::Sold;
            bottle.sold = Some(Sale {
                store: actor.org_id.clone(),
                city: city.to_string(),
                time_ms: ctx.time_ms,
            });
            bottle.history_len += 1;
            self.detach(id);
        }
        Ok(items.len())
    }

    pub(super) fn on_undo_sale(
        &mut self,
        items: &[Sgtin],
        actor: &Actor,
        parties: &dyn Parties,
        ctx: &Ctx,
    ) -> Result<usize> {
        require_role(actor, &[Role::Store], "undo a sale")?;
        for id in items {
            let bottle = self.bottle_mut(id)?;
            let Some(sale) = bottle
                .sold
                .as_ref()
                .filter(|_| bottle.state == LifeState::Sold)
            else {
                return Err(wrong_state(id, bottle.state, "undo a sale"));
            };
            if sale.store != actor.org_id {
                return Err(ProvenanceError::NotSeller {
                    code: code(id),
                    store: sale.store.clone(),
                });
            }
            if ctx.time_ms.saturating_sub(sale.time_ms) > ctx.undo_window_ms {
                return Err(ProvenanceError::UndoWindowPassed(code(id)));
            }
            if let Some(flag) = bottle.flags.keys().next() {
                return Err(ProvenanceError::Flagged {
                    code: code(id),
                    flag: *flag,
                });
            }
            check_lot(id, bottle, parties)?;
            bottle.state = LifeState::InStock;
            bottle.sold = None;
            bottle.history_len += 1;
        }
        Ok(items.len())
    }

    pub(super) fn on_return(&mut self, items: &[Sgtin], actor: &Actor) -> Result<usize> {
        require_role(actor, &[Role::Producer], "take back a sold bottle")?;
        for id in items {
            let bottle = self.bottle_mut(id)?;
            if bottle.state != LifeState::Sold {
                return Err(wrong_state(id, bottle.state, "take back"));
            }
            if !is_producer(bottle, actor) {
                return Err(not_producer(id, bottle));
            }
            bottle.state = LifeState::InStock;
            bottle.sold = None;
            bottle.custodian = actor.org_id.clone();
            bottle.owner = actor.org_id.clone();
            bottle
                .flags
                .entry(Flag::Hold)
                .or_insert_with(|| actor.org_id.clone());
            bottle.history_len += 1;
        }
        Ok(items.len())
    }

    pub(super) fn on_set_flag(
        &mut self,
        items: &[Sgtin],
        flag: Flag,
        actor: &Actor,
    ) -> Result<usize> {
        for id in items {
            let bottle = self.bottle_mut(id)?;
            if bottle.state.is_terminal() {
                return Err(wrong_state(id, bottle.state, "flag"));
            }
            if !may_set(flag, bottle, actor) {
                return Err(ProvenanceError::FlagNotAllowed {
                    code: code(id),
                    flag,
                    org_id: actor.org_id.clone(),
                });
            }
            if bottle.flags.contains_key(&flag) {
                return Err(ProvenanceError::FlagAlreadySet {
                    code: code(id),
                    flag,
                });
            }
            bottle.flags.insert(flag, actor.org_id.clone());
            bottle.history_len += 1;
        }
        Ok(items.len())
    }

    pub(super) fn on_clear_flag(
        &mut self,
        items: &[Sgtin],
        flag: Flag,
        actor: &Actor,
    ) -> Result<usize> {
        for id in items {
            let bottle = self.bottle_mut(id)?;
            if bottle.state.is_terminal() {
                return Err(wrong_state(id, bottle.state, "unflag"));
            }
            let Some(setter) = bottle.flags.get(&flag) else {
                return Err(ProvenanceError::FlagNotSet {
                    code: code(id),
                    flag,
                });
            };
            if !may_clear(flag, setter, bottle, actor) {
                return Err(ProvenanceError::FlagNotAllowed {
                    code: code(id),
                    flag,
                    org_id: actor.org_id.clone(),
                });
            }
            bottle.flags.remove(&flag);
            bottle.history_len += 1;
        }
        Ok(items.len())
    }

    pub(super) fn on_destroy(&mut self, items: &[Sgtin], actor: &Actor) -> Result<usize> {
        require_role(actor, &[Role::Producer, Role::Auditor], "destroy")?;
        for id in items {
            let bottle = self.bottle_mut(id)?;
            if bottle.state.is_terminal() {
                return Err(wrong_state(id, bottle.state, "destroy"));
            }
            if actor.role == Role::Producer && !is_producer(bottle, actor) {
                return Err(not_producer(id, bottle));
            }
            bottle.state = LifeState::Destroyed;
            bottle.shipment = None;
            bottle.history_len += 1;
            self.detach(id);
        }
        Ok(items.len())
    }

    pub(super) fn on_void(
        &mut self,
        items: &[(Sgtin, Option<Sgtin>)],
        actor: &Actor,
    ) -> Result<usize> {
        require_role(actor, &[Role::Producer], "void a code")?;
        let mut changed = 0;
        for (id, replacement) in items {
            let bottle = self.bottle_mut(id)?;
            if !matches!(
                bottle.state,
                LifeState::Issued | LifeState::Active | LifeState::InStock
            ) {
                return Err(wrong_state(id, bottle.state, "void"));
            }
            if !is_producer(bottle, actor) {
                return Err(not_producer(id, bottle));
            }
            let old = bottle.clone();
            bottle.state = LifeState::Void;
            bottle.replaced_by = replacement.clone();
            bottle.parent = None;
            bottle.history_len += 1;
            changed += 1;
            match replacement {
                Some(new) => {
                    self.replace(id, &old, new)?;
                    changed += 1;
                }
                None => self.detach_parent_only(id, old.parent.as_ref()),
            }
        }
        Ok(changed)
    }

    /// Removes `id` from `parent`'s children (the bottle's own pointer is already cleared).
    fn detach_parent_only(&mut self, id: &Sgtin, parent: Option<&super::ContainerId>) {
        if let Some(container) = parent.and_then(|p| self.container_entry(p)) {
            container.children.remove(&Child::Bottle(id.clone()));
        }
    }

    /// Moves what `old` (the record of `id` before voiding) was to the code `new`.
    fn replace(&mut self, id: &Sgtin, old: &BottleRecord, new: &Sgtin) -> Result<()> {
        let existing = self.bottle(new).map(Cow::into_owned);
        let usable = new.gtin == id.gtin
            && match &existing {
                Some(b) => b.state == LifeState::Issued && b.producer == old.producer,
                None => !self.has_container(&super::ContainerId::Case(new.clone())),
            };
        if !usable {
            return Err(ProvenanceError::BadReplacement(code(new)));
        }
        let history_len = existing.map_or(0, |b| b.history_len) + 1;
        let record = BottleRecord {
            history_len,
            replaced_by: None,
            replaces: Some(id.clone()),
            ..old.clone()
        };
        if let Some(parent) = &old.parent {
            if let Some(container) = self.container_entry(parent) {
                container.children.remove(&Child::Bottle(id.clone()));
                container.children.insert(Child::Bottle(new.clone()));
            }
        }
        self.put_bottle(new.clone(), record);
        Ok(())
    }
}
