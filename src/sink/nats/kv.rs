//! The device registry in a JetStream KV bucket (DESIGN §4 "Scale-out"): key = the device id as
//! 16 hex digits (within KV's key alphabet as it is), value = the device as JSON with the device
//! event's fields. A collector merges its view into the stored value with compare-and-set on
//! the entry's revision and tries again when another collector wrote in between, so tags, IPs
//! and users from every collector accumulate.

use async_nats::jetstream::kv::{CreateErrorKind, Operation, Store, UpdateErrorKind};
use async_nats::jetstream::ErrorCode;
use bytes::Bytes;
use jiff::Timestamp;

use crate::batch::MAX_PER_DEVICE;

/// A device as the registry knows it, as much as the bucket is told: the aggregator's registry
/// gives its devices so (the sink does not know the registry, which depends on it).
pub trait DeviceView {
    fn hostname(&self) -> &str;
    fn tags(&self) -> impl Iterator<Item = &'static str>;
    fn first_seen(&self) -> Timestamp;
    fn last_seen(&self) -> Timestamp;
    /// Its IPs, the one seen longest ago first.
    fn ips(&self) -> impl ExactSizeIterator<Item = &str>;
    /// Its users, the one seen longest ago first.
    fn users(&self) -> impl ExactSizeIterator<Item = &str>;
}

/// A device as the bucket holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KvDevice {
    pub device_id: String,
    pub hostname: String,
    pub tags: Vec<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub ips: Vec<String>,
    pub users: Vec<String>,
}

impl KvDevice {
    pub fn of(id: u64, d: &impl DeviceView) -> KvDevice {
        KvDevice {
            device_id: key(id),
            hostname: d.hostname().to_owned(),
            tags: d.tags().map(str::to_owned).collect(),
            first_seen: d.first_seen(),
            last_seen: d.last_seen(),
            ips: d.ips().map(str::to_owned).collect(),
            users: d.users().map(str::to_owned).collect(),
        }
    }

    /// About the memory it takes.
    pub fn size(&self) -> usize {
        let strings = || {
            [&self.device_id, &self.hostname]
                .into_iter()
                .chain(&self.tags)
                .chain(&self.ips)
                .chain(&self.users)
        };
        std::mem::size_of::<KvDevice>() + strings().map(|s| s.len() + 24).sum::<usize>()
    }

    /// Adds what `other` knows; true when something changed. Lists keep their order (the order
    /// values reached the bucket) and the registry's cap per device, the first leaving
    /// ([`merge_list`]).
    pub fn merge(&mut self, other: &KvDevice) -> bool {
        let before = self.clone();
        for tag in &other.tags {
            if !self.tags.contains(tag) {
                self.tags.push(tag.clone());
            }
        }
        merge_list(&mut self.ips, &other.ips);
        merge_list(&mut self.users, &other.users);
        self.tags.sort();
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        if self.hostname.is_empty() {
            self.hostname.clone_from(&other.hostname);
        }
        *self != before
    }
}

/// Adds the values of `theirs` (a list in first-seen order) that `mine` lacks, and keeps the
/// newest [`MAX_PER_DEVICE`] of `mine` (its last ones).
///
/// Lists carry no times, so where a value goes is read from the order of `theirs`. Those after
/// the last of theirs that mine holds are new to mine: they go at the end, newest. Those before
/// it were in mine and have been pushed out by newer ones (a collector merges each value when it
/// is new, a second later at most), or are older than something mine knows: each goes after the
/// value theirs has before it, or first, and the cap pushes the first out again. Appended, they
/// would come back as the newest at each merge of a collector that still holds them, over the
/// values another collector saw since. When mine holds none of theirs, only their newest counts
/// as new: the others cannot be told from values pushed out (a collector that saw the device
/// elsewhere, long ago), and two collectors that see a device in different places would
/// otherwise replace its whole list in turns. A value mine has stays where it is: unlike the
/// registry, whose list moves a value seen again last, the bucket cannot tell one collector's
/// old order from another's new one. So at the cap a merge may push out a value the writer's
/// list has just moved last; its next merge (a minute of `last_seen` later, or its next new
/// value) brings it back, after its predecessor in the writer's order.
fn merge_list(mine: &mut Vec<String>, theirs: &[String]) {
    let new_from = match theirs.iter().rposition(|v| mine.contains(v)) {
        Some(known) => known + 1,
        None => theirs.len().saturating_sub(1),
    };
    // Where in `mine` the value of `theirs` before this one is.
    let mut after: Option<usize> = None;
    for (i, v) in theirs.iter().enumerate() {
        let at = match mine.iter().position(|m| m == v) {
            Some(at) => at,
            None => {
                let at = if i >= new_from {
                    mine.len()
                } else {
                    after.map_or(0, |a| a + 1)
                };
                mine.insert(at, v.clone());
                at
            }
        };
        after = Some(at);
    }
    let over = mine.len().saturating_sub(MAX_PER_DEVICE);
    mine.drain(..over);
}

