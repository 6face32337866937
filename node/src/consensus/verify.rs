//! Certificate checks the core delegates to the host: commit, extended commit, polka and round certificates.
//!
//! Every check refuses unknown and duplicate signers and bad signatures, then compares the signed weight with
//! the threshold: 2f+1 (quorum) for commit, polka and Precommit-type round certificates, f+1 (honest) for
//! Skip-type round certificates. A Precommit-type round certificate must contain no prevotes. Extensions are
//! disabled, so an extended commit certificate carrying one is refused.

#![allow(
    clippy::result_large_err,
    reason = "the core resumes certificate checks with exactly `Result<(), CertificateError>`"
)]

use std::collections::BTreeSet;

use governance_contracts::crypto::Signature;
use governance_contracts::domain::ChainIdentity;
use malachite_core_types::{
    CertificateError, CommitCertificate, ExtendedCommitCertificate, NilOrVal, PolkaCertificate, RoundCertificate,
    RoundCertificateType, ThresholdParam, ThresholdParams, ValidatorSet as _, VoteType,
};

use super::context::{Address, SynodContext, ValidatorSet, Vote, verify_vote};

/// One signature of a certificate, with the vote it signs.
struct Signed<'a> {
    vote: Vote,
    signature: &'a Signature,
}

fn check(
    chain: &ChainIdentity,
    set: &ValidatorSet,
    threshold: ThresholdParam,
    signatures: Vec<Signed<'_>>,
    invalid: impl Fn(&Vote, &Signature) -> CertificateError<SynodContext>,
) -> Result<(), CertificateError<SynodContext>> {
    let mut seen: BTreeSet<&Address> = BTreeSet::new();
    let mut signed: u64 = 0;
    for s in &signatures {
        let address = &s.vote.voter;
        let validator =
            set.get_by_address(address).ok_or_else(|| CertificateError::UnknownValidator(address.clone()))?;
        if !seen.insert(address) {
            return Err(CertificateError::DuplicateVote(address.clone()));
        }
        if !verify_vote(chain, &s.vote, s.signature, &validator.public_key) {
            return Err(invalid(&s.vote, s.signature));
        }
        signed = signed
            .checked_add(validator.voting_power)
            .ok_or(CertificateError::VotingPowerOverflow { signed, added: validator.voting_power })?;
    }
    let total = set.total_voting_power();
    if !threshold.is_met(signed, total) {
        return Err(CertificateError::NotEnoughVotingPower { signed, total, expected: threshold.min_expected(total) });
    }
    Ok(())
}

/// Verifies a commit certificate: 2f+1 valid precommits for its value.
pub fn commit_certificate(
    chain: &ChainIdentity,
    certificate: &CommitCertificate<SynodContext>,
    set: &ValidatorSet,
    params: ThresholdParams,
) -> Result<(), CertificateError<SynodContext>> {
    let signatures = certificate
        .commit_signatures
        .iter()
        .map(|s| Signed {
            vote: Vote {
                height: certificate.height,
                round: certificate.round,
                vote_type: VoteType::Precommit,
                value: NilOrVal::Val(certificate.value_id),
                voter: s.address.clone(),
            },
            signature: &s.signature,
        })
        .collect();
    check(chain, set, params.quorum, signatures, |vote, signature| {
        CertificateError::InvalidCommitSignature(malachite_core_types::CommitSignature::new(
            vote.voter.clone(),
            *signature,
        ))
    })
}

/// Verifies an extended commit certificate: as [`commit_certificate`], and no extension (they are disabled).
pub fn extended_commit_certificate(
    chain: &ChainIdentity,
    certificate: &ExtendedCommitCertificate<SynodContext>,
    set: &ValidatorSet,
    params: ThresholdParams,
) -> Result<(), CertificateError<SynodContext>> {
    if let Some(s) = certificate.commit_signatures.iter().find(|s| s.extension.is_some()) {
        return Err(CertificateError::UnexpectedVoteExtension(s.address.clone()));
    }
    commit_certificate(chain, &certificate.trim_vote_extensions(), set, params)
}

/// Verifies a polka certificate: 2f+1 valid prevotes for its value.
pub fn polka_certificate(
    chain: &ChainIdentity,
    certificate: &PolkaCertificate<SynodContext>,
    set: &ValidatorSet,
    params: ThresholdParams,
) -> Result<(), CertificateError<SynodContext>> {
    let signatures = certificate
        .polka_signatures
        .iter()
        .map(|s| Signed {
            vote: Vote {
                height: certificate.height,
                round: certificate.round,
                vote_type: VoteType::Prevote,
                value: NilOrVal::Val(certificate.value_id),
                voter: s.address.clone(),
            },
            signature: &s.signature,
        })
        .collect();
    check(chain, set, params.quorum, signatures, |vote, signature| {
        CertificateError::InvalidPolkaSignature(malachite_core_types::PolkaSignature::new(
            vote.voter.clone(),
            *signature,
        ))
    })
}

