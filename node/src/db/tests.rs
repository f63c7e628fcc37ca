//! Both stores, memory and rocksdb, through the same checks; reopening rocksdb.

use super::*;

fn record<'a>(height: u64, ids: &'a [Hash], state: &'a [u8]) -> CommitRecord<'a> {
    CommitRecord {
        height,
        block: b"block",
        certificate: b"cert",
        tx_ids: ids,
        tx_events: &[],
        state,
        records: &[],
        index_rows: Vec::new(),
    }
}

fn check_commit_and_read(db: &Db) {
    assert_eq!(db.tip().unwrap(), None);
    db.put_undecided(1, 0, &[9; 32], b"u1").unwrap();
    db.put_undecided(1, 1, &[8; 32], b"u1 round 1").unwrap();
    db.put_undecided(2, 0, &[9; 32], b"u2").unwrap();
    db.commit(record(1, &[[1; 32], [2; 32]], b"s1")).unwrap();
    assert_eq!(db.tip().unwrap(), Some(1));
    assert_eq!(db.state().unwrap().as_deref(), Some(&b"s1"[..]));
    assert_eq!(db.block(1).unwrap().as_deref(), Some(&b"block"[..]));
    assert_eq!(db.block(2).unwrap(), None);
    let location = db.tx_location(&[2; 32]).unwrap().unwrap();
    assert_eq!(
        location,
        TxLocation {
            height: 1,
            index: 1,
            events: Vec::new(),
        }
    );
    assert_eq!(db.tx_location(&[3; 32]).unwrap(), None);
    assert!(db.undecided(1, 0).unwrap().is_empty(), "pruned at commit");
    assert!(db.undecided(1, 1).unwrap().is_empty(), "every round pruned");
    assert_eq!(db.undecided(2, 0).unwrap(), vec![b"u2".to_vec()]);
    db.put_certificate(1, b"cert2").unwrap();
    assert_eq!(db.certificate(1).unwrap().as_deref(), Some(&b"cert2"[..]));
}

fn check_last(db: &Db) {
    let rows: Vec<(Col, Vec<u8>, Vec<u8>)> = (0u8..5)
        .map(|i| (Col::Events, vec![i], vec![i + 10]))
        .chain(std::iter::once((Col::EpcIndex, vec![9], vec![])))
        .collect();
    db.commit(CommitRecord {
        index_rows: rows,
        ..record(1, &[], b"s")
    })
    .unwrap();
    let newest: Vec<u8> = db
        .events_newest(3)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k[0])
        .collect();
    assert_eq!(newest, [4, 3, 2], "newest first, only the events column");
    assert_eq!(db.events_newest(10).unwrap().len(), 5);
}

#[test]
fn test_newest_events_on_memory_and_rocks() {
    check_last(&Db::in_memory());
    let dir = tempfile::tempdir().unwrap();
    check_last(&Db::open(dir.path()).unwrap());
}

#[test]
fn test_memory_db_commits_and_reads() {
    check_commit_and_read(&Db::in_memory());
}

