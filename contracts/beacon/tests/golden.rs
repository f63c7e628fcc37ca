//! Golden tests: the seed message bytes, and a deterministic ceremony's group key, signature
//! and seed. A change here is a format change (or a change in how the pinned commonware
//! version draws its randomness): every verifier and genesis with it.
//!
//! `tests/vectors/beacon.json` holds the same values for other implementations (a Python
//! verifier). Regenerate deliberately with
//! `JIU_BLESS=1 cargo test -p jiu-beacon --test golden`, then update the constants by hand.

mod common;

use std::path::PathBuf;

use common::message;
use jiu_beacon::sign::SEED_SIGNATURE_DST;
use jiu_beacon::{
    combine, partial_sign, run_local_ceremony, seed_from_signature, verify, PartialSignature,
};
use rand_chacha_10::ChaCha20Rng;
use rand_core_10::SeedableRng;
use serde_json::json;

/// `message()`: tag, length 10, "jiu-devnet", lottery 42, three filled hashes.
const SEED_MESSAGE_HEX: &str = concat!(
    "6d746c2f736565642d6d73672f7631", // "mtl/seed-msg/v1"
    "0a",                             // chain id length
    "6a69752d6465766e6574",           // "jiu-devnet"
    "000000000000002a",               // lottery id 42
    "1111111111111111111111111111111111111111111111111111111111111111", // rules hash
    "2222222222222222222222222222222222222222222222222222222222222222", // entries root
    "3333333333333333333333333333333333333333333333333333333333333333", // status root
);
/// Group key of `run_local_ceremony(4, 3, ChaCha20Rng::from_seed([0; 32]))`.
const GROUP_KEY_HEX: &str =
    "995cadac6fef2c6b62911966d2060846d40b8cbb0b81f1587b9c9c106ac1dbd822f343ce9e0d3dd8519b94a27b3a0d95154c538480c406391dbc283db72f6e3c8ea87a5768c5f0bccf13868a3f6094a5103eaf3e94f165b93581a9050580c785";
/// Its threshold signature on `message()`, and the seed.
const SIGNATURE_HEX: &str =
    "a716bb951d2da6bb7735db469f8367b72a253e1bf520e3f907a9277cc141b9c6b819ae38f9a50697b0f2c817e81d032b";
const SEED_HEX: &str = "0b3391c02d27618da20a1d8cfc172c8dd0391dc93770eb37a29b3fb7805b1086";

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/beacon.json")
}

fn vectors() -> serde_json::Value {
    let message = message();
    let local = run_local_ceremony(4, 3, &mut ChaCha20Rng::from_seed([0; 32])).unwrap();
    let public = &local.output.public;
    let partials: Vec<PartialSignature> = local
        .shares
        .iter()
        .map(|share| partial_sign(share, &message))
        .collect();
    let signature = combine(public, &message, &partials).unwrap();
    verify(public.group_key(), &message, &signature).unwrap();
    json!({
        "about": "jiu-beacon test vectors; regenerate with JIU_BLESS=1 cargo test -p jiu-beacon --test golden",
        "scheme": "BLS12-381 min-sig: group key and share keys on G2 (96 B), signatures on G1 (48 B), compressed",
        "hash_to_curve": "RFC 9380 BLS12381G1_XMD:SHA-256_SSWU_RO_ over the seed message bytes",
        "dst": String::from_utf8(SEED_SIGNATURE_DST.to_vec()).unwrap(),
        "seed_message": message,
        "seed_message_hex": hex::encode(message.to_bytes()),
        "group_public": public,
        "partials": partials,
        "signature": hex::encode(signature.to_bytes()),
        "seed": hex::encode(seed_from_signature(&signature)),
    })
}

#[test]
fn test_golden_seed_message_bytes() {
    assert_eq!(hex::encode(message().to_bytes()), SEED_MESSAGE_HEX);
}

#[test]
fn test_golden_ceremony_signature_and_seed() {
    let vectors = vectors();
    if std::env::var_os("JIU_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&vectors).unwrap() + "\n";
        std::fs::write(vectors_path(), text).unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    assert_eq!(
        vectors, committed,
        "tests/vectors/beacon.json is stale; see this file's header"
    );
    assert_eq!(vectors["group_public"]["group_key"], GROUP_KEY_HEX);
    assert_eq!(vectors["signature"], SIGNATURE_HEX);
    assert_eq!(vectors["seed"], SEED_HEX);
}
