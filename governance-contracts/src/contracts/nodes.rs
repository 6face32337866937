//! `nodes`: the machines of the alliance.
//!
//! Rules:
//! - A node is admitted as an observer, with an owner member, a key and a network address. Promotion to sealer
//!   needs a readiness attestation the node signed (a transaction under its own key) within the last
//!   `readiness_window` blocks, an active owner and a weight in range.
//! - **Sealer safety**, checked cumulatively over all sealer changes in a block against the set in force at the
//!   block's start: the total weight changed must not exceed F, the faulty weight the starting set tolerates
//!   (total ≥ 3F+1), and F after must stay ≥ min(F before, 1). An action flagged `override_fault_tolerance`
//!   escapes both only with the stricter `SealerOverride` rule; a change after which one member holds ≥ 1/3 of
//!   sealer weight needs the `SealerConcentration` rule. The set is never empty. Every change reports F before
//!   and after (`SealerSetChanged`), and a dry run shows it before anyone signs.
//! - Routine key rotation is proposed by the node itself (its old key signs the transaction), proven by the new
//!   key and approved by an `operator` of the owner. An emergency revocation removes the key at once (demoting a
//!   sealer); `ReplaceNodeKey` gives it a new one.
//! - **A node id names one machine for the chain's whole life.** `RemoveNode` (alone, or with an expelled owner)
//!   moves the node's last record to `REMOVED_NODES`; `AdmitNode` refuses that id for good (`NodeIdRetired`),
//!   whatever the owner and key, and every action or transaction naming a removed node is refused as
//!   `NodeRemoved`. A node's owner never changes, so what was drafted, signed or recorded about a node (a pending
//!   proposal, equivocation evidence, the console's demotion draft) can only ever apply to that node.
//! - [`validator_set`] is derived canonically from state: sealers in ascending [`NodeId`] order with their current
//!   keys. The order is sorted, never the table's key order: keys are length-prefixed encodings, so the table
//!   lists `z` before `n2` and `n2` before `n10`.
//!
//! Invariants: the sealer set is non-empty; every sealer has a key and a positive weight; total sealer weight
//! stays far below `u64::MAX / 3`; the validator set is strictly ascending by id; no id is both admitted and
//! removed.

use std::collections::BTreeMap;

use crate::codec::BoundedVec;
use crate::contracts::{BlockContext, ProposalContext, Scope, accounts, committee, stale};
use crate::crypto::PublicKey;
use crate::error::{Rejection, Result, reject};
use crate::ids::{Height, MemberId, NodeId, Weight};
use crate::state::Store;
use crate::state::records::{NodeRecord, RemovedNode};
use crate::state::tables::{NODES, REMOVED_NODES};
use crate::types::MAX_VALIDATORS;
use crate::types::{Event, KeyProof, MemberStatus, NetworkAddress, NodeKind, Principal, Validator, ValidatorSet};

/// The node `id`: refused as [`Rejection::NodeRemoved`] when it was removed, so that nothing addressed to it (an
/// action drafted before its removal, its own transaction) ever acts again; as unknown when it never was admitted.
pub fn node(store: &dyn Store, id: &NodeId) -> Result<NodeRecord> {
    if let Some(record) = NODES.get(store, id)? {
        return Ok(record);
    }
    match REMOVED_NODES.get(store, id)? {
        Some(removed) => reject(Rejection::NodeRemoved { node: id.clone(), removed_at: removed.removed_at }),
        None => reject(Rejection::UnknownNode { node: id.clone() }),
    }
}

/// Every sealer with its owner and weight.
pub fn sealer_weights(store: &dyn Store) -> Result<BTreeMap<NodeId, (MemberId, u64)>> {
    Ok(NODES
        .all(store)?
        .into_iter()
        .filter(|(_, n)| n.kind == NodeKind::Sealer)
        .map(|(id, n)| (id, (n.owner, n.weight.0)))
        .collect())
}

/// The validator set derived from state: sealers in ascending [`NodeId`] order (the order consensus requires and
/// [`ValidatorSet::get`] searches) with their current keys and weights.
///
/// The table's own order is not id order: its keys are canonical encodings, length-prefixed, so `n10` comes after
/// `n2` there and before it as an id. The set is sorted here, never taken in the table's order.
pub fn validator_set(store: &dyn Store) -> Result<ValidatorSet> {
    let mut validators: Vec<Validator> = NODES
        .all(store)?
        .into_iter()
        .filter(|(_, n)| n.kind == NodeKind::Sealer)
        .filter_map(|(node, n)| n.key.map(|key| Validator { node, key, weight: n.weight }))
        .collect();
    validators.sort_by(|a, b| a.node.cmp(&b.node));
    let validators = BoundedVec::try_new(validators)
        .map_err(|e| crate::state::StoreError::Corrupt { table: "nodes", detail: format!("sealer count {e}") })?;
    Ok(ValidatorSet { validators })
}

