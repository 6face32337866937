//! The browser build checks the contracts' golden vectors: compiled to wasm32 and run by wasm-bindgen-test, the
//! console decodes every proposal, transaction and approval vector, computes the file's digest and re-encodes the
//! same bytes, so the browser signs exactly what the node and the CLI hash.
//!
//! Run with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=…/wasm-bindgen-test-runner cargo test -p console --target
//! wasm32-unknown-unknown --no-default-features --features hydrate --test golden_wasm`.

#![cfg(target_arch = "wasm32")]

use console::i18n::Lang;
use console::signer::Signer;
use console::wysiwys::{
    ProposalReview, StoreView, canonical_hex, decode_approval, decode_proposal, decode_transaction, transaction_review,
};
use governance_contracts::crypto::SecretKey;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::ProposalId;
use governance_contracts::testkit::TestChain;
use wasm_bindgen_test::wasm_bindgen_test;

const GOLDEN: &str = include_str!("../../governance-contracts/tests/golden/vectors.json");

fn field<'a>(vector: &'a serde_json::Value, name: &str) -> &'a str {
    vector[name].as_str().unwrap_or_else(|| panic!("vector field {name} is a string"))
}

/// In wasm, every proposal, transaction and approval vector decodes, hashes to the file's digest, verifies, and
/// re-encodes to the file's bytes.
#[wasm_bindgen_test]
fn golden_vectors_decode_and_hash_in_wasm() {
    let file: serde_json::Value = serde_json::from_str(GOLDEN).expect("the golden file is JSON");
    let chain: ChainIdentity = serde_json::from_value(file["chain"].clone()).expect("chain identity");
    let state = TestChain::with_members(4);
    let view = StoreView(&state.store);
    let mut checked = 0usize;
    for vector in file["vectors"].as_array().expect("vectors") {
        let (kind, name, hex) = (field(vector, "kind"), field(vector, "name"), field(vector, "canonical_hex"));
        let digest = match kind {
            "proposal" => {
                let proposal = decode_proposal(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&proposal), hex, "{name}");
                let review = ProposalReview::new(&proposal, &chain, &view, Lang::ZhCn);
                assert_eq!(review.actions.len(), proposal.actions.len(), "{name}");
                review.digest
            }
            "signed_transaction" => {
                let signed = decode_transaction(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&signed), hex, "{name}");
                let review = transaction_review(&signed, &chain, Lang::En);
                assert!(review.signature_valid, "{name}");
                review.hash_text
            }
            "approval" => {
                let approval = decode_approval(hex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(canonical_hex(&approval), hex, "{name}");
                let id: ProposalId = field(vector, "digest").parse().expect("digest");
                assert!(approval.key.verify(&id.0, &approval.signature), "{name}");
                id.to_string()
            }
            _ => continue,
        };
        assert_eq!(digest, field(vector, "digest"), "{name}");
        checked = checked.saturating_add(1);
    }
    assert_eq!(checked, 18, "7 proposals, 9 transactions, 2 approvals");
}

/// In wasm, a PKCS#8 PEM key loads and its login signature verifies.
#[wasm_bindgen_test]
fn pem_key_loads_and_signs_in_wasm() {
    let secret = SecretKey::from_seed([9; 32]);
    let signer = Signer::from_pem(&secret.to_pkcs8_pem().expect("pem")).expect("loads");
    assert_eq!(signer.public_key(), secret.public_key());
    let chain = TestChain::with_members(1).chain;
    let challenge = governance_contracts::types::LoginChallenge {
        account: governance_contracts::testkit::account("m0-gov"),
        origin: governance_contracts::codec::BoundedString::try_new("http://127.0.0.1:8080").expect("short"),
        nonce: [1; 32],
        expires_at_ms: 2,
    };
    let signature = signer.sign_login(&challenge, &chain);
    assert!(console::signer::verify_login(&challenge, &chain, &signer.public_key(), &signature));
}

/// In wasm, a key sealed under a passphrase opens with it and yields the same key, and a wrong passphrase is
/// refused.
#[wasm_bindgen_test]
fn a_key_sealed_under_a_passphrase_opens_in_wasm() {
    use console::keystore::{self, KeystoreError, NONCE_BYTES, SALT_BYTES};
    let signer = Signer::from_secret(SecretKey::from_seed([5; 32]));
    let chain = TestChain::with_members(1).chain;
    let sealed =
        keystore::seal(&signer, &chain, "a long enough passphrase", [3; SALT_BYTES], [4; NONCE_BYTES]).expect("seals");
    let opened = keystore::open(&sealed, &chain, "a long enough passphrase").expect("opens");
    assert_eq!(opened.public_key(), signer.public_key());
    assert_eq!(keystore::open(&sealed, &chain, "another passphrase!").err(), Some(KeystoreError::WrongPassphrase));
}
