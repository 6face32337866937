//! Every invariant can fire: each test starts from a valid chain, checks it holds, corrupts the state directly
//! (bypassing the contracts, as only a bug could) and watches `invariants::check` name exactly that violation.

use borsh::BorshSerialize;
use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::error::{Rejection, detail};
use governance_contracts::execution::validator_set;
use governance_contracts::ids::{Height, RoleId, Weight};
use governance_contracts::invariants::{InvariantViolation, check, check_validator_set};
use governance_contracts::state::records::{Grant, KeyStatus, RemovedNode};
use governance_contracts::state::tables::{
    ACCOUNTS, GRANTS, KEYS, MEMBERS, NODES, PARAMS, POLICY, REMOVED_NODES, ROLES,
};
use governance_contracts::state::{MemoryStore, Table, TableKey};
use governance_contracts::testkit::{TestChain, account, genesis_with_node_ids, member, mixed_node_ids, node, public};
use governance_contracts::types::{
    ActionKind, ChainParams, MAX_GRANT_BLOCKS, MemberStatus, NodeKind, Principal, RoleDefinition, RoleScope, Rule,
    Validator, ValidatorSet,
};

/// A chain of `members` members with a few blocks applied, on which every invariant holds.
fn valid_chain(members: usize) -> TestChain {
    let mut chain = TestChain::with_members(members);
    chain.apply_block(vec![]);
    chain.apply_block(vec![]);
    assert_eq!(check(&chain.store), Ok(()));
    chain
}

/// Writes `value` under `key` in `table`, bypassing the contracts.
fn put<K: TableKey, V: BorshSerialize>(store: &mut MemoryStore, table: &Table<K, V>, key: &K, value: &V) {
    store.put_raw(table.id(), key.to_key_bytes(), encode(value));
}

/// Deletes `key` from `table`, bypassing the contracts.
fn delete<K: TableKey, V>(store: &mut MemoryStore, table: &Table<K, V>, key: &K) {
    store.delete_raw(table.id(), &key.to_key_bytes());
}

fn governors(ids: &[&str]) -> BoundedVec<governance_contracts::ids::AccountId, 16> {
    BoundedVec::try_new(ids.iter().map(|id| account(id)).collect()).expect("at most 16")
}

/// An active member whose governor list is empty breaks `ActiveMemberWithoutGovernor`.
#[test]
fn active_member_without_governor() {
    let mut chain = valid_chain(4);
    let mut record = MEMBERS.get(&chain.store, &member("m1")).unwrap().unwrap();
    record.governors = BoundedVec::new();
    put(&mut chain.store, &MEMBERS, &member("m1"), &record);
    assert_eq!(check(&chain.store), Err(InvariantViolation::ActiveMemberWithoutGovernor { member: member("m1") }));
    // A suspended member without governors is not a violation of this invariant.
    record.status = MemberStatus::Suspended;
    put(&mut chain.store, &MEMBERS, &member("m1"), &record);
    assert_eq!(check(&chain.store), Ok(()));
}

/// A governor that is another member's account, or no account at all, breaks `GovernorNotOfMember`.
#[test]
fn governor_not_of_member() {
    let mut chain = valid_chain(4);
    let original = MEMBERS.get(&chain.store, &member("m1")).unwrap().unwrap();
    let mut record = original.clone();
    record.governors = governors(&["m1-gov", "m0-ops"]);
    put(&mut chain.store, &MEMBERS, &member("m1"), &record);
    let expected = InvariantViolation::GovernorNotOfMember { member: member("m1"), account: account("m0-ops") };
    assert_eq!(check(&chain.store), Err(expected));
    record.governors = governors(&["ghost"]);
    put(&mut chain.store, &MEMBERS, &member("m1"), &record);
    let expected = InvariantViolation::GovernorNotOfMember { member: member("m1"), account: account("ghost") };
    assert_eq!(check(&chain.store), Err(expected));
    put(&mut chain.store, &MEMBERS, &member("m1"), &original);
    assert_eq!(check(&chain.store), Ok(()));
}

