//! The chain as the API serves it: committed blocks, finalised transactions, submissions, equivocation evidence
//! and the event stream.

use std::borrow::Cow;

use governance_contracts::crypto::Signature;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{BlockHash, Height, NodeId, TxHash};
use governance_contracts::types::{
    Block, CommitCertificate, ConsensusProposal, ConsensusVote, Event, Outcome, Receipt, SignedTransaction,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::schema;

/// One committed block with its finality proof and the receipts of its transactions (`GET /v1/blocks/{height}`,
/// and each item of `GET /v1/blocks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockBody {
    /// Its height.
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// Its hash.
    #[schema(value_type = schema::Sha256)]
    pub hash: BlockHash,
    /// The block (the contracts' `Block`): `header` and `transactions`.
    #[schema(value_type = Object)]
    pub block: Block,
    /// Its commit certificate (the contracts' `CommitCertificate`).
    #[schema(value_type = Object)]
    pub certificate: CommitCertificate,
    /// One receipt per transaction, in order (the contracts' `Receipt`: `tx`, `outcome`, `events`).
    #[schema(value_type = Vec<Object>)]
    pub receipts: Vec<Receipt>,
}

/// `GET /v1/blocks`: a page of committed blocks, latest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// The blocks, latest first.
    pub blocks: Vec<BlockBody>,
    /// The `before` of the next page, if there are older blocks.
    #[schema(value_type = Option<schema::Height>)]
    pub next_before: Option<u64>,
}

/// `POST /v1/transactions`: the answer to an admitted transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// The transaction's hash.
    #[schema(value_type = schema::Sha256)]
    pub tx_hash: TxHash,
}

/// `GET /v1/transactions/{hash}`: a finalised transaction: where it is, what it was, and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionBody {
    /// Its hash.
    #[schema(value_type = schema::Sha256)]
    pub hash: TxHash,
    /// The height of the block that included it.
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// Its index in that block.
    pub index: u32,
    /// The signed transaction (the contracts' `SignedTransaction`).
    #[schema(value_type = Object)]
    pub transaction: SignedTransaction,
    /// Its receipt (the contracts' `Receipt`): `outcome` and `events`.
    #[schema(value_type = Object)]
    pub receipt: Receipt,
}

/// A consensus vote as signed by its voter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignedVoteMessage {
    /// The vote (the contracts' `ConsensusVote`).
    #[schema(value_type = Object)]
    pub message: ConsensusVote,
    /// The voter's signature over it.
    #[schema(value_type = schema::Signature)]
    pub signature: Signature,
}

/// A consensus block proposal as signed by its proposer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignedProposalMessage {
    /// The block proposal (the contracts' `ConsensusProposal`).
    #[schema(value_type = Object)]
    pub message: ConsensusProposal,
    /// The proposer's signature over it.
    #[schema(value_type = schema::Signature)]
    pub signature: Signature,
}

/// The two conflicting messages of one piece of evidence, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// Two different votes of one kind in one round.
    Votes {
        /// The vote seen first.
        first: SignedVoteMessage,
        /// The conflicting vote.
        second: SignedVoteMessage,
    },
    /// Two different block proposals in one round.
    Proposals {
        /// The block proposal seen first.
        first: SignedProposalMessage,
        /// The conflicting block proposal.
        second: SignedProposalMessage,
    },
}

/// One piece of equivocation evidence a node stored: where, who, and both signed messages (each verifies on its
/// own against the offender's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceEntry {
    /// The height at which the sealer equivocated.
    #[schema(value_type = schema::Height)]
    pub height: Height,
    /// Its sequence number among the evidence stored at that height.
    pub seq: u32,
    /// The sealer that signed both messages.
    #[schema(value_type = schema::Name)]
    pub offender: NodeId,
    /// The conflicting messages.
    #[serde(flatten)]
    pub conflict: Conflict,
}

/// `GET /v1/evidence`: equivocation evidence, by height.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceList {
    /// The evidence, lowest height first.
    pub evidence: Vec<EvidenceEntry>,
}

/// One transaction of a finalised block and whether it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinalizedTransaction {
    /// Its hash.
    #[schema(value_type = schema::Sha256)]
    pub hash: TxHash,
    /// Applied, or rejected with the reason (the contracts' `Outcome`).
    #[schema(value_type = Object)]
    pub outcome: Outcome,
}

/// Something that happened on chain: the data of a `finalized` event of `GET /v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChainEvent {
    /// A block was finalised and committed.
    Finalized {
        /// Its height.
        #[schema(value_type = schema::Height)]
        height: Height,
        /// Its hash.
        #[schema(value_type = schema::Sha256)]
        hash: BlockHash,
        /// Its time, ms since the Unix epoch.
        time_ms: u64,
        /// Its transactions in order, with their outcomes.
        transactions: Vec<FinalizedTransaction>,
        /// The governance events of its receipts, in order (the contracts' `Event`s).
        #[schema(value_type = Vec<Object>)]
        events: Vec<Event>,
    },
}

impl ChainEvent {
    /// The SSE event name of a chain event.
    pub const EVENT: &'static str = "finalized";

    /// The event of a committed `block` with its `receipts` (one per transaction, in order) on `chain`.
    pub fn from_committed(chain: &ChainIdentity, block: &Block, receipts: &[Receipt]) -> Self {
        Self::Finalized {
            height: block.header.height,
            hash: block.hash(chain),
            time_ms: block.header.time_ms,
            transactions: receipts
                .iter()
                .map(|receipt| FinalizedTransaction { hash: receipt.tx, outcome: receipt.outcome.clone() })
                .collect(),
            events: receipts.iter().flat_map(|receipt| receipt.events.iter().cloned()).collect(),
        }
    }

    /// The height of the block the event is about.
    pub fn height(&self) -> Height {
        match self {
            Self::Finalized { height, .. } => *height,
        }
    }
}

/// The data of a `lagged` event of `GET /v1/events`: the client fell this many events behind and the stream goes
/// on from the oldest event still held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Lagged {
    /// Events missed.
    pub missed: u64,
}

impl Lagged {
    /// The SSE event name of a lag notice.
    pub const EVENT: &'static str = "lagged";
}

/// One server-sent event of `GET /v1/events`, as an SSE parser reads it (`event`, `data`): a `finalized` event whose
/// data is a [`ChainEvent`], or a `lagged` event whose data is a [`Lagged`]. Comment lines keep an idle stream
/// alive.
#[derive(Debug, Clone, Copy)]
pub struct StreamEvent;

/// The schema of an SSE event named `name` whose `data` is the JSON of component `data`.
fn sse_event(name: &str, data: &str) -> ObjectBuilder {
    let json = ExtensionsBuilder::new()
        .add("contentSchema", serde_json::json!({ "$ref": format!("#/components/schemas/{data}") }))
        .build();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("event", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name])))
        .required("event")
        .property(
            "data",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .extensions(Some(json)),
        )
        .required("data")
}

impl PartialSchema for StreamEvent {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(sse_event(ChainEvent::EVENT, "ChainEvent"))
            .item(sse_event(Lagged::EVENT, "Lagged"))
            .description(Some("One server-sent event: `finalized` (data: a ChainEvent) or `lagged` (data: a Lagged)"))
            .into()
    }
}

impl ToSchema for StreamEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("StreamEvent")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ChainEvent::name().into_owned(), ChainEvent::schema()));
        <ChainEvent as ToSchema>::schemas(schemas);
        schemas.push((Lagged::name().into_owned(), Lagged::schema()));
    }
}
