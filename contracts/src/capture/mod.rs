//! EPCIS 2.0 capture: an EPCISDocument (or EPCISQueryDocument) mapped to the lifecycle ops
//! it means, inside consensus. One document is one atomic transaction: every validator runs
//! [`map_document`] on the document the transaction carries and applies the ops in order
//! for the signer, all or nothing.
//!
//! Invariants: pure and deterministic (no clock, no HashMap iteration, no float in any
//! decision; `serde_json::Map` is ordered and nothing here depends on its order), bounded
//! ([`EVENTS_MAX`] events and [`DOCUMENT_CODES_MAX`] identifiers per document, checked
//! before any per-event work), and no JSON input panics. Every refusal is a
//! [`CaptureError`] with a stable code.
//!
//! # Mapping (section 7.3 of the domain research; `docs/epcis-capture.md` has the choices)
//!
//! | bizStep | event, action | op |
//! |---|---|---|
//! | `encoding` | ObjectEvent or TransactionEvent, ADD | `Issue` (epcList) |
//! | `commissioning` | ObjectEvent ADD | `Commission` (epcList; `ilmd` `cbvmda:lotNumber`) |
//! | `packing` | AggregationEvent ADD | `Pack` (parentID, childEPCs) |
//! | `unpacking` | AggregationEvent DELETE | `Unpack` (parentID, childEPCs) |
//! | `shipping` | ObjectEvent / AggregationEvent OBSERVE | `Ship` (epcList / parentID) to the destination's org |
//! | `void_shipping` | same | `VoidShip` |
//! | `receiving` | same | `Receive` |
//! | `retail_selling` | ObjectEvent OBSERVE | `Sell` (epcList, city) |
//! | `retail_selling` + errorDeclaration | ObjectEvent OBSERVE | `UndoSale` |
//! | `shipping` + errorDeclaration | as shipping | `VoidShip` |
//! | `destroying` | ObjectEvent OBSERVE or DELETE | `Destroy` |
//! | `decommissioning` | ObjectEvent DELETE | `Void` (no replacement) |
//! | any other or none, `persistentDisposition` set/unset of one flag | ObjectEvent | `SetFlag` / `ClearFlag` |
//! | none or a non-lifecycle one, `persistentDisposition` set/unset `recalled`, `quantityList` of LGTINs and no `epcList` | ObjectEvent | lot recall ([`LotRecallChange`]) |
//!
//! Flags: `recalled` -> Recalled, `stolen` -> Stolen, `damaged` -> Damaged,
//! `no_pedigree_match` -> Hold, `container_open` -> Opened. Events with no lifecycle effect
//! (`op: None`, still recorded): TransformationEvent, AssociationEvent, extension event
//! types, TransactionEvents other than encoding, and any other bizStep (inspecting,
//! storing, sensor_reporting, ...) without a flag change. A lifecycle step in another shape,
//! two lifecycle changes in one event, and error declarations on other steps are refused.
//! A document that recalls lots holds no lifecycle op: the ops of a document are judged
//! against the recalls committed before it, so the two are sent as separate documents.

mod document;
mod error;
mod event;
mod rules;

#[cfg(test)]
mod captured;
#[cfg(test)]
mod examples;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod refusals;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use error::{CaptureError, EventErrorKind, EventPlace};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gs1::{Code, Sgtin};
use crate::provenance::Op;

use error::Blame;
use event::EventView;
use rules::Mapper;

/// Most events in one captured document.
pub const EVENTS_MAX: usize = 10_000;

/// Most identifiers (list entries and parentIDs, over all events) in one document: the
/// bound on codes per tx, since a document is one tx (each op keeps its own batch bound of
/// [`crate::provenance::BATCH_CODES_MAX`]).
pub const DOCUMENT_CODES_MAX: usize = crate::tx::CODES_PER_TX_MAX;

/// Local name of the sale-city extension field in [`jiu_epcis::JIU_NAMESPACE`]
/// (`jiu:city` with `{"jiu": "urn:jiu:epcis:"}` in `@context`).
pub const CITY_FIELD: &str = "city";

/// The CBV master data namespace (`cbvmda:` in GS1's standard JSON-LD context).
pub const CBV_MDA_NAMESPACE: &str = "urn:epcglobal:cbv:mda:";

/// The `ilmd` attribute of a commissioning event that gives the bottles' lot, as written
/// under GS1's standard context, and its local name.
pub const LOT_NUMBER_FIELD: &str = "cbvmda:lotNumber";
pub const LOT_NUMBER_LOCAL: &str = "lotNumber";

