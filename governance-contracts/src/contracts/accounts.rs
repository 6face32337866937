//! `accounts`: people and applications of a member, each with a stable id and one current key.
//!
//! Rules:
//! - An account belongs to one member for life. Creating one follows the policy (default: a governor of that
//!   member).
//! - Keys live in a global registry: a key is registered once, for one owner (account or node), and never leaves.
//!   A key once retired or revoked can never be registered again, for anyone.
//! - Rotation: the old key signs the transaction, the new key proves possession (a [`KeyProof`] naming the
//!   account, both keys and an expiry); the old key is retired in the same step. Approvals made with a routinely
//!   retired key still count for proposals submitted before the rotation.
//! - `MarkKeyCompromised` takes effect at once: the key is revoked and every approval it ever made stops counting.
//!   The holder sends it with its current key, and may name a proven replacement; a governor of the same member
//!   sends it for another account of that member while the member is active, and only revokes: the account then
//!   has no key until the committee gives it one (`ReplaceAccountKey`). A key is only ever installed by its
//!   holder (its current key signing) or by the committee, so no single governor takes over an account, however
//!   much the account may do.
//! - Frozen accounts send nothing and their approvals do not count. Nobody unfreezes themselves. Under the default
//!   policy a `compliance` account freezes and unfreezes accounts of its own member only, and never a governor,
//!   another `compliance` account or an `operator` (privileged: those need the committee's rule), so no member's
//!   officer stops another member governing or rotating its nodes' keys.
//!
//! Invariants: no public key is current for two owners; no retired or revoked key is current anywhere.

use crate::contracts::{BlockContext, Scope, committee, stale};
use crate::crypto::PublicKey;
use crate::error::{Rejection, Result, reject};
use crate::ids::{AccountId, Height, MemberId};
use crate::state::Store;
use crate::state::records::{AccountRecord, KeyRecord, KeyStatus};
use crate::state::tables::{ACCOUNTS, KEYS};
use crate::types::{Event, KeyProof, MemberStatus, Principal};

/// The account `id`.
pub fn account(store: &dyn Store, id: &AccountId) -> Result<AccountRecord> {
    match ACCOUNTS.get(store, id)? {
        Some(record) => Ok(record),
        None => reject(Rejection::UnknownAccount { account: id.clone() }),
    }
}

/// Registers `key` as `owner`'s current key: it must be valid for the chain's suite and never seen before.
pub fn register_key(scope: &mut Scope<'_>, ctx: &BlockContext, key: &PublicKey, owner: Principal) -> Result<()> {
    if key.validate(ctx.suite).is_err() {
        return reject(Rejection::InvalidKey { key: *key });
    }
    if let Some(existing) = KEYS.get(&scope.state, key)? {
        return match existing.status {
            KeyStatus::Current => reject(Rejection::KeyInUse { key: *key }),
            KeyStatus::Retired { .. } | KeyStatus::Revoked { .. } => reject(Rejection::KeyRetired { key: *key }),
        };
    }
    KEYS.put(&mut scope.state, key, &KeyRecord { owner, status: KeyStatus::Current, registered_at: ctx.height });
    Ok(())
}

/// Retires (routine) or revokes (compromise) `key` at the current height.
pub fn end_key(scope: &mut Scope<'_>, ctx: &BlockContext, key: &PublicKey, revoke: bool) -> Result<()> {
    let Some(mut record) = KEYS.get(&scope.state, key)? else {
        return reject(Rejection::KeyNotCurrent { key: *key });
    };
    record.status = match (revoke, record.status) {
        // A revocation always wins: a retired key that later leaks is revoked too.
        (true, _) => KeyStatus::Revoked { at: ctx.height },
        (false, KeyStatus::Current) => KeyStatus::Retired { at: ctx.height },
        (false, status) => status,
    };
    KEYS.put(&mut scope.state, key, &record);
    Ok(())
}

/// Checks a key-possession proof for `subject` replacing `expected_old`, signed by the new key and unexpired.
pub fn check_key_proof(
    ctx: &BlockContext,
    proof: &KeyProof,
    subject: &Principal,
    expected_old: Option<&PublicKey>,
) -> Result<()> {
    if &proof.body.subject != subject || proof.body.old_key.as_ref() != expected_old || !proof.verifies(&ctx.chain) {
        return reject(Rejection::BadKeyProof);
    }
    if proof.body.expires_at < ctx.height {
        return reject(Rejection::KeyProofExpired { expires_at: proof.body.expires_at });
    }
    Ok(())
}

/// `CreateAccount`.
pub fn create_account(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &AccountId,
    member: &MemberId,
    key: &PublicKey,
) -> Result<()> {
    if ACCOUNTS.contains(&scope.state, id)? {
        return reject(Rejection::AccountExists { account: id.clone() });
    }
    if committee::member(&scope.state, member)?.status == MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: member.clone() });
    }
    register_key(scope, ctx, key, Principal::Account(id.clone()))?;
    let record = AccountRecord { member: member.clone(), key: Some(*key), frozen: false, created_at: ctx.height };
    ACCOUNTS.put(&mut scope.state, id, &record);
    scope.emit(Event::AccountCreated { account: id.clone(), member: member.clone(), key: *key });
    Ok(())
}

fn set_frozen(scope: &mut Scope<'_>, index: u32, id: &AccountId, frozen: bool) -> Result<()> {
    let mut record = account(&scope.state, id)?;
    if record.frozen == frozen {
        return Err(stale(index, format!("{id} is already {}", if frozen { "frozen" } else { "unfrozen" })));
    }
    record.frozen = frozen;
    ACCOUNTS.put(&mut scope.state, id, &record);
    scope.emit(if frozen {
        Event::AccountFrozen { account: id.clone() }
    } else {
        Event::AccountUnfrozen { account: id.clone() }
    });
    Ok(())
}

