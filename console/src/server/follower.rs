//! Follows the chain: keeps a [`ChainSnapshot`] current and announces each finalised block as a [`LiveEvent`].
//!
//! [`Follower::spawn`] starts two tasks on the running tokio runtime:
//!
//! - the **follower** opens a node's event stream (`/v1/events`, with the client's fail-over), builds a full
//!   snapshot, and after each `finalized` event refreshes it and publishes it on a `watch` channel, *then* sends the
//!   block's [`LiveEvent`] on a `broadcast` channel, so a receiver of the event already sees the block in the
//!   snapshot. A block with transactions refreshes every table; an empty block changes no table, so only the
//!   node's status and the block timeline are read again. A `lagged` notice (blocks missed) refreshes everything.
//!   When the stream ends or breaks it reconnects at once, to the same node or the next; when no node serves it
//!   marks the snapshot stale (with the reason) and retries with backoff from [`BACKOFF_MIN`] to [`BACKOFF_MAX`];
//! - the **health check** asks every `--node` URL for its status every [`HEALTH_INTERVAL`] and records in the
//!   snapshot whether it answers, its height, and whether it serves the pinned chain.
//!
//! The client is pinned to the chain identity from the genesis file: a node of another chain is refused (logged,
//! shown unhealthy) and never read from. Both tasks end once every receiver of the snapshot is dropped.
//!
//! A snapshot's tables are read with several requests, each answered at the node's last committed height: when a
//! block is committed between two of them, the tables may describe neighbouring heights. The next block's
//! refresh settles it; nothing the chain checks depends on it.

use std::sync::Arc;
use std::time::Duration;

use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::Height;
use tokio::sync::{broadcast, watch};

use super::node::{BlockBody, FinalizedBlock, MAX_BLOCK_PAGE, NodeClient, NodeError, PAGE, StreamItem};
use crate::model::{BlockSummary, ChainSnapshot, LiveEvent, NodeHealth, RECENT_BLOCKS, proposals_touched};

/// How many live events a slow receiver may fall behind before it is told it lagged.
pub const LIVE_CAPACITY: usize = 256;
/// How often every node URL is checked.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(5);
/// The first wait before retrying when no node serves.
pub const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// The longest wait between retries.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The chain follower.
#[derive(Debug)]
pub struct Follower;

type SnapshotSender = Arc<watch::Sender<Arc<ChainSnapshot>>>;

impl Follower {
    /// Starts following the chain `chain` through `client` (pinned to `chain`); answers the snapshot channel
    /// (stale and empty until a node serves) and the live-event channel (subscribe to it).
    ///
    /// Must be called within a tokio runtime.
    pub fn spawn(
        client: NodeClient,
        chain: ChainIdentity,
    ) -> (watch::Receiver<Arc<ChainSnapshot>>, broadcast::Sender<LiveEvent>) {
        let client = client.with_chain(chain.clone());
        let (snapshots, receiver) = watch::channel(Arc::new(ChainSnapshot::empty(chain)));
        let snapshots = Arc::new(snapshots);
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        tokio::spawn(check_health(client.clone(), Arc::clone(&snapshots)));
        tokio::spawn(follow(client, snapshots, live.clone()));
        (receiver, live)
    }
}

/// Builds a full snapshot from the node the client prefers (and fail-over), with `health` as the nodes' health.
pub async fn build_snapshot(
    client: &NodeClient,
    chain: &ChainIdentity,
    health: Vec<NodeHealth>,
) -> Result<ChainSnapshot, NodeError> {
    let status = client.status().await?;
    let (members, nodes, accounts, roles, policy, params, blocks, evidence) = tokio::try_join!(
        client.members(),
        client.nodes(),
        client.accounts(),
        client.roles(),
        client.policy(),
        client.params(),
        recent_blocks(client, &[]),
        client.evidence(Height(0), PAGE),
    )?;
    let mut snapshot = ChainSnapshot::empty(chain.clone());
    snapshot.stale = false;
    snapshot.source = Some(client.current_url());
    snapshot.height = status.height;
    snapshot.last_block_hash = status.last_block_hash;
    snapshot.last_block_time_ms = status.last_block_time_ms;
    snapshot.status = Some(status);
    snapshot.node_health = health;
    snapshot.members = members;
    snapshot.nodes = nodes;
    snapshot.accounts = accounts;
    snapshot.roles = roles.roles;
    snapshot.grants = roles.grants;
    snapshot.policy = policy;
    snapshot.params = Some(params);
    snapshot.recent_blocks = blocks;
    snapshot.evidence = evidence;
    Ok(snapshot)
}

