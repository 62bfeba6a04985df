//! The folder ztel keeps its state and outputs in, made safe before anything is opened there.
//! Its files hold users, hostnames, addresses and URLs, and ztel opens them by name: another
//! user who can write in the folder could put a link there to any file ztel's user may write
//! (root's, by hand), which ztel would then append to or overwrite. The packaged unit has its
//! own folder (`StateDirectory=`, 0750, `UMask=0027`); a run by hand gets the same here.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Bits of the process's umask that keep new files and folders from other users.
const PRIVATE: libc::mode_t = 0o027;

/// Makes `dir` if missing (0750), refuses one that every user may write in or another user
/// owns, warns of one its group may write in, and keeps the files made from now on from other
/// users (the umask gains 027; what it had already stays).
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    // SAFETY: umask only swaps the process's mask; the second call puts back the first's
    // bits with ours added.
    unsafe {
        let was = libc::umask(PRIVATE);
        libc::umask(was | PRIVATE);
    }
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
    {
        // A link to nothing made the system's bare "File exists".
        if let Some(to) = std::fs::read_link(dir).ok().filter(|_| !dir.exists()) {
            bail!(
                "data_dir {} is a link to {}, which does not exist",
                dir.display(),
                to.display()
            );
        }
        return Err(e).with_context(|| format!("cannot create data_dir {}", dir.display()));
    }
    if let Some(warning) = judge(dir, Runs::Here)? {
        tracing::warn!("{warning}");
    }
    Ok(())
}

/// Who will write in the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// This process: its user may be checked against the folder's owner.
    Here,
    /// Another process, of a user not known here: `config check`, run by root or an operator
    /// on the packaged unit's folder, which systemd gives the unit's own dynamic user.
    Elsewhere,
}

/// What `dir`, when it is there, is to the user that writes in it: refused (every user may
/// write in it, or another user than root owns it: either could put links there to files ztel
/// would then write), said (its group may write in it), or fine.
pub fn judge(dir: &Path, runs: Runs) -> anyhow::Result<Option<String>> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("data_dir {}", dir.display())),
    };
    let mode = meta.mode() & 0o7777;
    let links = "and could put links there to files ztel would then write";
    if mode & 0o002 != 0 {
        bail!(
            "data_dir {}: every user may write in it (mode {mode:o}), {links}; give ztel a \
             folder of its own (mode 750)",
            dir.display()
        );
    }
    // SAFETY: geteuid has no failure and no side effect.
    let me = unsafe { libc::geteuid() };
    if runs == Runs::Here && meta.uid() != me && meta.uid() != 0 {
        bail!(
            "data_dir {}: it belongs to uid {}, not to ztel's user ({me}) or root, {links}; \
             give ztel a folder of its own",
            dir.display(),
            meta.uid()
        );
    }
    // The folders above are judged whatever this one is: a group's warning is no pass.
    let above = parents(dir, runs, me)?;
    let own = (mode & 0o020 != 0).then(|| {
        format!(
            "data_dir {}: its group may write in it (mode {mode:o}), {links}",
            dir.display()
        )
    });
    Ok(match (own, above) {
        (Some(own), Some(above)) => Some(format!("{own}; {above}")),
        (own, above) => own.or(above),
    })
}

