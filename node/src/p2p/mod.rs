//! The authenticated p2p transport: TCP, Noise XX, node keys checked against governance (ADR 0004).
//!
//! - [`handshake`]: Noise XX with a per-process transport key, then each side's [`HandshakeStatement`] signed by
//!   its node key; the peer's key is admitted by [`Admission::may_connect`] before any other frame.
//! - [`frame`]: bounded, length-prefixed frames chunked over Noise messages.
//! - [`wire`]: the borsh wire form of the consensus host's [`NetMessage`].
//!
//! [`P2p`] implements the runtime's [`Transport`]. It runs on tokio tasks: a listener, one dialer per peer
//! governance lists (exponential backoff with jitter from [`P2pLimits::backoff_initial`] to
//! [`P2pLimits::backoff_max`]), and a reader and a writer per connection.
//!
//! # What a peer can cost a node
//!
//! Whoever reaches the port can open connections, so inbound handshakes are bounded before anyone is authenticated
//! (module `slots`): one source IP address holds at most [`P2pLimits::max_pending_handshakes_per_address`] pending
//! handshakes (that many per node when governance lists several nodes at it), all addresses together at most
//! [`P2pLimits::max_pending_handshakes`], and [`P2pLimits::reserved_handshakes`] more slots serve only the
//! addresses governance lists (the hosts of [`Admission::dial_targets`] and of the dial overrides, names resolved
//! beside the accept loop and refreshed at [`P2p::recheck`]). The first Noise message must arrive within
//! [`P2pLimits::first_message_timeout`], the whole handshake within [`P2pLimits::handshake_timeout`]. A connection
//! over a bound is closed at once and counted.
//!
//! A connected peer's messages are bounded by bytes (module `queues`; a message counts its encoded size plus
//! [`MESSAGE_OVERHEAD_BYTES`]):
//!
//! - A frame is at most [`P2pLimits::max_frame_bytes`], itself at most [`frame::MAX_FRAME_BYTES`] (4 MiB, the
//!   decoder's limit). A connection's reader holds at most one frame outside the queues: the one it is reading, or
//!   the one waiting for budget.
//! - Received messages wait for [`Transport::recv`] up to [`P2pLimits::peer_inbound_bytes`] per peer and
//!   [`P2pLimits::inbound_bytes`] in all. Beyond, that peer's reader stops reading (backpressure on its connection
//!   alone) while other peers' readers go on, and `recv` takes one message from each peer in turn.
//! - Frames wait for a peer's writer up to [`P2pLimits::peer_outbound_bytes`] per peer and
//!   [`P2pLimits::outbound_bytes`] in all (a frame for several peers is held, and counted, once). Beyond, the
//!   message is dropped for that peer and counted by kind, since consensus tolerates loss and asks again.
//!
//! With the default limits one source address holds at most 4 pending handshakes of the 64 general slots (16 more
//! are reserved for listed addresses), each closed after 1 s without its first message and after 5 s in all; one
//! peer makes the node hold at most 8 MiB of received messages plus one 4 MiB frame, and 32 MiB of frames it has
//! not read; all peers together at most 64 MiB received and 128 MiB to send.
//!
//! There is at most one connection per peer. When both sides dial each other, both keep the connection dialled by
//! the smaller node id; a new connection in the same direction as an existing one (a peer that restarted)
//! replaces it.
//!
//! After every committed block the runtime calls [`P2p::recheck`]: every connected peer's key is asked
//! [`Admission::may_connect`] again and those refused are disconnected (and their redials refused at the
//! handshake), and the dial targets are refreshed from governance. A handshake whose admission check predates a
//! recheck, and which ends after it, has its key asked again before its connection is registered, so a node
//! removed (or whose key is revoked, or whose owner is expelled) by a block holds no connection once that block's
//! recheck has run.
//!
//! Every refusal, malformed input and dropped message is logged and counted ([`P2pCounters`]); nothing a peer sends
//! panics the node.
//!
//! [`HandshakeStatement`]: governance_contracts::types::session::HandshakeStatement

