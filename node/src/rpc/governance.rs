//! The governance state: members, nodes, accounts, roles, policy, parameters and proposals, read through
//! `governance_contracts`' tables at the last committed height; and the proposal dry run.
//!
//! A record is answered as its contracts' JSON with its `id` added (`{"id": "m0", "name": ..., "weight": ...}`);
//! a list as `{"<things>": [...]}`, sorted by id and paged with `?limit=&after=` ([`Page`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use governance_contracts::codec::encode;
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId, TxHash};
use governance_contracts::state::Store;
use governance_contracts::state::records::ProposalRecord;
use governance_contracts::state::tables::{ACCOUNTS, GRANTS, MEMBERS, NODES, PARAMS, POLICY, PROPOSALS, ROLES};
use governance_contracts::types::Proposal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query, parse};
use super::transactions::decode_body;
use super::{ApiState, MAX_PAGE, Page, read};
use crate::storage::StoreView;

/// `record`'s JSON with `"id": id` added.
fn with_id(id: &impl Serialize, record: &impl Serialize) -> Result<Value, ApiError> {
    let encode = |e: serde_json::Error| ApiError::internal("cannot encode a record", &e);
    let mut object = match serde_json::to_value(record).map_err(encode)? {
        Value::Object(object) => object,
        other => {
            let mut object = Map::new();
            object.insert("value".to_owned(), other);
            object
        }
    };
    object.insert("id".to_owned(), serde_json::to_value(id).map_err(encode)?);
    Ok(Value::Object(object))
}

/// The height of the block being built next: grants and expiries are judged against it, as admission does.
fn next_height(view: &StoreView<'_>) -> Result<Height, ApiError> {
    Ok(Height(view.last_height()?.unwrap_or(Height(0)).0.saturating_add(1)))
}

/// `{"<name>": items}`.
fn list(name: &str, items: Vec<Value>) -> Json<Value> {
    let mut object = Map::new();
    object.insert(name.to_owned(), Value::Array(items));
    Json(Value::Object(object))
}

/// `GET /v1/members`: member organisations.
#[utoipa::path(get, path = "/v1/members", params(Page), responses((status = 200, description = "`{\"members\": [record + id]}`", body = Object)))]
pub async fn members(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<Value>, ApiError> {
    page.limit()?;
    let items = read(&state, move |view| {
        let all = MEMBERS.all(view)?.into_iter().map(|(id, record)| Ok((id.to_string(), with_id(&id, &record)?)));
        page.apply(all.collect::<Result<_, ApiError>>()?)
    })
    .await?;
    Ok(list("members", items))
}

/// `GET /v1/members/{id}`: one member organisation.
#[utoipa::path(get, path = "/v1/members/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "The member record with `id`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn member(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: MemberId = parse("member id", &id)?;
    read(&state, move |view| match MEMBERS.get(view, &id)? {
        Some(record) => with_id(&id, &record).map(Json),
        None => Err(ApiError::not_found(format!("no member {id}"))),
    })
    .await
}

/// `GET /v1/nodes`: observer and sealer nodes.
#[utoipa::path(get, path = "/v1/nodes", params(Page), responses((status = 200, description = "`{\"nodes\": [record + id]}`", body = Object)))]
pub async fn nodes(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<Value>, ApiError> {
    page.limit()?;
    let items = read(&state, move |view| {
        let all = NODES.all(view)?.into_iter().map(|(id, record)| Ok((id.to_string(), with_id(&id, &record)?)));
        page.apply(all.collect::<Result<_, ApiError>>()?)
    })
    .await?;
    Ok(list("nodes", items))
}

/// `GET /v1/nodes/{id}`: one node: `id`, `kind`, `owner`, `weight`, `address`, `key`, `key_history`,
/// `attested_at`, `admitted_at`.
#[utoipa::path(get, path = "/v1/nodes/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "The node record with `id`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn node(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: NodeId = parse("node id", &id)?;
    read(&state, move |view| match NODES.get(view, &id)? {
        Some(record) => with_id(&id, &record).map(Json),
        None => Err(ApiError::not_found(format!("no node {id}"))),
    })
    .await
}

