//! The genesis: the chain's identity and its first state. Every organisation checks the genesis hash it is given.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{BoundedVec, Name};
use crate::crypto::{CryptoSuite, Digest, PublicKey};
use crate::domain::ChainIdentity;
use crate::error::Rejection;
use crate::ids::{AccountId, Height, MemberId, NodeId, RoleId, Weight};
use crate::text;
use crate::types::action::{DisplayName, MAX_GOVERNORS, NetworkAddress, NewAccount, NodeKind, RoleDefinition};
use crate::types::params::ChainParams;
use crate::types::policy::{ActionKind, Rule};

/// A founding member.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisMember {
    /// Its id.
    pub member: MemberId,
    /// Its display name.
    pub name: DisplayName,
    /// Its voting weight.
    pub weight: Weight,
    /// Its governor accounts.
    pub governors: BoundedVec<NewAccount, MAX_GOVERNORS>,
}

/// A founding account that is not a governor.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Its id.
    pub account: AccountId,
    /// Its member.
    pub member: MemberId,
    /// Its key.
    pub key: PublicKey,
}

/// A founding node.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisNode {
    /// Its id.
    pub node: NodeId,
    /// Its owner.
    pub owner: MemberId,
    /// Its key.
    pub key: PublicKey,
    /// Where peers dial it.
    pub address: NetworkAddress,
    /// Sealer or observer.
    pub kind: NodeKind,
    /// Its consensus weight (zero for observers).
    pub weight: Weight,
}

/// A role defined at genesis (besides the built-in ones).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisRole {
    /// The role.
    pub role: RoleId,
    /// Its definition.
    pub definition: RoleDefinition,
}

/// A role grant at genesis.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisGrant {
    /// The holder.
    pub account: AccountId,
    /// The role.
    pub role: RoleId,
    /// The last height at which it holds.
    pub expires_at: Height,
}

/// One policy entry.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// The kind of action.
    pub kind: ActionKind,
    /// Its rule.
    pub rule: Rule,
}

/// The genesis document.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Genesis {
    /// The chain's name.
    pub chain_id: Name,
    /// Its signature and hash schemes.
    pub crypto_suite: CryptoSuite,
    /// The genesis time, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Chain parameters.
    pub params: ChainParams,
    /// Founding members.
    pub members: BoundedVec<GenesisMember, 1_024>,
    /// Further accounts.
    pub accounts: BoundedVec<GenesisAccount, 4_096>,
    /// Founding nodes.
    pub nodes: BoundedVec<GenesisNode, 1_024>,
    /// Roles defined by the alliance (the built-in ones always exist).
    pub roles: BoundedVec<GenesisRole, 256>,
    /// Role grants.
    pub grants: BoundedVec<GenesisGrant, 4_096>,
    /// The policy; the default policy when absent.
    pub policy: Option<BoundedVec<PolicyEntry, 64>>,
}

/// The domain tag of genesis hashes.
pub const GENESIS_TAG: &str = "synod/v1/genesis";

impl Genesis {
    /// The genesis hash: SHA-256 over the tag and the canonical bytes.
    pub fn hash(&self) -> Digest {
        let tag = GENESIS_TAG.as_bytes();
        let tag_len = u32::try_from(tag.len()).expect("short constant").to_le_bytes();
        Digest::sha256(&[&tag_len, tag, &crate::codec::encode(self)])
    }

    /// Checks every text a signer of the genesis reads by the rule of [`crate::text`]: each member's display
    /// name and each node's network address. The first refusal names its field.
    pub fn check_signer_text(&self) -> Result<(), Rejection> {
        text::check_all(&text::genesis_texts(self))
    }

    /// The chain's identity, which every signature binds to.
    pub fn identity(&self) -> ChainIdentity {
        ChainIdentity { chain_id: self.chain_id.clone(), genesis_hash: self.hash() }
    }
}
