//! Key files: an ed25519 signing key on disk, readable only by its owner.
//!
//! Format: `{"public_key": "<64 hex>", "secret_key": "<64 hex of the 32-byte seed>"}`. The
//! public key is stored so an operator can read it without tools, and checked on every read so
//! a hand-edited or corrupted file is refused rather than signing with an unexpected key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use ed25519_dalek::SigningKey;
use jiu_contracts::PublicKey;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

use crate::error::{GenesisError, Result};

/// Largest key file `read_key_file` reads; a real one is under 200 bytes.
const KEY_FILE_BYTES_MAX: u64 = 4096;

/// The JSON content of a key file. Deliberately not `Debug`, so the secret cannot end up in
/// a log line by accident.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// The public half, for people and tools that only need it.
    pub public_key: PublicKey,
    /// Lowercase hex of the 32-byte ed25519 seed.
    pub secret_key: String,
}

impl KeyFile {
    /// The file content for `key`.
    pub fn new(key: &SigningKey) -> Self {
        Self {
            public_key: PublicKey::from_signing_key(key),
            secret_key: hex::encode(key.to_bytes()),
        }
    }

    /// The signing key, after checking that `public_key` belongs to it.
    pub fn signing_key(&self) -> Result<SigningKey> {
        let seed: [u8; 32] = hex::decode(&self.secret_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                GenesisError::invalid("secret_key", "must be 64 hex characters (32-byte seed)")
            })?;
        let key = SigningKey::from_bytes(&seed);
        if PublicKey::from_signing_key(&key) != self.public_key {
            return Err(GenesisError::invalid(
                "public_key",
                "does not match secret_key",
            ));
        }
        Ok(key)
    }
}

/// A fresh signing key from the operating system's random source.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

/// Writes `key` to a new file at `path`, created with mode 0600 so the secret is never
/// readable by others, not even briefly. Refuses to overwrite an existing file: losing a
/// validator or organisation key cannot be undone.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<()> {
    let mut text = serde_json::to_string_pretty(&KeyFile::new(key))
        .expect("a KeyFile always serializes: two strings");
    text.push('\n');
    write_new_secret(path, text.as_bytes())
}

/// Writes `bytes` to a new file created with mode 0600 (never readable by others, not even
/// briefly) and syncs it. Refuses to overwrite an existing file.
pub(crate) fn write_new_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| GenesisError::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| GenesisError::io(path, e))
}

/// Reads a key file written by [`write_key_file`]; refuses it when its public key does not
/// match its secret.
pub fn read_key_file(path: &Path) -> Result<SigningKey> {
    let text = read_small(path, KEY_FILE_BYTES_MAX)?;
    let file: KeyFile = serde_json::from_str(&text)
        .map_err(|e| GenesisError::Json(format!("{}: {e}", path.display())))?;
    file.signing_key().map_err(|e| match e {
        GenesisError::Invalid { field, reason } => GenesisError::Invalid {
            field,
            reason: format!("{reason} (in {})", path.display()),
        },
        other => other,
    })
}

/// Reads a text file of at most `max` bytes (a secret file: a key, a share).
pub(crate) fn read_small(path: &Path, max: u64) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| GenesisError::io(path, e))?;
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .map_err(|e| GenesisError::io(path, e))?;
    if text.len() as u64 > max {
        return Err(GenesisError::io(
            path,
            std::io::Error::other(format!("larger than the {max} bytes allowed")),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn test_key_file_round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.key");
        let key = generate();
        write_key_file(&path, &key).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = read_key_file(&path).unwrap();
        assert_eq!(read.to_bytes(), key.to_bytes());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&PublicKey::from_signing_key(&key).to_hex()));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn test_key_file_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.key");
        let first = generate();
        write_key_file(&path, &first).unwrap();
        let err = write_key_file(&path, &generate()).unwrap_err();
        assert!(
            matches!(&err, GenesisError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::AlreadyExists),
            "{err}"
        );
        assert_eq!(read_key_file(&path).unwrap().to_bytes(), first.to_bytes());
    }

    #[test]
    fn test_key_file_with_mismatched_public_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.key");
        let mut file = KeyFile::new(&generate());
        file.public_key = PublicKey::from_signing_key(&generate());
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        let err = read_key_file(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("public_key: does not match secret_key"),
            "{err}"
        );
        assert!(err.contains("validator.key"), "{err}");
    }

    #[test]
    fn test_key_file_with_bad_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.key");
        let mut file = KeyFile::new(&generate());
        file.secret_key.pop();
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        let err = read_key_file(&path).unwrap_err().to_string();
        assert!(err.starts_with("secret_key:"), "{err}");
    }

    #[test]
    fn test_missing_key_file_names_the_path() {
        let err = read_key_file(Path::new("/nonexistent/jiu.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/jiu.key"), "{err}");
    }
}
