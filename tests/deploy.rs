//! `deploy/`: the Prometheus alert rules and the Grafana dashboard use only metrics that a live
//! collector exports, and the rules pass `promtool check rules` and their own unit tests
//! (`promtool test rules`).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{exported, names_in, read, zia_line, Collector, Options};

const RULES: &str = common::RULES;
const RULE_TESTS: &str = "deploy/prometheus/ztel-alerts.test.yml";
const DASHBOARD: &str = "deploy/grafana/ztel-dashboard.json";

#[test]
fn every_metric_the_rules_and_the_dashboard_use_is_exported() {
    // TLS on, for the certificate's series.
    let dir = common::TempDir::new("deploy-certs");
    let (cert, key) = common::Ca::new("deploy").leaf("localhost", &["localhost"]);
    let (cert, key) = (
        dir.write("server.pem", &cert),
        dir.write("server.key", &key),
    );
    let collector = Collector::start_with(
        "deploy",
        Options {
            udp: true,
            config: Some(format!(
                "[input.tls]\ncert = {:?}\nkey = {:?}\n",
                cert.display().to_string(),
                key.display().to_string()
            )),
            args: ["--admin", "127.0.0.1:0", "--tls", "127.0.0.1:0"]
                .map(String::from)
                .to_vec(),
            ..Options::default()
        },
    );
    let admin = collector.listening["admin"];
    // One record, so that the per-input series that appear with the first record are there.
    collector.send(format!("{}\n", zia_line(1, "pc-1")).as_bytes());
    let page = common::wait_for_metric(admin, "ztel_last_record_timestamp_seconds", |v| v > 0.0);
    let exported = exported(&page);

    let dashboard: serde_json::Value =
        serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is JSON");
    let mut queries = String::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            queries.push_str(target["expr"].as_str().expect("expr"));
            queries.push('\n');
        }
    }
    queries.push_str(dashboard["templating"].to_string().as_str());
    for (what, text) in [("rules", read(RULES)), ("dashboard", queries)] {
        let used = names_in(&text);
        assert!(used.len() >= 10, "{what} uses only {used:?}");
        // Exported only with [output.nats] on: tests/nats checks those against a nats-server.
        let missing: Vec<_> = used
            .difference(&exported)
            .filter(|name| !name.starts_with("ztel_nats_"))
            .collect();
        assert!(
            missing.is_empty(),
            "{what} uses metrics /metrics does not export: {missing:?}\n{page}"
        );
    }
    collector.stop();
}

#[test]
fn the_alert_rules_pass_promtool() {
    if !common::have("promtool", Command::new("promtool").arg("--version")) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for args in [["check", "rules", RULES], ["test", "rules", RULE_TESTS]] {
        let out = Command::new("promtool")
            .args(&args[..2])
            // `test rules` finds rule_files relative to the test file.
            .arg(root.join(args[2]))
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn names_are_found_as_whole_words() {
    let names = names_in("rate(ztel_frames_total[5m]) / x_ztel_no + process_open_fds{a=\"b\"}");
    let expected: BTreeSet<String> = ["ztel_frames_total", "process_open_fds"]
        .map(String::from)
        .into();
    assert_eq!(names, expected);
}
