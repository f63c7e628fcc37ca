use std::collections::BTreeMap;

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;

/// The reference: the root from scratch over sorted leaves, straight from the spec, with its
/// own hashing, sharing no code with the tree.
fn naive_root(leaves: &BTreeMap<Hash, Hash>) -> Hash {
    let leaves: Vec<(Hash, Hash)> = leaves.iter().map(|(k, v)| (*k, *v)).collect();
    naive_subtree(&leaves, 0)
}

fn naive_subtree(leaves: &[(Hash, Hash)], depth: usize) -> Hash {
    let digest = |parts: &[&[u8]]| -> Hash {
        let mut hasher = Sha256::new();
        parts.iter().for_each(|part| hasher.update(part));
        hasher.finalize().into()
    };
    match leaves {
        [] => [0; 32],
        [(key, value)] => digest(&[&[0], key, value]),
        _ => {
            // Sorted keys: those with bit `depth` clear come first.
            let right_at = |(key, _): &(Hash, Hash)| key[depth / 8] & (0x80 >> (depth % 8)) != 0;
            let split = leaves.partition_point(|leaf| !right_at(leaf));
            let (left, right) = leaves.split_at(split);
            digest(&[
                &[1],
                &naive_subtree(left, depth + 1),
                &naive_subtree(right, depth + 1),
            ])
        }
    }
}

/// Checks the canonical shape and the stored length.
fn check_invariants(smt: &Smt) {
    fn walk(node: &Node, depth: usize, path: &Hash) -> usize {
        match node {
            Node::Empty => 0,
            Node::Leaf(leaf) => {
                assert!(
                    common_prefix_bits(&leaf.key, path) >= depth,
                    "leaf off its path"
                );
                1
            }
            Node::Internal(internal) => {
                assert!(depth < KEY_BITS, "internal node below the last level");
                let mut right_path = *path;
                right_path[depth / 8] |= 0x80 >> (depth % 8);
                let left = walk(&internal.left, depth + 1, path);
                let right = walk(&internal.right, depth + 1, &right_path);
                assert!(
                    left + right >= 2,
                    "internal node holding {} leaves",
                    left + right
                );
                assert_eq!(
                    internal.hash,
                    internal_hash(&internal.left.hash(), &internal.right.hash()),
                    "an internal node's hash is out of step with its children"
                );
                left + right
            }
        }
    }
    // `path` holds the bits chosen so far, zeros after; leaves must share its first `depth`.
    assert_eq!(walk(&smt.root, 0, &[0; 32]), smt.len());
}

fn key(first: u8, last: u8) -> Hash {
    let mut key = [0; 32];
    key[0] = first;
    key[31] = last;
    key
}

fn value(tag: u8) -> Hash {
    value_hash(&[tag])
}

fn leaf(k: Hash, tag: u8) -> Hash {
    leaf_hash(&k, &value(tag))
}

fn node(left: Hash, right: Hash) -> Hash {
    internal_hash(&left, &right)
}

#[derive(Debug)]
enum Op {
    Insert(Hash, u8),
    Remove(Hash),
}

/// Two child pointers and a hash: 64 bytes (80 with the `Arc` counts), where a lazily set
/// hash made it 72 (88, allocated as 96).
#[test]
fn test_internal_node_is_64_bytes() {
    assert_eq!(std::mem::size_of::<Internal>(), 64);
    assert_eq!(std::mem::size_of::<Node>(), 16);
}

