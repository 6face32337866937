//! Synod's governance heart: the protocol types every party verifies and the governance contracts every node
//! applies.
//!
//! Pure and deterministic: no I/O, no clock, no randomness, no threads. The same input gives the same output on
//! every node and in the browser (the crate builds for `wasm32-unknown-unknown`). Time (block height and time) and
//! keys come in as inputs; state comes through the [`state::Store`] trait.
//!
//! - [`codec`]: the canonical encoding (borsh) and bounded types for untrusted input.
//! - [`crypto`], [`domain`]: scheme-tagged keys, signatures and hashes; signing domains.
//! - [`ids`], [`types`]: identifiers, actions, proposals, transactions, receipts, genesis, headers, certificates.
//! - [`state`]: tables, overlays, the in-memory store, the state root and its proofs.
//! - [`contracts`]: `committee`, `policy`, `proposals`, `nodes`, `roles`, `accounts`, `params`.
//! - [`execution`]: what the node calls: `check_transaction`, `apply_block`, `dry_run`, `may_connect`,
//!   `validator_set`, `apply_genesis`.
//! - [`invariants`]: properties that hold after every apply.
//! - [`text`]: the rule for text a signer reads (no hidden, reordering or look-alike characters) and for node
//!   network addresses.

pub mod codec;
pub mod contracts;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod execution;
pub mod ids;
pub mod invariants;
pub mod state;
pub mod testkit;
pub mod text;
pub mod types;

pub use error::{Error, Rejection};
