//! Every named reason the contracts refuse something, each produced through the real contract code: transactions
//! applied in blocks on a [`TestChain`], the mempool's `check_transaction`, or a dry run. Also the separation-of-duties
//! rules and the re-checking of approvals at execution.

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::contracts::roles::BUILTIN_MAX_GRANT_BLOCKS;
use governance_contracts::crypto::{Digest, PublicKey};
use governance_contracts::error::{Error, Rejection, detail};
use governance_contracts::execution::{self, GenesisError};
use governance_contracts::ids::{Height, ProposalId, RoleId, TxHash, Weight};
use governance_contracts::state::records::ProposalStatus;
use governance_contracts::state::tables::{ACCOUNTS, GRANTS, KEYS, MEMBERS, NODES, PARAMS, POLICY, PROPOSALS, TX_SEEN};
use governance_contracts::state::{TableId, TableKey};
use governance_contracts::testkit::{self, TestChain, account, member, node, public, secret};
use governance_contracts::text::{Lines, check_network_address, check_signer_text};
use governance_contracts::types::{
    Action, ActionKind, Approval, ChainParams, Event, GenesisAccount, GenesisGrant, GenesisNode, GenesisRole,
    KeyProofBody, MAX_GRANT_BLOCKS, MemberStatus, NewAccount, NodeKind, Outcome, Payload, Principal, Proposal, Receipt,
    RoleDefinition, RoleScope, Rule, SignedTransaction, Transaction,
};

// --- helpers ------------------------------------------------------------------------------------------------------

const GOVS3: [&str; 3] = ["m0-gov", "m1-gov", "m2-gov"];

fn acct(id: &str) -> Principal {
    Principal::Account(account(id))
}

#[track_caller]
fn assert_applied(receipt: &Receipt) {
    assert_eq!(receipt.outcome, Outcome::Applied, "receipt: {receipt:?}");
}

#[track_caller]
fn assert_rejected(receipt: &Receipt, reason: Rejection) {
    assert_eq!(receipt.outcome, Outcome::Rejected { reason }, "receipt: {receipt:?}");
    assert!(receipt.events.is_empty(), "a rejected transaction has no events: {receipt:?}");
}

/// The transaction applied, the proposal was approved, and its execution failed with exactly `reason`.
#[track_caller]
fn assert_failed(chain: &TestChain, receipt: &Receipt, id: ProposalId, reason: Rejection) {
    assert_applied(receipt);
    assert!(!TestChain::executed(receipt), "must not execute: {receipt:?}");
    let failed = receipt
        .events
        .iter()
        .any(|e| matches!(e, Event::ProposalFailed { proposal, reason: r, .. } if *proposal == id && *r == reason));
    assert!(failed, "expected ProposalFailed({id}, {reason:?}) in {receipt:?}");
    let status = stored(chain, id).status;
    assert_eq!(status, ProposalStatus::Failed { at: chain.height, reason });
}

#[track_caller]
fn assert_executed(receipt: &Receipt) {
    assert_applied(receipt);
    assert!(TestChain::executed(receipt), "must execute: {receipt:?}");
}

fn stored(chain: &TestChain, id: ProposalId) -> governance_contracts::state::records::ProposalRecord {
    PROPOSALS.get(&chain.store, &id).expect("readable").expect("proposal is stored")
}

fn approvals(chain: &TestChain, proposal: &Proposal, approvers: &[&str]) -> BoundedVec<Approval, 512> {
    BoundedVec::try_new(approvers.iter().map(|a| chain.approval(proposal, a)).collect()).expect("at most 512")
}

/// A `SubmitProposal` transaction by account `proposer` for `proposal` with `approvers`' approvals.
fn submit_tx(
    chain: &TestChain,
    proposer: &str,
    proposal: Proposal,
    approvers: &[&str],
) -> (ProposalId, SignedTransaction) {
    let id = proposal.id(&chain.chain);
    let approvals = approvals(chain, &proposal, approvers);
    (id, chain.account_tx(proposer, Payload::SubmitProposal { proposal, approvals }))
}

/// A fresh proposal of `actions` by account `proposer`, as a `SubmitProposal` transaction.
fn proposal_tx(
    chain: &mut TestChain,
    proposer: &str,
    actions: Vec<Action>,
    approvers: &[&str],
) -> (ProposalId, SignedTransaction) {
    let proposal = chain.proposal(acct(proposer), actions);
    submit_tx(chain, proposer, proposal, approvers)
}

/// An `Approve` transaction relayed by `relayer` carrying `approvers`' approvals of stored proposal `id`.
fn approve_tx(chain: &TestChain, relayer: &str, id: ProposalId, approvers: &[&str]) -> SignedTransaction {
    let proposal = stored(chain, id).proposal;
    chain.account_tx(relayer, Payload::Approve { proposal: id, approvals: approvals(chain, &proposal, approvers) })
}

fn execute_tx(chain: &TestChain, sender: &str, id: ProposalId) -> SignedTransaction {
    chain.account_tx(sender, Payload::ExecuteProposal { proposal: id })
}

/// Applies empty blocks until the chain's last applied height is `height`.
fn advance_to(chain: &mut TestChain, height: Height) {
    while chain.height < height {
        chain.apply_block(vec![]);
    }
}

fn signed(
    chain: &TestChain,
    sender: Principal,
    key_label: &str,
    valid_until: Height,
    payload: Payload,
) -> SignedTransaction {
    Transaction { sender, valid_until, payload }.sign(&chain.chain, &secret(key_label))
}

fn size(tx: &SignedTransaction) -> usize {
    encode(tx).len()
}

fn text<const N: usize>(s: &str) -> BoundedString<N> {
    BoundedString::try_new(s).expect("short text")
}

fn admit_member(id: &str) -> Action {
    let gov = format!("{id}-gov");
    Action::AdmitMember {
        member: member(id),
        name: text("New member"),
        weight: Weight(1),
        governors: BoundedVec::try_new(vec![NewAccount { account: account(&gov), key: public(&gov) }])
            .expect("one governor"),
    }
}

fn admit_node(id: &str, owner: &str) -> Action {
    Action::AdmitNode { node: node(id), owner: member(owner), key: public(id), address: text("127.0.0.1:26999") }
}

fn set_member_weight(id: &str, expected: u64, weight: u64) -> Action {
    Action::SetMemberWeight { member: member(id), expected: Weight(expected), weight: Weight(weight) }
}

fn unknown_proposal() -> ProposalId {
    ProposalId(Digest::sha256(&[b"no such proposal"]))
}

/// A chain of 4 members with observer `n9` (owner m0) admitted.
fn chain_with_observer() -> TestChain {
    let mut chain = TestChain::with_members(4);
    let (_, receipt) = chain.propose("m0-gov", vec![admit_node("n9", "m0")], &GOVS3);
    assert_executed(&receipt);
    chain
}

// --- transactions -------------------------------------------------------------------------------------------------

/// A transaction over `max_transaction_bytes` is refused with its size and the limit, at the mempool and in a block.
#[test]
fn transaction_too_large() {
    let chain = TestChain::with_members(4);
    let tx = chain.node_tx("n0", Payload::AttestReadiness { synced_height: Height(0) });
    let max = u64::from(ChainParams::default().max_transaction_bytes);
    let max_size = usize::try_from(max).unwrap();
    let reason = Rejection::TransactionTooLarge { size: max.saturating_add(1), max };
    assert_eq!(
        execution::check_transaction(&chain.store, &tx, max_size.saturating_add(1)),
        Err(Error::Rejected(reason.clone()))
    );
    let outcome =
        execution::apply_block(&chain.store, chain.height.plus(1), &[(tx.clone(), max_size.saturating_add(1))])
            .unwrap();
    assert_rejected(&outcome.receipts[0], reason);
    // Exactly at the limit the size is fine.
    let outcome = execution::apply_block(&chain.store, chain.height.plus(1), &[(tx, max_size)]).unwrap();
    assert_applied(&outcome.receipts[0]);
}

/// A transaction whose `valid_until` is below the block's height is refused as expired.
#[test]
fn transaction_expired() {
    let mut chain = TestChain::with_members(4);
    chain.apply_block(vec![]);
    chain.apply_block(vec![]);
    let payload = Payload::AttestReadiness { synced_height: Height(2) };
    let tx = signed(&chain, Principal::Node(node("n0")), "n0", Height(2), payload);
    let reason = Rejection::TransactionExpired { valid_until: Height(2), height: Height(3) };
    assert_eq!(execution::check_transaction(&chain.store, &tx, size(&tx)), Err(Error::Rejected(reason.clone())));
    assert_rejected(&chain.apply(tx), reason);
}

/// A `valid_until` further ahead than `max_tx_ttl` is refused, naming the furthest height allowed.
#[test]
fn validity_too_long() {
    let mut chain = TestChain::with_members(4);
    let max = chain.height.plus(1).plus(ChainParams::default().max_tx_ttl);
    let payload = Payload::AttestReadiness { synced_height: Height(0) };
    let tx = signed(&chain, Principal::Node(node("n0")), "n0", max.plus(1), payload.clone());
    assert_rejected(&chain.apply(tx), Rejection::ValidityTooLong { valid_until: max.plus(1), max });
    // At the limit it is accepted.
    let max = chain.height.plus(1).plus(ChainParams::default().max_tx_ttl);
    let tx = signed(&chain, Principal::Node(node("n0")), "n0", max, payload);
    assert_applied(&chain.apply(tx));
}

/// An included transaction is refused as a duplicate, in a later block and within the same block.
#[test]
fn duplicate_transaction() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.node_tx("n0", Payload::AttestReadiness { synced_height: Height(0) });
    let outcome = chain.apply_block(vec![tx.clone(), tx.clone()]);
    assert_applied(&outcome.receipts[0]);
    assert_rejected(&outcome.receipts[1], Rejection::DuplicateTransaction);
    assert_eq!(
        execution::check_transaction(&chain.store, &tx, size(&tx)),
        Err(Error::Rejected(Rejection::DuplicateTransaction))
    );
    assert_rejected(&chain.apply(tx), Rejection::DuplicateTransaction);
}

