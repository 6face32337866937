//! Node storage on RocksDB: governance state, finalized blocks with their certificates and receipts, lookup
//! indexes, equivocation evidence and the consensus WAL, in one database with one column family per concern.
//!
//! # Layout
//!
//! Heights are big-endian `u64` in keys, so that keys sort by height. Values are canonical (borsh) bytes and are
//! read back with the bounded decoder of `governance_contracts::codec`.
//!
//! | column family    | key                                                  | value                               |
//! |------------------|------------------------------------------------------|-------------------------------------|
//! | `state`          | `TableId::tag()` (1 byte) ‖ table key                | the table's value bytes             |
//! | `blocks`         | height                                               | `Block`                             |
//! | `certificates`   | height                                               | `CommitCertificate`                 |
//! | `receipts`       | height                                               | `Vec<Receipt>`, one per transaction |
//! | `tx_index`       | `TxHash`                                             | [`TxLocation`], whether it applied  |
//! | `proposal_index` | `ProposalId` (33 bytes) ‖ height ‖ tx index (u32 BE) | empty                               |
//! | `account_index`  | `AccountId` (length-prefixed) ‖ height ‖ tx index    | empty                               |
//! | `evidence`       | height ‖ sequence (u32 BE)                           | opaque equivocation evidence        |
//! | `consensus`      | `w` ‖ height ‖ sequence (u64 BE): a WAL entry        | opaque WAL entry                    |
//! |                  | `m` ‖ name: consensus metadata                       | opaque bytes                        |
//! | `meta`           | `schema_version`, `chain`, `last_height`             | `u32`, `ChainIdentity`, `Height`    |
//! | `set_changes`    | height of a block that changes the validator set     | empty                               |
//!
//! The `set_changes` index lets a proof bundle ([`crate::proofs`]) read the headers where the validator set changed
//! and no other. A store written before it existed (schema version 1) is upgraded when opened: the index is built
//! from the stored headers in one pass and written with the new version in one batch.
//!
//! # Durability
//!
//! A block, its certificate, receipts, index entries, state changes and the new last height go into one RocksDB
//! write batch written with `sync = true` ([`NodeStore::commit_block`]). RocksDB applies a batch across column
//! families atomically through its write-ahead log, and recovery (point-in-time, the default) replays whole batches
//! only, so a crash at any point reopens at the last committed block with exactly its state. Genesis is written the
//! same way ([`NodeStore::init_genesis`]).
//!
//! WAL appends are synced when the caller asks (or by [`NodeStore::wal_flush`]): consensus flushes once before
//! anything it guards leaves the node.
//!
//! # Failures
//!
//! Every error is a [`StorageError`]. I/O failures and corruption are fatal: the node stops and says why; nothing
//! falls back to a default. Nothing read from disk is unwrapped.
//!
//! # The consensus host
//!
//! `NodeStore` implements the host's storage traits (`consensus::store::BlockStore` and `consensus::wal::Wal`),
//! storing evidence and WAL entries as their canonical bytes (see `host.rs`), so a node runs `Host<NodeStore, _>`.
//!
//! # Concurrency
//!
//! Reads take `&self`; writes take `&mut self`, so one owner (the consensus host) is the only writer. Readers on
//! other tasks (the HTTP API) hold a [`StoreReader`] ([`NodeStore::reader`]): a cheap, cloneable, read-only handle
//! on the same database. Each of its [`StoreReader::snapshot`]s reads one RocksDB snapshot, so a request sees the
//! state, the blocks and the last height of one and the same committed block, whatever commits meanwhile.

mod chain;
mod consensus;
mod error;
#[cfg(test)]
pub(crate) mod fixture;
mod host;
mod keys;
mod reader;
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use governance_contracts::codec::encode;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::Height;
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};

pub use chain::{CommittedBlock, TxLocation};
pub use consensus::StoredEvidence;
pub use error::StorageError;
pub use reader::{StoreReader, StoreView};

use keys::{Cf, decode_stored};

/// The on-disk layout version this code reads and writes. A store of version 1 (the layout without the
/// `set_changes` index) is upgraded on open; any other version is refused.
pub const SCHEMA_VERSION: u32 = 2;

/// The layout without the `set_changes` index, which [`NodeStore::open`] upgrades.
const SCHEMA_WITHOUT_SET_CHANGES: u32 = 1;

/// One key and value read from a column family.
type Entry = (Box<[u8]>, Box<[u8]>);

