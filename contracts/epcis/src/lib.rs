//! CBV 2.0 event hash ID for EPCIS 2.0 JSON/JSON-LD events.
//!
//! An EPCIS event hashes to `ni:///sha-256;<hex>?ver=CBV2.0`, the SHA-256 of its
//! *pre-hash string*: the event's fields in a canonical order, as `name=value` text with
//! values canonicalised (timestamps to UTC milliseconds, numbers without redundant
//! digits, GS1 keys to canonical Digital Link URIs, CBV values to Web URIs). The
//! algorithm and its test vectors come from the GS1 reference implementation
//! (RalphTro/epcis-event-hash-generator); see `docs/epcis-event-hash.md` for the
//! choices where this crate deliberately differs from it.
//!
//! Design: pure and deterministic. No I/O, no clock, no HashMap iteration (serde_json's
//! `Map` is a BTreeMap). Any JSON input yields a hash or a typed [`HashError`]; nothing
//! panics, and nesting beyond [`DEPTH_MAX`] is rejected.
//!
//! Beside the hash, the pieces capture and query share: [`cbv`] (CBV terms in their three
//! spellings), [`parse_time_ms`] and [`parse_time_zone_offset_min`] (EPCIS times),
//! [`canonical_uri`] (one spelling per GS1 key), and [`query`] (the REST SimpleEventQuery
//! subset and the EPCISQueryDocument). The `schema` feature adds [`schema`], a validator for
//! the official JSON schema; it is for the RPC edge and tests, never for consensus code.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod canon;
pub mod cbv;
mod dl;
mod prehash;
pub mod query;
#[cfg(feature = "schema")]
pub mod schema;
mod tree;
mod vocab;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use tree::DEPTH_MAX;

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is not a JSON object")]
    NotObject,
    #[error("is missing")]
    Missing,
    #[error("is not a non-empty string")]
    NotString,
    #[error("is not a list")]
    NotList,
    #[error("is not an ISO 8601 date-time with a time zone")]
    BadTimestamp,
    #[error("nests deeper than {DEPTH_MAX} levels")]
    TooDeep,
}

/// Why an event or document cannot be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// A document-level field (outside the event list) is malformed.
    #[error("document field `{field}` {problem}")]
    Document { field: String, problem: Problem },
    /// Event number `index` of the event list (0 for a lone event) has a malformed field.
    #[error("event {index}: field `{field}` {problem}")]
    Event {
        index: usize,
        field: String,
        problem: Problem,
    },
}

/// The JSON-LD context of the events: namespace prefix -> IRI, plus the event fields a
/// repository asked to leave out of the hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    prefixes: BTreeMap<String, String>,
    ignore_fields: BTreeSet<String>,
}

impl Context {
    /// An empty context: no prefixes, nothing ignored.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declare `prefix` as an abbreviation of `iri` (as in `{"example": "https://ns.example.com/epcis/"}`).
    pub fn with_prefix(mut self, prefix: impl Into<String>, iri: impl Into<String>) -> Self {
        self.prefixes.insert(prefix.into(), iri.into());
        self
    }

    /// Leave the top-level event field `key` (as written, e.g. `"example:captureID"`) out of the hash.
    pub fn with_ignored_field(mut self, key: impl Into<String>) -> Self {
        self.ignore_fields.insert(key.into());
        self
    }

    /// Read the prefix declarations of a JSON-LD `@context` value: a list of IRIs and
    /// objects, or one object. Entries whose value is not a string (or `{"@id": ...}`) are
    /// skipped: they declare terms, not namespaces.
    pub fn from_jsonld(context: &Value) -> Self {
        let mut out = Self::new();
        let entries: &[Value] = match context {
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        };
        for entry in entries {
            let Value::Object(map) = entry else { continue };
            for (prefix, iri) in map {
                let iri = match iri {
                    Value::String(s) => s,
                    Value::Object(term) => match term.get("@id") {
                        Some(Value::String(s)) => s,
                        _ => continue,
                    },
                    _ => continue,
                };
                out.prefixes.insert(prefix.clone(), iri.clone());
            }
        }
        out
    }

    /// The IRI of a declared prefix.
    pub fn prefix(&self, prefix: &str) -> Option<&str> {
        self.prefixes.get(prefix).map(String::as_str)
    }

