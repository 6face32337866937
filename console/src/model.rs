//! What the console's pages show about the chain, shared by the server (which builds it from a node's API) and
//! the browser (which renders it and checks proposals against it).
//!
//! A [`ChainSnapshot`] is the governance state at one committed height, as one node served it, with the status of
//! every node the console was given. The server refreshes it after each finalised block and publishes it; a
//! [`LiveEvent`] says what the block touched. Both are plain serde data (no server-only types), so they travel to
//! the browser as JSON.
//!
//! Records are the node API's own types (`api_types`: `Member`, `Node`, `Account`, `Role`, `RoleGrant`,
//! `PolicyRule`, `NodeStatus`), which hold the contracts' records flattened beside their ids, exactly as the node
//! serves them. The pure helpers answer the questions pages and authorisation ask: who governs for which member
//! ([`ChainSnapshot::governor_of`]), which roles an account holds ([`ChainSnapshot::roles_of`]), which account a key
//! belongs to ([`ChainSnapshot::account_by_key`]) and how many faulty sealers the chain tolerates
//! ([`fault_tolerance`], the contracts' own rule).

use std::collections::{BTreeMap, BTreeSet};

use governance_contracts::crypto::{Digest, PublicKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, BlockHash, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use governance_contracts::state::records::{AccountRecord, Grant, KeyRecord, KeyStatus, MemberRecord, NodeRecord};
use governance_contracts::types::{ActionKind, ChainParams, Event, NodeKind, Outcome, Principal, RoleDefinition, Rule};
use serde::{Deserialize, Serialize};

/// How many recent blocks a snapshot keeps for the block timeline.
pub const RECENT_BLOCKS: usize = 30;

/// The most faulty sealer weight a sealer set of these weights tolerates: the largest F with total ≥ 3F + 1, the
/// rule the `nodes` contract applies to every sealer change (it calls the same function).
pub fn fault_tolerance(sealer_weights: impl IntoIterator<Item = Weight>) -> Weight {
    let total = sealer_weights.into_iter().fold(0_u64, |total, weight| total.saturating_add(weight.0));
    Weight(governance_contracts::types::fault_tolerance(total))
}

/// The proposals `events` are about, each once, in order of first mention.
pub fn proposals_touched(events: &[Event]) -> Vec<ProposalId> {
    let mut seen = BTreeSet::new();
    let mut touched = Vec::new();
    for proposal in events.iter().filter_map(Event::proposal) {
        if seen.insert(*proposal) {
            touched.push(*proposal);
        }
    }
    touched
}

/// What the node API serves, as the node declares it (`api_types`): the status, and the records beside their ids.
pub use api_types::{
    Account, AccountRole, Direction as PeerDirection, FinalizedTransaction as TxOutcome, Member, Node, NodeStatus,
    PeerStatus as Peer, PolicyRule, Role, RoleGrant,
};

/// Whether one of the console's `--node` URLs answers, and how far it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// The URL.
    pub url: String,
    /// It answered its status and serves the pinned chain.
    pub ok: bool,
    /// Its committed height, when it answered.
    pub height: Option<Height>,
    /// Why it is not ok.
    pub error: Option<String>,
}

/// One committed block, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSummary {
    /// Its height.
    pub height: Height,
    /// Its hash.
    pub hash: BlockHash,
    /// Its time, ms since the Unix epoch.
    pub time_ms: u64,
    /// How many transactions it holds.
    pub tx_count: u64,
    /// The sealer that proposed it.
    pub proposer: NodeId,
}

/// One piece of equivocation evidence a node stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSummary {
    /// The height at which the sealer equivocated.
    pub height: Height,
    /// Its sequence number at that height.
    pub seq: u32,
    /// The sealer that signed two conflicting messages.
    pub offender: NodeId,
    /// `votes` or `proposals`.
    pub kind: String,
}

impl EvidenceSummary {
    /// The summary of a piece of evidence as the node serves it.
    pub fn of(entry: &api_types::EvidenceEntry) -> Self {
        let kind = match entry.conflict {
            api_types::Conflict::Votes { .. } => "votes",
            api_types::Conflict::Proposals { .. } => "proposals",
        };
        Self { height: entry.height, seq: entry.seq, offender: entry.offender.clone(), kind: kind.to_owned() }
    }
}

