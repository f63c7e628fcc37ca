//! Lottery txs through the state: the lifecycle with a real threshold BLS seed collected from
//! validators' `SeedShare` txs (a jiu-beacon DKG among 4 validators, t = 3), every refusal of
//! a share, the book's refusals as tx codes, the lottery proof under the state root, and
//! rebuilding the book by re-applying the finalized lottery txs.
//!
//! [`Chain::apply`] checks on every tx what the contract promises: a refusal leaves the state
//! and its root exactly as they were; an acceptance changes the root (every lottery tx changes
//! a lottery leaf or the pending shares) and keeps the state's and the book's invariants.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use jiu_beacon::dkg::{run_in_process, Identity};
use jiu_beacon::rand_core::SeedableRng;
use jiu_beacon::{
    partial_sign, GroupPublic, PartialSignature, SecretShare, SeedMessage, Signature,
};
use jiu_lottery::book::{check_transition, Exclusion, Stage};
use jiu_lottery::{
    Entry, LotteryEvent, LotteryOp, LotteryRecord, LotteryRules, Pool, Rules, Status,
};
use rand_chacha_10::ChaCha20Rng;

use super::*;
use crate::gs1::Gtin;
use crate::lottery::{verify_lottery, Beacon, LotteryProofError};
use crate::testkit::{
    genesis, public_key, signing_key, AUDITOR, CHAIN, DISTRIBUTOR, FREE, INACTIVE_STORE, PRODUCER,
    PRODUCER_2, STORE,
};
use crate::tx::{Payload, SignedTx, TxBody};

/// The lottery most tests run; the others give "another lottery's" seed message.
const ID: u64 = 7;
const OTHER_ID: u64 = 8;
const THIRD_ID: u64 = 9;
const OPEN: u64 = 1_800_000_000_000;
const CLOSE: u64 = OPEN + 60_000;
const GRACE: u64 = 10_000;
/// The first block time after the intake.
const AFTER_INTAKE: u64 = CLOSE + GRACE + 1;
/// The validators: the seed of each one's consensus key (not an org key) and the org that
/// runs it.
const VALIDATORS: [(u8, &str); 4] = [
    (20, "producer"),
    (21, "distributor"),
    (22, "store"),
    (23, "auditor"),
];
/// The issuer signs with the producer's admin key, the operator with the distributor's key
/// (one of the rules' operator keys).
const ISSUER: u8 = PRODUCER;
const OPERATOR: u8 = DISTRIBUTOR;

/// The genesis DKG among the validators' consensus keys, run once for all tests.
struct Group {
    public: GroupPublic,
    /// `shares[i]` has index `i` and belongs to the validator with key seed `seeds[i]`.
    shares: Vec<SecretShare>,
    seeds: Vec<u8>,
}

fn group() -> &'static Group {
    static GROUP: OnceLock<Group> = OnceLock::new();
    GROUP.get_or_init(|| {
        let identities: Vec<Identity> = VALIDATORS
            .iter()
            .map(|(seed, _)| Identity::from_secret_bytes(&[*seed; 32]))
            .collect();
        let mut rng = ChaCha20Rng::from_seed([42; 32]);
        let ceremony = run_in_process(CHAIN, &identities, &mut rng).expect("ceremony");
        let public = ceremony.output.public;
        assert_eq!((public.n(), public.threshold()), (4, 3));
        let seeds: Vec<u8> = public
            .participants()
            .iter()
            .map(|key| {
                VALIDATORS
                    .iter()
                    .map(|(seed, _)| *seed)
                    .find(|seed| public_key(*seed) == *key)
                    .expect("every participant is a validator")
            })
            .collect();
        for (i, share) in ceremony.shares.iter().enumerate() {
            assert_eq!(
                share.index() as usize,
                i,
                "shares come in participant order"
            );
        }
        Group {
            public,
            shares: ceremony.shares,
            seeds,
        }
    })
}

fn rules(id: u64) -> LotteryRules {
    let mut operator_keys = vec![public_key(PRODUCER_2), public_key(OPERATOR)];
    operator_keys.sort();
    let pool = |pool_id, quota, waitlist_size| Pool {
        pool_id,
        quota,
        waitlist_size,
    };
    LotteryRules {
        draw: Rules {
            lottery_id: id,
            open_at_ms: OPEN,
            close_at_ms: CLOSE,
            tier_count: 2,
            weight_max: 3,
            pools: vec![pool(1, 3, 2), pool(2, 2, 1)],
        },
        product: Gtin::from_value(95_060_001_343_016).expect("valid GTIN"),
        grace_ms: GRACE,
        operator_keys,
        reason_codes_hash: sha256(&[b"reason codes"]),
        algorithm_version: jiu_lottery::rules::DRAW_ALGORITHM_VERSION,
        claim_window_ms: 86_400_000,
    }
}

