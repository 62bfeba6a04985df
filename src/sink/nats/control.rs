//! The control side, on async-nats: the stream and the registry bucket made (or brought in line
//! with the config), and the registry merges. All of it runs a few times per connection or per
//! changed device, not per record, so it keeps the maintained client (KV's compare-and-set on
//! revisions, JetStream's API replies) rather than speaking the protocol itself as the
//! publishing connection does.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream, Context};
use async_nats::Client;

use super::kv::{KvDevice, Written};
use super::Stats;
use crate::config;

/// Merges in flight at once against the bucket.
const MERGES_IN_FLIGHT: usize = 64;

/// The stream of `[output.nats]`, created if missing. An existing stream that does not take
/// `<prefix>.>` gets it added (its other subjects are kept), and its duplicate window is set to
/// the config's; its other settings, which an operator may have tuned, are left alone.
pub async fn stream(js: &Context, cfg: &config::Nats) -> Result<(), String> {
    let subject = format!("{}.>", cfg.subject_prefix);
    let window = Duration::from_secs(cfg.duplicate_window_secs);
    match js.get_stream(&cfg.stream).await {
        Ok(mut existing) => {
            let info = existing.info().await.map_err(|e| e.to_string())?;
            let mut config = info.config.clone();
            let has_subject = config.subjects.contains(&subject);
            if has_subject && config.duplicate_window == window {
                return Ok(());
            }
            tracing::info!(
                "output.nats: stream {} (subjects {:?}, duplicate window {:?}) updated to take \
                 {subject} with a duplicate window of {window:?}",
                cfg.stream,
                config.subjects,
                config.duplicate_window
            );
            if !has_subject {
                config.subjects.push(subject);
            }
            config.duplicate_window = window;
            js.update_stream(config).await.map_err(|e| e.to_string())?;
            Ok(())
        }
        Err(_) => {
            let config = stream::Config {
                name: cfg.stream.clone(),
                subjects: vec![subject],
                duplicate_window: window,
                storage: stream::StorageType::File,
                ..Default::default()
            };
            js.get_or_create_stream(config)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
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
pub async fn prepare(client: &Client, cfg: &config::Nats) -> Result<kv::Store, String> {
    let js = jetstream::new(client.clone());
    stream(&js, cfg)
        .await
        .map_err(|e| format!("stream {}: {e}", cfg.stream))?;
    bucket(&js, &cfg.registry_bucket)
        .await
        .map_err(|e| format!("registry bucket {}: {e}", cfg.registry_bucket))
}

/// Merges a round's devices into the bucket: one merge per device (its later frames know
/// more), many in flight at once rather than one compare-and-set round trip after another.
/// `written` holds what this collector last wrote of each device, so that most merges need no
/// read first.
pub async fn merge_all(
    bucket: &kv::Store,
    merges: Vec<KvDevice>,
    written: &mut Written,
    stats: &Stats,
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
        let merged = done
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        stats.registry_merges.fetch_add(1, Ordering::Relaxed);
        stats
            .registry_conflicts
            .fetch_add(merged.conflicts, Ordering::Relaxed);
        written.keep(merged.last);
    }
}
