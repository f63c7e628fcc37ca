//! The chain's `Beacon` over the genesis group key: valid bytes accepted, anything else
//! refused without a panic.

mod common;

use jiu_beacon::{partial_sign, run_local_ceremony, threshold, SeedMessage};
use jiu_types::beacon::Beacon;

#[test]
fn test_chain_beacon_accepts_only_the_canonical_signature_of_valid_shares() {
    let local = run_local_ceremony(4, threshold(4), &mut common::rng(7)).unwrap();
    let public = &local.output.public;
    let message = SeedMessage::new("jiu-test", 1, [1; 32], [2; 32], [3; 32]).unwrap();
    let bytes = message.to_bytes();
    let partials: Vec<Vec<u8>> = local
        .shares
        .iter()
        .map(|s| partial_sign(s, &message).to_bytes().to_vec())
        .collect();
    for (index, partial) in partials.iter().enumerate() {
        assert!(public.verify_share(index as u32, &bytes, partial));
        assert!(
            !public.verify_share(index as u32 + 1, &bytes, partial),
            "wrong index"
        );
    }
    assert!(
        !public.verify_share(0, &bytes, &partials[0][..51]),
        "short partial"
    );
    assert!(!public.verify_share(0, b"not a seed message", &partials[0]));

    let three = public
        .combine(&bytes, &partials[..3])
        .expect("threshold shares");
    assert_eq!(public.combine(&bytes, &partials[1..]), Some(three.clone()));
    assert_eq!(public.combine(&bytes, &partials[..2]), None, "fewer than t");
    assert!(public.verify(&bytes, &three));
    let mut flipped = three.clone();
    flipped[47] ^= 1;
    assert!(!public.verify(&bytes, &flipped));
    assert!(!public.verify(&bytes, &three[..47]));
    let other = SeedMessage::new("jiu-test", 2, [1; 32], [2; 32], [3; 32]).unwrap();
    assert!(!public.verify(&other.to_bytes(), &three));
    assert_eq!(public.index_of(&local.identities[2].public_key()), Some(2));
    assert_eq!(Beacon::threshold(public), 3);
}
