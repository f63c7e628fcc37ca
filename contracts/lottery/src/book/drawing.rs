//! The seed and the draw (design 6.3 steps 5-6).
//!
//! # Where the draw runs
//!
//! `CommitResults` carries only the results root; every validator recomputes the draw from
//! the committed entries, statuses and seed and refuses another root. At 3 M entries and
//! 5,000 pools the draw takes about half a second (see `docs/lottery-lifecycle.md`), too long
//! to run inside a block's execution without a stall, so the node can run it earlier and
//! off the transaction path: once the seed is committed, [`crate::LotteryBook::draw_job`]
//! gives a [`DrawJob`] (O(1) clones of the frozen inputs, `Send`), the node runs
//! [`DrawJob::run`] on a blocking thread, and passes the [`PreparedDraw`] in
//! [`super::LotteryCtx::prepared_draws`] when it executes the block with `CommitResults`. The
//! book uses a prepared draw only if its [`DrawKey`] (lottery, rules hash, both roots, seed)
//! is the lottery's, and runs the draw itself otherwise, so the outcome of `CommitResults`
//! never depends on what the node prepared, only on how long it takes. A [`PreparedDraw`]
//! can only be made by running a job, so it is always a genuine draw of its key.
//!
//! The prepared draw is also what the node publishes (the results file) and builds
//! applicant proofs from ([`DrawJob::dataset`] and [`crate::Prover`]).

use std::sync::Arc;

use imbl::Vector;
use jiu_types::Hash;
use serde::Serialize;

use super::record::{
    dataset_of, LotteryRecord, PoolSlots, Results, SeedRecord, Slot, SlotState, Stage,
};
use super::{LotteryCtx, LotteryError, LotteryEvent, Result, StatusBatch};
use crate::draw::draw_batches;
use crate::encoding::{seed_message, seed_message_difference};
use crate::{par, seed_from_signature, DrawResult, Entry, LotteryRules, Status};

/// The inputs a draw is a function of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrawKey {
    pub lottery_id: u64,
    #[serde(with = "crate::serde_hex")]
    pub rules_hash: Hash,
    #[serde(with = "crate::serde_hex")]
    pub entries_root: Hash,
    #[serde(with = "crate::serde_hex")]
    pub status_root: Hash,
    #[serde(with = "crate::serde_hex")]
    pub seed: Hash,
}

/// A seeded lottery's frozen draw inputs, detached from the book.
#[derive(Clone, Debug)]
pub struct DrawJob {
    key: DrawKey,
    rules: Arc<LotteryRules>,
    entries: Vector<Arc<[Entry]>>,
    status: Vector<StatusBatch>,
}

/// A draw result and the inputs it was computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedDraw {
    key: DrawKey,
    result: DrawResult,
}

impl PreparedDraw {
    pub fn key(&self) -> &DrawKey {
        &self.key
    }

    /// Every pool's ranked list and the results root.
    pub fn result(&self) -> &DrawResult {
        &self.result
    }

    pub fn into_result(self) -> DrawResult {
        self.result
    }
}

impl DrawJob {
    /// The job of a lottery whose seed is set and whose results are not committed.
    pub(super) fn of(record: &LotteryRecord) -> Option<Self> {
        if record.stage() != Stage::Seeded {
            return None;
        }
        Some(Self {
            key: DrawKey {
                lottery_id: record.rules.lottery_id(),
                rules_hash: record.rules_hash,
                entries_root: record.entries_root(),
                status_root: record.status_root?,
                seed: record.seed.as_ref()?.seed,
            },
            rules: Arc::clone(&record.rules),
            entries: record.entries.clone(),
            status: record.status.clone(),
        })
    }

    pub fn key(&self) -> &DrawKey {
        &self.key
    }

    /// Runs the draw (pure; on as many threads as the machine has, the result does not
    /// depend on it).
    pub fn run(&self) -> PreparedDraw {
        let entries: usize = self.entries.iter().map(|batch| batch.len()).sum();
        self.run_with_threads(par::threads_for(entries))
    }

