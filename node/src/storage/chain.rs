//! The chain: genesis, committed blocks with their certificates and receipts, and the lookup indexes built from
//! them (transaction hash → location, proposal → transactions, account → transactions, the heights where the
//! validator set changes).

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{MAX_DECODE_BYTES, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, BlockHash, Height, ProposalId, TxHash};
use governance_contracts::state::{ChangeSet, Overlay, root};
use governance_contracts::types::{
    Block, CommitCertificate, Event, Genesis, Outcome, Payload, Principal, Receipt, SignedTransaction, receipts_root,
    transactions_root,
};
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use super::keys::{self, Cf, decode_stored};
use super::{NodeStore, StorageError, StoreView};

/// A finalized block and everything that commits with it, in one write.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate (the finality proof).
    pub certificate: CommitCertificate,
    /// One receipt per transaction, in order (from `execution::apply_block`).
    pub receipts: Vec<Receipt>,
    /// The state changes of the block, the state tree's included (from `execution::apply_block`).
    pub changes: ChangeSet,
}

/// Where a transaction sits: the height of its block and its position in it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct TxLocation {
    /// The block's height.
    pub height: Height,
    /// The transaction's index in the block.
    pub index: u32,
}

/// A `tx_index` value. A transaction hash can be included more than once (a repeat is rejected as a duplicate, a
/// rejected transaction may be included again): the index points at the inclusion that applied, or else at the
/// latest rejected one.
#[derive(Debug, Clone, Copy, BorshSerialize, BorshDeserialize)]
struct TxIndexEntry {
    location: TxLocation,
    applied: bool,
}

/// The parent hash of the first block.
fn zero_hash() -> BlockHash {
    BlockHash(Digest::Sha256([0; 32]))
}

impl NodeStore {
    /// Initialises a fresh store with `genesis`: its state, height 0 and its chain identity, in one synced write.
    /// On a store already initialised for the same genesis this does nothing; for another genesis it refuses with
    /// [`StorageError::WrongGenesis`].
    pub fn init_genesis(&mut self, genesis: &Genesis) -> Result<(), StorageError> {
        let given = genesis.identity();
        if let Some(stored) = &self.chain {
            if *stored == given {
                return Ok(());
            }
            return Err(StorageError::WrongGenesis {
                stored_chain_id: stored.chain_id.as_str().to_owned(),
                stored_genesis_hash: stored.genesis_hash,
                given_chain_id: given.chain_id.as_str().to_owned(),
                given_genesis_hash: given.genesis_hash,
            });
        }
        if self.has_any(Cf::State)? || self.has_any(Cf::Blocks)? {
            return Err(StorageError::Corrupt {
                table: Cf::Meta.name(),
                detail: "the store holds state or blocks but records no genesis".into(),
            });
        }
        let state = execution::apply_genesis(genesis)?;
        let mut batch = WriteBatch::default();
        self.add_changes(&mut batch, &state.changes);
        batch.put_cf(self.cf(Cf::Meta), keys::meta::CHAIN, encode(&given));
        batch.put_cf(self.cf(Cf::Meta), keys::meta::LAST_HEIGHT, encode(&Height(0)));
        self.write(batch, true, Cf::Meta)?;
        self.chain = Some(given);
        self.last_height = Some(Height(0));
        Ok(())
    }

