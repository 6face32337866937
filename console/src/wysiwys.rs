//! What you see is what you sign: the browser decodes the canonical bytes it is about to sign with the contracts'
//! own codec, renders every action in plain words against the chain as the console last saw it, and computes the
//! digest itself. The server never supplies a digest; the CLI prints the same one for the same proposal, so a
//! careful signer compares it on a second machine ([`second_device_command`]).
//!
//! - [`decode_proposal`], [`decode_transaction`], [`decode_approval`]: canonical hex in, typed values out, with a
//!   size bound and an error that says what is wrong (not hex, malformed, trailing bytes, not canonical).
//! - [`ProposalReview::new`]: the approval digest (the proposal id, in the CLI's text form), and per action a
//!   headline, the values it changes (before → after), the rule it needs and the checks a signer should see: every
//!   compare-and-set expectation and whether the chain still agrees, keys and their proofs, readiness, role limits,
//!   and the sealer set with its fault tolerance before and after.
//! - [`transaction_review`]: what a signed transaction does, its hash and whether its signatures verify.
//! - [`signer_text`]: every title, description, name and address holding non-ASCII characters is marked with their
//!   code points, and one the chain refuses (the contracts' `text` rule) fails a check.
//!
//! The chain's state comes through [`ChainView`], a read-only view over the contracts' record types; [`StoreView`]
//! implements it over any contracts [`Store`]. Everything here is pure: no I/O, no clock, the same in the server
//! and in the browser. Text comes in English and Simplified Chinese ([`words`]); ids, keys and hashes are never
//! translated.

pub mod signer_text;
pub mod words;

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{self, BoundedVec, MAX_DECODE_BYTES};
use governance_contracts::contracts::policy;
use governance_contracts::contracts::sealer_safety::{Sealers, sealer_safety};
use governance_contracts::crypto::PublicKey;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::error::Rejection;
use governance_contracts::ids::{AccountId, Height, MAX_WEIGHT, MemberId, NodeId, ProposalId, RoleId, TxHash, Weight};
use governance_contracts::state::Store;
use governance_contracts::state::records::{
    AccountRecord, Grant, KeyRecord, MemberRecord, NodeRecord, ProposalRecord, ProposalStatus,
};
use governance_contracts::state::tables;
use governance_contracts::types::{
    Action, ActionKind, Approval, ChainParams, DisplayName, KeyProof, MemberStatus, NewAccount, NodeKind, Payload,
    Principal, Proposal, Requirement, RoleDefinition, RoleScope, Rule, SignedTransaction, fault_tolerance,
};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use words::{T, list, tr};

/// The largest canonical value the console decodes, in bytes (the contracts' own decoding bound).
pub const MAX_CANONICAL_BYTES: usize = MAX_DECODE_BYTES;
/// The largest text input (hex or JSON) the console reads, in characters.
pub const MAX_INPUT_CHARS: usize = MAX_CANONICAL_BYTES.saturating_mul(2);
/// The genesis file name the second-device command names (what `synod up` writes).
pub const GENESIS_FILE: &str = "genesis.json";

/// What kind of value an input was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A [`Proposal`].
    Proposal,
    /// A [`SignedTransaction`].
    Transaction,
    /// An [`Approval`].
    Approval,
}

impl InputKind {
    fn name(self) -> &'static str {
        match self {
            Self::Proposal => "proposal",
            Self::Transaction => "transaction",
            Self::Approval => "approval",
        }
    }

    fn word(self) -> T {
        match self {
            Self::Proposal => T::WhatProposalInput,
            Self::Transaction => T::WhatTransactionInput,
            Self::Approval => T::WhatApprovalInput,
        }
    }
}

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Nothing was given.
    #[error("no {} was given", .kind.name())]
    Empty {
        /// What was expected.
        kind: InputKind,
    },
    /// The input is longer than any value of its kind may be.
    #[error("the {} is {len} characters long, more than the {max} allowed", .kind.name())]
    TooLarge {
        /// What was expected.
        kind: InputKind,
        /// Characters given.
        len: usize,
        /// Characters allowed.
        max: usize,
    },
    /// The input is not hexadecimal.
    #[error("the {} is not hexadecimal: {detail}", .kind.name())]
    NotHex {
        /// What was expected.
        kind: InputKind,
        /// What is wrong.
        detail: String,
    },
    /// The bytes are not a valid encoding of the expected type.
    #[error("the bytes are not a valid {}: {detail}", .kind.name())]
    Malformed {
        /// What was expected.
        kind: InputKind,
        /// What the decoder said.
        detail: String,
    },
    /// A complete value was followed by more bytes.
    #[error("{extra} bytes are left over after a complete {}", .kind.name())]
    TrailingBytes {
        /// What was expected.
        kind: InputKind,
        /// How many bytes were left.
        extra: usize,
    },
    /// The bytes decode but re-encode differently (never expected: the encoding has one form per value).
    #[error("the bytes decode as a {} but are not its canonical form", .kind.name())]
    NotCanonical {
        /// What was expected.
        kind: InputKind,
    },
    /// A JSON input is not of the expected form.
    #[error("the {} is not in a form the console reads: {detail}", .kind.name())]
    NotJson {
        /// What was expected.
        kind: InputKind,
        /// What the parser said.
        detail: String,
    },
    /// A transaction was given where a proposal was expected, and it submits none.
    #[error("the transaction does not submit a proposal")]
    NotASubmission,
}

impl InputError {
    /// The error in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let what = |kind: &InputKind| tr(lang, kind.word(), &[]);
        match self {
            Self::Empty { kind } => tr(lang, T::ErrEmpty, &[&what(kind)]),
            Self::TooLarge { kind, len, max } => tr(lang, T::ErrTooLarge, &[&what(kind), len, max]),
            Self::NotHex { kind, detail } => tr(lang, T::ErrNotHex, &[&what(kind), detail]),
            Self::Malformed { kind, detail } => tr(lang, T::ErrMalformed, &[&what(kind), detail]),
            Self::TrailingBytes { kind, extra } => tr(lang, T::ErrTrailing, &[&what(kind), extra]),
            Self::NotCanonical { kind } => tr(lang, T::ErrNotCanonical, &[&what(kind)]),
            Self::NotJson { kind, detail } => tr(lang, T::ErrNotJson, &[&what(kind), detail]),
            Self::NotASubmission => tr(lang, T::ErrNotSubmission, &[]),
        }
    }
}

/// The canonical bytes of `value` as lowercase hex (what the server stores and relays).
pub fn canonical_hex<T: BorshSerialize>(value: &T) -> String {
    hex::encode(codec::encode(value))
}

/// Decodes a value of `kind` from canonical hex (surrounding whitespace and an `0x` prefix are allowed).
fn decode_hex<V: BorshDeserialize + BorshSerialize>(kind: InputKind, text: &str) -> Result<V, InputError> {
    if text.len() > MAX_INPUT_CHARS {
        return Err(InputError::TooLarge { kind, len: text.len(), max: MAX_INPUT_CHARS });
    }
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.is_empty() {
        return Err(InputError::Empty { kind });
    }
    let bytes = hex::decode(text).map_err(|e| InputError::NotHex { kind, detail: e.to_string() })?;
    let value: V = match codec::decode(&bytes) {
        Ok(value) => value,
        Err(codec::DecodeError::TooLarge { len, max }) => {
            return Err(InputError::TooLarge { kind, len: len.saturating_mul(2), max: max.saturating_mul(2) });
        }
        Err(codec::DecodeError::Malformed(detail)) => {
            // Tell "a whole value and then more" apart from "not a value at all".
            let mut rest = bytes.as_slice();
            return Err(match V::deserialize(&mut rest) {
                Ok(_) if !rest.is_empty() => InputError::TrailingBytes { kind, extra: rest.len() },
                _ => InputError::Malformed { kind, detail },
            });
        }
    };
    if codec::encode(&value) != bytes {
        return Err(InputError::NotCanonical { kind });
    }
    Ok(value)
}

/// Decodes a proposal from its canonical hex.
pub fn decode_proposal(hex: &str) -> Result<Proposal, InputError> {
    decode_hex(InputKind::Proposal, hex)
}

/// Decodes a signed transaction from its canonical hex.
pub fn decode_transaction(hex: &str) -> Result<SignedTransaction, InputError> {
    decode_hex(InputKind::Transaction, hex)
}

/// Decodes an approval from its canonical hex.
pub fn decode_approval(hex: &str) -> Result<Approval, InputError> {
    decode_hex(InputKind::Approval, hex)
}

fn check_text_size(kind: InputKind, text: &str) -> Result<&str, InputError> {
    if text.len() > MAX_INPUT_CHARS {
        return Err(InputError::TooLarge { kind, len: text.len(), max: MAX_INPUT_CHARS });
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(InputError::Empty { kind });
    }
    Ok(text)
}

