//! Query strings and path parameters. Each query type checks its own bounds ([`Page::limit`], ...), so the node
//! refuses and a client avoids exactly the same values, and writes its own pairs ([`Page::pairs`], ...), so a
//! client sends exactly the names the node reads.
//!
//! Lists of records keyed by id (members, nodes, accounts, proposals) are paged with `limit` and `after` (the last
//! id of the previous page, which the answer gives as `next_after`), in their table's order: ids that are names
//! shortest first, names of one length alphabetically (`n2` before `n10`); proposals by id. Blocks, latest first,
//! with `limit` and `before`; evidence with `from` and `limit`.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::governance::ProposalStatusName;
use crate::{DEFAULT_BLOCK_PAGE, DEFAULT_PAGE, DEFAULT_WAIT_MS, MAX_BLOCK_PAGE, MAX_PAGE, MAX_WAIT_MS};

/// A query value out of its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfBounds {
    /// The parameter's name.
    pub name: &'static str,
    /// The smallest value allowed.
    pub min: u64,
    /// The largest value allowed.
    pub max: u64,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be between {} and {}", self.name, self.min, self.max)
    }
}

impl std::error::Error for OutOfBounds {}

/// `value` (or `default` when absent) if it lies in `min..=max`.
fn bounded(name: &'static str, value: Option<u64>, default: u64, min: u64, max: u64) -> Result<u64, OutOfBounds> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) { Ok(value) } else { Err(OutOfBounds { name, min, max }) }
}

/// A page size asked for, or its `default`, checked against `1..=max`.
fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<usize, OutOfBounds> {
    let limit = bounded("limit", limit.map(u64::from), u64::from(default), 1, u64::from(max))?;
    // At most `max`, a u32.
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// `?limit=&after=`: a page of a list keyed by id (members, nodes, accounts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Most items to return (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Return the items after this id in the list's order: the previous page's `next_after`.
    #[param(value_type = Option<crate::schema::Name>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl Page {
    /// The page size asked for (default [`DEFAULT_PAGE`]), refused outside `1..=`[`MAX_PAGE`].
    pub fn limit(&self) -> Result<usize, OutOfBounds> {
        page_limit(self.limit, DEFAULT_PAGE, MAX_PAGE)
    }

    /// The query pairs of this page.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(after) = &self.after {
            pairs.push(("after", after.clone()));
        }
        pairs
    }
}

/// `?status=&limit=&after=`: a page of proposals, optionally of one status. A page looks at `limit` proposals and
/// answers those of the status, so a filtered page may hold fewer (even none) and still name a `next_after`:
/// follow it until it is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    /// Only proposals in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProposalStatusName>,
    /// Most proposals to look at and return (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Return the proposals after this id: the previous page's `next_after`.
    #[param(value_type = Option<crate::schema::Sha256>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl ProposalQuery {
    /// The page of this query.
    pub fn page(&self) -> Page {
        Page { limit: self.limit, after: self.after.clone() }
    }

    /// The query pairs of this query.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        pairs.extend(self.page().pairs());
        pairs
    }
}

/// `?limit=&before=`: a page of blocks, latest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockQuery {
    /// Most blocks to return (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Return the blocks below this height: the previous page's `next_before` (default: from the latest).
    #[param(value_type = Option<crate::schema::Height>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
}

impl BlockQuery {
    /// The page size asked for (default [`DEFAULT_BLOCK_PAGE`]), refused outside `1..=`[`MAX_BLOCK_PAGE`].
    pub fn limit(&self) -> Result<usize, OutOfBounds> {
        page_limit(self.limit, DEFAULT_BLOCK_PAGE, MAX_BLOCK_PAGE)
    }

    /// The query pairs of this query.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(before) = self.before {
            pairs.push(("before", before.to_string()));
        }
        pairs
    }
}

/// `?from=&limit=`: equivocation evidence from a height on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// The lowest height to list (default 0).
    #[param(value_type = Option<crate::schema::Height>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// Most pieces to return (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl EvidenceQuery {
    /// The page size asked for (default [`DEFAULT_PAGE`]), refused outside `1..=`[`MAX_PAGE`].
    pub fn limit(&self) -> Result<usize, OutOfBounds> {
        page_limit(self.limit, DEFAULT_PAGE, MAX_PAGE)
    }

    /// The query pairs of this query.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(from) = self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        pairs
    }
}

/// `?timeout_ms=`: how long a long poll waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// How long to wait for the transaction to be finalised, in ms (default 10 000).
    #[param(minimum = 0, maximum = 60000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl WaitQuery {
    /// The wait asked for (default [`DEFAULT_WAIT_MS`]), refused above [`MAX_WAIT_MS`].
    pub fn wait_ms(&self) -> Result<u64, OutOfBounds> {
        bounded("timeout_ms", self.timeout_ms, DEFAULT_WAIT_MS, 0, MAX_WAIT_MS)
    }

    /// The query pairs of this query.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        self.timeout_ms.map(|ms| ("timeout_ms", ms.to_string())).into_iter().collect()
    }
}

/// A member, node, account or role id in a path (`/v1/members/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The record's id.
    #[param(value_type = crate::schema::Name)]
    pub id: String,
}

