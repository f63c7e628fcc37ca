//! Product master data: the registry claims a GTIN's brand, its entries are leaves of the
//! state root, and a proof ties name, volume and ABV to a root.

use super::*;
use crate::gs1::{parse_code, Gtin, Sgtin};
use crate::product::{verify_product, ProductProofError};
use crate::provenance::Op;
use crate::testkit::*;
use crate::tx::Payload;

const GTIN: &str = "09506000134352";
const RIVAL: u8 = FREE;

fn gtin() -> Gtin {
    Gtin::parse(GTIN).expect("gtin")
}

fn set_product(name: &str, volume_ml: u32, abv_bp: u16) -> Payload {
    Payload::SetProduct {
        gtin: gtin(),
        name: name.into(),
        volume_ml,
        abv_bp,
    }
}

fn bottle(n: u64) -> Sgtin {
    match parse_code(&format!("(01){GTIN}(21)P{n:06}")) {
        Ok(crate::gs1::Code::Item(sgtin)) => sgtin,
        other => panic!("test code: {other:?}"),
    }
}

fn commission(n: u64) -> Payload {
    Payload::Provenance {
        ops: vec![Op::Commission {
            items: vec![bottle(n)],
            lot: None,
        }],
    }
}

fn apply(state: &mut State, signer: u8, nonce: u64, payload: Payload) -> Result<Receipt, TxError> {
    let at = ctx(state.height().max(1));
    if state.height() == 0 {
        state.begin_block(&at);
    }
    admit(state, &signed(signer, nonce, payload).encode(), &at)
}

/// The genesis consortium plus a second producer org, `rival`.
fn with_rival() -> State {
    let mut state = genesis();
    let register = Payload::RegisterOrg {
        id: "rival".into(),
        name: "Rival Distillery".into(),
        role: Role::Producer,
        keys: vec![public_key(RIVAL)],
    };
    apply(&mut state, PRODUCER, 1, register).expect("register rival");
    state
}

#[test]
fn test_registering_a_product_claims_its_gtin() {
    let mut state = with_rival();
    let before = state.root();
    // Before anyone registers the GTIN, any producer may commission under it.
    apply(&mut state, RIVAL, 2, commission(1)).expect("open GTIN");
    let receipt = apply(
        &mut state,
        PRODUCER,
        3,
        set_product("Demo Baijiu", 500, 5300),
    )
    .expect("register");
    assert!(matches!(
        &receipt.events[..],
        [Event::ProductSet { org_id, gtin: g }] if org_id == "producer" && *g == gtin()
    ));
    let product = state.product(&gtin()).expect("registered").clone();
    assert_eq!(
        (
            product.brand_owner.as_str(),
            product.name.as_str(),
            product.volume_ml,
            product.abv_bp
        ),
        ("producer", "Demo Baijiu", 500, 5300)
    );
    assert_ne!(state.root(), before, "the product is in the root");
    // Now only the brand owner may commission under it, or amend it.
    let refused = apply(&mut state, RIVAL, 4, commission(2)).expect_err("claimed GTIN");
    assert_eq!(refused.code(), "NOT_BRAND_OWNER");
    apply(&mut state, PRODUCER, 5, commission(3)).expect("the owner commissions");
    let unchanged = state.root();
    let refused = apply(&mut state, RIVAL, 6, set_product("Fake", 500, 5300)).expect_err("owned");
    assert_eq!(refused.code(), "PRODUCT_OWNED");
    assert_eq!(state.root(), unchanged, "a refusal changes nothing");
    // Only producers register; fields are checked before any state is read.
    let refused = apply(&mut state, DISTRIBUTOR, 7, set_product("X", 500, 100)).expect_err("role");
    assert_eq!(refused.code(), "UNAUTHORIZED");
    for bad in [
        set_product("", 500, 5300),
        set_product(&"n".repeat(81), 500, 5300),
        set_product("Tab\there", 500, 5300),
        set_product("Demo", 0, 5300),
        set_product("Demo", 100_001, 5300),
        set_product("Demo", 500, 10_001),
    ] {
        let refused = apply(&mut state, PRODUCER, 8, bad).expect_err("bad fields");
        assert_eq!(refused.code(), "INVALID_PAYLOAD");
    }
    assert_eq!(state.root(), unchanged);
    // The owner amends its entry.
    apply(
        &mut state,
        PRODUCER,
        9,
        set_product("Demo Baijiu 2026", 500, 5200),
    )
    .expect("amend");
    assert_eq!(state.product(&gtin()).map(|p| p.abv_bp), Some(5200));
    state.check_invariants().expect("invariants");
}

