//! Webhooks: "needs your approval" and "expires soon", posted to the URLs an organisation's governors registered.
//!
//! After every block the console looks at the open proposals in its mirror (the newest [`SCAN`]) and, for each
//! webhook, finds the ones its member has not approved (no approval by any of the member's governors): each is
//! announced once as `needs_approval`, and once more as `expires_soon` when at most the configured number of blocks
//! remain. A notice is a JSON POST ([`Notice`]) with a short timeout; an answer other than 2xx is retried on later
//! blocks, up to [`MAX_ATTEMPTS`] times in all. What was sent is kept in SQLite, so a restart does not repeat it.
//!
//! Notices carry only what the chain already shows every member (ids, titles, kinds, heights, weights), never a key
//! or a session. Only governors register webhooks, and only `http(s)` URLs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::server::{
    auth::now_ms,
    db::{MirroredProposal, PageRequest, ProposalFilter, ProposalState, Webhook},
    state::AppState,
};

/// The event sent when a proposal is open and the webhook's member has not approved it.
pub const NEEDS_APPROVAL: &str = "needs_approval";
/// The event sent when such a proposal has few blocks left.
pub const EXPIRES_SOON: &str = "expires_soon";
/// Every event a webhook may ask for.
pub const EVENTS: [&str; 2] = [NEEDS_APPROVAL, EXPIRES_SOON];
/// The most attempts per notice.
pub const MAX_ATTEMPTS: i64 = 5;
/// How many of the newest open proposals each pass looks at.
pub const SCAN: u32 = 200;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One notice, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `needs_approval` or `expires_soon`.
    pub event: String,
    /// The chain's id.
    pub chain_id: String,
    /// The member whose approval is missing.
    pub member: String,
    /// The proposal (`sha256:<hex>`).
    pub proposal: String,
    /// Its title.
    pub title: String,
    /// Its action kinds.
    pub kinds: Vec<String>,
    /// The last height at which it may be approved.
    pub expires_at: u64,
    /// The chain's height when the notice was made.
    pub height: u64,
    /// Blocks left before it expires.
    pub blocks_left: u64,
    /// Where to open it in this console.
    pub url: String,
}

/// The notices due now for `hook`: for each open, unexpired proposal of `open` its member has not approved, a
/// `needs_approval` notice, and an `expires_soon` notice once at most `warning_blocks` remain; only the events the
/// hook asked for. Pure: whether one was already sent is the caller's business.
pub fn due(
    state: &AppState,
    hook: &Webhook,
    open: &[MirroredProposal],
    height: u64,
    warning_blocks: u64,
) -> Vec<(String, Notice)> {
    let snapshot = state.snapshot();
    let governors: Vec<String> = snapshot
        .members
        .iter()
        .find(|member| member.id.to_string() == hook.member)
        .map(|member| member.record.governors.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let mut notices = Vec::new();
    for proposal in open {
        if proposal.status != ProposalState::Open || proposal.expires_at < height {
            continue;
        }
        let approvers: Vec<String> = serde_json::from_str(&proposal.detail).unwrap_or_default();
        if approvers.iter().any(|approver| governors.contains(approver)) {
            continue;
        }
        let blocks_left = proposal.expires_at.saturating_sub(height);
        let notice = |event: &str| Notice {
            event: event.to_owned(),
            chain_id: state.chain.chain_id.to_string(),
            member: hook.member.clone(),
            proposal: format!("sha256:{}", proposal.id),
            title: proposal.title.clone(),
            kinds: proposal.kinds.clone(),
            expires_at: proposal.expires_at,
            height,
            blocks_left,
            url: format!("{}/proposals/sha256:{}", state.origin, proposal.id),
        };
        if hook.events.iter().any(|e| e == NEEDS_APPROVAL) {
            notices.push((proposal.id.clone(), notice(NEEDS_APPROVAL)));
        }
        if blocks_left <= warning_blocks && hook.events.iter().any(|e| e == EXPIRES_SOON) {
            notices.push((proposal.id.clone(), notice(EXPIRES_SOON)));
        }
    }
    notices
}

/// One pass: sends every due notice not yet acknowledged and not out of attempts. Returns how many were
/// acknowledged in this pass.
pub async fn dispatch_once(state: &AppState, client: &reqwest::Client, warning_blocks: u64) -> anyhow::Result<usize> {
    let hooks = state.db.list_webhooks().await?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let height = state.snapshot().height.0;
    let filter = ProposalFilter { status: Some(ProposalState::Open), ..ProposalFilter::default() };
    let open = state.db.list_proposals(&filter, &PageRequest::first(SCAN)).await?.items;
    let mut acknowledged = 0_usize;
    for hook in &hooks {
        for (proposal, notice) in due(state, hook, &open, height, warning_blocks) {
            let sent = state.db.delivery(hook.id, &notice.event, &proposal).await?;
            if sent.is_some_and(|s| s.delivered || s.attempts >= MAX_ATTEMPTS) {
                continue;
            }
            let ok = match client.post(&hook.url).timeout(TIMEOUT).json(&notice).send().await {
                Ok(response) if response.status().is_success() => true,
                Ok(response) => {
                    tracing::warn!(url = %hook.url, status = %response.status(), event = %notice.event, "webhook refused the notice");
                    false
                }
                Err(error) => {
                    tracing::warn!(url = %hook.url, %error, event = %notice.event, "webhook unreachable");
                    false
                }
            };
            state.db.record_delivery(hook.id, &notice.event, &proposal, ok, now_ms()).await?;
            if ok {
                acknowledged = acknowledged.saturating_add(1);
            }
        }
    }
    Ok(acknowledged)
}

/// The HTTP client notices are sent with: no redirects followed (a receiver cannot bounce the console elsewhere).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(TIMEOUT).build()?)
}

