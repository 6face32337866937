//! `GET /v1/proofs/{member,node,account,grant,anchor}/{id}`: an offline-verifiable proof ([`ProofBundle`]) of one
//! governance record at the last committed height, built by [`crate::proofs::build`] over one snapshot of the
//! store. The answer is the bundle's JSON, exactly what `synod verify-proof --genesis G FILE` reads. Each kind of
//! record has its own route, so that each id's format is its route's ([`api_types::ProofKind`]).
//!
//! A node builds at most [`MAX_PROOF_BUILDS`](super::bridge::MAX_PROOF_BUILDS) proofs at once; a request beyond is
//! answered 503 `busy` with a `Retry-After` header at once, never queued.

use api_types::{ErrorBody, GrantPath, IdPath, ProofKind};
use axum::Json;
use axum::extract::State;
use governance_contracts::ids::{AccountId, MemberId, NodeId, RoleId};
use governance_contracts::types::{ProofBundle, RecordKey};

use super::error::ApiError;
use super::extract::{Path, parse};
use super::{ApiState, read};
use crate::proofs::{BuildError, build};

/// The record of kind `kind` that `id` names (a grant as `ACCOUNT:ROLE`).
fn record_key(kind: ProofKind, id: &str) -> Result<RecordKey, ApiError> {
    Ok(match kind {
        ProofKind::Member => RecordKey::Member { member: parse::<MemberId>("member id", id)? },
        ProofKind::Node => RecordKey::Node { node: parse::<NodeId>("node id", id)? },
        ProofKind::Account => RecordKey::Account { account: parse::<AccountId>("account id", id)? },
        ProofKind::Grant => {
            let Some((account, role)) = id.split_once(':') else {
                return Err(ApiError::bad_request(format!("{id:?} is not a grant: name it ACCOUNT:ROLE")));
            };
            RecordKey::Grant { account: parse("account id", account)?, role: parse::<RoleId>("role", role)? }
        }
        ProofKind::Anchor => RecordKey::Anchor { account: parse::<AccountId>("account id", id)? },
    })
}

/// The proof bundle of the record of kind `kind` named `id` (a proof of absence when it does not exist). At most
/// [`ApiLimits::proof_builds`](super::bridge::ApiLimits) are built at once: beyond, the request is answered 503
/// `busy` at once, never queued. The permit is held until the build ends, even when the client has gone.
async fn proof(state: ApiState, kind: ProofKind, id: &str) -> Result<Json<ProofBundle>, ApiError> {
    let record = record_key(kind, id)?;
    let permit = state.inner.proofs.clone().try_acquire_owned().map_err(|_| {
        ApiError::busy(format!(
            "{} proofs are being built, as many as this node builds at once: retry in {} s",
            state.inner.limits.proof_builds,
            api_types::BUSY_RETRY_AFTER_SECONDS
        ))
    })?;
    read(&state, move |view| {
        let _permit = permit;
        match build(view, &record) {
            Ok(bundle) => Ok(Json(bundle)),
            Err(BuildError::NoBlocks) => Err(ApiError::unavailable(BuildError::NoBlocks.to_string())),
            Err(other) => Err(ApiError::internal("cannot build the proof", &other)),
        }
    })
    .await
}

/// `GET /v1/proofs/member/{id}`: the proof of a member's record (or of its absence).
#[utoipa::path(get, path = "/v1/proofs/member/{id}", params(IdPath), tag = "proofs",
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody, description = "Not a member id"),
        (status = 503, body = ErrorBody,
            description = "No block committed yet (`unavailable`), or as many proofs as the node builds at once are being built (`busy`: retry after `Retry-After` seconds)",
            headers(("Retry-After" = u64, description = "With `busy`: the seconds to wait before retrying")))))]
pub async fn member(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<ProofBundle>, ApiError> {
    proof(state, ProofKind::Member, &path.id).await
}

/// `GET /v1/proofs/node/{id}`: the proof of a node's record (or of its absence).
#[utoipa::path(get, path = "/v1/proofs/node/{id}", params(IdPath), tag = "proofs",
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody, description = "Not a node id"),
        (status = 503, body = ErrorBody,
            description = "No block committed yet (`unavailable`), or as many proofs as the node builds at once are being built (`busy`: retry after `Retry-After` seconds)",
            headers(("Retry-After" = u64, description = "With `busy`: the seconds to wait before retrying")))))]
