//! The screen drawn on ratatui's `TestBackend`, read back as text.

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::*;
use crate::cli::top::model::Scrape;
use crate::cli::top::scrape::Page;

/// A page in the new format: one shard and TCP, 300 web records, 2 DNS records, a dead letter.
const PAGE: &str = r#"# TYPE ztel_frames_total counter
ztel_frames_total{shard="0",input="tcp"} 303
ztel_frames_total{shard="1",input="tcp"} 0
ztel_bytes_read_total{shard="0",input="tcp"} 153600
ztel_bytes_read_total{shard="1",input="tcp"} 0
ztel_connections_refused_total{shard="0",input="tcp"} 4
ztel_connections_over_limit_total{shard="0",input="tcp"} 0
ztel_tls_handshake_failures_total{shard="0",input="tcp"} 0
ztel_connections_open{shard="0",input="tcp"} 2
ztel_records_total{shard="0",input="tcp",kind="zia.web"} 300
ztel_records_total{shard="0",input="tcp",kind="zia.dns"} 2
ztel_records_total{shard="0",input="tcp",kind="zpa.audit"} 0
ztel_dead_letters_total{shard="0",input="tcp"} 1
ztel_dead_letters_by_reason_total{shard="0",input="tcp",reason="unknown_format"} 1
ztel_dead_letters_by_reason_total{shard="0",input="tcp",reason="bad_time"} 0
ztel_devices 7
ztel_channel_depth 1
ztel_channel_capacity 64
ztel_latency_read_to_sink_seconds{quantile="0.5"} 0.000431
ztel_latency_read_to_sink_seconds{quantile="0.99"} 0.0021
ztel_latency_read_to_sink_seconds_count 302
ztel_build_info{version="0.1.0"} 1
"#;

fn screen(model: Option<Model>) -> Screen {
    Screen {
        url: "http://127.0.0.1:9514/metrics".into(),
        interval: Duration::from_secs(1),
        model,
        age: Some(Duration::from_millis(300)),
        error: None,
        failures: 0,
    }
}

/// The screen as lines of text.
pub(super) fn render(screen: &Screen, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|f| draw(f, screen)).expect("draws");
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .chunks(usize::from(width))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect()
}

