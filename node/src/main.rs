//! `synod`: the Synod node binary. Today it runs the deterministic cluster simulation; running a node, the genesis
//! ceremony and the governance commands arrive with the network work.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use synod::sim::{SimConfig, SimReport, Simulation};

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
        /// The height every node must finalise.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        height: u64,
    },
    /// Run a node: a single sealer today (no peers yet).
    Run(synod::runtime::RunArgs),
}

/// One seed's result: its report, and whether a second run of it gave the same trace.
struct Outcome {
    report: SimReport,
    replayed_identically: bool,
}

fn run_seed(nodes: usize, seed: u64, height: u64) -> anyhow::Result<Outcome> {
    let run = || -> anyhow::Result<SimReport> {
        let mut sim = Simulation::new(SimConfig::new(nodes, seed, height)).with_context(|| format!("seed {seed}"))?;
        sim.run().with_context(|| format!("seed {seed}"))
    };
    let report = run()?;
    let again = run()?;
    let replayed_identically = again.trace == report.trace && again.events == report.events;
    Ok(Outcome { report, replayed_identically })
}

fn sim(seeds: u64, seed_start: u64, nodes: u64, height: u64) -> anyhow::Result<ExitCode> {
    let nodes = usize::try_from(nodes).context("node count")?;
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let seed_list: Vec<u64> = (0..seeds).map(|i| seed_start.saturating_add(i)).collect();
    let chunk = seed_list.len().div_ceil(workers).max(1);
    let outcomes: Vec<anyhow::Result<Outcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = seed_list
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|&s| run_seed(nodes, s, height)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![Err(anyhow::anyhow!("worker panicked"))]))
            .collect()
    });
    let (mut violations, mut liveness, mut divergent, mut top, mut events) = (0usize, 0usize, 0usize, 0u64, 0u64);
    for outcome in outcomes {
        let Outcome { report, replayed_identically } = outcome?;
        let seed = report.seed;
        if !report.violations.is_empty() {
            violations = violations.saturating_add(report.violations.len());
            eprintln!("seed {seed}: safety violations: {:?}", report.violations);
        }
        if !report.reached_target {
            liveness = liveness.saturating_add(1);
            eprintln!(
                "seed {seed}: liveness failure: stuck at height {} after {} ms",
                report.min_height, report.time_ms
            );
        }
        if !replayed_identically {
            divergent = divergent.saturating_add(1);
            eprintln!("seed {seed}: a second run gave a different trace");
        }
        top = top.max(report.min_height.0);
        events = events.saturating_add(report.events);
    }
    let determinism = if divergent == 0 { "ok" } else { "FAILED" };
    println!(
        "sim: {seeds} schedules, {violations} safety violations, {liveness} liveness failures, \
         trace-determinism {determinism}; {nodes} sealers, fault-free schedules (fault injection is not built yet), \
         {events} events delivered, highest height {top}"
    );
    Ok(if violations == 0 && liveness == 0 && divergent == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Sim { seeds, seed_start, nodes, height } => sim(seeds, seed_start, nodes, height),
        Command::Run(args) => synod::runtime::run(args),
    }
}
