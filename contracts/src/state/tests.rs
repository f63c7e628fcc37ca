use super::*;
use crate::testkit::*;
use crate::tx::{Payload, SignedTx, TX_BYTES_MAX, TX_TTL_HEIGHTS_MAX};
use crate::types::Role;

fn register(id: &str, role: Role, seeds: &[u8]) -> Payload {
    Payload::RegisterOrg {
        id: id.to_string(),
        name: format!("{id} Ltd"),
        role,
        keys: seeds.iter().map(|s| public_key(*s)).collect(),
    }
}

fn add_key(org_id: &str, seed: u8) -> Payload {
    Payload::AddOrgKey {
        org_id: org_id.to_string(),
        key: public_key(seed),
    }
}

fn remove_key(org_id: &str, seed: u8) -> Payload {
    Payload::RemoveOrgKey {
        org_id: org_id.to_string(),
        key: public_key(seed),
    }
}

fn set_active(org_id: &str, active: bool) -> Payload {
    Payload::SetOrgActive {
        org_id: org_id.to_string(),
        active,
    }
}

fn unauthorized(role: Role, action: &str) -> TxError {
    TxError::Unauthorized {
        role,
        action: action.to_string(),
    }
}

fn bytes_of(tx: SignedTx) -> Vec<u8> {
    tx.encode()
}

/// Runs `steps` in order through the node's admission pipeline at `at`. A refused step must
/// leave the state (and its root) exactly as it was; every step must keep the invariants.
fn run_steps(
    state: &mut State,
    at: &BlockCtx,
    steps: Vec<(&str, Vec<u8>, Result<Event, TxError>)>,
) {
    for (name, bytes, expected) in steps {
        let before = state.clone();
        let root_before = state.root();
        let got = admit(state, &bytes, at).map(|receipt| {
            assert_eq!(receipt.events.len(), 1, "{name}");
            receipt.events[0].clone()
        });
        // Decoder messages are borsh's; only the kind of a Malformed refusal is pinned.
        let got = got.map_err(|e| match e {
            TxError::Malformed(_) => TxError::Malformed(String::new()),
            other => other,
        });
        assert_eq!(got, expected, "step '{name}'");
        if got.is_err() {
            assert_eq!(*state, before, "refused step '{name}' changed the state");
            assert_eq!(
                state.root(),
                root_before,
                "refused step '{name}' changed the root"
            );
        } else {
            assert_eq!(state.replay_len(), before.replay_len() + 1, "{name}");
        }
        state
            .check_invariants()
            .unwrap_or_else(|e| panic!("after '{name}': {e}"));
    }
}

