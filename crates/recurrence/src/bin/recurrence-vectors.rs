//! `recurrence-vectors <file>`: evaluates an RRULE test-vector file and prints
//! `N passed, M failed`; exits non-zero when any case fails.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    let Some(path) = args.iter().find(|a| !a.starts_with('-')) else {
        eprintln!("usage: recurrence-vectors [-v] <vectors.json>");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match recurrence::vectors::evaluate_json(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    for case in &report.cases {
        if !case.passed {
            println!("FAIL {}", case.id);
            for d in &case.details {
                println!("    {d}");
            }
        } else if verbose {
            println!("ok   {}", case.id);
            for d in &case.details {
                println!("    {d}");
            }
        }
    }
    println!("{}", report.summary());
    if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
