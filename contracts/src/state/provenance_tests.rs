//! The lifecycle inside the state: provenance txs, alerts as effects, record proofs, and
//! restoring the records from stored leaves.

use super::*;
use crate::gs1::{parse_code, Sgtin};
use crate::provenance::{record_key, MemRecords, RecordStore, StoredRecord};
use crate::provenance::{Child, ContainerId, Flag, LifeState, Op};
use crate::testkit::*;
use crate::tx::Payload;
use std::collections::BTreeMap;
use std::sync::Arc;

fn bottle(n: u64) -> Sgtin {
    match parse_code(&format!("(01)09506000134352(21)B{n:06}")) {
        Ok(Code::Item(sgtin)) => sgtin,
        other => panic!("test code: {other:?}"),
    }
}

fn code(n: u64) -> Code {
    Code::Item(bottle(n))
}

fn bottles(ns: &[u64]) -> Vec<Sgtin> {
    ns.iter().map(|n| bottle(*n)).collect()
}

fn case(n: u64) -> ContainerId {
    match parse_code(&format!("(01)09506000134352(21)CASE{n:04}")) {
        Ok(Code::Item(sgtin)) => ContainerId::Case(sgtin),
        other => panic!("test case code: {other:?}"),
    }
}

fn ops(signer: u8, nonce: u64, ops: Vec<Op>) -> Vec<u8> {
    signed(signer, nonce, Payload::Provenance { ops }).encode()
}

/// The producer's tx (with `nonce`) commissioning bottles `ns` and packing them in case `c`.
fn commission_into_case(nonce: u64, ns: &[u64], c: u64) -> Vec<u8> {
    ops(
        PRODUCER,
        nonce,
        vec![
            Op::Commission {
                items: bottles(ns),
                lot: None,
            },
            Op::Pack {
                parent: case(c),
                children: bottles(ns).into_iter().map(Child::Bottle).collect(),
            },
        ],
    )
}

/// A state at height `h` with bottles 1..=n commissioned by the producer and packed in case 1.
fn stocked(n: u64) -> (State, BlockCtx) {
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    let ns: Vec<u64> = (1..=n).collect();
    let tx = commission_into_case(1, &ns, 1);
    let receipt = admit(&mut state, &tx, &at).expect("commission and pack");
    assert!(matches!(
        receipt.events[..],
        [Event::LifecycleApplied { ops: 2, .. }]
    ));
    state.check_invariants().expect("invariants");
    (state, at)
}

#[test]
fn test_provenance_tx_changes_records_and_root() {
    let before = genesis();
    let (state, _) = stocked(3);
    assert_ne!(state.root(), before.root());
    assert_ne!(state.records_root(), before.records_root());
    let leaf = state.record(&code(2)).expect("bottle 2 has a record");
    let record = leaf.bottle.as_ref().expect("a bottle");
    assert_eq!(record.state, LifeState::Active);
    assert_eq!(record.parent, Some(case(1)));
    let case_leaf = state.record(&case(1).code()).expect("case record");
    assert_eq!(case_leaf.container.as_ref().map(|c| c.children), Some(3));
}

#[test]
fn test_refused_op_changes_nothing_and_names_the_op() {
    let (mut state, at) = stocked(2);
    let before = state.clone();
    // Op 0 is fine, op 1 ships to a party that does not exist: the whole tx is refused.
    let tx = ops(
        PRODUCER,
        2,
        vec![
            Op::Commission {
                items: bottles(&[9]),
                lot: None,
            },
            Op::Ship {
                roots: vec![Child::Container(case(1))],
                to: "nobody".into(),
            },
        ],
    );
    let error = admit(&mut state, &tx, &at).expect_err("unknown destination");
    assert_eq!(error.code(), "UNKNOWN_DESTINATION");
    assert!(matches!(error, TxError::Lifecycle { index: 1, .. }));
    assert_eq!(state, before);
    assert_eq!(state.root(), before.root());
    assert!(state.record(&code(9)).is_none(), "op 0 was rolled back");
}

