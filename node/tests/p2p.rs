//! The p2p transport over real TCP on 127.0.0.1: handshakes, admission, framing limits, recheck, redial and dial
//! overrides, with an in-memory admission table standing in for governance.

#![allow(clippy::unwrap_used, reason = "fixtures and helpers of tests: a failure must fail the test at once")]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::{Digest, PublicKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution::Refusal;
use governance_contracts::ids::{BlockHash, Height, NodeId, ProposalId};
use governance_contracts::testkit::{TestChain, node, secret};
use governance_contracts::types::Payload;
use governance_contracts::types::block::{Block, BlockHeader, CommitCertificate, CommitSignature};
use malachite_core_types::{
    Context as _, NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType,
    RoundSignature, VoteType,
};
use synod::consensus::context::{self, Address, SynodContext, Value, sign_proposal, sign_vote};
use synod::consensus::host::{NetMessage, ProposedBlock};
use synod::consensus::sync::{SyncRequest, SyncedBlock};
use synod::p2p::frame::{FrameError, MAX_FRAME_BYTES};
use synod::p2p::handshake::{self, NoiseLink, SignedStatement, TransportKey};
use synod::p2p::{
    Admission, AdmissionError, DialTarget, Direction, GarbageKind, MESSAGE_OVERHEAD_BYTES, MessageKind, P2p, P2pConfig,
    P2pCounters, RefusalKind, wire,
};
use synod::runtime::transport::Transport as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Instant;

/// How long any awaited condition may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A timeout no test outlasts: what it bounds never ends during a test.
const NEVER: Duration = Duration::from_secs(600);

/// Governance as the transport sees it: which keys are admitted (or why not) and where nodes listen.
#[derive(Default)]
struct Table {
    keys: Mutex<BTreeMap<PublicKey, Result<NodeId, Refusal>>>,
    addresses: Mutex<BTreeMap<NodeId, String>>,
    /// A key whose next verdict, once read, is held back until [`Table::release`] (freezing a handshake between
    /// its admission check and its end; only on a multi-thread runtime).
    held: Mutex<Option<PublicKey>>,
    holding: AtomicBool,
    released: AtomicBool,
}

impl Table {
    fn new(labels: &[&str]) -> Arc<Self> {
        let table = Arc::new(Self::default());
        for label in labels {
            table.admit(label);
        }
        table
    }

    fn admit(&self, label: &str) {
        self.keys.lock().unwrap().insert(secret(label).public_key(), Ok(node(label)));
    }

    fn refuse(&self, label: &str, refusal: Refusal) {
        self.keys.lock().unwrap().insert(secret(label).public_key(), Err(refusal));
    }

    fn set_address(&self, label: &str, address: impl ToString) {
        self.addresses.lock().unwrap().insert(node(label), address.to_string());
    }

    fn forget_address(&self, label: &str) {
        self.addresses.lock().unwrap().remove(&node(label));
    }

    /// Holds back the next verdict on `label`'s key once it is read (blocking the reading thread).
    fn hold_next_verdict(&self, label: &str) {
        *self.held.lock().unwrap() = Some(secret(label).public_key());
    }

    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }
}

impl Admission for Table {
    fn may_connect(&self, key: &PublicKey) -> Result<NodeId, AdmissionError> {
        let verdict = self.keys.lock().unwrap().get(key).cloned().unwrap_or(Err(Refusal::UnknownKey));
        if self.held.lock().unwrap().take_if(|held| held == key).is_some() {
            self.holding.store(true, Ordering::SeqCst);
            // The caller is a task on a multi-thread runtime: the runtime goes on while this thread waits.
            tokio::task::block_in_place(|| {
                let step = Duration::from_millis(5);
                let mut waited = Duration::ZERO;
                while !self.released.load(Ordering::SeqCst) && waited < PATIENCE {
                    std::thread::sleep(step);
                    waited = waited.saturating_add(step);
                }
            });
        }
        verdict.map_err(AdmissionError::Refused)
    }

    fn dial_targets(&self) -> Vec<DialTarget> {
        let keys = self.keys.lock().unwrap();
        let admitted: BTreeMap<&NodeId, &PublicKey> =
            keys.iter().filter_map(|(key, verdict)| verdict.as_ref().ok().map(|node| (node, key))).collect();
        self.addresses
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(node, address)| {
                admitted.get(node).map(|key| DialTarget { node: node.clone(), key: **key, address: address.clone() })
            })
            .collect()
    }
}

fn chain() -> ChainIdentity {
    TestChain::with_members(4).chain
}

fn config(label: &str) -> P2pConfig {
    let mut config = P2pConfig::new(chain(), node(label), secret(label), "127.0.0.1:0".parse().unwrap());
    config.limits.handshake_timeout = Duration::from_secs(3);
    config
}

/// Starts `label`'s transport and records its address in the table.
async fn start(label: &str, table: &Arc<Table>) -> P2p {
    start_with(config(label), table).await
}

async fn start_with(config: P2pConfig, table: &Arc<Table>) -> P2p {
    let label = config.node.to_string();
    let admission: Arc<dyn Admission> = table.clone();
    let p2p = P2p::start(config, admission).await.expect("the transport starts");
    table.set_address(&label, p2p.local_addr());
    p2p
}

