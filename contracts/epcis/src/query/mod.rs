//! The EPCIS 2.0 REST query subset a jiu node serves (`GET /events`, `GET /epcs/{epc}/events`,
//! ...): SimpleEventQuery parameters parsed into a [`Query`], matched against stored events,
//! paged, and returned as an EPCISQueryDocument.
//!
//! Supported parameters (pipe-delimited lists where the binding says so, `a|b`):
//! `eventType`, `GE_eventTime`, `LT_eventTime`, `GE_recordTime`, `LT_recordTime`,
//! `EQ_action`, `EQ_bizStep`, `EQ_disposition`, `EQ_readPoint`, `EQ_bizLocation`,
//! `EQ_eventID`, `MATCH_epc`, `MATCH_parentID`, `MATCH_inputEPC`, `MATCH_outputEPC`,
//! `MATCH_anyEPC`, `MATCH_epcClass`, `MATCH_inputEPCClass`, `MATCH_outputEPCClass`,
//! `MATCH_anyEPCClass`, `orderBy` (`eventTime` or `recordTime`), `orderDirection` (`ASC`,
//! `DESC`; default `DESC`), `perPage` (default [`PER_PAGE_DEFAULT`], larger values are
//! cut to [`PER_PAGE_MAX`]) and `nextPageToken`. Other SimpleEventQuery parameters are
//! refused as unsupported, anything else as unknown: both are the binding's
//! `QueryParameterException`, never silently ignored (a dropped filter would return
//! events the client did not ask for).
//!
//! Matching: CBV values in any spelling match each other (`shipping`,
//! `https://ref.gs1.org/cbv/BizStep-shipping`, `urn:epcglobal:cbv:bizstep:shipping`);
//! identifiers are compared in [`canonical_uri`] form, so an EPC URN and a Digital Link URI
//! of the same bottle match; `urn:epc:idpat:sgtin:<prefix>.<item>.*` matches every serial
//! of that GTIN. The class parameters match the `epcClass` of the quantity lists
//! (`quantityList` and `childQuantityList` for `MATCH_epcClass`, `inputQuantityList`,
//! `outputQuantityList`, all four for `MATCH_anyEPCClass`): an LGTIN
//! (`urn:epc:class:lgtin:...` or `/01/{gtin}/10/{lot}`) or a GTIN class matches itself, and
//! `urn:epc:idpat:sgtin:<prefix>.<item>.*` matches the GTIN's class and every lot of it. CURIE values are compared as written: the stored event no longer carries
//! its document's `@context`.
//!
//! Paging: without `orderBy` events keep the order the caller gives (the node's capture
//! order); with it, a stable sort on the time field, events without it last. The page token
//! is an offset into that list, bound to the query's filters by a fingerprint, so it
//! cannot be replayed against another query. It is not a snapshot: events captured between
//! two page requests can shift the pages (a client that needs a fixed view adds
//! `LT_recordTime`).

mod params;

use serde_json::{json, Map, Value};

use crate::cbv::Vocab;
use crate::{canonical_uri, parse_time_ms, JIU_NAMESPACE};
use params::{
    actions, bad, check_name, class_matchers, direction, fingerprint, ids, list, matchers,
    order_field, parse_token, per_page, term_key, terms, time, token,
};

/// `perPage` when the client gives none (the REST binding's default).
pub const PER_PAGE_DEFAULT: usize = 30;
/// Largest page served; a larger `perPage` is cut to it (the binding allows a server cap).
pub const PER_PAGE_MAX: usize = 1000;
/// Most query parameters in one request.
pub const PARAMS_MAX: usize = 32;
/// Most values in one pipe-delimited parameter.
pub const VALUES_MAX: usize = 100;
/// Longest parameter value, in bytes.
pub const VALUE_BYTES_MAX: usize = 2048;
/// The JSON-LD context of every EPCIS 2.0 document.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// `queryName` of the result document.
pub const QUERY_NAME: &str = "SimpleEventQuery";
/// The binding's exception type for every [`QueryError`].
pub const QUERY_PARAMETER_EXCEPTION: &str = "epcisException:QueryParameterException";

