//! The mempool: transactions waiting for a block, admitted at the door by the same code that executes them.
//!
//! [`Mempool::admit`] runs `governance_contracts::execution::check_transaction_in` over the committed state and
//! the next block's context, so a transaction the next block would reject (bad signature, unknown or frozen
//! account, missing role or approval right, expired, already included) is refused here with the same named
//! [`Rejection`]. A transaction already waiting is refused as [`Rejection::DuplicateTransaction`] too, exactly
//! as a second copy in one block would be. The pool is bounded ([`MAX_PENDING`] transactions, and each no larger
//! than the chain's `max_transaction_bytes`, which the contracts check); a full pool refuses with
//! [`AdmitError::Full`] rather than evicting what it already accepted.
//!
//! After each commit [`Mempool::on_commit`] drops what the block included and what can no longer be included
//! (expired). Block building re-checks every candidate against the state it builds on, so a transaction that
//! became invalid while waiting (its sender frozen, say) is skipped, not included.

use std::collections::BTreeSet;

use governance_contracts::codec::encode;
use governance_contracts::contracts::BlockContext;
use governance_contracts::crypto::Verifier;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::error::Rejection;
use governance_contracts::execution;
use governance_contracts::ids::{Height, TxHash};
use governance_contracts::state::Store;
use governance_contracts::types::SignedTransaction;

/// Most transactions the pool holds.
pub const MAX_PENDING: usize = 20_000;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// The next block would reject it, for this reason.
    #[error("rejected: {0}")]
    Rejected(Rejection),
    /// The pool is at its capacity.
    #[error("the mempool is full ({max} transactions)")]
    Full {
        /// The bound.
        max: usize,
    },
    /// The committed state could not be read (fatal for the node).
    #[error("storage: {0}")]
    Storage(String),
}

/// Transactions admitted and waiting for a block, in arrival order.
#[derive(Debug, Clone)]
pub struct Mempool {
    /// Waiting transactions in the order they were admitted, with their hashes and canonical sizes.
    pending: Vec<(TxHash, SignedTransaction, usize)>,
    hashes: BTreeSet<TxHash>,
    capacity: usize,
    /// How signatures are verified (through the node's set of verified ones).
    verifier: Verifier,
    /// The next block's context over the committed state, with the committed height it was built at.
    context: Option<(Height, BlockContext)>,
}

impl Default for Mempool {
    fn default() -> Self {
        Self::new()
    }
}

impl Mempool {
    /// An empty pool holding up to [`MAX_PENDING`] transactions.
    pub fn new() -> Self {
        Self::with_capacity(MAX_PENDING)
    }

    /// An empty pool holding up to `capacity` transactions (at most [`MAX_PENDING`]).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            pending: Vec::new(),
            hashes: BTreeSet::new(),
            capacity: capacity.min(MAX_PENDING),
            verifier: Verifier::default(),
            context: None,
        }
    }

    /// Verifies signatures through `verifier` (the node's set of verified ones) from now on.
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = verifier;
        self.context = None;
        self
    }

    /// Admits `tx` if the next block over `state` would accept it; returns its hash.
    pub fn admit(
        &mut self,
        chain: &ChainIdentity,
        state: &dyn Store,
        tx: SignedTransaction,
    ) -> Result<TxHash, AdmitError> {
        let hash = tx.tx.hash(chain);
        if self.hashes.contains(&hash) {
            return Err(AdmitError::Rejected(Rejection::DuplicateTransaction));
        }
        if self.pending.len() >= self.capacity {
            return Err(AdmitError::Full { max: self.capacity });
        }
        let storage = |e: governance_contracts::Error| match e {
            governance_contracts::Error::Rejected(reason) => AdmitError::Rejected(reason),
            governance_contracts::Error::Storage(e) => AdmitError::Storage(e.to_string()),
        };
        let committed = execution::meta(state).map_err(storage)?.height;
        let context = match &self.context {
            Some((at, context)) if *at == committed => context,
            _ => {
                let mut context = execution::next_block_context(state).map_err(storage)?;
                context.verifier = self.verifier.clone();
                &self.context.insert((committed, context)).1
            }
        };
        let size = encode(&tx).len();
        execution::check_transaction_in(state, context, &tx, size).map_err(storage)?;
        self.hashes.insert(hash);
        self.pending.push((hash, tx, size));
        Ok(hash)
    }

    /// The waiting transactions, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &SignedTransaction> {
        self.pending.iter().map(|(_, tx, _)| tx)
    }

    /// The waiting transactions with their canonical sizes, oldest first: the candidates of the next block.
    pub fn candidates(&self) -> impl Iterator<Item = (&SignedTransaction, usize)> {
        self.pending.iter().map(|(_, tx, size)| (tx, *size))
    }

    /// The most transactions the pool holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether `hash` waits.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.hashes.contains(hash)
    }

    /// Height `height` was committed with the transactions `included`: drops those, and those valid only up to
    /// `height`.
    pub fn on_commit(&mut self, height: Height, included: &BTreeSet<TxHash>) {
        self.pending.retain(|(hash, tx, _)| tx.tx.valid_until > height && !included.contains(hash));
        self.hashes = self.pending.iter().map(|(hash, _, _)| *hash).collect();
    }

    /// Forgets everything (a node's pool does not survive a restart).
    pub fn clear(&mut self) {
        self.pending.clear();
        self.hashes.clear();
    }
}
