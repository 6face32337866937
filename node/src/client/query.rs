//! The read commands: `synod members|nodes|accounts [ID]`, `synod roles|policy|params|evidence`,
//! `synod proposals [ID]` and `synod blocks [HEIGHT]`. Each is one `GET` on the node's API whose query is written
//! by, and whose answer is decoded as, the API's own types (`api_types`), so an answer of another shape is an
//! error; `--json` prints the answer as it came, otherwise [`render`](super::render) shows it as a table (lists,
//! with the option that asks for the next page) or `key: value` lines (one record), and a single block as a
//! summary. `--status` takes exactly the node's status names, and the paging options are the node's: `--limit`
//! and `--after` (`--before` for blocks), each within the node's bounds.

use anyhow::{Context as _, bail};
use api_types::{
    AccountDetail, AccountList, BlockBody, BlockList, BlockQuery, EvidenceList, Member, MemberList, Node, NodeList,
    Page, PolicyAnswer, PolicyRule, ProposalDetail, ProposalList, ProposalQuery, ProposalStatusName, RolesAnswer,
};
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use governance_contracts::types::ChainParams;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::NodeArgs;
use super::http::{Answer, segment};
use super::render;
use super::status::format_time_ms;

/// The longest id accepted on the command line.
pub const MAX_ID_CHARS: usize = 256;

/// `synod members|nodes|accounts [ID]`.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// One record's id; without it, a page of them.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// At most this many records.
    #[arg(long, value_name = "N", conflicts_with = "id", value_parser = clap::value_parser!(u32).range(1..=i64::from(api_types::MAX_PAGE)))]
    pub limit: Option<u32>,
    /// Continue after a previous page (the `--after` it showed).
    #[arg(long, value_name = "ID", conflicts_with = "id")]
    pub after: Option<String>,
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `--status`: exactly the names the node takes.
fn status_parser() -> impl clap::builder::TypedValueParser<Value = ProposalStatusName> {
    PossibleValuesParser::new(ProposalStatusName::names())
        .try_map(|name: String| name.parse::<ProposalStatusName>().map_err(|e| e.to_string()))
}

/// `synod proposals [ID]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProposalsArgs {
    /// One proposal's id (`sha256:<hex>`); without it, a page of proposals.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Only proposals with this status.
    #[arg(long, conflicts_with = "id", value_parser = status_parser())]
    pub status: Option<ProposalStatusName>,
    /// At most this many proposals.
    #[arg(long, value_name = "N", conflicts_with = "id", value_parser = clap::value_parser!(u32).range(1..=i64::from(api_types::MAX_PAGE)))]
    pub limit: Option<u32>,
    /// Continue after a previous page (the `--after` it showed).
    #[arg(long, value_name = "ID", conflicts_with = "id")]
    pub after: Option<String>,
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// One proposal in plain lines: its status in the API's words, then either its tally against the approvals that
/// count now (open) or how it was judged in the block that closed it (executed or failed), never both; then every
/// transaction about it with the transaction's own outcome.
fn proposal_summary(detail: &ProposalDetail) -> String {
    let mut lines = vec![format!("proposal    {}", detail.id)];
    if let Some(proposal) = &detail.proposal {
        lines.push(format!("title       {}", proposal.title));
        lines.push(format!("proposer    {}", principal_name(&proposal.proposer)));
        lines.push(format!("expires at  height {}", proposal.expires_at));
    }
    if let Some(at) = detail.submitted_at {
        lines.push(format!("submitted   height {at}"));
    }
    let state = detail.state.map_or("pruned from state (past its expiry)", ProposalStatusName::as_str);
    lines.push(format!("status      {state}"));
    if let Some(governance_contracts::state::records::ProposalStatus::Failed { reason, .. }) = &detail.status {
        lines.push(format!("failure     {reason} (its rules were met; nothing of it applied)"));
    }
    let approvals: Vec<String> = detail.approvals.iter().map(|a| a.approver.to_string()).collect();
    lines.push(format!("approvals   {}", if approvals.is_empty() { "none".to_owned() } else { approvals.join(", ") }));
    if let Some((height, verdict)) = detail.verdict() {
        lines.push(format!("decision    as recorded at height {height}"));
        for r in &verdict.requirements {
            lines.push(format!("  {}: {}", r.kind, r.rule));
            lines.push(format!("    {}", judged(r.met, &r.rule, r.approved_weight, r.seated_weight)));
        }
        lines.push("  approvals that counted:".to_owned());
        for vote in &verdict.approvals {
            let role = if vote.governor { "governor" } else { "not a governor" };
            lines.push(format!("    {} (member {}, weight {}, {role})", vote.account, vote.member, vote.weight));
        }
    } else if let Some(tally) = &detail.tally {
        lines.push("tally       against the approvals that count now".to_owned());
        for r in tally {
            lines.push(format!("  {}: {}", r.kind, r.rule));
            let mut line = judged(r.met, &r.rule, r.approved_weight, r.seated_weight);
            if !r.met && !r.candidates.is_empty() {
                let who: Vec<String> = r.candidates.iter().map(|c| format!("{} ({})", c.member, c.weight)).collect();
                line.push_str(&format!("; could still approve: {}", who.join(", ")));
            }
            lines.push(format!("    {line}"));
        }
    }
    lines.push("transactions".to_owned());
    for r in &detail.receipts {
        let outcome = match &r.receipt.outcome {
            governance_contracts::types::Outcome::Applied => "applied".to_owned(),
            governance_contracts::types::Outcome::Rejected { reason } => format!("rejected: {reason}"),
        };
        let events: Vec<String> = r.receipt.events.iter().map(event_name).collect();
        lines.push(format!("  height {}  {}  transaction {outcome}  {}", r.height, r.hash, events.join(", ")));
    }
    lines.join("\n")
}

