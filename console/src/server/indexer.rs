//! Keeps the console's proposal mirror (for fast, filtered lists) in step with the chain: a full pass at start and
//! after every gap, then each block's touched proposals; records each applied or failed proposal in the audit trail.

use std::time::Duration;

use crate::server::{
    audit::AuditKind, auth::record, db::ProposalState, node::ProposalFilter, proposals::mirror_of, state::AppState,
};

/// Starts the indexer.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut events = state.live.subscribe();
        loop {
            if let Err(error) = full_pass(&state).await {
                tracing::warn!(%error, "proposal mirror: full pass failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            loop {
                match events.recv().await {
                    Ok(event) => {
                        for id in &event.proposals_touched {
                            mirror_one(&state, id, event.height.0).await;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
}

async fn full_pass(state: &AppState) -> anyhow::Result<()> {
    let height = state.snapshot().height.0;
    let mut after: Option<governance_contracts::ids::ProposalId> = None;
    loop {
        let page = state.node.proposals(None::<ProposalFilter>, 500, after.as_ref()).await?;
        let Some(last) = page.last().map(|p| p.id) else { break };
        for entry in &page {
            mirror_one(state, &entry.id, height).await;
        }
        if page.len() < 500 {
            break;
        }
        after = Some(last);
    }
    Ok(())
}

async fn mirror_one(state: &AppState, id: &governance_contracts::ids::ProposalId, height: u64) {
    let detail = match state.node.proposal(id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, %id, "proposal mirror: cannot read the proposal");
            return;
        }
    };
    let Some(mirror) = mirror_of(&detail, height) else { return };
    let before = state.db.get_proposal(&mirror.id).await.ok().flatten().map(|p| p.status);
    let status = mirror.status;
    if let Err(error) = state.db.upsert_proposal(&mirror).await {
        tracing::warn!(%error, %id, "proposal mirror: cannot store the proposal");
        return;
    }
    if before != Some(status) && matches!(status, ProposalState::Applied | ProposalState::Failed) {
        let detail = serde_json::json!({ "status": status.as_str(), "height": height, "title": mirror.title });
        let kind = if status == ProposalState::Applied { AuditKind::ProposalApplied } else { AuditKind::Receipt };
        record(state, "chain", kind, &id.to_string(), detail).await;
    }
}
