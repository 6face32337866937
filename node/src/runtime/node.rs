//! The node's event loop: one consensus [`Host`] driven on the current thread. It starts the host (replaying its
//! write-ahead log), then waits for whichever comes first — the shutdown signal, the earliest pending timer, a
//! message from the transport — feeds it to the host, and performs the host's outputs: messages to the
//! [`Transport`], timers to the [`TimerTable`], finalised heights to the log and the observation lines. A hostile
//! observer (the fault suite's, see [`crate::hostile`]) also shows what it receives to its [`Hostile`], which keeps
//! sync requests from the host, and broadcasts the hostile bursts on a ticker.
//!
//! # Observation lines
//!
//! For tests and operators, the loop writes one line per event to its line sink (standard output in `synod run`),
//! flushed at once so a reader sees it before the next thing happens:
//!
//! - `started height=H replayed_entries=N` once the host started deciding height `H` (the one after the last
//!   stored) and replayed `N` logged inputs of it;
//! - `vote height=H round=R kind=prevote|precommit block=sha256:…|nil` for each vote this node signed and
//!   broadcasts (a rebroadcast repeats its line);
//! - `finalized height=H hash=sha256:…` for each height committed.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use governance_contracts::crypto::{Digest, PublicKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{BlockHash, Height, NodeId};
use governance_contracts::types::SignedTransaction;
use governance_contracts::types::block::{ConsensusVote, VoteKind};
use tokio::time::Instant;

use super::duties::{Duties, node_record};
use super::timers::TimerTable;
use super::transport::Transport;
use crate::consensus::context::SignedVote;
use crate::consensus::host::{Clock, DecidedBlock, Host, HostError, MAX_RELAYED_TRANSACTIONS, NetMessage, Output};
use crate::consensus::store::NodeStorage;
use crate::hostile::{self, Hostile};
use crate::rpc::bridge::{
    ChainEvent, Command, Direction, NodeKind, NodeStatus, P2pStats, PeerStatus, RuntimeEnd, StatusCounters,
};

/// How often the node's status is published between blocks (peers come and go, the mempool fills).
const STATUS_EVERY: Duration = Duration::from_millis(500);
/// How long admitted transactions wait to be relayed together: one message per peer carries everything admitted
/// in this span (or [`MAX_RELAYED_TRANSACTIONS`], whichever comes first).
pub const RELAY_EVERY: Duration = Duration::from_millis(10);

/// The observation line of a vote this node broadcasts.
pub fn vote_line(vote: &ConsensusVote) -> String {
    let kind = match vote.kind {
        VoteKind::Prevote => "prevote",
        VoteKind::Precommit => "precommit",
    };
    let block = vote.block.map_or_else(|| "nil".to_owned(), |hash| hash.to_string());
    format!("vote height={} round={} kind={kind} block={block}", vote.height, vote.round)
}

/// The observation line of a finalised height.
pub fn finalized_line(chain: &ChainIdentity, decided: &DecidedBlock) -> String {
    format!("finalized height={} hash={}", decided.block.header.height, decided.block.hash(chain))
}

/// One node's host, transport, timers and line sink.
pub struct NodeRuntime<S, C, T, W> {
    host: Host<S, C>,
    transport: T,
    lines: W,
    chain: ChainIdentity,
    timers: TimerTable,
    origin: Instant,
    api: Option<RuntimeEnd>,
    duties: Duties,
    /// The key the node proves to peers (the one the chain lists for it).
    transport_key: Option<PublicKey>,
    /// The sync target last logged.
    logged_target: Option<Height>,
    /// The last finalised block's hash and time, for the status (read from the store once, then kept from each
    /// decided block).
    last_block: (BlockHash, u64),
    /// Armed in the fault suite only (see [`crate::hostile`]): what this node receives is shown to it first, and
    /// its bursts go out on a ticker.
    hostile: Option<Hostile>,
    /// Admitted transactions waiting to be relayed, by the peer they came from (`None`: this node's clients).
    relay: Relay,
}

/// Admitted transactions waiting to be relayed together.
#[derive(Default)]
struct Relay {
    /// By the peer each came from, which is not sent them back.
    waiting: std::collections::BTreeMap<Option<NodeId>, Vec<SignedTransaction>>,
    /// How many wait in all.
    count: usize,
    /// When the oldest of them is due to go.
    due: Option<Instant>,
}

