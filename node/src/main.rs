//! `synod`: the Synod node binary. It runs nodes (`synod node`, a node of a network from its home; `synod up`, a
//! local network on loopback; `synod run`, a node alone without peers), checks the consensus (`synod sim`, the
//! deterministic cluster simulation; `synod bench`, the in-process benchmark), and holds the offline commands of
//! [`synod::cli`] (`keygen`, `key`, `org`, `genesis`, `proposal`, `tx`, `login`, `verify-proof`) and the commands
//! of [`synod::client`] that talk to a running node (`status`, `members`, `nodes`, `accounts`, `roles`, `policy`,
//! `params`, `proposals`, `blocks`, `evidence`, `tx submit`, `tx wait`, `proof`).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use synod::sim::{FaultCounts, SimConfig, SimReport, Simulation};

#[derive(Parser)]
#[command(name = "synod", version, about = "The Synod consortium-chain node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run deterministic simulations of a sealer cluster and check safety, liveness and replay determinism.
    Sim {
        /// How many schedules (seeds) to run.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed; `--seed-start S --seeds 1` replays one run.
        #[arg(long, default_value_t = 1)]
        seed_start: u64,
        /// Sealers in the cluster.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
        nodes: u64,
        /// The height every honest node must finalise.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        height: u64,
        /// Which faults to inject: `none`, or `all` (lossy, duplicating and reordering links, partitions that
        /// heal, crashes and restarts, a Byzantine twin, and the governance workload of sealer changes and a key
        /// rotation).
        #[arg(long, value_enum, default_value_t = Faults::None)]
        faults: Faults,
        /// How the nodes are named: `numbered` (`n0`, `n1`, ...) or `mixed` (ids of mixed lengths and characters,
        /// whose canonical encodings sort differently from the ids).
        #[arg(long, value_enum, default_value_t = Ids::Numbered)]
        ids: Ids,
    },
    /// Measure an in-process cluster's throughput and approval latency against this machine's ed25519 limit.
    Bench(synod::bench::BenchArgs),
    /// Run a lone sealer, without peers or API, from a data directory (its genesis names it the only sealer).
    ///
    /// It seals every block itself; `synod node` runs a node of a network.
    Run(synod::runtime::RunArgs),
    /// Run a node of a network from its home directory (`config.toml`, `genesis.json`, `keys/`, `data/`).
    ///
    /// `config.toml` names its peers and API address, `keys/` holds its keys and `data/` its store.
    Node(synod::runtime::service::NodeArgs),
    /// Run a local network on loopback: demo keys, a genesis, 4 sealers and an observer as separate processes.
    Up(synod::localnet::UpArgs),
    /// Generate an ed25519 key (PKCS#8 PEM, mode 0600) and print its public key.
    Keygen(synod::cli::keys::KeygenArgs),
    /// Key files: show a public key, rotate a node's key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Organisation files for the genesis ceremony.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Console sign-in with a key that never touches a browser.
    #[command(subcommand)]
    Login(LoginCommand),
    /// Combine organisation files into a genesis (checked, its hash printed), or print a genesis file's hash.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Genesis {
        /// Print the hash of an existing genesis.
        #[command(subcommand)]
        command: Option<GenesisCommand>,
        /// Options for creating a genesis.
        #[command(flatten)]
        create: synod::cli::genesis::CreateArgs,
    },
    /// Governance proposals offline: draft, show, sign.
    #[command(subcommand)]
    Proposal(ProposalCommand),
    /// Signed transactions: build and show offline, submit to a node and wait for their outcome.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Ask a node for its chain, height, sync state and peers.
    Status(synod::client::status::StatusArgs),
    /// Ask a node for the member organisations, or one of them.
    Members(synod::client::query::RecordArgs),
    /// Ask a node for the nodes admitted on chain, or one of them.
    Nodes(synod::client::query::RecordArgs),
    /// Ask a node for the accounts and their role grants, or one of them.
    Accounts(synod::client::query::RecordArgs),
    /// Ask a node for the role definitions and every grant.
    Roles(synod::client::NodeArgs),
    /// Ask a node for the approval policy by action kind.
    Policy(synod::client::NodeArgs),
    /// Ask a node for the chain parameters.
    Params(synod::client::NodeArgs),
    /// Ask a node for governance proposals (filtered by status, paged), or one of them.
    Proposals(synod::client::query::ProposalsArgs),
    /// Ask a node for the latest blocks (paged), or one block with its certificate and receipts.
    Blocks(synod::client::query::BlocksArgs),
    /// Ask a node for the equivocation evidence it has stored.
    Evidence(synod::client::NodeArgs),
    /// Save a record's proof bundle from a node, for `synod verify-proof`.
    Proof(synod::client::proof::ProofArgs),
    /// Verify a record's proof bundle offline from the genesis (or a checkpoint) and print the record.
    VerifyProof(synod::cli::proof::VerifyArgs),
}

