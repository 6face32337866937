//! Governance on a live network, driven the way an administrator scripts it: keys, organisation files, proposals
//! and approvals made offline with the `synod` CLI, submitted to a node, and watched through the HTTP API.

// Test arithmetic on heights is far from overflow, and the tests wait on the wall clock.
#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::path::Path;
use std::time::Duration;

use e2e::Harness;
use e2e::cli::{path, propose, submit_and_wait};

/// Blocks every 250 ms keep the stories short.
const BLOCK_INTERVAL_MS: u64 = 250;
/// Generous bound for anything that takes a few blocks.
const SOON: Duration = Duration::from_secs(60);

/// Starts every node and waits until each has finalised height 2.
fn start(harness: &mut Harness) -> anyhow::Result<()> {
    harness.start_all()?;
    for id in harness.node_ids() {
        harness.wait_healthy(&id, SOON)?;
    }
    harness.wait_all_height(2, SOON)
}

/// A new organisation and its node join a running network through proposals signed offline with the CLI: its
/// node, started as an observer, syncs, attests readiness on its own, is promoted to sealer and votes; then a
/// founding sealer removed by proposal is disconnected by every node at that height and stops receiving blocks.
#[test]
fn new_member_joins_its_node_is_promoted_and_a_removed_sealer_is_cut_off() -> anyhow::Result<()> {
    let mut harness =
        Harness::new("new_member_joins_its_node_is_promoted_and_a_removed_sealer_is_cut_off", 4, 0, BLOCK_INTERVAL_MS)?;
    start(&mut harness)?;

    // The new organisation's keys and public file, made on its own machines.
    let admin_key = path(&harness, "org5/admin.pem");
    let node_key = path(&harness, "org5/n5.pem");
    harness.synod(&["keygen", "--out", &admin_key])?;
    harness.synod(&["keygen", "--out", &node_key])?;
    let p2p_port = e2e::free_ports(1)?[0];
    let address = format!("127.0.0.1:{p2p_port}");
    let org_file = path(&harness, "org5/org.json");
    harness.synod(&[
        "org",
        "init",
        "--member",
        "org5",
        "--name",
        "Ember Insurance",
        "--governor",
        &format!("org5-admin={admin_key}"),
        "--node",
        "n5",
        "--node-key",
        &node_key,
        "--address",
        &address,
        "--kind",
        "observer",
        "--out",
        &org_file,
    ])?;
    let org_text = std::fs::read_to_string(&org_file)?;
    assert!(!org_text.contains("PRIVATE"), "the organisation file holds private key material");

    // The committee admits the member (3 of 4 founders' weight), then its node as an observer (two thirds of the
    // five members' weight now: 4 of 5).
    propose(&harness, "admit-org5", &["admit-member", "--org", &org_file], &["org1", "org2", "org3"])?;
    propose(
        &harness,
        "admit-n5",
        &["admit-node", "--node", "n5", "--owner", "org5", "--key", &node_key, "--address", &address],
        &["org1", "org2", "org3", "org4"],
    )?;

    // Its operator starts the node: it syncs and attests readiness by itself.
    let key = synod::runtime::load_key(Path::new(&node_key))?;
    harness.add_home("n5", &key, p2p_port)?;
    harness.start("n5")?;
    harness.wait_healthy("n5", SOON)?;
    let height = harness.height("n1")?;
    harness.wait_height("n5", height, SOON)?;
    harness.wait_until("n5 to attest readiness", SOON, &["n5"], |h| {
        let (_, node) = h.get("n1", "/v1/nodes/n5")?;
        Ok(!node["attested_at"].is_null())
    })?;

    // Promoted, it votes.
    propose(&harness, "promote-n5", &["promote", "--node", "n5"], &["org1", "org2", "org3", "org4"])?;
    harness.wait_until("n5 to be a sealer", SOON, &["n5"], |h| Ok(h.status("n5")?["kind"] == "sealer"))?;
    harness.wait_until("n5 to vote", SOON, &["n5"], |h| Ok(h.log("n5").contains("vote height=")))?;

    // The committee removes n4 (five sealers become four: the fault tolerance holds).
    propose(&harness, "remove-n4", &["remove-node", "--node", "n4"], &["org1", "org2", "org3", "org4"])?;
    harness.wait_until("every node to drop n4", SOON, &["n1", "n2", "n3", "n5"], |h| {
        for id in ["n1", "n2", "n3", "n5"] {
            let status = h.status(id)?;
            let peers = status["peers"].as_array().cloned().unwrap_or_default();
            if peers.iter().any(|p| p["node_id"] == "n4") {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    let cut_at = harness.height("n4")?;
    let target = harness.height("n1")?.saturating_add(8);
    harness.wait_height("n1", target, SOON)?;
    assert!(harness.height("n4")? <= cut_at.saturating_add(1), "n4 kept receiving blocks after its removal");
    Ok(())
}

/// A routine node key rotation: the new key is generated on the node (`synod key rotate`), the node's own request
/// is submitted and its owner's operator approves it; the chain keeps finalising throughout, the running node
/// signs with the new key from the switch height without a restart, and a node presenting the old key afterwards
/// is refused at the handshake.
#[test]
fn routine_node_key_rotation_takes_effect_without_a_restart() -> anyhow::Result<()> {
    let mut harness =
        Harness::new("routine_node_key_rotation_takes_effect_without_a_restart", 4, 0, BLOCK_INTERVAL_MS)?;
    start(&mut harness)?;
    let genesis = path(&harness, "genesis.json");
    let home = harness.node("n1")?.home.clone();
    let old_key = synod::runtime::load_key(&synod::runtime::config::key_path(&home, 0))?;
    let height = harness.height("n1")?;
    let valid_until = (height + 200).to_string();
    let home_text = home.display().to_string();
    harness.synod(&["key", "rotate", "--home", &home_text, "--valid-until", &valid_until])?;
    let new_key = synod::runtime::load_key(&synod::runtime::config::key_path(&home, 1))?;
    let request = home.join("rotation-request.json").display().to_string();
    submit_and_wait(&harness, &request)?;

    let approval = path(&harness, "rotation.ops.approval.json");
    let ops_key = path(&harness, "keys/org1-ops.pem");
    harness.synod(&[
        "proposal",
        "sign",
        &request,
        "--key",
        &ops_key,
        "--account",
        "org1-ops",
        "--genesis",
        &genesis,
        "--out",
        &approval,
    ])?;
    let approve = path(&harness, "rotation.approve.json");
    harness.synod(&[
        "tx",
        "build",
        "approve",
        "--proposal",
        &request,
        "--approval",
        &approval,
        "--key",
        &ops_key,
        "--sender",
        "org1-ops",
        "--valid-until",
        &valid_until,
        "--genesis",
        &genesis,
        "--out",
        &approve,
    ])?;
    submit_and_wait(&harness, &approve)?;
    let new_public = new_key.public_key().to_string();
    harness.wait_until("the chain to list n1's new key", SOON, &["n1"], |h| {
        let (_, node) = h.get("n2", "/v1/nodes/n1")?;
        Ok(node.to_string().contains(&new_public))
    })?;

    // The chain keeps finalising with n1 signing under its new key, and n1 was never restarted.
    let switched = harness.height("n1")?;
    harness.wait_all_height(switched + 6, SOON)?;
    assert!(harness.is_running("n1"), "n1 stopped");
    let log = harness.log("n1");
    assert!(log.contains("picked up a new node key"), "n1 did not pick up its new key:\n{}", e2e::tail(&log, 40));
    assert_eq!(log.matches("=== harness: start").count(), 1, "n1 was restarted");

    // A node presenting the retired key is refused.
    let port = e2e::free_ports(1)?[0];
    harness.add_home("stale", &old_key, port)?;
    harness.start("stale")?;
    harness.wait_healthy("stale", SOON)?;
    harness.wait_until("a node to refuse the retired key", SOON, &["stale"], |h| {
        Ok(["n1", "n2", "n3", "n4"].iter().any(|id| h.log(id).contains("retired")))
    })?;
    assert_eq!(harness.height("stale")?, 0, "the retired key was given blocks");
    Ok(())
}

/// An auditor asks the observer for a proof of a member's record, and `synod verify-proof` checks it offline
/// against the genesis alone; the same proof with its record altered is refused.
#[test]
fn a_proof_from_the_observer_verifies_offline_and_a_tampered_one_does_not() -> anyhow::Result<()> {
    let mut harness = Harness::new(
        "a_proof_from_the_observer_verifies_offline_and_a_tampered_one_does_not",
        4,
        1,
        BLOCK_INTERVAL_MS,
    )?;
    start(&mut harness)?;
    harness.wait_height("obs1", 4, SOON)?;
    let (code, proof) = harness.get("obs1", "/v1/proofs/member/org2")?;
    assert_eq!(code, 200, "{proof}");
    let genesis = path(&harness, "genesis.json");
    let file = path(&harness, "org2.proof.json");
    std::fs::write(&file, serde_json::to_string_pretty(&proof)?)?;
    harness.synod(&["verify-proof", "--genesis", &genesis, &file])?;

    // The record's canonical bytes start with the member's name ("Borealis Trust", after a four-byte length):
    // make it "Corealis Trust".
    let mut tampered = proof.clone();
    let first = &mut tampered["state_proof"]["value"][4];
    assert_eq!(first.as_u64(), Some(u64::from(b'B')), "the proof's value is not the member's record");
    *first = serde_json::Value::from(u64::from(b'C'));
    let tampered_file = path(&harness, "org2.tampered.json");
    std::fs::write(&tampered_file, serde_json::to_string_pretty(&tampered)?)?;
    let refused = harness.synod(&["verify-proof", "--genesis", &genesis, &tampered_file]);
    assert!(refused.is_err(), "a tampered proof verified: {refused:?}");
    Ok(())
}