/// Suspending every member breaks `NoActiveMember`; one active member is enough.
#[test]
fn no_active_member() {
    let mut chain = valid_chain(3);
    for (i, id) in ["m0", "m1", "m2"].into_iter().enumerate() {
        assert_eq!(check(&chain.store), Ok(()), "{i} members suspended so far");
        let mut record = MEMBERS.get(&chain.store, &member(id)).unwrap().unwrap();
        record.status = MemberStatus::Suspended;
        put(&mut chain.store, &MEMBERS, &member(id), &record);
    }
    assert_eq!(check(&chain.store), Err(InvariantViolation::NoActiveMember));
}

/// A kind without a policy rule breaks `MissingPolicyRule` naming that kind.
#[test]
fn missing_policy_rule() {
    let mut chain = valid_chain(4);
    delete(&mut chain.store, &POLICY, &ActionKind::SetParams);
    assert_eq!(check(&chain.store), Err(InvariantViolation::MissingPolicyRule { kind: ActionKind::SetParams }));
}

/// A rule that cannot be met (a zero threshold, the auditor role, an undefined role) breaks `UnreachableRule`.
#[test]
fn unreachable_rule() {
    let mut chain = valid_chain(4);
    let original = POLICY.get(&chain.store, &ActionKind::AdmitMember).unwrap().unwrap();
    let cases = [
        (Rule::weight(0, 3, false, 0), "invalid policy rule: a threshold needs 0 < numerator <= denominator"),
        (Rule::weight(4, 3, false, 0), "invalid policy rule: a threshold needs 0 < numerator <= denominator"),
        (
            Rule::role(RoleId::auditor(), false),
            "invalid policy rule: the auditor role confers reading only; it cannot approve",
        ),
        (Rule::role(RoleId::new("ghost-role").unwrap(), false), "unknown role ghost-role"),
    ];
    for (rule, text) in cases {
        put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &rule);
        let expected = InvariantViolation::UnreachableRule { kind: ActionKind::AdmitMember, detail: text.to_string() };
        assert_eq!(check(&chain.store), Err(expected), "{rule:?}");
    }
    // The text is the contract's own rejection.
    let invalid = Rejection::InvalidRule { detail: detail("a threshold needs 0 < numerator <= denominator") };
    assert_eq!(invalid.to_string(), "invalid policy rule: a threshold needs 0 < numerator <= denominator");
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &original);
    assert_eq!(check(&chain.store), Ok(()));
}

/// A rule stricter than the `SetPolicy` rule (higher fraction or longer delay), or an electorate kind asking a lower
/// fraction than another weight rule, puts the policy out of shape.
#[test]
fn policy_out_of_shape() {
    let mut chain = valid_chain(4);
    let set_policy = POLICY.get(&chain.store, &ActionKind::SetPolicy).unwrap().unwrap();
    assert_eq!(set_policy, Rule::weight(3, 4, false, 100));
    let out_of_shape = |detail: &str| Err(InvariantViolation::PolicyOutOfShape { detail: detail.to_owned() });
    let weaker_policy = out_of_shape("the set_policy rule must stay at least as strict as the rule for AdmitMember");
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(4, 5, false, 0));
    assert_eq!(check(&chain.store), weaker_policy);
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(2, 3, false, 101));
    assert_eq!(check(&chain.store), weaker_policy);
    // Exactly as strict is fine.
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(3, 4, false, 100));
    assert_eq!(check(&chain.store), Ok(()));
    // Admitting members at 2/3 while re-weighting needs 3/4 would let a 2/3 coalition admit its way up.
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(2, 3, false, 0));
    assert_eq!(
        check(&chain.store),
        out_of_shape("the rule for AdmitMember must ask at least the fraction the rule for SetMemberWeight asks")
    );
    put(&mut chain.store, &POLICY, &ActionKind::SetMemberWeight, &Rule::role(RoleId::compliance(), false));
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(3, 4, false, 0));
    assert_eq!(check(&chain.store), out_of_shape("the rule for SetMemberWeight must be a weight rule"));
}

