//! Synod's project tasks. `cargo xtask test` is the project's single test command: CI runs exactly it (through
//! `.ci/run`), and so should every engineer before pushing.
//!
//! The command runs a fixed list of phases in order, prints each phase's wall-clock time and a summary table at the
//! end, and stops at the first phase that fails with a non-zero exit. It installs what the phases need when it is
//! missing (the `wasm32-unknown-unknown` target, Debian packages, the wasm test runner, binaryen's `wasm-opt`), so
//! it works on a fresh clone.
//!
//! `cargo xtask bundle` builds the console's browser bundle ([`bundle`]); `cargo xtask up` runs the local network
//! with one console per demo organisation ([`up`]).

mod bundle;
mod up;

use std::{
    collections::BTreeSet,
    env,
    ffi::OsString,
    fs, io,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

/// The browser target the contracts crate and the console's bundle build for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian packages the test command needs, installed by the `setup` phase when missing: `clang` and `libclang-dev`
/// for the node's RocksDB build (its bindgen loads libclang at build time); `chromium` and `chromium-driver` for the
/// console's browser tests (Debian's builds of the same release: nothing downloads a browser of its own); `nodejs`
/// for the `wasm-test` phase, whose runner executes the wasm32 tests under Node.js; `python3` and `python3-venv` for
/// the `api-fuzz` phase, which installs schemathesis into a virtual environment.
const SYSTEM_PACKAGES: &[&str] =
    &["clang", "libclang-dev", "chromium", "chromium-driver", "nodejs", "python3", "python3-venv"];

/// The binaryen release whose `wasm-opt` shrinks the console's bundle, installed from npm by the `setup` phase and by
/// `cargo xtask up` into `<target>/tools/binaryen-<version>` (nothing is written into the workspace).
pub(crate) const BINARYEN_VERSION: &str = "132.0.0";

/// The axe-core release the console's browser tests run on every page (its `axe.min.js`), installed from npm by the
/// `setup` phase into `<target>/tools/axe-core-<version>`; the tests find it there.
const AXE_CORE_VERSION: &str = "4.11.0";

/// The cargo-nextest release installed when none is on the `PATH` (the `test` phase runs the suite with it).
const NEXTEST_VERSION: &str = "0.9.143";

/// The schemathesis release the `api-fuzz` phase installs (from PyPI, into `<target>/tools/schemathesis-<version>`)
/// and runs against a live node.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The test the `api-fuzz` phase runs (ignored by the `test` phase: it needs schemathesis).
const API_FUZZ_TEST: &str = "binary(api_fuzz)";

/// The console's wasm-side tests, run by the `wasm-test` phase once they exist.
const CONSOLE_WASM_TESTS: &str = "console/tests/golden_wasm.rs";

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

/// How the summary line of `synod bench --live` begins; the `bench-smoke` phase prints it again at its end.
const LIVE_SUMMARY: &str = "bench-live:";

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
    /// Phases: setup, fmt, clippy, wasm, purity, wasm-test, bundle, test, api-fuzz, sim, bench-smoke.
    Test {
        /// Skip a phase for a quicker local run (repeatable). CI never skips.
        #[arg(long, value_name = "PHASE")]
        skip: Vec<Phase>,
    },
    /// Run Synod: a local network of 4 sealers and an observer on loopback, each its own process, with demo keys
    /// (`synod up`), and one web console per demo organisation; builds the bundle and the test build (which makes
    /// `synod` and `synod-console`) first. Ctrl-C stops everything.
    Up(up::UpArgs),
    /// Build the console's browser bundle into `<target>/site/pkg/` with its manifest `bundle.json` (the
    /// `--site` directory of `synod-console`).
    Bundle,
}

