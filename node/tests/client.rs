//! The node client, run as the real `synod` binary against the real node API: the router served over a real store
//! ([`common::api::Served`], the server the API's own tests use), so a client that disagrees with the server on a
//! route, a parameter, a status name or a shape fails here. Only answers the real node never gives (a body that
//! is not JSON, an empty 500, a proof of another record) come from [`Hostile`], a listener that answers every
//! request with one fixed response.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use api_types::ProposalStatusName;
use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::Digest;
use governance_contracts::ids::{Height, ProposalId};
use governance_contracts::testkit::account;
use governance_contracts::types::{Action, Payload, Principal, SignedTransaction};

mod common;
use common::api::Served;
use common::member_bundle;

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

/// A node that misbehaves: it answers every request with one fixed HTTP response. It stops when the test process
/// ends.
struct Hostile {
    url: String,
}

impl Hostile {
    fn start(status: u16, content_type: &str, body: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = [0_u8; 8192];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { url }
    }
}

/// The items' first words (their ids) of a list the CLI printed, without the paging hint.
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with("more:"))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// `synod status` shows the chain, genesis hash, node, kind, height and sync state the node publishes, and with
/// `--json` prints the node's JSON byte for byte.
#[test]
fn status_prints_the_fields_and_json_unchanged() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let text = ok(dir.path(), &["status", "--node", &node.base]);
    let genesis_hash = node.genesis.hash().to_string();
    for needle in ["synod-test", genesis_hash.as_str(), "n0 (observer)", "height          3", "syncing         no"] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
    let (_, served) = node.get_text("/v1/status");
    assert_eq!(ok(dir.path(), &["status", "--json", "--node", &node.base]), format!("{served}\n"));
}

