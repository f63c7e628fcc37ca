//! Helpers for the integration tests: a local cluster of `jiu` processes on 127.0.0.1.
//!
//! The tests drive the real binary (`target/<profile>/jiu`, or `$JIU_BIN`), so they cover
//! process start-up, rocksdb on disk, libp2p on loopback, kill -9 and restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod browser;

/// Clusters share the machine's two cores; running them one at a time keeps timing sane.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Takes the cluster lock for the duration of a test.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// The `jiu` binary under test.
pub fn jiu_bin() -> PathBuf {
    if let Ok(path) = std::env::var("JIU_BIN") {
        return PathBuf::from(path);
    }
    // Test executables live in target/<profile>/deps; the binary in target/<profile>.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = profile_dir.join("jiu");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p jiu` (or set JIU_BIN)",
        bin.display()
    );
    bin
}

/// Runs `jiu` with `args` to completion and returns stdout; panics with stderr on failure.
pub fn jiu(args: &[&str]) -> String {
    let output = Command::new(jiu_bin())
        .args(args)
        .output()
        .expect("run jiu");
    assert!(
        output.status.success(),
        "jiu {:?} failed: {}",
        args,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `jiu` with `args`; returns whether it succeeded and its stdout + stderr.
pub fn jiu_result(args: &[&str]) -> (bool, String) {
    let output = Command::new(jiu_bin())
        .args(args)
        .output()
        .expect("run jiu");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A local network of node processes in a temporary directory.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub homes: Vec<PathBuf>,
    pub rpcs: Vec<String>,
    children: Vec<Option<Child>>,
    client: reqwest::Client,
}

impl Cluster {
    /// Writes an `n`-validator devnet with ports from the given bases; starts nothing.
    pub fn new(n: usize, p2p_port: u16, rpc_port: u16) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let net = dir.path().join("net");
        jiu(&[
            "testnet",
            "--nodes",
            &n.to_string(),
            "--dir",
            net.to_str().expect("utf-8 path"),
            "--p2p-port",
            &p2p_port.to_string(),
            "--rpc-port",
            &rpc_port.to_string(),
            "--empty-block-wait-ms",
            "100",
            "--no-start",
        ]);
        let homes = (0..n).map(|i| net.join(format!("node-{i}"))).collect();
        let rpcs = (0..n)
            .map(|i| format!("http://127.0.0.1:{}", rpc_port + i as u16))
            .collect();
        Self {
            dir,
            homes,
            rpcs,
            children: (0..n).map(|_| None).collect(),
            client: reqwest::Client::new(),
        }
    }

    /// The devnet directory (genesis.json, orgs/).
    pub fn net_dir(&self) -> PathBuf {
        self.dir.path().join("net")
    }

    /// Starts node `i`.
    pub fn start(&mut self, i: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.homes[i].join("node.log"))
            .expect("log file");
        let child = Command::new(jiu_bin())
            .arg("start")
            .arg("--home")
            .arg(&self.homes[i])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start node");
        self.children[i] = Some(child);
    }

    /// Makes a home for a node outside the genesis (a fresh key, the cluster's genesis),
    /// listening on the given ports; starts nothing. Returns its index and the peer address
    /// `jiu init` prints for other nodes' `peers`.
    pub fn add_outsider(&mut self, name: &str, p2p_port: u16, rpc_port: u16) -> (usize, String) {
        let home = self.dir.path().join(name);
        let key = self.dir.path().join(format!("{name}-key.json"));
        jiu(&["keys", "gen", "--out", key.to_str().expect("utf-8 path")]);
        let genesis = self.net_dir().join("genesis.json");
        let printed = jiu(&[
            "init",
            "--home",
            home.to_str().expect("utf-8 path"),
            "--name",
            name,
            "--genesis",
            genesis.to_str().expect("utf-8 path"),
            "--key",
            key.to_str().expect("utf-8 path"),
            "--p2p",
            &format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            "--rpc",
            &format!("127.0.0.1:{rpc_port}"),
        ]);
        let peer = printed
            .lines()
            .find_map(|line| line.strip_prefix("peer address: "))
            .unwrap_or_else(|| panic!("jiu init printed no peer address: {printed}"))
            .to_string();
        self.homes.push(home);
        self.rpcs.push(format!("http://127.0.0.1:{rpc_port}"));
        self.children.push(None);
        (self.homes.len() - 1, peer)
    }

    /// Sets the list `key` (e.g. `peers`) in node `i`'s config.
    pub fn set_list(&self, i: usize, key: &str, values: &[&str]) {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        self.set_config(i, key, &format!("[{}]", quoted.join(", ")));
    }

    /// Sets `key` to `value` (TOML) in node `i`'s config, replacing a one-line setting.
    pub fn set_config(&self, i: usize, key: &str, value: &str) {
        let path = self.homes[i].join("config.toml");
        let config = std::fs::read_to_string(&path).expect("config.toml");
        let prefix = format!("{key} = ");
        // Top-level keys must come before any table: put it first.
        let mut lines = vec![format!("{prefix}{value}")];
        lines.extend(
            config
                .lines()
                .filter(|line| !line.starts_with(&prefix))
                .map(str::to_string),
        );
        std::fs::write(&path, lines.join("\n") + "\n").expect("write config.toml");
    }

    /// Starts every node.
    pub fn start_all(&mut self) {
        for i in 0..self.homes.len() {
            self.start(i);
        }
    }

    /// Kills node `i` with SIGKILL (no chance to clean up).
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops node `i` with SIGTERM, as an operator would, and waits for it to exit.
    pub fn terminate(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("node {i} did not stop within 10 s of SIGTERM");
        }
    }

    /// The node's text at `path` (e.g. `/metrics`).
    pub async fn get_text(&self, i: usize, path: &str) -> Option<String> {
        let response = self
            .client
            .get(format!("{}{}", self.rpcs[i], path))
            .send()
            .await
            .ok()?;
        response.text().await.ok()
    }

    /// The node's JSON at `path`, or None while it does not answer.
    pub async fn get(&self, i: usize, path: &str) -> Option<Value> {
        let response = self
            .client
            .get(format!("{}{}", self.rpcs[i], path))
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// GET `path` from node `i`: the HTTP status and the JSON body (`Value::Null` if none).
    pub async fn get_status(&self, i: usize, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{}", self.rpcs[i], path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Node `i`'s committed height.
    pub async fn height(&self, i: usize) -> Option<u64> {
        self.get(i, "/status").await?["latest"]["height"].as_u64()
    }

    /// Waits until node `i` has committed `height`; panics with its log tail on timeout.
    pub async fn wait_height(&self, i: usize, height: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.height(i).await.is_some_and(|h| h >= height) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "node {i} did not reach height {height} in {timeout:?}; log tail:\n{}",
            self.log_tail(i)
        );
    }

    /// Waits until tx `id` (hex) is final on node `i` and returns its status; panics if it is
    /// rejected or not final within a minute.
    pub async fn wait_final(&self, i: usize, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let status = self
                .get(i, &format!("/tx/{id}"))
                .await
                .unwrap_or(Value::Null);
            match status["status"].as_str() {
                Some("finalized") => return status,
                Some("rejected") => panic!("tx {id} rejected: {status}"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!(
            "tx {id} not final within a minute; node {i} log tail:\n{}",
            self.log_tail(i)
        );
    }

    /// The last lines of node `i`'s log.
    pub fn log_tail(&self, i: usize) -> String {
        let log = std::fs::read_to_string(self.homes[i].join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// POSTs JSON to node `i`; returns the HTTP status and the JSON body.
    pub async fn post(&self, i: usize, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{}", self.rpcs[i], path))
            .json(body)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill9(i);
        }
    }
}
