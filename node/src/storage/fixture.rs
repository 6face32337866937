//! Long chains for the node's own tests: blocks committed to a real [`NodeStore`] through
//! [`NodeStore::commit_block`] (which checks that each block's parts agree), without the cost of signing every
//! certificate, syncing every write or running the contracts' whole-state invariant check after every block.
//!
//! Node `n1` of a four-member test chain rotates its key at the heights asked for, so the validator set changes
//! exactly there. The blocks around each rotation (until what it left to prune is pruned) are executed by the
//! contracts; every other block is empty with nothing to prune, so its state changes are written directly: the
//! chain record's new height and the state tree's new version, what execution writes for such a block. Only the
//! certificates a proof carries are signed (those of the change heights and of the last height); the others hold
//! no signatures, which nothing reading the store checks.

use std::path::Path;

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::{Digest, SecretKey};
use governance_contracts::execution::{self, BlockOutcome};
use governance_contracts::ids::{BlockHash, Height};
use governance_contracts::state::tables::META;
use governance_contracts::state::{Overlay, root};
use governance_contracts::testkit::{self, account, node, secret};
use governance_contracts::types::block::{CommitSignature, ConsensusVote, VoteKind};
use governance_contracts::types::{
    Action, Block, CommitCertificate, Genesis, KeyProofBody, Payload, Principal, Proposal, SignedTransaction,
    Transaction,
};

use super::{CommittedBlock, NodeStore};

/// A store holding `blocks` blocks of the four-member test chain, where `n1` rotates its key in each block of
/// `changes`; and its genesis.
pub(crate) fn long_chain(path: &Path, blocks: u64, changes: &[u64]) -> (NodeStore, Genesis) {
    let genesis = testkit::genesis(4);
    let chain = genesis.identity();
    let mut store = NodeStore::open_with_genesis(path, &genesis).expect("the store opens");
    store.sync = false;
    let mut n1 = "n1".to_owned();
    let mut parent = BlockHash(Digest::Sha256([0; 32]));
    // The set of the next height: it changes only where `n1` rotates.
    let mut set = execution::validator_set(&store).expect("the state holds a validator set");
    for h in 1..=blocks {
        let height = Height(h);
        let mut txs = Vec::new();
        let signing_n1 = n1.clone();
        let rotates = changes.contains(&h);
        if rotates {
            let next = format!("n1-{h}");
            txs.push(rotation(&genesis, height, &n1, &next));
            n1 = next;
        }
        let sized: Vec<(SignedTransaction, usize)> = txs.iter().map(|tx| (tx.clone(), encode(tx).len())).collect();
        // A rotation's transaction and proposal expire ten blocks on, and are pruned in the block after.
        let executed = changes.iter().any(|&r| (r..=r.saturating_add(12)).contains(&h));
        let outcome = if executed {
            execution::apply_block(&store, height, &sized).expect("the block applies")
        } else {
            empty_block(&store, height, set.clone())
        };
        let header = testkit::block_header(&chain, height, parent, &txs, &outcome, &set, h);
        let block = Block { header, transactions: BoundedVec::try_new(txs).expect("one transaction at most") };
        let hash = block.hash(&chain);
        let signatures = if rotates || h == blocks {
            // The set of this height signs, `n1` with its key before this block's rotation.
            let keys: Vec<SecretKey> = ["n0", "n2", "n3", signing_n1.as_str()].into_iter().map(secret).collect();
            set.validators
                .iter()
                .map(|v| {
                    let key = keys.iter().find(|k| k.public_key() == v.key).expect("every validator's key is known");
                    let vote = ConsensusVote {
                        height,
                        round: 0,
                        kind: VoteKind::Precommit,
                        block: Some(hash),
                        voter: v.node.clone(),
                    };
                    CommitSignature { node: v.node.clone(), signature: key.sign(&vote.signing_digest(&chain)) }
                })
                .collect()
        } else {
            Vec::new()
        };
        let certificate = CommitCertificate {
            height,
            round: 0,
            block: hash,
            signatures: BoundedVec::try_new(signatures).expect("one signature per validator"),
        };
        parent = hash;
        set = outcome.next_validator_set;
        let committed = CommittedBlock { block, certificate, receipts: outcome.receipts, changes: outcome.changes };
        store.commit_block(&committed).expect("the block commits");
    }
    (store, genesis)
}

/// What executing an empty block at `height` writes when it has nothing to prune: the chain record's height and
/// the state tree's version of that height.
fn empty_block(store: &NodeStore, height: Height, set: governance_contracts::types::ValidatorSet) -> BlockOutcome {
    let mut meta = execution::meta(store).expect("the state holds the chain record");
    meta.height = height;
    let mut overlay = Overlay::new(store);
    META.put(&mut overlay, &(), &meta);
    let changes = overlay.changes().clone();
    let state_root = root::commit(&mut overlay, &changes, height).expect("the state tree takes the version");
    BlockOutcome { changes: overlay.into_changes(), receipts: Vec::new(), state_root, next_validator_set: set }
}

/// `n1`'s proposal, signed with its key `from` and approved by `m1-ops`, to rotate its key to `to`.
fn rotation(genesis: &Genesis, height: Height, from: &str, to: &str) -> SignedTransaction {
    let chain = genesis.identity();
    let n1 = Principal::Node(node("n1"));
    let proof = KeyProofBody {
        subject: n1.clone(),
        old_key: Some(secret(from).public_key()),
        new_key: secret(to).public_key(),
        expires_at: height.plus(10),
    }
    .sign(&chain, &secret(to));
    let proposal = Proposal {
        proposer: n1.clone(),
        title: BoundedString::try_new("rotate").expect("short"),
        description: BoundedString::default(),
        actions: BoundedVec::try_new(vec![Action::RotateNodeKey { node: node("n1"), proof }]).expect("one action"),
        expires_at: height.plus(10),
        salt: height.0,
    };
    let approval = proposal.approve(&chain, account("m1-ops"), &secret("m1-ops"));
    let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).expect("one") };
    Transaction { sender: n1, valid_until: height.plus(10), payload }.sign(&chain, &secret(from))
}
