//! What the console does on a user's behalf: relay browser-signed transactions, after checking who signed them.

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

/// The signed-in session and its identity, or an error telling the user to sign in.
pub fn require_session(state: &AppState) -> Result<(Session, crate::api::Identity), ServerFnError> {
    let session = current_session().ok_or_else(|| ServerFnError::new("sign in first"))?;
    let identity = state
        .identity(&session.account)
        .ok_or_else(|| ServerFnError::new("your account no longer holds a role the console serves: sign in again"))?;
    Ok((session, identity))
}

/// The reader of the chain's data: the signed-in session and its identity, or `None` for a visitor when the
/// console serves public reads (`--public-read`); otherwise an error telling the user to sign in.
pub fn require_reader(state: &AppState) -> Result<Option<(Session, crate::api::Identity)>, ServerFnError> {
    match require_session(state) {
        Ok(reader) => Ok(Some(reader)),
        Err(_) if state.access.public_read => Ok(None),
        Err(error) => Err(error),
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
        return Err(ServerFnError::new("the transaction is too large"));
    }
    let bytes = hex::decode(signed_hex).map_err(|_| ServerFnError::new("the transaction is not hex"))?;
    let tx: SignedTransaction =
        codec::decode(&bytes).map_err(|e| ServerFnError::new(format!("the transaction does not decode: {e}")))?;
    may_relay(&state, &identity, &tx).map_err(ServerFnError::new)?;
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
        return Err(ServerFnError::new("that is not a transaction hash"));
    }
    let hash: governance_contracts::ids::TxHash =
        tx_hash.parse().map_err(|_| ServerFnError::new("that is not a transaction hash"))?;
    let body = state
        .node
        .wait(&hash, std::time::Duration::from_secs(20))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .ok_or_else(|| ServerFnError::new("not in a block yet: it is still pending"))?;
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
