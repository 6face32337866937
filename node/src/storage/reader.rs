//! Reading the store from outside its owner: [`StoreReader`], a cheap shared handle, and [`StoreView`], the reads
//! themselves, either live (each read sees the latest committed write) or over one RocksDB snapshot (every read
//! sees the store as it was when the snapshot was taken).
//!
//! Every committed block changes blocks, indexes, state and the last height in one atomic write batch, so a
//! snapshot always sits between two blocks: its state is exactly the state after its last height.

use std::cell::Cell;
use std::sync::Arc;

use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::Height;
use governance_contracts::state::{Entries, Store, StoreError, TableId};
use rocksdb::{ColumnFamily, DB, IteratorMode, ReadOptions, Snapshot};

use super::keys::{self, Cf, decode_stored};
use super::{Entry, StorageError};

/// A read-only handle on a [`NodeStore`](super::NodeStore)'s database: `Clone + Send + Sync`, cloning costs a
/// reference count. The store's owner keeps writing; readers see each block once it is committed.
#[derive(Clone)]
pub struct StoreReader {
    db: Arc<DB>,
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreReader").field("path", &self.db.path()).finish()
    }
}

impl StoreReader {
    pub(super) fn new(db: Arc<DB>) -> Self {
        Self { db }
    }

    /// A consistent view: every read sees the store as it is now, whatever is committed afterwards. Take one per
    /// request and drop it when done (a snapshot holds old data on disk while it lives).
    pub fn snapshot(&self) -> StoreView<'_> {
        StoreView { db: &self.db, snapshot: Some(self.db.snapshot()), rows_read: Cell::new(0) }
    }

    /// A live view: each read sees the latest committed write.
    pub fn live(&self) -> StoreView<'_> {
        StoreView::live(&self.db)
    }

    /// The last committed height, read fresh from disk: 0 after genesis, `None` before it.
    pub fn last_height(&self) -> Result<Option<Height>, StorageError> {
        self.live().last_height()
    }
}

/// Reads of the store, live or over one snapshot (see [`StoreReader`]). Also the governance state as a
/// [`Store`], for reads through `governance_contracts`. It counts the rows it reads ([`StoreView::rows_read`]), so
/// that what one request costs can be checked.
pub struct StoreView<'a> {
    db: &'a DB,
    snapshot: Option<Snapshot<'a>>,
    rows_read: Cell<u64>,
}

impl std::fmt::Debug for StoreView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreView").field("snapshot", &self.snapshot.is_some()).finish_non_exhaustive()
    }
}

impl<'a> StoreView<'a> {
    pub(super) fn live(db: &'a DB) -> Self {
        Self { db, snapshot: None, rows_read: Cell::new(0) }
    }