/// A tx may change at most `RECORDS_PER_TX_MAX` records, counting a shipment's whole
/// subtrees; one over is refused as a whole with `TOO_MANY_RECORDS`, naming the op.
#[test]
fn test_a_tx_changing_too_many_records_is_refused() {
    use crate::provenance::{CONTAINER_CHILDREN_MAX, RECORDS_PER_TX_MAX};
    let per_case = CONTAINER_CHILDREN_MAX as u64;
    let cases = (RECORDS_PER_TX_MAX as u64).div_ceil(per_case + 1);
    let mut state = genesis();
    let at = ctx(1);
    state.begin_block(&at);
    for c in 1..=cases {
        let ns: Vec<u64> = (c * per_case..(c + 1) * per_case).collect();
        let tx = commission_into_case(c, &ns, c);
        admit(&mut state, &tx, &at).expect("a case of bottles");
    }
    // Shipping every case changes each case and its bottles: one record over the bound.
    let ship = |nonce: u64, n: u64| {
        let roots = (1..=n).map(|c| Child::Container(case(c))).collect();
        let op = Op::Ship {
            roots,
            to: "store".into(),
        };
        ops(PRODUCER, nonce, vec![op])
    };
    let records = (cases * (per_case + 1)) as usize;
    assert!(
        records > RECORDS_PER_TX_MAX && records - (per_case as usize + 1) <= RECORDS_PER_TX_MAX
    );
    let before = state.clone();
    let error = admit(&mut state, &ship(100, cases), &at).expect_err("too many records");
    assert_eq!(error.code(), "TOO_MANY_RECORDS");
    assert!(
        matches!(error, TxError::TooManyRecords { index: 0, records: r, max } if r == records && max == RECORDS_PER_TX_MAX),
        "{error}"
    );
    assert_eq!(state, before);
    // One case fewer fits.
    admit(&mut state, &ship(101, cases - 1), &at).expect("within the bound");
    let shipped = state.record(&code(per_case)).expect("bottle");
    assert_eq!(shipped.bottle.expect("bottle").state, LifeState::InTransit);
}

/// The producer ships case 1 to the store, which receives it.
fn case_to_store() -> [(u8, Op); 2] {
    [
        (
            PRODUCER,
            Op::Ship {
                roots: vec![Child::Container(case(1))],
                to: "store".into(),
            },
        ),
        (
            STORE,
            Op::Receive {
                roots: vec![Child::Container(case(1))],
            },
        ),
    ]
}

#[test]
fn test_refused_sale_is_recorded_as_an_alert() {
    let (mut state, at) = stocked(1);
    // Ship the case to the store, which receives it and sells the bottle.
    let sell = Op::Sell {
        items: bottles(&[1]),
        city: "Guiyang".into(),
    };
    let steps = case_to_store().into_iter().chain([(STORE, sell)]);
    for (nonce, (signer, op)) in steps.enumerate() {
        admit(&mut state, &ops(signer, 10 + nonce as u64, vec![op]), &at).expect("step");
    }
    let root = state.root();
    let sold = state.record(&code(1)).expect("sold bottle");
    // A second sale is not refused as a tx: its effect is the alert, and the sale is not
    // repeated.
    let second = Op::Sell {
        items: bottles(&[1]),
        city: "Shanghai".into(),
    };
    let receipt = admit(&mut state, &ops(STORE, 20, vec![second]), &at).expect("recorded");
    let [Event::AlertRaised {
        op_index: 0,
        reason_code,
        alert,
        ..
    }] = &receipt.events[..]
    else {
        panic!("expected one alert, got {:?}", receipt.events);
    };
    assert_eq!(reason_code, "ALREADY_SOLD");
    assert_eq!(alert.subject, code(1));
    assert_ne!(state.root(), root, "the alert is committed");
    let leaf = state.record(&code(1)).expect("leaf");
    assert_eq!(leaf.bottle, sold.bottle, "the record itself is unchanged");
    assert_eq!(leaf.alerts.total, 1);
    state.check_invariants().expect("invariants");
}

