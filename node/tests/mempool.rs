//! The mempool refuses at the door what the next block would refuse, with the same named reason execution gives,
//! and it refuses duplicates and overflow without losing what it holds.

use std::collections::BTreeSet;

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::error::Rejection;
use governance_contracts::execution;
use governance_contracts::ids::Height;
use governance_contracts::testkit::{TestChain, account, genesis};
use governance_contracts::types::{Action, Approval, Outcome, Payload, Principal, SignedTransaction, Transaction};
use synod::mempool::{AdmitError, Mempool};

/// A freeze of `target` proposed by `proposer` with its own approval, signed with `key`.
fn freeze_by(chain: &mut TestChain, proposer: &str, key: &str, target: &str) -> SignedTransaction {
    let proposal =
        chain.proposal(Principal::Account(account(proposer)), vec![Action::FreezeAccount { account: account(target) }]);
    let approvals: Vec<Approval> = vec![chain.approval(&proposal, proposer)];
    let payload =
        Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).expect("one approval") };
    chain.tx_with_key(Principal::Account(account(proposer)), key, payload)
}

/// What the next block over `chain` would say about `tx`, without committing it.
fn execution_verdict(chain: &TestChain, tx: &SignedTransaction) -> Outcome {
    let sized = vec![(tx.clone(), encode(tx).len())];
    let outcome = execution::apply_block(&chain.store, chain.height.plus(1), &sized).expect("the block applies");
    outcome.receipts.into_iter().next().expect("one receipt").outcome
}

/// The mempool's verdict on `tx` over `chain`'s state.
fn door(chain: &TestChain, tx: &SignedTransaction) -> Result<(), Rejection> {
    match Mempool::new().admit(&chain.chain, &chain.store, tx.clone()) {
        Ok(_) => Ok(()),
        Err(AdmitError::Rejected(reason)) => Err(reason),
        Err(other) => panic!("unexpected: {other}"),
    }
}

fn assert_same_reason(chain: &TestChain, tx: &SignedTransaction, expected: fn(&Rejection) -> bool) {
    let at_door = door(chain, tx).expect_err("the mempool must refuse it");
    assert!(expected(&at_door), "unexpected reason at the door: {at_door:?}");
    assert_eq!(execution_verdict(chain, tx), Outcome::Rejected { reason: at_door });
}

/// A transaction signed with a key that is not the sender's is refused at the door as execution refuses it.
#[test]
fn bad_signature_is_refused_with_executions_reason() {
    let mut chain = TestChain::new(genesis(4));
    let tx = freeze_by(&mut chain, "m0-compliance", "m1-ops", "m2-ops");
    assert_same_reason(&chain, &tx, |r| matches!(r, Rejection::BadSignature | Rejection::KeyNotCurrent { .. }));
}

/// A sender the chain does not know is refused as UnknownAccount, as execution would.
#[test]
fn unknown_account_is_refused_with_executions_reason() {
    let mut chain = TestChain::new(genesis(4));
    let tx = freeze_by(&mut chain, "nobody", "nobody", "m2-ops");
    assert_same_reason(&chain, &tx, |r| matches!(r, Rejection::UnknownAccount { .. }));
}

/// A frozen sender is refused as AccountFrozen, as execution would.
#[test]
fn frozen_account_is_refused_with_executions_reason() {
    let mut chain = TestChain::new(genesis(4));
    let freeze = freeze_by(&mut chain, "m0-compliance", "m0-compliance", "m0-auditor");
    let receipt = chain.apply(freeze);
    assert!(TestChain::executed(&receipt), "{receipt:?}");
    let tx = freeze_by(&mut chain, "m0-auditor", "m0-auditor", "m2-ops");
    assert_same_reason(&chain, &tx, |r| matches!(r, Rejection::AccountFrozen { .. }));
}

/// An operator without the compliance role cannot propose a freeze: refused at the door as execution refuses it.
#[test]
fn missing_role_is_refused_with_executions_reason() {
    let mut chain = TestChain::new(genesis(4));
    let tx = freeze_by(&mut chain, "m1-ops", "m1-ops", "m2-ops");
    let at_door = door(&chain, &tx).expect_err("an operator has no right to propose a freeze");
    assert_eq!(execution_verdict(&chain, &tx), Outcome::Rejected { reason: at_door });
}

/// A transaction valid only up to a height already committed is refused as TransactionExpired.
#[test]
fn expired_transaction_is_refused_with_executions_reason() {
    let mut chain = TestChain::new(genesis(4));
    chain.apply_block(Vec::new());
    chain.apply_block(Vec::new());
    let proposal = chain.proposal(
        Principal::Account(account("m0-compliance")),
        vec![Action::FreezeAccount { account: account("m1-ops") }],
    );
    let approvals = vec![chain.approval(&proposal, "m0-compliance")];
    let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).unwrap() };
    let tx = Transaction { sender: Principal::Account(account("m0-compliance")), valid_until: Height(1), payload }
        .sign(&chain.chain, &governance_contracts::testkit::secret("m0-compliance"));
    assert_same_reason(&chain, &tx, |r| matches!(r, Rejection::TransactionExpired { .. }));
}

/// A transaction already waiting, or already included in a block, is refused as DuplicateTransaction, and the
/// pool keeps the copy it holds.
#[test]
fn duplicates_are_refused_and_the_held_copy_kept() {
    let mut chain = TestChain::new(genesis(4));
    let tx = freeze_by(&mut chain, "m0-compliance", "m0-compliance", "m0-auditor");
    let mut pool = Mempool::new();
    let hash = pool.admit(&chain.chain, &chain.store, tx.clone()).unwrap();
    assert_eq!(
        pool.admit(&chain.chain, &chain.store, tx.clone()),
        Err(AdmitError::Rejected(Rejection::DuplicateTransaction))
    );
    assert_eq!(pool.len(), 1);
    assert!(pool.contains(&hash));
    chain.apply(tx.clone());
    assert_eq!(door(&chain, &tx), Err(Rejection::DuplicateTransaction));
    pool.on_commit(chain.height, &BTreeSet::from([hash]));
    assert!(pool.is_empty(), "an included transaction leaves the pool");
}

/// A full pool refuses a new transaction with Full and keeps every transaction it admitted.
#[test]
fn a_full_pool_refuses_without_evicting() {
    let mut chain = TestChain::new(genesis(4));
    let first = freeze_by(&mut chain, "m0-compliance", "m0-compliance", "m0-auditor");
    let second = freeze_by(&mut chain, "m0-compliance", "m0-compliance", "m0-auditor");
    let mut pool = Mempool::with_capacity(1);
    let held = pool.admit(&chain.chain, &chain.store, first).unwrap();
    assert_eq!(pool.admit(&chain.chain, &chain.store, second), Err(AdmitError::Full { max: 1 }));
    assert_eq!(pool.len(), 1);
    assert!(pool.contains(&held));
}

/// Transactions expire out of the pool once the committed height reaches their last valid height.
#[test]
fn expired_transactions_leave_the_pool_on_commit() {
    let mut chain = TestChain::new(genesis(4));
    let tx = freeze_by(&mut chain, "m0-compliance", "m0-compliance", "m0-auditor");
    let mut pool = Mempool::new();
    pool.admit(&chain.chain, &chain.store, tx.clone()).unwrap();
    pool.on_commit(tx.tx.valid_until, &BTreeSet::new());
    assert!(pool.is_empty());
}
