//! The genesis ceremony, offline.
//!
//! 1. Each organisation writes its public file with `synod org init` ([`OrgFile`]: its member id and name, its
//!    governor accounts and further accounts with their public keys and roles, and its node's id, public key,
//!    address and kind). It never holds a private key: given a PEM, only the public half is written.
//! 2. One of them combines the files with `synod genesis --org a.json --org b.json ...`: the result is checked with
//!    the contracts' own `apply_genesis`, and its hash printed.
//! 3. Every organisation runs `synod genesis hash genesis.json` on its own machine and compares the hash.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::{BoundedString, BoundedVec, Name};
use governance_contracts::contracts::roles::BUILTIN_MAX_GRANT_BLOCKS;
use governance_contracts::crypto::{CryptoSuite, Digest, PublicKey};
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, RoleId, Weight};
use governance_contracts::text::{
    self, Lines, SignerText, TextField, check_network_address, check_signer_text, escape_non_ascii,
};
use governance_contracts::types::{
    ChainParams, DisplayName, Genesis, GenesisAccount, GenesisGrant, GenesisMember, GenesisNode, MAX_GOVERNORS,
    NetworkAddress, NewAccount, NodeKind, PolicyEntry,
};
use serde::{Deserialize, Serialize};

use super::files;

/// Most further accounts in one organisation file.
pub const MAX_ORG_ACCOUNTS: usize = 256;
/// Most roles one account of an organisation file holds at genesis.
pub const MAX_ACCOUNT_ROLES: usize = 16;
/// Most organisation files one genesis combines.
pub const MAX_ORGS: usize = 1_024;

/// An account of an organisation file besides its governors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAccount {
    /// The account's id.
    pub account: AccountId,
    /// Its public key.
    pub key: PublicKey,
    /// Roles granted at genesis (without expiry).
    #[serde(default = "BoundedVec::new")]
    pub roles: BoundedVec<RoleId, MAX_ACCOUNT_ROLES>,
}

/// An organisation's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgNode {
    /// The node's id.
    pub node: NodeId,
    /// Its public key.
    pub key: PublicKey,
    /// Where peers dial it, `host:port`.
    pub address: NetworkAddress,
    /// Sealer or observer.
    pub kind: NodeKind,
}

/// One organisation's public file for the genesis ceremony (`synod org init`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgFile {
    /// The member's id.
    pub member: MemberId,
    /// Its display name.
    pub name: DisplayName,
    /// Its governor accounts: who approves for it.
    pub governors: BoundedVec<NewAccount, MAX_GOVERNORS>,
    /// Further accounts (operators, compliance officers, auditors, applications).
    #[serde(default = "BoundedVec::new")]
    pub accounts: BoundedVec<OrgAccount, MAX_ORG_ACCOUNTS>,
    /// Its node, if it runs one from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<OrgNode>,
}

/// `synod org init`.
#[derive(Debug, Clone, clap::Args)]
pub struct OrgInitArgs {
    /// The member's id (1-64 of a-z, 0-9, '.', '_', '-').
    #[arg(long, value_name = "ID")]
    pub member: String,
    /// The member's display name.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// A governor account and its public key (`ed25519:<hex>` or a PEM key file); repeat for several.
    #[arg(long = "governor", value_name = "ACCOUNT=PUBKEY_OR_PEM", required = true)]
    pub governors: Vec<String>,
    /// A further account and its public key; repeat for several.
    #[arg(long = "account", value_name = "ACCOUNT=PUBKEY_OR_PEM")]
    pub accounts: Vec<String>,
    /// A role for one of the further accounts (`operator`, `compliance`, `auditor`, or one the genesis defines);
    /// repeat for several.
    #[arg(long = "role", value_name = "ACCOUNT=ROLE")]
    pub roles: Vec<String>,
    /// The organisation's node id.
    #[arg(long, value_name = "ID", requires_all = ["node_key", "address"])]
    pub node: Option<String>,
    /// The node's public key (`ed25519:<hex>` or a PEM key file).
    #[arg(long, value_name = "PUBKEY_OR_PEM", requires = "node")]
    pub node_key: Option<String>,
    /// Where peers dial the node.
    #[arg(long, value_name = "HOST:PORT", requires = "node")]
    pub address: Option<String>,
    /// What the node does in consensus.
    #[arg(long, value_enum, default_value_t = KindArg::Sealer, requires = "node")]
    pub kind: KindArg,
    /// Where to write the organisation file.
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A node kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Votes in consensus.
    Sealer,
    /// Follows and verifies.
    Observer,
}

impl From<KindArg> for NodeKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Sealer => Self::Sealer,
            KindArg::Observer => Self::Observer,
        }
    }
}

