//! Feed templates filled in as NSS and LSS fill them, with sample values: the tests of
//! `ztel feed-format` and of the vendors' published templates render them and decode the result.

use std::collections::HashMap;

/// Renders an NSS feed template as NSS would: `\{` `\}` are literal braces, `\n` a line feed,
/// `%s{name}`, `%d{name}`, `%ld{name}`, `%lu{name}` (with an optional zero-padded width,
/// `%02d{name}`) the value of the variable. Every variable must have a value.
pub fn render_nss(template: &str, values: &HashMap<&str, String>) -> String {
    render_nss_with(template, |name| values.get(name).cloned())
}

/// [`render_nss`] with values from a function.
pub fn render_nss_with(template: &str, value_of: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix('\\') {
            match r.chars().next() {
                Some('{') => out.push('{'),
                Some('}') => out.push('}'),
                Some('n') => out.push('\n'),
                other => panic!("unexpected escape \\{other:?} in the template"),
            }
            rest = &r[1..];
        } else if let Some(r) = rest.strip_prefix('%') {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            let (width, r) = r.split_at(digits);
            let r = r.strip_prefix('l').unwrap_or(r);
            let conv = r.chars().next().expect("conversion after %");
            assert!(
                matches!(conv, 's' | 'd' | 'u'),
                "unknown conversion %{width}{conv}"
            );
            let r = r[1..]
                .strip_prefix('{')
                .expect("{name} after the conversion");
            let end = r.find('}').expect("closing } of a variable");
            let name = &r[..end];
            let value =
                value_of(name).unwrap_or_else(|| panic!("no sample value for %{conv}{{{name}}}"));
            if conv == 's' {
                out.push_str(&value);
            } else {
                let n: u64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("%{conv}{{{name}}} takes a number, not {value:?}"));
                let width: usize = width.parse().unwrap_or(0);
                out.push_str(&format!("{n:0width$}"));
            }
            rest = &r[end + 1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Fills an LSS template as LSS does: `%j{X}` a JSON string, `%j{X:time}` ctime, `%j{X:iso8601}`
/// ISO 8601, `%d{X}` a number. A field without a value is "" (or 0).
pub fn render_lss(template: &str, values: &[(&str, &str)]) -> String {
    render_lss_with(template, |name| {
        values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

/// [`render_lss`] with values from a function.
pub fn render_lss_with(template: &str, value_of: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let spec = &rest[at + 1..];
        let open = spec.find('{').expect("{ after %");
        let close = spec.find('}').expect("} after %");
        let kind = &spec[..open];
        let name = spec[open + 1..close].split(':').next().unwrap_or_default();
        let value = value_of(name).unwrap_or_default();
        // The letter decides: `j(,)` and `d(,)` join a list's items (one here) inside the
        // template's brackets, and one default template of Zscaler's writes `%j,{UserID}`.
        match kind.get(..1).unwrap_or_default() {
            "j" => out.push_str(&serde_json::to_string(&value).expect("a string")),
            "d" => out.push_str(if value.is_empty() { "0" } else { &value }),
            "f" => out.push_str("1.5"),
            _ => panic!("unknown LSS variable kind {kind}"),
        }
        rest = &spec[close + 1..];
    }
    out.push_str(rest);
    out.replace("\\n", "")
}

/// A web record of about 1.3 KB (`zia_line` with 1,200 bytes of padding): a test that must fill
/// the collector's buffers sends fewer of them.
pub fn padded(i: u64) -> String {
    let pad = "p".repeat(1200);
    super::zia_line(i, &format!("pc-{}", i % 9))
        .replace("\"login\"", &format!("\"pad\":\"{pad}\",\"login\""))
}
