//! The screen of `ztel top`, drawn from a [`Screen`] and nothing else, so that a test can draw
//! it on ratatui's `TestBackend` and read the numbers back.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::fit::{self, Column, Grid};
use super::model::{Figure, InputRow, Model};

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
    let [title, status, summary, rest] = Layout::vertical([
        Constraint::Length(1),
        // Two lines: an error can be long, and it is the one thing that must be read whole.
        Constraint::Length(2),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .areas(frame.area());
    // Before the first scrape there is no total to show, not a total of 0.
    let all = |f: Figure| screen.model.is_some().then_some(f);
    // A contested frame is a dead letter and a record both: a row of its own says how many,
    // so that the two tables' totals are not read as frames apart.
    let mut dead_rows = model.dead_letters.clone();
    if model.contested.total > 0.0 {
        dead_rows.push((CONTESTED_ROW.to_owned(), model.contested));
    }
    let bottom_rows = model.kinds.len().max(dead_rows.len()) + 1;
    let [inputs, shards, bottom] = heights(
        rest.height,
        [model.inputs.len(), model.shards.len(), bottom_rows]
            .map(|rows| u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3)),
    );
    let [inputs, shards, bottom] =
        Layout::vertical([inputs, shards, bottom].map(Constraint::Length)).areas(rest);
    frame.render_widget(title_line(screen, model, title.width), title);
    let mut status_text = status_line(screen);
    if bottom.height == 0 {
        status_text.push_span(Span::raw(
            "; records and dead letters hidden (too few lines)",
        ));
    }
    frame.render_widget(
        Paragraph::new(status_text).wrap(Wrap { trim: true }),
        status,
    );
    frame.render_widget(summary_block(model, summary.width), summary);
    fit::draw_grid(frame, inputs, inputs_grid(model));
    fit::draw_grid(frame, shards, shards_grid(model));
    let [kinds, dead] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    let counts = |title: &str, label, what, rows: &[(String, Figure)], all: Option<Figure>| {
        counts_grid(title, [label, what], rows, all)
    };
    let kinds_grid = counts(
        "Records by kind",
        "kind",
        "records",
        &model.kinds,
        all(model.records),
    );
    fit::draw_grid(frame, kinds, kinds_grid);
    let dead_grid = counts(
        "Dead letters by reason",
        "reason",
        "dead letters",
        &dead_rows,
        all(model.dead_total),
    );
    fit::draw_grid(frame, dead, dead_grid);
}

/// The dead-letter row of frames that were written as records too.
pub const CONTESTED_ROW: &str = "contested: also records";

/// The heights of the three tables in `room` lines, each wanting its rows, header and borders:
/// first each gets up to one row's worth (so that a short terminal shows every table and says
/// what it hides), then the rest goes to them in order.
fn heights(room: u16, wants: [u16; 3]) -> [u16; 3] {
    const ONE_ROW: u16 = 4;
    let mut left = room;
    let mut got = [0u16; 3];
    for (g, w) in got.iter_mut().zip(wants) {
        *g = w.min(ONE_ROW).min(left);
        left -= *g;
    }
    for (g, w) in got.iter_mut().zip(wants) {
        let more = (w - *g).min(left);
        *g += more;
        left -= more;
    }
    // The records and dead letters take whatever is left over, as before.
    got[2] += left;
    got
}

/// The title, its pieces left out whole from the right when the line is short.
fn title_line(screen: &Screen, model: &Model, room: u16) -> Line<'static> {
    let mut pieces = vec![
        vec![Span::styled(
            "ztel top",
            Style::new().add_modifier(Modifier::BOLD),
        )],
        vec![Span::raw(format!("  {}", screen.url))],
    ];
    if let Some(v) = &model.version {
        pieces.push(vec![Span::raw(format!("  ztel {v}"))]);
    }
    pieces.push(vec![Span::raw(format!(
        "  every {}",
        seconds_text(screen.interval)
    ))]);
    pieces.push(vec![Span::styled(
        "  q quits",
        Style::new().fg(Color::DarkGray),
    )]);
    fit::fit_line(pieces, room)
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