/// The node's store: one RocksDB database (see the [module docs](self) for its layout).
pub struct NodeStore {
    /// Shared with the [`StoreReader`]s handed out; only this value writes.
    db: Arc<DB>,
    path: PathBuf,
    /// The chain the store was initialised for; `None` before genesis.
    chain: Option<ChainIdentity>,
    /// The last committed height; `None` before genesis, 0 after it.
    last_height: Option<Height>,
    /// The next WAL sequence number of one height, once known.
    wal_cursor: Option<(Height, u64)>,
    /// Whether block commits are synced to disk before they return: always, except in tests that build long
    /// chains and measure something else than durability.
    sync: bool,
    /// Whether a write since the last synced one is not on disk: [`NodeStore::wal_flush`] syncs only then.
    unsynced: AtomicBool,
    /// Syncs [`NodeStore::wal_flush`] performed.
    flushes: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for NodeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeStore")
            .field("path", &self.path)
            .field("chain", &self.chain)
            .field("last_height", &self.last_height)
            .finish_non_exhaustive()
    }
}

impl NodeStore {
    /// Opens the store at `path`, creating it when missing. Refuses a store of another schema version and checks
    /// that the recorded chain, last height and governance state agree. A fresh store has no genesis yet: see
    /// [`NodeStore::init_genesis`], or [`NodeStore::open_with_genesis`] which does both.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        // Built without compression libraries: say so rather than rely on the default.
        options.set_compression_type(rocksdb::DBCompressionType::None);
        options.set_keep_log_file_num(4);
        let descriptors = Cf::ALL.iter().map(|cf| {
            let mut cf_options = Options::default();
            cf_options.set_compression_type(rocksdb::DBCompressionType::None);
            ColumnFamilyDescriptor::new(cf.name(), cf_options)
        });
        let db = DB::open_cf_descriptors(&options, path, descriptors)
            .map_err(|source| StorageError::Open { path: path.to_path_buf(), source })?;
        let mut store = Self {
            db: Arc::new(db),
            path: path.to_path_buf(),
            chain: None,
            last_height: None,
            wal_cursor: None,
            // What a previous process appended unsynced may still be only in the OS's cache: the first flush syncs.
            unsynced: AtomicBool::new(true),
            flushes: std::sync::atomic::AtomicU64::new(0),
            sync: true,
        };
        store.load_meta()?;
        Ok(store)
    }

    /// Opens the store at `path` for the chain of `genesis`: initialises a fresh store with it, and refuses a
    /// store initialised for any other genesis ([`StorageError::WrongGenesis`]).
    pub fn open_with_genesis(
        path: &Path,
        genesis: &governance_contracts::types::Genesis,
    ) -> Result<Self, StorageError> {
        let mut store = Self::open(path)?;
        store.init_genesis(genesis)?;
        Ok(store)
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain the store was initialised for, or `None` before genesis.
    pub fn chain(&self) -> Option<&ChainIdentity> {
        self.chain.as_ref()
    }

    /// The last committed height: 0 after genesis, `None` before it.
    pub fn last_height(&self) -> Option<Height> {
        self.last_height
    }

    /// Reads and checks the `meta` column family: writes the schema version into a fresh store, refuses another
    /// version, and checks that the chain, the last height and the governance state agree.
    fn load_meta(&mut self) -> Result<(), StorageError> {
        let version = self.read(Cf::Meta, keys::meta::SCHEMA_VERSION)?;
        let chain = self.read(Cf::Meta, keys::meta::CHAIN)?;
        let last = self.read(Cf::Meta, keys::meta::LAST_HEIGHT)?;
        let Some(version) = version else {
            if chain.is_some() || last.is_some() || self.has_any(Cf::State)? || self.has_any(Cf::Blocks)? {
                return Err(StorageError::Corrupt { table: Cf::Meta.name(), detail: "no schema version".into() });
            }
            let mut batch = WriteBatch::default();
            batch.put_cf(self.cf(Cf::Meta), keys::meta::SCHEMA_VERSION, encode(&SCHEMA_VERSION));
            return self.write(batch, true, Cf::Meta);
        };
        let found: u32 = decode_stored(Cf::Meta, &version)?;
        if found == SCHEMA_WITHOUT_SET_CHANGES {
            self.index_set_changes()?;
        } else if found != SCHEMA_VERSION {
            return Err(StorageError::SchemaMismatch { found, expected: SCHEMA_VERSION });
        }
        match (chain, last) {
            (None, None) => Ok(()),
            (Some(chain), Some(last)) => {
                let chain: ChainIdentity = decode_stored(Cf::Meta, &chain)?;
                let last: Height = decode_stored(Cf::Meta, &last)?;
                self.check_state_meta(&chain, last)?;
                self.chain = Some(chain);
                self.last_height = Some(last);
                Ok(())
            }
            _ => Err(StorageError::Corrupt {
                table: Cf::Meta.name(),
                detail: "the chain identity and the last height must be recorded together".into(),
            }),
        }
    }

    /// Upgrades a store of version 1: writes the `set_changes` index of every stored block and the current
    /// version, in one synced batch. The index is derived from the block headers the store holds, so rebuilding
    /// it is as trustworthy as they are and spares a resync; a crash before the write leaves a version-1 store,
    /// upgraded again on the next open. One read of every block, once.
    fn index_set_changes(&self) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        let mut blocks = 0u64;
        let mut changes = 0u64;
        self.view().for_each(Cf::Blocks, |key, value| {
            let block: governance_contracts::types::Block = decode_stored(Cf::Blocks, value)?;
            if keys::height_key(block.header.height) != key {
                return Err(StorageError::Corrupt {
                    table: Cf::Blocks.name(),
                    detail: format!("the block under key {key:02x?} is block {}", block.header.height),
                });
            }
            if block.header.validator_set_hash != block.header.next_validator_set_hash {
                batch.put_cf(self.cf(Cf::SetChanges), key, []);
                changes = changes.saturating_add(1);
            }
            blocks = blocks.saturating_add(1);
            Ok(())
        })?;
        batch.put_cf(self.cf(Cf::Meta), keys::meta::SCHEMA_VERSION, encode(&SCHEMA_VERSION));
        self.write(batch, true, Cf::SetChanges)?;
        tracing::info!(
            path = %self.path.display(),
            blocks,
            changes,
            "store upgraded from schema version {SCHEMA_WITHOUT_SET_CHANGES} to {SCHEMA_VERSION}: validator-set changes indexed"
        );
        Ok(())
    }

    /// Checks that the governance state's own record of chain and height matches the store's.
    fn check_state_meta(&self, chain: &ChainIdentity, last: Height) -> Result<(), StorageError> {
        let state = governance_contracts::execution::meta(self).map_err(|e| match e {
            governance_contracts::Error::Storage(store) => StorageError::State(store),
            governance_contracts::Error::Rejected(r) => {
                StorageError::Corrupt { table: Cf::State.name(), detail: r.to_string() }
            }
        })?;
        if &state.chain != chain || state.height != last {
            return Err(StorageError::Corrupt {
                table: Cf::State.name(),
                detail: format!(
                    "state is at height {} of chain {:?}, the store records height {last} of chain {:?}",
                    state.height,
                    state.chain.chain_id.as_str(),
                    chain.chain_id.as_str()
                ),
            });
        }
        Ok(())
    }

    /// A view of the store that reads its latest committed contents (no snapshot).
    pub(crate) fn view(&self) -> StoreView<'_> {
        StoreView::live(&self.db)
    }

    /// A cheap, shareable read-only handle on this store, for readers on other tasks and threads (the HTTP API).
    /// It sees every write as soon as it is committed; take [`StoreReader::snapshot`] for a consistent view.
    pub fn reader(&self) -> StoreReader {
        StoreReader::new(Arc::clone(&self.db))
    }

    /// The handle of a column family. Every one is opened with the database, so it is always there.
    fn cf(&self, cf: Cf) -> &ColumnFamily {
        self.db.cf_handle(cf.name()).expect("the database is opened with every column family")
    }

    /// The value under `key` in `cf`.
    fn read(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.view().read(cf, key)
    }

    /// Whether `cf` holds any entry.
    fn has_any(&self, cf: Cf) -> Result<bool, StorageError> {
        self.view().has_any(cf)
    }

    /// Entries of `cf` whose key starts with `prefix`, ascending, at most `limit`.
    fn scan_prefix_of(&self, cf: Cf, prefix: &[u8], limit: Option<usize>) -> Result<Vec<Entry>, StorageError> {
        self.view().scan_prefix_of(cf, prefix, limit)
    }

    /// The last entry of `cf` whose key starts with `prefix`.
    fn last_with_prefix(&self, cf: Cf, prefix: &[u8]) -> Result<Option<Entry>, StorageError> {
        self.view().last_with_prefix(cf, prefix)
    }

    /// Writes `batch` atomically; with `sync`, durably before returning.
    fn write(&self, batch: WriteBatch, sync: bool, cf: Cf) -> Result<(), StorageError> {
        let mut options = WriteOptions::default();
        options.set_sync(sync);
        self.db.write_opt(batch, &options).map_err(|e| StorageError::rocks(cf.name(), e))?;
        // A synced write syncs the log it is appended to, and with it every write before it.
        self.unsynced.store(!sync, Ordering::SeqCst);
        Ok(())
    }
}