/// The registry as capture sees it. Implementors must answer deterministically from
/// committed state: the same question at the same height gives the same answer on every
/// node (the mapping runs inside consensus).
pub trait Directory {
    /// The registered org a party or location identifier belongs to. `id` comes in the
    /// form of [`jiu_epcis::canonical_uri`]: a PGLN or GLN, in any spelling, arrives as its
    /// canonical Digital Link (`https://id.gs1.org/417/<pgln>`, `.../414/<gln>`, a GLN with
    /// extension as `.../414/<gln>/254/<ext>`); any other URI as written.
    fn org_of_party(&self, id: &str) -> Option<String>;

    /// Whether a serialised item code names a case (a container created by an earlier
    /// pack) rather than a bottle. The node answers from the ledger; the default says
    /// every SGTIN is a bottle unless this document packed into it.
    fn is_case(&self, item: &Sgtin) -> bool {
        let _ = item;
        false
    }

    /// What a container holds (bottles and containers directly inside it), or `None` for a
    /// container the chain does not hold: what an AggregationEvent DELETE without
    /// `childEPCs` unpacks. The node answers from the ledger; the default knows none.
    fn contents(
        &self,
        container: &crate::provenance::ContainerId,
    ) -> Option<Vec<crate::provenance::Child>> {
        let _ = container;
        None
    }
}

/// A directory from a map of party ids, in [`jiu_epcis::canonical_uri`] form, to org ids.
impl Directory for BTreeMap<String, String> {
    fn org_of_party(&self, id: &str) -> Option<String> {
        self.get(&jiu_epcis::canonical_uri(id)).cloned()
    }
}

/// Which field of an event an identifier comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpcRole {
    /// `epcList`.
    Epc,
    /// `parentID`.
    Parent,
    /// `childEPCs`.
    Child,
    /// `inputEPCList`.
    Input,
    /// `outputEPCList`.
    Output,
}

impl EpcRole {
    /// The JSON field name.
    pub fn field(self) -> &'static str {
        match self {
            EpcRole::Epc => "epcList",
            EpcRole::Parent => "parentID",
            EpcRole::Child => "childEPCs",
            EpcRole::Input => "inputEPCList",
            EpcRole::Output => "outputEPCList",
        }
    }
}

/// One identifier an event names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedEpc {
    pub role: EpcRole,
    /// As written in the document.
    pub uri: String,
    /// [`jiu_epcis::canonical_uri`] form: the key to index events by, the form the query
    /// module matches (`jiu_epcis::query`).
    pub canonical: String,
    /// The GS1 code, when it is one this chain reads (SGTIN, SSCC, PGLN, GLN).
    pub code: Option<Code>,
}

/// One event of a captured document, mapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedEvent {
    /// Position in the document's event list.
    pub index: usize,
    /// `type` as written (`ObjectEvent`, ..., or an extension type URI).
    pub event_type: String,
    /// CBV 2.0 event hash ID, computed (`ni:///sha-256;...?ver=CBV2.0`).
    pub hash_id: String,
    /// `eventID` as given, if any; never trusted as the hash ID.
    pub event_id: Option<String>,
    /// `eventTime` in ms since 1970-01-01T00:00Z.
    pub event_time_ms: i64,
    /// `eventTimeZoneOffset` in minutes east of UTC.
    pub event_time_zone_offset_min: i32,
    /// `ADD`, `OBSERVE` or `DELETE`; `None` for a TransformationEvent.
    pub action: Option<String>,
    /// The CBV short name (`shipping`) when a CBV term, else as written.
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    /// Canonical identifiers of `readPoint.id` and `bizLocation.id`.
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    /// Whether the event carries an `errorDeclaration`.
    pub error_declaration: bool,
    /// Every identifier named, in field order (parentID, epcList, childEPCs, inputs,
    /// outputs), each list in document order.
    pub epcs: Vec<CapturedEpc>,
    /// The lifecycle op this event means; `None` for an event without lifecycle effect.
    pub op: Option<Op>,
    /// The lots this event recalls or releases (never beside an `op`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_recall: Option<LotRecallChange>,
}

/// A lot recall an event means: an ObjectEvent whose `persistentDisposition` sets (or
/// unsets) `recalled` on lots, named as LGTIN classes in `quantityList`, rather than on
/// items. Applied as [`crate::Payload::RecallLot`] is, lot by lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotRecallChange {
    /// The lots, in `quantityList` order.
    pub lots: Vec<(crate::gs1::Gtin, crate::gs1::Lot)>,
    /// `true` for `set`, `false` for `unset`.
    pub recalled: bool,
}

