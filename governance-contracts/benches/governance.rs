//! Governance benchmarks: what it costs, on this machine, to apply a proposal approved by a large committee, to apply
//! a full block of role-checked transactions, to check transactions at the mempool's door, and what the ed25519
//! primitives underneath cost.
//!
//! A program that prints figures, not a test: no time is asserted and it exits 0 whatever it measures.
//!
//! `cargo bench -p governance-contracts --bench governance` (full) or `... -- --quick` (a smoke run for CI).

#![allow(clippy::disallowed_methods, reason = "a benchmark reads the clock")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::contracts::BlockContext;
use governance_contracts::crypto::{Digest, PublicKey, SecretKey, Signature, SignedDigest, verify_all};
use governance_contracts::execution::{
    BlockOutcome, apply_block, check_transaction, check_transaction_in, next_block_context,
};
use governance_contracts::ids::{Height, RoleId, Weight};
use governance_contracts::state::{ChangeSet, MemoryStore, Overlay, Store, root};
use governance_contracts::testkit::{self, TestChain, account, member, public, secret};
use governance_contracts::types::{
    Action, Approval, Genesis, GenesisRole, Outcome, Payload, Principal, RoleDefinition, RoleScope, SignedTransaction,
};

/// Committee size of figure 1.
const COMMITTEE: usize = 200;
/// Approvals carried by the proposal of figure 1: the fewest that reach the three quarters of 200 that re-weighting a
/// member asks (4 × 150 ≥ 3 × 200).
const APPROVALS: usize = 150;
/// The figure-1 target for verifying and applying that proposal.
const PROPOSAL_TARGET: Duration = Duration::from_millis(10);
/// Transactions in the block of figure 2.
const BLOCK_TXS: usize = 5_000;
/// The delegable role granted in figure 2.
const DELEGABLE_ROLE: &str = "kyc-reviewer";
/// Distinct (key, digest, signature) triples cycled through by the single-signature figures.
const KEY_POOL: usize = 256;
/// Batch sizes of figure 3.
const BATCH_SIZES: [usize; 2] = [64, APPROVALS];

/// How many times each figure is measured.
struct Plan {
    mode: &'static str,
    /// Untimed rounds before each timed series.
    warmup: usize,
    /// Figure 1: timed rounds (each: `apply_block`, then `verify_all`, then the transaction's signature).
    proposal_rounds: usize,
    /// Figure 2: timed rounds (each: `apply_block` of the block, its state-root commit, its signature checks).
    block_rounds: usize,
    /// Figure 2: timed passes of `check_transaction` over the block's 5,000 transactions.
    check_passes: usize,
    /// Figure 3: timed samples per primitive (a sample is `crypto_ops` operations, or one batch).
    crypto_samples: usize,
    /// Figure 3: single verifications or signatures per sample.
    crypto_ops: u32,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                mode: "quick (--quick: few iterations, a smoke run; figures are indicative only)",
                warmup: 1,
                proposal_rounds: 15,
                block_rounds: 2,
                check_passes: 1,
                crypto_samples: 15,
                crypto_ops: 100,
            }
        } else {
            Self {
                mode: "full",
                warmup: 3,
                proposal_rounds: 501,
                block_rounds: 21,
                check_passes: 5,
                crypto_samples: 201,
                crypto_ops: 100,
            }
        }
    }
}

/// Order statistics of one timed series (nearest-rank percentiles).
#[derive(Clone, Copy)]
struct Stats {
    runs: usize,
    median: Duration,
    p90: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let runs = samples.len();
    let rank = |percent: usize| {
        let index = runs.saturating_mul(percent).div_ceil(100).saturating_sub(1);
        samples.get(index).copied().unwrap_or_default()
    };
    Stats { runs, median: rank(50), p90: rank(90) }
}

/// Runs `f` `warmup` times untimed, then `runs` times timed; each result is dropped after its clock stops.
fn measure<T>(warmup: usize, runs: usize, mut f: impl FnMut() -> T) -> Stats {
    for _ in 0..warmup {
        drop(black_box(f()));
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = black_box(f());
        samples.push(start.elapsed());
        drop(out);
    }
    stats(samples)
}

/// Times one call; its result is dropped after the clock stops.
fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    let out = black_box(f());
    let elapsed = start.elapsed();
    drop(out);
    elapsed
}