#[test]
fn test_apply_step_table() {
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    let first = signed(STORE, 1, anchor(1));
    let mut flipped = first.clone();
    flipped.signature[5] ^= 1;
    let mut wrong_chain = body(STORE, 2, 100, anchor(1));
    wrong_chain.chain_id = "jiu-other".to_string();
    let huge = signed(
        STORE,
        4,
        Payload::Anchor {
            record_hash: [0; 32],
            data: vec![0; TX_BYTES_MAX],
        },
    );
    let huge_len = huge.encode().len();
    let ttl_max = 1 + TX_TTL_HEIGHTS_MAX;
    let anchored = |org_id: &str, byte: u8, index| Event::Anchored {
        org_id: org_id.to_string(),
        record_hash: [byte; 32],
        index,
    };
    let org_id = |id: &str| id.to_string();
    #[rustfmt::skip]
    let steps = vec![
        ("store anchors", bytes_of(first.clone()), Ok(anchored("store", 1, 0))),
        ("same tx again", bytes_of(first.clone()), Err(TxError::Replayed)),
        ("same body re-signed", bytes_of(sign(first.body.clone(), STORE)), Err(TxError::Replayed)),
        ("wrong signature", bytes_of(flipped), Err(TxError::BadSignature)),
        ("signed by another key", bytes_of(sign(body(STORE, 3, 100, anchor(1)), PRODUCER)), Err(TxError::BadSignature)),
        ("wrong chain id", bytes_of(sign(wrong_chain, STORE)), Err(TxError::WrongChainId { expected: CHAIN.into(), got: "jiu-other".into() })),
        ("oversized", bytes_of(huge), Err(TxError::Oversized { bytes: huge_len, max: TX_BYTES_MAX })),
        ("trailing bytes", [bytes_of(signed(STORE, 5, anchor(1))), vec![0]].concat(), Err(TxError::Malformed(String::new()))),
        ("unknown signer", bytes_of(signed(FREE, 1, anchor(1))), Err(TxError::UnknownSigner)),
        ("inactive org signer", bytes_of(signed(INACTIVE_STORE, 1, anchor(1))), Err(TxError::UnknownSigner)),
        ("auditor anchors", bytes_of(signed(AUDITOR, 1, anchor(1))), Err(unauthorized(Role::Auditor, "anchor"))),
        ("auditor registers", bytes_of(signed(AUDITOR, 2, register("x", Role::Store, &[FREE]))), Err(unauthorized(Role::Auditor, "register_org"))),
        ("distributor registers org", bytes_of(signed(DISTRIBUTOR, 1, register("x", Role::Store, &[FREE]))), Err(unauthorized(Role::Distributor, "register_org"))),
        ("store adds key", bytes_of(signed(STORE, 6, add_key("store", FREE))), Err(unauthorized(Role::Store, "add_org_key"))),
        ("distributor deactivates store", bytes_of(signed(DISTRIBUTOR, 2, set_active("store", false))), Err(unauthorized(Role::Distributor, "set_org_active"))),
        ("expired", bytes_of(sign(body(STORE, 7, 0, anchor(1)), STORE)), Err(TxError::Expired { height: 1, expires_at_height: 0 })),
        ("expiry too far", bytes_of(sign(body(STORE, 8, ttl_max + 1, anchor(1)), STORE)), Err(TxError::ExpiryTooFar { expires_at_height: ttl_max + 1, max: ttl_max })),
        ("expiry at the limit", bytes_of(sign(body(STORE, 9, ttl_max, anchor(2)), STORE)), Ok(anchored("store", 2, 1))),
        ("expiry this block", bytes_of(sign(body(DISTRIBUTOR, 3, 1, anchor(3)), DISTRIBUTOR)), Ok(anchored("distributor", 3, 2))),
        ("register org", bytes_of(signed(PRODUCER, 1, register("shop-2", Role::Store, &[12, 11]))), Ok(Event::OrgRegistered { id: org_id("shop-2") })),
        ("new org signs", bytes_of(signed(11, 1, anchor(4))), Ok(anchored("shop-2", 4, 3))),
        ("duplicate org", bytes_of(signed(PRODUCER, 2, register("shop-2", Role::Store, &[13]))), Err(TxError::OrgExists(org_id("shop-2")))),
        ("register with key in use", bytes_of(signed(PRODUCER, 3, register("shop-3", Role::Store, &[13, STORE]))), Err(TxError::KeyInUse(public_key(STORE)))),
        ("add key to unknown org", bytes_of(signed(PRODUCER, 4, add_key("nobody", 13))), Err(TxError::UnknownOrg(org_id("nobody")))),
        ("add key in use", bytes_of(signed(PRODUCER, 5, add_key("store", 11))), Err(TxError::KeyInUse(public_key(11)))),
        ("add key", bytes_of(signed(PRODUCER, 6, add_key("store", 13))), Ok(Event::OrgKeyAdded { org_id: org_id("store"), key: public_key(13) })),
        ("added key signs", bytes_of(signed(13, 1, anchor(5))), Ok(anchored("store", 5, 4))),
        ("remove key of another org", bytes_of(signed(PRODUCER, 7, remove_key("store", 11))), Err(TxError::KeyNotFound(public_key(11)))),
        ("remove key from unknown org", bytes_of(signed(PRODUCER, 8, remove_key("nobody", 11))), Err(TxError::UnknownOrg(org_id("nobody")))),
        ("remove key", bytes_of(signed(PRODUCER, 9, remove_key("store", 13))), Ok(Event::OrgKeyRemoved { org_id: org_id("store"), key: public_key(13) })),
        ("removed key signs", bytes_of(signed(13, 2, anchor(6))), Err(TxError::UnknownSigner)),
        ("remove last key", bytes_of(signed(PRODUCER, 10, remove_key("store", STORE))), Err(TxError::InvalidPayload("cannot remove the last key of org 'store'".into()))),
        ("producer deactivates itself", bytes_of(signed(PRODUCER, 11, set_active("producer", false))), Err(unauthorized(Role::Producer, "deactivate its own org"))),
        ("set unknown org active", bytes_of(signed(PRODUCER, 12, set_active("nobody", true))), Err(TxError::UnknownOrg(org_id("nobody")))),
        ("producer deactivates distributor", bytes_of(signed(PRODUCER_2, 1, set_active("distributor", false))), Ok(Event::OrgActiveSet { org_id: org_id("distributor"), active: false })),
        ("deactivated distributor anchors", bytes_of(signed(DISTRIBUTOR, 4, anchor(7))), Err(TxError::UnknownSigner)),
        ("key of inactive org stays taken", bytes_of(signed(PRODUCER, 13, add_key("store", DISTRIBUTOR))), Err(TxError::KeyInUse(public_key(DISTRIBUTOR)))),
        ("producer reactivates distributor", bytes_of(signed(PRODUCER, 14, set_active("distributor", true))), Ok(Event::OrgActiveSet { org_id: org_id("distributor"), active: true })),
        ("producer removes one of its own keys", bytes_of(signed(PRODUCER_2, 2, remove_key("producer", PRODUCER_2))), Ok(Event::OrgKeyRemoved { org_id: org_id("producer"), key: public_key(PRODUCER_2) })),
        ("producer removes its last key", bytes_of(signed(PRODUCER, 15, remove_key("producer", PRODUCER))), Err(TxError::InvalidPayload("cannot remove the last key of org 'producer'".into()))),
    ];
    run_steps(&mut state, &at, steps);
    assert_eq!(state.anchors_count(), 5);
}

