//! The file-based ceremony (`jiu dkg`) among four validators, each with its own ceremony
//! directory: every step runs per operator through the library, and the files an operator
//! sends are copied into the recipient's directory, as the operators would. An observer
//! directory receives only the public logs and sets the genesis beacon.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ed25519_dalek::SigningKey;
use jiu_beacon::{combine, partial_sign, verify, PartialSignature, SecretShare, SeedMessage};
use jiu_contracts::PublicKey;
use jiu_genesis::ceremony::{
    ack, deal, finish, log, set_beacon, Acked, CeremonyDir, CeremonyError, Dealt, Finished, Logged,
    Step,
};
use jiu_genesis::devnet::devnet;
use jiu_genesis::Genesis;
use tempfile::TempDir;

struct Operator {
    key: SigningKey,
    public: PublicKey,
    dir: CeremonyDir,
    _tmp: TempDir,
}

/// Four validators, a genesis draft without beacon, and an observer directory.
struct Consortium {
    genesis: Genesis,
    operators: Vec<Operator>,
    observer: CeremonyDir,
    _observer_tmp: TempDir,
}

fn consortium() -> Consortium {
    let devnet = devnet("jiu-test", 4, 27000, Some([7u8; 32]));
    let mut genesis = devnet.genesis;
    genesis.beacon = None;
    let operators = devnet
        .validator_keys
        .into_iter()
        .map(|key| {
            let tmp = tempfile::tempdir().unwrap();
            Operator {
                public: PublicKey::from_signing_key(&key),
                dir: CeremonyDir::new(tmp.path().join("ceremony")),
                key,
                _tmp: tmp,
            }
        })
        .collect();
    let observer_tmp = tempfile::tempdir().unwrap();
    Consortium {
        genesis,
        operators,
        observer: CeremonyDir::new(observer_tmp.path().join("ceremony")),
        _observer_tmp: observer_tmp,
    }
}

/// Copies `path` (inside `from`) to the same relative path inside `to`.
fn send(from: &CeremonyDir, path: &Path, to: &CeremonyDir) {
    let target = to.root().join(path.strip_prefix(from.root()).unwrap());
    if target == path {
        return;
    }
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::copy(path, target).unwrap();
}

impl Consortium {
    fn operator(&self, key: &PublicKey) -> &Operator {
        self.operators.iter().find(|o| o.public == *key).unwrap()
    }

    /// Step 1 for everyone: the commitment goes to all, each share to its player only.
    fn deal_all(&self) -> Vec<Dealt> {
        let dealt: Vec<Dealt> = self
            .operators
            .iter()
            .map(|o| deal(&o.dir, &self.genesis, &o.key).unwrap())
            .collect();
        for (from, dealt) in self.operators.iter().zip(&dealt) {
            for to in &self.operators {
                send(&from.dir, &dealt.commitment, &to.dir);
            }
            for (player, path) in &dealt.shares {
                send(&from.dir, path, &self.operator(player).dir);
            }
        }
        dealt
    }

    /// Step 2 for everyone: each ack goes to its dealer.
    fn ack_all(&self) -> Vec<Acked> {
        let acked: Vec<Acked> = self
            .operators
            .iter()
            .map(|o| ack(&o.dir, &self.genesis, &o.key).unwrap())
            .collect();
        for (from, acked) in self.operators.iter().zip(&acked) {
            for (dealer, path) in &acked.acked {
                send(&from.dir, path, &self.operator(dealer).dir);
            }
        }
        acked
    }

    /// Step 3 for everyone: each log goes to all and to the observer.
    fn log_all(&self) -> Vec<Logged> {
        let logged: Vec<Logged> = self
            .operators
            .iter()
            .map(|o| log(&o.dir, &self.genesis, &o.key).unwrap())
            .collect();
        for (from, logged) in self.operators.iter().zip(&logged) {
            for to in &self.operators {
                send(&from.dir, &logged.path, &to.dir);
            }
            send(&from.dir, &logged.path, &self.observer);
        }
        logged
    }