#[test]
fn test_rocks_db_commits_reads_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path()).unwrap();
        check_commit_and_read(&db);
    }
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(db.tip().unwrap(), Some(1));
    assert_eq!(db.certificate(1).unwrap().as_deref(), Some(&b"cert2"[..]));
}
/// Versions of records: each height reads its own, later writes do not show through,
/// a removal hides older versions, and the scan at start sees only the newest.
fn check_record_versions(db: &Db) {
    let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let write = |height: u64, records: &[(Hash, Option<Vec<u8>>)]| {
        let records: Vec<DirtyRecord> = records
            .iter()
            .map(|(key, stored)| DirtyRecord {
                key: *key,
                stored: stored.as_deref().map(Into::into),
            })
            .collect();
        db.commit(CommitRecord {
            records: &records,
            ..record(height, &[], b"s")
        })
        .unwrap();
    };
    write(3, &[(a, Some(b"a3".to_vec())), (b, Some(b"b3".to_vec()))]);
    write(5, &[(a, Some(b"a5".to_vec())), (c, Some(b"c5".to_vec()))]);
    write(7, &[(b, None)]);
    // Shares `a`'s 8-byte prefix in the known codes, with a newer version.
    let mut a_twin = a;
    a_twin[31] = 9;
    write(8, &[(a_twin, Some(b"t8".to_vec()))]);
    let at = |key: &Hash, height: u64| db.record_at(key, height).unwrap();
    assert_eq!(at(&a, 2), None, "before the first version");
    assert_eq!(at(&a, 3).as_deref(), Some(&b"a3"[..]));
    assert_eq!(
        at(&a, 4).as_deref(),
        Some(&b"a3"[..]),
        "a later write does not show"
    );
    assert_eq!(at(&a, 5).as_deref(), Some(&b"a5"[..]));
    assert_eq!(
        at(&a, 9).as_deref(),
        Some(&b"a5"[..]),
        "the prefix's newest version is another key's"
    );
    assert_eq!(at(&a_twin, 7), None);
    assert_eq!(at(&a_twin, 8).as_deref(), Some(&b"t8"[..]));
    assert_eq!(at(&b, 6).as_deref(), Some(&b"b3"[..]));
    assert_eq!(at(&b, 7), None, "removed at 7");
    assert_eq!(at(&c, 4), None);
    assert_eq!(at(&[0; 32], 9), None);
    let mut newest = Vec::new();
    db.load_records(&mut |key, value| newest.push((*key, value.to_vec())))
        .unwrap();
    assert_eq!(
        newest,
        vec![
            (a, b"a5".to_vec()),
            (a_twin, b"t8".to_vec()),
            (c, b"c5".to_vec())
        ]
    );
}

#[test]
fn test_record_versions_on_memory_and_rocks() {
    check_record_versions(&Db::in_memory());
    let dir = tempfile::tempdir().unwrap();
    check_record_versions(&Db::open(dir.path()).unwrap());
    // Reopened, the known codes come back from the scan at start.
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(db.record_at(&[1; 32], 9).unwrap(), None, "not loaded yet");
    db.load_records(&mut |_, _| {}).unwrap();
    assert_eq!(
        db.record_at(&[1; 32], 9).unwrap().as_deref(),
        Some(&b"a5"[..])
    );
    assert_eq!(
        db.record_at(&[1; 32], 4).unwrap().as_deref(),
        Some(&b"a3"[..])
    );
    assert_eq!(db.record_at(&[2; 32], 9).unwrap(), None);
}

/// A compaction drops the record versions no store reading records can see, and none that
/// one reads.
#[test]
fn test_compaction_prunes_record_versions_no_reader_sees() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let (a, b) = ([1u8; 32], [2u8; 32]);
    for height in 1..=6u64 {
        let mut records = vec![DirtyRecord {
            key: a,
            stored: Some(format!("a{height}").into_bytes().into()),
        }];
        if height == 2 {
            records.push(DirtyRecord {
                key: b,
                stored: Some(b"b2".as_slice().into()),
            });
        }
        db.commit(CommitRecord {
            records: &records,
            ..record(height, &[], b"s")
        })
        .unwrap();
    }
    let versions = |key: &Hash| db.kv.scan_prefix(Col::Records, key).unwrap().len();
    let read = |key: &Hash, height: u64| db.record_at(key, height).unwrap();
    assert_eq!(versions(&a), 6);
    let store = crate::records::StoreAt::new(db.clone(), 4);
    db.kv.compact(Col::Records).unwrap();
    assert_eq!(
        versions(&a),
        3,
        "versions 1 to 3 are below version 4, which 4 reads"
    );
    assert_eq!(db.pruned_record_versions().get(), 3);
    for height in 4..=6 {
        assert_eq!(read(&a, height), Some(format!("a{height}").into_bytes()));
    }
    assert_eq!(read(&b, 4).as_deref(), Some(&b"b2"[..]));
    drop(store);
    db.kv.compact(Col::Records).unwrap();
    assert_eq!(
        (versions(&a), versions(&b)),
        (1, 1),
        "each code's newest stays"
    );
    assert_eq!(db.pruned_record_versions().get(), 5);
    assert_eq!(read(&a, 6).as_deref(), Some(&b"a6"[..]));
    assert_eq!(read(&b, 6).as_deref(), Some(&b"b2"[..]));
}

