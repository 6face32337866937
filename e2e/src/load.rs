//! A steady load of governance and role-checked transactions, and the record that proves none it saw acknowledged
//! was lost.
//!
//! [`Load::start`] runs two threads beside the test:
//!
//! - the **sender** posts a signed transaction every `1 / rate` seconds (canonical bytes to `POST
//!   /v1/transactions`), to the network's nodes in turn, skipping a node that does not answer within a second (it
//!   may be killed, paused or cut off; that transaction counts as *unsent*). The transactions cycle through four
//!   kinds, sent by the demo organisations' accounts in turn:
//!   1. an administrator submits a committee proposal defining a new role, with their own approval (it stays open:
//!      one organisation's weight is short of the threshold);
//!   2. a compliance officer grants the committee's delegable role to their organisation's operator account (a
//!      one-action proposal under the compliance role, carrying the officer's approval, so it executes in the block
//!      that includes it);
//!   3. the same officer revokes it (alternating with 2; one that finds the grant already in that state is
//!      included, and its proposal fails as stale: still a finalised receipt);
//!   4. another organisation's administrator approves an open load proposal that is already on chain (the third
//!      approval of a proposal carries it over the threshold and it executes).
//! - the **follower** reads every finalised block in order from whichever node answers and records, for each
//!   transaction the sender had accepted, the height of the block whose receipts list it: from then on that
//!   transaction is **acknowledged** (its receipt is finalised).
//!
//! [`Load::stop`] ends both and returns the [`LoadReport`]; [`crate::Harness::assert_acknowledged_kept`] then checks
//! that every running node serves each acknowledged transaction at the height it was acknowledged at.

// Indices are taken modulo lists checked non-empty at the start, and counters stay far below overflow.
#![allow(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::codec::encode;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, RoleId};
use governance_contracts::types::{Action, Proposal, SignedTransaction};
use serde_json::Value;

use crate::sign::{self, Signer};

/// How long a submission may take before the node counts as unreachable for it.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a block read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the follower looks for new blocks.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// Blocks a load transaction stays valid for.
const TX_TTL: u64 = 400;
/// Blocks a load proposal stays open for.
const PROPOSAL_TTL: u64 = 2_000;
/// Largest answer read from a node.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// How many refusal messages the report keeps.
const KEPT_REFUSALS: usize = 20;

/// One demo organisation's signing accounts.
struct Organisation {
    admin: Signer,
    compliance: Signer,
    operator: AccountId,
}

/// What the load saw.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Transactions posted (including those no node took).
    pub sent: u64,
    /// Posts no node answered in time (the node was down, paused or cut off).
    pub unsent: u64,
    /// Transactions a node refused, with a sample of the reasons.
    pub refused: u64,
    /// Up to 20 refusal messages.
    pub refusals: Vec<String>,
    /// Transactions a node accepted into its pool.
    pub accepted: u64,
    /// Accepted transactions never acknowledged by the time the load stopped (taken by a node that was then killed
    /// or cut off, or not yet included).
    pub unacknowledged: u64,
    /// Accepted transactions whose receipt was finalised, by hash (`sha256:…`), with the height of their block.
    pub acknowledged: BTreeMap<String, u64>,
    /// The last height the follower read.
    pub followed_to: u64,
}

impl LoadReport {
    /// One line for the test's output.
    pub fn summary(&self) -> String {
        format!(
            "load: {} sent, {} accepted, {} acknowledged (followed to height {}), {} accepted but never acknowledged, \
             {} refused, {} unsent",
            self.sent,
            self.accepted,
            self.acknowledged.len(),
            self.followed_to,
            self.unacknowledged,
            self.refused,
            self.unsent
        )
    }
}

/// A load proposal on chain that the sender may approve.
struct OpenProposal {
    proposal: Proposal,
    /// The proposing organisation's index.
    proposer: usize,
    /// Approvals the sender has sent for it besides the proposer's.
    approvals: usize,
}

