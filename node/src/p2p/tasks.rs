//! The transport's shared state and its tasks: the listener, the dialers, and each connection's reader and writer.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::frame::FrameError;
use super::handshake::{self, Established, HandshakeError, Identity, RefusalKind, Refused, TransportKey};
use super::queues::{self, Inbound, Lane, Outbound, PeerOutbound, PeerOutboundReceiver, Stopped};
use super::slots::{Busy, Listed, Pool, Slots};
use super::{Admission, Direction, GarbageKind, MessageKind, P2pCounters, P2pLimits, PeerInfo, QueuedBytes, wire};

fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

fn bump_kind<K: Ord>(counters: &mut BTreeMap<K, u64>, kind: K) {
    bump(counters.entry(kind).or_default());
}

/// Whom a message goes to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Targets<'a> {
    /// Every connected peer.
    All,
    /// One peer.
    One(&'a NodeId),
    /// Every connected peer but one (the one a relayed message came from).
    AllBut(&'a NodeId),
}

/// Whether a new connection to `peer` in direction `new` replaces the existing one in direction `existing`: the
/// same direction means the peer reconnected (the newer wins); otherwise both sides keep the connection dialled by
/// the smaller node id.
pub(super) fn replaces(local: &NodeId, peer: &NodeId, existing: Direction, new: Direction) -> bool {
    if existing == new {
        return true;
    }
    let preferred = if local < peer { Direction::Outbound } else { Direction::Inbound };
    new == preferred
}

/// One registered connection. Dropping it stops its tasks, which closes the socket.
struct Connection {
    id: u64,
    info: PeerInfo,
    outbound: PeerOutbound,
    tasks: [AbortHandle; 2],
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

struct State {
    key: SecretKey,
    /// The node's other keys, next to try first.
    other_keys: Vec<SecretKey>,
    /// Dials in a row whose peer closed after our statement, since the last handshake that succeeded.
    unanswered: u32,
    peers: BTreeMap<NodeId, Connection>,
    /// Bumped by every recheck, as it lists the connections it checks: a handshake whose admission check predates
    /// a recheck asks again before its connection is registered.
    rechecks: u64,
    next_id: u64,
    counters: P2pCounters,
    closed: bool,
}

/// What every task shares.
pub(super) struct Shared {
    pub(super) chain: ChainIdentity,
    pub(super) node: NodeId,
    transport: TransportKey,
    pub(super) limits: P2pLimits,
    pub(super) admission: Arc<dyn Admission>,
    pub(super) inbound: Inbound,
    outbound: Outbound,
    /// Bumped whenever a connection is registered or removed (dialers wait on it).
    changed: watch::Sender<u64>,
    state: Mutex<State>,
    slots: Mutex<Slots>,
}

/// An inbound handshake's slot, given back when dropped.
struct Slot {
    shared: Arc<Shared>,
    ip: IpAddr,
    pool: Pool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.slots().release(self.ip, self.pool);
    }
}

/// How a connection ended.
enum Ended {
    /// Closed by either side, or an I/O error.
    Closed(String),
    /// The peer sent malformed data.
    Garbage(GarbageKind, String),
}

impl From<FrameError> for Ended {
    fn from(error: FrameError) -> Self {
        let kind = match &error {
            FrameError::Io(_) | FrameError::Encrypt(_) => return Self::Closed(error.to_string()),
            FrameError::Truncated => GarbageKind::Truncated,
            FrameError::TooLarge { .. } => GarbageKind::Oversized,
            FrameError::Malformed(_) => GarbageKind::Malformed,
            FrameError::Decrypt => GarbageKind::Decryption,
        };
        Self::Garbage(kind, error.to_string())
    }
}

impl Shared {
    #[allow(
        clippy::too_many_arguments,
        reason = "each is a distinct part of the transport, taken apart from its config"
    )]
    pub(super) fn new(
        chain: ChainIdentity,
        node: NodeId,
        key: SecretKey,
        other_keys: Vec<SecretKey>,
        transport: TransportKey,
        limits: P2pLimits,
        admission: Arc<dyn Admission>,
    ) -> Self {
        let slots = Slots::new(
            limits.max_pending_handshakes,
            limits.reserved_handshakes,
            limits.max_pending_handshakes_per_address,
        );
        let inbound = Inbound::new(limits.peer_inbound_bytes, limits.inbound_bytes);
        let outbound = Outbound::new(limits.outbound_bytes);
        Self {
            chain,
            node,
            transport,
            limits,
            admission,
            inbound,
            outbound,
            changed: watch::Sender::new(0),
            state: Mutex::new(State {
                key,
                other_keys,
                unanswered: 0,
                peers: BTreeMap::new(),
                rechecks: 0,
                next_id: 0,
                counters: P2pCounters::default(),
                closed: false,
            }),
            slots: Mutex::new(slots),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: counters and a map, still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        // As for `lock`: plain counts, still consistent.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The listed IP addresses written as such (see [`Slots`]).
    pub(super) fn set_listed(&self, listed: Listed) {
        self.slots().set_literal(listed);
    }

    fn notify(&self) {
        self.changed.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    pub(super) fn set_key(&self, key: SecretKey) {
        let mut state = self.lock();
        let previous = std::mem::replace(&mut state.key, key);
        let current = state.key.public_key();
        state.other_keys.retain(|k| k.public_key() != current);
        if previous.public_key() != current {
            tracing::info!(node = %self.node, key = %current, "p2p handshakes now sign with the new key");
            state.other_keys.push(previous);
        }
        state.unanswered = 0;
    }

    /// A dial's peer closed after our statement: after [`super::UNANSWERED_BEFORE_NEXT_KEY`] in a row, the next of
    /// the node's other keys signs its statements (the current one goes last in turn).
    fn unanswered(&self) {
        let mut state = self.lock();
        state.unanswered = state.unanswered.saturating_add(1);
        if state.unanswered < super::UNANSWERED_BEFORE_NEXT_KEY || state.other_keys.is_empty() {
            return;
        }
        let next = state.other_keys.remove(0);
        let previous = std::mem::replace(&mut state.key, next);
        state.other_keys.push(previous);
        state.unanswered = 0;
        tracing::warn!(
            node = %self.node,
            key = %state.key.public_key(),
            "peers keep closing the handshake after this node's statement: presenting another of its keys"
        );
    }

    pub(super) fn peers(&self) -> Vec<PeerInfo> {
        self.lock().peers.values().map(|c| c.info.clone()).collect()
    }

    pub(super) fn counters(&self) -> P2pCounters {
        self.lock().counters.clone()
    }

    pub(super) fn count_unencodable(&self) {
        bump(&mut self.lock().counters.unencodable);
    }

    fn is_connected(&self, peer: &NodeId) -> bool {
        self.lock().peers.contains_key(peer)
    }

    /// Starts a recheck: each connected peer's id, proven key and connection id. A connection registered later
    /// has its key asked again first (see [`Self::register`]).
    pub(super) fn begin_recheck(&self) -> Vec<(NodeId, PublicKey, u64)> {
        let mut state = self.lock();
        state.rechecks = state.rechecks.wrapping_add(1);
        state.peers.iter().map(|(node, c)| (node.clone(), c.info.key, c.id)).collect()
    }

    /// How many rechecks have started (read before a handshake's admission check).
    fn rechecks(&self) -> u64 {
        self.lock().rechecks
    }

    /// Disconnects the peers a recheck refused (if still on the connection that was checked).
    pub(super) fn drop_refused(&self, height: Height, refused: Vec<(NodeId, u64, Refused)>) {
        let mut dropped = false;
        {
            let mut state = self.lock();
            for (node, id, refusal) in refused {
                if state.peers.get(&node).is_some_and(|c| c.id == id) {
                    state.peers.remove(&node);
                    bump_kind(&mut state.counters.recheck_drops, refusal.kind);
                    tracing::warn!(peer = %node, %height, reason = %refusal, "peer no longer admitted: disconnected");
                    dropped = true;
                }
            }
        }
        if dropped {
            self.notify();
        }
    }

    /// Queues the frame payloads of one message of `kind` for `to`. A frame that the node's
    /// outbound total or a peer's budget has no room for is not queued for that peer, and counted; a message for a
    /// peer that is not connected is counted too.
    pub(super) fn enqueue(&self, to: Targets<'_>, kind: MessageKind, payloads: Vec<Vec<u8>>) {
        let mut state = self.lock();
        let State { peers, counters, .. } = &mut *state;
        let targets: Vec<&Connection> = match to {
            Targets::AllBut(except) => peers.iter().filter(|(node, _)| *node != except).map(|(_, c)| c).collect(),
            Targets::One(node) => match peers.get(node) {
                Some(connection) => vec![connection],
                None => {
                    bump(&mut counters.unconnected_sends);
                    tracing::debug!(peer = %node, %kind, "not connected: message dropped");
                    return;
                }
            },
            Targets::All => peers.values().collect(),
        };
        if targets.is_empty() {
            return;
        }
        for payload in payloads {
            let bytes = payload.len().saturating_add(super::MESSAGE_OVERHEAD_BYTES);
            let frame = self.outbound.frame(Lane::of(kind), payload, bytes);
            for connection in &targets {
                if !frame.as_ref().is_some_and(|frame| connection.outbound.try_push(frame)) {
                    bump_kind(&mut counters.dropped_sends, kind);
                    tracing::debug!(peer = %connection.info.node, %kind, "outbound budget spent: message dropped");
                }
            }
        }
    }

    /// The bytes waiting in the queues.
    pub(super) fn queued(&self) -> QueuedBytes {
        let inbound = self.inbound.gauges();
        let state = self.lock();
        QueuedBytes {
            inbound: inbound.bytes,
            inbound_by_peer: inbound.by_peer,
            inbound_peak_by_peer: inbound.peak_by_peer,
            outbound: self.outbound.bytes(),
            outbound_by_peer: state.peers.iter().map(|(node, c)| (node.clone(), c.outbound.bytes())).collect(),
            outbound_peak_by_peer: state.peers.iter().map(|(node, c)| (node.clone(), c.outbound.peak())).collect(),
        }
    }

    /// Stops everything: no new connection is registered, and every connection closes.
    pub(super) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.peers.clear();
    }

    fn refused(&self, refusal: &Refused, address: SocketAddr, direction: Direction) {
        bump_kind(&mut self.lock().counters.refusals, refusal.kind);
        tracing::warn!(node = %self.node, %address, ?direction, reason = %refusal, "peer refused at the handshake");
    }

    fn handshake_failed(&self, error: &str, address: SocketAddr, direction: Direction) {
        bump(&mut self.lock().counters.handshake_failures);
        tracing::debug!(node = %self.node, %address, ?direction, %error, "handshake failed");
    }

    /// Registers an authenticated connection (or closes it if a preferred one to the same peer exists) and
    /// starts its reader and writer.
    ///
    /// `rechecks` is [`Self::rechecks`] as read before the handshake's admission check. If a recheck has started
    /// since, the check may predate a block that refuses the peer's key and that recheck did not see this
    /// connection: the key is asked again (the dialled node `expected`, if any, included) until no recheck
    /// started meanwhile, and a refusal closes the connection and is counted.
    fn register(
        self: &Arc<Self>,
        established: Established<TcpStream>,
        direction: Direction,
        address: SocketAddr,
        mut rechecks: u64,
        expected: Option<&NodeId>,
    ) {
        let Established { peer, peer_key, reader, writer } = established;
        let mut state = self.lock();
        while state.rechecks != rechecks {
            rechecks = state.rechecks;
            let own_key = state.key.public_key();
            drop(state);
            match handshake::admit(&*self.admission, &peer_key, &self.node, &own_key, expected) {
                Ok(node) if node == peer => {}
                Ok(other) => {
                    let refusal = Refused {
                        kind: RefusalKind::UnexpectedNode,
                        detail: format!("key {peer_key} now belongs to {other}"),
                    };
                    self.refused(&refusal, address, direction);
                    return;
                }
                Err(refusal) => {
                    self.refused(&refusal, address, direction);
                    return;
                }
            }
            state = self.lock();
        }
        if state.closed {
            return;
        }
        state.unanswered = 0;
        if let Some(existing) = state.peers.get(&peer).map(|c| c.info.direction) {
            bump(&mut state.counters.duplicate_connections);
            if !replaces(&self.node, &peer, existing, direction) {
                tracing::debug!(%peer, ?direction, "a preferred connection to this peer exists: closed");
                return;
            }
        }
        let id = state.next_id;
        state.next_id = id.wrapping_add(1);
        let (outbound, queue) = queues::peer_outbound(self.limits.peer_outbound_bytes);
        let read = tokio::spawn(read_loop(Arc::clone(self), peer.clone(), id, reader)).abort_handle();
        let write = tokio::spawn(write_loop(Arc::clone(self), peer.clone(), id, writer, queue)).abort_handle();
        let info =
            PeerInfo { node: peer.clone(), key: peer_key, address, direction, since: tokio::time::Instant::now() };
        tracing::info!(node = %self.node, %peer, %address, ?direction, "peer connected");
        state.peers.insert(peer, Connection { id, info, outbound, tasks: [read, write] });
        bump(&mut state.counters.connections);
        drop(state);
        self.notify();
    }

    /// A connection's reader or writer stopped: forget the connection (if it is still the registered one).
    fn ended(&self, peer: &NodeId, id: u64, how: Ended) {
        let mut state = self.lock();
        if let Ended::Garbage(kind, reason) = &how {
            bump_kind(&mut state.counters.garbage, *kind);
            tracing::warn!(node = %self.node, %peer, ?kind, %reason, "peer sent malformed data: disconnected");
        }
        if state.peers.get(peer).is_some_and(|c| c.id == id) {
            if let Ended::Closed(reason) = &how {
                tracing::info!(node = %self.node, %peer, %reason, "peer disconnected");
            }
            // Dropping the connection aborts both its tasks, this one included, after it returns.
            let connection = state.peers.remove(peer);
            drop(state);
            drop(connection);
            self.notify();
        }
    }

    fn identity_key(&self) -> SecretKey {
        self.lock().key.clone()
    }

    /// Handshakes an accepted connection and registers it.
    async fn accept(self: Arc<Self>, stream: TcpStream, address: SocketAddr) {
        // Latency matters more than throughput for votes.
        let _ = stream.set_nodelay(true);
        let key = self.identity_key();
        let me = Identity { chain: &self.chain, node: &self.node, key: &key, transport: &self.transport };
        let rechecks = self.rechecks();
        let result = tokio::time::timeout(
            self.limits.handshake_timeout,
            handshake::respond(
                stream,
                me,
                &*self.admission,
                self.limits.max_frame_bytes,
                self.limits.first_message_timeout,
            ),
        )
        .await;
        match result {
            Ok(Ok(established)) => self.register(established, Direction::Inbound, address, rechecks, None),
            Ok(Err(HandshakeError::Refused(refusal))) => self.refused(&refusal, address, Direction::Inbound),
            Ok(Err(HandshakeError::FirstMessageTimeout)) => {
                bump(&mut self.lock().counters.first_message_timeouts);
                tracing::debug!(node = %self.node, %address, "no first handshake message in time: connection closed");
            }
            Ok(Err(e)) => self.handshake_failed(&e.to_string(), address, Direction::Inbound),
            Err(_) => self.handshake_failed("timed out", address, Direction::Inbound),
        }
    }

    /// Dials `target` at `address` once and registers the connection; `Err` with the reason if that failed.
    async fn dial_once(self: &Arc<Self>, target: &NodeId, address: &str) -> Result<(), String> {
        let timeout = self.limits.handshake_timeout;
        let stream = tokio::time::timeout(timeout, connect(address))
            .await
            .map_err(|_| format!("connecting to {address} timed out"))??;
        let _ = stream.set_nodelay(true);
        let remote = stream.peer_addr().map_err(|e| e.to_string())?;
        let key = self.identity_key();
        let me = Identity { chain: &self.chain, node: &self.node, key: &key, transport: &self.transport };
        let rechecks = self.rechecks();
        let result = tokio::time::timeout(
            timeout,
            handshake::initiate(stream, me, &*self.admission, target, self.limits.max_frame_bytes),
        )
        .await;
        match result {
            Ok(Ok(established)) => {
                self.register(established, Direction::Outbound, remote, rechecks, Some(target));
                Ok(())
            }
            Ok(Err(HandshakeError::Refused(refusal))) => {
                self.refused(&refusal, remote, Direction::Outbound);
                Err(refusal.to_string())
            }
            Ok(Err(e)) => {
                let reason = e.to_string();
                self.handshake_failed(&reason, remote, Direction::Outbound);
                if matches!(e, HandshakeError::Unanswered) {
                    self.unanswered();
                }
                Err(reason)
            }
            Err(_) => {
                self.handshake_failed("timed out", remote, Direction::Outbound);
                Err("handshake timed out".into())
            }
        }
    }
}

/// Resolves `address` and connects to the first of its addresses that answers. Only a `host:port` that governance
/// would record is dialled (`check_network_address`, the rule the contracts and the configuration file apply).
async fn connect(address: &str) -> Result<TcpStream, String> {
    governance_contracts::text::check_network_address(address).map_err(|e| format!("not dialled: {e}"))?;
    let resolved = tokio::net::lookup_host(address).await.map_err(|e| format!("cannot resolve {address}: {e}"))?;
    let mut last = format!("{address} resolves to no address");
    for candidate in resolved {
        match TcpStream::connect(candidate).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("cannot connect to {candidate}: {e}"),
        }
    }
    Err(last)
}