#[test]
fn test_org_key_limit() {
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    let full: Vec<u8> = (20..36).collect();
    let steps = vec![
        (
            "register 16 keys",
            bytes_of(signed(PRODUCER, 1, register("big", Role::Store, &full))),
            Ok(Event::OrgRegistered { id: "big".into() }),
        ),
        (
            "add a 17th",
            bytes_of(signed(PRODUCER, 2, add_key("big", 40))),
            Err(TxError::InvalidPayload(
                "org 'big' already has the maximum of 16 keys".into(),
            )),
        ),
    ];
    run_steps(&mut state, &at, steps);
}

#[test]
fn test_apply_rechecks_payload_when_check_stateless_was_skipped() {
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    let before = state.clone();
    let bad = verified(PRODUCER, 1, register("NOT valid", Role::Store, &[FREE]));
    assert!(matches!(
        state.apply(&bad, &at),
        Err(TxError::InvalidPayload(_))
    ));
    let bad = verified(
        STORE,
        1,
        Payload::Anchor {
            record_hash: [0; 32],
            data: vec![0; 1025],
        },
    );
    assert!(matches!(
        state.apply(&bad, &at),
        Err(TxError::InvalidPayload(_))
    ));
    assert_eq!(state, before);
}

#[test]
fn test_check_agrees_with_apply_and_does_not_mutate() {
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    let tx = verified(STORE, 1, anchor(1));
    let before = state.clone();
    assert_eq!(state.check(&tx, &at), Ok(()));
    assert_eq!(state, before);
    assert!(state.apply(&tx, &at).is_ok());
    assert_eq!(state.check(&tx, &at), Err(TxError::Replayed));
}

#[test]
fn test_replay_window_is_pruned_after_expiry() {
    let mut state = genesis();
    state.begin_block(&ctx(1));
    let tx = verified(STORE, 1, anchor(1)); // expires at height 100
    assert!(state.apply(&tx, &ctx(1)).is_ok());
    state.begin_block(&ctx(100));
    assert_eq!(state.replay_len(), 1, "kept through its last valid height");
    assert_eq!(state.check(&tx, &ctx(100)), Err(TxError::Replayed));
    state.begin_block(&ctx(101));
    assert_eq!(state.replay_len(), 0, "pruned once expired");
    // The id is gone, but the tx cannot be applied twice: it is now expired.
    assert_eq!(
        state.check(&tx, &ctx(101)),
        Err(TxError::Expired {
            height: 101,
            expires_at_height: 100
        })
    );
    state.check_invariants().expect("invariants");
}

#[test]
fn test_anchor_hash_chain() {
    let mut state = genesis();
    state.begin_block(&ctx(1));
    let mut acc = [0u8; 32];
    for n in 0..3u8 {
        let tx = verified(STORE, u64::from(n), anchor(n));
        let receipt = state.apply(&tx, &ctx(1)).expect("anchor applies");
        assert_eq!(receipt.tx_id, tx.id());
        acc = sha256(&[b"jiu/anchor/v1", &acc, &tx.id(), &[n; 32]]);
    }
    assert_eq!(state.anchors_count(), 3);
    assert_eq!(state.anchors_acc, acc);
}

#[test]
fn test_genesis_validation() {
    let producer = || org("producer", Role::Producer, &[PRODUCER], true);
    assert_eq!(
        State::new(vec![producer(), producer()]),
        Err(TxError::OrgExists("producer".into()))
    );
    assert_eq!(
        State::new(vec![
            producer(),
            org("other", Role::Store, &[FREE, PRODUCER], true)
        ]),
        Err(TxError::KeyInUse(public_key(PRODUCER)))
    );
    assert!(matches!(
        State::new(vec![org("Bad Id", Role::Store, &[FREE], true)]),
        Err(TxError::InvalidPayload(_))
    ));
    assert!(matches!(
        State::new(vec![org("no-keys", Role::Store, &[], true)]),
        Err(TxError::InvalidPayload(_))
    ));
    let mut unsorted = org("shop", Role::Store, &[FREE, FREE + 1, FREE + 2], true);
    unsorted.keys.reverse();
    let state = State::new(vec![unsorted]).expect("valid genesis");
    assert!(state.org("shop").expect("exists").keys.is_sorted());
    assert_eq!(
        state
            .org_of_key(&public_key(FREE + 1))
            .map(|o| o.id.as_str()),
        Some("shop")
    );
    assert_eq!(State::new(vec![]).map(|s| s.orgs().count()), Ok(0));
}

