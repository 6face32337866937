//! `proposals`: the on-chain lifecycle of governance proposals, so every organisation's console and CLI see the
//! same state.
//!
//! Rules:
//! - `SubmitProposal` records the proposal with its real submission height, its proposer (the transaction's
//!   sender) and its expiry (at most `max_proposal_lifetime` blocks ahead), optionally with approvals collected
//!   off chain. Its id is its approval digest; a second submission of the same id is refused while the first is
//!   remembered (until its expiry), executed, failed or cancelled alike.
//! - `Approve` adds approvals (anyone may relay them); each is verified when it arrives: a valid signature over
//!   the approval digest, a known unfrozen account, a key that counts, no duplicate, not in the approver's own
//!   favour, and an approver who can contribute to one of the proposal's rules. `RevokeApproval` withdraws the
//!   sender's own. `CancelProposal` is for the proposer or a governor of the proposer's member, or the committee
//!   by an action.
//! - When the approvals meet the rules of all actions, the proposal applies in that same transaction, or is
//!   queued until its delay, counted from the block in which the rules were first met, has passed, and then
//!   applies on `ExecuteProposal` if the approvals that count then still meet them. Approvals are re-checked against the
//!   state at execution: suspended members, frozen or removed governors and revoked keys do not count.
//! - Actions apply atomically, in order, each compare-and-setting what it replaces; sealer safety is checked after
//!   all of them. On any failure nothing of the proposal applies, it is marked failed and the receipt names why
//!   (`ProposalFailed`). [`dry_run`] gives the same result without writing anything.
//!
//! Invariants: an executed proposal applied exactly the actions whose digest its approvers signed.

use crate::codec::BoundedVec;
use crate::contracts::{
    BlockContext, ProposalContext, Scope, accounts, apply_action, committee, nodes, params, policy,
};
use crate::crypto::SignedDigest;
use crate::error::{Error, Rejection, Result, detail, reject};
use crate::ids::{AccountId, Height, MemberId, ProposalId, TxHash};
use crate::state::records::{ProposalRecord, ProposalStatus};
use crate::state::tables::{ACCOUNTS, MEMBERS, NODES, PROPOSAL_EXPIRY, PROPOSALS};
use crate::state::{ExpiryKey, Store};
use crate::types::{
    Action, ActionKind, Approval, CountedVote, Event, JudgedRequirement, MemberStatus, Outcome, Principal, Proposal,
    Receipt, Rule, Verdict,
};

/// The proposal `id`.
pub fn proposal(store: &dyn Store, id: &ProposalId) -> Result<ProposalRecord> {
    match PROPOSALS.get(store, id)? {
        Some(record) => Ok(record),
        None => reject(Rejection::UnknownProposal { proposal: *id }),
    }
}

fn check_open(ctx: &BlockContext, id: &ProposalId, record: &ProposalRecord) -> Result<()> {
    if record.proposal.expires_at < ctx.height {
        return reject(Rejection::ProposalExpired { expires_at: record.proposal.expires_at, height: ctx.height });
    }
    match record.status {
        ProposalStatus::Pending | ProposalStatus::Queued { .. } => Ok(()),
        _ => reject(Rejection::ProposalNotPending { proposal: *id }),
    }
}

/// One rule a proposal needs: for which action, under which rule, about which member, and whose approval is
/// excluded (the account the action favours).
#[derive(Debug, Clone)]
pub struct Requirement {
    /// The action kind.
    pub kind: ActionKind,
    /// Its rule.
    pub rule: Rule,
    /// The member the action targets.
    pub target: Option<MemberId>,
    /// The account whose approval does not count for it.
    pub excluded: Option<AccountId>,
}