/// The bucket key of a device.
pub fn key(id: u64) -> String {
    format!("{id:016x}")
}

/// Why a merge did not reach the bucket.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("registry bucket: {0}")]
    Nats(String),
    /// JetStream refused the write for what it is or for the bucket's limits (its max_bytes
    /// reached with discard new, a device over its max_msg_size): written again, it would be
    /// refused again, so the merge is passed over rather than held against the records.
    #[error("registry bucket refused device {key}: {why}")]
    Refused { key: String, why: String },
    #[error("registry bucket: still conflicting after {0} attempts")]
    Conflicts(u32),
}

/// JetStream errors that a later attempt may not meet (a cluster or stream between leaders,
/// storage not ready): the merge fails as an outage does and is tried again.
const TRANSIENT: [ErrorCode; 8] = [
    ErrorCode::CLUSTER_NOT_ACTIVE,
    ErrorCode::CLUSTER_NOT_ASSIGNED,
    ErrorCode::CLUSTER_NOT_AVAILABLE,
    ErrorCode::CLUSTER_NOT_LEADER,
    ErrorCode::JETSTREAM_NOT_ENABLED,
    ErrorCode::STREAM_OFFLINE,
    ErrorCode::TEMP_STORAGE_FAILED,
    ErrorCode::INSUFFICIENT_RESOURCES,
];

