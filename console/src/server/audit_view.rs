//! The audit trail for pages: filtered pages and the integrity check.

use axum::http::StatusCode;
use leptos::prelude::*;

use crate::server::actions::refuse;

use crate::{
    api::AuditRows,
    i18n::Lang,
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
    let filter = filter(actor, kind, subject).map_err(|why| refuse(StatusCode::BAD_REQUEST, why))?;
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

/// Walks the whole chain, and compares it with its latest anchor on chain when the console anchors; says what it
/// found in the signed-in user's language.
pub async fn verify() -> Result<String, ServerFnError> {
    let state = AppState::get()?;
    let (session, _) = require_session(&state)?;
    let zh = session.lang == Lang::ZhCn;
    let say = |en: String, zh_text: String| if zh { zh_text } else { en };
    let report = audit::verify(&state.db).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    if let Some(broken) = report.first_break {
        let code = serde_json::to_value(&broken.kind)
            .ok()
            .and_then(|v| v.get("problem").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_default();
        return Ok(say(
            format!("BROKEN at row {}: {}", broken.seq, broken.kind),
            format!("第 {} 行处断裂（{code}）", broken.seq),
        ));
    }
    let rows = report.rows_checked;
    let intact = say(
        format!("intact: {rows} rows, every hash and link checks"),
        format!("完整：{rows} 行，每个哈希与链接均校验通过"),
    );
    let Some(anchoring) = &state.anchoring else {
        return Ok(say(format!("{intact}; not anchored on chain"), format!("{intact}；未在链上锚定")));
    };
    let Some(account) = anchoring.account_in(&state.snapshot()) else {
        return Ok(say(
            format!("{intact}; the anchor key is no account's current key: not anchored"),
            format!("{intact}；锚定密钥不是任何账户的当前密钥：未锚定"),
        ));
    };
    let latest = anchor::read_chain_anchor(&state, &account).await.map_err(|e| ServerFnError::new(format!("{e:#}")))?;
    let Some(latest) = latest else {
        return Ok(say(
            format!("{intact}; {account} has not anchored it yet"),
            format!("{intact}；{account} 尚未锚定"),
        ));
    };
    Ok(match anchor::disagreement(&state.db, &latest).await.map_err(|e| ServerFnError::new(e.to_string()))? {
        Some(why) => say(format!("BROKEN: {why}"), format!("断裂：与链上锚定不符（{why}）")),
        None => say(
            format!("{intact}; anchored on chain up to row {} at height {}", latest.seq, latest.anchored_at),
            format!("{intact}；已在链上锚定至第 {} 行（高度 {}）", latest.seq, latest.anchored_at),
        ),
    })
}