/// The rules a proposal needs in the current state (before sealer-concentration, which needs a simulation).
pub fn requirements(store: &dyn Store, ctx: &BlockContext, proposal: &Proposal) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    for action in &proposal.actions {
        let target = policy::target_member(store, action)?;
        let excluded = policy::beneficiary(action).cloned();
        for kind in policy::kinds_for(store, ctx, action)? {
            out.push(Requirement {
                kind,
                rule: policy::rule_for(store, kind)?,
                target: target.clone(),
                excluded: excluded.clone(),
            });
        }
    }
    Ok(out)
}

/// The approvals that count now.
pub fn counted_approvals(store: &dyn Store, record: &ProposalRecord) -> Result<Vec<policy::CountedApproval>> {
    let mut counted = Vec::new();
    for approval in &record.approvals {
        let Some(account) = ACCOUNTS.get(store, &approval.approver)? else { continue };
        if account.frozen
            || !accounts::approval_key_counts(store, &approval.approver, &account, &approval.key, record.submitted_at)?
        {
            continue;
        }
        let Some(member) = MEMBERS.get(store, &account.member)? else { continue };
        if member.status != MemberStatus::Active {
            continue;
        }
        counted.push(policy::CountedApproval {
            governor: member.governors.contains(&approval.approver),
            account: approval.approver.clone(),
            member: account.member,
        });
    }
    Ok(counted)
}

fn met(store: &dyn Store, ctx: &BlockContext, req: &Requirement, counted: &[policy::CountedApproval]) -> Result<bool> {
    let usable: Vec<policy::CountedApproval> =
        counted.iter().filter(|a| Some(&a.account) != req.excluded.as_ref()).cloned().collect();
    policy::requirement_met(store, ctx, &req.rule, req.target.as_ref(), &usable)
}

fn add_approvals(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &ProposalId,
    record: &mut ProposalRecord,
    approvals: &[Approval],
) -> Result<()> {
    let digest = id.0;
    let items: Vec<SignedDigest> =
        approvals.iter().map(|a| SignedDigest { key: a.key, digest, signature: a.signature }).collect();
    if let Err(bad) = ctx.verifier.verify_all(&items) {
        let approver = approvals.get(bad).map(|a| a.approver.clone()).expect("index from the same list");
        return reject(Rejection::BadApprovalSignature { approver });
    }
    let reqs = requirements(&scope.state, ctx, &record.proposal)?;
    for approval in approvals {
        let approver = &approval.approver;
        let account = accounts::account(&scope.state, approver)?;
        if let Some(existing) = record.approvals.iter().find(|a| &a.approver == approver) {
            // An approval whose key no longer counts (rotated away before submission, or compromised) may be
            // replaced by one with the account's current key; a live one may not be doubled.
            if accounts::approval_key_counts(&scope.state, approver, &account, &existing.key, record.submitted_at)? {
                return reject(Rejection::DuplicateApproval { approver: approver.clone() });
            }
            record.approvals.retain(|a| &a.approver != approver);
        }
        if account.frozen {
            return reject(Rejection::AccountFrozen { account: approver.clone() });
        }
        if !accounts::approval_key_counts(&scope.state, approver, &account, &approval.key, record.submitted_at)? {
            return reject(Rejection::ApprovalKeyNotValid { approver: approver.clone() });
        }
        if record.proposal.actions.iter().any(|a| policy::beneficiary(a) == Some(approver)) {
            return reject(Rejection::SelfApproval { approver: approver.clone() });
        }
        let mut eligible = false;
        for req in &reqs {
            if policy::may_contribute(&scope.state, ctx, &req.rule, req.target.as_ref(), approver)? {
                eligible = true;
                break;
            }
        }
        if !eligible {
            return reject(Rejection::ApproverNotEligible { approver: approver.clone() });
        }
        record.approvals.try_push(approval.clone()).map_err(|_| Error::from(Rejection::TooManyApprovals))?;
        scope.emit(Event::ProposalApproved { proposal: *id, approver: approver.clone() });
    }
    Ok(())
}

