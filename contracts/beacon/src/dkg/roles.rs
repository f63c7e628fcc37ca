//! The three roles of the ceremony: dealer, player, arbiter (plus the observer function).
//!
//! Randomness is the caller's: a dealer needs it for its polynomial, and finalization uses it
//! only to randomize batch verification (the output does not depend on it).

use std::collections::{BTreeMap, BTreeSet};

use commonware_cryptography::bls12381::dkg::feldman_desmedt as fd;
use commonware_cryptography::ed25519;
use commonware_parallel::Sequential;
use jiu_types::PublicKey;
use rand_core_10::CryptoRng;

use super::{
    ceremony_failed, from_id, Ceremony, DealerCommitment, DealerLog, DealerShare, DkgOutput,
    Identity, PlayerAck, Transcript, F,
};
use crate::error::{Error, Result};
use crate::keys::{SecretShare, V};

/// A dealer's evaluations, one per player in key order, each to be sent to that player only.
pub type PlayerShares = Vec<(PublicKey, DealerShare)>;

/// A dealer's state between [`Dealer::start`] and [`Dealer::finalize`].
pub struct Dealer {
    inner: fd::Dealer<V, ed25519::PrivateKey>,
    ceremony: Ceremony,
}

impl Dealer {
    /// Draws this dealer's random polynomial. Returns the commitment to broadcast and one
    /// share per player (including this validator's own), each for that player only.
    pub fn start(
        ceremony: &Ceremony,
        me: &Identity,
        rng: &mut impl CryptoRng,
    ) -> Result<(Self, DealerCommitment, PlayerShares)> {
        ceremony.check_participant(&me.public_key())?;
        let (inner, commitment, shares) =
            fd::Dealer::start::<F>(&mut *rng, ceremony.info.clone(), me.key.clone(), None)
                .map_err(|error| Error::malformed("dealer", error))?;
        let shares = shares
            .into_iter()
            .map(|(id, share)| (from_id(&id), DealerShare(share)))
            .collect();
        let dealer = Self {
            inner,
            ceremony: ceremony.clone(),
        };
        Ok((dealer, DealerCommitment(commitment), shares))
    }

    /// Records a player's ack. `BAD_ACK` if it is not that player's signature over this
    /// dealer's commitment; the player then counts as a complaint (its share is revealed).
    pub fn receive_ack(&mut self, player: &PublicKey, ack: &PlayerAck) -> Result<()> {
        let id = self.ceremony.check_participant(player)?;
        self.inner
            .receive_player_ack(id, ack.0.clone())
            .map_err(|error| Error::BadAck {
                player: *player,
                reason: error.to_string(),
            })
    }

    /// Closes the dealing at the deadline: a signed log with every ack received and the
    /// share of every other player revealed. With more than `f` missing acks the log omits
    /// its results and the dealer will not be used.
    pub fn finalize(self) -> DealerLog {
        DealerLog(self.inner.finalize::<F>())
    }
}

/// A player's state between [`Player::new`] and [`Player::finalize`].
pub struct Player {
    inner: fd::Player<V, ed25519::PrivateKey>,
    ceremony: Ceremony,
}

impl Player {
    pub fn new(ceremony: &Ceremony, me: &Identity) -> Result<Self> {
        ceremony.check_participant(&me.public_key())?;
        let inner = fd::Player::new(ceremony.info.clone(), me.key.clone())
            .map_err(|error| Error::malformed("player", error))?;
        Ok(Self {
            inner,
            ceremony: ceremony.clone(),
        })
    }

    /// Checks a dealer's share against its commitment. `Ok(Some(ack))`: send the ack to the
    /// dealer. `Ok(None)`: this dealer's message was already accepted (a duplicate).
    /// `BAD_DEALER_SHARE` is the complaint: send no ack, so the dealer must reveal the share
    /// in its log, where everyone checks it. The caller must have authenticated `dealer` as
    /// the sender.
    pub fn receive(
        &mut self,
        dealer: &PublicKey,
        commitment: &DealerCommitment,
        share: &DealerShare,
    ) -> Result<Option<PlayerAck>> {
        let id = self.ceremony.check_participant(dealer)?;
        self.inner
            .dealer_message::<F>(id, commitment.0.clone(), share.0.clone())
            .map(|ack| ack.map(PlayerAck))
            .map_err(|error| Error::BadDealerShare {
                dealer: *dealer,
                reason: error.to_string(),
            })
    }

