//! The governance state as the API serves it: members, nodes, accounts, roles, the policy, proposals and the
//! proposal dry run. Each record is the contracts' own type flattened beside its id
//! (`{"id": "org1", "name": ..., "weight": ...}`); a list is `{"<things>": [...]}`, in its table's order (see
//! [`crate::query`]), with `next_after` when a further page may follow.

use std::fmt;
use std::str::FromStr;

use governance_contracts::contracts::proposals::{DryRun as ContractDryRun, RequirementTally};
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, TxHash};
use governance_contracts::state::records::{AccountRecord, MemberRecord, NodeRecord, ProposalRecord, ProposalStatus};
use governance_contracts::types::{ActionKind, Approval, Event, Proposal, Receipt, RoleDefinition, Rule, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema;

/// A page of a list keyed by id: its items, and the `after` of the next page when one may follow. A client reads
/// a whole list by asking again with `after` until there is no next page.
pub trait Listing {
    /// One item of the list.
    type Item;

    /// The items of this page and the `after` of the next.
    fn into_page(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! listing {
    ($list:ty, $item:ty, $field:ident) => {
        impl Listing for $list {
            type Item = $item;

            fn into_page(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.next_after)
            }
        }
    };
}

listing!(MemberList, Member, members);
listing!(NodeList, Node, nodes);
listing!(AccountList, Account, accounts);
listing!(ProposalList, ProposalEntry, proposals);

/// A member organisation with its id (`GET /v1/members/{id}`, and each item of `GET /v1/members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// Its id.
    #[schema(value_type = schema::Name)]
    pub id: MemberId,
    /// Its record (the contracts' `MemberRecord`): name, weight, status, governors, admission height.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: MemberRecord,
}

/// `GET /v1/members`: a page of member organisations, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// The members of this page.
    pub members: Vec<Member>,
    /// The `after` of the next page, when one may follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A node with its id (`GET /v1/nodes/{id}`, and each item of `GET /v1/nodes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Node {
    /// Its id.
    #[schema(value_type = schema::Name)]
    pub id: NodeId,
    /// Its record (the contracts' `NodeRecord`): owner, kind, weight, address, key and key history, readiness,
    /// admission height.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: NodeRecord,
}

/// `GET /v1/nodes`: a page of nodes, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeList {
    /// The nodes of this page.
    pub nodes: Vec<Node>,
    /// The `after` of the next page, when one may follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A role grant as an account lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountRole {
    /// The role.
    #[schema(value_type = schema::Name)]
    pub role: RoleId,
    /// When it was granted.
    #[schema(value_type = schema::Height)]
    pub granted_at: Height,
    /// The last height at which it holds.
    #[schema(value_type = schema::Height)]
    pub expires_at: Height,
    /// Whether it holds at the next height (the height admission judges against).
    pub active: bool,
}

/// An account with its id and its grants (each item of `GET /v1/accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// Its id.
    #[schema(value_type = schema::Name)]
    pub id: AccountId,
    /// Its record (the contracts' `AccountRecord`): member, current key, frozen, creation height.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: AccountRecord,
    /// Its grants, expired or not.
    pub roles: Vec<AccountRole>,
}

/// Where a transaction is: the block's height and its index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxLocation {
    /// The block's height.
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// The transaction's index in the block.
    pub index: u32,
}

/// `GET /v1/accounts/{id}`: one account with its grants and its latest transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountDetail {
    /// The account and its grants.
    #[serde(flatten)]
    pub account: Account,
    /// The transactions that name it, latest first (at most [`ACCOUNT_HISTORY`](crate::ACCOUNT_HISTORY)).
    pub history: Vec<TxLocation>,
}

/// `GET /v1/accounts`: a page of accounts, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountList {
    /// The accounts of this page.
    pub accounts: Vec<Account>,
    /// The `after` of the next page, when one may follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A role's definition with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// The role.
    #[schema(value_type = schema::Name)]
    pub id: RoleId,
    /// Its definition (the contracts' `RoleDefinition`): scope, whether compliance may delegate it, longest grant.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub definition: RoleDefinition,
}

