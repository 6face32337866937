//! `synod bench --live`: four `synod node` processes on loopback, each with its own RocksDB store, talking over the
//! authenticated p2p transport, loaded through their HTTP APIs the way FISCO BCOS's and Hyperledger Caliper's users
//! load a chain: open-loop clients at fixed offered rates, a ladder of rates up to and past saturation, throughput
//! counted from the receipts of finalised blocks.
//!
//! # Method
//!
//! - **Network.** A fresh directory holds the benchmark genesis (the testkit's four members and sealers `n0..n3`,
//!   blocks every `block_interval_ms`, default 1 s, plus [`CONSOLES`] console accounts spread over the four
//!   members, each holding the `console` role) and four node homes on free loopback ports. The nodes start and the
//!   run waits until every node has finalised height 2. The directory is removed at the end; the nodes are killed
//!   even when the run fails. The nodes run this executable, or the one the environment variable
//!   `SYNOD_BENCH_NODE` names, so that two builds of the node can be measured under the same load.
//! - **Transaction mix.** Every step sends the two kinds a consortium sends, alternately (1 : 1):
//!   - *anchors*: `AnchorAuditTrail { seq, head }` by a console account, one signature, role-checked (only a holder
//!     of `console` anchors). Consecutive anchors rotate over the console accounts, each with its own growing
//!     `seq`, and each console's anchors always go to the same node, so no account serialises the load and one
//!     account's anchors reach the chain in `seq` order (two anchors of one account are [`CONSOLES`] ÷ anchor rate
//!     apart, over 2 s at 4,000 tx/s offered);
//!   - *proposals*: a governor's one-action `SubmitProposal` creating a fresh account of its own member
//!     (`CreateAccount`, rule "one governor of the target member"), carrying the governor's approval: two
//!     signatures, executed in the block that includes it. Each proposal creates a new account, so no proposal
//!     depends on another's state. Proposals rotate over the four governors, each governor's going to its member's
//!     node.
//!
//!   All of a step's transactions are signed (on every core) before the step starts; signing is not timed.
//! - **Open-loop load.** One asynchronous client (tokio, `reqwest`, connections kept alive) posts the canonical
//!   bytes of transaction `i` of a step to its node's `POST /v1/transactions` at `start + i ÷ rate`, whatever the
//!   answers to earlier ones: many requests are in flight at once (at most [`MAX_IN_FLIGHT`]; a send that waits for
//!   that bound counts as late, and the largest lateness is printed). Each transaction's submission time is the
//!   moment its request starts. An answer 503 (mempool full, node busy) counts as *refused*; any other refusal
//!   (a 4xx with a rejection) or a transport error fails the run.
//! - **Ladder.** Offered rates [`LADDER`] (tx/s). A step lasts 20 s below 1,000 tx/s, 30 s at 1,000, and at least
//!   60 s and 100,000 transactions from 1,500 tx/s up. After the last send the step drains: it waits until every
//!   admitted transaction is finalised, at most 30 s. A step **keeps up** when its steady throughput is at least
//!   90 % of the offered rate, its p99 latency at most 4 block intervals, nothing was refused, and every admitted
//!   transaction was finalised within the drain. The ladder stops after the first step that does not keep up.
//!   `--quick` runs [`QUICK_LADDER`] with 6 s steps and a 6 s drain.
//! - **Finality and throughput.** The run follows every node's `GET /v1/events` stream (server-sent events, one
//!   `finalized` event per block with its transactions' outcomes and its governance events; a gap after a lagged
//!   or reconnected stream is filled from `GET /v1/blocks/{h}`). A block is finalised when the first node
//!   announces it; that moment is the transaction's finality time. Every receipt of the load must be `Applied`,
//!   and every block must hold at least as many `proposal_executed` events as load proposals, or the run fails.
//!   The **steady window** of a step drops its first 20 % (warm-up, at least two block intervals) and its last
//!   10 % (cool-down): the blocks first announced inside it count. Steady throughput = the load's `Applied`
//!   receipts in those blocks ÷ the header time from the block before the first of them to the last of them (a
//!   block holds what arrived since the block before it). When no block is announced in the last two block
//!   intervals of the window, the wait until the window's end is added to that time, so a stalled chain is not
//!   timed by its last block. Each kind is counted the same way.
//! - **Latency.** Submission → finality time, over the transactions submitted inside the steady window: p50 and
//!   p99 (nearest rank), for the whole mix and for each kind.
//! - **Apply latency.** A `DefineRole` committee proposal lands with two of the three approvals it needs; then the
//!   final approval is posted to `n0` and the clock runs until **every** node's event stream has announced the
//!   block holding it (its receipt on `n0` must show the proposal executed). `R` samples on the idle network
//!   before the ladder, and under load one after another, each started inside a step's steady window (a sample
//!   refused with 503 or not done by the end of the step's drain is dropped); the figure under load is the highest
//!   step's that kept up. p50 and p99 (nearest rank). Goals: p50 ≤ block interval + 100 ms, p99 ≤ 2 × block
//!   interval.
//! - **Replication limit, same run.** Before the nodes start: the strict ed25519 verify rate `v` (signatures/s,
//!   one core, [`super::verify_rates`]) and the SHA-256 rate `h` (bytes/s, one core, over 512-byte messages).
//!   Every node verifies each signature once and hashes each transaction's bytes [`HASH_PASSES`] times (its hash,
//!   and the block's commitment to it), so with `s` signatures and `b` canonical bytes per transaction (the mix's
//!   means) on `c` cores: **limit = c ÷ (4 nodes × (s ÷ v + b × k ÷ h))**. Execution and storage are left out: the
//!   limit is what replication alone costs, and the ratio steady ÷ limit says how close the node comes to it.
//! - **Comparisons.** tx/s per core = steady ÷ `std::thread::available_parallelism()`, beside the published figures
//!   of FISCO BCOS 3.x (9,712 tx/s from four nodes on one 10-core machine, its performance test documentation:
//!   about 970 tx/s per core) and Hyperledger Besu QBFT (750 to 1,200 tx/s on four validators, the Besu wiki's
//!   "QBFT Performance" page: Hyperledger Caliper's open-loop test of its simple contract, one or two load
//!   generators). Those run other transactions on other machines; the per-core figure is a rough scale, not a
//!   ranking.
//! - **Resources.** The load generator's own CPU time (`getrusage`, user + system, every thread of this process,
//!   signing excluded) per step, as cores and as a share of the machine; each node's resident memory
//!   (`/proc/<pid>/status` `VmRSS`) after each step; the bytes each node wrote to disk (`/proc/<pid>/io`
//!   `write_bytes`) per finalised transaction of the step.
//! - **Summary.** The last line: `bench-live: steady N tx/s, M tx/s per core, R % of the replication limit, p50 X
//!   ms, p99 Y ms`, from the highest step that kept up (or, when none did, the first step).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, RoleId, TxHash};
use governance_contracts::testkit::{self, secret};
use governance_contracts::types::action::NodeKind;
use governance_contracts::types::{Action, Genesis, GenesisAccount, GenesisGrant, Outcome, Payload, Receipt};
use serde::Deserialize;
use tokio::task::JoinSet;

use super::{BenchArgs, NODES, Plan, Signer, VerifyRates, duration, executed, now, rate, share, thousands};
use crate::localnet::{LocalNetwork, LocalNode, free_ports, spawn_node};

