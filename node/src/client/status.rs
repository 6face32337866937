//! `synod status`: which chain the node is on, who it is, how far it has come, and whom it is connected to
//! (`GET /v1/status`).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use api_types::{Direction, NodeStatus};
use governance_contracts::types::NodeKind;

use super::NodeArgs;
use super::http::expect_json;

/// `synod status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// A time in ms since the Unix epoch as RFC 3339 (UTC), or the number if it is out of range.
pub fn format_time_ms(ms: u64) -> String {
    match SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms)) {
        Some(time) => humantime::format_rfc3339_millis(time).to_string(),
        None => format!("{ms} ms"),
    }
}

/// The summary `synod status` prints: chain, node, height, last block, sync state, mempool and each peer (the
/// counters are shown by `--json`).
pub fn summary(status: &NodeStatus) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{label:<16}{value}");
    };
    line("chain", &status.chain_id);
    line("genesis hash", &status.genesis_hash);
    let kind = match status.kind {
        NodeKind::Sealer => "sealer",
        NodeKind::Observer => "observer",
    };
    line("node", &format!("{} ({kind})", status.node_id));
    line("height", &status.height);
    line("last block", &status.last_block_hash);
    line("last block time", &format_time_ms(status.last_block_time_ms));
    let syncing = match (status.syncing, status.sync_target) {
        (true, Some(target)) => format!("yes, to height {target}"),
        (true, None) => "yes".to_owned(),
        (false, _) => "no".to_owned(),
    };
    line("syncing", &syncing);
    line("mempool", &format!("{} transactions", status.mempool_size));
    line("peers", &status.peers.len());
    for peer in &status.peers {
        let direction = match peer.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        };
        let _ = writeln!(out, "  {:<14}{:<24}{direction}", peer.node_id.to_string(), peer.address);
    }
    out.trim_end().to_owned()
}

/// `synod status`.
pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let node = args.node.connect()?;
    let answer = node.get("/v1/status", &[]).and_then(|a| a.success());
    if args.node.json {
        println!("{}", answer?.json_text("status")?);
        return Ok(());
    }
    let status: NodeStatus = expect_json(answer, "status")?;
    println!("{}", summary(&status));
    Ok(())
}

#[cfg(test)]
mod tests {
    use api_types::PeerStatus;
    use governance_contracts::ids::Height;
    use governance_contracts::testkit;

    use super::*;

    /// The summary names the chain, node, height, sync state and each peer; a status missing a required field
    /// does not decode.
    #[test]
    fn summary_shows_every_field() {
        let mut status = NodeStatus::starting(&testkit::genesis(2), testkit::node("n1"));
        status.kind = NodeKind::Sealer;
        status.height = Height(7);
        status.last_block_time_ms = 1000;
        status.syncing = true;
        status.sync_target = Some(Height(9));
        status.peers.push(PeerStatus {
            node_id: testkit::node("n2"),
            address: "127.0.0.1:1".to_owned(),
            direction: Direction::Outbound,
        });
        let text = summary(&status);
        for needle in ["synod-test", "n1 (sealer)", "7", "1970-01-01T00:00:01.000Z", "to height 9"] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        assert!(text.contains("n2") && text.contains("127.0.0.1:1") && text.contains("outbound"), "{text}");
        assert!(serde_json::from_str::<NodeStatus>(r#"{"chain_id":"c"}"#).is_err());
    }
}
