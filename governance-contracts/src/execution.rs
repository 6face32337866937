//! What the node (and the console, for dry runs and verification) calls: genesis, transaction checks, block
//! application, admission and the validator set.
//!
//! [`check_transaction`] runs the very code [`apply_block`] runs, on a scratch buffer, so the mempool refuses at
//! the door exactly what execution would refuse, with the same named reason.

use crate::contracts::{self, BlockContext, Scope, accounts, anchors, committee, nodes, policy, proposals, roles};
use crate::crypto::{PublicKey, SignedDigest, Verifier};
use crate::error::{Error, Rejection, Result, reject};
use crate::ids::{Height, NodeId};
use crate::state::records::{ChainMeta, KeyStatus, MemberRecord};
use crate::state::tables::{KEYS, MEMBERS, META, NODES, PARAMS, POLICY, ROLES, TX_EXPIRY, TX_SEEN};
use crate::state::{ChangeSet, ExpiryKey, MemoryStore, Overlay, Store, StoreError, root};
use crate::types::{
    Genesis, MemberStatus, NodeKind, Outcome, Payload, Principal, Receipt, SignedTransaction, ValidatorSet,
    default_policy,
};

/// The chain's identity and last applied height.
pub fn meta(store: &dyn Store) -> Result<ChainMeta> {
    META.get(store, &())?
        .ok_or_else(|| StoreError::Corrupt { table: "meta", detail: "no genesis has been applied".into() }.into())
}

/// Why a genesis was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// A founding entry is invalid.
    #[error("invalid genesis: {0}")]
    Invalid(#[from] Rejection),
    /// A structural problem.
    #[error("invalid genesis: {0}")]
    Structure(String),
    /// The result breaks an invariant.
    #[error("invalid genesis: {0}")]
    Invariant(#[from] crate::invariants::InvariantViolation),
}

/// The state a genesis creates (height 0) and its state root.
pub struct GenesisState {
    /// Every entry to write.
    pub changes: ChangeSet,
    /// The state root at height 0.
    pub state_root: crate::crypto::Digest,
}

/// Builds the genesis state. Pure: the node writes `changes` into its empty store.
pub fn apply_genesis(genesis: &Genesis) -> Result<GenesisState, GenesisError> {
    let to_genesis_error = |e: Error| match e {
        Error::Rejected(r) => GenesisError::Invalid(r),
        Error::Storage(s) => GenesisError::Structure(s.to_string()),
    };
    genesis.params.validate().map_err(GenesisError::Structure)?;
    genesis.check_signer_text().map_err(GenesisError::Invalid)?;
    if genesis.members.is_empty() {
        return Err(GenesisError::Structure("at least one member is needed".into()));
    }
    let empty = MemoryStore::new();
    let ctx = BlockContext {
        chain: genesis.identity(),
        suite: genesis.crypto_suite,
        height: Height(0),
        sealers_at_start: Default::default(),
        verifier: Default::default(),
    };
    let mut scope = Scope::new(&empty);
    META.put(
        &mut scope.state,
        &(),
        &ChainMeta { chain: ctx.chain.clone(), crypto_suite: ctx.suite, height: Height(0) },
    );
    PARAMS.put(&mut scope.state, &(), &genesis.params);
    let build = |scope: &mut Scope<'_>| -> Result<()> {
        for (role, def) in roles::builtin_roles() {
            roles::check_definition(&def)?;
            ROLES.put(&mut scope.state, &role, &def);
        }
        for m in &genesis.members {
            contracts::committee::admit_member(scope, &ctx, &m.member, &m.name, m.weight, &m.governors)?;
        }
        for a in &genesis.accounts {
            accounts::create_account(scope, &ctx, &a.account, &a.member, &a.key)?;
        }
        for r in &genesis.roles {
            roles::define_role(scope, &r.role, &r.definition)?;
        }
        for g in &genesis.grants {
            let def = roles::check_holder(&scope.state, &g.account, &g.role)?;
            let max = ctx.height.plus(def.max_grant_blocks);
            if g.expires_at > max {
                return reject(Rejection::GrantTooLong { expires_at: g.expires_at, max });
            }
            anchors::check_grant(&scope.state, &ctx, &g.account, &g.role)?;
            crate::state::tables::GRANTS.put(
                &mut scope.state,
                &(g.account.clone(), g.role.clone()),
                &crate::state::records::Grant { expires_at: g.expires_at, granted_at: Height(0) },
            );
        }
        for n in &genesis.nodes {
            nodes::admit_node(scope, &ctx, &n.node, &n.owner, &n.key, &n.address)?;
            if n.kind == NodeKind::Sealer {
                committee::check_weight(n.weight)?;
                let mut record = nodes::node(&scope.state, &n.node)?;
                record.kind = NodeKind::Sealer;
                record.weight = n.weight;
                NODES.put(&mut scope.state, &n.node, &record);
            }
        }
        let entries = match &genesis.policy {
            Some(entries) => entries.iter().map(|e| (e.kind, e.rule.clone())).collect(),
            None => default_policy(),
        };
        for (kind, rule) in entries {
            policy::validate_rule(&scope.state, &rule)?;
            POLICY.put(&mut scope.state, &kind, &rule);
        }
        Ok(())
    };
    build(&mut scope).map_err(to_genesis_error)?;
    scope.events.clear();
    let mut changes = scope.state.into_changes();
    let mut with_root = MemoryStore::new();
    with_root.apply(changes.clone());
    crate::invariants::check(&with_root)?;
    let mut overlay = Overlay::new(&empty);
    overlay.absorb(changes.clone());
    let state_root =
        root::commit(&mut overlay, &changes, Height(0)).map_err(|e| GenesisError::Structure(e.to_string()))?;
    changes = overlay.into_changes();
    Ok(GenesisState { changes, state_root })
}

