//! Synod's types for Malachite's core: the [`SynodContext`] and everything it names.
//!
//! - A [`Height`] wraps the chain's [`ids::Height`]; an [`Address`] is a sealer's stable [`NodeId`] (keys rotate
//!   underneath it); a [`Value`] is a block hash, and votes carry that hash.
//! - A [`Vote`] signs the digest of the protocol's [`ConsensusVote`] and a [`Proposal`] the digest of its
//!   [`ConsensusProposal`], so the precommits Malachite gathers convert one for one into a [`CommitCertificate`]
//!   that [`verify_certificate`](governance_contracts::types::block::verify_certificate) accepts.
//! - [`ValidatorSet`] is built from the protocol's validator set (sorted by node id, non-empty, unique, total
//!   weight below `u64::MAX / 3` so the core's threshold arithmetic cannot overflow).
//! - [`SynodContext::select_proposer`] rotates over the sorted set: index `(height + round) mod n`.
//! - Equality of votes and proposals covers their deterministic content only (no extensions exist): write-ahead
//!   log replay compares re-derived messages with logged ones.

use core::fmt;

use governance_contracts::crypto::{PublicKey, SecretKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{self, BlockHash, NodeId};
use governance_contracts::types::block::{
    self, CommitCertificate, CommitSignature, ConsensusProposal, ConsensusVote, VoteKind,
};
use malachite_core_consensus::ConsensusMsg;
use malachite_core_types::{
    self as mc, LinearTimeouts, NilOrVal, Round, SignedExtension, SignedMessage, VoteType, VotingPower,
};

/// The consensus core's view of Synod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynodContext;

/// A block height as the consensus core sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub ids::Height);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Self(ids::Height(0));
    const INITIAL: Self = Self(ids::Height(1));

    fn increment_by(&self, n: u64) -> Self {
        Self(self.0.plus(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.0.checked_sub(n).map(|h| Self(ids::Height(h)))
    }

    fn as_u64(&self) -> u64 {
        self.0.0
    }
}

/// A sealer's consensus address: its stable node id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub NodeId);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Address for Address {}

/// The value consensus agrees on: a block's hash (the block itself travels beside the proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Value(pub BlockHash);

impl mc::Value for Value {
    type Id = BlockHash;

    fn id(&self) -> BlockHash {
        self.0
    }
}

/// Unused: blocks are not streamed in parts through the core (the host carries them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoParts;

impl mc::ProposalPart<SynodContext> for NoParts {
    fn is_first(&self) -> bool {
        true
    }

    fn is_last(&self) -> bool {
        true
    }
}

/// Why a consensus message cannot be turned into the protocol message it signs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// Votes and proposals always name a round; the core never builds one without.
    #[error("a {0} without a round cannot be signed")]
    NilRound(&'static str),
}

/// A prevote or precommit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockHash>,
    /// The voter.
    pub voter: Address,
}

impl Vote {
    /// The protocol message this vote signs.
    pub fn to_protocol(&self) -> Result<ConsensusVote, SigningError> {
        Ok(ConsensusVote {
            height: self.height.0,
            round: self.round.as_u32().ok_or(SigningError::NilRound("vote"))?,
            kind: match self.vote_type {
                VoteType::Prevote => VoteKind::Prevote,
                VoteType::Precommit => VoteKind::Precommit,
            },
            block: match self.value {
                NilOrVal::Nil => None,
                NilOrVal::Val(hash) => Some(hash),
            },
            voter: self.voter.0.clone(),
        })
    }
}

impl mc::Vote<SynodContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockHash> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockHash> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.voter
    }

    fn extension(&self) -> Option<&SignedExtension<SynodContext>> {
        None
    }

    fn take_extension(&mut self) -> Option<SignedExtension<SynodContext>> {
        None
    }

    fn extend(self, _extension: SignedExtension<SynodContext>) -> Self {
        // Vote extensions are disabled (`VoteExtensionPolicy::Disabled`): the core never asks for one.
        self
    }
}

/// A proposal of a block in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The height.
    pub height: Height,
    /// The round.
    pub round: Round,
    /// The proposed block's hash.
    pub value: Value,
    /// The round of the polka that justifies re-proposing this value, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

