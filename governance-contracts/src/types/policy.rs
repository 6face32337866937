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
    /// Freezing an account that is not a governor and holds no `compliance` role.
    FreezeAccount,
    /// Freezing a governor or a `compliance` account.
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
}

impl ActionKind {
    /// Every kind: the policy must have a rule for each (deny by default: a missing rule is refused, never
    /// allowed).
    pub const ALL: [Self; 29] = [
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
    /// Approving members' weight must reach `numerator / denominator` of the active members' weight:
    /// `denominator · approved ≥ numerator · active`. A member counts once however many of its governors sign.
    Weight {
        /// Fraction numerator.
        numerator: u32,
        /// Fraction denominator.
        denominator: u32,
        /// Leave the member the action targets out of both sides (it cannot block or carry its own case).
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
    /// Blocks that must pass after submission before the proposal may execute.
    pub delay_blocks: u64,
}

impl Rule {
    /// `numerator/denominator` of active weight, optionally excluding the target, with a delay.
    pub fn weight(numerator: u32, denominator: u32, exclude_target: bool, delay_blocks: u64) -> Self {
        Self { requirement: Requirement::Weight { numerator, denominator, exclude_target }, delay_blocks }
    }

    /// One holder of `role`.
    pub fn role(role: RoleId, same_member: bool) -> Self {
        Self { requirement: Requirement::Role { role, same_member }, delay_blocks: 0 }
    }

    /// Whether `self` asks at least as much as `other`: a weight fraction at least as high (role and governor
    /// rules count as the weakest) and a delay at least as long.
    pub fn at_least_as_strict_as(&self, other: &Rule) -> bool {
        let fraction = |r: &Rule| match r.requirement {
            Requirement::Weight { numerator, denominator, .. } => Some((u64::from(numerator), u64::from(denominator))),
            _ => None,
        };
        let weight_ok = match (fraction(self), fraction(other)) {
            (Some((a, b)), Some((c, d))) => {
                u128::from(a).saturating_mul(u128::from(d)) >= u128::from(c).saturating_mul(u128::from(b))
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        weight_ok && self.delay_blocks >= other.delay_blocks
    }
}

/// The default policy a genesis gets when it names none. Membership, governors, policy, params, sealer changes and
/// role definitions: ≥ 2/3 of active weight; policy changes and emergency key revocations: ≥ 3/4 and a delay;
/// admitting a node (observer): ≥ 2/3; delegable roles and ordinary freezes: one `compliance` account; a node's
/// routine key rotation and address change: an `operator` of its owner; creating an account: a governor of its
/// member.
pub fn default_policy() -> Vec<(ActionKind, Rule)> {
    use ActionKind as K;
    const EMERGENCY_DELAY: u64 = 10;
    const POLICY_DELAY: u64 = 100;
    ActionKind::ALL
        .iter()
        .map(|&kind| {
            let rule = match kind {
                K::SuspendMember | K::ExpelMember | K::ReplaceGovernors => Rule::weight(2, 3, true, 0),
                K::SetPolicy => Rule::weight(3, 4, false, POLICY_DELAY),
                K::RevokeNodeKey | K::SealerOverride | K::SealerConcentration => {
                    Rule::weight(3, 4, false, EMERGENCY_DELAY)
                }
                K::FreezeAccount | K::UnfreezeAccount | K::GrantDelegableRole | K::RevokeDelegableRole => {
                    Rule::role(RoleId::compliance(), false)
                }
                K::RotateNodeKey | K::SetNodeAddress => Rule::role(RoleId::operator(), true),
                K::CreateAccount => Rule { requirement: Requirement::TargetGovernor, delay_blocks: 0 },
                _ => Rule::weight(2, 3, false, 0),
            };
            (kind, rule)
        })
        .collect()
}
