//! A consortium's beacon ceremony over files (`jiu dkg`): each validator operator runs only
//! its own dealer and player, on its own machine, and the operators move files between their
//! ceremony directories. No machine ever holds another dealer's polynomial, unlike the
//! devnet's in-process ceremony ([`crate::beacon::devnet_ceremony`]).
//!
//! # Steps
//!
//! 1. [`deal`]: draw a 32-byte dealer seed (OS randomness), keep it, and from it the
//!    polynomial: write the public commitment and one private share per validator.
//! 2. [`ack`]: as a player, check every share received against its dealer's commitment and
//!    write an ack (an ed25519 signature) for each good one. A bad share is a complaint: no ack.
//! 3. [`log`]: as a dealer, at the agreed deadline, fold the acks received into the signed
//!    dealer log; every share without a valid ack is revealed in it.
//! 4. [`finish`]: build the transcript from the logs and compute this validator's share file;
//!    [`set_beacon`]: anyone computes the same public output and writes it into the genesis.
//!
//! # Layout
//!
//! A file has the same path relative to the ceremony directory on the machine that writes it
//! and on every machine it is sent to (keys are lowercase hex):
//!
//! ```text
//! ceremony.json                  public   chain id and validator keys this directory is for
//! <me>/dealer-seed.json          SECRET   never leaves the dealer's machine
//! commitments/<dealer>.bin       public   dealer -> every validator
//! shares/<dealer>/to-<player>.bin SECRET  dealer -> that player only, privately
//! acks/<dealer>/from-<player>.bin public  player -> that dealer
//! logs/<dealer>.bin              public   dealer -> every validator (and the genesis builder)
//! transcript.bin                 public   written by finish and set-beacon; compare its hash
//! ```
//!
//! # Why nothing but the seed is saved
//!
//! commonware's dealer and player states cannot be serialized, so every step rebuilds them:
//! the dealer from its seed through ChaCha20 (the same polynomial, commitment and shares
//! every time; [`log`] refuses a seed whose commitment is not the published one), the player
//! by receiving again the shares it was sent (an ack is a deterministic ed25519 signature,
//! so the acks it sent are the ones it would send again).
//!
//! Invariants: a dealer deals once ([`deal`] never overwrites its seed) and signs one log
//! ([`log`] never replaces a different one); a player acks at most one commitment per dealer;
//! secret files are created with mode 0600 in directories with mode 0700; the transcript is
//! a function of the set of log files (dealer key order), so operators holding the same logs
//! compute the same bytes.

mod error;
mod files;

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use jiu_beacon::dkg::{
    observe, Arbiter, Ceremony, Dealer, DealerCommitment, DealerLog, DealerShare, Player,
    PlayerAck, Transcript,
};
use jiu_beacon::rand_core::SeedableRng;
use jiu_beacon::{DkgOutput, Identity};
use jiu_contracts::{sha256, Hash, PublicKey};
use rand::RngCore;
use rand_chacha_10::ChaCha20Rng;

use crate::genesis::Genesis;
use error::protocol;
use files::{read_optional, read_required, read_seed, write_public, write_secret, write_seed};

pub use error::{CeremonyError, Result, Step};
pub use files::CeremonyDir;

/// What [`deal`] wrote: the files to send.
#[derive(Debug)]
pub struct Dealt {
    pub dealer: PublicKey,
    /// The seed existed: the files were rebuilt from it, not drawn anew.
    pub resumed: bool,
    /// Secret, stays here.
    pub seed: PathBuf,
    /// Public, for every validator.
    pub commitment: PathBuf,
    /// `(player, file)`, each for that player only (this validator's own included).
    pub shares: Vec<(PublicKey, PathBuf)>,
}

/// A dealer this player did not ack, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Complaint {
    pub dealer: PublicKey,
    pub reason: String,
}

/// What [`ack`] did, per dealer.
#[derive(Debug, Default)]
pub struct Acked {
    /// `(dealer, ack file)`: send each file to its dealer.
    pub acked: Vec<(PublicKey, PathBuf)>,
    /// Dealers whose share or commitment was refused: no ack.
    pub complaints: Vec<Complaint>,
    /// `(dealer, missing file)`: nothing to check yet.
    pub waiting: Vec<(PublicKey, PathBuf)>,
}

/// What [`log`] wrote.
#[derive(Debug)]
pub struct Logged {
    /// Public, for every validator.
    pub path: PathBuf,
    /// Players whose ack verified.
    pub acked: Vec<PublicKey>,
    /// `(player, why)`: players whose share the log reveals.
    pub revealed: Vec<(PublicKey, String)>,
    /// More than `f` reveals: the log carries no results and the dealer will not be used.
    pub unusable: bool,
}

