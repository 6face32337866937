//! Offline-verifiable record proofs: a genuine bundle verifies from the genesis (and from the checkpoint it
//! yields), and each kind of tampering fails with the error of the check it breaks.

use std::collections::BTreeMap;

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::crypto::{Digest, PublicKey, SecretKey, Signature};
use governance_contracts::execution;
use governance_contracts::ids::{BlockHash, Height, RoleId};
use governance_contracts::state::root;
use governance_contracts::state::tables::MEMBERS;
use governance_contracts::testkit::{self, TestChain, account, member, node, secret};
use governance_contracts::types::block::{
    CertificateError, CommitCertificate, CommitSignature, ConsensusVote, ValidatorSet, VoteKind,
};
use governance_contracts::types::proof::{self, Checkpoint, ProofError, RecordValue};
use governance_contracts::types::{
    Action, CertifiedHeader, Payload, Principal, ProofBundle, RecordKey, SignedTransaction, ValidatorSetChange,
};

/// A chain whose every block is certified by all sealers of its validator set.
struct CertifiedChain {
    chain: TestChain,
    /// Certified headers by height.
    headers: BTreeMap<Height, CertifiedHeader>,
    /// The set derived after each height (it certifies the next one).
    next_sets: BTreeMap<Height, ValidatorSet>,
    /// The set certifying the next block.
    set: ValidatorSet,
    /// Every sealer key the chain has used.
    secrets: BTreeMap<PublicKey, SecretKey>,
}

impl CertifiedChain {
    fn new() -> Self {
        let chain = TestChain::with_members(4);
        let set = execution::validator_set(&chain.store).expect("the fixture chain is well formed");
        let secrets = ["n0", "n1", "n2", "n3", "n1-next", "n2-next"]
            .into_iter()
            .map(|label| (secret(label).public_key(), secret(label)))
            .collect();
        Self { chain, headers: BTreeMap::new(), next_sets: BTreeMap::new(), set, secrets }
    }

    fn block(&mut self, txs: Vec<SignedTransaction>) {
        let ids = self.chain.chain.clone();
        let height = self.chain.height.plus(1);
        let parent = self.headers.get(&self.chain.height).map_or(BlockHash(Digest::ZERO), |c| c.header.hash(&ids));
        let outcome = self.chain.apply_block(txs.clone());
        assert!(outcome.receipts.iter().all(|r| r.outcome == governance_contracts::types::Outcome::Applied));
        let time_ms = 1_767_225_600_000u64.saturating_add(height.0.saturating_mul(1_000));
        let header = testkit::block_header(&ids, height, parent, &txs, &outcome, &self.set, time_ms);
        let block = header.hash(&ids);
        let signatures = self
            .set
            .validators
            .iter()
            .map(|v| {
                let vote = ConsensusVote {
                    height,
                    round: 0,
                    kind: VoteKind::Precommit,
                    block: Some(block),
                    voter: v.node.clone(),
                };
                let signature = self.secrets[&v.key].sign(&vote.signing_digest(&ids));
                CommitSignature { node: v.node.clone(), signature }
            })
            .collect();
        let certificate = CommitCertificate {
            height,
            round: 0,
            block,
            signatures: BoundedVec::try_new(signatures).expect("the fixture chain is well formed"),
        };
        self.headers.insert(height, CertifiedHeader { header, certificate });
        self.next_sets.insert(height, outcome.next_validator_set.clone());
        self.set = outcome.next_validator_set;
    }

    /// Node `label` rotates to `label-next`, approved by its operator, in one block.
    fn rotate(&mut self, label: &str, member_index: usize) {
        let proof =
            self.chain.key_proof(Principal::Node(node(label)), Some(testkit::public(label)), &format!("{label}-next"));
        let proposal =
            self.chain.proposal(Principal::Node(node(label)), vec![Action::RotateNodeKey { node: node(label), proof }]);
        let approval = self.chain.approval(&proposal, &format!("m{member_index}-ops"));
        let payload = Payload::SubmitProposal {
            proposal,
            approvals: BoundedVec::try_new(vec![approval]).expect("the fixture chain is well formed"),
        };
        let tx = self.chain.node_tx(label, payload);
        self.block(vec![tx]);
    }

