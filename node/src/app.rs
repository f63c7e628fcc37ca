//! The application side of Malachite: answers the consensus engine's requests (build a
//! block, check a proposal, commit a decision, serve and accept synced blocks).
//!
//! One task owns the committed state; the RPC reads snapshots through `Shared`. A failed
//! storage write ends the loop with an error, which stops the node: carrying on could let
//! it diverge from what it told its peers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use eyre::{eyre, Result};
use jiu_contracts::{Hash, State};
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::StreamId;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, Context as _, ExtendedCommitCertificate, LinearTimeouts, Round, Validity,
    VoteExtensions,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use malachitebft_engine::util::streaming::StreamMessage;
use tracing::{debug, error, info, warn};

use crate::block::{self, Block, BlockLimits, Executed, Parent};
use crate::codec::{decode_certificate, encode_certificate};
use crate::context::{Address, BlockId, Height, JiuContext, ProposalPart, ValidatorSet};
use crate::shared::{Progress, Shared, Tip};
use crate::signing::{JiuSigner, JiuVerifier};
use crate::streaming::{self, Assembled, Streams};

/// Proposal chunks stay well under the gossip message limit.
const CHUNK_BYTES: usize = 1024 * 1024;
/// How far ahead of our clock a proposed block's time may be.
const CLOCK_DRIFT_MAX_MS: u64 = 10_000;
/// Most decided values served in one sync response.
const SYNC_BATCH_MAX: u64 = 64;
/// Most executed-but-undecided blocks kept at once. Honest rounds need one or two; the cap
/// stops an equivocating proposer from filling memory with valid blocks.
const PENDING_MAX: usize = 16;

/// Settings of the application loop.
#[derive(Clone, Debug)]
pub struct AppConfig {
    pub limits: BlockLimits,
    pub timeouts: LinearTimeouts,
    /// When the mempool is empty, a proposer waits this long for transactions before
    /// proposing an empty block, so an idle chain does not spin.
    pub empty_block_wait: Duration,
}

/// The application state owned by the consensus loop.
pub struct App {
    shared: Arc<Shared>,
    config: AppConfig,
    ctx: JiuContext,
    address: Address,
    signer: Arc<JiuSigner>,
    verifier: JiuVerifier,
    validator_set: ValidatorSet,
    state: Arc<State>,
    parent: Parent,
    last_commit: Instant,
    /// Executed blocks not yet decided, by id.
    pending: BTreeMap<BlockId, Executed>,
    /// Values known for (height, round), handed back to consensus on StartedRound.
    proposed: BTreeMap<(u64, u32), Vec<ProposedValue<JiuContext>>>,
    /// Our own proposals by (height, round), so GetValue is idempotent.
    built: BTreeMap<(u64, u32), BlockId>,
    /// Complete streams for heights we have not reached yet.
    future: Vec<Assembled>,
    streams: Streams,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn round_key(round: Round) -> u32 {
    round.as_u32().unwrap_or(u32::MAX)
}

impl App {
    /// The loop state, starting from the committed `state` at `parent`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        shared: Arc<Shared>,
        config: AppConfig,
        address: Address,
        signer: Arc<JiuSigner>,
        verifier: JiuVerifier,
        validator_set: ValidatorSet,
        state: Arc<State>,
        parent: Parent,
    ) -> Self {
        let streams = Streams::new(64, config.limits.bytes_max + 4096);
        Self {
            shared,
            config,
            ctx: JiuContext,
            address,
            signer,
            verifier,
            validator_set,
            state,
            parent,
            last_commit: Instant::now(),
            pending: BTreeMap::new(),
            proposed: BTreeMap::new(),
            built: BTreeMap::new(),
            future: Vec::new(),
            streams,
        }
    }

    fn params(&self) -> HeightParams<JiuContext> {
        HeightParams::new(self.validator_set.clone(), self.config.timeouts, None)
    }

    fn chain_id(&self) -> &str {
        &self.shared.info.genesis.chain_id
    }

