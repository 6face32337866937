//! The sans-IO consensus host: one per node, owning Malachite's [`State`], the node's storage (blocks, state,
//! evidence and the consensus WAL: [`NodeStorage`]), its [`Clock`], its pending transactions and its [`Syncer`].
//! It takes inputs ([`Host::start`], [`Host::on_message`], [`Host::on_timer`]) and returns [`Output`]s (messages
//! to broadcast or send to one peer, timers to schedule or cancel, blocks finalised); the runtime (tokio in
//! production, the simulator in tests) performs them.
//!
//! How the core is driven (see the shared Malachite notes):
//! - One `process!` call per input. Effects that need a follow-up input (`GetValue` → `Propose`, a received
//!   block → `ProposedValue`, the next height's start) queue it; the queue is drained after the call returns,
//!   never from inside the effect handler.
//! - Values are block hashes in `ProposalAndParts` mode: a block travels in [`NetMessage::Block`] beside the signed
//!   proposal. The host checks every received block by re-executing it over its own committed state and comparing
//!   every header field ([`InvalidBlock`] names each check) before it reports the block's validity to the core.
//!   Blocks for a later height wait until that height starts.
//! - **WAL.** Every entry the core asks to log is appended ([`WalEntry`]), and so is every block this node built
//!   (with its round) or checked. The log is flushed before any output leaves [`Host`] and before a block is
//!   written. [`Host::start`] replays the log of the unfinished height into a fresh core: blocks first (re-checked),
//!   then the core's entries with the replay index set, so that the core re-derives, and re-signs identically,
//!   exactly what it said before the crash, and `GetValue` returns the block already built for that round.
//! - `Decide` flushes the WAL, then commits block, receipts, certificate and state in one store write. `Finalize`
//!   stores any equivocation evidence, derives the next validator set from the committed state, and schedules the
//!   next height's start for `block_interval_ms` after the decided block's time ([`Timer::StartHeight`]), so
//!   blocks come at the chain's interval, empty when there is nothing to include.
//! - **Sync.** A consensus message for a later height means its sender is ahead; the [`Syncer`] asks it for the
//!   missing (block, certificate) pairs. Each is applied only if its certificate verifies against the validator
//!   set this node derived itself and re-executing it reproduces its header; the core then restarts at the next
//!   height.
//! - A storage failure, a replay divergence or a decided block the host does not hold is fatal ([`HostError`]):
//!   the node stops.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::crypto::{Digest, PublicKey, SecretKey, Verifier};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution::{self, BlockError, BlockOutcome};
use governance_contracts::ids::{self, BlockHash, NodeId, TxHash};
use governance_contracts::state::root;
use governance_contracts::types::block::{
    self, Block, BlockHeader, CommitCertificate, receipts_root, transactions_root, verify_certificate,
};
use governance_contracts::types::{Genesis, Receipt, SignedTransaction};
use malachite_core_consensus::{
    ConsensusMsg, Effect, Error as CoreError, Input, LivenessMsg, LocallyProposedValue, Params, ProposedValue,
    Resumable, Resume, SignedConsensusMsg, State, ThresholdParams, ValuePayload, VoteExtensionError, process,
};
use malachite_core_types::{
    Context as _, LinearTimeouts, NilOrVal, PolkaCertificate, Round, RoundCertificate, Timeout, ValidatorSet as _,
    Validity, ValueOrigin, VoteExtensionPolicy,
};

use super::context::{
    Address, Height, SignedProposal, SignedVote, SynodContext, ValidatorSet, ValidatorSetError, Value, sign_proposal,
    sign_vote, to_protocol_certificate, verify_message, verify_proposal, verify_vote,
};
use super::evidence::Evidence;
use super::signatures::SignatureCache;
use super::store::{BlockStore, NodeStorage, StorageFailure, StoredBlock};
use super::sync::{self, MAX_SYNC_BATCH, SyncRequest, SyncedBlock, Syncer};
use super::verify;
use super::wal::WalEntry;
use crate::failpoint;
use crate::mempool::{AdmitError, Mempool};

/// How many heights past the core's a vote, proposal or block may be kept for (the core buffers votes and
/// proposals until their height starts; the host holds blocks).
pub const FUTURE_HEIGHTS: u64 = 2;
/// Most votes and proposals of one sealer passed to the core for one later height: a proposal and two votes in
/// each of the first two rounds.
pub const FUTURE_PER_SEALER: usize = 6;
/// Most distinct blocks that verified proposals of one height may name (so most blocks checked and logged per
/// height), and most per round (a proposer that equivocates names two).
pub const MAX_NAMED: usize = 64;
/// See [`MAX_NAMED`].
pub const MAX_NAMED_PER_ROUND: usize = 2;
/// How far ahead of this node's clock a proposed block's time may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 10_000;

/// The node's clock, read for block times only (consensus timers are outputs).
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// A block travelling beside the signed proposal of a round (or restreamed for a re-proposal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedBlock {
    /// The round of the proposal it accompanies.
    pub round: Round,
    /// That proposal's POL round.
    pub valid_round: Round,
    /// That proposal's proposer.
    pub proposer: Address,
    /// The block.
    pub block: Block,
}

/// A message between hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetMessage {
    /// A signed proposal (of a block hash).
    Proposal(SignedProposal),
    /// A signed vote.
    Vote(SignedVote),
    /// A proposed block.
    Block(Box<ProposedBlock>),
    /// A polka certificate (liveness).
    PolkaCertificate(PolkaCertificate<SynodContext>),
    /// A round certificate (liveness).
    RoundCertificate(RoundCertificate<SynodContext>),
    /// A request for finalised heights (sent to one peer).
    SyncRequest(SyncRequest),
    /// Finalised heights with their certificates, in height order (at most [`MAX_SYNC_BATCH`]).
    SyncResponse(Vec<SyncedBlock>),
    /// Transactions a peer admitted to its mempool (at most [`MAX_RELAYED_TRANSACTIONS`]), relayed so that whichever
    /// sealer proposes next holds them.
    Transactions(Vec<SignedTransaction>),
}

/// Most transactions one [`NetMessage::Transactions`] carries.
pub const MAX_RELAYED_TRANSACTIONS: usize = 1_024;

/// A timer the host asks the runtime to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// A consensus timeout of the current height.
    Consensus(Timeout),
    /// The block interval after the last decided block has passed: start the next height.
    StartHeight,
}

/// A height finalised by this node, as committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedBlock {
    /// The block.
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its certificate.
    pub certificate: CommitCertificate,
    /// The validator set this node derived for the block's height.
    pub validator_set: block::ValidatorSet,
    /// This node's state root after committing the block (read back from its store).
    pub state_root: Digest,
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send to every peer.
    Broadcast(NetMessage),
    /// Relay transactions this node admitted to every peer but `except`, the one they came from (`None`: they
    /// came from this node's own clients). The runtime may hold relays briefly to send many in one message.
    Relay {
        /// The peer that sent them, which holds them already.
        except: Option<NodeId>,
        /// The transactions, each admitted to this node's mempool.
        transactions: Vec<SignedTransaction>,
    },
    /// Send to one peer.
    Send {
        /// The peer.
        to: NodeId,
        /// The message.
        message: NetMessage,
    },
    /// Fire `timer` after `after_ms` (replacing a pending one that is equal).
    Schedule {
        /// The timer.
        timer: Timer,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// Cancel one pending timer.
    Cancel(Timer),
    /// Cancel every pending consensus timer ([`Timer::Consensus`]).
    CancelConsensusTimers,
    /// A height was finalised and committed.
    Decided(Box<DecidedBlock>),
}

