//! Helpers shared by the node's integration tests.

use governance_contracts::codec::BoundedVec;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::testkit;
use governance_contracts::types::{Block, CommitCertificate, CommitSignature, ConsensusVote, ValidatorSet, VoteKind};

/// A commit certificate for `block` signed by every validator of `set` (keys derived from the node ids).
pub fn certify(chain: &ChainIdentity, block: &Block, set: &ValidatorSet) -> CommitCertificate {
    let hash = block.hash(chain);
    let signatures = set
        .validators
        .iter()
        .map(|v| {
            let vote = ConsensusVote {
                height: block.header.height,
                round: 0,
                kind: VoteKind::Precommit,
                block: Some(hash),
                voter: v.node.clone(),
            };
            CommitSignature {
                node: v.node.clone(),
                signature: testkit::secret(v.node.as_str()).sign(&vote.signing_digest(chain)),
            }
        })
        .collect();
    CommitCertificate {
        height: block.header.height,
        round: 0,
        block: hash,
        signatures: BoundedVec::try_new(signatures).expect("one signature per validator"),
    }
}