    /// Runs until consensus closes its channel or storage fails.
    pub async fn run(mut self, channels: &mut Channels<JiuContext>) -> Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            self.on_msg(msg, channels).await?;
        }
        Err(eyre!("consensus engine stopped"))
    }

    async fn on_msg(
        &mut self,
        msg: AppMsg<JiuContext>,
        channels: &mut Channels<JiuContext>,
    ) -> Result<()> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let start = Height(self.parent.height + 1);
                info!(%start, "consensus ready");
                let _ = reply.send((start, self.params()));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                reply_value,
                ..
            } => {
                let values = self.on_started_round(height, round, proposer)?;
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let (value, parts) = self.on_get_value(height, round, timeout).await?;
                let _ = reply.send(value);
                for part in parts {
                    channels
                        .network
                        .send(NetworkMsg::PublishProposalPart(part))
                        .await?;
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let verdicts = extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect();
                let _ = reply.send(verdicts);
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                value_id,
                ..
            } => {
                for part in self.restream(height, round, valid_round, value_id) {
                    channels
                        .network
                        .send(NetworkMsg::PublishProposalPart(part))
                        .await?;
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let value = self.on_proposal_part(from, published_by, part)?;
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate,
                extensions,
                reply,
            } => {
                self.on_decided(certificate, extensions)?;
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                extensions,
                reply,
                ..
            } => {
                self.on_finalized(certificate, extensions)?;
                let next = Height(self.parent.height + 1);
                let _ = reply.send(Next::Start(next, self.params()));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let values = self.decided_values(*range.start(), *range.end())?;
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self.on_synced_value(height, round, proposer, value_bytes);
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    fn on_started_round(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
    ) -> Result<Vec<ProposedValue<JiuContext>>> {
        debug!(%height, %round, %proposer, "started round");
        self.shared.metrics.round.set(round.as_i64());
        self.shared.set_progress(Progress {
            height: height.0,
            round: round.as_i64(),
            proposer: Some(proposer),
        });
        let ready: Vec<Assembled> = {
            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future)
                .into_iter()
                .partition(|a| a.height == height);
            self.future = later.into_iter().filter(|a| a.height > height).collect();
            now
        };
        for assembled in ready {
            self.accept_assembled(assembled);
        }
        let key = (height.0, round_key(round));
        if !self.proposed.contains_key(&key) {
            self.recover_undecided(height, round)?;
        }
        Ok(self.proposed.get(&key).cloned().unwrap_or_default())
    }

    /// After a restart, blocks we built or validated for this round come back from storage.
    fn recover_undecided(&mut self, height: Height, round: Round) -> Result<()> {
        for bytes in self.shared.db.undecided(height.0, round_key(round))? {
            let Ok(block) = Block::decode(&bytes, self.config.limits.bytes_max) else {
                continue;
            };
            let proposer = block.header.proposer;
            let validity = self.validate_and_keep(block, round, false).is_some();
            if let Some(id) = validity
                .then(|| self.pending.keys().last().copied())
                .flatten()
            {
                self.remember(height, round, Round::Nil, proposer, id, Validity::Valid);
            }
        }
        Ok(())
    }

    async fn on_get_value(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
    ) -> Result<(
        LocallyProposedValue<JiuContext>,
        Vec<StreamMessage<ProposalPart>>,
    )> {
        let key = (height.0, round_key(round));
        if let Some(id) = self.built.get(&key).copied() {
            let parts = self.stream_parts(height, round, Round::Nil, id);
            return Ok((LocallyProposedValue::new(height, round, id), parts));
        }
        self.wait_for_txs(timeout).await;
        let limits = self.config.limits;
        let candidates = self.shared.mempool.reap(limits.txs_max, limits.bytes_max);
        // Executing thousands of txs is CPU work; let the runtime move other tasks away.
        let (executed, rejected) = tokio::task::block_in_place(|| {
            block::build(
                &self.state,
                &self.parent,
                self.chain_id(),
                self.address,
                now_ms(),
                candidates,
            )
        });
        for (id, error) in rejected {
            debug!(tx = %hex::encode(id), %error, "left out of block");
            self.shared.mempool.reject(id, error);
        }
        let id = executed.id;
        let bytes = executed.block.encode();
        info!(%height, %round, txs = executed.block.txs.len(), block = %id, "proposing");
        self.shared
            .db
            .put_undecided(height.0, round_key(round), &id.0, &bytes)?;
        self.pending.insert(id, executed);
        self.built.insert(key, id);
        self.remember(height, round, Round::Nil, self.address, id, Validity::Valid);
        let parts = self.stream_parts(height, round, Round::Nil, id);
        Ok((LocallyProposedValue::new(height, round, id), parts))
    }

    /// Waits (bounded) for the mempool to have something, so idle chains make few blocks.
    async fn wait_for_txs(&self, timeout: Duration) {
        let wait = self.config.empty_block_wait.min(timeout / 2);
        let start = Instant::now();
        while self.shared.mempool.is_empty() && start.elapsed() < wait {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn stream_parts(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        id: BlockId,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let Some(executed) = self.pending.get(&id) else {
            return Vec::new();
        };
        let mut stream_id = height.0.to_be_bytes().to_vec();
        stream_id.extend_from_slice(&round_key(round).to_be_bytes());
        stream_id.extend_from_slice(&self.address.0);
        let init = ProposalPart::Init {
            height,
            round,
            pol_round,
            proposer: self.address,
        };
        let signature = self.signer.sign_block_stream(height, round, &id);
        let fin = ProposalPart::Fin {
            block_id: id,
            signature: signature.0,
        };
        let bytes = executed.block.encode();
        streaming::split(
            StreamId::new(Bytes::from(stream_id)),
            init,
            &bytes,
            CHUNK_BYTES,
            fin,
        )
    }

    fn restream(
        &self,
        height: Height,
        round: Round,
        valid_round: Round,
        id: BlockId,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let proposer = self.ctx.select_proposer(&self.validator_set, height, round);
        if proposer.address != self.address {
            return Vec::new();
        }
        self.stream_parts(height, round, valid_round, id)
    }

    fn on_proposal_part(
        &mut self,
        from: PeerId,
        published_by: Option<PeerId>,
        part: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<JiuContext>>> {
        let publisher = published_by.unwrap_or(from).to_string();
        let assembled = match self.streams.insert(publisher, part) {
            Ok(Some(assembled)) => assembled,
            Ok(None) => return Ok(None),
            Err(error) => {
                warn!(%from, %error, "dropping proposal stream");
                return Ok(None);
            }
        };
        let next = self.parent.height + 1;
        if assembled.height.0 > next {
            if self.future.len() < 64 {
                self.future.push(assembled);
            }
            return Ok(None);
        }
        if assembled.height.0 < next {
            return Ok(None);
        }
        Ok(self.accept_assembled(assembled))
    }

    /// Checks a complete stream for the next height: the round's proposer signed it, the
    /// block decodes to the signed id and executes to its state root.
    fn accept_assembled(&mut self, a: Assembled) -> Option<ProposedValue<JiuContext>> {
        let expected = self
            .ctx
            .select_proposer(&self.validator_set, a.height, a.round);
        if expected.address != a.proposer {
            warn!(height = %a.height, round = %a.round, "stream from a validator who is not the proposer");
            return None;
        }
        let key = expected.public_key;
        if !self
            .verifier
            .verify_block_stream(&key, a.height, a.round, &a.block_id, &a.signature)
        {
            warn!(height = %a.height, round = %a.round, "stream signature invalid");
            return None;
        }
        let block = Block::decode(&a.block_bytes, self.config.limits.bytes_max).ok()?;
        if block.id() != a.block_id {
            warn!(height = %a.height, "stream block does not match its signed id");
            return None;
        }
        if block.header.time_ms > now_ms() + CLOCK_DRIFT_MAX_MS {
            warn!(height = %a.height, "proposed block is too far in the future");
            return self.remember(
                a.height,
                a.round,
                a.pol_round,
                a.proposer,
                a.block_id,
                Validity::Invalid,
            );
        }
        let validity = match self.validate_and_keep(block, a.round, true) {
            Some(_) => Validity::Valid,
            None => Validity::Invalid,
        };
        self.remember(
            a.height,
            a.round,
            a.pol_round,
            a.proposer,
            a.block_id,
            validity,
        )
    }

    /// Validates a block for the next height; keeps it (and stores it when `persist`) if valid.
    fn validate_and_keep(&mut self, block: Block, round: Round, persist: bool) -> Option<BlockId> {
        let id = block.id();
        if self.pending.contains_key(&id) {
            return Some(id);
        }
        if self.pending.len() >= PENDING_MAX {
            warn!(block = %id, "too many undecided blocks; not validating another");
            return None;
        }
        let bytes = persist.then(|| block.encode());
        let limits = self.config.limits;
        match block::validate(
            &self.state,
            &self.parent,
            self.chain_id(),
            None,
            limits,
            block,
        ) {
            Ok(executed) => {
                if let Some(bytes) = bytes {
                    let height = executed.block.header.height;
                    if let Err(error) =
                        self.shared
                            .db
                            .put_undecided(height, round_key(round), &id.0, &bytes)
                    {
                        error!(%error, "cannot store undecided block");
                    }
                }
                self.pending.insert(id, executed);
                Some(id)
            }
            Err(error) => {
                warn!(block = %id, %error, "invalid block");
                None
            }
        }
    }

    fn remember(
        &mut self,
        height: Height,
        round: Round,
        valid_round: Round,
        proposer: Address,
        value: BlockId,
        validity: Validity,
    ) -> Option<ProposedValue<JiuContext>> {
        let value = ProposedValue {
            height,
            round,
            valid_round,
            proposer,
            value,
            validity,
        };
        let entry = self
            .proposed
            .entry((height.0, round_key(round)))
            .or_default();
        if !entry.contains(&value) {
            entry.push(value.clone());
        }
        Some(value)
    }

    fn on_decided(
        &mut self,
        certificate: CommitCertificate<JiuContext>,
        extensions: VoteExtensions<JiuContext>,
    ) -> Result<()> {
        if certificate.height.0 <= self.parent.height {
            return Ok(());
        }
        let Some(executed) = self.pending.remove(&certificate.value_id) else {
            return Err(eyre!(
                "decided block {} at height {} was never validated here",
                certificate.value_id,
                certificate.height
            ));
        };
        let certificate = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            certificate,
            extensions,
        );
        self.commit(executed, &certificate)
    }

    fn on_finalized(
        &mut self,
        certificate: CommitCertificate<JiuContext>,
        extensions: VoteExtensions<JiuContext>,
    ) -> Result<()> {
        let height = certificate.height.0;
        if height > self.parent.height {
            return self.on_decided(certificate, extensions);
        }
        if height == self.parent.height {
            let certificate = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                certificate,
                extensions,
            );
            self.shared
                .db
                .put_certificate(height, &encode_certificate(&certificate))?;
        }
        Ok(())
    }

    fn commit(
        &mut self,
        executed: Executed,
        certificate: &ExtendedCommitCertificate<JiuContext>,
    ) -> Result<()> {
        let header = executed.block.header.clone();
        let tx_ids: Vec<Hash> = executed.receipts.iter().map(|r| r.tx_id).collect();
        let block_bytes = executed.block.encode();
        let certificate_bytes = encode_certificate(certificate);
        let state_bytes = executed.state.encode_persistent();
        self.shared.db.commit(crate::db::CommitRecord {
            height: header.height,
            block: &block_bytes,
            certificate: &certificate_bytes,
            tx_ids: &tx_ids,
            state: &state_bytes,
        })?;
        self.state = Arc::new(executed.state);
        self.parent = Parent {
            height: header.height,
            id: executed.id,
            time_ms: header.time_ms,
        };
        self.shared.mempool.remove_committed(&tx_ids);
        self.shared.set_committed(
            Tip {
                height: header.height,
                block_id: executed.id,
                time_ms: header.time_ms,
                state_root: header.state_root,
            },
            self.state.clone(),
        );
        self.prune(header.height);
        self.record_metrics(header.height, tx_ids.len());
        info!(height = header.height, txs = tx_ids.len(), block = %executed.id, "committed");
        Ok(())
    }

    fn prune(&mut self, height: u64) {
        self.pending.retain(|_, e| e.block.header.height > height);
        self.proposed = self.proposed.split_off(&(height + 1, 0));
        self.built = self.built.split_off(&(height + 1, 0));
    }

    fn record_metrics(&mut self, height: u64, txs: usize) {
        let metrics = &self.shared.metrics;
        metrics.height.set(height as i64);
        metrics.blocks_finalized.inc();
        metrics.txs_finalized.inc_by(txs as u64);
        metrics.txs_per_block.observe(txs as f64);
        metrics.mempool_size.set(self.shared.mempool.len() as i64);
        metrics
            .block_interval_seconds
            .observe(self.last_commit.elapsed().as_secs_f64());
        self.last_commit = Instant::now();
    }

    fn decided_values(
        &self,
        start: Height,
        end: Height,
    ) -> Result<Vec<RawDecidedValue<JiuContext>>> {
        let end = end
            .0
            .min(start.0.saturating_add(SYNC_BATCH_MAX - 1))
            .min(self.parent.height);
        let mut values = Vec::new();
        for height in start.0..=end {
            let (Some(block), Some(cert)) = (
                self.shared.db.block(height)?,
                self.shared.db.certificate(height)?,
            ) else {
                break;
            };
            let certificate = decode_certificate(&cert)?;
            values.push(RawDecidedValue::new(Bytes::from(block), certificate));
        }
        Ok(values)
    }

    fn on_synced_value(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        value_bytes: Bytes,
    ) -> SyncedValueOutcome<JiuContext> {
        let Ok(block) = Block::decode(&value_bytes, self.config.limits.bytes_max) else {
            return SyncedValueOutcome::PeerFault;
        };
        if height.0 != self.parent.height + 1 {
            return SyncedValueOutcome::LocalTransientError;
        }
        let id = block.id();
        let validity = match self.validate_and_keep(block, round, false) {
            Some(_) => Validity::Valid,
            None => Validity::Invalid,
        };
        SyncedValueOutcome::Verdict(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            value: id,
            validity,
        })
    }
}
