//! Device identity (DESIGN §2.4): what every collector agrees on without talking to another.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_64;

/// An IP address in its one text (`2001:db8::1` however a feed wrote it, `10.0.0.2` for
/// `::ffff:10.0.0.2`), borrowed when `text` is that already; `None` for what is no address
/// (`Unknown`, `1.2.3.4:443`). What names a device by its IP and what a device lists as its IPs
/// both go through it, so that one address is one name and one value.
pub fn canonical_ip(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains(':') {
        // An IPv4 address reads back as written (Rust refuses leading zeros).
        return text
            .parse::<std::net::Ipv4Addr>()
            .is_ok()
            .then_some(Cow::Borrowed(text));
    }
    let ip = text.parse::<std::net::IpAddr>().ok()?.to_canonical();
    // Written on the stack first: most IPv6 text is canonical already, and a record without a
    // hostname comes here (45 bytes hold any address's text).
    let mut canonical = [0u8; 64];
    let mut out = &mut canonical[..];
    use std::io::Write;
    write!(out, "{ip}").ok()?;
    let len = 64 - out.len();
    let canonical = std::str::from_utf8(&canonical[..len]).ok()?;
    Some(if canonical == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(canonical.to_owned())
    })
}

/// An address as a record writes it: an IPv6 address in its one text ([`canonical_ip`]), as
/// the registry and attribution write it, so that a join on the text finds them; anything else
/// as the feed wrote it (an IPv4 address is its one text already; what is no address is kept).
/// Allocates only for IPv6 text that is not canonical.
pub fn record_ip(text: Cow<'_, str>) -> Cow<'_, str> {
    // Nearly every record's addresses are IPv4, whose first dot is among bytes 1 to 3, where no
    // IPv6 text has one (its IPv4 tail comes after `::` and a digit at least, or starts it):
    // a few comparisons, where the search for `:` cost about 50 instructions a field.
    let b = text.as_bytes();
    if b.first() != Some(&b':') && b.get(1..4).is_some_and(|b| b.contains(&b'.')) {
        return text;
    }
    if !text.contains(':') {
        return text;
    }
    let canonical = match canonical_ip(&text) {
        Some(Cow::Owned(canonical)) => canonical,
        _ => return text,
    };
    Cow::Owned(canonical)
}

/// An address a device may have: its one text ([`canonical_ip`]); `None` for what is no address
/// and for the unspecified one (`0.0.0.0`, `::` however written), which is where a feed had none
/// (NSS's client IP, LSS's private IP of a client without one), and which every such device
/// would share.
pub fn device_ip(text: &str) -> Option<Cow<'_, str>> {
    canonical_ip(text).filter(|ip| !matches!(ip.as_ref(), "0.0.0.0" | "::"))
}

/// The stable id of a device key: xxh3 of the lower-cased key. The same hostname gets the same
/// id on every shard, restart and collector, with no coordination.
pub fn device_id(key: &str) -> u64 {
    let key = crate::value::trim(key);
    let b = key.as_bytes();
    if b.len() <= 64 {
        // Most hostnames: lower-cased into a small buffer in the pass that checks them ASCII,
        // where zeroing 256 bytes, a copy and a second pass cost more than the hash.
        let mut buf = [0u8; 64];
        let mut high = 0;
        for (lower, &c) in buf.iter_mut().zip(b) {
            high |= c;
            *lower = c.to_ascii_lowercase();
        }
        if high < 0x80 {
            return xxh3_64(&buf[..b.len()]);
        }
    }
    if key.is_ascii() && key.len() <= 256 {
        // Lower-case on the stack: this runs for every record.
        let mut buf = [0u8; 256];
        let lower = &mut buf[..key.len()];
        lower.copy_from_slice(key.as_bytes());
        lower.make_ascii_lowercase();
        xxh3_64(lower)
    } else {
        xxh3_64(key.to_lowercase().as_bytes())
    }
}

/// Tags a device gains from the telemetry that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Zia = 1,
    Zpa = 2,
}

impl Tag {
    pub const ALL: [Tag; 2] = [Tag::Zia, Tag::Zpa];

    pub fn name(self) -> &'static str {
        match self {
            Tag::Zia => "ZIA",
            Tag::Zpa => "ZPA",
        }
    }
}

/// Device ids are already hashes: hashing them again would only cost time.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64) ^ ((n >> 64) as u64);
    }
}

/// A map keyed by device id.
pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_ignores_case_and_padding() {
        assert_eq!(device_id("TestMachine35"), device_id(" testmachine35 "));
        assert_ne!(device_id("TestMachine35"), device_id("TestMachine36"));
        assert_eq!(device_id("ÉCOLE-PC"), device_id("école-pc"));
        assert_eq!(device_id("testmachine35"), xxh3_64(b"testmachine35"));
    }

    #[test]
    fn id_is_the_hash_of_the_lower_cased_key_at_every_length() {
        // Across the small buffer's end (64) and the large one's (256), ASCII and not.
        for len in [0, 1, 8, 17, 63, 64, 65, 200, 256, 257, 300] {
            let key: String = (0..len).map(|i| ['A', 'b', '-', '7'][i % 4]).collect();
            let lower = key.to_lowercase();
            assert_eq!(device_id(&key), xxh3_64(lower.as_bytes()), "{len}");
            let accented = format!("É{key}");
            let lower = accented.to_lowercase();
            assert_eq!(device_id(&accented), xxh3_64(lower.as_bytes()), "{len}");
        }
    }
}
