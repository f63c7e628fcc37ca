//! The lottery beacon at genesis: the group key section of the genesis, the share files,
//! the devnet ceremony (jiu-beacon implements the chain's `Beacon` for `GroupPublic`).
//!
//! The genesis `beacon` section is jiu-beacon's [`GroupPublic`]: `n`, `threshold`, the group
//! key, the public polynomial and the participants, which must be exactly the validators'
//! consensus keys (share `i` belongs to the `i`-th key in byte order). Validator `i` keeps
//! its [`SecretShare`] in a share file (mode 0600) next to its consensus key.
//!
//! The devnet runs the real Joint-Feldman ceremony among its validators in one process
//! ([`jiu_beacon::dkg::run_in_process`]): every validator deals, checks and acks. That one
//! process sees every dealer's polynomial, as it sees every devnet key; a real consortium
//! runs the same roles on each operator's machine, exchanging the messages over
//! authenticated channels (`docs/lottery-beacon.md`).

use std::path::Path;

use jiu_beacon::{GroupPublic, Identity, SecretShare};

use crate::error::{GenesisError, Result};

/// Largest share file read.
const SHARE_FILE_BYTES_MAX: u64 = 16 * 1024;

/// Runs the genesis ceremony among the validators' consensus keys (devnet: all in this
/// process). Returns the public output and each validator's share, in the order of
/// `validator_secrets`.
pub fn devnet_ceremony(
    chain_id: &str,
    validator_secrets: &[[u8; 32]],
    rng_seed: [u8; 32],
) -> Result<(GroupPublic, Vec<SecretShare>)> {
    use jiu_beacon::rand_core::SeedableRng;
    let identities: Vec<Identity> = validator_secrets
        .iter()
        .map(Identity::from_secret_bytes)
        .collect();
    let mut rng = rand_chacha_10::ChaCha20Rng::from_seed(rng_seed);
    let ceremony = jiu_beacon::dkg::run_in_process(chain_id, &identities, &mut rng)
        .map_err(|e| GenesisError::invalid("beacon", format!("ceremony failed: {e}")))?;
    if !ceremony.output.revealed.is_empty() {
        return Err(GenesisError::invalid(
            "beacon",
            "the ceremony revealed a share; run it again",
        ));
    }
    // The ceremony orders shares by key; give each validator its own.
    let shares = identities
        .iter()
        .map(|me| {
            let at = ceremony
                .identities
                .iter()
                .position(|i| i.public_key() == me.public_key())
                .expect("every identity took part");
            ceremony.shares[at].clone()
        })
        .collect();
    Ok((ceremony.output.public, shares))
}

/// Writes a share to a new file with mode 0600; refuses to overwrite.
pub fn write_share_file(path: &Path, share: &SecretShare) -> Result<()> {
    let mut text =
        serde_json::to_string_pretty(share).map_err(|e| GenesisError::Json(e.to_string()))?;
    text.push('\n');
    crate::keys::write_new_secret(path, text.as_bytes())
}

/// Reads a share file and checks it against the genesis group (its public share must be
/// the polynomial's value at its index).
pub fn read_share_file(path: &Path, public: &GroupPublic) -> Result<SecretShare> {
    let text = crate::keys::read_small(path, SHARE_FILE_BYTES_MAX)?;
    let share: SecretShare = serde_json::from_str(&text)
        .map_err(|e| GenesisError::Json(format!("{}: {e}", path.display())))?;
    share.check(public).map_err(|e| {
        GenesisError::invalid(
            "beacon",
            format!(
                "share file {} does not match the genesis: {e}",
                path.display()
            ),
        )
    })?;
    Ok(share)
}
