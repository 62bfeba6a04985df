//! Every cell behind the headers and static text that senders and relays write besides the
//! canonical ones: an RFC 3164 day without its padding, a space after the PRI, a syslog tag with
//! no header before it (or after one that is not read as a header), and more relays than a few.
//! Each reads as the same record as behind the canonical spelling, or bare, time included.

use crate::*;

/// What a frame made: its records and why any line was refused.
fn outcome(frame: &str) -> (Vec<Value>, Vec<Reason>) {
    let out = run(ZONE, &[frame.as_bytes()]);
    (out.records, out.dead.into_iter().map(|(r, _)| r).collect())
}

/// Every frame of ZIA's rows and ZPA's JSON, LSS's CSV and TSV lines, and LSS's LEEF.
fn every_frame() -> Vec<(String, &'static str)> {
    let mut frames: Vec<(String, &'static str)> = every_row()
        .iter()
        .flatten()
        .map(|c| {
            (
                format!("{} {}", c.kind, &c.frame[..c.frame.len().min(24)]),
                c.frame,
            )
        })
        .collect();
    for (name, frame) in zpa::ZPA_POSITIONAL {
        frames.push((name.to_string(), frame));
    }
    frames.push(("zpa leef".into(), zpa::XSIAM_ZPA_USER_ACTIVITY));
    frames
}

/// Frames whose outcome differs from the one `want` gives, each with its prefix.
fn differing(prefixes: &[&str], want: impl Fn(&str) -> String) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, frame) in every_frame() {
        let expected = outcome(&want(frame));
        for prefix in prefixes {
            let got = outcome(&format!("{prefix}{frame}"));
            if got != expected {
                wrong.push(format!(
                    "{name} behind {prefix:?}:\n  {got:?}\n  want {expected:?}"
                ));
            }
        }
    }
    wrong
}

/// `<134>Nov 2 10:15:01 …` (some relays and hand-written senders) and `<134> Nov 12 …`: the
/// record is the one behind the canonical header, the header's time included when the record
/// has none of its own. Before, neither was a header: records took the arrival time, and CSV's
/// first field held the header.
#[test]
fn every_cell_reads_the_same_behind_an_unpadded_day_or_a_space_after_the_pri() {
    let canonical = "<134>Nov  2 10:15:01 nss-host zscaler-nss: ";
    let wrong = differing(
        &[
            "<134>Nov 2 10:15:01 nss-host zscaler-nss: ",
            "<134> Nov  2 10:15:01 nss-host zscaler-nss: ",
            "<134> Nov 2 10:15:01 nss-host zscaler-nss: ",
            "Nov 2 10:15:01 nss-host zscaler-nss: ",
            "<13>Nov 22 10:15:05 relay1 <134>Nov 2 10:15:01 nss-host zscaler-nss: ",
        ],
        |frame| format!("{canonical}{frame}"),
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let canonical = "<134>Nov 12 10:15:01 host tag: ";
    let wrong = differing(&["<134> Nov 12 10:15:01 host tag: "], |frame| {
        format!("{canonical}{frame}")
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A syslog tag before the feed's line, with no header or after a PRI, or after a header that
/// is not read as one (the month-day-year stamp of some devices, the `date` stamp of Sumo's LEEF
/// sample): the record is the bare frame's, time included. Before, a key=value line took the
/// arrival time and a CSV line's first field held the tag (a `bad_time` dead letter).
#[test]
fn every_cell_reads_the_same_behind_a_syslog_tag() {
    let wrong = differing(
        &[
            "zscaler-nss: ",
            "zscaler-nss[123]: ",
            "<134>zscaler-nss: ",
            "<134>Nov 22 2025 10:15:01 zscaler-nss nss: ",
            "Mon Oct 02 16:21:40 UTC 2017 zscaler-nss: ",
        ],
        str::to_owned,
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A chain of relays of any length: the record is the one the sender's header alone gives, its
/// time the sender's. Before, the fifth header and those after it were the record's text.
#[test]
fn every_cell_reads_the_same_behind_many_relays() {
    let sender = "<134>Nov 22 10:15:01 zscaler-nss ";
    let relays: Vec<String> = [5, 8]
        .iter()
        .map(|n| "<13>Nov 22 10:15:05 relay1 ".repeat(*n) + sender)
        .collect();
    let prefixes: Vec<&str> = relays.iter().map(String::as_str).collect();
    let wrong = differing(&prefixes, |frame| format!("{sender}{frame}"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Static text before a record may hold braces of its own (`ZSCALER {web}: `), never a record:
/// two records glued on one line behind text were read as the second alone, the first passed
/// over as text with no dead letter (found by a tester). They are one malformed frame now.
#[test]
fn static_text_holds_braces_but_never_a_record() {
    let frames: Vec<&str> = every_row()
        .iter()
        .flatten()
        .map(|c| c.frame)
        .filter(|f| f.starts_with('{'))
        .take(2)
        .collect();
    let [one, two] = frames[..] else {
        panic!("two JSON frames: {frames:?}");
    };
    let (alone, refused) = outcome(two);
    assert!(alone.len() == 1 && refused.is_empty(), "{refused:?}");
    // Braces, quotes and words in the text are no record (quoted words were taken for one, and
    // the record behind them refused, in a differential run).
    for text in [
        "ZSCALER {web}: ",
        "ZSCALER {\"web\"}: ",
        "x {\" ",
        "zscaler {\"nss\" feed} ",
        "t { \"a\" } ",
        "t {\"a\\\":\"} ",
    ] {
        let got = outcome(&format!("{text}{two}"));
        assert_eq!(got, (alone.clone(), vec![]), "{text}");
    }
    for glued in [
        format!("x {one} {two}"),
        format!("ZSCALER {{web}}: {one} {two}"),
    ] {
        assert_eq!(
            outcome(&glued),
            (vec![], vec![Reason::MalformedJson]),
            "{glued}"
        );
    }
}
