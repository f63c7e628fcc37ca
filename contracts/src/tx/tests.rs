use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use super::*;
use crate::testkit::{self, anchor, public_key, sign, signed, CHAIN, PRODUCER, STORE};

mod forged;

fn golden_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn golden_body(payload: Payload) -> TxBody {
    TxBody {
        chain_id: "jiu-devnet".to_string(),
        signer: PublicKey::from_signing_key(&golden_key()),
        nonce: 42,
        expires_at_height: 1_000,
        payload,
    }
}

/// Changing any of these strings is a wire format change: old signatures stop verifying.
#[test]
fn test_signing_bytes_golden() {
    let anchor = golden_body(Payload::Anchor {
        record_hash: sha256(&[b"bottle-0001"]),
        data: b"lot 7".to_vec(),
    });
    assert_eq!(hex::encode(anchor.signing_bytes()), "6a69752f74782f7631000a0000006a69752d6465766e6574ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c2a00000000000000e80300000000000004b924f16c6db29359c3fff64fc7c9d9e951c869b42938b73fb35b6cc647f2637c050000006c6f742037");
    assert_eq!(
        hex::encode(anchor.id()),
        "cef53bc90a6b9ca09c7f670c4e6c113881cc141a3e5d30bca6704180f782c0b0"
    );
    let signed = SignedTx::sign(anchor, &golden_key());
    assert_eq!(hex::encode(signed.signature), "35a4a6faef3107355f96821744ced54768c0d4c0456800e58f7571e66bb00e32d33d25453cbd1a813a16165a17e100940d6f269b3bbe560c76f0513748ad0204");

    let register = golden_body(Payload::RegisterOrg {
        id: "maotai".to_string(),
        name: "Kweichow Moutai".to_string(),
        role: Role::Distributor,
        keys: vec![PublicKey::from_signing_key(&golden_key())],
    });
    assert_eq!(hex::encode(register.signing_bytes()), "6a69752f74782f7631000a0000006a69752d6465766e6574ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c2a00000000000000e80300000000000000060000006d616f7461690f0000004b77656963686f77204d6f757461690101000000ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c");
}

#[test]
fn test_signing_bytes_start_with_domain() {
    let bytes = golden_body(anchor(1)).signing_bytes();
    assert!(bytes.starts_with(TX_DOMAIN));
    assert_eq!(TX_DOMAIN, b"jiu/tx/v1\0");
}

#[test]
fn test_id_is_independent_of_signature() {
    let tx = signed(PRODUCER, 1, anchor(1));
    // ed25519 signing is deterministic: re-signing gives the same tx and id.
    assert_eq!(tx, signed(PRODUCER, 1, anchor(1)));
    let mut other = tx.clone();
    other.signature[0] ^= 1;
    assert_eq!(other.id(), tx.id());
    assert_eq!(tx.id(), tx.body.id());
    assert_eq!(tx.id(), sha256(&[&tx.body.signing_bytes()]));
    assert_ne!(
        tx.id(),
        signed(PRODUCER, 2, anchor(1)).id(),
        "the nonce changes the id"
    );
}

#[test]
fn test_verify_accepts_a_good_signature_and_computes_the_id() {
    let tx = signed(STORE, 7, anchor(3));
    let verified = tx.clone().verify().expect("good signature");
    assert_eq!(verified.id(), tx.id());
    assert_eq!(verified.tx(), &tx);
    assert_eq!(verified.into_inner(), tx);
}

#[test]
fn test_verify_refuses_tampering() {
    let good = signed(STORE, 7, anchor(3));
    let mut flipped_signature = good.clone();
    flipped_signature.signature[10] ^= 0x40;
    let mut changed_body = good.clone();
    changed_body.body.nonce += 1;
    let mut other_signer = good.clone();
    other_signer.body.signer = public_key(PRODUCER);
    let mut not_a_point = good.clone();
    not_a_point.body.signer = PublicKey([0xff; 32]);
    let mut s_not_canonical = good.clone();
    s_not_canonical.signature[63] |= 0xf0;
    let signed_by_other_key = sign(good.body.clone(), PRODUCER);
    for bad in [
        flipped_signature,
        changed_body,
        other_signer,
        not_a_point,
        s_not_canonical,
        signed_by_other_key,
    ] {
        assert_eq!(bad.verify(), Err(TxError::BadSignature));
    }
}

