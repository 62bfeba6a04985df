//! This process's resource limits, and raising a soft one towards what ztel needs: locked
//! memory for io_uring ([`crate::memlock`]), file descriptors for connections
//! ([`crate::nofile`]).

/// A resource's number (`libc::RLIMIT_*`).
pub type Resource = libc::__rlimit_resource_t;

/// The limit now, soft and hard; `None` when the system will not say.
pub fn get(resource: Resource) -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    (unsafe { libc::getrlimit(resource, &mut limit) } == 0).then_some(limit)
}

/// Whether a limit of `n` is short of `wanted` (an infinite one never is).
pub fn below(n: u64, wanted: u64) -> bool {
    n != libc::RLIM_INFINITY && n < wanted
}

/// Raises `limit`'s soft value to `wanted`, or as near as the hard one allows; with `hard_too`
/// (a process with CAP_SYS_RESOURCE) the hard one is raised to `wanted` first. Returns the
/// limit in force after: `limit` itself when no raise was taken.
pub fn raise(resource: Resource, limit: libc::rlimit, wanted: u64, hard_too: bool) -> libc::rlimit {
    let within_hard = libc::rlimit {
        rlim_cur: if below(limit.rlim_max, wanted) {
            limit.rlim_max
        } else {
            wanted
        },
        rlim_max: limit.rlim_max,
    };
    let raised = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: if below(limit.rlim_max, wanted) {
            wanted
        } else {
            limit.rlim_max
        },
    };
    let tries = if hard_too {
        [raised, within_hard]
    } else {
        [within_hard, within_hard]
    };
    for attempt in tries {
        // SAFETY: setrlimit reads the struct it is given; on failure nothing changed.
        if unsafe { libc::setrlimit(resource, &attempt) } == 0 {
            return attempt;
        }
    }
    limit
}
