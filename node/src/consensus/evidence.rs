//! Equivocation evidence: two conflicting messages signed by one sealer at one height and round. The core reports
//! it when it finalises a height; the host stores it (durably, through [`super::store::BlockStore`]) so operators
//! and auditors can query it. Evidence is self-proving: [`Evidence::verify`] checks both signatures against the
//! offender's key, so a stored record convinces anyone, not just the node that saw it.

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::crypto::{PublicKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::types::block::{ConsensusProposal, ConsensusVote};
use malachite_core_consensus::MisbehaviorEvidence;

use super::context::SynodContext;

/// Two conflicting signed messages from one sealer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Evidence {
    /// Two different votes of one kind in one round.
    Votes {
        /// The vote seen first, with its signature.
        first: (ConsensusVote, Signature),
        /// The conflicting vote.
        second: (ConsensusVote, Signature),
    },
    /// Two different proposals in one round.
    Proposals {
        /// The proposal seen first.
        first: (ConsensusProposal, Signature),
        /// The conflicting proposal.
        second: (ConsensusProposal, Signature),
    },
}

impl Evidence {
    /// Every piece of evidence the core reported (those whose messages convert; the core never reports a
    /// message without a round).
    pub fn from_core(evidence: &MisbehaviorEvidence<SynodContext>) -> Vec<Self> {
        let mut found = Vec::new();
        for (_, pairs) in evidence.votes.iter() {
            for (a, b) in pairs {
                if let (Ok(x), Ok(y)) = (a.message.to_protocol(), b.message.to_protocol()) {
                    found.push(Self::Votes { first: (x, a.signature), second: (y, b.signature) });
                }
            }
        }
        for (_, pairs) in evidence.proposals.iter() {
            for (a, b) in pairs {
                if let (Ok(x), Ok(y)) = (a.message.to_protocol(), b.message.to_protocol()) {
                    found.push(Self::Proposals { first: (x, a.signature), second: (y, b.signature) });
                }
            }
        }
        found
    }

    /// The sealer that signed both messages.
    pub fn offender(&self) -> &NodeId {
        match self {
            Self::Votes { first, .. } => &first.0.voter,
            Self::Proposals { first, .. } => &first.0.proposer,
        }
    }

    /// The height of the conflict.
    pub fn height(&self) -> Height {
        match self {
            Self::Votes { first, .. } => first.0.height,
            Self::Proposals { first, .. } => first.0.height,
        }
    }

    /// Whether this proves equivocation by the holder of `key`: same signer, height, round and kind, different
    /// content, and both signatures valid under `key` on `chain`.
    pub fn verify(&self, chain: &ChainIdentity, key: &PublicKey) -> bool {
        match self {
            Self::Votes { first: (a, sa), second: (b, sb) } => {
                a.voter == b.voter
                    && a.height == b.height
                    && a.round == b.round
                    && a.kind == b.kind
                    && a.block != b.block
                    && key.verify(&a.signing_digest(chain), sa)
                    && key.verify(&b.signing_digest(chain), sb)
            }
            Self::Proposals { first: (a, sa), second: (b, sb) } => {
                a.proposer == b.proposer
                    && a.height == b.height
                    && a.round == b.round
                    && a != b
                    && key.verify(&a.signing_digest(chain), sa)
                    && key.verify(&b.signing_digest(chain), sb)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::BlockHash;
    use governance_contracts::testkit::{genesis, node, public, secret};
    use governance_contracts::types::block::VoteKind;

    use super::*;

    fn vote(block: u8) -> ConsensusVote {
        ConsensusVote {
            height: Height(5),
            round: 0,
            kind: VoteKind::Prevote,
            block: Some(BlockHash(Digest::Sha256([block; 32]))),
            voter: node("n1"),
        }
    }

    /// Two different signed prevotes of one round prove equivocation; the same vote twice, or a wrong key, does not.
    #[test]
    fn conflicting_votes_verify_and_nothing_else_does() {
        let chain = genesis(4).identity();
        let key = secret("n1");
        let signed = |v: ConsensusVote| {
            let s = key.sign(&v.signing_digest(&chain));
            (v, s)
        };
        let evidence = Evidence::Votes { first: signed(vote(1)), second: signed(vote(2)) };
        assert!(evidence.verify(&chain, &public("n1")));
        assert!(!evidence.verify(&chain, &public("n2")));
        assert_eq!(evidence.offender(), &node("n1"));
        assert_eq!(evidence.height(), Height(5));
        let same = Evidence::Votes { first: signed(vote(1)), second: signed(vote(1)) };
        assert!(!same.verify(&chain, &public("n1")));
    }
}
