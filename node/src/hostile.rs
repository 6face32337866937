//! A hostile observer, for the fault suite and the simulator only: a sans-IO generator of the traffic an admitted
//! peer can send to stop honest nodes.
//!
//! In a `synod` built with the `byzantine-test` feature, setting `SYNOD_HOSTILE=1` when the node starts makes it run
//! as usual (its honest host follows the chain) while its runtime:
//! - never delivers a [`NetMessage::SyncRequest`] to its host, so it never answers one;
//! - shows every other message it receives to a [`Hostile`] ([`Hostile::receive`]), which learns the height, the
//!   round, the sealers and the last real block from it, and rebroadcasts a tampered copy of each new real block;
//! - tells it each block its own host commits ([`Hostile::committed`]): the parent its junk names;
//! - broadcasts one burst of every [`Attack`] each [`BURST_EVERY_MS`] ([`Hostile::bursts`]).
//!
//! The attacks ([`Attack`]) are: a block over the largest block byte limit a chain may set; floods of cheap blocks
//! no proposal names; votes and proposals at far heights, under garbage signatures and under the observer's own key;
//! and copies of the real block with one transaction signature byte flipped, same header, round and proposer.
//!
//! [`Hostile`] holds no clock and no socket: it is seeded ([`SplitMix64`]), so the same seed and the same messages
//! observed give the same bursts, and the simulator drives it like the runtime does. A `synod` built without the
//! feature refuses to start when the variable is set (as [`crate::byzantine`] does).

use std::collections::BTreeSet;

use governance_contracts::codec::{BoundedVec, Name, encode};
use governance_contracts::crypto::{Digest, SecretKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, BlockHash, Height, NodeId, ProposalId};
use governance_contracts::types::block::{
    Block, BlockHeader, MAX_BLOCK_TRANSACTIONS, MAX_VALIDATORS, transactions_root,
};
use governance_contracts::types::proposal::MAX_APPROVALS;
use governance_contracts::types::{Approval, Payload, Principal, SignedTransaction, Transaction};
use malachite_core_types::{NilOrVal, Round, SignedMessage, VoteType};

use crate::consensus::context::{self, Address, Proposal, Value, Vote};
use crate::consensus::host::{NetMessage, ProposedBlock};
use crate::sim::rng::SplitMix64;

/// The environment variable that arms the hostile observer.
pub const ENV: &str = "SYNOD_HOSTILE";

/// How often the runtime broadcasts one burst of every attack ([`Hostile::bursts`]).
pub const BURST_EVERY_MS: u64 = 150;

/// How many bytes the transactions of an oversized block encode to, at least: over 3 MiB, the largest block byte
/// limit (`max_block_bytes`) a chain's parameters allow, and far enough under the 4 MiB a message may take on the
/// wire that the block is delivered.
pub const OVERSIZED_BYTES: usize = 3 * 1024 * 1024 + 64 * 1024;

/// Blocks no proposal names in one burst of [`Attack::UnnamedBlocks`]: three in four for the current height, the
/// rest for the next.
pub const UNNAMED_PER_BURST: usize = 96;

/// How far ahead of the current height the nearer of the two far heights is ([`Attack::FarVotes`],
/// [`Attack::FarProposals`]); the other is `u64::MAX`.
pub const FAR_AHEAD: u64 = 1_000;

/// Forgeries per far height in one burst of [`Attack::FarVotes`] or [`Attack::FarProposals`]: in a sealer's name
/// under a garbage signature, in a sealer's name under the observer's key, and in the observer's own name under its
/// own key.
pub const FORGERIES_PER_HEIGHT: usize = 3;

/// Most messages one [`Hostile::burst`] returns.
pub const MAX_BURST: usize = UNNAMED_PER_BURST;

/// A height (or round) a consensus message claims is believed only this far above the one already learned: further
/// is a forgery (another hostile node's).
const MAX_BELIEVED_STEP: u64 = 64;

/// Most sealer ids remembered (the protocol's largest validator set).
const MAX_SEALERS: usize = MAX_VALIDATORS;

/// A block's transactions.
type Transactions = BoundedVec<SignedTransaction, MAX_BLOCK_TRANSACTIONS>;

/// Whether this process is a hostile observer: built with the feature and armed by [`ENV`]`=1`. Read once.
pub fn armed() -> bool {
    static ARMED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ARMED.get_or_init(|| crate::byzantine::flag_set(ENV))
}

