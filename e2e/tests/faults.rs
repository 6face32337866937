//! Faults on real processes under steady load: every link between the nodes runs through a proxy the test can cut
//! and heal (`Harness::proxy_links`), and a load generator (`e2e::load`) sends governance and role-checked
//! transactions to every node in turn throughout. After each fault heals, every node holds the same chain and every
//! transaction the load saw acknowledged (its receipt finalised) is in that chain on every node.

#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use anyhow::Context as _;
use e2e::Harness;
use e2e::load::Load;

/// Blocks every 250 ms.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long any one wait may take.
const SOON: Duration = Duration::from_secs(60);
/// The bound the suite states for progress to resume once a partition heals: the longest dial backoff (10 s)
/// plus a few consensus rounds.
const RESUME_BOUND: Duration = Duration::from_secs(30);
/// How long a stalled network is watched to show that it does not progress.
const STALL_WATCH: Duration = Duration::from_secs(5);
/// Transactions per second the load offers.
const LOAD_RATE: u32 = 20;
/// How long after its acceptance a transaction may take to be acknowledged once the load stops.
const SETTLE: Duration = Duration::from_secs(10);
/// Heights every sealer must finalise while a hostile observer floods it.
const HOSTILE_PROGRESS: u64 = 15;
/// Idle connections the hostile-observer test holds open to each sealer's p2p port.
const IDLE_PER_NODE: usize = 64;
/// The loopback address the idle connections come from: not a node's.
const IDLE_SOURCE: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 9));

/// Four sealers with proxied links, started, at height 3, under load.
fn network(name: &str) -> anyhow::Result<(Harness, Load)> {
    let mut harness = Harness::new(name, 4, 0, BLOCK_INTERVAL_MS)?;
    harness.proxy_links()?;
    harness.start_all()?;
    harness.wait_all_height(3, SOON)?;
    let load = harness.start_load(LOAD_RATE)?;
    Ok((harness, load))
}

/// Stops the load and checks what every fault test ends with: the nodes hold one chain up to a common height, the
/// load saw transactions acknowledged, and none of them is missing on any node.
fn settle(harness: &mut Harness, load: Load) -> anyhow::Result<()> {
    let report = load.stop(SETTLE)?;
    println!("{}", report.summary());
    for refusal in report.refusals.iter().take(3) {
        println!("  refused: {refusal}");
    }
    anyhow::ensure!(!report.acknowledged.is_empty(), "the load saw nothing acknowledged: {report:?}");
    let end = report.followed_to.max(harness.height("n1")?);
    harness.wait_all_height(end, SOON)?;
    harness.assert_one_chain(end)?;
    harness.assert_acknowledged_kept(&report)
}

/// The highest height any of `ids` has reached.
fn highest(harness: &Harness, ids: &[&str]) -> anyhow::Result<u64> {
    let mut highest = 0;
    for id in ids {
        highest = highest.max(harness.height(id)?);
    }
    Ok(highest)
}

/// A sealer cut off from the other three falls behind while the three (3 of 4 weight) keep finalising; once its
/// links heal it catches up, and all four hold the same chain.
#[test]
fn a_sealer_cut_off_falls_behind_and_catches_up_when_healed() -> anyhow::Result<()> {
    let (mut harness, load) = network("faults_cut_one_sealer")?;
    for peer in ["n1", "n2", "n3"] {
        harness.cut("n4", peer)?;
    }
    let cut_at = harness.height("n1")?;
    harness.wait_height("n1", cut_at + 10, SOON)?;
    let isolated = harness.height("n4")?;
    assert!(isolated <= cut_at + 1, "n4 kept finalising alone: at {isolated} while cut off at {cut_at}");

    harness.heal_all();
    let target = harness.height("n1")? + 2;
    harness.wait_all_height(target, SOON)?;
    assert!(harness.is_running("n4"), "n4 stopped");
    settle(&mut harness, load)
}

/// Split 2 + 2, neither half holds more than two thirds of the weight: no node finalises a block while split (no
/// progress, and so no fork); once healed, progress resumes within the stated bound and all four hold one chain.
#[test]
fn a_two_two_partition_halts_without_forking_and_resumes_when_healed() -> anyhow::Result<()> {
    let (mut harness, load) = network("faults_partition_two_two")?;
    harness.partition(&["n1", "n2"], &["n3", "n4"])?;
    // A block already voted on may still land just after the cut: wait until the split network has settled.
    let all = ["n1", "n2", "n3", "n4"];
    let settled = highest(&harness, &all)? + 1;
    let watch_end = Instant::now() + STALL_WATCH;
    let mut last = highest(&harness, &all)?;
    while Instant::now() < watch_end {
        std::thread::sleep(Duration::from_millis(250));
        last = highest(&harness, &all)?;
    }
    assert!(
        last <= settled,
        "the split network finalised {} blocks past the cut (reached {last}, settled at {settled})",
        last.saturating_sub(settled)
    );

    let healed_at = Instant::now();
    harness.heal_all();
    harness.wait_all_height(last + 3, RESUME_BOUND)?;
    let resumed_in = healed_at.elapsed();
    println!("progress resumed {resumed_in:?} after the partition healed (bound {RESUME_BOUND:?})");
    settle(&mut harness, load)
}