/// Applies one transaction in `scope`: all its writes, or none. Storage failures propagate; everything else
/// becomes the receipt.
pub fn apply_transaction(
    scope: &mut Scope<'_>,
    ctx: &BlockContext,
    signed: &SignedTransaction,
    size: usize,
) -> Result<Receipt, StoreError> {
    let hash = signed.tx.hash(&ctx.chain);
    let (result, parts) = {
        let mut child = Scope::new(&scope.state);
        let result = run_transaction(&mut child, ctx, signed, size);
        (result, child.into_parts())
    };
    match result {
        Ok(()) => {
            let events = parts.1.clone();
            scope.absorb(parts);
            Ok(Receipt { tx: hash, outcome: Outcome::Applied, events })
        }
        Err(Error::Rejected(reason)) => {
            Ok(Receipt { tx: hash, outcome: Outcome::Rejected { reason }, events: Vec::new() })
        }
        Err(Error::Storage(e)) => Err(e),
    }
}

/// Checks a transaction as the next block would: the same code as [`apply_block`], on a scratch buffer.
/// `size` is its canonical length in bytes.
pub fn check_transaction(store: &dyn Store, signed: &SignedTransaction, size: usize) -> Result<()> {
    let ctx = next_block_context(store)?;
    check_transaction_in(store, &ctx, signed, size)
}

/// The context of the block after the one `store` holds. A mempool builds it once per height and checks every
/// arriving transaction with [`check_transaction_in`].
pub fn next_block_context(store: &dyn Store) -> Result<BlockContext> {
    BlockContext::new(store, Height(meta(store)?.height.0.saturating_add(1)))
}

/// [`check_transaction`] with a context from [`next_block_context`] for the same state.
pub fn check_transaction_in(
    store: &dyn Store,
    ctx: &BlockContext,
    signed: &SignedTransaction,
    size: usize,
) -> Result<()> {
    let mut scope = Scope::new(store);
    begin_block(&mut scope, ctx.height)?;
    run_transaction(&mut scope, ctx, signed, size)
}

/// What happens at the start of every block before its transactions: transaction hashes and proposals whose last
/// valid height was `height - 1` are forgotten. The mempool runs it too, so both refuse with the same reason.
fn begin_block(scope: &mut Scope<'_>, height: Height) -> Result<()> {
    prune_expired_transactions(scope, height)?;
    proposals::prune_expired(scope, height)
}

