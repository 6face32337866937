//! `synod bench`: what an in-process cluster of four sealers achieves on this machine, set against what the
//! machine's ed25519 signature checks would allow.
//!
//! A program that prints figures, not a test: no time is asserted. It fails (non-zero exit) only when the run
//! itself is wrong: a transaction rejected or never finalised, a safety violation, a liveness failure.
//!
//! # Method
//!
//! - **Cluster.** A [`Simulation`] of four sealers (`n0..n3`) with no network delay
//!   (`min_delay_ms = max_delay_ms = 0`) and no faults. Virtual time makes the protocol's waits (the 1 s block
//!   interval, timeouts) free; the wall clock measures the work the four nodes do. The simulation drives all
//!   four nodes **on one thread**, one event at a time.
//! - **Throughput.** Before the clock starts the cluster finalises one empty block (start-up is not measured)
//!   and `K` transactions are signed: each is a `SubmitProposal` by the compliance account `m0-compliance` of
//!   one `FreezeAccount` action over a distinct account (`bench-0..`, added to the testkit genesis, which holds
//!   at most 4,096 accounts) carrying the officer's own approval, so it executes at once under the compliance
//!   role rule. The clock covers submitting all `K` to every node and running until every node has finalised
//!   all `K`; throughput is `K ÷ wall seconds`. Every receipt on every node must be `Applied` with a
//!   `ProposalExecuted` event, or the bench fails.
//! - **Approval latency.** `R` times: a `DefineRole` proposal (the default policy's two-thirds committee rule:
//!   3 of the 4 governors) is submitted by `m0-gov` with the approvals of `m0-gov` and `m1-gov` and lands; then
//!   `m2-gov`'s final `Approve` is signed, the clocks start, it is submitted to every node, and the clocks stop
//!   when every node has finalised the block in which the proposal executed. Median and p90 (nearest rank) of
//!   the wall and the virtual clock.
//! - **Signature verifications per transaction.** A transaction carries two signatures: its own and the
//!   officer's approval (`verify_all` takes the strict single path below four items). Each node verifies each
//!   once, when it admits the transaction to its mempool, and finds them in its set of verified signatures
//!   when it builds, checks and executes the block (`consensus::signatures`): 2 per transaction per node
//!   ([`NODE_VERIFICATIONS`]), 8 per transaction in the cluster ([`CLUSTER_VERIFICATIONS`]). Consensus votes and
//!   proposals add about seven per node per *block*, not per transaction, and are left out.
//! - **CPU per transaction.** The simulation runs on one thread, so its wall time is CPU time:
//!   `wall ÷ K ÷ 4` is one node's CPU per transaction, and `1 ÷ that` the transactions one core replicates per
//!   second as one of four nodes.
//! - **ed25519, same run.** Single: strict `PublicKey::verify` over 256 distinct keys and digests. Batch:
//!   `crypto::verify_all` over batches of 64 distinct keys and digests. Each is timed in samples after an
//!   untimed one; the rate is taken from the median sample.
//! - **Limit and ratio.** `limit = cores × strict verify rate ÷ (4 nodes × 2 verifications per transaction
//!   per node)`, with cores = `std::thread::available_parallelism()`; `ratio = throughput ÷ limit`. The goal is
//!   at least 50 %. Because the simulation runs on one thread, the ratio sets one core's work against a limit
//!   that assumes every core; the one-core ratio is printed beside it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::crypto::{Digest, SecretKey, SignedDigest, verify_all};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, ProposalId, RoleId, TxHash};
use governance_contracts::testkit::{self, account, member, public, secret};
use governance_contracts::types::{
    Action, Event, Genesis, GenesisAccount, Outcome, Payload, Principal, Proposal, Receipt, RoleDefinition, RoleScope,
    SignedTransaction, Transaction,
};

use crate::consensus::host::DecidedBlock;

pub mod live;
pub mod scale;
use crate::sim::{SimConfig, SimReport, Simulation};