/// The transcript built from a directory's `logs/`.
#[derive(Debug)]
pub struct TranscriptView {
    pub transcript: Transcript,
    /// SHA-256 of [`Transcript::to_bytes`] (of `transcript.bin`); operators compare it.
    pub hash: Hash,
    /// Dealers whose log is in the transcript, key order.
    pub dealers: Vec<PublicKey>,
    /// Dealers with no log file.
    pub missing: Vec<PublicKey>,
    /// `(dealer, why)`: log files left out (undecodable, misnamed or not signed for this
    /// ceremony).
    pub refused: Vec<(PublicKey, String)>,
}

/// What [`finish`] computed.
#[derive(Debug)]
pub struct Finished {
    pub output: DkgOutput,
    pub transcript: TranscriptView,
    /// This validator's share index (its position among the sorted validator keys).
    pub index: u32,
    /// Where the share file was written (mode 0600).
    pub share_file: PathBuf,
}

/// What [`set_beacon`] computed.
#[derive(Debug)]
pub struct BeaconSet {
    pub output: DkgOutput,
    pub transcript: TranscriptView,
    /// False when the genesis already held this beacon.
    pub changed: bool,
}

/// Step 1. Draws this validator's dealer seed and writes its seed (secret), commitment
/// (public) and one share file per validator (each secret to that validator). Run again, it
/// rebuilds the same files from the saved seed (to send them again); it never draws a
/// second seed, which would be a second polynomial.
pub fn deal(dir: &CeremonyDir, genesis: &Genesis, key: &SigningKey) -> Result<Dealt> {
    let step = Step::Deal;
    let (ceremony, me) = open_as(step, dir, genesis, key)?;
    let dealer = me.public_key();
    let seed_path = dir.dealer_seed(&dealer);
    let resumed = seed_path.exists();
    let seed = if resumed {
        read_seed(step, &seed_path, &dealer)?
    } else {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        write_seed(step, &seed_path, dealer, &seed)?;
        seed
    };

    let (_, commitment, shares) = start_dealer(step, &ceremony, &me, &seed)?;
    let commitment_path = dir.commitment(&dealer);
    match read_optional(step, &commitment_path)? {
        Some(published) if published != commitment.to_bytes() => {
            return Err(CeremonyError::CommitmentMismatch {
                step,
                seed: seed_path,
                published: commitment_path,
            })
        }
        Some(_) => {}
        None => write_public(step, &commitment_path, &commitment.to_bytes())?,
    }
    let mut written = Vec::with_capacity(shares.len());
    for (player, share) in shares {
        let path = dir.share(&dealer, &player);
        write_secret(step, &path, &share.to_bytes(), false)?;
        written.push((player, path));
    }
    Ok(Dealt {
        dealer,
        resumed,
        seed: seed_path,
        commitment: commitment_path,
        shares: written,
    })
}

/// Step 2. For every dealer whose commitment and share to this validator are present, checks
/// the share and writes the ack for that dealer; a refused share is a complaint (no ack).
/// Safe to run again as more files arrive.
pub fn ack(dir: &CeremonyDir, genesis: &Genesis, key: &SigningKey) -> Result<Acked> {
    let step = Step::Ack;
    let (ceremony, me) = open_as(step, dir, genesis, key)?;
    let player_key = me.public_key();
    let mut player = Player::new(&ceremony, &me).map_err(|error| protocol(step, error))?;
    let mut acked = Acked::default();
    for dealer in ceremony.participants() {
        let received = match read_dealing(step, dir, dealer, &player_key)? {
            Dealing::Missing(path) => {
                acked.waiting.push((*dealer, path));
                continue;
            }
            Dealing::Refused(reason) => Err(reason),
            Dealing::Present(commitment, share) => player
                .receive(dealer, &commitment, &share)
                .map_err(|error| error.to_string()),
        };
        let complain = |reason: String| Complaint {
            dealer: *dealer,
            reason,
        };
        match received {
            Ok(Some(ack)) => {
                let path = dir.ack(dealer, &player_key);
                match read_optional(step, &path)? {
                    Some(sent) if sent != ack.to_bytes() => acked.complaints.push(complain(
                        format!("{} acks another commitment of this dealer", path.display()),
                    )),
                    Some(_) => acked.acked.push((*dealer, path)),
                    None => {
                        write_public(step, &path, &ack.to_bytes())?;
                        acked.acked.push((*dealer, path));
                    }
                }
            }
            Ok(None) => unreachable!("each dealer is received once per run"),
            Err(reason) => acked.complaints.push(complain(reason)),
        }
    }
    Ok(acked)
}

