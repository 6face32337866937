//! Building offline-verifiable proofs ([`ProofBundle`]) of one governance record from a node's store, at its last
//! committed height. The verifier's side is `governance_contracts::types::proof`.
//!
//! The bundle carries the record's state proof at the last committed height, that height's certified header, and
//! every validator-set change from genesis up to it: each certified header whose `next_validator_set_hash` differs
//! from its `validator_set_hash`, with the new set. The new set is derived from the state as it stood after that
//! header, read from the state tree's versioned values (the tree keeps every height), with the same
//! `execution::validator_set` the node itself runs; its hash is checked against the header before it is used.
//!
//! Cost: the heights of the changes come from the store's set-change index ([`ProofSource::set_change_heights`]),
//! so a bundle reads the certified headers of those heights and of the last one, no other: O(changes), however
//! long the chain (at most [`MAX_SET_CHANGES`] changes, the bundle's bound). Deriving each new set reads the
//! records of every node ever admitted (the `nodes` and `removed_nodes` tables) at that height.

use std::collections::BTreeSet;

use governance_contracts::codec::BoundedVec;
use governance_contracts::execution;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::state::root;
use governance_contracts::state::tables::{NODES, REMOVED_NODES};
use governance_contracts::state::{Entries, Store, StoreError, TableId, TableKey as _};
use governance_contracts::types::block::ValidatorSet;
use governance_contracts::types::proof::MAX_SET_CHANGES;
use governance_contracts::types::{CertifiedHeader, ProofBundle, RecordKey, ValidatorSetChange};

use crate::consensus::store::{BlockStore, StorageFailure};
use crate::storage::StoreView;

/// Why a bundle could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No block is committed yet: there is no certified header to prove against.
    #[error("no block is committed yet: a proof needs a certified header")]
    NoBlocks,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageFailure),
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StoreError),
    /// The store lacks something every committed height has (corruption).
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// More validator-set changes than one bundle carries.
    #[error("more than {MAX_SET_CHANGES} validator-set changes since genesis")]
    TooManyChanges,
}

/// The id key of every node ever admitted: those in the `nodes` table and those removed (a removed node's record
/// moves to `removed_nodes`, kept for good), read once from the last committed state.
fn every_node(store: &dyn Store) -> Result<BTreeSet<Vec<u8>>, StoreError> {
    let mut nodes: BTreeSet<Vec<u8>> = NODES.all(store)?.into_iter().map(|(id, _)| id.to_key_bytes()).collect();
    nodes.extend(REMOVED_NODES.all(store)?.into_iter().map(|(id, _)| NodeId::to_key_bytes(&id)));
    Ok(nodes)
}

/// The state as it stood after `height`, for deriving that height's validator set: reads come from the state
/// tree's versioned values; listing the `nodes` table enumerates `nodes`, every node ever admitted.
struct StateAt<'a> {
    store: &'a dyn Store,
    height: Height,
    nodes: &'a BTreeSet<Vec<u8>>,
}

impl Store for StateAt<'_> {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if !table.in_state_root() {
            return Err(StoreError::Io(format!("table {} has no history", table.name())));
        }
        let proof = root::prove(self.store, table, key, self.height)?.ok_or_else(|| StoreError::Corrupt {
            table: TableId::TreeNodes.name(),
            detail: format!("no state tree at height {}", self.height),
        })?;
        Ok(proof.value)
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError> {
        if table != NODES.id() {
            return Err(StoreError::Io(format!("listing table {} at a past height is not supported", table.name())));
        }
        let mut entries = Vec::new();
        for key in self.nodes.iter().filter(|k| k.starts_with(prefix)) {
            if let Some(value) = self.get(table, key)? {
                entries.push((key.clone(), value));
            }
        }
        Ok(entries)
    }
}

/// The validator set derived from the state after `height`.
pub fn validator_set_after(state: &dyn Store, height: Height) -> Result<ValidatorSet, StoreError> {
    let nodes = every_node(state)?;
    execution::validator_set(&StateAt { store: state, height, nodes: &nodes })
}

/// What building a bundle reads: the governance state, the last committed height, the heights where the
/// validator set changed and the certified headers. A [`StoreView`] (a node's store read from outside its owner,
/// live or over one snapshot) reads the heights from the store's index; every [`BlockStore`] is one too, scanning
/// its headers for them (the in-memory store of tests and simulations keeps no index).
pub trait ProofSource {
    /// The governance state at the last committed height (its state tree keeps every height).
    fn state(&self) -> &dyn Store;
    /// The last committed height.
    fn height(&self) -> Result<Height, BuildError>;
    /// Up to `limit` heights below `below` whose header changes the validator set, ascending.
    fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, BuildError>;
    /// The certified header at `height` (an error when that height is not committed).
    fn certified(&self, height: Height) -> Result<CertifiedHeader, BuildError>;
}