/// Polls `condition` until it holds, failing the test after [`PATIENCE`].
async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now().checked_add(PATIENCE).unwrap();
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn connected(p2p: &P2p, label: &str) -> bool {
    p2p.peers().iter().any(|peer| peer.node == node(label))
}

fn count<K: Ord>(counters: &BTreeMap<K, u64>, kind: K) -> u64 {
    counters.get(&kind).copied().unwrap_or(0)
}

fn refusals(p2p: &P2p, kind: RefusalKind) -> u64 {
    count(&p2p.counters().refusals, kind)
}

fn garbage(p2p: &P2p, kind: GarbageKind) -> u64 {
    count(&p2p.counters().garbage, kind)
}

async fn receive(p2p: &mut P2p) -> (NodeId, NetMessage) {
    tokio::time::timeout(PATIENCE, p2p.recv()).await.expect("a message arrives in time").expect("transport open")
}

fn hash(byte: u8) -> BlockHash {
    BlockHash(Digest::Sha256([byte; 32]))
}

fn transactions(count: usize) -> Vec<governance_contracts::types::SignedTransaction> {
    let chain = TestChain::with_members(2);
    (0..count)
        .map(|i| {
            let proposal = ProposalId(Digest::Sha256([u8::try_from(i % 251).unwrap(); 32]));
            chain.account_tx("m0-gov", Payload::RevokeApproval { proposal })
        })
        .collect()
}

fn block(height: u64, txs: usize) -> Block {
    Block {
        header: BlockHeader {
            height: Height(height),
            parent: hash(1),
            state_root: Digest::Sha256([2; 32]),
            transactions_root: Digest::Sha256([3; 32]),
            receipts_root: Digest::Sha256([4; 32]),
            validator_set_hash: Digest::Sha256([5; 32]),
            next_validator_set_hash: Digest::Sha256([6; 32]),
            proposer: node("n1"),
            time_ms: 1_700_000_000_000,
        },
        transactions: BoundedVec::try_new(transactions(txs)).unwrap(),
    }
}

fn synced(heights: std::ops::RangeInclusive<u64>, txs: usize) -> Vec<SyncedBlock> {
    heights
        .map(|h| SyncedBlock {
            block: block(h, txs),
            certificate: CommitCertificate {
                height: Height(h),
                round: 0,
                block: hash(8),
                signatures: BoundedVec::try_new(vec![CommitSignature {
                    node: node("n0"),
                    signature: Signature::Ed25519([3; 64]),
                }])
                .unwrap(),
            },
        })
        .collect()
}

/// One message of every kind the hosts exchange, signed by `label`.
fn every_kind(label: &str) -> Vec<NetMessage> {
    let chain = chain();
    let key = secret(label);
    let me = Address(node(label));
    let (h, r) = (context::Height(Height(4)), Round::new(1));
    let prevote = sign_vote(&chain, &key, SynodContext.new_prevote(h, r, NilOrVal::Val(hash(9)), me.clone())).unwrap();
    let precommit = sign_vote(&chain, &key, SynodContext.new_precommit(h, r, NilOrVal::Nil, me.clone())).unwrap();
    let proposal =
        sign_proposal(&chain, &key, SynodContext.new_proposal(h, r, Value(hash(9)), Round::new(0), me.clone()))
            .unwrap();
    vec![
        NetMessage::Proposal(proposal),
        NetMessage::Vote(prevote.clone()),
        NetMessage::Vote(precommit.clone()),
        NetMessage::Block(Box::new(ProposedBlock {
            round: r,
            valid_round: Round::Nil,
            proposer: me.clone(),
            block: block(4, 3),
        })),
        NetMessage::PolkaCertificate(PolkaCertificate::<SynodContext> {
            height: h,
            round: r,
            value_id: hash(9),
            polka_signatures: vec![PolkaSignature::new(me.clone(), prevote.signature)],
        }),
        NetMessage::RoundCertificate(RoundCertificate::<SynodContext> {
            height: h,
            round: r,
            cert_type: RoundCertificateType::Precommit,
            round_signatures: vec![RoundSignature::new(VoteType::Precommit, NilOrVal::Nil, me, precommit.signature)],
        }),
        NetMessage::SyncRequest(SyncRequest { from: Height(2), to: Height(17) }),
        NetMessage::SyncResponse(synced(2..=4, 2)),
        // Larger than one Noise message: travels in several chunks.
        NetMessage::Transactions(transactions(1_000)),
    ]
}

/// Completes the Noise handshake with `address` and sends a statement signed by `label`'s key for `chain`.
async fn raw_link(address: SocketAddr, label: &str, chain: &ChainIdentity) -> NoiseLink<TcpStream> {
    let stream = TcpStream::connect(address).await.unwrap();
    let transport = TransportKey::generate().unwrap();
    let mut link = handshake::noise_initiator(stream, &transport, MAX_FRAME_BYTES).await.unwrap();
    let statement = SignedStatement::sign(chain, &secret(label), link.handshake_hash, transport.public());
    link.writer.write_frame(&borsh::to_vec(&statement).unwrap()).await.unwrap();
    link
}

/// Whether the other side closed `link` without sending another frame.
async fn closed_without_frame(link: &mut NoiseLink<TcpStream>) -> bool {
    match tokio::time::timeout(PATIENCE, link.reader.next_frame()).await.expect("the node answers in time") {
        Ok(Some(_)) => false,
        Ok(None) | Err(FrameError::Io(_) | FrameError::Truncated) => true,
        Err(other) => panic!("unexpected error: {other}"),
    }
}