    /// The bundle for `record` at `height`, with every set change before it.
    fn bundle(&self, record: RecordKey, height: Height) -> ProofBundle {
        let (table, key) = record.location();
        let state_proof = root::prove(&self.chain.store, table, &key, height)
            .expect("the fixture chain is well formed")
            .expect("the fixture chain is well formed");
        let set_changes = self
            .headers
            .range(..height)
            .filter(|(_, c)| c.header.validator_set_hash != c.header.next_validator_set_hash)
            .map(|(h, c)| ValidatorSetChange { certified: c.clone(), next: self.next_sets[h].clone() })
            .collect();
        ProofBundle {
            chain: self.chain.chain.clone(),
            record,
            state_proof,
            header: self.headers[&height].clone(),
            set_changes: BoundedVec::try_new(set_changes).expect("the fixture chain is well formed"),
        }
    }
}

/// Six blocks: empty, n1 rotates (a set change), empty, n2 rotates (a set change), two empty.
fn chain() -> CertifiedChain {
    let mut c = CertifiedChain::new();
    c.block(vec![]);
    c.rotate("n1", 1);
    c.block(vec![]);
    c.rotate("n2", 2);
    c.block(vec![]);
    c.block(vec![]);
    c
}

fn m0() -> RecordKey {
    RecordKey::Member { member: member("m0") }
}

/// A genuine bundle verifies from the genesis across two validator-set changes and yields the record as stored.
#[test]
fn genuine_bundle_verifies() {
    let c = chain();
    let bundle = c.bundle(m0(), Height(6));
    assert_eq!(bundle.set_changes.len(), 2);
    let verified = proof::verify(&c.chain.genesis, &bundle).unwrap();
    let stored = MEMBERS.get(&c.chain.store, &member("m0")).unwrap().unwrap();
    assert_eq!(verified.value, Some(RecordValue::Member(stored)));
    assert_eq!(verified.height, Height(6));
    assert_eq!(verified.state_root, c.headers[&Height(6)].header.state_root);
}

/// Node, account and grant records verify too, and a record that does not exist is proven absent.
#[test]
fn every_record_kind_and_absence_verify() {
    let c = chain();
    let records = [
        RecordKey::Node { node: node("n1") },
        RecordKey::Account { account: account("m1-ops") },
        RecordKey::Grant { account: account("m1-ops"), role: RoleId::operator() },
    ];
    for record in records {
        let verified = proof::verify(&c.chain.genesis, &c.bundle(record.clone(), Height(5))).unwrap();
        assert!(verified.value.is_some(), "{record}");
    }
    let Some(RecordValue::Node(n1)) =
        proof::verify(&c.chain.genesis, &c.bundle(RecordKey::Node { node: node("n1") }, Height(5))).unwrap().value
    else {
        panic!("a node record");
    };
    assert_eq!(n1.key, Some(testkit::public("n1-next")));
    let absent = proof::verify(&c.chain.genesis, &c.bundle(RecordKey::Member { member: member("m9") }, Height(5)));
    assert_eq!(absent.unwrap().value, None);
}

/// The checkpoint a verified bundle yields verifies a later bundle that carries only the changes after it.
#[test]
fn checkpoint_verifies_later_bundles() {
    let c = chain();
    let first = proof::verify(&c.chain.genesis, &c.bundle(m0(), Height(3))).unwrap();
    assert_eq!(first.checkpoint.height, Height(2));
    let mut later = c.bundle(m0(), Height(6));
    later.set_changes = BoundedVec::try_new(
        later.set_changes.iter().filter(|ch| ch.certified.header.height > Height(2)).cloned().collect(),
    )
    .unwrap();
    assert_eq!(later.set_changes.len(), 1);
    proof::verify_from(&first.checkpoint, &later).unwrap();
    // From the genesis, the same shortened bundle misses the first change.
    assert!(proof::verify(&c.chain.genesis, &later).is_err());
}

/// A value changed in the state proof fails the state-proof check.
#[test]
fn tampered_value_fails() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    let mut record = MEMBERS.get(&c.chain.store, &member("m0")).unwrap().unwrap();
    record.weight = governance_contracts::ids::Weight(1_000);
    bundle.state_proof.value = Some(encode(&record));
    assert!(matches!(proof::verify(&c.chain.genesis, &bundle), Err(ProofError::StateProof(_))));
}

/// A state proof for another root (an older height's) fails the state-proof check, and one for another entry is
/// refused as being about another record.
#[test]
fn tampered_state_proof_fails() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    bundle.state_proof = c.bundle(m0(), Height(4)).state_proof;
    assert!(matches!(proof::verify(&c.chain.genesis, &bundle), Err(ProofError::StateProof(_))));

    let mut bundle = c.bundle(m0(), Height(6));
    bundle.state_proof = c.bundle(RecordKey::Member { member: member("m1") }, Height(6)).state_proof;
    assert!(matches!(proof::verify(&c.chain.genesis, &bundle), Err(ProofError::RecordMismatch { .. })));
}