/// An account's record with its `id` and its grants (`roles`: role, `granted_at`, `expires_at`, `active` at the
/// next height).
fn account_json(view: &dyn Store, id: &AccountId, record: &impl Serialize, next: Height) -> Result<Value, ApiError> {
    let mut value = with_id(id, record)?;
    let roles: Vec<Value> = GRANTS
        .scan(view, &encode(id))?
        .into_iter()
        .map(|((_, role), grant)| {
            json!({
                "role": role,
                "granted_at": grant.granted_at,
                "expires_at": grant.expires_at,
                "active": grant.expires_at >= next,
            })
        })
        .collect();
    if let Value::Object(object) = &mut value {
        object.insert("roles".to_owned(), Value::Array(roles));
    }
    Ok(value)
}

/// `GET /v1/accounts`: accounts with their roles.
#[utoipa::path(get, path = "/v1/accounts", params(Page),
    responses((status = 200, description = "`{\"accounts\": [record + id + roles]}`", body = Object)))]
pub async fn accounts(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<Value>, ApiError> {
    page.limit()?;
    let items = read(&state, move |view| {
        let next = next_height(view)?;
        let all = ACCOUNTS
            .all(view)?
            .into_iter()
            .map(|(id, record)| Ok((id.to_string(), account_json(view, &id, &record, next)?)));
        page.apply(all.collect::<Result<_, ApiError>>()?)
    })
    .await?;
    Ok(list("accounts", items))
}

/// `GET /v1/accounts/{id}`: one account with its roles and its latest transactions (`history`: height and
/// index, up to 100).
#[utoipa::path(get, path = "/v1/accounts/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "The account record with `id`, `roles` and `history`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn account(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: AccountId = parse("account id", &id)?;
    read(&state, move |view| {
        let Some(record) = ACCOUNTS.get(view, &id)? else {
            return Err(ApiError::not_found(format!("no account {id}")));
        };
        let mut value = account_json(view, &id, &record, next_height(view)?)?;
        let history = view.account_history(&id, Height(0), super::DEFAULT_PAGE)?;
        if let Value::Object(object) = &mut value {
            let history = serde_json::to_value(history).map_err(|e| ApiError::internal("cannot encode", &e))?;
            object.insert("history".to_owned(), history);
        }
        Ok(Json(value))
    })
    .await
}

/// `GET /v1/roles`: role definitions and every grant.
#[utoipa::path(get, path = "/v1/roles",
    responses((status = 200, description = "`{\"roles\": [definition + id], \"grants\": [{account, role, granted_at, expires_at, active}]}`", body = Object)))]
pub async fn roles(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    read(&state, move |view| {
        let next = next_height(view)?;
        let roles = ROLES.all(view)?.iter().map(|(id, def)| with_id(id, def)).collect::<Result<Vec<_>, _>>()?;
        let grants: Vec<Value> = GRANTS
            .all(view)?
            .into_iter()
            .map(|((account, role), grant)| {
                json!({
                    "account": account,
                    "role": role,
                    "granted_at": grant.granted_at,
                    "expires_at": grant.expires_at,
                    "active": grant.expires_at >= next,
                })
            })
            .collect();
        Ok(Json(json!({ "roles": roles, "grants": grants })))
    })
    .await
}

/// `GET /v1/policy`: the approval rule of each action kind.
#[utoipa::path(get, path = "/v1/policy",
    responses((status = 200, description = "`{\"rules\": [{\"kind\", \"rule\"}]}`", body = Object)))]
pub async fn policy(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    read(&state, move |view| {
        let rules: Vec<Value> =
            POLICY.all(view)?.into_iter().map(|(kind, rule)| json!({ "kind": kind, "rule": rule })).collect();
        Ok(Json(json!({ "rules": rules })))
    })
    .await
}

/// `GET /v1/params`: the chain parameters.
#[utoipa::path(get, path = "/v1/params", responses((status = 200, description = "The `ChainParams`", body = Object)))]
pub async fn params(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    read(&state, move |view| {
        let params = PARAMS
            .get(view, &())?
            .ok_or_else(|| ApiError::unavailable("the store has no genesis yet: no parameters"))?;
        serde_json::to_value(params).map(Json).map_err(|e| ApiError::internal("cannot encode", &e))
    })
    .await
}

