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

/// Admitting a member needs two thirds of active weight: 2 of 4 governors are not enough (the tally shows 2 of 4
/// and the two members still to approve), 3 are.
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
    let tally = governance_contracts::execution::tally(&chain.store, &id).unwrap().unwrap();
    let weight = tally.iter().find(|t| t.kind == governance_contracts::types::ActionKind::AdmitMember).unwrap();
    assert!(!weight.met);
    assert_eq!((weight.approved_weight, weight.seated_weight), (2, 4));
    let waiting: Vec<String> = weight.candidates.iter().map(|c| c.member.to_string()).collect();
    assert_eq!(waiting, ["m2", "m3"]);
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

/// The receipt that executes a proposal records its verdict as judged before its actions apply: the three
/// governors whose approvals counted, each with their member's weight, and the admission rule met by 3 of the 4
/// seated weight (not of the 5 seated once the new member is in), so the decision can be read back unchanged later.
#[test]
fn an_executed_proposals_receipt_records_the_verdict_it_was_judged_by() {
    let mut chain = TestChain::with_members(4);
    let admit = Action::AdmitMember {
        member: member("newco"),
        name: BoundedString::try_new("NewCo").unwrap(),
        weight: Weight(1),
        governors: BoundedVec::try_new(vec![NewAccount { account: account("newco-gov"), key: public("newco-gov") }])
            .unwrap(),
    };
    let (id, receipt) = chain.propose("m0-gov", vec![admit], &["m0-gov", "m1-gov", "m2-gov"]);
    applied(&receipt);
    let verdict = receipt
        .events
        .iter()
        .find_map(|e| match e {
            Event::ProposalExecuted { proposal, verdict } if *proposal == id => Some(verdict.clone()),
            _ => None,
        })
        .expect("the proposal executed in this receipt");
    let voters: Vec<(String, String, bool, u64)> = verdict
        .approvals
        .iter()
        .map(|v| (v.account.to_string(), v.member.to_string(), v.governor, v.weight.0))
        .collect();
    assert_eq!(
        voters,
        [
            ("m0-gov".to_owned(), "m0".to_owned(), true, 1),
            ("m1-gov".to_owned(), "m1".to_owned(), true, 1),
            ("m2-gov".to_owned(), "m2".to_owned(), true, 1)
        ]
    );
    let rule = verdict
        .requirements
        .iter()
        .find(|r| r.kind == governance_contracts::types::ActionKind::AdmitMember)
        .expect("the admission rule is recorded");
    assert!(rule.met);
    assert_eq!((rule.approved_weight, rule.seated_weight), (3, 4));
    assert!(MEMBERS.get(&chain.store, &member("newco")).unwrap().is_some(), "the member is admitted");
}