/// One grant of a role to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    /// The holder.
    #[schema(value_type = schema::Name)]
    pub account: AccountId,
    /// The role.
    #[schema(value_type = schema::Name)]
    pub role: RoleId,
    /// When it was granted.
    #[schema(value_type = schema::Height)]
    pub granted_at: Height,
    /// The last height at which it holds.
    #[schema(value_type = schema::Height)]
    pub expires_at: Height,
    /// Whether it holds at the next height (the height admission judges against).
    pub active: bool,
}

impl RoleGrant {
    /// Whether the grant holds at `height` (up to and including its expiry height, as the `roles` contract says).
    pub fn in_force_at(&self, height: Height) -> bool {
        self.expires_at >= height
    }
}

/// `GET /v1/roles`: every role definition and every grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RolesAnswer {
    /// The definitions, by id.
    pub roles: Vec<Role>,
    /// Every grant, expired or not, by account and role.
    pub grants: Vec<RoleGrant>,
}

/// The approval rule of one action kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRule {
    /// The action kind (`admit_member`, `grant_role`, ...).
    #[schema(value_type = String, example = "admit_member")]
    pub kind: ActionKind,
    /// What approval it needs (the contracts' `Rule`).
    #[schema(value_type = Object)]
    pub rule: Rule,
}

/// `GET /v1/policy`: the approval rule of each action kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyAnswer {
    /// One rule per action kind.
    pub rules: Vec<PolicyRule>,
}

/// The name of a proposal's lifecycle state: the one vocabulary of the API (`GET /v1/proposals?status=`), the CLI
/// and the console (which shows each in the user's language). One per variant of the contracts' `ProposalStatus`,
/// and `expired` for a pending proposal whose expiry has passed. A transaction's outcome is a different thing with
/// its own words (`applied` or `rejected`, the receipt's): a proposal is never "applied".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatusName {
    /// Collecting approvals.
    Pending,
    /// Approved; waits for its delay, then for an `ExecuteProposal`.
    Queued,
    /// Its actions applied.
    Executed,
    /// Approved but could not apply; nothing of it applied.
    Failed,
    /// Still pending when its expiry passed: it can no longer be approved, and leaves state.
    Expired,
    /// Cancelled.
    Cancelled,
}

impl ProposalStatusName {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 6] =
        [Self::Pending, Self::Queued, Self::Executed, Self::Failed, Self::Expired, Self::Cancelled];

    /// The status's name (`pending`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Executed => "executed",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Every status's name, in lifecycle order.
    pub fn names() -> [&'static str; 6] {
        Self::ALL.map(Self::as_str)
    }

    /// The name of a recorded proposal's status, read without the chain's height (a pending proposal past its
    /// expiry reads `pending` here; [`Self::at`] tells it apart).
    pub fn of(status: &ProposalStatus) -> Self {
        match status {
            ProposalStatus::Pending => Self::Pending,
            ProposalStatus::Queued { .. } => Self::Queued,
            ProposalStatus::Executed { .. } => Self::Executed,
            ProposalStatus::Failed { .. } => Self::Failed,
            ProposalStatus::Cancelled { .. } => Self::Cancelled,
        }
    }

    /// The name of a proposal's status once the chain has finalised `height`: a pending proposal whose expiry is at
    /// or below it is `expired` (no later block can approve it).
    pub fn at(status: &ProposalStatus, expires_at: Height, height: Height) -> Self {
        match status {
            ProposalStatus::Pending if expires_at <= height => Self::Expired,
            other => Self::of(other),
        }
    }

    /// Whether a proposal in this state is closed: nothing can change it any more.
    pub fn is_closed(self) -> bool {
        !matches!(self, Self::Pending | Self::Queued)
    }
}

impl fmt::Display for ProposalStatusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no proposal status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a proposal status: use one of {}", self.0, ProposalStatusName::names().join(", "))
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for ProposalStatusName {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == text).ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// A proposal still in state, with its id (each item of `GET /v1/proposals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalEntry {
    /// Its id (its approval digest).
    #[schema(value_type = schema::Sha256)]
    pub id: ProposalId,
    /// Its record (the contracts' `ProposalRecord`): the proposal as signed, its submission height, `status`
    /// (tagged with a [`ProposalStatusName`]) and approvals.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: ProposalRecord,
}