/// What a failed write of `key` is: [`MergeError::Refused`] when JetStream answered with an
/// error that writing again would meet again, else a failure that retrying may cure (no
/// answer, a timeout, the connection lost). Said by its innermost cause: async-nats calls every
/// failed write "failed getting entry".
fn write_failed(key: &str, e: &(dyn std::error::Error + 'static)) -> MergeError {
    let mut cause = e;
    let mut jetstream = None;
    loop {
        if let Some(js) = cause.downcast_ref::<async_nats::jetstream::Error>() {
            jetstream = Some(js);
        }
        match cause.source() {
            Some(inner) => cause = inner,
            None => break,
        }
    }
    match jetstream {
        Some(js) if !TRANSIENT.contains(&js.error_code()) => MergeError::Refused {
            key: key.to_owned(),
            why: js.to_string(),
        },
        _ => MergeError::Nats(format!("writing device {key}: {cause}")),
    }
}

/// Compare-and-set attempts before a merge is given up (and retried with the spool's frame).
const ATTEMPTS: u32 = 32;

/// Bytes of devices [`Written`] keeps, about; past it, it starts over. Enough for the values of
/// tens of thousands of devices.
const WRITTEN_BYTES: usize = 32 << 20;

/// A device as this collector last wrote it to the bucket, and the revision that made it.
#[derive(Debug, Clone)]
pub struct Last {
    pub revision: u64,
    pub value: KvDevice,
}

/// What a merge did.
#[derive(Debug)]
pub struct Merged {
    /// Compare-and-set conflicts met: another collector wrote in between.
    pub conflicts: u64,
    /// Reads of the stored value.
    pub reads: u32,
    /// The bucket's value as this merge left it (written or found).
    pub last: Last,
}

/// The devices this collector wrote last, for the next merge of each.
///
/// Otherwise a merge is a read of the stored value and then a compare-and-set on its revision:
/// two requests, and a decode. When this collector wrote the device's latest revision, it knows
/// the value already, so the merge is the compare-and-set alone, or nothing at all when the
/// device holds nothing new; a write by another collector in between fails the compare-and-set,
/// and the merge then reads as before.
#[derive(Debug, Default)]
pub struct Written {
    by_key: std::collections::HashMap<String, Last>,
    bytes: usize,
}

impl Written {
    /// The device's last write, if remembered; the merge hands back the next.
    pub fn take(&mut self, key: &str) -> Option<Last> {
        let last = self.by_key.remove(key)?;
        self.bytes -= last.value.size();
        Some(last)
    }

    pub fn keep(&mut self, last: Last) {
        let size = last.value.size();
        if self.bytes + size > WRITTEN_BYTES {
            self.by_key.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        if let Some(old) = self.by_key.insert(last.value.device_id.clone(), last) {
            self.bytes -= old.value.size();
        }
    }
}

/// Merges `local` into the bucket's value for its device, starting from `last` when this
/// collector wrote the device before ([`Written`]).
pub async fn merge(
    store: &Store,
    local: &KvDevice,
    last: Option<Last>,
) -> Result<Merged, MergeError> {
    let nats = |e: &dyn std::fmt::Display| MergeError::Nats(e.to_string());
    let key = &local.device_id;
    let mut conflicts = 0;
    let mut reads = 0;
    if let Some(Last {
        revision: known,
        value: mut merged,
    }) = last
    {
        // A merge that adds nothing leaves the value as it was: it is still the stored one.
        if !merged.merge(local) {
            return Ok(Merged {
                conflicts,
                reads,
                last: Last {
                    revision: known,
                    value: merged,
                },
            });
        }
        match store.update(key, to_bytes(&merged)?, known).await {
            Ok(revision) => {
                return Ok(Merged {
                    conflicts,
                    reads,
                    last: Last {
                        revision,
                        value: merged,
                    },
                })
            }
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => conflicts += 1,
            Err(e) => return Err(write_failed(key, &e)),
        }
    }
    for _ in 0..ATTEMPTS {
        let entry = store.entry(key.as_str()).await.map_err(|e| nats(&e))?;
        reads += 1;
        let done = |revision, value| Merged {
            conflicts,
            reads,
            last: Last { revision, value },
        };
        match entry {
            Some(entry) if entry.operation == Operation::Put => {
                // A value that is not a device (written by something else) is replaced by ours.
                let (mut merged, foreign) = match serde_json::from_slice::<KvDevice>(&entry.value) {
                    Ok(stored) => (stored, false),
                    Err(_) => (local.clone(), true),
                };
                if !merged.merge(local) && !foreign {
                    return Ok(done(entry.revision, merged));
                }
                let value = to_bytes(&merged)?;
                match store.update(key, value, entry.revision).await {
                    Ok(revision) => return Ok(done(revision, merged)),
                    Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => conflicts += 1,
                    Err(e) => return Err(write_failed(key, &e)),
                }
            }
            _ => match store.create(key, to_bytes(local)?).await {
                Ok(revision) => return Ok(done(revision, local.clone())),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => conflicts += 1,
                Err(e) => return Err(write_failed(key, &e)),
            },
        }
    }
    Err(MergeError::Conflicts(ATTEMPTS))
}

/// The bucket's value for a device, if any.
pub async fn get(store: &Store, id: u64) -> Result<Option<KvDevice>, MergeError> {
    let value = store
        .get(key(id))
        .await
        .map_err(|e| MergeError::Nats(e.to_string()))?;
    Ok(value.and_then(|v| serde_json::from_slice(&v).ok()))
}

fn to_bytes(d: &KvDevice) -> Result<Bytes, MergeError> {
    serde_json::to_vec(d)
        .map(Bytes::from)
        .map_err(|e| MergeError::Nats(e.to_string()))
}

#[cfg(test)]
mod tests;
