//! The chain state: the consortium registry, the anchor log, the replay window, and the
//! state root.
//!
//! # Transitions
//!
//! A block is `begin_block`, then `apply` for each tx in order. `apply` is all-or-nothing:
//! [`State::check`] first works out the whole change without touching the state (every
//! refusal happens there), and only then is the change committed, which cannot fail. So a
//! refused tx leaves the state exactly as it was, replay window included.
//!
//! # Role rules
//!
//! - `RegisterOrg`, `AddOrgKey`, `RemoveOrgKey`, `SetOrgActive`: Producer only; the producer
//!   administers the consortium registry.
//! - A producer may not deactivate its own org (so the last active producer cannot lock the
//!   registry), and nobody may remove an org's last key (an org without keys could never
//!   sign again, not even to be repaired).
//! - `Anchor`: Producer, Distributor or Store.
//! - `SetProduct`: Producer; the first to register a GTIN owns it ([`crate::product`]).
//! - `RecallLot`: the product's brand owner; the GTIN must be registered.
//! - Auditor: signs nothing that changes the registry or anchors; lifecycle and lottery
//!   ops are the lifecycle's and the book's to decide (an auditor may hold a bottle, or
//!   submit a self-verifying seed signature).
//! - `Lottery`: any active org, or a genesis validator for `SubmitSeed` and
//!   `CommitResults`; the book decides who may do what. `SeedShare`: a genesis validator,
//!   for its own share ([`crate::lottery`]).
//! - The signer must be a key of an *active* org, else `UnknownSigner`. Keys of an inactive
//!   org stay registered to it (a key belongs to at most one org, active or not).
//!
//! # Replay protection
//!
//! A tx is valid at heights `h <= expires_at_height <= h + TX_TTL_HEIGHTS_MAX`. The ids of
//! applied txs are kept until their expiry height has passed; after that the same tx would
//! be refused as `Expired`, so it can never be applied twice and the window stays bounded by
//! `TX_TTL_HEIGHTS_MAX` blocks of txs.
//!
//! # Provenance
//!
//! The bottle lifecycle ([`crate::provenance::Ledger`]) lives in the state. Its committed
//! form is one [`RecordLeaf`] per code in a sparse Merkle tree ([`crate::smt`]) keyed by
//! [`crate::provenance::record_key`]; each applied op reports the codes it touched and only
//! their leaves are re-hashed. A `Provenance` tx may be signed by any role; the lifecycle
//! decides who may do what. The undo window for sales comes from the genesis.
//!
//! The window is not in the root and not persisted: it is a function of the txs of the last
//! `TX_TTL_HEIGHTS_MAX` blocks, which the block hash chain already commits to, so a
//! restarting node rebuilds it from those blocks with [`State::restore_replay`].
//!
//! # Root
//!
//! [`State::root`] is the RFC 6962 Merkle root (see [`crate::merkle`]) over, in order: one
//! leaf per org in id order, `leaf_hash("org\0" || borsh(org))`; then one leaf per product
//! in GTIN order, `leaf_hash("product\0" || borsh(product))`; then
//! `leaf_hash("anchors\0" || anchors_count as u64 LE || anchors_acc)`; then
//! `leaf_hash("height\0" || height as u64 LE)`; then the lotteries leaf
//! ([`crate::lottery`]: `leaf_hash("lotteries\0" || lotteries root || shares digest)`); then
//! `leaf_hash("records\0" || records root)`
//! where the records root is the sparse Merkle root over the lifecycle leaves. The prefixes
//! keep the leaf kinds apart. A record proof is the record's SMT path plus the RFC 6962 path
//! of the `records` leaf (see [`State::prove_record`]).

mod lottery_plan;
mod persist;
mod plan;
mod record_proof;

pub use record_proof::{verify_record, RecordProof, RecordProofError};

use std::collections::BTreeMap;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use borsh::BorshSerialize;
use serde::Serialize;

use crate::error::TxError;
use crate::gs1::Code;
use crate::merkle;
use crate::product::{Product, ProductProof};
use crate::provenance::{
    Alert, Ledger, Parties, RecordLeaf, RecordStore, StoredRecord, UNDO_WINDOW_MS_DEFAULT,
};
use crate::smt::{self, Smt};
use crate::tx::{validate_org, VerifiedTx};
use crate::types::{sha256, Hash, Org, PublicKey, Role};

