//! The node's RocksDB store: the governance store conformance suite, genesis and block commits read back after a
//! reopen, refusal of another chain's genesis, crash safety (dropped and SIGKILLed writers), the indexes, the
//! consensus WAL and evidence, and corruption reported as such; and the consensus host's storage contract
//! ([`BlockStore`] + [`Wal`]) on both the RocksDB store and the in-memory one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::execution;
use governance_contracts::ids::{BlockHash, Height, TxHash, Weight};
use governance_contracts::state::conformance::{ConformanceStore, run_all};
use governance_contracts::state::{ChangeSet, Entries, Store, StoreError, TableId, root};
use governance_contracts::testkit::{self, TestChain, account, member, public};
use governance_contracts::types::{
    Action, Block, ConsensusVote, NewAccount, Outcome, Payload, Principal, VoteKind, verify_certificate,
};
use synod::consensus::evidence::Evidence;
use synod::consensus::store::{BlockStore, MemoryBlockStore, NodeStorage, StoredBlock};
use synod::consensus::wal::{LoggedTimeout, Wal, WalEntry};
use synod::storage::{CommittedBlock, NodeStore, StorageError, TxLocation};
use tempfile::TempDir;

mod common;
use common::{Producer, certify};

/// A store in its own temporary directory, deleted after the store is closed.
struct TempStore {
    store: NodeStore,
    _dir: TempDir,
}

impl Store for TempStore {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(table, key)
    }
    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.store.scan_prefix(table, prefix)
    }
}

impl ConformanceStore for TempStore {
    fn apply(&mut self, changes: ChangeSet) -> Result<(), StoreError> {
        self.store.apply(changes)
    }
}

/// Every entry of every governance table.
fn contents(store: &dyn Store) -> Contents {
    let mut all = BTreeMap::new();
    for table in TableId::ALL {
        for (key, value) in store.scan_prefix(table, &[]).expect("the store reads") {
            all.insert((table, key), value);
        }
    }
    all
}

/// Every entry of every governance table, by table and key.
type Contents = BTreeMap<(TableId, Vec<u8>), Vec<u8>>;

/// The workload of the read-back and index tests: proposals that execute, one that waits for a third approval,
/// a duplicate, a frozen sender, an empty block.
struct Workload {
    producer: Producer,
    blocks: Vec<CommittedBlock>,
    attest: TxHash,
    freeze: governance_contracts::ids::ProposalId,
    admit: governance_contracts::ids::ProposalId,
    frozen_tx: TxHash,
    /// The state after each height, from the in-memory chain.
    states: Vec<Contents>,
}

fn workload() -> Workload {
    let mut producer = Producer::new(testkit::genesis(4));
    let mut states = vec![contents(&producer.chain.store)];
    let chain_id = producer.chain.chain.clone();
    let c = &mut producer.chain;

    // Block 1: an attestation; compliance freezes m0-auditor (executes at once); m0-gov proposes admitting newco
    // with two of the three approvals it needs.
    let attest = c.node_tx("n1", Payload::AttestReadiness { synced_height: Height(0) });
    let freeze = c.proposal(
        Principal::Account(account("m0-compliance")),
        vec![Action::FreezeAccount { account: account("m0-auditor") }],
    );
    let freeze_tx = c.account_tx(
        "m0-compliance",
        Payload::SubmitProposal {
            proposal: freeze.clone(),
            approvals: BoundedVec::try_new(vec![c.approval(&freeze, "m0-compliance")]).expect("one approval"),
        },
    );
    let admit = c.proposal(
        Principal::Account(account("m0-gov")),
        vec![Action::AdmitMember {
            member: member("newco"),
            name: BoundedString::try_new("NewCo").expect("a short name"),
            weight: Weight(1),
            governors: BoundedVec::try_new(vec![NewAccount {
                account: account("newco-gov"),
                key: public("newco-gov"),
            }])
            .expect("one governor"),
        }],
    );
    let admit_tx = c.account_tx(
        "m0-gov",
        Payload::SubmitProposal {
            proposal: admit.clone(),
            approvals: BoundedVec::try_new(vec![c.approval(&admit, "m0-gov"), c.approval(&admit, "m1-gov")])
                .expect("two approvals"),
        },
    );
    let attest_hash = attest.tx.hash(&chain_id);
    let freeze_id = freeze.id(&chain_id);
    let admit_id = admit.id(&chain_id);
    let mut blocks = vec![producer.next_block(vec![attest.clone(), freeze_tx, admit_tx])];
    states.push(contents(&producer.chain.store));

    // Block 2: m2-gov's approval executes the admission; the attestation again (a duplicate); frozen m0-auditor
    // tries to propose something.
    let c = &mut producer.chain;
    let approve = c.account_tx(
        "m2-gov",
        Payload::Approve {
            proposal: admit_id,
            approvals: BoundedVec::try_new(vec![c.approval(&admit, "m2-gov")]).expect("one approval"),
        },
    );
    let frozen_proposal = c.proposal(
        Principal::Account(account("m0-auditor")),
        vec![Action::FreezeAccount { account: account("m2-ops") }],
    );
    let frozen =
        c.account_tx("m0-auditor", Payload::SubmitProposal { proposal: frozen_proposal, approvals: BoundedVec::new() });
    let frozen_hash = frozen.tx.hash(&chain_id);
    blocks.push(producer.next_block(vec![approve, attest, frozen]));
    states.push(contents(&producer.chain.store));

    // Block 3: empty.
    blocks.push(producer.next_block(Vec::new()));
    states.push(contents(&producer.chain.store));

    // Block 4: compliance unfreezes m0-auditor.
    let c = &mut producer.chain;
    let unfreeze = c.proposal(
        Principal::Account(account("m0-compliance")),
        vec![Action::UnfreezeAccount { account: account("m0-auditor") }],
    );
    let unfreeze_tx = c.account_tx(
        "m0-compliance",
        Payload::SubmitProposal {
            proposal: unfreeze.clone(),
            approvals: BoundedVec::try_new(vec![c.approval(&unfreeze, "m0-compliance")]).expect("one approval"),
        },
    );
    blocks.push(producer.next_block(vec![unfreeze_tx]));
    states.push(contents(&producer.chain.store));

    Workload {
        producer,
        blocks,
        attest: attest_hash,
        freeze: freeze_id,
        admit: admit_id,
        frozen_tx: frozen_hash,
        states,
    }
}

