//! Threshold signing over a real ceremony's shares: uniqueness across subsets, refusals.

mod common;

use common::{message, rng};
use jiu_beacon::{
    combine, partial_sign, run_local_ceremony, seed_from_signature, threshold, verified_seed,
    verify, verify_partial, GroupPublic, LocalCeremony, PartialSignature, SecretShare, SeedMessage,
    Signature,
};
use jiu_types::sha256;

fn ceremony(n: u32, seed: u8) -> LocalCeremony {
    run_local_ceremony(n, threshold(n), &mut rng(seed)).unwrap()
}

fn partials(shares: &[SecretShare], message: &SeedMessage) -> Vec<PartialSignature> {
    shares.iter().map(|s| partial_sign(s, message)).collect()
}

/// Every subset of `0..n` with exactly `k` members, as index lists.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
        .collect()
}

fn pick(all: &[PartialSignature], subset: &[usize]) -> Vec<PartialSignature> {
    subset.iter().map(|&i| all[i]).collect()
}

fn every_quorum_gives_one_signature(n: u32) {
    let local = ceremony(n, n as u8);
    let public = &local.output.public;
    let t = public.threshold() as usize;
    let message = message();
    let all = partials(&local.shares, &message);
    let reference = combine(public, &message, &pick(&all, &(0..t).collect::<Vec<_>>())).unwrap();
    verify(public.group_key(), &message, &reference).unwrap();
    let seed = seed_from_signature(&reference);
    let mut combinations = 0;
    for k in t..=n as usize {
        for subset in subsets(n as usize, k) {
            let mut chosen = pick(&all, &subset);
            chosen.reverse(); // order of arrival does not matter either
            let signature = combine(public, &message, &chosen).unwrap();
            assert_eq!(signature, reference, "subset {subset:?}");
            assert_eq!(seed_from_signature(&signature), seed);
            combinations += 1;
        }
    }
    let expected: usize = (t..=n as usize).map(|k| subsets(n as usize, k).len()).sum();
    assert_eq!(combinations, expected);
}

#[test]
fn n4_every_quorum_combines_to_the_same_signature_and_seed() {
    // C(4,3) + C(4,4) = 5 subsets.
    every_quorum_gives_one_signature(4);
}

#[test]
fn n7_every_quorum_combines_to_the_same_signature_and_seed() {
    // C(7,5) + C(7,6) + C(7,7) = 29 subsets.
    every_quorum_gives_one_signature(7);
}

#[test]
fn test_fewer_than_t_partials_cannot_combine() {
    let local = ceremony(7, 1);
    let public = &local.output.public;
    let message = message();
    let all = partials(&local.shares, &message);
    let t = public.threshold() as usize;
    for subset in subsets(7, t - 1) {
        let error = combine(public, &message, &pick(&all, &subset)).unwrap_err();
        assert_eq!(error.code(), "NOT_ENOUGH_SHARES", "subset {subset:?}");
    }
    // A repeated partial does not count twice.
    let mut padded = pick(&all, &[0, 1, 2, 3]);
    padded.push(all[0]);
    assert_eq!(
        combine(public, &message, &padded).unwrap_err().code(),
        "DUPLICATE_SIGNER"
    );
}

#[test]
fn test_tampered_partials_are_detected() {
    let local = ceremony(4, 2);
    let public = &local.output.public;
    let message = message();
    let all = partials(&local.shares, &message);
    let other = SeedMessage::new("jiu-devnet", 43, [0x11; 32], [0x22; 32], [0x33; 32]).unwrap();

    let tampered = [
        // Another share's valid point under this share's index.
        PartialSignature {
            index: 0,
            value: all[1].value,
        },
        // This share's signature over another message.
        partial_sign(&local.shares[0], &other),
    ];
    for bad in tampered {
        assert_eq!(
            verify_partial(public, &message, &bad).unwrap_err().code(),
            "BAD_PARTIAL"
        );
        let set = [bad, all[1], all[2], all[3]];
        assert_eq!(
            combine(public, &message, &set).unwrap_err().code(),
            "BAD_PARTIAL"
        );
    }
    let unknown = PartialSignature {
        index: 4,
        value: all[0].value,
    };
    assert_eq!(
        verify_partial(public, &message, &unknown)
            .unwrap_err()
            .code(),
        "UNKNOWN_SIGNER"
    );
    assert_eq!(
        combine(public, &message, &[unknown, all[1], all[2]])
            .unwrap_err()
            .code(),
        "UNKNOWN_SIGNER"
    );
    for partial in &all {
        verify_partial(public, &message, partial).unwrap();
    }
}

#[test]
fn test_a_tampered_signature_is_refused_by_verify() {
    let local = ceremony(4, 3);
    let public = &local.output.public;
    let message = message();
    let all = partials(&local.shares, &message);
    let good = combine(public, &message, &all[..3]).unwrap();
    // A single partial is a valid G1 point but not the group's signature.
    let forged = all[0].value;
    assert_eq!(
        verify(public.group_key(), &message, &forged)
            .unwrap_err()
            .code(),
        "BAD_SIGNATURE"
    );
    let mut bytes = good.to_bytes();
    bytes[47] ^= 1;
    if let Ok(flipped) = Signature::from_bytes(&bytes) {
        assert!(verify(public.group_key(), &message, &flipped).is_err());
    }
    let other_group = ceremony(4, 4);
    assert_eq!(
        verify(other_group.output.public.group_key(), &message, &good)
            .unwrap_err()
            .code(),
        "BAD_SIGNATURE"
    );
}

