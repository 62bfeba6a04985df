//! LSS JSON whose times are JSON numbers: a custom template can write `%d{LogTimestamp:epoch}`
//! (Cortex XSIAM's LEEF template writes `devTime=%s{LogTimestamp:epoch}`), and re-emitters turn
//! times into epoch milliseconds. No sample of the corpus sends numbers, so only what such a
//! number can mean is read: epoch seconds (up to ten digits) or milliseconds (thirteen), as the
//! same digits in a string already are. Before, a number in a time field was no time at all,
//! and the record took another one (its header's, or when it arrived).

use crate::*;
use jiff::tz::TimeZone;
use serde_json::json;

/// The frame with each time string of a time key (`LogTimestamp`, `Timestamp…`, `…Time`)
/// written as a number: epoch seconds for `LogTimestamp` (a whole-second ctime), milliseconds
/// for the others. Strings that are no time (`""`, `"0"`) stay as they are.
fn with_numeric_times(frame: &str) -> String {
    let mut out = String::new();
    let mut rest = frame;
    while let Some(colon) = rest.find("\":") {
        let key_start = rest[..colon].rfind('"').map_or(0, |q| q + 1);
        let key = &rest[key_start..colon];
        let after = colon + 2;
        let value_at = after + rest[after..].len() - rest[after..].trim_start().len();
        out.push_str(&rest[..value_at]);
        rest = &rest[value_at..];
        let timed = key == "LogTimestamp" || key.starts_with("Timestamp") || key.ends_with("Time");
        let Some(quoted) = rest.strip_prefix('"').filter(|_| timed) else {
            continue;
        };
        let Some(close) = quoted.find('"') else {
            continue;
        };
        let Some(ts) = wire::time::parse_time(&quoted[..close], &TimeZone::UTC) else {
            continue;
        };
        let number = if key == "LogTimestamp" {
            ts.as_second()
        } else {
            ts.as_millisecond()
        };
        out.push_str(&number.to_string());
        rest = &quoted[close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_zpa_json_cell_reads_the_same_with_its_times_as_epoch_numbers() {
    let mut wrong = Vec::new();
    for cell in zpa::zpa_json_cells() {
        let numeric = with_numeric_times(cell.frame);
        assert_ne!(
            numeric, cell.frame,
            "{}: no time made a number",
            cell.log_type
        );
        let want = run(ZONE, &[cell.frame.as_bytes()]);
        let got = run(ZONE, &[numeric.as_bytes()]);
        if got.records != want.records || !got.dead.is_empty() {
            wrong.push(format!(
                "{}: {:?} {:?}\n  want {:?}",
                cell.log_type, got.records, got.dead, want.records
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn an_epoch_number_is_seconds_or_milliseconds_and_zero_is_absent() {
    let activity = |extra: &[(&str, Value)]| {
        let mut v: Value = serde_json::from_str(&common::lss(&[])).expect("JSON");
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        v.to_string()
    };
    let r = common::one(
        ZONE,
        &activity(&[
            ("LogTimestamp", json!(1562130745)),
            ("TimestampConnectionStart", json!(1562130744123u64)),
            ("TimestampConnectionEnd", json!(1562130745.5)),
        ]),
    );
    assert_eq!(r["ts"], "2019-07-03T05:12:24.123Z", "{r}");
    assert_eq!(r["end"], "2019-07-03T05:12:25.500Z", "{r}");
    // 0 is how templates say "not yet": absent, as "0" is.
    let r = common::one(ZONE, &activity(&[("TimestampConnectionEnd", json!(0))]));
    assert!(r.get("end").is_none(), "{r}");
    // A number that is neither seconds nor milliseconds is no time: a dead letter, as the
    // same digits in a string are, never a record dated when it arrived.
    for bad in [json!(-5), json!(123456789012u64), json!(1e300)] {
        let line = activity(&[("TimestampConnectionStart", bad.clone())]);
        let out = run(ZONE, &[line.as_bytes()]);
        let reasons: Vec<Reason> = out.dead.iter().map(|(r, _)| *r).collect();
        assert_eq!(reasons, [Reason::BadTime], "{bad}: {:?}", out.records);
    }
}