pub mod frame;
pub mod handshake;
mod queues;
mod slots;
mod tasks;
pub mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution::Refusal;
use governance_contracts::ids::{Height, NodeId};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use self::handshake::{MAX_STATEMENT_BYTES, TransportKey};
pub use self::handshake::{RefusalKind, Refused};
use self::tasks::{Shared, Targets};
pub use self::wire::MessageKind;
use crate::consensus::host::NetMessage;
use crate::runtime::transport::{PeerSummary, Transport, TransportStats};

/// Why the admission check refused a key, or could not decide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// Governance refuses the key.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The node's state could not be read.
    #[error("the admission state is unavailable: {0}")]
    Unavailable(String),
}

/// The node's view of governance that the transport needs: who may connect, and whom to dial.
pub trait Admission: Send + Sync + 'static {
    /// Whether a peer presenting node key `key` may connect now: its node id, or why not. In a node this wraps
    /// `governance_contracts::execution::may_connect` over the current committed state.
    fn may_connect(&self, key: &PublicKey) -> Result<NodeId, AdmissionError>;

    /// The peers to dial: every admitted node (this node may be among them: it is skipped), with the address
    /// governance recorded.
    fn dial_targets(&self) -> Vec<DialTarget>;
}

/// A peer to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialTarget {
    /// Its node id.
    pub node: NodeId,
    /// Its current key, as governance records it (the handshake checks the key the peer proves with
    /// [`Admission::may_connect`], so a key rotated since is still accepted).
    pub key: PublicKey,
    /// Where to dial it, `host:port` (a governance `NetworkAddress`).
    pub address: String,
}

/// The transport's bounds and timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P2pLimits {
    /// The longest a handshake (TCP connect included, when dialling) may take.
    pub handshake_timeout: Duration,
    /// The largest frame payload accepted or sent.
    pub max_frame_bytes: usize,
    /// Inbound handshakes in progress at once; connections beyond are closed at once and counted.
    pub max_pending_handshakes: usize,
    /// The longest an inbound connection may take to deliver the first Noise message (the whole handshake is
    /// bounded by [`Self::handshake_timeout`]).
    pub first_message_timeout: Duration,
    /// Inbound handshakes in progress at once from one source IP address (times the number of nodes governance
    /// lists at that address, when there are several).
    pub max_pending_handshakes_per_address: usize,
    /// Inbound handshake slots, beyond [`Self::max_pending_handshakes`], that only the addresses governance lists
    /// may use.
    pub reserved_handshakes: usize,
    /// Bytes of received messages from one peer waiting for [`Transport::recv`]; beyond, that peer's reader waits.
    pub peer_inbound_bytes: usize,
    /// Bytes of received messages waiting for [`Transport::recv`], all peers together; beyond, readers wait.
    pub inbound_bytes: usize,
    /// Bytes of frames waiting to be written to one peer; a frame beyond is dropped and counted.
    pub peer_outbound_bytes: usize,
    /// Bytes of frames waiting to be written, all peers together (a frame for several peers counts once); a frame
    /// beyond is dropped and counted.
    pub outbound_bytes: usize,
    /// The first redial delay after a failed dial or a lost connection.
    pub backoff_initial: Duration,
    /// The longest redial delay.
    pub backoff_max: Duration,
}

impl Default for P2pLimits {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(5),
            max_frame_bytes: frame::MAX_FRAME_BYTES,
            max_pending_handshakes: 64,
            first_message_timeout: Duration::from_secs(1),
            max_pending_handshakes_per_address: 4,
            reserved_handshakes: 16,
            peer_inbound_bytes: 8 * 1024 * 1024,
            inbound_bytes: 64 * 1024 * 1024,
            peer_outbound_bytes: 32 * 1024 * 1024,
            outbound_bytes: 128 * 1024 * 1024,
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(10),
        }
    }
}