/// What the folders above `dir` are: one that another user may rename entries in could swap
/// `dir` itself for a folder of theirs between two starts. A sticky folder (`/tmp`) lets only
/// an entry's owner (and the folder's) rename it, so it is fine when root or ztel's user owns
/// it. Both the folders above `dir` as written (where a link to it sits, which can be swapped
/// too) and those above where it leads are judged.
fn parents(dir: &Path, runs: Runs, me: libc::uid_t) -> anyhow::Result<Option<String>> {
    let named =
        |e: std::io::Error| anyhow::Error::new(e).context(format!("data_dir {}", dir.display()));
    let real = std::fs::canonicalize(dir).map_err(named)?;
    let folders = folders_on_the_way(dir, runs, me)?;
    let swap = "and could swap data_dir for a folder of their own";
    let mut warning = None;
    for parent in folders
        .iter()
        .map(PathBuf::as_path)
        .chain(real.ancestors().skip(1))
    {
        let meta = std::fs::metadata(parent)
            .with_context(|| format!("data_dir {}: {}", dir.display(), parent.display()))?;
        let mode = meta.mode() & 0o7777;
        let trusted = trusted(&meta, runs, me);
        if mode & 0o1000 != 0 && trusted {
            continue;
        }
        if !trusted {
            bail!(
                "data_dir {}: {} above it belongs to uid {}, not to ztel's user ({me}) or \
                 root, {swap}; give ztel a folder under one only root may write in",
                dir.display(),
                parent.display(),
                meta.uid()
            );
        }
        if mode & 0o002 != 0 {
            bail!(
                "data_dir {}: every user may write in {} above it (mode {mode:o}), {swap}; \
                 give ztel a folder under one only root may write in",
                dir.display(),
                parent.display()
            );
        }
        if mode & 0o020 != 0 && warning.is_none() {
            warning = Some(format!(
                "data_dir {}: the group of {} above it may write in it (mode {mode:o}), {swap}",
                dir.display(),
                parent.display()
            ));
        }
    }
    Ok(warning)
}

/// Whether the owner of what `meta` describes may be left to rename entries in it, or point
/// it elsewhere: root or ztel's user (another process's user, not known here, is not judged).
fn trusted(meta: &std::fs::Metadata, runs: Runs, me: libc::uid_t) -> bool {
    meta.uid() == 0 || meta.uid() == me || runs == Runs::Elsewhere
}

/// The links a path may pass through before ztel refuses it (as the kernel's 40).
const LINKS_MOST: usize = 40;

