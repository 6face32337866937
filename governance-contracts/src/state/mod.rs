//! State access: named tables over a byte-level key-value [`Store`], typed [`Table`]s on top, an in-memory store
//! for tests and simulation ([`MemoryStore`]), and an [`Overlay`] that collects one transaction's or one block's
//! writes so they apply all together or not at all.
//!
//! The node implements [`Store`] over RocksDB; the conformance suite in `tests/store_conformance.rs` is written
//! against the trait so the node can run it against its own implementation.

pub mod conformance;
mod memory;
mod overlay;
pub mod records;
pub mod root;
pub mod tables;

use core::marker::PhantomData;

use borsh::{BorshDeserialize, BorshSerialize};

pub use memory::MemoryStore;
pub use overlay::{ChangeSet, Overlay};

use crate::codec::{decode, encode};

/// A storage failure. Fatal: the node stops and says why; contract code never papers over it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The underlying store failed (disk, I/O).
    #[error("store I/O failed: {0}")]
    Io(String),
    /// Stored bytes do not decode: the database is corrupt or was written by an incompatible version.
    #[error("corrupt state in table {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What failed.
        detail: String,
    },
}

/// The named tables. Each has a one-byte tag that prefixes its keys in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs, reason = "see the typed definitions in `tables`")]
pub enum TableId {
    Meta = 1,
    Params = 2,
    Policy = 3,
    Members = 4,
    Accounts = 5,
    Keys = 6,
    Nodes = 7,
    Roles = 8,
    Grants = 9,
    Proposals = 10,
    ProposalExpiry = 11,
    TxSeen = 12,
    TxExpiry = 13,
    RemovedNodes = 14,
    Anchors = 15,
    /// Jellyfish Merkle tree nodes (not part of the root they make up).
    TreeNodes = 200,
    /// Versioned leaf values of the tree (not part of the root).
    TreeValues = 201,
}

impl TableId {
    /// Every table.
    pub const ALL: [Self; 17] = [
        Self::Meta,
        Self::Params,
        Self::Policy,
        Self::Members,
        Self::Accounts,
        Self::Keys,
        Self::Nodes,
        Self::Roles,
        Self::Grants,
        Self::Proposals,
        Self::ProposalExpiry,
        Self::TxSeen,
        Self::TxExpiry,
        Self::RemovedNodes,
        Self::Anchors,
        Self::TreeNodes,
        Self::TreeValues,
    ];

    /// The table's tag byte.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The table's name (a RocksDB implementation may use it for column families or key prefixes).
    pub fn name(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Params => "params",
            Self::Policy => "policy",
            Self::Members => "members",
            Self::Accounts => "accounts",
            Self::Keys => "keys",
            Self::Nodes => "nodes",
            Self::Roles => "roles",
            Self::Grants => "grants",
            Self::Proposals => "proposals",
            Self::ProposalExpiry => "proposal_expiry",
            Self::TxSeen => "tx_seen",
            Self::TxExpiry => "tx_expiry",
            Self::RemovedNodes => "removed_nodes",
            Self::Anchors => "anchors",
            Self::TreeNodes => "tree_nodes",
            Self::TreeValues => "tree_values",
        }
    }

    /// Whether the table's contents are committed to by the state root (governance state is; the tree's own
    /// storage is not).
    pub fn in_state_root(self) -> bool {
        !matches!(self, Self::TreeNodes | Self::TreeValues)
    }
}

/// Entries of one table: `(key, value)` in ascending key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to state. Implementations: [`MemoryStore`], [`Overlay`], and the node's RocksDB store.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry whose key starts with `prefix`, in ascending key order.
    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError>;
}

/// How a typed key is laid out in bytes. Keys of one table must be prefix-free or ordered as documented.
pub trait TableKey: Sized {
    /// The key's bytes.
    fn to_key_bytes(&self) -> Vec<u8>;
    /// Reads a key back.
    fn from_key_bytes(bytes: &[u8]) -> Option<Self>;
}

/// Marks key types laid out as their canonical encoding (length-prefixed names, fixed-size digests), so that a
/// composite key's first component is a scannable prefix.
pub trait CanonicalKey: BorshSerialize + BorshDeserialize {}

impl<T: CanonicalKey> TableKey for T {
    fn to_key_bytes(&self) -> Vec<u8> {
        encode(self)
    }
    fn from_key_bytes(bytes: &[u8]) -> Option<Self> {
        decode(bytes).ok()
    }
}

/// A key that sorts by height first (big-endian), for expiry indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryKey<T>(pub crate::ids::Height, pub T);

impl<T: CanonicalKey> TableKey for ExpiryKey<T> {
    fn to_key_bytes(&self) -> Vec<u8> {
        let mut bytes = self.0.to_be_bytes().to_vec();
        bytes.extend(encode(&self.1));
        bytes
    }
    fn from_key_bytes(bytes: &[u8]) -> Option<Self> {
        let (height, rest) = bytes.split_first_chunk::<8>()?;
        Some(Self(crate::ids::Height(u64::from_be_bytes(*height)), decode(rest).ok()?))
    }
}

/// A typed view of one table.
pub struct Table<K, V> {
    id: TableId,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Table<K, V> {
    /// The table `id` with key type `K` and value type `V`.
    pub const fn new(id: TableId) -> Self {
        Self { id, _types: PhantomData }
    }

    /// The table's id.
    pub fn id(&self) -> TableId {
        self.id
    }
}

impl<K: TableKey, V: BorshSerialize + BorshDeserialize> Table<K, V> {
    fn decode_value(&self, bytes: &[u8]) -> Result<V, StoreError> {
        decode(bytes).map_err(|e| StoreError::Corrupt { table: self.id.name(), detail: e.to_string() })
    }

    /// The value under `key`.
    pub fn get(&self, store: &dyn Store, key: &K) -> Result<Option<V>, StoreError> {
        match store.get(self.id, &key.to_key_bytes())? {
            Some(bytes) => self.decode_value(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Whether `key` has a value.
    pub fn contains(&self, store: &dyn Store, key: &K) -> Result<bool, StoreError> {
        Ok(store.get(self.id, &key.to_key_bytes())?.is_some())
    }

    /// Writes `value` under `key`.
    pub fn put(&self, overlay: &mut Overlay<'_>, key: &K, value: &V) {
        overlay.put(self.id, key.to_key_bytes(), encode(value));
    }

    /// Deletes `key`.
    pub fn delete(&self, overlay: &mut Overlay<'_>, key: &K) {
        overlay.delete(self.id, key.to_key_bytes());
    }

    /// Entries whose key bytes start with `prefix`, decoded, in key order.
    pub fn scan(&self, store: &dyn Store, prefix: &[u8]) -> Result<Vec<(K, V)>, StoreError> {
        store
            .scan_prefix(self.id, prefix)?
            .into_iter()
            .map(|(k, v)| {
                let key = K::from_key_bytes(&k)
                    .ok_or_else(|| StoreError::Corrupt { table: self.id.name(), detail: "undecodable key".into() })?;
                Ok((key, self.decode_value(&v)?))
            })
            .collect()
    }

    /// Every entry, in key order.
    pub fn all(&self, store: &dyn Store) -> Result<Vec<(K, V)>, StoreError> {
        self.scan(store, &[])
    }
}
