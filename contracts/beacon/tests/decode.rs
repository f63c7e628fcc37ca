//! Bytes from a peer never panic a decoder: random input, and valid encodings with bytes
//! flipped, truncated or extended.

mod common;

use std::sync::OnceLock;

use jiu_beacon::dkg::{
    Ceremony, Dealer, DealerCommitment, DealerLog, DealerShare, PlayerAck, Transcript,
};
use jiu_beacon::{
    threshold, GroupKey, GroupPublic, PartialSignature, SecretShare, SeedMessage, Signature,
};
use proptest::prelude::*;

/// Every decoder, fed the same bytes. Results are ignored: only panics matter.
fn decode_all(bytes: &[u8]) {
    let _ = SeedMessage::from_bytes(bytes);
    let _ = PartialSignature::from_bytes(bytes);
    let _ = Signature::from_bytes(bytes);
    let _ = GroupKey::from_bytes(bytes);
    let _ = DealerCommitment::from_bytes(bytes);
    let _ = DealerShare::from_bytes(bytes);
    let _ = PlayerAck::from_bytes(bytes);
    let _ = DealerLog::from_bytes(bytes);
    let _ = Transcript::from_bytes(bytes);
    let _ = borsh::from_slice::<GroupPublic>(bytes);
    let _ = borsh::from_slice::<SecretShare>(bytes);
    let _ = borsh::from_slice::<PartialSignature>(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = serde_json::from_str::<GroupPublic>(text);
        let _ = serde_json::from_str::<SecretShare>(text);
        let _ = serde_json::from_str::<SeedMessage>(text);
    }
}

/// Valid encodings of every message kind, to mutate.
fn samples() -> &'static Vec<Vec<u8>> {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let local = jiu_beacon::run_local_ceremony(4, threshold(4), &mut common::rng(1)).unwrap();
        let ids = common::identities(4, 1);
        let keys: Vec<_> = ids.iter().map(|i| i.public_key()).collect();
        let ceremony = Ceremony::new("jiu-test", &keys).unwrap();
        let (dealer, commitment, shares) =
            Dealer::start(&ceremony, &ids[0], &mut common::rng(2)).unwrap();
        let message = common::message();
        let partial = jiu_beacon::partial_sign(&local.shares[0], &message);
        vec![
            message.to_bytes(),
            partial.to_bytes().to_vec(),
            local.output.public.group_key().to_bytes().to_vec(),
            commitment.to_bytes(),
            shares[0].1.to_bytes(),
            dealer.finalize().to_bytes(),
            borsh::to_vec(&local.output.public).unwrap(),
            borsh::to_vec(&local.shares[0]).unwrap(),
            serde_json::to_vec(&local.output.public).unwrap(),
        ]
    })
}

proptest! {
    #[test]
    fn test_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn test_mutated_encodings_never_panic(
        which in 0usize..9,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        tail in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = samples()[which].clone();
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        decode_all(&bytes);
        decode_all(&bytes[..cut.index(bytes.len() + 1)]);
        bytes.extend_from_slice(&tail);
        decode_all(&bytes);
    }

    #[test]
    fn test_huge_counts_do_not_allocate_or_panic(count in any::<u32>(), rest in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = count.to_be_bytes().to_vec();
        bytes.extend_from_slice(&rest);
        decode_all(&bytes);
        let mut borsh_prefix = vec![0u8; 8 + 96];
        borsh_prefix.extend_from_slice(&count.to_le_bytes());
        borsh_prefix.extend_from_slice(&rest);
        decode_all(&borsh_prefix);
    }
}