#[test]
fn test_step_table_updates_follow_compact_rule() {
    let (a, b, c) = (key(0x00, 0), key(0x80, 0), key(0x40, 0));
    let (x, y) = (key(0x00, 0), key(0x00, 1)); // differ only in the last bit
    let deep = |bottom: Hash| (0..255).fold(bottom, |hash, _| node(hash, EMPTY_HASH));
    // (operation, expected return, expected len, expected root)
    let steps: Vec<(Op, Option<Hash>, usize, Hash)> = vec![
        (Op::Remove(a), None, 0, EMPTY_HASH),
        (Op::Insert(a, 1), None, 1, leaf(a, 1)),
        (Op::Insert(b, 2), None, 2, node(leaf(a, 1), leaf(b, 2))),
        (
            Op::Insert(c, 3),
            None,
            3,
            node(node(leaf(a, 1), leaf(c, 3)), leaf(b, 2)),
        ),
        (
            Op::Insert(c, 4),
            Some(value(3)),
            3,
            node(node(leaf(a, 1), leaf(c, 4)), leaf(b, 2)),
        ),
        (
            Op::Insert(c, 4),
            Some(value(4)),
            3,
            node(node(leaf(a, 1), leaf(c, 4)), leaf(b, 2)),
        ),
        (
            Op::Remove(key(0x20, 0)),
            None,
            3,
            node(node(leaf(a, 1), leaf(c, 4)), leaf(b, 2)),
        ),
        // Removing `a` leaves `c` alone under the left child: it is lifted up.
        (
            Op::Remove(a),
            Some(value(1)),
            2,
            node(leaf(c, 4), leaf(b, 2)),
        ),
        (Op::Remove(b), Some(value(2)), 1, leaf(c, 4)),
        (Op::Remove(c), Some(value(4)), 0, EMPTY_HASH),
        (Op::Insert(x, 5), None, 1, leaf(x, 5)),
        (
            Op::Insert(y, 6),
            None,
            2,
            deep(node(leaf(x, 5), leaf(y, 6))),
        ),
        (Op::Remove(x), Some(value(5)), 1, leaf(y, 6)),
    ];
    let mut smt = Smt::new();
    for (step, (op, returned, len, root)) in steps.into_iter().enumerate() {
        let got = match op {
            Op::Insert(k, tag) => smt.insert(k, value(tag)),
            Op::Remove(k) => smt.remove(&k),
        };
        assert_eq!(got, returned, "step {step}: return");
        assert_eq!(smt.len(), len, "step {step}: len");
        assert_eq!(smt.root(), root, "step {step}: root");
        check_invariants(&smt);
    }
}

#[test]
fn test_apply_batch_keeps_last_update_of_a_key() {
    let (a, b) = (key(0x00, 0), key(0x80, 0));
    let mut smt = Smt::new();
    smt.apply_batch([
        (a, Some(value(1))),
        (b, Some(value(2))),
        (a, None),
        (b, Some(value(3))),
    ]);
    assert_eq!(
        (smt.get(&a), smt.get(&b), smt.len()),
        (None, Some(value(3)), 1)
    );
    assert_eq!(smt.root(), leaf(b, 3));
    smt.apply_batch([(b, None), (a, None)]);
    assert_eq!((smt.root(), smt.len()), (EMPTY_HASH, 0));
}

#[test]
fn test_depth_256_split_proves_both_keys() {
    let (x, y) = (key(0x00, 0), key(0x00, 1));
    let mut smt = Smt::new();
    smt.insert(x, value(1));
    smt.insert(y, value(2));
    for (k, tag) in [(x, 1), (y, 2)] {
        let proof = smt.prove(&k);
        assert_eq!(proof.siblings.len(), KEY_BITS);
        assert_eq!(verify(smt.root(), k, Some(value(tag)), &proof), Ok(()));
    }
    let absent = key(0x01, 0);
    assert_eq!(
        verify(smt.root(), absent, None, &smt.prove(&absent)),
        Ok(())
    );
}

fn golden_tree() -> Smt {
    let mut smt = Smt::new();
    for i in 0..8u32 {
        let k = sha256(&[format!("bottle-{i}").as_bytes()]);
        smt.insert(k, value_hash(format!("record-{i}").as_bytes()));
    }
    smt
}

#[test]
fn test_golden_root() {
    // A deliberate format change if this changes: every stored proof and header depends on it.
    // Cross-checked against an independent Python implementation of the module doc's rules.
    assert_eq!(
        hex::encode(golden_tree().root()),
        "561ab2e0fe0f20188d63055e13ae47f509220b957396e060fe77753b1cda5b75"
    );
}

