//! The consensus host around Malachite's Tendermint core, behind one narrow boundary: nothing outside this module
//! names a Malachite type except through [`host`]'s messages.
//!
//! - [`context`]: the core's `Context` for Synod (heights, node-id addresses, block-hash values, votes and
//!   proposals signed over the protocol's digests, validator sets, ed25519).
//! - [`verify`]: the certificate checks the core delegates.
//! - [`host`]: the sans-IO host: inputs in, outputs out.
//! - [`store`]: what the host needs from storage (the RocksDB store and an in-memory one implement it).
//! - [`wal`]: the consensus write-ahead log: its entries and trait.
//! - [`evidence`]: equivocation evidence, stored and self-proving.
//! - [`sync`]: catching up on finalised heights from peers, sans-IO.

pub mod context;
pub mod evidence;
pub mod host;
pub mod signatures;
pub mod store;
pub mod sync;
pub mod verify;
pub mod wal;
