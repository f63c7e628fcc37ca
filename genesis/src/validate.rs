//! The rules a genesis must meet. Each error names the path of the offending field, so an
//! operator can find it in a file written by hand.

use std::collections::{BTreeMap, BTreeSet};

use jiu_contracts::{PublicKey, Role};

use crate::error::{GenesisError, Result};
use crate::genesis::{ConsensusParams, Genesis, GenesisOrg, GenesisValidator};
use crate::p2p::P2pAddr;

/// Most organisations in a genesis; more join later through registry transactions.
pub const ORGS_MAX: usize = 1024;
/// Most keys per organisation.
pub const ORG_KEYS_MAX: usize = 16;
/// Most validators in a genesis. Every validator votes on every height, so a consortium
/// chain stays far below this.
pub const VALIDATORS_MAX: usize = 256;
/// Longest chain id, organisation id and validator name, in characters.
pub const ID_LEN_MAX: usize = 64;
/// Longest organisation name, in bytes.
pub const ORG_NAME_BYTES_MAX: usize = 128;
/// Largest total voting power. Tendermint quorum arithmetic multiplies total power by small
/// constants, so a quarter of `u64::MAX` leaves room for it without overflow.
pub const TOTAL_POWER_MAX: u64 = u64::MAX / 4;

/// Whether a genesis must be ready to start a chain or may still be a draft.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Completeness {
    /// Every rule holds: the genesis can start a chain.
    Full,
    /// A draft being built by `jiu genesis add-*`: no organisation, producer or validator
    /// need exist yet, but everything present must be valid.
    Partial,
}

impl Genesis {
    /// Checks every rule; a genesis that passes can start a chain.
    pub fn validate(&self) -> Result<()> {
        check(self, Completeness::Full)
    }

    /// Checks every rule except those a draft cannot meet yet: at least one organisation, at
    /// least one producer, at least one validator. Duplicates and bad values are still refused.
    pub fn validate_partial(&self) -> Result<()> {
        check(self, Completeness::Partial)
    }
}

fn check(genesis: &Genesis, completeness: Completeness) -> Result<()> {
    check_chain_id(&genesis.chain_id)?;
    check_consensus(&genesis.consensus)?;
    check_orgs(&genesis.orgs, completeness)?;
    check_validators(&genesis.validators, &genesis.orgs, completeness)?;
    match completeness {
        Completeness::Full => check_beacon(genesis),
        // A draft's validator set is not final, and the ceremony comes after it.
        Completeness::Partial => Ok(()),
    }
}

/// The beacon's participants must be exactly the validators' consensus keys: share `i`
/// signs as validator key `i` (byte order), and a seed needs `threshold(n)` of them.
fn check_beacon(genesis: &Genesis) -> Result<()> {
    let Some(beacon) = &genesis.beacon else {
        return Ok(());
    };
    let mut keys: Vec<_> = genesis.validators.iter().map(|v| v.public_key).collect();
    keys.sort();
    if beacon.participants() != keys.as_slice() {
        return Err(GenesisError::invalid(
            "beacon.participants",
            "must be the validators' public keys, in byte order",
        ));
    }
    Ok(())
}

fn check_chain_id(chain_id: &str) -> Result<()> {
    let valid = is_id(chain_id, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    });
    if !valid {
        return Err(GenesisError::invalid(
            "chain_id",
            format!("must be 1 to {ID_LEN_MAX} characters of a-z A-Z 0-9 - _ ."),
        ));
    }
    Ok(())
}

fn check_consensus(params: &ConsensusParams) -> Result<()> {
    let timeouts = [
        ("timeout_propose_ms", params.timeout_propose_ms),
        ("timeout_propose_delta_ms", params.timeout_propose_delta_ms),
        ("timeout_prevote_ms", params.timeout_prevote_ms),
        ("timeout_prevote_delta_ms", params.timeout_prevote_delta_ms),
        ("timeout_precommit_ms", params.timeout_precommit_ms),
        (
            "timeout_precommit_delta_ms",
            params.timeout_precommit_delta_ms,
        ),
        ("block_txs_max", u64::from(params.block_txs_max)),
        ("block_bytes_max", u64::from(params.block_bytes_max)),
    ];
    // timeout_commit_ms may be 0: it is a pacing delay, not a liveness timeout.
    match timeouts.iter().find(|(_, value)| *value == 0) {
        Some((name, _)) => Err(GenesisError::invalid(
            format!("consensus.{name}"),
            "must be greater than 0",
        )),
        None => Ok(()),
    }
}