/// Splits `NAME=VALUE`.
pub fn split_pair<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('=').ok_or_else(|| anyhow!("{flag} {text:?}: expected NAME=VALUE"))
}

/// An id from command-line text, with the flag named in the error.
pub fn parse_id<T>(
    flag: &str,
    text: &str,
    make: impl FnOnce(String) -> Result<T, governance_contracts::codec::TextError>,
) -> anyhow::Result<T> {
    make(text.to_owned()).map_err(|e| anyhow!("{flag} {text:?}: {e}"))
}

/// A text a signer reads, from command-line text, with the flag named in the error: refused here when the chain
/// would refuse it (`governance_contracts::text`), the text echoed with non-ASCII characters escaped.
pub fn parse_text<const N: usize>(flag: &str, text: &str, lines: Lines) -> anyhow::Result<BoundedString<N>> {
    let shown = escape_non_ascii(text);
    check_signer_text(text, lines).map_err(|e| anyhow!("{flag} \"{shown}\": {e}"))?;
    BoundedString::try_new(text.to_owned()).map_err(|e| anyhow!("{flag} \"{shown}\": {e}"))
}

/// A network address `host:port`, by the contracts' own rule (`check_network_address`).
pub fn parse_address(flag: &str, text: &str) -> anyhow::Result<NetworkAddress> {
    let shown = escape_non_ascii(text);
    check_network_address(text).map_err(|e| anyhow!("{flag} \"{shown}\": {e}"))?;
    BoundedString::try_new(text.to_owned()).map_err(|e| anyhow!("{flag} \"{shown}\": {e}"))
}

fn parse_account(flag: &str, text: &str) -> anyhow::Result<(AccountId, PublicKey)> {
    let (account, key) = split_pair(flag, text)?;
    let account = parse_id(flag, account, AccountId::new)?;
    let key = files::parse_public_key(key).with_context(|| format!("{flag} {text:?}"))?;
    Ok((account, key))
}

