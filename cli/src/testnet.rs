//! `jiu init` and `jiu testnet`: node home directories and a local multi-process devnet.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use clap::Args;
use eyre::{bail, Result, WrapErr};
use jiu_genesis::{devnet, keys, Genesis};
use jiu_node::node::files;
use jiu_node::NodeConfig;
use tokio::process::{Child, Command};

/// `jiu init` arguments.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Home directory to create.
    #[arg(long)]
    home: PathBuf,
    /// Node name (moniker).
    #[arg(long)]
    name: String,
    /// Genesis file to copy in.
    #[arg(long)]
    genesis: PathBuf,
    /// The node's key file (generated when absent).
    #[arg(long)]
    key: Option<PathBuf>,
    /// libp2p listen address.
    #[arg(long, default_value = "/ip4/127.0.0.1/tcp/27000")]
    p2p: String,
    /// RPC listen address.
    #[arg(long, default_value = "127.0.0.1:26650")]
    rpc: SocketAddr,
}

/// Creates a node home directory.
pub fn init(args: InitArgs) -> Result<()> {
    let genesis = Genesis::load(&args.genesis)?;
    std::fs::create_dir_all(&args.home)?;
    let key = match &args.key {
        Some(path) => keys::read_key_file(path)?,
        None => keys::generate(),
    };
    write_home(
        &args.home,
        &NodeConfig::new(&args.name, &args.p2p, args.rpc),
        &genesis,
        &key,
    )?;
    let public = jiu_contracts::PublicKey::from_signing_key(&key);
    let role = if genesis.validators.iter().any(|v| v.public_key == public) {
        "a genesis validator"
    } else {
        "a follower: genesis validators accept it once their config lists it in `peers`"
    };
    println!(
        "initialised {} (genesis {}), {role}\npeer address: {}/p2p/{}",
        args.home.display(),
        genesis.hash_hex(),
        args.p2p,
        jiu_node::node::peer_id_of(&public)?
    );
    Ok(())
}

fn write_home(
    home: &Path,
    config: &NodeConfig,
    genesis: &Genesis,
    key: &ed25519_dalek::SigningKey,
) -> Result<()> {
    std::fs::create_dir_all(home)?;
    config.save(&home.join(files::CONFIG))?;
    genesis.save(&home.join(files::GENESIS))?;
    let key_path = home.join(files::NODE_KEY);
    if !key_path.exists() {
        keys::write_key_file(&key_path, key)?;
    }
    Ok(())
}

/// `jiu testnet` arguments.
#[derive(Args, Debug, Clone)]
pub struct TestnetArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub nodes: usize,
    /// Directory for node homes and organisation keys.
    #[arg(long, default_value = "devnet")]
    pub dir: PathBuf,
    /// Chain id of the devnet.
    #[arg(long, default_value = "jiu-devnet")]
    pub chain_id: String,
    /// First libp2p port; node i listens on base + i.
    #[arg(long, default_value_t = 27000)]
    pub p2p_port: u16,
    /// First RPC port; node i serves on base + i.
    #[arg(long, default_value_t = 26650)]
    pub rpc_port: u16,
    /// Delete an existing devnet directory and start from genesis.
    #[arg(long)]
    pub reset: bool,
    /// Only write the files; do not start the nodes.
    #[arg(long)]
    pub no_start: bool,
    /// How long a proposer with an empty mempool waits before an empty block.
    #[arg(long, default_value_t = 1_000)]
    pub empty_block_wait_ms: u64,
    /// The official EPCIS 2.0 JSON schema each node validates captures against.
    #[arg(long)]
    pub epcis_schema: Option<PathBuf>,
    /// Followers to add: nodes outside the genesis (as a store without a validator seat
    /// runs one), listed in every validator's `peers`, handing txs to every validator's
    /// RPC. Follower j is `follower-j`, on the ports after the validators' (base + nodes + j).
    #[arg(long, default_value_t = 0)]
    pub followers: usize,
}

/// The devnet's NFC tag master keys file, in the devnet directory.
pub const SUN_KEYS_FILE: &str = "sun_keys.json";

/// A validator's lottery beacon share, in its home directory.
pub const BEACON_SHARE_FILE: &str = "beacon_share.json";

