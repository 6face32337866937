//! The wire form of [`NetMessage`]: a borsh-encoded [`WireMessage`] built from the protocol types of
//! `governance_contracts::types::block` (the same messages the signatures cover), with every collection bounded.
//!
//! Consensus votes and proposals travel as the [`ConsensusVote`] and [`ConsensusProposal`] their signatures are
//! made over, so a receiver rebuilds exactly the message that was signed; certificates travel as lists of
//! (node id, signature) pairs. Decoding untrusted bytes ([`decode`]) refuses trailing bytes, unknown variants and
//! any list above its bound, and never panics. A message the host builds but the wire cannot carry (a vote without
//! a round, more signatures than a validator set holds) is an [`EncodeError`], never a panic.
//!
//! A sync response or a transaction relay too large for one frame is split by [`encode_frames`] into several
//! messages of the same kind, each valid on its own: the receiving host applies synced blocks in height order
//! whatever message they came in, and relayed transactions are independent. [`decode`] refuses more than
//! [`MAX_DECODE_BYTES`], the frame limit ([`p2p_frames::MAX_FRAME_BYTES`]).

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{self, BoundExceeded, BoundedVec, MAX_DECODE_BYTES};
use governance_contracts::crypto::Signature;
use governance_contracts::ids::{BlockHash, Height, NodeId};
use governance_contracts::types::SignedTransaction;
use governance_contracts::types::block::{
    Block, CommitCertificate, CommitSignature, ConsensusProposal, ConsensusVote, MAX_VALIDATORS, VoteKind,
};
use malachite_core_types::{
    NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType, RoundSignature,
    SignedMessage, VoteType,
};

use crate::consensus::context::{self, Address, SigningError, SynodContext, Value};
use crate::consensus::host::{MAX_RELAYED_TRANSACTIONS, NetMessage, ProposedBlock};
use crate::consensus::sync::{MAX_SYNC_BATCH, SyncRequest, SyncedBlock};

/// Most pairs in one sync response on the wire ([`MAX_SYNC_BATCH`]).
pub const MAX_SYNC_PAIRS: usize = 16;
const _: () = assert!(MAX_SYNC_PAIRS as u64 == MAX_SYNC_BATCH, "the wire bound is the sync batch");
/// Most signatures in a round certificate: a prevote and a precommit from each validator.
pub const MAX_ROUND_SIGNATURES: usize = 2 * MAX_VALIDATORS;
const _: () = assert!(
    p2p_frames::MAX_FRAME_BYTES == MAX_DECODE_BYTES,
    "a frame holds exactly what the decoder accepts: no larger message could be decoded, no smaller one sent"
);

/// A consensus vote with its voter's signature.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireVote {
    /// The vote, as signed.
    pub vote: ConsensusVote,
    /// The voter's signature over `vote.signing_digest(chain)`.
    pub signature: Signature,
}

/// A consensus proposal with its proposer's signature.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireProposal {
    /// The proposal, as signed.
    pub proposal: ConsensusProposal,
    /// The proposer's signature over `proposal.signing_digest(chain)`.
    pub signature: Signature,
}

/// A block travelling beside its proposal.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireProposedBlock {
    /// The round of the proposal it accompanies.
    pub round: u32,
    /// That proposal's POL round, if any.
    pub valid_round: Option<u32>,
    /// That proposal's proposer.
    pub proposer: NodeId,
    /// The block.
    pub block: Block,
}

/// Prevotes for one block in one round from more than two thirds of the weight.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WirePolkaCertificate {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: u32,
    /// The block prevoted for.
    pub block: BlockHash,
    /// The prevote signatures.
    pub signatures: BoundedVec<CommitSignature, MAX_VALIDATORS>,
}

/// What a round certificate justifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WireRoundCertificateKind {
    /// Votes from more than a third of the weight in a later round (skip ahead).
    Skip,
    /// Precommits from more than two thirds of the weight in the previous round.
    Precommit,
}

