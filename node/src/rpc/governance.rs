//! The governance state: members, nodes, accounts, roles, policy, parameters and proposals, read through
//! `governance_contracts`' tables at the last committed height; and the proposal dry run.
//!
//! A record is answered as its contracts' type beside its `id` (`{"id": "m0", "name": ..., "weight": ...}`); a
//! list as `{"<things>": [...], "next_after": ...}`, sorted by id and paged with `?limit=&after=`
//! ([`Page`](api_types::Page)). Every answer is a type of `api_types`.

use api_types::{
    Account, AccountDetail, AccountList, AccountRole, DryRun, ErrorBody, IdPath, Member, MemberList, Node, NodeList,
    Page, PolicyAnswer, PolicyRule, ProposalDetail, ProposalEntry, ProposalList, ProposalPath, ProposalQuery,
    ProposalReceipt, ProposalStatusName, Role, RoleGrant, RolesAnswer, TxLocation,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use governance_contracts::codec::encode;
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId};
use governance_contracts::state::Store;
use governance_contracts::state::tables::{ACCOUNTS, GRANTS, MEMBERS, NODES, PARAMS, POLICY, PROPOSALS, ROLES};
use governance_contracts::types::{ChainParams, Proposal};

use super::error::ApiError;
use super::extract::{Path, Query, parse};
use super::transactions::decode_body;
use super::{ApiState, page_of, read};
use crate::storage::StoreView;

/// The most transactions about one proposal `GET /v1/proposals/{id}` lists.
const MAX_PROPOSAL_RECEIPTS: usize = 1_000;

/// The height of the block being built next: grants and expiries are judged against it, as admission does.
fn next_height(view: &StoreView<'_>) -> Result<Height, ApiError> {
    Ok(Height(view.last_height()?.unwrap_or(Height(0)).0.saturating_add(1)))
}

/// `GET /v1/members`: member organisations.
#[utoipa::path(get, path = "/v1/members", params(Page), tag = "governance",
    responses((status = 200, body = MemberList), (status = 400, body = ErrorBody, description = "A bad `limit`")))]
pub async fn members(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<MemberList>, ApiError> {
    page.limit()?;
    let (members, next_after) = read(&state, move |view| {
        let all = MEMBERS.all(view)?.into_iter().map(|(id, record)| (id.to_string(), Member { id, record }));
        page_of(&page, all.collect())
    })
    .await?;
    Ok(Json(MemberList { members, next_after }))
}

/// `GET /v1/members/{id}`: one member organisation.
#[utoipa::path(get, path = "/v1/members/{id}", params(IdPath), tag = "governance",
    responses((status = 200, body = Member), (status = 400, body = ErrorBody, description = "Not a member id"),
        (status = 404, body = ErrorBody, description = "No such member")))]
pub async fn member(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<Member>, ApiError> {
    let id: MemberId = parse("member id", &path.id)?;
    read(&state, move |view| match MEMBERS.get(view, &id)? {
        Some(record) => Ok(Json(Member { id, record })),
        None => Err(ApiError::not_found(format!("no member {id}"))),
    })
    .await
}

/// `GET /v1/nodes`: observer and sealer nodes.
#[utoipa::path(get, path = "/v1/nodes", params(Page), tag = "governance",
    responses((status = 200, body = NodeList), (status = 400, body = ErrorBody, description = "A bad `limit`")))]
pub async fn nodes(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<NodeList>, ApiError> {
    page.limit()?;
    let (nodes, next_after) = read(&state, move |view| {
        let all = NODES.all(view)?.into_iter().map(|(id, record)| (id.to_string(), Node { id, record }));
        page_of(&page, all.collect())
    })
    .await?;
    Ok(Json(NodeList { nodes, next_after }))
}

/// `GET /v1/nodes/{id}`: one node: `id`, `kind`, `owner`, `weight`, `address`, `key`, `key_history`,
/// `attested_at`, `admitted_at`.
#[utoipa::path(get, path = "/v1/nodes/{id}", params(IdPath), tag = "governance",
    responses((status = 200, body = Node), (status = 400, body = ErrorBody, description = "Not a node id"),
        (status = 404, body = ErrorBody, description = "No such node")))]
