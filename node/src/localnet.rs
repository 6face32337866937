//! A local network on loopback: demo keys, a genesis and one node home per node, created once in a directory and
//! resumed from it (`synod up`, and the e2e harness, which builds networks of other shapes with the same code).
//!
//! ```text
//! DIR/genesis.json              the chain's genesis (also copied into every home)
//! DIR/keys/<account>.pem        the demo accounts' keys: each organisation's administrator (governor), operator
//!                               and compliance officer, its console's anchoring key (`<org>-console`, holding
//!                               the `console` role), and the auditor
//! DIR/nodes/<node>/             one node home each (see `runtime::config`), with its log in `node.log`
//! ```
//!
//! Every key is generated from the operating system's randomness on creation; a second run with the same directory
//! reuses them and the nodes resume their chain from their stores.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::{BoundedString, BoundedVec, Name};
use governance_contracts::crypto::{CryptoSuite, SecretKey};
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, RoleId, Weight};
use governance_contracts::types::action::{NewAccount, NodeKind, RoleDefinition, RoleScope};
use governance_contracts::types::genesis::{GenesisAccount, GenesisGrant, GenesisMember, GenesisNode, GenesisRole};
use governance_contracts::types::{ChainParams, Genesis};

use crate::runtime::config::{self, ApiSection, NodeConfig, P2pSection, ReadinessSection};

/// The demo network's delegable role, which compliance staff grant.
pub const DEMO_DELEGABLE_ROLE: &str = "kyc-verified";

/// Display names of the demo organisations, in order.
pub const ORG_NAMES: [&str; 8] = [
    "Aurora Bank",
    "Borealis Trust",
    "Cobalt Clearing",
    "Delta Securities",
    "Ember Insurance",
    "Fjord Payments",
    "Granite Custody",
    "Harbor Exchange",
];

/// The shape of a local network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The chain id.
    pub chain_id: String,
    /// Member organisations, each with one sealer (at most [`ORG_NAMES`]`.len()`).
    pub organisations: usize,
    /// Observers, owned by the first organisation.
    pub observers: usize,
    /// The chain's block interval.
    pub block_interval_ms: u64,
    /// The p2p port of each node, sealers first (one per node).
    pub p2p_ports: Vec<u16>,
    /// The API port of each node, in the same order.
    pub api_ports: Vec<u16>,
    /// The id of each node, in the same order; empty for `n1`, `n2`, ... (sealers) and `obs1`, ... (observers).
    pub node_ids: Vec<String>,
}

impl NetworkSpec {
    /// The demo network of `synod up`: 4 organisations with a sealer each and one auditor's observer, on ports
    /// `base + 1 ..` (p2p) and `base + 101 ..` (API).
    pub fn demo(base_port: u16) -> Self {
        let ports = |offset: u16| (1..=5u16).map(|i| base_port.saturating_add(offset).saturating_add(i)).collect();
        Self {
            chain_id: "synod-local".into(),
            organisations: 4,
            observers: 1,
            block_interval_ms: 1_000,
            p2p_ports: ports(0),
            api_ports: ports(100),
            node_ids: Vec::new(),
        }
    }

    /// How many nodes the network has.
    pub fn node_count(&self) -> usize {
        self.organisations.saturating_add(self.observers)
    }
}

/// One node of a local network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// Its id.
    pub id: NodeId,
    /// Sealer or observer.
    pub kind: NodeKind,
    /// Its home directory.
    pub home: PathBuf,
    /// Its HTTP API address.
    pub api: SocketAddr,
    /// Its p2p address.
    pub p2p: SocketAddr,
}

impl LocalNode {
    /// The base URL of its HTTP API.
    pub fn url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// Its log file (written by whoever starts it).
    pub fn log_path(&self) -> PathBuf {
        self.home.join("node.log")
    }
}

/// A local network's directory.
#[derive(Debug, Clone)]
pub struct LocalNetwork {
    /// The directory.
    pub dir: PathBuf,
    /// The genesis.
    pub genesis: Genesis,
    /// Its nodes, sealers first.
    pub nodes: Vec<LocalNode>,
}

/// The genesis file of a network directory.
pub fn genesis_path(dir: &Path) -> PathBuf {
    dir.join("genesis.json")
}

/// The demo key of `account` in a network directory.
pub fn account_key_path(dir: &Path, account: &str) -> PathBuf {
    dir.join("keys").join(format!("{account}.pem"))
}

