//! `params`: chain parameters (block interval, block and transaction limits, `max_tx_ttl`,
//! `max_proposal_lifetime`, the readiness window), changed by proposal.
//!
//! Rules: a change names the parameters it replaces (compare-and-set) and the new ones must be within range.
//! Invariant: the stored parameters are always within range.

use crate::contracts::{Scope, stale};
use crate::error::{Rejection, Result, detail, reject};
use crate::state::Store;
use crate::state::StoreError;
use crate::state::tables::PARAMS;
use crate::types::{ChainParams, Event};

/// The parameters in force.
pub fn params(store: &dyn Store) -> Result<ChainParams> {
    PARAMS
        .get(store, &())
        .transpose()
        .unwrap_or_else(|| Err(StoreError::Corrupt { table: "params", detail: "missing chain parameters".into() }))
        .map_err(Into::into)
}

/// `SetParams`.
pub fn set_params(scope: &mut Scope<'_>, index: u32, expected: &ChainParams, new: &ChainParams) -> Result<()> {
    if &params(&scope.state)? != expected {
        return Err(stale(index, "the chain parameters changed since the proposal was drafted"));
    }
    if let Err(what) = new.validate() {
        return reject(Rejection::InvalidParams { detail: detail(what) });
    }
    PARAMS.put(&mut scope.state, &(), new);
    scope.emit(Event::ParamsChanged);
    Ok(())
}
