//! Proposals offline: `synod proposal draft` (from a JSON list of actions, or one of the common kinds by flags),
//! `synod proposal show` (in plain words, with the proposal id: the approval digest every approver signs and the
//! console shows), and `synod proposal sign` (an approval, made on the signer's own machine).
//!
//! Every command that reads a proposal also accepts a signed transaction that submits one (such as a node's
//! `rotation-request.json`), so an operator approves exactly what the node submits.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use governance_contracts::text::Lines;
use governance_contracts::types::{
    Action, Approval, Genesis, KeyProofBody, MAX_ACTIONS, NewAccount, Payload, Principal, Proposal, SignedTransaction,
};
use serde::Serialize;

use super::genesis::{OrgFile, parse_address, parse_id, parse_text};
use super::height::{ChainHeight, HeightArg, NodeUrl};
use super::{describe, files};

/// Reads a proposal from `path`: a proposal file, or a signed transaction that submits one.
pub fn load_proposal(path: &Path) -> anyhow::Result<Proposal> {
    let value = files::read_json_value(path, "proposal file")?;
    let as_proposal = serde_json::from_value::<Proposal>(value.clone());
    let error = match as_proposal {
        Ok(proposal) => return Ok(proposal),
        Err(error) => error,
    };
    if let Ok(signed) = serde_json::from_value::<SignedTransaction>(value) {
        return match signed.tx.payload {
            Payload::SubmitProposal { proposal, .. } => Ok(proposal),
            _ => bail!("proposal file {}: a transaction that does not submit a proposal", path.display()),
        };
    }
    bail!("proposal file {}: not a proposal (nor a transaction submitting one): {error}", path.display())
}

/// The chain identity of the genesis file at `path`.
pub fn chain_of(path: &Path) -> anyhow::Result<(Genesis, ChainIdentity)> {
    let genesis = files::load_genesis(path)?;
    let chain = genesis.identity();
    Ok((genesis, chain))
}

/// `synod proposal draft`: common options (they may come before or after the kind).
#[derive(Debug, Clone, clap::Args)]
pub struct DraftArgs {
    /// The proposing account (it must send the submitting transaction).
    #[arg(long, value_name = "ACCOUNT", global = true)]
    pub proposer: Option<String>,
    /// The proposing node, for a node's own proposals.
    #[arg(long, value_name = "NODE", global = true, conflicts_with = "proposer")]
    pub proposer_node: Option<String>,
    /// A one-line summary (generated from the first action when absent).
    #[arg(long, global = true)]
    pub title: Option<String>,
    /// Why, in the proposer's words.
    #[arg(long, global = true)]
    pub description: Option<String>,
    /// The last height at which the proposal may be approved or executed (at most the chain's
    /// `max_proposal_lifetime` after its submission): `H`, or `+N` for N blocks after the chain's current height,
    /// asked of --node-url.
    #[arg(long, value_name = "H|+N", global = true)]
    pub expires_at: Option<HeightArg>,
    /// The node asked for the chain's current height, for heights given as `+N`.
    #[command(flatten)]
    pub node: NodeUrl,
    /// Distinguishes otherwise identical proposals (random when absent).
    #[arg(long, global = true)]
    pub salt: Option<u64>,
    /// A JSON list of actions (the contracts' `Action`), placed before the kind's action if one is given.
    #[arg(long, value_name = "FILE.json", global = true)]
    pub actions: Option<PathBuf>,
    /// The chain's genesis, to print the proposal id.
    #[arg(long, value_name = "FILE.json", global = true)]
    pub genesis: Option<PathBuf>,
    /// Where to write the proposal.
    #[arg(long, value_name = "FILE.json", global = true)]
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long, global = true)]
    pub force: bool,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// One action of a common kind.
    #[command(subcommand)]
    pub kind: Option<ActionArg>,
}

