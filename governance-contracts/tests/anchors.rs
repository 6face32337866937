//! A console's audit-trail anchors (`contracts::anchors`), through the real contract code on a [`TestChain`]: who
//! anchors, what a console's account may do besides, that the console role is held alone, that anchors only move
//! forward, and that an anchor is proven against the state root like any record.

use governance_contracts::codec::BoundedVec;
use governance_contracts::contracts::policy;
use governance_contracts::crypto::Digest;
use governance_contracts::error::{Error, Rejection};
use governance_contracts::execution::{self, GenesisError};
use governance_contracts::ids::{Height, ProposalId, RoleId};
use governance_contracts::state::records::AnchorRecord;
use governance_contracts::state::root;
use governance_contracts::state::tables::ANCHORS;
use governance_contracts::testkit::{self, TestChain, account, member, public};
use governance_contracts::types::{
    Action, Event, GenesisAccount, GenesisGrant, Outcome, Payload, Principal, Receipt, RecordKey, RecordValue, Rule,
};

const CONSOLE: &str = "m0-console";

fn head(n: u8) -> Digest {
    Digest::sha256(&[b"audit row", &[n]])
}

fn anchor(seq: u64, n: u8) -> Payload {
    Payload::AnchorAuditTrail { seq, head: head(n) }
}

#[track_caller]
fn assert_applied(receipt: &Receipt) {
    assert_eq!(receipt.outcome, Outcome::Applied, "receipt: {receipt:?}");
}

#[track_caller]
fn assert_rejected(receipt: &Receipt, reason: Rejection) {
    assert_eq!(receipt.outcome, Outcome::Rejected { reason }, "receipt: {receipt:?}");
}

/// The proposal applied but its execution failed with `reason`.
#[track_caller]
fn assert_failed(receipt: &Receipt, id: ProposalId, reason: Rejection) {
    assert_applied(receipt);
    let failed = receipt
        .events
        .iter()
        .any(|e| matches!(e, Event::ProposalFailed { proposal, reason: r, .. } if *proposal == id && *r == reason));
    assert!(failed, "expected ProposalFailed({id}, {reason:?}) in {receipt:?}");
}

fn grant(who: &str, role: RoleId, chain: &TestChain) -> Action {
    Action::GrantRole { account: account(who), role, expires_at: chain.height.plus(10_000), expected: None }
}

