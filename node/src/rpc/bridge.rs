//! The bridge between the runtime and the HTTP API: what the runtime publishes ([`NodeStatus`] on a `watch`
//! channel, [`ChainEvent`]s on a `broadcast` channel) and what it answers ([`Command`]s on an `mpsc` channel).
//!
//! The runtime owns the consensus host and is the only writer of the store; the API reads the store through a
//! [`StoreReader`] and never touches the host. [`ApiState::with_channels`] makes every channel at once and gives
//! the runtime its ends ([`RuntimeEnd`]):
//!
//! - after each change worth showing (a committed block, a peer, a sync step, mempool size), the runtime sends a
//!   fresh [`NodeStatus`] (`status.send_replace(..)`);
//! - after each committed block it sends [`ChainEvent::from_committed`] (`events.send(..)`, ignoring the error when
//!   no client listens);
//!
//! - it answers each [`Command`] by doing what it says and replying on the command's `oneshot` (a dropped reply
//!   is fine: the client went away).
//!
//! What it publishes are the API's own types (`api_types`), re-exported here for the runtime. The state also holds
//! the [`ApiLimits`] in force: how many proofs are built and event streams served at once, and how much one
//! stream holds unread.

use std::sync::Arc;

pub use api_types::{ChainEvent, Direction, FinalizedTransaction, NodeStatus, P2pStats, PeerStatus, StatusCounters};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::TxHash;
pub use governance_contracts::types::NodeKind;
use governance_contracts::types::{Genesis, SignedTransaction};
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot, watch};

use super::metrics::RequestMetrics;
use crate::mempool::AdmitError;
use crate::storage::StoreReader;

/// Capacity of the command channel [`ApiState::with_channels`] makes: submissions beyond it wait (bounded by the
/// API's own timeout) rather than queue without limit.
pub const COMMAND_CAPACITY: usize = 1_024;
/// Capacity of the event channel [`ApiState::with_channels`] makes, shared by every stream: a stream whose task
/// falls this many blocks behind is told it lagged.
pub const EVENT_CAPACITY: usize = 256;
/// Most event streams (`GET /v1/events`) served at once; the next is answered 503 `busy`.
pub const MAX_EVENT_STREAMS: usize = 64;
/// Most events one stream holds unread; a stream with this many unread when the next block comes is cut off.
pub const STREAM_BUFFER_EVENTS: usize = 16;
/// Most bytes of events one stream holds unread (one event larger than this is still sent to a stream that has
/// read everything before it); a stream that would go past it is cut off.
pub const STREAM_BUFFER_BYTES: usize = 1024 * 1024;
/// Most proofs (`GET /v1/proofs/...`) built at once; the next request is answered 503 `busy`, never queued.
pub const MAX_PROOF_BUILDS: usize = 2;

/// The work the API does for its clients at once, and the memory it holds for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Proofs built at once ([`MAX_PROOF_BUILDS`]).
    pub proof_builds: usize,
    /// Event streams served at once ([`MAX_EVENT_STREAMS`]).
    pub event_streams: usize,
    /// Unread events one stream holds ([`STREAM_BUFFER_EVENTS`]).
    pub stream_buffer_events: usize,
    /// Unread bytes of events one stream holds ([`STREAM_BUFFER_BYTES`]).
    pub stream_buffer_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            proof_builds: MAX_PROOF_BUILDS,
            event_streams: MAX_EVENT_STREAMS,
            stream_buffer_events: STREAM_BUFFER_EVENTS,
            stream_buffer_bytes: STREAM_BUFFER_BYTES,
        }
    }
}

/// What the API asks of the runtime.
#[derive(Debug)]
pub enum Command {
    /// Admit `tx` to the mempool (the host's `submit`) and reply with its hash or why it was not admitted.
    SubmitTransaction {
        /// The transaction, decoded and bounded by the API.
        tx: Box<SignedTransaction>,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<TxHash, AdmitError>>,
    },
}

/// The runtime's ends of the channels [`ApiState::with_channels`] makes.
#[derive(Debug)]
pub struct RuntimeEnd {
    /// Publish the node's status here.
    pub status: watch::Sender<NodeStatus>,
    /// Answer the API's commands from here.
    pub commands: mpsc::Receiver<Command>,
    /// Publish committed blocks here (the API holds a sender too, so this never fails for lack of channel; it
    /// fails only when no client listens, which is fine).
    pub events: broadcast::Sender<ChainEvent>,
}

/// Everything a request handler reads: the bridge's channels, the store, the genesis and the API's own counters.
/// Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) status: watch::Receiver<NodeStatus>,
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) events: broadcast::Sender<ChainEvent>,
    pub(super) store: StoreReader,
    pub(super) genesis: Genesis,
    pub(super) chain: ChainIdentity,
    pub(super) metrics: RequestMetrics,
    /// The limits in force.
    pub(super) limits: ApiLimits,
    /// Permits for event streams ([`ApiLimits::event_streams`]).
    pub(super) streams: Arc<Semaphore>,
    /// Permits for proof builds ([`ApiLimits::proof_builds`]).
    pub(super) proofs: Arc<Semaphore>,
    /// Set to `true` when the server shuts down: streams and long polls end.
    pub(super) closing: watch::Sender<bool>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("chain", &self.inner.chain).finish_non_exhaustive()
    }
}

impl ApiState {
    /// The API's state over channels the runtime made itself, within `limits`.
    pub fn new(
        genesis: Genesis,
        store: StoreReader,
        status: watch::Receiver<NodeStatus>,
        commands: mpsc::Sender<Command>,
        events: broadcast::Sender<ChainEvent>,
        limits: ApiLimits,
    ) -> Self {
        let chain = genesis.identity();
        let (closing, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                status,
                commands,
                events,
                store,
                genesis,
                chain,
                metrics: RequestMetrics::default(),
                limits,
                streams: Arc::new(Semaphore::new(limits.event_streams)),
                proofs: Arc::new(Semaphore::new(limits.proof_builds)),
                closing,
            }),
        }
    }

    /// The API's state with fresh channels ([`COMMAND_CAPACITY`], [`EVENT_CAPACITY`]) starting from `initial`,
    /// within the default [`ApiLimits`], and the runtime's ends of the channels.
    pub fn with_channels(genesis: Genesis, store: StoreReader, initial: NodeStatus) -> (Self, RuntimeEnd) {
        Self::with_channels_within(genesis, store, initial, ApiLimits::default())
    }

    /// [`ApiState::with_channels`] within `limits`.
    pub fn with_channels_within(
        genesis: Genesis,
        store: StoreReader,
        initial: NodeStatus,
        limits: ApiLimits,
    ) -> (Self, RuntimeEnd) {
        let (status_tx, status_rx) = watch::channel(initial);
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let state = Self::new(genesis, store, status_rx, command_tx, events.clone(), limits);
        (state, RuntimeEnd { status: status_tx, commands: command_rx, events })
    }

    /// The chain this API serves.
    pub fn chain(&self) -> &ChainIdentity {
        &self.inner.chain
    }

    /// The genesis of the chain this API serves.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The status the runtime last published.
    pub fn status(&self) -> NodeStatus {
        self.inner.status.borrow().clone()
    }

    /// Ends every event stream and long poll (the server is shutting down).
    pub(super) fn close(&self) {
        self.inner.closing.send_replace(true);
    }
}
