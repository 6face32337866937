//! Transactions offline: `synod tx build KIND` signs a transaction with the sender's key and writes the JSON of
//! its `SignedTransaction` (what `POST /v1/transactions` and `synod tx submit` accept); `synod tx show` decodes
//! one, prints it in plain words, and with the genesis its hash and whether its signature verifies.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, NodeId, ProposalId, TxHash};
use governance_contracts::types::{
    Approval, KeyProofBody, MAX_APPROVALS, Payload, Principal, Proposal, SignedTransaction, Transaction,
};
use serde::Serialize;

use super::genesis::parse_id;
use super::height::HeightArg;
use super::proposal::{chain_of, load_proposal};
use super::{Validity, describe, files};

/// `synod tx build`: common options (they may come before or after the kind).
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// The sender's private key (PKCS#8 PEM): its current key.
    #[arg(long, value_name = "FILE.pem", global = true)]
    pub key: Option<PathBuf>,
    /// The sender: `ACCOUNT`, `account:ACCOUNT` or `node:NODE` (for `submit` the proposer by default, for
    /// `attest` a node).
    #[arg(long, value_name = "ACCOUNT_OR_NODE", global = true)]
    pub sender: Option<String>,
    /// How long the transaction stays valid.
    #[command(flatten)]
    pub validity: Validity,
    /// The chain's genesis (the signature binds its id and hash).
    #[arg(long, value_name = "FILE.json", global = true)]
    pub genesis: Option<PathBuf>,
    /// Where to write the signed transaction.
    #[arg(long, value_name = "FILE.json", global = true)]
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long, global = true)]
    pub force: bool,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What the transaction does.
    #[command(subcommand)]
    pub kind: PayloadArg,
}

/// What a transaction does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PayloadArg {
    /// Put a proposal on chain, with approvals already collected.
    Submit {
        /// The proposal file (`synod proposal draft`).
        #[arg(long, value_name = "FILE.json")]
        proposal: PathBuf,
        /// An approval file (`synod proposal sign`); repeat for several.
        #[arg(long = "approval", value_name = "FILE.json")]
        approvals: Vec<PathBuf>,
    },
    /// Add approvals to a pending proposal.
    Approve {
        /// The proposal: its id (`sha256:<hex>`) or its file (then each approval is checked against it).
        #[arg(long, value_name = "ID_OR_FILE")]
        proposal: String,
        /// An approval file; repeat for several.
        #[arg(long = "approval", value_name = "FILE.json", required = true)]
        approvals: Vec<PathBuf>,
    },
    /// Withdraw the sender's own approval.
    Revoke {
        /// The proposal: its id or its file.
        #[arg(long, value_name = "ID_OR_FILE")]
        proposal: String,
    },
    /// Cancel a pending proposal (a governor of the proposer's member).
    Cancel {
        /// The proposal: its id or its file.
        #[arg(long, value_name = "ID_OR_FILE")]
        proposal: String,
    },
    /// Execute an approved proposal whose delay has passed.
    Execute {
        /// The proposal: its id or its file.
        #[arg(long, value_name = "ID_OR_FILE")]
        proposal: String,
    },
    /// Rotate the sending account's key: `--key` is the current key, the new key proves possession.
    RotateAccountKey {
        /// The new private key (PKCS#8 PEM; `synod keygen` makes one).
        #[arg(long, value_name = "FILE.pem")]
        new_key: PathBuf,
        /// The last height at which the new key's proof may be used (the transaction's last valid height by
        /// default): `H`, or `+N` for N blocks after the chain's current height.
        #[arg(long, value_name = "H|+N")]
        proof_expires_at: Option<HeightArg>,
    },
    /// Mark an account's key compromised at once (by the holder, or a governor of the same member while it is
    /// active): every approval ever made with it stops counting. With `--replacement` (the holder only), the
    /// account takes that key (it proves possession); without, it has none until the committee gives it one.
    MarkKeyCompromised {
        /// The account whose key leaked.
        #[arg(long)]
        account: String,
        /// The leaked public key (`ed25519:<hex>` or a PEM key file): its current key or one it retired.
        #[arg(long, value_name = "PUBKEY_OR_PEM")]
        leaked: String,
        /// The replacement private key (PKCS#8 PEM), for the account's current key only, sent by the account
        /// itself (another governor only revokes; the committee gives a new key by a `ReplaceAccountKey` proposal).
        #[arg(long, value_name = "FILE.pem")]
        replacement: Option<PathBuf>,
    },
    /// A node states it is synced (needed before its promotion to sealer); the sender is the node.
    Attest {
        /// The height the node has applied.
        #[arg(long, value_name = "H")]
        synced_height: u64,
    },
}