/// A block's record changes reach the tree once, at `end_block`: roots and proofs taken
/// before then already count them, and the tree is the one writing after every tx gives.
#[test]
fn test_records_written_at_block_end_match_writing_every_tx() {
    let (start, at) = stocked(4);
    let unpack = ops(
        PRODUCER,
        30,
        vec![Op::Unpack {
            parent: case(1),
            children: vec![Child::Bottle(bottle(2))],
        }],
    );
    let hold = ops(
        AUDITOR,
        1,
        vec![Op::SetFlag {
            items: bottles(&[2, 3]),
            flag: Flag::Hold,
        }],
    );
    let mut each = start.clone();
    each.end_block();
    let mut once = start.clone();
    for tx in [&unpack, &hold] {
        admit(&mut each, tx, &at).expect("applies");
        each.end_block();
        admit(&mut once, tx, &at).expect("applies");
    }
    let (root, proof) = (once.root(), once.prove_record(&code(2)));
    assert_eq!(
        root,
        each.root(),
        "a root read mid-block counts the pending changes"
    );
    assert_ne!(root, start.root());
    assert_eq!(once, each);
    let leaf = once.record(&code(2)).expect("bottle 2");
    verify_record(&root, &code(2), Some(&leaf), &proof).expect("a mid-block proof verifies");
    once.end_block();
    assert_eq!(once.root(), root);
    assert_eq!(once.prove_record(&code(2)), proof);
    once.check_invariants().expect("invariants");
}

#[test]
fn test_auditor_may_hold_but_not_anchor() {
    let (mut state, at) = stocked(1);
    let hold = Op::SetFlag {
        items: bottles(&[1]),
        flag: Flag::Hold,
    };
    admit(&mut state, &ops(AUDITOR, 1, vec![hold]), &at).expect("auditor holds");
    let leaf = state.record(&code(1)).expect("leaf");
    assert!(leaf.bottle.expect("bottle").flags.contains_key(&Flag::Hold));
    let anchor = Payload::Anchor {
        record_hash: [1; 32],
        data: vec![],
    };
    let error = admit(&mut state, &signed(AUDITOR, 2, anchor).encode(), &at).expect_err("no");
    assert_eq!(error.code(), "UNAUTHORIZED");
}

#[test]
fn test_empty_and_oversized_provenance_payloads_are_refused() {
    let (mut state, at) = stocked(1);
    let before = state.clone();
    let error = admit(&mut state, &ops(PRODUCER, 5, vec![]), &at).expect_err("empty");
    assert_eq!(error.code(), "INVALID_PAYLOAD");
    let many: Vec<Op> = (0..6)
        .map(|i| Op::Commission {
            items: (0..10_000)
                .map(|n| bottle(100_000 + i * 10_000 + n))
                .collect(),
            lot: None,
        })
        .collect();
    let tx = signed(PRODUCER, 6, Payload::Provenance { ops: many });
    assert_eq!(
        crate::tx::check_stateless(&tx, CHAIN).map_err(|e| e.code()),
        Err("INVALID_PAYLOAD"),
        "60,000 codes is more than one tx may name"
    );
    assert_eq!(state, before);
}

#[test]
fn test_record_proofs_verify_and_name_tampering() {
    let (state, _) = stocked(5);
    let root = state.root();
    let present = code(3);
    let leaf = state.record(&present).expect("leaf");
    let proof = state.prove_record(&present);
    verify_record(&root, &present, Some(&leaf), &proof).expect("membership");
    // The same proof does not show absence, nor another record.
    assert_eq!(
        verify_record(&root, &present, None, &proof).map_err(|e| e.code()),
        Err("RECORD_HIDDEN")
    );
    let mut tampered = leaf.clone();
    tampered.bottle.as_mut().expect("bottle").custodian = "store".into();
    assert_eq!(
        verify_record(&root, &present, Some(&tampered), &proof).map_err(|e| e.code()),
        Err("RECORD_TAMPERED")
    );
    // A record for another code is refused before any hashing.
    let other = state.record(&code(4)).expect("leaf 4");
    assert_eq!(
        verify_record(&root, &present, Some(&other), &proof).map_err(|e| e.code()),
        Err("WRONG_CODE")
    );
    // Absence of an unknown code is provable, and its proof cannot show presence.
    let absent = code(77);
    let absence = state.prove_record(&absent);
    verify_record(&root, &absent, None, &absence).expect("non-membership");
    // A wrong state root, or a broken path to it, fails on the second hop.
    let mut wrong_root = root;
    wrong_root[0] ^= 1;
    assert_eq!(
        verify_record(&wrong_root, &present, Some(&leaf), &proof).map_err(|e| e.code()),
        Err("BAD_STATE_PATH")
    );
    let mut bad_path = proof.clone();
    bad_path.state_leaf_index = 0;
    assert_eq!(
        verify_record(&root, &present, Some(&leaf), &bad_path).map_err(|e| e.code()),
        Err("BAD_STATE_PATH")
    );
    let mut bad_records_root = proof;
    bad_records_root.records_root[5] ^= 1;
    assert!(verify_record(&root, &present, Some(&leaf), &bad_records_root).is_err());
}

