//! Issue 11's table of log type × feed format: for every ZIA log type, one realistic frame in each
//! format ztel reads (JSON, LEEF, CEF, key=value, positional CSV), and for every ZPA log type its
//! LSS JSON frame, each decoded to a record of its kind with values that identify it.
//!
//! Frames follow what real feeds send: Zscaler's own preset for that SIEM and log type where one
//! exists (each row names its source), else the log type's NSS variable names written in the
//! format's syntax (said so where it is done). Every cell decodes and keeps the values its frame
//! carries. ZPA's CSV and TSV templates read as their JSON does; an audit line stripped of its
//! static prefix is a dead letter, never another type's record. LSS has no
//! LEEF, CEF or key=value preset; the published custom LEEF templates (IBM QRadar's User Status
//! sample, Cortex XSIAM's User Activity, App Connector Status and Audit) are read.

mod cef;
#[path = "../common/mod.rs"]
mod common;
mod csv;
mod headers;
mod json;
mod kv;
mod leef;
mod zpa;
mod zpa_epoch;

use common::run;
use serde_json::Value;
use wire::event::Reason;

/// The zone NSS feeds write their times in.
const ZONE: &str = "UTC";

/// The ZIA log types, in the order, as the tables below name them.
const ZIA_TYPES: [&str; 7] = [
    "web",
    "firewall",
    "dns",
    "tunnel",
    "audit",
    "saas",
    "saas_activity",
];

/// One cell of the table: a log type, a frame of it, and what its record must say.
struct Cell {
    log_type: &'static str,
    frame: &'static str,
    kind: &'static str,
    want: Vec<(&'static str, Value)>,
}

fn cell(
    log_type: &'static str,
    kind: &'static str,
    frame: &'static str,
    want: &[(&'static str, Value)],
) -> Cell {
    Cell {
        log_type,
        frame,
        kind,
        want: want.to_vec(),
    }
}

/// What is wrong with the record a cell's frame makes, if anything.
fn mismatch(cell: &Cell) -> Option<String> {
    let out = run(ZONE, &[cell.frame.as_bytes()]);
    if let Some((reason, _)) = out.dead.first() {
        return Some(format!("{}: dead letter {reason:?}", cell.log_type));
    }
    let record = &out.records[0];
    let mut wrong = Vec::new();
    if record["kind"] != cell.kind {
        wrong.push(format!("kind {} (want {})", record["kind"], cell.kind));
    }
    for (key, value) in &cell.want {
        if record[*key] != *value {
            wrong.push(format!("{key} {} (want {value})", record[*key]));
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {}\n  {record}", cell.log_type, wrong.join(", ")))
}

/// Decodes every cell of a format's row and fails with all the mismatches at once.
fn check(format: &str, cells: &[Cell]) {
    let wrong: Vec<String> = cells.iter().filter_map(mismatch).collect();
    assert!(wrong.is_empty(), "{format}:\n{}", wrong.join("\n"));
}

/// A format's row has one cell per ZIA log type.
fn covers_zia(cells: &[Cell]) {
    let mut types: Vec<&str> = cells.iter().map(|c| c.log_type).collect();
    types.sort_unstable();
    let mut all = ZIA_TYPES.to_vec();
    all.sort_unstable();
    assert_eq!(types, all);
}

/// Every cell of every row, forwarded by a relay: behind an RFC 3164 header, an RFC 5424 one,
/// and the RFC 3339 stamp in RFC 3164's place that rsyslog's `RSYSLOG_ForwardFormat` and
/// syslog-ng's `ts-format(iso)` write, each frame decodes to the record it makes bare, its time
/// aside: a record without one takes the header's, the same instant in both RFC 3339 headers.
#[test]
fn every_cell_reads_the_same_behind_a_relays_header() {
    const RELAYS: [&str; 3] = [
        "<134>Nov 22 10:15:01 relay01 zscaler-nss: ",
        "<134>1 2025-11-22T10:15:01.003+01:00 relay01 zscaler-nss - - - ",
        "<134>2025-11-22T10:15:01.003+01:00 relay01 zscaler-nss: ",
    ];
    let rows = every_row();
    let without_time = |mut records: Vec<Value>| {
        let times: Vec<Value> = records.iter_mut().map(|r| r["ts"].take()).collect();
        (records, times)
    };
    let mut wrong = Vec::new();
    for cell in rows.iter().flatten() {
        let (bare, _) = without_time(run(ZONE, &[cell.frame.as_bytes()]).records);
        let mut times = Vec::new();
        for relay in RELAYS {
            let frame = format!("{relay}{}", cell.frame);
            let out = run(ZONE, &[frame.as_bytes()]);
            let dead = &out.dead;
            let (records, ts) = without_time(out.records);
            if records != bare {
                wrong.push(format!(
                    "{} behind {relay:?}: {records:?} {dead:?}",
                    cell.log_type
                ));
            }
            times.push(ts);
        }
        if times[1] != times[2] {
            wrong.push(format!(
                "{}: times {:?} and {:?}",
                cell.log_type, times[1], times[2]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every cell of every row behind two or three headers: a relay that forwards the sender's line
/// as its message puts its own header before the sender's (a black-box test found ZIA's CSV a
/// `bad_time` dead letter then). Each frame decodes to the record it makes behind the sender's
/// header alone, time included: a record without a time of its own takes the sender's, not the
/// relay's.
#[test]
fn every_cell_reads_the_same_behind_stacked_headers() {
    const SENDER: &str = "<134>Nov 22 10:15:01 zscaler-nss ";
    const RELAYS: [&str; 3] = [
        "<134>Nov 22 10:15:05 relay1 ",
        "<134>1 2026-11-22T10:15:05Z relay1 - - - - ",
        "<134>1 2026-11-22T10:15:07Z relay2 - - - - <134>Nov 22 10:15:05 relay1 relay: ",
    ];
    let rows = every_row();
    let mut wrong = Vec::new();
    let mut senders_time = 0;
    for cell in rows.iter().flatten() {
        let direct = run(ZONE, &[format!("{SENDER}{}", cell.frame).as_bytes()]);
        let bare = run(ZONE, &[cell.frame.as_bytes()]);
        if direct.records.first().map(|r| &r["ts"]) != bare.records.first().map(|r| &r["ts"]) {
            // The cell has no time of its own: it took the sender's.
            assert_eq!(
                direct.records[0]["ts"], "2026-11-22T10:15:01Z",
                "{}",
                cell.frame
            );
            senders_time += 1;
        }
        for relay in RELAYS {
            let frame = format!("{relay}{SENDER}{}", cell.frame);
            let out = run(ZONE, &[frame.as_bytes()]);
            if out.records != direct.records || out.dead != direct.dead {
                wrong.push(format!(
                    "{} behind {relay:?}: {:?} {:?}",
                    cell.log_type, out.records, out.dead
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(senders_time > 0, "no cell without a time of its own");
}

/// Every format's row of cells, ZIA's and ZPA's JSON.
fn every_row() -> [Vec<Cell>; 6] {
    [
        csv::csv_cells(),
        json::json_cells(),
        kv::kv_cells(),
        leef::leef_cells(),
        cef::cef_cells(),
        zpa::zpa_json_cells(),
    ]
}
