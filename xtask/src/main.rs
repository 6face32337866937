//! Synod's project tasks. `cargo xtask test` is the project's single test command: CI runs exactly it (through
//! `.ci/run`), and so should every engineer before pushing.
//!
//! The command runs a fixed list of phases in order, prints each phase's wall-clock time and a summary table at the
//! end, and stops at the first phase that fails with a non-zero exit. It installs what the phases need when it is
//! missing (today the `wasm32-unknown-unknown` target), so it works on a fresh clone.

use std::{
    collections::BTreeSet,
    env,
    ffi::OsString,
    io,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

/// The browser target the contracts crate (and later the console's bundle) must build for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian packages the test command needs, installed by the `setup` phase when missing: `clang` and `libclang-dev`
/// for the node's RocksDB build (its bindgen loads libclang at build time). The console's browser tests will add
/// `chromium` and `chromium-driver`.
const SYSTEM_PACKAGES: &[&str] = &["clang", "libclang-dev"];

/// Crates that must never appear in the contracts crate's dependency tree: they bring I/O, an async runtime, storage,
/// networking, a UI framework or randomness, and the contracts must stay pure and deterministic.
const FORBIDDEN_CRATES: &[&str] =
    &["tokio", "mio", "rocksdb", "librocksdb-sys", "sqlx", "axum", "hyper", "leptos", "libp2p", "rand"];

/// Families of crates that are forbidden by name prefix (`tokio-util`, `leptos_router`, `libp2p-tcp`, ...).
const FORBIDDEN_PREFIXES: &[&str] = &["libp2p", "leptos", "sqlx", "tokio"];

/// Schedules the `sim` phase runs (each run twice, to check the trace replays identically).
const SIM_SEEDS: u32 = 2000;

/// The benchmark program the `bench-smoke` phase runs, relative to the workspace root.
const GOVERNANCE_BENCH: &str = "governance-contracts/benches/governance.rs";

#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "Synod's project tasks", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the project's tests: every phase CI runs, in order, stopping at the first failure.
    ///
    /// Phases: setup, fmt, clippy, wasm, purity, test, sim, bench-smoke.
    Test {
        /// Skip a phase for a quicker local run (repeatable). CI never skips.
        #[arg(long, value_name = "PHASE")]
        skip: Vec<Phase>,
    },
    /// Run Synod: a local network of 4 sealers and an observer on loopback, each its own process, with demo keys
    /// (`synod up`, built in the test profile so it shares the test build). Arguments go to `synod up`.
    Up {
        /// Arguments for `synod up` (e.g. `--dir DIR --base-port 7700`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// One step of `cargo xtask test`, in the order they run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    /// Install the wasm32 target (and system packages) when missing.
    Setup,
    /// Check formatting (`cargo fmt --all -- --check`).
    Fmt,
    /// Lint every target with warnings as errors.
    Clippy,
    /// Build governance-contracts for wasm32-unknown-unknown.
    Wasm,
    /// Check governance-contracts' dependency tree has no I/O, runtime or randomness crate.
    Purity,
    /// Run the workspace's tests (nextest when installed) and doctests.
    Test,
    /// Run the deterministic cluster simulation over many seeds with every fault kind.
    Sim,
    /// Run the governance benchmark with a tiny iteration count.
    BenchSmoke,
}

impl Phase {
    const ALL: [Self; 8] =
        [Self::Setup, Self::Fmt, Self::Clippy, Self::Wasm, Self::Purity, Self::Test, Self::Sim, Self::BenchSmoke];

    fn name(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Fmt => "fmt",
            Self::Clippy => "clippy",
            Self::Wasm => "wasm",
            Self::Purity => "purity",
            Self::Test => "test",
            Self::Sim => "sim",
            Self::BenchSmoke => "bench-smoke",
        }
    }
}

/// What became of one phase, for the summary table.
enum Outcome {
    Passed,
    Skipped(String),
    Failed,
    NotRun,
}

impl Outcome {
    fn label(&self) -> &str {
        match self {
            Self::Passed => "ok",
            Self::Skipped(reason) => reason,
            Self::Failed => "FAILED",
            Self::NotRun => "not run",
        }
    }
}