fn check_sender(store: &dyn Store, signed: &SignedTransaction) -> Result<()> {
    let current = match &signed.tx.sender {
        Principal::Account(id) => {
            let account = accounts::account(store, id)?;
            if account.frozen {
                return reject(Rejection::AccountFrozen { account: id.clone() });
            }
            if committee::member(store, &account.member)?.status == MemberStatus::Expelled {
                return reject(Rejection::MemberNotActive { member: account.member });
            }
            account.key
        }
        Principal::Node(id) => nodes::node(store, id)?.key,
    };
    match current {
        None => reject(Rejection::NoCurrentKey { principal: signed.tx.sender.clone() }),
        Some(key) if key != signed.key => reject(Rejection::KeyNotCurrent { key: signed.key }),
        Some(_) => Ok(()),
    }
}

fn run_transaction(scope: &mut Scope<'_>, ctx: &BlockContext, signed: &SignedTransaction, size: usize) -> Result<()> {
    let params = contracts::params::params(&scope.state)?;
    let max = u64::from(params.max_transaction_bytes);
    let size = u64::try_from(size).unwrap_or(u64::MAX);
    if size > max {
        return reject(Rejection::TransactionTooLarge { size, max });
    }
    let tx = &signed.tx;
    if tx.valid_until < ctx.height {
        return reject(Rejection::TransactionExpired { valid_until: tx.valid_until, height: ctx.height });
    }
    let max_valid = ctx.height.plus(params.max_tx_ttl);
    if tx.valid_until > max_valid {
        return reject(Rejection::ValidityTooLong { valid_until: tx.valid_until, max: max_valid });
    }
    let hash = tx.hash(&ctx.chain);
    if TX_SEEN.contains(&scope.state, &hash)? {
        return reject(Rejection::DuplicateTransaction);
    }
    check_sender(&scope.state, signed)?;
    if !ctx.verifier.verify(&SignedDigest { key: signed.key, digest: hash.0, signature: signed.signature }) {
        return reject(Rejection::BadSignature);
    }
    anchors::check_sender(&scope.state, ctx, &tx.sender, &tx.payload)?;
    TX_SEEN.put(&mut scope.state, &hash, &tx.valid_until);
    TX_EXPIRY.put(&mut scope.state, &ExpiryKey(tx.valid_until, hash), &());
    let wrong_sender = || reject(Rejection::WrongSender { principal: tx.sender.clone() });
    match (&tx.payload, &tx.sender) {
        (Payload::SubmitProposal { proposal, approvals }, sender) => {
            proposals::submit(scope, ctx, sender, proposal, approvals)
        }
        (Payload::Approve { proposal, approvals }, _) => proposals::approve(scope, ctx, proposal, approvals),
        (Payload::RevokeApproval { proposal }, Principal::Account(sender)) => {
            proposals::revoke_approval(scope, ctx, sender, proposal)
        }
        (Payload::CancelProposal { proposal }, Principal::Account(sender)) => {
            proposals::cancel(scope, ctx, sender, proposal)
        }
        (Payload::ExecuteProposal { proposal }, _) => proposals::execute(scope, ctx, proposal),
        (Payload::RotateAccountKey { proof }, Principal::Account(sender)) => {
            accounts::rotate_key(scope, ctx, sender, proof)
        }
        (Payload::MarkKeyCompromised { account, key, replacement }, Principal::Account(sender)) => {
            accounts::mark_compromised(scope, ctx, sender, account, key, replacement.as_ref())
        }
        (Payload::AttestReadiness { synced_height }, Principal::Node(node)) => {
            nodes::attest_readiness(scope, ctx, node, *synced_height)
        }
        (Payload::AnchorAuditTrail { seq, head }, Principal::Account(sender)) => {
            anchors::anchor(scope, ctx, sender, *seq, head)
        }
        _ => wrong_sender(),
    }
}

/// Every signature `signed` carries that execution verifies through [`BlockContext::verifier`]: the
/// transaction's own, and the approvals of a `SubmitProposal` or `Approve`. A node verifies these ahead, on
/// every core, so that executing the transaction finds them verified.
pub fn signatures(chain: &crate::domain::ChainIdentity, signed: &SignedTransaction) -> Vec<SignedDigest> {
    let mut out = vec![SignedDigest { key: signed.key, digest: signed.tx.hash(chain).0, signature: signed.signature }];
    let (digest, approvals) = match &signed.tx.payload {
        Payload::SubmitProposal { proposal, approvals } => (proposal.id(chain).0, approvals),
        Payload::Approve { proposal, approvals } => (proposal.0, approvals),
        _ => return out,
    };
    out.extend(approvals.iter().map(|a| SignedDigest { key: a.key, digest, signature: a.signature }));
    out
}