/// State shared by the sender and the follower.
#[derive(Default)]
struct Shared {
    report: LoadReport,
    /// Accepted and not yet acknowledged: hash → the last height it is valid at, and when it was accepted.
    pending: BTreeMap<String, (u64, Instant)>,
    /// Proposals the sender submitted, by the hash of their transaction, until they are acknowledged.
    submitted: BTreeMap<String, (Proposal, usize)>,
    /// Load proposals on chain that need more approvals.
    open: Vec<OpenProposal>,
    /// The newest height the follower read (0 before it read any).
    height: u64,
}

fn lock(shared: &Mutex<Shared>) -> anyhow::Result<std::sync::MutexGuard<'_, Shared>> {
    shared.lock().map_err(|_| anyhow!("the load's state is poisoned"))
}

/// A running load; stop it with [`Load::stop`]. Dropping it stops it too, discarding the report.
pub struct Load {
    stop_sender: Arc<AtomicBool>,
    stop_follower: Arc<AtomicBool>,
    sender: Option<JoinHandle<anyhow::Result<()>>>,
    follower: Option<JoinHandle<anyhow::Result<()>>>,
    shared: Arc<Mutex<Shared>>,
}

impl Load {
    /// Starts sending `rate` transactions per second to `nodes` (API base URLs) of the chain `chain`, signed with
    /// the demo keys in directory `keys` (`<account>.pem`) of organisations `org1` to `org<organisations>`.
    pub fn start(
        chain: ChainIdentity,
        nodes: Vec<String>,
        keys: &std::path::Path,
        organisations: usize,
        rate: u32,
    ) -> anyhow::Result<Self> {
        if nodes.is_empty() || organisations < 2 || rate == 0 {
            bail!("a load needs nodes, at least two organisations and a rate");
        }
        let mut orgs = Vec::new();
        for n in 1..=organisations {
            let operator = format!("org{n}-ops");
            orgs.push(Organisation {
                admin: sign::demo_account(keys, &format!("org{n}-admin"))?,
                compliance: sign::demo_account(keys, &format!("org{n}-compliance"))?,
                operator: AccountId::new(operator.as_str()).map_err(|e| anyhow!("account {operator}: {e}"))?,
            });
        }
        let stop_sender = Arc::new(AtomicBool::new(false));
        let stop_follower = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let agent = |timeout| -> ureq::Agent {
            ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into()
        };
        let follower = Follower {
            nodes: nodes.clone(),
            agent: agent(READ_TIMEOUT),
            shared: Arc::clone(&shared),
            stop: Arc::clone(&stop_follower),
        };
        let sender = Sender {
            chain,
            nodes,
            orgs,
            agent: agent(SEND_TIMEOUT),
            period: Duration::from_secs(1).checked_div(rate).unwrap_or(Duration::from_millis(100)),
            shared: Arc::clone(&shared),
            stop: Arc::clone(&stop_sender),
        };
        let follower = std::thread::Builder::new().name("load-follower".into()).spawn(move || follower.run())?;
        let sender = std::thread::Builder::new().name("load-sender".into()).spawn(move || sender.run())?;
        Ok(Self { stop_sender, stop_follower, sender: Some(sender), follower: Some(follower), shared })
    }

    /// How many transactions have been acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        lock(&self.shared).map(|s| s.report.acknowledged.len()).unwrap_or_default()
    }

    /// Stops sending, then keeps following until every accepted transaction is acknowledged or was accepted more
    /// than `settle` ago (a node killed or cut off may have taken it and never passed it on: it was never
    /// acknowledged, so nothing was lost), and returns what the load saw. Fails when either thread failed.
    pub fn stop(mut self, settle: Duration) -> anyhow::Result<LoadReport> {
        self.stop_sender.store(true, Ordering::SeqCst);
        if let Some(sender) = self.sender.take() {
            sender.join().map_err(|_| anyhow!("the load sender panicked"))??;
        }
        while lock(&self.shared)?.pending.values().any(|(_, accepted)| accepted.elapsed() < settle) {
            std::thread::sleep(FOLLOW_EVERY);
        }
        self.stop_follower.store(true, Ordering::SeqCst);
        if let Some(follower) = self.follower.take() {
            follower.join().map_err(|_| anyhow!("the load follower panicked"))??;
        }
        let shared = lock(&self.shared)?;
        let mut report = shared.report.clone();
        report.unacknowledged = u64::try_from(shared.pending.len()).unwrap_or(u64::MAX);
        Ok(report)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop_sender.store(true, Ordering::SeqCst);
        self.stop_follower.store(true, Ordering::SeqCst);
        for thread in [self.sender.take(), self.follower.take()].into_iter().flatten() {
            let _ = thread.join();
        }
    }
}

