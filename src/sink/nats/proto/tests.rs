use super::*;
use proptest::prelude::*;

#[test]
fn server_operations_parse() {
    let buf = b"INFO {\"max_payload\":1048576}\r\nPING\r\npong\r\n+OK\r\n-ERR 'Authorization Violation'\r\n";
    let mut at = 0;
    let mut ops = Vec::new();
    while at < buf.len() {
        let (op, n) = parse(&buf[at..]).unwrap();
        ops.push(op);
        at += n;
    }
    assert_eq!(
        ops,
        [
            Op::Info(b"{\"max_payload\":1048576}"),
            Op::Ping,
            Op::Pong,
            Op::Ok,
            Op::Err(b"'Authorization Violation'"),
        ]
    );
}

#[test]
fn messages_parse_with_and_without_headers() {
    let m = b"MSG _INBOX.ab.17 1 26\r\n{\"stream\":\"ZTEL\",\"seq\":12}\r\n";
    let (op, n) = parse(m).unwrap();
    assert_eq!(n, m.len());
    let Op::Msg {
        subject,
        headers,
        payload,
    } = op
    else {
        panic!("{op:?}");
    };
    assert_eq!(token(subject, b"_INBOX.ab"), Some(17));
    assert_eq!(headers, None);
    assert_eq!(ack(headers, payload), Ack::Stored);
    let h = b"HMSG _INBOX.ab.3 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n";
    let (op, n) = parse(h).unwrap();
    assert_eq!(n, h.len());
    let Op::Msg {
        headers, payload, ..
    } = op
    else {
        panic!("{op:?}");
    };
    assert_eq!(ack(headers, payload), Ack::Failed, "no responders");
    // With a reply subject of its own, and cut anywhere: incomplete, never wrong.
    let r = b"MSG a.1 9 r.x 2\r\nhi\r\n";
    assert!(matches!(parse(r), Ok((Op::Msg { payload: b"hi", .. }, 21))));
    for cut in 0..r.len() {
        assert_eq!(parse(&r[..cut]), Err(ParseError::Incomplete), "{cut}");
    }
}

