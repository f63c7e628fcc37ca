//! The genesis key ceremony: a Joint-Feldman DKG (commonware `feldman_desmedt`) among the
//! validators, message by message, so a node can run it over any authenticated transport.
//!
//! Every validator is both a dealer and a player. Flow (one round, synchronous):
//!
//! 1. [`Dealer::start`]: a random polynomial of degree `t - 1`; broadcast its
//!    [`DealerCommitment`] (`g2^{a_j}`), send each player its [`DealerShare`] privately.
//! 2. [`Player::receive`]: check the share against the commitment; if it matches, return a
//!    [`PlayerAck`] (ed25519-signed) to the dealer. If not, the error is the complaint: the
//!    player withholds its ack.
//! 3. [`Dealer::receive_ack`], then [`Dealer::finalize`] at the deadline: a signed
//!    [`DealerLog`] with, per player, its ack or else the share *revealed* in public.
//! 4. [`Arbiter`]: collects the logs and fixes the [`Transcript`] everyone finalizes with.
//!    It is not trusted: each player and observer re-checks every log.
//! 5. [`Player::finalize`] -> this validator's [`crate::SecretShare`] and the [`DkgOutput`];
//!    [`observe`] -> the same output for anyone else. All agree because they apply the same
//!    checks to the same transcript.
//!
//! A dealer's log is usable only if every ack verifies, every reveal matches its commitment,
//! its commitment has degree `t - 1`, and it has at most `f` reveals; the group polynomial is
//! the sum of the first `t` usable logs in key order. Fewer than `t` usable logs fail the
//! ceremony with `CEREMONY_FAILED`.

mod local;
mod roles;

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::Encode;
use commonware_cryptography::bls12381::dkg::feldman_desmedt as fd;
use commonware_cryptography::bls12381::primitives::sharing::Mode;
use commonware_cryptography::{ed25519, Signer};
use commonware_utils::ordered::Set;
use commonware_utils::N3f1;
use jiu_types::PublicKey;
use std::fmt;
use std::num::NonZeroU32;

use crate::error::{Error, Result};
use crate::keys::{check_threshold, decode, threshold, GroupPublic, PARTICIPANTS_MAX, V};

pub use local::{run_in_process, run_local_ceremony, LocalCeremony};
pub use roles::{observe, Arbiter, Dealer, Player, PlayerShares};

/// Prefix of the DKG namespace; the chain id follows. Every ack and log signature commits to
/// it (through commonware's transcript), so messages of one ceremony are void in another.
pub const DKG_NAMESPACE_PREFIX: &[u8] = b"jiu/beacon/dkg/v1/";

/// The fault model: `f = floor((n - 1) / 3)`, quorum `n - f`.
pub(crate) type F = N3f1;
pub(crate) type Id = ed25519::PublicKey;

fn max_participants() -> NonZeroU32 {
    NonZeroU32::new(PARTICIPANTS_MAX).unwrap_or(NonZeroU32::MIN)
}

pub(crate) fn to_id(key: &PublicKey) -> Result<Id> {
    decode::<Id>("participant key", &key.0, &())
}

pub(crate) fn from_id(id: &Id) -> PublicKey {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(id.as_ref());
    PublicKey(bytes)
}

/// A participant's DKG identity: the ed25519 key that signs its acks and its dealer log,
/// and names it in the output. The validator's consensus key works (the DKG signs only
/// under its own namespace); a dedicated key works as well if genesis lists it.
#[derive(Clone)]
pub struct Identity {
    key: ed25519::PrivateKey,
    public: PublicKey,
}

impl Identity {
    /// From the 32-byte ed25519 secret (seed), as stored in a validator key file.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Self {
        let key = decode::<ed25519::PrivateKey>("identity", secret, &())
            .expect("any 32 bytes are an ed25519 seed");
        let public = from_id(&key.public_key());
        Self { key, public }
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.public)
    }
}