/// Entry `n` of lottery `id` at (batch, index): two pools, two tiers, weights 1 to 3.
fn entry(id: u64, batch_no: u32, index: u32, n: u64) -> Entry {
    let label = |what: &str| sha256(&[what.as_bytes(), &id.to_be_bytes(), &n.to_be_bytes()]);
    Entry {
        lottery_id: id,
        pool_id: 1 + (n % 2) as u32,
        batch_no,
        index,
        nullifier: label("nullifier"),
        commitment: label("commitment"),
        received_at_ms: OPEN + 100 + n,
        tier: u8::from(n.is_multiple_of(3)),
        weight: 1 + (n % 3) as u16,
    }
}

/// The one exclusion the operator uploads: entry 1 of batch 0.
fn exclusion() -> Exclusion {
    Exclusion {
        batch_no: 0,
        index: 1,
        reason_hash: sha256(&[b"reason: duplicate account"]),
    }
}

/// The operator's decisions on `entries`, built independently of the book.
fn decisions(entries: &[Entry]) -> Vec<Status> {
    let excluded = exclusion();
    entries
        .iter()
        .map(|e| {
            if (e.batch_no, e.index) == (excluded.batch_no, excluded.index) {
                Status::excluded(e.leaf_hash(), excluded.reason_hash)
            } else {
                Status::eligible(e.leaf_hash())
            }
        })
        .collect()
}

fn lottery(op: LotteryOp) -> Payload {
    Payload::Lottery { op }
}

/// Share `i`'s partial signature of `message`, as a `SeedShare` payload for lottery `id`.
fn share_payload(id: u64, i: usize, message: &SeedMessage) -> Payload {
    Payload::SeedShare {
        lottery_id: id,
        partial: partial_sign(&group().shares[i], message)
            .to_bytes()
            .to_vec(),
    }
}

/// The threshold signature of `message` from shares `indices`, combined off chain.
fn combined(message: &SeedMessage, indices: &[usize]) -> Signature {
    let partials: Vec<PartialSignature> = indices
        .iter()
        .map(|i| partial_sign(&group().shares[*i], message))
        .collect();
    jiu_beacon::combine(&group().public, message, &partials).expect("t valid partials")
}

/// The test consortium with a beacon (or none) and the validators.
fn genesis_state(with_beacon: bool) -> State {
    let beacon = with_beacon.then(|| Arc::new(group().public.clone()) as Arc<dyn Beacon>);
    let validators = VALIDATORS
        .iter()
        .map(|(seed, org_id)| (public_key(*seed), org_id.to_string()));
    genesis().with_lottery(CHAIN, beacon, validators)
}

/// An accepted lottery tx as a node records it: its block, the org that signed it (`None`
/// for a validator), and what it did.
#[derive(Clone)]
struct Logged {
    tx: VerifiedTx,
    at: BlockCtx,
    org: Option<(String, Role)>,
    events: Vec<Event>,
}

/// A chain and its block clock, with the lottery txs it accepted.
#[derive(Clone)]
struct Chain {
    state: State,
    at: BlockCtx,
    blocks: Vec<BlockCtx>,
    log: Vec<Logged>,
    nonce: u64,
    /// The entries of each lottery as the operator sent them.
    entries: BTreeMap<u64, Vec<Entry>>,
}

impl Chain {
    fn new() -> Self {
        Self::from_state(genesis_state(true))
    }

    fn without_beacon() -> Self {
        Self::from_state(genesis_state(false))
    }

    fn from_state(state: State) -> Self {
        Self {
            state,
            at: BlockCtx {
                height: 0,
                time_ms: 0,
            },
            blocks: Vec::new(),
            log: Vec::new(),
            nonce: 0,
            entries: BTreeMap::new(),
        }
    }

    /// Begins the next block, at `time_ms`.
    fn block(&mut self, time_ms: u64) {
        self.at = BlockCtx {
            height: self.at.height + 1,
            time_ms,
        };
        self.state.begin_block(&self.at);
        self.blocks.push(self.at);
    }

    fn tx(&mut self, signer: u8, payload: Payload) -> VerifiedTx {
        self.nonce += 1;
        let body = TxBody {
            chain_id: CHAIN.to_string(),
            signer: public_key(signer),
            nonce: self.nonce,
            expires_at_height: self.at.height + 100,
            payload,
        };
        SignedTx::sign(body, &signing_key(signer))
            .verify()
            .expect("test tx is signed correctly")
    }