/// The common kinds of action, by flags.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ActionArg {
    /// Admit the member of an organisation file (`synod org init`) with its governors, and create its further
    /// accounts (their roles and its node need their own actions).
    AdmitMember {
        /// The organisation file.
        #[arg(long, value_name = "FILE.json")]
        org: PathBuf,
        /// Its voting weight.
        #[arg(long, default_value_t = 1)]
        weight: u64,
    },
    /// Admit a node as an observer.
    AdmitNode {
        /// The node's id.
        #[arg(long)]
        node: String,
        /// The member operating it.
        #[arg(long, value_name = "MEMBER")]
        owner: String,
        /// Its public key (`ed25519:<hex>` or a PEM key file).
        #[arg(long, value_name = "PUBKEY_OR_PEM")]
        key: String,
        /// Where peers dial it.
        #[arg(long, value_name = "HOST:PORT")]
        address: String,
    },
    /// Promote an attested observer to sealer.
    Promote {
        /// The node.
        #[arg(long)]
        node: String,
        /// Its consensus weight.
        #[arg(long, default_value_t = 1)]
        weight: u64,
        /// Accept a sealer change beyond the fault-tolerance budget.
        #[arg(long)]
        override_fault_tolerance: bool,
    },
    /// Demote a sealer to observer.
    Demote {
        /// The node.
        #[arg(long)]
        node: String,
        /// Accept a sealer change beyond the fault-tolerance budget.
        #[arg(long)]
        override_fault_tolerance: bool,
    },
    /// Remove a node.
    RemoveNode {
        /// The node.
        #[arg(long)]
        node: String,
        /// Accept a sealer change beyond the fault-tolerance budget.
        #[arg(long)]
        override_fault_tolerance: bool,
    },
    /// Emergency: revoke a node's key at once (it leaked). Every node disconnects whoever presents it; a sealer is
    /// demoted. The node comes back with `replace-node-key`.
    RevokeNodeKey {
        /// The node.
        #[arg(long)]
        node: String,
        /// The key being revoked: the node's key now (`ed25519:<hex>` or a PEM key file).
        #[arg(long, value_name = "PUBKEY_OR_PEM")]
        key: String,
        /// Accept a sealer change beyond the fault-tolerance budget.
        #[arg(long)]
        override_fault_tolerance: bool,
    },
    /// Give a node a new key by governance (after a revocation): run where the new key is, since the new key signs
    /// its proof of possession for this chain (needs `--genesis`).
    ReplaceNodeKey {
        /// The node.
        #[arg(long)]
        node: String,
        /// The new private key (PKCS#8 PEM); only its public key and its signature go into the proposal.
        #[arg(long, value_name = "FILE.pem")]
        new_key: PathBuf,
        /// The key being replaced, if the node still has one (none after a revocation).
        #[arg(long, value_name = "PUBKEY_OR_PEM")]
        old_key: Option<String>,
    },
    /// Change where peers dial a node.
    SetAddress {
        /// The node.
        #[arg(long)]
        node: String,
        /// Its address now.
        #[arg(long, value_name = "HOST:PORT")]
        expected: String,
        /// Its new address.
        #[arg(long, value_name = "HOST:PORT")]
        address: String,
    },
    /// Grant a role until a height (or extend a grant).
    GrantRole {
        /// The holder.
        #[arg(long)]
        account: String,
        /// The role.
        #[arg(long)]
        role: String,
        /// The last height at which the grant holds: `H`, or `+N` for N blocks after the chain's current height.
        #[arg(long, value_name = "H|+N")]
        until: HeightArg,
        /// The expiry of the grant in force now, if any.
        #[arg(long, value_name = "H")]
        expected: Option<u64>,
    },
    /// Revoke a role.
    RevokeRole {
        /// The holder.
        #[arg(long)]
        account: String,
        /// The role.
        #[arg(long)]
        role: String,
    },
    /// Freeze an account.
    Freeze {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Suspend a member: its approvals stop counting until it is reinstated.
    SuspendMember {
        /// The member.
        #[arg(long)]
        member: String,
    },
    /// Reinstate a suspended member.
    ReinstateMember {
        /// The member.
        #[arg(long)]
        member: String,
    },
    /// Expel a member: its governors and grants are revoked, its accounts frozen and its nodes removed (demote its
    /// sealers first).
    ExpelMember {
        /// The member.
        #[arg(long)]
        member: String,
    },
    /// Change a member's voting weight.
    SetMemberWeight {
        /// The member.
        #[arg(long)]
        member: String,
        /// Its weight now.
        #[arg(long)]
        expected: u64,
        /// Its new weight.
        #[arg(long)]
        weight: u64,
    },
    /// Change a sealer's consensus weight.
    SetNodeWeight {
        /// The node.
        #[arg(long)]
        node: String,
        /// Its weight now.
        #[arg(long)]
        expected: u64,
        /// Its new weight.
        #[arg(long)]
        weight: u64,
        /// Accept a sealer change beyond the fault-tolerance budget.
        #[arg(long)]
        override_fault_tolerance: bool,
    },
}

