//! `jiu verify`: check a node's answer offline, trusting only the genesis file.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use eyre::{bail, eyre, Result, WrapErr};
use jiu_genesis::Genesis;
use jiu_node::proof::{
    verify_block_answer, verify_certificate, verify_product_answer, verify_record_answer,
    BlockAnswer,
};

/// `jiu verify --offline answer.json --genesis genesis.json`, or a subcommand naming the
/// kind of answer.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct VerifyArgs {
    #[command(subcommand)]
    pub cmd: Option<VerifyCmd>,
    /// A saved answer of `GET /verify/{code}` (or `/01/.../21/...`), `GET /01/{gtin}[/10/{lot}]`
    /// or `GET /block/{h}`; the kind is recognised from its fields.
    #[arg(long)]
    pub offline: Option<PathBuf>,
    /// The chain's genesis file.
    #[arg(long)]
    pub genesis: Option<PathBuf>,
}

/// `jiu verify` subcommands.
#[derive(Subcommand, Debug)]
pub enum VerifyCmd {
    /// A verify answer (`GET /verify/{code}`): the record against the state root, the
    /// header against the certificate, and the shown verdict, state and flags against the
    /// proven record.
    Record {
        /// The saved JSON answer.
        file: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// A product answer (`GET /01/{gtin}` or `/01/{gtin}/10/{lot}`): the product's leaf
    /// against the state root, the header against the certificate, and the shown master
    /// data, recalled lots and lot status against the proven product.
    Product {
        /// The saved JSON answer.
        file: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// A block as served by `GET /block/{height}`: header hash, transactions root, and a
    /// quorum of genesis validators' precommit signatures.
    Block {
        /// The saved JSON answer.
        file: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// The JSON in `file`.
fn read_json(file: &std::path::Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(file)
        .wrap_err_with(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| format!("{} is not JSON", file.display()))
}

/// Runs `jiu verify`; fails (non-zero exit) with the exact reason.
pub fn run_args(args: VerifyArgs) -> Result<()> {
    if let Some(cmd) = args.cmd {
        return run(cmd);
    }
    let (Some(file), Some(genesis)) = (args.offline, args.genesis) else {
        bail!("give --offline ANSWER.json --genesis GENESIS.json, or a subcommand");
    };
    let value = read_json(&file)?;
    if value.get("txs").is_some() {
        return run(VerifyCmd::Block { file, genesis });
    }
    if value.get("verdict").is_some() {
        return run(VerifyCmd::Record { file, genesis });
    }
    if matches!(
        value.get("kind").and_then(|k| k.as_str()),
        Some("product" | "unregistered")
    ) {
        return run(VerifyCmd::Product { file, genesis });
    }
    Err(eyre!(
        "{} is not a verify, product or block answer",
        file.display()
    ))
}

/// Runs a `jiu verify` subcommand; fails (non-zero exit) with the exact reason.
pub fn run(cmd: VerifyCmd) -> Result<()> {
    match cmd {
        VerifyCmd::Record { file, genesis } => {
            let genesis = Genesis::load(&genesis)?;
            let answer = read_json(&file)?;
            match verify_record_answer(&genesis, &answer) {
                Ok(ok) => {
                    let alerts = if ok.alerts.is_empty() {
                        String::new()
                    } else {
                        format!("; alerts {}", ok.alerts.join(", "))
                    };
                    println!(
                        "ok: {} is {} ({}{alerts}) at height {} ({}), signed by {} of {} voting power",
                        ok.code,
                        ok.verdict,
                        if ok.has_record {
                            "record proven"
                        } else {
                            "absence proven"
                        },
                        ok.height,
                        ok.block_id,
                        ok.signed_power,
                        ok.total_power
                    );
                    Ok(())
                }
                Err(error) => bail!("answer is NOT proven: {} [{}]", error, error.code()),
            }
        }
        VerifyCmd::Product { file, genesis } => {
            let genesis = Genesis::load(&genesis)?;
            let answer = read_json(&file)?;
            match verify_product_answer(&genesis, &answer) {
                Ok(ok) if !ok.registered => {
                    println!(
                        "ok: no product is registered under GTIN {} (absence proven) at height {} ({}), signed by {} of {} voting power",
                        ok.gtin, ok.height, ok.block_id, ok.signed_power, ok.total_power
                    );
                    Ok(())
                }
                Ok(ok) => {
                    let lot = match &ok.lot {
                        Some((lot, true)) => format!("; lot {lot} is RECALLED"),
                        Some((lot, false)) => format!("; lot {lot} is not recalled"),
                        None => String::new(),
                    };
                    let recalled = if ok.recalled_lots.is_empty() {
                        "no lot under recall".to_string()
                    } else {
                        format!("lots under recall: {}", ok.recalled_lots.join(", "))
                    };
                    println!(
                        "ok: product {} ({}), {recalled}{lot}, at height {} ({}), signed by {} of {} voting power",
                        ok.gtin,
                        ok.name,
                        ok.height,
                        ok.block_id,
                        ok.signed_power,
                        ok.total_power
                    );
                    Ok(())
                }
                Err(error) => bail!("answer is NOT proven: {} [{}]", error, error.code()),
            }
        }
        VerifyCmd::Block { file, genesis } => {
            let genesis = Genesis::load(&genesis)?;
            let text = std::fs::read_to_string(&file)
                .wrap_err_with(|| format!("cannot read {}", file.display()))?;
            let answer: BlockAnswer = serde_json::from_str(&text)
                .wrap_err_with(|| format!("{} is not a block answer", file.display()))?;
            if let Err(error) = verify_block_answer(&genesis, &answer) {
                bail!("block {} is NOT proven: {error}", answer.header.height);
            }
            let power = verify_certificate(&genesis, &answer.certificate)?;
            println!(
                "ok: block {} ({}) with {} transactions was finalized by {} of {} voting power",
                answer.header.height,
                answer.block_id,
                answer.txs.len(),
                power,
                genesis.total_power()
            );
            Ok(())
        }
    }
}