fn open_committed(dir: &Path, w: &Workload) -> NodeStore {
    let mut store = NodeStore::open_with_genesis(dir, &w.producer.chain.genesis).expect("the store opens");
    for block in &w.blocks {
        store.commit_block(block).expect("the block commits");
    }
    store
}

/// The RocksDB store passes the same conformance suite as the in-memory store, each check on a fresh database.
#[test]
fn conformance_suite_passes_on_rocksdb() {
    run_all(&mut || {
        let dir = TempDir::new().unwrap();
        let store = NodeStore::open(dir.path()).unwrap();
        Box::new(TempStore { store, _dir: dir }) as Box<dyn ConformanceStore>
    });
}

/// The workload's outcomes are what the index and read-back tests assume (so they cannot pass vacuously).
#[test]
fn workload_has_the_intended_outcomes() {
    let w = workload();
    let outcomes: Vec<Vec<bool>> =
        w.blocks.iter().map(|b| b.receipts.iter().map(|r| r.outcome == Outcome::Applied).collect()).collect();
    assert_eq!(outcomes, vec![vec![true, true, true], vec![true, false, false], vec![], vec![true]]);
    assert!(TestChain::executed(&w.blocks[0].receipts[1]), "the freeze executes at once");
    assert!(!TestChain::executed(&w.blocks[0].receipts[2]), "the admission waits for a third approval");
    assert!(TestChain::executed(&w.blocks[1].receipts[0]), "the third approval executes the admission");
}

/// Genesis and four committed blocks read back identically after the database is closed and reopened: blocks,
/// certificates (which still verify against the validator set of their height), receipts, the last height and
/// every governance table.
#[test]
fn committed_blocks_read_back_after_reopen() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    drop(open_committed(dir.path(), &w));

    let store = NodeStore::open(dir.path()).unwrap();
    let chain = w.producer.chain.chain.clone();
    assert_eq!(store.chain(), Some(&chain));
    assert_eq!(store.last_height(), Some(Height(4)));
    let mut replay = Producer::new(w.producer.chain.genesis.clone());
    for committed in &w.blocks {
        let h = committed.block.header.height;
        let set = execution::validator_set(&replay.chain.store).unwrap();
        let block = store.block(h).unwrap().expect("block stored");
        let certificate = store.certificate(h).unwrap().expect("certificate stored");
        assert_eq!(block, committed.block);
        assert_eq!(certificate, committed.certificate);
        assert_eq!(store.receipts(h).unwrap().as_ref(), Some(&committed.receipts));
        verify_certificate(&chain, &block.header, &certificate, &set).unwrap();
        replay.next_block(block.transactions.to_vec());
    }
    assert_eq!(store.block(Height(5)).unwrap(), None);
    assert_eq!(store.certificate(Height(5)).unwrap(), None);
    assert_eq!(contents(&store), *w.states.last().unwrap());
    assert_eq!(execution::meta(&store).unwrap().height, Height(4));
}