/// "met: 6 of 8 seated weight approved" for a weight rule, "met" or "not met" for the others.
fn judged(met: bool, rule: &governance_contracts::types::Rule, approved: u64, seated: u64) -> String {
    let word = if met { "met" } else { "not met" };
    match rule.requirement {
        governance_contracts::types::Requirement::Weight { .. } => {
            format!("{word}: {approved} of {seated} seated weight approved")
        }
        _ => word.to_owned(),
    }
}

/// An account's or a node's id.
fn principal_name(principal: &governance_contracts::types::Principal) -> String {
    match principal {
        governance_contracts::types::Principal::Account(account) => account.to_string(),
        governance_contracts::types::Principal::Node(node) => format!("node {node}"),
    }
}

/// An event's name as the API tags it (`proposal_approved`), with the approver where it names one.
fn event_name(event: &governance_contracts::types::Event) -> String {
    use governance_contracts::types::Event;
    let tag = serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("event").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    match event {
        Event::ProposalApproved { approver, .. } | Event::ApprovalRevoked { approver, .. } => {
            format!("{tag} by {approver}")
        }
        _ => tag,
    }
}

/// `synod blocks [HEIGHT]`.
#[derive(Debug, Clone, clap::Args)]
pub struct BlocksArgs {
    /// One block's height; without it, the latest blocks first.
    #[arg(value_name = "HEIGHT")]
    pub height: Option<u64>,
    /// At most this many blocks.
    #[arg(long, value_name = "N", conflicts_with = "height", value_parser = clap::value_parser!(u32).range(1..=i64::from(api_types::MAX_BLOCK_PAGE)))]
    pub limit: Option<u32>,
    /// Only blocks below this height (the `--before` a previous page showed).
    #[arg(long, value_name = "HEIGHT", conflicts_with = "height")]
    pub before: Option<u64>,
    /// The node and the output form.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// What a collection is called in the API and which fields identify its records.
struct Collection {
    /// The path under `/v1/` and the list's key in the answer.
    name: &'static str,
    /// The fields tried, in order, as a record's id.
    id_keys: &'static [&'static str],
}

