//! `cargo xtask up`: the local network with one console per demo organisation.
//!
//! It installs binaryen's `wasm-opt` when missing (as the test command's `setup` phase does), builds the console's
//! optimised bundle, `synod` and `synod-console` (test profile, sharing the test build), starts
//! `synod up` (which creates or resumes the network in `--dir` and runs its five nodes), waits until the genesis
//! exists and the first node answers, then starts one `synod-console` per organisation, each with its own SQLite
//! database in `DIR/consoles/`, two nodes to fail over between and its organisation's console key
//! (`keys/<org>-console.pem`), with which it anchors its audit trail on chain. It prints each console's address and
//! the demo key files to load there. Every process is a child of this one: on ctrl-c or SIGTERM each gets SIGTERM, and SIGKILL
//! if it has not exited 10 s later (`synod up` gets 5 s more, to finish stopping its own nodes first).

use std::{
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Workspace, now};

/// How long the network may take to create its genesis and have its first node answer.
const NETWORK_READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a console may take to answer its first request.
const CONSOLE_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a console may take to exit after SIGTERM.
const CONSOLE_STOP_GRACE: Duration = Duration::from_secs(10);
/// How long `synod up` may take to exit after SIGTERM: its own 10 s for its nodes, and some margin.
const NETWORK_STOP_GRACE: Duration = Duration::from_secs(15);
/// How often waits poll.
const POLL: Duration = Duration::from_millis(200);
/// Largest node configuration file read.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// The network's directory when `--dir` is not given (ignored by git: it holds the demo private keys).
const DEFAULT_DIR: &str = "synod-local";
/// The first console's port is one above this when `--console-port` is not given.
const DEFAULT_CONSOLE_PORT: u16 = 8080;

/// The demo organisations, each with its sealer `nN` and console.
const ORGANISATIONS: [&str; 4] = ["org1", "org2", "org3", "org4"];

/// Options of `cargo xtask up`.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// The network's directory (relative paths are inside the workspace): created with demo keys and a genesis on
    /// the first run, resumed afterwards. The consoles' databases and logs go to DIR/consoles/.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Node ports (first run only): node i listens for peers on BASE+i and serves its API on BASE+100+i.
    #[arg(long, value_name = "BASE", default_value_t = 7700)]
    pub base_port: u16,
    /// Console ports: organisation N's console listens on 127.0.0.1:BASE+N.
    #[arg(long, value_name = "BASE", default_value_t = DEFAULT_CONSOLE_PORT)]
    pub console_port: u16,
}

/// The command that resumes this network with its consoles: `cargo xtask up` with the options given that are not
/// the defaults (`--base-port` only matters on the first run).
fn resume_command(args: &UpArgs) -> String {
    let mut command = "cargo xtask up".to_owned();
    if args.dir != Path::new(DEFAULT_DIR) {
        command.push_str(&format!(" --dir {}", args.dir.display()));
    }
    if args.console_port != DEFAULT_CONSOLE_PORT {
        command.push_str(&format!(" --console-port {}", args.console_port));
    }
    command
}

/// One child process `up` supervises.
struct Supervised {
    name: String,
    child: Child,
    log: Option<PathBuf>,
    grace: Duration,
    exited: bool,
}

