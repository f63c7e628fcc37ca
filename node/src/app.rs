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

mod commit;
mod proposal;
mod sync;

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
    /// This node's lottery duties (seed share, draw, results).
    lottery: crate::lottery::LotteryWorker,
    /// Frees old states and blocks off this loop.
    reaper: crate::reaper::Reaper,
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
        lottery: crate::lottery::LotteryWorker,
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
            lottery,
            reaper: crate::reaper::Reaper::spawn("jiu-reaper"),
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
                publish(channels, parts).await?;
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
                let parts = self.restream(height, round, valid_round, value_id);
                publish(channels, parts).await?;
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
}

/// Gossips the parts of a block proposal.
async fn publish(
    channels: &Channels<JiuContext>,
    parts: Vec<StreamMessage<ProposalPart>>,
) -> Result<()> {
    for part in parts {
        channels
            .network
            .send(NetworkMsg::PublishProposalPart(part))
            .await?;
    }
    Ok(())
}
