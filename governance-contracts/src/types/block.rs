//! Block headers, validator sets, consensus votes and commit certificates: the protocol types every party
//! verifies. The node wraps these for the consensus engine; the console and the CLI verify with the same
//! [`verify_certificate`].

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedVec;
use crate::crypto::{Digest, PublicKey, Signature};
use crate::domain::{ChainIdentity, Domain};
use crate::ids::{BlockHash, Height, NodeId, Weight};
use crate::types::receipt::Receipt;
use crate::types::transaction::SignedTransaction;

/// Most sealers in one set.
pub const MAX_VALIDATORS: usize = 1_024;

/// A block header. Every header commits to the state after its transactions, so any node or auditor can check
/// what it is told against a certified header.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The block's height (the first block is 1).
    pub height: Height,
    /// The previous block's hash (all zero for the first block).
    pub parent: BlockHash,
    /// The state root after applying this block.
    pub state_root: Digest,
    /// [`transactions_root`] over the block's signed transactions, signatures included.
    pub transactions_root: Digest,
    /// [`receipts_root`] over the block's receipts.
    pub receipts_root: Digest,
    /// Hash of the validator set that certifies this block.
    pub validator_set_hash: Digest,
    /// Hash of the validator set derived from the state after this block (it certifies the next).
    pub next_validator_set_hash: Digest,
    /// The sealer that proposed it.
    pub proposer: NodeId,
    /// The proposer's clock, milliseconds since the Unix epoch.
    pub time_ms: u64,
}

impl BlockHeader {
    /// The block's hash.
    pub fn hash(&self, chain: &ChainIdentity) -> BlockHash {
        BlockHash(chain.digest(Domain::BLOCK_HEADER, self))
    }
}

/// Most transactions one block can carry on the wire (the chain's `max_block_transactions` is at most this).
pub const MAX_BLOCK_TRANSACTIONS: usize = 20_000;

/// A block: its header and its transactions, in order.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, as signed; they make the header's `transactions_root`.
    pub transactions: BoundedVec<SignedTransaction, MAX_BLOCK_TRANSACTIONS>,
}

impl Block {
    /// The block's hash (its header's).
    pub fn hash(&self, chain: &ChainIdentity) -> BlockHash {
        self.header.hash(chain)
    }

    /// Whether the header's `transactions_root` matches the transactions carried.
    pub fn transactions_match(&self, chain: &ChainIdentity) -> bool {
        transactions_root(chain, &self.transactions) == self.header.transactions_root
    }
}

/// Root over a block's signed transactions in order. A transaction's hash ([`crate::types::Transaction::hash`])
/// leaves out its key and signature so that it names the transaction whoever relays it; the root covers them, so
/// two blocks that differ in one signature byte have different hashes and a decided block is one sequence of
/// bytes on every node.
pub fn transactions_root(chain: &ChainIdentity, transactions: &[SignedTransaction]) -> Digest {
    chain.digest(Domain::BLOCK_TRANSACTIONS, transactions)
}

/// Root over the ordered receipts of a block.
pub fn receipts_root(chain: &ChainIdentity, receipts: &[Receipt]) -> Digest {
    chain.digest(Domain::LIST_ROOT, receipts)
}

/// A sealer as consensus sees it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Validator {
    /// Its stable id (the consensus address: keys rotate underneath it).
    pub node: NodeId,
    /// Its key for this height.
    pub key: PublicKey,
    /// Its voting power.
    pub weight: Weight,
}

/// The sealers for one height, sorted by node id, non-empty, with distinct ids.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSet {
    /// The sealers.
    pub validators: BoundedVec<Validator, MAX_VALIDATORS>,
}

impl ValidatorSet {
    /// Total voting power.
    pub fn total_weight(&self) -> u64 {
        self.validators.iter().map(|v| v.weight.0).fold(0u64, u64::saturating_add)
    }

    /// The weight of faulty sealers this set tolerates: the largest F with total ≥ 3F + 1.
    pub fn fault_tolerance(&self) -> u64 {
        fault_tolerance(self.total_weight())
    }

    /// The first validator whose id is not strictly greater than the one before it (out of order, or repeated);
    /// `None` when the set is in the canonical order, ascending by [`NodeId`], that [`Self::get`] searches.
    pub fn first_out_of_order(&self) -> Option<&NodeId> {
        self.validators.windows(2).find_map(|pair| match pair {
            [before, after] if before.node >= after.node => Some(&after.node),
            _ => None,
        })
    }

    /// The validator with this id (a binary search: the set is ascending by id).
    pub fn get(&self, node: &NodeId) -> Option<&Validator> {
        self.validators.binary_search_by(|v| v.node.cmp(node)).ok().and_then(|i| self.validators.get(i))
    }

    /// The set's hash (bound to the chain).
    pub fn hash(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::VALIDATOR_SET, self)
    }
}

/// The largest F with `total ≥ 3F + 1` (zero for an empty set).
pub fn fault_tolerance(total: u64) -> u64 {
    total.saturating_sub(1) / 3
}

/// The kind of a consensus vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    /// First round of voting.
    Prevote,
    /// Second round; 2F+1 precommits for a block finalize it.
    Precommit,
}

