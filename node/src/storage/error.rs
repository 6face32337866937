//! Storage errors. Every one of them is fatal to a running node except the caller's own mistakes
//! ([`StorageError::NotInitialised`], [`StorageError::OutOfOrder`], [`StorageError::InconsistentBlock`],
//! [`StorageError::TooLarge`]), which mean a bug upstream: the node stops and says why, never limps on.

use std::path::PathBuf;

use governance_contracts::codec::DecodeError;
use governance_contracts::crypto::Digest;
use governance_contracts::execution::GenesisError;
use governance_contracts::ids::Height;
use governance_contracts::state::StoreError;

/// Why the node's store failed or refused a write.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be opened (missing permissions, held by another process, unknown column families).
    #[error("cannot open the store at {}: {source}", path.display())]
    Open {
        /// The database directory.
        path: PathBuf,
        /// RocksDB's reason.
        #[source]
        source: rocksdb::Error,
    },
    /// A read or write failed (disk full, I/O error).
    #[error("store I/O on column family {column_family} failed: {source}")]
    Io {
        /// The column family touched.
        column_family: &'static str,
        /// RocksDB's reason.
        #[source]
        source: rocksdb::Error,
    },
    /// Stored bytes are damaged or do not decode: the database is corrupt or was written by incompatible code.
    #[error("corrupt store in {table}: {detail}")]
    Corrupt {
        /// The column family, or the governance table, holding the bad bytes.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The store was initialised for another chain.
    #[error(
        "the store belongs to chain {stored_chain_id:?} with genesis hash {stored_genesis_hash}, \
         not to chain {given_chain_id:?} with genesis hash {given_genesis_hash}: use another data directory"
    )]
    WrongGenesis {
        /// The chain id recorded in the store.
        stored_chain_id: String,
        /// The genesis hash recorded in the store.
        stored_genesis_hash: Digest,
        /// The chain id of the genesis given.
        given_chain_id: String,
        /// The hash of the genesis given.
        given_genesis_hash: Digest,
    },
    /// The store was written with another layout version.
    #[error("store schema version {found} is not the supported version {expected}")]
    SchemaMismatch {
        /// The version recorded in the store.
        found: u32,
        /// The version this code reads and writes.
        expected: u32,
    },
    /// The genesis given cannot be applied.
    #[error(transparent)]
    InvalidGenesis(#[from] GenesisError),
    /// A block was committed before any genesis.
    #[error("the store has no genesis: initialise it before committing blocks")]
    NotInitialised,
    /// A block was committed out of order.
    #[error("block {got} does not follow the last committed height {last}")]
    OutOfOrder {
        /// The last committed height.
        last: Height,
        /// The height of the block given.
        got: Height,
    },
    /// The parts of a block to commit disagree with each other (a bug in the caller: nothing was written).
    #[error("block {height} is inconsistent: {detail}")]
    InconsistentBlock {
        /// The block's height.
        height: Height,
        /// What disagrees.
        detail: String,
    },
    /// A value is larger than the store could ever decode again (nothing was written).
    #[error("{what} of {len} bytes exceeds the storable limit of {max} bytes")]
    TooLarge {
        /// What was to be written.
        what: &'static str,
        /// Its encoded size.
        len: usize,
        /// The limit ([`governance_contracts::codec::MAX_DECODE_BYTES`]).
        max: usize,
    },
    /// Governance state read through the [`governance_contracts::state::Store`] trait failed.
    #[error("state access failed: {0}")]
    State(#[from] StoreError),
}

impl StorageError {
    /// Classifies a RocksDB error on `column_family`: RocksDB's own corruption reports become
    /// [`StorageError::Corrupt`], everything else [`StorageError::Io`].
    pub(crate) fn rocks(column_family: &'static str, source: rocksdb::Error) -> Self {
        match source.kind() {
            rocksdb::ErrorKind::Corruption => Self::Corrupt { table: column_family, detail: source.into_string() },
            _ => Self::Io { column_family, source },
        }
    }

    /// Bytes in `table` that do not decode.
    pub(crate) fn undecodable(table: &'static str, error: &DecodeError) -> Self {
        Self::Corrupt { table, detail: error.to_string() }
    }

    /// A malformed key in `table`.
    pub(crate) fn bad_key(table: &'static str, key: &[u8]) -> Self {
        Self::Corrupt { table, detail: format!("malformed key {key:02x?}") }
    }
}

impl From<StorageError> for StoreError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Corrupt { table, detail } => StoreError::Corrupt { table, detail },
            StorageError::State(inner) => inner,
            other => StoreError::Io(other.to_string()),
        }
    }
}