/// A refused query: the REST binding's `QueryParameterException` (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown query parameter `{0}`")]
    UnknownParameter(String),
    #[error("query parameter `{0}` is not supported by this node")]
    UnsupportedParameter(String),
    #[error("query parameter `{0}` is given more than once")]
    RepeatedParameter(String),
    #[error("more than {PARAMS_MAX} query parameters")]
    TooManyParameters,
    #[error("query parameter `{name}`: {reason}")]
    BadValue { name: String, reason: String },
    #[error("nextPageToken was not issued for this query")]
    BadPageToken,
}

impl QueryError {
    /// The exception type of the REST binding (`type` of the problem document).
    pub fn exception(&self) -> &'static str {
        QUERY_PARAMETER_EXCEPTION
    }

    /// The RFC 7807 problem document the binding answers with (status 400).
    pub fn problem(&self) -> Value {
        json!({
            "type": self.exception(),
            "title": "Invalid query parameter",
            "status": 400,
            "detail": self.to_string(),
        })
    }
}

/// The time field results are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    EventTime,
    RecordTime,
}

impl OrderBy {
    fn field(self) -> &'static str {
        match self {
            OrderBy::EventTime => "eventTime",
            OrderBy::RecordTime => "recordTime",
        }
    }
}

/// Results order: field and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub by: OrderBy,
    pub descending: bool,
}

/// One `MATCH_*` value: an identifier (canonical form) or a serial wildcard over a GTIN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EpcMatcher {
    Exact(String),
    /// Canonical Digital Link of the GTIN followed by `/21/`.
    SerialsOf(String),
    /// Canonical Digital Link of a GTIN: the GTIN's class and its lots (`/10/...`).
    ClassesOf(String),
}

impl EpcMatcher {
    fn parse(name: &str, value: &str) -> Result<Self, QueryError> {
        if !value.starts_with("urn:epc:idpat:") {
            return Ok(EpcMatcher::Exact(canonical_uri(value)));
        }
        let class = canonical_uri(value);
        let is_gtin_class = value.starts_with("urn:epc:idpat:sgtin:")
            && value.ends_with(".*")
            && class.starts_with("https://id.gs1.org/01/");
        if is_gtin_class {
            Ok(EpcMatcher::SerialsOf(format!("{class}/21/")))
        } else {
            Err(bad(
                name,
                format!(
                    "pattern {value} is not supported; use urn:epc:idpat:sgtin:<prefix>.<item>.*"
                ),
            ))
        }
    }

    /// A `MATCH_*Class` value: a class as itself, or an SGTIN pattern as every class of its
    /// GTIN.
    fn parse_class(name: &str, value: &str) -> Result<Self, QueryError> {
        match EpcMatcher::parse(name, value)? {
            EpcMatcher::SerialsOf(serials) => {
                let gtin = serials.trim_end_matches("/21/").to_owned();
                Ok(EpcMatcher::ClassesOf(gtin))
            }
            other => Ok(other),
        }
    }

    fn matches(&self, canonical: &str) -> bool {
        match self {
            EpcMatcher::Exact(id) => id == canonical,
            EpcMatcher::SerialsOf(prefix) => canonical.starts_with(prefix.as_str()),
            EpcMatcher::ClassesOf(gtin) => canonical
                .strip_prefix(gtin.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("/10/")),
        }
    }
}

/// A parsed SimpleEventQuery. Empty lists mean "no constraint".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    event_types: Vec<String>,
    ge_event_time_ms: Option<i64>,
    lt_event_time_ms: Option<i64>,
    ge_record_time_ms: Option<i64>,
    lt_record_time_ms: Option<i64>,
    actions: Vec<String>,
    /// Web URIs for CBV terms, other values as written.
    biz_steps: Vec<String>,
    dispositions: Vec<String>,
    /// Canonical identifiers.
    read_points: Vec<String>,
    biz_locations: Vec<String>,
    event_ids: Vec<String>,
    match_epc: Vec<EpcMatcher>,
    match_parent_id: Vec<EpcMatcher>,
    match_input_epc: Vec<EpcMatcher>,
    match_output_epc: Vec<EpcMatcher>,
    match_any_epc: Vec<EpcMatcher>,
    match_epc_class: Vec<EpcMatcher>,
    match_input_epc_class: Vec<EpcMatcher>,
    match_output_epc_class: Vec<EpcMatcher>,
    match_any_epc_class: Vec<EpcMatcher>,
    order: Option<Order>,
    per_page: usize,
    offset: usize,
    fingerprint: String,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    pub events: Vec<&'a Value>,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

