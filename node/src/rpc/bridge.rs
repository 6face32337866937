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
//! - it answers each [`Command`] by doing what it says and replying on the command's `oneshot` (a dropped reply
//!   is fine: the client went away).

use std::collections::BTreeMap;
use std::sync::Arc;

use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{BlockHash, Height, NodeId, TxHash};
use governance_contracts::types::{Block, Event, Genesis, Outcome, Receipt, SignedTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot, watch};
use utoipa::ToSchema;

use super::metrics::RequestMetrics;
use crate::consensus::host::HostCounters;
use crate::mempool::AdmitError;
use crate::storage::StoreReader;

/// Capacity of the command channel [`ApiState::with_channels`] makes: submissions beyond it wait (bounded by the
/// API's own timeout) rather than queue without limit.
pub const COMMAND_CAPACITY: usize = 1_024;
/// Capacity of the event channel [`ApiState::with_channels`] makes: a client more than this many blocks behind
/// is told it lagged.
pub const EVENT_CAPACITY: usize = 256;
/// Most event streams (`GET /v1/events`) served at once.
pub const MAX_EVENT_STREAMS: usize = 64;

/// Whether the node votes in consensus or follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Listed in the validator set of the height being decided: it votes.
    Sealer,
    /// Not listed: it follows finalised blocks and verifies their certificates.
    #[default]
    Observer,
}

/// Which side opened a peer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The peer dialled this node.
    Inbound,
    /// This node dialled the peer.
    Outbound,
}

/// One connected, authenticated peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeerStatus {
    /// Its node id, as admitted on chain.
    #[schema(value_type = String)]
    pub node_id: NodeId,
    /// Its socket address as seen from this node.
    pub address: String,
    /// Which side dialled.
    pub direction: Direction,
}

/// The peer-to-peer layer's counters, as published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct P2pStats {
    /// Connections refused at the handshake or dropped by a re-check, by reason (for example `unknown_key`).
    pub refused: BTreeMap<String, u64>,
    /// Connections closed because the peer sent bytes that do not decode.
    pub garbage_disconnects: u64,
    /// Outbound messages dropped because a peer's queue was full.
    pub dropped_sends: u64,
}

/// Everything the node counts, for `/metrics` and `/v1/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounters {
    /// The consensus host's counters.
    pub host: HostCounters,
    /// The peer-to-peer layer's counters.
    pub p2p: P2pStats,
}

/// What the node is doing, as the runtime last published it (`GET /v1/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// The chain's name.
    pub chain_id: String,
    /// The hash of the chain's genesis.
    #[schema(value_type = String, example = "sha256:…")]
    pub genesis_hash: Digest,
    /// This node's id.
    #[schema(value_type = String)]
    pub node_id: NodeId,
    /// Whether it votes (in the validator set of the height being decided) or follows.
    pub kind: NodeKind,
    /// The last committed height (0 before the first block).
    #[schema(value_type = u64)]
    pub height: Height,
    /// The last committed block's hash (all zeros before the first block).
    #[schema(value_type = String)]
    pub last_block_hash: BlockHash,
    /// The last committed block's time (the genesis time before the first block), ms since the Unix epoch.
    pub last_block_time_ms: u64,
    /// The connected peers.
    pub peers: Vec<PeerStatus>,
    /// Whether the node is catching up with peers that are ahead.
    pub syncing: bool,
    /// The highest height a peer has shown, while syncing.
    #[schema(value_type = Option<u64>)]
    pub sync_target: Option<Height>,
    /// Transactions admitted and waiting for a block.
    pub mempool_size: u64,
    /// Counters.
    pub counters: StatusCounters,
}

impl NodeStatus {
    /// The status of node `node_id` of the chain of `genesis` before it has done anything: height 0, the genesis
    /// time, an observer without peers.
    pub fn starting(genesis: &Genesis, node_id: NodeId) -> Self {
        let chain = genesis.identity();
        Self {
            chain_id: chain.chain_id.as_str().to_owned(),
            genesis_hash: chain.genesis_hash,
            node_id,
            kind: NodeKind::Observer,
            height: Height(0),
            last_block_hash: BlockHash(Digest::ZERO),
            last_block_time_ms: genesis.genesis_time_ms,
            peers: Vec::new(),
            syncing: false,
            sync_target: None,
            mempool_size: 0,
            counters: StatusCounters::default(),
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

/// One transaction of a finalised block and whether it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinalizedTransaction {
    /// Its hash.
    #[schema(value_type = String)]
    pub hash: TxHash,
    /// Applied, or rejected with the reason.
    #[schema(value_type = Object)]
    pub outcome: Outcome,
}

/// Something that happened on chain, streamed by `GET /v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChainEvent {
    /// A block was finalised and committed.
    Finalized {
        /// Its height.
        #[schema(value_type = u64)]
        height: Height,
        /// Its hash.
        #[schema(value_type = String)]
        hash: BlockHash,
        /// Its time, ms since the Unix epoch.
        time_ms: u64,
        /// Its transactions in order, with their outcomes.
        transactions: Vec<FinalizedTransaction>,
        /// The governance events of its receipts, in order.
        #[schema(value_type = Vec<Object>)]
        events: Vec<Event>,
    },
}

impl ChainEvent {
    /// The event of a committed `block` with its `receipts` (one per transaction, in order) on `chain`.
    pub fn from_committed(chain: &ChainIdentity, block: &Block, receipts: &[Receipt]) -> Self {
        Self::Finalized {
            height: block.header.height,
            hash: block.hash(chain),
            time_ms: block.header.time_ms,
            transactions: receipts
                .iter()
                .map(|receipt| FinalizedTransaction { hash: receipt.tx, outcome: receipt.outcome.clone() })
                .collect(),
            events: receipts.iter().flat_map(|receipt| receipt.events.iter().cloned()).collect(),
        }
    }

    /// The height of the block the event is about.
    pub fn height(&self) -> Height {
        match self {
            Self::Finalized { height, .. } => *height,
        }
    }
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
    /// Permits for event streams ([`MAX_EVENT_STREAMS`]).
    pub(super) streams: Arc<Semaphore>,
    /// Set to `true` when the server shuts down: streams and long polls end.
    pub(super) closing: watch::Sender<bool>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("chain", &self.inner.chain).finish_non_exhaustive()
    }
}

impl ApiState {
    /// The API's state over channels the runtime made itself.
    pub fn new(
        genesis: Genesis,
        store: StoreReader,
        status: watch::Receiver<NodeStatus>,
        commands: mpsc::Sender<Command>,
        events: broadcast::Sender<ChainEvent>,
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
                streams: Arc::new(Semaphore::new(MAX_EVENT_STREAMS)),
                closing,
            }),
        }
    }

    /// The API's state with fresh channels ([`COMMAND_CAPACITY`], [`EVENT_CAPACITY`]) starting from `initial`,
    /// and the runtime's ends of them.
    pub fn with_channels(genesis: Genesis, store: StoreReader, initial: NodeStatus) -> (Self, RuntimeEnd) {
        let (status_tx, status_rx) = watch::channel(initial);
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let state = Self::new(genesis, store, status_rx, command_tx, events.clone());
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