/// Step 3. Rebuilds this dealer from its seed (refusing a seed whose commitment is not the
/// published one), records the acks received and writes the signed log. Run it once, at the
/// deadline the operators agreed; running it again with the same acks is a no-op.
pub fn log(dir: &CeremonyDir, genesis: &Genesis, key: &SigningKey) -> Result<Logged> {
    let step = Step::Log;
    let (ceremony, me) = open_as(step, dir, genesis, key)?;
    let dealer_key = me.public_key();
    let seed_path = dir.dealer_seed(&dealer_key);
    let seed = read_seed(step, &seed_path, &dealer_key)?;
    let (mut dealer, commitment, _) = start_dealer(step, &ceremony, &me, &seed)?;
    let published = dir.commitment(&dealer_key);
    if read_required(step, &published)? != commitment.to_bytes() {
        return Err(CeremonyError::CommitmentMismatch {
            step,
            seed: seed_path,
            published,
        });
    }

    let mut acked = Vec::new();
    let mut revealed = Vec::new();
    for player in ceremony.participants() {
        let path = dir.ack(&dealer_key, player);
        let outcome = match read_optional(step, &path)? {
            None => Err("no ack".to_string()),
            Some(bytes) => PlayerAck::from_bytes(&bytes)
                .and_then(|ack| dealer.receive_ack(player, &ack))
                .map_err(|error| error.to_string()),
        };
        match outcome {
            Ok(()) => acked.push(*player),
            Err(why) => revealed.push((*player, why)),
        }
    }
    let bytes = dealer.finalize().to_bytes();
    let path = dir.log(&dealer_key);
    match read_optional(step, &path)? {
        Some(existing) if existing != bytes => return Err(CeremonyError::LogExists { path }),
        Some(_) => {}
        None => write_public(step, &path, &bytes)?,
    }
    let unusable = revealed.len() > ceremony.max_complaints() as usize;
    Ok(Logged {
        path,
        acked,
        revealed,
        unusable,
    })
}

/// Step 4, per validator. Builds the transcript from `logs/`, receives again every share sent
/// to this validator, and writes its share file to `out` (mode 0600, never overwritten).
/// Refuses when the ceremony revealed any validator's share, or when the genesis already
/// holds a different beacon.
pub fn finish(
    dir: &CeremonyDir,
    genesis: &Genesis,
    key: &SigningKey,
    out: &Path,
) -> Result<Finished> {
    let step = Step::Finish;
    let (ceremony, me) = open_as(step, dir, genesis, key)?;
    let view = collect_transcript(step, dir, &ceremony)?;
    let player_key = me.public_key();
    let mut player = Player::new(&ceremony, &me).map_err(|error| protocol(step, error))?;
    for dealer in ceremony.participants() {
        if let Dealing::Present(commitment, share) = read_dealing(step, dir, dealer, &player_key)? {
            // A share refused here was refused at `ack` too: the dealer's log reveals it.
            let _complaint = player.receive(dealer, &commitment, &share);
        }
    }
    let (output, share) = player
        .finalize(&view.transcript, &mut os_seeded_rng())
        .map_err(|error| protocol(step, error))?;
    check_output(step, genesis, &output)?;
    if genesis.beacon.as_ref().is_some_and(|b| *b != output.public) {
        return Err(CeremonyError::BeaconMismatch { step });
    }
    crate::beacon::write_share_file(out, &share)
        .map_err(|source| CeremonyError::ShareFile { step, source })?;
    Ok(Finished {
        index: share.index(),
        output,
        transcript: view,
        share_file: out.to_path_buf(),
    })
}

/// Step 4, for whoever builds the genesis: computes the output from `logs/` alone (no
/// secret) and sets `genesis.beacon`. Refuses a failed ceremony, one that revealed a share,
/// and a genesis holding a different beacon unless `replace`.
pub fn set_beacon(dir: &CeremonyDir, genesis: &mut Genesis, replace: bool) -> Result<BeaconSet> {
    let step = Step::SetBeacon;
    let ceremony = open(step, dir, genesis)?;
    let view = collect_transcript(step, dir, &ceremony)?;
    let output = observe(&ceremony, &view.transcript, &mut os_seeded_rng())
        .map_err(|error| protocol(step, error))?;
    check_output(step, genesis, &output)?;
    let changed = match &genesis.beacon {
        Some(beacon) if *beacon == output.public => false,
        Some(_) if !replace => return Err(CeremonyError::BeaconMismatch { step }),
        _ => true,
    };
    genesis.beacon = Some(output.public.clone());
    Ok(BeaconSet {
        output,
        transcript: view,
        changed,
    })
}

/// The output must be for exactly the genesis validators and reveal no share.
fn check_output(step: Step, genesis: &Genesis, output: &DkgOutput) -> Result<()> {
    if output.public.participants() != validator_keys(genesis).as_slice() {
        return Err(CeremonyError::NotTheValidators { step });
    }
    if !output.revealed.is_empty() {
        return Err(CeremonyError::Revealed {
            step,
            players: output.revealed.clone(),
        });
    }
    Ok(())
}

