//! Prometheus's text exposition format, as far as loadgen reads it: sums of samples picked by
//! name and labels.

/// The sum of the samples of metric `name` whose labels include every pair of `labels`, in
/// Prometheus text exposition format; `None` when there is none. ztel exports one series per
/// shard and input and no pre-summed one, so a total is a sum.
pub fn total(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut values = text.lines().filter_map(|line| {
        let line = line.trim_start();
        if line.starts_with('#') {
            return None;
        }
        let rest = line.strip_prefix(name)?;
        let (sample_labels, rest) = if let Some(inner) = rest.strip_prefix('{') {
            let (pairs, after) = split_labels(inner)?;
            (pairs, after)
        } else if rest.starts_with([' ', '\t']) {
            (Vec::new(), rest)
        } else {
            // A longer name that starts with this one (ztel_frames_total_x).
            return None;
        };
        let wanted = labels
            .iter()
            .all(|(k, v)| sample_labels.iter().any(|(sk, sv)| sk == k && sv == v));
        if !wanted {
            return None;
        }
        rest.split_whitespace().next()?.parse::<f64>().ok()
    });
    let first = values.next()?;
    Some(values.sum::<f64>() + first)
}

/// `a="x",b="y\"z"} rest` → ([(a, x), (b, y"z)], " rest").
fn split_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut pairs = Vec::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(rest) = s.strip_prefix('}') {
            return Some((pairs, rest));
        }
        let (key, rest) = s.split_once('=')?;
        let mut chars = rest.strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        pairs.push((key.trim().to_string(), value));
        s = &rest[1 + end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAMES: &str = "ztel_frames_total";
    const DROPPED: &str = "ztel_datagrams_dropped_total";
    const LATENCY: &str = "ztel_latency_read_to_sink_seconds";

    const METRICS: &str = "# HELP ztel_frames_total Frames read.\n\
        # TYPE ztel_frames_total counter\n\
        ztel_frames_total{shard=\"0\"} 10\n\
        ztel_frames_total{shard=\"1\",input=\"udp\"} 15\n\
        ztel_frames_total_extra{shard=\"0\"} 99\n\
        ztel_datagrams_dropped_total{shard=\"0\",reason=\"full\"} 3 1700000000000\n\
        ztel_latency_read_to_sink_seconds{quantile=\"0.5\"} 3.5e-05\n\
        ztel_latency_read_to_sink_seconds{quantile=\"0.99\"} 0.0012\n\
        ztel_latency_read_to_sink_seconds_count 25\n\
        odd{label=\"a \\\"quoted\\\" } value\"} 7\n";

    #[test]
    fn sums_samples_by_name_and_labels() {
        assert_eq!(total(METRICS, FRAMES, &[("input", "udp")]), Some(15.0));
        assert_eq!(total(METRICS, FRAMES, &[("shard", "0")]), Some(10.0));
        assert_eq!(total(METRICS, FRAMES, &[]), Some(25.0));
        assert_eq!(total(METRICS, DROPPED, &[]), Some(3.0));
        assert_eq!(
            total(METRICS, LATENCY, &[("quantile", "0.5")]),
            Some(3.5e-5)
        );
        assert_eq!(total(METRICS, LATENCY, &[("quantile", "0.9")]), None);
        assert_eq!(
            total(METRICS, "ztel_latency_read_to_sink_seconds_count", &[]),
            Some(25.0)
        );
        assert_eq!(
            total(METRICS, "odd", &[("label", "a \"quoted\" } value")]),
            Some(7.0)
        );
        assert_eq!(total(METRICS, "missing", &[]), None);
    }
}
