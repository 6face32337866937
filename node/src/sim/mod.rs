//! Deterministic simulation of a Synod cluster: N consensus hosts in one thread, a virtual clock, and an
//! in-memory network that delivers every message after a delay drawn from a seeded [`SplitMix64`], with the faults
//! of [`faults`] injected until a configured time. Events are ordered by (virtual time, sequence number), so one
//! seed gives one run; every delivered event (message, timer, crash, restart, partition) is folded into a trace
//! hash that two runs of a seed must share.
//!
//! After every event the [`Checker`] checks the safety invariants over what honest nodes report finalised and
//! sign. Once faults stop, liveness requires a new finalised block within [`SimConfig::liveness_window_ms`]. A run
//! ends when every honest node has finalised the target height after faults stopped and the [`workload`] (if
//! any) has finished, or fails for liveness.
//!
//! A [`Sabotage`] switch breaks the system on purpose, for a test that proves the checker notices.

pub mod check;
pub mod faults;
pub mod rng;
pub mod workload;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::testkit;
use governance_contracts::types::{Genesis, SignedTransaction};
use malachite_core_types::LinearTimeouts;

pub use self::check::{Checker, Violation};
pub use self::faults::{FaultConfig, FaultCounts};
pub use self::rng::SplitMix64;
use self::workload::Workload;
use crate::consensus::host::{
    Clock, DecidedBlock, Host, HostConfig, HostCounters, HostError, NetMessage, Output, Timer,
};
use crate::consensus::store::{BlockStore as _, MemoryBlockStore};
use crate::hostile::{Attack, Hostile};

/// A simulated node's clock: the genesis time plus the shared virtual time (plus a skew for a twin).
#[derive(Debug, Clone)]
pub struct SimClock {
    base_ms: u64,
    now: Rc<Cell<u64>>,
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.base_ms.saturating_add(self.now.get())
    }
}

/// A simulated node's host.
pub type SimHost = Host<MemoryBlockStore, SimClock>;

/// A deliberate defect, to prove the checker catches what it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// Every finalised block is reported with its certificate one vote short.
    ShortQuorum,
    /// Crashes lose the whole write-ahead log, as if it were never flushed.
    SkipWal,
}

/// How the simulated nodes are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeNaming {
    /// `n0`, `n1`, ...
    Numbered,
    /// [`testkit::mixed_node_ids`]: mixed lengths and characters (`org-a-sealer-1`, `n7`, `beijing-2`, `n10`, `z`,
    /// a 64-character id, ...), whose table order is not their id order.
    Mixed,
}

/// How a simulation runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of sealers (node indices `0..nodes`; see [`SimConfig::node_id`]).
    pub nodes: usize,
    /// How the nodes are named.
    pub naming: NodeNaming,
    /// The scheduler's seed.
    pub seed: u64,
    /// Stop once every honest node has finalised this height (and faults and the workload are over).
    pub target_height: u64,
    /// Shortest message delay.
    pub min_delay_ms: u64,
    /// Longest message delay.
    pub max_delay_ms: u64,
    /// Give up (a liveness failure) after this much virtual time.
    pub max_time_ms: u64,
    /// Once faults stop, the longest wait for a new finalised block.
    pub liveness_window_ms: u64,
    /// Consensus timeouts.
    pub timeouts: LinearTimeouts,
    /// The faults injected.
    pub faults: FaultConfig,
    /// Whether to run the governance workload (sealer changes and a key rotation) with an extra observer.
    pub workload: bool,
    /// A deliberate defect, for the checker's own test.
    pub sabotage: Option<Sabotage>,
    /// Start node `.0` only at virtual time `.1` (it must catch up by sync).
    pub late_start: Option<(usize, u64)>,
}

