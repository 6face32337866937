//! A conformance suite for [`super::Store`] implementations: the node runs it against RocksDB, the tests against
//! [`super::MemoryStore`].
//!
//! An implementation provides [`ConformanceStore`] (the read trait plus atomic application of a [`ChangeSet`], as a
//! node commits a block) and calls [`run_all`] with a function that makes a fresh, empty store:
//!
//! ```
//! use governance_contracts::state::MemoryStore;
//! use governance_contracts::state::conformance::{ConformanceStore, run_all};
//!
//! run_all(&mut || Box::new(MemoryStore::new()) as Box<dyn ConformanceStore>);
//! ```
//!
//! Each check gets its own fresh store. A failing check panics with `store conformance [<check>]: <what>`, so it is
//! test support only: it never runs inside a node.

use std::collections::BTreeMap;

use super::{ChangeSet, Entries, MemoryStore, Overlay, Store, StoreError, TableId, root};
use crate::execution;
use crate::ids::Height;
use crate::testkit;

/// A store the suite can check: [`Store`] plus a way to apply a [`ChangeSet`] atomically.
pub trait ConformanceStore: Store {
    /// Applies every change in `changes` (`Some` puts, `None` deletes; deleting an absent key is not an error) in
    /// one atomic write: after `Ok` all of them are visible, after `Err` none is.
    fn apply(&mut self, changes: ChangeSet) -> Result<(), StoreError>;
}

impl ConformanceStore for MemoryStore {
    fn apply(&mut self, changes: ChangeSet) -> Result<(), StoreError> {
        MemoryStore::apply(self, changes);
        Ok(())
    }
}

/// A check: it reports failures through its [`Check`] and gets a fresh store.
type CheckFn = fn(&Check<'_>, &mut dyn ConformanceStore);

/// Every check, by name.
const CHECKS: [(&str, CheckFn); 12] = [
    ("fresh store is empty", fresh_store_is_empty),
    ("missing key is none", missing_key_is_none),
    ("put then get", put_then_get),
    ("delete", delete),
    ("scan order and bounds", scan_order_and_bounds),
    ("empty prefix scans the whole table", empty_prefix_scans_whole_table),
    ("tables are isolated", tables_are_isolated),
    ("overlay reads its writes and merges scans", overlay_merges),
    ("nested overlays", nested_overlays),
    ("change set applies as a whole", change_set_applies_as_a_whole),
    ("random batches match a model", random_batches_match_a_model),
    ("state root through the store", state_root_through_the_store),
];

/// Runs every check, each on a fresh store from `make` (which must return an empty store). Panics with the check's
/// name and what differed at the first failure.
pub fn run_all(make: &mut dyn FnMut() -> Box<dyn ConformanceStore>) {
    for (name, check) in CHECKS {
        let mut store = make();
        check(&Check { name }, store.as_mut());
    }
}

/// The names of the checks [`run_all`] runs, in order.
pub fn check_names() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// Failure reporting for one check.
struct Check<'a> {
    name: &'a str,
}

impl Check<'_> {
    fn fail(&self, what: String) -> ! {
        panic!("store conformance [{}]: {what}", self.name)
    }

    fn get(&self, store: &dyn Store, table: TableId, key: &[u8]) -> Option<Vec<u8>> {
        store.get(table, key).unwrap_or_else(|e| self.fail(format!("get({table:?}, {key:02x?}) failed: {e}")))
    }

    fn scan(&self, store: &dyn Store, table: TableId, prefix: &[u8]) -> Entries {
        store
            .scan_prefix(table, prefix)
            .unwrap_or_else(|e| self.fail(format!("scan_prefix({table:?}, {prefix:02x?}) failed: {e}")))
    }

    fn apply(&self, store: &mut dyn ConformanceStore, changes: ChangeSet) {
        store.apply(changes).unwrap_or_else(|e| self.fail(format!("apply failed: {e}")));
    }

    fn put(&self, store: &mut dyn ConformanceStore, table: TableId, key: &[u8], value: &[u8]) {
        self.apply(store, changes(&[(table, key, Some(value))]));
    }

    fn expect_get(&self, store: &dyn Store, table: TableId, key: &[u8], want: Option<&[u8]>) {
        let got = self.get(store, table, key);
        if got.as_deref() != want {
            self.fail(format!("get({table:?}, {key:02x?}) returned {got:02x?}, expected {want:02x?}"));
        }
    }

    fn expect_scan(&self, store: &dyn Store, table: TableId, prefix: &[u8], want: &[(&[u8], &[u8])]) {
        let got = self.scan(store, table, prefix);
        let want: Entries = want.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        if got != want {
            self.fail(format!("scan_prefix({table:?}, {prefix:02x?}) returned {got:02x?}, expected {want:02x?}"));
        }
    }

    /// Checks the store holds exactly `model`, table by table, through full scans and gets.
    fn expect_contents(&self, store: &dyn Store, model: &Model) {
        for table in TableId::ALL {
            let want: Entries =
                model.iter().filter(|((t, _), _)| *t == table).map(|((_, k), v)| (k.clone(), v.clone())).collect();
            let got = self.scan(store, table, &[]);
            if got != want {
                self.fail(format!("table {table:?} holds {got:02x?}, expected {want:02x?}"));
            }
            for (key, value) in &want {
                self.expect_get(store, table, key, Some(value));
            }
        }
    }
}

