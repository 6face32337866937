//! `synod node --home DIR`: one node of a real network. It loads the home (see [`super::config`]), opens its
//! store, starts the authenticated p2p transport (admitting peers by the chain's own rules) and the HTTP API, and
//! runs the consensus host until SIGTERM or ctrl-c.
//!
//! Threads: the host's event loop runs on the main thread (it alone writes the store); the transport's
//! connections and the HTTP API run on a small tokio worker pool beside it, reading the store through a shared
//! read handle.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::ids::NodeId;
use governance_contracts::state::tables::NODES;
use malachite_core_types::LinearTimeouts;

use super::clock::WallClock;
use super::config::{self, NodeConfig};
use super::duties::{Duties, node_record};
use super::node::NodeRuntime;
use super::{check_keys, exit_code, init_logging, load_genesis, shutdown_signal, store_path};
use crate::consensus::host::{Host, HostConfig};
use crate::failpoint;
use crate::p2p::{Admission, AdmissionError, DialTarget, P2p, P2pConfig};
use crate::rpc::bridge::{ApiState, NodeStatus};
use crate::storage::{NodeStore, StoreReader};

/// Worker threads for the transport and the HTTP API (the host has the main thread).
const WORKER_THREADS: usize = 2;
/// How long the HTTP API may take to finish its requests at shutdown.
const API_DRAIN: Duration = Duration::from_secs(5);

/// `synod node`: run a node from its home directory.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node's home: `config.toml`, `genesis.json`, `keys/node-N.pem`, `data/`.
    #[arg(long, value_name = "DIR")]
    pub home: PathBuf,
    /// Listen for peers here instead of `[p2p] listen`.
    #[arg(long, value_name = "ADDR")]
    pub p2p_listen: Option<SocketAddr>,
    /// Serve the HTTP API here instead of `[api] listen`.
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// Dial node NODE at ADDR instead of the address governance recorded (repeatable; adds to `[p2p.dial]`).
    #[arg(long = "dial", value_name = "NODE=ADDR", value_parser = parse_dial)]
    pub dial: Vec<(String, String)>,
}

fn parse_dial(text: &str) -> Result<(String, String), String> {
    let (node, address) = text.split_once('=').ok_or_else(|| format!("{text:?}: expected NODE=ADDR"))?;
    NodeId::new(node).map_err(|e| format!("{node:?}: {e}"))?;
    if address.is_empty() {
        return Err(format!("{text:?}: the address is empty"));
    }
    Ok((node.to_owned(), address.to_owned()))
}

/// The chain's rules as the transport asks them, over the committed state.
struct ChainAdmission {
    store: StoreReader,
    me: NodeId,
}

impl Admission for ChainAdmission {
    fn may_connect(&self, key: &PublicKey) -> Result<NodeId, AdmissionError> {
        let view = self.store.live();
        // A peer presenting this node's own identity is refused by the transport itself (`own_node`).
        match governance_contracts::execution::may_connect(&view, key) {
            Ok(verdict) => verdict.map_err(AdmissionError::Refused),
            Err(e) => Err(AdmissionError::Unavailable(e.to_string())),
        }
    }

