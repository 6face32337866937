//! Catching up on finalised heights, sans-IO.
//!
//! A node learns that it is behind from the consensus messages sealers send: a vote or proposal for height `H`,
//! signed by a sealer of the set this node knows and sent by that sealer itself, means the sealer has committed
//! `H - 1` (the host checks the signature before telling the [`Syncer`], so no one can speak for a sealer). Any
//! one sealer may lie about its height: the **sync target** is the highest height that sealers holding more than
//! the set's fault tolerance of its weight have shown, so at least one honest sealer has it, and a coalition
//! below a third of the weight can neither make a node believe it is behind nor hold it there.
//!
//! When this node's next height is at or below the target, it asks one sealer that has shown the next height for
//! the (block, certificate) pairs from there on ([`SyncRequest`]), at most [`MAX_SYNC_BATCH`] at a time, one
//! request in flight, preferring sealers whose claim the target backs. The host applies a response's pairs in
//! order, each only after its certificate verifies against the validator set the host derived itself, and
//! re-executing the block over its own state gives the header's roots (see `Host::on_sync_response`).
//!
//! A node that was away while the sealers changed or rotated their keys may know none of the sealers that sign now.
//! So a peer's own message that this node cannot verify is kept as a **hint** of how far that peer is: hints never
//! count towards the target (nor the node's `syncing` status), but when no target reaches the next height, the
//! lowest hint that does is asked, under the same penalties. What it answers is verified like any response, and
//! once the node has caught up to a set it knows, verified claims take over.
//!
//! A peer that leaves a request unanswered for [`REQUEST_TIMEOUT_MS`], or answers with nothing usable, is not
//! asked again for a penalty that doubles with each failure in a row ([`REQUEST_TIMEOUT_MS`] × 2^n, at most
//! [`MAX_PENALTY_MS`]); a useful answer clears it. Peers are forgotten when they disconnect and when they leave
//! the validator set.
//!
//! The runtime delivers requests and responses: the simulator here, the p2p transport in production.

use std::collections::BTreeMap;

use governance_contracts::ids::{Height, NodeId};
use governance_contracts::types::block::{Block, CommitCertificate};

/// Most pairs asked for or sent in one response.
pub const MAX_SYNC_BATCH: u64 = 16;
/// How long a request may go unanswered before it is abandoned.
pub const REQUEST_TIMEOUT_MS: u64 = 2_000;
/// The longest a failing peer is left unasked.
pub const MAX_PENALTY_MS: u64 = 60_000;

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

/// What one sealer has shown.
#[derive(Debug, Clone, Copy)]
struct Claim {
    /// The highest height it has shown it committed.
    committed: Height,
    /// Its weight in the set this node knows.
    weight: u64,
}

/// A peer that failed this node: how many times in a row, and until when it is not asked.
#[derive(Debug, Clone, Copy)]
struct Penalty {
    failures: u32,
    until_ms: u64,
}

/// The syncing side's state: what sealers have shown, the request in flight, and the peers that failed it.
#[derive(Debug, Clone, Default)]
pub struct Syncer {
    claims: BTreeMap<NodeId, Claim>,
    /// Heights peers showed in messages this node could not verify (their own, at most one per peer).
    hints: BTreeMap<NodeId, Height>,
    /// The weight of the known set that may be faulty: the target needs more than this behind it.
    fault_tolerance: u64,
    in_flight: Option<InFlight>,
    penalties: BTreeMap<NodeId, Penalty>,
    requests: u64,
    applied: u64,
}

impl Syncer {
    /// A syncer that knows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sealer `peer`, of weight `weight` in a set that tolerates `fault_tolerance` faulty weight, signed and sent
    /// a consensus message for `height`: it has committed at least `height - 1`. Returns a request to send, if one
    /// is due for this node's next height `next`.
    pub fn observe(
        &mut self,
        peer: &NodeId,
        height: Height,
        weight: u64,
        fault_tolerance: u64,
        next: Height,
        now_ms: u64,
    ) -> Option<(NodeId, SyncRequest)> {
        let committed = Height(height.0.saturating_sub(1));
        self.fault_tolerance = fault_tolerance;
        let claim = self.claims.entry(peer.clone()).or_insert(Claim { committed, weight });
        claim.committed = claim.committed.max(committed);
        claim.weight = weight;
        self.poll(next, now_ms)
    }

    /// Peer `peer` sent its own message for `height` that this node cannot verify (its signer is not in the set
    /// this node knows, or signs with a key it does not know): kept as a hint. Returns a request, if one is due.
    pub fn hint(&mut self, peer: &NodeId, height: Height, next: Height, now_ms: u64) -> Option<(NodeId, SyncRequest)> {
        let committed = Height(height.0.saturating_sub(1));
        let hint = self.hints.entry(peer.clone()).or_insert(committed);
        *hint = (*hint).max(committed);
        self.poll(next, now_ms)
    }