#[test]
fn test_decode_roundtrip_and_refusals() {
    let tx = signed(STORE, 7, anchor(3));
    let bytes = tx.encode();
    assert_eq!(SignedTx::decode(&bytes), Ok(tx));

    let trailing = [bytes.as_slice(), &[0]].concat();
    assert!(matches!(
        SignedTx::decode(&trailing),
        Err(TxError::Malformed(_))
    ));
    let truncated = &bytes[..bytes.len() - 1];
    assert!(matches!(
        SignedTx::decode(truncated),
        Err(TxError::Malformed(_))
    ));
    assert!(matches!(SignedTx::decode(&[]), Err(TxError::Malformed(_))));
}

#[test]
fn test_decode_size_limit_is_checked_before_decoding() {
    // A valid tx of exactly TX_BYTES_MAX bytes decodes (the anchor data limit is a
    // stateless check, not a codec one) ...
    let mut tx = signed(
        STORE,
        7,
        Payload::Anchor {
            record_hash: [0; 32],
            data: vec![],
        },
    );
    let overhead = tx.encode().len();
    tx.body.payload = Payload::Anchor {
        record_hash: [0; 32],
        data: vec![1; TX_BYTES_MAX - overhead],
    };
    let bytes = tx.encode();
    assert_eq!(bytes.len(), TX_BYTES_MAX);
    assert_eq!(SignedTx::decode(&bytes), Ok(tx));
    // ... one byte more is Oversized, even though the bytes are junk that would not decode.
    let junk = vec![0xff; TX_BYTES_MAX + 1];
    assert_eq!(
        SignedTx::decode(&junk),
        Err(TxError::Oversized {
            bytes: TX_BYTES_MAX + 1,
            max: TX_BYTES_MAX
        })
    );
}

fn register(id: &str, name: &str, keys: Vec<PublicKey>) -> Payload {
    Payload::RegisterOrg {
        id: id.to_string(),
        name: name.to_string(),
        role: Role::Store,
        keys,
    }
}

#[test]
fn test_check_stateless_table() {
    let k = |seed| public_key(seed);
    let small_order = PublicKey(forged::IDENTITY);
    let mixed_order = forged::mixed_order_key(testkit::FREE);
    let non_canonical = PublicKey(forged::IDENTITY_NON_CANONICAL);
    let ok = Ok(());
    let invalid = |why: &'static str| -> Result<(), &'static str> { Err(why) };
    #[rustfmt::skip]
    let table: Vec<(&str, Payload, Result<(), &str>)> = vec![
        ("register ok", register("a-z_0.9", "Name", vec![k(11), k(12)]), ok),
        ("keys in any order", register("shop", "", vec![k(12), k(11)]), ok),
        ("id of 64 chars", register(&"a".repeat(64), "n", vec![k(11)]), ok),
        ("id of 65 chars", register(&"a".repeat(65), "n", vec![k(11)]), invalid("id")),
        ("empty id", register("", "n", vec![k(11)]), invalid("id")),
        ("upper case id", register("Shop", "n", vec![k(11)]), invalid("id")),
        ("id with space", register("a shop", "n", vec![k(11)]), invalid("id")),
        ("non-ascii id", register("caf\u{e9}", "n", vec![k(11)]), invalid("id")),
        ("name of 128 bytes", register("shop", &"x".repeat(128), vec![k(11)]), ok),
        ("name of 129 bytes", register("shop", &"x".repeat(129), vec![k(11)]), invalid("name")),
        ("no keys", register("shop", "n", vec![]), invalid("keys")),
        ("16 keys", register("shop", "n", (11..27).map(k).collect()), ok),
        ("17 keys", register("shop", "n", (11..28).map(k).collect()), invalid("keys")),
        ("duplicate key", register("shop", "n", vec![k(11), k(12), k(11)]), invalid("dup")),
        ("key not a point", register("shop", "n", vec![PublicKey([0xff; 32])]), invalid("point")),
        ("small-order key", register("shop", "n", vec![small_order]), invalid("point")),
        ("mixed-order key", register("shop", "n", vec![mixed_order]), invalid("point")),
        ("non-canonical key", register("shop", "n", vec![non_canonical]), invalid("point")),
        ("add key ok", Payload::AddOrgKey { org_id: "shop".into(), key: k(11) }, ok),
        ("add bad key", Payload::AddOrgKey { org_id: "shop".into(), key: small_order }, invalid("point")),
        ("add to bad id", Payload::AddOrgKey { org_id: "".into(), key: k(11) }, invalid("id")),
        ("remove any key", Payload::RemoveOrgKey { org_id: "shop".into(), key: small_order }, ok),
        ("remove from bad id", Payload::RemoveOrgKey { org_id: "S".into(), key: k(11) }, invalid("id")),
        ("set active ok", Payload::SetOrgActive { org_id: "shop".into(), active: false }, ok),
        ("set active bad id", Payload::SetOrgActive { org_id: "/".into(), active: true }, invalid("id")),
        ("anchor max data", Payload::Anchor { record_hash: [1; 32], data: vec![0; ANCHOR_DATA_BYTES_MAX] }, ok),
        ("anchor too much data", Payload::Anchor { record_hash: [1; 32], data: vec![0; ANCHOR_DATA_BYTES_MAX + 1] }, invalid("data")),
    ];
    for (case, payload, expected) in table {
        let tx = signed(PRODUCER, 1, payload);
        let got = check_stateless(&tx, CHAIN);
        match expected {
            Ok(()) => assert_eq!(got, Ok(()), "{case}"),
            Err(_) => assert!(
                matches!(got, Err(TxError::InvalidPayload(_))),
                "{case}: {got:?}"
            ),
        }
    }
}