/// The governance state at one committed height, and the health of the nodes the console uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSnapshot {
    /// The chain the console is pinned to (from its genesis file, never from a node).
    pub chain: ChainIdentity,
    /// No node answered the last refresh: everything below is as last seen.
    pub stale: bool,
    /// Why the last refresh failed, if it did.
    pub error: Option<String>,
    /// The URL of the node this snapshot came from.
    pub source: Option<String>,
    /// The last committed height.
    pub height: Height,
    /// The last committed block's hash.
    pub last_block_hash: BlockHash,
    /// The last committed block's time, ms since the Unix epoch.
    pub last_block_time_ms: u64,
    /// The status of the node this snapshot came from.
    pub status: Option<NodeStatus>,
    /// Every `--node` URL and whether it answers.
    pub node_health: Vec<NodeHealth>,
    /// Member organisations, by id.
    pub members: Vec<Member>,
    /// Nodes, by id.
    pub nodes: Vec<Node>,
    /// Accounts, by id.
    pub accounts: Vec<Account>,
    /// Role definitions.
    pub roles: Vec<Role>,
    /// Every grant, expired or not.
    pub grants: Vec<RoleGrant>,
    /// The approval rule of each action kind.
    pub policy: Vec<PolicyRule>,
    /// The chain parameters (none until a node answered).
    pub params: Option<ChainParams>,
    /// The latest blocks, newest first (at most [`RECENT_BLOCKS`]).
    pub recent_blocks: Vec<BlockSummary>,
    /// Equivocation evidence the node holds, oldest first.
    pub evidence: Vec<EvidenceSummary>,
}

impl ChainSnapshot {
    /// The snapshot before any node has answered: nothing known, and stale.
    pub fn empty(chain: ChainIdentity) -> Self {
        Self {
            chain,
            stale: true,
            error: None,
            source: None,
            height: Height(0),
            last_block_hash: BlockHash(Digest::ZERO),
            last_block_time_ms: 0,
            status: None,
            node_health: Vec::new(),
            members: Vec::new(),
            nodes: Vec::new(),
            accounts: Vec::new(),
            roles: Vec::new(),
            grants: Vec::new(),
            policy: Vec::new(),
            params: None,
            recent_blocks: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// The height of the next block: a transaction sent now is judged there, so grants and expiries are too.
    pub fn next_height(&self) -> Height {
        self.height.plus(1)
    }

    /// The member `id`.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members.iter().find(|member| &member.id == id)
    }

    /// The display name of member `id`.
    pub fn member_name(&self, id: &MemberId) -> Option<&str> {
        self.member(id).map(|member| member.record.name.as_str())
    }

    /// The node `id`.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.iter().find(|node| &node.id == id)
    }

    /// The account `id`.
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.iter().find(|account| &account.id == id)
    }

    /// The account whose current key is `key` (a retired or revoked key belongs to no account here).
    pub fn account_by_key(&self, key: &PublicKey) -> Option<&Account> {
        self.accounts.iter().find(|account| account.record.key.as_ref() == Some(key))
    }

    /// Whether `key` is the current key of `account`.
    pub fn is_current_key(&self, account: &AccountId, key: &PublicKey) -> bool {
        self.account(account).is_some_and(|account| account.record.key.as_ref() == Some(key))
    }

    /// The member `account` governs for: the member whose governor list names it. Governors are the only record
    /// of who approves for a member; a member's standing (suspended, say) does not change who its governors are.
    pub fn governor_of(&self, account: &AccountId) -> Option<MemberId> {
        self.members.iter().find(|member| member.record.governors.iter().any(|g| g == account)).map(|m| m.id.clone())
    }

    /// The roles `account` holds for the next block (grants whose expiry is at or after [`Self::next_height`]),
    /// with the last height each holds: what the chain would check for a transaction sent now.
    pub fn roles_of(&self, account: &AccountId) -> Vec<(RoleId, Height)> {
        self.roles_at(account, self.next_height())
    }

    /// The roles `account` holds at `height`, with the last height each holds.
    pub fn roles_at(&self, account: &AccountId, height: Height) -> Vec<(RoleId, Height)> {
        self.grants
            .iter()
            .filter(|grant| &grant.account == account && grant.in_force_at(height))
            .map(|grant| (grant.role.clone(), grant.expires_at))
            .collect()
    }

    /// Whether `account` holds `role` for the next block.
    pub fn holds_role(&self, account: &AccountId, role: &RoleId) -> bool {
        self.roles_of(account).iter().any(|(held, _)| held == role)
    }

    /// Every sealer with its owner and weight, by id (the set the `nodes` contract measures).
    pub fn sealer_weights(&self) -> BTreeMap<NodeId, (MemberId, Weight)> {
        self.nodes
            .iter()
            .filter(|node| node.record.kind == NodeKind::Sealer)
            .map(|node| (node.id.clone(), (node.record.owner.clone(), node.record.weight)))
            .collect()
    }

    /// The faulty sealer weight the current sealer set tolerates.
    pub fn fault_tolerance(&self) -> Weight {
        fault_tolerance(self.sealer_weights().into_values().map(|(_, weight)| weight))
    }

    /// The approval rule for `kind`, if the policy has one (a kind without a rule is refused by the chain).
    pub fn rule(&self, kind: ActionKind) -> Option<&Rule> {
        self.policy.iter().find(|entry| entry.kind == kind).map(|entry| &entry.rule)
    }

    /// How many pieces of equivocation evidence the node holds.
    pub fn evidence_count(&self) -> usize {
        self.evidence.len()
    }
}

