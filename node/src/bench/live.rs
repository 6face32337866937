//! `synod bench --live`: the same figures as the in-process benchmark, measured on a real network: four `synod
//! node` processes on loopback, each with its own RocksDB store, talking over the authenticated p2p transport and
//! fed through their HTTP APIs.
//!
//! # Method
//!
//! - **Network.** A fresh directory holds the benchmark genesis ([`super::genesis`]: the testkit's four members
//!   and sealers `n0..n3` plus one account per throughput target, blocks every `block_interval_ms`, default 1 s)
//!   and four node homes on free loopback ports. The nodes start and the run waits until every node has
//!   finalised height 2. The directory is removed at the end; the nodes are killed even when the run fails.
//! - **Saturation throughput.** A ladder of offered rates (tx/s). At each rate `r`, `r × step` pre-signed
//!   transactions (each a compliance officer's one-action proposal freezing or unfreezing one distinct account,
//!   carrying the officer's approval, so it executes in the block that includes it) are posted as canonical bytes
//!   to `POST /v1/transactions`, a quarter to each node, each sender thread pacing its share evenly over `step`
//!   seconds. `n0`'s `/v1/status` and `/v1/blocks/{h}` are polled every 20 ms until it has finalised blocks
//!   holding all of them. Achieved throughput = the rate the chain committed them, from block header times: the
//!   transactions after the first block that carried any, ÷ the time from that block to the last (a block holds
//!   what arrived since the block before it, so the first block's share arrived before the timed span). With a
//!   single carrying block, its transactions ÷ one block interval. A chain that falls behind spreads the load
//!   over more, or slower, blocks.
//!   Afterwards every transaction's receipt on `n0` must say `Applied` (untimed). The ladder stops at the first
//!   rate the network cannot keep up with (achieved < 80 % of offered) or at the account limit; the saturation
//!   throughput is the highest achieved rate.
//! - **Apply latency.** `R` times: a `DefineRole` committee proposal lands with two of the three approvals it
//!   needs; then the final approval is posted to `n0` and the clock runs until **every** node's
//!   `/v1/transactions/{hash}` (polled every 5 ms) shows it applied with the proposal executed. p50 and p99
//!   (nearest rank). Goals: p50 ≤ block interval + 100 ms, p99 ≤ 2 × block interval.
//! - **Verify limit, same run.** The ed25519 figures of the in-process benchmark, measured in this process before
//!   the load starts, and the same limit: `cores × batch rate ÷ (4 nodes × 4.5 verifications per transaction per
//!   node)`. Goal: saturation throughput ≥ 50 % of it. The four nodes share this machine's cores with each other
//!   and with the load generator.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use governance_contracts::codec::encode;
use governance_contracts::ids::{Height, NodeId, TxHash};
use governance_contracts::testkit::secret;
use governance_contracts::types::action::NodeKind;
use governance_contracts::types::{Action, Receipt, SignedTransaction};
use serde_json::Value;

use super::{BenchArgs, NODES, OFFICER, Plan, Signer, VerifyRates, executed, now, rate, verify_rates};
use crate::localnet::{LocalNetwork, LocalNode, free_ports, spawn_node};

/// Largest API answer read.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// How long the network may take to start, and any one wait.
const WAIT: Duration = Duration::from_secs(120);
/// Seconds of load per rung of the ladder.
const STEP_SECONDS: u64 = 5;
/// The offered rates, tx/s.
const LADDER: [u64; 7] = [50, 100, 200, 300, 400, 550, 750];
/// The offered rates of a `--quick` run.
const QUICK_LADDER: [u64; 2] = [50, 200];
/// A rung is kept up with when at least this share of the offered rate is achieved.
const KEEPING_UP: f64 = 0.8;

/// The live figures.
#[derive(Debug, Clone)]
pub struct LiveReport {
    /// Offered and achieved rate of each rung, tx/s.
    pub ladder: Vec<(u64, f64)>,
    /// The highest achieved rate.
    pub saturation: f64,
    /// Apply latency samples.
    pub latency: Vec<Duration>,
    /// The chain's block interval.
    pub block_interval_ms: u64,
    /// ed25519 rates of this machine.
    pub verify: VerifyRates,
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

