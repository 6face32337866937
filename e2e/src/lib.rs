//! The end-to-end harness: real `synod` processes on loopback, each with its own home and harness-chosen ports,
//! started, killed and restarted by the test, and watched only through what they serve (`/healthz`,
//! `/v1/status`, the rest of the HTTP API) — never by sleeping a fixed time.
//!
//! Every test gets a directory `target/e2e/<test>/` (emptied when the test starts, kept afterwards) holding the
//! network (see [`synod::localnet`]): the genesis, demo account keys, and one home per node whose `node.log`
//! collects the node's standard output and error across every start. When a [`Harness`] is dropped — the test
//! passed, failed or panicked — every node process it started is killed and reaped.
//!
//! The `synod` binary is the one cargo built beside the test (`target/<profile>/synod`), or `$SYNOD_BIN`;
//! `synod-console` is beside it, and the console's browser bundle is `<target>/site` (`cargo xtask bundle`) or
//! `$SYNOD_SITE`. [`browser`] drives Debian's headless Chromium through ChromeDriver.

// The harness lives in real time: it waits on wall-clock deadlines and stamps the genesis with the time.
#![allow(clippy::disallowed_methods)]

pub mod browser;
pub mod cli;
pub mod idle;
pub mod load;
pub mod proxy;
pub mod sign;
pub mod webhook;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
pub use synod::localnet::free_ports;
use synod::localnet::{LocalNetwork, LocalNode, NetworkSpec};

/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);
/// How long a stopping node may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Largest API response the harness reads.
const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The directory cargo builds into: `$CARGO_TARGET_DIR`, else the one holding the running test executable
/// (`<target>/<profile>/deps/<test>`).
pub fn target_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("cannot locate the test executable")?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("{} is not inside a target directory", exe.display()))
}

/// The `synod` binary: `$SYNOD_BIN`, else the one cargo built beside the running test.
pub fn synod_bin() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("SYNOD_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe().context("cannot locate the test executable")?;
    let profile_dir = exe.ancestors().nth(2).ok_or_else(|| anyhow!("{} has no profile directory", exe.display()))?;
    let bin = profile_dir.join("synod");
    if !bin.exists() {
        bail!("{} not found: build it first (`cargo build --profile test -p synod`) or set SYNOD_BIN", bin.display());
    }
    Ok(bin)
}

/// A running node process.
struct Running {
    child: Child,
}

/// A local network of real `synod` processes for one test.
pub struct Harness {
    dir: PathBuf,
    network: LocalNetwork,
    bin: PathBuf,
    running: BTreeMap<String, Running>,
    starts: BTreeMap<String, u32>,
    agent: ureq::Agent,
    consoles: Vec<Running>,
    /// The proxy each node dials each peer through, by (dialler, peer), once [`Harness::proxy_links`] ran.
    links: BTreeMap<(String, String), proxy::LinkProxy>,
}

impl Harness {
    /// Creates the network for test `test` in `target/e2e/<test>/`: `organisations` members with one sealer each
    /// (`n1`, `n2`, ...) and `observers` observers (`obs1`, ...), blocks every `block_interval_ms`, on free loopback
    /// ports. Nothing is started yet.
    pub fn new(test: &str, organisations: usize, observers: usize, block_interval_ms: u64) -> anyhow::Result<Self> {
        Self::with_node_ids(test, organisations, observers, block_interval_ms, &[])
    }

