//! A device's value in the table: its binary form (the format byte first), read and written
//! without serde on the aggregator's thread, and the JSON that versions before it saved, which
//! `Store::open` moves to it.

use jiff::Timestamp;

use crate::aggregate::registry::{Device, Restored};

/// The first byte of a value: its layout.
pub(super) const FORMAT: u8 = 1;

/// A device as versions before [`FORMAT`] saved it.
#[derive(serde::Deserialize)]
pub(super) struct Legacy {
    hostname: String,
    tags: u8,
    first_seen: Timestamp,
    last_seen: Timestamp,
    ips: Vec<String>,
    users: Vec<String>,
}

/// A device's value: the format byte, its tags, first and last seen (nanoseconds, i64 LE), its
/// counts of IPs and users (one byte each), then its hostname, IPs and users, each as a u16 LE
/// length and the bytes. Strings are at most 256 bytes (the shards drop longer ones).
pub(super) fn encode(device: &Device<'_>, out: &mut Vec<u8>) {
    let parts = (device.hostname, device.tag_bits());
    let times = [device.first_seen, device.last_seen];
    encode_parts(parts, times, device.ips(), device.users(), out);
}

impl Legacy {
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        let parts = (self.hostname.as_str(), self.tags);
        let times = [self.first_seen, self.last_seen];
        let (ips, users) = (self.ips.iter(), self.users.iter());
        encode_parts(
            parts,
            times,
            ips.map(String::as_str),
            users.map(String::as_str),
            out,
        );
    }
}

fn encode_parts<'s>(
    (hostname, tags): (&'s str, u8),
    times: [Timestamp; 2],
    ips: impl ExactSizeIterator<Item = &'s str>,
    users: impl ExactSizeIterator<Item = &'s str>,
    out: &mut Vec<u8>,
) {
    let count = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
    let (n_ips, n_users) = (count(ips.len()), count(users.len()));
    out.push(FORMAT);
    out.push(tags);
    for t in times {
        let nanos = t.as_nanosecond().clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        out.extend_from_slice(&nanos.to_le_bytes());
    }
    out.extend_from_slice(&[n_ips, n_users]);
    let strings = std::iter::once(hostname)
        .chain(ips.take(n_ips.into()))
        .chain(users.take(n_users.into()));
    for s in strings {
        let s = &s.as_bytes()[..floor_char(s, usize::from(u16::MAX))];
        out.extend_from_slice(&(s.len() as u16).to_le_bytes());
        out.extend_from_slice(s);
    }
}

/// The longest prefix of `s` of at most `most` bytes that ends on a character.
fn floor_char(s: &str, most: usize) -> usize {
    (0..=most.min(s.len()))
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

/// The device in `value`, if it is one of [`encode`]'s.
pub(super) fn decode(id: u64, value: &[u8]) -> Option<Restored<'_, Texts<'_>>> {
    let (&[format, tags], rest) = value.split_first_chunk::<2>()?;
    if format != FORMAT {
        return None;
    }
    let (first, rest) = rest.split_first_chunk::<8>()?;
    let (last, rest) = rest.split_first_chunk::<8>()?;
    let (&[n_ips, n_users], rest) = rest.split_first_chunk::<2>()?;
    let mut texts = Texts {
        rest,
        left: 1 + usize::from(n_ips) + usize::from(n_users),
    };
    // Every string is there and is text: iterating below cannot come up short.
    texts.clone().skip()?;
    let hostname = texts.next()?;
    let ips = Texts {
        rest: texts.rest,
        left: n_ips.into(),
    };
    let users = Texts {
        rest: ips.clone().skip()?,
        left: n_users.into(),
    };
    let time = |b: &[u8; 8]| Timestamp::from_nanosecond(i64::from_le_bytes(*b).into()).ok();
    Some(Restored {
        id,
        hostname,
        tags,
        first_seen: time(first)?,
        last_seen: time(last)?,
        ips,
        users,
    })
}

/// Strings of a value, each a u16 LE length and its bytes.
#[derive(Clone)]
pub(super) struct Texts<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Texts<'a> {
    /// What follows the strings, if they are all there and all text.
    fn skip(mut self) -> Option<&'a [u8]> {
        while self.left > 0 {
            self.next()?;
        }
        Some(self.rest)
    }
}

impl<'a> Iterator for Texts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.left == 0 {
            return None;
        }
        let (len, rest) = self.rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_le_bytes(*len));
        let (s, rest) = (rest.get(..len)?, rest.get(len..)?);
        let s = std::str::from_utf8(s).ok()?;
        self.rest = rest;
        self.left -= 1;
        Some(s)
    }
}
