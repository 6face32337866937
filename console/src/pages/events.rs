//! What happened, in words, in English and Simplified Chinese: the chain's governance events (the dry run, the
//! result of a transaction) and the console's audit trail (the audit page, the overview's recent events). One
//! renderer for all of them, so a change reads the same wherever it is shown.
//!
//! Ids, keys, hashes and names from the chain are never translated; a rejection's reason is named in Chinese by
//! its code (`bad_signature`), the name the API and the receipts give it.

use governance_contracts::{
    error::Rejection,
    types::{Event, Outcome, Principal},
};
use leptos::prelude::*;

use crate::{
    i18n::{Lang, Text, t},
    pages::time::Moment,
};

/// `en` or `zh` by `lang`.
fn pick(lang: Lang, en: String, zh: String) -> String {
    match lang {
        Lang::En => en,
        Lang::ZhCn => zh,
    }
}

/// A digest-like id (`sha256:…`, `ed25519:…`) cut to its scheme and first 12 hex digits; other ids unchanged.
pub fn short_id(id: &str) -> String {
    match id.split_once(':') {
        Some((scheme, hex)) if hex.len() > 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{scheme}:{}…", &hex[..12])
        }
        _ => id.to_owned(),
    }
}

/// A hash or digest cut to its first 12 characters (with its scheme, if it has one).
pub fn short_hash(hash: &str) -> String {
    if hash.contains(':') {
        return short_id(hash);
    }
    if hash.chars().count() > 16 {
        format!("{}…", hash.chars().take(12).collect::<String>())
    } else {
        hash.to_owned()
    }
}

fn principal(lang: Lang, who: &Principal) -> String {
    match who {
        Principal::Account(account) => account.to_string(),
        Principal::Node(node) => pick(lang, format!("node {node}"), format!("节点 {node}")),
    }
}

/// The name the API gives a rejection (`bad_signature`).
pub fn rejection_code(reason: &Rejection) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Why the chain refused something: the contracts' sentence in English, the reason's code in Chinese.
pub fn rejection_words(lang: Lang, reason: &Rejection) -> String {
    pick(lang, reason.to_string(), format!("原因代码 {}", rejection_code(reason)))
}

