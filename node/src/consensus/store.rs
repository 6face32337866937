//! What the consensus host needs from storage, behind small traits that the RocksDB store
//! ([`crate::storage::NodeStore`]) and the in-memory [`MemoryBlockStore`] both implement: the committed
//! governance state; per height the block, its receipts and its commit certificate; equivocation evidence; and
//! (through [`Wal`]) the consensus write-ahead log. The host owns one value that is both ([`NodeStorage`]).
//!
//! [`BlockStore::commit`] is the one write: block, receipts, certificate and state changes together, all or
//! nothing. A failure is fatal to the node ([`StorageFailure`]): it never limps on with a half-written height.

use std::collections::BTreeMap;

use governance_contracts::crypto::Digest;
use governance_contracts::execution::{self, GenesisError};
use governance_contracts::ids::Height;
use governance_contracts::state::{ChangeSet, MemoryStore, Store};
use governance_contracts::types::block::{Block, CommitCertificate};
use governance_contracts::types::{Genesis, Receipt};

use super::evidence::Evidence;
use super::wal::{MemoryWal, Wal, WalEntry};

/// A storage failure: the node must stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct StorageFailure(pub String);

/// One finalised height as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Its finality proof.
    pub certificate: CommitCertificate,
}

/// Blocks, certificates and the committed state of one node.
pub trait BlockStore {
    /// The committed governance state (after [`Self::height`]).
    fn state(&self) -> &dyn Store;
    /// The last committed height (0 at genesis).
    fn height(&self) -> Height;
    /// The finalised block at `height`, if stored.
    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StorageFailure>;
    /// Commits the next height: the block, its receipts and certificate, and the state changes, atomically.
    fn commit(&mut self, stored: StoredBlock, changes: ChangeSet) -> Result<(), StorageFailure>;
    /// Stores a piece of equivocation evidence durably.
    fn record_evidence(&mut self, evidence: &Evidence) -> Result<(), StorageFailure>;
    /// Up to `limit` pieces of evidence of height `from` or later, by height.
    fn evidence(&self, from: Height, limit: usize) -> Result<Vec<Evidence>, StorageFailure>;
}

/// Everything a consensus host stores: blocks and state, evidence, and the write-ahead log.
pub trait NodeStorage: BlockStore + Wal {}

impl<T: BlockStore + Wal> NodeStorage for T {}

/// A [`BlockStore`] and [`Wal`] in memory (tests and simulation). Commits and evidence are durable at once; log
/// entries only once flushed, so [`Self::crashed`] models a crash that loses exactly the unflushed entries.
#[derive(Debug, Clone)]
pub struct MemoryBlockStore {
    state: MemoryStore,
    height: Height,
    blocks: BTreeMap<Height, StoredBlock>,
    genesis_root: Digest,
    evidence: Vec<Evidence>,
    wal: MemoryWal,
}

impl MemoryBlockStore {
    /// A store holding the state `genesis` creates.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, GenesisError> {
        let created = execution::apply_genesis(genesis)?;
        let mut state = MemoryStore::new();
        state.apply(created.changes);
        Ok(Self {
            state,
            height: Height(0),
            blocks: BTreeMap::new(),
            genesis_root: created.state_root,
            evidence: Vec::new(),
            wal: MemoryWal::new(),
        })
    }

    /// What a crash at this moment leaves behind: everything but the log entries not yet flushed.
    pub fn crashed(&self) -> Self {
        Self { wal: self.wal.crashed(), ..self.clone() }
    }

    /// What a crash leaves if the log was never made durable: everything but the log (a sabotage for tests).
    pub fn without_log(&self) -> Self {
        Self { wal: MemoryWal::new(), ..self.clone() }
    }

    /// Log entries appended but not yet flushed.
    pub fn unflushed(&self) -> usize {
        self.wal.buffered()
    }

    /// The state root at height 0.
    pub fn genesis_root(&self) -> Digest {
        self.genesis_root
    }
}

impl BlockStore for MemoryBlockStore {
    fn state(&self) -> &dyn Store {
        &self.state
    }

    fn height(&self) -> Height {
        self.height
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StorageFailure> {
        Ok(self.blocks.get(&height).cloned())
    }

    fn commit(&mut self, stored: StoredBlock, changes: ChangeSet) -> Result<(), StorageFailure> {
        let next = self.height.plus(1);
        if stored.block.header.height != next {
            return Err(StorageFailure(format!(
                "commit of height {} onto height {}",
                stored.block.header.height, self.height
            )));
        }
        self.state.apply(changes);
        self.blocks.insert(next, stored);
        self.height = next;
        Ok(())
    }

    fn record_evidence(&mut self, evidence: &Evidence) -> Result<(), StorageFailure> {
        self.evidence.push(evidence.clone());
        Ok(())
    }

    fn evidence(&self, from: Height, limit: usize) -> Result<Vec<Evidence>, StorageFailure> {
        let mut found: Vec<Evidence> = self.evidence.iter().filter(|e| e.height() >= from).cloned().collect();
        found.sort_by_key(Evidence::height);
        found.truncate(limit);
        Ok(found)
    }
}

impl Wal for MemoryBlockStore {
    fn log_append(&mut self, height: Height, entry: &WalEntry) -> Result<(), StorageFailure> {
        self.wal.log_append(height, entry)
    }

    fn log_flush(&mut self) -> Result<(), StorageFailure> {
        self.wal.log_flush()
    }

    fn log_entries(&self, height: Height) -> Result<Vec<WalEntry>, StorageFailure> {
        self.wal.log_entries(height)
    }

    fn log_reset(&mut self, height: Height) -> Result<(), StorageFailure> {
        self.wal.log_reset(height)
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::BoundedVec;
    use governance_contracts::testkit::{genesis, node};
    use governance_contracts::types::block::BlockHeader;

    use super::*;

    fn stored(height: u64) -> StoredBlock {
        let header = BlockHeader {
            height: Height(height),
            parent: governance_contracts::ids::BlockHash(Digest::ZERO),
            state_root: Digest::ZERO,
            transactions_root: Digest::ZERO,
            receipts_root: Digest::ZERO,
            validator_set_hash: Digest::ZERO,
            next_validator_set_hash: Digest::ZERO,
            proposer: node("n0"),
            time_ms: 0,
        };
        let certificate = CommitCertificate {
            height: Height(height),
            round: 0,
            block: governance_contracts::ids::BlockHash(Digest::ZERO),
            signatures: BoundedVec::new(),
        };
        StoredBlock { block: Block { header, transactions: BoundedVec::new() }, receipts: Vec::new(), certificate }
    }

    /// Commits advance the height one at a time and a gap is refused without changing anything.
    #[test]
    fn commits_are_sequential() {
        let mut store = MemoryBlockStore::from_genesis(&genesis(4)).unwrap();
        assert_eq!(store.height(), Height(0));
        assert!(store.commit(stored(2), ChangeSet::new()).is_err());
        assert_eq!(store.height(), Height(0));
        store.commit(stored(1), ChangeSet::new()).unwrap();
        assert_eq!(store.height(), Height(1));
        assert_eq!(store.block(Height(1)).unwrap().unwrap().block.header.height, Height(1));
        assert!(store.block(Height(2)).unwrap().is_none());
    }
}
