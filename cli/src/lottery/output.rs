//! What `jiu lottery demo` leaves behind: a winner's and a non-winner's proof bundle (as
//! the node sent them, checked offline first), the entries' receipts, a summary, and the
//! figures and commands it prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eyre::{bail, Result, WrapErr};
use jiu_genesis::Genesis;
use jiu_lottery::{verify_applicant, Entry, EntryId, Verdict};
use jiu_node::lottery_proof::{verify_bundle_answer, BundleAnswer};
use serde_json::{json, Value};

use super::demo::{DemoArgs, Figures};
use super::driver::Driver;
use super::synth::Plan;

/// Entries tried, from the first, to find a non-winner.
const LOSER_TRIES: u64 = 300;
/// How long a node may take to build its proof trees after the draw.
const PROVER_WAIT: Duration = Duration::from_secs(300);

/// One applicant whose bundle was written.
pub struct Applicant {
    pub n: u64,
    pub id: EntryId,
    pub verdict: Verdict,
    pub bundle_bytes: usize,
    pub path: PathBuf,
}

/// The files written.
pub struct Written {
    pub out: PathBuf,
    pub winner: Applicant,
    pub loser: Applicant,
    pub receipts: u64,
}

/// Fetches the two bundles and writes every file into `out`.
pub async fn write(
    driver: &Driver,
    plan: &Plan,
    entries: &[Entry],
    out: &Path,
    args: &DemoArgs,
    figures: &Figures,
) -> Result<Written> {
    std::fs::create_dir_all(out).wrap_err_with(|| format!("cannot create {}", out.display()))?;
    // The bundles are checked as an applicant would: against the genesis, when there is one.
    let genesis_path = args.dir.join("genesis.json");
    let genesis = match Genesis::load(&genesis_path) {
        Ok(genesis) => Some(genesis),
        Err(error) => {
            eprintln!("note: bundles checked without the chain proofs ({error})");
            None
        }
    };
    let genesis = genesis.as_ref();
    let number = |id: EntryId| u64::from(id.batch_no) * u64::from(args.batch) + u64::from(id.index);
    let mut winner = None;
    let mut loser = None;
    for n in 0..LOSER_TRIES.min(entries.len() as u64) {
        let id = entries[n as usize].id();
        let (text, answer, verdict) = bundle(driver, genesis, plan.lottery_id, id).await?;
        if winner.is_none() {
            // The pool's ranked list starts with its winners: fetch the first one's bundle.
            let first = answer.bundle.ranked.first().map(|listed| listed.entry.id());
            match (&verdict, first) {
                (Verdict::Winner { .. }, _) => {
                    winner = Some((n, id, text.clone(), verdict.clone()))
                }
                (_, Some(first)) if answer.bundle.pool.winners_count() > 0 => {
                    let (text, _, verdict) =
                        bundle(driver, genesis, plan.lottery_id, first).await?;
                    if !matches!(verdict, Verdict::Winner { .. }) {
                        bail!("the first listed entry of pool {} ({first}) is not a winner by its own bundle: {verdict:?}", answer.bundle.pool.pool_id);
                    }
                    winner = Some((number(first), first, text, verdict));
                }
                _ => {}
            }
        }
        if verdict == Verdict::NotWinner {
            loser = Some((n, id, text, verdict));
        }
        if winner.is_some() && loser.is_some() {
            break;
        }
    }
    let (Some(winner), Some(loser)) = (winner, loser) else {
        bail!("no winner and non-winner among the first {LOSER_TRIES} entries' bundles");
    };
    let winner = save(out, "bundle-winner.json", winner)?;
    let loser = save(out, "bundle-loser.json", loser)?;
    let receipts = write_receipts(
        plan,
        entries,
        &out.join("receipts.jsonl"),
        args.receipts_max,
    )?;
    let written = Written {
        out: out.to_path_buf(),
        winner,
        loser,
        receipts,
    };
    let summary = summary(driver, plan, args, figures, &written);
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(written)
}

