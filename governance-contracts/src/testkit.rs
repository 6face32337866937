//! Deterministic fixtures for tests, simulations and benchmarks: a genesis of `n` members with derived keys, and a
//! chain that applies blocks to a [`MemoryStore`] and checks every invariant after each one.
//!
//! Keys here are derived from their names, so anyone can recompute them: never use them for a real chain.

use crate::codec::{BoundedString, BoundedVec, Name, encode};
use crate::crypto::{CryptoSuite, Digest, PublicKey, SecretKey};
use crate::domain::ChainIdentity;
use crate::execution::{self, BlockOutcome};
use crate::ids::{AccountId, BlockHash, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use crate::state::MemoryStore;
use crate::types::block::{BlockHeader, ValidatorSet, receipts_root, transactions_root};
use crate::types::{
    Action, Approval, ChainParams, Genesis, GenesisAccount, GenesisGrant, GenesisMember, GenesisNode, KeyProof,
    KeyProofBody, NewAccount, NodeKind, Payload, Principal, Proposal, Receipt, SignedTransaction, Transaction,
};

/// The secret key derived from `label` (SHA-256 of the label as seed).
pub fn secret(label: &str) -> SecretKey {
    SecretKey::from_seed(*Digest::sha256(&[b"synod-testkit", label.as_bytes()]).as_bytes())
}

/// The public key derived from `label`.
pub fn public(label: &str) -> PublicKey {
    secret(label).public_key()
}

/// An id from text known to be valid.
pub fn name(text: &str) -> Name {
    Name::new(text).expect("testkit names are valid")
}

/// Account id `text`.
pub fn account(text: &str) -> AccountId {
    AccountId(name(text))
}

/// Member id `text`.
pub fn member(text: &str) -> MemberId {
    MemberId(name(text))
}

/// Node id `text`.
pub fn node(text: &str) -> NodeId {
    NodeId(name(text))
}

/// Node ids of mixed lengths and characters, as alliances name their machines: `count` distinct ids, each valid
/// under the [`Name`] grammar (1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit), the first 24 picked
/// by hand (one character to sixty-four, digits first, every separator), the rest `node.{i}`. Their canonical
/// encodings, length first, sort differently from the ids, so a fixture built on them catches code that takes a
/// table's key order for id order (`n0..n3` never does).
pub fn mixed_node_ids(count: usize) -> Vec<String> {
    (0..count).map(mixed_node_id).collect()
}

/// The `index`th id of [`mixed_node_ids`].
pub fn mixed_node_id(index: usize) -> String {
    const PICKED: [&str; 24] = [
        "org-a-sealer-1",
        "n7",
        "beijing-2",
        "n10",
        "n2",
        "z",
        "sealer-with-a-much-longer-id-0017",
        "0",
        "a-b",
        "a.b",
        "a_b",
        "9lives",
        "n",
        "n100",
        "org-a-sealer-10",
        "org-b.node_3",
        "shanghai.dc-1",
        "7",
        "x-1.y_2",
        "beijing-10",
        "aa",
        "hong-kong.exchange_primary.sealer-000000000000000000000000000001",
        "zz",
        "n1",
    ];
    PICKED.get(index).map_or_else(|| format!("node.{index}"), |id| (*id).to_owned())
}

/// A genesis with `members` members `m0..`, each of weight 1 with governor `m{i}-gov`, operator account
/// `m{i}-ops` (role `operator`) and sealer `n{i}` of weight 1; plus `m0-compliance` (role `compliance`) and
/// `m0-auditor` (role `auditor`). Every key is derived from its owner's id.
pub fn genesis(members: usize) -> Genesis {
    let ids: Vec<String> = (0..members).map(|i| format!("n{i}")).collect();
    genesis_with_node_ids(&ids)
}

/// [`genesis`] with one member per id of `node_ids`, member `m{i}` owning sealer `node_ids[i]` (whose key is
/// derived from that id).
pub fn genesis_with_node_ids(node_ids: &[String]) -> Genesis {
    let members = node_ids.len();
    let mut m = Vec::new();
    let mut accounts = Vec::new();
    let mut nodes = Vec::new();
    let mut grants = Vec::new();
    let far = Height(1_000_000);
    for i in 0..members {
        let id = format!("m{i}");
        let gov = format!("{id}-gov");
        m.push(GenesisMember {
            member: member(&id),
            name: BoundedString::try_new(format!("Member {i}")).expect("short"),
            weight: Weight(1),
            governors: BoundedVec::try_new(vec![NewAccount { account: account(&gov), key: public(&gov) }])
                .expect("one governor"),
        });
        let ops = format!("{id}-ops");
        accounts.push(GenesisAccount { account: account(&ops), member: member(&id), key: public(&ops) });
        grants.push(GenesisGrant { account: account(&ops), role: RoleId::operator(), expires_at: far });
        let n = node_ids.get(i).map_or("", String::as_str);
        nodes.push(GenesisNode {
            node: node(n),
            owner: member(&id),
            key: public(n),
            address: BoundedString::try_new(format!("127.0.0.1:{}", 26_000usize.saturating_add(i))).expect("short"),
            kind: NodeKind::Sealer,
            weight: Weight(1),
        });
    }
    for (label, role) in [("m0-compliance", RoleId::compliance()), ("m0-auditor", RoleId::auditor())] {
        accounts.push(GenesisAccount { account: account(label), member: member("m0"), key: public(label) });
        grants.push(GenesisGrant { account: account(label), role, expires_at: far });
    }
    Genesis {
        chain_id: name("synod-test"),
        crypto_suite: CryptoSuite::Ed25519Sha256,
        genesis_time_ms: 1_767_225_600_000,
        params: ChainParams { max_block_transactions: 20_000, ..ChainParams::default() },
        members: BoundedVec::try_new(m).expect("within bound"),
        accounts: BoundedVec::try_new(accounts).expect("within bound"),
        nodes: BoundedVec::try_new(nodes).expect("within bound"),
        roles: BoundedVec::new(),
        grants: BoundedVec::try_new(grants).expect("within bound"),
        policy: None,
    }
}

/// A chain in memory: applies blocks, checks invariants after each, remembers receipts.
pub struct TestChain {
    /// The state.
    pub store: MemoryStore,
    /// The genesis it started from.
    pub genesis: Genesis,
    /// Its identity.
    pub chain: ChainIdentity,
    /// The last applied height.
    pub height: Height,
    salt: u64,
}

impl TestChain {
    /// A chain started from `genesis`.
    pub fn new(genesis: Genesis) -> Self {
        let state = execution::apply_genesis(&genesis).expect("testkit genesis is valid");
        let mut store = MemoryStore::new();
        store.apply(state.changes);
        Self { store, chain: genesis.identity(), genesis, height: Height(0), salt: 0 }
    }

    /// A chain from [`genesis`]`(members)`.
    pub fn with_members(members: usize) -> Self {
        Self::new(genesis(members))
    }

    /// Signs `payload` as `sender` with the key derived from `key_label`, valid for ten blocks.
    pub fn tx_with_key(&self, sender: Principal, key_label: &str, payload: Payload) -> SignedTransaction {
        let tx = Transaction { sender, valid_until: self.height.plus(10), payload };
        tx.sign(&self.chain, &secret(key_label))
    }

    /// Signs `payload` as account `sender` with its derived key.
    pub fn account_tx(&self, sender: &str, payload: Payload) -> SignedTransaction {
        self.tx_with_key(Principal::Account(account(sender)), sender, payload)
    }

    /// Signs `payload` as node `sender` with its derived key.
    pub fn node_tx(&self, sender: &str, payload: Payload) -> SignedTransaction {
        self.tx_with_key(Principal::Node(node(sender)), sender, payload)
    }

    /// Applies the next block, commits it, checks every invariant, and returns the outcome.
    pub fn apply_block(&mut self, txs: Vec<SignedTransaction>) -> BlockOutcome {
        let height = self.height.plus(1);
        let sized: Vec<(SignedTransaction, usize)> = txs
            .into_iter()
            .map(|tx| {
                let size = encode(&tx).len();
                (tx, size)
            })
            .collect();
        let outcome = execution::apply_block(&self.store, height, &sized).expect("block applies");
        self.store.apply(outcome.changes.clone());
        self.height = height;
        if let Err(violation) = crate::invariants::check(&self.store) {
            panic!("invariant broken at height {height}: {violation}");
        }
        outcome
    }

    /// Applies one transaction in its own block and returns its receipt.
    pub fn apply(&mut self, tx: SignedTransaction) -> Receipt {
        self.apply_block(vec![tx]).receipts.into_iter().next().expect("one receipt per transaction")
    }

    /// A proposal by `proposer` with `actions`, expiring in 1,000 blocks, with a fresh salt.
    pub fn proposal(&mut self, proposer: Principal, actions: Vec<Action>) -> Proposal {
        self.salt = self.salt.saturating_add(1);
        Proposal {
            proposer,
            title: BoundedString::try_new("test proposal").expect("short"),
            description: BoundedString::default(),
            actions: BoundedVec::try_new(actions).expect("within bound"),
            expires_at: self.height.plus(1_000),
            salt: self.salt,
        }
    }

    /// `account`'s approval of `proposal`, signed with the key derived from `key_label`.
    pub fn approval_with_key(&self, proposal: &Proposal, approver: &str, key_label: &str) -> Approval {
        proposal.approve(&self.chain, account(approver), &secret(key_label))
    }

    /// `approver`'s approval with its derived key.
    pub fn approval(&self, proposal: &Proposal, approver: &str) -> Approval {
        self.approval_with_key(proposal, approver, approver)
    }

    /// Submits a proposal of `actions` by account `proposer` with approvals from `approvers`; returns its id and
    /// the receipt.
    pub fn propose(&mut self, proposer: &str, actions: Vec<Action>, approvers: &[&str]) -> (ProposalId, Receipt) {
        let proposal = self.proposal(Principal::Account(account(proposer)), actions);
        let approvals: Vec<Approval> = approvers.iter().map(|a| self.approval(&proposal, a)).collect();
        let id = proposal.id(&self.chain);
        let payload =
            Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(approvals).expect("within bound") };
        let tx = self.account_tx(proposer, payload);
        (id, self.apply(tx))
    }

    /// A key-possession proof for `subject` moving from `old` to the key derived from `new_label`.
    pub fn key_proof(&self, subject: Principal, old: Option<PublicKey>, new_label: &str) -> KeyProof {
        KeyProofBody { subject, old_key: old, new_key: public(new_label), expires_at: self.height.plus(50) }
            .sign(&self.chain, &secret(new_label))
    }

    /// The governors of members `0..n` (`m{i}-gov`).
    pub fn governors(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}-gov")).collect()
    }

    /// Every receipt's events must include `ProposalExecuted`: convenience for tests.
    pub fn executed(receipt: &Receipt) -> bool {
        receipt.events.iter().any(|e| matches!(e, crate::types::Event::ProposalExecuted { .. }))
    }
}

/// The header sealer `n0` gives the block at `height` after `parent` holding `transactions`, which executed to
/// `outcome` under the validator set `set`, at `time_ms`.
pub fn block_header(
    chain: &ChainIdentity,
    height: Height,
    parent: BlockHash,
    transactions: &[SignedTransaction],
    outcome: &BlockOutcome,
    set: &ValidatorSet,
    time_ms: u64,
) -> BlockHeader {
    BlockHeader {
        height,
        parent,
        state_root: outcome.state_root,
        transactions_root: transactions_root(chain, transactions),
        receipts_root: receipts_root(chain, &outcome.receipts),
        validator_set_hash: set.hash(chain),
        next_validator_set_hash: outcome.next_validator_set.hash(chain),
        proposer: node("n0"),
        time_ms,
    }
}