/// Where an execution attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The approvals do not meet this kind's rule yet.
    NotMet(ActionKind),
    /// Approved; the delay ends at this height.
    Waiting(Height),
    /// Applied.
    Executed,
    /// Approved but could not apply.
    Failed(Rejection),
}

/// Runs a proposal's actions and the sealer-safety check in `scope`; returns whether sealer weight is now
/// concentrated.
fn run_actions(scope: &mut Scope<'_>, ctx: &BlockContext, pctx: &ProposalContext, proposal: &Proposal) -> Result<bool> {
    let touches_sealers = proposal.actions.iter().any(affects_sealers);
    let before = if touches_sealers { nodes::sealer_weights(&scope.state)? } else { Default::default() };
    for (index, action) in proposal.actions.iter().enumerate() {
        let index = u32::try_from(index).expect("at most MAX_ACTIONS actions");
        apply_action(scope, ctx, pctx, index, action)?;
    }
    if !touches_sealers {
        return Ok(false);
    }
    let flagged = proposal.actions.iter().any(policy::overrides_fault_tolerance);
    match nodes::check_sealer_safety(scope, ctx, &before, flagged) {
        Ok(effect) => Ok(effect.is_some_and(|e| e.concentrated)),
        Err(Error::Rejected(reason)) => {
            // Name what to change first when an expulsion is what broke sealer safety.
            for action in &proposal.actions {
                if let Action::ExpelMember { member } = action {
                    let sealers: Vec<String> = before
                        .iter()
                        .filter(|(_, (owner, _))| owner == member)
                        .map(|(node, _)| node.to_string())
                        .collect();
                    if !sealers.is_empty() {
                        return reject(Rejection::ExpulsionNeedsSealerChanges {
                            member: member.clone(),
                            sealers: detail(sealers.join(", ")),
                        });
                    }
                }
            }
            reject(reason)
        }
        Err(other) => Err(other),
    }
}

/// Whether an action can change the sealer set (only these need the sealer-safety check).
fn affects_sealers(action: &Action) -> bool {
    matches!(
        action,
        Action::PromoteNode { .. }
            | Action::DemoteNode { .. }
            | Action::SetNodeWeight { .. }
            | Action::RemoveNode { .. }
            | Action::RevokeNodeKey { .. }
            | Action::ExpelMember { .. }
    )
}

/// Tries to execute proposal `id` (recorded in `scope` as `record`): checks the rules against the approvals
/// that count now, then the delay, then applies it atomically or marks it failed.
pub fn try_execute(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    id: &ProposalId,
    mut record: ProposalRecord,
) -> Result<Attempt> {
    let counted = counted_approvals(&scope.state, &record)?;
    let mut reqs = requirements(&scope.state, ctx, &record.proposal)?;
    for req in &reqs {
        if !met(&scope.state, ctx, req, &counted)? {
            return Ok(Attempt::NotMet(req.kind));
        }
    }
    let pctx = ProposalContext { id: *id, proposer: record.proposal.proposer.clone() };
    let (result, parts) = {
        let mut child = Scope::new(&scope.state);
        let result = run_actions(&mut child, ctx, &pctx, &record.proposal);
        (result, child.into_parts())
    };
    if let Ok(true) = result {
        let kind = ActionKind::SealerConcentration;
        let req = Requirement { kind, rule: policy::rule_for(&scope.state, kind)?, target: None, excluded: None };
        if !met(&scope.state, ctx, &req, &counted)? {
            return Ok(Attempt::NotMet(kind));
        }
        reqs.push(req);
    }
    // The delay runs from the block in which the rules were first met, so every member sees a passing proposal
    // for the whole delay before it can apply.
    let ready_at = match record.status {
        ProposalStatus::Queued { ready_at } => ready_at,
        _ => ctx.height.plus(reqs.iter().map(|r| r.rule.delay_blocks).max().unwrap_or(0)),
    };
    if ctx.height < ready_at {
        if record.status == ProposalStatus::Pending {
            record.status = ProposalStatus::Queued { ready_at };
            PROPOSALS.put(&mut scope.state, id, &record);
            scope.emit(Event::ProposalQueued { proposal: *id, ready_at });
        }
        return Ok(Attempt::Waiting(ready_at));
    }
    // Judged on the state the rules were checked against, before any of its actions apply.
    let verdict = verdict(&scope.state, ctx, &reqs, &counted)?;
    let attempt = match result {
        Ok(_) => {
            scope.absorb(parts);
            record.status = ProposalStatus::Executed { at: ctx.height };
            scope.emit(Event::ProposalExecuted { proposal: *id, verdict });
            Attempt::Executed
        }
        Err(Error::Rejected(reason)) => {
            record.status = ProposalStatus::Failed { at: ctx.height, reason: reason.clone() };
            scope.emit(Event::ProposalFailed { proposal: *id, reason: reason.clone(), verdict });
            Attempt::Failed(reason)
        }
        Err(fatal) => return Err(fatal),
    };
    PROPOSALS.put(&mut scope.state, id, &record);
    Ok(attempt)
}

