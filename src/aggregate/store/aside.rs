//! A store that cannot be read must not keep the collector from starting: under systemd that is
//! a crash loop until someone deletes the file, and the registry refills from the feeds anyway.
//! A file redb reports corrupt is renamed aside (`devices.redb.corrupt-<unix seconds>`), said in
//! one warning, and a new one is started.
//!
//! redb may also panic on a corrupt file, which nothing catches (release builds abort, and
//! `ztel serve` aborts on any panic). So a marker, `devices.redb.opening`, is written before the
//! file is opened and removed once it is loaded: a marker found at start means the last opening
//! crashed, and the file is set aside before it is opened again. The first start after the
//! damage dies; the next one serves. `ztel serve` catches SIGTERM and SIGINT before it opens the
//! store, and acts on them once started; a kill that cannot be caught in the middle of an opening
//! (SIGKILL at a stop timeout, a power cut) reads as a crash, and costs the saved devices too
//! (they are in the file set aside). The marker is locked (flock) before it
//! is judged, and an opening writes a byte into it: a second collector opening the same file
//! meets the lock, or an empty marker just made, and takes neither for a crash.
//!
//! Any other error (permission denied, a directory in the way, the file held by another
//! process) stays an error: setting the file aside would not cure it and would lose devices.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::{Store, StoreError};
use crate::aggregate::registry::Registry;

impl Store {
    /// Opens the store and loads its devices; a file that is corrupt, or whose last opening
    /// crashed, is set aside and a new one started.
    pub fn open_and_load(path: &Path) -> Result<(Store, Registry), StoreError> {
        let marker = Marker::take(path)?;
        if marker.left_over && path.exists() {
            let why = format!(
                "the collector died opening it ({} was left behind)",
                marker.path.display()
            );
            set_aside(path, &why)?;
        }
        // redb would take an empty file for a new store without a word: the devices it held
        // would be announced as new, and nothing would say why.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            set_aside(path, "empty (cut to nothing by a crash or a full disk?)")?;
        }
        let opened = match open_and_load(path) {
            Err(StoreError::Corrupt { message, .. }) => {
                set_aside(path, &message)?;
                open_and_load(path)
            }
            other => other,
        };
        // An error is not a crash: the next start opens the file again.
        let removed = marker.remove();
        let opened = opened?;
        removed?;
        Ok(opened)
    }
}

fn open_and_load(path: &Path) -> Result<(Store, Registry), StoreError> {
    let store = Store::open(path)?;
    let registry = store.load()?;
    Ok((store, registry))
}

/// `path` with `suffix` after its name.
fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Renames the store at `path` to a name of its own beside it and says so.
fn set_aside(path: &Path, why: &str) -> Result<(), StoreError> {
    let now = jiff::Timestamp::now().as_second();
    let first = suffixed(path, &format!(".corrupt-{now}"));
    // One set aside earlier in the same second is kept too.
    let mut aside = first.clone();
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = suffixed(&first, &format!("-{n}"));
    }
    std::fs::rename(path, &aside).map_err(|e| StoreError::Other {
        path: path.display().to_string(),
        message: format!("cannot set it aside as {} ({why}): {e}", aside.display()),
    })?;
    tracing::warn!(
        "{}: {why}; set aside as {}, starting with no devices (they come back as the feeds \
         name them)",
        path.display(),
        aside.display()
    );
    Ok(())
}

/// `devices.redb.opening`, there while the store is being opened and loaded, and locked
/// (flock) by the process opening it.
struct Marker {
    path: PathBuf,
    /// Holds the lock until the marker is removed.
    _file: File,
    /// It was there already, and no process held it: the last opening crashed.
    left_over: bool,
}

