//! The signer in the browser: a PKCS#8 key read in this tab, and the transactions it signs. Everything here is
//! pure, so it runs the same in the browser and in tests; the key never leaves the `Signer`.

use governance_contracts::{
    codec::{self, BoundedVec},
    crypto::{PublicKey, SecretKey, Signature},
    domain::ChainIdentity,
    ids::{AccountId, Height, ProposalId},
    types::{Approval, LoginChallenge, Payload, Principal, Proposal, SignedTransaction, Transaction},
};

/// The largest key file read.
pub const MAX_KEY_FILE: usize = 64 * 1024;
/// The largest approval file read.
pub const MAX_APPROVAL_FILE: usize = 64 * 1024;

/// Why a key or a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// The key file is not an Ed25519 PKCS#8 PEM key.
    #[error(
        "this is not an Ed25519 private key in PKCS#8 PEM form (from `synod keygen` or `openssl genpkey -algorithm ed25519`): {0}"
    )]
    BadKey(String),
    /// A file is larger than allowed.
    #[error("the file is too large ({0} bytes at most)")]
    TooLarge(usize),
    /// An approval file does not parse.
    #[error("this is not an approval file from `synod proposal sign`: {0}")]
    BadApproval(String),
    /// An approval does not verify for the proposal.
    #[error("the approval by {0} is not a valid signature of this proposal on this chain")]
    ApprovalDoesNotVerify(AccountId),
    /// A transaction could not be built.
    #[error("cannot build the transaction: {0}")]
    Build(String),
}