/// Two nodes connect through the handshake, and every kind of message arrives intact, attributed to its sender,
/// whether sent to one peer or broadcast.
#[tokio::test]
async fn two_nodes_exchange_every_kind_of_message() {
    let table = Table::new(&["n0", "n1"]);
    let mut n0 = start("n0", &table).await;
    let mut n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    assert_eq!(n0.peers()[0].key, secret("n1").public_key());

    for message in every_kind("n0") {
        n0.send(&node("n1"), message.clone());
        assert_eq!(receive(&mut n1).await, (node("n0"), message));
    }
    for message in every_kind("n1") {
        n1.broadcast(message.clone());
        assert_eq!(receive(&mut n0).await, (node("n1"), message));
    }
    assert_eq!(n1.counters().received, 9);
    assert_eq!(n0.counters().garbage, BTreeMap::new());
}

/// Three nodes on a multi-thread runtime end with one connection per pair, the same one seen from both ends, and
/// a broadcast reaches both other nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_connect_once_per_pair() {
    let table = Table::new(&["n0", "n1", "n2"]);
    let mut nodes = vec![start("n0", &table).await, start("n1", &table).await, start("n2", &table).await];
    // Every node now dials every other: simultaneous dials must settle on one connection per pair.
    for p2p in &mut nodes {
        p2p.recheck(Height(1));
    }
    let labels = ["n0", "n1", "n2"];
    let settled = |nodes: &Vec<P2p>| {
        (0..3).all(|i| {
            let peers = nodes[i].peers();
            peers.len() == 2
                && peers.iter().all(|peer| {
                    let j = labels.iter().position(|l| node(l) == peer.node).unwrap();
                    let back = nodes[j].peers().into_iter().find(|p| p.node == node(labels[i]));
                    back.is_some_and(|back| back.direction != peer.direction)
                })
        })
    };
    wait_for("one agreed connection per pair", || settled(&nodes)).await;

    let vote = every_kind("n2").swap_remove(1);
    nodes[2].broadcast(vote.clone());
    assert_eq!(receive(&mut nodes[0]).await, (node("n2"), vote.clone()));
    assert_eq!(receive(&mut nodes[1]).await, (node("n2"), vote));
}

/// An unknown key, a retired key and this node's own key are refused after the peer's statement, and the refused
/// peer never receives a frame (not even the node's own statement); each refusal is counted by reason.
#[tokio::test]
async fn unadmitted_keys_are_refused_before_any_frame() {
    let table = Table::new(&["n0"]);
    table.refuse("n3", Refusal::Retired(Height(3)));
    let n0 = start("n0", &table).await;
    let cases = [("stranger", RefusalKind::UnknownKey), ("n3", RefusalKind::RetiredKey), ("n0", RefusalKind::OwnNode)];
    for (label, kind) in cases {
        let mut link = raw_link(n0.local_addr(), label, &chain()).await;
        assert!(closed_without_frame(&mut link).await, "{label} received a frame");
        wait_for("the refusal to be counted", || refusals(&n0, kind) == 1).await;
    }
    assert!(n0.peers().is_empty());
    assert_eq!(n0.counters().connections, 0);
}

/// A node holding an admitted key but configured for another chain (another genesis hash) is refused by the
/// honest node, and the two never connect.
#[tokio::test]
async fn a_key_of_another_chain_is_refused() {
    let table = Table::new(&["n0", "n1"]);
    let n0 = start("n0", &table).await;
    let mut other = config("n1");
    other.chain.genesis_hash = Digest::Sha256([7; 32]);
    let n1 = start_with(other, &table).await;
    wait_for("n0 to refuse n1's statement", || refusals(&n0, RefusalKind::BadSignature) >= 1).await;
    assert!(n0.peers().is_empty());
    assert!(n1.peers().is_empty());
    assert_eq!(n1.counters().received, 0);

    // The raw view: a statement signed for the other chain gets no frame back.
    let mut link = raw_link(n0.local_addr(), "n1", &other_chain()).await;
    assert!(closed_without_frame(&mut link).await);
}

fn other_chain() -> ChainIdentity {
    ChainIdentity { genesis_hash: Digest::Sha256([7; 32]), ..chain() }
}

/// After governance removes a connected peer, `recheck` disconnects it (counted by reason) and its redials are
/// refused at the handshake, so it stays out.
#[tokio::test]
async fn recheck_disconnects_a_removed_peer_for_good() {
    let table = Table::new(&["n0", "n1"]);
    let mut n0 = start("n0", &table).await;
    let n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    n0.recheck(Height(6));
    assert!(connected(&n0, "n1"), "an admitted peer survives a recheck");

    table.refuse("n1", Refusal::Removed(node("n1")));
    n0.recheck(Height(7));
    assert!(!connected(&n0, "n1"));
    assert_eq!(count(&n0.counters().recheck_drops, RefusalKind::RemovedNode), 1);
    wait_for("n1 to notice", || n1.peers().is_empty()).await;
    wait_for("n1's redial to be refused", || refusals(&n0, RefusalKind::RemovedNode) >= 1).await;
    assert!(n0.peers().is_empty() && n1.peers().is_empty());
}