/// A signed transaction of the served chain, written where `synod tx build` would write it.
fn transaction_file(dir: &Path, tx: &SignedTransaction) -> String {
    let path = dir.join("tx.json");
    std::fs::write(&path, serde_json::to_vec_pretty(tx).expect("JSON")).expect("written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// `synod tx submit` sends the file's transaction, which the node admits to its mempool, and prints the hash the
/// node answered (`--json`: the node's answer unchanged).
#[test]
fn submit_sends_the_file_and_prints_the_hash() {
    let node = Served::start(true);
    let tx = node.producer.chain.node_tx("n2", Payload::AttestReadiness { synced_height: Height(3) });
    let hash = tx.tx.hash(&node.genesis.identity()).to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = transaction_file(dir.path(), &tx);
    assert_eq!(ok(dir.path(), &["tx", "submit", &file, "--node", &node.base]).trim(), hash);
    assert_eq!(*node.admitted.lock().expect("not poisoned"), [tx]);

    let other = node.producer.chain.node_tx("n3", Payload::AttestReadiness { synced_height: Height(3) });
    let file = transaction_file(dir.path(), &other);
    let json = ok(dir.path(), &["tx", "submit", &file, "--json", "--node", &node.base]);
    let answer: api_types::Submitted = serde_json::from_str(&json).expect("the node's answer");
    assert_eq!(answer.tx_hash, other.tx.hash(&node.genesis.identity()));
}

/// A transaction the node refuses prints its code, message and rejection and exits 1; a file that is not a
/// transaction is refused before anything is sent.
#[test]
fn submit_refusal_prints_the_reason_and_exits_1() {
    let mut node = Served::start(true);
    let c = &mut node.producer.chain;
    let proposal = c.proposal(
        Principal::Account(account("m0-auditor")),
        vec![Action::FreezeAccount { account: account("m2-ops") }],
    );
    let frozen = c.account_tx("m0-auditor", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = transaction_file(dir.path(), &frozen);
    fails(dir.path(), &["tx", "submit", &file, "--node", &node.base], &["422", "rejected", "account_frozen"]);
    std::fs::write(dir.path().join("bad.json"), r#"{"not":"a transaction"}"#).expect("written");
    fails(dir.path(), &["tx", "submit", "bad.json", "--node", &node.base], &["bad.json"]);
    assert!(node.admitted.lock().expect("not poisoned").is_empty());
}

/// `synod tx wait` long-polls until a block includes the transaction and prints its height and outcome; it exits 1
/// when the receipt records a rejection, and when the transaction is not finalised within `--timeout`.
#[test]
fn wait_reports_the_outcome_and_fails_on_timeout() {
    let mut node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let base = node.base.clone();

    let tx = node.producer.chain.node_tx("n2", Payload::AttestReadiness { synced_height: Height(3) });
    let hash = tx.tx.hash(&node.genesis.identity()).to_string();
    let waiting = {
        let (dir, hash, base) = (dir.path().to_path_buf(), hash.clone(), base.clone());
        std::thread::spawn(move || synod(&dir, &["tx", "wait", &hash, "--timeout", "30s", "--node", &base]))
    };
    // Commit once the waiter has asked (a block committed before it asks is found by its first look too).
    std::thread::sleep(Duration::from_millis(300));
    node.commit(vec![tx]);
    let out = waiting.join().expect("the waiter finishes");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&hash) && text.contains("applied at height 4, index 0"), "{text}");

    // A transaction a block includes and the contracts reject: a frozen account submits a proposal.
    let c = &mut node.producer.chain;
    let proposal = c.proposal(
        Principal::Account(account("m0-auditor")),
        vec![Action::FreezeAccount { account: account("m2-ops") }],
    );
    let frozen = c.account_tx("m0-auditor", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    let frozen_hash = frozen.tx.hash(&node.genesis.identity()).to_string();
    node.commit(vec![frozen]);
    let out = fails(dir.path(), &["tx", "wait", &frozen_hash, "--node", &base], &["not applied", "height 5"]);
    assert!(out.contains("rejected") && out.contains("m0-auditor is frozen"), "{out}");

    let never = Digest::Sha256([7; 32]).to_string();
    fails(dir.path(), &["tx", "wait", &never, "--timeout", "300ms", "--node", &base], &["not finalised within"]);
    fails(dir.path(), &["tx", "wait", "not-a-hash", "--node", &base], &["not-a-hash"]);
    let usage = synod(dir.path(), &["tx", "wait", &never, "--timeout", "soon", "--node", &base]);
    assert_eq!(usage.status.code(), Some(2), "a bad duration is a usage error");
    assert!(String::from_utf8_lossy(&usage.stderr).contains("soon"));
}

/// A node that is not listening gives one clear `error:` line and exit code 1, as does an answer that is not the
/// JSON expected or a server error.
#[test]
fn unreachable_node_and_bad_answers_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("its address");
    let url = format!("http://{closed}");
    fails(dir.path(), &["status", "--node", &url], &["cannot reach the node", &url]);

    let html = Hostile::start(200, "text/html", "<html>not json</html>");
    fails(dir.path(), &["status", "--node", &html.url], &["status"]);
    fails(dir.path(), &["status", "--json", "--node", &html.url], &["not valid JSON"]);
    let broken = Hostile::start(500, "text/plain", "");
    fails(dir.path(), &["status", "--node", &broken.url], &["500"]);
    // A JSON answer of another shape than the node's is refused too, not shown as if it were one.
    let shapeless = Hostile::start(200, "application/json", r#"{"members":[{"id":"org1"}]}"#);
    fails(dir.path(), &["members", "--node", &shapeless.url], &["members"]);
}

/// The read commands show each listed record's id and fields, page through a list with `--limit` and the
/// `--after` the previous page showed, show one record field by field, and turn a 404 into an error naming the
/// node's code and message.
#[test]
fn reads_show_lists_records_and_pages() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let url = node.base.as_str();

    let text = ok(d, &["members", "--node", url]);
    assert_eq!(listed(&text), ["m0", "m1", "m2", "m3"], "{text}");
    assert!(text.lines().next().is_some_and(|line| line.contains("weight=1")), "{text}");
    let (_, served) = node.get_text("/v1/members");
    assert_eq!(ok(d, &["members", "--json", "--node", url]), format!("{served}\n"));

    let first = ok(d, &["members", "--limit", "3", "--node", url]);
    assert_eq!(listed(&first), ["m0", "m1", "m2"], "{first}");
    assert!(first.ends_with("more: --after m2\n"), "{first}");
    let rest = ok(d, &["members", "--limit", "3", "--after", "m2", "--node", url]);
    assert_eq!(listed(&rest), ["m3"], "{rest}");
    assert!(!rest.contains("more:"), "{rest}");

    let text = ok(d, &["members", "m1", "--node", url]);
    assert!(text.contains("id:") && text.contains("m1") && text.contains("governors:"), "{text}");
    let text = ok(d, &["accounts", "m0-auditor", "--node", url]);
    assert!(text.contains("frozen:") && text.contains("true") && text.contains("history:"), "{text}");
    let text = ok(d, &["blocks", "3", "--node", url]);
    assert!(text.contains("height        3") && text.contains("n0"), "{text}");
    let text = ok(d, &["blocks", "--limit", "2", "--node", url]);
    assert!(text.starts_with("3  ") && text.contains("more: --before 2"), "{text}");
    let text = ok(d, &["params", "--node", url]);
    assert!(text.contains("block_interval_ms") && text.contains("20000"), "{text}");
    for command in ["roles", "policy", "evidence"] {
        ok(d, &[command, "--node", url]);
    }

    fails(d, &["nodes", "n9", "--node", url], &["404", "not_found", "no node n9"]);
    fails(d, &["members", "Not An Id", "--node", url], &["400", "bad_request", "not a valid member id"]);
}

/// The drift the CLI once had: `--status` takes exactly the status names the node takes (each answered by the
/// node), the old names are usage errors that never reach it, and `--after` pages through the proposals the way
/// the node pages them.
#[test]
fn proposals_filter_by_the_nodes_statuses_and_page_with_after() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let url = node.base.as_str();
    let (admit, freeze) = (node.known.admit.to_string(), node.known.freeze.to_string());

    let text = ok(d, &["proposals", "--status", "pending", "--node", url]);
    assert_eq!(listed(&text), std::slice::from_ref(&admit), "{text}");
    let text = ok(d, &["proposals", "--status", "executed", "--node", url]);
    assert_eq!(listed(&text), std::slice::from_ref(&freeze), "{text}");
    for status in ProposalStatusName::ALL {
        ok(d, &["proposals", "--status", status.as_str(), "--limit", "1000", "--node", url]);
    }
    for old in ["open", "applied", "closed"] {
        let out = synod(d, &["proposals", "--status", old, "--node", url]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--status {old}: {stderr}");
        assert!(stderr.contains("pending") && stderr.contains("cancelled"), "{stderr}");
    }

    let mut both = [admit, freeze];
    both.sort();
    let first = ok(d, &["proposals", "--limit", "1", "--node", url]);
    assert_eq!(listed(&first), [both[0].clone()], "{first}");
    let after = first.lines().find_map(|line| line.strip_prefix("more: --after ")).expect("a next page").to_owned();
    let second = ok(d, &["proposals", "--limit", "1", "--after", &after, "--node", url]);
    assert_eq!(listed(&second), [both[1].clone()], "{second}");
    assert!(!second.contains("more:"), "{second}");

    let text = ok(d, &["proposals", &both[0], "--node", url]);
    assert!(text.contains("status      ") && text.contains("transactions"), "{text}");
    let unknown = ProposalId(Digest::Sha256([9; 32])).to_string();
    fails(d, &["proposals", &unknown, "--node", url], &["404", "no proposal"]);
}

/// `synod proof` saves the bundle the node serves, which `synod verify-proof` accepts, for a member and for a
/// grant; a bundle for another record than the one asked for is refused and not saved.
#[test]
fn proof_is_saved_for_verify_proof() {
    let node = Served::start(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("genesis.json"), serde_json::to_string(&node.genesis).expect("JSON")).expect("written");

    let text = ok(d, &["proof", "member", "m1", "--out", "p.json", "--node", &node.base]);
    assert!(text.contains("member m1") && text.contains("height 3"), "{text}");
    let (_, served) = node.get_text("/v1/proofs/member/m1");
    assert_eq!(std::fs::read_to_string(d.join("p.json")).expect("saved"), served);
    let verified = ok(d, &["verify-proof", "--genesis", "genesis.json", "p.json", "--json"]);
    let verified: serde_json::Value = serde_json::from_str(&verified).expect("JSON");
    assert_eq!(verified["height"], 3);
    fails(d, &["proof", "member", "m1", "--out", "p.json", "--node", &node.base], &["--force"]);

    ok(d, &["proof", "grant", "m0-auditor:auditor", "--out", "g.json", "--node", &node.base]);
    ok(d, &["verify-proof", "--genesis", "genesis.json", "g.json"]);
    fails(d, &["proof", "grant", "m0-auditor", "--out", "x.json", "--node", &node.base], &["ACCOUNT:ROLE"]);

    let (bundle, _) = member_bundle();
    let wrong = Hostile::start(200, "application/json", &serde_json::to_string(&bundle).expect("JSON"));
    fails(d, &["proof", "node", "n1", "--out", "n.json", "--node", &wrong.url], &["member m1", "node n1"]);
    assert!(!d.join("n.json").exists());
}
