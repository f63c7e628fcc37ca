//! The genesis document: its types, JSON loading and saving, and its canonical hash.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use jiu_contracts::{sha256, Hash, Org, PublicKey, Role};
use serde::{Deserialize, Serialize};

use crate::error::{GenesisError, Result};
use crate::json_path;

/// Domain tag hashed before the canonical bytes, so a genesis hash can never be mistaken for
/// the hash of any other object. Changing it changes every chain's identity.
pub const GENESIS_HASH_TAG: &[u8] = b"jiu/genesis/v1\0";

/// Largest genesis file `load` reads. A 1024-org, 16-key genesis is about 2 MiB.
pub const GENESIS_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// The first state of a chain: its identity, consensus parameters, member organisations and
/// validator set. Every validator must start from byte-identical content, checked by [`hash`].
///
/// [`hash`]: Genesis::hash
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Name of the chain: 1 to 64 characters of `a-z A-Z 0-9 - _ .`.
    pub chain_id: String,
    /// Wall-clock time of genesis, milliseconds since the Unix epoch; the time of height 0.
    pub genesis_time_ms: u64,
    /// Timeouts and block limits of the consensus engine.
    pub consensus: ConsensusParams,
    /// The consortium at height 0; their keys sign the first transactions.
    pub orgs: Vec<GenesisOrg>,
    /// The validator set at height 0.
    pub validators: Vec<GenesisValidator>,
    /// Parameters of the bottle lifecycle; defaults when absent.
    #[serde(default)]
    pub provenance: ProvenanceParams,
    /// The lottery beacon's group key from the genesis ceremony (`None`: this chain draws
    /// no lotteries; seed shares are refused). Omitted from the canonical encoding when
    /// absent, so genesis files without it keep their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<jiu_beacon::GroupPublic>,
}

/// Parameters of the bottle lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceParams {
    /// How long after a sale the selling store may undo it (T8); 10 days by default, the
    /// EU FMD Art. 13 analogue.
    pub undo_window_ms: u64,
}

impl Default for ProvenanceParams {
    fn default() -> Self {
        Self {
            undo_window_ms: jiu_contracts::provenance::UNDO_WINDOW_MS_DEFAULT,
        }
    }
}

/// Tendermint round timeouts and block limits. Each timeout of round `r` is
/// `timeout_X_ms + r * timeout_X_delta_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusParams {
    /// Time to wait for a proposal in round 0.
    pub timeout_propose_ms: u64,
    /// Added to the propose timeout for each later round.
    pub timeout_propose_delta_ms: u64,
    /// Time to wait for more prevotes after a quorum of any prevotes in round 0.
    pub timeout_prevote_ms: u64,
    /// Added to the prevote timeout for each later round.
    pub timeout_prevote_delta_ms: u64,
    /// Time to wait for more precommits after a quorum of any precommits in round 0.
    pub timeout_precommit_ms: u64,
    /// Added to the precommit timeout for each later round.
    pub timeout_precommit_delta_ms: u64,
    /// Minimum gap between deciding a height and starting the next; 0 means none.
    pub timeout_commit_ms: u64,
    /// Most transactions in one block.
    pub block_txs_max: u32,
    /// Most bytes of transactions in one block.
    pub block_bytes_max: u32,
}

/// The propose timeout must cover building a block, sending it and every validator
/// executing it: CometBFT's 3 s (and 0.5 s more a round). A node proposes only in round 0 of
/// its heights (round robin), so a block that cannot fit in round 0 is never decided: with
/// 1 s, a demo tx that ships 55 pallets (33,000 bottles; 0.6 s to execute on the reference
/// machine) stayed in its proposer's mempool for good. A proposer that is down costs its
/// turns 3 s each; an empty or quick proposal is not slowed.
impl Default for ConsensusParams {
    fn default() -> Self {
        Self {
            timeout_propose_ms: 3000,
            timeout_propose_delta_ms: 500,
            timeout_prevote_ms: 500,
            timeout_prevote_delta_ms: 200,
            timeout_precommit_ms: 500,
            timeout_precommit_delta_ms: 200,
            timeout_commit_ms: 0,
            block_txs_max: 10_000,
            block_bytes_max: 8 * 1024 * 1024,
        }
    }
}

/// A member organisation at genesis. It starts active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisOrg {
    /// Stable identifier: 1 to 64 characters of `a-z 0-9 - _ .`, unique.
    pub id: String,
    /// Human-readable name, 1 to 128 bytes.
    pub name: String,
    /// What the organisation may sign.
    pub role: Role,
    /// Its signing keys, 1 to 16, unique across all organisations.
    pub keys: Vec<PublicKey>,
    /// Its GS1 party GLN (13 digits), how EPCIS documents name it; unique if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgln: Option<jiu_contracts::gs1::Gln>,
}

/// A validator at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Unique name, 1 to 64 characters of `a-z A-Z 0-9 - _ .` (safe as a directory name).
    pub name: String,
    /// The organisation that runs it; must be one of `orgs`.
    pub org_id: String,
    /// Its consensus key, unique among validators.
    pub public_key: PublicKey,
    /// Voting power, at least 1.
    pub power: u64,
    /// Where peers dial it, a libp2p multiaddr such as `/ip4/127.0.0.1/tcp/26656`; unique.
    pub p2p_addr: String,
}

