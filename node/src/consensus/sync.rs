//! Catching up on finalised heights, sans-IO.
//!
//! A node learns that it is behind from the consensus messages peers send: a vote or proposal for height `H`
//! means its sender has committed `H - 1`. When this node's next height is below that, it asks that peer for the
//! (block, certificate) pairs from its next height on ([`SyncRequest`]), at most [`MAX_SYNC_BATCH`] at a time, one
//! request in flight. The host applies a response's pairs in order, each only after its certificate verifies
//! against the validator set the host derived itself from its own replay of the chain, and re-executing the block
//! over its own state gives the header's roots (see `Host::on_sync_response`). A request that goes unanswered for
//! [`REQUEST_TIMEOUT_MS`] is abandoned, and the next sign of a peer ahead starts a new one (perhaps to another
//! peer). A peer that answers with nothing usable is skipped until another peer has been tried.
//!
//! The runtime delivers requests and responses: the simulator here, the p2p transport in production.

use std::collections::BTreeMap;

use governance_contracts::ids::{Height, NodeId};
use governance_contracts::types::block::{Block, CommitCertificate};

/// Most pairs asked for or sent in one response.
pub const MAX_SYNC_BATCH: u64 = 16;
/// How long a request may go unanswered before it is abandoned.
pub const REQUEST_TIMEOUT_MS: u64 = 2_000;

/// A request for finalised heights `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRequest {
    /// The first height wanted.
    pub from: Height,
    /// The last height wanted (at most [`MAX_SYNC_BATCH`] after `from`).
    pub to: Height,
}

/// One finalised height as sent to a syncing peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

#[derive(Debug, Clone)]
struct InFlight {
    peer: NodeId,
    request: SyncRequest,
    deadline_ms: u64,
}

/// The syncing side's state: what peers are known to have, and the request in flight.
#[derive(Debug, Clone, Default)]
pub struct Syncer {
    /// The highest committed height each peer is known to have.
    peers: BTreeMap<NodeId, Height>,
    in_flight: Option<InFlight>,
    /// A peer whose last answer was useless, skipped while another can be asked.
    skipped: Option<NodeId>,
    requests: u64,
    applied: u64,
}

impl Syncer {
    /// A syncer that knows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `peer` sent a consensus message for `height`: it has committed at least `height - 1`. Returns a request to
    /// send to a peer ahead of `next` (this node's next height), if one is due.
    pub fn observe(
        &mut self,
        peer: &NodeId,
        height: Height,
        next: Height,
        now_ms: u64,
    ) -> Option<(NodeId, SyncRequest)> {
        let committed = Height(height.0.saturating_sub(1));
        let known = self.peers.entry(peer.clone()).or_insert(committed);
        if committed > *known {
            *known = committed;
        }
        self.poll(next, now_ms)
    }

    /// A request to send if some peer has committed `next` or more and no request is in flight (or the one in
    /// flight timed out).
    pub fn poll(&mut self, next: Height, now_ms: u64) -> Option<(NodeId, SyncRequest)> {
        if let Some(flight) = &self.in_flight {
            if now_ms < flight.deadline_ms && flight.request.to >= next {
                return None;
            }
            self.in_flight = None;
        }
        let skipped = self.skipped.as_ref();
        let best = self
            .peers
            .iter()
            .filter(|(peer, height)| **height >= next && Some(*peer) != skipped)
            .max_by_key(|(_, height)| **height)
            .or_else(|| self.peers.iter().filter(|(_, height)| **height >= next).max_by_key(|(_, height)| **height))?;
        let (peer, height) = (best.0.clone(), *best.1);
        let to = Height(height.0.min(next.0.saturating_add(MAX_SYNC_BATCH.saturating_sub(1))));
        let request = SyncRequest { from: next, to };
        self.in_flight =
            Some(InFlight { peer: peer.clone(), request, deadline_ms: now_ms.saturating_add(REQUEST_TIMEOUT_MS) });
        self.requests = self.requests.saturating_add(1);
        Some((peer, request))
    }

