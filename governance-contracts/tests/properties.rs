//! Property tests over generated inputs: canonical encoding round trips, decoding hostile bytes without panicking,
//! random governance histories that keep every invariant, determinism of execution, and JSON round trips. Hostile
//! histories try to break three promises and are checked against the promises themselves: no genesis admits a
//! grant beyond its bound, no lone governor takes over an account, and one member's staff never reach another
//! member's accounts.
//!
//! Case counts are kept moderate so the file runs in well under a minute in the dev profile; raise them locally with
//! `PROPTEST_CASES=<n>` for a longer soak. Failures are not persisted to disk: proptest prints the minimal failing
//! input, which belongs in a regression test.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{BoundedString, BoundedVec, DecodeError, MAX_DECODE_BYTES, Name, decode, encode};
use governance_contracts::crypto::{Digest, PublicKey, Signature};
use governance_contracts::error::{Error, Rejection, detail};
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, BlockHash, Height, MemberId, NodeId, ProposalId, RoleId, TxHash, Weight};
use governance_contracts::state::records::MemberRecord;
use governance_contracts::state::records::ProposalStatus;
use governance_contracts::state::root::{self, StateProof};
use governance_contracts::state::tables::{ACCOUNTS, GRANTS, MEMBERS, NODES, PARAMS, POLICY, PROPOSALS, ROLES};
use governance_contracts::state::{MemoryStore, Store, TableId};
use governance_contracts::testkit::{self, TestChain, public};
use governance_contracts::types::{
    Action, ActionKind, Approval, BlockHeader, ChainParams, CommitCertificate, CommitSignature, ConsensusProposal,
    ConsensusVote, CountedVote, Event, Genesis, GenesisAccount, GenesisGrant, GenesisRole, HandshakeStatement,
    JudgedRequirement, KeyProof, KeyProofBody, LoginChallenge, MAX_GRANT_BLOCKS, MemberStatus, NewAccount, NodeKind,
    Outcome, Payload, PolicyEntry, Principal, Proposal, Receipt, Requirement, RoleDefinition, RoleScope, Rule,
    SignedTransaction, Transaction, ValidatorSet, Verdict,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde::Serialize;
use serde::de::DeserializeOwned;

mod common;
use common::config;

// --- strategies: identifiers, keys, text ---------------------------------------------------------------------

fn name() -> impl Strategy<Value = Name> {
    "[a-z0-9][a-z0-9._-]{0,15}".prop_map(|s| Name::new(s).expect("the regex only makes valid names"))
}

fn member_id() -> impl Strategy<Value = MemberId> {
    name().prop_map(MemberId)
}

fn account_id() -> impl Strategy<Value = AccountId> {
    name().prop_map(AccountId)
}

fn node_id() -> impl Strategy<Value = NodeId> {
    name().prop_map(NodeId)
}

fn role_id() -> impl Strategy<Value = RoleId> {
    name().prop_map(RoleId)
}

fn bytes32() -> impl Strategy<Value = [u8; 32]> {
    proptest::array::uniform32(any::<u8>())
}

fn digest() -> impl Strategy<Value = Digest> {
    bytes32().prop_map(Digest::Sha256)
}

fn public_key() -> impl Strategy<Value = PublicKey> {
    bytes32().prop_map(PublicKey::Ed25519)
}

fn signature() -> impl Strategy<Value = Signature> {
    (bytes32(), bytes32()).prop_map(|(a, b)| {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&a);
        bytes[32..].copy_from_slice(&b);
        Signature::Ed25519(bytes)
    })
}

fn height() -> impl Strategy<Value = Height> {
    any::<u64>().prop_map(Height)
}

fn weight() -> impl Strategy<Value = Weight> {
    any::<u64>().prop_map(Weight)
}

/// Free text of up to 24 characters: any non-control character, newlines and tabs (multi-byte ones included).
fn text<const N: usize>() -> impl Strategy<Value = BoundedString<N>> {
    "[\\PC\n\t]{0,24}".prop_map(|s| BoundedString::try_new(s).expect("24 characters fit every text bound used"))
}

fn bounded<T: Debug, const N: usize>(items: impl Strategy<Value = Vec<T>>) -> impl Strategy<Value = BoundedVec<T, N>> {
    items.prop_map(|v| BoundedVec::try_new(v).expect("generated within bound"))
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![account_id().prop_map(Principal::Account), node_id().prop_map(Principal::Node)]
}

fn key_proof() -> impl Strategy<Value = KeyProof> {
    (principal(), option::of(public_key()), public_key(), height(), signature()).prop_map(
        |(subject, old_key, new_key, expires_at, signature)| KeyProof {
            body: KeyProofBody { subject, old_key, new_key, expires_at },
            signature,
        },
    )
}

fn params() -> impl Strategy<Value = ChainParams> {
    (any::<u64>(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
        |(
            block_interval_ms,
            max_block_transactions,
            max_block_bytes,
            max_transaction_bytes,
            max_tx_ttl,
            lifetime,
            w,
        )| {
            ChainParams {
                block_interval_ms,
                max_block_transactions,
                max_block_bytes,
                max_transaction_bytes,
                max_tx_ttl,
                max_proposal_lifetime: lifetime,
                readiness_window: w,
            }
        },
    )
}

fn rule() -> impl Strategy<Value = Rule> {
    let requirement = prop_oneof![
        (any::<u32>(), any::<u32>(), any::<bool>()).prop_map(|(numerator, denominator, exclude_target)| {
            Requirement::Weight { numerator, denominator, exclude_target }
        }),
        (role_id(), any::<bool>()).prop_map(|(role, same_member)| Requirement::Role { role, same_member }),
        Just(Requirement::TargetGovernor),
    ];
    (requirement, any::<u64>()).prop_map(|(requirement, delay_blocks)| Rule { requirement, delay_blocks })
}

fn action_kind() -> impl Strategy<Value = ActionKind> {
    select(ActionKind::ALL.to_vec())
}

fn new_account() -> impl Strategy<Value = NewAccount> {
    (account_id(), public_key()).prop_map(|(account, key)| NewAccount { account, key })
}

/// A representative subset of actions: every field type an action uses appears at least once.
fn action() -> BoxedStrategy<Action> {
    let committee = prop_oneof![
        (member_id(), text(), weight(), bounded(vec(new_account(), 0..3)))
            .prop_map(|(member, name, weight, governors)| Action::AdmitMember { member, name, weight, governors }),
        (member_id(), weight(), weight()).prop_map(|(member, expected, weight)| Action::SetMemberWeight {
            member,
            expected,
            weight
        }),
        member_id().prop_map(|member| Action::SuspendMember { member }),
        member_id().prop_map(|member| Action::ExpelMember { member }),
        (member_id(), bounded(vec(account_id(), 0..3)), bounded(vec(account_id(), 0..3)))
            .prop_map(|(member, expected, governors)| Action::ReplaceGovernors { member, expected, governors }),
    ];
    let accounts = prop_oneof![
        (account_id(), member_id(), public_key()).prop_map(|(account, member, key)| Action::CreateAccount {
            account,
            member,
            key
        }),
        account_id().prop_map(|account| Action::FreezeAccount { account }),
        (account_id(), key_proof()).prop_map(|(account, proof)| Action::ReplaceAccountKey { account, proof }),
        (role_id(), option::of(member_id()), any::<bool>(), any::<u64>()).prop_map(
            |(role, scope, delegable, max_grant_blocks)| Action::DefineRole {
                role,
                definition: RoleDefinition {
                    scope: scope.map_or(RoleScope::Alliance, RoleScope::Member),
                    delegable,
                    max_grant_blocks,
                },
            }
        ),
        (account_id(), role_id(), height(), option::of(height())).prop_map(|(account, role, expires_at, expected)| {
            Action::GrantRole { account, role, expires_at, expected }
        }),
        (account_id(), role_id()).prop_map(|(account, role)| Action::RevokeRole { account, role }),
    ];
    let nodes = prop_oneof![
        (node_id(), member_id(), public_key(), text()).prop_map(|(node, owner, key, address)| Action::AdmitNode {
            node,
            owner,
            key,
            address
        }),
        (node_id(), weight(), any::<bool>()).prop_map(|(node, weight, o)| Action::PromoteNode {
            node,
            weight,
            override_fault_tolerance: o
        }),
        (node_id(), weight(), weight(), any::<bool>()).prop_map(|(node, expected, weight, o)| {
            Action::SetNodeWeight { node, expected, weight, override_fault_tolerance: o }
        }),
        (node_id(), key_proof()).prop_map(|(node, proof)| Action::RotateNodeKey { node, proof }),
        (node_id(), text(), text()).prop_map(|(node, expected, address)| Action::SetNodeAddress {
            node,
            expected,
            address
        }),
        (node_id(), public_key(), any::<bool>()).prop_map(|(node, key, o)| Action::RevokeNodeKey {
            node,
            key,
            override_fault_tolerance: o
        }),
    ];
    let chain = prop_oneof![
        (action_kind(), option::of(rule()), rule()).prop_map(|(kind, expected, rule)| Action::SetPolicyRule {
            kind,
            expected,
            rule
        }),
        (params(), params()).prop_map(|(expected, params)| Action::SetParams { expected, params }),
        digest().prop_map(|d| Action::CancelProposal { proposal: ProposalId(d) }),
    ];
    prop_oneof![committee, accounts, nodes, chain].boxed()
}

fn approval() -> impl Strategy<Value = Approval> {
    (account_id(), public_key(), signature()).prop_map(|(approver, key, signature)| Approval {
        approver,
        key,
        signature,
    })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (principal(), text(), text(), bounded(vec(action(), 0..4)), height(), any::<u64>()).prop_map(
        |(proposer, title, description, actions, expires_at, salt)| Proposal {
            proposer,
            title,
            description,
            actions,
            expires_at,
            salt,
        },
    )
}

fn proposal_id() -> impl Strategy<Value = ProposalId> {
    digest().prop_map(ProposalId)
}

/// Every payload kind.
fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (proposal(), bounded(vec(approval(), 0..3)))
            .prop_map(|(proposal, approvals)| Payload::SubmitProposal { proposal, approvals }),
        (proposal_id(), bounded(vec(approval(), 0..3)))
            .prop_map(|(proposal, approvals)| Payload::Approve { proposal, approvals }),
        proposal_id().prop_map(|proposal| Payload::RevokeApproval { proposal }),
        proposal_id().prop_map(|proposal| Payload::CancelProposal { proposal }),
        proposal_id().prop_map(|proposal| Payload::ExecuteProposal { proposal }),
        key_proof().prop_map(|proof| Payload::RotateAccountKey { proof }),
        (account_id(), public_key(), option::of(key_proof()))
            .prop_map(|(account, key, replacement)| Payload::MarkKeyCompromised { account, key, replacement }),
        height().prop_map(|synced_height| Payload::AttestReadiness { synced_height }),
    ]
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (principal(), height(), payload()).prop_map(|(sender, valid_until, payload)| Transaction {
        sender,
        valid_until,
        payload,
    })
}

