//! Keys: `synod keygen`, `synod key show` and `synod key rotate`.
//!
//! A node's routine key rotation is generated on the node itself: `synod key rotate --home DIR` writes the new key
//! next to the old ones (`HOME/keys/node-<next>.pem`, mode 0600) and the transaction the node submits
//! (`HOME/rotation-request.json`): a proposal, by the node, of `RotateNodeKey` with the new key's possession proof,
//! signed by the node's current key. An `operator` of the node's owner approves the printed proposal id; once it
//! executes, the running node finds the new key in its key directory and signs with it from the switch height on.
//! The new private key never leaves the home.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::ids::{Height, NodeId, ProposalId, TxHash};
use governance_contracts::types::{Action, KeyProofBody, Payload, Principal, Proposal, Transaction};
use serde::Serialize;

use super::{Validity, files, home};
use crate::runtime::config::NodeConfig;

/// `synod keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the new private key (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "FILE.pem")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `synod key show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// A PEM key file: a private key (PKCS#8, as `openssl genpkey -algorithm ed25519` writes) or a public key
    /// (SPKI, as `openssl pkey -pubout` writes).
    #[arg(value_name = "FILE.pem")]
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `synod keygen` and `synod key show` print.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// The key file.
    pub file: PathBuf,
    /// Its public key.
    pub public_key: PublicKey,
}

/// A fresh ed25519 key from the operating system's randomness.
pub fn generate() -> anyhow::Result<SecretKey> {
    crate::localnet::generate_key()
}

/// `synod keygen`: writes a fresh key and prints its public key.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    files::check_writable(&args.out, args.force)?;
    let key = generate()?;
    files::write_secret_key(&args.out, &key, args.force)?;
    let info = KeyInfo { file: args.out.clone(), public_key: key.public_key() };
    files::print(args.json, &info, || info.public_key.to_string())
}

/// `synod key show`: prints the public key of a PEM key file.
pub fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let info = KeyInfo { file: args.file.clone(), public_key: files::public_key_from_pem_file(&args.file)? };
    files::print(args.json, &info, || info.public_key.to_string())
}

