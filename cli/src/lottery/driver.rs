//! The lottery demo's client of a devnet: signs lottery ops, submits each to every
//! validator, waits for finality, and reads the validators' tips. A refusal names the
//! transaction, the node and the node's error code ([`Refused`]).
//!
//! Why every validator: a node's mempool feeds only its own proposals (transactions are not
//! gossiped between nodes) and the proposer changes every height, so a transaction sent to
//! one node of four waits on average two heights for that node's turn, each an empty block
//! after the proposer's `empty_block_wait_ms`. Sent to all, it is in the next block whoever
//! proposes it; the other nodes drop their copy when they commit that block.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use eyre::{bail, eyre, Result, WrapErr};
use jiu_contracts::{Payload, PublicKey, SignedTx, TxBody};
use jiu_lottery::LotteryOp;
use jiu_node::node::files;
use jiu_node::NodeConfig;
use serde_json::Value;

/// A lottery tx stays valid this many heights after it is signed.
const TX_TTL_HEIGHTS: u64 = 200;
/// How often the finality of a submitted tx is polled.
const POLL: Duration = Duration::from_millis(20);
/// A tx not final after this long is an error (a stalled chain, or a tx no proposer takes).
const FINAL_TIMEOUT: Duration = Duration::from_secs(180);
/// Validators that lag the primary node by more than this are an error.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// A full mempool is retried this many times, a quarter second apart.
const FULL_RETRIES: u32 = 40;
/// Every RPC request gives up after this long (a 1 MiB batch is admitted in tens of ms).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A node refused a transaction, at admission or when a proposer left it out.
#[derive(Debug)]
pub struct Refused {
    /// What the tx was, e.g. `append_batch 17`.
    pub what: String,
    pub tx_id: String,
    pub node: String,
    /// The node's stable error code, e.g. `BATCH_OUT_OF_ORDER`.
    pub code: String,
    pub message: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (tx {}) refused by {}: {}: {}",
            self.what, self.tx_id, self.node, self.code, self.message
        )
    }
}

impl std::error::Error for Refused {}

/// The committed tip a node reports.
#[derive(Clone, Copy, Debug)]
pub struct Tip {
    pub height: u64,
    /// Block time of the tip, Unix ms.
    pub time_ms: u64,
}

/// What one node answered to a submission.
enum Answer {
    Accepted,
    Refused { code: String, message: String },
    Unreachable(eyre::Report),
}

/// A devnet client for one run of the demo.
pub struct Driver {
    client: reqwest::Client,
    /// Every validator RPC a tx goes to; the first is the node the demo reads from.
    nodes: Vec<String>,
    chain_id: String,
    nonce: u64,
    /// The highest committed height seen, for tx expiry.
    height: u64,
}

