//! The node's HTTP API (axum, JSON): status and health, the governance state, the chain (blocks, transactions,
//! evidence), record proofs, transaction submission, a live event stream, Prometheus metrics and an OpenAPI
//! description of all of it.
//!
//! The API never touches the consensus host. It reads the store through a [`StoreReader`](crate::storage::StoreReader)
//! (one RocksDB snapshot per request, so every answer describes one committed height) and talks to the runtime
//! through the [`bridge`]: the status the runtime publishes, the commands it answers and the blocks it announces.
//!
//! Every query string, path parameter, body and answer is a type of the `api_types` crate, which the CLI's client
//! and the console's node client use too, and from which the OpenAPI document is generated (`openapi.rs`): the
//! handlers answer those types, never free-form JSON.
//!
//! # Routes
//!
//! | route                                   | answer                                                               |
//! |-----------------------------------------|----------------------------------------------------------------------|
//! | `GET /healthz`                          | `ok` (plain text): the server is up                                  |
//! | `GET /v1/status`                        | [`api_types::NodeStatus`]                                            |
//! | `GET /v1/members[/{id}]`                | [`api_types::MemberList`], [`api_types::Member`]                     |
//! | `GET /v1/nodes[/{id}]`                  | [`api_types::NodeList`], [`api_types::Node`]                         |
//! | `GET /v1/accounts[/{id}]`               | [`api_types::AccountList`], [`api_types::AccountDetail`]             |
//! | `GET /v1/roles`                         | [`api_types::RolesAnswer`]: role definitions and every grant         |
//! | `GET /v1/policy`, `GET /v1/params`      | [`api_types::PolicyAnswer`], the chain parameters                    |
//! | `GET /v1/proposals[/{id}]`              | [`api_types::ProposalList`] (by status, paged), [`api_types::ProposalDetail`] |
//! | `POST /v1/proposals/dry-run`            | [`api_types::DryRun`]: what a proposal would do in the next block    |
//! | `GET /v1/blocks[/{height}]`             | [`api_types::BlockList`] (latest first, paged), [`api_types::BlockBody`] |
//! | `POST /v1/transactions`                 | [`api_types::Submitted`] once the mempool admits it                  |
//! | `GET /v1/transactions/{hash}[/wait]`    | [`api_types::TransactionBody`] (or a long poll for it)               |
//! | `GET /v1/evidence`                      | [`api_types::EvidenceList`]: equivocation evidence, by height        |
//! | `GET /v1/proofs/{kind}/{id}`            | an offline-verifiable `ProofBundle` of one record ([`api_types::ProofKind`]) |
//! | `GET /v1/events`                        | server-sent [`api_types::ChainEvent`]s                               |
//! | `GET /metrics`                          | Prometheus text                                                      |
//! | `GET /v1/openapi.json`                  | the OpenAPI 3.1 description                                          |
//!
//! Every error is JSON ([`api_types::ErrorBody`]) with a stable `code`. Bodies are bounded ([`MAX_BODY_BYTES`]),
//! pages too ([`api_types::MAX_PAGE`]), and waits ([`api_types::MAX_WAIT_MS`]). So is the work done for clients at
//! once and the memory held for each ([`bridge::ApiLimits`]): proofs being built, event streams open and each
//! stream's unread events; a request beyond is answered 503 `busy` with a `Retry-After` header, never queued.

pub mod bridge;
pub mod error;

mod chain;
mod events;
mod extract;
mod governance;
mod metrics;
mod openapi;
mod proofs;
pub mod tls;
mod transactions;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use api_types::{ErrorBody, MAX_BODY_BYTES};
pub use bridge::ApiState;
pub use error::ApiError;

use crate::storage::StoreView;

/// The API's routes over `state`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/status", get(chain::status))
        .route("/v1/members", get(governance::members))
        .route("/v1/members/{id}", get(governance::member))
        .route("/v1/nodes", get(governance::nodes))
        .route("/v1/nodes/{id}", get(governance::node))
        .route("/v1/accounts", get(governance::accounts))
        .route("/v1/accounts/{id}", get(governance::account))
        .route("/v1/roles", get(governance::roles))
        .route("/v1/policy", get(governance::policy))
        .route("/v1/params", get(governance::params))
        .route("/v1/proposals", get(governance::proposals))
        .route("/v1/proposals/dry-run", post(governance::dry_run))
        .route("/v1/proposals/{id}", get(governance::proposal))
        .route("/v1/blocks", get(chain::blocks))
        .route("/v1/blocks/{height}", get(chain::block))
        .route("/v1/evidence", get(chain::evidence))
        .route("/v1/transactions", post(transactions::submit))
        .route("/v1/transactions/{hash}", get(transactions::transaction))
        .route("/v1/transactions/{hash}/wait", get(transactions::wait))
        .route("/v1/proofs/member/{id}", get(proofs::member))
        .route("/v1/proofs/node/{id}", get(proofs::node))
        .route("/v1/proofs/account/{id}", get(proofs::account))
        .route("/v1/proofs/grant/{id}", get(proofs::grant))
        .route("/v1/proofs/anchor/{id}", get(proofs::anchor))
        .route("/v1/events", get(events::events))
        .route("/v1/openapi.json", get(openapi::openapi))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes: then the event streams and long polls end, the
/// server stops accepting, and the requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.close();
        })
        .await
}

/// `GET /healthz`: the server answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The server is up: `ok`", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Runs `read` over one snapshot of the store, off the async workers (RocksDB reads block).
async fn read<T, F>(state: &ApiState, read: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&StoreView<'_>) -> Result<T, ApiError> + Send + 'static,
{
    let store = state.inner.store.clone();
    tokio::task::spawn_blocking(move || read(&store.snapshot()))
        .await
        .map_err(|e| ApiError::internal("a read task failed", &e))?
}
