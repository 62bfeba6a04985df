//! The device registry on disk (`data_dir/devices.redb`): written by the aggregator in batches,
//! read once at start, so that devices survive a restart and a `kill -9`.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::registry::Device;

/// Device id → the device as JSON (small, readable with any redb tool, and it can grow fields).
const DEVICES: TableDefinition<u64, &[u8]> = TableDefinition::new("devices");

/// Why the store failed; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StoreError {
    path: String,
    message: String,
}

pub struct Store {
    db: Database,
    path: String,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let fail = |message: String| StoreError {
            path: path.display().to_string(),
            message,
        };
        let db = Database::create(path).map_err(|e| fail(e.to_string()))?;
        Ok(Store {
            db,
            path: path.display().to_string(),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Every device saved. A record that does not decode is skipped and reported, not fatal:
    /// the registry refills from the feeds.
    pub fn load(&self) -> Result<Vec<(u64, Device)>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = match txn.open_table(DEVICES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.error(e)),
        };
        let mut devices = Vec::new();
        for entry in table.iter().map_err(|e| self.error(e))? {
            let (id, value) = entry.map_err(|e| self.error(e))?;
            match serde_json::from_slice::<Device>(value.value()) {
                Ok(device) => devices.push((id.value(), device)),
                Err(e) => tracing::warn!(
                    "{}: device {:016x} unreadable, skipped: {e}",
                    self.path,
                    id.value()
                ),
            }
        }
        Ok(devices)
    }

    /// Saves devices in one transaction.
    pub fn save<'d>(
        &self,
        devices: impl IntoIterator<Item = (u64, &'d Device)>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.error(e))?;
        {
            let mut table = txn.open_table(DEVICES).map_err(|e| self.error(e))?;
            let mut value = Vec::new();
            for (id, device) in devices {
                value.clear();
                serde_json::to_writer(&mut value, device).map_err(|e| self.error(e))?;
                table
                    .insert(id, value.as_slice())
                    .map_err(|e| self.error(e))?;
            }
        }
        txn.commit().map_err(|e| self.error(e))
    }
}
