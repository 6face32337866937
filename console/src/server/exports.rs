//! Audit exports: CSV, and a JSON bundle whose audit rows re-check by their hash chain and whose on-chain part (a
//! proof of every member's record, and of the trail's latest anchor, against a certified header) re-verifies
//! offline with `synod verify-proof`; `synod-console verify-export` checks the rows against the anchor.

use axum::{
    Extension, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use governance_contracts::domain::ChainIdentity;
use serde::Deserialize;

use crate::server::{
    audit::{self, AuditKind},
    audit_view::filter,
    auth::{Session, record},
    node::ProofKind,
    state::AppState,
};

/// The most member proofs one bundle carries.
const MAX_PROOFS: usize = 64;

/// The filter fields of an export.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
}

/// The `format` of a JSON export, which `synod-console verify-export` reads.
pub const EXPORT_FORMAT: &str = "synod-console-audit/v1";

/// `/audit/export.csv` and `/audit/export.json`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/audit/export.csv", get(csv)).route("/audit/export.json", get(json))
}

fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    (status, why.into()).into_response()
}

/// The session of an export's request, when its account still holds a role the console serves (as every server
/// function checks); otherwise the status and reason to refuse with.
fn reader(state: &AppState, session: Option<Extension<Session>>) -> Result<Session, (StatusCode, &'static str)> {
    let Some(Extension(session)) = session else { return Err((StatusCode::UNAUTHORIZED, "sign in first")) };
    if state.identity(&session.account).is_none() {
        return Err((StatusCode::FORBIDDEN, "your account no longer holds a role the console serves: sign in again"));
    }
    Ok(session)
}

async fn csv(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let session = match reader(&state, session) {
        Ok(session) => session,
        Err((status, why)) => return refuse(status, why),
    };
    let filter = match filter(&query.actor, &query.kind, &query.subject) {
        Ok(filter) => filter,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let mut out = Vec::new();
    match audit::export_csv(&state.db, &filter, &mut out).await {
        Ok(rows) => {
            record(&state, &session.account, AuditKind::Export, "csv", serde_json::json!({ "rows": rows })).await;
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"synod-audit.csv\""),
                ],
                out,
            )
                .into_response()
        }
        Err(error) => refuse(StatusCode::BAD_REQUEST, error.to_string()),
    }
}

async fn json(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let session = match reader(&state, session) {
        Ok(session) => session,
        Err((status, why)) => return refuse(status, why),
    };
    let filter = match filter(&query.actor, &query.kind, &query.subject) {
        Ok(filter) => filter,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    // The anchor first: it names a row the trail already held, so the rows read next reach it.
    let anchor = match state.anchoring.as_ref().and_then(|anchoring| anchoring.account_in(&state.snapshot())) {
        Some(account) => {
            let id = account.to_string();
            Some(match state.node.proof(ProofKind::Anchor, &id).await {
                Ok(bundle) => serde_json::json!({ "kind": "anchor", "id": id, "bundle": bundle }),
                Err(error) => serde_json::json!({ "kind": "anchor", "id": id, "error": error.to_string() }),
            })
        }
        None => None,
    };
    let export = match audit::export_json(&state.db, &filter).await {
        Ok(export) => export,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let mut proofs = Vec::new();
    for member in state.snapshot().members.iter().take(MAX_PROOFS) {
        let id = member.id.to_string();
        match state.node.proof(ProofKind::Member, &id).await {
            Ok(bundle) => proofs.push(serde_json::json!({ "kind": "member", "id": id, "bundle": bundle })),
            Err(error) => proofs.push(serde_json::json!({ "kind": "member", "id": id, "error": error.to_string() })),
        }
    }
    proofs.extend(anchor);
    let rows = export.rows.len();
    let body = document(&state.chain, export, proofs);
    record(&state, &session.account, AuditKind::Export, "json", serde_json::json!({ "rows": rows })).await;
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"synod-audit.json\""),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The JSON export `synod-console verify-export` reads: the rows with their head and hash rule, and `proofs`, each
/// `{ "kind", "id", "bundle" }` (or `"error"` instead of the bundle when the console could not get it), the
/// members' and the trail's latest anchor (`"kind": "anchor"`, the id the console's account).
pub fn document(
    chain: &ChainIdentity,
    export: audit::AuditExport,
    proofs: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "format": EXPORT_FORMAT,
        "chain": chain,
        "verify": "Check it all offline with `synod-console verify-export --genesis genesis.json THIS_FILE`. Each row's \
                   hash chains to the previous row's (see `hash_rule`), and the trail holds the row the chain anchored \
                   (the `anchor` proof) with the anchored hash. Each entry of `proofs` is a proof bundle: save its \
                   `bundle` to a file and `synod verify-proof --genesis genesis.json FILE` checks it too.",
        "audit": export,
        "proofs": proofs,
    })
}
