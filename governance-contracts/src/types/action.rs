//! Governance actions: typed operations only, never code. Each action that replaces a value carries the value it
//! expects to replace (compare-and-set), so what was signed is exactly what applies.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{BoundedString, BoundedVec};
use crate::crypto::{PublicKey, Signature};
use crate::domain::{ChainIdentity, Domain};
use crate::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use crate::types::params::ChainParams;
use crate::types::policy::{ActionKind, Rule};

/// Most governor accounts one member may have.
pub const MAX_GOVERNORS: usize = 16;

/// A display name (member organisations).
pub type DisplayName = BoundedString<128>;
/// A node's network address, `host:port`.
pub type NetworkAddress = BoundedString<255>;

/// Who acts: an account (people, applications) or a node (its own attestations and key rotations).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    /// An account.
    Account(AccountId),
    /// A node.
    Node(NodeId),
}

/// A new account and its first key.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NewAccount {
    /// The account's stable id.
    pub account: AccountId,
    /// Its first key.
    pub key: PublicKey,
}

/// A member organisation's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Votes, proposes, may have sealers.
    Active,
    /// Its approvals do not count, its weight leaves the denominator, its nodes cannot be promoted.
    Suspended,
    /// Gone: governors and roles revoked, accounts frozen, nodes removed. Its id is never reused.
    Expelled,
}

/// What a node does in consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Follows and verifies; never votes.
    Observer,
    /// Votes in consensus with its weight.
    Sealer,
}

/// Whose accounts may hold a role.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// Accounts of any member.
    Alliance,
    /// Accounts of this member only.
    Member(MemberId),
}

/// The longest any role's grant may last, in blocks: ten years of one-second blocks. Every grant expires; a role
/// whose `max_grant_blocks` exceeds this is refused, in `DefineRole` and in a genesis alike.
pub const MAX_GRANT_BLOCKS: u64 = 10 * 366 * 24 * 3_600;

/// A role's definition.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// Whose accounts may hold it.
    pub scope: RoleScope,
    /// Whether a `compliance` account may grant and revoke it (otherwise the committee does).
    pub delegable: bool,
    /// The longest a grant may last, in blocks: at most [`MAX_GRANT_BLOCKS`].
    pub max_grant_blocks: u64,
}

/// Proof that the holder of `new_key` consents to it replacing `old_key` for `subject`, signed by the new key
/// under [`Domain::KEY_PROOF`]. The old key's consent is the transaction or proposal that carries it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct KeyProof {
    /// The signed statement.
    pub body: KeyProofBody,
    /// The new key's signature over it.
    pub signature: Signature,
}

/// What a key-possession proof states.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct KeyProofBody {
    /// Whose key changes.
    pub subject: Principal,
    /// The key being replaced (none when the subject currently has no key).
    pub old_key: Option<PublicKey>,
    /// The replacement.
    pub new_key: PublicKey,
    /// The last height at which the proof may be used.
    pub expires_at: Height,
}

impl KeyProofBody {
    /// Signs the statement with the new key's secret.
    pub fn sign(self, chain: &ChainIdentity, new_secret: &crate::crypto::SecretKey) -> KeyProof {
        let signature = new_secret.sign(&chain.digest(Domain::KEY_PROOF, &self));
        KeyProof { body: self, signature }
    }
}

impl KeyProof {
    /// Whether the signature by `body.new_key` is valid for this chain.
    pub fn verifies(&self, chain: &ChainIdentity) -> bool {
        self.body.new_key.verify(&chain.digest(Domain::KEY_PROOF, &self.body), &self.signature)
    }
}

