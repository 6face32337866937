//! The consensus host's storage traits ([`BlockStore`] and [`Wal`]) over the RocksDB [`NodeStore`], so that a
//! real node runs `Host<NodeStore, _>`.
//!
//! - Blocks commit through [`NodeStore::commit_block`] (one synced batch: block, receipts, certificate, indexes,
//!   state); a stored height is read back from the `blocks`, `certificates` and `receipts` column families, and a
//!   block without its certificate or receipts is corruption.
//! - Evidence and WAL entries are stored as their canonical (borsh) bytes and read back with the bounded decoder
//!   of `governance_contracts::codec`; an entry too large for that decoder is refused before it is written.
//! - Every failure becomes a [`StorageFailure`] naming the reason: the host stops the node on it. Bytes that do not
//!   decode are an error, never a panic.

use governance_contracts::codec::{MAX_DECODE_BYTES, decode, encode};
use governance_contracts::ids::Height;
use governance_contracts::state::{ChangeSet, Store};

use super::{CommittedBlock, NodeStore, StorageError};
use crate::consensus::evidence::Evidence;
use crate::consensus::store::{BlockStore, StorageFailure, StoredBlock};
use crate::consensus::wal::{Wal, WalEntry};

fn failure(error: StorageError) -> StorageFailure {
    StorageFailure(error.to_string())
}

/// The canonical bytes of `value`, refused when the bounded decoder could never read them back.
fn storable(what: &str, bytes: Vec<u8>) -> Result<Vec<u8>, StorageFailure> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(StorageFailure(format!(
            "{what} of {} bytes exceeds the storable limit of {MAX_DECODE_BYTES} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

impl BlockStore for NodeStore {
    fn state(&self) -> &dyn Store {
        self
    }

    /// The last committed height; 0 for a store without genesis too (its state is then empty and the host refuses
    /// to start on it, finding no validator set).
    fn height(&self) -> Height {
        self.last_height().unwrap_or(Height(0))
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StorageFailure> {
        let Some(block) = NodeStore::block(self, height).map_err(failure)? else {
            return Ok(None);
        };
        let certificate = self
            .certificate(height)
            .map_err(failure)?
            .ok_or_else(|| StorageFailure(format!("corrupt store: block {height} has no certificate")))?;
        let receipts = self
            .receipts(height)
            .map_err(failure)?
            .ok_or_else(|| StorageFailure(format!("corrupt store: block {height} has no receipts")))?;
        Ok(Some(StoredBlock { block, receipts, certificate }))
    }

    fn commit(&mut self, stored: StoredBlock, changes: ChangeSet) -> Result<(), StorageFailure> {
        let StoredBlock { block, receipts, certificate } = stored;
        self.commit_block(&CommittedBlock { block, certificate, receipts, changes }).map_err(failure)
    }

    fn record_evidence(&mut self, evidence: &Evidence) -> Result<(), StorageFailure> {
        let bytes = storable("evidence", encode(evidence))?;
        self.put_evidence(evidence.height(), &bytes).map(|_| ()).map_err(failure)
    }

    fn evidence(&self, from: Height, limit: usize) -> Result<Vec<Evidence>, StorageFailure> {
        NodeStore::evidence(self, from, limit)
            .map_err(failure)?
            .into_iter()
            .map(|stored| {
                decode::<Evidence>(&stored.bytes).map_err(|e| {
                    StorageFailure(format!(
                        "corrupt store: evidence {} of height {} does not decode: {e}",
                        stored.seq, stored.height
                    ))
                })
            })
            .collect()
    }
}

impl Wal for NodeStore {
    /// Appends without syncing: the entry is durable after [`Wal::log_flush`] (or any later synced write).
    fn log_append(&mut self, height: Height, entry: &WalEntry) -> Result<(), StorageFailure> {
        let bytes = storable("write-ahead log entry", encode(entry))?;
        self.wal_append(height, &bytes, false).map_err(failure)
    }

    fn log_flush(&mut self) -> Result<(), StorageFailure> {
        self.wal_flush().map_err(failure)
    }

    fn log_entries(&self, height: Height) -> Result<Vec<WalEntry>, StorageFailure> {
        self.wal_entries(height)
            .map_err(failure)?
            .into_iter()
            .enumerate()
            .map(|(index, bytes)| {
                decode::<WalEntry>(&bytes).map_err(|e| {
                    StorageFailure(format!(
                        "corrupt store: write-ahead log entry {index} of height {height} does not decode: {e}"
                    ))
                })
            })
            .collect()
    }

    fn log_reset(&mut self, height: Height) -> Result<(), StorageFailure> {
        self.wal_reset(height).map_err(failure)
    }
}
