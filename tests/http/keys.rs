//! The HTTP input's keys (DESIGN §3 "HTTP": 401/403 for key or address): a request without one
//! or with a wrong one is refused, closed, counted and logged once a second at most; without
//! keys every request is refused; SIGHUP replaces them.

use super::*;

#[test]
fn missing_and_wrong_keys_are_refused_closed_and_counted() {
    let (collector, addr) = start(
        "http-keys",
        "[input.http]\nplain = true\nkeys = [\"k1\", \"k2\"]\n",
    );
    let body = array(&[zia_line(1, "pc-intruder")]);

    let mut missing = Client::connect(addr);
    let answer = missing.post(None, &body);
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(answer.body.contains("X-Ztel-Key"), "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"));
    missing.assert_closed();

    let mut wrong = Client::connect(addr);
    assert_eq!(wrong.post(Some("k3"), &body).status, 403);
    wrong.assert_closed();
    // A prefix of a key is not the key.
    assert_eq!(Client::connect(addr).post(Some("k"), &body).status, 403);

    // The second key is as good as the first; the header name is case-insensitive.
    let good = array(&[zia_line(2, "pc-good")]);
    let answer = Client::connect(addr).send(
        &[
            format!(
                "POST / HTTP/1.1\r\nx-ztel-key: k2\r\nContent-Length: {}\r\n\r\n",
                good.len()
            )
            .into_bytes(),
            good,
        ]
        .concat(),
    );
    assert_eq!(answer.status, 200, "{answer:?}");

    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 1);
    assert_eq!(outcome.records[0]["device"], "pc-good");
    assert_eq!(outcome.counter("http_requests"), 4);
    assert_eq!(outcome.counter("http_rejected_auth"), 3);
    assert_eq!(outcome.counter("http_bad_requests"), 0);
    assert!(outcome.dead_letters.is_empty());
    outcome.assert_counters_match_files();
}

#[test]
fn requests_refused_for_their_key_are_logged_once_a_second_and_all_counted() {
    // A misconfigured feed on Zscaler's shared egress addresses retries its wrong key without
    // end: one line per request buried the log (800 lines for 800 requests).
    let (collector, addr) = start_with(
        "http-keys-flood",
        "[input.http]\nplain = true\nkeys = [\"k1\"]\n",
        true,
    );
    let body = array(&[zia_line(1, "pc-flood")]);
    const REQUESTS: u64 = 40;
    for _ in 0..REQUESTS {
        assert_eq!(Client::connect(addr).post(Some("bad"), &body).status, 403);
    }
    let outcome = collector.stop();
    assert_eq!(outcome.counter("http_rejected_auth"), REQUESTS);
    let number_before = |line: &str, words: &str| -> u64 {
        let at = line.find(words).expect("the words");
        let digits: String = line[..at]
            .chars()
            .rev()
            .skip(1)
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .chars()
            .rev()
            .collect::<String>()
            .parse()
            .expect("a count")
    };
    let (mut lines, mut said) = (0, 0);
    for line in &outcome.stderr {
        if line.contains("input.http: 403") {
            lines += 1;
            said += 1;
            if line.contains(" more since the last line") {
                said += number_before(line, "more since the last line");
            }
        } else if line.contains("more requests for their key") {
            lines += 1;
            said += number_before(line, "more requests for their key");
        }
    }
    assert!(lines <= 6, "{lines} lines: {:?}", outcome.stderr);
    assert_eq!(said, REQUESTS, "{:?}", outcome.stderr);
}

#[test]
fn without_keys_every_request_is_refused() {
    let (collector, addr) = start_with("http-nokeys", "[input.http]\nplain = true\n", true);
    let answer = Client::connect(addr).post(Some(""), &array(&[zia_line(1, "pc")]));
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("input.http.keys"), "{answer:?}");
    let outcome = collector.stop();
    assert!(outcome.records.is_empty());
    assert_eq!(outcome.counter("http_rejected_auth"), 1);
    assert!(outcome
        .stderr
        .iter()
        .any(|l| l.contains("input.http.keys is empty")));
}

#[test]
fn sighup_reloads_the_keys() {
    let (mut collector, addr) = start_with("http-reload", KEYS, true);
    let body = array(&[zia_line(1, "pc-reload")]);
    assert_eq!(Client::connect(addr).post(Some("k1"), &body).status, 200);
    collector.rewrite_config("[input.http]\nplain = true\nkeys = [\"k9\"]\n");
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists");
    let body = array(&[zia_line(2, "pc-reload")]);
    assert_eq!(Client::connect(addr).post(Some("k1"), &body).status, 403);
    assert_eq!(Client::connect(addr).post(Some("k9"), &body).status, 200);
    // A key a reload does not apply is named, not silently left as it was.
    collector.rewrite_config(
        "feed_timezone = \"Europe/Paris\"\n[input.http]\nplain = true\nkeys = [\"k9\"]\n",
    );
    collector.signal(libc::SIGHUP);
    let said =
        collector.wait_for_stderr("ztel: reloaded certificates, keys and allow-lists; changed");
    assert!(
        said.ends_with("applied only at the next start: feed_timezone"),
        "{said}"
    );
    // A reload that empties the keys refuses every request from then on: said as at a start.
    collector.rewrite_config("[input.http]\nplain = true\nkeys = []\n");
    collector.signal(libc::SIGHUP);
    collector.wait_for_stderr("input.http.keys is empty");
    assert_eq!(Client::connect(addr).post(Some("k9"), &body).status, 403);
    let outcome = collector.stop();
    assert_eq!(outcome.records.len(), 2);
}