/// What became of one post.
enum Posted {
    Accepted,
    Refused(String),
    Unreachable,
}

/// The sender thread.
struct Sender {
    chain: ChainIdentity,
    nodes: Vec<String>,
    orgs: Vec<Organisation>,
    agent: ureq::Agent,
    period: Duration,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
}

impl Sender {
    fn run(self) -> anyhow::Result<()> {
        let mut sent: u64 = 0;
        let mut next = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now < next {
                std::thread::sleep(next.saturating_duration_since(now).min(FOLLOW_EVERY));
                continue;
            }
            next = next.checked_add(self.period).unwrap_or(now);
            let height = lock(&self.shared)?.height;
            if height == 0 {
                continue; // The follower has not read a block yet: no height to reckon validity from.
            }
            let (tx, proposal) = self.build(sent, Height(height))?;
            let hash = tx.tx.hash(&self.chain).to_string();
            let node = &self.nodes[usize::try_from(sent).unwrap_or_default() % self.nodes.len()];
            let posted = self.post(node, &tx);
            sent = sent.saturating_add(1);
            let mut shared = lock(&self.shared)?;
            shared.report.sent = sent;
            match posted {
                Posted::Accepted => {
                    shared.report.accepted = shared.report.accepted.saturating_add(1);
                    shared.pending.insert(hash.clone(), (tx.tx.valid_until.0, Instant::now()));
                    if let Some(proposal) = proposal {
                        shared.submitted.insert(hash, proposal);
                    }
                }
                Posted::Refused(why) => {
                    shared.report.refused = shared.report.refused.saturating_add(1);
                    if shared.report.refusals.len() < KEPT_REFUSALS {
                        shared.report.refusals.push(why);
                    }
                }
                Posted::Unreachable => shared.report.unsent = shared.report.unsent.saturating_add(1),
            }
        }
        Ok(())
    }

    /// The `i`th transaction of the cycle, and the proposal it submits (with its proposer's index) if any.
    fn build(&self, i: u64, height: Height) -> anyhow::Result<(SignedTransaction, Option<(Proposal, usize)>)> {
        let count = u64::try_from(self.orgs.len()).context("organisation count")?;
        let round = i / 4;
        let org_index = usize::try_from(round % count).context("organisation index")?;
        let org = &self.orgs[org_index];
        let valid_until = height.plus(TX_TTL);
        match i % 4 {
            1 | 2 => {
                // Grant in even rounds of this organisation, revoke in odd ones.
                let role = RoleId::new(synod::localnet::DEMO_DELEGABLE_ROLE).context("the demo role")?;
                let account = org.operator.clone();
                let action = if (round / count).is_multiple_of(2) {
                    Action::GrantRole { account, role, expires_at: height.plus(PROPOSAL_TTL), expected: None }
                } else {
                    Action::RevokeRole { account, role }
                };
                let proposal = sign::proposal(&org.compliance.0, action, height.plus(PROPOSAL_TTL), i)?;
                Ok((sign::submission(&self.chain, &org.compliance, &proposal, valid_until)?, None))
            }
            3 => match self.approval(valid_until)? {
                Some(tx) => Ok((tx, None)),
                None => self.define_role(org_index, i, height),
            },
            _ => self.define_role(org_index, i, height),
        }
    }

    /// Organisation `org`'s administrator proposes defining role `load-role-<i>`, with their own approval.
    fn define_role(
        &self,
        org: usize,
        i: u64,
        height: Height,
    ) -> anyhow::Result<(SignedTransaction, Option<(Proposal, usize)>)> {
        let admin = &self.orgs[org].admin;
        let proposal =
            sign::proposal(&admin.0, sign::define_role(&format!("load-role-{i}"))?, height.plus(PROPOSAL_TTL), i)?;
        let tx = sign::submission(&self.chain, admin, &proposal, height.plus(TX_TTL))?;
        Ok((tx, Some((proposal, org))))
    }

    /// The next approval of an open load proposal by an organisation that has not approved it, if one is open.
    fn approval(&self, valid_until: Height) -> anyhow::Result<Option<SignedTransaction>> {
        let mut shared = lock(&self.shared)?;
        let Some(open) = shared.open.first_mut() else { return Ok(None) };
        open.approvals = open.approvals.saturating_add(1);
        let approver = &self.orgs[open.proposer.saturating_add(open.approvals) % self.orgs.len()].admin;
        let tx = sign::approval(&self.chain, approver, &open.proposal, &self.chain, valid_until)?;
        // Two approvals besides the proposer's carry three of the organisations' weight.
        if open.approvals >= 2 || open.approvals.saturating_add(1) >= self.orgs.len() {
            shared.open.remove(0);
        }
        Ok(Some(tx))
    }

    fn post(&self, node: &str, tx: &SignedTransaction) -> Posted {
        let url = format!("{node}/v1/transactions");
        let response = self.agent.post(&url).header("content-type", "application/octet-stream").send(&encode(tx)[..]);
        match response {
            Err(_) => Posted::Unreachable,
            Ok(mut response) => {
                let status = response.status().as_u16();
                if status == 200 || status == 202 {
                    return Posted::Accepted;
                }
                let body =
                    response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string().unwrap_or_default();
                Posted::Refused(format!("{node}: {status} {body}"))
            }
        }
    }
}

