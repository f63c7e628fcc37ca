//! The committed example devnet genesis: regenerated, loaded and pinned by its hash.
//!
//! The example and its hash are a golden test: if either changes, the genesis format (or the
//! serialization of a type inside it) changed, and every existing chain's identity with it.
//! Regenerate deliberately with `JIU_BLESS=1 cargo test -p jiu-genesis --test example`, then
//! update `EXAMPLE_HASH` by hand.

use std::path::PathBuf;

use jiu_genesis::devnet::devnet;
use jiu_genesis::Genesis;

/// The hash of `examples/devnet-genesis.json`. Changing it is a deliberate format change.
const EXAMPLE_HASH: &str = "5e4e36e1cef14619e80619b090ef73a8f3aa232b295573f6049d7b9868fc225f";

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/devnet-genesis.json")
}

fn example() -> Genesis {
    devnet("jiu-devnet", 4, 27000, Some([0u8; 32])).genesis
}

#[test]
fn test_example_file_matches_devnet() {
    let path = example_path();
    if std::env::var_os("JIU_BLESS").is_some() {
        example().save(&path).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let regenerated = dir.path().join("devnet-genesis.json");
    example().save(&regenerated).unwrap();
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&regenerated).unwrap(),
        committed,
        "examples/devnet-genesis.json is stale; see this file's header"
    );
}

#[test]
fn test_golden_example_hash() {
    let genesis = Genesis::load(&example_path()).unwrap();
    assert_eq!(genesis.hash_hex(), EXAMPLE_HASH);
    assert_eq!(example().hash_hex(), EXAMPLE_HASH);
}

#[test]
fn test_example_loads_and_validates() {
    let genesis = Genesis::load(&example_path()).unwrap();
    genesis.validate().unwrap();
    assert_eq!(genesis.chain_id, "jiu-devnet");
    assert_eq!(genesis.validators.len(), 4);
    assert_eq!(genesis.total_power(), 4);
    assert_eq!(genesis.initial_orgs().len(), 4);
    assert!(genesis.initial_orgs().iter().all(|org| org.active));
}

#[test]
fn test_hash_survives_load_save_load() {
    let dir = tempfile::tempdir().unwrap();
    let first = Genesis::load(&example_path()).unwrap();
    let copy = dir.path().join("copy.json");
    first.save(&copy).unwrap();
    let second = Genesis::load(&copy).unwrap();
    assert_eq!(second, first);
    assert_eq!(second.hash(), first.hash());
    assert_eq!(second.canonical_bytes(), first.canonical_bytes());

    // Formatting is not part of the identity: compact and reindented text hash the same.
    let compact = String::from_utf8(first.canonical_bytes()).unwrap();
    assert_eq!(Genesis::from_json(&compact).unwrap().hash(), first.hash());
    let reindented = std::fs::read_to_string(example_path())
        .unwrap()
        .replace("  ", "\t");
    assert_eq!(
        Genesis::from_json(&reindented).unwrap().hash(),
        first.hash()
    );
}
