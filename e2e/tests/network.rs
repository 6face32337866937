//! Multi-process tests of the network: real `synod node` processes on loopback, watched through their HTTP API.

// Test arithmetic on heights is far from overflow, and the tests wait on the wall clock.
#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::time::Duration;

use e2e::Harness;

/// Blocks every 250 ms keep the tests short while leaving the consensus timeouts room on a loaded machine.
const BLOCK_INTERVAL_MS: u64 = 250;
/// Generous bound for anything a healthy network does within a few blocks.
const SOON: Duration = Duration::from_secs(60);

/// Starts every node of `harness` and waits until each answers `/healthz`.
fn start_all(harness: &mut Harness) -> anyhow::Result<()> {
    harness.start_all()?;
    for id in harness.node_ids() {
        harness.wait_healthy(&id, SOON)?;
    }
    Ok(())
}

/// Asserts that every node in `ids` serves the same block hash at every height from 1 to `height`.
fn assert_agree(harness: &Harness, ids: &[String], height: u64) -> anyhow::Result<()> {
    for h in 1..=height {
        let hashes: Vec<String> = ids.iter().map(|id| harness.block_hash(id, h)).collect::<anyhow::Result<_>>()?;
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "height {h}: nodes disagree: {ids:?} -> {hashes:?}");
    }
    Ok(())
}

/// Four sealers and an observer, each its own process, finalize blocks, agree on every block, and report their
/// kind and peers in `/v1/status`.
#[test]
fn four_sealers_and_an_observer_finalize_and_agree() -> anyhow::Result<()> {
    let mut harness = Harness::new("four_sealers_and_an_observer_finalize_and_agree", 4, 1, BLOCK_INTERVAL_MS)?;
    start_all(&mut harness)?;
    harness.wait_all_height(5, SOON)?;
    let ids = harness.node_ids();
    assert_agree(&harness, &ids, 5)?;
    let genesis_hash = harness.network().genesis.hash().to_string();
    for id in &ids {
        let status = harness.status(id)?;
        let expected = if id.starts_with("obs") { "observer" } else { "sealer" };
        assert_eq!(status["kind"], expected, "{id}: {status}");
        assert_eq!(status["node_id"], id.as_str(), "{status}");
        assert_eq!(status["genesis_hash"], genesis_hash.as_str(), "{status}");
        assert_eq!(status["chain_id"], "synod-e2e", "{status}");
        let peers = status["peers"].as_array().map_or(0, Vec::len);
        assert!(peers >= 3, "{id} has {peers} peers: {status}");
    }
    // The observer follows and verifies, and never votes; the sealers do.
    assert!(!harness.log("obs1").contains("vote height="), "the observer voted");
    assert!(harness.log("n1").contains("vote height="), "n1 never voted");
    Ok(())
}