/// The follower thread.
struct Follower {
    nodes: Vec<String>,
    agent: ureq::Agent,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
}

impl Follower {
    fn run(self) -> anyhow::Result<()> {
        let mut next: u64 = 1;
        let mut node = 0usize;
        let mut misses = 0usize;
        while !self.stop.load(Ordering::SeqCst) {
            match self.block(&self.nodes[node % self.nodes.len()], next) {
                Ok(Some(receipts)) => {
                    self.record(next, &receipts)?;
                    next = next.saturating_add(1);
                    misses = 0;
                }
                // Not there yet, or the node is down or behind: ask the next node, and wait after a full round.
                Ok(None) | Err(_) => {
                    node = node.wrapping_add(1);
                    misses = misses.saturating_add(1);
                    if misses >= self.nodes.len() {
                        misses = 0;
                        std::thread::sleep(FOLLOW_EVERY);
                    }
                }
            }
        }
        Ok(())
    }

    /// The hashes of the transactions in finalised block `height` at `node`, or `None` when it has none yet.
    fn block(&self, node: &str, height: u64) -> anyhow::Result<Option<Vec<String>>> {
        let url = format!("{node}/v1/blocks/{height}");
        let mut response = self.agent.get(&url).call().with_context(|| format!("GET {url}"))?;
        match response.status().as_u16() {
            200 => {
                let text = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string()?;
                let body: Value = serde_json::from_str(&text).with_context(|| format!("{url} is not JSON"))?;
                let receipts = block_receipts(&body).with_context(|| format!("{url}: no receipts in {body}"))?;
                Ok(Some(receipts))
            }
            404 => Ok(None),
            code => bail!("{url}: {code}"),
        }
    }

    /// Records block `height` holding the transactions `hashes`.
    fn record(&self, height: u64, hashes: &[String]) -> anyhow::Result<()> {
        let mut shared = lock(&self.shared)?;
        shared.height = height;
        shared.report.followed_to = height;
        for hash in hashes {
            if shared.pending.remove(hash).is_some() {
                shared.report.acknowledged.insert(hash.clone(), height);
            }
            if let Some((proposal, proposer)) = shared.submitted.remove(hash) {
                shared.open.push(OpenProposal { proposal, proposer, approvals: 0 });
            }
        }
        // A transaction not included by the last height it was valid at never will be.
        shared.pending.retain(|_, (valid_until, _)| *valid_until >= height);
        Ok(())
    }
}

/// The transaction hashes listed by the receipts of a `/v1/blocks/{height}` answer.
pub fn block_receipts(body: &Value) -> Option<Vec<String>> {
    body["receipts"].as_array()?.iter().map(|receipt| receipt["tx"].as_str().map(str::to_owned)).collect()
}
