//! Runs the independent Python implementation (`scripts/lottery_reference.py`) over the
//! shared vectors. Skipped, with a note, when `python3` is not on PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// The script's output on `vectors`, or `None` when there is no python3 to run it.
fn run_reference(vectors: &Path) -> Option<Output> {
    match Command::new("python3")
        .arg(repo_path("scripts/lottery_reference.py"))
        .arg(vectors)
        .output()
    {
        Ok(output) => Some(output),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            println!("note: python3 is not on PATH; skipping the cross-implementation check");
            None
        }
        Err(error) => panic!("could not run python3: {error}"),
    }
}

#[test]
fn test_python_reference_agrees_with_the_vectors() {
    let vectors = repo_path("tests/vectors/lottery/vectors.json");
    let Some(output) = run_reference(&vectors) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the Python reference disagrees: {stdout}"
    );
}

#[test]
fn test_python_reference_fails_on_a_wrong_winner() {
    let text = std::fs::read_to_string(repo_path("tests/vectors/lottery/vectors.json"))
        .expect("vectors file exists");
    let mut document: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let winners = &mut document["lotteries"][0]["expected"]["pools"][0]["winners"];
    let list = winners.as_array_mut().expect("winners is a list");
    assert!(list.len() >= 2, "the basic lottery has several winners");
    list.swap(0, 1);
    let tampered = std::env::temp_dir().join(format!(
        "jiu-lottery-tampered-vectors-{}.json",
        std::process::id()
    ));
    std::fs::write(&tampered, document.to_string()).expect("temp dir is writable");
    let output = run_reference(&tampered);
    std::fs::remove_file(&tampered).expect("remove the temporary file");
    if let Some(output) = output {
        assert_eq!(
            output.status.code(),
            Some(1),
            "a wrong winner order must fail"
        );
    }
}