/// Accepts connections for ever, handshaking each in its own task if it gets a slot ([`Slots`]).
pub(super) async fn listen(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (stream, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!(node = %shared.node, error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = address.ip().to_canonical();
        let taken = shared.slots().take(ip);
        let pool = match taken {
            Ok(pool) => pool,
            Err(Busy::Address) => {
                bump(&mut shared.lock().counters.address_refusals);
                tracing::debug!(node = %shared.node, %address, "too many handshakes from this address: connection closed");
                continue;
            }
            Err(Busy::Full) => {
                bump(&mut shared.lock().counters.busy_refusals);
                tracing::warn!(node = %shared.node, %address, "too many handshakes in progress: connection closed");
                continue;
            }
        };
        let slot = Slot { shared: Arc::clone(&shared), ip, pool };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            shared.accept(stream, address).await;
            drop(slot);
        });
    }
}

/// How often names among the listed addresses are resolved again when the list has not changed.
const LISTED_NAMES_REFRESH: Duration = Duration::from_secs(60);

/// Resolves the names among the listed addresses (`(node, host:port)`) whenever the list is sent, and records the
/// IP addresses they resolve to as listed. A list equal to the last one resolved is resolved again only after
/// [`LISTED_NAMES_REFRESH`]. Each lookup is bounded by the handshake timeout; a name that does not resolve lists
/// nothing.
pub(super) async fn resolve_listed(shared: Arc<Shared>, mut names: watch::Receiver<Vec<(NodeId, String)>>) {
    let mut last: Option<(Vec<(NodeId, String)>, tokio::time::Instant)> = None;
    while names.changed().await.is_ok() {
        let wanted = names.borrow_and_update().clone();
        if let Some((previous, at)) = &last
            && *previous == wanted
            && at.elapsed() < LISTED_NAMES_REFRESH
        {
            continue;
        }
        let mut resolved = Listed::new();
        for (node, address) in &wanted {
            let lookup =
                tokio::time::timeout(shared.limits.handshake_timeout, tokio::net::lookup_host(address.as_str()));
            match lookup.await {
                Ok(Ok(addresses)) => {
                    for socket in addresses {
                        resolved.entry(socket.ip().to_canonical()).or_default().insert(node.clone());
                    }
                }
                Ok(Err(e)) => tracing::debug!(peer = %node, %address, error = %e, "listed address does not resolve"),
                Err(_) => tracing::debug!(peer = %node, %address, "resolving a listed address timed out"),
            }
        }
        shared.slots().set_resolved(resolved);
        last = Some((wanted, tokio::time::Instant::now()));
    }
}

