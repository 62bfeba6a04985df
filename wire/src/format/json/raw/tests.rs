use super::*;

fn escaped(json: &str) -> Option<String> {
    let mut out = Vec::new();
    escape(json.as_bytes(), &mut out).then(|| String::from_utf8(out).unwrap())
}

fn value(json: &str, key: &str) -> serde_json::Value {
    let fixed = escaped(json).expect("changed");
    let value: serde_json::Value = serde_json::from_str(&fixed).expect("JSON now");
    value["event"][key].clone()
}

#[test]
fn quotes_and_backslashes_of_a_value_are_its_text() {
    // elastic/integrations#5296's two agents, as an NSS JSON feed writes them.
    let sophos = r#"SophosUpdate/6.13.1014 SDDS/3.0 (t="b418847e" d="36838224" os="WIN_10_X64" osrel="2009 19042.1237")"#;
    let zoho =
        r#"Name:C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoURSService.exe,Version:1.0.0.96"#;
    for ua in [
        sophos,
        zoho,
        r#"a "quoted", "b"" x"#,
        r#"ends with \"#,
        "tab\there",
    ] {
        let line = format!(
            r#"{{"sourcetype" : "zscalernss-web", "event" :{{"ua" :"{ua}","cip":"10.0.0.1","x":["a", "b"]}}}}"#
        );
        assert_eq!(value(&line, "ua"), ua, "{line}");
        assert_eq!(value(&line, "cip"), "10.0.0.1");
        assert_eq!(value(&line, "x"), serde_json::json!(["a", "b"]));
    }
    // The last value of the frame, and one before a nested object's end.
    let line = r#"{"event":{"a":{"b":"x "y" z"},"ua":"q"uote"}}"#;
    assert_eq!(value(line, "ua"), r#"q"uote"#);
    assert_eq!(value(line, "a")["b"], r#"x "y" z"#);
}

#[test]
fn an_arrays_elements_are_found_in_place_with_their_values_raw() {
    fn elements(body: &str) -> Result<Vec<&str>, NotArray> {
        let mut scan = Elements::new(body.as_bytes())?;
        let mut out = Vec::new();
        while let Some(range) = scan.next(body.as_bytes())? {
            out.push(&body[range]);
        }
        Ok(out)
    }
    let (a, b) = (
        r#"{"ua":"x "y" z","n":1}"#,
        r#"{"ua":"C:\p\"q","l":["a", "b"]}"#,
    );
    assert_eq!(elements(&format!(" [ {a} ,\n{b} ] ")), Ok(vec![a, b]));
    assert_eq!(elements("[]"), Ok(vec![]));
    for body in ["[", "[{},]", "[,{}]", "[{}] x", "{}", r#"[{"a":"b]"#] {
        assert_eq!(elements(body), Err(NotArray), "{body}");
    }
    // An element that cannot be read (a lost closing quote, a key's `":` in a value) runs
    // to the next element's start, or the array's end: the others are still found.
    let (lost, colon) = (r#"{"ua":"x,"loc":"HQ","n":1}"#, r#"{"ua":"(build":7)"}"#);
    assert_eq!(
        elements(&format!("[{lost}, {a},{colon}]")),
        Ok(vec![lost, a, colon])
    );
    assert_eq!(elements(r#"[{"a":"b}]"#), Ok(vec![r#"{"a":"b}"#]));
    // Objects whose commas or braces are broken: one element, for a dead letter.
    assert_eq!(elements("[{},,{}]"), Ok(vec!["{},,{}"]));
    assert_eq!(elements("[{}{}, {}]"), Ok(vec!["{}{}", "{}"]));
    // An element that lost its closing braces (a corpus sample,
    // elastic-issue5298-zia-web-json-malformed.log): a dead letter of its own, the records
    // after it found (they were read into it, or the batch refused).
    let unclosed = r#"{"sourcetype":"zscalernss-web","event":{"ua":"x","n":1}"#;
    assert_eq!(
        elements(&format!("[{a},{unclosed},{a}, {b}]")),
        Ok(vec![a, unclosed, a, b])
    );
    assert_eq!(
        elements(&format!("[{a},{unclosed}]\n")),
        Ok(vec![a, unclosed])
    );
    // From the last session's note: the brace lost right after a string value, whose quote
    // was then no value's end (the batch was refused, or the record after it read into it).
    let after_text = r#"{"sourcetype":"zscalernss-web","event":{"ua":"x""#;
    assert_eq!(
        elements(&format!("[{a},{after_text},{a}, {b}]")),
        Ok(vec![a, after_text, a, b])
    );
    assert_eq!(
        elements(&format!("[{a},{after_text} ]\n")),
        Ok(vec![a, after_text])
    );
    let one_deep = r#"{"ua":"x""#;
    assert_eq!(elements(&format!("[{one_deep}]")), Ok(vec![one_deep]));
    // In an array inside an element, a comma before an object is JSON's.
    let listed = r#"{"l":[{"x":1}, {"y":2}]}"#;
    assert_eq!(elements(&format!("[{listed},{a}]")), Ok(vec![listed, a]));
    assert_eq!(elements(r#"[{"a":{"b":1}"#), Err(NotArray));
    // A value holding `"},`, `"}}{"` or `"},{"`, which seemed to end its element.
    for ua in [r#"x"},"#, r#"x"}}{"y"#, r#"x"},y"#, r#"x"},{"y"#] {
        let broken = format!(r#"{{"ua":"{ua}","n":1}}"#);
        assert_eq!(
            elements(&format!("[{broken},{a}]")),
            Ok(vec![broken.as_str(), a]),
            "{broken}"
        );
    }
}

#[test]
fn valid_json_and_what_cannot_be_told_are_left_alone() {
    for json in [
        r#"{"event":{"ua":"plain","n":1,"l":["a","b"],"o":{}}}"#,
        r#"{"event":{"ua":"unterminated}}"#,
        // A closing quote lost: the value would swallow the next key.
        r#"{"event":{"time":"Fri May  6 11:40:00 2022,"user": "a","cip":"10.0.0.1"}}"#,
    ] {
        assert_eq!(escaped(json), None, "{json}");
    }
    let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
    assert_eq!(escaped(&deep), None);
}

/// From a review of e7af5c5: every space inside an element looked past the rest of its run
/// (and back over it) for a lost brace, quadratic in the run: a body of a few kilobytes
/// gzipped, `[{"a":1,` and 16 MiB of spaces, was 10^14 steps of a shard. With a run of 1 MiB
/// this test took minutes before; now the run is passed once.
#[test]
fn a_long_run_of_spaces_in_an_element_is_read_once() {
    let body = format!("[{{\"a\":1,{}\"b\":2}}, {{\"c\":3}}]", " ".repeat(1 << 20));
    let mut scan = Elements::new(body.as_bytes()).unwrap();
    let mut found = 0;
    while let Some(range) = scan.next(body.as_bytes()).unwrap() {
        assert!(body[range].ends_with('}'));
        found += 1;
    }
    assert_eq!(found, 2);
    // Spaces before the element and commas in it: each comma walked the spaces again.
    let body = format!(
        "[{}{{\"a\":1{}}}]",
        " ".repeat(1 << 20),
        ",".repeat(1 << 20)
    );
    let mut scan = Elements::new(body.as_bytes()).unwrap();
    while scan.next(body.as_bytes()).is_ok_and(|e| e.is_some()) {}
}

/// An element that cannot be read, after a run of blanks, before a run of `}`: each `}` looked
/// at trimmed the blanks again, 5 s for a body of 200 KB (found by an audit). The blanks
/// trimmed now stay within twice the body's length, and the element found is the one it was.
#[test]
fn an_unreadable_element_after_blanks_is_trimmed_once() {
    use crate::format::json::span::TRIMMED;
    const W: usize = 20_000;
    let blanks = " ".repeat(W);
    let braces = "}".repeat(W);
    let elements = |body: &str| {
        let b = body.as_bytes();
        TRIMMED.with(|t| t.set(0));
        let mut found = Vec::new();
        let read = Elements::new(b).and_then(|mut e| loop {
            match e.next(b)? {
                Some(range) => found.push(range),
                None => break Ok(()),
            }
        });
        let trimmed = TRIMMED.with(|t| t.get());
        assert!(
            trimmed <= 2 * b.len(),
            "{trimmed} blanks trimmed in {}",
            b.len()
        );
        (read, found)
    };
    let refused = format!("[{blanks}{{\"a\":\"x{braces}");
    assert_eq!(elements(&refused).0, Err(NotArray));
    let after_one = format!("[{{\"a\":\"x\"}},{blanks}{{\"a\":\"x{braces}");
    assert_eq!(elements(&after_one).0, Err(NotArray));
    // Closed by the array's end: one element, from its brace to the last `}`.
    let closed = format!("[{blanks}{{\"a\":\"x{braces}]");
    let (read, found) = elements(&closed);
    assert_eq!(read, Ok(()));
    assert_eq!(found, vec![W + 1..closed.len() - 1]);
}