impl<S: NodeStorage, C: Clock, T: Transport, W: Write> NodeRuntime<S, C, T, W> {
    /// A runtime for `host` (not yet started) of chain `chain`, talking through `transport`, writing its
    /// observation lines to `lines`.
    pub fn new(host: Host<S, C>, transport: T, lines: W, chain: ChainIdentity) -> Self {
        Self {
            host,
            transport,
            lines,
            chain,
            timers: TimerTable::new(),
            origin: Instant::now(),
            api: None,
            duties: Duties::new(None, false),
            transport_key: None,
            logged_target: None,
            last_block: (BlockHash(Digest::ZERO), 0),
            hostile: None,
            relay: Relay::default(),
        }
    }

    /// Runs as a hostile observer (see [`crate::hostile`]): never answers sync requests, and broadcasts the
    /// bursts of `hostile` every [`hostile::BURST_EVERY_MS`].
    pub fn with_hostile(mut self, hostile: Hostile) -> Self {
        self.hostile = Some(hostile);
        self
    }

    /// Serves the HTTP API's side of the bridge: answers its commands, publishes status and chain events.
    pub fn with_api(mut self, api: RuntimeEnd) -> Self {
        self.api = Some(api);
        self
    }

    /// Does the node's own duties (key pickup, readiness attestation) after each block.
    pub fn with_duties(mut self, duties: Duties) -> Self {
        self.duties = duties;
        self
    }