impl Proposal {
    /// The protocol message this proposal signs.
    pub fn to_protocol(&self) -> Result<ConsensusProposal, SigningError> {
        Ok(ConsensusProposal {
            height: self.height.0,
            round: self.round.as_u32().ok_or(SigningError::NilRound("proposal"))?,
            valid_round: self.pol_round.as_u32(),
            block: self.value.0,
            proposer: self.proposer.0.clone(),
        })
    }
}

impl mc::Proposal<SynodContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &Value {
        &self.value
    }

    fn take_value(self) -> Value {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A sealer as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validator {
    /// Its node id.
    pub address: Address,
    /// Its key for this height.
    pub public_key: PublicKey,
    /// Its weight.
    pub voting_power: VotingPower,
}

impl mc::Validator<SynodContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Why a protocol validator set cannot drive consensus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No sealers.
    #[error("the validator set is empty")]
    Empty,
    /// Not strictly ascending by node id (unsorted or a duplicate).
    #[error("the validator set is not strictly sorted by node id at {0}")]
    NotSorted(NodeId),
    /// A sealer with no weight.
    #[error("{0} has zero weight")]
    ZeroWeight(NodeId),
    /// The total would overflow the core's threshold arithmetic.
    #[error("total weight exceeds u64::MAX / 3")]
    TotalTooLarge,
}

/// The sealers of one height, in the protocol's canonical order (ascending node id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total: VotingPower,
    protocol: block::ValidatorSet,
}

impl ValidatorSet {
    /// The set `set` describes, checked.
    pub fn new(set: block::ValidatorSet) -> Result<Self, ValidatorSetError> {
        let mut validators: Vec<Validator> = Vec::with_capacity(set.validators.len());
        let mut total: u64 = 0;
        for v in &set.validators {
            if validators.last().is_some_and(|last| last.address.0 >= v.node) {
                return Err(ValidatorSetError::NotSorted(v.node.clone()));
            }
            if v.weight.0 == 0 {
                return Err(ValidatorSetError::ZeroWeight(v.node.clone()));
            }
            total = total.checked_add(v.weight.0).ok_or(ValidatorSetError::TotalTooLarge)?;
            validators.push(Validator {
                address: Address(v.node.clone()),
                public_key: v.key,
                voting_power: v.weight.0,
            });
        }
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if total > u64::MAX / 3 {
            return Err(ValidatorSetError::TotalTooLarge);
        }
        Ok(Self { validators, total, protocol: set })
    }

    /// The protocol set it was built from (its hash goes into block headers).
    pub fn protocol(&self) -> &block::ValidatorSet {
        &self.protocol
    }

    /// The validators, sorted by address.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }
}

impl mc::ValidatorSet<SynodContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.total
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.binary_search_by(|v| v.address.cmp(address)).ok().and_then(|i| self.validators.get(i))
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// Ed25519 with the chain's key and signature types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Scheme;

/// Bytes that are not a key or signature of the scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} bytes, got {got}")]
pub struct DecodingError {
    /// The length required.
    pub expected: usize,
    /// The length given.
    pub got: usize,
}

impl mc::SigningScheme for Ed25519Scheme {
    type DecodingError = DecodingError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = SecretKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, DecodingError> {
        let raw: [u8; 64] = bytes.try_into().map_err(|_| DecodingError { expected: 64, got: bytes.len() })?;
        Ok(Signature::Ed25519(raw))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        match signature {
            Signature::Ed25519(raw) => raw.to_vec(),
        }
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, DecodingError> {
        let raw: [u8; 32] = bytes.try_into().map_err(|_| DecodingError { expected: 32, got: bytes.len() })?;
        Ok(PublicKey::Ed25519(raw))
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}

impl mc::Context for SynodContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = NoParts;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = Value;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519Scheme;

    fn select_proposer<'a>(&self, validator_set: &'a ValidatorSet, height: Height, round: Round) -> &'a Validator {
        let count = u64::try_from(validator_set.validators.len()).unwrap_or(u64::MAX);
        // The core asks only for defined rounds; a nil round counts as round 0.
        let round = u64::from(round.as_u32().unwrap_or(0));
        let index = height.0.0.wrapping_add(round).checked_rem(count).unwrap_or(0);
        let index = usize::try_from(index).unwrap_or(0);
        validator_set.validators.get(index).or(validator_set.validators.first()).expect("a validator set is non-empty")
    }

    fn new_proposal(&self, height: Height, round: Round, value: Value, pol_round: Round, address: Address) -> Proposal {
        Proposal { height, round, value, pol_round, proposer: address }
    }

    fn new_prevote(&self, height: Height, round: Round, value: NilOrVal<BlockHash>, address: Address) -> Vote {
        Vote { height, round, vote_type: VoteType::Prevote, value, voter: address }
    }

    fn new_precommit(&self, height: Height, round: Round, value: NilOrVal<BlockHash>, address: Address) -> Vote {
        Vote { height, round, vote_type: VoteType::Precommit, value, voter: address }
    }
}

