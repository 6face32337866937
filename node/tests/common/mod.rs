//! Helpers shared by the node's integration tests.

// Each test binary uses a part of these.
#![allow(dead_code)]

pub mod api;

use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution;
use governance_contracts::ids::BlockHash;
use governance_contracts::ids::Height;
use governance_contracts::state::root;
use governance_contracts::testkit;
use governance_contracts::testkit::TestChain;
use governance_contracts::types::proof::{CertifiedHeader, ProofBundle, RecordKey};
use governance_contracts::types::{Block, CommitCertificate, CommitSignature, ConsensusVote, ValidatorSet, VoteKind};
use governance_contracts::types::{Genesis, Payload, SignedTransaction};
use synod::storage::CommittedBlock;

/// A commit certificate for `block` signed by every validator of `set` (keys derived from the node ids).
pub fn certify(chain: &ChainIdentity, block: &Block, set: &ValidatorSet) -> CommitCertificate {
    let hash = block.hash(chain);
    let signatures = set
        .validators
        .iter()
        .map(|v| {
            let vote = ConsensusVote {
                height: block.header.height,
                round: 0,
                kind: VoteKind::Precommit,
                block: Some(hash),
                voter: v.node.clone(),
            };
            CommitSignature {
                node: v.node.clone(),
                signature: testkit::secret(v.node.as_str()).sign(&vote.signing_digest(chain)),
            }
        })
        .collect();
    CommitCertificate {
        height: block.header.height,
        round: 0,
        block: hash,
        signatures: BoundedVec::try_new(signatures).expect("one signature per validator"),
    }
}

/// Makes blocks the way a node does: executes transactions (on a [`TestChain`], which checks every invariant),
/// builds the header from the outcome, and certifies it with precommits from every sealer of the height.
pub struct Producer {
    /// The chain the blocks execute on.
    pub chain: TestChain,
    /// The last block's hash.
    pub parent: BlockHash,
}

impl Producer {
    /// A producer starting at `genesis`.
    pub fn new(genesis: Genesis) -> Self {
        Self { chain: TestChain::new(genesis), parent: BlockHash(Digest::Sha256([0; 32])) }
    }

    /// The next block, holding `txs`, certified by every sealer of its height.
    pub fn next_block(&mut self, txs: Vec<SignedTransaction>) -> CommittedBlock {
        let chain = self.chain.chain.clone();
        let validators = execution::validator_set(&self.chain.store).expect("the state holds a validator set");
        let outcome = self.chain.apply_block(txs.clone());
        let height = self.chain.height;
        let time_ms = self.chain.genesis.genesis_time_ms.saturating_add(height.0.saturating_mul(1_000));
        let header = testkit::block_header(&chain, height, self.parent, &txs, &outcome, &validators, time_ms);
        let block = Block { header, transactions: BoundedVec::try_new(txs).expect("the test blocks are small") };
        let certificate = certify(&chain, &block, &validators);
        self.parent = block.hash(&chain);
        CommittedBlock { block, certificate, receipts: outcome.receipts, changes: outcome.changes }
    }

    /// A block with one readiness attestation by `n1`, distinct at every height.
    pub fn attest_block(&mut self) -> CommittedBlock {
        let synced_height = self.chain.height;
        let tx = self.chain.node_tx("n1", Payload::AttestReadiness { synced_height });
        self.next_block(vec![tx])
    }
}

/// A genuine proof bundle of member `m1` at height 1 of a four-member test chain, and that chain's genesis.
pub fn member_bundle() -> (ProofBundle, Genesis) {
    let mut producer = Producer::new(testkit::genesis(4));
    let committed = producer.next_block(vec![]);
    let record = RecordKey::Member { member: testkit::member("m1") };
    let (table, key) = record.location();
    let state_proof = root::prove(&producer.chain.store, table, &key, Height(1)).expect("readable").expect("kept");
    let bundle = ProofBundle {
        chain: producer.chain.chain.clone(),
        record,
        state_proof,
        header: CertifiedHeader { header: committed.block.header, certificate: committed.certificate },
        set_changes: BoundedVec::new(),
    };
    (bundle, producer.chain.genesis)
}
