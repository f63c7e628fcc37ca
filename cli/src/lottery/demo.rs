//! `jiu lottery demo`: one whole reservation lottery through a running devnet, timed.
//!
//! The producer creates the lottery with distributor-1's key as the operator key; the
//! operator appends `--entries` synthetic pseudonymous entries in batches during the window,
//! uploads their statuses (a few risk exclusions) after the close and the grace, and commits
//! the status root it computed itself. The validators then sign and combine the seed and
//! commit the draw's results on their own; the demo only watches. Last, it fetches a
//! winner's and a non-winner's proof bundle, checks both offline, and writes them with the
//! entries' receipts.
//!
//! # One batch per block, no pipelining
//!
//! A node admits a lottery op only if it applies to its *committed* state
//! (`Shared::admit` runs the state machine's check against the tip), and the book takes
//! batch `n + 1` only after batch `n`. So batch `n + 1` sent before batch `n` is final is
//! refused at admission (`BATCH_OUT_OF_ORDER`), never queued; the same holds for status
//! uploads. Several batches in flight are therefore impossible without a node change, and
//! the demo sends each op after the previous one is final on every validator (and to every
//! validator, see [`super::driver`]). The ingest rate is then one batch per block at best.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::SigningKey;
use eyre::{bail, eyre, Result, WrapErr};
use jiu_contracts::gs1::Gtin;
use jiu_contracts::PublicKey;
use jiu_genesis::keys;
use jiu_lottery::book::{Exclusion, BATCH_ENTRIES_MAX, STATUS_ENTRIES_PER_OP_MAX};
use jiu_lottery::{Entry, LotteryOp, Status};

use super::driver::{Driver, Refused, Tip};
use super::output;
use super::synth::Plan;

/// `jiu lottery demo` arguments.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// A validator of the devnet; the other validators of `--dir` get every tx too.
    #[arg(long, default_value = "http://127.0.0.1:26650")]
    pub rpc: String,
    /// The devnet directory (`jiu testnet --dir`): organisation keys, node configs, genesis.
    #[arg(long, default_value = "devnet")]
    pub dir: PathBuf,
    /// Entries to append.
    #[arg(long, default_value_t = 10_000)]
    pub entries: u64,
    /// Pools (stores), ids 0..pools; entry n goes to pool n % pools.
    #[arg(long, default_value_t = 20)]
    pub pools: u32,
    /// Winners per pool.
    #[arg(long, default_value_t = 10)]
    pub quota: u32,
    /// Waitlisted entries per pool.
    #[arg(long, default_value_t = 20)]
    pub waitlist: u32,
    /// Entries per AppendBatch.
    #[arg(long, default_value_t = BATCH_ENTRIES_MAX as u32,
          value_parser = clap::value_parser!(u32).range(1..=BATCH_ENTRIES_MAX as i64))]
    pub batch: u32,
    /// The lottery id (default: one more than the highest on the chain).
    #[arg(long)]
    pub lottery_id: Option<u64>,
    /// Length of the entry window (default: max(10 s, entries / 5,000 per s)). Batches
    /// that would land after the close and the grace are not sent: the demo warns and goes
    /// on with the entries in.
    #[arg(long)]
    pub window_secs: Option<u64>,
    /// Grace after the close during which batches in flight are still accepted.
    #[arg(long, default_value_t = 5)]
    pub grace_secs: u64,
    /// How far past the chain's time the window opens (CreateLottery must land before).
    #[arg(long, default_value_t = 5)]
    pub lead_secs: u64,
    /// Where bundles, receipts and the summary go (default: `<dir>/lottery-<id>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// At most this many receipt lines are written (the receipts of 3 M entries are about
    /// 800 MB; salts and accounts are derived from the entry number anyway).
    #[arg(long, default_value_t = 100_000)]
    pub receipts_max: u64,
}