/// The state root recomputed from the reopened store's tree equals the root each header committed to, at every
/// height from genesis on, and a state proof read from the store verifies against it.
#[test]
fn state_roots_recomputed_after_reopen_match_the_headers() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    drop(open_committed(dir.path(), &w));

    let store = NodeStore::open(dir.path()).unwrap();
    let genesis_root = execution::apply_genesis(&w.producer.chain.genesis).unwrap().state_root;
    assert_eq!(root::root_at(&store, Height(0)).unwrap(), Some(genesis_root));
    for committed in &w.blocks {
        let h = committed.block.header.height;
        assert_eq!(root::root_at(&store, h).unwrap(), Some(committed.block.header.state_root), "root at {h}");
    }
    let last = &w.blocks[3].block.header;
    let key = encode(&account("m0-auditor"));
    let proof = root::prove(&store, TableId::Accounts, &key, last.height).unwrap().unwrap();
    assert!(proof.value.is_some());
    proof.verify(&last.state_root).unwrap();
}

/// A store initialised for one genesis refuses another (on open and on init), and still opens for its own.
#[test]
fn another_genesis_is_refused() {
    let dir = TempDir::new().unwrap();
    let genesis = testkit::genesis(4);
    let mut store = NodeStore::open_with_genesis(dir.path(), &genesis).unwrap();
    store.init_genesis(&genesis).unwrap();
    let other = testkit::genesis(5);
    match store.init_genesis(&other) {
        Err(StorageError::WrongGenesis { stored_genesis_hash, given_genesis_hash, .. }) => {
            assert_eq!(stored_genesis_hash, genesis.hash());
            assert_eq!(given_genesis_hash, other.hash());
        }
        other => panic!("expected WrongGenesis, got {other:?}"),
    }
    drop(store);
    let err = NodeStore::open_with_genesis(dir.path(), &other).unwrap_err();
    assert!(matches!(err, StorageError::WrongGenesis { .. }), "{err}");
    assert!(err.to_string().contains("use another data directory"), "{err}");
    let store = NodeStore::open_with_genesis(dir.path(), &genesis).unwrap();
    assert_eq!(store.last_height(), Some(Height(0)));
    assert_eq!(store.chain(), Some(&genesis.identity()));
}

/// Blocks are refused with nothing written when they are out of order, certified for another block, miss a
/// receipt, or carry state changes that do not reach their height or the header's state root; the right block then
/// commits.
#[test]
fn inconsistent_blocks_are_refused_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    let mut store = NodeStore::open_with_genesis(dir.path(), &w.producer.chain.genesis).unwrap();
    let before = contents(&store);

    let err = store.commit_block(&w.blocks[1]).unwrap_err();
    assert!(matches!(err, StorageError::OutOfOrder { last: Height(0), got: Height(2) }), "{err}");

    let mut wrong_certificate = w.blocks[0].clone();
    wrong_certificate.certificate.block = w.blocks[1].certificate.block;
    let err = store.commit_block(&wrong_certificate).unwrap_err();
    assert!(matches!(err, StorageError::InconsistentBlock { .. }), "{err}");

    // The header commits to another state root, and is certified as such: the state changes give away the lie.
    let chain = w.producer.chain.chain.clone();
    let mut wrong_root = w.blocks[0].clone();
    wrong_root.block.header.state_root = w.blocks[1].block.header.state_root;
    let set = execution::validator_set(&store).unwrap();
    wrong_root.certificate = certify(&chain, &wrong_root.block, &set);
    let err = store.commit_block(&wrong_root).unwrap_err();
    assert!(err.to_string().contains("state changes give root"), "{err}");

    let mut no_changes = w.blocks[0].clone();
    no_changes.changes = ChangeSet::new();
    let err = store.commit_block(&no_changes).unwrap_err();
    assert!(err.to_string().contains("leave the state at height 0"), "{err}");

    let mut missing_receipt = w.blocks[0].clone();
    missing_receipt.receipts.pop();
    assert!(matches!(store.commit_block(&missing_receipt), Err(StorageError::InconsistentBlock { .. })));

    assert_eq!(store.last_height(), Some(Height(0)));
    assert_eq!(store.block(Height(1)).unwrap(), None);
    assert_eq!(contents(&store), before);
    store.commit_block(&w.blocks[0]).unwrap();
    assert_eq!(store.last_height(), Some(Height(1)));
    assert_eq!(contents(&store), w.states[1]);
}