/// The cells after `first` on the line where it starts a table row, split on blanks and borders.
fn row(lines: &[String], first: &str) -> Vec<String> {
    lines
        .iter()
        .find_map(|line| {
            let words: Vec<&str> = line
                .split(|c: char| c == '│' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            let at = words.iter().position(|w| *w == first)?;
            Some(words[at + 1..].iter().map(|w| w.to_string()).collect())
        })
        .unwrap_or_else(|| panic!("no row {first:?} in:\n{}", lines.join("\n")))
}

fn model_after(seconds: u64, grow: u64) -> Model {
    let t0 = Instant::now();
    let before = Scrape {
        page: Page::parse(PAGE),
        at: t0,
    };
    let later = PAGE
        .replace(
            "kind=\"zia.web\"} 300",
            &format!("kind=\"zia.web\"}} {}", 300 + grow),
        )
        .replace(
            "ztel_frames_total{shard=\"0\",input=\"tcp\"} 303",
            &format!(
                "ztel_frames_total{{shard=\"0\",input=\"tcp\"}} {}",
                303 + grow
            ),
        );
    let now = Scrape {
        page: Page::parse(&later),
        at: t0 + Duration::from_secs(seconds),
    };
    Model::new(Some(&before), &now)
}

#[test]
fn the_first_screen_shows_totals_and_no_rates() {
    let model = Model::new(
        None,
        &Scrape {
            page: Page::parse(PAGE),
            at: Instant::now(),
        },
    );
    let lines = render(&screen(Some(model)), 120, 40);
    let text = lines.join("\n");
    assert_eq!(row(&lines, "tcp")[..2], ["…", "303"], "{text}");
    assert_eq!(row(&lines, "zia.web")[..2], ["300", "…"], "{text}");
    assert_eq!(row(&lines, "zia.dns")[..2], ["2", "…"], "{text}");
    assert!(
        !text.contains("zpa.audit"),
        "kinds with no records are left out:\n{text}"
    );
    assert_eq!(row(&lines, "unknown_format")[..2], ["1", "…"], "{text}");
    assert!(!text.contains("bad_time"), "{text}");
    assert!(text.contains("devices 7"), "{text}");
    assert!(text.contains("read→sink p50 431 µs"), "{text}");
    assert!(text.contains("p99 2.10 ms"), "{text}");
    assert!(text.contains("channel 1/64"), "{text}");
    assert!(text.contains("ztel 0.1.0"), "{text}");
    assert!(text.contains("updated 0.3 s ago"), "{text}");
}

#[test]
fn dead_letters_written_as_records_too_have_a_row() {
    let scraped = |page: String| {
        let scrape = Scrape {
            page: Page::parse(&page),
            at: Instant::now(),
        };
        render(&screen(Some(Model::new(None, &scrape))), 120, 40)
    };
    let plain = scraped(PAGE.to_owned()).join("\n");
    assert!(!plain.contains(CONTESTED_ROW), "{plain}");
    let contested = PAGE.replace(
        r#"reason="bad_time"} 0"#,
        "reason=\"bad_time\"} 0\n\
         ztel_dead_letters_by_reason_total{shard=\"0\",input=\"tcp\",reason=\"repeated_key\"} 2\n\
         ztel_contested_frames_total{shard=\"0\",input=\"tcp\"} 2",
    );
    let lines = scraped(contested);
    let text = lines.join("\n");
    assert_eq!(row(&lines, "repeated_key")[..2], ["2", "…"], "{text}");
    assert_eq!(
        row(&lines, "contested:")[..4],
        ["also", "records", "2", "…"],
        "{text}"
    );
}

#[test]
fn rates_appear_with_the_second_scrape() {
    let lines = render(&screen(Some(model_after(2, 100))), 120, 40);
    let text = lines.join("\n");
    // input: events/s, events, bytes/s (two words), bytes (two words), open, refused, refused/s.
    let tcp = row(&lines, "tcp");
    assert_eq!(tcp[..2], ["50", "403"], "{text}");
    assert_eq!(tcp[2..4], ["0", "B/s"], "{text}");
    assert_eq!(tcp[4..6], ["150", "KiB"], "{text}");
    assert_eq!(tcp[6..9], ["2", "4", "0.0"], "{text}");
    assert_eq!(row(&lines, "zia.web")[..2], ["400", "50"], "{text}");
    assert_eq!(row(&lines, "zia.dns")[..2], ["2", "0.0"], "{text}");
    // The shard table: shard 0 grew, shard 1 did not.
    let shard = lines
        .iter()
        .find(|l| l.contains("403") && !l.contains("tcp"))
        .unwrap_or_else(|| panic!("no shard row:\n{text}"));
    assert!(shard.contains(" 50 "), "{shard}");
}

#[test]
fn an_unreachable_endpoint_is_said_and_the_last_figures_kept() {
    let mut s = screen(Some(model_after(1, 0)));
    s.error = Some("cannot connect: Connection refused (os error 111)".into());
    s.failures = 3;
    s.age = Some(Duration::from_secs(4));
    let text = render(&s, 120, 40).join("\n");
    // The status wraps onto a second line rather than lose its end.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "unreachable: cannot connect: Connection refused (os error 111) (failed 3 in a row, \
             retrying every 1 s); showing the scrape of 4 s ago"
        ),
        "{text}"
    );
    assert!(text.contains("zia.web"), "{text}");
}

#[test]
fn before_any_scrape_it_says_it_is_waiting() {
    let mut s = screen(None);
    s.age = None;
    let text = render(&s, 80, 24).join("\n");
    assert!(text.contains("waiting for the first scrape"), "{text}");
    assert!(text.contains("devices -"), "{text}");
    assert!(
        !text.contains("all"),
        "no total before there is one:\n{text}"
    );
}

#[test]
fn a_small_terminal_still_draws() {
    for (w, h) in [(80, 24), (40, 10)] {
        let lines = render(&screen(Some(model_after(1, 5))), w, h);
        assert!(
            lines[0].starts_with("ztel top"),
            "{w}x{h}:\n{}",
            lines.join("\n")
        );
        let text = lines.join("\n");
        assert!(
            text.contains("Collector") && text.contains("devices 7"),
            "{w}x{h}:\n{text}"
        );
    }
    // Too small for anything but the title, or part of it: drawn without a panic.
    let lines = render(&screen(Some(model_after(1, 5))), 10, 3);
    assert!(lines[0].starts_with("ztel top"), "{}", lines.join("\n"));
    render(&screen(Some(model_after(1, 5))), 1, 1);
}

#[test]
fn numbers_read_well() {
    assert_eq!(bytes(0.0), "0 B");
    assert_eq!(bytes(1023.0), "1023 B");
    assert_eq!(bytes(1536.0), "1.50 KiB");
    assert_eq!(bytes(150.0 * 1024.0), "150 KiB");
    assert_eq!(bytes(20.0 * 1024.0 * 1024.0), "20.0 MiB");
    assert_eq!(latency(0.000431), "431 µs");
    assert_eq!(latency(0.0021), "2.10 ms");
    assert_eq!(latency(1.5), "1.50 s");
    assert_eq!(
        rate(Figure {
            total: 1.0,
            rate: None
        }),
        "…"
    );
    assert_eq!(
        rate(Figure {
            total: 1.0,
            rate: Some(2.24)
        }),
        "2.2"
    );
    assert_eq!(
        rate(Figure {
            total: 1.0,
            rate: Some(1234.4)
        }),
        "1234"
    );
    assert_eq!(count(10000.0), "10000");
}
