//! The console's review evaluates the chain's own rules: on random sealer-changing proposals against a real chain
//! state, the review's sealer verdict names exactly the refusal the contracts' dry run records, and whenever the
//! dry run refuses for another reason the review shows a failing check.

use console::i18n::Lang;
use console::wysiwys::{ProposalReview, StoreView};
use governance_contracts::execution;
use governance_contracts::ids::{NodeId, Weight};
use governance_contracts::state::tables::NODES;
use governance_contracts::testkit::{TestChain, account, node};
use governance_contracts::types::{Action, NodeKind, Outcome, Principal};
use governance_contracts::{Rejection, types::ActionKind};
use proptest::prelude::*;

/// One sealer change: which sealer (an index), what, and whether it carries the override flag.
#[derive(Debug, Clone)]
enum Change {
    Demote(usize, bool),
    Reweight(usize, u64, bool),
    Remove(usize, bool),
}

fn changes() -> impl Strategy<Value = Vec<Change>> {
    let change = prop_oneof![
        (0..16_usize, any::<bool>()).prop_map(|(i, o)| Change::Demote(i, o)),
        (0..16_usize, 1..=5_u64, any::<bool>()).prop_map(|(i, w, o)| Change::Reweight(i, w, o)),
        (0..16_usize, any::<bool>()).prop_map(|(i, o)| Change::Remove(i, o)),
    ];
    proptest::collection::vec(change, 1..=3)
}

fn sealer_rejection(reason: &Rejection) -> bool {
    matches!(
        reason,
        Rejection::EmptySealerSet
            | Rejection::SealerBudgetExceeded { .. }
            | Rejection::FaultToleranceReduced { .. }
            | Rejection::ExpulsionNeedsSealerChanges { .. }
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// On 4 to 10 members, each with a sealer, the review of a random proposal of sealer changes agrees with the
    /// contracts' dry run: the same refusal or none, the concentration rule needed exactly when the dry run needs
    /// it, and a failing check whenever the dry run refuses for another reason.
    #[test]
    fn the_reviews_sealer_verdict_is_the_dry_runs(members in 4..=10_usize, changes in changes()) {
        let mut chain = TestChain::with_members(members);
        let sealer = |i: usize| node(&format!("n{}", i.checked_rem(members).expect("members > 0")));
        let weight = |chain: &TestChain, id: &NodeId| NODES.get(&chain.store, id).unwrap().map_or(0, |n| n.weight.0);
        let actions: Vec<Action> = changes
            .iter()
            .map(|change| match change {
                Change::Demote(i, o) => Action::DemoteNode { node: sealer(*i), override_fault_tolerance: *o },
                Change::Reweight(i, w, o) => Action::SetNodeWeight {
                    node: sealer(*i),
                    expected: Weight(weight(&chain, &sealer(*i))),
                    weight: Weight(*w),
                    override_fault_tolerance: *o,
                },
                Change::Remove(i, o) => Action::RemoveNode { node: sealer(*i), override_fault_tolerance: *o },
            })
            .collect();
        let proposal = chain.proposal(Principal::Account(account("m0-gov")), actions);
        let review = ProposalReview::new(&proposal, &chain.chain, &StoreView(&chain.store), Lang::En);
        let dry = execution::dry_run(&chain.store, &proposal).expect("dry run");
        let refusal = review.sealers.as_ref().and_then(|s| s.rejection.clone());
        match &dry.receipt.outcome {
            Outcome::Applied => {
                prop_assert_eq!(refusal, None);
                let needs_concentration = dry.requirements.iter().any(|(k, _)| *k == ActionKind::SealerConcentration);
                let shows_concentration = review
                    .sealers
                    .as_ref()
                    .is_some_and(|s| s.checks.iter().any(|c| c.text.contains("sealer_concentration")));
                prop_assert_eq!(needs_concentration, shows_concentration);
            }
            Outcome::Rejected { reason } if sealer_rejection(reason) => {
                prop_assert_eq!(refusal, Some(reason.clone()));
            }
            Outcome::Rejected { reason } => {
                prop_assert!(!review.all_ok(), "the dry run refuses ({reason}) but every check of the review passes");
            }
        }
        // The review never claims a sealer set the chain would not derive.
        if let (Outcome::Applied, Some(preflight)) = (&dry.receipt.outcome, &review.sealers) {
            let kinds = |kind: NodeKind| NODES.all(&chain.store).unwrap().into_iter().filter(move |(_, n)| n.kind == kind).count();
            prop_assert_eq!(preflight.before.sealers.len(), kinds(NodeKind::Sealer));
        }
    }
}