impl Default for Query {
    fn default() -> Self {
        Self {
            event_types: Vec::new(),
            ge_event_time_ms: None,
            lt_event_time_ms: None,
            ge_record_time_ms: None,
            lt_record_time_ms: None,
            actions: Vec::new(),
            biz_steps: Vec::new(),
            dispositions: Vec::new(),
            read_points: Vec::new(),
            biz_locations: Vec::new(),
            event_ids: Vec::new(),
            match_epc: Vec::new(),
            match_parent_id: Vec::new(),
            match_input_epc: Vec::new(),
            match_output_epc: Vec::new(),
            match_any_epc: Vec::new(),
            match_epc_class: Vec::new(),
            match_input_epc_class: Vec::new(),
            match_output_epc_class: Vec::new(),
            match_any_epc_class: Vec::new(),
            order: None,
            per_page: PER_PAGE_DEFAULT,
            offset: 0,
            fingerprint: fingerprint(&[]),
        }
    }
}

impl Query {
    /// Parses decoded query-string pairs (`?EQ_bizStep=shipping|receiving` gives
    /// `("EQ_bizStep", "shipping|receiving")`). Resource paths map onto parameters:
    /// `/epcs/{epc}/events` is `MATCH_anyEPC={epc}`, `/eventTypes/{t}/events` is
    /// `eventType={t}`, `/bizSteps/{s}/events` is `EQ_bizStep={s}`, and so on.
    pub fn from_params(params: &[(String, String)]) -> Result<Query, QueryError> {
        if params.len() > PARAMS_MAX {
            return Err(QueryError::TooManyParameters);
        }
        let mut seen: Vec<&str> = Vec::with_capacity(params.len());
        for (name, value) in params {
            check_name(name)?;
            if seen.contains(&name.as_str()) {
                return Err(QueryError::RepeatedParameter(name.clone()));
            }
            seen.push(name);
            if value.len() > VALUE_BYTES_MAX {
                return Err(bad(name, format!("longer than {VALUE_BYTES_MAX} bytes")));
            }
        }
        let mut query = Query {
            fingerprint: fingerprint(params),
            ..Query::default()
        };
        let mut order_by = None;
        let mut descending = true;
        let mut token = None;
        for (name, value) in params {
            let name = name.as_str();
            match name {
                "eventType" => query.event_types = list(name, value)?,
                "GE_eventTime" => query.ge_event_time_ms = Some(time(name, value)?),
                "LT_eventTime" => query.lt_event_time_ms = Some(time(name, value)?),
                "GE_recordTime" => query.ge_record_time_ms = Some(time(name, value)?),
                "LT_recordTime" => query.lt_record_time_ms = Some(time(name, value)?),
                "EQ_action" => query.actions = actions(name, value)?,
                "EQ_bizStep" => query.biz_steps = terms(name, value, Vocab::BizStep)?,
                "EQ_disposition" => query.dispositions = terms(name, value, Vocab::Disposition)?,
                "EQ_readPoint" => query.read_points = ids(name, value)?,
                "EQ_bizLocation" => query.biz_locations = ids(name, value)?,
                "EQ_eventID" => query.event_ids = list(name, value)?,
                "MATCH_epc" => query.match_epc = matchers(name, value)?,
                "MATCH_parentID" => query.match_parent_id = matchers(name, value)?,
                "MATCH_inputEPC" => query.match_input_epc = matchers(name, value)?,
                "MATCH_outputEPC" => query.match_output_epc = matchers(name, value)?,
                "MATCH_anyEPC" => query.match_any_epc = matchers(name, value)?,
                "MATCH_epcClass" => query.match_epc_class = class_matchers(name, value)?,
                "MATCH_inputEPCClass" => query.match_input_epc_class = class_matchers(name, value)?,
                "MATCH_outputEPCClass" => {
                    query.match_output_epc_class = class_matchers(name, value)?
                }
                "MATCH_anyEPCClass" => query.match_any_epc_class = class_matchers(name, value)?,
                "orderBy" => order_by = Some(order_field(name, value)?),
                "orderDirection" => descending = direction(name, value)?,
                "perPage" => query.per_page = per_page(name, value)?,
                "nextPageToken" => token = Some(value.as_str()),
                // check_name let only SUPPORTED names through.
                _ => return Err(QueryError::UnknownParameter(name.to_owned())),
            }
        }
        query.order = order_by.map(|by| Order { by, descending });
        if let Some(token) = token {
            query.offset = parse_token(token, &query.fingerprint)?;
        }
        Ok(query)
    }