/// `synod key ...`.
#[derive(Subcommand)]
enum KeyCommand {
    /// Print the public key of a PEM key file (private or public).
    Show(synod::cli::keys::ShowArgs),
    /// Rotate a node's key on the node: a new key in HOME/keys and HOME/rotation-request.json for the node to
    /// submit; prints the proposal id its operator approves.
    Rotate(synod::cli::keys::RotateArgs),
}

/// `synod login ...`.
#[derive(Subcommand)]
enum LoginCommand {
    /// Show and sign a console's login challenge (paste the printed signature into the console).
    Sign(synod::cli::login::LoginSignArgs),
}

/// `synod org ...`.
#[derive(Subcommand)]
enum OrgCommand {
    /// Write one organisation's public file (never a private key).
    Init(synod::cli::genesis::OrgInitArgs),
}

/// `synod genesis ...`.
#[derive(Subcommand)]
enum GenesisCommand {
    /// Check a genesis file and print the hash every organisation compares.
    Hash(synod::cli::genesis::HashArgs),
}

/// `synod proposal ...`.
#[derive(Subcommand)]
enum ProposalCommand {
    /// Draft a proposal from a JSON list of actions or one common kind of action.
    Draft(synod::cli::proposal::DraftArgs),
    /// Print a proposal in plain words with its id (the approval digest).
    Show(synod::cli::proposal::ShowArgs),
    /// Approve a proposal offline: an approval file signed with the approver's key.
    Sign(synod::cli::proposal::SignArgs),
}

/// `synod tx ...`.
#[derive(Subcommand)]
enum TxCommand {
    /// Build and sign a transaction as a file (what `POST /v1/transactions` accepts).
    Build(synod::cli::tx::BuildArgs),
    /// Print a transaction file in plain words, with its hash and signature check.
    Show(synod::cli::tx::ShowArgs),
    /// Send a signed transaction file to a node and print the hash it was admitted under.
    Submit(synod::client::tx::SubmitArgs),
    /// Wait until a node has finalised a transaction and print its height and outcome (exit 1 unless applied).
    Wait(synod::client::tx::WaitArgs),
}

/// The fault sets `synod sim` offers.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Faults {
    /// A reliable network and no failures.
    None,
    /// Every fault kind, with the governance workload.
    All,
}

/// The node namings `synod sim` offers.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Ids {
    /// `n0`, `n1`, ...
    Numbered,
    /// Mixed lengths and characters (`org-a-sealer-1`, `n7`, `beijing-2`, `n10`, `z`, ...).
    Mixed,
}

/// One seed's result: its report, and whether a second run of it gave the same trace.
struct Outcome {
    report: SimReport,
    replayed_identically: bool,
}

fn config(nodes: usize, seed: u64, height: u64, faults: Faults, ids: Ids) -> SimConfig {
    let mut config = SimConfig::new(nodes, seed, height);
    if ids == Ids::Mixed {
        config = config.with_mixed_ids();
    }
    match faults {
        Faults::None => config,
        Faults::All => config.with_all_faults(),
    }
}

fn run_seed(nodes: usize, seed: u64, height: u64, faults: Faults, ids: Ids) -> anyhow::Result<Outcome> {
    let run = || -> anyhow::Result<SimReport> {
        let config = config(nodes, seed, height, faults, ids);
        let mut sim = Simulation::new(config).with_context(|| format!("seed {seed}"))?;
        sim.run().with_context(|| format!("seed {seed}"))
    };
    let report = run()?;
    let again = run()?;
    let replayed_identically = again.trace == report.trace && again.events == report.events;
    Ok(Outcome { report, replayed_identically })
}

