//! What the tables hold.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedVec;
use crate::crypto::{CryptoSuite, Digest, PublicKey};
use crate::domain::ChainIdentity;
use crate::error::Rejection;
use crate::ids::{AccountId, Height, MemberId, Weight};
use crate::types::{
    Approval, DisplayName, MAX_APPROVALS, MAX_GOVERNORS, MemberStatus, NetworkAddress, NodeKind, Principal, Proposal,
};

/// The chain's identity and progress.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainMeta {
    /// Chain id and genesis hash.
    pub chain: ChainIdentity,
    /// The chain's crypto suite.
    pub crypto_suite: CryptoSuite,
    /// The last applied height (0 after genesis).
    pub height: Height,
}

/// A member organisation.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Display name.
    pub name: DisplayName,
    /// Voting weight.
    pub weight: Weight,
    /// Standing.
    pub status: MemberStatus,
    /// Governor accounts: the only record of who approves for the member.
    pub governors: BoundedVec<AccountId, MAX_GOVERNORS>,
    /// When it was admitted.
    pub admitted_at: Height,
}

impl NodeRecord {
    /// A node as `AdmitNode` creates it at `height`: an observer of `owner` with weight zero, its one key, not yet
    /// attested.
    pub fn admitted(owner: MemberId, key: PublicKey, address: NetworkAddress, height: Height) -> Self {
        Self {
            owner,
            kind: NodeKind::Observer,
            weight: Weight(0),
            address,
            key: Some(key),
            key_history: vec![key],
            attested_at: None,
            admitted_at: height,
        }
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Its member.
    pub member: MemberId,
    /// Its current key (none after a compromise without replacement, until the committee gives it one).
    pub key: Option<PublicKey>,
    /// Whether it is frozen.
    pub frozen: bool,
    /// When it was created.
    pub created_at: Height,
}

/// A key's standing in the global key registry. A key enters once and never leaves, so it can never be
/// registered again, for anyone.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KeyStatus {
    /// The owner's current key.
    Current,
    /// Replaced routinely at `at`: approvals it made for proposals submitted before `at` still count.
    Retired {
        /// Height of the rotation.
        at: Height,
    },
    /// Compromised or revoked at `at`: nothing it signed counts any more.
    Revoked {
        /// Height of the revocation.
        at: Height,
    },
}

/// An entry of the key registry.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Whose key it is or was.
    pub owner: Principal,
    /// Its standing.
    pub status: KeyStatus,
    /// When it was registered.
    pub registered_at: Height,
}

/// A node.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The member operating it.
    pub owner: MemberId,
    /// Observer or sealer.
    pub kind: NodeKind,
    /// Consensus weight (zero unless a sealer).
    pub weight: Weight,
    /// Where peers dial it.
    pub address: NetworkAddress,
    /// Its current key (none after an emergency revocation, until replaced).
    pub key: Option<PublicKey>,
    /// Every key it has had, oldest first (the key registry holds each one's standing).
    pub key_history: Vec<PublicKey>,
    /// The height of its last readiness attestation.
    pub attested_at: Option<Height>,
    /// When it was admitted.
    pub admitted_at: Height,
}

/// What remains of a removed node: its id stays taken for good, so nothing drafted, signed or recorded about the
/// node (a pending proposal, equivocation evidence, a ready demotion draft) can ever apply to another machine
/// admitted under the same id.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RemovedNode {
    /// The node as it stood when it was removed (its owner, kind, keys).
    pub last: NodeRecord,
    /// When it was removed.
    pub removed_at: Height,
}

/// The latest anchor of one console's audit trail: its row `seq` had hash `head`, as the console's account stated
/// in the block at `anchored_at`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AnchorRecord {
    /// The member whose console it is (the account's member, for good).
    pub member: MemberId,
    /// The row anchored.
    pub seq: u64,
    /// That row's hash.
    pub head: Digest,
    /// The height of the block that recorded it.
    pub anchored_at: Height,
}

/// A role grant.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Grant {
    /// The last height at which it holds.
    pub expires_at: Height,
    /// When it was granted.
    pub granted_at: Height,
}

/// Where a proposal is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Collecting approvals.
    Pending,
    /// Approved; waits for its delay, then for an `ExecuteProposal`.
    Queued {
        /// The first height at which it may execute.
        ready_at: Height,
    },
    /// Applied.
    Executed {
        /// When.
        at: Height,
    },
    /// Approved but could not apply; nothing of it applied.
    Failed {
        /// When.
        at: Height,
        /// Why.
        reason: Rejection,
    },
    /// Cancelled.
    Cancelled {
        /// When.
        at: Height,
    },
}

/// A proposal on chain.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ProposalRecord {
    /// The proposal as signed.
    pub proposal: Proposal,
    /// The height of the block that included its submission.
    pub submitted_at: Height,
    /// Its lifecycle state.
    pub status: ProposalStatus,
    /// Approvals received (each verified when it arrived; each re-checked against the state at execution).
    pub approvals: BoundedVec<Approval, MAX_APPROVALS>,
}
