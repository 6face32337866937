//! Governance scripted with the `synod` CLI, as an administrator does it offline: draft a proposal, have governors
//! sign it on their own machines, build and submit the transaction, and wait for its receipt.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

use crate::Harness;

/// How long a proposal may take to execute once submitted.
const SOON: Duration = Duration::from_secs(60);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);

/// A path inside the test directory, as a string for the CLI.
pub fn path(harness: &Harness, name: &str) -> String {
    harness.dir().join(name).display().to_string()
}

/// Drafts a proposal with `kind` (and its flags) proposed by `org1-admin`, has the governors of `approvers` sign
/// it offline, submits it with their approvals through node `n1` and waits until the proposal has executed.
/// Returns the proposal's file.
pub fn propose(harness: &Harness, name: &str, kind: &[&str], approvers: &[&str]) -> anyhow::Result<String> {
    let genesis = path(harness, "genesis.json");
    let height = harness.height("n1")?;
    let expires = height.saturating_add(1_000).to_string();
    let valid_until = height.saturating_add(200).to_string();
    let proposal = path(harness, &format!("{name}.proposal.json"));
    let mut draft = vec!["proposal", "draft"];
    draft.extend_from_slice(kind);
    draft.extend_from_slice(&[
        "--proposer",
        "org1-admin",
        "--expires-at",
        &expires,
        "--genesis",
        &genesis,
        "--out",
        &proposal,
    ]);
    harness.synod(&draft)?;
    let shown = harness.synod(&["proposal", "show", &proposal, "--genesis", &genesis, "--json"])?;
    let shown: serde_json::Value = serde_json::from_str(&shown).context("proposal show --json")?;
    let id = shown["proposal_id"].as_str().ok_or_else(|| anyhow!("proposal show printed no id: {shown}"))?.to_owned();
    let mut approvals = Vec::new();
    for org in approvers {
        let approval = path(harness, &format!("{name}.{org}.approval.json"));
        let key = path(harness, &format!("keys/{org}-admin.pem"));
        let account = format!("{org}-admin");
        harness.synod(&[
            "proposal",
            "sign",
            &proposal,
            "--key",
            &key,
            "--account",
            &account,
            "--genesis",
            &genesis,
            "--out",
            &approval,
        ])?;
        approvals.push(approval);
    }
    let tx = path(harness, &format!("{name}.tx.json"));
    let key = path(harness, "keys/org1-admin.pem");
    let mut build = vec!["tx", "build", "submit", "--proposal", &proposal];
    for approval in &approvals {
        build.extend_from_slice(&["--approval", approval]);
    }
    build.extend_from_slice(&[
        "--key",
        &key,
        "--sender",
        "org1-admin",
        "--valid-until",
        &valid_until,
        "--genesis",
        &genesis,
        "--out",
        &tx,
    ]);
    harness.synod(&build)?;
    submit_and_wait(harness, &tx)?;
    wait_executed(harness, &id)?;
    Ok(proposal)
}

/// Submits a signed transaction file through `n1` with the CLI and waits for its receipt.
pub fn submit_and_wait(harness: &Harness, tx: &str) -> anyhow::Result<()> {
    let url = harness.node("n1")?.url();
    let submitted = harness.synod(&["tx", "submit", tx, "--node", &url, "--json"])?;
    let submitted: serde_json::Value = serde_json::from_str(&submitted).context("tx submit --json")?;
    let hash = submitted["tx_hash"].as_str().ok_or_else(|| anyhow!("tx submit printed no hash: {submitted}"))?;
    harness.synod(&["tx", "wait", hash, "--node", &url, "--timeout", "60s"])?;
    Ok(())
}

/// Waits until proposal `id` is executed, as `n1` reports it.
pub fn wait_executed(harness: &Harness, id: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (code, proposal) = harness.get("n1", &format!("/v1/proposals/{id}"))?;
        let status = proposal["status"].to_string();
        if code == 200 && status.contains("executed") {
            return Ok(());
        }
        if started.elapsed() > SOON {
            bail!("proposal {id} not executed: {code} {proposal}");
        }
        std::thread::sleep(POLL);
    }
}
