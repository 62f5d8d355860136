//! The shared RRULE vectors (python-dateutil oracle): every RFC-legal case must match
//! exactly, every illegal one must be rejected. The file lives outside this repository at
//! `../shared/recurrence/vectors.json` relative to the repository root; set
//! `RECURRENCE_VECTORS=<file>` to evaluate another file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "vectors")]

use std::path::PathBuf;

fn vectors_path() -> PathBuf {
    if let Ok(p) = std::env::var("RECURRENCE_VECTORS") {
        return PathBuf::from(p);
    }
    // crates/recurrence -> repository root -> its parent
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/recurrence/vectors.json")
}

#[test]
fn shared_vectors_pass() {
    let path = vectors_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: no vectors file at {}", path.display());
        return;
    };
    let report = recurrence::vectors::evaluate_json(&text).expect("valid vectors file");
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.id, c.details.join("; ")))
        .collect();
    assert!(report.cases.len() > 100, "suspiciously few cases");
    assert!(
        failures.is_empty(),
        "{}\n{}",
        report.summary(),
        failures.join("\n")
    );
}
