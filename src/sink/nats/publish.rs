//! The NATS thread's work: take the aggregator's frames into the spool, and publish the spool
//! oldest first, a few rounds in flight, each round's acknowledgements awaited together. A
//! round's frames leave the spool only when all of them were acknowledged; after a failure
//! everything unacknowledged is published again, under the same ids (JetStream drops those it
//! already has).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, kv, stream, Context};
use async_nats::Client;
use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

use super::connect::{self, ConnectFailure};
use super::frame::{self, Frame};
use super::kv::KvDevice;
use super::spool::{Chunk, Cursor, Spool};
use super::Link;
use crate::config;

/// Bytes of frames per round, and rounds in flight: enough to keep a local server busy while
/// the oldest round's acknowledgements come back.
const ROUND_BYTES: usize = 512 << 10;
const ROUNDS: usize = 4;
/// Acknowledgements JetStream may owe (async-nats waits for room past it): above what
/// `ROUNDS` rounds of the smallest frames hold.
const MAX_ACKS: usize = 1 << 17;
/// A round not acknowledged in this time failed: published again.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// After the aggregator's last batch: how long a connected publisher goes on emptying the spool
/// before it leaves the rest for the next start.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const RETRY: Duration = Duration::from_millis(250);

/// What the thread needs of the config.
pub struct Settings {
    cfg: config::Nats,
    dir: PathBuf,
}

impl Settings {
    pub fn of(cfg: &config::Nats, dir: PathBuf) -> Settings {
        Settings {
            cfg: cfg.clone(),
            dir,
        }
    }
}

/// A round sent and not yet acknowledged.
struct Round {
    /// The round's frames (the payloads are slices of it), and where the head goes after it.
    bytes: Bytes,
    end: Cursor,
    acks: Vec<PublishAckFuture>,
    merges: Vec<KvDevice>,
}

/// Runs until the aggregator has closed the channel and the spool is empty, or NATS cannot take
/// the rest.
pub async fn run(
    link: Arc<Link>,
    settings: Settings,
    rx: mpsc::Receiver<Vec<u8>>,
    spool: Spool,
    first: Option<Client>,
) {
    let spool = Arc::new(Mutex::new(spool));
    let wake = Arc::new(Notify::new());
    let room = Arc::new(Notify::new());
    let intake = tokio::spawn(intake(
        rx,
        spool.clone(),
        link.clone(),
        wake.clone(),
        room.clone(),
    ));
    let mut publisher = Publisher {
        link: link.clone(),
        settings,
        spool: spool.clone(),
        client: first,
        ready: None,
        rounds: Vec::new(),
        failures: 0,
        last_attempt: None,
    };
    let mut drain_until: Option<Instant> = None;
    loop {
        if drain_until.is_none() && intake.is_finished() {
            drain_until = Some(Instant::now() + DRAIN_TIMEOUT);
        }
        let empty = lock(&spool).is_empty();
        if let Some(until) = drain_until {
            if empty || Instant::now() >= until || !publisher.connected() {
                break;
            }
        }
        if !publisher.prepare().await {
            if drain_until.is_some() {
                break;
            }
            tokio::time::sleep(RETRY).await;
            continue;
        }
        if let Err(e) = publisher.fill().await {
            publisher.failed(&e);
            continue;
        }
        if publisher.rounds.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(RETRY) => {}
            }
            continue;
        }
        match publisher.finish_oldest().await {
            Ok(()) => room.notify_one(),
            Err(e) => publisher.failed(&e),
        }
    }
    publisher.rounds.clear();
    link.stats.acks_pending.store(0, Ordering::Relaxed);
    link.set_registry(None);
    let s = lock(&spool);
    if !s.is_empty() {
        // The one line the operator needs: nothing is lost, it waits on disk.
        crate::logging::say(
            tracing::Level::WARN,
            format_args!(
                "output.nats: {} records and device events ({} bytes) not acknowledged by NATS \
                 stay in {}; they are published at the next start",
                s.messages(),
                s.bytes(),
                publisher.settings.dir.display()
            ),
        );
    }
    intake.abort();
}

