//! `jiu lottery verify` and `jiu lottery audit`: the applicant's and the auditor's checks,
//! trusting only the genesis file (the logic is `jiu_node::lottery_proof`).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use eyre::{bail, eyre, Result, WrapErr};
use jiu_genesis::Genesis;
use jiu_lottery::{Dataset, Verdict};
use jiu_node::lottery_proof::{
    audit, verify_bundle_answer, verify_inclusion_answer, AuditStep, BundleAnswer, InclusionAnswer,
    LotteryAnswer,
};

/// `jiu lottery verify bundle.json --genesis genesis.json`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A saved answer of `GET /lottery/{id}/bundle/{batch}/{index}` (JSON, or borsh with
    /// `?format=borsh`), or of `GET /lottery/{id}/entries/{batch}/{index}` (inclusion).
    pub bundle: PathBuf,
    /// The chain's genesis file.
    #[arg(long)]
    pub genesis: PathBuf,
    /// The app's salt for this entry (hex, 32 bytes) and the account it was entered for:
    /// with both, the entry's commitment is checked to be yours.
    #[arg(long, requires = "account")]
    pub salt: Option<String>,
    #[arg(long, requires = "salt")]
    pub account: Option<String>,
}

/// What `verify` exits with when the check itself passed but the bundle is evidence of a
/// wrong draw (fraud); a failed check exits 1 with its code.
pub const EXIT_FRAUD: u8 = 3;

/// Runs `jiu lottery verify`; returns the exit code.
pub fn verify(args: VerifyArgs) -> Result<u8> {
    let genesis = Genesis::load(&args.genesis)?;
    let bytes = std::fs::read(&args.bundle)
        .wrap_err_with(|| format!("cannot read {}", args.bundle.display()))?;
    if let Ok(inclusion) = serde_json::from_slice::<InclusionAnswer>(&bytes) {
        return verify_inclusion(&genesis, &inclusion);
    }
    let answer =
        BundleAnswer::from_bytes(&bytes).map_err(|e| eyre!("{}: {e}", args.bundle.display()))?;
    let started = Instant::now();
    let checked =
        verify_bundle_answer(&genesis, &answer).map_err(|e| eyre!("REJECTED {}: {e}", e.code()))?;
    if let (Some(salt), Some(account)) = (&args.salt, &args.account) {
        let salt: [u8; 32] = hex::decode(salt)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| eyre!("--salt must be 64 hex characters"))?;
        let mine = jiu_lottery::applicant_commitment(&salt, account.as_bytes());
        if mine != answer.bundle.entry.commitment {
            bail!(
                "REJECTED NOT_YOUR_ENTRY: the entry's commitment is not of this salt and account"
            );
        }
    }
    let elapsed = started.elapsed();
    let entry = &answer.bundle.entry;
    println!(
        "lottery {} entry batch {} index {} (pool {}): checked against block {} signed by {} of {} voting power, seed signature against the genesis group key, in {:.2} ms",
        checked.lottery_id,
        entry.batch_no,
        entry.index,
        entry.pool_id,
        checked.height,
        checked.signed_power,
        genesis.total_power(),
        elapsed.as_secs_f64() * 1e3
    );
    let code = match checked.verdict {
        Verdict::Winner { rank } => {
            println!("WINNER (rank {rank})");
            0
        }
        Verdict::Waitlisted { rank } => {
            println!("WAITLISTED (rank {rank})");
            0
        }
        Verdict::NotWinner => {
            println!("NOT A WINNER: every listed entry of the pool is ranked before yours");
            0
        }
        Verdict::Ineligible { reason_hash } => {
            println!(
                "INELIGIBLE: excluded before the seed existed, reason hash {}",
                hex::encode(reason_hash)
            );
            0
        }
        Verdict::Fraud(reason) if reason.proves_wrong_draw() => {
            println!("FRAUD EVIDENCE ({reason:?}): {reason}");
            println!("the chain's own commitments say the draw is wrong about this pool; keep this file for the notary");
            EXIT_FRAUD
        }
        Verdict::Fraud(reason) => {
            // The commitments are proven, so a bundle part that does not match them was
            // altered after the chain committed it: the file proves nothing.
            bail!("REJECTED BUNDLE_TAMPERED ({reason:?}): {reason}");
        }
    };
    Ok(code)
}