fn per_op(total: Duration, ops: u32) -> Duration {
    Duration::from_secs_f64(total.as_secs_f64() / f64::from(ops.max(1)))
}

fn rate(count: f64, time: Duration) -> String {
    let seconds = time.as_secs_f64();
    if seconds <= 0.0 {
        return "n/a".into();
    }
    let digits = format!("{:.0}", count / seconds);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && digits.len().saturating_sub(i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

fn percent(part: Duration, whole: Duration) -> String {
    if whole.is_zero() { "n/a".into() } else { format!("{:.0}%", 100.0 * part.as_secs_f64() / whole.as_secs_f64()) }
}

/// The rows of the results table.
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, figure: &str, runs: String, median: String, p90: String, note: String) {
        self.rows.push([figure.into(), runs, median, p90, note]);
    }

    fn timed(&mut self, figure: &str, s: Stats, note: String) {
        self.row(figure, s.runs.to_string(), fmt(s.median), fmt(s.p90), note);
    }

    fn print(&self) {
        let header = ["figure", "runs", "median", "p90", "rate / note"].map(String::from);
        let mut widths = [0usize; 5];
        for row in std::iter::once(&header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |row: &[String; 5]| {
            let [w0, w1, w2, w3, _] = widths;
            println!("| {:<w0$} | {:>w1$} | {:>w2$} | {:>w3$} | {} |", row[0], row[1], row[2], row[3], row[4]);
        };
        line(&header);
        let [w0, w1, w2, w3, w4] = widths.map(|w| "-".repeat(w));
        println!("|-{w0}-|-{w1}:|-{w2}:|-{w3}:|-{w4}-|");
        for row in &self.rows {
            line(row);
        }
    }
}

fn with_sizes(txs: Vec<SignedTransaction>) -> Vec<(SignedTransaction, usize)> {
    txs.into_iter()
        .map(|tx| {
            let size = encode(&tx).len();
            (tx, size)
        })
        .collect()
}

fn executed_all(outcome: &BlockOutcome) -> bool {
    outcome.receipts.iter().all(|r| r.outcome == Outcome::Applied && TestChain::executed(r))
}

/// Figure 1's input: one `SubmitProposal` of `SetMemberWeight` carrying 150 governor approvals, on the state
/// `testkit::genesis(200)` creates.
struct ProposalCase {
    store: MemoryStore,
    height: Height,
    block: Vec<(SignedTransaction, usize)>,
    approvals: Vec<SignedDigest>,
    tx_check: SignedDigest,
}

fn proposal_case() -> ProposalCase {
    let mut chain = TestChain::with_members(COMMITTEE);
    let last = format!("m{}", COMMITTEE.saturating_sub(1));
    let action = Action::SetMemberWeight { member: member(&last), expected: Weight(1), weight: Weight(2) };
    let proposal = chain.proposal(Principal::Account(account("m0-gov")), vec![action]);
    let approvals: Vec<Approval> =
        TestChain::governors(APPROVALS).iter().map(|gov| chain.approval(&proposal, gov)).collect();
    let digest = proposal.approval_digest(&chain.chain);
    let items = approvals.iter().map(|a| SignedDigest { key: a.key, digest, signature: a.signature }).collect();
    let payload =
        Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).expect("within MAX_APPROVALS") };
    let tx = chain.account_tx("m0-gov", payload);
    let tx_check = SignedDigest { key: tx.key, digest: tx.tx.hash(&chain.chain).0, signature: tx.signature };
    let height = chain.height.plus(1);
    let block = with_sizes(vec![tx]);
    let outcome = apply_block(&chain.store, height, &block).expect("the block applies");
    assert!(executed_all(&outcome), "the proposal must execute: {:?}", outcome.receipts);
    ProposalCase { store: chain.store, height, block, approvals: items, tx_check }
}

/// Figure 2's input: 5,000 transactions by `m0-compliance`, each submitting a one-action proposal with its own
/// approval (alternately freezing an ordinary account and granting the delegable role to one), each executing at
/// once under the `compliance` role rule, which asks an officer of the target's own member; on a 200-member state
/// where the 5,000 target accounts, all of `m0`, were created by an earlier block.
struct BlockCase {
    store: MemoryStore,
    height: Height,
    block: Vec<(SignedTransaction, usize)>,
    /// Each transaction's signature and its approval's, as execution checks them.
    signatures: Vec<(SignedDigest, [SignedDigest; 1])>,
}

