//! The state root and its proofs: membership and non-membership proofs verify against the root of their height, a
//! proof that verifies never lies, tampering with any part of a proof is caught, old heights stay provable, and the
//! root is a function of the state alone.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use governance_contracts::codec::{BoundedVec, decode, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::execution;
use governance_contracts::ids::{Height, Weight};
use governance_contracts::state::records::MemberRecord;
use governance_contracts::state::root::{self, StateProof};
use governance_contracts::state::tables::ACCOUNTS;
use governance_contracts::state::{ChangeSet, MemoryStore, Overlay, Store, TableId};
use governance_contracts::testkit::{self, TestChain, account, member, public};
use governance_contracts::types::{Action, Outcome, Payload, Principal, Receipt};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

mod common;
use common::config;

/// The tables the root covers.
fn state_tables() -> Vec<TableId> {
    TableId::ALL.into_iter().filter(|t| t.in_state_root()).collect()
}

/// A short chain with a snapshot of its store and its root after genesis and after every block.
struct History {
    /// The store after everything.
    store: MemoryStore,
    /// `(store, root)` at heights 0, 1, ...
    snapshots: Vec<(MemoryStore, Digest)>,
}

impl History {
    fn last(&self) -> Height {
        Height(u64::try_from(self.snapshots.len()).expect("few").saturating_sub(1))
    }

    fn root(&self, height: Height) -> Digest {
        self.snapshots[usize::try_from(height.0).expect("small")].1
    }

    fn at(&self, height: Height) -> &MemoryStore {
        &self.snapshots[usize::try_from(height.0).expect("small")].0
    }
}

fn applied(receipt: &Receipt) {
    assert_eq!(receipt.outcome, Outcome::Applied, "{receipt:?}");
}

