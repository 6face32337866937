//! `synod bench --scale`: how consensus and governance behave as the alliance grows, in two parts.
//!
//! A program that prints figures, not a test: no time is asserted. It fails (non-zero exit) only when the run
//! itself is wrong: a safety violation, a liveness failure, a transaction refused or a proposal that does not
//! execute when it should.
//!
//! # Method
//!
//! **Part 1: finality and CPU per height with 4, 25, 100 and 200 sealers.** For each size, a [`Simulation`] of
//! that many sealers of equal weight, named by [`NodeNaming::Mixed`](crate::sim::NodeNaming::Mixed) (ids of one to
//! sixty-four characters, then `node.{i}`), from [`testkit::genesis_with_node_ids`] (one member per sealer), with
//! no network delay (`min_delay_ms = max_delay_ms = 0`), no faults and no transactions. The cluster first
//! finalises height 1 on every node (start-up, not measured); then `H` heights are run one at a time, stopping the
//! simulation when more than two thirds of the nodes and when all nodes have finalised each height.
//!
//! - *Virtual time.* A height starts on every node `block_interval_ms` after its parent block's header time
//!   ([`crate::consensus::host`]); the consensus time of a height is the virtual time from that start until more
//!   than two thirds of the nodes (the quorum a client trusts) and until every node has finalised it. The height
//!   period is the difference of consecutive header times. With no delay every message arrives at the instant it
//!   is sent, so the virtual consensus time is zero unless a timeout fires (a later round).
//! - *CPU.* The simulation runs every node on one thread, one event at a time, so the thread's CPU time over the
//!   `H` heights (from `/proc/thread-self/schedstat`; the wall clock beside it) ÷ `H` is the cluster's work per
//!   height, and ÷ the number of nodes it is one node's work per height: on a real network, where every node has
//!   its own machine, the time a node computes before it can finalise, the part of finality the virtual clock
//!   does not show.
//! - *Where it goes.* Unit costs measured in the same run (the shortest of several timed runs), multiplied by counts from the run. A node's own work:
//!   the ed25519 check of each of the other nodes' prevote and precommit as it arrives (`verify_vote`,
//!   `2 (n − 1)` per height); Malachite's checks of the node's own commit certificate of `c` precommits, which it
//!   builds from votes it has already checked and verifies again on deciding and again on finalising (`2c`);
//!   executing the block once (`execution::apply_block` of an empty block over the same genesis state, in a
//!   debug build with the contracts' invariant check). The simulator's and this bench's share, which is not a
//!   node's: the fold of every delivered event into the trace hash (the message formatted with `Debug` and
//!   hashed; timed on a signed vote), the checker's pass over its memory of signed messages after every event (a
//!   `BTreeMap::retain` over `3n + 1` entries, timed on a replica), its check of every finalised certificate on
//!   every node (timed on a certificate of the run), and this bench's stop check before every event. The rest is
//!   the host and Malachite's core (vote keeper, driver) and the simulator's event queue, which fans every
//!   broadcast out to `n − 1` deliveries. Node work = CPU per node per height − the simulator's and bench's share.
//! - *Goal.* Finality under 1 s with 100 sealers at zero delay (Malachite reports 780 ms at 100 validators over a
//!   real network): consensus time (virtual) + node work per height, set against 1 s; the block interval comes on
//!   top for a transaction that waits for the next height.
//!
//! **Part 2: a 200-member committee proposal on a live network.** A genesis of [`MEMBERS`] members of weight 1,
//! each with one governor `m{i}-gov` ([`testkit::genesis`]), of which the first four own sealers `n0..n3`; the other
//! members own no node. Four `synod node` processes on loopback ([`crate::localnet`]), started and waited for
//! until each has finalised height 2. Then, `R` times, a `DefineRole` proposal, which the default policy's
//! two-thirds committee rule executes at 134 of the 200 equal weights (`3 × approved ≥ 2 × seated`):
//! `m0-gov` submits it with [`SUBMITTED_APPROVALS`] approvals and it lands on `n0`; five `Approve` transactions of
//! [`APPROVALS_PER_TX`] approvals each (as the CLI batches approval files), each relayed by the first governor in
//! it, land together (114 approvals, still pending); then the final `Approve` of 20 is posted to `n0` and the
//! clock runs until **every** node's `/v1/transactions/{hash}` (polled every 5 ms) shows it `Applied` with
//! `ProposalExecuted` for that proposal. The canonical sizes of the transactions are printed, and the execution
//! of the final `Approve` alone is timed in process: the same transactions replayed on a [`TestChain`] of the same
//! genesis and the last block's `execution::apply_block` timed (median of [`EXECUTION_SAMPLES`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution;
use governance_contracts::ids::{BlockHash, Height, NodeId, ProposalId, RoleId, TxHash};
use governance_contracts::testkit::{self, TestChain, account, secret};
use governance_contracts::types::action::NodeKind;
use governance_contracts::types::block::{ValidatorSet, verify_certificate};
use governance_contracts::types::{
    Action, Approval, Event, Genesis, Outcome, Payload, Principal, Proposal, Receipt, RoleDefinition, RoleScope,
    SignedTransaction, Transaction,
};
use malachite_core_types::{NilOrVal, Round, VoteType};
use serde_json::Value;

use super::{BenchArgs, duration};
use crate::consensus::context::{Address, Height as ConsensusHeight, Vote, sign_vote, verify_vote};
use crate::consensus::host::{DecidedBlock, NetMessage};
use crate::localnet::{LocalNetwork, LocalNode, free_ports, spawn_node};
use crate::sim::{SimConfig, SimReport, Simulation};

