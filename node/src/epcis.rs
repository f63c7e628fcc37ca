//! EPCIS 2.0 capture and query over the chain (REST binding subset).
//!
//! - `POST /capture` (partner token required): the document is checked against the official
//!   JSON schema when the node has it (`epcis_schema`), mapped event by event against the
//!   committed registry (every refused event is reported with its index, field and reason,
//!   and nothing is submitted), then signed with the node's org key (`capture_key`) as one
//!   `Capture` tx. Answer: 202 with `Location: /capture/{captureID}`; the capture ID is the
//!   tx id.
//! - `GET /capture/{id}`: the capture job: running while the tx is pending, then success or
//!   the refusal.
//! - `GET /events?...` (a SimpleEventQuery subset, see `jiu_epcis::query`) and
//!   `GET /epcs/{epc}/events`: an EPCISQueryDocument of the captured events. Every node
//!   stores every captured event (the documents are in the blocks), with `recordTime` set
//!   to the block time.

use jiu_contracts::{Payload, Receipt, SignedTx};
use jiu_epcis::canonical_uri;
use serde_json::Value;

use crate::db::Col;

/// Most events a query reads when no EPC index narrows it: the newest this many.
pub const QUERY_SCAN_MAX: usize = 100_000;

/// The event-store rows of one finalized block. The documents come from the receipts: the
/// events as written and as mapped when the tx applied, so the store holds what consensus
/// captured. One EPC index row per EPC and tx lists the tx's events naming it: a packing
/// document names each bottle twice (commissioning, then packing), and one row for both
/// halved the index's rows and its compaction work at ten million bottles.
pub fn rows_for_block(
    height: u64,
    time_ms: u64,
    receipts: &[Receipt],
) -> Vec<(Col, Vec<u8>, Vec<u8>)> {
    let record_time = rfc3339(time_ms);
    let mut rows = Vec::new();
    for (tx_index, receipt) in receipts.iter().enumerate() {
        let Some(captured) = &receipt.captured else {
            continue; // not a capture, or refused with an alert: nothing was captured
        };
        let tx_key = [
            height.to_be_bytes().as_slice(),
            &(tx_index as u32).to_be_bytes(),
        ]
        .concat();
        // (EPC, event index) for every EPC an event names, then one index row per EPC.
        let mut named: Vec<(&str, u32)> = Vec::new();
        for mapped in &captured.mapped {
            let Some(event) = captured.events.get(mapped.index) else {
                continue;
            };
            let event_index = mapped.index as u32;
            let stored = StoredEvent {
                event,
                record_time: &record_time,
                hash_id: &mapped.hash_id,
            };
            named.extend(
                mapped
                    .epcs
                    .iter()
                    .map(|e| (e.canonical.as_str(), event_index)),
            );
            rows.push((
                Col::Events,
                [tx_key.as_slice(), &event_index.to_be_bytes()].concat(),
                serde_json::to_vec(&stored).unwrap_or_default(),
            ));
        }
        named.sort_unstable();
        named.dedup();
        let mut named = named.into_iter().peekable();
        while let Some((epc, first)) = named.next() {
            let mut events = first.to_be_bytes().to_vec();
            while let Some((_, index)) = named.next_if(|(next, _)| *next == epc) {
                events.extend_from_slice(&index.to_be_bytes());
            }
            let key = [epc.as_bytes(), &[0], &tx_key].concat();
            rows.push((Col::EpcIndex, key, events));
        }
    }
    rows
}

/// A captured event as the store keeps it: its fields with `recordTime` (the block's time,
/// replacing any the document gave) and, if it has none, `eventID` (its CBV hash ID). Written
/// in key order, as a `serde_json` map of the same fields would be, without copying the
/// event (a packing event names hundreds of EPCs). An event that is not an object is
/// written as it is.
struct StoredEvent<'a> {
    event: &'a Value,
    record_time: &'a str,
    hash_id: &'a str,
}

impl serde::Serialize for StoredEvent<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(fields) = self.event.as_object() else {
            return self.event.serialize(serializer);
        };
        // In key order ("eventID" < "recordTime"); each goes where a map would put it. An
        // event's own eventID stays.
        let has_id = fields.contains_key("eventID");
        let mut added = [("eventID", self.hash_id), ("recordTime", self.record_time)]
            .into_iter()
            .filter(|(name, _)| !(has_id && *name == "eventID"))
            .peekable();
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in fields {
            while let Some((name, text)) = added.next_if(|(name, _)| *name < key.as_str()) {
                map.serialize_entry(name, text)?;
            }
            if let Some((name, text)) = added.next_if(|(name, _)| *name == key.as_str()) {
                map.serialize_entry(name, text)?;
                continue;
            }
            map.serialize_entry(key, value)?;
        }
        for (name, text) in added {
            map.serialize_entry(name, text)?;
        }
        map.end()
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    format!(
        "{year:04}-{month:02}-{d:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        ms % 1000
    )
}

