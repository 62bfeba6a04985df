//! The collector under test: `ztel serve` with the arguments a test asks for, run in this process
//! (through `ztel::run`, the default) or as the real binary (`Options::binary`, for what only a
//! process has: signals, exit status, stderr, stdout, kill -9). Either way it listens on
//! OS-chosen loopback ports and its outcome is read the same way: the counts of its drained
//! summary and the files it wrote.
//!
//! Every wait is bounded: the collector must listen within 10 s, a connection must be closed by
//! the collector within 10 s of our closing it, and the drain must end within 15 s.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ztel::run::Running;

use super::options::Options;
use super::outcome::{parse_drained, read_output, Outcome};
use super::{close_and_wait, wait_for, wait_until, ztel, TempDir, DEADLINE, STOP_DEADLINE};

/// A running `ztel serve`. Dropping it without `stop` kills the process (or drains the
/// in-process collector).
pub struct Collector {
    backend: Backend,
    pub addr: SocketAddr,
    /// Where the other inputs listen: udp, tls, http, admin.
    pub listening: BTreeMap<String, SocketAddr>,
    dir: Option<TempDir>,
    data: PathBuf,
}

enum Backend {
    /// Boxed: a running collector is large next to the handles of a process.
    InProcess(Option<Box<Running>>),
    Process(Process),
}

/// The real binary and the threads that read its output.
struct Process {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<Vec<u8>>>,
    stdout_gate: Option<mpsc::Sender<()>>,
}

impl Collector {
    pub fn start(tag: &str) -> Collector {
        Collector::start_with(tag, Options::default())
    }

    pub fn start_with(tag: &str, options: Options) -> Collector {
        let dir = TempDir::new(tag);
        let data = options
            .data_dir
            .clone()
            .unwrap_or_else(|| dir.path().join("data"));
        let udp = if options.udp { "127.0.0.1:0" } else { "" };
        let mut args: Vec<String> = Vec::new();
        if !options.args.iter().any(|a| a == "--udp") {
            args.extend(["--udp".into(), udp.into()]);
        }
        if !options.args.iter().any(|a| a == "--tcp") {
            args.extend(["--tcp".into(), "127.0.0.1:0".into()]);
        }
        if !options.args.iter().any(|a| a == "--admin") {
            args.extend(["--admin".into(), String::new()]);
        }
        args.extend(["--data-dir".into(), data.display().to_string()]);
        args.extend(["--shards".into(), options.shards.to_string()]);
        if let Some(toml) = &options.config {
            let file = dir.write("ztel.toml", toml);
            args.extend(["--config".into(), file.display().to_string()]);
        }
        // Records on stdout are a process's.
        let binary = options.binary || options.records_to_stdout;
        if options.records_to_stdout {
            args.extend(["--records".into(), "-".into()]);
        }
        args.extend(options.args.iter().cloned());
        let mut collector = Collector {
            backend: Backend::InProcess(None),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            listening: BTreeMap::new(),
            dir: Some(dir),
            data,
        };
        if binary {
            collector.spawn(&args, &options);
        } else {
            let config = ztel::cli::config_from_args(&args).expect("a valid command line");
            let running = ztel::run::start(config).expect("the collector starts");
            let b = running.bound;
            for (kind, addr) in [
                ("udp", b.udp),
                ("tls", b.tls),
                ("http", b.http),
                ("admin", running.admin),
            ] {
                if let Some(addr) = addr {
                    collector.listening.insert(kind.into(), addr);
                }
            }
            collector.addr = b.tcp.expect("TCP listens");
            collector.backend = Backend::InProcess(Some(Box::new(running)));
        }
        collector
    }