pub async fn node(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<ProofBundle>, ApiError> {
    proof(state, ProofKind::Node, &path.id).await
}

/// `GET /v1/proofs/account/{id}`: the proof of an account's record (or of its absence).
#[utoipa::path(get, path = "/v1/proofs/account/{id}", params(IdPath), tag = "proofs",
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody, description = "Not an account id"),
        (status = 503, body = ErrorBody,
            description = "No block committed yet (`unavailable`), or as many proofs as the node builds at once are being built (`busy`: retry after `Retry-After` seconds)",
            headers(("Retry-After" = u64, description = "With `busy`: the seconds to wait before retrying")))))]
pub async fn account(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<ProofBundle>, ApiError> {
    proof(state, ProofKind::Account, &path.id).await
}

/// `GET /v1/proofs/grant/{id}`: the proof of one role grant (or of its absence), named `ACCOUNT:ROLE`.
#[utoipa::path(get, path = "/v1/proofs/grant/{id}", params(GrantPath), tag = "proofs",
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody, description = "Not `ACCOUNT:ROLE`"),
        (status = 503, body = ErrorBody,
            description = "No block committed yet (`unavailable`), or as many proofs as the node builds at once are being built (`busy`: retry after `Retry-After` seconds)",
            headers(("Retry-After" = u64, description = "With `busy`: the seconds to wait before retrying")))))]
pub async fn grant(State(state): State<ApiState>, Path(path): Path<GrantPath>) -> Result<Json<ProofBundle>, ApiError> {
    proof(state, ProofKind::Grant, &path.id).await
}

/// `GET /v1/proofs/anchor/{id}`: the proof of a console's latest audit-trail anchor (or of its absence), named by
/// the console's account.
#[utoipa::path(get, path = "/v1/proofs/anchor/{id}", params(IdPath), tag = "proofs",
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody, description = "Not an account id"),
        (status = 503, body = ErrorBody,
            description = "No block committed yet (`unavailable`), or as many proofs as the node builds at once are being built (`busy`: retry after `Retry-After` seconds)",
            headers(("Retry-After" = u64, description = "With `busy`: the seconds to wait before retrying")))))]
pub async fn anchor(State(state): State<ApiState>, Path(path): Path<IdPath>) -> Result<Json<ProofBundle>, ApiError> {
    proof(state, ProofKind::Anchor, &path.id).await
}

#[cfg(test)]
mod tests {
    use governance_contracts::ids::Height;
    use governance_contracts::testkit;

    use super::*;
    use crate::rpc::bridge::{ApiLimits, NodeStatus};
    use crate::storage::fixture::long_chain;

    /// Each kind names its record; a grant is named `ACCOUNT:ROLE`, and nothing else.
    #[test]
    fn record_keys_parse() {
        assert!(matches!(record_key(ProofKind::Member, "m0"), Ok(RecordKey::Member { .. })));
        assert!(matches!(record_key(ProofKind::Node, "n0"), Ok(RecordKey::Node { .. })));
        assert!(matches!(record_key(ProofKind::Account, "a"), Ok(RecordKey::Account { .. })));
        assert!(matches!(record_key(ProofKind::Anchor, "a"), Ok(RecordKey::Anchor { .. })));
        let Ok(RecordKey::Grant { account, role }) = record_key(ProofKind::Grant, "a:auditor") else {
            panic!("a grant")
        };
        assert_eq!((account.to_string(), role.to_string()), ("a".to_owned(), "auditor".to_owned()));
        assert!(record_key(ProofKind::Grant, "a").is_err());
        assert!(record_key(ProofKind::Member, "a:b").is_err());
    }

    /// With every proof permit taken, the next proof request is refused at once with 503 `busy` and a
    /// `Retry-After`, not queued; once a permit is free again the same request is served.
    #[tokio::test]
    async fn proofs_beyond_the_limit_are_refused_not_queued() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, genesis) = long_chain(dir.path(), 3, &[2]);
        let limits = ApiLimits { proof_builds: 1, ..ApiLimits::default() };
        let status = NodeStatus::starting(&genesis, testkit::node("n0"));
        let (state, _runtime) = ApiState::with_channels_within(genesis, store.reader(), status, limits);

        let taken = state.inner.proofs.clone().try_acquire_owned().expect("a free permit");
        let refused = proof(state.clone(), ProofKind::Node, "n1").await.expect_err("no permit is free");
        assert_eq!(refused.status().as_u16(), 503);
        assert_eq!(refused.body().code, "busy");
        assert_eq!(refused.retry_after(), Some(api_types::BUSY_RETRY_AFTER_SECONDS));
        drop(taken);
        let bundle = proof(state, ProofKind::Node, "n1").await.expect("a permit is free again");
        assert_eq!(bundle.header.header.height, Height(3));
    }
}
