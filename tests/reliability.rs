//! Bad conditions of DESIGN §6 that are not about a frame's content: a disk that refuses
//! writes, a slow sender, a connection flood.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{http_get, padded, zia_line, Collector, Options};

#[test]
fn full_disk_pushes_back_and_spills_at_shutdown() {
    let collector = Collector::start_with(
        "devfull",
        Options {
            args: vec!["--records".into(), "/dev/full".into()],
            binary: true,
            ..Options::default()
        },
    );
    const RECORDS: u64 = 60_000;
    let sent = Arc::new(AtomicUsize::new(0));
    let progress = sent.clone();
    let mut stream = collector.connect();
    let sender = std::thread::spawn(move || {
        for i in 1..=RECORDS {
            if stream
                .write_all(format!("{}\n", padded(i)).as_bytes())
                .is_err()
            {
                break;
            }
            progress.fetch_add(1, Ordering::Relaxed);
        }
    });
    // The collector stops reading once its backlog is full: the sender stalls short of the end.
    let last = common::wait_until_stalled(&sent, Duration::from_millis(700));
    assert!(
        (last as u64) < RECORDS,
        "everything was taken although nothing could be written"
    );
    let outcome = collector.stop();
    drop(sender);
    let made = outcome.counter("records_zia_web");
    assert!(made > 0);
    let spill: Vec<_> = std::fs::read_dir(&outcome.data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("spill-records-") && name.ends_with(".jsonl")
        })
        .collect();
    assert_eq!(spill.len(), 1, "one spill file");
    let text = std::fs::read_to_string(spill[0].path()).unwrap();
    assert_eq!(
        text.lines().count() as u64,
        made,
        "every record made is in the spill"
    );
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let errors = outcome.counter("sink_errors");
    assert!(errors > 0);
    // Said at the 1st, 2nd, 4th… failure, not at each retry.
    let complaints = outcome
        .stderr
        .iter()
        .filter(|l| l.contains("cannot write records to /dev/full"))
        .count() as u64;
    assert!(
        (1..=errors.ilog2() as u64 + 1).contains(&complaints),
        "{complaints} lines for {errors} failures: {:?}",
        outcome.stderr
    );
    let said = outcome
        .stderr
        .iter()
        .filter(|l| l.starts_with("ztel: could not write"))
        .count();
    assert_eq!(said, 1, "one line says so: {:?}", outcome.stderr);
}

