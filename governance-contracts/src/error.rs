//! Why something was refused. Rejections are data: deterministic, recorded in receipts, shown to the submitter,
//! and never panics. Storage failures are a different kind ([`Error::Storage`]): fatal, they stop the node.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedString;
use crate::crypto::PublicKey;
use crate::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use crate::state::StoreError;
use crate::types::action::Principal;
use crate::types::policy::ActionKind;

/// A short explanation inside a rejection.
pub type Detail = BoundedString<256>;

/// Makes a [`Detail`], cutting text to the bound at a character boundary.
pub fn detail(text: impl Into<String>) -> Detail {
    let mut text: String = text.into();
    if text.len() > 256 {
        let mut cut = 256;
        while !text.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        text.truncate(cut);
    }
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    BoundedString::try_new(clean).unwrap_or_default()
}

/// A named reason for refusing a transaction, an approval or a proposal's execution.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[allow(missing_docs, reason = "fields are named by what they hold; each variant's message explains it")]
pub enum Rejection {
    // --- transactions ---------------------------------------------------------------------------------------
    #[error("transaction of {size} bytes exceeds the limit of {max}")]
    TransactionTooLarge { size: u64, max: u64 },
    #[error("transaction expired: valid until {valid_until}, now {height}")]
    TransactionExpired { valid_until: Height, height: Height },
    #[error("valid_until {valid_until} is further ahead than the chain allows ({max})")]
    ValidityTooLong { valid_until: Height, max: Height },
    #[error("this transaction was already included")]
    DuplicateTransaction,
    #[error("unknown account {account}")]
    UnknownAccount { account: AccountId },
    #[error("unknown node {node}")]
    UnknownNode { node: NodeId },
    #[error("account {account} is frozen")]
    AccountFrozen { account: AccountId },
    #[error("{principal:?} has no current key")]
    NoCurrentKey { principal: Principal },
    #[error("key {key} is not the sender's current key")]
    KeyNotCurrent { key: PublicKey },
    #[error("bad signature")]
    BadSignature,
    #[error("member {member} is not active")]
    MemberNotActive { member: MemberId },
    #[error("{principal:?} may not send this kind of transaction")]
    WrongSender { principal: Principal },
    #[error("{account} is neither a governor of an active member nor a holder of a role the policy names")]
    NotEligibleProposer { account: AccountId },

    // --- proposals ------------------------------------------------------------------------------------------
    #[error("a proposal needs at least one action")]
    EmptyProposal,
    #[error("the proposal's proposer is not the transaction's sender")]
    ProposerMismatch,
    #[error("proposal expired at {expires_at}, now {height}")]
    ProposalExpired { expires_at: Height, height: Height },
    #[error("proposal expiry {expires_at} is further ahead than the chain allows ({max})")]
    ProposalLifetimeTooLong { expires_at: Height, max: Height },
    #[error("proposal {proposal} already exists")]
    ProposalExists { proposal: ProposalId },
    #[error("unknown proposal {proposal}")]
    UnknownProposal { proposal: ProposalId },
    #[error("proposal {proposal} is no longer pending")]
    ProposalNotPending { proposal: ProposalId },
    #[error("the approval by {approver} has a bad signature")]
    BadApprovalSignature { approver: AccountId },
    #[error("the approval by {approver} is signed with a key that does not count")]
    ApprovalKeyNotValid { approver: AccountId },
    #[error("{approver} is not a governor or role holder whose approval this proposal can use")]
    ApproverNotEligible { approver: AccountId },
    #[error("{approver} already approved")]
    DuplicateApproval { approver: AccountId },
    #[error("{approver} may not approve an action in their own favour")]
    SelfApproval { approver: AccountId },
    #[error("{approver} has no approval to revoke")]
    NoApprovalToRevoke { approver: AccountId },
    #[error("too many approvals on one proposal")]
    TooManyApprovals,
    #[error("only a governor of the proposer's member may cancel this proposal")]
    NotProposerMember,
    #[error("the proposal's delay ends at {ready_at}")]
    DelayNotElapsed { ready_at: Height },
    #[error("the approvals do not yet meet the rule for {kind}")]
    ApprovalsInsufficient { kind: ActionKind },
    #[error("no policy rule for {kind}: denied by default")]
    NoPolicyRule { kind: ActionKind },

