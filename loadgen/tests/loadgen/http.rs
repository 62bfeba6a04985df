//! `--proto http`, Cloud NSS's transport: JSON arrays (or lines) of records POSTed on keep-alive
//! connections to a fake receiver, batched by count and bytes, paced, gzipped, and what loadgen
//! does when the receiver refuses.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wire::event::Kind;

use crate::support::{assert_records, lines, loadgen, Run};

/// A request as the fake HTTP collector read it.
#[derive(Debug)]
struct Posted {
    /// Which accepted connection it came on (0, 1, …).
    connection: usize,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Posted {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fake Cloud NSS receiver: reads requests (framed by Content-Length) on every connection it
/// accepts, records each, then writes `answer(n)` for the n-th request overall. An answer with
/// `Connection: close` ends its connection. Requests are recorded before they are answered, so
/// once loadgen has exited every request it sent is in the list.
fn http_receiver(answer: fn(usize) -> &'static str) -> (String, Arc<Mutex<Vec<Posted>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let posted = Arc::new(Mutex::new(Vec::new()));
    let list = Arc::clone(&posted);
    thread::spawn(move || {
        for (connection, sock) in listener.incoming().enumerate() {
            let Ok(mut sock) = sock else { return };
            let list = Arc::clone(&list);
            thread::spawn(move || {
                sock.set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut buf = Vec::new();
                loop {
                    let mut fields = [httparse::EMPTY_HEADER; 32];
                    let mut request = httparse::Request::new(&mut fields);
                    let head = match request.parse(&buf).expect("a valid request head") {
                        httparse::Status::Complete(len) => len,
                        httparse::Status::Partial => {
                            let mut chunk = [0u8; 64 << 10];
                            match sock.read(&mut chunk) {
                                Ok(0) | Err(_) => {
                                    assert!(buf.is_empty(), "closed mid-request");
                                    return;
                                }
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        }
                    };
                    let headers: Vec<(String, String)> = request
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8(h.value.to_vec()).unwrap(),
                            )
                        })
                        .collect();
                    let method = request.method.unwrap().to_string();
                    let path = request.path.unwrap().to_string();
                    let length: usize = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .expect("a Content-Length")
                        .1
                        .parse()
                        .unwrap();
                    while buf.len() < head + length {
                        let mut chunk = [0u8; 64 << 10];
                        let n = sock.read(&mut chunk).unwrap();
                        assert!(n > 0, "closed mid-body");
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = buf[head..head + length].to_vec();
                    buf.drain(..head + length);
                    let n = {
                        let mut list = list.lock().unwrap();
                        list.push(Posted {
                            connection,
                            method,
                            path,
                            headers,
                            body,
                        });
                        list.len() - 1
                    };
                    let text = answer(n);
                    if sock.write_all(text.as_bytes()).is_err() {
                        return;
                    }
                    if text.contains("Connection: close") {
                        return;
                    }
                }
            });
        }
    });
    (addr, posted)
}

const OK: &str = "HTTP/1.1 200 OK\r\nServer: fake\r\nContent-Length: 0\r\n\r\n";

/// Runs loadgen over HTTP to `addr` with the key "k" and `flags`.
fn post(addr: &str, flags: &str) -> Run {
    loadgen(&format!(
        "--target {addr} --proto http --http-key k {flags}"
    ))
}

/// The records of a JSON-array body.
fn elements(body: &[u8]) -> Vec<Vec<u8>> {
    let array: Vec<serde_json::Value> = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", String::from_utf8_lossy(body)));
    array
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap())
        .collect()
}