/// The one-line figures: devices, latency, the channel to the aggregator; a pair that does not
/// fit is left out whole.
fn summary_block(model: &Model, width: u16) -> Paragraph<'static> {
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
    let pieces = pairs
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let gap = if i == 0 { "" } else { "   " };
            vec![
                Span::styled(format!("{gap}{label} "), Style::new().fg(Color::DarkGray)),
                Span::styled(value, Style::new().add_modifier(Modifier::BOLD)),
            ]
        })
        .collect();
    let line = fit::fit_line(pieces, width.saturating_sub(2));
    Paragraph::new(line).block(Block::bordered().title(" Collector "))
}

/// How long a column stays when the terminal is narrow: higher stays longer.
const KEEP_RATE: u8 = 9;
const KEEP_TOTAL: u8 = 8;
const KEEP_BYTES_RATE: u8 = 6;
const KEEP_BYTES: u8 = 5;
/// A count that should be zero: kept before the rest when it is not.
fn keep_alarm(values: impl IntoIterator<Item = f64>, quiet: u8) -> u8 {
    if values.into_iter().any(|v| v > 0.0) {
        7
    } else {
        quiet
    }
}

fn column(header: &'static str, keep: u8) -> Column {
    Column { header, keep }
}

fn inputs_grid(model: &Model) -> Grid {
    let rows = model
        .inputs
        .iter()
        .map(|i| {
            vec![
                plain(i.input.clone()),
                plain(rate(i.events)),
                plain(count(i.events.total)),
                plain(bytes_rate(i.bytes)),
                plain(bytes(i.bytes.total)),
                plain(i.open.map_or_else(|| "-".to_owned(), count)),
                alarm(i.refused.total, count(i.refused.total)),
                plain(rate(i.refused)),
                alarm(i.over_limit.total, count(i.over_limit.total)),
                alarm(i.tls_failures.total, count(i.tls_failures.total)),
            ]
        })
        .collect();
    let totals = |f: fn(&InputRow) -> f64| model.inputs.iter().map(f).collect::<Vec<_>>();
    let columns = vec![
        column("input", u8::MAX),
        column("events/s", KEEP_RATE),
        column("events", KEEP_TOTAL),
        column("bytes/s", KEEP_BYTES_RATE),
        column("bytes", KEEP_BYTES),
        column("open", 4),
        column("refused", keep_alarm(totals(|i| i.refused.total), 3)),
        column("refused/s", 1),
        column("over limit", keep_alarm(totals(|i| i.over_limit.total), 2)),
        column(
            "TLS failed",
            keep_alarm(totals(|i| i.tls_failures.total), 2),
        ),
    ];
    Grid {
        title: "Inputs".into(),
        columns,
        elide: true,
        rows,
        total: None,
    }
}

fn shards_grid(model: &Model) -> Grid {
    let rows = model
        .shards
        .iter()
        .map(|s| {
            vec![
                plain(s.shard.clone()),
                plain(rate(s.events)),
                plain(count(s.events.total)),
                plain(bytes_rate(s.bytes)),
                plain(bytes(s.bytes.total)),
            ]
        })
        .collect();
    let columns = vec![
        column("shard", u8::MAX),
        column("events/s", KEEP_RATE),
        column("events", KEEP_TOTAL),
        column("bytes/s", KEEP_BYTES_RATE),
        column("bytes", KEEP_BYTES),
    ];
    // Shard numbers are numbers: never shortened.
    Grid {
        title: "Shards".into(),
        columns,
        elide: false,
        rows,
        total: None,
    }
}

/// A table of counters by one label, with a last row for them all.
fn counts_grid(
    title: &str,
    [label, what]: [&'static str; 2],
    rows: &[(String, Figure)],
    all: Option<Figure>,
) -> Grid {
    let row = |key: String, f: Figure| vec![plain(key), plain(count(f.total)), plain(rate(f))];
    Grid {
        title: title.to_owned(),
        columns: vec![
            column(label, u8::MAX),
            column(what, KEEP_TOTAL),
            column("/s", KEEP_RATE),
        ],
        elide: true,
        rows: rows.iter().map(|(k, f)| row(k.clone(), *f)).collect(),
        total: all.map(|all| row("all".to_owned(), all)),
    }
}

fn plain(text: String) -> fit::Text {
    (text, Style::new())
}

/// A count that should be zero: yellow when it is not.
fn alarm(value: f64, text: String) -> fit::Text {
    let style = if value > 0.0 {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    (text, style)
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
mod narrow;
#[cfg(test)]
mod tests;
