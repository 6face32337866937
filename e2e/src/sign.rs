//! Governance transactions signed inside the test process with the demo keys: for the load generator, which signs
//! far too many to run the CLI for each, and for tests that craft what the CLI refuses to build (a signature for
//! another chain, a replay).

use anyhow::anyhow;
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::crypto::SecretKey;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, RoleId};
use governance_contracts::types::{
    Action, Payload, Principal, Proposal, RoleDefinition, RoleScope, SignedTransaction, Transaction,
};

/// An account and its key.
pub type Signer = (AccountId, SecretKey);

/// Demo account `name` with its key from `<keys>/<name>.pem`.
pub fn demo_account(keys: &std::path::Path, name: &str) -> anyhow::Result<Signer> {
    let account = AccountId::new(name).map_err(|e| anyhow!("account {name}: {e}"))?;
    Ok((account, synod::runtime::load_key(&keys.join(format!("{name}.pem")))?))
}

/// A committee action defining role `role`, alliance-wide and not delegable.
pub fn define_role(role: &str) -> anyhow::Result<Action> {
    Ok(Action::DefineRole {
        role: RoleId::new(role).map_err(|e| anyhow!("role {role}: {e}"))?,
        definition: RoleDefinition { scope: RoleScope::Alliance, delegable: false, max_grant_blocks: 1_000 },
    })
}

/// `proposer`'s one-action proposal of `action`, open until `expires_at`, made distinct by `salt`.
pub fn proposal(proposer: &AccountId, action: Action, expires_at: Height, salt: u64) -> anyhow::Result<Proposal> {
    Ok(Proposal {
        proposer: Principal::Account(proposer.clone()),
        title: BoundedString::try_new("e2e")?,
        description: BoundedString::default(),
        actions: BoundedVec::try_new(vec![action])?,
        expires_at,
        salt,
    })
}

/// `signer`'s transaction carrying `payload` on `chain`, valid until `valid_until`.
pub fn transaction(
    chain: &ChainIdentity,
    (account, key): &Signer,
    valid_until: Height,
    payload: Payload,
) -> SignedTransaction {
    Transaction { sender: Principal::Account(account.clone()), valid_until, payload }.sign(chain, key)
}

/// The proposer's transaction putting `proposal` on `chain` with the proposer's own approval.
pub fn submission(
    chain: &ChainIdentity,
    proposer: &Signer,
    proposal: &Proposal,
    valid_until: Height,
) -> anyhow::Result<SignedTransaction> {
    let approval = proposal.approve(chain, proposer.0.clone(), &proposer.1);
    let payload =
        Payload::SubmitProposal { proposal: proposal.clone(), approvals: BoundedVec::try_new(vec![approval])? };
    Ok(transaction(chain, proposer, valid_until, payload))
}

/// `approver`'s transaction on `chain` approving `proposal`, with the approval itself signed for `approval_chain`
/// (the same chain, unless a test forges one for another).
pub fn approval(
    chain: &ChainIdentity,
    approver: &Signer,
    proposal: &Proposal,
    approval_chain: &ChainIdentity,
    valid_until: Height,
) -> anyhow::Result<SignedTransaction> {
    let approval = proposal.approve(approval_chain, approver.0.clone(), &approver.1);
    let payload = Payload::Approve { proposal: proposal.id(chain), approvals: BoundedVec::try_new(vec![approval])? };
    Ok(transaction(chain, approver, valid_until, payload))
}