/// A repeated transaction is refused as a duplicate at every height up to its `valid_until`, and as expired after it:
/// it is never accepted again, though its hash is then forgotten.
#[test]
fn duplicate_is_refused_until_valid_until_then_expired() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.node_tx("n0", Payload::AttestReadiness { synced_height: Height(0) });
    let valid_until = tx.tx.valid_until;
    let hash: TxHash = tx.tx.hash(&chain.chain);
    assert_applied(&chain.apply(tx.clone()));
    while chain.height < valid_until {
        let mempool = execution::check_transaction(&chain.store, &tx, size(&tx));
        assert_eq!(mempool, Err(Error::Rejected(Rejection::DuplicateTransaction)), "at {}", chain.height);
        assert_rejected(&chain.apply(tx.clone()), Rejection::DuplicateTransaction);
    }
    assert_eq!(chain.height, valid_until);
    assert!(TX_SEEN.contains(&chain.store, &hash).unwrap());
    let expired = Rejection::TransactionExpired { valid_until, height: valid_until.plus(1) };
    assert_eq!(execution::check_transaction(&chain.store, &tx, size(&tx)), Err(Error::Rejected(expired.clone())));
    assert_rejected(&chain.apply(tx.clone()), expired);
    assert!(!TX_SEEN.contains(&chain.store, &hash).unwrap(), "the hash is pruned after valid_until");
    let receipt = chain.apply(tx);
    assert_rejected(&receipt, Rejection::TransactionExpired { valid_until, height: valid_until.plus(2) });
}

/// A transaction from an account that does not exist is refused naming the account.
#[test]
fn unknown_account() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.account_tx("ghost", Payload::RevokeApproval { proposal: unknown_proposal() });
    assert_rejected(&chain.apply(tx), Rejection::UnknownAccount { account: account("ghost") });
}

/// A transaction from a node that does not exist is refused naming the node.
#[test]
fn unknown_node() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.node_tx("ghost-node", Payload::AttestReadiness { synced_height: Height(0) });
    assert_rejected(&chain.apply(tx), Rejection::UnknownNode { node: node("ghost-node") });
}

/// A frozen account sends nothing, and its approvals are refused at the door.
#[test]
fn account_frozen() {
    let mut chain = TestChain::with_members(4);
    let freeze = vec![Action::FreezeAccount { account: account("m0-auditor") }];
    assert_executed(&chain.propose("m0-compliance", freeze.clone(), &["m0-compliance"]).1);
    let tx = chain.account_tx("m0-auditor", Payload::RevokeApproval { proposal: unknown_proposal() });
    assert_rejected(&chain.apply(tx), Rejection::AccountFrozen { account: account("m0-auditor") });
    // A frozen approver's approval is refused too.
    let (_, tx) = proposal_tx(&mut chain, "m0-compliance", freeze, &["m0-compliance", "m0-auditor"]);
    assert_rejected(&chain.apply(tx), Rejection::AccountFrozen { account: account("m0-auditor") });
}

/// An account whose key was marked compromised without replacement has no current key and can send nothing.
#[test]
fn no_current_key() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.account_tx(
        "m1-ops",
        Payload::MarkKeyCompromised { account: account("m1-ops"), key: public("m1-ops"), replacement: None },
    );
    assert_applied(&chain.apply(tx));
    assert_eq!(ACCOUNTS.get(&chain.store, &account("m1-ops")).unwrap().unwrap().key, None);
    let tx = chain.account_tx("m1-ops", Payload::RevokeApproval { proposal: unknown_proposal() });
    assert_rejected(&chain.apply(tx), Rejection::NoCurrentKey { principal: acct("m1-ops") });
}

/// A transaction signed with a key that is not the sender's current key is refused naming that key.
#[test]
fn key_not_current() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.tx_with_key(acct("m0-gov"), "m0-ops", Payload::RevokeApproval { proposal: unknown_proposal() });
    assert_rejected(&chain.apply(tx), Rejection::KeyNotCurrent { key: public("m0-ops") });
    // MarkKeyCompromised names a key that is not the account's current key.
    let payload = Payload::MarkKeyCompromised { account: account("m1-ops"), key: public("m0-ops"), replacement: None };
    let tx = chain.account_tx("m1-ops", payload);
    assert_rejected(&chain.apply(tx), Rejection::KeyNotCurrent { key: public("m0-ops") });
}

/// A transaction whose signature does not match its contents is refused.
#[test]
fn bad_signature() {
    let mut chain = TestChain::with_members(4);
    let mut tx = chain.account_tx("m0-gov", Payload::RevokeApproval { proposal: unknown_proposal() });
    tx.tx.valid_until = tx.tx.valid_until.plus(1);
    assert_rejected(&chain.apply(tx), Rejection::BadSignature);
}

/// Expelling a member makes it inactive: changing its weight fails with `MemberNotActive`.
#[test]
fn member_not_active() {
    // Seven members, so that removing the expelled member's sealer stays within sealer safety; expulsion asks 3/4
    // of the seated weight without the target's own approval: the six others.
    let mut chain = TestChain::with_members(7);
    let govs = TestChain::governors(6);
    let govs: Vec<&str> = govs.iter().map(String::as_str).collect();
    let (_, receipt) = chain.propose("m0-gov", vec![Action::ExpelMember { member: member("m6") }], &govs);
    assert_executed(&receipt);
    assert_eq!(MEMBERS.get(&chain.store, &member("m6")).unwrap().unwrap().status, MemberStatus::Expelled);
    let (id, receipt) = chain.propose("m0-gov", vec![set_member_weight("m6", 1, 2)], &govs);
    assert_failed(&chain, &receipt, id, Rejection::MemberNotActive { member: member("m6") });
    // Nor can an expelled member be given a node.
    let (id, receipt) = chain.propose("m0-gov", vec![admit_node("n9", "m6")], &govs);
    assert_failed(&chain, &receipt, id, Rejection::MemberNotActive { member: member("m6") });
}

/// A node may not send account-only transactions, nor propose anything but its own key rotation; a governor of
/// another member may not mark an account's key compromised.
#[test]
fn wrong_sender() {
    let mut chain = TestChain::with_members(4);
    let tx = chain.node_tx("n0", Payload::RevokeApproval { proposal: unknown_proposal() });
    assert_rejected(&chain.apply(tx), Rejection::WrongSender { principal: Principal::Node(node("n0")) });
    let proposal = chain.proposal(Principal::Node(node("n0")), vec![admit_member("newco")]);
    let tx = chain.node_tx("n0", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    assert_rejected(&chain.apply(tx), Rejection::WrongSender { principal: Principal::Node(node("n0")) });
    let payload = Payload::MarkKeyCompromised { account: account("m1-ops"), key: public("m1-ops"), replacement: None };
    let tx = chain.account_tx("m0-gov", payload);
    assert_rejected(&chain.apply(tx), Rejection::WrongSender { principal: acct("m0-gov") });
}

/// A governor reporting another account of its member compromised may only revoke the key: a replacement it chose
/// is refused, so it cannot take over the member's compliance officer (and the role the committee granted it) or
/// operator. Revoking alone applies, and the account has no key until the committee gives it one.
#[test]
fn replacement_not_from_holder() {
    let mut chain = TestChain::with_members(4);
    for target in ["m0-compliance", "m0-ops"] {
        let proof = chain.key_proof(acct(target), Some(public(target)), &format!("{target}-taken"));
        let payload =
            Payload::MarkKeyCompromised { account: account(target), key: public(target), replacement: Some(proof) };
        let tx = chain.account_tx("m0-gov", payload);
        assert_rejected(&chain.apply(tx), Rejection::ReplacementNotFromHolder { account: account(target) });
        assert_eq!(ACCOUNTS.get(&chain.store, &account(target)).unwrap().unwrap().key, Some(public(target)));
    }
    let payload = Payload::MarkKeyCompromised { account: account("m0-ops"), key: public("m0-ops"), replacement: None };
    assert_applied(&chain.apply(chain.account_tx("m0-gov", payload)));
    assert_eq!(ACCOUNTS.get(&chain.store, &account("m0-ops")).unwrap().unwrap().key, None);
}

/// A suspended member's governor may not report its accounts' keys compromised, with or without a replacement
/// (`MemberNotActive`); the holder still may, since its own key is its own.
#[test]
fn suspended_members_governor_cannot_report_compromise() {
    let mut chain = TestChain::with_members(4);
    let suspend = vec![Action::SuspendMember { member: member("m1") }];
    assert_executed(&chain.propose("m0-gov", suspend, &["m0-gov", "m2-gov", "m3-gov"]).1);
    let proof = chain.key_proof(acct("m1-ops"), Some(public("m1-ops")), "m1-ops-taken");
    for replacement in [Some(proof), None] {
        let payload = Payload::MarkKeyCompromised { account: account("m1-ops"), key: public("m1-ops"), replacement };
        let tx = chain.account_tx("m1-gov", payload);
        assert_rejected(&chain.apply(tx), Rejection::MemberNotActive { member: member("m1") });
    }
    assert_eq!(ACCOUNTS.get(&chain.store, &account("m1-ops")).unwrap().unwrap().key, Some(public("m1-ops")));
    let proof = chain.key_proof(acct("m1-ops"), Some(public("m1-ops")), "m1-ops-2");
    let payload =
        Payload::MarkKeyCompromised { account: account("m1-ops"), key: public("m1-ops"), replacement: Some(proof) };
    assert_applied(&chain.apply(chain.account_tx("m1-ops", payload)));
    assert_eq!(ACCOUNTS.get(&chain.store, &account("m1-ops")).unwrap().unwrap().key, Some(public("m1-ops-2")));
}

/// An account that is neither a governor nor a holder of a role some rule names (an auditor) may not propose.
#[test]
fn not_eligible_proposer() {
    let mut chain = TestChain::with_members(4);
    let (_, tx) = proposal_tx(&mut chain, "m0-auditor", vec![admit_member("newco")], &[]);
    assert_rejected(&chain.apply(tx), Rejection::NotEligibleProposer { account: account("m0-auditor") });
}

// --- proposals ----------------------------------------------------------------------------------------------------

/// A proposal without actions is refused.
#[test]
fn empty_proposal() {
    let mut chain = TestChain::with_members(4);
    let (_, tx) = proposal_tx(&mut chain, "m0-gov", vec![], &[]);
    assert_rejected(&chain.apply(tx), Rejection::EmptyProposal);
}

/// A proposal naming a proposer other than the transaction's sender is refused.
#[test]
fn proposer_mismatch() {
    let mut chain = TestChain::with_members(4);
    let proposal = chain.proposal(acct("m1-gov"), vec![admit_member("newco")]);
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &[]);
    assert_rejected(&chain.apply(tx), Rejection::ProposerMismatch);
}