/// A writer that stops between two commits (its store dropped with the next block prepared but not committed)
/// reopens at exactly the last committed height and state, and carries on from there.
#[test]
fn dropped_writer_reopens_at_the_last_committed_block() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    let mut store = NodeStore::open_with_genesis(dir.path(), &w.producer.chain.genesis).unwrap();
    store.commit_block(&w.blocks[0]).unwrap();
    store.commit_block(&w.blocks[1]).unwrap();
    let prepared = w.blocks[2].clone();
    drop(store);

    let mut store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.last_height(), Some(Height(2)));
    assert_eq!(store.block(Height(3)).unwrap(), None);
    assert_eq!(contents(&store), w.states[2]);
    assert_eq!(root::root_at(&store, Height(2)).unwrap(), Some(w.blocks[1].block.header.state_root));
    assert_eq!(root::root_at(&store, Height(3)).unwrap(), None);
    store.commit_block(&prepared).unwrap();
    store.commit_block(&w.blocks[3]).unwrap();
    assert_eq!(contents(&store), w.states[4]);
}

/// The environment variable that turns [`crash_child`] into the writer that
/// [`killed_writer_reopens_at_the_last_committed_block`] kills: the database directory.
const CRASH_DIR: &str = "SYNOD_STORAGE_CRASH_DIR";

/// Blocks the crash child commits at most.
const CRASH_BLOCKS: u64 = 400;

/// Not a test on its own: the child process of [`killed_writer_reopens_at_the_last_committed_block`], which
/// commits blocks and reports each one until it is killed.
#[test]
#[ignore = "run by killed_writer_reopens_at_the_last_committed_block as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else { return };
    let mut producer = Producer::new(testkit::genesis(4));
    let mut store = NodeStore::open_with_genesis(Path::new(&dir), &producer.chain.genesis).unwrap();
    let mut out = std::io::stdout().lock();
    for _ in 0..CRASH_BLOCKS {
        let block = producer.attest_block();
        store.commit_block(&block).unwrap();
        writeln!(out, "committed {}", block.block.header.height).unwrap();
        out.flush().unwrap();
    }
}