/// `AdmitNode`: always as an observer.
pub fn admit_node(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &NodeId,
    owner: &MemberId,
    key: &PublicKey,
    address: &NetworkAddress,
) -> Result<()> {
    if NODES.contains(&scope.state, id)? {
        return reject(Rejection::NodeExists { node: id.clone() });
    }
    if let Some(removed) = REMOVED_NODES.get(&scope.state, id)? {
        return reject(Rejection::NodeIdRetired { node: id.clone(), removed_at: removed.removed_at });
    }
    if committee::member(&scope.state, owner)?.status == MemberStatus::Expelled {
        return reject(Rejection::MemberNotActive { member: owner.clone() });
    }
    accounts::register_key(scope, ctx, key, Principal::Node(id.clone()))?;
    let record = NodeRecord::admitted(owner.clone(), *key, address.clone(), ctx.height);
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeAdmitted { node: id.clone(), owner: owner.clone(), key: *key });
    Ok(())
}

/// `PromoteNode`: an attested observer of an active member becomes a sealer.
pub fn promote(scope: &mut Scope<'_>, ctx: &BlockContext, id: &NodeId, weight: Weight) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    if record.kind != NodeKind::Observer {
        return reject(Rejection::NotAnObserver { node: id.clone() });
    }
    if committee::member(&scope.state, &record.owner)?.status != MemberStatus::Active {
        return reject(Rejection::MemberNotActive { member: record.owner });
    }
    committee::check_weight(weight)?;
    let window = crate::contracts::params::params(&scope.state)?.readiness_window;
    let fresh = record.attested_at.is_some_and(|at| ctx.height.since(at) <= window);
    if !fresh || record.key.is_none() {
        return reject(Rejection::ReadinessMissing { node: id.clone(), window });
    }
    if sealer_weights(&scope.state)?.len() >= MAX_VALIDATORS {
        return reject(Rejection::TooManySealers { max: u32::try_from(MAX_VALIDATORS).unwrap_or(u32::MAX) });
    }
    record.kind = NodeKind::Sealer;
    record.weight = weight;
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodePromoted { node: id.clone(), weight });
    Ok(())
}

/// `DemoteNode`: a sealer becomes an observer.
pub fn demote(scope: &mut Scope<'_>, id: &NodeId) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    if record.kind != NodeKind::Sealer {
        return reject(Rejection::NotASealer { node: id.clone() });
    }
    record.kind = NodeKind::Observer;
    record.weight = Weight(0);
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeDemoted { node: id.clone() });
    Ok(())
}

/// `SetNodeWeight`: a sealer's new weight.
pub fn set_weight(scope: &mut Scope<'_>, index: u32, id: &NodeId, expected: Weight, weight: Weight) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    if record.kind != NodeKind::Sealer {
        return reject(Rejection::NotASealer { node: id.clone() });
    }
    if record.weight != expected {
        return Err(stale(index, format!("{id} has weight {}, the proposal expected {expected}", record.weight)));
    }
    committee::check_weight(weight)?;
    record.weight = weight;
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeWeightChanged { node: id.clone(), from: expected, to: weight });
    Ok(())
}

/// `RemoveNode`: the node leaves; its key is retired and its id kept in `REMOVED_NODES`, both for good.
pub fn remove(scope: &mut Scope<'_>, ctx: &BlockContext, id: &NodeId) -> Result<()> {
    let record = node(&scope.state, id)?;
    if let Some(key) = &record.key {
        accounts::end_key(scope, ctx, key, false)?;
    }
    NODES.delete(&mut scope.state, id);
    REMOVED_NODES.put(&mut scope.state, id, &RemovedNode { last: record, removed_at: ctx.height });
    scope.emit(Event::NodeRemoved { node: id.clone() });
    Ok(())
}

fn switch_key(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &NodeId,
    mut record: NodeRecord,
    new_key: &PublicKey,
    revoke_old: bool,
) -> Result<()> {
    let old = record.key;
    if let Some(old) = &old {
        accounts::end_key(scope, ctx, old, revoke_old)?;
    }
    accounts::register_key(scope, ctx, new_key, Principal::Node(id.clone()))?;
    record.key = Some(*new_key);
    record.key_history.push(*new_key);
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeKeyChanged { node: id.clone(), old, new: *new_key });
    Ok(())
}

