//! Policy data: which approval each kind of action needs. The rules themselves live in state and change by
//! proposal; the `policy` contract applies them.

use core::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::ids::RoleId;

/// A kind of action, the key of the policy table. Some actions map to different kinds depending on their target
/// (granting a delegable role vs a committee-only role; freezing an ordinary vs a privileged account), and sealer
/// changes can add the stricter kinds `SealerOverride` and `SealerConcentration`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "each variant is the action of the same name, see `Action`")]
pub enum ActionKind {
    AdmitMember,
    SetMemberWeight,
    SuspendMember,
    ReinstateMember,
    ExpelMember,
    ReplaceGovernors,
    CreateAccount,
    /// Freezing an account that is not a governor and holds neither `compliance` nor `operator`.
    FreezeAccount,
    /// Freezing a governor, a `compliance` or an `operator` account.
    FreezePrivilegedAccount,
    UnfreezeAccount,
    UnfreezePrivilegedAccount,
    ReplaceAccountKey,
    DefineRole,
    /// Granting or revoking a role marked delegable.
    GrantDelegableRole,
    RevokeDelegableRole,
    /// Granting or revoking a role that is not delegable (including `compliance` and `operator`).
    GrantRole,
    RevokeRole,
    /// Admitting a node (always as an observer).
    AdmitNode,
    /// Promote, demote, re-weight sealers.
    ChangeSealers,
    RemoveNode,
    RotateNodeKey,
    SetNodeAddress,
    RevokeNodeKey,
    ReplaceNodeKey,
    /// A sealer change beyond the fault-tolerance budget, explicitly flagged.
    SealerOverride,
    /// A sealer change after which one member holds at least a third of sealer weight.
    SealerConcentration,
    SetPolicy,
    SetParams,
    CancelProposal,
    // Appended so every earlier variant keeps its canonical tag.
    /// Granting or revoking the built-in `console` role: the key of one member's console, which anchors that
    /// console's audit trail and does nothing else.
    GrantConsoleRole,
    RevokeConsoleRole,
}

impl ActionKind {
    /// Every kind: the policy must have a rule for each (deny by default: a missing rule is refused, never
    /// allowed).
    pub const ALL: [Self; 31] = [
        Self::AdmitMember,
        Self::SetMemberWeight,
        Self::SuspendMember,
        Self::ReinstateMember,
        Self::ExpelMember,
        Self::ReplaceGovernors,
        Self::CreateAccount,
        Self::FreezeAccount,
        Self::FreezePrivilegedAccount,
        Self::UnfreezeAccount,
        Self::UnfreezePrivilegedAccount,
        Self::ReplaceAccountKey,
        Self::DefineRole,
        Self::GrantDelegableRole,
        Self::RevokeDelegableRole,
        Self::GrantRole,
        Self::RevokeRole,
        Self::AdmitNode,
        Self::ChangeSealers,
        Self::RemoveNode,
        Self::RotateNodeKey,
        Self::SetNodeAddress,
        Self::RevokeNodeKey,
        Self::ReplaceNodeKey,
        Self::SealerOverride,
        Self::SealerConcentration,
        Self::SetPolicy,
        Self::SetParams,
        Self::CancelProposal,
        Self::GrantConsoleRole,
        Self::RevokeConsoleRole,
    ];
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Whose approval a rule asks for.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "requirement", rename_all = "snake_case")]
pub enum Requirement {
    /// Approving members' weight must reach `numerator / denominator` of the weight of every seated member (active
    /// or suspended: every member not expelled): `denominator · approved ≥ numerator · seated`. Only governors of
    /// active members approve, and a member counts once however many of its governors sign. A suspended member
    /// keeps its weight in the denominator, so suspending members never lowers what the others need.
    Weight {
        /// Fraction numerator.
        numerator: u32,
        /// Fraction denominator.
        denominator: u32,
        /// The member the action targets cannot carry its own case: its approval does not count, while its weight
        /// stays in the denominator (it counts as a member that did not approve).
        exclude_target: bool,
    },
    /// One holder of `role` (an unexpired grant on an unfrozen account of an active member).
    Role {
        /// The role.
        role: RoleId,
        /// The holder must belong to the member the action targets (e.g. an operator of the node's owner).
        same_member: bool,
    },
    /// One governor of the member the action targets.
    TargetGovernor,
}

/// A policy rule: a requirement and an optional delay between reaching it and execution.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Rule {
    /// Whose approval is needed.
    pub requirement: Requirement,
    /// Blocks that must pass after the block in which the proposal's approvals first met its rules before it may
    /// execute: the window in which the other members see a proposal that will pass and can react.
    pub delay_blocks: u64,
}

impl Rule {
    /// `numerator/denominator` of seated weight, optionally without the target's approval, with a delay.
    pub fn weight(numerator: u32, denominator: u32, exclude_target: bool, delay_blocks: u64) -> Self {
        Self { requirement: Requirement::Weight { numerator, denominator, exclude_target }, delay_blocks }
    }

