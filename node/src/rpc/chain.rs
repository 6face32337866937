//! The chain: `/v1/status`, `/v1/blocks`, `/v1/blocks/{height}` and `/v1/evidence`.

use axum::Json;
use axum::extract::State;
use governance_contracts::codec::decode;
use governance_contracts::ids::{BlockHash, Height};
use governance_contracts::types::{Block, CommitCertificate, Receipt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::bridge::NodeStatus;
use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query, parse};
use super::{ApiState, DEFAULT_PAGE, MAX_PAGE, read};
use crate::consensus::evidence::Evidence;
use crate::storage::StoreView;

/// `GET /v1/status`: what the node is doing, as the runtime last published it.
#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = NodeStatus)))]
pub async fn status(State(state): State<ApiState>) -> Json<NodeStatus> {
    Json(state.status())
}

/// One committed block with its finality proof and the receipts of its transactions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockBody {
    /// Its height.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Its hash.
    #[schema(value_type = String)]
    pub hash: BlockHash,
    /// The block: `header` and `transactions`.
    #[schema(value_type = Object)]
    pub block: Block,
    /// Its commit certificate.
    #[schema(value_type = Object)]
    pub certificate: CommitCertificate,
    /// One receipt per transaction, in order (`tx`, `outcome`, `events`).
    #[schema(value_type = Vec<Object>)]
    pub receipts: Vec<Receipt>,
}

/// The committed block at `height` with its certificate and receipts, if committed.
fn block_at(view: &StoreView<'_>, state: &ApiState, height: Height) -> Result<Option<BlockBody>, ApiError> {
    let Some(block) = view.block(height)? else { return Ok(None) };
    let certificate = view
        .certificate(height)?
        .ok_or_else(|| ApiError::internal("the store is corrupt", &format!("block {height} has no certificate")))?;
    let receipts = view
        .receipts(height)?
        .ok_or_else(|| ApiError::internal("the store is corrupt", &format!("block {height} has no receipts")))?;
    Ok(Some(BlockBody { height, hash: block.hash(state.chain()), block, certificate, receipts }))
}

/// `GET /v1/blocks/{height}`: one committed block.
#[utoipa::path(get, path = "/v1/blocks/{height}", params(("height" = u64, Path, description = "The block's height")),
    responses((status = 200, body = BlockBody), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn block(State(state): State<ApiState>, Path(height): Path<String>) -> Result<Json<BlockBody>, ApiError> {
    let height = Height(parse::<u64>("height", &height)?);
    let api = state.clone();
    let found = read(&state, move |view| block_at(view, &api, height)).await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("no block is committed at height {height}")))
}

/// The most blocks one page of `/v1/blocks` holds (each comes whole, with its receipts).
pub const MAX_BLOCK_PAGE: usize = 100;
/// The blocks of a page when the request does not say.
pub const DEFAULT_BLOCK_PAGE: usize = 20;

/// `?limit=` and `?before=` for the block list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockPage {
    /// Most blocks to return (default 20, at most 100).
    pub limit: Option<usize>,
    /// Return the blocks below this height (the last height of the previous page); default: from the latest.
    pub before: Option<u64>,
}

/// A page of blocks, latest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// The blocks, latest first.
    pub blocks: Vec<BlockBody>,
    /// The `before` of the next page, if there are older blocks.
    pub next_before: Option<u64>,
}

/// `GET /v1/blocks`: committed blocks, latest first.
#[utoipa::path(get, path = "/v1/blocks", params(BlockPage), responses((status = 200, body = BlockList), (status = 400, body = ErrorBody)))]
pub async fn blocks(State(state): State<ApiState>, Query(page): Query<BlockPage>) -> Result<Json<BlockList>, ApiError> {
    let limit = match page.limit {
        None => DEFAULT_BLOCK_PAGE,
        Some(n) if (1..=MAX_BLOCK_PAGE).contains(&n) => n,
        Some(_) => return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_BLOCK_PAGE}"))),
    };
    let api = state.clone();
    let list = read(&state, move |view| {
        let last = view.last_height()?.unwrap_or(Height(0)).0;
        let top = page.before.map_or(last, |before| before.saturating_sub(1).min(last));
        let mut blocks = Vec::new();
        let mut height = top;
        while height >= 1 && blocks.len() < limit {
            if let Some(body) = block_at(view, &api, Height(height))? {
                blocks.push(body);
            }
            height = height.saturating_sub(1);
        }
        let next_before = blocks.last().map(|b| b.height.0).filter(|h| *h > 1);
        Ok(BlockList { blocks, next_before })
    })
    .await?;
    Ok(Json(list))
}

/// `?from=` and `?limit=` for the evidence list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidencePage {
    /// The lowest height to list (default 0).
    pub from: Option<u64>,
    /// Most pieces to return (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// One piece of equivocation evidence as JSON: where it is stored, who equivocated, and both signed messages.
fn evidence_json(height: Height, seq: u32, evidence: &Evidence) -> Value {
    let (kind, first, second) = match evidence {
        Evidence::Votes { first, second } => (
            "votes",
            json!({ "message": first.0, "signature": first.1 }),
            json!({ "message": second.0, "signature": second.1 }),
        ),
        Evidence::Proposals { first, second } => (
            "proposals",
            json!({ "message": first.0, "signature": first.1 }),
            json!({ "message": second.0, "signature": second.1 }),
        ),
    };
    json!({
        "height": height,
        "seq": seq,
        "offender": evidence.offender(),
        "kind": kind,
        "first": first,
        "second": second,
    })
}

/// `GET /v1/evidence`: equivocation evidence the node stored, by height.
#[utoipa::path(get, path = "/v1/evidence", params(EvidencePage),
    responses((status = 200, description = "`{\"evidence\": [{height, seq, offender, kind, first, second}]}`", body = Object)))]
pub async fn evidence(
    State(state): State<ApiState>,
    Query(page): Query<EvidencePage>,
) -> Result<Json<Value>, ApiError> {
    let limit = match page.limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_PAGE}"))),
    };
    let from = Height(page.from.unwrap_or(0));
    let list = read(&state, move |view| {
        view.evidence(from, limit)?
            .into_iter()
            .map(|stored| {
                let evidence: Evidence = decode(&stored.bytes).map_err(|e| {
                    ApiError::internal(
                        "the store is corrupt",
                        &format!("evidence {}/{}: {e}", stored.height, stored.seq),
                    )
                })?;
                Ok(evidence_json(stored.height, stored.seq, &evidence))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    Ok(Json(json!({ "evidence": list })))
}
