//! What you see is what you sign, natively: the console decodes and hashes the contracts' golden vectors exactly as
//! the contracts do, reviews every kind of action in both languages against a real chain state, and its signer
//! loads real key files and builds transactions the contracts accept.

use std::collections::BTreeSet;

use console::i18n::Lang;
use console::signer::{
    MAX_PEM_BYTES, Signer, SignerError, Validity, parse_offline_approval, verify_approval, verify_login,
};
use console::wysiwys::{
    ChainView, InputError, ProposalReview, StoreView, canonical_hex, decode_approval, decode_proposal,
    decode_transaction, parse_proposal_text, parse_transaction_text, second_device_command, transaction_review,
};
use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::{Digest, KeyFileError, PublicKey, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, ProposalId, RoleId, Weight};
use governance_contracts::testkit::{TestChain, account, member, node, public, secret};
use governance_contracts::types::{
    Action, ActionKind, ChainParams, KeyProofBody, LoginChallenge, NewAccount, Outcome, Payload, Principal, Proposal,
    RoleDefinition, RoleScope, Rule,
};

const GOLDEN: &str = include_str!("../../governance-contracts/tests/golden/vectors.json");

fn golden() -> serde_json::Value {
    serde_json::from_str(GOLDEN).expect("the golden file is JSON")
}

fn field<'a>(vector: &'a serde_json::Value, name: &str) -> &'a str {
    vector[name].as_str().unwrap_or_else(|| panic!("vector field {name} is a string"))
}

/// Every proposal, transaction and approval vector decodes from its hex, gives the file's digest, and re-encodes
/// to the very same bytes.
#[test]
fn golden_vectors_decode_hash_and_round_trip() {
    let file = golden();
    let chain: ChainIdentity = serde_json::from_value(file["chain"].clone()).expect("chain identity");
    let mut counts = std::collections::BTreeMap::new();
    let mut admit_member_id = None;
    for vector in file["vectors"].as_array().expect("vectors") {
        let (kind, name, hex) = (field(vector, "kind"), field(vector, "name"), field(vector, "canonical_hex"));
        let digest = match kind {
            "proposal" => {
                let proposal = decode_proposal(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&proposal), hex, "{name} re-encodes differently");
                let review = ProposalReview::new(&proposal, &chain, &TestChain::with_members(4).view(), Lang::En);
                assert_eq!(review.digest, proposal.id(&chain).to_string());
                if name == "proposal/admit-member" {
                    admit_member_id = Some(review.digest.clone());
                }
                review.digest
            }
            "signed_transaction" => {
                let signed = decode_transaction(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&signed), hex, "{name} re-encodes differently");
                let review = transaction_review(&signed, &chain, Lang::En);
                assert!(review.signature_valid, "{name}: the signature must verify");
                assert_eq!(signed.key.to_string(), field(vector, "key"));
                review.hash_text
            }
            "approval" => {
                let approval = decode_approval(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&approval), hex, "{name} re-encodes differently");
                assert_eq!(approval.signature.to_string(), field(vector, "signature"));
                let id: ProposalId = field(vector, "digest").parse().expect("digest");
                assert!(approval.key.verify(&id.0, &approval.signature), "{name}: the approval must verify");
                id.to_string()
            }
            _ => continue,
        };
        assert_eq!(digest, field(vector, "digest"), "{name}: digest");
        let count = counts.entry(kind.to_owned()).or_insert(0usize);
        *count = count.saturating_add(1);
    }
    assert_eq!(counts.get("proposal"), Some(&7), "{counts:?}");
    assert_eq!(counts.get("signed_transaction"), Some(&9), "{counts:?}");
    assert_eq!(counts.get("approval"), Some(&2), "{counts:?}");
    // Approvals sign the admit-member proposal: the console's digest of it is what they signed.
    let approval_digest = file["vectors"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["kind"] == "approval"))
        .map(|v| field(v, "digest").to_owned());
    assert_eq!(approval_digest, admit_member_id);
}

trait ViewOf {
    fn view(&self) -> StoreView<'_>;
}

impl ViewOf for TestChain {
    fn view(&self) -> StoreView<'_> {
        StoreView(&self.store)
    }
}

