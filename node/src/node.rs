//! Starting a node: load home directory, open storage, restore state, start Malachite,
//! serve RPC, run the application loop until stopped.
//!
//! Home directory layout: `config.toml`, `genesis.json`, `node_key.json` (0600), and
//! `data/` with `db/` (rocksdb) and `wal/` (Malachite's write-ahead log).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eyre::{eyre, Result, WrapErr};
use jiu_contracts::provenance::StoredRecord;
use jiu_contracts::{PublicKey, State, TX_TTL_HEIGHTS_MAX};
use jiu_genesis::Genesis;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig as MalachiteNodeConfig, P2pConfig, PubSubProtocol, ValueSyncConfig,
};
use malachitebft_app_channel::app::metrics::SharedRegistry;
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::{
    ConsensusContext, NetworkContext, NetworkIdentity, NetworkRequest, RequestContext, SyncContext,
    WalContext,
};
use malachitebft_codec::Codec;
use malachitebft_signing::Signer;
use multiaddr::Multiaddr;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::app::{App, AppConfig};
use crate::block::{Block, BlockLimits, Parent};
use crate::codec::{decode_certificate, BorshCodec};
use crate::config::NodeConfig;
use crate::context::{Address, BlockId, JiuContext, Validator, ValidatorSet};
use crate::db::Db;
use crate::mempool::{Mempool, MempoolConfig};
use crate::metrics::Metrics;
use crate::shared::{Committed, NodeInfo, Shared, Tip};
use crate::signing::{JiuSigner, JiuVerifier};

/// File names inside a node's home directory.
pub mod files {
    pub const CONFIG: &str = "config.toml";
    pub const GENESIS: &str = "genesis.json";
    pub const NODE_KEY: &str = "node_key.json";
    pub const DATA: &str = "data";
}

struct MalachiteConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl MalachiteNodeConfig for MalachiteConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }

    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// The libp2p peer id of a validator key: the same ed25519 key signs votes and
/// authenticates the transport, so peers can be pinned from the genesis alone.
pub fn peer_id_of(key: &PublicKey) -> Result<libp2p_identity::PeerId> {
    let key = libp2p_identity::ed25519::PublicKey::try_from_bytes(&key.0)
        .map_err(|e| eyre!("validator key is not ed25519: {e}"))?;
    Ok(libp2p_identity::PublicKey::from(key).to_peer_id())
}

/// An entry of the config's `peers`: a multiaddr that ends in the peer id it must answer as,
/// so a node is never connected to whoever happens to listen at an address.
fn pinned_peer(text: &str) -> Result<Multiaddr> {
    let addr: Multiaddr = text
        .parse()
        .map_err(|e| eyre!("peers: '{text}' is not a multiaddr: {e}"))?;
    match addr.iter().last() {
        Some(multiaddr::Protocol::P2p(_)) if addr.iter().count() > 1 => Ok(addr),
        _ => Err(eyre!(
            "peers: '{text}' must be an address ending in /p2p/<peer id> (jiu init prints it)"
        )),
    }
}

/// The genesis validators as a consensus validator set.
pub fn validator_set(genesis: &Genesis) -> ValidatorSet {
    ValidatorSet::new(
        genesis
            .validators
            .iter()
            .map(|v| Validator::new(v.public_key, v.power))
            .collect(),
    )
}

fn timeouts(genesis: &Genesis) -> LinearTimeouts {
    let c = &genesis.consensus;
    let ms = Duration::from_millis;
    LinearTimeouts {
        propose: ms(c.timeout_propose_ms),
        propose_delta: ms(c.timeout_propose_delta_ms),
        prevote: ms(c.timeout_prevote_ms),
        prevote_delta: ms(c.timeout_prevote_delta_ms),
        precommit: ms(c.timeout_precommit_ms),
        precommit_delta: ms(c.timeout_precommit_delta_ms),
        rebroadcast: ms(c.timeout_propose_ms + c.timeout_prevote_ms + c.timeout_precommit_ms),
        max_timeout: Duration::from_secs(60),
    }
}