    /// Starts the host and runs it until `shutdown` completes (`Ok`) or the host fails (`Err`: the node must stop).
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<(), HostError> {
        let height = self.host.height();
        self.last_block = self.host.last_block()?;
        let outputs = self.host.start()?;
        let replayed = self.host.counters().replayed_entries;
        self.line(&format!("started height={height} replayed_entries={replayed}"));
        tracing::info!(node = %self.host.node(), %height, replayed, "consensus started");
        self.apply(outputs);
        self.publish_status();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut status_tick = tokio::time::interval(STATUS_EVERY);
        status_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut hostile_tick = tokio::time::interval(Duration::from_millis(hostile::BURST_EVERY_MS));
        hostile_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = self.timers.next_due().and_then(|due| self.origin.checked_add(Duration::from_millis(due)));
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok(()),
                () = sleep_until(next) => self.fire_due()?,
                () = sleep_until(self.relay.due) => self.flush_relays(),
                Some((from, message)) = self.transport.recv() => {
                    if let Some(hostile) = &mut self.hostile {
                        let received = hostile.receive(&from, &message);
                        received.broadcast.into_iter().for_each(|m| self.transport.broadcast(m));
                        if !received.deliver {
                            continue;
                        }
                    }
                    let outputs = self.host.on_message(&from, message)?;
                    self.apply(outputs);
                }
                Some(command) = next_command(&mut self.api) => self.on_command(command),
                _ = status_tick.tick() => {
                    let connected = self.transport.peers().into_iter().map(|p| p.node).collect();
                    self.host.retain_peers(&connected);
                    self.publish_status();
                }
                _ = hostile_tick.tick(), if self.hostile.is_some() => {
                    let bursts = self.hostile.as_mut().map(Hostile::bursts).unwrap_or_default();
                    bursts.into_iter().for_each(|m| self.transport.broadcast(m));
                }
            }
        }
    }

    /// Answers one command of the HTTP API.
    fn on_command(&mut self, command: Command) {
        match command {
            Command::SubmitTransaction { tx, reply } => {
                let tx = *tx;
                let result = self.host.submit(tx.clone());
                if result.is_ok() {
                    self.relay(None, vec![tx]);
                }
                // The client may have gone away: nothing to do then.
                let _ = reply.send(result);
            }
        }
    }

    /// The node's status as the HTTP API shows it.
    fn status(&self) -> NodeStatus {
        let committed = self.host.committed_height();
        let (last_block_hash, last_block_time_ms) = self.last_block;
        let target = self.host.sync_target();
        let stats = self.transport.stats();
        NodeStatus {
            chain_id: self.chain.chain_id.as_str().to_owned(),
            genesis_hash: self.chain.genesis_hash,
            node_id: self.host.node().clone(),
            kind: if self.host.is_sealer() { NodeKind::Sealer } else { NodeKind::Observer },
            height: committed,
            last_block_hash,
            last_block_time_ms,
            peers: self
                .transport
                .peers()
                .into_iter()
                .map(|p| PeerStatus {
                    node_id: p.node,
                    address: p.address,
                    direction: if p.outbound { Direction::Outbound } else { Direction::Inbound },
                })
                .collect(),
            syncing: target.is_some_and(|t| t.0 > committed.0.saturating_add(1)),
            sync_target: target,
            mempool_size: u64::try_from(self.host.pending().len()).unwrap_or(u64::MAX),
            counters: StatusCounters {
                host: self.host.counters(),
                p2p: P2pStats {
                    refused: stats.refused,
                    garbage_disconnects: stats.garbage_disconnects,
                    dropped_sends: stats.dropped_sends,
                    dropped_sends_by_kind: stats.dropped_sends_by_kind,
                    dropped_received_by_kind: stats.dropped_received_by_kind,
                },
            },
        }
    }

    /// Publishes the status to the HTTP API, if there is one.
    fn publish_status(&mut self) {
        if self.api.is_some() {
            let status = self.status();
            if let Some(api) = &self.api {
                api.status.send_replace(status);
            }
        }
    }

    /// After a committed block: tell the transport (it re-checks its peers), pick up a rotated key, attest
    /// readiness when due, log sync progress, publish the status and then the block's event (so the status a
    /// subscriber reads on the event already shows the block).
    fn after_commit(&mut self, decided: &DecidedBlock) {
        let height = decided.block.header.height;
        self.transport.on_committed(height);
        let record = node_record(self.host.storage().state(), self.host.node());
        let listed = record.as_ref().and_then(|r| r.key);
        for key in self.duties.pick_up_keys(listed.as_ref(), self.host.keys()) {
            tracing::info!(key = %key.public_key(), "picked up a new node key");
            self.host.add_key(key);
        }
        if let Some(listed) = listed
            && self.transport_key != Some(listed)
            && let Some(key) = self.host.keys().iter().find(|k| k.public_key() == listed).cloned()
        {
            if self.transport_key.is_some() {
                tracing::info!(key = %listed, %height, "the node's key rotated: proving the new key to peers");
            }
            self.transport_key = Some(listed);
            self.transport.set_key(key);
        }
        let target = self.host.sync_target();
        let catching_up = target.is_some_and(|t| t.0 > height.0.saturating_add(1));
        if catching_up {
            if self.logged_target != target || height.0.is_multiple_of(16) {
                tracing::info!(%height, target = %target.unwrap_or(height), "syncing");
                self.logged_target = target;
            }
        } else if self.logged_target.take().is_some() {
            tracing::info!(%height, "caught up");
        }
        let window = governance_contracts::contracts::params::params(self.host.storage().state())
            .map(|p| p.readiness_window)
            .unwrap_or(u64::MAX);
        let attestation = self.duties.attestation(
            &self.chain,
            self.host.node(),
            record.as_ref(),
            height,
            window,
            catching_up,
            self.host.keys(),
        );
        if let Some(tx) = attestation {
            match self.host.submit(tx.clone()) {
                Ok(hash) => {
                    tracing::info!(%height, tx = %hash, "attesting readiness");
                    self.relay(None, vec![tx]);
                }
                Err(e) => tracing::warn!(%height, error = %e, "the readiness attestation was not admitted"),
            }
        }
        self.publish_status();
        // Last: a subscriber told of the block finds `/v1/status` already at its height.
        if let Some(api) = &self.api {
            // No subscriber is fine.
            let _ = api.events.send(ChainEvent::from_committed(&self.chain, &decided.block, &decided.receipts));
        }
    }

    /// The host (for inspection after [`Self::run`] returned).
    pub fn host(&self) -> &Host<S, C> {
        &self.host
    }

    /// Gives the host back (to close its store).
    pub fn into_host(self) -> Host<S, C> {
        self.host
    }

    /// Whole milliseconds of the monotonic clock since the runtime was created (rounded down: a timer is due only
    /// once this reaches its deadline).
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The deadline `after_ms` from now, on the same clock as [`Self::now_ms`]. The current millisecond is rounded
    /// up, so a timer never fires before `after_ms` has fully passed (rounded down, a timer asked for at 10.9 ms
    /// could fire at 70.0 ms for a 60 ms wait, and the next block would come 1 ms inside the chain's interval).
    fn deadline_ms(&self, after_ms: u64) -> u64 {
        let elapsed = self.origin.elapsed();
        let mut now = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        if !elapsed.subsec_nanos().is_multiple_of(1_000_000) {
            now = now.saturating_add(1);
        }
        now.saturating_add(after_ms)
    }

    /// Fires every timer due now, one at a time (a fired timer's outputs may cancel or replace the others).
    fn fire_due(&mut self) -> Result<(), HostError> {
        while let Some(timer) = self.timers.pop_due(self.now_ms()) {
            let outputs = self.host.on_timer(timer)?;
            self.apply(outputs);
        }
        Ok(())
    }

    fn apply(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(message) => {
                    if let NetMessage::Vote(vote) = &message {
                        self.observe_vote(vote);
                    }
                    self.transport.broadcast(message);
                }
                Output::Relay { except, transactions } => self.relay(except, transactions),
                Output::Send { to, message } => self.transport.send(&to, message),
                Output::Schedule { timer, after_ms } => {
                    let due = self.deadline_ms(after_ms);
                    self.timers.schedule(timer, due);
                }
                Output::Cancel(timer) => self.timers.cancel(timer),
                Output::CancelConsensusTimers => self.timers.cancel_consensus(),
                Output::Decided(decided) => {
                    let header = &decided.block.header;
                    let hash = decided.block.hash(&self.chain);
                    self.last_block = (hash, header.time_ms);
                    tracing::info!(
                        node = %self.host.node(),
                        height = %header.height,
                        %hash,
                        transactions = decided.block.transactions.len(),
                        round = decided.certificate.round,
                        "finalized"
                    );
                    if let Some(hostile) = &mut self.hostile {
                        hostile.committed(&decided.block);
                    }
                    let line = finalized_line(&self.chain, &decided);
                    self.line(&line);
                    self.after_commit(&decided);
                }
            }
        }
    }

    /// Holds admitted `transactions` from `from` to relay with others admitted within [`RELAY_EVERY`]; relays at
    /// once when [`MAX_RELAYED_TRANSACTIONS`] wait.
    fn relay(&mut self, from: Option<NodeId>, transactions: Vec<SignedTransaction>) {
        if transactions.is_empty() {
            return;
        }
        self.relay.count = self.relay.count.saturating_add(transactions.len());
        self.relay.waiting.entry(from).or_default().extend(transactions);
        self.relay.due.get_or_insert_with(|| {
            let now = Instant::now();
            now.checked_add(RELAY_EVERY).unwrap_or(now)
        });
        if self.relay.count >= MAX_RELAYED_TRANSACTIONS {
            self.flush_relays();
        }
    }

    /// Relays every waiting transaction: those of this node's clients to every peer, those of a peer to every
    /// other peer, one message per group of at most [`MAX_RELAYED_TRANSACTIONS`] (split to the transport's frame
    /// size).
    fn flush_relays(&mut self) {
        let Relay { waiting, .. } = std::mem::take(&mut self.relay);
        for (from, transactions) in waiting {
            // A message carries at most MAX_RELAYED_TRANSACTIONS; a group that grew past it goes in several.
            for chunk in transactions.chunks(MAX_RELAYED_TRANSACTIONS) {
                let message = NetMessage::Transactions(chunk.to_vec());
                match &from {
                    None => self.transport.broadcast(message),
                    Some(peer) => self.transport.broadcast_except(peer, message),
                }
            }
        }
    }

    /// Writes the line of a broadcast vote if this node signed it.
    fn observe_vote(&mut self, vote: &SignedVote) {
        if vote.message.voter.0 != *self.host.node() {
            return;
        }
        match vote.message.to_protocol() {
            Ok(vote) => {
                let line = vote_line(&vote);
                self.line(&line);
            }
            Err(e) => tracing::warn!(error = %e, "own vote without a round"),
        }
    }

    /// Writes one observation line and flushes it. A closed sink does not stop the node: the line is logged.
    fn line(&mut self, line: &str) {
        if let Err(e) = writeln!(self.lines, "{line}").and_then(|()| self.lines.flush()) {
            tracing::warn!(error = %e, line, "cannot write an observation line");
        }
    }
}

