//! `jiu tx` and `jiu status`: small RPC clients.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use eyre::{bail, eyre, Result, WrapErr};
use jiu_contracts::gs1::{parse_code, Code, Lot};
use jiu_contracts::provenance::Op;
use jiu_contracts::{sha256, Payload, PublicKey, SignedTx, TxBody};
use jiu_genesis::keys;
use serde_json::{json, Value};

/// `jiu tx` subcommands.
#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Anchor a record hash on chain, signed by an organisation key.
    Anchor {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
        /// The organisation key file that signs.
        #[arg(long)]
        key: PathBuf,
        /// The record: its SHA-256 is anchored.
        #[arg(long)]
        record: String,
        /// Wait until the transaction is finalized or rejected.
        #[arg(long)]
        wait: bool,
    },
    /// Submit bottle lifecycle ops (commission, pack, ship, receive, sell, flags, ...) as one
    /// all-or-nothing transaction. The ops file is a JSON array of ops, e.g.
    /// `[{"op":"commission","items":[...]}]` (the JSON form of `provenance::Op`), or codes
    /// in any GS1 form with `--commission CODE...` for the common case.
    Provenance {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
        /// The organisation key file that signs.
        #[arg(long)]
        key: PathBuf,
        /// A JSON file with the ops.
        #[arg(long, conflicts_with = "commission")]
        ops: Option<PathBuf>,
        /// Commission these bottle codes (Digital Link, element string, EPC URN).
        #[arg(long, num_args = 1..)]
        commission: Vec<String>,
        /// The lot (AI 10) the commissioned bottles were filled from.
        #[arg(long, requires = "commission")]
        lot: Option<String>,
        /// Wait until the transaction is finalized or rejected.
        #[arg(long)]
        wait: bool,
    },
    /// Register or amend a product's master data (a producer key). The first producer to
    /// register a GTIN owns its brand: only it may then commission codes under it.
    Product {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
        /// The producer key file that signs.
        #[arg(long)]
        key: PathBuf,
        /// The GTIN (8, 12, 13 or 14 digits).
        #[arg(long)]
        gtin: String,
        /// The product name shown to consumers.
        #[arg(long)]
        name: String,
        /// Volume in millilitres.
        #[arg(long)]
        volume_ml: u32,
        /// Alcohol by volume in percent, e.g. 53 or 43.5 (two decimals at most).
        #[arg(long)]
        abv: f64,
        /// Wait until the transaction is finalized or rejected.
        #[arg(long)]
        wait: bool,
    },
    /// Recall a lot of a registered product, or end its recall with `--clear` (the brand
    /// owner's key). Every bottle recorded with that lot then answers RECALLED, may not be
    /// sold, and may only be shipped back to its producer.
    RecallLot {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
        /// The brand owner's key file that signs.
        #[arg(long)]
        key: PathBuf,
        /// The product's GTIN (8, 12, 13 or 14 digits).
        #[arg(long)]
        gtin: String,
        /// The lot (AI 10), as the bottles were commissioned with it.
        #[arg(long)]
        lot: String,
        /// End the recall instead.
        #[arg(long)]
        clear: bool,
        /// Wait until the transaction is finalized or rejected.
        #[arg(long)]
        wait: bool,
    },
    /// Show a transaction's status.
    Status {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
        /// Transaction id (hex).
        id: String,
    },
}

/// A JSON GET.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value> {
    let response = client.get(url).send().await?;
    Ok(response.json().await?)
}

/// The committed height and chain id a node reports.
pub async fn chain_tip(client: &reqwest::Client, rpc: &str) -> Result<(u64, String)> {
    let status = get_json(client, &format!("{rpc}/status")).await?;
    let height = status["latest"]["height"]
        .as_u64()
        .ok_or_else(|| eyre!("status has no height"))?;
    let chain_id = status["chain"]["chain_id"]
        .as_str()
        .ok_or_else(|| eyre!("status has no chain id"))?;
    Ok((height, chain_id.to_string()))
}

/// Submits one signed transaction and returns the node's answer.
pub async fn submit(client: &reqwest::Client, rpc: &str, tx: &SignedTx) -> Result<Value> {
    let body = json!({ "tx": hex::encode(tx.encode()) });
    let response = client.post(format!("{rpc}/tx")).json(&body).send().await?;
    Ok(response.json().await?)
}