/// Writes a secret file readable by its owner only.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The partner token of every devnet node (capture and the partner view of verify). A
/// devnet convenience; a real node gets its own secret tokens in config.toml.
pub const DEVNET_PARTNER_TOKEN: &str = "devnet-partner-token";

/// Writes a devnet (unless one exists) and returns the node home directories.
pub fn prepare(args: &TestnetArgs) -> Result<Vec<PathBuf>> {
    if args.nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    if args.reset && args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)?;
    }
    let homes: Vec<PathBuf> = (0..args.nodes)
        .map(|i| args.dir.join(format!("node-{i}")))
        .chain((0..args.followers).map(|j| args.dir.join(format!("follower-{j}"))))
        .collect();
    if homes.iter().all(|h| h.join(files::GENESIS).exists()) {
        return Ok(homes);
    }
    if args.dir.exists() {
        bail!(
            "{} exists but is not a devnet of {} validators and {} followers; pass --reset \
             to recreate it",
            args.dir.display(),
            args.nodes,
            args.followers
        );
    }
    let net = devnet::devnet(&args.chain_id, args.nodes, args.p2p_port, None);
    // The producer's NFC tag master keys; every devnet node checks taps with them (in a
    // real network only the producer's nodes hold them).
    std::fs::create_dir_all(&args.dir)?;
    let sun_keys = std::path::absolute(args.dir.join(SUN_KEYS_FILE))?;
    write_secret(
        &sun_keys,
        &serde_json::to_string_pretty(&serde_json::json!({
            "meta_read_master": hex::encode(rand::random::<[u8; 16]>()),
            "file_read_master": hex::encode(rand::random::<[u8; 16]>()),
        }))?,
    )?;
    let ports = |i: usize| -> Result<(u16, u16)> {
        let p2p = u16::try_from(usize::from(args.p2p_port) + i);
        let rpc = u16::try_from(usize::from(args.rpc_port) + i);
        match (p2p, rpc) {
            (Ok(p2p), Ok(rpc)) => Ok((p2p, rpc)),
            _ => bail!("node {i}'s ports would pass 65535: lower --p2p-port or --rpc-port"),
        }
    };
    // Every validator serves every follower.
    let mut followers = Vec::new();
    for j in 0..args.followers {
        let (p2p, rpc) = ports(args.nodes + j)?;
        let key = keys::generate();
        let peer = jiu_node::node::peer_id_of(&jiu_contracts::PublicKey::from_signing_key(&key))?;
        let p2p = format!("/ip4/127.0.0.1/tcp/{p2p}");
        followers.push((format!("{p2p}/p2p/{peer}"), p2p, rpc, key));
    }
    let validator_homes = &homes[..args.nodes];
    for (i, home) in validator_homes.iter().enumerate() {
        let mut config = NodeConfig::new(
            &format!("validator-{i}"),
            &net.genesis.validators[i].p2p_addr,
            SocketAddr::from(([127, 0, 0, 1], ports(i)?.1)),
        );
        config.peers = followers.iter().map(|f| f.0.clone()).collect();
        config.empty_block_wait_ms = args.empty_block_wait_ms;
        // Each node captures EPCIS for the org that runs it.
        let org = &net.genesis.validators[i].org_id;
        config.capture_key = Some(std::path::absolute(
            args.dir.join("orgs").join(format!("{org}.json")),
        )?);
        config.rpc_partner_tokens = vec![DEVNET_PARTNER_TOKEN.to_string()];
        config.sun_keys = Some(sun_keys.clone());
        config.epcis_schema = match &args.epcis_schema {
            Some(path) => Some(std::path::absolute(path)?),
            None => None,
        };
        config.beacon_share = Some(std::path::absolute(home.join(BEACON_SHARE_FILE))?);
        write_home(home, &config, &net.genesis, &net.validator_keys[i])?;
        jiu_genesis::beacon::write_share_file(
            &home.join(BEACON_SHARE_FILE),
            &net.beacon_shares[i],
        )?;
    }
    for (j, (_, p2p, rpc, key)) in followers.iter().enumerate() {
        let mut config = NodeConfig::new(
            &format!("follower-{j}"),
            p2p,
            SocketAddr::from(([127, 0, 0, 1], *rpc)),
        );
        // It answers queries like a validator's RPC and hands the txs it is given to the
        // validators; it captures nothing (no org key).
        config.rpc_partner_tokens = vec![DEVNET_PARTNER_TOKEN.to_string()];
        config.submit_to = (0..args.nodes)
            .map(|i| Ok(format!("http://127.0.0.1:{}", ports(i)?.1)))
            .collect::<Result<_>>()?;
        config.sun_keys = Some(sun_keys.clone());
        write_home(&homes[args.nodes + j], &config, &net.genesis, key)?;
    }
    let orgs = args.dir.join("orgs");
    std::fs::create_dir_all(&orgs)?;
    for (org, key) in &net.org_keys {
        keys::write_key_file(&orgs.join(format!("{org}.json")), key)?;
    }
    net.genesis.save(&args.dir.join(files::GENESIS))?;
    Ok(homes)
}