/// Sealers in the benchmarked cluster.
pub const NODES: usize = 4;
/// Most transactions a throughput run may use: the genesis holds at most 4,096 accounts, six of them the
/// testkit's own.
pub const MAX_TRANSACTIONS: u64 = 4_000;
/// Signature verifications every node does per transaction: the transaction's and its approval's, once each (at
/// admission; building, checking and executing the block find them verified).
pub const NODE_VERIFICATIONS: u64 = 2;
/// Signature verifications per transaction over the whole cluster.
pub const CLUSTER_VERIFICATIONS: u64 = 8;
/// Signatures per batch in the batch-verify figure.
pub const BATCH: usize = 64;
/// The compliance officer that signs every throughput transaction.
const OFFICER: &str = "m0-compliance";
/// How many blocks a benchmark transaction stays valid.
const TX_TTL: u64 = 200;
/// Distinct signed digests the verify figures cycle through (four batches).
const VERIFY_POOL: usize = 256;
/// The goal: throughput at least this share of the limit.
const GOAL: f64 = 0.5;

/// `synod bench`: throughput and approval latency of an in-process four-sealer cluster, beside this machine's
/// ed25519 verify rates and the limit they set.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BenchArgs {
    /// Pre-signed role-checked transactions in the throughput run [default: 2000, or 200 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_TRANSACTIONS))]
    pub transactions: Option<u64>,
    /// Times the approval latency is measured [default: 20, or 3 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub repeats: Option<u64>,
    /// The simulation's scheduler seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A smoke run: fewer transactions, repeats and verify samples; figures are indicative only.
    #[arg(long)]
    pub quick: bool,
    /// Measure a real network instead: four `synod node` processes on loopback, loaded open-loop through their
    /// HTTP APIs at a ladder of offered rates past saturation (steady throughput from finalised receipts,
    /// submission-to-finality latency, apply latency, the replication limit; see `node/src/bench/live.rs`).
    #[arg(long)]
    pub live: bool,
    /// Measure how consensus and governance scale instead: finality time and CPU per height with 4, 25, 100 and
    /// 200 sealers in the zero-delay simulation, and a 200-member committee proposal with 134 approvals executed
    /// on four live sealers.
    #[arg(long)]
    pub scale: bool,
}

/// How much each figure measures, resolved from [`BenchArgs`].
#[derive(Debug, Clone, Copy)]
struct Plan {
    transactions: u64,
    repeats: u64,
    seed: u64,
    quick: bool,
    /// Timed samples per verify figure.
    verify_samples: usize,
    /// Single verifications per sample.
    verify_ops: usize,
}

impl Plan {
    fn new(args: &BenchArgs) -> Self {
        let (transactions, repeats, verify_samples) = if args.quick { (200, 3, 10) } else { (2_000, 20, 50) };
        Self {
            transactions: args.transactions.unwrap_or(transactions),
            repeats: args.repeats.unwrap_or(repeats),
            seed: args.seed,
            quick: args.quick,
            verify_samples,
            verify_ops: VERIFY_POOL,
        }
    }
}

/// Median and p90 (nearest rank) of a series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread<T> {
    /// The median.
    pub median: T,
    /// The 90th percentile.
    pub p90: T,
}

fn spread<T: Copy + Ord + Default>(samples: &[T]) -> Spread<T> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = |percent: usize| {
        let index = sorted.len().saturating_mul(percent).div_ceil(100).saturating_sub(1);
        sorted.get(index).copied().unwrap_or_default()
    };
    Spread { median: rank(50), p90: rank(90) }
}

/// The throughput run's result.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Transactions submitted.
    pub transactions: u64,
    /// Per node, how many of them it finalised with an `Applied` receipt that executed the proposal.
    pub applied: Vec<u64>,
    /// Blocks that carried them (node 0's view; every node finalises the same blocks).
    pub blocks: u64,
    /// Heights finalised while the clock ran (node 0).
    pub heights: u64,
    /// Wall time of submitting every transaction to every node (part of `wall`).
    pub submit: Duration,
    /// Wall time from the first submission until every node finalised every transaction.
    pub wall: Duration,
    /// Virtual time over the same span.
    pub virtual_ms: u64,
}

impl Throughput {
    /// Transactions per wall-clock second.
    pub fn per_second(&self) -> f64 {
        rate(self.transactions as f64, self.wall)
    }

    /// One node's CPU per transaction: the one thread's wall time shared by every transaction and node.
    pub fn cpu_per_node_tx(&self) -> Duration {
        let work = self.transactions.saturating_mul(NODES as u64).max(1);
        self.wall.div_f64(work as f64)
    }

    /// Transactions one core replicates per second as one of the nodes.
    pub fn per_core_as_node(&self) -> f64 {
        self.per_second() * NODES as f64
    }
}

