//! Webhooks: "needs your approval" and "expires soon", posted to the URLs an organisation's governors registered.
//!
//! After every block the console looks at the open proposals in its mirror (the newest [`SCAN`]) and, for each
//! webhook, finds the ones its member has not approved (no approval by any of the member's governors): each is
//! announced once as `needs_approval`, and once more as `expires_soon` when at most the configured number of blocks
//! remain. A notice is a JSON POST ([`Notice`]) with a short timeout; an answer other than 2xx is retried on later
//! blocks, up to [`MAX_ATTEMPTS`] times in all. What was sent is kept in SQLite, so a restart does not repeat it.
//!
//! Notices carry only what the chain already shows every member (ids, titles, kinds, heights, weights), never a key
//! or a session. A webhook belongs to the member of the governor who registered it: only that member's governors
//! see and remove it.
//!
//! A webhook reaches only public addresses, and the networks the operator allowed with `--webhook-allow`
//! ([`TargetPolicy`]); never loopback, private, link-local or unspecified ones by default, so a governor cannot
//! point the console at services inside its network. The check is made on the address actually connected to: the
//! notice client resolves names with [`CheckedResolver`], which refuses a name if any of its addresses is not
//! permitted and hands the HTTP client only the addresses it checked, so a name that resolves elsewhere between
//! registration and delivery (DNS rebinding) gains nothing; an address written in the URL is checked before
//! sending ([`check_target`]). No proxy is used and no redirect is followed. Registration checks the same way, so a
//! refused target is reported to the governor at once.

use std::{net::IpAddr, sync::Arc, time::Duration};

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::server::{
    auth::now_ms,
    db::{MirroredProposal, PageRequest, ProposalFilter, ProposalState, Webhook},
    net::TargetPolicy,
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
        if proposal.status != ProposalState::Pending || proposal.expires_at < height {
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

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    /// Not an absolute `http://` or `https://` URL with a host.
    #[error("a webhook URL must be an http:// or https:// URL with a host")]
    NotHttp,
    /// The URL carries a user name or password.
    #[error("a webhook URL must not carry credentials")]
    Credentials,
    /// An address (written or resolved) outside what the console may reach.
    #[error(
        "{address} is not a public address and not in a network the operator allowed (--webhook-allow): the console \
         does not send notices there"
    )]
    Address {
        /// The address refused.
        address: IpAddr,
    },
    /// The name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Unresolved {
        /// The host name.
        host: String,
        /// Why.
        reason: String,
    },
}

/// Checks what can be checked of `url` without resolving: an `http(s)` URL with a host and no credentials, whose
/// host, when it is an address, `policy` permits. Returns the URL parsed.
pub fn check_target(url: &str, policy: &TargetPolicy) -> Result<Url, TargetRefused> {
    let parsed = Url::parse(url).map_err(|_| TargetRefused::NotHttp)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetRefused::NotHttp);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetRefused::Credentials);
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TargetRefused::NotHttp);
    }
    if let Some(address) = literal_address(&parsed)
        && !policy.permits(address)
    {
        return Err(TargetRefused::Address { address });
    }
    Ok(parsed)
}

/// The address `url` names as its host, when it names one rather than a domain (the URL parser has already
/// normalised every spelling of an IPv4 address, such as `0x7f.1`, to dotted decimal).
fn literal_address(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).parse().ok()
}

/// Resolves `host` and checks every address it resolves to; returns them all, or the first refused.
pub async fn resolve_checked(host: &str, policy: &TargetPolicy) -> Result<Vec<std::net::SocketAddr>, TargetRefused> {
    let unresolved = |reason: String| TargetRefused::Unresolved { host: host.to_owned(), reason };
    let found = tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| unresolved("no answer in time".to_owned()))?
        .map_err(|e| unresolved(e.to_string()))?;
    let addresses: Vec<std::net::SocketAddr> = found.collect();
    if addresses.is_empty() {
        return Err(unresolved("no addresses".to_owned()));
    }
    if let Some(refused) = addresses.iter().find(|a| !policy.permits(a.ip())) {
        return Err(TargetRefused::Address { address: refused.ip() });
    }
    Ok(addresses)
}