/// The name of each action variant; the match has no wildcard, so a new variant fails to compile here until
/// the test covers it.
fn variant(action: &Action) -> &'static str {
    match action {
        Action::AdmitMember { .. } => "AdmitMember",
        Action::SetMemberWeight { .. } => "SetMemberWeight",
        Action::SuspendMember { .. } => "SuspendMember",
        Action::ReinstateMember { .. } => "ReinstateMember",
        Action::ExpelMember { .. } => "ExpelMember",
        Action::ReplaceGovernors { .. } => "ReplaceGovernors",
        Action::CreateAccount { .. } => "CreateAccount",
        Action::FreezeAccount { .. } => "FreezeAccount",
        Action::UnfreezeAccount { .. } => "UnfreezeAccount",
        Action::ReplaceAccountKey { .. } => "ReplaceAccountKey",
        Action::DefineRole { .. } => "DefineRole",
        Action::GrantRole { .. } => "GrantRole",
        Action::RevokeRole { .. } => "RevokeRole",
        Action::AdmitNode { .. } => "AdmitNode",
        Action::PromoteNode { .. } => "PromoteNode",
        Action::DemoteNode { .. } => "DemoteNode",
        Action::SetNodeWeight { .. } => "SetNodeWeight",
        Action::RemoveNode { .. } => "RemoveNode",
        Action::RotateNodeKey { .. } => "RotateNodeKey",
        Action::SetNodeAddress { .. } => "SetNodeAddress",
        Action::RevokeNodeKey { .. } => "RevokeNodeKey",
        Action::ReplaceNodeKey { .. } => "ReplaceNodeKey",
        Action::SetPolicyRule { .. } => "SetPolicyRule",
        Action::SetParams { .. } => "SetParams",
        Action::CancelProposal { .. } => "CancelProposal",
    }
}

fn text(s: &str) -> BoundedString<255> {
    BoundedString::try_new(s).expect("short text")
}

/// One action of every kind, against the testkit's 4-member chain.
fn every_action(chain: &TestChain) -> Vec<Action> {
    let proof = |subject, old, label: &str| {
        KeyProofBody { subject, old_key: old, new_key: public(label), expires_at: Height(50) }
            .sign(&chain.chain, &secret(label))
    };
    vec![
        Action::AdmitMember {
            member: member("m9"),
            name: BoundedString::try_new("Member Nine").expect("short"),
            weight: Weight(1),
            governors: BoundedVec::try_new(vec![NewAccount { account: account("m9-gov"), key: public("m9-gov") }])
                .expect("one"),
        },
        Action::SetMemberWeight { member: member("m1"), expected: Weight(1), weight: Weight(2) },
        Action::SuspendMember { member: member("m2") },
        Action::ReinstateMember { member: member("m2") },
        Action::ExpelMember { member: member("m3") },
        Action::ReplaceGovernors {
            member: member("m1"),
            expected: BoundedVec::try_new(vec![account("m1-gov")]).expect("one"),
            governors: BoundedVec::try_new(vec![account("m1-ops")]).expect("one"),
        },
        Action::CreateAccount { account: account("m1-new"), member: member("m1"), key: public("m1-new") },
        Action::FreezeAccount { account: account("m1-ops") },
        Action::UnfreezeAccount { account: account("m1-ops") },
        Action::ReplaceAccountKey {
            account: account("m0-ops"),
            proof: proof(Principal::Account(account("m0-ops")), Some(public("m0-ops")), "m0-ops-2"),
        },
        Action::DefineRole {
            role: RoleId::new("teller").expect("name"),
            definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 1_000 },
        },
        Action::GrantRole {
            account: account("m1-ops"),
            role: RoleId::new("teller").expect("name"),
            expires_at: Height(500),
            expected: None,
        },
        Action::RevokeRole { account: account("m0-auditor"), role: RoleId::auditor() },
        Action::AdmitNode { node: node("n9"), owner: member("m0"), key: public("n9"), address: text("10.0.0.9:1") },
        Action::PromoteNode { node: node("n9"), weight: Weight(1), override_fault_tolerance: false },
        Action::DemoteNode { node: node("n1"), override_fault_tolerance: true },
        Action::SetNodeWeight {
            node: node("n0"),
            expected: Weight(1),
            weight: Weight(2),
            override_fault_tolerance: false,
        },
        Action::RemoveNode { node: node("n2"), override_fault_tolerance: false },
        Action::RotateNodeKey {
            node: node("n0"),
            proof: proof(Principal::Node(node("n0")), Some(public("n0")), "n0-2"),
        },
        Action::SetNodeAddress { node: node("n0"), expected: text("127.0.0.1:26000"), address: text("10.0.0.1:7") },
        Action::RevokeNodeKey { node: node("n1"), key: public("n1"), override_fault_tolerance: false },
        Action::ReplaceNodeKey { node: node("n1"), proof: proof(Principal::Node(node("n1")), None, "n1-2") },
        Action::SetPolicyRule {
            kind: ActionKind::AdmitNode,
            expected: Some(Rule::weight(2, 3, false, 0)),
            rule: Rule::weight(1, 2, false, 0),
        },
        Action::SetParams {
            expected: ChainParams { max_block_transactions: 20_000, ..ChainParams::default() },
            params: ChainParams::default(),
        },
        Action::CancelProposal { proposal: ProposalId(Digest::sha256(&[b"elsewhere"])) },
    ]
}