const MEMBERS: Collection = Collection { name: "members", id_keys: &["id", "member", "member_id"] };
const NODES: Collection = Collection { name: "nodes", id_keys: &["id", "node", "node_id"] };
const ACCOUNTS: Collection = Collection { name: "accounts", id_keys: &["id", "account", "account_id"] };
const PROPOSALS: Collection = Collection { name: "proposals", id_keys: &["id", "proposal", "proposal_id"] };
const BLOCKS: Collection = Collection { name: "blocks", id_keys: &["height"] };
const EVIDENCE: Collection = Collection { name: "evidence", id_keys: &["height", "node", "validator", "id"] };

/// An id given on the command line, checked and escaped as one path segment.
fn id_segment(id: &str) -> anyhow::Result<String> {
    let id = id.trim();
    if id.is_empty() {
        bail!("an empty id");
    }
    if id.chars().count() > MAX_ID_CHARS {
        bail!("an id of more than {MAX_ID_CHARS} characters");
    }
    Ok(segment(id))
}

/// Fetches `path` as a `T` (the type the node answers) and prints it: as it came with `--json`, else its JSON
/// through `show`. `what` names it in errors; an answer that is not a `T` is an error either way.
fn fetch<T: DeserializeOwned + Serialize>(
    args: &NodeArgs,
    path: &str,
    query: &[(&str, String)],
    what: &str,
    show: impl FnOnce(&Value) -> String,
) -> anyhow::Result<()> {
    let node = args.connect()?;
    let answer = node.get(path, query).and_then(Answer::success).with_context(|| format!("fetching the {what}"))?;
    let typed: T = answer.json(what)?;
    if args.json {
        println!("{}", answer.json_text(what)?);
    } else {
        let value = serde_json::to_value(&typed).with_context(|| format!("showing the {what}"))?;
        println!("{}", show(&value));
    }
    Ok(())
}

/// One record of `collection` by id (decoded as `R`), or a page of the list (decoded as `L`).
fn records<R, L>(collection: &Collection, args: &RecordArgs) -> anyhow::Result<()>
where
    R: DeserializeOwned + Serialize,
    L: DeserializeOwned + Serialize,
{
    let name = collection.name;
    match &args.id {
        Some(id) => {
            let path = format!("/v1/{name}/{}", id_segment(id)?);
            fetch::<R>(&args.node, &path, &[], &format!("{name} record {id}"), render::record)
        }
        None => {
            let page = Page { limit: args.limit, after: args.after.clone() };
            let show = |v: &Value| render::list(v, name, collection.id_keys);
            fetch::<L>(&args.node, &format!("/v1/{name}"), &page.pairs(), name, show)
        }
    }
}

/// `synod members [ID]`.
pub fn members(args: &RecordArgs) -> anyhow::Result<()> {
    records::<Member, MemberList>(&MEMBERS, args)
}

/// `synod nodes [ID]`.
pub fn nodes(args: &RecordArgs) -> anyhow::Result<()> {
    records::<Node, NodeList>(&NODES, args)
}

/// `synod accounts [ID]`.
pub fn accounts(args: &RecordArgs) -> anyhow::Result<()> {
    records::<AccountDetail, AccountList>(&ACCOUNTS, args)
}

/// `synod roles`: the role definitions and every grant.
pub fn roles(args: &NodeArgs) -> anyhow::Result<()> {
    fetch::<RolesAnswer>(args, "/v1/roles", &[], "roles", render::record)
}

/// `synod policy`: the approval rules by action kind.
pub fn policy(args: &NodeArgs) -> anyhow::Result<()> {
    fetch::<PolicyAnswer>(args, "/v1/policy", &[], "policy", policy_lines)
}

/// The policy as one line per action kind: the kind as the API names it, then its rule in the contracts' words
/// (`at least 3/4 of seated weight, approved by governors of active members, no delay`). An answer of another
/// shape is shown as a record.
fn policy_lines(answer: &Value) -> String {
    let Ok(policy) = serde_json::from_value::<PolicyAnswer>(answer.clone()) else {
        return render::record(answer);
    };
    let kind = |rule: &PolicyRule| {
        serde_json::to_value(rule.kind).map_or_else(|_| rule.kind.to_string(), |v| render::plain(&v))
    };
    let width = policy.rules.iter().map(|rule| kind(rule).chars().count()).max().unwrap_or(0);
    let lines: Vec<String> = policy.rules.iter().map(|rule| format!("{:<width$}  {}", kind(rule), rule.rule)).collect();
    if lines.is_empty() { "(none)".to_owned() } else { lines.join("\n") }
}

