//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of every route, generated from the handlers' annotations
//! and the `api_types` they take and answer, so the document is the code: the query parameters with their bounds,
//! the path parameters with their formats, the request bodies with their encodings, and every status a route
//! answers with the error body. Types of `governance_contracts` (which knows nothing of OpenAPI) are described
//! by `api_types::schema`: ids, digests and keys with their patterns, records as JSON objects.

use api_types::schema::{CanonicalBytes, GrantName, Height, Name, NodeKind, PublicKey, Sha256, Signature};
use api_types::{ErrorBody, ErrorCode, ProposalStatusName};
use axum::Json;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi, ToSchema};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Synod node API",
        description = "Status, governance state, chain, proofs, submission, events and metrics of one Synod node. \
            Lists keyed by id are paged with `limit` (1 to 1000, default 100) and `after` (the answer's \
            `next_after`), in their table's order (names shortest first, then alphabetically; proposals by id); \
            a page filtered by status may hold fewer than `limit` and still name a `next_after`; blocks with `limit` (1 to 100, default 20) and `before` (the answer's `next_before`). \
            Bodies are at most 8 MiB. At most 2 proofs are built and 64 event streams served at once; a request \
            beyond is answered 503 `busy` with a `Retry-After` header. Every error answers an `ErrorBody` with a \
            stable `code`."
    ),
    paths(
        super::healthz,
        super::chain::status,
        super::governance::members,
        super::governance::member,
        super::governance::nodes,
        super::governance::node,
        super::governance::accounts,
        super::governance::account,
        super::governance::roles,
        super::governance::policy,
        super::governance::params,
        super::governance::proposals,
        super::governance::proposal,
        super::governance::dry_run,
        super::chain::blocks,
        super::chain::block,
        super::chain::evidence,
        super::transactions::submit,
        super::transactions::transaction,
        super::transactions::wait,
        super::proofs::member,
        super::proofs::node,
        super::proofs::account,
        super::proofs::grant,
        super::proofs::anchor,
        super::events::events,
        super::metrics::metrics,
        openapi,
    ),
    // The schemas responses and bodies name are collected from the paths; those only parameters name are listed.
    components(schemas(
        ErrorBody,
        ErrorCode,
        ProposalStatusName,
        Name,
        Sha256,
        PublicKey,
        Signature,
        GrantName,
        Height,
        NodeKind,
        CanonicalBytes
    )),
    modifiers(&InternalErrors),
    tags(
        (name = "governance", description = "The governance state at the last committed height, and the dry run"),
        (name = "chain", description = "Status, blocks, evidence and the event stream"),
        (name = "transactions", description = "Submission and finalised transactions"),
        (name = "proofs", description = "Offline-verifiable proofs of governance records"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Adds to every operation its answer to a failure of the node itself (a corrupt store, a failed read): 500
/// `internal`, details in the node's log.
struct InternalErrors;

impl Modify for InternalErrors {
    fn modify(&self, document: &mut Document) {
        let error = ResponseBuilder::new()
            .description("The node failed (`internal`); the details are in its log")
            .content("application/json", Content::new(Some(Ref::from_schema_name(ErrorBody::name()))))
            .build();
        for item in document.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.entry("500".to_owned()).or_insert_with(|| error.clone().into());
            }
        }
    }
}

/// This API's OpenAPI document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// `GET /v1/openapi.json`: this API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Json<Document> {
    Json(document())
}
