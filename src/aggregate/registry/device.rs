//! A device as the registry shows it: borrowed from its arrays, its text looked up as it is
//! read, and what the registry bucket is told of it.

use jiff::Timestamp;
use wire::device::Tag;

use super::super::strings::{Strings, Sym};
use crate::sink::nats::kv::DeviceView;

/// A device as the registry knows it, borrowed from it.
#[derive(Clone, Copy)]
pub struct Device<'r> {
    pub hostname: &'r str,
    pub(super) tags: u8,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub(super) ips: &'r [Sym],
    pub(super) users: &'r [Sym],
    pub(super) strings: &'r Strings,
}

impl<'r> Device<'r> {
    pub fn tags(&self) -> impl Iterator<Item = &'static str> {
        let tags = self.tags;
        Tag::ALL
            .into_iter()
            .filter(move |t| tags & *t as u8 != 0)
            .map(Tag::name)
    }

    /// The tags as bits (`Tag as u8`), as the store keeps them.
    pub fn tag_bits(&self) -> u8 {
        self.tags
    }

    /// Its IPs, the one seen longest ago first: the latest [`crate::batch::MAX_PER_DEVICE`] of them.
    pub fn ips(&self) -> Values<'r> {
        Values {
            syms: self.ips.iter(),
            strings: self.strings,
        }
    }

    /// Its users, the one seen longest ago first: the latest [`crate::batch::MAX_PER_DEVICE`] of them.
    pub fn users(&self) -> Values<'r> {
        Values {
            syms: self.users.iter(),
            strings: self.strings,
        }
    }
}

impl DeviceView for Device<'_> {
    fn hostname(&self) -> &str {
        self.hostname
    }

    fn tags(&self) -> impl Iterator<Item = &'static str> {
        Device::tags(self)
    }

    fn first_seen(&self) -> Timestamp {
        self.first_seen
    }

    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }

    fn ips(&self) -> impl ExactSizeIterator<Item = &str> {
        Device::ips(self)
    }

    fn users(&self) -> impl ExactSizeIterator<Item = &str> {
        Device::users(self)
    }
}

/// A device's IPs or users.
#[derive(Clone)]
pub struct Values<'r> {
    syms: std::slice::Iter<'r, Sym>,
    strings: &'r Strings,
}

impl<'r> Iterator for Values<'r> {
    type Item = &'r str;

    fn next(&mut self) -> Option<&'r str> {
        self.syms.next().map(|s| self.strings.get(*s))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.syms.size_hint()
    }
}

impl ExactSizeIterator for Values<'_> {}

impl std::fmt::Debug for Device<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("hostname", &self.hostname)
            .field("tags", &self.tags().collect::<Vec<_>>())
            .field("first_seen", &self.first_seen)
            .field("last_seen", &self.last_seen)
            .field("ips", &self.ips().collect::<Vec<_>>())
            .field("users", &self.users().collect::<Vec<_>>())
            .finish()
    }
}