/// Why a received block is invalid. Each variant is one check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    /// Not the height being decided.
    #[error("block height {got}, expected {expected}")]
    WrongHeight {
        /// The current height.
        expected: ids::Height,
        /// The block's.
        got: ids::Height,
    },
    /// The transactions encode to more bytes than the chain's `max_block_bytes`.
    #[error("transactions of {bytes} bytes exceed the block limit of {max} bytes")]
    TooLarge {
        /// The transactions' canonical bytes, summed.
        bytes: u64,
        /// The chain's limit.
        max: u32,
    },
    /// The header's transactions root does not match the transactions.
    #[error("transactions root does not match the transactions")]
    TransactionsRoot,
    /// The parent is not the last finalised block.
    #[error("parent is not the last finalised block")]
    Parent,
    /// The header names another validator set.
    #[error("validator set hash does not match this height's set")]
    ValidatorSet,
    /// The proposer named in the header is not a sealer of this height.
    #[error("{0} is not a sealer at this height")]
    UnknownProposer(NodeId),
    /// Time runs backwards.
    #[error("block time {got} is before its parent's {parent}")]
    TimeBeforeParent {
        /// The parent's time.
        parent: u64,
        /// The block's.
        got: u64,
    },
    /// The block claims a time too far ahead of this node's clock.
    #[error("block time {got} is more than {MAX_CLOCK_DRIFT_MS} ms ahead of this node's clock ({now})")]
    TimeInFuture {
        /// This node's clock.
        now: u64,
        /// The block's time.
        got: u64,
    },
    /// Execution refused the block as a whole.
    #[error("block does not execute: {0}")]
    Execution(String),
    /// The state root differs from re-execution.
    #[error("state root differs from re-execution")]
    StateRoot,
    /// The receipts root differs from re-execution.
    #[error("receipts root differs from re-execution")]
    ReceiptsRoot,
    /// The next validator set differs from re-execution.
    #[error("next validator set hash differs from re-execution")]
    NextValidatorSet,
}

/// A failure that stops the node.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Storage or WAL failed.
    #[error(transparent)]
    Storage(#[from] StorageFailure),
    /// The committed state yields no usable validator set.
    #[error("validator set after height {height}: {reason}")]
    ValidatorSet {
        /// The committed height.
        height: ids::Height,
        /// Why.
        reason: String,
    },
    /// The host has no signing key.
    #[error("no signing key")]
    NoKey,
    /// The core decided a block this host does not hold as valid.
    #[error("decided block {0} is not held as a valid candidate")]
    UnknownDecidedBlock(BlockHash),
    /// The core reported an error that must stop the node (replay divergence, corrupt WAL, lost decision).
    #[error("consensus core: {0}")]
    Core(String),
    /// A certificate could not be converted or committed.
    #[error("certificate: {0}")]
    Certificate(String),
}

/// How a host is set up.
#[derive(Clone)]
pub struct HostConfig {
    /// The chain's genesis (identity and genesis time).
    pub genesis: Genesis,
    /// This node.
    pub node: NodeId,
    /// Its signing keys; the one the validator set lists for a height signs at that height.
    pub keys: Vec<SecretKey>,
    /// Consensus timeouts.
    pub timeouts: LinearTimeouts,
}

/// A checked block of the current height: valid (kept, with what executing it gives) or not (only its verdict).
enum Candidate {
    Valid { block: Box<Block>, outcome: Box<BlockOutcome> },
    Invalid,
}

impl Candidate {
    fn block(&self) -> Option<&Block> {
        match self {
            Self::Valid { block, .. } => Some(block),
            Self::Invalid => None,
        }
    }
}

/// What the host counted, for metrics, the node's status and the simulator's summary: the API's own type, so the
/// status the node serves is what the host counts.
pub use api_types::HostCounters;

/// Everything but the core's state, so that the effect handler can borrow it while the core runs.
struct Core<S, C> {
    chain: ChainIdentity,
    node: NodeId,
    keys: Vec<SecretKey>,
    timeouts: LinearTimeouts,
    genesis_time_ms: u64,
    storage: S,
    clock: C,
    /// The height being decided (the committed height + 1) and its validator set.
    height: ids::Height,
    set: ValidatorSet,
    /// The height is decided and committed; the next one starts when [`Timer::StartHeight`] fires.
    waiting: bool,
    /// While the WAL is replayed: its entries, so that the core's appends of what is already logged are skipped.
    logged: Vec<WalEntry>,
    /// The last block this node committed, for a proposal the core publishes after deciding it.
    last_decided: Option<(BlockHash, Block)>,
    mempool: Mempool,
    /// Signatures this node verified, shared by admission, building, checking and executing blocks.
    signatures: Arc<SignatureCache>,
    /// The contracts' verifier over [`Self::signatures`].
    verifier: Verifier,
    /// Blocks of the current height checked so far: built here, or received and named by a verified proposal.
    candidates: BTreeMap<BlockHash, Candidate>,
    /// Blocks this node built at the current height, by round.
    built: BTreeMap<Round, BlockHash>,
    /// Block hashes that verified proposals of the current height's proposers name, with their round.
    named: BTreeMap<BlockHash, Round>,
    /// Blocks of the current height that arrived before a proposal named them: at most one per sealer (its last).
    unnamed: BTreeMap<NodeId, (BlockHash, ProposedBlock)>,
    /// Blocks for a height that has not started (at most [`FUTURE_HEIGHTS`] ahead): one per height and sealer.
    held: BTreeMap<(ids::Height, NodeId), ProposedBlock>,
    /// Votes and proposals of later heights passed to the core, per height and signer.
    ahead: BTreeMap<(ids::Height, NodeId), usize>,
    syncer: Syncer,
    queue: VecDeque<Input<SynodContext>>,
    outputs: Vec<Output>,
    fatal: Option<HostError>,
    counters: HostCounters,
}

/// The consensus host of one node.
pub struct Host<S, C> {
    consensus: State<SynodContext>,
    core: Core<S, C>,
}

fn validator_set_after(store: &dyn BlockStore) -> Result<ValidatorSet, HostError> {
    let height = store.height();
    let set = execution::validator_set(store.state()).map_err(|e| HostError::Storage(StorageFailure(e.to_string())))?;
    ValidatorSet::new(set).map_err(|e: ValidatorSetError| HostError::ValidatorSet { height, reason: e.to_string() })
}

fn storage_error(e: impl std::fmt::Display) -> HostError {
    HostError::Storage(StorageFailure(e.to_string()))
}

