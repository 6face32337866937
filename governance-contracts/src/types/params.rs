//! Chain parameters, set at genesis and changed by proposal (`SetParams`).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Parameters every node applies identically.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainParams {
    /// Target time between blocks; blocks are produced even when empty so height-based expiries mean something.
    pub block_interval_ms: u64,
    /// Most transactions in one block.
    pub max_block_transactions: u32,
    /// Largest canonical transaction, in bytes.
    pub max_transaction_bytes: u32,
    /// How far ahead of the current height a transaction's `valid_until` may be, in blocks.
    pub max_tx_ttl: u64,
    /// How far ahead of its submission a proposal's expiry may be, in blocks.
    pub max_proposal_lifetime: u64,
    /// How recent a node's readiness attestation must be for its promotion to sealer, in blocks.
    pub readiness_window: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        Self {
            block_interval_ms: 1_000,
            max_block_transactions: 5_000,
            max_transaction_bytes: 256 * 1024,
            max_tx_ttl: 3_600,
            max_proposal_lifetime: 7 * 24 * 3_600,
            readiness_window: 600,
        }
    }
}

impl ChainParams {
    /// Checks every parameter is within its sane range; returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(bool, &str); 6] = [
            ((50..=60_000).contains(&self.block_interval_ms), "block_interval_ms must be 50..=60000"),
            ((1..=20_000).contains(&self.max_block_transactions), "max_block_transactions must be 1..=20000"),
            (
                (1_024..=4 * 1024 * 1024).contains(&self.max_transaction_bytes),
                "max_transaction_bytes must be 1024..=4194304",
            ),
            ((1..=1_000_000).contains(&self.max_tx_ttl), "max_tx_ttl must be 1..=1000000"),
            ((1..=100_000_000).contains(&self.max_proposal_lifetime), "max_proposal_lifetime must be 1..=100000000"),
            ((1..=1_000_000).contains(&self.readiness_window), "readiness_window must be 1..=1000000"),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err((*what).to_string()),
            None => Ok(()),
        }
    }
}