#[test]
fn http_posts_json_arrays_on_keep_alive_connections() {
    // Every fifth answer closes its connection: loadgen reconnects and goes on.
    let (addr, posted) = http_receiver(|n| {
        if n % 5 == 4 {
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n"
        } else {
            OK
        }
    });
    let run = loadgen(&format!(
        "--target {addr} --proto http --http-key s3cret --http-path /nss/web \
         --http-header X-Feed-Key --batch 64 --connections 2 --count 1000 --quiet"
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(run.result("events"), "1000");
    assert_eq!(run.result("failed_connections"), "0");
    assert!(run.stdout.starts_with("loadgen: http to"), "{}", run.stdout);
    let posted = posted.lock().unwrap();
    // 500 events per connection in requests of 64 at most: 8 each.
    assert_eq!(posted.len(), 16);
    let connections: std::collections::BTreeSet<usize> =
        posted.iter().map(|p| p.connection).collect();
    assert!(
        connections.len() > 2,
        "reconnected after a close: {connections:?}"
    );
    let mut records = Vec::new();
    for p in posted.iter() {
        assert_eq!((p.method.as_str(), p.path.as_str()), ("POST", "/nss/web"));
        assert_eq!(p.header("x-feed-key"), Some("s3cret"));
        assert_eq!(p.header("content-type"), Some("application/json"));
        assert_eq!(p.header("host"), Some(addr.as_str()));
        assert_eq!(p.header("x-ztel-key"), None);
        assert!(p.body.starts_with(b"[{") && p.body.ends_with(b"}]"));
        let batch = elements(&p.body);
        assert!((1..=64).contains(&batch.len()), "{}", batch.len());
        records.extend(batch);
    }
    assert_eq!(records.len(), 1000);
    assert_records(&records, Kind::ZiaWeb);
    // Bytes are the bodies' bytes.
    let bytes: usize = posted.iter().map(|p| p.body.len()).sum();
    assert_eq!(run.result("bytes"), bytes.to_string());
}

#[test]
fn http_requests_stay_within_batch_bytes() {
    // Issue 15: Cloud NSS posts at most 512 KB per request; loadgen batched by count only.
    let (addr, posted) = http_receiver(|_| OK);
    let run = post(
        &addr,
        "--batch 1000 --batch-bytes 20000 --count 300 --quiet",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let posted = posted.lock().unwrap();
    let mut records = 0;
    for p in posted.iter() {
        assert!(p.body.len() <= 20_000, "a body of {} bytes", p.body.len());
        records += elements(&p.body).len();
    }
    assert_eq!(records, 300);
    // --batch 1000 alone would have sent one request; by bytes, each but the last is filled
    // to within a record of the limit.
    assert!(posted.len() > 1, "{} requests", posted.len());
    for p in &posted[..posted.len() - 1] {
        assert!(
            p.body.len() > 15_000,
            "a body of only {} bytes",
            p.body.len()
        );
    }
}

#[test]
fn http_without_array_notation_posts_one_record_per_line() {
    // Issue 15: Cloud NSS feeds may turn "JSON Array Notation" off.
    let (addr, posted) = http_receiver(|_| OK);
    let run = post(&addr, "--http-array false --batch 40 --count 200 --quiet");
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.assert_stdout_has("lines of JSON of up to 40 events");
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 5);
    let mut records = Vec::new();
    for p in posted.iter() {
        assert!(
            p.body.starts_with(b"{") && p.body.ends_with(b"}\n"),
            "{:?}",
            p.body
        );
        records.extend(lines(&p.body));
    }
    assert_eq!(records.len(), 200);
    assert_records(&records, Kind::ZiaWeb);
}

#[test]
fn paced_http_sends_what_is_due_and_measures_lateness() {
    let (addr, posted) = http_receiver(|_| OK);
    let began = Instant::now();
    let run = post(&addr, "--source lss --rate 1000 --count 500 --quiet");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 500 events at 1000/s: the last is due 0.5 s after the start.
    assert!(began.elapsed() >= Duration::from_millis(450));
    assert_ne!(run.result("lateness_p99_us"), "n/a");
    let posted = posted.lock().unwrap();
    let sizes: Vec<usize> = posted.iter().map(|p| elements(&p.body).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 500);
    // A request carries what is due, not a full batch of 100: far more than 5 requests.
    assert!(sizes.len() > 50, "{} requests", sizes.len());
    let records: Vec<Vec<u8>> = posted.iter().flat_map(|p| elements(&p.body)).collect();
    assert_records(&records, Kind::ZpaUserActivity);
}

#[test]
fn an_http_refusal_is_status_1_and_names_the_status() {
    let (addr, posted) = http_receiver(|_| {
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n\
         Content-Length: 38\r\n\r\nthe collector is shutting down; retry\n"
    });
    let run = post(&addr, "--count 300 --quiet");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "loadgen: connection 1: the collector answered 503 Service Unavailable (it is \
         draining): the collector is shutting down; retry\n"
    );
    assert_eq!(run.result("failed_connections"), "1");
    assert_eq!(
        posted.lock().unwrap().len(),
        1,
        "no request after a refusal"
    );
}

/// Events of a refused request are not reported as sent: one 200 then a 403 is one batch sent.
#[test]
fn events_refused_with_403_are_not_counted_as_sent() {
    let (addr, posted) = http_receiver(|n| {
        if n == 0 {
            OK
        } else {
            "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 10\r\n\r\nwrong key\n"
        }
    });
    let run = post(&addr, "--count 300 --batch 100 --quiet");
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.assert_stderr_has("answered 403 Forbidden");
    assert_eq!(posted.lock().unwrap().len(), 2);
    assert_eq!(run.result("events"), "100", "only the batch answered 200");
}

#[test]
fn http_gzip_bodies_inflate_to_the_json_arrays() {
    let (addr, posted) = http_receiver(|_| OK);
    let run = post(&addr, "--gzip --source fw --batch 50 --count 600 --quiet");
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.assert_stdout_has("gzipped JSON arrays of up to 50 events");
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 12);
    let (mut on_wire, mut inflated) = (0, 0);
    let mut records = Vec::new();
    for p in posted.iter() {
        assert_eq!(p.header("content-encoding"), Some("gzip"));
        assert_eq!(p.header("content-type"), Some("application/json"));
        assert!(p.body.starts_with(&[0x1f, 0x8b]), "a gzip member");
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&p.body[..])
            .read_to_end(&mut json)
            .unwrap();
        on_wire += p.body.len();
        inflated += json.len();
        records.extend(elements(&json));
    }
    assert_eq!(records.len(), 600);
    assert_records(&records, Kind::ZiaFirewall);
    // Bytes sent are what crossed the wire; the report adds what they inflate to.
    assert_eq!(run.result("bytes"), on_wire.to_string());
    assert_eq!(run.result("bytes_before_gzip"), inflated.to_string());
    assert!(on_wire * 4 < inflated, "{on_wire} of {inflated}");
    run.assert_stdout_has(&format!("  bytes before gzip     {inflated}\n"));
}