/// The offered rates, tx/s.
pub const LADDER: [u64; 8] = [250, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 4_000];
/// The offered rates of a `--quick` run.
pub const QUICK_LADDER: [u64; 3] = [250, 500, 1_000];
/// Console accounts in the genesis that send the anchors (the genesis holds at most 4,096 accounts).
pub const CONSOLES: usize = 4_000;
/// Requests in flight at most (and at most half the open-file limit, [`in_flight_bound`]).
pub const MAX_IN_FLIGHT: usize = 8_192;
/// Times each node hashes a transaction's bytes, in the replication limit.
pub const HASH_PASSES: f64 = 2.0;
/// The environment variable naming another `synod` executable for the nodes (another build to compare).
const NODE_EXECUTABLE: &str = "SYNOD_BENCH_NODE";
/// A step keeps up when its steady throughput is at least this share of the offered rate.
const KEEPING_UP: f64 = 0.9;
/// A step keeps up when its p99 latency is at most this many block intervals.
const LATENCY_BOUND_BLOCKS: u32 = 4;
/// From this offered rate up, a full step holds at least [`TOP_TRANSACTIONS`] and [`TOP_SECONDS`].
const TOP_RATE: u64 = 1_500;
const TOP_TRANSACTIONS: u64 = 100_000;
const TOP_SECONDS: u64 = 60;
/// Largest API answer read.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// How long the network may take to start, and any one wait.
const WAIT: Duration = Duration::from_secs(120);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many blocks a load transaction stays valid.
const TX_TTL: u64 = 1_000;
/// Bytes per message of the SHA-256 rate.
const HASH_MESSAGE_BYTES: usize = 512;
/// The published figures set beside the run's.
const FISCO_TPS: f64 = 9_712.0;
const FISCO_CORES: f64 = 10.0;

/// The two kinds of transaction in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A console's `AnchorAuditTrail`: one signature.
    Anchor,
    /// A governor's `SubmitProposal` of one `CreateAccount`, carrying its approval: two signatures.
    Proposal,
}

impl Kind {
    fn of(index: usize) -> Self {
        if index.is_multiple_of(2) { Kind::Anchor } else { Kind::Proposal }
    }

    fn signatures(self) -> f64 {
        match self {
            Kind::Anchor => 1.0,
            Kind::Proposal => 2.0,
        }
    }
}

/// Nodes started for the run, killed when dropped.
struct Processes(Vec<std::process::Child>);

impl Processes {
    fn pids(&self) -> Vec<u32> {
        self.0.iter().map(std::process::Child::id).collect()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn after(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

fn millis(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

/// The open-file limit ÷ 2, at most [`MAX_IN_FLIGHT`]: each request in flight holds a connection.
fn in_flight_bound() -> usize {
    use nix::sys::resource::{Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .and_then(|(soft, _)| usize::try_from(soft / 2).ok())
        .map_or(MAX_IN_FLIGHT, |half| half.clamp(16, MAX_IN_FLIGHT))
}

/// The `percent`th percentile (nearest rank) of `samples`.
fn percentile(samples: &[Duration], percent: usize) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let index = sorted.len().saturating_mul(percent).div_ceil(100).saturating_sub(1);
    sorted.get(index).copied()
}

fn p50_p99(samples: &[Duration]) -> String {
    match (percentile(samples, 50), percentile(samples, 99)) {
        (Some(p50), Some(p99)) => format!("{} / {}", millis(p50), millis(p99)),
        _ => "-".to_owned(),
    }
}

/// The console account `i`.
fn console_label(i: usize) -> String {
    format!("bench-console-{i}")
}

/// The benchmark genesis: the testkit's four members plus [`CONSOLES`] console accounts, member `m{i % 4}`'s.
fn genesis() -> anyhow::Result<Genesis> {
    let mut genesis = testkit::genesis(NODES);
    for i in 0..CONSOLES {
        let label = console_label(i);
        let account = AccountId::new(label.clone())?;
        let member = MemberId::new(format!("m{}", i % NODES))?;
        genesis
            .accounts
            .try_push(GenesisAccount { account: account.clone(), member, key: testkit::public(&label) })
            .context("genesis accounts")?;
        genesis
            .grants
            .try_push(GenesisGrant { account, role: RoleId::console(), expires_at: Height(1_000_000) })
            .context("genesis grants")?;
    }
    Ok(genesis)
}

/// What one load transaction is, before it is signed.
#[derive(Debug, Clone)]
enum Spec {
    Anchor { console: usize, seq: u64 },
    Proposal { governor: usize, account: u64 },
}

impl Spec {
    /// The node it is sent to: a console's or a governor's member's own.
    fn node(&self) -> usize {
        match self {
            Spec::Anchor { console, .. } => console % NODES,
            Spec::Proposal { governor, .. } => governor % NODES,
        }
    }
}

/// A signed load transaction: its hash, kind, node and canonical bytes.
struct Prepared {
    hash: TxHash,
    kind: Kind,
    node: usize,
    body: Vec<u8>,
}

/// Hands out the next anchors and proposals across steps, so that every console's `seq` grows and every created
/// account is new.
struct Mix {
    seqs: Vec<u64>,
    next_console: usize,
    next_governor: usize,
    next_account: u64,
}

impl Mix {
    fn new() -> Self {
        Self { seqs: vec![0; CONSOLES], next_console: 0, next_governor: 0, next_account: 0 }
    }

    fn next(&mut self, index: usize) -> Spec {
        match Kind::of(index) {
            Kind::Anchor => {
                let console = self.next_console;
                self.next_console = console.saturating_add(1) % CONSOLES;
                let seq = self.seqs.get(console).copied().unwrap_or(0).saturating_add(1);
                if let Some(slot) = self.seqs.get_mut(console) {
                    *slot = seq;
                }
                Spec::Anchor { console, seq }
            }
            Kind::Proposal => {
                let governor = self.next_governor;
                self.next_governor = governor.saturating_add(1) % NODES;
                let account = self.next_account;
                self.next_account = account.saturating_add(1);
                Spec::Proposal { governor, account }
            }
        }
    }
}

fn sign_spec(signer: &Signer, spec: &Spec, valid_until: Height) -> anyhow::Result<Prepared> {
    let (kind, tx) = match spec {
        Spec::Anchor { console, seq } => {
            let label = console_label(*console);
            let head = Digest::sha256(&[b"synod-bench-anchor", &console.to_le_bytes(), &seq.to_le_bytes()]);
            let payload = Payload::AnchorAuditTrail { seq: *seq, head };
            (Kind::Anchor, signer.sign(&label, &secret(&label), valid_until, payload))
        }
        Spec::Proposal { governor, account } => {
            let member = format!("m{governor}");
            let gov = format!("{member}-gov");
            let label = format!("bench-new-{account}");
            let action = Action::CreateAccount {
                account: AccountId::new(label.clone())?,
                member: MemberId::new(member)?,
                key: testkit::public(&label),
            };
            let proposal = Signer::proposal(&gov, action, valid_until, *account)?;
            let key = secret(&gov);
            let approval = proposal.approve(&signer.chain, AccountId::new(gov.clone())?, &key);
            let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval])? };
            (Kind::Proposal, signer.sign(&gov, &key, valid_until, payload))
        }
    };
    Ok(Prepared { hash: tx.tx.hash(&signer.chain), kind, node: spec.node(), body: encode(&tx) })
}

/// Signs `specs` on every core.
fn sign_all(signer: &Signer, specs: &[Spec], valid_until: Height) -> anyhow::Result<Vec<Prepared>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = specs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|spec| sign_spec(signer, spec, valid_until)).collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(specs.len());
        for handle in handles {
            all.extend(handle.join().map_err(|_| anyhow!("a signing thread panicked"))??);
        }
        Ok(all)
    })
}

/// The SHA-256 rate of one core over [`HASH_MESSAGE_BYTES`]-byte messages, bytes/s.
fn hash_rate(samples: usize) -> anyhow::Result<f64> {
    const MESSAGES: usize = 2_048;
    let message = vec![0x5a_u8; HASH_MESSAGE_BYTES];
    let time = super::median_time(samples, || {
        let mut last = Digest::sha256(&[&message]);
        for _ in 1..MESSAGES {
            last = Digest::sha256(&[std::hint::black_box(&message), last.as_bytes()]);
        }
        std::hint::black_box(last);
        Ok(())
    })?;
    Ok(rate(MESSAGES.saturating_mul(HASH_MESSAGE_BYTES) as f64, time))
}

