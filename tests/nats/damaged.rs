//! A spool whose bytes changed on disk between two runs: what no longer reads as it was
//! written is passed over and counted, never published as it reads; the rest is published.

use crate::server::Server;
use crate::support::{
    metric, read_stream, records, spool_empties, spooled_while_nats_is_down, start_collector,
    Spooled, PATIENCE,
};

/// Regression: the spool's frames carried no checksum, so a record changed on disk was
/// published as it read: a record id the feed never sent.
#[test]
fn a_record_changed_in_the_spool_is_passed_over_not_published() {
    // NATS is down for the whole first run.
    const N: u64 = 2000;
    let Some(Spooled {
        dir,
        down,
        port,
        data,
        collector: first,
    }) = spooled_while_nats_is_down("nats-damaged", N)
    else {
        return;
    };
    first.stop();

    // One record's id changed in place, the JSON still whole: `"record_id":"1000"` became 9999.
    let segments: Vec<_> = std::fs::read_dir(data.join("nats-spool"))
        .expect("the spool")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sealed"))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let mut bytes = std::fs::read(&segments[0]).expect("the segment");
    let was = br#""record_id":"1000""#;
    let at = memchr::memmem::find(&bytes, was).expect("record 1000 in the spool");
    bytes[at + 13..at + 17].copy_from_slice(b"9999");
    std::fs::write(&segments[0], &bytes).expect("written back");

    let server = Server::on(port, dir.path().join("nats-store"), None);
    drop(down);
    let second = start_collector("nats-damaged-2", &server.url(), Some(data));
    assert!(spool_empties(&second), "the spool empties");
    let passed_over = metric(&second, "ztel_nats_unpublishable_total");
    // What was published, once the publisher has gone past everything it read.
    let mut all = read_stream(&server.url());
    let deadline = std::time::Instant::now() + PATIENCE;
    while all.len() as f64 + passed_over < (N + 7) as f64 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        all = read_stream(&server.url());
    }
    let ids: Vec<u64> = records(&all)
        .iter()
        .filter_map(|m| m.payload["record_id"].as_str()?.parse().ok())
        .collect();
    assert!(!ids.contains(&9999), "the changed record was published");
    assert!(!ids.contains(&1000), "its seal is passed over whole");
    assert!(ids.iter().all(|id| (1..=N).contains(id)));
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "each record once");
    // Every message the spool held is published or counted as passed over, the seal's
    // neighbours (the records before and after record 1000) published.
    assert!(passed_over >= 1.0, "{passed_over}");
    assert_eq!(all.len() as f64 + passed_over, (N + 7) as f64);
    assert!(ids.contains(&1) && ids.contains(&N));
    eprintln!(
        "damaged spool: {} of {N} records published, {passed_over} messages passed over",
        ids.len()
    );
    second.stop();
}
