//! Transactions: `POST /v1/transactions` (admission through the runtime), `GET /v1/transactions/{hash}` and its
//! long poll `GET /v1/transactions/{hash}/wait`.

use std::time::Duration;

use api_types::{ErrorBody, HashPath, Submitted, TransactionBody, WaitQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use governance_contracts::codec::decode;
use governance_contracts::ids::TxHash;
use governance_contracts::types::SignedTransaction;
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, oneshot};

use super::bridge::Command;
use super::error::ApiError;
use super::extract::{Path, Query, parse};
use super::{ApiState, MAX_BODY_BYTES, read};
use crate::storage::StoreView;

/// How long a submission waits for the runtime to take and answer it.
pub const SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the request's `Content-Type` is `essence` (parameters such as `charset` aside).
fn is_content_type(headers: &HeaderMap, essence: &str) -> Option<bool> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let found = value.split(';').next().unwrap_or_default().trim();
    Some(found.eq_ignore_ascii_case(essence) || (essence == "application/json" && found.ends_with("+json")))
}

/// The request body, decoded as `T`: canonical bytes for `application/octet-stream`, serde JSON for
/// `application/json`. Anything else is refused with a clear 4xx.
pub fn decode_body<T: DeserializeOwned + borsh::BorshDeserialize>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(MAX_BODY_BYTES)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    if is_content_type(headers, "application/octet-stream") == Some(true) {
        decode(&body).map_err(|e| ApiError::malformed(format!("the body is not a canonical {what}: {e}")))
    } else if is_content_type(headers, "application/json") == Some(true) {
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(format!("the body is not a {what} in JSON: {e}")))
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "send the {what} as application/json or as canonical bytes (application/octet-stream)"
        )))
    }
}

/// `POST /v1/transactions`: hands a signed transaction to the runtime, which admits it to the mempool.
#[utoipa::path(post, path = "/v1/transactions", tag = "transactions",
    request_body(description = "A `SignedTransaction` of the contracts: its serde JSON, or its canonical (borsh) \
        bytes. The schema gives the shape only; whether the body decodes as a signed transaction is the node's \
        check (400 `malformed`), and whether the contracts admit it the mempool's (422 `rejected`).",
        content((Object = "application/json"), (api_types::schema::CanonicalBytes = "application/octet-stream"))),
    responses(
        (status = 200, body = Submitted, description = "Admitted to the mempool"),
        (status = 400, body = ErrorBody, description = "The body is not a signed transaction (`malformed`)"),
        (status = 413, body = ErrorBody, description = "The body exceeds `MAX_BODY_BYTES` (8 MiB)"),
        (status = 415, body = ErrorBody, description = "Neither application/json nor application/octet-stream"),
        (status = 422, body = ErrorBody, description = "Rejected by the contracts, with the reason (`rejection`)"),
        (status = 503, body = ErrorBody, description = "The runtime is gone or busy, or the mempool is full"),
    ))]
pub async fn submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Submitted>, ApiError> {
    let tx: SignedTransaction = decode_body(&headers, body, "signed transaction")?;
    let (reply, answer) = oneshot::channel();
    let command = Command::SubmitTransaction { tx: Box::new(tx), reply };
    let gone = || ApiError::unavailable("the node is not running: it cannot take transactions");
    match tokio::time::timeout(SUBMIT_TIMEOUT, state.inner.commands.send(command)).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Err(gone()),
        Err(_) => return Err(ApiError::unavailable("the node is too busy to take the transaction: retry later")),
    }
    match tokio::time::timeout(SUBMIT_TIMEOUT, answer).await {
        Ok(Ok(Ok(tx_hash))) => Ok(Json(Submitted { tx_hash })),
        Ok(Ok(Err(refused))) => Err(refused.into()),
        Ok(Err(_)) => Err(gone()),
        Err(_) => Err(ApiError::unavailable("the node did not answer in time: retry later")),
    }
}

/// The finalised transaction `hash`, if the store has it.
fn finalised(view: &StoreView<'_>, hash: &TxHash) -> Result<Option<TransactionBody>, ApiError> {
    let Some(location) = view.tx_location(hash)? else { return Ok(None) };
    let (transaction, receipt) = view.transaction(location)?.ok_or_else(|| {
        ApiError::internal("the store is corrupt", &format!("the index places {hash} at a missing {location:?}"))
    })?;
    Ok(Some(TransactionBody { hash: *hash, height: location.height, index: location.index, transaction, receipt }))
}

async fn lookup(state: &ApiState, hash: TxHash) -> Result<Option<TransactionBody>, ApiError> {
    read(state, move |view| finalised(view, &hash)).await
}

/// `GET /v1/transactions/{hash}`: a finalised transaction with its receipt and location.
#[utoipa::path(get, path = "/v1/transactions/{hash}", params(HashPath), tag = "transactions",
    responses((status = 200, body = TransactionBody), (status = 400, body = ErrorBody, description = "Not a hash"),
        (status = 404, body = ErrorBody, description = "No finalised transaction has that hash")))]
pub async fn transaction(
    State(state): State<ApiState>,
    Path(path): Path<HashPath>,
) -> Result<Json<TransactionBody>, ApiError> {
    let hash: TxHash = parse("transaction hash", &path.hash)?;
    lookup(&state, hash).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("no finalised transaction {hash}")))
}

/// `GET /v1/transactions/{hash}/wait`: answers as `GET /v1/transactions/{hash}` once the transaction is
/// finalised, or 408 `timeout` when it is not within the wait.
#[utoipa::path(get, path = "/v1/transactions/{hash}/wait", params(HashPath, WaitQuery), tag = "transactions",
    responses((status = 200, body = TransactionBody),
        (status = 400, body = ErrorBody, description = "Not a hash, or a bad `timeout_ms`"),
        (status = 408, body = ErrorBody, description = "Not finalised within the wait (`timeout`): ask again"),
        (status = 503, body = ErrorBody, description = "The node is shutting down")))]
pub async fn wait(
    State(state): State<ApiState>,
    Path(path): Path<HashPath>,
    Query(query): Query<WaitQuery>,
) -> Result<Json<TransactionBody>, ApiError> {
    let hash: TxHash = parse("transaction hash", &path.hash)?;
    let wait = Duration::from_millis(query.wait_ms()?);
    // Subscribe before the first look, so that a block committed in between is not missed.
    let mut blocks = state.inner.events.subscribe();
    let mut closing = state.inner.closing.subscribe();
    let waited = tokio::time::timeout(wait, async {
        loop {
            if let Some(found) = lookup(&state, hash).await? {
                return Ok(found);
            }
            tokio::select! {
                event = blocks.recv() => match event {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        return Err(ApiError::unavailable("the node stopped announcing blocks"));
                    }
                },
                _ = closing.wait_for(|closing| *closing) => {
                    return Err(ApiError::unavailable("the server is shutting down"));
                }
            }
        }
    })
    .await;
    match waited {
        Ok(answer) => answer.map(Json),
        Err(_) => {
            Err(ApiError::timeout(format!("transaction {hash} was not finalised within {} ms", wait.as_millis())))
        }
    }
}
