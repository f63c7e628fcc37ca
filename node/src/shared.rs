//! What the consensus loop shares with the RPC server: the committed chain tip, a snapshot of
//! the committed state for mempool admission, the mempool, storage and metrics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use jiu_contracts::{
    check_stateless, verify_batch, BlockCtx, Hash, SignedTx, State, TxError, VerifiedTx,
    TX_BYTES_MAX,
};
use jiu_genesis::Genesis;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::context::{Address, BlockId, ValidatorSet};
use crate::db::Db;
use crate::mempool::{Mempool, MempoolError};
use crate::metrics::Metrics;

/// The committed tip as the RPC reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Tip {
    pub height: u64,
    pub block_id: BlockId,
    pub time_ms: u64,
    #[serde(with = "hex::serde")]
    pub state_root: Hash,
}

/// Consensus progress within the current height.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Progress {
    pub height: u64,
    pub round: i64,
    pub proposer: Option<Address>,
}

/// Static facts about this node and its chain.
pub struct NodeInfo {
    pub name: String,
    pub address: Address,
    pub peer_id: String,
    pub rpc_addr: String,
    pub genesis: Genesis,
    pub genesis_hash: Hash,
    pub validator_set: ValidatorSet,
    /// Whether this node's key is a genesis validator (so it proposes blocks).
    pub is_validator: bool,
    /// Bearer tokens that get the partner view of verify answers and may capture.
    pub partner_tokens: Vec<String>,
    /// Whether verify clients are told apart by `X-Forwarded-For` (behind a proxy).
    pub forwarded_for: bool,
    /// The producer's NFC tag master keys (meta-read, file-read), if this node checks taps.
    pub sun_keys: Option<(jiu_sun::AesKey, jiu_sun::AesKey)>,
    /// The org key this node signs EPCIS captures with, if it captures.
    pub capture_key: Option<ed25519_dalek::SigningKey>,
    /// The official EPCIS 2.0 JSON schema, if configured; captures are validated against it.
    pub epcis_schema: Option<jiu_epcis::schema::SchemaValidator>,
}

/// Why a submitted transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    /// The tx passed every check this node makes, but a follower admits nothing: it hands
    /// the tx (this id) to a validator when it has `submit_to`, else refuses it.
    #[error("this node follows the chain but never proposes; submit to a validator")]
    NotAValidator(Hash),
}

/// State shared between the consensus loop and the RPC.
pub struct Shared {
    pub info: NodeInfo,
    pub db: Db,
    pub mempool: Mempool,
    pub metrics: Metrics,
    /// Public verification statistics (node-local).
    pub scans: crate::verify::ScanBook,
    /// NFC tag checks and their counters (node-local).
    pub tags: crate::tags::TagBook,
    /// Applicant-bundle provers of drawn lotteries (node-local, rebuilt at start).
    pub provers: crate::lottery::Provers,
    committed: RwLock<Arc<Committed>>,
    progress: RwLock<Progress>,
    peers: AtomicUsize,
    /// A follower's hand-off to validators (config `submit_to`).
    pub forwarder: Option<crate::forward::Forwarder>,
}

/// The committed tip, its state, and what a proof about that state needs: the header that
/// carries its root and the certificate that signs the header. Replaced as one value at each
/// commit, so a reader never mixes a state with another height's header.
#[derive(Clone)]
pub struct Committed {
    pub tip: Tip,
    pub state: Arc<State>,
    /// `None` at height 0 (the genesis has no header).
    pub header: Option<crate::block::BlockHeader>,
    pub certificate: Option<crate::proof::CertificateJson>,
    /// `header` and `certificate` as JSON text (keys sorted, as a `serde_json::Value` writes
    /// them), made once per height: every verify answer copies them in.
    pub proof_head: Option<Arc<(Box<RawValue>, Box<RawValue>)>>,
    /// The state-only part of every record and product proof, made once per height.
    pub proof_leaves: Arc<jiu_contracts::ProofLeaves>,
}

impl Committed {
    /// The committed tip with the header and certificate that sign its state.
    pub fn new(
        tip: Tip,
        state: Arc<State>,
        header: Option<crate::block::BlockHeader>,
        certificate: Option<crate::proof::CertificateJson>,
    ) -> Self {
        let proof_head = match (&header, &certificate) {
            (Some(h), Some(c)) => Some(Arc::new((raw_json(h), raw_json(c)))),
            _ => None,
        };
        Self {
            tip,
            proof_leaves: Arc::new(state.proof_leaves()),
            state,
            header,
            certificate,
            proof_head,
        }
    }
}

/// `value` as JSON text with its object keys sorted.
fn raw_json(value: &impl Serialize) -> Box<RawValue> {
    // A header and a certificate are plain structs of strings and numbers: nothing fails.
    let sorted = serde_json::to_value(value).unwrap_or_default();
    RawValue::from_string(sorted.to_string()).expect("a Value writes valid JSON")
}

