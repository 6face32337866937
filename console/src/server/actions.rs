//! What the console does on a user's behalf: relay browser-signed transactions, after checking who signed them.

use axum::http::StatusCode;
use governance_contracts::{
    codec,
    types::{Action, Payload, Principal, SignedTransaction},
};
use leptos::prelude::*;

use crate::{
    api::Submitted,
    server::{
        audit::AuditKind,
        auth::{Session, current_session, record},
        state::AppState,
    },
};

/// The largest signed transaction the console relays (hex characters).
const MAX_TX_HEX: usize = 2 * 1024 * 1024;

/// A refusal: a request the caller may not make, or whose input is wrong, answered with `status` (a 4xx) and
/// `message` in words; only a failure of the console itself answers 500. The status is set only on a call of a
/// server function (`/api/…`): a page rendered on the server calls the same functions for its data, and a refusal
/// of one of them is shown in the page, which is answered 200.
pub fn refuse(status: StatusCode, message: impl Into<String>) -> ServerFnError {
    let server_fn_call =
        use_context::<axum::http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if server_fn_call && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// The signed-in session and its identity, or an error telling the user to sign in.
pub fn require_session(state: &AppState) -> Result<(Session, crate::api::Identity), ServerFnError> {
    let session = current_session().ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, crate::api::SIGN_IN_FIRST))?;
    let identity = state.identity(&session.account).ok_or_else(|| {
        refuse(StatusCode::FORBIDDEN, "your account no longer holds a role the console serves: sign in again")
    })?;
    Ok((session, identity))
}

/// The reader of the chain's data: the signed-in session and its identity, or `None` for a visitor when the
/// console serves public reads (`--public-read`); otherwise an error telling the user to sign in.
pub fn require_reader(state: &AppState) -> Result<Option<(Session, crate::api::Identity)>, ServerFnError> {
    // A public console reads for anyone: asking whether there is a signed-in reader must not refuse the call.
    let reader = current_session().and_then(|session| Some((session.clone(), state.identity(&session.account)?)));
    match reader {
        Some(reader) => Ok(Some(reader)),
        None if state.access.public_read => Ok(None),
        None => require_session(state).map(Some),
    }
}

/// Who may relay `tx`: its own sender, or an operator of a node's owner relaying the node's key rotation request.
fn may_relay(state: &AppState, identity: &crate::api::Identity, tx: &SignedTransaction) -> Result<(), String> {
    match &tx.tx.sender {
        Principal::Account(account) if account.to_string() == identity.account => {
            if identity.read_only {
                Err("your account may only read".to_owned())
            } else {
                Ok(())
            }
        }
        Principal::Account(account) => Err(format!("this transaction is signed by {account}, not by you")),
        Principal::Node(node) => {
            let snapshot = state.snapshot();
            let owner = snapshot.node(node).map(|n| n.record.owner.to_string());
            let rotation = matches!(&tx.tx.payload, Payload::SubmitProposal { proposal, .. }
                if proposal.actions.iter().all(|a| matches!(a, Action::RotateNodeKey { node: n, .. } if n == node)));
            if !rotation {
                Err("a node's transaction is relayed only when it is that node's own key rotation request".to_owned())
            } else if owner.as_deref() != Some(identity.member.as_str())
                || !identity.roles.iter().any(|r| r == "operator")
            {
                Err(format!("only an operator of {node}'s owner relays its rotation request"))
            } else {
                Ok(())
            }
        }
    }
}

