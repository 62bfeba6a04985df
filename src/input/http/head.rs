//! The rules a Cloud NSS request's head must pass after its address, in the order that tells
//! an unauthenticated peer the least: method, key, then framing, encoding and expectation.

use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use hyper::{Method, Request, StatusCode};

use super::answer::{too_large, Refusal};
use super::auth::{Auth, KeyCheck};
use super::gzip::is_gzip;

/// The first refusal the head earns past its address; `None`: read the body.
pub(super) fn refusal(
    request: &Request<Incoming>,
    auth: &Auth,
    max_body: usize,
) -> Option<Refusal> {
    if request.method() != Method::POST {
        return Some(Refusal::closing(
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is accepted",
        ));
    }
    let headers = request.headers();
    let presented = headers.get(auth.header.as_str()).map(HeaderValue::as_bytes);
    match auth.check(presented) {
        KeyCheck::Good => {}
        KeyCheck::Missing => {
            return Some(Refusal::closing(
                StatusCode::UNAUTHORIZED,
                format!("missing {} header", auth.header),
            ))
        }
        KeyCheck::Wrong => {
            return Some(Refusal::closing(
                StatusCode::FORBIDDEN,
                format!("wrong {}", auth.header),
            ))
        }
        KeyCheck::NoKeys => {
            return Some(Refusal::closing(
                StatusCode::FORBIDDEN,
                "no key is configured (input.http.keys): every request is refused",
            ))
        }
    }
    let declared = declared_length(request);
    if declared.is_none() && !headers.contains_key(TRANSFER_ENCODING) {
        return Some(Refusal::closing(
            StatusCode::LENGTH_REQUIRED,
            "Content-Length required (or Transfer-Encoding: chunked)",
        ));
    }
    if declared.is_some_and(|n| n > max_body as u64) {
        return Some(too_large(max_body));
    }
    if let Some(coding) = headers.get(CONTENT_ENCODING) {
        let known = coding.as_bytes().trim_ascii();
        if !(known.is_empty() || known.eq_ignore_ascii_case(b"identity") || is_gzip(known)) {
            let coding = String::from_utf8_lossy(coding.as_bytes());
            return Some(Refusal::closing(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Encoding {coding:?} is not supported: send gzip or plain JSON"),
            ));
        }
    }
    if let Some(expect) = headers.get(EXPECT) {
        if !expect
            .as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"100-continue")
        {
            let expect = String::from_utf8_lossy(expect.as_bytes());
            return Some(Refusal::closing(
                StatusCode::EXPECTATION_FAILED,
                format!("Expect {expect:?} is not supported"),
            ));
        }
    }
    None
}

/// The body's length as the head declares it. hyper has already refused contradictory or
/// malformed framing (400).
pub(super) fn declared_length(request: &Request<Incoming>) -> Option<u64> {
    request.headers().get(CONTENT_LENGTH).and_then(|v| {
        v.to_str()
            .ok()?
            .split(',')
            .next()?
            .trim()
            .parse::<u64>()
            .ok()
    })
}
