//! The transport's queues, bounded by bytes: no peer, however fast it sends or however slowly it reads, makes the
//! node hold more than that peer's budget, and all peers together stay within the node's.
//!
//! A message is counted at its encoded size plus [`super::MESSAGE_OVERHEAD_BYTES`], so that many small messages are
//! bounded as well as a few large ones.
//!
//! **Inbound** ([`Inbound`]): each peer's received messages wait in that peer's own queue, and
//! [`Inbound::recv`] takes one message from each peer with messages waiting in turn, so a busy peer delays another
//! peer's message by at most one of its own per turn. Before queueing a message, a peer's reader reserves its bytes
//! from the peer's budget and then from the node's total; while either is spent, that reader waits and reads
//! nothing more from its connection (the peer's TCP window fills, and its own outbound queue drops). Other peers'
//! readers go on from their own budgets; the total is granted in the order readers asked for it, so a reader
//! waiting for it is served as soon as earlier requests are.
//!
//! **Outbound** ([`Outbound`], [`PeerOutbound`]): each connection's frames wait in its own queue for its writer. A
//! frame is queued only while all queued frames together stay within the node's total (a frame queued for several
//! peers is held, and counted, once) and, for each peer, while that peer's queued frames stay within its budget;
//! otherwise it is not queued for that peer and the caller counts the drop.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use governance_contracts::ids::NodeId;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::consensus::host::NetMessage;

/// Bytes reserved for one received message, from its peer's budget and from the node's total; given back when
/// dropped.
pub(super) struct Reservation {
    bytes: usize,
    _peer: OwnedSemaphorePermit,
    _total: OwnedSemaphorePermit,
}

/// The inbound budget is closed: the transport is stopping.
#[derive(Debug)]
pub(super) struct Stopped;

struct Waiting {
    message: NetMessage,
    reservation: Reservation,
}

struct PeerInbound {
    budget: Arc<Semaphore>,
    waiting: VecDeque<Waiting>,
    bytes: usize,
    peak: usize,
}

#[derive(Default)]
struct InboundState {
    /// One entry per node that has connected (admitted nodes only), kept so that a reconnecting peer finds its
    /// budget as its messages still waiting left it.
    peers: BTreeMap<NodeId, PeerInbound>,
    /// The peers with messages waiting, in the order [`Inbound::recv`] serves them.
    turns: VecDeque<NodeId>,
    bytes: usize,
}

/// Received messages waiting for the runtime, per peer, bounded by bytes.
pub(super) struct Inbound {
    peer_bytes: usize,
    total: Arc<Semaphore>,
    state: Mutex<InboundState>,
    ready: Notify,
}

/// What the inbound queues hold: in all, by peer, and the most each peer has held at once.
pub(super) struct InboundGauges {
    pub(super) bytes: usize,
    pub(super) by_peer: BTreeMap<NodeId, usize>,
    pub(super) peak_by_peer: BTreeMap<NodeId, usize>,
}