fn check_orgs(orgs: &[GenesisOrg], completeness: Completeness) -> Result<()> {
    if completeness == Completeness::Full && orgs.is_empty() {
        return Err(GenesisError::invalid(
            "orgs",
            "at least one organisation is required",
        ));
    }
    if orgs.len() > ORGS_MAX {
        return Err(GenesisError::invalid(
            "orgs",
            format!("at most {ORGS_MAX} organisations"),
        ));
    }
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut keys: BTreeMap<PublicKey, String> = BTreeMap::new();
    let mut pglns = BTreeMap::new();
    for (i, org) in orgs.iter().enumerate() {
        let path = format!("orgs[{i}]");
        check_org_fields(org, &path)?;
        if let Some(first) = ids.insert(&org.id, i) {
            return Err(GenesisError::invalid(
                format!("{path}.id"),
                format!("duplicate id '{}' (also orgs[{first}])", org.id),
            ));
        }
        if let Some(pgln) = org.pgln {
            if let Some(first) = pglns.insert(pgln, i) {
                return Err(GenesisError::invalid(
                    format!("{path}.pgln"),
                    format!("duplicate PGLN {pgln} (also orgs[{first}])"),
                ));
            }
        }
        for (j, key) in org.keys.iter().enumerate() {
            let key_path = format!("{path}.keys[{j}]");
            check_key(key, &key_path)?;
            if let Some(first) = keys.get(key) {
                return Err(GenesisError::invalid(
                    key_path,
                    format!("duplicate key (also {first})"),
                ));
            }
            keys.insert(*key, key_path);
        }
    }
    let has_producer = orgs.iter().any(|org| org.role == Role::Producer);
    if completeness == Completeness::Full && !has_producer {
        return Err(GenesisError::invalid(
            "orgs",
            "at least one producer organisation is required (producers administer the registry)",
        ));
    }
    Ok(())
}

fn check_org_fields(org: &GenesisOrg, path: &str) -> Result<()> {
    let id_valid = is_id(&org.id, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
    });
    if !id_valid {
        return Err(GenesisError::invalid(
            format!("{path}.id"),
            format!(
                "'{}' must be 1 to {ID_LEN_MAX} characters of a-z 0-9 - _ .",
                org.id
            ),
        ));
    }
    if org.name.is_empty() || org.name.len() > ORG_NAME_BYTES_MAX {
        return Err(GenesisError::invalid(
            format!("{path}.name"),
            format!("must be 1 to {ORG_NAME_BYTES_MAX} bytes"),
        ));
    }
    if org.keys.is_empty() || org.keys.len() > ORG_KEYS_MAX {
        return Err(GenesisError::invalid(
            format!("{path}.keys"),
            format!("must hold 1 to {ORG_KEYS_MAX} keys"),
        ));
    }
    Ok(())
}