/// Parses a sender: `node:NODE`, `account:ACCOUNT`, or a bare id of the default kind.
pub fn parse_sender(text: &str, bare_is_node: bool) -> anyhow::Result<Principal> {
    if let Some(node) = text.strip_prefix("node:") {
        return Ok(Principal::Node(parse_id("--sender", node, NodeId::new)?));
    }
    if let Some(account) = text.strip_prefix("account:") {
        return Ok(Principal::Account(parse_id("--sender", account, AccountId::new)?));
    }
    if bare_is_node {
        Ok(Principal::Node(parse_id("--sender", text, NodeId::new)?))
    } else {
        Ok(Principal::Account(parse_id("--sender", text, AccountId::new)?))
    }
}

/// A proposal named on the command line: its id, or a file holding it (then the proposal is returned too).
pub fn proposal_ref(text: &str, chain: &ChainIdentity) -> anyhow::Result<(ProposalId, Option<Proposal>)> {
    if text.starts_with("sha256:") {
        let id: ProposalId = text.parse().map_err(|e| anyhow!("--proposal {text:?}: {e}"))?;
        return Ok((id, None));
    }
    let path = Path::new(text);
    if !path.exists() {
        bail!("--proposal {text:?}: neither a proposal id (sha256:<64 hex digits>) nor an existing file");
    }
    let proposal = load_proposal(path)?;
    Ok((proposal.id(chain), Some(proposal)))
}

/// Reads approval files, checking each against `proposal` when it is known.
fn approvals(
    paths: &[PathBuf],
    chain: &ChainIdentity,
    proposal: Option<&Proposal>,
) -> anyhow::Result<BoundedVec<Approval, MAX_APPROVALS>> {
    if paths.len() > MAX_APPROVALS {
        bail!("more than {MAX_APPROVALS} approvals");
    }
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let approval: Approval = files::read_json(path, "approval file")?;
        if let Some(proposal) = proposal
            && !approval.key.verify(&proposal.approval_digest(chain), &approval.signature)
        {
            bail!(
                "approval file {}: its signature does not verify for proposal {} on this chain",
                path.display(),
                proposal.id(chain)
            );
        }
        out.push(approval);
    }
    BoundedVec::try_new(out).map_err(|e| anyhow!("{e}"))
}

/// What `synod tx build` and `synod tx show` print.
#[derive(Debug, Clone, Serialize)]
pub struct TxView {
    /// The signed transaction.
    pub transaction: SignedTransaction,
    /// Its hash, when the genesis is known.
    pub tx_hash: Option<TxHash>,
    /// Whether its signature verifies on that chain, when the genesis is known.
    pub signature_valid: Option<bool>,
    /// Its canonical size in bytes (the chain's `max_transaction_bytes` bounds it).
    pub size_bytes: usize,
    /// The transaction in plain words.
    pub description: Vec<String>,
}

impl TxView {
    /// The view of `signed`, with the hash and signature check when `chain` is known.
    pub fn new(signed: SignedTransaction, chain: Option<&ChainIdentity>) -> Self {
        let tx_hash = chain.map(|c| signed.tx.hash(c));
        let signature_valid = tx_hash.map(|hash| signed.key.verify(&hash.0, &signed.signature));
        let description = describe::transaction(&signed.tx);
        Self { size_bytes: encode(&signed).len(), transaction: signed, tx_hash, signature_valid, description }
    }

    fn text(&self) -> String {
        let mut lines = self.description.clone();
        lines.push(format!("signed by:    {}", self.transaction.key));
        lines.push(format!("size:         {} bytes", self.size_bytes));
        match (&self.tx_hash, self.signature_valid) {
            (Some(hash), Some(valid)) => {
                lines.push(format!("tx hash:      {hash}"));
                lines.push(format!("signature:    {}", if valid { "valid" } else { "INVALID on this chain" }));
            }
            _ => lines.push("tx hash:      (give --genesis FILE to compute it: it binds the chain)".to_owned()),
        }
        lines.join("\n")
    }
}