#[test]
fn idle_timeout_bounds_a_frame_in_progress_and_a_mute_peer_not_a_quiet_feed() {
    // DESIGN §6: the limit bounds a frame in progress from its first byte (however slowly it
    // trickles in) and a connection that never sent a byte; a feed quiet at a frame boundary
    // stays open.
    let collector = Collector::start_with(
        "idle",
        Options {
            config: Some("[limits]\nidle_timeout_secs = 1\nmax_frame_bytes = 4096\n".into()),
            ..Options::default()
        },
    );
    let mut quiet = collector.connect();
    // Mute in the middle of a frame too long to keep, which is skipped to its end: its bytes
    // were all taken, but the frame is not over (it held its connection slot for ever).
    let mut skipped = collector.connect();
    skipped
        .write_all(format!("{{{}", "a".repeat(10_000)).as_bytes())
        .unwrap();
    let mut counted = collector.connect();
    counted.write_all(b"9999999 <134>{\"a\":").unwrap();
    quiet
        .write_all(format!("{}\n", zia_line(1, "quiet")).as_bytes())
        .unwrap();
    let mut mute = collector.connect();
    // Half a KV record that would still parse (a zia.web record with http_status 2): cut off by
    // the timeout, not ended by its peer, it is no record.
    let kv = include_str!("corpus/sc4s-zia-web-splunk-kv.log");
    let half_kv = &kv[..kv.find("\tstatus=200").expect("a status") + "\tstatus=2".len()];
    let mut cut = collector.connect();
    cut.write_all(half_kv.as_bytes()).unwrap();
    // Half a record, then a byte every 200 ms: each read is recent, the frame never ends.
    let line = zia_line(2, "slow");
    let mut slow = collector.connect();
    slow.write_all(&line.as_bytes()[..80]).unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..100 {
            if slow.write_all(b"x").is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
            let mut probe = [0u8; 8];
            slow.set_nonblocking(true).unwrap();
            let closed = matches!(slow.read(&mut probe), Ok(0));
            slow.set_nonblocking(false).unwrap();
            if closed {
                return true;
            }
        }
        false
    });
    assert!(trickle.join().unwrap(), "the slow sender was never cut off");
    mute.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let read = mute.read(&mut [0u8; 8]);
    assert!(matches!(read, Ok(0)), "a mute peer is closed: {read:?}");
    cut.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let read = cut.read(&mut [0u8; 8]);
    assert!(
        matches!(read, Ok(0)),
        "a peer mute mid-frame is closed: {read:?}"
    );
    for (what, mut stream) in [("line", skipped), ("octet-counted frame", counted)] {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let read = stream.read(&mut [0u8; 8]);
        assert!(
            matches!(read, Ok(0)),
            "a peer mute in an oversize {what} is closed: {read:?}"
        );
    }
    // The quiet feed has been silent as long as the slow sender was cut off for: still open.
    quiet
        .write_all(format!("{}\n", zia_line(3, "quiet")).as_bytes())
        .expect("the quiet connection is still open");
    common::close_and_wait(quiet);
    let outcome = collector.stop();
    assert_eq!(outcome.counter("idle_timeouts"), 5);
    assert_eq!(outcome.counter("oversize_frames"), 2);
    assert_eq!(
        outcome.records.len(),
        2,
        "both records of the quiet feed, and no other"
    );
    let truncated: Vec<&str> = outcome
        .dead("truncated")
        .iter()
        .filter_map(|d| d["raw"].as_str())
        .collect();
    assert_eq!(
        truncated.len(),
        2,
        "the half records are kept as dead letters: {:?}",
        outcome.dead_letters
    );
    assert!(truncated.contains(&half_kv), "{truncated:?}");
    outcome.assert_counters_match_files();
}

#[test]
fn a_connection_flood_is_refused_past_the_limit_and_counted() {
    let collector = Collector::start_with(
        "flood",
        Options {
            config: Some("[limits]\nmax_connections = 4\n".into()),
            ..Options::default()
        },
    );
    let mut held: Vec<TcpStream> = (0..4).map(|_| collector.connect()).collect();
    // A record on each shows that the shard has accepted all four.
    for (i, stream) in held.iter_mut().enumerate() {
        let line = format!("{}\n", zia_line(100 + i as u64, "held"));
        stream.write_all(line.as_bytes()).unwrap();
    }
    common::wait_for_lines(&collector.data_dir().join("connections.jsonl"), 4);
    for _ in 0..6 {
        let extra = collector.connect();
        assert!(
            common::closed_unread(&extra, Duration::from_secs(10)),
            "closed at once"
        );
    }
    for stream in held {
        common::close_and_wait(stream);
    }
    collector.send(format!("{}\n", zia_line(1, "afterwards")).as_bytes());
    let outcome = collector.stop();
    assert_eq!(outcome.counter("connections_over_limit"), 6);
    assert_eq!(outcome.records.len(), 5, "the four held ones and one after");
    assert!(
        outcome.records.iter().any(|r| r["device"] == "afterwards"),
        "a good record on a new connection still arrives"
    );
}

