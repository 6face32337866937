//! The node's HTTP API over real HTTP: a real RocksDB store with committed blocks, the router served on
//! 127.0.0.1:0, and a test double in place of the runtime ([`common::api::Served`]).

use std::io::{BufRead, BufReader};
use std::time::Duration;

use governance_contracts::codec::{BoundedVec, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::ids::Height;
use governance_contracts::testkit::account;
use governance_contracts::types::proof::{ProofBundle, RecordValue};
use governance_contracts::types::{Action, Payload, Principal};
use serde_json::Value;
use synod::cli::proof::{VerifyArgs, verify_bundle};

mod common;
use common::api::Served;

/// The ids in `list[key]`.
fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .map(|items| items.iter().filter_map(|item| item["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Health, status and every read route answer the records the store holds, in the documented shapes; unknown
/// records are 404s and bad parameters 400s, in the API's error shape.
#[test]
fn reads_answer_the_stored_records() {
    let node = Served::start(true);
    assert_eq!(node.get_text("/healthz"), (200, "ok".to_owned()));

    let (code, status) = node.get("/v1/status");
    assert_eq!(code, 200);
    assert_eq!(status["height"], 3);
    assert_eq!(status["chain_id"], "synod-test");
    assert_eq!(status["node_id"], "n0");
    assert_eq!(status["genesis_hash"], node.genesis.hash().to_string());

    let (code, members) = node.get("/v1/members");
    assert_eq!(code, 200);
    assert_eq!(ids(&members, "members"), ["m0", "m1", "m2", "m3"]);
    assert!(members.get("next_after").is_none(), "one page holds them all: {members}");
    let (_, page) = node.get("/v1/members?limit=2&after=m0");
    assert_eq!(ids(&page, "members"), ["m1", "m2"]);
    assert_eq!(page["next_after"], "m2", "more follow: {page}");
    let (_, last) = node.get("/v1/members?limit=2&after=m2");
    assert_eq!(ids(&last, "members"), ["m3"]);
    assert!(last.get("next_after").is_none(), "the last page: {last}");
    let (code, m0) = node.get("/v1/members/m0");
    assert_eq!((code, m0["id"].as_str(), m0["weight"].as_u64()), (200, Some("m0"), Some(1)));
    assert_eq!(node.get("/v1/members/nobody").0, 404);

    let (_, nodes) = node.get("/v1/nodes");
    assert_eq!(ids(&nodes, "nodes"), ["n0", "n1", "n2", "n3"]);
    let (code, n1) = node.get("/v1/nodes/n1");
    assert_eq!(code, 200);
    for field in ["id", "kind", "owner", "weight", "address", "key", "key_history", "attested_at", "admitted_at"] {
        assert!(n1.get(field).is_some(), "the node record lacks {field}: {n1}");
    }
    assert_eq!(n1["owner"], "m1");
    assert_eq!(n1["attested_at"], 1, "the attestation of block 1: {n1}");

    let (_, accounts) = node.get("/v1/accounts");
    assert!(ids(&accounts, "accounts").contains(&"m0-compliance".to_owned()));
    let (code, auditor) = node.get("/v1/accounts/m0-auditor");
    assert_eq!(code, 200);
    assert_eq!(auditor["frozen"], true, "frozen in block 1: {auditor}");
    assert_eq!(auditor["roles"][0]["role"], "auditor");
    assert_eq!(auditor["roles"][0]["active"], true);
    assert!(auditor["history"].as_array().is_some_and(|h| !h.is_empty()), "the freeze names it: {auditor}");

    let (_, roles) = node.get("/v1/roles");
    assert!(ids(&roles, "roles").contains(&"auditor".to_owned()), "{roles}");
    assert!(roles["grants"].as_array().is_some_and(|g| g.iter().any(|g| g["account"] == "m0-auditor")));
    let (code, policy) = node.get("/v1/policy");
    assert_eq!(code, 200);
    assert!(policy["rules"].as_array().is_some_and(|r| !r.is_empty()), "{policy}");
    let (code, params) = node.get("/v1/params");
    assert_eq!((code, params["max_block_transactions"].as_u64()), (200, Some(20_000)));

    let admit = node.known.admit.to_string();
    let (_, pending) = node.get("/v1/proposals?status=pending");
    assert_eq!(ids(&pending, "proposals"), std::slice::from_ref(&admit));
    let (_, executed) = node.get("/v1/proposals?status=executed");
    assert_eq!(ids(&executed, "proposals").len(), 1, "the freeze: {executed}");
    assert_eq!(node.get("/v1/proposals?status=sideways").0, 400);
    for name in ["open", "applied", "closed"] {
        let (code, error) = node.get(&format!("/v1/proposals?status={name}"));
        assert_eq!((code, error["code"].as_str()), (400, Some("bad_request")), "{name}: {error}");
    }
    for status in api_types::ProposalStatusName::ALL {
        assert_eq!(node.get(&format!("/v1/proposals?status={status}")).0, 200, "{status}");
    }
    let (_, first) = node.get("/v1/proposals?limit=1");
    let after = first["next_after"].as_str().expect("two proposals, one per page").to_owned();
    let (_, second) = node.get(&format!("/v1/proposals?limit=1&after={after}"));
    assert_eq!(ids(&second, "proposals").len(), 1);
    assert_ne!(ids(&first, "proposals"), ids(&second, "proposals"), "`after` moves to the next page");
    assert_eq!(node.get("/v1/proposals?limit=0").0, 400);
    assert_eq!(node.get("/v1/proposals?limit=1001").0, 400);
    let (code, proposal) = node.get(&format!("/v1/proposals/{admit}"));
    assert_eq!(code, 200);
    assert_eq!(proposal["status"]["status"], "pending");
    assert_eq!(proposal["approvals"].as_array().map(Vec::len), Some(1));
    assert_eq!(proposal["receipts"][0]["hash"], node.known.admit_tx.to_string());
    assert_eq!(proposal["receipts"][0]["height"], 2);
    assert_eq!(node.get(&format!("/v1/proposals/{}", Digest::ZERO)).0, 404);

    let (code, blocks) = node.get("/v1/blocks?limit=2");
    assert_eq!(code, 200);
    let heights: Vec<u64> =
        blocks["blocks"].as_array().expect("a list").iter().filter_map(|b| b["height"].as_u64()).collect();
    assert_eq!(heights, [3, 2]);
    assert_eq!(blocks["next_before"], 2);
    let (_, older) = node.get("/v1/blocks?before=2");
    assert_eq!(older["blocks"][0]["height"], 1);
    assert_eq!(node.get("/v1/blocks?limit=100").0, 200);
    assert_eq!(node.get("/v1/blocks?limit=101").0, 400);
    assert_eq!(node.get("/v1/blocks?limit=0").0, 400);
    let (code, block) = node.get("/v1/blocks/1");
    assert_eq!(code, 200);
    for field in ["height", "hash", "block", "certificate", "receipts"] {
        assert!(block.get(field).is_some(), "the block lacks {field}");
    }
    assert_eq!(block["block"]["transactions"].as_array().map(Vec::len), Some(2));
    assert_eq!(block["block"]["header"]["height"], 1);
    assert_eq!(node.get("/v1/blocks/99").0, 404);
    let (code, error) = node.get("/v1/blocks/tall");
    assert_eq!((code, error["code"].as_str()), (400, Some("bad_request")));

    let (code, tx) = node.get(&format!("/v1/transactions/{}", node.known.attest));
    assert_eq!(code, 200);
    assert_eq!(
        (tx["hash"].as_str(), tx["height"].as_u64(), tx["index"].as_u64()),
        (Some(&*node.known.attest.to_string()), Some(1), Some(0))
    );
    assert_eq!(tx["receipt"]["outcome"]["status"], "applied", "{tx}");
    assert!(tx["transaction"]["signature"].is_string());
    assert_eq!(node.get(&format!("/v1/transactions/{}", Digest::ZERO)).0, 404);

    let (code, evidence) = node.get("/v1/evidence");
    assert_eq!((code, evidence["evidence"].as_array().map(Vec::len)), (200, Some(0)));
    let (code, error) = node.get("/v1/nowhere");
    assert_eq!((code, error["code"].as_str()), (404, Some("not_found")));
    let (code, error) = node.post("/v1/status", "application/json", b"{}");
    assert_eq!((code, error["code"].as_str()), (405, Some("method_not_allowed")));
}

/// A good transaction posted as JSON and as canonical bytes reaches the runtime and comes back with its hash; a
/// rejected one is a 422 naming the reason; malformed JSON, garbage bytes, a foreign content type and an
/// oversized body are clear 4xx errors; the server keeps serving throughout.
#[test]
fn submissions_are_admitted_or_refused_with_a_reason() {
    let mut node = Served::start(true);
    let ids = node.genesis.identity();
    let c = &node.producer.chain;
    let json_tx = c.node_tx("n2", Payload::AttestReadiness { synced_height: Height(3) });
    let bytes_tx = c.node_tx("n3", Payload::AttestReadiness { synced_height: Height(3) });

    let body = serde_json::to_vec(&json_tx).expect("serialises");
    let (code, answer) = node.post("/v1/transactions", "application/json", &body);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["tx_hash"], json_tx.tx.hash(&ids).to_string());
    let (code, answer) = node.post("/v1/transactions", "application/octet-stream", &encode(&bytes_tx));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["tx_hash"], bytes_tx.tx.hash(&ids).to_string());
    assert_eq!(*node.admitted.lock().expect("not poisoned"), [json_tx.clone(), bytes_tx]);

    let (code, error) = node.post("/v1/transactions", "application/json", &body);
    assert_eq!(
        (code, error["code"].as_str(), error["rejection"].as_str()),
        (422, Some("rejected"), Some("duplicate_transaction"))
    );
    let c = &mut node.producer.chain;
    let proposal = c.proposal(
        Principal::Account(account("m0-auditor")),
        vec![Action::FreezeAccount { account: account("m2-ops") }],
    );
    let frozen = c.account_tx("m0-auditor", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    let (code, error) =
        node.post("/v1/transactions", "application/json", &serde_json::to_vec(&frozen).expect("serialises"));
    assert_eq!((code, error["rejection"].as_str()), (422, Some("account_frozen")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (code, error) = node.post("/v1/transactions", "application/json", b"{\"tx\": ");
    assert_eq!((code, error["code"].as_str()), (400, Some("malformed")));
    let (code, error) = node.post("/v1/transactions", "application/octet-stream", &[0xff; 64]);
    assert_eq!((code, error["code"].as_str()), (400, Some("malformed")));
    let (code, error) = node.post("/v1/transactions", "text/plain", &body);
    assert_eq!((code, error["code"].as_str()), (415, Some("unsupported_media_type")));
    let huge = vec![b' '; synod::rpc::MAX_BODY_BYTES.saturating_add(1)];
    let (code, error) = node.post("/v1/transactions", "application/json", &huge);
    assert_eq!((code, error["code"].as_str()), (413, Some("payload_too_large")));
    assert_eq!(node.get("/v1/status").0, 200);
}

/// With the runtime gone, a submission is a 503 `unavailable`, and reads still work.
#[test]
fn submissions_without_a_runtime_are_unavailable() {
    let node = Served::start(false);
    let tx = node.producer.chain.node_tx("n2", Payload::AttestReadiness { synced_height: Height(3) });
    let (code, error) =
        node.post("/v1/transactions", "application/json", &serde_json::to_vec(&tx).expect("serialises"));
    assert_eq!((code, error["code"].as_str()), (503, Some("unavailable")));
    assert_eq!(node.get("/v1/blocks/1").0, 200);
}

/// The long poll answers the transaction once a block includes it, and 408 `timeout` when none does in time.
#[test]
fn wait_answers_once_the_transaction_is_finalised() {
    let mut node = Served::start(true);
    let ids = node.genesis.identity();
    let tx = node.producer.chain.node_tx("n2", Payload::AttestReadiness { synced_height: Height(3) });
    let hash = tx.tx.hash(&ids);

    let (code, error) = node.get(&format!("/v1/transactions/{hash}/wait?timeout_ms=50"));
    assert_eq!((code, error["code"].as_str()), (408, Some("timeout")));
    let (code, error) = node.get(&format!("/v1/transactions/{hash}/wait?timeout_ms=60001"));
    assert_eq!((code, error["code"].as_str()), (400, Some("bad_request")), "longer than the node waits: {error}");

    let url = node.url(&format!("/v1/transactions/{hash}/wait?timeout_ms=20000"));
    let agent = node.agent.clone();
    let waiter = std::thread::spawn(move || {
        let mut response = agent.get(&url).call().expect("the server answers");
        let code = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.body_mut().read_to_string().expect("text")).expect("JSON");
        (code, body)
    });
    node.commit(vec![tx]);
    let (code, body) = waiter.join().expect("the waiter finishes");
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["hash"].as_str(), body["height"].as_u64()), (Some(&*hash.to_string()), Some(4)));
    assert_eq!(body["receipt"]["outcome"]["status"], "applied");
}

/// An event stream delivers the `finalized` event of a block the runtime announces, as the `ChainEvent` JSON.
#[test]
fn events_stream_finalised_blocks() {
    let mut node = Served::start(true);
    let response = node.agent.get(&node.url("/v1/events")).call().expect("the stream opens");
    assert_eq!(response.status().as_u16(), 200);
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let tx = node.producer.chain.node_tx("n3", Payload::AttestReadiness { synced_height: Height(3) });
    let hash = tx.tx.hash(&node.genesis.identity());
    node.commit(vec![tx]);
    let mut event = None;
    let mut data = None;
    for line in lines.by_ref() {
        let line = line.expect("the stream reads");
        if let Some(name) = line.strip_prefix("event:") {
            event = Some(name.trim().to_owned());
        } else if let Some(text) = line.strip_prefix("data:") {
            data = Some(serde_json::from_str::<Value>(text.trim()).expect("the data is JSON"));
            break;
        }
    }
    assert_eq!(event.as_deref(), Some("finalized"));
    let data = data.expect("an event arrived");
    assert_eq!((data["type"].as_str(), data["height"].as_u64()), (Some("finalized"), Some(4)));
    assert_eq!(data["transactions"][0]["hash"], hash.to_string());
}

/// `/metrics` parses as Prometheus text and carries the published status's counters (p2p refusals by reason,
/// height) and the API's request counters.
#[test]
fn metrics_parse_and_carry_the_status() {
    let node = Served::start(true);
    let mut status = node.status.borrow().clone();
    status.height = Height(3);
    status.counters.p2p.refused.insert("unknown key".to_owned(), 5);
    status.counters.host.bad_signatures = 2;
    node.status.send_replace(status);
    assert_eq!(node.get("/v1/status").0, 200);

    let (code, text) = node.get_text("/metrics");
    assert_eq!(code, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");
    let value = |name: &str, label: Option<(&str, &str)>| {
        scrape.samples.iter().find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v))).map(
            |s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            },
        )
    };
    assert_eq!(value("synod_p2p_refused_total", Some(("reason", "unknown key"))), Some(5.0));
    assert_eq!(value("synod_bad_signatures_total", None), Some(2.0));
    assert_eq!(value("synod_height", None), Some(3.0));
    assert_eq!(value("synod_api_requests_total", Some(("route", "/v1/status"))), Some(1.0));
}

