//! RLIMIT_MEMLOCK, which io_uring needs. glommio refuses to start a shard below 512 KiB of it,
//! and registers each shard's I/O buffers only with about 16 MiB: below that ztel works with
//! ordinary buffers. Debian's default for a user is 8 MiB, an old default was 64 KiB, and a
//! shell's `ulimit -l` may set anything; systemd's unit sets `LimitMEMLOCK=infinity`.

/// Locked memory each shard's io_uring registers for its buffers (glommio's 10 MiB of I/O
/// memory, and the rings), measured: 8 MiB, the usual limit of a non-root user, is too little
/// for one shard.
const PER_SHARD: u64 = 16 << 20;

/// Below this glommio starts no executor at all (`MemLockLimit(…/524288)`).
const FLOOR: u64 = 512 << 10;

/// Raises the soft limit towards what `shards` shards register, as far as the hard limit allows
/// (root raises both: CAP_IPC_LOCK lets it register past the limit, but glommio checks the
/// limit itself). Below glommio's floor even then, an error that says what to raise; short of
/// the buffers' need, one warning line (glommio's own multi-line warning is filtered out in
/// favour of it).
pub fn check(shards: usize) -> anyhow::Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } != 0 {
        return Ok(());
    }
    let below = |n: u64, wanted: u64| n != libc::RLIM_INFINITY && n < wanted;
    let wanted = PER_SHARD * shards as u64;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if below(limit.rlim_cur, wanted) {
        let raised = libc::rlimit {
            rlim_cur: if root || !below(limit.rlim_max, wanted) {
                wanted
            } else {
                limit.rlim_max
            },
            rlim_max: if root && below(limit.rlim_max, wanted) {
                wanted
            } else {
                limit.rlim_max
            },
        };
        // SAFETY: setrlimit reads the struct it is given; on failure nothing changed.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) } == 0 {
            limit = raised;
        }
    }
    if below(limit.rlim_cur, FLOOR) {
        anyhow::bail!(
            "RLIMIT_MEMLOCK is {} KiB (hard limit {} KiB): io_uring needs at least 512 KiB, and \
             {} MiB for the buffers of {shards} shards; set LimitMEMLOCK= in the unit, `ulimit -l` \
             in the shell, or memlock in /etc/security/limits.conf",
            limit.rlim_cur / 1024,
            limit.rlim_max / 1024,
            wanted >> 20
        );
    }
    if !root && below(limit.rlim_cur, wanted) {
        tracing::warn!(
            "RLIMIT_MEMLOCK is {} KiB: io_uring may not register the I/O buffers of {shards} \
             shards (ztel works, with ordinary buffers); for {} MiB or more set LimitMEMLOCK= in \
             the unit, or memlock in /etc/security/limits.conf",
            limit.rlim_cur / 1024,
            wanted >> 20
        );
    }
    Ok(())
}
