//! `policy`: which approval each kind of action needs. Deny by default.
//!
//! Rules:
//! - Every [`ActionKind`] has an explicit rule, as data changeable by proposal; an action whose kind has no rule
//!   is refused (`NoPolicyRule`), never allowed.
//! - A rule is a threshold over the weight of the **seated** members (active or suspended: every member not
//!   expelled) in integer arithmetic (`denominator · approved ≥ numerator · seated`), where only governors of
//!   active members approve and a member's weight counts once however many of its governors sign; or one holder
//!   of a named role (optionally of the target's member); or one governor of the target member. A threshold may
//!   leave the target's own approval out (`exclude_target`): the target's weight stays in the denominator, as a
//!   member that did not approve. A rule may carry a delay in blocks, counted from the block in which the
//!   proposal's approvals first met its rules.
//! - A proposal needs the rule of every action it carries, each measured against the state before the proposal
//!   applies; its delay is the longest.
//! - The policy keeps its shape ([`crate::types::policy_shape_violation`]): the rule for `SetPolicy` is the
//!   strictest of all (highest fraction, longest delay), and every electorate kind
//!   ([`crate::types::ELECTORATE_KINDS`]: admitting, re-weighting and expelling members, replacing a member's
//!   governors or an account's key, and the policy) asks at least every weight rule's fraction.
//! - No rule names the `auditor` role: auditors read, they never approve. No rule names the `console` role either:
//!   a console's key anchors its audit trail and approves nothing (`contracts::anchors`).
//!
//! **The guarantee against coalitions.** Let a coalition hold the share `s` of the seated weight (counting every
//! member whose governors it controls). Then no sequence of proposals over any number of blocks, approved by the
//! coalition's governors alone, ever executes an action whose weight rule asks a fraction above `s`:
//! - the coalition's approvals carry at most its own weight, and the denominator holds every seated member, so a
//!   member suspended, frozen out or targeted still counts against a proposal it did not approve;
//! - the denominator and the weights move only by electorate kinds (admission, re-weighting, expulsion), and a
//!   member's vote moves to other hands only by electorate kinds (replacing its governors or an account's key);
//!   they ask the highest fraction of any weight rule, so a coalition that could use them already meets every
//!   rule, and one that cannot never raises its share.
//!
//! With the default policy: below 2/3 of the seated weight a coalition executes no weight action at all (it
//! changes neither the validator set, nor a member's status, nor roles outside its role holders' reach); below
//! 3/4 it cannot change the policy, the committee's membership or weights, another member's governors or keys, nor
//! make an emergency sealer change. What a coalition of at least 2/3 can do against the others is suspend them,
//! which silences their approvals without lowering the 3/4 the electorate kinds need.
//!
//! Liveness: a member that is gone (keys lost, unresponsive) is suspended by the others when they hold 2/3 of the
//! seated weight without it, and expelled, or given new governors, when they hold 3/4; a member heavier than that
//! vetoes its own removal, which is the same guarantee seen from the other side.
//!
//! Invariants: every kind has a rule; every threshold has `0 < numerator ≤ denominator`; every named role exists;
//! the policy keeps its shape.

use std::collections::BTreeSet;

use crate::contracts::{BlockContext, Scope, accounts, committee, roles, stale};
use crate::error::{Rejection, Result, detail, reject};
use crate::ids::{AccountId, MemberId, RoleId};
use crate::state::Store;
use crate::state::tables::{GRANTS, POLICY, ROLES};
use crate::types::{Action, ActionKind, Event, Requirement, Rule};

/// The rule for `kind`.
pub fn rule_for(store: &dyn Store, kind: ActionKind) -> Result<Rule> {
    match POLICY.get(store, &kind)? {
        Some(rule) => Ok(rule),
        None => reject(Rejection::NoPolicyRule { kind }),
    }
}