impl<S: BlockStore + ?Sized> ProofSource for S {
    fn state(&self) -> &dyn Store {
        BlockStore::state(self)
    }

    fn height(&self) -> Result<Height, BuildError> {
        Ok(BlockStore::height(self))
    }

    fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, BuildError> {
        let mut heights = Vec::new();
        for h in 1..below.0 {
            if heights.len() >= limit {
                break;
            }
            let header = self.certified(Height(h))?.header;
            if header.validator_set_hash != header.next_validator_set_hash {
                heights.push(Height(h));
            }
        }
        Ok(heights)
    }

    fn certified(&self, height: Height) -> Result<CertifiedHeader, BuildError> {
        let stored = self.block(height)?.ok_or_else(|| BuildError::Corrupt(format!("no block at height {height}")))?;
        Ok(CertifiedHeader { header: stored.block.header, certificate: stored.certificate })
    }
}

impl ProofSource for StoreView<'_> {
    fn state(&self) -> &dyn Store {
        self
    }

    fn height(&self) -> Result<Height, BuildError> {
        let height = self.last_height().map_err(|e| StorageFailure(e.to_string()))?;
        Ok(height.unwrap_or(Height(0)))
    }

    fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, BuildError> {
        Ok(StoreView::set_change_heights(self, below, limit).map_err(|e| StorageFailure(e.to_string()))?)
    }

    fn certified(&self, height: Height) -> Result<CertifiedHeader, BuildError> {
        let failure = |e: crate::storage::StorageError| StorageFailure(e.to_string());
        let block = self.block(height).map_err(failure)?;
        let certificate = self.certificate(height).map_err(failure)?;
        match (block, certificate) {
            (Some(block), Some(certificate)) => Ok(CertifiedHeader { header: block.header, certificate }),
            _ => Err(BuildError::Corrupt(format!("no certified block at height {height}"))),
        }
    }
}

