//! The admin endpoint over real sockets: a tiny HTTP/1.1 client against `Admin` on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Value};
use ztel::aggregate::attribution::{Attribution, Sighting};
use ztel::aggregate::registry::Registry;
use ztel::aggregate::state::Shared;
use ztel::batch::FlowKey;
use ztel::obs::admin::Admin;

const TIMEOUT: Duration = Duration::from_secs(5);

/// 2024-01-18T10:30:00Z
const T0: i64 = 1_705_573_800;

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn state() -> Arc<Shared> {
    let mut table = Attribution::new(100, Duration::from_secs(30));
    let v4 = FlowKey {
        connector_ip: "10.10.0.5".parse().unwrap(),
        connector_port: 41000,
        server_ip: "192.168.7.20".parse().unwrap(),
        server_port: 443,
    };
    table.record(Sighting {
        key: v4,
        user: "alice@example.com".into(),
        device: Some("LAPTOP-ALICE".into()),
        device_id: Some(0x0123_4567_89ab_cdef),
        session_id: Some("sess-1".into()),
        connection_id: Some("conn-1".into()),
        start: ts(T0),
        end: Some(ts(T0 + 120)),
        seen: ts(T0 + 120),
    });
    let v6 = FlowKey {
        connector_ip: "fd00:10::5".parse().unwrap(),
        connector_port: 42000,
        server_ip: "fd00:20::9".parse().unwrap(),
        server_port: 22,
    };
    table.record(Sighting {
        key: v6,
        user: "bob@example.com".into(),
        device: None,
        device_id: None,
        session_id: None,
        connection_id: None,
        start: ts(T0),
        end: None,
        seen: ts(T0),
    });
    let shared = Shared::new(table, Registry::default(), vec![ztel::batch::Source::Tcp]);
    // As `run::start` says once every shard listens.
    shared
        .listening
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Arc::new(shared)
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        assert!(
            self.headers
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{}",
            self.headers
        );
        assert!(self.body.ends_with('\n'), "{:?}", self.body);
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Sends one request with `Connection: close` and reads the answer to EOF.
fn request(addr: SocketAddr, method: &str, target: &str) -> Reply {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    Reply {
        status: status_line[9..12].parse().unwrap(),
        headers: headers.to_string(),
        body: body.to_string(),
    }
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target)
}

const V4: &str =
    "connector_ip=10.10.0.5&connector_port=41000&server_ip=192.168.7.20&server_port=443";

fn start() -> (Admin, Arc<Shared>) {
    let state = state();
    let admin = Admin::start("127.0.0.1:0".parse().unwrap(), Arc::clone(&state)).unwrap();
    assert_ne!(admin.addr.port(), 0);
    (admin, state)
}

#[test]
fn attribution_answers() {
    let (admin, _state) = start();
    let addr = admin.addr;

    // Found, at in RFC 3339.
    let r = get(addr, &format!("/attribution?{V4}&at=2024-01-18T10:31:05Z"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({
            "found": true,
            "connector_ip": "10.10.0.5",
            "connector_port": 41000,
            "server_ip": "192.168.7.20",
            "server_port": 443,
            "at": "2024-01-18T10:31:05Z",
            "user": "alice@example.com",
            "device": "LAPTOP-ALICE",
            "device_id": "0123456789abcdef",
            "session_id": "sess-1",
            "connection_id": "conn-1",
            "start": "2024-01-18T10:30:00Z",
            "end": "2024-01-18T10:32:00Z",
        })
    );
    // The fields come in that order.
    assert!(
        r.body.starts_with("{\"found\":true,\"connector_ip\":"),
        "{}",
        r.body
    );

    // Found, at in epoch seconds (end + grace exactly).
    let r = get(addr, &format!("/attribution?{V4}&at={}", T0 + 150));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["user"], "alice@example.com");
    assert_eq!(v["at"], "2024-01-18T10:32:30Z");

    // Outside the window: 404 with the query echoed.
    let r = get(addr, &format!("/attribution?{V4}&at={}", T0 + 151));
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({
            "found": false,
            "connector_ip": "10.10.0.5",
            "connector_port": 41000,
            "server_ip": "192.168.7.20",
            "server_port": 443,
            "at": "2024-01-18T10:32:31Z",
        })
    );
    let r = get(addr, &format!("/attribution?{V4}&at={}", T0 - 1));
    assert_eq!(r.status, 404, "{}", r.body);

    // IPv6, colons %-encoded, the open connection found.
    let r = get(
        addr,
        &format!(
            "/attribution?connector_ip=fd00%3A10%3A%3A5&connector_port=42000\
             &server_ip=fd00%3a20%3a%3a9&server_port=22&at={}",
            T0 + 3600
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({
            "found": true,
            "connector_ip": "fd00:10::5",
            "connector_port": 42000,
            "server_ip": "fd00:20::9",
            "server_port": 22,
            "at": "2024-01-18T11:30:00Z",
            "user": "bob@example.com",
            "start": "2024-01-18T10:30:00Z",
        })
    );

    // Without at, "now": long after these connections.
    let r = get(addr, &format!("/attribution?{V4}"));
    assert_eq!(r.status, 404, "{}", r.body);
    let at: Timestamp = r.json()["at"].as_str().unwrap().parse().unwrap();
    assert!((Timestamp::now() - at).get_seconds().abs() < 60);

    admin.stop();
}

