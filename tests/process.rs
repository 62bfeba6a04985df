//! What `ztel serve` sets up for its own process before it takes traffic, and how it refuses to
//! start: one clear line on stderr that names what is wrong (a port in use, a data_dir file, a
//! config key), and `config check` opening the files `serve` would.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{
    close_and_wait, run_ztel, serve_on_loopback, wait_for, wait_for_lines, zia_line, Ca, Collector,
    Options, TempDir,
};

const SMALL_FRAMES: &str = "[limits]\nmax_frame_bytes = 4096\n";

#[test]
fn serve_runs_without_transparent_huge_pages() {
    // Each first touch of a fresh huge page zeroed 2 MiB, which took about half of the
    // aggregator and a quarter of a shard (perf/README.md "Where the time goes").
    let mut collector = Collector::start_with(
        "no-thp",
        Options {
            binary: true,
            ..Options::default()
        },
    );
    assert_eq!(collector.proc_status("THP_enabled"), "0");
    collector.stop();
}

#[test]
fn port_in_use_is_one_clear_line() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap().to_string();
    let dir = TempDir::new("port-in-use");
    let data = dir.path().join("data");
    let (status, _, stderr) = run_ztel(&[
        "serve",
        "--tcp",
        &addr,
        "--udp",
        "",
        "--admin",
        "",
        "--shards",
        "1",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        !status.success(),
        "ztel served on a port in use; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("ztel: error:"), "{stderr:?}");
    assert!(
        lines[0].contains(&addr),
        "the error names {addr}: {stderr:?}"
    );
    drop(holder);
}

/// True when `text` names `key` as a key of its own, not as the prefix of a longer one.
fn names_key(text: &str, key: &str) -> bool {
    text.match_indices(key).any(|(at, _)| {
        let after = text[at + key.len()..].chars().next();
        let before = text[..at].chars().next_back();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !part(after) && !part(before)
    })
}

#[test]
fn a_data_dir_file_that_cannot_be_opened_is_named_in_one_line() {
    // The duplicate window's list (dedup.pending) is opened behind dedup.window: its own name
    // must be in the message, not only the window's.
    let dir = TempDir::new("pending");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("dedup.pending")).unwrap();
    let (status, _, stderr) = serve_on_loopback(&data, &[]);
    assert!(!status.success(), "served; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(
        lines[0].starts_with("ztel: error:") && lines[0].contains("dedup.pending: Is a directory"),
        "{stderr:?}"
    );
}

