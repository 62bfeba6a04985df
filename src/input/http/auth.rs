//! Who may post to the Cloud NSS input: the header that carries the key and the keys it may hold.
//! Swapped on SIGHUP.

use subtle::ConstantTimeEq;

use crate::config::HttpInput;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Auth {
    /// The name of the header that carries the key.
    pub header: String,
    keys: Vec<Box<[u8]>>,
}

/// What the key header of a request said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    Good,
    Missing,
    Wrong,
    /// No key is configured: nobody may post.
    NoKeys,
}

impl Auth {
    pub fn new(input: &HttpInput) -> Auth {
        Auth {
            header: input.header.clone(),
            keys: input
                .keys
                .iter()
                .map(|k| k.as_bytes().to_vec().into_boxed_slice())
                .collect(),
        }
    }

    /// Checks the key a request presented (the header's value, `None` without the header).
    pub fn check(&self, presented: Option<&[u8]>) -> KeyCheck {
        match presented {
            _ if self.keys.is_empty() => KeyCheck::NoKeys,
            None => KeyCheck::Missing,
            Some(value) if self.admits(value.trim_ascii()) => KeyCheck::Good,
            Some(_) => KeyCheck::Wrong,
        }
    }

    /// Whether `presented` is one of the keys. Every key is compared, each in time that depends
    /// only on the lengths, so the answer's timing tells nothing about how close a guess was.
    fn admits(&self, presented: &[u8]) -> bool {
        let mut found = subtle::Choice::from(0);
        for key in &self.keys {
            found |= key.as_ref().ct_eq(presented);
        }
        found.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(keys: &[&str]) -> Auth {
        Auth::new(&HttpInput {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..HttpInput::default()
        })
    }

    #[test]
    fn keys_compare_whole() {
        let a = auth(&["secret", "other"]);
        assert!(a.admits(b"secret"));
        assert!(a.admits(b"other"));
        assert!(!a.admits(b"secre"));
        assert!(!a.admits(b"secret2"));
        assert!(!a.admits(b""));
        assert!(!auth(&[]).admits(b""));
    }

    #[test]
    fn checks_say_why() {
        let a = auth(&["k1", "k2"]);
        assert_eq!(a.check(Some(b" k2 ")), KeyCheck::Good);
        assert_eq!(a.check(None), KeyCheck::Missing);
        assert_eq!(a.check(Some(b"k3")), KeyCheck::Wrong);
        assert_eq!(auth(&[]).check(Some(b"k1")), KeyCheck::NoKeys);
    }
}