    pub(crate) fn run_with_threads(&self, threads: usize) -> PreparedDraw {
        let batches: Vec<(&[Entry], &[super::Exclusion])> = self
            .entries
            .iter()
            .zip(self.status.iter())
            .map(|(entries, status)| (&entries[..], &status.exclusions[..]))
            .collect();
        let result = draw_batches(&self.rules.draw, &batches, &self.key.seed, threads);
        PreparedDraw {
            key: self.key.clone(),
            result,
        }
    }

    /// The entries and their statuses in canonical order: what [`crate::Prover::new`] and an
    /// auditor's [`crate::draw`] take.
    pub fn dataset(&self) -> (Vec<Entry>, Vec<Status>) {
        dataset_of(&self.entries, &self.status)
    }
}

impl LotteryRecord {
    /// The seed: the threshold signature over this lottery's seed message, once.
    pub(super) fn submit_seed(
        &mut self,
        message: &[u8],
        signature: &[u8],
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        let status_root = match (self.stage(), self.status_root) {
            (Stage::Collecting, _) => return Err(LotteryError::SeedBeforeStatus),
            (Stage::StatusCommitted, Some(root)) => root,
            _ => return Err(LotteryError::SeedAlreadySet),
        };
        let expected = seed_message(
            ctx.chain_id,
            self.rules.lottery_id(),
            &self.rules_hash,
            &self.entries_root(),
            &status_root,
        )
        .ok_or_else(|| LotteryError::BadChainId(ctx.chain_id.to_string()))?;
        if message != expected {
            return Err(LotteryError::SeedMessageMismatch {
                field: seed_message_difference(&expected, message),
            });
        }
        if !ctx.seed_verifier.verify(message, signature) {
            return Err(LotteryError::BadSeedSignature);
        }
        let seed = seed_from_signature(signature);
        self.seed = Some(SeedRecord {
            signature: signature.to_vec(),
            seed,
            at_ms: ctx.time_ms,
        });
        Ok(LotteryEvent::SeedSet {
            lottery_id: self.rules.lottery_id(),
            seed,
        })
    }

    /// The results: accepted only if they are the draw of the committed inputs. Drops the
    /// entries, which nothing reads after the draw.
    pub(super) fn commit_results(
        &mut self,
        results_root: &Hash,
        ctx: &LotteryCtx<'_>,
    ) -> Result<LotteryEvent> {
        let job = match self.stage() {
            Stage::Collecting | Stage::StatusCommitted => {
                return Err(LotteryError::ResultsBeforeSeed)
            }
            Stage::Drawn => return Err(LotteryError::ResultsAlreadyCommitted),
            Stage::Seeded => DrawJob::of(self).expect("a seeded lottery has a draw job"),
        };
        let ran;
        let result = match ctx.prepared_draws.iter().find(|p| p.key == job.key) {
            Some(prepared) => &prepared.result,
            None => {
                ran = job.run();
                &ran.result
            }
        };
        if *results_root != result.results_root {
            return Err(LotteryError::ResultsMismatch {
                expected: result.results_root,
                got: *results_root,
            });
        }
        let pools: Vector<PoolSlots> = result
            .pools
            .iter()
            .map(|pool| PoolSlots {
                pool_id: pool.pool_id,
                quota: pool.quota,
                claimed: 0,
                slots: pool
                    .ranked()
                    .map(|ranked| Slot {
                        id: ranked.id,
                        leaf_hash: ranked.leaf_hash,
                        state: SlotState::Pending,
                    })
                    .collect(),
            })
            .collect();
        let winners = result.pools.iter().map(|p| p.winners.len() as u64).sum();
        self.results = Some(Results {
            root: result.results_root,
            at_ms: ctx.time_ms,
            pools,
        });
        self.entries = Vector::new();
        Ok(LotteryEvent::ResultsCommitted {
            lottery_id: self.rules.lottery_id(),
            results_root: *results_root,
            winners,
        })
    }
}
