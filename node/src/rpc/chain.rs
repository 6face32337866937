//! The chain: `/v1/status`, `/v1/blocks`, `/v1/blocks/{height}` and `/v1/evidence`.

use api_types::{
    BlockBody, BlockList, BlockQuery, Conflict, ErrorBody, EvidenceEntry, EvidenceList, EvidenceQuery, HeightPath,
    NodeStatus, SignedProposalMessage, SignedVoteMessage,
};
use axum::Json;
use axum::extract::State;
use governance_contracts::codec::decode;
use governance_contracts::ids::Height;

use super::error::ApiError;
use super::extract::{Path, Query, parse};
use super::{ApiState, read};
use crate::consensus::evidence::Evidence;
use crate::storage::StoreView;

/// `GET /v1/status`: what the node is doing, as the runtime last published it.
#[utoipa::path(get, path = "/v1/status", tag = "chain", responses((status = 200, body = NodeStatus)))]
pub async fn status(State(state): State<ApiState>) -> Json<NodeStatus> {
    Json(state.status())
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
#[utoipa::path(get, path = "/v1/blocks/{height}", params(HeightPath), tag = "chain",
    responses((status = 200, body = BlockBody), (status = 400, body = ErrorBody, description = "Not a height"),
        (status = 404, body = ErrorBody, description = "No block is committed at that height")))]
pub async fn block(State(state): State<ApiState>, Path(path): Path<HeightPath>) -> Result<Json<BlockBody>, ApiError> {
    let height = Height(parse::<u64>("height", &path.height)?);
    let api = state.clone();
    let found = read(&state, move |view| block_at(view, &api, height)).await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("no block is committed at height {height}")))
}

/// `GET /v1/blocks`: committed blocks, latest first.
#[utoipa::path(get, path = "/v1/blocks", params(BlockQuery), tag = "chain",
    responses((status = 200, body = BlockList), (status = 400, body = ErrorBody, description = "A bad `limit` or `before`")))]
pub async fn blocks(
    State(state): State<ApiState>,
    Query(page): Query<BlockQuery>,
) -> Result<Json<BlockList>, ApiError> {
    let limit = page.limit()?;
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

/// One piece of stored evidence as the API answers it.
fn evidence_entry(height: Height, seq: u32, evidence: Evidence) -> EvidenceEntry {
    let offender = evidence.offender().clone();
    let conflict = match evidence {
        Evidence::Votes { first, second } => Conflict::Votes {
            first: SignedVoteMessage { message: first.0, signature: first.1 },
            second: SignedVoteMessage { message: second.0, signature: second.1 },
        },
        Evidence::Proposals { first, second } => Conflict::Proposals {
            first: SignedProposalMessage { message: first.0, signature: first.1 },
            second: SignedProposalMessage { message: second.0, signature: second.1 },
        },
    };
    EvidenceEntry { height, seq, offender, conflict }
}

/// `GET /v1/evidence`: equivocation evidence the node stored, by height.
#[utoipa::path(get, path = "/v1/evidence", params(EvidenceQuery), tag = "chain",
    responses((status = 200, body = EvidenceList), (status = 400, body = ErrorBody, description = "A bad `from` or `limit`")))]
pub async fn evidence(
    State(state): State<ApiState>,
    Query(page): Query<EvidenceQuery>,
) -> Result<Json<EvidenceList>, ApiError> {
    let limit = page.limit()?;
    let from = Height(page.from.unwrap_or(0));
    let evidence = read(&state, move |view| {
        view.evidence(from, limit)?
            .into_iter()
            .map(|stored| {
                let evidence: Evidence = decode(&stored.bytes).map_err(|e| {
                    ApiError::internal(
                        "the store is corrupt",
                        &format!("evidence {}/{}: {e}", stored.height, stored.seq),
                    )
                })?;
                Ok(evidence_entry(stored.height, stored.seq, evidence))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    Ok(Json(EvidenceList { evidence }))
}
