//! Offline-verifiable proofs of one governance record: a member, a node, an account, a role grant or a console's
//! audit-trail anchor, as it stood at a certified height.
//!
//! A [`ProofBundle`] carries everything a verifier needs besides what it already trusts (the genesis, or a
//! [`Checkpoint`] it verified before):
//!
//! - the **state proof** of the record (membership, or non-membership when it does not exist) against a state root;
//! - the **certified header** holding that root: the block header and its commit certificate;
//! - the **validator-set changes** from the trusted point to that header: each certified header at which
//!   `validator_set_hash != next_validator_set_hash`, with the new set.
//!
//! [`verify`] walks from the trusted validator set through each change, checking its certificate against the set
//! in force and the new set against the header's `next_validator_set_hash`; then checks the record's header with
//! the set reached, and the state proof against that header's root. Each failed check has its own
//! [`ProofError`]. Nothing in a bundle is taken on the sender's word.
//!
//! Between two changes the validator set stays the same, so a header whose `validator_set_hash` names the set the
//! verifier holds, certified by more than two thirds of its weight, is final (the usual assumption that the
//! sealers of each set were honest while it was in force).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{BoundedVec, decode};
use crate::crypto::Digest;
use crate::domain::ChainIdentity;
use crate::execution::{self, GenesisError};
use crate::ids::{AccountId, BlockHash, Height, MemberId, NodeId, RoleId};
use crate::state::records::{AccountRecord, AnchorRecord, Grant, MemberRecord, NodeRecord};
use crate::state::root::{self, StateProof};
use crate::state::tables::{ACCOUNTS, ANCHORS, GRANTS, MEMBERS, NODES};
use crate::state::{MemoryStore, StoreError, TableId, TableKey};
use crate::types::block::{BlockHeader, CertificateError, CommitCertificate, ValidatorSet, verify_certificate};
use crate::types::genesis::Genesis;

/// Most validator-set changes one bundle may carry.
pub const MAX_SET_CHANGES: usize = 4_096;

/// Which record a proof is about.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordKey {
    /// A member organisation.
    Member {
        /// The member.
        member: MemberId,
    },
    /// A node.
    Node {
        /// The node.
        node: NodeId,
    },
    /// An account.
    Account {
        /// The account.
        account: AccountId,
    },
    /// One role grant of one account.
    Grant {
        /// The holder.
        account: AccountId,
        /// The role.
        role: RoleId,
    },
    /// The latest audit-trail anchor of one console (see `contracts::anchors`).
    Anchor {
        /// The console's account.
        account: AccountId,
    },
}

impl RecordKey {
    /// The table and key bytes of the record in state.
    pub fn location(&self) -> (TableId, Vec<u8>) {
        match self {
            Self::Member { member } => (MEMBERS.id(), member.to_key_bytes()),
            Self::Node { node } => (NODES.id(), node.to_key_bytes()),
            Self::Account { account } => (ACCOUNTS.id(), account.to_key_bytes()),
            Self::Grant { account, role } => (GRANTS.id(), (account.clone(), role.clone()).to_key_bytes()),
            Self::Anchor { account } => (ANCHORS.id(), account.to_key_bytes()),
        }
    }

    /// Decodes the record's canonical bytes as its type.
    pub fn decode_value(&self, bytes: &[u8]) -> Result<RecordValue, crate::codec::DecodeError> {
        Ok(match self {
            Self::Member { .. } => RecordValue::Member(decode(bytes)?),
            Self::Node { .. } => RecordValue::Node(decode(bytes)?),
            Self::Account { .. } => RecordValue::Account(decode(bytes)?),
            Self::Grant { .. } => RecordValue::Grant(decode(bytes)?),
            Self::Anchor { .. } => RecordValue::Anchor(decode(bytes)?),
        })
    }
}

impl core::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Member { member } => write!(f, "member {member}"),
            Self::Node { node } => write!(f, "node {node}"),
            Self::Account { account } => write!(f, "account {account}"),
            Self::Grant { account, role } => write!(f, "grant of role {role} to account {account}"),
            Self::Anchor { account } => write!(f, "anchor {account}"),
        }
    }
}