    /// How many rows this view has read: one per lookup, one per entry a scan went through.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.get()
    }

    fn count_rows(&self, rows: usize) {
        let rows = u64::try_from(rows).unwrap_or(u64::MAX);
        self.rows_read.set(self.rows_read.get().saturating_add(rows));
    }

    /// Whether every read of this view sees one snapshot.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// The chain the store was initialised for, or `None` before genesis.
    pub fn chain(&self) -> Result<Option<ChainIdentity>, StorageError> {
        self.read(Cf::Meta, keys::meta::CHAIN)?.map(|bytes| decode_stored(Cf::Meta, &bytes)).transpose()
    }

    /// The last committed height: 0 after genesis, `None` before it.
    pub fn last_height(&self) -> Result<Option<Height>, StorageError> {
        self.read(Cf::Meta, keys::meta::LAST_HEIGHT)?.map(|bytes| decode_stored(Cf::Meta, &bytes)).transpose()
    }

    /// The handle of a column family. Every one is opened with the database, so it is always there.
    pub(super) fn cf(&self, cf: Cf) -> &'a ColumnFamily {
        self.db.cf_handle(cf.name()).expect("the database is opened with every column family")
    }

    /// Read options reading this view's snapshot, if it has one.
    fn options(&self) -> ReadOptions {
        let mut options = ReadOptions::default();
        if let Some(snapshot) = &self.snapshot {
            options.set_snapshot(snapshot);
        }
        options
    }

    /// The value under `key` in `cf`.
    pub(super) fn read(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.count_rows(1);
        self.db.get_cf_opt(self.cf(cf), key, &self.options()).map_err(|e| StorageError::rocks(cf.name(), e))
    }

    /// Whether `cf` holds any entry.
    pub(super) fn has_any(&self, cf: Cf) -> Result<bool, StorageError> {
        Ok(!self.scan(cf, &[], None, Some(1))?.is_empty())
    }

    /// Entries of `cf` with `from <= key < to` (no upper bound when `to` is `None`), ascending, at most `limit`.
    pub(super) fn scan(
        &self,
        cf: Cf,
        from: &[u8],
        to: Option<Vec<u8>>,
        limit: Option<usize>,
    ) -> Result<Vec<Entry>, StorageError> {
        let mut options = self.options();
        if let Some(to) = to {
            options.set_iterate_upper_bound(to);
        }
        let iter = self.db.iterator_cf_opt(self.cf(cf), options, IteratorMode::From(from, rocksdb::Direction::Forward));
        let mut entries = Vec::new();
        for item in iter.take(limit.unwrap_or(usize::MAX)) {
            self.count_rows(1);
            entries.push(item.map_err(|e| StorageError::rocks(cf.name(), e))?);
        }
        Ok(entries)
    }

    /// Calls `visit` with every entry of `cf`, ascending, one at a time (nothing is collected), stopping at the
    /// first error.
    pub(super) fn for_each(
        &self,
        cf: Cf,
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let iter = self.db.iterator_cf_opt(self.cf(cf), self.options(), IteratorMode::Start);
        for item in iter {
            self.count_rows(1);
            let (key, value) = item.map_err(|e| StorageError::rocks(cf.name(), e))?;
            visit(&key, &value)?;
        }
        Ok(())
    }

    /// Entries of `cf` whose key starts with `prefix`, ascending, at most `limit`.
    pub(super) fn scan_prefix_of(
        &self,
        cf: Cf,
        prefix: &[u8],
        limit: Option<usize>,
    ) -> Result<Vec<Entry>, StorageError> {
        self.scan(cf, prefix, keys::prefix_end(prefix), limit)
    }

    /// The last entry of `cf` whose key starts with `prefix`.
    pub(super) fn last_with_prefix(&self, cf: Cf, prefix: &[u8]) -> Result<Option<Entry>, StorageError> {
        let mut options = self.options();
        options.set_iterate_lower_bound(prefix.to_vec());
        if let Some(end) = keys::prefix_end(prefix) {
            options.set_iterate_upper_bound(end);
        }
        let mut iter = self.db.iterator_cf_opt(self.cf(cf), options, IteratorMode::End);
        self.count_rows(1);
        iter.next().transpose().map_err(|e| StorageError::rocks(cf.name(), e))
    }

    /// The value of governance table `table` under `key`.
    pub(super) fn state_get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(Cf::State, &keys::state_key(table, key))
    }

    /// The entries of governance table `table` whose key starts with `prefix`, in key order.
    pub(super) fn state_scan(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StorageError> {
        // The tag byte is never 0xff, so the bound always exists and the scan never leaves the table.
        let prefix = keys::state_key(table, prefix);
        let entries = self.scan_prefix_of(Cf::State, &prefix, None)?;
        Self::table_entries(table, entries)
    }

    /// At most `limit` entries of governance table `table` whose key sorts after `after` (from the table's first
    /// key when `None`), in key order. It reads those entries and no other, however large the table.
    pub fn state_page(&self, table: TableId, after: Option<&[u8]>, limit: usize) -> Result<Entries, StorageError> {
        // The least key after `after` is `after` followed by a zero byte.
        let start = match after {
            Some(after) => {
                let mut start = keys::state_key(table, after);
                start.push(0);
                start
            }
            None => keys::state_key(table, &[]),
        };
        let entries = self.scan(Cf::State, &start, keys::prefix_end(&[table.tag()]), Some(limit))?;
        Self::table_entries(table, entries)
    }

    /// `entries` of the `state` column family as table keys and values, each checked to be of `table`.
    fn table_entries(table: TableId, entries: Vec<Entry>) -> Result<Entries, StorageError> {
        entries
            .into_iter()
            .map(|(key, value)| match key.split_first() {
                Some((tag, rest)) if *tag == table.tag() => Ok((rest.to_vec(), value.into_vec())),
                _ => Err(StorageError::bad_key(Cf::State.name(), &key)),
            })
            .collect()
    }
}

impl Store for StoreView<'_> {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state_get(table, key)?)
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError> {
        Ok(self.state_scan(table, prefix)?)
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::state::ChangeSet;
    use governance_contracts::testkit;

    use super::*;
    use crate::storage::NodeStore;

    /// A snapshot keeps reading what was there when it was taken while the owner writes; a live view and a fresh
    /// snapshot see the write; a reader outlives nothing it should not (it is cloneable and sendable).
    #[test]
    fn snapshots_are_isolated_from_later_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = NodeStore::open_with_genesis(dir.path(), &testkit::genesis(4)).expect("store opens");
        let reader = store.reader();
        fn assert_shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
        assert_shareable(&reader);

        let key = b"extra".to_vec();
        let before = reader.snapshot();
        assert!(before.is_snapshot());
        assert_eq!(before.last_height().expect("reads"), Some(Height(0)));
        assert_eq!(before.chain().expect("reads"), store.chain().cloned());

        let mut changes = ChangeSet::new();
        changes.insert((TableId::Roles, key.clone()), Some(vec![1, 2, 3]));
        store.apply_changes(&changes).expect("writes");

        assert_eq!(before.get(TableId::Roles, &key).expect("reads"), None);
        assert_eq!(reader.live().get(TableId::Roles, &key).expect("reads"), Some(vec![1, 2, 3]));
        assert_eq!(reader.snapshot().get(TableId::Roles, &key).expect("reads"), Some(vec![1, 2, 3]));
    }
}
