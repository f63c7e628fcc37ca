//! The node's part of the lottery: the book's log for restarts, this validator's seed
//! share, the draw run ahead of `CommitResults`, and the per-lottery provers the RPC serves
//! bundles from.
//!
//! # Restart
//!
//! The book is not stored: the finalized lottery transactions are its log. At each commit
//! the node indexes where every applied lottery tx is (`lottery_txs` column: height and
//! position, with the signer's org at the time); at start it re-applies them in chain order
//! ([`replay`]) before checking the state root against the tip header.
//!
//! # Seed share
//!
//! After each commit, for every lottery whose status commitment is final and whose seed is
//! not set, a validator holding a beacon share asks its [`SigningGuard`] whether it may sign
//! that lottery's seed message, persists the guard's record first (a failed write stops the
//! node), signs, and submits `SeedShare` signed with its consensus key to its own mempool.
//! If the share is not on chain some blocks later it submits the same (deterministic)
//! share again.
//!
//! # Draw
//!
//! Once a seed is set, the node runs the draw on a blocking thread ([`DrawJob::run`]),
//! hands the result to the state's cache (so executing `CommitResults` does not redo it),
//! builds the [`Prover`], and a validator submits `CommitResults` with the root; every
//! validator recomputes it anyway, so which one lands first does not matter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::SigningKey;
use jiu_beacon::{SecretShare, SeedMessage, SignedSeedRecord, SigningGuard};
use jiu_contracts::{BlockCtx, Payload, PublicKey, Role, SignedTx, State, TxBody};
use jiu_lottery::book::{DrawJob, PreparedDraw, Stage};
use jiu_lottery::{LotteryOp, Prover};
use tracing::{info, warn};

use crate::block::Block;
use crate::db::{Col, Db};
use crate::shared::Shared;

/// Blocks after which a share or results tx that has not landed is submitted again.
const RESUBMIT_AFTER_HEIGHTS: u64 = 10;
/// How long a node's own lottery tx stays valid.
const OWN_TX_TTL_HEIGHTS: u64 = 100;

/// Who signed an indexed lottery tx: the org and its role then, or a validator.
#[derive(BorshSerialize, BorshDeserialize)]
struct Signer {
    org: Option<(String, Role)>,
}

/// The `lottery_txs` rows of a block: key `height (8, BE) || position (4, BE)`.
pub fn index_rows(height: u64, txs: &[SignedTx], state: &State) -> Vec<(Col, Vec<u8>, Vec<u8>)> {
    txs.iter()
        .enumerate()
        .filter(|(_, tx)| {
            matches!(
                tx.body.payload,
                Payload::Lottery { .. } | Payload::SeedShare { .. }
            )
        })
        .map(|(index, tx)| {
            let org = state
                .org_of_key(&tx.body.signer)
                .map(|org| (org.id.clone(), org.role));
            let mut key = height.to_be_bytes().to_vec();
            key.extend_from_slice(&(index as u32).to_be_bytes());
            let value = borsh::to_vec(&Signer { org }).unwrap_or_default();
            (Col::LotteryTxs, key, value)
        })
        .collect()
}

/// Re-applies every indexed lottery tx to `state` in chain order. Returns the draw jobs of
/// lotteries whose results were committed (taken just before), for their provers.
pub fn replay(db: &Db, state: &mut State) -> eyre::Result<Vec<DrawJob>> {
    let mut jobs = Vec::new();
    let mut block: Option<Block> = None;
    let rows = db.lottery_txs()?;
    for (height, index, signer) in rows {
        if block.as_ref().map(|b| b.header.height) != Some(height) {
            let bytes = db
                .block(height)?
                .ok_or_else(|| eyre::eyre!("lottery tx in missing block {height}"))?;
            block = Some(
                Block::decode(&bytes, usize::MAX)
                    .map_err(|e| eyre::eyre!("block {height}: {e}"))?,
            );
        }
        let Some(block) = &block else { continue };
        let tx = block
            .txs
            .get(index as usize)
            .ok_or_else(|| eyre::eyre!("lottery tx {height}/{index} is not in its block"))?
            .clone()
            .verify()
            .map_err(|e| eyre::eyre!("lottery tx {height}/{index}: {e}"))?;
        let signer = Signer::try_from_slice(&signer)
            .map_err(|e| eyre::eyre!("lottery tx index {height}/{index}: {e}"))?;
        if let Payload::Lottery {
            op: LotteryOp::CommitResults { lottery_id, .. },
        } = &tx.tx().body.payload
        {
            jobs.extend(state.lottery_book().draw_job(*lottery_id));
        }
        let ctx = BlockCtx {
            height,
            time_ms: block.header.time_ms,
        };
        let org = signer.org.as_ref().map(|(id, role)| (id.as_str(), *role));
        state
            .reapply_lottery(&tx, &ctx, org)
            .map_err(|e| eyre::eyre!("re-applying lottery tx {height}/{index}: {e}"))?;
    }
    Ok(jobs)
}

