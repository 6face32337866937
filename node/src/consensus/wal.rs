//! The consensus write-ahead log: what the core asked to log for the height being decided, plus the blocks the
//! host built or received at that height, so that a restarted node re-derives exactly what it said before.
//!
//! The core asks to log votes, proposals, proposed values (our verdicts), elapsed timeouts and polka certificates
//! of the current height. The host appends them as asked, [`Wal::log_flush`]es before anything they guard leaves
//! the node (a publish, a block write), and [`Wal::log_reset`]s the log when a new height starts. On restart the
//! entries of the unfinished height are replayed into a fresh core ([`super::host::Host::start`]). An append or
//! flush failure is fatal.
//!
//! Entries are [`WalEntry`] values with a canonical (borsh) encoding, so a durable log stores them as bytes; the
//! core's own types convert to and from them here and nowhere else.

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::crypto::Signature;
use governance_contracts::ids::{self, BlockHash, NodeId};
use governance_contracts::types::block::{Block, ConsensusProposal, ConsensusVote, VoteKind};
use malachite_core_consensus::{Input, ProposedValue};
use malachite_core_types::{
    NilOrVal, PolkaCertificate, PolkaSignature, Round, SignedMessage, Timeout, TimeoutKind, Validity, ValueOrigin,
    VoteType,
};

use super::context::{Address, Height, Proposal, SignedProposal, SignedVote, SynodContext, Value, Vote};
use super::store::StorageFailure;

/// Most signatures a logged polka certificate may carry (as many as a validator set may hold).
const MAX_POLKA_SIGNATURES: usize = governance_contracts::types::block::MAX_VALIDATORS;

/// One durable record of the height being decided.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WalEntry {
    /// A vote the core processed (ours or a peer's).
    Vote {
        /// What was signed.
        vote: ConsensusVote,
        /// The voter's signature.
        signature: Signature,
    },
    /// A proposal the core processed.
    Proposal {
        /// What was signed.
        proposal: ConsensusProposal,
        /// The proposer's signature.
        signature: Signature,
    },
    /// The host's verdict on a proposed block.
    ProposedValue {
        /// The round it was proposed in.
        round: u32,
        /// Its POL round.
        valid_round: Option<u32>,
        /// Its proposer.
        proposer: NodeId,
        /// The block.
        block: BlockHash,
        /// Whether the host found it valid.
        valid: bool,
        /// Whether it came through sync rather than consensus.
        from_sync: bool,
    },
    /// A timeout that elapsed.
    Timeout {
        /// Which step's.
        kind: LoggedTimeout,
        /// The round.
        round: u32,
    },
    /// A polka certificate the core accepted.
    PolkaCertificate {
        /// Its round.
        round: u32,
        /// The block it is for.
        block: BlockHash,
        /// The prevote signatures.
        signatures: Vec<(NodeId, Signature)>,
    },
    /// A block of this height: built by this node (with the round it was built for) or received from a peer.
    Block {
        /// The round this node built it for, `None` if received.
        built_for: Option<u32>,
        /// The block.
        block: Block,
    },
}

/// The timeout kinds that are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LoggedTimeout {
    /// Propose step.
    Propose,
    /// Prevote step.
    Prevote,
    /// Precommit step.
    Precommit,
    /// Rebroadcast.
    Rebroadcast,
}