/// A fresh ed25519 key from the operating system's randomness.
pub fn generate_key() -> anyhow::Result<SecretKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow!("no randomness from the operating system: {e}"))?;
    Ok(SecretKey::from_seed(seed))
}

/// Writes `key` as PKCS#8 PEM to a new file readable by its owner only; an existing file is never overwritten.
pub fn write_key(path: &Path, key: &SecretKey) -> anyhow::Result<()> {
    let pem = key.to_pkcs8_pem().map_err(|e| anyhow!("encoding a key: {e}"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("key file {}: cannot create", path.display()))?;
    file.write_all(pem.as_bytes()).with_context(|| format!("key file {}: cannot write", path.display()))
}

fn text<const N: usize>(value: String) -> anyhow::Result<BoundedString<N>> {
    BoundedString::try_new(value.clone()).map_err(|e| anyhow!("{value:?}: {e}"))
}

fn id<T>(
    value: String,
    make: impl FnOnce(String) -> Result<T, governance_contracts::codec::TextError>,
) -> anyhow::Result<T> {
    make(value.clone()).map_err(|e| anyhow!("{value:?}: {e}"))
}

fn bounded<T, const N: usize>(items: Vec<T>) -> anyhow::Result<BoundedVec<T, N>> {
    BoundedVec::try_new(items).map_err(|e| anyhow!("{e}"))
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

impl LocalNetwork {
    /// Creates the network of `spec` in `dir` (which must not hold one yet): keys, genesis and node homes.
    pub fn create(dir: &Path, spec: &NetworkSpec, genesis_time_ms: u64) -> anyhow::Result<Self> {
        if genesis_path(dir).exists() {
            bail!("{} already holds a network", dir.display());
        }
        if spec.organisations == 0 || spec.organisations > ORG_NAMES.len() {
            bail!("between 1 and {} organisations, not {}", ORG_NAMES.len(), spec.organisations);
        }
        // Founding grants last as long as a built-in role allows from height 0; the committee renews them.
        let far = Height(governance_contracts::contracts::roles::BUILTIN_MAX_GRANT_BLOCKS);
        let mut members = Vec::new();
        let mut accounts = Vec::new();
        let mut grants = Vec::new();
        let mut genesis_nodes = Vec::new();
        let mut node_keys = Vec::new();
        let mut nodes = Vec::new();
        let total = spec.node_count();
        if spec.p2p_ports.len() != total || spec.api_ports.len() != total {
            bail!("{total} nodes need {total} p2p and {total} API ports");
        }
        if !spec.node_ids.is_empty() && spec.node_ids.len() != total {
            bail!("{total} nodes need {total} ids, not {}", spec.node_ids.len());
        }
        for index in 0..total {
            let sealer = index < spec.organisations;
            let (default_name, owner) = if sealer {
                (format!("n{}", index.saturating_add(1)), format!("org{}", index.saturating_add(1)))
            } else {
                (format!("obs{}", index.saturating_sub(spec.organisations).saturating_add(1)), "org1".to_owned())
            };
            let name = spec.node_ids.get(index).cloned().unwrap_or(default_name);
            let key = generate_key()?;
            let p2p = loopback(spec.p2p_ports[index]);
            let api = loopback(spec.api_ports[index]);
            let node = id(name.clone(), NodeId::new)?;
            genesis_nodes.push(GenesisNode {
                node: node.clone(),
                owner: id(owner, MemberId::new)?,
                key: key.public_key(),
                address: text(p2p.to_string())?,
                kind: if sealer { NodeKind::Sealer } else { NodeKind::Observer },
                weight: Weight(u64::from(sealer)),
            });
            nodes.push(LocalNode {
                id: node,
                kind: if sealer { NodeKind::Sealer } else { NodeKind::Observer },
                home: dir.join("nodes").join(&name),
                api,
                p2p,
            });
            node_keys.push(key);
        }
        for (index, display) in ORG_NAMES.iter().take(spec.organisations).enumerate() {
            let org = format!("org{}", index.saturating_add(1));
            let member = id(org.clone(), MemberId::new)?;
            let admin = generate_key()?;
            write_key(&account_key_path(dir, &format!("{org}-admin")), &admin)?;
            members.push(GenesisMember {
                member: member.clone(),
                name: text((*display).to_owned())?,
                weight: Weight(1),
                governors: bounded(vec![NewAccount {
                    account: id(format!("{org}-admin"), AccountId::new)?,
                    key: admin.public_key(),
                }])?,
            });
            // The console's account anchors the organisation's audit trail with a machine key that can do nothing
            // else.
            let roles =
                [("ops", RoleId::operator()), ("compliance", RoleId::compliance()), ("console", RoleId::console())];
            for (suffix, role) in roles {
                let label = format!("{org}-{suffix}");
                let key = generate_key()?;
                write_key(&account_key_path(dir, &label), &key)?;
                accounts.push(GenesisAccount {
                    account: id(label.clone(), AccountId::new)?,
                    member: member.clone(),
                    key: key.public_key(),
                });
                grants.push(GenesisGrant { account: id(label, AccountId::new)?, role, expires_at: far });
            }
        }
        let auditor = generate_key()?;
        write_key(&account_key_path(dir, "auditor"), &auditor)?;
        accounts.push(GenesisAccount {
            account: id("auditor".into(), AccountId::new)?,
            member: id("org1".into(), MemberId::new)?,
            key: auditor.public_key(),
        });
        grants.push(GenesisGrant {
            account: id("auditor".into(), AccountId::new)?,
            role: RoleId::auditor(),
            expires_at: far,
        });

        let genesis = Genesis {
            chain_id: Name::new(spec.chain_id.clone()).map_err(|e| anyhow!("chain id {:?}: {e}", spec.chain_id))?,
            crypto_suite: CryptoSuite::Ed25519Sha256,
            genesis_time_ms,
            params: ChainParams { block_interval_ms: spec.block_interval_ms, ..ChainParams::default() },
            members: bounded(members)?,
            accounts: bounded(accounts)?,
            nodes: bounded(genesis_nodes)?,
            // One business role the committee delegated to compliance staff, as an alliance's applications would
            // define: an account whose customer checks are done.
            roles: bounded(vec![GenesisRole {
                role: id(DEMO_DELEGABLE_ROLE.into(), RoleId::new)?,
                definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 1_000_000 },
            }])?,
            grants: bounded(grants)?,
            policy: None,
        };
        governance_contracts::execution::apply_genesis(&genesis)
            .map_err(|e| anyhow!("the demo genesis is invalid: {e}"))?;
        let keyed = nodes.into_iter().zip(node_keys).collect();
        Self::write(dir, genesis, keyed)
    }

    /// Writes a network of `nodes` (each with its key) for `genesis` into `dir`: the genesis and one home per node.
    /// A node whose p2p address differs from the one the genesis records for it is dialled at its real address by
    /// every other node (a `[p2p.dial]` override), so a genesis made elsewhere runs on whatever ports are free.
    pub fn write(dir: &Path, genesis: Genesis, nodes: Vec<(LocalNode, SecretKey)>) -> anyhow::Result<Self> {
        if genesis_path(dir).exists() {
            bail!("{} already holds a network", dir.display());
        }
        let json = serde_json::to_string_pretty(&genesis).context("encoding the genesis")?;
        let overrides: std::collections::BTreeMap<String, String> = nodes
            .iter()
            .filter(|(node, _)| {
                genesis.nodes.iter().any(|g| g.node == node.id && g.address.as_str() != node.p2p.to_string())
            })
            .map(|(node, _)| (node.id.as_str().to_owned(), node.p2p.to_string()))
            .collect();
        for (node, key) in &nodes {
            std::fs::create_dir_all(&node.home).with_context(|| format!("cannot create {}", node.home.display()))?;
            write_key(&config::key_path(&node.home, 0), key)?;
            std::fs::write(config::genesis_path(&node.home), &json)
                .with_context(|| format!("cannot write the genesis into {}", node.home.display()))?;
            let mut dial = overrides.clone();
            dial.remove(node.id.as_str());
            NodeConfig {
                node: node.id.as_str().to_owned(),
                p2p: P2pSection { listen: node.p2p, dial },
                api: ApiSection::plain(node.api),
                readiness: ReadinessSection::default(),
            }
            .save(&node.home)?;
        }
        // The genesis file last: its presence marks a complete network.
        std::fs::write(genesis_path(dir), &json)
            .with_context(|| format!("cannot write {}", genesis_path(dir).display()))?;
        Ok(Self { dir: dir.to_path_buf(), genesis, nodes: nodes.into_iter().map(|(node, _)| node).collect() })
    }

    /// Opens the network created earlier in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let genesis = crate::runtime::load_genesis(&genesis_path(dir))?;
        let mut nodes = Vec::new();
        for listed in genesis.nodes.iter() {
            let home = dir.join("nodes").join(listed.node.as_str());
            let config = NodeConfig::load(&home)?;
            nodes.push(LocalNode {
                id: listed.node.clone(),
                kind: listed.kind,
                home,
                api: config.api.listen,
                p2p: config.p2p.listen,
            });
        }
        Ok(Self { dir: dir.to_path_buf(), genesis, nodes })
    }

    /// Opens the network in `dir`, or creates it there with `spec` when the directory holds none.
    pub fn open_or_create(dir: &Path, spec: &NetworkSpec, genesis_time_ms: u64) -> anyhow::Result<(Self, bool)> {
        if genesis_path(dir).exists() {
            Ok((Self::open(dir)?, false))
        } else {
            Ok((Self::create(dir, spec, genesis_time_ms)?, true))
        }
    }

    /// The node called `id`.
    pub fn node(&self, id: &str) -> Option<&LocalNode> {
        self.nodes.iter().find(|n| n.id.as_str() == id)
    }
}

