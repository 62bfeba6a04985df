//! `ztel top` as an operator sees it: the real binary in a real terminal (tmux), reading a real
//! collector's `/metrics` after a known load, then quitting on `q` or Ctrl-C with the terminal
//! given back. Every wait is a bounded poll of the pane.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{lss, run_ztel, wait_for, zia_line, Collector, Options, TempDir};
use serde_json::json;

/// How long the pane may take to show what is expected: a few scrapes, and a debug build.
const SHOW_WITHIN: Duration = Duration::from_secs(20);
/// How long `ztel top` may take to exit after its key.
const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// A tmux server of our own (no config file), killed on drop. Its socket is in a temp dir of
/// its own, so that it clashes with no other server and leaves nothing behind in /tmp/tmux-UID.
struct Tmux {
    socket: std::path::PathBuf,
    _dir: TempDir,
}

impl Tmux {
    /// A server with one detached 160×50 session named `top` running `command` (via `sh -c`).
    fn start(command: &str) -> Tmux {
        let dir = TempDir::new("tmux");
        let tmux = Tmux {
            socket: dir.path().join("socket"),
            _dir: dir,
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            "160",
            "-y",
            "50",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            // A detached server needs a terminal type to describe its panes with.
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs")
    }

    /// The pane's text now; empty once the session is gone.
    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "top"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn send_keys(&self, keys: &str) {
        let out = self.run(&["send-keys", "-t", "top", keys]);
        assert!(out.status.success(), "tmux send-keys {keys}: {out:?}");
    }

    fn session_alive(&self) -> bool {
        self.run(&["has-session", "-t", "top"]).status.success()
    }

    /// Polls the pane until `ok` holds; returns that pane, or fails with the last one seen.
    fn wait_for_pane(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = wait_for(SHOW_WITHIN, || {
            last = self.capture();
            ok(&last).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("the pane never showed {what} in {SHOW_WITHIN:?}:\n{last}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Whether tmux is here; in CI (`CI` set) it must be (test.sh installs it).
fn have_tmux() -> bool {
    common::have("tmux", Command::new("tmux").arg("-V"))
}

/// The command tmux runs: `ztel top ARGS`, then its exit status written to `status`.
fn top_command(args: &str, status: &std::path::Path) -> String {
    format!(
        "'{}' top {args}; echo $? > '{}'",
        env!("CARGO_BIN_EXE_ztel"),
        status.display()
    )
}

/// A pane line's words; table borders count as blanks.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| c == '│' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words after `first` on the first pane line that has it as a word.
fn row(pane: &str, first: &str) -> Option<Vec<String>> {
    pane.lines().find_map(|line| {
        let words = words(line);
        let at = words.iter().position(|w| *w == first)?;
        Some(words[at + 1..].iter().map(|w| w.to_string()).collect())
    })
}

/// Like [`row`], for a row of the tables at the left edge (the records, not the dead letters).
fn left_row(pane: &str, first: &str) -> Option<Vec<String>> {
    pane.lines().find_map(|line| {
        let words = words(line);
        (words.first() == Some(&first)).then(|| words[1..].iter().map(|w| w.to_string()).collect())
    })
}

/// Word `i` after `first` (see [`row`]).
fn cell(pane: &str, first: &str, i: usize) -> Option<String> {
    row(pane, first)?.get(i).cloned()
}

/// Sends the key, waits for the session to end, and returns `ztel top`'s exit status.
fn quit_with(tmux: &Tmux, key: &str, status: &std::path::Path) -> String {
    tmux.send_keys(key);
    let gone = wait_for(EXIT_WITHIN, || (!tmux.session_alive()).then_some(()));
    assert!(
        gone.is_some(),
        "ztel top still runs {EXIT_WITHIN:?} after {key}:\n{}",
        tmux.capture()
    );
    std::fs::read_to_string(status)
        .expect("the exit status was written")
        .trim()
        .to_owned()
}

#[test]
fn top_shows_a_known_load_and_quits_on_q() {
    if !have_tmux() {
        return;
    }
    let collector = Collector::start_with(
        "top",
        Options {
            shards: 2,
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            config: Some("[input.tcp]\nallowed_ips = [\"127.0.0.1\"]\n".into()),
            ..Options::default()
        },
    );
    let admin = collector.listening["admin"];
    // 300 ZIA web records from 7 devices, 5 ZPA user activity records of one user (LSS names no
    // hostname: the device is the user's, an eighth), 2 frames in no format, and a peer outside
    // the allow-list.
    let mut load = String::new();
    for i in 1..=300 {
        load.push_str(&zia_line(i, &format!("pc-{}", i % 7)));
        load.push('\n');
    }
    for i in 1..=5 {
        load.push_str(&lss(&[(
            "ConnectionID",
            json!(format!("sess-{i},conn-{i}")),
        )]));
        load.push('\n');
    }
    load.push_str("not json at all\nnor this\n");
    collector.send(load.as_bytes());
    common::close_and_wait(common::connect_from("127.0.0.2:0", collector.addr));

    let dir = TempDir::new("top-pane");
    let status = dir.path().join("status");
    let tmux = Tmux::start(&top_command(&format!("--admin {admin}"), &status));
    // The counts, and rates: "…" on the first screen, then what arrived between two scrapes,
    // which is nothing once the whole load has been counted.
    let pane = tmux.wait_for_pane("the load's counts and rates", |pane| {
        let is = |first: &str, i: usize, want: &str| cell(pane, first, i).as_deref() == Some(want);
        is("zia.web", 0, "300")
            && is("zia.web", 1, "0.0")
            && is("zpa.user_activity", 0, "5")
            && is("unknown_format", 0, "2")
            && is("tcp", 0, "0.0")
            && is("tcp", 7, "1")
    });
    eprintln!("ztel top, after the load:\n{pane}");
    assert!(pane.contains("devices 8 "), "{pane}");
    assert!(pane.contains(&format!("http://{admin}/metrics")), "{pane}");
    assert!(!pane.contains("unreachable"), "{pane}");
    // events/s, events (frames: 305 records + 2 dead letters), bytes/s, bytes, open, refused.
    let tcp = row(&pane, "tcp").expect("a tcp row");
    assert_eq!(tcp[1], "307", "frames read on tcp: {tcp:?}");
    assert_eq!(tcp[0], "0.0", "nothing arrives any more: {tcp:?}");
    assert_eq!(tcp[7], "1", "one peer refused: {tcp:?}");
    let all = left_row(&pane, "all").expect("the records' all row");
    assert_eq!(all[0], "305", "records of every kind: {all:?}");
    // Both shards are listed, whichever read the connection.
    for shard in ["0", "1"] {
        assert!(
            left_row(&pane, shard).is_some(),
            "no shard {shard}:\n{pane}"
        );
    }
    let p50 = pane
        .split("p50 ")
        .nth(1)
        .and_then(|rest| rest.split("   ").next())
        .unwrap_or_default();
    assert!(
        p50.ends_with("µs") || p50.ends_with("ms") || p50.ends_with(" s"),
        "a latency: {p50:?}"
    );

    assert_eq!(quit_with(&tmux, "q", &status), "0", "ztel top exits 0 on q");
}

#[test]
fn top_says_when_the_endpoint_is_unreachable_and_quits_on_ctrl_c() {
    if !have_tmux() {
        return;
    }
    // Bound, not listening: nothing answers there, and no other test can be given the port
    // (a listener bound and let go gives it back).
    let refusing =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    refusing
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("a loopback port");
    let dead: SocketAddr = refusing
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("its address");
    let dir = TempDir::new("top-dead");
    let status = dir.path().join("status");
    let tmux = Tmux::start(&top_command(
        &format!("--admin {dead} --interval 0.2"),
        &status,
    ));
    // Still running, and retrying: the failures go on adding up.
    let pane = tmux.wait_for_pane("a third failed scrape", |pane| {
        pane.lines().any(|l| {
            l.contains("unreachable: cannot connect")
                && l.split("failed ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n >= 3)
        })
    });
    eprintln!("ztel top, nothing listening:\n{pane}");
    assert_eq!(
        quit_with(&tmux, "C-c", &status),
        "0",
        "ztel top exits 0 on Ctrl-C"
    );
}

#[test]
fn help_explains_the_screen_and_keys() {
    let (status, out, _) = run_ztel(&["top", "--help"]);
    assert!(status.success());
    for needed in [
        "--admin",
        "--interval",
        "--config",
        "127.0.0.1:9514",
        "q, Esc or Ctrl-C quits",
        "Dead letters by reason",
        "retries every interval",
    ] {
        assert!(out.contains(needed), "{needed:?} is not in --help:\n{out}");
    }
}

#[test]
fn without_a_terminal_it_says_so() {
    let (status, _, err) = run_ztel(&["top", "--admin", "127.0.0.1:1"]);
    assert!(!status.success());
    assert!(err.contains("not a terminal"), "{err}");
}

#[test]
fn a_config_it_cannot_read_is_one_line_that_says_why_once() {
    // The reason was said twice: the error's message and, as its source, again.
    let (status, _, err) = run_ztel(&["top", "--config", "/nonexistent/ztel.toml"]);
    assert!(!status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert!(err.contains("/nonexistent/ztel.toml"), "{err}");
}