impl P2pLimits {
    fn validate(&self) -> Result<(), String> {
        let largest = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
        if !(MAX_STATEMENT_BYTES..=frame::MAX_FRAME_BYTES).contains(&self.max_frame_bytes) {
            return Err(format!("max_frame_bytes must be {MAX_STATEMENT_BYTES}..={}", frame::MAX_FRAME_BYTES));
        }
        if self.max_pending_handshakes == 0 || self.max_pending_handshakes_per_address == 0 {
            return Err("max_pending_handshakes and max_pending_handshakes_per_address must be at least 1".into());
        }
        let message = self.max_frame_bytes.saturating_add(MESSAGE_OVERHEAD_BYTES);
        let budgets = [
            ("peer_inbound_bytes", self.peer_inbound_bytes, message),
            ("inbound_bytes", self.inbound_bytes, self.peer_inbound_bytes),
            ("peer_outbound_bytes", self.peer_outbound_bytes, message),
            ("outbound_bytes", self.outbound_bytes, self.peer_outbound_bytes),
        ];
        for (name, bytes, least) in budgets {
            if !(least..=largest).contains(&bytes) {
                return Err(format!(
                    "{name} must be {least}..={largest}: room for the largest message, and a peer's budget within the total"
                ));
            }
        }
        if self.handshake_timeout.is_zero() || self.backoff_initial.is_zero() || self.backoff_max < self.backoff_initial
        {
            return Err("timeouts must be positive and backoff_max at least backoff_initial".into());
        }
        if self.first_message_timeout.is_zero() || self.first_message_timeout > self.handshake_timeout {
            return Err("first_message_timeout must be positive and at most handshake_timeout".into());
        }
        Ok(())
    }
}

/// Dials in a row whose peer closed after this node's statement before it presents another of its keys
/// ([`P2pConfig::other_keys`]); any handshake that succeeds starts the count again.
pub const UNANSWERED_BEFORE_NEXT_KEY: u32 = 3;

/// What [`P2p::start`] needs.
#[derive(Debug, Clone)]
pub struct P2pConfig {
    /// The chain (bound into every handshake statement).
    pub chain: ChainIdentity,
    /// This node's id.
    pub node: NodeId,
    /// This node's current key (signs its handshake statements).
    pub key: SecretKey,
    /// Other keys this node holds, tried in turn when peers keep closing the handshake after this node's
    /// statement ([`UNANSWERED_BEFORE_NEXT_KEY`] times in a row with no handshake succeeding): the node's store
    /// may predate a change of its key (a replacement after a revocation), so the key it believes current is not.
    pub other_keys: Vec<SecretKey>,
    /// Where to listen (port 0 picks a free port; see [`P2p::local_addr`]).
    pub listen: SocketAddr,
    /// Addresses that replace the governance-recorded address of a peer (from the node's configuration).
    pub dial_overrides: BTreeMap<NodeId, String>,
    /// Bounds and timings.
    pub limits: P2pLimits,
}

impl P2pConfig {
    /// A configuration with no dial overrides and the default limits.
    pub fn new(chain: ChainIdentity, node: NodeId, key: SecretKey, listen: SocketAddr) -> Self {
        Self {
            chain,
            node,
            key,
            other_keys: Vec::new(),
            listen,
            dial_overrides: BTreeMap::new(),
            limits: P2pLimits::default(),
        }
    }
}

/// Which side dialled a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// The peer dialled us.
    Inbound,
    /// We dialled the peer.
    Outbound,
}

/// A connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its node id.
    pub node: NodeId,
    /// The node key it proved in the handshake.
    pub key: PublicKey,
    /// Its socket address.
    pub address: SocketAddr,
    /// Which side dialled.
    pub direction: Direction,
    /// When the handshake completed (the runtime's monotonic clock).
    pub since: tokio::time::Instant,
}

