//! An HdrHistogram in its V2 encoding (plain or deflated), read with its declared lengths held
//! to the bytes there: `hdrhistogram`'s own reader sizes its buffer by the payload length the
//! bytes declare, so forty bytes from a log file or an answer over the network could have it
//! allocate 4 GiB.

use std::io::Read;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

/// The cookies as `hdrhistogram` writes and reads them (the base's, with the word size's bit).
const V2: u32 = 0x1c84_9313;
const V2_DEFLATED: u32 = 0x1c84_9314;
/// What precedes a V2 payload: cookie, payload length, normalising offset, significant
/// digits, lowest and highest trackable values, and the integer-to-double ratio.
const V2_HEADER: usize = 40;
/// The most significant digits a histogram read may have (ztel's and loadgen's have 3).
const DIGITS_MOST: u32 = 3;
/// The most a deflated histogram is inflated to: more than one of [`DIGITS_MOST`] digits over
/// every `u64` (its counts about 450 KiB at worst), far less than a bomb would make.
const INFLATED_MOST: u64 = 1 << 20;

/// The histogram `bytes` encode (V2, or V2 deflated as ztel's logs and `/histograms` hold it).
/// Why not, in a few words, when they do not.
pub fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let plain;
    let v2 = match word(bytes, 0)? {
        V2 => bytes,
        V2_DEFLATED => {
            let declared = word(bytes, 4)? as usize;
            let there = bytes.len() - 8;
            if declared > there {
                return Err(declared_past(declared, there));
            }
            plain = inflate(&bytes[8..8 + declared])?;
            let inner = word(&plain, 0)?;
            if inner != V2 {
                return Err(format!("inflates to no V2 encoding (cookie {inner:#010x})"));
            }
            &plain
        }
        other => {
            return Err(format!(
                "not an HdrHistogram V2 encoding (cookie {other:#010x})"
            ))
        }
    };
    let declared = word(v2, 4)? as usize;
    let there = v2.len().saturating_sub(V2_HEADER);
    if v2.len() < V2_HEADER || declared > there {
        return Err(declared_past(declared, there));
    }
    // The counts are sized by the digits and range the header declares: five digits over every
    // `u64` are 50 MiB from forty bytes. ztel and loadgen write three.
    let digits = word(v2, 12)?;
    if digits > DIGITS_MOST {
        return Err(format!(
            "{digits} significant digits: ztel reads {DIGITS_MOST} at most"
        ));
    }
    Deserializer::new()
        .deserialize(&mut &v2[..V2_HEADER + declared])
        .map_err(|e| e.to_string())
}

fn declared_past(declared: usize, there: usize) -> String {
    format!("its payload is said to be {declared} bytes, but {there} follow")
}

/// The big-endian word at `at`.
fn word(bytes: &[u8], at: usize) -> Result<u32, String> {
    let four = bytes
        .get(at..at + 4)
        .ok_or_else(|| format!("cut short: {} bytes", bytes.len()))?;
    Ok(u32::from_be_bytes([four[0], four[1], four[2], four[3]]))
}

/// `deflated` inflated (zlib), growing as its bytes come, up to [`INFLATED_MOST`].
fn inflate(deflated: &[u8]) -> Result<Vec<u8>, String> {
    let mut plain = Vec::new();
    flate2::read::ZlibDecoder::new(deflated)
        .take(INFLATED_MOST + 1)
        .read_to_end(&mut plain)
        .map_err(|e| format!("does not inflate: {e}"))?;
    if plain.len() as u64 > INFLATED_MOST {
        return Err(format!("inflates past {INFLATED_MOST} bytes"));
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer, V2Serializer};

    use super::*;

    fn histogram() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in [12, 170, 190, 586, 40_000] {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn what_the_serializers_write_is_read_back() {
        let h = histogram();
        let mut plain = Vec::new();
        V2Serializer::new().serialize(&h, &mut plain).unwrap();
        assert_eq!(decode(&plain).unwrap(), h);
        let mut deflated = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&h, &mut deflated)
            .unwrap();
        assert_eq!(decode(&deflated).unwrap(), h);
    }

    /// From a review: forty bytes declaring a payload of 4 GiB had the reader allocate it.
    #[test]
    fn a_declared_length_past_the_bytes_there_is_refused() {
        let mut v2 = Vec::new();
        for w in [V2, u32::MAX, 0, 3] {
            v2.extend_from_slice(&w.to_be_bytes());
        }
        v2.extend_from_slice(&1u64.to_be_bytes());
        v2.extend_from_slice(&2u64.to_be_bytes());
        v2.extend_from_slice(&1f64.to_be_bytes());
        let refused = declared_past(u32::MAX as usize, 0);
        assert_eq!(decode(&v2).unwrap_err(), refused);
        let mut deflated = Vec::new();
        let mut z = flate2::write::ZlibEncoder::new(&mut deflated, flate2::Compression::fast());
        std::io::Write::write_all(&mut z, &v2).unwrap();
        z.finish().unwrap();
        let mut wrapped = V2_DEFLATED.to_be_bytes().to_vec();
        wrapped.extend_from_slice(&(deflated.len() as u32).to_be_bytes());
        wrapped.extend_from_slice(&deflated);
        assert_eq!(decode(&wrapped).unwrap_err(), refused);
        wrapped[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = decode(&wrapped).unwrap_err();
        assert!(
            e.starts_with("its payload is said to be 4294967295 bytes"),
            "{e}"
        );
        assert_eq!(decode(&wrapped[..6]).unwrap_err(), "cut short: 6 bytes");
        let mut five = v2.clone();
        five[4..8].copy_from_slice(&0u32.to_be_bytes());
        five[12..16].copy_from_slice(&5u32.to_be_bytes());
        assert!(decode(&five).unwrap_err().contains("5 significant digits"));
        assert!(decode(b"nope")
            .unwrap_err()
            .starts_with("not an HdrHistogram"));
    }
}