/// One key current for two accounts breaks `KeyOnTwoOwners`, naming both.
#[test]
fn key_on_two_owners() {
    let mut chain = valid_chain(4);
    let mut record = ACCOUNTS.get(&chain.store, &account("m1-gov")).unwrap().unwrap();
    record.key = Some(public("m0-gov"));
    put(&mut chain.store, &ACCOUNTS, &account("m1-gov"), &record);
    let expected = InvariantViolation::KeyOnTwoOwners {
        key: public("m0-gov"),
        first: Principal::Account(account("m0-gov")),
        second: Principal::Account(account("m1-gov")),
    };
    assert_eq!(check(&chain.store), Err(expected));
}

/// A current key that the registry does not hold as current for its owner breaks `KeyNotCurrentInRegistry`.
#[test]
fn key_not_current_in_registry() {
    let mut chain = valid_chain(4);
    let original = KEYS.get(&chain.store, &public("m1-gov")).unwrap().unwrap();
    let mut record = original.clone();
    record.status = KeyStatus::Retired { at: Height(1) };
    put(&mut chain.store, &KEYS, &public("m1-gov"), &record);
    let expected = InvariantViolation::KeyNotCurrentInRegistry {
        key: public("m1-gov"),
        owner: Principal::Account(account("m1-gov")),
    };
    assert_eq!(check(&chain.store), Err(expected));
    put(&mut chain.store, &KEYS, &public("m1-gov"), &original);
    assert_eq!(check(&chain.store), Ok(()));
    // A node key missing from the registry.
    delete(&mut chain.store, &KEYS, &public("n2"));
    let expected =
        InvariantViolation::KeyNotCurrentInRegistry { key: public("n2"), owner: Principal::Node(node("n2")) };
    assert_eq!(check(&chain.store), Err(expected));
}

fn invalid_holder(account_id: &str, role: RoleId, text: &str) -> InvariantViolation {
    InvariantViolation::InvalidRoleHolder { account: account(account_id), role, detail: text.to_string() }
}

/// A grant of an undefined role, to a missing account, or to an account of an expelled member breaks
/// `InvalidRoleHolder`.
#[test]
fn invalid_role_holder() {
    let grant = Grant { expires_at: Height(1_000), granted_at: Height(1) };
    let ghost_role = RoleId::new("ghost-role").unwrap();

    let mut chain = valid_chain(4);
    put(&mut chain.store, &GRANTS, &(account("m1-ops"), ghost_role.clone()), &grant);
    assert_eq!(check(&chain.store), Err(invalid_holder("m1-ops", ghost_role, "the role is undefined")));

    let mut chain = valid_chain(4);
    put(&mut chain.store, &GRANTS, &(account("ghost"), RoleId::operator()), &grant);
    assert_eq!(check(&chain.store), Err(invalid_holder("ghost", RoleId::operator(), "the account does not exist")));

    let mut chain = valid_chain(4);
    let mut record = MEMBERS.get(&chain.store, &member("m1")).unwrap().unwrap();
    record.status = MemberStatus::Expelled;
    put(&mut chain.store, &MEMBERS, &member("m1"), &record);
    assert_eq!(check(&chain.store), Err(invalid_holder("m1-ops", RoleId::operator(), "its member is expelled")));
}

/// A grant of a member-scoped role to another member's account breaks `InvalidRoleHolder` ("within the role's
/// scope", as the `roles` contract states its invariant).
#[test]
fn invalid_role_holder_outside_the_roles_scope() {
    let mut chain = valid_chain(4);
    let desk = RoleId::new("m1-desk").unwrap();
    let definition = RoleDefinition { scope: RoleScope::Member(member("m1")), delegable: true, max_grant_blocks: 100 };
    put(&mut chain.store, &ROLES, &desk, &definition);
    let grant = Grant { expires_at: Height(50), granted_at: Height(1) };
    put(&mut chain.store, &GRANTS, &(account("m1-ops"), desk.clone()), &grant);
    assert_eq!(check(&chain.store), Ok(()), "a holder within the scope is valid");
    put(&mut chain.store, &GRANTS, &(account("m0-ops"), desk.clone()), &grant);
    let result = check(&chain.store);
    assert!(
        matches!(&result, Err(InvariantViolation::InvalidRoleHolder { account: a, role, .. })
            if a == &account("m0-ops") && role == &desk),
        "{result:?}"
    );
}

