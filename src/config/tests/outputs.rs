//! The outputs' paths: none is another's, ztel's own state, a directory, or under a file.

use super::*;

#[test]
fn records_and_devices_are_not_both_stdout() {
    // Both "-" passed, and device events were mixed into the record stream on stdout.
    let msg = Config::from_toml("[output]\nrecords = \"-\"\ndevices = \"-\"\n")
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("output.records: "), "{msg}");
    assert!(
        msg.contains("output.devices") && !msg.contains('\n'),
        "{msg}"
    );
    // One of them on stdout is fine; the latency log's "-" is a file of that name.
    for text in [
        "[output]\nrecords = \"-\"\n",
        "[output]\ndevices = \"-\"\n",
        "[output]\nrecords = \"-\"\n[histograms]\nlog = \"-\"\n",
    ] {
        if let Err(e) = Config::from_toml(text) {
            panic!("{text:?} was refused: {e}");
        }
    }
}

#[test]
fn two_outputs_are_never_one_file_by_another_name() {
    // `records = "sub/../x.jsonl"` beside `devices = "x.jsonl"`, or a link to it, passed, and
    // the two outputs' lines mixed in one file (found by a tester).
    let dir = std::env::temp_dir().join(format!("ztel-config-same-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("x.jsonl"), b"").unwrap();
    let _ = std::fs::remove_file(dir.join("link.jsonl"));
    std::os::unix::fs::symlink(dir.join("x.jsonl"), dir.join("link.jsonl")).unwrap();
    for (records, devices) in [
        ("sub/../x.jsonl", "x.jsonl"),
        ("link.jsonl", "x.jsonl"),
        ("sub/../new.jsonl", "new.jsonl"),
    ] {
        let toml = format!(
            "data_dir = {:?}\n[output]\nrecords = {records:?}\ndevices = {devices:?}\n",
            dir.display().to_string()
        );
        let msg = Config::from_toml(&toml).unwrap_err().to_string();
        assert_eq!(
            msg, "output.records: must not be the file of output.devices",
            "{toml}"
        );
    }
    let apart = format!(
        "data_dir = {:?}\n[output]\nrecords = \"sub/x.jsonl\"\ndevices = \"x.jsonl\"\n",
        dir.display().to_string()
    );
    assert!(Config::from_toml(&apart).is_ok(), "{apart}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_output_is_ztels_own_state() {
    // `records = "devices.redb"` passed `config check`; serve then appended records to the
    // registry's database and cut it at the next start as a torn line, and
    // `records = "dedup.window"` lost both the records and the window.
    for key in ["output.records", "output.devices", "histograms.log"] {
        let (section, name) = key.split_once('.').unwrap();
        for path in [
            "devices.redb",
            "./devices.redb",
            "devices.redb.opening",
            "dedup.window",
            "dedup.pending",
            "attribution.table",
            "attribution.table.tmp",
            "nats-spool/head",
            "spill-records-1700000000.jsonl",
            "/var/lib/ztel/dedup.window",
        ] {
            let text = format!("data_dir = \"/var/lib/ztel\"\n[{section}]\n{name} = {path:?}\n");
            let msg = Config::from_toml(&text).unwrap_err().to_string();
            assert!(
                msg.starts_with(&format!("{key}: must not be ztel's own ")),
                "{text:?}: {msg}"
            );
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
    // Files of those names elsewhere are anyone's.
    let text = "data_dir = \"/var/lib/ztel\"\n[output]\nrecords = \"/srv/dedup.window\"\n";
    if let Err(e) = Config::from_toml(text) {
        panic!("{text:?} was refused: {e}");
    }
}

#[test]
fn output_paths_name_a_file() {
    // `histograms.log = ""` passed the check and ran without a latency log; "." passed for
    // every output and failed only when opened.
    for key in ["output.records", "output.devices", "histograms.log"] {
        let (section, name) = key.split_once('.').unwrap();
        for path in ["", ".", "..", "/", "logs/", "logs/.", "/var/lib/ztel/.."] {
            let text = format!("[{section}]\n{name} = {path:?}\n");
            let msg = Config::from_toml(&text).unwrap_err().to_string();
            assert!(msg.starts_with(&format!("{key}: ")), "{text:?} gave {msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        for path in ["x.jsonl", "logs/x.jsonl", "/var/log/ztel/x", "./x", ".x"] {
            let text = format!("[{section}]\n{name} = {path:?}\n");
            if let Err(e) = Config::from_toml(&text) {
                panic!("{text:?} was refused: {e}");
            }
        }
    }
}

#[test]
fn config_check_reads_the_nats_url_as_serve_does() {
    // A URL that `serve` refuses passed `config check`, which only looked whether it was empty.
    for url in [
        "nats://u:s3cret%zz@h",
        "nats://u:p@a,nats://u:q@b",
        "nats://ztel:Xq7,Zk9@h",
        "http://h",
    ] {
        let text = format!("[output.nats]\nurl = \"{url}\"\n");
        let msg = Config::from_toml(&text).unwrap_err().to_string();
        assert!(msg.starts_with("output.nats.url: "), "{url} gave {msg}");
        assert!(!msg.contains("s3cret") && !msg.contains("Xq7"), "{msg}");
    }
    let c = Config::from_toml("[output.nats]\nurl = \"nats://u:p%2Cq@a:4222, nats://b\"\n")
        .expect("a list with one user and an encoded ','");
    // Nor does a config printed for debugging show the password.
    let debug = format!("{c:?}");
    assert!(
        debug.contains("nats://u:***@a:4222") && !debug.contains("p%2Cq"),
        "{debug}"
    );
}

#[test]
fn a_data_dir_or_an_output_under_a_file_is_refused() {
    // `config check` said ok, and serve failed with "File exists", naming no culprit.
    let dir = std::env::temp_dir().join(format!("ztel-config-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("afile");
    std::fs::write(&file, b"").unwrap();
    let under = |key: &str, toml: String| {
        let msg = Config::from_toml(&toml).unwrap_err().to_string();
        let want = format!("{key}: {} is a file, not a directory", file.display());
        assert_eq!(msg, want, "{toml}");
    };
    under("data_dir", format!("data_dir = {:?}\n", file));
    under(
        "data_dir",
        format!("data_dir = {:?}\n", file.join("deeper")),
    );
    let toml = format!("[output]\nrecords = {:?}\n", file.join("x.jsonl"));
    under("output.records", toml);
    // A directory, or one that can be made: fine.
    let made = format!("data_dir = {:?}\n", dir.join("new/deeper"));
    assert!(Config::from_toml(&made).is_ok(), "{made}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Regression (output files audit): `records = "dead-letter"` passed, and rotated to
/// `dead-letter-<time>.jsonl` as the dead-letter file does: the dead letters' "keep the newest
/// four" removed 91,156 of 100,000 records' files.
#[test]
fn two_outputs_never_share_their_rotated_names() {
    let dir = std::env::temp_dir().join(format!("ztel-config-family-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.display().to_string();
    let toml = format!("data_dir = {data_dir:?}\n[output]\nrecords = \"dead-letter\"\n");
    assert_eq!(
        Config::from_toml(&toml).unwrap_err().to_string(),
        "output.records: its rotated files would be named as those of the dead-letter file (and \
         removed with them): give it another name"
    );
    let toml =
        format!("data_dir = {data_dir:?}\n[output]\nrecords = \"x.jsonl\"\ndevices = \"x\"\n");
    assert!(Config::from_toml(&toml).is_err(), "{toml}");
    let apart =
        format!("data_dir = {data_dir:?}\n[output]\nrecords = \"x.json\"\ndevices = \"x\"\n");
    assert!(Config::from_toml(&apart).is_ok(), "{apart}");
    std::fs::remove_dir_all(&dir).unwrap();
}