fn permits(bytes: usize) -> u32 {
    // The limits bound every budget to u32::MAX bytes (`P2pLimits::validate`), and a reservation to a budget.
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl Inbound {
    /// Queues with `peer_bytes` per peer and `total_bytes` in all (at most `u32::MAX` each).
    pub(super) fn new(peer_bytes: usize, total_bytes: usize) -> Self {
        Self {
            peer_bytes,
            total: Arc::new(Semaphore::new(total_bytes)),
            state: Mutex::new(InboundState::default()),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, InboundState> {
        // A panic while holding the lock leaves queues and counts behind, still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn budget(&self, peer: &NodeId) -> Arc<Semaphore> {
        let mut state = self.lock();
        let queue = state.peers.entry(peer.clone()).or_insert_with(|| PeerInbound {
            budget: Arc::new(Semaphore::new(self.peer_bytes)),
            waiting: VecDeque::new(),
            bytes: 0,
            peak: 0,
        });
        Arc::clone(&queue.budget)
    }

    /// Reserves `bytes` (at most the peer budget) for a message from `peer` if both budgets allow it at once.
    pub(super) fn try_reserve(&self, peer: &NodeId, bytes: usize) -> Option<Reservation> {
        let bytes = bytes.min(self.peer_bytes);
        let own = self.budget(peer).try_acquire_many_owned(permits(bytes)).ok()?;
        let total = Arc::clone(&self.total).try_acquire_many_owned(permits(bytes)).ok()?;
        Some(Reservation { bytes, _peer: own, _total: total })
    }

    /// Reserves `bytes` (at most the peer budget) for a message from `peer`, waiting until the peer's budget and
    /// then the total allow it.
    pub(super) async fn reserve(&self, peer: &NodeId, bytes: usize) -> Result<Reservation, Stopped> {
        let bytes = bytes.min(self.peer_bytes);
        let own = self.budget(peer).acquire_many_owned(permits(bytes)).await.map_err(|_| Stopped)?;
        let total = Arc::clone(&self.total).acquire_many_owned(permits(bytes)).await.map_err(|_| Stopped)?;
        Ok(Reservation { bytes, _peer: own, _total: total })
    }

    /// Queues `message` from `peer` under its reservation.
    pub(super) fn push(&self, peer: &NodeId, message: NetMessage, reservation: Reservation) {
        let bytes = reservation.bytes;
        {
            let mut state = self.lock();
            state.bytes = state.bytes.saturating_add(bytes);
            let queue = state.peers.entry(peer.clone()).or_insert_with(|| PeerInbound {
                budget: Arc::new(Semaphore::new(self.peer_bytes)),
                waiting: VecDeque::new(),
                bytes: 0,
                peak: 0,
            });
            let first = queue.waiting.is_empty();
            queue.waiting.push_back(Waiting { message, reservation });
            queue.bytes = queue.bytes.saturating_add(bytes);
            queue.peak = queue.peak.max(queue.bytes);
            if first {
                state.turns.push_back(peer.clone());
            }
        }
        self.ready.notify_one();
    }

    fn pop(&self) -> Option<(NodeId, NetMessage)> {
        let mut state = self.lock();
        while let Some(peer) = state.turns.pop_front() {
            let Some(queue) = state.peers.get_mut(&peer) else { continue };
            let Some(Waiting { message, reservation }) = queue.waiting.pop_front() else { continue };
            queue.bytes = queue.bytes.saturating_sub(reservation.bytes);
            let more = !queue.waiting.is_empty();
            state.bytes = state.bytes.saturating_sub(reservation.bytes);
            if more {
                state.turns.push_back(peer.clone());
            }
            drop(state);
            // The reservation gives its bytes back here, waking a reader that waits for them.
            drop(reservation);
            return Some((peer, message));
        }
        None
    }

    /// The next message, from each peer with messages waiting in turn. Cancel-safe: a message is taken only when
    /// it is returned.
    pub(super) async fn recv(&self) -> (NodeId, NetMessage) {
        loop {
            if let Some(next) = self.pop() {
                return next;
            }
            // A push between the pop above and this wait leaves a stored notification: nothing is missed.
            self.ready.notified().await;
        }
    }

    /// What the queues hold.
    pub(super) fn gauges(&self) -> InboundGauges {
        let state = self.lock();
        InboundGauges {
            bytes: state.bytes,
            by_peer: state.peers.iter().map(|(peer, q)| (peer.clone(), q.bytes)).collect(),
            peak_by_peer: state.peers.iter().map(|(peer, q)| (peer.clone(), q.peak)).collect(),
        }
    }
}

/// A frame waiting to be written to one or more peers: counted once in the node's outbound total, until the last
/// of them is done with it.
pub(super) struct OutFrame {
    payload: Vec<u8>,
    bytes: usize,
    total: Arc<AtomicUsize>,
}

impl OutFrame {
    /// The frame's payload.
    pub(super) fn payload(&self) -> &[u8] {
        &self.payload
    }
}

impl Drop for OutFrame {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// Adds `bytes` to `counter` if the sum stays within `limit`; returns the new sum.
fn add_within(counter: &AtomicUsize, bytes: usize, limit: usize) -> Option<usize> {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| now.checked_add(bytes).filter(|sum| *sum <= limit))
        .ok()
        .map(|before| before.saturating_add(bytes))
}

/// The node's outbound total.
pub(super) struct Outbound {
    limit: usize,
    total: Arc<AtomicUsize>,
}

impl Outbound {
    /// A total of at most `limit` bytes.
    pub(super) fn new(limit: usize) -> Self {
        Self { limit, total: Arc::new(AtomicUsize::new(0)) }
    }

    /// `payload` as a frame counted at `bytes` in the total, or `None` if the total has no room for it.
    pub(super) fn frame(&self, payload: Vec<u8>, bytes: usize) -> Option<Arc<OutFrame>> {
        add_within(&self.total, bytes, self.limit)?;
        Some(Arc::new(OutFrame { payload, bytes, total: Arc::clone(&self.total) }))
    }

    /// Bytes of frames waiting.
    pub(super) fn bytes(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

/// One connection's outbound queue, on the sending side.
pub(super) struct PeerOutbound {
    sender: mpsc::UnboundedSender<Arc<OutFrame>>,
    bytes: Arc<AtomicUsize>,
    peak: AtomicUsize,
    limit: usize,
}

/// One connection's outbound queue, on its writer's side.
pub(super) struct PeerOutboundReceiver {
    receiver: mpsc::UnboundedReceiver<Arc<OutFrame>>,
    bytes: Arc<AtomicUsize>,
}

/// A connection's outbound queue of at most `limit` bytes.
pub(super) fn peer_outbound(limit: usize) -> (PeerOutbound, PeerOutboundReceiver) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let bytes = Arc::new(AtomicUsize::new(0));
    (
        PeerOutbound { sender, bytes: Arc::clone(&bytes), peak: AtomicUsize::new(0), limit },
        PeerOutboundReceiver { receiver, bytes },
    )
}

impl PeerOutbound {
    /// Queues `frame` if the peer's budget has room for it; `false` if not (or if the writer has stopped).
    pub(super) fn try_push(&self, frame: &Arc<OutFrame>) -> bool {
        let Some(now) = add_within(&self.bytes, frame.bytes, self.limit) else { return false };
        if self.sender.send(Arc::clone(frame)).is_err() {
            self.bytes.fetch_sub(frame.bytes, Ordering::SeqCst);
            return false;
        }
        self.peak.fetch_max(now, Ordering::SeqCst);
        true
    }

    /// Bytes waiting.
    pub(super) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }

    /// The most bytes that have waited at once.
    pub(super) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl PeerOutboundReceiver {
    /// The next frame to write; `None` once the sending side is gone.
    pub(super) async fn recv(&mut self) -> Option<Arc<OutFrame>> {
        self.receiver.recv().await
    }

    /// `frame` was written (or failed): its bytes leave the peer's budget.
    pub(super) fn done(&self, frame: &OutFrame) {
        self.bytes.fetch_sub(frame.bytes, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::ids::Height;
    use governance_contracts::testkit::node;

    use super::*;
    use crate::consensus::sync::SyncRequest;

    fn message(n: u64) -> NetMessage {
        NetMessage::SyncRequest(SyncRequest { from: Height(n), to: Height(n) })
    }

    /// A peer's reservations stop at its budget and all peers' at the total; taking a message gives its bytes
    /// back.
    #[test]
    fn reservations_stop_at_the_budgets() {
        let inbound = Inbound::new(100, 150);
        let (a, b) = (node("n1"), node("n2"));
        let first = inbound.try_reserve(&a, 60).unwrap();
        assert!(inbound.try_reserve(&a, 60).is_none(), "a's budget");
        let second = inbound.try_reserve(&b, 60).unwrap();
        assert!(inbound.try_reserve(&b, 40).is_none(), "the total");
        inbound.push(&a, message(1), first);
        inbound.push(&b, message(2), second);
        assert_eq!(inbound.gauges().bytes, 120);
        assert_eq!(inbound.pop().map(|(peer, _)| peer), Some(a.clone()));
        assert_eq!(inbound.gauges().bytes, 60);
        assert!(inbound.try_reserve(&b, 40).is_some());
    }

    /// Messages are taken from each peer with messages waiting in turn, each peer's in the order they came.
    #[test]
    fn peers_are_served_in_turn() {
        let inbound = Inbound::new(1_000, 10_000);
        let (a, b) = (node("n1"), node("n2"));
        for n in 0..3 {
            let reservation = inbound.try_reserve(&a, 10).unwrap();
            inbound.push(&a, message(n), reservation);
        }
        let reservation = inbound.try_reserve(&b, 10).unwrap();
        inbound.push(&b, message(9), reservation);
        let order: Vec<(NodeId, NetMessage)> = std::iter::from_fn(|| inbound.pop()).collect();
        let expected = vec![(a.clone(), message(0)), (b, message(9)), (a.clone(), message(1)), (a, message(2))];
        assert_eq!(order, expected);
        let gauges = inbound.gauges();
        assert_eq!((gauges.bytes, gauges.peak_by_peer[&node("n1")]), (0, 30));
    }

    /// A frame is queued for a peer only within the peer's budget and the total, and a frame queued for several
    /// peers counts once in the total until the last of them is done with it.
    #[test]
    fn outbound_budgets() {
        let outbound = Outbound::new(250);
        let (a, mut a_writer) = peer_outbound(200);
        let (b, b_writer) = peer_outbound(200);
        let frame = outbound.frame(vec![1; 10], 100).unwrap();
        assert!(a.try_push(&frame) && b.try_push(&frame));
        assert!(a.try_push(&outbound.frame(vec![2; 10], 100).unwrap()));
        assert!(!a.try_push(&outbound.frame(vec![3; 10], 40).unwrap()), "a's budget");
        assert_eq!(outbound.bytes(), 200);
        assert!(outbound.frame(vec![4; 10], 60).is_none(), "the total");
        drop(frame);
        let written = a_writer.receiver.try_recv().unwrap();
        a_writer.done(&written);
        drop(written);
        assert_eq!((a.bytes(), a.peak(), outbound.bytes()), (100, 200, 200), "b's queue still holds the first frame");
        drop(b_writer);
        assert_eq!((b.bytes(), outbound.bytes()), (100, 100), "b's queue is gone, a's second frame waits");
    }
}