fn node(text: &str) -> anyhow::Result<NodeId> {
    parse_id("--node", text, NodeId::new)
}

fn member(text: &str) -> anyhow::Result<MemberId> {
    parse_id("--member", text, MemberId::new)
}

fn account(text: &str) -> anyhow::Result<AccountId> {
    parse_id("--account", text, AccountId::new)
}

/// The actions a kind's flags describe, in a proposal for `chain` (when the genesis was given) that expires at
/// `expires_at` (a key proof made here expires with it); heights given as `+N` are resolved by `heights`.
pub fn actions_of(
    kind: &ActionArg,
    chain: Option<&ChainIdentity>,
    expires_at: Height,
    heights: &ChainHeight,
) -> anyhow::Result<Vec<Action>> {
    let one = |action| Ok(vec![action]);
    match kind {
        ActionArg::AdmitMember { org, weight } => {
            let org: OrgFile = files::read_json(org, "organisation file")?;
            let mut actions = vec![Action::AdmitMember {
                member: org.member.clone(),
                name: org.name,
                weight: Weight(*weight),
                governors: BoundedVec::try_new(
                    org.governors.iter().map(|g| NewAccount { account: g.account.clone(), key: g.key }).collect(),
                )
                .map_err(|e| anyhow!("{e}"))?,
            }];
            actions.extend(org.accounts.iter().map(|a| Action::CreateAccount {
                account: a.account.clone(),
                member: org.member.clone(),
                key: a.key,
            }));
            Ok(actions)
        }
        ActionArg::AdmitNode { node: id, owner, key, address } => one(Action::AdmitNode {
            node: node(id)?,
            owner: parse_id("--owner", owner, MemberId::new)?,
            key: files::parse_public_key(key).context("--key")?,
            address: parse_address("--address", address)?,
        }),
        ActionArg::Promote { node: id, weight, override_fault_tolerance } => one(Action::PromoteNode {
            node: node(id)?,
            weight: Weight(*weight),
            override_fault_tolerance: *override_fault_tolerance,
        }),
        ActionArg::Demote { node: id, override_fault_tolerance } => {
            one(Action::DemoteNode { node: node(id)?, override_fault_tolerance: *override_fault_tolerance })
        }
        ActionArg::RemoveNode { node: id, override_fault_tolerance } => {
            one(Action::RemoveNode { node: node(id)?, override_fault_tolerance: *override_fault_tolerance })
        }
        ActionArg::RevokeNodeKey { node: id, key, override_fault_tolerance } => one(Action::RevokeNodeKey {
            node: node(id)?,
            key: files::parse_public_key(key).context("--key")?,
            override_fault_tolerance: *override_fault_tolerance,
        }),
        ActionArg::ReplaceNodeKey { node: id, new_key, old_key } => {
            let chain = chain.ok_or_else(|| {
                anyhow!("replace-node-key needs --genesis: the new key signs its proof of possession for that chain")
            })?;
            let node = node(id)?;
            let new = files::load_secret_key(new_key)?;
            let old_key = old_key.as_deref().map(files::parse_public_key).transpose().context("--old-key")?;
            if old_key == Some(new.public_key()) {
                bail!("--new-key {} is the key being replaced", new_key.display());
            }
            let body =
                KeyProofBody { subject: Principal::Node(node.clone()), old_key, new_key: new.public_key(), expires_at };
            one(Action::ReplaceNodeKey { node, proof: body.sign(chain, &new) })
        }
        ActionArg::SetAddress { node: id, expected, address } => one(Action::SetNodeAddress {
            node: node(id)?,
            expected: parse_address("--expected", expected)?,
            address: parse_address("--address", address)?,
        }),
        ActionArg::GrantRole { account: id, role, until, expected } => one(Action::GrantRole {
            account: account(id)?,
            role: parse_id("--role", role, RoleId::new)?,
            expires_at: heights.resolve("--until", *until)?,
            expected: expected.map(Height),
        }),
        ActionArg::RevokeRole { account: id, role } => {
            one(Action::RevokeRole { account: account(id)?, role: parse_id("--role", role, RoleId::new)? })
        }
        ActionArg::Freeze { account: id } => one(Action::FreezeAccount { account: account(id)? }),
        ActionArg::Unfreeze { account: id } => one(Action::UnfreezeAccount { account: account(id)? }),
        ActionArg::SuspendMember { member: id } => one(Action::SuspendMember { member: member(id)? }),
        ActionArg::ReinstateMember { member: id } => one(Action::ReinstateMember { member: member(id)? }),
        ActionArg::ExpelMember { member: id } => one(Action::ExpelMember { member: member(id)? }),
        ActionArg::SetMemberWeight { member, expected, weight } => one(Action::SetMemberWeight {
            member: parse_id("--member", member, MemberId::new)?,
            expected: Weight(*expected),
            weight: Weight(*weight),
        }),
        ActionArg::SetNodeWeight { node: id, expected, weight, override_fault_tolerance } => {
            one(Action::SetNodeWeight {
                node: node(id)?,
                expected: Weight(*expected),
                weight: Weight(*weight),
                override_fault_tolerance: *override_fault_tolerance,
            })
        }
    }
}

