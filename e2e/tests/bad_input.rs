//! Bad input at every door of a running network: the HTTP API, the p2p port and the CLI's files. Each gets a clear
//! error, the node keeps running and finalising, and nothing already on chain is lost.

#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use e2e::Harness;
use e2e::sign::{self, Signer};
use governance_contracts::codec::{Name, encode};
use governance_contracts::crypto::SecretKey;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::Height;
use governance_contracts::types::{Proposal, SignedTransaction};
use serde_json::Value;

/// Blocks every 250 ms.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long any one wait may take.
const SOON: Duration = Duration::from_secs(60);
/// How long a node has to close a connection it refuses.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

fn network(name: &str) -> anyhow::Result<Harness> {
    let mut harness = Harness::new(name, 4, 0, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    harness.wait_all_height(2, SOON)?;
    Ok(harness)
}

/// Demo account `account` of the test network, with its key.
fn demo(harness: &Harness, account: &str) -> anyhow::Result<Signer> {
    sign::demo_account(&harness.dir().join("keys"), account)
}

/// `proposer`'s proposal to define role `role`, open until `expires_at`.
fn role_proposal(proposer: &Signer, role: &str, expires_at: Height) -> anyhow::Result<Proposal> {
    sign::proposal(&proposer.0, sign::define_role(role)?, expires_at, 0)
}

/// POSTs canonical bytes to `/v1/transactions` on `node`.
fn post_bytes(harness: &Harness, node: &str, bytes: &[u8]) -> anyhow::Result<(u16, Value)> {
    harness.post(node, "/v1/transactions", "application/octet-stream", bytes)
}

/// Asserts that `answer` is the error `status` with machine code `code` and, when given, rejection `rejection`.
fn assert_error(answer: (u16, Value), status: u16, code: &str, rejection: Option<&str>, what: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{what}: status {got}, body {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no message in {body}");
    if let Some(rejection) = rejection {
        assert_eq!(body["rejection"], rejection, "{what}: {body}");
    }
}

/// Submits `tx` to `n1` and waits until its receipt is finalised; returns its block's height.
fn submit_and_wait(harness: &mut Harness, chain: &ChainIdentity, tx: &SignedTransaction) -> anyhow::Result<u64> {
    let (code, body) = post_bytes(harness, "n1", &encode(tx))?;
    ensure!(code == 200, "a good transaction was refused: {code} {body}");
    let hash = tx.tx.hash(chain).to_string();
    let mut height = 0;
    harness.wait_until("the transaction's receipt", SOON, &["n1"], |h| {
        let (code, body) = h.get("n1", &format!("/v1/transactions/{hash}"))?;
        height = body["height"].as_u64().unwrap_or_default();
        Ok(code == 200)
    })?;
    Ok(height)
}

/// Malformed, oversized and mistyped bodies, bad signatures, a transaction signed for another chain, approvals
/// signed for another chain or given to an expired proposal, and transactions replayed (while valid and after
/// `valid_until`) are each refused by the API with their status and named reason; the node keeps finalising, the
/// transactions it had finalised are still served, and a good transaction sent afterwards is finalised.
#[test]
fn the_api_refuses_bad_requests_by_name_and_loses_nothing() -> anyhow::Result<()> {
    let mut harness = network("bad_input_api")?;
    let chain = harness.network().genesis.identity();
    let admin1 = demo(&harness, "org1-admin")?;
    let admin2 = demo(&harness, "org2-admin")?;
    let height = Height(harness.height("n1")?);

    // Something on chain before the bad input: an open proposal and a transaction valid for a few blocks only.
    let open = role_proposal(&admin1, "bad-input-open", height.plus(1_000))?;
    let short_lived = sign::submission(&chain, &admin1, &open, height.plus(12))?;
    let included_at = submit_and_wait(&mut harness, &chain, &short_lived)?;
    let soon_expired = role_proposal(&admin1, "bad-input-expiring", height.plus(20))?;
    submit_and_wait(&mut harness, &chain, &sign::submission(&chain, &admin1, &soon_expired, height.plus(20))?)?;

    // Bodies.
    assert_error(post_bytes(&harness, "n1", b"\x00\x01garbage")?, 400, "malformed", None, "garbage bytes");
    assert_error(
        harness.post("n1", "/v1/transactions", "application/json", b"{\"tx\": ")?,
        400,
        "malformed",
        None,
        "truncated JSON",
    );
    assert_error(
        harness.post("n1", "/v1/transactions", "text/plain", &encode(&short_lived))?,
        415,
        "unsupported_media_type",
        None,
        "a body of another type",
    );
    let oversized = vec![0_u8; synod::rpc::MAX_BODY_BYTES + 1];
    assert_error(post_bytes(&harness, "n1", &oversized)?, 413, "payload_too_large", None, "an oversized body");
    let mut truncated = encode(&short_lived);
    truncated.truncate(truncated.len() / 2);
    assert_error(post_bytes(&harness, "n1", &truncated)?, 400, "malformed", None, "a truncated transaction");

    // Signatures.
    let fresh = role_proposal(&admin1, "bad-input-fresh", height.plus(1_000))?;
    let good = sign::submission(&chain, &admin1, &fresh, height.plus(400))?;
    let mut forged = encode(&good);
    if let Some(last) = forged.last_mut() {
        *last ^= 0x01;
    }
    assert_error(post_bytes(&harness, "n1", &forged)?, 422, "rejected", Some("bad_signature"), "a bad signature");
    let elsewhere = ChainIdentity {
        chain_id: Name::new("another-chain").map_err(|e| anyhow!("chain id: {e}"))?,
        genesis_hash: chain.genesis_hash,
    };
    let other_chain = sign::submission(&elsewhere, &admin1, &fresh, height.plus(400))?;
    assert_error(
        post_bytes(&harness, "n1", &encode(&other_chain))?,
        422,
        "rejected",
        Some("bad_signature"),
        "a transaction signed for another chain id",
    );
    let foreign_approval = sign::approval(&chain, &admin2, &open, &elsewhere, height.plus(400))?;
    assert_error(
        post_bytes(&harness, "n1", &encode(&foreign_approval))?,
        422,
        "rejected",
        Some("bad_approval_signature"),
        "an approval signed for another chain id",
    );

    // Replays: a finalised transaction again while valid, and again once its validity passed; an approval given to a
    // proposal that expired.
    assert_error(
        post_bytes(&harness, "n1", &encode(&short_lived))?,
        422,
        "rejected",
        Some("duplicate_transaction"),
        "a replayed transaction",
    );
    harness.wait_height("n1", height.plus(21).0, SOON)?;
    let (code, body) = post_bytes(&harness, "n1", &encode(&short_lived))?;
    assert_eq!(code, 422, "a transaction replayed after valid_until: {body}");
    assert!(
        body["rejection"] == "transaction_expired" || body["rejection"] == "duplicate_transaction",
        "a transaction replayed after valid_until: {body}"
    );
    // The chain forgets a proposal once it has expired, so a late approval is refused as expired in the block
    // right after the expiry and as unknown from then on.
    let late = sign::approval(&chain, &admin2, &soon_expired, &chain, Height(harness.height("n1")?).plus(100))?;
    let (code, body) = post_bytes(&harness, "n1", &encode(&late))?;
    assert_eq!(code, 422, "an approval of an expired proposal: {body}");
    assert!(
        body["rejection"] == "proposal_expired" || body["rejection"] == "unknown_proposal",
        "an approval of an expired proposal: {body}"
    );

    // Queries.
    let (code, body) = harness.get("n1", "/v1/blocks/not-a-height")?;
    assert_eq!(code, 400, "a malformed height: {body}");
    let (code, body) = harness.get("n1", "/v1/transactions/sha256:zz")?;
    assert_eq!(code, 400, "a malformed hash: {body}");

    // The node still runs, finalises and serves what it had; a good transaction goes through.
    let now = harness.height("n1")?;
    harness.wait_all_height(now + 3, SOON)?;
    let (code, block) = harness.get("n2", &format!("/v1/blocks/{included_at}"))?;
    let hash = short_lived.tx.hash(&chain).to_string();
    ensure!(code == 200, "block {included_at} is gone: {block}");
    ensure!(
        e2e::load::block_receipts(&block).is_some_and(|hashes| hashes.contains(&hash)),
        "block {included_at} lost its transaction"
    );
    submit_and_wait(&mut harness, &chain, &good)?;
    let end = harness.height("n1")?;
    harness.wait_all_height(end, SOON)?;
    harness.assert_one_chain(end)
}

/// Waits until the peer closes `stream` (a read returns end of file or an error), failing after [`CLOSE_WITHIN`].
fn assert_closed(stream: &mut TcpStream, what: &str) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(CLOSE_WITHIN))?;
    let mut buffer = [0_u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                bail!("{what}: the node kept the connection open for {CLOSE_WITHIN:?}")
            }
            Err(_) => return Ok(()),
        }
    }
}