/// What the benchmark saw of one finalised block.
#[derive(Debug, Clone)]
struct BlockSeen {
    time_ms: u64,
    /// When the first node announced it.
    first_seen: Instant,
    /// When each node announced it.
    seen_by: [Option<Instant>; NODES],
    /// Its `proposal_executed` events.
    executed: u64,
}

/// Every finalised block and transaction the benchmark saw, from every node's stream.
#[derive(Debug, Default)]
struct Ledger {
    blocks: BTreeMap<u64, BlockSeen>,
    /// Each finalised transaction's height and whether it applied.
    txs: BTreeMap<TxHash, (u64, bool)>,
    /// Streams that lagged or reconnected and were filled from `/v1/blocks`.
    gaps: u64,
}

type Shared = Arc<Mutex<Ledger>>;

fn lock(ledger: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Deserialize)]
struct HeightOnly {
    height: Height,
}

#[derive(Deserialize)]
struct EventTag {
    event: String,
}

#[derive(Deserialize)]
struct FinalizedTx {
    hash: TxHash,
    outcome: Outcome,
}

/// The part of a `finalized` event the benchmark reads.
#[derive(Deserialize)]
struct Finalized {
    height: Height,
    time_ms: u64,
    transactions: Vec<FinalizedTx>,
    events: Vec<EventTag>,
}

#[derive(Deserialize)]
struct HeaderTime {
    time_ms: u64,
}

#[derive(Deserialize)]
struct BlockHeader {
    header: HeaderTime,
}

#[derive(Deserialize)]
struct ReceiptOutcome {
    tx: TxHash,
    outcome: Outcome,
    events: Vec<EventTag>,
}

/// The part of `GET /v1/blocks/{h}` the benchmark reads.
#[derive(Deserialize)]
struct BlockJson {
    height: Height,
    block: BlockHeader,
    receipts: Vec<ReceiptOutcome>,
}

impl From<BlockJson> for Finalized {
    fn from(block: BlockJson) -> Self {
        let (transactions, events) = block
            .receipts
            .into_iter()
            .map(|r| (FinalizedTx { hash: r.tx, outcome: r.outcome }, r.events))
            .unzip::<_, _, Vec<_>, Vec<_>>();
        Self {
            height: block.height,
            time_ms: block.block.header.time_ms,
            transactions,
            events: events.into_iter().flatten().collect(),
        }
    }
}

/// Whether the ledger already holds `height`; marks it seen by `node` at `seen` if so.
fn mark_seen(ledger: &Shared, node: usize, height: u64, seen: Instant) -> bool {
    let mut ledger = lock(ledger);
    match ledger.blocks.get_mut(&height) {
        Some(block) => {
            if let Some(slot) = block.seen_by.get_mut(node) {
                slot.get_or_insert(seen);
            }
            true
        }
        None => false,
    }
}

fn record(ledger: &Shared, node: usize, seen: Instant, block: Finalized) {
    let mut guard = lock(ledger);
    let ledger = &mut *guard;
    let height = block.height.0;
    match ledger.blocks.entry(height) {
        Entry::Occupied(mut known) => {
            if let Some(slot) = known.get_mut().seen_by.get_mut(node) {
                slot.get_or_insert(seen);
            }
        }
        Entry::Vacant(slot) => {
            let executed = block.events.iter().filter(|e| e.event == "proposal_executed").count();
            let mut seen_by = [None; NODES];
            if let Some(first) = seen_by.get_mut(node) {
                *first = Some(seen);
            }
            slot.insert(BlockSeen {
                time_ms: block.time_ms,
                first_seen: seen,
                seen_by,
                executed: u64::try_from(executed).unwrap_or(u64::MAX),
            });
            for tx in block.transactions {
                ledger.txs.insert(tx.hash, (height, tx.outcome == Outcome::Applied));
            }
        }
    }
}

/// A small HTTP client for the nodes' APIs.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    /// For event streams: no overall timeout.
    streams: reqwest::Client,
}

/// How a submission was answered.
#[derive(Debug, Clone)]
enum Answer {
    Admitted,
    /// 503: the mempool is full or the node busy.
    Refused,
    /// Anything else: a benchmark bug or a broken node.
    Failed(String),
}

impl Api {
    fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()
            .context("the HTTP client")?;
        let streams = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(REQUEST_TIMEOUT)
            .build()
            .context("the HTTP client")?;
        Ok(Self { client, streams })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<(u16, Option<T>)> {
        let response = self.client.get(url).send().await.with_context(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.with_context(|| format!("GET {url}"))?;
        ensure!(bytes.len() <= MAX_ANSWER_BYTES, "GET {url}: an answer of {} bytes", bytes.len());
        Ok((status, serde_json::from_slice(&bytes).ok()))
    }

    async fn height(&self, base: &str) -> anyhow::Result<u64> {
        #[derive(Deserialize)]
        struct Status {
            height: u64,
        }
        match self.get::<Status>(&format!("{base}/v1/status")).await? {
            (200, Some(status)) => Ok(status.height),
            (code, _) => bail!("{base}/v1/status: {code}"),
        }
    }

    async fn block(&self, base: &str, height: u64) -> anyhow::Result<Finalized> {
        match self.get::<BlockJson>(&format!("{base}/v1/blocks/{height}")).await? {
            (200, Some(block)) => Ok(block.into()),
            (code, _) => bail!("{base}/v1/blocks/{height}: {code}"),
        }
    }

    async fn receipt(&self, base: &str, hash: &TxHash) -> anyhow::Result<Option<Receipt>> {
        #[derive(Deserialize)]
        struct Body {
            receipt: Receipt,
        }
        match self.get::<Body>(&format!("{base}/v1/transactions/{hash}")).await? {
            (200, Some(body)) => Ok(Some(body.receipt)),
            (404, _) => Ok(None),
            (code, _) => bail!("{base}/v1/transactions/{hash}: {code}"),
        }
    }

    async fn post(&self, base: &str, body: Vec<u8>) -> Answer {
        let url = format!("{base}/v1/transactions");
        let sent = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                match status {
                    200 | 202 => Answer::Admitted,
                    503 => Answer::Refused,
                    _ => Answer::Failed(format!("POST {url}: {status} {text}")),
                }
            }
            Err(error) => Answer::Failed(format!("POST {url}: {error}")),
        }
    }
}

/// Takes the complete server-sent events out of `buffer` (each ends with a blank line), as (name, data); `scanned`
/// is how far earlier calls looked for an end, so that each byte is searched once.
fn take_events(buffer: &mut Vec<u8>, scanned: &mut usize) -> Vec<(String, String)> {
    let mut events = Vec::new();
    loop {
        let from = scanned.saturating_sub(1).min(buffer.len());
        let Some(end) = buffer.get(from..).and_then(|rest| rest.windows(2).position(|w| w == b"\n\n")) else {
            *scanned = buffer.len();
            return events;
        };
        let raw: Vec<u8> = buffer.drain(..from.saturating_add(end).saturating_add(2)).collect();
        *scanned = 0;
        let text = String::from_utf8_lossy(&raw);
        let mut name = String::new();
        let mut data = String::new();
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                name = value.trim().to_owned();
            } else if let Some(value) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value.strip_prefix(' ').unwrap_or(value));
            }
        }
        events.push((name, data));
    }
}

/// The height of a `finalized` event, read from the start of its data (the type tag, then the height), so that a
/// block another node announced first is not parsed again.
fn event_height(data: &str) -> Option<u64> {
    const KEY: &str = "\"height\":";
    let head = data.get(..data.len().min(128)).unwrap_or(data);
    let at = head.find(KEY)?.saturating_add(KEY.len());
    let digits: String = data.get(at..)?.chars().skip_while(|c| *c == ' ').take_while(char::is_ascii_digit).collect();
    match digits.parse() {
        Ok(height) => Some(height),
        Err(_) => serde_json::from_str::<HeightOnly>(data).ok().map(|h| h.height.0),
    }
}