use plan::Change;

/// Domain of the anchor hash chain.
const ANCHOR_DOMAIN: &[u8] = b"jiu/anchor/v1";

/// What the block being applied tells the transitions: its height and its time (block time,
/// never the local clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCtx {
    pub height: u64,
    pub time_ms: u64,
}

/// The state every validator must agree on; see the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    orgs: BTreeMap<String, Org>,
    /// Inverse of the orgs' key lists: each registered key to its org id.
    key_index: BTreeMap<PublicKey, String>,
    anchors_count: u64,
    /// Hash chain over all anchors: `sha256(ANCHOR_DOMAIN || acc || tx id || record_hash)`,
    /// starting from all zeros. One hash commits to the whole anchor log.
    anchors_acc: Hash,
    /// Height of the last block begun.
    height: u64,
    /// Ids of applied txs that have not expired yet. Not persisted, not in the root.
    /// A persistent ordered set (structural sharing), so cloning the state to execute a
    /// candidate block costs O(1) however many txs the window holds.
    replay: OrdSet<Hash>,
    /// The same ids by expiry height, so pruning is a walk from the front.
    replay_by_expiry: OrdSet<(u64, Hash)>,
    /// The bottle lifecycle.
    ledger: Ledger,
    /// The committed lifecycle: one leaf per code, kept in step with `ledger` by `commit`
    /// and written into the tree once per block ([`State::end_block`]).
    records: Records,
    /// Codes whose leaves changed since [`State::take_dirty`] last ran, each with what the
    /// node writes for it: its record key and stored bytes as the last tx touching it left
    /// them. Encoded once, when the tx commits (the leaf's hash needs the bytes anyway).
    dirty: OrdMap<Code, DirtyRecord>,
    /// How long a store may undo a sale, from the genesis.
    undo_window_ms: u64,
    /// The reservation lotteries and their pending seed shares.
    lotteries: crate::lottery::Lotteries,
    /// Product master data by GTIN ([`crate::product`]).
    products: OrdMap<crate::gs1::Gtin, Product>,
}

/// What a node writes for one changed code after a block (see [`State::take_dirty`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyRecord {
    /// [`crate::provenance::record_key`] of the code: its key in the store and the tree.
    pub key: Hash,
    /// [`StoredRecord::encode`] of its record; `None` if the record is gone.
    pub stored: Option<Arc<[u8]>>,
}

/// What applying a tx did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    #[serde(with = "crate::serde_hex")]
    pub tx_id: Hash,
    pub events: Vec<Event>,
    /// The EPCIS document a capture tx applied, for the node's indexes; not part of the
    /// receipt's JSON.
    #[serde(skip)]
    pub captured: Option<std::sync::Arc<crate::capture::CapturedDocument>>,
}

/// One observable effect of a tx, for receipts and subscribers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    OrgRegistered {
        id: String,
    },
    OrgKeyAdded {
        org_id: String,
        key: PublicKey,
    },
    OrgKeyRemoved {
        org_id: String,
        key: PublicKey,
    },
    OrgActiveSet {
        org_id: String,
        active: bool,
    },
    /// `index` counts anchors from 0 over the chain's life.
    Anchored {
        org_id: String,
        #[serde(with = "crate::serde_hex")]
        record_hash: Hash,
        index: u64,
    },
    OrgPglnSet {
        org_id: String,
        pgln: Option<crate::gs1::Gln>,
    },
    /// A product registered or amended by its brand owner.
    ProductSet {
        org_id: String,
        gtin: crate::gs1::Gtin,
    },
    /// A lot of a product recalled (`recalled: true`) or its recall ended.
    LotRecallSet {
        org_id: String,
        gtin: crate::gs1::Gtin,
        lot: crate::gs1::Lot,
        recalled: bool,
    },
    /// An EPCIS document captured: its events, and the lifecycle ops they meant (all
    /// applied).
    EpcisCaptured {
        org_id: String,
        events: usize,
        ops: usize,
        records: usize,
    },
    /// Every op of a provenance tx applied.
    LifecycleApplied {
        org_id: String,
        ops: usize,
        /// Records created or changed.
        records: usize,
    },
    /// A lottery op applied (or the seed set by combined shares).
    Lottery {
        event: jiu_lottery::LotteryEvent,
    },
    /// A validator's seed share accepted.
    SeedShareAccepted {
        lottery_id: u64,
        index: u32,
        /// Distinct shares held for the lottery, this one included.
        shares: u32,
        threshold: u32,
    },
    /// An op was refused and the refusal recorded as an alert; no op took effect.
    AlertRaised {
        op_index: usize,
        /// The refusal code, e.g. `ALREADY_SOLD`.
        reason_code: String,
        reason: String,
        alert: Alert,
    },
}

