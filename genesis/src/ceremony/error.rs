//! The ceremony's error: which step stopped, and the file to blame where there is one.

use std::fmt;
use std::path::PathBuf;

use jiu_contracts::PublicKey;

use crate::error::GenesisError;

/// The step of the ceremony an error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Deal,
    Ack,
    Log,
    Finish,
    SetBeacon,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Deal => "deal",
            Step::Ack => "ack",
            Step::Log => "log",
            Step::Finish => "finish",
            Step::SetBeacon => "set-beacon",
        })
    }
}

/// Why a step of the file-based ceremony stopped. Each names its step and, where one is to
/// blame, the file.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// Reading or writing a file failed; the operating system's reason is the `source()`.
    #[error("{step}: I/O error on {}", path.display())]
    Io {
        step: Step,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file that is not what its name says (bad JSON, too large, another dealer's seed).
    #[error("{step}: {}: {reason}", path.display())]
    BadFile {
        step: Step,
        path: PathBuf,
        reason: String,
    },
    /// The beacon crate refused the ceremony itself (`CEREMONY_FAILED`, `PLAYER_STATE`, ...).
    #[error("{step}: {error}")]
    Protocol {
        step: Step,
        error: jiu_beacon::Error,
    },
    /// The genesis draft is not valid; the reason is the `source()`.
    #[error("{step}: the genesis draft is not valid")]
    Genesis { step: Step, source: GenesisError },
    /// The share file could not be written (it exists, or I/O); the reason is the `source()`.
    #[error("{step}: cannot write the share file")]
    ShareFile { step: Step, source: GenesisError },
    /// The key given is not one of the draft's validators.
    #[error("{step}: {key} is not a validator of this genesis")]
    NotAValidator { step: Step, key: PublicKey },
    /// The directory was started for another chain id or validator set.
    #[error(
        "{step}: {} is for another chain id or validator set than this genesis; \
         the validator set must not change during a ceremony", path.display()
    )]
    OtherCeremony { step: Step, path: PathBuf },
    /// The saved seed does not give the published commitment.
    #[error(
        "{step}: the seed in {} does not give the commitment published in {}: wrong seed \
         file, or another dealing",
        seed.display(),
        published.display()
    )]
    CommitmentMismatch {
        step: Step,
        seed: PathBuf,
        published: PathBuf,
    },
    /// This dealer already wrote a different log; a second one would get it excluded.
    #[error(
        "log: {} holds a different log of this dealer; it was already published or acks \
         changed after it was written (two logs are equivocation)",
        path.display()
    )]
    LogExists { path: PathBuf },
    /// Shares of these validators became public: the ceremony must be run again.
    #[error("{step}: the ceremony revealed the shares of {players:?}; run a new ceremony")]
    Revealed { step: Step, players: Vec<PublicKey> },
    /// The output's participants are not the genesis validators.
    #[error("{step}: the ceremony's participants are not this genesis's validators")]
    NotTheValidators { step: Step },
    /// The genesis already holds another group key.
    #[error("{step}: the genesis already has a different beacon")]
    BeaconMismatch { step: Step },
}

impl CeremonyError {
    /// The beacon crate's refusal behind this error, if any (its `code()` is stable).
    pub fn beacon_error(&self) -> Option<&jiu_beacon::Error> {
        match self {
            CeremonyError::Protocol { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The module's result type.
pub type Result<T, E = CeremonyError> = std::result::Result<T, E>;

pub(super) fn protocol(step: Step, error: jiu_beacon::Error) -> CeremonyError {
    CeremonyError::Protocol { step, error }
}
