//! The demo's synthetic lottery: rules, pseudonymous entries, and the operator's risk
//! exclusions. Everything but the receive times is a pure function of the lottery id and
//! the entry number, so a run can be reproduced and an applicant's salt and account found
//! again from its number.

use jiu_contracts::gs1::Gtin;
use jiu_contracts::{sha256, Hash, PublicKey};
use jiu_lottery::book::Exclusion;
use jiu_lottery::rules::DRAW_ALGORITHM_VERSION;
use jiu_lottery::{applicant_commitment, Entry, LotteryRules, Pool, Rules};

/// The published exclusion reason codes of the demo operator; the rules commit to the hash
/// of this table, each exclusion to the hash of one code.
pub const REASON_CODES: [&str; 3] = ["KYC_MISMATCH", "DEVICE_FARM", "PAYMENT_RISK"];
/// One entry in this many is in tier 0 (served first), the rest in tier 1.
const TIER_0_EVERY: u64 = 50;
/// One entry in this many holds two tickets (weight 2), the rest one.
const WEIGHT_2_EVERY: u64 = 10;
/// One entry in this many is excluded by the operator's risk control.
const EXCLUDED_EVERY: u64 = 997;
/// Claim window of the demo lotteries: one day.
const CLAIM_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

/// The shape of a demo lottery.
#[derive(Clone, Debug)]
pub struct Plan {
    pub lottery_id: u64,
    pub pools: u32,
    pub quota: u32,
    pub waitlist: u32,
    pub open_at_ms: u64,
    pub close_at_ms: u64,
    pub grace_ms: u64,
}

impl Plan {
    /// The rules: `pools` pools (ids 0..pools) with the same quota and waitlist, two tiers,
    /// weights 1 and 2, one operator key.
    pub fn rules(&self, product: Gtin, operator: PublicKey) -> LotteryRules {
        LotteryRules {
            draw: Rules {
                lottery_id: self.lottery_id,
                open_at_ms: self.open_at_ms,
                close_at_ms: self.close_at_ms,
                tier_count: 2,
                weight_max: 2,
                pools: (0..self.pools)
                    .map(|pool_id| Pool {
                        pool_id,
                        quota: self.quota,
                        waitlist_size: self.waitlist,
                    })
                    .collect(),
            },
            product,
            grace_ms: self.grace_ms,
            operator_keys: vec![operator],
            reason_codes_hash: reason_codes_hash(),
            algorithm_version: DRAW_ALGORITHM_VERSION,
            claim_window_ms: CLAIM_WINDOW_MS,
        }
    }

    /// Entry number `n`, receipted as `index` of batch `batch_no` at `received_at_ms`.
    ///
    /// The nullifier is `SHA-256(lottery id || n)`: a stand-in for the operator's
    /// `HMAC(K_null, lottery id || person's ID)`, which makes one person one entry per
    /// lottery without putting the ID on chain. `n` plays the person.
    pub fn entry(&self, n: u64, batch_no: u32, index: u32, received_at_ms: u64) -> Entry {
        Entry {
            lottery_id: self.lottery_id,
            pool_id: (n % u64::from(self.pools)) as u32,
            batch_no,
            index,
            nullifier: sha256(&[&self.lottery_id.to_be_bytes(), &n.to_be_bytes()]),
            commitment: applicant_commitment(&self.salt(n), self.account(n).as_bytes()),
            received_at_ms,
            tier: u8::from(!n.is_multiple_of(TIER_0_EVERY)),
            weight: if n % WEIGHT_2_EVERY == 3 { 2 } else { 1 },
        }
    }

    /// The salt applicant `n`'s app drew (here derived, so the demo can print it again).
    pub fn salt(&self, n: u64) -> Hash {
        sha256(&[
            b"jiu-demo/salt",
            &self.lottery_id.to_be_bytes(),
            &n.to_be_bytes(),
        ])
    }

    /// Applicant `n`'s account id.
    pub fn account(&self, n: u64) -> String {
        format!("demo-account-{n}")
    }

    /// The operator's exclusion of entry number `n`, if any.
    pub fn exclusion(&self, n: u64, batch_no: u32, index: u32) -> Option<Exclusion> {
        (n % EXCLUDED_EVERY == 5).then(|| Exclusion {
            batch_no,
            index,
            reason_hash: reason_hash(REASON_CODES[(n / EXCLUDED_EVERY) as usize % 3]),
        })
    }
}

/// `SHA-256` of the reason code table, one code a line.
pub fn reason_codes_hash() -> Hash {
    sha256(&[REASON_CODES.join("\n").as_bytes()])
}

/// The hash an exclusion carries for `code`.
pub fn reason_hash(code: &str) -> Hash {
    sha256(&[b"jiu-demo/reason/", code.as_bytes()])
}

/// `count` receive times spread evenly over `(after, until]`, never before `open_at_ms`:
/// the entries of a batch arrived since the previous batch's last one.
pub fn receive_times(after: u64, until: u64, open_at_ms: u64, count: u64) -> Vec<u64> {
    let low = after.max(open_at_ms);
    let span = until.saturating_sub(low);
    (1..=count).map(|k| low + span * k / count.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            lottery_id: 7,
            pools: 20,
            quota: 10,
            waitlist: 20,
            open_at_ms: 1_000,
            close_at_ms: 11_000,
            grace_ms: 5_000,
        }
    }

    #[test]
    fn test_rules_validate_and_entries_mix_tiers_and_weights() {
        let key = PublicKey::from_signing_key(&jiu_genesis::keys::generate());
        let rules = plan().rules(Gtin::parse(crate::demo::DEMO_GTIN).unwrap(), key);
        assert_eq!(rules.validate(), Ok(()));
        let entries: Vec<Entry> = (0..1_000)
            .map(|n| plan().entry(n, 0, n as u32, 5_000))
            .collect();
        assert!(entries.iter().any(|e| e.tier == 0) && entries.iter().any(|e| e.tier == 1));
        assert!(entries.iter().any(|e| e.weight == 2));
        assert!(entries.iter().all(|e| e.pool_id < 20));
        let salt = plan().salt(3);
        assert_eq!(
            entries[3].commitment,
            applicant_commitment(&salt, plan().account(3).as_bytes())
        );
    }

    #[test]
    fn test_receive_times_stay_in_the_interval() {
        let times = receive_times(0, 2_000, 1_000, 4);
        assert_eq!(times, vec![1_250, 1_500, 1_750, 2_000]);
        assert_eq!(receive_times(2_000, 2_000, 1_000, 2), vec![2_000, 2_000]);
    }
}
