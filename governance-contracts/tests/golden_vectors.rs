//! Golden vectors: the canonical bytes and digests of the protocol's wire types, pinned in
//! `tests/golden/vectors.json` so that the node, the CLI and the browser can check they encode and hash exactly alike.
//!
//! Every value is rebuilt here from code (derived testkit keys; Ed25519 signatures are deterministic) and compared
//! with the file: its canonical bytes, its digest, its signature, and decoding the file's hex must give back the same
//! value. The format of the file is described by its own `"format"` and `"kinds"` fields.
//!
//! **Changing the file is a visible wire-format change.** When a change to a type's encoding, a signing domain or
//! the state layout is deliberate, regenerate the file with
//!
//! ```text
//! SYNOD_BLESS_GOLDEN=1 cargo test -p governance-contracts --test golden_vectors
//! ```
//!
//! and review the diff of `vectors.json` like any other protocol change (ADR 0001): every party that decodes, hashes
//! or signs these types must move with it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::OnceLock;

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{BoundedString, BoundedVec, Name, decode, encode};
use governance_contracts::crypto::{Digest, PublicKey, SecretKey, Signature};
use governance_contracts::domain::{ChainIdentity, Domain};
use governance_contracts::error::Rejection;
use governance_contracts::execution;
use governance_contracts::ids::{BlockHash, Height, ProposalId, RoleId, TxHash, Weight};
use governance_contracts::testkit::{self, TestChain, account, member, node, public, secret};
use governance_contracts::types::{
    Action, ActionKind, Approval, BlockHeader, ChainParams, CommitCertificate, CommitSignature, ConsensusProposal,
    ConsensusVote, CountedVote, Event, GENESIS_TAG, Genesis, HandshakeStatement, JudgedRequirement, KeyProof,
    KeyProofBody, LoginChallenge, NewAccount, Outcome, Payload, Principal, Proposal, Receipt, RoleDefinition,
    RoleScope, Rule, SignedTransaction, Transaction, ValidatorSet, Verdict, VoteKind, receipts_root, transactions_root,
    verify_certificate,
};
use serde::{Deserialize, Serialize};

/// The environment variable that makes the suite rewrite the file instead of checking it.
const BLESS_VAR: &str = "SYNOD_BLESS_GOLDEN";

/// The checked-in file.
const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/vectors.json");

/// The largest the file may grow.
const MAX_FILE_BYTES: usize = 200 * 1024;

/// The message hashed under every domain in the domain vectors.
const DOMAIN_MESSAGE: &[u8] = b"synod golden vector: fixed message bytes";

const FORMAT: &str = "synod-golden-vectors/v1. Canonical bytes are borsh (ADR 0001) as written by \
governance_contracts::codec::encode. Each entry of `vectors` has: `name` (unique), `kind` (see `kinds`, which says \
what the bytes are and how `digest` is computed), `canonical_hex` (lowercase hex of the canonical bytes), `digest` \
(text form `sha256:<hex>`), and where relevant `domain` (the domain tag the digest is taken under), `key` (the \
signer's public key, `ed25519:<hex>`) and `signature` (`ed25519:<hex>`, over the 32 digest bytes). A domain digest \
of bytes B under a chain C is SHA-256(u32le(len(tag)) || tag || u32le(len(C.chain_id)) || C.chain_id || \
C.genesis_hash (32 raw bytes) || B) (ADR 0003). Entries of kind signing_domain and hash_domain use `domain_chain`; \
every other entry belongs to `chain`, the identity of the genesis entry `genesis/4-members`. Keys are derived from \
public labels by the testkit: never use them on a real chain. Regenerate only for a deliberate wire-format change: \
SYNOD_BLESS_GOLDEN=1 cargo test -p governance-contracts --test golden_vectors";

