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
    ztel::cli::main()
}