/// Builds and signs the transaction `args` describe.
pub fn build_transaction(args: &BuildArgs) -> anyhow::Result<(SignedTransaction, ChainIdentity)> {
    let genesis = args.genesis.as_deref().ok_or_else(|| anyhow!("--genesis FILE.json is required"))?;
    let (_, chain) = chain_of(genesis)?;
    let key_path = args.key.as_deref().ok_or_else(|| anyhow!("--key FILE.pem is required"))?;
    let secret = files::load_secret_key(key_path)?;
    let heights = args.validity.heights();
    let valid_until = args.validity.valid_until(&heights)?;
    let sender = |bare_is_node: bool| -> anyhow::Result<Principal> {
        let text = args.sender.as_deref().ok_or_else(|| anyhow!("--sender ACCOUNT_OR_NODE is required"))?;
        parse_sender(text, bare_is_node)
    };
    let (sender, payload) = match &args.kind {
        PayloadArg::Submit { proposal, approvals: paths } => {
            let proposal = load_proposal(proposal)?;
            let sender = match &args.sender {
                Some(_) => sender(false)?,
                None => proposal.proposer.clone(),
            };
            if sender != proposal.proposer {
                bail!(
                    "--sender {} is not the proposer ({}): only the proposer may submit",
                    describe::principal(&sender),
                    describe::principal(&proposal.proposer)
                );
            }
            let approvals = approvals(paths, &chain, Some(&proposal))?;
            (sender, Payload::SubmitProposal { proposal, approvals })
        }
        PayloadArg::Approve { proposal, approvals: paths } => {
            let (id, proposal) = proposal_ref(proposal, &chain)?;
            let approvals = approvals(paths, &chain, proposal.as_ref())?;
            (sender(false)?, Payload::Approve { proposal: id, approvals })
        }
        PayloadArg::Revoke { proposal } => {
            (sender(false)?, Payload::RevokeApproval { proposal: proposal_ref(proposal, &chain)?.0 })
        }
        PayloadArg::Cancel { proposal } => {
            (sender(false)?, Payload::CancelProposal { proposal: proposal_ref(proposal, &chain)?.0 })
        }
        PayloadArg::Execute { proposal } => {
            (sender(false)?, Payload::ExecuteProposal { proposal: proposal_ref(proposal, &chain)?.0 })
        }
        PayloadArg::RotateAccountKey { new_key, proof_expires_at } => {
            let sender = sender(false)?;
            if !matches!(sender, Principal::Account(_)) {
                bail!("rotate-account-key: the sender must be an account (a node's key rotates by `synod key rotate`)");
            }
            let new = files::load_secret_key(new_key)?;
            if new.public_key() == secret.public_key() {
                bail!("--new-key {} is the same key as --key", new_key.display());
            }
            let proof = KeyProofBody {
                subject: sender.clone(),
                old_key: Some(secret.public_key()),
                new_key: new.public_key(),
                expires_at: match proof_expires_at {
                    Some(height) => heights.resolve("--proof-expires-at", *height)?,
                    None => valid_until,
                },
            }
            .sign(&chain, &new);
            (sender, Payload::RotateAccountKey { proof })
        }
        PayloadArg::MarkKeyCompromised { account, leaked, replacement } => {
            let sender = sender(false)?;
            if !matches!(sender, Principal::Account(_)) {
                bail!("mark-key-compromised: the sender must be an account (the holder or a governor of its member)");
            }
            let account = parse_id("--account", account, AccountId::new)?;
            let key = files::parse_public_key(leaked)?;
            let replacement = match replacement {
                None => None,
                Some(_) if sender != Principal::Account(account.clone()) => bail!(
                    "mark-key-compromised: only {account} itself gives a --replacement; another governor revokes the \
                     key without one, and the committee gives the new key by a ReplaceAccountKey proposal"
                ),
                Some(path) => {
                    let new = files::load_secret_key(path)?;
                    if new.public_key() == key {
                        bail!("--replacement {} is the leaked key", path.display());
                    }
                    let body = KeyProofBody {
                        subject: Principal::Account(account.clone()),
                        old_key: Some(key),
                        new_key: new.public_key(),
                        expires_at: valid_until,
                    };
                    Some(body.sign(&chain, &new))
                }
            };
            (sender, Payload::MarkKeyCompromised { account, key, replacement })
        }
        PayloadArg::Attest { synced_height } => {
            let sender = sender(true)?;
            if !matches!(sender, Principal::Node(_)) {
                bail!("attest: the sender must be a node");
            }
            (sender, Payload::AttestReadiness { synced_height: Height(*synced_height) })
        }
    };
    let signed = Transaction { sender, valid_until, payload }.sign(&chain, &secret);
    Ok((signed, chain))
}

/// `synod tx build`: signs and writes the transaction, and prints it with its hash.
pub fn build(args: &BuildArgs) -> anyhow::Result<()> {
    let out = args.out.as_ref().ok_or_else(|| anyhow!("--out FILE.json is required"))?;
    files::check_writable(out, args.force)?;
    let (signed, chain) = build_transaction(args)?;
    files::write_json(out, &signed, args.force)?;
    let view = TxView::new(signed, Some(&chain));
    files::print(args.json, &view, || format!("{}\nwrote {}", view.text(), out.display()))
}

/// `synod tx show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// A signed transaction file.
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// The chain's genesis, to compute the hash and check the signature.
    #[arg(long, value_name = "FILE.json")]
    pub genesis: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `synod tx show`: the transaction in plain words, its hash and whether its signature verifies.
pub fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let signed: SignedTransaction = files::read_json(&args.file, "transaction file")?;
    let chain = args.genesis.as_deref().map(chain_of).transpose()?.map(|(_, chain)| chain);
    let view = TxView::new(signed, chain.as_ref());
    files::print(args.json, &view, || view.text())
}
