//! The mapping table: which lifecycle op an event means (module doc of `capture` and
//! `docs/epcis-capture.md` give the table). The rule of thumb: an event either maps to
//! exactly one op, or carries no lifecycle meaning at all; an event that names a lifecycle
//! step in a shape the table does not map is refused, never recorded without effect.

use std::collections::BTreeSet;

use jiu_epcis::canonical_uri;
use jiu_epcis::cbv::{self, Vocab};
use serde_json::Value;

use super::document::DocCtx;
use super::error::{CaptureError, EventErrorKind};
use super::event::{Action, EventView, FlagChange, Kind};
use super::{
    Directory, EpcRole, CBV_MDA_NAMESPACE, CITY_FIELD, LOT_NUMBER_FIELD, LOT_NUMBER_LOCAL,
};
use crate::gs1::{Code, Lot, Sgtin};
use crate::provenance::{Child, ContainerId, Op, CITY_CHARS_MAX};

/// The CBV business steps with a lifecycle effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Encoding,
    Commissioning,
    Packing,
    Unpacking,
    Shipping,
    VoidShipping,
    Receiving,
    RetailSelling,
    Destroying,
    Decommissioning,
}

impl Step {
    fn of(term: Option<&str>) -> Option<Step> {
        Some(match term? {
            "encoding" => Step::Encoding,
            "commissioning" => Step::Commissioning,
            "packing" => Step::Packing,
            "unpacking" => Step::Unpacking,
            "shipping" => Step::Shipping,
            "void_shipping" => Step::VoidShipping,
            "receiving" => Step::Receiving,
            "retail_selling" => Step::RetailSelling,
            "destroying" => Step::Destroying,
            "decommissioning" => Step::Decommissioning,
            _ => return None,
        })
    }

    /// Whether `kind` with `action` is a shape this step maps from.
    fn fits(self, kind: Kind, action: Option<Action>) -> bool {
        use Action::{Add, Delete, Observe};
        use Kind::{Aggregation, Object, Transaction};
        match (self, kind, action) {
            (Step::Encoding, Object | Transaction, Some(Add)) => true,
            (Step::Commissioning, Object, Some(Add)) => true,
            (Step::Packing, Aggregation, Some(Add)) => true,
            (Step::Unpacking, Aggregation, Some(Delete)) => true,
            (Step::Shipping | Step::VoidShipping | Step::Receiving, Object | Aggregation, a) => {
                a == Some(Observe)
            }
            (Step::RetailSelling, Object, Some(Observe)) => true,
            (Step::Destroying, Object, Some(Observe | Delete)) => true,
            (Step::Decommissioning, Object, Some(Delete)) => true,
            _ => false,
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Step::Encoding => "an ObjectEvent or TransactionEvent with action ADD",
            Step::Commissioning => "an ObjectEvent with action ADD",
            Step::Packing => "an AggregationEvent with action ADD",
            Step::Unpacking => "an AggregationEvent with action DELETE",
            Step::Shipping | Step::VoidShipping | Step::Receiving => {
                "an ObjectEvent or AggregationEvent with action OBSERVE"
            }
            Step::RetailSelling => "an ObjectEvent with action OBSERVE",
            Step::Destroying => "an ObjectEvent with action OBSERVE or DELETE",
            Step::Decommissioning => "an ObjectEvent with action DELETE",
        }
    }
}

/// Maps the events of one document, in order.
pub(super) struct Mapper<'a> {
    pub doc: &'a DocCtx,
    pub dir: &'a dyn Directory,
    /// Case SGTINs that earlier packing events of this document packed into: later events
    /// must treat them as containers even before the ledger knows them.
    pub cases: BTreeSet<Sgtin>,
    /// Containers that earlier events of this document packed into or unpacked from: an
    /// unpack-all of one of them would need the document's own changes on top of the
    /// ledger's contents, so it is refused (list the children instead).
    pub repacked: BTreeSet<ContainerId>,
    /// The first event of this document with a lifecycle op, and the first recalling
    /// lots: a document holds one kind or the other.
    pub first_op: Option<usize>,
    pub first_recall: Option<usize>,
}