impl SimConfig {
    /// `nodes` sealers, seed `seed`, up to `target_height`, 5–50 ms delays, default timeouts, no faults, no
    /// workload, ten virtual minutes at most.
    pub fn new(nodes: usize, seed: u64, target_height: u64) -> Self {
        Self {
            nodes,
            naming: NodeNaming::Numbered,
            seed,
            target_height,
            min_delay_ms: 5,
            max_delay_ms: 50,
            max_time_ms: 600_000,
            // Once faults stop, sealers locked on a value that the next rounds' proposers never saw prevoted (the
            // prevotes were lost while faults lasted) wait for a proposer that holds the lock, which re-proposes it
            // with its polka certificate: with five sealers (the Byzantine twin among them) that can take five
            // rounds, each longer than the last under linear timeouts (seed 464 of the CI run needs 35 s).
            liveness_window_ms: 60_000,
            timeouts: LinearTimeouts::default(),
            faults: FaultConfig::none(),
            workload: false,
            sabotage: None,
            late_start: None,
        }
    }

    /// The same with every fault kind and the governance workload.
    pub fn with_all_faults(mut self) -> Self {
        self.faults = FaultConfig::all();
        self.workload = true;
        self
    }

    /// The same with nodes named by [`NodeNaming::Mixed`].
    pub fn with_mixed_ids(mut self) -> Self {
        self.naming = NodeNaming::Mixed;
        self
    }

    /// The id of node `index`: a sealer below [`Self::nodes`]; the workload's observer at `nodes` and its
    /// newcomer at `nodes + 1`.
    pub fn node_id(&self, index: usize) -> String {
        match self.naming {
            NodeNaming::Numbered => format!("n{index}"),
            NodeNaming::Mixed => testkit::mixed_node_id(index),
        }
    }

    /// The ids of nodes `0..count`.
    pub fn node_ids(&self, count: usize) -> Vec<String> {
        (0..count).map(|i| self.node_id(i)).collect()
    }
}

/// A failure of the run itself (not an invariant).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A host stopped.
    #[error("{node} stopped: {error}")]
    Host {
        /// The node.
        node: NodeId,
        /// Why.
        error: HostError,
    },
    /// The genesis could not be applied.
    #[error("genesis: {0}")]
    Genesis(String),
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct SimReport {
    /// The seed.
    pub seed: u64,
    /// Hash over every delivered event, in order.
    pub trace: Digest,
    /// Events delivered.
    pub events: u64,
    /// Virtual time at the end.
    pub time_ms: u64,
    /// Whether every honest node reached the target height (and the workload finished) in time.
    pub reached_target: bool,
    /// Why liveness failed, if it did.
    pub liveness_failure: Option<String>,
    /// The lowest height finalised by every honest node.
    pub min_height: Height,
    /// The highest height any honest node finalised.
    pub max_height: Height,
    /// Safety violations found.
    pub violations: Vec<Violation>,
    /// What the faults did.
    pub faults: FaultCounts,
    /// What the hosts counted (summed over honest nodes and their restarts).
    pub hosts: HostCounters,
    /// Equivocation evidence held in honest nodes' stores at the end.
    pub evidence_stored: u64,
    /// Sealer-set changes the workload executed.
    pub sealer_changes: u64,
    /// Key rotations the workload executed.
    pub key_rotations: u64,
    /// Workload steps that were included but did not execute.
    pub workload_failures: Vec<String>,
}

enum Event {
    Deliver { from: usize, to: usize, message: NetMessage },
    Timer { node: usize, timer: Timer, generation: u64 },
    Crash { node: usize },
    Restart { node: usize },
    Partition { side: u64 },
    Heal,
    Burst { node: usize },
}

/// The id of the simulation's hostile observer (no governance lists it).
pub const HOSTILE_OBSERVER: &str = "hostile-observer";

/// One simulated node: its host while up, its storage while down.
struct Slot {
    id: NodeId,
    config: HostConfig,
    clock: SimClock,
    honest: bool,
    host: Option<SimHost>,
    down: Option<MemoryBlockStore>,
    /// Pending timers, each with the generation of its scheduling (a stale firing is recognised and skipped).
    timers: Vec<(Timer, u64)>,
    decided: Vec<DecidedBlock>,
    /// The hostile traffic this node sends, if it is a hostile peer.
    hostile: Option<Hostile>,
}

