//! The typed tables of governance state.

use crate::crypto::PublicKey;
use crate::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, TxHash};
use crate::state::records::{
    AccountRecord, AnchorRecord, ChainMeta, Grant, KeyRecord, MemberRecord, NodeRecord, ProposalRecord, RemovedNode,
};
use crate::state::{CanonicalKey, ExpiryKey, Table, TableId};
use crate::types::{ActionKind, ChainParams, RoleDefinition, Rule};

impl CanonicalKey for () {}
impl CanonicalKey for MemberId {}
impl CanonicalKey for AccountId {}
impl CanonicalKey for NodeId {}
impl CanonicalKey for RoleId {}
impl CanonicalKey for ProposalId {}
impl CanonicalKey for TxHash {}
impl CanonicalKey for PublicKey {}
impl CanonicalKey for ActionKind {}
impl CanonicalKey for (AccountId, RoleId) {}

/// Chain identity and last applied height.
pub const META: Table<(), ChainMeta> = Table::new(TableId::Meta);
/// Chain parameters.
pub const PARAMS: Table<(), ChainParams> = Table::new(TableId::Params);
/// The policy: one rule per action kind.
pub const POLICY: Table<ActionKind, Rule> = Table::new(TableId::Policy);
/// Member organisations.
pub const MEMBERS: Table<MemberId, MemberRecord> = Table::new(TableId::Members);
/// Accounts.
pub const ACCOUNTS: Table<AccountId, AccountRecord> = Table::new(TableId::Accounts);
/// Every key ever registered, and its standing.
pub const KEYS: Table<PublicKey, KeyRecord> = Table::new(TableId::Keys);
/// Nodes.
pub const NODES: Table<NodeId, NodeRecord> = Table::new(TableId::Nodes);
/// Removed nodes, by id, for good: an id here is never admitted again.
pub const REMOVED_NODES: Table<NodeId, RemovedNode> = Table::new(TableId::RemovedNodes);
/// The latest anchor of each console's audit trail, by the console's account (see `contracts::anchors`).
pub const ANCHORS: Table<AccountId, AnchorRecord> = Table::new(TableId::Anchors);
/// Role definitions.
pub const ROLES: Table<RoleId, RoleDefinition> = Table::new(TableId::Roles);
/// Role grants, keyed by holder then role (so an account's roles are one prefix scan).
pub const GRANTS: Table<(AccountId, RoleId), Grant> = Table::new(TableId::Grants);
/// Proposals, until their expiry.
pub const PROPOSALS: Table<ProposalId, ProposalRecord> = Table::new(TableId::Proposals);
/// Proposal ids by expiry height, for pruning.
pub const PROPOSAL_EXPIRY: Table<ExpiryKey<ProposalId>, ()> = Table::new(TableId::ProposalExpiry);
/// Included transaction hashes and their `valid_until`, for duplicate detection.
pub const TX_SEEN: Table<TxHash, Height> = Table::new(TableId::TxSeen);
/// Transaction hashes by `valid_until`, for pruning.
pub const TX_EXPIRY: Table<ExpiryKey<TxHash>, ()> = Table::new(TableId::TxExpiry);
