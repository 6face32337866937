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
//!
//! **Two lanes** ([`Lane`]): consensus messages (proposals, votes, blocks, certificates, sync) and relayed
//! transactions wait in separate queues with separate budgets, inbound and outbound, and a consensus message always
//! goes first: the runtime takes one whenever any peer has one waiting, and a writer sends one whenever one is
//! queued. Transactions fill only their own budgets, so a flood of them can neither delay nor crowd out a vote or a
//! block. A reader never waits for transaction budget: a relayed batch that finds its lane full is dropped and
//! counted (the sender still holds those transactions and proposes them itself), while a consensus message waits
//! for room as before. Each lane has the configured budgets, so the queues hold at most twice the configured bytes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use governance_contracts::ids::NodeId;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use super::wire::MessageKind;
use crate::consensus::host::NetMessage;

/// The two queues every budget is split into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    /// Proposals, votes, blocks, certificates and sync: what consensus needs to move on.
    Consensus = 0,
    /// Relayed transactions.
    Transactions = 1,
}

impl Lane {
    /// Both lanes, consensus first: the order queues are served in.
    const BOTH: [Lane; 2] = [Lane::Consensus, Lane::Transactions];

    /// The lane a message of `kind` travels in.
    pub(super) fn of(kind: MessageKind) -> Self {
        match kind {
            MessageKind::Transactions => Self::Transactions,
            MessageKind::Proposal
            | MessageKind::Vote
            | MessageKind::Block
            | MessageKind::PolkaCertificate
            | MessageKind::RoundCertificate
            | MessageKind::SyncRequest
            | MessageKind::SyncResponse => Self::Consensus,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Bytes reserved for one received message, from its peer's budget and from the node's total; given back when
/// dropped.
pub(super) struct Reservation {
    lane: Lane,
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
    /// Per lane.
    budgets: [Arc<Semaphore>; 2],
    /// Per lane.
    waiting: [VecDeque<Waiting>; 2],
    bytes: usize,
    peak: usize,
}

impl PeerInbound {
    fn new(peer_bytes: usize) -> Self {
        Self {
            budgets: [Arc::new(Semaphore::new(peer_bytes)), Arc::new(Semaphore::new(peer_bytes))],
            waiting: [VecDeque::new(), VecDeque::new()],
            bytes: 0,
            peak: 0,
        }
    }
}

#[derive(Default)]
struct InboundState {
    /// One entry per node that has connected (admitted nodes only), kept so that a reconnecting peer finds its
    /// budget as its messages still waiting left it.
    peers: BTreeMap<NodeId, PeerInbound>,
    /// Per lane, the peers with messages waiting in it, in the order [`Inbound::recv`] serves them.
    turns: [VecDeque<NodeId>; 2],
    bytes: usize,
}

/// Received messages waiting for the runtime, per peer, bounded by bytes.
pub(super) struct Inbound {
    peer_bytes: usize,
    /// Per lane.
    totals: [Arc<Semaphore>; 2],
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
    /// Queues with `peer_bytes` per peer and `total_bytes` in all, in each lane (at most `u32::MAX` each).
    pub(super) fn new(peer_bytes: usize, total_bytes: usize) -> Self {
        Self {
            peer_bytes,
            totals: [Arc::new(Semaphore::new(total_bytes)), Arc::new(Semaphore::new(total_bytes))],
            state: Mutex::new(InboundState::default()),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, InboundState> {
        // A panic while holding the lock leaves queues and counts behind, still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn budget(&self, peer: &NodeId, lane: Lane) -> Arc<Semaphore> {
        let mut state = self.lock();
        let queue = state.peers.entry(peer.clone()).or_insert_with(|| PeerInbound::new(self.peer_bytes));
        Arc::clone(&queue.budgets[lane.index()])
    }

    /// Reserves `bytes` (at most the peer budget) in `lane` for a message from `peer` if both of the lane's
    /// budgets allow it at once.
    pub(super) fn try_reserve(&self, peer: &NodeId, lane: Lane, bytes: usize) -> Option<Reservation> {
        let bytes = bytes.min(self.peer_bytes);
        let own = self.budget(peer, lane).try_acquire_many_owned(permits(bytes)).ok()?;
        let total = Arc::clone(&self.totals[lane.index()]).try_acquire_many_owned(permits(bytes)).ok()?;
        Some(Reservation { lane, bytes, _peer: own, _total: total })
    }

    /// Reserves `bytes` (at most the peer budget) in `lane` for a message from `peer`, waiting until the peer's
    /// budget and then the total of that lane allow it.
    pub(super) async fn reserve(&self, peer: &NodeId, lane: Lane, bytes: usize) -> Result<Reservation, Stopped> {
        let bytes = bytes.min(self.peer_bytes);
        let own = self.budget(peer, lane).acquire_many_owned(permits(bytes)).await.map_err(|_| Stopped)?;
        let total =
            Arc::clone(&self.totals[lane.index()]).acquire_many_owned(permits(bytes)).await.map_err(|_| Stopped)?;
        Ok(Reservation { lane, bytes, _peer: own, _total: total })
    }

    /// Queues `message` from `peer` under its reservation, in the reservation's lane.
    pub(super) fn push(&self, peer: &NodeId, message: NetMessage, reservation: Reservation) {
        let (bytes, lane) = (reservation.bytes, reservation.lane.index());
        {
            let mut state = self.lock();
            state.bytes = state.bytes.saturating_add(bytes);
            let queue = state.peers.entry(peer.clone()).or_insert_with(|| PeerInbound::new(self.peer_bytes));
            let first = queue.waiting[lane].is_empty();
            queue.waiting[lane].push_back(Waiting { message, reservation });
            queue.bytes = queue.bytes.saturating_add(bytes);
            queue.peak = queue.peak.max(queue.bytes);
            if first {
                state.turns[lane].push_back(peer.clone());
            }
        }
        self.ready.notify_one();
    }

    /// The next message: a consensus message if any peer has one waiting, from each such peer in turn; else a
    /// transaction batch, likewise.
    fn pop(&self) -> Option<(NodeId, NetMessage)> {
        let mut state = self.lock();
        for lane in Lane::BOTH.map(Lane::index) {
            while let Some(peer) = state.turns[lane].pop_front() {
                let Some(queue) = state.peers.get_mut(&peer) else { continue };
                let Some(Waiting { message, reservation }) = queue.waiting[lane].pop_front() else { continue };
                queue.bytes = queue.bytes.saturating_sub(reservation.bytes);
                let more = !queue.waiting[lane].is_empty();
                state.bytes = state.bytes.saturating_sub(reservation.bytes);
                if more {
                    state.turns[lane].push_back(peer.clone());
                }
                drop(state);
                // The reservation gives its bytes back here, waking a reader that waits for them.
                drop(reservation);
                return Some((peer, message));
            }
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

/// A frame waiting to be written to one or more peers: counted once in the node's outbound total of its lane,
/// until the last of them is done with it.
pub(super) struct OutFrame {
    payload: Vec<u8>,
    lane: Lane,
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

/// The node's outbound totals, one per lane.
pub(super) struct Outbound {
    limit: usize,
    totals: [Arc<AtomicUsize>; 2],
}

impl Outbound {
    /// A total of at most `limit` bytes in each lane.
    pub(super) fn new(limit: usize) -> Self {
        Self { limit, totals: [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))] }
    }

    /// `payload` as a frame of `lane` counted at `bytes` in that lane's total, or `None` if it has no room.
    pub(super) fn frame(&self, lane: Lane, payload: Vec<u8>, bytes: usize) -> Option<Arc<OutFrame>> {
        let total = &self.totals[lane.index()];
        add_within(total, bytes, self.limit)?;
        Some(Arc::new(OutFrame { payload, lane, bytes, total: Arc::clone(total) }))
    }

    /// Bytes of frames waiting, both lanes.
    pub(super) fn bytes(&self) -> usize {
        self.totals.iter().map(|t| t.load(Ordering::SeqCst)).fold(0, usize::saturating_add)
    }
}

/// One connection's outbound queues (one per lane), on the sending side.
pub(super) struct PeerOutbound {
    senders: [mpsc::UnboundedSender<Arc<OutFrame>>; 2],
    bytes: [Arc<AtomicUsize>; 2],
    peak: AtomicUsize,
    limit: usize,
}

/// One connection's outbound queues, on its writer's side.
pub(super) struct PeerOutboundReceiver {
    receivers: [mpsc::UnboundedReceiver<Arc<OutFrame>>; 2],
    bytes: [Arc<AtomicUsize>; 2],
}

/// A connection's outbound queues of at most `limit` bytes each.
pub(super) fn peer_outbound(limit: usize) -> (PeerOutbound, PeerOutboundReceiver) {
    let (consensus, consensus_receiver) = mpsc::unbounded_channel();
    let (transactions, transactions_receiver) = mpsc::unbounded_channel();
    let bytes = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    (
        PeerOutbound { senders: [consensus, transactions], bytes: bytes.clone(), peak: AtomicUsize::new(0), limit },
        PeerOutboundReceiver { receivers: [consensus_receiver, transactions_receiver], bytes },
    )
}

impl PeerOutbound {
    /// Queues `frame` in its lane if the peer's budget of that lane has room for it; `false` if not (or if the
    /// writer has stopped).
    pub(super) fn try_push(&self, frame: &Arc<OutFrame>) -> bool {
        let lane = frame.lane.index();
        let Some(now) = add_within(&self.bytes[lane], frame.bytes, self.limit) else { return false };
        if self.senders[lane].send(Arc::clone(frame)).is_err() {
            self.bytes[lane].fetch_sub(frame.bytes, Ordering::SeqCst);
            return false;
        }
        let other = self.bytes[lane ^ 1].load(Ordering::SeqCst);
        self.peak.fetch_max(now.saturating_add(other), Ordering::SeqCst);
        true
    }

    /// Bytes waiting, both lanes.
    pub(super) fn bytes(&self) -> usize {
        self.bytes.iter().map(|b| b.load(Ordering::SeqCst)).fold(0, usize::saturating_add)
    }

    /// The most bytes that have waited at once.
    pub(super) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl PeerOutboundReceiver {
    /// The next frame to write: a consensus frame whenever one waits, else a transaction frame; `None` once the
    /// sending side is gone.
    pub(super) async fn recv(&mut self) -> Option<Arc<OutFrame>> {
        let [consensus, transactions] = &mut self.receivers;
        tokio::select! {
            biased;
            Some(frame) = consensus.recv() => Some(frame),
            Some(frame) = transactions.recv() => Some(frame),
            else => None,
        }
    }

    /// `frame` was written (or failed): its bytes leave the peer's budget.
    pub(super) fn done(&self, frame: &OutFrame) {
        self.bytes[frame.lane.index()].fetch_sub(frame.bytes, Ordering::SeqCst);
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
        let first = inbound.try_reserve(&a, Lane::Consensus, 60).unwrap();
        assert!(inbound.try_reserve(&a, Lane::Consensus, 60).is_none(), "a's budget");
        let second = inbound.try_reserve(&b, Lane::Consensus, 60).unwrap();
        assert!(inbound.try_reserve(&b, Lane::Consensus, 40).is_none(), "the total");
        inbound.push(&a, message(1), first);
        inbound.push(&b, message(2), second);
        assert_eq!(inbound.gauges().bytes, 120);
        assert_eq!(inbound.pop().map(|(peer, _)| peer), Some(a.clone()));
        assert_eq!(inbound.gauges().bytes, 60);
        assert!(inbound.try_reserve(&b, Lane::Consensus, 40).is_some());
    }

    /// Messages are taken from each peer with messages waiting in turn, each peer's in the order they came.
    #[test]
    fn peers_are_served_in_turn() {
        let inbound = Inbound::new(1_000, 10_000);
        let (a, b) = (node("n1"), node("n2"));
        for n in 0..3 {
            let reservation = inbound.try_reserve(&a, Lane::Consensus, 10).unwrap();
            inbound.push(&a, message(n), reservation);
        }
        let reservation = inbound.try_reserve(&b, Lane::Consensus, 10).unwrap();
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
        let frame = outbound.frame(Lane::Consensus, vec![1; 10], 100).unwrap();
        assert!(a.try_push(&frame) && b.try_push(&frame));
        assert!(a.try_push(&outbound.frame(Lane::Consensus, vec![2; 10], 100).unwrap()));
        assert!(!a.try_push(&outbound.frame(Lane::Consensus, vec![3; 10], 40).unwrap()), "a's budget");
        assert_eq!(outbound.bytes(), 200);
        assert!(outbound.frame(Lane::Consensus, vec![4; 10], 60).is_none(), "the total");
        drop(frame);
        let written = a_writer.receivers[0].try_recv().unwrap();
        a_writer.done(&written);
        drop(written);
        assert_eq!((a.bytes(), a.peak(), outbound.bytes()), (100, 200, 200), "b's queue still holds the first frame");
        drop(b_writer);
        assert_eq!((b.bytes(), outbound.bytes()), (100, 100), "b's queue is gone, a's second frame waits");
    }

    fn transactions() -> NetMessage {
        NetMessage::Transactions(Vec::new())
    }

    /// A peer whose transaction lane is full still gets its consensus messages reserved and queued, and the
    /// runtime takes every waiting consensus message, from any peer, before any transaction batch.
    #[test]
    fn consensus_messages_pass_a_full_transaction_lane() {
        let inbound = Inbound::new(100, 1_000);
        let (a, b) = (node("n1"), node("n2"));
        for _ in 0..2 {
            let reservation = inbound.try_reserve(&a, Lane::Transactions, 50).unwrap();
            inbound.push(&a, transactions(), reservation);
        }
        assert!(inbound.try_reserve(&a, Lane::Transactions, 1).is_none(), "a's transaction lane is full");
        let vote = inbound.try_reserve(&a, Lane::Consensus, 100).expect("the consensus lane has its own budget");
        inbound.push(&a, message(1), vote);
        let reservation = inbound.try_reserve(&b, Lane::Consensus, 10).unwrap();
        inbound.push(&b, message(2), reservation);
        let order: Vec<(NodeId, NetMessage)> = std::iter::from_fn(|| inbound.pop()).collect();
        let expected = vec![(a.clone(), message(1)), (b, message(2)), (a.clone(), transactions()), (a, transactions())];
        assert_eq!(order, expected);
    }

    /// Transaction frames that spend a peer's transaction budget, and the node's, leave consensus frames room in
    /// theirs; the writer sends a consensus frame before transaction frames queued earlier.
    #[tokio::test]
    async fn consensus_frames_overtake_transaction_frames() {
        let outbound = Outbound::new(300);
        let (a, mut writer) = peer_outbound(200);
        assert!(a.try_push(&outbound.frame(Lane::Transactions, vec![1], 100).unwrap()));
        assert!(a.try_push(&outbound.frame(Lane::Transactions, vec![2], 100).unwrap()));
        assert!(!a.try_push(&outbound.frame(Lane::Transactions, vec![3], 100).unwrap()), "the peer's budget");
        assert!(outbound.frame(Lane::Transactions, vec![4], 200).is_none(), "the node's transaction total");
        let vote = outbound.frame(Lane::Consensus, vec![9], 200).expect("the consensus total is its own");
        assert!(a.try_push(&vote), "the consensus budget is its own");
        drop(vote);
        let mut order = Vec::new();
        for _ in 0..3 {
            let frame = writer.recv().await.unwrap();
            writer.done(&frame);
            order.push(frame.payload()[0]);
        }
        assert_eq!(order, vec![9, 1, 2]);
        assert_eq!(a.bytes(), 0);
        let next = tokio::time::timeout(std::time::Duration::from_millis(10), writer.recv()).await;
        assert!(next.is_err(), "nothing more waits");
    }
}