/// `count` distinct loopback ports that were free a moment ago (the operating system picked them).
pub fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Starts `synod node --home HOME` for `node` from the executable `exe`, with extra environment variables `env`,
/// its standard output and error appended to the node's log.
pub fn spawn_node(exe: &Path, node: &LocalNode, env: &[(&str, &str)]) -> anyhow::Result<std::process::Child> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(node.log_path())
        .with_context(|| format!("cannot open {}", node.log_path().display()))?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("node")
        .arg("--home")
        .arg(&node.home)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().context("cannot share the log file")?)
        .stderr(log);
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().with_context(|| format!("cannot start {}", exe.display()))
}

/// `synod up`: run a local network.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// The network's directory: created with demo keys and a genesis on the first run, resumed afterwards.
    #[arg(long, value_name = "DIR", default_value = "synod-local")]
    pub dir: PathBuf,
    /// Ports: node i (from 1) listens for peers on BASE+i and serves its API on BASE+100+i (first run only).
    #[arg(long, value_name = "BASE", default_value_t = 7700)]
    pub base_port: u16,
    /// Set by `cargo xtask up`, which starts consoles too and prints its own command as the way to resume: no
    /// resume line of `synod up`'s own.
    #[arg(long, hide = true)]
    pub supervised: bool,
}

