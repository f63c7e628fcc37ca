//! One event's fields, read and checked: what every event must get right whatever its
//! lifecycle meaning (type, times, action, CBV values, identifier lists). The lifecycle
//! mapping in `rules` works on the resulting [`EventView`].

use jiu_epcis::cbv::{self, Vocab};
use jiu_epcis::{canonical_uri, parse_time_ms, parse_time_zone_offset_min};
use serde_json::{Map, Value};

use super::error::{Blame, CaptureError};
use super::{CapturedEpc, EpcRole};
use crate::gs1;
use crate::provenance::Flag;

/// The five EPCIS 2.0 event types, and extension types (a URI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Object,
    Aggregation,
    Transaction,
    Transformation,
    Association,
    Extension,
}

/// An event's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Add,
    Observe,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "ADD",
            Action::Observe => "OBSERVE",
            Action::Delete => "DELETE",
        }
    }
}

/// One flag set or cleared by `persistentDisposition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FlagChange {
    pub flag: Flag,
    pub set: bool,
}

/// The fields of one event, checked.
#[derive(Debug)]
pub(super) struct EventView<'a> {
    pub blame: Blame,
    pub fields: &'a Map<String, Value>,
    pub kind: Kind,
    pub event_time_ms: i64,
    pub zone_offset_min: i32,
    pub action: Option<Action>,
    /// `bizStep` as written, and its CBV term if it is one.
    pub biz_step: Option<&'a str>,
    pub biz_step_term: Option<&'static str>,
    pub disposition: Option<&'a str>,
    pub disposition_term: Option<&'static str>,
    /// Canonical identifiers (see `jiu_epcis::canonical_uri`).
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub event_id: Option<&'a str>,
    pub error_declaration: bool,
    pub epcs: Vec<CapturedEpc>,
    pub flags: Vec<FlagChange>,
}

/// The identifier fields, their role, and whether the field is one string (`parentID`)
/// rather than a list.
const EPC_FIELDS: [(&str, EpcRole, bool); 5] = [
    ("parentID", EpcRole::Parent, true),
    ("epcList", EpcRole::Epc, false),
    ("childEPCs", EpcRole::Child, false),
    ("inputEPCList", EpcRole::Input, false),
    ("outputEPCList", EpcRole::Output, false),
];

/// How many identifiers an event names (list lengths, plus one for `parentID`), read
/// without checking anything, to bound a document before the real work.
pub(super) fn epc_count(event: &Value) -> usize {
    EPC_FIELDS
        .iter()
        .map(|(key, _, single)| match event.get(*key) {
            Some(Value::Array(items)) if !single => items.len(),
            Some(_) if *single => 1,
            _ => 0,
        })
        .sum()
}

/// The disposition that stands for each flag (see `docs/epcis-capture.md`): CBV has no
/// `hold`; `no_pedigree_match` is its quarantine-for-investigation disposition, and
/// `container_open` ("a seal has been broken") is the nearest to an opened bottle.
pub(super) fn flag_of(disposition_term: &str) -> Option<Flag> {
    Some(match disposition_term {
        "recalled" => Flag::Recalled,
        "stolen" => Flag::Stolen,
        "no_pedigree_match" => Flag::Hold,
        "damaged" => Flag::Damaged,
        "container_open" => Flag::Opened,
        _ => return None,
    })
}

impl<'a> EventView<'a> {
    /// Reads event `index`; refuses what no EPCIS 2.0 event may contain.
    pub fn read(index: usize, event: &'a Value) -> Result<Self, CaptureError> {
        let mut blame = Blame {
            index,
            event_type: "?".to_owned(),
        };
        let fields = event
            .as_object()
            .ok_or_else(|| blame.invalid("", "is not a JSON object"))?;
        let type_name = match fields.get("type") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(blame.invalid("type", "is missing or not a string")),
        };
        blame.event_type = type_name.to_owned();
        let kind = kind_of(type_name)
            .ok_or_else(|| blame.invalid("type", "is neither an EPCIS 2.0 event type nor a URI"))?;
        let (event_time_ms, zone_offset_min) = times(&blame, fields)?;
        let action = action(&blame, fields, kind)?;
        let (biz_step, biz_step_term) = cbv_field(&blame, fields, "bizStep", Vocab::BizStep)?;
        let (disposition, disposition_term) =
            cbv_field(&blame, fields, "disposition", Vocab::Disposition)?;
        let read_point = place_id(&blame, fields, "readPoint")?;
        let biz_location = place_id(&blame, fields, "bizLocation")?;
        let event_id = optional_text(&blame, fields, "eventID")?;
        let error_declaration = error_declaration(&blame, fields)?;
        let epcs = epcs(&blame, fields)?;
        let flags = flag_changes(&blame, fields)?;
        Ok(EventView {
            blame,
            fields,
            kind,
            event_time_ms,
            zone_offset_min,
            action,
            biz_step,
            biz_step_term,
            disposition,
            disposition_term,
            read_point,
            biz_location,
            event_id,
            error_declaration,
            epcs,
            flags,
        })
    }

    /// The identifiers in the field of `role`, each with its position in that field.
    pub fn epcs_of(&self, role: EpcRole) -> impl Iterator<Item = (usize, &CapturedEpc)> {
        self.epcs.iter().filter(move |e| e.role == role).enumerate()
    }
}

fn kind_of(type_name: &str) -> Option<Kind> {
    Some(match type_name {
        "ObjectEvent" => Kind::Object,
        "AggregationEvent" => Kind::Aggregation,
        "TransactionEvent" => Kind::Transaction,
        "TransformationEvent" => Kind::Transformation,
        "AssociationEvent" => Kind::Association,
        other if other.contains(':') => Kind::Extension,
        _ => return None,
    })
}