/// Runs a pass after every block the console hears of.
pub fn spawn(state: AppState, warning_blocks: u64) -> anyhow::Result<()> {
    let client = client()?;
    tokio::spawn(async move {
        let mut events = state.live.subscribe();
        loop {
            match events.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
            if let Err(error) = dispatch_once(&state, &client, warning_blocks).await {
                tracing::warn!(%error, "webhooks: a pass failed");
            }
        }
    });
    Ok(())
}

/// The governor signed in, or why they may not manage webhooks.
fn governor(state: &AppState) -> Result<crate::api::Identity, leptos::prelude::ServerFnError> {
    let (_, identity) = crate::server::actions::require_session(state)?;
    if identity.governor && !identity.read_only {
        Ok(identity)
    } else {
        Err(leptos::prelude::ServerFnError::new("only a member's governors manage webhooks"))
    }
}

/// The webhooks of this console.
pub async fn list() -> Result<Vec<Webhook>, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    governor(&state)?;
    state.db.list_webhooks().await.map_err(|e| leptos::prelude::ServerFnError::new(e.to_string()))
}

/// Registers `url` for `events` (comma-separated) on behalf of the signed-in governor's member.
pub async fn add(url: &str, events: &str) -> Result<Webhook, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    let identity = governor(&state)?;
    let events: Vec<String> = events.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect();
    if let Some(unknown) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(leptos::prelude::ServerFnError::new(format!(
            "`{unknown}` is not an event; choose from {}",
            EVENTS.join(", ")
        )));
    }
    let hook = state
        .db
        .add_webhook(url.trim(), &events, &identity.member, now_ms())
        .await
        .map_err(|e| leptos::prelude::ServerFnError::new(e.to_string()))?;
    let detail = serde_json::json!({ "webhook": hook.id, "url": hook.url, "events": hook.events, "added": true });
    record_change(&state, &identity.account, detail).await;
    Ok(hook)
}

/// Writes a change to the webhooks into the audit trail.
async fn record_change(state: &AppState, account: &str, detail: serde_json::Value) {
    crate::server::auth::record(state, account, crate::server::audit::AuditKind::Settings, "webhooks", detail).await;
}

/// Removes webhook `id`.
pub async fn remove(id: i64) -> Result<bool, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    let identity = governor(&state)?;
    let removed = state.db.remove_webhook(id).await.map_err(|e| leptos::prelude::ServerFnError::new(e.to_string()))?;
    let detail = serde_json::json!({ "webhook": id, "removed": removed });
    record_change(&state, &identity.account, detail).await;
    Ok(removed)
}