    fn finish_all(&self) -> Vec<Result<Finished, CeremonyError>> {
        self.operators
            .iter()
            .map(|o| {
                let out = o.dir.root().join("beacon_share.json");
                finish(&o.dir, &self.genesis, &o.key, &out)
            })
            .collect()
    }

    /// Changes one byte of the share `dealer` sent to `player`, in the player's directory.
    fn tamper_share(&self, dealer: &PublicKey, player: &PublicKey) {
        let path = self.operator(player).dir.share(dealer, player);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, bytes).unwrap();
    }

    fn sorted_keys(&self) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = self.operators.iter().map(|o| o.public).collect();
        keys.sort();
        keys
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn message() -> SeedMessage {
    SeedMessage::new("jiu-test", 1, [1; 32], [2; 32], [3; 32]).unwrap()
}

#[test]
fn test_four_operators_run_the_ceremony_from_files() {
    let c = consortium();
    let dealt = c.deal_all();
    for (operator, dealt) in c.operators.iter().zip(&dealt) {
        assert!(!dealt.resumed);
        assert_eq!(dealt.shares.len(), 4);
        assert_eq!(mode(&dealt.seed), 0o600, "the seed is secret");
        assert_eq!(mode(dealt.seed.parent().unwrap()), 0o700);
        assert_eq!(mode(&dealt.shares[0].1), 0o600, "shares are secret");
        assert_eq!(mode(dealt.shares[0].1.parent().unwrap()), 0o700);
        let keys: Vec<PublicKey> = dealt.shares.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            c.sorted_keys(),
            "one share per validator, own included"
        );
        assert_eq!(dealt.dealer, operator.public);
    }

    let acked = c.ack_all();
    for acked in &acked {
        assert_eq!(acked.acked.len(), 4, "{acked:?}");
        assert!(acked.complaints.is_empty() && acked.waiting.is_empty());
    }
    // Running ack again writes nothing new and acks the same dealers.
    let again = ack(&c.operators[0].dir, &c.genesis, &c.operators[0].key).unwrap();
    assert_eq!(again.acked, acked[0].acked);

    for logged in c.log_all() {
        assert_eq!(logged.acked, c.sorted_keys());
        assert!(logged.revealed.is_empty() && !logged.unusable);
    }
    // A second run with the same acks gives the same log bytes: not a second log.
    log(&c.operators[1].dir, &c.genesis, &c.operators[1].key).unwrap();

    let finished: Vec<Finished> = c.finish_all().into_iter().map(Result::unwrap).collect();
    let mut genesis = c.genesis.clone();
    let set = set_beacon(&c.observer, &mut genesis, false).unwrap();
    assert!(set.changed);
    assert!(set.output.revealed.is_empty());
    assert_eq!(set.output.dealers.len(), 3, "t = 3 logs are summed");
    genesis.validate().unwrap();
    let public = genesis.beacon.clone().unwrap();
    let observer_transcript = fs::read(c.observer.transcript()).unwrap();

    let mut shares: Vec<SecretShare> = Vec::new();
    for (operator, finished) in c.operators.iter().zip(&finished) {
        assert_eq!(
            finished.output, set.output,
            "every operator gets the observer's output"
        );
        assert_eq!(finished.transcript.hash, set.transcript.hash);
        assert_eq!(
            fs::read(operator.dir.transcript()).unwrap(),
            observer_transcript
        );
        assert_eq!(Some(finished.index), public.index_of(&operator.public));
        assert_eq!(mode(&finished.share_file), 0o600);
        let share = jiu_genesis::beacon::read_share_file(&finished.share_file, &public).unwrap();
        share.check(&public).unwrap();
        shares.push(share);
    }
    // set-beacon is idempotent.
    let again = set_beacon(&c.observer, &mut genesis, false).unwrap();
    assert!(!again.changed);

    // Any 3 of the 4 shares give the one signature, which verifies against the group key.
    let message = message();
    let partials: Vec<PartialSignature> =
        shares.iter().map(|s| partial_sign(s, &message)).collect();
    let mut signatures = Vec::new();
    for left_out in 0..4 {
        let quorum: Vec<PartialSignature> = partials
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != left_out)
            .map(|(_, p)| *p)
            .collect();
        let signature = combine(&public, &message, &quorum).unwrap();
        verify(public.group_key(), &message, &signature).unwrap();
        signatures.push(signature.to_bytes());
    }
    assert!(
        signatures.windows(2).all(|w| w[0] == w[1]),
        "BLS signatures are unique"
    );
}