#[test]
fn test_a_signature_verifies_for_its_message_only() {
    let local = ceremony(4, 5);
    let public = &local.output.public;
    let message = message();
    let signature = combine(public, &message, &partials(&local.shares, &message)).unwrap();
    let seed = verified_seed(public.group_key(), &message, &signature).unwrap();
    assert_eq!(seed, seed_from_signature(&signature));

    let variants = [
        SeedMessage::new("jiu-other", 42, [0x11; 32], [0x22; 32], [0x33; 32]),
        SeedMessage::new("jiu-devnet", 41, [0x11; 32], [0x22; 32], [0x33; 32]),
        SeedMessage::new("jiu-devnet", 42, [0x10; 32], [0x22; 32], [0x33; 32]),
        SeedMessage::new("jiu-devnet", 42, [0x11; 32], [0x23; 32], [0x33; 32]),
        SeedMessage::new("jiu-devnet", 42, [0x11; 32], [0x22; 32], [0x34; 32]),
    ];
    for variant in variants {
        let variant = variant.unwrap();
        assert_ne!(variant.to_bytes(), message.to_bytes());
        assert_eq!(
            verify(public.group_key(), &variant, &signature)
                .unwrap_err()
                .code(),
            "BAD_SIGNATURE"
        );
        assert!(verified_seed(public.group_key(), &variant, &signature).is_err());
        let other = combine(public, &variant, &partials(&local.shares, &variant)).unwrap();
        assert_ne!(seed_from_signature(&other), seed);
    }
}

#[test]
fn test_seed_is_sha256_of_tag_and_signature_bytes() {
    let local = ceremony(4, 6);
    let message = message();
    let signature = combine(
        &local.output.public,
        &message,
        &partials(&local.shares, &message),
    )
    .unwrap();
    assert_eq!(
        seed_from_signature(&signature),
        sha256(&[b"mtl/seed/v1", &signature.to_bytes()])
    );
}

#[test]
fn test_shares_belong_to_their_group_only() {
    let local = ceremony(4, 7);
    let other = ceremony(4, 8);
    for share in &local.shares {
        share.check(&local.output.public).unwrap();
        assert_eq!(
            share.check(&other.output.public).unwrap_err().code(),
            "INCONSISTENT_KEY"
        );
    }
    // A share moved to another index does not match the polynomial there.
    let json = serde_json::to_string(&local.shares[0]).unwrap();
    let moved = json.replace("\"index\":0", "\"index\":1");
    let moved: SecretShare = serde_json::from_str(&moved).unwrap();
    assert_eq!(
        moved.check(&local.output.public).unwrap_err().code(),
        "INCONSISTENT_KEY"
    );
}

#[test]
fn test_public_and_share_encodings_round_trip() {
    let local = ceremony(7, 9);
    let public = &local.output.public;
    let json = serde_json::to_string_pretty(public).unwrap();
    assert_eq!(&serde_json::from_str::<GroupPublic>(&json).unwrap(), public);
    let borsh_bytes = borsh::to_vec(public).unwrap();
    assert_eq!(
        &borsh::from_slice::<GroupPublic>(&borsh_bytes).unwrap(),
        public
    );
    for share in &local.shares {
        let json = serde_json::to_string(share).unwrap();
        assert_eq!(&serde_json::from_str::<SecretShare>(&json).unwrap(), share);
        let bytes = borsh::to_vec(share).unwrap();
        assert_eq!(&borsh::from_slice::<SecretShare>(&bytes).unwrap(), share);
    }
    let output_json = serde_json::to_string(&local.output).unwrap();
    assert_eq!(
        serde_json::from_str::<jiu_beacon::DkgOutput>(&output_json).unwrap(),
        local.output
    );
}

#[test]
fn test_inconsistent_public_json_is_refused() {
    let local = ceremony(4, 10);
    let value = serde_json::to_value(&local.output.public).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 6] = [
        ("threshold", |v| v["threshold"] = 2.into()),
        ("n", |v| v["n"] = 5.into()),
        ("group key", |v| {
            v["group_key"] = v["commitments"][1].clone();
        }),
        ("commitment count", |v| {
            v["commitments"].as_array_mut().unwrap().pop();
        }),
        ("participant order", |v| {
            v["participants"].as_array_mut().unwrap().swap(0, 1);
        }),
        ("unknown field", |v| v["extra"] = 1.into()),
    ];
    for (what, edit) in edits {
        let mut edited = value.clone();
        edit(&mut edited);
        assert!(
            serde_json::from_value::<GroupPublic>(edited).is_err(),
            "{what} accepted"
        );
    }
}