/// A header whose state root was changed no longer matches its certificate.
#[test]
fn tampered_header_fails() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    bundle.header.header.state_root = c.headers[&Height(5)].header.state_root;
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::HeaderCertificate { height: Height(6), source: CertificateError::BlockMismatch })
    );
}

/// A forged signature in the header's certificate, or in a change's certificate, is refused naming the sealer.
#[test]
fn tampered_certificate_signature_fails() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    let signatures = bundle.header.certificate.signatures.clone().into_inner();
    let mut forged = signatures.clone();
    forged[1].signature = Signature::Ed25519([7; 64]);
    let n = forged[1].node.clone();
    bundle.header.certificate.signatures = BoundedVec::try_new(forged).unwrap();
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::HeaderCertificate { height: Height(6), source: CertificateError::BadSignature(n) })
    );

    let mut bundle = c.bundle(m0(), Height(6));
    let mut change = bundle.set_changes.clone().into_inner();
    let mut sigs = change[0].certified.certificate.signatures.clone().into_inner();
    sigs[0].signature = sigs[2].signature;
    let n = sigs[0].node.clone();
    change[0].certified.certificate.signatures = BoundedVec::try_new(sigs).unwrap();
    bundle.set_changes = BoundedVec::try_new(change).unwrap();
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::ChangeCertificate { height: Height(2), source: CertificateError::BadSignature(n) })
    );
}

/// Dropping a validator-set change leaves the verifier with a set the next header does not name.
#[test]
fn dropped_set_change_fails() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    bundle.set_changes = BoundedVec::try_new(vec![bundle.set_changes[1].clone()]).unwrap();
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::ChangeCertificate { height: Height(4), source: CertificateError::ValidatorSetMismatch })
    );
    let mut bundle = c.bundle(m0(), Height(6));
    bundle.set_changes = BoundedVec::try_new(vec![bundle.set_changes[0].clone()]).unwrap();
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::HeaderCertificate { height: Height(6), source: CertificateError::ValidatorSetMismatch })
    );
}

/// A change whose new set was swapped, a change repeated (out of order), a non-change, and a bundle of another chain are
/// each refused by their own check.
#[test]
fn malformed_change_lists_and_other_chains_fail() {
    let c = chain();
    let mut bundle = c.bundle(m0(), Height(6));
    let mut changes = bundle.set_changes.clone().into_inner();
    changes[0].next = changes[1].next.clone();
    bundle.set_changes = BoundedVec::try_new(changes).unwrap();
    assert_eq!(proof::verify(&c.chain.genesis, &bundle), Err(ProofError::NextSetMismatch { height: Height(2) }));

    let mut bundle = c.bundle(m0(), Height(6));
    let mut changes = bundle.set_changes.clone().into_inner();
    changes.insert(1, changes[0].clone());
    bundle.set_changes = BoundedVec::try_new(changes).unwrap();
    assert_eq!(
        proof::verify(&c.chain.genesis, &bundle),
        Err(ProofError::ChangeOutOfOrder { height: Height(2), after: Height(2) })
    );

    let mut bundle = c.bundle(m0(), Height(6));
    let mut changes = bundle.set_changes.clone().into_inner();
    changes.insert(
        0,
        ValidatorSetChange { certified: c.headers[&Height(1)].clone(), next: c.next_sets[&Height(1)].clone() },
    );
    bundle.set_changes = BoundedVec::try_new(changes).unwrap();
    assert_eq!(proof::verify(&c.chain.genesis, &bundle), Err(ProofError::NotAChange { height: Height(1) }));

    let mut other = c.chain.genesis.clone();
    other.genesis_time_ms = other.genesis_time_ms.saturating_add(1);
    assert!(matches!(proof::verify(&other, &c.bundle(m0(), Height(6))), Err(ProofError::WrongChain { .. })));
    let checkpoint = Checkpoint::from_genesis(&c.chain.genesis).unwrap();
    assert_eq!(checkpoint.height, Height(0));
}

/// A bundle survives its JSON and canonical encodings unchanged.
#[test]
fn bundles_round_trip_through_json_and_borsh() {
    let c = chain();
    let bundle = c.bundle(m0(), Height(6));
    let json = serde_json::to_string(&bundle).unwrap();
    assert_eq!(serde_json::from_str::<ProofBundle>(&json).unwrap(), bundle);
    let bytes = encode(&bundle);
    assert_eq!(governance_contracts::codec::decode::<ProofBundle>(&bytes).unwrap(), bundle);
}
