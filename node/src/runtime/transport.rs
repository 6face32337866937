//! The seam between the runtime and the network: the runtime hands the host's `Broadcast` and `Send` outputs to a
//! [`Transport`] and feeds what it receives back to the host. Delivery is best effort (consensus tolerates loss and
//! asks again), so sending never fails the node.
//!
//! Today there is [`NoPeers`], for a single-node chain. A TCP transport with the authenticated handshake, and an
//! in-process transport joining several runtimes over channels (for multi-node tests), implement the same trait.

use std::collections::BTreeMap;
use std::future::Future;

use governance_contracts::crypto::SecretKey;
use governance_contracts::ids::{Height, NodeId};

use crate::consensus::host::NetMessage;

/// How a node's messages reach its peers and theirs reach it.
pub trait Transport {
    /// Sends `message` to every connected peer.
    fn broadcast(&mut self, message: NetMessage);

    /// Sends `message` to `to`, if connected.
    fn send(&mut self, to: &NodeId, message: NetMessage);

    /// Sends `message` to every connected peer but `except` (the one a relayed message came from).
    fn broadcast_except(&mut self, except: &NodeId, message: NetMessage);

    /// The next message from a peer, with the peer's (authenticated) id; `None` once the transport has closed for
    /// good. Must be cancel-safe: the runtime polls it beside its timers and drops it when they fire first.
    fn recv(&mut self) -> impl Future<Output = Option<(NodeId, NetMessage)>>;

    /// Height `height` was committed: re-check every peer against the new state (dropping those no longer
    /// admitted) and refresh whom to dial.
    fn on_committed(&mut self, _height: Height) {}

    /// The node's own key changed (its rotation took effect): prove this one to peers from now on.
    fn set_key(&mut self, _key: SecretKey) {}

    /// The connected peers.
    fn peers(&self) -> Vec<PeerSummary> {
        Vec::new()
    }

    /// What the transport counted.
    fn stats(&self) -> TransportStats {
        TransportStats::default()
    }
}

/// A connected peer, as the node's status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSummary {
    /// Its node id.
    pub node: NodeId,
    /// Its socket address.
    pub address: String,
    /// Whether this node dialled it.
    pub outbound: bool,
}

/// What a transport counted, as the node's status and metrics show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Peers refused at the handshake or dropped after a block, by reason.
    pub refused: BTreeMap<String, u64>,
    /// Connections dropped for malformed input.
    pub garbage_disconnects: u64,
    /// Messages dropped because a peer's queue was full.
    pub dropped_sends: u64,
    /// The same, by message kind.
    pub dropped_sends_by_kind: BTreeMap<String, u64>,
    /// Received messages dropped because their lane's inbound budget was spent, by kind.
    pub dropped_received_by_kind: BTreeMap<String, u64>,
}

/// A transport without peers: messages go nowhere and none arrive. A single sealer decides alone with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPeers;

impl Transport for NoPeers {
    fn broadcast(&mut self, _message: NetMessage) {}

    fn broadcast_except(&mut self, _except: &NodeId, _message: NetMessage) {}

    fn send(&mut self, to: &NodeId, _message: NetMessage) {
        tracing::debug!(peer = %to, "no transport to peers: message dropped");
    }

    async fn recv(&mut self) -> Option<(NodeId, NetMessage)> {
        std::future::pending().await
    }
}