/// A governance action.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Admit a member organisation with its governor accounts.
    AdmitMember {
        /// The new member's id.
        member: MemberId,
        /// Its display name.
        name: DisplayName,
        /// Its voting weight.
        weight: Weight,
        /// Its governor accounts, created with it.
        governors: BoundedVec<NewAccount, MAX_GOVERNORS>,
    },
    /// Change a member's voting weight.
    SetMemberWeight {
        /// The member.
        member: MemberId,
        /// Its weight now.
        expected: Weight,
        /// Its new weight.
        weight: Weight,
    },
    /// Suspend an active member.
    SuspendMember {
        /// The member.
        member: MemberId,
    },
    /// Reinstate a suspended member.
    ReinstateMember {
        /// The member.
        member: MemberId,
    },
    /// Expel a member: revoke its governors and roles, freeze its accounts, remove its nodes.
    ExpelMember {
        /// The member.
        member: MemberId,
    },
    /// Replace a member's governors (for example when all its keys are lost); does not need the member itself.
    ReplaceGovernors {
        /// The member.
        member: MemberId,
        /// Its governors now.
        expected: BoundedVec<AccountId, MAX_GOVERNORS>,
        /// Its new governors: existing, unfrozen accounts of the member.
        governors: BoundedVec<AccountId, MAX_GOVERNORS>,
    },
    /// Create an account for a member.
    CreateAccount {
        /// The new account's id.
        account: AccountId,
        /// Its member.
        member: MemberId,
        /// Its first key.
        key: PublicKey,
    },
    /// Freeze an account: its transactions and approvals stop counting.
    FreezeAccount {
        /// The account.
        account: AccountId,
    },
    /// Unfreeze a frozen account.
    UnfreezeAccount {
        /// The account.
        account: AccountId,
    },
    /// Give an account a new key by governance (its own key is lost or compromised).
    ReplaceAccountKey {
        /// The account.
        account: AccountId,
        /// The new key's possession proof; its `old_key` is the key expected now.
        proof: KeyProof,
    },
    /// Define a new role.
    DefineRole {
        /// The role.
        role: RoleId,
        /// Its definition.
        definition: RoleDefinition,
    },
    /// Grant a role until a height (or extend a grant).
    GrantRole {
        /// The holder.
        account: AccountId,
        /// The role.
        role: RoleId,
        /// The last height at which the grant holds.
        expires_at: Height,
        /// The expiry of the grant in force now, if any.
        expected: Option<Height>,
    },
    /// Revoke a role.
    RevokeRole {
        /// The holder.
        account: AccountId,
        /// The role.
        role: RoleId,
    },
    /// Admit a node as an observer.
    AdmitNode {
        /// The node's id.
        node: NodeId,
        /// The member operating it.
        owner: MemberId,
        /// Its key.
        key: PublicKey,
        /// Where peers dial it.
        address: NetworkAddress,
    },
    /// Promote an attested observer to sealer.
    PromoteNode {
        /// The node.
        node: NodeId,
        /// Its consensus weight.
        weight: Weight,
        /// Accept a sealer change beyond the fault-tolerance budget (needs the `sealer_override` rule too).
        override_fault_tolerance: bool,
    },
    /// Demote a sealer to observer.
    DemoteNode {
        /// The node.
        node: NodeId,
        /// Accept a sealer change beyond the fault-tolerance budget.
        override_fault_tolerance: bool,
    },
    /// Change a sealer's consensus weight.
    SetNodeWeight {
        /// The node.
        node: NodeId,
        /// Its weight now.
        expected: Weight,
        /// Its new weight.
        weight: Weight,
        /// Accept a sealer change beyond the fault-tolerance budget.
        override_fault_tolerance: bool,
    },
    /// Remove a node altogether.
    RemoveNode {
        /// The node.
        node: NodeId,
        /// Accept a sealer change beyond the fault-tolerance budget.
        override_fault_tolerance: bool,
    },
    /// A node's routine key rotation. The proposal must be submitted by the node itself (its old key signs the
    /// transaction) and approved by an `operator` of its owner.
    RotateNodeKey {
        /// The node.
        node: NodeId,
        /// The new key's possession proof; its `old_key` is the node's key now.
        proof: KeyProof,
    },
    /// Change where peers dial a node.
    SetNodeAddress {
        /// The node.
        node: NodeId,
        /// Its address now.
        expected: NetworkAddress,
        /// Its new address.
        address: NetworkAddress,
    },
    /// Emergency: revoke a node's key (it leaked). The node keeps its identity but cannot connect or vote until
    /// a new key is given by `ReplaceNodeKey`; a sealer is demoted.
    RevokeNodeKey {
        /// The node.
        node: NodeId,
        /// The key being revoked (its key now).
        key: PublicKey,
        /// Accept a sealer change beyond the fault-tolerance budget.
        override_fault_tolerance: bool,
    },
    /// Give a node (whose key was revoked) a new key by governance.
    ReplaceNodeKey {
        /// The node.
        node: NodeId,
        /// The new key's possession proof; its `old_key` is the node's key now (none after a revocation).
        proof: KeyProof,
    },
    /// Set the rule an action kind needs.
    SetPolicyRule {
        /// The action kind.
        kind: ActionKind,
        /// Its rule now.
        expected: Option<Rule>,
        /// Its new rule.
        rule: Rule,
    },
    /// Change the chain parameters.
    SetParams {
        /// The parameters now.
        expected: ChainParams,
        /// The new parameters.
        params: ChainParams,
    },
    /// Cancel another pending proposal by committee decision.
    CancelProposal {
        /// The proposal.
        proposal: ProposalId,
    },
}
