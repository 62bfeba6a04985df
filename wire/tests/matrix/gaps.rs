//! Gaps: frames that decode to a record of the right kind that misses or mangles a value its
//! frame carries. Each is ignored with its reason and asserts what the record should say;
//! `cargo test --test matrix -- --ignored` shows them fail.

use crate::*;
use serde_json::json;

#[test]
#[ignore = "gap: IBM's ZPA LEEF template writes %s{LogTimestamp:time} in the syslog header \
            (`<166>Tue Apr 20 22:23:25 2021 host`), which the header reader does not take apart \
            (a ctime stamp with weekday and year), and LSS events do not fall back to the \
            header's time: ts is the time received"]
fn gap_qradar_zpa_leef_time_in_the_syslog_header() {
    let cell = cell(
        "user_status",
        "zpa.user_status",
        zpa::QRADAR_ZPA_USER_STATUS,
        &[("ts", json!("2021-04-20T22:23:25Z"))],
    );
    check("ZPA LEEF", &[cell]);
}