    /// How many transactions block `height` holds, and its header time.
    fn block_transactions(&self, base: &str, height: u64) -> anyhow::Result<(u64, u64)> {
        let (code, block) = self.get(&format!("{base}/v1/blocks/{height}"))?;
        ensure!(code == 200, "{base}/v1/blocks/{height}: {code} {block}");
        let count = block["block"]["transactions"]
            .as_array()
            .map(|t| t.len() as u64)
            .with_context(|| format!("{base}/v1/blocks/{height}: no transaction list: {block}"))?;
        let time_ms = block["block"]["header"]["time_ms"]
            .as_u64()
            .with_context(|| format!("{base}/v1/blocks/{height}: no header time: {block}"))?;
        Ok((count, time_ms))
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

/// Writes and starts the benchmark network in `dir`.
fn start_network(dir: &Path, accounts: u64) -> anyhow::Result<(LocalNetwork, Processes)> {
    let genesis = super::genesis(accounts)?;
    let ports = free_ports(NODES.saturating_mul(2))?;
    let mut nodes = Vec::new();
    for i in 0..NODES {
        let name = format!("n{i}");
        let node = LocalNode {
            id: NodeId::new(name.clone())?,
            kind: NodeKind::Sealer,
            home: dir.join("nodes").join(&name),
            p2p: std::net::SocketAddr::from(([127, 0, 0, 1], ports[i])),
            api: std::net::SocketAddr::from(([127, 0, 0, 1], ports[i.saturating_add(NODES)])),
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

/// Posts `txs` spread over the nodes, paced evenly at `offered` tx/s, and returns when all are posted.
fn send_paced(urls: &[String], txs: &[SignedTransaction], offered: u64) -> anyhow::Result<()> {
    let senders = urls.len().max(1);
    let share = offered as f64 / senders as f64;
    std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .enumerate()
            .map(|(s, base)| {
                let mine: Vec<&SignedTransaction> = txs.iter().skip(s).step_by(senders).collect();
                scope.spawn(move || -> anyhow::Result<()> {
                    let api = Api::new();
                    let started = now();
                    for (j, tx) in mine.into_iter().enumerate() {
                        let due = Duration::from_secs_f64(j as f64 / share);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        api.post_tx(base, tx)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| anyhow::anyhow!("a sender thread panicked"))??;
        }
        anyhow::Ok(())
    })
}

/// Runs the throughput ladder.
fn ladder(network: &LocalNetwork, signer: &Signer, plan: &Plan, accounts: u64) -> anyhow::Result<Vec<(u64, f64)>> {
    let api = Api::new();
    let urls: Vec<String> = network.nodes.iter().map(LocalNode::url).collect();
    let base = urls.first().context("no node")?.clone();
    let rungs: &[u64] = if plan.quick { &QUICK_LADDER } else { &LADDER };
    let mut frozen = vec![false; usize::try_from(accounts)?];
    let interval_ms = network.genesis.params.block_interval_ms;
    let mut results = Vec::new();
    let mut salt = 0u64;
    for &offered in rungs {
        let count = offered.saturating_mul(STEP_SECONDS);
        if count > accounts {
            println!("  {offered} tx/s would need {count} accounts (the genesis holds {accounts}): ladder ends");
            break;
        }
        let height = api.height(&base)?;
        let valid_until = Height(height.saturating_add(super::TX_TTL));
        let mut txs = Vec::new();
        for i in 0..count {
            let index = usize::try_from(i)?;
            let account = governance_contracts::testkit::account(&super::target(i));
            let action =
                if frozen[index] { Action::UnfreezeAccount { account } } else { Action::FreezeAccount { account } };
            salt = salt.saturating_add(1);
            txs.push(signer.one_action(action, valid_until, salt)?);
        }
        let start_height = api.height(&base)?;
        let started = now();
        send_paced(&urls, &txs, offered)?;
        let mut seen_height = start_height;
        let mut included = 0u64;
        // The first block that carried the load (its header time and transactions) and the last one's time.
        let mut span: Option<((u64, u64), u64)> = None;
        poll(&format!("{count} transactions at {offered} tx/s to be finalised"), Duration::from_millis(20), || {
            let height = api.height(&base)?;
            while seen_height < height {
                seen_height = seen_height.saturating_add(1);
                let (carried, time_ms) = api.block_transactions(&base, seen_height)?;
                if carried > 0 {
                    span = Some(span.map_or(((time_ms, carried), time_ms), |(first, _)| (first, time_ms)));
                }
                included = included.saturating_add(carried);
            }
            Ok(included >= count)
        })?;
        let elapsed = started.elapsed();
        let ((first_ms, first_count), last_ms) = span.context("no block carried the load")?;
        let (timed, committing) = if last_ms > first_ms {
            (count.saturating_sub(first_count), Duration::from_millis(last_ms.saturating_sub(first_ms)))
        } else {
            (count, Duration::from_millis(interval_ms))
        };
        for tx in &txs {
            let hash = tx.tx.hash(&signer.chain);
            let receipt = api.receipt(&base, &hash)?.with_context(|| format!("transaction {hash} not finalised"))?;
            ensure!(executed(&receipt, None), "transaction {hash} was not applied: {receipt:?}");
        }
        for flag in frozen.iter_mut().take(usize::try_from(count)?) {
            *flag = !*flag;
        }
        let achieved = rate(timed as f64, committing);
        println!(
            "  offered {offered:>5} tx/s: {count:>5} transactions in blocks spanning {committing:.2?}: \
             {achieved:>7.1} tx/s (the last finalised {elapsed:.2?} after the first post)"
        );
        results.push((offered, achieved));
        if achieved < offered as f64 * KEEPING_UP {
            break;
        }
    }
    Ok(results)
}

/// Measures the apply latency of a final approval, `repeats` times.
fn apply_latency(network: &LocalNetwork, signer: &Signer, repeats: u64) -> anyhow::Result<Vec<Duration>> {
    let api = Api::new();
    let urls: Vec<String> = network.nodes.iter().map(LocalNode::url).collect();
    let base = urls.first().context("no node")?.clone();
    let mut samples = Vec::new();
    for repeat in 0..repeats {
        let height = Height(api.height(&base)?);
        let (_, submit, approve) = signer.committee_pair(repeat.saturating_add(1_000), height)?;
        let submit_hash = submit.tx.hash(&signer.chain);
        api.post_tx(&base, &submit)?;
        poll("the proposal to land", Duration::from_millis(20), || Ok(api.receipt(&base, &submit_hash)?.is_some()))?;
        let approve_hash = approve.tx.hash(&signer.chain);
        let started = now();
        api.post_tx(&base, &approve)?;
        let mut done = vec![false; urls.len()];
        poll("the final approval to apply on every node", Duration::from_millis(5), || {
            for (url, done) in urls.iter().zip(done.iter_mut()) {
                if !*done {
                    *done = api.receipt(url, &approve_hash)?.is_some_and(|r| executed(&r, None));
                }
            }
            Ok(done.iter().all(|d| *d))
        })?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// The `percent`th percentile (nearest rank) of `samples`.
fn percentile(samples: &[Duration], percent: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let index = sorted.len().saturating_mul(percent).div_ceil(100).saturating_sub(1);
    sorted.get(index).copied().unwrap_or_default()
}

/// Runs the live benchmark and prints its figures.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let plan = Plan::new(args);
    println!(
        "# synod bench --live{}",
        if plan.quick { " (--quick: a smoke run, figures indicative only)" } else { "" }
    );
    println!();
    println!("Method: four `synod node` processes on loopback (see `node/src/bench/live.rs` for the full method).");
    let verify = verify_rates(&plan)?;
    let rungs: &[u64] = if plan.quick { &QUICK_LADDER } else { &LADDER };
    let accounts = rungs.iter().map(|r| r.saturating_mul(STEP_SECONDS)).max().unwrap_or(0).min(super::MAX_TRANSACTIONS);
    let dir = tempfile::tempdir().context("cannot create the benchmark directory")?;
    let (network, processes) = start_network(dir.path(), accounts)?;
    let block_interval_ms = network.genesis.params.block_interval_ms;
    let signer = Signer { chain: network.genesis.identity(), officer: secret(OFFICER) };
    println!();
    println!("Throughput ladder ({STEP_SECONDS} s of load per rung):");
    let ladder = ladder(&network, &signer, &plan, accounts)?;
    let latency = apply_latency(&network, &signer, plan.repeats)?;
    drop(processes);
    let saturation = ladder.iter().map(|(_, achieved)| *achieved).fold(0.0, f64::max);
    let report = LiveReport { ladder, saturation, latency, block_interval_ms, verify };
    print_report(&report);
    Ok(())
}

fn print_report(report: &LiveReport) {
    let limit = report.verify.limit();
    let interval = Duration::from_millis(report.block_interval_ms);
    let (p50, p99) = (percentile(&report.latency, 50), percentile(&report.latency, 99));
    println!();
    println!("| figure | value | goal |");
    println!("|---|---|---|");
    println!("| ed25519 strict verify | {:.0}/s | |", report.verify.single);
    println!("| ed25519 batch verify (64) | {:.0} sig/s | |", report.verify.batch);
    println!("| verify limit ({} cores) | {limit:.0} tx/s | |", report.verify.cores);
    println!(
        "| saturation throughput | {:.1} tx/s ({:.1} % of the limit) | ≥ 50 % |",
        report.saturation,
        report.saturation / limit * 100.0
    );
    println!(
        "| apply latency p50 ({} samples) | {p50:.1?} | ≤ {:?} |",
        report.latency.len(),
        interval.saturating_add(Duration::from_millis(100))
    );
    println!("| apply latency p99 | {p99:.1?} | ≤ {:?} |", interval.saturating_mul(2));
}
