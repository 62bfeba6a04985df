//! The device registry: the truth about devices, owned by the aggregator, merged from the shards'
//! deltas, persisted by [`super::store`], and the device events of the devices file.
//!
//! Compact, for a million devices in a few hundred megabytes (issue 12): devices are 48-byte
//! entries in one array, found through [`Slots`]; their text is in [`Strings`] (IPs and users
//! interned), their IPs and users in [`Lists`], times in nanoseconds. Nothing is allocated per
//! device; [`Registry::heap_bytes`] says what it all holds.

use std::borrow::Cow;
use std::collections::VecDeque;

use jiff::Timestamp;
use wire::device::device_ip;

use super::lists::{Kind, List, Lists};
use super::slots::Slots;
use super::strings::{Strings, Sym};
use crate::batch::{DeviceNews, MAX_PER_DEVICE};

mod device;
mod event;
mod tail;
pub use device::{Device, Values};
pub use event::{write_event, DeviceEvent};
pub use tail::{merge_tail, Merged};

/// A device as the registry keeps it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u64,
    /// Nanoseconds since the epoch (1677 to 2262; times beyond are clamped).
    first_seen: i64,
    last_seen: i64,
    hostname: Sym,
    values: List,
    tags: u8,
    /// Changed since it was last saved (then it is in `Registry::unsaved`).
    unsaved: bool,
}

/// A device read back from the store.
pub struct Restored<'a, I> {
    pub id: u64,
    pub hostname: &'a str,
    pub tags: u8,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub ips: I,
    pub users: I,
}

/// When a value was seen, against the device's latest record: where a new one goes in its list,
/// and whether a known one moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sighting {
    /// Later than any record of the device before: last, and a known value moves last.
    Latest,
    /// As late as its latest record, or read back from a save, in list order: a new value goes
    /// last (within one instant, which came last is unknown), a known one stays.
    Known,
    /// Earlier than its latest record (a replay, a late batch): a new value goes first.
    Earlier,
}

/// The truth about devices, owned by the aggregator.
#[derive(Default)]
pub struct Registry {
    /// In the order they were created: the admin index takes new ones from the end.
    devices: Vec<Entry>,
    /// Positions in `devices`, by id.
    by_id: Slots,
    strings: Strings,
    lists: Lists,
    /// Devices the admin endpoint's index has taken ([`Registry::take_created`]): the first
    /// `indexed` of `devices`.
    indexed: usize,
    /// Positions of the devices changed since they were last handed to be saved, in the order
    /// they changed: a queue, as a flood of new devices hands a million of them in pieces.
    unsaved: VecDeque<u32>,
    /// Devices put in `unsaved` so far: the saver tells how long they waited by this count.
    marks: u64,
    /// Most devices it creates (`limits.max_devices`; none set: no bound but `u32`'s). Each one
    /// costs its hostname and more, and a feed can name any number of hostnames.
    most: Option<usize>,
    /// Changes of devices not created for `most`.
    refused: u64,
    /// Bytes of text past which it is rebuilt without what no device names any more
    /// ([`Registry::compact`]); 0 until first set.
    compact_at: usize,
}

/// Text the registry may hold before it is first rebuilt: below it, what values pushed out of
/// devices' lists leave behind is not worth a pass over every device.
const COMPACT_FLOOR: usize = if cfg!(test) { 4 << 10 } else { 64 << 20 };

impl Registry {
    /// Room for `devices` devices: the store knows how many before it fills the registry,
    /// which then does not grow their table while it loads.
    pub fn with_capacity(devices: usize) -> Registry {
        Registry {
            devices: Vec::with_capacity(devices),
            by_id: Slots::with_capacity(devices),
            ..Registry::default()
        }
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Creates no device past `most` from now on (those it holds stay).
    pub fn bound(&mut self, most: usize) {
        self.most = Some(most);
    }

    /// Changes of devices not created since start: the registry held `limits.max_devices`.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<Device<'_>> {
        self.position(id).map(|p| self.view(p))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, Device<'_>)> {
        (0..self.devices.len()).map(|p| (self.devices[p].id, self.view(p as u32)))
    }

    /// Moves up to `most` of the devices created since the last call into `into`, with their
    /// hostnames, oldest first.
    pub fn take_created(&mut self, most: usize, into: &mut Vec<(String, u64)>) {
        let end = self.devices.len().min(self.indexed.saturating_add(most));
        for e in &self.devices[self.indexed..end] {
            into.push((self.strings.get(e.hostname).to_owned(), e.id));
        }
        self.indexed = end;
    }