/// Garbage before the handshake, and after it undecryptable bytes, an oversized length prefix, a message too short
/// for a frame header, a truncated frame and an undecodable frame each get that socket closed and counted, while the node keeps serving another peer.
#[tokio::test]
async fn malformed_input_disconnects_only_the_offender() {
    let table = Table::new(&["n0", "n1", "n2"]);
    let mut n0 = start("n0", &table).await;
    let n1 = start("n1", &table).await;
    // n2 is a raw socket below: it must not be dialled.
    table.forget_address("n2");
    wait_for("n0 and n1 to connect", || connected(&n0, "n1")).await;
    let mut n1 = n1;

    // Before the handshake: not a Noise message at all.
    let mut raw = TcpStream::connect(n0.local_addr()).await.unwrap();
    raw.write_all(&[0, 5, 1, 2, 3, 4, 5]).await.unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(PATIENCE, raw.read(&mut buffer)).await.unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "the socket is closed");
    wait_for("the failed handshake to be counted", || n0.counters().handshake_failures == 1).await;
    still_serving(&mut n0, &mut n1).await;

    let attacks = [
        GarbageKind::Decryption,
        GarbageKind::Oversized,
        GarbageKind::Malformed,
        GarbageKind::Truncated,
        GarbageKind::Undecodable,
    ];
    for kind in attacks {
        let mut link = raw_link(n0.local_addr(), "n2", &chain()).await;
        let statement = link.reader.next_frame().await.unwrap().expect("an admitted peer gets the node's statement");
        assert!(!statement.is_empty());
        wait_for("the raw peer to be registered", || connected(&n0, "n2")).await;
        attack(&mut link, kind).await;
        wait_for("the garbage to be counted", || garbage(&n0, kind) == 1).await;
        assert!(closed_without_frame(&mut link).await, "{kind:?}: the offender is disconnected");
        wait_for("the offender to be forgotten", || !connected(&n0, "n2")).await;
        assert!(connected(&n0, "n1"));
        still_serving(&mut n0, &mut n1).await;
    }
    let counters: P2pCounters = n0.counters();
    assert_eq!(counters.garbage.values().sum::<u64>(), 5);
}

/// Asserts `n0` still receives from `n1`.
async fn still_serving(n0: &mut P2p, n1: &mut P2p) {
    let message = NetMessage::SyncRequest(SyncRequest { from: Height(1), to: Height(2) });
    n1.send(&node("n0"), message.clone());
    assert_eq!(receive(n0).await, (node("n1"), message));
}

/// Sends, over an established session, the malformed input of `kind`.
async fn attack(link: &mut NoiseLink<TcpStream>, kind: GarbageKind) {
    match kind {
        // Twenty bytes that are no ciphertext of this session.
        GarbageKind::Decryption => link.writer.get_mut().write_all(&[&[0u8, 20][..], &[9; 20]].concat()).await.unwrap(),
        GarbageKind::Oversized => link.writer.write_chunk(&u32::MAX.to_be_bytes()).await.unwrap(),
        GarbageKind::Truncated => {
            let mut chunk = 100u32.to_be_bytes().to_vec();
            chunk.extend_from_slice(&[1; 10]);
            link.writer.write_chunk(&chunk).await.unwrap();
            link.writer.get_mut().shutdown().await.unwrap();
        }
        GarbageKind::Undecodable => link.writer.write_frame(b"not a message").await.unwrap(),
        GarbageKind::Malformed => link.writer.write_chunk(&[1, 2]).await.unwrap(),
    }
}