/// The timed figures of a run.
#[derive(Debug, Default)]
pub struct Figures {
    pub entries: u64,
    pub batches: u32,
    pub ingest: Duration,
    pub status_ops: u32,
    pub exclusions: u64,
    pub statuses: Duration,
    pub commit_height: u64,
    pub to_seed: Duration,
    pub to_results: Duration,
    /// Heights of the blocks that set the seed and committed the results, and their block
    /// times after the status commitment's block.
    pub seed_height: u64,
    pub results_height: u64,
    pub seed_block_ms: u64,
    pub results_block_ms: u64,
}

impl Figures {
    pub fn entries_per_s(&self) -> f64 {
        self.entries as f64 / self.ingest.as_secs_f64().max(1e-9)
    }
}

/// What the ingest left for the status upload: the entries in order, and how many each
/// batch holds.
struct Ingested {
    entries: Vec<Entry>,
    batch_counts: Vec<u32>,
}

/// Runs `jiu lottery demo`.
pub async fn run(args: DemoArgs) -> Result<()> {
    let mut driver = Driver::connect(&args.rpc, &args.dir).await?;
    println!(
        "submitting to {} validator(s): {}",
        driver.nodes().len(),
        driver.nodes().join(" ")
    );
    let producer = org_key(&args, "producer")?;
    let operator = org_key(&args, "distributor-1")?;
    let plan = create(&mut driver, &args, &producer, &operator).await?;
    let mut figures = Figures::default();

    let ingested = ingest(&mut driver, &args, &plan, &operator, &mut figures).await?;
    let exclusions = exclusions_of(&plan, &ingested.entries);
    upload_statuses(
        &mut driver,
        &plan,
        &operator,
        &ingested,
        &exclusions,
        &mut figures,
    )
    .await?;
    let committed = commit_status(&mut driver, &plan, &operator, &ingested, &exclusions).await?;
    figures.commit_height = committed.1;
    await_draw(&driver, plan.lottery_id, committed.0, &mut figures).await?;
    draw_blocks(&driver, plan.lottery_id, &mut figures).await?;

    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(format!("lottery-{}", plan.lottery_id)));
    let written = output::write(&driver, &plan, &ingested.entries, &out, &args, &figures).await?;
    output::print(&driver, &plan, &args, &figures, &written);
    Ok(())
}