#[test]
fn acknowledgements_read_without_json() {
    let cases: [(&[u8], Ack); 12] = [
        (br#"{"stream":"S","seq":5}"#, Ack::Stored),
        (br#"{"stream":"ZTEL", "seq":123456}"#, Ack::Stored),
        (br#"{"stream":"S"}"#, Ack::Failed),
        (br#"{"stream":"S","seq":5,"duplicate":true}"#, Ack::Duplicate),
        // As nats-server 2.9 writes it.
        (br#"{"stream":"S", "seq":5,"duplicate": true}"#, Ack::Duplicate),
        (br#"{"stream":"S","seq":5,"duplicate": false}"#, Ack::Stored),
        (br#"{"stream":"S","seq":5,"duplicate"}"#, Ack::Stored),
        (
            br#"{"error":{"code":503,"err_code":10077,"description":"x"},"stream":"S","seq":0}"#,
            Ack::Failed,
        ),
        (b"", Ack::Failed),
        // The message itself is refused: sent again, it would be again.
        (
            br#"{"error":{"code":400,"err_code":10054,"description":"message size exceeds maximum allowed"}}"#,
            Ack::Refused,
        ),
        (br#"{"error":{"err_code" : 10097, "code":400}}"#, Ack::Refused),
        // Code 400 about the account or the stream, not the message: sent again later.
        (
            br#"{"error":{"code":400,"err_code":10002,"description":"resource limits exceeded for account"}}"#,
            Ack::Failed,
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            ack(None, payload),
            expected,
            "{:?}",
            String::from_utf8_lossy(payload)
        );
    }
    // The shortcut takes only what the searches call stored, and the usual shapes.
    let shapes: [(&[u8], bool); 8] = [
        (br#"{"stream":"S","seq":5}"#, true),
        (br#"{"stream":"ZTEL", "seq":123456}"#, true),
        (br#"{"stream":"S","seq":}"#, false),
        (br#"{"stream":"S","seq":5x}"#, false),
        (br#"{"stream":"S","seq":5,"duplicate":true}"#, false),
        (br#"{"stream":"S","seq":5 }"#, false),
        // An escaped quote in the name.
        (br#"{"stream":"a\",\"seq\":1}","seq":7}"#, false),
        (br#"{"error":{"code":1},"stream":"S","seq":0}"#, false),
    ];
    for (payload, taken) in shapes {
        let text = String::from_utf8_lossy(payload);
        assert_eq!(is_plain_stored(payload), taken, "{text}");
        if taken {
            assert_eq!(searched(payload), Ack::Stored, "{text}");
        }
    }
    assert_eq!(token(b"_INBOX.ab.x", b"_INBOX.ab"), None);
    assert_eq!(token(b"_INBOX.abc.1", b"_INBOX.ab"), None);
    assert_eq!(token(b"_INBOX.ab.99999999999999999999", b"_INBOX.ab"), None);
}

#[test]
fn bounds_hold_whatever_the_peer_claims() {
    assert!(matches!(
        parse(b"MSG a 1 999999999\r\n"),
        Err(ParseError::Invalid(_))
    ));
    assert!(matches!(
        parse(b"HMSG a 1 9 3\r\nxxx\r\n"),
        Err(ParseError::Invalid(_))
    ));
    assert!(matches!(
        parse(b"MSG a 1 2\r\nhiXX"),
        Err(ParseError::Invalid(_))
    ));
    assert!(matches!(
        parse(b"MSG a 1 -2\r\n"),
        Err(ParseError::Invalid(_))
    ));
    assert!(matches!(parse(b"BOGUS\r\n"), Err(ParseError::Invalid(_))));
    assert!(matches!(parse(b"PING\n"), Err(ParseError::Invalid(_))));
    let long = vec![b'x'; MAX_LINE + 1];
    assert!(matches!(parse(&long), Err(ParseError::Invalid(_))));
    assert_eq!(parse(&long[..MAX_LINE - 1]), Err(ParseError::Incomplete));
}

#[test]
fn hpub_is_what_the_protocol_says() {
    let mut out = Vec::new();
    hpub(
        &mut out,
        b"ztel.records.zia.web",
        b"_INBOX.x",
        42,
        b"00ff",
        b"{\"a\":1}",
    );
    let text = "HPUB ztel.records.zia.web _INBOX.x.42 31 38\r\n\
                NATS/1.0\r\nNats-Msg-Id: 00ff\r\n\r\n{\"a\":1}\r\n";
    assert_eq!(String::from_utf8(out.clone()).unwrap(), text);
    // The total of the HPUB line: 38.
    assert_eq!(message_len(b"00ff", 7), 38);
    assert!(is_token(b"ztel.devices") && !is_token(b"a b") && !is_token(b""));
}

#[test]
fn acknowledgements_take_the_shortcut() {
    let m = b"MSG _INBOX.ab.17 1 26\r\n{\"stream\":\"ZTEL\",\"seq\":12}\r\nPING\r\n";
    let (op, n) = plain_msg(m).expect("nats-server's acknowledgement");
    assert_eq!(Ok((op, n)), parse_general(m));
    // A line at the bound is the general path's to refuse, however it is made.
    let mut long = b"MSG ".to_vec();
    long.resize(MAX_LINE, b'a');
    long.extend_from_slice(b" 1 2\r\nhi\r\n");
    assert_eq!(plain_msg(&long), None);
    assert_eq!(
        parse(&long),
        Err(ParseError::Invalid("control line too long"))
    );
    // So is a message past its bound, even when all of it is there.
    let mut large = format!("MSG _INBOX.ab.17 1 {}\r\n", MAX_MESSAGE + 1).into_bytes();
    large.resize(large.len() + MAX_MESSAGE + 1, b'x');
    large.extend_from_slice(b"\r\n");
    assert_eq!(parse(&large), Err(ParseError::Invalid("message too large")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The acknowledgements' shortcut reads what the general path reads, and whatever that
    /// refuses or waits for is left to it. Each part is nats-server's most of the time, so that
    /// most cases differ from an acknowledgement in a part or two.
    #[test]
    fn the_msg_shortcut_agrees_with_the_general_path(
        name in usual("MSG ", &["MSG", "msg ", "HMSG ", "MSG\t", "MSG  "]),
        subject in usual("_INBOX.a.1", &["", "a\tb", "a\nb", "a\rb", "x", "é"]),
        gap in usual(" ", &["  ", "\t", ""]),
        sid in usual("1", &["", "22", "a", "r.x 1", "1\t"]),
        gap2 in usual(" ", &["  ", "\t", "", "x"]),
        size in usual("2", &["", "0", "1234567890", "3", "x", "2 3", "65537", "02"]),
        eol in usual("\r\n", &["\n", "\r", " \r\n"]),
        payload in usual("hi", &["", "hi\r\n", "abc", "h\n"]),
        tail in usual("\r\n", &["", "\r", "xx", "\r\nPONG\r\n"]),
        cut in 0usize..64,
    ) {
        let buf = [name, subject, gap, sid, gap2, size, eol, payload, tail].concat();
        for buf in [buf.as_bytes(), &buf.as_bytes()[..cut.min(buf.len())]] {
            prop_assert_eq!(parse(buf), parse_general(buf));
        }
    }
}

/// `usual` four times in five, one of `others` otherwise.
fn usual(usual: &'static str, others: &[&'static str]) -> impl Strategy<Value = &'static str> {
    let others = proptest::sample::select(others.to_vec());
    prop_oneof![4 => Just(usual), 1 => others]
}

proptest! {
    /// The shortcut for stored acknowledgements says nothing the searches would not.
    #[test]
    fn the_stored_shortcut_agrees_with_the_searches(
        name in "[A-Za-z0-9_\\\\\"-]{0,12}",
        tail in "[ ,\"a-z:0-9}{]{0,24}",
        seq in 0u64..u64::MAX,
    ) {
        let plain = format!(r#"{{"stream":"{name}","seq":{seq}}}"#);
        let other = format!(r#"{{"stream":"{name}"{tail}"#);
        for payload in [plain.as_bytes(), other.as_bytes()] {
            if is_plain_stored(payload) {
                prop_assert_eq!(searched(payload), Ack::Stored);
            }
        }
        if !name.contains(['"', '\\']) {
            prop_assert!(is_plain_stored(plain.as_bytes()));
        }
    }

    /// The numbers and the check of HPUB lines, against their plain definitions.
    #[test]
    fn hpub_numbers_and_tokens_are_what_they_say(n in any::<u64>(),
                                                 bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let mut out = Vec::new();
        decimal(&mut out, n);
        prop_assert_eq!(String::from_utf8_lossy(&out), n.to_string());
        prop_assert_eq!(is_token(&bytes), !bytes.is_empty() && bytes.iter().all(u8::is_ascii_graphic));
    }

    /// Whatever arrives, the parser answers without panicking, consumes what it says it
    /// took and no more, and never takes more than the bounds.
    #[test]
    fn any_input_is_parsed_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut at = 0;
        while at < bytes.len() {
            match parse(&bytes[at..]) {
                Ok((_, n)) => {
                    prop_assert!(n > 0 && at + n <= bytes.len());
                    at += n;
                }
                Err(_) => break,
            }
        }
    }

    /// Messages made by the encoder's rules read back whole, at any split of the stream.
    #[test]
    fn messages_read_back(payload in proptest::collection::vec(any::<u8>(), 0..300),
                          token_n in 0u64..1_000_000_000_000_000, cut in 0usize..400) {
        let mut buf = format!("MSG _INBOX.q.{token_n} 1 {}\r\n", payload.len()).into_bytes();
        buf.extend_from_slice(&payload);
        buf.extend_from_slice(b"\r\nPING\r\n");
        let cut = cut.min(buf.len());
        match parse(&buf[..cut]) {
            Ok((Op::Msg { subject, payload: p, .. }, n)) => {
                prop_assert_eq!(p, &payload[..]);
                prop_assert_eq!(token(subject, b"_INBOX.q"), Some(token_n));
                prop_assert_eq!(&buf[n..], b"PING\r\n");
            }
            Ok(other) => prop_assert!(false, "{:?}", other),
            Err(e) => prop_assert_eq!(e, ParseError::Incomplete),
        }
    }
}