/// Checks a rule is well-formed and names no auditor.
pub fn validate_rule(store: &dyn Store, rule: &Rule) -> Result<()> {
    let invalid = |text: &str| reject(Rejection::InvalidRule { detail: detail(text) });
    match &rule.requirement {
        Requirement::Weight { numerator, denominator, .. } => {
            if *numerator == 0 || *denominator == 0 || numerator > denominator {
                return invalid("a threshold needs 0 < numerator <= denominator");
            }
        }
        Requirement::Role { role, .. } => {
            if role == &RoleId::auditor() {
                return invalid("the auditor role confers reading only; it cannot approve");
            }
            if role == &RoleId::console() {
                return invalid("the console role anchors an audit trail only; it cannot approve");
            }
            if !ROLES.contains(store, role)? {
                return reject(Rejection::UnknownRole { role: role.clone() });
            }
        }
        Requirement::TargetGovernor => {}
    }
    if rule.delay_blocks > 1_000_000 {
        return invalid("delay_blocks must be at most 1000000");
    }
    Ok(())
}

/// Checks the policy keeps its shape ([`crate::types::policy_shape_violation`]): the `SetPolicy` rule is the
/// strictest, and the electorate kinds ask at least every other weight rule's fraction.
pub fn check_policy_shape(store: &dyn Store) -> Result<()> {
    match crate::types::policy_shape_violation(&POLICY.all(store)?) {
        Some(what) => reject(Rejection::InvalidRule { detail: detail(what) }),
        None => Ok(()),
    }
}

/// `SetPolicyRule`.
pub fn set_rule(
    scope: &mut Scope<'_>,
    index: u32,
    kind: ActionKind,
    expected: Option<&Rule>,
    rule: &Rule,
) -> Result<()> {
    let current = POLICY.get(&scope.state, &kind)?;
    if current.as_ref() != expected {
        return Err(stale(index, format!("the rule for {kind} changed since the proposal was drafted")));
    }
    validate_rule(&scope.state, rule)?;
    POLICY.put(&mut scope.state, &kind, rule);
    check_policy_shape(&scope.state)?;
    scope.emit(Event::PolicyRuleChanged { kind });
    Ok(())
}

/// The roles whose holders are privileged, as governors are: freezing or unfreezing them needs the committee's
/// rule. `compliance`, so that no officer freezes another; `operator`, so that no officer freezes what a member
/// needs to rotate its nodes' keys, whatever reach the committee gives ordinary freezes.
pub fn privileged_roles() -> [RoleId; 2] {
    [RoleId::compliance(), RoleId::operator()]
}