/// The approval-latency runs' result.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Wall time per repeat, from submitting the final approval until the proposal executed on every node.
    pub wall: Vec<Duration>,
    /// Virtual time per repeat over the same span.
    pub virtual_ms: Vec<u64>,
}

impl Latency {
    /// Median and p90 of the wall times.
    pub fn wall_spread(&self) -> Spread<Duration> {
        spread(&self.wall)
    }

    /// Median and p90 of the virtual times.
    pub fn virtual_spread(&self) -> Spread<u64> {
        spread(&self.virtual_ms)
    }
}

/// The ed25519 figures, measured in the same run.
#[derive(Debug, Clone, Copy)]
pub struct VerifyRates {
    /// Strict single verifications per second (one core).
    pub single: f64,
    /// Signatures per second through `verify_all` in batches of [`BATCH`] (one core).
    pub batch: f64,
    /// `std::thread::available_parallelism()`.
    pub cores: usize,
}

impl VerifyRates {
    /// The throughput the signature checks alone would allow with every core verifying:
    /// `cores × strict rate ÷ CLUSTER_VERIFICATIONS`.
    pub fn limit(&self) -> f64 {
        self.cores as f64 * self.single / CLUSTER_VERIFICATIONS as f64
    }

    /// The same limit on one core.
    pub fn one_core_limit(&self) -> f64 {
        self.single / CLUSTER_VERIFICATIONS as f64
    }
}

/// Everything one `synod bench` run measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Whether this was a `--quick` smoke run.
    pub quick: bool,
    /// The simulation's seed.
    pub seed: u64,
    /// The throughput run.
    pub throughput: Throughput,
    /// The approval-latency runs.
    pub latency: Latency,
    /// The ed25519 figures.
    pub verify: VerifyRates,
}

impl BenchReport {
    /// Achieved throughput as a share of [`VerifyRates::limit`].
    pub fn ratio(&self) -> f64 {
        share(self.throughput.per_second(), self.verify.limit())
    }

    /// The one-line summary, beginning `bench:`.
    pub fn summary(&self) -> String {
        let t = &self.throughput;
        let (wall, virt) = (self.latency.wall_spread(), self.latency.virtual_spread());
        let v = &self.verify;
        let verdict = if self.ratio() >= GOAL { "met" } else { "missed" };
        format!(
            "bench: {NODES} sealers in process, no network delay, one thread; throughput {} tx/s ({} role-checked \
             txs, all applied on {NODES} nodes, {} block(s), {}); approval latency median {} wall / {} ms virtual \
             (p90 {} / {} ms, {} runs); CPU per tx per node {}, {} tx/s per core as one of {NODES} nodes; ed25519 \
             single {}/s, batch-{BATCH} {}/s; limit {} tx/s = {} cores x {} / ({NODES} nodes x {NODE_VERIFICATIONS} \
             verifications per tx per node); ratio {:.1}% (goal 50%: {verdict}; {:.1}% of the one-core limit)",
            thousands(t.per_second()),
            t.transactions,
            t.blocks,
            duration(t.wall),
            duration(wall.median),
            virt.median,
            duration(wall.p90),
            virt.p90,
            self.latency.wall.len(),
            duration(t.cpu_per_node_tx()),
            thousands(t.per_core_as_node()),
            thousands(v.single),
            thousands(v.batch),
            thousands(v.limit()),
            v.cores,
            thousands(v.single),
            100.0 * self.ratio(),
            100.0 * share(t.per_second(), v.one_core_limit()),
        )
    }
}