impl Driver {
    /// Connects to `rpc` and to the other validators of the devnet in `dir` (their
    /// `node-*/config.toml`) that serve the same chain.
    pub async fn connect(rpc: &str, dir: &Path) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        let rpc = rpc.trim_end_matches('/').to_string();
        let status = get(&client, &rpc, "/status").await?;
        let chain_id = status["chain"]["chain_id"]
            .as_str()
            .ok_or_else(|| eyre!("{rpc}/status has no chain id"))?
            .to_string();
        let mut nodes = vec![rpc.clone()];
        for other in devnet_rpcs(dir) {
            if nodes.contains(&other) {
                continue;
            }
            match get(&client, &other, "/status").await {
                Ok(s) if s["chain"]["chain_id"].as_str() == Some(chain_id.as_str()) => {
                    nodes.push(other)
                }
                Ok(_) => eprintln!("note: {other} serves another chain; not submitting there"),
                Err(error) => eprintln!("note: {other} is not reachable ({error}); skipped"),
            }
        }
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(Self {
            client,
            nodes,
            chain_id,
            nonce,
            height: status["latest"]["height"].as_u64().unwrap_or(0),
        })
    }

    /// The node the demo reads from.
    pub fn rpc(&self) -> &str {
        &self.nodes[0]
    }

    /// Every validator txs are submitted to.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// A JSON GET on the primary node; an error answer becomes an error naming its code.
    pub async fn get(&self, path: &str) -> Result<Value> {
        get(&self.client, self.rpc(), path).await
    }

    /// A GET on the primary node: the HTTP status and the body as sent.
    pub async fn get_text(&self, path: &str) -> Result<(u16, String)> {
        let url = format!("{}{path}", self.rpc());
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .wrap_err_with(|| format!("cannot reach the node at {}", self.rpc()))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// The primary node's committed tip.
    pub async fn tip(&mut self) -> Result<Tip> {
        let tip = tip_of(&self.client, self.rpc()).await?;
        self.height = self.height.max(tip.height);
        Ok(tip)
    }

    /// Waits until every validator has committed `height`, and returns the lowest tip: a
    /// tx checked against it passes admission on every node. A validator that stops
    /// answering is dropped with a warning (the chain goes on without it).
    pub async fn settled_tip(&mut self, height: u64) -> Result<Tip> {
        let started = Instant::now();
        loop {
            let mut lowest: Option<Tip> = None;
            let mut drop = Vec::new();
            for (i, node) in self.nodes.iter().enumerate() {
                match tip_of(&self.client, node).await {
                    Ok(tip) => {
                        if lowest.is_none_or(|low| tip.height < low.height) {
                            lowest = Some(tip);
                        }
                    }
                    Err(error) if i > 0 => {
                        eprintln!("warning: {node} stopped answering ({error}); dropped");
                        drop.push(i);
                    }
                    Err(error) => return Err(error),
                }
            }
            for i in drop.into_iter().rev() {
                self.nodes.remove(i);
            }
            let Some(low) = lowest else {
                bail!("no validator answers");
            };
            self.height = self.height.max(low.height);
            if low.height >= height {
                return Ok(low);
            }
            if started.elapsed() > CATCH_UP_TIMEOUT {
                bail!(
                    "a validator is still at height {} after {} s, the demo waits for {height}",
                    low.height,
                    CATCH_UP_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Signs `op` with `key`, valid for [`TX_TTL_HEIGHTS`] heights from the latest tip seen.
    pub fn sign(&mut self, key: &SigningKey, op: LotteryOp) -> SignedTx {
        self.nonce += 1;
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: self.nonce,
            expires_at_height: self.height + TX_TTL_HEIGHTS,
            payload: Payload::Lottery { op },
        };
        SignedTx::sign(body, key)
    }

    /// Submits `tx` to every validator at once (raw bytes). Returns the tx id once every
    /// node holds it; fails with [`Refused`] on the first node's refusal. A full mempool is
    /// retried; an unreachable validator other than the primary is dropped with a warning.
    pub async fn submit(&mut self, what: &str, tx: &SignedTx) -> Result<String> {
        let tx_id = hex::encode(tx.id());
        let bytes = Arc::new(tx.encode());
        let mut pending: Vec<String> = self.nodes.clone();
        for attempt in 0..=FULL_RETRIES {
            let mut tasks = tokio::task::JoinSet::new();
            for node in pending.drain(..) {
                let (client, bytes) = (self.client.clone(), Arc::clone(&bytes));
                tasks.spawn(async move {
                    let answer = post_tx(&client, &node, bytes.as_ref().clone()).await;
                    (node, answer)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                let (node, answer) = joined?;
                match answer {
                    Answer::Accepted => {}
                    Answer::Refused { code, .. } if code == "DUPLICATE" => {}
                    Answer::Refused { code, .. } if code == "MEMPOOL_FULL" => pending.push(node),
                    Answer::Refused { code, message } => {
                        return Err(Refused {
                            what: what.to_string(),
                            tx_id,
                            node,
                            code,
                            message,
                        }
                        .into())
                    }
                    Answer::Unreachable(error) if node == self.nodes[0] => {
                        return Err(error.wrap_err(format!("submitting {what} (tx {tx_id})")))
                    }
                    Answer::Unreachable(error) => {
                        eprintln!("warning: {node} did not take {what} ({error}); dropped");
                        self.nodes.retain(|n| *n != node);
                    }
                }
            }
            if pending.is_empty() {
                return Ok(tx_id);
            }
            if attempt < FULL_RETRIES {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        bail!(
            "{what} (tx {tx_id}): mempool still full on {} after {} s",
            pending.join(", "),
            FULL_RETRIES / 4
        )
    }

    /// Waits until `tx_id` is finalized and returns its height; fails with [`Refused`] if
    /// a proposer left it out (the primary says so, or, checked every second, another
    /// validator does).
    pub async fn wait_final(&mut self, what: &str, tx_id: &str) -> Result<u64> {
        let started = Instant::now();
        let mut polls = 0u64;
        while started.elapsed() < FINAL_TIMEOUT {
            polls += 1;
            let nodes: &[String] = if polls.is_multiple_of(50) {
                &self.nodes
            } else {
                &self.nodes[..1]
            };
            for node in nodes {
                let answer = match get(&self.client, node, &format!("/tx/{tx_id}")).await {
                    Ok(answer) => answer,
                    // Only the primary's answer is needed; the others are a second look.
                    Err(error) if node == &self.nodes[0] => return Err(error),
                    Err(_) => continue,
                };
                match answer["status"].as_str() {
                    Some("finalized") => {
                        let height = answer["height"]
                            .as_u64()
                            .ok_or_else(|| eyre!("{node}: finalized tx without a height"))?;
                        self.height = self.height.max(height);
                        return Ok(height);
                    }
                    Some("rejected") => {
                        return Err(Refused {
                            what: what.to_string(),
                            tx_id: tx_id.to_string(),
                            node: node.clone(),
                            code: answer["error"]["code"].as_str().unwrap_or("?").into(),
                            message: answer["error"]["message"].as_str().unwrap_or("").into(),
                        }
                        .into())
                    }
                    _ => {}
                }
            }
            tokio::time::sleep(POLL).await;
        }
        bail!(
            "{what} (tx {tx_id}) not final after {} s",
            FINAL_TIMEOUT.as_secs()
        )
    }
}

/// The RPC addresses of the validators of the devnet in `dir`, by node number.
fn devnet_rpcs(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut homes: Vec<_> = read
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join(files::CONFIG).is_file())
        .collect();
    homes.sort();
    homes
        .iter()
        .filter_map(|home| NodeConfig::load(&home.join(files::CONFIG)).ok())
        .map(|config| format!("http://{}", config.rpc_listen))
        .collect()
}

/// A JSON GET; an answer `{"error": {"code", "message"}}` becomes an error naming both.
async fn get(client: &reqwest::Client, rpc: &str, path: &str) -> Result<Value> {
    let response = client
        .get(format!("{rpc}{path}"))
        .send()
        .await
        .wrap_err_with(|| format!("cannot reach the node at {rpc}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .wrap_err_with(|| format!("{rpc}{path} answered {status} without JSON"))?;
    if let Some(error) = body.get("error").filter(|_| !status.is_success()) {
        bail!(
            "{rpc}{path}: {}: {}",
            error["code"].as_str().unwrap_or("?"),
            error["message"].as_str().unwrap_or("")
        );
    }
    Ok(body)
}

async fn tip_of(client: &reqwest::Client, rpc: &str) -> Result<Tip> {
    let status = get(client, rpc, "/status").await?;
    let latest = &status["latest"];
    match (latest["height"].as_u64(), latest["time_ms"].as_u64()) {
        (Some(height), Some(time_ms)) => Ok(Tip { height, time_ms }),
        _ => bail!("{rpc}/status has no latest height and time"),
    }
}

async fn post_tx(client: &reqwest::Client, rpc: &str, bytes: Vec<u8>) -> Answer {
    let sent = client
        .post(format!("{rpc}/tx"))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            return Answer::Unreachable(eyre!(error).wrap_err(format!("cannot reach {rpc}")))
        }
    };
    let status = response.status();
    match response.json::<Value>().await {
        Ok(body) if body["tx_id"].is_string() => Answer::Accepted,
        Ok(body) => Answer::Refused {
            code: body["error"]["code"].as_str().unwrap_or("?").to_string(),
            message: body["error"]["message"]
                .as_str()
                .map_or_else(|| format!("HTTP {status}: {body}"), str::to_string),
        },
        Err(error) => Answer::Refused {
            code: format!("HTTP_{}", status.as_u16()),
            message: format!("the answer is not JSON: {error}"),
        },
    }
}