/// Whether `account` is a governor or holds a [`privileged_roles`] role (freezing or unfreezing it needs the
/// committee).
fn is_privileged(store: &dyn Store, ctx: &BlockContext, account: &AccountId) -> Result<bool> {
    if committee::is_governor(store, account)? {
        return Ok(true);
    }
    for role in privileged_roles() {
        if roles::holds_role(store, account, &role, ctx.height)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The kinds an action needs, looked up in the state before it applies.
pub fn kinds_for(store: &dyn Store, ctx: &BlockContext, action: &Action) -> Result<Vec<ActionKind>> {
    kinds_with(
        action,
        |account| is_privileged(store, ctx, account),
        |role| Ok(ROLES.get(store, role)?.is_some_and(|def| def.delegable)),
    )
}

/// The kinds an action needs, given whether an account is privileged (a governor, or holding a
/// [`privileged_roles`] role) and whether a role is delegable, both in the state before the action applies. The contracts answer those from
/// their store ([`kinds_for`]); a console reviewing a proposal answers them from its snapshot of the chain, so the
/// rule the signer is shown is the rule the chain applies.
pub fn kinds_with<E>(
    action: &Action,
    privileged: impl Fn(&AccountId) -> std::result::Result<bool, E>,
    delegable: impl Fn(&RoleId) -> std::result::Result<bool, E>,
) -> std::result::Result<Vec<ActionKind>, E> {
    use Action as A;
    use ActionKind as K;
    let kind = match action {
        A::AdmitMember { .. } => K::AdmitMember,
        A::SetMemberWeight { .. } => K::SetMemberWeight,
        A::SuspendMember { .. } => K::SuspendMember,
        A::ReinstateMember { .. } => K::ReinstateMember,
        A::ExpelMember { .. } => K::ExpelMember,
        A::ReplaceGovernors { .. } => K::ReplaceGovernors,
        A::CreateAccount { .. } => K::CreateAccount,
        A::FreezeAccount { account } if privileged(account)? => K::FreezePrivilegedAccount,
        A::FreezeAccount { .. } => K::FreezeAccount,
        A::UnfreezeAccount { account } if privileged(account)? => K::UnfreezePrivilegedAccount,
        A::UnfreezeAccount { .. } => K::UnfreezeAccount,
        A::ReplaceAccountKey { .. } => K::ReplaceAccountKey,
        A::DefineRole { .. } => K::DefineRole,
        A::GrantRole { role, .. } if *role == RoleId::console() => K::GrantConsoleRole,
        A::GrantRole { role, .. } if delegable(role)? => K::GrantDelegableRole,
        A::GrantRole { .. } => K::GrantRole,
        A::RevokeRole { role, .. } if *role == RoleId::console() => K::RevokeConsoleRole,
        A::RevokeRole { role, .. } if delegable(role)? => K::RevokeDelegableRole,
        A::RevokeRole { .. } => K::RevokeRole,
        A::AdmitNode { .. } => K::AdmitNode,
        A::PromoteNode { .. } | A::DemoteNode { .. } | A::SetNodeWeight { .. } => K::ChangeSealers,
        A::RemoveNode { .. } => K::RemoveNode,
        A::RotateNodeKey { .. } => K::RotateNodeKey,
        A::SetNodeAddress { .. } => K::SetNodeAddress,
        A::RevokeNodeKey { .. } => K::RevokeNodeKey,
        A::ReplaceNodeKey { .. } => K::ReplaceNodeKey,
        A::SetPolicyRule { .. } => K::SetPolicy,
        A::SetParams { .. } => K::SetParams,
        A::CancelProposal { .. } => K::CancelProposal,
    };
    let mut kinds = vec![kind];
    if overrides_fault_tolerance(action) {
        kinds.push(K::SealerOverride);
    }
    Ok(kinds)
}

/// Whether the action carries the explicit `override_fault_tolerance` flag.
pub fn overrides_fault_tolerance(action: &Action) -> bool {
    matches!(
        action,
        Action::PromoteNode { override_fault_tolerance: true, .. }
            | Action::DemoteNode { override_fault_tolerance: true, .. }
            | Action::SetNodeWeight { override_fault_tolerance: true, .. }
            | Action::RemoveNode { override_fault_tolerance: true, .. }
            | Action::RevokeNodeKey { override_fault_tolerance: true, .. }
    )
}

/// The member an action is about, if any (for `exclude_target`, `same_member` and `TargetGovernor`).
pub fn target_member(store: &dyn Store, action: &Action) -> Result<Option<MemberId>> {
    use Action as A;
    let account_member = |account: &AccountId| -> Result<Option<MemberId>> {
        Ok(crate::state::tables::ACCOUNTS.get(store, account)?.map(|a| a.member))
    };
    let node_owner =
        |node| -> Result<Option<MemberId>> { Ok(crate::state::tables::NODES.get(store, node)?.map(|n| n.owner)) };
    match action {
        A::AdmitMember { member, .. }
        | A::SetMemberWeight { member, .. }
        | A::SuspendMember { member }
        | A::ReinstateMember { member }
        | A::ExpelMember { member }
        | A::ReplaceGovernors { member, .. }
        | A::CreateAccount { member, .. } => Ok(Some(member.clone())),
        A::AdmitNode { owner, .. } => Ok(Some(owner.clone())),
        A::FreezeAccount { account }
        | A::UnfreezeAccount { account }
        | A::ReplaceAccountKey { account, .. }
        | A::GrantRole { account, .. }
        | A::RevokeRole { account, .. } => account_member(account),
        A::PromoteNode { node, .. }
        | A::DemoteNode { node, .. }
        | A::SetNodeWeight { node, .. }
        | A::RemoveNode { node, .. }
        | A::RotateNodeKey { node, .. }
        | A::SetNodeAddress { node, .. }
        | A::RevokeNodeKey { node, .. }
        | A::ReplaceNodeKey { node, .. } => node_owner(node),
        A::DefineRole { .. } | A::SetPolicyRule { .. } | A::SetParams { .. } | A::CancelProposal { .. } => Ok(None),
    }
}

/// The account an action would favour: nobody grants a role to, or unfreezes, themselves.
pub fn beneficiary(action: &Action) -> Option<&AccountId> {
    match action {
        Action::GrantRole { account, .. } | Action::UnfreezeAccount { account } => Some(account),
        _ => None,
    }
}

/// An approval that counts at execution: a known, unfrozen account of an active member, signed with a key that
/// counts for the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedApproval {
    /// The approving account.
    pub account: AccountId,
    /// Its member.
    pub member: MemberId,
    /// Whether it is a governor of that member.
    pub governor: bool,
}

/// The weight side of a weight rule: the approving members' weight and the weight of every seated member
/// (active or suspended: every member not expelled). Only governors of active members approve (`approvals` holds
/// the approvals that count, see `proposals::counted_approvals`); a member counts once however many of its
/// governors sign; `silenced`, the target of an `exclude_target` rule, never approves its own case but stays in
/// the seated weight.
pub fn weight_tally(
    store: &dyn Store,
    approvals: &[CountedApproval],
    silenced: Option<&MemberId>,
) -> Result<(u64, u64)> {
    let approving: BTreeSet<&MemberId> =
        approvals.iter().filter(|a| a.governor && Some(&a.member) != silenced).map(|a| &a.member).collect();
    let (mut approved, mut seated) = (0u64, 0u64);
    for (id, member) in committee::seated_members(store)? {
        seated = seated.saturating_add(member.weight.0);
        if member.status == crate::types::MemberStatus::Active && approving.contains(&id) {
            approved = approved.saturating_add(member.weight.0);
        }
    }
    Ok((approved, seated))
}

/// Whether `approvals` meet `rule` for an action targeting `target`, at the context's height.
pub fn requirement_met(
    store: &dyn Store,
    ctx: &BlockContext,
    rule: &Rule,
    target: Option<&MemberId>,
    approvals: &[CountedApproval],
) -> Result<bool> {
    match &rule.requirement {
        Requirement::Weight { numerator, denominator, exclude_target } => {
            let (approved, seated) = weight_tally(store, approvals, if *exclude_target { target } else { None })?;
            Ok(crate::types::weight_met(approved, seated, (*numerator, *denominator)))
        }
        Requirement::Role { role, same_member } => {
            for approval in approvals {
                if *same_member && Some(&approval.member) != target {
                    continue;
                }
                if roles::holds_role(store, &approval.account, role, ctx.height)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Requirement::TargetGovernor => Ok(approvals.iter().any(|a| a.governor && Some(&a.member) == target)),
    }
}

/// Whether `account` could contribute to `rule` for an action targeting `target` (checked when an approval
/// arrives, so that approvals that can never count are refused at the door).
pub fn may_contribute(
    store: &dyn Store,
    ctx: &BlockContext,
    rule: &Rule,
    target: Option<&MemberId>,
    account: &AccountId,
) -> Result<bool> {
    let record = accounts::account(store, account)?;
    let governor = committee::is_governor_of(store, account, &record.member)?;
    Ok(match &rule.requirement {
        Requirement::Weight { .. } => governor,
        Requirement::Role { role, same_member } => {
            (!*same_member || Some(&record.member) == target) && roles::holds_role(store, account, role, ctx.height)?
        }
        Requirement::TargetGovernor => governor && Some(&record.member) == target,
    })
}

/// Whether `account` may propose at all: a governor of an active member, or a holder of a role some rule names.
pub fn may_propose(store: &dyn Store, ctx: &BlockContext, account: &AccountId) -> Result<bool> {
    let record = accounts::account(store, account)?;
    let member = committee::member(store, &record.member)?;
    if member.status != crate::types::MemberStatus::Active {
        return Ok(false);
    }
    if member.governors.contains(account) {
        return Ok(true);
    }
    let named: BTreeSet<RoleId> = POLICY
        .all(store)?
        .into_iter()
        .filter_map(|(_, rule)| match rule.requirement {
            Requirement::Role { role, .. } => Some(role),
            _ => None,
        })
        .collect();
    for ((_, role), grant) in GRANTS.scan(store, &crate::codec::encode(account))? {
        if grant.expires_at >= ctx.height && named.contains(&role) {
            return Ok(true);
        }
    }
    Ok(false)
}