    /// Events per page.
    pub fn per_page(&self) -> usize {
        self.per_page
    }

    /// The requested order, if any.
    pub fn order(&self) -> Option<Order> {
        self.order
    }

    /// Whether `event` (one EPCIS event as stored, with `recordTime` if the node set one)
    /// meets every filter. Never panics; a malformed event simply does not match a filter
    /// on the field it lacks.
    pub fn matches(&self, event: &Value) -> bool {
        let Some(fields) = event.as_object() else {
            return false;
        };
        self.matches_what_and_when(fields)
            && self.matches_why_and_where(fields)
            && self.matches_epcs(fields)
            && self.matches_classes(fields)
    }

    fn matches_classes(&self, e: &Map<String, Value>) -> bool {
        let any_of = |matchers: &[EpcMatcher], keys: &[&str]| {
            matchers.is_empty()
                || keys.iter().any(|key| {
                    classes_at(e, key).any(|class| {
                        let class = canonical_uri(class);
                        matchers.iter().any(|m| m.matches(&class))
                    })
                })
        };
        any_of(
            &self.match_epc_class,
            &["quantityList", "childQuantityList"],
        ) && any_of(&self.match_input_epc_class, &["inputQuantityList"])
            && any_of(&self.match_output_epc_class, &["outputQuantityList"])
            && any_of(
                &self.match_any_epc_class,
                &[
                    "quantityList",
                    "childQuantityList",
                    "inputQuantityList",
                    "outputQuantityList",
                ],
            )
    }

    fn matches_what_and_when(&self, e: &Map<String, Value>) -> bool {
        let in_list = |list: &[String], key: &str| {
            list.is_empty() || text(e, key).is_some_and(|v| list.iter().any(|x| x == v))
        };
        in_list(&self.event_types, "type")
            && in_list(&self.actions, "action")
            && in_list(&self.event_ids, "eventID")
            && in_range(
                time_of(e, "eventTime"),
                self.ge_event_time_ms,
                self.lt_event_time_ms,
            )
            && in_range(
                time_of(e, "recordTime"),
                self.ge_record_time_ms,
                self.lt_record_time_ms,
            )
    }

    fn matches_why_and_where(&self, e: &Map<String, Value>) -> bool {
        let term_in = |list: &[String], key: &str, vocab: Vocab| {
            list.is_empty()
                || text(e, key).is_some_and(|v| {
                    let v = term_key(vocab, v);
                    list.contains(&v)
                })
        };
        let id_in = |list: &[String], key: &str| {
            list.is_empty()
                || e.get(key)
                    .and_then(|place| place.get("id"))
                    .and_then(Value::as_str)
                    .is_some_and(|id| list.contains(&canonical_uri(id)))
        };
        term_in(&self.biz_steps, "bizStep", Vocab::BizStep)
            && term_in(&self.dispositions, "disposition", Vocab::Disposition)
            && id_in(&self.read_points, "readPoint")
            && id_in(&self.biz_locations, "bizLocation")
    }

