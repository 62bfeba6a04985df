//! Running the bundled load generator against a collector a test started.
//!
//! loadgen is another package of the workspace, so cargo gives these tests no path to its
//! binary: it is looked up next to the test's own executable (`target/debug/loadgen`), which
//! `cargo build --workspace` or `cargo test --workspace` has built.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The loadgen binary; None, having said the test is skipped, when it has not been built.
pub fn loadgen_binary() -> Option<PathBuf> {
    // target/debug/deps/loadgen-HASH → target/debug/loadgen
    let found = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("loadgen")))
        .filter(|path| path.exists());
    // CI builds the whole workspace first: there a missing binary is a failure, not a skip.
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "no loadgen binary next to the tests (cargo build -p loadgen)"
    );
    if found.is_none() {
        eprintln!("skipped: no loadgen binary next to the tests (cargo build -p loadgen)");
    }
    found
}

/// What a run of loadgen (with --quiet) left: its exit status, stdout and stderr.
pub fn run_loadgen(binary: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary)
        .args(args)
        .arg("--quiet")
        .output()
        .expect("loadgen runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `key=value` pairs of the `loadgen-result` line of `stdout`.
pub fn loadgen_result(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("loadgen-result "))
        .unwrap_or_else(|| panic!("no loadgen-result line: {stdout}"))
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The value of `key` in a `loadgen-result` line's pairs ([`loadgen_result`]).
pub fn result_value<'a>(result: &'a [(String, String)], key: &str) -> &'a str {
    result
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {result:?}"))
}
