//! Column families and the byte layout of their keys (see the table in the module docs of [`super`]).

use governance_contracts::codec::{decode, encode};
use governance_contracts::ids::{AccountId, Height, ProposalId, TxHash};
use governance_contracts::state::TableId;

use super::error::StorageError;

/// The column families. Their names are part of the on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cf {
    State,
    Blocks,
    Certificates,
    Receipts,
    TxIndex,
    ProposalIndex,
    AccountIndex,
    Evidence,
    Consensus,
    Meta,
    SetChanges,
}

impl Cf {
    /// Every column family the store opens.
    pub(crate) const ALL: [Self; 11] = [
        Self::State,
        Self::Blocks,
        Self::Certificates,
        Self::Receipts,
        Self::TxIndex,
        Self::ProposalIndex,
        Self::AccountIndex,
        Self::Evidence,
        Self::Consensus,
        Self::Meta,
        Self::SetChanges,
    ];

    /// The column family's name on disk.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Blocks => "blocks",
            Self::Certificates => "certificates",
            Self::Receipts => "receipts",
            Self::TxIndex => "tx_index",
            Self::ProposalIndex => "proposal_index",
            Self::AccountIndex => "account_index",
            Self::Evidence => "evidence",
            Self::Consensus => "consensus",
            Self::Meta => "meta",
            Self::SetChanges => "set_changes",
        }
    }
}

/// Keys of the `meta` column family.
pub(crate) mod meta {
    /// The layout version (`u32`, canonical).
    pub(crate) const SCHEMA_VERSION: &[u8] = b"schema_version";
    /// The chain identity the store was initialised for (`ChainIdentity`, canonical).
    pub(crate) const CHAIN: &[u8] = b"chain";
    /// The last committed height (`Height`, canonical).
    pub(crate) const LAST_HEIGHT: &[u8] = b"last_height";
}

/// Namespaces of the `consensus` column family.
pub(crate) mod consensus {
    /// WAL entries: `WAL ‖ height (u64 BE) ‖ sequence (u64 BE)`.
    pub(crate) const WAL: u8 = b'w';
    /// Named metadata: `META ‖ name`.
    pub(crate) const META: u8 = b'm';
}

/// A state key: the table's tag byte, then the table key.
pub(crate) fn state_key(table: TableId, key: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(key.len().saturating_add(1));
    bytes.push(table.tag());
    bytes.extend_from_slice(key);
    bytes
}

/// A height key: big-endian, so that keys sort by height.
pub(crate) fn height_key(height: Height) -> [u8; 8] {
    height.to_be_bytes()
}

/// `prefix ‖ height (BE) ‖ index (BE)`: the key of one entry of the proposal and account indexes, and of
/// evidence (where the index is a sequence number).
pub(crate) fn located_key(prefix: &[u8], height: Height, index: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len().saturating_add(12));
    key.extend_from_slice(prefix);
    key.extend_from_slice(&height_key(height));
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Splits the `height ‖ index` suffix off a [`located_key`] whose prefix is `prefix_len` bytes long.
pub(crate) fn split_located_key(cf: Cf, key: &[u8], prefix_len: usize) -> Result<(Height, u32), StorageError> {
    let suffix = key.get(prefix_len..).ok_or_else(|| StorageError::bad_key(cf.name(), key))?;
    let (height, index) = suffix.split_first_chunk::<8>().ok_or_else(|| StorageError::bad_key(cf.name(), key))?;
    let index: [u8; 4] = (*index).try_into().map_err(|_| StorageError::bad_key(cf.name(), key))?;
    Ok((Height(u64::from_be_bytes(*height)), u32::from_be_bytes(index)))
}

/// The `tx_index` key of a transaction: its hash's canonical bytes.
pub(crate) fn tx_key(hash: &TxHash) -> Vec<u8> {
    encode(hash)
}

/// The `proposal_index` prefix of a proposal: its id's canonical bytes (fixed length).
pub(crate) fn proposal_prefix(id: &ProposalId) -> Vec<u8> {
    encode(id)
}

/// The `account_index` prefix of an account: its id's canonical bytes (length-prefixed, so no account's prefix
/// is a prefix of another's).
pub(crate) fn account_prefix(account: &AccountId) -> Vec<u8> {
    encode(account)
}

/// `namespace ‖ height (BE) ‖ sequence (BE)`: a WAL entry's key.
pub(crate) fn wal_key(height: Height, seq: u64) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = consensus::WAL;
    key[1..9].copy_from_slice(&height_key(height));
    key[9..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// `namespace ‖ height (BE)`: the prefix of one height's WAL entries.
pub(crate) fn wal_height_prefix(height: Height) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = consensus::WAL;
    key[1..].copy_from_slice(&height_key(height));
    key
}

/// Reads the sequence number of a WAL entry's key.
pub(crate) fn wal_seq(key: &[u8]) -> Result<u64, StorageError> {
    let bytes: [u8; 8] =
        key.get(9..).and_then(|b| b.try_into().ok()).ok_or_else(|| StorageError::bad_key(Cf::Consensus.name(), key))?;
    Ok(u64::from_be_bytes(bytes))
}

/// `namespace ‖ name`: a consensus metadata key.
pub(crate) fn consensus_meta_key(name: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len().saturating_add(1));
    key.push(consensus::META);
    key.extend_from_slice(name);
    key
}

/// The smallest key greater than every key that starts with `prefix`, or `None` when there is none (the prefix
/// is empty or all `0xff`): the exclusive upper bound of a prefix scan.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if let Some(next) = last.checked_add(1) {
            end.push(next);
            return Some(end);
        }
    }
    None
}

/// Decodes a stored value with the bounded canonical decoder; bytes that do not decode are corruption of `cf`.
pub(crate) fn decode_stored<T: borsh::BorshDeserialize>(cf: Cf, bytes: &[u8]) -> Result<T, StorageError> {
    decode(bytes).map_err(|e| StorageError::undecodable(cf.name(), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefix bound is the first key past the prefix, skipping trailing `0xff` bytes.
    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(b"a"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"a\x00"), Some(b"a\x01".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    /// Located keys round-trip and sort by height, then index.
    #[test]
    fn located_keys_round_trip_and_sort() {
        let a = located_key(b"p", Height(1), 7);
        let b = located_key(b"p", Height(2), 0);
        assert!(a < b);
        assert_eq!(split_located_key(Cf::ProposalIndex, &a, 1).unwrap(), (Height(1), 7));
        assert!(split_located_key(Cf::ProposalIndex, &a[..10], 1).is_err());
    }

    /// WAL keys sort by height, then sequence, and give their sequence back.
    #[test]
    fn wal_keys_sort_and_round_trip() {
        assert!(wal_key(Height(1), u64::MAX) < wal_key(Height(2), 0));
        assert!(wal_key(Height(2), 1) < wal_key(Height(2), 256));
        assert_eq!(wal_seq(&wal_key(Height(3), 42)).unwrap(), 42);
        assert!(wal_key(Height(3), 0).starts_with(&wal_height_prefix(Height(3))));
    }
}
