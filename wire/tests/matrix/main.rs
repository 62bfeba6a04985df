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
mod json;
mod kv;
mod leef;
mod zpa;

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
