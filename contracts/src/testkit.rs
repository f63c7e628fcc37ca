//! Shared test fixtures: deterministic keys, a genesis consortium, tx builders.

use ed25519_dalek::SigningKey;

use crate::error::TxError;
use crate::state::{BlockCtx, Receipt, State};
use crate::tx::{Payload, SignedTx, TxBody, VerifiedTx};
use crate::types::{Org, PublicKey, Role};

pub(crate) const CHAIN: &str = "jiu-test";

/// Seeds of the genesis keys, by org.
pub(crate) const PRODUCER: u8 = 1;
pub(crate) const PRODUCER_2: u8 = 2;
pub(crate) const DISTRIBUTOR: u8 = 3;
pub(crate) const STORE: u8 = 4;
pub(crate) const AUDITOR: u8 = 5;
pub(crate) const INACTIVE_STORE: u8 = 6;
/// Seeds from here on are not registered at genesis.
pub(crate) const FREE: u8 = 10;

pub(crate) fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn public_key(seed: u8) -> PublicKey {
    PublicKey::from_signing_key(&signing_key(seed))
}

pub(crate) fn org(id: &str, role: Role, seeds: &[u8], active: bool) -> Org {
    let mut keys: Vec<PublicKey> = seeds.iter().map(|s| public_key(*s)).collect();
    keys.sort();
    Org {
        id: id.to_string(),
        name: format!("{id} Ltd"),
        role,
        keys,
        active,
        pgln: None,
    }
}

/// Orgs `producer` (2 keys: PRODUCER and PRODUCER_2), `distributor`, `store`, `auditor`,
/// and `old-store` (inactive).
pub(crate) fn genesis() -> State {
    State::new(vec![
        org("producer", Role::Producer, &[PRODUCER, PRODUCER_2], true),
        org("distributor", Role::Distributor, &[DISTRIBUTOR], true),
        org("store", Role::Store, &[STORE], true),
        org("auditor", Role::Auditor, &[AUDITOR], true),
        org("old-store", Role::Store, &[INACTIVE_STORE], false),
    ])
    .expect("test genesis is valid")
}

pub(crate) fn ctx(height: u64) -> BlockCtx {
    BlockCtx {
        height,
        time_ms: 1_700_000_000_000 + height * 1_000,
    }
}

pub(crate) fn body(signer: u8, nonce: u64, expires_at_height: u64, payload: Payload) -> TxBody {
    TxBody {
        chain_id: CHAIN.to_string(),
        signer: public_key(signer),
        nonce,
        expires_at_height,
        payload,
    }
}

pub(crate) fn sign(body: TxBody, signer: u8) -> SignedTx {
    SignedTx::sign(body, &signing_key(signer))
}

/// A correctly signed tx from `signer`, expiring at height 100.
pub(crate) fn signed(signer: u8, nonce: u64, payload: Payload) -> SignedTx {
    sign(body(signer, nonce, 100, payload), signer)
}

pub(crate) fn verified(signer: u8, nonce: u64, payload: Payload) -> VerifiedTx {
    signed(signer, nonce, payload)
        .verify()
        .expect("test tx is signed correctly")
}

pub(crate) fn anchor(byte: u8) -> Payload {
    Payload::Anchor {
        record_hash: [byte; 32],
        data: vec![byte; 3],
    }
}

/// The whole admission pipeline a node runs on received bytes, in its order.
pub(crate) fn admit(state: &mut State, bytes: &[u8], at: &BlockCtx) -> Result<Receipt, TxError> {
    let tx = SignedTx::decode(bytes)?;
    crate::tx::check_stateless(&tx, CHAIN)?;
    let tx = tx.verify()?;
    state.apply(&tx, at)
}