    /// Commits the next block: the block, its certificate, its receipts, the index entries (the set-change index's
    /// too, when the block changes the validator set), its state changes and the new last height, in one write
    /// batch synced to disk before this returns. A crash at any point leaves
    /// either all of it or none of it.
    ///
    /// Before writing, it checks that the parts agree: the height follows the last committed one, the certificate
    /// names this block, the parent is the last committed block, the header's transaction and receipt roots match
    /// what is carried, and the state changes move the state to this height with the header's state root. Any disagreement is refused with
    /// nothing written.
    pub fn commit_block(&mut self, committed: &CommittedBlock) -> Result<(), StorageError> {
        let (Some(chain), Some(last)) = (self.chain.clone(), self.last_height) else {
            return Err(StorageError::NotInitialised);
        };
        let height = committed.block.header.height;
        if Some(height.0) != last.0.checked_add(1) {
            return Err(StorageError::OutOfOrder { last, got: height });
        }
        let hashes: Vec<TxHash> = committed.block.transactions.iter().map(|tx| tx.tx.hash(&chain)).collect();
        self.check_block(&chain, committed, &hashes)?;
        let block = storable("block", encode(&committed.block))?;
        let certificate = storable("commit certificate", encode(&committed.certificate))?;
        let receipts = storable("receipts", encode(&committed.receipts))?;

        let mut batch = WriteBatch::default();
        let key = keys::height_key(height);
        batch.put_cf(self.cf(Cf::Blocks), key, block);
        batch.put_cf(self.cf(Cf::Certificates), key, certificate);
        batch.put_cf(self.cf(Cf::Receipts), key, receipts);
        self.add_indexes(&mut batch, &chain, committed, &hashes)?;
        let header = &committed.block.header;
        if header.validator_set_hash != header.next_validator_set_hash {
            batch.put_cf(self.cf(Cf::SetChanges), key, []);
        }
        self.add_changes(&mut batch, &committed.changes);
        batch.put_cf(self.cf(Cf::Meta), keys::meta::LAST_HEIGHT, encode(&height));
        self.write(batch, self.sync, Cf::Blocks)?;
        self.last_height = Some(height);
        Ok(())
    }

    /// Checks that the parts of `committed` agree with each other and with the last committed block.
    fn check_block(
        &self,
        chain: &ChainIdentity,
        committed: &CommittedBlock,
        hashes: &[TxHash],
    ) -> Result<(), StorageError> {
        let header = &committed.block.header;
        let height = header.height;
        let inconsistent = |detail: String| StorageError::InconsistentBlock { height, detail };
        let certificate = &committed.certificate;
        if certificate.height != height {
            return Err(inconsistent(format!("the certificate is for height {}", certificate.height)));
        }
        if certificate.block != header.hash(chain) {
            return Err(inconsistent(format!("the certificate is for block {}", certificate.block)));
        }
        let parent = match height.0.checked_sub(1) {
            Some(previous) if previous > 0 => match self.certificate(Height(previous))? {
                Some(previous) => previous.block,
                None => {
                    return Err(StorageError::Corrupt {
                        table: Cf::Certificates.name(),
                        detail: format!("no certificate for the committed height {previous}"),
                    });
                }
            },
            _ => zero_hash(),
        };
        if header.parent != parent {
            return Err(inconsistent(format!("its parent is {}, the last committed block is {parent}", header.parent)));
        }
        if committed.receipts.len() != hashes.len() {
            return Err(inconsistent(format!(
                "{} receipts for {} transactions",
                committed.receipts.len(),
                hashes.len()
            )));
        }
        if let Some((index, receipt)) =
            committed.receipts.iter().enumerate().find(|(index, receipt)| hashes.get(*index) != Some(&receipt.tx))
        {
            return Err(inconsistent(format!("receipt {index} is for another transaction ({})", receipt.tx)));
        }
        if transactions_root(chain, &committed.block.transactions) != header.transactions_root {
            return Err(inconsistent("the transactions do not match the header's transactions root".into()));
        }
        if receipts_root(chain, &committed.receipts) != header.receipts_root {
            return Err(inconsistent("the receipts do not match the header's receipts root".into()));
        }
        // The state the changes would leave, read through a buffer before anything is written.
        let mut pending = Overlay::new(self);
        pending.absorb(committed.changes.clone());
        let state_height = execution::meta(&pending)
            .map_err(|e| inconsistent(format!("the state changes leave no readable chain record: {e}")))?
            .height;
        if state_height != height {
            return Err(inconsistent(format!("the state changes leave the state at height {state_height}")));
        }
        match root::root_at(&pending, height)? {
            Some(root) if root == header.state_root => Ok(()),
            Some(root) => Err(inconsistent(format!(
                "the state changes give root {root}, the header commits to {}",
                header.state_root
            ))),
            None => Err(inconsistent("the state changes hold no state tree for this height".into())),
        }
    }

