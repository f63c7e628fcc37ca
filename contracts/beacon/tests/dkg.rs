//! The ceremony under faults: complaints, withheld logs, disqualification, too many bad
//! dealers, and transcripts that do not belong to the ceremony.

mod common;

use common::{message, rng, run, Faults, Run};
use jiu_beacon::dkg::{observe, Arbiter, Ceremony, Dealer, Player, Transcript};
use jiu_beacon::{combine, partial_sign, verify, DkgOutput, PublicKey, SecretShare};

/// Every player and the observer finished with one output; returns it and the shares.
fn agreed(run: Run) -> (DkgOutput, Vec<SecretShare>, Run) {
    let observed = run.observed.clone().expect("observer finishes");
    let mut shares = Vec::new();
    for (i, result) in run.players.iter().enumerate() {
        let (output, share) = result.clone().expect("player finishes");
        assert_eq!(output, observed, "player {i} agrees with the observer");
        assert_eq!(share.index(), i as u32);
        share.check(&output.public).unwrap();
        shares.push(share);
    }
    (observed, shares, run)
}

/// Every quorum that contains `must_include` signs and verifies.
fn quorums_sign(output: &DkgOutput, shares: &[SecretShare], must_include: usize) {
    let message = message();
    let t = output.public.threshold() as usize;
    let mut chosen: Vec<_> = vec![must_include];
    chosen.extend((0..shares.len()).filter(|&i| i != must_include).take(t - 1));
    let partials: Vec<_> = chosen
        .iter()
        .map(|&i| partial_sign(&shares[i], &message))
        .collect();
    let signature = combine(&output.public, &message, &partials).unwrap();
    verify(output.public.group_key(), &message, &signature).unwrap();
}

fn key(run: &Run, index: usize) -> PublicKey {
    run.ceremony.participants()[index]
}

#[test]
fn n4_honest_ceremony_uses_the_first_t_dealers_and_reveals_nothing() {
    let (output, shares, run) = agreed(run(4, &Faults::default(), 1));
    assert!(run.complaints.is_empty());
    let first_three: Vec<_> = run.ceremony.participants()[..3].to_vec();
    assert_eq!(output.dealers, first_three);
    assert!(output.revealed.is_empty());
    assert_eq!(output.public.participants(), run.ceremony.participants());
    quorums_sign(&output, &shares, 3);
}

#[test]
fn n4_a_bad_share_to_one_player_is_revealed_and_the_ceremony_agrees() {
    // Dealer 0 (first in key order, so it is used) sends player 2 a wrong share.
    let faults = Faults {
        bad_shares: vec![(0, 2)],
        ..Faults::default()
    };
    let (output, shares, run) = agreed(run(4, &faults, 2));
    assert_eq!(run.complaints, vec![(0, 2, "BAD_DEALER_SHARE")]);
    // The dealer had to reveal player 2's share in its log; one reveal is within f, so the
    // dealer stays and player 2 takes its share from the reveal.
    assert!(output.dealers.contains(&key(&run, 0)));
    assert!(
        output.revealed.is_empty(),
        "one reveal cannot rebuild a share"
    );
    quorums_sign(&output, &shares, 2);
}

#[test]
fn n4_a_dealer_that_sends_a_bad_share_and_withholds_its_log_is_excluded() {
    let faults = Faults {
        bad_shares: vec![(0, 2)],
        withheld_logs: vec![0],
        ..Faults::default()
    };
    let (output, shares, run) = agreed(run(4, &faults, 3));
    assert!(!output.dealers.contains(&key(&run, 0)));
    assert_eq!(output.dealers.len(), 3);
    quorums_sign(&output, &shares, 2);
}

#[test]
fn n4_a_dealer_complained_about_can_be_disqualified_by_the_arbiter() {
    let faults = Faults {
        bad_shares: vec![(0, 2)],
        disqualified: vec![0],
        ..Faults::default()
    };
    let (output, shares, run) = agreed(run(4, &faults, 4));
    assert!(!output.dealers.contains(&key(&run, 0)));
    quorums_sign(&output, &shares, 2);
}

#[test]
fn n7_a_dealer_with_more_than_f_complaints_is_excluded_automatically() {
    // f = 2: three bad shares leave dealer 0 unable to publish its results.
    let faults = Faults {
        bad_shares: vec![(0, 1), (0, 3), (0, 5)],
        ..Faults::default()
    };
    let (output, shares, run) = agreed(run(7, &faults, 5));
    assert_eq!(run.complaints.len(), 3);
    assert!(!output.dealers.contains(&key(&run, 0)));
    assert_eq!(output.dealers.len(), 5);
    quorums_sign(&output, &shares, 3);
}