/// Reads a proposal from a file's text, as the CLI does: canonical hex, the JSON of a proposal (`synod proposal
/// draft`), or the JSON of a signed transaction that submits one (such as a node's `rotation-request.json`).
pub fn parse_proposal_text(text: &str) -> Result<Proposal, InputError> {
    let kind = InputKind::Proposal;
    let text = check_text_size(kind, text)?;
    if !text.starts_with('{') {
        return decode_proposal(text);
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| InputError::NotJson { kind, detail: e.to_string() })?;
    let error = match serde_json::from_value::<Proposal>(value.clone()) {
        Ok(proposal) => return Ok(proposal),
        Err(error) => error,
    };
    match serde_json::from_value::<SignedTransaction>(value) {
        Ok(signed) => match signed.tx.payload {
            Payload::SubmitProposal { proposal, .. } => Ok(proposal),
            _ => Err(InputError::NotASubmission),
        },
        Err(_) => Err(InputError::NotJson { kind, detail: error.to_string() }),
    }
}

/// Reads a signed transaction from a file's text: canonical hex or the JSON `synod tx build` and `synod key
/// rotate` write.
pub fn parse_transaction_text(text: &str) -> Result<SignedTransaction, InputError> {
    let kind = InputKind::Transaction;
    let text = check_text_size(kind, text)?;
    if !text.starts_with('{') {
        return decode_transaction(text);
    }
    serde_json::from_str(text).map_err(|e| InputError::NotJson { kind, detail: e.to_string() })
}

/// The proposal as the JSON file `synod proposal show` reads, for the signer to carry to a second machine.
pub fn proposal_file_json(proposal: &Proposal) -> String {
    serde_json::to_string_pretty(proposal).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A file name for the proposal's JSON: `proposal-<first 16 hex digits of its id>.json`.
pub fn proposal_file_name(id: &ProposalId) -> String {
    let hex = hex::encode(id.0.as_bytes());
    format!("proposal-{}.json", hex.get(..16).unwrap_or_default())
}

/// Quotes a path for a POSIX shell when it holds anything but plain characters.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '+' | '='));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

/// The command a signer runs on another machine to print the same digest: `synod proposal show --genesis
/// GENESIS PROPOSAL`. Its last line reads `proposal id:  sha256:…`, which must equal [`ProposalReview::digest`].
pub fn second_device_command(genesis_file: &str, proposal_file: &str) -> String {
    format!("synod proposal show --genesis {} {}", shell_quote(genesis_file), shell_quote(proposal_file))
}

/// The command that signs the same approval offline with the CLI, for keys that never touch a browser; its output
/// file can be uploaded to the console.
pub fn offline_sign_command(genesis_file: &str, proposal_file: &str, account: &AccountId) -> String {
    format!(
        "synod proposal sign {} --genesis {} --account {account} --key {account}.pem --out approval-{account}.json",
        shell_quote(proposal_file),
        shell_quote(genesis_file),
    )
}

/// A read-only view of the chain's governance state, as of the last block the console saw. The console's chain
/// snapshot implements it; [`StoreView`] implements it over the contracts' own state.
pub trait ChainView {
    /// The height of the last applied block.
    fn height(&self) -> Height;
    /// The chain parameters.
    fn params(&self) -> Option<ChainParams>;
    /// A member.
    fn member(&self, id: &MemberId) -> Option<MemberRecord>;
    /// Every member.
    fn members(&self) -> Vec<(MemberId, MemberRecord)>;
    /// An account.
    fn account(&self, id: &AccountId) -> Option<AccountRecord>;
    /// Every account of `member`.
    fn accounts_of(&self, member: &MemberId) -> Vec<(AccountId, AccountRecord)>;
    /// A node.
    fn node(&self, id: &NodeId) -> Option<NodeRecord>;
    /// Every node.
    fn nodes(&self) -> Vec<(NodeId, NodeRecord)>;
    /// A role's definition.
    fn role(&self, role: &RoleId) -> Option<RoleDefinition>;
    /// The grant of `role` to `account`, whether or not it has lapsed.
    fn grant(&self, account: &AccountId, role: &RoleId) -> Option<Grant>;
    /// The policy's rule for `kind`.
    fn policy_rule(&self, kind: ActionKind) -> Option<Rule>;
    /// A key's entry in the key registry. A view that holds no registry should at least answer for the current
    /// keys of accounts and nodes.
    fn key(&self, key: &PublicKey) -> Option<KeyRecord>;
    /// A proposal on chain, if the view knows it.
    fn proposal(&self, _id: &ProposalId) -> Option<ProposalRecord> {
        None
    }
    /// The sealers with their owner and weight.
    fn sealers(&self) -> BTreeMap<NodeId, (MemberId, u64)> {
        self.nodes()
            .into_iter()
            .filter(|(_, n)| n.kind == NodeKind::Sealer)
            .map(|(id, n)| (id, (n.owner, n.weight.0)))
            .collect()
    }
}

/// A [`ChainView`] over a contracts [`Store`] (the node's state, or a test chain). A read that fails is shown as
/// absent: a review is advice for a signer, and the chain re-checks everything.
pub struct StoreView<'a>(pub &'a dyn Store);

impl ChainView for StoreView<'_> {
    fn height(&self) -> Height {
        tables::META.get(self.0, &()).ok().flatten().map(|m| m.height).unwrap_or_default()
    }
    fn params(&self) -> Option<ChainParams> {
        tables::PARAMS.get(self.0, &()).ok().flatten()
    }
    fn member(&self, id: &MemberId) -> Option<MemberRecord> {
        tables::MEMBERS.get(self.0, id).ok().flatten()
    }
    fn members(&self) -> Vec<(MemberId, MemberRecord)> {
        tables::MEMBERS.all(self.0).unwrap_or_default()
    }
    fn account(&self, id: &AccountId) -> Option<AccountRecord> {
        tables::ACCOUNTS.get(self.0, id).ok().flatten()
    }
    fn accounts_of(&self, member: &MemberId) -> Vec<(AccountId, AccountRecord)> {
        tables::ACCOUNTS.all(self.0).unwrap_or_default().into_iter().filter(|(_, a)| &a.member == member).collect()
    }
    fn node(&self, id: &NodeId) -> Option<NodeRecord> {
        tables::NODES.get(self.0, id).ok().flatten()
    }
    fn nodes(&self) -> Vec<(NodeId, NodeRecord)> {
        tables::NODES.all(self.0).unwrap_or_default()
    }
    fn role(&self, role: &RoleId) -> Option<RoleDefinition> {
        tables::ROLES.get(self.0, role).ok().flatten()
    }
    fn grant(&self, account: &AccountId, role: &RoleId) -> Option<Grant> {
        tables::GRANTS.get(self.0, &(account.clone(), role.clone())).ok().flatten()
    }
    fn policy_rule(&self, kind: ActionKind) -> Option<Rule> {
        tables::POLICY.get(self.0, &kind).ok().flatten()
    }
    fn key(&self, key: &PublicKey) -> Option<KeyRecord> {
        tables::KEYS.get(self.0, key).ok().flatten()
    }
    fn proposal(&self, id: &ProposalId) -> Option<ProposalRecord> {
        tables::PROPOSALS.get(self.0, id).ok().flatten()
    }
}

/// One value an action changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// What changes.
    pub what: String,
    /// Its value on chain now.
    pub before: String,
    /// Its value once the proposal applies.
    pub after: String,
}

/// Something the signer should see before signing, with whether it is fine. `ok = false` is shown in red: an
/// expectation the chain no longer meets, a refusal the chain will give, or a flag that loosens a safety rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Whether it holds (or is harmless).
    pub ok: bool,
    /// What it says, ending in ✓ or ✗.
    pub text: String,
}

impl Check {
    fn new(ok: bool, text: String) -> Self {
        Self { ok, text: format!("{text} {}", if ok { "✓" } else { "✗" }) }
    }
}

/// One action of a proposal in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReview {
    /// Its position in the proposal, from 1.
    pub number: usize,
    /// The policy kinds it needs (the key of the policy table).
    pub kinds: Vec<ActionKind>,
    /// What it does, in one sentence.
    pub headline: String,
    /// The values it changes.
    pub changes: Vec<Change>,
    /// The approval each of its kinds needs, in words.
    pub needs: Vec<String>,
    /// What the signer should check.
    pub checks: Vec<Check>,
}

/// A sealer set and the faulty weight it tolerates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealerSet {
    /// The sealers in id order: node, owner, weight.
    pub sealers: Vec<(NodeId, MemberId, u64)>,
    /// Their total weight.
    pub total: u64,
    /// The faulty weight it tolerates: the largest F with total ≥ 3F + 1.
    pub fault_tolerance: u64,
}

impl SealerSet {
    fn of(set: &BTreeMap<NodeId, (MemberId, u64)>) -> Self {
        let total = set.values().map(|(_, w)| *w).fold(0, u64::saturating_add);
        Self {
            sealers: set.iter().map(|(n, (m, w))| (n.clone(), m.clone(), *w)).collect(),
            total,
            fault_tolerance: fault_tolerance(total),
        }
    }