/// `FreezeAccount`.
pub fn freeze(scope: &mut Scope<'_>, index: u32, id: &AccountId) -> Result<()> {
    set_frozen(scope, index, id, true)
}

/// `UnfreezeAccount`.
pub fn unfreeze(scope: &mut Scope<'_>, index: u32, id: &AccountId) -> Result<()> {
    let record = account(&scope.state, id)?;
    if committee::member(&scope.state, &record.member)?.status == MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: record.member });
    }
    set_frozen(scope, index, id, false)
}

/// Moves `id` from its current key to `new_key`, ending the old one (retired or revoked).
fn switch_key(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &AccountId,
    new_key: &PublicKey,
    revoke_old: bool,
) -> Result<()> {
    let mut record = account(&scope.state, id)?;
    let old = record.key;
    if let Some(old) = &old {
        end_key(scope, ctx, old, revoke_old)?;
    }
    register_key(scope, ctx, new_key, Principal::Account(id.clone()))?;
    record.key = Some(*new_key);
    ACCOUNTS.put(&mut scope.state, id, &record);
    scope.emit(Event::AccountKeyChanged { account: id.clone(), old, new: *new_key });
    Ok(())
}

/// `ReplaceAccountKey` (committee): the account's key now must be the proof's `old_key`; a key that is replaced
/// this way is revoked, since its holder could not rotate it.
pub fn replace_key(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    index: u32,
    id: &AccountId,
    proof: &KeyProof,
) -> Result<()> {
    let record = account(&scope.state, id)?;
    if record.key != proof.body.old_key {
        return Err(stale(index, format!("{id}'s key changed since the proposal was drafted")));
    }
    check_key_proof(ctx, proof, &Principal::Account(id.clone()), record.key.as_ref())?;
    switch_key(scope, ctx, id, &proof.body.new_key, true)
}

/// The `RotateAccountKey` transaction: sent by `id`, signed with its current key (already checked).
pub fn rotate_key(scope: &mut Scope<'_>, ctx: &BlockContext, id: &AccountId, proof: &KeyProof) -> Result<()> {
    let record = account(&scope.state, id)?;
    check_key_proof(ctx, proof, &Principal::Account(id.clone()), record.key.as_ref())?;
    switch_key(scope, ctx, id, &proof.body.new_key, false)
}

/// Checks `sender` may report `id`'s key compromised: the holder itself, or a governor of the same member while
/// that member is active, and then without a replacement (only the holder or the committee installs a key).
fn check_reporter(
    store: &dyn Store,
    sender: &AccountId,
    id: &AccountId,
    record: &AccountRecord,
    replacement: Option<&KeyProof>,
) -> Result<()> {
    if sender == id {
        return Ok(());
    }
    if !committee::is_governor_of(store, sender, &record.member)? {
        return reject(Rejection::WrongSender { principal: Principal::Account(sender.clone()) });
    }
    if committee::member(store, &record.member)?.status != MemberStatus::Active {
        return reject(Rejection::MemberNotActive { member: record.member.clone() });
    }
    if replacement.is_some() {
        return reject(Rejection::ReplacementNotFromHolder { account: id.clone() });
    }
    Ok(())
}

/// The `MarkKeyCompromised` transaction, sent by the holder (with or without a replacement) or by a governor of
/// the same member, active, for revocation only (see [`check_reporter`]).
pub fn mark_compromised(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    sender: &AccountId,
    id: &AccountId,
    key: &PublicKey,
    replacement: Option<&KeyProof>,
) -> Result<()> {
    let mut record = account(&scope.state, id)?;
    check_reporter(&scope.state, sender, id, &record, replacement)?;
    if record.key.as_ref() != Some(key) {
        // A key retired routinely earlier can leak later: revoke it so its old approvals stop counting too.
        let retired_here = KEYS.get(&scope.state, key)?.is_some_and(|k| {
            k.owner == Principal::Account(id.clone()) && matches!(k.status, KeyStatus::Retired { .. })
        });
        if !retired_here || replacement.is_some() {
            return reject(Rejection::KeyNotCurrent { key: *key });
        }
        end_key(scope, ctx, key, true)?;
        scope.emit(Event::KeyCompromised { owner: Principal::Account(id.clone()), key: *key });
        return Ok(());
    }
    scope.emit(Event::KeyCompromised { owner: Principal::Account(id.clone()), key: *key });
    match replacement {
        Some(proof) => {
            check_key_proof(ctx, proof, &Principal::Account(id.clone()), Some(key))?;
            switch_key(scope, ctx, id, &proof.body.new_key, true)
        }
        None => {
            end_key(scope, ctx, key, true)?;
            record.key = None;
            ACCOUNTS.put(&mut scope.state, id, &record);
            Ok(())
        }
    }
}

/// Whether an approval signed with `key` by `approver` counts for a proposal submitted at `submitted_at`: the
/// account's current key, or a key it retired routinely after the submission. Revoked keys never count.
pub fn approval_key_counts(
    store: &dyn Store,
    approver: &AccountId,
    record: &AccountRecord,
    key: &PublicKey,
    submitted_at: Height,
) -> Result<bool> {
    if record.key.as_ref() == Some(key) {
        return Ok(true);
    }
    Ok(match KEYS.get(store, key)? {
        Some(KeyRecord { owner: Principal::Account(owner), status: KeyStatus::Retired { at }, .. }) => {
            &owner == approver && at > submitted_at
        }
        _ => false,
    })
}
