//! Decisions: committing a decided block atomically, then moving to the next height.

use super::*;
use crate::db::Col;
use crate::proof::certificate_json;
use crate::shared::Committed;
use jiu_contracts::DirtyRecord;

impl App {
    pub(super) fn on_decided(
        &mut self,
        certificate: CommitCertificate<JiuContext>,
        extensions: VoteExtensions<JiuContext>,
    ) -> Result<()> {
        if certificate.height.0 <= self.parent.height {
            return Ok(());
        }
        let Some(executed) = self.pending.remove(&certificate.value_id) else {
            return Err(eyre!(
                "decided block {} at height {} was never validated here",
                certificate.value_id,
                certificate.height
            ));
        };
        let certificate = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            certificate,
            extensions,
        );
        self.commit(executed, &certificate)
    }

    pub(super) fn on_finalized(
        &mut self,
        certificate: CommitCertificate<JiuContext>,
        extensions: VoteExtensions<JiuContext>,
    ) -> Result<()> {
        let height = certificate.height.0;
        if height > self.parent.height {
            return self.on_decided(certificate, extensions);
        }
        if height == self.parent.height {
            let certificate = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                certificate,
                extensions,
            );
            self.shared
                .db
                .put_certificate(height, &encode_certificate(&certificate))?;
        }
        Ok(())
    }

    fn commit(
        &mut self,
        executed: Executed,
        certificate: &ExtendedCommitCertificate<JiuContext>,
    ) -> Result<()> {
        let header = executed.block.header.clone();
        let tx_ids: Vec<Hash> = executed.receipts.iter().map(|r| r.tx_id).collect();
        let block_bytes = executed.encoded();
        let certificate_bytes = encode_certificate(certificate);
        let state_bytes = executed.state.encode_persistent();
        let mut state = executed.state.clone();
        let records: Vec<DirtyRecord> = state
            .take_dirty()
            .into_iter()
            .map(|(_, record)| record)
            .collect();
        // Captured documents come as the receipts carry them, mapped when they applied.
        let mut index_rows: Vec<(Col, Vec<u8>, Vec<u8>)> = crate::history::rows_for_block(
            header.height,
            header.time_ms,
            &executed.block.txs,
            &executed.receipts,
        )
        .into_iter()
        .map(|(k, v)| (Col::History, k, v))
        .collect();
        index_rows.extend(
            crate::lots::rows_for_block(header.height, &executed.block.txs, &executed.receipts)
                .into_iter()
                .map(|(k, v)| (Col::Lots, k, v)),
        );
        index_rows.extend(crate::epcis::rows_for_block(
            header.height,
            header.time_ms,
            &executed.receipts,
        ));
        index_rows.extend(crate::lottery::index_rows(
            header.height,
            &executed.block.txs,
            &state,
        ));
        let tx_events: Vec<Vec<u8>> = executed
            .receipts
            .iter()
            .map(|r| serde_json::to_vec(&r.events).unwrap_or_default())
            .collect();
        self.shared.db.commit(crate::db::CommitRecord {
            height: header.height,
            block: block_bytes,
            certificate: &certificate_bytes,
            tx_ids: &tx_ids,
            tx_events: &tx_events,
            state: &state_bytes,
            records: &records,
            index_rows,
        })?;
        // The block's records are on disk now: read them from there, keeping memory to the
        // records tree.
        state.rebase_records(crate::records::StoreAt::of(&self.shared.db, &state));
        self.state = Arc::new(state);
        self.parent = Parent {
            height: header.height,
            id: executed.id,
            time_ms: header.time_ms,
        };
        self.shared.mempool.remove_committed(&tx_ids);
        let replaced = self.shared.set_committed(Committed::new(
            Tip {
                height: header.height,
                block_id: executed.id,
                time_ms: header.time_ms,
                state_root: header.state_root,
            },
            self.state.clone(),
            Some(header.clone()),
            Some(certificate_json(certificate)),
        ));
        // Outside the readers' lock and off this loop: it may be the last owner of the old
        // state, and freeing the tree paths this block rewrote is slow.
        self.reaper.drop_later(replaced);
        self.prune(header.height);
        self.record_metrics(header.height, tx_ids.len());
        self.lottery.after_commit(&self.state, &self.shared)?;
        info!(height = header.height, txs = tx_ids.len(), block = %executed.id, "committed");
        self.reaper.drop_later(executed);
        Ok(())
    }

    fn prune(&mut self, height: u64) {
        self.pending.retain(|_, e| e.block.header.height > height);
        self.proposed = self.proposed.split_off(&(height + 1, 0));
        self.built = self.built.split_off(&(height + 1, 0));
    }

    fn record_metrics(&mut self, height: u64, txs: usize) {
        let metrics = &self.shared.metrics;
        metrics.height.set(height as i64);
        metrics.blocks_finalized.inc();
        metrics.txs_finalized.inc_by(txs as u64);
        metrics.txs_per_block.observe(txs as f64);
        metrics.mempool_size.set(self.shared.mempool.len() as i64);
        metrics
            .block_interval_seconds
            .observe(self.last_commit.elapsed().as_secs_f64());
        self.last_commit = Instant::now();
    }
}
