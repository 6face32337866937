//! What a node's shortcuts may never change: the verdicts of signature checks made through a set of already verified
//! signatures ([`Verifier`]), and the blocks built in one execution pass ([`execution::build_block`]).
//!
//! Hostile inputs: signatures over another digest, by another key, with a flipped bit, or under a mixed-order key
//! (which the cofactored batch equation accepts and strict verification refuses), mixed with valid
//! ones and with a set holding a random part of the valid ones; candidate lists with duplicates, conflicting
//! transactions, forged and expired copies, in random order.

#![allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    reason = "fixtures and helpers of tests: a failure must fail the test at once"
)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::{
    Digest, PublicKey, Signature, SignedDigest, VerifiedSignatures, Verifier, verify_all,
};
use governance_contracts::execution::{self, BuiltBlock};
use governance_contracts::testkit::{self, TestChain, account, member, public, secret};
use governance_contracts::types::{
    Action, GenesisAccount, Outcome, Payload, Principal, Proposal, SignedTransaction, Transaction,
};
use proptest::collection::vec;
use proptest::prelude::*;

mod common;
use common::config;

/// A set of verified triples for the tests: everything it was given, never forgotten.
#[derive(Default)]
struct Held(Mutex<BTreeSet<Vec<u8>>>);

fn triple(item: &SignedDigest) -> Vec<u8> {
    encode(&(item.key, item.digest, item.signature))
}

impl VerifiedSignatures for Held {
    fn contains(&self, item: &SignedDigest) -> bool {
        self.0.lock().unwrap().contains(&triple(item))
    }
    fn insert(&self, item: &SignedDigest) {
        self.0.lock().unwrap().insert(triple(item));
    }
}

/// How a generated signature is spoiled.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    None,
    OtherDigest,
    OtherKey,
    FlippedBit(usize),
    /// Signed under a mixed-order key (the signer's point plus a point of order two): the cofactored batch
    /// equation holds, strict verification refuses.
    MixedOrderKey,
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        4 => Just(Spoil::None),
        1 => Just(Spoil::OtherDigest),
        1 => Just(Spoil::OtherKey),
        1 => (0usize..512).prop_map(Spoil::FlippedBit),
        1 => Just(Spoil::MixedOrderKey),
    ]
}

/// A signature over a digest of `index` under the signer's point plus the point of order two, which the batch
/// check accepts and strict verification refuses (the challenge scalar is odd; digests are tried until it is).
fn mixed_order(index: u8) -> SignedDigest {
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
    let esk = ExpandedSecretKey::from(&[index; 32]);
    let order_two = CompressedEdwardsY(ORDER_TWO).decompress().unwrap();
    let mixed = (EdwardsPoint::mul_base(&esk.scalar) + order_two).compress().0;
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&mixed).unwrap();
    for attempt in 0u8..=255 {
        let digest = Digest::sha256(&[b"mixed order", &[index, attempt]]);
        let signature = raw_sign::<sha2::Sha512>(&esk, digest.as_bytes(), &verifying).to_bytes();
        let item = SignedDigest { key: PublicKey::Ed25519(mixed), digest, signature: Signature::Ed25519(signature) };
        if !item.key.verify(&item.digest, &item.signature) {
            return item;
        }
    }
    unreachable!("half of all challenges are odd")
}

/// The encoding of the point of order two, (0, -1).
const ORDER_TWO: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 0xec;
    let mut i = 1;
    while i < 31 {
        bytes[i] = 0xff;
        i += 1;
    }
    bytes[31] = 0x7f;
    bytes
};

fn item(index: u8, how: Spoil) -> SignedDigest {
    let signer = secret(&format!("signer-{index}"));
    let digest = Digest::sha256(&[b"verification", &[index]]);
    let mut item = SignedDigest { key: signer.public_key(), digest, signature: signer.sign(&digest) };
    match how {
        Spoil::None => {}
        Spoil::OtherDigest => item.digest = Digest::sha256(&[b"another", &[index]]),
        Spoil::OtherKey => item.key = public(&format!("stranger-{index}")),
        Spoil::FlippedBit(bit) => {
            let Signature::Ed25519(mut bytes) = item.signature;
            bytes[bit / 8] ^= 1 << (bit % 8);
            item.signature = Signature::Ed25519(bytes);
        }
        Spoil::MixedOrderKey => item = mixed_order(index),
    }
    item
}

