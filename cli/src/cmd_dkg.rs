//! `jiu dkg`: the lottery beacon's key ceremony for a real consortium. Each validator operator
//! runs the steps on its own machine with its own key and carries the files the steps name
//! to the other operators. Thin: the logic is `jiu_genesis::ceremony`; the procedure is
//! `docs/lottery-beacon.md` section 8.

use std::path::{Path, PathBuf};

use eyre::WrapErr;
use jiu_contracts::PublicKey;
use jiu_genesis::ceremony::{self, CeremonyDir, TranscriptView};
use jiu_genesis::{keys, Genesis};

/// The ceremony's steps, in order.
#[derive(clap::Subcommand, Debug)]
pub enum DkgCmd {
    /// Step 1: draw this validator's polynomial; write its commitment (for every validator)
    /// and one share per validator (each for that validator only, sent privately)
    Deal(StepArgs),
    /// Step 2: check the shares received and write an ack for each good one (for its
    /// dealer); safe to run again as files arrive
    Ack(StepArgs),
    /// Step 3, at the agreed deadline: sign this dealer's log over the acks received (for
    /// every validator and the genesis builder)
    Log(StepArgs),
    /// Step 4: build the transcript from the logs and write this validator's share file
    Finish {
        #[command(flatten)]
        step: StepArgs,
        /// Where to write the share file (mode 0600): the node's `beacon_share`
        #[arg(long)]
        out: PathBuf,
    },
    /// Step 4, genesis builder: compute the group key from the logs (no secret needed) and
    /// write it into the genesis as `beacon`
    SetBeacon {
        /// The genesis draft to edit
        #[arg(long)]
        genesis: PathBuf,
        /// A ceremony directory holding every dealer's log
        #[arg(long)]
        dir: PathBuf,
        /// Replace a different beacon already in the genesis
        #[arg(long)]
        replace: bool,
    },
}

/// What every validator step needs.
#[derive(clap::Args, Debug)]
pub struct StepArgs {
    /// This validator's consensus key file (its node_key.json)
    #[arg(long)]
    key: PathBuf,
    /// The genesis draft, with its final chain id and validator set
    #[arg(long)]
    genesis: PathBuf,
    /// This operator's ceremony directory
    #[arg(long)]
    dir: PathBuf,
}

/// Runs a `jiu dkg` command.
pub fn run(cmd: DkgCmd) -> eyre::Result<()> {
    match cmd {
        DkgCmd::Deal(step) => on_deal(&step),
        DkgCmd::Ack(step) => on_ack(&step),
        DkgCmd::Log(step) => on_log(&step),
        DkgCmd::Finish { step, out } => on_finish(&step, &out),
        DkgCmd::SetBeacon {
            genesis,
            dir,
            replace,
        } => on_set_beacon(&genesis, &CeremonyDir::new(dir), replace),
    }
}

fn on_deal(step: &StepArgs) -> eyre::Result<()> {
    let (genesis, key, dir) = step.load()?;
    let dealt = ceremony::deal(&dir, &genesis, &key)?;
    let me = dealt.dealer;
    if dealt.resumed {
        println!(
            "rebuilt the files of {} from its saved seed",
            name(&genesis, &me)
        );
    } else {
        println!("dealt as {}", name(&genesis, &me));
    }
    println!("SECRET, stays on this machine: {}", dealt.seed.display());
    println!("send to every other validator operator (public):");
    println!("  {}", dealt.commitment.display());
    println!(
        "send each file to its validator ONLY, over a private, authenticated channel \
         (it is part of that validator's secret share; the files are not encrypted):"
    );
    for (player, path) in dealt.shares.iter().filter(|(p, _)| *p != me) {
        println!("  {}: {}", name(&genesis, player), path.display());
    }
    println!("next: jiu dkg ack, once the other dealers' commitments and shares are in place");
    Ok(())
}