/// What a store should hold.
type Model = BTreeMap<(TableId, Vec<u8>), Vec<u8>>;

/// One change written as borrowed bytes: table, key, and the value to put or `None` to delete.
type Change<'a> = (TableId, &'a [u8], Option<&'a [u8]>);

fn changes(items: &[Change<'_>]) -> ChangeSet {
    items.iter().map(|(t, k, v)| ((*t, k.to_vec()), v.map(<[u8]>::to_vec))).collect()
}

fn fresh_store_is_empty(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    c.expect_contents(store, &Model::new());
}

fn missing_key_is_none(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    for table in TableId::ALL {
        c.expect_get(store, table, b"missing", None);
        c.expect_get(store, table, &[], None);
    }
    c.put(store, TableId::Members, b"present", b"1");
    c.expect_get(store, TableId::Members, b"presen", None);
    c.expect_get(store, TableId::Members, b"present\0", None);
    c.expect_get(store, TableId::Accounts, b"present", None);
}

fn put_then_get(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    c.put(store, TableId::Members, b"alpha", b"one");
    c.expect_get(store, TableId::Members, b"alpha", Some(b"one"));
    c.put(store, TableId::Members, b"alpha", b"two");
    c.expect_get(store, TableId::Members, b"alpha", Some(b"two"));
    // Unit keys and unit values encode to no bytes at all (the `meta` key, expiry index values): an empty value is
    // a value, not an absence.
    c.put(store, TableId::Meta, &[], b"meta");
    c.expect_get(store, TableId::Meta, &[], Some(b"meta"));
    c.put(store, TableId::ProposalExpiry, b"expiring", &[]);
    c.expect_get(store, TableId::ProposalExpiry, b"expiring", Some(&[]));
    c.expect_scan(store, TableId::ProposalExpiry, &[], &[(b"expiring", &[])]);
    let binary: Vec<u8> = (0..=255u8).collect();
    c.put(store, TableId::Keys, &binary, &binary);
    c.expect_get(store, TableId::Keys, &binary, Some(&binary));
    let large: Vec<u8> = (0..=255u8).cycle().take(256 * 1024).collect();
    c.put(store, TableId::Proposals, b"large", &large);
    c.expect_get(store, TableId::Proposals, b"large", Some(&large));
}

fn delete(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    c.put(store, TableId::Nodes, b"n1", b"v1");
    c.put(store, TableId::Nodes, b"n2", b"v2");
    c.apply(store, changes(&[(TableId::Nodes, b"n1", None)]));
    c.expect_get(store, TableId::Nodes, b"n1", None);
    c.expect_scan(store, TableId::Nodes, &[], &[(b"n2", b"v2")]);
    c.apply(store, changes(&[(TableId::Nodes, b"never-written", None)]));
    c.expect_scan(store, TableId::Nodes, &[], &[(b"n2", b"v2")]);
    c.put(store, TableId::Nodes, b"n1", b"again");
    c.expect_get(store, TableId::Nodes, b"n1", Some(b"again"));
    c.apply(store, changes(&[(TableId::Nodes, b"n1", None), (TableId::Nodes, b"n2", None)]));
    c.expect_contents(store, &Model::new());
}

/// Keys that trip prefix-bound arithmetic: the empty key, `0x00` and `0xff` runs, keys that prefix each other.
const TRICKY_KEYS: [&[u8]; 11] =
    [b"b", b"a", b"ab", b"a\x00", b"a\xff", b"\xff", b"\xff\xff", b"\xff\x00", b"", b"\x00", b"a\xff\xff"];

fn scan_order_and_bounds(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let items: Vec<Change<'_>> = TRICKY_KEYS.iter().map(|k| (TableId::Grants, *k, Some(*k))).collect();
    c.apply(store, changes(&items));
    // The same keys in the neighbouring tables must never leak into a scan of this one.
    for table in [TableId::Roles, TableId::Proposals] {
        let items: Vec<Change<'_>> = TRICKY_KEYS.iter().map(|k| (table, *k, Some(&b"x"[..]))).collect();
        c.apply(store, changes(&items));
    }
    let g = TableId::Grants;
    c.expect_scan(
        store,
        g,
        b"a",
        &[(b"a", b"a"), (b"a\x00", b"a\x00"), (b"ab", b"ab"), (b"a\xff", b"a\xff"), (b"a\xff\xff", b"a\xff\xff")],
    );
    c.expect_scan(store, g, b"a\xff", &[(b"a\xff", b"a\xff"), (b"a\xff\xff", b"a\xff\xff")]);
    c.expect_scan(store, g, b"\xff", &[(b"\xff", b"\xff"), (b"\xff\x00", b"\xff\x00"), (b"\xff\xff", b"\xff\xff")]);
    c.expect_scan(store, g, b"\xff\xff", &[(b"\xff\xff", b"\xff\xff")]);
    c.expect_scan(store, g, b"\x00", &[(b"\x00", b"\x00")]);
    c.expect_scan(store, g, b"b", &[(b"b", b"b")]);
    c.expect_scan(store, g, b"abc", &[]);
    c.expect_scan(store, g, b"c", &[]);
    c.expect_scan(store, g, b"\xff\xff\xff", &[]);
}

fn empty_prefix_scans_whole_table(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let items: Vec<Change<'_>> = TRICKY_KEYS.iter().map(|k| (TableId::TxSeen, *k, Some(*k))).collect();
    c.apply(store, changes(&items));
    c.put(store, TableId::TxExpiry, b"other table", b"x");
    let mut sorted: Vec<&[u8]> = TRICKY_KEYS.to_vec();
    sorted.sort();
    let want: Vec<(&[u8], &[u8])> = sorted.iter().map(|k| (*k, *k)).collect();
    c.expect_scan(store, TableId::TxSeen, &[], &want);
}

fn tables_are_isolated(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let mut model = Model::new();
    let mut all = ChangeSet::new();
    for table in TableId::ALL {
        let value = table.name().as_bytes().to_vec();
        for key in [&b"shared"[..], b"shared-2", &[table.tag()]] {
            all.insert((table, key.to_vec()), Some(value.clone()));
            model.insert((table, key.to_vec()), value.clone());
        }
    }
    c.apply(store, all);
    c.expect_contents(store, &model);
    c.apply(store, changes(&[(TableId::Accounts, b"shared", None)]));
    model.remove(&(TableId::Accounts, b"shared".to_vec()));
    c.expect_contents(store, &model);
    for table in TableId::ALL {
        let want: Option<&[u8]> = if table == TableId::Accounts { None } else { Some(table.name().as_bytes()) };
        c.expect_get(store, table, b"shared", want);
    }
}

fn overlay_merges(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let m = TableId::Members;
    c.apply(
        store,
        changes(&[
            (m, b"a", Some(b"base-a")),
            (m, b"b", Some(b"base-b")),
            (m, b"c", Some(b"base-c")),
            (m, b"e", Some(b"base-e")),
            (TableId::Accounts, b"b", Some(b"acct-b")),
        ]),
    );
    let base_contents = contents(c, store);
    let merged_changes = {
        let base: &dyn Store = &*store;
        let mut overlay = Overlay::new(base);
        overlay.put(m, b"b".to_vec(), b"over-b".to_vec());
        overlay.delete(m, b"c".to_vec());
        overlay.put(m, b"d".to_vec(), b"over-d".to_vec());
        overlay.delete(m, b"x".to_vec());
        overlay.put(m, b"bb".to_vec(), Vec::new());
        overlay.put(TableId::Accounts, b"a".to_vec(), b"acct-a".to_vec());
        c.expect_get(&overlay, m, b"a", Some(b"base-a"));
        c.expect_get(&overlay, m, b"b", Some(b"over-b"));
        c.expect_get(&overlay, m, b"c", None);
        c.expect_get(&overlay, m, b"d", Some(b"over-d"));
        c.expect_get(&overlay, m, b"x", None);
        c.expect_scan(
            &overlay,
            m,
            &[],
            &[(b"a", b"base-a"), (b"b", b"over-b"), (b"bb", b""), (b"d", b"over-d"), (b"e", b"base-e")],
        );
        c.expect_scan(&overlay, m, b"b", &[(b"b", b"over-b"), (b"bb", b"")]);
        c.expect_scan(&overlay, m, b"c", &[]);
        c.expect_scan(&overlay, TableId::Accounts, &[], &[(b"a", b"acct-a"), (b"b", b"acct-b")]);
        c.expect_scan(&overlay, TableId::Nodes, &[], &[]);
        let seen = contents(c, &overlay);
        // Buffered writes are invisible in the base until applied.
        if contents(c, base) != base_contents {
            c.fail("the base changed while an overlay over it was written".into());
        }
        (overlay.into_changes(), seen)
    };
    let (pending, seen) = merged_changes;
    c.apply(store, pending);
    if contents(c, store) != seen {
        c.fail("applying an overlay's changes does not give the state the overlay showed".into());
    }
}

fn nested_overlays(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let r = TableId::Roles;
    c.apply(store, changes(&[(r, b"k1", Some(b"base")), (r, b"k2", Some(b"base"))]));
    let pending = {
        let base: &dyn Store = &*store;
        let mut parent = Overlay::new(base);
        parent.put(r, b"k3".to_vec(), b"parent".to_vec());
        let child_changes = {
            let mut child = Overlay::new(&parent);
            child.delete(r, b"k1".to_vec());
            child.put(r, b"k3".to_vec(), b"child".to_vec());
            c.expect_scan(&child, r, &[], &[(b"k2", b"base"), (b"k3", b"child")]);
            child.into_changes()
        };
        // A discarded child leaves nothing behind; an absorbed one is merged over the parent's own writes.
        c.expect_scan(&parent, r, &[], &[(b"k1", b"base"), (b"k2", b"base"), (b"k3", b"parent")]);
        parent.absorb(child_changes);
        c.expect_scan(&parent, r, &[], &[(b"k2", b"base"), (b"k3", b"child")]);
        parent.into_changes()
    };
    c.apply(store, pending);
    c.expect_scan(store, r, &[], &[(b"k2", b"base"), (b"k3", b"child")]);
}

fn change_set_applies_as_a_whole(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let mut model = Model::new();
    let mut first = ChangeSet::new();
    for (i, table) in TableId::ALL.into_iter().enumerate() {
        for j in 0..20u8 {
            let key = vec![j, i.to_le_bytes()[0]];
            first.insert((table, key.clone()), Some(vec![j; usize::from(j)]));
            model.insert((table, key), vec![j; usize::from(j)]);
        }
    }
    c.apply(store, first);
    c.expect_contents(store, &model);
    // One write batch mixing overwrites, deletes, new keys and deletes of absent keys, across every table.
    let mut second = ChangeSet::new();
    for (i, table) in TableId::ALL.into_iter().enumerate() {
        let tag = i.to_le_bytes()[0];
        for j in 0..20u8 {
            let key = vec![j, tag];
            let change = match j & 3 {
                0 => Some(b"overwritten".to_vec()),
                1 => None,
                _ => continue,
            };
            match &change {
                Some(v) => model.insert((table, key.clone()), v.clone()),
                None => model.remove(&(table, key.clone())),
            };
            second.insert((table, key), change);
        }
        second.insert((table, vec![200, tag]), Some(b"new".to_vec()));
        model.insert((table, vec![200, tag]), b"new".to_vec());
        second.insert((table, vec![201, tag]), None);
    }
    c.apply(store, second);
    c.expect_contents(store, &model);
}

/// A small deterministic generator (xorshift64), so that the suite needs no randomness crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x.wrapping_shl(13);
        x ^= x.wrapping_shr(7);
        x ^= x.wrapping_shl(17);
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        usize::try_from(self.next().checked_rem(n).unwrap_or(0)).unwrap_or(0)
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len.saturating_add(1));
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    /// A short key from a small alphabet, so that keys collide, overwrite and prefix each other often.
    fn key(&mut self) -> Vec<u8> {
        let len = self.below(4);
        (0..len).map(|_| [0x00, 0x01, 0x7f, 0xff][self.below(4)]).collect()
    }
}