fn times(blame: &Blame, fields: &Map<String, Value>) -> Result<(i64, i32), CaptureError> {
    let time = match fields.get("eventTime") {
        Some(Value::String(s)) => parse_time_ms(s),
        _ => None,
    };
    let time = time.ok_or_else(|| {
        blame.invalid(
            "eventTime",
            "is missing or not a date-time with a time zone (RFC 3339)",
        )
    })?;
    let zone = match fields.get("eventTimeZoneOffset") {
        Some(Value::String(s)) => parse_time_zone_offset_min(s),
        _ => None,
    };
    let zone = zone.ok_or_else(|| {
        blame.invalid(
            "eventTimeZoneOffset",
            "is missing or not +hh:mm / -hh:mm within 14 hours",
        )
    })?;
    Ok((time, zone))
}

fn action(
    blame: &Blame,
    fields: &Map<String, Value>,
    kind: Kind,
) -> Result<Option<Action>, CaptureError> {
    let action = match fields.get("action") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "ADD" => Action::Add,
            "OBSERVE" => Action::Observe,
            "DELETE" => Action::Delete,
            _ => return Err(blame.invalid("action", "is not ADD, OBSERVE or DELETE")),
        }),
        Some(_) => return Err(blame.invalid("action", "is not a string")),
    };
    let needs_action = !matches!(kind, Kind::Transformation | Kind::Extension);
    if needs_action && action.is_none() {
        return Err(blame.invalid("action", "is missing"));
    }
    Ok(action)
}

fn optional_text<'a>(
    blame: &Blame,
    fields: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, CaptureError> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(blame.invalid(key, "is not a non-empty string")),
    }
}

/// A CBV-typed field: absent, a term (any spelling) or an extension URI. A bare word that
/// is no term is refused, so a misspelt `shiping` never passes as "no lifecycle effect".
fn cbv_field<'a>(
    blame: &Blame,
    fields: &'a Map<String, Value>,
    key: &str,
    vocab: Vocab,
) -> Result<(Option<&'a str>, Option<&'static str>), CaptureError> {
    let Some(value) = optional_text(blame, fields, key)? else {
        return Ok((None, None));
    };
    if !cbv::is_term_or_uri(vocab, value) {
        return Err(blame.invalid(
            key,
            format!("{value:?} is neither a CBV 2.0 term nor a URI"),
        ));
    }
    Ok((Some(value), cbv::term(vocab, value)))
}

fn place_id(
    blame: &Blame,
    fields: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, CaptureError> {
    match fields.get(key) {
        None => Ok(None),
        Some(place) => match place.get("id") {
            Some(Value::String(id)) if !id.is_empty() => Ok(Some(canonical_uri(id))),
            _ => Err(blame.invalid(key, "is not an object with a string id")),
        },
    }
}

fn error_declaration(blame: &Blame, fields: &Map<String, Value>) -> Result<bool, CaptureError> {
    let Some(declaration) = fields.get("errorDeclaration") else {
        return Ok(false);
    };
    let time = declaration
        .get("declarationTime")
        .and_then(Value::as_str)
        .and_then(parse_time_ms);
    if time.is_none() {
        return Err(blame.invalid(
            "errorDeclaration",
            "needs a declarationTime with a time zone",
        ));
    }
    Ok(true)
}

fn epcs(blame: &Blame, fields: &Map<String, Value>) -> Result<Vec<CapturedEpc>, CaptureError> {
    let mut out = Vec::new();
    for (key, role, single) in EPC_FIELDS {
        let Some(value) = fields.get(key) else {
            continue;
        };
        let items: &[Value] = match value {
            Value::String(_) if single => std::slice::from_ref(value),
            Value::Array(items) if !single => items,
            _ if single => return Err(blame.invalid(key, "is not a string")),
            _ => return Err(blame.invalid(key, "is not a list")),
        };
        for (position, item) in items.iter().enumerate() {
            let Some(uri) = item.as_str().filter(|s| !s.is_empty()) else {
                let field = format!("{key}[{position}]");
                return Err(blame.invalid(&field, "is not a non-empty string"));
            };
            out.push(CapturedEpc {
                role,
                uri: uri.to_owned(),
                canonical: canonical_uri(uri),
                code: gs1::parse_code(uri).ok(),
            });
        }
    }
    Ok(out)
}

/// The flags `persistentDisposition` sets or clears. Other dispositions there (e.g.
/// `completeness_verified`) are recorded and change nothing.
fn flag_changes(
    blame: &Blame,
    fields: &Map<String, Value>,
) -> Result<Vec<FlagChange>, CaptureError> {
    let Some(persistent) = fields.get("persistentDisposition") else {
        return Ok(Vec::new());
    };
    let field = "persistentDisposition";
    let persistent = persistent
        .as_object()
        .ok_or_else(|| blame.invalid(field, "is not an object"))?;
    let mut out = Vec::new();
    for (key, set) in [("set", true), ("unset", false)] {
        let Some(values) = persistent.get(key) else {
            continue;
        };
        let values = values
            .as_array()
            .ok_or_else(|| blame.invalid(&format!("{field}.{key}"), "is not a list"))?;
        for (position, value) in values.iter().enumerate() {
            let value = value
                .as_str()
                .filter(|v| cbv::is_term_or_uri(Vocab::Disposition, v))
                .ok_or_else(|| {
                    blame.invalid(
                        &format!("{field}.{key}[{position}]"),
                        "is neither a CBV 2.0 disposition nor a URI",
                    )
                })?;
            if let Some(flag) = cbv::term(Vocab::Disposition, value).and_then(flag_of) {
                out.push(FlagChange { flag, set });
            }
        }
    }
    Ok(out)
}