    /// `prefix:local` with a declared prefix -> `{iri}local` (the XML Clark notation the
    /// algorithm sorts and hashes); anything else unchanged.
    fn expand_key(&self, key: &str) -> String {
        match key.split_once(':') {
            Some((prefix, local)) => match self.prefixes.get(prefix) {
                Some(iri) => format!("{{{iri}}}{local}"),
                None => key.to_owned(),
            },
            None => key.to_owned(),
        }
    }

    /// `prefix:local` with a declared prefix -> `iriLocal`; anything else unchanged.
    fn expand_value(&self, value: &str) -> String {
        match value.split_once(':') {
            Some((prefix, local)) => match self.prefixes.get(prefix) {
                Some(iri) => format!("{iri}{local}"),
                None => value.to_owned(),
            },
            None => value.to_owned(),
        }
    }
}

/// The pre-hash string of one EPCIS 2.0 JSON event (the text that is SHA-256 hashed).
/// Errors name index 0; [`document_event_hashes`] reports the real index.
pub fn pre_hash_string(event: &Value, context: &Context) -> Result<String, HashError> {
    pre_hash_at(event, context, 0)
}

/// The CBV 2.0 event hash ID of one event: `ni:///sha-256;<64 hex>?ver=CBV2.0`.
pub fn event_hash_id(event: &Value, context: &Context) -> Result<String, HashError> {
    pre_hash_string(event, context).map(|text| hash_id(&text))
}

/// The JSON-LD namespace of jiu's EPCIS extension fields (declare it in `@context`, e.g.
/// `{"jiu": "urn:jiu:epcis:"}`, then write `jiu:city`). A URN, so it names nothing on the
/// web; changing it changes the meaning (and the hash) of every document using it.
pub const JIU_NAMESPACE: &str = "urn:jiu:epcis:";

/// The instant an EPCIS date-time names (`2025-01-10T08:00:00.5+08:00`), in milliseconds
/// since 1970-01-01T00:00Z: a zone is required, fractions are rounded to milliseconds as
/// the event hash rounds them. `None` for anything the hash would refuse as a timestamp.
pub fn parse_time_ms(text: &str) -> Option<i64> {
    canon::timestamp_ms(text)
}

/// An `eventTimeZoneOffset` (`+08:00`, `-06:00`; -14:00 to +14:00) in minutes east of UTC.
pub fn parse_time_zone_offset_min(text: &str) -> Option<i32> {
    canon::time_zone_offset_min(text)
}

/// The spelling the event hash uses for an identifier: GS1 keys in any form (EPC URN, EPC
/// pattern URN, Digital Link URI on any host) become the constrained canonical Digital Link
/// on `id.gs1.org` (`urn:epc:id:sgtin:9521234.054321.K7` and
/// `https://example.com/01/09521234543213/21/K7?x=1` both give
/// `https://id.gs1.org/01/09521234543213/21/K7`); anything else is returned as written.
/// Capture and query key identifiers by this form, so both spellings find the same events.
pub fn canonical_uri(uri: &str) -> String {
    dl::normalise(uri).unwrap_or_else(|| uri.to_owned())
}

/// The `ni:` URI of a pre-hash string.
pub fn hash_id(pre_hash: &str) -> String {
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(pre_hash.as_bytes()))
    )
}

/// Pre-hash strings of every event of an EPCISDocument (`epcisBody.eventList`), an
/// EPCISQueryDocument (`epcisBody.queryResults.resultsBody.eventList`) or a body with a
/// single `epcisBody.event`, in list order. Prefixes come from the document's
/// `@context`. A `<prefix>:ignoreFields` list of event keys beside the event list (at
/// document level, or in `queryResults`) is honoured, as in the reference.
pub fn document_pre_hashes(doc: &Value) -> Result<Vec<String>, HashError> {
    document_pre_hash_results(doc)?.into_iter().collect()
}

/// Event hash IDs of every event of a document; see [`document_pre_hashes`].
pub fn document_event_hashes(doc: &Value) -> Result<Vec<String>, HashError> {
    Ok(document_pre_hashes(doc)?
        .iter()
        .map(|text| hash_id(text))
        .collect())
}

/// As [`document_event_hashes`], but one result per event, so a capture can report every
/// event that fails rather than the first. The outer error is a document-level one.
pub fn document_event_hash_results(
    doc: &Value,
) -> Result<Vec<Result<String, HashError>>, HashError> {
    Ok(document_pre_hash_results(doc)?
        .into_iter()
        .map(|text| text.map(|text| hash_id(&text)))
        .collect())
}