fn malachite_config(
    config: &NodeConfig,
    genesis: &Genesis,
    me: &PublicKey,
) -> Result<MalachiteConfig> {
    let listen_addr: Multiaddr = config
        .p2p_listen
        .parse()
        .wrap_err_with(|| format!("p2p_listen '{}' is not a multiaddr", config.p2p_listen))?;
    let mut persistent_peers = Vec::new();
    // A follower that lists its validators in `peers` dials only them: the others would
    // refuse it, and it would redial them every second.
    let is_validator = genesis.validators.iter().any(|v| v.public_key == *me);
    let dial_genesis = is_validator || config.peers.is_empty();
    for validator in genesis
        .validators
        .iter()
        .filter(|v| dial_genesis && v.public_key != *me)
    {
        let addr = format!(
            "{}/p2p/{}",
            validator.p2p_addr,
            peer_id_of(&validator.public_key)?
        );
        persistent_peers.push(addr.parse()?);
    }
    for peer in &config.peers {
        let addr = pinned_peer(peer)?;
        if !persistent_peers.contains(&addr) {
            persistent_peers.push(addr);
        }
    }
    let block_bytes = genesis.consensus.block_bytes_max as u64;
    let p2p = P2pConfig {
        listen_addr,
        persistent_peers,
        // Only the genesis validators and the configured `peers`, pinned by peer id, may
        // connect.
        persistent_peers_only: true,
        // Every validator dials every other (the persistent peers above), so consensus
        // messages go straight to each peer. GossipSub would also relay them: with four
        // validators each proposal chunk arrived up to three times, and each copy's
        // signature was checked before the duplicate was dropped (5% of a node during
        // ingest). A peer that misses a message catches up through value sync.
        protocol: PubSubProtocol::Broadcast,
        rpc_max_size: bytesize::ByteSize::b(4 * block_bytes + (1 << 20)),
        ..P2pConfig::default()
    };
    let consensus = ConsensusConfig {
        p2p,
        ..ConsensusConfig::default()
    };
    let value_sync = ValueSyncConfig {
        status_update_interval: Duration::from_secs(1),
        max_response_size: bytesize::ByteSize::b(4 * block_bytes + (1 << 20)),
        ..ValueSyncConfig::default()
    };
    Ok(MalachiteConfig {
        moniker: config.name.clone(),
        consensus,
        value_sync,
    })
}

