//! Proposals, actions and transactions in plain words, for `synod proposal show` and `synod tx show`: what a
//! signer reads before signing.
//!
//! The lines of [`proposal`] and [`transaction`] are plain ASCII: every other character of the proposer's text
//! (titles, descriptions, display names, addresses) is printed as an escape such as `\u{430}`, so a look-alike
//! letter or an invisible character shows on any terminal, and a terminal control cannot rewrite what was printed.
//! The digest printed beside them is over the text as it is. A proposal whose text the chain refuses
//! (`Proposal::check_signer_text`) is printed with a warning line saying why.

use governance_contracts::text::escape_non_ascii;
use governance_contracts::types::{Action, KeyProof, Payload, Principal, Proposal, Rule, Transaction};

/// Who acts, in words.
pub fn principal(principal: &Principal) -> String {
    match principal {
        Principal::Account(account) => format!("account {account}"),
        Principal::Node(node) => format!("node {node}"),
    }
}

fn overriding(flag: bool) -> &'static str {
    if flag { " (overriding the fault-tolerance budget)" } else { "" }
}

fn proof(proof: &KeyProof) -> String {
    let old = proof.body.old_key.map_or_else(|| "no key".to_owned(), |k| k.to_string());
    format!("from {old} to {} (proof valid until height {})", proof.body.new_key, proof.body.expires_at)
}

fn rule(rule: &Rule) -> String {
    serde_json::to_string(rule).unwrap_or_else(|_| format!("{rule:?}"))
}