/// How long `synod up` waits for a node to answer `/healthz`.
const UP_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `synod up`: creates (or resumes) the demo network in `--dir`, starts every node as its own `synod node`
/// process with its output in its home's `node.log`, prints where everything is, and on ctrl-c or SIGTERM stops
/// them all (SIGTERM, then SIGKILL after 10 s) before exiting.
pub fn up(args: UpArgs) -> anyhow::Result<std::process::ExitCode> {
    let (network, fresh) = LocalNetwork::open_or_create(&args.dir, &NetworkSpec::demo(args.base_port), now_ms())?;
    let exe = std::env::current_exe().context("cannot locate the synod executable")?;
    let chain = network.genesis.identity();
    println!(
        "{} network {} in {}",
        if fresh { "created" } else { "resuming" },
        chain.chain_id.as_str(),
        args.dir.display()
    );
    println!("genesis hash {}", chain.genesis_hash);
    let mut children = Vec::new();
    for node in &network.nodes {
        children.push((node.clone(), spawn_node(&exe, node, &[(crate::runtime::service::STOP_WITH_PARENT_ENV, "1")])?));
    }
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot build the tokio runtime")?;
    let outcome = runtime.block_on(supervise(&network, &mut children, !args.supervised));
    stop_children(&mut children);
    outcome?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Waits for every node to be healthy, prints the network's addresses (and, with `resume_line`, how to resume it),
/// then waits for ctrl-c or SIGTERM while reporting any node that exits on its own.
async fn supervise(
    network: &LocalNetwork,
    children: &mut [(LocalNode, std::process::Child)],
    resume_line: bool,
) -> anyhow::Result<()> {
    let shutdown = crate::runtime::shutdown_signal().await?;
    let mut shutdown = std::pin::pin!(shutdown);
    for (node, child) in children.iter_mut() {
        let ready = async {
            loop {
                if let Some(status) = child.try_wait()? {
                    bail!("{} exited ({status}) before it was ready; see {}", node.id, node.log_path().display());
                }
                if healthy(&node.url()).await {
                    return anyhow::Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            result = tokio::time::timeout(UP_READY_TIMEOUT, ready) => result
                .map_err(|_| anyhow!("{} did not answer {}/healthz within {UP_READY_TIMEOUT:?}; see {}", node.id, node.url(), node.log_path().display()))??,
        }
    }
    println!();
    println!("{:<6} {:<9} {:<28} log", "node", "kind", "API");
    for node in &network.nodes {
        let kind = if node.kind == NodeKind::Sealer { "sealer" } else { "observer" };
        println!("{:<6} {:<9} {:<28} {}", node.id.as_str(), kind, node.url(), node.log_path().display());
    }
    println!();
    println!("demo account keys (PKCS#8 PEM) in {}:", network.dir.join("keys").display());
    for member in network.genesis.members.iter() {
        println!(
            "  {} ({}): {}-admin.pem (governor), {0}-ops.pem (operator), {0}-compliance.pem (compliance), \
             {0}-console.pem (its console's anchoring key: synod-console --anchor-key)",
            member.member,
            member.name.as_str(),
            member.member
        );
    }
    println!("  auditor.pem (auditor, read-only)");
    println!();
    println!("try: synod status --node {}", network.nodes.first().map(LocalNode::url).unwrap_or_default());
    if resume_line {
        println!("ctrl-c stops every node; `synod up --dir {}` resumes the chain.", network.dir.display());
    }
    let mut exited = vec![false; children.len()];
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        for ((node, child), seen) in children.iter_mut().zip(exited.iter_mut()) {
            if !*seen && let Ok(Some(status)) = child.try_wait() {
                *seen = true;
                eprintln!("{} exited ({status}); see {}", node.id, node.log_path().display());
            }
        }
    }
}

/// Whether `url` answers `/healthz` with 200.
async fn healthy(url: &str) -> bool {
    let url = format!("{url}/healthz");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().into();
        agent.get(&url).call().is_ok_and(|r| r.status() == 200)
    })
    .await
    .unwrap_or(false)
}

