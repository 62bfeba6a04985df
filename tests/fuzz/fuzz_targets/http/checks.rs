//! What must hold after a connection: the bytes ztel wrote are a sequence of HTTP/1.x responses
//! with the statuses it sends, each 200 answers a whole authorised POST that ztel had read, and
//! the batches carry no more records and dead letters than the bodies could hold.

use ztel::batch::counters::Counter;
use ztel::batch::Batch;

use super::oracle::{Body, Request};
use super::stream::Wire;

/// Statuses ztel sends (hyper's 100, 400, 414 and 431 included).
const STATUSES: [u16; 13] = [
    100, 200, 400, 401, 403, 405, 411, 413, 414, 415, 417, 431, 503,
];

/// One response as written.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Where it starts in what ztel wrote.
    pub at: usize,
}

/// What the connection was set up with.
pub struct Setup {
    pub max_frame: usize,
    pub max_body: usize,
    pub aggregator_gone: bool,
}

/// Reads what ztel wrote as responses; panics on anything else. `requests` says which final
/// response answers a HEAD (its body is left out).
pub fn responses(out: &[u8], requests: &[Request]) -> Vec<Response> {
    let mut list = Vec::new();
    let mut finals = 0;
    let mut pos = 0;
    while pos < out.len() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&out[pos..]) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!(
                "ztel wrote something that is not an HTTP/1.x response ({other:?}) at {pos}: {:?}",
                String::from_utf8_lossy(&out[pos..])
            ),
        };
        let status = response.code.unwrap_or_default();
        assert!(
            STATUSES.contains(&status),
            "status {status} is not one ztel sends"
        );
        let value = |name: &str| {
            let mut values = response
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name));
            let first = values.next().map(|h| h.value);
            assert!(values.next().is_none(), "{name} twice in a response");
            first
        };
        let length = value("content-length");
        let close = value("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        assert!(
            value("transfer-encoding").is_none(),
            "ztel's answers have a length"
        );
        list.push(Response { status, at: pos });
        pos += head;
        if status < 200 {
            assert!(length.is_none(), "a 100 Continue with a length");
            continue;
        }
        let length: usize = length
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or_else(|| panic!("a {status} without a valid Content-Length"));
        // A HEAD request's answer has no body; an answer to a request no longer judged may be
        // one too, when it is the last thing written.
        let head_request = requests.get(finals).map(|r| r.method == b"HEAD");
        let omitted = match head_request {
            Some(true) => true,
            Some(false) => false,
            None => pos == out.len(),
        };
        if !omitted {
            assert!(
                out.len() - pos >= length,
                "a {status} whose body is cut: {length} bytes said, {} written",
                out.len() - pos
            );
            pos += length;
        }
        finals += 1;
        assert!(
            !close || pos == out.len(),
            "ztel wrote more after an answer with Connection: close"
        );
    }
    list
}

/// Each 200 answers a complete, authorised POST, written after ztel had read all of it; a 503
/// comes only with a drain or without an aggregator.
pub fn answers(responses: &[Response], requests: &[Request], wire: &Wire, setup: &Setup) {
    let finals = responses.iter().filter(|r| r.status >= 200);
    for (i, response) in finals.enumerate() {
        match response.status {
            200 => {
                assert!(!setup.aggregator_gone, "a 200 without an aggregator");
                let Some(request) = requests.get(i) else {
                    continue;
                };
                assert!(
                    request.method == b"POST" && request.key_ok,
                    "a 200 for request {i}, a {:?} with key_ok {}",
                    String::from_utf8_lossy(&request.method),
                    request.key_ok
                );
                match &request.body {
                    Body::Complete { end, .. } => {
                        let read = wire.read_when_written(response.at);
                        assert!(
                            read >= *end,
                            "a 200 for request {i} written after {read} bytes were read; it ends at {end}"
                        );
                    }
                    Body::Incomplete => panic!("a 200 for request {i}, which the stream cuts"),
                    Body::Unknown => {}
                }
            }
            503 => assert!(
                wire.drained || setup.aggregator_gone,
                "a 503 without a drain"
            ),
            _ => {}
        }
    }
}