    /// The highest height that sealers with more than the fault tolerance of weight have shown committed.
    pub fn target(&self) -> Option<Height> {
        let mut claims: Vec<Claim> = self.claims.values().copied().collect();
        claims.sort_by_key(|claim| std::cmp::Reverse(claim.committed));
        let mut weight = 0u64;
        for claim in claims {
            weight = weight.saturating_add(claim.weight);
            if weight > self.fault_tolerance {
                return Some(claim.committed);
            }
        }
        None
    }

    /// A request to send if the target reaches `next`, no request is in flight (or the one in flight timed out:
    /// its peer is penalised), and a sealer that has shown `next` is not penalised.
    pub fn poll(&mut self, next: Height, now_ms: u64) -> Option<(NodeId, SyncRequest)> {
        if let Some(flight) = self.in_flight.clone() {
            if now_ms < flight.deadline_ms && flight.request.to >= next {
                return None;
            }
            self.in_flight = None;
            if now_ms >= flight.deadline_ms {
                self.penalise(&flight.peer, now_ms);
            }
        }
        let free = |peer: &NodeId| self.penalties.get(peer).is_none_or(|p| p.until_ms <= now_ms);
        let Some(target) = self.target().filter(|target| *target >= next) else {
            // No verified target: the lowest hint past this node, if any.
            let (peer, shown) = self
                .hints
                .iter()
                .filter(|(peer, shown)| **shown >= next && free(peer))
                .min_by_key(|(_, shown)| **shown)
                .map(|(peer, shown)| (peer.clone(), *shown))?;
            let to = Height(shown.0.min(next.0.saturating_add(MAX_SYNC_BATCH.saturating_sub(1))));
            return Some(self.send(peer, SyncRequest { from: next, to }, now_ms));
        };
        let able = self.claims.iter().filter(|(peer, claim)| claim.committed >= next && free(peer));
        // Prefer the sealer furthest ahead among those the target backs; a claim above it is one no honest
        // weight confirms.
        let backed = able.clone().filter(|(_, claim)| claim.committed <= target).max_by_key(|(_, c)| c.committed);
        let (peer, claim) = backed.or_else(|| able.min_by_key(|(_, c)| c.committed))?;
        let (peer, shown) = (peer.clone(), claim.committed);
        let to = Height(shown.0.min(target.0).min(next.0.saturating_add(MAX_SYNC_BATCH.saturating_sub(1))));
        Some(self.send(peer, SyncRequest { from: next, to: to.max(next) }, now_ms))
    }

    fn send(&mut self, peer: NodeId, request: SyncRequest, now_ms: u64) -> (NodeId, SyncRequest) {
        self.in_flight =
            Some(InFlight { peer: peer.clone(), request, deadline_ms: now_ms.saturating_add(REQUEST_TIMEOUT_MS) });
        self.requests = self.requests.saturating_add(1);
        (peer, request)
    }

    fn penalise(&mut self, peer: &NodeId, now_ms: u64) {
        let penalty = self.penalties.entry(peer.clone()).or_insert(Penalty { failures: 0, until_ms: 0 });
        penalty.failures = penalty.failures.saturating_add(1);
        let wait = REQUEST_TIMEOUT_MS.saturating_mul(1u64 << penalty.failures.min(16)).min(MAX_PENALTY_MS);
        penalty.until_ms = now_ms.saturating_add(wait);
    }

    /// A response from `peer` arrived at `now_ms`; `applied` of its pairs were committed. Ends the request in
    /// flight to that peer; a response that applied nothing penalises the peer, one that applied some clears it.
    pub fn on_response(&mut self, peer: &NodeId, applied: u64, now_ms: u64) {
        if self.in_flight.as_ref().is_some_and(|f| &f.peer == peer) {
            self.in_flight = None;
        }
        self.applied = self.applied.saturating_add(applied);
        if applied == 0 {
            self.penalise(peer, now_ms);
        } else {
            self.penalties.remove(peer);
        }
    }

    /// Forgets `peer` (it disconnected): its claim, its hint, its penalty, and the request in flight to it.
    pub fn forget(&mut self, peer: &NodeId) {
        self.claims.remove(peer);
        self.hints.remove(peer);
        self.penalties.remove(peer);
        if self.in_flight.as_ref().is_some_and(|f| &f.peer == peer) {
            self.in_flight = None;
        }
    }

    /// Keeps only the peers `keep` says to (the connected peers).
    pub fn retain(&mut self, mut keep: impl FnMut(&NodeId) -> bool) {
        let known = self.claims.keys().chain(self.hints.keys()).chain(self.penalties.keys());
        let gone: Vec<NodeId> = known.filter(|p| !keep(p)).cloned().collect();
        for peer in gone {
            self.forget(&peer);
        }
    }