/// One action in words.
pub fn action(action: &Action) -> String {
    match action {
        Action::AdmitMember { member, name, weight, governors } => {
            let governors: Vec<String> = governors.iter().map(|g| format!("{} ({})", g.account, g.key)).collect();
            format!(
                "admit member {member} \"{name}\" with voting weight {weight} and governors {}",
                governors.join(", ")
            )
        }
        Action::SetMemberWeight { member, expected, weight } => {
            format!("change the voting weight of member {member} from {expected} to {weight}")
        }
        Action::SuspendMember { member } => format!("suspend member {member}"),
        Action::ReinstateMember { member } => format!("reinstate member {member}"),
        Action::ExpelMember { member } => {
            format!("expel member {member} (revoke its governors and roles, freeze its accounts, remove its nodes)")
        }
        Action::ReplaceGovernors { member, expected, governors } => {
            let list = |v: &[governance_contracts::ids::AccountId]| {
                v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            format!("replace the governors of member {member}: [{}] become [{}]", list(expected), list(governors))
        }
        Action::CreateAccount { account, member, key } => {
            format!("create account {account} for member {member} with key {key}")
        }
        Action::FreezeAccount { account } => format!("freeze account {account}"),
        Action::UnfreezeAccount { account } => format!("unfreeze account {account}"),
        Action::ReplaceAccountKey { account, proof: p } => format!("replace the key of account {account} {}", proof(p)),
        Action::DefineRole { role, definition } => format!(
            "define role {role}: scope {}, {}delegable, grants of at most {} blocks",
            serde_json::to_string(&definition.scope).unwrap_or_default(),
            if definition.delegable { "" } else { "not " },
            definition.max_grant_blocks
        ),
        Action::GrantRole { account, role, expires_at, expected } => {
            let now = expected.map_or_else(|| "no grant in force".to_owned(), |h| format!("now until height {h}"));
            format!("grant role {role} to account {account} until height {expires_at} ({now})")
        }
        Action::RevokeRole { account, role } => format!("revoke role {role} from account {account}"),
        Action::AdmitNode { node, owner, key, address } => {
            format!("admit node {node} of member {owner} as an observer, key {key}, address {address}")
        }
        Action::PromoteNode { node, weight, override_fault_tolerance } => {
            format!("promote node {node} to sealer with weight {weight}{}", overriding(*override_fault_tolerance))
        }
        Action::DemoteNode { node, override_fault_tolerance } => {
            format!("demote node {node} to observer{}", overriding(*override_fault_tolerance))
        }
        Action::SetNodeWeight { node, expected, weight, override_fault_tolerance } => format!(
            "change the consensus weight of node {node} from {expected} to {weight}{}",
            overriding(*override_fault_tolerance)
        ),
        Action::RemoveNode { node, override_fault_tolerance } => {
            format!("remove node {node}{}", overriding(*override_fault_tolerance))
        }
        Action::RotateNodeKey { node, proof: p } => format!("rotate the key of node {node} {}", proof(p)),
        Action::SetNodeAddress { node, expected, address } => {
            format!("change the address of node {node} from {expected} to {address}")
        }
        Action::RevokeNodeKey { node, key, override_fault_tolerance } => {
            format!("revoke key {key} of node {node} at once{}", overriding(*override_fault_tolerance))
        }
        Action::ReplaceNodeKey { node, proof: p } => format!("give node {node} a new key {}", proof(p)),
        Action::SetPolicyRule { kind, expected, rule: new } => format!(
            "set the rule for {kind:?} from {} to {}",
            expected.as_ref().map_or_else(|| "none".to_owned(), rule),
            rule(new)
        ),
        Action::SetParams { expected, params } => format!(
            "change the chain parameters from {} to {}",
            serde_json::to_string(expected).unwrap_or_default(),
            serde_json::to_string(params).unwrap_or_default()
        ),
        Action::CancelProposal { proposal } => format!("cancel proposal {proposal}"),
    }
}

/// A proposal in words, one line per fact and per action (a description's further lines indented under its
/// first), in plain ASCII.
pub fn proposal(proposal: &Proposal) -> Vec<String> {
    let mut lines: Vec<String> = proposal_lines(proposal).iter().map(|line| escape_non_ascii(line)).collect();
    lines.extend(refusal(proposal));
    lines
}

/// Why the chain would refuse the proposal's text, if it would (plain ASCII already: the refusal escapes what it
/// quotes).
fn refusal(proposal: &Proposal) -> Option<String> {
    let refusal = proposal.check_signer_text().err()?;
    Some(format!("WARNING:      the chain refuses this proposal: {refusal}"))
}

/// The lines of [`proposal`] before escaping.
fn proposal_lines(proposal: &Proposal) -> Vec<String> {
    let mut lines = vec![
        format!("title:        {}", proposal.title),
        format!("proposer:     {}", principal(&proposal.proposer)),
        format!("expires at:   height {}", proposal.expires_at),
        format!("salt:         {}", proposal.salt),
    ];
    let mut description = proposal.description.as_str().split('\n');
    if let Some(first) = description.next().filter(|_| !proposal.description.as_str().is_empty()) {
        lines.push(format!("description:  {first}"));
        lines.extend(description.map(|line| format!("              {line}")));
    }
    lines.push(format!("actions ({}):", proposal.actions.len()));
    for (index, a) in proposal.actions.iter().enumerate() {
        lines.push(format!("  {}. {}", index.saturating_add(1), action(a)));
    }
    lines
}

/// A transaction in words, in plain ASCII.
pub fn transaction(tx: &Transaction) -> Vec<String> {
    let mut lines =
        vec![format!("sender:       {}", principal(&tx.sender)), format!("valid until:  height {}", tx.valid_until)];
    match &tx.payload {
        Payload::SubmitProposal { proposal: p, approvals } => {
            lines.push(format!("submits a proposal with {} approvals:", approvals.len()));
            lines.extend(proposal_lines(p).into_iter().map(|l| format!("  {l}")));
        }
        Payload::Approve { proposal, approvals } => {
            let who: Vec<String> = approvals.iter().map(|a| a.approver.to_string()).collect();
            lines.push(format!("adds approvals by {} to proposal {proposal}", who.join(", ")));
        }
        Payload::RevokeApproval { proposal } => lines.push(format!("revokes the sender's approval of {proposal}")),
        Payload::CancelProposal { proposal } => lines.push(format!("cancels proposal {proposal}")),
        Payload::ExecuteProposal { proposal } => lines.push(format!("executes proposal {proposal}")),
        Payload::RotateAccountKey { proof: p } => lines.push(format!("rotates the sender's key {}", proof(p))),
        Payload::MarkKeyCompromised { account, key, replacement } => lines.push(format!(
            "marks key {key} of account {account} compromised{}",
            replacement.as_ref().map_or_else(String::new, |p| format!("; replacement {}", proof(p)))
        )),
        Payload::AttestReadiness { synced_height } => {
            lines.push(format!("attests the sender node is synced to height {synced_height}"));
        }
        Payload::AnchorAuditTrail { seq, head } => {
            lines.push(format!("anchors the sender console's audit trail: row {seq} has hash {head}"));
        }
    }
    let mut lines: Vec<String> = lines.iter().map(|line| escape_non_ascii(line)).collect();
    if let Payload::SubmitProposal { proposal: p, .. } = &tx.payload {
        lines.extend(refusal(p).map(|warning| format!("  {warning}")));
    }
    lines
}