/// Changing this is a state format change: every node must agree on it.
#[test]
fn test_genesis_root_golden() {
    assert_eq!(
        hex::encode(genesis().root()),
        "a000692e31e6984b5272595d2b95bb6ac995068112041c145301a0d8f422a8f4"
    );
    let empty = State::new(vec![]).expect("empty genesis");
    let anchors = merkle::leaf_hash(&[b"anchors\0".as_slice(), &[0; 8], &[0; 32]].concat());
    let height = merkle::leaf_hash(&[b"height\0".as_slice(), &[0; 8]].concat());
    let records = merkle::leaf_hash(&[b"records\0".as_slice(), &[0; 32]].concat());
    // No lottery: the empty RFC 6962 root, and the digest of zero pending shares (borsh of
    // an empty list is its u32 length, 0).
    let no_shares = sha256(&[b"jiu/seed-shares/v1".as_slice(), &[0; 4]]);
    let lotteries =
        merkle::leaf_hash(&[b"lotteries\0".as_slice(), &merkle::root(&[]), &no_shares].concat());
    assert_eq!(
        empty.root(),
        merkle::root(&[anchors, height, lotteries, records])
    );
}

#[test]
fn test_root_covers_state_but_not_replay_window() {
    let mut state = genesis();
    let genesis_root = state.root();
    state.begin_block(&ctx(1));
    let after_block = state.root();
    assert_ne!(after_block, genesis_root, "height is in the root");
    let mut replayed = state.clone();
    replayed.restore_replay([(50, [9; 32])]);
    assert_eq!(replayed.replay_len(), 1);
    assert_eq!(
        replayed.root(),
        after_block,
        "replay window is not in the root"
    );
    assert!(state.apply(&verified(STORE, 1, anchor(1)), &ctx(1)).is_ok());
    assert_ne!(state.root(), after_block, "anchors are in the root");
    let anchored = state.root();
    let tx = verified(PRODUCER, 1, set_active("store", false));
    assert!(state.apply(&tx, &ctx(1)).is_ok());
    assert_ne!(state.root(), anchored, "orgs are in the root");
}

#[test]
fn test_persistence_roundtrip_with_replay_restore() {
    let mut state = genesis();
    let mut window = Vec::new();
    for height in 1..=4u64 {
        state.begin_block(&ctx(height));
        let tx = verified(STORE, height, anchor(height as u8));
        let tx = if height == 2 {
            // This one expires at height 3: pruned by the time the state is saved at 4.
            sign(body(STORE, 99, 3, anchor(99)), STORE)
                .verify()
                .expect("signed")
        } else {
            tx
        };
        state.apply(&tx, &ctx(height)).expect("applies");
        window.push((tx.tx().body.expires_at_height, tx.id()));
    }
    let bytes = state.encode_persistent();
    let mut restored = State::decode_persistent(&bytes).expect("decodes");
    assert_eq!(restored.root(), state.root());
    assert_eq!(restored.replay_len(), 0);
    restored.restore_replay(window);
    assert_eq!(restored, state);
    restored.check_invariants().expect("invariants");

    assert!(matches!(
        State::decode_persistent(&bytes[1..]),
        Err(TxError::Malformed(_))
    ));
    let mut other_version = bytes.clone();
    other_version[0] = 1;
    assert!(matches!(
        State::decode_persistent(&other_version),
        Err(TxError::Malformed(_))
    ));
    let trailing = [bytes.as_slice(), &[0]].concat();
    assert!(matches!(
        State::decode_persistent(&trailing),
        Err(TxError::Malformed(_))
    ));
}

#[test]
#[should_panic(expected = "block heights must increase")]
fn test_begin_block_refuses_going_back() {
    let mut state = genesis();
    state.begin_block(&ctx(2));
    state.begin_block(&ctx(2));
}

#[test]
#[should_panic(expected = "begin_block must run before apply")]
fn test_apply_refuses_a_block_not_begun() {
    let mut state = genesis();
    state.begin_block(&ctx(1));
    let _ = state.apply(&verified(STORE, 1, anchor(1)), &ctx(2));
}
