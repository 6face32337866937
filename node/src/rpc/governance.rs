//! The governance state: members, nodes, accounts, roles, policy, parameters and proposals, read through
//! `governance_contracts`' tables at the last committed height; and the proposal dry run.
//!
//! A record is answered as its contracts' type beside its `id` (`{"id": "m0", "name": ..., "weight": ...}`); a
//! list as `{"<things>": [...], "next_after": ...}`, paged with `?limit=&after=` ([`Page`](api_types::Page)).
//! Every answer is a type of `api_types`.
//!
//! A list is in its table's order, the order of the keys in the store: ids that are names (members, nodes,
//! accounts) shortest first, names of one length alphabetically (`n2` before `n10`); proposals by id. A page is
//! read from the store from the key after `after` on, `limit` entries and one more to tell whether more follow:
//! what a page costs never depends on how large the table is. Filtered by status, a page of proposals looks at
//! `limit` proposals and answers those of the status, so it may hold fewer (even none) and still name a
//! `next_after`.

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
use borsh::BorshDeserialize;
use governance_contracts::codec::{decode, encode};
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId};
use governance_contracts::state::records::ProposalRecord;
use governance_contracts::state::tables::{ACCOUNTS, GRANTS, MEMBERS, NODES, PARAMS, POLICY, PROPOSALS, ROLES};
use governance_contracts::state::{Store, Table, TableKey};
use governance_contracts::types::{ChainParams, Proposal};

use super::error::ApiError;
use super::extract::{Path, Query, parse};
use super::transactions::decode_body;
use super::{ApiState, read};
use crate::storage::StoreView;

/// The most transactions about one proposal `GET /v1/proposals/{id}` lists.
const MAX_PROPOSAL_RECEIPTS: usize = 1_000;

/// The height of the block being built next: grants and expiries are judged against it, as admission does.
fn next_height(view: &StoreView<'_>) -> Result<Height, ApiError> {
    Ok(Height(view.last_height()?.unwrap_or(Height(0)).0.saturating_add(1)))
}

/// The table key `page.after` names: an id of the kind `what` lists (a 400 when it is not one), as the table
/// keys it.
fn after_key<K>(page: &Page, what: &str) -> Result<Option<Vec<u8>>, ApiError>
where
    K: TableKey + std::str::FromStr,
    K::Err: std::fmt::Display,
{
    let Some(after) = page.after.as_deref() else { return Ok(None) };
    let id: K = after.parse().map_err(|e| {
        ApiError::bad_request(format!("after={after:?} is not a {what}: give the previous page's next_after ({e})"))
    })?;
    Ok(Some(id.to_key_bytes()))
}

