//! Keeps the console's proposal mirror (for fast, filtered lists) in step with the chain: a full pass at start and
//! after every gap, then each block's touched proposals. Records in the audit trail every approval and withdrawal
//! of an approval as its block is finalised, by any member's account (who, of which member, with what weight, at
//! which height), then each proposal the block applied or failed. Blocks finalised while the console is not
//! following (stopped, or fallen behind the live stream) add no approval rows; the proposal's page still lists its
//! approvals from the chain.

use std::time::Duration;

use governance_contracts::{ids::AccountId, types::Event};

use crate::{
    model::{ChainSnapshot, LiveEvent},
    server::{
        audit::AuditKind, auth::record, db::ProposalState, node::ProposalFilter, proposals::mirror_of, state::AppState,
    },
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
                        let mut settled = Vec::new();
                        for id in &event.proposals_touched {
                            settled.extend(mirror_one(&state, id, event.height.0).await);
                        }
                        // The approvals first: the last of them is what applied the proposal.
                        record_approvals(&state, &event).await;
                        for change in settled {
                            change.record(&state).await;
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
            if let Some(change) = mirror_one(state, &entry.id, height).await {
                change.record(state).await;
            }
        }
        if page.len() < 500 {
            break;
        }
        after = Some(last);
    }
    Ok(())
}

/// A proposal the mirror saw become applied or failed, to record in the audit trail.
struct Settled {
    kind: AuditKind,
    subject: String,
    detail: serde_json::Value,
}

impl Settled {
    async fn record(self, state: &AppState) {
        record(state, "chain", self.kind, &self.subject, self.detail).await;
    }
}

/// Mirrors one proposal; answers its change when it became applied or failed.
async fn mirror_one(state: &AppState, id: &governance_contracts::ids::ProposalId, height: u64) -> Option<Settled> {
    let detail = match state.node.proposal(id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return None,
        Err(error) => {
            tracing::warn!(%error, %id, "proposal mirror: cannot read the proposal");
            return None;
        }
    };
    let mirror = mirror_of(&detail, height)?;
    let before = state.db.get_proposal(&mirror.id).await.ok().flatten().map(|p| p.status);
    let status = mirror.status;
    if let Err(error) = state.db.upsert_proposal(&mirror).await {
        tracing::warn!(%error, %id, "proposal mirror: cannot store the proposal");
        return None;
    }
    (before != Some(status) && matches!(status, ProposalState::Executed | ProposalState::Failed)).then(|| Settled {
        kind: if status == ProposalState::Executed { AuditKind::ProposalApplied } else { AuditKind::Receipt },
        subject: id.to_string(),
        detail: serde_json::json!({ "status": status.as_str(), "height": height, "title": mirror.title }),
    })
}

/// Records each approval and withdrawal a finalised block carries, whichever member's account made it.
async fn record_approvals(state: &AppState, event: &LiveEvent) {
    let snapshot = state.snapshot();
    for item in &event.events {
        let (proposal, approver, kind) = match item {
            Event::ProposalApproved { proposal, approver } => (proposal, approver, AuditKind::ApprovalOnChain),
            Event::ApprovalRevoked { proposal, approver } => (proposal, approver, AuditKind::ApprovalRevokedOnChain),
            _ => continue,
        };
        let mirror_id = hex::encode(proposal.0.as_bytes());
        let title = state.db.get_proposal(&mirror_id).await.ok().flatten().map(|p| p.title);
        let detail = approval_detail(&snapshot, approver, event.height.0, title);
        record(state, approver.as_str(), kind, &proposal.to_string(), detail).await;
    }
}

/// What an approval row records: the approver, their member, the weight the approval counts with (the member's,
/// when the approver governs it; none when they approve by a role), the height and the proposal's title.
fn approval_detail(
    snapshot: &ChainSnapshot,
    approver: &AccountId,
    height: u64,
    title: Option<String>,
) -> serde_json::Value {
    let governed = snapshot.governor_of(approver);
    let member = governed.clone().or_else(|| snapshot.account(approver).map(|a| a.record.member.clone()));
    let weight = governed.as_ref().and_then(|m| snapshot.member(m)).map(|m| m.record.weight.0);
    serde_json::json!({
        "approver": approver.to_string(),
        "member": member.map(|m| m.to_string()),
        "weight": weight,
        "height": height,
        "title": title,
    })
}

#[cfg(test)]
mod tests {
    use api_types::{Account, Member};
    use governance_contracts::{
        codec::{BoundedString, BoundedVec},
        crypto::Digest,
        domain::ChainIdentity,
        ids::{Height, Weight},
        state::records::{AccountRecord, MemberRecord},
        types::MemberStatus,
    };

    use super::*;

    fn id<T: std::str::FromStr>(text: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        text.parse().expect("a valid id")
    }

    fn snapshot() -> ChainSnapshot {
        let chain = ChainIdentity { chain_id: id("test"), genesis_hash: Digest::ZERO };
        let mut snapshot = ChainSnapshot::empty(chain);
        snapshot.members = vec![Member {
            id: id("org2"),
            record: MemberRecord {
                name: BoundedString::try_new("Bravo Bank".to_owned()).expect("short"),
                weight: Weight(3),
                status: MemberStatus::Active,
                governors: BoundedVec::try_new(vec![id("org2-admin")]).expect("one"),
                admitted_at: Height(0),
            },
        }];
        snapshot.accounts = ["org2-admin", "org2-ops"]
            .into_iter()
            .map(|name| Account {
                id: id(name),
                record: AccountRecord { member: id("org2"), key: None, frozen: false, created_at: Height(0) },
                roles: Vec::new(),
            })
            .collect();
        snapshot
    }

    /// A governor's approval row carries their member and the member's weight; an approval by a role holder
    /// names the member and no weight; an unknown approver names neither.
    #[test]
    fn approval_rows_name_the_member_and_the_weight_that_counts() {
        let snapshot = snapshot();
        let governor = approval_detail(&snapshot, &id("org2-admin"), 57, Some("Admit org5".to_owned()));
        assert_eq!(
            governor,
            serde_json::json!({ "approver": "org2-admin", "member": "org2", "weight": 3, "height": 57, "title": "Admit org5" })
        );
        let holder = approval_detail(&snapshot, &id("org2-ops"), 58, None);
        assert_eq!(holder["member"], "org2");
        assert!(holder["weight"].is_null() && holder["title"].is_null());
        let stranger = approval_detail(&snapshot, &id("nobody"), 59, None);
        assert!(stranger["member"].is_null() && stranger["weight"].is_null());
    }
}