    fn words(&self, lang: Lang) -> String {
        if self.sealers.is_empty() {
            return tr(lang, T::NoneValue, &[]);
        }
        list(lang, self.sealers.iter().map(|(n, _, w)| format!("{n} ({w})")))
    }
}

/// The pre-flight of a proposal's sealer changes, all of them together, as the chain checks them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealerPreflight {
    /// The set now.
    pub before: SealerSet,
    /// The set once the proposal applies.
    pub after: SealerSet,
    /// The total weight changed (added, removed or re-weighted).
    pub changed_weight: u64,
    /// Whether an action carries `override_fault_tolerance`.
    pub overridden: bool,
    /// What the chain refuses the change for, by the contracts' own rule (`sealer_safety`), if anything.
    pub rejection: Option<Rejection>,
    /// The set, its total and its fault tolerance, before → after.
    pub changes: Vec<Change>,
    /// Fault tolerance after, the budget, concentration.
    pub checks: Vec<Check>,
}

/// A proposal in words, against the chain as the console last saw it, with the digest every approver signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalReview {
    /// The proposal id: its approval digest.
    pub id: ProposalId,
    /// The id as the CLI prints it (`sha256:<hex>`).
    pub digest: String,
    /// The proposal's title (the proposer's words, untranslated).
    pub title: String,
    /// The proposal's description (the proposer's words, untranslated).
    pub description: String,
    /// Who proposes it, in words.
    pub proposer: String,
    /// The last height at which it may be approved or executed.
    pub expires_at: Height,
    /// The salt.
    pub salt: u64,
    /// Checks about the proposal as a whole (expiry, proposer).
    pub checks: Vec<Check>,
    /// Every action, in order.
    pub actions: Vec<ActionReview>,
    /// The sealer pre-flight, if the proposal changes the sealer set.
    pub sealers: Option<SealerPreflight>,
    /// The title, description, names and addresses holding non-ASCII characters or refused by the chain, each
    /// with its code points and the chain's verdict ([`signer_text`]).
    pub marks: Vec<signer_text::TextMark>,
    /// The file name to save the proposal's JSON under for a second machine.
    pub file_name: String,
    /// The command that prints the same digest on a second machine.
    pub second_device_command: String,
    /// The line that command ends with.
    pub second_device_line: String,
}

impl ProposalReview {
    /// Reviews `proposal` for `chain` against `view`, in `lang`.
    pub fn new(proposal: &Proposal, chain: &ChainIdentity, view: &dyn ChainView, lang: Lang) -> Self {
        let id = proposal.id(chain);
        let mut reviewer = Reviewer::new(chain, view, lang, proposal);
        let actions: Vec<ActionReview> = proposal
            .actions
            .iter()
            .enumerate()
            .map(|(index, action)| reviewer.action(index.saturating_add(1), action))
            .collect();
        let sealers = reviewer.sealer_preflight(proposal);
        let mut checks = reviewer.proposal_checks(proposal);
        // The chain's own verdict on the text a signer reads, beside the other checks.
        let marks = signer_text::marks(lang, proposal);
        for mark in &marks {
            if let Some(why) = &mark.refused {
                checks.push(Check::new(false, tr(lang, T::TextRefused, &[&mark.field, why])));
            }
        }
        let file_name = proposal_file_name(&id);
        Self {
            id,
            digest: id.to_string(),
            title: proposal.title.to_string(),
            description: proposal.description.to_string(),
            proposer: principal_words(lang, &proposal.proposer),
            expires_at: proposal.expires_at,
            salt: proposal.salt,
            checks,
            actions,
            sealers,
            marks,
            second_device_command: second_device_command(GENESIS_FILE, &file_name),
            second_device_line: format!("proposal id:  {id}"),
            file_name,
        }
    }

    /// Every check of the review: the proposal's, each action's and the sealer pre-flight's.
    pub fn all_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .chain(self.actions.iter().flat_map(|a| a.checks.iter()))
            .chain(self.sealers.iter().flat_map(|s| s.checks.iter()))
    }

    /// Whether every check holds.
    pub fn all_ok(&self) -> bool {
        self.all_checks().all(|c| c.ok)
    }
}

/// Who acts, in words.
pub fn principal_words(lang: Lang, principal: &Principal) -> String {
    match principal {
        Principal::Account(account) => tr(lang, T::PrincipalAccount, &[account]),
        Principal::Node(node) => tr(lang, T::PrincipalNode, &[node]),
    }
}

/// A rule in words.
pub fn rule_words(lang: Lang, rule: &Rule) -> String {
    let base = match &rule.requirement {
        Requirement::Weight { numerator, denominator, exclude_target: false } => {
            tr(lang, T::RuleWeight, &[numerator, denominator])
        }
        Requirement::Weight { numerator, denominator, exclude_target: true } => {
            tr(lang, T::RuleWeightExcluding, &[numerator, denominator])
        }
        Requirement::Role { role, same_member: false } => tr(lang, T::RuleRole, &[role]),
        Requirement::Role { role, same_member: true } => tr(lang, T::RuleRoleSameMember, &[role]),
        Requirement::TargetGovernor => tr(lang, T::RuleTargetGovernor, &[]),
    };
    if rule.delay_blocks == 0 { base } else { tr(lang, T::RuleDelay, &[&base, &rule.delay_blocks]) }
}

/// An action kind's name as the policy table and the API spell it (`grant_delegable_role`).
pub fn kind_name(kind: ActionKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| kind.to_string())
}

fn status_words(lang: Lang, status: MemberStatus) -> String {
    tr(
        lang,
        match status {
            MemberStatus::Active => T::StatusActive,
            MemberStatus::Suspended => T::StatusSuspended,
            MemberStatus::Expelled => T::StatusExpelled,
        },
        &[],
    )
}

fn proposal_status_words(lang: Lang, status: &ProposalStatus) -> String {
    match status {
        ProposalStatus::Pending => tr(lang, T::Pending, &[]),
        ProposalStatus::Queued { ready_at } => tr(lang, T::Queued, &[ready_at]),
        ProposalStatus::Executed { at } => tr(lang, T::Executed, &[at]),
        ProposalStatus::Failed { at, .. } => tr(lang, T::Failed, &[at]),
        ProposalStatus::Cancelled { at } => tr(lang, T::CancelledAt, &[at]),
    }
}

/// Entities created by earlier actions of the same proposal, with the action's number (from 1).
#[derive(Default)]
struct Created {
    members: BTreeMap<MemberId, usize>,
    accounts: BTreeMap<AccountId, usize>,
    nodes: BTreeMap<NodeId, usize>,
    roles: BTreeMap<RoleId, usize>,
    keys: BTreeSet<PublicKey>,
}

/// The state as the proposal's earlier actions leave it: an overlay over the view (`None` = deleted).
#[derive(Default)]
struct Working {
    members: BTreeMap<MemberId, MemberRecord>,
    accounts: BTreeMap<AccountId, AccountRecord>,
    nodes: BTreeMap<NodeId, Option<NodeRecord>>,
    grants: BTreeMap<(AccountId, RoleId), Option<Grant>>,
    roles: BTreeMap<RoleId, RoleDefinition>,
    rules: BTreeMap<ActionKind, Rule>,
    params: Option<ChainParams>,
}

struct Reviewer<'a> {
    chain: &'a ChainIdentity,
    view: &'a dyn ChainView,
    lang: Lang,
    proposer: Principal,
    /// The first height at which the proposal could apply.
    next: Height,
    created: Created,
    working: Working,
}

impl<'a> Reviewer<'a> {
    fn new(chain: &'a ChainIdentity, view: &'a dyn ChainView, lang: Lang, proposal: &Proposal) -> Self {
        Self {
            chain,
            view,
            lang,
            proposer: proposal.proposer.clone(),
            next: view.height().plus(1),
            created: Created::default(),
            working: Working::default(),
        }
    }

    fn t(&self, key: T, args: &[&dyn core::fmt::Display]) -> String {
        tr(self.lang, key, args)
    }

    fn check(&self, ok: bool, key: T, args: &[&dyn core::fmt::Display]) -> Check {
        Check::new(ok, self.t(key, args))
    }

    /// A compare-and-set check: `expected` vs what the chain has.
    fn expects(&self, expected: &str, actual: &str) -> Check {
        Check::new(expected == actual, self.t(T::Expects, &[&expected, &actual]))
    }

    fn change(&self, what: String, before: String, after: String) -> Change {
        Change { what, before, after }
    }

    fn absent(&self) -> String {
        self.t(T::Absent, &[])
    }

    // --- The state as earlier actions of the proposal leave it. ---

    fn member(&self, id: &MemberId) -> Option<MemberRecord> {
        self.working.members.get(id).cloned().or_else(|| self.view.member(id))
    }

