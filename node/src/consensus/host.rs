//! The sans-IO consensus host: one per node, owning Malachite's [`State`], the node's [`BlockStore`], its
//! [`Wal`], its [`Clock`] and its pending transactions. It takes inputs ([`Host::start`], [`Host::on_message`],
//! [`Host::on_timeout`]) and returns [`Output`]s (messages to broadcast, timers to schedule or cancel, blocks
//! finalised); the runtime (tokio in production, the simulator in tests) performs them.
//!
//! How the core is driven (see the shared Malachite notes):
//! - One `process!` call per input. Effects that need a follow-up input (`GetValue` → `Propose`, a received
//!   block → `ProposedValue`, `Finalize` → `StartHeight`) queue it; the queue is drained after the call returns,
//!   never from inside the effect handler.
//! - Values are block hashes in `ProposalAndParts` mode: a block travels in [`NetMessage::Block`] beside the signed
//!   proposal. The host checks every received block by re-executing it over its own committed state and comparing
//!   every header field ([`InvalidBlock`] names each check) before it reports the block's validity to the core.
//!   Blocks for a later height wait until that height starts.
//! - `Decide` flushes the WAL, then commits block, receipts, certificate (converted to the protocol's
//!   [`CommitCertificate`]) and state in one store write. `Finalize` (which follows at once: `target_time` is
//!   `None`) derives the next validator set from the committed state and queues `StartHeight(h + 1, set)`.
//! - The WAL is flushed before any output leaves [`Host`] and before a block is written. A storage failure, a
//!   replay divergence or a decided block the host does not hold is fatal ([`HostError`]): the node stops.
//!
//! Not yet here (later steps): WAL replay on restart, sync of missed heights, persisting built blocks across
//! restarts, storing equivocation evidence (it is counted), a mempool that checks transactions at the door.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::crypto::{Digest, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution::{self, BlockError, BlockOutcome};
use governance_contracts::ids::{self, BlockHash, NodeId, TxHash};
use governance_contracts::state::root;
use governance_contracts::types::block::{
    self, Block, BlockHeader, CommitCertificate, receipts_root, transactions_root,
};
use governance_contracts::types::{Genesis, Receipt, SignedTransaction};
use malachite_core_consensus::{
    Effect, Error as CoreError, Input, LivenessMsg, LocallyProposedValue, Params, ProposedValue, Resumable, Resume,
    SignedConsensusMsg, State, ThresholdParams, ValuePayload, VoteExtensionError, process,
};
use malachite_core_types::{
    LinearTimeouts, PolkaCertificate, Round, RoundCertificate, Timeout, ValidatorSet as _, Validity, ValueOrigin,
    VoteExtensionPolicy,
};

use super::context::{
    Address, Height, SignedProposal, SignedVote, SynodContext, ValidatorSet, ValidatorSetError, Value, sign_proposal,
    sign_vote, to_protocol_certificate, verify_message,
};
use super::store::{BlockStore, StorageFailure, StoredBlock};
use super::verify;
use super::wal::Wal;