fn block_genesis() -> Genesis {
    let mut genesis = testkit::genesis(COMMITTEE);
    let role = GenesisRole {
        role: RoleId::new(DELEGABLE_ROLE).expect("valid name"),
        definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 100_000 },
    };
    genesis.roles.try_push(role).expect("within bound");
    genesis
}

fn target(i: usize) -> String {
    format!("t{i}")
}

fn block_case() -> BlockCase {
    let mut chain = TestChain::new(block_genesis());
    // Genesis holds at most 4,096 accounts, so the targets come from a setup block: `m0`'s governor creates them
    // in proposals of 25 it approves itself (the `TargetGovernor` rule), `m0` being the officer's own member.
    let mut setup = Vec::new();
    for m in 0..COMMITTEE {
        let actions: Vec<Action> = (m..BLOCK_TXS)
            .step_by(COMMITTEE)
            .map(|i| Action::CreateAccount {
                account: account(&target(i)),
                member: member("m0"),
                key: public(&target(i)),
            })
            .collect();
        let gov = "m0-gov".to_owned();
        let proposal = chain.proposal(Principal::Account(account(&gov)), actions);
        let approvals = BoundedVec::try_new(vec![chain.approval(&proposal, &gov)]).expect("one approval");
        setup.push(chain.account_tx(&gov, Payload::SubmitProposal { proposal, approvals }));
    }
    let outcome = chain.apply_block(setup);
    assert!(executed_all(&outcome), "the setup block must create every target account");

    let role = RoleId::new(DELEGABLE_ROLE).expect("valid name");
    let officer = "m0-compliance";
    let txs: Vec<SignedTransaction> = (0..BLOCK_TXS)
        .map(|i| {
            let who = account(&target(i));
            let action = if i % 2 == 0 {
                Action::FreezeAccount { account: who }
            } else {
                Action::GrantRole {
                    account: who,
                    role: role.clone(),
                    expires_at: chain.height.plus(1_000),
                    expected: None,
                }
            };
            let proposal = chain.proposal(Principal::Account(account(officer)), vec![action]);
            let approvals = BoundedVec::try_new(vec![chain.approval(&proposal, officer)]).expect("one approval");
            chain.account_tx(officer, Payload::SubmitProposal { proposal, approvals })
        })
        .collect();
    let height = chain.height.plus(1);
    let block = with_sizes(txs);
    let outcome = apply_block(&chain.store, height, &block).expect("the block applies");
    assert!(executed_all(&outcome), "every transaction of the block must execute");
    let signatures = block
        .iter()
        .map(|(tx, _)| {
            let own = SignedDigest { key: tx.key, digest: tx.tx.hash(&chain.chain).0, signature: tx.signature };
            let Payload::SubmitProposal { proposal, approvals } = &tx.tx.payload else {
                unreachable!("every transaction of the block submits a proposal")
            };
            let approval = approvals.first().expect("one approval");
            let digest = proposal.approval_digest(&chain.chain);
            (own, [SignedDigest { key: approval.key, digest, signature: approval.signature }])
        })
        .collect();
    BlockCase { store: chain.store, height, block, signatures }
}

