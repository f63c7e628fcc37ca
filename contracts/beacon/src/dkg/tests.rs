use super::*;
use rand_chacha_10::ChaCha20Rng;
use rand_core_10::SeedableRng;

fn identities(n: u8) -> Vec<Identity> {
    (1..=n)
        .map(|i| Identity::from_secret_bytes(&[i; 32]))
        .collect()
}

fn keys(identities: &[Identity]) -> Vec<PublicKey> {
    identities.iter().map(Identity::public_key).collect()
}

#[test]
fn test_identity_is_the_validators_ed25519_key() {
    let secret = [9u8; 32];
    let dalek = ed25519_dalek::SigningKey::from_bytes(&secret);
    assert_eq!(
        Identity::from_secret_bytes(&secret).public_key(),
        PublicKey::from_signing_key(&dalek)
    );
}

#[test]
fn test_ceremony_sorts_participants_and_derives_t_and_f() {
    let ids = identities(7);
    let mut reversed = keys(&ids);
    reversed.reverse();
    let ceremony = Ceremony::new("jiu-test", &reversed).unwrap();
    let mut sorted = keys(&ids);
    sorted.sort();
    assert_eq!(ceremony.participants(), &sorted[..]);
    assert_eq!(
        (
            ceremony.n(),
            ceremony.threshold(),
            ceremony.max_complaints()
        ),
        (7, 5, 2)
    );
}

#[test]
fn test_ceremony_refuses_duplicates_empty_and_oversized_groups() {
    let ids = identities(4);
    let mut doubled = keys(&ids);
    doubled.push(doubled[2]);
    assert_eq!(
        Ceremony::new("jiu-test", &doubled).unwrap_err().code(),
        "DUPLICATE_PARTICIPANT"
    );
    assert_eq!(
        Ceremony::new("jiu-test", &[]).unwrap_err().code(),
        "BAD_THRESHOLD"
    );
    let many: Vec<PublicKey> = (0..=PARTICIPANTS_MAX)
        .map(|i| {
            let mut secret = [0u8; 32];
            secret[..4].copy_from_slice(&i.to_be_bytes());
            Identity::from_secret_bytes(&secret).public_key()
        })
        .collect();
    assert_eq!(
        Ceremony::new("jiu-test", &many).unwrap_err().code(),
        "BAD_THRESHOLD"
    );
}

#[test]
fn test_outsiders_cannot_deal_play_or_be_dealt_to() {
    let ids = identities(4);
    let ceremony = Ceremony::new("jiu-test", &keys(&ids)).unwrap();
    let outsider = Identity::from_secret_bytes(&[99; 32]);
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    assert_eq!(
        Dealer::start(&ceremony, &outsider, &mut rng)
            .err()
            .map(|e| e.code()),
        Some("NOT_A_PARTICIPANT")
    );
    assert_eq!(
        Player::new(&ceremony, &outsider).err().map(|e| e.code()),
        Some("NOT_A_PARTICIPANT")
    );
    let (_, commitment, shares) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let mut player = Player::new(&ceremony, &ids[1]).unwrap();
    let error = player
        .receive(&outsider.public_key(), &commitment, &shares[0].1)
        .unwrap_err();
    assert_eq!(error.code(), "NOT_A_PARTICIPANT");
}

#[test]
fn test_messages_round_trip_through_bytes() {
    let ids = identities(4);
    let ceremony = Ceremony::new("jiu-test", &keys(&ids)).unwrap();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let (mut dealer, commitment, shares) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let commitment_back = DealerCommitment::from_bytes(&commitment.to_bytes()).unwrap();
    assert!(commitment_back == commitment);
    // t = 3 coefficients of 96 bytes behind a one-byte count.
    assert_eq!(commitment.to_bytes().len(), 1 + 3 * 96);
    for (player_key, share) in &shares {
        assert_eq!(share.to_bytes().len(), 32);
        let share_back = DealerShare::from_bytes(&share.to_bytes()).unwrap();
        let me = ids
            .iter()
            .find(|id| id.public_key() == *player_key)
            .unwrap();
        let mut player = Player::new(&ceremony, me).unwrap();
        let ack = player
            .receive(&ids[0].public_key(), &commitment_back, &share_back)
            .unwrap()
            .expect("first message from this dealer");
        let ack_back = PlayerAck::from_bytes(&ack.to_bytes()).unwrap();
        dealer.receive_ack(player_key, &ack_back).unwrap();
        // A duplicate message is accepted once only.
        assert!(player
            .receive(&ids[0].public_key(), &commitment, share)
            .unwrap()
            .is_none());
    }
    let log = dealer.finalize();
    assert_eq!(log.claimed_dealer(), ids[0].public_key());
    assert!(DealerLog::from_bytes(&log.to_bytes()).unwrap() == log);
    let transcript = Transcript { logs: vec![log] };
    assert_eq!(
        Transcript::from_bytes(&transcript.to_bytes()).unwrap(),
        transcript
    );
}

#[test]
fn test_debug_never_prints_secrets() {
    let ids = identities(4);
    let ceremony = Ceremony::new("jiu-test", &keys(&ids)).unwrap();
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let (_, _, shares) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let share_hex = hex::encode(shares[0].1.to_bytes());
    let printed = format!("{:?}", shares[0].1);
    assert!(!printed.contains(&share_hex), "{printed}");
    assert!(!format!("{:?}", ids[0]).contains(&hex::encode([1u8; 32])));
}