#[test]
fn test_ack_waits_for_files_not_yet_received() {
    let c = consortium();
    let me = &c.operators[0];
    deal(&me.dir, &c.genesis, &me.key).unwrap();
    let acked = ack(&me.dir, &c.genesis, &me.key).unwrap();
    assert_eq!(acked.acked.len(), 1, "only its own share is here");
    assert_eq!(acked.acked[0].0, me.public);
    assert_eq!(acked.waiting.len(), 3);
    assert!(acked
        .waiting
        .iter()
        .all(|(dealer, path)| *path == me.dir.commitment(dealer)));
}

#[test]
fn test_a_tampered_share_is_a_complaint_and_the_log_reveals_it() {
    let c = consortium();
    let keys = c.sorted_keys();
    let (dealer, player) = (keys[0], keys[2]);
    c.deal_all();
    c.tamper_share(&dealer, &player);
    let acked = c.ack_all();
    let victim = c.operators.iter().position(|o| o.public == player).unwrap();
    assert_eq!(acked[victim].acked.len(), 3);
    assert_eq!(acked[victim].complaints.len(), 1);
    assert_eq!(
        acked[victim].complaints[0].dealer, dealer,
        "{:?}",
        acked[victim]
    );

    let logged = c.log_all();
    let from = c.operators.iter().position(|o| o.public == dealer).unwrap();
    assert_eq!(logged[from].revealed.len(), 1);
    assert_eq!(logged[from].revealed[0].0, player);
    assert!(!logged[from].unusable, "one complaint is within f = 1");

    // The player takes that dealer's part of its share from the public reveal. One reveal is
    // below the reveal threshold t - f = 2, so no share counts as public.
    let finished: Vec<Finished> = c.finish_all().into_iter().map(Result::unwrap).collect();
    let mut genesis = c.genesis.clone();
    let set = set_beacon(&c.observer, &mut genesis, false).unwrap();
    assert!(set.output.revealed.is_empty());
    let public = genesis.beacon.clone().unwrap();
    let message = message();
    let mut partials = Vec::new();
    for finished in &finished {
        assert_eq!(finished.output, set.output);
        let share = jiu_genesis::beacon::read_share_file(&finished.share_file, &public).unwrap();
        partials.push(partial_sign(&share, &message));
    }
    let victims_partial = partials.remove(victim);
    let quorum = [victims_partial, partials[0], partials[1]];
    combine(&public, &message, &quorum).unwrap();
}