fn random_batches_match_a_model(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let tables = [TableId::Meta, TableId::Members, TableId::Accounts, TableId::TreeValues];
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut model = Model::new();
    for _ in 0..60 {
        let mut batch = ChangeSet::new();
        for _ in 0..rng.below(12) {
            let table = tables[rng.below(tables.len())];
            let key = rng.key();
            let change = if rng.below(3) == 0 { None } else { Some(rng.bytes(6)) };
            batch.insert((table, key), change);
        }
        for ((table, key), change) in &batch {
            match change {
                Some(v) => model.insert((*table, key.clone()), v.clone()),
                None => model.remove(&(*table, key.clone())),
            };
        }
        c.apply(store, batch);
        for _ in 0..8 {
            let table = tables[rng.below(tables.len())];
            let prefix = rng.key();
            let want: Entries = model
                .iter()
                .filter(|((t, k), _)| *t == table && k.starts_with(&prefix))
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect();
            let got = c.scan(store, table, &prefix);
            if got != want {
                c.fail(format!("scan_prefix({table:?}, {prefix:02x?}) returned {got:02x?}, the model {want:02x?}"));
            }
            let key = rng.key();
            c.expect_get(store, table, &key, model.get(&(table, key.clone())).map(Vec::as_slice));
        }
    }
    c.expect_contents(store, &model);
}