/// A writer killed with SIGKILL in the middle of committing blocks reopens at a height it reported or later, with
/// exactly that height's block, root and state (checked against a replay), and the next block commits.
#[test]
fn killed_writer_reopens_at_the_last_committed_block() {
    for kill_after in [1u64, 2, 3, 5, 8, 13, 21, 34] {
        let dir = TempDir::new().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads", "1"])
            .env(CRASH_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reported = 0u64;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(height) = line.strip_prefix("committed ") {
                reported = height.parse().unwrap();
                if reported >= kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(reported >= kill_after, "the child stopped early at {reported}");

        let mut store = NodeStore::open(dir.path()).unwrap();
        let last = store.last_height().unwrap();
        assert!(last.0 >= reported && last.0 < CRASH_BLOCKS, "reopened at {last}, the child reported {reported}");
        let mut replay = Producer::new(testkit::genesis(4));
        let mut header = None;
        for _ in 0..last.0 {
            header = Some(replay.attest_block().block.header);
        }
        let header = header.unwrap();
        assert_eq!(store.block(last).unwrap().unwrap().header, header);
        assert_eq!(store.block(last.plus(1)).unwrap(), None);
        assert_eq!(store.certificate(last.plus(1)).unwrap(), None);
        assert_eq!(root::root_at(&store, last).unwrap(), Some(header.state_root));
        assert_eq!(contents(&store), contents(&replay.chain.store));
        store.commit_block(&replay.attest_block()).unwrap();
        assert_eq!(store.last_height(), Some(last.plus(1)));
    }
}

/// The transaction, proposal and account indexes point at the right transactions: an applied transaction wins
/// over its rejected duplicate, proposals list every transaction that touched them, and account histories include
/// events about the account and its own rejected transactions, with `from` and `limit` honoured.
#[test]
fn indexes_return_the_right_transactions() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    drop(open_committed(dir.path(), &w));
    let store = NodeStore::open(dir.path()).unwrap();
    let at = |height: u64, index: u32| TxLocation { height: Height(height), index };

    assert_eq!(store.tx_location(&w.attest).unwrap(), Some(at(1, 0)), "the applied inclusion, not the duplicate");
    assert_eq!(store.tx_location(&w.frozen_tx).unwrap(), Some(at(2, 2)));
    assert_eq!(store.tx_location(&TxHash(Digest::Sha256([7; 32]))).unwrap(), None);
    let (tx, receipt) = store.transaction(at(2, 2)).unwrap().unwrap();
    assert_eq!(tx.tx.hash(&w.producer.chain.chain), w.frozen_tx);
    assert_eq!(receipt.tx, w.frozen_tx);
    assert!(matches!(receipt.outcome, Outcome::Rejected { .. }));
    assert_eq!(store.transaction(at(2, 3)).unwrap(), None);
    assert_eq!(store.transaction(at(9, 0)).unwrap(), None);

    assert_eq!(store.proposal_history(&w.freeze).unwrap(), vec![at(1, 1)]);
    assert_eq!(store.proposal_history(&w.admit).unwrap(), vec![at(1, 2), at(2, 0)]);

    let ops = account("m0-auditor");
    assert_eq!(store.account_history(&ops, Height(0), 100).unwrap(), vec![at(1, 1), at(2, 2), at(4, 0)]);
    assert_eq!(store.account_history(&ops, Height(2), 100).unwrap(), vec![at(2, 2), at(4, 0)]);
    assert_eq!(store.account_history(&ops, Height(0), 2).unwrap(), vec![at(1, 1), at(2, 2)]);
    assert_eq!(store.account_history(&account("m2-gov"), Height(0), 100).unwrap(), vec![at(2, 0)]);
    assert_eq!(store.account_history(&account("m1-gov"), Height(0), 100).unwrap(), vec![at(1, 2)]);
    assert_eq!(store.account_history(&account("newco-gov"), Height(0), 100).unwrap(), vec![at(2, 0)]);
    assert_eq!(store.account_history(&account("nobody"), Height(0), 100).unwrap(), vec![]);
}

/// WAL entries come back per height in append order after a reopen, appends continue the sequence, and a reset
/// drops every older height while keeping the current one.
#[test]
fn wal_survives_reopen_and_reset_drops_older_heights() {
    let dir = TempDir::new().unwrap();
    let mut store = NodeStore::open(dir.path()).unwrap();
    store.wal_append(Height(5), b"vote-a", false).unwrap();
    store.wal_append(Height(5), b"vote-b", true).unwrap();
    store.wal_append(Height(6), b"proposal", false).unwrap();
    store.wal_append(Height(256), b"far", false).unwrap();
    store.wal_flush().unwrap();
    store.put_consensus_meta(b"locked", b"round-3").unwrap();
    drop(store);

    let mut store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.wal_entries(Height(5)).unwrap(), vec![b"vote-a".to_vec(), b"vote-b".to_vec()]);
    store.wal_append(Height(5), b"vote-c", true).unwrap();
    assert_eq!(store.wal_entries(Height(5)).unwrap(), vec![b"vote-a".to_vec(), b"vote-b".to_vec(), b"vote-c".to_vec()]);
    assert_eq!(store.wal_entries(Height(6)).unwrap(), vec![b"proposal".to_vec()]);
    assert_eq!(store.wal_entries(Height(7)).unwrap(), Vec::<Vec<u8>>::new());
    store.wal_reset(Height(6)).unwrap();
    assert!(store.wal_entries(Height(5)).unwrap().is_empty());
    assert_eq!(store.wal_entries(Height(6)).unwrap(), vec![b"proposal".to_vec()]);
    assert_eq!(store.wal_entries(Height(256)).unwrap(), vec![b"far".to_vec()]);
    assert_eq!(store.consensus_meta(b"locked").unwrap(), Some(b"round-3".to_vec()));
    assert_eq!(store.consensus_meta(b"other").unwrap(), None);
    // Consensus records never leak into governance state.
    assert!(contents(&store).is_empty());
}

