//! The attribution table across a restart: the aggregator loads the table saved at the last
//! clean stop before it takes its first batch, and saves it again as it stops (the format is
//! `attribution::persist`'s). Loaded here rather than before the inputs listen: a million
//! connections take a second or so, and the restart's time to listening is for the devices.
//!
//! The file is kept once loaded, and the next clean stop replaces it. After a crash the next
//! start loads it again: older than what the crash lost, but it answers for the connections it
//! holds, and they expire by the feed's time as the new records move it on.

use std::io::ErrorKind;
use std::time::Instant;

use super::attribution::LoadError;
use super::state::Loading;
use super::Aggregator;
use crate::config::ATTRIBUTION_FILE;

/// Lets `/attribution` answer when dropped, however the load ended.
struct Done<'a>(&'a Loading);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

impl Aggregator {
    /// Loads the table saved at the last clean stop, if any, and the feed's time with it. A
    /// file that cannot be loaded is one warning: the table starts empty and refills.
    pub(super) fn load_attribution(&mut self) {
        let state = self.state.clone();
        let _done = Done(&state.attribution_loading);
        let path = self.data_dir.join(ATTRIBUTION_FILE);
        let Ok(mut table) = state.attribution.lock() else {
            return;
        };
        let started = Instant::now();
        match table.load(&path) {
            Ok(loaded) => {
                self.feed_now = self.feed_now.max(loaded.feed_now);
                tracing::info!(
                    "{} ZPA connections known from the last clean stop ({}, loaded in {} ms)",
                    loaded.entries,
                    path.display(),
                    started.elapsed().as_millis()
                );
            }
            Err(LoadError::Io(e)) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "{}: {e}; the attribution table starts empty",
                path.display()
            ),
        }
    }

    /// Saves the table for the next start; an empty one leaves no file (and removes the one
    /// it was loaded from, or that could not be loaded).
    pub(super) fn save_attribution(&mut self) {
        let path = self.data_dir.join(ATTRIBUTION_FILE);
        let Ok(table) = self.state.attribution.lock() else {
            return;
        };
        let saved = if table.is_empty() {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
                _ => Ok(0),
            }
        } else {
            table.save(&path, self.feed_now)
        };
        if let Err(e) = saved {
            tracing::error!(
                "cannot save the attribution table to {}: {e}; the next start begins without it",
                path.display()
            );
        }
    }
}