fn on_ack(step: &StepArgs) -> eyre::Result<()> {
    let (genesis, key, dir) = step.load()?;
    let me = PublicKey::from_signing_key(&key);
    let acked = ceremony::ack(&dir, &genesis, &key)?;
    println!("send each ack to its dealer (public):");
    for (dealer, path) in acked.acked.iter().filter(|(d, _)| *d != me) {
        println!("  {}: {}", name(&genesis, dealer), path.display());
    }
    for complaint in &acked.complaints {
        println!(
            "COMPLAINT, no ack for {}: {} (its log must reveal this share)",
            name(&genesis, &complaint.dealer),
            complaint.reason
        );
    }
    for (dealer, path) in &acked.waiting {
        println!("waiting for {}: {}", name(&genesis, dealer), path.display());
    }
    println!(
        "{} of {} dealers acked; run again when more files arrive",
        acked.acked.len(),
        genesis.validators.len()
    );
    Ok(())
}

fn on_log(step: &StepArgs) -> eyre::Result<()> {
    let (genesis, key, dir) = step.load()?;
    let logged = ceremony::log(&dir, &genesis, &key)?;
    for (player, why) in &logged.revealed {
        println!("reveals the share of {}: {why}", name(&genesis, player));
    }
    if logged.unusable {
        println!(
            "WARNING: more complaints than the ceremony tolerates: this dealer will not be used"
        );
    }
    println!(
        "wrote {} ({} acks, {} reveals); send it to every validator operator and the genesis \
         builder (public)",
        logged.path.display(),
        logged.acked.len(),
        logged.revealed.len()
    );
    Ok(())
}

fn on_finish(step: &StepArgs, out: &Path) -> eyre::Result<()> {
    let (genesis, key, dir) = step.load()?;
    let finished = ceremony::finish(&dir, &genesis, &key, out)?;
    print_transcript(&genesis, &dir, &finished.transcript);
    println!(
        "group key {}",
        hex::encode(finished.output.public.group_key().to_bytes())
    );
    println!(
        "wrote share {} to {} (mode 0600): set beacon_share in the node's config.toml",
        finished.index,
        finished.share_file.display()
    );
    let me = PublicKey::from_signing_key(&key);
    println!(
        "once the genesis with this beacon is final, delete {} and {}",
        dir.dealer_seed(&me).display(),
        dir.root().join("shares").display()
    );
    Ok(())
}

fn on_set_beacon(path: &Path, dir: &CeremonyDir, replace: bool) -> eyre::Result<()> {
    let mut genesis = Genesis::load_unvalidated(path)?;
    let set = ceremony::set_beacon(dir, &mut genesis, replace)?;
    print_transcript(&genesis, dir, &set.transcript);
    println!(
        "group key {}",
        hex::encode(set.output.public.group_key().to_bytes())
    );
    if set.changed {
        genesis.save(path)?;
        println!("updated {}", path.display());
    } else {
        println!("{} already has this beacon", path.display());
    }
    Ok(())
}

/// The transcript's hash, which every operator compares, and the logs it left out.
fn print_transcript(genesis: &Genesis, dir: &CeremonyDir, view: &TranscriptView) {
    for dealer in &view.missing {
        println!("no log from {}", name(genesis, dealer));
    }
    for (dealer, why) in &view.refused {
        println!("log of {} left out: {why}", name(genesis, dealer));
    }
    println!(
        "transcript {} of {} logs, sha256 {}: compare with every operator",
        dir.transcript().display(),
        view.dealers.len(),
        hex::encode(view.hash)
    );
}

impl StepArgs {
    fn load(&self) -> eyre::Result<(Genesis, ed25519_dalek::SigningKey, CeremonyDir)> {
        let genesis = Genesis::load_unvalidated(&self.genesis)?;
        let key = keys::read_key_file(&self.key)
            .wrap_err_with(|| format!("--key {}", self.key.display()))?;
        Ok((genesis, key, CeremonyDir::new(&self.dir)))
    }
}

/// `name (key)` of a validator, for messages.
fn name(genesis: &Genesis, key: &PublicKey) -> String {
    match genesis.validators.iter().find(|v| v.public_key == *key) {
        Some(validator) => format!("{} ({key})", validator.name),
        None => key.to_string(),
    }
}