/// `synod key rotate`.
#[derive(Debug, Clone, clap::Args)]
pub struct RotateArgs {
    /// The node's home (its `genesis.json`, `config.toml` and `keys/`).
    #[arg(long, value_name = "DIR")]
    pub home: PathBuf,
    /// The node's id, when the home has no `config.toml`.
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// How the request transaction stays valid.
    #[command(flatten)]
    pub validity: Validity,
    /// How many blocks after the transaction's last valid height the proposal (and the new key's proof) stays
    /// open for the operator's approval.
    #[arg(long, value_name = "BLOCKS", default_value_t = 1_000)]
    pub lifetime: u64,
    /// Replace an earlier `rotation-request.json` (that rotation is then abandoned unless already submitted).
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `synod key rotate` did.
#[derive(Debug, Clone, Serialize)]
pub struct RotationRequest {
    /// The node.
    pub node: NodeId,
    /// The key file that signed the request (the node's current key).
    pub current_key_file: PathBuf,
    /// The current public key.
    pub current_key: PublicKey,
    /// The new key file.
    pub new_key_file: PathBuf,
    /// The new public key.
    pub new_key: PublicKey,
    /// The request file (a signed transaction).
    pub request_file: PathBuf,
    /// The transaction's hash.
    pub tx_hash: TxHash,
    /// The last height at which the transaction may be included.
    pub valid_until: Height,
    /// The proposal id an operator of the node's owner must approve.
    pub proposal_id: ProposalId,
    /// The last height at which the proposal may be approved and executed.
    pub proposal_expires_at: Height,
}

/// The node id of a home: `--node`, or the one in its `config.toml`.
fn node_id(args: &RotateArgs) -> anyhow::Result<NodeId> {
    if let Some(node) = &args.node {
        return NodeId::new(node.clone()).map_err(|e| anyhow!("--node {node:?}: {e}"));
    }
    if !home::config_path(&args.home).exists() {
        bail!("{} has no config.toml: pass --node NODE", args.home.display());
    }
    NodeConfig::load(&args.home)?.node_id()
}

/// `synod key rotate`: see the [module docs](self).
pub fn rotate(args: &RotateArgs) -> anyhow::Result<()> {
    let genesis = files::load_genesis(&home::genesis_path(&args.home))?;
    let chain = genesis.identity();
    let node = node_id(args)?;
    let valid_until = args.validity.valid_until(&args.validity.heights())?;
    let params = &genesis.params;
    if args.lifetime == 0 || args.lifetime.saturating_add(params.max_tx_ttl) > params.max_proposal_lifetime {
        bail!(
            "--lifetime {} must be between 1 and {} (the genesis max_proposal_lifetime {} minus max_tx_ttl {})",
            args.lifetime,
            params.max_proposal_lifetime.saturating_sub(params.max_tx_ttl),
            params.max_proposal_lifetime,
            params.max_tx_ttl
        );
    }
    let expires_at = valid_until.plus(args.lifetime);
    let request_file = home::rotation_request_path(&args.home);
    files::check_writable(&request_file, args.force)?;

    let indices = home::key_indices(&args.home)?;
    let current_index = *indices
        .last()
        .ok_or_else(|| anyhow!("{}: no node key (node-0.pem, ...)", home::keys_dir(&args.home).display()))?;
    let current_key_file = home::key_path(&args.home, current_index);
    let current = crate::runtime::key_files::load_key(&args.home, current_index)?;
    let new_index = current_index.checked_add(1).ok_or_else(|| anyhow!("no key number after {current_index}"))?;
    let new_key_file = home::key_path(&args.home, new_index);
    let new = generate()?;

    let proof = KeyProofBody {
        subject: Principal::Node(node.clone()),
        old_key: Some(current.public_key()),
        new_key: new.public_key(),
        expires_at,
    }
    .sign(&chain, &new);
    let proposal = Proposal {
        proposer: Principal::Node(node.clone()),
        title: BoundedString::try_new(format!("Rotate the key of node {node}")).context("proposal title")?,
        description: BoundedString::try_new(format!(
            "Routine key rotation of node {node} from {} to {}, generated on the node.",
            current.public_key(),
            new.public_key()
        ))
        .context("proposal description")?,
        actions: BoundedVec::try_new(vec![Action::RotateNodeKey { node: node.clone(), proof }])
            .map_err(|e| anyhow!("{e}"))?,
        expires_at,
        salt: super::random_salt()?,
    };
    let proposal_id = proposal.id(&chain);
    let signed = Transaction {
        sender: Principal::Node(node.clone()),
        valid_until,
        payload: Payload::SubmitProposal { proposal, approvals: BoundedVec::new() },
    }
    .sign(&chain, &current);

    // The key first: a request must never name a key its home does not hold.
    files::write_secret_key(&new_key_file, &new, false)?;
    files::write_json(&request_file, &signed, args.force)?;
    let report = RotationRequest {
        node: node.clone(),
        current_key_file,
        current_key: current.public_key(),
        new_key_file,
        new_key: new.public_key(),
        request_file,
        tx_hash: signed.tx.hash(&chain),
        valid_until,
        proposal_id,
        proposal_expires_at: expires_at,
    };
    files::print(args.json, &report, || {
        format!(
            "new key       {} ({})\n\
             request       {} (tx {}, valid until height {})\n\
             proposal id   {}\n\
             Submit the request (synod tx submit {}), then an operator of {node}'s owner approves the proposal id \
             above before height {}.",
            report.new_key_file.display(),
            report.new_key,
            report.request_file.display(),
            report.tx_hash,
            report.valid_until,
            report.proposal_id,
            report.request_file.display(),
            report.proposal_expires_at,
        )
    })
}
