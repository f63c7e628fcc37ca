//! `jiu lottery`: the reservation lottery from a client's side. `demo` drives one whole
//! lottery through a running devnet and times it; the applicant's and the auditor's offline
//! checks (`verify`, `audit`) join it here.

mod check;
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
    /// Check an applicant's bundle (or an entry's inclusion proof) offline against the
    /// genesis: winner, waitlisted, not a winner, ineligible, or fraud evidence (exit 3).
    Verify(check::VerifyArgs),
    /// Re-run a drawn lottery from its public dataset and compare every root with the
    /// chain's (the node serving the data is not trusted).
    Audit(check::AuditArgs),
}

/// Runs a `jiu lottery` subcommand.
pub async fn run(cmd: LotteryCmd) -> Result<()> {
    match cmd {
        LotteryCmd::Demo(args) => demo::run(args).await,
        LotteryCmd::Verify(args) => match check::verify(args)? {
            0 => Ok(()),
            code => std::process::exit(code.into()),
        },
        LotteryCmd::Audit(args) => check::audit_cmd(args).await,
    }
}