    fn members(&self) -> Vec<(MemberId, MemberRecord)> {
        let mut all: BTreeMap<MemberId, MemberRecord> = self.view.members().into_iter().collect();
        all.extend(self.working.members.iter().map(|(k, v)| (k.clone(), v.clone())));
        all.into_iter().collect()
    }

    fn account(&self, id: &AccountId) -> Option<AccountRecord> {
        self.working.accounts.get(id).cloned().or_else(|| self.view.account(id))
    }

    fn accounts_of(&self, member: &MemberId) -> Vec<(AccountId, AccountRecord)> {
        let mut all: BTreeMap<AccountId, AccountRecord> = self.view.accounts_of(member).into_iter().collect();
        for (id, record) in &self.working.accounts {
            if &record.member == member {
                all.insert(id.clone(), record.clone());
            }
        }
        all.into_iter().collect()
    }

    fn node(&self, id: &NodeId) -> Option<NodeRecord> {
        match self.working.nodes.get(id) {
            Some(record) => record.clone(),
            None => self.view.node(id),
        }
    }

    fn nodes(&self) -> Vec<(NodeId, NodeRecord)> {
        let mut all: BTreeMap<NodeId, NodeRecord> = self.view.nodes().into_iter().collect();
        for (id, record) in &self.working.nodes {
            match record {
                Some(record) => all.insert(id.clone(), record.clone()),
                None => all.remove(id),
            };
        }
        all.into_iter().collect()
    }

    fn sealers(&self) -> Sealers {
        self.nodes()
            .into_iter()
            .filter(|(_, n)| n.kind == NodeKind::Sealer)
            .map(|(id, n)| (id, (n.owner, n.weight.0)))
            .collect()
    }

    fn grant_of(&self, account: &AccountId, role: &RoleId) -> Option<Grant> {
        match self.working.grants.get(&(account.clone(), role.clone())) {
            Some(grant) => grant.clone(),
            None => self.view.grant(account, role),
        }
    }

    fn role(&self, role: &RoleId) -> Option<RoleDefinition> {
        self.working.roles.get(role).cloned().or_else(|| self.view.role(role))
    }

    fn rule(&self, kind: ActionKind) -> Option<Rule> {
        self.working.rules.get(&kind).cloned().or_else(|| self.view.policy_rule(kind))
    }

    fn params(&self) -> Option<ChainParams> {
        self.working.params.clone().or_else(|| self.view.params())
    }

    fn update_node(&mut self, id: &NodeId, update: impl FnOnce(&mut NodeRecord)) {
        if let Some(mut record) = self.node(id) {
            update(&mut record);
            self.working.nodes.insert(id.clone(), Some(record));
        }
    }

    fn update_account(&mut self, id: &AccountId, update: impl FnOnce(&mut AccountRecord)) {
        if let Some(mut record) = self.account(id) {
            update(&mut record);
            self.working.accounts.insert(id.clone(), record);
        }
    }

    fn update_member(&mut self, id: &MemberId, update: impl FnOnce(&mut MemberRecord)) {
        if let Some(mut record) = self.member(id) {
            update(&mut record);
            self.working.members.insert(id.clone(), record);
        }
    }

    fn active_weight(&self) -> u64 {
        self.members()
            .into_iter()
            .filter(|(_, m)| m.status == MemberStatus::Active)
            .map(|(_, m)| m.weight.0)
            .fold(0, u64::saturating_add)
    }

    fn proposal_checks(&self, proposal: &Proposal) -> Vec<Check> {
        let height = self.view.height();
        let mut checks = vec![if proposal.expires_at >= self.next {
            self.check(true, T::ProposalOpen, &[&proposal.expires_at, &height, &proposal.expires_at.since(height)])
        } else {
            self.check(false, T::ProposalExpired, &[&proposal.expires_at, &height])
        }];
        checks.push(match &proposal.proposer {
            Principal::Account(account) => match self.view.account(account) {
                None => self.check(false, T::ProposerUnknown, &[account]),
                Some(record) if record.frozen => self.check(false, T::ProposerFrozen, &[account]),
                Some(_) => self.check(true, T::ProposerOk, &[account]),
            },
            Principal::Node(node) => {
                let known = self.view.node(node).is_some_and(|n| n.key.is_some());
                self.check(known, if known { T::ProposerNodeOk } else { T::ProposerNodeUnknown }, &[node])
            }
        });
        checks
    }

    // --- Checks shared by several actions. ---

    fn member_check(&self, member: &MemberId) -> Check {
        if let Some(number) = self.created.members.get(member) {
            return self.check(true, T::MemberAdmittedHere, &[member, number]);
        }
        match self.member(member) {
            None => self.check(false, T::MemberUnknown, &[member]),
            Some(record) if record.status == MemberStatus::Expelled => {
                self.check(false, T::MemberIsExpelled, &[member])
            }
            Some(record) => self.check(true, T::MemberKnown, &[member, &status_words(self.lang, record.status)]),
        }
    }

    fn account_check(&self, account: &AccountId) -> Check {
        if let Some(number) = self.created.accounts.get(account) {
            return self.check(true, T::AccountCreatedHere, &[account, number]);
        }
        match self.account(account) {
            Some(record) => self.check(true, T::AccountKnown, &[account, &record.member]),
            None => self.check(false, T::AccountUnknown, &[account]),
        }
    }

    fn node_check(&self, node: &NodeId) -> (Check, Option<NodeRecord>) {
        let record = self.node(node);
        if let Some(number) = self.created.nodes.get(node) {
            return (self.check(true, T::NodeAdmittedHere, &[node, number]), record);
        }
        match record {
            Some(record) => {
                let kind = self.node_kind_words(&record);
                (self.check(true, T::NodeKnown, &[node, &kind]), Some(record))
            }
            None => (self.check(false, T::NodeUnknown, &[node]), None),
        }
    }

    fn node_kind_words(&self, record: &NodeRecord) -> String {
        match record.kind {
            NodeKind::Observer => self.t(T::Observer, &[]),
            NodeKind::Sealer => self.t(T::SealerWeight, &[&record.weight]),
        }
    }

    fn node_words(&self, record: Option<&NodeRecord>) -> String {
        record.map_or_else(|| self.absent(), |r| self.node_kind_words(r))
    }

    fn key_words(&self, key: Option<&PublicKey>) -> String {
        key.map_or_else(|| self.t(T::NoKey, &[]), ToString::to_string)
    }

    fn fresh_key_check(&self, key: &PublicKey) -> Check {
        if self.created.keys.contains(key) {
            return self.check(false, T::KeyUsedHere, &[key]);
        }
        match self.view.key(key) {
            Some(record) => self.check(false, T::KeyUsed, &[key, &principal_words(self.lang, &record.owner)]),
            None => self.check(true, T::KeyFresh, &[key]),
        }
    }

    fn weight_check(&self, weight: Weight) -> Check {
        let ok = weight.0 != 0 && weight.0 <= MAX_WEIGHT;
        self.check(ok, if ok { T::WeightInRange } else { T::WeightOutOfRange }, &[&weight, &MAX_WEIGHT])
    }

    fn override_check(&self, flag: bool, checks: &mut Vec<Check>) {
        if flag {
            checks.push(self.check(false, T::OverrideFlag, &[]));
        }
    }

    fn last_active_check(&self, checks: &mut Vec<Check>) {
        if !self.members().iter().any(|(_, m)| m.status == MemberStatus::Active) {
            checks.push(self.check(false, T::LastActiveMember, &[]));
        }
    }

    fn proof_checks(&self, proof: &KeyProof, subject: &Principal, checks: &mut Vec<Check>) {
        let subject_words = principal_words(self.lang, subject);
        if &proof.body.subject == subject {
            checks.push(self.check(true, T::ProofSubject, &[&subject_words]));
        } else {
            let named = principal_words(self.lang, &proof.body.subject);
            checks.push(self.check(false, T::ProofWrongSubject, &[&named, &subject_words]));
        }
        let signed = proof.verifies(self.chain);
        checks.push(self.check(signed, if signed { T::ProofSigned } else { T::ProofBadSignature }, &[]));
        let height = self.view.height();
        let valid = proof.body.expires_at >= self.next;
        let key = if valid { T::ProofValid } else { T::ProofExpired };
        checks.push(self.check(valid, key, &[&proof.body.expires_at, &height]));
        checks.push(self.fresh_key_check(&proof.body.new_key));
    }

    fn proof_words(&self, proof: &KeyProof) -> String {
        self.t(T::KeyWithProof, &[&proof.body.new_key, &proof.body.expires_at])
    }

    /// The policy kinds an action needs, as the contracts derive them: from the state before the proposal
    /// applies (so a role defined by the same proposal is not yet delegable).
    fn kinds(&self, action: &Action) -> Vec<ActionKind> {
        let view = self.view;
        let privileged = |account: &AccountId| {
            let governor = view
                .account(account)
                .and_then(|a| view.member(&a.member))
                .is_some_and(|m| m.governors.contains(account));
            let privileged_role = policy::privileged_roles()
                .iter()
                .any(|role| view.grant(account, role).is_some_and(|g| g.expires_at >= self.next));
            governor || privileged_role
        };
        let delegable = |role: &RoleId| Ok::<_, std::convert::Infallible>(view.role(role).is_some_and(|d| d.delegable));
        match policy::kinds_with(action, |account| Ok(privileged(account)), delegable) {
            Ok(kinds) => kinds,
            Err(never) => match never {},
        }
    }