/// An entry's bundle as the node sent it, parsed and checked offline (chain proof, seed
/// signature and bundle against the genesis, or the bundle alone without one). Waits while the node
/// is still building its proof trees.
async fn bundle(
    driver: &Driver,
    genesis: Option<&Genesis>,
    lottery_id: u64,
    id: EntryId,
) -> Result<(String, BundleAnswer, Verdict)> {
    let path = format!("/lottery/{lottery_id}/bundle/{}/{}", id.batch_no, id.index);
    let started = Instant::now();
    loop {
        let (status, text) = driver.get_text(&path).await?;
        if status == 200 {
            let answer: BundleAnswer = serde_json::from_str(&text)
                .wrap_err_with(|| format!("{path}: the answer is not a bundle"))?;
            let verdict = match genesis {
                Some(genesis) => match verify_bundle_answer(genesis, &answer) {
                    Ok(checked) => checked.verdict,
                    Err(error) => bail!(
                        "{path}: the bundle does not check: {}: {error}",
                        error.code()
                    ),
                },
                None => verify_applicant(&answer.bundle),
            };
            if let Verdict::Fraud(reason) = verdict {
                bail!("{path}: the node's bundle does not verify: {reason}");
            }
            return Ok((text, answer, verdict));
        }
        let error: Value = serde_json::from_str(&text).unwrap_or_default();
        let code = error["error"]["code"].as_str().unwrap_or("?");
        let retry = matches!(code, "PROVER_NOT_READY" | "NOT_DRAWN");
        if !retry || started.elapsed() > PROVER_WAIT {
            bail!(
                "{}{path}: HTTP {status}: {code}: {}",
                driver.rpc(),
                error["error"]["message"].as_str().unwrap_or(&text)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn save(out: &Path, name: &str, found: (u64, EntryId, String, Verdict)) -> Result<Applicant> {
    let (n, id, text, verdict) = found;
    let path = out.join(name);
    std::fs::write(&path, &text).wrap_err_with(|| format!("cannot write {}", path.display()))?;
    Ok(Applicant {
        n,
        id,
        verdict,
        bundle_bytes: text.len(),
        path,
    })
}

/// One JSON line per entry (the first `max`): where it sits and what only its applicant
/// knows (salt, account).
fn write_receipts(plan: &Plan, entries: &[Entry], path: &Path, max: u64) -> Result<u64> {
    let file =
        std::fs::File::create(path).wrap_err_with(|| format!("cannot write {}", path.display()))?;
    let mut file = std::io::BufWriter::new(file);
    let count = max.min(entries.len() as u64);
    for (n, entry) in entries.iter().enumerate().take(count as usize) {
        let line = json!({
            "batch": entry.batch_no,
            "index": entry.index,
            "nullifier": hex::encode(entry.nullifier),
            "commitment": hex::encode(entry.commitment),
            "salt": hex::encode(plan.salt(n as u64)),
            "account": plan.account(n as u64),
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(count)
}

fn applicant_json(plan: &Plan, applicant: &Applicant) -> Value {
    json!({
        "entry_number": applicant.n,
        "batch": applicant.id.batch_no,
        "index": applicant.id.index,
        "verdict": format!("{:?}", applicant.verdict),
        "salt": hex::encode(plan.salt(applicant.n)),
        "account": plan.account(applicant.n),
        "bundle": applicant.path,
        "bundle_bytes": applicant.bundle_bytes,
    })
}

fn summary(
    driver: &Driver,
    plan: &Plan,
    args: &DemoArgs,
    figures: &Figures,
    written: &Written,
) -> Value {
    json!({
        "lottery_id": plan.lottery_id,
        "rpc": driver.rpc(),
        "validators": driver.nodes(),
        "entries": figures.entries,
        "batches": figures.batches,
        "batch_entries_max": args.batch,
        "pools": plan.pools,
        "quota": plan.quota,
        "waitlist": plan.waitlist,
        "open_at_ms": plan.open_at_ms,
        "close_at_ms": plan.close_at_ms,
        "grace_ms": plan.grace_ms,
        "ingest_s": figures.ingest.as_secs_f64(),
        "entries_per_s": figures.entries_per_s(),
        "status_ops": figures.status_ops,
        "exclusions": figures.exclusions,
        "statuses_s": figures.statuses.as_secs_f64(),
        "status_commit_height": figures.commit_height,
        "status_commit_to_seed_s": figures.to_seed.as_secs_f64(),
        "status_commit_to_results_s": figures.to_results.as_secs_f64(),
        "seed_height": figures.seed_height,
        "results_height": figures.results_height,
        "seed_block_ms_after_status_commit": figures.seed_block_ms,
        "results_block_ms_after_status_commit": figures.results_block_ms,
        "winner": applicant_json(plan, &written.winner),
        "non_winner": applicant_json(plan, &written.loser),
        "receipts_written": written.receipts,
    })
}

/// Prints the figures and the commands to try.
pub fn print(driver: &Driver, plan: &Plan, args: &DemoArgs, figures: &Figures, written: &Written) {
    let genesis = args.dir.join("genesis.json");
    println!("\nlottery {}", plan.lottery_id);
    println!(
        "  entries:   {} in {} batches of up to {}, {} pools (quota {}, waitlist {})",
        figures.entries, figures.batches, args.batch, plan.pools, plan.quota, plan.waitlist
    );
    println!(
        "  ingest:    {:.1} s from the first AppendBatch submitted to the last final: {:.0} entries/s, {:.2} batches/s",
        figures.ingest.as_secs_f64(),
        figures.entries_per_s(),
        f64::from(figures.batches) / figures.ingest.as_secs_f64().max(1e-9)
    );
    println!(
        "  statuses:  {} AppendStatus ops, {} exclusions, {:.1} s",
        figures.status_ops,
        figures.exclusions,
        figures.statuses.as_secs_f64()
    );
    println!(
        "  draw:      seed {:.2} s and results {:.2} s after the status commitment was final \
         (polled every 25 ms)",
        figures.to_seed.as_secs_f64(),
        figures.to_results.as_secs_f64(),
    );
    println!(
        "             in block time: status height {}, seed height {} (+{} ms), results height {} (+{} ms)",
        figures.commit_height,
        figures.seed_height,
        figures.seed_block_ms,
        figures.results_height,
        figures.results_block_ms
    );
    for (label, a) in [("winner", &written.winner), ("non-winner", &written.loser)] {
        println!(
            "  {label:<10} {} ({:?}): bundle {} bytes of JSON",
            a.id, a.verdict, a.bundle_bytes
        );
    }
    println!(
        "  files:     {} (bundle-winner.json, bundle-loser.json, receipts.jsonl: {} of {} entries, summary.json)",
        written.out.display(),
        written.receipts,
        figures.entries
    );
    println!("\ntry:");
    for a in [&written.winner, &written.loser] {
        println!(
            "  jiu lottery verify {} --genesis {} --salt {} --account {}",
            a.path.display(),
            genesis.display(),
            hex::encode(plan.salt(a.n)),
            plan.account(a.n)
        );
    }
    println!(
        "  jiu lottery audit --rpc {} --lottery {} --genesis {}",
        driver.rpc(),
        plan.lottery_id,
        genesis.display()
    );
}
