//! The device registry seen from outside, across restarts: a device's IPs are its newest, not
//! its first.

mod common;

use common::{http_get, zia_line, Collector, Options};
use serde_json::Value;

fn options(data: Option<std::path::PathBuf>) -> Options {
    Options {
        args: vec!["--admin".into(), "127.0.0.1:0".into()],
        data_dir: data,
        binary: true,
        ..Options::default()
    }
}

/// The IPs of a device in `/devices/{hostname}`.
fn ips(admin: std::net::SocketAddr, hostname: &str) -> Vec<String> {
    let (status, body) = http_get(admin, &format!("/devices/{hostname}"));
    assert_eq!(status, 200, "{body}");
    let device: Value = serde_json::from_str(&body).expect("JSON");
    serde_json::from_value(device["ips"].clone()).expect("ips")
}

/// Regression: a device's IPs froze at the first 32, across restarts: a DHCP laptop's current
/// IP never appeared. zia_line gives record `i` the client IP 10.0.0.i.
#[test]
fn a_device_lists_its_newest_ips_across_a_restart() {
    let ip = |i: u64| format!("10.0.0.{i}");
    let collector = Collector::start_with("newest-1", options(None));
    let admin = collector.listening["admin"];
    let lines: String = (1..=40)
        .map(|i| format!("{}\n", zia_line(i, "dhcp-laptop")))
        .collect();
    collector.send(lines.as_bytes());
    common::wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |n| n == 40.0);
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (9..=40).map(ip).collect::<Vec<_>>()
    );
    let outcome = collector.stop();

    let collector = Collector::start_with("newest-2", options(Some(outcome.data.clone())));
    let admin = collector.listening["admin"];
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (9..=40).map(ip).collect::<Vec<_>>()
    );
    // Seen again at an IP it has (in a record of its own): nothing moves. At a new one: the
    // oldest leaves.
    let again = zia_line(20, "dhcp-laptop").replace(r#""recordid":"20""#, r#""recordid":"1020""#);
    let new = zia_line(41, "dhcp-laptop");
    collector.send(format!("{again}\n{new}\n").as_bytes());
    common::wait_for_metric(admin, "ztel_records_total{kind=\"zia.web\"}", |n| n == 2.0);
    assert_eq!(
        ips(admin, "dhcp-laptop"),
        (10..=41).map(ip).collect::<Vec<_>>()
    );
    collector.stop();
}
