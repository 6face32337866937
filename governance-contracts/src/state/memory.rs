//! An in-memory store for tests, simulation and the browser.

use std::collections::BTreeMap;

use super::{ChangeSet, Store, StoreError, TableId};

/// All tables in one ordered map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    entries: BTreeMap<(TableId, Vec<u8>), Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a change set (as the node applies a block's in one write batch).
    pub fn apply(&mut self, changes: ChangeSet) {
        for ((table, key), value) in changes {
            match value {
                Some(value) => self.entries.insert((table, key), value),
                None => self.entries.remove(&(table, key)),
            };
        }
    }

    /// Writes one entry directly, bypassing the contracts (tests use it to corrupt state on purpose).
    pub fn put_raw(&mut self, table: TableId, key: Vec<u8>, value: Vec<u8>) {
        self.entries.insert((table, key), value);
    }

    /// Deletes one entry directly, bypassing the contracts.
    pub fn delete_raw(&mut self, table: TableId, key: &[u8]) {
        self.entries.remove(&(table, key.to_vec()));
    }
}

impl Store for MemoryStore {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entries.get(&(table, key.to_vec())).cloned())
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<super::Entries, StoreError> {
        Ok(self
            .entries
            .range((table, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
