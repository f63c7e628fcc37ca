//! A chain of one-tx blocks built as a node builds them, for unit tests of what reads the
//! committed state and the index rows (verify answers, a lot's census).

use jiu_contracts::provenance::Op;
use jiu_contracts::{Payload, PublicKey, SignedTx, State, TxBody};
use jiu_genesis::devnet::devnet;

use crate::block::{build, BlockHeader, Parent};
use crate::context::{Address, BlockId};
use crate::db::{Col, CommitRecord, Db};
use crate::proof::{CertificateJson, CommitSignatureJson};
use crate::shared::{Committed, Tip};

pub(crate) struct Chain {
    pub(crate) state: State,
    pub(crate) parent: Parent,
    chain_id: String,
    keys: Vec<(String, ed25519_dalek::SigningKey)>,
    pub(crate) db: Db,
    nonce: u64,
    header: Option<BlockHeader>,
}

impl Chain {
    pub(crate) fn new() -> Self {
        let net = devnet("jiu-verify", 4, 27000, Some([6; 32]));
        Self {
            state: State::new(net.genesis.initial_orgs()).expect("genesis state"),
            parent: Parent {
                height: 0,
                id: BlockId(net.genesis.hash()),
                time_ms: 1_000,
            },
            chain_id: net.genesis.chain_id,
            keys: net.org_keys,
            db: Db::in_memory(),
            nonce: 0,
            header: None,
        }
    }

    /// One block with one tx of `org`'s ops.
    pub(crate) fn block(&mut self, org: &str, ops: Vec<Op>) {
        let what = format!("{ops:?}");
        assert_eq!(
            self.block_of(org, Payload::Provenance { ops }),
            1,
            "in a block: {what}"
        );
    }

    /// One block with one tx of `org`'s `payload`, its index rows (history, lots) written
    /// to the db as the node writes them; returns how many txs the block holds (0 for a
    /// refused tx).
    pub(crate) fn block_of(&mut self, org: &str, payload: Payload) -> usize {
        let key = &self.keys.iter().find(|(id, _)| id == org).expect("org").1;
        self.nonce += 1;
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: self.nonce,
            expires_at_height: 100,
            payload,
        };
        let tx = SignedTx::sign(body, key).verify().expect("signed");
        let time_ms = self.parent.time_ms + 1_000;
        let (executed, _) = build(
            &self.state,
            &self.parent,
            &self.chain_id,
            Address([1; 20]),
            time_ms,
            vec![tx],
            std::time::Duration::from_secs(60),
        );
        let height = executed.block.header.height;
        let txs = &executed.block.txs;
        let mut index_rows: Vec<_> =
            crate::history::rows_for_block(height, time_ms, txs, &executed.receipts)
                .into_iter()
                .map(|(k, v)| (Col::History, k, v))
                .collect();
        index_rows.extend(
            crate::lots::rows_for_block(height, txs, &executed.receipts)
                .into_iter()
                .map(|(k, v)| (Col::Lots, k, v)),
        );
        self.db
            .commit(CommitRecord {
                height,
                index_rows,
                ..CommitRecord::default()
            })
            .expect("commit");
        self.parent = Parent {
            height,
            id: executed.id,
            time_ms,
        };
        self.header = Some(executed.block.header.clone());
        self.state = executed.state;
        executed.block.txs.len()
    }

    /// The committed view of the tip, as RPC answers read it (a made-up certificate).
    pub(crate) fn committed(&self) -> Committed {
        let header = self.header.clone().expect("a block");
        let certificate = CertificateJson {
            height: header.height,
            round: 0,
            block_id: self.parent.id,
            signatures: vec![CommitSignatureJson {
                address: Address([2; 20]),
                signature: [3; 64],
            }],
        };
        let tip = Tip {
            height: header.height,
            block_id: self.parent.id,
            time_ms: header.time_ms,
            state_root: header.state_root,
        };
        Committed::new(
            tip,
            std::sync::Arc::new(self.state.clone()),
            Some(header),
            Some(certificate),
        )
    }
}