/// The name of a proposal's status (`pending`, `queued`, `executed`, `failed`, `cancelled`).
fn status_name(record: &ProposalRecord) -> String {
    serde_json::to_value(&record.status)
        .ok()
        .and_then(|v| v.get("status").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

/// `?status=&limit=&after=` for the proposal list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    /// Only proposals in this state: `pending`, `queued`, `executed`, `failed` or `cancelled`.
    pub status: Option<String>,
    /// Most proposals to return (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Return the proposals after this id (the last id of the previous page).
    pub after: Option<String>,
}

const STATUSES: [&str; 5] = ["pending", "queued", "executed", "failed", "cancelled"];

/// A proposal record's JSON: the record (`proposal`, `submitted_at`, `status`, `approvals`) with its `id`.
fn proposal_json(id: &ProposalId, record: &ProposalRecord) -> Result<Value, ApiError> {
    with_id(id, record)
}

/// `GET /v1/proposals`: proposals still on chain (until their expiry), by id, optionally of one status.
#[utoipa::path(get, path = "/v1/proposals", params(ProposalQuery),
    responses((status = 200, description = "`{\"proposals\": [record + id]}`", body = Object), (status = 400, body = ErrorBody)))]
pub async fn proposals(
    State(state): State<ApiState>,
    Query(query): Query<ProposalQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(status) = &query.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::bad_request(format!("status must be one of {}", STATUSES.join(", "))));
    }
    if query.limit.is_some_and(|n| n == 0 || n > MAX_PAGE) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    let page = Page { limit: query.limit, after: query.after };
    let wanted = query.status;
    let items = read(&state, move |view| {
        let mut all = Vec::new();
        for (id, record) in PROPOSALS.all(view)? {
            if wanted.as_deref().is_none_or(|w| status_name(&record) == w) {
                all.push((id.to_string(), proposal_json(&id, &record)?));
            }
        }
        page.apply(all)
    })
    .await?;
    Ok(list("proposals", items))
}

/// `GET /v1/proposals/{id}`: one proposal (`status`, `approvals`, ...) with every transaction about it
/// (`receipts`: `height`, `index`, `hash`, `receipt`), found through the proposal index, and while it is in state
/// its `tally`: per requirement, whether it is met, the approving and active weight, the approvals that count and
/// the members who could still approve.
#[utoipa::path(get, path = "/v1/proposals/{id}", params(("id" = String, Path, description = "The proposal id, `sha256:…`")),
    responses((status = 200, description = "The record with `id` and `receipts`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn proposal(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: ProposalId = parse("proposal id", &id)?;
    read(&state, move |view| {
        let record = PROPOSALS.get(view, &id)?;
        let mut receipts = Vec::new();
        for location in view.proposal_history(&id, MAX_PAGE)? {
            if let Some((_, receipt)) = view.transaction(location)? {
                let hash: TxHash = receipt.tx;
                receipts.push(json!({
                    "height": location.height,
                    "index": location.index,
                    "hash": hash,
                    "receipt": receipt,
                }));
            }
        }
        let mut value = match record {
            Some(record) => proposal_json(&id, &record)?,
            None if receipts.is_empty() => return Err(ApiError::not_found(format!("no proposal {id}"))),
            // Pruned from state after its expiry; its transactions remain.
            None => json!({ "id": id, "status": null, "approvals": [], "pruned": true }),
        };
        if let Value::Object(object) = &mut value {
            object.insert("receipts".to_owned(), Value::Array(receipts));
            if let Some(tally) = execution::tally(view, &id)? {
                let tally = serde_json::to_value(tally).map_err(|e| ApiError::internal("cannot encode", &e))?;
                object.insert("tally".to_owned(), tally);
            }
        }
        Ok(Json(value))
    })
    .await
}

/// `POST /v1/proposals/dry-run`: what a proposal (JSON or canonical bytes) would do if executed in the next
/// block with every approval in place: its receipt and the rules it needs.
#[utoipa::path(post, path = "/v1/proposals/dry-run",
    request_body(description = "A `Proposal`: serde JSON or canonical bytes",
        content((Object = "application/json"), (Vec<u8> = "application/octet-stream"))),
    responses((status = 200, description = "`{\"receipt\", \"requirements\": [{\"kind\", \"rule\"}]}`", body = Object),
        (status = 400, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn dry_run(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let proposal: Proposal = decode_body(&headers, body, "proposal")?;
    read(&state, move |view| {
        let run = execution::dry_run(view, &proposal)?;
        let requirements: Vec<Value> =
            run.requirements.into_iter().map(|(kind, rule)| json!({ "kind": kind, "rule": rule })).collect();
        Ok(Json(json!({ "receipt": run.receipt, "requirements": requirements })))
    })
    .await
}