fn proposal_of(chain: &mut TestChain, proposer: Principal, actions: Vec<Action>) -> Proposal {
    chain.proposal(proposer, actions)
}

/// A review of a proposal holding every kind of action has, for each, a headline in English and a different one
/// in Chinese naming the same ids, and at least one change or check.
#[test]
fn every_action_kind_reads_in_both_languages() {
    let mut chain = TestChain::with_members(4);
    let actions = every_action(&chain);
    let kinds: BTreeSet<&str> = actions.iter().map(variant).collect();
    assert_eq!(kinds.len(), 25, "every variant once");
    let proposal = proposal_of(&mut chain, Principal::Account(account("m0-gov")), actions);
    let view = chain.view();
    let en = ProposalReview::new(&proposal, &chain.chain, &view, Lang::En);
    let zh = ProposalReview::new(&proposal, &chain.chain, &view, Lang::ZhCn);
    assert_eq!(en.digest, zh.digest, "the digest does not depend on the language");
    assert_eq!(en.digest, proposal.id(&chain.chain).to_string());
    assert_eq!(en.actions.len(), 25);
    for ((action, en), zh) in proposal.actions.iter().zip(&en.actions).zip(&zh.actions) {
        let name = variant(action);
        assert!(!en.headline.is_empty() && !zh.headline.is_empty(), "{name}");
        assert_ne!(en.headline, zh.headline, "{name} is not translated");
        assert!(zh.headline.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{name}: {}", zh.headline);
        assert!(en.headline.is_ascii() || en.headline.contains('“'), "{name}: {}", en.headline);
        assert!(!en.changes.is_empty() || !en.checks.is_empty(), "{name} shows nothing to check");
        assert_eq!(en.changes.len(), zh.changes.len(), "{name}");
        assert_eq!(en.needs.len(), zh.needs.len(), "{name}");
        for review in [en, zh] {
            assert!(!review.needs.is_empty() || review.checks.iter().any(|c| !c.ok), "{name}: no rule shown");
        }
    }
    // Ids are never translated: the Chinese headline of the grant names the same role and account.
    let grant = &zh.actions[11].headline;
    assert!(grant.contains("teller") && grant.contains("m1-ops"), "{grant}");
    // The red flags: the demotion overrides fault tolerance; the revoked node is cut off.
    assert!(en.actions[15].checks.iter().any(|c| !c.ok && c.text.contains("sealer_override")));
    assert!(en.actions[20].checks.iter().any(|c| !c.ok && c.text.contains("cannot connect or vote")));
    // The node admitted by action 14 is known to action 15, which still lacks its readiness attestation.
    let promote = &en.actions[14];
    assert!(promote.checks.iter().any(|c| c.ok && c.text.contains("admitted by action 14")), "{promote:?}");
    assert!(promote.checks.iter().any(|c| !c.ok && c.text.contains("has not attested readiness")), "{promote:?}");
    // Each action is read against the state the earlier ones leave: the unfreeze after the freeze, the new key
    // after the revocation and the grant of the role defined just before all meet their expectations.
    for number in [9, 12, 22] {
        let review = &en.actions[number - 1];
        assert!(review.checks.iter().all(|c| c.ok || !c.text.starts_with("expects")), "{review:?}");
    }
    // A role defined by the same proposal is not delegable yet: granting it takes the committee's rule.
    assert_eq!(en.actions[11].kinds, vec![ActionKind::GrantRole]);
    assert!(en.actions[11].checks.iter().any(|c| c.text.contains("teller is not delegable")));
    // The rule change loosens the rule in force.
    assert!(en.actions[22].checks.iter().any(|c| !c.ok && c.text.contains("asks less")));
}

/// A compare-and-set expectation the chain no longer meets shows as a failed check naming both values, and one
/// it meets as a passed one.
#[test]
fn failing_compare_and_set_is_a_failed_check() {
    let mut chain = TestChain::with_members(4);
    let stale = Action::SetMemberWeight { member: member("m1"), expected: Weight(10), weight: Weight(3) };
    let fresh = Action::SetMemberWeight { member: member("m2"), expected: Weight(1), weight: Weight(3) };
    let proposal = proposal_of(&mut chain, Principal::Account(account("m0-gov")), vec![stale, fresh]);
    let review = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::En);
    let failed: Vec<_> = review.actions[0].checks.iter().filter(|c| !c.ok).collect();
    assert_eq!(failed.len(), 1, "{:?}", review.actions[0].checks);
    assert_eq!(failed[0].text, "expects 10; the chain has 1 ✗");
    assert!(review.actions[1].checks.iter().any(|c| c.ok && c.text == "expects 1; the chain has 1 ✓"));
    assert_eq!(review.actions[0].changes[0].before, "1");
    assert_eq!(review.actions[0].changes[0].after, "3");
    assert!(!review.all_ok());
    let zh = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::ZhCn);
    assert!(zh.actions[0].checks.iter().any(|c| !c.ok && c.text == "预期 10；链上为 1 ✗"));
}