/// The transcript of the logs present, in dealer key order; a log file that does not decode,
/// names another dealer or is not signed for this ceremony is left out and reported.
fn collect_transcript(
    step: Step,
    dir: &CeremonyDir,
    ceremony: &Ceremony,
) -> Result<TranscriptView> {
    let mut arbiter = Arbiter::new(ceremony);
    let mut dealers = Vec::new();
    let mut missing = Vec::new();
    let mut refused = Vec::new();
    for dealer in ceremony.participants() {
        let Some(bytes) = read_optional(step, &dir.log(dealer))? else {
            missing.push(*dealer);
            continue;
        };
        let recorded = DealerLog::from_bytes(&bytes)
            .map_err(|error| error.to_string())
            .and_then(|log| match log.claimed_dealer() {
                claimed if claimed != *dealer => Err(format!("the log is signed as {claimed}")),
                _ => arbiter.record(log).map_err(|error| error.to_string()),
            });
        match recorded {
            Ok(_) => dealers.push(*dealer),
            Err(why) => refused.push((*dealer, why)),
        }
    }
    let transcript = arbiter.transcript();
    let bytes = transcript.to_bytes();
    write_public(step, &dir.transcript(), &bytes)?;
    Ok(TranscriptView {
        hash: sha256(&[&bytes]),
        transcript,
        dealers,
        missing,
        refused,
    })
}

/// A dealer's commitment and share to `player`, as found in the directory.
enum Dealing {
    /// The first of the two files that is not there yet.
    Missing(PathBuf),
    /// Present but not decodable: a complaint.
    Refused(String),
    Present(DealerCommitment, DealerShare),
}

fn read_dealing(
    step: Step,
    dir: &CeremonyDir,
    dealer: &PublicKey,
    player: &PublicKey,
) -> Result<Dealing> {
    let commitment_path = dir.commitment(dealer);
    let share_path = dir.share(dealer, player);
    let Some(commitment) = read_optional(step, &commitment_path)? else {
        return Ok(Dealing::Missing(commitment_path));
    };
    let Some(share) = read_optional(step, &share_path)? else {
        return Ok(Dealing::Missing(share_path));
    };
    let decoded = DealerCommitment::from_bytes(&commitment)
        .map_err(|e| format!("{}: {e}", commitment_path.display()))
        .and_then(|commitment| {
            DealerShare::from_bytes(&share)
                .map(|share| Dealing::Present(commitment, share))
                .map_err(|e| format!("{}: {e}", share_path.display()))
        });
    Ok(decoded.unwrap_or_else(Dealing::Refused))
}

/// The ceremony of the genesis draft, checked against (or recorded in) `ceremony.json`.
fn open(step: Step, dir: &CeremonyDir, genesis: &Genesis) -> Result<Ceremony> {
    genesis
        .validate_partial()
        .map_err(|source| CeremonyError::Genesis { step, source })?;
    let ceremony = Ceremony::new(&genesis.chain_id, &validator_keys(genesis))
        .map_err(|error| protocol(step, error))?;
    files::bind(step, dir, &genesis.chain_id, ceremony.participants())?;
    Ok(ceremony)
}

/// [`open`], as the validator holding `key`.
fn open_as(
    step: Step,
    dir: &CeremonyDir,
    genesis: &Genesis,
    key: &SigningKey,
) -> Result<(Ceremony, Identity)> {
    let ceremony = open(step, dir, genesis)?;
    let me = Identity::from_secret_bytes(&key.to_bytes());
    assert_eq!(
        me.public_key(),
        PublicKey::from_signing_key(key),
        "the DKG identity is the consensus key"
    );
    if ceremony
        .participants()
        .binary_search(&me.public_key())
        .is_err()
    {
        return Err(CeremonyError::NotAValidator {
            step,
            key: me.public_key(),
        });
    }
    Ok((ceremony, me))
}

fn validator_keys(genesis: &Genesis) -> Vec<PublicKey> {
    let mut keys: Vec<PublicKey> = genesis.validators.iter().map(|v| v.public_key).collect();
    keys.sort();
    keys
}

/// The dealer the seed gives: the same polynomial, commitment and shares every time.
fn start_dealer(
    step: Step,
    ceremony: &Ceremony,
    me: &Identity,
    seed: &[u8; 32],
) -> Result<(Dealer, DealerCommitment, jiu_beacon::dkg::PlayerShares)> {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    Dealer::start(ceremony, me, &mut rng).map_err(|error| protocol(step, error))
}

/// Randomness for batch verification while finalizing: it must be unpredictable to the
/// dealers (a fixed seed would let a dealer craft logs that pass the batch check), and the
/// output does not depend on it.
fn os_seeded_rng() -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}