    /// Merges a shard's delta; returns the event to log when the device is new or gained a tag.
    pub fn apply(&mut self, d: &DeviceNews<'_>) -> Option<DeviceEvent> {
        let mut event = None;
        let p = match self.position(d.id) {
            Some(p) => p,
            None => {
                event = Some(DeviceEvent::Created);
                self.create(d.id, d.key, d.seen)?
            }
        };
        let mut changed = event.is_some();
        let e = &mut self.devices[p as usize];
        if e.tags & d.tag as u8 == 0 {
            e.tags |= d.tag as u8;
            event.get_or_insert(DeviceEvent::Tagged);
            changed = true;
        }
        let when = match nanos(d.seen).cmp(&e.last_seen) {
            std::cmp::Ordering::Greater => Sighting::Latest,
            std::cmp::Ordering::Equal => Sighting::Known,
            std::cmp::Ordering::Less => Sighting::Earlier,
        };
        // A new device's first sighting is its latest.
        let when = if event == Some(DeviceEvent::Created) {
            Sighting::Latest
        } else {
            when
        };
        changed |= seen(e, d.seen, d.seen);
        for (kind, value) in [(Kind::Ip, d.ip), (Kind::User, d.user)] {
            if let Some(v) = value {
                changed |= self.add(p, kind, v, when);
            }
        }
        if changed {
            self.mark(p);
        }
        event
    }