/// What a finalised block did, sent once the snapshot shows the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// The block's height.
    pub height: Height,
    /// The block's hash.
    pub hash: BlockHash,
    /// The block's time, ms since the Unix epoch.
    pub time_ms: u64,
    /// The proposals its transactions submitted, approved, revoked, queued, executed, failed or cancelled.
    pub proposals_touched: Vec<ProposalId>,
    /// Its transactions in order, with their outcomes.
    pub receipts: Vec<TxOutcome>,
    /// The governance events of its receipts, in order.
    pub events: Vec<Event>,
}

impl LiveEvent {
    /// How many of the block's transactions were rejected.
    pub fn rejected(&self) -> usize {
        self.receipts.iter().filter(|receipt| matches!(receipt.outcome, Outcome::Rejected { .. })).count()
    }
}

/// The review reads the chain through the snapshot the pages already hold. The snapshot carries no key registry:
/// it answers for the keys it lists (accounts' current keys, nodes' current and former keys), which is what the
/// review asks when it checks that a new key is fresh.
impl crate::wysiwys::ChainView for ChainSnapshot {
    fn height(&self) -> Height {
        self.height
    }

    fn params(&self) -> Option<ChainParams> {
        self.params.clone()
    }

    fn member(&self, id: &MemberId) -> Option<MemberRecord> {
        ChainSnapshot::member(self, id).map(|member| member.record.clone())
    }

    fn members(&self) -> Vec<(MemberId, MemberRecord)> {
        self.members.iter().map(|member| (member.id.clone(), member.record.clone())).collect()
    }

    fn account(&self, id: &AccountId) -> Option<AccountRecord> {
        ChainSnapshot::account(self, id).map(|account| account.record.clone())
    }

    fn accounts_of(&self, member: &MemberId) -> Vec<(AccountId, AccountRecord)> {
        self.accounts
            .iter()
            .filter(|account| &account.record.member == member)
            .map(|account| (account.id.clone(), account.record.clone()))
            .collect()
    }

    fn node(&self, id: &NodeId) -> Option<NodeRecord> {
        ChainSnapshot::node(self, id).map(|node| node.record.clone())
    }

    fn nodes(&self) -> Vec<(NodeId, NodeRecord)> {
        self.nodes.iter().map(|node| (node.id.clone(), node.record.clone())).collect()
    }

    fn role(&self, role: &RoleId) -> Option<RoleDefinition> {
        self.roles.iter().find(|entry| &entry.id == role).map(|entry| entry.definition.clone())
    }

    fn grant(&self, account: &AccountId, role: &RoleId) -> Option<Grant> {
        self.grants
            .iter()
            .find(|grant| &grant.account == account && &grant.role == role)
            .map(|grant| Grant { expires_at: grant.expires_at, granted_at: grant.granted_at })
    }

    fn policy_rule(&self, kind: ActionKind) -> Option<Rule> {
        self.rule(kind).cloned()
    }

    fn key(&self, key: &PublicKey) -> Option<KeyRecord> {
        if let Some(account) = self.account_by_key(key) {
            return Some(KeyRecord {
                owner: Principal::Account(account.id.clone()),
                status: KeyStatus::Current,
                registered_at: account.record.created_at,
            });
        }
        self.nodes.iter().find_map(|node| {
            let current = node.record.key.as_ref() == Some(key);
            (current || node.record.key_history.contains(key)).then(|| KeyRecord {
                owner: Principal::Node(node.id.clone()),
                // The snapshot does not say when a former key was replaced, nor whether it was revoked: the
                // review reads only whose key it is.
                status: if current { KeyStatus::Current } else { KeyStatus::Retired { at: node.record.admitted_at } },
                registered_at: node.record.admitted_at,
            })
        })
    }
}

