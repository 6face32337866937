//! The browser's signer: a private key loaded from a PKCS#8 PEM file (from `synod keygen` or `openssl genpkey
//! -algorithm ed25519`), held in memory only, never sent anywhere.
//!
//! It signs the console's login challenge and builds the signed transactions of the proposal lifecycle (submit
//! with the signer's own approval, approve or relay approvals signed elsewhere, revoke, cancel, execute), each
//! valid until `height + ttl` and returned with its canonical hex, which is what the server relays to a node. It
//! also reads approvals signed offline with `synod proposal sign` and checks them against the proposal.
//!
//! Every digest signed here is computed here, with the contracts' own code: a domain tag, the chain id and the
//! genesis hash are bound into each (`ChainIdentity::digest`). The key is ed25519-dalek's `SigningKey`, which
//! wipes its secret bytes when dropped (its `zeroize` feature); [`Signer`] is not `Clone`, and its `Debug` shows
//! the public key only.

use core::fmt;
use std::collections::BTreeSet;

use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::{KeyFileError, MAX_KEY_FILE_BYTES, PublicKey, SecretKey, Signature};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, ProposalId, TxHash};
use governance_contracts::types::{
    Approval, LoginChallenge, MAX_APPROVALS, Payload, Principal, Proposal, SignedTransaction, Transaction,
};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::wysiwys::words::{T, tr};
use crate::wysiwys::{InputError, canonical_hex, decode_approval};

/// The largest key file the signer reads, in bytes: the contracts' key-file reader's bound (an Ed25519 PKCS#8 PEM
/// is about 120).
pub const MAX_PEM_BYTES: usize = MAX_KEY_FILE_BYTES;
/// The largest approval file the signer reads, in bytes (an approval's JSON is about 400).
pub const MAX_APPROVAL_FILE_BYTES: usize = 64 * 1024;
/// The longest a transaction built here may stay valid, in blocks (the upper bound of the chain's `max_tx_ttl`).
pub const MAX_TTL_BLOCKS: u64 = 1_000_000;

/// Why a key could not be loaded or a transaction not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// The key file is not a key the signer can use (the contracts' key-file reader says why).
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// A transaction's time to live is out of range.
    #[error("a transaction must stay valid for 1 to {max} blocks, not {ttl}")]
    Ttl {
        /// Blocks given.
        ttl: u64,
        /// Blocks allowed.
        max: u64,
    },
    /// Only the proposer may submit a proposal.
    #[error("only the proposer {proposer} may submit this proposal, not {sender}")]
    NotProposer {
        /// The proposal's proposer.
        proposer: String,
        /// Who tried.
        sender: String,
    },
    /// An approval transaction without approvals.
    #[error("no approval to relay")]
    NoApprovals,
    /// More approvals than a transaction may carry.
    #[error("{len} approvals, more than the {max} one transaction may carry")]
    TooManyApprovals {
        /// Approvals given.
        len: usize,
        /// Approvals allowed.
        max: usize,
    },
    /// Two approvals by one account.
    #[error("two approvals by {0}")]
    DuplicateApprover(AccountId),
    /// An approval that does not sign the proposal.
    #[error("{approver}'s approval does not sign proposal {proposal}")]
    BadApproval {
        /// The approving account.
        approver: AccountId,
        /// The proposal.
        proposal: ProposalId,
    },
    /// An approval file larger than any approval file.
    #[error("the approval file is {len} bytes, more than the {max} allowed")]
    ApprovalTooLarge {
        /// Bytes given.
        len: usize,
        /// Bytes allowed.
        max: usize,
    },
    /// An approval file that does not parse.
    #[error(transparent)]
    Input(#[from] InputError),
}

impl SignerError {
    /// The error in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Self::Key(error) => key_file_message(error, lang),
            Self::Ttl { ttl, max } => tr(lang, T::ErrTtl, &[max, ttl]),
            Self::NotProposer { proposer, sender } => tr(lang, T::ErrNotProposer, &[proposer, sender]),
            Self::NoApprovals => tr(lang, T::ErrNoApprovals, &[]),
            Self::TooManyApprovals { len, max } => tr(lang, T::ErrTooManyApprovals, &[len, max]),
            Self::DuplicateApprover(account) => tr(lang, T::ErrDuplicateApprover, &[account]),
            Self::BadApproval { approver, proposal } => tr(lang, T::ErrBadApproval, &[approver, proposal]),
            Self::ApprovalTooLarge { len, max } => tr(lang, T::ErrApprovalTooLarge, &[len, max]),
            Self::Input(error) => error.text(lang),
        }
    }
}