/// One governance event in words.
pub fn event_words(lang: Lang, event: &Event) -> String {
    let l = lang;
    match event {
        Event::ProposalSubmitted { proposal, proposer, expires_at } => {
            let (p, who) = (short_id(&proposal.to_string()), principal(l, proposer));
            pick(
                l,
                format!("{who} submitted proposal {p}, open for approvals until height {expires_at}"),
                format!("{who} 提交了提案 {p}，在高度 {expires_at} 之前可以批准"),
            )
        }
        Event::ProposalApproved { proposal, approver } => {
            let p = short_id(&proposal.to_string());
            pick(l, format!("{approver} approved proposal {p}"), format!("{approver} 批准了提案 {p}"))
        }
        Event::ApprovalRevoked { proposal, approver } => {
            let p = short_id(&proposal.to_string());
            pick(
                l,
                format!("{approver} withdrew their approval of proposal {p}"),
                format!("{approver} 撤回了对提案 {p} 的批准"),
            )
        }
        Event::ProposalQueued { proposal, ready_at } => {
            let p = short_id(&proposal.to_string());
            pick(
                l,
                format!("Proposal {p} has the approvals it needs and waits until height {ready_at} to apply"),
                format!("提案 {p} 已获得所需批准，将在高度 {ready_at} 执行"),
            )
        }
        Event::ProposalExecuted { proposal, .. } => {
            let p = short_id(&proposal.to_string());
            pick(l, format!("Proposal {p} executed"), format!("提案 {p} 已执行"))
        }
        Event::ProposalFailed { proposal, reason, .. } => {
            let p = short_id(&proposal.to_string());
            pick(
                l,
                format!("Proposal {p} failed: {}", rejection_words(l, reason)),
                format!("提案 {p} 执行失败：{}", rejection_words(l, reason)),
            )
        }
        Event::ProposalCancelled { proposal } => {
            let p = short_id(&proposal.to_string());
            pick(l, format!("Proposal {p} cancelled"), format!("提案 {p} 已取消"))
        }
        Event::MemberAdmitted { member, weight } => pick(
            l,
            format!("Member {member} admitted with voting weight {weight}"),
            format!("成员 {member} 已加入，投票权重 {weight}"),
        ),
        Event::MemberWeightChanged { member, from, to } => pick(
            l,
            format!("Member {member}'s voting weight changed from {from} to {to}"),
            format!("成员 {member} 的投票权重由 {from} 改为 {to}"),
        ),
        Event::MemberSuspended { member } => {
            pick(l, format!("Member {member} suspended"), format!("成员 {member} 已暂停"))
        }
        Event::MemberReinstated { member } => {
            pick(l, format!("Member {member} reinstated"), format!("成员 {member} 已恢复"))
        }
        Event::MemberExpelled { member } => {
            pick(l, format!("Member {member} expelled"), format!("成员 {member} 已除名"))
        }
        Event::GovernorsReplaced { member, governors } => {
            let list = governors.iter().map(ToString::to_string).collect::<Vec<_>>();
            pick(
                l,
                format!("Member {member}'s governors are now {}", list.join(", ")),
                format!("成员 {member} 的治理人现为 {}", list.join("、")),
            )
        }
        Event::AccountCreated { account, member, key } => {
            let key = short_id(&key.to_string());
            pick(
                l,
                format!("Account {account} created for member {member}, key {key}"),
                format!("已为成员 {member} 创建账户 {account}，密钥 {key}"),
            )
        }
        Event::AccountFrozen { account } => {
            pick(l, format!("Account {account} frozen"), format!("账户 {account} 已冻结"))
        }
        Event::AccountUnfrozen { account } => {
            pick(l, format!("Account {account} unfrozen"), format!("账户 {account} 已解冻"))
        }
        Event::AccountKeyChanged { account, old, new } => {
            let new = short_id(&new.to_string());
            match old {
                Some(old) => {
                    let old = short_id(&old.to_string());
                    pick(
                        l,
                        format!("Account {account}'s key changed from {old} to {new}"),
                        format!("账户 {account} 的密钥由 {old} 更换为 {new}"),
                    )
                }
                None => {
                    pick(l, format!("Account {account} now has key {new}"), format!("账户 {account} 的密钥设为 {new}"))
                }
            }
        }
        Event::KeyCompromised { owner, key } => {
            let (who, key) = (principal(l, owner), short_id(&key.to_string()));
            pick(l, format!("Key {key} of {who} marked compromised"), format!("{who} 的密钥 {key} 已标记为泄露"))
        }
        Event::RoleDefined { role } => pick(l, format!("Role {role} defined"), format!("已定义角色 {role}")),
        Event::RoleGranted { account, role, expires_at } => pick(
            l,
            format!("Role {role} granted to {account} until height {expires_at}"),
            format!("已授予 {account} 角色 {role}，有效至高度 {expires_at}"),
        ),
        Event::RoleRevoked { account, role } => {
            pick(l, format!("Role {role} revoked from {account}"), format!("已撤销 {account} 的角色 {role}"))
        }
        Event::NodeAdmitted { node, owner, key } => {
            let key = short_id(&key.to_string());
            pick(
                l,
                format!("Node {node} of member {owner} admitted, key {key}"),
                format!("成员 {owner} 的节点 {node} 已加入，密钥 {key}"),
            )
        }
        Event::NodeAttested { node, synced_height } => pick(
            l,
            format!("Node {node} attested it is synced to height {synced_height}"),
            format!("节点 {node} 证明已同步至高度 {synced_height}"),
        ),
        Event::NodePromoted { node, weight } => pick(
            l,
            format!("Node {node} promoted to sealer with weight {weight}"),
            format!("节点 {node} 已升为共识节点，权重 {weight}"),
        ),
        Event::NodeDemoted { node } => {
            pick(l, format!("Node {node} demoted to observer"), format!("节点 {node} 已降为观察节点"))
        }
        Event::NodeWeightChanged { node, from, to } => pick(
            l,
            format!("Node {node}'s sealing weight changed from {from} to {to}"),
            format!("节点 {node} 的共识权重由 {from} 改为 {to}"),
        ),
        Event::NodeRemoved { node } => pick(l, format!("Node {node} removed"), format!("节点 {node} 已移除")),
        Event::NodeKeyChanged { node, old, new } => {
            let new = short_id(&new.to_string());
            match old {
                Some(old) => {
                    let old = short_id(&old.to_string());
                    pick(
                        l,
                        format!("Node {node}'s key changed from {old} to {new}"),
                        format!("节点 {node} 的密钥由 {old} 更换为 {new}"),
                    )
                }
                None => pick(l, format!("Node {node} now has key {new}"), format!("节点 {node} 的密钥设为 {new}")),
            }
        }
        Event::NodeKeyRevoked { node, key } => {
            let key = short_id(&key.to_string());
            pick(l, format!("Key {key} of node {node} revoked"), format!("节点 {node} 的密钥 {key} 已吊销"))
        }
        Event::NodeAddressChanged { node, address } => {
            pick(l, format!("Node {node}'s address is now {address}"), format!("节点 {node} 的地址改为 {address}"))
        }
        Event::SealerSetChanged { total_before, total_after, fault_tolerance_before, fault_tolerance_after } => pick(
            l,
            format!(
                "Sealer weight changed from {total_before} to {total_after}; it tolerates {fault_tolerance_after} faulty (was {fault_tolerance_before})"
            ),
            format!(
                "共识节点总权重由 {total_before} 改为 {total_after}；可容忍故障权重 {fault_tolerance_after}（原为 {fault_tolerance_before}）"
            ),
        ),
        Event::PolicyRuleChanged { kind } => {
            let kind = crate::wysiwys::kind_name(*kind);
            pick(l, format!("Approval rule for {kind} changed"), format!("{kind} 的审批规则已更改"))
        }
        Event::ParamsChanged => pick(l, "Chain parameters changed".to_owned(), "链参数已更改".to_owned()),
        Event::AuditTrailAnchored { account, seq, head } => {
            let head = short_id(&head.to_string());
            pick(
                l,
                format!("{account} anchored its console's audit trail up to row {seq} (head {head})"),
                format!("{account} 将其控制台的审计记录锚定至第 {seq} 行（头哈希 {head}）"),
            )
        }
    }
}

