//! The state root: a Jellyfish Merkle tree (crate `jmt`, SHA-256) over every entry of the governance tables, with
//! membership and non-membership proofs (see `docs/adr/0002-state-root.md`).
//!
//! A leaf's key is `SHA-256(table tag ‖ key bytes)` and its value the entry's canonical bytes. The tree's nodes and
//! versioned values live in two system tables of the same store, which the root does not cover. The version is the
//! block height, so proofs can be made for any height whose tree nodes are kept.

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, Version};
use serde::{Deserialize, Serialize};

use super::{ChangeSet, Overlay, Store, StoreError, TableId};
use crate::codec::{decode, encode};
use crate::crypto::Digest;
use crate::ids::Height;

type Hasher = jmt_sha2::Sha256;
type Tree<'a> = JellyfishMerkleTree<'a, TreeStore<'a>, Hasher>;

/// The leaf key of an entry.
pub fn leaf_key(table: TableId, key: &[u8]) -> KeyHash {
    KeyHash(*Digest::sha256(&[&[table.tag()], key]).as_bytes())
}

/// Reads tree nodes and values from the system tables of a store.
struct TreeStore<'a> {
    store: &'a dyn Store,
}

fn value_key(key_hash: KeyHash, version: Version) -> Vec<u8> {
    let mut key = key_hash.0.to_vec();
    key.extend(version.to_be_bytes());
    key
}

impl TreeReader for TreeStore<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.store.get(TableId::TreeNodes, &encode(node_key))? {
            Some(bytes) => Ok(Some(decode(&bytes)?)),
            None => Ok(None),
        }
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        // Versions are big-endian suffixes, so the last entry at or below `max_version` is the newest.
        let entries = self.store.scan_prefix(TableId::TreeValues, &key_hash.0)?;
        for (key, value) in entries.into_iter().rev() {
            let version = key
                .get(32..40)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| anyhow::anyhow!("malformed tree value key"))?;
            if version <= max_version {
                return Ok(decode::<Option<Vec<u8>>>(&value)?);
            }
        }
        Ok(None)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("tree restoration is not supported")
    }
}

fn tree_error(e: anyhow::Error) -> StoreError {
    match e.downcast::<StoreError>() {
        Ok(store) => store,
        Err(other) => StoreError::Corrupt { table: TableId::TreeNodes.name(), detail: other.to_string() },
    }
}

/// Folds the state-table entries of `changes` into the tree at version `height`, writes the tree's new nodes and
/// values into `overlay` (over the same base), and returns the new root.
pub fn commit(overlay: &mut Overlay<'_>, changes: &ChangeSet, height: Height) -> Result<Digest, StoreError> {
    let updates: Vec<(KeyHash, Option<OwnedValue>)> = changes
        .iter()
        .filter(|((table, _), _)| table.in_state_root())
        .map(|((table, key), value)| (leaf_key(*table, key), value.clone()))
        .collect();
    let (root, batch) = {
        let reader = TreeStore { store: overlay };
        Tree::new(&reader).put_value_set(updates, height.0).map_err(tree_error)?
    };
    for (node_key, node) in batch.node_batch.nodes() {
        overlay.put(TableId::TreeNodes, encode(node_key), encode(node));
    }
    for ((version, key_hash), value) in batch.node_batch.values() {
        overlay.put(TableId::TreeValues, value_key(*key_hash, *version), encode(value));
    }
    Ok(Digest::Sha256(root.0))
}

/// The root at `height`, or `None` for a height not committed yet (or no longer kept). A query for such a height
/// is the asker's mistake, never a storage failure.
pub fn root_at(store: &dyn Store, height: Height) -> Result<Option<Digest>, StoreError> {
    let reader = TreeStore { store };
    let root = Tree::new(&reader).get_root_hash_option(height.0).map_err(tree_error)?;
    Ok(root.map(|r| Digest::Sha256(r.0)))
}

/// A proof that an entry has a value, or has none, under a state root.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct StateProof {
    /// The table.
    pub table: u8,
    /// The key bytes.
    pub key: Vec<u8>,
    /// The value's canonical bytes, or none for a non-membership proof.
    pub value: Option<Vec<u8>>,
    /// The Merkle path.
    pub proof: SparseMerkleProof<Hasher>,
}

/// Why a state proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state proof does not verify: {0}")]
pub struct ProofError(pub String);

/// Makes a proof for `key` in `table` at `height`, or `None` for a height whose tree is not there (see
/// [`root_at`]).
pub fn prove(store: &dyn Store, table: TableId, key: &[u8], height: Height) -> Result<Option<StateProof>, StoreError> {
    if root_at(store, height)?.is_none() {
        return Ok(None);
    }
    let reader = TreeStore { store };
    let (value, proof) = Tree::new(&reader).get_with_proof(leaf_key(table, key), height.0).map_err(tree_error)?;
    Ok(Some(StateProof { table: table.tag(), key: key.to_vec(), value, proof }))
}

impl StateProof {
    /// Verifies the proof against `root` (taken from a header the verifier checked with
    /// [`crate::types::verify_certificate`]).
    pub fn verify(&self, root: &Digest) -> Result<(), ProofError> {
        let table = TableId::ALL
            .into_iter()
            .find(|t| t.tag() == self.table && t.in_state_root())
            .ok_or_else(|| ProofError(format!("unknown table tag {}", self.table)))?;
        self.proof
            .verify(RootHash(*root.as_bytes()), leaf_key(table, &self.key), self.value.as_ref())
            .map_err(|e| ProofError(e.to_string()))
    }
}
