//! Criterion benchmark of reading JetStream's acknowledgements on the NATS thread
//! (`src/sink/nats/proto.rs`, issue 13's cost of `[output.nats]`): one per record published, each
//! an operation to parse, a reply token to read and a payload to judge, as
//! `round::handle` does with what the publishing connection read. The input is what nats-server
//! 2.9 writes: `MSG _INBOX.<nuid>.<token> <sid> <#bytes>` and `{"stream":"ZTEL","seq":N}`, some
//! hundreds to a read.
//!
//! Under `cargo test --bench acks` (CI, once each).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ztel::sink::nats::proto::{self, Ack, Op};

/// Acknowledgements a read holds.
const ACKS: u64 = 1000;
const INBOX: &[u8] = b"_INBOX.LGWO3Q6YmhpQvW7Nn9bQ2z";

fn acks(first_seq: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let inbox = String::from_utf8_lossy(INBOX);
    for token in 0..ACKS {
        let payload = format!(r#"{{"stream":"ZTEL","seq":{}}}"#, first_seq + token);
        let head = format!("MSG {inbox}.{} 1 {}\r\n", 7_000_000 + token, payload.len());
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(payload.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// What `round::handle` does with each operation, up to counting it: the stored ones.
fn read_all(mut input: &[u8]) -> u64 {
    let mut stored = 0;
    while let Ok((op, used)) = proto::parse(input) {
        if let Op::Msg {
            subject,
            headers,
            payload,
        } = op
        {
            if proto::token(subject, INBOX).is_some() && proto::ack(headers, payload) == Ack::Stored
            {
                stored += 1;
            }
        }
        input = &input[used..];
    }
    stored
}

fn reading(c: &mut Criterion) {
    let input = acks(123_456_789);
    assert_eq!(
        read_all(&input),
        ACKS,
        "every acknowledgement reads as stored"
    );
    let mut g = c.benchmark_group("nats_acks");
    g.throughput(Throughput::Elements(ACKS));
    g.bench_function("stored", |b| b.iter(|| read_all(black_box(&input))));
    g.finish();
}

criterion_group!(benches, reading);
criterion_main!(benches);