/// One vote's signature in a round certificate.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireRoundSignature {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The block voted for, or nil.
    pub block: Option<BlockHash>,
    /// The voter.
    pub node: NodeId,
    /// Its signature.
    pub signature: Signature,
}

/// Votes that justify entering a round.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireRoundCertificate {
    /// The height.
    pub height: Height,
    /// The round of the votes.
    pub round: u32,
    /// What it justifies.
    pub kind: WireRoundCertificateKind,
    /// The votes' signatures.
    pub signatures: BoundedVec<WireRoundSignature, MAX_ROUND_SIGNATURES>,
}

/// One finalised height for a syncing peer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireSyncedBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

/// A message between hosts, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WireMessage {
    /// A signed proposal.
    Proposal(WireProposal),
    /// A signed vote.
    Vote(WireVote),
    /// A proposed block.
    Block(Box<WireProposedBlock>),
    /// A polka certificate.
    PolkaCertificate(WirePolkaCertificate),
    /// A round certificate.
    RoundCertificate(WireRoundCertificate),
    /// A request for finalised heights `from..=to`.
    SyncRequest {
        /// The first height wanted.
        from: Height,
        /// The last height wanted.
        to: Height,
    },
    /// Finalised heights in height order.
    SyncResponse(BoundedVec<WireSyncedBlock, MAX_SYNC_PAIRS>),
    /// Relayed transactions.
    Transactions(BoundedVec<SignedTransaction, MAX_RELAYED_TRANSACTIONS>),
}

