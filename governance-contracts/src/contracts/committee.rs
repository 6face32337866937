//! `committee`: the member organisations.
//!
//! Rules:
//! - A member has a voting weight (1..=`MAX_WEIGHT`), a status (active, suspended, expelled) and 1 to 16 governor
//!   accounts. The governors are the only record of who approves for a member: there is no separate governor role.
//! - Suspending a member: its approvals stop counting, its weight leaves the denominator, its nodes stay but cannot
//!   be promoted. Reinstating reverses that.
//! - Expelling a member revokes its governors and role grants, freezes its accounts and removes its nodes; the
//!   removal of its sealers is subject to sealer safety, and an expulsion that would break it is rejected with the
//!   list of sealers to demote first. An expelled member's id is never reused.
//! - Replacing a member's governors (for example when all its keys are lost) is a committee action that does not
//!   need the member itself (the default policy excludes it from the vote).
//!
//! Invariants: every active member has at least one governor; every governor is an account of its member; at
//! least one member is active.

use crate::codec::BoundedVec;
use crate::contracts::{BlockContext, Scope, accounts, nodes, roles, stale};
use crate::error::{Rejection, Result, reject};
use crate::ids::{AccountId, MAX_WEIGHT, MemberId, Weight};
use crate::state::Store;
use crate::state::records::MemberRecord;
use crate::state::tables::{ACCOUNTS, GRANTS, MEMBERS, NODES};
use crate::types::{DisplayName, Event, MAX_GOVERNORS, MemberStatus, NewAccount};

/// The member `id`.
pub fn member(store: &dyn Store, id: &MemberId) -> Result<MemberRecord> {
    match MEMBERS.get(store, id)? {
        Some(record) => Ok(record),
        None => reject(Rejection::UnknownMember { member: id.clone() }),
    }
}

/// Checks a weight is in range.
pub fn check_weight(weight: Weight) -> Result<()> {
    if weight.0 == 0 || weight.0 > MAX_WEIGHT {
        return reject(Rejection::InvalidWeight { weight });
    }
    Ok(())
}

/// Every active member with its record.
pub fn active_members(store: &dyn Store) -> Result<Vec<(MemberId, MemberRecord)>> {
    Ok(MEMBERS.all(store)?.into_iter().filter(|(_, m)| m.status == MemberStatus::Active).collect())
}

/// Every seated member (active or suspended: not expelled) with its record. Their weight is the
/// denominator of every weight rule.
pub fn seated_members(store: &dyn Store) -> Result<Vec<(MemberId, MemberRecord)>> {
    Ok(MEMBERS.all(store)?.into_iter().filter(|(_, m)| m.status != MemberStatus::Expelled).collect())
}

/// Whether `account` is a governor of `member`.
pub fn is_governor_of(store: &dyn Store, account: &AccountId, member: &MemberId) -> Result<bool> {
    Ok(MEMBERS.get(store, member)?.is_some_and(|m| m.governors.contains(account)))
}

/// Whether `account` is a governor of its own member (its member is the only one it can govern).
pub fn is_governor(store: &dyn Store, account: &AccountId) -> Result<bool> {
    match ACCOUNTS.get(store, account)? {
        Some(record) => is_governor_of(store, account, &record.member),
        None => Ok(false),
    }
}

/// `AdmitMember`: a new member with its governor accounts.
pub fn admit_member(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    member: &MemberId,
    name: &DisplayName,
    weight: Weight,
    governors: &BoundedVec<NewAccount, MAX_GOVERNORS>,
) -> Result<()> {
    if MEMBERS.contains(&scope.state, member)? {
        return reject(Rejection::MemberExists { member: member.clone() });
    }
    check_weight(weight)?;
    if governors.is_empty() {
        return reject(Rejection::NoGovernors { member: member.clone() });
    }
    let record = MemberRecord {
        name: name.clone(),
        weight,
        status: MemberStatus::Active,
        governors: BoundedVec::try_new(governors.iter().map(|g| g.account.clone()).collect())
            .expect("same bound as the action's list"),
        admitted_at: ctx.height,
    };
    MEMBERS.put(&mut scope.state, member, &record);
    scope.emit(Event::MemberAdmitted { member: member.clone(), weight });
    for governor in governors {
        accounts::create_account(scope, ctx, &governor.account, member, &governor.key)?;
    }
    Ok(())
}