/// The wall clock. The workspace bans `Instant::now` so that deterministic code never reads it; a benchmark is
/// where real time belongs, and this is the one place the bench reads it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn rate(count: f64, time: Duration) -> f64 {
    let seconds = time.as_secs_f64();
    if seconds > 0.0 { count / seconds } else { 0.0 }
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && digits.len().saturating_sub(i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// The `i`th throughput target account.
fn target(i: u64) -> String {
    format!("bench-{i}")
}

/// [`testkit::genesis`] of [`NODES`] members plus `transactions` ordinary accounts `bench-0..` of `m0`, the
/// member whose compliance officer freezes them, with keys derived from their ids.
pub fn genesis(transactions: u64) -> anyhow::Result<Genesis> {
    let mut genesis = testkit::genesis(NODES);
    for i in 0..transactions {
        let label = target(i);
        let entry = GenesisAccount { account: account(&label), member: member("m0"), key: public(&label) };
        genesis.accounts.try_push(entry).context("genesis accounts")?;
    }
    Ok(genesis)
}

/// Signs transactions for the benchmark on one chain.
struct Signer {
    chain: ChainIdentity,
    officer: SecretKey,
}

impl Signer {
    fn proposal(proposer: &str, action: Action, expires_at: Height, salt: u64) -> anyhow::Result<Proposal> {
        Ok(Proposal {
            proposer: Principal::Account(account(proposer)),
            title: BoundedString::try_new("synod bench")?,
            description: BoundedString::default(),
            actions: BoundedVec::try_new(vec![action])?,
            expires_at,
            salt,
        })
    }

    fn sign(&self, sender: &str, key: &SecretKey, valid_until: Height, payload: Payload) -> SignedTransaction {
        Transaction { sender: Principal::Account(account(sender)), valid_until, payload }.sign(&self.chain, key)
    }

    /// The compliance officer's freeze of `bench-{i}`, carrying its own approval.
    fn freeze(&self, i: u64, valid_until: Height) -> anyhow::Result<SignedTransaction> {
        self.one_action(Action::FreezeAccount { account: account(&target(i)) }, valid_until, i)
    }

    /// The compliance officer's one-action proposal of `action`, carrying its own approval.
    fn one_action(&self, action: Action, valid_until: Height, salt: u64) -> anyhow::Result<SignedTransaction> {
        let proposal = Self::proposal(OFFICER, action, valid_until, salt)?;
        let approval = proposal.approve(&self.chain, account(OFFICER), &self.officer);
        let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval])? };
        Ok(self.sign(OFFICER, &self.officer, valid_until, payload))
    }

    /// `m0-gov`'s `DefineRole` proposal with the approvals of `m0-gov` and `m1-gov` (two thirds of the weight is
    /// three governors, so it waits for one more), and `m2-gov`'s final approval of it.
    fn committee_pair(
        &self,
        repeat: u64,
        height: Height,
    ) -> anyhow::Result<(ProposalId, SignedTransaction, SignedTransaction)> {
        let action = Action::DefineRole {
            role: RoleId::new(format!("bench-role-{repeat}"))?,
            definition: RoleDefinition { scope: RoleScope::Alliance, delegable: false, max_grant_blocks: 1_000 },
        };
        let valid_until = height.plus(TX_TTL);
        let proposal = Self::proposal("m0-gov", action, valid_until, repeat)?;
        let id = proposal.id(&self.chain);
        let approvals =
            ["m0-gov", "m1-gov"].iter().map(|gov| proposal.approve(&self.chain, account(gov), &secret(gov))).collect();
        let submit = self.sign(
            "m0-gov",
            &secret("m0-gov"),
            valid_until,
            Payload::SubmitProposal { proposal: proposal.clone(), approvals: BoundedVec::try_new(approvals)? },
        );
        let last = proposal.approve(&self.chain, account("m2-gov"), &secret("m2-gov"));
        let approve = self.sign(
            "m2-gov",
            &secret("m2-gov"),
            valid_until,
            Payload::Approve { proposal: id, approvals: BoundedVec::try_new(vec![last])? },
        );
        Ok((id, submit, approve))
    }
}

/// Runs the simulation until `done`, failing on a safety violation or a liveness failure.
fn drive(sim: &mut Simulation, what: &str, done: impl FnMut(&Simulation) -> bool) -> anyhow::Result<SimReport> {
    let report = sim.run_until(done).with_context(|| format!("{what}: the simulation stopped"))?;
    ensure!(report.violations.is_empty(), "{what}: safety violations: {:?}", report.violations);
    if let Some(why) = &report.liveness_failure {
        bail!("{what}: liveness failure: {why}");
    }
    Ok(report)
}

/// The lowest height every node has finalised.
fn common_height(sim: &Simulation) -> Height {
    (0..NODES).map(|i| sim.decided(i).last().map_or(Height(0), |d| d.block.header.height)).min().unwrap_or(Height(0))
}

/// How many blocks each node has finalised so far: where a later step's blocks begin.
fn marks(sim: &Simulation) -> Vec<usize> {
    (0..NODES).map(|i| sim.decided(i).len()).collect()
}

/// Node `i`'s blocks finalised since `marks`.
fn since<'a>(sim: &'a Simulation, marks: &[usize], i: usize) -> &'a [DecidedBlock] {
    let blocks = sim.decided(i);
    blocks.get(marks.get(i).copied().unwrap_or(0)..).unwrap_or_default()
}

