//! `jiu lottery`: the reservation lottery from a client's side. `demo` drives one whole
//! lottery through a running devnet and times it; the applicant's and the auditor's offline
//! checks (`verify`, `audit`) join it here.

mod demo;
mod driver;
mod output;
mod synth;

use clap::Subcommand;
use eyre::Result;

/// `jiu lottery` subcommands.
#[derive(Subcommand, Debug)]
pub enum LotteryCmd {
    /// Run a whole lottery on a devnet (create, entries in batches, statuses, status
    /// commitment; the validators seed and draw), print the figures, and save a winner's
    /// and a non-winner's proof bundle.
    Demo(demo::DemoArgs),
    // `Verify` (an applicant's bundle, offline) and `Audit` (the whole draw again, from the
    // dataset) go here.
}

/// Runs a `jiu lottery` subcommand.
pub async fn run(cmd: LotteryCmd) -> Result<()> {
    match cmd {
        LotteryCmd::Demo(args) => demo::run(args).await,
    }
}
