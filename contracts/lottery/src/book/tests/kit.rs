//! Test fixtures: actors, rules, entry builders, a fake seed verifier, and a world with a
//! block clock whose `step` checks, after every op, that the invariants hold, that the
//! transition is allowed, and that a refused op left the book exactly as it was.

use ed25519_dalek::SigningKey;
use jiu_beacon::SeedMessage;
use jiu_types::gs1::Gtin;
use jiu_types::{sha256, Hash, PublicKey, Role};

use crate::book::{
    check_transition, Actor, Exclusion, LotteryBook, LotteryCtx, LotteryError, LotteryOp,
    LotteryRecord, Outcome, PreparedDraw, SeedVerifier, Settlement,
};
use crate::{draw, status_root, Entry, LotteryRules, Pool, Rules};

pub(super) const CHAIN: &str = "jiu-test";
pub(super) const ID: u64 = 77;
pub(super) const OPEN: u64 = 1_000_000;
pub(super) const CLOSE: u64 = OPEN + 3_600_000;
pub(super) const GRACE: u64 = 30_000;
pub(super) const CLAIM_WINDOW: u64 = 86_400_000;
/// The first block time at which the intake is over.
pub(super) const AFTER_INTAKE: u64 = CLOSE + GRACE + 1;

/// A verifier whose only valid signature on `m` is [`fake_sign`]`(m)`: deterministic and
/// unique per message, like BLS, without the pairing cost.
pub(super) struct FakeVerifier;

impl SeedVerifier for FakeVerifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature == fake_sign(message)
    }
}

pub(super) fn fake_sign(message: &[u8]) -> Vec<u8> {
    sha256(&[b"fake-threshold-signature", message]).to_vec()
}

pub(super) fn bytes(label: &str, i: u64) -> Hash {
    sha256(&[label.as_bytes(), &i.to_be_bytes()])
}

pub(super) fn key(seed: u8) -> PublicKey {
    PublicKey::from_signing_key(&SigningKey::from_bytes(&[seed; 32]))
}

fn actor(org_id: &str, role: Role, seed: u8) -> Actor {
    Actor {
        org_id: org_id.to_string(),
        role,
        key: key(seed),
    }
}

/// The producer that issues the lottery, signing with its admin key.
pub(super) fn issuer() -> Actor {
    actor("moutai", Role::Producer, 5)
}
/// The producer's lottery backend: operator key 1 (key 2 is the second operator key).
pub(super) fn operator() -> Actor {
    actor("moutai", Role::Producer, 1)
}
pub(super) fn operator_2() -> Actor {
    actor("moutai", Role::Producer, 2)
}
pub(super) fn other_producer() -> Actor {
    actor("wuliangye", Role::Producer, 6)
}
pub(super) fn store() -> Actor {
    actor("store-a", Role::Store, 7)
}

pub(super) fn pool(pool_id: u32, quota: u32, waitlist_size: u32) -> Pool {
    Pool {
        pool_id,
        quota,
        waitlist_size,
    }
}

pub(super) fn rules_with(pools: Vec<Pool>, tier_count: u8, weight_max: u16) -> LotteryRules {
    let mut operator_keys = vec![key(1), key(2)];
    operator_keys.sort();
    LotteryRules {
        draw: Rules {
            lottery_id: ID,
            open_at_ms: OPEN,
            close_at_ms: CLOSE,
            tier_count,
            weight_max,
            pools,
        },
        product: Gtin::from_value(95_060_001_343_016).expect("valid GTIN"),
        grace_ms: GRACE,
        operator_keys,
        reason_codes_hash: bytes("reason table", 1),
        algorithm_version: 1,
        claim_window_ms: CLAIM_WINDOW,
    }
}

/// Two pools (quota 2 + waitlist 2, quota 1 + waitlist 1), two tiers, weights up to 3.
pub(super) fn rules() -> LotteryRules {
    rules_with(vec![pool(1, 2, 2), pool(2, 1, 1)], 2, 3)
}

/// Entry `n` (its nullifier and commitment come from `n`) at (batch, index).
pub(super) fn entry(batch_no: u32, index: u32, pool_id: u32, received_at_ms: u64, n: u64) -> Entry {
    Entry {
        lottery_id: ID,
        pool_id,
        batch_no,
        index,
        nullifier: bytes("nullifier", n),
        commitment: bytes("commitment", n),
        received_at_ms,
        tier: 0,
        weight: 1,
    }
}

pub(super) fn append(batch_no: u32, entries: Vec<Entry>) -> LotteryOp {
    LotteryOp::AppendBatch {
        lottery_id: ID,
        batch_no,
        entries,
    }
}

pub(super) fn status(first_batch_no: u32, batches: u32, exclusions: Vec<Exclusion>) -> LotteryOp {
    LotteryOp::AppendStatus {
        lottery_id: ID,
        first_batch_no,
        batches,
        exclusions,
    }
}

pub(super) fn exclude(batch_no: u32, index: u32) -> Exclusion {
    Exclusion {
        batch_no,
        index,
        reason_hash: bytes("reason", u64::from(index)),
    }
}

pub(super) fn settle(items: Vec<Settlement>) -> LotteryOp {
    LotteryOp::Settle {
        lottery_id: ID,
        items,
    }
}

/// An expected step result: `Ok` or the refusal's stable code.
pub(super) type Expect = Result<(), &'static str>;