/// Everything a node would have written so far, as a key-value store.
/// The state-only part of proofs, made once, proves like a fresh one for every code; made
/// before a change, it is refused rather than giving a proof that cannot verify.
#[test]
fn test_proof_leaves_made_once_prove_like_fresh_ones() {
    let (mut state, at) = stocked(5);
    let leaves = state.proof_leaves();
    for n in [1, 3, 5, 77] {
        assert_eq!(
            state.prove_record_in(&code(n), &leaves),
            state.prove_record(&code(n))
        );
    }
    let tx = ops(
        PRODUCER,
        2,
        vec![Op::Commission {
            items: bottles(&[9]),
            lot: None,
        }],
    );
    admit(&mut state, &tx, &at).expect("commission");
    let stale = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        state.prove_record_in(&code(9), &leaves)
    }));
    assert!(stale.is_err(), "leaves of the state before the tx");
    let fresh = state.prove_record_in(&code(9), &state.proof_leaves());
    let leaf = state.record(&code(9)).expect("commissioned");
    verify_record(&state.root(), &code(9), Some(&leaf), &fresh).expect("verifies");
}

fn write(state: &mut State, stored: &mut BTreeMap<Code, Vec<u8>>) {
    for (code, record) in state.take_dirty() {
        assert_eq!(
            record.key,
            record_key(&code),
            "the dirty record's key is its code's"
        );
        match record.stored {
            Some(bytes) => stored.insert(code, bytes.to_vec()),
            None => stored.remove(&code),
        };
    }
}

/// The records tree's entries and a store over `stored`, as a node restores them.
/// The records tree a node restores from `stored` (built in key order, as a node reads its
/// store), and the store.
fn store_of(stored: &BTreeMap<Code, Vec<u8>>) -> (Smt, Arc<dyn RecordStore>) {
    let mut mem = MemRecords::default();
    let mut tree = Vec::new();
    for (code, bytes) in stored {
        let leaf = StoredRecord::leaf_bytes(bytes).expect("leaf bytes");
        tree.push((record_key(code), smt::value_hash(leaf)));
        mem.put(
            code.clone(),
            Some(StoredRecord::decode(bytes).expect("decodes")),
        );
    }
    tree.sort_unstable();
    let mut builder = smt::SmtBuilder::with_capacity(tree.len());
    for (key, value_hash) in tree {
        builder.push(key, value_hash).expect("distinct keys");
    }
    (builder.finish(), Arc::new(mem))
}

#[test]
fn test_records_load_from_dirty_records() {
    let (mut state, at) = stocked(4);
    let mut stored = BTreeMap::new();
    write(&mut state, &mut stored);
    assert!(state.take_dirty().is_empty(), "taking clears the set");
    let unpack = Op::Unpack {
        parent: case(1),
        children: vec![Child::Bottle(bottle(2))],
    };
    admit(&mut state, &ops(PRODUCER, 30, vec![unpack]), &at).expect("unpack");
    write(&mut state, &mut stored);
    let mut restored = State::decode_persistent(&state.encode_persistent()).expect("decode");
    restored
        .load_records(stored.values().cloned())
        .expect("restore");
    assert_eq!(restored.root(), state.root());
    assert_eq!(restored.ledger(), state.ledger());
    restored.check_invariants().expect("invariants");
    // A corrupt record is refused, not loaded.
    let mut corrupt = stored.values().cloned().collect::<Vec<_>>();
    corrupt[0].truncate(3);
    let mut again = State::decode_persistent(&state.encode_persistent()).expect("decode");
    assert!(again.load_records(corrupt).is_err());
}

