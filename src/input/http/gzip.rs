//! `Content-Encoding: gzip` bodies (Cloud NSS, as Cribl's guide has admins set it). The limit on a
//! body applies to what it inflates to as well: a small body that would inflate past it (a zip
//! bomb) is refused with 413 as soon as its output passes the limit, so memory follows the limit,
//! never what the body claims. Within the limit, it is inflated into room its reader has charged to
//! the shard's buffer budget: a few KB on the wire may well be megabytes inflated.

use std::io::{ErrorKind, Read, Take};

use flate2::read::MultiGzDecoder;

/// Why a gzip body was not taken.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    #[error("body inflates to over {0} bytes")]
    TooLarge(usize),
    #[error("body is not valid gzip: {0}")]
    Corrupt(std::io::Error),
}

/// Whether a `Content-Encoding` value names gzip (`x-gzip` is its old alias).
pub fn is_gzip(coding: &[u8]) -> bool {
    let coding = coding.trim_ascii();
    coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
}

/// A gzip body (one or more members, as concatenating senders make) being inflated a piece at a
/// time, so that its reader can charge each piece to the shard's budget before it is made.
pub struct Inflater<'a> {
    decoder: Take<MultiGzDecoder<&'a [u8]>>,
    max: usize,
}

impl<'a> Inflater<'a> {
    /// What `packed` inflates to must stay within `max` bytes.
    pub fn new(packed: &'a [u8], max: usize) -> Self {
        Inflater {
            decoder: MultiGzDecoder::new(packed).take(max as u64 + 1),
            max,
        }
    }

    /// Inflates into `out` as far as its capacity, never beyond it. `Ok(true)`: the body is all
    /// inflated; `Ok(false)`: `out` is full and there may be more.
    pub fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool, GzipError> {
        let mut at = out.len();
        out.resize(out.capacity(), 0);
        let done = loop {
            if at == out.len() {
                break Ok(false);
            }
            match self.decoder.read(&mut out[at..]) {
                Ok(0) => break Ok(true),
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(GzipError::Corrupt(e)),
            }
        };
        out.truncate(at);
        if at > self.max {
            return Err(GzipError::TooLarge(self.max));
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    /// Inflates all of `packed`, doubling `out` as it fills.
    fn inflate(packed: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), GzipError> {
        let mut inflater = Inflater::new(packed, max);
        while !inflater.fill(out)? {
            out.reserve(out.capacity().max(16));
        }
        Ok(())
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_one_member_or_several() {
        let mut out = Vec::new();
        inflate(&gzip(b"{\"a\":1}\n"), &mut out, 100).unwrap();
        assert_eq!(out, b"{\"a\":1}\n");
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        out.clear();
        inflate(&two, &mut out, 100).unwrap();
        assert_eq!(out, b"one\ntwo\n");
    }

    #[test]
    fn stops_at_the_limit_and_says_so() {
        let bomb = gzip(&vec![b'a'; 1 << 20]);
        assert!(bomb.len() < 4096, "{} bytes", bomb.len());
        let mut out = Vec::new();
        assert!(matches!(
            inflate(&bomb, &mut out, 64 << 10),
            Err(GzipError::TooLarge(_))
        ));
        assert!(out.len() <= (64 << 10) + 1, "{} bytes held", out.len());
    }

    #[test]
    fn a_piece_never_outgrows_the_room_it_is_given() {
        let packed = gzip(&vec![b'a'; 10_000]);
        let mut inflater = Inflater::new(&packed, 1 << 20);
        let mut out = Vec::with_capacity(4096);
        assert!(!inflater.fill(&mut out).unwrap());
        assert_eq!((out.len(), out.capacity()), (4096, 4096));
        out.reserve_exact(10_000 - 4096 + 1);
        assert!(inflater.fill(&mut out).unwrap());
        assert_eq!(out, vec![b'a'; 10_000]);
    }

    #[test]
    fn corrupt_and_cut_bodies_are_errors() {
        let mut out = Vec::new();
        assert!(matches!(
            inflate(b"not gzip at all", &mut out, 100),
            Err(GzipError::Corrupt(_))
        ));
        let whole = gzip(b"some records\n");
        out.clear();
        assert!(matches!(
            inflate(&whole[..whole.len() - 6], &mut out, 100),
            Err(GzipError::Corrupt(_))
        ));
    }

    #[test]
    fn names_of_gzip() {
        assert!(is_gzip(b"gzip"));
        assert!(is_gzip(b" GZIP "));
        assert!(is_gzip(b"x-gzip"));
        assert!(!is_gzip(b"deflate"));
        assert!(!is_gzip(b"br"));
    }
}