/// A WAL flush syncs the log only when a write since the last synced one is not on disk: repeated flushes with
/// nothing new, and flushes after a synced append, cost no sync; an unsynced append costs exactly one.
#[test]
fn wal_flush_syncs_only_what_is_new() {
    let dir = TempDir::new().unwrap();
    let mut store = NodeStore::open(dir.path()).unwrap();
    store.wal_flush().unwrap();
    let before = store.wal_syncs();
    store.wal_flush().unwrap();
    store.wal_flush().unwrap();
    assert_eq!(store.wal_syncs(), before, "nothing was appended");
    store.wal_append(Height(3), b"vote-a", false).unwrap();
    store.wal_append(Height(3), b"vote-b", false).unwrap();
    store.wal_flush().unwrap();
    store.wal_flush().unwrap();
    assert_eq!(store.wal_syncs(), before + 1, "two appends, one sync");
    store.wal_append(Height(3), b"vote-c", true).unwrap();
    store.wal_flush().unwrap();
    assert_eq!(store.wal_syncs(), before + 1, "the synced append synced the log itself");
    store.wal_append(Height(3), b"vote-d", false).unwrap();
    store.wal_flush().unwrap();
    assert_eq!(store.wal_syncs(), before + 2);
    drop(store);
    let store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.wal_entries(Height(3)).unwrap().len(), 4, "every flushed append survives a reopen");
}

/// Evidence is listed by height, then in the order stored, from a given height on, and survives a reopen.
#[test]
fn evidence_is_listed_in_order() {
    let dir = TempDir::new().unwrap();
    let mut store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.put_evidence(Height(7), b"late").unwrap(), 0);
    assert_eq!(store.put_evidence(Height(3), b"first").unwrap(), 0);
    assert_eq!(store.put_evidence(Height(3), b"second").unwrap(), 1);
    drop(store);
    let mut store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.put_evidence(Height(3), b"third").unwrap(), 2);
    let listed: Vec<(u64, u32, Vec<u8>)> =
        store.evidence(Height(0), 10).unwrap().into_iter().map(|e| (e.height.0, e.seq, e.bytes)).collect();
    assert_eq!(
        listed,
        vec![
            (3, 0, b"first".to_vec()),
            (3, 1, b"second".to_vec()),
            (3, 2, b"third".to_vec()),
            (7, 0, b"late".to_vec())
        ]
    );
    assert_eq!(store.evidence(Height(4), 10).unwrap().len(), 1);
    assert_eq!(store.evidence(Height(0), 2).unwrap().len(), 2);
}

/// Damaged bytes on disk are reported as corruption of the column family that holds them, and a store written with
/// another schema version is refused: never a panic, never a default.
#[test]
fn corruption_and_schema_mismatch_are_reported() {
    let dir = TempDir::new().unwrap();
    let w = workload();
    drop(open_committed(dir.path(), &w));
    let families = FAMILIES;
    {
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), families).unwrap();
        let blocks = db.cf_handle("blocks").unwrap();
        db.put_cf(blocks, Height(2).to_be_bytes(), b"not a block").unwrap();
    }
    let store = NodeStore::open(dir.path()).unwrap();
    assert!(store.block(Height(1)).unwrap().is_some());
    match store.block(Height(2)) {
        Err(StorageError::Corrupt { table, .. }) => assert_eq!(table, "blocks"),
        other => panic!("expected corruption, got {other:?}"),
    }
    assert!(matches!(store.transaction(TxLocation { height: Height(2), index: 0 }), Err(StorageError::Corrupt { .. })));
    drop(store);

    {
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), families).unwrap();
        let meta = db.cf_handle("meta").unwrap();
        db.put_cf(meta, b"schema_version", encode(&9u32)).unwrap();
    }
    let err = NodeStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StorageError::SchemaMismatch { found: 9, expected: 2 }), "{err}");
}

/// Every column family of the store, as a raw RocksDB open must list them.
const FAMILIES: [&str; 11] = [
    "state",
    "blocks",
    "certificates",
    "receipts",
    "tx_index",
    "proposal_index",
    "account_index",
    "evidence",
    "consensus",
    "meta",
    "set_changes",
];

/// The heights where a validator set changes are indexed at commit, and a store written before the index existed
/// (schema version 1, no index) gets the same index when opened, and the current version.
#[test]
fn set_changes_are_indexed_and_rebuilt_for_older_stores() {
    let dir = TempDir::new().unwrap();
    let mut producer = Producer::new(testkit::genesis(4));
    let mut store = NodeStore::open_with_genesis(dir.path(), &producer.chain.genesis).unwrap();
    store.commit_block(&producer.next_block(vec![])).unwrap();
    let c = &mut producer.chain;
    let n1 = Principal::Node(testkit::node("n1"));
    let proof = c.key_proof(n1.clone(), Some(public("n1")), "n1-next");
    let proposal = c.proposal(n1, vec![Action::RotateNodeKey { node: testkit::node("n1"), proof }]);
    let approval = c.approval(&proposal, "m1-ops");
    let rotate =
        c.node_tx("n1", Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() });
    for block in [producer.next_block(vec![rotate]), producer.next_block(vec![]), producer.next_block(vec![])] {
        store.commit_block(&block).unwrap();
    }
    assert_eq!(store.set_change_heights(Height(5), 10).unwrap(), [Height(2)]);
    assert_eq!(store.set_change_heights(Height(2), 10).unwrap(), Vec::<Height>::new(), "below 2: none");
    drop(store);

    // The layout of version 1: the same, without the index.
    {
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), FAMILIES).unwrap();
        db.delete_cf(db.cf_handle("set_changes").unwrap(), Height(2).to_be_bytes()).unwrap();
        db.put_cf(db.cf_handle("meta").unwrap(), b"schema_version", encode(&1u32)).unwrap();
    }
    let store = NodeStore::open(dir.path()).unwrap();
    assert_eq!(store.set_change_heights(Height(5), 10).unwrap(), [Height(2)]);
    drop(store);
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), FAMILIES).unwrap();
    let version = db.get_cf(db.cf_handle("meta").unwrap(), b"schema_version").unwrap();
    assert_eq!(version, Some(encode(&2u32)));
}