/// The longest prefix of `text` within `max` bytes, cut at a character boundary.
fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    text.get(..end).unwrap_or_default()
}

/// Builds the proposal the draft options describe.
pub fn draft_proposal(args: &DraftArgs) -> anyhow::Result<Proposal> {
    let proposer = match (&args.proposer, &args.proposer_node) {
        (Some(account), None) => Principal::Account(parse_id("--proposer", account, AccountId::new)?),
        (None, Some(node)) => Principal::Node(parse_id("--proposer-node", node, NodeId::new)?),
        _ => bail!("give --proposer ACCOUNT (or --proposer-node NODE)"),
    };
    let heights = ChainHeight::new(args.node.url.as_deref());
    let expires_at = args.expires_at.ok_or_else(|| {
        anyhow!("--expires-at is required: a height H, or +N with --node-url URL (N blocks after the chain's current height)")
    })?;
    let expires_at = heights.resolve("--expires-at", expires_at)?;
    let mut actions: Vec<Action> = match &args.actions {
        Some(path) => files::read_json::<BoundedVec<Action, MAX_ACTIONS>>(path, "actions file")?.into_inner(),
        None => Vec::new(),
    };
    if let Some(kind) = &args.kind {
        let chain = args.genesis.as_deref().map(chain_of).transpose()?.map(|(_, chain)| chain);
        actions.extend(actions_of(kind, chain.as_ref(), expires_at, &heights)?);
    }
    if actions.is_empty() {
        bail!("no action: give --actions FILE or a kind (see `synod proposal draft --help`)");
    }
    let title = match &args.title {
        Some(title) => parse_text("--title", title, Lines::One)?,
        None => {
            let first = actions.first().map(describe::action).unwrap_or_default();
            let more = actions.len().saturating_sub(1);
            let text = if more == 0 { first } else { format!("{first} (and {more} more)") };
            BoundedString::try_new(clip(&text, 160).to_owned()).map_err(|e| anyhow!("title: {e}"))?
        }
    };
    let description = parse_text("--description", args.description.as_deref().unwrap_or_default(), Lines::Many)?;
    let actions = BoundedVec::try_new(actions).map_err(|e| anyhow!("too many actions: {e}"))?;
    let salt = match args.salt {
        Some(salt) => salt,
        None => super::random_salt()?,
    };
    let proposal = Proposal { proposer, title, description, actions, expires_at, salt };
    // The actions file's texts, and a title made from them, meet the chain's rule before anything is written.
    proposal.check_signer_text().map_err(|e| anyhow!("the chain would refuse this proposal: {e}"))?;
    Ok(proposal)
}