impl Shared {
    /// Shared state starting at `tip` with committed `state`.
    pub fn new(
        info: NodeInfo,
        db: Db,
        mempool: Mempool,
        metrics: Metrics,
        committed: Committed,
    ) -> Self {
        let tags = crate::tags::TagBook::new(info.sun_keys.clone(), db.clone());
        Self {
            info,
            db,
            mempool,
            metrics,
            scans: Default::default(),
            tags,
            provers: Default::default(),
            committed: RwLock::new(Arc::new(committed)),
            progress: RwLock::new(Progress::default()),
            peers: AtomicUsize::new(0),
            forwarder: None,
        }
    }

    /// The hand-off for a request with `headers`: none on a validator, and none for a
    /// request a follower already handed on (it is never handed on twice).
    pub(crate) fn forwarder_for(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Option<&crate::forward::Forwarder> {
        self.forwarder
            .as_ref()
            .filter(|_| !crate::forward::was_forwarded(headers))
    }

    /// Hands a follower's transactions to `forwarder`'s validators.
    pub fn with_forwarder(mut self, forwarder: Option<crate::forward::Forwarder>) -> Self {
        self.forwarder = forwarder;
        self
    }

    /// The committed tip.
    pub fn tip(&self) -> Tip {
        self.committed().tip.clone()
    }

    /// The committed tip with its state, header and certificate.
    pub fn committed(&self) -> Arc<Committed> {
        self.committed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Consensus progress.
    pub fn progress(&self) -> Progress {
        self.progress
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Number of connected peers.
    pub fn peers(&self) -> usize {
        self.peers.load(Ordering::Relaxed)
    }

    pub(crate) fn set_peers(&self, peers: usize) {
        self.peers.store(peers, Ordering::Relaxed);
        self.metrics.peers.set(peers as i64);
    }

    pub(crate) fn set_progress(&self, progress: Progress) {
        *self.progress.write().unwrap_or_else(|e| e.into_inner()) = progress;
    }

    /// Publishes `committed` to readers and returns the snapshot it replaces, for the
    /// caller to drop outside the lock (freeing an old state is slow).
    pub(crate) fn set_committed(&self, committed: Committed) -> Arc<Committed> {
        let mut current = self.committed.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *current, Arc::new(committed))
    }

    /// Admits a client's encoded transaction: size, decoding, chain id, signature, then the
    /// state machine's checks against the committed state. Returns the tx id. Changes
    /// nothing on error. CPU-bound: call it off the async runtime.
    pub fn submit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let tx = self.decode_checked(bytes)?;
        self.admit(tx.verify()?, bytes.len())
    }

    /// Admits many transactions, verifying their signatures as one batch; one result per
    /// input, in order. A refused transaction does not affect the others.
    pub fn submit_many(&self, txs: &[Vec<u8>]) -> Vec<Result<Hash, SubmitError>> {
        let mut results: Vec<Option<Result<Hash, SubmitError>>> = vec![None; txs.len()];
        let mut decoded = Vec::with_capacity(txs.len());
        for (index, bytes) in txs.iter().enumerate() {
            match self.decode_checked(bytes) {
                Ok(tx) => decoded.push((index, tx)),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        let signed: Vec<SignedTx> = decoded.iter().map(|(_, tx)| tx.clone()).collect();
        let verified: Vec<Result<VerifiedTx, TxError>> = match verify_batch(signed) {
            Ok(all) => all.into_iter().map(Ok).collect(),
            Err(_) => decoded.iter().map(|(_, tx)| tx.clone().verify()).collect(),
        };
        for ((index, _), tx) in decoded.iter().zip(verified) {
            let result = tx
                .map_err(SubmitError::from)
                .and_then(|tx| self.admit(tx, txs[*index].len()));
            results[*index] = Some(result);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or(Err(SubmitError::Tx(TxError::Malformed(
                    "not processed".into(),
                ))))
            })
            .collect()
    }

    fn decode_checked(&self, bytes: &[u8]) -> Result<SignedTx, SubmitError> {
        if bytes.len() > TX_BYTES_MAX {
            return Err(TxError::Oversized {
                bytes: bytes.len(),
                max: TX_BYTES_MAX,
            }
            .into());
        }
        let tx = SignedTx::decode(bytes)?;
        check_stateless(&tx, &self.info.genesis.chain_id)?;
        Ok(tx)
    }

    fn admit(&self, tx: VerifiedTx, bytes: usize) -> Result<Hash, SubmitError> {
        let committed = self.committed();
        let (state, tip) = (&committed.state, &committed.tip);
        // The next block's time is its proposer's clock, never before the tip's: checked at
        // this node's clock, so an entry received just now is not "from the future".
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let ctx = BlockCtx {
            height: tip.height + 1,
            time_ms: tip.time_ms.max(now_ms),
        };
        state.check(&tx, &ctx)?;
        let id = tx.id();
        if !self.info.is_validator {
            return Err(SubmitError::NotAValidator(id));
        }
        self.mempool.insert(tx, bytes)?;
        self.metrics.mempool_size.set(self.mempool.len() as i64);
        Ok(id)
    }
}
