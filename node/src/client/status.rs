//! `synod status`: which chain the node is on, who it is, how far it has come, and whom it is connected to
//! (`GET /v1/status`).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::NodeArgs;
use super::http::expect_json;

/// `synod status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// The fields of `GET /v1/status` the summary shows (others, such as `counters`, are shown by `--json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The chain's name.
    pub chain_id: String,
    /// The genesis hash.
    pub genesis_hash: String,
    /// The node's id.
    pub node_id: String,
    /// `sealer` or `observer`.
    pub kind: String,
    /// The last committed height.
    pub height: u64,
    /// The last committed block's hash.
    #[serde(default)]
    pub last_block_hash: Option<String>,
    /// The last committed block's time, ms since the Unix epoch.
    #[serde(default)]
    pub last_block_time_ms: Option<u64>,
    /// Whether the node is catching up.
    #[serde(default)]
    pub syncing: bool,
    /// The height it is catching up to.
    #[serde(default)]
    pub sync_target: Option<u64>,
    /// Transactions waiting for a block.
    #[serde(default)]
    pub mempool_size: Option<u64>,
    /// The connected peers.
    #[serde(default)]
    pub peers: Vec<Peer>,
}

/// One connected peer.
#[derive(Debug, Clone, Deserialize)]
pub struct Peer {
    /// Its node id.
    pub node_id: String,
    /// Its address as the node sees it.
    #[serde(default)]
    pub address: String,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: String,
}

/// A time in ms since the Unix epoch as RFC 3339 (UTC), or the number if it is out of range.
pub fn format_time_ms(ms: u64) -> String {
    match SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms)) {
        Some(time) => humantime::format_rfc3339_millis(time).to_string(),
        None => format!("{ms} ms"),
    }
}

impl Status {
    /// The summary `synod status` prints.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let mut line = |label: &str, value: &dyn std::fmt::Display| {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{label:<16}{value}");
        };
        line("chain", &self.chain_id);
        line("genesis hash", &self.genesis_hash);
        line("node", &format!("{} ({})", self.node_id, self.kind));
        line("height", &self.height);
        if let Some(hash) = &self.last_block_hash {
            line("last block", hash);
        }
        if let Some(ms) = self.last_block_time_ms {
            line("last block time", &format_time_ms(ms));
        }
        let syncing = match (self.syncing, self.sync_target) {
            (true, Some(target)) => format!("yes, to height {target}"),
            (true, None) => "yes".to_owned(),
            (false, _) => "no".to_owned(),
        };
        line("syncing", &syncing);
        if let Some(size) = self.mempool_size {
            line("mempool", &format!("{size} transactions"));
        }
        line("peers", &self.peers.len());
        for peer in &self.peers {
            let _ = writeln!(out, "  {:<14}{:<24}{}", peer.node_id, peer.address, peer.direction);
        }
        out.trim_end().to_owned()
    }
}

/// `synod status`.
pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let node = args.node.connect()?;
    let answer = node.get("/v1/status", &[]).and_then(|a| a.success());
    if args.node.json {
        println!("{}", answer?.json_text("status")?);
        return Ok(());
    }
    let status: Status = expect_json(answer, "status")?;
    println!("{}", status.summary());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary names the chain, node, height, sync state and each peer; a status missing a required field
    /// does not decode.
    #[test]
    fn summary_shows_every_field() {
        let status: Status = serde_json::from_str(
            r#"{"chain_id":"c","genesis_hash":"sha256:00","node_id":"n1","kind":"sealer","height":7,
                "last_block_hash":"sha256:11","last_block_time_ms":1000,"syncing":true,"sync_target":9,
                "mempool_size":2,"peers":[{"node_id":"n2","address":"127.0.0.1:1","direction":"outbound"}],
                "counters":{}}"#,
        )
        .unwrap();
        let text = status.summary();
        for needle in ["c", "sha256:00", "n1 (sealer)", "7", "sha256:11", "1970-01-01T00:00:01.000Z", "to height 9"] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        assert!(text.contains("n2") && text.contains("127.0.0.1:1") && text.contains("outbound"), "{text}");
        assert!(serde_json::from_str::<Status>(r#"{"chain_id":"c"}"#).is_err());
    }
}
