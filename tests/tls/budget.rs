//! A TLS connection gives back what its buffer grew to for a large frame as soon as the frame
//! is read, by its shard or by another it was handed to: it cannot wait to go quiet first, as a plain one does (a timed-out TLS read ends the
//! connection). Kept, quiet feeds' buffers held the shard's budget, and a later large frame
//! waited for it until its idle limit and was cut short, whole as it came.

use super::*;

#[test]
fn a_tls_connection_gives_a_large_frames_buffer_back() {
    let dir = TempDir::new("tls-budget");
    let ca = Ca::new("test root");
    let mut options = tls_options(
        &dir,
        &ca.leaf("localhost", &["localhost", "127.0.0.1"]),
        None,
        // The least budget there may be: 64 maximal frames.
        &format!(
            "[limits]\nidle_timeout_secs = 60\nbuffer_budget_bytes = {}\n",
            16 << 20
        ),
        false,
    );
    // Two shards: a large read may be handed to the other one, and the connection goes on
    // with a fresh buffer of the size its own had grown to.
    options.shards = 2;
    let collector = Collector::start_with("tls-budget", options);
    let pad = format!("{{\"Customer\": \"{}\",", "x".repeat(250_000));
    // Each would keep three times its first buffer charged, 200 of them more than the two
    // shards' budgets.
    let mut quiet = Vec::new();
    for n in 0..200 {
        let mut tls = super::write_only::handshake_only(collector.listening["tls"], &ca);
        send_line(
            &mut tls,
            &lss("large@example.com", n).replacen('{', &pad, 1),
        );
        quiet.push(tls);
    }
    let records = collector.data_dir().join("connections.jsonl");
    let all = common::wait_for(Duration::from_secs(20), || {
        (common::count_lines(&records) == 200).then_some(())
    });
    assert!(
        all.is_some(),
        "{} of 200 large frames written before the idle limit",
        common::count_lines(&records)
    );
    quiet.into_iter().for_each(close);
    let outcome = collector.stop();
    assert_eq!(outcome.counter("truncated"), 0);
    assert_eq!(outcome.records.len(), 200);
}