    /// Starts the binary and waits for its `ztel: listening …` lines.
    fn spawn(&mut self, args: &[String], options: &Options) {
        let mut cmd = ztel();
        cmd.arg("serve").args(args);
        cmd.stdin(Stdio::null())
            .stdout(if options.records_to_stdout {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped());
        if let Some(n) = options.nofile {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: n,
                rlim_max: n,
            };
            // SAFETY: only setrlimit, async-signal-safe, runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                });
            }
        }
        let mut child = cmd.spawn().expect("spawn ztel serve");

        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("piped stderr");
        let lines = stderr.clone();
        let stderr_thread = std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
                        lines.lock().unwrap().push(line.clone());
                        let _ = tx.send(line);
                    }
                }
            }
        });
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let hold = options.hold_stdout;
        let stdout_thread = child.stdout.take().map(|mut pipe| {
            std::thread::spawn(move || {
                if hold {
                    let _ = gate_rx.recv();
                }
                let mut out = Vec::new();
                let _ = pipe.read_to_end(&mut out);
                out
            })
        });
        self.backend = Backend::Process(Process {
            child,
            stderr,
            stderr_thread: Some(stderr_thread),
            stdout_thread,
            stdout_gate: Some(gate_tx),
        });
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let Some((kind, rest)) = line
                        .strip_prefix("ztel: listening ")
                        .and_then(|l| l.split_once(' '))
                    else {
                        continue;
                    };
                    let addr = rest.split(' ').next().unwrap_or_default();
                    let addr = addr.parse().unwrap_or_else(|_| panic!("bad line {line:?}"));
                    if kind != "tcp" {
                        self.listening.insert(kind.to_owned(), addr);
                        continue;
                    }
                    self.addr = addr;
                    let shards = match options.shards {
                        1 => "1 shard".to_owned(),
                        n => format!("{n} shards"),
                    };
                    assert_eq!(rest, format!("{addr} ({shards})"), "listening line");
                    return;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "no listening line within {DEADLINE:?}; stderr so far:\n{}",
                        self.stderr_text()
                    )
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = wait_until(&mut self.process().child, DEADLINE);
                    panic!(
                        "ztel serve ended ({status:?}) before listening; stderr:\n{}",
                        self.stderr_text()
                    )
                }
            }
        }
    }

    fn process(&mut self) -> &mut Process {
        match &mut self.backend {
            Backend::Process(p) => p,
            Backend::InProcess(_) => panic!("this test needs the real binary: `binary: true`"),
        }
    }

    /// Starts reading stdout (see `Options::hold_stdout`).
    pub fn open_stdout(&mut self) {
        if let Backend::Process(p) = &mut self.backend {
            if let Some(gate) = p.stdout_gate.take() {
                let _ = gate.send(());
            }
        }
    }

    /// The data dir (`--data-dir`).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// What the binary wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        match &self.backend {
            Backend::Process(p) => p.stderr.lock().unwrap().join("\n"),
            Backend::InProcess(_) => panic!("stderr needs the real binary: `binary: true`"),
        }
    }

    /// A fresh connection with read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, DEADLINE).expect("connect to ztel");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_write_timeout(Some(DEADLINE)).unwrap();
        stream
    }

    /// Sends `bytes` on a fresh connection, closes it and waits until the collector has closed
    /// its side too: by then everything it read from that connection is on its way to the
    /// sinks. Returns the connection's local address (the `peer` of its dead letters).
    pub fn send(&self, bytes: &[u8]) -> SocketAddr {
        let mut stream = self.connect();
        stream.write_all(bytes).expect("send to ztel");
        close_and_wait(stream)
    }

    /// Drains (SIGTERM for the binary) and reads what the collector counted and wrote.
    pub fn stop(mut self) -> Outcome {
        match &mut self.backend {
            Backend::Process(_) => self.stop_with(libc::SIGTERM),
            Backend::InProcess(running) => {
                let running = running.take().expect("running");
                let summary = running.stop().expect("a clean drain");
                let line = format!("ztel: drained: {}", summary.describe());
                self.outcome(parse_drained(&line), Vec::new(), Vec::new())
            }
        }
    }

    /// Replaces the `--config` file (for a SIGHUP reload).
    pub fn rewrite_config(&self, toml: &str) {
        self.dir
            .as_ref()
            .expect("temp dir")
            .write("ztel.toml", toml);
    }

    /// The most memory the binary has held so far (VmHWM, its peak resident set), in bytes.
    pub fn peak_rss_bytes(&mut self) -> u64 {
        let kib: u64 = self
            .proc_status("VmHWM")
            .trim_end_matches("kB")
            .trim()
            .parse()
            .expect("VmHWM in kB");
        kib * 1024
    }

    /// A field of the binary's `/proc/PID/status` (`VmHWM`, `THP_enabled`…), as written there.
    pub fn proc_status(&mut self, key: &str) -> String {
        let pid = self.process().child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"))
    }

    /// Sends a signal that does not stop it (SIGHUP).
    pub fn signal(&mut self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.process().child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own running child.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits (10 s at most) until a stderr line starts with `prefix` (after the timestamp and
    /// level of a log line), and returns it.
    pub fn wait_for_stderr(&mut self, prefix: &str) -> String {
        let lines = self.process().stderr.clone();
        let found = wait_for(DEADLINE, || {
            lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| said(l).starts_with(prefix))
                .cloned()
        });
        found.unwrap_or_else(|| {
            panic!(
                "no stderr line {prefix:?} within {DEADLINE:?}; stderr:\n{}",
                self.stderr_text()
            )
        })
    }

    /// Waits (10 s at most) until `n` stderr lines start with `prefix`: the `n`th reload's.
    pub fn wait_for_stderr_times(&mut self, prefix: &str, n: usize) {
        let lines = self.process().stderr.clone();
        let seen = || {
            let lines = lines.lock().unwrap();
            lines.iter().filter(|l| said(l).starts_with(prefix)).count()
        };
        if wait_for(DEADLINE, || (seen() >= n).then_some(())).is_none() {
            panic!(
                "not {n} stderr lines {prefix:?} within {DEADLINE:?}; stderr:\n{}",
                self.stderr_text()
            );
        }
    }

    /// Sends `signal`, waits (killing the process after 15 s), and checks that it drained
    /// cleanly: exit status 0 and one `ztel: drained:` line. Then reads everything it wrote.
    pub fn stop_with(mut self, signal: libc::c_int) -> Outcome {
        self.open_stdout();
        self.signal(signal);
        self.finish(signal, STOP_DEADLINE)
    }

    /// Like `stop`, with the drain given `limit` rather than `STOP_DEADLINE`: for a test of
    /// the drain's own bound.
    pub fn stop_within(mut self, limit: Duration) -> Outcome {
        self.open_stdout();
        self.signal(libc::SIGTERM);
        self.finish(libc::SIGTERM, limit)
    }

    /// `kill -9`: no drain at all. Returns the data dir and the guard that keeps it.
    pub fn kill_hard(mut self) -> (PathBuf, TempDir) {
        let p = self.process();
        let _ = p.child.kill();
        let _ = p.child.wait();
        (self.data.clone(), self.dir.take().expect("temp dir"))
    }

    /// SIGTERM while stdout is still held unread (`hold_stdout`): the drain must end without
    /// its reader. What it wrote to the pipe is read once it has exited.
    pub fn stop_with_stdout_held(mut self) -> Outcome {
        self.signal(libc::SIGTERM);
        let p = self.process();
        let _ = wait_until(&mut p.child, STOP_DEADLINE);
        self.open_stdout();
        self.finish(libc::SIGTERM, Duration::from_millis(100))
    }

    /// Like `stop`, when the signal was already sent.
    pub fn stop_after_signal(mut self) -> Outcome {
        self.open_stdout();
        self.finish(libc::SIGTERM, STOP_DEADLINE)
    }

    fn finish(mut self, signal: libc::c_int, limit: Duration) -> Outcome {
        let p = self.process();
        let Some(status) = wait_until(&mut p.child, limit) else {
            let _ = p.child.kill();
            let _ = p.child.wait();
            panic!(
                "ztel did not exit within {limit:?} of signal {signal}; stderr:\n{}",
                self.stderr_text()
            );
        };
        if let Some(t) = p.stderr_thread.take() {
            t.join().expect("stderr reader");
        }
        let stdout = p
            .stdout_thread
            .take()
            .map(|t| t.join().expect("stdout reader"))
            .unwrap_or_default();
        let stderr = p.stderr.lock().unwrap().clone();
        assert_eq!(
            status.code(),
            Some(0),
            "ztel did not exit 0 after signal {signal}; stderr:\n{}",
            stderr.join("\n")
        );
        let drained: Vec<&String> = stderr
            .iter()
            .filter(|l| l.starts_with("ztel: drained: "))
            .collect();
        assert_eq!(
            drained.len(),
            1,
            "one drained line; stderr:\n{}",
            stderr.join("\n")
        );
        let counters = parse_drained(drained[0]);
        self.outcome(counters, stdout, stderr)
    }

    fn outcome(
        &mut self,
        counters: BTreeMap<String, u64>,
        stdout: Vec<u8>,
        stderr: Vec<String>,
    ) -> Outcome {
        let data = self.data.clone();
        Outcome {
            counters,
            records: read_output(&data.join("connections.jsonl")),
            devices: read_output(&data.join("devices.jsonl")),
            dead_letters: read_output(&data.join("dead-letter.jsonl")),
            stdout,
            stderr,
            data,
            _dir: self.dir.take().expect("temp dir"),
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Process(p) => {
                if matches!(p.child.try_wait(), Ok(None)) {
                    let _ = p.child.kill();
                    let _ = p.child.wait();
                }
            }
            Backend::InProcess(running) => {
                if let Some(running) = running.take() {
                    let _ = running.stop();
                }
            }
        }
    }
}

/// A stderr line without the timestamp and level of a log line ("2026-11-30T… WARN "): what the
/// collector said.
fn said(line: &str) -> &str {
    for level in [" ERROR ", " WARN ", " INFO ", " DEBUG ", " TRACE "] {
        if let Some(i) = line.find(level) {
            return line[i + level.len()..].trim_start();
        }
    }
    line
}