/// A key held in memory for signing.
pub struct Signer {
    secret: SecretKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

impl Signer {
    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(text: &str) -> Result<Self, SignerError> {
        if text.len() > MAX_KEY_FILE {
            return Err(SignerError::TooLarge(MAX_KEY_FILE));
        }
        SecretKey::from_pkcs8_pem(text.trim())
            .map(|secret| Self { secret })
            .map_err(|e| SignerError::BadKey(e.to_string()))
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    /// Signs a console login challenge under the console-login domain.
    pub fn sign_login(&self, challenge: &LoginChallenge, chain: &ChainIdentity) -> Signature {
        self.secret.sign(&challenge.signing_digest(chain))
    }

    /// This key's approval of `proposal` for `account`.
    pub fn approve_proposal(&self, proposal: &Proposal, chain: &ChainIdentity, account: AccountId) -> Approval {
        proposal.approve(chain, account, &self.secret)
    }

    fn sign(&self, chain: &ChainIdentity, account: AccountId, valid_until: u64, payload: Payload) -> String {
        let tx = Transaction { sender: Principal::Account(account), valid_until: Height(valid_until), payload };
        hex::encode(codec::encode(&tx.sign(chain, &self.secret)))
    }

    /// Submits `proposal` with this key's own approval: canonical hex of the signed transaction.
    pub fn submit_with_approval(
        &self,
        proposal: &Proposal,
        chain: &ChainIdentity,
        account: AccountId,
        valid_until: u64,
    ) -> Result<String, SignerError> {
        let approval = self.approve_proposal(proposal, chain, account.clone());
        let approvals = BoundedVec::try_new(vec![approval]).map_err(|e| SignerError::Build(e.to_string()))?;
        Ok(self.sign(chain, account, valid_until, Payload::SubmitProposal { proposal: proposal.clone(), approvals }))
    }

    /// Relays approvals (this key's own, or ones signed offline) to a pending proposal.
    pub fn approve(
        &self,
        proposal: ProposalId,
        approvals: Vec<Approval>,
        chain: &ChainIdentity,
        account: AccountId,
        valid_until: u64,
    ) -> Result<String, SignerError> {
        let approvals = BoundedVec::try_new(approvals).map_err(|e| SignerError::Build(e.to_string()))?;
        Ok(self.sign(chain, account, valid_until, Payload::Approve { proposal, approvals }))
    }

    /// Withdraws this account's approval.
    pub fn revoke(
        &self,
        proposal: ProposalId,
        chain: &ChainIdentity,
        account: AccountId,
        valid_until: u64,
    ) -> Result<String, SignerError> {
        Ok(self.sign(chain, account, valid_until, Payload::RevokeApproval { proposal }))
    }

    /// Cancels a pending proposal.
    pub fn cancel(
        &self,
        proposal: ProposalId,
        chain: &ChainIdentity,
        account: AccountId,
        valid_until: u64,
    ) -> Result<String, SignerError> {
        Ok(self.sign(chain, account, valid_until, Payload::CancelProposal { proposal }))
    }

    /// Executes a queued proposal.
    pub fn execute(
        &self,
        proposal: ProposalId,
        chain: &ChainIdentity,
        account: AccountId,
        valid_until: u64,
    ) -> Result<String, SignerError> {
        Ok(self.sign(chain, account, valid_until, Payload::ExecuteProposal { proposal }))
    }
}

/// Reads an approval file written by `synod proposal sign` (the approval as JSON).
pub fn parse_offline_approval(text: &str) -> Result<Approval, SignerError> {
    if text.len() > MAX_APPROVAL_FILE {
        return Err(SignerError::TooLarge(MAX_APPROVAL_FILE));
    }
    serde_json::from_str(text).map_err(|e| SignerError::BadApproval(e.to_string()))
}

/// Checks an approval's signature over `proposal`'s approval digest on `chain`.
pub fn verify_approval(approval: &Approval, proposal: &Proposal, chain: &ChainIdentity) -> Result<(), SignerError> {
    if approval.key.verify(&proposal.approval_digest(chain), &approval.signature) {
        Ok(())
    } else {
        Err(SignerError::ApprovalDoesNotVerify(approval.approver.clone()))
    }
}

/// Decodes a signed transaction's canonical hex (for checks in tests and the server).
pub fn decode_signed(hex_text: &str) -> Result<SignedTransaction, SignerError> {
    let bytes = hex::decode(hex_text).map_err(|e| SignerError::Build(e.to_string()))?;
    codec::decode(&bytes).map_err(|e| SignerError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use governance_contracts::testkit;

    fn chain() -> ChainIdentity {
        testkit::genesis(4).identity()
    }

    /// A key written by the contracts' own PEM writer loads, signs a login challenge that verifies under the
    /// console-login domain, and garbage is refused with a clear error.
    #[test]
    fn keys_load_and_sign_login_challenges() {
        let secret = testkit::secret("alice");
        let signer = Signer::from_pem(&secret.to_pkcs8_pem().expect("pem")).expect("loads");
        assert_eq!(signer.public_key(), secret.public_key());
        let challenge = LoginChallenge {
            account: testkit::account("alice"),
            origin: governance_contracts::codec::BoundedString::try_new("http://127.0.0.1:8081").expect("short"),
            nonce: [7; 32],
            expires_at_ms: 1,
        };
        let signature = signer.sign_login(&challenge, &chain());
        assert!(signer.public_key().verify(&challenge.signing_digest(&chain()), &signature));
        assert!(matches!(Signer::from_pem("not a key"), Err(SignerError::BadKey(_))));
        assert!(!format!("{signer:?}").contains("secret"));
    }

    /// A submission carries the signer's own approval of exactly that proposal, and an approval from another
    /// proposal is refused by `verify_approval`.
    #[test]
    fn submissions_carry_a_verifying_approval() {
        let signer = Signer::from_pem(&testkit::secret("m0-gov").to_pkcs8_pem().expect("pem")).expect("loads");
        let mut chain_state = testkit::TestChain::with_members(4);
        let proposal = chain_state.proposal(Principal::Account(testkit::account("m0-gov")), vec![]);
        let tx = decode_signed(
            &signer.submit_with_approval(&proposal, &chain(), testkit::account("m0-gov"), 10).expect("builds"),
        )
        .expect("decodes");
        let Payload::SubmitProposal { approvals, .. } = &tx.tx.payload else { panic!("not a submission") };
        let approval = approvals.first().expect("one approval").clone();
        assert!(verify_approval(&approval, &proposal, &chain()).is_ok());
        let mut other = proposal.clone();
        other.salt = other.salt.wrapping_add(1);
        assert!(verify_approval(&approval, &other, &chain()).is_err());
        assert!(tx.key.verify(&tx.tx.signing_digest(&chain()), &tx.signature));
    }
}