/// Garbage and truncated bytes sent to a sealer's p2p port, before any handshake and inside an authenticated
/// session (as an admitted node: garbage frames, a frame declared larger than the limit, a frame cut off): each
/// closes only that connection, the node counts it, keeps finalising with its peers, and the admitted node whose key
/// was used reconnects afterwards and catches up.
#[test]
fn garbage_and_truncated_p2p_traffic_closes_only_that_connection() -> anyhow::Result<()> {
    let mut harness = network("bad_input_p2p")?;
    // n4 is stopped so the test can speak with its key; three of four sealers keep finalising.
    harness.kill("n4")?;
    let target = harness.node("n1")?.p2p;

    // Before the handshake: random bytes, then a Noise message whose length prefix promises more than is sent.
    let mut stream = TcpStream::connect(target)?;
    let garbage: Vec<u8> = (0..4096_u32).map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[1]).collect();
    stream.write_all(&garbage)?;
    assert_closed(&mut stream, "garbage before the handshake")?;
    let mut stream = TcpStream::connect(target)?;
    stream.write_all(&[0xFF, 0xFF, 1, 2, 3, 4, 5])?;
    stream.shutdown(std::net::Shutdown::Write)?;
    assert_closed(&mut stream, "a truncated handshake message")?;

    // Inside a session, as n4.
    let before = harness.metric("n1", "synod_p2p_garbage_disconnects")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let chain = harness.network().genesis.identity();
    let key = synod::runtime::load_key(&synod::runtime::config::key_path(&harness.node("n4")?.home, 0))?;
    let n4 = harness.node("n4")?.id.clone();
    let n1 = harness.node("n1")?.id.clone();
    let n1_key = synod::runtime::load_key(&synod::runtime::config::key_path(&harness.node("n1")?.home, 0))?;
    let admission = OnlyPeer { id: n1.clone(), key: n1_key.public_key() };
    let max = synod::p2p::frame::MAX_FRAME_BYTES;
    runtime.block_on(async {
        // A frame of bytes that decode to no message.
        let mut session = connect(target, &chain, &n4, &key, &admission, &n1, max).await?;
        session.writer.write_frame(&garbage).await.map_err(|e| anyhow!("write: {e}"))?;
        expect_closed(&mut session.reader, "a garbage frame").await?;
        // A frame header declaring more than the limit.
        let mut session = connect(target, &chain, &n4, &key, &admission, &n1, max).await?;
        session.writer.write_chunk(&[0xFF, 0xFF, 0xFF, 0xFF, 0]).await.map_err(|e| anyhow!("write: {e}"))?;
        expect_closed(&mut session.reader, "an oversized frame header").await?;
        // A frame cut off in the middle: the header promises 1000 bytes, 10 arrive, the stream ends.
        let mut session = connect(target, &chain, &n4, &key, &admission, &n1, max).await?;
        let mut chunk = 1000_u32.to_be_bytes().to_vec();
        chunk.extend_from_slice(&[7; 10]);
        session.writer.write_chunk(&chunk).await.map_err(|e| anyhow!("write: {e}"))?;
        tokio::io::AsyncWriteExt::shutdown(session.writer.get_mut()).await?;
        expect_closed(&mut session.reader, "a truncated frame").await
    })?;
    // The status the metrics are read from is published as the node goes, so wait for it to show all three.
    harness.wait_until("n1 to count the three sessions it dropped for malformed data", SOON, &["n1"], |h| {
        Ok(h.metric("n1", "synod_p2p_garbage_disconnects")? >= before + 3)
    })?;

    // n1 kept running and finalising with n2 and n3; n4 comes back and catches up; one chain.
    let now = harness.height("n1")?;
    harness.wait_all_height(now + 3, SOON)?;
    harness.start("n4")?;
    let target_height = harness.height("n1")? + 2;
    harness.wait_all_height(target_height, SOON)?;
    harness.assert_one_chain(target_height)
}

