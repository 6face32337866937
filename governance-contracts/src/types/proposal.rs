//! Governance proposals and the approvals that carry them.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{BoundedString, BoundedVec};
use crate::crypto::{Digest, PublicKey, SecretKey, Signature};
use crate::domain::{ChainIdentity, Domain};
use crate::error::Rejection;
use crate::ids::{AccountId, Height, ProposalId};
use crate::text;
use crate::types::action::{Action, Principal};

/// Most actions in one proposal.
pub const MAX_ACTIONS: usize = 32;
/// Most approvals a proposal or one transaction may carry.
pub const MAX_APPROVALS: usize = 512;

/// A governance proposal: actions that apply together, atomically, once the policy's rules for all of them are
/// met. Its id is its approval digest, the 32 bytes every approver signs.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proposal {
    /// Who submits it (must be the sender of the submitting transaction).
    pub proposer: Principal,
    /// A one-line summary.
    pub title: BoundedString<160>,
    /// Why, in the proposer's words.
    pub description: BoundedString<4096>,
    /// What it does, in order.
    pub actions: BoundedVec<Action, MAX_ACTIONS>,
    /// The last height at which it may be approved or executed (at most `max_proposal_lifetime` after
    /// submission).
    pub expires_at: Height,
    /// Distinguishes otherwise identical proposals.
    pub salt: u64,
}

impl Proposal {
    /// The digest approvers sign, which is also the proposal's id.
    pub fn approval_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::APPROVAL, self)
    }

    /// The proposal's id.
    pub fn id(&self, chain: &ChainIdentity) -> ProposalId {
        ProposalId(self.approval_digest(chain))
    }

    /// Checks every text a signer reads in the proposal by the rule of [`crate::text`]: the title (one line),
    /// the description (lines separated by newlines), each action's display names (one line) and network
    /// addresses (`host:port`). The first refusal names its field.
    pub fn check_signer_text(&self) -> Result<(), Rejection> {
        text::check_all(&text::proposal_texts(self))
    }

    /// An approval of this proposal by `approver`, signed with `secret`.
    pub fn approve(&self, chain: &ChainIdentity, approver: AccountId, secret: &SecretKey) -> Approval {
        Approval { approver, key: secret.public_key(), signature: secret.sign(&self.approval_digest(chain)) }
    }
}

/// One account's signature over a proposal's approval digest. Collected off chain, relayed by anyone.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Approval {
    /// The approving account.
    pub approver: AccountId,
    /// The key that signed (the account's current key, or a key it retired routinely after the proposal was
    /// submitted).
    pub key: PublicKey,
    /// The signature over the approval digest.
    pub signature: Signature,
}