/// Why a log entry cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalEntryError {
    /// The core asked to log an input kind the log does not hold.
    #[error("the core asked to log an unexpected input: {0}")]
    Unexpected(&'static str),
    /// A round was nil where one is required.
    #[error("a logged {0} has no round")]
    NilRound(&'static str),
    /// A logged polka certificate is larger than any validator set.
    #[error("a polka certificate with {0} signatures")]
    TooManySignatures(usize),
}

fn round_of(round: Round, what: &'static str) -> Result<u32, WalEntryError> {
    round.as_u32().ok_or(WalEntryError::NilRound(what))
}

fn optional_round(round: Option<u32>) -> Round {
    round.map_or(Round::Nil, Round::new)
}

/// The core's vote for a protocol vote.
pub fn vote_from_protocol(vote: &ConsensusVote) -> Vote {
    Vote {
        height: Height(vote.height),
        round: Round::new(vote.round),
        vote_type: match vote.kind {
            VoteKind::Prevote => VoteType::Prevote,
            VoteKind::Precommit => VoteType::Precommit,
        },
        value: vote.block.map_or(NilOrVal::Nil, NilOrVal::Val),
        voter: Address(vote.voter.clone()),
    }
}

/// The core's proposal for a protocol proposal.
pub fn proposal_from_protocol(proposal: &ConsensusProposal) -> Proposal {
    Proposal {
        height: Height(proposal.height),
        round: Round::new(proposal.round),
        value: Value(proposal.block),
        pol_round: optional_round(proposal.valid_round),
        proposer: Address(proposal.proposer.clone()),
    }
}

impl WalEntry {
    /// The entry for an input the core asked to log.
    pub fn from_input(input: &Input<SynodContext>) -> Result<Self, WalEntryError> {
        let signing = |super::context::SigningError::NilRound(what)| WalEntryError::NilRound(what);
        Ok(match input {
            Input::Vote(signed) => {
                Self::Vote { vote: signed.message.to_protocol().map_err(signing)?, signature: signed.signature }
            }
            Input::Proposal(signed) => {
                Self::Proposal { proposal: signed.message.to_protocol().map_err(signing)?, signature: signed.signature }
            }
            Input::ProposedValue(value, origin) => Self::ProposedValue {
                round: round_of(value.round, "proposed value")?,
                valid_round: value.valid_round.as_u32(),
                proposer: value.proposer.0.clone(),
                block: value.value.0,
                valid: value.validity.is_valid(),
                from_sync: matches!(origin, ValueOrigin::Sync),
            },
            Input::TimeoutElapsed(timeout) => Self::Timeout {
                kind: match timeout.kind {
                    TimeoutKind::Propose => LoggedTimeout::Propose,
                    TimeoutKind::Prevote => LoggedTimeout::Prevote,
                    TimeoutKind::Precommit => LoggedTimeout::Precommit,
                    TimeoutKind::Rebroadcast => LoggedTimeout::Rebroadcast,
                    TimeoutKind::FinalizeHeight(_) => return Err(WalEntryError::Unexpected("finalize timeout")),
                },
                round: round_of(timeout.round, "timeout")?,
            },
            Input::PolkaCertificate(certificate) => Self::PolkaCertificate {
                round: round_of(certificate.round, "polka certificate")?,
                block: certificate.value_id,
                signatures: certificate.polka_signatures.iter().map(|s| (s.address.0.clone(), s.signature)).collect(),
            },
            Input::StartHeight(..) => return Err(WalEntryError::Unexpected("start height")),
            Input::RoundCertificate(_) => return Err(WalEntryError::Unexpected("round certificate")),
            Input::Propose(_) => return Err(WalEntryError::Unexpected("propose")),
            Input::SyncValueResponse(_) => return Err(WalEntryError::Unexpected("sync value")),
        })
    }

    /// The input to replay for this entry at `height`; `None` for a block record (the host keeps those itself).
    pub fn to_input(&self, height: ids::Height) -> Result<Option<Input<SynodContext>>, WalEntryError> {
        Ok(Some(match self {
            Self::Vote { vote, signature } => {
                let signed: SignedVote = SignedMessage::new(vote_from_protocol(vote), *signature);
                Input::Vote(signed)
            }
            Self::Proposal { proposal, signature } => {
                let signed: SignedProposal = SignedMessage::new(proposal_from_protocol(proposal), *signature);
                Input::Proposal(signed)
            }
            Self::ProposedValue { round, valid_round, proposer, block, valid, from_sync } => Input::ProposedValue(
                ProposedValue {
                    height: Height(height),
                    round: Round::new(*round),
                    valid_round: optional_round(*valid_round),
                    proposer: Address(proposer.clone()),
                    value: Value(*block),
                    validity: Validity::from_bool(*valid),
                },
                if *from_sync { ValueOrigin::Sync } else { ValueOrigin::Consensus },
            ),
            Self::Timeout { kind, round } => {
                let round = Round::new(*round);
                Input::TimeoutElapsed(match kind {
                    LoggedTimeout::Propose => Timeout::propose(round),
                    LoggedTimeout::Prevote => Timeout::prevote(round),
                    LoggedTimeout::Precommit => Timeout::precommit(round),
                    LoggedTimeout::Rebroadcast => Timeout::rebroadcast(round),
                })
            }
            Self::PolkaCertificate { round, block, signatures } => {
                if signatures.len() > MAX_POLKA_SIGNATURES {
                    return Err(WalEntryError::TooManySignatures(signatures.len()));
                }
                Input::PolkaCertificate(PolkaCertificate {
                    height: Height(height),
                    round: Round::new(*round),
                    value_id: *block,
                    polka_signatures: signatures
                        .iter()
                        .map(|(node, signature)| PolkaSignature::new(Address(node.clone()), *signature))
                        .collect(),
                })
            }
            Self::Block { .. } => return Ok(None),
        }))
    }
}

/// A consensus write-ahead log for the height being decided.
pub trait Wal {
    /// Appends an entry of `height` (buffered until [`Self::log_flush`]).
    fn log_append(&mut self, height: ids::Height, entry: &WalEntry) -> Result<(), StorageFailure>;
    /// Makes every appended entry durable.
    fn log_flush(&mut self) -> Result<(), StorageFailure>;
    /// The durable entries of `height`, in the order appended.
    fn log_entries(&self, height: ids::Height) -> Result<Vec<WalEntry>, StorageFailure>;
    /// Drops the entries of every height below `height`.
    fn log_reset(&mut self, height: ids::Height) -> Result<(), StorageFailure>;
}

/// A log in memory: flushed entries are what survive a simulated crash.
#[derive(Debug, Clone, Default)]
pub struct MemoryWal {
    durable: Vec<(ids::Height, WalEntry)>,
    buffered: Vec<(ids::Height, WalEntry)>,
}

impl MemoryWal {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries appended but not yet flushed.
    pub fn buffered(&self) -> usize {
        self.buffered.len()
    }

    /// What survives a crash: the durable entries only.
    pub fn crashed(&self) -> Self {
        Self { durable: self.durable.clone(), buffered: Vec::new() }
    }
}

impl Wal for MemoryWal {
    fn log_append(&mut self, height: ids::Height, entry: &WalEntry) -> Result<(), StorageFailure> {
        self.buffered.push((height, entry.clone()));
        Ok(())
    }

    fn log_flush(&mut self) -> Result<(), StorageFailure> {
        self.durable.append(&mut self.buffered);
        Ok(())
    }

    fn log_entries(&self, height: ids::Height) -> Result<Vec<WalEntry>, StorageFailure> {
        Ok(self.durable.iter().filter(|(h, _)| *h == height).map(|(_, e)| e.clone()).collect())
    }

    fn log_reset(&mut self, height: ids::Height) -> Result<(), StorageFailure> {
        self.durable.retain(|(h, _)| *h >= height);
        self.buffered.retain(|(h, _)| *h >= height);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::{decode, encode};
    use governance_contracts::crypto::Digest;
    use governance_contracts::testkit::{node, secret};

    use super::*;

    fn entries() -> Vec<WalEntry> {
        let hash = BlockHash(Digest::Sha256([7; 32]));
        let signature = secret("n0").sign(&Digest::Sha256([1; 32]));
        vec![
            WalEntry::Vote {
                vote: ConsensusVote {
                    height: ids::Height(3),
                    round: 1,
                    kind: VoteKind::Precommit,
                    block: Some(hash),
                    voter: node("n0"),
                },
                signature,
            },
            WalEntry::Vote {
                vote: ConsensusVote {
                    height: ids::Height(3),
                    round: 0,
                    kind: VoteKind::Prevote,
                    block: None,
                    voter: node("n1"),
                },
                signature,
            },
            WalEntry::Proposal {
                proposal: ConsensusProposal {
                    height: ids::Height(3),
                    round: 2,
                    valid_round: Some(1),
                    block: hash,
                    proposer: node("n2"),
                },
                signature,
            },
            WalEntry::ProposedValue {
                round: 2,
                valid_round: None,
                proposer: node("n2"),
                block: hash,
                valid: false,
                from_sync: true,
            },
            WalEntry::Timeout { kind: LoggedTimeout::Prevote, round: 4 },
            WalEntry::PolkaCertificate { round: 1, block: hash, signatures: vec![(node("n3"), signature)] },
        ]
    }

    /// Every loggable entry survives the trip entry → core input → entry and its byte encoding.
    #[test]
    fn entries_round_trip_through_the_core_input_and_bytes() {
        for entry in entries() {
            let input = entry.to_input(ids::Height(3)).unwrap().unwrap();
            assert_eq!(WalEntry::from_input(&input).unwrap(), entry);
            let bytes = encode(&entry);
            assert_eq!(decode::<WalEntry>(&bytes).unwrap(), entry);
        }
    }

    /// Inputs the core never logs are refused rather than stored.
    #[test]
    fn unexpected_inputs_are_refused() {
        let input = Input::TimeoutElapsed(Timeout::new(Round::new(0), TimeoutKind::FinalizeHeight(Default::default())));
        assert!(matches!(WalEntry::from_input(&input), Err(WalEntryError::Unexpected(_))));
    }

    /// Only flushed entries are durable (and survive a crash); a reset drops the heights below it.
    #[test]
    fn flush_makes_entries_durable_and_reset_drops_lower_heights() {
        let mut wal = MemoryWal::new();
        let entry = WalEntry::Timeout { kind: LoggedTimeout::Propose, round: 0 };
        wal.log_append(ids::Height(3), &entry).unwrap();
        assert!(wal.log_entries(ids::Height(3)).unwrap().is_empty());
        assert_eq!(wal.buffered(), 1);
        assert!(wal.crashed().log_entries(ids::Height(3)).unwrap().is_empty());
        wal.log_flush().unwrap();
        wal.log_append(ids::Height(3), &entry).unwrap();
        assert_eq!(wal.crashed().log_entries(ids::Height(3)).unwrap(), vec![entry.clone()]);
        wal.log_append(ids::Height(4), &entry).unwrap();
        wal.log_flush().unwrap();
        wal.log_reset(ids::Height(4)).unwrap();
        assert!(wal.log_entries(ids::Height(3)).unwrap().is_empty());
        assert_eq!(wal.log_entries(ids::Height(4)).unwrap(), vec![entry]);
    }
}