/// A book with a block clock.
pub(super) struct World {
    pub book: LotteryBook,
    pub time_ms: u64,
    pub chain_id: &'static str,
    pub prepared: Vec<PreparedDraw>,
    /// Entries appended so far; a fresh entry takes the next number.
    pub next_entry: u64,
    /// The seed check; [`FakeVerifier`] unless a test brings a BLS group key.
    pub verifier: Box<dyn SeedVerifier>,
}

impl World {
    pub fn new() -> Self {
        Self {
            book: LotteryBook::new(),
            time_ms: OPEN - 1_000,
            chain_id: CHAIN,
            prepared: Vec::new(),
            next_entry: 0,
            verifier: Box::new(FakeVerifier),
        }
    }

    /// A world where [`rules`] (or the given rules) are created.
    pub fn created(rules: LotteryRules) -> Self {
        let mut w = Self::new();
        w.ok(&issuer(), LotteryOp::CreateLottery { rules });
        w
    }

    pub fn record(&self) -> &LotteryRecord {
        self.book.lottery(ID).expect("the lottery exists")
    }

    /// Applies `op` for `actor` at the current block time; checks invariants, the
    /// transition, and that a refusal changed nothing.
    pub fn step(&mut self, actor: &Actor, op: &LotteryOp) -> Result<Outcome, LotteryError> {
        let before = self.book.clone();
        let ctx = LotteryCtx {
            time_ms: self.time_ms,
            chain_id: self.chain_id,
            seed_verifier: self.verifier.as_ref(),
            prepared_draws: &self.prepared,
        };
        let result = self.book.apply(op, actor, &ctx);
        if result.is_err() {
            assert_eq!(self.book, before, "a refused op changed the book: {op:?}");
        }
        self.book.check_invariants().expect("invariants");
        check_transition(&before, &self.book, self.time_ms).expect("allowed transition");
        result
    }

    pub fn ok(&mut self, actor: &Actor, op: LotteryOp) -> Outcome {
        self.step(actor, &op)
            .unwrap_or_else(|e| panic!("{op:?} refused: {e}"))
    }

    /// Runs a step table: each row is (actor, op, expected).
    pub fn run(&mut self, steps: Vec<(Actor, LotteryOp, Expect)>) {
        for (i, (actor, op, expected)) in steps.into_iter().enumerate() {
            let got = self.step(&actor, &op).map(drop).map_err(|e| e.code());
            assert_eq!(got, expected, "step {i}: {} {op:?}", actor.org_id);
        }
    }

    /// `n` fresh entries for `pool_ids[i % len]`, received now, as the next batch.
    pub fn fresh_batch(&mut self, n: u32, pool_ids: &[u32]) -> LotteryOp {
        let batch_no = self.record().batches().len() as u32;
        let received = self.time_ms.min(self.record().rules().draw.close_at_ms);
        let entries = (0..n)
            .map(|i| {
                self.next_entry += 1;
                let pool_id = pool_ids[i as usize % pool_ids.len()];
                entry(batch_no, i, pool_id, received, self.next_entry)
            })
            .collect();
        append(batch_no, entries)
    }

    /// The status commitment computed independently, by [`crate::status_root`] over the
    /// book's dataset.
    pub fn commit_status_op(&self) -> LotteryOp {
        let record = self.record();
        let (entries, decisions) = record.dataset().expect("entries held");
        LotteryOp::CommitStatus {
            lottery_id: ID,
            entries_count: record.entries_count(),
            entries_root: crate::entries_root(&entries).expect("valid layout"),
            status_root: status_root(&entries, &decisions).expect("valid statuses"),
        }
    }

    /// The seed message built independently (jiu-beacon), with its fake signature.
    pub fn seed_op(&self) -> LotteryOp {
        let record = self.record();
        let message = SeedMessage::new(
            CHAIN,
            ID,
            record.rules_hash(),
            record.entries_root(),
            record.status_root().expect("status committed"),
        )
        .expect("valid chain id")
        .to_bytes();
        LotteryOp::SubmitSeed {
            lottery_id: ID,
            signature: fake_sign(&message),
            message,
        }
    }

    /// The results root computed independently, by [`crate::draw`] over the dataset.
    pub fn results_op(&self) -> LotteryOp {
        let record = self.record();
        let (entries, decisions) = record.dataset().expect("entries held");
        let seed = record.seed().expect("seeded").seed;
        let result = draw(&record.rules().draw, &entries, &decisions, &seed).expect("valid");
        LotteryOp::CommitResults {
            lottery_id: ID,
            results_root: result.results_root,
        }
    }

    /// Created, `batches` batches of `per_batch` entries over both pools, statuses (one
    /// exclusion per batch at index 1 when `with_exclusions`), committed, seeded and drawn.
    pub fn drawn(batches: u32, per_batch: u32, with_exclusions: bool) -> Self {
        let mut w = Self::created(rules());
        w.time_ms = OPEN;
        for _ in 0..batches {
            let op = w.fresh_batch(per_batch, &[1, 2]);
            w.ok(&operator(), op);
            w.time_ms += 1_000;
        }
        w.time_ms = AFTER_INTAKE;
        for b in 0..batches {
            let exclusions = if with_exclusions {
                vec![exclude(b, 1)]
            } else {
                vec![]
            };
            w.ok(&operator(), status(b, 1, exclusions));
        }
        w.ok(&operator(), w.commit_status_op());
        w.ok(&store(), w.seed_op());
        w.ok(&store(), w.results_op());
        w
    }
}