/// Starts `jiu start --home` for a home directory, logging to `home/node.log`.
pub fn spawn_node(home: &Path) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("node.log"))?;
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .arg("start")
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .wrap_err("cannot start node process")
}

/// Asks a child to stop (SIGTERM), then kills it if it has not exited in time.
pub async fn stop_node(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) with a pid we own and a valid signal has no memory effects.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// Runs the devnet until Ctrl-C.
pub async fn run(args: TestnetArgs) -> Result<()> {
    let homes = prepare(&args)?;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "devnet in {} ({}, {})",
        args.dir.display(),
        plural(args.nodes, "validator"),
        plural(args.followers, "follower")
    );
    println!("organisation keys: {}", args.dir.join("orgs").display());
    if args.no_start {
        return Ok(());
    }
    let mut children = Vec::new();
    for home in &homes {
        children.push(spawn_node(home)?);
        let config = NodeConfig::load(&home.join(files::CONFIG))?;
        println!(
            "{}: rpc http://{}  log {}",
            config.name,
            config.rpc_listen,
            home.join("node.log").display()
        );
    }
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    for child in &mut children {
        stop_node(child).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_every_validator_serves_every_follower() {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = TestnetArgs {
            nodes: 4,
            dir: dir.path().join("net"),
            chain_id: "jiu-test".into(),
            p2p_port: 27100,
            rpc_port: 26750,
            reset: false,
            no_start: true,
            empty_block_wait_ms: 100,
            epcis_schema: None,
            followers: 2,
        };
        let homes = prepare(&args).expect("prepare");
        assert_eq!(homes.len(), 6);
        let genesis = Genesis::load(&args.dir.join(files::GENESIS)).expect("genesis");
        let config = |home: &PathBuf| NodeConfig::load(&home.join(files::CONFIG)).expect("config");
        let mut followers = Vec::new();
        for (j, home) in homes[4..].iter().enumerate() {
            let key = keys::read_key_file(&home.join(files::NODE_KEY)).expect("key");
            let public = jiu_contracts::PublicKey::from_signing_key(&key);
            assert!(!genesis.validators.iter().any(|v| v.public_key == public));
            let follower = config(home);
            assert_eq!(follower.rpc_listen.port(), 26754 + j as u16);
            assert!(follower.peers.is_empty() && follower.capture_key.is_none());
            assert_eq!(
                follower.submit_to,
                (26750..26754)
                    .map(|port| format!("http://127.0.0.1:{port}"))
                    .collect::<Vec<_>>()
            );
            let peer = jiu_node::node::peer_id_of(&public).expect("peer id");
            followers.push(format!("{}/p2p/{peer}", follower.p2p_listen));
        }
        assert!(followers[1].starts_with("/ip4/127.0.0.1/tcp/27105/p2p/12D3KooW"));
        for home in &homes[..4] {
            assert_eq!(config(home).peers, followers, "{}", home.display());
        }
        // Run again, it keeps the devnet; asked for a follower it lacks, it refuses.
        assert_eq!(prepare(&args).expect("again"), homes);
        let other = TestnetArgs {
            followers: 3,
            ..args.clone()
        };
        let error = prepare(&other).expect_err("a missing follower").to_string();
        assert!(error.contains("3 followers; pass --reset"), "{error}");
    }
}