/// Most blocks held for heights after the current one.
const MAX_HELD_BLOCKS: usize = 64;
/// How many heights ahead a received block may be held.
const MAX_HELD_HEIGHTS_AHEAD: u64 = 2;
/// Most distinct candidate blocks checked per height.
const MAX_CANDIDATES: usize = 256;

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
    /// Fire `timeout` after `after_ms` (replacing a pending one with the same kind and round).
    ScheduleTimeout {
        /// The timeout.
        timeout: Timeout,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// Cancel one pending timeout.
    CancelTimeout(Timeout),
    /// Cancel every pending timeout.
    CancelAllTimeouts,
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
    /// The core decided a block this host does not hold as valid (needs sync, a later step).
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

/// A candidate block of the current height with its verdict.
struct Candidate {
    block: Block,
    verdict: Result<BlockOutcome, InvalidBlock>,
}

/// Everything but the core's state, so that the effect handler can borrow it while the core runs.
struct Core<S, W, C> {
    chain: ChainIdentity,
    node: NodeId,
    keys: Vec<SecretKey>,
    timeouts: LinearTimeouts,
    genesis_time_ms: u64,
    store: S,
    wal: W,
    clock: C,
    /// The height being decided and its validator set.
    height: ids::Height,
    set: ValidatorSet,
    pending: Vec<SignedTransaction>,
    candidates: BTreeMap<BlockHash, Candidate>,
    /// Blocks this node built at the current height, by round.
    built: BTreeMap<Round, BlockHash>,
    held: BTreeMap<ids::Height, Vec<ProposedBlock>>,
    queue: VecDeque<Input<SynodContext>>,
    outputs: Vec<Output>,
    fatal: Option<HostError>,
    evidence: u64,
    rejected_blocks: u64,
}

/// The consensus host of one node.
pub struct Host<S, W, C> {
    consensus: State<SynodContext>,
    core: Core<S, W, C>,
}

fn validator_set_after(store: &dyn BlockStore) -> Result<ValidatorSet, HostError> {
    let height = store.height();
    let set = execution::validator_set(store.state()).map_err(|e| HostError::Storage(StorageFailure(e.to_string())))?;
    ValidatorSet::new(set).map_err(|e: ValidatorSetError| HostError::ValidatorSet { height, reason: e.to_string() })
}

impl<S: BlockStore, W: Wal, C: Clock> Host<S, W, C> {
    /// A host for the height after the one `store` has committed. Call [`Self::start`] next.
    pub fn new(config: HostConfig, store: S, wal: W, clock: C) -> Result<Self, HostError> {
        if config.keys.is_empty() {
            return Err(HostError::NoKey);
        }
        let set = validator_set_after(&store)?;
        let height = store.height().plus(1);
        let params = Params {
            address: Address(config.node.clone()),
            threshold_params: ThresholdParams::default(),
            value_payload: ValuePayload::ProposalAndParts,
            enabled: true,
        };
        let consensus = State::new(SynodContext, Height(height), set.clone(), params, 1024, 256);
        let core = Core {
            chain: config.genesis.identity(),
            node: config.node,
            keys: config.keys,
            timeouts: config.timeouts,
            genesis_time_ms: config.genesis.genesis_time_ms,
            store,
            wal,
            clock,
            height,
            set,
            pending: Vec::new(),
            candidates: BTreeMap::new(),
            built: BTreeMap::new(),
            held: BTreeMap::new(),
            queue: VecDeque::new(),
            outputs: Vec::new(),
            fatal: None,
            evidence: 0,
            rejected_blocks: 0,
        };
        Ok(Self { consensus, core })
    }

    /// Starts consensus at the next height (with an empty WAL: replay comes in a later step).
    pub fn start(&mut self) -> Result<Vec<Output>, HostError> {
        let height = Height(self.core.height);
        self.core.wal.reset(height)?;
        self.core.queue.push_back(Input::StartHeight(
            height,
            self.core.set.clone(),
            false,
            None,
            VoteExtensionPolicy::Disabled,
        ));
        self.run()
    }

    /// Handles a message from a peer.
    pub fn on_message(&mut self, message: NetMessage) -> Result<Vec<Output>, HostError> {
        match message {
            NetMessage::Proposal(p) => self.core.queue.push_back(Input::Proposal(p)),
            NetMessage::Vote(v) => self.core.queue.push_back(Input::Vote(v)),
            NetMessage::PolkaCertificate(c) => self.core.queue.push_back(Input::PolkaCertificate(c)),
            NetMessage::RoundCertificate(c) => self.core.queue.push_back(Input::RoundCertificate(c)),
            NetMessage::Block(b) => self.core.on_block(*b)?,
        }
        self.run()
    }

    /// Handles a timeout the runtime scheduled and did not cancel.
    pub fn on_timeout(&mut self, timeout: Timeout) -> Result<Vec<Output>, HostError> {
        self.core.queue.push_back(Input::TimeoutElapsed(timeout));
        self.run()
    }

    /// Adds a transaction to propose in a later block (a mempool with admission checks comes later).
    pub fn submit(&mut self, tx: SignedTransaction) {
        self.core.pending.push(tx);
    }

    /// The height being decided.
    pub fn height(&self) -> ids::Height {
        self.core.height
    }

    /// The last height this node committed.
    pub fn committed_height(&self) -> ids::Height {
        self.core.store.height()
    }

    /// The consensus round of the current height.
    pub fn round(&self) -> Round {
        self.consensus.round()
    }

    /// The node's store.
    pub fn store(&self) -> &S {
        &self.core.store
    }

    /// The node's WAL.
    pub fn wal(&self) -> &W {
        &self.core.wal
    }

    /// This node's id.
    pub fn node(&self) -> &NodeId {
        &self.core.node
    }

    /// Transactions waiting for a block.
    pub fn pending(&self) -> &[SignedTransaction] {
        &self.core.pending
    }

    /// Equivocation evidence reports received from the core so far (storage of the evidence comes later).
    pub fn evidence_reports(&self) -> u64 {
        self.core.evidence
    }

    /// Received blocks found invalid so far.
    pub fn rejected_blocks(&self) -> u64 {
        self.core.rejected_blocks
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
        self.core.wal.flush()?;
        Ok(std::mem::take(&mut self.core.outputs))
    }
}

impl<S: BlockStore, W: Wal, C: Clock> Core<S, W, C> {
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
                self.outputs.push(Output::CancelAllTimeouts);
                r.resume_with(())
            }
            Effect::CancelTimeout(timeout, r) => {
                self.outputs.push(Output::CancelTimeout(timeout));
                r.resume_with(())
            }
            Effect::ScheduleTimeout(timeout, r) => {
                let after = self.timeouts.duration_for(timeout);
                let after_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                self.outputs.push(Output::ScheduleTimeout { timeout, after_ms });
                r.resume_with(())
            }
            Effect::StartRound(_, _, _, _, r) => r.resume_with(()),
            Effect::PublishConsensusMsg(message, r) => {
                match message {
                    SignedConsensusMsg::Vote(vote) => self.broadcast(NetMessage::Vote(vote)),
                    SignedConsensusMsg::Proposal(proposal) => {
                        let block = self.candidates.get(&proposal.value.0).map(|c| c.block.clone());
                        let (round, valid_round, proposer) =
                            (proposal.round, proposal.pol_round, proposal.proposer.clone());
                        self.broadcast(NetMessage::Proposal(proposal));
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
                if let Some(candidate) = self.candidates.get(&id) {
                    let block = candidate.block.clone();
                    self.broadcast(NetMessage::Block(Box::new(ProposedBlock { round, valid_round, proposer, block })));
                }
                r.resume_with(())
            }
            Effect::CertVerifiedSyncValue(_, _, r) | Effect::CertRejectedSyncValue(_, _, _, r) => {
                // The host sends no sync requests yet, so no sync response reaches the core.
                r.resume_with(())
            }
            Effect::Decide(certificate, _extensions, r) => {
                self.decide(&certificate)?;
                r.resume_with(())
            }
            Effect::Finalize(certificate, _extensions, evidence, r) => {
                if !evidence.is_empty() {
                    self.evidence = self.evidence.saturating_add(1);
                    tracing::warn!(node = %self.node, height = %certificate.height, "equivocation evidence");
                }
                self.finalize(certificate.height.0)?;
                r.resume_with(())
            }
            Effect::SignVote(vote, r) => {
                let signed = sign_vote(&self.chain, self.key(), vote).map_err(|e| HostError::Core(e.to_string()))?;
                r.resume_with(signed)
            }
            Effect::SignProposal(proposal, r) => {
                let signed =
                    sign_proposal(&self.chain, self.key(), proposal).map_err(|e| HostError::Core(e.to_string()))?;
                r.resume_with(signed)
            }
            Effect::VerifySignature(message, key, r) => r.resume_with(verify_message(&self.chain, &message, &key)),
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
                // Entries for a height the log has moved past are ignored, as the core expects.
                if height == self.wal.height() {
                    self.wal.append(entry)?;
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
        let committed = self.store.height();
        if committed == ids::Height(0) {
            return Ok((BlockHash(Digest::ZERO), self.genesis_time_ms));
        }
        let stored = self
            .store
            .block(committed)?
            .ok_or_else(|| StorageFailure(format!("committed block {committed} is missing")))?;
        Ok((stored.block.hash(&self.chain), stored.block.header.time_ms))
    }

    /// Builds (once per round) the block this node proposes: pending transactions that pass the admission check
    /// over the committed state, executed, with every header field derived. `None` if execution refuses it.
    fn build(&mut self, height: ids::Height, round: Round) -> Result<Option<BlockHash>, HostError> {
        if let Some(hash) = self.built.get(&round) {
            return Ok(Some(*hash));
        }
        if height != self.height {
            return Ok(None);
        }
        let state = self.store.state();
        let storage = |e: governance_contracts::Error| HostError::Storage(StorageFailure(e.to_string()));
        let context = execution::next_block_context(state).map_err(storage)?;
        let max = governance_contracts::contracts::params::params(state).map_err(storage)?.max_block_transactions;
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let mut transactions: Vec<(SignedTransaction, usize)> = Vec::new();
        for tx in &self.pending {
            if transactions.len() >= max {
                break;
            }
            let size = encode(tx).len();
            if execution::check_transaction_in(state, &context, tx, size).is_ok() {
                transactions.push((tx.clone(), size));
            }
        }
        let outcome = match execution::apply_block(state, height, &transactions) {
            Ok(outcome) => outcome,
            Err(BlockError::Storage(e)) => return Err(HostError::Storage(StorageFailure(e.to_string()))),
            Err(e) => {
                tracing::warn!(node = %self.node, error = %e, "cannot build a block");
                return Ok(None);
            }
        };
        let (parent, parent_time) = self.parent()?;
        let hashes: Vec<TxHash> = transactions.iter().map(|(tx, _)| tx.tx.hash(&self.chain)).collect();
        let header = BlockHeader {
            height,
            parent,
            state_root: outcome.state_root,
            transactions_root: transactions_root(&self.chain, &hashes),
            receipts_root: receipts_root(&self.chain, &outcome.receipts),
            validator_set_hash: self.set.protocol().hash(&self.chain),
            next_validator_set_hash: outcome.next_validator_set.hash(&self.chain),
            proposer: self.node.clone(),
            time_ms: self.clock.now_ms().max(parent_time),
        };
        let transactions = BoundedVec::try_new(transactions.into_iter().map(|(tx, _)| tx).collect())
            .map_err(|e| HostError::Core(format!("block too large: {e}")))?;
        let block = Block { header, transactions };
        let hash = block.hash(&self.chain);
        self.candidates.insert(hash, Candidate { block, verdict: Ok(outcome) });
        self.built.insert(round, hash);
        Ok(Some(hash))
    }

    /// Checks a received block of the current height by re-executing it over the committed state.
    fn check_block(&self, block: &Block) -> Result<Result<BlockOutcome, InvalidBlock>, HostError> {
        let header = &block.header;
        if header.height != self.height {
            return Ok(Err(InvalidBlock::WrongHeight { expected: self.height, got: header.height }));
        }
        if !block.transactions_match(&self.chain) {
            return Ok(Err(InvalidBlock::TransactionsRoot));
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
        let transactions: Vec<(SignedTransaction, usize)> = block
            .transactions
            .iter()
            .map(|tx| {
                let size = encode(tx).len();
                (tx.clone(), size)
            })
            .collect();
        let outcome = match execution::apply_block(self.store.state(), header.height, &transactions) {
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

    /// A block from a peer: checked now if it is for the current height, held if for a near later height.
    fn on_block(&mut self, proposed: ProposedBlock) -> Result<(), HostError> {
        let height = proposed.block.header.height;
        if height < self.height {
            return Ok(());
        }
        if height > self.height {
            let held: usize = self.held.values().map(Vec::len).sum();
            if height.since(self.height) <= MAX_HELD_HEIGHTS_AHEAD && held < MAX_HELD_BLOCKS {
                self.held.entry(height).or_default().push(proposed);
            }
            return Ok(());
        }
        self.feed_block(proposed)
    }

    /// Reports the verdict on a current-height block to the core.
    fn feed_block(&mut self, proposed: ProposedBlock) -> Result<(), HostError> {
        let hash = proposed.block.hash(&self.chain);
        let validity = match self.candidates.get(&hash) {
            Some(candidate) => Validity::from_bool(candidate.verdict.is_ok()),
            None => {
                if self.candidates.len() >= MAX_CANDIDATES {
                    return Ok(());
                }
                let verdict = self.check_block(&proposed.block)?;
                if let Err(reason) = &verdict {
                    self.rejected_blocks = self.rejected_blocks.saturating_add(1);
                    tracing::warn!(node = %self.node, %reason, "invalid block");
                }
                let validity = Validity::from_bool(verdict.is_ok());
                self.candidates.insert(hash, Candidate { block: proposed.block.clone(), verdict });
                validity
            }
        };
        self.queue.push_back(Input::ProposedValue(
            ProposedValue {
                height: Height(proposed.block.header.height),
                round: proposed.round,
                valid_round: proposed.valid_round,
                proposer: proposed.proposer,
                value: Value(hash),
                validity,
            },
            ValueOrigin::Consensus,
        ));
        Ok(())
    }

    /// Commits the decided block with its certificate, after flushing the WAL.
    fn decide(&mut self, certificate: &malachite_core_types::CommitCertificate<SynodContext>) -> Result<(), HostError> {
        let hash = certificate.value_id;
        let Some(Candidate { block, verdict: Ok(outcome) }) = self.candidates.remove(&hash) else {
            return Err(HostError::UnknownDecidedBlock(hash));
        };
        let protocol = to_protocol_certificate(certificate).map_err(|e| HostError::Certificate(e.to_string()))?;
        self.wal.flush()?;
        let height = block.header.height;
        let stored = StoredBlock { block, receipts: outcome.receipts, certificate: protocol };
        self.store.commit(stored.clone(), outcome.changes)?;
        let state_root = root::root_at(self.store.state(), height)
            .map_err(|e| StorageFailure(e.to_string()))?
            .ok_or_else(|| StorageFailure(format!("no state root at committed height {height}")))?;
        let included: BTreeSet<TxHash> = stored.block.transactions.iter().map(|tx| tx.tx.hash(&self.chain)).collect();
        let chain = &self.chain;
        self.pending.retain(|tx| tx.tx.valid_until > height && !included.contains(&tx.tx.hash(chain)));
        self.outputs.push(Output::Decided(Box::new(DecidedBlock {
            block: stored.block,
            receipts: stored.receipts,
            certificate: stored.certificate,
            validator_set: self.set.protocol().clone(),
            state_root,
        })));
        Ok(())
    }

    /// Moves to the next height: its validator set from the committed state, a fresh WAL, `StartHeight` queued,
    /// and blocks held for it checked.
    fn finalize(&mut self, decided: ids::Height) -> Result<(), HostError> {
        if self.store.height() != decided {
            return Err(HostError::Core(format!(
                "finalize of height {decided} but the store holds height {}",
                self.store.height()
            )));
        }
        let next = decided.plus(1);
        self.set = validator_set_after(&self.store)?;
        self.height = next;
        self.candidates.clear();
        self.built.clear();
        self.wal.reset(Height(next))?;
        self.queue.push_back(Input::StartHeight(
            Height(next),
            self.set.clone(),
            false,
            None,
            VoteExtensionPolicy::Disabled,
        ));
        self.held.retain(|h, _| *h >= next);
        if let Some(held) = self.held.remove(&next) {
            for proposed in held {
                self.feed_block(proposed)?;
            }
        }
        Ok(())
    }
}
