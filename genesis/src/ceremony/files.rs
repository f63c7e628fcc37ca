//! The ceremony directory: its paths, its two JSON files, and bounded reads and mode-0600
//! writes.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jiu_contracts::PublicKey;
use serde::{Deserialize, Serialize};

use super::error::{CeremonyError, Result, Step};

/// Largest ceremony file read. A dealer log for 256 validators is about 40 KiB.
const CEREMONY_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// The paths of a ceremony directory (see the module doc for the layout).
#[derive(Clone, Debug)]
pub struct CeremonyDir {
    root: PathBuf,
}

impl CeremonyDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The chain id and validator keys this directory is for.
    pub fn ceremony_file(&self) -> PathBuf {
        self.root.join("ceremony.json")
    }

    /// Secret: the dealer's seed; it never leaves the dealer's machine.
    pub fn dealer_seed(&self, dealer: &PublicKey) -> PathBuf {
        self.root.join(dealer.to_hex()).join("dealer-seed.json")
    }

    /// Public: the dealer's commitment, for every validator.
    pub fn commitment(&self, dealer: &PublicKey) -> PathBuf {
        self.root.join("commitments").join(format!("{dealer}.bin"))
    }

    /// Secret: the dealer's share for one player, for that player only.
    pub fn share(&self, dealer: &PublicKey, player: &PublicKey) -> PathBuf {
        let name = format!("to-{player}.bin");
        self.root.join("shares").join(dealer.to_hex()).join(name)
    }

    /// Public: the player's ack of the dealer's share, for that dealer.
    pub fn ack(&self, dealer: &PublicKey, player: &PublicKey) -> PathBuf {
        let name = format!("from-{player}.bin");
        self.root.join("acks").join(dealer.to_hex()).join(name)
    }

    /// Public: the dealer's signed log, for every validator.
    pub fn log(&self, dealer: &PublicKey) -> PathBuf {
        self.root.join("logs").join(format!("{dealer}.bin"))
    }

    /// Public: the transcript last built from `logs/`.
    pub fn transcript(&self) -> PathBuf {
        self.root.join("transcript.bin")
    }
}

/// `ceremony.json`: what the directory is for, so a changed genesis draft is caught at the
/// next step rather than as failing signatures.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CeremonyFile {
    chain_id: String,
    participants: Vec<PublicKey>,
}

/// Records the chain id and participants in `ceremony.json`, or checks them against it.
pub(super) fn bind(
    step: Step,
    dir: &CeremonyDir,
    chain_id: &str,
    participants: &[PublicKey],
) -> Result<()> {
    let expected = CeremonyFile {
        chain_id: chain_id.to_string(),
        participants: participants.to_vec(),
    };
    let path = dir.ceremony_file();
    let Some(bytes) = read_optional(step, &path)? else {
        let text = serde_json::to_string_pretty(&expected).expect("ceremony.json serializes");
        return write_public(step, &path, format!("{text}\n").as_bytes());
    };
    let found: CeremonyFile = serde_json::from_slice(&bytes).map_err(|e| bad(step, &path, e))?;
    if found != expected {
        return Err(CeremonyError::OtherCeremony { step, path });
    }
    Ok(())
}

/// `<dealer>/dealer-seed.json`. Deliberately not `Debug`: it holds a secret.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DealerSeedFile {
    dealer: PublicKey,
    /// Lowercase hex of the 32-byte ChaCha20 seed of the dealer's polynomial.
    seed: String,
}

/// Writes a new seed file (mode 0600); never replaces one.
pub(super) fn write_seed(
    step: Step,
    path: &Path,
    dealer: PublicKey,
    seed: &[u8; 32],
) -> Result<()> {
    let file = DealerSeedFile {
        dealer,
        seed: hex::encode(seed),
    };
    let text = serde_json::to_string_pretty(&file).expect("a seed file serializes");
    write_secret(step, path, format!("{text}\n").as_bytes(), true)
}

/// The seed of `dealer`; refuses another dealer's seed file.
pub(super) fn read_seed(step: Step, path: &Path, dealer: &PublicKey) -> Result<[u8; 32]> {
    let file: DealerSeedFile =
        serde_json::from_slice(&read_required(step, path)?).map_err(|e| bad(step, path, e))?;
    if file.dealer != *dealer {
        return Err(bad(
            step,
            path,
            format!("the seed of dealer {}", file.dealer),
        ));
    }
    hex::decode(&file.seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad(step, path, "seed must be 64 hex characters"))
}

pub(super) fn bad(step: Step, path: &Path, reason: impl ToString) -> CeremonyError {
    CeremonyError::BadFile {
        step,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

pub(super) fn io(step: Step, path: &Path) -> impl FnOnce(std::io::Error) -> CeremonyError + '_ {
    move |source| CeremonyError::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// The file's bytes, `None` if it does not exist; refuses more than the bound.
pub(super) fn read_optional(step: Step, path: &Path) -> Result<Option<Vec<u8>>> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io(step, path)(error)),
    };
    let mut bytes = Vec::new();
    file.take(CEREMONY_FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(io(step, path))?;
    if bytes.len() as u64 > CEREMONY_FILE_BYTES_MAX {
        return Err(bad(
            step,
            path,
            format!("larger than {CEREMONY_FILE_BYTES_MAX} bytes"),
        ));
    }
    Ok(Some(bytes))
}

pub(super) fn read_required(step: Step, path: &Path) -> Result<Vec<u8>> {
    read_optional(step, path)?.ok_or_else(|| {
        io(step, path)(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not found",
        ))
    })
}

pub(super) fn write_public(step: Step, path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(step, parent))?;
    }
    fs::write(path, bytes).map_err(io(step, path))
}

/// Writes a secret file with mode 0600 in a directory created with mode 0700; `create_new`
/// refuses an existing file.
pub(super) fn write_secret(step: Step, path: &Path, bytes: &[u8], create_new: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(io(step, parent))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut file = options.open(path).map_err(io(step, path))?;
    // `mode` applies only when the file is created.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(io(step, path))
}
