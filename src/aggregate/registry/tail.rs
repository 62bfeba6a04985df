//! What the devices file announced that the saved registry does not know: a device event is
//! written at once, its device saved about a second later ([`crate::aggregate::saver`]), so a
//! crash in between left a registry without the last second's devices and tags, and the feeds'
//! replay, or the device's next record, announced them again.
//!
//! Each save of the registry notes, in the same transaction, the place in the devices file
//! (its device, inode and offset) before which every event is in the saved devices
//! ([`crate::aggregate::store::Store::devices_through`]). At start, before anything is read,
//! the events after that place are merged into the
//! registry ([`merge_tail`]): a device or tag announced is not announced again. That place
//! lags the file's end by about the registry's save delay, so this reads about a second of
//! events, not the file. A place in a file rotated since is found among the rotated files by
//! its inode, and read from there on, with every file after it. A devices file deleted or
//! replaced meanwhile is merged from nowhere: its devices may be announced again, none is left
//! unannounced, since only events the file holds are merged.
//!
//! With `[output.nats]` the merged events are published again, with their message ids
//! (JetStream drops those it holds): a collector killed loses those the NATS thread held in
//! memory, and no replay would announce them now.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use wire::device::Tag;

use super::{Kind, Registry, Restored};
use crate::sink::nats::outbox::Outbox;
use crate::sink::rotated::rotated_files;
use crate::sink::Place;

/// What was merged at start.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Event lines read after the saved place.
    pub events: usize,
    /// Devices those events made or changed in the registry.
    pub devices: usize,
    /// Lines that are not device events (skipped).
    pub unreadable: usize,
}

/// A device event line, as [`super::write_event`] writes it.
#[derive(serde::Deserialize)]
struct Line {
    event: String,
    device_id: String,
    hostname: String,
    tags: Vec<String>,
    first_seen: Timestamp,
    ips: Vec<String>,
    users: Vec<String>,
}

/// Merges into `registry` the device events that `devices` (the devices file, now at `now`)
/// holds after `through`, the place the saved registry knows everything before; with `nats`,
/// publishes them again too.
pub fn merge_tail(
    registry: &mut Registry,
    devices: &Path,
    now: Option<Place>,
    through: Option<Place>,
    mut nats: Option<&mut Outbox>,
) -> io::Result<Merged> {
    let mut merged = Merged::default();
    let (Some(now), Some(through)) = (now, through) else {
        return Ok(merged);
    };
    for (path, from) in files_after(devices, now, through) {
        each_line(&path, from, |line| {
            let Some(event) = serde_json::from_slice::<Line>(line).ok().and_then(|l| {
                let id = u64::from_str_radix(&l.device_id, 16).ok()?;
                // An id that is not its hostname's (a line edited or damaged) would make a
                // device that `/devices/{hostname}` cannot find.
                let known = matches!(l.event.as_str(), "created" | "tagged");
                (known && wire::device::device_id(&l.hostname) == id).then_some((id, l))
            }) else {
                merged.unreadable += 1;
                return;
            };
            let (id, l) = event;
            merged.events += 1;
            if registry.learn(id, &l) {
                merged.devices += 1;
            }
            if let Some(nats) = nats.as_deref_mut() {
                // The id the event had (`Aggregator::register_devices`): a copy JetStream holds
                // is dropped.
                let id_text = format!("dev-{id:016x}-{}-{}", l.event, l.tags.join("+"));
                nats.device_event(line, &id_text);
                nats.device_changed(id);
            }
        })?;
    }
    Ok(merged)
}

/// The files holding the events after `through`, each with where to read from: the devices
/// file itself, or a rotated one and every file after it. None when `through` is in no file
/// there.
fn files_after(devices: &Path, now: Place, through: Place) -> Vec<(PathBuf, u64)> {
    let id = |p: Place| (p.dev, p.ino);
    if id(now) == id(through) {
        return vec![(devices.to_owned(), through.offset)];
    }
    let rotated = rotated_files(devices);
    let found = rotated
        .iter()
        .position(|p| std::fs::metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == id(through)));
    let Some(at) = found else {
        tracing::info!(
            "{}: not the file the saved devices were last noted against (replaced, or \
             removed); its events are not merged, and a device announced in the last second \
             before a crash may be announced again",
            devices.display()
        );
        return Vec::new();
    };
    let mut files = vec![(rotated[at].clone(), through.offset)];
    files.extend(rotated[at + 1..].iter().map(|p| (p.clone(), 0)));
    files.push((devices.to_owned(), 0));
    files
}

/// The longest line read whole: a device event is a few kilobytes at most (its lists are
/// bounded). A longer one is handed on cut (and does not read), not held whole: a file with no
/// newline in it must not be read into memory at once.
const LINE_MOST: u64 = 1 << 20;

/// Hands `each` every whole line `path` holds from `from` on, without its newline, starting at
/// a line: a place that is not just after a line's end (a file cut and written again since)
/// reads from the next line. A line without its end is no event: a file a crash tore is
/// rotated away at start with it.
fn each_line(path: &Path, from: u64, mut each: impl FnMut(&[u8])) -> io::Result<()> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        // Rotated away or removed since it was listed: nothing of it to merge.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if from > file.metadata()?.len() {
        return Ok(());
    }
    file.seek(SeekFrom::Start(from.saturating_sub(1)))?;
    let mut file = BufReader::with_capacity(1 << 16, file);
    if from > 0 {
        file.skip_until(b'\n')?;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        (&mut file).take(LINE_MOST).read_until(b'\n', &mut line)?;
        match line.strip_suffix(b"\n") {
            Some(whole) => each(whole),
            None if line.len() as u64 == LINE_MOST => {
                each(&line);
                file.skip_until(b'\n')?;
            }
            None => return Ok(()),
        }
    }
}

impl Registry {
    /// Merges a device as an event line tells it; true when the registry changed (the device
    /// is then saved with the next changes). A device it does not know is made as the line
    /// says. Of one it knows, the line may be older than what was saved: its tags and first
    /// seen are merged, and its IPs and users only into lists with room, as a list with none
    /// has pushed out its oldest values, which such a line could bring back.
    fn learn(&mut self, id: u64, line: &Line) -> bool {
        let tags = line.tags.iter().fold(0u8, |bits, name| {
            let tag = Tag::ALL.into_iter().find(|t| t.name() == name);
            bits | tag.map_or(0, |t| t as u8)
        });
        let Some(p) = self.position(id) else {
            let before = self.len();
            self.restore(Restored {
                id,
                hostname: &line.hostname,
                tags,
                first_seen: line.first_seen,
                last_seen: line.first_seen,
                ips: line.ips.iter().map(String::as_str),
                users: line.users.iter().map(String::as_str),
            });
            let made = self.len() > before;
            if made {
                self.mark(before as u32);
            }
            return made;
        };
        let e = &mut self.devices[p as usize];
        let mut changed = e.tags | tags != e.tags;
        e.tags |= tags;
        changed |= super::seen(e, line.first_seen, line.first_seen);
        for (kind, values) in [(Kind::Ip, &line.ips), (Kind::User, &line.users)] {
            for v in values {
                if self.devices[p as usize].values.len(kind) < crate::batch::MAX_PER_DEVICE {
                    changed |= self.add(p, kind, v, super::Sighting::Known);
                }
            }
        }
        if changed {
            self.mark(p);
        }
        changed
    }
}

#[cfg(test)]
mod tests;