/// Sends SIGTERM to every child still running, waits up to 10 s for each, then kills what is left.
fn stop_children(children: &mut [(LocalNode, std::process::Child)]) {
    for (_, child) in children.iter_mut() {
        if let Ok(None) = child.try_wait()
            && let Ok(pid) = i32::try_from(child.id())
        {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
    }
    let now = tokio::time::Instant::now();
    let deadline = now.checked_add(Duration::from_secs(10)).unwrap_or(now);
    for (node, child) in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if tokio::time::Instant::now() >= deadline => {
                    eprintln!("{} did not stop within 10 s: killing it", node.id);
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    println!("stopped");
}

/// Milliseconds since the Unix epoch (a new network's genesis time).
#[allow(clippy::disallowed_methods, reason = "the genesis time of a new local network is the wall clock's")]
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A created network has a valid genesis naming every node with its configured address, one key per node that
    /// matches the genesis, demo account keys readable only by their owner, and opens again unchanged.
    #[test]
    fn created_network_is_consistent_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let spec = NetworkSpec::demo(7700);
        let created = LocalNetwork::create(dir.path(), &spec, 1_767_225_600_000).unwrap();
        assert_eq!(created.nodes.len(), 5);
        assert_eq!(created.nodes.iter().filter(|n| n.kind == NodeKind::Sealer).count(), 4);
        for (node, listed) in created.nodes.iter().zip(created.genesis.nodes.iter()) {
            assert_eq!(node.id, listed.node);
            assert_eq!(listed.address.as_str(), node.p2p.to_string());
            let keys = config::load_keys(&node.home).unwrap();
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].1.public_key(), listed.key);
        }
        let admin = account_key_path(dir.path(), "org2-admin");
        let key = crate::runtime::load_key(&admin).unwrap();
        assert_eq!(created.genesis.members.get(1).unwrap().governors.iter().next().unwrap().key, key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&admin).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (opened, fresh) = LocalNetwork::open_or_create(dir.path(), &spec, 0).unwrap();
        assert!(!fresh);
        assert_eq!(opened.genesis, created.genesis);
        assert_eq!(opened.nodes, created.nodes);
        assert!(LocalNetwork::create(dir.path(), &spec, 0).is_err());
    }
}