#[test]
fn test_storage_format_is_checked_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path()).unwrap();
        db.commit(record(1, &[], b"s")).unwrap();
    }
    // Reopening a store of this format works.
    let db = Db::open(dir.path()).unwrap();
    // A store from before the format key (a tip, no key) is format 1.
    db.kv
        .write(vec![Op::Delete(Col::Meta, KEY_FORMAT.to_vec())])
        .unwrap();
    drop(db);
    let refused = |dir: &std::path::Path| match Db::open(dir) {
        Err(DbError::Format { found, expected }) => (found, expected),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("opened a store of another format"),
    };
    assert_eq!(refused(dir.path()), (1, STORAGE_FORMAT));
    let other = tempfile::tempdir().unwrap();
    {
        let db = Db::open(other.path()).unwrap();
        db.kv
            .write(vec![Op::Put(
                Col::Meta,
                KEY_FORMAT.to_vec(),
                (STORAGE_FORMAT + 1).to_be_bytes().to_vec(),
            )])
            .unwrap();
    }
    assert_eq!(refused(other.path()), (STORAGE_FORMAT + 1, STORAGE_FORMAT));
}

/// The EPC index lists a tx's events under one row per EPC: the events come back in chain
/// order, cut at the limit; a malformed row is an error, not a guess.
#[test]
fn test_events_of_epc_expand_rows_per_tx() {
    for db in [
        Db::in_memory(),
        Db::open(tempfile::tempdir().unwrap().path()).unwrap(),
    ] {
        let event_key = |height: u64, tx: u32, event: u32| {
            [
                &height.to_be_bytes()[..],
                &tx.to_be_bytes(),
                &event.to_be_bytes(),
            ]
            .concat()
        };
        let index_key = |epc: &str, height: u64, tx: u32| {
            [
                epc.as_bytes(),
                &[0],
                &height.to_be_bytes(),
                &tx.to_be_bytes(),
            ]
            .concat()
        };
        let indexes = |list: &[u32]| list.iter().flat_map(|i| i.to_be_bytes()).collect();
        let rows = vec![
            (Col::Events, event_key(1, 0, 0), b"e100".to_vec()),
            (Col::Events, event_key(1, 0, 2), b"e102".to_vec()),
            (Col::Events, event_key(2, 1, 0), b"e210".to_vec()),
            (Col::EpcIndex, index_key("urn:a", 1, 0), indexes(&[0, 2])),
            (Col::EpcIndex, index_key("urn:a", 2, 1), indexes(&[0])),
            // Another EPC that extends "urn:a": not read under it.
            (Col::EpcIndex, index_key("urn:ab", 1, 0), indexes(&[2])),
        ];
        db.commit(CommitRecord {
            index_rows: rows,
            ..record(2, &[], b"s")
        })
        .unwrap();
        let events = |epc: &str, limit: usize| db.events_of_epc(epc, limit).unwrap();
        assert_eq!(events("urn:a", 10), [b"e100", b"e102", b"e210"]);
        assert_eq!(events("urn:a", 2), [b"e100", b"e102"]);
        assert_eq!(events("urn:ab", 10), [b"e102"]);
        assert!(events("urn:b", 10).is_empty());
        db.commit(CommitRecord {
            index_rows: vec![(Col::EpcIndex, index_key("urn:c", 3, 0), vec![1, 2])],
            ..record(3, &[], b"s")
        })
        .unwrap();
        assert!(matches!(
            db.events_of_epc("urn:c", 10),
            Err(DbError::Corrupt("epc_index"))
        ));
    }
}