fn document_pre_hash_results(doc: &Value) -> Result<Vec<Result<String, HashError>>, HashError> {
    let doc_fields = doc
        .as_object()
        .ok_or_else(|| doc_error("(document)", Problem::NotObject))?;
    let mut context = doc_fields
        .get("@context")
        .map(Context::from_jsonld)
        .unwrap_or_default();
    let body = doc_fields
        .get("epcisBody")
        .ok_or_else(|| doc_error("epcisBody", Problem::Missing))?;
    let body = body
        .as_object()
        .ok_or_else(|| doc_error("epcisBody", Problem::NotObject))?;
    let (events, ignore_holder): (Vec<&Value>, &serde_json::Map<String, Value>) =
        if let Some(list) = body.get("eventList") {
            (list_items(list, "epcisBody.eventList")?, doc_fields)
        } else if let Some(results) = body.get("queryResults") {
            let results = results
                .as_object()
                .ok_or_else(|| doc_error("epcisBody.queryResults", Problem::NotObject))?;
            let list = results
                .get("resultsBody")
                .and_then(|b| b.get("eventList"))
                .ok_or_else(|| {
                    doc_error(
                        "epcisBody.queryResults.resultsBody.eventList",
                        Problem::Missing,
                    )
                })?;
            (
                list_items(list, "epcisBody.queryResults.resultsBody.eventList")?,
                results,
            )
        } else if let Some(event) = body.get("event") {
            (vec![event], doc_fields)
        } else {
            return Err(doc_error("epcisBody.eventList", Problem::Missing));
        };
    for (key, value) in ignore_holder {
        let Some((prefix, "ignoreFields")) = key.split_once(':') else {
            continue;
        };
        if !prefix.is_empty() && context.prefix(prefix).is_none() {
            continue;
        }
        let Value::Array(fields) = value else {
            return Err(doc_error(key, Problem::NotList));
        };
        for field in fields {
            let field = field
                .as_str()
                .ok_or_else(|| doc_error(key, Problem::NotString))?;
            context.ignore_fields.insert(field.to_owned());
        }
    }
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(index, event)| pre_hash_at(event, &context, index))
        .collect())
}

fn list_items<'a>(list: &'a Value, field: &str) -> Result<Vec<&'a Value>, HashError> {
    match list {
        Value::Array(items) => Ok(items.iter().collect()),
        _ => Err(doc_error(field, Problem::NotList)),
    }
}

fn doc_error(field: &str, problem: Problem) -> HashError {
    HashError::Document {
        field: field.to_owned(),
        problem,
    }
}

