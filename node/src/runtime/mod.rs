//! The node's runtime: the one place that owns real time, signals, disk and sockets. It drives the sans-IO
//! consensus [`Host`](crate::consensus::host::Host) over the RocksDB store on a tokio current-thread runtime.
//!
//! - [`clock`]: the wall clock the host reads for block times.
//! - [`timers`]: the table of the host's pending timers.
//! - [`transport`]: the seam to the network: the p2p transport of `synod node` ([`service`]), or
//!   [`transport::NoPeers`] for `synod run`, a node alone.
//! - [`node`]: the event loop and its observation lines.
//!
//! `synod run` ([`RunArgs`], [`run`]) loads the genesis and keys, opens (or initialises) the store, and runs the
//! loop until SIGTERM or ctrl-c (exit 0) or a fatal host error (its reason on standard error, exit 1).

pub mod clock;
pub mod config;
pub mod duties;
pub mod key_files;
pub mod node;
pub mod service;
pub mod timers;
pub mod transport;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::crypto::SecretKey;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::types::Genesis;
use malachite_core_types::LinearTimeouts;

use self::clock::WallClock;
use self::node::NodeRuntime;
use self::transport::NoPeers;
use crate::consensus::host::{Host, HostConfig};
use crate::failpoint;
use crate::storage::NodeStore;

/// Largest genesis file read.
pub const MAX_GENESIS_BYTES: u64 = 16 * 1024 * 1024;
/// Largest key file read.
pub const MAX_KEY_BYTES: u64 = 16 * 1024;

/// `synod run`: run one node.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The node's data directory (created when missing); the store lives in its `store` subdirectory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The chain's genesis (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub genesis: PathBuf,
    /// A signing key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes). Repeat it to hold the old and
    /// the new key across the node's own key rotation; at each height the key the validator set lists signs.
    #[arg(long = "key", value_name = "FILE.pem", required = true)]
    pub keys: Vec<PathBuf>,
    /// The node's id, as admitted on chain.
    #[arg(long, value_name = "NAME")]
    pub node: String,
}

/// The store's directory inside a node's data directory.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

pub(crate) use crate::cli::files::read_bounded;

/// The genesis in the JSON file at `path`.
pub fn load_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let bytes = read_bounded(path, MAX_GENESIS_BYTES, "genesis file")?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow!("genesis file {}: not a valid genesis: {e}", path.display()))
}

/// The secret key in the PKCS#8 PEM file at `path`, read by the contracts' one key-file reader
/// ([`SecretKey::from_key_file`]), whose error follows the file's path.
pub fn load_key(path: &Path) -> anyhow::Result<SecretKey> {
    let bytes = read_bounded(path, MAX_KEY_BYTES, "key file")?;
    SecretKey::from_key_file(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Refuses to run a sealer of the next height without the key the validator set lists for it: its votes would
/// never verify, and the node would stall without saying why.
pub(crate) fn check_keys(store: &NodeStore, node: &NodeId, keys: &[SecretKey]) -> anyhow::Result<()> {
    let set = governance_contracts::execution::validator_set(store)
        .map_err(|e| anyhow!("store {}: cannot read the validator set: {e}", store.path().display()))?;
    if let Some(listed) = set.get(node)
        && !keys.iter().any(|key| key.public_key() == listed.key)
    {
        let height = store.last_height().unwrap_or_default().plus(1);
        bail!("none of the --key files holds {node}'s key for height {height}: {}", listed.key);
    }
    Ok(())
}

/// Logs to standard error, `info` and above unless `RUST_LOG` says otherwise.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Another subscriber already installed (a test harness) is fine: keep it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Unblocks SIGINT and SIGTERM in this thread, before any other starts (threads inherit the mask). A supervisor
/// that blocks them for its own handling passes its mask on to the processes it starts; a node that kept it would
/// never see the SIGTERM that stops it.
pub fn unblock_stop_signals() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut stop = nix::sys::signal::SigSet::empty();
        stop.add(nix::sys::signal::Signal::SIGINT);
        stop.add(nix::sys::signal::Signal::SIGTERM);
        stop.thread_unblock().context("cannot unblock SIGINT and SIGTERM")?;
    }
    Ok(())
}

/// Completes on SIGTERM or ctrl-c (SIGINT).
pub(crate) async fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    Ok(async move {
        let interrupt = async {
            // Without a ctrl-c handler only SIGTERM stops the node.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
            () = interrupt => tracing::info!("interrupted: stopping"),
        }
        #[cfg(not(unix))]
        interrupt.await;
    })
}

/// `synod run`: loads the genesis and keys, opens or initialises the store, and runs a single node until SIGTERM or
/// ctrl-c. Bad arguments and files are errors naming the file and the reason; a fatal host error is printed as
/// `fatal: REASON` on standard error and gives a failing exit code.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    crate::byzantine::check_environment().map_err(|e| anyhow!(e))?;
    crate::hostile::check_environment().map_err(|e| anyhow!(e))?;
    let unknown = failpoint::unknown_names();
    if !unknown.is_empty() {
        bail!(
            "{}: unknown failpoints {unknown:?} (known: {:?}, optionally with @N for the Nth hit)",
            failpoint::ENV,
            failpoint::ALL
        );
    }
    let genesis = load_genesis(&args.genesis)?;
    let keys = args.keys.iter().map(|path| load_key(path)).collect::<anyhow::Result<Vec<_>>>()?;
    let node = NodeId::new(args.node.clone()).map_err(|e| anyhow!("--node {:?}: {e}", args.node))?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("data directory {}: cannot create", args.data_dir.display()))?;
    let path = store_path(&args.data_dir);
    let store = NodeStore::open_with_genesis(&path, &genesis)
        .with_context(|| format!("store {}: cannot open for this genesis", path.display()))?;
    check_keys(&store, &node, &keys)?;
    let chain = genesis.identity();
    let config = HostConfig { genesis, node, keys, timeouts: LinearTimeouts::default() };
    let host = Host::new(config, store, WallClock).context("cannot start the consensus host")?;

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot build the tokio runtime")?;
    let result = runtime.block_on(async {
        let shutdown = shutdown_signal().await?;
        let mut node = NodeRuntime::new(host, NoPeers, std::io::stdout(), chain);
        let outcome = node.run(shutdown).await;
        anyhow::Ok((outcome, node.host().committed_height()))
    })?;
    Ok(exit_code(result))
}

/// How a node's run ended, as its exit code: success when it stopped on a signal; a fatal host error is logged
/// and printed as `fatal: REASON` on standard error, and fails.
pub(crate) fn exit_code((outcome, height): (Result<(), crate::consensus::host::HostError>, Height)) -> ExitCode {
    match outcome {
        Ok(()) => {
            tracing::info!(%height, "stopped");
            ExitCode::SUCCESS
        }
        Err(fatal) => {
            tracing::error!(%height, error = %fatal, "fatal: stopping");
            eprintln!("fatal: {fatal}");
            ExitCode::FAILURE
        }
    }
}
