//! How far a header is looked for past itself: never to the frame's end, which the stack's
//! tries after static text made quadratic (a helper's review: a 256 KiB frame of
//! `<1>1 a b c d e [ t: ` repeated took 3 s of a shard).

use super::*;

#[test]
fn structured_data_and_hosts_are_read_to_their_longest_only() {
    let five = "<134>1 2025-11-22T08:26:40Z h a - - ";
    let sd = |len: usize| format!("{five}[x@1 k=\"{}\"] {{\"a\":1}}", "v".repeat(len));
    let short = sd(100);
    let (h, rest) = header(&short);
    assert_eq!(h.timestamp(), Some("2025-11-22T08:26:40Z"));
    assert_eq!(rest, "{\"a\":1}");
    // Past 2 KiB it is no RFC 5424 header: the PRI alone is read.
    let long = sd(3000);
    let (h, rest) = header(&long);
    assert_eq!(h, Header::default());
    assert!(rest.starts_with("1 2025-11-22T08:26:40Z"), "{rest}");
    // An element that ends at the bound, another after it: not the first alone.
    let first = format!("[x@1 k=\"{}\"]", "v".repeat(2048 - 10));
    assert_eq!(first.len(), 2048);
    let two = format!("{five}{first}[y@1 k=\"w\"] {{}}");
    assert_eq!(header(&two).0, Header::default());
    // A field past RFC 5424's longest (HOSTNAME's 255) is no header's either.
    let field = format!(
        "<134>1 2025-11-22T08:26:40Z {} a - - - {{}}",
        "h".repeat(300)
    );
    assert_eq!(header(&field).0, Header::default());
    // An RFC 3164 "host" longer than a DNS name is none: the message starts there.
    let host = "h".repeat(300);
    let line = format!("<134>Nov 22 10:15:01 {host} nss: a=1");
    let (h, rest) = header(&line);
    assert_eq!((h.timestamp(), h.host()), (Some("Nov 22 10:15:01"), None));
    assert!(rest.starts_with(&host), "{rest}");
}

#[test]
fn static_text_is_stepped_over_a_few_times_at_most() {
    let unit = "<1>1 a b c d e [ t: ";
    let frame = unit.repeat(3450);
    let stack = split_stacked(frame.as_bytes());
    assert!(stack.body <= 10 * unit.len(), "{}", stack.body);
    // A relay's tag, and the sender's header and tag after it, are still read.
    let line = "<13>Nov 22 10:15:05 relay1 syslog: <134>Nov 22 10:15:01 zscaler-nss nss: a=1";
    let (h, _, message) = stacked(line);
    assert_eq!(h.host(), Some("zscaler-nss"));
    assert_eq!(message, " a=1");
}
