//! The control side, on async-nats: the stream and the registry bucket made (or brought in line
//! with the config), and the registry merges. All of it runs a few times per connection or per
//! changed device, not per record, so it keeps the maintained client (KV's compare-and-set on
//! revisions, JetStream's API replies) rather than speaking the protocol itself as the
//! publishing connection does.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, stream, Context};
use async_nats::Client;

use super::kv::{KvDevice, MergeError, Written};
use super::{subject, Stats};
use crate::config;

/// Merges in flight at once against the bucket.
const MERGES_IN_FLIGHT: usize = 64;

/// Why the stream or the bucket is not ready.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The stream exists, does not take every subject the collector publishes, and refused to
    /// take them: nothing can be published until an operator changes it or the config. Said at
    /// every attempt, in one line.
    #[error("{0}")]
    Stream(String),
    /// No answer, a timeout, a bucket that cannot be made: said as an outage is.
    #[error("{0}")]
    Other(String),
}

/// The stream and the bucket, ready; `warning` says what of the config the stream refused,
/// which publishing goes on without.
pub struct Prepared {
    pub bucket: kv::Store,
    pub warning: Option<String>,
}

/// The stream of `[output.nats]`, created if missing. An existing stream is published to as it
/// is when its subjects already take every subject the collector publishes (an operator's
/// `<prefix>.records.>` and `<prefix>.devices`, say: `<prefix>.>` beside them would be refused
/// as overlapping); otherwise the subjects it lacks are added, `<prefix>.>` when it takes none
/// of them (its other subjects are kept), and a refusal is a [`Failure::Stream`]. Its duplicate
/// window is then set to the config's; a refusal of that (a `max_age` shorter than the window,
/// credentials that may not update streams) is only a warning, since JetStream still drops
/// duplicates within the window in force. Its other settings, which an operator may have tuned,
/// are left alone.
pub async fn stream(js: &Context, cfg: &config::Nats) -> Result<Option<String>, Failure> {
    let name = &cfg.stream;
    let all = format!("{}.>", cfg.subject_prefix);
    let window = Duration::from_secs(cfg.duplicate_window_secs);
    let Ok(mut existing) = js.get_stream(name).await else {
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![all],
            duplicate_window: window,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        return match js.get_or_create_stream(config).await {
            Ok(_) => Ok(None),
            Err(e) => Err(Failure::Other(format!("stream {name}: {e}"))),
        };
    };
    let info = existing
        .info()
        .await
        .map_err(|e| Failure::Other(format!("stream {name}: {e}")))?;
    let mut config = info.config.clone();
    let missing = subject::missing(&config.subjects, &cfg.subject_prefix);
    if !missing.is_empty() {
        let had = config.subjects.clone();
        // A stream that takes some of them (records only, say) gains just the others:
        // `<prefix>.>` beside its own would be refused as overlapping them.
        let adding = if missing.len() == subject::published(&cfg.subject_prefix).len() {
            vec![all.clone()]
        } else {
            missing.clone()
        };
        config.subjects.extend(adding.iter().cloned());
        let added = some(&adding);
        match js.update_stream(&config).await {
            Ok(updated) => {
                tracing::info!("output.nats: stream {name} (subjects {had:?}) now takes {added}");
                config = updated.config;
            }
            Err(e) => {
                return Err(Failure::Stream(format!(
                    "stream {name} (subjects {had:?}) does not take {}, and adding {added} to \
                     it was refused: {e}; records wait in the spool until the stream takes every \
                     {}.records.<kind> and {}.devices",
                    some(&missing),
                    cfg.subject_prefix,
                    cfg.subject_prefix
                )))
            }
        }
    }
    let in_force = config.duplicate_window;
    if in_force == window {
        return Ok(None);
    }
    config.duplicate_window = window;
    match js.update_stream(&config).await {
        // The window is the stream's, every collector's: one that shortens it shortens it for
        // all, so that is a warning; lengthening it is what a new stream's default does.
        Ok(_) if window < in_force => {
            tracing::warn!(
                "output.nats: stream {name}'s duplicate window set to {} s (it was {} s): a \
                 replay reaching two collectors further apart than that is stored twice, on \
                 every collector of this stream; duplicate_window_secs should be the same on all",
                window.as_secs(),
                in_force.as_secs()
            );
            Ok(None)
        }
        Ok(_) => {
            tracing::info!(
                "output.nats: stream {name}'s duplicate window set to {} s (it was {} s)",
                window.as_secs(),
                in_force.as_secs()
            );
            Ok(None)
        }
        Err(e) => Ok(Some(format!(
            "output.nats: stream {name} keeps its duplicate window of {in} s: setting it to \
             duplicate_window_secs = {want} s was refused ({e}); records are published all the \
             same, and JetStream drops a repeated record only within those {in} s",
            in = in_force.as_secs(),
            want = window.as_secs()
        ))),
    }
}