/// Binds `label`'s transport to `address` again, retrying while the old socket is still being released.
async fn restart_at(label: &str, address: SocketAddr, table: &Arc<Table>) -> P2p {
    let deadline = Instant::now().checked_add(PATIENCE).unwrap();
    loop {
        let mut config = config(label);
        config.listen = address;
        let admission: Arc<dyn Admission> = table.clone();
        match P2p::start(config, admission).await {
            Ok(p2p) => return p2p,
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot rebind {address}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// A peer that stops and comes back at the same address is reconnected by the dialler's backoff loop.
#[tokio::test]
async fn a_restarted_peer_is_redialled() {
    let table = Table::new(&["n0", "n1"]);
    let mut n0 = start("n0", &table).await;
    let n1 = start("n1", &table).await;
    n0.recheck(Height(1)); // n0 now dials n1 as well
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    let address = n1.local_addr();
    drop(n1);
    wait_for("n0 to notice n1 is gone", || n0.peers().is_empty()).await;

    // The restarted n1 does not know where n0 is: only n0's dialler can bring the link back.
    table.forget_address("n0");
    let n1 = restart_at("n1", address, &table).await;
    wait_for("n0 to redial n1", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    assert_eq!(n0.peers()[0].direction, Direction::Outbound);
    assert!(n0.counters().connections >= 2);
}

/// A dial override replaces the address governance recorded: the link goes through the override (a forwarding
/// proxy here), while the recorded address leads nowhere.
#[tokio::test]
async fn a_dial_override_replaces_the_recorded_address() {
    let table = Table::new(&["n0", "n1"]);
    let n1 = start("n1", &table).await;
    let target = n1.local_addr();
    table.set_address("n1", "127.0.0.1:1");

    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_address = proxy.local_addr().unwrap();
    let forwarded = Arc::new(AtomicUsize::new(0));
    let counter = forwarded.clone();
    let proxy_task = tokio::spawn(async move {
        loop {
            let (mut inbound, _) = proxy.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(target).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });

    let mut config = config("n0");
    config.dial_overrides.insert(node("n1"), proxy_address.to_string());
    let mut n0 = start_with(config, &table).await;
    table.forget_address("n0"); // n1 must not dial n0 directly
    wait_for("n0 to reach n1 through the proxy", || connected(&n0, "n1")).await;
    assert!(forwarded.load(Ordering::SeqCst) >= 1);
    let peer = n0.peers().remove(0);
    assert_eq!((peer.address, peer.direction), (proxy_address, Direction::Outbound));

    let mut n1 = n1;
    n0.send(&node("n1"), NetMessage::SyncRequest(SyncRequest { from: Height(3), to: Height(4) }));
    assert_eq!(receive(&mut n1).await.0, node("n0"));
    proxy_task.abort();
}

/// A sync response larger than the frame limit arrives as several responses that together hold every block, in
/// order.
#[tokio::test]
async fn an_oversized_sync_response_arrives_split() {
    let table = Table::new(&["n0", "n1"]);
    let mut small = config("n0");
    small.limits.max_frame_bytes = 8 * 1024;
    let mut n0 = start_with(small, &table).await;
    let mut small = config("n1");
    small.limits.max_frame_bytes = 8 * 1024;
    let mut n1 = start_with(small, &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    let blocks = synced(1..=16, 4);
    n0.send(&node("n1"), NetMessage::SyncResponse(blocks.clone()));
    let mut received = Vec::new();
    let mut messages = 0;
    while received.len() < blocks.len() {
        let (from, message) = receive(&mut n1).await;
        assert_eq!(from, node("n0"));
        let NetMessage::SyncResponse(part) = message else { panic!("a sync response") };
        received.extend(part);
        messages += 1;
    }
    assert_eq!(received, blocks);
    assert!(messages > 1, "the response was split");
    assert_eq!(n0.counters().unencodable, 0);
}

/// After a node's key rotation takes effect, its peers drop the connection proven with the retired key at their
/// recheck, and it reconnects by proving the new key it was given with `set_key`.
#[tokio::test]
async fn a_rotated_key_reconnects_with_the_new_key() {
    let table = Table::new(&["n0", "n1"]);
    let mut n0 = start("n0", &table).await;
    let mut n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    table.refuse("n1", Refusal::Retired(Height(9)));
    table.keys.lock().unwrap().insert(secret("n1-next").public_key(), Ok(node("n1")));
    n1.set_key(secret("n1-next"));
    n0.recheck(Height(9));
    assert_eq!(count(&n0.counters().recheck_drops, RefusalKind::RetiredKey), 1);
    let rotated =
        |p2p: &P2p| p2p.peers().iter().any(|p| p.node == node("n1") && p.key == secret("n1-next").public_key());
    wait_for("n1 to reconnect with its new key", || rotated(&n0)).await;
    n1.send(&node("n0"), NetMessage::SyncRequest(SyncRequest { from: Height(9), to: Height(10) }));
    assert_eq!(receive(&mut n0).await.0, node("n1"));
}

/// A node whose store predates the replacement of its revoked key proves the revoked key first; every peer closes
/// those handshakes, and after a few in a row it presents the other key its home holds, which governance now
/// admits, and connects.
#[tokio::test]
async fn a_node_whose_key_was_replaced_while_it_was_away_connects_with_its_other_key() {
    let table = Table::new(&["n0"]);
    table.refuse("n1", Refusal::Revoked(Height(7)));
    table.keys.lock().unwrap().insert(secret("n1-next").public_key(), Ok(node("n1")));
    let n0 = start("n0", &table).await;
    let mut returning = config("n1");
    returning.other_keys = vec![secret("n1-next")];
    let n1 = start_with(returning, &table).await;

    let with_new_key =
        |p2p: &P2p| p2p.peers().iter().any(|p| p.node == node("n1") && p.key == secret("n1-next").public_key());
    wait_for("n1 to connect with its other key", || with_new_key(&n0)).await;
    assert!(refusals(&n0, RefusalKind::RevokedKey) >= u64::from(synod::p2p::UNANSWERED_BEFORE_NEXT_KEY));
    assert!(n1.counters().handshake_failures >= u64::from(synod::p2p::UNANSWERED_BEFORE_NEXT_KEY));
}

/// Opens `per_address` TCP connections to `target` from each of `sources` (Linux accepts any loopback source
/// address of 127.0.0.0/8) and leaves them idle.
async fn idle_connections(
    target: SocketAddr,
    sources: impl IntoIterator<Item = Ipv4Addr>,
    per_address: usize,
) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for source in sources {
        for _ in 0..per_address {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(source.into(), 0)).unwrap();
            streams.push(socket.connect(target).await.unwrap());
        }
    }
    streams
}

/// `label`'s configuration with handshake slots small enough to exhaust in a test, and handshakes that never time
/// out during it (so only the slot rules decide who gets in).
fn slot_config(label: &str, general: usize, per_address: usize, reserved: usize) -> P2pConfig {
    let mut config = config(label);
    config.limits.handshake_timeout = NEVER;
    config.limits.first_message_timeout = NEVER;
    config.limits.max_pending_handshakes = general;
    config.limits.max_pending_handshakes_per_address = per_address;
    config.limits.reserved_handshakes = reserved;
    config
}

/// Starts `label`'s transport without recording its address, so that no node dials it.
async fn start_unlisted(label: &str, table: &Arc<Table>) -> P2p {
    let admission: Arc<dyn Admission> = table.clone();
    P2p::start(config(label), admission).await.expect("the transport starts")
}

/// Idle connections from one address hold at most that address's share of the handshake slots: an admitted peer
/// dialling from another address completes its handshake at its first attempt.
#[tokio::test]
async fn idle_connections_from_one_address_leave_room_for_an_honest_peer() {
    let table = Table::new(&["n0", "n1"]);
    let n0 = start_with(slot_config("n0", 8, 2, 0), &table).await;
    let attacker = Ipv4Addr::new(127, 0, 0, 7);
    let _idle = idle_connections(n0.local_addr(), [attacker], 32).await;

    // n1 dials n0 from 127.0.0.1, behind every idle connection in n0's accept queue.
    let n1 = start_unlisted("n1", &table).await;
    wait_for("n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    assert_eq!(n1.counters().handshake_failures, 0, "n1's first dial succeeded");
    assert_eq!(n0.counters().address_refusals, 30);
    assert_eq!(n0.counters().busy_refusals, 0);
}

/// Idle connections from more addresses than the general handshake slots can hold still leave the reserved slots
/// to the addresses governance lists: an admitted peer dialling from its listed address completes its handshake
/// at its first attempt.
#[tokio::test]
async fn attackers_from_many_addresses_cannot_take_the_reserved_slots() {
    let table = Table::new(&["n0", "n1"]);
    // n1's listed host is the one it dials from; nothing listens at that port, so n0's dials to it fail and only
    // n1's dial can connect the two.
    table.set_address("n1", "127.0.0.1:1");
    let n0 = start_with(slot_config("n0", 8, 2, 2), &table).await;
    let sources: Vec<Ipv4Addr> = (10..22).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect();
    let _idle = idle_connections(n0.local_addr(), sources, 2).await;

    let n1 = start_unlisted("n1", &table).await;
    wait_for("n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    assert_eq!(n1.counters().handshake_failures, 0, "n1's first dial succeeded");
    assert_eq!(n0.counters().busy_refusals, 24 - 8, "the attackers got the general slots and no more");
    assert_eq!(n0.counters().address_refusals, 0);
}

/// A connection that sends nothing, or only part of the first Noise message, is closed at the first-message
/// deadline although the whole handshake may take far longer, and each is counted.
#[tokio::test]
async fn a_silent_connection_is_closed_at_the_first_message_deadline() {
    let table = Table::new(&["n0"]);
    let mut config = config("n0");
    config.limits.handshake_timeout = NEVER;
    config.limits.first_message_timeout = Duration::from_millis(200);
    let n0 = start_with(config, &table).await;

    let silent = TcpStream::connect(n0.local_addr()).await.unwrap();
    let mut partial = TcpStream::connect(n0.local_addr()).await.unwrap();
    // A 32-byte message of which three bytes arrive.
    partial.write_all(&[0, 32, 1, 2, 3]).await.unwrap();
    for mut stream in [silent, partial] {
        let mut buffer = [0u8; 16];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await.expect("the node closes it");
        assert!(matches!(read, Ok(0) | Err(_)), "the socket is closed");
    }
    wait_for("both to be counted", || n0.counters().first_message_timeouts == 2).await;
    assert_eq!(n0.counters().handshake_failures, 0);
}

/// A handshake whose admission check passed before a block removed its peer, and which ends after the recheck of
/// that block, is refused rather than kept: the removed node never holds a connection after the recheck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_admitted_before_a_removal_is_not_kept_after_it() {
    let table = Table::new(&["n0", "n1"]);
    let mut n0 = start("n0", &table).await;
    table.hold_next_verdict("n1");
    let address = n0.local_addr();
    let dial = tokio::spawn(async move { raw_link(address, "n1", &chain()).await });
    wait_for("n0 to read n1's verdict", || table.holding.load(Ordering::SeqCst)).await;

    // The block removing n1 commits while n0 holds the verdict it read before.
    table.refuse("n1", Refusal::Removed(node("n1")));
    n0.recheck(Height(7));
    table.release();
    let link = dial.await.unwrap();
    wait_for("the handshake to end", || n0.counters().connections == 1 || refusals(&n0, RefusalKind::RemovedNode) == 1)
        .await;
    assert!(!connected(&n0, "n1"), "the removed node is not connected");
    assert_eq!(n0.counters().connections, 0);
    assert_eq!(refusals(&n0, RefusalKind::RemovedNode), 1);
    drop(link);
}

/// `count` relayed transactions as one message (about 150 bytes each when encoded).
fn relay(count: usize) -> NetMessage {
    NetMessage::Transactions(transactions(count))
}

/// Completes a handshake with `address` as `label` and spawns a task that writes `frame` `times` times; returns
/// the reading half (to keep the connection open) and the task.
async fn flood(
    address: SocketAddr,
    label: &str,
    frame: Vec<u8>,
    times: usize,
) -> (synod::p2p::frame::FrameReader<tokio::io::ReadHalf<TcpStream>>, tokio::task::JoinHandle<()>) {
    let mut link = raw_link(address, label, &chain()).await;
    link.reader.next_frame().await.unwrap().expect("an admitted peer gets the node's statement");
    let mut writer = link.writer;
    let task = tokio::spawn(async move {
        for _ in 0..times {
            if writer.write_frame(&frame).await.is_err() {
                return;
            }
        }
    });
    (link.reader, task)
}

/// Takes messages from `p2p` until one from `label` arrives; returns it and how many from others came first.
async fn next_from(p2p: &mut P2p, label: &str) -> (NetMessage, usize) {
    let mut before = 0;
    loop {
        let (from, message) = receive(p2p).await;
        if from == node(label) {
            return (message, before);
        }
        before = before.saturating_add(1);
    }
}

/// Large consensus-lane messages (sync responses): the kind a reader waits for room for rather than drops.
fn heavy_consensus_frame() -> Vec<u8> {
    wire::encode(&NetMessage::SyncResponse(synced(1..=1, 400))).unwrap()
}

/// A peer flooding large consensus messages that the node does not take holds at most its inbound byte budget in
/// the node: its reader waits instead, while an honest peer's message is still read and handed over next in turn.
#[tokio::test]
async fn a_flooding_peer_holds_at_most_its_inbound_budget() {
    let table = Table::new(&["n0", "n1", "n2"]);
    table.forget_address("n2");
    let mut config = config("n0");
    config.limits.max_frame_bytes = 256 * 1024;
    config.limits.peer_inbound_bytes = 512 * 1024;
    config.limits.inbound_bytes = 4 * 1024 * 1024;
    let mut n0 = start_with(config, &table).await;
    let n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    let frame = heavy_consensus_frame();
    let times = 200;
    let (_reader, flooder) = flood(n0.local_addr(), "n2", frame, times).await;
    wait_for("n2's reader to wait, or every message to be read", || {
        let counters = n0.counters();
        counters.inbound_waits >= 1 || counters.received >= 200
    })
    .await;
    let queued = n0.queued();
    assert!(queued.inbound_peak_by_peer[&node("n2")] <= 512 * 1024, "n2 held {queued:?}");

    let mut n1 = n1;
    let vote = every_kind("n1").swap_remove(1);
    n1.send(&node("n0"), vote.clone());
    wait_for("n1's vote to be read", || n0.queued().inbound_by_peer.get(&node("n1")).is_some_and(|b| *b > 0)).await;
    let (message, before) = next_from(&mut n0, "n1").await;
    assert_eq!(message, vote);
    assert!(before <= 1, "{before} of n2's messages came before n1's vote");
    assert!(n0.queued().inbound_peak_by_peer[&node("n2")] <= 512 * 1024);
    flooder.abort();
}

/// Two peers flooding consensus messages together hold at most the node's total inbound byte budget, and an
/// honest peer's message still reaches the node after a bounded number of theirs.
#[tokio::test]
async fn flooding_peers_together_hold_at_most_the_total_inbound_budget() {
    let table = Table::new(&["n0", "n1", "n2", "n3"]);
    table.forget_address("n2");
    table.forget_address("n3");
    let mut config = config("n0");
    config.limits.max_frame_bytes = 256 * 1024;
    config.limits.peer_inbound_bytes = 512 * 1024;
    config.limits.inbound_bytes = 768 * 1024;
    let mut n0 = start_with(config, &table).await;
    let mut n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    let frame = heavy_consensus_frame();
    let cost = frame.len() + MESSAGE_OVERHEAD_BYTES;
    let (_r2, f2) = flood(n0.local_addr(), "n2", frame.clone(), 200).await;
    let (_r3, f3) = flood(n0.local_addr(), "n3", frame, 200).await;
    wait_for("both flooders' readers to wait, or every message to be read", || {
        let counters = n0.counters();
        counters.inbound_waits >= 2 || counters.received >= 400
    })
    .await;
    let queued = n0.queued();
    assert!(queued.inbound <= 768 * 1024, "{queued:?}");

    let vote = every_kind("n1").swap_remove(1);
    n1.send(&node("n0"), vote.clone());
    wait_for("n1's reader to wait for the total", || n0.counters().inbound_waits >= 3).await;
    let waiting = n0.queued().inbound / cost;
    let (message, before) = next_from(&mut n0, "n1").await;
    assert_eq!(message, vote);
    // Nothing jumps ahead of n1's reader for the total: the vote comes after what waited when it was read, and
    // then after at most one message of each flooder.
    assert!(before <= waiting + 2, "{before} flooded messages came before n1's vote ({waiting} were waiting)");
    assert!(n0.queued().inbound <= 768 * 1024);
    f2.abort();
    f3.abort();
}

/// A flood of relayed transactions can neither delay nor drop a consensus message. Inbound: a peer flooding
/// transaction batches the node does not take fills only its transaction lane (the excess is dropped and counted,
/// and its reader never pauses), and an honest peer's vote is handed over before every waiting batch. Outbound:
/// batches for a peer that does not read spend only its transaction budget, and the votes queued after them are
/// neither dropped nor made to wait behind them.
#[tokio::test]
async fn a_transaction_flood_never_delays_or_drops_a_consensus_message() {
    let table = Table::new(&["n0", "n1", "n2", "n3"]);
    table.forget_address("n2");
    table.forget_address("n3");
    let batch = relay(400);
    let cost = wire::encode(&batch).unwrap().len() + MESSAGE_OVERHEAD_BYTES;
    let mut config = config("n0");
    config.limits.max_frame_bytes = 256 * 1024;
    config.limits.peer_inbound_bytes = 512 * 1024;
    config.limits.inbound_bytes = 4 * 1024 * 1024;
    config.limits.peer_outbound_bytes = 10 * cost;
    config.limits.outbound_bytes = 40 * cost;
    let mut n0 = start_with(config, &table).await;
    let mut n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;

    // Inbound: n2 floods batches; n0's runtime takes nothing meanwhile.
    let (_reader, flooder) = flood(n0.local_addr(), "n2", wire::encode(&batch).unwrap(), 200).await;
    wait_for("n2's batches beyond its transaction budget to be dropped", || {
        count(&n0.counters().dropped_received, MessageKind::Transactions) > 0
    })
    .await;
    let queued = n0.queued();
    assert!(queued.inbound_peak_by_peer[&node("n2")] <= 512 * 1024, "{queued:?}");
    assert_eq!(n0.counters().inbound_waits, 0, "a reader never pauses for transactions");
    let waiting = queued.inbound_by_peer[&node("n2")] / cost;
    assert!(waiting >= 2, "{waiting} batches wait");
    let vote = every_kind("n1").swap_remove(1);
    n1.send(&node("n0"), vote.clone());
    wait_for("n1's vote to be read", || n0.queued().inbound_by_peer.get(&node("n1")).is_some_and(|b| *b > 0)).await;
    let (message, before) = next_from(&mut n0, "n1").await;
    assert_eq!(message, vote);
    assert_eq!(before, 0, "{before} batches were handed over before the vote ({waiting} waited)");
    flooder.abort();

    // Outbound: n3 completes its handshake and never reads.
    let _silent = raw_link(n0.local_addr(), "n3", &chain()).await;
    wait_for("n3 to be registered", || connected(&n0, "n3")).await;
    for _ in 0..30 {
        n0.send(&node("n3"), batch.clone());
    }
    assert!(count(&n0.counters().dropped_sends, MessageKind::Transactions) >= 20, "n3's transaction budget is spent");
    for vote in every_kind("n0").into_iter().filter(|m| matches!(m, NetMessage::Vote(_))) {
        n0.send(&node("n3"), vote);
    }
    assert_eq!(count(&n0.counters().dropped_sends, MessageKind::Vote), 0, "no vote is dropped");
    // A peer that reads gets a vote queued after a backlog of batches before the backlog.
    for _ in 0..10 {
        n0.send(&node("n1"), batch.clone());
    }
    n0.send(&node("n1"), vote.clone());
    let mut batches_first = 0;
    loop {
        match receive(&mut n1).await {
            (_, NetMessage::Vote(_)) => break,
            _ => batches_first += 1,
        }
    }
    assert!(batches_first < 10, "the vote waited behind all {batches_first} batches queued before it");
}

/// Messages for a peer that does not read are queued up to its outbound byte budget and the rest dropped and
/// counted by kind; all peers together never exceed the node's total, and a peer that reads still gets its
/// messages.
#[tokio::test]
async fn outbound_queues_are_bounded_by_bytes_per_peer_and_in_all() {
    let table = Table::new(&["n0", "n1", "n2"]);
    table.forget_address("n2");
    let message = relay(400);
    let cost = wire::encode(&message).unwrap().len() + MESSAGE_OVERHEAD_BYTES;
    let mut config = config("n0");
    config.limits.max_frame_bytes = 256 * 1024;
    config.limits.peer_outbound_bytes = 10 * cost;
    config.limits.outbound_bytes = 15 * cost;
    let mut n0 = start_with(config, &table).await;
    let mut n1 = start("n1", &table).await;
    wait_for("n0 and n1 to connect", || connected(&n0, "n1") && connected(&n1, "n0")).await;
    // n2 completes its handshake and then never reads.
    let _silent = raw_link(n0.local_addr(), "n2", &chain()).await;
    wait_for("n2 to be registered", || connected(&n0, "n2")).await;

    // No task runs between these sends (a current-thread runtime): nothing is written meanwhile.
    for _ in 0..20 {
        n0.send(&node("n2"), message.clone());
    }
    assert_eq!(count(&n0.counters().dropped_sends, MessageKind::Transactions), 10, "n2's budget holds ten");
    for _ in 0..10 {
        n0.send(&node("n1"), message.clone());
    }
    assert_eq!(count(&n0.counters().dropped_sends, MessageKind::Transactions), 15, "the total holds fifteen");
    let queued = n0.queued();
    assert_eq!(queued.outbound, 15 * cost, "{queued:?}");
    assert_eq!(queued.outbound_by_peer[&node("n2")], 10 * cost);
    for _ in 0..5 {
        assert_eq!(receive(&mut n1).await, (node("n0"), message.clone()));
    }
    n0.send(&node("n9"), message.clone());
    assert_eq!(n0.counters().unconnected_sends, 1);
    assert!(n0.queued().outbound_peak_by_peer[&node("n2")] <= 10 * cost);
}
