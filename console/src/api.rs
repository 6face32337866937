//! The console's server functions: what pages load and what they ask the server to do. Each body runs on the
//! server only (the browser build calls it over HTTP); each re-checks the caller's session and on-chain roles.

use governance_contracts::domain::ChainIdentity;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// The refusal of a call that needs a session (the server says it, the pages recognise it).
pub const SIGN_IN_FIRST: &str = "sign in first";

/// Who is signed in, in which language, on which chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    /// The signed-in account, if any.
    pub identity: Option<Identity>,
    /// The user's language.
    pub lang: Lang,
    /// The chain this console is pinned to (from its genesis file).
    pub chain: ChainIdentity,
    /// The chain's height as last seen.
    pub height: u64,
    /// Whether no node has answered recently.
    pub stale: bool,
}

/// A signed-in account and what it may do, from the chain's state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The account id.
    pub account: String,
    /// Its member organisation.
    pub member: String,
    /// Whether it is a governor of its member (votes on proposals).
    pub governor: bool,
    /// Roles in force (`compliance`, `operator`, `auditor`, ...).
    pub roles: Vec<String>,
    /// Whether it may only read (an auditor, or an account with no governing or operating role).
    pub read_only: bool,
}

/// A login challenge for the browser to check and sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOffer {
    /// The challenge's canonical bytes, hex: the browser decodes them itself before signing.
    pub challenge_hex: String,
}

/// Who is signed in, the language and the chain.
#[server]
pub async fn whoami() -> Result<Me, ServerFnError> {
    let state = crate::server::state::AppState::get()?;
    let session = crate::server::auth::current_session();
    Ok(state.me(session.as_ref()))
}

/// Chooses the interface language (kept in a cookie, and in the session when signed in).
#[server]
pub async fn set_lang(lang: String) -> Result<(), ServerFnError> {
    let lang = Lang::from_tag(&lang).ok_or_else(|| ServerFnError::new(format!("unknown language `{lang}`")))?;
    crate::server::auth::set_lang(lang).await
}

/// Ends the session.
#[server]
pub async fn sign_out() -> Result<(), ServerFnError> {
    crate::server::auth::sign_out().await
}

/// Starts a sign-in for the account whose current key is `public_key` (`ed25519:<hex>`).
#[server]
pub async fn begin_login(public_key: String) -> Result<LoginOffer, ServerFnError> {
    crate::server::auth::begin_login(&public_key).await
}

/// Completes a sign-in: `signature` (`ed25519:<hex>`) is the account key's signature of the challenge's digest.
#[server]
pub async fn finish_login(challenge_hex: String, signature: String) -> Result<Me, ServerFnError> {
    crate::server::auth::finish_login(&challenge_hex, &signature).await
}

/// The served bundle's published hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInfo {
    /// SHA-256 of `/pkg/console.js`, hex.
    pub js_sha256: String,
    /// SHA-256 of `/pkg/console_bg.wasm`, hex.
    pub wasm_sha256: String,
    /// The integrity strings pages load them with.
    pub js_sri: String,
    /// The wasm's integrity string.
    pub wasm_sri: String,
}

/// The hashes of the bundle this console serves.
#[server]
pub async fn bundle_hashes() -> Result<BundleInfo, ServerFnError> {
    let state = crate::server::state::AppState::get()?;
    Ok(BundleInfo {
        js_sha256: state.bundle.js.sha256.clone(),
        wasm_sha256: state.bundle.wasm.sha256.clone(),
        js_sri: state.bundle.js.sri.clone(),
        wasm_sri: state.bundle.wasm.sri.clone(),
    })
}

/// A transaction the node accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// Its hash, `sha256:<hex>`.
    pub tx_hash: String,
}

/// Relays a transaction signed in the browser (canonical bytes of a `SignedTransaction`, hex) to the node. Its
/// sender must be the signed-in account, or a node of the signed-in account's member relaying that node's own key
/// rotation request. The server never alters it: it could not without breaking the signature.
#[server]
pub async fn submit_transaction(signed_hex: String) -> Result<Submitted, ServerFnError> {
    crate::server::actions::submit_transaction(&signed_hex).await
}