/// `SetMemberWeight`.
pub fn set_member_weight(
    scope: &mut Scope<'_>,
    index: u32,
    id: &MemberId,
    expected: Weight,
    weight: Weight,
) -> Result<()> {
    let mut record = member(&scope.state, id)?;
    if record.weight != expected {
        return Err(stale(index, format!("{id} has weight {}, the proposal expected {expected}", record.weight)));
    }
    if record.status == MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: id.clone() });
    }
    check_weight(weight)?;
    record.weight = weight;
    MEMBERS.put(&mut scope.state, id, &record);
    scope.emit(Event::MemberWeightChanged { member: id.clone(), from: expected, to: weight });
    Ok(())
}

fn change_status(
    scope: &mut Scope<'_>,
    index: u32,
    id: &MemberId,
    from: MemberStatus,
    to: MemberStatus,
) -> Result<MemberRecord> {
    let mut record = member(&scope.state, id)?;
    if record.status != from {
        return Err(stale(index, format!("{id} is {:?}, the proposal expected {from:?}", record.status)));
    }
    record.status = to;
    MEMBERS.put(&mut scope.state, id, &record);
    if active_members(&scope.state)?.is_empty() {
        return reject(Rejection::LastActiveMember);
    }
    Ok(record)
}

/// `SuspendMember`: an active member stops counting.
pub fn suspend_member(scope: &mut Scope<'_>, index: u32, id: &MemberId) -> Result<()> {
    change_status(scope, index, id, MemberStatus::Active, MemberStatus::Suspended)?;
    scope.emit(Event::MemberSuspended { member: id.clone() });
    Ok(())
}

/// `ReinstateMember`: a suspended member counts again.
pub fn reinstate_member(scope: &mut Scope<'_>, index: u32, id: &MemberId) -> Result<()> {
    change_status(scope, index, id, MemberStatus::Suspended, MemberStatus::Active)?;
    scope.emit(Event::MemberReinstated { member: id.clone() });
    Ok(())
}

/// `ExpelMember`: governors and grants revoked, accounts frozen, nodes removed.
pub fn expel_member(scope: &mut Scope<'_>, ctx: &BlockContext, index: u32, id: &MemberId) -> Result<()> {
    let status = member(&scope.state, id)?.status;
    if status == MemberStatus::Expelled {
        return Err(stale(index, format!("{id} is already expelled")));
    }
    let mut record = change_status(scope, index, id, status, MemberStatus::Expelled)?;
    record.governors = BoundedVec::new();
    MEMBERS.put(&mut scope.state, id, &record);
    for (account, mut account_record) in ACCOUNTS.all(&scope.state)? {
        if &account_record.member != id {
            continue;
        }
        for ((holder, role), _) in GRANTS.scan(&scope.state, &crate::codec::encode(&account))? {
            roles::remove_grant(scope, &holder, &role);
        }
        if !account_record.frozen {
            account_record.frozen = true;
            ACCOUNTS.put(&mut scope.state, &account, &account_record);
            scope.emit(Event::AccountFrozen { account });
        }
    }
    for (node, record) in NODES.all(&scope.state)? {
        if &record.owner == id {
            nodes::remove(scope, ctx, &node)?;
        }
    }
    scope.emit(Event::MemberExpelled { member: id.clone() });
    Ok(())
}

/// `ReplaceGovernors`: a new governor list of existing, unfrozen accounts of the member.
pub fn replace_governors(
    scope: &mut Scope<'_>,
    index: u32,
    id: &MemberId,
    expected: &BoundedVec<AccountId, MAX_GOVERNORS>,
    governors: &BoundedVec<AccountId, MAX_GOVERNORS>,
) -> Result<()> {
    let mut record = member(&scope.state, id)?;
    if &record.governors != expected {
        return Err(stale(index, format!("{id}'s governors changed since the proposal was drafted")));
    }
    if record.status == MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: id.clone() });
    }
    if governors.is_empty() {
        return reject(Rejection::NoGovernors { member: id.clone() });
    }
    let mut seen = std::collections::BTreeSet::new();
    for governor in governors {
        let account = accounts::account(&scope.state, governor)?;
        if &account.member != id || !seen.insert(governor) {
            return reject(Rejection::NotMemberAccount { account: governor.clone(), member: id.clone() });
        }
        if account.frozen {
            return reject(Rejection::AccountFrozen { account: governor.clone() });
        }
    }
    record.governors = governors.clone();
    MEMBERS.put(&mut scope.state, id, &record);
    scope.emit(Event::GovernorsReplaced { member: id.clone(), governors: governors.clone() });
    Ok(())
}
