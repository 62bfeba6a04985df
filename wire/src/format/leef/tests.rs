//! The LEEF reader's own rules, one at a time; `wire/tests/leef.rs` has whole frames.
use super::*;

fn read(text: &str) -> (Delimiter, Vec<(String, String)>) {
    let mut reader = Reader::default();
    let parsed = reader.parse(text.as_bytes()).expect("a LEEF frame");
    let pairs = parsed
        .pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (parsed.delimiter, pairs)
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A frame, the delimiter it declares and its pairs.
type Case<'a> = (&'a str, Delimiter, &'a [(&'a str, &'a str)]);

/// Attributes without an `=` (found by review): each looked for the next `=` to the end of
/// the frame, 0.4 s for this one in a release build.
#[test]
fn attributes_without_equals_are_passed_over_once() {
    let mut text = String::from("LEEF:2.0|Zscaler|NSS|4.1|web|x5E|a=1^");
    text.push_str(&"^".repeat(260_000));
    text.push_str("b=2^junk^c=3^x^");
    let (_, pairs) = read(&text);
    // Text that is no pair is the value's before it; empty attributes are no text.
    assert_eq!(pairs, owned(&[("a", "1"), ("b", "2^junk"), ("c", "3^x")]));
}

/// An attribute without a pair is the value's before it, with the delimiter between them and
/// any empty attributes: an agent's tab, a file name's `^`.
#[test]
fn text_that_is_no_pair_stays_in_the_value_before_it() {
    let tab = Delimiter::TAB;
    let caret = Delimiter::of('^').unwrap();
    let cases: &[Case] = &[
        (
            "LEEF:1.0|V|P|1|E|junk\tua=Mozilla/5.0\tEvil Agent\t\t =x\tb=2\t \t",
            tab,
            &[("ua", "Mozilla/5.0\tEvil Agent\t\t =x"), ("b", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|^|file=Q3^final.pdf^^b=2^",
            caret,
            &[("file", "Q3^final.pdf"), ("b", "2")],
        ),
        // Text before an `=` that is no key (a key is runs of `[A-Za-z0-9_.-]`, a `:` between
        // two) is no pair either.
        (
            "LEEF:1.0|V|P|1|E|ua=Mozilla/5.0\t(compatible; rv=1)\t:x=1\tT:iso8601=2\t a b =3",
            tab,
            &[
                ("ua", "Mozilla/5.0\t(compatible; rv=1)\t:x=1"),
                ("T:iso8601", "2\t a b =3"),
            ],
        ),
    ];
    for (text, delimiter, want) in cases {
        assert_eq!(read(text), (*delimiter, owned(want)), "{text:?}");
    }
}

#[test]
fn delimiters_of_both_versions() {
    let tab = Delimiter::TAB;
    let caret = Delimiter::of('^').unwrap();
    let cases: &[Case] = &[
        (
            "LEEF:1.0|V|P|1|E|a=1\tb=x y",
            tab,
            &[("a", "1"), ("b", "x y")],
        ),
        (
            "LEEF:1.0|V|P|1|E|a=1 b=x y c=2",
            tab,
            &[("a", "1"), ("b", "x y"), ("c", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|^|a=1^b=2",
            caret,
            &[("a", "1"), ("b", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|0x5E|a=1^b=2",
            caret,
            &[("a", "1"), ("b", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|x5e|a=1^b=2",
            caret,
            &[("a", "1"), ("b", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|x09|a=1\tb=2",
            tab,
            &[("a", "1"), ("b", "2")],
        ),
        ("LEEF:2.0|V|P|1|E||a=1\tb=2", tab, &[("a", "1"), ("b", "2")]),
        (
            "LEEF:2.0|V|P|1|E|a=1\tb=x|y",
            tab,
            &[("a", "1"), ("b", "x|y")],
        ),
        (
            "LEEF:2.0|V|P|1|E|¦|a=1¦b=2",
            Delimiter::of('¦').unwrap(),
            &[("a", "1"), ("b", "2")],
        ),
        (
            "LEEF:2.0|V|P|1|E|0xA6|a=1¦b=2",
            Delimiter::of('¦').unwrap(),
            &[("a", "1"), ("b", "2")],
        ),
        // A 1.0 frame has no delimiter field: `^` is an attribute's text.
        ("LEEF:1.0|V|P|1|E|^|\ta=1", tab, &[("a", "1")]),
    ];
    for (text, delimiter, pairs) in cases {
        assert_eq!(read(text), (*delimiter, owned(pairs)), "{text}");
    }
}

#[test]
fn values_are_as_written() {
    // None: a value is as written.
    let (_, pairs) = read(r"LEEF:2.0|V|P|1|E|^|a=x\=y\\z\|w^b=C:\temp\new^c=k=v^d=C:\s\^e=1");
    assert_eq!(
        pairs,
        owned(&[
            ("a", r"x\=y\\z\|w"),
            ("b", r"C:\temp\new"),
            ("c", "k=v"),
            ("d", r"C:\s\"),
            ("e", "1"),
        ])
    );
}

#[test]
fn attributes_without_a_key_are_no_pairs() {
    let (_, pairs) = read("LEEF:1.0|V|P|1|E|junk\t=v\t k =v\ta=");
    assert_eq!(pairs, owned(&[("k", "v"), ("a", "")]));
}

#[test]
fn five_header_fields_or_malformed() {
    let mut reader = Reader::default();
    for text in [
        "LEEF:1.0|V|P|1|E",
        "LEEF:1.0|V|P|1\\|E|a=b",
        "LEEF:",
        "CEF:0|a|b|c|d|e|f|",
    ] {
        assert_eq!(
            reader.parse(text.as_bytes()).err(),
            Some(Reason::MalformedLeef),
            "{text}"
        );
    }
    assert!(reader.parse(b"LEEF:1.0|V|P|1|E|").is_ok());
}

#[test]
fn every_attribute_of_the_qradar_preset_is_known() {
    const PRESET: &[&str] = &[
        "cat",
        "devTime",
        "devTimeFormat",
        "src",
        "dst",
        "srcPostNAT",
        "realm",
        "usrName",
        "srcBytes",
        "dstBytes",
        "role",
        "policy",
        "url",
        "recordid",
        "bwthrottle",
        "useragent",
        "referer",
        "hostname",
        "appproto",
        "urlcategory",
        "urlsupercategory",
        "urlclass",
        "appclass",
        "appname",
        "malwaretype",
        "malwareclass",
        "threatname",
        "riskscore",
        "dlpdict",
        "dlpeng",
        "fileclass",
        "filetype",
        "reqmethod",
        "respcode",
    ];
    for key in PRESET {
        assert!(lookup_leef(key).is_some(), "{key}");
    }
}

#[test]
fn declared_delimiters() {
    assert_eq!(declared_delimiter(""), Some(Delimiter::TAB));
    assert_eq!(declared_delimiter("x"), Delimiter::of('x'));
    assert_eq!(declared_delimiter("0x7C"), Delimiter::of('|'));
    for field in ["=", "\\", "0x", "x12345", "0x5G", "ab", "0x5C", "x3D"] {
        assert_eq!(declared_delimiter(field), None, "{field}");
    }
}
