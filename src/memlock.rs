//! RLIMIT_MEMLOCK, which io_uring needs. glommio refuses to start a shard below 512 KiB of it,
//! and registers each shard's I/O buffers only with about 16 MiB: below that ztel works with
//! ordinary buffers. Debian's default for a user is 8 MiB, an old default was 64 KiB, and a
//! shell's `ulimit -l` may set anything; systemd's unit sets `LimitMEMLOCK=infinity`.

use crate::rlimit::{self, below};

/// Locked memory each shard's io_uring registers for its buffers (glommio's 10 MiB of I/O
/// memory, and the rings), measured: 8 MiB, the usual limit of a non-root user, is too little
/// for one shard.
const PER_SHARD: u64 = 16 << 20;

/// Below this glommio starts no executor at all (`MemLockLimit(…/524288)`).
const FLOOR: u64 = 512 << 10;

/// Raises the soft limit towards what `shards` shards register, as far as the hard limit allows
/// (and the hard one too with CAP_SYS_RESOURCE: glommio checks the limit itself, whatever
/// CAP_IPC_LOCK lets io_uring register). Below glommio's floor even then, an error that says what
/// to raise; short of the buffers' need without CAP_IPC_LOCK, one warning line (glommio's own
/// multi-line warning is filtered out in favour of it). Capabilities, not the uid: a container's
/// root usually has neither.
pub fn check(shards: usize) -> anyhow::Result<()> {
    let Some(mut limit) = rlimit::get(libc::RLIMIT_MEMLOCK) else {
        return Ok(());
    };
    let wanted = PER_SHARD * shards as u64;
    if below(limit.rlim_cur, wanted) {
        let hard_too = has_capability(CAP_SYS_RESOURCE);
        limit = rlimit::raise(libc::RLIMIT_MEMLOCK, limit, wanted, hard_too);
    }
    if below(limit.rlim_cur, FLOOR) {
        anyhow::bail!(
            "RLIMIT_MEMLOCK is {} KiB (hard limit {} KiB): io_uring needs at least 512 KiB, and \
             {} MiB for the buffers of {}; set LimitMEMLOCK= in the unit, `ulimit -l` \
             in the shell, or memlock in /etc/security/limits.conf",
            limit.rlim_cur / 1024,
            limit.rlim_max / 1024,
            wanted >> 20,
            crate::logging::shards_text(shards)
        );
    }
    if !has_capability(CAP_IPC_LOCK) && below(limit.rlim_cur, wanted) {
        tracing::warn!(
            "RLIMIT_MEMLOCK is {} KiB: io_uring may not register the I/O buffers of {} \
             (ztel works, with ordinary buffers); for {} MiB or more set LimitMEMLOCK= in \
             the unit, or memlock in /etc/security/limits.conf",
            limit.rlim_cur / 1024,
            crate::logging::shards_text(shards),
            wanted >> 20
        );
    }
    Ok(())
}

/// Lets io_uring register buffers past RLIMIT_MEMLOCK.
const CAP_IPC_LOCK: u32 = 14;
/// Lets a process raise its hard limits.
const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this process has capability `bit` in its effective set (`/proc/self/status`).
fn has_capability(bit: u32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|effective| effective & (1 << bit) != 0)
}
