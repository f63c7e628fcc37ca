//! The bottle lifecycle: a pure state machine over bottles (SGTIN), cases and pallets (SSCC or
//! case SGTIN), following section 7 of `research/traceability-domain.md`.
//!
//! # States
//!
//! Each bottle has exactly one [`LifeState`] (`Issued`, `Active`, `InTransit`, `InStock`,
//! `Sold`, and the terminal `Destroyed` and `Void`; "unknown" is the absence of a record),
//! overlay [`Flag`]s (`Recalled`, `Stolen`, `Hold`, `Damaged`, `Opened`, each with the org that
//! set it), a custodian org, and an optional parent container. Containers carry the same
//! custody fields and a state among `Active`, `InTransit`, `InStock`.
//!
//! # Who may do what
//!
//! | # | op | from -> to | who |
//! |---|---|---|---|
//! | T1 | `Issue` | unknown -> Issued | Producer allowed to brand the GTIN |
//! | T2 | `Commission` | unknown/Issued -> Active | that Producer (the issuer, if issued) |
//! | T3 | `Pack` / `Unpack` | parent set/cleared | custodian of parent and children |
//! | T4 | `Ship` | Active/InStock -> InTransit, whole subtree | custodian |
//! | T5 | `VoidShip` | InTransit -> previous | the shipper |
//! | T6 | `Receive` | InTransit -> InStock, custodian := receiver | the named destination only |
//! | T7 | `Sell` | InStock -> Sold, implicit unpack | Store that is custodian |
//! | T8 | `UndoSale` | Sold -> InStock | the selling Store, within `undo_window_ms`, no flags |
//! | T9 | `Return` | Sold -> InStock + Hold, custodian := producer | the bottle's Producer |
//! | T10 | `SetFlag` / `ClearFlag` | flag change | see [`Flag`] |
//! | T11 | `Destroy` | non-terminal -> Destroyed | bottle's Producer, or an Auditor |
//! | T12 | `Void` | Issued/Active/InStock -> Void, optional replacement | bottle's Producer |
//!
//! Flag rules (T10): `Recalled` set and cleared by the bottle's producer; `Stolen` set by the
//! custodian (not after sale) or the producer, cleared by its setter or the producer; `Hold`
//! set and cleared by the producer or an auditor; `Damaged` and `Opened` set by the
//! custodian (not after sale), the producer or an auditor, cleared by the setter or the producer.
//!
//! Lot-scope recall: the brand owner recalls a lot of a registered product (a state payload,
//! not an op; see [`crate::product`]), and every bottle recorded with that lot is then
//! treated as `Recalled` without its leaf changing: no sale or undone sale
//! ([`ProvenanceError::LotRecalled`]), shipped only to its producer. A lot is recorded only
//! on bottles of a registered GTIN ([`Parties::has_product`]).
//!
//! # Choices where section 7 is silent
//!
//! - "Producer" in a per-bottle rule means the bottle's producer (the org that issued or
//!   commissioned it), not any producer. Brand ownership of a GTIN is asked of
//!   [`Parties::may_brand`].
//! - Every op is a batch of 1 to [`BATCH_CODES_MAX`] codes; a code twice in one batch is
//!   refused. A batch is all-or-nothing: [`Ledger::apply`] works on an O(1) clone (imbl
//!   maps) and swaps it in only on success.
//! - During transit the custodian stays the shipper; the shipment names `from` and `to`.
//!   Only roots (codes with no parent) are shipped, received or shipment-voided; a packed
//!   item moves with its container. Each node of a shipped subtree remembers its own
//!   previous state for `VoidShip`.
//! - There is no logistics role, so the owner follows the custodian on receive.
//! - A new container is created by the first `Pack` into it, custodian = actor, state = the
//!   state of its first child; emptied containers stay. Containers nest at most
//!   [`NESTING_DEPTH_MAX`] deep and hold at most [`CONTAINER_CHILDREN_MAX`] children. A case
//!   SGTIN may not also be a bottle.
//! - Only `Active` or `InStock` items may be packed, into a parent at rest in the same state
//!   (so a subtree always shares one state, custodian and shipment).
//! - A shipment's destination must be a registered Producer, Distributor or Store (an
//!   auditor cannot receive, so a shipment to it could only be voided).
//! - Work per op is bounded by the records it names plus, for `Ship`, `VoidShip` and
//!   `Receive`, the records under the named containers (at most
//!   `CONTAINER_CHILDREN_MAX ^ NESTING_DEPTH_MAX` in theory, each created by an earlier op);
//!   the node should price ops by [`Outcome::records_changed`] if that matters.
//! - Selling needs the bottle `InStock`; the sale keeps store, city and block time. After the
//!   sale the custodian field keeps the seller. `Return` (T9) is allowed at any time after the
//!   sale, within the undo window too. Consumer claims are not modelled, so `UndoSale` only
//!   checks the window, the seller and the flags.
//! - `Destroy` is allowed from any non-terminal state, in transit and after sale included; it
//!   unpacks the bottle and drops any shipment. The sale record stays on a destroyed bottle.
//! - `Void` with a replacement moves state, custody, parent, flags to the replacement, which
//!   must be an unknown or `Issued` code of the same GTIN and producer.
//! - Flags apply to bottles only, in any non-terminal state (a recall after sale matters to
//!   the buyer).
//! - Alerts: a refused `Sell` or `Receive` whose reason matters (see [`alert_for`]) gives an
//!   [`Alert`] the node commits with [`Ledger::record_alert`] as the tx's effect; the refused
//!   op itself changes nothing.
//! - T13 (correction) is not implemented: it needs the event history, which lives outside.
//! - Alerts are kept per code, the latest [`ALERTS_KEPT_PER_CODE`] with a total count, so a
//!   code's committed leaf (see [`RecordLeaf`]) stays small however many attempts are made.