/// Removing one of four equal sealers takes the tolerated faulty weight from 1 to 0: the pre-flight says so in
/// red, and the chain indeed refuses the proposal.
#[test]
fn removing_one_of_four_sealers_leaves_no_fault_tolerance() {
    let mut chain = TestChain::with_members(4);
    let remove = Action::RemoveNode { node: node("n3"), override_fault_tolerance: false };
    let proposal = proposal_of(&mut chain, Principal::Account(account("m0-gov")), vec![remove.clone()]);
    let review = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::En);
    let preflight = review.sealers.as_ref().expect("a sealer change has a pre-flight");
    assert_eq!((preflight.before.total, preflight.before.fault_tolerance), (4, 1));
    assert_eq!((preflight.after.total, preflight.after.fault_tolerance), (3, 0));
    assert_eq!(preflight.changed_weight, 1);
    let tolerates = preflight.checks.iter().find(|c| c.text.starts_with("after this change")).expect("the summary");
    assert!(!tolerates.ok);
    assert_eq!(tolerates.text, "after this change the chain tolerates 0 faulty sealer weight (now 1) ✗");
    assert!(preflight.checks.iter().any(|c| !c.ok && c.text.contains("falls from 1 to 0")));
    let zh = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::ZhCn);
    assert!(zh.sealers.expect("pre-flight").checks[0].text.contains("此变更后，链可容忍的故障出块权重为 0"));
    // The chain agrees: with every governor approving, the proposal fails on sealer safety.
    let governors = TestChain::governors(4);
    let approvers: Vec<&str> = governors.iter().map(String::as_str).collect();
    let (_, receipt) = chain.propose("m0-gov", vec![remove], &approvers);
    assert!(!TestChain::executed(&receipt), "{receipt:?}");
}

/// A proposal that changes no sealer has no pre-flight, and one that only re-weights within budget passes it.
#[test]
fn sealer_preflight_only_for_sealer_changes() {
    let mut chain = TestChain::with_members(4);
    let p = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m3") }],
    );
    let review = ProposalReview::new(&p, &chain.chain, &chain.view(), Lang::En);
    assert!(review.sealers.is_none());
    assert!(review.all_ok(), "{:?}", review.all_checks().filter(|c| !c.ok).collect::<Vec<_>>());
}

fn openssl_key() -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("key.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&path)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read_to_string(&path).ok()
}

/// A key from `openssl genpkey -algorithm ed25519` loads (when openssl is installed) and signs something that
/// verifies under its public key.
#[test]
fn openssl_key_loads() {
    let Some(pem) = openssl_key() else {
        eprintln!("skipped: `openssl genpkey -algorithm ed25519` is not available here");
        return;
    };
    let signer = Signer::from_pem(&pem).expect("openssl's key loads");
    let chain = TestChain::with_members(1).chain;
    let challenge = LoginChallenge {
        account: account("m0-gov"),
        origin: text("http://127.0.0.1:8080"),
        nonce: [7; 32],
        expires_at_ms: 1,
    };
    let signature = signer.sign_login(&challenge, &chain);
    assert!(verify_login(&challenge, &chain, &signer.public_key(), &signature));
}

/// A key written by the contracts' `SecretKey::to_pkcs8_pem` (what `synod keygen` writes) loads to the same
/// public key, also with Windows line ends and text around the block; `Debug` never shows the secret.
#[test]
fn synod_key_loads_and_debug_hides_the_secret() {
    let secret = SecretKey::from_seed([42; 32]);
    let pem = secret.to_pkcs8_pem().expect("pem");
    let signer = Signer::from_pem(&pem).expect("loads");
    assert_eq!(signer.public_key(), secret.public_key());
    let decorated = format!("\u{feff}key for m0-gov\r\n{}\r\n", pem.replace('\n', "\r\n"));
    assert_eq!(Signer::from_pem(&decorated).expect("loads").public_key(), secret.public_key());
    let debug = format!("{signer:?}");
    assert!(debug.contains(&secret.public_key().to_string()), "{debug}");
    assert!(!debug.contains(&hex::encode([42u8; 32])), "{debug}");
    let body = pem.lines().nth(1).expect("base64 line");
    assert!(!debug.contains(body), "{debug}");
}