fn org_key(args: &DemoArgs, org: &str) -> Result<SigningKey> {
    let path = args.dir.join("orgs").join(format!("{org}.json"));
    keys::read_key_file(&path).wrap_err_with(|| {
        format!(
            "cannot read {}'s key {} (is --dir a `jiu testnet` directory?)",
            org,
            path.display()
        )
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Picks the id and the window, and creates the lottery (signed by the producer).
async fn create(
    driver: &mut Driver,
    args: &DemoArgs,
    producer: &SigningKey,
    operator: &SigningKey,
) -> Result<Plan> {
    let lottery_id = match args.lottery_id {
        Some(id) => id,
        None => next_lottery_id(driver).await?,
    };
    let tip = driver.tip().await?;
    let open_at_ms = now_ms().max(tip.time_ms) + args.lead_secs * 1000;
    let window_secs = args
        .window_secs
        .unwrap_or_else(|| (args.entries / 5_000).max(10));
    let plan = Plan {
        lottery_id,
        pools: args.pools.max(1),
        quota: args.quota,
        waitlist: args.waitlist,
        open_at_ms,
        close_at_ms: open_at_ms + window_secs * 1000,
        grace_ms: args.grace_secs * 1000,
    };
    let product = Gtin::parse(crate::demo::DEMO_GTIN).map_err(|e| eyre!("{e}"))?;
    let rules = plan.rules(product, PublicKey::from_signing_key(operator));
    let what = format!("create_lottery {lottery_id}");
    let tx = driver.sign(producer, LotteryOp::CreateLottery { rules });
    let id = driver.submit(&what, &tx).await?;
    let height = driver.wait_final(&what, &id).await?;
    println!(
        "lottery {lottery_id} created at height {height}: {} pools (quota {}, waitlist {}), \
         2 tiers, weights 1..2, window {window_secs} s + {} s grace, operator distributor-1",
        plan.pools, plan.quota, plan.waitlist, args.grace_secs
    );
    Ok(plan)
}

/// One more than the highest lottery id on the chain, or 1.
async fn next_lottery_id(driver: &Driver) -> Result<u64> {
    let list = driver.get("/lotteries").await?;
    let highest = list["lotteries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["lottery_id"].as_u64())
        .max();
    Ok(highest.map_or(1, |id| id + 1))
}

/// Waits until every validator's committed block time is at least `time_ms`.
async fn wait_chain_time(driver: &mut Driver, time_ms: u64, timeout: Duration) -> Result<Tip> {
    let started = Instant::now();
    loop {
        let height = driver.tip().await?.height;
        let tip = driver.settled_tip(height).await?;
        if tip.time_ms >= time_ms {
            return Ok(tip);
        }
        if started.elapsed() > timeout {
            bail!(
                "the chain's time is still {} ms before {time_ms} after {} s",
                time_ms - tip.time_ms,
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn refusal_code(error: &eyre::Report) -> Option<&str> {
    error.downcast_ref::<Refused>().map(|r| r.code.as_str())
}

/// Appends the entries in batches, each once the previous one is final everywhere. Each
/// entry's receive time lies between the previous batch's and the lowest tip time of the
/// validators, so no node finds it in the future.
async fn ingest(
    driver: &mut Driver,
    args: &DemoArgs,
    plan: &Plan,
    operator: &SigningKey,
    figures: &mut Figures,
) -> Result<Ingested> {
    let lead = Duration::from_secs(args.lead_secs + 60);
    let mut tip = wait_chain_time(driver, plan.open_at_ms, lead).await?;
    let intake_end_ms = plan.close_at_ms + plan.grace_ms;
    let batch = u64::from(args.batch);
    let mut ingested = Ingested {
        entries: Vec::with_capacity(args.entries as usize),
        batch_counts: Vec::new(),
    };
    let mut received_until = plan.open_at_ms;
    let mut started: Option<Instant> = None;
    let mut last_print = Instant::now();
    let mut n = 0;
    while n < args.entries {
        if tip.time_ms >= intake_end_ms {
            eprintln!("warning: the window closed after {n} entries; try a longer --window-secs");
            break;
        }
        let batch_no = ingested.batch_counts.len() as u32;
        let count = batch.min(args.entries - n);
        let until = tip.time_ms.min(plan.close_at_ms);
        let times = super::synth::receive_times(received_until, until, plan.open_at_ms, count);
        let entries: Vec<Entry> = (0..count)
            .map(|k| plan.entry(n + k, batch_no, k as u32, times[k as usize]))
            .collect();
        let op = LotteryOp::AppendBatch {
            lottery_id: plan.lottery_id,
            batch_no,
            entries: entries.clone(),
        };
        let what = format!("append_batch {batch_no}");
        let tx = driver.sign(operator, op);
        started.get_or_insert_with(Instant::now);
        let landed = match driver.submit(&what, &tx).await {
            Ok(id) => driver.wait_final(&what, &id).await,
            Err(error) => Err(error),
        };
        let height = match landed {
            Ok(height) => height,
            Err(error) if refusal_code(&error) == Some("LATE_BATCH") => {
                eprintln!("warning: {error}; going on with {n} entries");
                break;
            }
            Err(error) => return Err(error),
        };
        figures.ingest = started.map_or(Duration::ZERO, |s| s.elapsed());
        ingested.entries.extend(entries);
        ingested.batch_counts.push(count as u32);
        received_until = until;
        n += count;
        if last_print.elapsed() > Duration::from_secs(10) || n == args.entries {
            last_print = Instant::now();
            println!(
                "  {n} / {} entries in {} batches, {:.0} entries/s (height {height})",
                args.entries,
                batch_no + 1,
                n as f64 / figures.ingest.as_secs_f64().max(1e-9)
            );
        }
        tip = driver.settled_tip(height).await?;
    }
    figures.entries = n;
    figures.batches = ingested.batch_counts.len() as u32;
    if n == 0 {
        bail!("no entry was appended before the window closed");
    }
    Ok(ingested)
}

/// The operator's exclusions, ascending by (batch, index) as the book requires.
fn exclusions_of(plan: &Plan, entries: &[Entry]) -> Vec<Exclusion> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(n, e)| plan.exclusion(n as u64, e.batch_no, e.index))
        .collect()
}

/// After the close and the grace (block time), uploads the statuses: each op covers whole
/// batches, at most [`STATUS_ENTRIES_PER_OP_MAX`] entries.
async fn upload_statuses(
    driver: &mut Driver,
    plan: &Plan,
    operator: &SigningKey,
    ingested: &Ingested,
    exclusions: &[Exclusion],
    figures: &mut Figures,
) -> Result<()> {
    let intake_end_ms = plan.close_at_ms + plan.grace_ms;
    let wait =
        Duration::from_millis(intake_end_ms.saturating_sub(now_ms())) + Duration::from_secs(60);
    println!(
        "waiting about {} s for the close and the grace (block time)",
        intake_end_ms.saturating_sub(now_ms()) / 1000
    );
    wait_chain_time(driver, intake_end_ms + 1, wait).await?;
    let started = Instant::now();
    let counts = &ingested.batch_counts;
    let mut first = 0usize;
    let mut rest = exclusions;
    while first < counts.len() {
        let mut end = first + 1;
        let mut covered = u64::from(counts[first]);
        while end < counts.len() && covered + u64::from(counts[end]) <= STATUS_ENTRIES_PER_OP_MAX {
            covered += u64::from(counts[end]);
            end += 1;
        }
        let split = rest.partition_point(|x| (x.batch_no as usize) < end);
        let (own, after) = rest.split_at(split);
        rest = after;
        let op = LotteryOp::AppendStatus {
            lottery_id: plan.lottery_id,
            first_batch_no: first as u32,
            batches: (end - first) as u32,
            exclusions: own.to_vec(),
        };
        let what = format!("append_status {first}..{end}");
        let tx = driver.sign(operator, op);
        let id = driver.submit(&what, &tx).await?;
        let height = driver.wait_final(&what, &id).await?;
        figures.status_ops += 1;
        driver.settled_tip(height).await?;
        first = end;
    }
    figures.statuses = started.elapsed();
    figures.exclusions = exclusions.len() as u64;
    println!(
        "statuses uploaded: {} ops, {} exclusions, in {:.1} s",
        figures.status_ops,
        exclusions.len(),
        figures.statuses.as_secs_f64()
    );
    Ok(())
}

/// Computes both roots over the entries and statuses the demo sent, checks the entries
/// root against the chain's, and commits the status. Returns when it was final and where.
async fn commit_status(
    driver: &mut Driver,
    plan: &Plan,
    operator: &SigningKey,
    ingested: &Ingested,
    exclusions: &[Exclusion],
) -> Result<(Instant, u64)> {
    let entries = &ingested.entries;
    let mut next = exclusions.iter().peekable();
    let statuses: Vec<Status> = entries
        .iter()
        .map(|e| {
            let leaf = e.leaf_hash();
            match next.next_if(|x| (x.batch_no, x.index) == (e.batch_no, e.index)) {
                Some(x) => Status::excluded(leaf, x.reason_hash),
                None => Status::eligible(leaf),
            }
        })
        .collect();
    let entries_root =
        jiu_lottery::entries_root(entries).map_err(|e| eyre!("entries root: {e}"))?;
    let status_root =
        jiu_lottery::status_root(entries, &statuses).map_err(|e| eyre!("status root: {e}"))?;
    let answer = driver.get(&format!("/lottery/{}", plan.lottery_id)).await?;
    let chain_root = answer["committed"]["entries_root"].as_str().unwrap_or("");
    let chain_count = answer["committed"]["entries_count"].as_u64();
    if chain_root != hex::encode(entries_root) || chain_count != Some(entries.len() as u64) {
        bail!(
            "the chain holds {chain_count:?} entries with root {chain_root}; the demo sent {} \
             with root {}",
            entries.len(),
            hex::encode(entries_root)
        );
    }
    let op = LotteryOp::CommitStatus {
        lottery_id: plan.lottery_id,
        entries_count: entries.len() as u64,
        entries_root,
        status_root,
    };
    let what = format!("commit_status {}", plan.lottery_id);
    let tx = driver.sign(operator, op);
    let id = driver.submit(&what, &tx).await?;
    let height = driver.wait_final(&what, &id).await?;
    let at = Instant::now();
    println!(
        "status committed at height {height}: entries root {}, status root {}",
        hex::encode(entries_root),
        hex::encode(status_root)
    );
    Ok((at, height))
}

/// Watches the lottery until the validators have set the seed and committed the results.
async fn await_draw(
    driver: &Driver,
    lottery_id: u64,
    committed: Instant,
    figures: &mut Figures,
) -> Result<()> {
    const TIMEOUT: Duration = Duration::from_secs(900);
    let mut seeded = false;
    while committed.elapsed() < TIMEOUT {
        let list = driver.get("/lotteries").await?;
        let stage = list["lotteries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["lottery_id"].as_u64() == Some(lottery_id))
            .and_then(|l| l["stage"].as_str())
            .unwrap_or("")
            .to_string();
        if !seeded && (stage == "seeded" || stage == "drawn") {
            seeded = true;
            figures.to_seed = committed.elapsed();
            println!(
                "seed set {:.2} s after the status commitment",
                figures.to_seed.as_secs_f64()
            );
        }
        if stage == "drawn" {
            figures.to_results = committed.elapsed();
            println!(
                "results committed {:.2} s after the status commitment",
                figures.to_results.as_secs_f64()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!(
        "lottery {lottery_id} not drawn {} s after its status commitment (see the nodes' logs)",
        TIMEOUT.as_secs()
    )
}

/// Finds the blocks, after the status commitment's, that set the seed (the last share of
/// this lottery) and committed the results, for figures in block time.
async fn draw_blocks(driver: &Driver, lottery_id: u64, figures: &mut Figures) -> Result<()> {
    let block_time = |block: &serde_json::Value| block["header"]["time_ms"].as_u64().unwrap_or(0);
    let committed = driver
        .get(&format!("/block/{}", figures.commit_height))
        .await?;
    let mut height = figures.commit_height;
    loop {
        height += 1;
        let block = driver.get(&format!("/block/{height}")).await?;
        let after_ms = block_time(&block).saturating_sub(block_time(&committed));
        for tx in block["txs"].as_array().into_iter().flatten() {
            let payload = &tx["body"]["payload"];
            let ours = |id: &serde_json::Value| id.as_u64() == Some(lottery_id);
            if payload["type"] == "seed_share" && ours(&payload["lottery_id"]) {
                (figures.seed_height, figures.seed_block_ms) = (height, after_ms);
            }
            if payload["op"]["op"] == "submit_seed" && ours(&payload["op"]["lottery_id"]) {
                (figures.seed_height, figures.seed_block_ms) = (height, after_ms);
            }
            if payload["op"]["op"] == "commit_results" && ours(&payload["op"]["lottery_id"]) {
                (figures.results_height, figures.results_block_ms) = (height, after_ms);
                return Ok(());
            }
        }
    }
}