/// One ceremony: the chain it is for and its participants (ascending key order; share `i`
/// belongs to the `i`-th). Round 0, no previous key: this is a fresh DKG, not a reshare.
#[derive(Clone)]
pub struct Ceremony {
    info: fd::Info<V, Id>,
    participants: Vec<PublicKey>,
}

impl Ceremony {
    /// Refuses no participants, more than [`PARTICIPANTS_MAX`], a repeated key, or a key
    /// that is not an ed25519 point.
    pub fn new(chain_id: &str, participants: &[PublicKey]) -> Result<Self> {
        let n = u32::try_from(participants.len()).unwrap_or(u32::MAX);
        check_threshold(n, threshold(n))?;
        let mut sorted = participants.to_vec();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::DuplicateParticipant(pair[0]));
        }
        let ids = sorted.iter().map(to_id).collect::<Result<Vec<_>>>()?;
        let set = Set::try_from(ids)
            .map_err(|_| Error::Inconsistent("participant keys must be distinct"))?;
        let namespace = [DKG_NAMESPACE_PREFIX, chain_id.as_bytes()].concat();
        #[allow(deprecated)]
        let info = fd::Info::new::<F>(
            &namespace,
            0,
            None,
            Mode::NonZeroCounter,
            fd::Reveal::V1,
            set.clone(),
            set,
        )
        .map_err(|error| Error::malformed("ceremony", error))?;
        Ok(Self {
            info,
            participants: sorted,
        })
    }

    pub fn n(&self) -> u32 {
        self.participants.len() as u32
    }

    /// Shares needed to sign: `n - f`. It is also the number of dealer logs summed.
    pub fn threshold(&self) -> u32 {
        threshold(self.n())
    }

    /// `f`: most complaints (reveals) a dealer's log may carry and still be used.
    pub fn max_complaints(&self) -> u32 {
        self.n() - self.threshold()
    }

    /// Participants in share order.
    pub fn participants(&self) -> &[PublicKey] {
        &self.participants
    }

    fn check_participant(&self, key: &PublicKey) -> Result<Id> {
        if self.participants.binary_search(key).is_err() {
            return Err(Error::NotAParticipant(*key));
        }
        to_id(key)
    }
}

impl fmt::Debug for Ceremony {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ceremony")
            .field("round", &self.info.round())
            .field("participants", &self.participants)
            .finish()
    }
}

/// What a successful ceremony produced, identical for every player and observer.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct DkgOutput {
    /// The genesis-facing public key material.
    pub public: GroupPublic,
    /// Dealers whose polynomials were summed (the first `t` usable logs, key order).
    pub dealers: Vec<PublicKey>,
    /// Players whose final share could be rebuilt from public reveals. Empty under synchrony
    /// with honest dealers; a listed player's share must be treated as known to everyone
    /// (it counts against `f`), so a genesis ceremony with a non-empty list should be re-run.
    pub revealed: Vec<PublicKey>,
}

impl DkgOutput {
    fn from_output(output: &fd::Output<V, Id>) -> Result<Self> {
        let participants = output.players().iter().map(from_id).collect();
        Ok(Self {
            public: GroupPublic::from_sharing(output.public().clone(), participants)?,
            dealers: output.dealers().iter().map(from_id).collect(),
            revealed: output.revealed().iter().map(from_id).collect(),
        })
    }
}

/// Byte encodings of the protocol messages (commonware's codec) with bounded decoding.
macro_rules! message_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $what:expr, $cfg:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq)]
        pub struct $name(pub(crate) $inner);

        impl $name {
            /// The wire bytes.
            pub fn to_bytes(&self) -> Vec<u8> {
                self.0.encode().to_vec()
            }

            /// Parses [`Self::to_bytes`]; refuses invalid points or scalars, more than
            /// `PARTICIPANTS_MAX` entries and trailing bytes. Never panics.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
                decode::<$inner>($what, bytes, &$cfg).map(Self)
            }
        }
    };
}

message_type!(
    /// A dealer's public commitment to its polynomial, `g2^{a_0} .. g2^{a_{t-1}}`; broadcast.
    DealerCommitment,
    fd::DealerPubMsg<V>,
    "dealer commitment",
    max_participants()
);