impl State {
    /// The genesis state at height 0. Orgs follow the `RegisterOrg` rules (id, name, 1 to 16
    /// valid keys); ids and keys must be unique across orgs. Keys are stored sorted.
    pub fn new(orgs: Vec<Org>) -> Result<State, TxError> {
        let mut state = State {
            orgs: BTreeMap::new(),
            key_index: BTreeMap::new(),
            anchors_count: 0,
            anchors_acc: [0; 32],
            height: 0,
            replay: OrdSet::new(),
            replay_by_expiry: OrdSet::new(),
            ledger: Ledger::new(),
            records: Records::default(),
            dirty: OrdMap::new(),
            undo_window_ms: UNDO_WINDOW_MS_DEFAULT,
            lotteries: Default::default(),
            products: OrdMap::new(),
        };
        for org in &orgs {
            let org = validate_org(org)?;
            if state.orgs.contains_key(&org.id) {
                return Err(TxError::OrgExists(org.id));
            }
            if let Some(key) = org.keys.iter().find(|k| state.key_index.contains_key(k)) {
                return Err(TxError::KeyInUse(*key));
            }
            if let Some(pgln) = org.pgln.filter(|g| state.org_of_pgln(g).is_some()) {
                return Err(TxError::InvalidPayload(format!(
                    "PGLN {pgln} is given to two orgs"
                )));
            }
            state.insert_org(org);
        }
        Ok(state)
    }

    /// Sets how long a store may undo a sale (a genesis parameter).
    pub fn with_undo_window_ms(mut self, undo_window_ms: u64) -> State {
        self.undo_window_ms = undo_window_ms;
        self
    }

    /// How long a store may undo a sale.
    pub fn undo_window_ms(&self) -> u64 {
        self.undo_window_ms
    }

    /// The bottle lifecycle.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The committed leaf of `code`, if the chain knows it.
    pub fn record(&self, code: &Code) -> Option<RecordLeaf> {
        self.ledger.leaf(code)
    }

    /// The sparse Merkle root over the lifecycle leaves.
    pub fn records_root(&self) -> Hash {
        self.records.current().root()
    }

    /// Proof that `code` has the leaf [`State::record`] returns (or none): its path in the
    /// records tree, and the path of the records leaf in the state root.
    pub fn prove_record(&self, code: &Code) -> RecordProof {
        self.prove_record_in(code, &self.proof_leaves())
    }

    /// [`State::prove_record`] with this state's [`ProofLeaves`], made once by a caller
    /// that proves many codes of one state (a node answering verify queries at a height).
    ///
    /// Panics if `leaves` are another state's: a caller bug.
    pub fn prove_record_in(&self, code: &Code, leaves: &ProofLeaves) -> RecordProof {
        let records = self.records.current();
        let records_root = records.root();
        assert!(
            leaves.leaves.last() == Some(&records_leaf_hash(&records_root)),
            "proof leaves are made from the state they prove"
        );
        RecordProof {
            smt: records.prove(&crate::provenance::record_key(code)),
            records_root,
            state_leaf_index: (leaves.leaves.len() - 1) as u64,
            state_leaf_count: leaves.leaves.len() as u64,
            state_path: leaves.records_path.clone(),
        }
    }

    /// The state root's leaves and the records leaf's path in them: the part of every record
    /// and product proof that depends on the state alone (about 60 hashes with two dozen
    /// orgs), so a node makes it once per height instead of on every answer.
    pub fn proof_leaves(&self) -> ProofLeaves {
        let leaves = self.root_leaves();
        let records_path =
            merkle::proof(&leaves, leaves.len() - 1).expect("the records leaf exists");
        ProofLeaves {
            leaves,
            records_path,
        }
    }

