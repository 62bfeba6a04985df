//! Waiting for a condition, never for a fixed time: a probe called until it answers, within a
//! limit the caller gives.

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::DEADLINE;

/// Calls `probe` until it returns something, or `limit` passes (then `None`).
pub fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The complete lines of the file at `path` now (0 when it cannot be read).
pub fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Waits (10 s at most) until the file at `path` holds at least `n` complete lines.
pub fn wait_for_lines(path: &Path, n: usize) {
    if wait_for(DEADLINE, || (count_lines(path) >= n).then_some(())).is_none() {
        panic!(
            "{} has {} lines, not {n}, after {DEADLINE:?}",
            path.display(),
            count_lines(path)
        );
    }
}

/// Waits until `child` exits or `limit` passes.
pub fn wait_until(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    wait_for(limit, || child.try_wait().expect("try_wait"))
}