    /// Signs and applies a tx in the current block; `Err` is the refusal's code.
    fn submit(&mut self, signer: u8, payload: Payload) -> Result<Vec<Event>, &'static str> {
        let tx = self.tx(signer, payload);
        self.apply(tx)
    }

    /// Applies a tx and checks the all-or-nothing promise (see the module doc).
    fn apply(&mut self, tx: VerifiedTx) -> Result<Vec<Event>, &'static str> {
        let before = self.state.clone();
        let root = before.root();
        let signer = tx.tx().body.signer;
        let org = self
            .state
            .org_of_key(&signer)
            .map(|org| (org.id.clone(), org.role));
        match self.state.apply(&tx, &self.at) {
            Ok(receipt) => {
                assert_ne!(
                    self.state.root(),
                    root,
                    "an accepted lottery tx changes the root"
                );
                self.state.check_invariants().expect("state invariants");
                let book = self.state.lottery_book();
                book.check_invariants().expect("book invariants");
                check_transition(before.lottery_book(), book, self.at.time_ms)
                    .expect("an allowed transition");
                self.log.push(Logged {
                    tx,
                    at: self.at,
                    org,
                    events: receipt.events.clone(),
                });
                Ok(receipt.events)
            }
            Err(error) => {
                assert!(
                    self.state == before,
                    "refused ({error}) but the state changed"
                );
                assert_eq!(
                    self.state.root(),
                    root,
                    "refused ({error}) but the root changed"
                );
                Err(error.code())
            }
        }
    }

    fn ok(&mut self, signer: u8, payload: Payload) -> Vec<Event> {
        let kind = payload.kind();
        self.submit(signer, payload)
            .unwrap_or_else(|code| panic!("{kind} refused: {code}"))
    }

    fn record(&self, id: u64) -> &LotteryRecord {
        self.state
            .lottery_book()
            .lottery(id)
            .expect("the lottery exists")
    }

    /// The next batch of lottery `id`, made of entries `ns`, from the operator.
    fn append(&mut self, id: u64, ns: Range<u64>) -> Result<Vec<Event>, &'static str> {
        let batch_no = self.record(id).batches().len() as u32;
        let entries = ns
            .enumerate()
            .map(|(i, n)| entry(id, batch_no, i as u32, n))
            .collect();
        self.append_entries(id, entries)
    }

    fn append_entries(&mut self, id: u64, entries: Vec<Entry>) -> Result<Vec<Event>, &'static str> {
        let op = LotteryOp::AppendBatch {
            lottery_id: id,
            batch_no: entries.first().map_or(0, |e| e.batch_no),
            entries: entries.clone(),
        };
        let events = self.submit(OPERATOR, lottery(op))?;
        self.entries.entry(id).or_default().extend(entries);
        Ok(events)
    }

    /// Lotteries `ids` created, then two batches each (12 and 8 entries): the intake.
    fn collect(&mut self, ids: &[u64]) {
        self.block(OPEN - 10_000);
        for id in ids {
            let rules = rules(*id);
            self.ok(ISSUER, lottery(LotteryOp::CreateLottery { rules }));
        }
        self.block(OPEN + 1_000);
        for id in ids {
            self.append(*id, 0..12).expect("batch 0");
        }
        self.block(OPEN + 2_000);
        for id in ids {
            self.append(*id, 12..20).expect("batch 1");
        }
    }

    /// Every batch's status in one upload, with [`exclusion`].
    fn status_op(&self, id: u64) -> LotteryOp {
        LotteryOp::AppendStatus {
            lottery_id: id,
            first_batch_no: 0,
            batches: self.record(id).batches().len() as u32,
            exclusions: vec![exclusion()],
        }
    }

    /// The entries root and status root of lottery `id`, from the entries sent.
    fn roots(&self, id: u64) -> (Hash, Hash) {
        let entries = &self.entries[&id];
        (
            jiu_lottery::entries_root(entries).expect("valid layout"),
            jiu_lottery::status_root(entries, &decisions(entries)).expect("valid statuses"),
        )
    }

    fn commit_status_op(&self, id: u64) -> LotteryOp {
        let (entries_root, status_root) = self.roots(id);
        LotteryOp::CommitStatus {
            lottery_id: id,
            entries_count: self.entries[&id].len() as u64,
            entries_root,
            status_root,
        }
    }

    /// The intake of `ids`, their statuses uploaded and committed: waiting for the seed.
    fn waiting_for_seed(ids: &[u64]) -> Self {
        let mut chain = Self::new();
        chain.collect(ids);
        chain.commit_statuses(ids);
        chain
    }

    fn commit_statuses(&mut self, ids: &[u64]) {
        self.block(AFTER_INTAKE);
        for id in ids {
            self.ok(OPERATOR, lottery(self.status_op(*id)));
        }
        self.block(AFTER_INTAKE + 1_000);
        for id in ids {
            self.ok(OPERATOR, lottery(self.commit_status_op(*id)));
        }
    }

    /// Lottery `id`'s seed message, from the rules and the roots of the entries sent.
    fn seed_message(&self, id: u64) -> SeedMessage {
        let (entries_root, status_root) = self.roots(id);
        SeedMessage::new(CHAIN, id, rules(id).hash(), entries_root, status_root)
            .expect("valid chain id")
    }

    /// Validator `i` (the holder of share `i`) sends its share of lottery `id`.
    fn share(&mut self, id: u64, i: usize) -> Result<Vec<Event>, &'static str> {
        let message = self.seed_message(id);
        self.submit(group().seeds[i], share_payload(id, i, &message))
    }

    fn submit_seed_op(&self, id: u64, indices: &[usize]) -> LotteryOp {
        let message = self.seed_message(id);
        LotteryOp::SubmitSeed {
            lottery_id: id,
            signature: combined(&message, indices).to_bytes().to_vec(),
            message: message.to_bytes(),
        }
    }

    /// The results root by [`jiu_lottery::draw`] over the entries sent, the operator's
    /// decisions and the seed the chain set.
    fn results_root(&self, id: u64) -> Hash {
        let record = self.record(id);
        let (entries, statuses) = record.dataset().expect("entries held until the results");
        let sent = &self.entries[&id];
        assert_eq!(
            (&entries, &statuses),
            (sent, &decisions(sent)),
            "the book's dataset"
        );
        let seed = record.seed().expect("seeded").seed;
        jiu_lottery::draw(&rules(id).draw, sent, &decisions(sent), &seed)
            .expect("valid draw")
            .results_root
    }

    fn results_op(&self, id: u64) -> LotteryOp {
        LotteryOp::CommitResults {
            lottery_id: id,
            results_root: self.results_root(id),
        }
    }
}