proptest! {
    #![proptest_config(config(64))]

    /// Whatever part of the valid signatures the set holds, a cached verifier gives every single check and every
    /// batch check the verdict of the uncached ones, and the set never comes to hold a triple strict verification
    /// refuses.
    #[test]
    fn a_set_of_verified_signatures_never_changes_a_verdict(
        spoils in vec(spoil(), 1..12),
        held in vec(any::<bool>(), 12),
    ) {
        let items: Vec<SignedDigest> =
            spoils.iter().enumerate().map(|(i, how)| item(u8::try_from(i).unwrap(), *how)).collect();
        let set = Arc::new(Held::default());
        for (item, keep) in items.iter().zip(&held) {
            if *keep && item.key.verify(&item.digest, &item.signature) {
                set.insert(item);
            }
        }
        let cached = Verifier::cached(set.clone());
        prop_assert_eq!(cached.verify_all(&items), verify_all(&items));
        for item in &items {
            prop_assert_eq!(cached.verify(item), item.key.verify(&item.digest, &item.signature));
        }
        prop_assert_eq!(cached.verify_all(&items), verify_all(&items));
        for item in &items {
            prop_assert!(!set.contains(item) || item.key.verify(&item.digest, &item.signature));
        }
    }
}

/// A signature under a mixed-order key passes the batch check of four or more but not the strict
/// one: the set must not learn it from a batch, or a later single check of it would pass on one node and fail on
/// another.
#[test]
fn batch_acceptance_is_not_remembered_as_strict_acceptance() {
    let mut items: Vec<SignedDigest> = (0..4).map(|i| item(i, Spoil::None)).collect();
    items.push(item(4, Spoil::MixedOrderKey));
    let odd = items[4];
    assert!(!odd.key.verify(&odd.digest, &odd.signature), "strict verification refuses it");
    assert_eq!(verify_all(&items), Ok(()), "the batch equation accepts it");
    let set = Arc::new(Held::default());
    let cached = Verifier::cached(set.clone());
    assert_eq!(cached.verify_all(&items), verify_all(&items));
    assert!(!set.contains(&odd));
    assert!(!cached.verify(&odd));
}

/// The chain of the building tests: the testkit's four members and targets `t0..t5` of `m0`, whose compliance
/// officer freezes and unfreezes them.
fn building_chain() -> TestChain {
    let mut genesis = testkit::genesis(4);
    for i in 0..6 {
        let label = format!("t{i}");
        genesis
            .accounts
            .try_push(GenesisAccount { account: account(&label), member: member("m0"), key: public(&label) })
            .unwrap();
    }
    TestChain::new(genesis)
}

/// One candidate of a hostile mempool.
#[derive(Debug, Clone, Copy)]
enum Candidate {
    /// The officer's proposal freezing or unfreezing target `t{n}`, carrying its approval.
    Flip { target: u8, freeze: bool, salt: u8 },
    /// The same, with its transaction signature replaced by another signer's.
    Forged { target: u8, salt: u8 },
    /// The same, no longer valid at the block's height.
    Expired { target: u8 },
}

fn candidate() -> impl Strategy<Value = Candidate> {
    prop_oneof![
        6 => (0u8..6, any::<bool>(), 0u8..3).prop_map(|(target, freeze, salt)| Candidate::Flip { target, freeze, salt }),
        1 => (0u8..6, 0u8..3).prop_map(|(target, salt)| Candidate::Forged { target, salt }),
        1 => (0u8..6).prop_map(|target| Candidate::Expired { target }),
    ]
}

fn sign_candidate(chain: &TestChain, candidate: Candidate) -> SignedTransaction {
    let (target, freeze, salt, valid_until) = match candidate {
        Candidate::Flip { target, freeze, salt } => (target, freeze, salt, chain.height.plus(10)),
        Candidate::Forged { target, salt } => (target, true, salt, chain.height.plus(10)),
        Candidate::Expired { target } => (target, true, 0, chain.height),
    };
    let officer = "m0-compliance";
    let target = account(&format!("t{target}"));
    let action =
        if freeze { Action::FreezeAccount { account: target } } else { Action::UnfreezeAccount { account: target } };
    let proposal = Proposal {
        proposer: Principal::Account(account(officer)),
        title: BoundedString::try_new("flip").unwrap(),
        description: BoundedString::default(),
        actions: BoundedVec::try_new(vec![action]).unwrap(),
        expires_at: chain.height.plus(100),
        salt: u64::from(salt),
    };
    let approval = proposal.approve(&chain.chain, account(officer), &secret(officer));
    let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() };
    let tx = Transaction { sender: Principal::Account(account(officer)), valid_until, payload };
    let mut signed = tx.clone().sign(&chain.chain, &secret(officer));
    if let Candidate::Forged { .. } = candidate {
        signed.signature = tx.sign(&chain.chain, &secret("mallory")).signature;
    }
    signed
}