#[test]
fn n7_f_bad_dealers_are_tolerated() {
    // f = 2: one dealer with too many complaints, one that withholds its log.
    let faults = Faults {
        bad_shares: vec![(0, 1), (0, 2), (0, 3), (4, 6)],
        withheld_logs: vec![4],
        ..Faults::default()
    };
    let (output, shares, run) = agreed(run(7, &faults, 6));
    assert_eq!(output.dealers.len(), 5);
    for excluded in [0, 4] {
        assert!(!output.dealers.contains(&key(&run, excluded)));
    }
    quorums_sign(&output, &shares, 1);
}

#[test]
fn n4_too_many_bad_dealers_fail_the_ceremony_with_a_typed_error() {
    // f = 1, t = 3: two dealers with more than f complaints leave 2 usable logs.
    let faults = Faults {
        bad_shares: vec![(0, 1), (0, 2), (3, 0), (3, 1)],
        ..Faults::default()
    };
    let run = run(4, &faults, 7);
    let expected_unavailable = vec![key(&run, 0), key(&run, 3)];
    let mut results: Vec<_> = run.players.iter().map(|r| r.clone().map(|_| ())).collect();
    results.push(run.observed.clone().map(|_| ()));
    for result in results {
        match result.unwrap_err() {
            jiu_beacon::Error::CeremonyFailed {
                required,
                found,
                faulty,
                unavailable,
            } => {
                assert_eq!((required, found), (3, 2));
                assert!(faulty.is_empty());
                assert_eq!(unavailable, expected_unavailable);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn n7_withheld_logs_beyond_f_fail_the_ceremony() {
    let faults = Faults {
        withheld_logs: vec![1, 2, 3],
        ..Faults::default()
    };
    let run = run(7, &faults, 8);
    assert_eq!(run.observed.unwrap_err().code(), "CEREMONY_FAILED");
    for player in run.players {
        assert_eq!(player.unwrap_err().code(), "CEREMONY_FAILED");
    }
}

#[test]
fn test_transcripts_and_logs_of_another_ceremony_are_refused() {
    let here = run(4, &Faults::default(), 9);
    let ids = &here.identities;
    let keys: Vec<PublicKey> = ids.iter().map(|i| i.public_key()).collect();
    // Same participants, another chain: every signature is bound to the namespace.
    let elsewhere = Ceremony::new("jiu-elsewhere", &keys).unwrap();
    let mut rng = rng(9);
    assert_eq!(
        observe(&elsewhere, &here.transcript, &mut rng)
            .unwrap_err()
            .code(),
        "BAD_DEALER_LOG"
    );
    let mut arbiter = Arbiter::new(&elsewhere);
    let foreign = here.transcript.logs()[0].clone();
    assert_eq!(
        arbiter.record(foreign).unwrap_err().code(),
        "BAD_DEALER_LOG"
    );
    let player = Player::new(&elsewhere, &ids[0]).unwrap();
    assert_eq!(
        player
            .finalize(&here.transcript, &mut rng)
            .unwrap_err()
            .code(),
        "BAD_DEALER_LOG"
    );
    // The transcript survives its byte encoding.
    let bytes = here.transcript.to_bytes();
    assert_eq!(Transcript::from_bytes(&bytes).unwrap(), here.transcript);
}

#[test]
fn test_a_dealer_with_two_logs_is_disqualified() {
    let ids = common::identities(4, 10);
    let keys: Vec<PublicKey> = ids.iter().map(|i| i.public_key()).collect();
    let ceremony = Ceremony::new("jiu-test", &keys).unwrap();
    let mut rng = rng(10);
    let (first, _, _) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let (second, _, _) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let mut arbiter = Arbiter::new(&ceremony);
    let first = first.finalize();
    arbiter.record(first.clone()).unwrap();
    arbiter.record(first).unwrap();
    assert_eq!(
        arbiter.record(second.finalize()).unwrap_err().code(),
        "CONFLICTING_DEALER_LOG"
    );
    assert_eq!(
        arbiter.disqualified().collect::<Vec<_>>(),
        vec![&keys_sorted(&ids)[0]]
    );
    assert!(arbiter.transcript().logs().is_empty());
}

#[test]
fn test_an_ack_from_another_player_is_refused() {
    let ids = common::identities(4, 11);
    let keys: Vec<PublicKey> = ids.iter().map(|i| i.public_key()).collect();
    let ceremony = Ceremony::new("jiu-test", &keys).unwrap();
    let mut rng = rng(11);
    let (mut dealer, commitment, shares) = Dealer::start(&ceremony, &ids[0], &mut rng).unwrap();
    let mut player = Player::new(&ceremony, &ids[1]).unwrap();
    let ack = player
        .receive(&ids[0].public_key(), &commitment, &shares[1].1)
        .unwrap()
        .unwrap();
    assert_eq!(
        dealer
            .receive_ack(&ids[2].public_key(), &ack)
            .unwrap_err()
            .code(),
        "BAD_ACK"
    );
    dealer.receive_ack(&ids[1].public_key(), &ack).unwrap();
}

fn keys_sorted(ids: &[jiu_beacon::Identity]) -> Vec<PublicKey> {
    ids.iter().map(|i| i.public_key()).collect()
}