/// `synod params`: the chain parameters.
pub fn params(args: &NodeArgs) -> anyhow::Result<()> {
    fetch::<ChainParams>(args, "/v1/params", &[], "chain parameters", render::record)
}

/// `synod evidence`: equivocation evidence, by height.
pub fn evidence(args: &NodeArgs) -> anyhow::Result<()> {
    fetch::<EvidenceList>(args, "/v1/evidence", &[], "evidence", |v| render::list(v, EVIDENCE.name, EVIDENCE.id_keys))
}

/// `synod proposals [ID]`.
pub fn proposals(args: &ProposalsArgs) -> anyhow::Result<()> {
    if let Some(id) = &args.id {
        let path = format!("/v1/proposals/{}", id_segment(id)?);
        return fetch::<ProposalDetail>(&args.node, &path, &[], &format!("proposal {id}"), |value| {
            match serde_json::from_value::<ProposalDetail>(value.clone()) {
                Ok(detail) => proposal_summary(&detail),
                Err(_) => render::record(value),
            }
        });
    }
    let query = ProposalQuery { status: args.status, limit: args.limit, after: args.after.clone() };
    fetch::<ProposalList>(&args.node, "/v1/proposals", &query.pairs(), "proposals", |v| {
        render::list(v, PROPOSALS.name, PROPOSALS.id_keys)
    })
}

/// `synod blocks [HEIGHT]`.
pub fn blocks(args: &BlocksArgs) -> anyhow::Result<()> {
    if let Some(height) = args.height {
        let path = format!("/v1/blocks/{height}");
        return fetch::<BlockBody>(&args.node, &path, &[], &format!("block {height}"), block_summary);
    }
    let query = BlockQuery { limit: args.limit, before: args.before };
    fetch::<BlockList>(&args.node, "/v1/blocks", &query.pairs(), "blocks", |answer| {
        let Some(items) = render::list_items(answer, BLOCKS.name) else {
            return render::record(answer);
        };
        let mut lines: Vec<String> = items.iter().map(block_line).collect();
        if lines.is_empty() {
            lines.push("(none)".to_owned());
        }
        if let Some(next) = answer.get("next_before").and_then(Value::as_u64) {
            lines.push(format!("more: --before {next}"));
        }
        lines.join("\n")
    })
}

/// The outcomes of a block's receipts, counted: `(applied, rejected)`.
fn outcomes(block: &Value) -> (usize, usize) {
    let receipts = block.get("receipts").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let applied =
        receipts.iter().filter(|r| r.pointer("/outcome/status").and_then(Value::as_str) == Some("applied")).count();
    (applied, receipts.len().saturating_sub(applied))
}

/// One line for a block of a list: height, hash, time, proposer, transactions.
fn block_line(block: &Value) -> String {
    if block.get("block").is_none() {
        return render::list_line(block, BLOCKS.id_keys);
    }
    let text = |pointer: &str| block.pointer(pointer).map_or_else(|| "-".to_owned(), render::plain);
    let time =
        block.pointer("/block/header/time_ms").and_then(Value::as_u64).map_or_else(|| "-".to_owned(), format_time_ms);
    let txs = block.pointer("/block/transactions").and_then(Value::as_array).map_or(0, Vec::len);
    let (_, rejected) = outcomes(block);
    format!(
        "{}  {}  {time}  proposer={}  {txs} txs ({rejected} rejected)",
        text("/height"),
        text("/hash"),
        text("/block/header/proposer")
    )
}