// ---- RPC handlers ------------------------------------------------------------------------

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiu_contracts::{Hash, PublicKey, TxBody};
use serde_json::json;

use crate::rpc::{parse_hash, ApiError, ApiResult};
use crate::shared::{Shared, SubmitError};

/// How long a capture tx stays valid, in heights.
const CAPTURE_TTL_HEIGHTS: u64 = 100;

/// `POST /capture`.
pub async fn capture(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if crate::rpc::viewer(&shared, &headers)? != crate::verify::Viewer::Partner {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "capture needs a partner token (Authorization: Bearer ...)",
        ));
    }
    let Some(key) = shared.info.capture_key.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "CAPTURE_DISABLED",
            "this node has no capture_key: it cannot sign captures for an organisation",
        ));
    };
    let document = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            "body is not UTF-8",
        )
    })?;
    let doc: Value = serde_json::from_str(&document).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("body is not JSON: {e}"),
        )
    })?;
    let shared2 = shared.clone();
    let checked =
        tokio::task::spawn_blocking(move || -> ApiResult<(Hash, Option<Vec<u8>>, usize)> {
            if let Some(schema) = &shared2.info.epcis_schema {
                if let Err(violations) = schema.validate(&doc) {
                    let details: Vec<Value> = violations
                        .iter()
                        .map(|v| json!({ "pointer": v.pointer, "message": v.message }))
                        .collect();
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "SCHEMA_INVALID",
                        format!(
                            "the document does not match the EPCIS 2.0 JSON schema ({} violations)",
                            details.len()
                        ),
                    )
                    .with_details(Value::Array(details)));
                }
            }
            let committed = shared2.committed();
            let events = committed
                .state
                .preview_capture(&doc)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
            let refused: Vec<Value> = events
                .iter()
                .filter_map(|e| e.as_ref().err())
                .map(|e| {
                    json!({
                        "event": e.event_index(),
                        "code": e.code(),
                        "message": e.to_string(),
                    })
                })
                .collect();
            if !refused.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "CAPTURE_INVALID",
                    format!(
                        "{} of {} events refused; nothing captured",
                        refused.len(),
                        events.len()
                    ),
                )
                .with_details(Value::Array(refused)));
            }
            let body = TxBody {
                chain_id: shared2.info.genesis.chain_id.clone(),
                signer: PublicKey::from_signing_key(&key),
                // Distinct per submission, so capturing the same document again is a new tx (the
                // lifecycle then refuses what cannot happen twice).
                nonce: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0),
                expires_at_height: committed.tip.height + CAPTURE_TTL_HEIGHTS,
                payload: Payload::Capture { document },
            };
            let tx = SignedTx::sign(body, &key).encode();
            // A follower hands the signed capture to a validator (outside the blocking pool).
            match shared2.submit(&tx) {
                Ok(id) => Ok((id, None, events.len())),
                Err(SubmitError::NotAValidator(id)) if shared2.forwarder.is_some() => {
                    Ok((id, Some(tx), events.len()))
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
        .map_err(ApiError::internal)?;
    let (id, hand_on, events) = checked?;
    if let (Some(tx), Some(forwarder)) = (hand_on, &shared.forwarder) {
        let answer = forwarder.tx(id, tx).await;
        if !answer.status.is_success() {
            return Ok(crate::rpc::forwarded(answer));
        }
    }
    let id = hex::encode(id);
    let location = format!("/capture/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location.clone())],
        Json(json!({ "captureID": id, "location": location, "events": events })),
    )
        .into_response())
}

/// `GET /capture/{id}`: the capture job, per the REST binding.
pub async fn capture_job(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let hash = parse_hash(&id)?;
    if let Some(location) = shared.db.tx_location(&hash).map_err(ApiError::internal)? {
        let events: Value = serde_json::from_slice(&location.events).unwrap_or(json!([]));
        let alert = events
            .as_array()
            .and_then(|list| list.iter().find(|e| e["type"] == "alert_raised"))
            .cloned();
        let errors = match &alert {
            Some(alert) => json!([{
                "code": alert["reason_code"], "message": alert["reason"],
                "note": "the refusal was recorded as an alert; no event changed any record",
            }]),
            None => json!([]),
        };
        return Ok(Json(json!({
            "captureID": id, "running": false, "success": alert.is_none(),
            "captureErrorBehaviour": "rollback",
            "height": location.height, "errors": errors, "receipt": events,
        })));
    }
    let forwarded = shared
        .forwarder
        .as_ref()
        .is_some_and(|f| f.forwarded(&hash));
    if shared.mempool.contains(&hash) || forwarded {
        return Ok(Json(json!({
            "captureID": id, "running": true, "success": false,
            "captureErrorBehaviour": "rollback", "errors": [],
        })));
    }
    if let Some(error) = shared.mempool.rejection(&hash) {
        return Ok(Json(json!({
            "captureID": id, "running": false, "success": false,
            "captureErrorBehaviour": "rollback",
            "errors": [{ "code": error.code(), "message": error.to_string() }],
        })));
    }
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no capture job {id}"),
    ))
}

