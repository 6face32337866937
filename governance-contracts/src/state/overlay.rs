//! Buffered writes over a store: reads see the buffer first, and the buffer either merges into its parent or is
//! dropped. Blocks, transactions and proposal executions each get their own, so a failure discards exactly its
//! own writes.

use std::collections::BTreeMap;

use super::{Store, StoreError, TableId};

/// Pending writes: `Some(value)` to put, `None` to delete.
pub type ChangeSet = BTreeMap<(TableId, Vec<u8>), Option<Vec<u8>>>;

/// A write buffer over a read-only base.
pub struct Overlay<'a> {
    base: &'a dyn Store,
    changes: ChangeSet,
}

impl<'a> Overlay<'a> {
    /// An empty buffer over `base`.
    pub fn new(base: &'a dyn Store) -> Self {
        Self { base, changes: ChangeSet::new() }
    }

    /// Buffers a put.
    pub fn put(&mut self, table: TableId, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert((table, key), Some(value));
    }

    /// Buffers a delete.
    pub fn delete(&mut self, table: TableId, key: Vec<u8>) {
        self.changes.insert((table, key), None);
    }

    /// The buffered writes.
    pub fn changes(&self) -> &ChangeSet {
        &self.changes
    }

    /// Takes the buffered writes.
    pub fn into_changes(self) -> ChangeSet {
        self.changes
    }

    /// Merges `changes` (a child buffer's) into this one.
    pub fn absorb(&mut self, changes: ChangeSet) {
        self.changes.extend(changes);
    }
}

impl Store for Overlay<'_> {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.changes.get(&(table, key.to_vec())) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(table, key),
        }
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<super::Entries, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self.base.scan_prefix(table, prefix)?.into_iter().collect();
        for ((_, key), change) in self
            .changes
            .range((table, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
        {
            match change {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }
}
