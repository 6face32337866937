//! The protocol types every party shares: actions, proposals, transactions, receipts, events, parameters,
//! genesis, headers and certificates, and offline-verifiable proofs of governance records.

pub mod action;
pub mod block;
pub mod genesis;
pub mod params;
pub mod policy;
pub mod proof;
pub mod proposal;
pub mod receipt;
pub mod session;
pub mod transaction;

pub use action::*;
pub use block::*;
pub use genesis::*;
pub use params::*;
pub use policy::*;
pub use proof::{
    CertifiedHeader, Checkpoint, ProofBundle, ProofError, RecordKey, RecordValue, ValidatorSetChange, VerifiedRecord,
};
pub use proposal::*;
pub use receipt::*;
pub use session::*;
pub use transaction::*;
