//! Runs the independent Python check of the seed signature (`scripts/beacon_reference.py`,
//! py_ecc rather than blst) over the golden vectors. Skipped, with a note, when `python3` is
//! not on PATH or the script exits 3 (py_ecc is not installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The script's exit code for "py_ecc is not installed".
const SKIPPED: i32 = 3;
/// The golden vectors, relative to the repository root.
const VECTORS: &str = "contracts/beacon/tests/vectors/beacon.json";

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// The script's output on `vectors`, or `None` when it cannot run here (no python3, no
/// py_ecc); the note says which.
fn run_reference(vectors: &Path) -> Option<Output> {
    let output = match Command::new("python3")
        .arg(repo_path("scripts/beacon_reference.py"))
        .arg(vectors)
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            println!("note: python3 is not on PATH; skipping the seed signature cross-check");
            return None;
        }
        Err(error) => panic!("could not run python3: {error}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    if output.status.code() == Some(SKIPPED) {
        println!("note: skipping the seed signature cross-check (see the script's note above)");
        return None;
    }
    Some(output)
}

#[test]
fn test_python_reference_verifies_the_seed_signature() {
    let Some(output) = run_reference(&repo_path(VECTORS)) else {
        return;
    };
    assert!(
        output.status.success(),
        "the Python reference disagrees: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn test_python_reference_fails_on_a_flipped_signature_byte() {
    let text = std::fs::read_to_string(repo_path(VECTORS)).expect("vectors file exists");
    let mut document: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut signature = hex::decode(
        document["signature"]
            .as_str()
            .expect("signature is a string"),
    )
    .expect("hex");
    *signature.last_mut().expect("48 bytes") ^= 0x01;
    document["signature"] = hex::encode(&signature).into();
    let tampered = std::env::temp_dir().join(format!(
        "jiu-beacon-tampered-vectors-{}.json",
        std::process::id()
    ));
    std::fs::write(&tampered, document.to_string()).expect("temp dir is writable");
    let output = run_reference(&tampered);
    std::fs::remove_file(&tampered).expect("remove the temporary file");
    let Some(output) = output else {
        return;
    };
    // 1 is the script's verdict "mismatch"; 2 would mean it could not check at all.
    assert_eq!(
        output.status.code(),
        Some(1),
        "a flipped signature byte must fail the check"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(") signature:") && stdout.contains(") seed:"),
        "the failure names the signature and the seed: {stdout}"
    );
}