/// An entry's inclusion proof (before the draw).
fn verify_inclusion(genesis: &Genesis, answer: &InclusionAnswer) -> Result<u8> {
    let started = Instant::now();
    let checked = verify_inclusion_answer(genesis, answer)
        .map_err(|e| eyre!("REJECTED {}: {e}", e.code()))?;
    let entry = &answer.entry;
    println!(
        "INCLUDED: lottery {} entry batch {} index {} (pool {}, received {} ms) is under the entries root committed at block {} (stage {:?}), signed by {} of {} voting power; checked in {:.2} ms",
        checked.lottery_id,
        entry.batch_no,
        entry.index,
        entry.pool_id,
        entry.received_at_ms,
        checked.height,
        checked.stage,
        checked.signed_power,
        genesis.total_power(),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(0)
}

/// `jiu lottery audit --rpc URL --lottery ID --genesis genesis.json`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// A node to download the lottery and its dataset from (it is not trusted).
    #[arg(long, default_value = "http://127.0.0.1:26650")]
    pub rpc: String,
    #[arg(long)]
    pub lottery: u64,
    /// The chain's genesis file.
    #[arg(long)]
    pub genesis: PathBuf,
    /// Use this saved dataset (`GET /lottery/{id}/dataset`) instead of downloading it.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
}

/// Runs `jiu lottery audit`.
pub async fn audit_cmd(args: AuditArgs) -> Result<()> {
    let genesis = Genesis::load(&args.genesis)?;
    let client = reqwest::Client::new();
    let progress = indicatif::ProgressBar::new(6);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| eyre!("progress template: {e}"))?
            .progress_chars("=> "),
    );
    progress.set_message("downloading the lottery and its proof");
    let url = format!("{}/lottery/{}", args.rpc, args.lottery);
    let response = client.get(&url).send().await?;
    if !response.status().is_success() {
        bail!("{url}: {}", response.text().await.unwrap_or_default());
    }
    let answer: LotteryAnswer = response.json().await?;
    progress.inc(1);
    progress.set_message("downloading the dataset");
    let bytes = match &args.dataset {
        Some(path) => {
            std::fs::read(path).wrap_err_with(|| format!("cannot read {}", path.display()))?
        }
        None => {
            let url = format!("{}/lottery/{}/dataset", args.rpc, args.lottery);
            let response = client.get(&url).send().await?;
            if !response.status().is_success() {
                bail!("{url}: {}", response.text().await.unwrap_or_default());
            }
            response.bytes().await?.to_vec()
        }
    };
    let started = Instant::now();
    let dataset = Dataset::decode(&bytes).map_err(|e| eyre!("REJECTED BAD_DATASET: {e}"))?;
    progress.inc(1);
    let report = tokio::task::spawn_blocking({
        let progress = progress.clone();
        move || {
            audit(&genesis, &answer, &dataset, &mut |step| {
                progress.set_message(match step {
                    AuditStep::Chain => "checking the header, certificate and lottery leaf",
                    AuditStep::EntriesRoot => "recomputing the entries root",
                    AuditStep::StatusRoot => "recomputing the status root",
                    AuditStep::Seed => "checking the seed signature",
                    AuditStep::Draw => "re-running the draw",
                });
                if step != AuditStep::Chain {
                    progress.inc(1);
                }
            })
        }
    })
    .await?
    .map_err(|e| eyre!("REJECTED {}: {e}", e.code()))?;
    progress.finish_with_message("done");
    println!(
        "lottery {} at block {}: {} entries ({} excluded), {} pools, {} winners; re-derived in {:.1} s from {} MB",
        report.lottery_id,
        report.height,
        report.entries,
        report.excluded,
        report.pools,
        report.winners,
        started.elapsed().as_secs_f64(),
        bytes.len() / 1_000_000
    );
    for (name, root) in &report.roots {
        println!("  {name:<13} {} matches the chain", hex::encode(root));
    }
    println!("AUDIT PASSED");
    Ok(())
}
