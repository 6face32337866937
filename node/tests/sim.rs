//! Deterministic simulation of a cluster: safety invariants hold after every step, with and without faults, every
//! honest node reaches the target height, a seed replays to the same trace, governance transactions are finalised
//! on every node, and the checker does catch broken invariants and sabotage.

use governance_contracts::codec::BoundedVec;
use governance_contracts::ids::Height;
use governance_contracts::state::tables::ACCOUNTS;
use governance_contracts::testkit::{TestChain, account, genesis, member, node, public};
use governance_contracts::types::{Action, Approval, GenesisAccount, Outcome, Payload, Principal, SignedTransaction};
use synod::consensus::store::BlockStore as _;
use synod::sim::{Checker, Sabotage, SimConfig, Simulation, Violation};

/// Four sealers reach height 10 with no safety violation for seeds 1 to 20.
#[test]
fn four_nodes_reach_height_ten_for_twenty_seeds() {
    for seed in 1..=20 {
        let mut sim = Simulation::new(SimConfig::new(4, seed, 10)).unwrap();
        let report = sim.run().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(report.violations.is_empty(), "seed {seed}: {:?}", report.violations);
        assert!(
            report.reached_target,
            "seed {seed}: stuck at height {} after {} ms",
            report.min_height, report.time_ms
        );
        for i in 0..4 {
            assert!(sim.decided(i).len() >= 10, "seed {seed}: node {i} finalised {}", sim.decided(i).len());
        }
    }
}

/// Two runs of one seed deliver the same events in the same order (same trace hash); another seed differs.
#[test]
fn a_seed_replays_to_the_same_trace() {
    let run = |seed| Simulation::new(SimConfig::new(4, seed, 5)).unwrap().run().unwrap();
    let first = run(7);
    let second = run(7);
    assert_eq!(first.trace, second.trace);
    assert_eq!(first.events, second.events);
    assert_eq!(first.time_ms, second.time_ms);
    assert_ne!(first.trace, run(8).trace);
}

fn freeze(chain: &mut TestChain, target: &str) -> SignedTransaction {
    let proposal = chain.proposal(
        Principal::Account(account("m0-compliance")),
        vec![Action::FreezeAccount { account: account(target) }],
    );
    let approvals: Vec<Approval> = vec![chain.approval(&proposal, "m0-compliance")];
    chain.account_tx(
        "m0-compliance",
        Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).expect("one approval") },
    )
}

/// Ordinary accounts of `m0`, which its compliance officer freezes.
const CLERKS: [&str; 3] = ["m0-clerk-1", "m0-clerk-2", "m0-clerk-3"];

/// Compliance freezes submitted to every node are finalised with Applied receipts on every node, and every
/// node's state shows the accounts frozen.
#[test]
fn governance_transactions_are_finalised_on_every_node() {
    let mut with_clerks = genesis(4);
    for clerk in CLERKS {
        let entry = GenesisAccount { account: account(clerk), member: member("m0"), key: public(clerk) };
        with_clerks.accounts.try_push(entry).unwrap();
    }
    let mut chain = TestChain::new(with_clerks.clone());
    let txs: Vec<SignedTransaction> = CLERKS.iter().map(|t| freeze(&mut chain, t)).collect();
    let mut sim = Simulation::with_genesis(SimConfig::new(4, 3, 4), with_clerks).unwrap();
    for tx in &txs {
        sim.submit_all(tx);
    }
    let report = sim.run().unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.reached_target);
    for i in 0..4 {
        for tx in &txs {
            let hash = tx.tx.hash(&chain.chain);
            let receipt = sim
                .decided(i)
                .iter()
                .flat_map(|d| d.receipts.iter())
                .find(|r| r.tx == hash)
                .unwrap_or_else(|| panic!("node {i}: transaction not finalised"));
            assert_eq!(receipt.outcome, Outcome::Applied, "node {i}: {receipt:?}");
            assert!(TestChain::executed(receipt), "node {i}: {receipt:?}");
        }
        let host = sim.host(i).expect("no crashes in this run");
        assert!(host.pending().is_empty(), "node {i} still holds included transactions");
        for target in CLERKS {
            let record = ACCOUNTS.get(host.storage().state(), &account(target)).unwrap().unwrap();
            assert!(record.frozen, "node {i}: {target} is not frozen");
        }
    }
}

/// The checker reports a certificate without a quorum, a different block at a finalised height, and a skipped
/// height: the invariants can fail.
#[test]
fn the_checker_catches_violations() {
    let mut sim = Simulation::new(SimConfig::new(4, 5, 3)).unwrap();
    sim.run().unwrap();
    let chain = genesis(4).identity();
    let first = sim.decided(0)[0].clone();
    let second = sim.decided(0)[1].clone();

    let mut checker = Checker::new(chain.clone());
    let mut short = first.clone();
    let mut signatures = short.certificate.signatures.clone().into_inner();
    signatures.truncate(2);
    short.certificate.signatures = BoundedVec::try_new(signatures).unwrap();
    checker.on_decided(&node("n0"), &short);
    assert!(matches!(checker.violations(), [Violation::BadCertificate { .. }]), "{:?}", checker.violations());

    let mut checker = Checker::new(chain.clone());
    checker.on_decided(&node("n0"), &first);
    let mut other = first.clone();
    other.block.header.time_ms = other.block.header.time_ms.saturating_add(1);
    checker.on_decided(&node("n1"), &other);
    assert!(
        checker.violations().iter().any(|v| matches!(v, Violation::Disagreement { height: Height(1), .. })),
        "{:?}",
        checker.violations()
    );

    let mut checker = Checker::new(chain);
    checker.on_decided(&node("n2"), &second);
    assert!(matches!(checker.violations(), [Violation::NotMonotonic { .. }]), "{:?}", checker.violations());
}