impl Mapper<'_> {
    /// The lots `e` recalls or releases: an ObjectEvent without a lifecycle step or an
    /// error declaration, changing the `recalled` flag alone, on the LGTIN classes of its
    /// `quantityList` and on no item. `None` for any other event (`op_for` maps it).
    pub fn lot_recall_for(
        &self,
        e: &EventView<'_>,
    ) -> Result<Option<super::LotRecallChange>, CaptureError> {
        let recalled = match e.flags.as_slice() {
            [FlagChange {
                flag: crate::provenance::Flag::Recalled,
                set,
            }] => *set,
            _ => return Ok(None),
        };
        let Some(quantities) = e.fields.get("quantityList") else {
            return Ok(None);
        };
        if e.kind != Kind::Object || e.error_declaration || Step::of(e.biz_step_term).is_some() {
            return Ok(None);
        }
        let field = "quantityList";
        let quantities = quantities
            .as_array()
            .ok_or_else(|| e.blame.invalid(field, "is not a list"))?;
        if e.epcs_of(EpcRole::Epc).next().is_some() {
            return Err(e.blame.unsupported(
                field,
                "recalls items (epcList) and lots (quantityList) in one event; send them \
                 as two events",
            ));
        }
        let max = crate::product::RECALLED_LOTS_MAX;
        if quantities.is_empty() || quantities.len() > max {
            return Err(e.blame.invalid(
                field,
                format!(
                    "names {} lots; a lot recall names 1 to {max}",
                    quantities.len()
                ),
            ));
        }
        let mut lots = Vec::with_capacity(quantities.len());
        for (position, quantity) in quantities.iter().enumerate() {
            let at = format!("{field}[{position}].epcClass");
            let class = quantity
                .get("epcClass")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| e.blame.invalid(&at, "is missing or not a string"))?;
            let lot = crate::gs1::parse_lot_link(&canonical_uri(class)).map_err(|error| {
                e.blame.invalid(
                    &at,
                    format!("{class:?} is not a product's lot (LGTIN): {error}"),
                )
            })?;
            lots.push(lot);
        }
        Ok(Some(super::LotRecallChange { lots, recalled }))
    }

    /// Refuses a document that mixes lifecycle ops and lot recalls: the ops are judged
    /// against the recalls the chain committed before the document, so a recall in the
    /// same document would not count for them.
    pub fn keep_apart(
        &mut self,
        e: &EventView<'_>,
        op: bool,
        recall: bool,
    ) -> Result<(), CaptureError> {
        let index = e.blame.index;
        if op {
            self.first_op.get_or_insert(index);
        }
        if recall {
            self.first_recall.get_or_insert(index);
        }
        match (self.first_op, self.first_recall) {
            (Some(first_op), Some(first_recall)) if op || recall => Err(e.blame.unsupported(
                if recall { "quantityList" } else { "bizStep" },
                format!(
                    "a document recalls lots (event {first_recall}) or records lifecycle \
                         steps (event {first_op}), not both; send the recall as a document \
                         of its own"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The op `e` means, `None` for an event without lifecycle effect.
    pub fn op_for(&mut self, e: &EventView<'_>) -> Result<Option<Op>, CaptureError> {
        if matches!(
            e.kind,
            Kind::Transformation | Kind::Association | Kind::Extension
        ) {
            return Ok(None);
        }
        let step = Step::of(e.biz_step_term);
        // A TransactionEvent links objects to business transactions; the move itself is the
        // ObjectEvent or AggregationEvent beside it. CBV puts encoding in a TransactionEvent.
        if e.kind == Kind::Transaction && step != Some(Step::Encoding) {
            return Ok(None);
        }
        if e.error_declaration {
            return self.on_error_declaration(e, step);
        }
        match (step, e.flags.as_slice()) {
            (None, []) => Ok(None),
            (None, [change]) => self.flag_op(e, *change).map(Some),
            (None, changes) => Err(e.blame.unsupported(
                "persistentDisposition",
                format!(
                    "changes {} flags; send one event per flag change",
                    changes.len()
                ),
            )),
            (Some(step), []) => self.step_op(e, step).map(Some),
            (Some(_), _) => Err(e.blame.unsupported(
                "persistentDisposition",
                format!(
                    "{} and a flag change in one event; send them as two events",
                    name(e)
                ),
            )),
        }
    }

    /// An error declaration on a sale undoes it, on a shipment voids it; the ledger has no
    /// inverse for the other steps (T13 corrections are not implemented).
    fn on_error_declaration(
        &mut self,
        e: &EventView<'_>,
        step: Option<Step>,
    ) -> Result<Option<Op>, CaptureError> {
        let unsupported = |what: String| {
            Err(e.blame.unsupported(
                "errorDeclaration",
                format!(
                    "{what}: only retail_selling (undo sale) and shipping (void shipment) \
                     can be declared in error; record the inverse step instead"
                ),
            ))
        };
        if !e.flags.is_empty() {
            return unsupported("declares a flag change in error".to_owned());
        }
        match step {
            None => Ok(None),
            Some(Step::RetailSelling) => {
                self.check_shape(e, Step::RetailSelling)?;
                Ok(Some(Op::UndoSale {
                    items: items(e, EpcRole::Epc, "retail_selling")?,
                }))
            }
            Some(Step::Shipping) => {
                self.check_shape(e, Step::Shipping)?;
                Ok(Some(Op::VoidShip {
                    roots: self.roots(e)?,
                }))
            }
            Some(_) => unsupported(format!("declares {} in error", name(e))),
        }
    }

    fn check_shape(&self, e: &EventView<'_>, step: Step) -> Result<(), CaptureError> {
        if step.fits(e.kind, e.action) {
            Ok(())
        } else {
            let field = if e.action.is_some() { "action" } else { "type" };
            Err(e.blame.invalid(
                field,
                format!("{} is mapped from {}", name(e), step.shape()),
            ))
        }
    }

    fn step_op(&mut self, e: &EventView<'_>, step: Step) -> Result<Op, CaptureError> {
        self.check_shape(e, step)?;
        let what = name(e);
        Ok(match step {
            Step::Encoding => Op::Issue {
                items: items(e, EpcRole::Epc, what)?,
            },
            Step::Commissioning => Op::Commission {
                items: items(e, EpcRole::Epc, what)?,
                lot: self.lot(e)?,
            },
            Step::Packing => {
                let parent = parent(e, what)?;
                let children = self.children(e, EpcRole::Child, what)?;
                match &parent {
                    // A case packed here is remembered as one (`is_case`), which also marks
                    // it repacked; a packing line packs hundreds of cases a document.
                    ContainerId::Case(case) => {
                        self.cases.insert(case.clone());
                    }
                    other => {
                        self.repacked.insert(other.clone());
                    }
                }
                Op::Pack { parent, children }
            }
            Step::Unpacking => {
                let parent = parent(e, what)?;
                let children = if e.epcs_of(EpcRole::Child).next().is_none() {
                    self.contents(e, &parent)?
                } else {
                    self.children(e, EpcRole::Child, what)?
                };
                self.repacked.insert(parent.clone());
                Op::Unpack { parent, children }
            }
            Step::Shipping => {
                let roots = self.roots(e)?;
                let to = self.destination(e)?;
                Op::Ship { roots, to }
            }
            Step::VoidShipping => Op::VoidShip {
                roots: self.roots(e)?,
            },
            Step::Receiving => Op::Receive {
                roots: self.roots(e)?,
            },
            Step::RetailSelling => Op::Sell {
                items: items(e, EpcRole::Epc, what)?,
                city: self.city(e)?,
            },
            Step::Destroying => Op::Destroy {
                items: items(e, EpcRole::Epc, what)?,
            },
            Step::Decommissioning => Op::Void {
                items: items(e, EpcRole::Epc, what)?
                    .into_iter()
                    .map(|item| (item, None))
                    .collect(),
            },
        })
    }

    fn flag_op(&self, e: &EventView<'_>, change: FlagChange) -> Result<Op, CaptureError> {
        if e.kind != Kind::Object {
            return Err(e.blame.unsupported(
                "persistentDisposition",
                "flags are set and cleared with an ObjectEvent",
            ));
        }
        let items = items(e, EpcRole::Epc, "a flag change")?;
        let flag = change.flag;
        Ok(if change.set {
            Op::SetFlag { items, flag }
        } else {
            Op::ClearFlag { items, flag }
        })
    }

    /// What a shipping, void-shipping or receiving event moves: the listed items of an
    /// ObjectEvent, the parent of an AggregationEvent.
    fn roots(&self, e: &EventView<'_>) -> Result<Vec<Child>, CaptureError> {
        let what = name(e);
        if e.kind == Kind::Aggregation {
            Ok(vec![Child::Container(parent(e, what)?)])
        } else {
            self.children(e, EpcRole::Epc, what)
        }
    }

    fn children(
        &self,
        e: &EventView<'_>,
        role: EpcRole,
        what: &str,
    ) -> Result<Vec<Child>, CaptureError> {
        let mut out = Vec::new();
        for (position, epc) in e.epcs_of(role) {
            let field = format!("{}[{position}]", role.field());
            out.push(match code(e, &field, epc)? {
                Code::Item(item) if self.is_case(&item) => {
                    Child::Container(ContainerId::Case(item))
                }
                Code::Item(item) => Child::Bottle(item),
                Code::Logistic(sscc) => Child::Container(ContainerId::Sscc(sscc)),
                other => return Err(not_movable(e, &field, &other)),
            });
        }
        if out.is_empty() {
            return Err(needs_epcs(e, role, what));
        }
        Ok(out)
    }

    fn is_case(&self, item: &Sgtin) -> bool {
        self.cases.contains(item) || self.dir.is_case(item)
    }

    /// Everything `parent` holds, for an unpacking event without `childEPCs` (EPCIS: the
    /// DELETE then disaggregates all children): the ledger's contents before the document.
    fn contents(
        &self,
        e: &EventView<'_>,
        parent: &ContainerId,
    ) -> Result<Vec<Child>, CaptureError> {
        let changed_here = match parent {
            ContainerId::Case(case) => self.cases.contains(case),
            ContainerId::Sscc(_) => false,
        } || self.repacked.contains(parent);
        if changed_here {
            return Err(e.blame.unsupported(
                "childEPCs",
                "unpacking everything from a container an earlier event of this document \
                 packed into or unpacked from is not mapped; list the children",
            ));
        }
        match self.dir.contents(parent) {
            Some(children) if !children.is_empty() => Ok(children),
            Some(_) => Err(e.blame.invalid(
                "parentID",
                "unpacking everything (no childEPCs) from a container that holds nothing",
            )),
            None => Err(e.blame.invalid(
                "parentID",
                "unpacking everything (no childEPCs) needs a container the chain holds; \
                 this one is unknown",
            )),
        }
    }

    /// The org a shipment goes to: the `owning_party` of `destinationList`, else the
    /// `possessing_party`, else the `location`, resolved by the directory.
    fn destination(&self, e: &EventView<'_>) -> Result<String, CaptureError> {
        let field = "destinationList";
        let list = match e.fields.get(field) {
            None => &[][..],
            Some(Value::Array(list)) => list.as_slice(),
            Some(_) => return Err(e.blame.invalid(field, "is not a list")),
        };
        let mut typed = Vec::with_capacity(list.len());
        for (position, item) in list.iter().enumerate() {
            let kind = item.get("type").and_then(Value::as_str);
            let id = item.get("destination").and_then(Value::as_str);
            let (Some(kind), Some(id)) = (kind, id) else {
                let field = format!("{field}[{position}]");
                return Err(e
                    .blame
                    .invalid(&field, "needs a string type and destination"));
            };
            typed.push((position, cbv::term(Vocab::SourceDestinationType, kind), id));
        }
        for wanted in ["owning_party", "possessing_party", "location"] {
            let found: Vec<_> = typed
                .iter()
                .filter(|(_, t, _)| *t == Some(wanted))
                .collect();
            match found.as_slice() {
                [] => continue,
                [(position, _, id)] => {
                    let key = canonical_uri(id);
                    return self.dir.org_of_party(&key).ok_or_else(|| {
                        e.blame.error(
                            EventErrorKind::UnknownParty,
                            &format!("{field}[{position}]"),
                            format!("destination {id} is not a registered org"),
                        )
                    });
                }
                _ => {
                    return Err(e.blame.invalid(
                        field,
                        format!("has {} {wanted} entries; a shipment has one", found.len()),
                    ))
                }
            }
        }
        Err(e.blame.invalid(
            field,
            "shipping needs a destination: an owning_party, possessing_party or location",
        ))
    }

    /// Whether `key` names `namespace` + `local`: written as the full IRI, or with a prefix
    /// the document's `@context` declares for `namespace`.
    fn names(&self, key: &str, namespace: &str, local: &str) -> bool {
        key.strip_prefix(namespace) == Some(local)
            || key.split_once(':').is_some_and(|(prefix, rest)| {
                rest == local && self.doc.context.prefix(prefix) == Some(namespace)
            })
    }

    /// The lot of a commissioning event: `ilmd` `cbvmda:lotNumber` (the prefix of GS1's
    /// standard context, or any prefix the document declares for the CBV master data
    /// namespace, or the full IRI). Absent: the bottles are commissioned without a lot.
    fn lot(&self, e: &EventView<'_>) -> Result<Option<Lot>, CaptureError> {
        let Some(ilmd) = e.fields.get("ilmd") else {
            return Ok(None);
        };
        let Value::Object(ilmd) = ilmd else {
            return Err(e.blame.invalid("ilmd", "is not an object"));
        };
        let mut found = ilmd.iter().filter(|(key, _)| {
            key.as_str() == LOT_NUMBER_FIELD || self.names(key, CBV_MDA_NAMESPACE, LOT_NUMBER_LOCAL)
        });
        let (key, value) = match (found.next(), found.next()) {
            (None, _) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(e.blame.invalid("ilmd.cbvmda:lotNumber", "is given twice"))
            }
            (Some(one), None) => one,
        };
        let field = format!("ilmd.{key}");
        let text = value
            .as_str()
            .ok_or_else(|| e.blame.invalid(&field, "is not a string"))?;
        Lot::parse(text)
            .map(Some)
            .map_err(|error| e.blame.invalid(&field, error.reason()))
    }

    /// Where a sale happened: the event's `jiu:city`, else the `cbvmda:city` master data of
    /// its bizLocation in this document's header, else the bizLocation itself.
    fn city(&self, e: &EventView<'_>) -> Result<String, CaptureError> {
        let mut found = e
            .fields
            .iter()
            .filter(|(key, _)| self.names(key, jiu_epcis::JIU_NAMESPACE, CITY_FIELD));
        let (field, city) = match (found.next(), found.next()) {
            (Some(_), Some(_)) => {
                return Err(e.blame.invalid("jiu:city", "is given twice"));
            }
            (Some((key, value)), None) => {
                let city = value.as_str().filter(|s| !s.trim().is_empty());
                let city = city.ok_or_else(|| e.blame.invalid(key, "is not a non-empty string"))?;
                (key.as_str(), city)
            }
            (None, _)
                if e.fields.contains_key("jiu:city")
                    && self.doc.context.prefix("jiu").is_none() =>
            {
                // Without the declaration `jiu:city` is some other IRI; say so rather than
                // quietly selling at the bizLocation.
                return Err(e.blame.invalid(
                    "jiu:city",
                    format!(
                        "the prefix jiu is not declared in @context (as {})",
                        jiu_epcis::JIU_NAMESPACE
                    ),
                ));
            }
            (None, _) => {
                let location = e.biz_location.as_deref().ok_or_else(|| {
                    e.blame.invalid(
                        "bizLocation",
                        "retail_selling needs a city: a jiu:city field, a city in the \
                         bizLocation's master data, or at least a bizLocation",
                    )
                })?;
                let city = self.doc.cities.get(location).map(String::as_str);
                ("bizLocation", city.unwrap_or(location))
            }
        };
        if city.chars().count() > CITY_CHARS_MAX {
            return Err(e.blame.invalid(
                field,
                format!("city {city:?} is longer than {CITY_CHARS_MAX} characters"),
            ));
        }
        Ok(city.to_owned())
    }
}

/// The short name of the event's step, for messages.
fn name<'a>(e: &EventView<'a>) -> &'a str {
    e.biz_step_term.or(e.biz_step).unwrap_or("(no bizStep)")
}

/// The parsed code of `epc`, or the refusal naming its field.
fn code(e: &EventView<'_>, field: &str, epc: &super::CapturedEpc) -> Result<Code, CaptureError> {
    match &epc.code {
        Some(code) => Ok(code.clone()),
        None => {
            // Parse again for the reason; the view keeps only the value.
            let reason = match crate::gs1::parse_code(&epc.uri) {
                Err(error) => error.reason(),
                Ok(_) => "does not parse".to_owned(),
            };
            Err(e.blame.error(
                EventErrorKind::InvalidCode,
                field,
                format!("{}: {reason}", epc.uri),
            ))
        }
    }
}

fn not_movable(e: &EventView<'_>, field: &str, code: &Code) -> CaptureError {
    e.blame.error(
        EventErrorKind::InvalidCode,
        field,
        format!("{code} is a party or location, not a bottle or container"),
    )
}

fn needs_epcs(e: &EventView<'_>, role: EpcRole, what: &str) -> CaptureError {
    e.blame.invalid(
        role.field(),
        format!(
            "{what} needs at least one EPC in {} (class-level quantities are not tracked)",
            role.field()
        ),
    )
}

/// The bottles (SGTIN) listed in the field of `role`.
fn items(e: &EventView<'_>, role: EpcRole, what: &str) -> Result<Vec<Sgtin>, CaptureError> {
    let mut out = Vec::new();
    for (position, epc) in e.epcs_of(role) {
        let field = format!("{}[{position}]", role.field());
        match code(e, &field, epc)? {
            Code::Item(item) => out.push(item),
            other => {
                return Err(e.blame.error(
                    EventErrorKind::InvalidCode,
                    &field,
                    format!("{other} is not a bottle (SGTIN); {what} applies to bottles"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(needs_epcs(e, role, what));
    }
    Ok(out)
}

/// The container `parentID` names: an SSCC, or a case SGTIN.
fn parent(e: &EventView<'_>, what: &str) -> Result<ContainerId, CaptureError> {
    let Some((_, epc)) = e.epcs_of(EpcRole::Parent).next() else {
        return Err(e
            .blame
            .invalid("parentID", format!("{what} needs a parentID")));
    };
    match code(e, "parentID", epc)? {
        Code::Logistic(sscc) => Ok(ContainerId::Sscc(sscc)),
        Code::Item(item) => Ok(ContainerId::Case(item)),
        other => Err(not_movable(e, "parentID", &other)),
    }
}
