//! What the modules share: running the real loadgen, receivers on loopback ports the OS
//! chooses, reading what they received, and a directory for a test's files.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wire::decode::Decoder;
use wire::event::Kind;

/// What a run of loadgen left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `key=value` pairs of the `loadgen-result` line.
    pub fn result(&self, key: &str) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with("loadgen-result "))
            .unwrap_or_else(|| panic!("no loadgen-result line in {}", self.stdout));
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            .to_string()
    }

    pub fn assert_stdout_has(&self, text: &str) {
        assert!(
            self.stdout.contains(text),
            "no {text:?} in stdout:\n{}",
            self.stdout
        );
    }

    pub fn assert_stderr_has(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "no {text:?} in stderr:\n{}",
            self.stderr
        );
    }
}

/// Runs loadgen with the words of `flags` (split at white space), killing it if it takes more
/// than 20 s.
pub fn loadgen(flags: &str) -> Run {
    loadgen_with(flags, &[])
}

/// [`loadgen`], then `more` word for word: for values that may hold a space, such as paths.
pub fn loadgen_with(flags: &str, more: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(flags.split_whitespace())
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loadgen starts");
    // Read while it runs: a full pipe would stall it.
    let stdout = read_to_end(child.stdout.take().unwrap());
    let stderr = read_to_end(child.stderr.take().unwrap());
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("loadgen {flags} {more:?} ran for more than 20 s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn read_to_end(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        pipe.read_to_string(&mut s).unwrap();
        s
    })
}

/// Accepts `connections` connections and reads each to its end; the bytes, per connection.
pub fn tcp_receiver(connections: usize) -> (String, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let readers: Vec<JoinHandle<Vec<u8>>> = (0..connections)
            .map(|_| {
                let (mut sock, _) = listener.accept().unwrap();
                thread::spawn(move || {
                    let mut bytes = Vec::new();
                    sock.read_to_end(&mut bytes).unwrap();
                    bytes
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    (addr, handle)
}

/// Runs loadgen with `flags` against a [`tcp_receiver`] of `connections` connections; it must
/// succeed. The run, and the bytes of each connection.
pub fn over_tcp(connections: usize, flags: &str) -> (Run, Vec<Vec<u8>>) {
    over_tcp_with(connections, flags, &[])
}

/// [`over_tcp`], with `more` as [`loadgen_with`] takes it.
pub fn over_tcp_with(connections: usize, flags: &str, more: &[&str]) -> (Run, Vec<Vec<u8>>) {
    let (addr, receiver) = tcp_receiver(connections);
    let run = loadgen_with(&format!("--target {addr} {flags}"), more);
    // Before joining the receiver: a loadgen that failed may never have connected.
    assert_eq!(run.code, 0, "{flags} {more:?}: {}", run.stderr);
    (run, receiver.join().unwrap())
}

/// Runs loadgen with `flags` over UDP to a receiver that reads datagrams until `records` lines
/// have come, waiting 5 s at most for each; loadgen must succeed. The run, and the datagrams.
pub fn over_udp(records: usize, flags: &str) -> (Run, Vec<Vec<u8>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let (mut datagrams, mut received) = (Vec::new(), 0);
        let mut buf = vec![0u8; 65536];
        while received < records {
            let n = sock.recv(&mut buf).expect("all datagrams arrive");
            received += lines(&buf[..n]).len();
            datagrams.push(buf[..n].to_vec());
        }
        datagrams
    });
    let run = loadgen(&format!("--target {addr} --proto udp {flags}"));
    assert_eq!(run.code, 0, "{flags}: {}", run.stderr);
    (run, receiver.join().unwrap())
}

/// Every frame is JSON, and ztel's decoder makes an event of `kind` of it.
pub fn assert_records<T: AsRef<[u8]>>(frames: &[T], kind: Kind) {
    for frame in frames {
        let frame = frame.as_ref();
        serde_json::from_slice::<serde_json::Value>(frame)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(frame)));
    }
    assert_decoded(frames, kind);
}

/// ztel's decoder makes an event of `kind` of every frame (syslog header and all).
pub fn assert_decoded<T: AsRef<[u8]>>(frames: &[T], kind: Kind) {
    let mut decoder = Decoder::new(jiff::tz::TimeZone::UTC);
    let received = "2025-11-22T10:00:00Z".parse().unwrap();
    let mut out = Vec::new();
    for frame in frames {
        let frame = frame.as_ref();
        match decoder.decode(frame, received, &mut out) {
            Ok(decoded) => assert_eq!(decoded.facts.kind, kind),
            Err(reason) => panic!("{reason:?}: {}", String::from_utf8_lossy(frame)),
        }
    }
}

/// The newline-ended records of `bytes`, without their newlines; the last must be whole.
pub fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "a record was cut"
    );
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// The [`lines`] of every connection (or datagram), one after another.
pub fn all_lines(received: &[Vec<u8>]) -> Vec<&[u8]> {
    received.iter().flat_map(|b| lines(b)).collect()
}

/// Splits an octet-counted stream (`LEN SP payload`, RFC 6587) into its payloads.
pub fn octet_frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let space = bytes.iter().position(|b| *b == b' ').unwrap();
        let len: usize = std::str::from_utf8(&bytes[..space])
            .unwrap()
            .parse()
            .unwrap();
        frames.push(&bytes[space + 1..space + 1 + len]);
        bytes = &bytes[space + 1 + len..];
    }
    frames
}

/// A directory of a test's own for the files it gives loadgen; `remove` deletes it once the
/// test has passed.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("loadgen-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The path of `file` in it, as loadgen's command line takes it.
    pub fn path(&self, file: &str) -> String {
        self.0.join(file).to_str().unwrap().to_string()
    }

    /// Writes `file` and gives its path.
    pub fn write(&self, file: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(file);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn remove(self) {
        std::fs::remove_dir_all(self.0).unwrap();
    }
}

/// A loopback address that refuses connections for as long as the socket is kept: bound, not
/// listening. A listener bound and dropped gives its port back, and a receiver of a test running
/// beside it may be given that port and answer in its place.
pub fn refusing() -> (socket2::Socket, std::net::SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
}
