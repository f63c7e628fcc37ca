//! Deciding lottery transactions: who signs, the book's checks, and seed shares. Nothing
//! here mutates; see [`crate::lottery`] for the scheme.

use jiu_lottery::book::Stage;
use jiu_lottery::encoding::seed_message;
use jiu_lottery::{Actor, LotteryCtx, LotteryError, LotteryOp};

use crate::error::TxError;
use crate::lottery::{BeaconVerifier, ShareError, Shares};
use crate::state::{BlockCtx, State};
use crate::types::{Org, PublicKey, Role};

/// A lottery change that passed every check. Committing it cannot fail.
pub(crate) struct LotteryChange {
    /// The book's change, if the tx changes a lottery record.
    pub(crate) book: Option<jiu_lottery::book::Change>,
    /// The pending shares of one lottery after the tx: `Some(shares)`, or `None` once its
    /// seed is set (the shares are spent).
    pub(crate) shares: Option<(u64, Option<Shares>)>,
    /// A share accepted: (lottery, index, shares now held, threshold).
    pub(crate) share: Option<(u64, u32, u32, u32)>,
}

impl State {
    /// The actor of a lottery op: the signer's active org, or for the self-verifying ops a
    /// genesis validator (under its org's id).
    pub(super) fn lottery_actor(
        &self,
        signer: &PublicKey,
        op: &LotteryOp,
    ) -> Result<Actor, TxError> {
        if let Some(org) = self.org_of_key(signer).filter(|org| org.active) {
            return Ok(actor_of(org, signer));
        }
        let self_verifying = matches!(
            op,
            LotteryOp::SubmitSeed { .. } | LotteryOp::CommitResults { .. }
        );
        match self.lotteries.validators.get(signer) {
            Some(org_id) if self_verifying => Ok(Actor {
                org_id: org_id.clone(),
                role: self.org(org_id).map_or(Role::Auditor, |org| org.role),
                key: *signer,
            }),
            _ => Err(TxError::UnknownSigner),
        }
    }

    /// Runs `op` against the book for `actor`.
    pub(super) fn plan_lottery(
        &self,
        op: &LotteryOp,
        actor: &Actor,
        ctx: &BlockCtx,
    ) -> Result<LotteryChange, TxError> {
        let beacon = self.lotteries.beacon.as_deref();
        let verifier = BeaconVerifier(beacon);
        let prepared = match op {
            LotteryOp::CommitResults { lottery_id, .. } => self.prepared_draw(*lottery_id),
            _ => None,
        };
        let lottery_ctx = LotteryCtx {
            time_ms: ctx.time_ms,
            chain_id: &self.lotteries.chain_id,
            seed_verifier: &verifier,
            prepared_draws: prepared.as_slice(),
        };
        let change = self.lotteries.book.check(op, actor, &lottery_ctx)?;
        // A seed set by a combined signature submitted whole spends the pending shares.
        let shares = match op {
            LotteryOp::SubmitSeed { lottery_id, .. }
                if self.lotteries.shares.contains_key(lottery_id) =>
            {
                Some((*lottery_id, None))
            }
            _ => None,
        };
        Ok(LotteryChange {
            book: Some(change),
            shares,
            share: None,
        })
    }

    /// The draw of a seeded lottery, run once and cached (a pure function of the committed
    /// inputs, so the cache never changes an outcome).
    fn prepared_draw(&self, lottery_id: u64) -> Option<jiu_lottery::book::PreparedDraw> {
        let job = self.lotteries.book.draw_job(lottery_id)?;
        Some(self.lotteries.draw(&job))
    }

    /// A validator's seed share: checked against its public share, kept, and combined into
    /// the seed signature once `threshold` distinct shares are in.
    pub(super) fn plan_seed_share(
        &self,
        signer: &PublicKey,
        lottery_id: u64,
        partial: &[u8],
        ctx: &BlockCtx,
    ) -> Result<LotteryChange, TxError> {
        let share_error = TxError::SeedShare;
        let beacon = self
            .lotteries
            .beacon
            .as_deref()
            .ok_or(share_error(ShareError::NoBeacon))?;
        let index = beacon
            .index_of(signer)
            .ok_or(share_error(ShareError::NotParticipant))?;
        let stated = partial
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or(share_error(ShareError::BadShare))?;
        if stated != index {
            return Err(share_error(ShareError::WrongIndex {
                expected: index,
                got: stated,
            }));
        }
        let record = self
            .lotteries
            .book
            .lottery(lottery_id)
            .ok_or(TxError::Lottery(LotteryError::UnknownLottery(lottery_id)))?;
        let status_root = match (record.stage(), record.status_root()) {
            (Stage::StatusCommitted, Some(root)) => root,
            _ => return Err(share_error(ShareError::NotWaiting(lottery_id))),
        };
        let message = seed_message(
            &self.lotteries.chain_id,
            lottery_id,
            &record.rules_hash(),
            &record.entries_root(),
            &status_root,
        )
        .ok_or_else(|| {
            TxError::Lottery(LotteryError::BadChainId(self.lotteries.chain_id.clone()))
        })?;
        let mut shares = self
            .lotteries
            .shares
            .get(&lottery_id)
            .cloned()
            .unwrap_or_default();
        if shares.contains_key(&index) {
            return Err(share_error(ShareError::Duplicate { lottery_id, index }));
        }
        if !beacon.verify_share(index, &message, partial) {
            return Err(share_error(ShareError::BadShare));
        }
        shares.insert(index, partial.to_vec());
        let held = u32::try_from(shares.len()).unwrap_or(u32::MAX);
        let share = Some((lottery_id, index, held, beacon.threshold()));
        if held < beacon.threshold() {
            return Ok(LotteryChange {
                book: None,
                shares: Some((lottery_id, Some(shares))),
                share,
            });
        }
        let partials: Vec<Vec<u8>> = shares.into_values().collect();
        let signature = beacon
            .combine(&message, &partials)
            .ok_or(share_error(ShareError::BadShare))?;
        let op = LotteryOp::SubmitSeed {
            lottery_id,
            message,
            signature,
        };
        let actor = Actor {
            org_id: self
                .lotteries
                .validators
                .get(signer)
                .cloned()
                .unwrap_or_default(),
            role: Role::Auditor,
            key: *signer,
        };
        let mut change = self.plan_lottery(&op, &actor, ctx)?;
        change.shares = Some((lottery_id, None));
        change.share = share;
        Ok(change)
    }
}

fn actor_of(org: &Org, key: &PublicKey) -> Actor {
    Actor {
        org_id: org.id.clone(),
        role: org.role,
        key: *key,
    }
}