/// What each kind's bytes are and how its digest is computed.
fn kinds() -> BTreeMap<String, String> {
    [
        (
            "signing_domain",
            "the raw bytes of DOMAIN_MESSAGE (not borsh); digest: the domain digest under `domain_chain`",
        ),
        ("hash_domain", "as signing_domain, for domains that hash but are never signed"),
        ("genesis", "a Genesis; digest: SHA-256(u32le(len(tag)) || tag || bytes) with tag \"synod/v1/genesis\""),
        ("state_root", "a Digest (tag byte 0 = SHA-256, then 32 bytes); digest: the root itself"),
        (
            "signed_transaction",
            "a SignedTransaction (tx || key || signature: the Transaction's bytes are all but the last 98); digest: \
             the transaction hash, the domain digest of the Transaction's bytes; signed by `key`",
        ),
        ("proposal", "a Proposal; digest: its approval digest, which is also its id"),
        (
            "approval",
            "an Approval of `proposal/admit-member`; digest: that proposal's approval digest (what `key` signed)",
        ),
        (
            "key_proof",
            "a KeyProof (body || signature: the body's bytes are all but the last 65); digest: the domain digest of \
             the body; signed by the body's new key",
        ),
        ("receipt", "a Receipt; digest: plain SHA-256 of the bytes (a checksum: receipts have no digest of their own)"),
        ("block_header", "a BlockHeader; digest: the block hash"),
        ("validator_set", "a ValidatorSet; digest: the validator set hash"),
        ("consensus_vote", "a ConsensusVote; digest: its signing digest; signed by the voter's key"),
        ("consensus_proposal", "a ConsensusProposal; digest: its signing digest; signed by the proposer's key"),
        (
            "login_challenge",
            "a LoginChallenge (never on chain); digest: its signing digest; signed by the account's key",
        ),
        (
            "handshake_statement",
            "a HandshakeStatement (never on chain); digest: its signing digest; signed by its node key",
        ),
        (
            "commit_certificate",
            "a CommitCertificate for block_header `block/1` under validator_set `validator-set/genesis`; digest: \
             plain SHA-256 of the bytes (a checksum)",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GoldenFile {
    format: String,
    kinds: BTreeMap<String, String>,
    domain_chain: ChainIdentity,
    chain: ChainIdentity,
    vectors: Vec<Vector>,
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Vector {
    name: String,
    kind: String,
    canonical_hex: String,
    digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
}

/// Decodes bytes as the entry's type and compares with the value rebuilt from code.
type Check = Box<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// A vector rebuilt from code, with the typed check of its bytes.
struct Built {
    vector: Vector,
    check: Check,
}

fn typed_check<T>(value: T) -> Check
where
    T: BorshSerialize + BorshDeserialize + PartialEq + Debug + Send + Sync + 'static,
{
    Box::new(move |bytes: &[u8]| {
        let decoded: T = decode(bytes).map_err(|e| format!("does not decode: {e}"))?;
        if decoded != value {
            return Err(format!("decodes to {decoded:?}, the code builds {value:?}"));
        }
        if encode(&decoded) != bytes {
            return Err("re-encoding the decoded value gives other bytes".into());
        }
        Ok(())
    })
}

/// A vector over a value's canonical bytes.
fn entry<T>(name: &str, kind: &str, value: T, digest: Digest) -> Built
where
    T: BorshSerialize + BorshDeserialize + PartialEq + Debug + Send + Sync + 'static,
{
    let vector = Vector {
        name: name.to_string(),
        kind: kind.to_string(),
        canonical_hex: hex::encode(encode(&value)),
        digest: digest.to_string(),
        domain: None,
        key: None,
        signature: None,
    };
    Built { vector, check: typed_check(value) }
}

fn signed(mut built: Built, domain: Domain, key: PublicKey, signature: Signature) -> Built {
    built.vector.domain = Some(domain.tag().to_string());
    built.vector.key = Some(key.to_string());
    built.vector.signature = Some(signature.to_string());
    built
}

fn in_domain(mut built: Built, domain: Domain) -> Built {
    built.vector.domain = Some(domain.tag().to_string());
    built
}

fn checksum(bytes: &[u8]) -> Digest {
    Digest::sha256(&[bytes])
}

fn text<const N: usize>(s: &str) -> BoundedString<N> {
    BoundedString::try_new(s).expect("fixture text is valid")
}

fn list<T, const N: usize>(items: Vec<T>) -> BoundedVec<T, N> {
    BoundedVec::try_new(items).expect("fixture list is within bound")
}

/// The fixed identity the domain vectors are taken under (independent of any genesis).
fn domain_chain() -> ChainIdentity {
    ChainIdentity { chain_id: Name::new("golden-vectors").expect("valid"), genesis_hash: Digest::Sha256([0x5a; 32]) }
}

/// Every domain with a vector: the signing domains, then those that only hash.
fn domain_vectors() -> Vec<Built> {
    let chain = domain_chain();
    let mut out = Vec::new();
    let hashing = [Domain::BLOCK_HEADER, Domain::VALIDATOR_SET, Domain::LIST_ROOT];
    for (kind, domains) in [("signing_domain", &Domain::SIGNING[..]), ("hash_domain", &hashing[..])] {
        for domain in domains {
            let digest = chain.digest_bytes(*domain, DOMAIN_MESSAGE);
            let vector = Vector {
                name: format!("domain/{}", domain.tag()),
                kind: kind.to_string(),
                canonical_hex: hex::encode(DOMAIN_MESSAGE),
                digest: digest.to_string(),
                domain: Some(domain.tag().to_string()),
                key: None,
                signature: None,
            };
            let check: Check =
                Box::new(
                    |bytes: &[u8]| {
                        if bytes == DOMAIN_MESSAGE { Ok(()) } else { Err("not the fixed domain message".into()) }
                    },
                );
            out.push(Built { vector, check });
        }
    }
    out
}

fn tx(chain: &ChainIdentity, sender: Principal, key_label: &str, payload: Payload) -> SignedTransaction {
    Transaction { sender, valid_until: Height(10), payload }.sign(chain, &secret(key_label))
}

fn acct(label: &str) -> Principal {
    Principal::Account(account(label))
}

fn proposal(proposer: Principal, title: &str, description: &str, actions: Vec<Action>, salt: u64) -> Proposal {
    Proposal {
        proposer,
        title: text(title),
        description: text(description),
        actions: list(actions),
        expires_at: Height(100),
        salt,
    }
}

fn key_proof(chain: &ChainIdentity, subject: Principal, old: Option<&str>, new: &str) -> KeyProof {
    KeyProofBody { subject, old_key: old.map(public), new_key: public(new), expires_at: Height(50) }
        .sign(chain, &secret(new))
}

/// Proposals covering every action variant, by name.
fn proposals(chain: &ChainIdentity) -> Vec<(&'static str, Proposal)> {
    let params = ChainParams { max_block_transactions: 20_000, ..ChainParams::default() };
    let new_params = ChainParams { block_interval_ms: 2_000, max_tx_ttl: 1_800, ..params.clone() };
    vec![
        (
            "proposal/admit-member",
            proposal(
                acct("m0-gov"),
                "Admit NewCo",
                "NewCo joins the alliance.\nTwo governors.",
                vec![Action::AdmitMember {
                    member: member("newco"),
                    name: text("NewCo Ltd. — Zürich"),
                    weight: Weight(2),
                    governors: list(vec![
                        NewAccount { account: account("newco-gov"), key: public("newco-gov") },
                        NewAccount { account: account("newco-gov2"), key: public("newco-gov2") },
                    ]),
                }],
                1,
            ),
        ),
        (
            "proposal/committee",
            proposal(
                acct("m1-gov"),
                "Committee changes",
                "",
                vec![
                    Action::SetMemberWeight { member: member("m1"), expected: Weight(1), weight: Weight(3) },
                    Action::SuspendMember { member: member("m2") },
                    Action::ReinstateMember { member: member("m2") },
                    Action::ExpelMember { member: member("m3") },
                    Action::ReplaceGovernors {
                        member: member("m1"),
                        expected: list(vec![account("m1-gov")]),
                        governors: list(vec![account("m1-gov"), account("m1-ops")]),
                    },
                ],
                2,
            ),
        ),
        (
            "proposal/accounts",
            proposal(
                acct("m0-gov"),
                "Accounts",
                "create, freeze, unfreeze, replace a key",
                vec![
                    Action::CreateAccount { account: account("m0-app"), member: member("m0"), key: public("m0-app") },
                    Action::FreezeAccount { account: account("m1-ops") },
                    Action::UnfreezeAccount { account: account("m1-ops") },
                    Action::ReplaceAccountKey {
                        account: account("m2-ops"),
                        proof: key_proof(chain, acct("m2-ops"), Some("m2-ops"), "m2-ops-2"),
                    },
                ],
                3,
            ),
        ),
        (
            "proposal/roles",
            proposal(
                acct("m0-compliance"),
                "Roles",
                "",
                vec![
                    Action::DefineRole {
                        role: RoleId::new("treasury").expect("valid"),
                        definition: RoleDefinition {
                            scope: RoleScope::Member(member("m0")),
                            delegable: true,
                            max_grant_blocks: 86_400,
                        },
                    },
                    Action::GrantRole {
                        account: account("m0-ops"),
                        role: RoleId::new("treasury").expect("valid"),
                        expires_at: Height(5_000),
                        expected: None,
                    },
                    Action::GrantRole {
                        account: account("m1-ops"),
                        role: RoleId::operator(),
                        expires_at: Height(2_000_000),
                        expected: Some(Height(1_000_000)),
                    },
                    Action::RevokeRole { account: account("m0-auditor"), role: RoleId::auditor() },
                ],
                4,
            ),
        ),
        (
            "proposal/nodes",
            proposal(
                acct("m2-gov"),
                "Nodes",
                "",
                vec![
                    Action::AdmitNode {
                        node: node("n9"),
                        owner: member("m2"),
                        key: public("n9"),
                        address: text("n9.example.org:26656"),
                    },
                    Action::PromoteNode { node: node("n9"), weight: Weight(1), override_fault_tolerance: false },
                    Action::DemoteNode { node: node("n3"), override_fault_tolerance: true },
                    Action::SetNodeWeight {
                        node: node("n1"),
                        expected: Weight(1),
                        weight: Weight(2),
                        override_fault_tolerance: false,
                    },
                    Action::RemoveNode { node: node("n3"), override_fault_tolerance: false },
                    Action::SetNodeAddress {
                        node: node("n2"),
                        expected: text("127.0.0.1:26002"),
                        address: text("[::1]:26002"),
                    },
                    Action::RevokeNodeKey { node: node("n0"), key: public("n0"), override_fault_tolerance: false },
                    Action::ReplaceNodeKey {
                        node: node("n0"),
                        proof: key_proof(chain, Principal::Node(node("n0")), None, "n0-2"),
                    },
                ],
                5,
            ),
        ),
        (
            "proposal/node-key-rotation",
            proposal(
                Principal::Node(node("n1")),
                "Rotate n1's key",
                "",
                vec![Action::RotateNodeKey {
                    node: node("n1"),
                    proof: key_proof(chain, Principal::Node(node("n1")), Some("n1"), "n1-2"),
                }],
                6,
            ),
        ),
        (
            "proposal/policy-and-params",
            proposal(
                acct("m3-gov"),
                "Policy and parameters",
                "",
                vec![
                    Action::SetPolicyRule {
                        kind: ActionKind::AdmitNode,
                        expected: Some(Rule::weight(2, 3, false, 0)),
                        rule: Rule::weight(3, 4, true, 5),
                    },
                    Action::SetPolicyRule {
                        kind: ActionKind::SetNodeAddress,
                        expected: Some(Rule::role(RoleId::operator(), true)),
                        rule: Rule {
                            requirement: governance_contracts::types::Requirement::TargetGovernor,
                            delay_blocks: 0,
                        },
                    },
                    Action::SetParams { expected: params, params: new_params },
                    Action::CancelProposal { proposal: ProposalId(Digest::Sha256([7; 32])) },
                ],
                7,
            ),
        ),
    ]
}

/// One signed transaction of every payload kind.
fn transactions(chain: &ChainIdentity, submitted: &Proposal) -> Vec<(&'static str, SignedTransaction)> {
    let id = submitted.id(chain);
    let approve = |who: &str| submitted.approve(chain, account(who), &secret(who));
    vec![
        (
            "tx/submit-proposal",
            tx(
                chain,
                acct("m0-gov"),
                "m0-gov",
                Payload::SubmitProposal { proposal: submitted.clone(), approvals: list(vec![approve("m0-gov")]) },
            ),
        ),
        (
            "tx/approve",
            tx(
                chain,
                acct("m3-ops"),
                "m3-ops",
                Payload::Approve { proposal: id, approvals: list(vec![approve("m1-gov"), approve("m2-gov")]) },
            ),
        ),
        ("tx/revoke-approval", tx(chain, acct("m2-gov"), "m2-gov", Payload::RevokeApproval { proposal: id })),
        ("tx/cancel-proposal", tx(chain, acct("m0-gov"), "m0-gov", Payload::CancelProposal { proposal: id })),
        ("tx/execute-proposal", tx(chain, acct("m3-gov"), "m3-gov", Payload::ExecuteProposal { proposal: id })),
        (
            "tx/rotate-account-key",
            tx(
                chain,
                acct("m1-ops"),
                "m1-ops",
                Payload::RotateAccountKey { proof: key_proof(chain, acct("m1-ops"), Some("m1-ops"), "m1-ops-2") },
            ),
        ),
        (
            "tx/mark-key-compromised",
            tx(
                chain,
                acct("m2-gov"),
                "m2-gov",
                Payload::MarkKeyCompromised {
                    account: account("m2-ops"),
                    key: public("m2-ops"),
                    replacement: Some(key_proof(chain, acct("m2-ops"), Some("m2-ops"), "m2-ops-3")),
                },
            ),
        ),
        (
            "tx/attest-readiness",
            tx(chain, Principal::Node(node("n2")), "n2", Payload::AttestReadiness { synced_height: Height(0) }),
        ),
        (
            "tx/anchor-audit-trail",
            tx(
                chain,
                acct("m1-console"),
                "m1-console",
                Payload::AnchorAuditTrail { seq: 42, head: Digest::Sha256([0x42; 32]) },
            ),
        ),
    ]
}

fn signed_tx_entry(chain: &ChainIdentity, name: &str, tx: SignedTransaction) -> Built {
    let (digest, key, signature) = (tx.tx.signing_digest(chain), tx.key, tx.signature);
    signed(entry(name, "signed_transaction", tx, digest), Domain::TRANSACTION, key, signature)
}

/// A hand-made receipt with a rejection and a few events, covering shapes execution rarely produces.
fn rejected_receipt() -> Receipt {
    Receipt {
        tx: TxHash(Digest::Sha256([3; 32])),
        outcome: Outcome::Rejected {
            reason: Rejection::TransactionExpired { valid_until: Height(9), height: Height(12) },
        },
        events: vec![
            Event::ProposalFailed {
                proposal: ProposalId(Digest::Sha256([4; 32])),
                reason: Rejection::SealerBudgetExceeded { changed: Weight(2), tolerated: Weight(1) },
                verdict: Verdict {
                    approvals: vec![CountedVote {
                        account: account("m1-admin"),
                        member: member("m1"),
                        governor: true,
                        weight: Weight(3),
                    }],
                    requirements: vec![JudgedRequirement {
                        kind: ActionKind::SetMemberWeight,
                        rule: Rule::weight(2, 3, false, 0),
                        target: None,
                        met: true,
                        approved_weight: 3,
                        seated_weight: 4,
                    }],
                },
            },
            Event::AccountKeyChanged { account: account("m1-ops"), old: None, new: public("m1-ops-2") },
            Event::SealerSetChanged {
                total_before: Weight(4),
                total_after: Weight(5),
                fault_tolerance_before: Weight(1),
                fault_tolerance_after: Weight(1),
            },
            Event::ParamsChanged,
        ],
    }
}

fn vote(chain: &ChainIdentity, name: &str, vote: ConsensusVote) -> Built {
    let secret = secret(vote.voter.as_str());
    let digest = vote.signing_digest(chain);
    let signature = secret.sign(&digest);
    signed(entry(name, "consensus_vote", vote, digest), Domain::CONSENSUS_VOTE, secret.public_key(), signature)
}

fn precommit_signature(chain: &ChainIdentity, height: Height, round: u32, block: BlockHash, voter: &str) -> Signature {
    let vote = ConsensusVote { height, round, kind: VoteKind::Precommit, block: Some(block), voter: node(voter) };
    secret(voter).sign(&vote.signing_digest(chain))
}

/// Every vector, in file order.
fn build() -> (ChainIdentity, Vec<Built>) {
    let genesis = testkit::genesis(4);
    let chain = genesis.identity();
    let mut out = domain_vectors();

    let genesis_root = execution::apply_genesis(&genesis).expect("testkit genesis applies").state_root;
    out.push(entry("genesis/4-members", "genesis", genesis.clone(), genesis.hash()));
    out.push(entry("state-root/genesis", "state_root", genesis_root, genesis_root));

    let proposals = proposals(&chain);
    let submitted = proposals[0].1.clone();
    for (name, tx) in transactions(&chain, &submitted) {
        out.push(signed_tx_entry(&chain, name, tx));
    }
    for (name, proposal) in &proposals {
        out.push(in_domain(
            entry(name, "proposal", proposal.clone(), proposal.approval_digest(&chain)),
            Domain::APPROVAL,
        ));
    }
    for (name, approver) in [("approval/m1-gov", "m1-gov"), ("approval/m2-gov", "m2-gov")] {
        let approval: Approval = submitted.approve(&chain, account(approver), &secret(approver));
        let (key, signature) = (approval.key, approval.signature);
        let digest = submitted.approval_digest(&chain);
        out.push(signed(entry(name, "approval", approval, digest), Domain::APPROVAL, key, signature));
    }
    let proof = key_proof(&chain, acct("m1-ops"), Some("m1-ops"), "m1-ops-2");
    let digest = chain.digest(Domain::KEY_PROOF, &proof.body);
    let (key, signature) = (proof.body.new_key, proof.signature);
    out.push(signed(entry("key-proof/m1-ops", "key_proof", proof, digest), Domain::KEY_PROOF, key, signature));

    // Block 1, applied for real: its header pins the state root, the list roots and the validator sets.
    let mut test_chain = TestChain::new(genesis.clone());
    let freeze_action = Action::FreezeAccount { account: account("m0-auditor") };
    let freeze = proposal(acct("m0-compliance"), "Freeze m0-auditor", "", vec![freeze_action], 8);
    let approval = freeze.approve(&chain, account("m0-compliance"), &secret("m0-compliance"));
    let block_txs = vec![
        tx(
            &chain,
            acct("m0-compliance"),
            "m0-compliance",
            Payload::SubmitProposal { proposal: freeze, approvals: list(vec![approval]) },
        ),
        tx(&chain, Principal::Node(node("n2")), "n2", Payload::AttestReadiness { synced_height: Height(0) }),
        tx(&chain, acct("m1-gov"), "m1-gov", Payload::ExecuteProposal { proposal: ProposalId(Digest::ZERO) }),
    ];
    let genesis_set: ValidatorSet = execution::validator_set(&test_chain.store).expect("genesis validator set");
    let outcome = test_chain.apply_block(block_txs.clone());
    let header = BlockHeader {
        height: Height(1),
        parent: BlockHash(Digest::ZERO),
        state_root: outcome.state_root,
        transactions_root: transactions_root(&chain, &block_txs),
        receipts_root: receipts_root(&chain, &outcome.receipts),
        validator_set_hash: genesis_set.hash(&chain),
        next_validator_set_hash: outcome.next_validator_set.hash(&chain),
        proposer: node("n0"),
        time_ms: genesis.genesis_time_ms.saturating_add(1_000),
    };
    let block_hash = header.hash(&chain);
    assert!(TestChain::executed(&outcome.receipts[0]), "the freeze executes: {:?}", outcome.receipts[0]);
    assert_eq!(outcome.receipts[1].outcome, Outcome::Applied, "the attestation applies");
    assert_eq!(
        outcome.receipts[2].outcome,
        Outcome::Rejected { reason: Rejection::UnknownProposal { proposal: ProposalId(Digest::ZERO) } }
    );
    for (i, receipt) in outcome.receipts.iter().enumerate() {
        let name = format!("receipt/block-1/{i}");
        out.push(entry(&name, "receipt", receipt.clone(), checksum(&encode(receipt))));
    }
    let rejected = rejected_receipt();
    out.push(entry("receipt/hand-made", "receipt", rejected.clone(), checksum(&encode(&rejected))));
    let anchored = Receipt {
        tx: TxHash(Digest::Sha256([5; 32])),
        outcome: Outcome::Applied,
        events: vec![Event::AuditTrailAnchored {
            account: account("m1-console"),
            seq: 42,
            head: Digest::Sha256([0x42; 32]),
        }],
    };
    out.push(entry("receipt/anchored", "receipt", anchored.clone(), checksum(&encode(&anchored))));
    out.push(entry("state-root/block-1", "state_root", outcome.state_root, outcome.state_root));
    out.push(in_domain(entry("block/1", "block_header", header.clone(), block_hash.0), Domain::BLOCK_HEADER));
    out.push(in_domain(
        entry("validator-set/genesis", "validator_set", genesis_set.clone(), genesis_set.hash(&chain)),
        Domain::VALIDATOR_SET,
    ));

    let precommit = ConsensusVote {
        height: Height(1),
        round: 0,
        kind: VoteKind::Precommit,
        block: Some(block_hash),
        voter: node("n0"),
    };
    out.push(vote(&chain, "consensus-vote/precommit-n0", precommit));
    let nil = ConsensusVote { height: Height(1), round: 2, kind: VoteKind::Prevote, block: None, voter: node("n1") };
    out.push(vote(&chain, "consensus-vote/prevote-nil-n1", nil));
    for (name, valid_round) in [("consensus-proposal/n0", None), ("consensus-proposal/n0-valid-round-1", Some(1))] {
        let round = if valid_round.is_some() { 2 } else { 0 };
        let proposal =
            ConsensusProposal { height: Height(1), round, valid_round, block: block_hash, proposer: node("n0") };
        let digest = proposal.signing_digest(&chain);
        let signature = secret("n0").sign(&digest);
        out.push(signed(
            entry(name, "consensus_proposal", proposal, digest),
            Domain::CONSENSUS_PROPOSAL,
            public("n0"),
            signature,
        ));
    }
    let login = LoginChallenge {
        account: account("m0-gov"),
        origin: text("https://console.m0.example"),
        nonce: [0x42; 32],
        expires_at_ms: genesis.genesis_time_ms.saturating_add(300_000),
    };
    let digest = login.signing_digest(&chain);
    let signature = secret("m0-gov").sign(&digest);
    out.push(signed(
        entry("login-challenge/m0-gov", "login_challenge", login, digest),
        Domain::CONSOLE_LOGIN,
        public("m0-gov"),
        signature,
    ));
    let handshake =
        HandshakeStatement { handshake_hash: [0x17; 32], transport_key: [0x29; 32], node_key: public("n0") };
    let digest = handshake.signing_digest(&chain);
    let signature = secret("n0").sign(&digest);
    out.push(signed(
        entry("handshake-statement/n0", "handshake_statement", handshake, digest),
        Domain::P2P_HANDSHAKE,
        public("n0"),
        signature,
    ));
    let certificate = CommitCertificate {
        height: Height(1),
        round: 0,
        block: block_hash,
        signatures: list(
            ["n0", "n1", "n2"]
                .into_iter()
                .map(|n| CommitSignature {
                    node: node(n),
                    signature: precommit_signature(&chain, Height(1), 0, block_hash, n),
                })
                .collect(),
        ),
    };
    verify_certificate(&chain, &header, &certificate, &genesis_set).expect("the golden certificate is valid");
    out.push(entry(
        "commit-certificate/block-1",
        "commit_certificate",
        certificate.clone(),
        checksum(&encode(&certificate)),
    ));
    (chain, out)
}

fn built() -> &'static (ChainIdentity, Vec<Built>) {
    static BUILT: OnceLock<(ChainIdentity, Vec<Built>)> = OnceLock::new();
    BUILT.get_or_init(build)
}

/// The file as the code builds it.
fn expected_file() -> GoldenFile {
    let (chain, vectors) = built();
    GoldenFile {
        format: FORMAT.to_string(),
        kinds: kinds(),
        domain_chain: domain_chain(),
        chain: chain.clone(),
        vectors: vectors.iter().map(|b| b.vector.clone()).collect(),
    }
}

fn render(file: &GoldenFile) -> String {
    let mut text = serde_json::to_string_pretty(file).expect("the golden file serialises");
    text.push('\n');
    text
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

/// The file under test: read from disk, or, when blessing, the one the code builds (so that no test reads a file
/// another is writing).
fn golden() -> GoldenFile {
    if blessing() {
        return expected_file();
    }
    let text = std::fs::read_to_string(FILE)
        .unwrap_or_else(|e| panic!("cannot read {FILE}: {e}; generate it with {BLESS_VAR}=1"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{FILE} is not a golden vector file: {e}"))
}

fn by_name(file: &GoldenFile) -> BTreeMap<&str, &Vector> {
    file.vectors.iter().map(|v| (v.name.as_str(), v)).collect()
}

/// The checked-in file is exactly what the code builds: every entry's bytes, digest, key and signature, in order,
/// with the documented format (or, with `SYNOD_BLESS_GOLDEN=1`, the file is rewritten).
#[test]
fn file_matches_the_code() {
    let expected = expected_file();
    if blessing() {
        std::fs::write(FILE, render(&expected)).unwrap_or_else(|e| panic!("cannot write {FILE}: {e}"));
        eprintln!("{BLESS_VAR}=1: rewrote {FILE}; review its diff as a wire-format change");
        return;
    }
    let file = golden();
    let found = by_name(&file);
    let mut mismatches = Vec::new();
    for want in &expected.vectors {
        match found.get(want.name.as_str()) {
            None => mismatches.push(format!("{}: missing from the file", want.name)),
            Some(got) => {
                for (field, g, w) in [
                    ("kind", Some(&got.kind), Some(&want.kind)),
                    ("canonical_hex", Some(&got.canonical_hex), Some(&want.canonical_hex)),
                    ("digest", Some(&got.digest), Some(&want.digest)),
                    ("domain", got.domain.as_ref(), want.domain.as_ref()),
                    ("key", got.key.as_ref(), want.key.as_ref()),
                    ("signature", got.signature.as_ref(), want.signature.as_ref()),
                ] {
                    if g != w {
                        mismatches.push(format!("{}: {field} is {g:?} in the file, the code gives {w:?}", want.name));
                    }
                }
            }
        }
    }
    let wanted: Vec<&str> = expected.vectors.iter().map(|v| v.name.as_str()).collect();
    for name in found.keys().filter(|n| !wanted.contains(n)) {
        mismatches.push(format!("{name}: in the file but no longer built by the code"));
    }
    assert!(
        mismatches.is_empty(),
        "golden vectors differ from the code (a wire-format change; if deliberate, rerun with {BLESS_VAR}=1 and \
         review the diff):\n{}",
        mismatches.join("\n")
    );
    assert_eq!(file, expected, "the file's order, format note, kinds or chains differ from the code");
    let text = std::fs::read_to_string(FILE).expect("read above");
    assert_eq!(text, render(&expected), "the file is not in canonical layout; rerun with {BLESS_VAR}=1");
}

/// Decoding every entry's hex gives back exactly the value the code builds, and re-encoding it gives the same bytes.
#[test]
fn hex_decodes_to_the_same_values() {
    let file = golden();
    let found = by_name(&file);
    let (_, built) = built();
    for b in built {
        let vector = found.get(b.vector.name.as_str()).unwrap_or_else(|| panic!("{} missing", b.vector.name));
        let bytes = hex::decode(&vector.canonical_hex).unwrap_or_else(|e| panic!("{}: bad hex: {e}", vector.name));
        (b.check)(&bytes).unwrap_or_else(|e| panic!("{}: {e}", vector.name));
    }
}

/// Every entry with a signature verifies under its key over its digest, and tampering with the digest breaks it.
#[test]
fn signatures_verify_over_their_digests() {
    let file = golden();
    let mut count = 0;
    for v in &file.vectors {
        let (Some(key), Some(signature)) = (&v.key, &v.signature) else { continue };
        let key: PublicKey = key.parse().expect("key text form");
        let signature: Signature = signature.parse().expect("signature text form");
        let digest: Digest = v.digest.parse().expect("digest text form");
        assert!(key.verify(&digest, &signature), "{}: signature does not verify", v.name);
        let mut other = *digest.as_bytes();
        other[0] ^= 1;
        assert!(!key.verify(&Digest::Sha256(other), &signature), "{}: verifies over another digest", v.name);
        count += 1;
    }
    assert_eq!(count, 18, "signed entries: 9 transactions, 2 approvals, a key proof, 2 votes, 2 proposals, 2 sessions");
}

fn decode_entry<T: BorshDeserialize>(file: &GoldenFile, name: &str) -> T {
    let vector = by_name(file).get(name).copied().unwrap_or_else(|| panic!("{name} missing"));
    decode(&hex::decode(&vector.canonical_hex).expect("hex")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The file alone is enough to check the protocol's digests: domain digests follow the documented formula (computed
/// here with SHA-256 directly), the chain identity is the genesis entry's, transaction, key-proof and header digests
/// are domain digests of the documented bytes, and the certificate proves the header final under the set.
#[test]
fn digests_follow_the_documented_rules() {
    use sha2::Digest as _;
    let file = golden();
    let domain_digest = |chain: &ChainIdentity, tag: &str, bytes: &[u8]| {
        let len = |b: &[u8]| u32::try_from(b.len()).expect("short").to_le_bytes();
        let mut h = sha2::Sha256::new();
        h.update(len(tag.as_bytes()));
        h.update(tag.as_bytes());
        h.update(len(chain.chain_id.as_str().as_bytes()));
        h.update(chain.chain_id.as_str().as_bytes());
        h.update(chain.genesis_hash.as_bytes());
        h.update(bytes);
        Digest::Sha256(h.finalize().into()).to_string()
    };
    let mut checked = BTreeMap::<&str, usize>::new();
    for v in &file.vectors {
        let bytes = hex::decode(&v.canonical_hex).expect("hex");
        let expected = match v.kind.as_str() {
            "signing_domain" | "hash_domain" => {
                domain_digest(&file.domain_chain, v.domain.as_deref().expect("domain"), &bytes)
            }
            "genesis" => {
                let len = u32::try_from(GENESIS_TAG.len()).expect("short").to_le_bytes();
                Digest::sha256(&[&len, GENESIS_TAG.as_bytes(), &bytes]).to_string()
            }
            "state_root" => decode::<Digest>(&bytes).expect("digest").to_string(),
            "signed_transaction" => {
                let body = &bytes[..bytes.len() - 98];
                domain_digest(&file.chain, Domain::TRANSACTION.tag(), body)
            }
            "key_proof" => domain_digest(&file.chain, Domain::KEY_PROOF.tag(), &bytes[..bytes.len() - 65]),
            "proposal" => domain_digest(&file.chain, Domain::APPROVAL.tag(), &bytes),
            "block_header" => domain_digest(&file.chain, Domain::BLOCK_HEADER.tag(), &bytes),
            "validator_set" => domain_digest(&file.chain, Domain::VALIDATOR_SET.tag(), &bytes),
            "consensus_vote" => domain_digest(&file.chain, Domain::CONSENSUS_VOTE.tag(), &bytes),
            "consensus_proposal" => domain_digest(&file.chain, Domain::CONSENSUS_PROPOSAL.tag(), &bytes),
            "login_challenge" => domain_digest(&file.chain, Domain::CONSOLE_LOGIN.tag(), &bytes),
            "handshake_statement" => domain_digest(&file.chain, Domain::P2P_HANDSHAKE.tag(), &bytes),
            "receipt" | "commit_certificate" => Digest::sha256(&[&bytes]).to_string(),
            "approval" => {
                let approval: Approval = decode(&bytes).expect("approval");
                let submitted: Transaction = decode_entry::<SignedTransaction>(&file, "tx/submit-proposal").tx;
                let Payload::SubmitProposal { proposal, .. } = submitted.payload else { panic!("not a submission") };
                assert!(approval.key.verify(&proposal.approval_digest(&file.chain), &approval.signature));
                domain_digest(&file.chain, Domain::APPROVAL.tag(), &encode(&proposal))
            }
            other => panic!("{}: undocumented kind {other}", v.name),
        };
        assert_eq!(v.digest, expected, "{}: digest does not follow the rule for {}", v.name, v.kind);
        assert!(file.kinds.contains_key(&v.kind), "{}: kind {} is not documented in `kinds`", v.name, v.kind);
        *checked.entry(v.kind.as_str()).or_default() += 1;
    }
    assert_eq!(checked.len(), file.kinds.len(), "every documented kind has entries: {checked:?}");
    let signing: Vec<&str> =
        file.vectors.iter().filter(|v| v.kind == "signing_domain").map(|v| v.name.as_str()).collect();
    let expected: Vec<String> = Domain::SIGNING.iter().map(|d| format!("domain/{}", d.tag())).collect();
    assert_eq!(signing, expected, "one vector per signing domain, in Domain::SIGNING order");

    let genesis: Genesis = decode_entry(&file, "genesis/4-members");
    assert_eq!(file.chain, genesis.identity(), "`chain` is the identity of the genesis entry");
    let header: BlockHeader = decode_entry(&file, "block/1");
    let set: ValidatorSet = decode_entry(&file, "validator-set/genesis");
    let certificate: CommitCertificate = decode_entry(&file, "commit-certificate/block-1");
    verify_certificate(&file.chain, &header, &certificate, &set).expect("the certificate proves block 1 final");
    let root: Digest = decode_entry(&file, "state-root/block-1");
    assert_eq!(header.state_root, root, "the header commits to the pinned state root");
}

/// The file stays small, and building it twice gives byte-identical text (no nondeterminism reaches it).
#[test]
fn file_is_small_and_deterministic() {
    let first = render(&expected_file());
    let again = render(&GoldenFile { vectors: build().1.into_iter().map(|b| b.vector).collect(), ..expected_file() });
    assert_eq!(first, again, "building the vectors twice gave different text");
    assert!(first.len() < MAX_FILE_BYTES, "the golden file is {} bytes, over {MAX_FILE_BYTES}", first.len());
    let file = expected_file();
    let names: std::collections::BTreeSet<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names.len(), file.vectors.len(), "vector names are unique");
}

/// A secret key derived twice signs identically (the vectors rely on deterministic Ed25519 signatures).
#[test]
fn derived_keys_sign_deterministically() {
    let digest = Digest::sha256(&[b"determinism"]);
    let a: SecretKey = secret("m0-gov");
    let b: SecretKey = secret("m0-gov");
    assert_eq!(a.sign(&digest), b.sign(&digest));
    assert_ne!(a.sign(&digest), secret("m1-gov").sign(&digest));
}