/// The summary of a block for the timeline.
fn summary(body: &BlockBody) -> BlockSummary {
    BlockSummary {
        height: body.height,
        hash: body.hash,
        time_ms: body.block.header.time_ms,
        tx_count: u64::try_from(body.block.transactions.len()).unwrap_or(u64::MAX),
        proposer: body.block.header.proposer.clone(),
    }
}

/// The latest [`RECENT_BLOCKS`] blocks, newest first: those in `known` that are still among them, plus those
/// above the newest known one (read from the node).
async fn recent_blocks(client: &NodeClient, known: &[BlockSummary]) -> Result<Vec<BlockSummary>, NodeError> {
    let newest_known = known.first().map(|block| block.height);
    let status = client.status().await?;
    let missing = status.height.since(newest_known.unwrap_or(Height(0)));
    let mut blocks = Vec::new();
    if missing > 0 {
        let limit = usize::try_from(missing).unwrap_or(usize::MAX).min(RECENT_BLOCKS).min(MAX_BLOCK_PAGE);
        let page = client.blocks(Some(status.height.plus(1)), limit).await?;
        blocks.extend(page.blocks.iter().map(summary));
    }
    blocks.extend(known.iter().cloned());
    blocks.sort_by_key(|block| std::cmp::Reverse(block.height));
    blocks.dedup_by_key(|block| block.height);
    blocks.truncate(RECENT_BLOCKS);
    Ok(blocks)
}

/// Refreshes `previous` after a block: everything when `full`, else the node's status and the timeline.
async fn refresh(client: &NodeClient, previous: &ChainSnapshot, full: bool) -> Result<ChainSnapshot, NodeError> {
    if full || previous.stale || previous.params.is_none() {
        return build_snapshot(client, &previous.chain, previous.node_health.clone()).await;
    }
    let (status, blocks) = tokio::try_join!(client.status(), recent_blocks(client, &previous.recent_blocks))?;
    let mut snapshot = previous.clone();
    snapshot.source = Some(client.current_url());
    snapshot.error = None;
    snapshot.height = status.height;
    snapshot.last_block_hash = status.last_block_hash;
    snapshot.last_block_time_ms = status.last_block_time_ms;
    snapshot.status = Some(status);
    snapshot.recent_blocks = blocks;
    Ok(snapshot)
}

/// Publishes `snapshot`, keeping the health the health check recorded meanwhile.
fn publish(snapshots: &SnapshotSender, mut snapshot: ChainSnapshot) {
    snapshots.send_modify(|current| {
        snapshot.node_health = current.node_health.clone();
        *current = Arc::new(snapshot);
    });
}

/// Marks the snapshot stale because of `error`.
fn mark_stale(snapshots: &SnapshotSender, error: &NodeError) {
    tracing::warn!(%error, "the chain snapshot is stale");
    snapshots.send_modify(|current| {
        let snapshot = Arc::make_mut(current);
        snapshot.stale = true;
        snapshot.error = Some(error.to_string());
    });
}

/// Waits `backoff`, or answers `false` when every receiver is gone.
async fn pause(snapshots: &SnapshotSender, backoff: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(backoff) => true,
        () = snapshots.closed() => false,
    }
}

