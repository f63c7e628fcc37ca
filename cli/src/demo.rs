//! `jiu demo`: seeds a running devnet with a realistic scenario, so verify calls have real
//! codes to answer about. One producer, three distributors, twenty stores; `--bottles`
//! bottles commissioned and packed (cases of 6, pallets of 100 cases); pallets shipped to
//! the distributors and received; some cases shipped on to stores and received; a few
//! sales; a recall of one case and one of a lot; a stolen bottle; a diversion attempt (a store receiving a
//! case shipped to another store) and a second sale of a sold bottle, both recorded as
//! alerts. Prints the verify URLs of each kind of bottle.
//!
//! Idempotent enough for a demo: run it once on a fresh devnet (`--reset`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ed25519_dalek::SigningKey;
use eyre::{bail, eyre, Result};
use jiu_contracts::gs1::{Gln, Gtin};
use jiu_contracts::provenance::workload::{
    bottle, case, commission_and_pack, epcis_document, pallet, CASE_BOTTLES,
    EPCIS_DOCUMENT_PALLETS, PALLETS_MAX, PALLET_BOTTLES, PALLET_CASES, TX_BOTTLES,
};
use jiu_contracts::provenance::{Child, Flag, Op};
use jiu_contracts::{Payload, PublicKey, Role, SignedTx, TxBody};
use jiu_genesis::keys;
use serde_json::Value;

use crate::tx::{chain_tip, get_json, submit};

/// The demo product: a GTIN under the GS1 prefix for examples (950).
pub const DEMO_GTIN: &str = "09506000134352";
/// The demo product's name on chain.
pub const DEMO_PRODUCT_NAME: &str = "Jiu Reserve Baijiu";
/// Company prefix digits of the demo SSCCs.
const SSCC_PREFIX: u64 = 950_600_013;

/// `jiu demo` arguments.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// A node of the devnet.
    #[arg(long, default_value = "http://127.0.0.1:26650")]
    pub rpc: String,
    /// The devnet directory (`jiu testnet --dir`), for the organisation keys.
    #[arg(long, default_value = "devnet")]
    pub dir: PathBuf,
    /// Bottles to commission.
    #[arg(long, default_value_t = 100_000)]
    pub bottles: u64,
    /// Commissioning txs (9,600 bottles each) in flight at once.
    #[arg(long, default_value_t = 4)]
    pub in_flight: usize,
    /// Only commission and pack, print the ingest rate, and stop (the ingest benchmark).
    #[arg(long)]
    pub ingest_only: bool,
    /// The first bottle number to commission (a multiple of a pallet's 600 bottles), to
    /// extend an earlier ingest on the same devnet: e.g. to profile a node at 10 M bottles
    /// without ingesting them again.
    #[arg(long, default_value_t = 0, requires = "ingest_only")]
    pub first_bottle: u64,
    /// Nodes to spread the commissioning txs over, in turn (repeat the flag; default: the
    /// `--rpc` node). Nodes do not gossip their mempools yet, so a tx waits for its own
    /// node's turn to propose; spreading lets every proposer fill its block.
    #[arg(long = "submit-to")]
    pub submit_to: Vec<String>,
    /// Commission and pack through EPCIS 2.0 documents (a commissioning ObjectEvent and a
    /// packing AggregationEvent per case and pallet, 4,200 bottles per document), signed by
    /// the producer as capture transactions, instead of lifecycle ops: what a packing
    /// line's EPCIS system sends. Every validator maps each document.
    #[arg(long)]
    pub epcis: bool,
}

struct Seeder {
    client: reqwest::Client,
    rpc: String,
    chain_id: String,
    nonce: u64,
}

impl Seeder {
    /// Signs and submits each `(key, payload)`, then waits until all are final; fails on
    /// any refusal. Returns the final statuses.
    async fn run(&mut self, txs: Vec<(&SigningKey, Payload)>) -> Result<Vec<Value>> {
        let (height, _) = chain_tip(&self.client, &self.rpc).await?;
        let mut ids = Vec::new();
        for (key, payload) in txs {
            let tx = self.sign(key, payload, height);
            let rpc = self.rpc.clone();
            ids.push(self.submit_to(&rpc, &tx).await?);
        }
        let mut done = Vec::new();
        for id in ids {
            done.push(self.wait(&id).await?);
        }
        Ok(done)
    }

