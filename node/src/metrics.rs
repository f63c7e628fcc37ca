//! Prometheus metrics of the node, registered in Malachite's shared registry so one
//! `/metrics` endpoint exports both consensus-engine and application figures.

use malachitebft_metrics::prometheus::metrics::counter::Counter;
use malachitebft_metrics::prometheus::metrics::gauge::Gauge;
use malachitebft_metrics::prometheus::metrics::histogram::Histogram;
use malachitebft_metrics::SharedRegistry;

/// Application metrics.
#[derive(Clone)]
pub struct Metrics {
    pub height: Gauge,
    pub round: Gauge,
    pub txs_finalized: Counter,
    pub blocks_finalized: Counter,
    pub mempool_size: Gauge,
    pub peers: Gauge,
    pub block_interval_seconds: Histogram,
    pub txs_per_block: Histogram,
}

impl Metrics {
    /// Creates the metrics and registers them under the `jiu` prefix, with the store's
    /// count of pruned record versions.
    pub fn register(registry: &SharedRegistry, pruned_record_versions: &Counter) -> Self {
        let metrics = Self {
            height: Gauge::default(),
            round: Gauge::default(),
            txs_finalized: Counter::default(),
            blocks_finalized: Counter::default(),
            mempool_size: Gauge::default(),
            peers: Gauge::default(),
            block_interval_seconds: Histogram::new([
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            txs_per_block: Histogram::new([0.0, 1.0, 10.0, 100.0, 1_000.0, 5_000.0, 10_000.0]),
        };
        registry.with_prefix("jiu", |r| {
            r.register("height", "Last finalized height", metrics.height.clone());
            r.register("round", "Current consensus round", metrics.round.clone());
            r.register(
                "txs_finalized",
                "Transactions finalized",
                metrics.txs_finalized.clone(),
            );
            r.register(
                "blocks_finalized",
                "Blocks finalized",
                metrics.blocks_finalized.clone(),
            );
            r.register(
                "mempool_size",
                "Transactions waiting in the mempool",
                metrics.mempool_size.clone(),
            );
            r.register("peers", "Connected peers", metrics.peers.clone());
            r.register(
                "block_interval_seconds",
                "Time between consecutive finalized blocks",
                metrics.block_interval_seconds.clone(),
            );
            r.register(
                "txs_per_block",
                "Transactions per finalized block",
                metrics.txs_per_block.clone(),
            );
            r.register(
                "record_versions_pruned",
                "Old record versions dropped by compactions since the node started",
                pruned_record_versions.clone(),
            );
        });
        metrics
    }
}

/// The text exposition of every registered metric.
pub fn export() -> String {
    let mut out = String::new();
    malachitebft_metrics::export(&mut out);
    out
}
