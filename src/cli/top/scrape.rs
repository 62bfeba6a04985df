//! The part of the Prometheus text exposition format (0.0.4) that `ztel top` reads: sample lines
//! `name{label="value",…} value [timestamp]`. `# HELP` and `# TYPE` lines carry nothing the view
//! shows, so they are skipped with the other comments.
//!
//! A line that cannot be read is counted, not fatal: a newer collector may write something this
//! reader does not know, and the rest of the page is still worth showing.

/// One sample: a series and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// In the order the page wrote them; few enough that a search beats a map.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, if the series has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A whole `/metrics` page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub samples: Vec<Sample>,
    /// Lines that were neither a comment nor a sample this reader understands.
    pub unreadable: usize,
}

impl Page {
    /// Reads a page; never fails (see the module's comment).
    pub fn parse(text: &str) -> Page {
        let mut page = Page::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match sample(line) {
                Some(s) => page.samples.push(s),
                None => page.unreadable += 1,
            }
        }
        page
    }

    /// The samples of metric `name`.
    pub fn series<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The value of the one unlabelled (or first) sample of `name`.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.series(name).next().map(|s| s.value)
    }

    /// The value of the first sample of `name` whose label `key` is `value`.
    pub fn value_where(&self, name: &str, key: &str, value: &str) -> Option<f64> {
        self.series(name)
            .find(|s| s.label(key) == Some(value))
            .map(|s| s.value)
    }
}

/// One sample line, or `None` if it is not one.
fn sample(line: &str) -> Option<Sample> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_ascii_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_name(name) {
        return None;
    }
    let mut rest = line[name_end..].trim_start();
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = read_labels(inner, &mut labels)?.trim_start();
    }
    // A timestamp may follow the value; the view times scrapes itself.
    let value = value(rest.split_ascii_whitespace().next()?)?;
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Reads `a="x",b="y"}` into `labels`; returns what follows the closing brace.
fn read_labels<'a>(mut rest: &'a str, labels: &mut Vec<(String, String)>) -> Option<&'a str> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Some(after);
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        if !is_name(key) || key.contains(':') {
            return None;
        }
        let (value, after) = quoted(rest[eq + 1..].trim_start())?;
        // Shown on the terminal: a page that is not ztel's (a port taken while it was down,
        // `--admin` aimed elsewhere) could drive it with escapes.
        labels.push((key.to_owned(), crate::logging::printable(&value)));
        rest = after.trim_start();
        // The format allows a comma before the closing brace.
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return None;
        }
    }
}

/// A label value in double quotes with `\\`, `\"` and `\n` escaped; the value and what follows
/// its closing quote.
fn quoted(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                // `\\`, `\"`, and (leniently) any other escaped character as itself.
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// A sample value: a float, or `NaN`, `+Inf`, `-Inf` as Prometheus writes them.
fn value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, a metric name (label names are the same less the colon).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page in the format of the "Prometheus conventions" change: per shard and input, a kind
    /// label on records, no pre-summed `shard="all"` series.
    const PAGE: &str = r#"# HELP ztel_frames_total Frames (records as sent) parsed: records plus dead letters, less contested frames (both).
# TYPE ztel_frames_total counter
ztel_frames_total{shard="0",input="tcp"} 301
ztel_frames_total{shard="1",input="tcp"} 99
ztel_frames_total{shard="0",input="udp"} 5
# TYPE ztel_records_total counter
ztel_records_total{shard="0",input="tcp",kind="zia.web"} 300
ztel_records_total{shard="1",input="tcp",kind="zpa.user_activity"} 1e2
ztel_dead_letters_by_reason_total{shard="0",input="tcp",reason="unknown_format"} 1
ztel_devices 10000
ztel_latency_read_to_sink_seconds{quantile="0.5"} 0.000431
ztel_latency_read_to_sink_seconds_count 400
ztel_build_info{version="0.1.0"} 1
"#;

    #[test]
    fn reads_samples_and_skips_comments() {
        let page = Page::parse(PAGE);
        assert_eq!(page.unreadable, 0);
        assert_eq!(page.samples.len(), 10);
        let first = &page.samples[0];
        assert_eq!(first.name, "ztel_frames_total");
        assert_eq!(
            first.labels,
            [
                ("shard".to_owned(), "0".to_owned()),
                ("input".to_owned(), "tcp".to_owned())
            ]
        );
        assert_eq!(first.value, 301.0);
        assert_eq!(page.value("ztel_devices"), Some(10000.0));
        assert_eq!(
            page.value_where("ztel_records_total", "kind", "zpa.user_activity"),
            Some(100.0)
        );
        assert_eq!(
            page.value_where("ztel_latency_read_to_sink_seconds", "quantile", "0.5"),
            Some(0.000431)
        );
        assert_eq!(page.series("ztel_frames_total").count(), 3);
        assert_eq!(page.series("ztel_latency_read_to_sink_seconds").count(), 1);
    }

    #[test]
    fn unescapes_label_values() {
        let page = Page::parse(
            "m{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",brace=\"}{,=\"} 7\n",
        );
        assert_eq!(page.unreadable, 0);
        let s = &page.samples[0];
        assert_eq!(s.label("path"), Some("C:\\dir"));
        assert_eq!(s.label("quote"), Some("say \"hi\""));
        // Shown on a terminal: a newline or an escape in a value is shown, not obeyed.
        assert_eq!(s.label("nl"), Some("a\\nb"));
        assert_eq!(s.label("brace"), Some("}{,="));
        assert_eq!(s.value, 7.0);
    }

    #[test]
    fn a_pages_escapes_do_not_reach_the_terminal() {
        // A page not ztel's (a port taken while it was down) set the title and cleared the screen.
        let page = Page::parse("m{kind=\"zia.web\u{1b}[2J\",version=\"\u{1b}]0;PWNED\u{7}\"} 1\n");
        let s = &page.samples[0];
        assert_eq!(s.label("kind"), Some("zia.web\\u{1b}[2J"));
        assert_eq!(s.label("version"), Some("\\u{1b}]0;PWNED\\u{7}"));
    }

    #[test]
    fn accepts_what_the_format_allows() {
        let page = Page::parse(
            "a{x=\"1\",} 1\nb 2 1700000000000\nc{} +Inf\nd NaN\ne -Inf\n  f{ x = \"1\" } 3\n",
        );
        assert_eq!(page.unreadable, 0);
        assert_eq!(page.value("a"), Some(1.0));
        assert_eq!(page.value("b"), Some(2.0));
        assert_eq!(page.value("c"), Some(f64::INFINITY));
        assert!(page.value("d").is_some_and(f64::is_nan));
        assert_eq!(page.value("e"), Some(f64::NEG_INFINITY));
        assert_eq!(page.value_where("f", "x", "1"), Some(3.0));
    }

    #[test]
    fn counts_lines_it_cannot_read() {
        let page = Page::parse(
            "ok 1\n9bad 1\nno_value\nm{x=\"open 1\nm{x=1} 1\nm{x=\"1\" y=\"2\"} 1\nm words\n\
             m inf\n<html>\n",
        );
        assert_eq!(page.samples.len(), 1);
        assert_eq!(page.unreadable, 8);
    }
}