    fn action(&mut self, number: usize, action: &Action) -> ActionReview {
        let kinds = self.kinds(action);
        let mut needs = Vec::new();
        let mut checks = Vec::new();
        for kind in &kinds {
            let name = kind_name(*kind);
            // The rule in force when the proposal is approved: the policy before any of its actions.
            match self.view.policy_rule(*kind) {
                Some(rule) => needs.push(self.t(T::Needs, &[&name, &rule_words(self.lang, &rule)])),
                None => checks.push(self.check(false, T::NoRule, &[&name])),
            }
        }
        let mut changes = Vec::new();
        let sealers_before = self.sealers();
        let headline = self.describe(number, action, &mut changes, &mut checks);
        let sealers_after = self.sealers();
        if sealers_before != sealers_after {
            let (before, after) = (SealerSet::of(&sealers_before), SealerSet::of(&sealers_after));
            changes.push(self.change(self.t(T::WhatSealers, &[]), before.words(self.lang), after.words(self.lang)));
            changes.push(self.change(
                self.t(T::WhatFaultTolerance, &[]),
                before.fault_tolerance.to_string(),
                after.fault_tolerance.to_string(),
            ));
        }
        ActionReview { number, kinds, headline, changes, needs, checks }
    }

    /// The headline, changes and checks of one action; applies it to the working state later actions see.
    fn describe(
        &mut self,
        number: usize,
        action: &Action,
        changes: &mut Vec<Change>,
        checks: &mut Vec<Check>,
    ) -> String {
        use Action as A;
        match action {
            A::AdmitMember { member, name, weight, governors } => {
                self.admit_member(number, (member, name), *weight, governors, changes, checks);
                self.t(T::AdmitMember, &[member, name, weight])
            }
            A::SetMemberWeight { member, expected, weight } => {
                let actual = self.member(member);
                checks.push(self.member_check(member));
                let actual_weight = actual.as_ref().map_or_else(|| self.absent(), |m| m.weight.to_string());
                checks.push(self.expects(&expected.to_string(), &actual_weight));
                checks.push(self.weight_check(*weight));
                changes.push(self.change(self.t(T::WhatVotingWeight, &[member]), actual_weight, weight.to_string()));
                let before = self.active_weight();
                self.update_member(member, |m| m.weight = *weight);
                let after = self.active_weight();
                if before != after {
                    changes.push(self.change(self.t(T::WhatActiveWeight, &[]), before.to_string(), after.to_string()));
                }
                self.t(T::SetMemberWeight, &[member, expected, weight])
            }
            A::SuspendMember { member } => {
                self.status_change(member, MemberStatus::Active, MemberStatus::Suspended, changes, checks);
                self.t(T::SuspendMember, &[member])
            }
            A::ReinstateMember { member } => {
                self.status_change(member, MemberStatus::Suspended, MemberStatus::Active, changes, checks);
                self.t(T::ReinstateMember, &[member])
            }
            A::ExpelMember { member } => {
                self.expel(member, changes, checks);
                self.t(T::ExpelMember, &[member])
            }
            A::ReplaceGovernors { member, expected, governors } => {
                checks.push(self.member_check(member));
                let actual = self.member(member).map(|m| m.governors.to_vec()).unwrap_or_default();
                let words =
                    |v: &[AccountId]| if v.is_empty() { self.t(T::NoneValue, &[]) } else { list(self.lang, v.iter()) };
                checks.push(self.expects(&words(expected), &words(&actual)));
                if governors.is_empty() {
                    checks.push(self.check(false, T::NoGovernors, &[]));
                }
                for governor in governors {
                    let fine = self.account(governor).is_some_and(|a| &a.member == member && !a.frozen);
                    let key = if fine { T::AccountOfMember } else { T::AccountNotOfMember };
                    checks.push(self.check(fine, key, &[governor, member]));
                }
                changes.push(self.change(self.t(T::WhatGovernors, &[member]), words(&actual), words(governors)));
                self.update_member(member, |m| m.governors = governors.clone());
                self.t(T::ReplaceGovernors, &[member])
            }
            A::CreateAccount { account, member, key } => {
                self.create_account(number, account, member, key, changes, checks);
                self.t(T::CreateAccount, &[account, member])
            }
            A::FreezeAccount { account } | A::UnfreezeAccount { account } => {
                let freeze = matches!(action, A::FreezeAccount { .. });
                checks.push(self.account_check(account));
                let frozen_words = |frozen: bool| self.t(if frozen { T::Frozen } else { T::NotFrozen }, &[]);
                let actual = self.account(account).map(|a| a.frozen);
                let actual_words = actual.map_or_else(|| self.absent(), frozen_words);
                checks.push(self.expects(&frozen_words(!freeze), &actual_words));
                if self
                    .kinds(action)
                    .iter()
                    .any(|k| matches!(k, ActionKind::FreezePrivilegedAccount | ActionKind::UnfreezePrivilegedAccount))
                {
                    checks.push(self.check(true, T::Privileged, &[account]));
                }
                if !freeze {
                    checks.push(self.check(true, T::NoSelfApproval, &[account]));
                }
                changes.push(self.change(self.t(T::WhatAccountFrozen, &[account]), actual_words, frozen_words(freeze)));
                self.update_account(account, |a| a.frozen = freeze);
                self.t(if freeze { T::FreezeAccount } else { T::UnfreezeAccount }, &[account])
            }
            A::ReplaceAccountKey { account, proof } => {
                checks.push(self.account_check(account));
                let actual = self.account(account).map(|a| a.key);
                let actual_words = actual.as_ref().map_or_else(|| self.absent(), |k| self.key_words(k.as_ref()));
                checks.push(self.expects(&self.key_words(proof.body.old_key.as_ref()), &actual_words));
                self.proof_checks(proof, &Principal::Account(account.clone()), checks);
                checks.push(self.check(true, T::ReplacedKeyRevoked, &[]));
                changes.push(self.change(self.t(T::WhatAccountKey, &[account]), actual_words, self.proof_words(proof)));
                self.created.keys.insert(proof.body.new_key);
                self.update_account(account, |a| a.key = Some(proof.body.new_key));
                self.t(T::ReplaceAccountKey, &[account])
            }
            A::DefineRole { role, definition } => {
                let taken = self.role(role).is_some();
                checks.push(self.check(!taken, if taken { T::RoleTaken } else { T::RoleFree }, &[role]));
                let scope = match &definition.scope {
                    RoleScope::Alliance => self.t(T::ScopeAlliance, &[]),
                    RoleScope::Member(member) => {
                        checks.push(self.member_check(member));
                        self.t(T::ScopeMember, &[member])
                    }
                };
                let delegable = self.t(if definition.delegable { T::Delegable } else { T::NotDelegable }, &[]);
                changes.push(self.change(
                    self.t(T::WhatRole, &[role]),
                    self.absent(),
                    self.t(T::RoleDefinitionValue, &[&scope, &delegable, &definition.max_grant_blocks]),
                ));
                self.created.roles.insert(role.clone(), number);
                self.working.roles.insert(role.clone(), definition.clone());
                self.t(T::DefineRole, &[role])
            }
            A::GrantRole { account, role, expires_at, expected } => {
                self.grant(account, role, *expires_at, *expected, changes, checks);
                self.t(T::GrantRole, &[role, account, expires_at])
            }
            A::RevokeRole { account, role } => {
                checks.push(self.account_check(account));
                self.role_known_check(role, checks);
                let actual = self.grant_words(account, role);
                let holds = self.grant_of(account, role).is_some();
                checks.push(Check::new(holds, self.t(T::Expects, &[&self.t(T::AGrant, &[]), &actual])));
                changes.push(self.change(self.t(T::WhatGrant, &[account, role]), actual, self.t(T::NoGrant, &[])));
                self.working.grants.insert((account.clone(), role.clone()), None);
                self.t(T::RevokeRole, &[role, account])
            }
            A::AdmitNode { node, owner, key, address } => {
                let taken = self.node(node).is_some();
                checks.push(self.check(!taken, if taken { T::NodeTaken } else { T::NodeFree }, &[node]));
                checks.push(self.member_check(owner));
                checks.push(self.fresh_key_check(key));
                changes.push(self.change(
                    self.t(T::WhatNode, &[node]),
                    self.absent(),
                    self.t(T::NewNodeValue, &[owner, key, address]),
                ));
                self.created.nodes.insert(node.clone(), number);
                self.created.keys.insert(*key);
                if !taken {
                    let record = NodeRecord::admitted(owner.clone(), *key, address.clone(), self.next);
                    self.working.nodes.insert(node.clone(), Some(record));
                }
                self.t(T::AdmitNode, &[node, owner])
            }
            A::PromoteNode { node, weight, override_fault_tolerance } => {
                self.promote(node, *weight, changes, checks);
                self.override_check(*override_fault_tolerance, checks);
                self.t(T::PromoteNode, &[node, weight])
            }
            A::DemoteNode { node, override_fault_tolerance } => {
                let (exists, record) = self.node_check(node);
                checks.push(exists);
                let actual = self.node_words(record.as_ref());
                let is_sealer = record.as_ref().is_some_and(|r| r.kind == NodeKind::Sealer);
                checks.push(Check::new(is_sealer, self.t(T::Expects, &[&self.t(T::ASealer, &[]), &actual])));
                self.override_check(*override_fault_tolerance, checks);
                changes.push(self.change(self.t(T::WhatNode, &[node]), actual, self.t(T::Observer, &[])));
                self.update_node(node, |n| {
                    n.kind = NodeKind::Observer;
                    n.weight = Weight(0);
                });
                self.t(T::DemoteNode, &[node])
            }
            A::SetNodeWeight { node, expected, weight, override_fault_tolerance } => {
                let (exists, record) = self.node_check(node);
                checks.push(exists);
                checks.push(self.expects(&self.t(T::SealerWeight, &[expected]), &self.node_words(record.as_ref())));
                checks.push(self.weight_check(*weight));
                self.override_check(*override_fault_tolerance, checks);
                changes.push(self.change(
                    self.t(T::WhatNodeWeight, &[node]),
                    record.map_or_else(|| self.absent(), |r| r.weight.to_string()),
                    weight.to_string(),
                ));
                self.update_node(node, |n| {
                    if n.kind == NodeKind::Sealer {
                        n.weight = *weight;
                    }
                });
                self.t(T::SetNodeWeight, &[node, expected, weight])
            }
            A::RemoveNode { node, override_fault_tolerance } => {
                let (exists, record) = self.node_check(node);
                checks.push(exists);
                self.override_check(*override_fault_tolerance, checks);
                let before = self.node_words(record.as_ref());
                changes.push(self.change(self.t(T::WhatNode, &[node]), before, self.t(T::Removed, &[])));
                self.working.nodes.insert(node.clone(), None);
                self.t(T::RemoveNode, &[node])
            }
            A::RotateNodeKey { node, proof } => {
                if self.proposer == Principal::Node(node.clone()) {
                    checks.push(self.check(true, T::ProposedByNode, &[node]));
                } else {
                    let by = principal_words(self.lang, &self.proposer);
                    checks.push(self.check(false, T::NotProposedByNode, &[node, &by]));
                }
                self.node_key_change(node, proof, changes, checks);
                self.t(T::RotateNodeKey, &[node])
            }
            A::SetNodeAddress { node, expected, address } => {
                let (exists, record) = self.node_check(node);
                checks.push(exists);
                let actual = record.map_or_else(|| self.absent(), |r| r.address.to_string());
                checks.push(self.expects(expected.as_str(), &actual));
                changes.push(self.change(self.t(T::WhatNodeAddress, &[node]), actual, address.to_string()));
                self.update_node(node, |n| n.address = address.clone());
                self.t(T::SetNodeAddress, &[node, address])
            }
            A::RevokeNodeKey { node, key, override_fault_tolerance } => {
                let (exists, record) = self.node_check(node);
                checks.push(exists);
                let actual = record.as_ref().map_or_else(|| self.absent(), |r| self.key_words(r.key.as_ref()));
                checks.push(self.expects(&key.to_string(), &actual));
                checks.push(self.check(false, T::NodeCutOff, &[node]));
                self.override_check(*override_fault_tolerance, checks);
                changes.push(self.change(self.t(T::WhatNodeKey, &[node]), actual, self.t(T::NoKey, &[])));
                if let Some(record) = record.filter(|r| r.kind == NodeKind::Sealer) {
                    changes.push(self.change(
                        self.t(T::WhatNode, &[node]),
                        self.node_kind_words(&record),
                        self.t(T::Observer, &[]),
                    ));
                }
                self.update_node(node, |n| {
                    n.key = None;
                    n.kind = NodeKind::Observer;
                    n.weight = Weight(0);
                });
                self.t(T::RevokeNodeKey, &[node])
            }
            A::ReplaceNodeKey { node, proof } => {
                self.node_key_change(node, proof, changes, checks);
                checks.push(self.check(true, T::ReplacedKeyRevoked, &[]));
                self.t(T::ReplaceNodeKey, &[node])
            }
            A::SetPolicyRule { kind, expected, rule } => {
                let name = kind_name(*kind);
                let actual = self.rule(*kind);
                let words =
                    |r: Option<&Rule>| r.map_or_else(|| self.t(T::NoneValue, &[]), |r| rule_words(self.lang, r));
                checks.push(self.expects(&words(expected.as_ref()), &words(actual.as_ref())));
                if matches!(&rule.requirement, Requirement::Role { role, .. } if role == &RoleId::auditor()) {
                    checks.push(self.check(false, T::RuleNamesAuditor, &[]));
                }
                if let Some(current) = &actual
                    && !rule.at_least_as_strict_as(current)
                {
                    checks.push(self.check(false, T::RuleLooser, &[]));
                }
                changes.push(self.change(self.t(T::WhatRule, &[&name]), words(actual.as_ref()), words(Some(rule))));
                self.working.rules.insert(*kind, rule.clone());
                self.t(T::SetPolicyRule, &[&name])
            }
            A::SetParams { expected, params } => {
                match self.params() {
                    None => checks.push(self.expects(&self.t(T::ParamsInForce, &[]), &self.absent())),
                    Some(actual) => {
                        let stale: Vec<_> =
                            param_rows(expected, &actual).into_iter().filter(|(_, e, a)| e != a).collect();
                        if stale.is_empty() {
                            checks.push(self.check(true, T::ParamsAsExpected, &[]));
                        }
                        for (name, expected, actual) in stale {
                            let show = |v: &str| format!("{name} = {v}");
                            checks.push(self.expects(&show(&expected), &show(&actual)));
                        }
                    }
                }
                match params.validate() {
                    Ok(()) => checks.push(self.check(true, T::ParamsValid, &[])),
                    Err(why) => checks.push(self.check(false, T::ParamsInvalid, &[&why])),
                }
                let before = self.params().unwrap_or_else(|| expected.clone());
                for (name, old, new) in param_rows(&before, params) {
                    if old != new {
                        changes.push(self.change(self.t(T::WhatParam, &[&name]), old, new));
                    }
                }
                self.working.params = Some(params.clone());
                self.t(T::SetParams, &[])
            }
            A::CancelProposal { proposal } => {
                match self.view.proposal(proposal) {
                    None => checks.push(self.check(false, T::CancelTargetUnknown, &[proposal])),
                    Some(record) => {
                        let status = proposal_status_words(self.lang, &record.status);
                        let open = matches!(record.status, ProposalStatus::Pending | ProposalStatus::Queued { .. });
                        if open {
                            let what = self.t(T::ProposalStatusValue, &[&record.proposal.title, &status]);
                            checks.push(self.check(true, T::CancelTarget, &[proposal, &what]));
                        } else {
                            checks.push(self.check(false, T::CancelTargetClosed, &[proposal, &status]));
                        }
                        changes.push(self.change(
                            self.t(T::WhatProposal, &[proposal]),
                            status,
                            self.t(T::Cancelled, &[]),
                        ));
                    }
                }
                self.t(T::CancelProposal, &[proposal])
            }
        }
    }