    /// Adds the `tx_index`, `proposal_index` and `account_index` entries of a block to `batch`.
    fn add_indexes(
        &self,
        batch: &mut WriteBatch,
        chain: &ChainIdentity,
        committed: &CommittedBlock,
        hashes: &[TxHash],
    ) -> Result<(), StorageError> {
        let height = committed.block.header.height;
        // Whether each hash indexed by this block so far applied, for repeats within the block.
        let mut in_block: BTreeMap<TxHash, bool> = BTreeMap::new();
        let entries = committed.block.transactions.iter().zip(hashes).zip(&committed.receipts);
        for (position, ((signed, hash), receipt)) in entries.enumerate() {
            let index = u32::try_from(position).map_err(|_| StorageError::InconsistentBlock {
                height,
                detail: format!("transaction position {position} exceeds u32"),
            })?;
            let location = TxLocation { height, index };
            let applied = receipt.outcome == Outcome::Applied;
            let earlier_applied = match in_block.get(hash) {
                Some(applied) => *applied,
                None => self.tx_index_entry(hash)?.is_some_and(|entry| entry.applied),
            };
            if applied || !earlier_applied {
                batch.put_cf(self.cf(Cf::TxIndex), keys::tx_key(hash), encode(&TxIndexEntry { location, applied }));
                in_block.insert(*hash, applied);
            }

            let mut proposals = BTreeSet::new();
            let mut accounts = BTreeSet::new();
            references_in_transaction(chain, signed, &mut proposals, &mut accounts);
            for event in &receipt.events {
                references_in_event(event, &mut proposals, &mut accounts);
            }
            for proposal in &proposals {
                let key = keys::located_key(&keys::proposal_prefix(proposal), height, index);
                batch.put_cf(self.cf(Cf::ProposalIndex), key, []);
            }
            for account in &accounts {
                let key = keys::located_key(&keys::account_prefix(account), height, index);
                batch.put_cf(self.cf(Cf::AccountIndex), key, []);
            }
        }
        Ok(())
    }

    fn tx_index_entry(&self, hash: &TxHash) -> Result<Option<TxIndexEntry>, StorageError> {
        self.view().tx_index_entry(hash)
    }

    /// The block at `height`, if committed.
    pub fn block(&self, height: Height) -> Result<Option<Block>, StorageError> {
        self.view().block(height)
    }

    /// The commit certificate of the block at `height`, if committed.
    pub fn certificate(&self, height: Height) -> Result<Option<CommitCertificate>, StorageError> {
        self.view().certificate(height)
    }

    /// The receipts of the block at `height`, one per transaction, if committed.
    pub fn receipts(&self, height: Height) -> Result<Option<Vec<Receipt>>, StorageError> {
        self.view().receipts(height)
    }

    /// Where the transaction with `hash` was included: the inclusion that applied, or else the latest rejected one.
    pub fn tx_location(&self, hash: &TxHash) -> Result<Option<TxLocation>, StorageError> {
        self.view().tx_location(hash)
    }

    /// Up to `limit` heights below `below` whose block changes the validator set, ascending.
    pub fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, StorageError> {
        self.view().set_change_heights(below, limit)
    }

    /// The transaction at `location` and its receipt, if that block is committed and has that many transactions.
    pub fn transaction(&self, location: TxLocation) -> Result<Option<(SignedTransaction, Receipt)>, StorageError> {
        self.view().transaction(location)
    }

    /// Every transaction that concerns proposal `id` (submitted, approved, revoked, cancelled, executed it, or had
    /// an event about it), in chain order.
    pub fn proposal_history(&self, id: &ProposalId) -> Result<Vec<TxLocation>, StorageError> {
        self.view().proposal_history(id, usize::MAX)
    }

    /// Up to `limit` transactions that concern `account` (sent by it, naming it, or with an event about it) from
    /// height `from` on, in chain order.
    pub fn account_history(
        &self,
        account: &AccountId,
        from: Height,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StorageError> {
        self.view().account_history(account, from, limit)
    }
}

/// The reads of the chain, for the store's owner and its readers alike.
impl StoreView<'_> {
    fn tx_index_entry(&self, hash: &TxHash) -> Result<Option<TxIndexEntry>, StorageError> {
        self.read(Cf::TxIndex, &keys::tx_key(hash))?.map(|bytes| decode_stored(Cf::TxIndex, &bytes)).transpose()
    }

