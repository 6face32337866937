//! The Synod node.
//!
//! - [`storage`]: RocksDB with column families for blocks, certificates, state, indexes, evidence and consensus
//!   metadata; one atomic, synced write per block.
//! - [`consensus`]: the host around Malachite's Tendermint core, behind one narrow boundary.
//! - [`mempool`]: transactions admitted at the door by the same checks execution runs.
//! - [`p2p`]: the TCP transport between nodes: Noise XX handshake bound to node keys admitted by governance.
//! - [`runtime`]: the tokio runtime that drives one node's host over RocksDB, and `synod run`.
//! - [`sim`]: the deterministic simulation of a cluster of nodes.
//! - [`cli`]: the offline commands: keys, the genesis ceremony, proposals, approvals and transactions as files.
//! - [`client`]: the commands that talk to a running node over HTTP: status, reads, `tx submit`, `tx wait`, proofs.
//! - [`bench`]: `synod bench`, throughput and approval latency of an in-process cluster against the ed25519 limit.
//! - [`localnet`]: a local network's keys, genesis and node homes (`synod up`, the e2e harness).
//! - [`proofs`]: offline-verifiable proofs of one governance record, built from the store.
//! - [`rpc`]: the node's HTTP API: state, chain, proofs, submission, events, metrics, OpenAPI.
//! - [`failpoint`]: named points where a crash test freezes a real process to SIGKILL it.
//! - [`byzantine`], [`hostile`]: a sealer that equivocates and an observer that floods, for the fault suite only.

pub mod bench;
pub mod byzantine;
pub mod cli;
pub mod client;
pub mod consensus;
pub mod failpoint;
pub mod hostile;
pub mod localnet;
pub mod mempool;
pub mod p2p;
pub mod proofs;
pub mod rpc;
pub mod runtime;
pub mod sim;
pub mod storage;