#[test]
fn connections_past_the_limit_are_refused_within_the_patience_not_one_after_another() {
    // Each waited 250 ms for a slot in turn, the accept loop with it: the 20th of a flood was
    // refused after five seconds, and new peers waited in the kernel's backlog meanwhile.
    let collector = Collector::start_with(
        "flood-patience",
        Options {
            config: Some("[limits]\nmax_connections = 2\n".into()),
            ..Options::default()
        },
    );
    let mut held: Vec<TcpStream> = (0..2).map(|_| collector.connect()).collect();
    for (i, stream) in held.iter_mut().enumerate() {
        let line = format!("{}\n", zia_line(200 + i as u64, "held"));
        stream.write_all(line.as_bytes()).unwrap();
    }
    common::wait_for_lines(&collector.data_dir().join("connections.jsonl"), 2);
    let began = Instant::now();
    let extras: Vec<TcpStream> = (0..20).map(|_| collector.connect()).collect();
    for extra in extras {
        assert!(
            common::closed_unread(&extra, Duration::from_secs(10)),
            "closed unread"
        );
    }
    let took = began.elapsed();
    assert!(took < Duration::from_secs(2), "20 refusals took {took:?}");
    for stream in held {
        common::close_and_wait(stream);
    }
    let outcome = collector.stop();
    assert_eq!(outcome.counter("connections_over_limit"), 20);
}

#[test]
fn a_collector_restarted_right_after_a_drain_binds_its_port_again() {
    // NSS keeps its connection open: when the collector drains, that connection lingers
    // (FIN-WAIT-2 here, CLOSE-WAIT at the sender, then TIME-WAIT), and the new collector must
    // bind the same port at once, as `systemctl restart` or an upgrade does.
    let first = Collector::start_with("rebind-1", Options::default());
    let port = first.addr.port();
    let mut sender = first.connect();
    sender
        .write_all(format!("{}\n", zia_line(1, "rebind")).as_bytes())
        .expect("send");
    let outcome = first.stop();
    assert_eq!(outcome.records.len(), 1);
    let second = Collector::start_with(
        "rebind-2",
        Options {
            args: vec!["--tcp".into(), format!("127.0.0.1:{port}")],
            ..Options::default()
        },
    );
    assert_eq!(second.addr.port(), port);
    second.send(format!("{}\n", zia_line(2, "rebind")).as_bytes());
    let outcome = second.stop();
    assert_eq!(outcome.records.len(), 1);
    drop(sender);
}

#[test]
fn devices_pages_asked_in_a_loop_while_devices_arrive_hold_up_nothing() {
    // Issue 14: a `/devices` page sorted the whole registry under the lock every batch takes.
    // The pages now come from the admin threads' own index; here they are asked for without a
    // pause while records from as many devices arrive, and every record is written.
    const DEVICES: u64 = 200_000;
    let collector = Collector::start_with(
        "devices-loop",
        Options {
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            ..Options::default()
        },
    );
    let admin = collector.listening["admin"];
    let done = Arc::new(AtomicUsize::new(0));
    let pager = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut pages = 0;
            let mut last_total = 0;
            while done.load(Ordering::Relaxed) == 0 || last_total < DEVICES {
                let offset = (pages * 997) % (last_total.max(1) as usize);
                let (status, body) =
                    http_get(admin, &format!("/devices?offset={offset}&limit=1000"));
                assert_eq!(status, 200, "{body}");
                let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
                last_total = page["total"].as_u64().expect("total");
                pages += 1;
            }
            (pages, last_total)
        })
    };
    // Short records (a host, a client IP, a time): the test is about devices, not bytes.
    let lines: String = (1..=DEVICES)
        .map(|i| {
            format!(
                "{{\"sourcetype\":\"zscalernss-web\",\"event\":{{\"epochtime\":\"{}\",\"devicehostname\":\"loop-{i:06}\",\"cip\":\"10.0.{}.{}\"}}}}\n",
                1_700_000_000 + i,
                (i >> 8) & 0xff,
                i & 0xff
            )
        })
        .collect();
    let addr = collector.addr;
    let writer = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(lines.as_bytes()).expect("send");
    });
    // A bound for a busy machine, not a measure: the test asserts counts.
    let created = common::wait_for(Duration::from_secs(240), || {
        let (_, page) = http_get(admin, "/metrics");
        (common::sample(&page, "ztel_devices")? as u64 >= DEVICES).then_some(())
    });
    done.store(1, Ordering::Relaxed);
    writer.join().expect("the writer");
    assert!(created.is_some(), "not every device was created");
    done.store(1, Ordering::Relaxed);
    let (pages, total) = pager.join().expect("the pager");
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), DEVICES as usize);
    assert_eq!(outcome.counter("devices"), DEVICES);
    assert_eq!(total, DEVICES);
    assert!(pages > 1, "{pages} pages asked");
}

