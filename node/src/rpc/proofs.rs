//! `GET /v1/proofs/{kind}/{id}`: an offline-verifiable proof ([`ProofBundle`]) of one governance record at the
//! last committed height, built by [`crate::proofs::build`] over one snapshot of the store. The answer is the
//! bundle's JSON, exactly what `synod verify-proof --genesis G FILE` reads.

use axum::Json;
use axum::extract::State;
use governance_contracts::ids::{AccountId, MemberId, NodeId, RoleId};
use governance_contracts::types::{ProofBundle, RecordKey};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query, parse};
use super::{ApiState, read};
use crate::proofs::{BuildError, build};

/// `?role=` for a grant proof.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// For `grant`: the role, when the id is the account alone.
    pub role: Option<String>,
}

/// The record `kind` and `id` name.
fn record_key(kind: &str, id: &str, role: Option<&str>) -> Result<RecordKey, ApiError> {
    Ok(match kind {
        "member" => RecordKey::Member { member: parse::<MemberId>("member id", id)? },
        "node" => RecordKey::Node { node: parse::<NodeId>("node id", id)? },
        "account" => RecordKey::Account { account: parse::<AccountId>("account id", id)? },
        "grant" => {
            let (account, role) = match (id.split_once(':'), role) {
                (Some((account, role)), None) => (account, role),
                (None, Some(role)) => (id, role),
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad_request("name the role either in the id (ACCOUNT:ROLE) or as ?role="));
                }
                (None, None) => return Err(ApiError::bad_request("a grant proof needs ACCOUNT:ROLE or ?role=")),
            };
            RecordKey::Grant { account: parse("account id", account)?, role: parse::<RoleId>("role", role)? }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "{other:?} is not a record kind: use member, node, account or grant"
            )));
        }
    })
}

/// `GET /v1/proofs/{kind}/{id}`: the proof bundle of one record (a proof of absence when the record does not
/// exist).
#[utoipa::path(get, path = "/v1/proofs/{kind}/{id}",
    params(("kind" = String, Path, description = "`member`, `node`, `account` or `grant`"),
        ("id" = String, Path, description = "The record's id; for a grant `ACCOUNT:ROLE` (or the account with `?role=`)"),
        ProofQuery),
    responses((status = 200, description = "The `ProofBundle` JSON, as `synod verify-proof` reads it", body = Object),
        (status = 400, body = ErrorBody), (status = 503, body = ErrorBody, description = "No block committed yet")))]
pub async fn proof(
    State(state): State<ApiState>,
    Path((kind, id)): Path<(String, String)>,
    Query(query): Query<ProofQuery>,
) -> Result<Json<ProofBundle>, ApiError> {
    let record = record_key(&kind, &id, query.role.as_deref())?;
    read(&state, move |view| match build(view, &record) {
        Ok(bundle) => Ok(Json(bundle)),
        Err(BuildError::NoBlocks) => Err(ApiError::unavailable(BuildError::NoBlocks.to_string())),
        Err(other) => Err(ApiError::internal("cannot build the proof", &other)),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind names its record; a grant takes its role from the id or the query, not both; unknown kinds are
    /// refused.
    #[test]
    fn record_keys_parse() {
        assert!(matches!(record_key("member", "m0", None), Ok(RecordKey::Member { .. })));
        assert!(matches!(record_key("node", "n0", None), Ok(RecordKey::Node { .. })));
        assert!(matches!(record_key("account", "a", None), Ok(RecordKey::Account { .. })));
        let Ok(RecordKey::Grant { account, role }) = record_key("grant", "a:auditor", None) else { panic!("a grant") };
        assert_eq!((account.to_string(), role.to_string()), ("a".to_owned(), "auditor".to_owned()));
        assert!(matches!(record_key("grant", "a", Some("auditor")), Ok(RecordKey::Grant { .. })));
        assert!(record_key("grant", "a:auditor", Some("auditor")).is_err());
        assert!(record_key("grant", "a", None).is_err());
        assert!(record_key("block", "1", None).is_err());
    }
}