/// `GET /v1/proposals`: a page of the proposals still in state (until their expiry), by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalList {
    /// The proposals of this page.
    pub proposals: Vec<ProposalEntry>,
    /// The `after` of the next page, when one may follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// One transaction about a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalReceipt {
    /// The block that included it.
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// Its index in that block.
    pub index: u32,
    /// Its hash.
    #[schema(value_type = schema::Sha256)]
    pub hash: TxHash,
    /// Its receipt (the contracts' `Receipt`: `tx`, `outcome`, `events`).
    #[schema(value_type = Object)]
    pub receipt: Receipt,
}

/// `GET /v1/proposals/{id}`: one proposal: its record while it is in state, every transaction about it, and the
/// tally of its requirements. After its expiry the record is pruned from state (`pruned`, `status` null) and its
/// transactions remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalDetail {
    /// Its id.
    #[schema(value_type = schema::Sha256)]
    pub id: ProposalId,
    /// The proposal as signed (the contracts' `Proposal`); absent once pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub proposal: Option<Proposal>,
    /// The height of the block that included its submission; absent once pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::Height>)]
    pub submitted_at: Option<Height>,
    /// Its lifecycle state (the contracts' `ProposalStatus`, tagged `status`); null once pruned.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub status: Option<ProposalStatus>,
    /// Its status's name at the height the node answered at (`expired` for a pending proposal past its expiry);
    /// null once pruned.
    #[serde(default)]
    pub state: Option<ProposalStatusName>,
    /// The approvals received (the contracts' `Approval`s).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub approvals: Vec<Approval>,
    /// Pruned from state after its expiry.
    #[serde(default)]
    pub pruned: bool,
    /// Every transaction about it, oldest first.
    pub receipts: Vec<ProposalReceipt>,
    /// While it is open (pending or queued), per requirement (the contracts' `RequirementTally`): whether it is
    /// met, the weights, the approvals that count and the members who could still approve. A closed proposal has
    /// none: how it was judged is the verdict in the receipt that closed it ([`ProposalDetail::verdict`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub tally: Option<Vec<RequirementTally>>,
}

impl ProposalDetail {
    /// The answer for proposal `id` once the chain has finalised `height`: its `record` while in state (none once
    /// pruned), its `receipts` and `tally`.
    pub fn new(
        id: ProposalId,
        record: Option<ProposalRecord>,
        receipts: Vec<ProposalReceipt>,
        tally: Option<Vec<RequirementTally>>,
        height: Height,
    ) -> Self {
        match record {
            Some(ProposalRecord { proposal, submitted_at, status, approvals }) => Self {
                id,
                state: Some(ProposalStatusName::at(&status, proposal.expires_at, height)),
                proposal: Some(proposal),
                submitted_at: Some(submitted_at),
                status: Some(status),
                approvals: approvals.into_inner(),
                pruned: false,
                receipts,
                tally,
            },
            None => Self {
                id,
                proposal: None,
                submitted_at: None,
                status: None,
                state: None,
                approvals: Vec::new(),
                pruned: true,
                receipts,
                tally,
            },
        }
    }

    /// How it was judged when it closed, from the receipt that closed it: the block's height and the verdict of
    /// its `ProposalExecuted` or `ProposalFailed` event. A closed proposal is shown by this, never by a tally
    /// against a later state.
    pub fn verdict(&self) -> Option<(Height, &Verdict)> {
        self.receipts.iter().rev().find_map(|r| {
            r.receipt.events.iter().find_map(|event| match event {
                Event::ProposalExecuted { proposal, verdict } | Event::ProposalFailed { proposal, verdict, .. }
                    if *proposal == self.id =>
                {
                    Some((r.height, verdict))
                }
                _ => None,
            })
        })
    }
}