/// A document a tx captured, as it applied: what the node indexes, so that its event and
/// history indexes say what consensus did without mapping the document again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedDocument {
    /// The document's events as written, by index.
    pub events: Vec<Value>,
    /// The same events mapped (hash IDs, canonical EPCs, lifecycle ops), by index.
    pub mapped: Vec<CapturedEvent>,
}

impl CapturedDocument {
    /// Keeps `mapped` with the event list taken out of `doc`, the document it was mapped
    /// from ([`map_document`] found the list at one of these two places).
    pub fn new(mut doc: Value, mapped: Vec<CapturedEvent>) -> Self {
        let events = doc
            .pointer_mut("/epcisBody/eventList")
            .map(Value::take)
            .or_else(|| {
                doc.pointer_mut("/epcisBody/queryResults/resultsBody/eventList")
                    .map(Value::take)
            })
            .and_then(|v| match v {
                Value::Array(events) => Some(events),
                _ => None,
            })
            .unwrap_or_default();
        CapturedDocument { events, mapped }
    }

    /// The lifecycle ops the document meant, in order.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.mapped.iter().filter_map(|e| e.op.as_ref())
    }

    /// The lot recalls the document meant, in order (a document holding one holds no op).
    pub fn lot_recalls(&self) -> impl Iterator<Item = &LotRecallChange> {
        self.mapped.iter().filter_map(|e| e.lot_recall.as_ref())
    }
}

/// Maps every event of `doc`, or refuses the document at its first refused event (by
/// index) or at the envelope. This is what consensus runs.
pub fn map_document(doc: &Value, dir: &dyn Directory) -> Result<Vec<CapturedEvent>, CaptureError> {
    map_events(doc, dir)?.into_iter().collect()
}

/// As [`map_document`], but with one result per event, so a capture job can report every
/// refused event. The outer error is a document-level refusal. Events are mapped in order
/// and an event may depend on earlier ones (a case packed earlier is a container later),
/// even when an earlier event is refused.
pub fn map_events(
    doc: &Value,
    dir: &dyn Directory,
) -> Result<Vec<Result<CapturedEvent, CaptureError>>, CaptureError> {
    let envelope = document::open(doc)?;
    let mut mapper = Mapper {
        doc: &envelope.ctx,
        dir,
        cases: BTreeSet::new(),
        repacked: BTreeSet::new(),
        first_op: None,
        first_recall: None,
    };
    Ok(envelope
        .events
        .iter()
        .zip(envelope.hashes)
        .enumerate()
        .map(|(index, (event, hash))| map_event(&mut mapper, index, event, hash))
        .collect())
}

fn map_event(
    mapper: &mut Mapper<'_>,
    index: usize,
    event: &Value,
    hash: Result<String, jiu_epcis::HashError>,
) -> Result<CapturedEvent, CaptureError> {
    let view = EventView::read(index, event)?;
    let hash_id = hash.map_err(|error| hash_refusal(&view.blame, error))?;
    let lot_recall = mapper.lot_recall_for(&view)?;
    let op = match lot_recall {
        Some(_) => None,
        None => mapper.op_for(&view)?,
    };
    mapper.keep_apart(&view, op.is_some(), lot_recall.is_some())?;
    Ok(CapturedEvent {
        index,
        event_type: view.blame.event_type.clone(),
        hash_id,
        event_id: view.event_id.map(str::to_owned),
        event_time_ms: view.event_time_ms,
        event_time_zone_offset_min: view.zone_offset_min,
        action: view.action.map(|a| a.as_str().to_owned()),
        biz_step: view.biz_step_term.or(view.biz_step).map(str::to_owned),
        disposition: view
            .disposition_term
            .or(view.disposition)
            .map(str::to_owned),
        read_point: view.read_point,
        biz_location: view.biz_location,
        error_declaration: view.error_declaration,
        epcs: view.epcs,
        op,
        lot_recall,
    })
}

/// The hasher refuses an event the view accepted (a malformed nested field): say which.
fn hash_refusal(blame: &Blame, error: jiu_epcis::HashError) -> CaptureError {
    match error {
        jiu_epcis::HashError::Event { field, problem, .. } => {
            blame.invalid(&field, format!("{problem} (event hash)"))
        }
        other => blame.invalid("", other.to_string()),
    }
}