/// Waits (up to about 20 s) until the transaction is in a finalised block; returns its receipt in words, or an
/// error naming why it was refused or that it is still pending.
#[server]
pub async fn wait_transaction(tx_hash: String) -> Result<String, ServerFnError> {
    crate::server::actions::wait_transaction(&tx_hash).await
}

/// A member organisation, as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its voting weight.
    pub weight: u64,
    /// `active`, `suspended` or `expelled`.
    pub status: String,
    /// Its governor accounts.
    pub governors: Vec<String>,
}

/// An admitted node, as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    /// Its id.
    pub id: String,
    /// Its owner member.
    pub owner: String,
    /// `sealer` or `observer`.
    pub kind: String,
    /// Its consensus weight (sealers).
    pub weight: u64,
    /// Its current key.
    pub key: String,
    /// Its network address.
    pub address: String,
    /// The height it last attested readiness at, if ever.
    pub attested: Option<u64>,
    /// Whether the console's node is connected to it (or is it).
    pub connected: bool,
}

/// A role grant in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    /// The role.
    pub role: String,
    /// The last height it is in force.
    pub expires_at: u64,
}

/// An account, as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Its id.
    pub id: String,
    /// Its member.
    pub member: String,
    /// Its current key.
    pub key: Option<String>,
    /// Whether it is frozen.
    pub frozen: bool,
    /// Whether it governs its member.
    pub governor: bool,
    /// Roles in force.
    pub roles: Vec<GrantRow>,
}

/// A role's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    /// The role.
    pub id: String,
    /// Whether compliance staff may grant it.
    pub delegable: bool,
    /// The longest grant, in blocks.
    pub max_grant_blocks: u64,
}

/// A recent block, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockBar {
    /// Its height.
    pub height: u64,
    /// Its time, ms since the epoch.
    pub time_ms: u64,
    /// How many transactions it holds.
    pub txs: u64,
}

/// What the chain looks like now, for the pages that show its tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    /// The height.
    pub height: u64,
    /// The last block's time, ms since the epoch.
    pub last_block_time_ms: u64,
    /// Member organisations.
    pub members: Vec<MemberRow>,
    /// Admitted nodes.
    pub nodes: Vec<NodeRow>,
    /// Role definitions.
    pub roles: Vec<RoleRow>,
    /// How many sealers by weight may fail now (n ≥ 3f + 1).
    pub fault_tolerance: u64,
    /// Recent blocks, oldest first.
    pub timeline: Vec<BlockBar>,
    /// The largest `valid_until` ahead of the height a transaction may carry.
    pub max_tx_ttl: u64,
    /// The longest a proposal may live, in blocks.
    pub max_proposal_lifetime: u64,
    /// Recorded equivocation evidence: (height, node) of each.
    pub evidence: Vec<(u64, String)>,
    /// The chain's target time between blocks (0 until a node answered), to estimate when a height comes.
    pub block_interval_ms: u64,
    /// The node this console reads the chain from (the centre of the network picture), once one answered.
    pub console_node: Option<String>,
}

/// The chain's tables now.
#[server]
pub async fn chain_tables() -> Result<Tables, ServerFnError> {
    let state = crate::server::state::AppState::get()?;
    crate::server::actions::require_reader(&state)?;
    Ok(crate::server::views::tables(&state.snapshot()))
}

/// Accounts matching `query` (id or member, case-insensitive; all when empty), at most `limit`.
#[server]
pub async fn accounts(query: String, limit: u32) -> Result<Vec<AccountRow>, ServerFnError> {
    let state = crate::server::state::AppState::get()?;
    crate::server::actions::require_reader(&state)?;
    if query.len() > 128 {
        return Err(ServerFnError::new("the search text is too long"));
    }
    Ok(crate::server::views::accounts(&state.snapshot(), &query, limit.clamp(1, 500)))
}

/// The chain snapshot itself, for the browser to review proposals against (before → after).
#[server]
pub async fn chain_snapshot() -> Result<crate::model::ChainSnapshot, ServerFnError> {
    let state = crate::server::state::AppState::get()?;
    match crate::server::actions::require_reader(&state)? {
        Some(_) => Ok((*state.snapshot()).clone()),
        None => Ok(crate::server::views::for_visitor(&state.snapshot())),
    }
}

