//! The Cloud NSS request path as the internet reaches it: one connection whose client sends the
//! fuzz input, served by ztel's own code (hyper's HTTP/1 server, `Requests`: method, key,
//! framing, body limits, gzip, body shape, records and dead letters) on a glommio executor, with
//! a real shard and batch channel. Then what ztel wrote back and the batches are checked
//! (`http/checks.rs`) against an independent reading of the requests (`http/oracle.rs`).
//!
//! Input layout: `[flags, more, cut count, cut lengths…, stream…]`.
//! - `flags`: bits 0-1 the keys (`X-Ztel-Key: k1`; `k1` or `k2`; none configured;
//!   `Authorization: Bearer k1`), bits 2-3 `max_frame_bytes` (64, 512, 4096, 262144; bodies
//!   take 64 times that), bit 4 every read is `Pending` once first, bit 5 the drain begins at
//!   the read `more & 31`, bit 6 the aggregator is gone, bit 7 pieces (below).
//! - `more`: bits 0-4 the read the drain begins at, bit 5 ztel's writes take 7 bytes at most,
//!   bit 6 the client half-closes after its last byte instead of waiting for the answers, bit 7
//!   the aggregator is slow (it takes one batch every other time the task runs; the channel
//!   holds one batch).
//! - `cut count & 15` reads of `length + 1` bytes each; then reads take what ztel asks.
//! - With pieces, the stream is split at 0xFF bytes and every second piece `[mode, data…]` is
//!   replaced, so that inputs of a few KiB reach heads, bodies and bombs of tens of KiB. With
//!   `mode & 2`, it becomes `data` repeated `((mode >> 2) + 1) * 16` times; else the end of a
//!   head and a gzip body of `data` repeated `(mode >> 2) + 1` times: `Content-Length: N` CRLF
//!   CRLF then the body when `mode & 1` is 0, else `Transfer-Encoding: chunked` CRLF CRLF and
//!   the body as one chunk. Either way 64 KiB of `data` at most.
#![no_main]

#[path = "http/checks.rs"]
mod checks;
#[path = "http/oracle.rs"]
mod oracle;
#[path = "http/stream.rs"]
mod stream;

use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use arc_swap::ArcSwap;
use flate2::write::GzEncoder;
use flate2::Compression;
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use libfuzzer_sys::fuzz_target;
use ztel::batch::channel;
use ztel::config::HttpInput;
use ztel::input::allow::AllowList;
use ztel::input::http::fuzz::serve_stream;
use ztel::input::http::{Auth, Input, BODY_FRAMES};
use ztel::pipeline::Pipeline;
use ztel::shard::shutdown::Shutdown;
use ztel::shard::{Shard, ShardLimits};

use checks::Setup;
use stream::Client;

const MAX_FRAMES: [usize; 4] = [64, 512, 4096, 262_144];
/// The most a piece (below) repeats its data to: over hyper's 16 KiB head limit and the smaller
/// body limits (4 and 32 KiB), and cheap enough to compress at each run.
const MAX_PIECE: usize = 64 << 10;

thread_local! {
    // One executor for the process: making one sets up io_uring rings and a thread.
    static EXECUTOR: LocalExecutor = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .expect("a glommio executor (io_uring, RLIMIT_MEMLOCK)");
}

struct Plan {
    header: &'static str,
    keys: &'static [&'static str],
    max_frame: usize,
    pending: bool,
    drain_at: Option<usize>,
    aggregator_gone: bool,
    write_max: usize,
    half_close: bool,
    slow: bool,
    cuts: Vec<usize>,
    stream: Vec<u8>,
}

impl Plan {
    fn parse(data: &[u8]) -> Option<Plan> {
        let (&[flags, more, cuts], rest) = data.split_first_chunk::<3>()?;
        let n = usize::from(cuts & 15).min(rest.len());
        let (lengths, source) = rest.split_at(n);
        let (header, keys): (&str, &[&str]) = match flags & 3 {
            0 => ("X-Ztel-Key", &["k1"]),
            1 => ("X-Ztel-Key", &["k1", "k2"]),
            2 => ("X-Ztel-Key", &[]),
            _ => ("Authorization", &["Bearer k1"]),
        };
        let stream = if flags & 0x80 != 0 {
            pieces(source)
        } else {
            source.to_vec()
        };
        let mut end = 0;
        let cuts = lengths
            .iter()
            .map(|&l| {
                end += usize::from(l) + 1;
                end
            })
            .collect();
        Some(Plan {
            header,
            keys,
            max_frame: MAX_FRAMES[usize::from((flags >> 2) & 3)],
            pending: flags & 0x10 != 0,
            drain_at: (flags & 0x20 != 0).then_some(usize::from(more & 31)),
            aggregator_gone: flags & 0x40 != 0,
            write_max: if more & 0x20 != 0 { 7 } else { usize::MAX },
            half_close: more & 0x40 != 0,
            slow: more & 0x80 != 0,
            cuts,
            stream,
        })
    }
}

