//! The node client, run as the real binary against a test double of a node's HTTP API: a small axum server on
//! 127.0.0.1:0 that answers canned JSON and records what it was sent.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use governance_contracts::crypto::Digest;
use governance_contracts::ids::ProposalId;
use governance_contracts::testkit::TestChain;
use governance_contracts::types::{Payload, SignedTransaction};
use serde_json::json;

mod common;
use common::member_bundle;

/// One request the test double received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct Double {
    /// Canned answers by `"METHOD /path"`.
    answers: BTreeMap<String, (u16, String)>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Double>>;

async fn answer(
    State(double): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut double = double.lock().expect("the double's lock");
    double.seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
        body: body.to_vec(),
    });
    match double.answers.get(&format!("{method} {}", uri.path())) {
        Some((status, body)) => (StatusCode::from_u16(*status).expect("a canned status"), body.clone()),
        None => (StatusCode::NOT_FOUND, r#"{"code":"not_found","message":"no such path"}"#.to_owned()),
    }
}

/// A running test double with its canned answers; it stops when the test process ends.
struct Server {
    url: String,
    double: Shared,
}

impl Server {
    fn start(answers: &[(&str, u16, &str)]) -> Self {
        let double = Shared::default();
        {
            let mut d = double.lock().expect("the double's lock");
            for (route, status, body) in answers {
                d.answers.insert((*route).to_owned(), (*status, (*body).to_owned()));
            }
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let address: SocketAddr = listener.local_addr().expect("its address");
        let app = axum::Router::new().fallback(answer).with_state(double.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                axum::serve(listener, app).await.expect("the double serves");
            });
        });
        Self { url: format!("http://{address}"), double }
    }

    fn seen(&self) -> Vec<Seen> {
        self.double.lock().expect("the double's lock").seen.clone()
    }
}

fn synod(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .env_remove("SYNOD_NODE")
        .output()
        .expect("the synod binary runs")
}

