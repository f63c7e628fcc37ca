//! Official vectors of the GS1 reference event hash generator
//! (RalphTro/epcis-event-hash-generator `tests/examples`, MIT), read from the shared
//! test data next to the repository, never copied into it.

use std::fs;
use std::path::{Path, PathBuf};

use jiu_epcis::{document_event_hashes, document_pre_hashes, hash_id};

const VECTOR_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/epcis/event-hash"
);

/// Vectors (file stem) whose `.prehashes` line `n` is not the pre-image of `.hashes` line
/// `n` upstream: the pre-hash file is stale, so only the hash is asserted for that line.
/// The test checks that each listed line really is inconsistent, so the list cannot rot.
const STALE_PREHASHES: [(&str, usize); 3] = [
    // Garbled text (interleaved fragments) upstream.
    ("epcisDocWithAllGS1Keys", 0),
    // Describes the first event again; the second event has other fields.
    ("epcisDocWithCustomSchemaInContext", 1),
    ("epcisDocWithDefaultSchemaInContext", 1),
];

/// Vectors this crate does not reproduce yet, with the reason. Asserted to still fail,
/// so a fix shows up as a test failure asking to shrink this list.
const KNOWN_GAPS: [(&str, &str); 0] = [];

fn vector_dir() -> PathBuf {
    let dir = PathBuf::from(VECTOR_DIR);
    assert!(
        dir.is_dir(),
        "EPCIS event hash vectors not found at {VECTOR_DIR}: the shared test data must sit \
         beside the repository (<x>/main and <x>/shared)"
    );
    dir
}

fn lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

/// Every `.jsonld` vector with `.hashes` beside it (most also have `.prehashes`).
fn vectors() -> Vec<String> {
    let dir = vector_dir();
    let mut stems: Vec<String> = fs::read_dir(&dir)
        .expect("list vector dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonld"))
        .filter(|p| p.with_extension("hashes").is_file())
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    stems.sort();
    stems
}

fn check(stem: &str) -> Result<(), String> {
    check_in(&vector_dir(), stem)
}

fn check_in(dir: &Path, stem: &str) -> Result<(), String> {
    let doc: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(dir.join(format!("{stem}.jsonld"))).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    // A vector without `.prehashes` (epcisDocHavingEventWithComment) asserts hashes only.
    let pre_path = dir.join(format!("{stem}.prehashes"));
    let want_pre = if pre_path.is_file() {
        Some(lines(&pre_path))
    } else {
        None
    };
    let want_hash = lines(&dir.join(format!("{stem}.hashes")));
    let got_pre = document_pre_hashes(&doc).map_err(|e| e.to_string())?;
    let got_hash = document_event_hashes(&doc).map_err(|e| e.to_string())?;
    if got_hash.len() != want_hash.len() {
        return Err(format!(
            "{} hashes, want {}",
            got_hash.len(),
            want_hash.len()
        ));
    }
    for (i, (got, want)) in got_hash.iter().zip(&want_hash).enumerate() {
        if got != want {
            return Err(format!(
                "hash {i}: got {got}, want {want}\n  pre-hash: {}",
                got_pre[i]
            ));
        }
        let Some(want_pre) = &want_pre else { continue };
        if want_pre.len() != got_pre.len() {
            return Err(format!(
                "{} pre-hashes, want {}",
                got_pre.len(),
                want_pre.len()
            ));
        }
        let stale = STALE_PREHASHES.contains(&(stem, i));
        if !stale && want_pre.get(i) != Some(&got_pre[i]) {
            return Err(format!(
                "pre-hash {i}:\n  got  {}\n  want {:?}",
                got_pre[i],
                want_pre.get(i)
            ));
        }
    }
    Ok(())
}

#[test]
fn test_official_vectors() {
    let stems = vectors();
    assert!(
        stems.len() >= 22,
        "expected at least 22 vectors, found {}",
        stems.len()
    );
    let mut failures = Vec::new();
    for stem in &stems {
        let gap = KNOWN_GAPS.iter().find(|(s, _)| s == stem);
        match (check(stem), gap) {
            (Ok(()), None) => {}
            (Ok(()), Some((_, why))) => failures.push(format!(
                "{stem}: passes now, remove from KNOWN_GAPS ({why})"
            )),
            (Err(e), None) => failures.push(format!("{stem}: {e}")),
            (Err(_), Some(_)) => {}
        }
    }
    for (stem, _) in KNOWN_GAPS {
        assert!(
            stems.iter().any(|s| s == stem),
            "KNOWN_GAPS names missing vector {stem}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn test_stale_prehash_lines_are_really_inconsistent_upstream() {
    let dir = vector_dir();
    for (stem, line) in STALE_PREHASHES {
        let pre = lines(&dir.join(format!("{stem}.prehashes")));
        let hashes = lines(&dir.join(format!("{stem}.hashes")));
        assert_ne!(
            hash_id(&pre[line]),
            hashes[line],
            "{stem} line {line} is consistent: assert it"
        );
    }
}

/// Our own bottle-lifecycle document (commissioning, packing, shipping, a retail sale with
/// extensions, sensor data, quantities, URNs and odd numbers), hashed by the reference
/// implementation at commit 5d2f1c3 (`python -m epcis_event_hash_generator -b -p`).
#[test]
fn test_liquor_lifecycle_matches_reference_implementation() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    if let Err(e) = check_in(&dir, "liquor-lifecycle") {
        panic!("liquor-lifecycle: {e}");
    }
}
