//! What `ztel top` shows, worked out from the last two scrapes: totals from the newer one, rates
//! from their difference over the time between them.
//!
//! Series are summed over the labels a table does not show (`ztel_frames_total` over inputs for
//! the shard table, over shards for the input table), as a PromQL `sum by` would.

use std::time::Instant;

use super::scrape::Page;

/// Frames read: one per record or dead letter (or both, for a frame that named a key twice), what
/// "events" means on the screen.
const FRAMES: &str = "ztel_frames_total";
const BYTES: &str = "ztel_bytes_read_total";
const RECORDS: &str = "ztel_records_total";
const DEAD_BY_REASON: &str = "ztel_dead_letters_by_reason_total";
const DEAD: &str = "ztel_dead_letters_total";
/// Dead letters that were written as records too (a key the client's text named twice).
const CONTESTED: &str = "ztel_contested_frames_total";
/// Peers outside an input's `allowed_ips`: TCP, TLS and HTTP connections, UDP datagrams.
const REFUSED: [&str; 2] = [
    "ztel_connections_refused_total",
    "ztel_datagrams_refused_total",
];
const OVER_LIMIT: &str = "ztel_connections_over_limit_total";
const TLS_FAILURES: &str = "ztel_tls_handshake_failures_total";
const OPEN: &str = "ztel_connections_open";
const DEVICES: &str = "ztel_devices";
const LATENCY: &str = "ztel_latency_read_to_sink_seconds";
const CHANNEL_DEPTH: &str = "ztel_channel_depth";
const CHANNEL_CAPACITY: &str = "ztel_channel_capacity";
const BUILD_INFO: &str = "ztel_build_info";

/// A parsed page and when it arrived.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub page: Page,
    pub at: Instant,
}

/// A counter: its total now and, once there are two scrapes, its rate per second between them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figure {
    pub total: f64,
    pub rate: Option<f64>,
}

/// One input (`tcp`, `udp`, `tls`, `http`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputRow {
    pub input: String,
    pub events: Figure,
    pub bytes: Figure,
    pub open: Option<f64>,
    pub refused: Figure,
    pub over_limit: Figure,
    pub tls_failures: Figure,
}

/// One shard, all its inputs together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardRow {
    pub shard: String,
    pub events: Figure,
    pub bytes: Figure,
}

/// Everything on the screen but the status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub version: Option<String>,
    pub inputs: Vec<InputRow>,
    pub shards: Vec<ShardRow>,
    /// Record kinds that have records, by kind name.
    pub kinds: Vec<(String, Figure)>,
    pub records: Figure,
    /// Dead-letter reasons that have dead letters, by reason.
    pub dead_letters: Vec<(String, Figure)>,
    pub dead_total: Figure,
    /// Of the dead letters, those whose record was written too.
    pub contested: Figure,
    pub devices: Option<f64>,
    /// Read→sink latency quantiles in seconds; `None` before the first record.
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub channel_depth: Option<f64>,
    pub channel_capacity: Option<f64>,
    /// Lines of the page that could not be read.
    pub unreadable: usize,
}