    /// Puts back a device saved earlier (merged with what is there, if anything).
    pub fn restore<'a>(&mut self, d: Restored<'a, impl Iterator<Item = &'a str>>) {
        let Some(p) = self
            .position(d.id)
            .or_else(|| self.create(d.id, d.hostname, d.first_seen))
        else {
            return;
        };
        let e = &mut self.devices[p as usize];
        e.tags |= d.tags;
        seen(e, d.first_seen, d.last_seen);
        for (kind, values) in [(Kind::Ip, d.ips), (Kind::User, d.users)] {
            for v in values {
                self.add(p, kind, v, Sighting::Known);
            }
        }
    }

    /// Devices changed since they were last handed to be saved ([`Registry::saved_first`]).
    pub fn unsaved(&self) -> usize {
        self.unsaved.len()
    }

    /// Devices put among the unsaved so far, ever: the mark the next one gets.
    pub fn marks(&self) -> u64 {
        self.marks
    }

    /// The mark of the first unsaved device: every device marked before it has been handed to
    /// be saved since.
    pub fn first_unsaved_mark(&self) -> u64 {
        self.marks - self.unsaved.len() as u64
    }

    /// How many of the unsaved devices were put there before mark `mark` (the count
    /// [`Registry::marks`] gave then): those first in [`Registry::unsaved_devices`].
    pub fn unsaved_before(&self, mark: u64) -> usize {
        let first = self.first_unsaved_mark();
        let before = mark.saturating_sub(first).min(self.unsaved.len() as u64);
        before as usize
    }

    pub fn unsaved_devices(&self) -> impl Iterator<Item = (u64, Device<'_>)> {
        self.unsaved
            .iter()
            .map(|p| (self.devices[*p as usize].id, self.view(*p)))
    }

    /// The first `n` of [`Registry::unsaved_devices`] are saved now.
    pub fn saved_first(&mut self, n: usize) {
        for p in self.unsaved.drain(..n.min(self.unsaved.len())) {
            self.devices[p as usize].unsaved = false;
        }
    }

    /// Bytes the registry holds, all of it on the heap: what its memory bound is about.
    pub fn heap_bytes(&self) -> usize {
        self.devices.capacity() * std::mem::size_of::<Entry>()
            + self.by_id.heap_bytes()
            + self.strings.heap_bytes()
            + self.lists.heap_bytes()
            + self.unsaved.capacity() * 4
    }

    fn position(&self, id: u64) -> Option<u32> {
        self.by_id.find(id, |p| {
            self.devices.get(p as usize).is_some_and(|e| e.id == id)
        })
    }

    /// A new device; `None` when the registry cannot hold more (4 G devices or bytes of text).
    fn create(&mut self, id: u64, hostname: &str, seen: Timestamp) -> Option<u32> {
        if self.most.is_some_and(|most| self.devices.len() >= most) {
            self.refused += 1;
            return None;
        }
        let p = u32::try_from(self.devices.len()).ok()?;
        let hostname = self.strings.push(hostname)?;
        self.devices.push(Entry {
            id,
            first_seen: nanos(seen),
            last_seen: nanos(seen),
            hostname,
            values: List::default(),
            tags: 0,
            unsaved: false,
        });
        self.by_id.insert(id, p);
        Some(p)
    }

    /// Adds an IP or a user; true when the list changed. At the cap the one seen longest ago
    /// leaves: a DHCP laptop's current IP is its latest, and keeping the first ones froze the
    /// list for good. A value the device has moves after the others when its sighting is
    /// [`Sighting::Latest`]: a laptop back on its first IP after 32 others keeps it. A new one
    /// from an [`Sighting::Earlier`] record (a replay, a late batch) goes first, to leave first.
    fn add(&mut self, p: u32, kind: Kind, value: &str, when: Sighting) -> bool {
        let value = match kind {
            Kind::Ip => match device_ip(value) {
                Some(ip) => ip,
                None => return false,
            },
            Kind::User => Cow::Borrowed(value),
        };
        // Interned only when new to the registry, and then new to the device too. Text is not
        // freed when its value leaves a list (another device may hold it): the registry's text
        // is every distinct IP and user seen since the start, which a restart compacts.
        let Some(sym) = self.strings.intern(&value) else {
            return false;
        };
        let list = &mut self.devices[p as usize].values;
        if self.lists.get(list, kind).contains(&sym) {
            return when == Sighting::Latest && self.lists.to_back(list, kind, sym);
        }
        let last = when != Sighting::Earlier;
        if list.len(kind) >= MAX_PER_DEVICE {
            let pushed = self.lists.push_out(list, kind, sym, last);
            // What leaves a list may be named nowhere else: DHCP and IPv6 temporary
            // addresses would grow the text for as long as the collector runs.
            if self.strings.text_len() > self.compact_at.max(COMPACT_FLOOR) {
                self.compact();
            }
            return pushed;
        }
        self.lists.add(list, kind, sym, last)
    }

    /// Rebuilds the text with only what devices name: their hostnames and the values in their
    /// lists. Run when the text has doubled since the last time, so that its cost, a pass over
    /// every device, is paid once for as many bytes as it frees at most.
    pub(super) fn compact(&mut self) {
        // Where each string named goes; nothing changes until all of them have a place.
        const GONE: Sym = Sym::MAX;
        let old = &self.strings;
        let mut strings = Strings::with_capacity(self.devices.len(), old.text_len() / 2);
        let mut moved: Vec<Sym> = Vec::new();
        let mut place = |sym: Sym, strings: &mut Strings, interned: bool| -> Option<()> {
            let at = sym as usize;
            if at >= moved.len() {
                moved.resize(at + 1, GONE);
            }
            if moved[at] == GONE {
                let text = old.get(sym);
                moved[at] = if interned {
                    strings.intern(text)?
                } else {
                    strings.push(text)?
                };
            }
            Some(())
        };
        for e in &self.devices {
            let values = [Kind::Ip, Kind::User].map(|k| self.lists.get(&e.values, k));
            let named = place(e.hostname, &mut strings, false).and_then(|()| {
                values
                    .iter()
                    .flat_map(|v| v.iter())
                    .try_for_each(|sym| place(*sym, &mut strings, true))
            });
            // The new text holds no more than the old: this cannot fail, and were it to, the
            // old text stays as it is.
            if named.is_none() {
                return;
            }
        }
        let new = |sym: Sym| moved.get(sym as usize).copied().unwrap_or(GONE);
        for e in &mut self.devices {
            e.hostname = new(e.hostname);
            self.lists.remap(&mut e.values, new);
        }
        self.strings = strings;
        self.compact_at = self.strings.text_len() * 2;
    }

    fn mark(&mut self, p: u32) {
        let e = &mut self.devices[p as usize];
        if !e.unsaved {
            e.unsaved = true;
            self.unsaved.push_back(p);
            self.marks += 1;
        }
    }

    fn view(&self, p: u32) -> Device<'_> {
        let e = &self.devices[p as usize];
        Device {
            hostname: self.strings.get(e.hostname),
            tags: e.tags,
            first_seen: time(e.first_seen),
            last_seen: time(e.last_seen),
            ips: self.lists.get(&e.values, Kind::Ip),
            users: self.lists.get(&e.values, Kind::User),
            strings: &self.strings,
        }
    }
}

/// Widens a device's first and last seen to take in `first..=last`; true when they moved.
fn seen(e: &mut Entry, first: Timestamp, last: Timestamp) -> bool {
    let (first, last) = (nanos(first), nanos(last));
    let before = (e.first_seen, e.last_seen);
    e.first_seen = e.first_seen.min(first);
    e.last_seen = e.last_seen.max(last);
    (e.first_seen, e.last_seen) != before
}

fn nanos(t: Timestamp) -> i64 {
    t.as_nanosecond()
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn time(nanos: i64) -> Timestamp {
    // Every i64 of nanoseconds is within jiff's range.
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests;