/// A node keeps only one block's changes in memory and reads the rest from its store: a
/// state restored over the store, and rebased after each block, answers and applies
/// exactly like one holding everything in memory.
#[test]
fn test_records_read_through_a_store_behave_like_memory() {
    let (mut state, at) = stocked(4);
    let mut stored = BTreeMap::new();
    write(&mut state, &mut stored);
    let mut based = State::decode_persistent(&state.encode_persistent()).expect("decode");
    let (tree, base) = store_of(&stored);
    based.restore_records(tree);
    based.rebase_records(base);
    assert_eq!(based.root(), state.root());
    assert_eq!(based.ledger().overlay_len(), 0, "nothing held in memory");
    for n in 1..=5 {
        assert_eq!(based.record(&code(n)), state.record(&code(n)), "code {n}");
    }
    // The same blocks on both: a ship of the case (read from the store, children and all),
    // a receive, a sale, and a refused second sale (an alert on a stored record).
    let steps = case_to_store().into_iter().chain([
        (
            STORE,
            Op::Unpack {
                parent: case(1),
                children: vec![Child::Bottle(bottle(3))],
            },
        ),
        (
            STORE,
            Op::Sell {
                items: bottles(&[3]),
                city: "Lyon".into(),
            },
        ),
        (
            STORE,
            Op::Sell {
                items: bottles(&[3]),
                city: "Lyon".into(),
            },
        ),
    ]);
    for (height, (signer, op)) in (2..).zip(steps) {
        let at = BlockCtx {
            height,
            time_ms: at.time_ms + height * 1000,
        };
        let tx = ops(signer, 40 + height, vec![op]);
        state.begin_block(&at);
        based.begin_block(&at);
        let plain = admit(&mut state, &tx, &at).map(|r| r.events);
        let read = admit(&mut based, &tx, &at).map(|r| r.events);
        assert_eq!(read, plain, "height {height}");
        based.check_invariants().expect("invariants over the store");
        assert_eq!(based.root(), state.root(), "height {height}");
        write(&mut state, &mut stored);
        let mut dirty = BTreeMap::new();
        write(&mut based, &mut dirty);
        assert_eq!(
            dirty.iter().collect::<Vec<_>>(),
            stored
                .iter()
                .filter(|(c, _)| dirty.contains_key(*c))
                .collect::<Vec<_>>(),
            "the same records to write"
        );
        let (_, base) = store_of(&stored);
        based.rebase_records(base);
    }
    for n in 1..=5 {
        assert_eq!(based.record(&code(n)), state.record(&code(n)), "code {n}");
        assert_eq!(based.prove_record(&code(n)), state.prove_record(&code(n)));
    }
    assert_eq!(based.ledger().alerts_total(&code(3)), 1);
}

fn capture_tx(signer: u8, nonce: u64, events: &serde_json::Value) -> (serde_json::Value, Vec<u8>) {
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-10T08:00:00Z",
        "epcisBody": {"eventList": events}
    });
    let document = doc.to_string();
    (
        doc,
        signed(signer, nonce, Payload::Capture { document }).encode(),
    )
}

fn dl(n: u64) -> String {
    format!("https://id.gs1.org/01/09506000134352/21/B{n:06}")
}

#[test]
fn test_capture_receipt_carries_the_document_as_applied() {
    let (mut state, at) = stocked(2);
    let events = serde_json::json!([
        {"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
         "eventTime": "2025-01-10T08:00:00Z", "eventTimeZoneOffset": "+00:00",
         "epcList": [dl(3), dl(4)]},
        {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting",
         "eventTime": "2025-01-10T08:01:00Z", "eventTimeZoneOffset": "+00:00",
         "epcList": [dl(1)]}
    ]);
    let (doc, tx) = capture_tx(PRODUCER, 30, &events);
    let expected = state.map_capture(&doc).expect("the document maps");
    let receipt = admit(&mut state, &tx, &at).expect("captured");
    assert!(matches!(
        receipt.events[..],
        [Event::EpcisCaptured {
            events: 2,
            ops: 1,
            ..
        }]
    ));
    let captured = receipt
        .captured
        .expect("a capture's receipt carries its document");
    assert_eq!(
        captured.events,
        events.as_array().cloned().unwrap_or_default()
    );
    assert_eq!(captured.mapped, expected);
    let applied: Vec<&Op> = captured.ops().collect();
    assert_eq!(
        applied,
        [&Op::Commission {
            items: bottles(&[3, 4]),
            lot: None,
        }]
    );
    assert!(state.record(&code(3)).is_some(), "the ops applied");

    // A sale by a store without custody is an alert: nothing of its document is captured.
    let sale = serde_json::json!([
        {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
         "eventTime": "2025-01-10T09:00:00Z", "eventTimeZoneOffset": "+00:00",
         "epcList": [dl(1)], "urn:jiu:epcis:city": "Chengdu"}
    ]);
    let (_, tx) = capture_tx(STORE, 31, &sale);
    let receipt = admit(&mut state, &tx, &at).expect("recorded as an alert");
    assert!(
        matches!(receipt.events[..], [Event::AlertRaised { .. }]),
        "{:?}",
        receipt.events
    );
    assert!(receipt.captured.is_none());

    // A provenance tx carries no document.
    let flag = Op::SetFlag {
        items: bottles(&[2]),
        flag: Flag::Hold,
    };
    let receipt = admit(&mut state, &ops(PRODUCER, 32, vec![flag]), &at).expect("held");
    assert!(receipt.captured.is_none());
}