fn pre_hash_at(event: &Value, context: &Context, index: usize) -> Result<String, HashError> {
    let fail = |field: &str, problem| HashError::Event {
        index,
        field: field.to_owned(),
        problem,
    };
    let fields = event
        .as_object()
        .ok_or_else(|| fail("(event)", Problem::NotObject))?;
    let event_type = match fields.get("type") {
        None => return Err(fail("type", Problem::Missing)),
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(_) => return Err(fail("type", Problem::NotString)),
    };
    match fields.get("eventTime") {
        None => return Err(fail("eventTime", Problem::Missing)),
        Some(Value::String(_)) => {}
        Some(_) => return Err(fail("eventTime", Problem::NotString)),
    }
    let children =
        tree::event_children(fields, context).map_err(|(field, problem)| fail(&field, problem))?;
    prehash::event(event_type, children).map_err(|(field, problem)| fail(&field, problem))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({
            "type": "ObjectEvent",
            "eventTime": "2025-01-10T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "action": "ADD",
            "bizStep": "commissioning",
            "epcList": ["urn:epc:id:sgtin:9521234.054321.K7Q2M9X4T1"],
            "liq:lot": "2025-0110-A"
        })
    }

    #[test]
    fn test_event_hash_is_ni_uri_of_pre_hash() {
        let context = Context::new().with_prefix("liq", "https://example.org/liquor/");
        let pre = pre_hash_string(&event(), &context).expect("valid event");
        assert_eq!(
            pre,
            "eventType=ObjectEventeventTime=2025-01-10T00:00:00.000ZeventTimeZoneOffset=+08:00\
             epcListepc=https://id.gs1.org/01/09521234543213/21/K7Q2M9X4T1action=ADD\
             bizStep=https://ref.gs1.org/cbv/BizStep-commissioning\
             {https://example.org/liquor/}lot=2025-0110-A"
        );
        let id = event_hash_id(&event(), &context).expect("valid event");
        assert_eq!(id, hash_id(&pre));
        assert!(
            id.starts_with("ni:///sha-256;")
                && id.ends_with("?ver=CBV2.0")
                && id.len() == 14 + 64 + 11
        );
    }

    #[test]
    fn test_undeclared_prefix_changes_the_hash() {
        // Without the prefix the extension key stays a CURIE: a different event.
        let with = event_hash_id(
            &event(),
            &Context::new().with_prefix("liq", "https://example.org/liquor/"),
        );
        let without = event_hash_id(&event(), &Context::new());
        assert_ne!(with.expect("valid"), without.expect("valid"));
    }

    #[test]
    fn test_record_time_event_id_and_error_declaration_do_not_change_the_hash() {
        let context = Context::new();
        let mut other = event();
        other["recordTime"] = json!("2025-01-11T00:00:00Z");
        other["eventID"] = json!("urn:uuid:00000000-0000-0000-0000-000000000000");
        other["errorDeclaration"] =
            json!({"declarationTime": "2025-01-12T00:00:00Z", "reason": "incorrect_data"});
        assert_eq!(
            event_hash_id(&event(), &context),
            event_hash_id(&other, &context)
        );
    }

    #[test]
    fn test_equivalent_spellings_hash_equal() {
        let context = Context::new();
        let mut other = event();
        other["eventTime"] = json!("2025-01-10T00:00:00.000Z");
        other["bizStep"] = json!("urn:epcglobal:cbv:bizstep:commissioning");
        other["epcList"] = json!(["https://example.com/01/09521234543213/21/K7Q2M9X4T1?x=1"]);
        assert_eq!(
            event_hash_id(&event(), &context),
            event_hash_id(&other, &context)
        );
    }

    #[test]
    fn test_ignored_field_is_left_out() {
        let mut other = event();
        other["repo:captureID"] = json!("abc");
        let context = Context::new().with_ignored_field("repo:captureID");
        assert_eq!(
            event_hash_id(&event(), &context),
            event_hash_id(&other, &context)
        );
    }

    #[test]
    fn test_malformed_events_are_typed_errors() {
        let context = Context::new();
        let err = |v: Value| pre_hash_string(&v, &context).expect_err("malformed");
        let at = |field: &str, problem| HashError::Event {
            index: 0,
            field: field.to_owned(),
            problem,
        };
        assert_eq!(err(json!([1])), at("(event)", Problem::NotObject));
        assert_eq!(
            err(json!({"eventTime": "2020-01-01T00:00:00Z"})),
            at("type", Problem::Missing)
        );
        assert_eq!(
            err(json!({"type": 5, "eventTime": "x"})),
            at("type", Problem::NotString)
        );
        assert_eq!(
            err(json!({"type": "ObjectEvent"})),
            at("eventTime", Problem::Missing)
        );
        assert_eq!(
            err(json!({"type": "ObjectEvent", "eventTime": 1})),
            at("eventTime", Problem::NotString)
        );
        assert_eq!(
            err(json!({"type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00"})),
            at("eventTime", Problem::BadTimestamp)
        );
        let bad_sensor_time = json!({
            "type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00Z",
            "sensorElementList": [{"sensorMetadata": {"time": "yesterday"}}]
        });
        assert_eq!(
            err(bad_sensor_time),
            at(
                "sensorElementList.sensorElement.sensorMetadata.time",
                Problem::BadTimestamp
            )
        );
    }

    #[test]
    fn test_document_errors_name_the_event_index() {
        let doc = json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "epcisBody": {"eventList": [event(), {"type": "ObjectEvent"}]}
        });
        assert_eq!(
            document_event_hashes(&doc),
            Err(HashError::Event {
                index: 1,
                field: "eventTime".to_owned(),
                problem: Problem::Missing
            })
        );
        assert_eq!(
            document_event_hashes(&json!({"epcisBody": {}})),
            Err(HashError::Document {
                field: "epcisBody.eventList".to_owned(),
                problem: Problem::Missing
            })
        );
        assert_eq!(
            document_event_hashes(&json!("x")),
            Err(HashError::Document {
                field: "(document)".to_owned(),
                problem: Problem::NotObject
            })
        );
    }

    #[test]
    fn test_document_uses_context_prefixes() {
        let doc = json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                         {"liq": "https://example.org/liquor/"}],
            "epcisBody": {"eventList": [event()]}
        });
        let context = Context::new().with_prefix("liq", "https://example.org/liquor/");
        assert_eq!(
            document_event_hashes(&doc),
            Ok(vec![event_hash_id(&event(), &context).expect("valid")])
        );
    }
}
