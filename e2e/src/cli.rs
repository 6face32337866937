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
/// it offline, submits it with their approvals through the harness's entry node and waits until the proposal has
/// executed.
/// Returns the proposal's file.
pub fn propose(harness: &Harness, name: &str, kind: &[&str], approvers: &[&str]) -> anyhow::Result<String> {
    let accounts: Vec<String> = approvers.iter().map(|org| format!("{org}-admin")).collect();
    let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let drafted = draft(harness, name, "org1-admin", kind)?;
    let tx = drafted.submission(harness, &accounts)?;
    submit_and_wait(harness, &tx)?;
    wait_executed(harness, &drafted.id)?;
    Ok(drafted.file)
}

/// A proposal drafted with the CLI: its file and id.
pub struct Drafted {
    /// The proposal file.
    pub file: String,
    /// The proposal id (`sha256:…`).
    pub id: String,
    /// The proposing account (it sends the submission).
    pub proposer: String,
    name: String,
}

/// Drafts proposal `name` of `kind` (a `synod proposal draft` subcommand and its flags, or `--actions FILE`) proposed
/// by `proposer`, open for 1,000 blocks.
pub fn draft(harness: &Harness, name: &str, proposer: &str, kind: &[&str]) -> anyhow::Result<Drafted> {
    let genesis = path(harness, "genesis.json");
    let expires = harness.height(&harness.entry())?.saturating_add(1_000).to_string();
    let file = path(harness, &format!("{name}.proposal.json"));
    let mut args = vec!["proposal", "draft"];
    args.extend_from_slice(kind);
    args.extend_from_slice(&["--proposer", proposer, "--expires-at", &expires, "--genesis", &genesis, "--out", &file]);
    harness.synod(&args)?;
    let shown = harness.synod(&["proposal", "show", &file, "--genesis", &genesis, "--json"])?;
    let shown: serde_json::Value = serde_json::from_str(&shown).context("proposal show --json")?;
    let id = shown["proposal_id"].as_str().ok_or_else(|| anyhow!("proposal show printed no id: {shown}"))?.to_owned();
    Ok(Drafted { file, id, proposer: proposer.to_owned(), name: name.to_owned() })
}

impl Drafted {
    /// `account` signs its approval offline with its demo key; returns the approval file.
    pub fn sign(&self, harness: &Harness, account: &str) -> anyhow::Result<String> {
        self.sign_into(harness, account, &format!("{}.{account}.approval.json", self.name))
    }

    /// `account` signs its approval offline into the file `name` in the test directory.
    fn sign_into(&self, harness: &Harness, account: &str, name: &str) -> anyhow::Result<String> {
        let genesis = path(harness, "genesis.json");
        let approval = path(harness, name);
        let key = path(harness, &format!("keys/{account}.pem"));
        harness.synod(&[
            "proposal",
            "sign",
            &self.file,
            "--key",
            &key,
            "--account",
            account,
            "--genesis",
            &genesis,
            "--out",
            &approval,
        ])?;
        Ok(approval)
    }

    /// The proposer's signed transaction submitting the proposal with the approvals of `approvers` (accounts),
    /// valid for 200 blocks; returns its file.
    pub fn submission(&self, harness: &Harness, approvers: &[&str]) -> anyhow::Result<String> {
        let approvals =
            approvers.iter().map(|account| self.sign(harness, account)).collect::<anyhow::Result<Vec<_>>>()?;
        let mut args = vec!["submit", "--proposal", self.file.as_str()];
        for approval in &approvals {
            args.extend_from_slice(&["--approval", approval]);
        }
        self.build(harness, &self.proposer, &format!("{}.tx.json", self.name), &args)
    }

    /// `account`'s signed transaction approving the proposal, valid for 200 blocks; returns its file.
    pub fn approval_tx(&self, harness: &Harness, account: &str) -> anyhow::Result<String> {
        let approval = self.sign_into(harness, account, &format!("{}.{account}.approve.approval.json", self.name))?;
        let args = ["approve", "--proposal", self.file.as_str(), "--approval", approval.as_str()];
        self.build(harness, account, &format!("{}.{account}.tx.json", self.name), &args)
    }