/// What `synod proposal draft` and `synod proposal show` print.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    /// The proposal.
    pub proposal: Proposal,
    /// Its id (approval digest), when the genesis is known.
    pub proposal_id: Option<ProposalId>,
    /// The proposal in plain words.
    pub description: Vec<String>,
}

fn view(proposal: Proposal, chain: Option<&ChainIdentity>) -> ProposalView {
    let proposal_id = chain.map(|c| proposal.id(c));
    let description = describe::proposal(&proposal);
    ProposalView { proposal, proposal_id, description }
}

fn view_text(view: &ProposalView) -> String {
    let mut lines = view.description.clone();
    match &view.proposal_id {
        Some(id) => lines.push(format!("proposal id:  {id}")),
        None => lines.push("proposal id:  (give --genesis FILE to compute it: it binds the chain)".to_owned()),
    }
    lines.join("\n")
}

/// `synod proposal draft`: writes the proposal and prints it in words.
pub fn draft(args: &DraftArgs) -> anyhow::Result<()> {
    let out = args.out.as_ref().ok_or_else(|| anyhow!("--out FILE.json is required"))?;
    files::check_writable(out, args.force)?;
    let chain = args.genesis.as_deref().map(chain_of).transpose()?.map(|(_, chain)| chain);
    let proposal = draft_proposal(args)?;
    files::write_json(out, &proposal, args.force)?;
    let view = view(proposal, chain.as_ref());
    files::print(args.json, &view, || view_text(&view))
}

/// `synod proposal show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// A proposal file, or a transaction file that submits a proposal.
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// The chain's genesis, to compute the proposal id.
    #[arg(long, value_name = "FILE.json")]
    pub genesis: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `synod proposal show`: the proposal in plain words and its id.
pub fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let proposal = load_proposal(&args.file)?;
    let chain = args.genesis.as_deref().map(chain_of).transpose()?.map(|(_, chain)| chain);
    let view = view(proposal, chain.as_ref());
    files::print(args.json, &view, || view_text(&view))
}

/// `synod proposal sign`.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// A proposal file, or a transaction file that submits a proposal.
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// The approver's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE.pem")]
    pub key: PathBuf,
    /// The approving account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: String,
    /// The chain's genesis (the signature binds its id and hash).
    #[arg(long, value_name = "FILE.json")]
    pub genesis: PathBuf,
    /// Where to write the approval.
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `synod proposal sign` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// The approval written.
    pub approval: Approval,
    /// The digest signed: the proposal id.
    pub proposal_id: ProposalId,
    /// A note for the signer, if any.
    pub warning: Option<String>,
}

/// The key the genesis gives `account`, if it lists it.
fn genesis_key(genesis: &Genesis, account: &AccountId) -> Option<governance_contracts::crypto::PublicKey> {
    let governors = genesis.members.iter().flat_map(|m| m.governors.iter()).map(|g| (&g.account, g.key));
    let others = genesis.accounts.iter().map(|a| (&a.account, a.key));
    governors.chain(others).find(|(id, _)| *id == account).map(|(_, key)| key)
}