    /// The block at `height`, if committed.
    pub fn block(&self, height: Height) -> Result<Option<Block>, StorageError> {
        self.read_at(Cf::Blocks, height)
    }

    /// The commit certificate of the block at `height`, if committed.
    pub fn certificate(&self, height: Height) -> Result<Option<CommitCertificate>, StorageError> {
        self.read_at(Cf::Certificates, height)
    }

    /// The receipts of the block at `height`, one per transaction, if committed.
    pub fn receipts(&self, height: Height) -> Result<Option<Vec<Receipt>>, StorageError> {
        self.read_at(Cf::Receipts, height)
    }

    /// Up to `limit` heights below `below` whose block changes the validator set (its header's
    /// `next_validator_set_hash` differs from its `validator_set_hash`), ascending, read from the set-change index:
    /// as many reads as heights returned, however long the chain.
    pub fn set_change_heights(&self, below: Height, limit: usize) -> Result<Vec<Height>, StorageError> {
        let entries = self.scan(
            Cf::SetChanges,
            &keys::height_key(Height(1)),
            Some(keys::height_key(below).to_vec()),
            Some(limit),
        )?;
        entries
            .iter()
            .map(|(key, _)| {
                let bytes: [u8; 8] =
                    (**key).try_into().map_err(|_| StorageError::bad_key(Cf::SetChanges.name(), key))?;
                Ok(Height(u64::from_be_bytes(bytes)))
            })
            .collect()
    }

    fn read_at<T: BorshDeserialize>(&self, cf: Cf, height: Height) -> Result<Option<T>, StorageError> {
        self.read(cf, &keys::height_key(height))?.map(|bytes| decode_stored(cf, &bytes)).transpose()
    }

    /// Where the transaction with `hash` was included: the inclusion that applied, or else the latest rejected one.
    pub fn tx_location(&self, hash: &TxHash) -> Result<Option<TxLocation>, StorageError> {
        Ok(self.tx_index_entry(hash)?.map(|entry| entry.location))
    }

    /// The transaction at `location` and its receipt, if that block is committed and has that many transactions.
    pub fn transaction(&self, location: TxLocation) -> Result<Option<(SignedTransaction, Receipt)>, StorageError> {
        let Some(block) = self.block(location.height)? else { return Ok(None) };
        let receipts = self.receipts(location.height)?.ok_or_else(|| StorageError::Corrupt {
            table: Cf::Receipts.name(),
            detail: format!("no receipts for the committed block {}", location.height),
        })?;
        let position = usize::try_from(location.index).unwrap_or(usize::MAX);
        let Some(tx) = block.transactions.get(position) else { return Ok(None) };
        let receipt = receipts.into_iter().nth(position).ok_or_else(|| StorageError::Corrupt {
            table: Cf::Receipts.name(),
            detail: format!("block {} has no receipt for transaction {position}", location.height),
        })?;
        Ok(Some((tx.clone(), receipt)))
    }

    /// Up to `limit` transactions that concern proposal `id` (submitted, approved, revoked, cancelled, executed
    /// it, or had an event about it), in chain order.
    pub fn proposal_history(&self, id: &ProposalId, limit: usize) -> Result<Vec<TxLocation>, StorageError> {
        let prefix = keys::proposal_prefix(id);
        self.located_entries(Cf::ProposalIndex, &prefix, Height(0), limit)
    }

