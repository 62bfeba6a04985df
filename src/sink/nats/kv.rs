//! The device registry in a JetStream KV bucket (DESIGN §4 "Scale-out"): key = the device id as
//! 16 hex digits (within KV's key alphabet as it is), value = the device as JSON with the device
//! event's fields. A collector merges its view into the stored value with compare-and-set on
//! the entry's revision and tries again when another collector wrote in between, so tags, IPs
//! and users from every collector accumulate.

use async_nats::jetstream::kv::{CreateErrorKind, Operation, Store, UpdateErrorKind};
use bytes::Bytes;
use jiff::Timestamp;

use crate::aggregate::registry::Device;
use crate::batch::MAX_PER_DEVICE;

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
    pub fn of(id: u64, d: &Device<'_>) -> KvDevice {
        KvDevice {
            device_id: key(id),
            hostname: d.hostname.to_owned(),
            tags: d.tags().map(str::to_owned).collect(),
            first_seen: d.first_seen,
            last_seen: d.last_seen,
            ips: d.ips().map(str::to_owned).collect(),
            users: d.users().map(str::to_owned).collect(),
        }
    }

    /// Adds what `other` knows; true when something changed. Lists keep their order (first
    /// seen first) and the registry's cap per device.
    pub fn merge(&mut self, other: &KvDevice) -> bool {
        let before = self.clone();
        for (mine, theirs, cap) in [
            (&mut self.tags, &other.tags, usize::MAX),
            (&mut self.ips, &other.ips, MAX_PER_DEVICE),
            (&mut self.users, &other.users, MAX_PER_DEVICE),
        ] {
            for v in theirs {
                if mine.len() < cap && !mine.contains(v) {
                    mine.push(v.clone());
                }
            }
        }
        self.tags.sort();
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        if self.hostname.is_empty() {
            self.hostname.clone_from(&other.hostname);
        }
        *self != before
    }
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
    #[error("registry bucket: still conflicting after {0} attempts")]
    Conflicts(u32),
}

/// Compare-and-set attempts before a merge is given up (and retried with the spool's frame).
const ATTEMPTS: u32 = 32;

/// Merges `local` into the bucket's value for its device. Returns the conflicts met.
pub async fn merge(store: &Store, local: &KvDevice) -> Result<u64, MergeError> {
    let nats = |e: &dyn std::fmt::Display| MergeError::Nats(e.to_string());
    let key = &local.device_id;
    let mut conflicts = 0;
    for _ in 0..ATTEMPTS {
        let entry = store.entry(key.as_str()).await.map_err(|e| nats(&e))?;
        match entry {
            Some(entry) if entry.operation == Operation::Put => {
                // A value that is not a device (written by something else) is replaced by ours.
                let (mut merged, foreign) = match serde_json::from_slice::<KvDevice>(&entry.value) {
                    Ok(stored) => (stored, false),
                    Err(_) => (local.clone(), true),
                };
                if !merged.merge(local) && !foreign {
                    return Ok(conflicts);
                }
                let value = to_bytes(&merged)?;
                match store.update(key, value, entry.revision).await {
                    Ok(_) => return Ok(conflicts),
                    Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => conflicts += 1,
                    Err(e) => return Err(nats(&e)),
                }
            }
            _ => match store.create(key, to_bytes(local)?).await {
                Ok(_) => return Ok(conflicts),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => conflicts += 1,
                Err(e) => return Err(nats(&e)),
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
mod tests {
    use super::*;

    fn dev(tags: &[&str], ips: &[&str], first: i64, last: i64) -> KvDevice {
        KvDevice {
            device_id: key(7),
            hostname: "pc1".into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            first_seen: Timestamp::from_second(first).unwrap(),
            last_seen: Timestamp::from_second(last).unwrap(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            users: vec![],
        }
    }

    #[test]
    fn merging_accumulates_and_says_when_nothing_changed() {
        let mut a = dev(&["ZPA"], &["10.0.0.1"], 100, 200);
        let b = dev(&["ZIA"], &["10.0.0.2", "10.0.0.1"], 50, 150);
        assert!(a.merge(&b));
        assert_eq!(a.tags, ["ZIA", "ZPA"]);
        assert_eq!(a.ips, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(a.first_seen.as_second(), 50);
        assert_eq!(a.last_seen.as_second(), 200);
        assert!(!a.merge(&b), "merging again changes nothing");
    }
}