    fn admit_member(
        &mut self,
        number: usize,
        (member, name): (&MemberId, &DisplayName),
        weight: Weight,
        governors: &[NewAccount],
        changes: &mut Vec<Change>,
        checks: &mut Vec<Check>,
    ) {
        let taken = self.member(member).is_some();
        checks.push(self.check(!taken, if taken { T::MemberTaken } else { T::MemberFree }, &[member]));
        checks.push(self.weight_check(weight));
        if governors.is_empty() {
            checks.push(self.check(false, T::NoGovernors, &[]));
        }
        changes.push(self.change(
            self.t(T::WhatMember, &[member]),
            self.absent(),
            self.t(T::NewMemberValue, &[&weight]),
        ));
        let governor_words =
            list(self.lang, governors.iter().map(|g| self.t(T::GovernorWithKey, &[&g.account, &g.key])));
        changes.push(self.change(self.t(T::WhatGovernors, &[member]), self.t(T::NoneValue, &[]), governor_words));
        for governor in governors {
            let taken = self.account(&governor.account).is_some();
            checks.push(self.check(!taken, if taken { T::AccountTaken } else { T::AccountFree }, &[&governor.account]));
            checks.push(self.fresh_key_check(&governor.key));
        }
        if taken {
            return;
        }
        let before = self.active_weight();
        let record = MemberRecord {
            name: name.clone(),
            weight,
            status: MemberStatus::Active,
            governors: BoundedVec::try_new(governors.iter().map(|g| g.account.clone()).collect())
                .unwrap_or_else(|_| BoundedVec::new()),
            admitted_at: self.next,
        };
        self.working.members.insert(member.clone(), record);
        self.created.members.insert(member.clone(), number);
        for governor in governors {
            self.note_account(number, &governor.account, member, &governor.key);
        }
        let after = self.active_weight();
        changes.push(self.change(self.t(T::WhatActiveWeight, &[]), before.to_string(), after.to_string()));
    }