fn lock(spool: &Mutex<Spool>) -> MutexGuard<'_, Spool> {
    // A panic while holding it leaves a spool whose files are still whole: go on.
    spool
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the aggregator's frames into the spool while it has room; when it has none, stops
/// taking (so the channel fills and the aggregator holds its batches), except at shutdown.
async fn intake(
    mut rx: mpsc::Receiver<Vec<u8>>,
    spool: Arc<Mutex<Spool>>,
    link: Arc<Link>,
    wake: Arc<Notify>,
    room: Arc<Notify>,
) {
    let mut errors = 0u64;
    while let Some(chunk) = rx.recv().await {
        loop {
            let appended = {
                let mut s = lock(&spool);
                if s.has_room(chunk.len()) || link.closing.load(Ordering::SeqCst) {
                    let result = s.append(&chunk);
                    link.stats.spool_bytes.store(s.bytes(), Ordering::Relaxed);
                    link.stats
                        .spool_records
                        .store(s.messages(), Ordering::Relaxed);
                    Some(result)
                } else {
                    None
                }
            };
            match appended {
                Some(Ok(())) => {
                    wake.notify_one();
                    break;
                }
                Some(Err(e)) if link.closing.load(Ordering::SeqCst) => {
                    // At shutdown a spool that cannot be written is not waited for (the drain
                    // would never end): said, like a sink's failed spill. The records are in
                    // the records file all the same.
                    crate::logging::say(
                        tracing::Level::ERROR,
                        format_args!(
                            "output.nats: cannot spool {} bytes at shutdown ({e}); they are in \
                             the records file but will not reach NATS",
                            chunk.len()
                        ),
                    );
                    break;
                }
                Some(Err(e)) => {
                    errors += 1;
                    if errors.is_power_of_two() {
                        tracing::error!(errors, "output.nats: cannot write the spool: {e}");
                    }
                    tokio::time::sleep(RETRY).await;
                }
                None => {
                    tokio::select! {
                        _ = room.notified() => {}
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        }
    }
}

/// The registry bucket, created if missing. Its stream is made here with the settings a KV
/// bucket has (what `create_key_value` would make, history 1): async-nats's own creation first
/// reads the account's limits in a form Debian's nats-server 2.9 does not send.
async fn registry_bucket(js: &Context, bucket: &str) -> Result<kv::Store, String> {
    if let Ok(store) = js.get_key_value(bucket).await {
        return Ok(store);
    }
    let stream = stream::Config {
        name: format!("KV_{bucket}"),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    js.get_or_create_stream(stream)
        .await
        .map_err(|e| e.to_string())?;
    js.get_key_value(bucket).await.map_err(|e| e.to_string())
}

struct Publisher {
    link: Arc<Link>,
    settings: Settings,
    spool: Arc<Mutex<Spool>>,
    client: Option<Client>,
    /// The JetStream context and registry bucket, once the stream and the bucket exist.
    ready: Option<(Context, kv::Store)>,
    rounds: Vec<Round>,
    /// Failures in a row, for the log.
    failures: u64,
    last_attempt: Option<Instant>,
}

impl Publisher {
    fn connected(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|c| c.connection_state() == async_nats::connection::State::Connected)
    }

    /// Connects, then makes sure of the stream and the bucket; false while that is not done.
    async fn prepare(&mut self) -> bool {
        let stats = &self.link.stats;
        if self.client.is_none() {
            if self
                .last_attempt
                .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
            {
                return false;
            }
            self.last_attempt = Some(Instant::now());
            match connect::connect(&self.settings.cfg, &self.link.stats).await {
                Ok(client) => self.client = Some(client),
                Err(ConnectFailure::Refused(m) | ConnectFailure::Unreachable(m)) => {
                    self.say_failure(&m);
                    return false;
                }
            }
        }
        let connected = self.connected();
        if let Some(client) = &self.client {
            let connects = client.statistics().connects.load(Ordering::Relaxed);
            stats
                .reconnects
                .store(connects.saturating_sub(1), Ordering::Relaxed);
        }
        if !connected {
            return false;
        }
        if self.ready.is_some() {
            return true;
        }
        let Some(client) = self.client.clone() else {
            return false;
        };
        let js = jetstream::ContextBuilder::new()
            .max_ack_inflight(MAX_ACKS)
            .ack_timeout(ACK_TIMEOUT)
            .build(client);
        let cfg = &self.settings.cfg;
        let stream = stream::Config {
            name: cfg.stream.clone(),
            subjects: vec![format!("{}.>", cfg.subject_prefix)],
            duplicate_window: Duration::from_secs(cfg.duplicate_window_secs),
            storage: stream::StorageType::File,
            ..Default::default()
        };
        if let Err(e) = js.get_or_create_stream(stream).await {
            self.say_failure(&format!("stream {}: {e}", cfg.stream));
            return false;
        }
        let bucket = match registry_bucket(&js, &cfg.registry_bucket).await {
            Ok(store) => store,
            Err(e) => {
                self.say_failure(&format!("registry bucket {}: {e}", cfg.registry_bucket));
                return false;
            }
        };
        self.link.set_registry(Some(bucket.clone()));
        self.ready = Some((js, bucket));
        true
    }

    /// Sends rounds from the spool until `ROUNDS` are in flight or it has nothing more.
    async fn fill(&mut self) -> Result<(), String> {
        let Some((js, _)) = &self.ready else {
            return Ok(());
        };
        while self.rounds.len() < ROUNDS {
            let chunk = lock(&self.spool)
                .read(ROUND_BYTES)
                .map_err(|e| format!("cannot read the spool: {e}"))?;
            let Some(Chunk { bytes, end }) = chunk else {
                return Ok(());
            };
            let bytes = Bytes::from(bytes);
            let mut round = Round {
                bytes: bytes.clone(),
                end,
                acks: Vec::new(),
                merges: Vec::new(),
            };
            let mut at = 0;
            while at < bytes.len() {
                let (frame, len) = frame::read(&bytes[at..]).map_err(|e| e.to_string())?;
                match frame {
                    Frame::Publish {
                        subject,
                        id,
                        payload,
                    } => {
                        let start = payload.as_ptr() as usize - bytes.as_ptr() as usize;
                        let message = PublishMessage::build()
                            .payload(bytes.slice(start..start + payload.len()))
                            .message_id(id);
                        let ack = js
                            .send_publish(subject.to_owned(), message)
                            .await
                            .map_err(|e| format!("publish: {e}"))?;
                        round.acks.push(ack);
                    }
                    Frame::Merge { json, .. } => {
                        if let Ok(device) = serde_json::from_slice::<KvDevice>(json) {
                            round.merges.push(device);
                        }
                    }
                }
                at += len;
            }
            let n = round.acks.len() as u64;
            self.link.stats.published.fetch_add(n, Ordering::Relaxed);
            self.link.stats.acks_pending.fetch_add(n, Ordering::Relaxed);
            self.rounds.push(round);
        }
        Ok(())
    }

    /// Awaits the oldest round's acknowledgements, merges its devices into the bucket, and
    /// moves the spool's head past it.
    async fn finish_oldest(&mut self) -> Result<(), String> {
        let round = self.rounds.remove(0);
        let stats = &self.link.stats;
        for ack in round.acks {
            match ack.await {
                Ok(ack) => {
                    stats.acknowledged.fetch_add(1, Ordering::Relaxed);
                    stats.acks_pending.fetch_sub(1, Ordering::Relaxed);
                    if ack.duplicate {
                        stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => return Err(format!("no acknowledgement: {e}")),
            }
        }
        if let Some((_, bucket)) = &self.ready {
            // One merge per device per round: a device's later frames know more.
            let mut devices: HashMap<String, KvDevice> = HashMap::new();
            for d in round.merges {
                match devices.get_mut(&d.device_id) {
                    Some(known) => {
                        known.merge(&d);
                    }
                    None => {
                        devices.insert(d.device_id.clone(), d);
                    }
                }
            }
            for device in devices.values() {
                let conflicts = super::kv::merge(bucket, device)
                    .await
                    .map_err(|e| e.to_string())?;
                stats.registry_merges.fetch_add(1, Ordering::Relaxed);
                stats
                    .registry_conflicts
                    .fetch_add(conflicts, Ordering::Relaxed);
            }
        }
        let mut s = lock(&self.spool);
        s.acknowledge(round.end, &round.bytes)
            .map_err(|e| format!("cannot move the spool's head: {e}"))?;
        stats.spool_bytes.store(s.bytes(), Ordering::Relaxed);
        stats.spool_records.store(s.messages(), Ordering::Relaxed);
        if self.failures > 0 {
            tracing::info!(
                "output.nats: publishing again after {} failures",
                self.failures
            );
            self.failures = 0;
        }
        Ok(())
    }

    /// A round failed: everything unacknowledged goes out again, from the oldest.
    fn failed(&mut self, why: &str) {
        self.link.stats.failures.fetch_add(1, Ordering::Relaxed);
        self.rounds.clear();
        self.link.stats.acks_pending.store(0, Ordering::Relaxed);
        lock(&self.spool).rewind();
        self.say_failure(why);
        // A stream deleted under us comes back at the next prepare.
        if !self.connected() {
            self.ready = None;
            self.link.set_registry(None);
        }
    }

    /// Says a failure at the 1st, 2nd, 4th… in a row: an outage must not flood the log.
    fn say_failure(&mut self, why: &str) {
        self.failures += 1;
        if self.failures.is_power_of_two() {
            tracing::warn!(
                failures = self.failures,
                "output.nats: {why}; records wait in the spool"
            );
        }
    }
}
