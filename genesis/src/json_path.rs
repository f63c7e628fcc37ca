//! Best-effort field path for a genesis that is well-formed JSON of the wrong shape.
//!
//! serde_json reports line and column but not which field was being read. Rather than add a
//! dependency, a failed parse is retried on a `serde_json::Value`, probing each field with its
//! own type; the first field that does not fit is the one to blame. This only runs on the error
//! path, so its cost does not matter.

use jiu_contracts::{PublicKey, Role};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::genesis::{ConsensusParams, Genesis, GenesisOrg, GenesisValidator};

/// Finds the value at fault: `None` when fine (or not even JSON), otherwise a path relative to
/// the probed value, `""` meaning the value itself (a missing, unknown or duplicate field).
type Probe = fn(&Value) -> Option<String>;

/// Path of the first field of `text` that does not fit the genesis schema, e.g.
/// `orgs[1].role`; `Some("")` when the top-level object itself is at fault; `None` when the
/// text is not JSON at all (serde_json's line and column then say enough).
pub(crate) fn locate_genesis_error(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    let path = genesis(&value)?;
    Some(path.strip_prefix('.').unwrap_or(&path).to_string())
}

fn genesis(value: &Value) -> Option<String> {
    object::<Genesis>(
        value,
        &[
            ("chain_id", leaf::<String>),
            ("genesis_time_ms", leaf::<u64>),
            ("consensus", consensus),
            ("orgs", |v| list(v, org)),
            ("validators", |v| list(v, validator)),
        ],
    )
}

fn consensus(value: &Value) -> Option<String> {
    object::<ConsensusParams>(
        value,
        &[
            ("timeout_propose_ms", leaf::<u64>),
            ("timeout_propose_delta_ms", leaf::<u64>),
            ("timeout_prevote_ms", leaf::<u64>),
            ("timeout_prevote_delta_ms", leaf::<u64>),
            ("timeout_precommit_ms", leaf::<u64>),
            ("timeout_precommit_delta_ms", leaf::<u64>),
            ("timeout_commit_ms", leaf::<u64>),
            ("block_txs_max", leaf::<u32>),
            ("block_bytes_max", leaf::<u32>),
        ],
    )
}

fn org(value: &Value) -> Option<String> {
    object::<GenesisOrg>(
        value,
        &[
            ("id", leaf::<String>),
            ("name", leaf::<String>),
            ("role", leaf::<Role>),
            ("keys", |v| list(v, leaf::<PublicKey>)),
        ],
    )
}

fn validator(value: &Value) -> Option<String> {
    object::<GenesisValidator>(
        value,
        &[
            ("name", leaf::<String>),
            ("org_id", leaf::<String>),
            ("public_key", leaf::<PublicKey>),
            ("power", leaf::<u64>),
            ("p2p_addr", leaf::<String>),
        ],
    )
}

fn leaf<T: DeserializeOwned>(value: &Value) -> Option<String> {
    match T::deserialize(value) {
        Ok(_) => None,
        Err(_) => Some(String::new()),
    }
}

fn list(value: &Value, element: Probe) -> Option<String> {
    let Value::Array(items) = value else {
        return Some(String::new());
    };
    items
        .iter()
        .enumerate()
        .find_map(|(i, item)| element(item).map(|path| format!("[{i}]{path}")))
}

fn object<T: DeserializeOwned>(value: &Value, fields: &[(&str, Probe)]) -> Option<String> {
    if T::deserialize(value).is_ok() {
        return None;
    }
    let from_field = fields.iter().find_map(|(name, probe)| {
        let field = value.get(name)?;
        probe(field).map(|path| format!(".{name}{path}"))
    });
    // No field is at fault, so the object is: a field is missing, unknown or repeated.
    Some(from_field.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_locates_nested_fields() {
        let text = r#"{"orgs": [{"id": "a", "name": "A", "role": "producer", "keys": []},
                                {"id": "b", "name": "B", "role": "brewer", "keys": []}]}"#;
        assert_eq!(locate_genesis_error(text).as_deref(), Some("orgs[1].role"));
        let text = r#"{"orgs": [{"id": "a", "name": "A", "role": "producer", "keys": ["zz"]}]}"#;
        assert_eq!(
            locate_genesis_error(text).as_deref(),
            Some("orgs[0].keys[0]")
        );
        let text = r#"{"validators": [{"power": -1}]}"#;
        assert_eq!(
            locate_genesis_error(text).as_deref(),
            Some("validators[0].power")
        );
        let text = r#"{"validators": [{"extra": 1}]}"#;
        assert_eq!(locate_genesis_error(text).as_deref(), Some("validators[0]"));
        let text = r#"{"consensus": {"timeout_propose_ms": "1"}}"#;
        assert_eq!(
            locate_genesis_error(text).as_deref(),
            Some("consensus.timeout_propose_ms")
        );
        assert_eq!(locate_genesis_error("{}").as_deref(), Some(""));
        assert_eq!(locate_genesis_error("{").as_deref(), None);
    }
}