    /// The codes whose records changed since the last call, with their record keys and new
    /// stored bytes ([`StoredRecord::encode`]: the leaf, and a container's children; `None`:
    /// the record is gone), in code order; what a node writes after a block.
    pub fn take_dirty(&mut self) -> Vec<(Code, DirtyRecord)> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// Drops the in-memory lifecycle records and reads them from `base` from now on: a node
    /// calls this after writing [`State::take_dirty`]'s records, with its store at this
    /// height, so memory holds one block's changes rather than the whole ledger.
    ///
    /// Panics if records are still dirty (the caller has not stored them): a node bug.
    pub fn rebase_records(&mut self, base: std::sync::Arc<dyn RecordStore>) {
        assert!(
            self.dirty.is_empty(),
            "rebase before the dirty records were taken"
        );
        self.ledger.rebase(base);
    }

    /// Configures the lottery: the chain id seed messages name, the genesis beacon (group
    /// key operations), and the validators' consensus keys with their org ids.
    pub fn with_lottery(
        mut self,
        chain_id: &str,
        beacon: Option<std::sync::Arc<dyn crate::lottery::Beacon>>,
        validators: impl IntoIterator<Item = (PublicKey, String)>,
    ) -> State {
        self.lotteries.chain_id = chain_id.to_string();
        self.lotteries.beacon = beacon;
        self.lotteries.validators = validators.into_iter().collect();
        self
    }

    /// Every lottery.
    pub fn lottery_book(&self) -> &jiu_lottery::LotteryBook {
        &self.lotteries.book
    }

    /// The seed shares held for a lottery still waiting for its seed, by share index.
    pub fn seed_shares(&self, lottery_id: u64) -> Option<&crate::lottery::Shares> {
        self.lotteries.shares.get(&lottery_id)
    }

    /// Runs the draw of a seeded lottery ahead of `CommitResults`, or waits for the run
    /// already under way (a `CommitResults` check that needs it waits for this run too, not
    /// a second one). `None` unless the lottery is seeded.
    pub fn run_draw(&self, lottery_id: u64) -> Option<jiu_lottery::book::PreparedDraw> {
        let job = self.lotteries.book.draw_job(lottery_id)?;
        Some(self.lotteries.draw(&job))
    }

    /// The draw a seeded lottery's `CommitResults` will be checked against, from the cache.
    pub fn prepared_draw_of(
        &self,
        key: &jiu_lottery::book::DrawKey,
    ) -> Option<jiu_lottery::book::PreparedDraw> {
        self.lotteries.prepared(key)
    }

    /// Proof that lottery `lottery_id` has the leaf its record gives, under [`State::root`].
    pub fn prove_lottery(&self, lottery_id: u64) -> Option<crate::lottery::LotteryProof> {
        let index = self
            .lotteries
            .book
            .lotteries()
            .position(|(id, _)| *id == lottery_id)?;
        let lottery_leaves = self.lotteries.leaves();
        let leaves = self.root_leaves();
        let state_index = leaves.len() - 2;
        Some(crate::lottery::LotteryProof {
            index: index as u64,
            count: lottery_leaves.len() as u64,
            path: merkle::proof(&lottery_leaves, index)?,
            shares_digest: self.lotteries.shares_digest(),
            state_leaf_index: state_index as u64,
            state_leaf_count: leaves.len() as u64,
            state_path: merkle::proof(&leaves, state_index)?,
        })
    }

    /// Re-applies a finalized lottery tx while restoring a node (the book is not stored: the
    /// finalized txs are its log). `signer_org` is the org that signed it when it was
    /// applied, as the node recorded it (`None` for a validator). Skips the replay window
    /// and the registry's current view; everything else is checked as at first.
    pub fn reapply_lottery(
        &mut self,
        tx: &VerifiedTx,
        ctx: &BlockCtx,
        signer_org: Option<(&str, Role)>,
    ) -> Result<Vec<Event>, TxError> {
        let body = &tx.tx().body;
        let change = match (&body.payload, signer_org) {
            (
                crate::tx::Payload::SeedShare {
                    lottery_id,
                    partial,
                },
                _,
            ) => self.plan_seed_share(&body.signer, *lottery_id, partial, ctx)?,
            (crate::tx::Payload::Lottery { op }, Some((org_id, role))) => {
                let actor = jiu_lottery::Actor {
                    org_id: org_id.to_string(),
                    role,
                    key: body.signer,
                };
                self.plan_lottery(op, &actor, ctx)?
            }
            (crate::tx::Payload::Lottery { op }, None) => {
                let actor = self.lottery_actor(&body.signer, op)?;
                self.plan_lottery(op, &actor, ctx)?
            }
            _ => return Err(TxError::InvalidPayload("not a lottery tx".into())),
        };
        Ok(self.commit_lottery(change))
    }

