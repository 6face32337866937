//! The governance contracts, one module each. Every module opens with the rules and invariants it keeps.
//!
//! Contracts read and write state through a [`Scope`] (a write buffer plus the events it produced), so the caller
//! decides what is kept: a failed transaction or proposal leaves nothing behind.

pub mod accounts;
pub mod anchors;
pub mod committee;
pub mod nodes;
pub mod params;
pub mod policy;
pub mod proposals;
pub mod roles;
pub mod sealer_safety;

use std::collections::BTreeMap;

use crate::crypto::CryptoSuite;
use crate::domain::ChainIdentity;
use crate::error::Result;
use crate::ids::{Height, MemberId, NodeId, ProposalId};
use crate::state::{ChangeSet, Overlay, Store};
use crate::types::{Action, Event, Principal};

/// Buffered writes and the events they produced.
pub struct Scope<'a> {
    /// The write buffer (reads see it first).
    pub state: Overlay<'a>,
    /// Events, in order.
    pub events: Vec<Event>,
}

impl<'a> Scope<'a> {
    /// An empty scope over `base`.
    pub fn new(base: &'a dyn Store) -> Self {
        Self { state: Overlay::new(base), events: Vec::new() }
    }

    /// Records an event.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The writes and events, to merge into a parent with [`Scope::absorb`].
    pub fn into_parts(self) -> (ChangeSet, Vec<Event>) {
        (self.state.into_changes(), self.events)
    }

    /// Keeps a child scope's writes and events.
    pub fn absorb(&mut self, (changes, events): (ChangeSet, Vec<Event>)) {
        self.state.absorb(changes);
        self.events.extend(events);
    }
}

/// What every contract knows about the block being applied.
#[derive(Debug, Clone)]
pub struct BlockContext {
    /// The chain.
    pub chain: ChainIdentity,
    /// The chain's crypto suite.
    pub suite: CryptoSuite,
    /// The height of the block being applied.
    pub height: Height,
    /// The sealers in force at the block's start, with owner and weight: sealer safety is checked cumulatively
    /// against this set.
    pub sealers_at_start: BTreeMap<NodeId, (MemberId, u64)>,
    /// How signatures are verified: strictly, through the node's set of already verified ones when it has one
    /// (the verdicts are the same either way).
    pub verifier: crate::crypto::Verifier,
}

impl BlockContext {
    /// The context for applying block `height` on top of `store`.
    pub fn new(store: &dyn Store, height: Height) -> Result<Self> {
        let meta = crate::execution::meta(store)?;
        Ok(Self {
            chain: meta.chain,
            suite: meta.crypto_suite,
            height,
            sealers_at_start: nodes::sealer_weights(store)?,
            verifier: crate::crypto::Verifier::default(),
        })
    }
}

/// What an action knows about the proposal carrying it.
#[derive(Debug, Clone)]
pub struct ProposalContext {
    /// The proposal's id.
    pub id: ProposalId,
    /// Who submitted it.
    pub proposer: Principal,
}

/// Applies one action. `index` names the action in a `StaleProposal` rejection.
pub fn apply_action(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    proposal: &ProposalContext,
    index: u32,
    action: &Action,
) -> Result<()> {
    use Action as A;
    match action {
        A::AdmitMember { member, name, weight, governors } => {
            committee::admit_member(scope, ctx, member, name, *weight, governors)
        }
        A::SetMemberWeight { member, expected, weight } => {
            committee::set_member_weight(scope, index, member, *expected, *weight)
        }
        A::SuspendMember { member } => committee::suspend_member(scope, index, member),
        A::ReinstateMember { member } => committee::reinstate_member(scope, index, member),
        A::ExpelMember { member } => committee::expel_member(scope, ctx, index, member),
        A::ReplaceGovernors { member, expected, governors } => {
            anchors::check_governors(&scope.state, ctx, governors.iter())?;
            committee::replace_governors(scope, index, member, expected, governors)
        }
        A::CreateAccount { account, member, key } => accounts::create_account(scope, ctx, account, member, key),
        A::FreezeAccount { account } => accounts::freeze(scope, index, account),
        A::UnfreezeAccount { account } => accounts::unfreeze(scope, index, account),
        A::ReplaceAccountKey { account, proof } => accounts::replace_key(scope, ctx, index, account, proof),
        A::DefineRole { role, definition } => roles::define_role(scope, role, definition),
        A::GrantRole { account, role, expires_at, expected } => {
            anchors::check_grant(&scope.state, ctx, account, role)?;
            roles::grant_role(scope, ctx, index, account, role, *expires_at, *expected)
        }
        A::RevokeRole { account, role } => roles::revoke_role(scope, index, account, role),
        A::AdmitNode { node, owner, key, address } => nodes::admit_node(scope, ctx, node, owner, key, address),
        A::PromoteNode { node, weight, .. } => nodes::promote(scope, ctx, node, *weight),
        A::DemoteNode { node, .. } => nodes::demote(scope, node),
        A::SetNodeWeight { node, expected, weight, .. } => nodes::set_weight(scope, index, node, *expected, *weight),
        A::RemoveNode { node, .. } => nodes::remove(scope, ctx, node),
        A::RotateNodeKey { node, proof } => nodes::rotate_key(scope, ctx, proposal, index, node, proof),
        A::SetNodeAddress { node, expected, address } => nodes::set_address(scope, index, node, expected, address),
        A::RevokeNodeKey { node, key, .. } => nodes::revoke_key(scope, ctx, index, node, key),
        A::ReplaceNodeKey { node, proof } => nodes::replace_key(scope, ctx, index, node, proof),
        A::SetPolicyRule { kind, expected, rule } => policy::set_rule(scope, index, *kind, expected.as_ref(), rule),
        A::SetParams { expected, params } => params::set_params(scope, index, expected, params),
        A::CancelProposal { proposal: target } => proposals::cancel_by_committee(scope, ctx, proposal, target),
    }
}

/// A `StaleProposal` rejection for action `index`.
pub(crate) fn stale(index: u32, detail: impl Into<String>) -> crate::error::Error {
    crate::error::Rejection::StaleProposal { action: index, detail: crate::error::detail(detail) }.into()
}
