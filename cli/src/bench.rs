//! `jiu bench`: the hotstuff-style harness. Starts a local network (optionally with some
//! validators never booted, as crash faults), offers signed 512-byte transactions at a
//! fixed rate split across the live nodes, watches finalized blocks, and prints finalized
//! tx/s, blocks/s and end-to-end latency (submit -> seen in a finalized block).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::SigningKey;
use eyre::{bail, Result};
use jiu_contracts::{Hash, Payload, PublicKey, SignedTx, TxBody};
use jiu_genesis::keys;
use jiu_node::node::files;
use jiu_node::NodeConfig;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::testnet::{self, TestnetArgs};
use crate::tx::{chain_tip, get_json};

/// `jiu bench` arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Validators in the network.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Validators never started (crash faults).
    #[arg(long, default_value_t = 0)]
    crashed: usize,
    /// Offered load, transactions per second, split across live nodes.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Measured duration in seconds.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Encoded transaction size in bytes.
    #[arg(long, default_value_t = 512)]
    tx_size: usize,
    /// Working directory (recreated).
    #[arg(long, default_value = "target/bench-net")]
    dir: PathBuf,
    #[arg(long, default_value_t = 27100)]
    p2p_port: u16,
    #[arg(long, default_value_t = 26750)]
    rpc_port: u16,
}

const TICK: Duration = Duration::from_millis(50);

struct Signers {
    chain_id: String,
    keys: Vec<SigningKey>,
}

impl Signers {
    fn make(&self, n: u64, expires: u64, tx_size: usize) -> SignedTx {
        let key = &self.keys[(n % self.keys.len() as u64) as usize];
        let mut body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: n,
            expires_at_height: expires,
            payload: Payload::Anchor {
                record_hash: jiu_contracts::sha256(&[&n.to_le_bytes(), b"bench"]),
                data: Vec::new(),
            },
        };
        let base = SignedTx::sign(body.clone(), key).encode().len();
        if let Payload::Anchor { data, .. } = &mut body.payload {
            data.resize(tx_size.saturating_sub(base), 0x42);
        }
        SignedTx::sign(body, key)
    }
}

#[derive(Default)]
struct Tally {
    submitted: HashMap<Hash, Instant>,
    refused: HashMap<String, u64>,
    sent: u64,
}

/// Runs the benchmark and prints the summary.
pub async fn run(args: BenchArgs) -> Result<()> {
    if args.crashed * 3 >= args.nodes {
        bail!("--crashed must be below a third of --nodes for the network to make progress");
    }
    let net = TestnetArgs {
        nodes: args.nodes,
        dir: args.dir.clone(),
        chain_id: "jiu-bench".into(),
        p2p_port: args.p2p_port,
        rpc_port: args.rpc_port,
        reset: true,
        no_start: true,
        empty_block_wait_ms: 50,
        epcis_schema: None,
        followers: 0,
    };
    let homes = testnet::prepare(&net)?;
    let live = &homes[..args.nodes - args.crashed];
    let mut children = Vec::new();
    let mut rpcs = Vec::new();
    for home in live {
        children.push(testnet::spawn_node(home)?);
        let config = NodeConfig::load(&home.join(files::CONFIG))?;
        rpcs.push(format!("http://{}", config.rpc_listen));
    }
    let result = measure(&args, &rpcs).await;
    for child in &mut children {
        testnet::stop_node(child).await;
    }
    result
}

async fn wait_ready(client: &reqwest::Client, rpcs: &[String]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    'outer: while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        for rpc in rpcs {
            match chain_tip(client, rpc).await {
                Ok((height, _)) if height >= 2 => {}
                _ => continue 'outer,
            }
        }
        return Ok(());
    }
    bail!("the network did not reach height 2 within 120 s")
}

