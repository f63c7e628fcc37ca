//! Value sync: serving decided blocks to lagging peers and checking the ones we receive.

use super::*;

impl App {
    /// Decided blocks with their certificates from `start`, at most `SYNC_BATCH_MAX` of them
    /// and at most three blocks' worth of bytes (always at least one), so a response stays
    /// under the p2p limit (four blocks plus 1 MiB) whatever range a peer asks for.
    pub(super) fn decided_values(
        &self,
        start: Height,
        end: Height,
    ) -> Result<Vec<RawDecidedValue<JiuContext>>> {
        let end = end
            .0
            .min(start.0.saturating_add(SYNC_BATCH_MAX - 1))
            .min(self.parent.height);
        let mut values = Vec::new();
        let budget = 2 * self.config.limits.bytes_max;
        let mut bytes = 0usize;
        for height in start.0..=end {
            if !values.is_empty() && bytes >= budget {
                break;
            }
            let (Some(block), Some(cert)) = (
                self.shared.db.block(height)?,
                self.shared.db.certificate(height)?,
            ) else {
                break;
            };
            let certificate = decode_certificate(&cert)?;
            bytes += block.len() + cert.len();
            values.push(RawDecidedValue::new(Bytes::from(block), certificate));
        }
        Ok(values)
    }

    pub(super) fn on_synced_value(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        value_bytes: Bytes,
    ) -> SyncedValueOutcome<JiuContext> {
        let Ok(block) = Block::decode(&value_bytes, self.config.limits.bytes_max) else {
            return SyncedValueOutcome::PeerFault;
        };
        if height.0 != self.parent.height + 1 {
            return SyncedValueOutcome::LocalTransientError;
        }
        let id = block.id();
        let validity = match self.validate_and_keep(block, round, false) {
            Ok(_) => Validity::Valid,
            Err(proposal::Refusal::Invalid) => Validity::Invalid,
            Err(proposal::Refusal::Busy) => return SyncedValueOutcome::LocalTransientError,
        };
        SyncedValueOutcome::Verdict(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            value: id,
            validity,
        })
    }
}
