//! A Cloud NSS request's wait for its records to be safe before its 200 (see
//! [`Receipt`](crate::batch::receipt::Receipt)): bounded, and shorter once the collector drains.

use std::time::{Duration, Instant};

use super::io::DRAIN_READ;
use crate::batch::receipt::Receipt;
use crate::shard::shutdown::Shutdown;

/// How long a request waits for its records to be taken and written before it is answered
/// 503. A collector whose output works writes them within milliseconds (the records sink writes
/// at least every 250 µs); one whose disk is full does not. Longer than NATS's wait for an
/// acknowledgement (5 s), after which unacknowledged records are spooled, and safe: a stream's
/// leader election answers 200 late, not 503.
pub(super) const WRITTEN_WITHIN: Duration = Duration::from_secs(10);

/// Waits until the aggregator signs `receipt`, at most until `deadline`, and once the collector
/// drains at most [`DRAIN_READ`] more (a failing output's backlog is spilled only once every
/// connection has ended: waiting for it would hold the drain); false if it was not signed.
pub(super) async fn written(receipt: &Receipt, deadline: Instant, shutdown: &Shutdown) -> bool {
    let gave_up = futures_lite::future::or(
        glommio::timer::sleep(deadline.saturating_duration_since(Instant::now())),
        async {
            shutdown.wait().await;
            glommio::timer::sleep(DRAIN_READ).await;
        },
    );
    futures_lite::future::or(
        async {
            receipt.signed().await;
            true
        },
        async {
            gave_up.await;
            receipt.is_signed()
        },
    )
    .await
}
