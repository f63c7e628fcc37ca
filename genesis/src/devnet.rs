//! A ready-made local network: four organisations, one of each role, and `n` validators on
//! 127.0.0.1. For development and tests only.
//!
//! With a seed, every key is `SigningKey::from_bytes(sha256(seed || label))` and the genesis
//! time is 0, so the same arguments always give the same genesis, keys and hash. A seeded
//! devnet's keys are as secret as its seed: never use one for anything that matters.

use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use jiu_contracts::gs1::Gln;
use jiu_contracts::{sha256, PublicKey, Role};

use crate::genesis::{ConsensusParams, Genesis, GenesisOrg, GenesisValidator};
use crate::keys;

/// A devnet genesis and the secret keys behind it.
pub struct Devnet {
    /// A genesis that passes [`Genesis::validate`].
    pub genesis: Genesis,
    /// The consensus key of `genesis.validators[i]`, same order.
    pub validator_keys: Vec<SigningKey>,
    /// `(org id, key)` for the one key of each organisation, in `genesis.orgs` order.
    pub org_keys: Vec<(String, SigningKey)>,
    /// The lottery beacon share of `genesis.validators[i]`, same order.
    pub beacon_shares: Vec<jiu_beacon::SecretShare>,
}

/// The devnet organisations: id, name, role, party GLN (GS1 prefix 950 is for documents
/// and examples, never a real company).
const DEVNET_ORGS: [(&str, &str, Role, &str); 4] = [
    (
        "producer",
        "Devnet Producer",
        Role::Producer,
        "9506000000015",
    ),
    (
        "distributor-1",
        "Devnet Distributor 1",
        Role::Distributor,
        "9506000000022",
    ),
    ("store-1", "Devnet Store 1", Role::Store, "9506000000039"),
    (
        "auditor-1",
        "Devnet Auditor 1",
        Role::Auditor,
        "9506000000046",
    ),
];

/// Organisations that run validators, in turn: validator `i` belongs to entry `i % 3`.
const VALIDATOR_ORGS: [&str; 3] = ["producer", "distributor-1", "store-1"];

/// Builds a devnet of `validators` validators named `validator-{i}`, each with power 1 and
/// address `/ip4/127.0.0.1/tcp/{p2p_base_port + i}`.
///
/// Key labels for a seeded devnet are `validator/{i}` and `org/{id}`.
///
/// # Panics
/// When `validators` is 0 or above [`crate::VALIDATORS_MAX`], or the ports do not fit in
/// 1..=65535: callers taking these from a user check them first.
pub fn devnet(
    chain_id: &str,
    validators: usize,
    p2p_base_port: u16,
    seed: Option<[u8; 32]>,
) -> Devnet {
    assert!(
        (1..=crate::VALIDATORS_MAX).contains(&validators),
        "a devnet needs 1 to {} validators, got {validators}",
        crate::VALIDATORS_MAX
    );
    assert!(
        p2p_base_port >= 1 && usize::from(p2p_base_port) + validators - 1 <= usize::from(u16::MAX),
        "ports {p2p_base_port}..{p2p_base_port}+{validators} do not fit in 1..=65535"
    );
    let key = |label: &str| match seed {
        Some(seed) => SigningKey::from_bytes(&sha256(&[&seed, label.as_bytes()])),
        None => keys::generate(),
    };

    let org_keys: Vec<(String, SigningKey)> = DEVNET_ORGS
        .iter()
        .map(|(id, _, _, _)| (id.to_string(), key(&format!("org/{id}"))))
        .collect();
    let orgs = DEVNET_ORGS
        .iter()
        .zip(&org_keys)
        .map(|((id, name, role, pgln), (_, org_key))| GenesisOrg {
            id: id.to_string(),
            name: name.to_string(),
            role: *role,
            keys: vec![PublicKey::from_signing_key(org_key)],
            pgln: Some(Gln::parse(pgln).expect("devnet PGLNs have valid check digits")),
        })
        .collect();

    let validator_keys: Vec<SigningKey> = (0..validators)
        .map(|i| key(&format!("validator/{i}")))
        .collect();
    let validators = validator_keys
        .iter()
        .enumerate()
        .map(|(i, validator_key)| GenesisValidator {
            name: format!("validator-{i}"),
            org_id: VALIDATOR_ORGS[i % VALIDATOR_ORGS.len()].to_string(),
            public_key: PublicKey::from_signing_key(validator_key),
            power: 1,
            p2p_addr: format!("/ip4/127.0.0.1/tcp/{}", usize::from(p2p_base_port) + i),
        })
        .collect();

    let secrets: Vec<[u8; 32]> = validator_keys.iter().map(SigningKey::to_bytes).collect();
    let rng_seed = match seed {
        Some(seed) => sha256(&[&seed, b"beacon"]),
        None => key("beacon").to_bytes(),
    };
    let (beacon, beacon_shares) = crate::beacon::devnet_ceremony(chain_id, &secrets, rng_seed)
        .expect("an in-process ceremony among honest validators succeeds");
    let genesis = Genesis {
        chain_id: chain_id.to_string(),
        genesis_time_ms: if seed.is_some() { 0 } else { now_ms() },
        consensus: ConsensusParams::default(),
        orgs,
        validators,
        provenance: Default::default(),
        beacon: Some(beacon),
    };
    Devnet {
        genesis,
        validator_keys,
        org_keys,
        beacon_shares,
    }
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_seeded_devnet_is_reproducible_and_valid() {
        let a = devnet("jiu-devnet", 7, 27000, Some([7; 32]));
        let b = devnet("jiu-devnet", 7, 27000, Some([7; 32]));
        assert_eq!(a.genesis, b.genesis);
        a.genesis.validate().unwrap();
        assert_eq!(a.genesis.genesis_time_ms, 0);
        let org_ids: Vec<&str> = a
            .genesis
            .validators
            .iter()
            .map(|v| v.org_id.as_str())
            .collect();
        assert_eq!(
            org_ids,
            [
                "producer",
                "distributor-1",
                "store-1",
                "producer",
                "distributor-1",
                "store-1",
                "producer"
            ]
        );
        assert_eq!(a.genesis.validators[6].p2p_addr, "/ip4/127.0.0.1/tcp/27006");
        for (validator, key) in a.genesis.validators.iter().zip(&a.validator_keys) {
            assert_eq!(validator.public_key, PublicKey::from_signing_key(key));
        }
        for (org, (id, key)) in a.genesis.orgs.iter().zip(&a.org_keys) {
            assert_eq!(&org.id, id);
            assert_eq!(org.keys, [PublicKey::from_signing_key(key)]);
        }
        let other_seed = devnet("jiu-devnet", 7, 27000, Some([8; 32]));
        assert_ne!(a.genesis.hash(), other_seed.genesis.hash());
    }

    #[test]
    fn test_random_devnet_is_valid_and_fresh() {
        let a = devnet("jiu-devnet", 1, 65535, None);
        let b = devnet("jiu-devnet", 1, 65535, None);
        a.genesis.validate().unwrap();
        assert_ne!(
            a.genesis.validators[0].public_key,
            b.genesis.validators[0].public_key
        );
        assert!(a.genesis.genesis_time_ms > 0);
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn test_devnet_ports_must_fit() {
        devnet("jiu-devnet", 2, 65535, Some([0; 32]));
    }
}
