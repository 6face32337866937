//! `GET /v1/openapi.json`: the OpenAPI 3 description of every route, generated from the handlers' annotations.
//! Types of `governance_contracts` (which knows nothing of OpenAPI) are described as JSON objects.

use axum::Json;
use utoipa::OpenApi;

use super::bridge::{
    ChainEvent, Direction, FinalizedTransaction, NodeKind, NodeStatus, P2pStats, PeerStatus, StatusCounters,
};
use super::chain::{BlockBody, BlockList};
use super::error::ErrorBody;
use super::transactions::{Submitted, TransactionBody};
use crate::consensus::host::HostCounters;

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Synod node API",
        description = "Status, governance state, chain, proofs, submission, events and metrics of one Synod node."
    ),
    paths(
        super::healthz,
        super::chain::status,
        super::governance::members,
        super::governance::member,
        super::governance::nodes,
        super::governance::node,
        super::governance::accounts,
        super::governance::account,
        super::governance::roles,
        super::governance::policy,
        super::governance::params,
        super::governance::proposals,
        super::governance::proposal,
        super::governance::dry_run,
        super::chain::blocks,
        super::chain::block,
        super::chain::evidence,
        super::transactions::submit,
        super::transactions::transaction,
        super::transactions::wait,
        super::proofs::proof,
        super::events::events,
        super::metrics::metrics,
        openapi,
    ),
    components(schemas(
        NodeStatus,
        NodeKind,
        PeerStatus,
        Direction,
        StatusCounters,
        HostCounters,
        P2pStats,
        ChainEvent,
        FinalizedTransaction,
        ErrorBody,
        Submitted,
        TransactionBody,
        BlockBody,
        BlockList,
    ))
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`: this API's OpenAPI 3 description.
#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "The OpenAPI 3 document", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