/// `RotateNodeKey`: routine; proposed by the node itself with proof of the new key.
pub fn rotate_key(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    proposal: &ProposalContext,
    index: u32,
    id: &NodeId,
    proof: &KeyProof,
) -> Result<()> {
    if proposal.proposer != Principal::Node(id.clone()) {
        return reject(Rejection::NodeMustPropose { node: id.clone() });
    }
    change_key(scope, ctx, index, id, proof, false)
}

/// `ReplaceNodeKey`: by governance, typically after a revocation; the key replaced is revoked.
pub fn replace_key(scope: &mut Scope<'_>, ctx: &BlockContext, index: u32, id: &NodeId, proof: &KeyProof) -> Result<()> {
    change_key(scope, ctx, index, id, proof, true)
}

/// Moves a node to the proven key, if its key is still the one the proof replaces.
fn change_key(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    index: u32,
    id: &NodeId,
    proof: &KeyProof,
    revoke_old: bool,
) -> Result<()> {
    let record = node(&scope.state, id)?;
    if record.key != proof.body.old_key {
        return Err(stale(index, format!("{id}'s key changed since the proposal was drafted")));
    }
    accounts::check_key_proof(ctx, proof, &Principal::Node(id.clone()), record.key.as_ref())?;
    switch_key(scope, ctx, id, record, &proof.body.new_key, revoke_old)
}

/// `RevokeNodeKey`: emergency. The key is revoked; a sealer is demoted.
pub fn revoke_key(scope: &mut Scope<'_>, ctx: &BlockContext, index: u32, id: &NodeId, key: &PublicKey) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    if record.key.as_ref() != Some(key) {
        return Err(stale(index, format!("{key} is not {id}'s key")));
    }
    accounts::end_key(scope, ctx, key, true)?;
    record.key = None;
    if record.kind == NodeKind::Sealer {
        record.kind = NodeKind::Observer;
        record.weight = Weight(0);
        scope.emit(Event::NodeDemoted { node: id.clone() });
    }
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeKeyRevoked { node: id.clone(), key: *key });
    Ok(())
}

/// `SetNodeAddress`.
pub fn set_address(
    scope: &mut Scope<'_>,
    index: u32,
    id: &NodeId,
    expected: &NetworkAddress,
    address: &NetworkAddress,
) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    if &record.address != expected {
        return Err(stale(index, format!("{id}'s address changed since the proposal was drafted")));
    }
    record.address = address.clone();
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeAddressChanged { node: id.clone(), address: address.clone() });
    Ok(())
}

/// The `AttestReadiness` transaction, sent by the node.
pub fn attest_readiness(scope: &mut Scope<'_>, ctx: &BlockContext, id: &NodeId, synced_height: Height) -> Result<()> {
    let mut record = node(&scope.state, id)?;
    record.attested_at = Some(ctx.height);
    NODES.put(&mut scope.state, id, &record);
    scope.emit(Event::NodeAttested { node: id.clone(), synced_height });
    Ok(())
}

/// What a proposal's sealer changes did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealerEffect {
    /// Whether one member now holds at least a third of sealer weight (needs `SealerConcentration`).
    pub concentrated: bool,
}

/// Checks sealer safety after a proposal's actions: `before` is the set before the proposal, the state holds the
/// set after it, and `ctx.sealers_at_start` the set at the block's start. Returns `None` if the proposal did not
/// change the set.
pub fn check_sealer_safety(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    before: &BTreeMap<NodeId, (MemberId, u64)>,
    override_flagged: bool,
) -> Result<Option<SealerEffect>> {
    let after = sealer_weights(&scope.state)?;
    if &after == before {
        return Ok(None);
    }
    let verdict = super::sealer_safety::sealer_safety(&ctx.sealers_at_start, &after);
    if let Some(rejection) = verdict.rejection(override_flagged) {
        return reject(rejection);
    }
    scope.emit(Event::SealerSetChanged {
        total_before: Weight(verdict.total_before),
        total_after: Weight(verdict.total_after),
        fault_tolerance_before: Weight(verdict.fault_tolerance_before),
        fault_tolerance_after: Weight(verdict.fault_tolerance_after),
    });
    let concentrated = !verdict.concentrated.is_empty();
    Ok(Some(SealerEffect { concentrated }))
}