/// The cluster sizes of part 1 and the heights measured for each (a full run).
const SIZES: [(usize, u64); 4] = [(4, 20), (25, 20), (100, 10), (200, 5)];
/// The same for a `--quick` run.
const QUICK_SIZES: [(usize, u64); 4] = [(4, 5), (25, 5), (100, 3), (200, 2)];
/// The goal of part 1: finality with 100 sealers under this, at zero delay.
const GOAL_MS: f64 = 1_000.0;
/// The size the goal is about.
const GOAL_SEALERS: usize = 100;
/// Members of the part 2 genesis.
pub const MEMBERS: usize = 200;
/// Sealers of the part 2 network.
const LIVE_SEALERS: usize = 4;
/// Approvals carried by the submission itself.
pub const SUBMITTED_APPROVALS: usize = 14;
/// Approvals per `Approve` transaction.
pub const APPROVALS_PER_TX: usize = 20;
/// Approve transactions that land before the final one.
const EARLY_APPROVES: usize = 5;
/// Times the final approval is measured [full run, `--quick`].
const REPEATS: (u64, u64) = (3, 1);
/// How many blocks the part 2 transactions stay valid.
const TX_TTL: u64 = 200;
/// Timed samples of the in-process execution of the final approval.
const EXECUTION_SAMPLES: usize = 5;
/// Timed samples of each micro-measurement of part 1 (vote check, trace fold, certificate check).
const MICRO_SAMPLES: usize = 15;
/// Operations per micro-measurement sample.
const MICRO_OPS: usize = 200;
/// Largest API answer read.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// How long the network may take to start, and any one wait.
const WAIT: Duration = Duration::from_secs(120);

/// The wall clock. The workspace bans `Instant::now` so that deterministic code never reads it; a benchmark is
/// where real time belongs.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// The CPU time this thread has used, from `/proc/thread-self/schedstat` (Linux); `None` where it is not
/// readable.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `d ÷ count`; zero for a zero count.
fn divide(d: Duration, count: u64) -> Duration {
    d.checked_div(u32::try_from(count).unwrap_or(u32::MAX)).unwrap_or_default()
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied().unwrap_or_default()
}