/// What kind of malformed input made the transport drop a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GarbageKind {
    /// The connection closed in the middle of a frame.
    Truncated,
    /// A frame declared a length above the limit.
    Oversized,
    /// The framing rules were broken.
    Malformed,
    /// A message failed to decrypt.
    Decryption,
    /// A frame's payload is not a message.
    Undecodable,
}

/// What the transport counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct P2pCounters {
    /// Authenticated connections registered.
    pub connections: u64,
    /// Handshakes refused, by reason.
    pub refusals: BTreeMap<RefusalKind, u64>,
    /// Connected peers dropped by [`P2p::recheck`], by reason.
    pub recheck_drops: BTreeMap<RefusalKind, u64>,
    /// Connections dropped for malformed input, by kind.
    pub garbage: BTreeMap<GarbageKind, u64>,
    /// Handshakes that failed without a refusal (I/O error, timeout, broken Noise message).
    pub handshake_failures: u64,
    /// Inbound connections closed because every handshake slot they may use was taken.
    pub busy_refusals: u64,
    /// Inbound connections closed because their source address held all the handshake slots it may.
    pub address_refusals: u64,
    /// Inbound handshakes abandoned because the first Noise message did not arrive in time.
    pub first_message_timeouts: u64,
    /// Second connections to a connected peer (one of the two was closed).
    pub duplicate_connections: u64,
    /// Times a peer's reader paused because the peer's inbound byte budget for consensus messages, or the node's,
    /// was spent.
    pub inbound_waits: u64,
    /// Received messages dropped because their lane's inbound budget was spent, by kind: only relayed
    /// transactions are ever dropped on arrival.
    pub dropped_received: BTreeMap<MessageKind, u64>,
    /// Messages not queued for a peer because its outbound byte budget, or the node's, was spent, by kind.
    pub dropped_sends: BTreeMap<MessageKind, u64>,
    /// Messages for a peer that is not connected.
    pub unconnected_sends: u64,
    /// Messages that could not be encoded (see [`wire::EncodeError`]).
    pub unencodable: u64,
    /// Messages received and decoded.
    pub received: u64,
}

/// Bytes waiting in the transport's queues when asked, and the most each peer has had waiting at once. A message counts
/// its encoded size plus [`MESSAGE_OVERHEAD_BYTES`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueuedBytes {
    /// Received messages waiting for [`Transport::recv`], all peers together.
    pub inbound: usize,
    /// The same, by peer.
    pub inbound_by_peer: BTreeMap<NodeId, usize>,
    /// The most bytes of received messages each peer has had waiting at once.
    pub inbound_peak_by_peer: BTreeMap<NodeId, usize>,
    /// Frames waiting to be written, all peers together (a frame queued for several peers counts once).
    pub outbound: usize,
    /// Frames waiting to be written, by connected peer.
    pub outbound_by_peer: BTreeMap<NodeId, usize>,
    /// The most bytes of frames each connected peer's connection has had waiting at once.
    pub outbound_peak_by_peer: BTreeMap<NodeId, usize>,
}

/// Bytes counted for each queued message beyond its encoded size: its fixed cost in memory, so that small messages
/// are bounded by the byte budgets too.
pub const MESSAGE_OVERHEAD_BYTES: usize = 256;

/// Why the transport could not start.
#[derive(Debug, thiserror::Error)]
pub enum P2pError {
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The bound address could not be read.
    #[error("cannot read the listening address: {0}")]
    LocalAddress(std::io::Error),
    /// No transport key could be made.
    #[error("cannot create the transport key: {0}")]
    TransportKey(String),
    /// The limits are inconsistent.
    #[error("invalid p2p limits: {0}")]
    Limits(String),
}

struct Dialer {
    address: watch::Sender<String>,
    task: AbortHandle,
}

impl Drop for Dialer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The TCP transport. Dropping it stops every task and closes every connection.
pub struct P2p {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    listener: AbortHandle,
    dialers: BTreeMap<NodeId, Dialer>,
    dial_overrides: BTreeMap<NodeId, String>,
    /// The names among the listed addresses, for the resolver task.
    listed_names: watch::Sender<Vec<(NodeId, String)>>,
    resolver: AbortHandle,
}

