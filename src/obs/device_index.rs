//! The admin endpoint's index of devices by hostname, which `/devices` pages from.
//!
//! Sorting the registry for a page held the aggregator's lock for as long as the sort took
//! (issue 14: with 600,000 devices every shard's records waited). The index is the admin
//! threads' own: it takes the devices created since it last looked from the registry a chunk at
//! a time ([`Registry::take_created`]), sorts and merges them with the registry unlocked, and a
//! page is then a slice of it. Under the registry's lock a request does at most a chunk's work
//! per lock, and the page's lookups.

use std::sync::Mutex;

use crate::aggregate::registry::Registry;

/// The most devices taken from the registry under one lock: 0.15 ms of it (`benches/admin.rs`).
pub const CHUNK: usize = 4_096;

/// Every device the registry had when last refreshed, by hostname then id.
#[derive(Default)]
pub struct DeviceIndex {
    sorted: Vec<(String, u64)>,
    fresh: Vec<(String, u64)>,
}

impl DeviceIndex {
    /// Takes in the devices created since the last refresh; false when the registry's lock is
    /// poisoned (the aggregator panicked).
    pub fn refresh(&mut self, registry: &Mutex<Registry>) -> bool {
        self.fresh.clear();
        loop {
            let before = self.fresh.len();
            let Ok(mut registry) = registry.lock() else {
                return false;
            };
            registry.take_created(CHUNK, &mut self.fresh);
            drop(registry);
            if self.fresh.len() - before < CHUNK {
                break;
            }
        }
        if !self.fresh.is_empty() {
            self.fresh.sort_unstable();
            self.sorted.append(&mut self.fresh);
            // Two sorted runs: the stable sort merges them in one pass.
            self.sorted.sort();
        }
        true
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Ids of the devices `offset..offset + limit` by hostname.
    pub fn page(&self, offset: usize, limit: usize) -> impl Iterator<Item = u64> + '_ {
        self.sorted
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(_, id)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::DeviceNews;
    use jiff::Timestamp;
    use wire::device::{device_id, Tag};

    fn delta(host: &str) -> DeviceNews<'_> {
        DeviceNews {
            id: device_id(host),
            key: host,
            tag: Tag::Zia,
            seen: Timestamp::UNIX_EPOCH,
            ip: None,
            user: None,
        }
    }

    #[test]
    fn pages_are_by_hostname_across_refreshes_and_chunks() {
        let registry = Mutex::new(Registry::default());
        let mut index = DeviceIndex::default();
        // More than a chunk at once, in no order, then a few more later.
        let first: Vec<String> = (0..CHUNK + 10)
            .rev()
            .map(|i| format!("host-{i:06}"))
            .collect();
        for host in &first {
            registry.lock().unwrap().apply(&delta(host));
        }
        assert!(index.refresh(&registry));
        assert_eq!(index.len(), first.len());
        for host in ["a-first", "zz-last", "host-000005x"] {
            registry.lock().unwrap().apply(&delta(host));
        }
        // A device seen again is not indexed twice.
        registry.lock().unwrap().apply(&delta("host-000001"));
        assert!(index.refresh(&registry));
        assert_eq!(index.len(), first.len() + 3);
        let names = |offset, limit| -> Vec<String> {
            let registry = registry.lock().unwrap();
            index
                .page(offset, limit)
                .map(|id| registry.get(id).unwrap().hostname.to_owned())
                .collect()
        };
        assert_eq!(names(0, 3), ["a-first", "host-000000", "host-000001"]);
        assert_eq!(names(6, 2), ["host-000005", "host-000005x"]);
        assert_eq!(names(index.len() - 1, 10), ["zz-last"]);
        assert!(names(index.len(), 10).is_empty());
        // Nothing new: nothing changes.
        assert!(index.refresh(&registry));
        assert_eq!(index.len(), first.len() + 3);
    }
}
