//! The commands that talk to a running node over its HTTP API (`/v1/...`): `synod status`, the read commands
//! (`members`, `nodes`, `accounts`, `roles`, `policy`, `params`, `proposals`, `blocks`, `evidence`),
//! `synod tx submit`, `synod tx wait` and `synod proof`.
//!
//! - [`http`]: the blocking HTTP client: timeouts, bounded answers, one-line errors.
//! - [`status`]: `synod status`.
//! - [`query`]: the read commands, and [`render`]: how their JSON is shown.
//! - [`tx`]: `synod tx submit` and `synod tx wait`.
//! - [`proof`]: `synod proof`, which saves a proof bundle for `synod verify-proof`.
//!
//! Every command takes `--node URL` (default `$SYNOD_NODE`, else [`DEFAULT_NODE`]) and `--json`, which prints the
//! node's JSON as it came; without it the answer is shown as a short summary or table. A node that cannot be
//! reached, an error answer or a body that is not the JSON expected is an error, never a panic.

pub mod http;
pub mod proof;
pub mod query;
pub mod render;
pub mod status;
pub mod tx;

pub use http::Node;

/// The node's API address when neither `--node` nor `$SYNOD_NODE` gives one.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7801";

/// Options every node command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node's HTTP API: `http://HOST:PORT` or `HOST:PORT`.
    #[arg(long, value_name = "URL", env = "SYNOD_NODE", default_value = DEFAULT_NODE)]
    pub node: String,
    /// Print the node's JSON answer as it came.
    #[arg(long)]
    pub json: bool,
}

impl NodeArgs {
    /// The client for `--node`.
    pub fn connect(&self) -> anyhow::Result<Node> {
        Node::new(&self.node)
    }
}