fn main() -> ExitCode {
    let workspace = match Workspace::locate() {
        Ok(workspace) => workspace,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    match Cli::parse().task {
        Task::Test { skip } => workspace.test(&skip),
        Task::Up { args } => {
            let mut all = vec!["run", "--quiet", "--profile", "test", "-p", "synod", "--", "up"];
            all.extend(args.iter().map(String::as_str));
            match workspace.cargo(&all) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The workspace the tasks run in, and the cargo that runs them.
struct Workspace {
    root: PathBuf,
    cargo: OsString,
}

impl Workspace {
    fn locate() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("the xtask crate has no parent directory")?
            .to_path_buf();
        // `cargo xtask` sets CARGO to the cargo that launched it: use the same toolchain for every phase.
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        Ok(Self { root, cargo })
    }

    /// Runs every phase not skipped, in order, stopping at the first failure; prints the summary table.
    fn test(&self, skip: &[Phase]) -> ExitCode {
        let mut rows: Vec<(Phase, Outcome, Duration)> = Vec::new();
        let mut failed = None;
        for phase in Phase::ALL {
            if failed.is_some() {
                rows.push((phase, Outcome::NotRun, Duration::ZERO));
                continue;
            }
            if skip.contains(&phase) {
                println!("--- phase {}: skipped (--skip)", phase.name());
                rows.push((phase, Outcome::Skipped("skipped (--skip)".to_owned()), Duration::ZERO));
                continue;
            }
            println!("==> phase {}", phase.name());
            let started = now();
            let result = self.run_phase(phase);
            let elapsed = started.elapsed();
            let seconds = elapsed.as_secs_f64();
            match result {
                Ok(None) => {
                    println!("<== phase {}: {seconds:.1} s", phase.name());
                    rows.push((phase, Outcome::Passed, elapsed));
                }
                Ok(Some(reason)) => {
                    println!("<== phase {}: {seconds:.1} s ({reason})", phase.name());
                    rows.push((phase, Outcome::Skipped(reason), elapsed));
                }
                Err(error) => {
                    println!("<== phase {}: {seconds:.1} s, FAILED", phase.name());
                    rows.push((phase, Outcome::Failed, elapsed));
                    failed = Some((phase, error));
                }
            }
        }
        print_summary(&rows);
        match failed {
            None => ExitCode::SUCCESS,
            Some((phase, error)) => {
                eprintln!("xtask: phase `{}` failed: {error:#}", phase.name());
                ExitCode::FAILURE
            }
        }
    }

    /// Runs one phase. `Ok(Some(reason))` means the phase had nothing to do and says why.
    fn run_phase(&self, phase: Phase) -> Result<Option<String>> {
        match phase {
            Phase::Setup => {
                ensure_wasm_target()?;
                ensure_apt_packages(SYSTEM_PACKAGES)?;
            }
            Phase::Fmt => self.cargo(&["fmt", "--all", "--", "--check"])?,
            // The test profile here, as for every other host build, so that dependencies (RocksDB's C++ above all)
            // are built once: `cargo check` under the dev profile would fingerprint every build script anew.
            Phase::Clippy => {
                self.cargo(&["clippy", "--profile", "test", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
            }
            Phase::Wasm => self.cargo(&["build", "-p", "governance-contracts", "--target", WASM_TARGET])?,
            Phase::Purity => self.check_contracts_purity()?,
            Phase::Test => {
                if self.has_nextest() {
                    self.cargo(&["nextest", "run", "--workspace"])?;
                    // nextest does not run doctests.
                    self.cargo(&["test", "--workspace", "--doc"])?;
                } else {
                    println!("cargo-nextest is not installed: using cargo test");
                    self.cargo(&["test", "--workspace"])?;
                }
            }
            Phase::Sim => {
                let seeds = SIM_SEEDS.to_string();
                self.cargo(&[
                    "run",
                    "--profile",
                    "test",
                    "-p",
                    "synod",
                    "--",
                    "sim",
                    "--seeds",
                    &seeds,
                    "--faults",
                    "all",
                ])?;
            }
            Phase::BenchSmoke => {
                if !self.root.join(GOVERNANCE_BENCH).exists() {
                    println!("skipping: {GOVERNANCE_BENCH} does not exist yet");
                    return Ok(Some("skipped (no benchmark yet)".to_owned()));
                }
                self.cargo(&["bench", "-p", "governance-contracts", "--bench", "governance", "--", "--quick"])?;
            }
        }
        Ok(None)
    }

    fn cargo_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.cargo);
        command.args(args).current_dir(&self.root);
        command
    }

    fn cargo(&self, args: &[&str]) -> Result<()> {
        run(self.cargo_command(args))
    }

    fn has_nextest(&self) -> bool {
        self.cargo_command(&["nextest", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Fails when governance-contracts' normal or build dependency tree, for any target, holds a forbidden crate.
    fn check_contracts_purity(&self) -> Result<()> {
        let args = ["tree", "-p", "governance-contracts", "-e", "normal,build", "--prefix", "none", "--target", "all"];
        let mut command = self.cargo_command(&args);
        command.stderr(Stdio::inherit());
        let shown = describe(&command);
        println!("$ {shown}");
        let output = command.output().with_context(|| format!("could not start `{shown}`"))?;
        if !output.status.success() {
            bail!("`{shown}` failed ({})", output.status);
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        let offending: BTreeSet<&str> = tree
            .lines()
            .filter(|line| line.split_whitespace().next().is_some_and(is_forbidden_crate))
            .map(|line| line.trim_end_matches(" (*)"))
            .collect();
        if !offending.is_empty() {
            for line in &offending {
                println!("forbidden in governance-contracts' dependency tree: {line}");
            }
            bail!(
                "governance-contracts must stay pure (no I/O, runtime or randomness crates), but its tree holds {} forbidden crate(s)",
                offending.len()
            );
        }
        let crates = tree.lines().filter(|line| !line.trim().is_empty()).count();
        println!("governance-contracts' dependency tree is pure ({crates} lines checked)");
        Ok(())
    }
}

/// Whether a crate name is one the contracts crate must never depend on.
fn is_forbidden_crate(name: &str) -> bool {
    FORBIDDEN_CRATES.contains(&name) || FORBIDDEN_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// Installs the `wasm32-unknown-unknown` target for the active toolchain when it is missing.
fn ensure_wasm_target() -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("could not run `rustup` (it installs the wasm32-unknown-unknown target)")?;
    if !output.status.success() {
        bail!("`rustup target list --installed` failed ({})", output.status);
    }
    if String::from_utf8_lossy(&output.stdout).lines().any(|line| line.trim() == WASM_TARGET) {
        println!("target {WASM_TARGET} is installed");
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]);
    run(add)
}

/// Installs the Debian packages among `packages` that are not installed yet, with `apt-get update` and
/// `apt-get install -y`; does nothing (and needs no root) when all are present.
fn ensure_apt_packages(packages: &[&str]) -> Result<()> {
    let mut missing = Vec::new();
    for &package in packages {
        if !is_apt_package_installed(package)? {
            missing.push(package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing missing system packages: {}", missing.join(" "));
    let sudo = !is_root();
    run(apt_get(sudo, &["update"]))?;
    let mut install = vec!["install", "-y"];
    install.extend_from_slice(&missing);
    run(apt_get(sudo, &install))
        .with_context(|| format!("could not install {}: install them as root and rerun", missing.join(" ")))
}

fn is_apt_package_installed(package: &str) -> Result<bool> {
    let output = match Command::new("dpkg").args(["-s", package]).stderr(Stdio::null()).output() {
        Ok(output) => output,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            bail!("`dpkg` not found: on a system without apt, install the package `{package}` by hand and rerun")
        }
        Err(error) => return Err(error).context("could not run `dpkg -s`"),
    };
    Ok(output.status.success()
        && String::from_utf8_lossy(&output.stdout).lines().any(|line| line.trim() == "Status: install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn apt_get(sudo: bool, args: &[&str]) -> Command {
    let mut command = if sudo {
        let mut command = Command::new("sudo");
        command.arg("apt-get");
        command
    } else {
        Command::new("apt-get")
    };
    // CI runs with no stdin: never ask a question.
    command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    command
}

/// Runs a command with inherited stdio and fails unless it exits successfully.
fn run(mut command: Command) -> Result<()> {
    let shown = describe(&command);
    println!("$ {shown}");
    let status = command.status().with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// A command as a person would type it (`cargo clippy ...`, not the toolchain's full path to cargo).
fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str()).to_string_lossy();
    let mut words = vec![program.into_owned()];
    words.extend(command.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    words.join(" ")
}

#[expect(
    clippy::disallowed_methods,
    reason = "the task runner reports wall-clock phase times; it is not deterministic code"
)]
fn now() -> Instant {
    Instant::now()
}

fn print_summary(rows: &[(Phase, Outcome, Duration)]) {
    let total = rows.iter().fold(Duration::ZERO, |total, (_, _, elapsed)| total.saturating_add(*elapsed));
    println!();
    println!("{:<12} {:<28} {:>9}", "phase", "result", "time");
    for (phase, outcome, elapsed) in rows {
        println!("{:<12} {:<28} {:>7.1} s", phase.name(), outcome.label(), elapsed.as_secs_f64());
    }
    println!("{:<12} {:<28} {:>7.1} s", "total", "", total.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The purity check catches exact names and whole families, and leaves look-alike pure crates alone.
    #[test]
    fn forbidden_crates_are_recognised_by_name_and_family() {
        for name in ["tokio", "tokio-util", "mio", "rocksdb", "librocksdb-sys", "sqlx-core", "axum", "hyper"] {
            assert!(is_forbidden_crate(name), "{name} should be forbidden");
        }
        for name in ["leptos_router", "libp2p-tcp", "rand"] {
            assert!(is_forbidden_crate(name), "{name} should be forbidden");
        }
        for name in ["rand_core", "borsh", "sha2", "jmt", "ed25519-dalek", "randomx", "hyperloglog"] {
            assert!(!is_forbidden_crate(name), "{name} should be allowed");
        }
    }

    /// Every phase has a distinct name, and `--skip` accepts exactly those names.
    #[test]
    fn phase_names_match_the_command_line() {
        let names: BTreeSet<&str> = Phase::ALL.iter().map(|phase| phase.name()).collect();
        assert_eq!(names.len(), Phase::ALL.len());
        for phase in Phase::ALL {
            let parsed = Phase::from_str(phase.name(), false).unwrap();
            assert!(parsed == phase, "`--skip {}` names another phase", phase.name());
        }
    }

    /// Commands are shown by program name, not by the toolchain's full path.
    #[test]
    fn commands_are_described_by_program_name() {
        let mut command = Command::new("/opt/toolchain/bin/cargo");
        command.args(["fmt", "--all"]);
        assert_eq!(describe(&command), "cargo fmt --all");
    }
}