/// Decodes, checks and relays a browser-signed transaction; records it in the audit trail.
pub async fn submit_transaction(signed_hex: &str) -> Result<Submitted, ServerFnError> {
    let state = AppState::get()?;
    let (session, identity) = require_session(&state)?;
    if signed_hex.len() > MAX_TX_HEX {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the transaction is too large"));
    }
    let bytes = hex::decode(signed_hex).map_err(|_| refuse(StatusCode::BAD_REQUEST, "the transaction is not hex"))?;
    let tx: SignedTransaction = codec::decode(&bytes)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("the transaction does not decode: {e}")))?;
    may_relay(&state, &identity, &tx).map_err(|why| refuse(StatusCode::FORBIDDEN, why))?;
    let hash = tx.tx.hash(&state.chain).to_string();
    let kind = payload_kind(&tx.tx.payload);
    let subject = payload_subject(&state, &tx);
    match state.node.submit(signed_hex).await {
        Ok(_) => {
            let detail = serde_json::json!({ "payload": kind, "tx": hash });
            record(&state, &session.account, AuditKind::TxSubmitted, &subject, detail.clone()).await;
            if let Payload::SubmitProposal { .. } | Payload::Approve { .. } = &tx.tx.payload {
                record(&state, &session.account, AuditKind::ApprovalSigned, &subject, detail).await;
            }
            Ok(Submitted { tx_hash: hash })
        }
        Err(error) => {
            let detail = serde_json::json!({ "payload": kind, "tx": hash, "refused": error.to_string() });
            record(&state, &session.account, AuditKind::TxSubmitted, &subject, detail).await;
            Err(ServerFnError::new(error.to_string()))
        }
    }
}

fn payload_kind(payload: &Payload) -> &'static str {
    match payload {
        Payload::SubmitProposal { .. } => "submit_proposal",
        Payload::Approve { .. } => "approve",
        Payload::RevokeApproval { .. } => "revoke_approval",
        Payload::CancelProposal { .. } => "cancel_proposal",
        Payload::ExecuteProposal { .. } => "execute_proposal",
        Payload::RotateAccountKey { .. } => "rotate_account_key",
        Payload::MarkKeyCompromised { .. } => "mark_key_compromised",
        Payload::AttestReadiness { .. } => "attest_readiness",
        Payload::AnchorAuditTrail { .. } => "anchor_audit_trail",
    }
}

fn payload_subject(state: &AppState, tx: &SignedTransaction) -> String {
    match &tx.tx.payload {
        Payload::SubmitProposal { proposal, .. } => proposal.id(&state.chain).to_string(),
        Payload::Approve { proposal, .. }
        | Payload::RevokeApproval { proposal }
        | Payload::CancelProposal { proposal }
        | Payload::ExecuteProposal { proposal } => proposal.to_string(),
        Payload::MarkKeyCompromised { account, .. } => account.to_string(),
        Payload::RotateAccountKey { .. } | Payload::AttestReadiness { .. } | Payload::AnchorAuditTrail { .. } => {
            String::new()
        }
    }
}

/// Waits for a transaction's receipt.
pub async fn wait_transaction(tx_hash: &str) -> Result<String, ServerFnError> {
    let state = AppState::get()?;
    let (session, _) = require_session(&state)?;
    if tx_hash.len() > 80 {
        return Err(refuse(StatusCode::BAD_REQUEST, "that is not a transaction hash"));
    }
    let hash: governance_contracts::ids::TxHash =
        tx_hash.parse().map_err(|_| refuse(StatusCode::BAD_REQUEST, "that is not a transaction hash"))?;
    let body = state
        .node
        .wait(&hash, std::time::Duration::from_secs(20))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "not in a block yet: wait for the next block"))?;
    let receipt = body.receipt;
    let lang = session.lang;
    if let governance_contracts::types::Outcome::Rejected { reason } = &receipt.outcome {
        let why = crate::pages::events::rejection_words(lang, reason);
        return Err(ServerFnError::new(match lang {
            crate::i18n::Lang::En => format!("refused at height {}: {why}", body.height),
            crate::i18n::Lang::ZhCn => format!("在高度 {} 被拒绝：{why}", body.height),
        }));
    }
    let failed = receipt.events.iter().find(|e| matches!(e, governance_contracts::types::Event::ProposalFailed { .. }));
    if let Some(failed) = failed {
        let what = crate::pages::events::event_words(lang, failed);
        return Err(ServerFnError::new(match lang {
            crate::i18n::Lang::En => format!("included at height {}, but {what}", body.height),
            crate::i18n::Lang::ZhCn => format!("已在高度 {} 上链，但{what}", body.height),
        }));
    }
    Ok(crate::pages::events::included_words(lang, body.height.0, &receipt.events))
}