/// What Synod needs in a key file, in Simplified Chinese ([`governance_contracts::crypto::KEY_FILE_NEEDED`]).
const KEY_FILE_NEEDED_ZH: &str = "Synod 需要未加密的 Ed25519 私钥（PKCS#8 PEM 格式），即 `synod keygen` 或 `openssl genpkey -algorithm ed25519` 生成的文件";

/// Why a key file was refused, in `lang`: in English the contracts' own sentence (what the CLI prints), in
/// Simplified Chinese the same sentence translated.
pub fn key_file_message(error: &KeyFileError, lang: Lang) -> String {
    if lang == Lang::En {
        return error.to_string();
    }
    let needed = KEY_FILE_NEEDED_ZH;
    match error {
        KeyFileError::Empty => format!("密钥文件为空；{needed}"),
        KeyFileError::TooLarge { len, max } => format!("密钥文件有 {len} 字节，超过密钥文件上限 {max} 字节；{needed}"),
        KeyFileError::NotText => format!("密钥文件是二进制数据，不是 PEM 文本；{needed}"),
        KeyFileError::NoPemBlock => format!("密钥文件中没有“-----BEGIN PRIVATE KEY-----”块；{needed}"),
        KeyFileError::Encrypted => {
            format!("密钥文件中的私钥已加密，请先用 `openssl pkey -in KEY -out PLAIN.pem` 解密；{needed}")
        }
        KeyFileError::WrongLabel { label } => {
            let what = match label.as_str() {
                "PUBLIC KEY" => "公钥".to_owned(),
                "RSA PRIVATE KEY" => "旧式 PKCS#1 格式的 RSA 私钥".to_owned(),
                "EC PRIVATE KEY" => "SEC1 格式的 EC 私钥".to_owned(),
                "OPENSSH PRIVATE KEY" => "OpenSSH 私钥".to_owned(),
                "CERTIFICATE" => "证书".to_owned(),
                other => format!("“{other}”块"),
            };
            format!("密钥文件中是{what}，不是 PKCS#8 私钥；{needed}")
        }
        KeyFileError::Truncated => {
            format!("密钥文件不完整：私钥块缺少“-----END PRIVATE KEY-----”行；{needed}")
        }
        KeyFileError::Damaged => format!("密钥文件已损坏：私钥块无法解码为 PKCS#8 私钥；{needed}"),
        KeyFileError::UnknownAlgorithm { oid } => {
            format!("密钥文件中的私钥属于 Synod 不认识的算法（OID {oid}），不是 Ed25519 私钥；{needed}")
        }
        KeyFileError::OtherAlgorithm { name } => format!("密钥文件中是 {name} 私钥，不是 Ed25519 私钥；{needed}"),
    }
}

/// How long a transaction stays valid: from the chain's current `height`, for `ttl` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    /// The chain's current height, as the console last saw it.
    pub height: Height,
    /// Blocks the transaction stays valid after it (1 to [`MAX_TTL_BLOCKS`], and at most the chain's
    /// `max_tx_ttl`, which the node checks).
    pub ttl: u64,
}

impl Validity {
    /// What the console signs with: from `height`, for half the chain's longest allowed lifetime `max_tx_ttl`
    /// (at least one block, at most [`MAX_TTL_BLOCKS`]), so a transaction waiting in a busy pool still lands and a
    /// leaked one soon expires.
    pub fn for_chain(height: Height, max_tx_ttl: u64) -> Self {
        Self { height, ttl: (max_tx_ttl / 2).clamp(1, MAX_TTL_BLOCKS) }
    }

