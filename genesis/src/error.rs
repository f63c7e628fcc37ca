//! The one error type of the crate.

use std::path::PathBuf;

/// Why a genesis or key file could not be read, written or accepted.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Reading or writing a file failed. The message names the file; the operating system's
    /// reason is the error's `source()`, which eyre and anyhow print as its cause.
    #[error("I/O error on {}", path.display())]
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// The underlying operating system error.
        source: std::io::Error,
    },
    /// The text is not JSON of the expected shape. The message carries serde_json's line and
    /// column and, where it can be found, the field path (`orgs[1].role: unknown variant ...`).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The JSON is well formed but breaks a rule; `field` is the path of the offending value,
    /// e.g. `validators[2].public_key`.
    #[error("{field}: {reason}")]
    Invalid {
        /// Path of the offending value, e.g. `orgs[0].keys[1]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl GenesisError {
    /// An `Invalid` error for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An `Io` error for `path`.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = GenesisError> = std::result::Result<T, E>;