/// A draft proposal kept in this console's workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftView {
    /// The draft's id in the workspace.
    pub id: i64,
    /// The proposal's canonical bytes, hex: the browser decodes and reviews them itself.
    pub proposal_hex: String,
    /// The proposal id the server computed (the browser recomputes it and refuses to sign on a mismatch).
    pub proposal_id: String,
    /// Its title.
    pub title: String,
    /// `draft`, `submitted` or `abandoned`.
    pub status: String,
    /// Who drafted it.
    pub author: String,
}

/// Creates a draft proposal from actions (a JSON array of `Action`s, as the forms build them). The proposer is
/// the signed-in account; the expiry is the chain's longest proposal lifetime from now; the salt is random.
/// Every field is checked here, and a refused draft says why.
#[server]
pub async fn create_draft(title: String, description: String, actions_json: String) -> Result<i64, ServerFnError> {
    crate::server::drafts::create(&title, &description, &actions_json).await
}

/// A draft by id.
#[server]
pub async fn draft(id: i64) -> Result<DraftView, ServerFnError> {
    crate::server::drafts::get(id).await
}

/// This workspace's drafts not yet submitted, newest first.
#[server]
pub async fn open_drafts() -> Result<Vec<DraftView>, ServerFnError> {
    crate::server::drafts::open().await
}

/// Marks a draft submitted once its submission's hash is known.
#[server]
pub async fn mark_draft_submitted(id: i64, tx_hash: String) -> Result<(), ServerFnError> {
    crate::server::drafts::mark_submitted(id, &tx_hash).await
}

/// What a proposal would do if executed in the next block with every approval in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunView {
    /// Whether it would apply.
    pub applies: bool,
    /// The receipt's outcome (the page says it in words: [`crate::pages::events::dry_run_words`]).
    pub outcome: governance_contracts::types::Outcome,
    /// The events it would emit, in order.
    pub events: Vec<governance_contracts::types::Event>,
    /// The approval rule each of its action kinds needs.
    pub requirements: Vec<(governance_contracts::types::ActionKind, governance_contracts::types::Rule)>,
}

/// Dry-runs a proposal (canonical hex) on the node.
#[server]
pub async fn dry_run(proposal_hex: String) -> Result<DryRunView, ServerFnError> {
    crate::server::drafts::dry_run(&proposal_hex).await
}

/// One line of the proposal list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRow {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: api_types::ProposalStatusName,
    /// Its proposer.
    pub proposer: String,
    /// Its action kinds.
    pub kinds: String,
    /// Its expiry height.
    pub expires_at: u64,
}

/// A page of proposals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalPage {
    /// The rows.
    pub rows: Vec<ProposalRow>,
    /// The cursor for the next page, if any.
    pub next: Option<String>,
}

/// Proposals from the console's mirror, filtered and paginated.
#[server]
pub async fn list_proposals(
    status: String,
    kind: String,
    text: String,
    after: String,
) -> Result<ProposalPage, ServerFnError> {
    crate::server::proposals::list(&status, &kind, &text, &after).await
}

/// One requirement's progress while the proposal is open, or as measured when it closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyView {
    /// The action kind.
    pub kind: governance_contracts::types::ActionKind,
    /// The rule (shown in words in the reader's language).
    pub rule: governance_contracts::types::Rule,
    /// Whether it is met.
    pub met: bool,
    /// Approving weight (weight rules).
    pub approved_weight: u64,
    /// The weight of every member not expelled (weight rules): the denominator.
    pub seated_weight: u64,
    /// The fraction needed (weight rules).
    pub fraction: Option<(u32, u32)>,
    /// Members who could still approve: (member, weight, governors). Empty for a closed proposal.
    pub candidates: Vec<(String, u64, Vec<String>)>,
}

/// How a closed proposal was judged, from the receipt that closed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictView {
    /// The height of the block that closed it.
    pub height: u64,
    /// The approvals that counted, each with its member's weight at that height.
    pub approvals: Vec<governance_contracts::types::CountedVote>,
    /// Every rule it needed, as measured then.
    pub requirements: Vec<TallyView>,
}