/// Garbage, the wrong kind of PEM, an encrypted key, a truncated key and an oversized file each get the contracts'
/// key-file error (the CLI's words), in English as the CLI prints it and in Chinese without a word of English.
#[test]
fn bad_key_files_are_clear_errors() {
    let key_error = |text: &str| match Signer::from_pem(text).unwrap_err() {
        SignerError::Key(error) => error,
        other => panic!("{other:?} is not a key-file error"),
    };
    assert_eq!(key_error("hello"), KeyFileError::NoPemBlock);
    assert_eq!(key_error(""), KeyFileError::Empty);
    let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
    assert_eq!(key_error(public), KeyFileError::WrongLabel { label: "PUBLIC KEY".into() });
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_eq!(key_error(encrypted), KeyFileError::Encrypted);
    let damaged = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINnzeNAbKOiqyPx4bQSO\n-----END PRIVATE KEY-----\n";
    assert_eq!(key_error(damaged), KeyFileError::Damaged);
    let unterminated =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINnzeNAbKOiqyPx4bQSOn6yzRsNyHV65QHf9nPBrYsZE\n";
    assert_eq!(key_error(unterminated), KeyFileError::Truncated);
    let huge = "A".repeat(MAX_PEM_BYTES + 1);
    assert_eq!(key_error(&huge), KeyFileError::TooLarge { len: MAX_PEM_BYTES + 1, max: MAX_PEM_BYTES });
    let every = [
        KeyFileError::Empty,
        KeyFileError::TooLarge { len: 9, max: 8 },
        KeyFileError::NotText,
        KeyFileError::NoPemBlock,
        KeyFileError::Encrypted,
        KeyFileError::WrongLabel { label: "PUBLIC KEY".into() },
        KeyFileError::WrongLabel { label: "CERTIFICATE".into() },
        KeyFileError::Truncated,
        KeyFileError::Damaged,
        KeyFileError::UnknownAlgorithm { oid: "1.2.3.4".into() },
        KeyFileError::OtherAlgorithm { name: "RSA".into() },
    ];
    for error in every {
        let english = SignerError::Key(error.clone()).text(Lang::En);
        assert_eq!(english, error.to_string());
        assert!(english.contains("openssl genpkey -algorithm ed25519"), "{english}");
        let chinese = SignerError::Key(error.clone()).text(Lang::ZhCn);
        assert!(chinese.contains("Synod 需要未加密的 Ed25519 私钥"), "{chinese}");
        // Outside the commands, file labels, ids and algorithm names, no Latin word is left.
        let prose: String = chinese
            .split('`')
            .step_by(2)
            .collect::<String>()
            .replace("-----BEGIN PRIVATE KEY-----", "")
            .replace("-----END PRIVATE KEY-----", "");
        for word in prose.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() > 2) {
            assert!(
                ["Synod", "Ed25519", "PKCS", "PEM", "RSA", "OID", "OpenSSH", "SEC"].contains(&word),
                "{word} in {chinese}"
            );
        }
    }
}

/// Hex that is empty, not hex, truncated, followed by extra bytes or too long gets a distinct error.
#[test]
fn bad_hex_is_a_clear_error() {
    let mut chain = TestChain::with_members(1);
    let p = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m0") }],
    );
    let hex = canonical_hex(&p);
    assert_eq!(decode_proposal(&format!("  0x{hex}\n")).expect("whitespace and 0x are fine"), p);
    assert!(matches!(decode_proposal(" ").unwrap_err(), InputError::Empty { .. }));
    assert!(matches!(decode_proposal("zz").unwrap_err(), InputError::NotHex { .. }));
    assert!(matches!(decode_proposal(&hex[..hex.len() - 2]).unwrap_err(), InputError::Malformed { .. }));
    let error = decode_proposal(&format!("{hex}0000")).unwrap_err();
    assert!(matches!(error, InputError::TrailingBytes { extra: 2, .. }), "{error:?}");
    assert!(error.text(Lang::ZhCn).contains("多出 2 个字节"));
    let huge = "00".repeat(console::wysiwys::MAX_CANONICAL_BYTES + 1);
    assert!(matches!(decode_transaction(&huge).unwrap_err(), InputError::TooLarge { .. }));
    // A proposal file in JSON reads too, as the CLI writes it; a transaction that submits nothing does not.
    assert_eq!(parse_proposal_text(&serde_json::to_string(&p).expect("json")).expect("json proposal"), p);
    let attest = chain.node_tx("n0", Payload::AttestReadiness { synced_height: Height(1) });
    let json = serde_json::to_string(&attest).expect("json");
    assert_eq!(parse_proposal_text(&json).unwrap_err(), InputError::NotASubmission);
    assert_eq!(parse_transaction_text(&json).expect("json transaction"), attest);
}