    /// One holder of `role`.
    pub fn role(role: RoleId, same_member: bool) -> Self {
        Self { requirement: Requirement::Role { role, same_member }, delay_blocks: 0 }
    }

    /// The weight fraction a rule asks, `(numerator, denominator)`; `None` for role and governor rules.
    pub fn fraction(&self) -> Option<(u32, u32)> {
        match self.requirement {
            Requirement::Weight { numerator, denominator, .. } => Some((numerator, denominator)),
            _ => None,
        }
    }

    /// Whether `self` asks at least as much as `other`: a weight fraction at least as high (role and governor
    /// rules count as the weakest) and a delay at least as long.
    pub fn at_least_as_strict_as(&self, other: &Rule) -> bool {
        let weight_ok = match (self.fraction(), other.fraction()) {
            (Some(a), Some(b)) => fraction_at_least(a, b),
            (Some(_), None) | (None, None) => true,
            (None, Some(_)) => false,
        };
        weight_ok && self.delay_blocks >= other.delay_blocks
    }
}

/// A requirement in words, exact to the rule the contracts apply: a weight fraction is of the seated weight (every
/// member not expelled, suspended members included), met when approving members reach at least that share, and
/// only governors of active members approve; `exclude_target` leaves the target member's own approval out. For
/// example `at least 3/4 of seated weight, approved by governors of active members, the target's own approval not
/// counted`. The CLI prints it and the console shows it in English.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Weight { numerator, denominator, exclude_target } => {
                write!(
                    f,
                    "at least {numerator}/{denominator} of seated weight, approved by governors of active members"
                )?;
                if *exclude_target {
                    f.write_str(", the target's own approval not counted")?;
                }
                Ok(())
            }
            Self::Role { role, same_member: false } => write!(f, "one holder of the role {role}"),
            Self::Role { role, same_member: true } => {
                write!(f, "one holder of the role {role} in the target's own member")
            }
            Self::TargetGovernor => f.write_str("one governor of the target member"),
        }
    }
}

/// A rule in words: its requirement ([`Requirement`]'s words), then its delay (`no delay`, or `then a delay of
/// 100 blocks`), as `synod policy` prints it.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.delay_blocks {
            0 => write!(f, "{}, no delay", self.requirement),
            1 => write!(f, "{}, then a delay of 1 block", self.requirement),
            blocks => write!(f, "{}, then a delay of {blocks} blocks", self.requirement),
        }
    }
}

/// The kinds that change who holds the committee's weight: admitting members, changing a member's weight,
/// expelling, handing a member's vote to other accounts (its governors, an account's key) and the policy itself.
/// Each must keep a weight rule at least as high as every other weight rule's fraction, so a coalition can never
/// climb from a lower rule to a higher one by reshaping the committee first (see `contracts::policy`).
pub const ELECTORATE_KINDS: [ActionKind; 6] = [
    ActionKind::AdmitMember,
    ActionKind::SetMemberWeight,
    ActionKind::ExpelMember,
    ActionKind::ReplaceGovernors,
    ActionKind::ReplaceAccountKey,
    ActionKind::SetPolicy,
];

/// How a policy breaks the shape every policy keeps, in words naming the kinds, or `None`: the `set_policy` rule is
/// at least as strict as every rule (fraction and delay), and every electorate kind has a weight rule whose fraction
/// is at least every other weight rule's. The contracts check it on every policy change, the genesis and the
/// invariants use it too.
pub fn policy_shape_violation(rules: &[(ActionKind, Rule)]) -> Option<String> {
    let rule = |kind: ActionKind| rules.iter().find(|(k, _)| *k == kind).map(|(_, r)| r);
    if let Some(policy_rule) = rule(ActionKind::SetPolicy) {
        for (kind, other) in rules {
            if !policy_rule.at_least_as_strict_as(other) {
                return Some(format!("the set_policy rule must stay at least as strict as the rule for {kind}"));
            }
        }
    }
    for electorate in ELECTORATE_KINDS {
        let Some(strong) = rule(electorate) else { continue };
        let Some(strong_fraction) = strong.fraction() else {
            return Some(format!("the rule for {electorate} must be a weight rule"));
        };
        for (kind, other) in rules {
            if let Some(fraction) = other.fraction()
                && !fraction_at_least(strong_fraction, fraction)
            {
                return Some(format!(
                    "the rule for {electorate} must ask at least the fraction the rule for {kind} asks"
                ));
            }
        }
    }
    None
}

