//! The two signed messages that never go on chain: the console's login challenge and the p2p handshake. They live
//! here so the browser, the CLI and the node compute the same digest for each.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::BoundedString;
use crate::crypto::{Digest, PublicKey};
use crate::domain::{ChainIdentity, Domain};
use crate::ids::AccountId;

/// A one-time challenge a console issues at sign-in; the account's key signs it under
/// [`Domain::CONSOLE_LOGIN`]. The console checks the nonce is one it issued, unexpired and unused.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct LoginChallenge {
    /// The account signing in.
    pub account: AccountId,
    /// The console's origin (e.g. `https://console.acme.example`), so a challenge for one console is useless at
    /// another.
    pub origin: BoundedString<255>,
    /// 32 random bytes from the console.
    pub nonce: [u8; 32],
    /// When the challenge stops being accepted, milliseconds since the Unix epoch.
    pub expires_at_ms: u64,
}

impl LoginChallenge {
    /// The digest the account's key signs.
    pub fn signing_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::CONSOLE_LOGIN, self)
    }
}

/// What each side of a p2p handshake signs with its node key under [`Domain::P2P_HANDSHAKE`]: the transport's
/// handshake hash (which binds both ephemeral keys) and its own static transport key.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct HandshakeStatement {
    /// The transport's handshake hash.
    pub handshake_hash: [u8; 32],
    /// The signer's static transport key (for example its Noise static key).
    pub transport_key: [u8; 32],
    /// The signer's node key (the one `may_connect` checks).
    pub node_key: PublicKey,
}

impl HandshakeStatement {
    /// The digest the node key signs.
    pub fn signing_digest(&self, chain: &ChainIdentity) -> Digest {
        chain.digest(Domain::P2P_HANDSHAKE, self)
    }
}