/// A delay in `[backoff / 2, backoff]`, drawn at random so that peers do not redial in lockstep.
fn jittered(backoff: Duration) -> Duration {
    let ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
    let half = ms / 2;
    let spread = getrandom::u64().unwrap_or(0).checked_rem(half.saturating_add(1)).unwrap_or(0);
    Duration::from_millis(half.saturating_add(spread))
}

/// Keeps a connection to `target` up: while connected it waits; otherwise it dials, waiting a jittered,
/// exponentially growing delay between attempts (reset once a dial succeeds). A change of address is picked up
/// at once.
pub(super) async fn dial(shared: Arc<Shared>, target: NodeId, mut address: watch::Receiver<String>) {
    let mut changed = shared.changed.subscribe();
    let mut backoff = shared.limits.backoff_initial;
    let mut first = true;
    loop {
        changed.borrow_and_update();
        if shared.is_connected(&target) {
            if changed.changed().await.is_err() {
                return;
            }
            continue;
        }
        if !first {
            tokio::select! {
                () = tokio::time::sleep(jittered(backoff)) => {}
                result = address.changed() => if result.is_err() { return },
            }
            if shared.is_connected(&target) {
                continue;
            }
        }
        first = false;
        let current = address.borrow_and_update().clone();
        match shared.dial_once(&target, &current).await {
            Ok(()) => backoff = shared.limits.backoff_initial,
            Err(reason) => {
                tracing::debug!(node = %shared.node, peer = %target, address = %current, %reason, "dial failed");
                backoff = backoff.saturating_mul(2).min(shared.limits.backoff_max);
            }
        }
    }
}