fn case_dl(n: u64) -> String {
    format!("https://id.gs1.org/01/09506000134352/21/CASE{n:04}")
}

/// An AggregationEvent DELETE without `childEPCs` unpacks everything the container holds
/// in the ledger, and every child's parent is cleared; a document that changed the
/// container itself, or a container the chain does not hold, is refused with the event
/// and the field.
#[test]
fn test_unpack_all_takes_the_ledgers_contents() {
    let (mut state, at) = stocked(3);
    let unpack_all = |time: &str| {
        serde_json::json!({"type": "AggregationEvent", "action": "DELETE",
            "bizStep": "unpacking", "eventTime": time, "eventTimeZoneOffset": "+00:00",
            "parentID": case_dl(1)})
    };
    let (doc, tx) = capture_tx(
        PRODUCER,
        40,
        &serde_json::json!([unpack_all("2025-01-10T09:00:00Z")]),
    );
    let mapped = state.map_capture(&doc).expect("the document maps");
    assert_eq!(
        mapped[0].op,
        Some(Op::Unpack {
            parent: case(1),
            children: bottles(&[1, 2, 3]).into_iter().map(Child::Bottle).collect(),
        })
    );
    admit(&mut state, &tx, &at).expect("unpacked");
    for n in 1..=3 {
        let record = state.ledger().bottle(&bottle(n)).expect("still a bottle");
        assert_eq!(record.parent, None, "bottle {n} left the case");
    }
    let emptied = state.ledger().container(&case(1)).expect("the case stays");
    assert!(emptied.children.is_empty());
    state.check_invariants().expect("invariants");

    let mut refusal = |events: serde_json::Value| {
        let (_, tx) = capture_tx(PRODUCER, 41, &events);
        let root = state.root();
        let error = admit(&mut state, &tx, &at).expect_err("refused");
        assert_eq!(state.root(), root, "nothing changed");
        match error {
            TxError::Capture { code, message } => (code, message),
            other => panic!("not a capture refusal: {other:?}"),
        }
    };
    // Now empty.
    let (code, message) = refusal(serde_json::json!([unpack_all("2025-01-10T10:00:00Z")]));
    assert_eq!(code, "EVENT_INVALID");
    assert!(
        message.contains("holds nothing") && message.contains("parentID"),
        "{message}"
    );
    // Packed by the same document first.
    let (code, message) = refusal(serde_json::json!([
        {"type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
         "eventTime": "2025-01-10T10:00:00Z", "eventTimeZoneOffset": "+00:00",
         "parentID": case_dl(1), "childEPCs": [dl(1)]},
        unpack_all("2025-01-10T10:01:00Z")
    ]));
    assert_eq!(code, "EVENT_UNSUPPORTED");
    assert!(
        message.contains("childEPCs") && message.contains("event 1"),
        "{message}"
    );
    // Unknown to the chain.
    let (code, message) = refusal(serde_json::json!([
        {"type": "AggregationEvent", "action": "DELETE", "bizStep": "unpacking",
         "eventTime": "2025-01-10T10:00:00Z", "eventTimeZoneOffset": "+00:00",
         "parentID": case_dl(9)}
    ]));
    assert_eq!(code, "EVENT_INVALID");
    assert!(message.contains("unknown"), "{message}");
}