/// What a sealer signs when it votes (under [`Domain::CONSENSUS_VOTE`]).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ConsensusVote {
    /// The height voted on.
    pub height: Height,
    /// The consensus round.
    pub round: u32,
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The block voted for, or none (nil).
    pub block: Option<BlockHash>,
    /// The voter.
    pub voter: NodeId,
}

impl ConsensusVote {
    /// The digest the voter signs.
    pub fn signing_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::CONSENSUS_VOTE, self)
    }
}

/// What a sealer signs when it proposes a block in a round (under [`Domain::CONSENSUS_PROPOSAL`]).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ConsensusProposal {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: u32,
    /// The round in which the proposer saw a polka for this block, if any.
    pub valid_round: Option<u32>,
    /// The proposed block.
    pub block: BlockHash,
    /// The proposer.
    pub proposer: NodeId,
}

impl ConsensusProposal {
    /// The digest the proposer signs.
    pub fn signing_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::CONSENSUS_PROPOSAL, self)
    }
}

/// One precommit in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitSignature {
    /// The sealer.
    pub node: NodeId,
    /// Its precommit signature.
    pub signature: Signature,
}

/// The finality proof of a block: precommits for it from more than two thirds of the weight of the validator set
/// of its height.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitCertificate {
    /// The block's height.
    pub height: Height,
    /// The round in which it was decided.
    pub round: u32,
    /// The block's hash.
    pub block: BlockHash,
    /// The precommits.
    pub signatures: BoundedVec<CommitSignature, MAX_VALIDATORS>,
}

/// Why a certificate does not prove a header final.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is for another height.
    #[error("certificate height {certificate} does not match header height {header}")]
    HeightMismatch {
        /// In the certificate.
        certificate: Height,
        /// In the header.
        header: Height,
    },
    /// The certificate is for another block.
    #[error("certificate is for another block")]
    BlockMismatch,
    /// The header names another validator set.
    #[error("header's validator set hash does not match the given set")]
    ValidatorSetMismatch,
    /// A signer is not in the set.
    #[error("{0} is not a validator at this height")]
    UnknownSigner(NodeId),
    /// A signer appears twice.
    #[error("{0} signed twice")]
    DuplicateSigner(NodeId),
    /// A signature does not verify.
    #[error("bad signature from {0}")]
    BadSignature(NodeId),
    /// Not enough weight signed.
    #[error("signed weight {signed} of {total} is not more than two thirds")]
    InsufficientWeight {
        /// Weight that signed.
        signed: u64,
        /// Total weight.
        total: u64,
    },
}

/// Verifies that `certificate` proves `header` final under `set`, the validator set the verifier derived itself
/// for the header's height (never one taken from the sender's word).
pub fn verify_certificate(
    chain: &ChainIdentity,
    header: &BlockHeader,
    certificate: &CommitCertificate,
    set: &ValidatorSet,
) -> Result<(), CertificateError> {
    if certificate.height != header.height {
        return Err(CertificateError::HeightMismatch { certificate: certificate.height, header: header.height });
    }
    if certificate.block != header.hash(chain) {
        return Err(CertificateError::BlockMismatch);
    }
    if header.validator_set_hash != set.hash(chain) {
        return Err(CertificateError::ValidatorSetMismatch);
    }
    let mut seen = BTreeSet::new();
    let mut signed: u64 = 0;
    for sig in &certificate.signatures {
        let validator = set.get(&sig.node).ok_or_else(|| CertificateError::UnknownSigner(sig.node.clone()))?;
        if !seen.insert(&sig.node) {
            return Err(CertificateError::DuplicateSigner(sig.node.clone()));
        }
        let vote = ConsensusVote {
            height: certificate.height,
            round: certificate.round,
            kind: VoteKind::Precommit,
            block: Some(certificate.block),
            voter: sig.node.clone(),
        };
        if !validator.key.verify(&vote.signing_digest(chain), &sig.signature) {
            return Err(CertificateError::BadSignature(sig.node.clone()));
        }
        signed = signed.saturating_add(validator.weight.0);
    }
    let total = set.total_weight();
    if u128::from(signed).saturating_mul(3) <= u128::from(total).saturating_mul(2) {
        return Err(CertificateError::InsufficientWeight { signed, total });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{TestChain, account};
    use crate::types::{Action, Payload};

    /// Two blocks whose transactions differ in one signature byte have different transactions roots, so different
    /// hashes: a block hash names exactly the bytes that are executed.
    #[test]
    fn one_signature_byte_changes_the_block_hash() {
        let mut chain = TestChain::with_members(4);
        let proposal = chain.proposal(
            crate::types::Principal::Account(account("m0-gov")),
            vec![Action::FreezeAccount { account: account("m1-ops") }],
        );
        let tx = chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
        let mut tampered = tx.clone();
        let mut bytes = crate::codec::encode(&tampered.signature);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        tampered.signature = crate::codec::decode(&bytes).expect("still a signature");
        assert_eq!(tampered.tx.hash(&chain.chain), tx.tx.hash(&chain.chain), "a transaction's hash leaves it out");
        let root = |txs: &[SignedTransaction]| transactions_root(&chain.chain, txs);
        assert_ne!(root(std::slice::from_ref(&tx)), root(std::slice::from_ref(&tampered)));
    }
}
