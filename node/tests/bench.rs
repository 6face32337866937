//! `synod bench` with tiny numbers: the figures it reports have the right structure (no timing is asserted), and
//! its receipt check fails loudly on a transaction that was rejected or never finalised.

use governance_contracts::codec::BoundedVec;
use governance_contracts::error::Rejection;
use governance_contracts::ids::TxHash;
use governance_contracts::testkit::{TestChain, account, genesis};
use governance_contracts::types::{Action, Outcome, Payload, Principal};
use synod::bench::{BenchArgs, count_executed, measure};
use synod::sim::{SimConfig, Simulation};

/// A run of 20 transactions and 2 latency repeats applies every transaction on all four nodes, reports exactly what
/// it submitted and measured, and gives positive rates, limit and ratio in a summary line that begins `bench:`.
#[test]
fn a_tiny_run_reports_every_transaction_applied_and_positive_figures() {
    let args = BenchArgs { transactions: Some(20), repeats: Some(2), seed: 1, quick: true, live: false, scale: false };
    let report = measure(&args).unwrap();
    let t = &report.throughput;
    assert_eq!(t.transactions, 20);
    assert_eq!(t.applied, vec![20; 4], "every node applied every transaction");
    assert!(t.blocks >= 1 && t.heights >= t.blocks, "blocks {} heights {}", t.blocks, t.heights);
    assert!(t.wall >= t.submit && !t.wall.is_zero());
    assert!(t.virtual_ms > 0, "the transactions wait for a block: virtual time passes");
    assert!(t.per_second() > 0.0);
    assert_eq!(report.latency.wall.len(), 2);
    assert_eq!(report.latency.virtual_ms.len(), 2);
    assert!(report.latency.virtual_ms.iter().all(|&ms| ms > 0), "{:?}", report.latency.virtual_ms);
    let v = &report.verify;
    assert!(v.single > 0.0 && v.batch > 0.0 && v.cores >= 1);
    assert!(v.limit() > 0.0 && report.ratio() > 0.0);
    assert!(report.summary().starts_with("bench: "), "{}", report.summary());
}

/// The receipt check counts executed transactions, and refuses a rejected receipt and a transaction never
/// finalised, so the bench can never measure rejections silently.
#[test]
fn the_receipt_check_refuses_rejected_and_missing_transactions() {
    let mut chain = TestChain::new(genesis(4));
    let proposal = chain.proposal(
        Principal::Account(account("m0-compliance")),
        vec![Action::FreezeAccount { account: account("m0-auditor") }],
    );
    let approvals = BoundedVec::try_new(vec![chain.approval(&proposal, "m0-compliance")]).unwrap();
    let tx = chain.account_tx("m0-compliance", Payload::SubmitProposal { proposal, approvals });
    let hash = tx.tx.hash(&chain.chain);
    let mut sim = Simulation::new(SimConfig::new(4, 1, 3)).unwrap();
    sim.submit_all(&tx);
    sim.run().unwrap();
    let blocks = sim.decided(0).to_vec();
    assert_eq!(count_executed(&blocks, &[hash]).unwrap(), 1);

    let missing = TxHash(governance_contracts::crypto::Digest::sha256(&[b"never submitted"]));
    let error = count_executed(&blocks, &[hash, missing]).unwrap_err().to_string();
    assert!(error.contains("never finalised"), "{error}");

    let mut rejected = blocks.clone();
    let receipt = rejected.iter_mut().flat_map(|d| d.receipts.iter_mut()).find(|r| r.tx == hash).unwrap();
    receipt.outcome = Outcome::Rejected { reason: Rejection::BadSignature };
    let error = count_executed(&rejected, &[hash]).unwrap_err().to_string();
    assert!(error.contains("did not execute"), "{error}");
}
