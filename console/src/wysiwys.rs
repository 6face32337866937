//! What you see is what you sign. The browser decodes a proposal's canonical bytes itself, describes every action
//! in plain words (English or Simplified Chinese) with what it changes (before → after, read from the chain
//! snapshot) and the checks it makes, and computes the digest it signs: the same digest `synod proposal show`
//! prints for the same proposal on another machine. Nothing here trusts the server's description.

use governance_contracts::{
    codec,
    crypto::PublicKey,
    domain::ChainIdentity,
    ids::{Height, NodeId, Weight},
    types::{Action, KeyProof, NodeKind, Payload, Proposal, Transaction},
};

use crate::{i18n::Lang, model::ChainSnapshot};

/// The largest proposal accepted, in hex characters.
pub const MAX_PROPOSAL_HEX: usize = 2 * 1024 * 1024;

/// Why bytes could not be reviewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Too large.
    #[error("the proposal is too large to review")]
    TooLarge,
    /// Not hex.
    #[error("the proposal bytes are not hex")]
    NotHex,
    /// Not a canonical proposal.
    #[error("the bytes are not a canonical proposal: {0}")]
    Decode(String),
}

/// Decodes a proposal from its canonical bytes, hex; the decoder refuses trailing bytes and out-of-bound lists.
pub fn decode_proposal(hex_text: &str) -> Result<Proposal, ReviewError> {
    if hex_text.len() > MAX_PROPOSAL_HEX {
        return Err(ReviewError::TooLarge);
    }
    let bytes = hex::decode(hex_text.trim()).map_err(|_| ReviewError::NotHex)?;
    let proposal: Proposal = codec::decode(&bytes).map_err(|e| ReviewError::Decode(e.to_string()))?;
    if codec::encode(&proposal) != bytes {
        return Err(ReviewError::Decode("not in canonical form".to_owned()));
    }
    Ok(proposal)
}

/// One value an action changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changes.
    pub what: String,
    /// Its value now.
    pub before: String,
    /// Its value after the action.
    pub after: String,
}

/// One check shown with an action: an expectation and whether the chain meets it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether it holds.
    pub ok: bool,
    /// What it says.
    pub text: String,
}

/// One action, reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReview {
    /// The action in one sentence.
    pub headline: String,
    /// What it changes.
    pub changes: Vec<Change>,
    /// What it checks.
    pub checks: Vec<Check>,
}

/// A proposal, reviewed against the chain as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalReview {
    /// The approval digest (= the proposal id), `sha256:<hex>`, computed here.
    pub digest: String,
    /// Each action.
    pub actions: Vec<ActionReview>,
}

fn t(lang: Lang, en: String, zh: String) -> String {
    match lang {
        Lang::En => en,
        Lang::ZhCn => zh,
    }
}

fn check(ok: bool, text: String) -> Check {
    Check { ok, text }
}

fn change(what: &str, before: impl ToString, after: impl ToString) -> Change {
    Change { what: what.to_owned(), before: before.to_string(), after: after.to_string() }
}

/// Sealer weights now, and after applying `actions` in order (only sealer changes matter).
/// Sealers with their weights.
type Sealers = Vec<(NodeId, Weight)>;

fn sealers_after(view: &ChainSnapshot, actions: &[Action]) -> (Sealers, Sealers) {
    let before: Vec<(NodeId, Weight)> = view
        .nodes
        .iter()
        .filter(|n| n.record.kind == NodeKind::Sealer)
        .map(|n| (n.id.clone(), n.record.weight))
        .collect();
    let mut after = before.clone();
    for action in actions {
        match action {
            Action::PromoteNode { node, weight, .. } => {
                after.retain(|(id, _)| id != node);
                after.push((node.clone(), *weight));
            }
            Action::SetNodeWeight { node, weight, .. } => {
                for entry in &mut after {
                    if &entry.0 == node {
                        entry.1 = *weight;
                    }
                }
            }
            Action::DemoteNode { node, .. } | Action::RemoveNode { node, .. } | Action::RevokeNodeKey { node, .. } => {
                after.retain(|(id, _)| id != node);
            }
            _ => {}
        }
    }
    (before, after)
}

fn sealer_change(action: &Action) -> bool {
    matches!(
        action,
        Action::PromoteNode { .. }
            | Action::DemoteNode { .. }
            | Action::SetNodeWeight { .. }
            | Action::RemoveNode { .. }
            | Action::RevokeNodeKey { .. }
    )
}

fn key_text(key: Option<PublicKey>) -> String {
    key.map_or_else(|| "—".to_owned(), |k| k.to_string())
}