/// Admits exactly one peer: the node the test dials.
struct OnlyPeer {
    id: governance_contracts::ids::NodeId,
    key: governance_contracts::crypto::PublicKey,
}

impl synod::p2p::Admission for OnlyPeer {
    fn may_connect(
        &self,
        key: &governance_contracts::crypto::PublicKey,
    ) -> Result<governance_contracts::ids::NodeId, synod::p2p::AdmissionError> {
        if *key == self.key {
            Ok(self.id.clone())
        } else {
            Err(governance_contracts::execution::Refusal::UnknownKey.into())
        }
    }

    fn dial_targets(&self) -> Vec<synod::p2p::DialTarget> {
        Vec::new()
    }
}

type Session = synod::p2p::handshake::Established<tokio::net::TcpStream>;

/// Dials `target` and completes the handshake as `node` with `key`, expecting `peer`.
async fn connect(
    target: std::net::SocketAddr,
    chain: &ChainIdentity,
    node: &governance_contracts::ids::NodeId,
    key: &SecretKey,
    admission: &OnlyPeer,
    peer: &governance_contracts::ids::NodeId,
    max: usize,
) -> anyhow::Result<Session> {
    let stream = tokio::net::TcpStream::connect(target).await?;
    let transport = synod::p2p::handshake::TransportKey::generate().map_err(|e| anyhow!("transport key: {e}"))?;
    let me = synod::p2p::handshake::Identity { chain, node, key, transport: &transport };
    synod::p2p::handshake::initiate(stream, me, admission, peer, max)
        .await
        .map_err(|e| anyhow!("handshake with {peer}: {e}"))
        .context("the test's handshake as an admitted node")
}

