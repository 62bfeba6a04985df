//! What `ztel serve` sets up for its own process before it takes traffic.

mod common;

use common::{Collector, Options};

#[test]
fn serve_runs_without_transparent_huge_pages() {
    // Each first touch of a fresh huge page zeroed 2 MiB, which took about half of the
    // aggregator and a quarter of a shard (perf/README.md "Where the time goes").
    let mut collector = Collector::start_with(
        "no-thp",
        Options {
            binary: true,
            ..Options::default()
        },
    );
    assert_eq!(collector.proc_status("THP_enabled"), "0");
    collector.stop();
}
