//! The node's set of verified signatures: each (key, digest, signature) triple is verified once per node, however
//! many times the node meets it — admitting the transaction to its mempool, building a block, checking a peer's
//! block, executing the decided one. The contracts consult it through [`Verifier`] and decide exactly as they would
//! without it; the node fills it ahead of execution by verifying a batch's or a block's unseen signatures on every
//! core ([`SignatureCache::preverify`]).
//!
//! It is keyed by the whole triple, never by a transaction's hash: two transactions with the same hash may carry
//! different signatures (a block commits to its signatures, and a relayed copy with a forged signature must not
//! pass because an honest copy was verified).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use governance_contracts::crypto::{PublicKey, Signature, SignedDigest, VerifiedSignatures, Verifier};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution;
use governance_contracts::types::SignedTransaction;
use rayon::prelude::*;

/// Triples remembered: about 16 s of signatures at 2,000 two-signature transactions a second, in about 10 MiB.
pub const CAPACITY: usize = 65_536;

/// Unseen signatures below this many are verified on the calling thread (handing them out costs more).
const PARALLEL_FROM: usize = 8;

type Key = [u8; 128];

fn key(item: &SignedDigest) -> Key {
    let mut key = [0u8; 128];
    let PublicKey::Ed25519(public) = item.key;
    let Signature::Ed25519(signature) = item.signature;
    key[..32].copy_from_slice(&public);
    key[32..64].copy_from_slice(item.digest.as_bytes());
    key[64..].copy_from_slice(&signature);
    key
}

/// A bounded set of strictly verified signature triples, shared by the node's threads.
pub struct SignatureCache {
    verified: quick_cache::sync::Cache<Key, ()>,
    /// Valid signatures this node verified itself (each a strict ed25519 check).
    checks: AtomicU64,
}

impl std::fmt::Debug for SignatureCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCache").field("len", &self.verified.len()).finish_non_exhaustive()
    }
}

impl Default for SignatureCache {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl SignatureCache {
    /// A set of at most `capacity` triples.
    pub fn new(capacity: usize) -> Self {
        Self { verified: quick_cache::sync::Cache::new(capacity.max(1)), checks: AtomicU64::new(0) }
    }

    /// The contracts' verifier over this set.
    pub fn verifier(self: &Arc<Self>) -> Verifier {
        Verifier::cached(Arc::clone(self) as Arc<dyn VerifiedSignatures>)
    }

    /// Verifies, on every core, each signature of `transactions` the set does not hold, and remembers those
    /// that verify. One that does not is left out: executing its transaction checks it again and refuses it.
    pub fn preverify(&self, chain: &ChainIdentity, transactions: &[SignedTransaction]) {
        let unseen: Vec<SignedDigest> = transactions
            .iter()
            .flat_map(|tx| execution::signatures(chain, tx))
            .filter(|item| !self.verified.contains_key(&key(item)))
            .collect();
        let check = |item: &SignedDigest| {
            if item.key.verify(&item.digest, &item.signature) {
                self.checks.fetch_add(1, Ordering::Relaxed);
                self.verified.insert(key(item), ());
            }
        };
        if unseen.len() < PARALLEL_FROM {
            unseen.iter().for_each(check);
        } else {
            unseen.par_iter().for_each(check);
        }
    }

    /// Valid signatures this node verified itself so far.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

impl VerifiedSignatures for SignatureCache {
    fn contains(&self, item: &SignedDigest) -> bool {
        self.verified.contains_key(&key(item))
    }

    fn insert(&self, item: &SignedDigest) {
        self.checks.fetch_add(1, Ordering::Relaxed);
        self.verified.insert(key(item), ());
    }
}