/// The folders that hold a step of the way to `dir`: those above it as written, and, for every
/// link on the way (a link to a link too), those above where it leads. Whoever may rename an
/// entry in one of them may swap what follows. A link is only its owner's (and its folder's) to
/// swap, so its owner must be root or ztel's user as well.
fn folders_on_the_way(dir: &Path, runs: Runs, me: libc::uid_t) -> anyhow::Result<Vec<PathBuf>> {
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut ways = vec![std::path::absolute(dir)?];
    let mut links = 0;
    while let Some(way) = ways.pop() {
        for step in way.ancestors() {
            let Ok(meta) = std::fs::symlink_metadata(step) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                links += 1;
                if links > LINKS_MOST {
                    bail!(
                        "data_dir {}: more than {LINKS_MOST} links on the way",
                        dir.display()
                    );
                }
                let trusted = trusted(&meta, runs, me);
                if !trusted {
                    bail!(
                        "data_dir {}: the link {} on the way belongs to uid {}, not to ztel's \
                         user ({me}) or root, who could point it elsewhere; give ztel a folder \
                         of its own",
                        dir.display(),
                        step.display(),
                        meta.uid()
                    );
                }
                let to = std::fs::read_link(step)?;
                // A relative link leads from the folder it is in.
                ways.push(step.parent().map_or(to.clone(), |folder| folder.join(&to)));
            }
            if let Some(folder) = step.parent() {
                if !folders.iter().any(|f| f == folder) {
                    folders.push(folder.to_owned());
                }
            }
        }
    }
    Ok(folders)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ztel-datadir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_folder_and_its_files_are_the_users_and_its_groups_alone() {
        let dir = temp("new").join("state");
        prepare(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o027, 0, "{mode:o}");
        let file = dir.join("connections.jsonl");
        std::fs::write(&file, "{}\n").unwrap();
        let mode = std::fs::metadata(&file).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o027, 0, "{mode:o}");
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_folder_another_user_owns_is_refused() {
        // Made by nobody where root then ran ztel: only warned of, and a link there had
        // dedup.pending overwrite the file it pointed to.
        // SAFETY: geteuid has no failure and no side effect.
        if unsafe { libc::geteuid() } != 0 {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the tests as root"
            );
            return;
        }
        let dir = temp("theirs");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let e = prepare(&dir).unwrap_err().to_string();
        assert!(e.contains("it belongs to uid 65534"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_link_to_nothing_says_so() {
        let dir = temp("dangling");
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("state");
        std::os::unix::fs::symlink(dir.join("gone"), &link).unwrap();
        let e = prepare(&link).unwrap_err().to_string();
        assert!(e.ends_with("gone, which does not exist"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_folder_under_one_another_user_may_rename_in_is_refused() {
        // Found by a security review: /srv/feeds/ztel, /srv/feeds of another user, who could
        // rename ztel's folder away and put one of theirs, full of links, in its place.
        let top = temp("above");
        let dir = top.join("ztel");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = prepare(&dir).unwrap_err().to_string();
        assert!(
            e.contains("every user may write in ") && e.contains("(mode 777)"),
            "{e}"
        );
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o1777)).unwrap();
        prepare(&dir).unwrap();
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o770)).unwrap();
        let said = judge(&dir, Runs::Here).unwrap().unwrap_or_default();
        assert!(said.contains("the group of "), "{said}");
        // SAFETY: geteuid has no failure and no side effect.
        if unsafe { libc::geteuid() } == 0 {
            std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&top, Some(65534), Some(65534)).unwrap();
            let e = prepare(&dir).unwrap_err().to_string();
            assert!(e.contains("above it belongs to uid 65534"), "{e}");
            assert_eq!(judge(&dir, Runs::Elsewhere).unwrap(), None);
            // From a review: a sticky folder's owner may rename entries in it too.
            std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o1777)).unwrap();
            let e = prepare(&dir).unwrap_err().to_string();
            assert!(e.contains("above it belongs to uid 65534"), "{e}");
            std::os::unix::fs::chown(&top, Some(0), Some(0)).unwrap();
        }
        // From a review: a data_dir its group may write in was warned of, and the folders above
        // it were not judged.
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
        let e = judge(&dir, Runs::Here).unwrap_err().to_string();
        assert!(e.contains("every user may write in "), "{e}");
        // A link to a safe folder, in a folder every user may write in: the link can be swapped.
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let open = temp("open-above-link");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let link = open.join("state");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert_eq!(judge(&dir, Runs::Here).unwrap(), None);
        let e = judge(&link, Runs::Here).unwrap_err().to_string();
        assert!(e.contains("every user may write in "), "{e}");
        // From a re-review: a link to that link, from a safe folder: the one it leads through
        // is judged too.
        let safe = temp("safe-link");
        std::fs::create_dir_all(&safe).unwrap();
        let first = safe.join("state");
        std::os::unix::fs::symlink(&link, &first).unwrap();
        let e = judge(&first, Runs::Here).unwrap_err().to_string();
        assert!(e.contains("every user may write in "), "{e}");
        // SAFETY: geteuid has no failure and no side effect.
        if unsafe { libc::geteuid() } == 0 {
            // A link another user owns may be pointed elsewhere by them.
            let theirs = safe.join("theirs");
            std::os::unix::fs::symlink(&dir, &theirs).unwrap();
            std::os::unix::fs::lchown(&theirs, Some(65534), Some(65534)).unwrap();
            let e = judge(&theirs, Runs::Here).unwrap_err().to_string();
            assert!(
                e.contains("the link ") && e.contains("belongs to uid 65534"),
                "{e}"
            );
        }
        std::fs::remove_dir_all(safe).unwrap();
        std::fs::remove_dir_all(open).unwrap();
        std::fs::remove_dir_all(top).unwrap();
    }

    #[test]
    fn a_folder_every_user_may_write_in_is_refused() {
        // As root on /tmp/ztel-data made by another user: links there were followed, and
        // dedup.pending overwrote the file one pointed to.
        let dir = temp("open");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = prepare(&dir).unwrap_err().to_string();
        assert!(e.contains("every user may write in it (mode 1777)"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
