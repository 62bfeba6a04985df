//! The same log read by an independent implementation of the format: Python's `hdrh`.

use super::*;

/// The same log read by an independent implementation: Python's `hdrh` (PyPI `hdrhistogram`).
#[test]
fn python_hdrh_agrees() {
    let available = std::process::Command::new("python3")
        .args(["-c", "import hdrh.log"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Python's hdrh: pip install hdrhistogram"
        );
        println!("skipped: python3 with hdrh (pip install hdrhistogram) is not installed");
        return;
    }
    let dir = TempDir::new("hist-python");
    let path = dir.path().join("latency.hlog");
    std::fs::write(&path, hlog_bytes(&exact_rank_intervals())).expect("write hlog");
    let theirs = python_totals(&path);
    let ours = ztel::cli::hist::read_hlog(&path).expect("read");
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>()
    );
    for (tag, h) in &ours {
        let [count, p99, p999, max] = theirs[tag];
        assert_eq!(count, h.len(), "{tag} count");
        assert_eq!(
            p99,
            ztel::cli::hist::value_at_percentile(h, 99.0),
            "{tag} p99"
        );
        assert_eq!(
            p999,
            ztel::cli::hist::value_at_percentile(h, 99.9),
            "{tag} p99.9"
        );
        assert_eq!(max, h.max(), "{tag} max");
    }
    // And the binary prints the same.
    let text = stdout(&hist(&[path.to_str().expect("utf-8 path")]));
    for (tag, [count, p99, p999, max]) in &theirs {
        let rows = table(&text, tag);
        let printed = [rows["count"], rows["p99"], rows["p99.9"], rows["max"]];
        let want = [*count as f64, *p99 as f64, *p999 as f64, *max as f64];
        assert_eq!(printed, want, "{tag}");
    }
}

/// tag → [total count, p99, p99.9, max] as Python's hdrh reads the log.
fn python_totals(path: &Path) -> BTreeMap<String, [u64; 4]> {
    const SCRIPT: &str = r#"
import sys
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader
reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3600000000, 3))
merged = {}
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    tag = h.get_tag() or "(untagged)"
    if tag not in merged:
        merged[tag] = HdrHistogram(1, 3600000000, 3)
    merged[tag].add(h)
for tag, h in sorted(merged.items()):
    print(tag, h.get_total_count(), h.get_value_at_percentile(99),
          h.get_value_at_percentile(99.9), h.get_max_value())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| w[i].parse::<u64>().expect("number");
            (w[0].to_owned(), [n(1), n(2), n(3), n(4)])
        })
        .collect()
}