fn check_proposer(store: &dyn Store, ctx: &BlockContext, proposal: &Proposal) -> Result<()> {
    match &proposal.proposer {
        Principal::Account(account) => {
            if !policy::may_propose(store, ctx, account)? {
                return reject(Rejection::NotEligibleProposer { account: account.clone() });
            }
        }
        Principal::Node(node) => {
            let own_rotation = |a: &Action| matches!(a, Action::RotateNodeKey { node: n, .. } if n == node);
            if !proposal.actions.iter().all(own_rotation) {
                return reject(Rejection::WrongSender { principal: proposal.proposer.clone() });
            }
        }
    }
    Ok(())
}

/// The `SubmitProposal` transaction.
pub fn submit(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    sender: &Principal,
    proposal: &Proposal,
    approvals: &[Approval],
) -> Result<()> {
    if &proposal.proposer != sender {
        return reject(Rejection::ProposerMismatch);
    }
    if proposal.actions.is_empty() {
        return reject(Rejection::EmptyProposal);
    }
    proposal.check_signer_text()?;
    if proposal.expires_at < ctx.height {
        return reject(Rejection::ProposalExpired { expires_at: proposal.expires_at, height: ctx.height });
    }
    let max = ctx.height.plus(params::params(&scope.state)?.max_proposal_lifetime);
    if proposal.expires_at > max {
        return reject(Rejection::ProposalLifetimeTooLong { expires_at: proposal.expires_at, max });
    }
    let id = proposal.id(&ctx.chain);
    if PROPOSALS.contains(&scope.state, &id)? {
        return reject(Rejection::ProposalExists { proposal: id });
    }
    check_proposer(&scope.state, ctx, proposal)?;
    // Every action kind needs a rule before anything is recorded (deny by default), and a proposal whose delay
    // outlasts it could never execute.
    let delay = requirements(&scope.state, ctx, proposal)?.iter().map(|r| r.rule.delay_blocks).max().unwrap_or(0);
    let ready_at = ctx.height.plus(delay);
    if ready_at > proposal.expires_at {
        return reject(Rejection::ProposalExpiresBeforeDelay { ready_at, expires_at: proposal.expires_at });
    }
    let mut record = ProposalRecord {
        proposal: proposal.clone(),
        submitted_at: ctx.height,
        status: ProposalStatus::Pending,
        approvals: BoundedVec::new(),
    };
    scope.emit(Event::ProposalSubmitted { proposal: id, proposer: sender.clone(), expires_at: proposal.expires_at });
    add_approvals(scope, ctx, &id, &mut record, approvals)?;
    PROPOSALS.put(&mut scope.state, &id, &record);
    PROPOSAL_EXPIRY.put(&mut scope.state, &ExpiryKey(proposal.expires_at, id), &());
    try_execute(scope, ctx, &id, record)?;
    Ok(())
}