fn flipped(mut hash: Hash) -> Hash {
    hash[0] ^= 1;
    hash
}

#[test]
fn test_lifecycle_through_txs_with_the_seed_from_validator_shares() {
    let mut chain = Chain::new();
    chain.block(OPEN - 10_000);
    let events = chain.ok(
        ISSUER,
        lottery(LotteryOp::CreateLottery { rules: rules(ID) }),
    );
    let created = LotteryEvent::LotteryCreated {
        lottery_id: ID,
        rules_hash: rules(ID).hash(),
    };
    assert_eq!(events, [Event::Lottery { event: created }]);
    for (time_ms, ns, count) in [(OPEN + 1_000, 0..12, 12), (OPEN + 2_000, 12..20, 20)] {
        chain.block(time_ms);
        let events = chain.append(ID, ns).expect("batch");
        let root = jiu_lottery::entries_root(&chain.entries[&ID]).expect("valid");
        assert!(
            matches!(&events[..], [Event::Lottery { event: LotteryEvent::BatchAppended {
                entries_count, entries_root, ..
            } }] if *entries_count == count && *entries_root == root),
            "{events:?}"
        );
    }
    chain.block(AFTER_INTAKE);
    chain.ok(OPERATOR, lottery(chain.status_op(ID)));
    assert_eq!(chain.record(ID).excluded_count(), 1);
    chain.ok(OPERATOR, lottery(chain.commit_status_op(ID)));
    assert_eq!(chain.record(ID).stage(), Stage::StatusCommitted);

    // Two shares are held and leave the lottery waiting.
    chain.block(AFTER_INTAKE + 1_000);
    let message = chain.seed_message(ID);
    for (i, held) in [(0, 1), (1, 2)] {
        let events = chain.share(ID, i).expect("a valid share");
        let accepted = Event::SeedShareAccepted {
            lottery_id: ID,
            index: i as u32,
            shares: held,
            threshold: 3,
        };
        assert_eq!(events, [accepted]);
        assert_eq!(chain.record(ID).stage(), Stage::StatusCommitted);
        assert_eq!(chain.record(ID).seed(), None);
    }
    let partial = |i: usize| {
        partial_sign(&group().shares[i], &message)
            .to_bytes()
            .to_vec()
    };
    let pending = BTreeMap::from([(0, partial(0)), (1, partial(1))]);
    assert_eq!(chain.state.seed_shares(ID), Some(&pending));

    // The third combines them: the seed is the hash of the unique threshold signature.
    let sigma = combined(&message, &[0, 1, 2]);
    let seed = jiu_lottery::seed_from_signature(&sigma.to_bytes());
    assert_eq!(seed, jiu_beacon::seed_from_signature(&sigma));
    let events = chain.share(ID, 2).expect("the third share");
    let accepted = Event::SeedShareAccepted {
        lottery_id: ID,
        index: 2,
        shares: 3,
        threshold: 3,
    };
    let set = LotteryEvent::SeedSet {
        lottery_id: ID,
        seed,
    };
    assert_eq!(events, [accepted, Event::Lottery { event: set }]);
    assert_eq!(chain.state.seed_shares(ID), None, "the shares are spent");
    let record = chain.record(ID);
    assert_eq!(record.stage(), Stage::Seeded);
    let seed_record = record.seed().expect("seeded");
    assert_eq!(seed_record.seed, seed);
    assert_eq!(seed_record.signature, sigma.to_bytes().to_vec());
    assert_eq!(chain.share(ID, 3), Err("NOT_WAITING_FOR_SEED"));

    // The results: only the draw of the committed inputs.
    chain.block(AFTER_INTAKE + 2_000);
    let root = chain.results_root(ID);
    let wrong = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: flipped(root),
    };
    assert_eq!(chain.submit(STORE, lottery(wrong)), Err("RESULTS_MISMATCH"));
    let result = jiu_lottery::draw(
        &rules(ID).draw,
        &chain.entries[&ID],
        &decisions(&chain.entries[&ID]),
        &seed,
    )
    .expect("valid draw");
    let winners: u64 = result.pools.iter().map(|p| p.winners.len() as u64).sum();
    assert_eq!(winners, 5, "both pools fill their quotas (3 + 2)");
    let events = chain.ok(STORE, lottery(chain.results_op(ID)));
    let committed = LotteryEvent::ResultsCommitted {
        lottery_id: ID,
        results_root: root,
        winners,
    };
    assert_eq!(events, [Event::Lottery { event: committed }]);
    assert_eq!(chain.record(ID).stage(), Stage::Drawn);
    assert_eq!(chain.record(ID).results_root(), Some(root));
    let again = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: root,
    };
    assert_eq!(
        chain.submit(STORE, lottery(again)),
        Err("RESULTS_ALREADY_COMMITTED")
    );
}