impl Model {
    /// The model of `now`, with rates since `before` when there is one.
    pub fn new(before: Option<&Scrape>, now: &Scrape) -> Model {
        let diff = Diff { before, now };
        let page = &now.page;
        let inputs = diff
            .keys("input", &[FRAMES, BYTES, REFUSED[0], REFUSED[1], OPEN])
            .into_iter()
            .map(|input| InputRow {
                events: diff.figure(&[FRAMES], "input", &input),
                bytes: diff.figure(&[BYTES], "input", &input),
                open: sum(page, OPEN, Some(("input", &input))),
                refused: diff.figure(&REFUSED, "input", &input),
                over_limit: diff.figure(&[OVER_LIMIT], "input", &input),
                tls_failures: diff.figure(&[TLS_FAILURES], "input", &input),
                input,
            })
            .collect();
        let mut shards: Vec<ShardRow> = diff
            .keys("shard", &[FRAMES, BYTES])
            .into_iter()
            .map(|shard| ShardRow {
                events: diff.figure(&[FRAMES], "shard", &shard),
                bytes: diff.figure(&[BYTES], "shard", &shard),
                shard,
            })
            .collect();
        // Shard 10 after shard 9, not after shard 1.
        shards.sort_by_key(|s| (s.shard.parse::<u64>().unwrap_or(u64::MAX), s.shard.clone()));
        // Only labels with a sample get here, and only counters that counted something are news.
        let busy = |label: &str, metric: &str| -> Vec<(String, Figure)> {
            diff.keys(label, &[metric])
                .into_iter()
                .map(|key| {
                    let figure = diff.figure(&[metric], label, &key);
                    (key, figure)
                })
                .filter(|(_, f)| f.total > 0.0)
                .collect()
        };
        let quantile = |q: &str| {
            let count = page.value(&format!("{LATENCY}_count"));
            let value = page.value_where(LATENCY, "quantile", q)?;
            // A summary of no observations has nothing to say (0 or NaN, depending on the writer).
            (count != Some(0.0) && value.is_finite()).then_some(value)
        };
        Model {
            version: page
                .series(BUILD_INFO)
                .find_map(|s| s.label("version"))
                .map(str::to_owned),
            inputs,
            shards,
            kinds: busy("kind", RECORDS),
            records: diff.total(RECORDS),
            dead_letters: busy("reason", DEAD_BY_REASON),
            dead_total: diff.total(DEAD),
            contested: diff.total(CONTESTED),
            devices: page.value(DEVICES),
            p50: quantile("0.5"),
            p99: quantile("0.99"),
            channel_depth: page.value(CHANNEL_DEPTH),
            channel_capacity: page.value(CHANNEL_CAPACITY),
            unreadable: page.unreadable,
        }
    }
}

/// The two scrapes a figure is worked out from.
struct Diff<'a> {
    before: Option<&'a Scrape>,
    now: &'a Scrape,
}

impl Diff<'_> {
    /// The values label `label` takes in any of `metrics`, sorted.
    fn keys(&self, label: &str, metrics: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = metrics
            .iter()
            .flat_map(|m| self.now.page.series(m))
            .filter(|s| counted(s))
            .filter_map(|s| s.label(label))
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// `metrics` summed over the series whose `label` is `key`.
    fn figure(&self, metrics: &[&str], label: &str, key: &str) -> Figure {
        self.figure_of(|page| {
            metrics
                .iter()
                .filter_map(|m| sum(page, m, Some((label, key))))
                .reduce(|a, b| a + b)
        })
    }

    /// `metric` summed over every series.
    fn total(&self, metric: &str) -> Figure {
        self.figure_of(|page| sum(page, metric, None))
    }

    fn figure_of(&self, of: impl Fn(&Page) -> Option<f64>) -> Figure {
        let total = of(&self.now.page).unwrap_or(0.0);
        let rate = self.before.and_then(|before| {
            let secs = self.now.at.checked_duration_since(before.at)?.as_secs_f64();
            if secs <= 0.0 {
                return None;
            }
            // A series that appeared since counted from zero; a total that fell means the
            // collector restarted, and what it counted since is the new total.
            let then = of(&before.page).unwrap_or(0.0);
            let grew = if total >= then { total - then } else { total };
            Some(grew / secs)
        });
        Figure { total, rate }
    }
}

/// The sum of `metric`'s samples (those whose label is `only`, when given); `None` when there
/// are none.
fn sum(page: &Page, metric: &str, only: Option<(&str, &str)>) -> Option<f64> {
    page.series(metric)
        .filter(|s| counted(s))
        .filter(|s| only.is_none_or(|(label, key)| s.label(label) == Some(key)))
        .map(|s| s.value)
        .reduce(|a, b| a + b)
}