    fn matches_epcs(&self, e: &Map<String, Value>) -> bool {
        let any_of = |matchers: &[EpcMatcher], keys: &[&str]| {
            matchers.is_empty()
                || keys.iter().any(|key| {
                    ids_at(e, key).any(|id| {
                        let id = canonical_uri(id);
                        matchers.iter().any(|m| m.matches(&id))
                    })
                })
        };
        any_of(&self.match_epc, &["epcList", "childEPCs"])
            && any_of(&self.match_parent_id, &["parentID"])
            && any_of(&self.match_input_epc, &["inputEPCList"])
            && any_of(&self.match_output_epc, &["outputEPCList"])
            && any_of(
                &self.match_any_epc,
                &[
                    "epcList",
                    "childEPCs",
                    "parentID",
                    "inputEPCList",
                    "outputEPCList",
                ],
            )
    }

    /// Filters, orders and pages `events` (the candidates in the node's order, e.g. capture
    /// order, or those an index found for `MATCH_anyEPC`). Deterministic for a given input.
    pub fn select<'a, I>(&self, events: I) -> Page<'a>
    where
        I: IntoIterator<Item = &'a Value>,
    {
        let mut hits: Vec<&'a Value> = events.into_iter().filter(|e| self.matches(e)).collect();
        if let Some(order) = self.order {
            let key = |e: &Value| {
                e.get(order.by.field())
                    .and_then(Value::as_str)
                    .and_then(parse_time_ms)
            };
            // Stable sort: ties keep the caller's order; events without the field go last.
            hits.sort_by(|a, b| match (key(a), key(b)) {
                (Some(x), Some(y)) if order.descending => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        let end = self.offset.saturating_add(self.per_page);
        let next_page_token = (hits.len() > end).then(|| token(end, &self.fingerprint));
        let events = hits
            .into_iter()
            .skip(self.offset)
            .take(self.per_page)
            .collect();
        Page {
            events,
            next_page_token,
        }
    }
}

/// An EPCISQueryDocument holding `events` (as stored). The REST binding carries the next
/// page in the `Link` header (`<...?nextPageToken=...>; rel="next"`), which the node sets;
/// the token is also written into `queryResults` as the extension field
/// `jiu:nextPageToken` so a client reading only the body can page on. No `creationDate`:
/// this function has no clock; the node may add one.
pub fn query_document<'a, I>(events: I, next_page_token: Option<&str>) -> Value
where
    I: IntoIterator<Item = &'a Value>,
{
    let events: Vec<Value> = events.into_iter().cloned().collect();
    let mut results = json!({
        "queryName": QUERY_NAME,
        "resultsBody": {"eventList": events},
    });
    if let (Some(token), Some(fields)) = (next_page_token, results.as_object_mut()) {
        fields.insert("jiu:nextPageToken".to_owned(), Value::from(token));
    }
    json!({
        "@context": [EPCIS_CONTEXT, {"jiu": JIU_NAMESPACE}],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "epcisBody": {"queryResults": results},
    })
}

fn text<'a>(e: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    e.get(key).and_then(Value::as_str)
}

fn time_of(e: &Map<String, Value>, key: &str) -> Option<i64> {
    text(e, key).and_then(parse_time_ms)
}

fn in_range(t: Option<i64>, ge: Option<i64>, lt: Option<i64>) -> bool {
    if ge.is_none() && lt.is_none() {
        return true;
    }
    t.is_some_and(|t| ge.is_none_or(|ge| t >= ge) && lt.is_none_or(|lt| t < lt))
}

/// The identifier strings at `key`: a list of strings, or for `parentID` one string.
fn ids_at<'a>(e: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a str> {
    let (list, single) = match e.get(key) {
        Some(Value::Array(items)) => (items.as_slice(), None),
        Some(Value::String(s)) if key == "parentID" => (&[][..], Some(s.as_str())),
        _ => (&[][..], None),
    };
    list.iter().filter_map(Value::as_str).chain(single)
}

/// The `epcClass` of each entry of the quantity list at `key`.
fn classes_at<'a>(e: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a str> {
    let list = match e.get(key) {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    list.iter()
        .filter_map(|q| q.get("epcClass").and_then(Value::as_str))
}

#[cfg(test)]
mod tests;