/// The signer's submission with its own approval, and a relayed offline approval, are transactions the contracts
/// apply: the proposal executes once the threshold is met.
#[test]
fn built_transactions_apply_on_chain() {
    let mut chain = TestChain::with_members(4);
    let gov0 = Signer::from_pem(&secret("m0-gov").to_pkcs8_pem().expect("pem")).expect("loads");
    let gov1 = Signer::from_pem(&secret("m1-gov").to_pkcs8_pem().expect("pem")).expect("loads");
    let action = Action::SetMemberWeight { member: member("m3"), expected: Weight(1), weight: Weight(2) };
    let proposal = proposal_of(&mut chain, Principal::Account(account("m0-gov")), vec![action]);
    let id = proposal.id(&chain.chain);
    let validity = Validity { height: chain.height, ttl: 10 };
    let submit =
        gov0.submit_with_approval(&chain.chain, &account("m0-gov"), proposal.clone(), validity).expect("builds");
    assert_eq!(submit.hex, hex::encode(encode(&submit.signed)));
    assert_eq!(decode_transaction(&submit.hex).expect("decodes"), submit.signed);
    assert_eq!(submit.signed.tx.valid_until, chain.height.plus(10));
    let receipt = chain.apply(submit.signed);
    assert_eq!(receipt.outcome, Outcome::Applied, "{receipt:?}");
    assert!(!TestChain::executed(&receipt));
    // m1's approval signed offline (as `synod proposal sign` writes it: the approval's JSON), relayed by m2.
    let offline = serde_json::to_string_pretty(&gov1.approve_proposal(&chain.chain, &proposal, &account("m1-gov")))
        .expect("json");
    let approval = parse_offline_approval(&offline).expect("parses");
    verify_approval(&approval, &proposal, &chain.chain).expect("signs the proposal");
    let gov2 = Signer::from_pem(&secret("m2-gov").to_pkcs8_pem().expect("pem")).expect("loads");
    let own = gov2.approve_proposal(&chain.chain, &proposal, &account("m2-gov"));
    let relay = gov2
        .approve(&chain.chain, &account("m2-gov"), id, vec![approval, own], Validity { height: chain.height, ttl: 5 })
        .expect("builds");
    let receipt = chain.apply(relay.signed);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    assert_eq!(chain.view().member(&member("m3")).expect("member").weight, Weight(2));
}

/// The builders refuse what the chain would refuse: a submission by someone other than the proposer, an approval
/// of another proposal, two approvals by one account, no approval at all, and a zero time to live.
#[test]
fn builders_refuse_bad_requests() {
    let mut chain = TestChain::with_members(2);
    let signer = Signer::from_pem(&secret("m1-gov").to_pkcs8_pem().expect("pem")).expect("loads");
    let proposal = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m1") }],
    );
    let other = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m0") }],
    );
    let v = Validity { height: Height(3), ttl: 10 };
    let me = account("m1-gov");
    let error = signer.submit_with_approval(&chain.chain, &me, proposal.clone(), v).unwrap_err();
    assert!(matches!(error, SignerError::NotProposer { .. }), "{error:?}");
    let wrong = signer.approve_proposal(&chain.chain, &other, &me);
    let error = signer.approve(&chain.chain, &me, proposal.id(&chain.chain), vec![wrong.clone()], v).unwrap_err();
    assert!(matches!(error, SignerError::BadApproval { .. }), "{error:?}");
    assert!(verify_approval(&wrong, &proposal, &chain.chain).is_err());
    let right = signer.approve_proposal(&chain.chain, &proposal, &me);
    let error =
        signer.approve(&chain.chain, &me, proposal.id(&chain.chain), vec![right.clone(), right], v).unwrap_err();
    assert_eq!(error, SignerError::DuplicateApprover(me.clone()));
    assert_eq!(
        signer.approve(&chain.chain, &me, proposal.id(&chain.chain), vec![], v).unwrap_err(),
        SignerError::NoApprovals
    );
    let error = signer
        .execute(&chain.chain, &me, proposal.id(&chain.chain), Validity { height: Height(3), ttl: 0 })
        .unwrap_err();
    assert!(matches!(error, SignerError::Ttl { ttl: 0, .. }));
    for built in [
        signer.revoke(&chain.chain, &me, proposal.id(&chain.chain), v).expect("revoke"),
        signer.cancel(&chain.chain, &me, proposal.id(&chain.chain), v).expect("cancel"),
        signer.execute(&chain.chain, &me, proposal.id(&chain.chain), v).expect("execute"),
    ] {
        assert!(transaction_review(&built.signed, &chain.chain, Lang::En).signature_valid);
        assert_eq!(built.hash, built.signed.tx.hash(&chain.chain));
    }
    assert!(parse_offline_approval("{\"approver\": 1}").is_err());
    assert!(parse_offline_approval(&"x".repeat(70_000)).is_err());
}