/// Refuses an environment that asks for a hostile observer this build cannot run, or a value other than `1`.
pub fn check_environment() -> Result<(), String> {
    crate::byzantine::check_flag(ENV)
}

/// The transactions root a header names for `transactions`.
fn root_of(chain: &ChainIdentity, transactions: &[SignedTransaction]) -> Digest {
    transactions_root(chain, transactions)
}

/// The seed the runtime gives the [`Hostile`] of `node`: fixed per node, so a rerun repeats its choices.
pub fn seed(node: &NodeId) -> u64 {
    let digest = Digest::sha256(&[b"synod hostile seed", node.to_string().as_bytes()]);
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.as_bytes().get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(first)
}

/// One kind of hostile traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attack {
    /// A block for the current height whose transactions encode to more than [`OVERSIZED_BYTES`], its header
    /// copied from the real block (transactions root recomputed so that it matches); at most one per height and
    /// round.
    OversizedBlock,
    /// [`UNNAMED_PER_BURST`] small blocks no proposal names (random state roots, no transactions), for the current
    /// height and the next.
    UnnamedBlocks,
    /// Votes at height `u64::MAX` and at the current height + [`FAR_AHEAD`].
    FarVotes,
    /// Proposals at height `u64::MAX` and at the current height + [`FAR_AHEAD`].
    FarProposals,
    /// The last real block of the current height with one byte of one transaction's signature flipped: same header,
    /// round, POL round and proposer. Nothing when that block carries no transaction.
    TamperedBlock,
}

impl Attack {
    /// Every attack, in the order [`Hostile::bursts`] makes them.
    pub const ALL: [Attack; 5] =
        [Self::OversizedBlock, Self::UnnamedBlocks, Self::FarVotes, Self::FarProposals, Self::TamperedBlock];
}

/// What a hostile node does with a message it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Whether its own host gets the message: false for a sync request, which it never answers.
    pub deliver: bool,
    /// What it broadcasts at once in reaction (a tampered copy of a new real block).
    pub broadcast: Vec<NetMessage>,
}

/// The hostile traffic generator of one observer (see the module documentation).
#[derive(Debug, Clone)]
pub struct Hostile {
    chain: ChainIdentity,
    node: NodeId,
    key: SecretKey,
    rng: SplitMix64,
    /// The highest height honest traffic showed (0 before any).
    height: Height,
    /// The highest round honest traffic showed at that height.
    round: Round,
    /// Voters and proposers honest traffic showed.
    sealers: BTreeSet<NodeId>,
    /// The last real block seen, with its round, POL round and proposer.
    last_block: Option<ProposedBlock>,
    /// The transactions of every oversized block, made once.
    oversized: Option<(Transactions, Digest)>,
    /// The height and round of the last oversized block sent.
    oversized_sent: Option<(Height, Round)>,
    /// The height, hash and time of the last block this node committed.
    committed: Option<(Height, BlockHash, u64)>,
}

impl Hostile {
    /// A generator for observer `node` of chain `chain`, signing with `key`, seeded with `seed`.
    pub fn new(chain: ChainIdentity, node: NodeId, key: SecretKey, seed: u64) -> Self {
        Self {
            chain,
            node,
            key,
            rng: SplitMix64::new(seed),
            height: Height(0),
            round: Round::ZERO,
            sealers: BTreeSet::new(),
            last_block: None,
            oversized: None,
            oversized_sent: None,
            committed: None,
        }
    }

    /// The height the attacks aim at: the highest one honest traffic showed, 1 before any.
    pub fn height(&self) -> Height {
        self.height.max(Height(1))
    }

    /// The round the attacks aim at.
    pub fn round(&self) -> Round {
        self.round
    }

    /// The sealers honest traffic showed (voters and proposers).
    pub fn sealers(&self) -> &BTreeSet<NodeId> {
        &self.sealers
    }

    /// The last real block seen, as it travelled.
    pub fn last_block(&self) -> Option<&ProposedBlock> {
        self.last_block.as_ref()
    }

