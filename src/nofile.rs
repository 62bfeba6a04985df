//! RLIMIT_NOFILE: one descriptor per connection. A shell's soft limit is often 1,024 (the
//! unit's `LimitNOFILE` is 524,288), below `limits.max_connections` (4,096 a shard) on one
//! shard: past it accepts fail (counted, the peers left in the listen backlog), the admin
//! endpoint's with them, before the connection limit that says so is ever reached.

use crate::rlimit::{self, below};

/// Descriptors besides the connections: output files, the registry, listeners, rings, the
/// admin endpoint's connections.
const SPARE: u64 = 1024;

/// Raises the soft limit towards what `connections` connections need, as far as the hard limit
/// allows; one warning line when that is short of it.
pub fn check(connections: u64) {
    let Some(mut limit) = rlimit::get(libc::RLIMIT_NOFILE) else {
        return;
    };
    let wanted = connections.saturating_add(SPARE);
    if below(limit.rlim_cur, wanted) {
        limit = rlimit::raise(libc::RLIMIT_NOFILE, limit, wanted, false);
    }
    if below(limit.rlim_cur, wanted) {
        tracing::warn!(
            "RLIMIT_NOFILE is {} (hard limit {}): fewer than the {connections} connections \
             limits.max_connections allows on every shard can be open (each takes a file \
             descriptor); past that, accepts fail (ztel_accept_failures_total) and peers wait; \
             set LimitNOFILE= in the unit, `ulimit -n` in the shell, or nofile in \
             /etc/security/limits.conf",
            limit.rlim_cur,
            limit.rlim_max
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_limit_is_raised_towards_what_the_connections_need() {
        let get = || crate::rlimit::get(libc::RLIMIT_NOFILE).expect("getrlimit");
        let before = get();
        let wanted = (before.rlim_cur + 10).min(before.rlim_max);
        super::check(wanted.saturating_sub(super::SPARE));
        let after = get();
        assert_eq!(
            after.rlim_max, before.rlim_max,
            "the hard limit is left alone"
        );
        assert!(after.rlim_cur >= wanted, "{} < {wanted}", after.rlim_cur);
    }
}