pub async fn node(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<Node>, ApiError> {
    let id: NodeId = parse("node id", &path.id)?;
    read(&state, move |view| match NODES.get(view, &id)? {
        Some(record) => Ok(Json(Node { id, record })),
        None => Err(ApiError::not_found(format!("no node {id}"))),
    })
    .await
}

/// An account's grants, each `active` when it holds at `next`.
fn account_roles(view: &dyn Store, id: &AccountId, next: Height) -> Result<Vec<AccountRole>, ApiError> {
    Ok(GRANTS
        .scan(view, &encode(id))?
        .into_iter()
        .map(|((_, role), grant)| AccountRole {
            role,
            granted_at: grant.granted_at,
            expires_at: grant.expires_at,
            active: grant.expires_at >= next,
        })
        .collect())
}

/// `GET /v1/accounts`: accounts with their roles.
#[utoipa::path(get, path = "/v1/accounts", params(Page), tag = "governance",
    responses((status = 200, body = AccountList), (status = 400, body = ErrorBody, description = "A bad `limit`")))]
pub async fn accounts(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<AccountList>, ApiError> {
    page.limit()?;
    let (accounts, next_after) = read(&state, move |view| {
        let next = next_height(view)?;
        let all = ACCOUNTS
            .all(view)?
            .into_iter()
            .map(|(id, record)| {
                let roles = account_roles(view, &id, next)?;
                Ok((id.to_string(), Account { id, record, roles }))
            })
            .collect::<Result<_, ApiError>>()?;
        page_of(&page, all)
    })
    .await?;
    Ok(Json(AccountList { accounts, next_after }))
}

/// `GET /v1/accounts/{id}`: one account with its roles and its latest transactions (`history`: height and
/// index, up to [`api_types::ACCOUNT_HISTORY`]).
#[utoipa::path(get, path = "/v1/accounts/{id}", params(IdPath), tag = "governance",
    responses((status = 200, body = AccountDetail), (status = 400, body = ErrorBody, description = "Not an account id"),
        (status = 404, body = ErrorBody, description = "No such account")))]
pub async fn account(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<AccountDetail>, ApiError> {
    let id: AccountId = parse("account id", &path.id)?;
    read(&state, move |view| {
        let Some(record) = ACCOUNTS.get(view, &id)? else {
            return Err(ApiError::not_found(format!("no account {id}")));
        };
        let roles = account_roles(view, &id, next_height(view)?)?;
        let limit = usize::try_from(api_types::ACCOUNT_HISTORY).unwrap_or(usize::MAX);
        let history = view
            .account_history(&id, Height(0), limit)?
            .into_iter()
            .map(|location| TxLocation { height: location.height, index: location.index })
            .collect();
        Ok(Json(AccountDetail { account: Account { id, record, roles }, history }))
    })
    .await
}

/// `GET /v1/roles`: role definitions and every grant.
#[utoipa::path(get, path = "/v1/roles", tag = "governance", responses((status = 200, body = RolesAnswer)))]
pub async fn roles(State(state): State<ApiState>) -> Result<Json<RolesAnswer>, ApiError> {
    read(&state, move |view| {
        let next = next_height(view)?;
        let roles = ROLES.all(view)?.into_iter().map(|(id, definition)| Role { id, definition }).collect();
        let grants = GRANTS
            .all(view)?
            .into_iter()
            .map(|((account, role), grant)| RoleGrant {
                account,
                role,
                granted_at: grant.granted_at,
                expires_at: grant.expires_at,
                active: grant.expires_at >= next,
            })
            .collect();
        Ok(Json(RolesAnswer { roles, grants }))
    })
    .await
}

/// `GET /v1/policy`: the approval rule of each action kind.
#[utoipa::path(get, path = "/v1/policy", tag = "governance", responses((status = 200, body = PolicyAnswer)))]
pub async fn policy(State(state): State<ApiState>) -> Result<Json<PolicyAnswer>, ApiError> {
    read(&state, move |view| {
        let rules = POLICY.all(view)?.into_iter().map(|(kind, rule)| PolicyRule { kind, rule }).collect();
        Ok(Json(PolicyAnswer { rules }))
    })
    .await
}

/// `GET /v1/params`: the chain parameters.
#[utoipa::path(get, path = "/v1/params", tag = "governance",
    responses((status = 200, description = "The contracts' `ChainParams`", body = Object),
        (status = 503, body = ErrorBody, description = "The store holds no genesis yet")))]