/// Why a block could not be applied (never a transaction's fault: those become receipts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The block is not the next one.
    #[error("block height {got} does not follow the applied height {applied}")]
    WrongHeight {
        /// The last applied height.
        applied: Height,
        /// The block's height.
        got: Height,
    },
    /// More transactions than the chain allows.
    #[error("{count} transactions exceed the block limit {max}")]
    TooManyTransactions {
        /// Transactions in the block.
        count: usize,
        /// The limit.
        max: u32,
    },
    /// The transactions' bytes exceed the chain's block byte limit.
    #[error("transactions of {bytes} bytes exceed the block limit of {max} bytes")]
    TooManyBytes {
        /// The transactions' canonical bytes, summed.
        bytes: u64,
        /// The limit (`max_block_bytes`).
        max: u32,
    },
    /// Storage failed: fatal.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// The result of applying a block.
pub struct BlockOutcome {
    /// Every write, including the tree's: the node commits them in one atomic batch with the block.
    pub changes: ChangeSet,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// The state root after the block.
    pub state_root: crate::crypto::Digest,
    /// The validator set derived from the state after the block (it certifies the next height).
    pub next_validator_set: ValidatorSet,
}

/// The bytes a block's transactions count against `max_block_bytes`: their canonical `sizes`, summed.
pub fn block_bytes(sizes: impl IntoIterator<Item = usize>) -> u64 {
    sizes.into_iter().map(|size| u64::try_from(size).unwrap_or(u64::MAX)).fold(0, u64::saturating_add)
}

/// Applies the block at `height` (the next one) with `transactions` (each with its canonical size).
pub fn apply_block(
    store: &dyn Store,
    height: Height,
    transactions: &[(SignedTransaction, usize)],
) -> Result<BlockOutcome, BlockError> {
    let transactions: Vec<(&SignedTransaction, usize)> = transactions.iter().map(|(tx, size)| (tx, *size)).collect();
    apply_block_with(store, height, &transactions, &Verifier::default())
}

/// [`apply_block`] of borrowed transactions, verifying signatures through `verifier` (a node's set of already
/// verified signatures).
pub fn apply_block_with(
    store: &dyn Store,
    height: Height,
    transactions: &[(&SignedTransaction, usize)],
    verifier: &Verifier,
) -> Result<BlockOutcome, BlockError> {
    let mut block = BlockRun::begin(store, height, verifier)?;
    let max = block.params.max_block_transactions;
    if transactions.len() > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(BlockError::TooManyTransactions { count: transactions.len(), max });
    }
    let bytes = block_bytes(transactions.iter().map(|(_, size)| *size));
    if bytes > u64::from(block.params.max_block_bytes) {
        return Err(BlockError::TooManyBytes { bytes, max: block.params.max_block_bytes });
    }
    let mut receipts = Vec::with_capacity(transactions.len());
    for (signed, size) in transactions {
        receipts.push(apply_transaction(&mut block.scope, &block.ctx, signed, *size)?);
    }
    block.finish(receipts)
}

/// A block built in one pass, and what applying it does.
pub struct BuiltBlock {
    /// The transactions it includes, each with its canonical size, in order.
    pub transactions: Vec<(SignedTransaction, usize)>,
    /// What applying them does: exactly what [`apply_block`] of the same transactions returns.
    pub outcome: BlockOutcome,
}

