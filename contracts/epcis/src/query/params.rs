//! Query-string parameters: names, values, page tokens. Every refusal names the parameter.

use sha2::{Digest, Sha256};

use super::{EpcMatcher, OrderBy, QueryError, PER_PAGE_MAX, VALUES_MAX};
use crate::cbv::{self, Vocab};
use crate::{canonical_uri, parse_time_ms};

/// SimpleEventQuery parameters this node reads.
const SUPPORTED: [&str; 24] = [
    "eventType",
    "GE_eventTime",
    "LT_eventTime",
    "GE_recordTime",
    "LT_recordTime",
    "EQ_action",
    "EQ_bizStep",
    "EQ_disposition",
    "EQ_readPoint",
    "EQ_bizLocation",
    "EQ_eventID",
    "MATCH_epc",
    "MATCH_parentID",
    "MATCH_inputEPC",
    "MATCH_outputEPC",
    "MATCH_anyEPC",
    "MATCH_epcClass",
    "MATCH_inputEPCClass",
    "MATCH_outputEPCClass",
    "MATCH_anyEPCClass",
    "orderBy",
    "orderDirection",
    "perPage",
    "nextPageToken",
];

/// SimpleEventQuery parameters this node refuses as unsupported.
const EPCIS_OTHER: [&str; 2] = ["eventCountLimit", "maxEventCount"];

/// Name shapes of the other SimpleEventQuery parameters (EPCIS 2.0 section 8.2.7.1).
const EPCIS_PREFIXES: [&str; 10] = [
    "EQ_", "GT_", "GE_", "LT_", "LE_", "EXISTS_", "MATCH_", "WD_", "HASATTR_", "EQATTR_",
];

pub(super) fn bad(name: &str, reason: impl Into<String>) -> QueryError {
    QueryError::BadValue {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

pub(super) fn check_name(name: &str) -> Result<(), QueryError> {
    if SUPPORTED.contains(&name) {
        Ok(())
    } else if EPCIS_OTHER.contains(&name) || EPCIS_PREFIXES.iter().any(|p| name.starts_with(p)) {
        Err(QueryError::UnsupportedParameter(name.to_owned()))
    } else {
        Err(QueryError::UnknownParameter(name.to_owned()))
    }
}

/// A pipe-delimited list of 1 to `VALUES_MAX` non-empty values.
pub(super) fn list(name: &str, value: &str) -> Result<Vec<String>, QueryError> {
    let items: Vec<String> = value.split('|').map(str::to_owned).collect();
    if items.len() > VALUES_MAX {
        return Err(bad(name, format!("more than {VALUES_MAX} values")));
    }
    if items.iter().any(String::is_empty) {
        return Err(bad(name, "empty value"));
    }
    Ok(items)
}

pub(super) fn time(name: &str, value: &str) -> Result<i64, QueryError> {
    parse_time_ms(value).ok_or_else(|| {
        bad(
            name,
            format!("{value:?} is not a date-time with a time zone (RFC 3339)"),
        )
    })
}

pub(super) fn actions(name: &str, value: &str) -> Result<Vec<String>, QueryError> {
    let items = list(name, value)?;
    match items
        .iter()
        .find(|a| !matches!(a.as_str(), "ADD" | "OBSERVE" | "DELETE"))
    {
        Some(other) => Err(bad(
            name,
            format!("{other:?} is not ADD, OBSERVE or DELETE"),
        )),
        None => Ok(items),
    }
}

/// The comparison key of a CBV-typed value: the Web URI of a term, else the value.
pub(super) fn term_key(vocab: Vocab, value: &str) -> String {
    cbv::web_uri(vocab, value).unwrap_or_else(|| value.to_owned())
}

pub(super) fn terms(name: &str, value: &str, vocab: Vocab) -> Result<Vec<String>, QueryError> {
    let items = list(name, value)?;
    if let Some(other) = items.iter().find(|v| !cbv::is_term_or_uri(vocab, v)) {
        return Err(bad(
            name,
            format!("{other:?} is neither a CBV 2.0 term nor a URI"),
        ));
    }
    Ok(items.iter().map(|v| term_key(vocab, v)).collect())
}

pub(super) fn ids(name: &str, value: &str) -> Result<Vec<String>, QueryError> {
    Ok(list(name, value)?
        .iter()
        .map(|v| canonical_uri(v))
        .collect())
}

pub(super) fn matchers(name: &str, value: &str) -> Result<Vec<EpcMatcher>, QueryError> {
    list(name, value)?
        .iter()
        .map(|v| EpcMatcher::parse(name, v))
        .collect()
}

pub(super) fn class_matchers(name: &str, value: &str) -> Result<Vec<EpcMatcher>, QueryError> {
    list(name, value)?
        .iter()
        .map(|v| EpcMatcher::parse_class(name, v))
        .collect()
}

pub(super) fn order_field(name: &str, value: &str) -> Result<OrderBy, QueryError> {
    match value {
        "eventTime" => Ok(OrderBy::EventTime),
        "recordTime" => Ok(OrderBy::RecordTime),
        other => Err(bad(
            name,
            format!("{other:?}: only eventTime and recordTime are supported"),
        )),
    }
}

pub(super) fn direction(name: &str, value: &str) -> Result<bool, QueryError> {
    match value {
        "DESC" => Ok(true),
        "ASC" => Ok(false),
        other => Err(bad(name, format!("{other:?} is not ASC or DESC"))),
    }
}

pub(super) fn per_page(name: &str, value: &str) -> Result<usize, QueryError> {
    // Digits only: "+5" and " 5" are refused, and a huge number is cut, not an error.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(name, format!("{value:?} is not a positive integer")));
    }
    if value.bytes().all(|b| b == b'0') {
        return Err(bad(name, "must be at least 1"));
    }
    Ok(value
        .parse::<usize>()
        .map_or(PER_PAGE_MAX, |n| n.min(PER_PAGE_MAX)))
}

/// A fingerprint of the filters and order (every parameter but `perPage` and
/// `nextPageToken`), in parameter-name order, each name and value length-prefixed.
pub(super) fn fingerprint(params: &[(String, String)]) -> String {
    let mut filters: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "perPage" && name != "nextPageToken")
        .collect();
    filters.sort();
    let mut hasher = Sha256::new();
    for (name, value) in filters {
        for part in [name, value] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hex::encode(&hasher.finalize()[..8])
}

pub(super) fn token(offset: usize, fingerprint: &str) -> String {
    format!("{offset}.{fingerprint}")
}

pub(super) fn parse_token(token: &str, fingerprint: &str) -> Result<usize, QueryError> {
    let (offset, tail) = token.split_once('.').ok_or(QueryError::BadPageToken)?;
    let digits_only = !offset.is_empty() && offset.len() <= 12;
    let digits_only = digits_only && offset.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || tail != fingerprint {
        return Err(QueryError::BadPageToken);
    }
    offset.parse().map_err(|_| QueryError::BadPageToken)
}
