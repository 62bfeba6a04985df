//! A user whose RLIMIT_MEMLOCK is too small for io_uring's registered buffers (8 MiB, Debian's
//! default for non-root) gets one line saying what to raise, not glommio's multi-line
//! `registering buffers … SkippingOs` dump, and the collector serves anyway.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

#[test]
fn a_small_memlock_limit_gets_one_line_of_advice() {
    let dir = common::TempDir::new("memlock");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ztel"));
    command
        .args(["serve", "--tcp", "127.0.0.1:0", "--udp", "", "--admin", ""])
        .args(["--shards", "2", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Root's CAP_IPC_LOCK ignores the limit: run as nobody, who does not have it.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .expect("chmod");
        command.uid(NOBODY).gid(NOBODY);
    }
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 8 << 20,
                rlim_max: 8 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start ztel");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = Vec::new();
    let began = Instant::now();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        let listening = line.contains("listening tcp");
        said.push(line);
        if listening || began.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let said = said.join("\n");
    assert!(said.contains("listening tcp"), "it serves anyway:\n{said}");
    let advice: Vec<_> = said
        .lines()
        .filter(|l| l.contains("RLIMIT_MEMLOCK"))
        .collect();
    assert_eq!(advice.len(), 1, "{said}");
    assert!(
        advice[0].contains("RLIMIT_MEMLOCK is 8192 KiB")
            && advice[0].contains("for 32 MiB or more set LimitMEMLOCK="),
        "{said}"
    );
    assert!(
        !said.contains("SkippingOs") && !said.contains("registering buffers"),
        "{said}"
    );
}