/// Builds the block at `height` (the next one) in one execution pass: `candidates` (each with its canonical size)
/// are applied in order over the state the transactions before them leave. One that applies is included; one
/// refused only because of a transaction before it in the block (it passes [`check_transaction_in`] over the
/// committed state) is included with its rejection, as a receipt for its sender; one refused at the door, or that
/// would take the block past its transaction or byte limit, is left out. A refused transaction leaves no trace,
/// so [`apply_block`] of the included list reproduces the outcome exactly.
pub fn build_block<'a>(
    store: &dyn Store,
    height: Height,
    candidates: impl IntoIterator<Item = (&'a SignedTransaction, usize)>,
    verifier: &Verifier,
) -> Result<BuiltBlock, BlockError> {
    let mut block = BlockRun::begin(store, height, verifier)?;
    let max = usize::try_from(block.params.max_block_transactions).unwrap_or(usize::MAX);
    let max_bytes = u64::from(block.params.max_block_bytes);
    let mut transactions = Vec::new();
    let mut receipts = Vec::new();
    let mut bytes = 0u64;
    for (signed, size) in candidates {
        if transactions.len() >= max {
            break;
        }
        let after = bytes.saturating_add(u64::try_from(size).unwrap_or(u64::MAX));
        // A transaction that would take the block past its byte limit waits; a smaller one may still fit.
        if after > max_bytes {
            continue;
        }
        let receipt = apply_transaction(&mut block.scope, &block.ctx, signed, size)?;
        // Refused only because of a transaction before it in this block (it passes at the door, over the committed
        // state): it is included with its rejection, so its sender gets a receipt and every mempool drops it.
        let include = receipt.outcome == Outcome::Applied
            || match check_transaction_in(store, &block.ctx, signed, size) {
                Ok(()) => true,
                Err(Error::Rejected(_)) => false,
                Err(Error::Storage(e)) => return Err(BlockError::Storage(e)),
            };
        if include {
            transactions.push((signed.clone(), size));
            receipts.push(receipt);
            bytes = after;
        }
    }
    let outcome = block.finish(receipts)?;
    Ok(BuiltBlock { transactions, outcome })
}

/// A block being applied: its context and the writes so far.
struct BlockRun<'s> {
    store: &'s dyn Store,
    height: Height,
    params: crate::types::ChainParams,
    ctx: BlockContext,
    scope: Scope<'s>,
}

impl<'s> BlockRun<'s> {
    /// Starts block `height` (the next one) over `store`: the chain's height moves, then [`begin_block`].
    fn begin(store: &'s dyn Store, height: Height, verifier: &Verifier) -> Result<Self, BlockError> {
        let mut chain_meta = meta(store).map_err(block_storage)?;
        if height.0 != chain_meta.height.0.saturating_add(1) {
            return Err(BlockError::WrongHeight { applied: chain_meta.height, got: height });
        }
        let params = contracts::params::params(store).map_err(block_storage)?;
        let mut ctx = BlockContext::new(store, height).map_err(block_storage)?;
        ctx.verifier = verifier.clone();
        let mut scope = Scope::new(store);
        chain_meta.height = height;
        META.put(&mut scope.state, &(), &chain_meta);
        begin_block(&mut scope, height).map_err(block_storage)?;
        Ok(Self { store, height, params, ctx, scope })
    }

    /// The outcome: the next validator set, the state root and every write.
    fn finish(self, receipts: Vec<Receipt>) -> Result<BlockOutcome, BlockError> {
        let next_validator_set = nodes::validator_set(&self.scope.state).map_err(block_storage)?;
        let mut overlay = self.scope.state;
        // A broken invariant is a bug, never an input's fault: debug builds (every test, the simulation) stop at
        // the first block that breaks one.
        #[cfg(debug_assertions)]
        if let Err(violation) = crate::invariants::check(&overlay) {
            panic!("block {} breaks an invariant: {violation}", self.height);
        }
        let state_changes = effective_changes(self.store, overlay.changes())?;
        let state_root = root::commit(&mut overlay, &state_changes, self.height)?;
        Ok(BlockOutcome { changes: overlay.into_changes(), receipts, state_root, next_validator_set })
    }
}

/// A storage failure while applying a block (a rejection there means the stored state is corrupt).
fn block_storage(e: Error) -> BlockError {
    match e {
        Error::Storage(s) => BlockError::Storage(s),
        Error::Rejected(r) => BlockError::Storage(StoreError::Corrupt { table: "meta", detail: r.to_string() }),
    }
}