#[test]
fn test_product_proof_verifies_and_names_tampering() {
    let mut state = with_rival();
    apply(
        &mut state,
        PRODUCER,
        2,
        set_product("Demo Baijiu", 500, 5300),
    )
    .expect("register");
    let other = Payload::SetProduct {
        gtin: Gtin::parse("09506000134369").expect("gtin"),
        name: "Rival Rum".into(),
        volume_ml: 700,
        abv_bp: 4000,
    };
    apply(&mut state, RIVAL, 3, other).expect("register another");
    let root = state.root();
    let leaves = state.proof_leaves();
    for product in state.products() {
        let proof = state.prove_product(&product.gtin).expect("proof");
        verify_product(&root, product, &proof).expect("verifies");
        assert_eq!(
            state.prove_product_in(&product.gtin, &leaves),
            Some(proof),
            "made from leaves made once"
        );
    }
    let product = state.product(&gtin()).expect("registered").clone();
    let proof = state.prove_product(&gtin()).expect("proof");
    let mut tampered = product.clone();
    tampered.abv_bp = 4000;
    assert_eq!(
        verify_product(&root, &tampered, &proof).map_err(|e| e.code()),
        Err(ProductProofError::StateRoot.code())
    );
    let mut moved = proof.clone();
    moved.state_leaf_index += 1;
    assert!(verify_product(&root, &product, &moved).is_err());
    let mut wrong_root = root;
    wrong_root[0] ^= 1;
    assert!(verify_product(&wrong_root, &product, &proof).is_err());
    assert!(state
        .prove_product(&Gtin::parse("09506000134376").expect("gtin"))
        .is_none());
    // The registry survives a restart, root and all.
    let restored = State::decode_persistent(&state.encode_persistent()).expect("decode");
    assert_eq!(restored.root(), root);
    assert_eq!(restored.product(&gtin()), Some(&product));
}

/// A product of `gtin` (any valid GTIN-14) registered by the producer.
fn set_product_of(gtin: &str) -> Payload {
    Payload::SetProduct {
        gtin: Gtin::parse(gtin).expect("test gtin"),
        name: format!("Product {gtin}"),
        volume_ml: 700,
        abv_bp: 4300,
    }
}

#[test]
fn test_product_absence_proof_encloses_the_gtin_and_names_tampering() {
    use crate::product::verify_product_absence;
    // GTINs with valid check digits, in increasing order.
    let [low, a, mid, b, high] = [
        "00000000000017",
        "09506000134352",
        "09506000134369",
        "09506000134376",
        "99999999999997",
    ]
    .map(|g| Gtin::parse(g).expect("test gtin"));
    let mut state = genesis();
    // No products: the last org's leaf and the anchors' enclose every GTIN.
    let leaves = state.proof_leaves();
    let proof = state
        .prove_product_absence_in(&mid, &leaves)
        .expect("absent");
    assert!(proof.before.leaf_bytes.starts_with(b"org\0"));
    assert!(proof.after.leaf_bytes.starts_with(b"anchors\0"));
    verify_product_absence(&state.root(), &mid, &proof).expect("no products");

    apply(&mut state, PRODUCER, 1, set_product_of(&a.to_string())).expect("a");
    apply(&mut state, PRODUCER, 2, set_product_of(&b.to_string())).expect("b");
    let root = state.root();
    let leaves = state.proof_leaves();
    // Registered GTINs have no absence proof.
    assert!(state.prove_product_absence_in(&a, &leaves).is_none());
    assert!(state.prove_product_absence_in(&b, &leaves).is_none());
    let mut proofs = Vec::new();
    for (gtin, before, after) in [
        (low, &b"org\0"[..], &b"product\0"[..]),
        (mid, b"product\0", b"product\0"),
        (high, b"product\0", b"anchors\0"),
    ] {
        let proof = state
            .prove_product_absence_in(&gtin, &leaves)
            .expect("absent");
        assert!(proof.before.leaf_bytes.starts_with(before), "{gtin}");
        assert!(proof.after.leaf_bytes.starts_with(after), "{gtin}");
        verify_product_absence(&root, &gtin, &proof).expect("proves the absence");
        // Nor does a proof of one place say anything of a registered GTIN beside it.
        for registered in [a, b] {
            assert!(matches!(
                verify_product_absence(&root, &registered, &proof),
                Err(ProductProofError::NotEnclosed(_))
            ));
        }
        proofs.push(proof);
    }

    // Tampered copies fail, each with its reason.
    let proof = &proofs[1];
    let mut altered = proof.clone();
    altered.after.leaf_bytes[10] ^= 1;
    assert_eq!(
        verify_product_absence(&root, &mid, &altered),
        Err(ProductProofError::NeighbourRoot("second"))
    );
    // Two real leaves that are not neighbours: the first product and the anchors.
    let mut gap = proofs[0].clone();
    gap.before = proof.before.clone();
    gap.after = proofs[2].after.clone();
    assert!(matches!(
        verify_product_absence(&root, &mid, &gap),
        Err(ProductProofError::NotEnclosed(_))
    ));
    // The same leaves swapped.
    let swapped = crate::product::ProductAbsenceProof {
        before: proof.after.clone(),
        after: proof.before.clone(),
        ..proof.clone()
    };
    assert!(verify_product_absence(&root, &mid, &swapped).is_err());
    // Another root (a later state) does not take it.
    apply(&mut state, PRODUCER, 3, set_product_of(&mid.to_string())).expect("mid");
    assert!(state
        .prove_product_absence_in(&mid, &state.proof_leaves())
        .is_none());
    assert_eq!(
        verify_product_absence(&state.root(), &mid, proof),
        Err(ProductProofError::NeighbourRoot("first"))
    );
}