/// Loads the committed state and tip, or the genesis state for a fresh node.
fn restore(
    db: &Db,
    genesis: &Genesis,
) -> Result<(State, Parent, Committed, Vec<jiu_lottery::book::DrawJob>)> {
    let genesis_hash = genesis.hash();
    let Some(height) = db.tip()? else {
        let state = genesis
            .initial_state()
            .map_err(|e| eyre!("genesis organisations are invalid: {e}"))?;
        let parent = Parent {
            height: 0,
            id: BlockId(genesis_hash),
            time_ms: genesis.genesis_time_ms,
        };
        let tip = Tip {
            height: 0,
            block_id: parent.id,
            time_ms: parent.time_ms,
            state_root: state.root(),
        };
        let committed = Committed::new(tip, Arc::new(state.clone()), None, None);
        return Ok((state, parent, committed, Vec::new()));
    };
    let bytes = db
        .state()?
        .ok_or_else(|| eyre!("database has a tip but no state"))?;
    let mut state = genesis.configure_lottery(
        State::decode_persistent(&bytes).map_err(|e| eyre!("stored state is corrupt: {e}"))?,
    );
    let started = std::time::Instant::now();
    // The store yields the newest version of each record in key order, so the tree is
    // built as it is read, with no copy of all the leaves to sort.
    let mut tree = jiu_contracts::smt::SmtBuilder::default();
    let mut refused = None;
    db.load_records(&mut |key, bytes| {
        let pushed = match StoredRecord::leaf_bytes(bytes) {
            Some(leaf) => tree
                .push(*key, jiu_contracts::smt::value_hash(leaf))
                .map_err(|e| e.to_string()),
            None => Err("its bytes do not decode".to_string()),
        };
        if let Err(why) = pushed {
            refused.get_or_insert((*key, why));
        }
    })?;
    if let Some((key, why)) = refused {
        return Err(eyre!(
            "stored record {} is corrupt: {why}",
            hex::encode(key)
        ));
    }
    let records = tree.finish();
    let count = records.len();
    state.restore_records(records);
    // The state is at the tip height, the newest version of every stored record.
    state.rebase_records(crate::records::StoreAt::of(db, &state));
    info!(
        records = count,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "records loaded"
    );
    let started = std::time::Instant::now();
    let jobs = crate::lottery::replay(db, &mut state)?;
    info!(
        lotteries = state.lottery_book().lotteries().count(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "lottery book replayed"
    );
    let limit = usize::MAX;
    let block = db
        .block(height)?
        .ok_or_else(|| eyre!("tip block {height} is missing"))?;
    let block = Block::decode(&block, limit).map_err(|e| eyre!("tip block: {e}"))?;
    if block.header.state_root != state.root() {
        return Err(eyre!(
            "stored state does not match the state root of block {height}"
        ));
    }
    let from = height.saturating_sub(TX_TTL_HEIGHTS_MAX).max(1);
    let mut recent = Vec::new();
    for h in from..=height {
        let Some(bytes) = db.block(h)? else { continue };
        let past = Block::decode(&bytes, limit).map_err(|e| eyre!("block {h}: {e}"))?;
        recent.extend(
            past.txs
                .iter()
                .map(|tx| (tx.body.expires_at_height, tx.id())),
        );
    }
    state.restore_replay(recent);
    let parent = Parent {
        height,
        id: block.id(),
        time_ms: block.header.time_ms,
    };
    let tip = Tip {
        height,
        block_id: parent.id,
        time_ms: parent.time_ms,
        state_root: block.header.state_root,
    };
    let certificate = db
        .certificate(height)?
        .ok_or_else(|| eyre!("tip certificate {height} is missing"))?;
    let certificate =
        decode_certificate(&certificate).map_err(|e| eyre!("tip certificate: {e}"))?;
    let committed = Committed::new(
        tip,
        Arc::new(state.clone()),
        Some(block.header),
        Some(crate::proof::certificate_json(&certificate)),
    );
    Ok((state, parent, committed, jobs))
}

/// Runs the node in `home` until Ctrl-C / SIGTERM or a fatal error.
pub async fn run(home: &Path) -> Result<()> {
    let config = NodeConfig::load(&home.join(files::CONFIG))?;
    let genesis = Genesis::load(&home.join(files::GENESIS))?;
    let key = jiu_genesis::keys::read_key_file(&home.join(files::NODE_KEY))?;
    let genesis_hash = genesis.hash();
    let me = PublicKey::from_signing_key(&key);
    let address = Address::from_public_key(&me);
    let validator_set = validator_set(&genesis);
    let is_validator = genesis.validators.iter().any(|v| v.public_key == me);

    let data: PathBuf = home.join(files::DATA);
    std::fs::create_dir_all(&data)?;
    let tuning = crate::db::DbOptions {
        block_cache_bytes: config.db_cache_mb.max(8).saturating_mul(1024 * 1024),
    };
    let db = Db::open_with(&data.join("db"), &tuning)?;
    let (state, parent, committed, draw_jobs) = restore(&db, &genesis)?;
    let beacon_share = match (&config.beacon_share, &genesis.beacon) {
        (Some(path), Some(public)) => Some(
            jiu_genesis::beacon::read_share_file(path, public)
                .map_err(|e| eyre!("beacon_share: {e}"))?,
        ),
        (Some(_), None) => return Err(eyre!("beacon_share is set but the genesis has no beacon")),
        (None, _) => None,
    };
    let lottery =
        crate::lottery::LotteryWorker::new(&db, is_validator.then(|| key.clone()), beacon_share)?;
    let tip = committed.tip.clone();
    info!(name = %config.name, height = tip.height, %address, is_validator, "starting node");

    let registry = SharedRegistry::global().with_moniker(config.name.clone());
    let metrics = Metrics::register(&registry, db.pruned_record_versions());
    metrics.height.set(tip.height as i64);

    let mut seed = key.to_bytes();
    let keypair = Keypair::ed25519_from_bytes(&mut seed)?;
    let peer_id = keypair.public().to_peer_id();
    let signer = JiuSigner::new(key.clone(), genesis_hash);
    let verifier = JiuVerifier::new(genesis_hash);
    let proof = signer
        .sign_validator_proof(me.0.to_vec(), peer_id.to_bytes())
        .await?;
    let proof_bytes: Bytes = BorshCodec.encode(&proof)?;
    let identity = NetworkIdentity::new_validator(
        config.name.clone(),
        keypair,
        address.to_string(),
        proof_bytes,
    );

    let submit_to = crate::forward::parse_urls(&config.submit_to).map_err(|e| eyre!(e))?;
    if is_validator && !submit_to.is_empty() {
        warn!("submit_to is set but this node is a validator: it admits transactions itself");
    }
    let forwarder = if is_validator {
        None
    } else {
        crate::forward::Forwarder::new(submit_to)
    };
    let state = Arc::new(state);
    let shared = Arc::new(
        Shared::new(
            NodeInfo {
                name: config.name.clone(),
                address,
                peer_id: peer_id.to_string(),
                rpc_addr: config.rpc_listen.to_string(),
                genesis: genesis.clone(),
                genesis_hash,
                validator_set: validator_set.clone(),
                is_validator,
                partner_tokens: config.rpc_partner_tokens.clone(),
                forwarded_for: config.rpc_forwarded_for,
                capture_key: match &config.capture_key {
                    Some(path) => Some(
                        jiu_genesis::keys::read_key_file(path)
                            .map_err(|e| eyre!("capture_key {}: {e}", path.display()))?,
                    ),
                    None => None,
                },
                sun_keys: match &config.sun_keys {
                    Some(path) => Some(load_sun_keys(path)?),
                    None => None,
                },
                epcis_schema: match &config.epcis_schema {
                    Some(path) => Some(
                        jiu_epcis::schema::SchemaValidator::from_path(path)
                            .map_err(|e| eyre!("epcis_schema {}: {e}", path.display()))?,
                    ),
                    None => None,
                },
            },
            db,
            Mempool::new(MempoolConfig {
                txs_max: config.mempool_txs_max,
                bytes_max: config.mempool_bytes_max,
                ..MempoolConfig::default()
            }),
            metrics,
            committed,
        )
        .with_forwarder(forwarder),
    );

    let consensus = if is_validator {
        ConsensusContext::new_validator(
            address,
            Box::new(verifier.clone()),
            Box::new(JiuSigner::new(key, genesis_hash)),
        )
    } else {
        warn!("this node's key is not a genesis validator: following only");
        ConsensusContext::new_full_node(address, Box::new(verifier.clone()))
    };
    let (mut channels, engine) = malachitebft_app_channel::start_engine(
        JiuContext,
        malachite_config(&config, &genesis, &me)?,
        WalContext::new(data.join("wal"), BorshCodec),
        NetworkContext::new(identity, BorshCodec),
        consensus,
        SyncContext::new(BorshCodec),
        RequestContext::new(100),
    )
    .await?;

    let listener = tokio::net::TcpListener::bind(config.rpc_listen)
        .await
        .wrap_err_with(|| format!("cannot listen for RPC on {}", config.rpc_listen))?;
    let rpc = match (&config.rpc_tls_cert, &config.rpc_tls_key) {
        (None, None) => {
            info!(rpc = %config.rpc_listen, "RPC listening (HTTP)");
            tokio::spawn(crate::rpc::serve(listener, shared.clone()))
        }
        (Some(cert), Some(key)) => {
            let tls = crate::tls::server_config(cert, key)?;
            let listener = crate::tls::TlsListener::new(listener, tls)?;
            info!(rpc = %config.rpc_listen, "RPC listening (HTTPS)");
            tokio::spawn(crate::rpc::serve_tls(listener, shared.clone()))
        }
        _ => {
            return Err(eyre!(
                "rpc_tls_cert and rpc_tls_key go together: set both for HTTPS, or neither"
            ))
        }
    };
    tokio::spawn(watch_peers(channels.net_requests.clone(), shared.clone()));

    let app = App::new(
        shared.clone(),
        AppConfig {
            limits: BlockLimits {
                txs_max: genesis.consensus.block_txs_max as usize,
                bytes_max: genesis.consensus.block_bytes_max as usize,
            },
            timeouts: timeouts(&genesis),
            empty_block_wait: Duration::from_millis(config.empty_block_wait_ms),
        },
        address,
        Arc::new(signer),
        verifier,
        validator_set,
        state,
        parent,
        lottery,
    );
    crate::lottery::build_provers(draw_jobs, shared.clone());
    // The loop runs as its own task so CPU-heavy block work can use `block_in_place`.
    let mut app_task = tokio::spawn(async move { app.run(&mut channels).await });
    let result = tokio::select! {
        joined = &mut app_task => {
            joined.unwrap_or_else(|e| Err(eyre!("application task failed: {e}")))
        }
        _ = shutdown_signal() => {
            info!("shutting down");
            app_task.abort();
            Ok(())
        }
    };
    rpc.abort();
    engine.actor.stop(None);
    result
}

/// Polls the network actor for the number of connected peers.
async fn watch_peers(requests: mpsc::Sender<NetworkRequest>, shared: Arc<Shared>) {
    loop {
        if let Ok(Some(dump)) = NetworkRequest::dump_state(&requests).await {
            shared.set_peers(dump.peers.len());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Reads the tag master keys file.
fn load_sun_keys(path: &Path) -> Result<(jiu_sun::AesKey, jiu_sun::AesKey)> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read sun_keys {}", path.display()))?;
    let file: crate::tags::SunKeysFile = serde_json::from_str(&text)
        .wrap_err_with(|| format!("sun_keys {} is not a keys file", path.display()))?;
    let meta = jiu_sun::AesKey::from_hex(&file.meta_read_master)
        .map_err(|e| eyre!("sun_keys meta_read_master: {e}"))?;
    let data = jiu_sun::AesKey::from_hex(&file.file_read_master)
        .map_err(|e| eyre!("sun_keys file_read_master: {e}"))?;
    Ok((meta, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis_and_keys() -> (Genesis, Vec<ed25519_dalek::SigningKey>) {
        let net = jiu_genesis::devnet::devnet("jiu-test", 4, 27000, None);
        (net.genesis, net.validator_keys)
    }

    #[test]
    fn test_persistent_peers_are_the_other_validators_and_the_configured_peers() {
        let (genesis, keys) = genesis_and_keys();
        let me = PublicKey::from_signing_key(&keys[0]);
        let follower = peer_id_of(&PublicKey::from_signing_key(&jiu_genesis::keys::generate()))
            .expect("peer id");
        let mut config =
            NodeConfig::new("v0", "/ip4/127.0.0.1/tcp/27000", ([127, 0, 0, 1], 1).into());
        let listed = format!("/ip4/10.0.0.9/tcp/27000/p2p/{follower}");
        // A genesis validator listed again is not dialled twice.
        let validator = format!(
            "{}/p2p/{}",
            genesis.validators[1].p2p_addr,
            peer_id_of(&genesis.validators[1].public_key).expect("peer id")
        );
        config.peers = vec![listed.clone(), validator];
        let peers = malachite_config(&config, &genesis, &me)
            .expect("config")
            .consensus
            .p2p
            .persistent_peers;
        let peers: Vec<String> = peers.iter().map(ToString::to_string).collect();
        assert_eq!(peers.len(), 4, "{peers:?}");
        assert_eq!(peers[3], listed);
        assert!(!peers
            .iter()
            .any(|p| p.contains(&peer_id_of(&me).unwrap().to_string())));

        // A follower with peers dials only them; without, every genesis validator.
        let outsider = PublicKey::from_signing_key(&jiu_genesis::keys::generate());
        let dialled = |config: &NodeConfig| -> Vec<String> {
            let config = malachite_config(config, &genesis, &outsider).expect("config");
            let peers = config.consensus.p2p.persistent_peers;
            peers.iter().map(ToString::to_string).collect()
        };
        assert_eq!(dialled(&config), config.peers);
        config.peers.clear();
        assert_eq!(dialled(&config).len(), 4);
    }

    #[test]
    fn test_a_peer_must_name_its_peer_id_and_an_address() {
        let id = peer_id_of(&PublicKey::from_signing_key(&jiu_genesis::keys::generate()))
            .expect("peer id");
        assert!(pinned_peer(&format!("/dns4/store-7.example/tcp/27000/p2p/{id}")).is_ok());
        for bad in [
            "/ip4/10.0.0.9/tcp/27000".to_string(),
            format!("/p2p/{id}"),
            format!("/p2p/{id}/ip4/10.0.0.9/tcp/27000"),
            "10.0.0.9:27000".to_string(),
            String::new(),
        ] {
            let error = pinned_peer(&bad).expect_err(&bad).to_string();
            assert!(error.starts_with("peers: "), "{bad}: {error}");
        }
    }
}