    /// The org whose party GLN is `pgln`.
    pub fn org_of_pgln(&self, pgln: &crate::gs1::Gln) -> Option<&Org> {
        self.orgs
            .values()
            .find(|org| org.pgln.as_ref() == Some(pgln))
    }

    /// The org with this id.
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.orgs.get(id)
    }

    /// The org this key is registered to, active or not.
    pub fn org_of_key(&self, key: &PublicKey) -> Option<&Org> {
        self.key_index.get(key).and_then(|id| self.orgs.get(id))
    }

    /// All orgs in id order.
    pub fn orgs(&self) -> impl Iterator<Item = &Org> {
        self.orgs.values()
    }

    /// Height of the last block begun (0 at genesis).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Number of anchors ever applied.
    pub fn anchors_count(&self) -> u64 {
        self.anchors_count
    }

    /// Number of tx ids in the replay window.
    pub fn replay_len(&self) -> usize {
        self.replay.len()
    }

    /// Starts a block: records its height and forgets tx ids that expired before it (such a
    /// tx is refused as `Expired` from now on, so its id is no longer needed).
    ///
    /// Panics if the height does not go up: applying blocks out of order is a node bug and
    /// continuing would diverge.
    pub fn begin_block(&mut self, ctx: &BlockCtx) {
        assert!(
            ctx.height > self.height,
            "block heights must increase: block {} after {}",
            ctx.height,
            self.height
        );
        self.height = ctx.height;
        while let Some(&(expires, id)) = self.replay_by_expiry.get_min() {
            if expires >= ctx.height {
                break;
            }
            self.replay_by_expiry.remove_min();
            self.replay.remove(&id);
        }
    }

    /// Ends a block: writes its txs' record changes into the records tree, so that
    /// [`State::root`] and proofs read the tree as it is. Without it they still answer
    /// correctly, from a copy with the changes written (slower: the node calls this before
    /// taking a block's root).
    pub fn end_block(&mut self) {
        self.records.flush();
    }

    /// Every check `apply` makes, without changing anything. `ctx` is the block the tx would
    /// go in (for the mempool: the next block).
    pub fn check(&self, tx: &VerifiedTx, ctx: &BlockCtx) -> Result<(), TxError> {
        self.plan(tx, ctx).map(drop)
    }

    /// Applies a tx, or refuses it and leaves the state untouched.
    ///
    /// Panics if `ctx` is not the block begun last: that is a node bug, not bad input.
    pub fn apply(&mut self, tx: &VerifiedTx, ctx: &BlockCtx) -> Result<Receipt, TxError> {
        assert_eq!(ctx.height, self.height, "begin_block must run before apply");
        let mut change = self.plan(tx, ctx)?;
        // Nothing below can fail: every refusal happened in plan.
        let tx_id = tx.id();
        let captured = match &mut change {
            Change::Lifecycle { captured, .. } => captured.take(),
            Change::CapturedRecalls { captured, .. } => Some(captured.clone()),
            _ => None,
        };
        let events = self.commit(change, tx_id);
        self.replay.insert(tx_id);
        let expires = tx.tx().body.expires_at_height;
        self.replay_by_expiry.insert((expires, tx_id));
        Ok(Receipt {
            tx_id,
            events,
            captured,
        })
    }

    /// Performs a planned change; `plan` has checked everything this relies on.
    fn commit(&mut self, change: Change, tx_id: Hash) -> Vec<Event> {
        match change {
            Change::Lottery(change) => self.commit_lottery(*change),
            Change::CapturedRecalls {
                products,
                recalls,
                org_id,
                events,
                captured: _,
            } => {
                for product in products {
                    self.products.insert(product.gtin, product);
                }
                let mut out: Vec<Event> = recalls
                    .into_iter()
                    .map(|(gtin, lot, recalled)| Event::LotRecallSet {
                        org_id: org_id.clone(),
                        gtin,
                        lot,
                        recalled,
                    })
                    .collect();
                out.push(Event::EpcisCaptured {
                    org_id,
                    events,
                    ops: 0,
                    records: 0,
                });
                out
            }
            other => vec![self.commit_one(other, tx_id)],
        }
    }

    fn commit_lottery(&mut self, change: lottery_plan::LotteryChange) -> Vec<Event> {
        let mut events = Vec::new();
        if let Some((lottery_id, index, shares, threshold)) = change.share {
            events.push(Event::SeedShareAccepted {
                lottery_id,
                index,
                shares,
                threshold,
            });
        }
        match change.shares {
            Some((id, Some(shares))) => {
                self.lotteries.shares.insert(id, shares);
            }
            Some((id, None)) => {
                self.lotteries.shares.remove(&id);
            }
            None => {}
        }
        if let Some(book) = change.book {
            let outcome = self.lotteries.book.commit(book);
            events.push(Event::Lottery {
                event: outcome.event,
            });
        }
        events
    }

    fn commit_one(&mut self, change: Change, tx_id: Hash) -> Event {
        match change {
            Change::Lottery(_) => unreachable!("lottery changes are committed by commit_lottery"),
            Change::CapturedRecalls { .. } => unreachable!("lot recalls are committed by commit"),
            Change::Register(org) => {
                let id = org.id.clone();
                self.insert_org(org);
                Event::OrgRegistered { id }
            }
            Change::AddKey { org_id, key } => {
                let org = self.org_mut(&org_id);
                let at = org.keys.binary_search(&key).unwrap_or_else(|at| at);
                org.keys.insert(at, key);
                self.key_index.insert(key, org_id.clone());
                Event::OrgKeyAdded { org_id, key }
            }
            Change::RemoveKey { org_id, key } => {
                self.org_mut(&org_id).keys.retain(|k| *k != key);
                self.key_index.remove(&key);
                Event::OrgKeyRemoved { org_id, key }
            }
            Change::SetActive { org_id, active } => {
                self.org_mut(&org_id).active = active;
                Event::OrgActiveSet { org_id, active }
            }
            Change::Anchor {
                org_id,
                record_hash,
            } => {
                let index = self.anchors_count;
                self.anchors_acc =
                    sha256(&[ANCHOR_DOMAIN, &self.anchors_acc, &tx_id, &record_hash]);
                self.anchors_count += 1;
                Event::Anchored {
                    org_id,
                    record_hash,
                    index,
                }
            }
            Change::SetPgln { org_id, pgln } => {
                self.org_mut(&org_id).pgln = pgln;
                Event::OrgPglnSet { org_id, pgln }
            }
            Change::SetProduct(product) => {
                let gtin = product.gtin;
                let org_id = product.brand_owner.clone();
                self.products.insert(gtin, product);
                Event::ProductSet { org_id, gtin }
            }
            Change::RecallLot {
                product,
                lot,
                recalled,
            } => {
                let gtin = product.gtin;
                let org_id = product.brand_owner.clone();
                self.products.insert(gtin, product);
                Event::LotRecallSet {
                    org_id,
                    gtin,
                    lot,
                    recalled,
                }
            }
            Change::Lifecycle {
                ledger,
                touched,
                event,
                captured: _,
            } => {
                self.ledger = ledger;
                let mut updates: Vec<(Hash, Option<Hash>)> = Vec::with_capacity(touched.len());
                for code in touched {
                    let key = crate::provenance::record_key(&code);
                    let stored: Option<Arc<[u8]>> =
                        self.ledger.stored_record(&code).map(|s| s.encode().into());
                    // The tree commits to the leaf bytes, the first part of the stored bytes.
                    let value = stored.as_deref().map(|bytes| {
                        smt::value_hash(
                            StoredRecord::leaf_bytes(bytes)
                                .expect("stored bytes encoded just above"),
                        )
                    });
                    updates.push((key, value));
                    self.dirty.insert(code, DirtyRecord { key, stored });
                }
                self.records.pending.extend(updates);
                event
            }
        }
    }

    fn insert_org(&mut self, org: Org) {
        for key in &org.keys {
            self.key_index.insert(*key, org.id.clone());
        }
        self.orgs.insert(org.id.clone(), org);
    }

    fn org_mut(&mut self, id: &str) -> &mut Org {
        self.orgs
            .get_mut(id)
            .expect("plan checked that the org exists")
    }

    /// The master data of `gtin`, if registered.
    pub fn product(&self, gtin: &crate::gs1::Gtin) -> Option<&Product> {
        self.products.get(gtin)
    }

    /// Every registered product, in GTIN order.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }

    /// Proof that the master data of `gtin` is a leaf of [`State::root`].
    pub fn prove_product(&self, gtin: &crate::gs1::Gtin) -> Option<ProductProof> {
        self.prove_product_in(gtin, &self.proof_leaves())
    }

    /// [`State::prove_product`] with this state's [`ProofLeaves`] (see
    /// [`State::prove_record_in`]).
    pub fn prove_product_in(
        &self,
        gtin: &crate::gs1::Gtin,
        leaves: &ProofLeaves,
    ) -> Option<ProductProof> {
        let index = self.orgs.len() + self.products.keys().position(|g| g == gtin)?;
        let product = self.products.get(gtin)?;
        assert!(
            leaves.leaves.get(index) == Some(&product.leaf_hash()),
            "proof leaves are made from the state they prove"
        );
        Some(ProductProof {
            state_leaf_index: index as u64,
            state_leaf_count: leaves.leaves.len() as u64,
            state_path: merkle::proof(&leaves.leaves, index)?,
        })
    }

    /// Proof that no product is registered under `gtin`: the leaves either side of its
    /// place (see [`crate::product::ProductAbsenceProof`]); `None` if one is.
    pub fn prove_product_absence_in(
        &self,
        gtin: &crate::gs1::Gtin,
        leaves: &ProofLeaves,
    ) -> Option<crate::product::ProductAbsenceProof> {
        if self.products.contains_key(gtin) {
            return None;
        }
        // The leaf after the place: the first product of a larger GTIN, or the anchors.
        let after = self.orgs.len() + self.products.range(..*gtin).count();
        let before_bytes = match self.products.range(..*gtin).next_back() {
            Some((_, product)) => product.leaf_bytes(),
            // The first product's place: the leaf before it is the last org's.
            None => org_leaf_bytes(self.orgs.values().next_back()?),
        };
        let after_bytes = match self.products.range(*gtin..).next() {
            Some((_, product)) => product.leaf_bytes(),
            None => self.anchors_leaf_bytes(),
        };
        let neighbour = |index: usize, leaf_bytes: Vec<u8>| {
            assert!(
                leaves.leaves.get(index) == Some(&merkle::leaf_hash(&leaf_bytes)),
                "proof leaves are made from the state they prove"
            );
            Some(crate::product::NeighbourLeaf {
                state_leaf_index: index as u64,
                state_path: merkle::proof(&leaves.leaves, index)?,
                leaf_bytes,
            })
        };
        Some(crate::product::ProductAbsenceProof {
            state_leaf_count: leaves.leaves.len() as u64,
            before: neighbour(after.checked_sub(1)?, before_bytes)?,
            after: neighbour(after, after_bytes)?,
        })
    }

    /// The bytes of the anchors' state-root leaf, the first after the products.
    fn anchors_leaf_bytes(&self) -> Vec<u8> {
        let count = self.anchors_count.to_le_bytes();
        [
            crate::product::ANCHORS_LEAF_DOMAIN,
            &count,
            &self.anchors_acc,
        ]
        .concat()
    }

    /// The state root; see the module doc for the leaves.
    pub fn root(&self) -> Hash {
        merkle::root(&self.root_leaves())
    }

    /// The leaves under the state root, in order; the records leaf is last.
    fn root_leaves(&self) -> Vec<Hash> {
        let mut leaves: Vec<Hash> = self
            .orgs
            .values()
            .map(|org| merkle::leaf_hash(&org_leaf_bytes(org)))
            .collect();
        leaves.extend(self.products.values().map(Product::leaf_hash));
        leaves.push(merkle::leaf_hash(&self.anchors_leaf_bytes()));
        let height = self.height.to_le_bytes();
        leaves.push(merkle::leaf_hash(
            &[b"height\0".as_slice(), &height].concat(),
        ));
        leaves.push(self.lotteries.leaf_hash());
        leaves.push(records_leaf_hash(&self.records.current().root()));
        leaves
    }
}