impl P2p {
    /// Binds the listen address, starts the listener and a dialer for each of `admission`'s dial targets.
    /// Works on a current-thread or multi-thread tokio runtime.
    pub async fn start(config: P2pConfig, admission: Arc<dyn Admission>) -> Result<P2p, P2pError> {
        config.limits.validate().map_err(P2pError::Limits)?;
        let transport = TransportKey::generate().map_err(|e| P2pError::TransportKey(e.to_string()))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| P2pError::Bind { address: config.listen, source })?;
        let local_addr = listener.local_addr().map_err(P2pError::LocalAddress)?;
        let shared = Arc::new(Shared::new(
            config.chain,
            config.node,
            config.key,
            config.other_keys,
            transport,
            config.limits,
            admission,
        ));
        let listener = tokio::spawn(tasks::listen(Arc::clone(&shared), listener)).abort_handle();
        let (listed_names, names) = watch::channel(Vec::new());
        let resolver = tokio::spawn(tasks::resolve_listed(Arc::clone(&shared), names)).abort_handle();
        tracing::info!(node = %shared.node, address = %local_addr, "p2p listening");
        let mut p2p = P2p {
            shared,
            local_addr,
            listener,
            dialers: BTreeMap::new(),
            dial_overrides: config.dial_overrides,
            listed_names,
            resolver,
        };
        p2p.refresh_dialers();
        Ok(p2p)
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// After a committed block at `height`: asks [`Admission::may_connect`] again for every connected peer's key,
    /// disconnects those refused (logged with the reason and the height, counted in
    /// [`P2pCounters::recheck_drops`]), and refreshes the dial targets (new nodes, changed addresses, removed
    /// nodes) and the listed addresses that may use the reserved handshake slots.
    pub fn recheck(&mut self, height: Height) {
        let connected: Vec<(NodeId, PublicKey, u64)> = self.shared.begin_recheck();
        let mut refused = Vec::new();
        for (node, key, id) in connected {
            let verdict = match self.shared.admission.may_connect(&key) {
                Ok(admitted) if admitted == node => continue,
                Ok(other) => {
                    Refused { kind: RefusalKind::UnexpectedNode, detail: format!("key {key} now belongs to {other}") }
                }
                Err(e) => Refused { kind: RefusalKind::from(&e), detail: e.to_string() },
            };
            refused.push((node, id, verdict));
        }
        self.shared.drop_refused(height, refused);
        self.refresh_dialers();
    }

    /// Replaces this node's key (once its rotation took effect): later handshakes sign with it. Peers drop
    /// connections authenticated by the old key at their own recheck, and the dialers reconnect with the new one.
    pub fn set_key(&mut self, key: SecretKey) {
        self.shared.set_key(key);
    }