    /// Learns from a message peer `from` sent: the height and round of consensus messages (a height more than a
    /// few dozen above the one learned is another forger's and is ignored), the voters and proposers, and the last
    /// real block (one whose transactions match its header). Messages that claim to come from this node are
    /// ignored.
    pub fn observe(&mut self, from: &NodeId, message: &NetMessage) {
        if *from == self.node {
            return;
        }
        match message {
            NetMessage::Proposal(p) => {
                if self.learn(p.message.height.0, p.message.round) {
                    self.remember(&p.message.proposer.0);
                }
            }
            NetMessage::Vote(v) => {
                if self.learn(v.message.height.0, v.message.round) {
                    self.remember(&v.message.voter.0);
                }
            }
            NetMessage::Block(b) => {
                let newer = self.last_block.as_ref().is_none_or(|last| {
                    last.block.header.height < b.block.header.height
                        || (last.block.header.height == b.block.header.height && last.block != b.block)
                });
                if newer && b.block.transactions_match(&self.chain) && self.learn(b.block.header.height, b.round) {
                    self.remember(&b.block.header.proposer);
                    self.last_block = Some((**b).clone());
                }
            }
            NetMessage::PolkaCertificate(c) => {
                self.learn(c.height.0, c.round);
            }
            NetMessage::RoundCertificate(c) => {
                self.learn(c.height.0, c.round);
            }
            NetMessage::SyncRequest(_) | NetMessage::SyncResponse(_) | NetMessage::Transactions(_) => {}
        }
    }

    /// Learns that this node's own host committed `block` (it follows the chain): the block is the parent of the
    /// next height's, which is the target if no later one was learned.
    pub fn committed(&mut self, block: &Block) {
        let height = block.header.height;
        if self.committed.is_some_and(|(last, ..)| last >= height) {
            return;
        }
        self.committed = Some((height, block.hash(&self.chain), block.header.time_ms));
        if height.plus(1) > self.height {
            self.height = height.plus(1);
            self.round = Round::ZERO;
        }
    }

    /// What this node does with a message it received: it learns from it ([`Self::observe`]); a sync request is
    /// kept from its host (never answered); a new real block is answered at once with a tampered copy
    /// ([`Attack::TamperedBlock`]), so that the copy races the real one.
    pub fn receive(&mut self, from: &NodeId, message: &NetMessage) -> Received {
        if matches!(message, NetMessage::SyncRequest(_)) {
            return Received { deliver: false, broadcast: Vec::new() };
        }
        let before = self.last_block.as_ref().map(|b| b.block.hash(&self.chain));
        self.observe(from, message);
        let after = self.last_block.as_ref().map(|b| b.block.hash(&self.chain));
        let broadcast = if after != before { self.burst(Attack::TamperedBlock) } else { Vec::new() };
        Received { deliver: true, broadcast }
    }

    /// One burst of `attack`: the messages to broadcast, at most [`MAX_BURST`] (see each [`Attack`] for how many).
    pub fn burst(&mut self, attack: Attack) -> Vec<NetMessage> {
        match attack {
            Attack::OversizedBlock => self.oversized_block().into_iter().collect(),
            Attack::UnnamedBlocks => self.unnamed_blocks(),
            Attack::FarVotes => self.far_votes(),
            Attack::FarProposals => self.far_proposals(),
            Attack::TamperedBlock => self.tampered_block().into_iter().collect(),
        }
    }

    /// One burst of every attack, in the order of [`Attack::ALL`].
    pub fn bursts(&mut self) -> Vec<NetMessage> {
        Attack::ALL.into_iter().flat_map(|attack| self.burst(attack)).collect()
    }

    /// Takes `height` and `round` as the target if they are believable; returns whether they were.
    fn learn(&mut self, height: Height, round: Round) -> bool {
        if self.height.0 > 0 && height.0 > self.height.0.saturating_add(MAX_BELIEVED_STEP) {
            return false;
        }
        if height > self.height {
            self.height = height;
            self.round = Round::ZERO;
        }
        let believed =
            round.as_i64() <= self.round.as_i64().saturating_add(i64::try_from(MAX_BELIEVED_STEP).unwrap_or(0));
        if height == self.height && round > self.round && believed {
            self.round = round;
        }
        true
    }

    fn remember(&mut self, node: &NodeId) {
        if *node != self.node && self.sealers.len() < MAX_SEALERS {
            self.sealers.insert(node.clone());
        }
    }

    fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut bytes = [0u8; N];
        for chunk in bytes.chunks_mut(8) {
            let word = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
        }
        bytes
    }

    fn random_digest(&mut self) -> Digest {
        Digest::Sha256(self.random_bytes())
    }

    fn garbage_signature(&mut self) -> Signature {
        Signature::Ed25519(self.random_bytes())
    }

    /// A random element of `0..len` (0 when `len` is 0).
    fn pick(&mut self, len: usize) -> usize {
        let high = u64::try_from(len.saturating_sub(1)).unwrap_or(u64::MAX);
        usize::try_from(self.rng.between(0, high)).unwrap_or(0)
    }

    /// A sealer to impersonate: one honest traffic showed, else this node.
    fn some_sealer(&mut self) -> NodeId {
        let index = self.pick(self.sealers.len());
        self.sealers.iter().nth(index).cloned().unwrap_or_else(|| self.node.clone())
    }

    /// The most plausible header for `height`: the last real block's if it is of that height; else its fields (or
    /// zeros before any) with the height changed and, for the height after a block this node committed or saw, that
    /// block as parent and a later time.
    fn header_for(&self, height: Height) -> BlockHeader {
        let real = self.last_block.as_ref().map(|b| &b.block);
        if let Some(real) = real.filter(|b| b.header.height == height) {
            return real.header.clone();
        }
        let mut header = real.map(|b| b.header.clone()).unwrap_or_else(|| BlockHeader {
            height,
            parent: BlockHash(Digest::ZERO),
            state_root: Digest::ZERO,
            transactions_root: root_of(&self.chain, &[]),
            receipts_root: Digest::ZERO,
            validator_set_hash: Digest::ZERO,
            next_validator_set_hash: Digest::ZERO,
            proposer: self.node.clone(),
            time_ms: 0,
        });
        header.height = height;
        let parent = match (self.committed, real) {
            (Some((committed, hash, time)), _) if committed.plus(1) == height => Some((hash, time)),
            (_, Some(real)) if real.header.height.plus(1) == height => {
                Some((real.hash(&self.chain), real.header.time_ms))
            }
            _ => None,
        };
        if let Some((hash, time)) = parent {
            header.parent = hash;
            header.time_ms = header.time_ms.max(time.saturating_add(1));
        }
        header
    }

    /// The round a block for `height` travels with: the learned round at the current height, 0 at a later one.
    fn round_for(&self, height: Height) -> Round {
        if height == self.height() { self.round } else { Round::ZERO }
    }

    /// The oversized block's transactions (made once): `Approve` transactions of this node, each carrying
    /// [`MAX_APPROVALS`] approvals under garbage signatures, until they encode to more than [`OVERSIZED_BYTES`].
    fn oversized_transactions(&mut self) -> Option<(Transactions, Digest)> {
        if let Some(made) = &self.oversized {
            return Some(made.clone());
        }
        let key = self.key.public_key();
        let mut transactions = Vec::new();
        let mut bytes = 0usize;
        while bytes <= OVERSIZED_BYTES {
            let mut approvals = Vec::with_capacity(MAX_APPROVALS);
            for index in 0..MAX_APPROVALS {
                let approver = AccountId(Name::new(format!("hostile-approver-{index:04}")).ok()?);
                approvals.push(Approval { approver, key, signature: self.garbage_signature() });
            }
            let payload = Payload::Approve {
                proposal: ProposalId(self.random_digest()),
                approvals: BoundedVec::try_new(approvals).ok()?,
            };
            let tx = Transaction { sender: Principal::Node(self.node.clone()), valid_until: self.height(), payload };
            let signed = tx.sign(&self.chain, &self.key);
            bytes = bytes.saturating_add(encode(&signed).len());
            transactions.push(signed);
        }
        let root = root_of(&self.chain, &transactions);
        let made = (BoundedVec::try_new(transactions).ok()?, root);
        self.oversized = Some(made.clone());
        Some(made)
    }

    fn oversized_block(&mut self) -> Option<NetMessage> {
        let target = (self.height(), self.round);
        if self.oversized_sent == Some(target) {
            return None;
        }
        let (transactions, root) = self.oversized_transactions()?;
        let header = BlockHeader { transactions_root: root, ..self.header_for(target.0) };
        let proposer = Address(header.proposer.clone());
        self.oversized_sent = Some(target);
        Some(NetMessage::Block(Box::new(ProposedBlock {
            round: target.1,
            valid_round: Round::Nil,
            proposer,
            block: Block { header, transactions },
        })))
    }

    fn unnamed_blocks(&mut self) -> Vec<NetMessage> {
        let current = self.height();
        let empty_root = root_of(&self.chain, &[]);
        (0..UNNAMED_PER_BURST)
            .map(|index| {
                let height = if index % 4 == 3 { current.plus(1) } else { current };
                let header = BlockHeader {
                    state_root: self.random_digest(),
                    transactions_root: empty_root,
                    ..self.header_for(height)
                };
                NetMessage::Block(Box::new(ProposedBlock {
                    round: self.round_for(height),
                    valid_round: Round::Nil,
                    proposer: Address(header.proposer.clone()),
                    block: Block { header, transactions: BoundedVec::new() },
                }))
            })
            .collect()
    }

    /// The two far heights: `u64::MAX` and the current height + [`FAR_AHEAD`].
    fn far_heights(&self) -> [Height; 2] {
        [Height(u64::MAX), self.height().plus(FAR_AHEAD)]
    }

    /// The signer and claimed author of forgery `index` of a height (see [`FORGERIES_PER_HEIGHT`]): `None` for a
    /// garbage signature.
    fn forger(&mut self, index: usize) -> (NodeId, Option<SecretKey>) {
        match index {
            0 => (self.some_sealer(), None),
            1 => (self.some_sealer(), Some(self.key.clone())),
            _ => (self.node.clone(), Some(self.key.clone())),
        }
    }

    fn far_votes(&mut self) -> Vec<NetMessage> {
        let mut out = Vec::with_capacity(2 * FORGERIES_PER_HEIGHT);
        for height in self.far_heights() {
            for index in 0..FORGERIES_PER_HEIGHT {
                let (voter, key) = self.forger(index);
                let vote_type =
                    if self.rng.next_u64().is_multiple_of(2) { VoteType::Prevote } else { VoteType::Precommit };
                let value = if self.rng.next_u64().is_multiple_of(4) {
                    NilOrVal::Nil
                } else {
                    NilOrVal::Val(BlockHash(self.random_digest()))
                };
                let vote = Vote {
                    height: context::Height(height),
                    round: self.round,
                    vote_type,
                    value,
                    voter: Address(voter),
                };
                let signed = match key {
                    Some(key) => context::sign_vote(&self.chain, &key, vote).ok(),
                    None => Some(SignedMessage::new(vote, self.garbage_signature())),
                };
                out.extend(signed.map(NetMessage::Vote));
            }
        }
        out
    }

    fn far_proposals(&mut self) -> Vec<NetMessage> {
        let mut out = Vec::with_capacity(2 * FORGERIES_PER_HEIGHT);
        for height in self.far_heights() {
            for index in 0..FORGERIES_PER_HEIGHT {
                let (proposer, key) = self.forger(index);
                let proposal = Proposal {
                    height: context::Height(height),
                    round: self.round,
                    value: Value(BlockHash(self.random_digest())),
                    pol_round: Round::Nil,
                    proposer: Address(proposer),
                };
                let signed = match key {
                    Some(key) => context::sign_proposal(&self.chain, &key, proposal).ok(),
                    None => Some(SignedMessage::new(proposal, self.garbage_signature())),
                };
                out.extend(signed.map(NetMessage::Proposal));
            }
        }
        out
    }

    fn tampered_block(&mut self) -> Option<NetMessage> {
        let current = self.height();
        let real = self.last_block.as_ref().filter(|b| b.block.header.height == current)?.clone();
        let count = real.block.transactions.len();
        if count == 0 {
            return None;
        }
        let tx_index = self.pick(count);
        let byte = self.pick(64);
        let bit = self.pick(8);
        let mut transactions = real.block.transactions.into_inner();
        let tx = transactions.get_mut(tx_index)?;
        let Signature::Ed25519(raw) = &mut tx.signature;
        let flipped = raw.get_mut(byte)?;
        *flipped ^= 1u8 << bit;
        let block = Block { header: real.block.header, transactions: BoundedVec::try_new(transactions).ok()? };
        Some(NetMessage::Block(Box::new(ProposedBlock { block, ..real })))
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::MAX_DECODE_BYTES;
    use governance_contracts::testkit;

    use super::*;
    use crate::consensus::sync::SyncRequest;
    use crate::p2p::wire;

    /// The largest block byte limit a chain's parameters allow.
    const LARGEST_BLOCK_LIMIT: usize = 3 * 1024 * 1024;

    fn chain() -> ChainIdentity {
        testkit::genesis(4).identity()
    }

    fn hostile(seed: u64) -> Hostile {
        Hostile::new(chain(), testkit::node("obs1"), testkit::secret("obs1"), seed)
    }

    /// A block of `height` proposed by `n2` in round 1, carrying `count` transactions signed by `n1`.
    fn real_block(height: u64, count: u64) -> ProposedBlock {
        let chain = chain();
        let transactions: Vec<SignedTransaction> = (0..count)
            .map(|i| {
                let payload = Payload::AttestReadiness { synced_height: Height(i) };
                Transaction { sender: Principal::Node(testkit::node("n1")), valid_until: Height(100), payload }
                    .sign(&chain, &testkit::secret("n1"))
            })
            .collect();
        let header = BlockHeader {
            height: Height(height),
            parent: BlockHash(Digest::sha256(&[b"parent"])),
            state_root: Digest::sha256(&[b"state"]),
            transactions_root: root_of(&chain, &transactions),
            receipts_root: Digest::sha256(&[b"receipts"]),
            validator_set_hash: Digest::sha256(&[b"set"]),
            next_validator_set_hash: Digest::sha256(&[b"next set"]),
            proposer: testkit::node("n2"),
            time_ms: 1_700_000_000_000,
        };
        ProposedBlock {
            round: Round::new(1),
            valid_round: Round::Nil,
            proposer: Address(testkit::node("n2")),
            block: Block { header, transactions: BoundedVec::try_new(transactions).unwrap() },
        }
    }

    /// A prevote for nil by `voter` at `height` and `round`, under its own key.
    fn vote(voter: &str, height: u64, round: u32) -> NetMessage {
        let vote = Vote {
            height: context::Height(Height(height)),
            round: Round::new(round),
            vote_type: VoteType::Prevote,
            value: NilOrVal::Nil,
            voter: Address(testkit::node(voter)),
        };
        NetMessage::Vote(context::sign_vote(&chain(), &testkit::secret(voter), vote).unwrap())
    }

    /// A hostile that saw votes of `n1`..`n4` at height 5 round 1 and `n2`'s block of height 5 with 3 transactions.
    fn informed(seed: u64) -> Hostile {
        let mut hostile = hostile(seed);
        for voter in ["n1", "n2", "n3", "n4"] {
            hostile.observe(&testkit::node(voter), &vote(voter, 5, 1));
        }
        hostile.observe(&testkit::node("n2"), &NetMessage::Block(Box::new(real_block(5, 3))));
        hostile
    }

    fn blocks(messages: &[NetMessage]) -> Vec<&ProposedBlock> {
        messages
            .iter()
            .map(|m| match m {
                NetMessage::Block(b) => b.as_ref(),
                other => panic!("not a block: {other:?}"),
            })
            .collect()
    }

    /// Honest traffic teaches the target height, round, sealers and real block; a height far above the learned one
    /// (another forger's) does not move the target.
    #[test]
    fn honest_traffic_sets_the_target_and_a_far_forgery_does_not() {
        let mut hostile = informed(1);
        assert_eq!((hostile.height(), hostile.round()), (Height(5), Round::new(1)));
        let sealers: Vec<String> = hostile.sealers().iter().map(ToString::to_string).collect();
        assert_eq!(sealers, ["n1", "n2", "n3", "n4"]);
        assert_eq!(hostile.last_block(), Some(&real_block(5, 3)));

        hostile.observe(&testkit::node("n3"), &vote("n3", u64::MAX, 0));
        hostile.observe(&testkit::node("n3"), &vote("n3", 5, 1_000));
        assert_eq!((hostile.height(), hostile.round()), (Height(5), Round::new(1)));
        hostile.observe(&testkit::node("n3"), &vote("n3", 6, 0));
        assert_eq!((hostile.height(), hostile.round()), (Height(6), Round::new(0)));
    }

    /// The oversized block is for the current height and round, copies the real header but for a transactions root
    /// that matches its transactions, which encode to more than the largest block byte limit a chain may set while
    /// the whole message stays under what a node decodes; one is made per height and round.
    #[test]
    fn the_oversized_block_is_over_any_block_limit_and_under_the_wire_limit() {
        let mut hostile = informed(2);
        let burst = hostile.burst(Attack::OversizedBlock);
        let block = blocks(&burst)[0];
        assert_eq!(burst.len(), 1);
        let real = real_block(5, 3);
        let transactions: usize = block.block.transactions.iter().map(|tx| encode(tx).len()).sum();
        assert!(transactions > OVERSIZED_BYTES && OVERSIZED_BYTES > LARGEST_BLOCK_LIMIT, "{transactions} bytes");
        let on_wire = wire::encode(&burst[0]).unwrap().len();
        assert!(on_wire < MAX_DECODE_BYTES, "{on_wire} bytes on the wire");
        assert!(block.block.transactions_match(&chain()));
        assert_eq!(
            block.block.header,
            BlockHeader { transactions_root: block.block.header.transactions_root, ..real.block.header.clone() }
        );
        assert_eq!((block.round, block.proposer.clone()), (real.round, real.proposer));

        assert!(hostile.burst(Attack::OversizedBlock).is_empty(), "a second one for the same height and round");
        hostile.observe(&testkit::node("n1"), &vote("n1", 5, 2));
        assert_eq!(blocks(&hostile.burst(Attack::OversizedBlock))[0].round, Round::new(2));
    }

    /// A new real block is answered at once with a copy whose header, round and proposer are the real ones and
    /// whose transactions differ from the real ones in exactly one bit of one signature; the same block seen again
    /// is not answered, and a block without transactions cannot be tampered with.
    #[test]
    fn a_tampered_block_differs_from_the_real_one_in_one_signature_bit() {
        let mut hostile = hostile(3);
        let real = real_block(5, 3);
        let received = hostile.receive(&testkit::node("n2"), &NetMessage::Block(Box::new(real.clone())));
        assert!(received.deliver);
        let tampered = blocks(&received.broadcast)[0];
        assert_eq!(received.broadcast.len(), 1);
        assert_eq!(tampered.block.header, real.block.header);
        assert_eq!((tampered.round, tampered.valid_round), (real.round, real.valid_round));
        assert_eq!(tampered.proposer, real.proposer);
        let mut differing_bits = 0;
        for (ours, theirs) in tampered.block.transactions.iter().zip(real.block.transactions.iter()) {
            assert_eq!((&ours.tx, ours.key), (&theirs.tx, theirs.key));
            let (Signature::Ed25519(a), Signature::Ed25519(b)) = (ours.signature, theirs.signature);
            differing_bits += a.iter().zip(b.iter()).map(|(x, y)| (x ^ y).count_ones()).sum::<u32>();
        }
        assert_eq!(tampered.block.transactions.len(), real.block.transactions.len());
        assert_eq!(differing_bits, 1);

        let again = hostile.receive(&testkit::node("n2"), &NetMessage::Block(Box::new(real)));
        assert!(again.deliver && again.broadcast.is_empty());
        let empty = NetMessage::Block(Box::new(real_block(6, 0)));
        assert!(hostile.receive(&testkit::node("n3"), &empty).broadcast.is_empty());
        assert!(hostile.burst(Attack::TamperedBlock).is_empty());
    }

    /// Far votes and proposals are at `u64::MAX` and the current height + 1000, three per height: a sealer's name
    /// under a garbage signature, a sealer's name under the observer's key, and the observer's own name under its
    /// own key; only the last verifies under the key of the node it names.
    #[test]
    fn far_votes_and_proposals_are_forged_at_the_far_heights() {
        let mut hostile = informed(4);
        let own = testkit::public("obs1");
        for attack in [Attack::FarVotes, Attack::FarProposals] {
            let burst = hostile.burst(attack);
            assert_eq!(burst.len(), 2 * FORGERIES_PER_HEIGHT, "{attack:?}");
            let chain = chain();
            let mut seen = Vec::new();
            for message in &burst {
                // (height, named author, verifies under the author's key, verifies under the observer's key)
                let (height, author, verdicts) = match message {
                    NetMessage::Vote(v) => {
                        let verifies = |k| context::verify_vote(&chain, &v.message, &v.signature, k);
                        let author = v.message.voter.0.to_string();
                        (v.message.height.0, author.clone(), (verifies(&testkit::public(&author)), verifies(&own)))
                    }
                    NetMessage::Proposal(p) => {
                        let verifies = |k| context::verify_proposal(&chain, &p.message, &p.signature, k);
                        let author = p.message.proposer.0.to_string();
                        (p.message.height.0, author.clone(), (verifies(&testkit::public(&author)), verifies(&own)))
                    }
                    other => panic!("{attack:?} made {other:?}"),
                };
                seen.push((height, author, verdicts));
            }
            for height in [Height(u64::MAX), Height(1_005)] {
                let at: Vec<_> = seen.iter().filter(|(h, ..)| *h == height).collect();
                assert_eq!(at.len(), FORGERIES_PER_HEIGHT, "{attack:?} at {height}");
                let (_, sealer, garbage) = at[0];
                assert!(sealer.starts_with('n') && *garbage == (false, false), "{attack:?}: {at:?}");
                let (_, sealer, signed) = at[1];
                assert!(sealer.starts_with('n') && *signed == (false, true), "{attack:?}: {at:?}");
                assert_eq!(at[2].1, "obs1");
                assert_eq!(at[2].2, (true, true), "{attack:?}: {at:?}");
            }
        }
    }

    /// Unnamed blocks are small, pairwise distinct, none the real block or the one a proposal names; three in four
    /// are for the current height, with the real block's header fields but the state root, the rest for the next
    /// height, with the real block as parent.
    #[test]
    fn unnamed_blocks_are_distinct_and_named_by_no_proposal() {
        let mut hostile = informed(5);
        let real = real_block(5, 3);
        let chain = chain();
        let burst = hostile.burst(Attack::UnnamedBlocks);
        assert_eq!(burst.len(), UNNAMED_PER_BURST);
        let mut hashes = BTreeSet::new();
        let mut current = 0;
        for block in blocks(&burst) {
            let header = &block.block.header;
            assert!(block.block.transactions.is_empty() && block.block.transactions_match(&chain));
            assert!(hashes.insert(block.block.hash(&chain)), "a repeated block");
            assert_ne!(header.state_root, real.block.header.state_root);
            if header.height == Height(5) {
                current += 1;
                assert_eq!((header.parent, block.round), (real.block.header.parent, real.round));
            } else {
                assert_eq!(header.height, Height(6));
                assert_eq!((header.parent, block.round), (real.block.hash(&chain), Round::ZERO));
            }
            assert_eq!(header.validator_set_hash, real.block.header.validator_set_hash);
        }
        assert_eq!(current, UNNAMED_PER_BURST / 4 * 3);
        assert!(!hashes.contains(&real.block.hash(&chain)));
    }

    /// A block this node committed is the parent of the junk of the next height, which becomes the target; an
    /// older one changes nothing.
    #[test]
    fn a_committed_block_is_the_parent_of_the_next_heights_blocks() {
        let mut hostile = informed(9);
        let chain = chain();
        let committed = real_block(5, 0);
        hostile.committed(&committed.block);
        hostile.committed(&real_block(4, 0).block);
        assert_eq!((hostile.height(), hostile.round()), (Height(6), Round::ZERO));
        let burst = hostile.burst(Attack::UnnamedBlocks);
        for block in blocks(&burst) {
            let header = &block.block.header;
            if header.height == Height(6) {
                assert_eq!(header.parent, committed.block.hash(&chain));
                assert!(header.time_ms > committed.block.header.time_ms);
            } else {
                assert_eq!(header.height, Height(7));
            }
        }
    }

    /// A sync request is never delivered to the hostile node's own host (it never answers one); every other message
    /// is.
    #[test]
    fn a_sync_request_is_never_delivered() {
        let mut hostile = informed(6);
        let request = NetMessage::SyncRequest(SyncRequest { from: Height(1), to: Height(4) });
        let received = hostile.receive(&testkit::node("n1"), &request);
        assert_eq!(received, Received { deliver: false, broadcast: Vec::new() });
        assert!(hostile.receive(&testkit::node("n1"), &vote("n1", 5, 1)).deliver);
        assert!(hostile.receive(&testkit::node("n1"), &NetMessage::Transactions(Vec::new())).deliver);
    }

    /// The same seed and the same traffic give the same bursts, each within [`MAX_BURST`]; another seed gives
    /// others.
    #[test]
    fn bursts_are_bounded_and_fixed_by_the_seed() {
        let (mut a, mut b, mut c) = (informed(7), informed(7), informed(8));
        for attack in Attack::ALL {
            let burst = a.burst(attack);
            assert!(burst.len() <= MAX_BURST, "{attack:?}: {}", burst.len());
            assert_eq!(burst, b.burst(attack), "{attack:?}");
            c.burst(attack);
        }
        assert_eq!(a.bursts(), b.bursts());
        assert_ne!(a.bursts(), c.bursts());
    }
}