/// One step of `cargo xtask test`, in the order they run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    /// Install the wasm32 target, system packages and binaryen's `wasm-opt` (from npm) when missing.
    Setup,
    /// Check formatting (`cargo fmt --all -- --check`).
    Fmt,
    /// Lint every target with warnings as errors.
    Clippy,
    /// Build governance-contracts for wasm32-unknown-unknown.
    Wasm,
    /// Check governance-contracts' dependency tree has no I/O, runtime or randomness crate.
    Purity,
    /// Run the console's wasm-side tests under node with wasm-bindgen-test-runner (installed when missing).
    WasmTest,
    /// Build the console's browser bundle (the browser tests load it).
    Bundle,
    /// Build `synod` and `synod-console`, then run the workspace's tests (nextest when installed) and doctests.
    Test,
    /// Run schemathesis (installed when missing) from the node's own OpenAPI document against a live node.
    ApiFuzz,
    /// Run the deterministic cluster simulation over many seeds with every fault kind.
    Sim,
    /// Run the governance benchmark with a tiny iteration count, then `synod bench --live --quick` (four nodes on
    /// loopback, a few seconds per step) and print its summary line.
    BenchSmoke,
}

impl Phase {
    const ALL: [Self; 11] = [
        Self::Setup,
        Self::Fmt,
        Self::Clippy,
        Self::Wasm,
        Self::Purity,
        Self::WasmTest,
        Self::Bundle,
        Self::Test,
        Self::ApiFuzz,
        Self::Sim,
        Self::BenchSmoke,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Fmt => "fmt",
            Self::Clippy => "clippy",
            Self::Wasm => "wasm",
            Self::Purity => "purity",
            Self::WasmTest => "wasm-test",
            Self::Bundle => "bundle",
            Self::Test => "test",
            Self::ApiFuzz => "api-fuzz",
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
        Task::Up(args) => report(workspace.up(&args)),
        Task::Bundle => report(workspace.bundle().map(|built| println!("site directory: {}", built.site.display()))),
    }
}