fn signed_transaction() -> impl Strategy<Value = SignedTransaction> {
    (transaction(), public_key(), signature()).prop_map(|(tx, key, signature)| SignedTransaction { tx, key, signature })
}

fn rejection() -> impl Strategy<Value = Rejection> {
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(size, max)| Rejection::TransactionTooLarge { size, max }),
        Just(Rejection::DuplicateTransaction),
        account_id().prop_map(|account| Rejection::UnknownAccount { account }),
        public_key().prop_map(|key| Rejection::KeyNotCurrent { key }),
        principal().prop_map(|principal| Rejection::NoCurrentKey { principal }),
        (any::<u32>(), "[\\PC]{0,24}")
            .prop_map(|(action, text)| Rejection::StaleProposal { action, detail: detail(text) }),
        action_kind().prop_map(|kind| Rejection::ApprovalsInsufficient { kind }),
        (weight(), weight()).prop_map(|(changed, tolerated)| Rejection::SealerBudgetExceeded { changed, tolerated }),
        height().prop_map(|ready_at| Rejection::DelayNotElapsed { ready_at }),
    ]
}

/// A closed proposal's verdict: a few counted approvals and judged requirements.
fn verdict() -> impl Strategy<Value = Verdict> {
    let vote = (account_id(), member_id(), any::<bool>(), weight())
        .prop_map(|(account, member, governor, weight)| CountedVote { account, member, governor, weight });
    let judged = (action_kind(), rule(), proptest::option::of(member_id()), any::<bool>(), any::<u64>(), any::<u64>())
        .prop_map(|(kind, rule, target, met, approved_weight, seated_weight)| JudgedRequirement {
            kind,
            rule,
            target,
            met,
            approved_weight,
            seated_weight,
        });
    (proptest::collection::vec(vote, 0..4), proptest::collection::vec(judged, 0..3))
        .prop_map(|(approvals, requirements)| Verdict { approvals, requirements })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (proposal_id(), principal(), height()).prop_map(|(proposal, proposer, expires_at)| Event::ProposalSubmitted {
            proposal,
            proposer,
            expires_at
        }),
        (proposal_id(), rejection(), verdict()).prop_map(|(proposal, reason, verdict)| Event::ProposalFailed {
            proposal,
            reason,
            verdict
        }),
        (proposal_id(), verdict()).prop_map(|(proposal, verdict)| Event::ProposalExecuted { proposal, verdict }),
        (member_id(), weight(), weight()).prop_map(|(member, from, to)| Event::MemberWeightChanged {
            member,
            from,
            to
        }),
        (member_id(), bounded(vec(account_id(), 0..3)))
            .prop_map(|(member, governors)| Event::GovernorsReplaced { member, governors }),
        (account_id(), option::of(public_key()), public_key())
            .prop_map(|(account, old, new)| Event::AccountKeyChanged { account, old, new }),
        (node_id(), text()).prop_map(|(node, address)| Event::NodeAddressChanged { node, address }),
        (weight(), weight(), weight(), weight()).prop_map(|(a, b, c, d)| Event::SealerSetChanged {
            total_before: a,
            total_after: b,
            fault_tolerance_before: c,
            fault_tolerance_after: d
        }),
        action_kind().prop_map(|kind| Event::PolicyRuleChanged { kind }),
        Just(Event::ParamsChanged),
    ]
}

fn receipt() -> impl Strategy<Value = Receipt> {
    let outcome = prop_oneof![Just(Outcome::Applied), rejection().prop_map(|reason| Outcome::Rejected { reason })];
    (digest(), outcome, vec(event(), 0..4)).prop_map(|(d, outcome, events)| Receipt { tx: TxHash(d), outcome, events })
}

/// A testkit genesis of 1 to 4 members with a generated chain id, time, parameters, roles and policy.
fn genesis() -> impl Strategy<Value = Genesis> {
    let role = (role_id(), any::<bool>(), any::<u64>()).prop_map(|(role, delegable, max_grant_blocks)| GenesisRole {
        role,
        definition: RoleDefinition { scope: RoleScope::Alliance, delegable, max_grant_blocks },
    });
    let policy =
        option::of(bounded(vec((action_kind(), rule()).prop_map(|(kind, rule)| PolicyEntry { kind, rule }), 0..4)));
    (1usize..=4, name(), any::<u64>(), params(), bounded(vec(role, 0..3)), policy).prop_map(
        |(members, chain_id, genesis_time_ms, params, roles, policy)| Genesis {
            chain_id,
            genesis_time_ms,
            params,
            roles,
            policy,
            ..testkit::genesis(members)
        },
    )
}

fn block_header() -> impl Strategy<Value = BlockHeader> {
    (height(), digest(), digest(), digest(), digest(), digest(), digest(), node_id(), any::<u64>()).prop_map(
        |(height, parent, state_root, transactions_root, receipts_root, vs, next_vs, proposer, time_ms)| BlockHeader {
            height,
            parent: BlockHash(parent),
            state_root,
            transactions_root,
            receipts_root,
            validator_set_hash: vs,
            next_validator_set_hash: next_vs,
            proposer,
            time_ms,
        },
    )
}

fn commit_certificate() -> impl Strategy<Value = CommitCertificate> {
    let sig = (node_id(), signature()).prop_map(|(node, signature)| CommitSignature { node, signature });
    (height(), any::<u32>(), digest(), bounded(vec(sig, 0..5))).prop_map(|(height, round, block, signatures)| {
        CommitCertificate { height, round, block: BlockHash(block), signatures }
    })
}

/// Real state proofs (membership and non-membership) from a chain a few blocks old.
static PROOFS: LazyLock<Vec<StateProof>> = LazyLock::new(|| {
    let mut chain = TestChain::with_members(3);
    let tx = chain.node_tx("n1", Payload::AttestReadiness { synced_height: Height(0) });
    chain.apply(tx);
    let mut proofs = Vec::new();
    for table in [TableId::Members, TableId::Accounts, TableId::Nodes, TableId::Params] {
        let entries = chain.store.scan_prefix(table, &[]).expect("scan");
        for (key, _) in entries.iter().take(2) {
            proofs.push(root::prove(&chain.store, table, key, chain.height).expect("prove").expect("tree kept"));
        }
        proofs.push(root::prove(&chain.store, table, b"absent key", chain.height).expect("prove").expect("tree kept"));
    }
    proofs
});

fn state_proof() -> impl Strategy<Value = StateProof> {
    select(PROOFS.clone())
}

// --- (a) canonical round trips ----------------------------------------------------------------------------------

fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
    T: BorshSerialize + BorshDeserialize + PartialEq + Debug,
{
    let bytes = encode(value);
    let decoded: T = decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e}: {value:?}")))?;
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(encode(&decoded), bytes);
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// A generated transaction decodes from its canonical bytes to itself.
    #[test]
    fn transaction_round_trips(value in transaction()) { round_trips(&value)?; }

    /// A generated signed transaction decodes from its canonical bytes to itself.
    #[test]
    fn signed_transaction_round_trips(value in signed_transaction()) { round_trips(&value)?; }

    /// A generated proposal decodes from its canonical bytes to itself.
    #[test]
    fn proposal_round_trips(value in proposal()) { round_trips(&value)?; }

    /// A generated action decodes from its canonical bytes to itself.
    #[test]
    fn action_round_trips(value in action()) { round_trips(&value)?; }

    /// A generated receipt decodes from its canonical bytes to itself.
    #[test]
    fn receipt_round_trips(value in receipt()) { round_trips(&value)?; }

    /// A generated genesis decodes from its canonical bytes to itself.
    #[test]
    fn genesis_round_trips(value in genesis()) { round_trips(&value)?; }

    /// A generated block header decodes from its canonical bytes to itself.
    #[test]
    fn block_header_round_trips(value in block_header()) { round_trips(&value)?; }

    /// A generated commit certificate decodes from its canonical bytes to itself.
    #[test]
    fn commit_certificate_round_trips(value in commit_certificate()) { round_trips(&value)?; }
}

// --- (b) hostile bytes ------------------------------------------------------------------------------------------