/// One compliance officer freezes an ordinary account of its own member at once, and the frozen account's
/// transactions are refused.
#[test]
fn compliance_freezes_an_ordinary_account() {
    let mut chain = TestChain::with_members(4);
    let freeze = vec![Action::FreezeAccount { account: account("m0-auditor") }];
    let (_, receipt) = chain.propose("m0-compliance", freeze, &["m0-compliance"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let proposal = chain.proposal(
        Principal::Account(account("m0-auditor")),
        vec![Action::FreezeAccount { account: account("m2-ops") }],
    );
    let tx = chain.account_tx("m0-auditor", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    let receipt = chain.apply(tx);
    let frozen = Rejection::AccountFrozen { account: account("m0-auditor") };
    assert_eq!(receipt.outcome, Outcome::Rejected { reason: frozen });
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

fn gov_refs(n: usize) -> Vec<String> {
    TestChain::governors(n)
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A node rotates its key by a proposal it submits itself, approved by its owner's operator; afterwards the old key
/// is refused at the handshake and the new one admitted, and the validator set carries the new key.
#[test]
fn node_key_rotation_by_node_and_operator() {
    use governance_contracts::execution::{Refusal, may_connect, validator_set};
    let mut chain = TestChain::with_members(4);
    let proof = chain.key_proof(Principal::Node(node("n1")), Some(public("n1")), "n1-next");
    let proposal = chain.proposal(Principal::Node(node("n1")), vec![Action::RotateNodeKey { node: node("n1"), proof }]);
    let approval = chain.approval(&proposal, "m1-ops");
    let tx = chain
        .node_tx("n1", Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() });
    let receipt = chain.apply(tx);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert!(matches!(may_connect(&chain.store, &public("n1")).unwrap(), Err(Refusal::Retired(_))));
    assert_eq!(may_connect(&chain.store, &public("n1-next")).unwrap(), Ok(node("n1")));
    let set = validator_set(&chain.store).unwrap();
    assert_eq!(set.get(&node("n1")).unwrap().key, public("n1-next"));
}

/// A removed node's key is refused at the handshake naming the removal, not merely as a retired key, whether the
/// committee removed the node or expelled its owner; the other nodes stay admitted.
#[test]
fn a_removed_nodes_key_is_refused_as_removed() {
    use governance_contracts::execution::{Refusal, may_connect};
    let mut chain = TestChain::with_members(5);
    let governors = gov_refs(5);
    let (_, receipt) = chain.propose(
        &governors[0],
        vec![Action::RemoveNode { node: node("n4"), override_fault_tolerance: false }],
        &refs(&governors[..4]),
    );
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert_eq!(may_connect(&chain.store, &public("n4")).unwrap(), Err(Refusal::Removed(node("n4"))));
    assert_eq!(may_connect(&chain.store, &public("n1")).unwrap(), Ok(node("n1")));

    // An expelled member's node (demoted first) is removed with it.
    let mut chain = TestChain::with_members(5);
    let (_, receipt) = chain.propose(
        &governors[0],
        vec![Action::DemoteNode { node: node("n3"), override_fault_tolerance: false }],
        &refs(&governors[..4]),
    );
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    // Expulsion asks 3/4 of the seated weight, the target's own approval left out: the four others.
    let others: Vec<&str> = [0, 1, 2, 4].iter().map(|i| governors[*i].as_str()).collect();
    let (_, receipt) = chain.propose(&governors[0], vec![Action::ExpelMember { member: member("m3") }], &others);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert_eq!(may_connect(&chain.store, &public("n3")).unwrap(), Err(Refusal::Removed(node("n3"))));
}

/// An operator of another member cannot approve a node's rotation: the proposal stays unexecuted.
#[test]
fn node_key_rotation_needs_the_owners_operator() {
    let mut chain = TestChain::with_members(4);
    let proof = chain.key_proof(Principal::Node(node("n1")), Some(public("n1")), "n1-next");
    let proposal = chain.proposal(Principal::Node(node("n1")), vec![Action::RotateNodeKey { node: node("n1"), proof }]);
    let approval = chain.approval(&proposal, "m2-ops");
    let tx = chain
        .node_tx("n1", Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() });
    let receipt = chain.apply(tx);
    assert_eq!(
        receipt.outcome,
        Outcome::Rejected { reason: Rejection::ApproverNotEligible { approver: account("m2-ops") } }
    );
}

/// Approvals made before a routine rotation still count; after the old key is marked compromised they do not.
#[test]
fn approvals_survive_routine_rotation_but_not_compromise() {
    for compromise in [false, true] {
        let mut chain = TestChain::with_members(4);
        let action = Action::SetMemberWeight { member: member("m3"), expected: Weight(1), weight: Weight(2) };
        let (id, receipt) = chain.propose("m0-gov", vec![action], &["m0-gov", "m1-gov"]);
        applied(&receipt);
        // m1's governor rotates its key routinely.
        let proof = chain.key_proof(Principal::Account(account("m1-gov")), Some(public("m1-gov")), "m1-gov-2");
        applied(&chain.apply(chain.account_tx("m1-gov", Payload::RotateAccountKey { proof })));
        if compromise {
            // The retired key leaks: m1's governor revokes it with its new key.
            let tx = chain.tx_with_key(
                Principal::Account(account("m1-gov")),
                "m1-gov-2",
                Payload::MarkKeyCompromised { account: account("m1-gov"), key: public("m1-gov"), replacement: None },
            );
            applied(&chain.apply(tx));
        }
        let proposal = PROPOSALS.get(&chain.store, &id).unwrap().unwrap().proposal;
        let approval = chain.approval(&proposal, "m2-gov");
        let tx = chain.account_tx(
            "m2-gov",
            Payload::Approve { proposal: id, approvals: BoundedVec::try_new(vec![approval]).unwrap() },
        );
        let receipt = chain.apply(tx);
        applied(&receipt);
        assert_eq!(TestChain::executed(&receipt), !compromise, "compromise={compromise}: {receipt:?}");
    }
}

/// A suspended member's approvals stop counting while its weight stays in the denominator: two of the three
/// remaining members cannot pass a two-thirds rule (reinstating it), the suspended member's approval adds nothing,
/// and all three remaining members can.
#[test]
fn suspended_members_approvals_stop_counting() {
    let mut chain = TestChain::with_members(4);
    let govs = gov_refs(3);
    let (_, receipt) = chain.propose("m0-gov", vec![Action::SuspendMember { member: member("m3") }], &refs(&govs));
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let reinstate = Action::ReinstateMember { member: member("m3") };
    for approvers in [&["m0-gov", "m1-gov"][..], &["m0-gov", "m1-gov", "m3-gov"][..]] {
        let (id, receipt) = chain.propose("m0-gov", vec![reinstate.clone()], approvers);
        assert!(!TestChain::executed(&receipt), "{approvers:?}: {receipt:?}");
        let tally = governance_contracts::execution::tally(&chain.store, &id).unwrap().unwrap();
        assert_eq!((tally[0].approved_weight, tally[0].seated_weight), (2, 4), "{approvers:?}");
    }
    let (_, receipt) = chain.propose("m0-gov", vec![reinstate], &refs(&govs));
    assert!(TestChain::executed(&receipt), "{receipt:?}");
}

/// Expelling a member that still runs a sealer beyond the budget is refused with the sealers to demote first.
#[test]
fn expulsion_names_the_sealers_to_demote_first() {
    let mut chain = TestChain::with_members(4);
    // Use up the block's one unit of sealer budget so that removing m3's sealer would exceed it.
    let demote = Action::DemoteNode { node: node("n2"), override_fault_tolerance: false };
    let expel = Action::ExpelMember { member: member("m3") };
    let govs = gov_refs(3);
    let (_, receipt) = chain.propose("m0-gov", vec![demote, expel], &refs(&govs));
    let failed = receipt.events.iter().find_map(|e| match e {
        Event::ProposalFailed { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert!(
        matches!(failed, Some(Rejection::ExpulsionNeedsSealerChanges { ref member, .. }) if member == &governance_contracts::testkit::member("m3")),
        "{receipt:?}"
    );
    assert_eq!(MEMBERS.get(&chain.store, &member("m3")).unwrap().unwrap().status, MemberStatus::Active);
}

/// A member whose sealer was demoted first is expelled: governors gone, accounts frozen, nodes removed.
#[test]
fn expulsion_after_demotion() {
    let mut chain = TestChain::with_members(4);
    let govs = gov_refs(3);
    let (_, receipt) = chain.propose(
        "m0-gov",
        vec![Action::DemoteNode { node: node("n3"), override_fault_tolerance: false }],
        &refs(&govs),
    );
    // Three sealers of one weight each tolerate no fault; the drop from F=1 to F=0 needs the override.
    assert!(
        receipt
            .events
            .iter()
            .any(|e| matches!(e, Event::ProposalFailed { reason: Rejection::FaultToleranceReduced { .. }, .. })),
        "{receipt:?}"
    );
    let mut chain = TestChain::with_members(7);
    // Expulsion asks 3/4 of the seated weight (5.25 of 7), the target's own approval left out: the six others.
    let govs = gov_refs(6);
    let (_, receipt) = chain.propose(
        "m0-gov",
        vec![Action::DemoteNode { node: node("n6"), override_fault_tolerance: false }],
        &refs(&govs),
    );
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let (_, receipt) = chain.propose("m0-gov", vec![Action::ExpelMember { member: member("m6") }], &refs(&govs));
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let record = MEMBERS.get(&chain.store, &member("m6")).unwrap().unwrap();
    assert_eq!(record.status, MemberStatus::Expelled);
    assert!(record.governors.is_empty());
    assert!(ACCOUNTS.get(&chain.store, &account("m6-ops")).unwrap().unwrap().frozen);
    assert!(NODES.get(&chain.store, &node("n6")).unwrap().is_none());
}

/// A dry run reports the sealer set's fault tolerance before and after, and writes nothing.
#[test]
fn dry_run_shows_fault_tolerance_before_and_after() {
    let chain = TestChain::with_members(7);
    let proposal = {
        let mut c = TestChain::with_members(7);
        c.proposal(
            Principal::Account(account("m0-gov")),
            vec![Action::DemoteNode { node: node("n6"), override_fault_tolerance: false }],
        )
    };
    let before = chain.store.clone();
    let run = governance_contracts::execution::dry_run(&chain.store, &proposal).unwrap();
    assert_eq!(run.receipt.outcome, Outcome::Applied);
    assert!(
        run.receipt.events.contains(&Event::SealerSetChanged {
            total_before: Weight(7),
            total_after: Weight(6),
            fault_tolerance_before: Weight(2),
            fault_tolerance_after: Weight(1),
        }),
        "{:?}",
        run.receipt.events
    );
    assert_eq!(chain.store, before);
}

/// A policy change waits for its delay, then applies on an explicit ExecuteProposal.
#[test]
fn policy_change_waits_for_its_delay() {
    use governance_contracts::state::tables::POLICY;
    use governance_contracts::types::{ActionKind, Rule};
    let mut chain = TestChain::with_members(4);
    let current = POLICY.get(&chain.store, &ActionKind::AdmitNode).unwrap();
    let action =
        Action::SetPolicyRule { kind: ActionKind::AdmitNode, expected: current, rule: Rule::weight(3, 4, false, 0) };
    let govs = gov_refs(3);
    let (id, receipt) = chain.propose("m0-gov", vec![action], &refs(&govs));
    let ready_at = receipt
        .events
        .iter()
        .find_map(|e| match e {
            Event::ProposalQueued { ready_at, .. } => Some(*ready_at),
            _ => None,
        })
        .expect("queued");
    let early = chain.apply(chain.account_tx("m0-gov", Payload::ExecuteProposal { proposal: id }));
    assert_eq!(early.outcome, Outcome::Rejected { reason: Rejection::DelayNotElapsed { ready_at } });
    while chain.height.plus(1) < ready_at {
        chain.apply_block(vec![]);
    }
    let receipt = chain.apply(chain.account_tx("m1-gov", Payload::ExecuteProposal { proposal: id }));
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert_eq!(POLICY.get(&chain.store, &ActionKind::AdmitNode).unwrap(), Some(Rule::weight(3, 4, false, 0)));
}

/// Twenty-one observers with ids of mixed lengths and characters (`z`, `0`, `n10`, `beijing-2`, a 64-character
/// id, ...), promoted one by one beside five founding sealers, make a validator set ascending by id, as consensus
/// requires: `ValidatorSet::get` finds every sealer with its key, and a commit certificate signed by all
/// twenty-six verifies. The nodes table's key order (length first) is not id order, so a set taken in that order
/// fails each of these.
#[test]
fn sealers_with_mixed_ids_make_an_ascending_set_that_verifies_certificates() {
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{BlockHash, Height, NodeId};
    use governance_contracts::testkit::{genesis_with_node_ids, mixed_node_ids, secret};
    use governance_contracts::types::{
        BlockHeader, CommitCertificate, CommitSignature, ConsensusVote, VoteKind, verify_certificate,
    };

    let ids = mixed_node_ids(26);
    // The founders' ids have one length, so their table order and id order agree; the promotions break that.
    let founders: Vec<&String> = ids.iter().filter(|id| id.len() == 2).collect();
    assert_eq!(founders.len(), 5);
    let mut genesis = genesis_with_node_ids(&ids);
    let mut nodes = genesis.nodes.clone().into_inner();
    for listed in nodes.iter_mut().filter(|n| n.node.as_str().len() != 2) {
        listed.kind = NodeKind::Observer;
        listed.weight = Weight(0);
    }
    genesis.nodes = BoundedVec::try_new(nodes).unwrap();
    let mut chain = TestChain::new(genesis);
    let governors = gov_refs(ids.len());
    let promoted: Vec<&String> = ids.iter().filter(|id| id.len() != 2).collect();
    let attestations =
        promoted.iter().map(|id| chain.node_tx(id, Payload::AttestReadiness { synced_height: Height(0) })).collect();
    for receipt in chain.apply_block(attestations).receipts {
        applied(&receipt);
    }
    for id in &promoted {
        let promote = Action::PromoteNode { node: node(id), weight: Weight(1), override_fault_tolerance: false };
        let (_, receipt) = chain.propose(&governors[0], vec![promote], &refs(&governors));
        assert!(TestChain::executed(&receipt), "promoting {id}: {receipt:?}");
    }

    let set = governance_contracts::execution::validator_set(&chain.store).unwrap();
    let listed: Vec<&str> = set.validators.iter().map(|v| v.node.as_str()).collect();
    let mut sorted: Vec<NodeId> = ids.iter().map(|id| node(id)).collect();
    sorted.sort();
    assert_eq!(listed, sorted.iter().map(NodeId::as_str).collect::<Vec<_>>(), "not in ascending id order");
    assert_eq!(set.first_out_of_order(), None);
    for id in &ids {
        let found = set.get(&node(id)).unwrap_or_else(|| panic!("ValidatorSet::get misses {id}"));
        assert_eq!(found.key, public(id), "{id}");
    }

    let header = BlockHeader {
        height: Height(chain.height.0 + 1),
        parent: BlockHash(Digest::ZERO),
        state_root: Digest::ZERO,
        transactions_root: Digest::ZERO,
        receipts_root: Digest::ZERO,
        validator_set_hash: set.hash(&chain.chain),
        next_validator_set_hash: set.hash(&chain.chain),
        proposer: node(&ids[0]),
        time_ms: 1,
    };
    let block = header.hash(&chain.chain);
    // Signatures in the fixture's order, not the set's: the verifier looks each signer up.
    let signatures = ids
        .iter()
        .map(|id| {
            let vote = ConsensusVote {
                height: header.height,
                round: 0,
                kind: VoteKind::Precommit,
                block: Some(block),
                voter: node(id),
            };
            CommitSignature { node: node(id), signature: secret(id).sign(&vote.signing_digest(&chain.chain)) }
        })
        .collect();
    let certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block,
        signatures: BoundedVec::try_new(signatures).unwrap(),
    };
    assert_eq!(verify_certificate(&chain.chain, &header, &certificate, &set), Ok(()));
}

/// A removed node's id names no other machine, ever: the committee removes `n4` while a proposal to demote it is
/// still collecting approvals; admitting another member's machine under `n4` with a fresh key is refused as
/// `NodeIdRetired`, and once the old proposal gathers its approvals it acts on nothing (`NodeRemoved`). Were the
/// id free again, the newcomer would inherit that proposal, and with it the removed node's evidence.
#[test]
fn a_removed_nodes_id_is_never_reused_and_its_proposals_act_on_nothing() {
    use governance_contracts::state::records::ProposalStatus;
    use governance_contracts::state::tables::REMOVED_NODES;

    let mut chain = TestChain::with_members(6);
    let governors = gov_refs(6);
    let demote = Action::DemoteNode { node: node("n4"), override_fault_tolerance: false };
    let (stale, receipt) = chain.propose(&governors[0], vec![demote], &refs(&governors[..1]));
    applied(&receipt);
    assert!(!TestChain::executed(&receipt), "{receipt:?}");

    let remove = Action::RemoveNode { node: node("n4"), override_fault_tolerance: false };
    let (_, receipt) = chain.propose(&governors[0], vec![remove], &refs(&governors));
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let removed_at = chain.height;
    let tombstone = REMOVED_NODES.get(&chain.store, &node("n4")).unwrap().expect("the id is kept");
    assert_eq!(
        (tombstone.removed_at, tombstone.last.owner, tombstone.last.key),
        (removed_at, member("m4"), Some(public("n4")))
    );
    assert_eq!(tombstone.last.key_history, vec![public("n4")]);

    // Another member's machine, with a key never seen, under the removed id.
    let newcomer = Action::AdmitNode {
        node: node("n4"),
        owner: member("m1"),
        key: public("n4-another-machine"),
        address: BoundedString::try_new("127.0.0.1:26998").unwrap(),
    };
    let (_, receipt) = chain.propose(&governors[0], vec![newcomer], &refs(&governors));
    let retired = Rejection::NodeIdRetired { node: node("n4"), removed_at };
    assert!(
        receipt.events.iter().any(|e| matches!(e, Event::ProposalFailed { reason, .. } if *reason == retired)),
        "{receipt:?}"
    );
    assert!(NODES.get(&chain.store, &node("n4")).unwrap().is_none());
    let key = governance_contracts::state::tables::KEYS.get(&chain.store, &public("n4-another-machine")).unwrap();
    assert_eq!(key, None, "nothing of the refused admission applied");

    // The demotion drafted for the old n4 gathers its approvals and fails, acting on nothing.
    let proposal = PROPOSALS.get(&chain.store, &stale).unwrap().unwrap().proposal;
    let late: Vec<_> = governors[1..].iter().map(|g| chain.approval(&proposal, g)).collect();
    let tx = chain
        .account_tx(&governors[1], Payload::Approve { proposal: stale, approvals: BoundedVec::try_new(late).unwrap() });
    let receipt = chain.apply(tx);
    applied(&receipt);
    let reason = Rejection::NodeRemoved { node: node("n4"), removed_at };
    let status = PROPOSALS.get(&chain.store, &stale).unwrap().unwrap().status;
    assert_eq!(status, ProposalStatus::Failed { at: chain.height, reason }, "{receipt:?}");
}