/// Runs `synod` and returns its standard output, failing the test with its error if it failed.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = synod(dir, args);
    assert!(out.status.success(), "synod {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `synod`, expecting a clean failure: exit code 1 and an `error:` line naming each of `needles`, never a
/// panic; returns its standard output.
fn fails(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let out = synod(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "synod {args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "synod {args:?}: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "synod {args:?}: {needle:?} missing from {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

const STATUS: &str = r#"{"chain_id":"client-test","genesis_hash":"sha256:1111111111111111111111111111111111111111111111111111111111111111","node_id":"n1","kind":"sealer","height":42,"last_block_hash":"sha256:2222222222222222222222222222222222222222222222222222222222222222","last_block_time_ms":1700000000000,"peers":[{"node_id":"n2","address":"127.0.0.1:7702","direction":"outbound"}],"syncing":false,"sync_target":null,"mempool_size":3,"counters":{"host":{"evidence":0}}}"#;

const HASH: &str = "sha256:abababababababababababababababababababababababababababababababab";

/// `synod status` shows the chain, genesis hash, node, kind, height, last block, sync state and each peer, and
/// with `--json` prints the node's JSON byte for byte.
#[test]
fn status_prints_the_fields_and_json_unchanged() {
    let server = Server::start(&[("GET /v1/status", 200, STATUS)]);
    let dir = tempfile::tempdir().expect("temp dir");
    let text = ok(dir.path(), &["status", "--node", &server.url]);
    for needle in [
        "client-test",
        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "n1 (sealer)",
        "42",
        "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "2023-11-14T22:13:20.000Z",
        "syncing",
        "n2",
        "127.0.0.1:7702",
        "outbound",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
    assert_eq!(ok(dir.path(), &["status", "--json", "--node", &server.url]), format!("{STATUS}\n"));
    let seen = server.seen();
    assert!(seen.iter().all(|s| s.method == "GET" && s.path == "/v1/status"), "{seen:?}");
}

/// A signed transaction of the test chain, written where `synod tx build` would write it.
fn transaction_file(dir: &Path) -> (SignedTransaction, std::path::PathBuf) {
    let chain = TestChain::with_members(1);
    let proposal = ProposalId(Digest::ZERO);
    let tx = chain.account_tx("m0-gov", Payload::RevokeApproval { proposal });
    let path = dir.join("tx.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&tx).expect("JSON")).expect("written");
    (tx, path)
}

/// `synod tx submit` posts the file's transaction as `application/json` to `/v1/transactions` and prints the hash
/// the node answered (`--json`: the node's answer unchanged).
#[test]
fn submit_posts_the_file_and_prints_the_hash() {
    let answer = format!(r#"{{"tx_hash":"{HASH}"}}"#);
    let server = Server::start(&[("POST /v1/transactions", 200, &answer)]);
    let dir = tempfile::tempdir().expect("temp dir");
    let (tx, path) = transaction_file(dir.path());
    let file = path.to_str().expect("a UTF-8 path");
    assert_eq!(ok(dir.path(), &["tx", "submit", file, "--node", &server.url]).trim(), HASH);
    assert_eq!(ok(dir.path(), &["tx", "submit", file, "--json", "--node", &server.url]), format!("{answer}\n"));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let post = &seen[0];
    assert_eq!((post.method.as_str(), post.path.as_str()), ("POST", "/v1/transactions"));
    assert!(post.content_type.starts_with("application/json"), "{}", post.content_type);
    let sent: SignedTransaction = serde_json::from_slice(&post.body).expect("the body is a signed transaction");
    assert_eq!(sent, tx);
}

/// A transaction the node refuses (4xx with a code, message and rejection) prints all three and exits 1; a file
/// that is not a transaction is refused before anything is sent.
#[test]
fn submit_refusal_prints_the_reason_and_exits_1() {
    let refusal = r#"{"code":"rejected","message":"the sender's account is frozen","rejection":"account_frozen"}"#;
    let server = Server::start(&[("POST /v1/transactions", 422, refusal)]);
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, path) = transaction_file(dir.path());
    let file = path.to_str().expect("a UTF-8 path");
    fails(
        dir.path(),
        &["tx", "submit", file, "--node", &server.url],
        &["rejected", "the sender's account is frozen", "account_frozen"],
    );
    std::fs::write(dir.path().join("bad.json"), r#"{"not":"a transaction"}"#).expect("written");
    fails(dir.path(), &["tx", "submit", "bad.json", "--node", &server.url], &["bad.json"]);
    assert_eq!(server.seen().len(), 1, "the bad file must not reach the node");
}

/// A receipt of the test chain for a transaction with `HASH`, applied or rejected.
fn finalised(applied: bool) -> String {
    let outcome = if applied {
        json!({"status": "applied"})
    } else {
        json!({"status": "rejected", "reason": {"reason": "bad_signature"}})
    };
    json!({
        "hash": HASH,
        "height": 7,
        "index": 0,
        "transaction": {},
        "receipt": {"tx": HASH, "outcome": outcome, "events": []},
    })
    .to_string()
}

/// `synod tx wait` long-polls `/v1/transactions/{hash}/wait` with `timeout_ms`, prints the height and outcome of a
/// finalised transaction, exits 1 when its receipt records a rejection, and exits 1 when the node answers 408
/// until the timeout.
#[test]
fn wait_reports_the_outcome_and_fails_on_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let route = format!("GET /v1/transactions/{HASH}/wait");

    let applied = Server::start(&[(&route, 200, &finalised(true))]);
    let text = ok(dir.path(), &["tx", "wait", HASH, "--timeout", "5s", "--node", &applied.url]);
    assert!(text.contains("applied") && text.contains("height 7"), "{text}");
    let seen = applied.seen();
    assert_eq!(seen.len(), 1);
    let asked: u64 = seen[0].query.strip_prefix("timeout_ms=").expect("timeout_ms asked").parse().expect("a number");
    assert!(asked > 0 && asked <= 5000, "{}", seen[0].query);

    let rejected = Server::start(&[(&route, 200, &finalised(false))]);
    let out = fails(dir.path(), &["tx", "wait", HASH, "--node", &rejected.url], &["not applied", "height 7"]);
    assert!(out.contains("rejected"), "{out}");

    let slow = Server::start(&[(&route, 408, r#"{"code":"timeout","message":"not finalised yet"}"#)]);
    fails(dir.path(), &["tx", "wait", HASH, "--timeout", "300ms", "--node", &slow.url], &["not finalised within"]);
    assert!(!slow.seen().is_empty());

    fails(dir.path(), &["tx", "wait", "not-a-hash", "--node", &slow.url], &["not-a-hash"]);
    let usage = synod(dir.path(), &["tx", "wait", HASH, "--timeout", "soon", "--node", &slow.url]);
    assert_eq!(usage.status.code(), Some(2), "a bad duration is a usage error");
    assert!(String::from_utf8_lossy(&usage.stderr).contains("soon"));
}

/// A node that is not listening gives one clear `error:` line and exit code 1, as does an answer that is not the
/// JSON expected.
#[test]
fn unreachable_node_and_bad_answers_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("its address");
    let url = format!("http://{closed}");
    fails(dir.path(), &["status", "--node", &url], &["cannot reach the node", &url]);

    let server = Server::start(&[("GET /v1/status", 200, "<html>not json</html>")]);
    fails(dir.path(), &["status", "--node", &server.url], &["status"]);
    fails(dir.path(), &["status", "--json", "--node", &server.url], &["not valid JSON"]);
    let broken = Server::start(&[("GET /v1/status", 500, "")]);
    fails(dir.path(), &["status", "--node", &broken.url], &["500"]);
}

/// The read commands ask the right paths with the right query, show each listed record's id and fields, show one
/// record field by field, and turn a 404 into an error naming the node's code and message.
#[test]
fn reads_show_lists_and_records() {
    let members = r#"{"members":[{"id":"org1","name":"Organisation 1","weight":1},{"id":"org2","name":"Organisation 2","weight":2}]}"#;
    let record = r#"{"id":"org 1/x","name":"Odd","governors":[{"account":"gov1","key":"ed25519:00"}]}"#;
    let proposals = r#"{"proposals":[{"id":"sha256:cc","status":"open"}],"next_cursor":"abc"}"#;
    let block = r#"{"height":3,"hash":"sha256:dd","block":{"header":{"time_ms":0,"proposer":"n1"},"transactions":[]},"certificate":{"round":1,"signatures":[{}]},"receipts":[]}"#;
    let server = Server::start(&[
        ("GET /v1/members", 200, members),
        ("GET /v1/members/org%201%2Fx", 200, record),
        ("GET /v1/proposals", 200, proposals),
        ("GET /v1/blocks/3", 200, block),
        ("GET /v1/params", 200, r#"{"max_block_transactions":20000,"block_interval_ms":1000}"#),
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let url = server.url.as_str();

    let text = ok(d, &["members", "--node", url]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("org1") && lines[0].contains("weight=1"), "{text}");
    assert!(lines[1].starts_with("org2") && lines[1].contains("name=Organisation 2"), "{text}");
    assert_eq!(ok(d, &["members", "--json", "--node", url]), format!("{members}\n"));

    let text = ok(d, &["members", "org 1/x", "--node", url]);
    assert!(text.contains("Odd") && text.contains("governors:") && text.contains("gov1"), "{text}");

    let text = ok(d, &["proposals", "--status", "open", "--limit", "5", "--node", url]);
    assert!(text.starts_with("sha256:cc") && text.contains("status=open") && text.contains("--cursor abc"), "{text}");

    let text = ok(d, &["blocks", "3", "--node", url]);
    assert!(text.contains("sha256:dd") && text.contains("n1") && text.contains("1 signatures"), "{text}");
    let text = ok(d, &["params", "--node", url]);
    assert!(text.contains("block_interval_ms") && text.contains("20000"), "{text}");

    fails(d, &["nodes", "n9", "--node", url], &["404", "not_found", "no such path"]);

    let seen = server.seen();
    let proposals = seen.iter().find(|s| s.path == "/v1/proposals").expect("proposals asked");
    assert_eq!(proposals.query, "status=open&limit=5");
    assert!(seen.iter().any(|s| s.path == "/v1/members/org%201%2Fx"), "{seen:?}");
}

/// `synod proof member m1 --out FILE` saves the node's bundle as sent, and `synod verify-proof` accepts the file;
/// a bundle for another record than the one asked for is refused and not saved.
#[test]
fn proof_is_saved_for_verify_proof() {
    let (bundle, genesis) = member_bundle();
    let body = serde_json::to_string(&bundle).expect("JSON");
    let server = Server::start(&[("GET /v1/proofs/member/m1", 200, &body), ("GET /v1/proofs/node/n1", 200, &body)]);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("genesis.json"), serde_json::to_string(&genesis).expect("JSON")).expect("written");

    let text = ok(d, &["proof", "member", "m1", "--out", "p.json", "--node", &server.url]);
    assert!(text.contains("member m1") && text.contains("height 1"), "{text}");
    assert_eq!(std::fs::read_to_string(d.join("p.json")).expect("saved"), body);
    let verified = ok(d, &["verify-proof", "--genesis", "genesis.json", "p.json", "--json"]);
    let verified: serde_json::Value = serde_json::from_str(&verified).expect("JSON");
    assert_eq!(verified["height"], 1);

    fails(d, &["proof", "member", "m1", "--out", "p.json", "--node", &server.url], &["--force"]);
    fails(d, &["proof", "node", "n1", "--out", "n.json", "--node", &server.url], &["member m1", "node n1"]);
    assert!(!d.join("n.json").exists());
}
