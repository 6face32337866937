//! The seam between the runtime and the network: the runtime hands the host's `Broadcast` and `Send` outputs to a
//! [`Transport`] and feeds what it receives back to the host. Delivery is best effort (consensus tolerates loss and
//! asks again), so sending never fails the node.
//!
//! Today there is [`NoPeers`], for a single-node chain. A TCP transport with the authenticated handshake, and an
//! in-process transport joining several runtimes over channels (for multi-node tests), implement the same trait.

use std::future::Future;

use governance_contracts::ids::NodeId;

use crate::consensus::host::NetMessage;

/// How a node's messages reach its peers and theirs reach it.
pub trait Transport {
    /// Sends `message` to every connected peer.
    fn broadcast(&mut self, message: NetMessage);

    /// Sends `message` to `to`, if connected.
    fn send(&mut self, to: &NodeId, message: NetMessage);

    /// The next message from a peer, with the peer's (authenticated) id; `None` once the transport has closed for
    /// good. Must be cancel-safe: the runtime polls it beside its timers and drops it when they fire first.
    fn recv(&mut self) -> impl Future<Output = Option<(NodeId, NetMessage)>>;
}

/// A transport without peers: messages go nowhere and none arrive. A single sealer decides alone with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPeers;

impl Transport for NoPeers {
    fn broadcast(&mut self, _message: NetMessage) {}

    fn send(&mut self, to: &NodeId, _message: NetMessage) {
        tracing::debug!(peer = %to, "no transport to peers: message dropped");
    }

    async fn recv(&mut self) -> Option<(NodeId, NetMessage)> {
        std::future::pending().await
    }
}