fn fresh_state(node: &NodeId, height: ids::Height, set: &ValidatorSet) -> State<SynodContext> {
    let params = Params {
        address: Address(node.clone()),
        threshold_params: ThresholdParams::default(),
        value_payload: ValuePayload::ProposalAndParts,
        enabled: true,
    };
    // The host passes the core votes and proposals of at most FUTURE_HEIGHTS later heights, at most
    // FUTURE_PER_SEALER per sealer and height, so the core's buffer never refuses one.
    let heights = usize::try_from(FUTURE_HEIGHTS).unwrap_or(usize::MAX).saturating_add(1);
    State::new(SynodContext, Height(height), set.clone(), params, heights, FUTURE_PER_SEALER * block::MAX_VALIDATORS)
}

impl<S: NodeStorage, C: Clock> Host<S, C> {
    /// A host for the height after the one `storage` has committed. Call [`Self::start`] next.
    pub fn new(config: HostConfig, storage: S, clock: C) -> Result<Self, HostError> {
        if config.keys.is_empty() {
            return Err(HostError::NoKey);
        }
        let set = validator_set_after(&storage)?;
        let height = storage.height().plus(1);
        let consensus = fresh_state(&config.node, height, &set);
        let signatures = Arc::new(SignatureCache::default());
        let verifier = signatures.verifier();
        let core = Core {
            chain: config.genesis.identity(),
            node: config.node,
            keys: config.keys,
            timeouts: config.timeouts,
            genesis_time_ms: config.genesis.genesis_time_ms,
            storage,
            clock,
            height,
            set,
            waiting: false,
            logged: Vec::new(),
            last_decided: None,
            mempool: Mempool::new().with_verifier(verifier.clone()),
            signatures,
            verifier,
            candidates: BTreeMap::new(),
            built: BTreeMap::new(),
            named: BTreeMap::new(),
            unnamed: BTreeMap::new(),
            held: BTreeMap::new(),
            ahead: BTreeMap::new(),
            syncer: Syncer::new(),
            queue: VecDeque::new(),
            outputs: Vec::new(),
            fatal: None,
            counters: HostCounters::default(),
        };
        Ok(Self { consensus, core })
    }

    /// Starts consensus at the next height, replaying its write-ahead log if a previous run left one: the blocks
    /// it recorded are re-checked and held again, the core's replay index is set from the logged entries before
    /// `StartHeight` (so that whatever the core re-derives from the start, a proposal or a vote, reuses the logged
    /// signature or stops the node with a replay divergence), then the entries are fed back in order. Entries
    /// already in the log are not appended again; anything new the core says is.
    pub fn start(&mut self) -> Result<Vec<Output>, HostError> {
        let height = self.core.height;
        self.core.storage.log_reset(height)?;
        let entries = self.core.storage.log_entries(height)?;
        let mut inputs = Vec::with_capacity(entries.len());
        for entry in &entries {
            match entry {
                WalEntry::Block { built_for, block } => self.core.restore_block(*built_for, block)?,
                other => match other.to_input(height) {
                    Ok(Some(input)) => inputs.push(input),
                    Ok(None) => {}
                    Err(e) => return Err(HostError::Core(format!("write-ahead log of height {height}: {e}"))),
                },
            }
        }
        if inputs.is_empty() {
            self.core.queue_start_height();
            return self.run();
        }
        self.consensus.record_recovered_own_precommit_extensions(&inputs);
        self.consensus.index_wal_entries(&inputs);
        self.core.counters.replayed_entries = u64::try_from(inputs.len()).unwrap_or(u64::MAX);
        self.core.logged = entries;
        self.core.queue_start_height();
        let mut outputs = self.run();
        if outputs.is_ok() {
            self.core.queue.extend(inputs);
            let replayed = self.run();
            outputs = outputs.and_then(|mut o| {
                o.extend(replayed?);
                Ok(o)
            });
        }
        self.core.logged.clear();
        self.consensus.reset_entries_index();
        tracing::info!(node = %self.core.node, %height, "write-ahead log replayed");
        outputs
    }

    /// Handles a message from peer `from`.
    pub fn on_message(&mut self, from: &NodeId, message: NetMessage) -> Result<Vec<Output>, HostError> {
        let core_height = self.consensus.height().0;
        let chain = self.core.chain.clone();
        match message {
            NetMessage::Proposal(p) => {
                let verify = |key: &PublicKey| verify_proposal(&chain, &p.message, &p.signature, key);
                if self.core.admit_ahead(core_height, from, p.message.height.0, &p.message.proposer, verify) {
                    self.core.queue.push_back(Input::Proposal(p));
                }
            }
            NetMessage::Vote(v) => {
                let verify = |key: &PublicKey| verify_vote(&chain, &v.message, &v.signature, key);
                if self.core.admit_ahead(core_height, from, v.message.height.0, &v.message.voter, verify) {
                    self.core.queue.push_back(Input::Vote(v));
                }
            }
            NetMessage::PolkaCertificate(c) => {
                if self.core.certificate_in_reach(core_height, c.height.0) {
                    self.core.queue.push_back(Input::PolkaCertificate(c));
                }
            }
            NetMessage::RoundCertificate(c) => {
                if self.core.certificate_in_reach(core_height, c.height.0) {
                    self.core.queue.push_back(Input::RoundCertificate(c));
                }
            }
            NetMessage::Block(b) => self.core.on_block(from, *b)?,
            NetMessage::SyncRequest(request) => self.core.serve(from, request)?,
            NetMessage::SyncResponse(blocks) => self.on_sync_response(from, blocks)?,
            NetMessage::Transactions(transactions) => self.on_relayed(from, transactions),
        }
        self.run()
    }

    /// Handles a timer the runtime scheduled and did not cancel.
    pub fn on_timer(&mut self, timer: Timer) -> Result<Vec<Output>, HostError> {
        match timer {
            Timer::Consensus(timeout) => self.core.queue.push_back(Input::TimeoutElapsed(timeout)),
            Timer::StartHeight => {
                if self.core.waiting {
                    self.core.begin_height()?;
                }
            }
        }
        self.run()
    }

    /// Admits a transaction to the mempool if the next block over the committed state would accept it (see
    /// [`Mempool::admit`]); it is proposed in a later block.
    pub fn submit(&mut self, tx: SignedTransaction) -> Result<TxHash, AdmitError> {
        let core = &mut self.core;
        core.mempool.admit(&core.chain, core.storage.state(), tx)
    }