/// What a dry run found, in words: the events it would emit, or why it would fail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DryRunWords {
    /// The heading: it would apply, or it would fail.
    pub heading: String,
    /// Each event, or the reason, one per line.
    pub lines: Vec<String>,
}

/// A dry run's receipt in words: "With every approval in place it would apply:" and its events, or why it fails.
pub fn dry_run_words(lang: Lang, outcome: &Outcome, events: &[Event]) -> DryRunWords {
    let failure = match outcome {
        Outcome::Rejected { reason } => Some(rejection_words(lang, reason)),
        Outcome::Applied => events.iter().find_map(|e| match e {
            Event::ProposalFailed { reason, .. } => Some(rejection_words(lang, reason)),
            _ => None,
        }),
    };
    match failure {
        Some(why) => DryRunWords {
            heading: pick(lang, "It would fail:".to_owned(), "它将失败：".to_owned()),
            lines: vec![why],
        },
        None => DryRunWords {
            heading: pick(
                lang,
                "With every approval in place it would apply:".to_owned(),
                "获得全部所需批准后，它将执行：".to_owned(),
            ),
            lines: events.iter().filter(|e| !is_bookkeeping(e)).map(|e| event_words(lang, e)).collect(),
        },
    }
}

/// Events every executed proposal emits about itself, which say nothing about what it changes.
fn is_bookkeeping(event: &Event) -> bool {
    matches!(event, Event::ProposalExecuted { .. })
}

/// A transaction's result, in words: "included at height N" and what it did.
pub fn included_words(lang: Lang, height: u64, events: &[Event]) -> String {
    let what: Vec<String> = events.iter().map(|e| event_words(lang, e)).collect();
    match lang {
        Lang::En if what.is_empty() => format!("included at height {height}"),
        Lang::En => format!("included at height {height}: {}", what.join("; ")),
        Lang::ZhCn if what.is_empty() => format!("已在高度 {height} 上链"),
        Lang::ZhCn => format!("已在高度 {height} 上链：{}", what.join("；")),
    }
}

/// What kind of audit row, in words (an unknown kind is shown as stored).
pub fn audit_kind_words(lang: Lang, kind: &str) -> String {
    let text = match kind {
        "sign_in" => t("Signed in", "登录"),
        "sign_out" => t("Signed out", "退出登录"),
        "sign_in_refused" => t("Sign-in refused", "登录被拒绝"),
        "session_ended" => t("Session ended", "会话结束"),
        "draft_created" => t("Draft created", "创建草稿"),
        "draft_submitted" => t("Draft submitted", "提交草稿"),
        "draft_abandoned" => t("Draft abandoned", "放弃草稿"),
        "approval_signed" => t("Approval signed", "签署批准"),
        "approval_uploaded" => t("Approval uploaded", "上传批准"),
        "tx_submitted" => t("Transaction sent", "发送交易"),
        "receipt" => t("Proposal failed", "提案执行失败"),
        "proposal_applied" => t("Proposal executed", "提案已执行"),
        "approval_on_chain" => t("Approved on chain", "链上批准"),
        "approval_revoked_on_chain" => t("Approval withdrawn on chain", "链上撤回批准"),
        "settings" => t("Settings changed", "更改设置"),
        "export" => t("Trail exported", "导出审计记录"),
        other => return other.to_owned(),
    };
    text.get(lang).to_owned()
}

