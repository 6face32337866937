//! Proposals: the list from the console's mirror, one proposal live from the node, and the overview's extras.

use axum::http::StatusCode;
use governance_contracts::types::Outcome;
use governance_contracts::{codec, ids::ProposalId, state::records::ProposalStatus};
use leptos::prelude::*;

use crate::server::actions::refuse;

use crate::{
    api::{AuditRowView, Extras, HistoryRow, ProposalInfo, ProposalPage, ProposalRow, TallyView, VerdictView},
    server::{
        actions::{require_reader, require_session},
        audit::{self, AuditEntry, AuditFilter},
        auth::current_session,
        db::{MirroredProposal, PageRequest, ProposalFilter, ProposalKey, ProposalState},
        node,
        state::AppState,
    },
};

/// Rows per page of the proposal list.
const PAGE: u32 = 50;

/// The state of a proposal whose node status is `status` (`None` once pruned from state) once the chain has
/// finalised `height`: the API's own rule ([`ProposalState::at`]); a pruned proposal past its expiry is `expired`.
pub fn state_of(status: Option<&ProposalStatus>, expires_at: u64, height: u64) -> ProposalState {
    let (expires_at, height) =
        (governance_contracts::ids::Height(expires_at), governance_contracts::ids::Height(height));
    ProposalState::at(status.unwrap_or(&ProposalStatus::Pending), expires_at, height)
}

/// The mirror row for a node's answer about a proposal.
pub fn mirror_of(detail: &node::ProposalDetail, height: u64) -> Option<MirroredProposal> {
    let proposal = detail.proposal.as_ref()?;
    let weight = detail.tally.as_ref().and_then(|t| t.iter().find(|r| r.seated_weight > 0));
    Some(MirroredProposal {
        id: hex::encode(detail.id.0.as_bytes()),
        title: proposal.title.to_string(),
        status: state_of(detail.status.as_ref(), proposal.expires_at.0, height),
        proposer: match &proposal.proposer {
            governance_contracts::types::Principal::Account(a) => a.to_string(),
            governance_contracts::types::Principal::Node(n) => n.to_string(),
        },
        kinds: proposal.actions.iter().map(crate::server::drafts::action_kind).collect(),
        submitted_height: detail.submitted_at.map_or(0, |h| h.0),
        expires_at: proposal.expires_at.0,
        approved_weight: weight.map_or(0, |w| w.approved_weight),
        required_weight: weight.map_or(0, |w| w.seated_weight),
        updated_height: height,
        detail: serde_json::to_string(&detail.approvals.iter().map(|a| a.approver.to_string()).collect::<Vec<_>>())
            .unwrap_or_default(),
    })
}