/// The first few of `subjects`, for one line.
fn some(subjects: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = subjects[..subjects.len().min(SHOWN)].join(", ");
    if subjects.len() > SHOWN {
        text.push_str(&format!(" and {} more", subjects.len() - SHOWN));
    }
    text
}

/// The registry bucket, created if missing. Its stream is made here with the settings a KV
/// bucket has (what `create_key_value` would make, history 1): async-nats's own creation first
/// reads the account's limits in a form Debian's nats-server 2.9 does not send.
pub async fn bucket(js: &Context, bucket: &str) -> Result<kv::Store, String> {
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

/// The stream and the bucket, through `client`.
pub async fn prepare(client: &Client, cfg: &config::Nats) -> Result<Prepared, Failure> {
    let js = jetstream::new(client.clone());
    let warning = stream(&js, cfg).await?;
    let bucket = bucket(&js, &cfg.registry_bucket)
        .await
        .map_err(|e| Failure::Other(format!("registry bucket {}: {e}", cfg.registry_bucket)))?;
    Ok(Prepared { bucket, warning })
}

/// Merges the bucket refused, as said in the log: a full bucket refuses every device's, and
/// one line a minute says it.
#[derive(Default)]
pub struct Refusals {
    said: Option<Instant>,
    /// Refused since the last line (the line's `refused`).
    unsaid: u64,
}

const REFUSALS_SAID_EVERY: Duration = Duration::from_secs(60);

impl Refusals {
    fn note(&mut self, why: &MergeError) {
        self.unsaid += 1;
        if self
            .said
            .is_some_and(|at| at.elapsed() < REFUSALS_SAID_EVERY)
        {
            return;
        }
        tracing::error!(
            refused = self.unsaid,
            "output.nats: {why}; the merge is passed over (the device stays in the local \
             registry, and its records are published)"
        );
        self.said = Some(Instant::now());
        self.unsaid = 0;
    }
}

/// Merges a round's devices into the bucket: one merge per device (its later frames know
/// more), many in flight at once rather than one compare-and-set round trip after another.
/// `written` holds what this collector last wrote of each device, so that most merges need no
/// read first. A merge the bucket refuses ([`MergeError::Refused`]) is passed over and counted
/// as unpublishable: the round's records were acknowledged, and holding them until the bucket
/// takes the device would publish them again and again. Any other failure fails the round, so
/// that an outage loses no merge.
pub async fn merge_all(
    bucket: &kv::Store,
    merges: Vec<KvDevice>,
    written: &mut Written,
    stats: &Stats,
    refusals: &mut Refusals,
) -> Result<(), String> {
    let mut devices: HashMap<String, KvDevice> = HashMap::new();
    for d in merges {
        match devices.get_mut(&d.device_id) {
            Some(known) => {
                known.merge(&d);
            }
            None => {
                devices.insert(d.device_id.clone(), d);
            }
        }
    }
    let mut running = tokio::task::JoinSet::new();
    let mut todo = devices.into_values();
    loop {
        while running.len() < MERGES_IN_FLIGHT {
            let Some(device) = todo.next() else {
                break;
            };
            let bucket = bucket.clone();
            let last = written.take(&device.device_id);
            running.spawn(async move { super::kv::merge(&bucket, &device, last).await });
        }
        let Some(done) = running.join_next().await else {
            return Ok(());
        };
        let merged = match done.map_err(|e| e.to_string())? {
            Ok(merged) => merged,
            Err(e @ MergeError::Refused { .. }) => {
                stats.unpublishable.fetch_add(1, Ordering::Relaxed);
                refusals.note(&e);
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        stats.registry_merges.fetch_add(1, Ordering::Relaxed);
        stats
            .registry_conflicts
            .fetch_add(merged.conflicts, Ordering::Relaxed);
        written.keep(merged.last);
    }
}