/// The bundle proving `record` at the store's last committed height (see the [module docs](self)).
pub fn build<S: ProofSource + ?Sized>(store: &S, record: &RecordKey) -> Result<ProofBundle, BuildError> {
    let state = store.state();
    let chain = execution::meta(state).map_err(|e| BuildError::Corrupt(e.to_string()))?.chain;
    let height = store.height()?;
    if height == Height(0) {
        return Err(BuildError::NoBlocks);
    }
    let header = store.certified(height)?;
    // One more than a bundle carries, to tell "exactly the most" from "too many".
    let heights = store.set_change_heights(height, MAX_SET_CHANGES.saturating_add(1))?;
    if heights.len() > MAX_SET_CHANGES {
        return Err(BuildError::TooManyChanges);
    }
    let nodes = every_node(state)?;
    let mut set_changes = Vec::with_capacity(heights.len());
    for h in heights {
        let certified = store.certified(h)?;
        let changes = &certified.header;
        if changes.validator_set_hash == changes.next_validator_set_hash {
            return Err(BuildError::Corrupt(format!(
                "the set-change index names height {h}, whose header changes no validator set"
            )));
        }
        let next = execution::validator_set(&StateAt { store: state, height: h, nodes: &nodes })?;
        if next.hash(&chain) != changes.next_validator_set_hash {
            return Err(BuildError::Corrupt(format!(
                "the validator set derived after height {h} is not the one its header names"
            )));
        }
        set_changes.push(ValidatorSetChange { certified, next });
    }
    let (table, key) = record.location();
    let state_proof = root::prove(state, table, &key, height)?
        .ok_or_else(|| BuildError::Corrupt(format!("no state tree at height {height}")))?;
    Ok(ProofBundle {
        chain,
        record: record.clone(),
        state_proof,
        header,
        set_changes: BoundedVec::try_new(set_changes).map_err(|_| BuildError::TooManyChanges)?,
    })
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::{BoundedVec, encode};
    use governance_contracts::crypto::{Digest, PublicKey, SecretKey};
    use governance_contracts::ids::{BlockHash, Height};
    use governance_contracts::testkit::{self, TestChain, member, node, secret};
    use governance_contracts::types::block::{Block, CommitCertificate, CommitSignature, ConsensusVote, VoteKind};
    use governance_contracts::types::proof;
    use governance_contracts::types::{Action, Payload, Principal, RecordKey, RecordValue, SignedTransaction};

    use super::*;
    use crate::consensus::store::{MemoryBlockStore, StoredBlock};

    /// Applies `txs` as the next block on both `chain` and `store`, certified by every sealer of the set.
    fn commit(chain: &mut TestChain, store: &mut MemoryBlockStore, txs: Vec<SignedTransaction>) {
        let ids = chain.chain.clone();
        let set = execution::validator_set(&chain.store).unwrap();
        let height = chain.height.plus(1);
        let parent = match store.block(chain.height).unwrap() {
            Some(stored) => stored.block.header.hash(&ids),
            None => BlockHash(Digest::ZERO),
        };
        let outcome = chain.apply_block(txs.clone());
        let header = testkit::block_header(&ids, height, parent, &txs, &outcome, &set, height.0);
        let block_hash = header.hash(&ids);
        let secrets: Vec<SecretKey> = ["n0", "n1", "n2", "n3", "n1-next"].into_iter().map(secret).collect();
        let key = |k: &PublicKey| secrets.iter().find(|s| &s.public_key() == k).unwrap().clone();
        let signatures = set
            .validators
            .iter()
            .map(|v| {
                let vote = ConsensusVote {
                    height,
                    round: 0,
                    kind: VoteKind::Precommit,
                    block: Some(block_hash),
                    voter: v.node.clone(),
                };
                CommitSignature { node: v.node.clone(), signature: key(&v.key).sign(&vote.signing_digest(&ids)) }
            })
            .collect();
        let certificate = CommitCertificate {
            height,
            round: 0,
            block: block_hash,
            signatures: BoundedVec::try_new(signatures).unwrap(),
        };
        let block = Block { header, transactions: BoundedVec::try_new(txs).unwrap() };
        store.commit(StoredBlock { block, receipts: outcome.receipts, certificate }, outcome.changes).unwrap();
    }

    /// A bundle built from a store after a key rotation carries that set change and verifies from the genesis;
    /// a store with no block yet has nothing to prove against.
    #[test]
    fn built_bundles_verify_from_genesis() {
        let mut chain = TestChain::with_members(4);
        let mut store = MemoryBlockStore::from_genesis(&chain.genesis).unwrap();
        assert_eq!(build(&store, &RecordKey::Member { member: member("m0") }), Err(BuildError::NoBlocks));
        commit(&mut chain, &mut store, vec![]);
        let proof = chain.key_proof(Principal::Node(node("n1")), Some(testkit::public("n1")), "n1-next");
        let proposal =
            chain.proposal(Principal::Node(node("n1")), vec![Action::RotateNodeKey { node: node("n1"), proof }]);
        let approval = chain.approval(&proposal, "m1-ops");
        let tx = chain.node_tx(
            "n1",
            Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() },
        );
        commit(&mut chain, &mut store, vec![tx]);
        commit(&mut chain, &mut store, vec![]);

        let bundle = build(&store, &RecordKey::Node { node: node("n1") }).unwrap();
        assert_eq!(bundle.set_changes.len(), 1);
        assert_eq!(bundle.set_changes[0].certified.header.height, Height(2));
        let verified = proof::verify(&chain.genesis, &bundle).unwrap();
        let Some(RecordValue::Node(record)) = verified.value else { panic!("a node record") };
        assert_eq!(record.key, Some(testkit::public("n1-next")));
        assert_eq!(verified.height, Height(3));
        assert!(!encode(&bundle).is_empty());
    }

    /// A [`ProofSource`] that counts the certified headers read through it.
    struct Counting<'a, S: ?Sized> {
        inner: &'a S,
        headers_read: std::cell::Cell<u64>,
    }

    impl<S: ProofSource + ?Sized> ProofSource for Counting<'_, S> {
        fn state(&self) -> &dyn Store {
            self.inner.state()
        }

        fn height(&self) -> Result<Height, BuildError> {
            self.inner.height()
        }

        fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, BuildError> {
            self.inner.set_change_heights(below, limit)
        }

        fn certified(&self, height: Height) -> Result<CertifiedHeader, BuildError> {
            self.headers_read.set(self.headers_read.get().saturating_add(1));
            self.inner.certified(height)
        }
    }

    /// On a chain of 100,000 blocks whose validator set changed at ten heights, a proof reads the certified
    /// headers of those ten heights and of the last one, no other, and verifies from the genesis.
    #[test]
    fn a_proof_reads_only_the_set_change_heights() {
        let dir = tempfile::tempdir().expect("temp dir");
        let changes: Vec<u64> = (1..=10).map(|i| i * 9_000 + 7).collect();
        let (store, genesis) = crate::storage::fixture::long_chain(dir.path(), 100_000, &changes);
        let reader = store.reader();
        let view = reader.snapshot();
        let counting = Counting { inner: &view, headers_read: std::cell::Cell::new(0) };

        let bundle = build(&counting, &RecordKey::Node { node: node("n1") }).expect("the proof builds");

        assert_eq!(counting.headers_read.get(), 11, "the ten change heights and the last height");
        let heights: Vec<u64> = bundle.set_changes.iter().map(|c| c.certified.header.height.0).collect();
        assert_eq!(heights, changes);
        let verified = proof::verify(&genesis, &bundle).expect("the bundle verifies from the genesis");
        assert_eq!(verified.height, Height(100_000));
        let Some(RecordValue::Node(record)) = verified.value else { panic!("a node record") };
        assert_eq!(record.key, Some(testkit::public("n1-90007")));
    }
}