/// The `Approve` transaction.
pub fn approve(scope: &mut Scope<'_>, ctx: &BlockContext, id: &ProposalId, approvals: &[Approval]) -> Result<()> {
    let mut record = proposal(&scope.state, id)?;
    check_open(ctx, id, &record)?;
    add_approvals(scope, ctx, id, &mut record, approvals)?;
    PROPOSALS.put(&mut scope.state, id, &record);
    if record.status == ProposalStatus::Pending {
        try_execute(scope, ctx, id, record)?;
    }
    Ok(())
}

/// The `RevokeApproval` transaction: the sender withdraws its own approval.
pub fn revoke_approval(scope: &mut Scope<'_>, ctx: &BlockContext, sender: &AccountId, id: &ProposalId) -> Result<()> {
    let mut record = proposal(&scope.state, id)?;
    check_open(ctx, id, &record)?;
    let before = record.approvals.len();
    record.approvals.retain(|a| &a.approver != sender);
    if record.approvals.len() == before {
        return reject(Rejection::NoApprovalToRevoke { approver: sender.clone() });
    }
    PROPOSALS.put(&mut scope.state, id, &record);
    scope.emit(Event::ApprovalRevoked { proposal: *id, approver: sender.clone() });
    Ok(())
}

fn mark_cancelled(scope: &mut Scope<'_>, ctx: &BlockContext, id: &ProposalId, mut record: ProposalRecord) {
    record.status = ProposalStatus::Cancelled { at: ctx.height };
    PROPOSALS.put(&mut scope.state, id, &record);
    scope.emit(Event::ProposalCancelled { proposal: *id });
}

/// The member behind a proposer.
fn proposer_member(store: &dyn Store, proposer: &Principal) -> Result<Option<MemberId>> {
    Ok(match proposer {
        Principal::Account(account) => ACCOUNTS.get(store, account)?.map(|a| a.member),
        Principal::Node(node) => NODES.get(store, node)?.map(|n| n.owner),
    })
}

/// The `CancelProposal` transaction: by the proposer or a governor of the proposer's member.
pub fn cancel(scope: &mut Scope<'_>, ctx: &BlockContext, sender: &AccountId, id: &ProposalId) -> Result<()> {
    let record = proposal(&scope.state, id)?;
    check_open(ctx, id, &record)?;
    let is_proposer = record.proposal.proposer == Principal::Account(sender.clone());
    let is_member_governor = match proposer_member(&scope.state, &record.proposal.proposer)? {
        Some(member) => committee::is_governor_of(&scope.state, sender, &member)?,
        None => false,
    };
    if !is_proposer && !is_member_governor {
        return reject(Rejection::NotProposerMember);
    }
    mark_cancelled(scope, ctx, id, record);
    Ok(())
}

/// The `CancelProposal` action: the committee cancels another pending proposal.
pub fn cancel_by_committee(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    this: &ProposalContext,
    target: &ProposalId,
) -> Result<()> {
    if target == &this.id {
        return reject(Rejection::ProposalNotPending { proposal: *target });
    }
    let record = proposal(&scope.state, target)?;
    check_open(ctx, target, &record)?;
    mark_cancelled(scope, ctx, target, record);
    Ok(())
}

/// The `ExecuteProposal` transaction.
pub fn execute(scope: &mut Scope<'_>, ctx: &BlockContext, id: &ProposalId) -> Result<()> {
    let record = proposal(&scope.state, id)?;
    check_open(ctx, id, &record)?;
    match try_execute(scope, ctx, id, record)? {
        Attempt::NotMet(kind) => reject(Rejection::ApprovalsInsufficient { kind }),
        Attempt::Waiting(ready_at) => reject(Rejection::DelayNotElapsed { ready_at }),
        Attempt::Executed | Attempt::Failed(_) => Ok(()),
    }
}