/// One transaction about a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The block that included it.
    pub height: u64,
    /// The transaction's hash.
    pub tx: String,
    /// The transaction's own outcome: `None` when it applied, else why it was rejected (nothing of it applied).
    pub rejected: Option<governance_contracts::Rejection>,
    /// What it did to this proposal (its receipt's events about it).
    pub events: Vec<governance_contracts::types::Event>,
}

/// A proposal on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalInfo {
    /// Its id.
    pub id: String,
    /// Its canonical bytes, hex, when still in state.
    pub proposal_hex: Option<String>,
    /// Its status, in the API's vocabulary.
    pub status: api_types::ProposalStatusName,
    /// Its submission height.
    pub submitted_at: u64,
    /// Its expiry height.
    pub expires_at: u64,
    /// The chain height now.
    pub height: u64,
    /// Queued proposals: the height from which it may apply, its delay counted from the block in which its rules
    /// were first met.
    pub ready_at: Option<u64>,
    /// Failed proposals: why its actions could not apply.
    pub failure: Option<governance_contracts::Rejection>,
    /// Approvals collected on chain: (approver, key).
    pub approvals: Vec<(String, String)>,
    /// Open proposals: progress per requirement against the approvals that count now.
    pub tally: Vec<TallyView>,
    /// Executed or failed proposals: how they were judged in the block that closed them.
    pub verdict: Option<VerdictView>,
    /// Every transaction about it, oldest first.
    pub history: Vec<HistoryRow>,
}

/// A proposal on chain, with its approvals, tally and history.
#[server]
pub async fn proposal_detail(id: String) -> Result<ProposalInfo, ServerFnError> {
    crate::server::proposals::detail(&id).await
}

/// One audit-trail row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRowView {
    /// Its sequence number.
    pub seq: i64,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What kind of event.
    pub kind: String,
    /// About what.
    pub subject: String,
    /// Details.
    pub detail: String,
    /// Its chained hash.
    pub hash: String,
}

/// A page of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRows {
    /// The rows, newest first.
    pub rows: Vec<AuditRowView>,
    /// The cursor for the next (older) page.
    pub next: Option<i64>,
    /// Whether the whole chain of hashes verified, or where it broke.
    pub integrity: Option<String>,
}

/// The audit trail, filtered (empty = any) and paginated (`before` = the previous page's `next`, 0 for the first).
#[server]
pub async fn audit_page(actor: String, kind: String, subject: String, before: i64) -> Result<AuditRows, ServerFnError> {
    crate::server::audit_view::page(&actor, &kind, &subject, before).await
}

/// Walks the whole audit chain and reports whether it is intact.
#[server]
pub async fn verify_audit() -> Result<String, ServerFnError> {
    crate::server::audit_view::verify().await
}

/// What the overview shows besides the chain's tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extras {
    /// Open proposals the signed-in governor's member has not approved yet.
    pub needs_my_approval: Vec<ProposalRow>,
    /// Recent governance events from the audit trail.
    pub recent: Vec<AuditRowView>,
    /// Each configured node URL: (url, answering, height or error).
    pub node_health: Vec<(String, bool, String)>,
}

/// The overview's proposals needing me, recent events and node health.
#[server]
pub async fn overview_extras() -> Result<Extras, ServerFnError> {
    crate::server::proposals::overview_extras().await
}

/// A webhook as the page lists it.
pub type WebhookView = crate::model::WebhookInfo;

/// The webhooks of the signed-in governor's member (governors only; another member's are never listed).
#[server]
pub async fn webhooks() -> Result<Vec<WebhookView>, ServerFnError> {
    let hooks = crate::server::webhooks::list().await?;
    Ok(hooks
        .into_iter()
        .map(|h| WebhookView { id: h.id, url: h.url, events: h.events.join(", "), member: h.member })
        .collect())
}

/// Registers a webhook for `events` (comma-separated: `needs_approval`, `expires_soon`) watching the signed-in
/// governor's member.
#[server]
pub async fn add_webhook(url: String, events: String) -> Result<i64, ServerFnError> {
    Ok(crate::server::webhooks::add(&url, &events).await?.id)
}

/// Removes one of the signed-in governor's member's webhooks; `false` when the member has no webhook `id`.
#[server]
pub async fn remove_webhook(id: i64) -> Result<bool, ServerFnError> {
    crate::server::webhooks::remove(id).await
}
