//! Random block and tx sequences, mostly plausible and often invalid, against the genesis
//! consortium. After every step: invariants hold, `check` agrees with `apply`, and a refused
//! tx leaves the state (and so the root) exactly as it was.

use proptest::prelude::*;

use super::*;
use crate::testkit::*;
use crate::tx::{check_stateless, Payload, SignedTx, TxBody};
use crate::types::Role;

/// Registered and unregistered key seeds; small pools make collisions (key in use, replays,
/// duplicate orgs) frequent.
const SEEDS: [u8; 9] = [
    PRODUCER,
    PRODUCER_2,
    DISTRIBUTOR,
    STORE,
    AUDITOR,
    INACTIVE_STORE,
    10,
    11,
    12,
];
const ORG_IDS: [&str; 7] = [
    "producer",
    "distributor",
    "store",
    "auditor",
    "old-store",
    "new-a",
    "new-b",
];

#[derive(Clone, Debug)]
enum Op {
    /// Begin a block this many heights ahead.
    Block(u64),
    /// Send the last tx again, unchanged.
    Resubmit,
    Tx {
        signer: u8,
        nonce: u64,
        expiry_delta: i64,
        payload: Payload,
        fault: Fault,
    },
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    BadSignature,
    WrongChain,
}

fn seed() -> impl Strategy<Value = u8> + Clone {
    proptest::sample::select(SEEDS.to_vec())
}

/// Mostly keys no org holds yet, so registrations and key additions often succeed.
fn new_key() -> impl Strategy<Value = PublicKey> + Clone {
    prop_oneof![3 => 10..16u8, 1 => seed()].prop_map(public_key)
}

/// Producers sign often enough for the registry payloads to get past the role rules.
fn signer() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(PRODUCER), 1 => Just(PRODUCER_2), 3 => seed()]
}

fn org_id() -> impl Strategy<Value = String> {
    proptest::sample::select(ORG_IDS.to_vec()).prop_map(str::to_string)
}

fn payload() -> impl Strategy<Value = Payload> {
    let register = (
        org_id(),
        0..4usize,
        proptest::collection::vec(new_key(), 0..4),
    );
    let register = register.prop_map(|(id, role, keys)| Payload::RegisterOrg {
        name: id.clone(),
        id,
        role: Role::ALL[role],
        keys,
    });
    let add = (org_id(), new_key()).prop_map(|(org_id, key)| Payload::AddOrgKey { org_id, key });
    let remove = (org_id(), seed().prop_map(public_key))
        .prop_map(|(org_id, key)| Payload::RemoveOrgKey { org_id, key });
    let set_active = (org_id(), any::<bool>())
        .prop_map(|(org_id, active)| Payload::SetOrgActive { org_id, active });
    let anchor = (any::<u8>(), 0..4usize).prop_map(|(byte, len)| Payload::Anchor {
        record_hash: [byte; 32],
        data: vec![byte; len],
    });
    prop_oneof![1 => register, 1 => add, 1 => remove, 1 => set_active, 3 => anchor]
}

fn op() -> impl Strategy<Value = Op> {
    let expiry = prop_oneof![1 => Just(-1i64), 8 => 0..20i64, 1 => Just(1_000), 1 => Just(1_001)];
    let fault = prop_oneof![
        8 => Just(Fault::None),
        1 => Just(Fault::BadSignature),
        1 => Just(Fault::WrongChain),
    ];
    let tx = (signer(), 0..3u64, expiry, payload(), fault).prop_map(
        |(signer, nonce, expiry_delta, payload, fault)| Op::Tx {
            signer,
            nonce,
            expiry_delta,
            payload,
            fault,
        },
    );
    prop_oneof![1 => (1..4u64).prop_map(Op::Block), 1 => Just(Op::Resubmit), 6 => tx]
}

fn build_tx(
    height: u64,
    signer: u8,
    nonce: u64,
    expiry_delta: i64,
    payload: Payload,
    fault: Fault,
) -> SignedTx {
    let expires_at_height = height.saturating_add_signed(expiry_delta);
    let mut body: TxBody = body(signer, nonce, expires_at_height, payload);
    if let Fault::WrongChain = fault {
        body.chain_id = "jiu-elsewhere".to_string();
    }
    let mut tx = sign(body, signer);
    if let Fault::BadSignature = fault {
        tx.signature[0] ^= 0x20;
    }
    tx
}

/// One tx step; returns the (expiry, id) of an applied tx for the replay log.
fn step_tx(
    state: &mut State,
    at: &BlockCtx,
    tx: SignedTx,
) -> Result<Option<(u64, Hash)>, TestCaseError> {
    if check_stateless(&tx, CHAIN).is_err() {
        return Ok(None);
    }
    let Ok(tx) = tx.verify() else {
        return Ok(None);
    };
    let before = state.clone();
    let root_before = state.root();
    let checked = state.check(&tx, at);
    let applied = state.apply(&tx, at);
    prop_assert_eq!(&checked, &applied.as_ref().map(drop).map_err(Clone::clone));
    state.check_invariants().map_err(TestCaseError::fail)?;
    match applied {
        Err(_) => {
            prop_assert_eq!(&*state, &before);
            prop_assert_eq!(state.root(), root_before);
            Ok(None)
        }
        Ok(receipt) => {
            prop_assert_eq!(receipt.tx_id, tx.id());
            prop_assert_eq!(state.replay_len(), before.replay_len() + 1);
            prop_assert_eq!(state.check(&tx, at), Err(TxError::Replayed));
            Ok(Some((tx.tx().body.expires_at_height, tx.id())))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn test_random_sequences_keep_invariants_and_refusals_change_nothing(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let mut state = genesis();
        let mut at = ctx(1);
        state.begin_block(&at);
        let mut replay_log = Vec::new();
        let mut last_tx = None;
        for op in ops {
            match op {
                Op::Block(ahead) => {
                    at = ctx(at.height + ahead);
                    state.begin_block(&at);
                    state.check_invariants().map_err(TestCaseError::fail)?;
                }
                Op::Resubmit => {
                    if let Some(tx) = last_tx.clone() {
                        replay_log.extend(step_tx(&mut state, &at, tx)?);
                    }
                }
                Op::Tx { signer, nonce, expiry_delta, payload, fault } => {
                    let tx = build_tx(at.height, signer, nonce, expiry_delta, payload, fault);
                    last_tx = Some(tx.clone());
                    replay_log.extend(step_tx(&mut state, &at, tx)?);
                }
            }
        }
        // A restart rebuilds exactly this state from the persisted bytes and recent txs.
        let mut restored = State::decode_persistent(&state.encode_persistent())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        restored.restore_replay(replay_log);
        prop_assert_eq!(restored, state);
    }
}
