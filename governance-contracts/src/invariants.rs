//! Properties that hold after every apply. Tests assert them after every transaction and block; each can fail
//! (see the tests at the bottom, which corrupt state directly and watch the check fire). A violation is a bug,
//! never a rejection.

use std::collections::BTreeMap;

use crate::contracts::policy;
use crate::crypto::PublicKey;
use crate::error::Error;
use crate::ids::{AccountId, MemberId, NodeId, RoleId};
use crate::state::records::KeyStatus;
use crate::state::tables::{ACCOUNTS, GRANTS, KEYS, MEMBERS, NODES, PARAMS, POLICY, REMOVED_NODES, ROLES};
use crate::state::{Store, StoreError};
use crate::types::{ActionKind, MemberStatus, NodeKind, Principal, Requirement, RoleScope, ValidatorSet};

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs, reason = "fields are named by what they hold")]
pub enum InvariantViolation {
    #[error("active member {member} has no governor")]
    ActiveMemberWithoutGovernor { member: MemberId },
    #[error("governor {account} of {member} is not an account of that member")]
    GovernorNotOfMember { member: MemberId, account: AccountId },
    #[error("no member is active")]
    NoActiveMember,
    #[error("no policy rule for {kind}")]
    MissingPolicyRule { kind: ActionKind },
    #[error("the rule for {kind} cannot be met: {detail}")]
    UnreachableRule { kind: ActionKind, detail: String },
    #[error("the policy is out of shape: {detail}")]
    PolicyOutOfShape { detail: String },
    #[error("key {key} is current for both {first:?} and {second:?}")]
    KeyOnTwoOwners { key: PublicKey, first: Principal, second: Principal },
    #[error("key {key} of {owner:?} is not registered to it as current")]
    KeyNotCurrentInRegistry { key: PublicKey, owner: Principal },
    #[error("{account} holds {role} but {detail}")]
    InvalidRoleHolder { account: AccountId, role: RoleId, detail: String },
    #[error("role {role} allows grants of {max_grant_blocks} blocks, beyond the bound")]
    UnboundedRole { role: RoleId, max_grant_blocks: u64 },
    #[error("the sealer set is empty")]
    EmptySealerSet,
    #[error("sealer {node} has no key or no weight")]
    InvalidSealer { node: NodeId },
    #[error("the validator set is not strictly ascending by node id at {node}")]
    ValidatorSetNotAscending { node: NodeId },
    #[error("node {node} is admitted under the id of a removed node")]
    RemovedNodeReadmitted { node: NodeId },
    #[error("console anchors: {detail}")]
    ConsoleAnchors { detail: String },
    #[error("total sealer weight {total} is too large")]
    SealerWeightOverflow { total: u64 },
    #[error("chain parameters out of range: {0}")]
    InvalidParams(String),
    #[error("state could not be read: {0}")]
    Storage(StoreError),
}