/// Totals over every run, for the summary line.
#[derive(Default)]
struct Totals {
    violations: usize,
    liveness: usize,
    divergent: usize,
    failed_seeds: Vec<u64>,
    faults: FaultCounts,
    equivocations: u64,
    evidence_stored: u64,
    synced: u64,
    replayed: u64,
    rejected_blocks: u64,
    unnamed_blocks: u64,
    dropped_ahead: u64,
    bad_signatures: u64,
    sealer_changes: u64,
    key_rotations: u64,
    top: u64,
    events: u64,
}

impl Totals {
    fn add(&mut self, outcome: Outcome) {
        let Outcome { report, replayed_identically } = outcome;
        let seed = report.seed;
        let mut failed = false;
        if !report.violations.is_empty() {
            self.violations = self.violations.saturating_add(report.violations.len());
            eprintln!("seed {seed}: safety violations:");
            for violation in &report.violations {
                eprintln!("  {violation}");
            }
            failed = true;
        }
        if !report.reached_target || !report.workload_failures.is_empty() {
            self.liveness = self.liveness.saturating_add(1);
            let why = report.liveness_failure.clone().unwrap_or_else(|| "target not reached".to_owned());
            eprintln!("seed {seed}: liveness failure: {why}; lowest height {}", report.min_height);
            for failure in &report.workload_failures {
                eprintln!("  workload: {failure}");
            }
            failed = true;
        }
        if !replayed_identically {
            self.divergent = self.divergent.saturating_add(1);
            eprintln!("seed {seed}: a second run gave a different trace");
            failed = true;
        }
        if failed {
            self.failed_seeds.push(seed);
        }
        self.faults.add(&report.faults);
        self.equivocations = self.equivocations.saturating_add(report.hosts.evidence);
        self.evidence_stored = self.evidence_stored.saturating_add(report.evidence_stored);
        self.synced = self.synced.saturating_add(report.hosts.synced_heights);
        self.replayed = self.replayed.saturating_add(report.hosts.replayed_entries);
        self.rejected_blocks = self.rejected_blocks.saturating_add(report.hosts.rejected_blocks);
        self.unnamed_blocks = self.unnamed_blocks.saturating_add(report.hosts.unnamed_blocks);
        self.dropped_ahead = self.dropped_ahead.saturating_add(report.hosts.dropped_ahead);
        self.bad_signatures = self.bad_signatures.saturating_add(report.hosts.bad_signatures);
        self.sealer_changes = self.sealer_changes.saturating_add(report.sealer_changes);
        self.key_rotations = self.key_rotations.saturating_add(report.key_rotations);
        self.top = self.top.max(report.max_height.0);
        self.events = self.events.saturating_add(report.events);
    }
}