    fn note_account(&mut self, number: usize, account: &AccountId, member: &MemberId, key: &PublicKey) {
        self.created.accounts.insert(account.clone(), number);
        self.created.keys.insert(*key);
        let record = AccountRecord { member: member.clone(), key: Some(*key), frozen: false, created_at: self.next };
        self.working.accounts.insert(account.clone(), record);
    }

    fn create_account(
        &mut self,
        number: usize,
        account: &AccountId,
        member: &MemberId,
        key: &PublicKey,
        changes: &mut Vec<Change>,
        checks: &mut Vec<Check>,
    ) {
        let taken = self.account(account).is_some();
        checks.push(self.check(!taken, if taken { T::AccountTaken } else { T::AccountFree }, &[account]));
        checks.push(self.member_check(member));
        checks.push(self.fresh_key_check(key));
        changes.push(self.change(
            self.t(T::WhatAccount, &[account]),
            self.absent(),
            self.t(T::NewAccountValue, &[member, key]),
        ));
        if !taken {
            self.note_account(number, account, member, key);
        }
    }

    fn status_change(
        &mut self,
        member: &MemberId,
        from: MemberStatus,
        to: MemberStatus,
        changes: &mut Vec<Change>,
        checks: &mut Vec<Check>,
    ) {
        checks.push(self.member_check(member));
        let actual = self.member(member).map(|m| m.status);
        let actual_words = actual.map_or_else(|| self.absent(), |s| status_words(self.lang, s));
        checks.push(self.expects(&status_words(self.lang, from), &actual_words));
        changes.push(self.change(self.t(T::WhatStanding, &[member]), actual_words, status_words(self.lang, to)));
        let before = self.active_weight();
        if actual == Some(from) {
            self.update_member(member, |m| m.status = to);
        }
        let after = self.active_weight();
        changes.push(self.change(self.t(T::WhatActiveWeight, &[]), before.to_string(), after.to_string()));
        self.last_active_check(checks);
    }

    fn expel(&mut self, member: &MemberId, changes: &mut Vec<Change>, checks: &mut Vec<Check>) {
        checks.push(self.member_check(member));
        let Some(record) = self.member(member) else { return };
        if record.status == MemberStatus::Expelled {
            return;
        }
        changes.push(self.change(
            self.t(T::WhatStanding, &[member]),
            status_words(self.lang, record.status),
            status_words(self.lang, MemberStatus::Expelled),
        ));
        let governors = if record.governors.is_empty() {
            self.t(T::NoneValue, &[])
        } else {
            list(self.lang, record.governors.iter())
        };
        changes.push(self.change(self.t(T::WhatGovernors, &[member]), governors, self.t(T::NoneValue, &[])));
        let accounts = self.accounts_of(member);
        let unfrozen: Vec<&AccountId> = accounts.iter().filter(|(_, a)| !a.frozen).map(|(id, _)| id).collect();
        changes.push(self.change(
            self.t(T::WhatAccountsOf, &[member]),
            self.t(T::AccountsValue, &[&accounts.len()]),
            self.t(T::AccountsFrozenValue, &[&unfrozen.len()]),
        ));
        let nodes: Vec<NodeId> =
            self.nodes().into_iter().filter(|(_, n)| &n.owner == member).map(|(id, _)| id).collect();
        if !nodes.is_empty() {
            changes.push(self.change(
                self.t(T::WhatNodesOf, &[member]),
                list(self.lang, nodes.iter()),
                self.t(T::Removed, &[]),
            ));
        }
        let before = self.active_weight();
        self.update_member(member, |m| {
            m.status = MemberStatus::Expelled;
            m.governors = BoundedVec::new();
        });
        for (id, _) in &accounts {
            self.update_account(id, |a| a.frozen = true);
        }
        for node in nodes {
            self.working.nodes.insert(node, None);
        }
        let after = self.active_weight();
        changes.push(self.change(self.t(T::WhatActiveWeight, &[]), before.to_string(), after.to_string()));
        self.last_active_check(checks);
    }

    fn role_known_check(&self, role: &RoleId, checks: &mut Vec<Check>) -> Option<RoleDefinition> {
        if let Some(number) = self.created.roles.get(role) {
            checks.push(self.check(true, T::RoleDefinedHere, &[role, number]));
            return self.role(role);
        }
        let definition = self.role(role);
        let key = if definition.is_some() { T::RoleKnown } else { T::RoleUnknown };
        checks.push(self.check(definition.is_some(), key, &[role]));
        definition
    }

    fn grant_words(&self, account: &AccountId, role: &RoleId) -> String {
        self.grant_of(account, role)
            .map_or_else(|| self.t(T::NoGrant, &[]), |g| self.t(T::UntilHeight, &[&g.expires_at]))
    }

    fn grant(
        &mut self,
        account: &AccountId,
        role: &RoleId,
        expires_at: Height,
        expected: Option<Height>,
        changes: &mut Vec<Change>,
        checks: &mut Vec<Check>,
    ) {
        checks.push(self.account_check(account));
        let definition = self.role_known_check(role, checks);
        let actual = self.grant_words(account, role);
        let expected_words = expected.map_or_else(|| self.t(T::NoGrant, &[]), |h| self.t(T::UntilHeight, &[&h]));
        checks.push(self.expects(&expected_words, &actual));
        if let Some(definition) = &definition {
            // Delegation is judged on the roles before the proposal, as the chain judges it.
            let delegable = self.view.role(role).is_some_and(|d| d.delegable);
            let key = if delegable { T::RoleIsDelegable } else { T::RoleNotDelegable };
            checks.push(self.check(true, key, &[role]));
            let height = self.view.height();
            if expires_at < self.next {
                checks.push(self.check(false, T::GrantInPast, &[&expires_at, &self.next]));
            } else {
                let length = expires_at.since(height);
                let ok = expires_at <= height.plus(definition.max_grant_blocks);
                checks.push(self.check(ok, T::GrantLength, &[&length, role, &definition.max_grant_blocks]));
            }
            if let RoleScope::Member(scope) = &definition.scope
                && let Some(record) = self.account(account)
                && &record.member != scope
            {
                checks.push(self.check(false, T::GrantOutOfScope, &[role, scope, account, &record.member]));
            }
        }
        checks.push(self.check(true, T::NoSelfApproval, &[account]));
        changes.push(self.change(
            self.t(T::WhatGrant, &[account, role]),
            actual,
            self.t(T::UntilHeight, &[&expires_at]),
        ));
        let grant = Grant { expires_at, granted_at: self.next };
        self.working.grants.insert((account.clone(), role.clone()), Some(grant));
    }

    fn promote(&mut self, node: &NodeId, weight: Weight, changes: &mut Vec<Change>, checks: &mut Vec<Check>) {
        let (exists, record) = self.node_check(node);
        checks.push(exists);
        let Some(record) = record else { return };
        let actual = self.node_kind_words(&record);
        let is_observer = record.kind == NodeKind::Observer;
        checks.push(Check::new(is_observer, self.t(T::Expects, &[&self.t(T::Observer, &[]), &actual])));
        checks.push(self.weight_check(weight));
        match self.member(&record.owner).map(|m| m.status) {
            Some(MemberStatus::Active) => checks.push(self.check(true, T::OwnerActive, &[&record.owner])),
            status => {
                let words = status.map_or_else(|| self.absent(), |s| status_words(self.lang, s));
                checks.push(self.check(false, T::OwnerNotActive, &[&record.owner, &words]));
            }
        }
        let window = self.params().map(|p| p.readiness_window).unwrap_or_default();
        match record.attested_at {
            Some(at) if self.next.since(at) <= window => {
                checks.push(self.check(true, T::Ready, &[node, &at, &window]));
            }
            Some(at) => checks.push(self.check(false, T::NotReadyStale, &[node, &at, &window])),
            None => checks.push(self.check(false, T::NotReadyNever, &[node])),
        }
        if record.key.is_none() {
            checks.push(self.check(false, T::NodeHasNoKey, &[node]));
        }
        changes.push(self.change(self.t(T::WhatNode, &[node]), actual, self.t(T::SealerWeight, &[&weight])));
        if is_observer {
            self.update_node(node, |n| {
                n.kind = NodeKind::Sealer;
                n.weight = weight;
            });
        }
    }