mod alerts;
mod custody;
mod error;
mod leaf;
mod ops;
mod retail;
mod state;
mod verdict;
pub mod workload;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod retail_tests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use alerts::{alert_for, Alert, AlertCode};
pub use error::ProvenanceError;
pub use leaf::{
    record_key, AlertLog, ContainerRecord, RecordLeaf, StoredRecord, ALERTS_KEPT_PER_CODE,
    RECORD_KEY_DOMAIN,
};
pub use ops::{Op, Outcome};
pub use state::{
    BottleRecord, Child, Container, ContainerId, Flag, Ledger, LifeState, MemRecords, RecordStore,
    Sale, Shipment,
};
pub use verdict::{is_node_local, judge, judge_scan, AlertView, Severity, Verdict};

use std::collections::BTreeMap;

use crate::gs1::{Gtin, Lot};
use crate::types::Role;

/// Most codes one op may carry (bottles to issue, children to pack, roots to ship, ...).
pub const BATCH_CODES_MAX: usize = 10_000;

/// Most records one tx may change, summed over its ops (a shipment changes every record
/// under the containers it names). It bounds a tx's execution: a block must be built, sent
/// and executed by every validator within the propose timeout, and a proposer only
/// proposes in round 0 of its heights, so a tx too heavy for that would never be decided
/// and would cost its proposer's turns a full round each until it expired. 50,000 records
/// are about 0.8 s of execution on the 2-core reference VM (16 us each); the README demo's
/// largest tx, 55 pallets shipped at once, changes 38,555.
pub const RECORDS_PER_TX_MAX: usize = 50_000;

/// Most children (bottles or containers) one container may hold.
pub const CONTAINER_CHILDREN_MAX: usize = 10_000;

/// Most containers on the path from a bottle to its root (case in pallet: 2).
pub const NESTING_DEPTH_MAX: usize = 4;

/// Default window for undoing a sale: 10 days (FMD Art. 13 analogue).
pub const UNDO_WINDOW_MS_DEFAULT: u64 = 10 * 24 * 60 * 60 * 1000;

/// Most characters in a sale's city code.
pub const CITY_CHARS_MAX: usize = 64;

/// Who submits an op: a registered organisation and the role it claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub org_id: String,
    pub role: Role,
}

impl Actor {
    pub fn new(org_id: &str, role: Role) -> Self {
        Self {
            org_id: org_id.to_string(),
            role,
        }
    }
}

/// What the block tells the transitions: never the local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    pub height: u64,
    pub time_ms: u64,
    /// How long after a sale the seller may undo it.
    pub undo_window_ms: u64,
}

/// The registry as the lifecycle sees it. Implementors must answer deterministically from
/// committed state: the same question at the same height gives the same answer on every node.
pub trait Parties {
    /// The role of a registered, active org; `None` for an unknown or inactive org.
    fn role_of(&self, org_id: &str) -> Option<Role>;

    /// Whether `org_id` owns the brand of `gtin` and may issue codes under it. Without a GTIN
    /// registry every producer may.
    fn may_brand(&self, org_id: &str, gtin: &Gtin) -> bool {
        let _ = (org_id, gtin);
        true
    }

    /// Whether `gtin` has registered master data. A lot is recorded only on bottles of a
    /// registered GTIN, whose product leaf lists the lot's recall (or proves there is none).
    /// Without a GTIN registry every GTIN counts as registered.
    fn has_product(&self, gtin: &Gtin) -> bool {
        let _ = gtin;
        true
    }

    /// Whether the brand owner of `gtin` recalled its lot `lot` (section 7.2's lot-scope
    /// `RECALLED`).
    fn lot_recalled(&self, gtin: &Gtin, lot: &Lot) -> bool {
        let _ = (gtin, lot);
        false
    }
}

impl Parties for BTreeMap<String, Role> {
    fn role_of(&self, org_id: &str) -> Option<Role> {
        self.get(org_id).copied()
    }
}