/// Each sealer in turn is killed with SIGKILL while the other three keep finalising, then restarted: it replays its
/// write-ahead log, catches up, and all four hold one chain at the end.
#[test]
fn each_sealer_killed_in_turn_restarts_and_catches_up() -> anyhow::Result<()> {
    let (mut harness, load) = network("faults_kill_each_sealer")?;
    let sealers = ["n1", "n2", "n3", "n4"];
    for victim in sealers {
        let witness = sealers.iter().copied().find(|id| *id != victim).unwrap_or("n1");
        harness.kill(victim)?;
        let killed_at = harness.height(witness)?;
        harness.wait_height(witness, killed_at + 4, SOON)?;
        harness.start(victim)?;
        let target = harness.height(witness)? + 2;
        harness.wait_all_height(target, SOON)?;
    }
    settle(&mut harness, load)
}

/// A sealer paused with SIGSTOP (alive, connections open, silent) does not stop the other three; resumed, it catches
/// up and agrees with them.
#[test]
fn a_paused_sealer_resumes_and_catches_up() -> anyhow::Result<()> {
    let (mut harness, load) = network("faults_pause_sealer")?;
    harness.pause("n2")?;
    let paused_at = harness.height("n1")?;
    harness.wait_height("n1", paused_at + 6, SOON)?;
    harness.resume("n2")?;
    let target = harness.height("n1")? + 2;
    harness.wait_all_height(target, SOON)?;
    settle(&mut harness, load)
}