/// The shortest time of one call of `f`, from `samples` timed runs of `ops` calls each (wall clock), after one
/// untimed run: a busy machine only ever adds time, so the shortest run is the cost of the work itself.
/// (`/proc/thread-self/schedstat` advances at scheduler ticks, too coarse for a call of microseconds.)
fn per_call(samples: usize, ops: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    f()?;
    let mut shortest: Option<Duration> = None;
    for _ in 0..samples {
        let started = now();
        for _ in 0..ops {
            f()?;
        }
        let time = divide(started.elapsed(), ops as u64);
        shortest = Some(shortest.map_or(time, |s| s.min(time)));
    }
    Ok(shortest.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------------------------
// Part 1: the simulation.

/// One cluster size's figures.
#[derive(Debug, Clone)]
pub struct SizeFigures {
    /// Sealers.
    pub sealers: usize,
    /// Heights measured.
    pub heights: u64,
    /// The chain's block interval.
    pub block_interval_ms: u64,
    /// Mean virtual time between consecutive block header times.
    pub period_ms: f64,
    /// Longest virtual time from a height's start until more than two thirds of the nodes finalised it.
    pub quorum_ms: u64,
    /// Longest virtual time from a height's start until every node finalised it.
    pub all_ms: u64,
    /// Heights decided after round 0.
    pub later_rounds: u64,
    /// Wall time over the measured heights.
    pub wall: Duration,
    /// This thread's CPU time over the same span, where readable.
    pub cpu: Option<Duration>,
    /// Simulation events (deliveries and timers) over the same span.
    pub events: u64,
    /// Signatures in a finalised block's certificate (node 0's last).
    pub certificate_signatures: usize,
    /// Time to verify that certificate once, as the checker does for every node and height.
    pub certificate_check: Duration,
    /// Time of one pass of the checker's memory of signed messages (a `BTreeMap::retain` over `3n + 1` entries,
    /// about what it holds mid-height), which the simulator runs after every event.
    pub checker_pass: Duration,
    /// Time of one of this bench's stop checks (how many nodes finalised a height), run before every event.
    pub stop_check: Duration,
    /// Time to execute an empty block over this size's genesis state, as every node does once per height to
    /// check (or build) it; in a debug build it includes the contracts' invariant check.
    pub block_execution: Duration,
}

impl SizeFigures {
    /// The thread's CPU time where readable, else the wall time.
    pub fn work(&self) -> Duration {
        self.cpu.unwrap_or(self.wall)
    }

    /// The cluster's work per height.
    pub fn per_height(&self) -> Duration {
        divide(self.work(), self.heights)
    }

    /// The wall time per height.
    pub fn wall_per_height(&self) -> Duration {
        divide(self.wall, self.heights)
    }

    /// One node's work per height.
    pub fn per_node_height(&self) -> Duration {
        divide(self.per_height(), self.sealers as u64)
    }

    /// Events per height.
    pub fn events_per_height(&self) -> f64 {
        self.events as f64 / self.heights.max(1) as f64
    }
}

/// Costs measured once, shared by every size.
#[derive(Debug, Clone, Copy)]
pub struct UnitCosts {
    /// One `verify_vote`.
    pub vote_check: Duration,
    /// The simulator's trace fold of one delivered vote.
    pub trace_fold: Duration,
}

/// Where one node's work per height goes, estimated.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    /// Signature checks of the other nodes' prevotes and precommits as they arrive: `2 (n − 1)`.
    pub votes: Duration,
    /// Malachite's checks of the node's own commit certificate, which it builds from precommits it has already
    /// checked and verifies again when it decides and again when it finalises: twice the certificate's size.
    pub certificate: Duration,
    /// Executing the (empty) block once.
    pub block: Duration,
    /// The simulator's and this bench's share: trace folds, the checker's certificate check and memory passes,
    /// the stop checks.
    pub simulator: Duration,
    /// Everything else: the host, Malachite's core (vote keeper, driver), the simulator's event queue.
    pub rest: Duration,
    /// The CPU per node per height all of this divides.
    pub total: Duration,
}

impl Breakdown {
    fn new(size: &SizeFigures, units: &UnitCosts) -> Self {
        let times = |d: Duration, count: usize| d.saturating_mul(u32::try_from(count).unwrap_or(u32::MAX));
        let total = size.per_node_height();
        let votes = times(units.vote_check, size.sealers.saturating_sub(1).saturating_mul(2));
        let certificate = times(units.vote_check, size.certificate_signatures.saturating_mul(2));
        let block = size.block_execution;
        let per_event = units.trace_fold.saturating_add(size.checker_pass).saturating_add(size.stop_check);
        let events = size.events_per_height() / size.sealers.max(1) as f64;
        let simulator = per_event.mul_f64(events).saturating_add(size.certificate_check);
        let rest =
            total.saturating_sub(votes).saturating_sub(certificate).saturating_sub(block).saturating_sub(simulator);
        Self { votes, certificate, block, simulator, rest, total }
    }

    /// A node's own work per height: the total without the simulator's and this bench's share.
    pub fn node_work(&self) -> Duration {
        self.total.saturating_sub(self.simulator)
    }
}

/// Runs `sim` until `done`, failing on a safety violation or a liveness failure.
fn drive(sim: &mut Simulation, what: &str, done: impl FnMut(&Simulation) -> bool) -> anyhow::Result<SimReport> {
    let report = sim.run_until(done).with_context(|| format!("{what}: the simulation stopped"))?;
    ensure!(report.violations.is_empty(), "{what}: safety violations: {:?}", report.violations);
    if let Some(why) = &report.liveness_failure {
        bail!("{what}: liveness failure: {why}");
    }
    Ok(report)
}

/// How many of the `nodes` nodes have finalised `height`.
fn finalised(sim: &Simulation, nodes: usize, height: Height) -> usize {
    (0..nodes).filter(|i| sim.decided(*i).last().is_some_and(|d| d.block.header.height >= height)).count()
}

/// Node 0's finalised block at `height`.
fn block_at(sim: &Simulation, height: Height) -> anyhow::Result<&DecidedBlock> {
    sim.decided(0).iter().find(|d| d.block.header.height == height).with_context(|| format!("no block {height}"))
}

/// The smallest node count that is more than two thirds of `nodes`.
fn two_thirds_plus(nodes: usize) -> usize {
    (nodes.saturating_mul(2) / 3).saturating_add(1)
}

fn simulate(sealers: usize, heights: u64, seed: u64) -> anyhow::Result<SizeFigures> {
    let what = format!("{sealers} sealers");
    let mut config = SimConfig::new(sealers, seed, 1).with_mixed_ids();
    config.min_delay_ms = 0;
    config.max_delay_ms = 0;
    // Virtual time is free: a day bounds only a stuck run.
    config.max_time_ms = 86_400_000;
    let genesis = testkit::genesis_with_node_ids(&config.node_ids(sealers));
    let (base_ms, interval_ms) = (genesis.genesis_time_ms, genesis.params.block_interval_ms);
    let mut sim = Simulation::with_genesis(config, genesis).with_context(|| format!("{what}: the cluster"))?;
    drive(&mut sim, &format!("{what}, start-up"), |s| finalised(s, sealers, Height(1)) == sealers)?;
    let quorum = two_thirds_plus(sealers);

    let first = block_at(&sim, Height(1))?.block.header.time_ms;
    let events_before = sim.run_until(|_| true).context("the simulation stopped")?.events;
    let (mut quorum_ms, mut all_ms, mut later_rounds) = (0u64, 0u64, 0u64);
    let cpu_before = thread_cpu();
    let started = now();
    let mut events_after = events_before;
    for k in 1..=heights {
        let height = Height(k.saturating_add(1));
        let parent_ms = block_at(&sim, Height(k))?.block.header.time_ms;
        let start_ms = parent_ms.saturating_sub(base_ms).saturating_add(interval_ms);
        let step = format!("{what}, height {height}");
        let reached = drive(&mut sim, &step, |s| finalised(s, sealers, height) >= quorum)?;
        quorum_ms = quorum_ms.max(reached.time_ms.saturating_sub(start_ms));
        let everyone = drive(&mut sim, &step, |s| finalised(s, sealers, height) == sealers)?;
        all_ms = all_ms.max(everyone.time_ms.saturating_sub(start_ms));
        events_after = everyone.events;
        if block_at(&sim, height)?.certificate.round > 0 {
            later_rounds = later_rounds.saturating_add(1);
        }
    }
    let wall = started.elapsed();
    let cpu = thread_cpu().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));

    let last = block_at(&sim, Height(heights.saturating_add(1)))?;
    let period_ms = last.block.header.time_ms.saturating_sub(first) as f64 / heights.max(1) as f64;
    let chain = sim.chain().clone();
    let certificate_check = per_call(MICRO_SAMPLES, 3, || {
        verify_certificate(&chain, &last.block.header, &last.certificate, &last.validator_set)
            .map_err(|e| anyhow::anyhow!("{what}: a finalised certificate does not verify: {e}"))
    })?;
    let stop_check = per_call(MICRO_SAMPLES, MICRO_OPS, || {
        ensure!(finalised(std::hint::black_box(&sim), sealers, Height(1)) == sealers, "a node lost a height");
        Ok(())
    })?;
    let checker_pass = checker_pass(&last.validator_set, last.block.header.height)?;
    let block_execution = empty_block(&last.validator_set)?;
    Ok(SizeFigures {
        sealers,
        heights,
        block_interval_ms: interval_ms,
        period_ms,
        quorum_ms,
        all_ms,
        later_rounds,
        wall,
        cpu,
        events: events_after.saturating_sub(events_before),
        certificate_signatures: last.certificate.signatures.len(),
        certificate_check,
        checker_pass,
        stop_check,
        block_execution,
    })
}