/// Node `i`'s receipt for `hash` among its blocks since `marks`.
fn receipt<'a>(sim: &'a Simulation, marks: &[usize], i: usize, hash: &TxHash) -> Option<&'a Receipt> {
    since(sim, marks, i).iter().flat_map(|d| d.receipts.iter()).find(|r| r.tx == *hash)
}

fn executed(receipt: &Receipt, proposal: Option<&ProposalId>) -> bool {
    receipt.outcome == Outcome::Applied
        && receipt
            .events
            .iter()
            .any(|e| matches!(e, Event::ProposalExecuted { proposal: p, .. } if proposal.is_none_or(|id| id == p)))
}

/// Counts the transactions of `hashes` that `blocks` hold with an `Applied` receipt that executed their proposal;
/// fails, naming the first, if any is missing, rejected or not executed.
pub fn count_executed(blocks: &[DecidedBlock], hashes: &[TxHash]) -> anyhow::Result<u64> {
    let wanted: BTreeSet<&TxHash> = hashes.iter().collect();
    let mut seen = BTreeSet::new();
    for receipt in blocks.iter().flat_map(|d| d.receipts.iter()).filter(|r| wanted.contains(&r.tx)) {
        ensure!(executed(receipt, None), "transaction {} did not execute: {receipt:?}", receipt.tx);
        ensure!(seen.insert(receipt.tx), "transaction {} finalised twice", receipt.tx);
    }
    if let Some(missing) = hashes.iter().find(|h| !seen.contains(h)) {
        bail!("transaction {missing} was never finalised ({} of {} were)", seen.len(), hashes.len());
    }
    u64::try_from(seen.len()).context("count")
}

fn cluster(plan: &Plan, genesis: Genesis) -> anyhow::Result<Simulation> {
    let mut config = SimConfig::new(NODES, plan.seed, 1);
    config.min_delay_ms = 0;
    config.max_delay_ms = 0;
    // Virtual time is free: a day is far more than any run needs, and only bounds a stuck one.
    config.max_time_ms = 86_400_000;
    Simulation::with_genesis(config, genesis).context("the cluster")
}

fn throughput(plan: &Plan, sim: &mut Simulation, signer: &Signer) -> anyhow::Result<Throughput> {
    let before = drive(sim, "start-up", |s| (0..NODES).all(|i| !s.decided(i).is_empty()))?;
    let valid_until = common_height(sim).plus(TX_TTL);
    let txs = (0..plan.transactions).map(|i| signer.freeze(i, valid_until)).collect::<anyhow::Result<Vec<_>>>()?;
    let hashes: Vec<TxHash> = txs.iter().map(|tx| tx.tx.hash(&signer.chain)).collect();
    let count = txs.len();
    let marks = marks(sim);
    let included =
        |s: &Simulation, i: usize| since(s, &marks, i).iter().map(|d| d.block.transactions.len()).sum::<usize>();

    let started = now();
    for tx in &txs {
        let admitted = sim.submit_all(tx);
        ensure!(admitted == NODES, "throughput: only {admitted} of {NODES} mempools admitted a transaction");
    }
    let submit = started.elapsed();
    let after =
        drive(sim, "throughput", |s| (0..NODES).all(|i| included(s, i) >= count) || common_height(s) > valid_until)?;
    let wall = started.elapsed();

    let mut applied = Vec::with_capacity(NODES);
    for i in 0..NODES {
        let n = count_executed(since(sim, &marks, i), &hashes).with_context(|| format!("throughput, node n{i}"))?;
        applied.push(n);
    }
    let blocks = since(sim, &marks, 0);
    Ok(Throughput {
        transactions: plan.transactions,
        applied,
        blocks: u64::try_from(blocks.iter().filter(|d| !d.block.transactions.is_empty()).count())?,
        heights: u64::try_from(blocks.len())?,
        submit,
        wall,
        virtual_ms: after.time_ms.saturating_sub(before.time_ms),
    })
}