/// The governance code on top of the store: a genesis and two blocks committed through [`ConformanceStore::apply`]
/// give the roots execution computed, proofs that verify, and state that keeps every invariant.
fn state_root_through_the_store(c: &Check<'_>, store: &mut dyn ConformanceStore) {
    let genesis = testkit::genesis(4);
    let state = execution::apply_genesis(&genesis).unwrap_or_else(|e| c.fail(format!("genesis: {e}")));
    c.apply(store, state.changes);
    let mut roots = vec![state.state_root];
    let chain = genesis.identity();
    for height in [Height(1), Height(2)] {
        let tx = crate::types::Transaction {
            sender: crate::types::Principal::Node(testkit::node("n1")),
            valid_until: height.plus(5),
            payload: crate::types::Payload::AttestReadiness { synced_height: height },
        }
        .sign(&chain, &testkit::secret("n1"));
        let size = crate::codec::encode(&tx).len();
        let outcome = execution::apply_block(&*store, height, &[(tx, size)])
            .unwrap_or_else(|e| c.fail(format!("block {height}: {e}")));
        if outcome.receipts.iter().any(|r| r.outcome != crate::types::Outcome::Applied) {
            c.fail(format!("block {height} was rejected: {:?}", outcome.receipts));
        }
        c.apply(store, outcome.changes);
        roots.push(outcome.state_root);
    }
    if let Err(violation) = crate::invariants::check(&*store) {
        c.fail(format!("invariant broken after two blocks: {violation}"));
    }
    for (height, expected) in (0u64..).map(Height).zip(&roots) {
        let root = root::root_at(&*store, height)
            .unwrap_or_else(|e| c.fail(format!("root at {height}: {e}")))
            .unwrap_or_else(|| c.fail(format!("no root at {height}")));
        if &root != expected {
            c.fail(format!("root at {height} reads back as {root}, execution computed {expected}"));
        }
        let key = crate::codec::encode(&testkit::node("n1"));
        let proof = root::prove(&*store, TableId::Nodes, &key, height)
            .unwrap_or_else(|e| c.fail(format!("proof at {height}: {e}")))
            .unwrap_or_else(|| c.fail(format!("no tree at {height}")));
        let record: crate::state::records::NodeRecord = proof
            .value
            .as_deref()
            .and_then(|bytes| crate::codec::decode(bytes).ok())
            .unwrap_or_else(|| c.fail(format!("the proof at {height} carries no node record for n1")));
        // n1 attests in every block, so each height's proof carries that height's record.
        let attested = if height == Height(0) { None } else { Some(height) };
        if record.attested_at != attested {
            c.fail(format!("n1's record at {height} says attested at {:?}", record.attested_at));
        }
        if let Err(e) = proof.verify(expected) {
            c.fail(format!("proof of n1 at {height} does not verify: {e}"));
        }
        let absent = root::prove(&*store, TableId::Nodes, b"absent", height)
            .unwrap_or_else(|e| c.fail(format!("proof at {height}: {e}")))
            .unwrap_or_else(|| c.fail(format!("no tree at {height}")));
        if absent.value.is_some() || absent.verify(expected).is_err() {
            c.fail(format!("non-membership proof at {height} does not verify"));
        }
    }
}

fn contents(c: &Check<'_>, store: &dyn Store) -> Model {
    let mut model = Model::new();
    for table in TableId::ALL {
        for (key, value) in c.scan(store, table, &[]) {
            model.insert((table, key), value);
        }
    }
    model
}
