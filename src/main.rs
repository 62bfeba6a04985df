#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: batches and their buffers come and go by the megabyte, and each
    // first touch of a fresh 2 MiB page zeroed all of it; that took about half of the aggregator
    // and a quarter of a shard (perf record, perf/README.md "Where the time goes").
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    // A SIGHUP before `serve` has its handler (a certificate hook's reload just as the service
    // restarts) would end the process silently, which systemd counts as a clean exit, and does
    // not restart it: ignored until `serve`, or `top`, sets its own.
    // SAFETY: signal(2) with a constant disposition, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    ztel::cli::main()
}
