use super::*;

#[test]
fn absent_words() {
    for s in [
        "", " ", "\t\r\n", "None", "NA", "N/A", " N/A ", "none", "na", "n/a", "\tNone\n",
    ] {
        assert!(is_absent(s), "{s:?} should be absent");
        assert_eq!(present(s), None, "{s:?}");
    }
    for s in ["NONE", "Na", "n/A", "0", "-", "x", "None1", "N / A", "NAN"] {
        assert!(!is_absent(s), "{s:?} should be present");
    }
}

#[test]
fn present_trims() {
    assert_eq!(present("  alice@example.com \t"), Some("alice@example.com"));
    assert_eq!(present("0"), Some("0"));
    assert_eq!(present("x y"), Some("x y"));
}

#[test]
fn percent_plain_is_borrowed() {
    assert!(matches!(
        percent_decode("abc/def+g"),
        Cow::Borrowed("abc/def+g")
    ));
    assert!(matches!(percent_decode(""), Cow::Borrowed("")));
}

#[test]
fn percent_without_valid_escape_is_borrowed() {
    for s in ["100%", "%", "%G1", "a%2", "%%", "50% off %zz"] {
        match percent_decode(s) {
            Cow::Borrowed(out) => assert_eq!(out, s),
            Cow::Owned(out) => panic!("{s:?} allocated {out:?}"),
        }
    }
}

#[test]
fn percent_escapes_nss_writes_are_decoded() {
    assert_eq!(percent_decode("a%20b"), "a b");
    assert_eq!(percent_decode("line%0Abreak%09tab"), "line\nbreak\ttab");
    assert_eq!(percent_decode("KHTML%2c%20like"), "KHTML, like");
    assert_eq!(percent_decode("say%22hi%22%5C"), "say\"hi\"\\");
    assert_eq!(percent_decode("caf%C3%A9"), "café");
    assert_eq!(percent_decode("%c3%a9"), "é");
    assert_eq!(percent_decode("a+b%20c"), "a+b c");
    assert_eq!(percent_decode("%7F"), "\u{7f}");
}

#[test]
fn percent_escapes_already_in_the_url_are_kept() {
    // NSS never encodes these, so they were in the URL as requested.
    for s in ["a%2Fb", "q=a%26b", "100%25", "%41", "x%3Dy%3F"] {
        assert!(
            matches!(percent_decode(s), Cow::Borrowed(o) if o == s),
            "{s}"
        );
    }
    assert_eq!(percent_decode("%25%20"), "%25 ");
}

#[test]
fn names_have_every_escape_decoded() {
    let all = |s| percent_decode_with(s, Escapes::All);
    assert_eq!(all("jdoe%40example.com"), "jdoe@example.com");
    assert_eq!(all("R%26D%20Lab"), "R&D Lab");
    assert_eq!(all("R%3D1"), "R=1");
    assert_eq!(all("%7B%22a%22%3A%22x%20y%22%7D"), r#"{"a":"x y"}"#);
    assert_eq!(all("100%25"), "100%");
    // What is no escape stays, and so does what would not be UTF-8, as in URLs.
    assert_eq!(all("50% off %zz"), "50% off %zz");
    assert_eq!(all("%FF%40"), "%FF%40");
}

#[test]
fn percent_bad_escapes_kept() {
    assert_eq!(percent_decode("%G1%20"), "%G1 ");
    assert_eq!(percent_decode("%20%"), " %");
    assert_eq!(percent_decode("%20%4"), " %4");
    assert_eq!(percent_decode("%%20"), "% ");
    assert_eq!(percent_decode("x%20y%zz"), "x y%zz");
}

#[test]
fn percent_invalid_utf8_returns_input() {
    for s in ["%FF", "a%20b%FF", "%C3", "%C3%28", "%e9t%e9"] {
        match percent_decode(s) {
            Cow::Borrowed(out) => assert_eq!(out, s),
            Cow::Owned(out) => panic!("{s:?} decoded to {out:?}"),
        }
    }
}

#[test]
fn percent_non_ascii_input_passes_through() {
    assert_eq!(percent_decode("é%20ü"), "é ü");
}

#[test]
fn base64_standard_and_url_safe() {
    // "??>" encodes to "Pz8+" (standard) / "Pz8-" (URL-safe).
    assert_eq!(base64_decode("Pz8+").as_deref(), Some("??>"));
    assert_eq!(base64_decode("Pz8-").as_deref(), Some("??>"));
    // "???" encodes to "Pz8/" / "Pz8_".
    assert_eq!(base64_decode("Pz8/").as_deref(), Some("???"));
    assert_eq!(base64_decode("Pz8_").as_deref(), Some("???"));
    assert_eq!(
        base64_decode("aHR0cHM6Ly9leGFtcGxlLmNvbS8/cT0x").as_deref(),
        Some("https://example.com/?q=1")
    );
}

#[test]
fn base64_padding_optional() {
    assert_eq!(base64_decode("aGk=").as_deref(), Some("hi"));
    assert_eq!(base64_decode("aGk").as_deref(), Some("hi"));
    assert_eq!(base64_decode("YQ==").as_deref(), Some("a"));
    assert_eq!(base64_decode("YQ").as_deref(), Some("a"));
    assert_eq!(base64_decode("Y2Fmw6k=").as_deref(), Some("café"));
    assert_eq!(base64_decode("Y2Fmw6k").as_deref(), Some("café"));
    assert_eq!(base64_decode("  aGk=\n").as_deref(), Some("hi"));
}

#[test]
fn base64_rejects() {
    assert_eq!(base64_decode("a"), None, "impossible length");
    assert_eq!(base64_decode("aGk=="), None, "too much padding");
    assert_eq!(base64_decode("aG k="), None, "inner whitespace");
    assert_eq!(base64_decode("a+b_"), None, "mixed alphabets");
    assert_eq!(base64_decode("!!!!"), None);
    assert_eq!(base64_decode("/w=="), None, "0xFF is not UTF-8");
    for s in ["", "  ", "None", "NA", "N/A"] {
        assert_eq!(base64_decode(s), None, "{s:?}");
    }
}

#[test]
fn u64_values() {
    assert_eq!(parse_u64("0"), Some(0));
    assert_eq!(parse_u64("600"), Some(600));
    assert_eq!(parse_u64(" 42\t"), Some(42));
    assert_eq!(parse_u64("+7"), Some(7));
    assert_eq!(parse_u64("007"), Some(7));
    assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_u64("1700000022"), Some(1_700_000_022));
    assert_eq!(
        parse_u64("9876543210987654321"),
        Some(9_876_543_210_987_654_321)
    );
    assert_eq!(parse_u64("00000000"), Some(0));
    assert_eq!(parse_u64("99999999"), Some(99_999_999));
}