fn check_validators(
    validators: &[GenesisValidator],
    orgs: &[GenesisOrg],
    completeness: Completeness,
) -> Result<()> {
    if completeness == Completeness::Full && validators.is_empty() {
        return Err(GenesisError::invalid(
            "validators",
            "at least one validator is required",
        ));
    }
    if validators.len() > VALIDATORS_MAX {
        return Err(GenesisError::invalid(
            "validators",
            format!("at most {VALIDATORS_MAX} validators"),
        ));
    }
    let org_ids: BTreeSet<&str> = orgs.iter().map(|org| org.id.as_str()).collect();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut keys: BTreeMap<PublicKey, usize> = BTreeMap::new();
    let mut addrs: BTreeMap<String, usize> = BTreeMap::new();
    let mut total_power: u64 = 0;
    for (i, validator) in validators.iter().enumerate() {
        let path = format!("validators[{i}]");
        let name_valid = is_id(&validator.name, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        });
        if !name_valid {
            return Err(GenesisError::invalid(
                format!("{path}.name"),
                format!("must be 1 to {ID_LEN_MAX} characters of a-z A-Z 0-9 - _ ."),
            ));
        }
        if let Some(first) = names.insert(&validator.name, i) {
            return Err(GenesisError::invalid(
                format!("{path}.name"),
                format!(
                    "duplicate name '{}' (also validators[{first}])",
                    validator.name
                ),
            ));
        }
        if !org_ids.contains(validator.org_id.as_str()) {
            return Err(GenesisError::invalid(
                format!("{path}.org_id"),
                format!("no organisation has id '{}'", validator.org_id),
            ));
        }
        check_key(&validator.public_key, &format!("{path}.public_key"))?;
        if let Some(first) = keys.insert(validator.public_key, i) {
            return Err(GenesisError::invalid(
                format!("{path}.public_key"),
                format!("duplicate key (also validators[{first}])"),
            ));
        }
        total_power = check_power(validator.power, total_power, &path)?;
        let addr: P2pAddr = validator
            .p2p_addr
            .parse()
            .map_err(|e| GenesisError::invalid(format!("{path}.p2p_addr"), format!("{e}")))?;
        // Compare parsed addresses so that two spellings of one address still collide.
        if let Some(first) = addrs.insert(addr.to_string(), i) {
            return Err(GenesisError::invalid(
                format!("{path}.p2p_addr"),
                format!("duplicate address (also validators[{first}])"),
            ));
        }
    }
    Ok(())
}

/// Adds `power` to `total` after checking both; returns the new total.
fn check_power(power: u64, total: u64, path: &str) -> Result<u64> {
    if power == 0 {
        return Err(GenesisError::invalid(
            format!("{path}.power"),
            "must be at least 1",
        ));
    }
    match total.checked_add(power) {
        Some(sum) if sum <= TOTAL_POWER_MAX => Ok(sum),
        _ => Err(GenesisError::invalid(
            format!("{path}.power"),
            format!("total voting power would exceed {TOTAL_POWER_MAX} (u64::MAX / 4)"),
        )),
    }
}

/// A key must be a valid ed25519 point, in its one canonical encoding (so the byte-wise
/// duplicate checks cannot be dodged by re-encoding a key), and of large order: a small-order
/// ("weak") key lets anyone produce signatures that verify under it.
fn check_key(key: &PublicKey, path: &str) -> Result<()> {
    let point = key
        .verifying_key()
        .map_err(|e| GenesisError::invalid(path, e.to_string()))?;
    if point.to_edwards().compress().to_bytes() != key.0 {
        return Err(GenesisError::invalid(
            path,
            "not the canonical encoding of its point",
        ));
    }
    if point.is_weak() {
        return Err(GenesisError::invalid(
            path,
            "weak key (small-order point) is refused",
        ));
    }
    Ok(())
}

