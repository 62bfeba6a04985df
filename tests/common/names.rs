//! Metric names as `deploy/`'s rules and dashboard use them and as `/metrics` exports them.

use std::collections::BTreeSet;
use std::path::Path;

/// The Prometheus alert rules, from the top of the repository.
pub const RULES: &str = "deploy/prometheus/ztel-alerts.yml";

/// Metric names in a text: `ztel_…` and `process_…` words. A summary's `_sum` and `_count` are
/// names of their own in the exposition format, so they are checked as written.
pub fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    for prefix in ["ztel_", "process_"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix).map(|i| from + i) {
            let starts_word = at == 0 || !is_name_byte(bytes[at - 1]);
            let end = text[at..]
                .find(|c: char| !is_name_byte(c as u8) || !c.is_ascii())
                .map_or(text.len(), |i| at + i);
            if starts_word {
                names.insert(text[at..end].to_owned());
            }
            from = end;
        }
    }
    names
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Names that have a sample line in a `/metrics` page.
pub fn exported(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// A file of the repository, by its path from the top.
pub fn read(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
