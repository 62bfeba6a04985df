//! The CEF reader's own rules, one at a time; `wire/tests/cef.rs` has whole frames.
use super::*;
use crate::format::arcsight::custom_slot;
use crate::kind::sourcetype;

fn pairs(text: &str) -> Vec<(String, String)> {
    let mut reader = Reader::default();
    let parsed = reader.parse(text.as_bytes()).expect("a CEF frame");
    parsed
        .pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn values_run_to_the_next_key_and_separator_escapes_are_undone() {
    let got = pairs(
        r"CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3| act=Allowed ua=Mozilla/5.0 (X11; Linux) request=a.com/?q=1&b=2 x=a\=b\\c\|d\ne\rf\tg y=  z= w=end  ",
    );
    let want = [
        ("act", "Allowed"),
        ("ua", "Mozilla/5.0 (X11; Linux)"),
        ("request", "a.com/?q=1&b=2"),
        ("x", "a=b\\\\c|d\\ne\\rf\\tg"),
        ("y", ""),
        ("z", ""),
        ("w", "end"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn header_pipes_can_be_escaped() {
    let mut reader = Reader::default();
    let parsed = reader
        .parse(br"CEF:0|Zs\|caler|NSS\\FWlog|5.7|Drop|Rule \| one|3|act=Drop")
        .unwrap();
    assert_eq!(parsed.header(1), "Zs|caler");
    assert_eq!(parsed.header(2), r"NSS\FWlog");
    assert_eq!(parsed.header(5), "Rule | one");
    assert_eq!(parsed.pairs().collect::<Vec<_>>(), [("act", "Drop")]);
}

#[test]
fn seven_header_fields_or_malformed() {
    let mut reader = Reader::default();
    for text in [
        "CEF:0|a|b|c|d|e|f",
        "CEF:0|a|b|c|d|e\\|f|act=x",
        "CEF:",
        "LEEF:1.0|a|b|c|d|",
    ] {
        assert_eq!(
            reader.parse(text.as_bytes()).err(),
            Some(Reason::MalformedCef),
            "{text}"
        );
    }
    assert!(reader.parse(b"CEF:0|a|b|c|d|e|f|").is_ok());
}

#[test]
fn custom_fields_are_found_by_their_label_keys() {
    assert_eq!(custom_slot("cs1"), Some((0, false)));
    assert_eq!(custom_slot("cs6label"), Some((5, true)));
    assert_eq!(custom_slot("cn1Label"), Some((6, true)));
    assert_eq!(custom_slot("flexString2Label"), Some((18, true)));
    assert_eq!(custom_slot("deviceCustomDate2"), Some((23, false)));
    for key in ["cs7", "cs0", "cs10", "cs1LABEL", "cat", "dst", "c", "cs"] {
        assert_eq!(custom_slot(key), None, "{key}");
    }
}

#[test]
fn products_name_their_log_types() {
    assert_eq!(sourcetype("NSSWeblog"), Some("zscalernss-web"));
    assert_eq!(sourcetype("NSSFWLog"), Some("zscalernss-fw"));
    assert_eq!(sourcetype("NSSDNSlog"), Some("zscalernss-dns"));
    assert_eq!(sourcetype("NSS"), None);
    assert_eq!(sourcetype("Weblog"), None);
}