fn proof_checks(
    proof: &KeyProof,
    chain: &ChainIdentity,
    current: Option<PublicKey>,
    view: &ChainSnapshot,
    lang: Lang,
) -> Vec<Check> {
    vec![
        check(
            proof.verifies(chain),
            t(
                lang,
                "the new key signed its possession proof for this chain".into(),
                "新密钥已为本链签署持有证明".into(),
            ),
        ),
        check(
            proof.body.old_key == current,
            t(
                lang,
                format!(
                    "expects the current key {}; the chain has {}",
                    key_text(proof.body.old_key),
                    key_text(current)
                ),
                format!("预期当前密钥为 {}；链上为 {}", key_text(proof.body.old_key), key_text(current)),
            ),
        ),
        check(
            proof.body.expires_at >= view.next_height(),
            t(
                lang,
                format!("the proof is valid until height {}", proof.body.expires_at),
                format!("证明有效至高度 {}", proof.body.expires_at),
            ),
        ),
    ]
}

impl ProposalReview {
    /// Reviews `proposal` against `view` in `lang`; the digest is computed here over the canonical bytes.
    pub fn new(proposal: &Proposal, chain: &ChainIdentity, view: &ChainSnapshot, lang: Lang) -> Self {
        let digest = proposal.approval_digest(chain).to_string();
        let actions_list: Vec<Action> = proposal.actions.iter().cloned().collect();
        let mut actions: Vec<ActionReview> = actions_list.iter().map(|a| review_action(a, chain, view, lang)).collect();
        if actions_list.iter().any(sealer_change) {
            let (before, after) = sealers_after(view, &actions_list);
            let tol_before = crate::model::fault_tolerance(before.iter().map(|(_, w)| *w));
            let tol_after = crate::model::fault_tolerance(after.iter().map(|(_, w)| *w));
            let names =
                |s: &[(NodeId, Weight)]| s.iter().map(|(n, w)| format!("{n}:{w}")).collect::<Vec<_>>().join(", ");
            if let Some(last) = actions.last_mut() {
                last.changes.push(change(
                    &t(lang, "sealer set".into(), "共识节点集合".into()),
                    names(&before),
                    names(&after),
                ));
                last.changes.push(change(
                    &t(lang, "faulty sealers tolerated (by weight)".into(), "可容忍的故障共识节点（按权重）".into()),
                    tol_before,
                    tol_after,
                ));
                last.checks.push(check(
                    tol_after.0 > 0 || tol_before.0 == 0,
                    t(
                        lang,
                        format!("after this change the chain tolerates {tol_after} faulty sealers"),
                        format!("变更后链可容忍 {tol_after} 个故障共识节点"),
                    ),
                ));
            }
        }
        Self { digest, actions }
    }
}