/// Every audit kind the console writes, for the kind filter.
pub const AUDIT_KINDS: [&str; 16] = [
    "sign_in",
    "sign_out",
    "sign_in_refused",
    "session_ended",
    "draft_created",
    "draft_submitted",
    "draft_abandoned",
    "approval_signed",
    "approval_uploaded",
    "tx_submitted",
    "receipt",
    "proposal_applied",
    "approval_on_chain",
    "approval_revoked_on_chain",
    "settings",
    "export",
];

/// A transaction's payload kind, in words.
fn payload_words(lang: Lang, payload: &str) -> String {
    let text = match payload {
        "submit_proposal" => t("submission of a proposal with the proposer's approval", "提交提案（附提案人的批准）"),
        "approve" => t("approval", "批准"),
        "revoke_approval" => t("withdrawal of an approval", "撤回批准"),
        "cancel_proposal" => t("cancellation of a proposal", "取消提案"),
        "execute_proposal" => t("execution of a proposal", "执行提案"),
        "rotate_account_key" => t("rotation of an account key", "更换账户密钥"),
        "mark_key_compromised" => t("report of a compromised key", "报告密钥泄露"),
        "attest_readiness" => t("node readiness attestation", "节点就绪证明"),
        "anchor_audit_trail" => t("anchor of the audit trail", "锚定审计记录"),
        other => return other.to_owned(),
    };
    text.get(lang).to_owned()
}

/// An audit row's particulars, in words, from its kind and detail (the JSON the row stores).
pub fn audit_detail_words(lang: Lang, kind: &str, detail: &str) -> String {
    let l = lang;
    let json: serde_json::Value = serde_json::from_str(detail).unwrap_or(serde_json::Value::Null);
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let number = |key: &str| json.get(key).and_then(serde_json::Value::as_u64);
    let flag = |key: &str| json.get(key).and_then(serde_json::Value::as_bool).unwrap_or(false);
    match kind {
        "sign_in" if flag("read_only") => pick(l, "Read-only session".to_owned(), "只读会话".to_owned()),
        "sign_in" => pick(l, "May sign and submit".to_owned(), "可签署并提交".to_owned()),
        "sign_out" => String::new(),
        "sign_in_refused" => {
            let claimed = text("unverified_account");
            let claimed = if claimed.is_empty() { "—".to_owned() } else { claimed };
            pick(
                l,
                format!("Claimed account {claimed} (unverified): {}", text("reason")),
                format!("声称的账户 {claimed}（未验证）"),
            )
        }
        "session_ended" => pick(
            l,
            "The key that signed in is no longer the account's current key on chain".to_owned(),
            "登录所用的密钥已不是该账户在链上的当前密钥".to_owned(),
        ),
        "draft_created" => {
            let n = number("draft").unwrap_or(0);
            pick(l, format!("Draft #{n}: “{}”", text("title")), format!("草稿 #{n}：“{}”", text("title")))
        }
        "draft_submitted" => {
            let (n, tx) = (number("draft").unwrap_or(0), short_id(&text("tx")));
            pick(l, format!("Draft #{n} sent in transaction {tx}"), format!("草稿 #{n} 已通过交易 {tx} 发送"))
        }
        "approval_signed" | "approval_uploaded" | "tx_submitted" => {
            let (what, tx) = (payload_words(l, &text("payload")), short_id(&text("tx")));
            let refused = text("refused");
            match (refused.is_empty(), l) {
                (true, Lang::En) => format!("{what}, transaction {tx}"),
                (true, Lang::ZhCn) => format!("{what}，交易 {tx}"),
                (false, Lang::En) => format!("{what}, transaction {tx}: refused by the node: {refused}"),
                (false, Lang::ZhCn) => format!("{what}，交易 {tx}：被节点拒绝"),
            }
        }
        "receipt" | "proposal_applied" => {
            let height = number("height").unwrap_or(0);
            let title = text("title");
            match (kind, l) {
                ("receipt", Lang::En) => format!("“{title}” failed at height {height}"),
                ("receipt", Lang::ZhCn) => format!("“{title}”于高度 {height} 执行失败"),
                (_, Lang::En) => format!("“{title}” executed at height {height}"),
                (_, Lang::ZhCn) => format!("“{title}”已于高度 {height} 执行"),
            }
        }
        "approval_on_chain" | "approval_revoked_on_chain" => {
            let (approver, member, height) = (text("approver"), text("member"), number("height").unwrap_or(0));
            let title = text("title");
            let weight = number("weight");
            let revoked = kind == "approval_revoked_on_chain";
            let en_who = match weight {
                Some(w) => format!("{approver}, governor of {member} (weight {w})"),
                None => format!("{approver} of {member}"),
            };
            let zh_who = match weight {
                Some(w) => format!("{approver}（{member} 的治理人，权重 {w}）"),
                None => format!("{approver}（{member}）"),
            };
            let en_what = if title.is_empty() { "the proposal".to_owned() } else { format!("“{title}”") };
            let zh_what = if title.is_empty() { "该提案".to_owned() } else { format!("“{title}”") };
            match (revoked, l) {
                (false, Lang::En) => format!("{en_who} approved {en_what} at height {height}"),
                (false, Lang::ZhCn) => format!("{zh_who}于高度 {height} 批准了{zh_what}"),
                (true, Lang::En) => format!("{en_who} withdrew their approval of {en_what} at height {height}"),
                (true, Lang::ZhCn) => format!("{zh_who}于高度 {height} 撤回了对{zh_what}的批准"),
            }
        }
        "settings" if json.get("webhook").is_some() => {
            let n = number("webhook").unwrap_or(0);
            if flag("added") {
                let (url, events) = (text("url"), text("events"));
                pick(
                    l,
                    format!("Webhook #{n} added: {url} ({events})"),
                    format!("已添加回调地址 #{n}：{url}（{events}）"),
                )
            } else {
                pick(l, format!("Webhook #{n} removed"), format!("已删除回调地址 #{n}"))
            }
        }
        "export" => {
            let rows = number("rows").unwrap_or(0);
            pick(l, format!("{rows} rows exported"), format!("导出了 {rows} 行"))
        }
        _ => String::new(),
    }
}