async fn read_loop(
    shared: Arc<Shared>,
    peer: NodeId,
    id: u64,
    mut reader: super::frame::FrameReader<tokio::io::ReadHalf<TcpStream>>,
) {
    let how = loop {
        let frame = match reader.next_frame().await {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ended::Closed("closed by the peer".into()),
            Err(e) => break Ended::from(e),
        };
        let message = match wire::decode(&frame) {
            Ok(message) => message,
            Err(e) => break Ended::Garbage(GarbageKind::Undecodable, e.to_string()),
        };
        let kind = MessageKind::of(&message);
        let lane = Lane::of(kind);
        // The lane's budgets (the peer's and the node's) have room for this message; or, for consensus, this reader
        // waits for it and reads nothing more from the peer meanwhile; for relayed transactions, the batch is dropped
        // and counted, so that a consensus message behind it is never held up.
        let bytes = frame.len().saturating_add(super::MESSAGE_OVERHEAD_BYTES);
        let reservation = match shared.inbound.try_reserve(&peer, lane, bytes) {
            Some(reservation) => reservation,
            None if lane == Lane::Transactions => {
                bump_kind(&mut shared.lock().counters.dropped_received, kind);
                tracing::debug!(node = %shared.node, %peer, "inbound transaction budget spent: relayed batch dropped");
                continue;
            }
            None => {
                bump(&mut shared.lock().counters.inbound_waits);
                tracing::debug!(node = %shared.node, %peer, "inbound budget spent: reading paused");
                match shared.inbound.reserve(&peer, lane, bytes).await {
                    Ok(reservation) => reservation,
                    Err(Stopped) => break Ended::Closed("the transport stopped".into()),
                }
            }
        };
        bump(&mut shared.lock().counters.received);
        shared.inbound.push(&peer, message, reservation);
    };
    shared.ended(&peer, id, how);
}