impl Genesis {
    /// Parses and fully validates a genesis.
    pub fn from_json(text: &str) -> Result<Self> {
        let genesis = Self::from_json_unvalidated(text)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Parses a genesis without checking its rules; for tools that edit a draft. Anything that
    /// starts a chain must use [`Genesis::from_json`] or [`Genesis::load`].
    pub fn from_json_unvalidated(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| json_error(text, &e))
    }

    /// Reads, parses and fully validates a genesis file.
    pub fn load(path: &Path) -> Result<Self> {
        let genesis = Self::load_unvalidated(path)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Reads and parses a genesis file without checking its rules; see
    /// [`Genesis::from_json_unvalidated`].
    pub fn load_unvalidated(path: &Path) -> Result<Self> {
        let text = read_bounded(path, GENESIS_FILE_BYTES_MAX)?;
        Self::from_json_unvalidated(&text).map_err(|e| match e {
            GenesisError::Json(message) => {
                GenesisError::Json(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// Writes the genesis as pretty JSON with a trailing newline. The file is written beside
    /// `path` and renamed into place, so a crash never leaves a half-written genesis. Does not
    /// validate: call [`Genesis::validate`] first when the file must be usable.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect(SERIALIZES);
        text.push('\n');
        write_atomically(path, text.as_bytes())
    }

    /// The bytes the hash covers: compact JSON of the struct, fields in declaration order, no
    /// whitespace. Independent of how the source file was formatted.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect(SERIALIZES)
    }

    /// The chain's identity: `sha256("jiu/genesis/v1\0" || canonical_bytes)`. Pinned by a
    /// golden test; changing it is a deliberate format change.
    pub fn hash(&self) -> Hash {
        sha256(&[GENESIS_HASH_TAG, &self.canonical_bytes()])
    }

    /// Lowercase hex of [`Genesis::hash`].
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash())
    }

    /// The application state at height 0.
    pub fn initial_state(
        &self,
    ) -> std::result::Result<jiu_contracts::State, jiu_contracts::TxError> {
        Ok(self.configure_lottery(
            jiu_contracts::State::new(self.initial_orgs())?
                .with_undo_window_ms(self.provenance.undo_window_ms),
        ))
    }

    /// Gives a state (fresh or restored) the genesis lottery configuration: chain id,
    /// beacon and validators.
    pub fn configure_lottery(&self, state: jiu_contracts::State) -> jiu_contracts::State {
        let beacon = self.beacon.clone().map(|public| {
            std::sync::Arc::new(public) as std::sync::Arc<dyn jiu_contracts::lottery::Beacon>
        });
        let validators = self
            .validators
            .iter()
            .map(|v| (v.public_key, v.org_id.clone()));
        state.with_lottery(&self.chain_id, beacon, validators)
    }

    /// The registry's organisations at height 0, in genesis order: all active, keys sorted.
    pub fn initial_orgs(&self) -> Vec<Org> {
        self.orgs
            .iter()
            .map(|org| {
                let mut keys = org.keys.clone();
                keys.sort();
                Org {
                    id: org.id.clone(),
                    name: org.name.clone(),
                    role: org.role,
                    keys,
                    active: true,
                    pgln: org.pgln,
                }
            })
            .collect()
    }

    /// Sum of validator powers. Saturates rather than overflows on an unvalidated genesis;
    /// a valid one sums to at most `u64::MAX / 4`.
    pub fn total_power(&self) -> u64 {
        self.validators
            .iter()
            .fold(0u64, |sum, v| sum.saturating_add(v.power))
    }
}

/// Why `serde_json` serialization cannot fail here.
const SERIALIZES: &str = "a Genesis always serializes: no maps, no non-string keys, no floats";

/// Turns a serde_json error into a `Json` error that also names the field path when the text
/// is well-formed JSON of the wrong shape.
fn json_error(text: &str, error: &serde_json::Error) -> GenesisError {
    match json_path::locate_genesis_error(text) {
        Some(path) if !path.is_empty() => GenesisError::Json(format!("{path}: {error}")),
        _ => GenesisError::Json(error.to_string()),
    }
}

fn read_bounded(path: &Path, bytes_max: u64) -> Result<String> {
    let file = fs::File::open(path).map_err(|e| GenesisError::io(path, e))?;
    let mut text = String::new();
    file.take(bytes_max + 1)
        .read_to_string(&mut text)
        .map_err(|e| GenesisError::io(path, e))?;
    if text.len() as u64 > bytes_max {
        return Err(GenesisError::io(
            path,
            std::io::Error::other(format!("file is larger than {bytes_max} bytes")),
        ));
    }
    Ok(text)
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        GenesisError::io(path, std::io::Error::other("path does not name a file"))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    if let Err(e) = write() {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(&tmp);
        return Err(GenesisError::io(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| GenesisError::io(path, e))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::devnet::devnet;

    fn example() -> Genesis {
        devnet("jiu-devnet", 4, 27000, Some([0u8; 32])).genesis
    }

    fn example_json() -> String {
        serde_json::to_string_pretty(&example()).unwrap()
    }

    fn json_error_of(text: &str) -> String {
        match Genesis::from_json(text) {
            Err(GenesisError::Json(message)) => message,
            other => panic!("expected a Json error, got {other:?}"),
        }
    }

    #[test]
    fn test_hash_is_tagged_sha256_of_compact_json() {
        let genesis = example();
        let bytes = genesis.canonical_bytes();
        let prefix = br#"{"chain_id":"jiu-devnet","genesis_time_ms":0,"consensus":{"#;
        assert!(bytes.starts_with(prefix), "fields in declaration order");
        assert!(!bytes.contains(&b'\n'));
        let expected: [u8; 32] = Sha256::new()
            .chain_update(b"jiu/genesis/v1\0")
            .chain_update(&bytes)
            .finalize()
            .into();
        assert_eq!(genesis.hash(), expected);
        assert_eq!(genesis.hash_hex(), hex::encode(expected));
    }

    #[test]
    fn test_every_field_changes_the_hash() {
        let base = example();
        let changes: [fn(&mut Genesis); 6] = [
            |g| g.chain_id.push('x'),
            |g| g.genesis_time_ms += 1,
            |g| g.consensus.timeout_commit_ms += 1,
            |g| g.orgs.swap(1, 2),
            |g| g.validators[0].power += 1,
            |g| g.validators[3].p2p_addr = "/ip4/127.0.0.1/tcp/1".into(),
        ];
        for change in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(changed.hash(), base.hash());
        }
    }

    #[test]
    fn test_unknown_role_names_field_value_and_position() {
        let text = example_json().replacen(r#""role": "distributor""#, r#""role": "brewer""#, 1);
        let message = json_error_of(&text);
        assert!(
            message.starts_with("orgs[1].role: unknown variant `brewer`"),
            "{message}"
        );
        assert!(message.contains("line 28 column 22"), "{message}");
    }

    #[test]
    fn test_unknown_field_is_refused() {
        let text = example_json().replacen(r#""power": 1,"#, r#""power": 1, "stake": 5,"#, 1);
        let message = json_error_of(&text);
        assert!(
            message.starts_with("validators[0]: unknown field `stake`"),
            "{message}"
        );
        assert!(message.contains("line "), "{message}");

        let text = example_json().replacen('{', r#"{"extra": true,"#, 1);
        let message = json_error_of(&text);
        assert!(message.starts_with("unknown field `extra`"), "{message}");
    }

    #[test]
    fn test_bad_key_text_names_the_field() {
        let key = example().validators[1].public_key.to_hex();
        let text = example_json().replacen(&key, "00", 1);
        let message = json_error_of(&text);
        assert!(
            message.starts_with("validators[1].public_key: public key must be 64 hex"),
            "{message}"
        );
    }

    #[test]
    fn test_syntax_error_has_line_and_column() {
        let message = json_error_of("{\n  \"chain_id\": \"x\",\n  oops\n}");
        assert!(message.contains("line 3 column 3"), "{message}");
    }

    #[test]
    fn test_from_json_validates_but_unvalidated_does_not() {
        let mut genesis = example();
        genesis.validators.clear();
        let text = serde_json::to_string(&genesis).unwrap();
        let err = Genesis::from_json(&text).unwrap_err().to_string();
        assert_eq!(err, "validators: at least one validator is required");
        assert_eq!(Genesis::from_json_unvalidated(&text).unwrap(), genesis);
    }

    #[test]
    fn test_load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        let err = Genesis::load(&path).unwrap_err().to_string();
        assert!(err.contains("genesis.json"), "{err}");
        std::fs::write(&path, "{").unwrap();
        let err = Genesis::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("genesis.json") && err.contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn test_save_writes_pretty_json_with_newline_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        let mut genesis = example();
        genesis.save(&path).unwrap();
        genesis.chain_id = "other".into();
        genesis.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"chain_id\": \"other\","));
        assert!(text.ends_with("}\n"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["genesis.json"], "no temporary file left behind");
    }

    #[test]
    fn test_initial_orgs_are_active_with_sorted_keys() {
        let mut genesis = example();
        let mut keys: Vec<PublicKey> = devnet("x", 3, 1, Some([9; 32]))
            .genesis
            .validators
            .iter()
            .map(|v| v.public_key)
            .collect();
        keys.sort();
        keys.reverse();
        genesis.orgs[2].keys = keys.clone();
        let orgs = genesis.initial_orgs();
        assert_eq!(orgs.len(), 4);
        assert!(orgs.iter().all(|org| org.active));
        assert_eq!(orgs[2].id, "store-1");
        assert_eq!(orgs[2].role, Role::Store);
        keys.sort();
        assert_eq!(orgs[2].keys, keys);
    }

    #[test]
    fn test_total_power_saturates_on_unvalidated_input() {
        let mut genesis = example();
        assert_eq!(genesis.total_power(), 4);
        genesis.validators[0].power = u64::MAX;
        assert_eq!(genesis.total_power(), u64::MAX);
    }
}
