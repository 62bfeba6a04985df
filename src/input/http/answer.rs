//! What a Cloud NSS request is answered: 200 empty, else a [`Refusal`] with its reason in one
//! line of text, and whether the connection can go on.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::request::BODY_FRAMES;
use crate::batch::counters::Counter;

/// An answer other than 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// Why, in one line for the peer's log (the answer's body).
    pub message: String,
    /// The body was not read: the connection cannot go on.
    pub close: bool,
}

impl Refusal {
    pub(super) fn closing(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            close: true,
        }
    }

    pub(super) fn counter(&self) -> Option<Counter> {
        match self.status.as_u16() {
            401 | 403 => Some(Counter::HttpRejectedAuth),
            503 => None,
            _ => Some(Counter::HttpBadRequests),
        }
    }
}

/// The budget stayed short for the request's deadline: the sender retries.
pub(super) fn budget_short() -> Refusal {
    Refusal::closing(
        StatusCode::SERVICE_UNAVAILABLE,
        "the collector's buffers stayed full for the request's deadline; retry",
    )
}

/// The records were taken but not written within `WRITTEN_WITHIN`: the records output is
/// failing. The sender's retry is a repeat, answered once they are written.
pub(super) fn unwritten() -> Refusal {
    Refusal::closing(
        StatusCode::SERVICE_UNAVAILABLE,
        "the collector cannot write its records now (see its log); retry",
    )
}

pub(super) fn too_large(max_body: usize) -> Refusal {
    Refusal::closing(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body over {max_body} bytes (limits.max_frame_bytes x {BODY_FRAMES})"),
    )
}

/// An answer: empty for 200, else the reason as one line of text.
pub(super) fn respond(status: StatusCode, message: &str, close: bool) -> Response<Full<Bytes>> {
    let body = if message.is_empty() {
        Bytes::new()
    } else {
        Bytes::from(format!("{message}\n"))
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if !message.is_empty() {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