/// The notice client's resolver: a name resolves only if every address it has is permitted, and the client then
/// connects to exactly those addresses.
#[derive(Debug, Clone)]
pub struct CheckedResolver {
    policy: TargetPolicy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let addresses = resolve_checked(name.as_str(), &policy).await?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// One pass: sends every due notice not yet acknowledged and not out of attempts. Returns how many were
/// acknowledged in this pass.
pub async fn dispatch_once(state: &AppState, client: &reqwest::Client, warning_blocks: u64) -> anyhow::Result<usize> {
    let hooks = state.db.list_webhooks().await?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let height = state.snapshot().height.0;
    let filter = ProposalFilter { status: Some(ProposalState::Pending), ..ProposalFilter::default() };
    let open = state.db.list_proposals(&filter, &PageRequest::first(SCAN)).await?.items;
    let mut acknowledged = 0_usize;
    for hook in &hooks {
        for (proposal, notice) in due(state, hook, &open, height, warning_blocks) {
            let sent = state.db.delivery(hook.id, &notice.event, &proposal).await?;
            if sent.is_some_and(|s| s.delivered || s.attempts >= MAX_ATTEMPTS) {
                continue;
            }
            let target = match check_target(&hook.url, &state.access.webhooks) {
                Ok(target) => target,
                Err(refused) => {
                    tracing::warn!(url = %hook.url, %refused, "webhook target refused");
                    state.db.record_delivery(hook.id, &notice.event, &proposal, false, now_ms()).await?;
                    continue;
                }
            };
            let ok = match client.post(target).timeout(TIMEOUT).json(&notice).send().await {
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

/// The HTTP client notices are sent with: names resolved by [`CheckedResolver`] under `policy`, no proxy, no
/// redirects followed (a receiver cannot bounce the console elsewhere).
pub fn client(policy: &TargetPolicy) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver { policy: policy.clone() }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()?)
}

/// Runs a pass after every block the console hears of.
pub fn spawn(state: AppState, warning_blocks: u64) -> anyhow::Result<()> {
    let client = client(&state.access.webhooks)?;
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
        Err(crate::server::actions::refuse(
            axum::http::StatusCode::FORBIDDEN,
            "only a member's governors manage webhooks",
        ))
    }
}

/// The webhooks of the signed-in governor's member.
pub async fn list() -> Result<Vec<Webhook>, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    let identity = governor(&state)?;
    state
        .db
        .list_member_webhooks(&identity.member)
        .await
        .map_err(|e| leptos::prelude::ServerFnError::new(e.to_string()))
}

/// Registers `url` for `events` (comma-separated) on behalf of the signed-in governor's member, once its target
/// passes the checks delivery makes.
pub async fn add(url: &str, events: &str) -> Result<Webhook, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    let identity = governor(&state)?;
    let events: Vec<String> = events.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect();
    if let Some(unknown) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(crate::server::actions::refuse(
            axum::http::StatusCode::BAD_REQUEST,
            format!("`{unknown}` is not an event; choose from {}", EVENTS.join(", ")),
        ));
    }
    let refused = |e: TargetRefused| crate::server::actions::refuse(axum::http::StatusCode::BAD_REQUEST, e.to_string());
    let target = check_target(url.trim(), &state.access.webhooks).map_err(refused)?;
    if literal_address(&target).is_none()
        && let Some(host) = target.host_str()
    {
        resolve_checked(host, &state.access.webhooks).await.map_err(refused)?;
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

/// Removes webhook `id` if it belongs to the signed-in governor's member; returns whether it did.
pub async fn remove(id: i64) -> Result<bool, leptos::prelude::ServerFnError> {
    let state = AppState::get()?;
    let identity = governor(&state)?;
    let removed = state
        .db
        .remove_webhook(id, &identity.member)
        .await
        .map_err(|e| leptos::prelude::ServerFnError::new(e.to_string()))?;
    let detail = serde_json::json!({ "webhook": id, "removed": removed });
    record_change(&state, &identity.account, detail).await;
    Ok(removed)
}
