//! `jiu`: the one binary. Thin: parses arguments and calls library code.

/// mimalloc: see the workspace Cargo.toml for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option: its position in `mi_option_e` (mimalloc v3, which
/// `libmimalloc-sys` 0.1.49 builds); a test checks it against the option's default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory instead of returning it to the OS about a second later. A node frees
/// and reallocates its records tree's copied paths at every block; returning those pages
/// and faulting them back in (zeroed 2 MiB huge pages) was 7-10% of a node during ingest:
/// 1 M bottles took 49.5 s without purging against 57.8-67.7 s with it. The cost is that a
/// process keeps the memory of its peak. `MIMALLOC_PURGE_DELAY` in the environment wins.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain store of a global option, made before the runtime starts any
        // other thread (the option setter is not thread safe).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

mod bench;
mod cmd_dkg;
mod cmd_genesis;
mod cmd_keys;
mod demo;
mod lottery;
mod testnet;
mod tx;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use eyre::Result;

#[derive(Parser, Debug)]
#[command(
    name = "jiu",
    version,
    about = "A permissioned chain for premium-liquor provenance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate and inspect ed25519 key files.
    #[command(subcommand)]
    Keys(cmd_keys::KeysCmd),
    /// Create, edit, validate and hash genesis files.
    #[command(subcommand)]
    Genesis(cmd_genesis::GenesisCmd),
    /// The lottery beacon's key ceremony among the validators, one step per operator.
    #[command(subcommand)]
    Dkg(cmd_dkg::DkgCmd),
    /// Create a node home directory (config.toml, genesis.json, node_key.json).
    Init(testnet::InitArgs),
    /// Run a node from its home directory.
    Start {
        #[arg(long)]
        home: PathBuf,
    },
    /// Generate a local devnet and run all its nodes until Ctrl-C.
    Testnet(testnet::TestnetArgs),
    /// Print a node's status.
    Status {
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        rpc: String,
    },
    /// Build, sign and submit transactions.
    #[command(subcommand)]
    Tx(tx::TxCmd),
    /// Check a node's answer offline against the genesis.
    Verify(verify::VerifyArgs),
    /// Run a local network under a fixed-rate load and print throughput and latency.
    Bench(bench::BenchArgs),
    /// Seed a running devnet with a realistic provenance scenario (orgs, 100k bottles,
    /// shipments, sales, a recall, a theft, a diversion) and print verify URLs to try.
    Demo(demo::DemoArgs),
    /// The reservation lottery: a timed demo on a devnet.
    #[command(subcommand)]
    Lottery(lottery::LotteryCmd),
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

/// Errors are for operators: the message and its causes, no backtrace.
fn main() -> std::process::ExitCode {
    keep_freed_memory();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keys(cmd) => cmd_keys::run(cmd),
        Command::Genesis(cmd) => cmd_genesis::run(cmd),
        Command::Dkg(cmd) => cmd_dkg::run(cmd),
        Command::Init(args) => testnet::init(args),
        Command::Start { home } => {
            init_tracing();
            jiu_node::node::run(&home).await
        }
        Command::Testnet(args) => testnet::run(args).await,
        Command::Status { rpc } => tx::status(&rpc).await,
        Command::Tx(cmd) => tx::run(cmd).await,
        Command::Verify(args) => verify::run_args(args),
        Command::Bench(args) => bench::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Lottery(cmd) => lottery::run(cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index names `purge_delay`: mimalloc v3's default for it is 1,000 ms, and
    /// no neighbouring option has that default.
    #[test]
    fn test_purge_delay_option_index_is_mimallocs() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return; // the environment sets it; its default is not observable
        }
        // SAFETY: reads a global option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