    /// Computes this player's secret share and the public output from the agreed transcript.
    /// A share comes from the player's own view when it acked, from the log's reveal when it
    /// complained.
    pub fn finalize(
        self,
        transcript: &Transcript,
        rng: &mut impl CryptoRng,
    ) -> Result<(DkgOutput, SecretShare)> {
        let logs = transcript.checked(&self.ceremony)?;
        let (output, share) =
            self.inner
                .finalize::<F>(rng, logs, &Sequential)
                .map_err(|error| match error {
                    fd::FinalizeError::Failure(failure) => ceremony_failed(failure),
                    fd::FinalizeError::Error(error) => Error::PlayerState(error.to_string()),
                })?;
        let output = DkgOutput::from_output(&output)?;
        let share = SecretShare::new(share, *output.public.group_key());
        share.check(&output.public)?;
        Ok((output, share))
    }
}

/// The output of the ceremony as anyone holding the transcript computes it (an auditor, the
/// genesis builder); the same checks as [`Player::finalize`], without a share.
pub fn observe(
    ceremony: &Ceremony,
    transcript: &Transcript,
    rng: &mut impl CryptoRng,
) -> Result<DkgOutput> {
    let logs = transcript.checked(ceremony)?;
    let output = fd::observe::<V, _, F>(rng, logs, &Sequential).map_err(super::ceremony_failed)?;
    DkgOutput::from_output(&output)
}

/// Collects dealer logs and fixes the transcript. Its only power is which signed logs go in;
/// what they are worth is re-checked by everyone.
#[derive(Debug)]
pub struct Arbiter {
    ceremony: Ceremony,
    logs: BTreeMap<PublicKey, DealerLog>,
    disqualified: BTreeSet<PublicKey>,
}

impl Arbiter {
    pub fn new(ceremony: &Ceremony) -> Self {
        Self {
            ceremony: ceremony.clone(),
            logs: BTreeMap::new(),
            disqualified: BTreeSet::new(),
        }
    }

    /// Accepts a dealer log signed for this ceremony and returns its dealer. The same log
    /// twice is fine; a second, different log from one dealer is equivocation: the dealer is
    /// disqualified and `CONFLICTING_DEALER_LOG` returned.
    pub fn record(&mut self, log: DealerLog) -> Result<PublicKey> {
        let dealer = log.claimed_dealer();
        self.ceremony.check_participant(&dealer)?;
        if log.0.clone().check(&self.ceremony.info).is_none() {
            return Err(Error::BadDealerLog { dealer });
        }
        match self.logs.get(&dealer) {
            Some(previous) if *previous != log => {
                self.disqualified.insert(dealer);
                Err(Error::ConflictingDealerLog { dealer })
            }
            _ => {
                self.logs.insert(dealer, log);
                Ok(dealer)
            }
        }
    }

    /// Excludes a dealer for a reason outside the protocol's own checks (for example an
    /// equivocated commitment reported with evidence, or a log that came after the deadline).
    pub fn disqualify(&mut self, dealer: &PublicKey) -> Result<()> {
        self.ceremony.check_participant(dealer)?;
        self.disqualified.insert(*dealer);
        Ok(())
    }

    /// Dealers excluded so far.
    pub fn disqualified(&self) -> impl Iterator<Item = &PublicKey> {
        self.disqualified.iter()
    }

    /// The logs of every recorded, not disqualified dealer, in key order.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            logs: self
                .logs
                .iter()
                .filter(|(dealer, _)| !self.disqualified.contains(dealer))
                .map(|(_, log)| log.clone())
                .collect(),
        }
    }
}
