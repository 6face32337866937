//! The consensus engine's durable records: its write-ahead log (one log per height, replayed on restart), named
//! metadata, and the equivocation evidence it reports. Entries are opaque bytes here: the consensus host encodes
//! and decodes them.

use governance_contracts::ids::Height;
use std::sync::atomic::Ordering;

use rocksdb::WriteBatch;

use super::keys::{self, Cf};
use super::{NodeStore, StorageError, StoreView};

/// One stored piece of equivocation evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    /// The height it was reported at.
    pub height: Height,
    /// Its position among the evidence of that height.
    pub seq: u32,
    /// The evidence, as the consensus host encoded it.
    pub bytes: Vec<u8>,
}

impl NodeStore {
    /// Appends `entry` to the WAL of `height`. With `sync`, it is on disk when this returns; without, it is
    /// durable after the next synced write or [`NodeStore::wal_flush`], which must come before anything the entry
    /// guards leaves the node.
    pub fn wal_append(&mut self, height: Height, entry: &[u8], sync: bool) -> Result<(), StorageError> {
        let seq = match self.wal_cursor {
            Some((cursor, seq)) if cursor == height => seq,
            _ => match self.last_with_prefix(Cf::Consensus, &keys::wal_height_prefix(height))? {
                Some((key, _)) => keys::wal_seq(&key)?.checked_add(1).ok_or_else(|| StorageError::Corrupt {
                    table: Cf::Consensus.name(),
                    detail: format!("the WAL of height {height} is full"),
                })?,
                None => 0,
            },
        };
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Cf::Consensus), keys::wal_key(height, seq), entry);
        self.write(batch, sync, Cf::Consensus)?;
        self.wal_cursor = seq.checked_add(1).map(|next| (height, next));
        Ok(())
    }

    /// Makes every write so far durable, WAL appends included. Syncs only when a write since the last synced one
    /// is not on disk: a flush with nothing new costs nothing.
    pub fn wal_flush(&self) -> Result<(), StorageError> {
        if !self.unsynced.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        if let Err(e) = self.db.flush_wal(true) {
            self.unsynced.store(true, Ordering::SeqCst);
            return Err(StorageError::rocks(Cf::Consensus.name(), e));
        }
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// How many times [`NodeStore::wal_flush`] synced the log to disk.
    pub fn wal_syncs(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }

    /// The WAL entries of `height`, in the order they were appended.
    pub fn wal_entries(&self, height: Height) -> Result<Vec<Vec<u8>>, StorageError> {
        let entries = self.scan_prefix_of(Cf::Consensus, &keys::wal_height_prefix(height), None)?;
        Ok(entries.into_iter().map(|(_, value)| value.into_vec()).collect())
    }

    /// Deletes the WAL entries of every height below `height` (consensus moved on to `height`). Not synced: a lost
    /// reset only leaves old entries that the next reset deletes.
    pub fn wal_reset(&mut self, height: Height) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(
            self.cf(Cf::Consensus),
            keys::wal_height_prefix(Height(0)),
            keys::wal_height_prefix(height),
        );
        self.write(batch, false, Cf::Consensus)?;
        if self.wal_cursor.is_some_and(|(cursor, _)| cursor < height) {
            self.wal_cursor = None;
        }
        Ok(())
    }

    /// Stores consensus metadata `value` under `name`, synced.
    pub fn put_consensus_meta(&mut self, name: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Cf::Consensus), keys::consensus_meta_key(name), value);
        self.write(batch, true, Cf::Consensus)
    }

    /// The consensus metadata stored under `name`.
    pub fn consensus_meta(&self, name: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(Cf::Consensus, &keys::consensus_meta_key(name))
    }

    /// Stores a piece of equivocation evidence reported at `height`, synced, and returns its sequence number.
    pub fn put_evidence(&mut self, height: Height, evidence: &[u8]) -> Result<u32, StorageError> {
        let prefix = keys::height_key(height);
        let seq = match self.last_with_prefix(Cf::Evidence, &prefix)? {
            Some((key, _)) => {
                let (_, seq) = keys::split_located_key(Cf::Evidence, &key, 0)?;
                seq.checked_add(1).ok_or_else(|| StorageError::Corrupt {
                    table: Cf::Evidence.name(),
                    detail: format!("the evidence of height {height} is full"),
                })?
            }
            None => 0,
        };
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Cf::Evidence), keys::located_key(&[], height, seq), evidence);
        self.write(batch, true, Cf::Evidence)?;
        Ok(seq)
    }

    /// Up to `limit` pieces of evidence reported at `from` or later, by height, then in the order stored.
    pub fn evidence(&self, from: Height, limit: usize) -> Result<Vec<StoredEvidence>, StorageError> {
        self.view().evidence(from, limit)
    }
}

impl StoreView<'_> {
    /// Up to `limit` pieces of evidence reported at `from` or later, by height, then in the order stored.
    pub fn evidence(&self, from: Height, limit: usize) -> Result<Vec<StoredEvidence>, StorageError> {
        let entries = self.scan(Cf::Evidence, &keys::height_key(from), None, Some(limit))?;
        entries
            .into_iter()
            .map(|(key, value)| {
                let (height, seq) = keys::split_located_key(Cf::Evidence, &key, 0)?;
                Ok(StoredEvidence { height, seq, bytes: value.into_vec() })
            })
            .collect()
    }
}