fn row(p: MirroredProposal) -> ProposalRow {
    ProposalRow {
        id: format!("sha256:{}", p.id),
        title: p.title,
        status: p.status,
        proposer: p.proposer,
        kinds: p.kinds.join(", "),
        expires_at: p.expires_at,
    }
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A page of the proposal list.
pub async fn list(status: &str, kind: &str, text: &str, after: &str) -> Result<ProposalPage, ServerFnError> {
    let state = AppState::get()?;
    require_reader(&state)?;
    let bad = |e: String| refuse(StatusCode::BAD_REQUEST, e);
    let filter = ProposalFilter {
        status: optional(status)
            .map(|s| s.parse())
            .transpose()
            .map_err(|e: api_types::UnknownStatus| bad(e.to_string()))?,
        kind: optional(kind),
        proposer: None,
        text: optional(text),
    };
    let page = match optional(after) {
        None => PageRequest::first(PAGE),
        Some(cursor) => PageRequest::after(cursor.parse::<ProposalKey>().map_err(|e| bad(e.to_string()))?, PAGE),
    };
    let page = state.db.list_proposals(&filter, &page).await.map_err(|e| bad(e.to_string()))?;
    Ok(ProposalPage { rows: page.items.into_iter().map(row).collect(), next: page.next.map(|k| k.to_string()) })
}

/// A requirement's view from the contracts' figures; `candidates` is empty for a closed proposal.
fn tally_view(
    kind: governance_contracts::types::ActionKind,
    rule: governance_contracts::types::Rule,
    met: bool,
    (approved_weight, seated_weight): (u64, u64),
    candidates: Vec<(String, u64, Vec<String>)>,
) -> TallyView {
    let fraction = match rule.requirement {
        governance_contracts::types::Requirement::Weight { numerator, denominator, .. } => {
            Some((numerator, denominator))
        }
        _ => None,
    };
    TallyView { kind, rule, met, approved_weight, seated_weight, fraction, candidates }
}

/// How the node's answer says a closed proposal was judged, from the receipt that closed it.
fn verdict_view(answer: &node::ProposalDetail) -> Option<VerdictView> {
    let (height, verdict) = answer.verdict()?;
    Some(VerdictView {
        height: height.0,
        approvals: verdict.approvals.clone(),
        requirements: verdict
            .requirements
            .iter()
            .map(|r| tally_view(r.kind, r.rule.clone(), r.met, (r.approved_weight, r.seated_weight), Vec::new()))
            .collect(),
    })
}

/// Every transaction about proposal `id`, with what it did to it.
fn history(answer: &node::ProposalDetail) -> Vec<HistoryRow> {
    answer
        .receipts
        .iter()
        .map(|r| HistoryRow {
            height: r.height.0,
            tx: r.hash.to_string(),
            rejected: match &r.receipt.outcome {
                Outcome::Applied => None,
                Outcome::Rejected { reason } => Some(reason.clone()),
            },
            events: r.receipt.events.iter().filter(|e| e.proposal() == Some(&answer.id)).cloned().collect(),
        })
        .collect()
}

/// One proposal, live from the node. An open proposal comes with its tally against the approvals that count now;
/// a closed one with the verdict of the block that closed it, never re-judged against a later state.
pub async fn detail(id: &str) -> Result<ProposalInfo, ServerFnError> {
    let state = AppState::get()?;
    require_reader(&state)?;
    let id: ProposalId =
        id.parse().map_err(|_| refuse(StatusCode::BAD_REQUEST, "that is not a proposal id (sha256:…)"))?;
    let answer = state
        .node
        .proposal(&id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("the chain has no proposal {id}")))?;
    let height = state.snapshot().height.0;
    let status =
        state_of(answer.status.as_ref(), answer.proposal.as_ref().map_or(u64::MAX, |p| p.expires_at.0), height);
    let tally = if status.is_closed() {
        Vec::new()
    } else {
        answer
            .tally
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let candidates = t
                    .candidates
                    .iter()
                    .map(|c| (c.member.to_string(), c.weight.0, c.governors.iter().map(ToString::to_string).collect()))
                    .collect();
                tally_view(t.kind, t.rule, t.met, (t.approved_weight, t.seated_weight), candidates)
            })
            .collect()
    };
    if let Some(mirror) = mirror_of(&answer, height) {
        state.db.upsert_proposal(&mirror).await.ok();
    }
    Ok(ProposalInfo {
        id: id.to_string(),
        proposal_hex: answer.proposal.as_ref().map(|p| hex::encode(codec::encode(p))),
        status,
        submitted_at: answer.submitted_at.map_or(0, |h| h.0),
        expires_at: answer.proposal.as_ref().map_or(0, |p| p.expires_at.0),
        height,
        ready_at: match answer.status {
            Some(ProposalStatus::Queued { ready_at }) => Some(ready_at.0),
            _ => None,
        },
        failure: match &answer.status {
            Some(ProposalStatus::Failed { reason, .. }) => Some(reason.clone()),
            _ => None,
        },
        approvals: answer.approvals.iter().map(|a| (a.approver.to_string(), a.key.to_string())).collect(),
        tally,
        verdict: verdict_view(&answer),
        history: history(&answer),
    })
}

/// An audit row for pages.
pub fn audit_row(e: AuditEntry) -> AuditRowView {
    AuditRowView {
        seq: i64::try_from(e.seq).unwrap_or(i64::MAX),
        at_ms: e.at_ms,
        actor: e.actor,
        kind: e.kind,
        subject: e.subject,
        detail: e.detail,
        hash: e.hash,
    }
}

/// Proposals needing my member's approval, recent events and node health.
pub async fn overview_extras() -> Result<Extras, ServerFnError> {
    let state = AppState::get()?;
    let reader = require_reader(&state)?;
    let snapshot = state.snapshot();
    // The console's node URLs are its own infrastructure: only signed-in users see them.
    let node_health = snapshot
        .node_health
        .iter()
        .filter(|_| reader.is_some())
        .map(|h| {
            let what = match (&h.height, &h.error) {
                (_, Some(error)) => error.clone(),
                // The page says "height" in the reader's language.
                (Some(height), None) => height.to_string(),
                (None, None) => String::new(),
            };
            (h.url.clone(), h.ok, what)
        })
        .collect();
    let mut needs_my_approval = Vec::new();
    let mut recent = Vec::new();
    if let Some(session) = current_session()
        && let Ok((_, identity)) = require_session(&state)
    {
        if identity.governor {
            let governors: Vec<String> = snapshot
                .members
                .iter()
                .find(|m| m.id.to_string() == identity.member)
                .map(|m| m.record.governors.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            let filter = ProposalFilter { status: Some(ProposalState::Pending), ..ProposalFilter::default() };
            let page = state
                .db
                .list_proposals(&filter, &PageRequest::first(50))
                .await
                .map_err(|e| ServerFnError::new(e.to_string()))?;
            for p in page.items {
                let approvers: Vec<String> = serde_json::from_str(&p.detail).unwrap_or_default();
                if p.expires_at >= snapshot.height.0 && !approvers.iter().any(|a| governors.contains(a)) {
                    needs_my_approval.push(row(p));
                }
            }
        }
        let _ = session;
        let page = audit::list(&state.db, &AuditFilter::default(), &PageRequest::first(10))
            .await
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        recent = page.items.into_iter().map(audit_row).collect();
    }
    Ok(Extras { needs_my_approval, recent, node_health })
}
