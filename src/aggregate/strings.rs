//! The registry's text: every hostname, IP and user in one buffer, each named by a 4-byte
//! [`Sym`]. IPs and users are interned (a user owns many devices, a NAT gateway's IP stands for
//! many), so each distinct one is kept once; hostnames are only appended, since a hostname is its
//! device's key and never names another device.

use xxhash_rust::xxh3::xxh3_64;

use super::slots::Slots;

/// A string of [`Strings`].
pub type Sym = u32;

/// Hostnames, IPs and users, back to back.
#[derive(Default)]
pub struct Strings {
    text: String,
    /// Where each string ends in `text`; it starts where the one before ends.
    ends: Vec<u32>,
    /// The interned ones, by hash.
    interned: Slots,
}

impl Strings {
    /// Room for `n` strings of `bytes` in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Strings {
        Strings {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            interned: Slots::default(),
        }
    }

    pub fn get(&self, sym: Sym) -> &str {
        let end = self.ends.get(sym as usize).copied().unwrap_or(0);
        let start = match sym.checked_sub(1) {
            Some(before) => self.ends.get(before as usize).copied().unwrap_or(end),
            None => 0,
        };
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The interned string equal to `s`, if there is one.
    pub fn find(&self, s: &str) -> Option<Sym> {
        self.interned
            .find(xxh3_64(s.as_bytes()), |sym| self.get(sym) == s)
    }

    /// `s` interned: the same `Sym` for the same text. `None` once the buffer holds 4 GiB.
    pub fn intern(&mut self, s: &str) -> Option<Sym> {
        let hash = xxh3_64(s.as_bytes());
        if let Some(sym) = self.interned.find(hash, |sym| self.get(sym) == s) {
            return Some(sym);
        }
        let sym = self.push(s)?;
        self.interned.insert(hash, sym);
        Some(sym)
    }

    /// `s` appended, not interned. `None` once the buffer holds 4 GiB.
    pub fn push(&mut self, s: &str) -> Option<Sym> {
        let end = u32::try_from(self.text.len() + s.len()).ok()?;
        let sym = u32::try_from(self.ends.len()).ok()?;
        self.text.push_str(s);
        self.ends.push(end);
        Some(sym)
    }

    /// Bytes of text held, live or not.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4 + self.interned.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_text_is_kept_once_and_appended_text_each_time() {
        let mut s = Strings::default();
        let a = s.intern("alice@example.com").unwrap();
        let ip = s.intern("10.0.0.1").unwrap();
        assert_eq!(s.intern("alice@example.com"), Some(a));
        assert_eq!(s.find("10.0.0.1"), Some(ip));
        assert_eq!(s.find("10.0.0.2"), None);
        let host = s.push("alice@example.com").unwrap();
        assert_ne!(host, a);
        assert_eq!(s.get(a), "alice@example.com");
        assert_eq!(s.get(host), "alice@example.com");
        assert_eq!(s.get(ip), "10.0.0.1");
        // Case and empty text are kept as they are.
        let empty = s.intern("").unwrap();
        assert_eq!(s.get(empty), "");
        assert_ne!(s.intern("Alice@example.com"), Some(a));
        assert_eq!(s.get(99), "");
    }
}