/// The block's writes to the governance tables, as `apply_block` hands them to the state tree: the outcome's change
/// set minus the tree's own tables and minus deletions of keys the base never held.
fn state_changes(base: &dyn Store, outcome: &BlockOutcome) -> ChangeSet {
    outcome
        .changes
        .iter()
        .filter(|((table, key), value)| {
            table.in_state_root() && (value.is_some() || base.get(*table, key).ok().flatten().is_some())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Distinct keys, digests and signatures for figure 3.
fn signed_pool(count: usize, same_digest: bool) -> (Vec<SecretKey>, Vec<SignedDigest>) {
    let keys: Vec<SecretKey> = (0..count).map(|i| secret(&format!("bench-key-{i}"))).collect();
    let items = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let salt = if same_digest { 0 } else { i };
            let digest = Digest::sha256(&[b"synod-bench", &salt.to_le_bytes()]);
            SignedDigest { key: key.public_key(), digest, signature: key.sign(&digest) }
        })
        .collect();
    (keys, items)
}

fn verify_one(key: &PublicKey, digest: &Digest, signature: &Signature) -> bool {
    key.verify(black_box(digest), black_box(signature))
}

fn print_method(plan: &Plan) {
    let profile = if cfg!(debug_assertions) {
        "debug assertions ON (an unoptimised or dev build): figures are NOT representative"
    } else {
        "optimised, no debug assertions (`cargo bench` builds with the `bench` profile, which inherits `release`)"
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or_else(|_| "unknown".into(), |n| n.to_string());
    let target_ms = PROPOSAL_TARGET.as_millis();
    let (rounds, warmup, samples, ops) = (plan.proposal_rounds, plan.warmup, plan.crypto_samples, plan.crypto_ops);
    let per_member = BLOCK_TXS / COMMITTEE;
    let (a, c, t) = (APPROVALS, COMMITTEE, target_ms);
    println!("# Synod governance benchmark");
    println!();
    println!("## Method");
    println!("- Mode: {}.", plan.mode);
    println!("- Build profile: {profile}.");
    println!("- Machine: {cpu}, {cpus} logical CPUs. Single-threaded: everything runs on the main thread (the");
    println!("  crate spawns none, batch verification included), so every figure is the cost on one core.");
    println!("- Clock: std::time::Instant around each timed call. Inputs are built and signed before the clock");
    println!("  starts; results pass through std::hint::black_box and are dropped after it stops. The parts of");
    println!("  one figure are timed in the same round, one after the other, so interference hits them alike,");
    println!("  and a `rest` is computed per round. median and p90: nearest rank over the timed rounds.");
    println!("- apply_block reads the pre-state (&dyn Store) and returns a change set without writing to it, so");
    println!("  every run starts from the identical pre-state and does identical work (no clone is needed).");
    println!("1. One SubmitProposal (SetMemberWeight) carrying {a} governor approvals (3 x {a} >= 2 x {c}) on");
    println!("   testkit::genesis({c}) ({c} members of weight 1, {c} sealers): one apply_block with that single");
    println!("   transaction, state-root commit included; {rounds} rounds after {warmup} warm-up. Target < {t} ms.");
    println!("   Each round also times crypto::verify_all over the {a} approvals (1a) and the transaction's");
    println!("   strict PublicKey::verify (1b); 1c = 1 - 1a - 1b.");
    println!("2. A block of {BLOCK_TXS} transactions by m0-compliance, each a SubmitProposal of one action with");
    println!("   its own approval: FreezeAccount (even) or GrantRole of the delegable role `{DELEGABLE_ROLE}` (odd)");
    println!("   on distinct ordinary accounts ({per_member} per member, created by an earlier block); each executes");
    println!("   at once under the compliance role rule. apply_block of the block, state-root commit included;");
    println!(
        "   {} rounds after 2 warm-up applies. Each round also times (2a) state::root::commit over the",
        plan.block_rounds
    );
    println!("   block's state changes alone (its root is checked equal to apply_block's) and (2b) the block's");
    println!("   signature checks alone (each tx's PublicKey::verify and its approval's verify_all, as execution");
    println!("   does them); 2c = 2 - 2a - 2b. 2d: check_transaction_in (the mempool's check, with the next");
    println!("   block's context built once per pass, as a mempool does once per height) of each of the");
    println!(
        "   {BLOCK_TXS} transactions against the pre-state, {} timed pass(es) after an untimed pass that",
        plan.check_passes
    );
    println!("   checks every one is accepted. 2e: BlockContext::new, built once per height, {samples} samples of");
    println!("   {ops} calls.");
    println!("3. ed25519 on this machine, {samples} samples each after {warmup} warm-up: strict verification");
    println!("   (PublicKey::verify) and signing, {ops} operations per sample over {KEY_POOL} distinct keys and");
    println!("   digests; crypto::verify_all, one batch per sample, of 64 and {APPROVALS} distinct keys signing one");
    println!("   digest (as a proposal's approvals do).");
    println!();
}

/// Figure 1's measurements.
struct ProposalFigures {
    total: Stats,
    batch: Stats,
    tx_sig: Stats,
    /// Per round: total minus both signature parts.
    rest: Stats,
}

fn proposal_figures(plan: &Plan) -> ProposalFigures {
    let case = proposal_case();
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in 0..plan.warmup.saturating_add(plan.proposal_rounds) {
        let total = time(|| apply_block(black_box(&case.store), case.height, black_box(&case.block)));
        let batch = time(|| verify_all(black_box(&case.approvals)));
        let t = &case.tx_check;
        let tx_sig = time(|| verify_one(&t.key, &t.digest, &t.signature));
        if round >= plan.warmup {
            let rest = total.saturating_sub(batch).saturating_sub(tx_sig);
            for (series, sample) in samples.iter_mut().zip([total, batch, tx_sig, rest]) {
                series.push(sample);
            }
        }
    }
    let [total, batch, tx_sig, rest] = samples.map(stats);
    ProposalFigures { total, batch, tx_sig, rest }
}

/// Figure 2's measurements.
struct BlockFigures {
    block: Stats,
    commit: Stats,
    signatures: Stats,
    /// Per round: the block minus its commit and its signature checks.
    rest: Stats,
    /// Per pass over the whole block.
    check: Stats,
    /// Per `crypto_ops` calls of `BlockContext::new`, which every `check_transaction` builds.
    context: Stats,
    entries: usize,
}

fn block_figures(plan: &Plan) -> BlockFigures {
    let case = block_case();
    let outcome = apply_block(&case.store, case.height, &case.block).expect("the block applies");
    let changes = state_changes(&case.store, &outcome);
    let mut samples: [Vec<Duration>; 4] = Default::default();
    // Building the case applied the block once and this applied it again: enough warm-up for runs this long.
    for _ in 0..plan.block_rounds {
        let block = time(|| apply_block(black_box(&case.store), case.height, black_box(&case.block)));
        let mut overlay = Overlay::new(&case.store);
        overlay.absorb(changes.clone());
        let mut root = None;
        let commit = time(|| root = Some(root::commit(&mut overlay, black_box(&changes), case.height)));
        let root = root.and_then(Result::ok).expect("the commit succeeds");
        assert_eq!(root, outcome.state_root, "the separated commit must reproduce apply_block's root");
        drop(overlay);
        let signatures = time(|| {
            case.signatures
                .iter()
                .filter(|(own, approval)| {
                    verify_one(&own.key, &own.digest, &own.signature) && verify_all(approval).is_ok()
                })
                .count()
        });
        let rest = block.saturating_sub(commit).saturating_sub(signatures);
        for (series, sample) in samples.iter_mut().zip([block, commit, signatures, rest]) {
            series.push(sample);
        }
    }
    let [block, commit, signatures, rest] = samples.map(stats);
    // The warm-up pass also checks that the mempool accepts every transaction of the block.
    let accepted = case.block.iter().filter(|(tx, size)| check_transaction(&case.store, tx, *size).is_ok()).count();
    assert_eq!(accepted, BLOCK_TXS, "the mempool must accept every transaction of the block");
    // A mempool builds the next block's context once per height and checks every arriving transaction in it.
    let check = measure(0, plan.check_passes, || {
        let ctx = next_block_context(black_box(&case.store)).expect("context");
        case.block.iter().filter(|(tx, size)| check_transaction_in(&case.store, &ctx, tx, *size).is_ok()).count()
    });
    let calls = usize::try_from(plan.crypto_ops).expect("a small count");
    let context = measure(plan.warmup, plan.crypto_samples, || {
        (0..calls).filter(|_| BlockContext::new(black_box(&case.store), case.height).is_ok()).count()
    });
    BlockFigures { block, commit, signatures, rest, check, context, entries: changes.len() }
}

/// Figure 3's measurements, per operation.
struct CryptoFigures {
    verify: Stats,
    batches: Vec<(usize, Stats)>,
    sign: Stats,
}

fn per_op_stats(s: Stats, ops: u32) -> Stats {
    Stats { runs: s.runs, median: per_op(s.median, ops), p90: per_op(s.p90, ops) }
}

fn crypto_figures(plan: &Plan) -> CryptoFigures {
    let (keys, pool) = signed_pool(KEY_POOL, false);
    let ops = plan.crypto_ops;
    let take = usize::try_from(ops).expect("a small count");
    let verify = measure(plan.warmup, plan.crypto_samples, || {
        pool.iter().cycle().take(take).filter(|i| verify_one(&i.key, &i.digest, &i.signature)).count()
    });
    let mut batches = Vec::new();
    for size in BATCH_SIZES {
        let (_, items) = signed_pool(size, true);
        batches.push((size, measure(plan.warmup, plan.crypto_samples, || verify_all(black_box(&items)))));
    }
    let digest = Digest::sha256(&[b"synod-bench-sign"]);
    let sign = measure(plan.warmup, plan.crypto_samples, || {
        keys.iter().cycle().take(take).map(|k| k.sign(black_box(&digest))).last()
    });
    CryptoFigures { verify: per_op_stats(verify, ops), batches, sign: per_op_stats(sign, ops) }
}

fn main() {
    // `cargo bench` passes `--bench`; any argument other than `--quick` is ignored.
    let quick = std::env::args().skip(1).any(|arg| arg == "--quick");
    let plan = Plan::new(quick);
    let started = Instant::now();
    print_method(&plan);

    let crypto = crypto_figures(&plan);
    let proposal = proposal_figures(&plan);
    let block = block_figures(&plan);

    let mut table = Table { rows: Vec::new() };
    let ProposalFigures { total, batch, tx_sig, rest } = proposal;
    let verdict = if total.median < PROPOSAL_TARGET { "PASS" } else { "MISS" };
    let target_ms = PROPOSAL_TARGET.as_millis();
    table.timed(
        &format!("1  proposal, {APPROVALS}/{COMMITTEE} approvals: apply_block"),
        total,
        format!("target < {target_ms} ms: {verdict} (median)"),
    );
    table.timed(
        &format!("1a   of which verify_all({APPROVALS} approvals)"),
        batch,
        format!("{} of total; {} sig/s", percent(batch.median, total.median), rate(APPROVALS as f64, batch.median)),
    );
    table.timed(
        "1b   of which tx signature (strict)",
        tx_sig,
        format!("{} of total", percent(tx_sig.median, total.median)),
    );
    table.timed(
        "1c   rest: state, policy, state root",
        rest,
        format!("{} of total (per round: total - 1a - 1b)", percent(rest.median, total.median)),
    );

    let n = BLOCK_TXS as f64;
    table.timed(
        &format!("2  block of {BLOCK_TXS} role-checked txs: apply_block"),
        block.block,
        format!("{} tx/s (median); {} state entries written", rate(n, block.block.median), block.entries),
    );
    table.timed(
        "2a   of which state-root commit",
        block.commit,
        format!("{} of the block", percent(block.commit.median, block.block.median)),
    );
    table.timed(
        &format!("2b   of which {} signature checks", BLOCK_TXS.saturating_mul(2)),
        block.signatures,
        format!(
            "{} of the block (each tx's own + its approval's)",
            percent(block.signatures.median, block.block.median)
        ),
    );
    let block_txs = u32::try_from(BLOCK_TXS).expect("a small constant");
    table.timed(
        "2c   rest: contracts, state reads/writes",
        block.rest,
        format!(
            "{} of the block (per round: 2 - 2a - 2b); {} per tx",
            percent(block.rest.median, block.block.median),
            fmt(per_op(block.rest.median, block_txs))
        ),
    );
    table.timed(
        "2d mempool check_transaction_in, per tx",
        per_op_stats(block.check, block_txs),
        format!("{} checks/s (median pass over {BLOCK_TXS}: {})", rate(n, block.check.median), fmt(block.check.median)),
    );

    let context = per_op_stats(block.context, plan.crypto_ops);
    table.timed(
        &format!("2e BlockContext::new, once per height ({COMMITTEE} nodes)"),
        context,
        format!(
            "decodes every node for sealers_at_start ({} of one check)",
            percent(context.median, per_op(block.check.median, block_txs))
        ),
    );
    table.timed(
        "3a ed25519 strict verify (PublicKey::verify)",
        crypto.verify,
        format!("{} verifications/s", rate(1.0, crypto.verify.median)),
    );
    for (size, s) in &crypto.batches {
        table.timed(
            &format!("3b ed25519 verify_all, batch of {size}"),
            *s,
            format!("{} sig/s", rate(*size as f64, s.median)),
        );
    }
    table.timed(
        "3c ed25519 sign (SecretKey::sign)",
        crypto.sign,
        format!("{} signatures/s", rate(1.0, crypto.sign.median)),
    );

    println!("## Results (per run; 2d, 2e, 3a and 3c per operation, 3b per batch)");
    table.print();
    println!();
    println!(
        "Figure 1 against its target: median {}, p90 {} vs < {target_ms} ms: {verdict} (information only).",
        fmt(total.median),
        fmt(total.p90),
    );
    println!("Total wall time: {}.", fmt(started.elapsed()));
}