/// Every batch is consistent in itself; only accepted requests carry frames, within what their
/// bodies could hold; the requests and bytes counted are those answered and read.
pub fn batches(
    batches: &[Batch],
    responses: &[Response],
    requests: &[Request],
    wire: &Wire,
    setup: &Setup,
) {
    let count = |c: Counter| batches.iter().map(|b| b.counters.get(c)).sum::<u64>();
    let ok: Vec<usize> = responses
        .iter()
        .filter(|r| r.status >= 200)
        .enumerate()
        .filter(|(_, r)| r.status == 200)
        .map(|(i, _)| i)
        .collect();
    let mut accepted = 0;
    for batch in batches {
        let lines = batch.records.iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(
            lines,
            batch.counters.records(),
            "record lines vs records counted"
        );
        // A batch keeps at most 256 dead letters (or 1 MiB of them); the rest are counted as
        // unkept, and every one as a dead letter.
        let dead = batch.counters.get(Counter::DeadLetters);
        let unkept = batch.counters.get(Counter::DeadLettersUnkept);
        assert_eq!(
            batch.dead.len() as u64 + unkept,
            dead,
            "dead letters kept + unkept vs counted"
        );
        assert!(
            batch.dead.len() <= 256,
            "{} dead letters kept",
            batch.dead.len()
        );
        // A contested frame is both (a record without the field, and a dead letter).
        let frames = batch.counters.get(Counter::Frames);
        let both = batch.counters.get(Counter::ContestedFrames);
        assert_eq!(
            frames,
            lines + dead - both,
            "frames vs records + dead letters"
        );
        for dead in &batch.dead {
            assert!(
                !dead.raw.is_empty() && dead.raw.len() <= setup.max_frame,
                "a dead letter of {} bytes (max_frame {})",
                dead.raw.len(),
                setup.max_frame
            );
        }
        let refused = batch.counters.get(Counter::HttpBadRequests)
            + batch.counters.get(Counter::HttpRejectedAuth);
        let taken = frames + batch.counters.get(Counter::OversizeFrames);
        // Only a body that was read and had a shape is processed, which stamps `read_at`.
        if batch.read_at.is_none() || refused > 0 {
            assert_eq!(taken, 0, "frames in a batch of no accepted request");
            continue;
        }
        let i = accepted;
        accepted += 1;
        // The i-th accepted batch is the i-th 200, the answer to request ok[i].
        let Some(request) = ok.get(i).and_then(|&r| requests.get(r)) else {
            continue;
        };
        let limit = match &request.body {
            Body::Complete { data, .. } if !request.encoded => {
                for dead in &batch.dead {
                    assert!(
                        find(data, &dead.raw),
                        "a dead letter that is not in the body: {:?}",
                        String::from_utf8_lossy(&dead.raw)
                    );
                }
                data.len()
            }
            _ => setup.max_body,
        };
        assert!(
            taken <= (limit as u64).div_ceil(2),
            "{taken} frames from a body of at most {limit} bytes"
        );
    }
    let answered = responses.iter().filter(|r| r.status == 200).count();
    assert_eq!(accepted, answered, "accepted batches vs 200 answers");
    // hyper answers what it cannot parse (400, 414, 431) and ztel counts it when the connection
    // ends; an HTTP/2 preface, or a head hyper cannot answer mid-write, ends it unanswered and is
    // counted all the same, and so is a request whose body breaks off (a bad chunk size, the
    // peer gone): each ends the connection, so at most one request more than answered.
    let finals = responses.iter().filter(|r| r.status >= 200).count() as u64;
    let at_end = batches
        .iter()
        .filter(|b| b.counters.get(Counter::ConnectionsClosed) > 0)
        .map(|b| b.counters.get(Counter::HttpRequests))
        .sum::<u64>();
    let counted = count(Counter::HttpRequests);
    assert!(
        at_end <= 1 && finals <= counted && counted <= finals + 1,
        "{counted} requests counted ({at_end} at the end) for {finals} answered"
    );
    if let Some(read) = wire.read_before_close {
        assert_eq!(
            count(Counter::BytesRead),
            read as u64,
            "bytes counted vs read"
        );
    }
    assert_eq!(count(Counter::ConnectionsClosed), 1);
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
