//! The node's HTTP API (axum, JSON): status and health, the governance state, the chain (blocks, transactions,
//! evidence), record proofs, transaction submission, a live event stream, Prometheus metrics and an OpenAPI
//! description of all of it.
//!
//! The API never touches the consensus host. It reads the store through a [`StoreReader`](crate::storage::StoreReader)
//! (one RocksDB snapshot per request, so every answer describes one committed height) and talks to the runtime
//! through the [`bridge`]: the status the runtime publishes, the commands it answers and the blocks it announces.
//!
//! # Routes
//!
//! | route                                   | answer                                                               |
//! |-----------------------------------------|----------------------------------------------------------------------|
//! | `GET /healthz`                          | `ok` (plain text): the server is up                                  |
//! | `GET /v1/status`                        | [`bridge::NodeStatus`]                                               |
//! | `GET /v1/members[/{id}]`                | member records with `id`                                             |
//! | `GET /v1/nodes[/{id}]`                  | node records with `id`                                               |
//! | `GET /v1/accounts[/{id}]`               | account records with `id` and their role grants                      |
//! | `GET /v1/roles`                         | role definitions and every grant                                     |
//! | `GET /v1/policy`, `GET /v1/params`      | the approval rules by action kind, the chain parameters              |
//! | `GET /v1/proposals[/{id}]`              | proposal records (filter by status, paged); one with its receipts    |
//! | `POST /v1/proposals/dry-run`            | what a proposal would do if executed in the next block               |
//! | `GET /v1/blocks[/{height}]`             | blocks, latest first (paged); one with certificate and receipts      |
//! | `POST /v1/transactions`                 | `{"tx_hash"}` once the mempool admits it                             |
//! | `GET /v1/transactions/{hash}[/wait]`    | the transaction, its receipt and location (or a long poll for it)    |
//! | `GET /v1/evidence`                      | equivocation evidence, by height                                     |
//! | `GET /v1/proofs/{kind}/{id}`            | an offline-verifiable `ProofBundle` of one record                    |
//! | `GET /v1/events`                        | server-sent [`bridge::ChainEvent`]s                                  |
//! | `GET /metrics`                          | Prometheus text                                                      |
//! | `GET /v1/openapi.json`                  | the OpenAPI 3 description                                            |
//!
//! Every error is JSON ([`error::ErrorBody`]) with a stable `code`. Bodies are bounded ([`MAX_BODY_BYTES`]), pages
//! too ([`MAX_PAGE`]), and waits ([`MAX_WAIT`]).

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
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde::Deserialize;

pub use bridge::ApiState;
pub use error::{ApiError, ErrorBody};

use crate::storage::StoreView;

/// The largest request body accepted: a transaction of the largest size the chain parameters allow (4 MiB of
/// canonical bytes) still fits when sent as JSON.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The most items one page of a list holds.
pub const MAX_PAGE: usize = 1_000;
/// The items of a page when the request does not say.
pub const DEFAULT_PAGE: usize = 100;
/// The longest a long poll (`/v1/transactions/{hash}/wait`) waits.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

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
        .route("/v1/proofs/{kind}/{id}", get(proofs::proof))
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
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The server is up", body = String)))]
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

/// `?limit=` and `?after=`, the paging of the lists keyed by name or id.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Most items to return (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Return the items after this id (the last id of the previous page).
    pub after: Option<String>,
}

impl Page {
    /// The page size asked for, bounded.
    fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
            Some(n) if n > MAX_PAGE => Err(ApiError::bad_request(format!("limit must be at most {MAX_PAGE}"))),
            Some(n) => Ok(n),
        }
    }

    /// The items of `all` (sorted by their key's text) on this page.
    fn apply<T>(&self, all: Vec<(String, T)>) -> Result<Vec<T>, ApiError> {
        let limit = self.limit()?;
        let mut all = all;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all
            .into_iter()
            .filter(|(key, _)| self.after.as_ref().is_none_or(|after| key.as_str() > after.as_str()))
            .take(limit)
            .map(|(_, item)| item)
            .collect())
    }
}
