//! The chain snapshot turned into the rows pages show.

use crate::{
    api::{AccountRow, BlockBar, GrantRow, MemberRow, NodeRow, RoleRow, Tables},
    model::ChainSnapshot,
};

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The snapshot as a visitor who is not signed in reads it (`--public-read`): the chain's state, without the
/// console's own node URLs and the errors that name them.
pub fn for_visitor(snapshot: &ChainSnapshot) -> ChainSnapshot {
    ChainSnapshot { node_health: Vec::new(), source: None, error: None, ..snapshot.clone() }
}

/// Members, nodes, roles, fault tolerance, the timeline and the parameters forms need.
pub fn tables(snapshot: &ChainSnapshot) -> Tables {
    let connected: Vec<String> = snapshot
        .status
        .as_ref()
        .map(|s| {
            let mut ids: Vec<String> = s.peers.iter().map(|p| p.node_id.to_string()).collect();
            ids.push(s.node_id.to_string());
            ids
        })
        .unwrap_or_default();
    let members = snapshot
        .members
        .iter()
        .map(|m| MemberRow {
            id: m.id.to_string(),
            name: m.record.name.to_string(),
            weight: m.record.weight.0,
            status: enum_name(&m.record.status),
            governors: m.record.governors.iter().map(ToString::to_string).collect(),
        })
        .collect();
    let nodes = snapshot
        .nodes
        .iter()
        .map(|n| NodeRow {
            id: n.id.to_string(),
            owner: n.record.owner.to_string(),
            kind: enum_name(&n.record.kind),
            weight: n.record.weight.0,
            key: n.record.key.map(|k| k.to_string()).unwrap_or_default(),
            address: n.record.address.to_string(),
            attested: n.record.attested_at.map(|h| h.0),
            connected: connected.contains(&n.id.to_string()),
        })
        .collect();
    let roles = snapshot
        .roles
        .iter()
        .map(|r| RoleRow {
            id: r.id.to_string(),
            delegable: r.definition.delegable,
            max_grant_blocks: r.definition.max_grant_blocks,
        })
        .collect();
    let timeline = snapshot
        .recent_blocks
        .iter()
        .map(|b| BlockBar { height: b.height.0, time_ms: b.time_ms, txs: b.tx_count })
        .collect();
    let params = snapshot.params.as_ref();
    Tables {
        height: snapshot.height.0,
        last_block_time_ms: snapshot.last_block_time_ms,
        members,
        nodes,
        roles,
        fault_tolerance: snapshot.fault_tolerance().0,
        timeline,
        max_tx_ttl: params.map_or(0, |p| p.max_tx_ttl),
        max_proposal_lifetime: params.map_or(0, |p| p.max_proposal_lifetime),
        evidence: snapshot.evidence.iter().map(|e| (e.height.0, e.offender.to_string())).collect(),
        block_interval_ms: params.map_or(0, |p| p.block_interval_ms),
        console_node: snapshot.status.as_ref().map(|s| s.node_id.to_string()),
    }
}

/// Accounts whose id or member contains `query` (case-insensitive), at most `limit`.
pub fn accounts(snapshot: &ChainSnapshot, query: &str, limit: u32) -> Vec<AccountRow> {
    let needle = query.trim().to_lowercase();
    snapshot
        .accounts
        .iter()
        .filter(|a| {
            needle.is_empty()
                || a.id.to_string().to_lowercase().contains(&needle)
                || a.record.member.to_string().to_lowercase().contains(&needle)
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|a| AccountRow {
            id: a.id.to_string(),
            member: a.record.member.to_string(),
            key: a.record.key.map(|k| k.to_string()),
            frozen: a.record.frozen,
            governor: snapshot.governor_of(&a.id).is_some(),
            roles: snapshot
                .roles_of(&a.id)
                .into_iter()
                .map(|(role, expires)| GrantRow { role: role.to_string(), expires_at: expires.0 })
                .collect(),
        })
        .collect()
}
