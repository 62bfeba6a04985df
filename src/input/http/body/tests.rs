use super::*;

fn elements(body: &str) -> Result<Vec<&str>, NotJson> {
    let b = body.as_bytes();
    let mut scan = ArrayScan::new(b)?;
    let mut out = Vec::new();
    while let Some(r) = scan.next(b)? {
        out.push(&body[r]);
    }
    Ok(out)
}

#[test]
fn array_elements_are_found_with_strings_escapes_and_nesting() {
    assert_eq!(elements("[]"), Ok(vec![]));
    assert_eq!(elements(" [ ] \n"), Ok(vec![]));
    assert_eq!(
        elements(r#"[{"a":"x,]}"},{"b":[1,{"c":"\"]"}]} , 5,"s"]"#),
        Ok(vec![
            r#"{"a":"x,]}"}"#,
            r#"{"b":[1,{"c":"\"]"}]}"#,
            "5",
            r#""s""#
        ])
    );
    assert_eq!(
        elements("[\n  {\"a\":\"\\\\\"}\n]\n"),
        Ok(vec![r#"{"a":"\\"}"#])
    );
    // An Admin Audit whose bare-quoted before holds an escaped quote and backslash: one
    // element, for the pipeline to read.
    let audit = r#"{"action":"UPDATE","preaction":"{"name":"a \"b\" \\"}","x":1}"#;
    assert_eq!(
        elements(&format!("[{audit},\n{audit}]")),
        Ok(vec![audit, audit])
    );
    // Brackets in its strings, one opening (a batch refused) and one closing (two records
    // run into one).
    let (open, close) = (
        r#"{"preaction":"{"name":"Block [test"}","x":1}"#,
        r#"{"postaction":"{"name":"oops]"}","x":2}"#,
    );
    assert_eq!(
        elements(&format!("[{open},{close},{{}}]")),
        Ok(vec![open, close, "{}"])
    );
}

#[test]
fn arrays_that_do_not_close_are_not_json() {
    for body in [
        "[",
        "[{}",
        "[{},]",
        "[,{}]",
        "[{}] x",
        r#"[{"a":"unterminated]"#,
        r#"[{"a":1}"x"]"#,
        r#"["x" "y"]"#,
    ] {
        assert_eq!(shape(body.as_bytes()), Err(NotJson), "{body}");
    }
    // An element that cannot be read (its value, or its commas or braces) in an array that
    // can: a dead letter of its own, not a batch refused (and sent again for ever).
    for body in [
        r#"[{"a":"unterminated}]"#,
        "[{}{}]",
        "[{}}]",
        "[{},,{}]",
        "[{} {}]",
        r#"[{"ua":"(build":7)"}, {"a":1}]"#,
        r#"[{"ua":"x,"loc":"HQ"},{"a":1}]"#,
        // An element that lost its closing brace, last or before others (a corpus sample).
        r#"[{"a":1},{"e":{"ua":"x"}]"#,
        r#"[{"a":1},{"e":{"ua":"x"},{"a":2},{"b":{"c":3}}]"#,
        r#"[{"l":[1,2],{"a":1}]"#,
    ] {
        assert_eq!(shape(body.as_bytes()), Ok(Shape::RawArray), "{body}");
    }
}

#[test]
fn bodies_are_arrays_lines_empty_or_refused() {
    assert_eq!(shape(b""), Ok(Shape::Empty));
    assert_eq!(shape(b" \r\n"), Ok(Shape::Empty));
    assert_eq!(shape(b"[{}]"), Ok(Shape::Array));
    // A user agent as NSS writes it, an odd number of quotes in it.
    let raw = br#"[{"ua":"x (t="a) y","n":1}, {"ua":"C:\p"}]"#;
    assert_eq!(shape(raw), Ok(Shape::RawArray));
    // Elements that are no objects: JSON, read as JSON (each a dead letter of its own).
    assert_eq!(shape(br#"[{"a":1}, 42, "x", {"b":2}]"#), Ok(Shape::Array));
    assert_eq!(shape(b"{\"a\":1}\n\n  {\"b\":2}\r\n"), Ok(Shape::Lines));
    // A first line that is an object makes the body lines: later ones are the pipeline's.
    assert_eq!(shape(b"{\"a\":1}\nnot json\n"), Ok(Shape::Lines));
    assert_eq!(shape(b"{\"a\":1}\n<134>{\"b\":2}\n"), Ok(Shape::Lines));
    assert_eq!(shape(b"hello"), Err(NotJson));
    // A cut array whose first value holds a LEEF header is still a cut array.
    let cut = b"[{\"msg\":\"x LEEF:1.0|Zscaler|NSS|4.1|NA|a=1\tb=2\"},{\"m";
    assert_eq!(shape(cut), Err(NotJson));
    // A first line in another feed format: lines of records, each as TCP frames it.
    for body in [
        "\"Mon Jun 20 15:29:11 2022\",\"new-gre\",\"HTTP\"\nnot a record\n",
        "Mon Jun 20 15:29:11 2022\tnew-gre\tHTTP\t\t\n",
        "2019-10-16 15:44:36\treason=Allowed\tevent_id=1\tprotocol=HTTPS\n",
        "reason=Allowed product=NSS ClientIP=10.0.0.1",
        "<134>Oct 02 16:21:40 h zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|NA|cat=Blocked\r\n",
        "CEF:0|Zscaler|NSSWeb|6.0|Allowed|Allowed|3|act=Allowed",
        // A template that starts with a bracket: no array (found by review).
        "[2026-12-07 08:39:01]\treason=Allowed\tevent_id=1\tClientIP=10.0.0.1\n",
        // Tab-separated, ending with JSON objects (an audit's actions): still its own format.
        "Tue Jun 7 07:50:48 2022\t7536\tUI\t{\"a\":1}\t{\"a\":2}\nx\ty\t\t\n",
    ] {
        assert_eq!(shape(body.as_bytes()), Ok(Shape::FeedLines), "{body}");
    }
    // A header or static text before the first line's object: lines, as on TCP.
    assert_eq!(shape(b"<134>{\"a\":1}"), Ok(Shape::Lines));
    let rfc3164 = b"Dec 05 09:58:00 zscaler-nss nss: {\"a\":1}\nDec 05 09:58:01 x {\"b\":2}";
    assert_eq!(shape(rfc3164), Ok(Shape::Lines));
    let braces = b"ZSCALER {web}: {\"a\":1}\n<134>1 2025-11-22T08:26:40Z h a - - [x@1 k=\"{\"] {}";
    assert_eq!(shape(braces), Ok(Shape::Lines));
    let data = b"<134>1 2025-11-22T08:26:40Z h a - - [x@1 k=\"{\"] {\"b\":2}";
    assert_eq!(shape(data), Ok(Shape::Lines));
    // Text with no object after it, or not one that ends the line, is refused.
    for body in [
        "<134>hello",
        "<134>{\"a\":1} x",
        "text {\"a\":",
        "<134>{\"a\":1\n}",
        "hello {x}\nworld\n",
        "x [y] {z}",
    ] {
        assert_eq!(shape(body.as_bytes()), Err(NotJson), "{body}");
    }
}

#[test]
fn one_object_over_several_lines_is_one_record() {
    let pretty = b"{\n  \"sourcetype\": \"zscalernss-web\",\n  \"event\": {\n    \"a\": \"}\\\"{\"\n  }\n}\n";
    assert_eq!(shape(pretty), Ok(Shape::Object));
    // Wrapped before a nested object, every line starts with `{`: still one record.
    let wrapped = b"{\"sourcetype\":\"zscalernss-web\",\"event\":\n{\"cip\":\"10.0.0.1\"}}";
    assert_eq!(shape(wrapped), Ok(Shape::Object));
    // Lines that each start as an object stay records, a broken one a dead letter.
    assert_eq!(shape(b"{\"a\":1}\n{\"b\":\n"), Ok(Shape::Lines));
    // Anything after it, or an object that never ends, is not one record.
    assert_eq!(shape(b"{\n \"a\": 1\n}\nx"), Err(NotJson));
    assert_eq!(shape(b"{\n \"a\": {\n}"), Err(NotJson));
    assert_eq!(shape(b"{\n \"a\": \"}\n"), Err(NotJson));
}

#[test]
fn a_byte_order_mark_is_skipped_at_the_start_only() {
    assert_eq!(without_bom(b"\xEF\xBB\xBF[{}]"), b"[{}]");
    assert_eq!(
        shape(without_bom(b"\xEF\xBB\xBF{\"a\":1}\n")),
        Ok(Shape::Lines)
    );
    assert_eq!(shape(without_bom(b"\xEF\xBB\xBF")), Ok(Shape::Empty));
    assert_eq!(without_bom(b"\xEF\xBB"), b"\xEF\xBB");
    assert_eq!(without_bom(b" \xEF\xBB\xBF[]"), b" \xEF\xBB\xBF[]");
}

#[test]
fn a_line_of_glued_objects_is_each_of_them() {
    let is = |line: &str| might_be_glued(line.as_bytes()) && glued(line.as_bytes(), 0..line.len());
    assert!(is(r#"{"a":1}{"b":"}{"}"#));
    assert!(is(r#"{"a":1} {"b":2}  {"c":{"d":3}}"#));
    assert!(is("{\"a\":1}\t {\"b\":2}"));
    // An Admin Audit whose bare-quoted before holds escaped quotes, glued to another.
    let audit = r#"{"preaction":"{"name":"a \"b\" \\"}","x":1}"#;
    assert!(is(&format!("{audit}{audit}")));
    // A user agent's odd quote in each, as NSS writes them; one that cannot be read.
    assert!(is(r#"{"ua":"a "b"} {"ua":"c "d"}"#));
    assert!(is(r#"{"ua":"a":b"}{"ua":"ok"}{"ua":"Q "x"}"#));
    for line in [
        r#"{"a":"}{"}"#,
        r#"{"a":1}{"b":2"#,
        r#"{"a":1}{"b":2}x"#,
        r#"{"a":1} [1]"#,
        r#"<134>{"a":1}{"b":2}"#,
        // A value holding `"}{"` or `}{"{":`: the second piece starts as no record.
        r#"{"ua":"x"}{"y","loc":"HQ"}"#,
        r#"{"ua":"U}{"{":Z","loc":"HQ"}"#,
    ] {
        assert!(!is(line), "{line}");
    }
}

#[test]
fn lines_are_trimmed_and_blank_ones_skipped() {
    let body = b"  {\"a\":1}\r\n\n\t{\"b\":2}";
    let mut lines = Lines { pos: 0 };
    let mut got = Vec::new();
    while let Some(r) = lines.next(body) {
        got.push(&body[r]);
    }
    assert_eq!(got, [&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
}