#[test]
fn test_golden_proof_encoding() {
    let smt = golden_tree();
    let proof = smt.prove(&sha256(&[b"bottle-3"]));
    let bytes = borsh::to_vec(&proof).expect("encodes");
    assert_eq!(bytes.len(), 4 + 32 * proof.siblings.len() + 1 + 64);
    // Also a test vector for other verifiers (the phone app): u32 LE count, 5 siblings root
    // down (the third one empty), then 0x01 and the leaf's key and value hash.
    let expected = concat!(
        "05000000",
        "e9be0786944f4e6dec9bb7da6467092b61df02ab4d1e16a019df89ab2bedd1e2",
        "891c6f6329583618932c54f24019ad1bccd51d06dd096184f8b3321c446c72b1",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "807af127ebc6a6eb58dad6bd290081fc09924b8891b2501cd9caeac256d6e37d",
        "56cea8bdb2b1f45bacabadc27d578e97f013444bfe31accca91c6e2d59f082c4",
        "010b9848a7f70193e31762d9c56b194a7a5c8d82c20317dabbef57afb0f2e702",
        "8f22dc2e6404475362e139e594e3486a24676dfe64609fca46511d4149ea9e74",
        "88",
    );
    assert_eq!(hex::encode(&bytes), expected);
    let root = smt.root();
    assert_eq!(
        verify(
            root,
            sha256(&[b"bottle-3"]),
            Some(value_hash(b"record-3")),
            &proof
        ),
        Ok(())
    );
}

#[test]
fn test_proof_roundtrips_borsh() {
    let smt = golden_tree();
    for k in [sha256(&[b"bottle-5"]), sha256(&[b"absent"])] {
        let proof = smt.prove(&k);
        let bytes = borsh::to_vec(&proof).expect("encodes");
        assert_eq!(borsh::from_slice::<Proof>(&bytes).expect("decodes"), proof);
    }
}

/// Deserializes `{"siblings": [..]}` without a JSON crate (serde_json is not a dev-dependency
/// of this crate): serde's own value deserializers stand in for the format.
fn proof_from_hex_siblings(siblings: &[&str]) -> Result<Proof, serde::de::value::Error> {
    use serde::de::value::MapDeserializer;
    let list: Vec<String> = siblings.iter().map(|s| s.to_string()).collect();
    <Proof as Deserialize<'_>>::deserialize(MapDeserializer::new([("siblings", list)].into_iter()))
}

#[test]
fn test_proof_siblings_deserialize_from_hex() {
    let hash = hex::encode([0xab; 32]);
    let proof = proof_from_hex_siblings(&[&hash, &hash]).expect("valid hex hashes");
    assert_eq!(
        proof,
        Proof {
            siblings: vec![[0xab; 32]; 2],
            leaf: None
        }
    );
    assert!(
        proof_from_hex_siblings(&["00ff"]).is_err(),
        "a short hash is rejected"
    );
    assert!(
        proof_from_hex_siblings(&["zz"]).is_err(),
        "bad hex is rejected"
    );
}

#[test]
fn test_empty_tree_proves_absence() {
    let smt = Smt::new();
    let k = key(7, 7);
    let proof = smt.prove(&k);
    assert_eq!(
        proof,
        Proof {
            siblings: vec![],
            leaf: None
        }
    );
    assert_eq!(verify(EMPTY_HASH, k, None, &proof), Ok(()));
    assert_eq!(
        verify(EMPTY_HASH, k, Some(value(1)), &proof),
        Err(ProofError::ProofOfAbsence)
    );
}

#[test]
fn test_verify_rejects_too_many_siblings() {
    let proof = Proof {
        siblings: vec![EMPTY_HASH; KEY_BITS + 1],
        leaf: None,
    };
    let got = verify(EMPTY_HASH, key(0, 0), None, &proof);
    assert_eq!(got, Err(ProofError::TooManySiblings { len: KEY_BITS + 1 }));
}

#[test]
fn test_clone_is_independent_and_shares_hashes() {
    let mut smt = golden_tree();
    let root = smt.root();
    let mut candidate = smt.clone();
    candidate.insert(key(1, 1), value(1));
    candidate.remove(&sha256(&[b"bottle-0"]));
    assert_ne!(candidate.root(), root);
    assert_eq!(smt.root(), root);
    assert_eq!(smt.len(), 8);
    smt.insert(key(2, 2), value(2));
    check_invariants(&smt);
    check_invariants(&candidate);
}

#[test]
fn test_smt_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Smt>();
}

/// Keys that are either uniformly random or clustered (long shared prefixes, down to a
/// difference in the last bit), so deep paths and long empty runs get exercised.
fn arb_key() -> impl Strategy<Value = Hash> {
    prop_oneof![
        any::<[u8; 32]>(),
        (0..4u8, 0..4u8, any::<u8>()).prop_map(|(first, middle, last)| {
            let mut k = [first; 32];
            k[16] = middle;
            k[31] = last;
            k
        }),
    ]
}