/// A grant lasting longer than its role allows from the height it was granted at breaks `InvalidRoleHolder`, and a
/// role allowing grants beyond `MAX_GRANT_BLOCKS` breaks `UnboundedRole`: no grant lasts for ever.
#[test]
fn unbounded_grants() {
    let mut chain = valid_chain(4);
    let limit = ROLES.get(&chain.store, &RoleId::operator()).unwrap().unwrap().max_grant_blocks;
    let grant = Grant { expires_at: Height(10).plus(limit), granted_at: Height(10) };
    put(&mut chain.store, &GRANTS, &(account("m1-ops"), RoleId::operator()), &grant);
    assert_eq!(check(&chain.store), Ok(()), "a grant of exactly the role's limit is valid");
    let grant = Grant { expires_at: Height(11).plus(limit), granted_at: Height(10) };
    put(&mut chain.store, &GRANTS, &(account("m1-ops"), RoleId::operator()), &grant);
    let outlasts = "the grant outlasts the role's max_grant_blocks";
    assert_eq!(check(&chain.store), Err(invalid_holder("m1-ops", RoleId::operator(), outlasts)));

    let mut chain = valid_chain(4);
    let forever = RoleId::new("forever").unwrap();
    let max_grant_blocks = MAX_GRANT_BLOCKS.saturating_add(1);
    let definition = RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks };
    put(&mut chain.store, &ROLES, &forever, &definition);
    assert_eq!(check(&chain.store), Err(InvariantViolation::UnboundedRole { role: forever, max_grant_blocks }));
}

/// A chain whose every sealer is demoted breaks `EmptySealerSet`.
#[test]
fn empty_sealer_set() {
    let mut chain = valid_chain(2);
    for id in ["n0", "n1"] {
        let mut record = NODES.get(&chain.store, &node(id)).unwrap().unwrap();
        record.kind = NodeKind::Observer;
        record.weight = Weight(0);
        put(&mut chain.store, &NODES, &node(id), &record);
    }
    assert_eq!(check(&chain.store), Err(InvariantViolation::EmptySealerSet));
}

/// A sealer with zero weight or without a key breaks `InvalidSealer`.
#[test]
fn invalid_sealer() {
    let mut chain = valid_chain(4);
    let original = NODES.get(&chain.store, &node("n1")).unwrap().unwrap();
    let mut record = original.clone();
    record.weight = Weight(0);
    put(&mut chain.store, &NODES, &node("n1"), &record);
    assert_eq!(check(&chain.store), Err(InvariantViolation::InvalidSealer { node: node("n1") }));
    let mut record = original;
    record.key = None;
    put(&mut chain.store, &NODES, &node("n1"), &record);
    assert_eq!(check(&chain.store), Err(InvariantViolation::InvalidSealer { node: node("n1") }));
}

/// Total sealer weight reaching `u64::MAX / 3` breaks `SealerWeightOverflow`; one less is fine.
#[test]
fn sealer_weight_overflow() {
    let mut chain = valid_chain(4);
    let limit = u64::MAX / 3;
    let mut record = NODES.get(&chain.store, &node("n0")).unwrap().unwrap();
    // The other three sealers weigh 1 each.
    record.weight = Weight(limit.saturating_sub(4));
    put(&mut chain.store, &NODES, &node("n0"), &record);
    assert_eq!(check(&chain.store), Ok(()));
    record.weight = Weight(limit.saturating_sub(3));
    put(&mut chain.store, &NODES, &node("n0"), &record);
    assert_eq!(check(&chain.store), Err(InvariantViolation::SealerWeightOverflow { total: limit }));
}