/// A proposal submitted after its expiry is refused with the expiry and the height.
#[test]
fn proposal_expired() {
    let mut chain = TestChain::with_members(4);
    chain.apply_block(vec![]);
    let mut proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    proposal.expires_at = Height(1);
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &["m0-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::ProposalExpired { expires_at: Height(1), height: Height(2) });
}

/// The mempool refuses an approval of an expired proposal with the same reason the next block gives it.
#[test]
fn mempool_and_block_agree_on_an_expired_proposal() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov"]);
    assert_applied(&receipt);
    let expires_at = stored(&chain, id).proposal.expires_at;
    advance_to(&mut chain, expires_at);
    let tx = approve_tx(&chain, "m1-gov", id, &["m1-gov"]);
    let Err(Error::Rejected(at_the_door)) = execution::check_transaction(&chain.store, &tx, size(&tx)) else {
        panic!("an approval after expiry must be refused at the door");
    };
    let receipt = chain.apply(tx);
    assert_eq!(receipt.outcome, Outcome::Rejected { reason: at_the_door }, "mempool and block must agree");
}

/// A proposal expiring further ahead than `max_proposal_lifetime` is refused with the limit.
#[test]
fn proposal_lifetime_too_long() {
    let mut chain = TestChain::with_members(4);
    let max = chain.height.plus(1).plus(ChainParams::default().max_proposal_lifetime);
    let mut proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    proposal.expires_at = max.plus(1);
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &[]);
    assert_rejected(&chain.apply(tx), Rejection::ProposalLifetimeTooLong { expires_at: max.plus(1), max });
}

/// Submitting a proposal whose id is already on chain is refused, even after it executed.
#[test]
fn proposal_exists() {
    let mut chain = TestChain::with_members(4);
    let proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    let (id, tx) = submit_tx(&chain, "m0-gov", proposal.clone(), &["m0-gov"]);
    assert_applied(&chain.apply(tx));
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal.clone(), &["m0-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::ProposalExists { proposal: id });
    assert_executed(&chain.apply(approve_tx(&chain, "m1-gov", id, &["m1-gov", "m2-gov"])));
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &GOVS3);
    assert_rejected(&chain.apply(tx), Rejection::ProposalExists { proposal: id });
}

/// Approving, executing or cancelling a proposal that is not on chain is refused naming its id.
#[test]
fn unknown_proposal_is_refused() {
    let mut chain = TestChain::with_members(4);
    let id = unknown_proposal();
    let tx = chain.account_tx("m0-gov", Payload::Approve { proposal: id, approvals: BoundedVec::new() });
    assert_rejected(&chain.apply(tx), Rejection::UnknownProposal { proposal: id });
    assert_rejected(&chain.apply(execute_tx(&chain, "m0-gov", id)), Rejection::UnknownProposal { proposal: id });
    let tx = chain.account_tx("m0-gov", Payload::CancelProposal { proposal: id });
    assert_rejected(&chain.apply(tx), Rejection::UnknownProposal { proposal: id });
}

/// An executed or cancelled proposal can no longer be approved, cancelled or cancelled by the committee.
#[test]
fn proposal_not_pending() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &GOVS3);
    assert_executed(&receipt);
    let reason = Rejection::ProposalNotPending { proposal: id };
    assert_rejected(&chain.apply(approve_tx(&chain, "m3-gov", id, &["m3-gov"])), reason.clone());
    let tx = chain.account_tx("m0-gov", Payload::CancelProposal { proposal: id });
    assert_rejected(&chain.apply(tx), reason.clone());
    // A committee cancellation of an executed proposal fails (five members now: four approve).
    let approvers = ["m0-gov", "m1-gov", "m2-gov", "m3-gov"];
    let (cancel, receipt) = chain.propose("m0-gov", vec![Action::CancelProposal { proposal: id }], &approvers);
    assert_failed(&chain, &receipt, cancel, reason);
    // A cancelled proposal is not pending either.
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("other")], &["m0-gov"]);
    assert_applied(&receipt);
    let tx = chain.account_tx("m0-gov", Payload::CancelProposal { proposal: id });
    assert_applied(&chain.apply(tx));
    let tx = approve_tx(&chain, "m1-gov", id, &["m1-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::ProposalNotPending { proposal: id });
}

/// An approval whose signature does not verify over the proposal's digest is refused naming the approver.
#[test]
fn bad_approval_signature() {
    let mut chain = TestChain::with_members(4);
    let proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    let other = chain.proposal(acct("m0-gov"), vec![admit_member("other")]);
    let wrong = chain.approval(&other, "m1-gov");
    let approvals = BoundedVec::try_new(vec![chain.approval(&proposal, "m0-gov"), wrong]).unwrap();
    let tx = chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals });
    assert_rejected(&chain.apply(tx), Rejection::BadApprovalSignature { approver: account("m1-gov") });
}

/// An approval correctly signed by a key that is not (and never was) the approver's is refused.
#[test]
fn approval_key_not_valid() {
    let mut chain = TestChain::with_members(4);
    let proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    let forged = chain.approval_with_key(&proposal, "m1-gov", "intruder");
    let approvals = BoundedVec::try_new(vec![forged]).unwrap();
    let tx = chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals });
    assert_rejected(&chain.apply(tx), Rejection::ApprovalKeyNotValid { approver: account("m1-gov") });
}

/// An auditor reads but never approves: its approval is refused for committee and for compliance rules alike.
#[test]
fn approver_not_eligible_auditor() {
    let mut chain = TestChain::with_members(4);
    let (_, tx) = proposal_tx(&mut chain, "m0-gov", vec![admit_member("newco")], &["m0-auditor"]);
    assert_rejected(&chain.apply(tx), Rejection::ApproverNotEligible { approver: account("m0-auditor") });
    let freeze = vec![Action::FreezeAccount { account: account("m0-auditor") }];
    let (_, tx) = proposal_tx(&mut chain, "m0-compliance", freeze, &["m0-auditor"]);
    assert_rejected(&chain.apply(tx), Rejection::ApproverNotEligible { approver: account("m0-auditor") });
    assert!(!ACCOUNTS.get(&chain.store, &account("m0-auditor")).unwrap().unwrap().frozen);
}

/// Under the default policy a compliance officer reaches its own member's accounts only: its approval of freezing,
/// unfreezing, granting or revoking a delegable role on another member's ordinary account is refused, and the
/// account keeps its state; an operator, even of its own member, is privileged (the committee's rule), so no officer
/// freezes the accounts a member needs to rotate its nodes' keys. Its own member's ordinary account it freezes.
#[test]
fn approver_not_eligible_outside_the_officers_member() {
    let mut chain = TestChain::with_members(4);
    let create = Action::CreateAccount { account: account("m1-clerk"), member: member("m1"), key: public("m1-clerk") };
    assert_executed(&chain.propose("m1-gov", vec![create], &["m1-gov"]).1);
    let kyc = RoleId::new("kyc").unwrap();
    let definition = RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 1_000 };
    assert_executed(&chain.propose("m0-gov", vec![Action::DefineRole { role: kyc.clone(), definition }], &GOVS3).1);
    let own_member = Rule::role(RoleId::compliance(), true);
    let expires_at = chain.height.plus(100);
    let reach_out = [
        (Action::FreezeAccount { account: account("m1-clerk") }, ActionKind::FreezeAccount, own_member.clone()),
        (Action::UnfreezeAccount { account: account("m1-clerk") }, ActionKind::UnfreezeAccount, own_member.clone()),
        (
            Action::GrantRole { account: account("m1-clerk"), role: kyc.clone(), expires_at, expected: None },
            ActionKind::GrantDelegableRole,
            own_member.clone(),
        ),
        (
            Action::RevokeRole { account: account("m1-clerk"), role: kyc.clone() },
            ActionKind::RevokeDelegableRole,
            own_member,
        ),
        (
            Action::FreezeAccount { account: account("m1-ops") },
            ActionKind::FreezePrivilegedAccount,
            Rule::weight(2, 3, false, 0),
        ),
        (
            Action::FreezeAccount { account: account("m0-ops") },
            ActionKind::FreezePrivilegedAccount,
            Rule::weight(2, 3, false, 0),
        ),
    ];
    for (action, kind, rule) in reach_out {
        let proposal = chain.proposal(acct("m0-compliance"), vec![action]);
        assert_eq!(execution::dry_run(&chain.store, &proposal).unwrap().requirements, vec![(kind, rule)]);
        let (_, tx) = submit_tx(&chain, "m0-compliance", proposal, &["m0-compliance"]);
        assert_rejected(&chain.apply(tx), Rejection::ApproverNotEligible { approver: account("m0-compliance") });
    }
    for target in ["m1-clerk", "m1-ops", "m0-ops"] {
        assert!(!ACCOUNTS.get(&chain.store, &account(target)).unwrap().unwrap().frozen, "{target} was frozen");
    }
    assert!(GRANTS.get(&chain.store, &(account("m1-clerk"), kyc)).unwrap().is_none());
    let freeze = vec![Action::FreezeAccount { account: account("m0-auditor") }];
    assert_executed(&chain.propose("m0-compliance", freeze, &["m0-compliance"]).1);
}