/// The output of `synod proposal sign --json` and an approval's canonical hex parse as the same approval.
#[test]
fn offline_approval_forms() {
    let mut chain = TestChain::with_members(1);
    let proposal = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m0") }],
    );
    let approval = chain.approval(&proposal, "m0-gov");
    let printed =
        serde_json::json!({ "approval": approval, "proposal_id": proposal.id(&chain.chain), "warning": null });
    assert_eq!(parse_offline_approval(&printed.to_string()).expect("sign --json"), approval);
    assert_eq!(parse_offline_approval(&canonical_hex(&approval)).expect("hex"), approval);
}

/// The second-device command is the CLI's `proposal show` with the genesis and the proposal file, quoted for a
/// shell when needed, and the review names the line it must print.
#[test]
fn second_device_command_matches_the_cli() {
    assert_eq!(
        second_device_command("genesis.json", "proposal-ab.json"),
        "synod proposal show --genesis genesis.json proposal-ab.json"
    );
    assert_eq!(
        second_device_command("my dir/genesis.json", "it's.json"),
        "synod proposal show --genesis 'my dir/genesis.json' 'it'\\''s.json'"
    );
    let mut chain = TestChain::with_members(1);
    let proposal = proposal_of(
        &mut chain,
        Principal::Account(account("m0-gov")),
        vec![Action::SuspendMember { member: member("m0") }],
    );
    let review = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::En);
    assert_eq!(review.second_device_line, format!("proposal id:  {}", proposal.id(&chain.chain)));
    assert!(review.second_device_command.ends_with(&review.file_name));
    // The file the command reads is the proposal's JSON, which decodes to the same proposal and digest.
    let json = console::wysiwys::proposal_file_json(&proposal);
    assert_eq!(parse_proposal_text(&json).expect("reads").id(&chain.chain), review.id);
    // Suspending the only active member leaves none: the review says the chain refuses it.
    assert!(review.actions[0].checks.iter().any(|c| !c.ok && c.text.contains("no member would be active")));
}

/// A transaction review names what it does and flags a signature made for another chain.
#[test]
fn transaction_review_flags_another_chain() {
    let chain = TestChain::with_members(1);
    let tx = chain.account_tx("m0-gov", Payload::ExecuteProposal { proposal: ProposalId(Digest::ZERO) });
    let review = transaction_review(&tx, &chain.chain, Lang::En);
    assert!(review.signature_valid && review.headline.starts_with("Execute proposal"));
    let other = ChainIdentity { chain_id: chain.chain.chain_id.clone(), genesis_hash: Digest::sha256(&[b"other"]) };
    let review = transaction_review(&tx, &other, Lang::ZhCn);
    assert!(!review.signature_valid);
    assert!(review.checks.iter().any(|c| !c.ok && c.text.contains("验证失败")));
    let _: PublicKey = tx.key;
}

/// Every single-byte corruption of every golden proposal and transaction either decodes to a value the review
/// renders in both languages, or is refused with an error; nothing panics.
#[test]
fn corrupted_golden_bytes_never_panic() {
    let file = golden();
    let chain: ChainIdentity = serde_json::from_value(file["chain"].clone()).expect("chain identity");
    let state = TestChain::with_members(4);
    let view = state.view();
    let (mut decoded, mut refused) = (0usize, 0usize);
    for vector in file["vectors"].as_array().expect("vectors") {
        let kind = field(vector, "kind");
        if kind != "proposal" && kind != "signed_transaction" {
            continue;
        }
        let bytes = hex::decode(field(vector, "canonical_hex")).expect("hex");
        for position in 0..bytes.len() {
            let mut corrupted = bytes.clone();
            corrupted[position] ^= 0x5a;
            let hex = hex::encode(&corrupted);
            let outcome = if kind == "proposal" {
                decode_proposal(&hex).map(|p| {
                    for lang in [Lang::En, Lang::ZhCn] {
                        let review = ProposalReview::new(&p, &chain, &view, lang);
                        assert_eq!(review.actions.len(), p.actions.len());
                    }
                })
            } else {
                decode_transaction(&hex).map(|tx| {
                    let review = transaction_review(&tx, &chain, Lang::ZhCn);
                    assert!(!review.headline.is_empty());
                })
            };
            match outcome {
                Ok(()) => decoded += 1,
                Err(error) => {
                    assert!(!error.text(Lang::En).is_empty());
                    refused += 1;
                }
            }
        }
    }
    assert!(decoded > 0 && refused > 0, "decoded {decoded}, refused {refused}");
}

