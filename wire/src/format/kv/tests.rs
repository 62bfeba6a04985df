//! The kv reader's own rules, one at a time; `wire/tests/kv.rs` has whole frames.
use super::*;

fn read(text: &str) -> (String, Vec<(String, String)>) {
    let all = pairs(text);
    let prefix = all.prefix().to_string();
    let got = all
        .map(|p| (p.key.to_string(), p.unescaped().into_owned()))
        .collect();
    (prefix, got)
}

fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A frame, the text before its pairs, its pairs.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Found by fuzzing: with any separator but a tab, a NUL passed for the exempt tab.
#[test]
fn control_bytes_are_plain_only_as_tab_separators() {
    let all_plain = |text: &[u8], sep| all_plain(super::super::survey(text), sep);
    assert!(all_plain(b"a=1\tb=2", Separator::Tab));
    assert!(!all_plain(b"a=1\tb=2\x00", Separator::Tab));
    for sep in [Separator::Space, Separator::Carets] {
        assert!(all_plain(b"a=1 b=2", sep));
        assert!(!all_plain(b"a=1 b=x\x00y", sep), "{sep:?}");
        assert!(!all_plain(b"a=1 b=x\ty", sep), "{sep:?}");
    }
}

#[test]
fn separators_quotes_and_prefixes() {
    let cases: &[Case] = &[
        ("a=1\tb=x y\tc=", "", &[("a", "1"), ("b", "x y"), ("c", "")]),
        ("a=1 b=x y c=2", "", &[("a", "1"), ("b", "x y"), ("c", "2")]),
        ("p: a=1^^b=2 3^^c", "p: ", &[("a", "1"), ("b", "2 3")]),
        (
            r#"a="x \"y\" z=1" b=2"#,
            "",
            &[("a", r#"x "y" z=1"#), ("b", "2")],
        ),
        (r#"a="x"y b=2"#, "", &[("a", r#""x"y"#), ("b", "2")]),
        (r#"a="open b=2"#, "", &[("a", r#""open"#), ("b", "2")]),
        ("t 1\ta=1\tjunk\t b=2", "t 1\t", &[("a", "1"), ("b", "2")]),
        (r#"a="c:\\d\n""#, "", &[("a", r"c:\d\n")]),
        ("a=1  b=2", "", &[("a", "1"), ("b", "2")]),
        ("no pairs", "no pairs", &[]),
    ];
    for (text, prefix, want) in cases {
        assert_eq!(read(text), (prefix.to_string(), kv(want)), "{text:?}");
    }
}