#[test]
fn bad_config_is_one_clear_line() {
    let dir = TempDir::new("config");
    let bad = dir.write("bad.toml", "[limits]\nmax_frame = 5\n");
    let bad = bad.to_str().unwrap();
    let data = dir.path().join("data");

    let (status, stdout, stderr) = serve_on_loopback(&data, &["--config", bad]);
    assert!(
        !status.success(),
        "served with a bad config; stderr: {stderr}"
    );
    assert!(stdout.is_empty(), "{stdout:?}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("ztel: error:"), "{stderr:?}");
    assert!(
        names_key(lines[0], "max_frame"),
        "names max_frame: {stderr:?}"
    );

    let (status, _, stderr) = run_ztel(&["config", "check", bad]);
    assert!(!status.success());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr:?}");
    assert!(lines[0].starts_with("ztel: error:") && names_key(lines[0], "max_frame"));

    let good = dir.write("good.toml", SMALL_FRAMES);
    let (status, stdout, stderr) = run_ztel(&["config", "check", good.to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout:?}");

    let (status, default, stderr) = run_ztel(&["config", "default"]);
    assert!(status.success(), "{stderr}");
    assert!(default.contains("max_frame_bytes"), "{default}");
    let default = dir.write("default.toml", &default);
    let (status, stdout, stderr) = run_ztel(&["config", "check", default.to_str().unwrap()]);
    assert!(
        status.success(),
        "the default config does not pass its own check: {stderr}"
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout:?}");
}

#[test]
fn config_check_opens_the_files_serve_would_and_says_what_is_wrong() {
    // Issue 15: `config check` passed a config whose certificate did not exist, which `serve`
    // then refused; `--tls` without a certificate started with no TLS listener and no word.
    let dir = TempDir::new("config-files");
    let missing = dir.path().join("missing.pem");
    let toml = format!(
        "[input.tls]\ncert = {:?}\nkey = {:?}\n",
        missing.display().to_string(),
        missing.display().to_string()
    );
    let bad = dir.write("missing-cert.toml", &toml);
    let (status, _, stderr) = run_ztel(&["config", "check", bad.to_str().unwrap()]);
    assert!(!status.success(), "a missing certificate passed the check");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.starts_with("ztel: error: input.tls.cert "),
        "{stderr:?}"
    );
    assert!(stderr.contains("missing.pem"), "{stderr:?}");

    let warned = dir.write(
        "warned.toml",
        "[input.http]\naddress = \"127.0.0.1:0\"\nplain = true\nkeys = [\"k\"]\n",
    );
    let (status, stdout, stderr) = run_ztel(&["config", "check", warned.to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout:?}");
    assert!(
        stderr.starts_with("ztel: warning: input.http: plain HTTP with keys"),
        "{stderr:?}"
    );

    // Asked in-process: were it accepted, `serve` would run until stopped.
    let args = ["--tls".to_owned(), "127.0.0.1:0".to_owned()];
    let err = ztel::cli::config_from_args(&args).expect_err("TLS without a certificate");
    assert!(err.starts_with("--tls: needs input.tls.cert"), "{err}");
}

#[test]
fn config_check_refuses_what_serve_would_refuse_at_its_start() {
    // A tester's configs passed the check and then stopped `serve`: NATS credentials that are
    // missing or no credentials file, and a records path that is a directory.
    let dir = TempDir::new("config-check-start");
    let junk = dir.write("junk.creds", "not credentials\n");
    let missing = dir.path().join("missing.creds");
    let folder = dir.path().join("records.d");
    std::fs::create_dir(&folder).expect("a directory");
    let open = dir.path().join("open.d");
    std::fs::create_dir(&open).expect("a directory");
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod");
    let cases = [
        (
            format!(
                "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\ncreds = {:?}\n",
                missing.display().to_string()
            ),
            "ztel: error: output.nats.creds: ",
            "missing.creds",
        ),
        (
            format!(
                "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\ncreds = {:?}\n",
                junk.display().to_string()
            ),
            "ztel: error: output.nats.creds: ",
            "junk.creds",
        ),
        (
            format!(
                "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\ntls_ca = {:?}\n",
                missing.display().to_string()
            ),
            "ztel: error: output.nats.tls_ca: ",
            "missing.creds",
        ),
        // A CA file with no certificate in it passed, and `serve` then failed every connection
        // with rustls's `UnknownIssuer`, naming no file (found by a tester).
        (
            format!(
                "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\ntls_ca = {:?}\n",
                junk.display().to_string()
            ),
            "ztel: error: output.nats.tls_ca: ",
            "junk.creds: no PEM certificate in the file",
        ),
        (
            format!("[output]\nrecords = {:?}\n", folder.display().to_string()),
            "ztel: error: output.records: ",
            "is a directory",
        ),
        // A data_dir every user may write in, which `serve` refuses.
        (
            format!("data_dir = {:?}\n", open.display().to_string()),
            "ztel: error: data_dir ",
            "every user may write in it (mode 777)",
        ),
    ];
    // A key that is not the certificate's, named as such (rustls: "keys may not be
    // consistent: KeyMismatch", naming no file).
    let ca = Ca::new("ztel test");
    let (cert, _) = ca.leaf("localhost", &["localhost"]);
    let (_, other_key) = ca.leaf("other", &["other"]);
    // A good certificate and a second one cut short: the check counted only what parsed, and
    // `serve` refused the file (`MissingSectionEnd`).
    let cut = dir.write(
        "cut-ca.pem",
        &format!("{cert}-----BEGIN CERTIFICATE-----\nMIIB\n"),
    );
    let cert = dir.write("cert.pem", &cert);
    let other_key = dir.write("other-key.pem", &other_key);
    let mut cases = cases.to_vec();
    cases.push((
        format!(
            "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\ntls_ca = {:?}\n",
            cut.display().to_string()
        ),
        "ztel: error: output.nats.tls_ca: ",
        "cut-ca.pem",
    ));
    cases.push((
        format!(
            "[input.tls]\ncert = {:?}\nkey = {:?}\n",
            cert.display().to_string(),
            other_key.display().to_string()
        ),
        "ztel: error: input.tls.key ",
        "is not the key of the certificate in",
    ));
    // PEM whose certificate is not DER: rustls said "input.tls: invalid peer certificate:
    // BadEncoding", naming no file, and it is no peer's (found by a tester).
    let garbage = dir.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n",
    );
    let (_, key) = ca.leaf("localhost", &["localhost"]);
    let key = dir.write("key.pem", &key);
    cases.push((
        format!(
            "[input.tls]\ncert = {:?}\nkey = {:?}\n",
            garbage.display().to_string(),
            key.display().to_string()
        ),
        "ztel: error: input.tls.cert ",
        "garbage.pem: is not a certificate (BadEncoding)",
    ));
    cases.push((
        format!(
            "[input.tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
            cert.display().to_string(),
            key.display().to_string(),
            garbage.display().to_string()
        ),
        "ztel: error: input.tls.client_ca ",
        "garbage.pem: is not a certificate (BadEncoding)",
    ));
    for (i, (toml, starts, names)) in cases.iter().enumerate() {
        let file = dir.write(&format!("case-{i}.toml"), toml);
        let (status, _, stderr) = run_ztel(&["config", "check", file.to_str().unwrap()]);
        assert!(!status.success(), "{toml} passed the check");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(stderr.starts_with(starts), "{stderr:?}");
        assert!(stderr.contains(names), "{stderr:?}");
    }
}