/// A vote signed by its voter.
pub type SignedVote = SignedMessage<SynodContext, Vote>;
/// A proposal signed by its proposer.
pub type SignedProposal = SignedMessage<SynodContext, Proposal>;

/// Signs `vote` with `key` (over its protocol digest).
pub fn sign_vote(chain: &ChainIdentity, key: &SecretKey, vote: Vote) -> Result<SignedVote, SigningError> {
    let digest = vote.to_protocol()?.signing_digest(chain);
    Ok(SignedMessage::new(vote, key.sign(&digest)))
}

/// Signs `proposal` with `key` (over its protocol digest).
pub fn sign_proposal(
    chain: &ChainIdentity,
    key: &SecretKey,
    proposal: Proposal,
) -> Result<SignedProposal, SigningError> {
    let digest = proposal.to_protocol()?.signing_digest(chain);
    Ok(SignedMessage::new(proposal, key.sign(&digest)))
}

/// Whether `signature` by `key` covers `vote`.
pub fn verify_vote(chain: &ChainIdentity, vote: &Vote, signature: &Signature, key: &PublicKey) -> bool {
    vote.to_protocol().is_ok_and(|v| key.verify(&v.signing_digest(chain), signature))
}

/// Whether `signature` by `key` covers `proposal`.
pub fn verify_proposal(chain: &ChainIdentity, proposal: &Proposal, signature: &Signature, key: &PublicKey) -> bool {
    proposal.to_protocol().is_ok_and(|p| key.verify(&p.signing_digest(chain), signature))
}

/// Whether a signed consensus message (as the core hands it over for verification) verifies under `key`.
pub fn verify_message(
    chain: &ChainIdentity,
    message: &SignedMessage<SynodContext, ConsensusMsg<SynodContext>>,
    key: &PublicKey,
) -> bool {
    match &message.message {
        ConsensusMsg::Vote(vote) => verify_vote(chain, vote, &message.signature, key),
        ConsensusMsg::Proposal(proposal) => verify_proposal(chain, proposal, &message.signature, key),
    }
}

/// Why a core certificate does not convert to the protocol's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateConversionError {
    /// A certificate always names its round.
    #[error("a commit certificate without a round")]
    NilRound,
    /// More signers than a validator set can hold.
    #[error("too many signatures")]
    TooManySignatures,
}