#[test]
fn u64_rejects_a_non_digit_anywhere_in_eight() {
    // The neighbours of the digits in ASCII, at every place of a chunk of eight.
    for bad in [b'/', b':', b' ', b'\0', b'\x7f', 0xb0] {
        for at in 1..16 {
            let mut s = b"1234567890123456".to_vec();
            s[at] = bad;
            let s = String::from_utf8_lossy(&s).into_owned();
            assert_eq!(parse_u64(&s), s.trim_ascii().parse::<u64>().ok(), "{s:?}");
        }
    }
}

#[test]
fn u64_short_texts_with_a_non_digit_anywhere() {
    // The texts of up to eight bytes, read without the full reading when they are all digits.
    for bad in [b'/', b':', b' ', b'+', b'\0', b'\x7f', 0xb0] {
        for len in 1..=8 {
            for at in 0..len {
                let mut s = b"98765432"[..len].to_vec();
                s[at] = bad;
                let s = String::from_utf8_lossy(&s).into_owned();
                assert_eq!(parse_u64(&s), s.trim_ascii().parse::<u64>().ok(), "{s:?}");
            }
        }
    }
    assert_eq!(parse_u64("9999999"), Some(9_999_999));
}

#[test]
fn u64_rejects() {
    for s in [
        "",
        " ",
        "None",
        "NA",
        "N/A",
        "-1",
        "-0",
        "+",
        "++1",
        "600.0",
        "1e3",
        "0x10",
        "1 2",
        "12a",
        "18446744073709551616",
        "١٢",
    ] {
        assert_eq!(parse_u64(s), None, "{s:?}");
    }
}

proptest::proptest! {
    #[test]
    fn u64_is_std_after_trimming(s in "[ \t]?[+-]{0,2}[0-9a :/]{0,22}[ \t]?") {
        proptest::prop_assert_eq!(parse_u64(&s), s.trim_ascii().parse::<u64>().ok());
    }
}

#[test]
fn the_first_percent_is_found_eight_bytes_at_a_time_as_byte_by_byte() {
    // Bytes a word's arithmetic could confuse with `%` (0x25): its neighbours, its high-bit
    // twin, zero, and a byte whose borrow could flag the next.
    let others = [0x00, 0x01, 0x24, 0x26, 0xA5, 0x7F, 0x80, 0xFF, b'a'];
    for len in 0..40 {
        for &fill in &others {
            let mut b = vec![fill; len];
            assert_eq!(find_percent(&b), None, "{len} {fill:#x}");
            for first in 0..len {
                b[first] = b'%';
                assert_eq!(find_percent(&b), Some(first), "{len} {fill:#x} {first}");
                for later in first + 1..len {
                    b[later] = b'%';
                    assert_eq!(
                        find_percent(&b),
                        Some(first),
                        "{len} {fill:#x} {first} {later}"
                    );
                    b[later] = fill;
                }
                b[first] = fill;
            }
        }
    }
}

#[test]
fn whole_decimals_are_their_integer_and_other_fractions_none() {
    for (s, want) in [
        ("52352.0", Some(52352)),
        (" +7.00 ", Some(7)),
        ("0.0", Some(0)),
        ("18446744073709551615.0", Some(u64::MAX)),
        ("18446744073709551616.0", None),
        ("1.5", None),
        ("1.", None),
        (".0", None),
        ("-1.0", None),
        ("1e3", None),
        ("1.0e3", None),
        ("1.0.0", None),
        ("+.0", None),
    ] {
        assert_eq!(parse_whole_decimal(s), want, "{s:?}");
    }
}
