//! Receipts and events: what a transaction did, for the audit trail.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedVec;
use crate::crypto::{Digest, PublicKey};
use crate::error::Rejection;
use crate::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, TxHash, Weight};
use crate::types::action::{MAX_GOVERNORS, NetworkAddress, Principal};
use crate::types::policy::{ActionKind, Rule};

/// A transaction's result.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied; see the events.
    Applied,
    /// Refused; nothing changed.
    Rejected {
        /// Why.
        reason: Rejection,
    },
}

/// A transaction's receipt.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction.
    pub tx: TxHash,
    /// Whether it applied.
    pub outcome: Outcome,
    /// What changed, in order. A proposal that was approved but failed to execute shows `ProposalFailed` with the
    /// reason here while the transaction itself is `Applied`.
    pub events: Vec<Event>,
}

impl Event {
    /// The proposal the event is about, for the events of a proposal's lifecycle.
    pub fn proposal(&self) -> Option<&ProposalId> {
        match self {
            Self::ProposalSubmitted { proposal, .. }
            | Self::ProposalApproved { proposal, .. }
            | Self::ApprovalRevoked { proposal, .. }
            | Self::ProposalQueued { proposal, .. }
            | Self::ProposalExecuted { proposal, .. }
            | Self::ProposalFailed { proposal, .. }
            | Self::ProposalCancelled { proposal } => Some(proposal),
            _ => None,
        }
    }
}

/// What a proposal was judged by in the block that closed it: the approvals that counted, each with its member's
/// weight at that height, and every rule it needed with the weights it was measured on. A closed proposal is shown
/// by this record of its decision, never re-judged against a later state.
#[derive(Debug, Clone, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Verdict {
    /// The approvals that counted (verified, from an unfrozen account with a key that counts, of an active
    /// member), in the order they were recorded.
    pub approvals: Vec<CountedVote>,
    /// Every rule the proposal needed, as measured.
    pub requirements: Vec<JudgedRequirement>,
}

/// One approval that counted when a proposal closed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CountedVote {
    /// The approving account.
    pub account: AccountId,
    /// Its member.
    pub member: MemberId,
    /// Whether the account is a governor of that member (only governors' approvals carry weight).
    pub governor: bool,
    /// The member's voting weight at that height.
    pub weight: Weight,
}

/// One rule a proposal needed, as measured when it closed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct JudgedRequirement {
    /// The action kind the rule is for.
    pub kind: ActionKind,
    /// The rule.
    pub rule: Rule,
    /// The member the action targets.
    pub target: Option<MemberId>,
    /// Whether the approvals met it.
    pub met: bool,
    /// Weight rules: the approving members' weight.
    pub approved_weight: u64,
    /// Weight rules: the weight of every seated member (the denominator).
    pub seated_weight: u64,
}

/// Something that happened on chain.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(missing_docs, reason = "fields are named by what they hold")]
pub enum Event {
    ProposalSubmitted {
        proposal: ProposalId,
        proposer: Principal,
        expires_at: Height,
    },
    ProposalApproved {
        proposal: ProposalId,
        approver: AccountId,
    },
    ApprovalRevoked {
        proposal: ProposalId,
        approver: AccountId,
    },
    ProposalQueued {
        proposal: ProposalId,
        ready_at: Height,
    },
    /// Applied, judged by `verdict`.
    ProposalExecuted {
        proposal: ProposalId,
        verdict: Verdict,
    },
    /// Its rules were met (`verdict`) but its actions could not apply: nothing of it applied.
    ProposalFailed {
        proposal: ProposalId,
        reason: Rejection,
        verdict: Verdict,
    },
    ProposalCancelled {
        proposal: ProposalId,
    },
    MemberAdmitted {
        member: MemberId,
        weight: Weight,
    },
    MemberWeightChanged {
        member: MemberId,
        from: Weight,
        to: Weight,
    },
    MemberSuspended {
        member: MemberId,
    },
    MemberReinstated {
        member: MemberId,
    },
    MemberExpelled {
        member: MemberId,
    },
    GovernorsReplaced {
        member: MemberId,
        governors: BoundedVec<AccountId, MAX_GOVERNORS>,
    },
    AccountCreated {
        account: AccountId,
        member: MemberId,
        key: PublicKey,
    },
    AccountFrozen {
        account: AccountId,
    },
    AccountUnfrozen {
        account: AccountId,
    },
    AccountKeyChanged {
        account: AccountId,
        old: Option<PublicKey>,
        new: PublicKey,
    },
    KeyCompromised {
        owner: Principal,
        key: PublicKey,
    },
    RoleDefined {
        role: RoleId,
    },
    RoleGranted {
        account: AccountId,
        role: RoleId,
        expires_at: Height,
    },
    RoleRevoked {
        account: AccountId,
        role: RoleId,
    },
    NodeAdmitted {
        node: NodeId,
        owner: MemberId,
        key: PublicKey,
    },
    NodeAttested {
        node: NodeId,
        synced_height: Height,
    },
    NodePromoted {
        node: NodeId,
        weight: Weight,
    },
    NodeDemoted {
        node: NodeId,
    },
    NodeWeightChanged {
        node: NodeId,
        from: Weight,
        to: Weight,
    },
    NodeRemoved {
        node: NodeId,
    },
    NodeKeyChanged {
        node: NodeId,
        old: Option<PublicKey>,
        new: PublicKey,
    },
    NodeKeyRevoked {
        node: NodeId,
        key: PublicKey,
    },
    NodeAddressChanged {
        node: NodeId,
        address: NetworkAddress,
    },
    SealerSetChanged {
        total_before: Weight,
        total_after: Weight,
        fault_tolerance_before: Weight,
        fault_tolerance_after: Weight,
    },
    PolicyRuleChanged {
        kind: ActionKind,
    },
    ParamsChanged,
    // Appended so every earlier variant keeps its canonical tag.
    AuditTrailAnchored {
        account: AccountId,
        seq: u64,
        head: Digest,
    },
}