/// The follower task.
async fn follow(client: NodeClient, snapshots: SnapshotSender, live: broadcast::Sender<LiveEvent>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let opened = tokio::select! {
            opened = client.events() => opened,
            () = snapshots.closed() => return,
        };
        let mut stream = match opened {
            Ok(stream) => stream,
            Err(error) => {
                mark_stale(&snapshots, &error);
                if !pause(&snapshots, backoff).await {
                    return;
                }
                backoff = backoff.saturating_mul(2).min(BACKOFF_MAX);
                continue;
            }
        };
        tracing::info!(node = stream.url(), "following the chain");
        let previous = snapshots.borrow().clone();
        match refresh(&client, &previous, true).await {
            Ok(snapshot) => publish(&snapshots, snapshot),
            Err(error) => {
                mark_stale(&snapshots, &error);
                if !pause(&snapshots, backoff).await {
                    return;
                }
                backoff = backoff.saturating_mul(2).min(BACKOFF_MAX);
                continue;
            }
        }
        backoff = BACKOFF_MIN;
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                () = snapshots.closed() => return,
            };
            let (full, block) = match item {
                None => {
                    tracing::info!(node = stream.url(), "the node ended its event stream; reconnecting");
                    break;
                }
                Some(Err(attempt)) => {
                    tracing::warn!(node = %attempt.url, failure = %attempt.failure, "the event stream broke; reconnecting");
                    break;
                }
                Some(Ok(StreamItem::Lagged { missed })) => {
                    tracing::warn!(missed, "fell behind the node's event stream; reading everything again");
                    (true, None)
                }
                Some(Ok(StreamItem::Finalized(block))) => (!block.transactions.is_empty(), Some(block)),
            };
            let previous = snapshots.borrow().clone();
            match refresh(&client, &previous, full).await {
                Ok(snapshot) => publish(&snapshots, snapshot),
                Err(error) => {
                    mark_stale(&snapshots, &error);
                    break;
                }
            }
            if let Some(block) = block {
                // No receiver is fine: nobody is watching live.
                let _ = live.send(live_event(*block));
            }
        }
    }
}

/// The live event of a finalised block.
fn live_event(block: FinalizedBlock) -> LiveEvent {
    LiveEvent {
        height: block.height,
        hash: block.hash,
        time_ms: block.time_ms,
        proposals_touched: proposals_touched(&block.events),
        receipts: block.transactions,
        events: block.events,
    }
}

/// The health-check task.
async fn check_health(client: NodeClient, snapshots: SnapshotSender) {
    loop {
        let health = tokio::select! {
            health = client.health() => health,
            () = snapshots.closed() => return,
        };
        snapshots.send_if_modified(|current| {
            if current.node_health == health {
                return false;
            }
            Arc::make_mut(current).node_health = health;
            true
        });
        if !pause(&snapshots, HEALTH_INTERVAL).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{BlockHash, ProposalId, TxHash};
    use governance_contracts::types::{Event, Outcome};

    use super::*;
    use crate::model::TxOutcome;

    /// A block's live event names the proposals its events touch and keeps its receipts in order.
    #[test]
    fn live_events_name_the_proposals_touched() {
        let proposal = ProposalId(Digest::Sha256([3; 32]));
        let block = FinalizedBlock {
            height: Height(7),
            hash: BlockHash(Digest::ZERO),
            time_ms: 1,
            transactions: vec![
                TxOutcome { hash: TxHash(Digest::Sha256([1; 32])), outcome: Outcome::Applied },
                TxOutcome {
                    hash: TxHash(Digest::Sha256([2; 32])),
                    outcome: Outcome::Rejected { reason: governance_contracts::Rejection::BadSignature },
                },
            ],
            events: vec![Event::ProposalExecuted { proposal, verdict: Default::default() }],
        };
        let event = live_event(block);
        assert_eq!(event.height, Height(7));
        assert_eq!(event.proposals_touched, vec![proposal]);
        assert_eq!(event.receipts.len(), 2);
        assert_eq!(event.rejected(), 1);
    }
}
