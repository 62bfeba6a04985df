//! The screen of `ztel top`, drawn from a [`Screen`] and nothing else, so that a test can draw
//! it on ratatui's `TestBackend` and read the numbers back.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::model::{Figure, Model};

/// What is shown: the endpoint, the last model, and how the scrapes are going.
#[derive(Debug, Clone)]
pub struct Screen {
    /// `http://ADDR/metrics`, as the operator would curl it.
    pub url: String,
    pub interval: Duration,
    /// From the last scrape that worked; kept on screen while the endpoint is away.
    pub model: Option<Model>,
    /// How long ago `model`'s scrape arrived.
    pub age: Option<Duration>,
    /// Why the last scrape failed, if it did.
    pub error: Option<String>,
    /// Scrapes that failed in a row.
    pub failures: u32,
}

/// What a rate shows before there are two scrapes to take it from.
pub const NO_RATE_YET: &str = "…";

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, screen: &Screen) {
    let empty = Model::default();
    let model = screen.model.as_ref().unwrap_or(&empty);
    let [title, status, summary, inputs, shards, bottom] = Layout::vertical([
        Constraint::Length(1),
        // Two lines: an error can be long, and it is the one thing that must be read whole.
        Constraint::Length(2),
        Constraint::Length(3),
        Constraint::Length(model.inputs.len() as u16 + 3),
        Constraint::Length(model.shards.len() as u16 + 3),
        Constraint::Min(0),
    ])
    .areas(frame.area());
    frame.render_widget(title_line(screen, model), title);
    frame.render_widget(
        Paragraph::new(status_line(screen)).wrap(Wrap { trim: true }),
        status,
    );
    frame.render_widget(summary_block(model), summary);
    frame.render_widget(inputs_table(model), inputs);
    frame.render_widget(shards_table(model), shards);
    let [kinds, dead] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    // Before the first scrape there is no total to show, not a total of 0.
    let all = |f: Figure| screen.model.is_some().then_some(f);
    draw_counts(
        frame,
        kinds,
        "Records by kind",
        ["kind", "records"],
        &model.kinds,
        all(model.records),
    );
    draw_counts(
        frame,
        dead,
        "Dead letters by reason",
        ["reason", "dead letters"],
        &model.dead_letters,
        all(model.dead_total),
    );
}

fn title_line<'a>(screen: &'a Screen, model: &'a Model) -> Line<'a> {
    let mut spans = vec![
        Span::styled("ztel top", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("  {}", screen.url)),
    ];
    if let Some(v) = &model.version {
        spans.push(Span::raw(format!("  ztel {v}")));
    }
    spans.push(Span::raw(format!(
        "  every {}  ",
        seconds_text(screen.interval)
    )));
    spans.push(Span::styled("q quits", Style::new().fg(Color::DarkGray)));
    Line::from(spans)
}

/// How the scrapes are going: one line, red while the endpoint cannot be read.
fn status_line(screen: &Screen) -> Line<'static> {
    let every = seconds_text(screen.interval);
    if let Some(error) = &screen.error {
        let shown = match screen.age {
            Some(age) => format!("; showing the scrape of {} ago", seconds_text(age)),
            None => String::new(),
        };
        let text = format!(
            "unreachable: {error} (failed {} in a row, retrying every {every}){shown}",
            screen.failures
        );
        return Line::styled(
            text,
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
    }
    let mut text = match screen.age {
        Some(age) => format!("updated {} ago", seconds_text(age)),
        None => "waiting for the first scrape".to_owned(),
    };
    if let Some(m) = &screen.model {
        if m.unreadable > 0 {
            text.push_str(&format!(
                "; {} lines of the page not understood",
                m.unreadable
            ));
        }
    }
    Line::styled(text, Style::new().fg(Color::DarkGray))
}

