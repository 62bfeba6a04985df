//! RLIMIT_MEMLOCK, which io_uring needs. A user whose limit is too small for io_uring's
//! registered buffers (8 MiB, Debian's default for non-root) gets one line saying what to
//! raise, not glommio's multi-line `registering buffers … SkippingOs` dump, and the collector
//! serves anyway. Below glommio's own floor (512 KiB) no shard can start: ztel raises its soft
//! limit up to the hard one (root raises both), and where that is not enough it says so in
//! one line and exits.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

/// `ztel serve` on 2 shards with RLIMIT_MEMLOCK at `soft`/`hard` bytes, as root if the test is
/// and `as_root`, else as nobody; what it said until it listened or exited, and whether it
/// listens.
fn serve_with_memlock(soft: u64, hard: u64, as_root: bool) -> (bool, String) {
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
    if unsafe { libc::geteuid() } == 0 && !as_root {
        // Root's CAP_IPC_LOCK ignores the limit: run as nobody, who does not have it, on a
        // data_dir of its own (one every user may write in is refused).
        std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).expect("chown");
        command.uid(NOBODY).gid(NOBODY);
    }
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
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
    let mut listening = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        listening = line.contains("listening tcp");
        said.push(line);
        if listening || began.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (listening, said.join("\n"))
}

/// The lines of `said` that speak of the limit.
fn advice(said: &str) -> Vec<&str> {
    said.lines()
        .filter(|l| l.contains("RLIMIT_MEMLOCK"))
        .collect()
}

#[test]
fn a_small_memlock_limit_gets_one_line_of_advice() {
    let (listening, said) = serve_with_memlock(8 << 20, 8 << 20, false);
    assert!(listening, "it serves anyway:\n{said}");
    let advice = advice(&said);
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

#[test]
fn a_soft_limit_below_iourings_floor_is_raised_to_the_hard_one() {
    // `ulimit -S -l 64` under a hard limit of 8 MiB: glommio would refuse 64 KiB.
    let (listening, said) = serve_with_memlock(64 << 10, 8 << 20, false);
    assert!(listening, "{said}");
    let advice = advice(&said);
    assert_eq!(advice.len(), 1, "{said}");
    assert!(advice[0].contains("RLIMIT_MEMLOCK is 8192 KiB"), "{said}");
}

#[test]
fn a_hard_limit_below_iourings_floor_is_one_clear_error() {
    let (listening, said) = serve_with_memlock(64 << 10, 64 << 10, false);
    assert!(!listening, "{said}");
    let advice = advice(&said);
    assert_eq!(advice.len(), 1, "{said}");
    assert!(
        advice[0].contains("RLIMIT_MEMLOCK is 64 KiB (hard limit 64 KiB)")
            && advice[0].contains("io_uring needs at least 512 KiB")
            && !advice[0].contains("ztel works"),
        "{said}"
    );
}

#[test]
fn root_raises_a_limit_below_iourings_floor() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the tests as root"
        );
        eprintln!("skipped: not root");
        return;
    }
    let (listening, said) = serve_with_memlock(64 << 10, 64 << 10, true);
    // Raising a hard limit takes CAP_SYS_RESOURCE, which a container's root may lack: then the
    // one clear line, as for anyone else.
    if has_sys_resource() {
        assert!(listening, "{said}");
        assert!(advice(&said).is_empty(), "{said}");
    } else {
        assert!(!listening, "{said}");
        assert!(
            advice(&said)[0].contains("io_uring needs at least 512 KiB"),
            "{said}"
        );
    }
}

/// Whether this process has CAP_SYS_RESOURCE (bit 24 of its effective capabilities).
fn has_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .expect("CapEff");
    effective & (1 << 24) != 0
}

#[test]
fn root_raises_a_soft_limit_below_the_floor_within_the_hard_one() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the tests as root"
        );
        eprintln!("skipped: not root");
        return;
    }
    // A container's root (no CAP_SYS_RESOURCE) under `--ulimit memlock=65536:8388608`: raising
    // both limits is refused, raising the soft one to the hard one is not.
    let (listening, said) = serve_with_memlock(64 << 10, 8 << 20, true);
    assert!(listening, "{said}");
    assert!(advice(&said).len() <= 1, "{said}");
}