fn latency(plan: &Plan, sim: &mut Simulation, signer: &Signer) -> anyhow::Result<Latency> {
    let mut wall = Vec::new();
    let mut virtual_ms = Vec::new();
    for repeat in 0..plan.repeats {
        let what = format!("approval latency, run {}", repeat.saturating_add(1));
        let (id, submit, approve) = signer.committee_pair(repeat, common_height(sim))?;
        let submit_hash = submit.tx.hash(&signer.chain);
        let marks_submit = marks(sim);
        let admitted = sim.submit_all(&submit);
        ensure!(admitted == NODES, "{what}: only {admitted} of {NODES} mempools admitted the proposal");
        let landed = drive(sim, &what, |s| (0..NODES).all(|i| receipt(s, &marks_submit, i, &submit_hash).is_some()))?;
        for i in 0..NODES {
            let r = receipt(sim, &marks_submit, i, &submit_hash).context("the submission landed")?;
            ensure!(r.outcome == Outcome::Applied, "{what}: the submission was refused on n{i}: {r:?}");
            ensure!(!executed(r, Some(&id)), "{what}: the proposal executed without its final approval on n{i}");
        }

        let approve_hash = approve.tx.hash(&signer.chain);
        let marks_approve = marks(sim);
        let started = now();
        let admitted = sim.submit_all(&approve);
        ensure!(admitted == NODES, "{what}: only {admitted} of {NODES} mempools admitted the approval");
        let done = drive(sim, &what, |s| {
            (0..NODES).all(|i| receipt(s, &marks_approve, i, &approve_hash).is_some_and(|r| executed(r, Some(&id))))
                || common_height(s) > approve.tx.valid_until
        })?;
        let elapsed = started.elapsed();
        for i in 0..NODES {
            let r = receipt(sim, &marks_approve, i, &approve_hash);
            ensure!(
                r.is_some_and(|r| executed(r, Some(&id))),
                "{what}: the final approval did not execute the proposal on n{i}: {r:?}"
            );
        }
        wall.push(elapsed);
        virtual_ms.push(done.time_ms.saturating_sub(landed.time_ms));
    }
    Ok(Latency { wall, virtual_ms })
}

/// Median time of `samples` timed calls of `f`, after one untimed call.
fn median_time(samples: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    f()?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = now();
        f()?;
        times.push(started.elapsed());
    }
    Ok(spread(&times).median)
}

fn verify_rates(plan: &Plan) -> anyhow::Result<VerifyRates> {
    let pool: Vec<SignedDigest> = (0..VERIFY_POOL)
        .map(|i| {
            let key = secret(&format!("bench-verify-{i}"));
            let digest = Digest::sha256(&[b"synod-bench-verify", &i.to_le_bytes()]);
            SignedDigest { key: key.public_key(), digest, signature: key.sign(&digest) }
        })
        .collect();
    let ops = plan.verify_ops;
    let single = median_time(plan.verify_samples, || {
        let valid = pool
            .iter()
            .cycle()
            .take(ops)
            .filter(|i| i.key.verify(std::hint::black_box(&i.digest), std::hint::black_box(&i.signature)))
            .count();
        ensure!(valid == ops, "a valid signature failed strict verification");
        Ok(())
    })?;
    let batch = median_time(plan.verify_samples, || {
        for chunk in pool.chunks(BATCH) {
            ensure!(verify_all(std::hint::black_box(chunk)).is_ok(), "a valid batch failed verification");
        }
        Ok(())
    })?;
    Ok(VerifyRates {
        single: rate(ops as f64, single),
        batch: rate(pool.len() as f64, batch),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
    })
}

/// Runs every measurement and returns the figures; fails if any transaction is not applied on every node.
pub fn measure(args: &BenchArgs) -> anyhow::Result<BenchReport> {
    let plan = Plan::new(args);
    let genesis = genesis(plan.transactions)?;
    let signer = Signer { chain: genesis.identity(), officer: secret(OFFICER) };
    let mut sim = cluster(&plan, genesis)?;
    let throughput = throughput(&plan, &mut sim, &signer)?;
    let latency = latency(&plan, &mut sim, &signer)?;
    let verify = verify_rates(&plan)?;
    Ok(BenchReport { quick: plan.quick, seed: plan.seed, throughput, latency, verify })
}

