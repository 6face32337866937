//! End-to-end flows through the contracts: the user stories of the alliance, applied block by block on the
//! in-memory store with every invariant checked after each block.

use governance_contracts::Rejection;
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::ids::Weight;
use governance_contracts::state::tables::{ACCOUNTS, MEMBERS, NODES, PROPOSALS};
use governance_contracts::testkit::{TestChain, account, member, node, public};
use governance_contracts::types::{Action, Event, MemberStatus, NewAccount, NodeKind, Outcome, Payload, Principal};

fn applied(receipt: &governance_contracts::types::Receipt) {
    assert_eq!(receipt.outcome, Outcome::Applied, "receipt: {receipt:?}");
}

/// Admitting a member needs two thirds of active weight: 2 of 4 governors are not enough, 3 are.
#[test]
fn admitting_a_member_needs_two_thirds() {
    let mut chain = TestChain::with_members(4);
    let admit = Action::AdmitMember {
        member: member("newco"),
        name: BoundedString::try_new("NewCo").unwrap(),
        weight: Weight(1),
        governors: BoundedVec::try_new(vec![NewAccount { account: account("newco-gov"), key: public("newco-gov") }])
            .unwrap(),
    };
    let (id, receipt) = chain.propose("m0-gov", vec![admit], &["m0-gov", "m1-gov"]);
    applied(&receipt);
    assert!(!TestChain::executed(&receipt));
    assert!(MEMBERS.get(&chain.store, &member("newco")).unwrap().is_none());
    let proposal = PROPOSALS.get(&chain.store, &id).unwrap().unwrap().proposal;
    let approval = chain.approval(&proposal, "m2-gov");
    let tx = chain.account_tx(
        "m2-gov",
        Payload::Approve { proposal: id, approvals: BoundedVec::try_new(vec![approval]).unwrap() },
    );
    let receipt = chain.apply(tx);
    applied(&receipt);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let record = MEMBERS.get(&chain.store, &member("newco")).unwrap().unwrap();
    assert_eq!(record.status, MemberStatus::Active);
    assert!(ACCOUNTS.get(&chain.store, &account("newco-gov")).unwrap().is_some());
}

/// One compliance officer freezes an ordinary account at once, and the frozen account's transactions are refused.
#[test]
fn compliance_freezes_an_ordinary_account() {
    let mut chain = TestChain::with_members(4);
    let (_, receipt) =
        chain.propose("m0-compliance", vec![Action::FreezeAccount { account: account("m1-ops") }], &["m0-compliance"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let proposal = chain
        .proposal(Principal::Account(account("m1-ops")), vec![Action::FreezeAccount { account: account("m2-ops") }]);
    let tx = chain.account_tx("m1-ops", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    let receipt = chain.apply(tx);
    assert_eq!(receipt.outcome, Outcome::Rejected { reason: Rejection::AccountFrozen { account: account("m1-ops") } });
}

/// Promoting an attested observer within the fault-tolerance budget makes it a sealer in the next validator set.
#[test]
fn attested_observer_is_promoted() {
    // Seven members, so that m1 holding two of eight sealers stays under a third (no concentration rule).
    let mut chain = TestChain::with_members(7);
    let admit = Action::AdmitNode {
        node: node("n9"),
        owner: member("m1"),
        key: public("n9"),
        address: BoundedString::try_new("127.0.0.1:26999").unwrap(),
    };
    let govs = TestChain::governors(5);
    let govs: Vec<&str> = govs.iter().map(String::as_str).collect();
    let (_, receipt) = chain.propose("m0-gov", vec![admit], &govs);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let promote = Action::PromoteNode { node: node("n9"), weight: Weight(1), override_fault_tolerance: false };
    let (_, receipt) = chain.propose("m0-gov", vec![promote.clone()], &govs);
    assert!(
        receipt
            .events
            .iter()
            .any(|e| matches!(e, Event::ProposalFailed { reason: Rejection::ReadinessMissing { .. }, .. })),
        "{receipt:?}"
    );
    let tx = chain.node_tx("n9", Payload::AttestReadiness { synced_height: chain.height });
    applied(&chain.apply(tx));
    let (_, receipt) = chain.propose("m0-gov", vec![promote], &govs);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert_eq!(NODES.get(&chain.store, &node("n9")).unwrap().unwrap().kind, NodeKind::Sealer);
    let set = governance_contracts::execution::validator_set(&chain.store).unwrap();
    assert_eq!(set.validators.len(), 8);
}