/// `/v1/openapi.json` is an OpenAPI 3.1 document of exactly the routes the router serves, generated from the
/// API's types: every operation with a parameter or a body documents its 400 with the error body, and a 500; the
/// page bounds are the ones the node applies; ids carry their patterns and bodies their encodings.
#[test]
fn openapi_describes_the_routes_as_they_behave() {
    let node = Served::start(true);
    let (code, doc) = node.get("/v1/openapi.json");
    assert_eq!(code, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort_unstable();
    let mut expected = vec![
        "/healthz",
        "/metrics",
        "/v1/accounts",
        "/v1/accounts/{id}",
        "/v1/blocks",
        "/v1/blocks/{height}",
        "/v1/events",
        "/v1/evidence",
        "/v1/members",
        "/v1/members/{id}",
        "/v1/nodes",
        "/v1/nodes/{id}",
        "/v1/openapi.json",
        "/v1/params",
        "/v1/policy",
        "/v1/proofs/account/{id}",
        "/v1/proofs/anchor/{id}",
        "/v1/proofs/grant/{id}",
        "/v1/proofs/member/{id}",
        "/v1/proofs/node/{id}",
        "/v1/proposals",
        "/v1/proposals/dry-run",
        "/v1/proposals/{id}",
        "/v1/roles",
        "/v1/status",
        "/v1/transactions",
        "/v1/transactions/{hash}",
        "/v1/transactions/{hash}/wait",
    ];
    expected.sort_unstable();
    assert_eq!(documented, expected);

    let zero = Digest::ZERO.to_string();
    for (path, item) in paths {
        // The router serves every documented route: a request to it is never the fallback's "no such route".
        let concrete = path.replace("{id}", "x").replace("{height}", "1").replace("{hash}", &zero);
        let concrete = if path == "/v1/proofs/grant/{id}" { concrete.replace("/x", "/x:y") } else { concrete };
        if !path.ends_with("/wait") && path != "/v1/events" {
            let (_, text) = node.get_text(&concrete);
            assert!(!text.contains("no such route"), "{path} is documented but not served");
        }
        for (method, operation) in item.as_object().expect("a path item") {
            let responses = &operation["responses"];
            assert!(responses.get("500").is_some(), "{method} {path} lacks its 500");
            let takes_input = operation.get("parameters").is_some_and(|p| p.as_array().is_some_and(|p| !p.is_empty()))
                || operation.get("requestBody").is_some();
            if takes_input {
                assert_eq!(
                    responses["400"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} documents no 400"
                );
            }
        }
    }

    let parameter = |path: &str, name: &str| {
        paths[path]["get"]["parameters"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
    };
    for path in ["/v1/members", "/v1/nodes", "/v1/accounts", "/v1/proposals", "/v1/evidence"] {
        let limit = parameter(path, "limit");
        assert_eq!((limit["schema"]["minimum"].as_u64(), limit["schema"]["maximum"].as_u64()), (Some(1), Some(1000)));
    }
    assert_eq!(parameter("/v1/blocks", "limit")["schema"]["maximum"], 100);
    assert_eq!(parameter("/v1/transactions/{hash}/wait", "timeout_ms")["schema"]["maximum"], 60_000);
    assert!(parameter("/v1/proposals", "after").is_object() && parameter("/v1/members", "after").is_object());
    let status = parameter("/v1/proposals", "status");
    let status_ref = status["schema"]["$ref"].as_str().or_else(|| status["schema"]["oneOf"][0]["$ref"].as_str());
    let status_schema = status_ref.and_then(|r| r.rsplit('/').next()).map(|name| &doc["components"]["schemas"][name]);
    assert_eq!(
        status_schema.map(|s| s["enum"].clone()),
        Some(serde_json::json!(api_types::ProposalStatusName::names())),
        "{status}"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Name"]["pattern"], api_types::schema::NAME_PATTERN);
    assert_eq!(schemas["Sha256"]["pattern"], api_types::schema::SHA256_PATTERN);
    assert_eq!(parameter("/v1/members/{id}", "id")["schema"]["$ref"], "#/components/schemas/Name");
    assert_eq!(parameter("/v1/proposals/{id}", "id")["schema"]["$ref"], "#/components/schemas/Sha256");

    let submit = &paths["/v1/transactions"]["post"];
    let content = &submit["requestBody"]["content"];
    assert!(content.get("application/json").is_some());
    assert_eq!(content["application/octet-stream"]["schema"]["$ref"], "#/components/schemas/CanonicalBytes");
    assert_eq!(schemas["CanonicalBytes"]["format"], "binary");
    for status in ["200", "400", "413", "415", "422", "503"] {
        assert!(submit["responses"].get(status).is_some(), "POST /v1/transactions lacks {status}");
    }
    for path in ["/v1/proofs/node/{id}", "/v1/proofs/grant/{id}", "/v1/events"] {
        let busy = &paths[path]["get"]["responses"]["503"];
        assert!(busy["headers"]["Retry-After"].is_object(), "{path}: a busy answer documents its Retry-After: {busy}");
    }
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    let limits = synod::rpc::bridge::ApiLimits::default();
    let stated = format!("At most {} proofs are built and {} event streams", limits.proof_builds, limits.event_streams);
    assert!(description.contains(&stated), "the description states the limits in force: {description}");
    let codes = schemas["ErrorCode"]["enum"].as_array().cloned().unwrap_or_default();
    assert!(codes.iter().any(|code| code == "busy"), "{codes:?}");
    let events = &paths["/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
    assert_eq!(events["$ref"], "#/components/schemas/StreamEvent");

    // Every reference resolves to a component.
    let mut references = Vec::new();
    collect_refs(&doc, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let name = reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{reference}"));
        assert!(schemas.get(name).is_some(), "{reference} names no component");
    }
}

/// Every `$ref` in `value`.
fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_refs(field, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

/// A proof served for a node and for a grant verifies offline from the genesis, through the same code as
/// `synod verify-proof`, and shows the record as stored; a bad kind is a 400.
#[test]
fn proofs_verify_offline() {
    let node = Served::start(true);
    let genesis_path = node.dir.path().join("genesis.json");
    std::fs::write(&genesis_path, serde_json::to_vec(&node.genesis).expect("serialises")).expect("written");
    for (path, what) in [("/v1/proofs/node/n1", "node"), ("/v1/proofs/grant/m0-auditor:auditor", "grant")] {
        let (code, text) = node.get_text(path);
        assert_eq!(code, 200, "{text}");
        let bundle: ProofBundle = serde_json::from_str(&text).expect("a proof bundle");
        let file = node.dir.path().join("bundle.json");
        std::fs::write(&file, &text).expect("written");
        let args = VerifyArgs { bundle: file, genesis: genesis_path.clone(), checkpoint: None, json: true };
        let verified = verify_bundle(&args).expect("the bundle verifies");
        assert_eq!(verified.height, Height(3));
        assert_eq!(verified.record, bundle.record);
        match (what, verified.value) {
            ("node", Some(RecordValue::Node(record))) => assert_eq!(record.attested_at, Some(Height(1))),
            ("grant", Some(RecordValue::Grant(_))) => {}
            (_, other) => panic!("{path}: unexpected value {other:?}"),
        }
    }
    let (code, error) = node.get("/v1/proofs/block/1");
    assert_eq!((code, error["code"].as_str()), (404, Some("not_found")), "no such kind, no such route");
    let (code, error) = node.get("/v1/proofs/grant/m0-auditor");
    assert_eq!((code, error["code"].as_str()), (400, Some("bad_request")), "a grant is ACCOUNT:ROLE");
}

/// A proposal dry run answers the receipt the execution would produce.
#[test]
fn dry_run_simulates_a_proposal() {
    let mut node = Served::start(true);
    let proposal = node
        .producer
        .chain
        .proposal(Principal::Account(account("m0-gov")), vec![Action::FreezeAccount { account: account("m3-ops") }]);
    let (code, run) =
        node.post("/v1/proposals/dry-run", "application/json", &serde_json::to_vec(&proposal).expect("serialises"));
    assert_eq!(code, 200, "{run}");
    assert_eq!(run["receipt"]["outcome"]["status"], "applied", "{run}");
    assert!(run["requirements"].as_array().is_some_and(|r| !r.is_empty()));
    let (code, _) = node.post("/v1/proposals/dry-run", "application/octet-stream", &encode(&proposal));
    assert_eq!(code, 200);
}

/// Shutting down ends the server cleanly, with an open event stream.
#[test]
fn serve_stops_on_shutdown() {
    let mut node = Served::start(true);
    let stream = node.agent.get(&node.url("/v1/events")).call().expect("the stream opens");
    let shutdown = node.shutdown.take().expect("not yet shut down");
    shutdown.send(()).expect("the server listens");
    let server = node.server.take().expect("still serving");
    let result = node.runtime.block_on(async { tokio::time::timeout(Duration::from_secs(20), server).await });
    assert!(matches!(result, Ok(Ok(Ok(())))), "serve returned {result:?}");
    drop(stream);
}
