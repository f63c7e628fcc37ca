//! The document envelope: what makes JSON an EPCIS 2.0 document this chain reads, its
//! bounds, and what events borrow from it (namespace prefixes, location master data, hash
//! IDs).

use std::collections::BTreeMap;

use jiu_epcis::{canonical_uri, document_event_hash_results, Context, HashError};
use serde_json::Value;

use super::error::CaptureError;
use super::event::epc_count;
use super::{DOCUMENT_CODES_MAX, EVENTS_MAX};

/// What the events of a document share.
#[derive(Debug, Default)]
pub(super) struct DocCtx {
    /// Namespace prefixes declared in `@context`.
    pub context: Context,
    /// City of each business location described in the header's master data, keyed by the
    /// canonical location id.
    pub cities: BTreeMap<String, String>,
}

/// A checked document: its events, their hash IDs (or why one has none) and context.
pub(super) struct Envelope<'a> {
    pub events: &'a [Value],
    pub hashes: Vec<Result<String, HashError>>,
    pub ctx: DocCtx,
}

const VTYPE_BUSINESS_LOCATION: &str = "urn:epcglobal:epcis:vtype:BusinessLocation";

/// Attribute ids of a location's city: CBV master data `city`, as the EPCIS 2.0 context
/// spells it (`cbvmda:` is `urn:epcglobal:cbv:mda:`) and as CBV 1.x did.
const CITY_ATTRIBUTES: [&str; 3] = [
    "urn:epcglobal:cbv:mda:city",
    "cbvmda:city",
    "urn:epcglobal:cbv:mda#city",
];

fn not_epcis(reason: impl Into<String>) -> CaptureError {
    CaptureError::NotEpcisDocument {
        reason: reason.into(),
    }
}

/// Checks the envelope and bounds of `doc`, then hashes its events.
pub(super) fn open(doc: &Value) -> Result<Envelope<'_>, CaptureError> {
    let fields = doc
        .as_object()
        .ok_or_else(|| not_epcis("the document is not a JSON object"))?;
    let is_query_document = match fields.get("type").and_then(Value::as_str) {
        Some("EPCISDocument") => false,
        Some("EPCISQueryDocument") => true,
        Some(other) => {
            return Err(not_epcis(format!(
                "type is {other:?}, expected EPCISDocument or EPCISQueryDocument"
            )))
        }
        None => return Err(not_epcis("type is missing or not a string")),
    };
    let context = match fields.get("@context") {
        Some(context @ (Value::String(_) | Value::Array(_) | Value::Object(_))) => context,
        _ => return Err(not_epcis("@context is missing or malformed")),
    };
    match fields.get("schemaVersion") {
        Some(Value::String(version)) if is_epcis_2_0(version) => {}
        Some(Value::String(version)) => {
            return Err(CaptureError::UnsupportedSchemaVersion {
                version: version.clone(),
            })
        }
        None if is_query_document => {}
        Some(_) | None => return Err(not_epcis("schemaVersion is missing or not a string")),
    }
    let events = event_list(doc, is_query_document)?;
    if events.len() > EVENTS_MAX {
        return Err(CaptureError::TooManyEvents {
            len: events.len(),
            max: EVENTS_MAX,
        });
    }
    let codes: usize = events.iter().map(epc_count).sum();
    if codes > DOCUMENT_CODES_MAX {
        return Err(CaptureError::TooManyCodes {
            len: codes,
            max: DOCUMENT_CODES_MAX,
        });
    }
    let hashes = document_event_hash_results(doc).map_err(|e| not_epcis(e.to_string()))?;
    assert_eq!(
        hashes.len(),
        events.len(),
        "the hasher reads the same event list as the mapping (event_list refuses the one \
         shape where they could differ)"
    );
    Ok(Envelope {
        events,
        hashes,
        ctx: DocCtx {
            context: Context::from_jsonld(context),
            cities: cities(doc),
        },
    })
}

/// `2.0`, or `2.0.<patch>`.
fn is_epcis_2_0(version: &str) -> bool {
    match version.strip_prefix("2.0") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

fn event_list(doc: &Value, is_query_document: bool) -> Result<&[Value], CaptureError> {
    let body = doc.get("epcisBody");
    if is_query_document && body.and_then(|b| b.get("eventList")).is_some() {
        // The hasher would read this list first; one document, one event list.
        return Err(not_epcis(
            "an EPCISQueryDocument holds its events in queryResults, not epcisBody.eventList",
        ));
    }
    let (list, path) = if is_query_document {
        (
            doc.get("epcisBody")
                .and_then(|b| b.get("queryResults"))
                .and_then(|r| r.get("resultsBody"))
                .and_then(|r| r.get("eventList")),
            "epcisBody.queryResults.resultsBody.eventList",
        )
    } else {
        (
            doc.get("epcisBody").and_then(|b| b.get("eventList")),
            "epcisBody.eventList",
        )
    };
    match list {
        Some(Value::Array(events)) => Ok(events),
        Some(_) => Err(not_epcis(format!("{path} is not a list"))),
        None => Err(not_epcis(format!("{path} is missing"))),
    }
}

/// Cities from `epcisHeader.epcisMasterData.vocabularyList`: business locations with a
/// string `city` attribute. Malformed master data is skipped (it is only a source of city
/// names); where a location is described twice, the first city stands.
fn cities(doc: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let vocabularies = doc
        .get("epcisHeader")
        .and_then(|h| h.get("epcisMasterData"))
        .and_then(|m| m.get("vocabularyList"))
        .and_then(Value::as_array);
    let locations = vocabularies
        .into_iter()
        .flatten()
        .filter(|v| v.get("type").and_then(Value::as_str) == Some(VTYPE_BUSINESS_LOCATION))
        .filter_map(|v| v.get("vocabularyElementList").and_then(Value::as_array))
        .flatten();
    for element in locations {
        let Some(id) = element.get("id").and_then(Value::as_str) else {
            continue;
        };
        let attributes = element.get("attributes").and_then(Value::as_array);
        let city = attributes.into_iter().flatten().find_map(|a| {
            let is_city = a
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| CITY_ATTRIBUTES.contains(&id));
            let value = a.get("attribute").and_then(Value::as_str);
            value.filter(|v| is_city && !v.trim().is_empty())
        });
        if let Some(city) = city {
            out.entry(canonical_uri(id))
                .or_insert_with(|| city.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_schema_versions() {
        for v in ["2.0", "2.0.0", "2.0.1"] {
            assert!(is_epcis_2_0(v), "{v}");
        }
        for v in ["2", "2.1", "1.2", "2.0.", "2.0.x", "2.00", "20", ""] {
            assert!(!is_epcis_2_0(v), "{v}");
        }
    }
}