/// The same approver twice is refused, in one list and on a later `Approve`.
#[test]
fn duplicate_approval() {
    let mut chain = TestChain::with_members(4);
    let (_, tx) = proposal_tx(&mut chain, "m0-gov", vec![admit_member("newco")], &["m0-gov", "m0-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::DuplicateApproval { approver: account("m0-gov") });
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov"]);
    assert_applied(&receipt);
    let tx = approve_tx(&chain, "m1-gov", id, &["m1-gov", "m0-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::DuplicateApproval { approver: account("m0-gov") });
    assert_eq!(stored(&chain, id).approvals.len(), 1, "nothing of a refused Approve is kept");
}

/// A governor who would receive a role may not approve its grant, nor may a compliance officer approve granting a
/// delegable role to itself.
#[test]
fn self_approval_grant_role() {
    let mut chain = TestChain::with_members(4);
    let grant = |who: &str, role: RoleId, at: Height| Action::GrantRole {
        account: account(who),
        role,
        expires_at: at.plus(1_000),
        expected: None,
    };
    let h = chain.height;
    let (_, tx) = proposal_tx(&mut chain, "m0-gov", vec![grant("m1-gov", RoleId::compliance(), h)], &GOVS3);
    assert_rejected(&chain.apply(tx), Rejection::SelfApproval { approver: account("m1-gov") });
    assert!(GRANTS.get(&chain.store, &(account("m1-gov"), RoleId::compliance())).unwrap().is_none());
    // A delegable role: compliance grants it, but not to itself.
    let desk = RoleId::new("desk").unwrap();
    let definition = RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 10_000 };
    let (_, receipt) = chain.propose("m0-gov", vec![Action::DefineRole { role: desk.clone(), definition }], &GOVS3);
    assert_executed(&receipt);
    let h = chain.height;
    let (_, tx) =
        proposal_tx(&mut chain, "m0-compliance", vec![grant("m0-compliance", desk.clone(), h)], &["m0-compliance"]);
    assert_rejected(&chain.apply(tx), Rejection::SelfApproval { approver: account("m0-compliance") });
    // Granting it to someone else of its member is the compliance officer's to approve.
    let h = chain.height;
    let (_, receipt) = chain.propose("m0-compliance", vec![grant("m0-ops", desk, h)], &["m0-compliance"]);
    assert_executed(&receipt);
}

/// A governor may not approve unfreezing its own account.
#[test]
fn self_approval_unfreeze() {
    let mut chain = TestChain::with_members(4);
    let unfreeze = vec![Action::UnfreezeAccount { account: account("m1-gov") }];
    let (_, tx) = proposal_tx(&mut chain, "m0-gov", unfreeze, &["m0-gov", "m1-gov", "m2-gov"]);
    assert_rejected(&chain.apply(tx), Rejection::SelfApproval { approver: account("m1-gov") });
}

/// Revoking an approval one never gave is refused naming the sender.
#[test]
fn no_approval_to_revoke() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov"]);
    assert_applied(&receipt);
    let tx = chain.account_tx("m1-gov", Payload::RevokeApproval { proposal: id });
    assert_rejected(&chain.apply(tx), Rejection::NoApprovalToRevoke { approver: account("m1-gov") });
    let tx = chain.account_tx("m0-gov", Payload::RevokeApproval { proposal: id });
    assert_applied(&chain.apply(tx));
    assert!(stored(&chain, id).approvals.is_empty());
}

/// A proposal holds at most 512 approvals: the 513th eligible approval is refused.
#[test]
fn too_many_approvals() {
    const HOLDERS: usize = 513;
    let mut genesis = testkit::genesis(4);
    let labels: Vec<String> = (0..HOLDERS).map(|i| format!("c{i}")).collect();
    let mut accounts = genesis.accounts.clone().into_inner();
    let mut grants = genesis.grants.clone().into_inner();
    for label in &labels {
        accounts.push(GenesisAccount { account: account(label), member: member("m0"), key: public(label) });
        grants.push(GenesisGrant {
            account: account(label),
            role: RoleId::compliance(),
            expires_at: Height(1_000_000),
        });
    }
    genesis.accounts = BoundedVec::try_new(accounts).unwrap();
    genesis.grants = BoundedVec::try_new(grants).unwrap();
    let mut chain = TestChain::new(genesis);
    // The freeze can use compliance approvals; the admission keeps the proposal pending (no governor approves).
    let actions = vec![Action::FreezeAccount { account: account("m0-auditor") }, admit_member("newco")];
    let first: Vec<&str> = labels[..512].iter().map(String::as_str).collect();
    let (id, tx) = proposal_tx(&mut chain, "m0-gov", actions, &first);
    let receipt = chain.apply(tx);
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt));
    assert_eq!(stored(&chain, id).approvals.len(), 512);
    let tx = approve_tx(&chain, "m0-gov", id, &[labels[512].as_str()]);
    assert_rejected(&chain.apply(tx), Rejection::TooManyApprovals);
}

/// Only the proposer or a governor of the proposer's member may cancel a proposal.
#[test]
fn not_proposer_member() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-ops", vec![admit_node("n9", "m0")], &[]);
    assert_applied(&receipt);
    for outsider in ["m1-gov", "m0-compliance"] {
        let tx = chain.account_tx(outsider, Payload::CancelProposal { proposal: id });
        assert_rejected(&chain.apply(tx), Rejection::NotProposerMember);
    }
    let tx = chain.account_tx("m0-gov", Payload::CancelProposal { proposal: id });
    assert_applied(&chain.apply(tx));
    assert_eq!(stored(&chain, id).status, ProposalStatus::Cancelled { at: chain.height });
}

/// A queued proposal cannot execute before its delay ends, and executes on `ExecuteProposal` once it has.
#[test]
fn delay_not_elapsed() {
    let mut chain = TestChain::with_members(7);
    let govs = TestChain::governors(6);
    let govs: Vec<&str> = govs.iter().map(String::as_str).collect();
    let revoke = Action::RevokeNodeKey { node: node("n6"), key: public("n6"), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![revoke], &govs);
    let ready_at = chain.height.plus(10);
    assert_applied(&receipt);
    assert!(receipt.events.contains(&Event::ProposalQueued { proposal: id, ready_at }), "{receipt:?}");
    assert_rejected(&chain.apply(execute_tx(&chain, "m1-gov", id)), Rejection::DelayNotElapsed { ready_at });
    advance_to(&mut chain, Height(ready_at.0.saturating_sub(2)));
    assert_rejected(&chain.apply(execute_tx(&chain, "m1-gov", id)), Rejection::DelayNotElapsed { ready_at });
    assert_eq!(chain.height.plus(1), ready_at);
    assert_executed(&chain.apply(execute_tx(&chain, "m1-gov", id)));
    let n6 = NODES.get(&chain.store, &node("n6")).unwrap().unwrap();
    assert_eq!((n6.key, n6.kind), (None, NodeKind::Observer));
}

/// Executing a proposal whose approvals do not meet its rule is refused naming the kind.
#[test]
fn approvals_insufficient() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov", "m1-gov"]);
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt));
    let reason = Rejection::ApprovalsInsufficient { kind: ActionKind::AdmitMember };
    assert_rejected(&chain.apply(execute_tx(&chain, "m0-gov", id)), reason);
    assert_eq!(stored(&chain, id).status, ProposalStatus::Pending);
}

/// An action whose kind has no policy rule is denied by default, by the mempool, a block and a dry run alike.
/// (A state without the rule breaks the `MissingPolicyRule` invariant, so this corrupts the store on purpose.)
#[test]
fn no_policy_rule() {
    let mut chain = TestChain::with_members(4);
    assert!(POLICY.get(&chain.store, &ActionKind::AdmitMember).unwrap().is_some());
    chain.store.delete_raw(TableId::Policy, &ActionKind::AdmitMember.to_key_bytes());
    let reason = Rejection::NoPolicyRule { kind: ActionKind::AdmitMember };
    let proposal = chain.proposal(acct("m0-gov"), vec![admit_member("newco")]);
    let dry = execution::dry_run(&chain.store, &proposal).unwrap();
    assert_eq!(dry.receipt.outcome, Outcome::Rejected { reason: reason.clone() });
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &GOVS3);
    // The mempool's check runs the code block execution runs; a block itself cannot be applied to this state, which
    // breaks the invariants (every kind has a rule), and debug builds stop there.
    assert_eq!(execution::check_transaction(&chain.store, &tx, size(&tx)), Err(Error::Rejected(reason)));
}

/// A proposal whose delay would end after its expiry could never execute, and is refused at submission.
#[test]
fn proposal_expires_before_delay() {
    let mut chain = TestChain::with_members(4);
    let change = Action::SetPolicyRule {
        kind: ActionKind::FreezeAccount,
        expected: Some(Rule::role(RoleId::compliance(), true)),
        rule: Rule::weight(2, 3, false, 0),
    };
    let mut proposal = chain.proposal(acct("m0-gov"), vec![change]);
    let ready_at = chain.height.plus(1).plus(100);
    proposal.expires_at = Height(ready_at.0.saturating_sub(1));
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal.clone(), &["m0-gov"]);
    let reason = Rejection::ProposalExpiresBeforeDelay { ready_at, expires_at: proposal.expires_at };
    assert_rejected(&chain.apply(tx), reason);
    // Expiring exactly when the delay ends is accepted.
    proposal.expires_at = chain.height.plus(1).plus(100);
    let (_, tx) = submit_tx(&chain, "m0-gov", proposal, &["m0-gov"]);
    assert_applied(&chain.apply(tx));
}