/// The protocol's [`CommitCertificate`] for a core commit certificate: the same precommit signatures (sorted by
/// node id), which `verify_certificate` checks against the same digests.
pub fn to_protocol_certificate(
    certificate: &mc::CommitCertificate<SynodContext>,
) -> Result<CommitCertificate, CertificateConversionError> {
    let mut signatures: Vec<CommitSignature> = certificate
        .commit_signatures
        .iter()
        .map(|s| CommitSignature { node: s.address.0.clone(), signature: s.signature })
        .collect();
    signatures.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(CommitCertificate {
        height: certificate.height.0,
        round: certificate.round.as_u32().ok_or(CertificateConversionError::NilRound)?,
        block: certificate.value_id,
        signatures: signatures.try_into().map_err(|_| CertificateConversionError::TooManySignatures)?,
    })
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::BoundedVec;
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::Weight;
    use governance_contracts::testkit::{node, public, secret};
    use governance_contracts::types::block::{BlockHeader, verify_certificate};
    use malachite_core_types::{Context as _, Height as _, ValidatorSet as _, Value as _};

    use super::*;

    fn chain() -> ChainIdentity {
        governance_contracts::testkit::genesis(4).identity()
    }

    fn protocol_set(n: usize) -> block::ValidatorSet {
        let validators = (0..n)
            .map(|i| block::Validator {
                node: node(&format!("n{i}")),
                key: public(&format!("n{i}")),
                weight: Weight(1),
            })
            .collect();
        block::ValidatorSet { validators: BoundedVec::try_new(validators).unwrap() }
    }

    fn hash(byte: u8) -> BlockHash {
        BlockHash(Digest::Sha256([byte; 32]))
    }

    /// Heights count from the chain's height: ZERO is 0, INITIAL is 1, and decrementing below zero is refused.
    #[test]
    fn height_arithmetic() {
        assert_eq!(Height::ZERO, Height::default());
        assert_eq!(Height::INITIAL.as_u64(), 1);
        assert_eq!(Height::INITIAL.increment_by(4).as_u64(), 5);
        assert_eq!(Height::INITIAL.decrement_by(2), None);
        assert_eq!(Height(ids::Height(3)).decrement(), Some(Height(ids::Height(2))));
    }

    /// A value's id is the block hash it wraps.
    #[test]
    fn value_id_is_block_hash() {
        assert_eq!(Value(hash(7)).id(), hash(7));
    }

    /// The set keeps the protocol order, sums weights, finds validators by address and refuses empty, unsorted,
    /// duplicate and zero-weight sets.
    #[test]
    fn validator_set_checks() {
        let set = ValidatorSet::new(protocol_set(4)).unwrap();
        assert_eq!(set.count(), 4);
        assert_eq!(set.total_voting_power(), 4);
        assert_eq!(set.get_by_address(&Address(node("n2"))).unwrap().public_key, public("n2"));
        assert!(set.get_by_address(&Address(node("n9"))).is_none());

        let empty = block::ValidatorSet { validators: BoundedVec::new() };
        assert_eq!(ValidatorSet::new(empty), Err(ValidatorSetError::Empty));
        let mut unsorted = protocol_set(3).validators.into_inner();
        unsorted.swap(0, 2);
        let unsorted = block::ValidatorSet { validators: BoundedVec::try_new(unsorted).unwrap() };
        assert_eq!(ValidatorSet::new(unsorted), Err(ValidatorSetError::NotSorted(node("n1"))));
        let mut duplicate = protocol_set(2).validators.into_inner();
        duplicate.push(duplicate[1].clone());
        let duplicate = block::ValidatorSet { validators: BoundedVec::try_new(duplicate).unwrap() };
        assert_eq!(ValidatorSet::new(duplicate), Err(ValidatorSetError::NotSorted(node("n1"))));
        let mut zero = protocol_set(2).validators.into_inner();
        zero[0].weight = Weight(0);
        let zero = block::ValidatorSet { validators: BoundedVec::try_new(zero).unwrap() };
        assert_eq!(ValidatorSet::new(zero), Err(ValidatorSetError::ZeroWeight(node("n0"))));
    }

    /// The proposer rotates with height and round over the sorted set: (height + round) mod n.
    #[test]
    fn proposer_rotates_with_height_and_round() {
        let set = ValidatorSet::new(protocol_set(4)).unwrap();
        let ctx = SynodContext;
        let at = |h: u64, r: u32| ctx.select_proposer(&set, Height(ids::Height(h)), Round::new(r)).address.clone();
        assert_eq!(at(1, 0), Address(node("n1")));
        assert_eq!(at(2, 0), Address(node("n2")));
        assert_eq!(at(1, 1), Address(node("n2")));
        assert_eq!(at(3, 1), Address(node("n0")));
        assert_eq!(at(4, 7), Address(node("n3")));
    }

    /// A signed vote verifies under the voter's key, not under another key, and not once its content changes.
    #[test]
    fn vote_signatures_cover_content() {
        let chain = chain();
        let vote = SynodContext.new_precommit(
            Height(ids::Height(3)),
            Round::new(1),
            NilOrVal::Val(hash(1)),
            Address(node("n0")),
        );
        let signed = sign_vote(&chain, &secret("n0"), vote.clone()).unwrap();
        assert!(verify_vote(&chain, &vote, &signed.signature, &public("n0")));
        assert!(!verify_vote(&chain, &vote, &signed.signature, &public("n1")));
        let other = Vote { value: NilOrVal::Nil, ..vote };
        assert!(!verify_vote(&chain, &other, &signed.signature, &public("n0")));
        let prevote = Vote { vote_type: VoteType::Prevote, ..other };
        assert!(!verify_vote(&chain, &prevote, &signed.signature, &public("n0")));
    }

    /// A signed proposal verifies under the proposer's key and covers its POL round.
    #[test]
    fn proposal_signatures_cover_pol_round() {
        let chain = chain();
        let proposal = SynodContext.new_proposal(
            Height(ids::Height(2)),
            Round::new(2),
            Value(hash(4)),
            Round::Nil,
            Address(node("n1")),
        );
        let signed = sign_proposal(&chain, &secret("n1"), proposal.clone()).unwrap();
        assert!(verify_proposal(&chain, &proposal, &signed.signature, &public("n1")));
        let repropose = Proposal { pol_round: Round::new(1), ..proposal };
        assert!(!verify_proposal(&chain, &repropose, &signed.signature, &public("n1")));
    }

    /// A vote without a round cannot be signed (and so never verifies).
    #[test]
    fn nil_round_is_not_signable() {
        let vote = SynodContext.new_prevote(Height(ids::Height(1)), Round::Nil, NilOrVal::Nil, Address(node("n0")));
        assert_eq!(vote.to_protocol(), Err(SigningError::NilRound("vote")));
    }

    /// Key and signature codecs round-trip and refuse wrong lengths.
    #[test]
    fn signing_scheme_codecs() {
        use malachite_core_types::SigningScheme as _;
        let key = public("n0");
        assert_eq!(Ed25519Scheme::decode_public_key(&Ed25519Scheme::encode_public_key(&key)), Ok(key));
        let sig = secret("n0").sign(&Digest::ZERO);
        assert_eq!(Ed25519Scheme::decode_signature(&Ed25519Scheme::encode_signature(&sig)), Ok(sig));
        assert_eq!(Ed25519Scheme::decode_signature(&[0; 3]), Err(DecodingError { expected: 64, got: 3 }));
    }

    /// A certificate built by the core from signed precommits converts to one `verify_certificate` accepts for
    /// the header, and one precommit short it is refused.
    #[test]
    fn core_certificate_converts_to_a_verifiable_one() {
        let chain = chain();
        let set = protocol_set(4);
        let header = BlockHeader {
            height: ids::Height(5),
            parent: hash(0),
            state_root: Digest::ZERO,
            transactions_root: Digest::ZERO,
            receipts_root: Digest::ZERO,
            validator_set_hash: set.hash(&chain),
            next_validator_set_hash: set.hash(&chain),
            proposer: node("n1"),
            time_ms: 0,
        };
        let block = header.hash(&chain);
        let precommits: Vec<SignedVote> = (0..3)
            .map(|i| {
                let name = format!("n{i}");
                let vote = SynodContext.new_precommit(
                    Height(header.height),
                    Round::new(2),
                    NilOrVal::Val(block),
                    Address(node(&name)),
                );
                sign_vote(&chain, &secret(&name), vote).unwrap()
            })
            .collect();
        let core = mc::CommitCertificate::new(Height(header.height), Round::new(2), block, precommits.clone());
        let certificate = to_protocol_certificate(&core).unwrap();
        assert_eq!(certificate.signatures.len(), 3);
        verify_certificate(&chain, &header, &certificate, &set).unwrap();

        let short = mc::CommitCertificate::new(Height(header.height), Round::new(2), block, precommits[..2].to_vec());
        let short = to_protocol_certificate(&short).unwrap();
        assert!(verify_certificate(&chain, &header, &short, &set).is_err());
    }
}