/// Collectors from before the Prometheus-conventions change also wrote pre-summed
/// `shard="all"` series: adding them again would double every figure.
fn counted(s: &super::scrape::Sample) -> bool {
    s.label("shard") != Some("all")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Two scrapes two seconds apart in the new format: 2 shards, TCP and UDP.
    const BEFORE: &str = r#"# HELP ztel_frames_total Frames parsed.
# TYPE ztel_frames_total counter
ztel_frames_total{shard="0",input="tcp"} 100
ztel_frames_total{shard="1",input="tcp"} 50
ztel_frames_total{shard="0",input="udp"} 10
ztel_frames_total{shard="1",input="udp"} 0
ztel_bytes_read_total{shard="0",input="tcp"} 10000
ztel_bytes_read_total{shard="1",input="tcp"} 5000
ztel_bytes_read_total{shard="0",input="udp"} 1000
ztel_bytes_read_total{shard="1",input="udp"} 0
ztel_connections_refused_total{shard="0",input="tcp"} 1
ztel_connections_refused_total{shard="1",input="tcp"} 0
ztel_datagrams_refused_total{shard="0",input="udp"} 2
ztel_datagrams_refused_total{shard="1",input="udp"} 0
ztel_records_total{shard="0",input="tcp",kind="zia.web"} 99
ztel_records_total{shard="1",input="tcp",kind="zia.web"} 50
ztel_records_total{shard="0",input="udp",kind="zpa.user_activity"} 10
ztel_records_total{shard="0",input="tcp",kind="zia.dns"} 0
ztel_dead_letters_total{shard="0",input="tcp"} 1
ztel_dead_letters_by_reason_total{shard="0",input="tcp",reason="unknown_format"} 1
ztel_dead_letters_by_reason_total{shard="0",input="tcp",reason="bad_time"} 0
ztel_devices 7
ztel_latency_read_to_sink_seconds{quantile="0.5"} 0.0004
ztel_latency_read_to_sink_seconds{quantile="0.99"} 0.002
ztel_latency_read_to_sink_seconds_count 159
"#;

    fn after() -> String {
        BEFORE
            .replace(
                r#"ztel_frames_total{shard="0",input="tcp"} 100"#,
                r#"ztel_frames_total{shard="0",input="tcp"} 300"#,
            )
            .replace(
                r#"{shard="1",input="tcp",kind="zia.web"} 50"#,
                r#"{shard="1",input="tcp",kind="zia.web"} 250"#,
            )
            .replace(
                r#"ztel_bytes_read_total{shard="1",input="tcp"} 5000"#,
                r#"ztel_bytes_read_total{shard="1",input="tcp"} 9000"#,
            )
            .replace("ztel_devices 7", "ztel_devices 9")
            + "ztel_channel_depth 3\nztel_channel_capacity 64\nztel_build_info{version=\"0.1.0\"} 1\n"
    }

    fn scrape(text: &str, at: Instant) -> Scrape {
        Scrape {
            page: Page::parse(text),
            at,
        }
    }

    #[test]
    fn the_first_scrape_has_totals_and_no_rates() {
        let m = Model::new(None, &scrape(BEFORE, Instant::now()));
        let tcp = &m.inputs[0];
        assert_eq!(tcp.input, "tcp");
        assert_eq!(
            tcp.events,
            Figure {
                total: 150.0,
                rate: None
            }
        );
        assert_eq!(tcp.bytes.total, 15000.0);
        assert_eq!(tcp.refused.total, 1.0);
        assert_eq!(m.inputs[1].input, "udp");
        assert_eq!(m.inputs[1].refused.total, 2.0);
        assert_eq!(m.shards.len(), 2);
        assert_eq!(m.shards[0].events.total, 110.0);
        // Kinds and reasons with nothing counted are left out.
        let kinds: Vec<_> = m.kinds.iter().map(|(k, f)| (k.as_str(), f.total)).collect();
        assert_eq!(kinds, [("zia.web", 149.0), ("zpa.user_activity", 10.0)]);
        assert_eq!(m.records.total, 159.0);
        assert_eq!(m.dead_letters.len(), 1);
        assert_eq!(m.dead_letters[0].0, "unknown_format");
        assert_eq!(m.devices, Some(7.0));
        assert_eq!(m.p50, Some(0.0004));
        assert_eq!(m.p99, Some(0.002));
        assert_eq!(m.channel_depth, None);
        assert_eq!(m.version, None);
    }

    #[test]
    fn rates_are_the_difference_over_the_time_between_scrapes() {
        let t0 = Instant::now();
        let before = scrape(BEFORE, t0);
        let now = scrape(&after(), t0 + Duration::from_secs(2));
        let m = Model::new(Some(&before), &now);
        let tcp = &m.inputs[0];
        // 200 more frames on shard 0 over 2 s.
        assert_eq!(
            tcp.events,
            Figure {
                total: 350.0,
                rate: Some(100.0)
            }
        );
        assert_eq!(tcp.bytes.rate, Some(2000.0));
        assert_eq!(tcp.refused.rate, Some(0.0));
        assert_eq!(m.inputs[1].events.rate, Some(0.0));
        assert_eq!(m.shards[0].events.rate, Some(100.0));
        assert_eq!(m.shards[1].bytes.rate, Some(2000.0));
        assert_eq!(
            m.kinds[0],
            (
                "zia.web".into(),
                Figure {
                    total: 349.0,
                    rate: Some(100.0)
                }
            )
        );
        assert_eq!(m.records.rate, Some(100.0));
        assert_eq!(m.devices, Some(9.0));
        assert_eq!(m.channel_depth, Some(3.0));
        assert_eq!(m.channel_capacity, Some(64.0));
        assert_eq!(m.version.as_deref(), Some("0.1.0"));
    }

    #[test]
    fn a_restarted_collector_counts_from_zero() {
        let t0 = Instant::now();
        let before = scrape(&after(), t0);
        let now = scrape(BEFORE, t0 + Duration::from_secs(1));
        let m = Model::new(Some(&before), &now);
        assert_eq!(m.inputs[0].events.rate, Some(150.0));
    }

    #[test]
    fn pre_summed_shard_all_series_are_not_counted_twice() {
        let page = "ztel_frames_total{shard=\"0\"} 3\nztel_frames_total{shard=\"1\"} 4\n\
                    ztel_frames_total{shard=\"all\"} 7\n";
        let m = Model::new(None, &scrape(page, Instant::now()));
        let shards: Vec<_> = m.shards.iter().map(|s| s.shard.as_str()).collect();
        assert_eq!(shards, ["0", "1"]);
        assert_eq!(m.shards[1].events.total, 4.0);
    }

    #[test]
    fn shards_sort_by_number() {
        let page: String = (0..12)
            .map(|i| format!("ztel_frames_total{{shard=\"{i}\",input=\"tcp\"}} {i}\n"))
            .collect();
        let m = Model::new(None, &scrape(&page, Instant::now()));
        let order: Vec<_> = m.shards.iter().map(|s| s.shard.as_str()).collect();
        assert_eq!(order[..3], ["0", "1", "2"]);
        assert_eq!(order[11], "11");
    }

    #[test]
    fn latency_before_any_record_is_unknown() {
        let page = "ztel_latency_read_to_sink_seconds{quantile=\"0.5\"} 0\n\
                    ztel_latency_read_to_sink_seconds{quantile=\"0.99\"} NaN\n\
                    ztel_latency_read_to_sink_seconds_count 0\n";
        let m = Model::new(None, &scrape(page, Instant::now()));
        assert_eq!((m.p50, m.p99), (None, None));
    }
}
