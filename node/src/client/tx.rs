//! `synod tx submit FILE` sends a signed transaction (the file `synod tx build` writes) to a node and prints the
//! hash the node admitted it under; `synod tx wait HASH` long-polls the node until that transaction is in a
//! finalised block and prints its height and outcome.
//!
//! Both exit with 1 when the transaction did not get through: the node refused it at the door (its `code`,
//! `message` and `rejection` are printed), or the contracts recorded a rejection in its receipt, or it was not
//! finalised within `--timeout`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use api_types::{Submitted, TransactionBody, WaitQuery};
use governance_contracts::ids::TxHash;
use governance_contracts::types::{Outcome, SignedTransaction};

use super::NodeArgs;
use super::http::{Answer, segment};
use crate::cli::files;

/// The longest single wait asked of the node (its limit); a longer `--timeout` is covered by several requests.
pub const MAX_POLL: Duration = Duration::from_millis(api_types::MAX_WAIT_MS);
/// Extra time a wait request is given beyond the wait asked of the node, for the answer to arrive.
const POLL_SLACK: Duration = Duration::from_secs(10);
/// The pause before asking again when the node answered "not yet" before the deadline.
const POLL_PAUSE: Duration = Duration::from_millis(200);

/// `synod tx submit`.
#[derive(Debug, Clone, clap::Args)]
pub struct SubmitArgs {
    /// The signed transaction (`synod tx build --out FILE`).
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `synod tx wait`.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// The transaction's hash (`sha256:<hex>`, as `synod tx submit` printed it).
    #[arg(value_name = "HASH")]
    pub hash: String,
    /// How long to wait for the transaction to be finalised (`30s`, `2m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// A finalised transaction's height, position and outcome in words, with one line per event.
pub fn summary(finalised: &TransactionBody) -> String {
    let at = format!("height {}, index {}", finalised.height, finalised.index);
    let mut text = match &finalised.receipt.outcome {
        Outcome::Applied => format!("{}: applied at {at}", finalised.hash),
        Outcome::Rejected { reason } => format!("{}: rejected at {at}: {reason}", finalised.hash),
    };
    for event in &finalised.receipt.events {
        let line = serde_json::to_string(event).unwrap_or_else(|e| format!("(cannot print: {e})"));
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

/// The error for a transaction the node did not admit: its `code`, `message` and `rejection`.
fn refusal(answer: &Answer) -> anyhow::Error {
    match answer.error_body() {
        Some(error) => anyhow!("the node refused the transaction ({}): {error}", answer.status),
        None => anyhow!("the node did not admit the transaction: {}", answer.describe_error()),
    }
}

/// `synod tx submit`: prints the transaction's hash, or fails with the node's reason.
pub fn submit(args: &SubmitArgs) -> anyhow::Result<()> {
    let tx: SignedTransaction = files::read_json(&args.file, "transaction file")?;
    let body = serde_json::to_vec(&tx).context("encoding the transaction")?;
    let node = args.node.connect()?;
    let answer = node.post_json("/v1/transactions", &body)?;
    if !answer.is_success() {
        if args.node.json
            && let Ok(text) = answer.json_text("refusal")
        {
            println!("{text}");
        }
        return Err(refusal(&answer));
    }
    let submitted: Submitted = answer.json("answer to the transaction")?;
    if args.node.json {
        println!("{}", answer.json_text("answer to the transaction")?);
    } else {
        println!("{}", submitted.tx_hash);
    }
    Ok(())
}

/// Asks the node, as often as needed within `timeout`, for transaction `hash` once it is finalised. `None` when it
/// was not finalised in time.
pub fn wait_for(node: &super::Node, hash: &TxHash, timeout: Duration) -> anyhow::Result<Option<Answer>> {
    let path = format!("/v1/transactions/{}/wait", segment(&hash.to_string()));
    #[allow(clippy::disallowed_methods, reason = "the command's own deadline, a wall-clock wait by design")]
    let start = Instant::now();
    loop {
        let remaining = timeout.saturating_sub(start.elapsed());
        let ask = remaining.min(MAX_POLL);
        let query = WaitQuery { timeout_ms: Some(u64::try_from(ask.as_millis()).unwrap_or(api_types::MAX_WAIT_MS)) };
        let answer = node.get_within(&path, &query.pairs(), ask.saturating_add(POLL_SLACK))?;
        match answer.status {
            200 => return Ok(Some(answer)),
            404 | 408 => {
                let remaining = timeout.saturating_sub(start.elapsed());
                if remaining.is_zero() {
                    return Ok(None);
                }
                std::thread::sleep(remaining.min(POLL_PAUSE));
            }
            _ => bail!("waiting for transaction {hash}: {}", answer.describe_error()),
        }
    }
}

/// `synod tx wait`: prints the transaction's height and outcome; fails if it was rejected or not finalised in
/// time.
pub fn wait(args: &WaitArgs) -> anyhow::Result<()> {
    let hash: TxHash = args
        .hash
        .trim()
        .parse()
        .map_err(|e| anyhow!("{:?} is not a transaction hash (sha256:<hex>): {e}", args.hash))?;
    let node = args.node.connect()?;
    let Some(answer) = wait_for(&node, &hash, args.timeout)? else {
        bail!("transaction {hash} was not finalised within {}", humantime::format_duration(args.timeout));
    };
    let finalised: TransactionBody = answer.json("transaction")?;
    if finalised.hash != hash {
        bail!("the node answered for transaction {} when asked for {hash}", finalised.hash);
    }
    if args.node.json {
        println!("{}", answer.json_text("transaction")?);
    } else {
        println!("{}", summary(&finalised));
    }
    match &finalised.receipt.outcome {
        Outcome::Applied => Ok(()),
        Outcome::Rejected { reason } => {
            bail!("transaction {hash} was not applied: rejected at height {}: {reason}", finalised.height)
        }
    }
}