/// The records tree and the changes of the block being applied. The tree takes a block's
/// changes in one batch (`State::end_block`) rather than one per tx: a block of several
/// EPCIS documents then hashes the top of the tree, where every tx's paths meet, once.
#[derive(Clone, Default)]
struct Records {
    tree: Smt,
    /// Record key and new value hash (`None`: deleted) of each code a tx of this block
    /// touched, in tx order; the last update of a key wins.
    pending: Vec<(Hash, Option<Hash>)>,
}

impl Records {
    fn of(tree: Smt) -> Self {
        Self {
            tree,
            pending: Vec::new(),
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.tree.apply_batch(std::mem::take(&mut self.pending));
        }
    }

    /// The tree with the pending changes written: itself after a flush, else a copy.
    fn current(&self) -> std::borrow::Cow<'_, Smt> {
        if self.pending.is_empty() {
            std::borrow::Cow::Borrowed(&self.tree)
        } else {
            let mut tree = self.tree.clone();
            tree.apply_batch(self.pending.iter().copied());
            std::borrow::Cow::Owned(tree)
        }
    }
}

/// Two states hold the same records when their trees, with what is pending, are equal.
impl PartialEq for Records {
    fn eq(&self, other: &Self) -> bool {
        *self.current() == *other.current()
    }
}