    // --- actions --------------------------------------------------------------------------------------------
    #[error("action {action} is stale: {detail}")]
    StaleProposal { action: u32, detail: Detail },
    #[error("unknown member {member}")]
    UnknownMember { member: MemberId },
    #[error("member {member} already exists")]
    MemberExists { member: MemberId },
    #[error("account {account} already exists")]
    AccountExists { account: AccountId },
    #[error("node {node} already exists")]
    NodeExists { node: NodeId },
    #[error("unknown role {role}")]
    UnknownRole { role: RoleId },
    #[error("role {role} already exists")]
    RoleExists { role: RoleId },
    #[error("account {account} does not belong to member {member}")]
    NotMemberAccount { account: AccountId, member: MemberId },
    #[error("weight {weight} is out of range")]
    InvalidWeight { weight: Weight },
    #[error("invalid chain parameters: {detail}")]
    InvalidParams { detail: Detail },
    #[error("invalid policy rule: {detail}")]
    InvalidRule { detail: Detail },
    #[error("invalid public key {key}")]
    InvalidKey { key: PublicKey },
    #[error("key {key} is already registered")]
    KeyInUse { key: PublicKey },
    #[error("key {key} was retired or revoked and can never be registered again")]
    KeyRetired { key: PublicKey },
    #[error("the key-possession proof does not verify or does not match")]
    BadKeyProof,
    #[error("the key-possession proof expired at {expires_at}")]
    KeyProofExpired { expires_at: Height },
    #[error("node {node} is not an observer")]
    NotAnObserver { node: NodeId },
    #[error("node {node} is not a sealer")]
    NotASealer { node: NodeId },
    #[error("node {node} has no readiness attestation within the last {window} blocks")]
    ReadinessMissing { node: NodeId, window: u64 },
    #[error("sealer changes in this block move {changed} weight; the set at the block's start tolerates {tolerated}")]
    SealerBudgetExceeded { changed: Weight, tolerated: Weight },
    #[error("fault tolerance would drop from {before} to {after}")]
    FaultToleranceReduced { before: Weight, after: Weight },
    #[error("the sealer set would be empty")]
    EmptySealerSet,
    #[error("member {member} would have no governor")]
    NoGovernors { member: MemberId },
    #[error("grant expiry {expires_at} is past the role's limit {max}")]
    GrantTooLong { expires_at: Height, max: Height },
    #[error("grant expiry {expires_at} is not in the future")]
    GrantExpired { expires_at: Height },
    #[error("no active member would remain")]
    LastActiveMember,
    #[error("rotating node {node}'s key needs a proposal submitted by that node")]
    NodeMustPropose { node: NodeId },
    #[error("expelling {member} would remove sealers {sealers}; demote them first within the fault-tolerance budget")]
    ExpulsionNeedsSealerChanges { member: MemberId, sealers: Detail },
    #[error("the proposal's delay ends at {ready_at}, after its expiry at {expires_at}: it could never execute")]
    ProposalExpiresBeforeDelay { ready_at: Height, expires_at: Height },
    #[error("the sealer set is full ({max} sealers)")]
    TooManySealers { max: u32 },
    // Appended so every earlier variant keeps its canonical tag.
    #[error("node {node} was removed at height {removed_at}")]
    NodeRemoved { node: NodeId, removed_at: Height },
    #[error("node id {node} belonged to a node removed at height {removed_at}; a removed node's id is never reused")]
    NodeIdRetired { node: NodeId, removed_at: Height },
    #[error("{field}: {detail}: what a signer sees could differ from what they sign")]
    UnsafeText { field: Detail, detail: Detail },
    #[error("{field}: not a network address: {detail}")]
    InvalidAddress { field: Detail, detail: Detail },
    #[error("{account} does not hold the console role: only a console's own account anchors an audit trail")]
    NotAConsole { account: AccountId },
    #[error("{account} holds the console role: it anchors its console's audit trail and rotates its key, nothing else")]
    ConsoleAnchorsOnly { account: AccountId },
    #[error("audit row {seq} is not after row {anchored}, the last one anchored")]
    AnchorNotAfter { seq: u64, anchored: u64 },
    #[error("{account}: the console role is held alone, by an account that governs no member and holds no other role")]
    ConsoleRoleExclusive { account: AccountId },
    #[error("a new key for {account} comes from its holder, signing with its current key, or from the committee")]
    ReplacementNotFromHolder { account: AccountId },
    #[error("a role's grants may last at most {max} blocks, not {max_grant_blocks}")]
    GrantLimitTooLong { max_grant_blocks: u64, max: u64 },
}

/// An error from contract code: a rejection, or a storage failure that must stop the node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Deterministic refusal; goes into the receipt.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The store failed: fatal, never papered over.
    #[error("storage failure: {0}")]
    Storage(#[from] StoreError),
}

/// Contract results.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Returns `Err(rejection)`.
pub fn reject<T>(rejection: Rejection) -> Result<T> {
    Err(Error::Rejected(rejection))
}
