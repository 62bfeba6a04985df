//! The identities of a records spill's records, beside it: `spill-records-<secs>.ids`.
//!
//! At shutdown the duplicate window saves the identities of spilled records only after the spill
//! is written and synced; a collector killed in between (systemd's stop timeout, on a slow disk)
//! left a spill that the next start read back while the window had forgotten its records, and
//! the feeds' replay wrote every one of them again (an audit: 44,708 records twice). So the
//! identities go to this list first, each with where its record ends in the spill, and the next
//! start remembers those whose records the spill holds whole, before it reads the spill back.
//!
//! The list is written whole and synced before the spill: magic, count, entries (an identity
//! and an end, 24 bytes), and a checksum of the entries. A list cut short keeps nothing (the
//! spill was not begun; the replay writes its records once); a spill cut short keeps the
//! identities of the records it holds whole.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"ZTELSI01";
const ENTRY: usize = 24;

/// Writes the list, and syncs it.
pub fn write(path: &Path, ids: &[(u128, u64)]) -> io::Result<()> {
    let mut entries = Vec::with_capacity(ids.len() * ENTRY);
    for (id, end) in ids {
        entries.extend_from_slice(&id.to_le_bytes());
        entries.extend_from_slice(&end.to_le_bytes());
    }
    let mut bytes = Vec::with_capacity(24 + entries.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&entries).to_le_bytes());
    bytes.extend_from_slice(&entries);
    let mut file = File::options().write(true).create_new(true).open(path)?;
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        // Half a list is no list; and its name would keep a later spill's from being made.
        let _ = std::fs::remove_file(path);
    }
    written
}

/// The identities of the records whose ends are within `spilled` bytes of the spill; none when
/// the list is not whole (its checksum says so) or not a list.
pub fn read(path: &Path, spilled: u64) -> io::Result<Vec<u128>> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let word = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let (Some(count), Some(sum)) = (word(8), word(16)) else {
        return Ok(Vec::new());
    };
    let entries = &bytes[24.min(bytes.len())..];
    if &bytes[..8] != MAGIC
        || entries.len() as u64 != count.saturating_mul(ENTRY as u64)
        || xxhash_rust::xxh3::xxh3_64(entries) != sum
    {
        return Ok(Vec::new());
    }
    Ok(entries
        .chunks_exact(ENTRY)
        .filter_map(|e| {
            let id = u128::from_le_bytes(e[..16].try_into().ok()?);
            let end = u64::from_le_bytes(e[16..].try_into().ok()?);
            (end <= spilled).then_some(id)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_keeps_what_the_spill_holds_whole_and_a_torn_one_nothing() {
        let dir = std::env::temp_dir().join(format!("ztel-spill-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("spill-records-1.ids");
        write(&path, &[(7, 10), (8, 25), (9, 40)]).unwrap();
        assert_eq!(read(&path, 40).unwrap(), [7, 8, 9]);
        // A spill cut short after 30 bytes holds the first two records whole.
        assert_eq!(read(&path, 30).unwrap(), [7, 8]);
        assert!(write(&path, &[]).is_err(), "never over another list");
        // A list cut short, or another file: nothing.
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 7, 20, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(read(&path, 40).unwrap().is_empty(), "cut at {cut}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
