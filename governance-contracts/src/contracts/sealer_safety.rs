//! `sealer_safety`: the rule every change to the sealer set keeps, as a pure verdict over two sets, so that the chain
//! (`nodes::check_sealer_safety`) and a console reviewing a proposal against its own view of the chain evaluate the
//! very same rule.
//!
//! Rules, measured by weight against the set in force at the block's start:
//! - the set is never empty;
//! - the total weight changed (added, removed or re-weighted, summed over sealers) is at most F, the faulty weight
//!   the starting set tolerates (total ≥ 3F + 1);
//! - F after stays at least min(F before, 1);
//! - the last two hold unless an action carries `override_fault_tolerance`, which then needs the stricter
//!   `SealerOverride` rule;
//! - a set in which one member holds at least a third of the sealer weight needs the `SealerConcentration` rule.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Rejection;
use crate::ids::{MemberId, NodeId, Weight};
use crate::types::fault_tolerance;

/// Sealers by id with their owner and weight.
pub type Sealers = BTreeMap<NodeId, (MemberId, u64)>;

/// What a change from one sealer set to another does, and which rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealerVerdict {
    /// Total sealer weight at the block's start.
    pub total_before: u64,
    /// Total sealer weight after the change.
    pub total_after: u64,
    /// The faulty weight the starting set tolerates.
    pub fault_tolerance_before: u64,
    /// The faulty weight the set after tolerates.
    pub fault_tolerance_after: u64,
    /// The total weight changed, summed over sealers.
    pub changed: u64,
    /// Members holding at least a third of the sealer weight after the change, with their weight.
    pub concentrated: Vec<(MemberId, u64)>,
}

impl SealerVerdict {
    /// Whether the set after is empty.
    pub fn empty(&self) -> bool {
        self.total_after == 0
    }

    /// Whether the weight changed exceeds the budget the starting set tolerates.
    pub fn over_budget(&self) -> bool {
        self.changed > self.fault_tolerance_before
    }

    /// Whether the fault tolerance falls below min(F before, 1).
    pub fn tolerance_reduced(&self) -> bool {
        self.fault_tolerance_after < self.fault_tolerance_before.min(1)
    }

    /// The rejection the chain records for this change, if any; `override_flagged` lifts the budget and the
    /// tolerance rules (never the empty set).
    pub fn rejection(&self, override_flagged: bool) -> Option<Rejection> {
        if self.empty() {
            return Some(Rejection::EmptySealerSet);
        }
        if override_flagged {
            return None;
        }
        if self.over_budget() {
            return Some(Rejection::SealerBudgetExceeded {
                changed: Weight(self.changed),
                tolerated: Weight(self.fault_tolerance_before),
            });
        }
        if self.tolerance_reduced() {
            return Some(Rejection::FaultToleranceReduced {
                before: Weight(self.fault_tolerance_before),
                after: Weight(self.fault_tolerance_after),
            });
        }
        None
    }
}

fn total(set: &Sealers) -> u64 {
    set.values().map(|(_, w)| *w).fold(0, u64::saturating_add)
}

/// The verdict on changing the sealer set from `start` (the set at the block's start) to `after`.
pub fn sealer_safety(start: &Sealers, after: &Sealers) -> SealerVerdict {
    let (total_before, total_after) = (total(start), total(after));
    let ids: BTreeSet<&NodeId> = start.keys().chain(after.keys()).collect();
    let weight = |set: &Sealers, id: &NodeId| set.get(id).map_or(0, |(_, w)| *w);
    let changed = ids.into_iter().map(|id| weight(start, id).abs_diff(weight(after, id))).fold(0, u64::saturating_add);
    let mut by_member: BTreeMap<&MemberId, u64> = BTreeMap::new();
    for (member, weight) in after.values() {
        let entry = by_member.entry(member).or_default();
        *entry = entry.saturating_add(*weight);
    }
    let concentrated = by_member
        .into_iter()
        .filter(|(_, w)| total_after > 0 && u128::from(*w) * 3 >= u128::from(total_after))
        .map(|(m, w)| (m.clone(), w))
        .collect();
    SealerVerdict {
        total_before,
        total_after,
        fault_tolerance_before: fault_tolerance(total_before),
        fault_tolerance_after: fault_tolerance(total_after),
        changed,
        concentrated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{member, node};

    fn set(entries: &[(&str, &str, u64)]) -> Sealers {
        entries.iter().map(|(n, m, w)| (node(n), (member(m), *w))).collect()
    }

    /// Four sealers of one weight tolerate one fault: removing one changes weight 1 (within the budget) but leaves
    /// no tolerance (refused unless overridden); re-weighting one by 1 is fine; emptying the set is never allowed.
    #[test]
    fn four_sealers_tolerate_one_change_that_keeps_a_fault_tolerance() {
        let start = set(&[("a", "m1", 1), ("bb", "m2", 1), ("c", "m3", 1), ("dddd", "m4", 1)]);
        let removed = set(&[("a", "m1", 1), ("bb", "m2", 1), ("c", "m3", 1)]);
        let verdict = sealer_safety(&start, &removed);
        assert_eq!((verdict.changed, verdict.fault_tolerance_before, verdict.fault_tolerance_after), (1, 1, 0));
        assert_eq!(
            verdict.rejection(false),
            Some(Rejection::FaultToleranceReduced { before: Weight(1), after: Weight(0) })
        );
        assert_eq!(verdict.rejection(true), None);
        let reweighted = set(&[("a", "m1", 2), ("bb", "m2", 1), ("c", "m3", 1), ("dddd", "m4", 1)]);
        assert_eq!(sealer_safety(&start, &reweighted).rejection(false), None);
        let verdict = sealer_safety(&start, &Sealers::new());
        assert_eq!(verdict.rejection(true), Some(Rejection::EmptySealerSet));
        let twice = set(&[("a", "m1", 3), ("bb", "m2", 1), ("c", "m3", 1), ("dddd", "m4", 1)]);
        assert!(matches!(sealer_safety(&start, &twice).rejection(false), Some(Rejection::SealerBudgetExceeded { .. })));
    }

    /// A member holding a third of the weight after the change is named, whatever the ids' lengths.
    #[test]
    fn a_member_with_a_third_of_the_weight_is_concentrated() {
        let start = set(&[("a", "m1", 1), ("bb", "m2", 1), ("c", "m3", 1)]);
        let after = set(&[("a", "m1", 1), ("bb", "m2", 1), ("c", "m3", 1), ("n10", "m1", 1)]);
        assert_eq!(sealer_safety(&start, &after).concentrated, vec![(member("m1"), 2)]);
    }
}