#[test]
fn attribution_bad_and_missing_parameters() {
    let (admin, _state) = start();
    let addr = admin.addr;

    let cases = [
        (V4.replace("41000", "4x"), "bad parameter connector_port"),
        (
            V4.replace("10.10.0.5", "10.10.0"),
            "bad parameter connector_ip",
        ),
        (V4.replace("=443", "=65536"), "bad parameter server_port"),
        (format!("{V4}&at=yesterday"), "bad parameter at"),
        (
            V4.replace("&server_ip=192.168.7.20", ""),
            "missing parameter server_ip",
        ),
        (String::new(), "missing parameter connector_ip"),
    ];
    for (query, want) in cases {
        let r = get(addr, &format!("/attribution?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        let v = r.json();
        let error = v["error"].as_str().unwrap();
        assert!(error.starts_with(want), "{query}: {error}");
        assert_eq!(v.as_object().unwrap().len(), 1, "{}", r.body);
    }
    admin.stop();
}

#[test]
fn healthz_routes_and_methods() {
    let (admin, state) = start();
    let addr = admin.addr;

    let r = get(addr, "/healthz");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    assert!(r
        .headers
        .to_ascii_lowercase()
        .contains("content-type: text/plain"));
    state.draining.store(true, Ordering::SeqCst);
    let r = get(addr, "/healthz");
    assert_eq!((r.status, r.body.as_str()), (503, "draining\n"));
    assert!(r
        .headers
        .to_ascii_lowercase()
        .contains("content-type: text/plain"));

    let r = get(addr, "/nope");
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"error": "not found"}));
    // A path is matched whole: a query does not change it, a suffix does.
    assert_eq!(get(addr, "/healthz/extra").status, 404);

    for (method, path) in [
        ("POST", "/healthz"),
        ("POST", "/attribution"),
        ("DELETE", "/healthz"),
    ] {
        let r = request(addr, method, path);
        assert_eq!(r.status, 405, "{method} {path}");
        assert!(
            r.headers.to_ascii_lowercase().contains("allow: get, head"),
            "{}",
            r.headers
        );
        assert!(r.json()["error"].is_string());
    }
    let r = request(addr, "POST", "/elsewhere");
    assert_eq!(r.status, 404);

    // HEAD is GET without the body, as load balancers' health checks send it.
    state.draining.store(false, Ordering::SeqCst);
    let r = request(addr, "HEAD", "/healthz");
    assert_eq!((r.status, r.body.as_str()), (200, ""), "{}", r.headers);
    assert!(
        r.headers.to_ascii_lowercase().contains("content-length: 3"),
        "{}",
        r.headers
    );
    let r = request(addr, "HEAD", "/metrics");
    assert_eq!((r.status, r.body.as_str()), (200, ""), "{}", r.headers);
    assert_eq!(request(addr, "HEAD", "/nope").status, 404);

    admin.stop();
}

#[test]
fn stop_is_prompt_and_frees_the_port() {
    let (admin, _state) = start();
    let addr = admin.addr;
    assert_eq!(get(addr, "/healthz").status, 200);
    // Clients that hold connections open do not hold up stop: one idle, one kept alive.
    let _idle = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    let mut kept = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    kept.set_read_timeout(Some(TIMEOUT)).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 12];
    kept.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    // It stops (within a bound, so that a hang fails instead of blocking the suite).
    let (done, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        admin.stop();
        let _ = done.send(());
    });
    assert!(
        stopped.recv_timeout(Duration::from_secs(10)).is_ok(),
        "stop waited for the idle and kept-alive clients"
    );
    // Nothing answers any more.
    let refused = TcpStream::connect_timeout(&addr, TIMEOUT)
        .and_then(|mut s| {
            s.set_read_timeout(Some(TIMEOUT))?;
            s.write_all(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf)?;
            Ok(buf)
        })
        .map_or(true, |buf| buf.is_empty());
    assert!(refused);
}

#[test]
fn start_on_a_taken_port_fails() {
    let (admin, _state) = start();
    let err = Admin::start(admin.addr, state()).err().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    admin.stop();
}