/// `jiu status`.
pub async fn status(rpc: &str) -> Result<()> {
    let client = reqwest::Client::new();
    let status = get_json(&client, &format!("{rpc}/status")).await?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}

/// Runs a `jiu tx` subcommand.
pub async fn run(cmd: TxCmd) -> Result<()> {
    let client = reqwest::Client::new();
    match cmd {
        TxCmd::Anchor {
            rpc,
            key,
            record,
            wait,
        } => {
            let payload = Payload::Anchor {
                record_hash: sha256(&[record.as_bytes()]),
                data: Vec::new(),
            };
            sign_and_submit(&client, &rpc, &key, payload, wait).await
        }
        TxCmd::Provenance {
            rpc,
            key,
            ops,
            commission,
            lot,
            wait,
        } => {
            let ops: Vec<Op> = match ops {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .wrap_err_with(|| format!("cannot read {}", path.display()))?;
                    serde_json::from_str(&text)
                        .wrap_err_with(|| format!("{} is not a JSON list of ops", path.display()))?
                }
                None => {
                    let mut items = Vec::new();
                    for code in &commission {
                        match parse_code(code) {
                            Ok(Code::Item(sgtin)) => items.push(sgtin),
                            Ok(other) => bail!("{other} is not a bottle code"),
                            Err(error) => bail!("{code}: {error}"),
                        }
                    }
                    let lot = lot
                        .map(|lot| Lot::parse(&lot).map_err(|e| eyre!("--lot: {e}")))
                        .transpose()?;
                    vec![Op::Commission { items, lot }]
                }
            };
            let payload = Payload::Provenance { ops };
            sign_and_submit(&client, &rpc, &key, payload, wait).await
        }
        TxCmd::Product {
            rpc,
            key,
            gtin,
            name,
            volume_ml,
            abv,
            wait,
        } => {
            let gtin = jiu_contracts::gs1::Gtin::parse(&gtin).map_err(|e| eyre!("--gtin: {e}"))?;
            let abv_bp = abv * 100.0;
            if !(0.0..=100.0).contains(&abv) || (abv_bp - abv_bp.round()).abs() > 1e-6 {
                bail!("--abv must be a percentage from 0 to 100 with at most two decimals");
            }
            let payload = Payload::SetProduct {
                gtin,
                name,
                volume_ml,
                abv_bp: abv_bp.round() as u16,
            };
            sign_and_submit(&client, &rpc, &key, payload, wait).await
        }
        TxCmd::RecallLot {
            rpc,
            key,
            gtin,
            lot,
            clear,
            wait,
        } => {
            let gtin = jiu_contracts::gs1::Gtin::parse(&gtin).map_err(|e| eyre!("--gtin: {e}"))?;
            let lot = Lot::parse(&lot).map_err(|e| eyre!("--lot: {e}"))?;
            let payload = Payload::RecallLot {
                gtin,
                lot,
                recalled: !clear,
            };
            sign_and_submit(&client, &rpc, &key, payload, wait).await
        }
        TxCmd::Status { rpc, id } => {
            let answer = get_json(&client, &format!("{rpc}/tx/{id}")).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
    }
}

/// Signs `payload` with the key file at `key` (valid for 100 heights), submits it to `rpc`,
/// prints the node's answer and, with `wait`, waits until it is finalized or rejected.
async fn sign_and_submit(
    client: &reqwest::Client,
    rpc: &str,
    key: &std::path::Path,
    payload: Payload,
    wait: bool,
) -> Result<()> {
    let key = keys::read_key_file(key)?;
    let (height, chain_id) = chain_tip(client, rpc).await?;
    let body = TxBody {
        chain_id,
        signer: PublicKey::from_signing_key(&key),
        nonce: rand::random(),
        expires_at_height: height + 100,
        payload,
    };
    let tx = SignedTx::sign(body, &key);
    let answer = submit(client, rpc, &tx).await?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    let Some(id) = answer["tx_id"].as_str() else {
        bail!("transaction refused");
    };
    if wait {
        wait_final(client, rpc, id).await?;
    }
    Ok(())
}

async fn wait_final(client: &reqwest::Client, rpc: &str, id: &str) -> Result<()> {
    for _ in 0..300 {
        let answer = get_json(client, &format!("{rpc}/tx/{id}")).await?;
        match answer["status"].as_str() {
            Some("finalized") | Some("rejected") => {
                println!("{}", serde_json::to_string_pretty(&answer)?);
                return Ok(());
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    bail!("transaction {id} not final after 30 s")
}
