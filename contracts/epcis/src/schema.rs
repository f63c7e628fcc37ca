//! Validation against the official EPCIS 2.0 JSON schema (`EPCIS-JSON-Schema.json`, a
//! self-contained draft-07 schema), for the RPC edge and tests. Consensus code never calls
//! it: the capture mapping does its own checks, and a validator's verdicts are not
//! something validators must agree on.
//!
//! Formats are checked (`uri`, `date-time`): the schema relies on them, e.g. an extension
//! field name must be a URI. Remote `$ref`s are not fetched (the crate is built without its
//! HTTP resolver), so a schema that needs one fails to compile rather than reaching out.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Most violations reported for one document; a badly broken document would otherwise list
/// one per node.
pub const VIOLATIONS_MAX: usize = 20;

/// Longest violation message, in characters: the validator quotes the offending value,
/// which may be a whole event.
pub const MESSAGE_CHARS_MAX: usize = 400;

/// Why a schema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("read schema {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("schema {path} is not JSON: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("schema does not compile: {0}")]
    Compile(String),
}

/// One way a document breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer to the offending value (`/epcisBody/eventList/0/action`).
    pub pointer: String,
    /// What the schema expected there.
    pub message: String,
}

/// A compiled schema.
pub struct SchemaValidator {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for SchemaValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaValidator")
    }
}

impl SchemaValidator {
    /// Loads and compiles the schema at `path` (the official `EPCIS-JSON-Schema.json`).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, SchemaError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.to_owned(),
            source,
        })?;
        let schema: Value = serde_json::from_str(&text).map_err(|source| SchemaError::Parse {
            path: path.to_owned(),
            source,
        })?;
        Self::from_value(&schema)
    }

    /// Compiles a schema already in memory, as draft-07 with format checks.
    pub fn from_value(schema: &Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        Ok(Self { validator })
    }

    /// `Ok` if `doc` is valid, else up to [`VIOLATIONS_MAX`] violations in the order the
    /// validator finds them.
    pub fn validate(&self, doc: &Value) -> Result<(), Vec<SchemaViolation>> {
        if self.validator.is_valid(doc) {
            return Ok(());
        }
        let violations: Vec<SchemaViolation> = self
            .validator
            .iter_errors(doc)
            .take(VIOLATIONS_MAX)
            .map(|e| SchemaViolation {
                pointer: e.instance_path().to_string(),
                message: bounded(e.to_string()),
            })
            .collect();
        if violations.is_empty() {
            // is_valid and iter_errors disagree: report it rather than calling it valid.
            return Err(vec![SchemaViolation {
                pointer: String::new(),
                message: "invalid (no detail from the validator)".to_owned(),
            }]);
        }
        Err(violations)
    }
}

fn bounded(message: String) -> String {
    match message.char_indices().nth(MESSAGE_CHARS_MAX) {
        Some((cut, _)) => format!("{}...", &message[..cut]),
        None => message,
    }
}
