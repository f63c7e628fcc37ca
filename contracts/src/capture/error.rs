//! Why a document or one of its events is refused.
//!
//! Every refusal is bad input from a client, never a bug. [`CaptureError::code`] is the
//! stable machine-readable code; the message names the event index, its type, the field
//! and the reason. Document-level refusals (the whole document is not something this chain
//! reads) and event-level ones (one event is wrong) are distinguishable with
//! [`CaptureError::event_index`], so a capture job can report every failing event.

use std::fmt;

/// Where in a document an event-level refusal points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPlace {
    /// Position in the event list, from 0.
    pub index: usize,
    /// The event's `type` as written, or `?` when it has none.
    pub event_type: String,
    /// The field at fault (`epcList[4]`, `destinationList`, `bizStep`); empty when the
    /// event as a whole is at fault.
    pub field: String,
}

impl fmt::Display for EventPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {} ({})", self.index, self.event_type)?;
        if !self.field.is_empty() {
            write!(f, " {}", self.field)?;
        }
        Ok(())
    }
}

/// The kinds of event-level refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventErrorKind {
    /// The event is malformed, or its fields contradict the lifecycle step it names
    /// (`packing` without `parentID`, `shipping` without a destination).
    Invalid,
    /// A well-formed EPCIS event this chain does not map (a correction of a receipt, two
    /// lifecycle changes in one event, unpack-all after the same document changed the
    /// container). Never silently recorded without effect.
    Unsupported,
    /// An identifier a lifecycle op needs does not parse as a GS1 code of the right kind.
    InvalidCode,
    /// A destination party or location is not a registered org.
    UnknownParty,
}

impl EventErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            EventErrorKind::Invalid => "EVENT_INVALID",
            EventErrorKind::Unsupported => "EVENT_UNSUPPORTED",
            EventErrorKind::InvalidCode => "INVALID_CODE",
            EventErrorKind::UnknownParty => "UNKNOWN_PARTY",
        }
    }
}

/// A refused capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Not an EPCISDocument or EPCISQueryDocument, or its envelope is malformed.
    #[error("NOT_EPCIS_DOCUMENT: {reason}")]
    NotEpcisDocument { reason: String },
    #[error("UNSUPPORTED_SCHEMA_VERSION: schemaVersion {version:?}; this chain reads EPCIS 2.0")]
    UnsupportedSchemaVersion { version: String },
    #[error("TOO_MANY_EVENTS: {len} events; a document holds at most {max}")]
    TooManyEvents { len: usize, max: usize },
    #[error("TOO_MANY_CODES: {len} EPCs; a document names at most {max}")]
    TooManyCodes { len: usize, max: usize },
    /// One event is refused.
    #[error("{}: {at}: {reason}", .kind.code())]
    Event {
        at: EventPlace,
        kind: EventErrorKind,
        reason: String,
    },
}

impl CaptureError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            CaptureError::NotEpcisDocument { .. } => "NOT_EPCIS_DOCUMENT",
            CaptureError::UnsupportedSchemaVersion { .. } => "UNSUPPORTED_SCHEMA_VERSION",
            CaptureError::TooManyEvents { .. } => "TOO_MANY_EVENTS",
            CaptureError::TooManyCodes { .. } => "TOO_MANY_CODES",
            CaptureError::Event { kind, .. } => kind.code(),
        }
    }

    /// The index of the refused event; `None` for a document-level refusal.
    pub fn event_index(&self) -> Option<usize> {
        match self {
            CaptureError::Event { at, .. } => Some(at.index),
            _ => None,
        }
    }

    /// Whether the whole document is refused, as opposed to one of its events.
    pub fn is_document_level(&self) -> bool {
        self.event_index().is_none()
    }
}

/// Builds event-level refusals for one event.
#[derive(Debug, Clone)]
pub(super) struct Blame {
    pub index: usize,
    pub event_type: String,
}

impl Blame {
    pub fn error(
        &self,
        kind: EventErrorKind,
        field: &str,
        reason: impl Into<String>,
    ) -> CaptureError {
        CaptureError::Event {
            at: EventPlace {
                index: self.index,
                event_type: self.event_type.clone(),
                field: field.to_owned(),
            },
            kind,
            reason: reason.into(),
        }
    }

    pub fn invalid(&self, field: &str, reason: impl Into<String>) -> CaptureError {
        self.error(EventErrorKind::Invalid, field, reason)
    }

    pub fn unsupported(&self, field: &str, reason: impl Into<String>) -> CaptureError {
        self.error(EventErrorKind::Unsupported, field, reason)
    }
}