impl Workspace {
    /// Runs `cargo xtask up` until ctrl-c or SIGTERM.
    pub fn up(&self, args: &UpArgs) -> Result<()> {
        // SIGINT and SIGTERM are caught by handlers (never blocked: a blocked signal stays blocked in every child
        // started afterwards, and `synod up`, its nodes and the consoles would then ignore the SIGTERM that stops
        // them) and reported to the supervision loop.
        let mut signals =
            signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])
                .context("cannot catch SIGINT and SIGTERM")?;
        let (stop_tx, stop_rx) = mpsc::channel();
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next()
                && let Ok(signal) = Signal::try_from(signal)
            {
                let _ = stop_tx.send(signal);
            }
        });

        // The bundle is optimised with binaryen's wasm-opt, installed from npm as the test command's setup phase
        // does; without npm or a network the bundle is built unoptimised, which works, only larger.
        if let Err(error) = self.ensure_binaryen() {
            println!("xtask: binaryen {} could not be installed ({error:#})", crate::BINARYEN_VERSION);
        }
        let built = self.bundle()?;
        // The test build makes both binaries (the integration tests start them). Building them any other way
        // (`-p synod -p console`, or one package at a time) unifies the dependencies' features differently and
        // compiles RocksDB's C++ again; this way `cargo xtask up` and `cargo xtask test` share one build.
        self.cargo(&["test", "--workspace", "--no-run"])?;
        let bin_dir = self.target_dir()?.join("debug");
        let dir = self.root.join(&args.dir);
        let mut children: Vec<Supervised> = Vec::new();
        let outcome = self.supervise(args, &dir, &bin_dir, &built.site, &stop_rx, &mut children);
        stop_all(&mut children);
        outcome
    }

    fn supervise(
        &self,
        args: &UpArgs,
        dir: &Path,
        bin_dir: &Path,
        site: &Path,
        stop: &mpsc::Receiver<Signal>,
        children: &mut Vec<Supervised>,
    ) -> Result<()> {
        let mut network = Command::new(bin_dir.join("synod"));
        network
            .arg("up")
            .arg("--dir")
            .arg(dir)
            .arg("--base-port")
            .arg(args.base_port.to_string())
            .arg("--supervised")
            .current_dir(&self.root)
            .stdin(Stdio::null());
        let child = network.spawn().context("cannot start `synod up`")?;
        children.push(Supervised {
            name: "synod up".into(),
            child,
            log: None,
            grace: NETWORK_STOP_GRACE,
            exited: false,
        });

        let genesis = dir.join("genesis.json");
        let first_url =
            wait_for("the network's genesis and its first node", NETWORK_READY_TIMEOUT, stop, children, || {
                if !genesis.is_file() {
                    return Ok(None);
                }
                let url = node_url(dir, "n1")?;
                Ok(answers(&format!("{url}/healthz"), true).then_some(url))
            })?;
        let Some(first_url) = first_url else { return Ok(()) };
        println!("xtask: the network answers at {first_url}; starting the consoles");

        let console_dir = dir.join("consoles");
        fs::create_dir_all(&console_dir).with_context(|| format!("cannot create {}", console_dir.display()))?;
        let mut consoles = Vec::new();
        for (index, org) in ORGANISATIONS.iter().enumerate() {
            let number = u16::try_from(index).context("too many organisations")?.saturating_add(1);
            let node = format!("n{number}");
            let fallback = format!("n{}", number.checked_rem(4).unwrap_or_default().saturating_add(1));
            let listen = SocketAddr::from(([127, 0, 0, 1], args.console_port.saturating_add(number)));
            let log_path = console_dir.join(format!("{org}.log"));
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .with_context(|| format!("cannot open {}", log_path.display()))?;
            let mut command = Command::new(bin_dir.join("synod-console"));
            command
                .arg("--genesis")
                .arg(&genesis)
                .arg("--node")
                .arg(node_url(dir, &node)?)
                .arg("--node")
                .arg(node_url(dir, &fallback)?)
                .arg("--db")
                .arg(console_dir.join(format!("{org}.db")))
                .arg("--listen")
                .arg(listen.to_string())
                .arg("--site")
                .arg(site);
            // Each console anchors its audit trail with its organisation's console key (a network created before
            // consoles had one runs its consoles unanchored).
            let anchor_key = dir.join("keys").join(format!("{org}-console.pem"));
            if anchor_key.is_file() {
                command.arg("--anchor-key").arg(&anchor_key);
            } else {
                println!("xtask: {} is missing: {org}'s console runs without anchoring", anchor_key.display());
            }
            command
                .current_dir(&self.root)
                .stdin(Stdio::null())
                .stdout(log.try_clone().context("cannot share the console's log file")?)
                .stderr(log);
            let child = command.spawn().context("cannot start synod-console")?;
            children.push(Supervised {
                name: format!("console {org}"),
                child,
                log: Some(log_path),
                grace: CONSOLE_STOP_GRACE,
                exited: false,
            });
            consoles.push((*org, format!("http://{listen}")));
        }
        for (org, url) in &consoles {
            let ready = wait_for(&format!("{org}'s console at {url}"), CONSOLE_READY_TIMEOUT, stop, children, || {
                Ok(answers(url, false).then_some(()))
            })?;
            if ready.is_none() {
                return Ok(());
            }
        }

        let keys = dir.join("keys");
        println!();
        println!("consoles (demo key files in {}):", keys.display());
        for (org, url) in &consoles {
            let auditor = if *org == "org1" { ", auditor.pem (auditor, read-only)" } else { "" };
            println!(
                "  {org}  {url:<24} load {org}-admin.pem (governor), {org}-compliance.pem (compliance), {org}-ops.pem (operator){auditor}"
            );
        }
        println!("console logs and databases: {}", console_dir.display());
        println!("ctrl-c stops the consoles and every node; `{}` resumes the chain.", resume_command(args));

        loop {
            match stop.recv_timeout(Duration::from_millis(500)) {
                Ok(signal) => {
                    println!("xtask: {signal}: stopping the consoles and the network");
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the signal watcher stopped"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            report_exits(children);
            if children.first().is_some_and(|network| network.exited) {
                bail!("`synod up` exited: stopping the consoles");
            }
        }
    }
}

/// Polls `check` until it returns `Some`, and returns that; `Ok(None)` when a stop signal arrives first. Fails after
/// `timeout`, or as soon as a supervised process exits (with its log's tail).
fn wait_for<T>(
    what: &str,
    timeout: Duration,
    stop: &mpsc::Receiver<Signal>,
    children: &mut [Supervised],
    mut check: impl FnMut() -> Result<Option<T>>,
) -> Result<Option<T>> {
    let started = now();
    let mut last_error = None;
    loop {
        match check() {
            Ok(Some(value)) => return Ok(Some(value)),
            Ok(None) => {}
            Err(error) => last_error = Some(error),
        }
        for supervised in children.iter_mut() {
            if let Ok(Some(status)) = supervised.child.try_wait() {
                supervised.exited = true;
                bail!("waiting for {what}: {} exited ({status}){}", supervised.name, log_tail(supervised));
            }
        }
        if started.elapsed() >= timeout {
            let last = last_error.map(|error| format!("; last error: {error:#}")).unwrap_or_default();
            bail!("timed out after {timeout:?} waiting for {what}{last}");
        }
        if let Ok(signal) = stop.recv_timeout(POLL) {
            println!("xtask: {signal}: stopping");
            return Ok(None);
        }
    }
}

/// Prints each supervised process that has exited since the last call.
fn report_exits(children: &mut [Supervised]) {
    for supervised in children.iter_mut().filter(|supervised| !supervised.exited) {
        if let Ok(Some(status)) = supervised.child.try_wait() {
            supervised.exited = true;
            eprintln!("xtask: {} exited ({status}){}", supervised.name, log_tail(supervised));
        }
    }
}

/// The last lines of a supervised process's log, for an error message.
fn log_tail(supervised: &Supervised) -> String {
    let Some(path) = &supervised.log else { return String::new() };
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("; {} ends with:\n{tail}", path.display())
}

/// Sends SIGTERM to every child still running (consoles first, the network last), waits for each up to its grace
/// period, then kills what is left.
fn stop_all(children: &mut [Supervised]) {
    for supervised in children.iter_mut().rev() {
        if let Ok(None) = supervised.child.try_wait()
            && let Ok(pid) = i32::try_from(supervised.child.id())
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let started = now();
    for supervised in children.iter_mut().rev() {
        loop {
            match supervised.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if started.elapsed() >= supervised.grace => {
                    eprintln!("xtask: {} did not stop within {:?}: killing it", supervised.name, supervised.grace);
                    let _ = supervised.child.kill();
                    let _ = supervised.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// Node `node`'s API URL, from `api.listen` in its home's `config.toml` (the ports of the run that created the
/// network, whatever `--base-port` says now).
fn node_url(dir: &Path, node: &str) -> Result<String> {
    let path = dir.join("nodes").join(node).join("config.toml");
    let size = fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX_CONFIG_BYTES {
        bail!("{} is larger than {MAX_CONFIG_BYTES} bytes", path.display());
    }
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    api_url(&text).with_context(|| format!("in {}", path.display()))
}

/// The API URL in a node's `config.toml` text (`[api] listen = "127.0.0.1:7801"` → `http://127.0.0.1:7801`, or
/// `https://` when the API is served over TLS).
fn api_url(config: &str) -> Result<String> {
    let config: toml::Table = toml::from_str(config).context("not a node configuration file")?;
    let api = config.get("api").and_then(toml::Value::as_table).ok_or_else(|| anyhow!("no [api] section"))?;
    let listen = api.get("listen").and_then(toml::Value::as_str).ok_or_else(|| anyhow!("no api.listen"))?;
    let listen: SocketAddr = listen.parse().with_context(|| format!("api.listen {listen:?} is not an address"))?;
    let scheme = if api.contains_key("tls_cert") { "https" } else { "http" };
    Ok(format!("{scheme}://{listen}"))
}

/// Whether `url` answers an HTTP GET: with 200 when `ok_only`, else with any status.
fn answers(url: &str, ok_only: bool) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    agent.get(url).call().is_ok_and(|response| !ok_only || response.status() == 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node's API address is read from its configuration file, with the scheme its TLS settings imply, and a file
    /// without one is refused with a clear error.
    #[test]
    fn node_api_urls_come_from_the_config_file() {
        let plain = "node = \"n1\"\n[p2p]\nlisten = \"127.0.0.1:7701\"\n[api]\nlisten = \"127.0.0.1:7801\"\n";
        assert_eq!(api_url(plain).unwrap(), "http://127.0.0.1:7801");
        let tls = "node = \"n1\"\n[api]\nlisten = \"127.0.0.1:7801\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n";
        assert_eq!(api_url(tls).unwrap(), "https://127.0.0.1:7801");
        let error = api_url("node = \"n1\"\n").unwrap_err();
        assert!(format!("{error:#}").contains("no [api] section"), "{error:#}");
        assert!(api_url("[api]\nlisten = \"somewhere\"\n").is_err());
    }
}