fn sim(seeds: u64, seed_start: u64, nodes: u64, height: u64, faults: Faults, ids: Ids) -> anyhow::Result<ExitCode> {
    let nodes = usize::try_from(nodes).context("node count")?;
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let seed_list: Vec<u64> = (0..seeds).map(|i| seed_start.saturating_add(i)).collect();
    let chunk = seed_list.len().div_ceil(workers).max(1);
    let outcomes: Vec<anyhow::Result<Outcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = seed_list
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|&s| run_seed(nodes, s, height, faults, ids)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![Err(anyhow::anyhow!("worker panicked"))]))
            .collect()
    });
    let mut totals = Totals::default();
    for outcome in outcomes {
        totals.add(outcome?);
    }
    let t = &totals;
    let f = &t.faults;
    let determinism = if t.divergent == 0 { "ok" } else { "FAILED" };
    let fault_set = match faults {
        Faults::None => "no faults",
        Faults::All => "faults all",
    };
    let naming = match ids {
        Ids::Numbered => "numbered",
        Ids::Mixed => "mixed",
    };
    println!(
        "sim: {seeds} schedules, {} safety violations, {} liveness failures, trace-determinism {determinism}; \
         {nodes} sealers ({naming} ids), {fault_set}: {} dropped, {} duplicated, {} reordered, {} partitions ({} messages cut), \
         {} crashes, {} restarts ({} WAL entries replayed), {} heights synced, {} equivocations detected \
         ({} evidence records stored), {} invalid blocks refused, {} hostile messages sent ({} blocks no proposal \
         names and {} later-height messages dropped unchecked, {} bad signatures), {} sealer changes and {} key \
         rotations applied, highest height {}, {} events",
        t.violations,
        t.liveness,
        f.dropped,
        f.duplicated,
        f.reordered,
        f.partitions,
        f.partitioned,
        f.crashes,
        f.restarts,
        t.replayed,
        t.synced,
        t.equivocations,
        t.evidence_stored,
        t.rejected_blocks,
        f.hostile,
        t.unnamed_blocks,
        t.dropped_ahead,
        t.bad_signatures,
        t.sealer_changes,
        t.key_rotations,
        t.top,
        t.events,
    );
    if !t.failed_seeds.is_empty() {
        let list: Vec<String> = t.failed_seeds.iter().map(u64::to_string).collect();
        eprintln!("failing seeds: {} (replay one with --seed-start S --seeds 1 --ids {naming})", list.join(", "));
    }
    Ok(if t.failed_seeds.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// An offline command's outcome: success exits with 0; an error is printed as `error: REASON` (with its causes,
/// without a backtrace) and exits with 1.
fn done(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn main() -> anyhow::Result<ExitCode> {
    synod::runtime::unblock_stop_signals()?;
    match Cli::parse().command {
        Command::Sim { seeds, seed_start, nodes, height, faults, ids } => {
            sim(seeds, seed_start, nodes, height, faults, ids)
        }
        Command::Bench(args) => synod::bench::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => synod::runtime::run(args),
        Command::Up(args) => synod::localnet::up(args),
        Command::Node(args) => synod::runtime::service::node(args),
        Command::Keygen(args) => done(synod::cli::keys::keygen(&args)),
        Command::Key(KeyCommand::Show(args)) => done(synod::cli::keys::show(&args)),
        Command::Key(KeyCommand::Rotate(args)) => done(synod::cli::keys::rotate(&args)),
        Command::Org(OrgCommand::Init(args)) => done(synod::cli::genesis::org_init(&args)),
        Command::Genesis { command: Some(GenesisCommand::Hash(args)), .. } => done(synod::cli::genesis::hash(&args)),
        Command::Genesis { command: None, create } => done(synod::cli::genesis::create(&create)),
        Command::Login(LoginCommand::Sign(args)) => done(synod::cli::login::sign(&args)),
        Command::Proposal(ProposalCommand::Draft(args)) => done(synod::cli::proposal::draft(&args)),
        Command::Proposal(ProposalCommand::Show(args)) => done(synod::cli::proposal::show(&args)),
        Command::Proposal(ProposalCommand::Sign(args)) => done(synod::cli::proposal::sign(&args)),
        Command::Tx(TxCommand::Build(args)) => done(synod::cli::tx::build(&args)),
        Command::Tx(TxCommand::Show(args)) => done(synod::cli::tx::show(&args)),
        Command::Tx(TxCommand::Submit(args)) => done(synod::client::tx::submit(&args)),
        Command::Tx(TxCommand::Wait(args)) => done(synod::client::tx::wait(&args)),
        Command::Status(args) => done(synod::client::status::status(&args)),
        Command::Members(args) => done(synod::client::query::members(&args)),
        Command::Nodes(args) => done(synod::client::query::nodes(&args)),
        Command::Accounts(args) => done(synod::client::query::accounts(&args)),
        Command::Roles(args) => done(synod::client::query::roles(&args)),
        Command::Policy(args) => done(synod::client::query::policy(&args)),
        Command::Params(args) => done(synod::client::query::params(&args)),
        Command::Proposals(args) => done(synod::client::query::proposals(&args)),
        Command::Blocks(args) => done(synod::client::query::blocks(&args)),
        Command::Evidence(args) => done(synod::client::query::evidence(&args)),
        Command::Proof(args) => done(synod::client::proof::proof(&args)),
        Command::VerifyProof(args) => done(synod::cli::proof::verify(&args)),
    }
}