/// `synod proposal sign`: signs the proposal's approval digest with the approver's key, offline.
pub fn sign(args: &SignArgs) -> anyhow::Result<()> {
    files::check_writable(&args.out, args.force)?;
    let proposal = load_proposal(&args.file)?;
    let (genesis, chain) = chain_of(&args.genesis)?;
    let secret = files::load_secret_key(&args.key)?;
    let approver = parse_id("--account", &args.account, AccountId::new)?;
    let warning = match genesis_key(&genesis, &approver) {
        Some(key) if key != secret.public_key() => Some(format!(
            "the genesis gives {approver} the key {key}, not this one: the approval counts only if the account's \
             key has since rotated to {}",
            secret.public_key()
        )),
        _ => None,
    };
    let approval = proposal.approve(&chain, approver, &secret);
    let proposal_id = proposal.id(&chain);
    let digest: Digest = proposal_id.0;
    if !approval.key.verify(&digest, &approval.signature) {
        bail!("the approval made does not verify: the key file {} is unusable", args.key.display());
    }
    files::write_json(&args.out, &approval, args.force)?;
    let signed = Signed { approval, proposal_id, warning };
    if let Some(warning) = &signed.warning {
        eprintln!("warning: {warning}");
    }
    files::print(args.json, &signed, || {
        format!(
            "approved proposal {} as {} with key {}\nwrote {}",
            signed.proposal_id,
            signed.approval.approver,
            signed.approval.key,
            args.out.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The member-status kinds draft exactly their one action, and a malformed member id is refused naming the flag.
    #[test]
    fn member_status_kinds_draft_their_action() {
        let org = MemberId::new("org4").unwrap();
        let cases = [
            (ActionArg::SuspendMember { member: "org4".into() }, Action::SuspendMember { member: org.clone() }),
            (ActionArg::ReinstateMember { member: "org4".into() }, Action::ReinstateMember { member: org.clone() }),
            (ActionArg::ExpelMember { member: "org4".into() }, Action::ExpelMember { member: org }),
        ];
        for (kind, action) in cases {
            assert_eq!(actions_of(&kind, None, Height(100), &ChainHeight::new(None)).unwrap(), vec![action]);
        }
        let error =
            actions_of(&ActionArg::ExpelMember { member: "Org 4!".into() }, None, Height(100), &ChainHeight::new(None))
                .unwrap_err();
        assert!(format!("{error:#}").contains("--member"), "{error:#}");
    }

    /// A replacement key's proof is signed by the new key for the genesis' chain, names the node and the key it
    /// replaces, and expires with the proposal; without the genesis it is refused, saying why.
    #[test]
    fn replace_node_key_proves_the_new_key_for_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let new_key = dir.path().join("new.pem");
        let secret = governance_contracts::testkit::secret("n5-next");
        crate::localnet::write_key(&new_key, &secret).unwrap();
        let chain = governance_contracts::testkit::genesis(1).identity();
        let kind = ActionArg::ReplaceNodeKey { node: "n5".into(), new_key, old_key: None };
        let actions = actions_of(&kind, Some(&chain), Height(90), &ChainHeight::new(None)).unwrap();
        let [Action::ReplaceNodeKey { node: id, proof }] = actions.as_slice() else { panic!("{actions:?}") };
        assert_eq!(id, &node("n5").unwrap());
        assert_eq!(proof.body.new_key, secret.public_key());
        assert_eq!((proof.body.old_key, proof.body.expires_at), (None, Height(90)));
        assert!(proof.verifies(&chain));
        let error = actions_of(&kind, None, Height(90), &ChainHeight::new(None)).unwrap_err();
        assert!(format!("{error:#}").contains("needs --genesis"), "{error:#}");
    }
}
