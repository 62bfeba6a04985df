//! `ztel hist --plot`: the SVG is well formed, and its lines are the tables' percentiles.

use super::*;

#[test]
fn plot_writes_well_formed_svg() {
    let dir = TempDir::new("hist-plot");
    let path = sample_log(&dir);
    let svg = dir.path().join("plot.svg");
    let text = stdout(&hist(&[
        path.to_str().expect("utf-8 path"),
        "--plot",
        svg.to_str().expect("utf-8 path"),
    ]));
    assert!(
        text.contains(&format!("wrote the percentile plot to {}", svg.display())),
        "{text}"
    );
    let doc = std::fs::read_to_string(&svg).expect("svg written");
    let texts = check_svg(&doc, &[("a", 10_000), ("b", 1_010)]);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("latency.hlog: ") && t.contains(" intervals, ")),
        "title names the file and the time range: {texts:?}"
    );
    // Issue 15: the latency axis is logarithmic, so that sub-millisecond curves are not flat
    // at the bottom: decades from the smallest value (1 µs) to above the largest (50,000 µs).
    for label in ["1", "10", "100", "1000", "10000", "100000"] {
        assert!(
            texts.iter().any(|t| t == label),
            "y label {label}: {texts:?}"
        );
    }
    for label in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"] {
        assert!(
            texts.iter().any(|t| t == label),
            "x label {label}: {texts:?}"
        );
    }

    // One tag, one line.
    std::fs::remove_file(&svg).expect("remove");
    let args = [
        path.to_str().expect("utf-8 path"),
        "--tag",
        "a",
        "--plot",
        svg.to_str().expect("utf-8 path"),
    ];
    stdout(&hist(&args));
    check_svg(
        &std::fs::read_to_string(&svg).expect("svg written"),
        &[("a", 10_000)],
    );

    // An unwritable output is one error line naming it.
    let nowhere = dir.path().join("no-such-dir").join("plot.svg");
    let line = one_error(&hist(&[
        path.to_str().expect("utf-8 path"),
        "--plot",
        nowhere.to_str().expect("utf-8 path"),
    ]));
    assert!(line.contains("no-such-dir/plot.svg"), "{line}");
}

/// A polyline or path in a colour: a tag's line (axes and ticks are black).
fn is_data_line(e: &quick_xml::events::BytesStart) -> bool {
    matches!(e.name().as_ref(), b"polyline" | b"path")
        && e.attributes().flatten().any(|a| {
            a.key.as_ref() == b"stroke"
                && !matches!(a.value.as_ref(), b"#000000" | b"none" | b"black")
        })
}

/// The SVG is well-formed XML, its root is `<svg`, it has one coloured line (polyline or path)
/// per tag and one legend text per tag, naming its count of values.
fn check_svg(doc: &str, tags: &[(&str, u64)]) -> Vec<String> {
    use quick_xml::events::Event;
    let body = doc.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .expect("XML declaration ends")
            .1
            .trim_start(),
        None => body,
    };
    assert!(
        body.starts_with("<svg"),
        "starts with {:?}",
        &body[..body.len().min(40)]
    );

    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut lines, mut roots) = (0i64, 0, 0);
    let mut texts = Vec::new();
    let mut in_text = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                in_text = e.name().as_ref() == b"text";
                lines += usize::from(is_data_line(&e));
            }
            Ok(Event::Empty(e)) => lines += usize::from(is_data_line(&e)),
            Ok(Event::End(_)) => {
                depth -= 1;
                in_text = false;
            }
            Ok(Event::Text(t)) if in_text => {
                texts.push(t.decode().expect("text").trim().to_owned());
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "SVG is not well-formed at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(
        (depth, roots),
        (0, 1),
        "one root element, every element closed"
    );
    assert_eq!(lines, tags.len(), "one line per tag");
    for (tag, count) in tags {
        let legend = format!("{tag}: {count} values");
        assert_eq!(
            texts.iter().filter(|t| **t == legend).count(),
            1,
            "legend {legend}: {texts:?}"
        );
    }
    texts
}
