//! `jiu verify`: check a node's answer offline, trusting only the genesis file.

use std::path::PathBuf;

use clap::Subcommand;
use eyre::{bail, Result, WrapErr};
use jiu_genesis::Genesis;
use jiu_node::proof::{verify_block_answer, verify_certificate, BlockAnswer};

/// `jiu verify` subcommands.
#[derive(Subcommand, Debug)]
pub enum VerifyCmd {
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

/// Runs a `jiu verify` subcommand; fails (non-zero exit) with the exact reason.
pub fn run(cmd: VerifyCmd) -> Result<()> {
    match cmd {
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