/// Thirty schedules with every fault kind and the governance workload keep every safety invariant, stay live once
/// faults stop, replay identically, finish the workload (four sealer changes and a key rotation each), and between
/// them exercise every fault kind, crash recovery from the WAL, sync and equivocation evidence.
#[test]
fn every_fault_kind_keeps_safety_and_liveness() {
    let mut totals = synod::sim::FaultCounts::default();
    let (mut evidence, mut synced, mut replayed) = (0, 0, 0);
    for seed in 1..=30 {
        let config = SimConfig::new(4, seed, 10).with_all_faults();
        let report = Simulation::new(config.clone()).unwrap().run().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(report.violations.is_empty(), "seed {seed}: {:?}", report.violations);
        assert!(report.reached_target, "seed {seed}: {:?}", report.liveness_failure);
        assert!(report.workload_failures.is_empty(), "seed {seed}: {:?}", report.workload_failures);
        assert_eq!((report.sealer_changes, report.key_rotations), (4, 1), "seed {seed}");
        let again = Simulation::new(config).unwrap().run().unwrap();
        assert_eq!(again.trace, report.trace, "seed {seed} replays identically");
        totals.add(&report.faults);
        evidence += report.evidence_stored;
        synced += report.hosts.synced_heights;
        replayed += report.hosts.replayed_entries;
    }
    for (kind, count) in [
        ("dropped", totals.dropped),
        ("duplicated", totals.duplicated),
        ("reordered", totals.reordered),
        ("partitions", totals.partitions),
        ("partitioned", totals.partitioned),
        ("crashes", totals.crashes),
        ("restarts", totals.restarts),
        ("evidence", evidence),
        ("synced heights", synced),
        ("replayed WAL entries", replayed),
    ] {
        assert!(count > 0, "no {kind} in thirty faulty schedules");
    }
}

/// With the quorum-one-vote-short sabotage, the checker reports every finalised block's certificate as invalid.
#[test]
fn sabotage_short_quorum_is_caught() {
    let mut config = SimConfig::new(4, 1, 3);
    config.sabotage = Some(Sabotage::ShortQuorum);
    let report = Simulation::new(config).unwrap().run().unwrap();
    assert!(!report.violations.is_empty());
    assert!(report.violations.iter().all(|v| matches!(v, Violation::BadCertificate { .. })), "{:?}", report.violations);
}

/// With the skip-the-WAL sabotage, some crash makes an honest node sign a conflicting vote or proposal after its
/// restart, and the checker reports the equivocation; the same seeds with the WAL report nothing.
#[test]
fn sabotage_skip_wal_is_caught() {
    let caught = (1..=40).find(|&seed| {
        let mut config = SimConfig::new(4, seed, 10).with_all_faults();
        config.sabotage = Some(Sabotage::SkipWal);
        let report = Simulation::new(config).unwrap().run().unwrap();
        report.violations.iter().any(|v| matches!(v, Violation::Equivocation { .. }))
    });
    let seed = caught.expect("no seed in 1..=40 made a WAL-less restart equivocate");
    let honest = Simulation::new(SimConfig::new(4, seed, 10).with_all_faults()).unwrap().run().unwrap();
    assert!(honest.violations.is_empty(), "seed {seed} with the WAL: {:?}", honest.violations);
}

/// A sealer that starts twenty virtual seconds late catches up by syncing finalised heights (each certificate
/// checked against the validator set it derives itself) and then finalises new heights with the others.
#[test]
fn a_late_node_catches_up_by_sync() {
    let mut config = SimConfig::new(4, 11, 25);
    config.late_start = Some((2, 20_000));
    let mut sim = Simulation::new(config).unwrap();
    let report = sim.run().unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.reached_target, "{:?}", report.liveness_failure);
    let late = sim.host(2).expect("the late node is up");
    assert!(late.counters().synced_heights > 0, "the late node synced");
    assert!(late.committed_height() >= Height(25));
}

/// Twenty sealers named with ids of mixed lengths and characters (`org-a-sealer-1`, `n7`, `beijing-2`, `n10`, `z`,
/// a 64-character id, ...), whose order in the nodes table is not their id order, keep every safety invariant under
/// every fault kind and stay live, through the workload's promotion of an observer among them, a key rotation, a
/// demotion and a removal: consensus accepts the validator set derived at every height, on every node, after every
/// restart, and every certificate verifies against it.
#[test]
fn twenty_sealers_with_mixed_ids_keep_safety_and_liveness_under_faults() {
    for seed in 1..=5 {
        let config = SimConfig::new(20, seed, 10).with_all_faults().with_mixed_ids();
        let report = Simulation::new(config).unwrap().run().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(report.violations.is_empty(), "seed {seed}: {:?}", report.violations);
        assert!(report.reached_target, "seed {seed}: {:?}", report.liveness_failure);
        assert!(report.workload_failures.is_empty(), "seed {seed}: {:?}", report.workload_failures);
        assert_eq!((report.sealer_changes, report.key_rotations), (4, 1), "seed {seed}");
    }
}