pub async fn params(State(state): State<ApiState>) -> Result<Json<ChainParams>, ApiError> {
    read(&state, move |view| {
        PARAMS
            .get(view, &())?
            .map(Json)
            .ok_or_else(|| ApiError::unavailable("the store has no genesis yet: no parameters"))
    })
    .await
}

/// `GET /v1/proposals`: proposals still on chain (until their expiry), by id, optionally of one status.
#[utoipa::path(get, path = "/v1/proposals", params(ProposalQuery), tag = "governance",
    responses((status = 200, body = ProposalList),
        (status = 400, body = ErrorBody, description = "An unknown `status` or a bad `limit`")))]
pub async fn proposals(
    State(state): State<ApiState>,
    Query(query): Query<ProposalQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    let page = query.page();
    page.limit()?;
    let wanted = query.status;
    let (proposals, next_after) = read(&state, move |view| {
        let all = PROPOSALS
            .all(view)?
            .into_iter()
            .filter(|(_, record)| wanted.is_none_or(|w| ProposalStatusName::of(&record.status) == w))
            .map(|(id, record)| (id.to_string(), ProposalEntry { id, record }))
            .collect();
        page_of(&page, all)
    })
    .await?;
    Ok(Json(ProposalList { proposals, next_after }))
}

/// `GET /v1/proposals/{id}`: one proposal (`status`, `approvals`, ...) with every transaction about it
/// (`receipts`), found through the proposal index, and while it is in state its `tally`: per requirement, whether
/// it is met, the approving and seated weight, the approvals that count and the members who could still approve.
#[utoipa::path(get, path = "/v1/proposals/{id}", params(ProposalPath), tag = "governance",
    responses((status = 200, body = ProposalDetail), (status = 400, body = ErrorBody, description = "Not a proposal id"),
        (status = 404, body = ErrorBody, description = "No such proposal, in state or in the chain's transactions")))]
pub async fn proposal(
    State(state): State<ApiState>,
    Path(path): Path<ProposalPath>,
) -> Result<Json<ProposalDetail>, ApiError> {
    let id: ProposalId = parse("proposal id", &path.id)?;
    read(&state, move |view| {
        let record = PROPOSALS.get(view, &id)?;
        let mut receipts = Vec::new();
        for location in view.proposal_history(&id, MAX_PROPOSAL_RECEIPTS)? {
            if let Some((_, receipt)) = view.transaction(location)? {
                receipts.push(ProposalReceipt {
                    height: location.height,
                    index: location.index,
                    hash: receipt.tx,
                    receipt,
                });
            }
        }
        if record.is_none() && receipts.is_empty() {
            return Err(ApiError::not_found(format!("no proposal {id}")));
        }
        let tally = execution::tally(view, &id)?;
        Ok(Json(ProposalDetail::new(id, record, receipts, tally)))
    })
    .await
}

/// `POST /v1/proposals/dry-run`: what a proposal (JSON or canonical bytes) would do if executed in the next
/// block with every approval in place: its receipt and the rules it needs.
#[utoipa::path(post, path = "/v1/proposals/dry-run", tag = "governance",
    request_body(description = "A `Proposal` of the contracts: its serde JSON, or its canonical (borsh) bytes. \
        The schema gives the shape only; whether the bytes or the JSON decode as a proposal is the node's check \
        (400 `malformed`).",
        content((Object = "application/json"), (api_types::schema::CanonicalBytes = "application/octet-stream"))),
    responses((status = 200, body = DryRun),
        (status = 400, body = ErrorBody, description = "The body is not a proposal (`malformed`)"),
        (status = 413, body = ErrorBody, description = "The body exceeds `MAX_BODY_BYTES` (8 MiB)"),
        (status = 415, body = ErrorBody, description = "Neither application/json nor application/octet-stream")))]
pub async fn dry_run(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DryRun>, ApiError> {
    let proposal: Proposal = decode_body(&headers, body, "proposal")?;
    read(&state, move |view| Ok(Json(DryRun::from(execution::dry_run(view, &proposal)?)))).await
}