    /// The transaction's `valid_until`.
    fn valid_until(self) -> Result<Height, SignerError> {
        if self.ttl == 0 || self.ttl > MAX_TTL_BLOCKS {
            return Err(SignerError::Ttl { ttl: self.ttl, max: MAX_TTL_BLOCKS });
        }
        Ok(self.height.plus(self.ttl))
    }
}

/// A transaction signed here, ready to relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltTransaction {
    /// The signed transaction.
    pub signed: SignedTransaction,
    /// Its canonical bytes as lowercase hex (what `POST /v1/transactions` relays).
    pub hex: String,
    /// Its hash.
    pub hash: TxHash,
}

/// A private key held in memory, and what it signs.
pub struct Signer {
    secret: SecretKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads a key from the text of a PKCS#8 PEM file, as `synod keygen` and `openssl genpkey -algorithm ed25519`
    /// write it, with the contracts' one key-file reader ([`SecretKey::from_key_file`]), so the console refuses a
    /// file with the CLI's words ([`key_file_message`]). Text around the block (comments, a byte-order mark,
    /// Windows line ends) is ignored.
    pub fn from_pem(text: &str) -> Result<Self, SignerError> {
        Ok(Self { secret: SecretKey::from_key_file(text.as_bytes())? })
    }

    /// A signer for a key already in memory (for example one just generated from a random seed).
    pub fn from_secret(secret: SecretKey) -> Self {
        Self { secret }
    }

    /// The private key, for sealing it under a passphrase ([`crate::keystore`]).
    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    /// Signs a console's login challenge under the console-login domain of `chain`.
    pub fn sign_login(&self, challenge: &LoginChallenge, chain: &ChainIdentity) -> Signature {
        self.secret.sign(&challenge.signing_digest(chain))
    }

    /// `approver`'s approval of `proposal`: a signature over its approval digest (its id) for `chain`.
    pub fn approve_proposal(&self, chain: &ChainIdentity, proposal: &Proposal, approver: &AccountId) -> Approval {
        proposal.approve(chain, approver.clone(), &self.secret)
    }

    /// Signs a transaction of `payload` sent by `sender`, valid until `validity.height + validity.ttl`.
    pub fn sign_transaction(
        &self,
        chain: &ChainIdentity,
        sender: Principal,
        payload: Payload,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        let tx = Transaction { sender, valid_until: validity.valid_until()?, payload };
        let signed = tx.sign(chain, &self.secret);
        let hash = signed.tx.hash(chain);
        Ok(BuiltTransaction { hex: canonical_hex(&signed), hash, signed })
    }

    /// Submits `proposal` (whose proposer must be `account`) with `approvals` already collected.
    pub fn submit(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: Proposal,
        approvals: Vec<Approval>,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        let sender = Principal::Account(account.clone());
        if proposal.proposer != sender {
            return Err(SignerError::NotProposer {
                proposer: crate::wysiwys::principal_words(Lang::En, &proposal.proposer),
                sender: crate::wysiwys::principal_words(Lang::En, &sender),
            });
        }
        let approvals = checked_approvals(&proposal.id(chain), approvals, true)?;
        self.sign_transaction(chain, sender, Payload::SubmitProposal { proposal, approvals }, validity)
    }

    /// Submits `proposal` (whose proposer must be `account`) carrying the signer's own approval.
    pub fn submit_with_approval(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: Proposal,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        let own = self.approve_proposal(chain, &proposal, account);
        self.submit(chain, account, proposal, vec![own], validity)
    }

    /// Adds approvals to a pending proposal: the signer's own, or approvals signed elsewhere that `account`
    /// relays. Each must sign `proposal`.
    pub fn approve(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: ProposalId,
        approvals: Vec<Approval>,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        let approvals = checked_approvals(&proposal, approvals, false)?;
        let payload = Payload::Approve { proposal, approvals };
        self.sign_transaction(chain, Principal::Account(account.clone()), payload, validity)
    }

    /// Approves `proposal` as `account` and sends the approval in one transaction.
    pub fn approve_own(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: &Proposal,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        let own = self.approve_proposal(chain, proposal, account);
        self.approve(chain, account, proposal.id(chain), vec![own], validity)
    }