/// A node whose key governance never admitted is refused at the handshake by every node, with the reason logged
/// and counted, and never receives a block while the admitted nodes keep finalizing.
#[test]
fn unadmitted_node_is_refused_and_never_receives_a_block() -> anyhow::Result<()> {
    let mut harness = Harness::new("unadmitted_node_is_refused_and_never_receives_a_block", 4, 0, BLOCK_INTERVAL_MS)?;
    harness.add_outsider("intruder")?;
    start_all(&mut harness)?;
    harness.wait_height("n1", 6, SOON)?;
    let sealers = ["n1", "n2", "n3", "n4"];
    harness.wait_until("every sealer to refuse the intruder", SOON, &sealers, |h| {
        for id in sealers {
            if !h.log(id).contains("unknown key") {
                return Ok(false);
            }
            let (_, metrics) = h.get_text(id, "/metrics")?;
            let counted = metrics
                .lines()
                .any(|l| l.starts_with("synod_p2p_refused_total") && l.contains("unknown_key") && !l.ends_with(" 0"));
            if !counted {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    assert_eq!(harness.height("intruder")?, 0, "the intruder must not have been given a block");
    let status = harness.status("intruder")?;
    assert_eq!(status["peers"].as_array().map_or(usize::MAX, Vec::len), 0, "{status}");
    Ok(())
}

/// A sealer killed with SIGKILL restarts from its store and catches up with the others, which kept finalizing
/// without it; every node then agrees on every block.
#[test]
fn killed_sealer_restarts_and_catches_up() -> anyhow::Result<()> {
    let mut harness = Harness::new("killed_sealer_restarts_and_catches_up", 4, 0, BLOCK_INTERVAL_MS)?;
    start_all(&mut harness)?;
    harness.wait_all_height(3, SOON)?;
    harness.kill("n2")?;
    let target = harness.height("n1")?.saturating_add(5);
    harness.wait_height("n1", target, SOON)?;
    harness.start("n2")?;
    harness.wait_height("n2", target, SOON)?;
    let ids = harness.node_ids();
    harness.wait_all_height(target.saturating_add(2), SOON)?;
    assert_agree(&harness, &ids, target.saturating_add(2))?;
    Ok(())
}

/// A sealer that fell behind is killed at a failpoint in the middle of catching up (after committing the third
/// synced block) and, restarted, finishes catching up from where its store stopped.
#[test]
fn sealer_killed_mid_sync_catches_up_after_restart() -> anyhow::Result<()> {
    let mut harness = Harness::new("sealer_killed_mid_sync_catches_up_after_restart", 4, 0, BLOCK_INTERVAL_MS)?;
    start_all(&mut harness)?;
    harness.wait_all_height(2, SOON)?;
    assert!(harness.stop("n4")?, "n4 did not stop cleanly");
    let behind = harness.height("n1")?;
    let target = behind.saturating_add(10);
    harness.wait_height("n1", target, SOON)?;
    harness.start_with_env("n4", &[("SYNOD_FAILPOINTS", "after-block-commit@3")])?;
    harness.wait_until("n4 to freeze at its failpoint", SOON, &["n4"], |h| {
        Ok(h.log("n4").contains("failpoint reached: after-block-commit"))
    })?;
    harness.kill("n4")?;
    let log = harness.log("n4");
    assert!(log.contains("sync request"), "n4 did not log its sync requests:\n{}", e2e::tail(&log, 30));
    harness.start("n4")?;
    harness.wait_height("n4", target, SOON)?;
    let ids = harness.node_ids();
    assert_agree(&harness, &ids, target)?;
    Ok(())
}

/// Ids of mixed lengths and characters for ten nodes: eight sealers, then two observers. The nodes table lists them
/// by their length-prefixed encodings (`z` before `n2` before `n10`), which is not id order.
const MIXED_IDS: [&str; 10] = [
    "org-a-sealer-1",
    "n7",
    "beijing-2",
    "n10",
    "n2",
    "z",
    "sealer-with-a-much-longer-id-0017",
    "0",
    "a.b",
    "hong-kong.exchange_primary.sealer-000000000000000000000000000001",
];

/// Ten node processes with ids of mixed lengths and characters finalise from genesis, the committee promotes an
/// observer (`a.b`) to sealer and demotes a founding sealer (`n10`), and afterwards every node holds the same chain
/// and the other observer's proof of the promoted node, carried across both validator-set changes, verifies
/// offline. The validator set must stay in id order on every node for consensus to accept it at all.
#[test]
fn ten_nodes_with_mixed_ids_promote_and_demote_a_sealer_and_agree() -> anyhow::Result<()> {
    use e2e::cli::{path, propose};
    // Ten processes share two cores in CI: a slower block interval leaves the consensus timeouts their room.
    const INTERVAL_MS: u64 = 500;
    const COMMITTEE: [&str; 6] = ["org1", "org2", "org3", "org4", "org5", "org6"];
    let started = std::time::Instant::now();
    let mut harness = Harness::with_node_ids(
        "ten_nodes_with_mixed_ids_promote_and_demote_a_sealer_and_agree",
        8,
        2,
        INTERVAL_MS,
        &MIXED_IDS,
    )?;
    start_all(&mut harness)?;
    harness.wait_all_height(2, SOON)?;
    let (promoted, demoted, follower) = ("a.b", "n10", MIXED_IDS[9]);

    // The observer attests readiness by itself once it has caught up; six of eight members promote it.
    harness.wait_until("a.b to attest readiness", SOON, &[promoted], |h| {
        let (_, node) = h.get(&h.entry(), &format!("/v1/nodes/{promoted}"))?;
        Ok(!node["attested_at"].is_null())
    })?;
    propose(&harness, "promote", &["promote", "--node", promoted], &COMMITTEE)?;
    harness.wait_until("a.b to be a sealer that votes", SOON, &[promoted], |h| {
        Ok(h.status(promoted)?["kind"] == "sealer" && h.log(promoted).contains("vote height="))
    })?;

    // A founding sealer goes back to observing.
    propose(&harness, "demote", &["demote", "--node", demoted], &COMMITTEE)?;
    harness.wait_until("n10 to be an observer", SOON, &[demoted], |h| Ok(h.status(demoted)?["kind"] == "observer"))?;

    let target = harness.height(&harness.entry())? + 3;
    harness.wait_all_height(target, SOON)?;
    let ids = harness.node_ids();
    assert_agree(&harness, &ids, target)?;

    let (code, proof) = harness.get(follower, &format!("/v1/proofs/node/{promoted}"))?;
    assert_eq!(code, 200, "{proof}");
    let file = path(&harness, "promoted.proof.json");
    std::fs::write(&file, serde_json::to_string_pretty(&proof)?)?;
    harness.synod(&["verify-proof", "--genesis", &path(&harness, "genesis.json"), &file])?;
    eprintln!("ten nodes with mixed ids: {:.1} s to height {target}", started.elapsed().as_secs_f64());
    Ok(())
}