#[test]
fn test_check_stateless_refuses_wrong_chain_id() {
    let tx = signed(PRODUCER, 1, anchor(1));
    assert_eq!(
        check_stateless(&tx, "jiu-mainnet"),
        Err(TxError::WrongChainId {
            expected: "jiu-mainnet".into(),
            got: CHAIN.into()
        })
    );
}

#[test]
fn test_verify_batch_matches_single_verification() {
    assert_eq!(verify_batch(vec![]), Ok(vec![]));
    let txs: Vec<SignedTx> = (0..20u64)
        .map(|n| signed(PRODUCER + (n % 4) as u8, n, anchor(n as u8)))
        .collect();
    let single: Vec<VerifiedTx> = txs
        .iter()
        .map(|tx| tx.clone().verify().expect("valid"))
        .collect();
    assert_eq!(verify_batch(txs.clone()), Ok(single));

    let mut bad = txs.clone();
    bad[13].signature[0] ^= 1;
    bad[5].body.nonce += 100;
    bad[17].body.signer = PublicKey([0xff; 32]);
    assert_eq!(
        verify_batch(bad),
        Err((5, TxError::BadSignature)),
        "first bad index wins"
    );
}

fn payload_strategy() -> impl Strategy<Value = Payload> {
    let key = any::<[u8; 32]>().prop_map(PublicKey);
    let text = "[a-z0-9._-]{0,70}";
    prop_oneof![
        (
            text,
            ".{0,40}",
            0..4usize,
            proptest::collection::vec(key.clone(), 0..5)
        )
            .prop_map(|(id, name, role, keys)| Payload::RegisterOrg {
                id,
                name,
                role: Role::ALL[role],
                keys
            }),
        (text, key.clone()).prop_map(|(org_id, key)| Payload::AddOrgKey { org_id, key }),
        (text, key).prop_map(|(org_id, key)| Payload::RemoveOrgKey { org_id, key }),
        (text, any::<bool>()).prop_map(|(org_id, active)| Payload::SetOrgActive { org_id, active }),
        (
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..2000)
        )
            .prop_map(|(record_hash, data)| Payload::Anchor { record_hash, data }),
    ]
}

prop_compose! {
    fn signed_tx_strategy()(
        chain_id in ".{0,20}",
        signer in any::<[u8; 32]>(),
        nonce in any::<u64>(),
        expires_at_height in any::<u64>(),
        payload in payload_strategy(),
        signature_low in any::<[u8; 32]>(),
        signature_high in any::<[u8; 32]>(),
    ) -> SignedTx {
        let mut signature = [0; 64];
        signature[..32].copy_from_slice(&signature_low);
        signature[32..].copy_from_slice(&signature_high);
        let signer = PublicKey(signer);
        let body = TxBody { chain_id, signer, nonce, expires_at_height, payload };
        SignedTx { body, signature }
    }
}

proptest! {
    #[test]
    fn test_signed_tx_borsh_roundtrip(tx in signed_tx_strategy()) {
        let bytes = tx.encode();
        prop_assert_eq!(SignedTx::decode(&bytes), Ok(tx.clone()));
        prop_assert_eq!(tx.id(), SignedTx::decode(&bytes).map(|t| t.id()).expect("decodes"));
    }

    #[test]
    fn test_decode_of_random_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        // Whatever decodes re-encodes to the same bytes: one tx, one encoding, one id.
        if let Ok(tx) = SignedTx::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
        }
    }

    #[test]
    fn test_decode_of_mutated_tx_never_panics(
        tx in signed_tx_strategy(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = tx.encode();
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(decoded) = SignedTx::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
            let _ = check_stateless(&decoded, CHAIN);
            let _ = decoded.verify();
        }
    }
}
