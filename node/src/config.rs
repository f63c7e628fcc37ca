//! The node's own settings (`config.toml` in its home directory). Everything validators
//! must agree on is in the genesis instead; these are local choices.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Local node settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Name in logs and metrics (`moniker`).
    pub name: String,
    /// libp2p listen address, e.g. `/ip4/127.0.0.1/tcp/27000`.
    pub p2p_listen: String,
    /// HTTP RPC listen address, e.g. `127.0.0.1:26657`.
    pub rpc_listen: SocketAddr,
    /// A proposer with an empty mempool waits this long before proposing an empty block.
    #[serde(default = "default_empty_block_wait_ms")]
    pub empty_block_wait_ms: u64,
    /// Mempool bound on transactions.
    #[serde(default = "default_mempool_txs_max")]
    pub mempool_txs_max: usize,
    /// Mempool bound on bytes.
    #[serde(default = "default_mempool_bytes_max")]
    pub mempool_bytes_max: usize,
    /// Bearer tokens of partners (distributors, stores, auditors) who get the full view of
    /// verify answers (org ids, tx ids, containers). Empty: everyone gets the public view.
    #[serde(default)]
    pub rpc_partner_tokens: Vec<String>,
    /// The org key file (`jiu keys gen`) this node signs EPCIS captures with; without it
    /// `POST /capture` is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_key: Option<std::path::PathBuf>,
    /// The official EPCIS 2.0 JSON schema (EPCIS-JSON-Schema.json); when set, every capture
    /// is validated against it before it is mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epcis_schema: Option<std::path::PathBuf>,
    /// The producer's NFC tag master keys (JSON: `meta_read_master`, `file_read_master`,
    /// 32 hex characters each; keep it mode 0600). Without it, taps are not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sun_keys: Option<std::path::PathBuf>,
    /// This validator's share of the lottery beacon key (`beacon_share.json` from the
    /// genesis ceremony; mode 0600). Without it the node signs no seed shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon_share: Option<std::path::PathBuf>,
    /// Nodes besides the genesis validators that this node dials and accepts, each as
    /// `<multiaddr>/p2p/<peer id>` (`jiu init` prints a node's). A validator lists the
    /// followers it serves: a store's or an auditor's own node, which holds the chain and
    /// answers verify queries with proofs but never votes. Everyone else is refused. A
    /// follower may list the validators that serve it: it then dials only those.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
    /// A follower's validators: the RPC base URLs (`http://host:port`) it hands the
    /// transactions and captures it is given to, tried in order. Without them a follower
    /// refuses transactions with `NOT_A_VALIDATOR`. A validator ignores it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submit_to: Vec<String>,
    /// rocksdb block cache, in MiB. A node serving many verify queries over a large ledger
    /// on its own machine gains from a larger one (see docs/benchmarks.md). At least 8.
    #[serde(default = "default_db_cache_mb")]
    pub db_cache_mb: usize,
    /// Behind a reverse proxy (TLS termination), tell verify clients apart by the address
    /// the proxy appends to `X-Forwarded-For` instead of the proxy's own. Set it only when
    /// every request comes through that proxy: otherwise a client can claim any address.
    #[serde(default)]
    pub rpc_forwarded_for: bool,
    /// HTTPS for the RPC: a PEM certificate chain (leaf first) and its PEM private key
    /// (CometBFT's `tls_cert_file`/`tls_key_file`). Both or neither; with them the RPC
    /// answers HTTPS only. A phone's browser checks proofs only on a secure page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_tls_cert: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_tls_key: Option<std::path::PathBuf>,
}

fn default_empty_block_wait_ms() -> u64 {
    1_000
}

fn default_db_cache_mb() -> usize {
    256
}

fn default_mempool_txs_max() -> usize {
    200_000
}

fn default_mempool_bytes_max() -> usize {
    256 * 1024 * 1024
}

/// A config file that cannot be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

impl NodeConfig {
    /// Defaults for a node named `name` listening on the given addresses.
    pub fn new(name: &str, p2p_listen: &str, rpc_listen: SocketAddr) -> Self {
        Self {
            name: name.to_string(),
            p2p_listen: p2p_listen.to_string(),
            rpc_listen,
            empty_block_wait_ms: default_empty_block_wait_ms(),
            mempool_txs_max: default_mempool_txs_max(),
            mempool_bytes_max: default_mempool_bytes_max(),
            rpc_partner_tokens: Vec::new(),
            capture_key: None,
            epcis_schema: None,
            sun_keys: None,
            beacon_share: None,
            peers: Vec::new(),
            submit_to: Vec::new(),
            db_cache_mb: default_db_cache_mb(),
            rpc_forwarded_for: false,
            rpc_tls_cert: None,
            rpc_tls_key: None,
        }
    }

    /// Reads `config.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Writes `config.toml`.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}