/// The label of the raw record an audit row holds (what its hash covers).
pub const RECORDED: Text = t("Recorded data", "记录的原始数据");

/// Who an audit row names as its actor: an account as it is, the console's own actors in words (`chain`: the
/// console's indexer recording what the chain did; `anonymous`: a sign-in nobody proved).
pub fn actor_words(lang: Lang, actor: &str) -> String {
    match actor {
        "chain" => t("the chain", "链上").get(lang).to_owned(),
        "system" => t("the console", "控制台").get(lang).to_owned(),
        "anonymous" => t("anonymous", "匿名").get(lang).to_owned(),
        account => account.to_owned(),
    }
}

/// One audit row as a line: when, who (unless the words already name them), what happened and the particulars,
/// and what it concerns (unless it is the actor).
pub fn audit_line_words(lang: Lang, actor: &str, kind: &str, subject: &str, detail: &str) -> String {
    let what = audit_kind_words(lang, kind);
    let more = audit_detail_words(lang, kind, detail);
    let colon = match lang {
        Lang::En => ": ",
        Lang::ZhCn => "：",
    };
    let mut line = if more.contains(actor) { String::new() } else { format!("{} · ", actor_words(lang, actor)) };
    line.push_str(&what);
    if !more.is_empty() {
        line.push_str(colon);
        line.push_str(&more);
    }
    if !subject.is_empty() && subject != actor && !more.contains(&short_id(subject)) {
        line.push_str(" · ");
        line.push_str(&short_id(subject));
    }
    line
}

/// One audit row in words, for the overview's list.
#[component]
pub fn AuditLine(
    at_ms: i64,
    actor: String,
    kind: String,
    subject: String,
    detail: String,
    lang: Lang,
) -> impl IntoView {
    let words = audit_line_words(lang, &actor, &kind, &subject, &detail);
    view! {
        <li class="event" data-kind=kind>
            <Moment ms=at_ms lang compact=true />" · "{words}
        </li>
    }
}

/// Puts `text` on the clipboard (in the browser; the server renders the button only).
#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        // The promise settles on its own; a refusal leaves the full value in the tooltip and the disclosure.
        let _ = window.navigator().clipboard().write_text(text);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_text: &str) {}

const COPY: Text = t("Copy", "复制");
const COPIED: Text = t("Copied", "已复制");
const FULL_VALUE: Text = t("Full value", "完整值");

