//! Deterministic simulation of a Synod cluster: N consensus hosts in one thread, a virtual clock, and an
//! in-memory network that delivers every broadcast to every other node after a delay drawn from a seeded
//! [`SplitMix64`]. Events are ordered by (virtual time, sequence number), so one seed gives one run; every
//! delivered event (message or timer) is folded into a trace hash that two runs of a seed must share.
//!
//! After every event the [`Checker`] checks the safety invariants over the blocks nodes report finalised. A run
//! stops when every node has finalised the target height, or fails for liveness when virtual time runs out.
//!
//! Faults (loss, duplication, reordering beyond random delay, partitions, crashes, Byzantine twins), sync and the
//! `synod sim` command come in later steps; they fit as link filters on [`Network`] delivery, a host rebuilt
//! from its store and WAL, and extra hosts sharing a key.

pub mod check;
pub mod rng;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::testkit;
use governance_contracts::types::{Genesis, SignedTransaction};
use malachite_core_types::LinearTimeouts;

pub use self::check::{Checker, Violation};
pub use self::rng::SplitMix64;
use crate::consensus::host::{Clock, DecidedBlock, Host, HostConfig, HostError, NetMessage, Output, Timer};
use crate::consensus::store::MemoryBlockStore;

/// A simulated node's clock: the genesis time plus the shared virtual time.
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

/// How a simulation runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of sealers (`n0..`, from [`testkit::genesis`]).
    pub nodes: usize,
    /// The scheduler's seed.
    pub seed: u64,
    /// Stop once every node has finalised this height.
    pub target_height: u64,
    /// Shortest message delay.
    pub min_delay_ms: u64,
    /// Longest message delay.
    pub max_delay_ms: u64,
    /// Give up (a liveness failure) after this much virtual time.
    pub max_time_ms: u64,
    /// Consensus timeouts.
    pub timeouts: LinearTimeouts,
}

impl SimConfig {
    /// `nodes` sealers, seed `seed`, up to `target_height`, 5–50 ms delays, default timeouts, ten virtual minutes.
    pub fn new(nodes: usize, seed: u64, target_height: u64) -> Self {
        Self {
            nodes,
            seed,
            target_height,
            min_delay_ms: 5,
            max_delay_ms: 50,
            max_time_ms: 600_000,
            timeouts: LinearTimeouts::default(),
        }
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
    /// Whether every node reached the target height in time.
    pub reached_target: bool,
    /// The lowest height finalised by every node.
    pub min_height: Height,
    /// Safety violations found.
    pub violations: Vec<Violation>,
}

enum Event {
    Deliver { from: usize, to: usize, message: NetMessage },
    Timer { node: usize, timer: Timer, generation: u64 },
}

/// Pending timers of one node: each with the generation of its scheduling, so a cancelled or replaced timer
/// that fires later is recognised as stale.
#[derive(Default)]
struct Timers {
    pending: Vec<(Timer, u64)>,
}

/// The simulated cluster.
pub struct Simulation {
    config: SimConfig,
    hosts: Vec<SimHost>,
    timers: Vec<Timers>,
    queue: BTreeMap<(u64, u64), Event>,
    now: Rc<Cell<u64>>,
    seq: u64,
    rng: SplitMix64,
    trace: Digest,
    events: u64,
    checker: Checker,
    decided: Vec<Vec<DecidedBlock>>,
}

impl Simulation {
    /// A cluster of `config.nodes` sealers started from [`testkit::genesis`]`(config.nodes)`.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let genesis = testkit::genesis(config.nodes);
        Self::with_genesis(config, genesis)
    }

    /// A cluster started from `genesis`, whose sealers must be `n0..n{N-1}` with testkit-derived keys.
    pub fn with_genesis(config: SimConfig, genesis: Genesis) -> Result<Self, SimError> {
        let now = Rc::new(Cell::new(0));
        let chain: ChainIdentity = genesis.identity();
        let mut hosts = Vec::with_capacity(config.nodes);
        for i in 0..config.nodes {
            let name = format!("n{i}");
            let node = testkit::node(&name);
            let store = MemoryBlockStore::from_genesis(&genesis).map_err(|e| SimError::Genesis(e.to_string()))?;
            let clock = SimClock { base_ms: genesis.genesis_time_ms, now: Rc::clone(&now) };
            let host_config = HostConfig {
                genesis: genesis.clone(),
                node: node.clone(),
                keys: vec![testkit::secret(&name)],
                timeouts: config.timeouts,
            };
            let host = Host::new(host_config, store, clock).map_err(|error| SimError::Host { node, error })?;
            hosts.push(host);
        }
        let nodes = config.nodes;
        Ok(Self {
            rng: SplitMix64::new(config.seed),
            config,
            hosts,
            timers: (0..nodes).map(|_| Timers::default()).collect(),
            queue: BTreeMap::new(),
            now,
            seq: 0,
            trace: Digest::ZERO,
            events: 0,
            checker: Checker::new(chain),
            decided: (0..nodes).map(|_| Vec::new()).collect(),
        })
    }