/// A validator set out of id order, or naming a sealer twice, breaks `ValidatorSetNotAscending`, and so does the set
/// of a chain whose sealer ids differ in length (`z`, `n2`, `n10`, ...) taken in the nodes table's key order; the
/// set the contracts derive from that chain keeps it. (State cannot be corrupted into an unsorted derived set, so
/// the check is fed the sets directly.)
#[test]
fn validator_set_not_ascending() {
    let mut chain = TestChain::new(genesis_with_node_ids(&mixed_node_ids(24)));
    chain.apply_block(vec![]);
    assert_eq!(check(&chain.store), Ok(()));
    let set = validator_set(&chain.store).unwrap();
    assert_eq!(check_validator_set(&set), Ok(()));
    let not_ascending = |validators: Vec<Validator>| {
        check_validator_set(&ValidatorSet { validators: BoundedVec::try_new(validators).unwrap() })
    };

    let mut swapped = set.validators.clone().into_inner();
    swapped.swap(3, 4);
    let expected = InvariantViolation::ValidatorSetNotAscending { node: swapped[4].node.clone() };
    assert_eq!(not_ascending(swapped), Err(expected));

    let mut repeated = set.validators.clone().into_inner();
    repeated.insert(1, repeated[0].clone());
    let expected = InvariantViolation::ValidatorSetNotAscending { node: repeated[0].node.clone() };
    assert_eq!(not_ascending(repeated), Err(expected));

    let table_order: Vec<Validator> = NODES
        .all(&chain.store)
        .unwrap()
        .into_iter()
        .filter_map(|(node, n)| Some(Validator { node, key: n.key?, weight: n.weight }))
        .collect();
    assert!(matches!(not_ascending(table_order), Err(InvariantViolation::ValidatorSetNotAscending { .. })));
}

/// A node admitted under an id that the removed nodes' table keeps breaks `RemovedNodeReadmitted`.
#[test]
fn removed_node_readmitted() {
    let mut chain = valid_chain(4);
    let record = NODES.get(&chain.store, &node("n1")).unwrap().unwrap();
    let tombstone = RemovedNode { last: record, removed_at: Height(1) };
    put(&mut chain.store, &REMOVED_NODES, &node("n1"), &tombstone);
    assert_eq!(check(&chain.store), Err(InvariantViolation::RemovedNodeReadmitted { node: node("n1") }));
    delete(&mut chain.store, &REMOVED_NODES, &node("n1"));
    assert_eq!(check(&chain.store), Ok(()));
}

/// Parameters out of range, or missing, break `InvalidParams`.
#[test]
fn invalid_params() {
    let mut chain = valid_chain(4);
    let original = PARAMS.get(&chain.store, &()).unwrap().unwrap();
    let bad = ChainParams { block_interval_ms: 10, ..original.clone() };
    put(&mut chain.store, &PARAMS, &(), &bad);
    let expected = InvariantViolation::InvalidParams("block_interval_ms must be 50..=60000".to_string());
    assert_eq!(check(&chain.store), Err(expected));
    let bad = ChainParams { max_tx_ttl: 0, ..original };
    put(&mut chain.store, &PARAMS, &(), &bad);
    assert_eq!(check(&chain.store), Err(InvariantViolation::InvalidParams("max_tx_ttl must be 1..=1000000".into())));
    delete(&mut chain.store, &PARAMS, &());
    assert_eq!(check(&chain.store), Err(InvariantViolation::InvalidParams("missing".to_string())));
}

/// In debug builds (every test and the simulation) applying a block checks every invariant at its end: a state
/// that breaks one stops at the next block, naming the violation, instead of being committed.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "breaks an invariant: the policy is out of shape")]
fn every_applied_block_checks_the_invariants() {
    let mut chain = valid_chain(4);
    put(&mut chain.store, &POLICY, &ActionKind::AdmitMember, &Rule::weight(4, 5, false, 0));
    let next = chain.height.plus(1);
    let _ = governance_contracts::execution::apply_block(&chain.store, next, &[]);
}