/// Four members; m0's governor creates the account `m0-console` and grants it the console role, alone.
fn chain_with_console() -> TestChain {
    let mut chain = TestChain::with_members(4);
    let create = Action::CreateAccount { account: account(CONSOLE), member: member("m0"), key: public(CONSOLE) };
    let (_, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let grant = grant(CONSOLE, RoleId::console(), &chain);
    let (_, receipt) = chain.propose("m0-gov", vec![grant], &["m0-gov"]);
    assert!(TestChain::executed(&receipt), "one governor of the member grants its console role: {receipt:?}");
    chain
}

/// A console anchors its trail: the record holds the member, the row, its hash and the height, the event says so,
/// and the next anchor moves it on.
#[test]
fn a_console_anchors_its_trail() {
    let mut chain = chain_with_console();
    let receipt = chain.apply(chain.account_tx(CONSOLE, anchor(3, 3)));
    assert_applied(&receipt);
    assert_eq!(receipt.events, vec![Event::AuditTrailAnchored { account: account(CONSOLE), seq: 3, head: head(3) }]);
    let expected = AnchorRecord { member: member("m0"), seq: 3, head: head(3), anchored_at: chain.height };
    assert_eq!(ANCHORS.get(&chain.store, &account(CONSOLE)).unwrap(), Some(expected));
    assert_applied(&chain.apply(chain.account_tx(CONSOLE, anchor(4, 4))));
    assert_eq!(ANCHORS.get(&chain.store, &account(CONSOLE)).unwrap().unwrap().seq, 4);
}

/// Anchors only move forward: the same row again, an earlier row, or row 0 as the first, are refused, so a console
/// never anchors its trail shorter than it was.
#[test]
fn an_anchor_must_be_after_the_last() {
    let mut chain = chain_with_console();
    assert_rejected(
        &chain.apply(chain.account_tx(CONSOLE, anchor(0, 0))),
        Rejection::AnchorNotAfter { seq: 0, anchored: 0 },
    );
    assert_applied(&chain.apply(chain.account_tx(CONSOLE, anchor(5, 5))));
    for seq in [5, 2] {
        let receipt = chain.apply(chain.account_tx(CONSOLE, anchor(seq, 9)));
        assert_rejected(&receipt, Rejection::AnchorNotAfter { seq, anchored: 5 });
    }
    assert_eq!(ANCHORS.get(&chain.store, &account(CONSOLE)).unwrap().unwrap().head, head(5));
}

/// Only an account holding the console role anchors: not a governor, an operator or an auditor, not a node, and
/// not the console once its role is revoked, while its last anchor stays on record.
#[test]
fn only_a_console_anchors() {
    let mut chain = chain_with_console();
    for who in ["m0-gov", "m0-ops", "m0-auditor"] {
        let receipt = chain.apply(chain.account_tx(who, anchor(1, 1)));
        assert_rejected(&receipt, Rejection::NotAConsole { account: account(who) });
    }
    let receipt = chain.apply(chain.node_tx("n0", anchor(1, 1)));
    assert_rejected(&receipt, Rejection::WrongSender { principal: Principal::Node(testkit::node("n0")) });

    assert_applied(&chain.apply(chain.account_tx(CONSOLE, anchor(1, 1))));
    let revoke = Action::RevokeRole { account: account(CONSOLE), role: RoleId::console() };
    let (_, receipt) = chain.propose("m0-gov", vec![revoke], &["m0-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let receipt = chain.apply(chain.account_tx(CONSOLE, anchor(2, 2)));
    assert_rejected(&receipt, Rejection::NotAConsole { account: account(CONSOLE) });
    assert_eq!(ANCHORS.get(&chain.store, &account(CONSOLE)).unwrap().unwrap().seq, 1);
}

/// A console's account anchors and rotates its own key, and does nothing else: it cannot submit, approve, execute
/// or cancel a proposal or report a key, and an approval it signs is refused, however it arrives.
#[test]
fn a_console_does_nothing_but_anchor() {
    let mut chain = chain_with_console();
    let refused = Rejection::ConsoleAnchorsOnly { account: account(CONSOLE) };
    let proposal =
        chain.proposal(Principal::Account(account(CONSOLE)), vec![grant("m0-ops", RoleId::auditor(), &chain)]);
    let id = proposal.id(&chain.chain);
    let submit = Payload::SubmitProposal { proposal: proposal.clone(), approvals: BoundedVec::new() };
    for payload in [
        submit,
        Payload::Approve { proposal: id, approvals: BoundedVec::new() },
        Payload::RevokeApproval { proposal: id },
        Payload::ExecuteProposal { proposal: id },
        Payload::CancelProposal { proposal: id },
        Payload::MarkKeyCompromised { account: account(CONSOLE), key: public(CONSOLE), replacement: None },
    ] {
        assert_rejected(&chain.apply(chain.account_tx(CONSOLE, payload)), refused.clone());
    }

    // Its approval, relayed by a governor, counts for nothing and is refused at the door.
    let freeze = Action::FreezeAccount { account: account("m1-ops") };
    let proposal = chain.proposal(Principal::Account(account("m0-gov")), vec![freeze]);
    let approvals = BoundedVec::try_new(vec![chain.approval(&proposal, CONSOLE)]).unwrap();
    let receipt = chain.apply(chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals }));
    assert_rejected(&receipt, Rejection::ApproverNotEligible { approver: account(CONSOLE) });

    // Its own key rotation goes through, and the new key anchors.
    let proof = chain.key_proof(Principal::Account(account(CONSOLE)), Some(public(CONSOLE)), "m0-console-2");
    assert_applied(&chain.apply(chain.account_tx(CONSOLE, Payload::RotateAccountKey { proof })));
    let tx = chain.tx_with_key(Principal::Account(account(CONSOLE)), "m0-console-2", anchor(1, 1));
    assert_applied(&chain.apply(tx));
}

/// The console role is held alone: it is not granted to a governor or to a holder of another role, no other role
/// is granted to a console, and a console is never made a governor. No policy rule may name it.
#[test]
fn the_console_role_is_held_alone() {
    let mut chain = chain_with_console();
    let exclusive = |who: &str| Rejection::ConsoleRoleExclusive { account: account(who) };
    // m0-clerk, an account with no role, becomes m0's second governor.
    let create = Action::CreateAccount { account: account("m0-clerk"), member: member("m0"), key: public("m0-clerk") };
    let (_, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let expected = BoundedVec::try_new(vec![account("m0-gov")]).unwrap();
    let governors = BoundedVec::try_new(vec![account("m0-gov"), account("m0-clerk")]).unwrap();
    let replace = Action::ReplaceGovernors { member: member("m0"), expected, governors };
    let (_, receipt) = chain.propose("m1-gov", vec![replace], &["m1-gov", "m2-gov", "m3-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    for who in ["m0-clerk", "m0-ops", "m0-compliance"] {
        let (id, receipt) = chain.propose("m0-gov", vec![grant(who, RoleId::console(), &chain)], &["m0-gov"]);
        assert_failed(&receipt, id, exclusive(who));
    }
    let govs3 = ["m0-gov", "m1-gov", "m2-gov"];
    let (id, receipt) = chain.propose("m0-gov", vec![grant(CONSOLE, RoleId::operator(), &chain)], &govs3);
    assert_failed(&receipt, id, exclusive(CONSOLE));

    let expected = BoundedVec::try_new(vec![account("m0-gov"), account("m0-clerk")]).unwrap();
    let governors = BoundedVec::try_new(vec![account("m0-gov"), account(CONSOLE)]).unwrap();
    let replace = Action::ReplaceGovernors { member: member("m0"), expected, governors };
    let (id, receipt) = chain.propose("m1-gov", vec![replace], &["m1-gov", "m2-gov", "m3-gov"]);
    assert_failed(&receipt, id, exclusive(CONSOLE));

    let naming = policy::validate_rule(&chain.store, &Rule::role(RoleId::console(), true));
    assert!(matches!(naming, Err(Error::Rejected(Rejection::InvalidRule { .. }))), "{naming:?}");
}

/// Granting the console role takes a governor of the account's own member: another member's governor does not
/// count.
#[test]
fn another_members_governor_cannot_grant_a_console() {
    let mut chain = TestChain::with_members(4);
    let create = Action::CreateAccount { account: account(CONSOLE), member: member("m0"), key: public(CONSOLE) };
    let (_, receipt) = chain.propose("m0-gov", vec![create], &["m0-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let (_, receipt) = chain.propose("m1-gov", vec![grant(CONSOLE, RoleId::console(), &chain)], &["m1-gov"]);
    assert_rejected(&receipt, Rejection::ApproverNotEligible { approver: account("m1-gov") });
}

/// A genesis granting the console role to a governor, or a second role to a console, is refused.
#[test]
fn a_genesis_keeps_the_console_role_alone() {
    let mut genesis = testkit::genesis(2);
    let far = Height(1_000);
    let mut grants = genesis.grants.to_vec();
    grants.push(GenesisGrant { account: account("m0-gov"), role: RoleId::console(), expires_at: far });
    genesis.grants = BoundedVec::try_new(grants).unwrap();
    let refused = Rejection::ConsoleRoleExclusive { account: account("m0-gov") };
    assert!(matches!(execution::apply_genesis(&genesis), Err(GenesisError::Invalid(r)) if r == refused));

    let mut genesis = testkit::genesis(2);
    let mut accounts = genesis.accounts.to_vec();
    accounts.push(GenesisAccount { account: account(CONSOLE), member: member("m0"), key: public(CONSOLE) });
    genesis.accounts = BoundedVec::try_new(accounts).unwrap();
    let mut grants = genesis.grants.to_vec();
    grants.push(GenesisGrant { account: account(CONSOLE), role: RoleId::console(), expires_at: far });
    genesis.grants = BoundedVec::try_new(grants.clone()).unwrap();
    assert!(execution::apply_genesis(&genesis).is_ok(), "a console alone is fine");
    grants.push(GenesisGrant { account: account(CONSOLE), role: RoleId::auditor(), expires_at: far });
    genesis.grants = BoundedVec::try_new(grants).unwrap();
    let refused = Rejection::ConsoleRoleExclusive { account: account(CONSOLE) };
    assert!(matches!(execution::apply_genesis(&genesis), Err(GenesisError::Invalid(r)) if r == refused));
}

/// An anchor is a state record like any other: proven against the state root, it decodes as the anchor.
#[test]
fn an_anchor_is_proven_against_the_state_root() {
    let mut chain = chain_with_console();
    let outcome = chain.apply_block(vec![chain.account_tx(CONSOLE, anchor(7, 7))]);
    let record = RecordKey::Anchor { account: account(CONSOLE) };
    let (table, key) = record.location();
    let proof = root::prove(&chain.store, table, &key, chain.height).unwrap().unwrap();
    proof.verify(&outcome.state_root).unwrap();
    let Ok(RecordValue::Anchor(value)) = record.decode_value(proof.value.as_deref().unwrap()) else {
        panic!("an anchor record")
    };
    assert_eq!((value.seq, value.head, value.member), (7, head(7), member("m0")));
}

/// The invariants catch a console's account that also holds another role or governs, and an anchor recorded for
/// an account of another member, written past the contracts.
#[test]
fn the_invariants_catch_a_console_not_alone() {
    use governance_contracts::codec::encode;
    use governance_contracts::invariants::{InvariantViolation, check};
    use governance_contracts::state::TableKey as _;
    use governance_contracts::state::records::Grant;
    use governance_contracts::state::tables::GRANTS;

    let chain = chain_with_console();
    assert_eq!(check(&chain.store), Ok(()));
    let broken = |detail: &str| Err(InvariantViolation::ConsoleAnchors { detail: detail.to_owned() });

    let mut store = chain.store.clone();
    let key = (account(CONSOLE), RoleId::auditor());
    let value = Grant { expires_at: Height(100), granted_at: Height(1) };
    store.put_raw(GRANTS.id(), key.to_key_bytes(), encode(&value));
    assert_eq!(check(&store), broken("m0-console holds the console role and auditor"));

    let mut store = chain.store.clone();
    let record = AnchorRecord { member: member("m1"), seq: 1, head: head(1), anchored_at: Height(1) };
    store.put_raw(ANCHORS.id(), account(CONSOLE).to_key_bytes(), encode(&record));
    assert_eq!(check(&store), broken("the anchor of m0-console names member m1, not its account's"));
}
