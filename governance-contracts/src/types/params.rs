//! Chain parameters, set at genesis and changed by proposal (`SetParams`).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// The largest `max_block_bytes` a chain may set: 3 MiB, so that a block with its header, a write-ahead log
/// entry holding it, or a sync pair with its certificate stays within one decodable record
/// ([`crate::codec::MAX_DECODE_BYTES`], 4 MiB).
pub const MAX_BLOCK_BYTES: u32 = 3 * 1024 * 1024;
/// The smallest `max_block_bytes`: 64 KiB.
pub const MIN_BLOCK_BYTES: u32 = 64 * 1024;
const _: () = assert!(MAX_BLOCK_BYTES as usize + 512 * 1024 <= crate::codec::MAX_DECODE_BYTES);

/// Parameters every node applies identically.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainParams {
    /// Target time between blocks; blocks are produced even when empty so height-based expiries mean something.
    pub block_interval_ms: u64,
    /// Most transactions in one block.
    pub max_block_transactions: u32,
    /// Most bytes of one block's transactions (their canonical encodings summed), at most [`MAX_BLOCK_BYTES`].
    /// A proposer stops adding transactions before it; a block past it is invalid. With the header (under
    /// 1 KiB) a block therefore always fits one stored record, one write-ahead log entry and one p2p frame.
    pub max_block_bytes: u32,
    /// Largest canonical transaction, in bytes (at most `max_block_bytes`).
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
            max_block_bytes: 2 * 1024 * 1024,
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
        let checks: [(bool, &str); 8] = [
            ((50..=60_000).contains(&self.block_interval_ms), "block_interval_ms must be 50..=60000"),
            ((1..=20_000).contains(&self.max_block_transactions), "max_block_transactions must be 1..=20000"),
            (
                (MIN_BLOCK_BYTES..=MAX_BLOCK_BYTES).contains(&self.max_block_bytes),
                "max_block_bytes must be 65536..=3145728",
            ),
            (
                (1_024..=MAX_BLOCK_BYTES).contains(&self.max_transaction_bytes),
                "max_transaction_bytes must be 1024..=3145728",
            ),
            (
                self.max_transaction_bytes <= self.max_block_bytes,
                "max_transaction_bytes must be at most max_block_bytes",
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