/// Five sealers under load; the committee removes one by proposal (signed offline with the CLI, as administrators
/// do): every other node disconnects it at that height, the four left keep finalising the load, and nothing
/// acknowledged is lost.
#[test]
fn a_sealer_removed_by_proposal_under_load_is_cut_off_and_the_rest_finalise() -> anyhow::Result<()> {
    let mut harness = Harness::new("faults_remove_sealer_under_load", 5, 0, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    harness.wait_all_height(3, SOON)?;
    let load = harness.start_load(LOAD_RATE)?;
    harness.wait_until("the load to be acknowledged", SOON, &[], |_| Ok(load.acknowledged() > 10))?;

    // Four of five organisations' weight (more than two thirds) remove n5.
    e2e::cli::propose(&harness, "remove-n5", &["remove-node", "--node", "n5"], &["org1", "org2", "org3", "org4"])?;
    let stayers = ["n1", "n2", "n3", "n4"];
    harness.wait_until("every other node to drop n5", SOON, &stayers, |h| {
        for id in stayers {
            let peers = h.status(id)?["peers"].as_array().cloned().unwrap_or_default();
            if peers.iter().any(|peer| peer["node_id"] == "n5") {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    let removed_at = harness.height("n5")?;
    let acknowledged = load.acknowledged();
    let target = harness.height("n1")? + 8;
    harness.wait_all_height_of(&stayers, target, SOON)?;
    harness.wait_until(
        "the load to go on being acknowledged",
        SOON,
        &[],
        |_| Ok(load.acknowledged() > acknowledged),
    )?;
    assert!(harness.height("n5")? <= removed_at + 1, "n5 kept receiving blocks after its removal");

    harness.stop("n5")?;
    settle(&mut harness, load)
}

/// A sealer that equivocates from inside its own process (`SYNOD_EQUIVOCATE=1`, a test-only build feature: a
/// conflicting vote before each of its votes, a second proposal after each of its own, all under its own key) runs
/// with three honest sealers under load: they keep finalising, record evidence naming it with both conflicting
/// messages, the console shows the evidence to an administrator with a ready draft to demote it, every node holds
/// one chain, and nothing acknowledged is lost.
#[test]
fn an_equivocating_sealer_is_recorded_as_evidence_and_safety_holds() -> anyhow::Result<()> {
    let mut harness = Harness::new("faults_equivocating_sealer", 4, 0, BLOCK_INTERVAL_MS)?;
    for id in ["n1", "n2", "n3"] {
        harness.start(id)?;
    }
    harness.start_with_env("n4", &[(synod::byzantine::ENV, "1")])?;
    harness.wait_all_height(3, SOON)?;
    let load = harness.start_load(LOAD_RATE)?;

    // Every honest sealer records n4's conflicting votes; its conflicting proposals (made only in the rounds it
    // proposes) are recorded too.
    let honest = ["n1", "n2", "n3"];
    let recorded = |h: &Harness, id: &str, kind: &str| -> anyhow::Result<bool> {
        let (code, body) = h.get(id, "/v1/evidence?limit=100")?;
        let list = body["evidence"].as_array().cloned().unwrap_or_default();
        Ok(code == 200
            && list
                .iter()
                .any(|e| e["offender"] == "n4" && e["kind"] == kind && !e["first"].is_null() && !e["second"].is_null()))
    };
    harness.wait_until("every honest sealer to record n4's conflicting votes", SOON, &honest, |h| {
        for id in honest {
            if !recorded(h, id, "votes")? {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    harness.wait_until("an honest sealer to record n4's conflicting proposals", SOON, &honest, |h| {
        for id in honest {
            if recorded(h, id, "proposals")? {
                return Ok(true);
            }
        }
        Ok(false)
    })?;
    assert!(harness.log("n4").contains("equivocating"), "n4 did not say it equivocated");
    let (_, evidence) = harness.get("n1", "/v1/evidence?limit=100")?;
    assert!(
        evidence["evidence"].as_array().is_some_and(|list| list.iter().all(|e| e["offender"] == "n4")),
        "evidence names an honest sealer: {evidence}"
    );

    // An administrator sees the evidence in the console and drafts the offender's demotion from it.
    let console = harness.start_console("org1", &["n1", "n2"])?;
    let driver = e2e::browser::Driver::start(harness.dir())?;
    let admin = driver.browser("admin1")?;
    admin.sign_in(&console, &harness.key("org1-admin"), "org1-admin")?;
    admin.click("nav-nodes")?;
    admin.wait_text("evidence", "n4", SOON)?;
    admin.click("evidence-draft-n4")?;
    admin.wait_text("digest", "sha256:", SOON)?;
    assert!(admin.page_text().contains("n4"), "the demotion draft does not name n4");

    let at = harness.height("n1")?;
    harness.wait_all_height(at + 5, SOON)?;
    settle(&mut harness, load)
}

/// An admitted observer turned hostile from inside its own process (`SYNOD_HOSTILE=1`, a test-only build feature:
/// oversized blocks, floods of blocks no proposal names, forged votes and proposals at far heights, tampered copies
/// of each real block, silence when asked to sync) joins four running sealers under load, beside 64 idle
/// connections to each sealer's p2p port from another loopback address: each sealer finalises 15 more heights, none
/// exits, each counts the unnamed blocks it dropped and the forged votes it refused, they hold one chain, and
/// nothing acknowledged is lost.
#[test]
fn a_hostile_observer_cannot_stop_the_sealers_or_lose_acknowledged_transactions() -> anyhow::Result<()> {
    let mut harness = Harness::new("faults_hostile_observer", 4, 1, BLOCK_INTERVAL_MS)?;
    let sealers = ["n1", "n2", "n3", "n4"];
    for id in sealers {
        harness.start(id)?;
    }
    harness.wait_all_height(3, SOON)?;
    harness.start_with_env("obs1", &[(synod::hostile::ENV, "1")])?;
    let ports = sealers.iter().map(|id| Ok(harness.node(id)?.p2p)).collect::<anyhow::Result<Vec<_>>>()?;
    let idle = e2e::idle::IdleConnections::open(IDLE_SOURCE, &ports, IDLE_PER_NODE)?;
    let load = harness.start_load(LOAD_RATE)?;
    harness.wait_until("obs1 to say it is hostile", SOON, &["obs1"], |h| Ok(h.log("obs1").contains("hostile")))?;

    let attacked_at = highest(&harness, &sealers)?;
    let progress = harness.wait_all_height_of(&sealers, attacked_at + HOSTILE_PROGRESS, SOON);
    print_counters(&harness, &sealers);
    progress.with_context(|| format!("the sealers under attack since height {attacked_at}"))?;
    for id in sealers {
        assert!(harness.is_running(id), "{id} exited under attack");
        let counters = &harness.status(id)?["counters"];
        let host = &counters["host"];
        let count = |name: &str| host[name].as_u64().unwrap_or(0);
        assert!(count("unnamed_blocks") > 0, "{id} dropped none of the blocks no proposal names: {counters}");
        assert!(count("bad_signatures") > 0, "{id} refused none of the forged far votes: {counters}");
    }
    println!("idle connections opened: {}", idle.opened());

    // The observer is no party to the promise: the sealers' chain and the load's transactions are checked.
    harness.stop("obs1")?;
    settle(&mut harness, load)?;
    idle.stop();
    Ok(())
}

/// Prints each of `ids`' height and counters (or why they cannot be read).
fn print_counters(harness: &Harness, ids: &[&str]) {
    for id in ids {
        match harness.status(id) {
            Ok(status) => println!("{id}: height {} counters {}", status["height"], status["counters"]),
            Err(e) => println!("{id}: {e:#}"),
        }
    }
}
