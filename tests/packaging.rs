//! The files the Debian package installs, checked from the source tree (packaging/check.sh
//! builds and installs the package itself, as root): the config passes `ztel config check` and
//! runs the defaults but for its data dir, and systemd accepts the unit as written.

mod common;

use std::path::Path;
use std::process::Command;

use common::{run_ztel, TempDir};
use ztel::config::Config;

fn packaging(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn packaged_config_passes_check_and_keeps_the_defaults() {
    let path = packaging("ztel.toml");
    let (status, out, err) = run_ztel(&["config", "check", &path]);
    assert!(status.success(), "config check failed: {err}");
    assert_eq!(out, format!("{path}: ok\n"));
    assert_eq!(err, "", "no warnings");
    // What the comments promise: the defaults, kept in /var/lib/ztel (the unit's
    // StateDirectory). A default that changes reaches the package without an edit here.
    let config = Config::load(Path::new(&path)).expect("the packaged config loads");
    let expected = Config {
        data_dir: "/var/lib/ztel".into(),
        ..Config::default()
    };
    assert_eq!(config, expected);
}

#[test]
fn systemd_accepts_the_unit() {
    let unit = std::fs::read_to_string(packaging("ztel.service")).expect("read the unit");
    let exec = "ExecStart=/usr/bin/ztel serve --config /etc/ztel/ztel.toml";
    assert!(unit.lines().any(|l| l == exec), "{exec} is in the unit");
    let probe = Command::new("systemd-analyze").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing in CI: test.sh installs it"
        );
        eprintln!("skipped: systemd-analyze is not installed here");
        return;
    }
    // verify wants ExecStart's program to exist: the binary under test stands in for
    // /usr/bin/ztel, the rest of the unit is verified as shipped. (packaging/check.sh verifies
    // the installed unit unchanged.)
    let dir = TempDir::new("unit");
    let copy = dir.write(
        "ztel.service",
        &unit.replace(
            "/usr/bin/ztel ",
            &format!("{} ", env!("CARGO_BIN_EXE_ztel")),
        ),
    );
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("run systemd-analyze verify");
    // verify exits 0 on unknown keys and bad values, which it only reports: any word from it
    // is a failure.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.is_empty(), "{said}");
}
