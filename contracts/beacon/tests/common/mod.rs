//! Shared fixtures: a seeded rng, a fixed seed message, and a fault-injecting ceremony.
#![allow(dead_code)]

use jiu_beacon::dkg::{
    observe, Arbiter, Ceremony, Dealer, DealerShare, Identity, Player, Transcript,
};
use jiu_beacon::{DkgOutput, Error, PublicKey, SecretShare, SeedMessage};
use rand_chacha_10::ChaCha20Rng;
use rand_core_10::SeedableRng;

pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

pub fn message() -> SeedMessage {
    SeedMessage::new("jiu-devnet", 42, [0x11; 32], [0x22; 32], [0x33; 32]).unwrap()
}

/// `n` identities in share (key) order.
pub fn identities(n: u32, seed: u8) -> Vec<Identity> {
    let mut ids: Vec<Identity> = (0..n)
        .map(|i| {
            let mut secret = [seed; 32];
            secret[..4].copy_from_slice(&i.to_be_bytes());
            Identity::from_secret_bytes(&secret)
        })
        .collect();
    ids.sort_by_key(Identity::public_key);
    ids
}

/// Misbehaviour to inject, by share index.
#[derive(Default)]
pub struct Faults {
    /// (dealer, player): the dealer sends the player another player's share.
    pub bad_shares: Vec<(usize, usize)>,
    /// Dealers that never publish their log.
    pub withheld_logs: Vec<usize>,
    /// Dealers the arbiter disqualifies.
    pub disqualified: Vec<usize>,
}

pub struct Run {
    pub ceremony: Ceremony,
    pub identities: Vec<Identity>,
    /// (dealer, player) pairs whose share the player refused, with the error code.
    pub complaints: Vec<(usize, usize, &'static str)>,
    pub transcript: Transcript,
    /// Each player's finalization, by share index.
    pub players: Vec<Result<(DkgOutput, SecretShare), Error>>,
    pub observed: Result<DkgOutput, Error>,
}

/// Runs the message-level protocol among `n` in-process participants with `faults`.
pub fn run(n: u32, faults: &Faults, seed: u8) -> Run {
    let identities = identities(n, seed);
    let keys: Vec<PublicKey> = identities.iter().map(Identity::public_key).collect();
    let ceremony = Ceremony::new("jiu-test", &keys).unwrap();
    let mut rng = rng(seed);
    let mut players: Vec<Player> = identities
        .iter()
        .map(|me| Player::new(&ceremony, me).unwrap())
        .collect();
    let mut arbiter = Arbiter::new(&ceremony);
    let mut complaints = Vec::new();
    for (d, me) in identities.iter().enumerate() {
        let (mut dealer, commitment, shares) = Dealer::start(&ceremony, me, &mut rng).unwrap();
        for (p, (player_key, share)) in shares.iter().enumerate() {
            let share: DealerShare = if faults.bad_shares.contains(&(d, p)) {
                shares[(p + 1) % shares.len()].1.clone()
            } else {
                share.clone()
            };
            match players[p].receive(&me.public_key(), &commitment, &share) {
                Ok(Some(ack)) => dealer.receive_ack(player_key, &ack).unwrap(),
                Ok(None) => panic!("one message per dealer"),
                Err(error) => complaints.push((d, p, error.code())),
            }
        }
        let log = dealer.finalize();
        if !faults.withheld_logs.contains(&d) {
            assert_eq!(arbiter.record(log).unwrap(), me.public_key());
        }
    }
    for &d in &faults.disqualified {
        arbiter.disqualify(&keys_sorted(&identities)[d]).unwrap();
    }
    let transcript = arbiter.transcript();
    let finalized = players
        .into_iter()
        .map(|player| player.finalize(&transcript, &mut rng))
        .collect();
    let observed = observe(&ceremony, &transcript, &mut rng);
    Run {
        ceremony,
        identities,
        complaints,
        transcript,
        players: finalized,
        observed,
    }
}

fn keys_sorted(identities: &[Identity]) -> Vec<PublicKey> {
    identities.iter().map(Identity::public_key).collect()
}
