//! The attribution table's strings that repeat: users, device names and session ids.
//!
//! A user makes many connections from one device in one session, so each string is kept once
//! with a count of the entries that hold it, and freed when the last of them goes: the pool
//! never holds more strings than the live entries name.

use std::hash::BuildHasher;
use std::num::NonZeroU32;

use hashbrown::HashTable;

/// A string of the pool. 4 bytes, and `Option<Sym>` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sym(NonZeroU32);

impl Sym {
    pub(super) fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

#[derive(Debug)]
struct Text {
    text: Box<str>,
    /// Entries holding it. Saturates rather than wraps: a string held that often is kept.
    refs: u32,
}

#[derive(Debug, Default)]
pub(super) struct Interner {
    texts: Vec<Option<Text>>,
    /// Indexes of `texts` that are free, reused before `texts` grows.
    free: Vec<u32>,
    /// Indexes of `texts`, found by their string's hash (the string itself is kept once).
    index: HashTable<u32>,
    /// Keyed per process as std's maps are: feeds choose these strings.
    hasher: std::collections::hash_map::RandomState,
}

impl Interner {
    /// The string's symbol, counting one more holder; the string is copied only when new.
    pub(super) fn intern(&mut self, s: &str) -> Sym {
        let hash = self.hasher.hash_one(s);
        let texts = &self.texts;
        let found = self
            .index
            .find(hash, |&i| text(texts, i) == Some(s))
            .copied();
        if let Some(i) = found {
            if let Some(t) = self.texts.get_mut(i as usize).and_then(Option::as_mut) {
                t.refs = t.refs.saturating_add(1);
            }
            return sym(i);
        }
        let t = Text {
            text: s.into(),
            refs: 1,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.texts[i as usize] = Some(t);
                i
            }
            None => {
                // At most one string per entry per field, and entries are far fewer than 2^32.
                let i = u32::try_from(self.texts.len()).unwrap_or(u32::MAX - 1);
                self.texts.push(Some(t));
                i
            }
        };
        let (texts, hasher) = (&self.texts, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            hasher.hash_one(text(texts, j).unwrap_or_default())
        });
        sym(i)
    }

    /// One holder more of a string already held.
    pub(super) fn hold(&mut self, s: Sym) {
        if let Some(t) = self.texts.get_mut(s.index()).and_then(Option::as_mut) {
            t.refs = t.refs.saturating_add(1);
        }
    }

    /// One holder fewer; the last one frees the string.
    pub(super) fn release(&mut self, s: Sym) {
        let i = s.index();
        let Some(t) = self.texts.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        if t.refs == u32::MAX {
            return;
        }
        t.refs -= 1;
        if t.refs > 0 {
            return;
        }
        let hash = self.hasher.hash_one(&*t.text);
        if let Ok(found) = self.index.find_entry(hash, |&j| j as usize == i) {
            found.remove();
        }
        self.texts[i] = None;
        self.free.push(i as u32);
    }

    pub(super) fn get(&self, s: Sym) -> &str {
        text(&self.texts, s.index() as u32).unwrap_or_default()
    }

    /// The strings held, with their symbols.
    pub(super) fn iter(&self) -> impl Iterator<Item = (Sym, &str)> + '_ {
        self.texts
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((sym(i as u32), &*t.as_ref()?.text)))
    }

    /// A bound on the symbols' indexes: every one is below it.
    pub(super) fn bound(&self) -> usize {
        self.texts.len()
    }

    /// Strings held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }
}

fn text(texts: &[Option<Text>], i: u32) -> Option<&str> {
    texts.get(i as usize)?.as_ref().map(|t| &*t.text)
}

fn sym(i: u32) -> Sym {
    Sym(NonZeroU32::MIN.saturating_add(i))
}