    /// Withdraws `account`'s own approval of `proposal`.
    pub fn revoke(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: ProposalId,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        self.sign_transaction(
            chain,
            Principal::Account(account.clone()),
            Payload::RevokeApproval { proposal },
            validity,
        )
    }

    /// Cancels a pending proposal (the proposer, or a governor of the proposer's member).
    pub fn cancel(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: ProposalId,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        self.sign_transaction(
            chain,
            Principal::Account(account.clone()),
            Payload::CancelProposal { proposal },
            validity,
        )
    }

    /// Executes a queued proposal whose delay has passed.
    pub fn execute(
        &self,
        chain: &ChainIdentity,
        account: &AccountId,
        proposal: ProposalId,
        validity: Validity,
    ) -> Result<BuiltTransaction, SignerError> {
        self.sign_transaction(
            chain,
            Principal::Account(account.clone()),
            Payload::ExecuteProposal { proposal },
            validity,
        )
    }
}

/// Checks approvals before they are relayed: a count within bounds, one per approver, each signing `proposal`.
fn checked_approvals(
    proposal: &ProposalId,
    approvals: Vec<Approval>,
    may_be_empty: bool,
) -> Result<BoundedVec<Approval, MAX_APPROVALS>, SignerError> {
    if approvals.is_empty() && !may_be_empty {
        return Err(SignerError::NoApprovals);
    }
    if approvals.len() > MAX_APPROVALS {
        return Err(SignerError::TooManyApprovals { len: approvals.len(), max: MAX_APPROVALS });
    }
    let mut seen = BTreeSet::new();
    for approval in &approvals {
        if !seen.insert(&approval.approver) {
            return Err(SignerError::DuplicateApprover(approval.approver.clone()));
        }
        verify_approval_id(approval, proposal)?;
    }
    BoundedVec::try_new(approvals).map_err(|e| SignerError::TooManyApprovals { len: e.len, max: e.max })
}

/// Checks that `approval` signs the proposal with id `proposal` (its approval digest).
pub fn verify_approval_id(approval: &Approval, proposal: &ProposalId) -> Result<(), SignerError> {
    if approval.key.verify(&proposal.0, &approval.signature) {
        Ok(())
    } else {
        Err(SignerError::BadApproval { approver: approval.approver.clone(), proposal: *proposal })
    }
}

/// Checks that `approval` signs `proposal` on `chain`. Whether the key counts for the approver (its current key,
/// not frozen, eligible) is for the chain to decide when it arrives.
pub fn verify_approval(approval: &Approval, proposal: &Proposal, chain: &ChainIdentity) -> Result<(), SignerError> {
    verify_approval_id(approval, &proposal.id(chain))
}

/// Checks a login challenge's signature by `key` (what the console's server does at sign-in).
pub fn verify_login(challenge: &LoginChallenge, chain: &ChainIdentity, key: &PublicKey, signature: &Signature) -> bool {
    key.verify(&challenge.signing_digest(chain), signature)
}

/// What `synod proposal sign --json` prints: the approval with the proposal id it signs.
#[derive(Deserialize)]
struct SignedOutput {
    approval: Approval,
}

/// Reads an approval signed offline: the file `synod proposal sign --out` writes (the approval's JSON), what
/// `synod proposal sign --json` prints (`{"approval": …, "proposal_id": …}`), or an approval's canonical hex.
/// Check it against the proposal with [`verify_approval`].
pub fn parse_offline_approval(text: &str) -> Result<Approval, SignerError> {
    if text.len() > MAX_APPROVAL_FILE_BYTES {
        return Err(SignerError::ApprovalTooLarge { len: text.len(), max: MAX_APPROVAL_FILE_BYTES });
    }
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Ok(decode_approval(trimmed)?);
    }
    let value: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| not_json(e.to_string()))?;
    if value.get("approval").is_some() {
        return serde_json::from_value::<SignedOutput>(value).map(|s| s.approval).map_err(|e| not_json(e.to_string()));
    }
    serde_json::from_value(value).map_err(|e| not_json(e.to_string()))
}

fn not_json(detail: String) -> SignerError {
    SignerError::Input(InputError::NotJson { kind: crate::wysiwys::InputKind::Approval, detail })
}
