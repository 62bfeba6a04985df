//! A message the stream refuses for what it is (larger than the stream's own max_msg_size)
//! would be refused again however often it is sent: it is passed over and counted, and what
//! follows it is published.

use std::time::Duration;

use async_nats::jetstream::stream;

use crate::common::{self, TempDir};
use crate::server::Server;
use crate::support::{
    assert_stream_holds_once, comes_true, lines, metric, spool_empties, start_collector,
    with_jetstream,
};

#[test]
fn a_message_the_stream_refuses_is_passed_over_and_the_rest_is_published() {
    // It stayed at the spool's head, sent again every second and refused every time; nothing
    // behind it was acknowledged, and once the spool was full the inputs were pushed back.
    let dir = TempDir::new("nats-refused");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    with_jetstream(&server.url(), |js| async move {
        js.create_stream(stream::Config {
            name: "ZTEL".into(),
            subjects: vec!["ztel.>".into()],
            duplicate_window: Duration::from_secs(900),
            max_message_size: 1500,
            ..Default::default()
        })
        .await
        .expect("create the stream");
    });
    let c = start_collector("nats-refused", &server.url(), None);
    // A record whose URL makes it about 3,700 bytes, under the server's max_payload.
    let big = common::zia_line(5000, "host-big").replacen(
        "/p/5000\"",
        &format!("/p/5000/{}\"", "x".repeat(3000)),
        1,
    );
    let mut sent = lines(20);
    sent.extend_from_slice(format!("{big}\n").as_bytes());
    c.send(&sent);
    assert!(
        comes_true(|| metric(&c, "ztel_nats_unpublishable_total") == 1.0),
        "the refused record counted once"
    );
    // The 20 records around it, and the devices' events, reach the stream.
    assert_stream_holds_once(&server.url(), 20);
    assert!(spool_empties(&c), "the spool empties");
    assert_eq!(metric(&c, "ztel_nats_unpublishable_total"), 1.0);
    let outcome = c.stop();
    assert_eq!(
        outcome.records.len(),
        21,
        "the records file keeps every record"
    );
    assert!(
        outcome
            .stderr
            .iter()
            .any(|l| l.contains("JetStream refused a message for what it is")),
        "said in the log: {:?}",
        outcome.stderr
    );
}