fn arb_entries() -> impl Strategy<Value = BTreeMap<Hash, Hash>> {
    prop::collection::btree_map(arb_key(), any::<[u8; 32]>(), 0..48)
}

fn build(entries: impl IntoIterator<Item = (Hash, Hash)>) -> Smt {
    let mut smt = Smt::new();
    for (k, v) in entries {
        smt.insert(k, v);
    }
    smt
}

proptest! {
    /// Leaves in key order build the tree that inserting them gives, which then takes
    /// updates like any other; a key out of order is refused and changes nothing.
    #[test]
    fn test_builder_from_sorted_leaves_matches_inserts(
        entries in arb_entries(),
        update in (arb_key(), any::<[u8; 32]>()),
    ) {
        let mut builder = SmtBuilder::default();
        for (k, v) in &entries {
            prop_assert_eq!(builder.push(*k, *v), Ok(()));
        }
        if let Some((first, _)) = entries.iter().next() {
            prop_assert_eq!(builder.push(*first, [7; 32]), Err(UnsortedKey(*first)));
        }
        let mut built = builder.finish();
        check_invariants(&built);
        prop_assert_eq!(built.len(), entries.len());
        prop_assert_eq!(built.root(), naive_root(&entries));
        let mut inserted = build(entries.clone());
        built.insert(update.0, update.1);
        inserted.insert(update.0, update.1);
        check_invariants(&built);
        prop_assert_eq!(built.root(), inserted.root());
        prop_assert_eq!(built.prove(&update.0), inserted.prove(&update.0));
    }

    #[test]
    fn test_root_matches_reference_and_ignores_order(
        (entries, shuffled) in arb_entries().prop_flat_map(|entries| {
            let list: Vec<(Hash, Hash)> = entries.clone().into_iter().collect();
            (Just(entries), Just(list).prop_shuffle())
        })
    ) {
        let sorted = build(entries.clone());
        let shuffled = build(shuffled);
        check_invariants(&shuffled);
        prop_assert_eq!(sorted.root(), naive_root(&entries));
        prop_assert_eq!(shuffled.root(), sorted.root());
        prop_assert_eq!(shuffled.len(), entries.len());
    }

    #[test]
    fn test_remove_restores_previous_root(
        entries in arb_entries(),
        extra in prop::collection::btree_map(arb_key(), any::<[u8; 32]>(), 1..16),
    ) {
        let mut smt = build(entries.clone());
        let before = smt.root();
        let added: Vec<Hash> = extra.keys().filter(|k| !entries.contains_key(*k)).copied().collect();
        for k in &added {
            smt.insert(*k, extra[k]);
        }
        check_invariants(&smt);
        for k in added.iter().rev() {
            prop_assert_eq!(smt.remove(k), Some(extra[k]));
            check_invariants(&smt);
        }
        prop_assert_eq!(smt.root(), before);
        for k in entries.keys() {
            smt.remove(k);
        }
        prop_assert_eq!(smt.root(), EMPTY_HASH);
        prop_assert!(smt.is_empty());
    }

    #[test]
    fn test_every_proof_verifies(entries in arb_entries(), absent in prop::collection::vec(arb_key(), 8)) {
        let smt = build(entries.clone());
        let root = smt.root();
        for (k, v) in &entries {
            let proof = smt.prove(k);
            prop_assert_eq!(verify(root, *k, Some(*v), &proof), Ok(()));
            prop_assert_eq!(verify(root, *k, None, &proof), Err(ProofError::ProofOfPresence));
        }
        for k in absent.iter().filter(|k| !entries.contains_key(*k)) {
            let proof = smt.prove(k);
            prop_assert_eq!(verify(root, *k, None, &proof), Ok(()));
            prop_assert_eq!(verify(root, *k, Some([0; 32]), &proof), Err(ProofError::ProofOfAbsence));
        }
    }

    #[test]
    fn test_tampered_proof_fails(
        entries in arb_entries(),
        probe in arb_key(),
        flip in any::<prop::sample::Index>(),
        bit_index in 0..256usize,
    ) {
        let smt = build(entries.clone());
        let root = smt.root();
        let expected = entries.get(&probe).copied();
        let proof = smt.prove(&probe);
        prop_assert_eq!(verify(root, probe, expected, &proof), Ok(()));

        // A wrong root.
        let mut bad_root = root;
        bad_root[bit_index / 8] ^= 0x80 >> (bit_index % 8);
        prop_assert_eq!(verify(bad_root, probe, expected, &proof), Err(ProofError::RootMismatch));

        // A flipped bit in one sibling.
        if !proof.siblings.is_empty() {
            let mut bad = proof.clone();
            let i = flip.index(bad.siblings.len());
            bad.siblings[i][bit_index / 8] ^= 0x80 >> (bit_index % 8);
            prop_assert_eq!(verify(root, probe, expected, &bad), Err(ProofError::RootMismatch));
        }

        // A sibling dropped from, or an empty one added to, the bottom.
        let mut shorter = proof.clone();
        if shorter.siblings.pop().is_some() {
            prop_assert_eq!(verify(root, probe, expected, &shorter), Err(ProofError::RootMismatch));
        }
        let mut longer = proof.clone();
        longer.siblings.push(EMPTY_HASH);
        let got = verify(root, probe, expected, &longer);
        prop_assert!(
            matches!(got, Err(ProofError::RootMismatch | ProofError::LeafNotOnPath | ProofError::TooManySiblings { .. })),
            "{:?}", got
        );

        match expected {
            Some(v) => {
                // A wrong value, claimed or shown.
                let mut other = v;
                other[0] ^= 1;
                prop_assert_eq!(verify(root, probe, Some(other), &proof), Err(ProofError::ValueMismatch));
                let mut bad = proof.clone();
                if let Some(leaf) = bad.leaf.as_mut() {
                    leaf.value_hash = other;
                }
                prop_assert_eq!(verify(root, probe, Some(other), &bad), Err(ProofError::RootMismatch));
                // The leaf hidden to pass the key off as absent.
                let hidden = Proof { leaf: None, ..proof.clone() };
                prop_assert_eq!(verify(root, probe, None, &hidden), Err(ProofError::RootMismatch));
            }
            None => {
                // Someone else's leaf claimed to be on the path.
                if let Some((k, v)) = entries.iter().find(|(k, _)| common_prefix_bits(k, &probe) < proof.siblings.len()) {
                    let bad = Proof { leaf: Some(ProofLeaf { key: *k, value_hash: *v }), ..proof.clone() };
                    prop_assert_eq!(verify(root, probe, None, &bad), Err(ProofError::LeafNotOnPath));
                }
                // The probe's own leaf forged in place of what is there.
                let forged = Proof { leaf: Some(ProofLeaf { key: probe, value_hash: [0; 32] }), ..proof.clone() };
                prop_assert_eq!(verify(root, probe, Some([0; 32]), &forged), Err(ProofError::RootMismatch));
            }
        }
    }
}

