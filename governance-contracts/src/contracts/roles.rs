//! `roles`: what accounts may do beyond governing.
//!
//! Rules:
//! - Built-in roles: `compliance` (grants and revokes delegable roles and freezes ordinary accounts, by default on
//!   its own member's accounts only), `operator` (operates its member's nodes: routine key rotation, address
//!   changes), `auditor` (reads everything, approves nothing: no policy rule may name it) and `console` (the key
//!   of a member's console: anchors its audit trail and nothing else, held alone; see `anchors`). The alliance
//!   defines more by committee action, each scoped to the whole alliance or to one member, and marked delegable
//!   (by default a `compliance` account of the holder's member may grant it) or not.
//! - Every grant carries an expiry height, at most the role's `max_grant_blocks` ahead; a grant holds up to and
//!   including its expiry height and lapses after it with no transaction needed. No role's `max_grant_blocks`
//!   exceeds [`MAX_GRANT_BLOCKS`] (ten years of one-second blocks), built-in, defined at genesis or by
//!   `DefineRole`, so no grant lasts for ever; genesis grants too are within their role's limit from height 0.
//! - Separation of duties: nobody grants a role to themselves (their own approval does not count for it).
//!
//! Invariants: every holder is an existing account of a member that is not expelled, within the role's scope;
//! every role's `max_grant_blocks` is at most [`MAX_GRANT_BLOCKS`], and every grant expires within it of the
//! height it was granted at.

use crate::contracts::{BlockContext, Scope, accounts, stale};
use crate::error::{Rejection, Result, reject};
use crate::ids::{AccountId, Height, RoleId};
use crate::state::Store;
use crate::state::records::Grant;
use crate::state::tables::{GRANTS, ROLES};
use crate::types::{Event, MAX_GRANT_BLOCKS, RoleDefinition, RoleScope};

/// The longest grant of a built-in role, in blocks (about a year at one block a second).
pub const BUILTIN_MAX_GRANT_BLOCKS: u64 = 366 * 24 * 3_600;

const _: () = assert!(BUILTIN_MAX_GRANT_BLOCKS <= MAX_GRANT_BLOCKS, "the built-in roles' grants are bounded");

/// The built-in roles and their definitions.
pub fn builtin_roles() -> [(RoleId, RoleDefinition); 4] {
    let def = |delegable| RoleDefinition {
        scope: RoleScope::Alliance,
        delegable,
        max_grant_blocks: BUILTIN_MAX_GRANT_BLOCKS,
    };
    [
        (RoleId::compliance(), def(false)),
        (RoleId::operator(), def(false)),
        (RoleId::auditor(), def(false)),
        (RoleId::console(), def(false)),
    ]
}

/// The definition of `role`.
pub fn definition(store: &dyn Store, role: &RoleId) -> Result<RoleDefinition> {
    match ROLES.get(store, role)? {
        Some(def) => Ok(def),
        None => reject(Rejection::UnknownRole { role: role.clone() }),
    }
}

/// Whether `account` holds `role` at `height` (an unexpired grant).
pub fn holds_role(store: &dyn Store, account: &AccountId, role: &RoleId, height: Height) -> Result<bool> {
    Ok(GRANTS.get(store, &(account.clone(), role.clone()))?.is_some_and(|g| g.expires_at >= height))
}

/// The roles `account` holds at `height`.
pub fn roles_of(store: &dyn Store, account: &AccountId, height: Height) -> Result<Vec<RoleId>> {
    Ok(GRANTS
        .scan(store, &crate::codec::encode(account))?
        .into_iter()
        .filter(|(_, g)| g.expires_at >= height)
        .map(|((_, role), _)| role)
        .collect())
}

/// Checks a role's grants are bounded: `max_grant_blocks` at most [`MAX_GRANT_BLOCKS`].
pub fn check_definition(definition: &RoleDefinition) -> Result<()> {
    if definition.max_grant_blocks > MAX_GRANT_BLOCKS {
        return reject(Rejection::GrantLimitTooLong {
            max_grant_blocks: definition.max_grant_blocks,
            max: MAX_GRANT_BLOCKS,
        });
    }
    Ok(())
}

/// `DefineRole` (also each role a genesis defines).
pub fn define_role(scope: &mut Scope<'_>, role: &RoleId, definition: &RoleDefinition) -> Result<()> {
    if ROLES.contains(&scope.state, role)? {
        return reject(Rejection::RoleExists { role: role.clone() });
    }
    check_definition(definition)?;
    if let RoleScope::Member(member) = &definition.scope {
        crate::contracts::committee::member(&scope.state, member)?;
    }
    ROLES.put(&mut scope.state, role, definition);
    scope.emit(Event::RoleDefined { role: role.clone() });
    Ok(())
}

/// Checks `account` may hold `role` under its definition: within scope, member not expelled.
pub fn check_holder(store: &dyn Store, account: &AccountId, role: &RoleId) -> Result<RoleDefinition> {
    let def = definition(store, role)?;
    let record = accounts::account(store, account)?;
    if let RoleScope::Member(member) = &def.scope
        && &record.member != member
    {
        return reject(Rejection::NotMemberAccount { account: account.clone(), member: member.clone() });
    }
    let member = crate::contracts::committee::member(store, &record.member)?;
    if member.status == crate::types::MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: record.member });
    }
    Ok(def)
}

/// `GrantRole`: grants or extends, expiring at `expires_at`.
pub fn grant_role(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    index: u32,
    account: &AccountId,
    role: &RoleId,
    expires_at: Height,
    expected: Option<Height>,
) -> Result<()> {
    let def = check_holder(&scope.state, account, role)?;
    let key = (account.clone(), role.clone());
    let current = GRANTS.get(&scope.state, &key)?.map(|g| g.expires_at);
    if current != expected {
        return Err(stale(index, format!("{account}'s {role} grant changed since the proposal was drafted")));
    }
    if expires_at < ctx.height {
        return reject(Rejection::GrantExpired { expires_at });
    }
    let max = ctx.height.plus(def.max_grant_blocks);
    if expires_at > max {
        return reject(Rejection::GrantTooLong { expires_at, max });
    }
    GRANTS.put(&mut scope.state, &key, &Grant { expires_at, granted_at: ctx.height });
    scope.emit(Event::RoleGranted { account: account.clone(), role: role.clone(), expires_at });
    Ok(())
}

/// Deletes a grant and records it (used by `RevokeRole` and by expulsion).
pub fn remove_grant(scope: &mut Scope<'_>, account: &AccountId, role: &RoleId) {
    GRANTS.delete(&mut scope.state, &(account.clone(), role.clone()));
    scope.emit(Event::RoleRevoked { account: account.clone(), role: role.clone() });
}

/// `RevokeRole`.
pub fn revoke_role(scope: &mut Scope<'_>, index: u32, account: &AccountId, role: &RoleId) -> Result<()> {
    definition(&scope.state, role)?;
    if !GRANTS.contains(&scope.state, &(account.clone(), role.clone()))? {
        return Err(stale(index, format!("{account} does not hold {role}")));
    }
    remove_grant(scope, account, role);
    Ok(())
}