/// This node's lottery duties; see the module doc.
pub struct LotteryWorker {
    /// The node's consensus key (signs its share and results txs) if it is a validator.
    key: Option<SigningKey>,
    share: Option<SecretShare>,
    guard: SigningGuard,
    /// Height at which this node last submitted a tx for (lottery, kind).
    submitted: BTreeMap<(u64, &'static str), u64>,
    /// Draws running or done, by lottery.
    drawing: BTreeMap<u64, jiu_lottery::book::DrawKey>,
}

/// The provers of drawn lotteries, shared with the RPC.
#[derive(Default)]
pub struct Provers {
    by_lottery: Mutex<BTreeMap<u64, Arc<Prover>>>,
    /// Lotteries whose prover is being built.
    building: Mutex<std::collections::BTreeSet<u64>>,
}

impl Provers {
    pub fn get(&self, lottery_id: u64) -> Option<Arc<Prover>> {
        self.lock().get(&lottery_id).cloned()
    }

    fn insert(&self, lottery_id: u64, prover: Prover) {
        self.lock().insert(lottery_id, Arc::new(prover));
        self.building().remove(&lottery_id);
    }

    /// Marks a build as started; false if one is already running or done.
    fn start(&self, lottery_id: u64) -> bool {
        !self.lock().contains_key(&lottery_id) && self.building().insert(lottery_id)
    }

    fn failed(&self, lottery_id: u64) {
        self.building().remove(&lottery_id);
    }