    /// When the proposal waits in the queue for its rule's delay: waits until the chain reaches the height it is
    /// ready at, then `account` sends the transaction that executes it, and this waits until it has executed. Does
    /// nothing for a proposal that is not queued.
    pub fn execute_when_ready(&self, harness: &Harness, account: &str) -> anyhow::Result<()> {
        let (_, proposal) = harness.get(&harness.entry(), &format!("/v1/proposals/{}", self.id))?;
        if proposal["status"]["status"] != "queued" {
            return Ok(());
        }
        let ready_at = proposal["status"]["ready_at"]
            .as_u64()
            .ok_or_else(|| anyhow!("queued proposal {} has no ready_at: {proposal}", self.id))?;
        let started = Instant::now();
        while harness.height(&harness.entry())? < ready_at {
            if started.elapsed() > SOON {
                bail!("the chain did not reach height {ready_at}, where proposal {} is ready", self.id);
            }
            std::thread::sleep(POLL);
        }
        let args = ["execute", "--proposal", self.file.as_str()];
        let tx = self.build(harness, account, &format!("{}.{account}.execute.tx.json", self.name), &args)?;
        submit_and_wait(harness, &tx)?;
        wait_executed(harness, &self.id)
    }

    /// Runs `synod tx build ARGS` as `sender` with its demo key; returns the transaction file `name`.
    fn build(&self, harness: &Harness, sender: &str, name: &str, args: &[&str]) -> anyhow::Result<String> {
        build_tx(harness, sender, &path(harness, &format!("keys/{sender}.pem")), name, args)
    }
}

/// Runs `synod tx build ARGS` (a kind and its flags) as `sender` signing with the key file `key`, valid for 200
/// blocks; returns the transaction file `name` in the test directory.
pub fn build_tx(harness: &Harness, sender: &str, key: &str, name: &str, args: &[&str]) -> anyhow::Result<String> {
    let genesis = path(harness, "genesis.json");
    let valid_until = harness.height(&harness.entry())?.saturating_add(200).to_string();
    let tx = path(harness, name);
    let mut all = vec!["tx", "build"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--key",
        key,
        "--sender",
        sender,
        "--valid-until",
        &valid_until,
        "--genesis",
        &genesis,
        "--out",
        &tx,
    ]);
    harness.synod(&all)?;
    Ok(tx)
}

/// Submits the signed transaction file `tx` to node `node` with the CLI: `Ok` with its hash when the node took it,
/// `Err` with the CLI's message (the node's named reason) when it refused.
pub fn submit_to(harness: &Harness, node: &str, tx: &str) -> anyhow::Result<String> {
    let url = harness.node(node)?.url();
    let submitted = harness.synod(&["tx", "submit", tx, "--node", &url, "--json"])?;
    let submitted: serde_json::Value = serde_json::from_str(&submitted).context("tx submit --json")?;
    submitted["tx_hash"].as_str().map(str::to_owned).ok_or_else(|| anyhow!("tx submit printed no hash: {submitted}"))
}

/// Submits a signed transaction file through the harness's entry node (`n1` unless the ids were chosen) with the
/// CLI and waits for its receipt.
pub fn submit_and_wait(harness: &Harness, tx: &str) -> anyhow::Result<()> {
    let entry = harness.entry();
    let hash = submit_to(harness, &entry, tx)?;
    let url = harness.node(&entry)?.url();
    harness.synod(&["tx", "wait", &hash, "--node", &url, "--timeout", "60s"])?;
    Ok(())
}

/// Waits until proposal `id` is executed, as the harness's entry node reports it.
pub fn wait_executed(harness: &Harness, id: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (code, proposal) = harness.get(&harness.entry(), &format!("/v1/proposals/{id}"))?;
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
