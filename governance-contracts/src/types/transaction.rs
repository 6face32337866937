//! Transactions: the only way anything changes on chain.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedVec;
use crate::crypto::{Digest, PublicKey, SecretKey, Signature};
use crate::domain::{ChainIdentity, Domain};
use crate::ids::{AccountId, Height, ProposalId, TxHash};
use crate::types::action::{KeyProof, Principal};
use crate::types::proposal::{Approval, MAX_APPROVALS, Proposal};

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// Put a proposal on chain, with any approvals already collected off chain.
    SubmitProposal {
        /// The proposal (its proposer must be the sender).
        proposal: Proposal,
        /// Approvals collected so far.
        approvals: BoundedVec<Approval, MAX_APPROVALS>,
    },
    /// Add approvals to a pending proposal (anyone may relay them).
    Approve {
        /// The proposal.
        proposal: ProposalId,
        /// The approvals.
        approvals: BoundedVec<Approval, MAX_APPROVALS>,
    },
    /// Withdraw the sender's own approval.
    RevokeApproval {
        /// The proposal.
        proposal: ProposalId,
    },
    /// Cancel a pending proposal: by a governor of the proposer's member.
    CancelProposal {
        /// The proposal.
        proposal: ProposalId,
    },
    /// Execute a proposal whose approvals are complete and whose delay has passed.
    ExecuteProposal {
        /// The proposal.
        proposal: ProposalId,
    },
    /// Rotate the sending account's key: the old key signs this transaction, the new key proves possession.
    RotateAccountKey {
        /// The new key's proof.
        proof: KeyProof,
    },
    /// Mark an account's key compromised, at once: by the holder, or by a governor of the same member while that
    /// member is active. Every approval ever made with the key stops counting; the account takes the holder's
    /// replacement key, or has none until the committee gives it one.
    MarkKeyCompromised {
        /// The account whose key leaked.
        account: AccountId,
        /// The leaked key: its current key, or one it retired earlier (then no replacement is given).
        key: PublicKey,
        /// A replacement, proven by the new key: from the holder only (the sender is the account), never from
        /// another governor.
        replacement: Option<KeyProof>,
    },
    /// A node states it is synced (needed before promotion to sealer). Sent by the node.
    AttestReadiness {
        /// The height the node had applied when it signed.
        synced_height: Height,
    },
    /// Anchor a console's audit trail: its row `seq` has hash `head`. Sent by the console's own account (one
    /// holding the `console` role), with `seq` above the last it anchored (see `contracts::anchors`).
    AnchorAuditTrail {
        /// The row anchored (the trail's head when the console sent it).
        seq: u64,
        /// That row's hash.
        head: Digest,
    },
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transaction {
    /// Who sends it and signs it with their current key.
    pub sender: Principal,
    /// The last height at which it may be included (at most `max_tx_ttl` ahead). Until then its hash is
    /// remembered and a repeat is refused.
    pub valid_until: Height,
    /// What it does.
    pub payload: Payload,
}

impl Transaction {
    /// The digest the sender signs, which is also the transaction's hash.
    pub fn signing_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::TRANSACTION, self)
    }

    /// The transaction's hash.
    pub fn hash(&self, chain: &ChainIdentity) -> TxHash {
        TxHash(self.signing_digest(chain))
    }

    /// Signs the transaction.
    pub fn sign(self, chain: &ChainIdentity, secret: &SecretKey) -> SignedTransaction {
        let signature = secret.sign(&self.signing_digest(chain));
        SignedTransaction { tx: self, key: secret.public_key(), signature }
    }
}

/// A transaction with its sender's signature.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The key that signed (must be the sender's current key).
    pub key: PublicKey,
    /// The signature over the transaction's signing digest.
    pub signature: Signature,
}