message_type!(
    /// A dealer's evaluation for one player (32 bytes): send it only over an encrypted,
    /// authenticated channel to that player. `Debug` redacts it.
    DealerShare,
    fd::DealerPrivMsg,
    "dealer share",
    ()
);

message_type!(
    /// A player's signed acknowledgement that the dealer's share matched its commitment.
    PlayerAck,
    fd::PlayerAck<Id>,
    "player ack",
    ()
);

message_type!(
    /// A dealer's signed log: its commitment and, per player, the ack or the revealed share.
    DealerLog,
    fd::SignedDealerLog<V, Id>,
    "dealer log",
    max_participants()
);

impl DealerLog {
    /// The dealer key the log names (its first 32 bytes); authentic only once the log's
    /// signature has been checked.
    pub fn claimed_dealer(&self) -> PublicKey {
        let bytes = self.to_bytes();
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        PublicKey(key)
    }
}

impl fmt::Debug for DealerCommitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DealerCommitment({} bytes)", self.to_bytes().len())
    }
}

impl fmt::Debug for DealerShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DealerShare([REDACTED])")
    }
}

impl fmt::Debug for PlayerAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlayerAck({})", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for DealerLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DealerLog({} bytes)", self.to_bytes().len())
    }
}

/// The dealer logs every participant finalizes with, in dealer key order. Whoever holds the
/// same transcript computes the same output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcript {
    logs: Vec<DealerLog>,
}

impl Transcript {
    pub fn logs(&self) -> &[DealerLog] {
        &self.logs
    }

    /// `count (4, BE)` then per log `length (4, BE) || log bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = (self.logs.len() as u32).to_be_bytes().to_vec();
        for log in &self.logs {
            let bytes = log.to_bytes();
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(&bytes);
        }
        out
    }

    /// Parses [`Self::to_bytes`]; at most `PARTICIPANTS_MAX` logs. Never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |reason: &str| Error::malformed("transcript", reason);
        let mut rest = bytes;
        let take_u32 = |rest: &mut &[u8]| -> Result<u32> {
            let (head, tail) = rest.split_at_checked(4).ok_or_else(|| bad("truncated"))?;
            *rest = tail;
            let mut word = [0u8; 4];
            word.copy_from_slice(head);
            Ok(u32::from_be_bytes(word))
        };
        let count = take_u32(&mut rest)?;
        if count > PARTICIPANTS_MAX {
            return Err(bad("too many logs"));
        }
        let mut logs = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let len = take_u32(&mut rest)? as usize;
            let (log, tail) = rest.split_at_checked(len).ok_or_else(|| bad("truncated"))?;
            logs.push(DealerLog::from_bytes(log)?);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Self { logs })
    }

    /// Checks every log's signature for `ceremony` and gathers them for finalization.
    /// A log that is not signed for this ceremony makes the transcript unusable.
    fn checked(&self, ceremony: &Ceremony) -> Result<fd::Logs<V, Id, F>> {
        let mut logs = fd::Logs::new(ceremony.info.clone());
        for log in &self.logs {
            let dealer = log.claimed_dealer();
            let (id, log) = log
                .0
                .clone()
                .check(&ceremony.info)
                .ok_or(Error::BadDealerLog { dealer })?;
            if logs.record(id, log) {
                return Err(Error::ConflictingDealerLog { dealer });
            }
        }
        Ok(logs)
    }
}

/// Maps commonware's round failure to [`Error::CeremonyFailed`].
fn ceremony_failed(failure: fd::Failure<Id>) -> Error {
    let fd::Failure::InsufficientLogs {
        required,
        found,
        faults,
        unavailable,
    } = failure;
    Error::CeremonyFailed {
        required,
        found,
        faulty: faults.iter().map(from_id).collect(),
        unavailable: unavailable.iter().map(from_id).collect(),
    }
}

#[cfg(test)]
mod tests;