    /// Signs one tx with a fresh nonce, valid for 500 heights from `height`.
    fn sign(&mut self, key: &SigningKey, payload: Payload, height: u64) -> SignedTx {
        self.nonce += 1;
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            signer: PublicKey::from_signing_key(key),
            nonce: self.nonce,
            expires_at_height: height + 500,
            payload,
        };
        SignedTx::sign(body, key)
    }

    /// Submits `tx` to `rpc`; returns its id, or fails on a refusal.
    async fn submit_to(&self, rpc: &str, tx: &SignedTx) -> Result<String> {
        let answer = submit(&self.client, rpc, tx).await?;
        match answer["tx_id"].as_str() {
            Some(id) => Ok(id.to_string()),
            None => bail!("demo tx refused by {rpc}: {answer}"),
        }
    }

    async fn wait(&self, id: &str) -> Result<Value> {
        self.wait_at(&self.rpc, id).await
    }

    async fn wait_at(&self, rpc: &str, id: &str) -> Result<Value> {
        for _ in 0..1200 {
            let status = get_json(&self.client, &format!("{rpc}/tx/{id}")).await?;
            match status["status"].as_str() {
                Some("finalized") => return Ok(status),
                Some("rejected") => bail!("demo tx {id} rejected: {status}"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        bail!("demo tx {id} not final after 2 minutes")
    }
}

/// CPU time this process has used so far, user and system, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage(2) only writes the struct it is given, which is zeroed and ours.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The bottle numbers an ingest of `bottles` from `first` commissions: batches start on a
/// pallet boundary, and past the workload's last distinct pallet code pallets would repeat.
fn ingest_range(first: u64, bottles: u64) -> Result<std::ops::Range<u64>> {
    if !first.is_multiple_of(PALLET_BOTTLES) {
        bail!("--first-bottle must be a multiple of {PALLET_BOTTLES} (a pallet's bottles)");
    }
    let max = PALLETS_MAX * PALLET_BOTTLES;
    match first.checked_add(bottles) {
        Some(end) if end <= max => Ok(first..end),
        _ => bail!("--first-bottle + --bottles goes past bottle {max} (distinct pallet codes)"),
    }
}

/// A party GLN under the demo prefix: `950600` + 6 digits of `n` + check digit.
fn demo_gln(n: u64) -> Result<Gln> {
    Ok(Gln::from_body(950_600_000_000 + n % 1_000_000)?)
}

/// Loads an org key from the devnet, or makes one and registers the org.
fn org_key(dir: &std::path::Path, id: &str) -> Result<(SigningKey, bool)> {
    let path = dir.join("orgs").join(format!("{id}.json"));
    if path.exists() {
        return Ok((keys::read_key_file(&path)?, false));
    }
    let key = keys::generate();
    keys::write_key_file(&path, &key)?;
    Ok((key, true))
}

/// Runs `jiu demo`.
pub async fn run(args: DemoArgs) -> Result<()> {
    let client = reqwest::Client::new();
    let (_, chain_id) = chain_tip(&client, &args.rpc).await?;
    let mut seeder = Seeder {
        client,
        rpc: args.rpc.clone(),
        chain_id,
        nonce: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    };
    let gtin = Gtin::parse(DEMO_GTIN).map_err(|e| eyre!("{e}"))?;
    let producer = keys::read_key_file(&args.dir.join("orgs/producer.json"))?;

    // The consortium: distributor-1 and store-1 exist in the devnet genesis.
    let distributors: Vec<String> = (1..=3).map(|i| format!("distributor-{i}")).collect();
    let stores: Vec<String> = (1..=20).map(|i| format!("store-{i}")).collect();
    let mut keys_of = std::collections::BTreeMap::new();
    let mut register = Vec::new();
    let mut pglns = Vec::new();
    for (n, (id, role)) in distributors
        .iter()
        .map(|d| (d, Role::Distributor))
        .chain(stores.iter().map(|s| (s, Role::Store)))
        .enumerate()
    {
        let (key, new) = org_key(&args.dir, id)?;
        if new {
            let city = CITIES[n % CITIES.len()];
            let name = match role {
                Role::Distributor => format!("{city} Wine & Spirits Distribution"),
                _ => format!("{city} Fine Liquor Store {}", n),
            };
            register.push((
                &producer,
                Payload::RegisterOrg {
                    id: id.clone(),
                    name,
                    role,
                    keys: vec![PublicKey::from_signing_key(&key)],
                },
            ));
            pglns.push((
                &producer,
                Payload::SetOrgPgln {
                    org_id: id.clone(),
                    pgln: Some(demo_gln(100 + n as u64)?),
                },
            ));
        }
        keys_of.insert(id.clone(), key);
    }
    println!("registering {} organisations", register.len());
    seeder.run(register).await?;
    seeder.run(pglns).await?;
    // The product's master data, which every verify answer shows (and proves).
    seeder
        .run(vec![(
            &producer,
            Payload::SetProduct {
                gtin,
                name: DEMO_PRODUCT_NAME.into(),
                volume_ml: 500,
                abv_bp: 5300,
            },
        )])
        .await?;

    // Commission and pack, 9,600 bottles per tx: a window of `in_flight` txs outstanding,
    // each finished one replaced by the next, spread over the `submit_to` nodes in turn.
    let nodes = if args.submit_to.is_empty() {
        vec![args.rpc.clone()]
    } else {
        args.submit_to.clone()
    };
    let batch = if args.epcis {
        EPCIS_DOCUMENT_PALLETS * PALLET_BOTTLES
    } else {
        TX_BOTTLES
    };
    let end = ingest_range(args.first_bottle, args.bottles)?.end;
    let started = std::time::Instant::now();
    let mut outstanding: std::collections::VecDeque<(String, String)> = Default::default();
    let (mut first, mut done, mut sent, mut reported) = (args.first_bottle, 0, 0usize, 0);
    while done < args.bottles {
        if first < end && outstanding.len() < args.in_flight.max(1) {
            let count = batch.min(end - first);
            let ops = commission_and_pack(gtin, SSCC_PREFIX, first, count);
            let payload = if args.epcis {
                Payload::Capture {
                    document: epcis_document(&ops),
                }
            } else {
                Payload::Provenance { ops }
            };
            let rpc = &nodes[sent % nodes.len()];
            let (height, _) = chain_tip(&seeder.client, rpc).await?;
            let tx = seeder.sign(&producer, payload, height);
            let id = seeder.submit_to(rpc, &tx).await?;
            outstanding.push_back((rpc.clone(), id));
            first += count;
            sent += 1;
            continue;
        }
        let Some((rpc, id)) = outstanding.pop_front() else {
            break;
        };
        seeder.wait_at(&rpc, &id).await?;
        done = (done + batch).min(args.bottles);
        if done >= reported + 10 * TX_BOTTLES || done >= args.bottles {
            reported = done;
            println!(
                "commissioned and packed {done} bottles ({:.0} bottles/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} bottles commissioned and packed (cases of {CASE_BOTTLES}, pallets of {PALLET_CASES} cases) in {elapsed:.1} s: {:.0} bottles/s",
        args.bottles,
        args.bottles as f64 / elapsed
    );
    // The client's work is fixed by the arguments, so its CPU time gauges how fast the
    // machine was during the run: on a shared VM the same ingest has taken 40% longer.
    println!(
        "this client used {:.1} CPU-s (the same work every run: a gauge of the machine's speed)",
        cpu_seconds()
    );
    if args.ingest_only {
        return Ok(());
    }

    // Full pallets to the distributors, in turn; each distributor receives its own.
    let pallets = args.bottles / PALLET_BOTTLES;
    if pallets < 6 {
        bail!(
            "--bottles must be at least {} for the scenario",
            6 * PALLET_BOTTLES
        );
    }
    let shipped: Vec<u64> = (0..pallets).collect();
    let to_of = |p: u64| distributors[(p % 3) as usize].clone();
    // A move changes every record under the pallets it names: keep each tx within the bound.
    let per_move = jiu_contracts::provenance::RECORDS_PER_TX_MAX
        / (PALLET_BOTTLES + PALLET_CASES + 1) as usize;
    let mut ships = Vec::new();
    for chunk in shipped.chunks(3 * per_move) {
        for d in &distributors {
            let roots: Vec<Child> = chunk
                .iter()
                .filter(|p| &to_of(**p) == d)
                .map(|p| Child::Container(pallet(SSCC_PREFIX, *p)))
                .collect();
            if !roots.is_empty() {
                ships.push((
                    &producer,
                    Payload::Provenance {
                        ops: vec![Op::Ship {
                            roots,
                            to: d.clone(),
                        }],
                    },
                ));
            }
        }
    }
    seeder.run(ships).await?;
    let mut receives = Vec::new();
    for d in &distributors {
        let roots: Vec<Child> = shipped
            .iter()
            .filter(|p| &to_of(**p) == d)
            .map(|p| Child::Container(pallet(SSCC_PREFIX, *p)))
            .collect();
        for chunk in roots.chunks(per_move) {
            receives.push((
                &keys_of[d],
                Payload::Provenance {
                    ops: vec![Op::Receive {
                        roots: chunk.to_vec(),
                    }],
                },
            ));
        }
    }
    seeder.run(receives).await?;
    println!("{pallets} pallets shipped to and received by 3 distributors");

    // The first pallet of each distributor: unpacked, its cases shipped to the stores.
    let mut to_stores = Vec::new();
    let mut case_store = Vec::new();
    for (d_index, d) in distributors.iter().enumerate() {
        let p = d_index as u64;
        let cases: Vec<Child> = (0..PALLET_CASES)
            .map(|c| Child::Container(case(gtin, p * PALLET_CASES + c)))
            .collect();
        let mut ops = vec![Op::Unpack {
            parent: pallet(SSCC_PREFIX, p),
            children: cases.clone(),
        }];
        for (i, child) in cases.iter().enumerate() {
            let store = &stores[(d_index * 7 + i) % stores.len()];
            case_store.push((p * PALLET_CASES + i as u64, store.clone()));
            ops.push(Op::Ship {
                roots: vec![child.clone()],
                to: store.clone(),
            });
        }
        to_stores.push((&keys_of[d], Payload::Provenance { ops }));
    }
    seeder.run(to_stores).await?;
    // Every store receives its cases, except one case left in transit for the diversion.
    let diverted_case = case_store[1].0;
    let mut store_receives: std::collections::BTreeMap<String, Vec<Child>> = Default::default();
    for (c, store) in &case_store {
        if *c != diverted_case {
            store_receives
                .entry(store.clone())
                .or_default()
                .push(Child::Container(case(gtin, *c)));
        }
    }
    let receives: Vec<_> = store_receives
        .iter()
        .map(|(store, roots)| {
            (
                &keys_of[store],
                Payload::Provenance {
                    ops: vec![Op::Receive {
                        roots: roots.clone(),
                    }],
                },
            )
        })
        .collect();
    seeder.run(receives).await?;
    println!(
        "{} cases shipped to and received by 20 stores",
        case_store.len() - 1
    );

    // Sales: the first bottle of each store's first case.
    let mut sales = Vec::new();
    let mut sold = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (c, store) in &case_store {
        if *c == diverted_case || !seen.insert(store.clone()) {
            continue;
        }
        let b = c * CASE_BOTTLES;
        sold.push(b);
        let city = CITIES[stores.iter().position(|s| s == store).unwrap_or(0) % CITIES.len()];
        sales.push((
            &keys_of[store],
            Payload::Provenance {
                ops: vec![Op::Sell {
                    items: vec![bottle(gtin, b)],
                    city: city.to_string(),
                }],
            },
        ));
    }
    seeder.run(sales).await?;
    println!("{} bottles sold", sold.len());

    // A recall of one case at a store, a stolen bottle at a distributor.
    let recalled_case = case_store[2].0;
    let recalled: Vec<_> = (1..CASE_BOTTLES)
        .map(|i| bottle(gtin, recalled_case * CASE_BOTTLES + i))
        .collect();
    let stolen = bottle(gtin, 3 * PALLET_BOTTLES + 7);
    seeder
        .run(vec![
            (
                &producer,
                Payload::Provenance {
                    ops: vec![Op::SetFlag {
                        items: recalled.clone(),
                        flag: Flag::Recalled,
                    }],
                },
            ),
            (
                &keys_of[&distributors[0]],
                Payload::Provenance {
                    ops: vec![Op::SetFlag {
                        items: vec![stolen.clone()],
                        flag: Flag::Stolen,
                    }],
                },
            ),
        ])
        .await?;

    // A lot recall: the filling run of the fifth ingest tx (pallets at the distributors, no
    // bottle named below).
    let recalled_lot_first = 5 * batch;
    seeder
        .run(vec![(
            &producer,
            Payload::RecallLot {
                gtin,
                lot: jiu_contracts::provenance::workload::lot(recalled_lot_first),
                recalled: true,
            },
        )])
        .await?;

    // Attempts recorded as alerts: a store receives a case shipped to another store, and a
    // store sells an already sold bottle again.
    let (_, intended) = &case_store[1];
    let wrong_store = stores
        .iter()
        .find(|s| *s != intended)
        .cloned()
        .unwrap_or_default();
    let resold = bottle(gtin, sold[0]);
    let seller = &case_store
        .iter()
        .find(|(c, _)| c * CASE_BOTTLES == sold[0])
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let alerts = seeder
        .run(vec![
            (
                &keys_of[&wrong_store],
                Payload::Provenance {
                    ops: vec![Op::Receive {
                        roots: vec![Child::Container(case(gtin, diverted_case))],
                    }],
                },
            ),
            (
                &keys_of[seller],
                Payload::Provenance {
                    ops: vec![Op::Sell {
                        items: vec![resold.clone()],
                        city: "Shanghai".into(),
                    }],
                },
            ),
        ])
        .await?;
    for status in &alerts {
        if status["events"][0]["type"] != "alert_raised" {
            bail!("expected an alert, got {status}");
        }
    }

    let url = |b: &jiu_contracts::gs1::Sgtin| format!("{}/01/{}/21/{}", args.rpc, b.gtin, b.serial);
    println!("\ndone. Try (add ?intent=pre_sale to see a buyer's warning):");
    println!(
        "  in a store, unsold:    curl -s {} | jq .verdict",
        url(&bottle(gtin, sold[0] + 1))
    );
    println!(
        "  sold:                  curl -s {} | jq .verdict",
        url(&bottle(gtin, sold[1]))
    );
    println!(
        "  sold twice (alert):    curl -s {} | jq .alerts",
        url(&resold)
    );
    println!(
        "  recalled:              curl -s {} | jq .alerts",
        url(&recalled[0])
    );
    println!(
        "  lot recalled:          curl -s {} | jq '{{verdict, lot, alerts}}'",
        url(&bottle(gtin, recalled_lot_first + 1))
    );
    println!(
        "  the lot itself:        curl -s {}/01/{}/10/{} | jq '{{lot, recalled_lots}}'",
        args.rpc,
        gtin,
        jiu_contracts::provenance::workload::lot(recalled_lot_first)
    );
    println!(
        "  where that lot is:     curl -s -H 'Authorization: Bearer {}' {}/lots/{}/{} | jq '{{bottles, by_state, holders: [.holders[] | {{name, unsold}}]}}'",
        crate::testnet::DEVNET_PARTNER_TOKEN,
        args.rpc,
        gtin,
        jiu_contracts::provenance::workload::lot(recalled_lot_first)
    );
    println!(
        "  stolen:                curl -s {} | jq .alerts",
        url(&stolen)
    );
    println!(
        "  diverted case:         curl -s {}/01/{}/21/{} | jq .alerts",
        args.rpc,
        DEMO_GTIN,
        match case(gtin, diverted_case) {
            jiu_contracts::provenance::ContainerId::Case(sgtin) => sgtin.serial.to_string(),
            other => other.code().to_string(),
        }
    );
    let unsold = bottle(gtin, sold[0] + 1);
    println!(
        "  label of another lot:  curl -s {}/01/{}/10/L1999999/21/{} | jq '{{verdict, lot, alerts}}'",
        args.rpc, unsold.gtin, unsold.serial
    );
    println!(
        "  at the producer:       curl -s {} | jq .state",
        url(&bottle(gtin, args.bottles - 1))
    );
    println!(
        "  unknown (counterfeit): curl -s {}/01/{}/21/FAKE123 | jq .verdict",
        args.rpc, DEMO_GTIN
    );
    println!("  offline proof:         curl -s {} > a.json && jiu verify --offline a.json --genesis {}/genesis.json", url(&bottle(gtin, sold[1])), args.dir.display());
    println!("  open in a browser:     {}", url(&bottle(gtin, sold[1])));
    if let Some((picc, cmac)) = simulated_tap(&args.dir, 1) {
        let tapped = url(&bottle(gtin, sold[0] + 2));
        println!("  NFC tap (fresh, then TAG_REPLAY on a second call):");
        println!("                         curl -s '{tapped}?picc={picc}&cmac={cmac}' | jq '{{verdict, tag}}'");
    }
    Ok(())
}

const CITIES: [&str; 10] = [
    "Guiyang",
    "Beijing",
    "Shanghai",
    "Guangzhou",
    "Shenzhen",
    "Chengdu",
    "Hangzhou",
    "Wuhan",
    "Xi'an",
    "Nanjing",
];

/// A tap of a demo tag (UID 04 4A 49 55 00 00 01) at `counter`, made with the devnet's tag
/// master keys, as a tag would write it into the URL.
fn simulated_tap(dir: &std::path::Path, counter: u32) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join(crate::testnet::SUN_KEYS_FILE)).ok()?;
    let file: Value = serde_json::from_str(&text).ok()?;
    let meta = jiu_sun::AesKey::from_hex(file["meta_read_master"].as_str()?).ok()?;
    let data = jiu_sun::AesKey::from_hex(file["file_read_master"].as_str()?).ok()?;
    let keys = jiu_sun::DiversifiedKeys::new(meta, data, jiu_sun::MetaReadKeying::Shared);
    let uid = [0x04, 0x4a, 0x49, 0x55, 0x00, 0x00, 0x01];
    let tap = jiu_sun::simulate_tap(&keys, &uid, counter, [7; 5], b"").ok()?;
    Some((tap.picc_hex, tap.cmac_hex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiu_contracts::capture::map_document;

    /// The gauge counts work done: half a million hashes (tens of milliseconds at the
    /// least, however busy the machine) move it forward.
    #[test]
    fn test_cpu_seconds_counts_work() {
        let before = cpu_seconds();
        let mut hash = [0u8; 32];
        for _ in 0..500_000 {
            hash = jiu_contracts::sha256(&[&hash]);
        }
        std::hint::black_box(hash);
        let used = cpu_seconds() - before;
        assert!(used > 0.02, "500,000 hashes counted as {used} CPU-s");
    }

    /// An ingest extends an earlier one from a pallet boundary, within the workload's
    /// distinct pallet codes.
    #[test]
    fn test_ingest_range_starts_on_a_pallet_and_fits_the_pallet_codes() {
        assert_eq!(ingest_range(0, 4200).unwrap(), 0..4200);
        assert_eq!(
            ingest_range(10_000_800, 600_000).unwrap(),
            10_000_800..10_600_800
        );
        let off_pallet = ingest_range(PALLET_BOTTLES + 6, 600).unwrap_err();
        assert!(
            off_pallet.to_string().contains("multiple of 600"),
            "{off_pallet}"
        );
        // The last pallet with a code of its own is full; one bottle more would reuse the
        // first pallet's code.
        let last_pallet = (PALLETS_MAX - 1) * PALLET_BOTTLES;
        let end = PALLETS_MAX * PALLET_BOTTLES;
        assert_eq!(
            ingest_range(last_pallet, PALLET_BOTTLES).unwrap(),
            last_pallet..end
        );
        assert_eq!(
            pallet(SSCC_PREFIX, end / PALLET_BOTTLES),
            pallet(SSCC_PREFIX, 0)
        );
        for (first, bottles) in [(last_pallet, PALLET_BOTTLES + 1), (0, u64::MAX)] {
            let past = ingest_range(first, bottles).unwrap_err();
            assert!(past.to_string().contains("distinct pallet"), "{past}");
        }
    }

    /// `--first-bottle` only extends an ingest: the scenario after it assumes bottle 0.
    #[test]
    fn test_first_bottle_needs_ingest_only() {
        use clap::Parser;
        #[derive(Parser)]
        struct Demo {
            #[command(flatten)]
            args: DemoArgs,
        }
        let parse = |extra: &[&str]| {
            Demo::try_parse_from(["demo", "--first-bottle", "600"].iter().chain(extra))
        };
        assert!(parse(&[]).is_err());
        assert_eq!(parse(&["--ingest-only"]).unwrap().args.first_bottle, 600);
    }

    /// A document of the `--epcis` ingest maps, as every validator maps it, to exactly the
    /// ops the lifecycle ingest sends, and fits in one transaction.
    #[test]
    fn test_epcis_document_maps_to_the_workload_ops() {
        let gtin = Gtin::parse(DEMO_GTIN).expect("gtin");
        let batch = EPCIS_DOCUMENT_PALLETS * PALLET_BOTTLES;
        for count in [batch, PALLET_BOTTLES + 7] {
            let ops = commission_and_pack(gtin, SSCC_PREFIX, batch, count);
            let document = epcis_document(&ops);
            assert!(
                document.len() + 4096 <= jiu_contracts::TX_BYTES_MAX,
                "{} bytes",
                document.len()
            );
            let value: Value = serde_json::from_str(&document).expect("JSON");
            let directory = std::collections::BTreeMap::new();
            let mapped = map_document(&value, &directory).expect("maps");
            let mapped: Vec<Op> = mapped.into_iter().filter_map(|e| e.op).collect();
            assert_eq!(mapped, ops);
        }
    }
}