fn print_method(plan: &Plan) {
    let profile = if cfg!(debug_assertions) {
        "debug assertions on: Synod's own crates (node, contracts) are unoptimised, its dependencies (ed25519, \
         consensus core) optimised (the test profile); a release build would run the nodes' own code faster"
    } else {
        "optimised"
    };
    let (k, r) = (plan.transactions, plan.repeats);
    println!("# synod bench{}", if plan.quick { " (--quick: a smoke run, figures indicative only)" } else { "" });
    println!();
    println!("Method:");
    println!("- Build: {profile}.");
    println!(
        "- Cluster: the deterministic simulation, {NODES} sealers, no network delay, no faults, seed {}.",
        plan.seed
    );
    println!("  Virtual time makes protocol waits (1 s block interval, timeouts) free; the wall clock measures the");
    println!("  work of the four nodes, which the simulation drives ON ONE THREAD.");
    println!("- Throughput: {k} SubmitProposal(FreezeAccount) transactions by m0-compliance, each over its own");
    println!("  account with the officer's approval (compliance role rule), signed before the clock starts;");
    println!("  clock = submit to all {NODES} nodes + run until every node finalised all {k}; every receipt must be");
    println!("  Applied with ProposalExecuted. tx/s = {k} / wall seconds.");
    println!("- Approval latency, {r} runs: a DefineRole proposal with 2 of the 3 governor approvals it needs lands;");
    println!("  the final Approve (m2-gov) is then submitted and timed until the proposal executed on every node.");
    println!("- Signature verifications per tx: the tx signature and its approval, each verified once per node at");
    println!(
        "  admission and found verified when the block is built, checked and executed: {NODE_VERIFICATIONS} per tx per node,"
    );
    println!("  {CLUSTER_VERIFICATIONS} per tx in the cluster, each a strict single verify.");
    println!(
        "- CPU per tx per node = wall / {k} / {NODES} (one thread); tx/s per core as one of {NODES} nodes = its inverse."
    );
    println!("- ed25519 in this run: strict PublicKey::verify and crypto::verify_all in batches of {BATCH}, over");
    println!(
        "  {VERIFY_POOL} distinct keys and digests, {} timed samples each, rate from the median sample.",
        plan.verify_samples
    );
    println!(
        "- limit = cores x strict rate / ({NODES} nodes x {NODE_VERIFICATIONS}); ratio = throughput / limit (goal >= 50%)."
    );
    println!("  The simulation uses one core, so the ratio sets one core's work against every core's limit;");
    println!("  the ratio to the one-core limit is printed beside it.");
    println!();
}

fn print_table(report: &BenchReport) {
    let t = &report.throughput;
    let (wall, virt) = (report.latency.wall_spread(), report.latency.virtual_spread());
    let v = &report.verify;
    let applied: Vec<String> = t.applied.iter().map(u64::to_string).collect();
    let rows = [
        ("throughput", format!("{} tx/s", thousands(t.per_second()))),
        ("  transactions (applied per node)", format!("{} ({})", t.transactions, applied.join(", "))),
        ("  blocks carrying them / heights", format!("{} / {}", t.blocks, t.heights)),
        ("  wall (of which submitting)", format!("{} ({})", duration(t.wall), duration(t.submit))),
        ("  virtual", format!("{} ms", t.virtual_ms)),
        ("approval latency, wall median / p90", format!("{} / {}", duration(wall.median), duration(wall.p90))),
        ("approval latency, virtual median / p90", format!("{} ms / {} ms", virt.median, virt.p90)),
        ("ed25519 strict verify (1 core)", format!("{}/s", thousands(v.single))),
        (&*format!("ed25519 verify_all, batch of {BATCH} (1 core)"), format!("{}/s", thousands(v.batch))),
        ("cores", v.cores.to_string()),
        ("CPU per tx per node", duration(t.cpu_per_node_tx())),
        ("  tx/s per core as one of the nodes", format!("{} tx/s", thousands(t.per_core_as_node()))),
        (&*format!("limit (cores x strict / {CLUSTER_VERIFICATIONS})"), format!("{} tx/s", thousands(v.limit()))),
        ("ratio (goal >= 50%)", format!("{:.1}%", 100.0 * report.ratio())),
        (
            "one-core limit, ratio to it",
            format!(
                "{} tx/s, {:.1}%",
                thousands(v.one_core_limit()),
                100.0 * share(t.per_second(), v.one_core_limit())
            ),
        ),
    ];
    let width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    for (name, value) in rows {
        println!("{name:<width$}  {value}");
    }
    println!();
}

/// `synod bench`: prints the method, measures, prints a table and the `bench:` summary line.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.live {
        return live::run(args);
    }
    if args.scale {
        return scale::run(args);
    }
    let plan = Plan::new(args);
    print_method(&plan);
    let report = measure(args)?;
    print_table(&report);
    println!("{}", report.summary());
    Ok(())
}