/// 1 to `ID_LEN_MAX` characters, each allowed by `allowed`.
fn is_id(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    let len = text.chars().count();
    (1..=ID_LEN_MAX).contains(&len) && text.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::devnet;

    /// The compressed identity point: a valid encoding of a small-order point.
    const IDENTITY_POINT: PublicKey = {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        PublicKey(bytes)
    };

    fn valid() -> Genesis {
        devnet("jiu-test", 4, 27000, Some([1; 32])).genesis
    }

    /// The first `y` that is not the encoding of a curve point.
    fn not_a_point() -> PublicKey {
        (2u8..)
            .map(|y| {
                let mut bytes = [0u8; 32];
                bytes[0] = y;
                PublicKey(bytes)
            })
            .find(|key| key.verifying_key().is_err())
            .unwrap()
    }

    fn other_key(label: &str) -> PublicKey {
        let key =
            ed25519_dalek::SigningKey::from_bytes(&jiu_contracts::sha256(&[label.as_bytes()]));
        PublicKey::from_signing_key(&key)
    }

    /// Each case breaks one rule; the error must name `field` and contain `reason`.
    #[test]
    fn test_each_rule_names_its_field() {
        type Case = (&'static str, fn(&mut Genesis), &'static str, &'static str);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("empty chain id", |g| g.chain_id.clear(), "chain_id", "1 to 64"),
            ("chain id charset", |g| g.chain_id = "jiu net".into(), "chain_id", "a-z"),
            ("chain id too long", |g| g.chain_id = "x".repeat(65), "chain_id", "1 to 64"),
            ("zero timeout", |g| g.consensus.timeout_prevote_ms = 0,
                "consensus.timeout_prevote_ms", "greater than 0"),
            ("zero delta", |g| g.consensus.timeout_precommit_delta_ms = 0,
                "consensus.timeout_precommit_delta_ms", "greater than 0"),
            ("zero block txs", |g| g.consensus.block_txs_max = 0,
                "consensus.block_txs_max", "greater than 0"),
            ("zero block bytes", |g| g.consensus.block_bytes_max = 0,
                "consensus.block_bytes_max", "greater than 0"),
            ("no orgs", |g| { g.orgs.clear(); g.validators.clear() },
                "orgs", "at least one organisation"),
            ("upper-case org id", |g| g.orgs[1].id = "Dist".into(), "orgs[1].id", "a-z 0-9"),
            ("duplicate org id", |g| g.orgs[2].id = "producer".into(),
                "orgs[2].id", "duplicate id 'producer' (also orgs[0])"),
            ("duplicate PGLN", |g| g.orgs[2].pgln = g.orgs[0].pgln,
                "orgs[2].pgln", "duplicate PGLN 9506000000015 (also orgs[0])"),
            ("empty org name", |g| g.orgs[0].name.clear(), "orgs[0].name", "1 to 128 bytes"),
            ("long org name", |g| g.orgs[0].name = "n".repeat(129), "orgs[0].name", "1 to 128 bytes"),
            ("no org keys", |g| g.orgs[3].keys.clear(), "orgs[3].keys", "1 to 16"),
            ("too many org keys",
                |g| g.orgs[3].keys = (0..17).map(|i| other_key(&i.to_string())).collect(),
                "orgs[3].keys", "1 to 16"),
            ("duplicate key within org", |g| { let k = g.orgs[1].keys[0]; g.orgs[1].keys.push(k) },
                "orgs[1].keys[1]", "duplicate key (also orgs[1].keys[0])"),
            ("duplicate key across orgs", |g| g.orgs[3].keys = g.orgs[0].keys.clone(),
                "orgs[3].keys[0]", "duplicate key (also orgs[0].keys[0])"),
            ("invalid point", |g| g.orgs[0].keys[0] = not_a_point(),
                "orgs[0].keys[0]", "not a valid ed25519 point"),
            ("non-canonical key", |g| g.orgs[0].keys[0] = PublicKey([0xff; 32]),
                "orgs[0].keys[0]", "canonical"),
            ("weak key", |g| g.orgs[0].keys[0] = IDENTITY_POINT, "orgs[0].keys[0]", "weak key"),
            ("no producer", |g| { g.orgs.remove(0); g.validators.retain(|v| v.org_id != "producer") },
                "orgs", "producer"),
            ("zero validators", |g| g.validators.clear(), "validators", "at least one validator"),
            ("empty validator name", |g| g.validators[1].name.clear(),
                "validators[1].name", "1 to 64"),
            ("validator name with slash", |g| g.validators[1].name = "../x".into(),
                "validators[1].name", "1 to 64"),
            ("duplicate validator name", |g| g.validators[3].name = "validator-1".into(),
                "validators[3].name", "duplicate name 'validator-1' (also validators[1])"),
            ("unknown org id", |g| g.validators[2].org_id = "brewery".into(),
                "validators[2].org_id", "no organisation has id 'brewery'"),
            ("duplicate validator key", |g| g.validators[2].public_key = g.validators[0].public_key,
                "validators[2].public_key", "duplicate key (also validators[0])"),
            ("zero power", |g| g.validators[0].power = 0, "validators[0].power", "at least 1"),
            ("power overflow", |g| { g.validators[0].power = u64::MAX; g.validators[1].power = u64::MAX },
                "validators[0].power", "u64::MAX / 4"),
            ("total power too big", |g| g.validators[0].power = TOTAL_POWER_MAX,
                "validators[1].power", "u64::MAX / 4"),
            ("bad p2p address", |g| g.validators[3].p2p_addr = "127.0.0.1:26656".into(),
                "validators[3].p2p_addr", "not a validator address"),
            ("port zero", |g| g.validators[3].p2p_addr = "/ip4/127.0.0.1/tcp/0".into(),
                "validators[3].p2p_addr", "port"),
            ("duplicate p2p address", |g| g.validators[3].p2p_addr = g.validators[1].p2p_addr.clone(),
                "validators[3].p2p_addr", "duplicate address (also validators[1])"),
        ];
        for (name, mutate, field, reason) in cases {
            let mut genesis = valid();
            mutate(&mut genesis);
            match genesis.validate() {
                Err(GenesisError::Invalid {
                    field: f,
                    reason: r,
                }) => {
                    assert_eq!(&f, field, "{name}: {f}: {r}");
                    assert!(r.contains(reason), "{name}: {f}: {r}");
                }
                other => panic!("{name}: expected an Invalid error, got {other:?}"),
            }
        }
    }

    #[test]
    fn test_display_names_the_field_path() {
        let mut genesis = valid();
        genesis.validators[2].public_key = genesis.validators[0].public_key;
        assert_eq!(
            genesis.validate().unwrap_err().to_string(),
            "validators[2].public_key: duplicate key (also validators[0])"
        );
    }

    #[test]
    fn test_partial_accepts_a_draft_but_not_bad_values() {
        let mut draft = valid();
        draft.orgs.clear();
        draft.validators.clear();
        draft.validate_partial().unwrap();
        assert!(draft.validate().is_err());

        let mut no_producer = valid();
        no_producer.orgs.remove(0);
        no_producer.validators.clear();
        no_producer.validate_partial().unwrap();

        let mut duplicate = valid();
        duplicate.orgs[3].keys = duplicate.orgs[0].keys.clone();
        let err = duplicate.validate_partial().unwrap_err().to_string();
        assert!(err.starts_with("orgs[3].keys[0]: duplicate key"), "{err}");

        let mut orphan = valid();
        orphan.orgs.clear();
        let err = orphan.validate_partial().unwrap_err().to_string();
        assert!(err.starts_with("validators[0].org_id"), "{err}");
    }

    #[test]
    fn test_validator_key_may_not_repeat_but_may_equal_an_org_key() {
        let mut genesis = valid();
        genesis.validators[0].public_key = genesis.orgs[0].keys[0];
        // The devnet beacon was made for the old key.
        assert!(genesis.validate().is_err());
        genesis.beacon = None;
        genesis.validate().unwrap();
    }

    #[test]
    fn test_beacon_participants_must_be_the_validators() {
        let genesis = valid();
        genesis.validate().unwrap();
        let mut fewer = genesis.clone();
        fewer.validators.pop();
        let err = fewer.validate().unwrap_err().to_string();
        assert!(err.starts_with("beacon.participants"), "{err}");
        let mut without = fewer;
        without.beacon = None;
        without.validate().unwrap();
    }

    #[test]
    fn test_two_spellings_of_one_address_collide() {
        let mut genesis = valid();
        genesis.validators[0].p2p_addr = "/ip6/::1/tcp/1".into();
        genesis.validators[1].p2p_addr = "/ip6/0:0:0:0:0:0:0:1/tcp/1".into();
        let err = genesis.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("validators[1].p2p_addr: duplicate address"),
            "{err}"
        );
    }
}
