//! `GET /v1/status`: what a node is doing, as its runtime last published it.

use std::collections::BTreeMap;

use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{BlockHash, Height, NodeId};
use governance_contracts::types::{Genesis, NodeKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema;

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
    #[schema(value_type = schema::Name)]
    pub node_id: NodeId,
    /// Its socket address as seen from this node.
    pub address: String,
    /// Which side dialled.
    pub direction: Direction,
}

/// The consensus host's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostCounters {
    /// Equivocation evidence stored.
    pub evidence: u64,
    /// Received blocks found invalid.
    pub rejected_blocks: u64,
    /// Votes and proposals dropped for a bad signature.
    pub bad_signatures: u64,
    /// Synced blocks refused (bad certificate or block).
    pub rejected_synced: u64,
    /// Heights committed through sync.
    pub synced_heights: u64,
    /// Sync requests sent.
    pub sync_requests: u64,
    /// Log entries replayed on start.
    pub replayed_entries: u64,
    /// Received blocks dropped unchecked: not sent by the proposer they name, from a node that is not a sealer,
    /// or never named by a verified proposal of their height.
    pub unnamed_blocks: u64,
    /// Votes, proposals and certificates for later heights dropped before the core saw them: not signed by a
    /// sealer, too far ahead, or over one sealer's allowance per height.
    pub dropped_ahead: u64,
}

/// The peer-to-peer layer's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct P2pStats {
    /// Connections refused at the handshake or dropped by a re-check, by reason (for example `unknown_key`).
    pub refused: BTreeMap<String, u64>,
    /// Connections closed because the peer sent bytes that do not decode.
    pub garbage_disconnects: u64,
    /// Outbound messages dropped because a peer's or the total byte budget was spent.
    pub dropped_sends: u64,
    /// The same, by message kind (`vote`, `block`, `transactions`, ...). Consensus messages and relayed
    /// transactions have separate budgets, so a flood of transactions never makes a vote or a block drop here.
    #[serde(default)]
    pub dropped_sends_by_kind: BTreeMap<String, u64>,
    /// Received messages dropped because their lane's inbound budget was spent, by kind: only relayed
    /// transactions are dropped on arrival (a consensus message waits for room instead).
    #[serde(default)]
    pub dropped_received_by_kind: BTreeMap<String, u64>,
}

/// Everything the node counts, for `/metrics` and `/v1/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounters {
    /// The consensus host's counters.
    pub host: HostCounters,
    /// The peer-to-peer layer's counters.
    pub p2p: P2pStats,
}

/// `GET /v1/status`: what the node is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// The chain's name.
    pub chain_id: String,
    /// The hash of the chain's genesis.
    #[schema(value_type = schema::Sha256)]
    pub genesis_hash: Digest,
    /// This node's id.
    #[schema(value_type = schema::Name)]
    pub node_id: NodeId,
    /// Whether it votes (in the validator set of the height being decided) or follows.
    #[schema(value_type = schema::NodeKind)]
    pub kind: NodeKind,
    /// The last committed height (0 before the first block).
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// The last committed block's hash (all zeros before the first block).
    #[schema(value_type = schema::Sha256)]
    pub last_block_hash: BlockHash,
    /// The last committed block's time (the genesis time before the first block), ms since the Unix epoch.
    pub last_block_time_ms: u64,
    /// The connected peers.
    pub peers: Vec<PeerStatus>,
    /// Whether the node is catching up with peers that are ahead.
    pub syncing: bool,
    /// The highest height a peer has shown, while syncing.
    #[schema(value_type = Option<schema::Height>)]
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

    /// Whether the node serves the chain `chain` (same chain id and genesis hash).
    pub fn is_chain(&self, chain: &ChainIdentity) -> bool {
        self.chain_id == chain.chain_id.as_str() && self.genesis_hash == chain.genesis_hash
    }
}