    fn dial_targets(&self) -> Vec<DialTarget> {
        let view = self.store.live();
        match NODES.all(&view) {
            Ok(nodes) => nodes
                .into_iter()
                .filter(|(id, _)| *id != self.me)
                .filter_map(|(node, record)| {
                    Some(DialTarget { node, key: record.key?, address: record.address.as_str().to_owned() })
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the admitted nodes to dial");
                Vec::new()
            }
        }
    }
}

/// The key this node proves to peers: the one the chain lists for it, else its newest.
fn current_key(store: &NodeStore, node: &NodeId, keys: &[SecretKey]) -> anyhow::Result<SecretKey> {
    let listed = node_record(store, node).and_then(|r| r.key);
    keys.iter().find(|k| Some(k.public_key()) == listed).or(keys.last()).cloned().ok_or_else(|| anyhow!("no node key"))
}

/// `synod node --home DIR`.
pub fn node(args: NodeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    stop_with_parent()?;
    crate::byzantine::check_environment().map_err(|e| anyhow!(e))?;
    crate::hostile::check_environment().map_err(|e| anyhow!(e))?;
    let unknown = failpoint::unknown_names();
    if !unknown.is_empty() {
        bail!("{}: unknown failpoints {unknown:?} (known: {:?})", failpoint::ENV, failpoint::ALL);
    }
    let home = args.home;
    let mut config = NodeConfig::load(&home)?;
    if let Some(listen) = args.p2p_listen {
        config.p2p.listen = listen;
    }
    if let Some(listen) = args.api_listen {
        config.api.listen = listen;
    }
    config.p2p.dial.extend(args.dial);
    let node = config.node_id()?;
    let genesis = load_genesis(&config::genesis_path(&home))?;
    let keys: Vec<SecretKey> = config::load_keys(&home)?.into_iter().map(|(_, key)| key).collect();
    let data = config::data_dir(&home);
    std::fs::create_dir_all(&data).with_context(|| format!("data directory {}: cannot create", data.display()))?;
    let path = store_path(&data);
    let store = NodeStore::open_with_genesis(&path, &genesis)
        .with_context(|| format!("store {}: cannot open for this genesis", path.display()))?;
    check_keys(&store, &node, &keys)?;
    let reader = store.reader();
    let chain = genesis.identity();
    let handshake_key = current_key(&store, &node, &keys)?;
    let tls = match config
        .api
        .tls(&home)
        .map_err(|e| anyhow!("config file {}: {e}", config::config_path(&home).display()))?
    {
        Some((cert, key)) => Some(crate::rpc::tls::load(&cert, &key)?),
        None => None,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .context("cannot build the tokio runtime")?;
    let result = runtime.block_on(async {
        let shutdown = shutdown_signal().await?;
        let admission = Arc::new(ChainAdmission { store: reader.clone(), me: node.clone() });
        // Should the store predate a change of this node's key, peers refuse the key it lists: the others are
        // tried in turn, newest first.
        let other_keys = keys.iter().rev().filter(|k| k.public_key() != handshake_key.public_key()).cloned().collect();
        let hostile_key = handshake_key.clone();
        let mut p2p_config = P2pConfig::new(chain.clone(), node.clone(), handshake_key, config.p2p.listen);
        p2p_config.other_keys = other_keys;
        p2p_config.dial_overrides = config.dial_overrides();
        let p2p = P2p::start(p2p_config, admission).await.context("cannot start the p2p transport")?;
        let (api, end) =
            ApiState::with_channels(genesis.clone(), reader.clone(), NodeStatus::starting(&genesis, node.clone()));
        let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
        let api_stopped = async move {
            let _ = api_stopped.await;
        };
        let cannot_serve = || format!("cannot serve the HTTP API on {}", config.api.listen);
        let server = match tls {
            None => {
                let listener = tokio::net::TcpListener::bind(config.api.listen).await.with_context(cannot_serve)?;
                tokio::spawn(crate::rpc::serve(listener, api, api_stopped))
            }
            Some(tls) => {
                let listener = std::net::TcpListener::bind(config.api.listen).with_context(cannot_serve)?;
                tokio::spawn(crate::rpc::tls::serve(listener, api, tls, api_stopped))
            }
        };
        let scheme = if config.api.tls_cert.is_some() { "https" } else { "http" };
        tracing::info!(%node, p2p = %config.p2p.listen, api = %format!("{scheme}://{}", config.api.listen), "node listening");
        let host_config = HostConfig { genesis, node: node.clone(), keys, timeouts: LinearTimeouts::default() };
        let host = Host::new(host_config, store, WallClock).context("cannot start the consensus host")?;
        let mut runtime = NodeRuntime::new(host, p2p, std::io::stdout(), chain.clone())
            .with_api(end)
            .with_duties(Duties::new(Some(home.clone()), config.readiness.attest));
        if crate::hostile::armed() {
            tracing::warn!(%node, "hostile: flooding peers with hostile traffic, never answering sync requests");
            let seed = crate::hostile::seed(&node);
            runtime = runtime.with_hostile(crate::hostile::Hostile::new(chain, node.clone(), hostile_key, seed));
        }
        let outcome = runtime.run(shutdown).await;
        let _ = stop_api.send(());
        match tokio::time::timeout(API_DRAIN, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the HTTP API stopped with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP API task failed"),
            Err(_) => tracing::warn!("the HTTP API did not finish its requests in time"),
        }
        anyhow::Ok((outcome, runtime.host().committed_height()))
    })?;
    // The transport's tasks end with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(exit_code(result))
}

/// The environment variable `synod up` sets on the nodes it starts: such a node asks the kernel for SIGTERM when
/// `synod up` ends, however it ends (killed outright included), so no node outlives the network that started it.
pub const STOP_WITH_PARENT_ENV: &str = "SYNOD_STOP_WITH_PARENT";

/// Arranges, when [`STOP_WITH_PARENT_ENV`] is set, to receive SIGTERM when the parent process ends; stops at once
/// if the parent is already gone.
#[cfg(target_os = "linux")]
fn stop_with_parent() -> anyhow::Result<()> {
    if std::env::var_os(STOP_WITH_PARENT_ENV).is_none() {
        return Ok(());
    }
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
        .context("cannot ask to be stopped with the process that started this node")?;
    // The parent may have ended before the request: then this process was re-parented already.
    if nix::unistd::getppid() == nix::unistd::Pid::from_raw(1) {
        bail!("the process that started this node has already ended");
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn stop_with_parent() -> anyhow::Result<()> {
    Ok(())
}