    /// Keeps only the claims of the sealers `keep` says to (those of a new validator set); what others showed
    /// stays as hints.
    pub fn retain_claims(&mut self, mut keep: impl FnMut(&NodeId) -> bool) {
        let gone: Vec<NodeId> = self.claims.keys().filter(|p| !keep(p)).cloned().collect();
        for peer in gone {
            if let Some(claim) = self.claims.remove(&peer) {
                let hint = self.hints.entry(peer).or_insert(claim.committed);
                *hint = (*hint).max(claim.committed);
            }
        }
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

    /// A sealer seen at a later height is asked for the missing heights, one request at a time, capped in size.
    #[test]
    fn asks_a_sealer_ahead_for_a_bounded_range() {
        let mut syncer = Syncer::new();
        assert_eq!(syncer.observe(&node("n1"), Height(3), 1, 0, Height(3), 0), None, "a peer at our height");
        let (peer, request) = syncer.observe(&node("n1"), Height(50), 1, 0, Height(3), 0).expect("n1 is ahead");
        assert_eq!(peer, node("n1"));
        assert_eq!(request, SyncRequest { from: Height(3), to: Height(18) });
        assert_eq!(syncer.observe(&node("n2"), Height(60), 1, 0, Height(3), 10), None, "one request in flight");
        syncer.on_response(&node("n1"), 16, 20);
        let (peer, request) = syncer.poll(Height(19), 20).expect("still behind");
        assert_eq!(peer, node("n2"), "the sealer furthest ahead is asked");
        assert_eq!(request.from, Height(19));
        assert_eq!(syncer.applied(), 16);
    }

    /// An unanswered request is abandoned after the timeout and its peer left unasked while another can be
    /// asked; a useless answer does the same, for longer each time in a row.
    #[test]
    fn a_silent_or_useless_peer_is_penalised_and_another_asked() {
        let mut syncer = Syncer::new();
        syncer.observe(&node("n1"), Height(10), 1, 0, Height(2), 0).expect("first request");
        syncer.observe(&node("n2"), Height(9), 1, 0, Height(2), 0);
        assert_eq!(syncer.poll(Height(2), REQUEST_TIMEOUT_MS - 1), None);
        let (peer, _) = syncer.poll(Height(2), REQUEST_TIMEOUT_MS).expect("timed out, another is asked");
        assert_eq!(peer, node("n2"));
        syncer.on_response(&node("n2"), 0, REQUEST_TIMEOUT_MS + 1);
        assert_eq!(syncer.poll(Height(2), REQUEST_TIMEOUT_MS + 2), None, "both are penalised");
        let (peer, _) = syncer.poll(Height(2), 3 * REQUEST_TIMEOUT_MS).expect("n1's penalty has run out");
        assert_eq!(peer, node("n1"));
    }

    /// A sealer below the fault tolerance cannot make the node believe it is behind, however far ahead it
    /// claims to be, and it is never preferred over sealers whose claims the target backs.
    #[test]
    fn a_lone_liar_sets_no_target_and_is_not_preferred() {
        let mut syncer = Syncer::new();
        // Four sealers of weight 1 tolerate one faulty.
        assert_eq!(syncer.observe(&node("liar"), Height(u64::MAX), 1, 1, Height(5), 0), None);
        assert_eq!(syncer.target(), None, "one sealer's word is not enough");
        let (peer, request) = syncer.observe(&node("a"), Height(9), 1, 1, Height(5), 0).expect("two sealers show 8");
        assert_eq!(syncer.target(), Some(Height(8)));
        assert_eq!(peer, node("a"), "the backed sealer is asked, not the liar");
        assert_eq!(request, SyncRequest { from: Height(5), to: Height(8) });
    }

    /// A forgotten peer's claim no longer counts towards the target, and leaving the set forgets it too.
    #[test]
    fn forgotten_peers_no_longer_count() {
        let mut syncer = Syncer::new();
        syncer.observe(&node("a"), Height(20), 1, 1, Height(5), 0);
        syncer.observe(&node("b"), Height(20), 1, 1, Height(5), 0);
        assert_eq!(syncer.target(), Some(Height(19)));
        syncer.forget(&node("a"));
        assert_eq!(syncer.target(), None);
        syncer.retain(|peer| peer != &node("b"));
        assert_eq!(syncer.poll(Height(5), 10_000), None);
    }

    /// Unverifiable hints never make a target, but when nothing verified reaches the next height the lowest hint
    /// past it is asked (a liar claiming the highest height is asked last).
    #[test]
    fn hints_are_asked_only_without_a_target_lowest_first() {
        let mut syncer = Syncer::new();
        assert!(syncer.hint(&node("liar"), Height(u64::MAX), Height(5), 0).is_some_and(|(p, _)| p == node("liar")));
        syncer.on_response(&node("liar"), 0, 1);
        let (peer, request) = syncer.hint(&node("new-sealer"), Height(40), Height(5), 2).expect("a hint past us");
        assert_eq!(peer, node("new-sealer"));
        assert_eq!(request, SyncRequest { from: Height(5), to: Height(20) });
        assert_eq!(syncer.target(), None, "hints never make a target");
        syncer.on_response(&node("new-sealer"), 16, 3);
        syncer.observe(&node("a"), Height(30), 1, 0, Height(21), 4).expect("a verified target takes over");
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