/// A webhook as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    /// Its number.
    pub id: i64,
    /// Where notices go.
    pub url: String,
    /// The events it receives, comma-separated.
    pub events: String,
    /// The member whose approvals it watches.
    pub member: String,
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::{BoundedString, BoundedVec};
    use governance_contracts::types::{MemberStatus, RoleScope};

    use super::*;

    fn chain() -> ChainIdentity {
        ChainIdentity { chain_id: "test".parse().expect("a name"), genesis_hash: Digest::ZERO }
    }

    fn key(byte: u8) -> PublicKey {
        PublicKey::Ed25519([byte; 32])
    }

    fn id<T: std::str::FromStr>(text: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        text.parse().expect("a valid id")
    }

    fn member(name: &str, governors: &[&str]) -> Member {
        Member {
            id: id(name),
            record: MemberRecord {
                name: BoundedString::try_new(format!("{name} Ltd")).expect("short"),
                weight: Weight(1),
                status: MemberStatus::Active,
                governors: BoundedVec::try_new(governors.iter().map(|g| id(g)).collect()).expect("few"),
                admitted_at: Height(0),
            },
        }
    }

    fn account(name: &str, member: &str, key: Option<PublicKey>) -> Account {
        Account {
            id: id(name),
            record: AccountRecord { member: id(member), key, frozen: false, created_at: Height(0) },
            roles: Vec::new(),
        }
    }

    fn sealer(name: &str, owner: &str, weight: u64) -> Node {
        Node {
            id: id(name),
            record: NodeRecord {
                owner: id(owner),
                kind: if weight > 0 { NodeKind::Sealer } else { NodeKind::Observer },
                weight: Weight(weight),
                address: BoundedString::try_new("127.0.0.1:1".to_owned()).expect("short"),
                key: Some(key(9)),
                key_history: vec![key(9)],
                attested_at: None,
                admitted_at: Height(0),
            },
        }
    }

    fn grant(account: &str, role: &str, expires_at: u64) -> RoleGrant {
        let (granted_at, expires_at) = (Height(0), Height(expires_at));
        // Active at the snapshot's next height, 11.
        RoleGrant { account: id(account), role: id(role), granted_at, expires_at, active: expires_at >= Height(11) }
    }

    fn snapshot() -> ChainSnapshot {
        let mut snapshot = ChainSnapshot::empty(chain());
        snapshot.height = Height(10);
        snapshot.members = vec![member("org1", &["org1-admin"]), member("org2", &["org2-admin", "org2-deputy"])];
        snapshot.accounts = vec![
            account("org1-admin", "org1", Some(key(1))),
            account("org2-admin", "org2", Some(key(2))),
            account("org2-ops", "org2", None),
        ];
        snapshot.nodes = vec![sealer("n1", "org1", 1), sealer("n2", "org2", 1), sealer("obs1", "org1", 0)];
        snapshot.grants = vec![
            grant("org2-ops", "operator", 100),
            grant("org2-ops", "auditor", 11),
            grant("org2-ops", "compliance", 10),
            grant("org1-admin", "operator", 9),
        ];
        snapshot
    }

    /// The fault tolerance is the contracts' rule over the summed weights: 4 equal sealers tolerate 1, 3 tolerate
    /// 0, 7 tolerate 2, and unequal weights count by weight.
    #[test]
    fn fault_tolerance_follows_the_contracts_rule() {
        let equal = |n: usize| fault_tolerance(std::iter::repeat_n(Weight(1), n));
        assert_eq!(equal(4), Weight(1));
        assert_eq!(equal(3), Weight(0));
        assert_eq!(equal(1), Weight(0));
        assert_eq!(equal(7), Weight(2));
        assert_eq!(fault_tolerance([]), Weight(0));
        assert_eq!(fault_tolerance([Weight(3), Weight(1)]), Weight(1));
        assert_eq!(fault_tolerance([Weight(u64::MAX), Weight(u64::MAX)]), Weight((u64::MAX - 1) / 3));
    }

    /// The snapshot's own fault tolerance counts sealers only: two sealers of weight 1 and an observer tolerate 0.
    #[test]
    fn snapshot_fault_tolerance_counts_sealers_only() {
        let mut snapshot = snapshot();
        assert_eq!(snapshot.sealer_weights().len(), 2);
        assert_eq!(snapshot.fault_tolerance(), Weight(0));
        snapshot.nodes.push(sealer("n3", "org1", 1));
        snapshot.nodes.push(sealer("n4", "org2", 1));
        assert_eq!(snapshot.fault_tolerance(), Weight(1));
    }

    /// An account governs the member whose governor list names it, and no other; a second governor counts too.
    #[test]
    fn governor_of_reads_the_governor_lists() {
        let snapshot = snapshot();
        assert_eq!(snapshot.governor_of(&id("org1-admin")), Some(id("org1")));
        assert_eq!(snapshot.governor_of(&id("org2-deputy")), Some(id("org2")));
        assert_eq!(snapshot.governor_of(&id("org2-ops")), None);
    }

    /// Roles count only while their grant is in force: at the next block (height 11) a grant expiring at 11 holds,
    /// one expiring at 10 does not; at height 10 both hold.
    #[test]
    fn roles_of_keeps_only_grants_in_force() {
        let snapshot = snapshot();
        let roles = snapshot.roles_of(&id("org2-ops"));
        assert_eq!(roles, vec![(id("operator"), Height(100)), (id("auditor"), Height(11))]);
        assert!(snapshot.holds_role(&id("org2-ops"), &id("auditor")));
        assert!(!snapshot.holds_role(&id("org2-ops"), &id("compliance")));
        assert_eq!(snapshot.roles_at(&id("org2-ops"), Height(10)).len(), 3);
        assert!(snapshot.roles_of(&id("org1-admin")).is_empty());
        assert!(snapshot.roles_of(&id("nobody")).is_empty());
    }

    /// A key finds the account it is current for; an unknown key finds none, and a keyless account matches no key.
    #[test]
    fn account_by_key_matches_current_keys_only() {
        let snapshot = snapshot();
        assert_eq!(snapshot.account_by_key(&key(2)).map(|a| a.id.as_str()), Some("org2-admin"));
        assert!(snapshot.account_by_key(&key(7)).is_none());
        assert!(snapshot.is_current_key(&id("org1-admin"), &key(1)));
        assert!(!snapshot.is_current_key(&id("org1-admin"), &key(2)));
        assert!(!snapshot.is_current_key(&id("org2-ops"), &key(9)));
    }

    /// Member names come from the records; an unknown member has none.
    #[test]
    fn member_name_reads_the_record() {
        let snapshot = snapshot();
        assert_eq!(snapshot.member_name(&id("org2")), Some("org2 Ltd"));
        assert_eq!(snapshot.member_name(&id("org9")), None);
    }

    /// Each proposal an event names is reported once, in order of first mention; other events add nothing.
    #[test]
    fn proposals_touched_lists_each_once() {
        let (a, b) = (ProposalId(Digest::Sha256([1; 32])), ProposalId(Digest::Sha256([2; 32])));
        let events = vec![
            Event::ProposalSubmitted {
                proposal: b,
                proposer: governance_contracts::types::Principal::Account(id("x")),
                expires_at: Height(5),
            },
            Event::AccountFrozen { account: id("x") },
            Event::ProposalApproved { proposal: a, approver: id("y") },
            Event::ProposalExecuted { proposal: b, verdict: Default::default() },
        ];
        assert_eq!(proposals_touched(&events), vec![b, a]);
        assert!(proposals_touched(&[Event::ParamsChanged]).is_empty());
    }

    /// Records read from the node's JSON (id beside the flattened record) and a snapshot survives the round trip
    /// to the browser unchanged.
    #[test]
    fn records_and_snapshots_round_trip_as_json() {
        let json = r#"{"admitted_at":0,"governors":["org1-admin"],"id":"org1","name":"Aurora Bank","status":"active","weight":1}"#;
        let member: Member = serde_json::from_str(json).expect("the node's member JSON");
        assert_eq!(member.record.name.as_str(), "Aurora Bank");
        let json = r#"{"account":"a","role":"auditor","active":true,"expires_at":18446744073709551615,"granted_at":0}"#;
        let grant: RoleGrant = serde_json::from_str(json).expect("the node's grant JSON");
        assert_eq!(grant.expires_at, Height(u64::MAX));
        let json = r#"{"delegable":false,"id":"auditor","max_grant_blocks":31622400,"scope":"alliance"}"#;
        let role: Role = serde_json::from_str(json).expect("the node's role JSON");
        assert_eq!(role.definition.scope, RoleScope::Alliance);

        let mut snapshot = snapshot();
        snapshot.roles = vec![role];
        snapshot.recent_blocks = vec![BlockSummary {
            height: Height(10),
            hash: BlockHash(Digest::ZERO),
            time_ms: 5,
            tx_count: 2,
            proposer: id("n1"),
        }];
        let text = serde_json::to_string(&snapshot).expect("serialises");
        let back: ChainSnapshot = serde_json::from_str(&text).expect("deserialises");
        assert_eq!(back, snapshot);
    }
}