async fn measure(args: &BenchArgs, rpcs: &[String]) -> Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    wait_ready(&client, rpcs).await?;
    let (height, chain_id) = chain_tip(&client, &rpcs[0]).await?;
    let orgs = args.dir.join("orgs");
    let mut keys_list = Vec::new();
    for org in ["producer", "distributor-1", "store-1"] {
        keys_list.push(keys::read_key_file(&orgs.join(format!("{org}.json")))?);
    }
    let signers = Arc::new(Signers {
        chain_id,
        keys: keys_list,
    });
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (height_tx, height_rx) = watch::channel(height);
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = tokio::spawn(watch_blocks(
        client.clone(),
        rpcs[0].clone(),
        height,
        height_tx,
        stop_rx.clone(),
    ));
    let start = Instant::now();
    let per_node = args.rate as f64 / rpcs.len() as f64;
    let mut loaders = Vec::new();
    for (i, rpc) in rpcs.iter().enumerate() {
        loaders.push(tokio::spawn(load(
            client.clone(),
            rpc.clone(),
            signers.clone(),
            tally.clone(),
            per_node,
            i as u64,
            args.tx_size,
            height_rx.clone(),
            stop_rx.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let _ = stop_tx.send(true);
    for loader in loaders {
        let _ = loader.await;
    }
    let load_end = start.elapsed();
    let blocks = watcher.await??;
    report(args, rpcs.len(), &tally, &blocks, start, load_end);
    Ok(())
}

/// One load generator: every tick, signs and submits a batch to its node.
#[allow(clippy::too_many_arguments)]
async fn load(
    client: reqwest::Client,
    rpc: String,
    signers: Arc<Signers>,
    tally: Arc<Mutex<Tally>>,
    rate: f64,
    lane: u64,
    tx_size: usize,
    height: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(TICK);
    let mut due = 0.0;
    let mut n = lane << 40;
    while !*stop.borrow() {
        interval.tick().await;
        due += rate * TICK.as_secs_f64();
        let count = due.floor() as u64;
        due -= count as f64;
        if count == 0 {
            continue;
        }
        let expires = *height.borrow() + 500;
        let first = n;
        n += count;
        let signers = signers.clone();
        let Ok(txs) = tokio::task::spawn_blocking(move || {
            (first..first + count)
                .map(|i| signers.make(i, expires, tx_size))
                .collect::<Vec<_>>()
        })
        .await
        else {
            continue;
        };
        let ids: Vec<Hash> = txs.iter().map(|tx| tx.id()).collect();
        let body =
            json!({ "txs": txs.iter().map(|tx| hex::encode(tx.encode())).collect::<Vec<_>>() });
        let sent_at = Instant::now();
        let answer: Option<Value> = match client.post(format!("{rpc}/txs")).json(&body).send().await
        {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.sent += count;
        let results = answer
            .as_ref()
            .and_then(|a| a["results"].as_array().cloned())
            .unwrap_or_default();
        for (i, id) in ids.iter().enumerate() {
            match results.get(i) {
                Some(r) if r.get("tx_id").is_some() => {
                    tally.submitted.insert(*id, sent_at);
                }
                Some(r) => {
                    let code = r["error"]["code"].as_str().unwrap_or("UNKNOWN").to_string();
                    *tally.refused.entry(code).or_default() += 1;
                }
                None => *tally.refused.entry("NO_ANSWER".into()).or_default() += 1,
            }
        }
    }
}

struct Blocks {
    /// (height, seen at, tx ids)
    seen: Vec<(u64, Instant, Vec<Hash>)>,
}

/// Follows finalized heights on one node and notes when each block was first seen.
async fn watch_blocks(
    client: reqwest::Client,
    rpc: String,
    from: u64,
    height_tx: watch::Sender<u64>,
    stop: watch::Receiver<bool>,
) -> Result<Blocks> {
    let mut seen = Vec::new();
    let mut next = from + 1;
    let mut stopped_at: Option<Instant> = None;
    loop {
        if *stop.borrow() && stopped_at.is_none() {
            stopped_at = Some(Instant::now());
        }
        if stopped_at.is_some_and(|t| t.elapsed() > Duration::from_secs(5)) {
            break;
        }
        let Ok(answer) = get_json(&client, &format!("{rpc}/block/{next}/tx_ids")).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Some(ids) = answer["tx_ids"].as_array() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let ids: Vec<Hash> = ids
            .iter()
            .filter_map(|v| v.as_str())
            .filter_map(|s| hex::decode(s).ok()?.try_into().ok())
            .collect();
        seen.push((next, Instant::now(), ids));
        let _ = height_tx.send(next);
        next += 1;
    }
    Ok(Blocks { seen })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn report(
    args: &BenchArgs,
    live: usize,
    tally: &Mutex<Tally>,
    blocks: &Blocks,
    start: Instant,
    load_end: Duration,
) {
    let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
    let mut latencies = Vec::new();
    let mut last_final = start;
    for (_, at, ids) in &blocks.seen {
        for id in ids {
            if let Some(sent) = tally.submitted.get(id) {
                latencies.push(at.duration_since(*sent));
                last_final = last_final.max(*at);
            }
        }
    }
    latencies.sort();
    let finalized = latencies.len() as u64;
    let window = last_final
        .duration_since(start)
        .max(Duration::from_millis(1));
    let in_load: Vec<_> = blocks
        .seen
        .iter()
        .filter(|(_, at, _)| at.duration_since(start) <= load_end)
        .collect();
    let blocks_per_s = in_load.len() as f64 / load_end.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!("-----------------------------------------");
    println!(" SUMMARY (jiu bench)");
    println!("-----------------------------------------");
    println!(" + CONFIG:");
    println!(
        " Validators: {} ({} crashed, {} live)",
        args.nodes, args.crashed, live
    );
    println!(" Offered rate: {} tx/s", args.rate);
    println!(" Transaction size: {} B", args.tx_size);
    println!(" Duration: {} s", args.duration);
    println!(" Machine: {}", machine());
    println!();
    println!(" + RESULTS:");
    println!(
        " Sent: {} tx, accepted: {}, refused: {:?}",
        tally.sent,
        tally.submitted.len(),
        tally.refused
    );
    println!(
        " Finalized: {} tx ({} not seen final)",
        finalized,
        tally.submitted.len() as u64 - finalized
    );
    println!(
        " Finalized TPS: {:.0} tx/s",
        finalized as f64 / window.as_secs_f64()
    );
    println!(" Blocks/s: {:.2}", blocks_per_s);
    println!(
        " End-to-end latency p50: {:.0} ms",
        ms(percentile(&latencies, 0.50))
    );
    println!(
        " End-to-end latency p99: {:.0} ms",
        ms(percentile(&latencies, 0.99))
    );
    println!("-----------------------------------------");
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores, {model}")
}
