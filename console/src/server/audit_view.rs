//! The audit trail for pages: filtered pages and the integrity check.

use leptos::prelude::*;

use crate::{
    api::AuditRows,
    server::{
        actions::require_session,
        anchor,
        audit::{self, AuditFilter, AuditKind},
        db::PageRequest,
        proposals::audit_row,
        state::AppState,
    },
};

/// Rows per page.
const PAGE: u32 = 50;

/// A filter from a page's or an export's fields (empty = any).
pub fn filter(actor: &str, kind: &str, subject: &str) -> Result<AuditFilter, String> {
    let optional = |t: &str| {
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    let kind = match optional(kind) {
        None => None,
        Some(k) => Some(AuditKind::from_name(&k).ok_or_else(|| {
            let known: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown event kind `{k}`; one of {}", known.join(", "))
        })?),
    };
    Ok(AuditFilter { actor: optional(actor), kind, subject: optional(subject), from_ms: None, to_ms: None })
}

/// A page of the audit trail, newest first.
pub async fn page(actor: &str, kind: &str, subject: &str, before: i64) -> Result<AuditRows, ServerFnError> {
    let state = AppState::get()?;
    require_session(&state)?;
    let filter = filter(actor, kind, subject).map_err(ServerFnError::new)?;
    let request = match u64::try_from(before) {
        Ok(seq) if seq > 0 => PageRequest::after(seq, PAGE),
        _ => PageRequest::first(PAGE),
    };
    let page = audit::list(&state.db, &filter, &request).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(AuditRows {
        rows: page.items.into_iter().map(audit_row).collect(),
        next: page.next.and_then(|n| i64::try_from(n).ok()),
        integrity: None,
    })
}

/// Walks the whole chain, and compares it with its latest anchor on chain when the console anchors.
pub async fn verify() -> Result<String, ServerFnError> {
    let state = AppState::get()?;
    require_session(&state)?;
    let report = audit::verify(&state.db).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    if let Some(broken) = report.first_break {
        return Ok(format!(
            "BROKEN at row {}: {}",
            broken.seq,
            serde_json::to_string(&broken.kind).unwrap_or_default()
        ));
    }
    let intact = format!("intact: {} rows, every hash and link checks", report.rows_checked);
    let Some(anchoring) = &state.anchoring else { return Ok(format!("{intact}; not anchored on chain")) };
    let Some(account) = anchoring.account_in(&state.snapshot()) else {
        return Ok(format!("{intact}; the anchor key is no account's current key: not anchored"));
    };
    let latest = anchor::read_chain_anchor(&state, &account).await.map_err(|e| ServerFnError::new(format!("{e:#}")))?;
    let Some(latest) = latest else { return Ok(format!("{intact}; {account} has not anchored it yet")) };
    Ok(match anchor::disagreement(&state.db, &latest).await.map_err(|e| ServerFnError::new(e.to_string()))? {
        Some(why) => format!("BROKEN: {why}"),
        None => format!("{intact}; anchored on chain up to row {} at height {}", latest.seq, latest.anchored_at),
    })
}