/// Decodes `bytes` as `T` (which must not panic); if it decodes, the bytes must be the value's one canonical
/// encoding.
fn decode_is_total_and_canonical<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: BorshSerialize + BorshDeserialize + Debug,
{
    if let Ok(value) = decode::<T>(bytes) {
        prop_assert_eq!(encode(&value), bytes, "accepted a non-canonical encoding of {:?}", value);
    }
    Ok(())
}

/// Every wire type, on the same bytes.
fn decode_all_wire_types(bytes: &[u8]) -> Result<(), TestCaseError> {
    decode_is_total_and_canonical::<SignedTransaction>(bytes)?;
    decode_is_total_and_canonical::<Proposal>(bytes)?;
    decode_is_total_and_canonical::<Genesis>(bytes)?;
    decode_is_total_and_canonical::<BlockHeader>(bytes)?;
    decode_is_total_and_canonical::<CommitCertificate>(bytes)?;
    decode_is_total_and_canonical::<Receipt>(bytes)?;
    decode_is_total_and_canonical::<StateProof>(bytes)?;
    decode_is_total_and_canonical::<Transaction>(bytes)?;
    decode_is_total_and_canonical::<Action>(bytes)?;
    decode_is_total_and_canonical::<Approval>(bytes)?;
    decode_is_total_and_canonical::<KeyProof>(bytes)?;
    decode_is_total_and_canonical::<ValidatorSet>(bytes)?;
    decode_is_total_and_canonical::<ConsensusVote>(bytes)?;
    decode_is_total_and_canonical::<ConsensusProposal>(bytes)?;
    decode_is_total_and_canonical::<LoginChallenge>(bytes)?;
    decode_is_total_and_canonical::<HandshakeStatement>(bytes)?;
    Ok(())
}

/// Input over `MAX_DECODE_BYTES` is refused as too large before any decoding, whatever the type.
#[test]
fn oversized_input_is_refused_up_front() {
    let len = MAX_DECODE_BYTES.saturating_add(1);
    let bytes = vec![0u8; len];
    let too_large = Err(DecodeError::TooLarge { len, max: MAX_DECODE_BYTES });
    assert_eq!(decode::<Genesis>(&bytes).map(|_| ()), too_large);
    assert_eq!(decode::<SignedTransaction>(&bytes).map(|_| ()), too_large);
    assert_eq!(decode::<StateProof>(&bytes).map(|_| ()), too_large);
    assert_eq!(decode::<Receipt>(&bytes).map(|_| ()), too_large);
    let at_limit = vec![0u8; MAX_DECODE_BYTES];
    assert!(matches!(decode::<Receipt>(&at_limit), Err(DecodeError::Malformed(_))), "at the limit bytes are decoded");
}