    fn building(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<u64>> {
        self.building.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Prover>>> {
        self.by_lottery.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Builds the prover of each job's lottery on a blocking thread.
pub fn build_provers(jobs: Vec<DrawJob>, shared: Arc<Shared>) {
    for job in jobs {
        if !shared.provers.start(job.key().lottery_id) {
            continue;
        }
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || build_prover(&job, None, &shared));
    }
}

/// Runs a job's draw (unless given) and installs the prover.
fn build_prover(job: &DrawJob, draw: Option<PreparedDraw>, shared: &Shared) {
    let lottery_id = job.key().lottery_id;
    let draw = draw.unwrap_or_else(|| job.run());
    let (entries, status) = job.dataset();
    match Prover::new(entries, status, job.key().seed, draw.into_result()) {
        Ok(prover) => shared.provers.insert(lottery_id, prover),
        Err(e) => {
            shared.provers.failed(lottery_id);
            warn!(lottery_id, error = %e, "cannot build the lottery prover");
        }
    }
}

/// Rebuilds a drawn lottery's prover from the finalized lottery txs (its entries are no
/// longer in the book): replays the log on a fresh genesis state and takes the draw job
/// just before the results. For a lottery whose seed and results landed in one block, or
/// any other way the node missed the seeded stage.
fn rebuild_prover(lottery_id: u64, shared: Arc<Shared>) {
    tokio::task::spawn_blocking(move || {
        let job = shared
            .info
            .genesis
            .initial_state()
            .map_err(|e| eyre::eyre!("genesis state: {e}"))
            .and_then(|mut scratch| replay(&shared.db, &mut scratch))
            .map(|jobs| jobs.into_iter().find(|j| j.key().lottery_id == lottery_id));
        match job {
            Ok(Some(job)) => build_prover(&job, None, &shared),
            Ok(None) => {
                shared.provers.failed(lottery_id);
                warn!(lottery_id, "no draw job found in the lottery log");
            }
            Err(e) => {
                shared.provers.failed(lottery_id);
                warn!(lottery_id, error = %e, "cannot rebuild the lottery prover");
            }
        }
    });
}

impl LotteryWorker {
    /// Loads the guard's records. `key` and `share` only for a validator.
    pub fn new(db: &Db, key: Option<SigningKey>, share: Option<SecretShare>) -> eyre::Result<Self> {
        let records = db
            .seed_guard()?
            .iter()
            .map(|bytes| SignedSeedRecord::try_from_slice(bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| eyre::eyre!("stored seed guard record: {e}"))?;
        let guard = SigningGuard::from_records(records)
            .map_err(|e| eyre::eyre!("stored seed guard: {e}"))?;
        Ok(Self {
            key,
            share,
            guard,
            submitted: BTreeMap::new(),
            drawing: BTreeMap::new(),
        })
    }

    /// Runs after each commit with the new state.
    pub fn after_commit(&mut self, state: &Arc<State>, shared: &Arc<Shared>) -> eyre::Result<()> {
        let height = state.height();
        let lotteries: Vec<(u64, Stage)> = state
            .lottery_book()
            .lotteries()
            .map(|(id, record)| (*id, record.stage()))
            .collect();
        for (lottery_id, stage) in lotteries {
            match stage {
                Stage::StatusCommitted => self.share(state, shared, lottery_id, height)?,
                Stage::Seeded => self.draw(state, shared, lottery_id, height),
                Stage::Drawn => {
                    if shared.provers.start(lottery_id) {
                        rebuild_prover(lottery_id, shared.clone());
                    }
                }
                Stage::Collecting => {}
            }
        }
        Ok(())
    }

    fn share(
        &mut self,
        state: &State,
        shared: &Shared,
        lottery_id: u64,
        height: u64,
    ) -> eyre::Result<()> {
        let (Some(key), Some(share)) = (&self.key, &self.share) else {
            return Ok(());
        };
        if state
            .seed_shares(lottery_id)
            .is_some_and(|held| held.contains_key(&share.index()))
        {
            return Ok(());
        }
        if !self.due(lottery_id, "share", height) {
            return Ok(());
        }
        let Some(record) = state.lottery_book().lottery(lottery_id) else {
            return Ok(());
        };
        let Some(status_root) = record.status_root() else {
            return Ok(());
        };
        let message = match SeedMessage::new(
            &shared.info.genesis.chain_id,
            lottery_id,
            record.rules_hash(),
            record.entries_root(),
            status_root,
        ) {
            Ok(message) => message,
            Err(e) => {
                // Only a chain id the genesis would refuse gets here; nothing to sign.
                warn!(lottery_id, error = %e, "no seed message to sign");
                return Ok(());
            }
        };
        match self.guard.check(&message) {
            Ok(jiu_beacon::Permission::First(signed)) => {
                // Persisted before the share exists anywhere but here.
                shared
                    .db
                    .put_seed_guard(lottery_id, &borsh::to_vec(&signed)?)?;
                self.guard
                    .record(signed)
                    .map_err(|e| eyre::eyre!("seed guard: {e}"))?;
            }
            Ok(jiu_beacon::Permission::Again) => {}
            Err(e) => {
                warn!(lottery_id, error = %e, "refusing to sign a second seed message");
                return Ok(());
            }
        }
        let partial = jiu_beacon::partial_sign(share, &message);
        let payload = Payload::SeedShare {
            lottery_id,
            partial: partial.to_bytes().to_vec(),
        };
        submit_own(shared, key, payload, height, "seed share", lottery_id);
        self.submitted.insert((lottery_id, "share"), height);
        Ok(())
    }

    fn draw(&mut self, state: &Arc<State>, shared: &Arc<Shared>, lottery_id: u64, height: u64) {
        let Some(job) = state.lottery_book().draw_job(lottery_id) else {
            return;
        };
        if self.drawing.get(&lottery_id) != Some(job.key()) {
            self.drawing.insert(lottery_id, job.key().clone());
            shared.provers.start(lottery_id);
            let state = state.clone();
            let shared = shared.clone();
            let key = self.key.clone();
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                // Through the state's cache: a proposal with CommitResults that arrives
                // while this runs waits for this run instead of starting a second draw.
                let draw = state.run_draw(lottery_id).unwrap_or_else(|| job.run());
                let results_root = draw.result().results_root;
                info!(
                    lottery_id,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "draw prepared"
                );
                if let Some(key) = &key {
                    let payload = Payload::Lottery {
                        op: LotteryOp::CommitResults {
                            lottery_id,
                            results_root,
                        },
                    };
                    submit_own(&shared, key, payload, height, "results", lottery_id);
                }
                build_prover(&job, Some(draw), &shared);
            });
            self.submitted.insert((lottery_id, "results"), height);
        } else if self.key.is_some() && self.due(lottery_id, "results", height) {
            if let Some(draw) = state.prepared_draw_of(job.key()) {
                let payload = Payload::Lottery {
                    op: LotteryOp::CommitResults {
                        lottery_id,
                        results_root: draw.result().results_root,
                    },
                };
                if let Some(key) = &self.key {
                    submit_own(shared, key, payload, height, "results", lottery_id);
                }
                self.submitted.insert((lottery_id, "results"), height);
            }
        }
    }

    /// Whether a tx of `kind` for the lottery should be (re)submitted at `height`.
    fn due(&self, lottery_id: u64, kind: &'static str, height: u64) -> bool {
        self.submitted
            .get(&(lottery_id, kind))
            .is_none_or(|at| height >= at + RESUBMIT_AFTER_HEIGHTS)
    }
}

/// Signs `payload` with the node's consensus key and puts it in the node's own mempool.
/// A refusal is logged, not fatal: another validator's tx may have done the job.
fn submit_own(
    shared: &Shared,
    key: &SigningKey,
    payload: Payload,
    height: u64,
    what: &str,
    lottery_id: u64,
) {
    let body = TxBody {
        chain_id: shared.info.genesis.chain_id.clone(),
        signer: PublicKey::from_signing_key(key),
        nonce: height,
        expires_at_height: height + OWN_TX_TTL_HEIGHTS,
        payload,
    };
    let tx = SignedTx::sign(body, key);
    match shared.submit(&tx.encode()) {
        Ok(id) => {
            info!(lottery_id, tx = %jiu_contracts::types::hex_encode(&id), "submitted {what}")
        }
        Err(e) => info!(lottery_id, error = %e, "{what} not submitted"),
    }
}