/// A proven record's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordValue {
    /// A member organisation.
    Member(MemberRecord),
    /// A node.
    Node(NodeRecord),
    /// An account.
    Account(AccountRecord),
    /// A role grant.
    Grant(Grant),
    /// A console's latest audit-trail anchor.
    Anchor(AnchorRecord),
}

/// A block header with the certificate that proves it final.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CertifiedHeader {
    /// The header.
    pub header: BlockHeader,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

/// A certified header after which the validator set changes, with the new set.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSetChange {
    /// The header (its `next_validator_set_hash` differs from its `validator_set_hash`).
    pub certified: CertifiedHeader,
    /// The set that certifies the heights after it.
    pub next: ValidatorSet,
}

/// A record's proof, verifiable offline from the genesis or a trusted checkpoint (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ProofBundle {
    /// The chain it belongs to.
    pub chain: ChainIdentity,
    /// The record proven.
    pub record: RecordKey,
    /// The record's state proof against `header`'s state root.
    pub state_proof: StateProof,
    /// The certified header whose state root the proof is against.
    pub header: CertifiedHeader,
    /// Every validator-set change after the trusted point and before `header`, in height order.
    pub set_changes: BoundedVec<ValidatorSetChange, MAX_SET_CHANGES>,
}

/// A point the verifier trusts: the validator set that certifies the heights after `height`, until the next
/// change. The genesis gives one at height 0; a verified bundle gives one at its header's parent height.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain.
    pub chain: ChainIdentity,
    /// The last height before the set takes over.
    pub height: Height,
    /// The validator set certifying `height + 1`.
    pub validator_set: ValidatorSet,
}

impl Checkpoint {
    /// The checkpoint of a genesis: its chain and the validator set its state derives (which certifies height 1).
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, ProofError> {
        let state = execution::apply_genesis(genesis).map_err(ProofError::Genesis)?;
        let mut store = MemoryStore::new();
        store.apply(state.changes);
        let validator_set = execution::validator_set(&store).map_err(ProofError::GenesisState)?;
        Ok(Self { chain: genesis.identity(), height: Height(0), validator_set })
    }
}

/// What a verified bundle establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedRecord {
    /// The record.
    pub record: RecordKey,
    /// Its value, or `None` when the proof shows it does not exist.
    pub value: Option<RecordValue>,
    /// The height at which it held.
    pub height: Height,
    /// That block's hash.
    pub block: BlockHash,
    /// That block's time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The state root the record is proven against.
    pub state_root: Digest,
    /// How many validator-set changes were checked on the way.
    pub set_changes: usize,
    /// A checkpoint to trust for later bundles: the set that certified this header.
    pub checkpoint: Checkpoint,
}

/// Why a bundle does not verify: one variant per check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The trusted genesis is itself invalid.
    #[error("the trusted genesis is invalid: {0}")]
    Genesis(GenesisError),
    /// The trusted genesis's state could not be read.
    #[error("the trusted genesis's validator set cannot be derived: {0}")]
    GenesisState(StoreError),
    /// The bundle is for another chain than the trusted one.
    #[error("the bundle is for chain {bundle}, not the trusted chain {trusted}")]
    WrongChain {
        /// The chain the bundle names.
        bundle: String,
        /// The trusted chain.
        trusted: String,
    },
    /// A validator-set change is not after the previous one (or the trusted point).
    #[error("validator-set change at height {height} is not after height {after}")]
    ChangeOutOfOrder {
        /// The change's height.
        height: Height,
        /// The height it must follow.
        after: Height,
    },
    /// A validator-set change is not before the record's header.
    #[error("validator-set change at height {height} is not before the record's height {header}")]
    ChangeAfterHeader {
        /// The change's height.
        height: Height,
        /// The record header's height.
        header: Height,
    },
    /// A header listed as a change does not change the set.
    #[error("the header at height {height} does not change the validator set")]
    NotAChange {
        /// Its height.
        height: Height,
    },
    /// A change's certificate does not verify against the set in force.
    #[error("validator-set change at height {height}: {source}")]
    ChangeCertificate {
        /// Its height.
        height: Height,
        /// What failed.
        source: CertificateError,
    },
    /// A change's new set is not the one its header names.
    #[error("validator-set change at height {height}: the new set is not the one its header names")]
    NextSetMismatch {
        /// Its height.
        height: Height,
    },
    /// The record's header is not after the trusted point.
    #[error("the record's header at height {height} is not after the trusted height {trusted}")]
    HeaderNotAfterTrust {
        /// Its height.
        height: Height,
        /// The trusted height.
        trusted: Height,
    },
    /// The record's header is not proven final by the set reached.
    #[error("the record's header at height {height}: {source}")]
    HeaderCertificate {
        /// Its height.
        height: Height,
        /// What failed.
        source: CertificateError,
    },
    /// The state proof is about another entry than the record named.
    #[error("the state proof is not about {record}")]
    RecordMismatch {
        /// The record named.
        record: RecordKey,
    },
    /// The state proof does not verify against the header's state root.
    #[error("{0}")]
    StateProof(root::ProofError),
    /// The proven bytes do not decode as the record's type.
    #[error("the proven value of {record} does not decode: {detail}")]
    UndecodableValue {
        /// The record.
        record: RecordKey,
        /// Why.
        detail: String,
    },
}