    /// The connected peers, by node id.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.shared.peers()
    }

    /// The counters.
    pub fn counters(&self) -> P2pCounters {
        self.shared.counters()
    }

    /// Refreshes the dialers and the listed addresses from [`Admission::dial_targets`]: a target's recorded
    /// address and its dial override, if any, are both listed.
    fn refresh_dialers(&mut self) {
        let mut wanted: BTreeMap<NodeId, String> = BTreeMap::new();
        let mut literal = slots::Listed::new();
        let mut names = Vec::new();
        for target in self.shared.admission.dial_targets() {
            if target.node == self.shared.node {
                continue;
            }
            let replaced = self.dial_overrides.get(&target.node);
            for address in std::iter::once(&target.address).chain(replaced) {
                match slots::host(address) {
                    Some(slots::Host::Ip(ip)) => {
                        literal.entry(ip).or_default().insert(target.node.clone());
                    }
                    Some(slots::Host::Name(name)) => names.push((target.node.clone(), name)),
                    None => {}
                }
            }
            let address = replaced.cloned().unwrap_or(target.address);
            wanted.insert(target.node, address);
        }
        self.shared.set_listed(literal);
        self.listed_names.send_replace(names);
        self.dialers.retain(|node, _| wanted.contains_key(node));
        for (node, address) in wanted {
            match self.dialers.get(&node) {
                Some(dialer) => {
                    dialer.address.send_if_modified(|current| {
                        let changed = *current != address;
                        if changed {
                            tracing::info!(peer = %node, %address, "peer address changed");
                            current.clone_from(&address);
                        }
                        changed
                    });
                }
                None => {
                    let (address_tx, address_rx) = watch::channel(address);
                    let task = tokio::spawn(tasks::dial(Arc::clone(&self.shared), node.clone(), address_rx));
                    self.dialers.insert(node, Dialer { address: address_tx, task: task.abort_handle() });
                }
            }
        }
    }

    /// The bytes waiting in the queues.
    pub fn queued(&self) -> QueuedBytes {
        self.shared.queued()
    }

    fn frames(&self, message: &NetMessage) -> Option<Vec<Vec<u8>>> {
        match wire::encode_frames(message, self.shared.limits.max_frame_bytes) {
            Ok(frames) => Some(frames),
            Err(e) => {
                tracing::warn!(error = %e, "message cannot be sent");
                self.shared.count_unencodable();
                None
            }
        }
    }
}

impl Drop for P2p {
    fn drop(&mut self) {
        self.listener.abort();
        self.resolver.abort();
        self.dialers.clear();
        self.shared.close();
    }
}

/// Counts by message kind, keyed by the kind's label.
fn by_label(counts: &BTreeMap<MessageKind, u64>) -> BTreeMap<String, u64> {
    counts.iter().map(|(kind, count)| (kind.label().to_owned(), *count)).collect()
}

impl Transport for P2p {
    fn broadcast(&mut self, message: NetMessage) {
        if let Some(frames) = self.frames(&message) {
            self.shared.enqueue(Targets::All, MessageKind::of(&message), frames);
        }
    }

    fn send(&mut self, to: &NodeId, message: NetMessage) {
        if let Some(frames) = self.frames(&message) {
            self.shared.enqueue(Targets::One(to), MessageKind::of(&message), frames);
        }
    }

    fn broadcast_except(&mut self, except: &NodeId, message: NetMessage) {
        if let Some(frames) = self.frames(&message) {
            self.shared.enqueue(Targets::AllBut(except), MessageKind::of(&message), frames);
        }
    }

    async fn recv(&mut self) -> Option<(NodeId, NetMessage)> {
        Some(self.shared.inbound.recv().await)
    }

    fn on_committed(&mut self, height: Height) {
        self.recheck(height);
    }

    fn set_key(&mut self, key: SecretKey) {
        P2p::set_key(self, key);
    }

    fn peers(&self) -> Vec<PeerSummary> {
        P2p::peers(self)
            .into_iter()
            .map(|peer| PeerSummary {
                node: peer.node,
                address: peer.address.to_string(),
                outbound: peer.direction == Direction::Outbound,
            })
            .collect()
    }

    fn stats(&self) -> TransportStats {
        let counters = self.counters();
        let mut refused: BTreeMap<String, u64> = BTreeMap::new();
        for (kind, count) in counters.refusals.iter().chain(counters.recheck_drops.iter()) {
            let total = refused.entry(kind.label().to_owned()).or_default();
            *total = total.saturating_add(*count);
        }
        TransportStats {
            refused,
            garbage_disconnects: counters.garbage.values().fold(0u64, |sum, n| sum.saturating_add(*n)),
            dropped_sends: counters.dropped_sends.values().fold(0u64, |sum, n| sum.saturating_add(*n)),
            dropped_sends_by_kind: by_label(&counters.dropped_sends),
            dropped_received_by_kind: by_label(&counters.dropped_received),
        }
    }
}
