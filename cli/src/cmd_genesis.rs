//! `jiu genesis`: build a genesis file step by step, then check and hash it.
//!
//! `init`, `add-org` and `add-validator` edit a draft: they check it with
//! `Genesis::validate_partial`, which refuses duplicates and bad values but not a genesis
//! that has no producer or no validator yet. `validate` is the gate for a complete genesis.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use eyre::{bail, WrapErr};
use jiu_contracts::{PublicKey, Role};
use jiu_genesis::{keys, ConsensusParams, Genesis, GenesisOrg, GenesisValidator};

/// Genesis file commands.
#[derive(clap::Subcommand, Debug)]
pub enum GenesisCmd {
    /// Write a new genesis with default consensus parameters, no orgs and no validators
    Init {
        /// Chain id: 1 to 64 characters of a-z A-Z 0-9 - _ .
        #[arg(long)]
        chain_id: String,
        /// Where to write the genesis
        #[arg(long)]
        out: PathBuf,
        /// Genesis time in milliseconds since the Unix epoch [default: now]
        #[arg(long)]
        genesis_time_ms: Option<u64>,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },
    /// Add an organisation to a genesis
    AddOrg {
        /// The genesis file to edit
        #[arg(long)]
        genesis: PathBuf,
        /// Organisation id: 1 to 64 characters of a-z 0-9 - _ .
        #[arg(long)]
        id: String,
        /// Human-readable name
        #[arg(long)]
        name: String,
        /// producer, distributor, store or auditor
        #[arg(long)]
        role: Role,
        /// A signing key: 64 hex characters or a key file path (repeat for several keys)
        #[arg(long = "key", value_name = "HEX_OR_KEYFILE", required = true)]
        keys: Vec<String>,
    },
    /// Add a validator to a genesis
    AddValidator {
        /// The genesis file to edit
        #[arg(long)]
        genesis: PathBuf,
        /// Validator name: 1 to 64 characters of a-z A-Z 0-9 - _ .
        #[arg(long)]
        name: String,
        /// Id of the organisation that runs it
        #[arg(long)]
        org: String,
        /// Its consensus key: 64 hex characters or a key file path
        #[arg(long, value_name = "HEX_OR_KEYFILE")]
        key: String,
        /// Voting power
        #[arg(long, default_value_t = 1)]
        power: u64,
        /// Where peers dial it, e.g. /ip4/127.0.0.1/tcp/26656
        #[arg(long, value_name = "MULTIADDR")]
        p2p: String,
    },
    /// Check a complete genesis; prints "ok <hash>" or the error
    Validate {
        /// The genesis file
        path: PathBuf,
    },
    /// Print the hash of a valid genesis
    Hash {
        /// The genesis file
        path: PathBuf,
    },
}

/// Runs a `jiu genesis` command.
pub fn run(cmd: GenesisCmd) -> eyre::Result<()> {
    match cmd {
        GenesisCmd::Init {
            chain_id,
            out,
            genesis_time_ms,
            force,
        } => on_init(chain_id, &out, genesis_time_ms, force),
        GenesisCmd::AddOrg {
            genesis,
            id,
            name,
            role,
            keys,
        } => {
            let keys = keys
                .iter()
                .map(|text| parse_key(text))
                .collect::<eyre::Result<Vec<_>>>()?;
            edit(&genesis, |g| {
                g.orgs.push(GenesisOrg {
                    pgln: None,
                    id,
                    name,
                    role,
                    keys,
                })
            })
        }
        GenesisCmd::AddValidator {
            genesis,
            name,
            org,
            key,
            power,
            p2p,
        } => {
            let public_key = parse_key(&key)?;
            edit(&genesis, |g| {
                g.validators.push(GenesisValidator {
                    name,
                    org_id: org,
                    public_key,
                    power,
                    p2p_addr: p2p,
                })
            })
        }
        GenesisCmd::Validate { path } => {
            let genesis = load(&path)?;
            println!("ok {}", genesis.hash_hex());
            Ok(())
        }
        GenesisCmd::Hash { path } => {
            let genesis = load(&path)?;
            println!("{}", genesis.hash_hex());
            Ok(())
        }
    }
}

fn on_init(chain_id: String, out: &Path, time_ms: Option<u64>, force: bool) -> eyre::Result<()> {
    if out.exists() && !force {
        bail!("{} exists; pass --force to replace it", out.display());
    }
    let genesis_time_ms = match time_ms {
        Some(time_ms) => time_ms,
        None => now_ms()?,
    };
    let genesis = Genesis {
        chain_id,
        genesis_time_ms,
        consensus: ConsensusParams::default(),
        orgs: Vec::new(),
        validators: Vec::new(),
        provenance: Default::default(),
        // Added by the validators' DKG ceremony once the validator set is final.
        beacon: None,
    };
    genesis.validate_partial()?;
    genesis.save(out)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Loads the draft at `path`, applies `change`, checks the result and saves it. Nothing is
/// written when the check fails.
fn edit(path: &Path, change: impl FnOnce(&mut Genesis)) -> eyre::Result<()> {
    let mut genesis = Genesis::load_unvalidated(path)?;
    genesis
        .validate_partial()
        .wrap_err_with(|| format!("{} was already invalid", path.display()))?;
    change(&mut genesis);
    genesis
        .validate_partial()
        .wrap_err_with(|| format!("{} left unchanged", path.display()))?;
    genesis.save(path)?;
    println!("updated {}", path.display());
    Ok(())
}

fn load(path: &Path) -> eyre::Result<Genesis> {
    Genesis::load(path).wrap_err_with(|| format!("{} is not a valid genesis", path.display()))
}

/// A public key given as 64 hex characters, or the public half of a key file.
fn parse_key(text: &str) -> eyre::Result<PublicKey> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return text
            .parse()
            .wrap_err_with(|| format!("--key {text} is not a public key"));
    }
    let key = keys::read_key_file(Path::new(text))
        .wrap_err_with(|| format!("--key {text} is neither 64 hex characters nor a key file"))?;
    Ok(PublicKey::from_signing_key(&key))
}

fn now_ms() -> eyre::Result<u64> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .wrap_err("system clock is before 1970")?;
    Ok(u64::try_from(since_epoch.as_millis())?)
}