/// Batches of stores and deletes over a small key pool, so deletes and overwrites happen.
fn arb_batches() -> impl Strategy<Value = Vec<Vec<(Hash, Option<Hash>)>>> {
    let pool = prop::collection::vec(arb_key(), 1..24);
    pool.prop_flat_map(|pool| {
        let update = (
            prop::sample::select(pool),
            prop::option::weighted(0.7, any::<[u8; 32]>()),
        );
        prop::collection::vec(prop::collection::vec(update, 0..24), 1..6)
    })
}

proptest! {
    #[test]
    fn test_apply_batch_matches_one_by_one(batches in arb_batches()) {
        let mut batched = Smt::new();
        let mut one_by_one = Smt::new();
        let mut reference = BTreeMap::new();
        for batch in batches {
            let before = batched.clone();
            let before_root = before.root();
            batched.apply_batch(batch.clone());
            for (k, v) in batch {
                match v {
                    Some(v) => {
                        one_by_one.insert(k, v);
                        reference.insert(k, v);
                    }
                    None => {
                        one_by_one.remove(&k);
                        reference.remove(&k);
                    }
                }
            }
            check_invariants(&batched);
            prop_assert_eq!(batched.len(), reference.len());
            prop_assert_eq!(batched.root(), naive_root(&reference));
            prop_assert_eq!(batched.root(), one_by_one.root());
            prop_assert_eq!(before.root(), before_root, "a clone is untouched by the batch");
        }
    }
}