impl Marker {
    fn take(store: &Path) -> Result<Marker, StoreError> {
        let path = suffixed(store, ".opening");
        let fail = |message: String| StoreError::Other {
            path: path.display().to_string(),
            message,
        };
        // Locked first, judged after: a marker another process has just made, and not yet
        // locked, must not pass for one a crash left behind. A marker holds one byte once its
        // opening began, so an empty one is a fresh one.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| fail(e.to_string()))?;
        // SAFETY: flock(2) on a descriptor that `file` owns and keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(fail(match e.kind() {
                ErrorKind::WouldBlock => "another process is opening the store".into(),
                _ => format!("cannot lock: {e}"),
            }));
        }
        let left_over = file.metadata().map_err(|e| fail(e.to_string()))?.len() > 0;
        if !left_over {
            file.write_all(b"1").map_err(|e| fail(e.to_string()))?;
        }
        Ok(Marker {
            path,
            _file: file,
            left_over,
        })
    }

    /// The opening is over (loaded, or failed without a crash).
    fn remove(self) -> Result<(), StoreError> {
        std::fs::remove_file(&self.path).map_err(|e| StoreError::Other {
            path: self.path.display().to_string(),
            message: format!("cannot remove: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::TempStore;
    use super::*;

    /// The files of the store's directory beside it.
    fn beside(tmp: &TempStore) -> Vec<String> {
        let dir = tmp.path().parent().unwrap().to_owned();
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn saved(tmp: &TempStore) {
        let (mut store, mut registry) = Store::open_and_load(&tmp.path()).unwrap();
        registry.apply(&crate::batch::DeviceNews {
            id: 1,
            key: "pc",
            tag: wire::device::Tag::Zia,
            ip: None,
            user: None,
            seen: jiff::Timestamp::UNIX_EPOCH,
        });
        let mut encoded = super::super::Encoded::default();
        encoded.extend(registry.unsaved_devices());
        store.save(&encoded).unwrap();
    }

    #[test]
    fn a_store_opens_with_no_marker_left() {
        let tmp = TempStore::new("aside-clean");
        saved(&tmp);
        let (_store, registry) = Store::open_and_load(&tmp.path()).unwrap();
        assert_eq!(registry.len(), 1);
        assert_eq!(beside(&tmp), ["devices.redb"]);
    }

    #[test]
    fn a_corrupt_store_is_set_aside() {
        let tmp = TempStore::new("aside-corrupt");
        saved(&tmp);
        let file = OpenOptions::new().write(true).open(tmp.path()).unwrap();
        file.set_len(file.metadata().unwrap().len() / 2).unwrap();
        drop(file);
        assert!(matches!(
            Store::open(&tmp.path()),
            Err(StoreError::Corrupt { .. })
        ));
        let (_store, registry) = Store::open_and_load(&tmp.path()).unwrap();
        assert!(registry.is_empty());
        let names = beside(&tmp);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[1].starts_with("devices.redb.corrupt-"), "{names:?}");
    }

    /// Regression (black-box tester): a file zeroed (a power cut) or overwritten is no redb
    /// database at all, which redb says as an I/O error: the collector would not start, every
    /// time. And an empty file was taken for a new store without a word.
    #[test]
    fn a_zeroed_overwritten_or_empty_store_is_set_aside() {
        for (name, damage) in [
            ("zeroed", vec![0u8; 4096]),
            ("garbage", b"hello\n".to_vec()),
            ("empty", Vec::new()),
        ] {
            let tmp = TempStore::new(&format!("aside-{name}"));
            saved(&tmp);
            let file = OpenOptions::new().write(true).open(tmp.path()).unwrap();
            if damage.is_empty() {
                file.set_len(0).unwrap();
            } else {
                std::os::unix::fs::FileExt::write_all_at(&file, &damage, 0).unwrap();
            }
            drop(file);
            let (_store, registry) = Store::open_and_load(&tmp.path()).unwrap();
            assert!(registry.is_empty(), "{name}");
            let names = beside(&tmp);
            assert_eq!(names.len(), 2, "{name}: {names:?}");
            assert!(names[1].starts_with("devices.redb.corrupt-"), "{names:?}");
        }
    }

    #[test]
    fn a_marker_left_over_sets_the_store_aside_and_a_held_one_is_an_error() {
        let tmp = TempStore::new("aside-marker");
        saved(&tmp);
        let marker = suffixed(&tmp.path(), ".opening");
        // One another process has just made and not yet locked is not a crash's.
        std::fs::write(&marker, b"").unwrap();
        let fresh = Marker::take(&tmp.path()).unwrap();
        assert!(!fresh.left_over);
        drop(fresh);
        // An opening that began writes its byte: a crash leaves it.
        std::fs::write(&marker, b"1").unwrap();
        let held = Marker::take(&tmp.path()).unwrap();
        assert!(held.left_over);
        let e = Store::open_and_load(&tmp.path()).err().unwrap();
        assert!(e.to_string().contains("another process"), "{e}");
        assert_eq!(beside(&tmp).len(), 2, "nothing set aside");
        drop(held);
        let (_store, registry) = Store::open_and_load(&tmp.path()).unwrap();
        assert!(registry.is_empty(), "the file was set aside");
        let names = beside(&tmp);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[1].starts_with("devices.redb.corrupt-"), "{names:?}");
    }

    #[test]
    fn a_directory_in_the_way_is_an_error_and_stays() {
        let tmp = TempStore::new("aside-dir");
        std::fs::create_dir(tmp.path()).unwrap();
        let e = Store::open_and_load(&tmp.path()).err().unwrap();
        assert!(matches!(e, StoreError::Other { .. }), "{e}");
        assert_eq!(beside(&tmp), ["devices.redb"], "no marker left");
    }
}