/// Builds the organisation file the flags describe.
pub fn org_file(args: &OrgInitArgs) -> anyhow::Result<OrgFile> {
    let member = parse_id("--member", &args.member, MemberId::new)?;
    let name = parse_text("--name", &args.name, Lines::One)?;
    let governors = args
        .governors
        .iter()
        .map(|g| parse_account("--governor", g).map(|(account, key)| NewAccount { account, key }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let governors = BoundedVec::try_new(governors).map_err(|e| anyhow!("--governor: {e}"))?;
    let mut accounts = Vec::new();
    for text in &args.accounts {
        let (account, key) = parse_account("--account", text)?;
        accounts.push(OrgAccount { account, key, roles: BoundedVec::new() });
    }
    for text in &args.roles {
        let (account, role) = split_pair("--role", text)?;
        let account = parse_id("--role", account, AccountId::new)?;
        let role = parse_id("--role", role, RoleId::new)?;
        let entry = accounts
            .iter_mut()
            .find(|a| a.account == account)
            .ok_or_else(|| anyhow!("--role {text:?}: {account} is not one of the --account accounts"))?;
        if !entry.roles.contains(&role) {
            entry.roles.try_push(role).map_err(|e| anyhow!("--role {text:?}: {e}"))?;
        }
    }
    let accounts = BoundedVec::try_new(accounts).map_err(|e| anyhow!("--account: {e}"))?;
    let node = match (&args.node, &args.node_key, &args.address) {
        (Some(node), Some(key), Some(address)) => Some(OrgNode {
            node: parse_id("--node", node, NodeId::new)?,
            key: files::parse_public_key(key).context("--node-key")?,
            address: parse_address("--address", address)?,
            kind: args.kind.into(),
        }),
        (None, None, None) => None,
        _ => bail!("--node, --node-key and --address go together"),
    };
    let org = OrgFile { member, name, governors, accounts, node };
    check_org(&org).map_err(|e| anyhow!("{e}"))?;
    Ok(org)
}

/// Checks what a single organisation file can show wrong on its own: no id or key is used twice.
pub fn check_org(org: &OrgFile) -> Result<(), String> {
    let mut ids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let listed =
        org.governors.iter().map(|g| (&g.account, g.key)).chain(org.accounts.iter().map(|a| (&a.account, a.key)));
    for (account, key) in listed {
        if !ids.insert(account.clone()) {
            return Err(format!("organisation {}: account {account} is listed twice", org.member));
        }
        if !keys.insert(key) {
            return Err(format!("organisation {}: key {key} is used twice", org.member));
        }
    }
    if let Some(node) = &org.node
        && !keys.insert(node.key)
    {
        return Err(format!("organisation {}: node {}'s key is also an account's", org.member, node.node));
    }
    // What the genesis would refuse, refused with the organisation named.
    let mut texts =
        vec![SignerText { field: TextField::GenesisMemberName(org.member.clone()), text: org.name.as_str() }];
    if let Some(node) = &org.node {
        texts.push(SignerText { field: TextField::GenesisNodeAddress(node.node.clone()), text: node.address.as_str() });
    }
    text::check_all(&texts).map_err(|e| format!("organisation {}: {e}", org.member))
}

/// `synod org init`: writes one organisation's public file.
pub fn org_init(args: &OrgInitArgs) -> anyhow::Result<()> {
    let org = org_file(args)?;
    files::write_json(&args.out, &org, args.force)?;
    files::print(args.json, &org, || {
        let node = match &org.node {
            Some(n) => format!(", node {} ({:?}) at {}", n.node, n.kind, n.address).to_lowercase(),
            None => String::new(),
        };
        format!(
            "wrote {}: member {} ({}), {} governors, {} further accounts{node}",
            args.out.display(),
            org.member,
            org.name,
            org.governors.len(),
            org.accounts.len()
        )
    })
}

/// `synod genesis` (creating a genesis from organisation files).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CreateArgs {
    /// The chain's id (1-64 of a-z, 0-9, '.', '_', '-').
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// An organisation file written by `synod org init`; repeat for each founding member.
    #[arg(long = "org", value_name = "FILE.json")]
    pub orgs: Vec<PathBuf>,
    /// A member's voting weight (default 1); repeat for several.
    #[arg(long = "weight", value_name = "MEMBER=W")]
    pub weights: Vec<String>,
    /// A sealer's consensus weight (default 1); repeat for several.
    #[arg(long = "node-weight", value_name = "NODE=W")]
    pub node_weights: Vec<String>,
    /// Chain parameters as JSON (the defaults when absent).
    #[arg(long, value_name = "FILE.json")]
    pub params: Option<PathBuf>,
    /// The policy as a JSON list of `{"kind": ..., "rule": ...}` entries (the default policy when absent).
    #[arg(long, value_name = "FILE.json")]
    pub policy: Option<PathBuf>,
    /// The genesis time in milliseconds since the Unix epoch (now when absent).
    #[arg(long, value_name = "T")]
    pub time_ms: Option<u64>,
    /// Where to write the genesis.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `synod genesis hash`.
#[derive(Debug, Clone, clap::Args)]
pub struct HashArgs {
    /// The genesis file.
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `synod genesis` and `synod genesis hash` print.
#[derive(Debug, Clone, Serialize)]
pub struct GenesisSummary {
    /// The chain id.
    pub chain_id: Name,
    /// The genesis hash every organisation compares.
    pub genesis_hash: Digest,
    /// The state root at height 0.
    pub state_root: Digest,
    /// Founding members.
    pub members: usize,
    /// Founding accounts, governors included.
    pub accounts: usize,
    /// Founding sealers.
    pub sealers: usize,
    /// Founding observers.
    pub observers: usize,
}

fn weights<T: Ord>(
    flag: &str,
    texts: &[String],
    parse: impl Fn(&str) -> anyhow::Result<T>,
) -> anyhow::Result<BTreeMap<T, Weight>> {
    let mut out = BTreeMap::new();
    for text in texts {
        let (id, weight) = split_pair(flag, text)?;
        let weight = weight.parse::<u64>().map_err(|e| anyhow!("{flag} {text:?}: {e}"))?;
        if out.insert(parse(id)?, Weight(weight)).is_some() {
            bail!("{flag} {text:?}: given twice");
        }
    }
    Ok(out)
}

/// Milliseconds since the Unix epoch.
#[allow(clippy::disallowed_methods, reason = "a new genesis is stamped with the wall clock when no time is given")]
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// Combines organisation files into a genesis (not yet checked: see [`summarise`]).
pub fn combine(args: &CreateArgs) -> anyhow::Result<Genesis> {
    let chain_id = args.chain_id.as_deref().ok_or_else(|| anyhow!("--chain-id is required"))?;
    let chain_id = Name::new(chain_id).map_err(|e| anyhow!("--chain-id {chain_id:?}: {e}"))?;
    if args.orgs.is_empty() {
        bail!("at least one --org file is required");
    }
    if args.orgs.len() > MAX_ORGS {
        bail!("more than {MAX_ORGS} --org files");
    }
    let mut member_weights = weights("--weight", &args.weights, |id| parse_id("--weight", id, MemberId::new))?;
    let mut node_weights =
        weights("--node-weight", &args.node_weights, |id| parse_id("--node-weight", id, NodeId::new))?;
    let params: ChainParams = match &args.params {
        Some(path) => files::read_json(path, "parameters file")?,
        None => ChainParams::default(),
    };
    let policy: Option<BoundedVec<PolicyEntry, 64>> = match &args.policy {
        Some(path) => Some(files::read_json(path, "policy file")?),
        None => None,
    };
    let (mut members, mut accounts, mut nodes, mut grants) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for path in &args.orgs {
        let org: OrgFile = files::read_json(path, "organisation file")?;
        check_org(&org).map_err(|e| anyhow!("organisation file {}: {e}", path.display()))?;
        let weight = member_weights.remove(&org.member).unwrap_or(Weight(1));
        for account in &org.accounts {
            accounts.push(GenesisAccount {
                account: account.account.clone(),
                member: org.member.clone(),
                key: account.key,
            });
            for role in &account.roles {
                // As long as a built-in role's grant may last from height 0; the committee renews it.
                grants.push(GenesisGrant {
                    account: account.account.clone(),
                    role: role.clone(),
                    expires_at: Height(BUILTIN_MAX_GRANT_BLOCKS),
                });
            }
        }
        if let Some(node) = &org.node {
            let weight = match node.kind {
                NodeKind::Sealer => node_weights.remove(&node.node).unwrap_or(Weight(1)),
                NodeKind::Observer => {
                    if node_weights.contains_key(&node.node) {
                        bail!("--node-weight {}: an observer has no consensus weight", node.node);
                    }
                    Weight(0)
                }
            };
            nodes.push(GenesisNode {
                node: node.node.clone(),
                owner: org.member.clone(),
                key: node.key,
                address: node.address.clone(),
                kind: node.kind,
                weight,
            });
        }
        members.push(GenesisMember { member: org.member, name: org.name, weight, governors: org.governors });
    }
    if let Some(member) = member_weights.keys().next() {
        bail!("--weight {member}: no --org file has this member");
    }
    if let Some(node) = node_weights.keys().next() {
        bail!("--node-weight {node}: no --org file has this node");
    }
    let bounded = |what: &str, e: governance_contracts::codec::BoundExceeded| anyhow!("too many {what}: {e}");
    Ok(Genesis {
        chain_id,
        crypto_suite: CryptoSuite::Ed25519Sha256,
        genesis_time_ms: args.time_ms.unwrap_or_else(now_ms),
        params,
        members: BoundedVec::try_new(members).map_err(|e| bounded("members", e))?,
        accounts: BoundedVec::try_new(accounts).map_err(|e| bounded("accounts", e))?,
        nodes: BoundedVec::try_new(nodes).map_err(|e| bounded("nodes", e))?,
        roles: BoundedVec::new(),
        grants: BoundedVec::try_new(grants).map_err(|e| bounded("grants", e))?,
        policy,
    })
}

/// Checks `genesis` with the contracts' `apply_genesis` and summarises it.
pub fn summarise(genesis: &Genesis) -> anyhow::Result<GenesisSummary> {
    let state = governance_contracts::execution::apply_genesis(genesis).map_err(|e| anyhow!("{e}"))?;
    let sealers = genesis.nodes.iter().filter(|n| n.kind == NodeKind::Sealer).count();
    let governors: usize = genesis.members.iter().map(|m| m.governors.len()).sum();
    Ok(GenesisSummary {
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        state_root: state.state_root,
        members: genesis.members.len(),
        accounts: genesis.accounts.len().saturating_add(governors),
        sealers,
        observers: genesis.nodes.len().saturating_sub(sealers),
    })
}

fn summary_text(summary: &GenesisSummary) -> String {
    format!(
        "chain {}: {} members, {} accounts, {} sealers, {} observers\ngenesis hash {}",
        summary.chain_id, summary.members, summary.accounts, summary.sealers, summary.observers, summary.genesis_hash
    )
}

/// `synod genesis --org ... --out FILE`: combines, checks, writes, and prints the hash.
pub fn create(args: &CreateArgs) -> anyhow::Result<()> {
    let out = args.out.as_ref().ok_or_else(|| anyhow!("--out FILE.json is required"))?;
    files::check_writable(out, args.force)?;
    let genesis = combine(args)?;
    let summary = summarise(&genesis).context("the combined genesis is refused")?;
    files::write_json(out, &genesis, args.force)?;
    files::print(args.json, &summary, || summary_text(&summary))
}

/// `synod genesis hash FILE`: checks a genesis and prints the hash every organisation compares.
pub fn hash(args: &HashArgs) -> anyhow::Result<()> {
    let genesis = files::load_genesis(&args.file)?;
    let summary = summarise(&genesis).with_context(|| format!("genesis file {}", args.file.display()))?;
    files::print(args.json, &summary, || summary_text(&summary))
}