    /// Admits transactions a peer relayed and relays on those this node had not seen to every other peer, so a
    /// transaction floods the network once and never goes back to where it came from: a node that already holds
    /// it (or refuses it) stops it there. Refusals are not the peer's fault (the states may differ by a block) and
    /// are only logged.
    fn on_relayed(&mut self, from: &NodeId, mut transactions: Vec<SignedTransaction>) {
        transactions.truncate(MAX_RELAYED_TRANSACTIONS);
        let mut seen = BTreeSet::new();
        let unheld: Vec<SignedTransaction> = transactions
            .into_iter()
            .filter(|tx| {
                let hash = tx.tx.hash(&self.core.chain);
                // Copies that differ only in their signature are each kept: a forged one must not hide the honest one.
                !self.core.mempool.contains(&hash) && seen.insert((hash, tx.signature))
            })
            .collect();
        // Signatures are verified ahead on every core only while the pool has room for what they sign.
        if self.core.mempool.len().saturating_add(unheld.len()) <= self.core.mempool.capacity() {
            self.core.signatures.preverify(&self.core.chain, &unheld);
        }
        let mut fresh = Vec::new();
        for tx in unheld {
            let core = &mut self.core;
            match core.mempool.admit(&core.chain, core.storage.state(), tx.clone()) {
                Ok(_) => fresh.push(tx),
                Err(e) => tracing::debug!(peer = %from, error = %e, "relayed transaction not admitted"),
            }
        }
        if !fresh.is_empty() {
            self.core.outputs.push(Output::Relay { except: Some(from.clone()), transactions: fresh });
        }
    }

    /// Adds a signing key (one generated for this node's key rotation, picked up while running): from the height
    /// whose validator set lists it, it signs. A key already held is ignored.
    pub fn add_key(&mut self, key: SecretKey) {
        if !self.core.keys.iter().any(|k| k.public_key() == key.public_key()) {
            self.core.keys.push(key);
        }
    }

    /// The keys this node holds.
    pub fn keys(&self) -> &[SecretKey] {
        &self.core.keys
    }

    /// Whether the validator set of the height being decided lists this node (it votes), or not (it follows).
    pub fn is_sealer(&self) -> bool {
        self.core.set.get_by_address(&Address(self.core.node.clone())).is_some()
    }

    /// The last finalised block's hash and time (a zero hash and the genesis time before the first block).
    pub fn last_block(&self) -> Result<(BlockHash, u64), HostError> {
        self.core.parent()
    }

    /// The highest committed height that sealers with more than a third of the weight have shown, when it is
    /// ahead of this node's: the node is catching up to it.
    pub fn sync_target(&self) -> Option<ids::Height> {
        self.core.syncer.target().filter(|best| *best > self.committed_height())
    }

    /// Forgets what peers not in `connected` have shown (they disconnected); the runtime calls it with the peers
    /// its transport holds.
    pub fn retain_peers(&mut self, connected: &BTreeSet<NodeId>) {
        self.core.syncer.retain(|peer| connected.contains(peer));
    }

    /// The height being decided.
    pub fn height(&self) -> ids::Height {
        self.core.height
    }

    /// The last height this node committed.
    pub fn committed_height(&self) -> ids::Height {
        self.core.storage.height()
    }

    /// The consensus round of the current height.
    pub fn round(&self) -> Round {
        self.consensus.round()
    }

    /// The node's storage.
    pub fn storage(&self) -> &S {
        &self.core.storage
    }

    /// Gives the node's storage back (to reopen it after a simulated crash, say).
    pub fn into_storage(self) -> S {
        self.core.storage
    }

    /// This node's id.
    pub fn node(&self) -> &NodeId {
        &self.core.node
    }

    /// Valid signatures this node verified itself so far (each is verified once, then found in its set).
    pub fn signature_checks(&self) -> u64 {
        self.core.signatures.checks()
    }

    /// Transactions waiting for a block.
    pub fn pending(&self) -> &Mempool {
        &self.core.mempool
    }

    /// What the host counted so far.
    pub fn counters(&self) -> HostCounters {
        HostCounters {
            sync_requests: self.core.syncer.requests(),
            synced_heights: self.core.syncer.applied(),
            ..self.core.counters
        }
    }

    /// Received blocks found invalid so far.
    pub fn rejected_blocks(&self) -> u64 {
        self.core.counters.rejected_blocks
    }

    /// Applies synced heights from `from` in order: each must be this node's next height, carry a certificate
    /// valid for the validator set this node derived for it, and re-execute to its header. The first that fails
    /// ends the batch. The core restarts at the height after the last one applied.
    fn on_sync_response(&mut self, from: &NodeId, blocks: Vec<SyncedBlock>) -> Result<(), HostError> {
        let mut applied = 0u64;
        let cap = usize::try_from(MAX_SYNC_BATCH).unwrap_or(usize::MAX);
        for SyncedBlock { block, certificate } in blocks.into_iter().take(cap) {
            let core = &mut self.core;
            if block.header.height != core.height {
                continue;
            }
            if let Err(e) = verify_certificate(&core.chain, &block.header, &certificate, core.set.protocol()) {
                core.counters.rejected_synced = core.counters.rejected_synced.saturating_add(1);
                tracing::warn!(node = %core.node, peer = %from, error = %e, "synced block with a bad certificate");
                break;
            }
            let outcome = match core.check_block(&block, false)? {
                Ok(outcome) => outcome,
                Err(reason) => {
                    core.counters.rejected_synced = core.counters.rejected_synced.saturating_add(1);
                    tracing::warn!(node = %core.node, peer = %from, %reason, "synced block does not re-execute");
                    break;
                }
            };
            core.commit(block, outcome, certificate)?;
            core.advance()?;
            applied = applied.saturating_add(1);
            // The core was deciding the height just committed: start afresh at the next one, now.
            self.consensus = fresh_state(&self.core.node, self.core.height, &self.core.set);
            self.core.outputs.push(Output::Cancel(Timer::StartHeight));
            self.core.outputs.push(Output::CancelConsensusTimers);
            self.core.queue.clear();
            self.core.begin_height()?;
        }
        let now = self.core.clock.now_ms();
        self.core.syncer.on_response(from, applied, now);
        if applied > 0
            && let Some((peer, request)) = self.core.syncer.poll(self.core.height, now)
        {
            self.core.outputs.push(Output::Send { to: peer, message: NetMessage::SyncRequest(request) });
        }
        Ok(())
    }

    /// Feeds every queued input to the core, one `process!` call each, then flushes the WAL and hands over the
    /// outputs.
    fn run(&mut self) -> Result<Vec<Output>, HostError> {
        while let Some(input) = self.core.queue.pop_front() {
            let core = &mut self.core;
            let result: Result<(), CoreError<SynodContext>> = process!(
                input: input,
                state: &mut self.consensus,
                metrics: &(),
                with: effect => core.handle(effect)
            );
            if let Some(fatal) = self.core.fatal.take() {
                return Err(fatal);
            }
            if let Err(error) = result {
                match error {
                    CoreError::ReplayDivergence(..) | CoreError::WalCorrupted(_) | CoreError::DecisionNotFound(..) => {
                        return Err(HostError::Core(error.to_string()));
                    }
                    other => tracing::warn!(node = %self.core.node, error = %other, "consensus input refused"),
                }
            }
        }
        self.core.storage.log_flush()?;
        let outputs = std::mem::take(&mut self.core.outputs);
        if outputs.iter().any(|o| matches!(o, Output::Broadcast(NetMessage::Vote(_)))) {
            failpoint::hit(failpoint::BEFORE_BROADCAST);
        }
        Ok(outputs)
    }
}