/// Forgets proposals whose last valid height was `height - 1`.
pub fn prune_expired(scope: &mut Scope<'_>, height: Height) -> Result<()> {
    let Some(last) = height.0.checked_sub(1) else { return Ok(()) };
    for (key, ()) in PROPOSAL_EXPIRY.scan(&scope.state, &last.to_be_bytes())? {
        PROPOSALS.delete(&mut scope.state, &key.1);
        PROPOSAL_EXPIRY.delete(&mut scope.state, &key);
    }
    Ok(())
}

/// What a proposal would do if its approvals were complete now: its receipt (events, or the named failure) and
/// the rules it needs, with their delays. Writes nothing.
#[derive(Debug, Clone)]
pub struct DryRun {
    /// The receipt the execution would produce (its `tx` is the proposal id's digest).
    pub receipt: Receipt,
    /// The rules it needs (sealer concentration included when the simulation shows it).
    pub requirements: Vec<(ActionKind, Rule)>,
}

/// Simulates `proposal` against `store` as if applied in block `ctx.height` with all approvals in place.
pub fn dry_run(store: &dyn Store, ctx: &BlockContext, proposal: &Proposal) -> Result<DryRun> {
    let id = proposal.id(&ctx.chain);
    let mut reqs: Vec<(ActionKind, Rule)> = Vec::new();
    let mut scope = Scope::new(store);
    let outcome = match requirements(store, ctx, proposal) {
        Err(Error::Rejected(reason)) => Err(reason),
        Err(fatal) => return Err(fatal),
        Ok(found) => {
            reqs.extend(found.into_iter().map(|r| (r.kind, r.rule)));
            let pctx = ProposalContext { id, proposer: proposal.proposer.clone() };
            match run_actions(&mut scope, ctx, &pctx, proposal) {
                Ok(concentrated) => {
                    if concentrated {
                        let kind = ActionKind::SealerConcentration;
                        reqs.push((kind, policy::rule_for(store, kind)?));
                    }
                    Ok(())
                }
                Err(Error::Rejected(reason)) => Err(reason),
                Err(fatal) => return Err(fatal),
            }
        }
    };
    let (_, events) = scope.into_parts();
    let receipt = match outcome {
        Ok(()) => Receipt { tx: TxHash(id.0), outcome: Outcome::Applied, events },
        Err(reason) => Receipt { tx: TxHash(id.0), outcome: Outcome::Rejected { reason }, events: Vec::new() },
    };
    Ok(DryRun { receipt, requirements: reqs })
}

/// Who else could still approve for one requirement: a member (weight rules, target-governor rules) with its
/// governors, who count for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The member.
    pub member: MemberId,
    /// Its voting weight.
    pub weight: crate::ids::Weight,
    /// Its governors (any one of them approves for it).
    pub governors: Vec<AccountId>,
}

/// How far a pending proposal is from meeting one of its requirements, for consoles to show progress and a
/// forecast.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequirementTally {
    /// The action kind the requirement is for.
    pub kind: ActionKind,
    /// Its rule.
    pub rule: Rule,
    /// The member the action targets.
    pub target: Option<MemberId>,
    /// Whether the approvals that count now meet it.
    pub met: bool,
    /// Weight rules: the approving members' weight.
    pub approved_weight: u64,
    /// Weight rules: the weight of every seated (not expelled) member, suspended ones included: the denominator.
    pub seated_weight: u64,
    /// The approvals that count for it.
    pub counted: Vec<AccountId>,
    /// Members whose governors' approval would still add to it (weight and target-governor rules), heaviest first.
    pub candidates: Vec<Candidate>,
}

/// The tally of every requirement of a recorded proposal against the approvals that count now.
pub fn tally(store: &dyn Store, ctx: &BlockContext, record: &ProposalRecord) -> Result<Vec<RequirementTally>> {
    let counted = counted_approvals(store, record)?;
    requirements(store, ctx, &record.proposal)?.into_iter().map(|req| judge(store, ctx, req, &counted)).collect()
}

