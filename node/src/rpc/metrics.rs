//! `GET /metrics`: Prometheus text from the counters the runtime publishes in [`NodeStatus`] and the API's own
//! request counters (by route and status class).

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::ApiState;
use super::bridge::NodeStatus;
use super::error::ApiError;

/// Labels of one series.
type Labels = Vec<(String, String)>;

/// The API's own counters: requests answered, by route template and status class.
#[derive(Debug, Clone, Default)]
pub struct RequestMetrics {
    requests: Family<Labels, Counter>,
}

impl RequestMetrics {
    fn record(&self, route: &str, status: u16) {
        let class = format!("{}xx", status / 100);
        self.requests.get_or_create(&vec![("route".to_owned(), route.to_owned()), ("class".to_owned(), class)]).inc();
    }
}

/// Middleware counting every answer by its route template (`unmatched` for none) and status class.
pub async fn count(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    state.inner.metrics.record(&route, response.status().as_u16());
    response
}

/// A label value as the text format takes it: no quote, backslash or line break (prometheus-client writes label
/// values as they are).
fn label(value: &str) -> String {
    value.chars().map(|c| if matches!(c, '"' | '\\' | '\n' | '\r') { '_' } else { c }).collect()
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let counter = Counter::<u64>::default();
    counter.inc_by(value);
    registry.register(name, help, counter);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let gauge = Gauge::<i64>::default();
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    registry.register(name, help, gauge);
}

/// The registry of one scrape: the published status's counters and gauges, and the request counters.
fn registry(status: &NodeStatus, requests: &RequestMetrics) -> Registry {
    let mut registry = Registry::default();
    let r = &mut registry;
    gauge(r, "synod_height", "The last committed height", status.height.0);
    gauge(
        r,
        "synod_last_block_time_ms",
        "The last committed block's time, ms since the Unix epoch",
        status.last_block_time_ms,
    );
    gauge(r, "synod_peers", "Connected peers", u64::try_from(status.peers.len()).unwrap_or(u64::MAX));
    gauge(r, "synod_syncing", "1 while catching up with peers", u64::from(status.syncing));
    gauge(r, "synod_sealer", "1 while in the validator set", u64::from(status.kind == super::bridge::NodeKind::Sealer));
    gauge(r, "synod_mempool_size", "Transactions waiting for a block", status.mempool_size);
    let host = &status.counters.host;
    counter(r, "synod_evidence", "Equivocation evidence stored", host.evidence);
    counter(r, "synod_rejected_blocks", "Received blocks found invalid", host.rejected_blocks);
    counter(r, "synod_bad_signatures", "Votes and proposals dropped for a bad signature", host.bad_signatures);
    counter(
        r,
        "synod_unnamed_blocks",
        "Received blocks dropped unchecked: no verified proposal names them",
        host.unnamed_blocks,
    );
    counter(
        r,
        "synod_dropped_ahead",
        "Messages for later heights dropped before the consensus core",
        host.dropped_ahead,
    );
    counter(r, "synod_rejected_synced", "Synced blocks refused", host.rejected_synced);
    counter(r, "synod_synced_heights", "Heights committed through sync", host.synced_heights);
    counter(r, "synod_sync_requests", "Sync requests sent", host.sync_requests);
    counter(r, "synod_replayed_entries", "Write-ahead log entries replayed on start", host.replayed_entries);
    let p2p = &status.counters.p2p;
    let refused = Family::<Labels, Counter>::default();
    for (reason, count) in &p2p.refused {
        refused.get_or_create(&vec![("reason".to_owned(), label(reason))]).inc_by(*count);
    }
    r.register("synod_p2p_refused", "Peer connections refused or dropped, by reason", refused);
    counter(r, "synod_p2p_garbage_disconnects", "Peers disconnected for undecodable bytes", p2p.garbage_disconnects);
    counter(
        r,
        "synod_p2p_dropped_sends",
        "Outbound messages dropped because a peer's or the total byte budget was spent",
        p2p.dropped_sends,
    );
    for (name, help, counts) in [
        ("synod_p2p_dropped_sends_by_kind", "Outbound messages dropped, by message kind", &p2p.dropped_sends_by_kind),
        (
            "synod_p2p_dropped_received",
            "Received messages dropped because their lane's inbound budget was spent, by message kind",
            &p2p.dropped_received_by_kind,
        ),
    ] {
        let family = Family::<Labels, Counter>::default();
        for (kind, count) in counts {
            family.get_or_create(&vec![("kind".to_owned(), label(kind))]).inc_by(*count);
        }
        r.register(name, help, family);
    }
    r.register("synod_api_requests", "API requests answered, by route and status class", requests.requests.clone());
    registry
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let status = state.status();
    let mut text = String::new();
    encode(&mut text, &registry(&status, &state.inner.metrics))
        .map_err(|e| ApiError::internal("cannot encode the metrics", &e))?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

#[cfg(test)]
mod tests {
    use governance_contracts::ids::{Height, NodeId};
    use governance_contracts::testkit;

    use super::*;

    /// The text holds the status's refusals by reason as `synod_p2p_refused_total`, its height, and the request
    /// counters, and a reason with a quote cannot break the format.
    #[test]
    fn status_counters_appear_in_the_text() {
        let genesis = testkit::genesis(4);
        let mut status = NodeStatus::starting(&genesis, NodeId::new("n0").expect("valid id"));
        status.height = Height(7);
        status.counters.p2p.refused.insert("unknown key".to_owned(), 3);
        status.counters.p2p.refused.insert("bad \"quote\"".to_owned(), 1);
        let requests = RequestMetrics::default();
        requests.record("/v1/status", 200);
        let mut text = String::new();
        encode(&mut text, &registry(&status, &requests)).expect("encodes");
        assert!(text.contains("synod_p2p_refused_total{reason=\"unknown key\"} 3"), "{text}");
        assert!(text.contains("synod_p2p_refused_total{reason=\"bad _quote_\"} 1"), "{text}");
        assert!(text.contains("synod_height 7"), "{text}");
        assert!(text.contains("synod_api_requests_total{route=\"/v1/status\",class=\"2xx\"} 1"), "{text}");
    }
}