// --- actions ------------------------------------------------------------------------------------------------------

/// A compare-and-set that no longer matches fails the whole proposal, naming the action's index; nothing applies.
#[test]
fn stale_proposal() {
    let mut chain = TestChain::with_members(4);
    let actions = vec![set_member_weight("m1", 1, 2), set_member_weight("m2", 5, 2)];
    let (id, receipt) = chain.propose("m0-gov", actions, &GOVS3);
    let reason = Rejection::StaleProposal { action: 1, detail: detail("m2 has weight 1, the proposal expected 5") };
    assert_failed(&chain, &receipt, id, reason);
    assert_eq!(MEMBERS.get(&chain.store, &member("m1")).unwrap().unwrap().weight, Weight(1), "atomic");
}

/// An action about a member that does not exist fails naming it.
#[test]
fn unknown_member() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![set_member_weight("ghost", 1, 2)], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::UnknownMember { member: member("ghost") });
}

/// Admitting a member whose id exists fails.
#[test]
fn member_exists() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("m1")], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::MemberExists { member: member("m1") });
}

/// Creating an account whose id exists fails.
#[test]
fn account_exists() {
    let mut chain = TestChain::with_members(4);
    let create = Action::CreateAccount { account: account("m0-ops"), member: member("m0"), key: public("fresh") };
    let (id, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert_failed(&chain, &receipt, id, Rejection::AccountExists { account: account("m0-ops") });
}

/// Admitting a node whose id exists fails.
#[test]
fn node_exists() {
    let mut chain = TestChain::with_members(4);
    let admit = Action::AdmitNode { node: node("n1"), owner: member("m0"), key: public("fresh"), address: text("x:1") };
    let (id, receipt) = chain.propose("m0-gov", vec![admit], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::NodeExists { node: node("n1") });
}

/// Granting a role that is not defined fails naming it.
#[test]
fn unknown_role() {
    let mut chain = TestChain::with_members(4);
    let role = RoleId::new("ghost-role").unwrap();
    let grant =
        Action::GrantRole { account: account("m1-ops"), role: role.clone(), expires_at: Height(50), expected: None };
    let (id, receipt) = chain.propose("m0-gov", vec![grant], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::UnknownRole { role });
}

/// Defining a role that exists (a built-in one) fails.
#[test]
fn role_exists() {
    let mut chain = TestChain::with_members(4);
    let definition = RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 10 };
    let (id, receipt) =
        chain.propose("m0-gov", vec![Action::DefineRole { role: RoleId::compliance(), definition }], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::RoleExists { role: RoleId::compliance() });
}

/// A member's governors must be its own accounts.
#[test]
fn not_member_account() {
    let mut chain = TestChain::with_members(4);
    let replace = Action::ReplaceGovernors {
        member: member("m1"),
        expected: BoundedVec::try_new(vec![account("m1-gov")]).unwrap(),
        governors: BoundedVec::try_new(vec![account("m0-ops")]).unwrap(),
    };
    let (id, receipt) = chain.propose("m0-gov", vec![replace], &["m0-gov", "m2-gov", "m3-gov"]);
    let reason = Rejection::NotMemberAccount { account: account("m0-ops"), member: member("m1") };
    assert_failed(&chain, &receipt, id, reason);
}

/// A member weight of zero is out of range.
#[test]
fn invalid_weight() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![set_member_weight("m1", 1, 0)], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::InvalidWeight { weight: Weight(0) });
}

/// Chain parameters out of range are refused with what is wrong.
#[test]
fn invalid_params() {
    let mut chain = TestChain::with_members(4);
    let expected = PARAMS.get(&chain.store, &()).unwrap().unwrap();
    let params = ChainParams { block_interval_ms: 10, ..expected.clone() };
    let (id, receipt) = chain.propose("m0-gov", vec![Action::SetParams { expected, params }], &GOVS3);
    let reason = Rejection::InvalidParams { detail: detail("block_interval_ms must be 50..=60000") };
    assert_failed(&chain, &receipt, id, reason);
}

/// A policy rule naming the auditor role is refused when the (delayed) policy change executes.
#[test]
fn invalid_rule() {
    let mut chain = TestChain::with_members(4);
    let change = Action::SetPolicyRule {
        kind: ActionKind::FreezeAccount,
        expected: Some(Rule::role(RoleId::compliance(), true)),
        rule: Rule::role(RoleId::auditor(), false),
    };
    let mut proposal = chain.proposal(acct("m0-gov"), vec![change]);
    proposal.expires_at = chain.height.plus(200);
    let (id, tx) = submit_tx(&chain, "m0-gov", proposal, &["m0-gov", "m1-gov", "m2-gov"]);
    let receipt = chain.apply(tx);
    let ready_at = chain.height.plus(100);
    assert!(receipt.events.contains(&Event::ProposalQueued { proposal: id, ready_at }), "{receipt:?}");
    advance_to(&mut chain, Height(ready_at.0.saturating_sub(1)));
    let receipt = chain.apply(execute_tx(&chain, "m0-gov", id));
    let reason = Rejection::InvalidRule { detail: detail("the auditor role confers reading only; it cannot approve") };
    assert_failed(&chain, &receipt, id, reason);
    let rule = POLICY.get(&chain.store, &ActionKind::FreezeAccount).unwrap().unwrap();
    assert_eq!(rule, Rule::role(RoleId::compliance(), true));
}