#[test]
fn test_a_player_revealed_by_two_used_dealers_makes_set_beacon_refuse() {
    let c = consortium();
    let keys = c.sorted_keys();
    let player = keys[1];
    c.deal_all();
    // Every other dealer's share to this player is bad: at least 2 of the 3 logs summed
    // reveal it, the reveal threshold t - f = 2, so its share is public.
    for dealer in keys.iter().filter(|k| **k != player) {
        c.tamper_share(dealer, &player);
    }
    c.ack_all();
    c.log_all();
    let mut genesis = c.genesis.clone();
    let err = set_beacon(&c.observer, &mut genesis, false).unwrap_err();
    assert!(
        matches!(&err, CeremonyError::Revealed { step: Step::SetBeacon, players } if *players == vec![player]),
        "{err}"
    );
    assert!(genesis.beacon.is_none());
    for result in c.finish_all() {
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                CeremonyError::Revealed {
                    step: Step::Finish,
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn test_two_dealers_with_too_many_complaints_fail_the_ceremony() {
    let c = consortium();
    let keys = c.sorted_keys();
    c.deal_all();
    // Dealers 0 and 1 each get 2 complaints (> f = 1): their logs carry no results, 2
    // usable logs remain and 3 are needed.
    for dealer in &keys[..2] {
        for player in &keys[2..] {
            c.tamper_share(dealer, player);
        }
    }
    c.ack_all();
    let logged = c.log_all();
    let unusable: Vec<PublicKey> = c
        .operators
        .iter()
        .zip(&logged)
        .filter(|(_, l)| l.unusable)
        .map(|(o, _)| o.public)
        .collect();
    assert_eq!(unusable.len(), 2);
    assert!(unusable.iter().all(|k| keys[..2].contains(k)));

    let mut genesis = c.genesis.clone();
    let err = set_beacon(&c.observer, &mut genesis, false).unwrap_err();
    assert_eq!(
        err.beacon_error().map(|e| e.code()),
        Some("CEREMONY_FAILED"),
        "{err}"
    );
    for result in c.finish_all() {
        let err = result.unwrap_err();
        assert_eq!(
            err.beacon_error().map(|e| e.code()),
            Some("CEREMONY_FAILED"),
            "{err}"
        );
    }
}

#[test]
fn test_a_dealer_is_held_to_its_published_commitment() {
    let c = consortium();
    let dealt = c.deal_all();
    c.ack_all();
    let me = &c.operators[0];

    // deal again: the same files from the saved seed, never a new seed.
    let commitment = fs::read(&dealt[0].commitment).unwrap();
    let again = deal(&me.dir, &c.genesis, &me.key).unwrap();
    assert!(again.resumed);
    assert_eq!(fs::read(&again.commitment).unwrap(), commitment);

    // A replaced seed file gives another polynomial: log refuses it.
    let seed_path = me.dir.dealer_seed(&me.public);
    let original = fs::read(&seed_path).unwrap();
    let other_seed = format!(
        "{{\"dealer\": \"{}\", \"seed\": \"{}\"}}\n",
        me.public,
        "ab".repeat(32)
    );
    fs::write(&seed_path, other_seed).unwrap();
    let err = log(&me.dir, &c.genesis, &me.key).unwrap_err();
    assert!(
        matches!(
            &err,
            CeremonyError::CommitmentMismatch {
                step: Step::Log,
                ..
            }
        ),
        "{err}"
    );
    assert!(!me.dir.log(&me.public).exists());
    let err = deal(&me.dir, &c.genesis, &me.key).unwrap_err();
    assert!(matches!(
        err,
        CeremonyError::CommitmentMismatch {
            step: Step::Deal,
            ..
        }
    ));

    // With its own seed back it logs; a log over other acks afterwards is refused.
    fs::write(&seed_path, original).unwrap();
    log(&me.dir, &c.genesis, &me.key).unwrap();
    let last = c.sorted_keys()[3];
    fs::remove_file(me.dir.ack(&me.public, &last)).unwrap();
    let err = log(&me.dir, &c.genesis, &me.key).unwrap_err();
    assert!(matches!(err, CeremonyError::LogExists { .. }), "{err}");
}

#[test]
fn test_another_validator_set_or_a_stranger_is_refused() {
    let c = consortium();
    let me = &c.operators[0];
    deal(&me.dir, &c.genesis, &me.key).unwrap();

    let mut changed = c.genesis.clone();
    changed.validators.pop();
    let err = ack(&me.dir, &changed, &me.key).unwrap_err();
    assert!(
        matches!(
            err,
            CeremonyError::OtherCeremony {
                step: Step::Ack,
                ..
            }
        ),
        "{err}"
    );

    let stranger = SigningKey::from_bytes(&[9; 32]);
    let err = ack(&me.dir, &c.genesis, &stranger).unwrap_err();
    assert!(matches!(err, CeremonyError::NotAValidator { .. }), "{err}");
}
