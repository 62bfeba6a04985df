//! Every public sample of the corpus (`tests/corpus`, provenance in its SOURCES.md) against its
//! golden file, checked by hand: each line becomes a record of the kind its file name says, in the
//! order its kind's schema fixes. A file's name says its log type and its format:
//! `<source>-<zia|zpa>-<type>[-…]-<format>.log`.

mod common;

use std::path::Path;

use common::{check_golden, corpus, describe, lines, run, CORPUS};
use wire::reason::Reason;

/// The log types, as file names spell them, and their record kind. Longer names first, so that
/// `saas-security-activity` is not taken for `saas-security`.
const KINDS: &[(&str, &str)] = &[
    ("zia-web", "zia.web"),
    ("zia-firewall", "zia.firewall"),
    ("zia-dns", "zia.dns"),
    ("zia-tunnel", "zia.tunnel"),
    ("zia-audit", "zia.audit"),
    ("zia-saas-security-activity", "zia.saas_activity"),
    ("zia-saas-security", "zia.saas"),
    ("zpa-user-activity", "zpa.user_activity"),
    ("zpa-user-status", "zpa.user_status"),
    ("zpa-browser-access", "zpa.browser_access"),
    ("zpa-app-connector-status", "zpa.app_connector_status"),
    ("zpa-audit", "zpa.audit"),
    ("zpa-app-protection", "zpa.app_protection"),
];

/// The feed formats whose samples are decoded; a file of another format is a test failure.
const FORMATS: &[&str] = &[
    "json",
    "nss-tcp",
    "cloudnss-json",
    "kv",
    "csv",
    "leef",
    "cef",
];

/// The zone the corpus's feeds wrote their times in.
const ZONE: &str = "UTC";

/// The kind a corpus file's name says.
fn kind_of(name: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(type_name, _)| name.contains(type_name))
        .map(|(_, kind)| *kind)
        .unwrap_or_else(|| panic!("{name}: no log type in the name"))
}

/// Whether a corpus file's format is one the decoder reads: ZPA samples are all LSS JSON.
fn decoded(name: &str) -> bool {
    let stem = name.trim_end_matches(".log");
    name.contains("-zpa-") || FORMATS.iter().any(|f| stem.ends_with(f))
}

#[test]
fn every_sample_becomes_a_record_of_its_kind_as_its_golden_file_says() {
    let mut files = 0;
    let mut records = 0;
    for entry in std::fs::read_dir(Path::new(CORPUS)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".log")
            || name.ends_with("-malformed.log")
            || name.contains("-unmapped-")
            || !decoded(&name)
        {
            continue;
        }
        let input = corpus(&name);
        let run = run(ZONE, &lines(&input));
        assert!(
            run.dead.is_empty(),
            "{name}: dead letters {}",
            describe(&run.dead)
        );
        let kind = kind_of(&name);
        for record in &run.records {
            assert_eq!(record["kind"], kind, "{name}");
        }
        check_golden(&name, ZONE);
        files += 1;
        records += run.records.len();
    }
    assert!(
        files >= 30 && records >= 60,
        "{files} files, {records} records"
    );
}

#[test]
fn samples_that_are_not_json_as_published_are_dead_letters() {
    for entry in std::fs::read_dir(Path::new(CORPUS)).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with("-malformed.log") {
            continue;
        }
        let input = corpus(&name);
        let run = run(ZONE, &lines(&input));
        assert!(run.records.is_empty(), "{name}: {:?}", run.records);
        assert!(!run.dead.is_empty(), "{name}");
    }
}

#[test]
fn samples_of_log_types_without_a_record_are_dead_letters_never_records_of_another_kind() {
    // ZIA Email and Endpoint DLP, NSS alerts, ZPA metrics and the status of service edges and
    // cloud controllers: each line is a dead letter, a JSON one `unknown_type` (a CSV row whose
    // count an order has but whose values fit none is `field_count`, as a broken row is). An
    // Endpoint DLP CSV row (fourteen columns, like Admin Audit's) was an audit record of
    // invented values, and the ZPA status lines were App Connector Status records without
    // their names.
    let mut files = 0;
    for entry in std::fs::read_dir(Path::new(CORPUS)).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".log") || !name.contains("-unmapped-") {
            continue;
        }
        let input = corpus(&name);
        let run = run(ZONE, &lines(&input));
        assert!(run.records.is_empty(), "{name}: {:?}", run.records);
        assert_eq!(run.dead.len(), lines(&input).len(), "{name}");
        if name.ends_with("json.log") {
            for (reason, _) in &run.dead {
                assert_eq!(*reason, Reason::UnknownType, "{name}");
            }
        }
        files += 1;
    }
    assert!(files >= 10, "{files} files");
}

#[test]
fn an_endpoint_dlp_event_without_its_envelope_is_no_saas_record() {
    // Without the sourcetype, the file keys it shares with SaaS Security made it a `zia.saas`
    // record; keys of its own say what it is.
    let input = corpus("elastic-zia-unmapped-endpoint-dlp-json.log");
    let line = lines(&input).into_iter().next().expect("a line");
    let whole: serde_json::Value = serde_json::from_slice(line).expect("JSON");
    let event = whole["event"].to_string();
    let run = run(ZONE, &[event.as_bytes()]);
    assert!(run.records.is_empty(), "{:?}", run.records);
    assert_eq!(run.dead.len(), 1);
    assert_eq!(run.dead[0].0, Reason::UnknownType);
}