/// The review marks every text a signer reads that holds non-ASCII characters with a badge listing their code
/// points (in both languages) and the text escaped, so `pаypal` (Cyrillic `а`) shows `U+0430`; a text the chain
/// refuses (the contracts' own rule) also fails a check. Chinese text is marked but not refused; a plain ASCII
/// proposal carries no mark.
#[test]
fn non_ascii_text_is_marked_and_refused_text_fails_a_check() {
    let mut chain = TestChain::with_members(4);
    let governors = BoundedVec::try_new(vec![NewAccount { account: account("acme-gov"), key: public("acme-gov") }]);
    let admit = Action::AdmitMember {
        member: member("acme"),
        name: BoundedString::try_new("Acme银行").expect("short"),
        weight: Weight(1),
        governors: governors.expect("one governor"),
    };
    let address = Action::SetNodeAddress {
        node: node("n0"),
        expected: text("127.0.0.1:26000"),
        address: text("n0.\u{435}\u{445}ample:1"),
    };
    let mut proposal = proposal_of(&mut chain, Principal::Account(account("m0-gov")), vec![admit, address]);
    proposal.title = BoundedString::try_new("Admit p\u{430}ypal").expect("short");
    proposal.description = BoundedString::try_new("理由：Org1的提案\nsecond line").expect("short");
    let en = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::En);

    let fields: Vec<(Option<usize>, &str)> = en.marks.iter().map(|m| (m.action, m.field.as_str())).collect();
    let expected = vec![
        (None, "title"),
        (None, "description"),
        (Some(1), "action 1: member name"),
        (Some(2), "action 2: node address"),
    ];
    assert_eq!(fields, expected);
    let [title, description, name, address] = &en.marks[..] else { panic!("{:?}", en.marks) };
    assert_eq!(title.escaped, "Admit p\\u{430}ypal");
    assert_eq!(title.code_points, vec!["U+0430"]);
    assert_eq!(title.badge.as_deref(), Some("contains non-ASCII characters: U+0430"));
    assert_eq!(title.refused.as_deref(), Some("word 2 “p\\u{430}ypal” mixes scripts: Latin, Cyrillic"));
    assert_eq!(description.escaped, "\\u{7406}\\u{7531}\\u{ff1a}Org1\\u{7684}\\u{63d0}\\u{6848}\nsecond line");
    assert_eq!((description.code_points.len(), &description.refused), (6, &None));
    assert_eq!(name.code_points, vec!["U+94F6", "U+884C"]);
    assert_eq!(name.refused, None);
    assert_eq!(address.code_points, vec!["U+0435", "U+0445"]);
    assert!(address.refused.as_deref().is_some_and(|why| why.starts_with("the host “n0.\\u{435}\\u{445}ample”")));
    let refused: Vec<&str> = en.checks.iter().filter(|c| !c.ok).map(|c| c.text.as_str()).collect();
    assert!(refused.iter().any(|c| c.starts_with("title: word 2") && c.ends_with("the chain refuses this text ✗")));
    assert!(refused.iter().any(|c| c.starts_with("action 2: node address: the host")), "{refused:?}");
    assert!(!en.all_ok());

    let zh = ProposalReview::new(&proposal, &chain.chain, &chain.view(), Lang::ZhCn);
    assert_eq!(zh.marks[0].field, "标题");
    assert_eq!(zh.marks[0].badge.as_deref(), Some("含有非 ASCII 字符：U+0430"));
    assert_eq!(zh.marks[2].field, "第 1 项操作：成员名称");
    assert!(zh.checks.iter().any(|c| !c.ok && c.text.contains("链将拒绝此文本")));

    let plain = proposal_of(&mut chain, Principal::Account(account("m0-gov")), vec![]);
    let review = ProposalReview::new(&plain, &chain.chain, &chain.view(), Lang::En);
    assert!(review.marks.is_empty(), "{:?}", review.marks);
    assert!(review.checks.iter().all(|c| !c.text.contains("refuses this text")));
}