fn pieces(source: &[u8]) -> Vec<u8> {
    let mut stream = Vec::with_capacity(source.len());
    for (i, piece) in source.split(|&b| b == 0xFF).enumerate() {
        let Some((&mode, data)) = piece.split_first().filter(|_| i % 2 == 1) else {
            stream.extend_from_slice(piece);
            continue;
        };
        let most = MAX_PIECE / data.len().max(1);
        let times = usize::from(mode >> 2) + 1;
        if mode & 2 != 0 {
            for _ in 0..(times * 16).min(most) {
                stream.extend_from_slice(data);
            }
            continue;
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        for _ in 0..times.min(most) {
            let _ = gz.write_all(data);
        }
        let gz = gz.finish().unwrap_or_default();
        if mode & 1 == 0 {
            let _ = write!(stream, "Content-Length: {}\r\n\r\n", gz.len());
            stream.extend_from_slice(&gz);
        } else {
            let _ = write!(
                stream,
                "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                gz.len()
            );
            stream.extend_from_slice(&gz);
            stream.extend_from_slice(b"\r\n0\r\n\r\n");
        }
    }
    stream
}

fn run(data: &[u8]) {
    let Some(plan) = Plan::parse(data) else {
        return;
    };
    let shutdown = Arc::new(Shutdown::default());
    // One batch at a time, as a busy aggregator leaves room: a second send waits until the
    // aggregator below has taken the first.
    let (tx, rx) = channel::bounded(1);
    let rx = (!plan.aggregator_gone).then_some(rx);
    let stream: Rc<[u8]> = plan.stream.clone().into();
    let client = Client::new(
        stream,
        plan.cuts.clone(),
        plan.pending,
        plan.write_max,
        plan.drain_at.map(|at| (at, shutdown.clone())),
        plan.half_close,
    );
    let wire = client.wire.clone();
    let limits = ShardLimits {
        max_frame_bytes: plan.max_frame,
        max_connections: 1,
        idle_timeout: Duration::from_secs(10),
        // The least a valid configuration allows: one largest body.
        buffer_budget: plan.max_frame * BODY_FRAMES,
    };
    let auth = Auth::new(&HttpInput {
        header: plan.header.into(),
        keys: plan.keys.iter().map(|k| k.to_string()).collect(),
        ..HttpInput::default()
    });
    let input = Rc::new(Input {
        allow: Arc::new(ArcSwap::from_pointee(AllowList::new(Vec::new()))),
        auth: Arc::new(ArcSwap::from_pointee(auth)),
        tls: None,
    });
    let mut batches = Vec::new();
    EXECUTOR.with(|executor| {
        executor.run(async {
            let pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
            let shard = Rc::new(Shard::new(0, limits, pipeline, tx, shutdown));
            let peer = ([127, 0, 0, 1], 40000).into();
            // The aggregator: whenever the task is polled, it takes what the channel holds. A
            // slow one takes one batch every other poll, and when it passes over a batch it has
            // the task polled again (a send waiting for room is woken only by a take).
            let mut polls = 0u32;
            let aggregator = std::future::poll_fn(|cx| {
                polls += 1;
                let Some(rx) = &rx else {
                    return Poll::<()>::Pending;
                };
                if plan.slow && !polls.is_multiple_of(2) {
                    if !rx.is_empty() {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                while let Ok(batch) = rx.recv_timeout(Duration::ZERO) {
                    // Written at once: the request's 200 waits for this.
                    if let Some(receipt) = &batch.receipt {
                        receipt.sign();
                    }
                    batches.push(batch);
                    if plan.slow {
                        break;
                    }
                }
                Poll::Pending
            });
            futures_lite::future::or(serve_stream(shard, client, peer, input), aggregator).await;
        })
    });
    if let Some(rx) = &rx {
        while let Ok(batch) = rx.recv_timeout(Duration::ZERO) {
            batches.push(batch);
        }
    }

    let wire = wire.borrow();
    let requests = oracle::requests(&plan.stream, plan.header, plan.keys);
    let responses = checks::responses(&wire.out, &requests);
    let setup = Setup {
        max_frame: plan.max_frame,
        max_body: plan.max_frame * BODY_FRAMES,
        aggregator_gone: plan.aggregator_gone,
    };
    if std::env::var_os("HTTP_FUZZ_SHOW").is_some() {
        show(&responses, &batches, &wire);
    }
    checks::answers(&responses, &requests, &wire, &setup);
    if plan.aggregator_gone {
        assert!(batches.is_empty());
    } else {
        checks::batches(&batches, &responses, &requests, &wire, &setup);
    }
}

/// What a run did, for `HTTP_FUZZ_SHOW=1 target/…/http INPUT` (seeds and crashes are read by
/// hand that way).
fn show(responses: &[checks::Response], batches: &[ztel::batch::Batch], wire: &stream::Wire) {
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    eprintln!(
        "read {} of which {:?} before the close, drained {}, statuses {statuses:?}",
        wire.read, wire.read_before_close, wire.drained
    );
    for batch in batches {
        eprintln!("  batch: {}", batch.counters.summary());
    }
}

fuzz_target!(|data: &[u8]| run(data));