    /// Up to `limit` transactions that concern `account` (sent by it, naming it, or with an event about it) from
    /// height `from` on, in chain order.
    pub fn account_history(
        &self,
        account: &AccountId,
        from: Height,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StorageError> {
        let prefix = keys::account_prefix(account);
        self.located_entries(Cf::AccountIndex, &prefix, from, limit)
    }

    fn located_entries(
        &self,
        cf: Cf,
        prefix: &[u8],
        from: Height,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StorageError> {
        let start = keys::located_key(prefix, from, 0);
        let entries = self.scan(cf, &start, keys::prefix_end(prefix), Some(limit))?;
        entries
            .iter()
            .map(|(key, _)| {
                let (height, index) = keys::split_located_key(cf, key, prefix.len())?;
                Ok(TxLocation { height, index })
            })
            .collect()
    }
}

/// Refuses a value the bounded decoder could never read back.
fn storable(what: &'static str, bytes: Vec<u8>) -> Result<Vec<u8>, StorageError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(StorageError::TooLarge { what, len: bytes.len(), max: MAX_DECODE_BYTES });
    }
    Ok(bytes)
}

fn principal_account(principal: &Principal, accounts: &mut BTreeSet<AccountId>) {
    if let Principal::Account(account) = principal {
        accounts.insert(account.clone());
    }
}

/// The proposals and accounts a transaction names, whether or not it applied.
fn references_in_transaction(
    chain: &ChainIdentity,
    signed: &SignedTransaction,
    proposals: &mut BTreeSet<ProposalId>,
    accounts: &mut BTreeSet<AccountId>,
) {
    principal_account(&signed.tx.sender, accounts);
    match &signed.tx.payload {
        Payload::SubmitProposal { proposal, approvals } => {
            proposals.insert(proposal.id(chain));
            principal_account(&proposal.proposer, accounts);
            accounts.extend(approvals.iter().map(|a| a.approver.clone()));
        }
        Payload::Approve { proposal, approvals } => {
            proposals.insert(*proposal);
            accounts.extend(approvals.iter().map(|a| a.approver.clone()));
        }
        Payload::RevokeApproval { proposal }
        | Payload::CancelProposal { proposal }
        | Payload::ExecuteProposal { proposal } => {
            proposals.insert(*proposal);
        }
        Payload::RotateAccountKey { proof } => principal_account(&proof.body.subject, accounts),
        Payload::MarkKeyCompromised { account, replacement, .. } => {
            accounts.insert(account.clone());
            if let Some(proof) = replacement {
                principal_account(&proof.body.subject, accounts);
            }
        }
        Payload::AttestReadiness { .. } | Payload::AnchorAuditTrail { .. } => {}
    }
}

/// The proposals and accounts an event is about. Exhaustive, so that a new event kind must decide.
fn references_in_event(event: &Event, proposals: &mut BTreeSet<ProposalId>, accounts: &mut BTreeSet<AccountId>) {
    match event {
        Event::ProposalSubmitted { proposal, proposer, .. } => {
            proposals.insert(*proposal);
            principal_account(proposer, accounts);
        }
        Event::ProposalApproved { proposal, approver } | Event::ApprovalRevoked { proposal, approver } => {
            proposals.insert(*proposal);
            accounts.insert(approver.clone());
        }
        Event::ProposalQueued { proposal, .. }
        | Event::ProposalExecuted { proposal, .. }
        | Event::ProposalFailed { proposal, .. }
        | Event::ProposalCancelled { proposal } => {
            proposals.insert(*proposal);
        }
        Event::GovernorsReplaced { governors, .. } => accounts.extend(governors.iter().cloned()),
        Event::AccountCreated { account, .. }
        | Event::AccountFrozen { account }
        | Event::AccountUnfrozen { account }
        | Event::AccountKeyChanged { account, .. }
        | Event::RoleGranted { account, .. }
        | Event::RoleRevoked { account, .. }
        | Event::AuditTrailAnchored { account, .. } => {
            accounts.insert(account.clone());
        }
        Event::KeyCompromised { owner, .. } => principal_account(owner, accounts),
        Event::MemberAdmitted { .. }
        | Event::MemberWeightChanged { .. }
        | Event::MemberSuspended { .. }
        | Event::MemberReinstated { .. }
        | Event::MemberExpelled { .. }
        | Event::RoleDefined { .. }
        | Event::NodeAdmitted { .. }
        | Event::NodeAttested { .. }
        | Event::NodePromoted { .. }
        | Event::NodeDemoted { .. }
        | Event::NodeWeightChanged { .. }
        | Event::NodeRemoved { .. }
        | Event::NodeKeyChanged { .. }
        | Event::NodeKeyRevoked { .. }
        | Event::NodeAddressChanged { .. }
        | Event::SealerSetChanged { .. }
        | Event::PolicyRuleChanged { .. }
        | Event::ParamsChanged => {}
    }
}