/// `GET /events?...`: a SimpleEventQuery over the captured events.
pub async fn events(
    AxumState(shared): AxumState<Arc<Shared>>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    run_query(shared, params).await
}

/// `GET /epcs/{epc}/events`: the events naming one EPC.
pub async fn epc_events(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(rest): Path<String>,
    Query(mut params): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let Some(epc) = rest.strip_suffix("/events") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "expected /epcs/{epc}/events",
        ));
    };
    params.push(("MATCH_anyEPC".to_string(), epc.to_string()));
    run_query(shared, params).await
}

async fn run_query(shared: Arc<Shared>, params: Vec<(String, String)>) -> ApiResult<Response> {
    let query = jiu_epcis::query::Query::from_params(&params).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, e.exception(), e.to_string())
            .with_details(e.problem())
    })?;
    tokio::task::spawn_blocking(move || -> ApiResult<Response> {
        // An exact EPC narrows the candidates through the index; otherwise the newest events.
        let exact: Vec<String> = params
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "MATCH_anyEPC" | "MATCH_epc" | "MATCH_parentID"))
            .flat_map(|(_, v)| v.split('|').map(str::to_string).collect::<Vec<_>>())
            .collect();
        let raw: Vec<Vec<u8>> = if !exact.is_empty() && exact.iter().all(|e| !e.contains("idpat")) {
            let mut all = Vec::new();
            for epc in &exact {
                all.extend(
                    shared
                        .db
                        .events_of_epc(&canonical_uri(epc), QUERY_SCAN_MAX)
                        .map_err(ApiError::internal)?,
                );
            }
            all
        } else {
            let mut newest = shared
                .db
                .events_newest(QUERY_SCAN_MAX)
                .map_err(ApiError::internal)?;
            newest.reverse();
            newest.into_iter().map(|(_, v)| v).collect()
        };
        let candidates: Vec<Value> = raw
            .iter()
            .filter_map(|bytes| serde_json::from_slice(bytes).ok())
            .collect();
        let page = query.select(candidates.iter());
        let mut document =
            jiu_epcis::query::query_document(page.events, page.next_page_token.as_deref());
        document["creationDate"] = Value::from(rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        ));
        let mut response = Json(document).into_response();
        if let Some(token) = page.next_page_token {
            let mut next: Vec<String> = params
                .iter()
                .filter(|(k, _)| k != "nextPageToken")
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            next.push(format!("nextPageToken={}", encode(&token)));
            if let Ok(value) = format!("<?{}>; rel=\"next\"", next.join("&")).parse() {
                response.headers_mut().insert(header::LINK, value);
            }
        }
        Ok(response)
    })
    .await
    .map_err(ApiError::internal)?
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_710_963_770), "2026-11-26T16:36:03.770Z");
        // Round trip through the EPCIS time parser.
        for ms in [1u64, 86_399_999, 4_102_444_800_000] {
            assert_eq!(jiu_epcis::parse_time_ms(&rfc3339(ms)), Some(ms as i64));
        }
    }

    /// What the store kept before `StoredEvent`: a copy of the event with the two fields
    /// inserted, written as a map.
    fn copied(event: &Value, record_time: &str, hash_id: &str) -> Vec<u8> {
        let mut event = event.clone();
        if let Some(fields) = event.as_object_mut() {
            fields.insert("recordTime".into(), Value::from(record_time));
            if !fields.contains_key("eventID") {
                fields.insert("eventID".into(), Value::from(hash_id));
            }
        }
        serde_json::to_vec(&event).expect("a value serializes")
    }

    #[test]
    fn test_stored_event_writes_what_a_copied_map_would() {
        let events = [
            serde_json::json!({"type": "ObjectEvent", "action": "ADD", "epcList": ["a", "b"]}),
            serde_json::json!({"eventID": "ni:///sha-256;00?ver=CBV2.0", "type": "ObjectEvent"}),
            serde_json::json!({"recordTime": "2001-01-01T00:00:00Z", "eventTime": "x", "z": 1}),
            serde_json::json!({"action": "ADD", "eventID": "urn:uuid:1", "recordTime": "old"}),
            serde_json::json!({"eventTimeZoneOffset": "+01:00", "readPoint": {"id": "r"}}),
            serde_json::json!({}),
            serde_json::json!(["not", "an", "object"]),
            serde_json::json!("text"),
        ];
        for event in &events {
            let stored = StoredEvent {
                event,
                record_time: "2026-11-27T21:00:00.000Z",
                hash_id: "ni:///sha-256;ab?ver=CBV2.0",
            };
            assert_eq!(
                String::from_utf8(serde_json::to_vec(&stored).expect("serializes")),
                String::from_utf8(copied(
                    event,
                    "2026-11-27T21:00:00.000Z",
                    "ni:///sha-256;ab?ver=CBV2.0"
                )),
                "{event}"
            );
        }
    }
}