/// Equivocation evidence against `n1` at `height`: two signed prevotes for different blocks.
fn evidence_at(chain: &governance_contracts::domain::ChainIdentity, height: u64) -> Evidence {
    let signed = |block: u8| {
        let vote = ConsensusVote {
            height: Height(height),
            round: 1,
            kind: VoteKind::Prevote,
            block: Some(BlockHash(Digest::Sha256([block; 32]))),
            voter: testkit::node("n1"),
        };
        let signature = testkit::secret("n1").sign(&vote.signing_digest(chain));
        (vote, signature)
    };
    Evidence::Votes { first: signed(1), second: signed(2) }
}

/// WAL entries of several kinds for `height`, the last one holding a whole block.
fn wal_entries(chain: &governance_contracts::domain::ChainIdentity, height: u64, block: &Block) -> Vec<WalEntry> {
    let vote = ConsensusVote {
        height: Height(height),
        round: 0,
        kind: VoteKind::Precommit,
        block: Some(block.hash(chain)),
        voter: testkit::node("n0"),
    };
    let signature = testkit::secret("n0").sign(&vote.signing_digest(chain));
    vec![
        WalEntry::Vote { vote, signature },
        WalEntry::Timeout { kind: LoggedTimeout::Propose, round: 2 },
        WalEntry::Block { built_for: Some(0), block: block.clone() },
    ]
}

fn stored(committed: &CommittedBlock) -> StoredBlock {
    StoredBlock {
        block: committed.block.clone(),
        receipts: committed.receipts.clone(),
        certificate: committed.certificate.clone(),
    }
}

/// The contract the consensus host relies on, run against any [`NodeStorage`] started from `testkit::genesis(4)`:
/// commits are sequential and read back whole with their state, evidence comes back in height order from a given
/// height with the limit honoured, flushed WAL entries come back in append order, and a reset drops lower heights.
fn host_storage_contract<S: NodeStorage>(store: &mut S) {
    let mut producer = Producer::new(testkit::genesis(4));
    let chain = producer.chain.chain.clone();
    assert_eq!(store.height(), Height(0));

    let first = producer.attest_block();
    let second = producer.attest_block();
    assert!(store.commit(stored(&second), second.changes.clone()).is_err(), "a gap is refused");
    assert_eq!(store.height(), Height(0));
    assert_eq!(BlockStore::block(store, Height(1)).expect("the store answers"), None);
    store.commit(stored(&first), first.changes.clone()).expect("the store answers");
    assert!(store.commit(stored(&first), first.changes.clone()).is_err(), "a repeat is refused");
    store.commit(stored(&second), second.changes.clone()).expect("the store answers");
    assert_eq!(store.height(), Height(2));
    assert_eq!(BlockStore::block(store, Height(1)).expect("the store answers"), Some(stored(&first)));
    assert_eq!(BlockStore::block(store, Height(2)).expect("the store answers"), Some(stored(&second)));
    assert_eq!(BlockStore::block(store, Height(3)).expect("the store answers"), None);
    assert_eq!(
        root::root_at(store.state(), Height(2)).expect("the store answers"),
        Some(second.block.header.state_root)
    );
    assert_eq!(contents(store.state()), contents(&producer.chain.store));

    let [late, early, middle] = [7, 3, 5].map(|height| evidence_at(&chain, height));
    for evidence in [&late, &early, &middle] {
        store.record_evidence(evidence).expect("the store answers");
    }
    assert_eq!(
        BlockStore::evidence(store, Height(0), 10).expect("the store answers"),
        vec![early.clone(), middle.clone(), late.clone()]
    );
    assert_eq!(BlockStore::evidence(store, Height(4), 10).expect("the store answers"), vec![middle, late]);
    assert_eq!(BlockStore::evidence(store, Height(0), 1).expect("the store answers"), vec![early]);
    assert_eq!(BlockStore::evidence(store, Height(8), 10).expect("the store answers"), vec![]);

    let current = wal_entries(&chain, 3, &first.block);
    let next = wal_entries(&chain, 4, &second.block);
    for entry in &current {
        store.log_append(Height(3), entry).expect("the store answers");
    }
    store.log_append(Height(4), &next[0]).expect("the store answers");
    store.log_flush().expect("the store answers");
    assert_eq!(store.log_entries(Height(3)).expect("the store answers"), current);
    assert_eq!(store.log_entries(Height(4)).expect("the store answers"), vec![next[0].clone()]);
    assert_eq!(store.log_entries(Height(5)).expect("the store answers"), vec![]);
    store.log_reset(Height(4)).expect("the store answers");
    assert_eq!(store.log_entries(Height(3)).expect("the store answers"), vec![]);
    store.log_append(Height(4), &next[1]).expect("the store answers");
    store.log_flush().expect("the store answers");
    assert_eq!(store.log_entries(Height(4)).expect("the store answers"), next[..2].to_vec());
}