/// Verifies a round certificate: f+1 valid votes of the round for a Skip certificate, 2f+1 valid precommits (and
/// no prevote) for a Precommit certificate.
pub fn round_certificate(
    chain: &ChainIdentity,
    certificate: &RoundCertificate<SynodContext>,
    set: &ValidatorSet,
    params: ThresholdParams,
) -> Result<(), CertificateError<SynodContext>> {
    let threshold = match certificate.cert_type {
        RoundCertificateType::Skip => params.honest,
        RoundCertificateType::Precommit => {
            if let Some(s) = certificate.round_signatures.iter().find(|s| s.vote_type == VoteType::Prevote) {
                return Err(CertificateError::InvalidVoteType(s.address.clone()));
            }
            params.quorum
        }
    };
    let signatures = certificate
        .round_signatures
        .iter()
        .map(|s| Signed {
            vote: Vote {
                height: certificate.height,
                round: certificate.round,
                vote_type: s.vote_type,
                value: s.value_id,
                voter: s.address.clone(),
            },
            signature: &s.signature,
        })
        .collect();
    check(chain, set, threshold, signatures, |vote, signature| {
        CertificateError::InvalidRoundSignature(malachite_core_types::RoundSignature::new(
            vote.vote_type,
            vote.value,
            vote.voter.clone(),
            *signature,
        ))
    })
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::BoundedVec;
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{self, BlockHash, Weight};
    use governance_contracts::testkit::{node, public, secret};
    use governance_contracts::types::block;
    use malachite_core_types::{Context as _, Round, SignedMessage};

    use super::*;
    use crate::consensus::context::{Height, SignedVote, sign_vote};

    fn chain() -> ChainIdentity {
        governance_contracts::testkit::genesis(4).identity()
    }

    fn set() -> ValidatorSet {
        let validators = (0..4)
            .map(|i| block::Validator {
                node: node(&format!("n{i}")),
                key: public(&format!("n{i}")),
                weight: Weight(1),
            })
            .collect();
        ValidatorSet::new(block::ValidatorSet { validators: BoundedVec::try_new(validators).unwrap() }).unwrap()
    }

    const H: Height = Height(ids::Height(2));
    const BLOCK: BlockHash = BlockHash(Digest::Sha256([9; 32]));

    fn vote(i: usize, vote_type: VoteType, value: NilOrVal<BlockHash>) -> SignedVote {
        let name = format!("n{i}");
        let vote = match vote_type {
            VoteType::Prevote => SynodContext.new_prevote(H, Round::new(0), value, Address(node(&name))),
            VoteType::Precommit => SynodContext.new_precommit(H, Round::new(0), value, Address(node(&name))),
        };
        sign_vote(&chain(), &secret(&name), vote).unwrap()
    }

    fn commit(signers: &[usize]) -> CommitCertificate<SynodContext> {
        let votes = signers.iter().map(|i| vote(*i, VoteType::Precommit, NilOrVal::Val(BLOCK))).collect();
        CommitCertificate::new(H, Round::new(0), BLOCK, votes)
    }

    /// Three of four precommits make a commit certificate; two do not.
    #[test]
    fn commit_needs_a_quorum() {
        let params = ThresholdParams::default();
        commit_certificate(&chain(), &commit(&[0, 1, 2]), &set(), params).unwrap();
        let err = commit_certificate(&chain(), &commit(&[0, 1]), &set(), params).unwrap_err();
        assert!(matches!(err, CertificateError::NotEnoughVotingPower { signed: 2, total: 4, .. }));
    }

    /// A duplicate signer, an unknown signer and a signature for another block are each refused.
    #[test]
    fn commit_refuses_duplicates_strangers_and_bad_signatures() {
        let params = ThresholdParams::default();
        let mut dup = commit(&[0, 1, 2]);
        dup.commit_signatures.push(dup.commit_signatures[0].clone());
        assert!(matches!(commit_certificate(&chain(), &dup, &set(), params), Err(CertificateError::DuplicateVote(_))));
        let mut stranger = commit(&[0, 1, 2]);
        stranger.commit_signatures[0].address = Address(node("n9"));
        assert!(matches!(
            commit_certificate(&chain(), &stranger, &set(), params),
            Err(CertificateError::UnknownValidator(_))
        ));
        let mut other = commit(&[0, 1, 2]);
        other.value_id = BlockHash(Digest::ZERO);
        assert!(matches!(
            commit_certificate(&chain(), &other, &set(), params),
            Err(CertificateError::InvalidCommitSignature(_))
        ));
    }

    /// A polka certificate needs 2f+1 prevotes: precommit signatures do not count as prevotes.
    #[test]
    fn polka_needs_prevotes() {
        let params = ThresholdParams::default();
        let prevotes = (0..3).map(|i| vote(i, VoteType::Prevote, NilOrVal::Val(BLOCK))).collect();
        let polka = PolkaCertificate::new(H, Round::new(0), BLOCK, prevotes);
        polka_certificate(&chain(), &polka, &set(), params).unwrap();
        let mut forged = polka.clone();
        for (sig, precommit) in forged.polka_signatures.iter_mut().zip(commit(&[0, 1, 2]).commit_signatures) {
            sig.signature = precommit.signature;
        }
        assert!(polka_certificate(&chain(), &forged, &set(), params).is_err());
    }

    /// A Skip round certificate needs f+1 votes; a Precommit one needs 2f+1 precommits and refuses prevotes.
    #[test]
    fn round_certificate_thresholds() {
        let params = ThresholdParams::default();
        let two: Vec<SignedMessage<SynodContext, Vote>> =
            (0..2).map(|i| vote(i, VoteType::Prevote, NilOrVal::Nil)).collect();
        let skip = RoundCertificate::new_from_votes(H, Round::new(0), RoundCertificateType::Skip, two.clone());
        round_certificate(&chain(), &skip, &set(), params).unwrap();
        let precommit = RoundCertificate::new_from_votes(H, Round::new(0), RoundCertificateType::Precommit, two);
        assert!(matches!(
            round_certificate(&chain(), &precommit, &set(), params),
            Err(CertificateError::InvalidVoteType(_))
        ));
        let nil_precommits = (0..2).map(|i| vote(i, VoteType::Precommit, NilOrVal::Nil)).collect();
        let short = RoundCertificate::new_from_votes(H, Round::new(0), RoundCertificateType::Precommit, nil_precommits);
        assert!(matches!(
            round_certificate(&chain(), &short, &set(), params),
            Err(CertificateError::NotEnoughVotingPower { .. })
        ));
    }
}