    fn node_key_change(&mut self, node: &NodeId, proof: &KeyProof, changes: &mut Vec<Change>, checks: &mut Vec<Check>) {
        let (exists, record) = self.node_check(node);
        checks.push(exists);
        let actual = record.as_ref().map_or_else(|| self.absent(), |r| self.key_words(r.key.as_ref()));
        checks.push(self.expects(&self.key_words(proof.body.old_key.as_ref()), &actual));
        self.proof_checks(proof, &Principal::Node(node.clone()), checks);
        changes.push(self.change(self.t(T::WhatNodeKey, &[node]), actual, self.proof_words(proof)));
        self.created.keys.insert(proof.body.new_key);
        self.update_node(node, |n| {
            n.key = Some(proof.body.new_key);
            n.key_history.push(proof.body.new_key);
        });
    }

    /// The sealer-safety pre-flight of the whole proposal, as `nodes::check_sealer_safety` applies it (against the
    /// set the console last saw, which stands in for the set at the start of the including block).
    fn sealer_preflight(&self, proposal: &Proposal) -> Option<SealerPreflight> {
        let start = self.view.sealers();
        let end = self.sealers();
        if start == end {
            return None;
        }
        let before = SealerSet::of(&start);
        let after = SealerSet::of(&end);
        // The chain's own rule, evaluated on this console's view of the chain.
        let verdict = sealer_safety(&start, &end);
        let changed_weight = verdict.changed;
        let overridden = proposal.actions.iter().any(policy::overrides_fault_tolerance);
        let (f_before, f_after) = (verdict.fault_tolerance_before, verdict.fault_tolerance_after);
        let changes = vec![
            self.change(self.t(T::WhatSealers, &[]), before.words(self.lang), after.words(self.lang)),
            self.change(self.t(T::WhatSealerTotal, &[]), before.total.to_string(), after.total.to_string()),
            self.change(self.t(T::WhatFaultTolerance, &[]), f_before.to_string(), f_after.to_string()),
        ];
        let reduced = verdict.tolerance_reduced();
        let mut checks = vec![self.check(!reduced, T::Tolerates, &[&f_after, &f_before])];
        if verdict.empty() {
            checks.push(self.check(false, T::EmptySealerSet, &[]));
        }
        if verdict.over_budget() {
            checks.push(self.check(false, T::OverBudget, &[&changed_weight, &f_before]));
        } else {
            checks.push(self.check(true, T::WithinBudget, &[&changed_weight, &f_before]));
        }
        if reduced {
            checks.push(self.check(false, T::ToleranceFalls, &[&f_before, &f_after]));
        }
        if overridden {
            checks.push(self.check(false, T::Overridden, &[]));
        }
        for (member, weight) in &verdict.concentrated {
            checks.push(self.check(false, T::Concentrated, &[member, weight, &after.total]));
        }
        let rejection = verdict.rejection(overridden);
        Some(SealerPreflight { before, after, changed_weight, overridden, rejection, changes, checks })
    }
}

/// Whether an action carries `override_fault_tolerance`.
/// Each chain parameter's name with its value before and after.
fn param_rows(before: &ChainParams, after: &ChainParams) -> Vec<(&'static str, String, String)> {
    vec![
        ("block_interval_ms", before.block_interval_ms.to_string(), after.block_interval_ms.to_string()),
        ("max_block_transactions", before.max_block_transactions.to_string(), after.max_block_transactions.to_string()),
        ("max_block_bytes", before.max_block_bytes.to_string(), after.max_block_bytes.to_string()),
        ("max_transaction_bytes", before.max_transaction_bytes.to_string(), after.max_transaction_bytes.to_string()),
        ("max_tx_ttl", before.max_tx_ttl.to_string(), after.max_tx_ttl.to_string()),
        ("max_proposal_lifetime", before.max_proposal_lifetime.to_string(), after.max_proposal_lifetime.to_string()),
        ("readiness_window", before.readiness_window.to_string(), after.readiness_window.to_string()),
    ]
}

/// A signed transaction in words, with its hash and whether its signatures verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionReview {
    /// The transaction hash (its signing digest).
    pub hash: TxHash,
    /// The hash as the CLI prints it (`sha256:<hex>`).
    pub hash_text: String,
    /// What it does, in one sentence.
    pub headline: String,
    /// Sender, validity, key, hash and size, one line each.
    pub details: Vec<String>,
    /// The proposal it is about, if any.
    pub proposal: Option<ProposalId>,
    /// Whether the sender's signature verifies for this chain.
    pub signature_valid: bool,
    /// Signature checks (the sender's, every approval's, any key proof's).
    pub checks: Vec<Check>,
    /// Its canonical size in bytes.
    pub size_bytes: usize,
}

/// Reviews a signed transaction for `chain` in `lang`: what it does, its hash, and whether the sender's signature,
/// every approval it carries and any key proof verify.
pub fn transaction_review(signed: &SignedTransaction, chain: &ChainIdentity, lang: Lang) -> TransactionReview {
    let hash = signed.tx.hash(chain);
    let signature_valid = signed.key.verify(&hash.0, &signed.signature);
    let size_bytes = codec::encode(signed).len();
    let mut checks = vec![Check::new(
        signature_valid,
        tr(lang, if signature_valid { T::SignatureValid } else { T::SignatureInvalid }, &[]),
    )];
    let approval_checks = |checks: &mut Vec<Check>, id: &ProposalId, approvals: &[Approval]| {
        for approval in approvals {
            let ok = approval.key.verify(&id.0, &approval.signature);
            let key = if ok { T::ApprovalValid } else { T::ApprovalInvalid };
            checks.push(Check::new(ok, tr(lang, key, &[&approval.approver, id])));
        }
    };
    let proof_check = |checks: &mut Vec<Check>, proof: &KeyProof| {
        let ok = proof.verifies(chain);
        checks.push(Check::new(ok, tr(lang, if ok { T::ProofSigned } else { T::ProofBadSignature }, &[])));
    };
    let mut extra = Vec::new();
    let (headline, proposal) = match &signed.tx.payload {
        Payload::SubmitProposal { proposal, approvals } => {
            let id = proposal.id(chain);
            if signed.tx.sender == proposal.proposer {
                checks.push(Check::new(true, tr(lang, T::SenderIsProposer, &[])));
            } else {
                let sender = principal_words(lang, &signed.tx.sender);
                let proposer = principal_words(lang, &proposal.proposer);
                checks.push(Check::new(false, tr(lang, T::SenderNotProposer, &[&sender, &proposer])));
            }
            approval_checks(&mut checks, &id, approvals);
            (tr(lang, T::TxSubmit, &[&id, &proposal.title, &approvals.len()]), Some(id))
        }
        Payload::Approve { proposal, approvals } => {
            approval_checks(&mut checks, proposal, approvals);
            let who = list(lang, approvals.iter().map(|a| &a.approver));
            (tr(lang, T::TxApprove, &[&who, proposal]), Some(*proposal))
        }
        Payload::RevokeApproval { proposal } => (tr(lang, T::TxRevoke, &[proposal]), Some(*proposal)),
        Payload::CancelProposal { proposal } => (tr(lang, T::TxCancel, &[proposal]), Some(*proposal)),
        Payload::ExecuteProposal { proposal } => (tr(lang, T::TxExecute, &[proposal]), Some(*proposal)),
        Payload::RotateAccountKey { proof } => {
            proof_check(&mut checks, proof);
            let old = proof.body.old_key.map_or_else(|| tr(lang, T::NoKey, &[]), |k| k.to_string());
            (tr(lang, T::TxRotate, &[&old, &proof.body.new_key]), None)
        }
        Payload::MarkKeyCompromised { account, key, replacement } => {
            match replacement {
                Some(proof) => {
                    proof_check(&mut checks, proof);
                    if signed.tx.sender != Principal::Account(account.clone()) {
                        let sender = principal_words(lang, &signed.tx.sender);
                        checks.push(Check::new(false, tr(lang, T::TxReplacementNotHolder, &[account, &sender])));
                    }
                    extra.push(tr(lang, T::TxReplacement, &[&proof.body.new_key]));
                }
                None => extra.push(tr(lang, T::TxNoReplacement, &[])),
            }
            (tr(lang, T::TxCompromised, &[key, account]), None)
        }
        Payload::AttestReadiness { synced_height } => (tr(lang, T::TxAttest, &[synced_height]), None),
        Payload::AnchorAuditTrail { seq, head } => (tr(lang, T::TxAnchor, &[seq, head]), None),
    };
    let mut details = vec![
        tr(lang, T::TxSender, &[&principal_words(lang, &signed.tx.sender)]),
        tr(lang, T::TxValidUntil, &[&signed.tx.valid_until]),
        tr(lang, T::TxSignedBy, &[&signed.key]),
        tr(lang, T::TxHash, &[&hash]),
        tr(lang, T::TxSize, &[&size_bytes]),
    ];
    details.extend(extra);
    TransactionReview {
        hash,
        hash_text: hash.to_string(),
        headline,
        details,
        proposal,
        signature_valid,
        checks,
        size_bytes,
    }
}