/// One pass of a replica of the simulator's memory of signed messages: `3n + 1` entries keyed by (node, height,
/// round, kind), all at or above the floor, retained.
fn checker_pass(set: &ValidatorSet, height: Height) -> anyhow::Result<Duration> {
    let mut said: BTreeMap<(NodeId, Height, u32, u8), Option<BlockHash>> = BTreeMap::new();
    let value = Some(BlockHash(Digest::sha256(&[b"synod-bench-scale"])));
    for validator in set.validators.iter() {
        for kind in 0..3u8 {
            said.insert((validator.node.clone(), height, 0, kind), value);
        }
    }
    let floor = Height(height.0.saturating_sub(1));
    per_call(MICRO_SAMPLES, MICRO_OPS / 4, || {
        said.retain(|(_, h, _, _), _| *h >= std::hint::black_box(floor));
        Ok(())
    })
}

/// Executing an empty block over the genesis state of the sealers of `set` (one member each).
fn empty_block(set: &ValidatorSet) -> anyhow::Result<Duration> {
    let ids: Vec<String> = set.validators.iter().map(|v| v.node.as_str().to_owned()).collect();
    let mut chain = TestChain::new(testkit::genesis_with_node_ids(&ids));
    chain.apply_block(Vec::new());
    let height = chain.height.plus(1);
    per_call(MICRO_SAMPLES, 2, || {
        execution::apply_block(&chain.store, height, &[])
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("an empty block: {e}"))
    })
}

/// Times one vote's signature check and the simulator's trace fold of one delivered vote.
fn unit_costs() -> anyhow::Result<UnitCosts> {
    let chain = testkit::genesis(4).identity();
    let voter = testkit::mixed_node_id(6);
    let key = secret(&voter);
    let vote = Vote {
        height: ConsensusHeight(Height(7)),
        round: Round::new(0),
        vote_type: VoteType::Prevote,
        value: NilOrVal::Val(BlockHash(Digest::sha256(&[b"synod-bench-scale"]))),
        voter: Address(NodeId::new(voter.clone())?),
    };
    let signed = sign_vote(&chain, &key, vote).context("signing a vote")?;
    let public = key.public_key();
    let vote_check = per_call(MICRO_SAMPLES, MICRO_OPS, || {
        let ok = verify_vote(
            &chain,
            std::hint::black_box(&signed.message),
            std::hint::black_box(&signed.signature),
            &public,
        );
        ensure!(ok, "a valid vote failed its check");
        Ok(())
    })?;
    // As the simulator folds a delivery into its trace.
    let message = NetMessage::Vote(signed);
    let mut trace = Digest::sha256(&[b"trace"]);
    let trace_fold = per_call(MICRO_SAMPLES, MICRO_OPS, || {
        let description = format!("{} deliver {}>{} {:?}", 1_000u64, 17usize, 42usize, std::hint::black_box(&message));
        trace = Digest::sha256(&[trace.as_bytes(), description.as_bytes()]);
        Ok(())
    })?;
    Ok(UnitCosts { vote_check, trace_fold })
}

// ---------------------------------------------------------------------------------------------------------------
// Part 2: the live network.

/// The part 2 figures.
#[derive(Debug, Clone)]
pub struct CommitteeFigures {
    /// Members (and governors).
    pub members: usize,
    /// Approvals the proposal executes with.
    pub approvals: usize,
    /// The chain's block interval.
    pub block_interval_ms: u64,
    /// Canonical bytes of the submission (with its approvals).
    pub submit_bytes: usize,
    /// Canonical bytes of each `Approve` transaction, the final one last.
    pub approve_bytes: Vec<usize>,
    /// Canonical bytes of one approval.
    pub approval_bytes: usize,
    /// Per repeat, from posting the final `Approve` until it executed on every node.
    pub latency: Vec<Duration>,
    /// Per repeat, from posting it until it executed on `n0`, the node it was posted to.
    pub latency_first: Vec<Duration>,
    /// Executing the block of the final `Approve` alone, in process.
    pub execution: Duration,
}

