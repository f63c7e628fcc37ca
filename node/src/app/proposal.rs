//! Proposals: building our block when we propose, and checking the blocks others stream
//! to us before consensus votes on them.

use super::*;

/// Why a block was not kept.
pub(super) enum Refusal {
    /// The block breaks the rules.
    Invalid,
    /// We hold too many undecided blocks to check another now; says nothing of the block.
    Busy,
}

impl App {
    pub(super) fn on_started_round(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
    ) -> Result<Vec<ProposedValue<JiuContext>>> {
        debug!(%height, %round, %proposer, "started round");
        self.shared.metrics.round.set(round.as_i64());
        self.shared.set_progress(Progress {
            height: height.0,
            round: round.as_i64(),
            proposer: Some(proposer),
        });
        let ready: Vec<Assembled> = {
            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future)
                .into_iter()
                .partition(|a| a.height == height);
            self.future = later.into_iter().filter(|a| a.height > height).collect();
            now
        };
        for assembled in ready {
            self.accept_assembled(assembled);
        }
        let key = (height.0, round_key(round));
        if !self.proposed.contains_key(&key) {
            self.recover_undecided(height, round)?;
        }
        Ok(self.proposed.get(&key).cloned().unwrap_or_default())
    }

    /// After a restart, blocks we built or validated for this round come back from storage.
    fn recover_undecided(&mut self, height: Height, round: Round) -> Result<()> {
        for bytes in self.shared.db.undecided(height.0, round_key(round))? {
            let Ok(block) = Block::decode(&bytes, self.config.limits.bytes_max) else {
                continue;
            };
            // The value belongs to the round's proposer, who may have re-proposed a block
            // built by someone else.
            let proposer = self
                .ctx
                .select_proposer(&self.validator_set, height, round)
                .address;
            if let Ok(id) = self.validate_and_keep(block, round, false) {
                self.remember(height, round, Round::Nil, proposer, id, Validity::Valid);
            }
        }
        Ok(())
    }

    pub(super) async fn on_get_value(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
    ) -> Result<(
        LocallyProposedValue<JiuContext>,
        Vec<StreamMessage<ProposalPart>>,
    )> {
        let key = (height.0, round_key(round));
        if let Some(id) = self.built.get(&key).copied() {
            let parts = self.stream_parts(height, round, Round::Nil, id);
            return Ok((LocallyProposedValue::new(height, round, id), parts));
        }
        self.wait_for_txs(timeout).await;
        let limits = self.config.limits;
        let candidates = self.shared.mempool.reap(limits.txs_max, limits.bytes_max);
        // Executing thousands of txs is CPU work; let the runtime move other tasks away.
        let (executed, rejected) = tokio::task::block_in_place(|| {
            block::build(
                &self.state,
                &self.parent,
                self.chain_id(),
                self.address,
                now_ms(),
                candidates,
                // A quarter of the propose timeout: validators re-execute the block after
                // receiving it, and both must fit before the timeout.
                timeout / 4,
            )
        });
        for (id, error) in rejected {
            debug!(tx = %hex::encode(id), %error, "left out of block");
            self.shared.mempool.reject(id, error);
        }
        let id = executed.id;
        info!(%height, %round, txs = executed.block.txs.len(), block = %id, "proposing");
        self.shared
            .db
            .put_undecided(height.0, round_key(round), &id.0, executed.encoded())?;
        self.pending.insert(id, executed);
        self.built.insert(key, id);
        self.remember(height, round, Round::Nil, self.address, id, Validity::Valid);
        let parts = self.stream_parts(height, round, Round::Nil, id);
        Ok((LocallyProposedValue::new(height, round, id), parts))
    }

    /// Waits (bounded) for the mempool to have something, so idle chains make few blocks.
    async fn wait_for_txs(&self, timeout: Duration) {
        let wait = self.config.empty_block_wait.min(timeout / 2);
        let start = Instant::now();
        while self.shared.mempool.is_empty() && start.elapsed() < wait {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn stream_parts(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        id: BlockId,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let Some(executed) = self.pending.get(&id) else {
            return Vec::new();
        };
        let mut stream_id = height.0.to_be_bytes().to_vec();
        stream_id.extend_from_slice(&round_key(round).to_be_bytes());
        stream_id.extend_from_slice(&self.address.0);
        let init = ProposalPart::Init {
            height,
            round,
            pol_round,
            proposer: self.address,
        };
        let signature = self.signer.sign_block_stream(height, round, &id);
        let fin = ProposalPart::Fin {
            block_id: id,
            signature: signature.0,
        };
        streaming::split(
            StreamId::new(Bytes::from(stream_id)),
            init,
            executed.encoded(),
            CHUNK_BYTES,
            fin,
        )
    }

    pub(super) fn restream(
        &self,
        height: Height,
        round: Round,
        valid_round: Round,
        id: BlockId,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let proposer = self.ctx.select_proposer(&self.validator_set, height, round);
        if proposer.address != self.address {
            return Vec::new();
        }
        self.stream_parts(height, round, valid_round, id)
    }

    pub(super) fn on_proposal_part(
        &mut self,
        from: PeerId,
        published_by: Option<PeerId>,
        part: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<JiuContext>>> {
        let publisher = published_by.unwrap_or(from).to_string();
        let assembled = match self.streams.insert(publisher, part) {
            Ok(Some(assembled)) => assembled,
            Ok(None) => return Ok(None),
            Err(error) => {
                warn!(%from, %error, "dropping proposal stream");
                return Ok(None);
            }
        };
        let next = self.parent.height + 1;
        if assembled.height.0 > next {
            if self.future.len() < 64 {
                self.future.push(assembled);
            }
            return Ok(None);
        }
        if assembled.height.0 < next {
            return Ok(None);
        }
        Ok(self.accept_assembled(assembled))
    }

    /// Checks a complete stream for the next height: the round's proposer signed it, the
    /// block decodes to the signed id and executes to its state root.
    fn accept_assembled(&mut self, a: Assembled) -> Option<ProposedValue<JiuContext>> {
        let expected = self
            .ctx
            .select_proposer(&self.validator_set, a.height, a.round);
        if expected.address != a.proposer {
            warn!(height = %a.height, round = %a.round, "stream from a validator who is not the proposer");
            return None;
        }
        let key = expected.public_key;
        if !self
            .verifier
            .verify_block_stream(&key, a.height, a.round, &a.block_id, &a.signature)
        {
            warn!(height = %a.height, round = %a.round, "stream signature invalid");
            return None;
        }
        let block = Block::decode(&a.block_bytes, self.config.limits.bytes_max).ok()?;
        if block.id() != a.block_id {
            warn!(height = %a.height, "stream block does not match its signed id");
            return None;
        }
        if block.header.time_ms > now_ms() + CLOCK_DRIFT_MAX_MS {
            warn!(height = %a.height, "proposed block is too far in the future");
            return self.remember(
                a.height,
                a.round,
                a.pol_round,
                a.proposer,
                a.block_id,
                Validity::Invalid,
            );
        }
        let validity = match self.validate_and_keep(block, a.round, true) {
            Ok(_) => Validity::Valid,
            Err(Refusal::Invalid) => Validity::Invalid,
            // No verdict: consensus times out on this round rather than vote on a guess.
            Err(Refusal::Busy) => return None,
        };
        self.remember(
            a.height,
            a.round,
            a.pol_round,
            a.proposer,
            a.block_id,
            validity,
        )
    }

    /// Validates a block for the next height; keeps it (and stores it when `persist`) if valid.
    pub(super) fn validate_and_keep(
        &mut self,
        block: Block,
        round: Round,
        persist: bool,
    ) -> Result<BlockId, Refusal> {
        let id = block.id();
        if self.pending.contains_key(&id) {
            return Ok(id);
        }
        if self.pending.len() >= PENDING_MAX {
            warn!(block = %id, "too many undecided blocks; not validating another");
            return Err(Refusal::Busy);
        }
        let limits = self.config.limits;
        match block::validate(
            &self.state,
            &self.parent,
            self.chain_id(),
            None,
            limits,
            block,
        ) {
            Ok(executed) => {
                if persist {
                    let height = executed.block.header.height;
                    let bytes = executed.encoded();
                    if let Err(error) =
                        self.shared
                            .db
                            .put_undecided(height, round_key(round), &id.0, bytes)
                    {
                        error!(%error, "cannot store undecided block");
                    }
                }
                self.pending.insert(id, executed);
                Ok(id)
            }
            Err(error) => {
                warn!(block = %id, %error, "invalid block");
                Err(Refusal::Invalid)
            }
        }
    }

    fn remember(
        &mut self,
        height: Height,
        round: Round,
        valid_round: Round,
        proposer: Address,
        value: BlockId,
        validity: Validity,
    ) -> Option<ProposedValue<JiuContext>> {
        let value = ProposedValue {
            height,
            round,
            valid_round,
            proposer,
            value,
            validity,
        };
        let entry = self
            .proposed
            .entry((height.0, round_key(round)))
            .or_default();
        if !entry.contains(&value) {
            entry.push(value.clone());
        }
        Some(value)
    }
}
