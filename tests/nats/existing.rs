//! A stream an operator made before the collector came, that it must publish to without
//! changing it, or cannot change: one that already takes every subject the collector
//! publishes (with subjects of its own, narrower than `<prefix>.>`), one whose `max_age` is
//! shorter than the configured duplicate window, credentials that may publish but not update
//! streams, one for records only (which gains `<prefix>.devices`), and one that lacks a subject
//! and refuses it. The first four used to stop publishing for good (the update the collector
//! insisted on was refused, and records filled the spool).

use std::time::Duration;

use async_nats::jetstream::stream;

use crate::common::{http_get, wait_for, TempDir};
use crate::server::{installed, Server};
use crate::support::{
    admin, assert_devices_created, assert_stream_holds_once, lines, lines_naming, start_collector,
    start_configured, stream_info, with_jetstream, PATIENCE,
};

/// Creates the stream ZTEL on `url` with `subjects`, the rest of `config` as given.
fn create(url: &str, subjects: &[&str], config: stream::Config) {
    let config = stream::Config {
        name: "ZTEL".into(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        ..config
    };
    with_jetstream(url, |js| async move {
        js.create_stream(config).await.expect("create the stream");
    });
}

#[test]
fn a_stream_that_takes_every_subject_keeps_its_own_subjects() {
    let dir = TempDir::new("nats-existing-narrow");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // Made by hand for records and devices: `ztel.>` would overlap its subjects, and the server
    // refuses a stream whose subjects overlap. Its window is the server's default.
    create(
        &server.url(),
        &["ztel.records.>", "ztel.devices"],
        Default::default(),
    );
    let c = start_collector("nats-existing-narrow", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    assert_devices_created(&server.url());
    let config = stream_info(&server.url()).config;
    assert_eq!(config.subjects, ["ztel.records.>", "ztel.devices"]);
    assert_eq!(config.duplicate_window, Duration::from_secs(900));
    c.stop();
}

#[test]
fn a_window_longer_than_the_streams_max_age_is_warned_of_once_and_records_flow() {
    let dir = TempDir::new("nats-existing-max-age");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // The server refuses a duplicate window longer than max_age: 900 s cannot be set.
    create(
        &server.url(),
        &["ztel.>"],
        stream::Config {
            max_age: Duration::from_secs(600),
            ..Default::default()
        },
    );
    let in_force = stream_info(&server.url()).config.duplicate_window;
    let c = start_collector("nats-existing-max-age", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    assert_devices_created(&server.url());
    assert_eq!(
        stream_info(&server.url()).config.duplicate_window,
        in_force,
        "the stream is as it was"
    );
    let stderr = c.stop().stderr.join("\n");
    let warned = lines_naming(&stderr, "stream ZTEL");
    assert_eq!(warned.len(), 1, "one line: {stderr}");
    let line = warned[0];
    eprintln!("{line}");
    for what in [
        "WARN",
        &format!("{} s", in_force.as_secs()),
        "900 s",
        "max age",
    ] {
        assert!(line.contains(what), "{what:?} in {line}");
    }
}

/// Regression (said at INFO only): the window is the stream's, so a collector whose
/// `duplicate_window_secs` is shorter than the stream's shortens it for every collector.
#[test]
fn a_collector_that_shortens_the_streams_window_warns() {
    let dir = TempDir::new("nats-existing-window");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    create(
        &server.url(),
        &["ztel.>"],
        stream::Config {
            duplicate_window: Duration::from_secs(900),
            ..Default::default()
        },
    );
    let c = start_configured(
        "nats-existing-window",
        &server.url(),
        "duplicate_window_secs = 5",
        None,
    );
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    assert_eq!(
        stream_info(&server.url()).config.duplicate_window,
        Duration::from_secs(5)
    );
    let stderr = c.stop().stderr.join("\n");
    let warned = lines_naming(&stderr, "duplicate window set to 5 s");
    assert_eq!(warned.len(), 1, "one line: {stderr}");
    for what in ["WARN", "it was 900 s", "every collector"] {
        assert!(warned[0].contains(what), "{what:?} in {}", warned[0]);
    }
}

#[test]
fn credentials_that_may_not_update_the_stream_publish_to_it_as_it_is() {
    let dir = TempDir::new("nats-existing-no-update");
    if !installed() {
        return;
    }
    // Every client without credentials (the collector, and this test) is a user that may not
    // update streams.
    let conf = dir.write(
        "nats.conf",
        "authorization {\n  users = [\n    { user: ztel, password: ztel, permissions: \
         { publish: { deny: [\"$JS.API.STREAM.UPDATE.>\"] } } }\n  ]\n}\n\
         no_auth_user: ztel\n",
    );
    let server = Server::on(0, dir.path().join("nats-store"), Some(conf));
    create(&server.url(), &["ztel.>"], Default::default());
    let in_force = stream_info(&server.url()).config.duplicate_window;
    let c = start_collector("nats-existing-no-update", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    assert_devices_created(&server.url());
    let stderr = c.stop().stderr.join("\n");
    let warned = lines_naming(&stderr, "stream ZTEL");
    assert_eq!(warned.len(), 1, "one line: {stderr}");
    let in_force = format!("{} s", in_force.as_secs());
    assert!(warned[0].contains(&in_force), "{in_force} in {stderr}");
    eprintln!("{}", warned[0]);
}

#[test]
fn a_stream_for_records_only_gains_the_devices_subject() {
    let dir = TempDir::new("nats-existing-records-only");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // `ztel.>` beside `ztel.records.>` would be refused as overlapping: only the subject it
    // lacks is added. It was refused at every attempt, and the records waited in the spool.
    create(&server.url(), &["ztel.records.>"], Default::default());
    let c = start_collector("nats-existing-records-only", &server.url(), None);
    c.send(&lines(20));
    assert_stream_holds_once(&server.url(), 20);
    assert_devices_created(&server.url());
    let config = stream_info(&server.url()).config;
    assert_eq!(config.subjects, ["ztel.records.>", "ztel.devices"]);
    c.stop();
}

#[test]
fn a_stream_that_lacks_a_subject_and_refuses_it_is_said_at_every_attempt() {
    let dir = TempDir::new("nats-existing-refused");
    let Some(server) = Server::start(&dir) else {
        return;
    };
    // Records only, and `ztel.devices` belongs to another stream: adding it is refused.
    create(&server.url(), &["ztel.records.>"], Default::default());
    with_jetstream(&server.url(), |js| async move {
        js.create_stream(stream::Config {
            name: "OTHER".into(),
            subjects: vec!["ztel.devices".into()],
            ..Default::default()
        })
        .await
        .expect("create the other stream");
    });
    let c = start_collector("nats-existing-refused", &server.url(), None);
    c.send(&lines(20));
    let said = |stderr: &str| {
        lines_naming(stderr, "stream ZTEL")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let errors = wait_for(PATIENCE, || {
        let errors = said(&c.stderr_text());
        (errors.len() >= 4).then_some(errors)
    })
    .unwrap_or_else(|| panic!("an error at each attempt: {}", c.stderr_text()));
    for line in &errors {
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("spool"), "says where records wait: {line}");
        assert!(
            line.contains("ztel.devices"),
            "names what is missing: {line}"
        );
        assert!(
            line.contains("overlap"),
            "says the server's refusal: {line}"
        );
    }
    eprintln!("{}", errors[0]);
    let (_, health) = http_get(admin(&c), "/healthz");
    assert!(health.contains("nats down"), "{health}");
    // The operator gives the subject up elsewhere: the next attempt adds it and publishes.
    with_jetstream(&server.url(), |js| async move {
        js.delete_stream("OTHER")
            .await
            .expect("delete the other stream");
    });
    assert_stream_holds_once(&server.url(), 20);
    assert_devices_created(&server.url());
    c.stop();
}