/// The exit code of a task, printing its error.
fn report(outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
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
        let root = workspace_root()?;
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
                ensure_npm()?;
                self.ensure_binaryen()?;
                self.ensure_axe_core()?;
            }
            Phase::Fmt => self.cargo(&["fmt", "--all", "--", "--check"])?,
            // The test profile here, as for every other host build, so that dependencies (RocksDB's C++ above all)
            // are built once: `cargo check` under the dev profile would fingerprint every build script anew.
            Phase::Clippy => {
                self.cargo(&["clippy", "--profile", "test", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
            }
            Phase::Wasm => self.cargo(&["build", "-p", "governance-contracts", "--target", WASM_TARGET])?,
            Phase::Purity => self.check_contracts_purity()?,
            Phase::WasmTest => return self.wasm_tests(),
            Phase::Bundle => {
                self.bundle()?;
            }
            Phase::Test => {
                // The e2e tests start `synod` and `synod-console`: cargo builds both for their own packages'
                // integration tests in this same run. A separate `cargo build -p ...` first would unify features
                // differently and build RocksDB's C++ a second time.
                // nextest runs the multi-process tests one at a time (`.config/nextest.toml`); `cargo test` would
                // run a binary's tests side by side, so nextest is installed when missing rather than done without.
                let mut nextest = self.cargo_command(&["nextest", "run", "--workspace"]);
                if let Some(bin) = self.ensure_nextest()? {
                    nextest.env("PATH", with_on_path(&bin)?);
                }
                run(nextest)?;
                // nextest does not run doctests.
                self.cargo(&["test", "--workspace", "--doc"])?;
            }
            Phase::ApiFuzz => {
                let schemathesis = self.ensure_schemathesis()?;
                // The test build of the `test` phase: a no-op build, then the one ignored test, which starts the node.
                let mut nextest = self.cargo_command(&[
                    "nextest",
                    "run",
                    "--workspace",
                    "--run-ignored",
                    "only",
                    "--no-capture",
                    "-E",
                    API_FUZZ_TEST,
                ]);
                if let Some(bin) = self.ensure_nextest()? {
                    nextest.env("PATH", with_on_path(&bin)?);
                }
                nextest.env("SYNOD_SCHEMATHESIS", &schemathesis);
                run(nextest)?;
            }
            Phase::Sim => {
                // The `synod` the test build made (a no-op build after the `test` phase): `cargo run -p synod` would
                // unify features for that one package and compile RocksDB's C++ a second time on a cold machine.
                self.cargo(&["test", "--workspace", "--no-run"])?;
                let synod = self.target_dir()?.join("debug").join("synod");
                let seeds = SIM_SEEDS.to_string();
                let mut command = Command::new(&synod);
                command.args(["sim", "--seeds", &seeds, "--faults", "all"]).current_dir(&self.root);
                run(command)?;
            }
            Phase::BenchSmoke => {
                // The live benchmark's smoke run on the `synod` of the test build (a no-op build after the `test`
                // phase, as for `sim`): four nodes on loopback, a few seconds per step. It runs before the contracts
                // benchmark, whose `-p` build would make this one rebuild the node and the e2e crate.
                self.cargo(&["test", "--workspace", "--no-run"])?;
                let synod = self.target_dir()?.join("debug").join("synod");
                let mut command = Command::new(&synod);
                command.args(["bench", "--live", "--quick"]).current_dir(&self.root);
                let summary = run_for_line(command, LIVE_SUMMARY)?;
                println!("{summary}");
                if self.root.join(GOVERNANCE_BENCH).exists() {
                    self.cargo(&["bench", "-p", "governance-contracts", "--bench", "governance", "--", "--quick"])?;
                } else {
                    println!("skipping the contracts benchmark: {GOVERNANCE_BENCH} does not exist");
                }
            }
        }
        Ok(None)
    }

    /// The directory cargo builds into (`$CARGO_TARGET_DIR`, a configured one, or `target/`), from `cargo metadata`.
    fn target_dir(&self) -> Result<PathBuf> {
        let mut command = self.cargo_command(&["metadata", "--format-version", "1", "--no-deps"]);
        command.stderr(Stdio::inherit());
        let output = command.output().context("could not run `cargo metadata`")?;
        if !output.status.success() {
            bail!("`cargo metadata` failed ({})", output.status);
        }
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("`cargo metadata` printed something other than JSON")?;
        metadata["target_directory"].as_str().map(PathBuf::from).context("`cargo metadata` names no target directory")
    }

    /// The `wasm-test` phase: the console's wasm-side tests under node, with `wasm-bindgen-test-runner` at the
    /// pinned wasm-bindgen version (installed into `<target>/tools` when missing). Skips while the tests do not
    /// exist.
    fn wasm_tests(&self) -> Result<Option<String>> {
        if !self.root.join(CONSOLE_WASM_TESTS).exists() {
            println!("skipping: {CONSOLE_WASM_TESTS} does not exist yet");
            return Ok(Some("skipped (no wasm tests yet)".to_owned()));
        }
        let runner = self.ensure_wasm_test_runner()?;
        let mut command = self.cargo_command(&[
            "test",
            "-p",
            "console",
            "--target",
            WASM_TARGET,
            "--no-default-features",
            "--features",
            "hydrate",
            "--test",
            "golden_wasm",
        ]);
        command.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner);
        run(command)?;
        Ok(None)
    }

    /// `<target>/tools/bin/wasm-bindgen-test-runner` from `wasm-bindgen-cli` at exactly [`bundle::WASM_BINDGEN_VERSION`],
    /// installed with `cargo install --locked` when missing or of another version.
    fn ensure_wasm_test_runner(&self) -> Result<PathBuf> {
        let root = self.target_dir()?.join("tools");
        let bin = root.join("bin");
        let runner = bin.join("wasm-bindgen-test-runner");
        // The runner has no `--version`; the `wasm-bindgen` binary installed beside it by the same crate does.
        let installed = Command::new(bin.join("wasm-bindgen"))
            .arg("--version")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
        let wanted = format!("wasm-bindgen {}", bundle::WASM_BINDGEN_VERSION);
        if runner.is_file() && installed.as_deref() == Some(wanted.as_str()) {
            println!("{} ({wanted})", runner.display());
            return Ok(runner);
        }
        let version = format!("={}", bundle::WASM_BINDGEN_VERSION);
        let root_arg = root.to_string_lossy().into_owned();
        self.cargo(&["install", "wasm-bindgen-cli", "--version", &version, "--locked", "--root", &root_arg])?;
        if !runner.is_file() {
            bail!("`cargo install wasm-bindgen-cli` did not install {}", runner.display());
        }
        Ok(runner)
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

    /// `None` when `cargo nextest` works as found; otherwise the directory holding `cargo-nextest` at
    /// [`NEXTEST_VERSION`], installed into `<target>/tools` with `cargo install --locked` when missing.
    fn ensure_nextest(&self) -> Result<Option<PathBuf>> {
        if self.has_nextest() {
            return Ok(None);
        }
        let root = self.target_dir()?.join("tools");
        let bin = root.join("bin");
        if !bin.join("cargo-nextest").is_file() {
            println!("cargo-nextest is not installed: installing {NEXTEST_VERSION} into {}", root.display());
            let version = format!("={NEXTEST_VERSION}");
            let root_arg = root.to_string_lossy().into_owned();
            self.cargo(&["install", "cargo-nextest", "--version", &version, "--locked", "--root", &root_arg])?;
        }
        Ok(Some(bin))
    }

    /// `axe.min.js` of axe-core at exactly [`AXE_CORE_VERSION`], installed from npm into
    /// `<target>/tools/axe-core-<version>` when missing (no `package.json` or `node_modules` in the workspace).
    fn ensure_axe_core(&self) -> Result<PathBuf> {
        let prefix = self.target_dir()?.join("tools").join(format!("axe-core-{AXE_CORE_VERSION}"));
        let script = prefix.join("node_modules/axe-core/axe.min.js");
        if script.is_file() {
            println!("{}", script.display());
            return Ok(script);
        }
        println!("axe-core is not installed: installing {AXE_CORE_VERSION} from npm into {}", prefix.display());
        fs::create_dir_all(&prefix).with_context(|| format!("cannot create {}", prefix.display()))?;
        let mut npm = Command::new("npm");
        npm.args(["install", "--prefix"])
            .arg(&prefix)
            .args(["--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"])
            .arg(format!("axe-core@{AXE_CORE_VERSION}"));
        run(npm).context("npm installs axe-core (the `npm` system package provides npm)")?;
        if !script.is_file() {
            bail!("installing axe-core {AXE_CORE_VERSION} made no {}", script.display());
        }
        Ok(script)
    }

    /// `<target>/tools/binaryen-<version>`, where [`Self::ensure_binaryen`] installs binaryen.
    pub(crate) fn binaryen_prefix(&self) -> Result<PathBuf> {
        Ok(self.target_dir()?.join("tools").join(format!("binaryen-{BINARYEN_VERSION}")))
    }

    /// The `wasm-opt` of binaryen at exactly [`BINARYEN_VERSION`], installed from npm into
    /// [`Self::binaryen_prefix`] (`npm install --prefix`, so no `package.json` or `node_modules` lands in the
    /// workspace) when missing or of another version.
    pub(crate) fn ensure_binaryen(&self) -> Result<PathBuf> {
        let prefix = self.binaryen_prefix()?;
        let wasm_opt = bundle::wasm_opt_under(&prefix);
        let wanted = bundle::release_of(BINARYEN_VERSION);
        if let Some(line) = bundle::wasm_opt_version_line(&wasm_opt)
            && bundle::wasm_opt_version(&line) == wanted
        {
            println!("{} ({line})", wasm_opt.display());
            return Ok(wasm_opt);
        }
        println!("binaryen is not installed: installing {BINARYEN_VERSION} from npm into {}", prefix.display());
        fs::create_dir_all(&prefix).with_context(|| format!("cannot create {}", prefix.display()))?;
        let mut npm = Command::new("npm");
        npm.args(["install", "--prefix"])
            .arg(&prefix)
            .args(["--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"])
            .arg(format!("binaryen@{BINARYEN_VERSION}"));
        run(npm).context("npm installs binaryen (the `npm` system package provides npm)")?;
        match bundle::wasm_opt_version_line(&wasm_opt) {
            Some(line) if bundle::wasm_opt_version(&line) == wanted => Ok(wasm_opt),
            found => bail!("installing binaryen {BINARYEN_VERSION} made no working {} ({found:?})", wasm_opt.display()),
        }
    }

    /// `<target>/tools/schemathesis-<version>/bin/st`: schemathesis at exactly [`SCHEMATHESIS_VERSION`], installed
    /// from PyPI into a virtual environment of its own (`python3 -m venv`) when missing.
    fn ensure_schemathesis(&self) -> Result<PathBuf> {
        let root = self.target_dir()?.join("tools").join(format!("schemathesis-{SCHEMATHESIS_VERSION}"));
        let st = root.join("bin").join("st");
        let installed = Command::new(&st)
            .arg("--version")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
        if installed.as_deref().is_some_and(|version| version.ends_with(SCHEMATHESIS_VERSION)) {
            println!("{} ({})", st.display(), installed.unwrap_or_default());
            return Ok(st);
        }
        println!("schemathesis is not installed: installing {SCHEMATHESIS_VERSION} into {}", root.display());
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv", "--clear"]).arg(&root);
        run(venv).context("python3 makes the virtual environment schemathesis installs into")?;
        let mut pip = Command::new(root.join("bin").join("pip"));
        pip.args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}"));
        run(pip)?;
        if !st.is_file() {
            bail!("installing schemathesis did not make {}", st.display());
        }
        Ok(st)
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

/// The workspace's root directory: the parent of the xtask crate's directory, which `cargo run` names in
/// `CARGO_MANIFEST_DIR` at run time. The compile-time value is only a fallback: cargo reuses a built xtask from a
/// shared target directory for a clone elsewhere, and the path baked into that binary may no longer exist.
pub(crate) fn workspace_root() -> Result<PathBuf> {
    let manifest_dir =
        env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().map(Path::to_path_buf).context("the xtask crate has no parent directory")
}

/// Whether a crate name is one the contracts crate must never depend on.
fn is_forbidden_crate(name: &str) -> bool {
    FORBIDDEN_CRATES.contains(&name) || FORBIDDEN_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// Installs the system package `npm` when no `npm` runs (Node.js builds that bundle npm need nothing more).
fn ensure_npm() -> Result<()> {
    let works = Command::new("npm").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if works.is_ok_and(|status| status.success()) {
        return Ok(());
    }
    ensure_apt_packages(&["npm"])
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

/// The `PATH` with `dir` in front.
fn with_on_path(dir: &Path) -> Result<OsString> {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    env::join_paths(paths).context("a directory on the PATH holds the separator")
}

/// Runs a command with inherited stdio and fails unless it exits successfully.
pub(crate) fn run(mut command: Command) -> Result<()> {
    let shown = describe(&command);
    println!("$ {shown}");
    let status = command.status().with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` as [`run`] does, its output passed through, and returns the last line of its standard output
/// that begins with `prefix`; fails when there is none.
fn run_for_line(mut command: Command, prefix: &str) -> Result<String> {
    let shown = describe(&command);
    println!("$ {shown}");
    let mut child = command.stdout(Stdio::piped()).spawn().with_context(|| format!("could not start `{shown}`"))?;
    let mut found = None;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let line = line.with_context(|| format!("reading the output of `{shown}`"))?;
            println!("{line}");
            if line.starts_with(prefix) {
                found = Some(line);
            }
        }
    }
    let status = child.wait().with_context(|| format!("waiting for `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    found.with_context(|| format!("`{shown}` printed no line beginning `{prefix}`"))
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
pub(crate) fn now() -> Instant {
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

    /// The phases run in the documented order: the bundle is built right before the tests that load it, and the
    /// `test` subcommand's help lists the same order.
    #[test]
    fn phases_run_in_the_documented_order() {
        let names: Vec<&str> = Phase::ALL.iter().map(|phase| phase.name()).collect();
        let expected = [
            "setup",
            "fmt",
            "clippy",
            "wasm",
            "purity",
            "wasm-test",
            "bundle",
            "test",
            "api-fuzz",
            "sim",
            "bench-smoke",
        ];
        assert_eq!(names, expected);
        let help = <Cli as clap::CommandFactory>::command()
            .find_subcommand("test")
            .and_then(|test| test.get_long_about().or(test.get_about()).map(ToString::to_string))
            .unwrap();
        assert!(help.contains(&format!("Phases: {}.", expected.join(", "))), "{help}");
    }

    /// Commands are shown by program name, not by the toolchain's full path.
    #[test]
    fn commands_are_described_by_program_name() {
        let mut command = Command::new("/opt/toolchain/bin/cargo");
        command.args(["fmt", "--all"]);
        assert_eq!(describe(&command), "cargo fmt --all");
    }
}
