//! A warm decoder allocates nothing per record, in every format and dialect (DESIGN §3.2, "no
//! allocation per record"): readers reuse their scratch space, and percent-encoded values are
//! decoded straight into the record. Frames with escapes, which are read from a reader's copy of
//! the frame, are mixed in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use wire::decode::Decoder;
use wire::synth::{Cardinality, Dialect, DnsGenerator, FirewallGenerator, WebGenerator};

/// Counts the allocations of the thread that makes them (tests run on threads of their own).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; counting touches only a
// thread-local `Cell` with a const initialiser, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// 3,000 synthetic web lines of `dialect`, every tenth replaced by `escaped` when there is one,
/// decoded after all of them warmed the decoder: 2,500 of them again allocate nothing, and make
/// a record each.
fn warm_decoder_allocates_nothing(dialect: Dialect, escaped: Option<&str>) {
    let text = WebGenerator::new(5, dialect, Cardinality::default()).lines(3000);
    warm_decoder_allocates_nothing_on(&format!("{dialect:?}"), &text, escaped);
}

/// [`warm_decoder_allocates_nothing`] on 3,000 lines of `text`, named `what`.
fn warm_decoder_allocates_nothing_on(what: &str, text: &str, escaped: Option<&str>) {
    let lines: Vec<&str> = text
        .lines()
        .enumerate()
        .map(|(i, l)| match escaped {
            Some(e) if i % 10 == 0 => e,
            _ => l,
        })
        .collect();
    // The synthetic values are percent-encoded where NSS encodes them: that path is measured too.
    assert!(lines.iter().any(|l| l.contains("%20")), "{what}");
    let mut decoder = Decoder::new(TimeZone::UTC);
    let received = Timestamp::from_second(1_763_800_000).unwrap();
    let mut out = Vec::with_capacity(text.len() * 2);
    assert_eq!(lines.len(), 3000, "{what}");
    // Every line once: the decoder's buffers grow to the longest values it keeps (a firewall's
    // rarer action, `Allow due to insufficient app data`, lower-cased), once.
    for line in &lines {
        decoder.decode(line.as_bytes(), received, &mut out).unwrap();
    }
    out.clear();
    let before = ALLOCATIONS.with(Cell::get);
    for line in &lines[500..] {
        decoder.decode(line.as_bytes(), received, &mut out).unwrap();
    }
    let made = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(made, 0, "{what}: {made} allocations");
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2500);
}

#[test]
fn json_in_each_dialect() {
    let escaped = r#"{"sourcetype":"zscalernss-web","event":{"datetime":"2023-11-22 08:40:00","user":"a\"b\\c@example.com","url":"example.com/\u00e9","hostname":"laptop-1","cip":"10.0.0.1","sip":"203.0.113.9","action":"Allowed","reqmethod":"GET","respcode":"200"}}"#;
    for dialect in [Dialect::Ztel, Dialect::Elastic, Dialect::Sekoia] {
        warm_decoder_allocates_nothing(dialect, Some(escaped));
    }
}

#[test]
fn leef() {
    let escaped = r"LEEF:2.0|Zscaler|NSS|4.1|Allowed|^|cat=Allowed^src=10.0.0.1^url=a.example/?q\=1\|2^urlcategory=Web\^Search^useragent=Agent\2^devTime=Oct 02 2017 16:21:40 GMT";
    warm_decoder_allocates_nothing(Dialect::Leef, Some(escaped));
}

#[test]
fn cef() {
    let escaped = r"CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3|src=10.0.0.1 rt=Oct 02 2017 16:21:40 cat=Sports\=News requestClientApplication=Agent\2 \|3 spriv=Floor 1\r\nFloor 2 suser=C:\temp\user";
    warm_decoder_allocates_nothing(Dialect::Cef, Some(escaped));
}

#[test]
fn key_value() {
    // A quoted value with escaped quotes goes through the reader's scratch copy.
    let escaped = "2023-11-22 08:40:00\treason=Allowed\taction=Allowed\tClientIP=10.0.0.1\tserverip=203.0.113.9\turl=example.com/\tuser=\"a \\\"b\\\"\"\tdevicehostname=laptop-1";
    warm_decoder_allocates_nothing(Dialect::Kv, Some(escaped));
}

#[test]
fn csv() {
    warm_decoder_allocates_nothing(Dialect::Csv, None);
    // An admin audit whose actions' JSON splits the line at `","`: read again by its brackets.
    let audit = concat!(
        r#""Wed Dec  4 10:22:00 2024","7537","UPDATE","USER_MANAGEMENT","USERS","jdoe","UI","#,
        r#""admin@acme.com","10.36.112.101","SUCCESS","None","ZIA","#,
        r#""{"name":"x","groups":["a","b"]}","{"name":"y","groups":["a"]}""#,
    );
    warm_decoder_allocates_nothing(Dialect::Csv, Some(audit));
    // A ZPA line whose customer and username hold commas: read where one reading alone fits.
    let zpa = concat!(
        "Mon Dec 07 10:00:00 2026 User Activity zpa-lss: ,Acme, Inc.,s1,s1,c1,,open,6,0,",
        "Doe, John,443,34.216.108.5,10.1.2.3,45.000000,-119.000000,US,broker1b.pdx2,Any Allow,",
        "Connector 1,broker1b.pdx2,10.0.0.4,51146,app.example.net,Apps,App Group,0,10.2.0.9,443,",
        "63,13069,2026-12-07T09:59:00.000Z,,,,,,,,,,,,,,710,710,0,0,0,0,0,0,Okta,0,San Jose,0,0,",
        ",,,,,,,,,,,,",
    );
    warm_decoder_allocates_nothing(Dialect::Csv, Some(zpa));
}

#[test]
fn firewall_and_dns() {
    // Their logins (`elogin`: `user%40corp…`), locations and departments are percent-encoded
    // in every record, their actions and services upper case, and their users and hostnames are
    // decoded for the device registry.
    let (mut firewall, mut dns) = (String::new(), String::new());
    let mut fw = FirewallGenerator::new(5, Cardinality::default());
    let mut resolver = DnsGenerator::new(5, Cardinality::default());
    for _ in 0..3000 {
        fw.write(&mut firewall);
        resolver.write(&mut dns);
    }
    assert!(firewall.contains("%40") && dns.contains("%40"));
    warm_decoder_allocates_nothing_on("firewall", &firewall, None);
    warm_decoder_allocates_nothing_on("dns", &dns, None);
}