fn review_action(action: &Action, chain: &ChainIdentity, view: &ChainSnapshot, lang: Lang) -> ActionReview {
    let member_weight = |m| view.member(m).map(|m| m.record.weight);
    let mut changes = Vec::new();
    let mut checks = Vec::new();
    let headline = match action {
        Action::AdmitMember { member, name, weight, governors } => {
            let list: Vec<String> = governors.iter().map(|g| format!("{} ({})", g.account, g.key)).collect();
            changes.push(change("weight", "—", weight));
            checks.push(check(
                view.member(member).is_none(),
                t(lang, format!("{member} is not a member yet"), format!("{member} 尚不是成员")),
            ));
            t(
                lang,
                format!(
                    "Admit member {member} \"{name}\" with voting weight {weight} and governors {}",
                    list.join(", ")
                ),
                format!("接纳成员 {member}「{name}」，投票权重 {weight}，治理账户 {}", list.join("、")),
            )
        }
        Action::SetMemberWeight { member, expected, weight } => {
            let now = member_weight(member);
            changes.push(change(&format!("{member} weight"), expected, weight));
            checks.push(check(
                now == Some(*expected),
                t(
                    lang,
                    format!("expects weight {expected}; the chain has {}", now.map_or("—".into(), |w| w.to_string())),
                    format!("预期权重 {expected}；链上为 {}", now.map_or("—".into(), |w| w.to_string())),
                ),
            ));
            t(
                lang,
                format!("Change the voting weight of {member} from {expected} to {weight}"),
                format!("将 {member} 的投票权重由 {expected} 改为 {weight}"),
            )
        }
        Action::SuspendMember { member } => {
            status_change(view, member, "active", "suspended", &mut changes);
            t(
                lang,
                format!("Suspend member {member}: its approvals stop counting"),
                format!("暂停成员 {member}：其审批不再计数"),
            )
        }
        Action::ReinstateMember { member } => {
            status_change(view, member, "suspended", "active", &mut changes);
            t(lang, format!("Reinstate member {member}"), format!("恢复成员 {member}"))
        }
        Action::ExpelMember { member } => {
            status_change(view, member, "active", "expelled", &mut changes);
            let nodes: Vec<String> =
                view.nodes.iter().filter(|n| &n.record.owner == member).map(|n| n.id.to_string()).collect();
            t(
                lang,
                format!(
                    "Expel member {member}: revoke its governors and roles, freeze its accounts, remove its nodes ({})",
                    nodes.join(", ")
                ),
                format!("开除成员 {member}：撤销其治理账户与角色，冻结其账户，移除其节点（{}）", nodes.join("、")),
            )
        }
        Action::ReplaceGovernors { member, expected, governors } => {
            let list = |v: &[governance_contracts::ids::AccountId]| {
                v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            let now: Vec<governance_contracts::ids::AccountId> =
                view.member(member).map(|m| m.record.governors.iter().cloned().collect()).unwrap_or_default();
            changes.push(change(&format!("{member} governors"), list(expected), list(governors)));
            checks.push(check(
                now == expected.iter().cloned().collect::<Vec<_>>(),
                t(
                    lang,
                    format!("expects governors [{}]; the chain has [{}]", list(expected), list(&now)),
                    format!("预期治理账户 [{}]；链上为 [{}]", list(expected), list(&now)),
                ),
            ));
            t(lang, format!("Replace the governors of {member}"), format!("更换 {member} 的治理账户"))
        }
        Action::CreateAccount { account, member, key } => {
            checks.push(check(
                view.account(account).is_none(),
                t(lang, format!("{account} does not exist yet"), format!("{account} 尚不存在")),
            ));
            t(
                lang,
                format!("Create account {account} for {member} with key {key}"),
                format!("为 {member} 创建账户 {account}，公钥 {key}"),
            )
        }
        Action::FreezeAccount { account } => {
            let frozen = view.account(account).map(|a| a.record.frozen);
            changes.push(change(
                &format!("{account}"),
                if frozen == Some(true) { "frozen" } else { "active" },
                "frozen",
            ));
            checks.push(check(
                frozen == Some(false),
                t(lang, format!("{account} exists and is not frozen"), format!("{account} 存在且未冻结")),
            ));
            t(
                lang,
                format!("Freeze account {account}: its transactions and approvals stop counting"),
                format!("冻结账户 {account}：其交易与审批不再有效"),
            )
        }
        Action::UnfreezeAccount { account } => {
            let frozen = view.account(account).map(|a| a.record.frozen);
            changes.push(change(
                &format!("{account}"),
                if frozen == Some(true) { "frozen" } else { "active" },
                "active",
            ));
            checks.push(check(
                frozen == Some(true),
                t(lang, format!("{account} is frozen"), format!("{account} 处于冻结状态")),
            ));
            t(lang, format!("Unfreeze account {account}"), format!("解冻账户 {account}"))
        }
        Action::ReplaceAccountKey { account, proof } => {
            let current = view.account(account).and_then(|a| a.record.key);
            changes.push(change(&format!("{account} key"), key_text(current), proof.body.new_key));
            checks.extend(proof_checks(proof, chain, current, view, lang));
            t(
                lang,
                format!("Give account {account} a new key by governance"),
                format!("经治理为账户 {account} 更换密钥"),
            )
        }
        Action::DefineRole { role, definition } => t(
            lang,
            format!(
                "Define role {role}: {}delegable, grants of at most {} blocks",
                if definition.delegable { "" } else { "not " },
                definition.max_grant_blocks
            ),
            format!(
                "定义角色 {role}：{}，单次授予最长 {} 个区块",
                if definition.delegable { "可委托" } else { "不可委托" },
                definition.max_grant_blocks
            ),
        ),
        Action::GrantRole { account, role, expires_at, expected } => {
            let now = view.roles_of(account).into_iter().find(|(r, _)| r == role).map(|(_, h)| h);
            let text = |h: Option<Height>| h.map_or_else(|| "—".to_owned(), |h| format!("≤ {h}"));
            changes.push(change(&format!("{account} {role}"), text(now), text(Some(*expires_at))));
            checks.push(check(
                now == *expected,
                t(
                    lang,
                    format!("expects the grant in force now to be {}; the chain has {}", text(*expected), text(now)),
                    format!("预期当前授予为 {}；链上为 {}", text(*expected), text(now)),
                ),
            ));
            if let Some(def) = view.roles.iter().find(|r| &r.id == role) {
                let longest = view.height.0.saturating_add(def.definition.max_grant_blocks);
                checks.push(check(
                    expires_at.0 <= longest,
                    t(
                        lang,
                        format!("{role} may be granted until height {longest} at most"),
                        format!("{role} 最长可授予至高度 {longest}"),
                    ),
                ));
                checks.push(check(
                    true,
                    t(
                        lang,
                        format!("{role} is {}delegable", if def.definition.delegable { "" } else { "not " }),
                        format!(
                            "{role} {}",
                            if def.definition.delegable {
                                "可委托给合规人员"
                            } else {
                                "仅可由委员会授予"
                            }
                        ),
                    ),
                ));
            } else {
                checks.push(check(
                    false,
                    t(lang, format!("the chain defines no role {role}"), format!("链上未定义角色 {role}")),
                ));
            }
            t(
                lang,
                format!("Grant role {role} to {account} until height {expires_at}"),
                format!("授予 {account} 角色 {role}，至高度 {expires_at}"),
            )
        }
        Action::RevokeRole { account, role } => {
            let now = view.roles_of(account).into_iter().find(|(r, _)| r == role);
            changes.push(change(
                &format!("{account} {role}"),
                now.as_ref().map_or("—".to_owned(), |(_, h)| format!("≤ {h}")),
                "—",
            ));
            checks.push(check(
                now.is_some(),
                t(lang, format!("{account} holds {role} now"), format!("{account} 当前持有 {role}")),
            ));
            t(lang, format!("Revoke role {role} from {account}"), format!("撤销 {account} 的角色 {role}"))
        }
        Action::AdmitNode { node, owner, key, address } => {
            checks.push(check(
                view.node(node).is_none(),
                t(lang, format!("{node} is not admitted yet"), format!("{node} 尚未接入")),
            ));
            t(
                lang,
                format!("Admit node {node} of {owner} as an observer, key {key}, address {address}"),
                format!("接入 {owner} 的节点 {node}（观察节点），公钥 {key}，地址 {address}"),
            )
        }
        Action::PromoteNode { node, weight, override_fault_tolerance } => {
            let record = view.node(node).map(|n| &n.record);
            checks.push(check(
                record.and_then(|r| r.attested_at).is_some(),
                match record.and_then(|r| r.attested_at) {
                    Some(h) => t(
                        lang,
                        format!("{node} attested readiness at height {h}"),
                        format!("{node} 已于高度 {h} 提交就绪证明"),
                    ),
                    None => t(
                        lang,
                        format!("node {node} has not attested readiness"),
                        format!("节点 {node} 尚未提交就绪证明"),
                    ),
                },
            ));
            override_check(*override_fault_tolerance, lang, &mut checks);
            t(
                lang,
                format!("Promote node {node} to sealer with weight {weight}"),
                format!("将节点 {node} 升为共识节点，权重 {weight}"),
            )
        }
        Action::DemoteNode { node, override_fault_tolerance } => {
            override_check(*override_fault_tolerance, lang, &mut checks);
            t(lang, format!("Demote node {node} to observer"), format!("将节点 {node} 降为观察节点"))
        }
        Action::SetNodeWeight { node, expected, weight, override_fault_tolerance } => {
            let now = view.node(node).map(|n| n.record.weight);
            changes.push(change(&format!("{node} weight"), expected, weight));
            checks.push(check(
                now == Some(*expected),
                t(
                    lang,
                    format!("expects weight {expected}; the chain has {}", now.map_or("—".into(), |w| w.to_string())),
                    format!("预期权重 {expected}；链上为 {}", now.map_or("—".into(), |w| w.to_string())),
                ),
            ));
            override_check(*override_fault_tolerance, lang, &mut checks);
            t(
                lang,
                format!("Change the consensus weight of {node} from {expected} to {weight}"),
                format!("将 {node} 的共识权重由 {expected} 改为 {weight}"),
            )
        }
        Action::RemoveNode { node, override_fault_tolerance } => {
            override_check(*override_fault_tolerance, lang, &mut checks);
            t(
                lang,
                format!("Remove node {node}: every node disconnects it"),
                format!("移除节点 {node}：所有节点将断开与其连接"),
            )
        }
        Action::RotateNodeKey { node, proof } => {
            let current = view.node(node).and_then(|n| n.record.key);
            changes.push(change(&format!("{node} key"), key_text(current), proof.body.new_key));
            checks.extend(proof_checks(proof, chain, current, view, lang));
            t(lang, format!("Rotate the key of node {node}"), format!("轮换节点 {node} 的密钥"))
        }
        Action::SetNodeAddress { node, expected, address } => {
            let now = view.node(node).map(|n| n.record.address.to_string());
            changes.push(change(&format!("{node} address"), expected, address));
            checks.push(check(
                now.as_deref() == Some(expected.as_str()),
                t(lang, format!("expects address {expected}"), format!("预期地址 {expected}")),
            ));
            t(lang, format!("Change the address of node {node}"), format!("更改节点 {node} 的地址"))
        }
        Action::RevokeNodeKey { node, key, override_fault_tolerance } => {
            let current = view.node(node).and_then(|n| n.record.key);
            checks.push(check(
                current == Some(*key),
                t(lang, format!("{key} is {node}'s current key"), format!("{key} 是 {node} 的当前密钥")),
            ));
            override_check(*override_fault_tolerance, lang, &mut checks);
            t(
                lang,
                format!("Revoke key {key} of node {node} at once (emergency)"),
                format!("立即吊销节点 {node} 的密钥 {key}（紧急）"),
            )
        }
        Action::ReplaceNodeKey { node, proof } => {
            let current = view.node(node).and_then(|n| n.record.key);
            changes.push(change(&format!("{node} key"), key_text(current), proof.body.new_key));
            checks.extend(proof_checks(proof, chain, current, view, lang));
            t(lang, format!("Give node {node} a new key by governance"), format!("经治理为节点 {node} 更换密钥"))
        }
        Action::SetPolicyRule { kind, expected, rule } => {
            let now = view.rule(*kind).cloned();
            let words = |r: &Option<governance_contracts::types::Rule>| {
                r.as_ref().map_or("—".to_owned(), |r| serde_json::to_string(r).unwrap_or_default())
            };
            changes.push(change(&format!("rule {kind}"), words(expected), words(&Some(rule.clone()))));
            checks.push(check(
                now == *expected,
                t(lang, "expects the rule in force now".into(), "预期为当前生效的规则".into()),
            ));
            t(lang, format!("Set the approval rule for {kind}"), format!("设置 {kind} 的审批规则"))
        }
        Action::SetParams { expected, params } => {
            changes.push(change(
                "params",
                serde_json::to_string(expected).unwrap_or_default(),
                serde_json::to_string(params).unwrap_or_default(),
            ));
            checks.push(check(
                view.params.as_ref() == Some(expected),
                t(lang, "expects the parameters in force now".into(), "预期为当前生效的参数".into()),
            ));
            t(lang, "Change the chain parameters".into(), "更改链参数".into())
        }
        Action::CancelProposal { proposal } => {
            t(lang, format!("Cancel proposal {proposal}"), format!("取消提案 {proposal}"))
        }
    };
    ActionReview { headline, changes, checks }
}

fn status_change(
    view: &ChainSnapshot,
    member: &governance_contracts::ids::MemberId,
    expect: &str,
    to: &str,
    changes: &mut Vec<Change>,
) {
    let now = view
        .member(member)
        .and_then(|m| serde_json::to_value(m.record.status).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "—".to_owned());
    let _ = expect;
    changes.push(change(&format!("{member} status"), now, to));
}

fn override_check(flag: bool, lang: Lang, checks: &mut Vec<Check>) {
    if flag {
        checks.push(check(
            false,
            t(
                lang,
                "OVERRIDES the fault-tolerance budget (the stricter sealer-override rule applies)".into(),
                "越过容错预算（适用更严格的规则）".into(),
            ),
        ));
    }
}

/// The command a signer runs on a second machine, with the same genesis file and the proposal saved from this page,
/// to print the same digest.
pub fn second_device_command(digest: &str) -> String {
    format!("synod proposal show --genesis genesis.json proposal.json\n# it prints: id {digest}")
}

/// A transaction in words (the rotation wizard shows the node's request).
pub fn describe_transaction(tx: &Transaction) -> Vec<String> {
    let mut lines = vec![format!("sender: {:?}", tx.sender), format!("valid until height {}", tx.valid_until)];
    if let Payload::SubmitProposal { proposal, .. } = &tx.payload {
        lines.push(format!("submits proposal \"{}\"", proposal.title));
        for action in &proposal.actions {
            if let Action::RotateNodeKey { node, proof } = action {
                lines.push(format!(
                    "rotates the key of {node} from {} to {} (proof valid until height {})",
                    key_text(proof.body.old_key),
                    proof.body.new_key,
                    proof.body.expires_at
                ));
            }
        }
    }
    lines
}