    /// [`Self::new`] with the nodes called `node_ids` (sealers first, one per node; none for the usual names).
    pub fn with_node_ids(
        test: &str,
        organisations: usize,
        observers: usize,
        block_interval_ms: u64,
        node_ids: &[&str],
    ) -> anyhow::Result<Self> {
        let dir = target_dir()?.join("e2e").join(test);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let count = organisations.saturating_add(observers);
        let ports = free_ports(count.saturating_mul(2))?;
        let (p2p_ports, api_ports) = ports.split_at(count);
        let spec = NetworkSpec {
            chain_id: "synod-e2e".into(),
            organisations,
            observers,
            block_interval_ms,
            p2p_ports: p2p_ports.to_vec(),
            api_ports: api_ports.to_vec(),
            node_ids: node_ids.iter().map(|id| (*id).to_owned()).collect(),
        };
        let network = LocalNetwork::create(&dir, &spec, now_ms())?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            dir,
            network,
            bin: synod_bin()?,
            running: BTreeMap::new(),
            starts: BTreeMap::new(),
            agent,
            consoles: Vec::new(),
            links: BTreeMap::new(),
        })
    }

    /// The test's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The network (genesis, nodes, homes).
    pub fn network(&self) -> &LocalNetwork {
        &self.network
    }

    /// The node called `id`.
    pub fn node(&self, id: &str) -> anyhow::Result<&LocalNode> {
        self.network.node(id).ok_or_else(|| anyhow!("no node {id} in this network"))
    }

    /// The ids of every node, sealers first.
    pub fn node_ids(&self) -> Vec<String> {
        self.network.nodes.iter().map(|n| n.id.as_str().to_owned()).collect()
    }

    /// The node the CLI helpers ([`cli`]) submit through and read from: the first sealer (`n1` unless the ids
    /// were chosen).
    pub fn entry(&self) -> String {
        self.network.nodes.first().map(|n| n.id.as_str().to_owned()).unwrap_or_default()
    }

    /// Adds a node home `id` with a fresh key governance never admitted: same genesis, free ports, dialling the
    /// genesis nodes like any other. It is not started.
    pub fn add_outsider(&mut self, id: &str) -> anyhow::Result<()> {
        let key = synod::localnet::generate_key()?;
        let ports = free_ports(1)?;
        self.add_home(id, &key, ports[0]).map(|_| ())
    }

    /// Adds a node home `id` holding `key`, listening for peers on loopback port `p2p_port` and serving its API
    /// on a free port; it has the network's genesis and is not started. Returns the home.
    pub fn add_home(
        &mut self,
        id: &str,
        key: &governance_contracts::crypto::SecretKey,
        p2p_port: u16,
    ) -> anyhow::Result<PathBuf> {
        let node_id = governance_contracts::ids::NodeId::new(id).map_err(|e| anyhow!("node id {id:?}: {e}"))?;
        if self.network.node(id).is_some() {
            bail!("the network already has a node {id}");
        }
        let api_port = free_ports(1)?[0];
        let home = self.dir.join("nodes").join(id);
        std::fs::create_dir_all(&home)?;
        synod::localnet::write_key(&synod::runtime::config::key_path(&home, 0), key)?;
        std::fs::copy(synod::localnet::genesis_path(&self.dir), synod::runtime::config::genesis_path(&home))?;
        let node = LocalNode {
            id: node_id,
            kind: governance_contracts::types::action::NodeKind::Observer,
            home: home.clone(),
            api: std::net::SocketAddr::from(([127, 0, 0, 1], api_port)),
            p2p: std::net::SocketAddr::from(([127, 0, 0, 1], p2p_port)),
        };
        synod::runtime::config::NodeConfig {
            node: id.to_owned(),
            p2p: synod::runtime::config::P2pSection { listen: node.p2p, dial: Default::default() },
            api: synod::runtime::config::ApiSection::plain(node.api),
            readiness: Default::default(),
        }
        .save(&home)?;
        self.network.nodes.push(node);
        Ok(home)
    }

    /// Routes every link between the network's nodes through a proxy of its own (one per direction: each node's
    /// dial override for each peer, in its `config.toml`), so that [`Self::cut`] and [`Self::heal`] can break and
    /// restore any link. Call before starting the nodes.
    pub fn proxy_links(&mut self) -> anyhow::Result<()> {
        let nodes = self.network.nodes.clone();
        for dialler in &nodes {
            let mut config = synod::runtime::config::NodeConfig::load(&dialler.home)?;
            for peer in nodes.iter().filter(|peer| peer.id != dialler.id) {
                let proxy = proxy::LinkProxy::start(peer.p2p)?;
                config.p2p.dial.insert(peer.id.as_str().to_owned(), proxy.address().to_string());
                self.links.insert((dialler.id.as_str().to_owned(), peer.id.as_str().to_owned()), proxy);
            }
            config.save(&dialler.home)?;
        }
        Ok(())
    }

    /// The proxies of the link between `a` and `b`, both directions.
    fn link(&self, a: &str, b: &str) -> anyhow::Result<[&proxy::LinkProxy; 2]> {
        let one = |from: &str, to: &str| {
            self.links
                .get(&(from.to_owned(), to.to_owned()))
                .ok_or_else(|| anyhow!("no proxied link {from} → {to}: call proxy_links before starting the nodes"))
        };
        Ok([one(a, b)?, one(b, a)?])
    }

    /// Cuts the link between nodes `a` and `b`: its connections close and neither can reach the other until
    /// [`Self::heal`].
    pub fn cut(&self, a: &str, b: &str) -> anyhow::Result<()> {
        self.link(a, b)?.iter().for_each(|proxy| proxy.cut());
        Ok(())
    }

    /// Restores the link between nodes `a` and `b`.
    pub fn heal(&self, a: &str, b: &str) -> anyhow::Result<()> {
        self.link(a, b)?.iter().for_each(|proxy| proxy.heal());
        Ok(())
    }

    /// Cuts every link between a node of `left` and a node of `right`.
    pub fn partition(&self, left: &[&str], right: &[&str]) -> anyhow::Result<()> {
        for a in left {
            for b in right {
                self.cut(a, b)?;
            }
        }
        Ok(())
    }

    /// Heals every link between the network's nodes.
    pub fn heal_all(&self) {
        self.links.values().for_each(proxy::LinkProxy::heal);
    }

    /// Checks that every running node holds the same block hash at every height from 1 to `up_to`: no fork.
    pub fn assert_one_chain(&mut self, up_to: u64) -> anyhow::Result<()> {
        let ids: Vec<String> = self.node_ids().into_iter().filter(|id| self.running.contains_key(id)).collect();
        for height in 1..=up_to {
            let mut hashes = BTreeMap::new();
            for id in &ids {
                hashes.insert(id.clone(), self.block_hash(id, height)?);
            }
            let first = hashes.values().next().cloned().unwrap_or_default();
            if hashes.values().any(|hash| *hash != first) {
                bail!("the nodes disagree at height {height}: {hashes:?}");
            }
        }
        Ok(())
    }

    /// Runs the `synod` CLI with `args` in the test's directory, as an administrator would; returns its standard
    /// output, or fails with its standard error when it exits unsuccessfully.
    pub fn synod(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = std::process::Command::new(&self.bin)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .with_context(|| format!("cannot run synod {args:?}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!("synod {args:?} failed ({}):\n{}{stdout}", output.status, String::from_utf8_lossy(&output.stderr));
        }
        Ok(stdout)
    }

    /// Starts node `id` (`synod node --home HOME`), appending its output to its `node.log`.
    pub fn start(&mut self, id: &str) -> anyhow::Result<()> {
        self.start_with_env(id, &[])
    }

    /// Starts node `id` with extra environment variables (for example `SYNOD_FAILPOINTS`).
    pub fn start_with_env(&mut self, id: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
        if self.running.contains_key(id) {
            bail!("node {id} is already running");
        }
        let node = self.node(id)?.clone();
        let start = self.starts.entry(id.to_owned()).or_default();
        *start = start.saturating_add(1);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.log_path())
            .with_context(|| format!("cannot open {}", node.log_path().display()))?;
        writeln!(log, "=== harness: start {} of {id} (env {env:?}) ===", start)?;
        let rust_log = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
        let mut env = env.to_vec();
        env.push(("RUST_LOG", &rust_log));
        let child = synod::localnet::spawn_node(&self.bin, &node, &env)?;
        self.running.insert(id.to_owned(), Running { child });
        Ok(())
    }

    /// Starts every node.
    pub fn start_all(&mut self) -> anyhow::Result<()> {
        for id in self.node_ids() {
            self.start(&id)?;
        }
        Ok(())
    }

    /// Kills node `id` with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(&mut self, id: &str) -> anyhow::Result<()> {
        let mut running = self.running.remove(id).ok_or_else(|| anyhow!("node {id} is not running"))?;
        running.child.kill().with_context(|| format!("cannot kill {id}"))?;
        running.child.wait().with_context(|| format!("cannot reap {id}"))?;
        Ok(())
    }

    /// Pauses node `id` (SIGSTOP): the process holds its connections and state but does nothing until
    /// [`Self::resume`].
    pub fn pause(&self, id: &str) -> anyhow::Result<()> {
        self.signal(id, Signal::SIGSTOP)
    }

    /// Resumes a paused node (SIGCONT).
    pub fn resume(&self, id: &str) -> anyhow::Result<()> {
        self.signal(id, Signal::SIGCONT)
    }

    fn signal(&self, id: &str, signal: Signal) -> anyhow::Result<()> {
        let running = self.running.get(id).ok_or_else(|| anyhow!("node {id} is not running"))?;
        let pid = Pid::from_raw(i32::try_from(running.child.id()).context("pid out of range")?);
        kill(pid, signal).with_context(|| format!("cannot send {signal} to {id}"))
    }

    /// Stops node `id` with SIGTERM and waits for it to exit (killing it if it takes over 10 s); returns whether it
    /// exited successfully.
    pub fn stop(&mut self, id: &str) -> anyhow::Result<bool> {
        let mut running = self.running.remove(id).ok_or_else(|| anyhow!("node {id} is not running"))?;
        let pid = Pid::from_raw(i32::try_from(running.child.id()).context("pid out of range")?);
        kill(pid, Signal::SIGTERM).with_context(|| format!("cannot signal {id}"))?;
        let deadline = Instant::now().checked_add(STOP_GRACE).unwrap_or_else(Instant::now);
        loop {
            if let Some(status) = running.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() >= deadline {
                running.child.kill()?;
                running.child.wait()?;
                return Ok(false);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether node `id`'s process is running (reaping it if it has exited).
    pub fn is_running(&mut self, id: &str) -> bool {
        let exited = match self.running.get_mut(id) {
            None => return false,
            Some(running) => !matches!(running.child.try_wait(), Ok(None)),
        };
        if exited {
            self.running.remove(id);
        }
        !exited
    }

    /// The text of node `id`'s log.
    pub fn log(&self, id: &str) -> String {
        self.node(id).map(|n| std::fs::read_to_string(n.log_path()).unwrap_or_default()).unwrap_or_default()
    }

    /// GETs `path` from node `id`'s API: the status code and the body as JSON (`Value::Null` when it is not
    /// JSON).
    pub fn get(&self, id: &str, path: &str) -> anyhow::Result<(u16, Value)> {
        let (status, body) = self.get_text(id, path)?;
        Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
    }

    /// GETs `path` from node `id`'s API as text: the status code and the body.
    pub fn get_text(&self, id: &str, path: &str) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{path}", self.node(id)?.url());
        let mut response = self.agent.get(&url).call().with_context(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_RESPONSE_BYTES).read_to_string()?;
        Ok((status, body))
    }

    /// POSTs `body` (with `content_type`) to `path` of node `id`'s API: the status code and the JSON answer.
    pub fn post(&self, id: &str, path: &str, content_type: &str, body: &[u8]) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}{path}", self.node(id)?.url());
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", content_type)
            .send(body)
            .with_context(|| format!("POST {url}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(MAX_RESPONSE_BYTES).read_to_string()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A metric's value in node `id`'s `/metrics` text (`name`, or the counter `name_total`), summed over its labels
    /// (0 when absent).
    pub fn metric(&self, id: &str, name: &str) -> anyhow::Result<u64> {
        let (code, text) = self.get_text(id, "/metrics")?;
        if code != 200 {
            bail!("{id}: /metrics answered {code}");
        }
        let counter = format!("{name}_total");
        Ok(text
            .lines()
            .filter(|line| line.split(['{', ' ']).next().is_some_and(|n| n == name || n == counter))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum())
    }

    /// Node `id`'s `/v1/status`.
    pub fn status(&self, id: &str) -> anyhow::Result<Value> {
        match self.get(id, "/v1/status")? {
            (200, status) => Ok(status),
            (code, body) => bail!("{id}: /v1/status answered {code}: {body}"),
        }
    }

    /// Node `id`'s committed height, from `/v1/status`.
    pub fn height(&self, id: &str) -> anyhow::Result<u64> {
        let status = self.status(id)?;
        status["height"].as_u64().ok_or_else(|| anyhow!("{id}: /v1/status has no height: {status}"))
    }

    /// Polls `check` until it answers `true`, failing after `timeout` with `what` and the last error. Stops early
    /// when one of `watched` has exited (its log's tail is in the error).
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        watched: &[&str],
        mut check: impl FnMut(&Self) -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now().checked_add(timeout).unwrap_or_else(Instant::now);
        let mut last = None;
        loop {
            match check(self) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last = Some(e),
            }
            for id in watched {
                if !self.is_running(id) {
                    bail!("waiting for {what}: node {id} exited; its log ends with:\n{}", tail(&self.log(id), 40));
                }
            }
            if Instant::now() >= deadline {
                let last = last.map(|e| format!("; last error: {e:#}")).unwrap_or_default();
                bail!("timed out after {timeout:?} waiting for {what}{last}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until node `id` answers `/healthz`.
    pub fn wait_healthy(&mut self, id: &str, timeout: Duration) -> anyhow::Result<()> {
        let id_owned = id.to_owned();
        self.wait_until(&format!("{id} to be healthy"), timeout, &[id], |h| Ok(h.get(&id_owned, "/healthz")?.0 == 200))
    }

    /// Waits until node `id` has committed `height`.
    pub fn wait_height(&mut self, id: &str, height: u64, timeout: Duration) -> anyhow::Result<()> {
        let id_owned = id.to_owned();
        self.wait_until(&format!("{id} to reach height {height}"), timeout, &[id], |h| {
            Ok(h.height(&id_owned)? >= height)
        })
    }

    /// Waits until every running node has committed `height`.
    pub fn wait_all_height(&mut self, height: u64, timeout: Duration) -> anyhow::Result<()> {
        for id in self.running.keys().cloned().collect::<Vec<_>>() {
            self.wait_height(&id, height, timeout)?;
        }
        Ok(())
    }

    /// Waits until each of the nodes `ids` has committed `height`.
    pub fn wait_all_height_of(&mut self, ids: &[&str], height: u64, timeout: Duration) -> anyhow::Result<()> {
        for id in ids {
            self.wait_height(id, height, timeout)?;
        }
        Ok(())
    }

    /// The hash of block `height` as node `id` serves it.
    pub fn block_hash(&self, id: &str, height: u64) -> anyhow::Result<String> {
        match self.get(id, &format!("/v1/blocks/{height}"))? {
            (200, block) => block["hash"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{id}: block {height} has no hash: {block}")),
            (code, body) => bail!("{id}: /v1/blocks/{height} answered {code}: {body}"),
        }
    }
}

impl Harness {
    /// Starts a steady load of `rate` transactions per second (see [`load`]) sent to every node of the network in
    /// turn, signed with the demo organisations' keys.
    pub fn start_load(&self, rate: u32) -> anyhow::Result<load::Load> {
        let nodes = self.network.nodes.iter().map(LocalNode::url).collect();
        let organisations = self.network.genesis.members.len();
        load::Load::start(self.network.genesis.identity(), nodes, &self.dir.join("keys"), organisations, rate)
    }

    /// Checks that every running node holds each transaction the load acknowledged, in the block it was
    /// acknowledged in: no acknowledged transaction was lost.
    pub fn assert_acknowledged_kept(&self, report: &load::LoadReport) -> anyhow::Result<()> {
        let mut by_height: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
        for (hash, height) in &report.acknowledged {
            by_height.entry(*height).or_default().push(hash);
        }
        for id in self.running.keys() {
            for (height, hashes) in &by_height {
                let (code, body) = self.get(id, &format!("/v1/blocks/{height}"))?;
                if code != 200 {
                    bail!("{id} lost block {height}, which held acknowledged transactions: {code} {body}");
                }
                let held =
                    load::block_receipts(&body).ok_or_else(|| anyhow!("{id}: block {height} has no receipts"))?;
                if let Some(lost) = hashes.iter().find(|hash| !held.iter().any(|h| h == *hash)) {
                    bail!("{id}'s block {height} lacks acknowledged transaction {lost}");
                }
            }
        }
        Ok(())
    }
}

impl Harness {
    /// The demo key file of `account` (`org1-admin`, `org2-compliance`, `auditor`, ...).
    pub fn key(&self, account: &str) -> PathBuf {
        synod::localnet::account_key_path(&self.dir, account)
    }

    /// Starts a `synod-console` named `name` reading from nodes `nodes` (in order of preference), with its own
    /// SQLite file in the test's directory and the bundle from `cargo xtask bundle`; waits until it serves its
    /// first page and returns its base URL.
    pub fn start_console(&mut self, name: &str, nodes: &[&str]) -> anyhow::Result<String> {
        self.start_console_with(name, nodes, &[])
    }

    /// [`Self::start_console`] with more of `synod-console`'s flags (`--webhook-allow 127.0.0.1`, `--public-read`,
    /// ...).
    pub fn start_console_with(&mut self, name: &str, nodes: &[&str], flags: &[&str]) -> anyhow::Result<String> {
        let site = site_dir()?;
        let bin = console_bin()?;
        let port = free_ports(1)?.first().copied().ok_or_else(|| anyhow!("no free port"))?;
        let url = format!("http://127.0.0.1:{port}");
        let log_path = self.dir.join(format!("console-{name}.log"));
        let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = std::process::Command::new(&bin);
        command
            .arg("--genesis")
            .arg(synod::localnet::genesis_path(&self.dir))
            .arg("--db")
            .arg(self.dir.join(format!("console-{name}.db")))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--site")
            .arg(&site)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(log.try_clone()?)
            .stderr(log);
        for node in nodes {
            command.arg("--node").arg(format!("http://{}", self.node(node)?.api));
        }
        command.args(flags);
        let child = command.spawn().with_context(|| format!("cannot start {}", bin.display()))?;
        self.consoles.push(Running { child });
        let agent = self.agent.clone();
        let page = format!("{url}/");
        self.wait_until(&format!("console {name} to serve"), Duration::from_secs(30), &[], |_| {
            Ok(agent.get(&page).call().is_ok_and(|r| r.status() == 200))
        })
        .with_context(|| {
            format!("console {name}'s log:\n{}", tail(&std::fs::read_to_string(&log_path).unwrap_or_default(), 30))
        })?;
        Ok(url)
    }
}

/// The built browser bundle: `$SYNOD_SITE`, else `<target>/site`.
pub fn site_dir() -> anyhow::Result<PathBuf> {
    let site = match std::env::var_os("SYNOD_SITE") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir()?.join("site"),
    };
    if !site.join("pkg").join("console_bg.wasm").exists() {
        bail!("the console's browser bundle is missing in {}: run `cargo xtask bundle`", site.display());
    }
    Ok(site)
}

/// The `synod-console` binary beside `synod`.
pub fn console_bin() -> anyhow::Result<PathBuf> {
    let bin = synod_bin()?.with_file_name("synod-console");
    if !bin.exists() {
        bail!(
            "{} not found: build it first (`cargo build --profile test -p console --bin synod-console`)",
            bin.display()
        );
    }
    Ok(bin)
}

impl Drop for Harness {
    fn drop(&mut self) {
        for mut console in std::mem::take(&mut self.consoles) {
            let _ = console.child.kill();
            let _ = console.child.wait();
        }
        for (_, mut running) in std::mem::take(&mut self.running) {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Milliseconds since the Unix epoch (the genesis time of a harness network).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}