#[test]
fn test_any_threshold_subset_of_shares_gives_the_same_seed_and_root() {
    let waiting = Chain::waiting_for_seed(&[ID]);
    let expected = jiu_lottery::seed_from_signature(
        &combined(&waiting.seed_message(ID), &[0, 1, 2]).to_bytes(),
    );
    let mut outcomes = Vec::new();
    for order in [[0, 1, 2], [3, 2, 1], [2, 0, 3]] {
        let mut chain = waiting.clone();
        chain.block(AFTER_INTAKE + 5_000);
        for i in order {
            chain.share(ID, i).expect("a valid share");
        }
        let seed = chain.record(ID).seed().expect("seeded").seed;
        assert_eq!(seed, expected, "shares {order:?}");
        outcomes.push((chain.state.root(), chain.state.lottery_book().clone()));
    }
    assert!(outcomes.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn test_fewer_than_threshold_shares_never_set_the_seed() {
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    chain.share(ID, 3).expect("share 3");
    chain.share(ID, 1).expect("share 1");
    for k in 1..=3 {
        chain.block(AFTER_INTAKE + 5_000 + k * 1_000);
        assert_eq!(chain.record(ID).stage(), Stage::StatusCommitted);
        assert_eq!(chain.record(ID).seed(), None);
        let held: Vec<u32> = chain
            .state
            .seed_shares(ID)
            .expect("pending")
            .keys()
            .copied()
            .collect();
        assert_eq!(held, [1, 3]);
    }
    let results = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: [1; 32],
    };
    assert_eq!(
        chain.submit(STORE, lottery(results)),
        Err("RESULTS_BEFORE_SEED")
    );
}

#[test]
fn test_duplicate_share_is_refused() {
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    chain.share(ID, 0).expect("share 0");
    // The same share again in a new tx, and the very same tx again.
    assert_eq!(chain.share(ID, 0), Err("DUPLICATE_SHARE"));
    let sent = chain.log.last().expect("logged").tx.clone();
    assert_eq!(chain.apply(sent), Err("REPLAYED"));
    assert_eq!(chain.state.seed_shares(ID).map(BTreeMap::len), Some(1));
}

#[test]
fn test_share_signed_by_a_non_validator_is_refused() {
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    let message = chain.seed_message(ID);
    // An active org's key, and a key nobody registered.
    for signer in [STORE, FREE] {
        let refused = chain.submit(signer, share_payload(ID, 0, &message));
        assert_eq!(refused, Err("NOT_BEACON_PARTICIPANT"), "signer {signer}");
    }
    assert_eq!(chain.state.seed_shares(ID), None);
}

#[test]
fn test_share_of_another_validator_is_refused() {
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    let message = chain.seed_message(ID);
    let a = group().seeds[0];
    assert_eq!(
        chain.submit(a, share_payload(ID, 1, &message)),
        Err("SHARE_INDEX_MISMATCH")
    );
    // B's point under A's index: the index matches the signer, the point does not.
    let mut partial = partial_sign(&group().shares[1], &message).to_bytes();
    partial[..4].copy_from_slice(&0u32.to_be_bytes());
    let relabelled = Payload::SeedShare {
        lottery_id: ID,
        partial: partial.to_vec(),
    };
    assert_eq!(chain.submit(a, relabelled), Err("BAD_SHARE"));
    assert_eq!(chain.state.seed_shares(ID), None);
}

#[test]
fn test_share_over_another_message_is_refused() {
    let mut chain = Chain::waiting_for_seed(&[ID, OTHER_ID]);
    chain.block(AFTER_INTAKE + 5_000);
    let a = group().seeds[0];
    let other = chain.seed_message(OTHER_ID);
    let (entries_root, _) = chain.roots(ID);
    let wrong_status = SeedMessage::new(CHAIN, ID, rules(ID).hash(), entries_root, [3; 32])
        .expect("valid chain id");
    for message in [&other, &wrong_status] {
        let partial = partial_sign(&group().shares[0], message)
            .to_bytes()
            .to_vec();
        let payload = Payload::SeedShare {
            lottery_id: ID,
            partial,
        };
        assert_eq!(chain.submit(a, payload), Err("BAD_SHARE"));
    }
    // Share 0's index with bytes that are not a point.
    let mut garbage = vec![0xff; crate::lottery::PARTIAL_BYTES];
    garbage[..4].copy_from_slice(&0u32.to_be_bytes());
    let payload = Payload::SeedShare {
        lottery_id: ID,
        partial: garbage,
    };
    assert_eq!(chain.submit(a, payload), Err("BAD_SHARE"));
    // A share one byte short is not even well-formed.
    let mut short = partial_sign(&group().shares[0], &chain.seed_message(ID))
        .to_bytes()
        .to_vec();
    short.pop();
    let payload = Payload::SeedShare {
        lottery_id: ID,
        partial: short,
    };
    assert_eq!(chain.submit(a, payload), Err("INVALID_PAYLOAD"));
    assert_eq!(chain.state.seed_shares(ID), None);
    // The other lottery's share is good for that lottery.
    chain
        .share(OTHER_ID, 0)
        .expect("share for the other lottery");
    assert_eq!(chain.state.seed_shares(ID), None);
}

#[test]
fn test_share_before_the_status_commitment_is_refused() {
    let mut chain = Chain::new();
    chain.collect(&[ID]);
    assert_eq!(chain.share(ID, 0), Err("NOT_WAITING_FOR_SEED"));
    chain.block(AFTER_INTAKE);
    chain.ok(OPERATOR, lottery(chain.status_op(ID)));
    assert_eq!(chain.share(ID, 0), Err("NOT_WAITING_FOR_SEED"));
    let message = chain.seed_message(ID);
    let unknown = share_payload(OTHER_ID, 0, &message);
    assert_eq!(
        chain.submit(group().seeds[0], unknown),
        Err("UNKNOWN_LOTTERY")
    );
    assert_eq!(chain.state.seed_shares(ID), None);
}

#[test]
fn test_share_on_a_chain_without_beacon_is_refused() {
    let mut chain = Chain::without_beacon();
    chain.collect(&[ID]);
    chain.commit_statuses(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    assert_eq!(chain.share(ID, 0), Err("NO_BEACON"));
    // Nothing can check a whole signature either.
    let op = chain.submit_seed_op(ID, &[0, 1, 2]);
    assert_eq!(chain.submit(STORE, lottery(op)), Err("BAD_SEED_SIGNATURE"));
    assert_eq!(chain.record(ID).stage(), Stage::StatusCommitted);
}

#[test]
fn test_late_batch_is_refused() {
    let mut chain = Chain::new();
    chain.block(OPEN - 10_000);
    chain.ok(
        ISSUER,
        lottery(LotteryOp::CreateLottery { rules: rules(ID) }),
    );
    chain.block(CLOSE + GRACE);
    chain
        .append(ID, 0..4)
        .expect("a batch at the end of the grace");
    chain.block(CLOSE + GRACE + 1);
    assert_eq!(chain.append(ID, 4..8), Err("LATE_BATCH"));
    assert_eq!(chain.record(ID).entries_count(), 4);
}

#[test]
fn test_duplicate_nullifier_across_batches_is_refused() {
    let mut chain = Chain::new();
    chain.block(OPEN - 10_000);
    chain.ok(
        ISSUER,
        lottery(LotteryOp::CreateLottery { rules: rules(ID) }),
    );
    chain.block(OPEN + 1_000);
    chain.append(ID, 0..4).expect("batch 0");
    let mut batch: Vec<Entry> = (4..8).map(|n| entry(ID, 1, n as u32 - 4, n)).collect();
    batch[3].nullifier = entry(ID, 0, 0, 0).nullifier;
    assert_eq!(chain.append_entries(ID, batch), Err("DUPLICATE_NULLIFIER"));
    assert_eq!(chain.record(ID).entries_count(), 4);
    chain
        .append(ID, 4..8)
        .expect("batch 1 with fresh nullifiers");
}

#[test]
fn test_status_root_not_covering_the_entries_is_refused() {
    let mut chain = Chain::new();
    chain.collect(&[ID]);
    chain.block(AFTER_INTAKE);
    chain.ok(OPERATOR, lottery(chain.status_op(ID)));
    let sent = chain.entries[&ID].clone();
    let prefix = &sent[..12];
    let commit = |entries_count, entries_root, status_root| {
        lottery(LotteryOp::CommitStatus {
            lottery_id: ID,
            entries_count,
            entries_root,
            status_root,
        })
    };
    let prefix_root = jiu_lottery::entries_root(prefix).expect("valid");
    let prefix_status = jiu_lottery::status_root(prefix, &decisions(prefix)).expect("valid");
    let (entries_root, status_root) = chain.roots(ID);
    // The first batch only; the right count with another root; one entry too many.
    for (count, root) in [(12, prefix_root), (20, prefix_root), (21, entries_root)] {
        let refused = chain.submit(OPERATOR, commit(count, root, prefix_status));
        assert_eq!(refused, Err("STATUS_NOT_COVERING"), "{count} entries");
    }
    assert_eq!(chain.record(ID).stage(), Stage::Collecting);
    chain.ok(OPERATOR, commit(20, entries_root, status_root));
    assert_eq!(chain.record(ID).status_root(), Some(status_root));
}

#[test]
fn test_seed_message_of_another_lottery_is_refused() {
    let mut chain = Chain::waiting_for_seed(&[ID, OTHER_ID]);
    chain.block(AFTER_INTAKE + 5_000);
    // A genuine threshold signature, of the other lottery's message.
    let LotteryOp::SubmitSeed {
        message, signature, ..
    } = chain.submit_seed_op(OTHER_ID, &[0, 1, 2])
    else {
        unreachable!("submit_seed_op builds a SubmitSeed")
    };
    let op = LotteryOp::SubmitSeed {
        lottery_id: ID,
        message,
        signature: signature.clone(),
    };
    assert_eq!(
        chain.submit(STORE, lottery(op)),
        Err("SEED_MESSAGE_MISMATCH")
    );
    // The right message with that signature.
    let op = LotteryOp::SubmitSeed {
        lottery_id: ID,
        message: chain.seed_message(ID).to_bytes(),
        signature,
    };
    assert_eq!(chain.submit(STORE, lottery(op)), Err("BAD_SEED_SIGNATURE"));
    assert_eq!(chain.record(ID).stage(), Stage::StatusCommitted);
}

#[test]
fn test_whole_signature_from_an_org_sets_the_seed_and_spends_pending_shares() {
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    chain.share(ID, 0).expect("share 0");
    chain.share(ID, 1).expect("share 1");
    let mut by_shares = chain.clone();
    by_shares.share(ID, 2).expect("the third share");

    // Combined off chain from another subset, submitted whole by a store.
    let op = chain.submit_seed_op(ID, &[1, 2, 3]);
    let events = chain.ok(STORE, lottery(op.clone()));
    let seed = by_shares.record(ID).seed().expect("seeded").seed;
    let set = LotteryEvent::SeedSet {
        lottery_id: ID,
        seed,
    };
    assert_eq!(events, [Event::Lottery { event: set }]);
    assert_eq!(
        chain.state.seed_shares(ID),
        None,
        "the pending shares are spent"
    );
    assert_eq!(chain.state.root(), by_shares.state.root());
    assert_eq!(chain.state.lottery_book(), by_shares.state.lottery_book());
    assert_eq!(chain.share(ID, 2), Err("NOT_WAITING_FOR_SEED"));
    assert_eq!(chain.submit(STORE, lottery(op)), Err("SEED_ALREADY_SET"));

    // Without pending shares: an auditor's key is an active org's key too.
    let mut chain = Chain::waiting_for_seed(&[ID]);
    chain.block(AFTER_INTAKE + 5_000);
    let op = chain.submit_seed_op(ID, &[0, 2, 3]);
    chain.ok(AUDITOR, lottery(op));
    assert_eq!(chain.record(ID).seed().map(|s| s.seed), Some(seed));
}

/// Checks `state`'s proof of every lottery against its root.
fn assert_proofs_verify(state: &State) {
    for (id, record) in state.lottery_book().lotteries() {
        let proof = state.prove_lottery(*id).expect("a lottery has a proof");
        assert_eq!(
            verify_lottery(&state.root(), &record.leaf_bytes(), &proof),
            Ok(()),
            "lottery {id}"
        );
    }
}

#[test]
fn test_lottery_proofs_verify_after_every_tx_and_tampering_fails() {
    let mut chain = Chain::new();
    chain.collect(&[ID, OTHER_ID, THIRD_ID]);
    chain.block(AFTER_INTAKE);
    let mut roots = vec![chain.state.root()];
    let mut step = |chain: &mut Chain, signer: u8, payload: Payload| {
        chain.ok(signer, payload);
        assert_proofs_verify(&chain.state);
        roots.push(chain.state.root());
    };
    for id in [ID, OTHER_ID, THIRD_ID] {
        let status = lottery(chain.status_op(id));
        step(&mut chain, OPERATOR, status);
        let commit = lottery(chain.commit_status_op(id));
        step(&mut chain, OPERATOR, commit);
    }
    let message = chain.seed_message(OTHER_ID);
    for i in [0, 1] {
        step(
            &mut chain,
            group().seeds[i],
            share_payload(OTHER_ID, i, &message),
        );
    }
    let unique: std::collections::BTreeSet<Hash> = roots.iter().copied().collect();
    assert_eq!(
        unique.len(),
        roots.len(),
        "every lottery tx gives a new root"
    );

    // Tampering, with shares pending (a non-trivial digest) and three lotteries.
    let state = &chain.state;
    let root = state.root();
    let leaf = chain.record(OTHER_ID).leaf_bytes();
    let proof = state.prove_lottery(OTHER_ID).expect("proof");
    assert_eq!((proof.index, proof.count, proof.path.len()), (1, 3, 2));
    let code = |leaf: &[u8], proof: &crate::lottery::LotteryProof| {
        verify_lottery(&root, leaf, proof).map_err(|e| e.code())
    };
    assert_eq!(code(&leaf, &proof), Ok(()));
    assert_eq!(
        verify_lottery(&roots[0], &leaf, &proof),
        Err(LotteryProofError::NotProven)
    );
    // The lotteries root is recomputed, not sent: a tampered leaf, path hash or shares digest
    // gives another lotteries leaf, which is not under the state root.
    let mut tampered_leaf = leaf.clone();
    tampered_leaf[40] ^= 1;
    assert_eq!(code(&tampered_leaf, &proof), Err("LOTTERY_NOT_PROVEN"));
    let other_leaf = chain.record(ID).leaf_bytes();
    assert_eq!(code(&other_leaf, &proof), Err("LOTTERY_NOT_PROVEN"));
    let mut bad = proof.clone();
    bad.path[0] = flipped(bad.path[0]);
    assert_eq!(code(&leaf, &bad), Err("LOTTERY_NOT_PROVEN"));
    let mut bad = proof.clone();
    bad.shares_digest = flipped(bad.shares_digest);
    assert_eq!(code(&leaf, &bad), Err("LOTTERY_NOT_PROVEN"));
    let mut bad = proof.clone();
    bad.state_path[0] = flipped(bad.state_path[0]);
    assert_eq!(code(&leaf, &bad), Err("LOTTERY_NOT_PROVEN"));
    // A path of the wrong shape for the stated position is caught before the state root.
    let mut bad = proof.clone();
    bad.path.push([0; 32]);
    assert_eq!(code(&leaf, &bad), Err("LOTTERY_PROOF_MALFORMED"));
    let mut bad = proof.clone();
    bad.index = bad.count;
    assert_eq!(code(&leaf, &bad), Err("LOTTERY_PROOF_MALFORMED"));
    assert_eq!(state.prove_lottery(999), None);
}

#[test]
fn test_reapply_lottery_rebuilds_the_same_book_and_root() {
    let mut chain = Chain::waiting_for_seed(&[ID, OTHER_ID, THIRD_ID]);
    chain.block(AFTER_INTAKE + 5_000);
    // ID: seeded by shares, drawn by an org. OTHER_ID: two shares, then a whole signature
    // from an org, drawn by a validator. THIRD_ID: one share pending.
    for i in [0, 1, 2] {
        chain.share(ID, i).expect("share");
    }
    for i in [3, 1] {
        chain.share(OTHER_ID, i).expect("share");
    }
    chain.share(THIRD_ID, 2).expect("share");
    // Refusals are not logged and must not matter.
    assert_eq!(chain.share(ID, 3), Err("NOT_WAITING_FOR_SEED"));
    chain.block(AFTER_INTAKE + 6_000);
    chain.ok(STORE, lottery(chain.submit_seed_op(OTHER_ID, &[0, 2, 3])));
    chain.block(AFTER_INTAKE + 7_000);
    chain.ok(STORE, lottery(chain.results_op(ID)));
    chain.ok(group().seeds[0], lottery(chain.results_op(OTHER_ID)));
    assert!(chain.log.iter().any(|l| l.org.is_none()) && chain.log.iter().any(|l| l.org.is_some()));

    let mut fresh = genesis_state(true);
    for at in &chain.blocks {
        fresh.begin_block(at);
        for logged in chain.log.iter().filter(|l| l.at == *at) {
            let org = logged.org.as_ref().map(|(id, role)| (id.as_str(), *role));
            let events = fresh
                .reapply_lottery(&logged.tx, at, org)
                .expect("a finalized lottery tx re-applies");
            assert_eq!(events, logged.events);
        }
    }
    assert_eq!(fresh.root(), chain.state.root());
    assert_eq!(fresh.lottery_book(), chain.state.lottery_book());
    assert_eq!(fresh.seed_shares(THIRD_ID).map(BTreeMap::len), Some(1));
    assert_eq!(
        fresh.seed_shares(THIRD_ID),
        chain.state.seed_shares(THIRD_ID)
    );
}

#[test]
fn test_validator_may_commit_results_but_not_append_batches() {
    let validator = group().seeds[1];
    let mut chain = Chain::new();
    chain.block(OPEN - 10_000);
    let create = lottery(LotteryOp::CreateLottery { rules: rules(ID) });
    assert_eq!(
        chain.submit(validator, create.clone()),
        Err("UNKNOWN_SIGNER")
    );
    chain.ok(ISSUER, create);
    chain.block(OPEN + 1_000);
    let batch = LotteryOp::AppendBatch {
        lottery_id: ID,
        batch_no: 0,
        entries: (0..4).map(|n| entry(ID, 0, n as u32, n)).collect(),
    };
    assert_eq!(
        chain.submit(validator, lottery(batch)),
        Err("UNKNOWN_SIGNER")
    );
    chain.append(ID, 0..12).expect("the operator's batch");
    chain.block(AFTER_INTAKE);
    assert_eq!(
        chain.submit(validator, lottery(chain.status_op(ID))),
        Err("UNKNOWN_SIGNER")
    );
    chain.ok(OPERATOR, lottery(chain.status_op(ID)));
    let commit = lottery(chain.commit_status_op(ID));
    assert_eq!(
        chain.submit(validator, commit.clone()),
        Err("UNKNOWN_SIGNER")
    );
    chain.ok(OPERATOR, commit);

    // The self-verifying ops: any validator may send them.
    chain.block(AFTER_INTAKE + 1_000);
    chain.ok(validator, lottery(chain.submit_seed_op(ID, &[0, 1, 3])));
    let results = chain.results_op(ID);
    let wrong = LotteryOp::CommitResults {
        lottery_id: ID,
        results_root: [7; 32],
    };
    assert_eq!(
        chain.submit(validator, lottery(wrong)),
        Err("RESULTS_MISMATCH")
    );
    // Neither a key nobody registered nor an inactive org's key.
    for signer in [FREE, INACTIVE_STORE] {
        let refused = chain.submit(signer, lottery(results.clone()));
        assert_eq!(refused, Err("UNKNOWN_SIGNER"), "signer {signer}");
    }
    chain.ok(validator, lottery(results));
    assert_eq!(chain.record(ID).stage(), Stage::Drawn);
}
