//! The node's HTTP API (`/v1/...`), declared once: every query string, path parameter, request body and answer,
//! the limits the node enforces, and the OpenAPI schema of each.
//!
//! The node's handlers (`node/src/rpc/`) take and answer these types, the CLI's client (`node/src/client/`) and
//! the console's node client (`console/src/server/node.rs`) send and decode them, and the OpenAPI document the node
//! serves (`GET /v1/openapi.json`) is generated from them. A parameter renamed or a status added here changes all
//! four at once.
//!
//! - [`query`]: query strings and path parameters, with their bounds checked by the same functions on both sides;
//! - [`status`]: `GET /v1/status`;
//! - [`governance`]: members, nodes, accounts, roles, policy, parameters, proposals and the dry run;
//! - [`chain`]: blocks, transactions, submissions, evidence and the event stream;
//! - [`error`]: the one error body every failure answers with;
//! - [`schema`]: OpenAPI components for the contracts' types (id formats, digests, keys), which know nothing of
//!   OpenAPI.
//!
//! Records of the governance state are the contracts' own types (`MemberRecord`, `NodeRecord`, ...), flattened
//! beside their ids: the API never re-declares what the contracts define.
//!
//! Pure data: no I/O, no runtime, no HTTP framework, so the browser build of the console links it too.

pub mod chain;
pub mod error;
pub mod governance;
pub mod query;
pub mod schema;
pub mod status;

pub use chain::{
    BlockBody, BlockList, ChainEvent, Conflict, EvidenceEntry, EvidenceList, FinalizedTransaction, Lagged,
    SignedProposalMessage, SignedVoteMessage, StreamEvent, Submitted, TransactionBody,
};
pub use error::{ErrorBody, ErrorCode};
pub use governance::{
    Account, AccountDetail, AccountList, AccountRole, DryRun, Listing, Member, MemberList, Node, NodeList,
    PolicyAnswer, PolicyRule, ProposalDetail, ProposalEntry, ProposalList, ProposalReceipt, ProposalStatusName, Role,
    RoleGrant, RolesAnswer, TxLocation, UnknownStatus,
};
pub use query::{
    BlockQuery, EvidenceQuery, GrantPath, HashPath, HeightPath, IdPath, OutOfBounds, Page, ProofKind, ProposalPath,
    ProposalQuery, WaitQuery,
};
pub use status::{Direction, HostCounters, NodeStatus, P2pStats, PeerStatus, StatusCounters};

/// The largest request body accepted: a transaction of the largest size the chain parameters allow (4 MiB of
/// canonical bytes) still fits when sent as JSON. A larger body is answered 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The most items one page of a list (members, nodes, accounts, proposals, evidence) holds.
pub const MAX_PAGE: u32 = 1_000;
/// The items of a page when the request does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// The most blocks one page of `/v1/blocks` holds (each comes whole, with its receipts).
pub const MAX_BLOCK_PAGE: u32 = 100;
/// The blocks of a page when the request does not say.
pub const DEFAULT_BLOCK_PAGE: u32 = 20;
/// The longest a long poll (`/v1/transactions/{hash}/wait`) waits, in ms.
pub const MAX_WAIT_MS: u64 = 60_000;
/// How long a long poll waits when the request does not say, in ms.
pub const DEFAULT_WAIT_MS: u64 = 10_000;
/// The most transactions `GET /v1/accounts/{id}` lists in an account's `history`.
pub const ACCOUNT_HISTORY: u32 = 100;
/// The seconds the `Retry-After` header of a `busy` answer (503) gives.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;