/// Follows node `node`'s event stream at `base` into `ledger` until the task is aborted.
async fn follow(api: Api, base: String, node: usize, ledger: Shared) {
    let mut last: Option<u64> = None;
    loop {
        if let Err(error) = follow_once(&api, &base, node, &ledger, &mut last).await {
            tracing::debug!(%error, node, "event stream ended; reconnecting");
        }
        {
            let mut ledger = lock(&ledger);
            ledger.gaps = ledger.gaps.saturating_add(1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn follow_once(
    api: &Api,
    base: &str,
    node: usize,
    ledger: &Shared,
    last: &mut Option<u64>,
) -> anyhow::Result<()> {
    let url = format!("{base}/v1/events");
    let mut response = api.streams.get(&url).send().await.with_context(|| format!("GET {url}"))?;
    ensure!(response.status().is_success(), "GET {url}: {}", response.status());
    let mut buffer = Vec::new();
    let mut scanned = 0;
    while let Some(chunk) = response.chunk().await.with_context(|| format!("reading {url}"))? {
        buffer.extend_from_slice(&chunk);
        for (name, data) in take_events(&mut buffer, &mut scanned) {
            match name.as_str() {
                "finalized" => {
                    let seen = now();
                    let height = event_height(&data).with_context(|| format!("{url}: an event without a height"))?;
                    // Fill a gap (a lagged or reconnected stream) from the blocks API.
                    if let Some(previous) = *last {
                        let mut missing = previous.saturating_add(1);
                        while missing < height {
                            if !mark_seen(ledger, node, missing, now()) {
                                let block = api.block(base, missing).await?;
                                record(ledger, node, now(), block);
                            }
                            missing = missing.saturating_add(1);
                        }
                    }
                    if !mark_seen(ledger, node, height, seen) {
                        let block: Finalized =
                            serde_json::from_str(&data).with_context(|| format!("{url}: a malformed event"))?;
                        record(ledger, node, seen, block);
                    }
                    *last = Some(height);
                }
                "lagged" => bail!("{url}: the stream lagged"),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Writes and starts the benchmark network in `dir`.
async fn start_network(api: &Api, dir: &Path) -> anyhow::Result<(LocalNetwork, Processes)> {
    let genesis = genesis()?;
    let ports = free_ports(NODES.saturating_mul(2))?;
    let mut nodes = Vec::new();
    for i in 0..NODES {
        let name = format!("n{i}");
        let (p2p, http) = (ports.get(i).copied(), ports.get(i.saturating_add(NODES)).copied());
        let (Some(p2p), Some(http)) = (p2p, http) else { bail!("too few free ports") };
        let node = LocalNode {
            id: NodeId::new(name.clone())?,
            kind: NodeKind::Sealer,
            home: dir.join("nodes").join(&name),
            p2p: std::net::SocketAddr::from(([127, 0, 0, 1], p2p)),
            api: std::net::SocketAddr::from(([127, 0, 0, 1], http)),
        };
        nodes.push((node, secret(&name)));
    }
    let network = LocalNetwork::write(dir, genesis, nodes)?;
    let exe = match std::env::var_os(NODE_EXECUTABLE) {
        Some(path) => std::path::PathBuf::from(path),
        None => std::env::current_exe().context("cannot locate the synod executable")?,
    };
    let mut processes = Processes(Vec::new());
    for node in &network.nodes {
        processes.0.push(spawn_node(&exe, node, &[("RUST_LOG", "warn")])?);
    }
    let started = now();
    for node in &network.nodes {
        let base = node.url();
        while !api.height(&base).await.is_ok_and(|h| h >= 2) {
            ensure!(started.elapsed() < WAIT, "timed out after {WAIT:?} waiting for {} to finalise height 2", node.id);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok((network, processes))
}

/// One committee approval's apply latency: a `DefineRole` proposal lands with two of its three approvals, then the
/// final approval is posted to the first node and timed until every node announced the block holding it. `None`
/// when `deadline` passes first or a node refuses the load (503).
async fn apply_sample(
    api: &Api,
    base: &str,
    signer: &Signer,
    ledger: &Shared,
    repeat: u64,
    deadline: Instant,
) -> anyhow::Result<Option<Duration>> {
    let height = api.height(base).await?;
    let (id, submit, approve) = signer.committee_pair(repeat, Height(height))?;
    let submit_hash = submit.tx.hash(&signer.chain);
    match api.post(base, encode(&submit)).await {
        Answer::Admitted => {}
        Answer::Refused => return Ok(None),
        Answer::Failed(why) => bail!("the committee proposal: {why}"),
    }
    loop {
        if let Some(&(_, applied)) = lock(ledger).txs.get(&submit_hash) {
            ensure!(applied, "the committee proposal {submit_hash} was not applied");
            break;
        }
        if now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let approve_hash = approve.tx.hash(&signer.chain);
    let started = now();
    match api.post(base, encode(&approve)).await {
        Answer::Admitted => {}
        Answer::Refused => return Ok(None),
        Answer::Failed(why) => bail!("the final approval: {why}"),
    }
    let latency = loop {
        let seen = {
            let ledger = lock(ledger);
            ledger.txs.get(&approve_hash).and_then(|(h, applied)| ledger.blocks.get(h).map(|b| (*applied, b.seen_by)))
        };
        if let Some((applied, seen_by)) = seen {
            ensure!(applied, "the final approval {approve_hash} was not applied");
            if seen_by.iter().all(Option::is_some) {
                let last = seen_by.iter().flatten().max().copied().unwrap_or(started);
                break last.saturating_duration_since(started);
            }
        }
        if now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let receipt = api.receipt(base, &approve_hash).await?.context("the final approval is not finalised on n0")?;
    ensure!(executed(&receipt, Some(&id)), "the final approval did not execute its proposal: {receipt:?}");
    Ok(Some(latency))
}

/// Apply-latency samples one after another, started between `from` and `until` (under load); a sample not done by
/// `deadline` is dropped.
#[allow(clippy::too_many_arguments, reason = "one call, from `run_step`")]
async fn sample_under_load(
    api: Api,
    base: String,
    signer: Signer,
    ledger: Shared,
    first_repeat: u64,
    from: Instant,
    until: Instant,
    deadline: Instant,
) -> anyhow::Result<Vec<Duration>> {
    tokio::time::sleep(from.saturating_duration_since(now())).await;
    let mut samples = Vec::new();
    let mut repeat = first_repeat;
    while now() < until {
        match apply_sample(&api, &base, &signer, &ledger, repeat, deadline).await? {
            Some(latency) => samples.push(latency),
            // Refused or too slow: try again a little later rather than at once.
            None => tokio::time::sleep(Duration::from_millis(500)).await,
        }
        repeat = repeat.saturating_add(1);
    }
    Ok(samples)
}

/// CPU time (user + system) this process has used, every thread.
fn own_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) else { return Duration::ZERO };
    let time = |t: nix::sys::time::TimeVal| {
        let whole = Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0));
        whole.saturating_add(Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0)))
    };
    time(usage.user_time()).saturating_add(time(usage.system_time()))
}

/// The number after `key` in `/proc/<pid>/<file>`.
fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    field(&std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?, key)
}

/// The number after `key` at the start of a line of `text` (`VmRSS:   1234 kB`).
fn field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix(key))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Each node's resident memory, bytes.
fn rss(pids: &[u32]) -> Vec<Option<u64>> {
    pids.iter().map(|&pid| proc_field(pid, "status", "VmRSS:").map(|kb| kb.saturating_mul(1024))).collect()
}

/// Bytes each node has written to disk.
fn written(pids: &[u32]) -> Vec<Option<u64>> {
    pids.iter().map(|&pid| proc_field(pid, "io", "write_bytes:")).collect()
}

/// How long each part of a step lasts.
#[derive(Debug, Clone, Copy)]
struct StepPlan {
    offered: u64,
    length: Duration,
    warm_up: Duration,
    cool_down: Duration,
    drain: Duration,
}

impl StepPlan {
    /// A step at `offered` tx/s on a chain with blocks every `block_interval`.
    fn new(offered: u64, quick: bool, block_interval: Duration) -> Self {
        let seconds = if quick {
            6
        } else if offered >= TOP_RATE {
            TOP_SECONDS.max(TOP_TRANSACTIONS.div_ceil(offered.max(1)))
        } else if offered >= 1_000 {
            30
        } else {
            20
        };
        let length = Duration::from_secs(seconds);
        Self {
            offered,
            length,
            // At least two blocks: the first block inside the window then holds only what arrived during the load.
            warm_up: length.checked_div(5).unwrap_or_default().max(block_interval.saturating_mul(2)),
            cool_down: length.checked_div(10).unwrap_or_default(),
            drain: Duration::from_secs(if quick { 6 } else { 30 }),
        }
    }

    fn count(&self) -> u64 {
        self.offered.saturating_mul(self.length.as_secs())
    }
}

/// Throughput and latency of one kind, or of the whole mix.
#[derive(Debug, Clone, Default)]
struct Figures {
    steady: f64,
    latency: Vec<Duration>,
}

/// What one step measured.
#[derive(Debug, Clone)]
struct Step {
    plan: StepPlan,
    sent: usize,
    refused: usize,
    /// Admitted (or finalised anyway) but not finalised by the end of the drain.
    missing: usize,
    late: Duration,
    all: Figures,
    kinds: [Figures; 2],
    /// Blocks in the steady window.
    window_blocks: usize,
    under_load: Vec<Duration>,
    /// Load generator CPU ÷ wall time from the first send to the end of the drain.
    generator_cores: f64,
    rss: Vec<Option<u64>>,
    /// Bytes each node wrote per finalised transaction of the step.
    written_per_tx: Vec<Option<f64>>,
    mean_bytes: f64,
    mean_signatures: f64,
    /// Why the step did not keep up; empty when it did.
    shortfalls: Vec<String>,
}

impl Step {
    fn keeps_up(&self) -> bool {
        self.shortfalls.is_empty()
    }
}

/// Everything a step needs from the run.
struct Load<'a> {
    api: &'a Api,
    urls: &'a [String],
    signer: &'a Signer,
    ledger: &'a Shared,
    pids: &'a [u32],
    block_interval: Duration,
}

/// Posts `txs` on schedule (tx `i` at `start + i ÷ offered`); returns each one's submission time and answer, and
/// the largest lateness.
async fn send_on_schedule(
    load: &Load<'_>,
    txs: Vec<Prepared>,
    offered: u64,
    start: Instant,
) -> (Vec<Option<(Instant, Answer)>>, Duration) {
    let mut answers: Vec<Option<(Instant, Answer)>> = (0..txs.len()).map(|_| None).collect();
    let limit = Arc::new(tokio::sync::Semaphore::new(in_flight_bound()));
    let mut tasks = JoinSet::new();
    let mut late = Duration::ZERO;
    let gap = 1.0 / offered.max(1) as f64;
    let keep = |answers: &mut Vec<Option<(Instant, Answer)>>, done: Result<(usize, Instant, Answer), _>| {
        if let Ok((i, sent, answer)) = done
            && let Some(slot) = answers.get_mut(i)
        {
            *slot = Some((sent, answer));
        }
    };
    for (i, tx) in txs.into_iter().enumerate() {
        let due = after(start, seconds(i as f64 * gap));
        let wait = due.saturating_duration_since(now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        while let Some(done) = tasks.try_join_next() {
            keep(&mut answers, done);
        }
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else { break };
        let sent = now();
        late = late.max(sent.saturating_duration_since(due));
        let api = load.api.clone();
        let base = load.urls.get(tx.node).or(load.urls.first()).cloned().unwrap_or_default();
        tasks.spawn(async move {
            let answer = api.post(&base, tx.body).await;
            drop(permit);
            (i, sent, answer)
        });
    }
    while let Some(done) = tasks.join_next().await {
        keep(&mut answers, done);
    }
    (answers, late)
}

/// Runs one step of the ladder.
async fn run_step(load: &Load<'_>, mix: &mut Mix, plan: StepPlan, index: u64) -> anyhow::Result<Step> {
    let base = load.urls.first().context("no node")?.clone();
    let height = load.api.height(&base).await?;
    let count = usize::try_from(plan.count())?;
    let specs: Vec<Spec> = (0..count).map(|i| mix.next(i)).collect();
    let txs = sign_all(load.signer, &specs, Height(height.saturating_add(TX_TTL)))?;
    drop(specs);
    let meta: Vec<(TxHash, Kind)> = txs.iter().map(|t| (t.hash, t.kind)).collect();
    let mean_bytes = txs.iter().map(|t| t.body.len() as f64).sum::<f64>() / count.max(1) as f64;
    let mean_signatures = txs.iter().map(|t| t.kind.signatures()).sum::<f64>() / count.max(1) as f64;

    let (cpu_before, written_before) = (own_cpu(), written(load.pids));
    let start = after(now(), Duration::from_millis(50));
    let window = (after(start, plan.warm_up), after(start, plan.length.saturating_sub(plan.cool_down)));
    let sampler = tokio::spawn(sample_under_load(
        load.api.clone(),
        base.clone(),
        Signer { chain: load.signer.chain.clone(), officer: secret(super::OFFICER) },
        Arc::clone(load.ledger),
        index.saturating_mul(1_000).saturating_add(100_000),
        window.0,
        window.1,
        after(start, plan.length.saturating_add(plan.drain)),
    ));
    let (answers, late) = send_on_schedule(load, txs, plan.offered, start).await;

    // Drain: wait until every admitted transaction is finalised, or the drain bound passes.
    let drain_end = after(now(), plan.drain);
    let mut waiting: Vec<usize> =
        (0..count).filter(|&i| matches!(answers.get(i), Some(Some((_, Answer::Admitted))))).collect();
    loop {
        {
            let ledger = lock(load.ledger);
            waiting.retain(|&i| meta.get(i).is_some_and(|(hash, _)| !ledger.txs.contains_key(hash)));
        }
        if waiting.is_empty() || now() > drain_end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let under_load = sampler.await.context("the apply-latency sampler")??;
    let wall = now().saturating_duration_since(start);
    let generator_cores = rate(own_cpu().saturating_sub(cpu_before).as_secs_f64(), wall);
    let (rss_after, written_after) = (rss(load.pids), written(load.pids));

    let mut sent = 0usize;
    let mut refused = 0usize;
    let mut all = Figures::default();
    let mut kinds: [Figures; 2] = Default::default();
    // This step's transactions in each block, by kind.
    let mut per_block: BTreeMap<u64, [u64; 2]> = BTreeMap::new();
    let mut finalised = 0u64;
    {
        let ledger = lock(load.ledger);
        for (i, (hash, kind)) in meta.iter().enumerate() {
            let answer = answers.get(i).and_then(Option::as_ref);
            match answer {
                Some((_, Answer::Admitted)) => sent = sent.saturating_add(1),
                Some((_, Answer::Refused)) => {
                    sent = sent.saturating_add(1);
                    refused = refused.saturating_add(1);
                }
                Some((_, Answer::Failed(why))) => bail!("offered {} tx/s: {why}", plan.offered),
                None => bail!("offered {} tx/s: transaction {i} was never sent", plan.offered),
            }
            let Some(&(height, applied)) = ledger.txs.get(hash) else { continue };
            ensure!(applied, "offered {} tx/s: transaction {hash} was not applied", plan.offered);
            finalised = finalised.saturating_add(1);
            let slot = per_block.entry(height).or_default();
            let k = usize::from(*kind == Kind::Proposal);
            if let Some(n) = slot.get_mut(k) {
                *n = n.saturating_add(1);
            }
            let (Some((submitted, _)), Some(block)) = (answer, ledger.blocks.get(&height)) else { continue };
            if *submitted >= window.0 && *submitted <= window.1 {
                let latency = block.first_seen.saturating_duration_since(*submitted);
                all.latency.push(latency);
                if let Some(figures) = kinds.get_mut(k) {
                    figures.latency.push(latency);
                }
            }
        }
        for (height, counts) in &per_block {
            let executed = ledger.blocks.get(height).map_or(0, |b| b.executed);
            ensure!(
                counts[1] <= executed,
                "offered {} tx/s: block {height} holds {} load proposals but {executed} executions",
                plan.offered,
                counts[1]
            );
        }
        // The steady window: the blocks first announced inside it, timed from the header of the block before the
        // first of them (a block holds what arrived since the block before it) to the header of the last; a chain
        // that stalls before the window ends is timed to the window's end.
        let blocks: Vec<(u64, &BlockSeen)> = ledger
            .blocks
            .iter()
            .filter(|(_, b)| b.first_seen >= window.0 && b.first_seen <= window.1)
            .map(|(h, b)| (*h, b))
            .collect();
        let span = match (blocks.first(), blocks.last()) {
            (Some((first, first_block)), Some((_, last))) => {
                let before = ledger.blocks.get(&first.saturating_sub(1)).map(|b| b.time_ms);
                let from = before.filter(|t| *t < first_block.time_ms);
                let counted_from = from.unwrap_or(first_block.time_ms);
                let mut span = Duration::from_millis(last.time_ms.saturating_sub(counted_from));
                let stalled = window.1.saturating_duration_since(last.first_seen);
                if stalled > load.block_interval.saturating_mul(2) {
                    span = span.saturating_add(stalled);
                }
                // Without the block before, the first block's transactions arrived before the timed span.
                Some((span, from.is_none()))
            }
            _ => None,
        };
        let counted = |k: Option<usize>| -> f64 {
            let of = |h: &u64| {
                per_block.get(h).map_or(0, |c| match k {
                    Some(k) => c.get(k).copied().unwrap_or(0),
                    None => c.iter().sum(),
                })
            };
            match span {
                Some((span, skip_first)) if !span.is_zero() => {
                    let n: u64 = blocks.iter().skip(usize::from(skip_first)).map(|(h, _)| of(h)).sum();
                    rate(n as f64, span)
                }
                Some(_) => blocks.first().map_or(0.0, |(h, _)| rate(of(h) as f64, load.block_interval)),
                None => 0.0,
            }
        };
        all.steady = counted(None);
        for (k, figures) in kinds.iter_mut().enumerate() {
            figures.steady = counted(Some(k));
        }
        let missing = waiting.len();
        let mut step = Step {
            plan,
            sent,
            refused,
            missing,
            late,
            all,
            kinds,
            window_blocks: blocks.len(),
            under_load,
            generator_cores,
            rss: rss_after,
            written_per_tx: written_before
                .iter()
                .zip(&written_after)
                .map(|(b, a)| match (b, a) {
                    (Some(b), Some(a)) if finalised > 0 => Some(a.saturating_sub(*b) as f64 / finalised as f64),
                    _ => None,
                })
                .collect(),
            mean_bytes,
            mean_signatures,
            shortfalls: Vec::new(),
        };
        step.shortfalls = shortfalls(&step, load.block_interval);
        Ok(step)
    }
}

/// Why `step` did not keep up with its offered rate.
fn shortfalls(step: &Step, block_interval: Duration) -> Vec<String> {
    let mut why = Vec::new();
    let offered = step.plan.offered as f64;
    if step.all.steady < offered * KEEPING_UP {
        why.push(format!("steady {:.0} < {:.0} % of offered", step.all.steady, KEEPING_UP * 100.0));
    }
    let bound = block_interval.saturating_mul(LATENCY_BOUND_BLOCKS);
    match percentile(&step.all.latency, 99) {
        Some(p99) if p99 > bound => why.push(format!("p99 {} ms > {} ms", millis(p99), millis(bound))),
        None => why.push("no latency measured".to_owned()),
        _ => {}
    }
    if step.refused > 0 {
        why.push(format!("{} refused", step.refused));
    }
    if step.missing > 0 {
        why.push(format!("{} not finalised within the drain", step.missing));
    }
    why
}

/// The figures of the machine, measured before the nodes start.
#[derive(Debug, Clone, Copy)]
struct Machine {
    verify: VerifyRates,
    /// SHA-256 bytes per second, one core.
    hash: f64,
}

impl Machine {
    /// The replication limit for a mix of `signatures` and `bytes` per transaction (means):
    /// `cores ÷ (nodes × (signatures ÷ verify + bytes × k ÷ hash))`.
    fn limit(&self, signatures: f64, bytes: f64) -> f64 {
        let per_tx = signatures / self.verify.single + bytes * HASH_PASSES / self.hash;
        let cost = NODES as f64 * per_tx;
        if cost > 0.0 { self.verify.cores as f64 / cost } else { 0.0 }
    }
}

/// Runs the live benchmark and prints its figures.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let plan = Plan::new(args);
    println!(
        "# synod bench --live{}",
        if plan.quick { " (--quick: a smoke run, figures indicative only)" } else { "" }
    );
    println!();
    println!(
        "Method: open-loop load at fixed offered rates from an asynchronous client, spread over {NODES} `synod node` \
         processes on loopback; a 1:1 mix of single-signature audit-trail anchors and two-signature governance \
         proposals; throughput = Applied receipts per second in finalised blocks over each step's steady window; \
         latency = submission to the benchmark seeing the block finalised. The full method: `node/src/bench/live.rs`."
    );
    let verify = super::verify_rates(&plan)?;
    let hash = hash_rate(plan.verify_samples)?;
    let machine = Machine { verify, hash };
    println!(
        "Machine: {} cores; ed25519 strict verify {}/s, SHA-256 {:.0} MB/s ({HASH_MESSAGE_BYTES}-byte messages), \
         one core each.",
        verify.cores,
        thousands(verify.single),
        hash / 1e6
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("the tokio runtime")?;
    runtime.block_on(run_network(&plan, &machine))
}

async fn run_network(plan: &Plan, machine: &Machine) -> anyhow::Result<()> {
    let api = Api::new()?;
    let dir = tempfile::tempdir().context("cannot create the benchmark directory")?;
    let started = now();
    let (network, processes) = start_network(&api, dir.path()).await?;
    let block_interval = Duration::from_millis(network.genesis.params.block_interval_ms);
    let urls: Vec<String> = network.nodes.iter().map(LocalNode::url).collect();
    println!(
        "Network: {NODES} sealers finalised height 2 in {}; block interval {} ms; {CONSOLES} console accounts.",
        duration(started.elapsed()),
        block_interval.as_millis()
    );
    let ledger: Shared = Arc::new(Mutex::new(Ledger::default()));
    let followers: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(node, base)| tokio::spawn(follow(api.clone(), base.clone(), node, Arc::clone(&ledger))))
        .collect();
    let result = measure(plan, machine, &api, &urls, &network, &processes, &ledger, block_interval).await;
    for follower in followers {
        follower.abort();
    }
    drop(processes);
    result
}

#[allow(clippy::too_many_arguments, reason = "one call, from `run_network`")]
async fn measure(
    plan: &Plan,
    machine: &Machine,
    api: &Api,
    urls: &[String],
    network: &LocalNetwork,
    processes: &Processes,
    ledger: &Shared,
    block_interval: Duration,
) -> anyhow::Result<()> {
    let signer = Signer { chain: network.genesis.identity(), officer: secret(super::OFFICER) };
    let base = urls.first().context("no node")?;
    // Let every stream connect before anything is timed.
    tokio::time::sleep(block_interval.saturating_mul(2)).await;

    let mut idle = Vec::new();
    for repeat in 0..plan.repeats {
        let deadline = after(now(), WAIT);
        let sample = apply_sample(api, base, &signer, ledger, repeat.saturating_add(10_000), deadline).await?;
        idle.push(sample.context("an idle apply-latency sample timed out")?);
    }
    let goal_p50 = block_interval.saturating_add(Duration::from_millis(100));
    let goal_p99 = block_interval.saturating_mul(2);
    println!(
        "Apply latency, idle network ({} samples): p50 / p99 {} ms (goals p50 <= {} ms, p99 <= {} ms).",
        idle.len(),
        p50_p99(&idle),
        millis(goal_p50),
        millis(goal_p99)
    );
    println!();

    let rungs: &[u64] = if plan.quick { &QUICK_LADDER } else { &LADDER };
    let load = Load { api, urls, signer: &signer, ledger, pids: &processes.pids(), block_interval };
    let mut mix = Mix::new();
    let mut steps: Vec<Step> = Vec::new();
    println!(
        "| offered tx/s | step s | sent | refused | steady tx/s | anchors tx/s | proposals tx/s | p50 / p99 ms | \
         anchors p50 / p99 ms | proposals p50 / p99 ms | apply under load p50 / p99 ms | generator CPU | keeps up |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (index, &offered) in rungs.iter().enumerate() {
        let step = run_step(&load, &mut mix, StepPlan::new(offered, plan.quick, block_interval), u64::try_from(index)?)
            .await?;
        let [anchors, proposals] = &step.kinds;
        println!(
            "| {offered} | {} | {} | {} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {:.2} cores ({:.0} %) | {} |",
            step.plan.length.as_secs(),
            step.sent,
            step.refused,
            step.all.steady,
            anchors.steady,
            proposals.steady,
            p50_p99(&step.all.latency),
            p50_p99(&anchors.latency),
            p50_p99(&proposals.latency),
            p50_p99(&step.under_load),
            step.generator_cores,
            100.0 * share(step.generator_cores, machine.verify.cores as f64),
            if step.keeps_up() { "yes".to_owned() } else { format!("no: {}", step.shortfalls.join(", ")) },
        );
        let stop = !step.keeps_up();
        steps.push(step);
        if stop {
            break;
        }
    }
    println!();
    print_resources(&steps);
    let gaps = lock(ledger).gaps;
    print_figures(plan, machine, &steps, &idle, block_interval, gaps);
    Ok(())
}

fn print_resources(steps: &[Step]) {
    println!(
        "| offered tx/s | blocks in window | latest send late by | node RSS MiB (n0..n3) | disk write B per tx per node (n0..n3) |"
    );
    println!("|---:|---:|---:|---|---|");
    for step in steps {
        let rss: Vec<String> =
            step.rss.iter().map(|b| b.map_or("-".to_owned(), |b| format!("{:.0}", b as f64 / 1_048_576.0))).collect();
        let written: Vec<String> =
            step.written_per_tx.iter().map(|b| b.map_or("-".to_owned(), |b| format!("{b:.0}"))).collect();
        println!(
            "| {} | {} | {} ms | {} | {} |",
            step.plan.offered,
            step.window_blocks,
            millis(step.late),
            rss.join(", "),
            written.join(", ")
        );
    }
    println!();
}

fn print_figures(
    plan: &Plan,
    machine: &Machine,
    steps: &[Step],
    idle: &[Duration],
    block_interval: Duration,
    gaps: u64,
) {
    // The highest step that kept up, or the first when none did.
    let Some(top) = steps.iter().rev().find(|s| s.keeps_up()).or(steps.first()) else {
        println!("bench-live: no step ran");
        return;
    };
    let kept = top.keeps_up();
    let saturation =
        steps.iter().map(|s| (s.all.steady, s.plan.offered)).fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
    let cores = machine.verify.cores as f64;
    let limit = machine.limit(top.mean_signatures, top.mean_bytes);
    let per_core = top.all.steady / cores.max(1.0);
    let (p50, p99) =
        (percentile(&top.all.latency, 50).unwrap_or_default(), percentile(&top.all.latency, 99).unwrap_or_default());
    let rows = [
        ("cores (available_parallelism)".to_owned(), machine.verify.cores.to_string()),
        ("ed25519 strict verify, one core (v)".to_owned(), format!("{}/s", thousands(machine.verify.single))),
        (
            format!("SHA-256, one core, {HASH_MESSAGE_BYTES}-byte messages (h)"),
            format!("{} bytes/s", thousands(machine.hash)),
        ),
        (
            "mix per transaction (s, b)".to_owned(),
            format!("{:.2} signatures, {:.0} canonical bytes (means)", top.mean_signatures, top.mean_bytes),
        ),
        (
            format!("replication limit = c / ({NODES} x (s / v + b x {HASH_PASSES:.0} / h))"),
            format!("{} tx/s", thousands(limit)),
        ),
        (
            format!(
                "steady throughput ({} at {} tx/s offered)",
                if kept { "highest step kept up" } else { "no step kept up; first step" },
                top.plan.offered
            ),
            format!(
                "{:.0} tx/s (anchors {:.0}, proposals {:.0})",
                top.all.steady, top.kinds[0].steady, top.kinds[1].steady
            ),
        ),
        ("  per core".to_owned(), format!("{per_core:.0} tx/s")),
        ("  share of the replication limit".to_owned(), format!("{:.1} %", 100.0 * share(top.all.steady, limit))),
        ("  latency p50 / p99, submission to finality".to_owned(), format!("{} / {} ms", millis(p50), millis(p99))),
        (
            "saturation (highest steady throughput of any step)".to_owned(),
            format!("{:.0} tx/s at {} tx/s offered", saturation.0, saturation.1),
        ),
        (
            "FISCO BCOS 3.x (its performance test documentation)".to_owned(),
            format!(
                "{} tx/s, 4 nodes on one 10-core machine: {:.0} tx/s per core",
                thousands(FISCO_TPS),
                FISCO_TPS / FISCO_CORES
            ),
        ),
        (
            "Hyperledger Besu QBFT (Besu wiki, QBFT Performance: Caliper open test, simple contract)".to_owned(),
            "750 to 1,200 tx/s on 4 validators".to_owned(),
        ),
        (
            format!("apply latency p50 / p99, idle (n = {})", idle.len()),
            format!(
                "{} ms (goals <= {} / <= {} ms)",
                p50_p99(idle),
                millis(block_interval.saturating_add(Duration::from_millis(100))),
                millis(block_interval.saturating_mul(2))
            ),
        ),
        (
            format!("apply latency p50 / p99 under load at {} tx/s (n = {})", top.plan.offered, top.under_load.len()),
            format!("{} ms", p50_p99(&top.under_load)),
        ),
        ("event stream reconnects (gaps filled from /v1/blocks)".to_owned(), gaps.to_string()),
    ];
    println!("| figure | value |");
    println!("|---|---|");
    for (name, value) in &rows {
        println!("| {name} | {value} |");
    }
    println!();
    if plan.quick {
        println!("(--quick: short steps; the figures are indicative only.)");
    }
    println!(
        "bench-live: steady {:.0} tx/s, {per_core:.0} tx/s per core, {:.1} % of the replication limit, p50 {} ms, p99 {} ms",
        top.all.steady,
        100.0 * share(top.all.steady, limit),
        millis(p50),
        millis(p99)
    );
}

#[cfg(test)]
mod tests {
    use api_types::{ChainEvent, FinalizedTransaction};
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::BlockHash;
    use governance_contracts::types::Event;

    use super::*;

    /// From 1,500 tx/s up a full step holds at least 100,000 transactions and 60 s; a quick step lasts 6 s; the
    /// steady window drops the first fifth (at least two block intervals) and the last tenth.
    #[test]
    fn top_steps_hold_enough_transactions_and_time() {
        for offered in LADDER.iter().copied().filter(|r| *r >= TOP_RATE) {
            let plan = StepPlan::new(offered, false, Duration::from_secs(1));
            assert!(plan.count() >= TOP_TRANSACTIONS, "{offered} tx/s: {} transactions", plan.count());
            assert!(plan.length >= Duration::from_secs(TOP_SECONDS), "{offered} tx/s: {:?}", plan.length);
        }
        let quick = StepPlan::new(500, true, Duration::from_secs(1));
        assert_eq!((quick.length, quick.count()), (Duration::from_secs(6), 3_000));
        assert_eq!((quick.warm_up, quick.cool_down), (Duration::from_secs(2), Duration::from_millis(600)));
        let full = StepPlan::new(250, false, Duration::from_secs(1));
        assert_eq!((full.warm_up, full.cool_down), (Duration::from_secs(4), Duration::from_secs(2)));
    }

    /// The mix alternates anchors and proposals; every console's `seq` grows by one per anchor and its anchors
    /// always go to the same node; every proposal creates a new account.
    #[test]
    fn the_mix_never_repeats_a_seq_or_an_account() {
        let mut mix = Mix::new();
        let mut seqs = vec![0u64; CONSOLES];
        let mut nodes = vec![None; CONSOLES];
        let mut accounts = std::collections::BTreeSet::new();
        for i in 0..CONSOLES.saturating_mul(5) {
            let spec = mix.next(i);
            match spec {
                Spec::Anchor { console, seq } => {
                    assert_eq!(Kind::of(i), Kind::Anchor);
                    assert_eq!(seq, seqs[console].saturating_add(1), "console {console}");
                    seqs[console] = seq;
                    assert_eq!(*nodes[console].get_or_insert(spec.node()), spec.node());
                }
                Spec::Proposal { account, .. } => {
                    assert_eq!(Kind::of(i), Kind::Proposal);
                    assert!(accounts.insert(account), "account {account} created twice");
                }
            }
        }
        assert!(seqs.iter().all(|s| *s >= 2));
    }

    /// The benchmark genesis holds every console account with its role, within the genesis bounds.
    #[test]
    fn the_genesis_grants_every_console_its_role() {
        let genesis = genesis().unwrap();
        let consoles = genesis.grants.iter().filter(|g| g.role == RoleId::console()).count();
        assert_eq!(consoles, CONSOLES);
    }

    /// Each kind of load transaction is signed for its own sender and counts its signatures.
    #[test]
    fn load_transactions_decode_with_their_kind() {
        let genesis = genesis().unwrap();
        let signer = Signer { chain: genesis.identity(), officer: secret(super::super::OFFICER) };
        let specs = [Spec::Anchor { console: 5, seq: 1 }, Spec::Proposal { governor: 2, account: 7 }];
        let signed = sign_all(&signer, &specs, Height(100)).unwrap();
        assert_eq!(signed.len(), 2);
        for (spec, prepared) in specs.iter().zip(&signed) {
            let tx: governance_contracts::types::SignedTransaction =
                governance_contracts::codec::decode(&prepared.body).unwrap();
            assert_eq!(tx.tx.hash(&signer.chain), prepared.hash);
            assert_eq!(prepared.node, spec.node());
            match (&tx.tx.payload, prepared.kind) {
                (Payload::AnchorAuditTrail { seq, .. }, Kind::Anchor) => assert_eq!(*seq, 1),
                (Payload::SubmitProposal { approvals, .. }, Kind::Proposal) => assert_eq!(approvals.len(), 1),
                (payload, kind) => panic!("{kind:?} signed as {payload:?}"),
            }
        }
    }

    /// The replication limit is cores ÷ (nodes × (signatures ÷ verify rate + bytes × k ÷ hash rate)).
    #[test]
    fn the_replication_limit_follows_its_formula() {
        let verify = VerifyRates { single: 10_000.0, batch: 20_000.0, cores: 2 };
        let machine = Machine { verify, hash: 1e9 };
        let expected = 2.0 / (4.0 * (1.5 / 10_000.0 + 250.0 * 2.0 / 1e9));
        assert!((machine.limit(1.5, 250.0) - expected).abs() < 1e-6);
        assert_eq!(Machine { verify, hash: 0.0 }.limit(0.0, 0.0), 0.0);
    }

    /// Percentiles are nearest-rank; none of an empty series.
    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&samples, 99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&[], 99), None);
        assert_eq!(p50_p99(&[]), "-");
    }

    /// Events split across chunks come out whole, once each; comments and keep-alives are events without a name.
    #[test]
    fn server_sent_events_are_taken_whole_across_chunks() {
        let stream =
            b": keep-alive\n\nevent: finalized\ndata: {\"height\":7}\n\nevent: lagged\ndata: {\"missed\":2}\n\n";
        for split in 0..stream.len() {
            let (mut buffer, mut scanned, mut events) = (Vec::new(), 0, Vec::new());
            for part in [&stream[..split], &stream[split..]] {
                buffer.extend_from_slice(part);
                events.extend(take_events(&mut buffer, &mut scanned));
            }
            let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names, ["", "finalized", "lagged"], "split at {split}");
            assert_eq!(events[1].1, "{\"height\":7}");
            assert!(buffer.is_empty());
        }
    }

    /// A `finalized` event as the node writes it parses into what the benchmark reads: its height (also from the
    /// start of the data alone), outcomes and executed proposals.
    #[test]
    fn a_finalized_event_parses() {
        let proposal = governance_contracts::ids::ProposalId(Digest::sha256(&[b"p"]));
        let verdict = governance_contracts::types::Verdict { approvals: Vec::new(), requirements: Vec::new() };
        let event = ChainEvent::Finalized {
            height: Height(42),
            hash: BlockHash(Digest::sha256(&[b"b"])),
            time_ms: 1_000,
            transactions: vec![
                FinalizedTransaction { hash: TxHash(Digest::sha256(&[b"t"])), outcome: Outcome::Applied },
                FinalizedTransaction {
                    hash: TxHash(Digest::sha256(&[b"u"])),
                    outcome: Outcome::Rejected { reason: governance_contracts::error::Rejection::DuplicateTransaction },
                },
            ],
            events: vec![Event::ProposalExecuted { proposal, verdict }],
        };
        let data = serde_json::to_string(&event).unwrap();
        assert_eq!(event_height(&data), Some(42));
        let parsed: Finalized = serde_json::from_str(&data).unwrap();
        assert_eq!((parsed.height, parsed.time_ms), (Height(42), 1_000));
        let outcomes: Vec<bool> = parsed.transactions.iter().map(|t| t.outcome == Outcome::Applied).collect();
        assert_eq!(outcomes, [true, false]);
        assert_eq!(parsed.events.iter().filter(|e| e.event == "proposal_executed").count(), 1);
        assert_eq!(event_height("{\"type\":\"finalized\"}"), None);
    }

    /// `/proc` fields are read by key; a missing or malformed one is `None`.
    #[test]
    fn proc_fields_are_read_by_key() {
        let status = "Name:\tsynod\nVmRSS:\t   81234 kB\nThreads:\t9\n";
        assert_eq!(field(status, "VmRSS:"), Some(81_234));
        assert_eq!(field("write_bytes: 4096\n", "write_bytes:"), Some(4_096));
        assert_eq!(field(status, "VmSwap:"), None);
        assert_eq!(field("VmRSS: lots\n", "VmRSS:"), None);
    }
}