/// Drops deletes of keys the base never had (created and deleted within the block), which the tree would refuse.
fn effective_changes(base: &dyn Store, changes: &ChangeSet) -> Result<ChangeSet, StoreError> {
    let mut out = ChangeSet::new();
    for ((table, key), value) in changes {
        if value.is_none() && base.get(*table, key)?.is_none() {
            continue;
        }
        out.insert((*table, key.clone()), value.clone());
    }
    Ok(out)
}

fn prune_expired_transactions(scope: &mut Scope<'_>, height: Height) -> Result<(), StoreError> {
    let Some(last) = height.0.checked_sub(1) else { return Ok(()) };
    for (key, ()) in TX_EXPIRY.scan(&scope.state, &last.to_be_bytes())? {
        TX_SEEN.delete(&mut scope.state, &key.1);
        TX_EXPIRY.delete(&mut scope.state, &key);
    }
    Ok(())
}

/// Simulates a proposal as if applied in the next block with all approvals in place (see
/// [`proposals::dry_run`]).
pub fn dry_run(store: &dyn Store, proposal: &crate::types::Proposal) -> Result<proposals::DryRun> {
    let height = Height(meta(store)?.height.0.saturating_add(1));
    let ctx = BlockContext::new(store, height)?;
    proposals::dry_run(store, &ctx, proposal)
}

/// Why a peer is refused at the handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The key was never registered to a node.
    #[error("unknown key")]
    UnknownKey,
    /// The key belongs to an account, not a node.
    #[error("the key belongs to an account, not a node")]
    NotANodeKey,
    /// The key was rotated away.
    #[error("the key was retired at height {0}")]
    Retired(Height),
    /// The key was revoked.
    #[error("the key was revoked at height {0}")]
    Revoked(Height),
    /// The node was removed.
    #[error("node {0} was removed")]
    Removed(NodeId),
    /// The node's owner was expelled.
    #[error("node {0}'s owner was expelled")]
    OwnerExpelled(NodeId),
}

/// Whether a peer presenting `key` may connect: the key is the current key of an admitted node whose owner is
/// not expelled. Returns the node's id.
pub fn may_connect(store: &dyn Store, key: &PublicKey) -> Result<Result<NodeId, Refusal>, StoreError> {
    let Some(record) = KEYS.get(store, key)? else { return Ok(Err(Refusal::UnknownKey)) };
    let Principal::Node(node) = record.owner else { return Ok(Err(Refusal::NotANodeKey)) };
    let node_record = NODES.get(store, &node)?;
    match record.status {
        // A node's key also retires when the node is removed (by itself or with its expelled owner): say so.
        KeyStatus::Retired { .. } if node_record.is_none() => return Ok(Err(Refusal::Removed(node))),
        KeyStatus::Retired { at } => return Ok(Err(Refusal::Retired(at))),
        KeyStatus::Revoked { at } => return Ok(Err(Refusal::Revoked(at))),
        KeyStatus::Current => {}
    }
    let Some(node_record) = node_record else { return Ok(Err(Refusal::Removed(node))) };
    let owner: Option<MemberRecord> = MEMBERS.get(store, &node_record.owner)?;
    if owner.is_none_or(|m| m.status == MemberStatus::Expelled) {
        return Ok(Err(Refusal::OwnerExpelled(node)));
    }
    Ok(Ok(node))
}

/// The validator set derived from `store` (for the height after the one applied).
pub fn validator_set(store: &dyn Store) -> Result<ValidatorSet, StoreError> {
    nodes::validator_set(store).map_err(|e| match e {
        Error::Storage(s) => s,
        Error::Rejected(r) => StoreError::Corrupt { table: "nodes", detail: r.to_string() },
    })
}

/// The tally of a recorded proposal's requirements as if the next block were applied now (see
/// [`proposals::tally`]); `None` when the proposal is not in state.
pub fn tally(store: &dyn Store, id: &crate::ids::ProposalId) -> Result<Option<Vec<proposals::RequirementTally>>> {
    let Some(record) = crate::state::tables::PROPOSALS.get(store, id)? else { return Ok(None) };
    let height = Height(meta(store)?.height.0.saturating_add(1));
    let ctx = BlockContext::new(store, height)?;
    proposals::tally(store, &ctx, &record).map(Some)
}