/// Whether approving members holding `approved` of the `seated` weight meet `numerator/denominator`: some weight
/// approves and `denominator · approved ≥ numerator · seated`, exactly. The contracts decide weight rules with it,
/// and consoles forecast with it.
pub fn weight_met(approved: u64, seated: u64, (numerator, denominator): (u32, u32)) -> bool {
    approved > 0
        && u128::from(approved).saturating_mul(u128::from(denominator))
            >= u128::from(seated).saturating_mul(u128::from(numerator))
}

/// The least weight that, added to `approved`, meets `numerator/denominator` of `seated` (at least 1 while nothing
/// approves): what a forecast says is still missing.
pub fn weight_missing(approved: u64, seated: u64, (numerator, denominator): (u32, u32)) -> u64 {
    let target = u128::from(seated).saturating_mul(u128::from(numerator));
    let have = u128::from(approved).saturating_mul(u128::from(denominator));
    let missing = target.saturating_sub(have).div_ceil(u128::from(denominator.max(1)));
    let missing = u64::try_from(missing).unwrap_or(u64::MAX);
    if approved == 0 { missing.max(1) } else { missing }
}

/// Whether `a/b ≥ c/d`, exactly.
fn fraction_at_least((a, b): (u32, u32), (c, d): (u32, u32)) -> bool {
    u64::from(a).saturating_mul(u64::from(d)) >= u64::from(c).saturating_mul(u64::from(b))
}

/// The default policy a genesis gets when it names none. Fractions are of the seated weight (suspended members
/// included). The electorate kinds ([`ELECTORATE_KINDS`]), emergency key revocations and sealer changes beyond the
/// fault-tolerance budget or concentrating a third of sealer weight in one member: ≥ 3/4, policy changes with a
/// delay of 100 blocks, the emergency kinds with 10; suspending, expelling and replacing a member's governors do
/// not count the target's own approval. Suspensions, reinstatements, roles, nodes, sealer changes, params and
/// cancellations: ≥ 2/3. Delegable roles and ordinary freezes: one `compliance` account of the target's own
/// member, so one member's officer never reaches another member's accounts (wider reach is the committee's to
/// give, by a policy rule naming a role it defines); freezing a governor, a `compliance` or an `operator` account:
/// the committee (≥ 2/3). A node's routine key rotation and address change: an `operator` of its owner; creating an
/// account, and granting or revoking the `console` role on one (its console's anchoring key): a governor of its
/// member.
pub fn default_policy() -> Vec<(ActionKind, Rule)> {
    use ActionKind as K;
    const EMERGENCY_DELAY: u64 = 10;
    const POLICY_DELAY: u64 = 100;
    ActionKind::ALL
        .iter()
        .map(|&kind| {
            let rule = match kind {
                K::SuspendMember => Rule::weight(2, 3, true, 0),
                K::ExpelMember | K::ReplaceGovernors => Rule::weight(3, 4, true, 0),
                K::AdmitMember | K::SetMemberWeight | K::ReplaceAccountKey => Rule::weight(3, 4, false, 0),
                K::SetPolicy => Rule::weight(3, 4, false, POLICY_DELAY),
                K::RevokeNodeKey | K::SealerOverride | K::SealerConcentration => {
                    Rule::weight(3, 4, false, EMERGENCY_DELAY)
                }
                K::FreezeAccount | K::UnfreezeAccount | K::GrantDelegableRole | K::RevokeDelegableRole => {
                    Rule::role(RoleId::compliance(), true)
                }
                K::RotateNodeKey | K::SetNodeAddress => Rule::role(RoleId::operator(), true),
                K::CreateAccount | K::GrantConsoleRole | K::RevokeConsoleRole => {
                    Rule { requirement: Requirement::TargetGovernor, delay_blocks: 0 }
                }
                _ => Rule::weight(2, 3, false, 0),
            };
            (kind, rule)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind of rule reads in words with its fraction of seated weight, who approves, whether the target's own
    /// approval counts, and its delay; nothing is cut before the threshold.
    #[test]
    fn rules_read_in_words() {
        assert_eq!(
            Rule::weight(3, 4, false, 0).to_string(),
            "at least 3/4 of seated weight, approved by governors of active members, no delay"
        );
        assert_eq!(
            Rule::weight(2, 3, true, 1).to_string(),
            "at least 2/3 of seated weight, approved by governors of active members, the target's own approval not \
             counted, then a delay of 1 block"
        );
        assert_eq!(
            Rule::weight(3, 4, false, 100).to_string(),
            "at least 3/4 of seated weight, approved by governors of active members, then a delay of 100 blocks"
        );
        assert_eq!(
            Rule::role(RoleId::compliance(), true).to_string(),
            "one holder of the role compliance in the target's own member, no delay"
        );
        assert_eq!(Rule::role(RoleId::operator(), false).to_string(), "one holder of the role operator, no delay");
        let governor = Rule { requirement: Requirement::TargetGovernor, delay_blocks: 0 };
        assert_eq!(governor.to_string(), "one governor of the target member, no delay");
    }
}