/// A key that is not a valid, non-weak point is never registered.
#[test]
fn invalid_key() {
    let mut chain = TestChain::with_members(4);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let key = PublicKey::Ed25519(identity);
    let create = Action::CreateAccount { account: account("m0-new"), member: member("m0"), key };
    let (id, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert_failed(&chain, &receipt, id, Rejection::InvalidKey { key });
}

/// A key current for someone else cannot be registered again.
#[test]
fn key_in_use() {
    let mut chain = TestChain::with_members(4);
    let create = Action::CreateAccount { account: account("m0-new"), member: member("m0"), key: public("m1-gov") };
    let (id, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert_failed(&chain, &receipt, id, Rejection::KeyInUse { key: public("m1-gov") });
}

/// A key retired by rotation can never be registered again, for anyone.
#[test]
fn key_retired() {
    let mut chain = TestChain::with_members(4);
    let proof = chain.key_proof(acct("m1-ops"), Some(public("m1-ops")), "m1-ops-2");
    assert_applied(&chain.apply(chain.account_tx("m1-ops", Payload::RotateAccountKey { proof })));
    let create = Action::CreateAccount { account: account("m0-new"), member: member("m0"), key: public("m1-ops") };
    let (id, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert_failed(&chain, &receipt, id, Rejection::KeyRetired { key: public("m1-ops") });
}

/// A key-possession proof for another subject, or signed by a key other than the new one, is refused.
#[test]
fn bad_key_proof() {
    let mut chain = TestChain::with_members(4);
    let proof = chain.key_proof(acct("m2-ops"), Some(public("m1-ops")), "m1-ops-2");
    let tx = chain.account_tx("m1-ops", Payload::RotateAccountKey { proof });
    assert_rejected(&chain.apply(tx), Rejection::BadKeyProof);
    let body = KeyProofBody {
        subject: acct("m1-ops"),
        old_key: Some(public("m1-ops")),
        new_key: public("m1-ops-2"),
        expires_at: chain.height.plus(50),
    };
    let proof = body.sign(&chain.chain, &secret("someone-else"));
    let tx = chain.account_tx("m1-ops", Payload::RotateAccountKey { proof });
    assert_rejected(&chain.apply(tx), Rejection::BadKeyProof);
}

/// A key-possession proof past its expiry is refused with the expiry.
#[test]
fn key_proof_expired() {
    let mut chain = TestChain::with_members(4);
    chain.apply_block(vec![]);
    chain.apply_block(vec![]);
    let body = KeyProofBody {
        subject: acct("m1-ops"),
        old_key: Some(public("m1-ops")),
        new_key: public("m1-ops-2"),
        expires_at: Height(2),
    };
    let proof = body.sign(&chain.chain, &secret("m1-ops-2"));
    let tx = chain.account_tx("m1-ops", Payload::RotateAccountKey { proof });
    assert_rejected(&chain.apply(tx), Rejection::KeyProofExpired { expires_at: Height(2) });
}

/// Only an observer can be promoted.
#[test]
fn not_an_observer() {
    let mut chain = TestChain::with_members(4);
    let promote = Action::PromoteNode { node: node("n1"), weight: Weight(1), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![promote], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::NotAnObserver { node: node("n1") });
}

/// Only a sealer can be demoted or re-weighted.
#[test]
fn not_a_sealer() {
    let mut chain = chain_with_observer();
    let demote = Action::DemoteNode { node: node("n9"), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![demote], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::NotASealer { node: node("n9") });
    let weight = Action::SetNodeWeight {
        node: node("n9"),
        expected: Weight(0),
        weight: Weight(1),
        override_fault_tolerance: false,
    };
    let (id, receipt) = chain.propose("m0-gov", vec![weight], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::NotASealer { node: node("n9") });
}

/// An observer without a readiness attestation cannot be promoted.
#[test]
fn readiness_missing() {
    let mut chain = chain_with_observer();
    let promote = Action::PromoteNode { node: node("n9"), weight: Weight(1), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![promote], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::ReadinessMissing { node: node("n9"), window: 600 });
}

/// The sealer set holds at most `MAX_VALIDATORS` sealers: promoting one more fails.
#[test]
fn too_many_sealers() {
    let mut genesis = testkit::genesis(4);
    let mut nodes = genesis.nodes.clone().into_inner();
    let template = nodes[0].clone();
    let max = governance_contracts::types::MAX_VALIDATORS;
    for i in nodes.len()..max {
        let id = format!("s{i}");
        let owner = member(&format!("m{}", i % 4));
        nodes.push(GenesisNode { node: node(&id), owner, key: public(&id), ..template.clone() });
    }
    genesis.nodes = BoundedVec::try_new(nodes).unwrap();
    let mut chain = TestChain::new(genesis);
    assert_eq!(execution::validator_set(&chain.store).unwrap().validators.len(), max);
    let (_, receipt) = chain.propose("m0-gov", vec![admit_node("n9", "m0")], &GOVS3);
    assert_executed(&receipt);
    assert_applied(&chain.apply(chain.node_tx("n9", Payload::AttestReadiness { synced_height: chain.height })));
    let promote = Action::PromoteNode { node: node("n9"), weight: Weight(1), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![promote], &GOVS3);
    let reason = Rejection::TooManySealers { max: u32::try_from(max).unwrap() };
    assert_failed(&chain, &receipt, id, reason);
}

/// A sealer change moving more weight than the starting set tolerates (F) is refused.
#[test]
fn sealer_budget_exceeded() {
    let mut chain = TestChain::with_members(4);
    let weight = Action::SetNodeWeight {
        node: node("n0"),
        expected: Weight(1),
        weight: Weight(3),
        override_fault_tolerance: false,
    };
    let (id, receipt) = chain.propose("m0-gov", vec![weight], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::SealerBudgetExceeded { changed: Weight(2), tolerated: Weight(1) });
}

/// The sealer budget is cumulative over a block: the third of three one-unit changes in one block (F = 2) fails, and
/// the same change succeeds in the next block.
#[test]
fn sealer_budget_is_cumulative_within_a_block() {
    let mut chain = TestChain::with_members(7);
    let govs = TestChain::governors(5);
    let govs: Vec<&str> = govs.iter().map(String::as_str).collect();
    let bump = |n: &str| Action::SetNodeWeight {
        node: node(n),
        expected: Weight(1),
        weight: Weight(2),
        override_fault_tolerance: false,
    };
    let mut txs = Vec::new();
    let mut ids = Vec::new();
    for n in ["n0", "n1", "n2"] {
        let (id, tx) = proposal_tx(&mut chain, "m0-gov", vec![bump(n)], &govs);
        ids.push(id);
        txs.push(tx);
    }
    let outcome = chain.apply_block(txs);
    assert_executed(&outcome.receipts[0]);
    assert_executed(&outcome.receipts[1]);
    assert_failed(
        &chain,
        &outcome.receipts[2],
        ids[2],
        Rejection::SealerBudgetExceeded { changed: Weight(3), tolerated: Weight(2) },
    );
    assert_eq!(NODES.get(&chain.store, &node("n2")).unwrap().unwrap().weight, Weight(1));
    let (_, receipt) = chain.propose("m0-gov", vec![bump("n2")], &govs);
    assert_executed(&receipt);
}

/// A change that would drop the fault tolerance to zero (4 sealers to 3) is refused.
#[test]
fn fault_tolerance_reduced() {
    let mut chain = TestChain::with_members(4);
    let demote = Action::DemoteNode { node: node("n3"), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![demote], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::FaultToleranceReduced { before: Weight(1), after: Weight(0) });
}

/// Even with the override rule, the last sealer cannot be demoted.
#[test]
fn empty_sealer_set() {
    let mut chain = TestChain::with_members(1);
    let demote = Action::DemoteNode { node: node("n0"), override_fault_tolerance: true };
    let (id, receipt) = chain.propose("m0-gov", vec![demote], &["m0-gov"]);
    let ready_at = chain.height.plus(10);
    assert!(receipt.events.contains(&Event::ProposalQueued { proposal: id, ready_at }), "{receipt:?}");
    advance_to(&mut chain, Height(ready_at.0.saturating_sub(1)));
    let receipt = chain.apply(execute_tx(&chain, "m0-gov", id));
    assert_failed(&chain, &receipt, id, Rejection::EmptySealerSet);
}

/// A member cannot be left without governors.
#[test]
fn no_governors() {
    let mut chain = TestChain::with_members(4);
    let replace = Action::ReplaceGovernors {
        member: member("m1"),
        expected: BoundedVec::try_new(vec![account("m1-gov")]).unwrap(),
        governors: BoundedVec::new(),
    };
    let (id, receipt) = chain.propose("m0-gov", vec![replace], &["m0-gov", "m2-gov", "m3-gov"]);
    assert_failed(&chain, &receipt, id, Rejection::NoGovernors { member: member("m1") });
}

/// A grant expiring further ahead than the role's `max_grant_blocks` is refused with the limit.
#[test]
fn grant_too_long() {
    let mut chain = TestChain::with_members(4);
    let at = chain.height.plus(1);
    let max = at.plus(BUILTIN_MAX_GRANT_BLOCKS);
    let grant = Action::GrantRole {
        account: account("m1-ops"),
        role: RoleId::compliance(),
        expires_at: max.plus(1),
        expected: None,
    };
    let (id, receipt) = chain.propose("m0-gov", vec![grant], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::GrantTooLong { expires_at: max.plus(1), max });
}

/// A role whose grants could outlast `MAX_GRANT_BLOCKS` (ten years of one-second blocks) is refused, by
/// `DefineRole` and by a genesis alike, so no delegable role carries grants that never expire; a role at exactly
/// the bound is defined.
#[test]
fn grant_limit_too_long() {
    let mut chain = TestChain::with_members(4);
    let definition =
        |max_grant_blocks| RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks };
    let forever = RoleId::new("forever").unwrap();
    for max_grant_blocks in [MAX_GRANT_BLOCKS.saturating_add(1), u64::MAX] {
        let define = Action::DefineRole { role: forever.clone(), definition: definition(max_grant_blocks) };
        let (id, receipt) = chain.propose("m0-gov", vec![define], &GOVS3);
        let reason = Rejection::GrantLimitTooLong { max_grant_blocks, max: MAX_GRANT_BLOCKS };
        assert_failed(&chain, &receipt, id, reason.clone());
        let mut genesis = testkit::genesis(4);
        let role = GenesisRole { role: forever.clone(), definition: definition(max_grant_blocks) };
        genesis.roles = BoundedVec::try_new(vec![role]).unwrap();
        assert_eq!(execution::apply_genesis(&genesis).err(), Some(GenesisError::Invalid(reason)));
    }
    let define = Action::DefineRole { role: forever, definition: definition(MAX_GRANT_BLOCKS) };
    assert_executed(&chain.propose("m0-gov", vec![define], &GOVS3).1);
}

/// A genesis grant expiring beyond its role's `max_grant_blocks` from height 0 is refused with the limit.
#[test]
fn genesis_grant_too_long() {
    let mut genesis = testkit::genesis(4);
    let mut grants = genesis.grants.clone().into_inner();
    let operator = grants.iter_mut().find(|g| g.role == RoleId::operator()).unwrap();
    operator.expires_at = Height(u64::MAX);
    genesis.grants = BoundedVec::try_new(grants).unwrap();
    let reason = Rejection::GrantTooLong { expires_at: Height(u64::MAX), max: Height(BUILTIN_MAX_GRANT_BLOCKS) };
    assert_eq!(execution::apply_genesis(&genesis).err(), Some(GenesisError::Invalid(reason)));
}

/// A grant expiring before the current height is refused.
#[test]
fn grant_expired() {
    let mut chain = TestChain::with_members(4);
    chain.apply_block(vec![]);
    chain.apply_block(vec![]);
    let grant = Action::GrantRole {
        account: account("m1-ops"),
        role: RoleId::compliance(),
        expires_at: Height(2),
        expected: None,
    };
    let (id, receipt) = chain.propose("m0-gov", vec![grant], &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::GrantExpired { expires_at: Height(2) });
}

/// Suspending every member at once is refused: one must stay active. (Each suspension is approved by the two
/// members it does not target, two thirds of the seated weight.)
#[test]
fn last_active_member() {
    let mut chain = TestChain::with_members(3);
    let actions = ["m0", "m1", "m2"].iter().map(|m| Action::SuspendMember { member: member(m) }).collect();
    let (id, receipt) = chain.propose("m0-gov", actions, &GOVS3);
    assert_failed(&chain, &receipt, id, Rejection::LastActiveMember);
    assert_eq!(MEMBERS.get(&chain.store, &member("m0")).unwrap().unwrap().status, MemberStatus::Active);
}

/// A node's routine key rotation proposed by an account (even its operator) fails: the node must propose it.
#[test]
fn node_must_propose() {
    let mut chain = TestChain::with_members(4);
    let proof = chain.key_proof(Principal::Node(node("n0")), Some(public("n0")), "n0-2");
    let rotate = Action::RotateNodeKey { node: node("n0"), proof };
    let (id, receipt) = chain.propose("m0-ops", vec![rotate.clone()], &["m0-ops"]);
    assert_failed(&chain, &receipt, id, Rejection::NodeMustPropose { node: node("n0") });
    // Proposed by the node itself and approved by its owner's operator, it applies.
    let proposal = chain.proposal(Principal::Node(node("n0")), vec![rotate]);
    let approvals = approvals(&chain, &proposal, &["m0-ops"]);
    let tx = chain.node_tx("n0", Payload::SubmitProposal { proposal, approvals });
    assert_executed(&chain.apply(tx));
    assert_eq!(NODES.get(&chain.store, &node("n0")).unwrap().unwrap().key, Some(public("n0-2")));
}

/// Expelling a member whose sealer removal would break sealer safety fails naming the sealers to demote first; a
/// dry run shows the same.
#[test]
fn expulsion_needs_sealer_changes() {
    let mut chain = TestChain::with_members(4);
    let expel = vec![Action::ExpelMember { member: member("m3") }];
    let reason = Rejection::ExpulsionNeedsSealerChanges { member: member("m3"), sealers: detail("n3") };
    let proposal = chain.proposal(acct("m0-gov"), expel.clone());
    let dry = execution::dry_run(&chain.store, &proposal).unwrap();
    assert_eq!(dry.receipt.outcome, Outcome::Rejected { reason: reason.clone() });
    let (id, receipt) = chain.propose("m0-gov", expel, &GOVS3);
    assert_failed(&chain, &receipt, id, reason);
    assert_eq!(MEMBERS.get(&chain.store, &member("m3")).unwrap().unwrap().status, MemberStatus::Active);
}

// --- separation of duties and approvals re-checked at execution ---------------------------------------------------

/// An approval given while its member was active stops counting once the member is suspended: a queued proposal
/// then cannot execute until another member approves.
#[test]
fn suspended_members_approval_stops_counting() {
    let mut chain = chain_with_observer();
    // An emergency revocation (3/4, 10-block delay) of an observer's key: no sealer change.
    let revoke = Action::RevokeNodeKey { node: node("n9"), key: public("n9"), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![revoke], &GOVS3);
    let ready_at = chain.height.plus(10);
    assert!(receipt.events.contains(&Event::ProposalQueued { proposal: id, ready_at }), "3 of 4 meet 3/4: {receipt:?}");
    let (_, receipt) =
        chain.propose("m0-gov", vec![Action::SuspendMember { member: member("m1") }], &["m0-gov", "m2-gov", "m3-gov"]);
    assert_executed(&receipt);
    advance_to(&mut chain, Height(ready_at.0.saturating_sub(1)));
    let reason = Rejection::ApprovalsInsufficient { kind: ActionKind::RevokeNodeKey };
    assert_rejected(&chain.apply(execute_tx(&chain, "m0-gov", id)), reason);
    assert_eq!(NODES.get(&chain.store, &node("n9")).unwrap().unwrap().key, Some(public("n9")));
    assert_applied(&chain.apply(approve_tx(&chain, "m3-gov", id, &["m3-gov"])));
    assert_executed(&chain.apply(execute_tx(&chain, "m0-gov", id)));
    assert_eq!(NODES.get(&chain.store, &node("n9")).unwrap().unwrap().key, None);
}

/// An approval by a governor who is frozen afterwards stops counting at execution.
#[test]
fn frozen_governors_approval_stops_counting() {
    let mut chain = chain_with_observer();
    let revoke = Action::RevokeNodeKey { node: node("n9"), key: public("n9"), override_fault_tolerance: false };
    let (id, receipt) = chain.propose("m0-gov", vec![revoke], &GOVS3);
    let ready_at = chain.height.plus(10);
    assert!(receipt.events.contains(&Event::ProposalQueued { proposal: id, ready_at }), "{receipt:?}");
    let freeze = vec![Action::FreezeAccount { account: account("m1-gov") }];
    let (_, receipt) = chain.propose("m0-gov", freeze, &["m0-gov", "m2-gov", "m3-gov"]);
    assert_executed(&receipt);
    advance_to(&mut chain, Height(ready_at.0.saturating_sub(1)));
    let reason = Rejection::ApprovalsInsufficient { kind: ActionKind::RevokeNodeKey };
    assert_rejected(&chain.apply(execute_tx(&chain, "m0-gov", id)), reason);
}

/// An approval signed with a key that its account later retired by routine rotation still counts for the proposal
/// submitted before the rotation; the retired key counts for no proposal submitted afterwards.
#[test]
fn approval_with_routinely_retired_key_still_counts() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov", "m1-gov"]);
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt));
    let proof = chain.key_proof(acct("m1-gov"), Some(public("m1-gov")), "m1-gov-2");
    assert_applied(&chain.apply(chain.account_tx("m1-gov", Payload::RotateAccountKey { proof })));
    // Two of four plus m1's approval with its now retired key make three of four.
    assert_executed(&chain.apply(approve_tx(&chain, "m2-gov", id, &["m2-gov"])));
    assert!(MEMBERS.get(&chain.store, &member("newco")).unwrap().is_some());
    // For a proposal submitted after the rotation, the retired key is refused.
    let proposal = chain.proposal(acct("m0-gov"), vec![admit_member("other")]);
    let old = chain.approval_with_key(&proposal, "m1-gov", "m1-gov");
    let tx = chain
        .account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![old]).unwrap() });
    assert_rejected(&chain.apply(tx), Rejection::ApprovalKeyNotValid { approver: account("m1-gov") });
}