/// History rows are appended under their key, in batch order and across heights, and
/// survive a reopen (rocksdb replays the merges from its log).
#[test]
fn test_history_appends_on_memory_and_rocks() {
    let dir = tempfile::tempdir().unwrap();
    let check = |db: &Db| {
        assert_eq!(db.history(&[1; 32]).unwrap().as_deref(), Some(&b"abc"[..]));
        assert_eq!(db.history(&[2; 32]).unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(db.history(&[3; 32]).unwrap(), None);
    };
    let rocks = Db::open(dir.path()).unwrap();
    for db in [&Db::in_memory(), &rocks] {
        let row = |key: u8, bytes: &[u8]| (Col::History, vec![key; 32], bytes.to_vec());
        db.commit(CommitRecord {
            index_rows: vec![row(1, b"a"), row(2, b"x"), row(1, b"b")],
            ..record(1, &[], b"s")
        })
        .unwrap();
        db.commit(CommitRecord {
            index_rows: vec![row(1, b"c")],
            ..record(2, &[], b"s")
        })
        .unwrap();
        check(db);
    }
    drop(rocks);
    check(&Db::open(dir.path()).unwrap());
}

/// A code created at a height starts its history with a plain put; every later row, and
/// every row of a store whose known codes are not loaded yet, is appended.
#[test]
fn test_history_of_created_codes_on_memory_and_rocks() {
    let dir = tempfile::tempdir().unwrap();
    let (new, old) = ([1u8; 32], [2u8; 32]);
    let row = |key: Hash, bytes: &[u8]| (Col::History, key.to_vec(), bytes.to_vec());
    let dirty = |keys: &[Hash]| -> Vec<DirtyRecord> {
        keys.iter()
            .map(|key| DirtyRecord {
                key: *key,
                stored: Some(b"leaf".as_slice().into()),
            })
            .collect()
    };
    let commit = |db: &Db, height: u64, records: &[DirtyRecord], rows| {
        db.commit(CommitRecord {
            records,
            index_rows: rows,
            ..record(height, &[], b"s")
        })
        .unwrap()
    };
    let rocks = Db::open(dir.path()).unwrap();
    for db in [&Db::in_memory(), &rocks] {
        commit(db, 1, &dirty(&[old]), vec![row(old, b"o1")]);
        // A row the column holds for a code with no record shows the put: the created
        // code's first row replaces it (history starts with the op creating a code, so a
        // node never writes such a row).
        commit(db, 2, &[], vec![row(new, b"stray")]);
        commit(
            db,
            3,
            &dirty(&[new, old]),
            vec![row(new, b"a"), row(old, b"o3"), row(new, b"b")],
        );
        commit(db, 4, &dirty(&[new]), vec![row(new, b"c")]);
        assert_eq!(db.history(&new).unwrap().as_deref(), Some(&b"abc"[..]));
        assert_eq!(db.history(&old).unwrap().as_deref(), Some(&b"o1o3"[..]));
    }
    drop(rocks);
    // Reopened, the store cannot tell new codes from old until they are loaded: it appends.
    let db = Db::open(dir.path()).unwrap();
    commit(&db, 5, &dirty(&[new]), vec![row(new, b"d")]);
    assert_eq!(db.history(&new).unwrap().as_deref(), Some(&b"abcd"[..]));
    db.load_records(&mut |_, _| {}).unwrap();
    let other = [3u8; 32];
    commit(&db, 6, &[], vec![row(other, b"stray")]);
    commit(
        &db,
        7,
        &dirty(&[other, new]),
        vec![row(other, b"x"), row(new, b"e")],
    );
    assert_eq!(db.history(&new).unwrap().as_deref(), Some(&b"abcde"[..]));
    assert_eq!(db.history(&other).unwrap().as_deref(), Some(&b"x"[..]));
}
