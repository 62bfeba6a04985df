//! How long a request's charge on the shard's buffer budget lasts, over a real loopback
//! connection: while its batch waits for a full channel, the batch's records stay charged; once
//! the channel takes them, the charge is given back.

use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use glommio::net::TcpListener;

use super::request::KEEP_BUFFER;
use super::{accept_loop, Auth, Input};
use crate::batch::channel::{self, Offer};
use crate::batch::{Batch, Source};
use crate::config::HttpInput;
use crate::input::allow::AllowList;
use crate::pipeline::Pipeline;
use crate::shard::shutdown::Shutdown;
use crate::shard::{Shard, ShardLimits};

const BUDGET: usize = 16 << 20;
const RECORDS: usize = 2_000;

/// A gzip POST of `RECORDS` ZIA web records, and how many bytes they inflate to.
fn request() -> (Vec<u8>, usize) {
    let pad = "x".repeat(900);
    let records: Vec<String> = (0..RECORDS)
        .map(|id| {
            format!(
                r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"1700000000","recordid":"{id}","pad":"{pad}","login":"u@example.com","proto":"HTTPS","eurl":"www.example.com/p","action":"Allowed","reqmethod":"GET","respcode":"200","cip":"10.0.0.1","sip":"203.0.113.9","devicehostname":"pc-1"}}}}"#
            )
        })
        .collect();
    let body = format!("[{}]", records.join(",\n"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).expect("gzip in memory");
    let packed = gz.finish().expect("gzip in memory");
    let mut post = format!(
        "POST / HTTP/1.1\r\nX-Key: k1\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        packed.len()
    )
    .into_bytes();
    post.extend_from_slice(&packed);
    (post, body.len())
}

/// Polls `ok` on the executor until it holds, for 10 s at most.
async fn until(mut ok: impl FnMut() -> bool) -> bool {
    let limit = Instant::now() + Duration::from_secs(10);
    while !ok() {
        if Instant::now() > limit {
            return false;
        }
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    true
}

#[test]
fn a_batch_waiting_for_a_full_channel_keeps_its_records_charged() {
    let (tx, rx) = channel::bounded(1);
    assert!(matches!(tx.offer(Batch::new(0, Source::Tcp)), Offer::Sent));
    let limits = ShardLimits {
        max_frame_bytes: 256 << 10,
        max_connections: 4,
        idle_timeout: Duration::from_secs(30),
        buffer_budget: BUDGET,
    };
    let input = Input {
        allow: Arc::new(ArcSwap::from_pointee(AllowList::new(vec!["127.0.0.0/8"
            .parse()
            .expect("net")]))),
        auth: Arc::new(ArcSwap::from_pointee(Auth::new(&HttpInput {
            header: "X-Key".into(),
            keys: vec!["k1".into()],
            ..HttpInput::default()
        }))),
        tls: None,
    };
    let (post, inflated) = request();
    glommio::LocalExecutor::default().run(async move {
        let pipeline = Pipeline::new(jiff::tz::TimeZone::UTC);
        let shutdown = Arc::new(Shutdown::default());
        let shard = Rc::new(Shard::new(0, limits, pipeline, tx, shutdown));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        glommio::spawn_local(accept_loop(shard.clone(), listener, input)).detach();
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            let patience = Some(Duration::from_secs(30));
            stream.set_read_timeout(patience).expect("timeout");
            stream.write_all(&post).expect("request");
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).expect("answer");
            String::from_utf8_lossy(&answer).into_owned()
        });
        let held = || BUDGET - shard.budget.available() as usize;
        // Inflating and processing run without a pause once the body is in (the budget has
        // room): what this task sees held is what the request holds while it waits to send.
        assert!(
            until(|| held() >= inflated - KEEP_BUFFER).await,
            "the waiting batch holds {} bytes of the budget, its records {inflated}",
            held()
        );
        assert!(matches!(rx.recv_timeout(Duration::ZERO), Ok(b) if b.source == Source::Tcp));
        let mut taken = None;
        assert!(
            until(|| {
                taken = taken
                    .take()
                    .or_else(|| rx.recv_timeout(Duration::ZERO).ok());
                taken.is_some() && held() == 0
            })
            .await
        );
        let batch = taken.expect("the request's batch");
        assert_eq!(batch.records_made(), RECORDS as u64);
        assert!(batch.records.capacity() >= inflated);
        // The aggregator's part: the records are written; only then the 200.
        batch.receipt.as_ref().expect("a receipt").sign();
        let answer = until(|| client.is_finished()).await;
        assert!(answer);
        assert_eq!(client.join().expect("client"), "HTTP/1.1 200");
    });
}