    /// A response from `peer` arrived; `applied` of its pairs were committed. Ends the request in flight.
    pub fn on_response(&mut self, peer: &NodeId, applied: u64) {
        if self.in_flight.as_ref().is_some_and(|f| &f.peer == peer) {
            self.in_flight = None;
        }
        self.applied = self.applied.saturating_add(applied);
        self.skipped = if applied == 0 { Some(peer.clone()) } else { None };
    }

    /// The highest committed height any peer has shown.
    pub fn best_known(&self) -> Option<Height> {
        self.peers.values().max().copied()
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Heights committed through sync so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

/// The heights to serve for `request` when this node has committed `committed`: `from..=min(to, committed)`,
/// capped at [`MAX_SYNC_BATCH`]; empty if the request is backwards or asks for nothing this node has.
pub fn serve_range(request: SyncRequest, committed: Height) -> impl Iterator<Item = Height> {
    let last = request.to.0.min(committed.0).min(request.from.0.saturating_add(MAX_SYNC_BATCH.saturating_sub(1)));
    let first = request.from.0.max(1);
    (first..=last).map(Height)
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit::node;

    use super::*;

    /// A peer seen at a later height is asked for the missing heights, one request at a time, capped in size.
    #[test]
    fn asks_a_peer_ahead_for_a_bounded_range() {
        let mut syncer = Syncer::new();
        assert_eq!(syncer.observe(&node("n1"), Height(3), Height(3), 0), None, "a peer at our height is not ahead");
        let (peer, request) = syncer.observe(&node("n1"), Height(50), Height(3), 0).expect("n1 is ahead");
        assert_eq!(peer, node("n1"));
        assert_eq!(request, SyncRequest { from: Height(3), to: Height(18) });
        assert_eq!(syncer.observe(&node("n2"), Height(60), Height(3), 10), None, "one request in flight");
        syncer.on_response(&node("n1"), 16);
        let (peer, request) = syncer.poll(Height(19), 20).expect("still behind");
        assert_eq!(peer, node("n2"), "the peer furthest ahead is asked");
        assert_eq!(request.from, Height(19));
        assert_eq!(syncer.applied(), 16);
    }

    /// An unanswered request is abandoned after the timeout, and a useless answer makes another peer preferred.
    #[test]
    fn times_out_and_skips_a_useless_peer() {
        let mut syncer = Syncer::new();
        syncer.observe(&node("n1"), Height(10), Height(2), 0).expect("first request");
        syncer.observe(&node("n2"), Height(9), Height(2), 0);
        assert_eq!(syncer.poll(Height(2), REQUEST_TIMEOUT_MS - 1), None);
        let (peer, _) = syncer.poll(Height(2), REQUEST_TIMEOUT_MS).expect("timed out, asked again");
        assert_eq!(peer, node("n1"));
        syncer.on_response(&node("n1"), 0);
        let (peer, _) = syncer.poll(Height(2), REQUEST_TIMEOUT_MS + 1).expect("asks another peer");
        assert_eq!(peer, node("n2"));
    }

    /// Serving never goes past what is committed or the batch cap, and a backwards request gets nothing.
    #[test]
    fn serves_only_committed_heights_in_bounded_batches() {
        let range = |from, to, committed| -> Vec<u64> {
            serve_range(SyncRequest { from: Height(from), to: Height(to) }, Height(committed)).map(|h| h.0).collect()
        };
        assert_eq!(range(3, 5, 10), vec![3, 4, 5]);
        assert_eq!(range(3, 50, 10), (3..=10).collect::<Vec<_>>());
        assert_eq!(range(1, 100, 100).len(), 16);
        assert!(range(7, 3, 10).is_empty());
        assert!(range(11, 20, 10).is_empty());
        assert_eq!(range(0, 2, 10), vec![1, 2]);
    }
}