proptest! {
    #![proptest_config(config(48))]

    /// A block built in one pass over any candidate list includes, in the candidates' order and within the block's
    /// limits, the transactions that apply and those refused only because of one before them (which pass at the
    /// door), and leaves out only those refused at the door or that do not fit; applying the included list as a
    /// peer would reproduces its outcome exactly (receipts, state root, every write, next validator set); and a
    /// cached verifier builds the same block.
    #[test]
    fn a_block_built_in_one_pass_is_the_block_peers_execute(
        history in vec(vec(candidate(), 0..5), 0..3),
        candidates in vec(candidate(), 0..24),
        max in 1u32..30,
    ) {
        let mut chain = building_chain();
        for block in history {
            let txs: Vec<SignedTransaction> = block.into_iter().map(|c| sign_candidate(&chain, c)).collect();
            chain.apply_block(txs);
        }
        let mut params = governance_contracts::contracts::params::params(&chain.store).unwrap();
        params.max_block_transactions = max;
        let mut store = chain.store.clone();
        let mut scope = governance_contracts::contracts::Scope::new(&chain.store);
        governance_contracts::state::tables::PARAMS.put(&mut scope.state, &(), &params);
        store.apply(scope.state.into_changes());

        let signed: Vec<SignedTransaction> = candidates.iter().map(|c| sign_candidate(&chain, *c)).collect();
        let sized: Vec<(&SignedTransaction, usize)> = signed.iter().map(|tx| (tx, encode(tx).len())).collect();
        let height = chain.height.plus(1);
        let BuiltBlock { transactions, outcome } =
            execution::build_block(&store, height, sized.iter().copied(), &Verifier::default()).unwrap();
        prop_assert!(transactions.len() <= usize::try_from(max).unwrap());
        prop_assert_eq!(outcome.receipts.len(), transactions.len());
        // Each included transaction applied, or was refused only because of one before it: it passes at the door.
        let ctx = execution::next_block_context(&store).unwrap();
        for ((tx, size), receipt) in transactions.iter().zip(&outcome.receipts) {
            prop_assert!(
                receipt.outcome == Outcome::Applied || execution::check_transaction_in(&store, &ctx, tx, *size).is_ok(),
                "a transaction refused at the door was included: {:?}", receipt.outcome
            );
        }
        // Each candidate left out was refused at the door, or did not fit the block's count.
        for (tx, size) in &sized {
            if !transactions.iter().any(|(included, _)| included == *tx) {
                let refused = execution::check_transaction_in(&store, &ctx, tx, *size).is_err();
                prop_assert!(refused || transactions.len() == usize::try_from(max).unwrap() || signed.iter().filter(|c| c == tx).count() > 1);
            }
        }
        // In the candidates' order.
        let mut position = 0;
        for (tx, _) in &transactions {
            let found = signed[position..].iter().position(|c| c == tx);
            prop_assert!(found.is_some(), "an included transaction out of order");
            position += found.unwrap() + 1;
        }
        let replayed = execution::apply_block(&store, height, &transactions).unwrap();
        prop_assert_eq!(&replayed.receipts, &outcome.receipts);
        prop_assert_eq!(replayed.state_root, outcome.state_root);
        prop_assert_eq!(&replayed.changes, &outcome.changes);
        prop_assert_eq!(&replayed.next_validator_set, &outcome.next_validator_set);

        let cached = Verifier::cached(Arc::new(Held::default()));
        let again = execution::build_block(&store, height, sized.iter().copied(), &cached).unwrap();
        prop_assert_eq!(again.transactions, transactions);
        prop_assert_eq!(again.outcome.state_root, outcome.state_root);
    }
}

/// A forged copy of a transaction (same hash, another signer's signature) is refused even when the honest copy's
/// signature was verified first: the set is keyed by the whole triple, never by the transaction's hash.
#[test]
fn a_verified_honest_copy_does_not_let_a_forged_copy_through() {
    let chain = building_chain();
    let honest = sign_candidate(&chain, Candidate::Flip { target: 1, freeze: true, salt: 0 });
    let forged = sign_candidate(&chain, Candidate::Forged { target: 1, salt: 0 });
    assert_eq!(honest.tx.hash(&chain.chain), forged.tx.hash(&chain.chain));
    let cached = Verifier::cached(Arc::new(Held::default()));
    let height = chain.height.plus(1);
    let size = encode(&honest).len();
    let honest_first = execution::build_block(&chain.store, height, [(&honest, size)], &cached).unwrap();
    assert_eq!(honest_first.transactions.len(), 1);
    let forged_after = execution::build_block(&chain.store, height, [(&forged, size)], &cached).unwrap();
    assert!(forged_after.transactions.is_empty(), "the forged copy was included");
    let applied = execution::apply_block_with(&chain.store, height, &[(&forged, size)], &cached).unwrap();
    assert!(matches!(applied.receipts[0].outcome, Outcome::Rejected { .. }));
}