impl Eq for Records {}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("tree", &self.tree)
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// The leaves under a state's root, made once for many proofs ([`State::proof_leaves`]).
#[derive(Clone, Debug)]
pub struct ProofLeaves {
    leaves: Vec<Hash>,
    /// The RFC 6962 path of the records leaf (the last one).
    records_path: Vec<Hash>,
}

/// Whether `leaf` is leaf `index` of `count` under `state_root` by `path` (the second hop
/// of every record, product and lottery proof). Positions come as `u64` from a proof; one
/// that does not fit a `usize` proves nothing.
pub(crate) fn is_state_leaf(
    leaf: Hash,
    index: u64,
    count: u64,
    path: &[Hash],
    state_root: &Hash,
) -> bool {
    match (usize::try_from(index), usize::try_from(count)) {
        (Ok(index), Ok(count)) => merkle::verify(leaf, index, count, path, *state_root),
        _ => false,
    }
}

/// The bytes of an org's state-root leaf.
fn org_leaf_bytes(org: &Org) -> Vec<u8> {
    let mut bytes = crate::product::ORG_LEAF_DOMAIN.to_vec();
    BorshSerialize::serialize(org, &mut bytes).expect("borsh writes to a Vec cannot fail");
    bytes
}

/// The state-root leaf that commits to the records tree.
pub fn records_leaf_hash(records_root: &Hash) -> Hash {
    merkle::leaf_hash(&[b"records\0".as_slice(), records_root].concat())
}

/// The lifecycle's view of the registry: active orgs and their roles, and who owns each
/// registered GTIN.
impl Parties for State {
    fn role_of(&self, org_id: &str) -> Option<Role> {
        self.orgs
            .get(org_id)
            .filter(|org| org.active)
            .map(|org| org.role)
    }

    /// A registered GTIN belongs to its brand owner; an unregistered one to any producer.
    fn may_brand(&self, org_id: &str, gtin: &crate::gs1::Gtin) -> bool {
        self.products
            .get(gtin)
            .is_none_or(|product| product.brand_owner == org_id)
    }

    fn has_product(&self, gtin: &crate::gs1::Gtin) -> bool {
        self.products.contains_key(gtin)
    }

    fn lot_recalled(&self, gtin: &crate::gs1::Gtin, lot: &crate::gs1::Lot) -> bool {
        self.products
            .get(gtin)
            .is_some_and(|product| product.lot_recall(lot).is_some())
    }
}

#[cfg(test)]
mod lot_recall_tests;
#[cfg(test)]
mod lottery_tests;
#[cfg(test)]
mod product_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod provenance_tests;
#[cfg(test)]
pub(crate) mod tests;
