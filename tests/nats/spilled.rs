//! Records a failing records file spilled at shutdown, with `[output.nats]` on: the next start
//! reads the spill back into the file, and a Cloud NSS retry of their batch, all repeats now,
//! is answered 200 at once (NATS had them from the first run).

use std::time::Duration;

use crate::common::{self, zia_line, Collector, Options, TempDir};
use crate::server::Server;
use crate::support::nats_config;

fn options(url: &str, args: &[&str], data: Option<std::path::PathBuf>) -> Options {
    let http = "[input.http]\nplain = true\nkeys = [\"k1\"]\n";
    Options {
        binary: true,
        config: Some(format!("{}{http}", nats_config(url, ""))),
        args: ["--admin", "127.0.0.1:0", "--http", "127.0.0.1:0"]
            .iter()
            .chain(args)
            .map(|a| a.to_string())
            .collect(),
        data_dir: data,
        ..Options::default()
    }
}

#[test]
fn a_retry_of_a_spilled_batch_is_answered_at_once_after_the_read_back() {
    let dir = TempDir::new("nats-spilled");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let first = Collector::start_with(
        "nats-spilled-a",
        options(&server.url(), &["--records", "/dev/full"], None),
    );
    let lines = [zia_line(1, "pc-spilled"), zia_line(2, "pc-spilled")];
    let body = common::http::array(&lines);
    let http = first.listening["http"];
    let sent = body.clone();
    let post =
        std::thread::spawn(move || common::http::Client::connect(http).post(Some("k1"), &sent));
    common::wait_for_metric(first.listening["admin"], "ztel_http_requests_total", |n| {
        n >= 1.0
    });
    let outcome = first.stop_within(Duration::from_secs(6));
    assert_eq!(post.join().expect("client").status, 503);
    let next = Collector::start_with(
        "nats-spilled-b",
        options(&server.url(), &[], Some(outcome.data.clone())),
    );
    let started = std::time::Instant::now();
    let again = common::http::Client::connect(next.listening["http"]).post(Some("k1"), &body);
    // A receipt waits 10 s for its records before a 503 (`WRITTEN_WITHIN`).
    assert_eq!(again.status, 200, "{again:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let second = next.stop();
    assert_eq!(second.counter("duplicates"), 2);
    let ids: Vec<&str> = second
        .records
        .iter()
        .filter_map(|r| r["record_id"].as_str())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    drop(outcome);
}