/// A proposal id in a path (`/v1/proposals/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProposalPath {
    /// The proposal id (its approval digest).
    #[param(value_type = crate::schema::Sha256)]
    pub id: String,
}

/// A transaction hash in a path (`/v1/transactions/{hash}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HashPath {
    /// The transaction's hash.
    #[param(value_type = crate::schema::Sha256)]
    pub hash: String,
}

/// A block height in a path (`/v1/blocks/{height}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HeightPath {
    /// The block's height.
    #[param(value_type = crate::schema::Height)]
    pub height: String,
}

/// A role grant in a proof's path (`/v1/proofs/grant/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GrantPath {
    /// The grant: `ACCOUNT:ROLE`.
    #[param(value_type = crate::schema::GrantName)]
    pub id: String,
}

/// The kinds of record a proof is for, each its own route (`/v1/proofs/{kind}/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofKind {
    /// A member organisation (id: the member).
    Member,
    /// A node (id: the node).
    Node,
    /// An account (id: the account).
    Account,
    /// One role grant (id: `ACCOUNT:ROLE`).
    Grant,
    /// A console's latest audit-trail anchor (id: the console's account).
    Anchor,
}

impl ProofKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [Self::Member, Self::Node, Self::Account, Self::Grant, Self::Anchor];

    /// The kind as its route names it (`member`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Node => "node",
            Self::Account => "account",
            Self::Grant => "grant",
            Self::Anchor => "anchor",
        }
    }

    /// Every kind's name.
    pub fn names() -> [&'static str; 5] {
        Self::ALL.map(Self::as_str)
    }
}

impl fmt::Display for ProofKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProofKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a record kind: use {}", Self::names().join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::Parameter;

    use super::*;

    fn parameters<T: IntoParams>() -> serde_json::Value {
        let parameters: Vec<Parameter> = T::into_params(|| None);
        serde_json::to_value(parameters).expect("serialises")
    }

    /// The parameter `name` of `T`'s schema, with `pointer` read from its schema.
    fn bound<T: IntoParams>(name: &str, pointer: &str) -> serde_json::Value {
        let parameters = parameters::<T>();
        let parameter = parameters.as_array().and_then(|p| p.iter().find(|p| p["name"] == name)).cloned();
        parameter.and_then(|p| p["schema"].pointer(pointer).cloned()).unwrap_or_default()
    }

    /// The bounds the documents state are the bounds the checks apply, and the names the clients write are the
    /// names the node reads.
    #[test]
    fn documented_bounds_are_the_checked_bounds() {
        assert_eq!(bound::<Page>("limit", "/minimum"), 1);
        assert_eq!(bound::<Page>("limit", "/maximum"), MAX_PAGE);
        assert_eq!(bound::<ProposalQuery>("limit", "/maximum"), MAX_PAGE);
        assert_eq!(bound::<EvidenceQuery>("limit", "/maximum"), MAX_PAGE);
        assert_eq!(bound::<BlockQuery>("limit", "/maximum"), MAX_BLOCK_PAGE);
        assert_eq!(bound::<WaitQuery>("timeout_ms", "/maximum"), MAX_WAIT_MS);

        let page = |limit| Page { limit: Some(limit), after: None };
        assert_eq!(page(1).limit(), Ok(1));
        assert_eq!(page(MAX_PAGE).limit(), Ok(1_000));
        assert!(page(0).limit().is_err() && page(MAX_PAGE + 1).limit().is_err());
        assert_eq!(Page::default().limit(), Ok(100));
        let blocks = |limit| BlockQuery { limit: Some(limit), before: None };
        assert!(blocks(MAX_BLOCK_PAGE).limit().is_ok() && blocks(MAX_BLOCK_PAGE + 1).limit().is_err());
        assert_eq!(WaitQuery { timeout_ms: Some(MAX_WAIT_MS + 1) }.wait_ms().unwrap_err().to_string(), {
            "timeout_ms must be between 0 and 60000"
        });

        for (pairs, names) in [
            (
                ProposalQuery { status: Some(ProposalStatusName::Queued), limit: Some(5), after: Some("x".into()) }
                    .pairs(),
                vec!["status", "limit", "after"],
            ),
            (BlockQuery { limit: Some(5), before: Some(9) }.pairs(), vec!["limit", "before"]),
            (EvidenceQuery { from: Some(1), limit: Some(5) }.pairs(), vec!["from", "limit"]),
            (WaitQuery { timeout_ms: Some(5) }.pairs(), vec!["timeout_ms"]),
        ] {
            assert_eq!(pairs.iter().map(|(name, _)| *name).collect::<Vec<_>>(), names);
        }
        let documented: Vec<String> = parameters::<ProposalQuery>()
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        assert_eq!(documented, ["status", "limit", "after"]);
    }

    /// The query `status=` takes exactly the status names.
    #[test]
    fn status_filter_parses_the_names() {
        for status in ProposalStatusName::ALL {
            let query = ProposalQuery { status: Some(status), ..ProposalQuery::default() };
            let text = query.pairs().into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            assert_eq!(text, format!("status={status}"));
        }
        assert_eq!("grant".parse::<ProofKind>(), Ok(ProofKind::Grant));
        assert!("block".parse::<ProofKind>().is_err());
    }
}