#[test]
fn every_input_listens_again_right_after_a_drain_with_senders_connected() {
    // As above, for each input: TCP, UDP, TLS and HTTP, each with a sender connected (the TLS
    // one mid-handshake, the HTTP one mid-request) when the first collector drains.
    let dir = common::TempDir::new("rebind-all-files");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let config = format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\n[input.http]\nplain = true\nkeys = [\"k1\"]\n",
        dir.write("cert.pem", &certified.cert.pem())
            .display()
            .to_string(),
        dir.write("key.pem", &certified.signing_key.serialize_pem())
            .display()
            .to_string(),
    );
    let options = |ports: Option<&std::collections::BTreeMap<String, std::net::SocketAddr>>| {
        let at = |kind: &str| ports.map_or("127.0.0.1:0".to_owned(), |p| p[kind].to_string());
        Options {
            config: Some(config.clone()),
            args: ["tcp", "udp", "tls", "http"]
                .iter()
                .flat_map(|kind| [format!("--{kind}"), at(kind)])
                .collect(),
            ..Options::default()
        }
    };
    let first = Collector::start_with("rebind-all-1", options(None));
    let mut ports = first.listening.clone();
    ports.insert("tcp".into(), first.addr);
    assert_eq!(ports.len(), 4, "{ports:?}");
    let mut tcp = first.connect();
    tcp.write_all(format!("{}\n", zia_line(1, "rebind-all")).as_bytes())
        .expect("send");
    let mut tls = TcpStream::connect(ports["tls"]).expect("tls");
    tls.write_all(&[0x16, 0x03, 0x01])
        .expect("a handshake begun");
    let mut http = TcpStream::connect(ports["http"]).expect("http");
    http.write_all(b"POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nContent-Length: 100\r\n\r\n[")
        .expect("a request begun");
    let outcome = first.stop();
    assert_eq!(outcome.records.len(), 1);
    // The drain abandoned the handshake rather than waiting for it to time out.
    assert_eq!(outcome.counter("tls_handshake_failures"), 0);

    let second = Collector::start_with("rebind-all-2", options(Some(&ports)));
    let mut again = second.listening.clone();
    again.insert("tcp".into(), second.addr);
    assert_eq!(again, ports);
    second.send(format!("{}\n", zia_line(2, "rebind-all")).as_bytes());
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.send_to(
        format!("{}\n", zia_line(3, "rebind-all")).as_bytes(),
        ports["udp"],
    )
    .expect("datagram");
    let answer = http_post(ports["http"], &format!("[{}]", zia_line(4, "rebind-all")));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    common::wait_for_lines(&second.data_dir().join("connections.jsonl"), 3);
    let outcome = second.stop();
    assert_eq!(outcome.records.len(), 3);
    drop((tcp, tls, http));
}

/// One keyed POST on its own connection; the answer's text.
fn http_post(addr: std::net::SocketAddr, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST / HTTP/1.1\r\nX-Ztel-Key: k1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_drain_right_after_a_fast_sender_closed_still_takes_all_it_sent() {
    let collector = Collector::start_with("drain-in-flight", Options::binary());
    const RECORDS: u64 = 500;
    let bytes: Vec<u8> = (1..=RECORDS)
        .flat_map(|i| (padded(i) + "\n").into_bytes())
        .collect();
    let mut stream = collector.connect();
    stream.write_all(&bytes).expect("write");
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("close the write side");
    // write_all returns once the bytes are in the kernel's send buffer: megabytes of them may
    // still be on their way when the drain begins.
    let outcome = collector.stop();
    assert_eq!(
        outcome.records.len() as u64,
        RECORDS,
        "records written: {}, counters: {:?}",
        outcome.records.len(),
        outcome.counters
    );
    assert_eq!(outcome.counter("dead_letters"), 0);
}