/// The simulated cluster.
pub struct Simulation {
    config: SimConfig,
    chain: ChainIdentity,
    slots: Vec<Slot>,
    queue: BTreeMap<(u64, u64), Event>,
    now: Rc<Cell<u64>>,
    seq: u64,
    rng: SplitMix64,
    trace: Digest,
    events: u64,
    checker: Checker,
    partition: Option<u64>,
    faults: FaultCounts,
    totals: HostCounters,
    workload: Option<Workload>,
    workload_tx: Option<SignedTransaction>,
    progress_ms: u64,
    max_height: Height,
    started: bool,
}

impl Simulation {
    /// A cluster of `config.nodes` sealers started from [`testkit::genesis_with_node_ids`] (or the
    /// [`workload::genesis`] with its observer when the workload runs), named as `config.naming` says.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let genesis = if config.workload {
            workload::genesis(&config.node_ids(config.nodes.saturating_add(1)))
        } else {
            testkit::genesis_with_node_ids(&config.node_ids(config.nodes))
        };
        Self::with_genesis(config, genesis)
    }

    /// A cluster started from `genesis`, whose nodes must be named as [`SimConfig::node_id`] says, with
    /// testkit-derived keys.
    pub fn with_genesis(config: SimConfig, genesis: Genesis) -> Result<Self, SimError> {
        let now = Rc::new(Cell::new(0));
        let chain: ChainIdentity = genesis.identity();
        let mut names: Vec<(String, bool, u64)> =
            config.node_ids(config.nodes).into_iter().map(|n| (n, true, 0)).collect();
        if config.workload {
            names.push((config.node_id(config.nodes), true, 0));
        }
        if config.faults.byzantine && config.nodes > 1 {
            let last = config.node_id(config.nodes.saturating_sub(1));
            for entry in names.iter_mut().filter(|(name, _, _)| *name == last) {
                entry.1 = false;
            }
            names.push((last, false, 1));
        }
        let twin = names.len().saturating_sub(1);
        let byzantine = config.faults.byzantine && config.nodes > 1;
        let (hostile_faults, seed) = (config.faults.hostile, config.seed);
        let mut slots = Vec::with_capacity(names.len().saturating_add(1));
        for (index, (name, honest, skew)) in names.into_iter().enumerate() {
            let id = testkit::node(&name);
            let store = MemoryBlockStore::from_genesis(&genesis).map_err(|e| SimError::Genesis(e.to_string()))?;
            let clock = SimClock { base_ms: genesis.genesis_time_ms.saturating_add(skew), now: Rc::clone(&now) };
            let config = HostConfig {
                genesis: genesis.clone(),
                node: id.clone(),
                keys: vec![testkit::secret(&name), testkit::secret(&workload::next_key_label(&name))],
                timeouts: config.timeouts,
            };
            let host = Host::new(config.clone(), store, clock.clone())
                .map_err(|error| SimError::Host { node: id.clone(), error })?;
            let hostile = (hostile_faults && byzantine && index == twin)
                .then(|| Hostile::new(chain.clone(), id.clone(), testkit::secret(&name), seed.rotate_left(17)));
            slots.push(Slot {
                id,
                config,
                clock,
                honest,
                host: Some(host),
                down: None,
                timers: Vec::new(),
                decided: Vec::new(),
                hostile,
            });
        }
        if hostile_faults {
            // An observer no governance lists: it runs no host, only its hostile traffic.
            let id = testkit::node(HOSTILE_OBSERVER);
            let clock = SimClock { base_ms: genesis.genesis_time_ms, now: Rc::clone(&now) };
            let host_config = HostConfig {
                genesis: genesis.clone(),
                node: id.clone(),
                keys: vec![testkit::secret(HOSTILE_OBSERVER)],
                timeouts: config.timeouts,
            };
            let generator =
                Hostile::new(chain.clone(), id.clone(), testkit::secret(HOSTILE_OBSERVER), seed.rotate_left(31));
            slots.push(Slot {
                id,
                config: host_config,
                clock,
                honest: false,
                host: None,
                down: None,
                timers: Vec::new(),
                decided: Vec::new(),
                hostile: Some(generator),
            });
        }
        let workload = config
            .workload
            .then(|| Workload::new(chain.clone(), config.node_ids(config.nodes.saturating_add(2)), config.nodes));
        Ok(Self {
            rng: SplitMix64::new(config.seed),
            config,
            checker: Checker::new(chain.clone()),
            chain,
            slots,
            queue: BTreeMap::new(),
            now,
            seq: 0,
            trace: Digest::ZERO,
            events: 0,
            partition: None,
            faults: FaultCounts::default(),
            totals: HostCounters::default(),
            workload,
            workload_tx: None,
            progress_ms: 0,
            max_height: Height(0),
            started: false,
        })
    }

    /// Offers `tx` to every running node's mempool; returns how many admitted it (a node that has not caught up
    /// may refuse it, as a real node would).
    pub fn submit_all(&mut self, tx: &SignedTransaction) -> usize {
        let mut admitted = 0usize;
        for slot in &mut self.slots {
            if let Some(host) = slot.host.as_mut() {
                match host.submit(tx.clone()) {
                    Ok(_) => admitted = admitted.saturating_add(1),
                    Err(e) => tracing::debug!(node = %slot.id, error = %e, "transaction refused"),
                }
            }
        }
        admitted
    }

    /// Node `index`'s host, if it is up.
    pub fn host(&self, index: usize) -> Option<&SimHost> {
        self.slots.get(index).and_then(|s| s.host.as_ref())
    }

    /// What node `index` finalised, in order (across its restarts).
    pub fn decided(&self, index: usize) -> &[DecidedBlock] {
        self.slots.get(index).map(|s| s.decided.as_slice()).unwrap_or_default()
    }

    fn push(&mut self, after_ms: u64, event: Event) {
        let at = self.now.get().saturating_add(after_ms);
        self.seq = self.seq.saturating_add(1);
        self.queue.insert((at, self.seq), event);
    }

    fn faulty_now(&self) -> bool {
        self.now.get() < self.config.faults.until_ms
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        per_mille > 0 && self.rng.between(0, 999) < per_mille
    }

    fn across_partition(&self, from: usize, to: usize) -> bool {
        let side =
            |i: usize| self.partition.map(|mask| mask.checked_shr(u32::try_from(i).unwrap_or(63)).unwrap_or(0) & 1);
        self.partition.is_some() && side(from) != side(to)
    }

    /// Queues `message` from `from` to `to` through the faulty network.
    fn send(&mut self, from: usize, to: usize, message: &NetMessage) {
        let faults = self.config.faults;
        if self.faulty_now() {
            if self.across_partition(from, to) {
                self.faults.partitioned = self.faults.partitioned.saturating_add(1);
                return;
            }
            if self.chance(faults.drop_per_mille) {
                self.faults.dropped = self.faults.dropped.saturating_add(1);
                return;
            }
            if self.chance(faults.duplicate_per_mille) {
                self.faults.duplicated = self.faults.duplicated.saturating_add(1);
                let delay = self.rng.between(self.config.min_delay_ms, self.config.max_delay_ms);
                self.push(delay, Event::Deliver { from, to, message: message.clone() });
            }
        }
        let mut delay = self.rng.between(self.config.min_delay_ms, self.config.max_delay_ms);
        if self.faulty_now() && self.chance(faults.reorder_per_mille) {
            self.faults.reordered = self.faults.reordered.saturating_add(1);
            delay = delay.saturating_add(self.rng.between(1, faults::REORDER_MAX_MS));
        }
        self.push(delay, Event::Deliver { from, to, message: message.clone() });
    }

    fn apply(&mut self, node: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(message) => {
                    if let Some(slot) = self.slots.get(node).filter(|s| s.honest) {
                        let id = slot.id.clone();
                        self.checker.on_sent(&id, &message);
                    }
                    for to in 0..self.slots.len() {
                        if to != node {
                            self.send(node, to, &message);
                        }
                    }
                }
                Output::Relay { except, transactions } => {
                    let message = NetMessage::Transactions(transactions);
                    for to in 0..self.slots.len() {
                        let origin = self.slots.get(to).is_some_and(|s| Some(&s.id) == except.as_ref());
                        if to != node && !origin {
                            self.send(node, to, &message);
                        }
                    }
                }
                Output::Send { to, message } => {
                    let targets: Vec<usize> =
                        (0..self.slots.len()).filter(|i| self.slots.get(*i).is_some_and(|s| s.id == to)).collect();
                    for target in targets {
                        self.send(node, target, &message);
                    }
                }
                Output::Schedule { timer, after_ms } => {
                    let generation = self.seq.saturating_add(1);
                    if let Some(slot) = self.slots.get_mut(node) {
                        slot.timers.retain(|(t, _)| *t != timer);
                        slot.timers.push((timer, generation));
                    }
                    self.push(after_ms, Event::Timer { node, timer, generation });
                }
                Output::Cancel(timer) => {
                    if let Some(slot) = self.slots.get_mut(node) {
                        slot.timers.retain(|(t, _)| *t != timer);
                    }
                }
                Output::CancelConsensusTimers => {
                    if let Some(slot) = self.slots.get_mut(node) {
                        slot.timers.retain(|(t, _)| !matches!(t, Timer::Consensus(_)));
                    }
                }
                Output::Decided(decided) => self.on_decided(node, *decided),
            }
        }
    }

    fn on_decided(&mut self, node: usize, mut decided: DecidedBlock) {
        let Some(slot) = self.slots.get_mut(node) else { return };
        if let Some(hostile) = slot.hostile.as_mut() {
            hostile.committed(&decided.block);
        }
        if !slot.honest {
            return;
        }
        let id = slot.id.clone();
        if self.config.sabotage == Some(Sabotage::ShortQuorum) {
            let mut signatures = decided.certificate.signatures.clone().into_inner();
            signatures.pop();
            decided.certificate.signatures = BoundedVec::try_new(signatures).unwrap_or_else(|_| BoundedVec::new());
        }
        self.checker.on_decided(&id, &decided);
        let height = decided.block.header.height;
        if height > self.max_height {
            self.max_height = height;
            self.progress_ms = self.now.get();
        }
        if let Some(workload) = self.workload.as_mut() {
            workload.on_block(&decided.block, &decided.receipts);
        }
        if let Some(slot) = self.slots.get_mut(node) {
            slot.decided.push(decided);
        }
        self.poll_workload();
    }

    /// Submits the workload's next transaction, if one is due, to every running node.
    fn poll_workload(&mut self) {
        let height = self.max_height;
        let Some(tx) = self.workload.as_mut().and_then(|w| w.poll(height)) else { return };
        self.submit_all(&tx);
        self.workload_tx = Some(tx);
    }

    /// Sends hostile node `node`'s `messages` to every other node.
    fn hostile_broadcast(&mut self, node: usize, messages: Vec<NetMessage>) {
        for message in messages {
            for to in (0..self.slots.len()).filter(|to| *to != node) {
                self.faults.hostile = self.faults.hostile.saturating_add(1);
                self.send(node, to, &message);
            }
        }
    }

    /// One burst of a random attack from hostile node `node` (an oversized block goes to one random node), and the
    /// next burst while faults last.
    fn burst(&mut self, node: usize) {
        if !self.faulty_now() {
            return;
        }
        let pick = usize::try_from(self.rng.between(0, 4)).unwrap_or(0);
        let attack = Attack::ALL.get(pick).copied().unwrap_or(Attack::UnnamedBlocks);
        let Some(hostile) = self.slots.get_mut(node).and_then(|s| s.hostile.as_mut()) else { return };
        let mut messages = hostile.burst(attack);
        messages.truncate(faults::HOSTILE_BURST_MESSAGES);
        if attack == Attack::OversizedBlock {
            let others = u64::try_from(self.slots.len()).unwrap_or(1).saturating_sub(1);
            let to = usize::try_from(self.rng.between(0, others.saturating_sub(1))).unwrap_or(0);
            let to = if to >= node { to.saturating_add(1) } else { to };
            for message in &messages {
                self.faults.hostile = self.faults.hostile.saturating_add(1);
                self.send(node, to, message);
            }
        } else {
            self.hostile_broadcast(node, messages);
        }
        self.push(faults::HOSTILE_BURST_MS, Event::Burst { node });
    }

    fn fold_trace(&mut self, description: &str) {
        self.trace = Digest::sha256(&[self.trace.as_bytes(), description.as_bytes()]);
        self.events = self.events.saturating_add(1);
    }

    fn honest_heights(&self) -> impl Iterator<Item = Height> + '_ {
        self.slots.iter().filter(|s| s.honest).map(|s| {
            s.host.as_ref().map(|h| h.committed_height()).or(s.down.as_ref().map(|d| d.height())).unwrap_or(Height(0))
        })
    }

    fn min_height(&self) -> Height {
        self.honest_heights().min().unwrap_or(Height(0))
    }

    /// Plans the crashes and partitions of this run (drawn from the seed before anything else).
    fn plan_faults(&mut self) {
        let faults = self.config.faults;
        let until = faults.until_ms;
        for node in 0..self.slots.len() {
            if self.slots.get(node).is_some_and(|s| s.hostile.is_some()) {
                let first = self.rng.between(1, faults::HOSTILE_BURST_MS);
                self.push(first, Event::Burst { node });
            }
        }
        if faults.crashes && until > 4_000 {
            let honest: Vec<usize> =
                (0..self.slots.len()).filter(|i| self.slots.get(*i).is_some_and(|s| s.honest)).collect();
            // Two crashes in separate halves of the faulty period, so at most one node is down at a time.
            let half = until / 2;
            for (start, end) in [(1_000, half.saturating_sub(3_000)), (half, until.saturating_sub(3_000))] {
                if end <= start || honest.is_empty() {
                    continue;
                }
                let at = self.rng.between(start, end);
                let pick =
                    usize::try_from(self.rng.between(0, u64::try_from(honest.len()).unwrap_or(1).saturating_sub(1)))
                        .unwrap_or(0);
                let node = honest.get(pick).copied().unwrap_or(0);
                let down = self.rng.between(500, 3_000);
                self.push(at, Event::Crash { node });
                self.push(at.saturating_add(down), Event::Restart { node });
            }
        }
        if faults.partitions && until > 3_000 && self.slots.len() > 1 {
            let count = u32::try_from(self.slots.len()).unwrap_or(63).min(63);
            let full = 1u64.checked_shl(count).map_or(u64::MAX, |v| v.saturating_sub(1));
            for _ in 0..2 {
                let at = self.rng.between(500, until.saturating_sub(2_500));
                let length = self.rng.between(1_000, 4_000).min(until.saturating_sub(at).saturating_sub(1));
                let side = self.rng.between(1, full.saturating_sub(1));
                self.push(at, Event::Partition { side });
                self.push(at.saturating_add(length), Event::Heal);
            }
        }
    }

    fn crash(&mut self, node: usize) {
        let sabotage = self.config.sabotage;
        let Some(slot) = self.slots.get_mut(node) else { return };
        let Some(host) = slot.host.take() else { return };
        let counters = host.counters();
        let storage = host.into_storage();
        slot.down = Some(if sabotage == Some(Sabotage::SkipWal) { storage.without_log() } else { storage.crashed() });
        slot.timers.clear();
        add_counters(&mut self.totals, &counters);
        self.faults.crashes = self.faults.crashes.saturating_add(1);
    }

    fn restart(&mut self, node: usize) -> Result<(), SimError> {
        let Some(slot) = self.slots.get_mut(node) else { return Ok(()) };
        let Some(storage) = slot.down.take() else { return Ok(()) };
        let mut host = Host::new(slot.config.clone(), storage, slot.clock.clone())
            .map_err(|error| SimError::Host { node: slot.id.clone(), error })?;
        if let Some(tx) = &self.workload_tx {
            // A restarted node's pool is empty: offer it the workload's transaction again (it may refuse it if
            // it is behind; peers that hold it will include it).
            if let Err(e) = host.submit(tx.clone()) {
                tracing::debug!(node = %slot.id, error = %e, "workload transaction refused after restart");
            }
        }
        let outputs = host.start().map_err(|error| SimError::Host { node: slot.id.clone(), error })?;
        slot.host = Some(host);
        self.faults.restarts = self.faults.restarts.saturating_add(1);
        self.apply(node, outputs);
        Ok(())
    }

    /// Runs until every honest node has finalised the target height after faults stopped (and the workload
    /// finished), liveness fails, or virtual time runs out.
    pub fn run(&mut self) -> Result<SimReport, SimError> {
        let target = Height(self.config.target_height);
        let until = self.config.faults.until_ms;
        self.run_until(|sim| {
            sim.min_height() >= target && sim.now.get() >= until && sim.workload.as_ref().is_none_or(Workload::finished)
        })
    }

    /// Runs until `done` holds (checked before every event), liveness fails, or virtual time runs out. The first
    /// call starts the nodes; a later call resumes where the previous one stopped, so a caller can submit
    /// transactions between calls. [`SimReport::reached_target`] still refers to the configured target height.
    pub fn run_until(&mut self, mut done: impl FnMut(&Self) -> bool) -> Result<SimReport, SimError> {
        if !self.started {
            self.started = true;
            self.plan_faults();
            if let Some((node, at)) = self.config.late_start
                && let Some(slot) = self.slots.get_mut(node)
            {
                slot.down = slot.host.take().map(Host::into_storage);
                self.push(at, Event::Restart { node });
            }
            for node in 0..self.slots.len() {
                let Some(slot) = self.slots.get_mut(node) else { continue };
                let Some(host) = slot.host.as_mut() else { continue };
                let outputs = host.start().map_err(|error| SimError::Host { node: slot.id.clone(), error })?;
                self.apply(node, outputs);
            }
            self.poll_workload();
        }
        let until = self.config.faults.until_ms;
        let mut liveness_failure = None;
        loop {
            if done(self) {
                break;
            }
            let Some(((at, _), event)) = self.queue.pop_first() else {
                liveness_failure = Some("no event left to run".to_owned());
                break;
            };
            if at > self.config.max_time_ms {
                liveness_failure = Some(format!("virtual time ran out at {} ms", self.now.get()));
                break;
            }
            let quiet_since = self.progress_ms.max(until);
            if at > quiet_since.saturating_add(self.config.liveness_window_ms) {
                liveness_failure = Some(format!(
                    "no block finalised for {} ms after faults stopped (stuck at height {})",
                    self.config.liveness_window_ms, self.max_height
                ));
                break;
            }
            self.now.set(at);
            let (node, result) = match event {
                Event::Deliver { from, to, message } => {
                    let (sender, from_hostile) = match self.slots.get(from) {
                        Some(slot) => (slot.id.clone(), slot.hostile.is_some()),
                        None => continue,
                    };
                    if from_hostile {
                        // Hostile traffic is seeded, so a short description keeps the trace deterministic without
                        // formatting megabytes.
                        self.fold_trace(&format!("{at} hostile {from}>{to} {}", describe(&message)));
                    } else {
                        self.fold_trace(&format!("{at} deliver {from}>{to} {message:?}"));
                    }
                    let Some(slot) = self.slots.get_mut(to) else { continue };
                    let mut deliver = true;
                    if let Some(hostile) = slot.hostile.as_mut() {
                        let received = hostile.receive(&sender, &message);
                        deliver = received.deliver;
                        self.hostile_broadcast(to, received.broadcast);
                    }
                    let Some(slot) = self.slots.get_mut(to) else { continue };
                    let Some(host) = slot.host.as_mut().filter(|_| deliver) else { continue };
                    let result = host.on_message(&sender, message);
                    (to, result)
                }
                Event::Burst { node } => {
                    self.fold_trace(&format!("{at} burst {node}"));
                    self.burst(node);
                    continue;
                }
                Event::Timer { node, timer, generation } => {
                    let Some(slot) = self.slots.get_mut(node) else { continue };
                    let Some(index) = slot.timers.iter().position(|p| *p == (timer, generation)) else { continue };
                    slot.timers.remove(index);
                    let Some(host) = slot.host.as_mut() else { continue };
                    let result = host.on_timer(timer);
                    self.fold_trace(&format!("{at} timer {node} {timer:?}"));
                    (node, result)
                }
                Event::Crash { node } => {
                    self.fold_trace(&format!("{at} crash {node}"));
                    self.crash(node);
                    continue;
                }
                Event::Restart { node } => {
                    self.fold_trace(&format!("{at} restart {node}"));
                    self.restart(node)?;
                    continue;
                }
                Event::Partition { side } => {
                    self.fold_trace(&format!("{at} partition {side:b}"));
                    self.partition = Some(side);
                    self.faults.partitions = self.faults.partitions.saturating_add(1);
                    continue;
                }
                Event::Heal => {
                    self.fold_trace(&format!("{at} heal"));
                    self.partition = None;
                    continue;
                }
            };
            match result {
                Ok(outputs) => self.apply(node, outputs),
                Err(error) => {
                    let id = self.slots.get(node).map(|s| s.id.clone()).unwrap_or_else(|| testkit::node("unknown"));
                    return Err(SimError::Host { node: id, error });
                }
            }
            let floor = self.min_height();
            self.checker.forget_below(floor);
        }
        self.report(liveness_failure)
    }

    fn report(&self, liveness_failure: Option<String>) -> Result<SimReport, SimError> {
        let mut hosts = self.totals;
        let mut evidence_stored = 0u64;
        for slot in self.slots.iter().filter(|s| s.honest) {
            if let Some(host) = &slot.host {
                add_counters(&mut hosts, &host.counters());
            }
            let store = slot.host.as_ref().map(|h| h.storage()).or(slot.down.as_ref());
            if let Some(store) = store {
                let found = store
                    .evidence(Height(0), usize::MAX)
                    .map_err(|e| SimError::Host { node: slot.id.clone(), error: e.into() })?;
                evidence_stored = evidence_stored.saturating_add(u64::try_from(found.len()).unwrap_or(u64::MAX));
            }
        }
        let min_height = self.min_height();
        let workload_done = self.workload.as_ref().is_none_or(Workload::finished);
        Ok(SimReport {
            seed: self.config.seed,
            trace: self.trace,
            events: self.events,
            time_ms: self.now.get(),
            reached_target: liveness_failure.is_none()
                && min_height >= Height(self.config.target_height)
                && workload_done,
            liveness_failure,
            min_height,
            max_height: self.max_height,
            violations: self.checker.violations().to_vec(),
            faults: self.faults,
            hosts,
            evidence_stored,
            sealer_changes: self.workload.as_ref().map_or(0, Workload::sealer_changes),
            key_rotations: self.workload.as_ref().map_or(0, Workload::key_rotations),
            workload_failures: self.workload.as_ref().map(|w| w.failures().to_vec()).unwrap_or_default(),
        })
    }

    /// The chain the cluster runs.
    pub fn chain(&self) -> &ChainIdentity {
        &self.chain
    }
}