/// A single block: its header, certificate and each transaction's outcome. An answer of another shape is shown as
/// a record.
fn block_summary(block: &Value) -> String {
    if block.get("block").is_none() {
        return render::record(block);
    }
    let text = |pointer: &str| block.pointer(pointer).map_or_else(|| "-".to_owned(), render::plain);
    let time =
        block.pointer("/block/header/time_ms").and_then(Value::as_u64).map_or_else(|| "-".to_owned(), format_time_ms);
    let signatures = block.pointer("/certificate/signatures").and_then(Value::as_array).map_or(0, Vec::len);
    let mut lines = vec![
        format!("height        {}", text("/height")),
        format!("hash          {}", text("/hash")),
        format!("parent        {}", text("/block/header/parent")),
        format!("time          {time}"),
        format!("proposer      {}", text("/block/header/proposer")),
        format!("state root    {}", text("/block/header/state_root")),
        format!("certificate   round {}, {signatures} signatures", text("/certificate/round")),
    ];
    let receipts = block.get("receipts").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let (applied, rejected) = outcomes(block);
    lines.push(format!("transactions  {} ({applied} applied, {rejected} rejected)", receipts.len()));
    for receipt in receipts {
        let outcome = match receipt.pointer("/outcome/status").and_then(Value::as_str) {
            Some("rejected") => {
                format!(
                    "rejected: {}",
                    receipt.pointer("/outcome/reason").map_or_else(|| "-".to_owned(), render::plain)
                )
            }
            Some(status) => status.to_owned(),
            None => "-".to_owned(),
        };
        let events = receipt.get("events").and_then(Value::as_array).map_or(0, Vec::len);
        let tx = receipt.get("tx").map_or_else(|| "-".to_owned(), render::plain);
        lines.push(format!("  {tx}  {outcome}  {events} events"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An id becomes one escaped path segment; an empty or oversized id is refused.
    #[test]
    fn ids_are_checked() {
        assert_eq!(id_segment(" org1 ").unwrap(), "org1");
        assert_eq!(id_segment("a/b").unwrap(), "a%2Fb");
        assert!(id_segment("").is_err());
        assert!(id_segment(&"x".repeat(MAX_ID_CHARS.saturating_add(1))).is_err());
    }

    /// `synod policy` prints one line per kind, named as the API names it, with the whole rule in words: its
    /// fraction of seated weight and its delay.
    #[test]
    fn policy_lines_show_whole_rules_in_words() {
        let answer = PolicyAnswer {
            rules: governance_contracts::types::default_policy()
                .into_iter()
                .map(|(kind, rule)| PolicyRule { kind, rule })
                .collect(),
        };
        let text = policy_lines(&serde_json::to_value(&answer).unwrap());
        assert_eq!(text.lines().count(), answer.rules.len());
        let line = |kind: &str| text.lines().find(|l| l.starts_with(&format!("{kind} "))).unwrap().to_owned();
        assert!(
            line("set_policy").ends_with(
                "at least 3/4 of seated weight, approved by governors of active members, then a delay of 100 blocks"
            ),
            "{text}"
        );
        assert!(line("expel_member").ends_with("the target's own approval not counted, no delay"), "{text}");
        assert!(
            line("freeze_account").ends_with("one holder of the role compliance in the target's own member, no delay"),
            "{text}"
        );
        assert!(!text.contains('…') && !text.contains('{'), "{text}");
    }

    /// A block's summary shows its height, hash, time, proposer, certificate and each receipt's outcome.
    #[test]
    fn block_summary_shows_outcomes() {
        let block = json!({
            "height": 5, "hash": "sha256:bb",
            "block": {"header": {"time_ms": 1000, "proposer": "n1", "parent": "sha256:aa"}, "transactions": [{}, {}]},
            "certificate": {"round": 0, "signatures": [{}, {}, {}]},
            "receipts": [
                {"tx": "sha256:t1", "outcome": {"status": "applied"}, "events": [{}]},
                {"tx": "sha256:t2", "outcome": {"status": "rejected", "reason": {"reason": "bad_signature"}}, "events": []},
            ],
        });
        let text = block_summary(&block);
        for needle in [
            "sha256:bb",
            "1970-01-01T00:00:01.000Z",
            "n1",
            "3 signatures",
            "2 (1 applied, 1 rejected)",
            "bad_signature",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let line = block_line(&block);
        assert!(line.starts_with("5  sha256:bb") && line.contains("2 txs (1 rejected)"), "{line}");
    }
}