/// After `MarkKeyCompromised`, every approval the key made stops counting; the account re-approves with its
/// replacement key, which replaces the dead approval.
#[test]
fn approval_stops_counting_after_key_marked_compromised() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov", "m1-gov"]);
    assert_applied(&receipt);
    let proof = chain.key_proof(acct("m1-gov"), Some(public("m1-gov")), "m1-gov-2");
    let payload =
        Payload::MarkKeyCompromised { account: account("m1-gov"), key: public("m1-gov"), replacement: Some(proof) };
    let receipt = chain.apply(chain.account_tx("m1-gov", payload));
    assert_applied(&receipt);
    assert!(receipt.events.contains(&Event::KeyCompromised { owner: acct("m1-gov"), key: public("m1-gov") }));
    let receipt = chain.apply(approve_tx(&chain, "m2-gov", id, &["m2-gov"]));
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt), "m1's approval with the compromised key must not count: {receipt:?}");
    let reason = Rejection::ApprovalsInsufficient { kind: ActionKind::AdmitMember };
    assert_rejected(&chain.apply(execute_tx(&chain, "m0-gov", id)), reason);
    // m1 approves again with its replacement key; the dead approval is replaced, not doubled.
    let new_key_tx = |chain: &TestChain, payload| chain.tx_with_key(acct("m1-gov"), "m1-gov-2", payload);
    let proposal = stored(&chain, id).proposal;
    let approval = chain.approval_with_key(&proposal, "m1-gov", "m1-gov-2");
    let payload = Payload::Approve { proposal: id, approvals: BoundedVec::try_new(vec![approval]).unwrap() };
    assert_executed(&chain.apply(new_key_tx(&chain, payload)));
    assert_eq!(stored(&chain, id).approvals.iter().filter(|a| a.approver == account("m1-gov")).count(), 1);
}

/// A key retired by routine rotation that later leaks can be marked compromised, and the approvals it made for
/// proposals submitted before the rotation then stop counting.
#[test]
fn retired_key_marked_compromised_stops_its_approvals_counting() {
    let mut chain = TestChain::with_members(4);
    let (id, receipt) = chain.propose("m0-gov", vec![admit_member("newco")], &["m0-gov", "m1-gov"]);
    assert_applied(&receipt);
    let proof = chain.key_proof(acct("m1-gov"), Some(public("m1-gov")), "m1-gov-2");
    assert_applied(&chain.apply(chain.account_tx("m1-gov", Payload::RotateAccountKey { proof })));
    let payload = Payload::MarkKeyCompromised { account: account("m1-gov"), key: public("m1-gov"), replacement: None };
    let receipt = chain.apply(chain.tx_with_key(acct("m1-gov"), "m1-gov-2", payload));
    assert_applied(&receipt);
    let revoked = KEYS.get(&chain.store, &public("m1-gov")).unwrap().unwrap().status;
    assert!(matches!(revoked, governance_contracts::state::records::KeyStatus::Revoked { .. }), "{revoked:?}");
    let receipt = chain.apply(approve_tx(&chain, "m2-gov", id, &["m2-gov"]));
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt), "the leaked retired key's approval must not count: {receipt:?}");
}

/// Compliance cannot freeze a governor: the action needs the committee's `FreezePrivilegedAccount` rule, the
/// compliance officer's approval is refused, and the proposal stays pending until the committee approves.
#[test]
fn compliance_cannot_freeze_a_governor() {
    let mut chain = TestChain::with_members(4);
    let freeze = vec![Action::FreezeAccount { account: account("m1-gov") }];
    let proposal = chain.proposal(acct("m0-compliance"), freeze);
    let dry = execution::dry_run(&chain.store, &proposal).unwrap();
    assert_eq!(dry.requirements, vec![(ActionKind::FreezePrivilegedAccount, Rule::weight(2, 3, false, 0))]);
    let (_, tx) = submit_tx(&chain, "m0-compliance", proposal.clone(), &["m0-compliance"]);
    assert_rejected(&chain.apply(tx), Rejection::ApproverNotEligible { approver: account("m0-compliance") });
    let (id, tx) = submit_tx(&chain, "m0-compliance", proposal, &[]);
    let receipt = chain.apply(tx);
    assert_applied(&receipt);
    assert!(!TestChain::executed(&receipt));
    let tx = approve_tx(&chain, "m0-compliance", id, &["m0-compliance"]);
    assert_rejected(&chain.apply(tx), Rejection::ApproverNotEligible { approver: account("m0-compliance") });
    assert_eq!(stored(&chain, id).status, ProposalStatus::Pending);
    assert!(!ACCOUNTS.get(&chain.store, &account("m1-gov")).unwrap().unwrap().frozen);
    // Two thirds of the committee freeze the governor.
    assert_executed(&chain.apply(approve_tx(&chain, "m0-gov", id, &["m0-gov", "m2-gov", "m3-gov"])));
    assert!(ACCOUNTS.get(&chain.store, &account("m1-gov")).unwrap().unwrap().frozen);
}

