//! The whole ceremony among in-process participants: for the devnet (one machine plays every
//! validator) and for tests. It runs the real protocol, message by message; no party ever
//! holds the group secret.

use jiu_types::PublicKey;
use rand_core_10::CryptoRng;

use super::{observe, Arbiter, Ceremony, Dealer, DkgOutput, Identity, Player};
use crate::error::{Error, Result};
use crate::keys::{threshold, SecretShare};

/// Chain id [`run_local_ceremony`] binds its transcript to.
pub const LOCAL_CHAIN_ID: &str = "jiu-local";

/// Result of an in-process ceremony: the public output and every participant's share.
#[derive(Debug)]
pub struct LocalCeremony {
    pub output: DkgOutput,
    /// The participants' identities, in share order.
    pub identities: Vec<Identity>,
    /// `shares[i]` belongs to `identities[i]` and has index `i`.
    pub shares: Vec<SecretShare>,
}

/// Runs a ceremony among `n` fresh identities drawn from `rng`. `t` must be
/// [`threshold`]`(n)`: the threshold is fixed by the fault model, the argument only states
/// the caller's expectation (`BAD_THRESHOLD` otherwise).
pub fn run_local_ceremony(n: u32, t: u32, rng: &mut impl CryptoRng) -> Result<LocalCeremony> {
    crate::keys::check_threshold(n, t)?;
    let identities: Vec<Identity> = (0..n)
        .map(|_| {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            Identity::from_secret_bytes(&secret)
        })
        .collect();
    run_in_process(LOCAL_CHAIN_ID, &identities, rng)
}

/// Runs a ceremony among the given identities (e.g. the devnet's validator keys): every
/// dealer deals, every player checks and acks, dealers finalize, one arbiter fixes the
/// transcript, every player finalizes, and an observer checks that all agree.
pub fn run_in_process(
    chain_id: &str,
    identities: &[Identity],
    rng: &mut impl CryptoRng,
) -> Result<LocalCeremony> {
    let keys: Vec<PublicKey> = identities.iter().map(Identity::public_key).collect();
    let ceremony = Ceremony::new(chain_id, &keys)?;
    let mut identities = identities.to_vec();
    identities.sort_by_key(Identity::public_key);

    let mut players = identities
        .iter()
        .map(|me| Player::new(&ceremony, me))
        .collect::<Result<Vec<_>>>()?;
    let mut arbiter = Arbiter::new(&ceremony);
    for me in &identities {
        let (mut dealer, commitment, shares) = Dealer::start(&ceremony, me, rng)?;
        for (i, ((player_key, share), player)) in shares.iter().zip(&mut players).enumerate() {
            assert_eq!(
                player_key,
                &ceremony.participants()[i],
                "shares come in key order"
            );
            if let Some(ack) = player.receive(&me.public_key(), &commitment, share)? {
                dealer.receive_ack(player_key, &ack)?;
            }
        }
        arbiter.record(dealer.finalize())?;
    }
    let transcript = arbiter.transcript();

    let mut shares = Vec::with_capacity(players.len());
    let mut output = None;
    for player in players {
        let (player_output, share) = player.finalize(&transcript, rng)?;
        assert!(
            output.as_ref().is_none_or(|o| *o == player_output),
            "players finalizing one transcript agree"
        );
        output = Some(player_output);
        shares.push(share);
    }
    let output = output.ok_or(Error::Inconsistent("a ceremony has participants"))?;
    assert_eq!(
        observe(&ceremony, &transcript, rng)?,
        output,
        "observer agrees"
    );
    assert_eq!(output.public.threshold(), threshold(ceremony.n()));
    Ok(LocalCeremony {
        output,
        identities,
        shares,
    })
}
