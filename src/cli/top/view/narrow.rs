//! The screen at the sizes terminals have, with figures as long as a busy collector's: whatever
//! does not fit is left out whole and said to be, and no number ever shows with digits missing.

use std::collections::HashSet;

use super::tests::render;
use super::*;
use crate::cli::top::model::{InputRow, ShardRow};

/// A figure with a rate.
fn fig(total: f64, rate: f64) -> Figure {
    Figure {
        total,
        rate: Some(rate),
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// A busy collector: three inputs, four shards, long kind names, big totals.
fn busy() -> Model {
    let input = |name: &str, events: f64, bytes: f64, refused: f64| InputRow {
        input: name.into(),
        events: fig(events, 12_345.6),
        bytes: fig(bytes, 3.21 * MIB),
        open: Some(1_234.0),
        refused: fig(refused, 0.5),
        over_limit: fig(17.0, 0.0),
        tls_failures: fig(0.0, 0.0),
    };
    let shard = |n: usize| ShardRow {
        shard: n.to_string(),
        events: fig(24_691_358.0 + n as f64, 3_086.4),
        bytes: fig(33.6 * MIB, 0.8 * MIB),
    };
    let kinds: Vec<(String, Figure)> = [
        ("zia.web", 87_654_321.0),
        ("zpa.user_activity", 9_876_543.0),
        ("zpa.app_connector_status", 4_321.0),
        ("zia.firewall", 765_432.0),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), fig(n, 987.6)))
    .collect();
    let dead = vec![
        ("unknown_format".to_owned(), fig(6_543.0, 1.5)),
        ("bad_time".to_owned(), fig(321.0, 0.0)),
    ];
    Model {
        version: Some("0.1.0".into()),
        inputs: vec![
            input("tcp", 98_765_432.0, 128.4 * MIB, 4_321.0),
            input("udp", 8_765_432.0, 11.7 * MIB, 54_321.0),
            input("http", 765_432.0, 1.23 * 1024.0 * MIB, 0.0),
        ],
        shards: (0..4).map(shard).collect(),
        records: fig(98_300_617.0, 3_950.4),
        kinds,
        dead_total: fig(6_864.0, 1.5),
        contested: fig(12.0, 0.5),
        dead_letters: dead,
        devices: Some(123_456.0),
        p50: Some(0.000431),
        p99: Some(0.0021),
        channel_depth: Some(1_000.0),
        channel_capacity: Some(65_536.0),
        unreadable: 0,
    }
}

fn screen_of(model: Model) -> Screen {
    Screen {
        url: "http://127.0.0.1:9514/metrics".into(),
        interval: std::time::Duration::from_secs(1),
        model: Some(model),
        age: Some(std::time::Duration::from_millis(300)),
        error: None,
        failures: 0,
    }
}

/// Every word the screen may show whole: the figures in every form they are written, the labels,
/// and the words of the titles, headers and notes.
fn whole_words(model: &Model) -> HashSet<String> {
    let mut words = HashSet::new();
    let mut add = |text: &str| {
        for w in text.split_whitespace() {
            words.insert(w.to_owned());
        }
    };
    let mut figures: Vec<Figure> = vec![model.records, model.dead_total, model.contested];
    for i in &model.inputs {
        add(&i.input);
        figures.extend([i.events, i.bytes, i.refused, i.over_limit, i.tls_failures]);
        add(&count(i.open.unwrap_or(0.0)));
    }
    for s in &model.shards {
        add(&s.shard);
        figures.extend([s.events, s.bytes]);
    }
    for (label, f) in model.kinds.iter().chain(&model.dead_letters) {
        add(label);
        figures.push(*f);
    }
    for f in figures {
        add(&count(f.total));
        add(&rate(f));
        add(&bytes(f.total));
        add(&bytes_rate(f));
    }
    for v in [model.devices, model.channel_capacity, model.channel_depth] {
        add(&count(v.unwrap_or(0.0)));
    }
    add(&latency(model.p50.unwrap_or(0.0)));
    add(&latency(model.p99.unwrap_or(0.0)));
    add(&format!(
        "{}/{}",
        count(model.channel_depth.unwrap_or(0.0)),
        count(model.channel_capacity.unwrap_or(0.0))
    ));
    add("ztel top http://127.0.0.1:9514/metrics ztel 0.1.0 every 1 s q quits updated 0.3 s ago");
    add("Collector devices read→sink p50 p99 channel Inputs Shards Records by kind Dead letters");
    add("by reason input events/s events bytes/s bytes open refused refused/s over limit TLS");
    add("failed shard kind records dead letters /s all ─ ┌ ┐ └ ┘ ( ) , …");
    add("ago; records and dead letters hidden too few lines");
    add(CONTESTED_ROW);
    words
}