// --- removed nodes ------------------------------------------------------------------------------------------------

/// Removes `n4` from a five-member chain with four governors' approval; returns the removal height.
fn remove_n4(chain: &mut TestChain) -> Height {
    let remove = Action::RemoveNode { node: node("n4"), override_fault_tolerance: false };
    let (_, receipt) = chain.propose("m0-gov", vec![remove], &["m0-gov", "m1-gov", "m2-gov", "m3-gov"]);
    assert_executed(&receipt);
    chain.height
}

/// Admitting a node under a removed node's id is refused naming the removal, whoever owns it and whatever its key.
#[test]
fn node_id_retired() {
    let mut chain = TestChain::with_members(5);
    let removed_at = remove_n4(&mut chain);
    for (owner, key) in [("m4", "n4-rebuilt"), ("m1", "n4-elsewhere")] {
        let admit = Action::AdmitNode {
            node: node("n4"),
            owner: member(owner),
            key: public(key),
            address: text("127.0.0.1:26999"),
        };
        let (id, receipt) = chain.propose("m0-gov", vec![admit], &["m0-gov", "m1-gov", "m2-gov", "m3-gov"]);
        assert_failed(&chain, &receipt, id, Rejection::NodeIdRetired { node: node("n4"), removed_at });
        assert!(KEYS.get(&chain.store, &public(key)).unwrap().is_none(), "{key} must not be registered");
    }
}

/// Whatever names a removed node is refused as `NodeRemoved`: each node action of a proposal, and the removed
/// node's own transactions (signed with the key it held).
#[test]
fn node_removed() {
    let mut chain = TestChain::with_members(5);
    let removed_at = remove_n4(&mut chain);
    let reason = Rejection::NodeRemoved { node: node("n4"), removed_at };
    let actions = [
        Action::PromoteNode { node: node("n4"), weight: Weight(1), override_fault_tolerance: false },
        Action::DemoteNode { node: node("n4"), override_fault_tolerance: false },
        Action::SetNodeWeight {
            node: node("n4"),
            expected: Weight(1),
            weight: Weight(2),
            override_fault_tolerance: false,
        },
        Action::RemoveNode { node: node("n4"), override_fault_tolerance: false },
    ];
    for action in actions {
        let (id, receipt) = chain.propose("m0-gov", vec![action], &["m0-gov", "m1-gov", "m2-gov", "m3-gov"]);
        assert_failed(&chain, &receipt, id, reason.clone());
    }
    let tx = chain.node_tx("n4", Payload::AttestReadiness { synced_height: chain.height });
    assert_rejected(&chain.apply(tx), reason);
}

// --- signer-visible text ------------------------------------------------------------------------------------------

/// `UnsafeText` for `field`, with the detail the text rule gives for `text`.
fn text_refusal(field: &str, text: &str, lines: Lines) -> Rejection {
    let why = check_signer_text(text, lines).expect_err("the text is unsafe");
    Rejection::UnsafeText { field: detail(field), detail: detail(why.to_string()) }
}

/// `InvalidAddress` for `field`, with the detail the address rule gives for `address`.
fn address_refusal(field: &str, address: &str) -> Rejection {
    let why = check_network_address(address).expect_err("the address is invalid");
    Rejection::InvalidAddress { field: detail(field), detail: detail(why.to_string()) }
}

/// Submits a one-action proposal titled `title` and described by `description`, without approvals; the receipt,
/// at the mempool and in a block (they must agree).
fn submit_text(chain: &mut TestChain, title: &str, description: &str, action: Action) -> Receipt {
    let mut proposal = chain.proposal(acct("m0-gov"), vec![action]);
    proposal.title = text(title);
    proposal.description = text(description);
    let (_, tx) = submit_tx(chain, "m0-gov", proposal, &[]);
    let at_the_door = execution::check_transaction(&chain.store, &tx, size(&tx));
    let receipt = chain.apply(tx);
    match (&at_the_door, &receipt.outcome) {
        (Err(Error::Rejected(door)), Outcome::Rejected { reason }) => assert_eq!(door, reason),
        (Ok(_), Outcome::Applied) => {}
        (door, outcome) => panic!("the mempool says {door:?}, the block {outcome:?}"),
    }
    receipt
}

/// A title hiding a bidirectional override, which shows "Pay lapyap" as "Pay paypal", is refused before anyone
/// can sign it, naming the field and the code point.
#[test]
fn unsafe_text_bidi_override_in_title() {
    let mut chain = TestChain::with_members(4);
    let title = "Pay \u{202E}lapyap";
    let receipt = submit_text(&mut chain, title, "", admit_member("newco"));
    let reason = text_refusal("title", title, Lines::One);
    assert!(reason.to_string().contains("character 5 is U+202E, a bidirectional control"), "{reason}");
    assert_rejected(&receipt, reason);
}

/// Zero-width and other format characters are refused in a new member's display name: "Acme\u{200B}Bank" shows
/// exactly like "AcmeBank".
#[test]
fn unsafe_text_zero_width_in_member_name() {
    let mut chain = TestChain::with_members(4);
    let Action::AdmitMember { member, weight, governors, .. } = admit_member("newco") else { unreachable!() };
    let name = "Acme\u{200B}Bank";
    let action = Action::AdmitMember { member, name: text(name), weight, governors };
    let receipt = submit_text(&mut chain, "Admit Acme Bank", "", action);
    assert_rejected(&receipt, text_refusal("action 1 name", name, Lines::One));
}

/// Control characters are refused: a tab in a description, a newline in a title (every other control character,
/// a carriage return included, never decodes as text at all); a description may span several lines.
#[test]
fn unsafe_text_control_characters() {
    let mut chain = TestChain::with_members(4);
    let description = "column\tcolumn";
    let receipt = submit_text(&mut chain, "Admit newco", description, admit_member("newco"));
    assert_rejected(&receipt, text_refusal("description", description, Lines::Many));
    let title = "Admit newco\nand more";
    let receipt = submit_text(&mut chain, title, "", admit_member("newco"));
    assert_rejected(&receipt, text_refusal("title", title, Lines::One));
    let receipt = submit_text(&mut chain, "Admit newco", "Why:\nit asked.\n\n理由：它申请了。", admit_member("newco"));
    assert_applied(&receipt);
}

/// A word mixing Latin with a Cyrillic look-alike ("pаypal", whose second letter is U+0430) is refused, while Latin
/// and Chinese inside one token, and Cyrillic in a word of its own, pass.
#[test]
fn unsafe_text_mixed_script_word() {
    let mut chain = TestChain::with_members(4);
    let title = "Admit p\u{430}ypal";
    let receipt = submit_text(&mut chain, title, "", admit_member("newco"));
    let reason = text_refusal("title", title, Lines::One);
    assert!(reason.to_string().contains("mixes the Latin and Cyrillic scripts"), "{reason}");
    assert_rejected(&receipt, reason);
    let receipt = submit_text(&mut chain, "Org1的提案: admit newco", "Москва, Αθήνα", admit_member("newco"));
    assert_applied(&receipt);
}

/// A node's address must be `host:port` (a DNS name, IPv4 or bracketed IPv6, port 1 to 65535) when it is admitted
/// and when its address changes, the expected address included; well-formed ones are accepted.
#[test]
fn invalid_address() {
    let mut chain = TestChain::with_members(4);
    let admit = |address: &str| Action::AdmitNode {
        node: node("n8"),
        owner: member("m0"),
        key: public("n8"),
        address: text(address),
    };
    for address in ["10.0.0.9", "10.0.0.9:0", "evil\u{202E}host:80", "host name:80", "::1:80"] {
        let receipt = submit_text(&mut chain, "Admit n8", "", admit(address));
        assert_rejected(&receipt, address_refusal("action 1 address", address));
    }
    assert_applied(&submit_text(&mut chain, "Admit n8", "", admit("n8.example.org:26656")));
    let set = |expected: &str, address: &str| Action::SetNodeAddress {
        node: node("n0"),
        expected: text(expected),
        address: text(address),
    };
    let receipt = submit_text(&mut chain, "Move n0", "", set("127.0.0.1:26000", "n0.example:99999"));
    assert_rejected(&receipt, address_refusal("action 1 address", "n0.example:99999"));
    let receipt = submit_text(&mut chain, "Move n0", "", set("127.0.0.1:26000\u{200B}", "[::1]:26000"));
    assert_rejected(&receipt, address_refusal("action 1 expected address", "127.0.0.1:26000\u{200B}"));
    assert_applied(&submit_text(&mut chain, "Move n0", "", set("127.0.0.1:26000", "[::1]:26000")));
}

/// A genesis is held to the same rule: a founding member's display name with a look-alike letter, or a founding
/// node's malformed address, is refused when the genesis is applied.
#[test]
fn genesis_unsafe_text_and_invalid_address() {
    let mut genesis = testkit::genesis(4);
    let mut members = genesis.members.clone().into_inner();
    let first = members.first_mut().expect("a member");
    first.name = text("Acm\u{435} Bank");
    let field = format!("member {} name", first.member);
    genesis.members = BoundedVec::try_new(members).unwrap();
    let reason = text_refusal(&field, "Acm\u{435} Bank", Lines::One);
    assert_eq!(execution::apply_genesis(&genesis).err(), Some(execution::GenesisError::Invalid(reason)));

    let mut genesis = testkit::genesis(4);
    let mut nodes = genesis.nodes.clone().into_inner();
    let first = nodes.first_mut().expect("a node");
    first.address = text("127.0.0.1:70000");
    let field = format!("node {} address", first.node);
    genesis.nodes = BoundedVec::try_new(nodes).unwrap();
    let reason = address_refusal(&field, "127.0.0.1:70000");
    assert_eq!(execution::apply_genesis(&genesis).err(), Some(execution::GenesisError::Invalid(reason)));
}