    /// Adds `tx` to every node's pending transactions.
    pub fn submit_all(&mut self, tx: &SignedTransaction) {
        for host in &mut self.hosts {
            host.submit(tx.clone());
        }
    }

    /// The hosts.
    pub fn hosts(&self) -> &[SimHost] {
        &self.hosts
    }

    /// What each node finalised, in order.
    pub fn decided(&self, node: usize) -> &[DecidedBlock] {
        self.decided.get(node).map(Vec::as_slice).unwrap_or_default()
    }

    fn push(&mut self, after_ms: u64, event: Event) {
        let at = self.now.get().saturating_add(after_ms);
        self.seq = self.seq.saturating_add(1);
        self.queue.insert((at, self.seq), event);
    }

    fn node_id(&self, node: usize) -> NodeId {
        self.hosts.get(node).map(|h| h.node().clone()).unwrap_or_else(|| testkit::node("unknown"))
    }

    fn apply(&mut self, node: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(message) => {
                    for to in 0..self.hosts.len() {
                        if to != node {
                            let delay = self.rng.between(self.config.min_delay_ms, self.config.max_delay_ms);
                            self.push(delay, Event::Deliver { from: node, to, message: message.clone() });
                        }
                    }
                }
                Output::Send { to, message } => {
                    let targets: Vec<usize> = (0..self.hosts.len()).filter(|i| self.node_id(*i) == to).collect();
                    for target in targets {
                        let delay = self.rng.between(self.config.min_delay_ms, self.config.max_delay_ms);
                        self.push(delay, Event::Deliver { from: node, to: target, message: message.clone() });
                    }
                }
                Output::Schedule { timer, after_ms } => {
                    let generation = self.seq.saturating_add(1);
                    if let Some(timers) = self.timers.get_mut(node) {
                        timers.pending.retain(|(t, _)| *t != timer);
                        timers.pending.push((timer, generation));
                    }
                    self.push(after_ms, Event::Timer { node, timer, generation });
                }
                Output::Cancel(timer) => {
                    if let Some(timers) = self.timers.get_mut(node) {
                        timers.pending.retain(|(t, _)| *t != timer);
                    }
                }
                Output::CancelConsensusTimers => {
                    if let Some(timers) = self.timers.get_mut(node) {
                        timers.pending.retain(|(t, _)| !matches!(t, Timer::Consensus(_)));
                    }
                }
                Output::Decided(decided) => {
                    let id = self.node_id(node);
                    self.checker.on_decided(&id, &decided);
                    if let Some(list) = self.decided.get_mut(node) {
                        list.push(*decided);
                    }
                }
            }
        }
    }

    fn fold_trace(&mut self, description: &str) {
        self.trace = Digest::sha256(&[self.trace.as_bytes(), description.as_bytes()]);
        self.events = self.events.saturating_add(1);
    }

    fn min_height(&self) -> Height {
        self.hosts.iter().map(|h| h.committed_height()).min().unwrap_or(Height(0))
    }

    /// Runs until every node has finalised the target height, virtual time runs out, or a host stops.
    pub fn run(&mut self) -> Result<SimReport, SimError> {
        for node in 0..self.hosts.len() {
            let outputs = match self.hosts.get_mut(node) {
                Some(host) => host.start(),
                None => continue,
            };
            let outputs = outputs.map_err(|error| SimError::Host { node: self.node_id(node), error })?;
            self.apply(node, outputs);
        }
        let target = Height(self.config.target_height);
        while self.min_height() < target {
            let Some(((at, _), event)) = self.queue.pop_first() else { break };
            if at > self.config.max_time_ms {
                break;
            }
            self.now.set(at);
            let (node, result) = match event {
                Event::Deliver { from, to, message } => {
                    self.fold_trace(&format!("{at} deliver {from}>{to} {message:?}"));
                    let sender = self.node_id(from);
                    (to, self.hosts.get_mut(to).map(|h| h.on_message(&sender, message)))
                }
                Event::Timer { node, timer, generation } => {
                    let live = self
                        .timers
                        .get_mut(node)
                        .and_then(|timers| {
                            let index = timers.pending.iter().position(|p| *p == (timer, generation))?;
                            Some(timers.pending.remove(index))
                        })
                        .is_some();
                    if !live {
                        continue;
                    }
                    self.fold_trace(&format!("{at} timer {node} {timer:?}"));
                    (node, self.hosts.get_mut(node).map(|h| h.on_timer(timer)))
                }
            };
            match result {
                Some(Ok(outputs)) => self.apply(node, outputs),
                Some(Err(error)) => return Err(SimError::Host { node: self.node_id(node), error }),
                None => {}
            }
        }
        let min_height = self.min_height();
        Ok(SimReport {
            seed: self.config.seed,
            trace: self.trace,
            events: self.events,
            time_ms: self.now.get(),
            reached_target: min_height >= target,
            min_height,
            violations: self.checker.violations().to_vec(),
        })
    }
}