/// The one-line figures: devices, latency, the channel to the aggregator.
fn summary_block(model: &Model) -> Paragraph<'static> {
    let opt = |v: Option<f64>, f: fn(f64) -> String| v.map_or_else(|| "-".to_owned(), f);
    let channel = match (model.channel_depth, model.channel_capacity) {
        (Some(d), Some(c)) => format!("{}/{}", count(d), count(c)),
        (Some(d), None) => count(d),
        _ => "-".to_owned(),
    };
    let pairs = [
        ("devices", opt(model.devices, count)),
        ("read→sink p50", opt(model.p50, latency)),
        ("p99", opt(model.p99, latency)),
        ("channel", channel),
    ];
    let mut spans = Vec::new();
    for (label, value) in pairs {
        spans.push(Span::styled(
            format!("{label} "),
            Style::new().fg(Color::DarkGray),
        ));
        spans.push(Span::styled(
            format!("{value}   "),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    }
    Paragraph::new(Line::from(spans)).block(Block::bordered().title(" Collector "))
}

fn inputs_table(model: &Model) -> Table<'static> {
    let rows = model.inputs.iter().map(|i| {
        Row::new([
            Cell::new(i.input.clone()),
            num(rate(i.events)),
            num(count(i.events.total)),
            num(bytes_rate(i.bytes)),
            num(bytes(i.bytes.total)),
            num(i.open.map_or_else(|| "-".to_owned(), count)),
            alarm(i.refused.total, count(i.refused.total)),
            num(rate(i.refused)),
            alarm(i.over_limit.total, count(i.over_limit.total)),
            alarm(i.tls_failures.total, count(i.tls_failures.total)),
        ])
    });
    let header = [
        "input",
        "events/s",
        "events",
        "bytes/s",
        "bytes",
        "open",
        "refused",
        "refused/s",
        "over limit",
        "TLS failed",
    ];
    let widths = [6, 10, 12, 12, 11, 6, 8, 10, 10, 10].map(Constraint::Length);
    table(" Inputs ", &header, widths.to_vec(), rows.collect())
}

fn shards_table(model: &Model) -> Table<'static> {
    let rows = model.shards.iter().map(|s| {
        Row::new([
            Cell::new(s.shard.clone()),
            num(rate(s.events)),
            num(count(s.events.total)),
            num(bytes_rate(s.bytes)),
            num(bytes(s.bytes.total)),
        ])
    });
    let header = ["shard", "events/s", "events", "bytes/s", "bytes"];
    let widths = [6, 10, 12, 12, 11].map(Constraint::Length);
    table(" Shards ", &header, widths.to_vec(), rows.collect())
}

/// A table of counters by one label, with a last row for them all.
fn draw_counts(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    [label, what]: [&str; 2],
    rows: &[(String, Figure)],
    all: Option<Figure>,
) {
    let mut body: Vec<Row> = rows
        .iter()
        .map(|(key, f)| Row::new([Cell::new(key.clone()), num(count(f.total)), num(rate(*f))]))
        .collect();
    if let Some(all) = all {
        body.push(
            Row::new([Cell::new("all"), num(count(all.total)), num(rate(all))])
                .style(Style::new().add_modifier(Modifier::BOLD)),
        );
    }
    let header = [label, what, "/s"];
    let widths = vec![
        Constraint::Length(26),
        Constraint::Length(12),
        Constraint::Length(10),
    ];
    frame.render_widget(table(&format!(" {title} "), &header, widths, body), area);
}

fn table<'a>(
    title: &str,
    header: &[&str],
    widths: Vec<Constraint>,
    rows: Vec<Row<'a>>,
) -> Table<'a> {
    let header = Row::new(header.iter().enumerate().map(|(i, h)| {
        let line = if i == 0 {
            Line::from(h.to_string())
        } else {
            Line::from(h.to_string()).right_aligned()
        };
        Cell::new(line)
    }))
    .style(Style::new().add_modifier(Modifier::BOLD));
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(Block::bordered().title(title.to_owned()))
}

/// A number, right-aligned as numbers are read.
fn num(text: String) -> Cell<'static> {
    Cell::new(Line::from(text).right_aligned())
}

/// A count that should be zero: yellow when it is not.
fn alarm(value: f64, text: String) -> Cell<'static> {
    let style = if value > 0.0 {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Cell::new(Line::from(text).right_aligned()).style(style)
}

/// A count as digits: totals are whole numbers, and an operator compares them digit by digit.
pub fn count(v: f64) -> String {
    format!("{v:.0}")
}

/// Events per second: a decimal below 10, whole above, `…` before there is a rate.
pub fn rate(f: Figure) -> String {
    match f.rate {
        None => NO_RATE_YET.to_owned(),
        Some(r) if r < 10.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.0}"),
    }
}

fn bytes_rate(f: Figure) -> String {
    f.rate
        .map_or_else(|| NO_RATE_YET.to_owned(), |r| format!("{}/s", bytes(r)))
}

/// Bytes in binary units, three significant figures at most.
pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = v;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{v:.0} B"),
        _ if v < 10.0 => format!("{v:.2} {}", UNITS[unit]),
        _ if v < 100.0 => format!("{v:.1} {}", UNITS[unit]),
        _ => format!("{v:.0} {}", UNITS[unit]),
    }
}

/// A latency in seconds, in the unit that suits it.
pub fn latency(secs: f64) -> String {
    if secs < 1e-3 {
        format!("{:.0} µs", secs * 1e6)
    } else if secs < 1.0 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{secs:.2} s")
    }
}

fn seconds_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 && s.fract() != 0.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests;