/// The next command of the HTTP API, or never without one.
async fn next_command(api: &mut Option<RuntimeEnd>) -> Option<Command> {
    match api {
        Some(api) => api.commands.recv().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{BlockHash, Height};
    use governance_contracts::testkit;

    use super::*;
    use crate::consensus::host::HostConfig;
    use crate::consensus::store::{BlockStore, MemoryBlockStore};
    use crate::runtime::clock::WallClock;
    use crate::runtime::transport::NoPeers;

    /// A line sink the test reads while the runtime writes.
    #[derive(Clone, Default)]
    struct Lines(Rc<RefCell<Vec<u8>>>);

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.borrow()).into_owned()
        }
    }

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Sealer `n0` of `genesis`, on an in-memory store and the wall clock.
    fn lone_host(genesis: governance_contracts::types::Genesis) -> Host<MemoryBlockStore, WallClock> {
        let store = MemoryBlockStore::from_genesis(&genesis).unwrap();
        let config = HostConfig {
            genesis,
            node: testkit::node("n0"),
            keys: vec![testkit::secret("n0")],
            timeouts: Default::default(),
        };
        Host::new(config, store, WallClock).unwrap()
    }

    /// Vote lines name the height, round, kind and block, or `nil`.
    #[test]
    fn vote_lines_name_the_block_or_nil() {
        let mut vote = ConsensusVote {
            height: Height(7),
            round: 2,
            kind: VoteKind::Precommit,
            block: Some(BlockHash(Digest::Sha256([0xab; 32]))),
            voter: testkit::node("n0"),
        };
        assert_eq!(vote_line(&vote), format!("vote height=7 round=2 kind=precommit block=sha256:{}", "ab".repeat(32)));
        vote.block = None;
        vote.kind = VoteKind::Prevote;
        assert_eq!(vote_line(&vote), "vote height=7 round=2 kind=prevote block=nil");
    }

    /// A lone sealer driven by the runtime finalises consecutive heights at no less than the chain's block interval
    /// (the start-height timer is honoured), reports each with its stored hash and its own two votes for it, and
    /// stops when the shutdown future completes.
    #[test]
    fn lone_sealer_finalises_at_the_block_interval_until_shutdown() {
        let mut genesis = testkit::genesis(1);
        genesis.params.block_interval_ms = 60;
        genesis.genesis_time_ms = 1_600_000_000_000;
        let chain = genesis.identity();
        let host = lone_host(genesis);
        let lines = Lines::default();
        let mut node = NodeRuntime::new(host, NoPeers, lines.clone(), chain.clone());
        let watched = lines.clone();
        let shutdown = async move {
            while !watched.text().contains("finalized height=3 ") {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(node.run(shutdown)).unwrap();

        let host = node.into_host();
        assert_eq!(host.committed_height(), Height(3));
        let text = lines.text();
        assert!(text.starts_with("started height=1 replayed_entries=0\n"), "{text}");
        let mut previous_time = None;
        for height in 1..=3 {
            let stored = host.storage().block(Height(height)).unwrap().unwrap();
            let hash = stored.block.hash(&chain);
            for line in [
                format!("finalized height={height} hash={hash}"),
                format!("vote height={height} round=0 kind=prevote block={hash}"),
                format!("vote height={height} round=0 kind=precommit block={hash}"),
            ] {
                assert_eq!(text.lines().filter(|l| *l == line).count(), 1, "{line} in {text}");
            }
            let time = stored.block.header.time_ms;
            if let Some(previous) = previous_time {
                assert!(time >= previous + 60, "height {height} at {time}, its parent at {previous}");
            }
            previous_time = Some(time);
        }
        assert!(!text.contains("finalized height=4 "), "{text}");
    }

    /// A transport that records what it is asked to send.
    #[derive(Default)]
    struct Recording(Vec<(Option<NodeId>, usize)>);

    impl Transport for Recording {
        fn broadcast(&mut self, message: NetMessage) {
            if let NetMessage::Transactions(txs) = message {
                self.0.push((None, txs.len()));
            }
        }
        fn send(&mut self, _to: &NodeId, _message: NetMessage) {}
        fn broadcast_except(&mut self, except: &NodeId, message: NetMessage) {
            if let NetMessage::Transactions(txs) = message {
                self.0.push((Some(except.clone()), txs.len()));
            }
        }
        async fn recv(&mut self) -> Option<(NodeId, NetMessage)> {
            std::future::pending().await
        }
    }

    /// Relays held together go out per origin, a client's to every peer and a peer's to every other peer, in
    /// messages of at most MAX_RELAYED_TRANSACTIONS however many accumulated; nothing waits after the flush.
    #[test]
    fn relays_go_out_per_origin_in_messages_within_the_wire_limit() {
        let genesis = testkit::genesis(1);
        let chain = genesis.identity();
        let mut node = NodeRuntime::new(lone_host(genesis), Recording::default(), Vec::new(), chain);
        let tx = testkit::TestChain::with_members(1).account_tx(
            "m0-gov",
            governance_contracts::types::Payload::AnchorAuditTrail { seq: 1, head: Digest::ZERO },
        );
        let peer = testkit::node("n1");
        node.relay(Some(peer.clone()), vec![tx.clone(); 600]);
        node.relay(Some(peer.clone()), vec![tx.clone(); 600]);
        node.relay(None, vec![tx.clone(); 3]);
        node.flush_relays();
        let mut sent = node.transport.0.clone();
        sent.sort();
        assert_eq!(sent, vec![(None, 3), (Some(peer.clone()), 176), (Some(peer), MAX_RELAYED_TRANSACTIONS)]);
        assert_eq!((node.relay.count, node.relay.due), (0, None));
    }
}