impl<S: NodeStorage, C: Clock> Core<S, C> {
    /// The effect handler: records a fatal error so that [`Host::run`] stops the node.
    fn handle(&mut self, effect: Effect<SynodContext>) -> Result<Resume<SynodContext>, &'static str> {
        match self.on_effect(effect) {
            Ok(resume) => Ok(resume),
            Err(error) => {
                tracing::error!(node = %self.node, %error, "fatal host error");
                self.fatal.get_or_insert(error);
                Err("fatal host error; the host stops")
            }
        }
    }

    fn on_effect(&mut self, effect: Effect<SynodContext>) -> Result<Resume<SynodContext>, HostError> {
        Ok(match effect {
            Effect::CancelAllTimeouts(r) => {
                self.outputs.push(Output::CancelConsensusTimers);
                r.resume_with(())
            }
            Effect::CancelTimeout(timeout, r) => {
                self.outputs.push(Output::Cancel(Timer::Consensus(timeout)));
                r.resume_with(())
            }
            Effect::ScheduleTimeout(timeout, r) => {
                let after = self.timeouts.duration_for(timeout);
                let after_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                self.outputs.push(Output::Schedule { timer: Timer::Consensus(timeout), after_ms });
                r.resume_with(())
            }
            Effect::StartRound(_, _, _, _, r) => r.resume_with(()),
            Effect::PublishConsensusMsg(message, r) => {
                match message {
                    SignedConsensusMsg::Vote(vote) => {
                        if crate::byzantine::armed() {
                            self.equivocate_vote(&vote)?;
                        }
                        self.broadcast(NetMessage::Vote(vote));
                    }
                    SignedConsensusMsg::Proposal(proposal) => {
                        let hash = proposal.value.0;
                        let block =
                            self.candidates.get(&hash).and_then(Candidate::block).cloned().or_else(|| {
                                self.last_decided.as_ref().filter(|(h, _)| *h == hash).map(|(_, b)| b.clone())
                            });
                        let (round, valid_round, proposer) =
                            (proposal.round, proposal.pol_round, proposal.proposer.clone());
                        let conflict = crate::byzantine::armed().then(|| proposal.message.clone());
                        self.broadcast(NetMessage::Proposal(proposal));
                        if let Some(conflict) = conflict {
                            self.equivocate_proposal(conflict)?;
                        }
                        match block {
                            Some(block) => self.broadcast(NetMessage::Block(Box::new(ProposedBlock {
                                round,
                                valid_round,
                                proposer,
                                block,
                            }))),
                            None => tracing::warn!(node = %self.node, "proposal for a block this host does not hold"),
                        }
                    }
                }
                r.resume_with(())
            }
            Effect::PublishLivenessMsg(message, r) => {
                self.broadcast(match message {
                    LivenessMsg::Vote(vote) => NetMessage::Vote(vote),
                    LivenessMsg::PolkaCertificate(c) => NetMessage::PolkaCertificate(c),
                    LivenessMsg::SkipRoundCertificate(c) => NetMessage::RoundCertificate(c),
                });
                r.resume_with(())
            }
            Effect::RepublishVote(vote, r) => {
                self.broadcast(NetMessage::Vote(vote));
                r.resume_with(())
            }
            Effect::RepublishRoundCertificate(c, r) => {
                self.broadcast(NetMessage::RoundCertificate(c));
                r.resume_with(())
            }
            Effect::GetValue(height, round, _timeout, r) => {
                match self.build(height.0, round)? {
                    Some(hash) => {
                        self.queue.push_back(Input::Propose(LocallyProposedValue::new(height, round, Value(hash))))
                    }
                    None => tracing::warn!(node = %self.node, %height, %round, "no block to propose"),
                }
                r.resume_with(())
            }
            Effect::RestreamProposal(_height, round, valid_round, proposer, id, r) => {
                if let Some(block) = self.candidates.get(&id).and_then(Candidate::block) {
                    let block = block.clone();
                    self.broadcast(NetMessage::Block(Box::new(ProposedBlock { round, valid_round, proposer, block })));
                }
                r.resume_with(())
            }
            Effect::CertVerifiedSyncValue(_, _, r) | Effect::CertRejectedSyncValue(_, _, _, r) => {
                // Synced heights are verified and applied by the host itself (`Host::on_sync_response`), never
                // fed to the core, so the core has no synced value to report on.
                r.resume_with(())
            }
            Effect::Decide(certificate, _extensions, r) => {
                self.decide(&certificate)?;
                r.resume_with(())
            }
            Effect::Finalize(certificate, _extensions, evidence, r) => {
                for found in Evidence::from_core(&evidence) {
                    tracing::warn!(
                        node = %self.node,
                        height = %certificate.height,
                        offender = %found.offender(),
                        "equivocation evidence stored"
                    );
                    self.storage.record_evidence(&found)?;
                    self.counters.evidence = self.counters.evidence.saturating_add(1);
                }
                self.finalize(certificate.height.0)?;
                r.resume_with(())
            }
            Effect::SignVote(vote, r) => {
                let signed = sign_vote(&self.chain, self.key(), vote).map_err(|e| HostError::Core(e.to_string()))?;
                failpoint::hit(failpoint::AFTER_SIGN_VOTE);
                r.resume_with(signed)
            }
            Effect::SignProposal(proposal, r) => {
                let signed =
                    sign_proposal(&self.chain, self.key(), proposal).map_err(|e| HostError::Core(e.to_string()))?;
                r.resume_with(signed)
            }
            Effect::VerifySignature(message, key, r) => {
                let valid = verify_message(&self.chain, &message, &key);
                if !valid {
                    self.counters.bad_signatures = self.counters.bad_signatures.saturating_add(1);
                    tracing::warn!(node = %self.node, "consensus message with a bad signature dropped");
                } else if let ConsensusMsg::Proposal(proposal) = &message.message {
                    self.name(proposal)?;
                }
                r.resume_with(valid)
            }
            Effect::VerifyCommitCertificate(c, set, params, r) => {
                r.resume_with(verify::commit_certificate(&self.chain, &c, &set, params))
            }
            Effect::VerifyExtendedCommitCertificate(c, set, params, _policy, r) => {
                r.resume_with(verify::extended_commit_certificate(&self.chain, &c, &set, params))
            }
            Effect::VerifyPolkaCertificate(c, set, params, r) => {
                r.resume_with(verify::polka_certificate(&self.chain, &c, &set, params))
            }
            Effect::VerifyRoundCertificate(c, set, params, r) => {
                r.resume_with(verify::round_certificate(&self.chain, &c, &set, params))
            }
            Effect::WalAppend(height, entry, r) => {
                // Entries for a height the log has moved past are ignored, as the core expects; replayed entries
                // are in the log already.
                if height.0 == self.height {
                    let entry = WalEntry::from_input(&entry).map_err(|e| HostError::Core(e.to_string()))?;
                    if !self.logged.contains(&entry) {
                        self.storage.log_append(self.height, &entry)?;
                    }
                }
                r.resume_with(())
            }
            Effect::ExtendVote(_, _, _, _, r) => r.resume_with(None),
            Effect::VerifyVoteExtension(_, _, _, _, _, _, r) => {
                // Extensions are disabled: none is valid.
                r.resume_with(Err(VoteExtensionError::InvalidVoteExtension))
            }
        })
    }

    fn broadcast(&mut self, message: NetMessage) {
        self.outputs.push(Output::Broadcast(message));
    }

    /// A block hash no block has: what an equivocating sealer votes for or proposes besides its real choice.
    fn phantom_block(&self, height: ids::Height, round: Round) -> BlockHash {
        let round = round.as_i64().to_be_bytes();
        BlockHash(Digest::sha256(&[b"synod equivocation", &height.to_be_bytes(), &round]))
    }

    /// Broadcasts a vote conflicting with `vote` (see [`crate::byzantine`]).
    fn equivocate_vote(&mut self, vote: &SignedVote) -> Result<(), HostError> {
        let mut conflict = vote.message.clone();
        conflict.value = match conflict.value {
            NilOrVal::Val(_) => NilOrVal::Nil,
            NilOrVal::Nil => NilOrVal::Val(self.phantom_block(conflict.height.0, conflict.round)),
        };
        let signed = sign_vote(&self.chain, self.key(), conflict).map_err(|e| HostError::Core(e.to_string()))?;
        tracing::warn!(node = %self.node, "equivocating: a conflicting vote");
        self.broadcast(NetMessage::Vote(signed));
        Ok(())
    }

    /// Broadcasts a second proposal for the height and round of `proposal`, for a block that does not exist.
    fn equivocate_proposal(&mut self, mut proposal: super::context::Proposal) -> Result<(), HostError> {
        proposal.value = Value(self.phantom_block(proposal.height.0, proposal.round));
        let signed = sign_proposal(&self.chain, self.key(), proposal).map_err(|e| HostError::Core(e.to_string()))?;
        tracing::warn!(node = %self.node, "equivocating: a conflicting proposal");
        self.broadcast(NetMessage::Proposal(signed));
        Ok(())
    }

    /// The key the current validator set lists for this node, else the first key.
    fn key(&self) -> &SecretKey {
        let listed = self.set.get_by_address(&Address(self.node.clone())).map(|v| v.public_key);
        self.keys
            .iter()
            .find(|k| Some(k.public_key()) == listed)
            .or(self.keys.first())
            .expect("a host has at least one key (checked in Host::new)")
    }

    /// The last finalised block's hash and time (zero hash and genesis time at height 1).
    fn parent(&self) -> Result<(BlockHash, u64), HostError> {
        let committed = self.storage.height();
        if committed == ids::Height(0) {
            return Ok((BlockHash(Digest::ZERO), self.genesis_time_ms));
        }
        let stored = self
            .storage
            .block(committed)?
            .ok_or_else(|| StorageFailure(format!("committed block {committed} is missing")))?;
        Ok((stored.block.hash(&self.chain), stored.block.header.time_ms))
    }

    /// Builds (once per round) the block this node proposes in one execution pass: pending transactions in the
    /// order they were admitted, each included only if it applies over the state those before it leave, with every
    /// header field derived. `None` if execution refuses it.
    fn build(&mut self, height: ids::Height, round: Round) -> Result<Option<BlockHash>, HostError> {
        if let Some(hash) = self.built.get(&round) {
            return Ok(Some(*hash));
        }
        if height != self.height {
            return Ok(None);
        }
        let built = execution::build_block(self.storage.state(), height, self.mempool.candidates(), &self.verifier);
        let (transactions, outcome) = match built {
            Ok(built) => (built.transactions, built.outcome),
            Err(BlockError::Storage(e)) => return Err(HostError::Storage(StorageFailure(e.to_string()))),
            Err(e) => {
                tracing::warn!(node = %self.node, error = %e, "cannot build a block");
                return Ok(None);
            }
        };
        let (parent, parent_time) = self.parent()?;
        let transactions = BoundedVec::try_new(transactions.into_iter().map(|(tx, _)| tx).collect())
            .map_err(|e| HostError::Core(format!("block too large: {e}")))?;
        let header = BlockHeader {
            height,
            parent,
            state_root: outcome.state_root,
            transactions_root: transactions_root(&self.chain, &transactions),
            receipts_root: receipts_root(&self.chain, &outcome.receipts),
            validator_set_hash: self.set.protocol().hash(&self.chain),
            next_validator_set_hash: outcome.next_validator_set.hash(&self.chain),
            proposer: self.node.clone(),
            time_ms: self.clock.now_ms().max(parent_time),
        };
        let block = Block { header, transactions };
        let hash = block.hash(&self.chain);
        let built_for = round.as_u32();
        self.storage.log_append(height, &WalEntry::Block { built_for, block: block.clone() })?;
        self.candidates.insert(hash, Candidate::Valid { block: Box::new(block), outcome: Box::new(outcome) });
        self.built.insert(round, hash);
        Ok(Some(hash))
    }

    /// Checks a received block of the current height by re-executing it over the committed state.
    /// `proposed` is true for a block still being decided: only then is its time held against this node's clock (a
    /// finalised block is final whatever time it claims).
    fn check_block(&self, block: &Block, proposed: bool) -> Result<Result<BlockOutcome, InvalidBlock>, HostError> {
        let header = &block.header;
        if header.height != self.height {
            return Ok(Err(InvalidBlock::WrongHeight { expected: self.height, got: header.height }));
        }
        if !block.transactions_match(&self.chain) {
            return Ok(Err(InvalidBlock::TransactionsRoot));
        }
        let transactions: Vec<(&SignedTransaction, usize)> =
            block.transactions.iter().map(|tx| (tx, encode(tx).len())).collect();
        let max = governance_contracts::contracts::params::params(self.storage.state())
            .map_err(storage_error)?
            .max_block_bytes;
        let bytes = execution::block_bytes(transactions.iter().map(|(_, size)| *size));
        if bytes > u64::from(max) {
            return Ok(Err(InvalidBlock::TooLarge { bytes, max }));
        }
        let (parent, parent_time) = self.parent()?;
        if header.parent != parent {
            return Ok(Err(InvalidBlock::Parent));
        }
        if header.validator_set_hash != self.set.protocol().hash(&self.chain) {
            return Ok(Err(InvalidBlock::ValidatorSet));
        }
        if self.set.protocol().get(&header.proposer).is_none() {
            return Ok(Err(InvalidBlock::UnknownProposer(header.proposer.clone())));
        }
        if header.time_ms < parent_time {
            return Ok(Err(InvalidBlock::TimeBeforeParent { parent: parent_time, got: header.time_ms }));
        }
        let now = self.clock.now_ms();
        if proposed && header.time_ms > now.saturating_add(MAX_CLOCK_DRIFT_MS) {
            return Ok(Err(InvalidBlock::TimeInFuture { now, got: header.time_ms }));
        }
        // Every core verifies the signatures this node has not seen; executing the block then finds them verified.
        self.signatures.preverify(&self.chain, &block.transactions);
        let state = self.storage.state();
        let outcome = match execution::apply_block_with(state, header.height, &transactions, &self.verifier) {
            Ok(outcome) => outcome,
            Err(BlockError::Storage(e)) => return Err(HostError::Storage(StorageFailure(e.to_string()))),
            Err(e) => return Ok(Err(InvalidBlock::Execution(e.to_string()))),
        };
        if outcome.state_root != header.state_root {
            return Ok(Err(InvalidBlock::StateRoot));
        }
        if receipts_root(&self.chain, &outcome.receipts) != header.receipts_root {
            return Ok(Err(InvalidBlock::ReceiptsRoot));
        }
        if outcome.next_validator_set.hash(&self.chain) != header.next_validator_set_hash {
            return Ok(Err(InvalidBlock::NextValidatorSet));
        }
        Ok(Ok(outcome))
    }

    /// A block from peer `from`. It is kept only if `from` is the sealer that proposes it (a block travels from
    /// its round's proposer) and only until a verified proposal names it: for the current height it is checked
    /// at once if one has, else kept as that sealer's one unnamed block; for a near later height it is held, one
    /// per sealer and height. Anything else is dropped unchecked and counted.
    fn on_block(&mut self, from: &NodeId, proposed: ProposedBlock) -> Result<(), HostError> {
        let height = proposed.block.header.height;
        if height < self.height {
            return Ok(());
        }
        if proposed.proposer.0 != *from || self.set.get_by_address(&proposed.proposer).is_none() {
            self.count_unnamed(from, "a block not sent by a sealer proposing it");
            return Ok(());
        }
        if height > self.height || self.waiting {
            if height.since(self.height) > FUTURE_HEIGHTS {
                self.count_unnamed(from, "a block too far ahead");
                return Ok(());
            }
            self.held.insert((height, from.clone()), proposed);
            return Ok(());
        }
        let round_proposer = SynodContext.select_proposer(&self.set, Height(height), proposed.round).address.clone();
        if round_proposer != proposed.proposer {
            self.count_unnamed(from, "a block from a sealer that does not propose its round");
            return Ok(());
        }
        let hash = proposed.block.hash(&self.chain);
        if self.named.contains_key(&hash) {
            return self.feed_block(proposed, hash);
        }
        self.unnamed.insert(from.clone(), (hash, proposed));
        Ok(())
    }

    fn count_unnamed(&mut self, from: &NodeId, what: &str) {
        self.counters.unnamed_blocks = self.counters.unnamed_blocks.saturating_add(1);
        tracing::debug!(node = %self.node, peer = %from, "dropped {what}");
    }

    /// A proposal whose signature verified: if it is of the current height and from its round's proposer, the
    /// block it names may be checked (at most [`MAX_NAMED`] per height, [`MAX_NAMED_PER_ROUND`] per round), at
    /// once if it has arrived.
    fn name(&mut self, proposal: &super::context::Proposal) -> Result<(), HostError> {
        if proposal.height.0 != self.height || self.waiting {
            return Ok(());
        }
        if SynodContext.select_proposer(&self.set, proposal.height, proposal.round).address != proposal.proposer {
            return Ok(());
        }
        let hash = proposal.value.0;
        if !self.named.contains_key(&hash) {
            let in_round = self.named.values().filter(|round| **round == proposal.round).count();
            if self.named.len() >= MAX_NAMED || in_round >= MAX_NAMED_PER_ROUND {
                tracing::warn!(node = %self.node, round = %proposal.round, "too many blocks named at this height");
                return Ok(());
            }
            self.named.insert(hash, proposal.round);
        }
        let arrived = self.unnamed.iter().find(|(_, (h, _))| *h == hash).map(|(sender, _)| sender.clone());
        if let Some((_, proposed)) = arrived.and_then(|sender| self.unnamed.remove(&sender)) {
            self.feed_block(proposed, hash)?;
        }
        Ok(())
    }

    /// Reports the verdict on a named block of the current height to the core. A block is checked once; only a
    /// valid one is kept and logged (its bytes are within the chain's limit, so it is always storable).
    fn feed_block(&mut self, proposed: ProposedBlock, hash: BlockHash) -> Result<(), HostError> {
        let ProposedBlock { round, valid_round, proposer, block } = proposed;
        let height = block.header.height;
        let validity = match self.candidates.get(&hash) {
            Some(candidate) => Validity::from_bool(matches!(candidate, Candidate::Valid { .. })),
            None => match self.check_block(&block, true)? {
                Ok(outcome) => {
                    self.storage.log_append(self.height, &WalEntry::Block { built_for: None, block: block.clone() })?;
                    self.candidates
                        .insert(hash, Candidate::Valid { block: Box::new(block), outcome: Box::new(outcome) });
                    Validity::Valid
                }
                Err(InvalidBlock::TransactionsRoot) => {
                    // A body that does not match its header is not the block the hash names (the header commits
                    // to every byte of the transactions, signatures included): refused without judging the hash,
                    // so that a tampered copy cannot make the real block look invalid.
                    self.counters.rejected_blocks = self.counters.rejected_blocks.saturating_add(1);
                    tracing::warn!(node = %self.node, %proposer, "a block whose transactions do not match its header");
                    return Ok(());
                }
                Err(reason) => {
                    self.counters.rejected_blocks = self.counters.rejected_blocks.saturating_add(1);
                    tracing::warn!(node = %self.node, %reason, "invalid block");
                    self.candidates.insert(hash, Candidate::Invalid);
                    Validity::Invalid
                }
            },
        };
        self.queue.push_back(Input::ProposedValue(
            ProposedValue { height: Height(height), round, valid_round, proposer, value: Value(hash), validity },
            ValueOrigin::Consensus,
        ));
        Ok(())
    }

    /// Whether a vote or proposal of `height` signed by `signer`, received from `from`, goes to the core.
    /// Messages of the core's height or below do (the core verifies them and drops stale ones). A later height's
    /// goes only if `signer` is a sealer of the set this node knows and its signature verifies (else it is
    /// dropped and counted), within [`FUTURE_HEIGHTS`] and [`FUTURE_PER_SEALER`]. One that the signer sent itself
    /// tells the syncer how far that sealer is, whatever its height.
    fn admit_ahead(
        &mut self,
        core_height: ids::Height,
        from: &NodeId,
        height: ids::Height,
        signer: &Address,
        verify: impl FnOnce(&PublicKey) -> bool,
    ) -> bool {
        if height <= core_height {
            return true;
        }
        let Some(sealer) = self.set.get_by_address(signer) else {
            self.counters.dropped_ahead = self.counters.dropped_ahead.saturating_add(1);
            self.hint(from, signer, height);
            return false;
        };
        let weight = sealer.voting_power;
        if !verify(&sealer.public_key) {
            self.counters.bad_signatures = self.counters.bad_signatures.saturating_add(1);
            self.hint(from, signer, height);
            return false;
        }
        if signer.0 == *from {
            self.observe(from, height, weight);
        }
        let count = self.ahead.entry((height, signer.0.clone())).or_insert(0);
        if height.since(core_height) > FUTURE_HEIGHTS || *count >= FUTURE_PER_SEALER {
            self.counters.dropped_ahead = self.counters.dropped_ahead.saturating_add(1);
            return false;
        }
        *count = count.saturating_add(1);
        true
    }

    /// A later height's message this node cannot verify, sent by its signer itself: a hint for the syncer.
    fn hint(&mut self, from: &NodeId, signer: &Address, height: ids::Height) {
        if signer.0 != *from || height <= self.height {
            return;
        }
        let now = self.clock.now_ms();
        if let Some((to, request)) = self.syncer.hint(from, height, self.height, now) {
            tracing::info!(node = %self.node, peer = %to, from = %request.from, to = %request.to, "sync request on a hint");
            self.outputs.push(Output::Send { to, message: NetMessage::SyncRequest(request) });
        }
    }

    /// Whether a polka or round certificate of `height` goes to the core: not for a later height (the core
    /// would buffer it unverified; sealers send them again when a round stalls).
    fn certificate_in_reach(&mut self, core_height: ids::Height, height: ids::Height) -> bool {
        if height > core_height {
            self.counters.dropped_ahead = self.counters.dropped_ahead.saturating_add(1);
            return false;
        }
        true
    }

    /// Commits the decided block with its certificate.
    fn decide(&mut self, certificate: &malachite_core_types::CommitCertificate<SynodContext>) -> Result<(), HostError> {
        let hash = certificate.value_id;
        let Some(Candidate::Valid { block, outcome }) = self.candidates.remove(&hash) else {
            return Err(HostError::UnknownDecidedBlock(hash));
        };
        let (block, outcome) = (*block, *outcome);
        let protocol = to_protocol_certificate(certificate).map_err(|e| HostError::Certificate(e.to_string()))?;
        self.commit(block, outcome, protocol)
    }

    /// Writes a finalised block, its receipts, certificate and state changes in one store write, after flushing
    /// the WAL, and reports it.
    fn commit(&mut self, block: Block, outcome: BlockOutcome, certificate: CommitCertificate) -> Result<(), HostError> {
        self.storage.log_flush()?;
        failpoint::hit(failpoint::BEFORE_BLOCK_COMMIT);
        let height = block.header.height;
        self.last_decided = Some((block.hash(&self.chain), block.clone()));
        let stored = StoredBlock { block, receipts: outcome.receipts, certificate };
        self.storage.commit(stored.clone(), outcome.changes)?;
        failpoint::hit(failpoint::AFTER_BLOCK_COMMIT);
        let state_root = root::root_at(self.storage.state(), height)
            .map_err(storage_error)?
            .ok_or_else(|| StorageFailure(format!("no state root at committed height {height}")))?;
        let included: BTreeSet<TxHash> = stored.block.transactions.iter().map(|tx| tx.tx.hash(&self.chain)).collect();
        self.mempool.on_commit(height, &included);
        self.outputs.push(Output::Decided(Box::new(DecidedBlock {
            block: stored.block,
            receipts: stored.receipts,
            certificate: stored.certificate,
            validator_set: self.set.protocol().clone(),
            state_root,
        })));
        Ok(())
    }

    /// After a commit: the next height, its validator set from the committed state, its log, and blocks held.
    fn advance(&mut self) -> Result<(), HostError> {
        let next = self.storage.height().plus(1);
        self.set = validator_set_after(&self.storage)?;
        self.height = next;
        self.candidates.clear();
        self.built.clear();
        self.named.clear();
        self.unnamed.clear();
        self.storage.log_reset(next)?;
        self.held.retain(|(h, _), _| *h >= next);
        self.ahead.retain(|(h, _), _| *h >= next);
        let set = &self.set;
        self.syncer.retain_claims(|peer| set.get_by_address(&Address(peer.clone())).is_some());
        Ok(())
    }

    /// After the core finalised `decided`: moves to the next height and schedules its start for the chain's block
    /// interval after the decided block's time (at once if that time has passed).
    fn finalize(&mut self, decided: ids::Height) -> Result<(), HostError> {
        if self.storage.height() != decided {
            return Err(HostError::Core(format!(
                "finalize of height {decided} but the store holds height {}",
                self.storage.height()
            )));
        }
        self.advance()?;
        let interval = governance_contracts::contracts::params::params(self.storage.state())
            .map_err(storage_error)?
            .block_interval_ms;
        let (_, parent_time) = self.parent()?;
        let due = parent_time.saturating_add(interval);
        let now = self.clock.now_ms();
        self.waiting = true;
        if due > now {
            self.outputs.push(Output::Schedule { timer: Timer::StartHeight, after_ms: due.saturating_sub(now) });
            Ok(())
        } else {
            self.begin_height()
        }
    }

    /// Queues `StartHeight` for the current height with its validator set.
    fn queue_start_height(&mut self) {
        self.queue.push_back(Input::StartHeight(
            Height(self.height),
            self.set.clone(),
            false,
            None,
            VoteExtensionPolicy::Disabled,
        ));
    }

    /// Starts the current height: `StartHeight` queued and blocks held for it checked.
    fn begin_height(&mut self) -> Result<(), HostError> {
        self.waiting = false;
        self.queue_start_height();
        let due: Vec<(ids::Height, NodeId)> = self.held.keys().filter(|(h, _)| *h == self.height).cloned().collect();
        for key in due {
            if let Some(proposed) = self.held.remove(&key) {
                self.on_block(&key.1, proposed)?;
            }
        }
        Ok(())
    }

    /// A block recorded in the WAL before a restart: re-checked and held as a candidate again (and as this node's
    /// own block for its round if it built it).
    fn restore_block(&mut self, built_for: Option<u32>, block: &Block) -> Result<(), HostError> {
        let hash = block.hash(&self.chain);
        if !self.candidates.contains_key(&hash) {
            let candidate = match self.check_block(block, false)? {
                Ok(outcome) => Candidate::Valid { block: Box::new(block.clone()), outcome: Box::new(outcome) },
                Err(_) => Candidate::Invalid,
            };
            self.candidates.insert(hash, candidate);
        }
        if let Some(round) = built_for {
            self.built.insert(Round::new(round), hash);
        }
        Ok(())
    }

    /// A verified consensus message that sealer `peer` (of weight `weight`) sent for `height`: if sealers ahead
    /// are trusted enough (see [`Syncer`]), ask one for what this node misses.
    fn observe(&mut self, peer: &NodeId, height: ids::Height, weight: u64) {
        if height <= self.height {
            return;
        }
        let now = self.clock.now_ms();
        let tolerance = self.set.protocol().fault_tolerance();
        if let Some((to, request)) = self.syncer.observe(peer, height, weight, tolerance, self.height, now) {
            tracing::info!(node = %self.node, peer = %to, from = %request.from, to = %request.to, "sync request");
            self.outputs.push(Output::Send { to, message: NetMessage::SyncRequest(request) });
        }
    }

    /// Answers a peer's sync request with the finalised heights this node holds.
    fn serve(&mut self, peer: &NodeId, request: SyncRequest) -> Result<(), HostError> {
        let mut blocks = Vec::new();
        for height in sync::serve_range(request, self.storage.height()) {
            match self.storage.block(height)? {
                Some(stored) => blocks.push(SyncedBlock { block: stored.block, certificate: stored.certificate }),
                None => break,
            }
        }
        if !blocks.is_empty() {
            self.outputs.push(Output::Send { to: peer.clone(), message: NetMessage::SyncResponse(blocks) });
        }
        Ok(())
    }
}
