//! The node's OpenAPI document read from outside: schemathesis, driven by the document a live `synod` node serves,
//! sends generated requests to every operation it describes, valid and invalid, and checks every answer against it
//! (status codes, content types, response schemas, the event stream, methods, data the schema admits or refuses).
//! The run must end with no failure and no server error: where the document and the node disagree, one is wrong.
//!
//! Ignored by a plain test run: it needs schemathesis, which the `api-fuzz` phase of `cargo xtask test` installs
//! (pinned, into the target directory) and names in `$SYNOD_SCHEMATHESIS`. What bounds the run, and what the
//! document cannot state per operation, is in `e2e/api-fuzz.toml`. The output and reports are kept in
//! `target/e2e/api_fuzz/`.

// A test harness lives in real time: it times the run.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use e2e::Harness;
use e2e::sign;
use governance_contracts::codec::encode;
use governance_contracts::ids::Height;

/// Blocks every 250 ms, so the chain moves while it is fuzzed.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long the node may take to start and commit its first blocks.
const SOON: Duration = Duration::from_secs(60);
/// The generator's seed: the same requests on every run, so a failure replays.
const SEED: &str = "1";
/// The environment variable naming the `st` executable.
const SCHEMATHESIS: &str = "SYNOD_SCHEMATHESIS";

/// The configuration the run uses.
fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("api-fuzz.toml")
}

/// Schemathesis finds no failure, no error and no server error against a single sealer with a proposal on chain.
#[test]
#[ignore = "needs schemathesis: run by the api-fuzz phase of `cargo xtask test`"]
fn schemathesis_finds_no_failure() -> anyhow::Result<()> {
    let st = std::env::var_os(SCHEMATHESIS)
        .map(PathBuf::from)
        .with_context(|| format!("${SCHEMATHESIS} names no schemathesis executable (`cargo xtask test` sets it)"))?;
    let mut harness = Harness::new("api_fuzz", 1, 0, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    let node = harness.entry();
    harness.wait_all_height(2, SOON)?;

    // Something to read besides the genesis: a proposal and its transaction.
    let (_, status) = harness.get(&node, "/v1/status")?;
    let height = Height(status["height"].as_u64().context("the status names its height")?);
    let chain = harness.network().genesis.identity();
    let admin = sign::demo_account(&harness.dir().join("keys"), "org1-admin")?;
    let proposal = sign::proposal(&admin.0, sign::define_role("fuzzed")?, height.plus(1_000), 0)?;
    let tx = sign::submission(&chain, &admin, &proposal, height.plus(100))?;
    let (code, answer) = harness.post(&node, "/v1/transactions", "application/octet-stream", &encode(&tx))?;
    ensure!(code == 200, "the proposal was refused: {code} {answer}");
    let hash = tx.tx.hash(&chain).to_string();
    harness.wait_until("the proposal's transaction", SOON, &[&node], |h| {
        Ok(h.get(&node, &format!("/v1/transactions/{hash}"))?.0 == 200)
    })?;

    let url = harness.network().node(&node).context("the entry node")?.url();
    let reports = harness.dir().join("schemathesis");
    let started = Instant::now();
    let output = Command::new(&st)
        .arg("--config-file")
        .arg(config())
        .args(["--no-color", "run", &format!("{url}/v1/openapi.json"), "--seed", SEED, "--report", "junit"])
        .arg("--report-dir")
        .arg(&reports)
        .current_dir(harness.dir())
        .output()
        .with_context(|| format!("cannot run {}", st.display()))?;
    let elapsed = started.elapsed();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let log = harness.dir().join("schemathesis.log");
    std::fs::write(&log, &text).with_context(|| format!("cannot write {}", log.display()))?;
    println!("{}", e2e::tail(&text, 40));
    println!("schemathesis ran for {:.1} s; its output is in {}", elapsed.as_secs_f64(), log.display());
    // The summary's last line: "N failures, M errors, K warnings in T s" with the parts that are not zero.
    let summary = text.lines().rev().find(|line| line.starts_with('=')).unwrap_or_default();
    ensure!(output.status.success(), "schemathesis found failures ({}): see {}", output.status, log.display());
    ensure!(!summary.contains("failure") && !summary.contains("error"), "schemathesis reported: {summary}");
    ensure!(harness.is_running(&node), "the node stopped during the run:\n{}", e2e::tail(&harness.log(&node), 40));
    ensure!(!harness.log(&node).contains("panicked"), "the node panicked:\n{}", e2e::tail(&harness.log(&node), 40));
    Ok(())
}
