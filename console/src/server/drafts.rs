//! Drafting proposals: every form's actions are checked here, whoever sent them, and a refused draft says why.

use axum::http::StatusCode;
use governance_contracts::{
    codec::{self, BoundedString, BoundedVec},
    ids::Height,
    types::{Action, Principal, Proposal},
};
use leptos::prelude::*;

use crate::server::actions::refuse;

use crate::{
    api::Identity,
    api::{DraftView, DryRunView},
    model::ChainSnapshot,
    server::{
        actions::require_session,
        audit::AuditKind,
        auth::{now_ms, record},
        db::{Draft, DraftFilter, DraftStatus, NewDraft, PageRequest},
        state::AppState,
    },
};

/// The largest actions document a form may send.
const MAX_ACTIONS_JSON: usize = 256 * 1024;

/// An action's kind, as lists and filters name it (`admit_member`, ...).
pub fn action_kind(action: &Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.get("action").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Whether `identity` may draft `action`: governors draft anything; compliance staff grant and revoke the roles the
/// committee made delegable and freeze and unfreeze accounts; operators relay their nodes' key rotations.
pub fn may_draft(identity: &Identity, snapshot: &ChainSnapshot, action: &Action) -> Result<(), String> {
    if identity.governor {
        return Ok(());
    }
    let compliance = identity.roles.iter().any(|r| r == "compliance");
    let delegable = |role: &governance_contracts::ids::RoleId| {
        snapshot.roles.iter().find(|r| &r.id == role).is_some_and(|r| r.definition.delegable)
    };
    match action {
        Action::GrantRole { role, .. } | Action::RevokeRole { role, .. } if compliance => {
            if delegable(role) {
                Ok(())
            } else {
                Err(format!(
                    "compliance staff grant and revoke only the roles the committee made delegable: `{role}` is not"
                ))
            }
        }
        Action::FreezeAccount { .. } | Action::UnfreezeAccount { .. } if compliance => Ok(()),
        other => Err(format!("only a governor drafts `{}`", action_kind(other))),
    }
}

fn to_view(draft: Draft) -> DraftView {
    DraftView {
        id: draft.id,
        proposal_hex: draft.proposal_hex,
        proposal_id: format!("sha256:{}", draft.proposal_id),
        title: draft.title,
        status: draft.status.as_str().to_owned(),
        author: draft.author,
    }
}

/// Checks the actions and stores a new draft.
pub async fn create(title: &str, description: &str, actions_json: &str) -> Result<i64, ServerFnError> {
    let state = AppState::get()?;
    let (session, identity) = require_session(&state)?;
    if identity.read_only {
        return Err(refuse(StatusCode::FORBIDDEN, "your account may only read"));
    }
    let bad = |why: String| refuse(StatusCode::BAD_REQUEST, why);
    if actions_json.len() > MAX_ACTIONS_JSON {
        return Err(bad("the actions are too large".to_owned()));
    }
    let actions: Vec<Action> =
        serde_json::from_str(actions_json).map_err(|e| bad(format!("the actions are not valid: {e}")))?;
    if actions.is_empty() {
        return Err(bad("a proposal needs at least one action".to_owned()));
    }
    let snapshot = state.snapshot();
    for action in &actions {
        may_draft(&identity, &snapshot, action).map_err(bad)?;
    }
    let title_text = if title.trim().is_empty() { "Untitled proposal" } else { title.trim() };
    let lifetime = snapshot.params.as_ref().map_or(0, |p| p.max_proposal_lifetime);
    if lifetime == 0 || snapshot.stale {
        return Err(bad("the chain's parameters are not known yet (no node answers): try again shortly".to_owned()));
    }
    let mut salt = [0_u8; 8];
    getrandom::fill(&mut salt).map_err(|e| bad(format!("no randomness: {e}")))?;
    let proposal = Proposal {
        proposer: Principal::Account(session.account.parse().map_err(|_| bad("bad account id".to_owned()))?),
        title: BoundedString::try_new(title_text).map_err(|_| bad("the title is longer than 160 bytes".to_owned()))?,
        description: BoundedString::try_new(description.trim())
            .map_err(|_| bad("the description is longer than 4096 bytes".to_owned()))?,
        actions: BoundedVec::try_new(actions.clone())
            .map_err(|_| bad("a proposal holds at most 32 actions".to_owned()))?,
        expires_at: Height(snapshot.height.0.saturating_add(lifetime)),
        salt: u64::from_le_bytes(salt),
    };
    let id = proposal.id(&state.chain);
    let new = NewDraft {
        proposal_hex: hex::encode(codec::encode(&proposal)),
        proposal_id: hex::encode(id.0.as_bytes()),
        title: title_text.to_owned(),
        kinds: actions.iter().map(action_kind).collect(),
        author: session.account.clone(),
    };
    let draft = state.db.create_draft(&new, now_ms()).await.map_err(|e| bad(e.to_string()))?;
    record(
        &state,
        &session.account,
        AuditKind::DraftCreated,
        &id.to_string(),
        serde_json::json!({ "draft": draft.id, "title": new.title }),
    )
    .await;
    Ok(draft.id)
}

/// A draft by id (any signed-in account of this console may read the workspace's drafts).
pub async fn get(id: i64) -> Result<DraftView, ServerFnError> {
    let state = AppState::get()?;
    require_session(&state)?;
    let draft = state.db.get_draft(id).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    draft.map(to_view).ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("there is no draft #{id}")))
}