/// How `req` stands against the approvals `counted` (its excluded account's left out), with the members who could
/// still approve for it.
fn judge(
    store: &dyn Store,
    ctx: &BlockContext,
    req: Requirement,
    counted: &[policy::CountedApproval],
) -> Result<RequirementTally> {
    let (judged, usable) = weigh(store, ctx, &req, counted)?;
    let mut candidates = Vec::new();
    match &req.rule.requirement {
        crate::types::Requirement::Weight { exclude_target, .. } => {
            let silenced = if *exclude_target { req.target.as_ref() } else { None };
            let approving: std::collections::BTreeSet<&MemberId> =
                usable.iter().filter(|a| a.governor).map(|a| &a.member).collect();
            for (id, member) in committee::active_members(store)? {
                if Some(&id) == silenced || approving.contains(&id) {
                    continue;
                }
                candidates.push(Candidate {
                    member: id,
                    weight: member.weight,
                    governors: member.governors.iter().cloned().collect(),
                });
            }
            candidates.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.member.cmp(&b.member)));
        }
        crate::types::Requirement::TargetGovernor => {
            if let Some(target) = &req.target
                && !judged.met
                && let Some(member) = MEMBERS.get(store, target)?
            {
                candidates.push(Candidate {
                    member: target.clone(),
                    weight: member.weight,
                    governors: member.governors.iter().cloned().collect(),
                });
            }
        }
        crate::types::Requirement::Role { .. } => {}
    }
    Ok(RequirementTally {
        kind: judged.kind,
        rule: judged.rule,
        target: judged.target,
        met: judged.met,
        approved_weight: judged.approved_weight,
        seated_weight: judged.seated_weight,
        counted: usable.iter().map(|a| a.account.clone()).collect(),
        candidates,
    })
}

/// Whether `req` is met by the approvals `counted` (its excluded account's left out) and, for a weight rule, the
/// approving and seated weight; with the approvals that count for it.
fn weigh(
    store: &dyn Store,
    ctx: &BlockContext,
    req: &Requirement,
    counted: &[policy::CountedApproval],
) -> Result<(JudgedRequirement, Vec<policy::CountedApproval>)> {
    let usable: Vec<policy::CountedApproval> =
        counted.iter().filter(|a| Some(&a.account) != req.excluded.as_ref()).cloned().collect();
    let met = policy::requirement_met(store, ctx, &req.rule, req.target.as_ref(), &usable)?;
    let (approved_weight, seated_weight) = match &req.rule.requirement {
        crate::types::Requirement::Weight { exclude_target, .. } => {
            policy::weight_tally(store, &usable, if *exclude_target { req.target.as_ref() } else { None })?
        }
        _ => (0, 0),
    };
    let judged = JudgedRequirement {
        kind: req.kind,
        rule: req.rule.clone(),
        target: req.target.clone(),
        met,
        approved_weight,
        seated_weight,
    };
    Ok((judged, usable))
}

/// The record of how a proposal closing now is judged: the approvals that count, with their members' weight, and
/// every requirement as measured.
fn verdict(
    store: &dyn Store,
    ctx: &BlockContext,
    reqs: &[Requirement],
    counted: &[policy::CountedApproval],
) -> Result<Verdict> {
    let mut approvals = Vec::with_capacity(counted.len());
    for approval in counted {
        let weight = MEMBERS.get(store, &approval.member)?.map_or(crate::ids::Weight(0), |m| m.weight);
        approvals.push(CountedVote {
            account: approval.account.clone(),
            member: approval.member.clone(),
            governor: approval.governor,
            weight,
        });
    }
    let mut requirements = Vec::with_capacity(reqs.len());
    for req in reqs {
        requirements.push(weigh(store, ctx, req, counted)?.0);
    }
    Ok(Verdict { approvals, requirements })
}