/// Genesis, then: m1's weight 1 → 2; n1 attests; m2 creates `m2-app`; an empty block; compliance freezes
/// `m0-auditor`.
fn build_history() -> History {
    let genesis = testkit::genesis(4);
    let genesis_root = execution::apply_genesis(&genesis).expect("genesis").state_root;
    let mut chain = TestChain::new(genesis);
    let mut snapshots = vec![(chain.store.clone(), genesis_root)];
    let mut record = |chain: &TestChain, root: Digest| snapshots.push((chain.store.clone(), root));

    let weight = Action::SetMemberWeight { member: member("m1"), expected: Weight(1), weight: Weight(2) };
    let proposal = chain.proposal(Principal::Account(account("m0-gov")), vec![weight]);
    let approvals = ["m0-gov", "m1-gov", "m2-gov"].iter().map(|a| chain.approval(&proposal, a)).collect();
    let tx = chain.account_tx(
        "m0-gov",
        Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).expect("few") },
    );
    let outcome = chain.apply_block(vec![tx]);
    assert!(TestChain::executed(&outcome.receipts[0]), "{:?}", outcome.receipts);
    record(&chain, outcome.state_root);

    let tx = chain.node_tx("n1", Payload::AttestReadiness { synced_height: Height(1) });
    let outcome = chain.apply_block(vec![tx]);
    applied(&outcome.receipts[0]);
    record(&chain, outcome.state_root);

    let create = Action::CreateAccount { account: account("m2-app"), member: member("m2"), key: public("m2-app") };
    let (_, receipt) = chain.propose("m2-gov", vec![create], &["m2-gov"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    record(&chain, root::root_at(&chain.store, chain.height).expect("root").expect("tree kept"));

    let outcome = chain.apply_block(Vec::new());
    record(&chain, outcome.state_root);

    let freeze = Action::FreezeAccount { account: account("m0-auditor") };
    let (_, receipt) = chain.propose("m0-compliance", vec![freeze], &["m0-compliance"]);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    record(&chain, root::root_at(&chain.store, chain.height).expect("root").expect("tree kept"));

    History { store: chain.store, snapshots }
}

static HISTORY: LazyLock<History> = LazyLock::new(build_history);

/// Every `(height, table, key)` that exists at that height, and a few that do not.
fn claims() -> Vec<(Height, TableId, Vec<u8>)> {
    let history = &*HISTORY;
    let mut out = Vec::new();
    for h in 0..=history.last().0 {
        let height = Height(h);
        for table in state_tables() {
            for (key, _) in history.at(height).scan_prefix(table, &[]).expect("scan") {
                out.push((height, table, key));
            }
            out.push((height, table, b"no such key".to_vec()));
        }
        out.push((height, TableId::Accounts, encode(&account("m2-app"))));
    }
    out
}

static CLAIMS: LazyLock<Vec<(Height, TableId, Vec<u8>)>> = LazyLock::new(claims);

fn claim() -> impl Strategy<Value = (Height, TableId, Vec<u8>)> {
    select(CLAIMS.clone())
}

fn prove(table: TableId, key: &[u8], height: Height) -> StateProof {
    root::prove(&HISTORY.store, table, key, height).expect("prove").expect("tree kept")
}

/// Whether `proof`'s claim is true at `height`: its table is a state table and its key has exactly its value.
fn claim_is_true(proof: &StateProof, height: Height) -> bool {
    let Some(table) = state_tables().into_iter().find(|t| t.tag() == proof.table) else { return false };
    HISTORY.at(height).get(table, &proof.key).expect("get") == proof.value
}

/// The root after every block is the one `apply_block` returned and `root_at` reads back, the genesis root is the
/// one `apply_genesis` returned, and every block changes it (each block records its height in state).
#[test]
fn roots_are_the_committed_ones() {
    let history = &*HISTORY;
    assert_eq!(history.last(), Height(5));
    let mut seen = std::collections::BTreeSet::new();
    for (h, (_, root)) in history.snapshots.iter().enumerate() {
        let height = Height(u64::try_from(h).expect("small"));
        assert_eq!(root::root_at(&history.store, height).expect("root").expect("tree kept"), *root, "root at {height}");
        assert!(seen.insert(*root), "the root at {height} repeats an earlier one");
    }
    assert_eq!(root::root_at(&history.store, Height(6)), Ok(None), "no root exists for a height not yet committed");
    let future = root::prove(&history.store, TableId::Members, &encode(&member("m0")), Height(6));
    assert_eq!(future, Ok(None), "no proof exists for a height not yet committed");
}

/// At every height, every entry of every state table has a membership proof carrying its exact value that verifies
/// against that height's root.
#[test]
fn every_entry_has_a_membership_proof() {
    let history = &*HISTORY;
    let mut proven = 0;
    for h in 0..=history.last().0 {
        let height = Height(h);
        for table in state_tables() {
            for (key, value) in history.at(height).scan_prefix(table, &[]).expect("scan") {
                let proof = prove(table, &key, height);
                assert_eq!(proof.value.as_ref(), Some(&value), "{table:?} {key:?} at {height}");
                proof.verify(&history.root(height)).unwrap_or_else(|e| panic!("{table:?} at {height}: {e}"));
                proven += 1;
            }
        }
    }
    assert!(proven > 300, "only {proven} entries proven");
}

/// Absent keys get non-membership proofs that verify, in every state table and at every height, including a key
/// that is created later (absent before, present after).
#[test]
fn absent_keys_have_non_membership_proofs() {
    let history = &*HISTORY;
    let app = encode(&account("m2-app"));
    for h in 0..=history.last().0 {
        let height = Height(h);
        for table in state_tables() {
            let proof = prove(table, b"no such key", height);
            assert_eq!(proof.value, None);
            proof.verify(&history.root(height)).unwrap_or_else(|e| panic!("{table:?} at {height}: {e}"));
        }
        let proof = prove(TableId::Accounts, &app, height);
        assert_eq!(proof.value.is_some(), h >= 3, "m2-app exists from height 3 on");
        proof.verify(&history.root(height)).expect("verifies either way");
    }
    let nobody = prove(TableId::Members, &encode(&member("nobody")), history.last());
    assert_eq!(nobody.value, None);
    nobody.verify(&history.root(history.last())).expect("non-membership of an unknown member");
}

/// A proof for an old height, made after later blocks, still verifies against that old root with the old value,
/// is identical to the proof made back then, and does not verify against the newer root.
#[test]
fn old_heights_stay_provable() {
    let history = &*HISTORY;
    let key = encode(&member("m1"));
    let old = prove(TableId::Members, &key, Height(0));
    let made_then =
        root::prove(history.at(Height(0)), TableId::Members, &key, Height(0)).expect("prove").expect("tree kept");
    assert_eq!(old, made_then, "a proof for height 0 does not depend on when it is made");
    old.verify(&history.root(Height(0))).expect("old proof, old root");
    let old_record: MemberRecord = decode(old.value.as_deref().expect("m1 exists")).expect("record");
    assert_eq!(old_record.weight, Weight(1));
    assert!(old.verify(&history.root(history.last())).is_err(), "m1 changed since: the old proof is stale");
    let new = prove(TableId::Members, &key, history.last());
    let new_record: MemberRecord = decode(new.value.as_deref().expect("m1 exists")).expect("record");
    assert_eq!(new_record.weight, Weight(2));
    new.verify(&history.root(history.last())).expect("new proof, new root");
    let frozen = ACCOUNTS.get(&history.store, &account("m0-auditor")).expect("read").expect("exists");
    assert!(frozen.frozen);
    let before = ACCOUNTS.get(history.at(Height(4)), &account("m0-auditor")).expect("read").expect("exists");
    assert!(!before.frozen);
}

/// A proof verifies only against the root of its own height (every block changes the root).
#[test]
fn proofs_fail_against_other_heights_roots() {
    let history = &*HISTORY;
    for h in 0..=history.last().0 {
        let proof = prove(TableId::Members, &encode(&member("m0")), Height(h));
        for other in 0..=history.last().0 {
            let result = proof.verify(&history.root(Height(other)));
            assert_eq!(result.is_ok(), h == other, "proof at {h} against root at {other}: {result:?}");
        }
    }
}

/// The tree's own storage tables are not part of the root: a proof naming them is refused.
#[test]
fn system_tables_cannot_be_proven() {
    let history = &*HISTORY;
    for table in [TableId::TreeNodes, TableId::TreeValues] {
        let (key, _) = history.store.scan_prefix(table, &[]).expect("scan").into_iter().next().expect("tree exists");
        let proof = prove(table, &key, history.last());
        assert!(proof.verify(&history.root(history.last())).is_err(), "{table:?} must not be provable");
    }
}

/// Two chains built the same way agree on the root at every height; a chain that differs in one transaction does
/// not.
#[test]
fn same_history_same_roots() {
    let again = build_history();
    for (h, ((a_store, a), (b_store, b))) in HISTORY.snapshots.iter().zip(&again.snapshots).enumerate() {
        assert_eq!(a, b, "roots differ at height {h}");
        assert!(a_store == b_store, "stores differ at height {h}");
    }
    let mut other = TestChain::with_members(4);
    let tx = other.node_tx("n2", Payload::AttestReadiness { synced_height: Height(0) });
    let outcome = other.apply_block(vec![tx]);
    assert_ne!(outcome.state_root, HISTORY.root(Height(1)), "a different block gives a different root");
    let mut empty = TestChain::with_members(4);
    let a = empty.apply_block(Vec::new()).state_root;
    let mut empty2 = TestChain::with_members(4);
    assert_eq!(empty2.apply_block(Vec::new()).state_root, a, "two empty first blocks agree");
    let mut bigger = TestChain::with_members(5);
    assert_ne!(bigger.apply_block(Vec::new()).state_root, a, "another genesis, another root");
}

proptest! {
    #![proptest_config(config(256))]

    /// Flipping any bit of a proof's encoding gives bytes that do not decode or a proof that does not verify, unless
    /// what it then claims is true (soundness: a verifying proof never lies).
    #[test]
    fn tampered_proof_bytes_are_caught(claim in claim(), at in any::<usize>(), bit in 0u8..8) {
        let (height, table, key) = claim;
        let proof = prove(table, &key, height);
        let mut bytes = encode(&proof);
        let i = at.checked_rem(bytes.len()).expect("a proof has bytes");
        bytes[i] ^= 1 << bit;
        if let Ok(tampered) = decode::<StateProof>(&bytes)
            && tampered.verify(&HISTORY.root(height)).is_ok()
        {
            prop_assert!(claim_is_true(&tampered, height), "a tampered proof verified a false claim: {tampered:?}");
            // Only the claim may change (e.g. a key whose absence the same path proves); never the Merkle path.
            prop_assert_eq!(&tampered.proof, &proof.proof);
        }
    }

    /// A membership proof carrying any other value, or no value, fails; a non-membership proof carrying a value
    /// fails.
    #[test]
    fn tampered_values_are_caught(claim in claim(), other in vec(any::<u8>(), 0..64), flip in any::<usize>()) {
        let (height, table, key) = claim;
        let root = HISTORY.root(height);
        let mut proof = prove(table, &key, height);
        match proof.value.clone() {
            Some(value) => {
                let mut changed = value.clone();
                match flip.checked_rem(changed.len()) {
                    Some(i) => changed[i] ^= 1,
                    None => changed.push(0),
                }
                for wrong in [Some(changed), None, Some(other.clone())] {
                    if wrong.as_ref() == Some(&value) { continue; }
                    proof.value = wrong.clone();
                    prop_assert!(proof.verify(&root).is_err(), "verified {wrong:?} instead of {value:?}");
                }
            }
            None => {
                proof.value = Some(other);
                prop_assert!(proof.verify(&root).is_err(), "a non-membership proof verified a value");
            }
        }
    }

    /// A proof moved to another key or table verifies only if its claim is true there; a membership proof never
    /// verifies for another key.
    #[test]
    fn proofs_do_not_transfer_to_other_keys(claim in claim(), target in claim(), random in vec(any::<u8>(), 0..40)) {
        let (height, table, key) = claim;
        let root = HISTORY.root(height);
        let proof = prove(table, &key, height);
        for (new_table, new_key) in [(target.1, target.2.clone()), (table, random.clone()), (target.1, key.clone())] {
            if (new_table, &new_key) == (table, &key) { continue; }
            let mut moved = proof.clone();
            moved.table = new_table.tag();
            moved.key = new_key;
            if moved.verify(&root).is_ok() {
                prop_assert!(proof.value.is_none(), "a membership proof verified for another key: {moved:?}");
                prop_assert!(claim_is_true(&moved, height), "a moved proof verified a false claim: {moved:?}");
            }
        }
    }

    /// No proof verifies against a root that is not its height's.
    #[test]
    fn proofs_fail_against_random_roots(claim in claim(), root in proptest::array::uniform32(any::<u8>())) {
        let (height, table, key) = claim;
        let proof = prove(table, &key, height);
        prop_assert!(proof.verify(&Digest::Sha256(root)).is_err());
        prop_assert!(proof.verify(&HISTORY.root(height)).is_ok());
    }
}

// --- the root as a function of the state -------------------------------------------------------------------------

/// Commits `changes` at `version` on top of `store` (as `apply_block` does) and returns the new root.
fn commit(store: &mut MemoryStore, changes: ChangeSet, version: u64) -> Digest {
    let (root, all) = {
        let mut overlay = Overlay::new(store);
        overlay.absorb(changes.clone());
        let root = root::commit(&mut overlay, &changes, Height(version)).expect("commit");
        (root, overlay.into_changes())
    };
    store.apply(all);
    root
}

/// One generated write: a table among the state tables, one of a few keys, a value or a delete.
type Write = (usize, u8, Option<Vec<u8>>);

fn write() -> impl Strategy<Value = Write> {
    (0usize..13, 0u8..6, proptest::option::weighted(0.7, vec(any::<u8>(), 0..4)))
}

proptest! {
    #![proptest_config(config(128))]

    /// The root depends only on the entries, not on history: writes applied in any batches (with overwrites and
    /// deletes) give the root of committing the final entries at once; and a batch changes the root exactly when it
    /// changes the entries.
    #[test]
    fn root_is_a_function_of_the_entries(batches in vec(vec(write(), 0..6), 1..6)) {
        let tables = state_tables();
        let mut store = MemoryStore::new();
        let mut model: BTreeMap<(TableId, Vec<u8>), Vec<u8>> = BTreeMap::new();
        let mut previous: Option<Digest> = None;
        for (version, batch) in batches.iter().enumerate() {
            let mut changes = ChangeSet::new();
            for (t, k, v) in batch {
                changes.insert((tables[t.checked_rem(tables.len()).expect("tables")], vec![*k]), v.clone());
            }
            // Deleting what the tree never had is not a change (apply_block drops those too).
            changes.retain(|key, value| value.is_some() || model.contains_key(key));
            let before = model.clone();
            for (key, value) in &changes {
                match value {
                    Some(v) => model.insert(key.clone(), v.clone()),
                    None => model.remove(key),
                };
            }
            let root = commit(&mut store, changes, u64::try_from(version).expect("small"));
            if let Some(previous) = previous {
                prop_assert_eq!(root == previous, model == before, "root changed iff the entries changed");
            }
            previous = Some(root);
        }
        let mut direct = MemoryStore::new();
        let all: ChangeSet = model.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        prop_assert_eq!(commit(&mut direct, all, 0), previous.expect("at least one batch"));
    }
}

/// Writes to the tree's own tables never reach the root, while a write to a state table does.
#[test]
fn system_table_writes_do_not_change_the_root() {
    let mut store = MemoryStore::new();
    let mut base = ChangeSet::new();
    base.insert((TableId::Members, b"k".to_vec()), Some(b"v".to_vec()));
    let root0 = commit(&mut store, base, 0);
    let mut system = ChangeSet::new();
    system.insert((TableId::TreeNodes, b"junk".to_vec()), Some(b"x".to_vec()));
    system.insert((TableId::TreeValues, b"junk".to_vec()), Some(b"y".to_vec()));
    assert_eq!(commit(&mut store, system, 1), root0);
    assert_eq!(commit(&mut store, ChangeSet::new(), 2), root0, "an empty batch keeps the root");
    let mut same = ChangeSet::new();
    same.insert((TableId::Members, b"k".to_vec()), Some(b"v".to_vec()));
    assert_eq!(commit(&mut store, same, 3), root0, "rewriting the same value keeps the root");
    let mut other_table = ChangeSet::new();
    other_table.insert((TableId::Accounts, b"k".to_vec()), Some(b"v".to_vec()));
    assert_ne!(commit(&mut store, other_table, 4), root0, "the same key in another table is another entry");
}
