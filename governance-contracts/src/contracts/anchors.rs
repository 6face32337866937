//! `anchors`: each member's console anchors its audit trail on chain, so that a trail rewritten or cut short after
//! the fact no longer matches what the chain recorded (see `docs/adr/0006-audit-trail-anchors.md`).
//!
//! Rules:
//! - The built-in role `console` marks an account as the key of one console of its member: a machine's key, not a
//!   person's. A governor of the account's member grants and revokes it (the kinds `GrantConsoleRole` and
//!   `RevokeConsoleRole`, whose default rule is one governor of that member); the grant expires like any other.
//! - The role is held alone: it is granted only to an account that governs no member and holds no other role, no
//!   other role is granted to its holder, and its holder is never made a governor (`ConsoleRoleExclusive`). No
//!   policy rule names it (`contracts::policy`). Hence a console's key approves nothing: no weight, role or governor
//!   rule ever counts it, and an approval it signs is refused at the door.
//! - A holder sends `AnchorAuditTrail`, and `RotateAccountKey` so that the machine's key is rotated without the
//!   committee, and nothing else (`ConsoleAnchorsOnly`). A governor of its member reports its key compromised; the
//!   member then grants the role to a fresh account.
//! - `AnchorAuditTrail { seq, head }` comes from a holder only (`NotAConsole`) and records, per console account, the
//!   latest `(seq, head)` with its member and the height of its block. `seq` strictly increases from one anchor to
//!   the next, from 1 (`AnchorNotAfter`), so a console never anchors its trail shorter than it was. The record stays
//!   when the role lapses or is revoked: it is what the trail was. A proof bundle (`RecordKey::Anchor`) proves it
//!   against a certified header, and `synod-console verify-export` checks an export against it.
//!
//! What an anchor proves is the console's word at that height: the trail up to row `seq` hashed to `head`. Rows
//! after the latest anchor are the console's word alone until the next one (the console anchors at a bounded
//! interval).
//!
//! Invariants: a holder of the console role governs no member and holds no other role; every anchor names an
//! existing account of the member it records.

use crate::contracts::{BlockContext, Scope, accounts, committee, roles};
use crate::crypto::Digest;
use crate::error::{Rejection, Result, reject};
use crate::ids::{AccountId, Height, RoleId};
use crate::state::Store;
use crate::state::records::AnchorRecord;
use crate::state::tables::{ANCHORS, GRANTS};
use crate::types::{Event, Payload, Principal};

/// Whether `account` holds the `console` role at `height`.
pub fn is_console(store: &dyn Store, account: &AccountId, height: Height) -> Result<bool> {
    roles::holds_role(store, account, &RoleId::console(), height)
}

/// The roles other than `console` that `account` holds at `height`.
fn other_roles(store: &dyn Store, account: &AccountId, height: Height) -> Result<Vec<RoleId>> {
    Ok(roles::roles_of(store, account, height)?.into_iter().filter(|role| *role != RoleId::console()).collect())
}

/// Checks a console's account sends only what a console sends: an anchor, or its own key rotation.
pub fn check_sender(store: &dyn Store, ctx: &BlockContext, sender: &Principal, payload: &Payload) -> Result<()> {
    let Principal::Account(account) = sender else { return Ok(()) };
    if matches!(payload, Payload::AnchorAuditTrail { .. } | Payload::RotateAccountKey { .. }) {
        return Ok(());
    }
    if is_console(store, account, ctx.height)? {
        return reject(Rejection::ConsoleAnchorsOnly { account: account.clone() });
    }
    Ok(())
}

/// Checks granting `role` to `account` keeps the console role alone: `console` only to an account that governs no
/// member and holds no other role, and no other role to a holder of `console`.
pub fn check_grant(store: &dyn Store, ctx: &BlockContext, account: &AccountId, role: &RoleId) -> Result<()> {
    let exclusive = || reject(Rejection::ConsoleRoleExclusive { account: account.clone() });
    if *role == RoleId::console() {
        if committee::is_governor(store, account)? || !other_roles(store, account, ctx.height)?.is_empty() {
            return exclusive();
        }
    } else if is_console(store, account, ctx.height)? {
        return exclusive();
    }
    Ok(())
}

/// Checks none of `governors` holds the console role.
pub fn check_governors<'a>(
    store: &dyn Store,
    ctx: &BlockContext,
    governors: impl IntoIterator<Item = &'a AccountId>,
) -> Result<()> {
    for governor in governors {
        if is_console(store, governor, ctx.height)? {
            return reject(Rejection::ConsoleRoleExclusive { account: governor.clone() });
        }
    }
    Ok(())
}

/// The latest anchor of the console whose account is `account`, if it ever anchored.
pub fn latest(store: &dyn Store, account: &AccountId) -> Result<Option<AnchorRecord>> {
    Ok(ANCHORS.get(store, account)?)
}

/// The `AnchorAuditTrail` transaction, sent by `sender` (its key already checked).
pub fn anchor(scope: &mut Scope<'_>, ctx: &BlockContext, sender: &AccountId, seq: u64, head: &Digest) -> Result<()> {
    if !is_console(&scope.state, sender, ctx.height)? {
        return reject(Rejection::NotAConsole { account: sender.clone() });
    }
    let anchored = latest(&scope.state, sender)?.map_or(0, |record| record.seq);
    if seq <= anchored {
        return reject(Rejection::AnchorNotAfter { seq, anchored });
    }
    let member = accounts::account(&scope.state, sender)?.member;
    ANCHORS.put(&mut scope.state, sender, &AnchorRecord { member, seq, head: *head, anchored_at: ctx.height });
    scope.emit(Event::AuditTrailAnchored { account: sender.clone(), seq, head: *head });
    Ok(())
}

/// A broken invariant of this contract, in words, or `None`: a holder of the console role at `height` that governs
/// a member or holds another role, or an anchor whose account is missing or of another member.
pub fn invariant_violation(store: &dyn Store, height: Height) -> Result<Option<String>> {
    for ((account, role), grant) in GRANTS.all(store)? {
        if role != RoleId::console() || grant.expires_at < height {
            continue;
        }
        if committee::is_governor(store, &account)? {
            return Ok(Some(format!("{account} holds the console role and governs its member")));
        }
        if let Some(other) = other_roles(store, &account, height)?.first() {
            return Ok(Some(format!("{account} holds the console role and {other}")));
        }
    }
    for (account, record) in ANCHORS.all(store)? {
        match crate::state::tables::ACCOUNTS.get(store, &account)? {
            Some(holder) if holder.member == record.member => {}
            _ => return Ok(Some(format!("the anchor of {account} names member {}, not its account's", record.member))),
        }
    }
    Ok(None)
}
