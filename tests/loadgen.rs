//! The bundled load generator against the real collector (DESIGN §7): what loadgen says it
//! sent, what ztel's /metrics says it received and what ztel wrote must agree.
//!
//! loadgen is another package of the workspace, so cargo gives this test no path to its
//! binary: it is looked up next to this test's own executable (`target/debug/loadgen`), which
//! `cargo build --workspace` or `cargo test --workspace` has built. Without it the test says
//! so and does nothing; loadgen's own tests (loadgen/tests) cover it against fake collectors.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Collector, Options};

fn loadgen_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/debug/deps/loadgen-HASH → target/debug/loadgen
    let path = exe.parent()?.parent()?.join("loadgen");
    path.exists().then_some(path)
}

/// Runs loadgen; its exit status and the `key=value` pairs of its `loadgen-result` line.
fn loadgen(binary: &Path, args: &[&str]) -> (i32, Vec<(String, String)>, String) {
    let out = Command::new(binary)
        .args(args)
        .arg("--quiet")
        .output()
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("loadgen-result "))
        .unwrap_or_else(|| panic!("no loadgen-result line: {stdout}"))
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        result,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn get<'a>(result: &'a [(String, String)], key: &str) -> &'a str {
    result
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {result:?}"))
}

#[test]
fn loadgen_traffic_is_received_counted_and_recorded() {
    let Some(binary) = loadgen_binary() else {
        eprintln!("skipped: no loadgen binary next to the tests (cargo build -p loadgen)");
        return;
    };
    let collector = Collector::start_with(
        "loadgen",
        Options {
            udp: true,
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    let admin = format!("http://{}", collector.listening["admin"]);
    let tcp = collector.addr.to_string();
    let udp = collector.listening["udp"].to_string();

    // NSS over two octet-framed TCP connections, as fast as the collector takes them.
    let (code, result, stderr) = loadgen(
        &binary,
        &[
            "--target",
            &tcp,
            "--source",
            "nss",
            "--connections",
            "2",
            "--framing",
            "octet",
            "--count",
            "3000",
            "--admin",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(get(&result, "events"), "3000");
    assert_eq!(get(&result, "received"), "3000");
    assert_eq!(get(&result, "lost"), "0");
    assert_ne!(get(&result, "ztel_p50_us"), "n/a");

    // LSS over UDP at a paced rate the collector keeps up with.
    let (code, result, stderr) = loadgen(
        &binary,
        &[
            "--target", &udp, "--proto", "udp", "--source", "lss", "--rate", "2000", "--count",
            "1000", "--admin", &admin,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(get(&result, "received"), "1000");
    assert_ne!(get(&result, "lateness_p99_us"), "n/a");

    let outcome = collector.stop();
    let count = |name: &str| outcome.counters.get(name).copied().unwrap_or(0);
    assert_eq!(count("records_zia_web"), 3000);
    assert_eq!(count("records_zpa_user_activity"), 1000);
    assert_eq!(count("dead_letters"), 0);
    assert_eq!(outcome.records.len(), 4000);
}
