//! A local network on loopback: demo keys, a genesis and one node home per node, created once in a directory and
//! resumed from it (`synod up`, and the e2e harness, which builds networks of other shapes with the same code).
//!
//! ```text
//! DIR/genesis.json              the chain's genesis (also copied into every home)
//! DIR/keys/<account>.pem        the demo accounts' keys: each organisation's administrator (governor), operator
//!                               and compliance officer, and the auditor
//! DIR/nodes/<node>/             one node home each (see `runtime::config`), with its log in `node.log`
//! ```
//!
//! Every key is generated from the operating system's randomness on creation; a second run with the same directory
//! reuses them and the nodes resume their chain from their stores.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::{BoundedString, BoundedVec, Name};
use governance_contracts::crypto::{CryptoSuite, SecretKey};
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, RoleId, Weight};
use governance_contracts::types::action::{NewAccount, NodeKind};
use governance_contracts::types::genesis::{GenesisAccount, GenesisGrant, GenesisMember, GenesisNode};
use governance_contracts::types::{ChainParams, Genesis};

use crate::runtime::config::{self, ApiSection, NodeConfig, P2pSection, ReadinessSection};

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
    /// The p2p port of the first node; node `i` (from 0) listens on `p2p_base + i`.
    pub p2p_base: u16,
    /// The API port of the first node; node `i` serves on `api_base + i`.
    pub api_base: u16,
}

impl NetworkSpec {
    /// The demo network of `synod up`: 4 organisations with a sealer each and one auditor's observer, on ports
    /// `base + 1 ..` (p2p) and `base + 101 ..` (API).
    pub fn demo(base_port: u16) -> Self {
        Self {
            chain_id: "synod-local".into(),
            organisations: 4,
            observers: 1,
            block_interval_ms: 1_000,
            p2p_base: base_port.saturating_add(1),
            api_base: base_port.saturating_add(101),
        }
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

fn port(base: u16, index: usize) -> anyhow::Result<u16> {
    u16::try_from(index)
        .ok()
        .and_then(|i| base.checked_add(i))
        .ok_or_else(|| anyhow!("port {base} + {index} is past 65535"))
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
        let far = Height(u64::MAX);
        let mut members = Vec::new();
        let mut accounts = Vec::new();
        let mut grants = Vec::new();
        let mut genesis_nodes = Vec::new();
        let mut node_keys = Vec::new();
        let mut nodes = Vec::new();
        let total = spec.organisations.saturating_add(spec.observers);
        for index in 0..total {
            let sealer = index < spec.organisations;
            let (name, owner) = if sealer {
                (format!("n{}", index.saturating_add(1)), format!("org{}", index.saturating_add(1)))
            } else {
                (format!("obs{}", index.saturating_sub(spec.organisations).saturating_add(1)), "org1".to_owned())
            };
            let key = generate_key()?;
            let p2p = loopback(port(spec.p2p_base, index)?);
            let api = loopback(port(spec.api_base, index)?);
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
            for (suffix, role) in [("ops", RoleId::operator()), ("compliance", RoleId::compliance())] {
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
            roles: BoundedVec::new(),
            grants: bounded(grants)?,
            policy: None,
        };
        governance_contracts::execution::apply_genesis(&genesis)
            .map_err(|e| anyhow!("the demo genesis is invalid: {e}"))?;
        let json = serde_json::to_string_pretty(&genesis).context("encoding the genesis")?;
        for (node, key) in nodes.iter().zip(&node_keys) {
            std::fs::create_dir_all(&node.home).with_context(|| format!("cannot create {}", node.home.display()))?;
            write_key(&config::key_path(&node.home, 0), key)?;
            std::fs::write(config::genesis_path(&node.home), &json)
                .with_context(|| format!("cannot write the genesis into {}", node.home.display()))?;
            NodeConfig {
                node: node.id.as_str().to_owned(),
                p2p: P2pSection { listen: node.p2p, dial: Default::default() },
                api: ApiSection { listen: node.api },
                readiness: ReadinessSection::default(),
            }
            .save(&node.home)?;
        }
        // The genesis file last: its presence marks a complete network.
        std::fs::write(genesis_path(dir), &json)
            .with_context(|| format!("cannot write {}", genesis_path(dir).display()))?;
        Ok(Self { dir: dir.to_path_buf(), genesis, nodes })
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