/// A change to valid bytes.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        value: u8,
    },
    Truncate {
        to: usize,
    },
    Extend {
        bytes: Vec<u8>,
    },
    Insert {
        at: usize,
        value: u8,
    },
    Remove {
        at: usize,
    },
    /// Overwrites four bytes with a little-endian `u32`: forges length prefixes and counts.
    Length {
        at: usize,
        value: u32,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let length = prop_oneof![Just(u32::MAX), Just(0u32), Just(1u32), Just(1u32 << 20), 0u32..70_000];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        any::<usize>().prop_map(|to| Mutation::Truncate { to }),
        vec(any::<u8>(), 1..9).prop_map(|bytes| Mutation::Extend { bytes }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Insert { at, value }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        (any::<usize>(), length).prop_map(|(at, value)| Mutation::Length { at, value }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        let at = |i: &usize| i.checked_rem(len).unwrap_or(0);
        let up_to = |i: &usize| i.checked_rem(len.saturating_add(1)).unwrap_or(0);
        match m {
            Mutation::FlipBit { at: i, bit } if len > 0 => bytes[at(i)] ^= 1 << bit,
            Mutation::SetByte { at: i, value } if len > 0 => bytes[at(i)] = *value,
            Mutation::Truncate { to } => bytes.truncate(up_to(to)),
            Mutation::Extend { bytes: extra } => bytes.extend_from_slice(extra),
            Mutation::Insert { at: i, value } => bytes.insert(up_to(i), *value),
            Mutation::Remove { at: i } if len > 0 => {
                bytes.remove(at(i));
            }
            Mutation::Length { at: i, value } if len >= 4 => {
                let start = i.checked_rem(len.saturating_sub(3)).unwrap_or(0);
                bytes[start..start.saturating_add(4)].copy_from_slice(&value.to_le_bytes());
            }
            _ => {}
        }
    }
    bytes
}

/// Mutates a valid encoding of `T` and decodes the result as `T`.
fn mutated_decodes_safely<T>(value: &T, mutations: &[Mutation]) -> Result<(), TestCaseError>
where
    T: BorshSerialize + BorshDeserialize + Debug,
{
    let bytes = mutate(encode(value), mutations);
    decode_is_total_and_canonical::<T>(&bytes)?;
    decode_all_wire_types(&bytes)
}

proptest! {
    #![proptest_config(config(1024))]

    /// Arbitrary bytes never panic the decoder of any wire type, and whatever decodes is canonical.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
        decode_all_wire_types(&bytes)?;
    }

    /// Arbitrary bytes behind each valid first byte (an enum or option tag) still never panic.
    #[test]
    fn arbitrary_bytes_behind_valid_tags_never_panic(tag in 0u8..3, rest in vec(any::<u8>(), 0..600)) {
        let mut bytes = vec![tag];
        bytes.extend(rest);
        decode_all_wire_types(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Flipped, truncated, extended or length-forged signed transactions never panic any decoder.
    #[test]
    fn mutated_signed_transactions_never_panic(v in signed_transaction(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated proposals never panic any decoder.
    #[test]
    fn mutated_proposals_never_panic(v in proposal(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated genesis documents never panic any decoder.
    #[test]
    fn mutated_genesis_never_panics(v in genesis(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated block headers never panic any decoder.
    #[test]
    fn mutated_block_headers_never_panic(v in block_header(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated commit certificates never panic any decoder.
    #[test]
    fn mutated_commit_certificates_never_panic(v in commit_certificate(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated receipts never panic any decoder.
    #[test]
    fn mutated_receipts_never_panic(v in receipt(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }

    /// Mutated real state proofs never panic any decoder.
    #[test]
    fn mutated_state_proofs_never_panic(v in state_proof(), m in vec(mutation(), 1..4)) {
        mutated_decodes_safely(&v, &m)?;
    }
}

// --- (c), (d) random governance histories -----------------------------------------------------------------------

/// A policy rule to propose, its role given as an index into the roles that exist.
#[derive(Debug, Clone)]
enum RuleChoice {
    Weight { numerator: u32, denominator: u32, exclude_target: bool, delay: u64 },
    Role { role: u8, same_member: bool },
    TargetGovernor,
}

/// A governance action, its targets given as indices into what exists when it is proposed.
#[derive(Debug, Clone)]
enum Gov {
    SetMemberWeight { member: u8, weight: u64, stale: bool },
    Suspend { member: u8 },
    Reinstate { member: u8 },
    Expel { member: u8 },
    ReplaceGovernors { member: u8, mask: u8 },
    GrantRole { account: u8, role: u8, blocks: u64, stale: bool },
    RevokeRole { account: u8, role: u8 },
    DefineRole { id: u8, member: Option<u8>, delegable: bool, max_grant_blocks: u64 },
    Freeze { account: u8 },
    Unfreeze { account: u8 },
    CreateAccount { member: u8, id: u8 },
    ReplaceAccountKey { account: u8 },
    AdmitNode { member: u8, id: u8 },
    Promote { node: u8, weight: u64, override_ft: bool },
    Demote { node: u8, override_ft: bool },
    SetNodeWeight { node: u8, weight: u64, override_ft: bool },
    RemoveNode { node: u8, override_ft: bool },
    RevokeNodeKey { node: u8, override_ft: bool },
    ReplaceNodeKey { node: u8 },
    SetParams { interval: u64, ttl: u64, lifetime: u64, window: u64 },
    SetPolicyRule { kind: u8, rule: RuleChoice },
}

/// One step of a history: usually one block.
#[derive(Debug, Clone)]
enum Op {
    /// Propose `action`; governors chosen by `governors` (a bit mask) and role holders chosen by `others` approve,
    /// either inside the submission (`bundle`) or each in its own `Approve` transaction in the same block.
    Govern { action: Gov, proposer: u8, governors: u8, others: Vec<u8>, bundle: bool },
    /// Send `ExecuteProposal` for a queued proposal (or any earlier one when none is queued).
    Execute { proposal: u8, sender: u8 },
    /// Cancel an earlier proposal.
    Cancel { proposal: u8, sender: u8 },
    /// A node attests readiness.
    Attest { node: u8 },
    /// An account rotates its key.
    RotateKey { account: u8 },
    /// An account's key is marked compromised, by the account or by a governor of its member, with or without a
    /// replacement.
    MarkCompromised { account: u8, by_governor: bool, replace: bool },
    /// Empty blocks, so delays pass and grants and proposals expire.
    Idle { blocks: u8 },
}

fn rule_choice() -> impl Strategy<Value = RuleChoice> {
    prop_oneof![
        3 => (0u32..5, 0u32..5, any::<bool>(), prop_oneof![Just(0u64), 0u64..150]).prop_map(
            |(numerator, denominator, exclude_target, delay)| RuleChoice::Weight {
                numerator,
                denominator,
                exclude_target,
                delay
            }
        ),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(role, same_member)| RuleChoice::Role { role, same_member }),
        1 => Just(RuleChoice::TargetGovernor),
    ]
}

/// A role's `max_grant_blocks`: usually small, sometimes at, just past or far past `MAX_GRANT_BLOCKS`.
fn grant_limit() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..5_000,
        1 => Just(MAX_GRANT_BLOCKS),
        1 => Just(MAX_GRANT_BLOCKS.saturating_add(1)),
        1 => Just(u64::MAX),
    ]
}

fn gov() -> impl Strategy<Value = Gov> {
    let i = any::<u8>;
    let ft = || prop::bool::weighted(0.2);
    prop_oneof![
        prop_oneof![
            (i(), 0u64..5, prop::bool::weighted(0.1)).prop_map(|(member, weight, stale)| Gov::SetMemberWeight {
                member,
                weight,
                stale
            }),
            i().prop_map(|member| Gov::Suspend { member }),
            i().prop_map(|member| Gov::Reinstate { member }),
            i().prop_map(|member| Gov::Expel { member }),
            (i(), i()).prop_map(|(member, mask)| Gov::ReplaceGovernors { member, mask }),
        ],
        prop_oneof![
            (i(), i(), prop_oneof![9 => 0u64..3_000, 1 => Just(u64::MAX)], prop::bool::weighted(0.1))
                .prop_map(|(account, role, blocks, stale)| Gov::GrantRole { account, role, blocks, stale }),
            (i(), i()).prop_map(|(account, role)| Gov::RevokeRole { account, role }),
            (0u8..4, proptest::option::of(i()), any::<bool>(), grant_limit()).prop_map(
                |(id, member, delegable, max_grant_blocks)| Gov::DefineRole { id, member, delegable, max_grant_blocks }
            ),
            i().prop_map(|account| Gov::Freeze { account }),
            i().prop_map(|account| Gov::Unfreeze { account }),
            (i(), 0u8..6).prop_map(|(member, id)| Gov::CreateAccount { member, id }),
            i().prop_map(|account| Gov::ReplaceAccountKey { account }),
        ],
        prop_oneof![
            (i(), 0u8..6).prop_map(|(member, id)| Gov::AdmitNode { member, id }),
            (i(), 0u64..4, ft()).prop_map(|(node, weight, override_ft)| Gov::Promote { node, weight, override_ft }),
            (i(), ft()).prop_map(|(node, override_ft)| Gov::Demote { node, override_ft }),
            (i(), 0u64..4, ft()).prop_map(|(node, weight, override_ft)| Gov::SetNodeWeight {
                node,
                weight,
                override_ft
            }),
            (i(), ft()).prop_map(|(node, override_ft)| Gov::RemoveNode { node, override_ft }),
            (i(), ft()).prop_map(|(node, override_ft)| Gov::RevokeNodeKey { node, override_ft }),
            i().prop_map(|node| Gov::ReplaceNodeKey { node }),
        ],
        prop_oneof![
            (select(vec![10u64, 500, 1_000]), 10u64..1_000, 999u64..10_000, 1u64..50)
                .prop_map(|(interval, ttl, lifetime, window)| Gov::SetParams { interval, ttl, lifetime, window }),
            (i(), rule_choice()).prop_map(|(kind, rule)| Gov::SetPolicyRule { kind, rule }),
        ],
    ]
}

/// Which governors approve: all, none, or any subset.
fn governor_mask() -> impl Strategy<Value = u8> {
    prop_oneof![Just(0xff), Just(0), any::<u8>()]
}

/// Which role holders approve: often none (they are ineligible for most rules), else one or two.
fn holders() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), vec(any::<u8>(), 1..3)]
}

fn op() -> impl Strategy<Value = Op> {
    let i = any::<u8>;
    prop_oneof![
        8 => (gov(), i(), governor_mask(), holders(), any::<bool>()).prop_map(
            |(action, proposer, governors, others, bundle)| Op::Govern { action, proposer, governors, others, bundle }
        ),
        2 => (i(), i()).prop_map(|(proposal, sender)| Op::Execute { proposal, sender }),
        1 => (i(), i()).prop_map(|(proposal, sender)| Op::Cancel { proposal, sender }),
        2 => i().prop_map(|node| Op::Attest { node }),
        1 => i().prop_map(|account| Op::RotateKey { account }),
        1 => (i(), any::<bool>(), any::<bool>())
            .prop_map(|(account, by_governor, replace)| Op::MarkCompromised { account, by_governor, replace }),
        2 => prop_oneof![3 => 1u8..13, 1 => 95u8..=110].prop_map(|blocks| Op::Idle { blocks }),
    ]
}

fn pick<T: Clone>(items: &[T], index: u8) -> Option<T> {
    items.get(usize::from(index).checked_rem(items.len())?).cloned()
}

/// What one history did, for comparisons between runs.
#[derive(Debug, Clone, PartialEq)]
struct Trace {
    roots: Vec<(Height, Digest)>,
    receipts: Vec<Receipt>,
    executed: usize,
    applied: usize,
}

/// Plays operations on a fresh four-member chain. `TestChain` checks every invariant after every block (and
/// panics on a violation); this adds execution-level checks of its own.
struct Runner {
    chain: TestChain,
    /// The key label each account or node signs with now, when it is not its id (the testkit derives keys from
    /// labels).
    labels: BTreeMap<Principal, String>,
    /// The labels of keys proposed but not yet in force, by key.
    pending: BTreeMap<PublicKey, String>,
    proposals: Vec<ProposalId>,
    fresh_keys: u64,
    trace: Trace,
}

impl Runner {
    fn new() -> Self {
        Self {
            chain: TestChain::with_members(4),
            labels: BTreeMap::new(),
            pending: BTreeMap::new(),
            proposals: Vec::new(),
            fresh_keys: 0,
            trace: Trace { roots: Vec::new(), receipts: Vec::new(), executed: 0, applied: 0 },
        }
    }

    fn label(&self, principal: &Principal) -> String {
        self.labels.get(principal).cloned().unwrap_or_else(|| match principal {
            Principal::Account(id) => id.as_str().to_string(),
            Principal::Node(id) => id.as_str().to_string(),
        })
    }

    fn account_label(&self, account: &AccountId) -> String {
        self.label(&Principal::Account(account.clone()))
    }

    /// A key-possession proof moving `subject` from its current key (`old`) to a fresh key.
    fn fresh_proof(&mut self, subject: Principal, old: Option<PublicKey>) -> KeyProof {
        self.fresh_keys = self.fresh_keys.saturating_add(1);
        let label = format!("{}~{}", self.label(&subject), self.fresh_keys);
        let proof = self.chain.key_proof(subject, old, &label);
        self.pending.insert(proof.body.new_key, label);
        proof
    }

    fn store(&self) -> &dyn Store {
        &self.chain.store
    }

    fn members(&self) -> Vec<(MemberId, MemberRecord)> {
        MEMBERS.all(self.store()).expect("members")
    }

    fn accounts(&self) -> Vec<AccountId> {
        ACCOUNTS.all(self.store()).expect("accounts").into_iter().map(|(id, _)| id).collect()
    }

    fn account_key(&self, account: &AccountId) -> Option<PublicKey> {
        ACCOUNTS.get(self.store(), account).expect("account").and_then(|a| a.key)
    }

    fn nodes(&self) -> Vec<NodeId> {
        NODES.all(self.store()).expect("nodes").into_iter().map(|(id, _)| id).collect()
    }

    fn governors(&self) -> Vec<AccountId> {
        self.members().into_iter().flat_map(|(_, m)| m.governors.to_vec()).collect()
    }

    /// Accounts holding a role that are not governors.
    fn role_holders(&self) -> Vec<AccountId> {
        let governors = self.governors();
        let mut out: Vec<AccountId> = Vec::new();
        for ((holder, _), _) in GRANTS.all(self.store()).expect("grants") {
            if !governors.contains(&holder) && !out.contains(&holder) {
                out.push(holder);
            }
        }
        out
    }

    /// Governors and role holders: the accounts that may propose.
    fn proposers(&self) -> Vec<AccountId> {
        let mut out = self.governors();
        out.extend(self.role_holders());
        out
    }

    fn account_tx(&self, sender: &AccountId, payload: Payload) -> SignedTransaction {
        self.chain.tx_with_key(Principal::Account(sender.clone()), &self.account_label(sender), payload)
    }

    /// Resolves a generated action against the current state (compare-and-set values read from state, unless the
    /// action is meant to be stale).
    fn action(&mut self, gov: &Gov) -> Option<Action> {
        let members = self.members();
        let member = |i: u8| pick(&members, i);
        let accounts = self.accounts();
        let nodes = self.nodes();
        let roles: Vec<RoleId> = ROLES.all(self.store()).expect("roles").into_iter().map(|(id, _)| id).collect();
        let next = self.chain.height.plus(1);
        Some(match gov {
            Gov::SetMemberWeight { member: m, weight, stale } => {
                let (member, record) = member(*m)?;
                let expected = if *stale { Weight(record.weight.0.wrapping_add(1)) } else { record.weight };
                Action::SetMemberWeight { member, expected, weight: Weight(*weight) }
            }
            Gov::Suspend { member: m } => Action::SuspendMember { member: member(*m)?.0 },
            Gov::Reinstate { member: m } => Action::ReinstateMember { member: member(*m)?.0 },
            Gov::Expel { member: m } => Action::ExpelMember { member: member(*m)?.0 },
            Gov::ReplaceGovernors { member: m, mask } => {
                let (member, record) = member(*m)?;
                let own: Vec<AccountId> = ACCOUNTS
                    .all(self.store())
                    .expect("accounts")
                    .into_iter()
                    .filter(|(_, a)| a.member == member)
                    .map(|(id, _)| id)
                    .collect();
                let governors: Vec<AccountId> = own
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| i < &8 && mask & (1 << i) != 0)
                    .map(|(_, a)| a)
                    .collect();
                Action::ReplaceGovernors {
                    member,
                    expected: record.governors,
                    governors: BoundedVec::try_new(governors).expect("at most 8"),
                }
            }
            Gov::GrantRole { account, role, blocks, stale } => {
                let account = pick(&accounts, *account)?;
                let role = pick(&roles, *role)?;
                let current = GRANTS.get(self.store(), &(account.clone(), role.clone())).expect("grant");
                let current = current.map(|g| g.expires_at);
                let expected = if *stale { current.map_or(Some(Height(1)), |_| None) } else { current };
                Action::GrantRole { account, role, expires_at: next.plus(*blocks), expected }
            }
            Gov::RevokeRole { account, role } => {
                Action::RevokeRole { account: pick(&accounts, *account)?, role: pick(&roles, *role)? }
            }
            Gov::DefineRole { id, member: scope, delegable, max_grant_blocks } => Action::DefineRole {
                role: RoleId::new(format!("r{id}")).expect("valid"),
                definition: RoleDefinition {
                    scope: match scope {
                        Some(m) => RoleScope::Member(member(*m)?.0),
                        None => RoleScope::Alliance,
                    },
                    delegable: *delegable,
                    max_grant_blocks: *max_grant_blocks,
                },
            },
            Gov::Freeze { account } => Action::FreezeAccount { account: pick(&accounts, *account)? },
            Gov::Unfreeze { account } => Action::UnfreezeAccount { account: pick(&accounts, *account)? },
            Gov::CreateAccount { member: m, id } => {
                let label = format!("x{id}");
                Action::CreateAccount { account: testkit::account(&label), member: member(*m)?.0, key: public(&label) }
            }
            Gov::ReplaceAccountKey { account } => {
                let account = pick(&accounts, *account)?;
                let old = self.account_key(&account);
                let proof = self.fresh_proof(Principal::Account(account.clone()), old);
                Action::ReplaceAccountKey { account, proof }
            }
            Gov::AdmitNode { member: m, id } => {
                let label = format!("o{id}");
                Action::AdmitNode {
                    node: testkit::node(&label),
                    owner: member(*m)?.0,
                    key: public(&label),
                    address: BoundedString::try_new(format!("10.0.0.{id}:26656")).expect("short"),
                }
            }
            Gov::Promote { node, weight, override_ft } => Action::PromoteNode {
                node: pick(&nodes, *node)?,
                weight: Weight(*weight),
                override_fault_tolerance: *override_ft,
            },
            Gov::Demote { node, override_ft } => {
                Action::DemoteNode { node: pick(&nodes, *node)?, override_fault_tolerance: *override_ft }
            }
            Gov::SetNodeWeight { node, weight, override_ft } => {
                let node = pick(&nodes, *node)?;
                let expected = NODES.get(self.store(), &node).expect("node").expect("exists").weight;
                Action::SetNodeWeight {
                    node,
                    expected,
                    weight: Weight(*weight),
                    override_fault_tolerance: *override_ft,
                }
            }
            Gov::RemoveNode { node, override_ft } => {
                Action::RemoveNode { node: pick(&nodes, *node)?, override_fault_tolerance: *override_ft }
            }
            Gov::RevokeNodeKey { node, override_ft } => {
                let node = pick(&nodes, *node)?;
                let key = NODES.get(self.store(), &node).expect("node").expect("exists").key?;
                Action::RevokeNodeKey { node, key, override_fault_tolerance: *override_ft }
            }
            Gov::ReplaceNodeKey { node } => {
                let node = pick(&nodes, *node)?;
                let old = NODES.get(self.store(), &node).expect("node").expect("exists").key;
                let proof = self.fresh_proof(Principal::Node(node.clone()), old);
                Action::ReplaceNodeKey { node, proof }
            }
            Gov::SetParams { interval, ttl, lifetime, window } => {
                let expected = PARAMS.get(self.store(), &()).expect("params").expect("params exist");
                let params = ChainParams {
                    block_interval_ms: *interval,
                    max_tx_ttl: *ttl,
                    max_proposal_lifetime: *lifetime,
                    readiness_window: *window,
                    ..expected.clone()
                };
                Action::SetParams { expected, params }
            }
            Gov::SetPolicyRule { kind, rule } => {
                let kind = pick(&ActionKind::ALL, *kind)?;
                let expected = POLICY.get(self.store(), &kind).expect("policy");
                let rule = match rule {
                    RuleChoice::Weight { numerator, denominator, exclude_target, delay } => {
                        Rule::weight(*numerator, *denominator, *exclude_target, *delay)
                    }
                    RuleChoice::Role { role, same_member } => Rule::role(pick(&roles, *role)?, *same_member),
                    RuleChoice::TargetGovernor => Rule { requirement: Requirement::TargetGovernor, delay_blocks: 0 },
                };
                Action::SetPolicyRule { kind, expected, rule }
            }
        })
    }

    /// Applies one block and checks what execution promises beyond the invariants.
    fn block(&mut self, txs: Vec<SignedTransaction>) {
        // The mempool check runs the very code execution runs: a transaction alone in its block gets the verdict
        // `check_transaction` gave it.
        let checked = match txs.as_slice() {
            [only] => Some(execution::check_transaction(self.store(), only, encode(only).len())),
            _ => None,
        };
        let count = txs.len();
        let outcome = self.chain.apply_block(txs);
        let height = self.chain.height;
        assert_eq!(outcome.receipts.len(), count, "one receipt per transaction");
        assert_eq!(
            root::root_at(self.store(), height).expect("root").expect("tree kept"),
            outcome.state_root,
            "root at {height}"
        );
        assert_eq!(
            execution::validator_set(self.store()).expect("set"),
            outcome.next_validator_set,
            "the next validator set is the one derived from the committed state"
        );
        assert!(!outcome.next_validator_set.validators.is_empty(), "the validator set is never empty");
        for receipt in &outcome.receipts {
            if let Outcome::Rejected { .. } = receipt.outcome {
                assert!(receipt.events.is_empty(), "a rejected transaction has no events: {receipt:?}");
            } else {
                self.trace.applied = self.trace.applied.saturating_add(1);
            }
            if TestChain::executed(receipt) {
                self.trace.executed = self.trace.executed.saturating_add(1);
            }
            for event in &receipt.events {
                let (owner, new) = match event {
                    Event::AccountKeyChanged { account, new, .. } => (Principal::Account(account.clone()), new),
                    Event::NodeKeyChanged { node, new, .. } => (Principal::Node(node.clone()), new),
                    _ => continue,
                };
                let label = self.pending.get(new).cloned().expect("every new key was proposed here");
                self.labels.insert(owner, label);
            }
        }
        if let (Some(checked), [receipt]) = (checked, outcome.receipts.as_slice()) {
            match (&checked, &receipt.outcome) {
                (Ok(()), Outcome::Applied) => {}
                (Err(Error::Rejected(a)), Outcome::Rejected { reason: b }) => {
                    assert_eq!(a, b, "check_transaction and execution name different reasons");
                }
                (c, o) => panic!("check_transaction said {c:?}, execution {o:?}"),
            }
        }
        self.trace.roots.push((height, outcome.state_root));
        self.trace.receipts.extend(outcome.receipts);
    }

    fn play(&mut self, op: &Op) {
        match op {
            Op::Govern { action, proposer, governors, others, bundle } => {
                let Some(action) = self.action(action) else { return self.block(Vec::new()) };
                let Some(proposer) = pick(&self.proposers(), *proposer) else { return self.block(Vec::new()) };
                let proposal = self.chain.proposal(Principal::Account(proposer.clone()), vec![action]);
                let holders = self.role_holders();
                let mut approvers: Vec<AccountId> = self
                    .governors()
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| i < &8 && governors & (1 << i) != 0)
                    .map(|(_, a)| a)
                    .collect();
                approvers.extend(others.iter().filter_map(|i| pick(&holders, *i)));
                let approvals: Vec<Approval> = approvers
                    .iter()
                    .map(|a| self.chain.approval_with_key(&proposal, a.as_str(), &self.account_label(a)))
                    .collect();
                let id = proposal.id(&self.chain.chain);
                self.proposals.push(id);
                let txs = if *bundle {
                    let approvals = BoundedVec::try_new(approvals).expect("few approvals");
                    vec![self.account_tx(&proposer, Payload::SubmitProposal { proposal, approvals })]
                } else {
                    let mut txs = vec![
                        self.account_tx(&proposer, Payload::SubmitProposal { proposal, approvals: BoundedVec::new() }),
                    ];
                    for approval in approvals {
                        let approvals = BoundedVec::try_new(vec![approval]).expect("one");
                        txs.push(self.account_tx(&proposer, Payload::Approve { proposal: id, approvals }));
                    }
                    txs
                };
                self.block(txs);
            }
            Op::Execute { proposal, sender } | Op::Cancel { proposal, sender } => {
                let queued: Vec<ProposalId> = PROPOSALS
                    .all(self.store())
                    .expect("proposals")
                    .into_iter()
                    .filter(|(_, p)| matches!(p.status, ProposalStatus::Queued { .. }))
                    .map(|(id, _)| id)
                    .collect();
                let candidates = if matches!(op, Op::Execute { .. }) && !queued.is_empty() {
                    queued
                } else {
                    self.proposals.clone()
                };
                let (Some(id), Some(sender)) = (pick(&candidates, *proposal), pick(&self.proposers(), *sender)) else {
                    return self.block(Vec::new());
                };
                let payload = match op {
                    Op::Execute { .. } => Payload::ExecuteProposal { proposal: id },
                    _ => Payload::CancelProposal { proposal: id },
                };
                let tx = self.account_tx(&sender, payload);
                self.block(vec![tx]);
            }
            Op::Attest { node } => {
                let Some(node) = pick(&self.nodes(), *node) else { return self.block(Vec::new()) };
                let principal = Principal::Node(node);
                let label = self.label(&principal);
                let tx = self.chain.tx_with_key(
                    principal,
                    &label,
                    Payload::AttestReadiness { synced_height: self.chain.height },
                );
                self.block(vec![tx]);
            }
            Op::RotateKey { account } => {
                let Some(account) = pick(&self.accounts(), *account) else { return self.block(Vec::new()) };
                let old = self.account_key(&account);
                let proof = self.fresh_proof(Principal::Account(account.clone()), old);
                let tx = self.account_tx(&account, Payload::RotateAccountKey { proof });
                self.block(vec![tx]);
            }
            Op::MarkCompromised { account, by_governor, replace } => {
                let Some(account) = pick(&self.accounts(), *account) else { return self.block(Vec::new()) };
                let record = ACCOUNTS.get(self.store(), &account).expect("account").expect("exists");
                let Some(key) = record.key else { return self.block(Vec::new()) };
                let sender = if *by_governor {
                    let member = MEMBERS.get(self.store(), &record.member).expect("member").expect("exists");
                    member.governors.iter().find(|g| **g != account).cloned().unwrap_or(account.clone())
                } else {
                    account.clone()
                };
                let replacement = replace.then(|| self.fresh_proof(Principal::Account(account.clone()), Some(key)));
                let tx = self.account_tx(&sender, Payload::MarkKeyCompromised { account, key, replacement });
                self.block(vec![tx]);
            }
            Op::Idle { blocks } => {
                for _ in 0..*blocks {
                    self.block(Vec::new());
                }
            }
        }
    }

    fn run(ops: &[Op]) -> Self {
        let mut runner = Self::new();
        for op in ops {
            runner.play(op);
        }
        runner
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Random histories of proposals, approvals, executions, attestations, key rotations and idle blocks keep every
    /// invariant after every block (checked by `TestChain`), one receipt per transaction, rejections without
    /// events, the committed root and validator set, and the mempool's verdict.
    #[test]
    fn random_histories_keep_every_invariant(ops in vec(op(), 1..40)) {
        let runner = Runner::run(&ops);
        prop_assert_eq!(runner.trace.roots.len() as u64, runner.chain.height.0);
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// The same history applied twice from genesis gives the same state root at every height, the same receipts and
    /// the same final state.
    #[test]
    fn histories_are_deterministic(ops in vec(op(), 1..30)) {
        let first = Runner::run(&ops);
        let second = Runner::run(&ops);
        prop_assert_eq!(&first.trace, &second.trace);
        prop_assert!(first.chain.store == second.chain.store, "final stores differ");
    }
}

/// The history generator reaches real state changes: a fixed history executes weight changes, suspensions, grants,
/// freezes, account and node admissions, promotions and parameter changes (so the random histories are not vacuous).
#[test]
fn the_history_generator_changes_state() {
    let all_govs = 0b1111;
    let govern = |action| Op::Govern { action, proposer: 0, governors: all_govs, others: Vec::new(), bundle: true };
    let ops = vec![
        govern(Gov::SetMemberWeight { member: 1, weight: 2, stale: false }),
        govern(Gov::SetMemberWeight { member: 1, weight: 3, stale: true }),
        govern(Gov::Suspend { member: 3 }),
        govern(Gov::Reinstate { member: 3 }),
        // Creating an account needs a governor of its member, and only such approvals are accepted.
        Op::Govern {
            action: Gov::CreateAccount { member: 2, id: 1 },
            proposer: 2,
            governors: 0b0100,
            others: Vec::new(),
            bundle: true,
        },
        // Accounts sort by their canonical key bytes (length first): index 2 is m0-ops once x1 exists.
        govern(Gov::GrantRole { account: 2, role: 0, blocks: 100, stale: false }),
        govern(Gov::AdmitNode { member: 2, id: 1 }),
        Op::Attest { node: 4 },
        // o1 would give m2 two of five sealers: the concentration rule queues it for ten blocks.
        govern(Gov::Promote { node: 4, weight: 1, override_ft: false }),
        govern(Gov::SetParams { interval: 500, ttl: 20, lifetime: 1_000, window: 40 }),
        Op::RotateKey { account: 1 },
        Op::Idle { blocks: 10 },
        Op::Execute { proposal: 7, sender: 0 },
    ];
    let runner = Runner::run(&ops);
    let store = runner.store();
    let m1 = MEMBERS.get(store, &testkit::member("m1")).expect("read").expect("m1");
    assert_eq!(m1.weight, Weight(2), "the fresh weight change executed, the stale one did not");
    let m3 = MEMBERS.get(store, &testkit::member("m3")).expect("read").expect("m3");
    assert_eq!(m3.status, MemberStatus::Active, "suspended, then reinstated");
    let x1 = ACCOUNTS.get(store, &testkit::account("x1")).expect("read").expect("x1 was created");
    assert_eq!(x1.member, testkit::member("m2"));
    let grant = GRANTS.get(store, &(testkit::account("m0-ops"), RoleId::auditor())).expect("read").expect("grant");
    assert_eq!(grant.expires_at, Height(106), "granted in block 6 for 100 blocks");
    let o1 = NODES.get(store, &testkit::node("o1")).expect("read").expect("o1 was admitted");
    assert_eq!((o1.kind, o1.weight, o1.attested_at), (NodeKind::Sealer, Weight(1), Some(Height(8))));
    assert_eq!(execution::validator_set(store).expect("set").validators.len(), 5);
    let params = PARAMS.get(store, &()).expect("read").expect("params");
    assert_eq!((params.block_interval_ms, params.max_tx_ttl, params.readiness_window), (500, 20, 40));
    assert_eq!(runner.labels.len(), 1, "one account rotated its key");
    assert_eq!(runner.trace.executed, 8, "every governance op but the stale one executed");
    assert_eq!(runner.chain.height, Height(22));
}

// --- grants that expire -----------------------------------------------------------------------------------------

/// A testkit genesis with up to three more roles (of hostile `max_grant_blocks` too) granted to `m0-ops`, and
/// every grant's expiry redrawn, often far beyond any role's limit.
fn genesis_with_grants() -> impl Strategy<Value = Genesis> {
    let expiry = prop_oneof![Just(None), (0u64..100_000_000).prop_map(Some), any::<u64>().prop_map(Some)];
    (1usize..=4, vec((any::<bool>(), grant_limit(), expiry.clone()), 0..4), vec(expiry, 16)).prop_map(
        |(members, roles, expiries)| {
            let mut genesis = testkit::genesis(members);
            let mut grants = genesis.grants.clone().into_inner();
            for (grant, expiry) in grants.iter_mut().zip(&expiries) {
                if let Some(expires_at) = expiry {
                    grant.expires_at = Height(*expires_at);
                }
            }
            let mut defined = Vec::new();
            for (i, (delegable, max_grant_blocks, expiry)) in roles.into_iter().enumerate() {
                let role = RoleId::new(format!("r{i}")).expect("valid");
                let definition = RoleDefinition { scope: RoleScope::Alliance, delegable, max_grant_blocks };
                defined.push(GenesisRole { role: role.clone(), definition });
                let expires_at = Height(expiry.unwrap_or(max_grant_blocks));
                grants.push(GenesisGrant { account: testkit::account("m0-ops"), role, expires_at });
            }
            genesis.roles = BoundedVec::try_new(defined).expect("few roles");
            genesis.grants = BoundedVec::try_new(grants).expect("few grants");
            genesis
        },
    )
}

proptest! {
    #![proptest_config(config(256))]

    /// Whatever roles and grants a genesis names, the state it creates holds no role whose grants may outlast
    /// `MAX_GRANT_BLOCKS` and no grant beyond its role's limit from height 0; a genesis that asks for one is
    /// refused by name (`GrantLimitTooLong`, `GrantTooLong`), never admitted.
    #[test]
    fn a_genesis_never_holds_a_grant_that_outlasts_its_bound(genesis in genesis_with_grants()) {
        match execution::apply_genesis(&genesis) {
            Ok(state) => {
                let mut store = MemoryStore::new();
                store.apply(state.changes);
                let roles: BTreeMap<RoleId, RoleDefinition> = ROLES.all(&store).expect("roles").into_iter().collect();
                for (role, definition) in &roles {
                    prop_assert!(definition.max_grant_blocks <= MAX_GRANT_BLOCKS, "{} is unbounded", role);
                }
                for ((account, role), grant) in GRANTS.all(&store).expect("grants") {
                    let max = Height(0).plus(roles[&role].max_grant_blocks);
                    prop_assert!(grant.expires_at <= max, "{}'s {} grant outlasts {}", account, role, max);
                }
            }
            Err(execution::GenesisError::Invalid(
                Rejection::GrantLimitTooLong { .. } | Rejection::GrantTooLong { .. },
            )) => {}
            Err(other) => prop_assert!(false, "refused for another reason: {}", other),
        }
    }
}

// --- a lone governor against its own member's accounts ----------------------------------------------------------

/// One step of a takeover attempt on a four-member chain where `m1` has a second governor.
#[derive(Debug, Clone)]
enum Takeover {
    /// `sender` (any account) reports `target`'s key compromised (its current key, or a key it does not hold),
    /// naming, when `replace`, a replacement key of the sender's choosing with a valid proof for the target.
    Report { sender: u8, target: u8, current: bool, replace: bool },
    /// The holder rotates its own key.
    Rotate { account: u8 },
    /// Every other member's governor suspends `member`.
    Suspend { member: u8 },
    /// Every other member's governor reinstates `member`.
    Reinstate { member: u8 },
}

fn takeover() -> impl Strategy<Value = Takeover> {
    let i = any::<u8>;
    prop_oneof![
        6 => (i(), i(), prop::bool::weighted(0.9), prop::bool::weighted(0.7))
            .prop_map(|(sender, target, current, replace)| Takeover::Report { sender, target, current, replace }),
        1 => i().prop_map(|account| Takeover::Rotate { account }),
        1 => i().prop_map(|member| Takeover::Suspend { member }),
        1 => i().prop_map(|member| Takeover::Reinstate { member }),
    ]
}

/// Plays takeover attempts and checks, after every block, the promise itself: an account's key changes only by its
/// holder's own transaction, no key chosen by another account is ever current, and a key is revoked by someone
/// other than its holder only by a governor of the same member while that member is active.
struct Takeovers {
    chain: TestChain,
    /// The key label each account signs with now, when it is not its id.
    labels: BTreeMap<AccountId, String>,
    /// The labels of replacement keys the holders chose for themselves.
    own: BTreeMap<PublicKey, String>,
    /// Replacement keys chosen by another account than the one they were offered for.
    foreign: Vec<PublicKey>,
    fresh: u64,
}

impl Takeovers {
    fn new() -> Self {
        let mut genesis = testkit::genesis(4);
        let mut members = genesis.members.into_inner();
        let second = NewAccount { account: testkit::account("m1-gov2"), key: public("m1-gov2") };
        members[1].governors.try_push(second).expect("room for a second governor");
        genesis.members = BoundedVec::try_new(members).expect("four members");
        Self {
            chain: TestChain::new(genesis),
            labels: BTreeMap::new(),
            own: BTreeMap::new(),
            foreign: Vec::new(),
            fresh: 0,
        }
    }

    fn label(&self, account: &AccountId) -> String {
        self.labels.get(account).cloned().unwrap_or_else(|| account.as_str().to_string())
    }

    fn accounts(&self) -> Vec<AccountId> {
        ACCOUNTS.all(&self.chain.store).expect("accounts").into_iter().map(|(id, _)| id).collect()
    }

    fn fresh_label(&mut self, chooser: &AccountId) -> String {
        self.fresh = self.fresh.saturating_add(1);
        format!("{chooser}~{}", self.fresh)
    }

    fn tx(&self, sender: &AccountId, payload: Payload) -> SignedTransaction {
        self.chain.tx_with_key(Principal::Account(sender.clone()), &self.label(sender), payload)
    }

    /// Every other active member's governor approves `action` about `member`.
    fn committee(&mut self, action: Action, member: &MemberId) -> Option<SignedTransaction> {
        let approvers: Vec<AccountId> = MEMBERS
            .all(&self.chain.store)
            .expect("members")
            .into_iter()
            .filter(|(id, m)| id != member && m.status == MemberStatus::Active)
            .filter_map(|(_, m)| m.governors.first().cloned())
            .collect();
        let proposer = approvers.first()?.clone();
        let proposal = self.chain.proposal(Principal::Account(proposer.clone()), vec![action]);
        let approvals: Vec<Approval> =
            approvers.iter().map(|a| self.chain.approval_with_key(&proposal, a.as_str(), &self.label(a))).collect();
        let approvals = BoundedVec::try_new(approvals).expect("few approvals");
        Some(self.tx(&proposer, Payload::SubmitProposal { proposal, approvals }))
    }

    fn play(&mut self, step: &Takeover) -> Result<(), TestCaseError> {
        let accounts = self.accounts();
        let members: Vec<MemberId> =
            MEMBERS.all(&self.chain.store).expect("members").into_iter().map(|(id, _)| id).collect();
        let tx = match step {
            Takeover::Report { sender, target, current, replace } => {
                let (Some(sender), Some(target)) = (pick(&accounts, *sender), pick(&accounts, *target)) else {
                    return Ok(());
                };
                let held = ACCOUNTS.get(&self.chain.store, &target).expect("read").and_then(|a| a.key);
                let key = if *current { held.unwrap_or_else(|| public(target.as_str())) } else { public("stranger") };
                let replacement = if *replace {
                    let label = self.fresh_label(&sender);
                    if sender == target {
                        self.own.insert(public(&label), label.clone());
                    } else {
                        self.foreign.push(public(&label));
                    }
                    Some(self.chain.key_proof(Principal::Account(target.clone()), Some(key), &label))
                } else {
                    None
                };
                Some(self.tx(&sender, Payload::MarkKeyCompromised { account: target, key, replacement }))
            }
            Takeover::Rotate { account } => {
                let Some(account) = pick(&accounts, *account) else { return Ok(()) };
                let held = ACCOUNTS.get(&self.chain.store, &account).expect("read").and_then(|a| a.key);
                let label = self.fresh_label(&account);
                self.own.insert(public(&label), label.clone());
                let proof = self.chain.key_proof(Principal::Account(account.clone()), held, &label);
                Some(self.tx(&account, Payload::RotateAccountKey { proof }))
            }
            Takeover::Suspend { member } | Takeover::Reinstate { member } => {
                let Some(member) = pick(&members, *member) else { return Ok(()) };
                let action = match step {
                    Takeover::Suspend { .. } => Action::SuspendMember { member: member.clone() },
                    _ => Action::ReinstateMember { member: member.clone() },
                };
                self.committee(action, &member)
            }
        };
        let Some(tx) = tx else { return Ok(()) };
        let Principal::Account(sender) = tx.tx.sender.clone() else { return Ok(()) };
        let before: BTreeMap<MemberId, MemberRecord> =
            MEMBERS.all(&self.chain.store).expect("members").into_iter().collect();
        let receipt = self.chain.apply(tx);
        let owner_member = |account: &AccountId| {
            ACCOUNTS.get(&self.chain.store, account).expect("read").map(|a| a.member).expect("known account")
        };
        for event in &receipt.events {
            match event {
                Event::AccountKeyChanged { account, new, .. } => {
                    prop_assert!(!TestChain::executed(&receipt), "no step asks the committee for a key");
                    prop_assert_eq!(account, &sender, "{} installed a key for {}", sender, account);
                    let label = self.own.get(new).cloned().expect("a key its holder chose");
                    self.labels.insert(account.clone(), label);
                }
                Event::KeyCompromised { owner: Principal::Account(owner), .. } if owner != &sender => {
                    let member = owner_member(owner);
                    let record = &before[&member];
                    prop_assert!(
                        record.governors.contains(&sender) && record.status == MemberStatus::Active,
                        "{} revoked {}'s key without governing its active member: {:?}",
                        sender,
                        owner,
                        record
                    );
                }
                _ => {}
            }
        }
        for (account, record) in ACCOUNTS.all(&self.chain.store).expect("accounts") {
            if let Some(key) = record.key {
                prop_assert!(!self.foreign.contains(&key), "{} holds a key another account chose", account);
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Whatever any account sends (a lone governor, a co-governor, a suspended member's governor, anyone else), no
    /// account ever takes a key another account chose for it, its key changes only by its own transaction, and
    /// it is revoked by another only through a governor of its own active member.
    #[test]
    fn a_lone_governor_never_takes_over_an_account(steps in vec(takeover(), 1..40)) {
        let mut takeovers = Takeovers::new();
        for step in &steps {
            takeovers.play(step)?;
        }
    }
}

// --- one member's staff against the others' accounts ------------------------------------------------------------

/// One proposal by one member's compliance officer, approved by any of that member's accounts (governor, officer,
/// operator, clerk): `action` 0 freezes, 1 unfreezes, 2 grants the delegable role `kyc`, 3 revokes it, on any
/// account of any member.
#[derive(Debug, Clone)]
struct Reach {
    member: u8,
    action: u8,
    target: u8,
    approvers: u8,
}

fn reach() -> impl Strategy<Value = Reach> {
    (0u8..4, 0u8..4, any::<u8>(), any::<u8>()).prop_map(|(member, action, target, approvers)| Reach {
        member,
        action,
        target,
        approvers,
    })
}

/// Four members, each with a governor, an operator, a compliance officer and an ordinary clerk, and the delegable
/// role `kyc`.
fn staffed_chain() -> TestChain {
    let mut genesis = testkit::genesis(4);
    let mut accounts = genesis.accounts.clone().into_inner();
    let mut grants = genesis.grants.clone().into_inner();
    for i in 0..4 {
        for (suffix, role) in [("compliance", Some(RoleId::compliance())), ("clerk", None)] {
            let label = format!("m{i}-{suffix}");
            if accounts.iter().any(|a| a.account.as_str() == label) {
                continue;
            }
            let member = testkit::member(&format!("m{i}"));
            accounts.push(GenesisAccount { account: testkit::account(&label), member, key: public(&label) });
            if let Some(role) = role {
                grants.push(GenesisGrant { account: testkit::account(&label), role, expires_at: Height(1_000_000) });
            }
        }
    }
    let kyc = GenesisRole {
        role: RoleId::new("kyc").expect("valid"),
        definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 10_000 },
    };
    genesis.accounts = BoundedVec::try_new(accounts).expect("few accounts");
    genesis.grants = BoundedVec::try_new(grants).expect("few grants");
    genesis.roles = BoundedVec::try_new(vec![kyc]).expect("one role");
    TestChain::new(genesis)
}

/// What one member's staff could change about an account: whether it is frozen and its `kyc` grant.
fn account_state(store: &dyn Store, account: &AccountId) -> (bool, Option<Height>) {
    let frozen = ACCOUNTS.get(store, account).expect("read").is_some_and(|a| a.frozen);
    let kyc = RoleId::new("kyc").expect("valid");
    (frozen, GRANTS.get(store, &(account.clone(), kyc)).expect("read").map(|g| g.expires_at))
}

proptest! {
    #![proptest_config(config(128))]

    /// Whatever one member's accounts propose and approve together under the default policy, no account of another
    /// member is frozen, unfrozen, granted or revoked a delegable role, and no operator (the accounts a member needs
    /// to rotate its nodes' keys) is ever frozen.
    #[test]
    fn one_members_staff_never_reach_another_members_accounts(steps in vec(reach(), 1..30)) {
        let mut chain = staffed_chain();
        let kyc = RoleId::new("kyc").expect("valid");
        for step in &steps {
            let all: Vec<(AccountId, MemberId)> =
                ACCOUNTS.all(&chain.store).expect("accounts").into_iter().map(|(id, a)| (id, a.member)).collect();
            let member = testkit::member(&format!("m{}", step.member));
            let staff: Vec<AccountId> = all.iter().filter(|(_, m)| m == &member).map(|(id, _)| id.clone()).collect();
            let Some((target, _)) = pick(&all, step.target) else { continue };
            let action = match step.action {
                0 => Action::FreezeAccount { account: target.clone() },
                1 => Action::UnfreezeAccount { account: target.clone() },
                2 => Action::GrantRole {
                    account: target.clone(),
                    role: kyc.clone(),
                    expires_at: chain.height.plus(100),
                    expected: account_state(&chain.store, &target).1,
                },
                _ => Action::RevokeRole { account: target.clone(), role: kyc.clone() },
            };
            let officer = testkit::account(&format!("{member}-compliance"));
            let proposal = chain.proposal(Principal::Account(officer.clone()), vec![action]);
            let approvals: Vec<Approval> = staff
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < 8 && step.approvers & (1 << i) != 0)
                .map(|(_, a)| chain.approval(&proposal, a.as_str()))
                .collect();
            let approvals = BoundedVec::try_new(approvals).expect("few approvals");
            let before: Vec<(AccountId, (bool, Option<Height>))> =
                all.iter().map(|(id, _)| (id.clone(), account_state(&chain.store, id))).collect();
            let tx = chain.account_tx(officer.as_str(), Payload::SubmitProposal { proposal, approvals });
            chain.apply(tx);
            for ((id, owner), (_, was)) in all.iter().zip(&before) {
                let now = account_state(&chain.store, id);
                if owner != &member {
                    prop_assert_eq!(&now, was, "{}'s staff changed {} of {}", member, id, owner);
                }
                let operator = roles_of(&chain, id).contains(&RoleId::operator());
                prop_assert!(!(operator && now.0), "operator {} was frozen by {}'s staff", id, member);
            }
        }
    }
}

fn roles_of(chain: &TestChain, account: &AccountId) -> Vec<RoleId> {
    GRANTS
        .all(&chain.store)
        .expect("grants")
        .into_iter()
        .filter(|((a, _), _)| a == account)
        .map(|((_, r), _)| r)
        .collect()
}

// --- (e) JSON ---------------------------------------------------------------------------------------------------

fn json_round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + BorshSerialize,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(format!("serialise: {e}")))?;
    let back: T = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(encode(&back), encode(value), "the JSON form changed the signed bytes");
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    /// A transaction survives a JSON round trip unchanged.
    #[test]
    fn transaction_json_round_trips(value in transaction()) { json_round_trips(&value)?; }

    /// A signed transaction survives a JSON round trip unchanged.
    #[test]
    fn signed_transaction_json_round_trips(value in signed_transaction()) { json_round_trips(&value)?; }

    /// A proposal survives a JSON round trip unchanged.
    #[test]
    fn proposal_json_round_trips(value in proposal()) { json_round_trips(&value)?; }

    /// An action survives a JSON round trip unchanged.
    #[test]
    fn action_json_round_trips(value in action()) { json_round_trips(&value)?; }

    /// A receipt survives a JSON round trip unchanged.
    #[test]
    fn receipt_json_round_trips(value in receipt()) { json_round_trips(&value)?; }

    /// A genesis survives a JSON round trip unchanged.
    #[test]
    fn genesis_json_round_trips(value in genesis()) { json_round_trips(&value)?; }

    /// A block header survives a JSON round trip unchanged.
    #[test]
    fn block_header_json_round_trips(value in block_header()) { json_round_trips(&value)?; }

    /// A commit certificate survives a JSON round trip unchanged.
    #[test]
    fn commit_certificate_json_round_trips(value in commit_certificate()) { json_round_trips(&value)?; }

    /// A state proof survives a JSON round trip unchanged.
    #[test]
    fn state_proof_json_round_trips(value in state_proof()) { json_round_trips(&value)?; }
}

// --- removed node ids -----------------------------------------------------------------------------------------

/// Ids of mixed lengths the node histories draw from (none of them a genesis node's).
const NODE_POOL: [&str; 4] = ["z", "n10", "n22", "beijing-2"];

/// One step of a node history over [`NODE_POOL`]: admit an id for a member with a key never used before, remove it,
/// or have it attest readiness with the last key it held.
#[derive(Debug, Clone)]
enum NodeStep {
    Admit { id: usize, owner: usize },
    Remove { id: usize },
    Attest { id: usize },
}

fn node_step() -> impl Strategy<Value = NodeStep> {
    prop_oneof![
        2 => (0..NODE_POOL.len(), 0usize..4).prop_map(|(id, owner)| NodeStep::Admit { id, owner }),
        1 => (0..NODE_POOL.len()).prop_map(|id| NodeStep::Remove { id }),
        1 => (0..NODE_POOL.len()).prop_map(|id| NodeStep::Attest { id }),
    ]
}

/// The reason a committee proposal's execution failed, if it did.
fn failure(receipt: &Receipt) -> Option<Rejection> {
    receipt.events.iter().find_map(|e| match e {
        Event::ProposalFailed { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

proptest! {
    #![proptest_config(config(48))]

    /// Random histories of admissions (any owner, always a fresh key), removals and attestations over four ids:
    /// once removed, an id is never admitted again (`NodeIdRetired`) and nothing naming it applies, neither a
    /// proposal's action nor its own transaction (`NodeRemoved`); ids never removed behave as before.
    #[test]
    fn a_removed_node_id_is_never_admitted_again(steps in vec(node_step(), 1..20)) {
        let mut chain = TestChain::with_members(4);
        let governors = TestChain::governors(4);
        let governors: Vec<&str> = governors.iter().map(String::as_str).collect();
        // Per id of the pool: its current key's label while admitted, and its removal height once removed.
        let mut keys: BTreeMap<usize, String> = BTreeMap::new();
        let mut removed: BTreeMap<usize, Height> = BTreeMap::new();
        for (n, step) in steps.iter().enumerate() {
            match *step {
                NodeStep::Admit { id, owner } => {
                    let node = testkit::node(NODE_POOL[id]);
                    let label = format!("{}-key-{n}", NODE_POOL[id]);
                    let admit = Action::AdmitNode {
                        node: node.clone(),
                        owner: testkit::member(&format!("m{owner}")),
                        key: public(&label),
                        address: BoundedString::try_new("10.0.0.1:26656").expect("short"),
                    };
                    let (_, receipt) = chain.propose(governors[0], vec![admit], &governors);
                    let expected = match (removed.get(&id), keys.contains_key(&id)) {
                        (Some(&removed_at), _) => Some(Rejection::NodeIdRetired { node, removed_at }),
                        (None, true) => Some(Rejection::NodeExists { node }),
                        (None, false) => None,
                    };
                    prop_assert_eq!(failure(&receipt), expected.clone(), "{:?}", receipt);
                    if expected.is_none() {
                        prop_assert!(TestChain::executed(&receipt), "{:?}", receipt);
                        keys.insert(id, label);
                    }
                }
                NodeStep::Remove { id } => {
                    let node = testkit::node(NODE_POOL[id]);
                    let remove = Action::RemoveNode { node: node.clone(), override_fault_tolerance: false };
                    let (_, receipt) = chain.propose(governors[0], vec![remove], &governors);
                    let expected = match (removed.get(&id), keys.contains_key(&id)) {
                        (Some(&removed_at), _) => Some(Rejection::NodeRemoved { node, removed_at }),
                        (None, true) => None,
                        (None, false) => Some(Rejection::UnknownNode { node }),
                    };
                    prop_assert_eq!(failure(&receipt), expected.clone(), "{:?}", receipt);
                    if expected.is_none() {
                        prop_assert!(TestChain::executed(&receipt), "{:?}", receipt);
                        removed.insert(id, chain.height);
                    }
                }
                NodeStep::Attest { id } => {
                    let node = testkit::node(NODE_POOL[id]);
                    let label = keys.get(&id).cloned().unwrap_or_else(|| format!("{}-never", NODE_POOL[id]));
                    let payload = Payload::AttestReadiness { synced_height: chain.height };
                    let receipt = chain.apply(chain.tx_with_key(Principal::Node(node.clone()), &label, payload));
                    let expected = match (removed.get(&id), keys.contains_key(&id)) {
                        (Some(&removed_at), _) => Outcome::Rejected { reason: Rejection::NodeRemoved { node, removed_at } },
                        (None, true) => Outcome::Applied,
                        (None, false) => Outcome::Rejected { reason: Rejection::UnknownNode { node } },
                    };
                    prop_assert_eq!(&receipt.outcome, &expected, "{:?}", receipt);
                }
            }
            for id in removed.keys() {
                prop_assert!(NODES.get(&chain.store, &testkit::node(NODE_POOL[*id])).expect("readable").is_none());
            }
        }
    }
}