async fn write_loop(
    shared: Arc<Shared>,
    peer: NodeId,
    id: u64,
    mut writer: super::frame::FrameWriter<tokio::io::WriteHalf<TcpStream>>,
    mut queue: PeerOutboundReceiver,
) {
    let mut how = Ended::Closed("the transport stopped".into());
    while let Some(frame) = queue.recv().await {
        let written = writer.write_frame(frame.payload()).await;
        queue.done(&frame);
        if let Err(e) = written {
            how = Ended::Closed(e.to_string());
            break;
        }
    }
    let _ = writer.get_mut().shutdown().await;
    shared.ended(&peer, id, how);
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit::node;

    use super::*;

    /// Both sides of a double dial keep the same connection: the one the smaller node id dialled; a reconnection
    /// in the same direction replaces the old one.
    #[test]
    fn duplicate_rule_is_symmetric() {
        let (a, b) = (node("n0"), node("n1"));
        // At a (smaller): its outbound connection is the one a dialled.
        assert!(replaces(&a, &b, Direction::Inbound, Direction::Outbound));
        assert!(!replaces(&a, &b, Direction::Outbound, Direction::Inbound));
        // At b: the inbound connection is the one a dialled.
        assert!(replaces(&b, &a, Direction::Outbound, Direction::Inbound));
        assert!(!replaces(&b, &a, Direction::Inbound, Direction::Outbound));
        assert!(replaces(&a, &b, Direction::Inbound, Direction::Inbound));
        assert!(replaces(&b, &a, Direction::Outbound, Direction::Outbound));
    }

    /// The jittered delay stays within half and all of the backoff.
    #[test]
    fn jitter_stays_in_range() {
        for ms in [0u64, 1, 250, 10_000] {
            let wait = jittered(Duration::from_millis(ms));
            assert!(wait >= Duration::from_millis(ms / 2) && wait <= Duration::from_millis(ms), "{ms}: {wait:?}");
        }
    }
}