/// A message's kind, height and round, for the trace of hostile traffic.
fn describe(message: &NetMessage) -> String {
    match message {
        NetMessage::Proposal(p) => format!("proposal {} {}", p.message.height, p.message.round),
        NetMessage::Vote(v) => format!("vote {} {} {:?}", v.message.height, v.message.round, v.message.value),
        NetMessage::Block(b) => {
            format!("block {} {} {} txs", b.block.header.height, b.round, b.block.transactions.len())
        }
        other => format!("{other:?}").chars().take(200).collect(),
    }
}

fn add_counters(total: &mut HostCounters, more: &HostCounters) {
    total.evidence = total.evidence.saturating_add(more.evidence);
    total.rejected_blocks = total.rejected_blocks.saturating_add(more.rejected_blocks);
    total.bad_signatures = total.bad_signatures.saturating_add(more.bad_signatures);
    total.unnamed_blocks = total.unnamed_blocks.saturating_add(more.unnamed_blocks);
    total.dropped_ahead = total.dropped_ahead.saturating_add(more.dropped_ahead);
    total.rejected_synced = total.rejected_synced.saturating_add(more.rejected_synced);
    total.synced_heights = total.synced_heights.saturating_add(more.synced_heights);
    total.sync_requests = total.sync_requests.saturating_add(more.sync_requests);
    total.replayed_entries = total.replayed_entries.saturating_add(more.replayed_entries);
}