#[test]
fn config_check_refuses_tcp_and_tls_on_one_port() {
    // Both passed the check and `serve` bound both: the kernel split the port's connections
    // between them, and a plain sender that landed on the TLS listener lost its records.
    let dir = TempDir::new("config-shared-port");
    let (cert, key) = Ca::new("ztel test").leaf("localhost", &["localhost"]);
    let cert = dir.write("server.pem", &cert);
    let key = dir.write("server.key", &key);
    let toml = format!(
        "[input.tcp]\naddress = \"127.0.0.1:15140\"\n\
         [input.tls]\naddress = \"127.0.0.1:15140\"\ncert = {:?}\nkey = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    );
    let file = dir.write("shared-port.toml", &toml);
    let (status, stdout, stderr) = run_ztel(&["config", "check", file.to_str().unwrap()]);
    assert!(!status.success(), "the check passed: {stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.starts_with("ztel: error: input.tls.address: "),
        "{stderr:?}"
    );
}

#[test]
fn healthz_says_ok_only_once_every_input_listens() {
    // A load balancer sends traffic at the first 200: the inputs must take it by then (a tester
    // saw 200 about 60 ms before the TCP input accepted, the admin server starting first).
    // Ports held until ztel binds them (it sets SO_REUSEADDR, as the holder does): released,
    // another test could take them first.
    let ((_tcp_held, tcp), (_admin_held, admin)) = (common::hold_port(0), common::hold_port(0));
    let dir = TempDir::new("healthz-start");
    let mut child = common::ztel()
        .args(["serve", "--udp", "", "--shards", "2"])
        .args(["--tcp", &tcp.to_string(), "--admin", &admin.to_string()])
        .arg("--data-dir")
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn ztel serve");
    let healthz = || -> Option<u16> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(admin).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok()?;
        s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.split(' ').nth(1)?.parse().ok()
    };
    let ok = common::wait_for(std::time::Duration::from_secs(20), || {
        (healthz() == Some(200)).then_some(())
    });
    let input = std::net::TcpStream::connect(tcp);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert!(ok.is_some(), "/healthz never said 200");
    assert!(
        input.is_ok(),
        "/healthz said 200 while the TCP input refused: {input:?}"
    );
}

#[test]
fn accepts_out_of_descriptors_are_counted_said_once_a_second_and_recover() {
    // A shell's low RLIMIT_NOFILE: accepts failed a hundred times a second, each a log line,
    // and no counter said so.
    let collector = Collector::start_with(
        "nofile",
        Options {
            binary: true,
            nofile: Some(128),
            ..Options::default()
        },
    );
    let warned = collector.stderr_text();
    assert!(warned.contains("RLIMIT_NOFILE is 128"), "{warned}");
    // More connections than descriptors: the last ones wait in the listen backlog.
    let held: Vec<TcpStream> = (0..200).map(|_| collector.connect()).collect();
    let again = wait_for(Duration::from_secs(20), || {
        let text = collector.stderr_text();
        let failed: Vec<&str> = text.lines().filter(|l| l.contains("accept")).collect();
        // Said by the next failure's line (`… (and 41 more since the last line)`), or, when the
        // shard's once-a-second sweep of held counts comes first, by a line of its own (`41 more
        // accepts failed since the last line`): which one wins the second is timing (a CI run
        // under load saw only the second form, and this waited in vain).
        let held_back = failed.iter().any(|l| l.contains("since the last line"));
        held_back.then_some(failed.len())
    });
    let said = again.expect("the failed accepts were never said again with a count");
    assert!(
        said <= 3,
        "{said} lines about failed accepts in about a second"
    );
    for stream in held {
        drop(stream);
    }
    // Descriptors free again: a new connection is served.
    let mut sender = collector.connect();
    sender
        .write_all(format!("{}\n", zia_line(1, "after")).as_bytes())
        .unwrap();
    close_and_wait(sender);
    wait_for_lines(&collector.data_dir().join("connections.jsonl"), 1);
    let outcome = collector.stop();
    assert!(
        outcome.counter("accept_failures") >= 10,
        "{:?}",
        outcome.counters
    );
    assert_eq!(outcome.records.len(), 1);
}

#[test]
fn config_check_takes_a_data_dir_another_user_owns() {
    // The packaged unit's data_dir belongs to the user systemd makes for it at each start: root
    // checking the config before an upgrade must not be refused for that (`serve` run by hand as
    // root would be).
    // SAFETY: geteuid has no failure and no side effect.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the tests as root"
        );
        return;
    }
    let dir = TempDir::new("config-check-owner");
    let data = dir.path().join("state");
    std::fs::create_dir(&data).expect("a directory");
    std::os::unix::fs::chown(&data, Some(65534), Some(65534)).expect("chown");
    let config = dir.write(
        "c.toml",
        &format!("data_dir = {:?}\n", data.display().to_string()),
    );
    let (status, stdout, stderr) = run_ztel(&["config", "check", config.to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout:?}");
}