/// One page of `table`: at most `limit` entries after the key `after` (from the first when `None`), in the
/// table's key order, and whether more follow. It reads `limit + 1` rows at most.
fn table_page<K: TableKey, V: BorshDeserialize>(
    view: &StoreView<'_>,
    table: &Table<K, V>,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<(Vec<(K, V)>, bool), ApiError> {
    let mut rows = view.state_page(table.id(), after, limit.saturating_add(1))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let corrupt =
        |detail: String| ApiError::internal("the store is corrupt", &format!("{}: {detail}", table.id().name()));
    let entries = rows
        .into_iter()
        .map(|(key, value)| {
            let id = K::from_key_bytes(&key).ok_or_else(|| corrupt(format!("undecodable key {key:02x?}")))?;
            let value = decode(&value).map_err(|e| corrupt(e.to_string()))?;
            Ok((id, value))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok((entries, more))
}

/// The `next_after` of a page whose last entry has id `last`, when more follow.
fn next_after(last: Option<String>, more: bool) -> Option<String> {
    last.filter(|_| more)
}

/// `GET /v1/members`: member organisations.
#[utoipa::path(get, path = "/v1/members", params(Page), tag = "governance",
    responses((status = 200, body = MemberList), (status = 400, body = ErrorBody, description = "A bad `limit`, or an `after` that is no id of the list's kind")))]
pub async fn members(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<MemberList>, ApiError> {
    let limit = page.limit()?;
    let after = after_key::<MemberId>(&page, "member id")?;
    read(&state, move |view| {
        let (rows, more) = table_page(view, &MEMBERS, after.as_deref(), limit)?;
        let members: Vec<Member> = rows.into_iter().map(|(id, record)| Member { id, record }).collect();
        let next_after = next_after(members.last().map(|m| m.id.to_string()), more);
        Ok(Json(MemberList { members, next_after }))
    })
    .await
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
    responses((status = 200, body = NodeList), (status = 400, body = ErrorBody, description = "A bad `limit`, or an `after` that is no id of the list's kind")))]
pub async fn nodes(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<NodeList>, ApiError> {
    let limit = page.limit()?;
    let after = after_key::<NodeId>(&page, "node id")?;
    read(&state, move |view| {
        let (rows, more) = table_page(view, &NODES, after.as_deref(), limit)?;
        let nodes: Vec<Node> = rows.into_iter().map(|(id, record)| Node { id, record }).collect();
        let next_after = next_after(nodes.last().map(|n| n.id.to_string()), more);
        Ok(Json(NodeList { nodes, next_after }))
    })
    .await
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
    responses((status = 200, body = AccountList), (status = 400, body = ErrorBody, description = "A bad `limit`, or an `after` that is no id of the list's kind")))]
pub async fn accounts(State(state): State<ApiState>, Query(page): Query<Page>) -> Result<Json<AccountList>, ApiError> {
    let limit = page.limit()?;
    let after = after_key::<AccountId>(&page, "account id")?;
    read(&state, move |view| account_page(view, after.as_deref(), limit).map(Json)).await
}

/// The page of at most `limit` accounts after the key `after`, each with its grants.
fn account_page(view: &StoreView<'_>, after: Option<&[u8]>, limit: usize) -> Result<AccountList, ApiError> {
    let next = next_height(view)?;
    let (rows, more) = table_page(view, &ACCOUNTS, after, limit)?;
    let accounts = rows
        .into_iter()
        .map(|(id, record)| {
            let roles = account_roles(view, &id, next)?;
            Ok(Account { id, record, roles })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let next_after = next_after(accounts.last().map(|a| a.id.to_string()), more);
    Ok(AccountList { accounts, next_after })
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
        (status = 400, body = ErrorBody, description = "An unknown `status`, a bad `limit`, or an `after` that is no proposal id")))]
pub async fn proposals(
    State(state): State<ApiState>,
    Query(query): Query<ProposalQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    query.page().limit()?;
    after_key::<ProposalId>(&query.page(), "proposal id")?;
    read(&state, move |view| proposal_page(view, &query)).await.map(Json)
}

/// The page of proposals `query` asks for: `limit` proposals looked at from the one after `after`, those of the
/// status asked for (all without one) answered.
fn proposal_page(view: &StoreView<'_>, query: &ProposalQuery) -> Result<ProposalList, ApiError> {
    let page = query.page();
    let limit = page.limit()?;
    let after = after_key::<ProposalId>(&page, "proposal id")?;
    let (rows, more) = table_page(view, &PROPOSALS, after.as_deref(), limit)?;
    let last = rows.last().map(|(id, _)| id.to_string());
    // A status filter needs the chain's height (to tell `expired` from `pending`): one row more than the page.
    let height = match query.status {
        Some(_) => view.last_height()?.unwrap_or(Height(0)),
        None => Height(0),
    };
    let status = |record: &ProposalRecord| ProposalStatusName::at(&record.status, record.proposal.expires_at, height);
    let proposals = rows
        .into_iter()
        .filter(|(_, record)| query.status.is_none_or(|wanted| status(record) == wanted))
        .map(|(id, record)| ProposalEntry { id, record })
        .collect();
    Ok(ProposalList { proposals, next_after: next_after(last, more) })
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
        // Only an open proposal is tallied: a closed one was judged once, in its closing receipt's verdict.
        let open = record.as_ref().is_some_and(|r| !ProposalStatusName::of(&r.status).is_closed());
        let tally = if open { execution::tally(view, &id)? } else { None };
        let height = view.last_height()?.unwrap_or(Height(0));
        Ok(Json(ProposalDetail::new(id, record, receipts, tally, height)))
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use governance_contracts::codec::BoundedVec;
    use governance_contracts::crypto::Digest;
    use governance_contracts::state::records::{ProposalRecord, ProposalStatus};
    use governance_contracts::state::{ChangeSet, TableKey as _};
    use governance_contracts::testkit::{TestChain, account};
    use governance_contracts::types::{Action, Principal};

    use super::*;
    use crate::storage::NodeStore;

    /// A store holding `count` proposals, every hundredth pending and the others executed.
    fn store_with_proposals(dir: &std::path::Path, count: u32) -> NodeStore {
        let mut chain = TestChain::with_members(4);
        let proposal = chain.proposal(
            Principal::Account(account("m0-gov")),
            vec![Action::FreezeAccount { account: account("m3-ops") }],
        );
        let mut store = NodeStore::open_with_genesis(dir, &chain.genesis).expect("the store opens");
        let mut changes = ChangeSet::new();
        for i in 0..count {
            let id = ProposalId(Digest::sha256(&[&i.to_be_bytes()]));
            let status =
                if i % 100 == 0 { ProposalStatus::Pending } else { ProposalStatus::Executed { at: Height(1) } };
            let record = ProposalRecord {
                proposal: proposal.clone(),
                submitted_at: Height(1),
                status,
                approvals: BoundedVec::new(),
            };
            changes.insert((PROPOSALS.id(), id.to_key_bytes()), Some(encode(&record)));
        }
        store.apply_changes(&changes).expect("the proposals are written");
        store
    }

    /// With 100,000 proposals in state, each page of at most `limit` reads at most `limit + 1` rows, and
    /// following `next_after` returns every proposal once, in id order; filtered by status, each page reads one row
    /// more (the chain's height), and paging through returns every proposal of that status once.
    #[test]
    fn pages_read_only_the_rows_they_need() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with_proposals(dir.path(), 100_000);
        let reader = store.reader();
        for (status, limit, expected) in
            [(None, 1_000u32, 100_000), (None, 333, 100_000), (Some(ProposalStatusName::Pending), 1_000, 1_000)]
        {
            let mut seen = BTreeSet::new();
            let mut last: Option<ProposalId> = None;
            let mut after = None;
            loop {
                let view = reader.snapshot();
                let query = ProposalQuery { status, limit: Some(limit), after: after.take() };
                let page = proposal_page(&view, &query).expect("a page");
                // The page and its one look-ahead row, and with a status filter the chain's height.
                let budget = u64::from(limit) + 1 + u64::from(status.is_some());
                assert!(view.rows_read() <= budget, "a page of {limit} read {} rows", view.rows_read());
                for entry in &page.proposals {
                    assert!(last.is_none_or(|l| l < entry.id), "in id order");
                    last = Some(entry.id);
                    if let Some(wanted) = status {
                        assert_eq!(ProposalStatusName::of(&entry.record.status), wanted);
                    }
                    assert!(seen.insert(entry.id), "{} twice", entry.id);
                }
                match page.next_after {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen.len(), expected, "{status:?} by {limit}");
        }
    }

    /// Accounts with ids of mixed lengths and characters page in the table's order (shorter ids first), each
    /// once, a page of `limit` reading at most `limit` + 2 rows (the height, and one account past the page) and
    /// the grants of the accounts it holds; an `after` that is no account id is a 400.
    #[test]
    fn account_pages_cover_mixed_ids_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let chain = TestChain::with_members(4);
        let mut store = NodeStore::open_with_genesis(dir.path(), &chain.genesis).expect("the store opens");
        let (_, template) = ACCOUNTS.all(&store).expect("reads").into_iter().next().expect("a genesis account");
        let mut changes = ChangeSet::new();
        let mut ids = BTreeSet::new();
        for i in 0..500u32 {
            let id = AccountId::new(format!("{}{i}", "z.-_9a".repeat(usize::try_from(i % 7).expect("small"))))
                .or_else(|_| AccountId::new(format!("a{i}")))
                .expect("a valid id");
            ids.insert(id.clone());
            changes.insert((ACCOUNTS.id(), id.to_key_bytes()), Some(encode(&template)));
        }
        store.apply_changes(&changes).expect("written");
        let all: Vec<AccountId> = ACCOUNTS.all(&store).expect("reads").into_iter().map(|(id, _)| id).collect();
        let reader = store.reader();
        let mut listed = Vec::new();
        let mut after = None;
        loop {
            let view = reader.snapshot();
            let page = Page { limit: Some(9), after: after.take() };
            let key = after_key::<AccountId>(&page, "account id").expect("a listed id");
            let answer = account_page(&view, key.as_deref(), 9).expect("a page");
            let grants: usize = answer.accounts.iter().map(|a| a.roles.len()).sum();
            let bound = 9 + 2 + u64::try_from(grants).expect("small");
            assert!(view.rows_read() <= bound, "a page of 9 read {} rows", view.rows_read());
            listed.extend(answer.accounts.iter().map(|a| a.id.clone()));
            match answer.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(listed, all, "every account once, in the table's order");
        assert!(listed.iter().take(3).all(|id| id.as_str().len() <= listed[listed.len() - 1].as_str().len()));
        let bad = Page { limit: None, after: Some("Not An Id".into()) };
        assert_eq!(after_key::<AccountId>(&bad, "account id").map_err(|e| e.status().as_u16()), Err(400));
    }
}