/// A long value (a hash, a digest, a key) shown short, with its full value on hover and on demand, and a button
/// that copies it.
#[component]
pub fn Copyable(value: String, lang: Lang, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let shown = short_hash(&value);
    let whole = shown != value;
    let copy = {
        let value = value.clone();
        move |_| {
            copy_to_clipboard(&value);
            copied.set(true);
        }
    };
    view! {
        <span class="copyable" data-testid=testid>
            <code title=value.clone()>{shown}</code>
            <button type="button" class="copy secondary" title=COPY.get(lang) aria-label=COPY.get(lang)
                data-value=value.clone() on:click=copy>
                {move || if copied.get() { COPIED.get(lang) } else { COPY.get(lang) }}
            </button>
            {whole.then(|| view! {
                <details class="full"><summary>{FULL_VALUE.get(lang)}</summary><code>{value}</code></details>
            })}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::{
        codec::{BoundedString, BoundedVec},
        crypto::{Digest, PublicKey},
        ids::{Height, ProposalId, Weight},
        types::{ActionKind, Verdict},
    };

    use super::*;

    fn id<T: std::str::FromStr>(text: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        text.parse().expect("a valid id")
    }

    /// One event of every kind; the match fails to compile when the contracts gain a kind this list lacks.
    fn every_event() -> Vec<Event> {
        let proposal = ProposalId(Digest::Sha256([0xab; 32]));
        let key = PublicKey::Ed25519([0xcd; 32]);
        let events = vec![
            Event::ProposalSubmitted {
                proposal,
                proposer: Principal::Account(id("org1-admin")),
                expires_at: Height(900),
            },
            Event::ProposalApproved { proposal, approver: id("org2-admin") },
            Event::ApprovalRevoked { proposal, approver: id("org2-admin") },
            Event::ProposalQueued { proposal, ready_at: Height(950) },
            Event::ProposalExecuted { proposal, verdict: Verdict::default() },
            Event::ProposalFailed { proposal, reason: Rejection::BadSignature, verdict: Verdict::default() },
            Event::ProposalCancelled { proposal },
            Event::MemberAdmitted { member: id("org5"), weight: Weight(1) },
            Event::MemberWeightChanged { member: id("org5"), from: Weight(1), to: Weight(2) },
            Event::MemberSuspended { member: id("org5") },
            Event::MemberReinstated { member: id("org5") },
            Event::MemberExpelled { member: id("org5") },
            Event::GovernorsReplaced {
                member: id("org5"),
                governors: BoundedVec::try_new(vec![id("org5-admin"), id("org5-deputy")]).expect("two"),
            },
            Event::AccountCreated { account: id("org5-admin"), member: id("org5"), key },
            Event::AccountFrozen { account: id("org5-admin") },
            Event::AccountUnfrozen { account: id("org5-admin") },
            Event::AccountKeyChanged { account: id("org5-admin"), old: Some(key), new: key },
            Event::AccountKeyChanged { account: id("org5-admin"), old: None, new: key },
            Event::KeyCompromised { owner: Principal::Node(id("n5")), key },
            Event::RoleDefined { role: id("kyc-verified") },
            Event::RoleGranted { account: id("org5-admin"), role: id("kyc-verified"), expires_at: Height(5000) },
            Event::RoleRevoked { account: id("org5-admin"), role: id("kyc-verified") },
            Event::NodeAdmitted { node: id("n5"), owner: id("org5"), key },
            Event::NodeAttested { node: id("n5"), synced_height: Height(40) },
            Event::NodePromoted { node: id("n5"), weight: Weight(1) },
            Event::NodeDemoted { node: id("n5") },
            Event::NodeWeightChanged { node: id("n5"), from: Weight(1), to: Weight(3) },
            Event::NodeRemoved { node: id("n5") },
            Event::NodeKeyChanged { node: id("n5"), old: Some(key), new: key },
            Event::NodeKeyChanged { node: id("n5"), old: None, new: key },
            Event::NodeKeyRevoked { node: id("n5"), key },
            Event::NodeAddressChanged {
                node: id("n5"),
                address: BoundedString::try_new("127.0.0.1:9005".to_owned()).expect("short"),
            },
            Event::SealerSetChanged {
                total_before: Weight(4),
                total_after: Weight(5),
                fault_tolerance_before: Weight(1),
                fault_tolerance_after: Weight(1),
            },
            Event::PolicyRuleChanged { kind: ActionKind::GrantRole },
            Event::ParamsChanged,
            Event::AuditTrailAnchored { account: id("org1-console"), seq: 42, head: Digest::Sha256([0xef; 32]) },
        ];
        for event in &events {
            match event {
                Event::ProposalSubmitted { .. }
                | Event::ProposalApproved { .. }
                | Event::ApprovalRevoked { .. }
                | Event::ProposalQueued { .. }
                | Event::ProposalExecuted { .. }
                | Event::ProposalFailed { .. }
                | Event::ProposalCancelled { .. }
                | Event::MemberAdmitted { .. }
                | Event::MemberWeightChanged { .. }
                | Event::MemberSuspended { .. }
                | Event::MemberReinstated { .. }
                | Event::MemberExpelled { .. }
                | Event::GovernorsReplaced { .. }
                | Event::AccountCreated { .. }
                | Event::AccountFrozen { .. }
                | Event::AccountUnfrozen { .. }
                | Event::AccountKeyChanged { .. }
                | Event::KeyCompromised { .. }
                | Event::RoleDefined { .. }
                | Event::RoleGranted { .. }
                | Event::RoleRevoked { .. }
                | Event::NodeAdmitted { .. }
                | Event::NodeAttested { .. }
                | Event::NodePromoted { .. }
                | Event::NodeDemoted { .. }
                | Event::NodeWeightChanged { .. }
                | Event::NodeRemoved { .. }
                | Event::NodeKeyChanged { .. }
                | Event::NodeKeyRevoked { .. }
                | Event::NodeAddressChanged { .. }
                | Event::SealerSetChanged { .. }
                | Event::PolicyRuleChanged { .. }
                | Event::ParamsChanged
                | Event::AuditTrailAnchored { .. } => {}
            }
        }
        events
    }

    /// The ids, keys, codes and addresses the sample events carry: the only Latin text a Chinese rendering keeps.
    const IDS: [&str; 13] = [
        "sha256:abababababab…",
        "ed25519:cdcdcdcdcdcd…",
        "sha256:efefefefefef…",
        "org1-admin",
        "org2-admin",
        "org5-admin",
        "org5-deputy",
        "org1-console",
        "kyc-verified",
        "bad_signature",
        "grant_role",
        "org5",
        "n5",
    ];

    /// Whether `text` holds Latin letters once every sample id is taken out.
    fn latin_left(text: &str) -> bool {
        let mut rest = text.to_owned();
        for id in IDS {
            rest = rest.replace(id, "");
        }
        rest.chars().any(|c| c.is_ascii_alphabetic())
    }

    /// Every event kind the contracts emit reads in both languages: English with no Chinese, Chinese with no
    /// English left once ids, keys and codes are taken out, and each names what it is about.
    #[test]
    fn every_event_kind_reads_in_both_languages() {
        for event in every_event() {
            let (en, zh) = (event_words(Lang::En, &event), event_words(Lang::ZhCn, &event));
            assert!(!en.is_empty() && !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{en}");
            assert!(!latin_left(&zh), "English left in {zh:?} for {event:?}");
            assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{zh}");
            assert!(!en.contains('{') && !zh.contains('{'), "raw JSON in {en} / {zh}");
        }
        let admitted = Event::MemberAdmitted { member: id("org5"), weight: Weight(1) };
        assert_eq!(event_words(Lang::En, &admitted), "Member org5 admitted with voting weight 1");
        assert_eq!(event_words(Lang::ZhCn, &admitted), "成员 org5 已加入，投票权重 1");
    }

    /// A dry run that applies lists what it changes (not the proposal's own bookkeeping); one whose proposal
    /// fails says so with the reason instead.
    #[test]
    fn dry_runs_read_as_changes_or_the_reason_they_fail() {
        let proposal = ProposalId(Digest::Sha256([1; 32]));
        let events = vec![
            Event::MemberAdmitted { member: id("org5"), weight: Weight(1) },
            Event::ProposalExecuted { proposal, verdict: Verdict::default() },
        ];
        let words = dry_run_words(Lang::En, &Outcome::Applied, &events);
        assert_eq!(words.heading, "With every approval in place it would apply:");
        assert_eq!(words.lines, vec!["Member org5 admitted with voting weight 1".to_owned()]);
        let failed =
            vec![Event::ProposalFailed { proposal, reason: Rejection::BadSignature, verdict: Verdict::default() }];
        let words = dry_run_words(Lang::ZhCn, &Outcome::Applied, &failed);
        assert_eq!(words.heading, "它将失败：");
        assert_eq!(words.lines, vec!["原因代码 bad_signature".to_owned()]);
        let refused = Outcome::Rejected { reason: Rejection::DuplicateTransaction };
        assert_eq!(dry_run_words(Lang::En, &refused, &[]).lines, vec!["this transaction was already included"]);
    }

    /// A transaction's result names its height and its events in words, never as JSON.
    #[test]
    fn included_transactions_read_in_words() {
        let proposal = ProposalId(Digest::Sha256([0xab; 32]));
        let events = vec![Event::ProposalApproved { proposal, approver: id("org2-admin") }];
        assert_eq!(
            included_words(Lang::En, 57, &events),
            "included at height 57: org2-admin approved proposal sha256:abababababab…"
        );
        assert_eq!(included_words(Lang::ZhCn, 57, &[]), "已在高度 57 上链");
    }

    /// Every audit kind the console writes has words in both languages, and the filter offers exactly those
    /// kinds.
    #[cfg(feature = "ssr")]
    #[test]
    fn every_audit_kind_has_words() {
        use crate::server::audit::AuditKind;
        let written: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(written, AUDIT_KINDS.to_vec());
        for kind in AUDIT_KINDS {
            let (en, zh) = (audit_kind_words(Lang::En, kind), audit_kind_words(Lang::ZhCn, kind));
            assert_ne!(en, kind, "{kind} has no English words");
            assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{kind}: {zh}");
        }
    }

    /// Audit rows read in words: an approval seen on chain names the approver, their member, weight and height;
    /// a sign-in says whether it may sign; Chinese keeps only ids and titles.
    #[test]
    fn audit_rows_read_in_words() {
        let detail = r#"{"approver":"org2-admin","member":"org2","weight":1,"height":57,"title":"Admit org5"}"#;
        assert_eq!(
            audit_detail_words(Lang::En, "approval_on_chain", detail),
            "org2-admin, governor of org2 (weight 1) approved “Admit org5” at height 57"
        );
        assert_eq!(
            audit_detail_words(Lang::ZhCn, "approval_on_chain", detail),
            "org2-admin（org2 的治理人，权重 1）于高度 57 批准了“Admit org5”"
        );
        assert_eq!(audit_detail_words(Lang::ZhCn, "sign_in", r#"{"read_only":true}"#), "只读会话");
        let sent = r#"{"payload":"approve","tx":"sha256:0123456789abcdef0123456789abcdef"}"#;
        assert_eq!(audit_detail_words(Lang::En, "tx_submitted", sent), "approval, transaction sha256:0123456789ab…");
        assert_eq!(audit_detail_words(Lang::En, "sign_in", "not json"), "May sign and submit");
    }

    /// A line of the recent events names the actor once: not again when the words name them, nor the subject when
    /// it is the actor; the console's own actors read in words; Chinese uses its own colon.
    #[test]
    fn audit_lines_name_the_actor_once() {
        let detail = r#"{"approver":"org2-admin","member":"org2","weight":1,"height":57,"title":"Admit org5"}"#;
        let line = audit_line_words(Lang::En, "org2-admin", "approval_on_chain", "sha256:ab", detail);
        assert_eq!(
            line,
            "Approved on chain: org2-admin, governor of org2 (weight 1) approved “Admit org5” at height 57 · sha256:ab"
        );
        assert_eq!(
            audit_line_words(Lang::En, "org1-admin", "sign_in", "org1-admin", r#"{"read_only":false}"#),
            "org1-admin · Signed in: May sign and submit"
        );
        let applied = r#"{"status":"applied","height":14,"title":"Admit org5"}"#;
        assert_eq!(
            audit_line_words(Lang::ZhCn, "chain", "proposal_applied", "sha256:ab", applied),
            "链上 · 提案已执行：“Admit org5”已于高度 14 执行 · sha256:ab"
        );
    }

    /// Digests and keys shorten to their scheme and 12 hex digits; names stay whole.
    #[test]
    fn short_ids_keep_the_scheme_and_names() {
        assert_eq!(short_id(&format!("sha256:{}", "a".repeat(64))), "sha256:aaaaaaaaaaaa…");
        assert_eq!(short_id("org1-admin"), "org1-admin");
        assert_eq!(short_id("127.0.0.1:9000"), "127.0.0.1:9000");
        assert_eq!(short_hash(&"f".repeat(64)), "ffffffffffff…");
        assert_eq!(short_hash("abc"), "abc");
    }
}
