//! Signing domains: every signature in Synod is over
//! `SHA-256(u32le(len(tag)) ‖ tag ‖ u32le(len(chain_id)) ‖ chain_id ‖ genesis_hash ‖ canonical bytes)`.
//!
//! A distinct tag per kind of message means a signature made for one kind, one chain or one proposal never
//! verifies as another. The signed message is the 32-byte digest itself, so a careful signer can compare it on a
//! second machine (`synod` prints the same digest the console shows). See `docs/adr/0003-signing-domains.md`.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{Name, encode};
use crate::crypto::Digest;

/// A signing or hashing domain: a fixed tag bound into the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(&'static str);

impl Domain {
    /// A transaction, signed by its sender's current key (an account's, or a node's for node transactions).
    pub const TRANSACTION: Self = Self("synod/v1/tx");
    /// A governor's or role holder's approval of a governance proposal. The digest is also the proposal's id.
    pub const APPROVAL: Self = Self("synod/v1/approval");
    /// Proof that the holder of a new key consents to it replacing an old one.
    pub const KEY_PROOF: Self = Self("synod/v1/key-proof");
    /// The console's one-time login challenge.
    pub const CONSOLE_LOGIN: Self = Self("synod/v1/console-login");
    /// A sealer's prevote or precommit.
    pub const CONSENSUS_VOTE: Self = Self("synod/v1/consensus-vote");
    /// A sealer's block proposal in a consensus round.
    pub const CONSENSUS_PROPOSAL: Self = Self("synod/v1/consensus-proposal");
    /// The p2p handshake transcript, signed by each node's key.
    pub const P2P_HANDSHAKE: Self = Self("synod/v1/p2p-handshake");
    /// Block header hashes (not a signature domain, but bound to the chain the same way).
    pub const BLOCK_HEADER: Self = Self("synod/v1/block-header");
    /// Validator set hashes.
    pub const VALIDATOR_SET: Self = Self("synod/v1/validator-set");
    /// Roots over a block's receipts.
    pub const LIST_ROOT: Self = Self("synod/v1/list-root");
    /// A block's transactions root: over every signed transaction as carried (key and signature included), so
    /// a block's hash commits to exactly the bytes that are executed.
    pub const BLOCK_TRANSACTIONS: Self = Self("synod/v1/block-transactions");

    /// Every signing domain, for tests and golden vectors.
    pub const SIGNING: [Self; 7] = [
        Self::TRANSACTION,
        Self::APPROVAL,
        Self::KEY_PROOF,
        Self::CONSOLE_LOGIN,
        Self::CONSENSUS_VOTE,
        Self::CONSENSUS_PROPOSAL,
        Self::P2P_HANDSHAKE,
    ];

    /// The tag text.
    pub fn tag(&self) -> &'static str {
        self.0
    }
}

/// Which chain a message belongs to: its id and the hash of its genesis. Consoles and CLIs pin both from the
/// genesis file; they never learn them from a node.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainIdentity {
    /// The chain's name.
    pub chain_id: Name,
    /// The hash of its genesis (see [`crate::types::Genesis::hash`]).
    pub genesis_hash: Digest,
}

impl ChainIdentity {
    /// The digest of `bytes` in `domain` for this chain.
    pub fn digest_bytes(&self, domain: Domain, bytes: &[u8]) -> Digest {
        let tag = domain.tag().as_bytes();
        let chain = self.chain_id.as_str().as_bytes();
        let tag_len = u32::try_from(tag.len()).expect("tags are short constants").to_le_bytes();
        let chain_len = u32::try_from(chain.len()).expect("names are at most 64 bytes").to_le_bytes();
        Digest::sha256(&[&tag_len, tag, &chain_len, chain, self.genesis_hash.as_bytes(), bytes])
    }

    /// The digest of a value's canonical bytes in `domain` for this chain.
    pub fn digest<T: BorshSerialize + ?Sized>(&self, domain: Domain, value: &T) -> Digest {
        self.digest_bytes(domain, &encode(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(id: &str, genesis: u8) -> ChainIdentity {
        ChainIdentity { chain_id: Name::new(id).unwrap(), genesis_hash: Digest::Sha256([genesis; 32]) }
    }

    /// The same bytes give a different digest under every domain, chain id and genesis hash.
    #[test]
    fn digests_separate_domains_chains_and_genesis() {
        let bytes = b"same bytes";
        let mut seen = std::collections::BTreeSet::new();
        for domain in Domain::SIGNING {
            for c in [chain("a", 1), chain("b", 1), chain("a", 2)] {
                assert!(seen.insert(c.digest_bytes(domain, bytes)), "{domain:?} collided");
            }
        }
        assert_eq!(seen.len(), 21);
    }

    /// Length prefixes stop a tag and chain id from being re-split into another pair.
    #[test]
    fn length_prefixes_prevent_resplitting() {
        let a = ChainIdentity { chain_id: Name::new("ab").unwrap(), genesis_hash: Digest::ZERO };
        let b = ChainIdentity { chain_id: Name::new("b").unwrap(), genesis_hash: Digest::ZERO };
        assert_ne!(a.digest_bytes(Domain::TRANSACTION, b"x"), b.digest_bytes(Domain::TRANSACTION, b"ax"));
    }
}