/// Open drafts, newest first.
pub async fn open() -> Result<Vec<DraftView>, ServerFnError> {
    let state = AppState::get()?;
    if crate::server::auth::current_session().is_none() {
        return Ok(Vec::new());
    }
    let filter = DraftFilter { status: Some(DraftStatus::Draft), author: None };
    let page =
        state.db.list_drafts(&filter, &PageRequest::first(50)).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(page.items.into_iter().map(to_view).collect())
}

/// Marks a draft submitted: only its author may, with an account that may write (the proposal names the author
/// as its proposer, so nobody else could have submitted it); the change is audited.
pub async fn mark_submitted(id: i64, tx_hash: &str) -> Result<(), ServerFnError> {
    let state = AppState::get()?;
    let (session, identity) = require_session(&state)?;
    if identity.read_only {
        return Err(refuse(StatusCode::FORBIDDEN, "your account may only read"));
    }
    let not_a_hash = || refuse(StatusCode::BAD_REQUEST, "that is not a transaction hash");
    if tx_hash.len() > 80 {
        return Err(not_a_hash());
    }
    let tagged = if tx_hash.starts_with("sha256:") { tx_hash.to_owned() } else { format!("sha256:{tx_hash}") };
    let hash: governance_contracts::ids::TxHash = tagged.parse().map_err(|_| not_a_hash())?;
    let draft = state
        .db
        .get_draft(id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("there is no draft #{id}")))?;
    if draft.author != session.account {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!("draft #{id} is {}'s: only its author marks it submitted", draft.author),
        ));
    }
    let hex = hex::encode(hash.0.as_bytes());
    state.db.mark_draft_submitted(id, &hex, now_ms()).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    record(
        &state,
        &session.account,
        AuditKind::DraftSubmitted,
        &format!("sha256:{}", draft.proposal_id),
        serde_json::json!({ "draft": id, "tx": hash.to_string() }),
    )
    .await;
    Ok(())
}

/// Dry-runs a proposal on the node.
pub async fn dry_run(proposal_hex: &str) -> Result<DryRunView, ServerFnError> {
    let state = AppState::get()?;
    let (session, _) = require_session(&state)?;
    let proposal = crate::wysiwys::decode_proposal(proposal_hex)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e.text(session.lang)))?;
    let run = state.node.dry_run(&proposal).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    let applies = matches!(run.receipt.outcome, governance_contracts::types::Outcome::Applied)
        && !run.receipt.events.iter().any(|e| matches!(e, governance_contracts::types::Event::ProposalFailed { .. }));
    let requirements = run.requirements.into_iter().map(|r| (r.kind, r.rule)).collect();
    Ok(DryRunView { applies, outcome: run.receipt.outcome, events: run.receipt.events, requirements })
}