/// Verifies `bundle` from the genesis (see the [module docs](self)).
pub fn verify(genesis: &Genesis, bundle: &ProofBundle) -> Result<VerifiedRecord, ProofError> {
    verify_from(&Checkpoint::from_genesis(genesis)?, bundle)
}

/// Verifies `bundle` from a trusted checkpoint.
pub fn verify_from(trusted: &Checkpoint, bundle: &ProofBundle) -> Result<VerifiedRecord, ProofError> {
    let chain = &trusted.chain;
    if &bundle.chain != chain {
        return Err(ProofError::WrongChain {
            bundle: format!("{} ({})", bundle.chain.chain_id, bundle.chain.genesis_hash),
            trusted: format!("{} ({})", chain.chain_id, chain.genesis_hash),
        });
    }
    let target = &bundle.header.header;
    if target.height <= trusted.height {
        return Err(ProofError::HeaderNotAfterTrust { height: target.height, trusted: trusted.height });
    }
    let mut set = trusted.validator_set.clone();
    let mut at = trusted.height;
    for change in &bundle.set_changes {
        let header = &change.certified.header;
        let height = header.height;
        if height <= at {
            return Err(ProofError::ChangeOutOfOrder { height, after: at });
        }
        if height >= target.height {
            return Err(ProofError::ChangeAfterHeader { height, header: target.height });
        }
        if header.validator_set_hash == header.next_validator_set_hash {
            return Err(ProofError::NotAChange { height });
        }
        verify_certificate(chain, header, &change.certified.certificate, &set)
            .map_err(|source| ProofError::ChangeCertificate { height, source })?;
        if change.next.hash(chain) != header.next_validator_set_hash {
            return Err(ProofError::NextSetMismatch { height });
        }
        set = change.next.clone();
        at = height;
    }
    verify_certificate(chain, target, &bundle.header.certificate, &set)
        .map_err(|source| ProofError::HeaderCertificate { height: target.height, source })?;

    let (table, key) = bundle.record.location();
    if bundle.state_proof.table != table.tag() || bundle.state_proof.key != key {
        return Err(ProofError::RecordMismatch { record: bundle.record.clone() });
    }
    bundle.state_proof.verify(&target.state_root).map_err(ProofError::StateProof)?;
    let value = match &bundle.state_proof.value {
        Some(bytes) => Some(
            bundle
                .record
                .decode_value(bytes)
                .map_err(|e| ProofError::UndecodableValue { record: bundle.record.clone(), detail: e.to_string() })?,
        ),
        None => None,
    };
    Ok(VerifiedRecord {
        record: bundle.record.clone(),
        value,
        height: target.height,
        block: target.hash(chain),
        time_ms: target.time_ms,
        state_root: target.state_root,
        set_changes: bundle.set_changes.len(),
        checkpoint: Checkpoint {
            chain: chain.clone(),
            height: Height(target.height.0.saturating_sub(1)),
            validator_set: set,
        },
    })
}
