//! The nats-server the tests publish to: started with JetStream on a port of its own and a
//! store of its own, killed and started again for an outage. Apart from the tests because
//! every module runs one, and how its process is run is not what any test is about.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{self, TempDir};

/// A nats-server with JetStream, on `port`, storing in `store`.
pub struct Server {
    child: Child,
    port: u16,
    store: PathBuf,
    config: Option<PathBuf>,
    /// The port, held while the server is killed ([`common::hold_port`]), for its restart.
    held: Option<socket2::Socket>,
}

impl Server {
    /// None (after saying so) when nats-server is not installed; under CI that fails instead.
    pub fn start(dir: &TempDir) -> Option<Server> {
        if !installed() {
            return None;
        }
        Some(Server::on(0, dir.path().join("nats-store"), None))
    }

    /// A server that takes only clients that give `authorization` (an `authorization { … }`
    /// block of nats-server's config: `user: …, password: …`, or `token: …`); None as
    /// [`Server::start`].
    pub fn authorizing(dir: &TempDir, authorization: &str) -> Option<Server> {
        if !installed() {
            return None;
        }
        let conf = dir.write(
            "nats.conf",
            &format!("authorization {{\n  {authorization}\n}}\n"),
        );
        Some(Server::on(0, dir.path().join("nats-store"), Some(conf)))
    }

    /// A server on `port`, or on one it takes itself for 0 (nats-server's `-p -1`: a port
    /// that the tests chose and released could be taken by another test's server meanwhile).
    pub fn on(port: u16, store: PathBuf, config: Option<PathBuf>) -> Server {
        let mut cmd = Command::new("nats-server");
        let asked = match port {
            0 => "-1".to_string(),
            port => port.to_string(),
        };
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &asked, "-sd"])
            .arg(&store);
        if let Some(c) = &config {
            cmd.arg("-c").arg(c);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nats-server");
        // Its port and then that it is ready, when it says so (its log is on stderr); the rest
        // of the log is drained.
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            const LISTENING: &str = "Listening for client connections on 127.0.0.1:";
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, port)) = line.split_once(LISTENING) {
                    let _ = tx.send(Some(port.trim().parse::<u16>().unwrap_or(0)));
                } else if line.contains("Server is ready") {
                    let _ = tx.send(None);
                }
            }
        });
        let (mut port, asked) = (port, port);
        while let Some(listening) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("nats-server ready")
        {
            port = listening;
        }
        assert!(
            port != 0 && (asked == 0 || port == asked),
            "nats-server's port: {port}"
        );
        Server {
            child,
            port,
            store,
            config,
            held: None,
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// [`Server::url`] with `userinfo` (`user:password`, or a token) before the host.
    pub fn url_with(&self, userinfo: &str) -> String {
        format!("nats://{userinfo}@127.0.0.1:{}", self.port)
    }

    /// `kill -9`; its port is held until it starts again.
    pub fn kill(&mut self) {
        self.end();
        if self.held.is_none() {
            // nats-server (Go sets `SO_REUSEADDR` too) can still bind the port it holds, and a
            // port a killed server left in TIME_WAIT can be held.
            self.held = Some(common::hold_port(self.port).0);
        }
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `kill -STOP`: connections stay open, and nothing is read or answered.
    pub fn pause(&self) {
        // SAFETY: kill(2) with a signal number, on our own child's pid.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGSTOP) };
        assert_eq!(sent, 0, "SIGSTOP to nats-server");
    }

    /// Starts again on the same port and store (the port held until it is ready).
    pub fn restart(&mut self) {
        self.kill();
        let again = Server::on(self.port, self.store.clone(), self.config.clone());
        *self = again;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.end();
    }
}

/// Whether nats-server is installed (when not, says so; under CI that fails instead). For the
/// tests that start it themselves, on a port or with a configuration of their own.
pub fn installed() -> bool {
    common::have("nats-server", Command::new("nats-server").arg("--version"))
}

/// A port where a server is down, held ([`common::hold_port`]): connections to it are refused.
pub fn down_port() -> (socket2::Socket, u16) {
    let (socket, addr) = common::hold_port(0);
    (socket, addr.port())
}