/// The words of a screen line: blanks and vertical borders split them.
fn words_of(line: &str) -> Vec<&str> {
    line.split(|c: char| c == '│' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Asserts that every word on the screen is a whole one, or an elided label (a label's start
/// and `…`), or part of a note that says what is hidden.
fn assert_whole(lines: &[String], model: &Model, size: (u16, u16)) {
    let whole = whole_words(model);
    // Labels, and the words of the titles (a title is shortened when it does not fit).
    let titles = "Records by kind Dead letters by reason Inputs Shards Collector";
    let labels: Vec<&str> = model
        .kinds
        .iter()
        .chain(&model.dead_letters)
        .map(|(k, _)| k.as_str())
        .chain([CONTESTED_ROW])
        .chain(titles.split(' '))
        .collect();
    let text = lines.join("\n");
    for line in lines {
        // Border lines carry titles: their words are split off the box-drawing runs.
        let line = line.replace(['─', '┌', '┐', '└', '┘'], " ");
        let words = words_of(&line);
        for (i, word) in words.iter().enumerate() {
            let word = word.trim_matches(|c| c == '(' || c == ')' || c == ',');
            let next = words.get(i + 1).copied().unwrap_or_default();
            if word.is_empty() || whole.contains(word) || hidden_note(word, next) {
                continue;
            }
            let elided = word
                .strip_suffix('…')
                .is_some_and(|start| labels.iter().any(|l| l.starts_with(start)));
            assert!(elided, "{size:?}: {word:?} is cut:\n{text}");
        }
    }
}

/// Whether `word` (followed by `next`) is part of a note that says what is hidden: "(2 rows, 3
/// columns hidden)".
fn hidden_note(word: &str, next: &str) -> bool {
    let counted = |w: &str| w.starts_with("row") || w.starts_with("column");
    word == "hidden" || counted(word) || (word.parse::<u32>().is_ok() && counted(next))
}

/// How many rows the block titled `title` says it hides (0 when it says nothing).
fn hidden_rows(lines: &[String], title: &str) -> usize {
    let Some(line) = lines.iter().find(|l| l.contains(title)) else {
        return 0;
    };
    let after = &line[line.find(title).unwrap_or(0) + title.len()..];
    let note = after.split(')').next().unwrap_or_default();
    note.split(" row")
        .next()
        .and_then(|n| n.rsplit(['(', ' ']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn every_number_shown_is_whole_at_any_size() {
    let model = busy();
    let screen = screen_of(model.clone());
    for size in [
        (80, 24),
        (60, 16),
        (100, 30),
        (120, 40),
        (200, 60),
        (50, 40),
        (40, 12),
    ] {
        let lines = render(&screen, size.0, size.1);
        assert_whole(&lines, &model, size);
    }
}

#[test]
fn rows_left_out_are_said() {
    let model = busy();
    let screen = screen_of(model.clone());
    for size in [(80, 24), (60, 16), (100, 20), (200, 60)] {
        let lines = render(&screen, size.0, size.1);
        let text = lines.join("\n");
        let shown = ["tcp", "udp", "http"]
            .iter()
            .filter(|input| lines.iter().any(|l| words_of(l).first() == Some(input)))
            .count();
        assert_eq!(
            shown + hidden_rows(&lines, "Inputs"),
            3,
            "{size:?}: inputs shown and said hidden:\n{text}"
        );
    }
}

#[test]
fn a_wide_terminal_shows_everything() {
    let model = busy();
    let lines = render(&screen_of(model.clone()), 200, 60);
    let text = lines.join("\n");
    assert!(!text.contains("hidden"), "{text}");
    for (kind, _) in model.kinds.iter().chain(&model.dead_letters) {
        assert!(text.contains(kind.as_str()), "{kind}:\n{text}");
    }
    assert!(text.contains(CONTESTED_ROW), "{text}");
    let tcp = words_of(lines.iter().find(|l| l.contains("tcp")).expect("a tcp row"))[1..].join(" ");
    assert_eq!(
        tcp, "12346 98765432 3.21 MiB/s 128 MiB 1234 4321 0.5 17 0",
        "{text}"
    );
}

#[test]
fn long_labels_are_elided_with_a_mark() {
    let model = busy();
    // Half of 50 columns for the records: less than zpa.app_connector_status and its figures.
    let lines = render(&screen_of(model.clone()), 50, 40);
    let text = lines.join("\n");
    let long = "zpa.app_connector_status";
    let elided = lines.iter().flat_map(|l| words_of(l)).any(|w| {
        w.strip_suffix('…')
            .is_some_and(|start| start.len() >= 3 && long.starts_with(start))
    });
    assert!(elided, "{long} is not shown shortened with …:\n{text}");
    for line in &lines {
        for word in words_of(line) {
            for (kind, _) in &model.kinds {
                let cut = word != kind && kind.starts_with(word) && word.len() > 4;
                assert!(!cut, "{word:?} is {kind} cut without a mark:\n{text}");
            }
        }
    }
}
