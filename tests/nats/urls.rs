//! What `output.nats.url` may hold besides one server: several, comma-separated. Both
//! connections use all of it (the one that publishes records, and async-nats's for the stream
//! and the registry bucket).

use crate::common::{Collector, TempDir};
use crate::server::{free_port, Server};
use crate::support::{comes_true, lines, metric, start_collector};

/// Whether `c` has published `n` records and merged into the registry bucket: each takes a
/// connection the server took (merges are async-nats's, records the publisher's).
fn published_and_merged(c: &Collector, n: f64) -> bool {
    comes_true(|| {
        metric(c, "ztel_nats_acknowledged_total") >= n
            && metric(c, "ztel_nats_registry_merges_total") >= 1.0
    })
}

#[test]
fn the_servers_of_a_comma_separated_url_are_tried_in_turn() {
    // The first names a port nothing listens on: a cluster member that is down.
    let dir = TempDir::new("nats-several");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    let url = format!("nats://127.0.0.1:{}, {}", free_port(), server.url());
    let c = start_collector("nats-several", &url, None);
    c.send(&lines(50));
    assert!(published_and_merged(&c, 50.0), "{}", c.stderr_text());
    c.stop();
}