/// Reads frames until the node closes the session, failing after [`CLOSE_WITHIN`]. Frames the node sends first
/// (its status, consensus messages) are skipped.
async fn expect_closed(
    reader: &mut synod::p2p::frame::FrameReader<tokio::io::ReadHalf<tokio::net::TcpStream>>,
    what: &str,
) -> anyhow::Result<()> {
    let closed = async {
        loop {
            match reader.next_frame().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    };
    tokio::time::timeout(CLOSE_WITHIN, closed)
        .await
        .map_err(|_| anyhow!("{what}: the node kept the session open for {CLOSE_WITHIN:?}"))
}

/// Runs the `synod` CLI expecting it to fail; returns its standard error.
fn synod_fails(harness: &Harness, args: &[&str]) -> anyhow::Result<String> {
    match harness.synod(args) {
        Ok(out) => bail!("synod {args:?} succeeded on bad input: {out}"),
        Err(e) => {
            let text = format!("{e:#}");
            ensure!(!text.contains("panicked"), "synod {args:?} panicked: {text}");
            Ok(text)
        }
    }
}

/// Corrupt, truncated, empty and oversized key files and genesis files, and a node home with a corrupt genesis or
/// configuration, are refused by the CLI and by `synod node` with an error that names the file and what is wrong;
/// nothing panics and the files are left as they were.
#[test]
fn the_cli_refuses_corrupt_key_and_genesis_files_by_name() -> anyhow::Result<()> {
    let mut harness = Harness::new("bad_input_cli", 4, 0, BLOCK_INTERVAL_MS)?;
    let dir = harness.dir().to_path_buf();
    let genesis = dir.join("genesis.json").display().to_string();
    let good_key = std::fs::read_to_string(harness.key("org1-admin"))?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<String> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path.display().to_string())
    };
    let keys = [
        ("garbage", write("garbage.pem", b"\x00\xFFnot a key at all")?),
        ("empty", write("empty.pem", b"")?),
        ("truncated", write("truncated.pem", &good_key.as_bytes()[..good_key.len() / 2])?),
        ("oversized", write("oversized.pem", &vec![b'A'; 1024 * 1024])?),
        ("missing", dir.join("missing.pem").display().to_string()),
    ];

    // A proposal to sign with each bad key.
    let proposal = dir.join("p.proposal.json").display().to_string();
    harness.synod(&[
        "proposal",
        "draft",
        "freeze",
        "--account",
        "auditor",
        "--proposer",
        "org1-admin",
        "--expires-at",
        "1000",
        "--genesis",
        &genesis,
        "--out",
        &proposal,
    ])?;
    for (what, key) in &keys {
        let before = std::fs::read(key).ok();
        let out = dir.join(format!("{what}.approval.json")).display().to_string();
        let error = synod_fails(
            &harness,
            &[
                "proposal",
                "sign",
                &proposal,
                "--key",
                key,
                "--account",
                "org1-admin",
                "--genesis",
                &genesis,
                "--out",
                &out,
            ],
        )?;
        assert!(error.contains(key.as_str()), "the {what} key's error does not name the file: {error}");
        assert!(!std::path::Path::new(&out).exists(), "an approval was written with the {what} key");
        assert_eq!(std::fs::read(key).ok(), before, "the {what} key file was changed");
    }

    let good_genesis = std::fs::read(&genesis)?;
    let geneses = [
        ("garbage", write("garbage-genesis.json", b"\x00\x01\x02")?),
        ("truncated", write("truncated-genesis.json", &good_genesis[..good_genesis.len() / 2])?),
        ("wrong shape", write("shape-genesis.json", b"{\"chain_id\": 7}")?),
        ("oversized", write("oversized-genesis.json", &vec![b' '; 40 * 1024 * 1024])?),
    ];
    for (what, bad) in &geneses {
        let error = synod_fails(&harness, &["proposal", "show", &proposal, "--genesis", bad])?;
        assert!(error.contains(bad.as_str()), "the {what} genesis's error does not name the file: {error}");
        let error = synod_fails(&harness, &["genesis", "hash", bad])?;
        assert!(error.contains(bad.as_str()), "`genesis hash` of the {what} genesis: {error}");
    }

    // A node whose home holds a corrupt genesis, then a corrupt configuration, refuses to start and says why.
    let home = harness.node("n1")?.home.clone();
    let home_genesis = synod::runtime::config::genesis_path(&home);
    let saved = std::fs::read(&home_genesis)?;
    std::fs::write(&home_genesis, &good_genesis[..good_genesis.len() / 3])?;
    let error = synod_fails(&harness, &["node", "--home", &home.display().to_string()])?;
    assert!(error.contains("genesis"), "a corrupt genesis in the home: {error}");
    std::fs::write(&home_genesis, &saved)?;
    let config = synod::runtime::config::config_path(&home);
    let saved = std::fs::read(&config)?;
    std::fs::write(&config, b"[p2p]\nlisten = 12\n")?;
    let error = synod_fails(&harness, &["node", "--home", &home.display().to_string()])?;
    assert!(error.contains("config"), "a corrupt configuration in the home: {error}");
    std::fs::write(&config, &saved)?;

    // Restored, the same home runs.
    harness.start_all()?;
    harness.wait_all_height(2, SOON)
}
