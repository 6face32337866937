//! Identifier and counter newtypes. Account and node ids are names chosen at creation and never change: keys rotate
//! underneath them.

use core::fmt;
use core::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::codec::{Name, TextError};
use crate::crypto::Digest;

macro_rules! name_id {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $ty(pub Name);

        impl $ty {
            /// Validates `text` as an id (see [`Name`]).
            pub fn new(text: impl Into<String>) -> Result<Self, TextError> {
                Name::new(text).map(Self)
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self.0)
            }
        }

        impl FromStr for $ty {
            type Err = TextError;
            fn from_str(s: &str) -> Result<Self, TextError> {
                Self::new(s)
            }
        }
    };
}

name_id!(
    /// A member organisation of the alliance.
    MemberId
);
name_id!(
    /// An account: a person or application of a member, with one current key.
    AccountId
);
name_id!(
    /// A node (observer or sealer), with one current key.
    NodeId
);
name_id!(
    /// A role: built in (`compliance`, `operator`, `auditor`, `console`) or defined by the alliance.
    RoleId
);

impl RoleId {
    /// Grants and revokes delegable roles, freezes and unfreezes ordinary accounts.
    pub fn compliance() -> Self {
        Self::new("compliance").expect("valid name")
    }
    /// Operates the member's nodes: routine key rotation, address changes.
    pub fn operator() -> Self {
        Self::new("operator").expect("valid name")
    }
    /// Reads everything, approves nothing.
    pub fn auditor() -> Self {
        Self::new("auditor").expect("valid name")
    }
    /// Anchors one console's audit trail on chain, and does nothing else (see `contracts::anchors`).
    pub fn console() -> Self {
        Self::new("console").expect("valid name")
    }
    /// Whether the role is one of the four built in.
    pub fn is_builtin(&self) -> bool {
        [Self::compliance(), Self::operator(), Self::auditor(), Self::console()].contains(self)
    }
}

macro_rules! digest_id {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize,
            Deserialize,
        )]
        #[serde(transparent)]
        pub struct $ty(pub Digest);

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self.0)
            }
        }

        impl FromStr for $ty {
            type Err = crate::crypto::KeyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

digest_id!(
    /// A governance proposal's id: its approval digest (what every approver signs).
    ProposalId
);
digest_id!(
    /// A transaction's hash: its signing digest.
    TxHash
);
digest_id!(
    /// A block's hash: the digest of its header.
    BlockHash
);

/// A block height. Genesis state is height 0; the first block is height 1.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    /// `self + blocks`, saturating (heights never wrap).
    pub fn plus(self, blocks: u64) -> Self {
        Self(self.0.saturating_add(blocks))
    }

    /// Blocks from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Height) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Big-endian bytes, so that keys sort by height.
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A voting or consensus weight.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Weight(pub u64);

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The largest weight one member or node may have. With at most 1,024 members or sealers, totals stay far below
/// `u64::MAX / 3`, so threshold arithmetic in `u128` never overflows and the consensus core's never panics.
pub const MAX_WEIGHT: u64 = 1 << 40;
