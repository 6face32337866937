//! Governance state in the `state` column family: the [`Store`] trait of `governance-contracts` over RocksDB, and
//! the atomic application of a [`ChangeSet`].

use governance_contracts::state::conformance::ConformanceStore;
use governance_contracts::state::{ChangeSet, Entries, Store, StoreError, TableId};
use rocksdb::WriteBatch;

use super::keys::{self, Cf};
use super::{NodeStore, StorageError};

impl NodeStore {
    /// Adds the puts and deletes of `changes` to `batch`.
    pub(super) fn add_changes(&self, batch: &mut WriteBatch, changes: &ChangeSet) {
        let cf = self.cf(Cf::State);
        for ((table, key), value) in changes {
            let key = keys::state_key(*table, key);
            match value {
                Some(value) => batch.put_cf(cf, key, value),
                None => batch.delete_cf(cf, key),
            }
        }
    }

    /// Applies `changes` to the governance state in one synced write batch: all of them or none. This writes state
    /// only (no block, no height): the conformance suite and tools use it; a node commits through
    /// [`NodeStore::commit_block`].
    pub fn apply_changes(&mut self, changes: &ChangeSet) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        self.add_changes(&mut batch, changes);
        self.write(batch, true, Cf::State)
    }
}

impl Store for NodeStore {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.view().get(table, key)
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.view().scan_prefix(table, prefix)
    }
}

impl ConformanceStore for NodeStore {
    fn apply(&mut self, changes: ChangeSet) -> Result<(), StoreError> {
        Ok(self.apply_changes(&changes)?)
    }
}