/// Nodes started for the run, killed when dropped.
struct Processes(Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A small HTTP client for the nodes' APIs.
struct Api {
    agent: ureq::Agent,
}

impl Api {
    fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { agent }
    }

    fn get(&self, url: &str) -> anyhow::Result<(u16, Value)> {
        let mut response = self.agent.get(url).call().with_context(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    fn post_tx(&self, base: &str, tx: &SignedTransaction) -> anyhow::Result<()> {
        let url = format!("{base}/v1/transactions");
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "application/octet-stream")
            .send(&encode(tx)[..])
            .with_context(|| format!("POST {url}"))?;
        let status = response.status().as_u16();
        if status != 200 && status != 202 {
            let text = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string().unwrap_or_default();
            bail!("POST {url}: {status} {text}");
        }
        Ok(())
    }

    fn height(&self, base: &str) -> anyhow::Result<u64> {
        let (_, status) = self.get(&format!("{base}/v1/status"))?;
        status["height"].as_u64().with_context(|| format!("{base}/v1/status without a height: {status}"))
    }

    /// The receipt of transaction `hash` at `base`, if it is finalised there.
    fn receipt(&self, base: &str, hash: &TxHash) -> anyhow::Result<Option<Receipt>> {
        match self.get(&format!("{base}/v1/transactions/{hash}"))? {
            (200, body) => serde_json::from_value(body["receipt"].clone())
                .map(Some)
                .with_context(|| format!("{base}/v1/transactions/{hash}: no receipt in {body}")),
            (404, _) => Ok(None),
            (code, body) => bail!("{base}/v1/transactions/{hash}: {code} {body}"),
        }
    }
}

/// Polls `check` every `every` until it holds or [`WAIT`] passes.
fn poll(what: &str, every: Duration, mut check: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let started = now();
    loop {
        if check()? {
            return Ok(());
        }
        if started.elapsed() > WAIT {
            bail!("timed out after {WAIT:?} waiting for {what}");
        }
        std::thread::sleep(every);
    }
}

/// Whether `receipt` is `Applied` and executed `proposal`.
fn executed(receipt: &Receipt, proposal: &ProposalId) -> bool {
    receipt.outcome == Outcome::Applied
        && receipt.events.iter().any(|e| matches!(e, Event::ProposalExecuted { proposal: p, .. } if p == proposal))
}

/// [`testkit::genesis`] of [`MEMBERS`] members, only the first [`LIVE_SEALERS`] of whose sealers are kept.
pub fn committee_genesis() -> anyhow::Result<Genesis> {
    let mut genesis = testkit::genesis(MEMBERS);
    let nodes: Vec<_> = genesis.nodes.iter().take(LIVE_SEALERS).cloned().collect();
    genesis.nodes = BoundedVec::try_new(nodes).context("genesis nodes")?;
    ensure!(genesis.members.len() == MEMBERS, "the genesis holds {} members", genesis.members.len());
    Ok(genesis)
}

/// The smallest approving weight that meets two thirds of `members` equal weights (`3 × approved ≥ 2 × seated`).
pub fn committee_threshold(members: usize) -> usize {
    members.saturating_mul(2).div_ceil(3)
}

/// One repeat's transactions: the submission, the early `Approve`s and the final one.
struct CommitteeRound {
    id: ProposalId,
    submit: SignedTransaction,
    early: Vec<SignedTransaction>,
    last: SignedTransaction,
    approval_bytes: usize,
}

fn governor(i: usize) -> String {
    format!("m{i}-gov")
}

fn committee_round(chain: &ChainIdentity, repeat: u64, height: u64) -> anyhow::Result<CommitteeRound> {
    let valid_until = Height(height.saturating_add(TX_TTL));
    let proposal = Proposal {
        proposer: Principal::Account(account(&governor(0))),
        title: BoundedString::try_new("synod bench --scale")?,
        description: BoundedString::default(),
        actions: BoundedVec::try_new(vec![Action::DefineRole {
            role: RoleId::new(format!("scale-role-{repeat}"))?,
            definition: RoleDefinition { scope: RoleScope::Alliance, delegable: false, max_grant_blocks: 1_000 },
        }])?,
        expires_at: valid_until,
        salt: repeat,
    };
    let id = proposal.id(chain);
    let needed = committee_threshold(MEMBERS);
    let approvals: Vec<(usize, Approval)> =
        (0..needed).map(|i| (i, proposal.approve(chain, account(&governor(i)), &secret(&governor(i))))).collect();
    let approval_bytes = approvals.first().map_or(0, |(_, a)| encode(a).len());
    let sign = |sender: usize, payload: Payload| {
        let gov = governor(sender);
        Transaction { sender: Principal::Account(account(&gov)), valid_until, payload }.sign(chain, &secret(&gov))
    };
    let (carried, rest) = approvals.split_at(SUBMITTED_APPROVALS.min(approvals.len()));
    let submit = sign(
        0,
        Payload::SubmitProposal {
            proposal,
            approvals: BoundedVec::try_new(carried.iter().map(|(_, a)| a.clone()).collect())?,
        },
    );
    let mut batches = Vec::new();
    for chunk in rest.chunks(APPROVALS_PER_TX) {
        let relayer = chunk.first().map_or(0, |(i, _)| *i);
        let approvals = BoundedVec::try_new(chunk.iter().map(|(_, a)| a.clone()).collect())?;
        batches.push(sign(relayer, Payload::Approve { proposal: id, approvals }));
    }
    let last = batches.pop().context("no approve transaction")?;
    ensure!(batches.len() == EARLY_APPROVES, "{} early approve transactions, not {EARLY_APPROVES}", batches.len());
    Ok(CommitteeRound { id, submit, early: batches, last, approval_bytes })
}

/// Writes and starts the part 2 network in `dir`.
fn start_network(dir: &Path, genesis: Genesis) -> anyhow::Result<(LocalNetwork, Processes)> {
    let ports = free_ports(LIVE_SEALERS.saturating_mul(2))?;
    let mut nodes = Vec::new();
    for (i, listed) in genesis.nodes.iter().enumerate() {
        let name = listed.node.as_str().to_owned();
        let (p2p, api) = (ports.get(i).copied(), ports.get(i.saturating_add(LIVE_SEALERS)).copied());
        let (Some(p2p), Some(api)) = (p2p, api) else { bail!("too few free ports") };
        let node = LocalNode {
            id: listed.node.clone(),
            kind: NodeKind::Sealer,
            home: dir.join("nodes").join(&name),
            p2p: std::net::SocketAddr::from(([127, 0, 0, 1], p2p)),
            api: std::net::SocketAddr::from(([127, 0, 0, 1], api)),
        };
        nodes.push((node, secret(&name)));
    }
    let network = LocalNetwork::write(dir, genesis, nodes)?;
    let exe = std::env::current_exe().context("cannot locate the synod executable")?;
    let mut processes = Processes(Vec::new());
    for node in &network.nodes {
        processes.0.push(spawn_node(&exe, node, &[("RUST_LOG", "warn")])?);
    }
    let api = Api::new();
    for node in &network.nodes {
        let base = node.url();
        poll(&format!("{} to finalise height 2", node.id), Duration::from_millis(50), || {
            Ok(api.height(&base).is_ok_and(|h| h >= 2))
        })?;
    }
    Ok((network, processes))
}

/// Posts `txs` to `base` and waits until each is finalised there, `Applied` without executing `proposal`.
fn land(
    api: &Api,
    base: &str,
    chain: &ChainIdentity,
    txs: &[&SignedTransaction],
    id: &ProposalId,
) -> anyhow::Result<()> {
    for tx in txs {
        api.post_tx(base, tx)?;
    }
    let hashes: Vec<TxHash> = txs.iter().map(|tx| tx.tx.hash(chain)).collect();
    let mut receipts: Vec<Option<Receipt>> = vec![None; hashes.len()];
    poll("the approvals to land", Duration::from_millis(20), || {
        for (hash, receipt) in hashes.iter().zip(receipts.iter_mut()) {
            if receipt.is_none() {
                *receipt = api.receipt(base, hash)?;
            }
        }
        Ok(receipts.iter().all(Option::is_some))
    })?;
    for receipt in receipts.iter().flatten() {
        ensure!(receipt.outcome == Outcome::Applied, "a transaction was refused: {receipt:?}");
        ensure!(!executed(receipt, id), "the proposal executed before its final approval: {receipt:?}");
    }
    Ok(())
}

/// The in-process execution time of the block that holds only `round.last`, after the others applied.
fn execution_time(genesis: &Genesis, round: &CommitteeRound) -> anyhow::Result<Duration> {
    let mut chain = TestChain::new(genesis.clone());
    let receipt = chain.apply(round.submit.clone());
    ensure!(receipt.outcome == Outcome::Applied, "in process: the submission was refused: {receipt:?}");
    let outcome = chain.apply_block(round.early.clone());
    ensure!(outcome.receipts.iter().all(|r| r.outcome == Outcome::Applied), "in process: an approval was refused");
    let block = vec![(round.last.clone(), encode(&round.last).len())];
    let height = chain.height.plus(1);
    let mut times = Vec::with_capacity(EXECUTION_SAMPLES);
    for _ in 0..=EXECUTION_SAMPLES {
        let started = now();
        let outcome = execution::apply_block(&chain.store, height, &block)
            .map_err(|e| anyhow::anyhow!("in process: the final approval's block: {e}"))?;
        times.push(started.elapsed());
        let receipt = outcome.receipts.first().context("in process: no receipt")?;
        ensure!(executed(receipt, &round.id), "in process: the final approval did not execute: {receipt:?}");
    }
    times.remove(0);
    Ok(median(&times))
}

fn committee(repeats: u64) -> anyhow::Result<CommitteeFigures> {
    let genesis = committee_genesis()?;
    let chain = genesis.identity();
    let dir = tempfile::tempdir().context("cannot create the benchmark directory")?;
    let (network, processes) = start_network(dir.path(), genesis.clone())?;
    let api = Api::new();
    let urls: Vec<String> = network.nodes.iter().map(LocalNode::url).collect();
    let base = urls.first().context("no node")?.clone();
    let (mut latency, mut latency_first) = (Vec::new(), Vec::new());
    let mut sizes = None;
    let mut execution = Duration::ZERO;
    for repeat in 0..repeats {
        let round = committee_round(&chain, repeat, api.height(&base)?)?;
        land(&api, &base, &chain, &[&round.submit], &round.id)?;
        land(&api, &base, &chain, &round.early.iter().collect::<Vec<_>>(), &round.id)?;
        let hash = round.last.tx.hash(&chain);
        let started = now();
        api.post_tx(&base, &round.last)?;
        let mut done: Vec<Option<Duration>> = vec![None; urls.len()];
        poll("the final approval to execute on every node", Duration::from_millis(5), || {
            for (url, done) in urls.iter().zip(done.iter_mut()) {
                if done.is_none() {
                    match api.receipt(url, &hash)? {
                        Some(r) if executed(&r, &round.id) => *done = Some(started.elapsed()),
                        Some(r) => bail!("{url}: the final approval did not execute the proposal: {r:?}"),
                        None => {}
                    }
                }
            }
            Ok(done.iter().all(Option::is_some))
        })?;
        latency.push(started.elapsed());
        latency_first.push(done.first().copied().flatten().unwrap_or_default());
        if sizes.is_none() {
            let mut approve_bytes: Vec<usize> = round.early.iter().map(|tx| encode(tx).len()).collect();
            approve_bytes.push(encode(&round.last).len());
            sizes = Some((encode(&round.submit).len(), approve_bytes, round.approval_bytes));
            execution = execution_time(&genesis, &round)?;
        }
    }
    drop(processes);
    let (submit_bytes, approve_bytes, approval_bytes) = sizes.context("no repeat ran")?;
    Ok(CommitteeFigures {
        members: MEMBERS,
        approvals: committee_threshold(MEMBERS),
        block_interval_ms: network.genesis.params.block_interval_ms,
        submit_bytes,
        approve_bytes,
        approval_bytes,
        latency,
        latency_first,
        execution,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Printing.

fn print_method(quick: bool, seed: u64, sizes: &[(usize, u64)], repeats: u64) {
    let profile = if cfg!(debug_assertions) {
        "debug: Synod's node crate unoptimised; the contracts, Malachite's core and ed25519 optimised (the \
         workspace's dev profile)"
    } else {
        "optimised"
    };
    println!("# synod bench --scale{}", if quick { " (--quick: fewer heights and repeats)" } else { "" });
    println!();
    println!("Method (node/src/bench/scale.rs has it in full):");
    println!("- Build: {profile}.");
    println!("- Part 1: the deterministic simulation, zero network delay, no faults, no transactions, seed {seed},");
    println!("  mixed-length node ids, equal weights, one member per sealer. Height 1 is start-up; then");
    let plan: Vec<String> = sizes.iter().map(|(n, h)| format!("{n} sealers x {h} heights")).collect();
    println!("  {} are measured.", plan.join(", "));
    println!("  Virtual: a height starts block_interval_ms after its parent's header time; consensus time = its");
    println!("  start until >2/3 of the nodes / all nodes finalised it (longest over the heights).");
    println!("  CPU: the simulation runs every node on ONE thread; the thread's CPU time / heights = the cluster's");
    println!("  work per height, / nodes = one node's work per height (its own machine on a real network).");
    println!("  Where it goes (unit costs timed in this run x counts from the run): vote checks 2(n-1) x");
    println!("  verify_vote; own commit certificate re-checked on decide and on finalise, 2c x verify_vote;");
    println!("  one empty block executed; simulator + bench = per event (trace fold + checker memory pass + stop");
    println!("  check) x events per node + one checker certificate check; rest = host, Malachite core, queue.");
    println!("  Node work = total - (simulator + bench). Finality estimate = virtual consensus time + node work");
    println!("  (goal: under 1 s with 100 sealers).");
    println!("- Part 2: {MEMBERS} members of weight 1 (one governor each), {LIVE_SEALERS} `synod node` processes on");
    println!("  loopback. DefineRole under the 2/3 committee rule: {} of {MEMBERS}.", committee_threshold(MEMBERS));
    let (carried, early, each) = (SUBMITTED_APPROVALS, EARLY_APPROVES, APPROVALS_PER_TX);
    println!("  m0-gov submits it with {carried} approvals; {early} Approve txs of {each} approvals land");
    println!("  (each relayed by its first governor); the final Approve of {APPROVALS_PER_TX} is posted to n0 and");
    println!("  timed until every node's /v1/transactions/{{hash}} (polled every 5 ms) shows it Applied with");
    println!("  ProposalExecuted; {repeats} run(s).");
    println!();
}

fn print_sizes(sizes: &[SizeFigures], units: &UnitCosts) {
    println!("## Part 1: finality and CPU per height (simulation, zero delay)");
    println!();
    println!(
        "unit costs: verify_vote {}, simulator trace fold of one delivered vote {}",
        duration(units.vote_check),
        duration(units.trace_fold)
    );
    println!();
    println!(
        "| sealers | heights | period (virtual) | consensus to >2/3 / all (virtual) | later rounds | wall / height \
         (cluster) | CPU / height (cluster) | CPU / node / height | events / height |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in sizes {
        println!(
            "| {} | {} | {:.0} ms (interval {} ms) | {} ms / {} ms | {} | {} | {} | {} | {:.0} |",
            s.sealers,
            s.heights,
            s.period_ms,
            s.block_interval_ms,
            s.quorum_ms,
            s.all_ms,
            s.later_rounds,
            duration(s.wall_per_height()),
            s.cpu.map_or_else(|| "n/a".to_owned(), |_| duration(s.per_height())),
            duration(s.per_node_height()),
            s.events_per_height(),
        );
    }
    println!();
    println!(
        "| sealers | CPU / node / height | vote checks, 2(n-1) | own certificate re-checked, 2c | empty block \
         executed | rest (host, core, queue) | simulator + bench | node work | finality estimate |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in sizes {
        let b = Breakdown::new(s, units);
        let total = millis(s.per_node_height()).max(f64::MIN_POSITIVE);
        let part = |d: Duration| format!("{} ({:.0}%)", duration(d), 100.0 * millis(d) / total);
        println!(
            "| {} | {} | {} | {} (c = {}) | {} | {} | {} | {} | {} |",
            s.sealers,
            duration(s.per_node_height()),
            part(b.votes),
            part(b.certificate),
            s.certificate_signatures,
            part(b.block),
            part(b.rest),
            part(b.simulator),
            duration(b.node_work()),
            duration(Duration::from_millis(s.all_ms).saturating_add(b.node_work())),
        );
    }
    println!();
    println!(
        "| sealers | simulator + bench, per node and height: trace folds | checker memory passes (one) | checker \
         certificate | stop checks (one) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for s in sizes {
        let events = s.events_per_height() / s.sealers.max(1) as f64;
        println!(
            "| {} | {} | {} ({}) | {} | {} ({}) |",
            s.sealers,
            duration(units.trace_fold.mul_f64(events)),
            duration(s.checker_pass.mul_f64(events)),
            duration(s.checker_pass),
            duration(s.certificate_check),
            duration(s.stop_check.mul_f64(events)),
            duration(s.stop_check),
        );
    }
    println!();
}

fn print_committee(c: &CommitteeFigures) {
    println!("## Part 2: a {}-member committee proposal, {} approvals, live network", c.members, c.approvals);
    println!();
    let approves: Vec<String> = c.approve_bytes.iter().map(usize::to_string).collect();
    let runs: Vec<String> = c.latency.iter().map(|d| duration(*d)).collect();
    let first: Vec<String> = c.latency_first.iter().map(|d| duration(*d)).collect();
    let rows = [
        ("sealers (processes) / members", format!("{LIVE_SEALERS} / {}", c.members)),
        ("block interval", format!("{} ms", c.block_interval_ms)),
        ("one approval", format!("{} bytes", c.approval_bytes)),
        ("SubmitProposal with its approvals", format!("{} bytes ({SUBMITTED_APPROVALS} approvals)", c.submit_bytes)),
        (
            "Approve transactions (final last)",
            format!("{} bytes ({APPROVALS_PER_TX} approvals each)", approves.join(", ")),
        ),
        ("final approval -> executed on every node", runs.join(", ")),
        ("  median", duration(median(&c.latency))),
        ("final approval -> executed on n0", first.join(", ")),
        ("executing the final approval's block in process", duration(c.execution)),
    ];
    let width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    for (name, value) in rows {
        println!("{name:<width$}  {value}");
    }
    println!();
}

fn summary(sizes: &[SizeFigures], units: &UnitCosts, committee: &CommitteeFigures) -> String {
    let each: Vec<String> = sizes
        .iter()
        .map(|s| {
            let b = Breakdown::new(s, units);
            format!(
                "{} sealers {} ms + {} CPU/node/height ({} node work)",
                s.sealers,
                s.all_ms,
                duration(s.per_node_height()),
                duration(b.node_work())
            )
        })
        .collect();
    let goal = sizes.iter().find(|s| s.sealers == GOAL_SEALERS).map(|s| {
        let estimate = millis(Duration::from_millis(s.all_ms).saturating_add(Breakdown::new(s, units).node_work()));
        let verdict = if estimate < GOAL_MS { "met" } else { "missed" };
        format!("{GOAL_SEALERS}-sealer finality estimate {estimate:.0} ms (goal < 1 s: {verdict})")
    });
    format!(
        "bench-scale: zero-delay simulation, consensus time (virtual) + CPU per node per height: {}; {}; {}-member \
         committee proposal at {} approvals on {LIVE_SEALERS} live sealers: final approval to executed on every node \
         median {} ({} runs), final Approve {} bytes, submission {} bytes",
        each.join(", "),
        goal.unwrap_or_else(|| format!("{GOAL_SEALERS} sealers not measured")),
        committee.members,
        committee.approvals,
        duration(median(&committee.latency)),
        committee.latency.len(),
        committee.approve_bytes.last().copied().unwrap_or(0),
        committee.submit_bytes,
    )
}

/// `synod bench --scale`: prints the method, runs both parts, prints their tables and the `bench-scale:` line.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let sizes: &[(usize, u64)] = if args.quick { &QUICK_SIZES } else { &SIZES };
    let repeats = if args.quick { REPEATS.1 } else { REPEATS.0 };
    print_method(args.quick, args.seed, sizes, repeats);
    let units = unit_costs()?;
    let mut figures = Vec::new();
    for &(sealers, heights) in sizes {
        let started = now();
        let size = simulate(sealers, heights, args.seed)?;
        eprintln!("  {sealers} sealers: {heights} heights measured, {} in all", duration(started.elapsed()));
        figures.push(size);
    }
    print_sizes(&figures, &units);
    let committee = committee(repeats)?;
    print_committee(&committee);
    println!("{}", summary(&figures, &units, &committee));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two thirds of 200 equal weights is 134 approvals, and more than two thirds of 4 nodes is 3.
    #[test]
    fn thresholds() {
        assert_eq!(committee_threshold(200), 134);
        assert_eq!(two_thirds_plus(4), 3);
        assert_eq!(two_thirds_plus(100), 67);
    }

    /// The committee genesis keeps 200 members with a governor each and four sealers, and the round's approvals
    /// add up to the threshold: the submission's, five early batches and the final one.
    #[test]
    fn committee_round_adds_up() {
        let genesis = committee_genesis().expect("genesis");
        assert_eq!(genesis.nodes.len(), LIVE_SEALERS);
        let round = committee_round(&genesis.identity(), 0, 10).expect("round");
        let count = |tx: &SignedTransaction| match &tx.tx.payload {
            Payload::SubmitProposal { approvals, .. } | Payload::Approve { approvals, .. } => approvals.len(),
            _ => 0,
        };
        let total = count(&round.submit) + round.early.iter().map(count).sum::<usize>() + count(&round.last);
        assert_eq!(total, 134);
    }
}