impl From<StoreError> for InvariantViolation {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

fn unreachable_rule(kind: ActionKind, e: Error) -> InvariantViolation {
    match e {
        Error::Storage(s) => InvariantViolation::Storage(s),
        Error::Rejected(r) => InvariantViolation::UnreachableRule { kind, detail: r.to_string() },
    }
}

/// Checks every invariant of the state in `store`.
pub fn check(store: &dyn Store) -> Result<(), InvariantViolation> {
    check_members(store)?;
    check_policy(store)?;
    check_keys(store)?;
    check_roles(store)?;
    check_sealers(store)?;
    check_removed_nodes(store)?;
    check_anchors(store)?;
    check_validator_set(&crate::execution::validator_set(store)?)?;
    let params = PARAMS.get(store, &())?.ok_or_else(|| InvariantViolation::InvalidParams("missing".into()))?;
    params.validate().map_err(InvariantViolation::InvalidParams)?;
    Ok(())
}

fn check_members(store: &dyn Store) -> Result<(), InvariantViolation> {
    let mut any_active = false;
    for (member, record) in MEMBERS.all(store)? {
        if record.status == MemberStatus::Active {
            any_active = true;
            if record.governors.is_empty() {
                return Err(InvariantViolation::ActiveMemberWithoutGovernor { member });
            }
        }
        for account in record.governors.iter() {
            if ACCOUNTS.get(store, account)?.is_none_or(|a| a.member != member) {
                return Err(InvariantViolation::GovernorNotOfMember { member, account: account.clone() });
            }
        }
    }
    if !any_active {
        return Err(InvariantViolation::NoActiveMember);
    }
    Ok(())
}

fn check_policy(store: &dyn Store) -> Result<(), InvariantViolation> {
    let rules: BTreeMap<ActionKind, crate::types::Rule> = POLICY.all(store)?.into_iter().collect();
    for kind in ActionKind::ALL {
        let Some(rule) = rules.get(&kind) else { return Err(InvariantViolation::MissingPolicyRule { kind }) };
        policy::validate_rule(store, rule).map_err(|e| unreachable_rule(kind, e))?;
        if let Requirement::Role { role, .. } = &rule.requirement
            && !ROLES.contains(store, role)?
        {
            return Err(InvariantViolation::UnreachableRule { kind, detail: format!("role {role} is undefined") });
        }
    }
    let listed: Vec<(ActionKind, crate::types::Rule)> = rules.into_iter().collect();
    if let Some(what) = crate::types::policy_shape_violation(&listed) {
        return Err(InvariantViolation::PolicyOutOfShape { detail: what });
    }
    Ok(())
}

fn check_keys(store: &dyn Store) -> Result<(), InvariantViolation> {
    let mut owners: BTreeMap<PublicKey, Principal> = BTreeMap::new();
    let accounts = ACCOUNTS.all(store)?.into_iter().filter_map(|(id, a)| a.key.map(|k| (k, Principal::Account(id))));
    let nodes = NODES.all(store)?.into_iter().filter_map(|(id, n)| n.key.map(|k| (k, Principal::Node(id))));
    for (key, owner) in accounts.chain(nodes) {
        if let Some(first) = owners.insert(key, owner.clone()) {
            return Err(InvariantViolation::KeyOnTwoOwners { key, first, second: owner });
        }
        let registered = KEYS.get(store, &key)?;
        if !registered.is_some_and(|r| r.owner == owner && r.status == KeyStatus::Current) {
            return Err(InvariantViolation::KeyNotCurrentInRegistry { key, owner });
        }
    }
    Ok(())
}

fn check_roles(store: &dyn Store) -> Result<(), InvariantViolation> {
    for (role, definition) in ROLES.all(store)? {
        if definition.max_grant_blocks > crate::types::MAX_GRANT_BLOCKS {
            return Err(InvariantViolation::UnboundedRole { role, max_grant_blocks: definition.max_grant_blocks });
        }
    }
    for ((account, role), grant) in GRANTS.all(store)? {
        let invalid = |detail: &str| InvariantViolation::InvalidRoleHolder {
            account: account.clone(),
            role: role.clone(),
            detail: detail.to_string(),
        };
        let Some(definition) = ROLES.get(store, &role)? else { return Err(invalid("the role is undefined")) };
        if grant.expires_at > grant.granted_at.plus(definition.max_grant_blocks) {
            return Err(invalid("the grant outlasts the role's max_grant_blocks"));
        }
        let Some(record) = ACCOUNTS.get(store, &account)? else { return Err(invalid("the account does not exist")) };
        if let RoleScope::Member(scope) = &definition.scope
            && scope != &record.member
        {
            return Err(invalid("the account is outside the role's scope"));
        }
        let member = MEMBERS.get(store, &record.member)?;
        if member.is_none_or(|m| m.status == MemberStatus::Expelled) {
            return Err(invalid("its member is expelled"));
        }
    }
    Ok(())
}

/// A console's account is only that (see `contracts::anchors`), and every anchor names its account's member.
fn check_anchors(store: &dyn Store) -> Result<(), InvariantViolation> {
    let height = crate::state::tables::META.get(store, &())?.map(|meta| meta.height).unwrap_or_default();
    match crate::contracts::anchors::invariant_violation(store, height) {
        Ok(None) => Ok(()),
        Ok(Some(detail)) => Err(InvariantViolation::ConsoleAnchors { detail }),
        Err(Error::Storage(s)) => Err(InvariantViolation::Storage(s)),
        Err(Error::Rejected(r)) => Err(InvariantViolation::ConsoleAnchors { detail: r.to_string() }),
    }
}

/// A removed node's id is never admitted again.
fn check_removed_nodes(store: &dyn Store) -> Result<(), InvariantViolation> {
    for (node, _) in REMOVED_NODES.all(store)? {
        if NODES.contains(store, &node)? {
            return Err(InvariantViolation::RemovedNodeReadmitted { node });
        }
    }
    Ok(())
}

fn check_sealers(store: &dyn Store) -> Result<(), InvariantViolation> {
    let mut total: u64 = 0;
    for (node, record) in NODES.all(store)? {
        if record.kind != NodeKind::Sealer {
            continue;
        }
        if record.key.is_none() || record.weight.0 == 0 {
            return Err(InvariantViolation::InvalidSealer { node });
        }
        total = total.saturating_add(record.weight.0);
    }
    if total == 0 {
        return Err(InvariantViolation::EmptySealerSet);
    }
    if total >= u64::MAX / 3 {
        return Err(InvariantViolation::SealerWeightOverflow { total });
    }
    Ok(())
}

/// The validator set is strictly ascending by node id: the order consensus requires (it refuses any other) and
/// the one [`ValidatorSet::get`]'s binary search assumes when certificates are checked. The set derived from state
/// must always pass; a set in the state table's key order does not once ids differ in length.
pub fn check_validator_set(set: &ValidatorSet) -> Result<(), InvariantViolation> {
    match set.first_out_of_order() {
        Some(node) => Err(InvariantViolation::ValidatorSetNotAscending { node: node.clone() }),
        None => Ok(()),
    }
}