/// `POST /v1/proposals/dry-run`: what a proposal would do if executed in the next block with every approval in
/// place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    /// The receipt it would get (the contracts' `Receipt`: its events, or the rejection).
    #[schema(value_type = Object)]
    pub receipt: Receipt,
    /// The approval rules it needs.
    pub requirements: Vec<PolicyRule>,
}

impl From<ContractDryRun> for DryRun {
    fn from(run: ContractDryRun) -> Self {
        Self {
            receipt: run.receipt,
            requirements: run.requirements.into_iter().map(|(kind, rule)| PolicyRule { kind, rule }).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::BoundedVec;
    use governance_contracts::crypto::Digest;
    use governance_contracts::testkit::{self, TestChain};
    use governance_contracts::types::Principal;

    use super::*;

    /// Each status name of a recorded status is the tag the contracts write for it, and parses back; `expired` is
    /// a pending proposal once its expiry height is finalised, and only then.
    #[test]
    fn status_names_are_the_contracts_tags() {
        let statuses = [
            ProposalStatus::Pending,
            ProposalStatus::Queued { ready_at: Height(3) },
            ProposalStatus::Executed { at: Height(4) },
            ProposalStatus::Failed { at: Height(5), reason: governance_contracts::Rejection::BadSignature },
            ProposalStatus::Cancelled { at: Height(6) },
        ];
        let recorded = ProposalStatusName::ALL.into_iter().filter(|name| *name != ProposalStatusName::Expired);
        for (status, name) in statuses.iter().zip(recorded) {
            let json = serde_json::to_value(status).expect("serialises");
            assert_eq!(json["status"], name.as_str(), "{json}");
            assert_eq!(ProposalStatusName::of(status), name);
            assert_eq!(name.as_str().parse::<ProposalStatusName>(), Ok(name));
            assert_eq!(serde_json::to_value(name).expect("serialises"), name.as_str());
        }
        let error = "open".parse::<ProposalStatusName>().expect_err("not a status").to_string();
        assert!(error.contains("pending, queued, executed, failed, expired, cancelled"), "{error}");
        let pending = ProposalStatus::Pending;
        assert_eq!(ProposalStatusName::at(&pending, Height(10), Height(9)), ProposalStatusName::Pending);
        assert_eq!(ProposalStatusName::at(&pending, Height(10), Height(10)), ProposalStatusName::Expired);
        let executed = ProposalStatus::Executed { at: Height(4) };
        assert_eq!(ProposalStatusName::at(&executed, Height(10), Height(90)), ProposalStatusName::Executed);
    }

    /// A proposal in state answers its record's fields beside its id, and decodes back; a pruned one answers
    /// `pruned` with a null status.
    #[test]
    fn proposal_details_round_trip() {
        let mut chain = TestChain::with_members(2);
        let proposal = chain.proposal(Principal::Account(testkit::account("m0-gov")), Vec::new());
        let record = ProposalRecord {
            proposal,
            submitted_at: Height(2),
            status: ProposalStatus::Pending,
            approvals: BoundedVec::new(),
        };
        let id = ProposalId(Digest::ZERO);
        let live = ProposalDetail::new(id, Some(record.clone()), Vec::new(), None, Height(1));
        let json = serde_json::to_value(&live).expect("serialises");
        assert_eq!((json["status"]["status"].as_str(), json["submitted_at"].as_u64()), (Some("pending"), Some(2)));
        assert_eq!(serde_json::from_value::<ProposalDetail>(json).expect("decodes"), live);
        let entry = ProposalEntry { id, record };
        let json = serde_json::to_value(&entry).expect("serialises");
        assert_eq!(json["id"], id.to_string());
        assert_eq!(serde_json::from_value::<ProposalEntry>(json).expect("decodes"), entry);

        let pruned =
            serde_json::to_value(ProposalDetail::new(id, None, Vec::new(), None, Height(1))).expect("serialises");
        assert_eq!((pruned["pruned"].as_bool(), pruned["status"].is_null()), (Some(true), true), "{pruned}");
        assert!(pruned.get("proposal").is_none());
    }
}