/// The in-memory store the simulator uses keeps the host's storage contract.
#[test]
fn memory_store_keeps_the_host_storage_contract() {
    let mut store = MemoryBlockStore::from_genesis(&testkit::genesis(4)).unwrap();
    host_storage_contract(&mut store);
}

/// The RocksDB store keeps the same host storage contract as the in-memory one.
#[test]
fn rocksdb_store_keeps_the_host_storage_contract() {
    let dir = TempDir::new().unwrap();
    let mut store = NodeStore::open_with_genesis(dir.path(), &testkit::genesis(4)).unwrap();
    host_storage_contract(&mut store);
}

/// Flushed WAL entries, recorded evidence and committed blocks survive closing and reopening the RocksDB store,
/// read back through the host's traits.
#[test]
fn host_wal_and_evidence_survive_reopen() {
    let dir = TempDir::new().unwrap();
    let mut producer = Producer::new(testkit::genesis(4));
    let chain = producer.chain.chain.clone();
    let first = producer.attest_block();
    let entries = wal_entries(&chain, 2, &first.block);
    let evidence = [evidence_at(&chain, 1), evidence_at(&chain, 2)];
    {
        let mut store = NodeStore::open_with_genesis(dir.path(), &producer.chain.genesis).unwrap();
        store.commit(stored(&first), first.changes.clone()).unwrap();
        for entry in &entries {
            store.log_append(Height(2), entry).unwrap();
        }
        store.log_flush().unwrap();
        for e in &evidence {
            store.record_evidence(e).unwrap();
        }
    }
    let mut store = NodeStore::open_with_genesis(dir.path(), &producer.chain.genesis).unwrap();
    assert_eq!(BlockStore::height(&store), Height(1));
    assert_eq!(BlockStore::block(&store, Height(1)).unwrap(), Some(stored(&first)));
    assert_eq!(store.log_entries(Height(2)).unwrap(), entries);
    assert_eq!(BlockStore::evidence(&store, Height(0), 10).unwrap(), evidence.to_vec());
    // Appends after the reopen continue the log rather than overwrite it.
    store.log_append(Height(2), &entries[1]).unwrap();
    store.log_flush().unwrap();
    assert_eq!(store.log_entries(Height(2)).unwrap().len(), entries.len() + 1);
}

/// Bytes in the WAL or the evidence column that do not decode are storage failures naming what is corrupt, never a
/// panic.
#[test]
fn undecodable_wal_entries_and_evidence_are_failures() {
    let dir = TempDir::new().unwrap();
    let mut store = NodeStore::open_with_genesis(dir.path(), &testkit::genesis(4)).unwrap();
    store.wal_append(Height(1), b"\xff\xff not an entry", true).unwrap();
    store.put_evidence(Height(1), b"\x09").unwrap();
    let wal = store.log_entries(Height(1)).unwrap_err();
    assert!(wal.0.contains("write-ahead log entry 0 of height 1 does not decode"), "{wal}");
    let evidence = BlockStore::evidence(&store, Height(0), 10).unwrap_err();
    assert!(evidence.0.contains("evidence 0 of height 1 does not decode"), "{evidence}");
}
