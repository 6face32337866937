//! `synod-console`'s command line and the chain it is pinned to.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use governance_contracts::{domain::ChainIdentity, types::Genesis};

use crate::server::{
    net::{Cidr, TargetPolicy},
    state::Access,
};

/// The largest genesis file the console reads.
const MAX_GENESIS_BYTES: u64 = 16 * 1024 * 1024;

/// Serves Synod's web console for one member organisation, or checks one of its audit exports offline.
#[derive(Debug, Clone, Parser)]
#[command(name = "synod-console", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Serving (the default).
    #[command(flatten)]
    pub serve: Option<Args>,
}

/// What `synod-console` does besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Check an audit export (`/audit/export.json`) offline against the genesis: the chain it names, the hash
    /// chain of its rows, and every proof bundle it carries. Needs no node and no database.
    VerifyExport {
        /// The chain's genesis file: the root of trust.
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// The export.
        #[arg(value_name = "EXPORT.json")]
        export: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Accept an export that carries no anchor of the trail on chain (from a console run without
        /// `--anchor-key`): its rows then rest on the console's word alone, and the report says so.
        #[arg(long)]
        unanchored: bool,
    },
}

/// How the console is served.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The chain's genesis file: the chain id and genesis hash are pinned from it, never learned from a node.
    #[arg(long, value_name = "FILE")]
    pub genesis: PathBuf,
    /// A node's HTTP API (repeat for fail-over, in order of preference).
    #[arg(long = "node", value_name = "URL", required = true)]
    pub nodes: Vec<String>,
    /// The console's SQLite database (created when missing; migrations are applied at start).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Where to listen for browsers.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The built site: `pkg/console.js` and `pkg/console_bg.wasm` (from `cargo xtask bundle`).
    #[arg(long, value_name = "DIR", default_value = "target/site")]
    pub site: PathBuf,
    /// The origin browsers use to reach this console (e.g. `https://console.acme.example`); login challenges
    /// and the CSRF check are bound to it. Defaults to `http://<listen>`.
    #[arg(long, value_name = "URL")]
    pub public_origin: Option<String>,
    /// Webhooks announce `expires_soon` once an unapproved proposal has at most this many blocks left.
    #[arg(long, value_name = "BLOCKS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub expiry_warning_blocks: u64,
    /// Let visitors who are not signed in read the chain's tables, accounts and proposals (read-only). Without it
    /// every page's data needs a session; the workspace, audit trail, webhooks and node URLs always do.
    #[arg(long)]
    pub public_read: bool,
    /// A reverse proxy in front of the console (an address or a CIDR network; repeat for several): only requests
    /// from it have their client read from `X-Forwarded-For` (the right-most address that is not a trusted
    /// proxy), for the sign-in rate limit and the audit trail. Without it the TCP peer is the client.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<Cidr>,
    /// A network webhooks may deliver to although it is not public (an address or a CIDR network; repeat for
    /// several), for receivers inside the organisation. Without it loopback, private, link-local and other
    /// non-public addresses are refused, as written in the URL or as a name resolves at delivery.
    #[arg(long = "webhook-allow", value_name = "CIDR")]
    pub webhook_allow: Vec<Cidr>,
    /// The key (PKCS#8 PEM) of this console's own account, one holding the `console` role that a governor of the
    /// organisation granted: a machine's key, which can do nothing but anchor. With it the console anchors its
    /// audit trail's head on chain at a bounded interval (`--anchor-rows`, `--anchor-blocks`) and its exports carry
    /// the proof of the latest anchor; without it the trail is not anchored and `verify-export` refuses its
    /// exports unless told `--unanchored`.
    #[arg(long, value_name = "FILE")]
    pub anchor_key: Option<PathBuf>,
    /// Anchor once this many rows were appended since the last anchor (or after `--anchor-blocks`).
    #[arg(long, value_name = "ROWS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub anchor_rows: u64,
    /// Anchor once this many blocks passed since the last anchor and a row was appended (or after `--anchor-rows`):
    /// the bound on how long a row rests on the console's word alone.
    #[arg(long, value_name = "BLOCKS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub anchor_blocks: u64,
}

impl Args {
    /// The origin browsers reach this console at.
    pub fn origin(&self) -> String {
        self.public_origin.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_owned()
    }

    /// The anchoring these flags ask for: `None` without `--anchor-key`.
    pub fn anchoring(&self) -> anyhow::Result<Option<crate::server::anchor::Anchoring>> {
        let interval = crate::server::anchor::AnchorInterval { rows: self.anchor_rows, blocks: self.anchor_blocks };
        self.anchor_key.as_deref().map(|path| crate::server::anchor::Anchoring::load(path, interval)).transpose()
    }

    /// The access decisions these flags make.
    pub fn access(&self) -> Access {
        Access {
            public_read: self.public_read,
            trusted_proxies: self.trusted_proxies.clone(),
            webhooks: TargetPolicy { allow: self.webhook_allow.clone() },
        }
    }
}

/// Reads and checks the genesis file, returning it with the chain identity it pins.
pub fn load_genesis(path: &std::path::Path) -> anyhow::Result<(Genesis, ChainIdentity)> {
    let metadata = std::fs::metadata(path).with_context(|| format!("cannot read genesis file {}", path.display()))?;
    if metadata.len() > MAX_GENESIS_BYTES {
        anyhow::bail!("genesis file {} is larger than {MAX_GENESIS_BYTES} bytes", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read genesis file {}", path.display()))?;
    let genesis: Genesis =
        serde_json::from_str(&text).with_context(|| format!("{} is not a Synod genesis file", path.display()))?;
    let identity = genesis.identity();
    Ok((genesis, identity))
}