/// Why a message cannot go on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A vote, proposal or certificate without a round.
    #[error(transparent)]
    NilRound(#[from] SigningError),
    /// A list longer than its wire bound.
    #[error("{what}: {bound}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// The length and the bound.
        bound: BoundExceeded,
    },
    /// The encoding is larger than a frame and the message cannot be split.
    #[error("{kind} message of {len} bytes exceeds the frame limit of {max} bytes")]
    TooLarge {
        /// The message kind.
        kind: &'static str,
        /// Its encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Why bytes are not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable message: {0}")]
pub struct DecodeError(pub String);

fn bounded<T, const N: usize>(what: &'static str, items: Vec<T>) -> Result<BoundedVec<T, N>, EncodeError> {
    BoundedVec::try_new(items).map_err(|bound| EncodeError::TooMany { what, bound })
}

fn round(round: Round, what: &'static str) -> Result<u32, EncodeError> {
    round.as_u32().ok_or(EncodeError::NilRound(SigningError::NilRound(what)))
}

fn vote_kind(kind: VoteType) -> VoteKind {
    match kind {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

fn vote_type(kind: VoteKind) -> VoteType {
    match kind {
        VoteKind::Prevote => VoteType::Prevote,
        VoteKind::Precommit => VoteType::Precommit,
    }
}

fn nil_or_val(block: Option<BlockHash>) -> NilOrVal<BlockHash> {
    block.map_or(NilOrVal::Nil, NilOrVal::Val)
}

fn option(value: &NilOrVal<BlockHash>) -> Option<BlockHash> {
    match value {
        NilOrVal::Nil => None,
        NilOrVal::Val(hash) => Some(*hash),
    }
}

/// The kinds of message, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// A signed proposal.
    Proposal,
    /// A signed vote.
    Vote,
    /// A proposed block.
    Block,
    /// A polka certificate.
    PolkaCertificate,
    /// A round certificate.
    RoundCertificate,
    /// A request for finalised heights.
    SyncRequest,
    /// Finalised heights.
    SyncResponse,
    /// Relayed transactions.
    Transactions,
}

impl MessageKind {
    /// The kind of `message`.
    pub fn of(message: &NetMessage) -> Self {
        match message {
            NetMessage::Proposal(_) => Self::Proposal,
            NetMessage::Vote(_) => Self::Vote,
            NetMessage::Block(_) => Self::Block,
            NetMessage::PolkaCertificate(_) => Self::PolkaCertificate,
            NetMessage::RoundCertificate(_) => Self::RoundCertificate,
            NetMessage::SyncRequest(_) => Self::SyncRequest,
            NetMessage::SyncResponse(_) => Self::SyncResponse,
            NetMessage::Transactions(_) => Self::Transactions,
        }
    }

    /// A stable snake_case label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Proposal => "proposal",
            Self::Vote => "vote",
            Self::Block => "block",
            Self::PolkaCertificate => "polka_certificate",
            Self::RoundCertificate => "round_certificate",
            Self::SyncRequest => "sync_request",
            Self::SyncResponse => "sync_response",
            Self::Transactions => "transactions",
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl WireMessage {
    /// The kind's name, for logs.
    pub fn kind(&self) -> &'static str {
        let kind = match self {
            Self::Proposal(_) => MessageKind::Proposal,
            Self::Vote(_) => MessageKind::Vote,
            Self::Block(_) => MessageKind::Block,
            Self::PolkaCertificate(_) => MessageKind::PolkaCertificate,
            Self::RoundCertificate(_) => MessageKind::RoundCertificate,
            Self::SyncRequest { .. } => MessageKind::SyncRequest,
            Self::SyncResponse(_) => MessageKind::SyncResponse,
            Self::Transactions(_) => MessageKind::Transactions,
        };
        kind.label()
    }
}

impl TryFrom<&NetMessage> for WireMessage {
    type Error = EncodeError;

    fn try_from(message: &NetMessage) -> Result<Self, EncodeError> {
        Ok(match message {
            NetMessage::Proposal(signed) => {
                Self::Proposal(WireProposal { proposal: signed.message.to_protocol()?, signature: signed.signature })
            }
            NetMessage::Vote(signed) => {
                Self::Vote(WireVote { vote: signed.message.to_protocol()?, signature: signed.signature })
            }
            NetMessage::Block(proposed) => Self::Block(Box::new(WireProposedBlock {
                round: round(proposed.round, "proposed block")?,
                valid_round: proposed.valid_round.as_u32(),
                proposer: proposed.proposer.0.clone(),
                block: proposed.block.clone(),
            })),
            NetMessage::PolkaCertificate(certificate) => Self::PolkaCertificate(WirePolkaCertificate {
                height: certificate.height.0,
                round: round(certificate.round, "polka certificate")?,
                block: certificate.value_id,
                signatures: bounded(
                    "polka signatures",
                    certificate
                        .polka_signatures
                        .iter()
                        .map(|s| CommitSignature { node: s.address.0.clone(), signature: s.signature })
                        .collect(),
                )?,
            }),
            NetMessage::RoundCertificate(certificate) => Self::RoundCertificate(WireRoundCertificate {
                height: certificate.height.0,
                round: round(certificate.round, "round certificate")?,
                kind: match certificate.cert_type {
                    RoundCertificateType::Skip => WireRoundCertificateKind::Skip,
                    RoundCertificateType::Precommit => WireRoundCertificateKind::Precommit,
                },
                signatures: bounded(
                    "round signatures",
                    certificate
                        .round_signatures
                        .iter()
                        .map(|s| WireRoundSignature {
                            kind: vote_kind(s.vote_type),
                            block: option(&s.value_id),
                            node: s.address.0.clone(),
                            signature: s.signature,
                        })
                        .collect(),
                )?,
            }),
            NetMessage::SyncRequest(request) => Self::SyncRequest { from: request.from, to: request.to },
            NetMessage::SyncResponse(blocks) => Self::SyncResponse(bounded(
                "synced blocks",
                blocks
                    .iter()
                    .map(|b| WireSyncedBlock { block: b.block.clone(), certificate: b.certificate.clone() })
                    .collect(),
            )?),
            NetMessage::Transactions(transactions) => {
                Self::Transactions(bounded("relayed transactions", transactions.clone())?)
            }
        })
    }
}

impl From<WireMessage> for NetMessage {
    fn from(message: WireMessage) -> Self {
        match message {
            WireMessage::Proposal(WireProposal { proposal, signature }) => {
                let proposal = context::Proposal {
                    height: context::Height(proposal.height),
                    round: Round::new(proposal.round),
                    value: Value(proposal.block),
                    pol_round: proposal.valid_round.map_or(Round::Nil, Round::new),
                    proposer: Address(proposal.proposer),
                };
                Self::Proposal(SignedMessage::new(proposal, signature))
            }
            WireMessage::Vote(WireVote { vote, signature }) => {
                let vote = context::Vote {
                    height: context::Height(vote.height),
                    round: Round::new(vote.round),
                    vote_type: vote_type(vote.kind),
                    value: nil_or_val(vote.block),
                    voter: Address(vote.voter),
                };
                Self::Vote(SignedMessage::new(vote, signature))
            }
            WireMessage::Block(proposed) => {
                let WireProposedBlock { round, valid_round, proposer, block } = *proposed;
                Self::Block(Box::new(ProposedBlock {
                    round: Round::new(round),
                    valid_round: valid_round.map_or(Round::Nil, Round::new),
                    proposer: Address(proposer),
                    block,
                }))
            }
            WireMessage::PolkaCertificate(certificate) => Self::PolkaCertificate(PolkaCertificate::<SynodContext> {
                height: context::Height(certificate.height),
                round: Round::new(certificate.round),
                value_id: certificate.block,
                polka_signatures: certificate
                    .signatures
                    .into_inner()
                    .into_iter()
                    .map(|s| PolkaSignature::new(Address(s.node), s.signature))
                    .collect(),
            }),
            WireMessage::RoundCertificate(certificate) => Self::RoundCertificate(RoundCertificate::<SynodContext> {
                height: context::Height(certificate.height),
                round: Round::new(certificate.round),
                cert_type: match certificate.kind {
                    WireRoundCertificateKind::Skip => RoundCertificateType::Skip,
                    WireRoundCertificateKind::Precommit => RoundCertificateType::Precommit,
                },
                round_signatures: certificate
                    .signatures
                    .into_inner()
                    .into_iter()
                    .map(|s| RoundSignature::new(vote_type(s.kind), nil_or_val(s.block), Address(s.node), s.signature))
                    .collect(),
            }),
            WireMessage::SyncRequest { from, to } => Self::SyncRequest(SyncRequest { from, to }),
            WireMessage::SyncResponse(blocks) => Self::SyncResponse(
                blocks
                    .into_inner()
                    .into_iter()
                    .map(|b| SyncedBlock { block: b.block, certificate: b.certificate })
                    .collect(),
            ),
            WireMessage::Transactions(transactions) => Self::Transactions(transactions.into_inner()),
        }
    }
}

/// The wire bytes of `message` (one frame's payload, however large).
pub fn encode(message: &NetMessage) -> Result<Vec<u8>, EncodeError> {
    let wire = WireMessage::try_from(message)?;
    Ok(borsh::to_vec(&wire).expect("serialising into a Vec cannot fail"))
}

/// The frame payloads that carry `message` within `max` bytes each: one, or for a sync response or transaction
/// relay that does not fit, several messages of the same kind splitting its list in order.
pub fn encode_frames(message: &NetMessage, max: usize) -> Result<Vec<Vec<u8>>, EncodeError> {
    let mut out = Vec::new();
    split_into(WireMessage::try_from(message)?, max, &mut out)?;
    Ok(out)
}

fn halves<T, const N: usize>(list: BoundedVec<T, N>) -> (BoundedVec<T, N>, BoundedVec<T, N>) {
    let mut front = list.into_inner();
    let back = front.split_off(front.len() / 2);
    // Both halves are shorter than the list they came from, so they are within the same bound.
    (
        BoundedVec::try_new(front).expect("a half is within the bound"),
        BoundedVec::try_new(back).expect("a half is within the bound"),
    )
}

fn split_into(wire: WireMessage, max: usize, out: &mut Vec<Vec<u8>>) -> Result<(), EncodeError> {
    let bytes = borsh::to_vec(&wire).expect("serialising into a Vec cannot fail");
    if bytes.len() <= max {
        out.push(bytes);
        return Ok(());
    }
    match wire {
        WireMessage::SyncResponse(list) if list.len() > 1 => {
            let (front, back) = halves(list);
            split_into(WireMessage::SyncResponse(front), max, out)?;
            split_into(WireMessage::SyncResponse(back), max, out)
        }
        WireMessage::Transactions(list) if list.len() > 1 => {
            let (front, back) = halves(list);
            split_into(WireMessage::Transactions(front), max, out)?;
            split_into(WireMessage::Transactions(back), max, out)
        }
        other => Err(EncodeError::TooLarge { kind: other.kind(), len: bytes.len(), max }),
    }
}

/// The message in `bytes` (exactly: no trailing bytes, and at most [`MAX_DECODE_BYTES`] of them). Never panics,
/// whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<NetMessage, DecodeError> {
    let wire: WireMessage = codec::decode(bytes).map_err(|e| DecodeError(e.to_string()))?;
    Ok(wire.into())
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::{Digest, Signature};
    use governance_contracts::ids::ProposalId;
    use governance_contracts::testkit::{TestChain, account, node, secret};
    use governance_contracts::types::Payload;
    use governance_contracts::types::block::BlockHeader;
    use governance_contracts::types::proposal::Approval;
    use malachite_core_types::Context as _;
    use p2p_frames::MAX_FRAME_BYTES;
    use proptest::prelude::*;

    use super::*;
    use crate::consensus::context::{sign_proposal, sign_vote};

    fn hash(byte: u8) -> BlockHash {
        BlockHash(Digest::Sha256([byte; 32]))
    }

    /// `count` distinct signed transactions (built once: a test chain is costly to set up).
    fn transactions(count: usize, seed: u8) -> Vec<SignedTransaction> {
        static POOL: std::sync::OnceLock<Vec<SignedTransaction>> = std::sync::OnceLock::new();
        let pool = POOL.get_or_init(|| {
            let chain = TestChain::with_members(2);
            (0..=255u8)
                .map(|i| {
                    chain
                        .account_tx("m0-gov", Payload::RevokeApproval { proposal: ProposalId(Digest::Sha256([i; 32])) })
                })
                .collect()
        });
        (0..count)
            .map(|i| pool.iter().cycle().skip(usize::from(seed)).nth(i).expect("the pool cycles").clone())
            .collect()
    }

    fn block(height: u64, txs: usize) -> Block {
        Block {
            header: BlockHeader {
                height: Height(height),
                parent: hash(1),
                state_root: Digest::Sha256([2; 32]),
                transactions_root: Digest::Sha256([3; 32]),
                receipts_root: Digest::Sha256([4; 32]),
                validator_set_hash: Digest::Sha256([5; 32]),
                next_validator_set_hash: Digest::Sha256([6; 32]),
                proposer: node("n1"),
                time_ms: height.saturating_add(1_700_000_000_000),
            },
            transactions: BoundedVec::try_new(transactions(txs, height.to_le_bytes()[0])).unwrap(),
        }
    }

    fn certificate(height: u64, signers: usize) -> CommitCertificate {
        CommitCertificate {
            height: Height(height),
            round: 1,
            block: hash(7),
            signatures: BoundedVec::try_new(
                (0..signers)
                    .map(|i| CommitSignature {
                        node: node(&format!("n{i}")),
                        signature: Signature::Ed25519([u8::try_from(i).unwrap(); 64]),
                    })
                    .collect(),
            )
            .unwrap(),
        }
    }

    /// One message of every kind, with the given numbers mixed in.
    fn every_kind(height: u64, round: u32, voter: u8, block_hash: u8, nil: bool) -> Vec<NetMessage> {
        static CHAIN: std::sync::OnceLock<governance_contracts::domain::ChainIdentity> = std::sync::OnceLock::new();
        let chain = CHAIN.get_or_init(|| TestChain::with_members(2).chain);
        let name = format!("n{voter}");
        let value = if nil { NilOrVal::Nil } else { NilOrVal::Val(hash(block_hash)) };
        let h = context::Height(Height(height));
        let r = Round::new(round);
        let prevote = SynodContext.new_prevote(h, r, value, Address(node(&name)));
        let precommit = SynodContext.new_precommit(h, r, value, Address(node(&name)));
        let signed_prevote = sign_vote(chain, &secret(&name), prevote).unwrap();
        let signed_precommit = sign_vote(chain, &secret(&name), precommit).unwrap();
        let pol = if nil { Round::Nil } else { Round::new(round / 2) };
        let proposal = SynodContext.new_proposal(h, r, Value(hash(block_hash)), pol, Address(node(&name)));
        let signed_proposal = sign_proposal(chain, &secret(&name), proposal).unwrap();
        let polka = PolkaCertificate::<SynodContext> {
            height: h,
            round: r,
            value_id: hash(block_hash),
            polka_signatures: vec![PolkaSignature::new(Address(node(&name)), signed_prevote.signature)],
        };
        let round_certificate = RoundCertificate::<SynodContext> {
            height: h,
            round: r,
            cert_type: if nil { RoundCertificateType::Skip } else { RoundCertificateType::Precommit },
            round_signatures: vec![
                RoundSignature::new(VoteType::Prevote, value, Address(node(&name)), signed_prevote.signature),
                RoundSignature::new(VoteType::Precommit, value, Address(node("n9")), signed_precommit.signature),
            ],
        };
        vec![
            NetMessage::Proposal(signed_proposal),
            NetMessage::Vote(signed_prevote),
            NetMessage::Vote(signed_precommit),
            NetMessage::Block(Box::new(ProposedBlock {
                round: r,
                valid_round: pol,
                proposer: Address(node(&name)),
                block: block(height, usize::from(voter % 3)),
            })),
            NetMessage::PolkaCertificate(polka),
            NetMessage::RoundCertificate(round_certificate),
            NetMessage::SyncRequest(SyncRequest { from: Height(height), to: Height(height.saturating_add(15)) }),
            NetMessage::SyncResponse(
                (0..3)
                    .map(|i| SyncedBlock {
                        block: block(height.saturating_add(i), 1),
                        certificate: certificate(height.saturating_add(i), 3),
                    })
                    .collect(),
            ),
            NetMessage::Transactions(transactions(usize::from(voter % 4), block_hash)),
        ]
    }

    /// Every message kind survives the wire unchanged, and each encoding has no trailing slack.
    #[test]
    fn every_kind_round_trips() {
        for message in every_kind(5, 2, 1, 9, false).into_iter().chain(every_kind(1, 0, 2, 3, true)) {
            let bytes = encode(&message).unwrap();
            assert_eq!(decode(&bytes).unwrap(), message);
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode(&longer).is_err(), "trailing bytes are refused");
        }
    }

    /// An ordinary governance transaction encodes to well under 1 KiB, as the frame limit's reasoning assumes.
    #[test]
    fn ordinary_transactions_are_small() {
        let size = governance_contracts::codec::encode(&transactions(1, 0)[0]).len();
        assert!(size < 1_024, "{size} bytes");
    }

    /// A vote or proposed block without a round cannot be encoded: an error, not a panic.
    #[test]
    fn nil_rounds_are_refused_at_encoding() {
        let vote = SynodContext.new_prevote(context::Height(Height(1)), Round::Nil, NilOrVal::Nil, Address(node("n0")));
        let signed = SignedMessage::new(vote, Signature::Ed25519([0; 64]));
        assert!(matches!(encode(&NetMessage::Vote(signed)), Err(EncodeError::NilRound(_))));
    }

    /// A sync response too large for one frame is split, in order, into responses that each fit; an unsplittable
    /// message that does not fit is refused.
    #[test]
    fn large_sync_responses_split_in_order() {
        let blocks: Vec<SyncedBlock> =
            (1..=16).map(|h| SyncedBlock { block: block(h, 4), certificate: certificate(h, 4) }).collect();
        let message = NetMessage::SyncResponse(blocks.clone());
        let whole = encode(&message).unwrap();
        let max = whole.len() / 3;
        let frames = encode_frames(&message, max).unwrap();
        assert!(frames.len() >= 3);
        let mut rejoined = Vec::new();
        for frame in &frames {
            assert!(frame.len() <= max);
            let NetMessage::SyncResponse(part) = decode(frame).unwrap() else { panic!("a sync response") };
            rejoined.extend(part);
        }
        assert_eq!(rejoined, blocks);
        assert_eq!(encode_frames(&message, whole.len()).unwrap(), vec![whole]);
        let single = NetMessage::SyncResponse(blocks[..1].to_vec());
        assert!(matches!(encode_frames(&single, 100), Err(EncodeError::TooLarge { kind: "sync_response", .. })));
    }

    /// A transaction relaying `approvals` approvals (about 160 bytes each), marked by `seed`.
    fn large_transaction(approvals: usize, seed: u8) -> SignedTransaction {
        static CHAIN: std::sync::OnceLock<TestChain> = std::sync::OnceLock::new();
        let chain = CHAIN.get_or_init(|| TestChain::with_members(2));
        let approval = Approval {
            approver: account("m0-gov"),
            key: secret("m0-gov").public_key(),
            signature: Signature::Ed25519([seed; 64]),
        };
        let approvals = BoundedVec::try_new(vec![approval; approvals]).unwrap();
        chain.account_tx("m0-gov", Payload::Approve { proposal: ProposalId(Digest::Sha256([seed; 32])), approvals })
    }

    /// `count` copies of a large transaction (a wire test need not tell them apart).
    fn large_transactions(count: usize, seed: u8) -> Vec<SignedTransaction> {
        vec![large_transaction(512, seed); count]
    }

    /// The longest node id there is (64 bytes).
    fn longest_node_id(i: usize) -> NodeId {
        node(&format!("{i:0>64}"))
    }

    /// The largest block the chain allows (3 MiB of transactions, the longest proposer id) fits in a frame, alone
    /// as a proposed block and with a commit certificate of 1,024 signatures by the longest node ids as a sync
    /// pair: the sizes the frame limit's reasoning states.
    #[test]
    fn the_largest_block_and_sync_pair_fit_in_a_frame() {
        let size = governance_contracts::codec::encode(&large_transaction(512, 1)).len();
        let mut block = block(7, 0);
        block.header.proposer = longest_node_id(0);
        block.transactions = BoundedVec::try_new(large_transactions(3 * 1024 * 1024 / size, 1)).unwrap();
        let transactions = governance_contracts::codec::encode(&block.transactions).len();
        assert!(transactions <= 3 * 1024 * 1024 + 4 && transactions > 3 * 1024 * 1024 - size, "{transactions}");

        let proposed = NetMessage::Block(Box::new(ProposedBlock {
            round: Round::new(u32::MAX - 1),
            valid_round: Round::new(u32::MAX - 2),
            proposer: Address(longest_node_id(0)),
            block: block.clone(),
        }));
        let bytes = encode(&proposed).unwrap();
        assert!(bytes.len() < transactions + 1_024, "{} bytes", bytes.len());
        assert_eq!(encode_frames(&proposed, MAX_FRAME_BYTES).unwrap(), vec![bytes.clone()]);
        assert_eq!(decode(&bytes).unwrap(), proposed);

        let mut certificate = certificate(7, 0);
        certificate.signatures = BoundedVec::try_new(
            (0..MAX_VALIDATORS)
                .map(|i| CommitSignature { node: longest_node_id(i), signature: Signature::Ed25519([9; 64]) })
                .collect(),
        )
        .unwrap();
        let pair = NetMessage::SyncResponse(vec![SyncedBlock { block, certificate }]);
        let bytes = encode(&pair).unwrap();
        assert!(bytes.len() < transactions + 1_024 + MAX_VALIDATORS * 133, "{} bytes", bytes.len());
        assert!(bytes.len() <= MAX_FRAME_BYTES);
        assert_eq!(encode_frames(&pair, MAX_FRAME_BYTES).unwrap(), vec![bytes.clone()]);
        assert_eq!(decode(&bytes).unwrap(), pair);
    }

    /// At the frame limit, a sync response of 16 blocks of 1 MiB and a transaction relay of 5 MiB are each split,
    /// in order, into several messages of their kind that each fit in a frame and decode; the unsplit encodings
    /// are refused by the decoder, which accepts nothing over the limit.
    #[test]
    fn large_responses_and_relays_split_at_the_frame_limit() {
        let size = governance_contracts::codec::encode(&large_transaction(512, 2)).len();
        let blocks: Vec<SyncedBlock> = (1..=16)
            .map(|h| {
                let mut block = block(h, 0);
                block.transactions = BoundedVec::try_new(large_transactions(1024 * 1024 / size, 2)).unwrap();
                SyncedBlock { block, certificate: certificate(h, 4) }
            })
            .collect();
        let relay: Vec<SignedTransaction> = large_transactions(5 * 1024 * 1024 / size, 3);
        let cases = [NetMessage::SyncResponse(blocks.clone()), NetMessage::Transactions(relay.clone())];
        for message in cases {
            let whole = encode(&message).unwrap();
            assert!(whole.len() > MAX_FRAME_BYTES);
            assert!(decode(&whole).unwrap_err().to_string().contains("exceeds the limit"));
            let frames = encode_frames(&message, MAX_FRAME_BYTES).unwrap();
            assert!(frames.len() >= 2);
            let parts: Vec<NetMessage> = frames
                .iter()
                .map(|frame| {
                    assert!(frame.len() <= MAX_FRAME_BYTES);
                    decode(frame).unwrap()
                })
                .collect();
            match &message {
                NetMessage::SyncResponse(_) => {
                    let rejoined: Vec<SyncedBlock> = parts
                        .into_iter()
                        .flat_map(|part| match part {
                            NetMessage::SyncResponse(part) => part,
                            other => panic!("a sync response, not {other:?}"),
                        })
                        .collect();
                    assert_eq!(rejoined, blocks);
                }
                _ => {
                    let rejoined: Vec<SignedTransaction> = parts
                        .into_iter()
                        .flat_map(|part| match part {
                            NetMessage::Transactions(part) => part,
                            other => panic!("transactions, not {other:?}"),
                        })
                        .collect();
                    assert_eq!(rejoined, relay);
                }
            }
        }
    }

    /// A list longer than its wire bound is refused when decoding, from its length prefix alone.
    #[test]
    fn oversized_lists_are_refused_when_decoding() {
        let mut bytes = vec![6u8]; // SyncResponse
        bytes.extend_from_slice(&17u32.to_le_bytes());
        assert!(decode(&bytes).is_err());
        let mut bytes = vec![7u8]; // Transactions
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&bytes).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes never panic the decoder, with or without a valid variant tag in front.
        #[test]
        fn arbitrary_bytes_never_panic(tag in 0u8..10, bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = decode(&bytes);
            let mut tagged = vec![tag];
            tagged.extend_from_slice(&bytes);
            let _ = decode(&tagged);
        }

        /// Every message kind round-trips for arbitrary heights, rounds, voters and values.
        #[test]
        fn messages_round_trip(height in 1u64..u64::MAX / 2, round in 0u32..u32::MAX, voter in 0u8..8,
                               block_hash in any::<u8>(), nil in any::<bool>()) {
            for message in every_kind(height, round, voter, block_hash, nil) {
                let bytes = encode(&message).unwrap();
                prop_assert_eq!(decode(&bytes).unwrap(), message);
            }
        }

        /// Flipping any byte of a valid encoding never panics the decoder.
        #[test]
        fn corrupted_encodings_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
            for message in every_kind(3, 1, 1, 4, false) {
                let mut bytes = encode(&message).unwrap();
                let i = index.index(bytes.len());
                bytes[i] = byte;
                let _ = decode(&bytes);
                bytes.truncate(i);
                let _ = decode(&bytes);
            }
        }
    }
}
