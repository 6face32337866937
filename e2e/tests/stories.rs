//! User stories scripted with the `synod` CLI on a live network, as compliance staff and alliance administrators
//! script them: proposals drafted and signed offline, transactions built offline and submitted to nodes, and the
//! outcome read back from every node's API.

#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::time::Duration;

use anyhow::{anyhow, ensure};
use e2e::Harness;
use e2e::cli::{Drafted, build_tx, draft, path, submit_and_wait, submit_to, wait_executed};
use serde_json::Value;

/// Blocks every 250 ms.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long any one wait may take.
const SOON: Duration = Duration::from_secs(60);
/// Every node of the stories' network.
const NODES: [&str; 4] = ["n1", "n2", "n3", "n4"];

/// The stories' network: four organisations with a sealer each, started, at height 2.
fn network(name: &str) -> anyhow::Result<Harness> {
    network_of(name, 4)
}

/// `organisations` organisations with a sealer each, started, at height 2.
fn network_of(name: &str, organisations: usize) -> anyhow::Result<Harness> {
    let mut harness = Harness::new(name, organisations, 0, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    harness.wait_all_height(2, SOON)?;
    Ok(harness)
}

/// Drafts, submits with the approvals of `approvers` and waits until the proposal executed (the proposer executing
/// it once ready when its rule makes it wait).
fn enact(harness: &Harness, name: &str, proposer: &str, kind: &[&str], approvers: &[&str]) -> anyhow::Result<Drafted> {
    let drafted = draft(harness, name, proposer, kind)?;
    submit_and_wait(harness, &drafted.submission(harness, approvers)?)?;
    drafted.execute_when_ready(harness, proposer)?;
    wait_executed(harness, &drafted.id)?;
    Ok(drafted)
}

/// `account`'s grant of `role` as node `node` lists it in `/v1/roles`, if any.
fn grant(harness: &Harness, node: &str, account: &str, role: &str) -> anyhow::Result<Option<Value>> {
    let (code, body) = harness.get(node, "/v1/roles")?;
    ensure!(code == 200, "{node}: /v1/roles answered {code}: {body}");
    Ok(body["grants"]
        .as_array()
        .and_then(|grants| grants.iter().find(|g| g["account"] == account && g["role"] == role).cloned()))
}

/// Whether every node shows `account`'s grant of `role` as active (`Some(true)`), lapsed (`Some(false)`) or absent
/// (`None`), all alike.
fn grant_state_everywhere(harness: &Harness, account: &str, role: &str, want: Option<bool>) -> anyhow::Result<bool> {
    for node in NODES {
        let state = grant(harness, node, account, role)?.map(|g| g["active"] == true);
        if state != want {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Submitting `tx` is refused by every node of [`NODES`], each naming `reason`.
fn refused_everywhere(harness: &Harness, tx: &str, reason: &str, what: &str) -> anyhow::Result<()> {
    refused_by(harness, &NODES, tx, reason, what)
}

/// Submitting `tx` is refused by every node of `nodes`, each naming `reason`.
fn refused_by(harness: &Harness, nodes: &[&str], tx: &str, reason: &str, what: &str) -> anyhow::Result<()> {
    for &node in nodes {
        match submit_to(harness, node, tx) {
            Ok(hash) => anyhow::bail!("{what}: {node} took it ({hash})"),
            Err(e) => {
                let message = format!("{e:#}");
                ensure!(message.contains(reason), "{what}: {node} refused it without naming {reason}: {message}");
            }
        }
    }
    Ok(())
}

/// A compliance officer grants the delegable role on an account of its own organisation with an expiry and the
/// grant lapses at that height on every node; renewed, it is revoked; the officer freezes an account of its
/// organisation and every node refuses that account's transactions naming the freeze; the officer cannot reach
/// another organisation's accounts, freeze an operator nor grant a committee-only role, and once the committee
/// freezes the officer, the officer cannot unfreeze themselves.
#[test]
fn compliance_staff_grant_lapse_revoke_and_freeze_within_the_committees_limits() -> anyhow::Result<()> {
    let mut harness = network("story_compliance")?;
    let officer = "org1-compliance";
    let role = synod::localnet::DEMO_DELEGABLE_ROLE;

    // Granted until a height a few blocks ahead: active everywhere, then lapsed everywhere once that height passed.
    let until = harness.height("n1")? + 16;
    let until_text = until.to_string();
    enact(
        &harness,
        "grant",
        officer,
        &["grant-role", "--account", "org1-ops", "--role", role, "--until", &until_text],
        &[officer],
    )?;
    harness.wait_until("the grant to be active on every node", SOON, &NODES, |h| {
        grant_state_everywhere(h, "org1-ops", role, Some(true))
    })?;
    harness.wait_all_height(until + 1, SOON)?;
    harness.wait_until("the grant to lapse on every node", SOON, &NODES, |h| {
        Ok(grant_state_everywhere(h, "org1-ops", role, Some(false))?
            || grant_state_everywhere(h, "org1-ops", role, None)?)
    })?;

    // Renewed (the lapsed grant is what the renewal expects, if the chain still lists it), then revoked.
    let renew_until = (harness.height("n1")? + 500).to_string();
    let mut renew = vec!["grant-role", "--account", "org1-ops", "--role", role, "--until", &renew_until];
    let expected =
        grant(&harness, "n1", "org1-ops", role)?.and_then(|g| g["expires_at"].as_u64()).map(|h| h.to_string());
    if let Some(expected) = &expected {
        renew.extend_from_slice(&["--expected", expected]);
    }
    enact(&harness, "renew", officer, &renew, &[officer])?;
    harness.wait_until("the renewed grant on every node", SOON, &NODES, |h| {
        grant_state_everywhere(h, "org1-ops", role, Some(true))
    })?;
    enact(&harness, "revoke", officer, &["revoke-role", "--account", "org1-ops", "--role", role], &[officer])?;
    harness.wait_until("the revocation on every node", SOON, &NODES, |h| {
        grant_state_everywhere(h, "org1-ops", role, None)
    })?;

    // A frozen account's transactions are refused by every node, naming the freeze (the auditor is an ordinary
    // account of org1: an operator is the committee's to freeze).
    enact(&harness, "freeze", officer, &["freeze", "--account", "auditor"], &[officer])?;
    let frozen = draft(&harness, "frozen-auditor", "auditor", &["freeze", "--account", "org1-ops"])?;
    let frozen_tx = frozen.submission(&harness, &["auditor"])?;
    harness.wait_until("the freeze on every node", SOON, &NODES, |h| {
        Ok(NODES.iter().all(|node| h.get(node, "/v1/accounts/auditor").is_ok_and(|(_, a)| a["frozen"] == true)))
    })?;
    refused_everywhere(&harness, &frozen_tx, "frozen", "a frozen account's transaction")?;

    // Another organisation's account and an operator are out of the officer's reach: refused when submitted.
    for (name, kind) in [
        ("grant-elsewhere", vec!["grant-role", "--account", "org2-ops", "--role", role, "--until", &renew_until]),
        ("freeze-elsewhere", vec!["freeze", "--account", "org2-ops"]),
        ("freeze-operator", vec!["freeze", "--account", "org1-ops"]),
    ] {
        let reach = draft(&harness, name, officer, &kind)?.submission(&harness, &[officer])?;
        refused_by(&harness, &["n1"], &reach, "not_eligible", name)?;
    }

    // A committee-only role is out of the officer's reach: the proposal is refused when submitted.
    let operator = draft(
        &harness,
        "grant-operator",
        officer,
        &["grant-role", "--account", "org2-ops", "--role", "operator", "--until", &renew_until],
    )?;
    let operator_tx = operator.submission(&harness, &[officer])?;
    let refusal = submit_to(&harness, "n1", &operator_tx)
        .err()
        .ok_or_else(|| anyhow!("n1 took the officer's grant of operator"))?;
    let refusal = format!("{refusal:#}");
    ensure!(
        refusal.contains("not_eligible") || refusal.contains("not eligible"),
        "the operator grant was refused for another reason: {refusal}"
    );

    // The committee freezes the officer (a privileged account); the officer cannot unfreeze themselves.
    enact(
        &harness,
        "freeze-officer",
        "org1-admin",
        &["freeze", "--account", officer],
        &["org1-admin", "org2-admin", "org3-admin"],
    )?;
    let unfreeze = draft(&harness, "unfreeze-self", officer, &["unfreeze", "--account", officer])?;
    let unfreeze_tx = unfreeze.submission(&harness, &[officer])?;
    refused_everywhere(&harness, &unfreeze_tx, "frozen", "the frozen officer unfreezing themselves")?;
    Ok(())
}

/// A member suspended by the committee stops counting: an approval its governor gave before the suspension drops
/// out of the tally (the approved weight shrinks while the seated weight, the denominator, keeps the suspended
/// member's weight), and one its governor gives afterwards is recorded on chain but never counts.
#[test]
fn a_suspended_members_approvals_stop_counting() -> anyhow::Result<()> {
    let harness = network("story_suspension")?;
    // A committee proposal with two of four members' approvals: short of two thirds, it waits.
    let (pending, counts) = open_vote(&harness, "story-role", &["org1-admin", "org4-admin"])?;
    ensure!(counts["approved_weight"] == 2 && counts["seated_weight"] == 4, "before the suspension: {counts}");

    // The committee suspends org4 (its own approval would not count for its case).
    enact(
        &harness,
        "suspend-org4",
        "org1-admin",
        &["suspend-member", "--member", "org4"],
        &["org1-admin", "org2-admin", "org3-admin"],
    )?;

    let counts = tally(&harness, &pending.id)?;
    ensure!(counts["approved_weight"] == 1 && counts["seated_weight"] == 4, "after the suspension: {counts}");
    ensure!(!counts_approval(&counts, "org4-admin"), "org4-admin's approval still counts: {counts}");

    // An approval org4's governor gives now is recorded, and does not count either.
    let fresh = define_role(&harness, "define-role-2", "story-role-2")?;
    submit_and_wait(&harness, &fresh.submission(&harness, &["org1-admin"])?)?;
    submit_and_wait(&harness, &fresh.approval_tx(&harness, "org4-admin")?)?;
    let counts = tally(&harness, &fresh.id)?;
    ensure!(
        counts["approved_weight"] == 1 && !counts_approval(&counts, "org4-admin"),
        "a suspended member's new approval counts: {counts}"
    );
    Ok(())
}

/// Writes the JSON list of actions `json` to `<name>.actions.json` in the test directory; returns its path.
fn write_actions(harness: &Harness, name: &str, json: &str) -> anyhow::Result<String> {
    let file = path(harness, &format!("{name}.actions.json"));
    std::fs::write(&file, json)?;
    Ok(file)
}

/// Drafts `org1-admin`'s committee proposal `name` defining role `role` (no draft subcommand defines roles, so from a
/// JSON list of actions in `<name>.actions.json`).
fn define_role(harness: &Harness, name: &str, role: &str) -> anyhow::Result<Drafted> {
    let json = format!(
        r#"[{{"action":"define_role","role":"{role}","definition":{{"scope":"alliance","delegable":false,"max_grant_blocks":100}}}}]"#
    );
    let actions = write_actions(harness, name, &json)?;
    draft(harness, name, "org1-admin", &["--actions", &actions])
}

/// A committee vote left open: `org1-admin`'s proposal `define-role` defining `role`, submitted with the approvals
/// of `approvers` (short of the threshold); returns it with its tally.
fn open_vote(harness: &Harness, role: &str, approvers: &[&str]) -> anyhow::Result<(Drafted, Value)> {
    let pending = define_role(harness, "define-role", role)?;
    submit_and_wait(harness, &pending.submission(harness, approvers)?)?;
    let counts = tally(harness, &pending.id)?;
    Ok((pending, counts))
}

/// Whether `tally` counts `account`'s approval.
fn counts_approval(tally: &Value, account: &str) -> bool {
    tally["counted"].as_array().is_some_and(|counted| counted.iter().any(|a| a == account))
}

/// The first requirement's tally of proposal `id` on `n1`.
fn tally(harness: &Harness, id: &str) -> anyhow::Result<Value> {
    let (code, body) = harness.get("n1", &format!("/v1/proposals/{id}"))?;
    ensure!(code == 200, "/v1/proposals/{id}: {code} {body}");
    body["tally"][0].as_object().map(|t| Value::Object(t.clone())).ok_or_else(|| anyhow!("no tally in {body}"))
}

/// A governor's key changes in the middle of a vote: the approval they gave before a routine rotation still counts
/// after it; once that old key is reported compromised, every approval made with it stops counting, and the old
/// key can no longer sign for the account.
#[test]
fn approvals_survive_a_routine_rotation_and_stop_counting_once_the_key_is_compromised() -> anyhow::Result<()> {
    let harness = network("story_rotation_mid_vote")?;
    let (pending, counts) = open_vote(&harness, "mid-vote-role", &["org1-admin", "org2-admin"])?;
    ensure!(counts["approved_weight"] == 2, "two approvals before the rotation: {counts}");

    // org2's governor rotates their key routinely: the approval made with the old key still counts.
    let old_key = path(&harness, "keys/org2-admin.pem");
    let new_key = path(&harness, "org2-admin-new.pem");
    harness.synod(&["keygen", "--out", &new_key])?;
    let rotate =
        build_tx(&harness, "org2-admin", &old_key, "rotate.tx.json", &["rotate-account-key", "--new-key", &new_key])?;
    submit_and_wait(&harness, &rotate)?;
    let counts = tally(&harness, &pending.id)?;
    ensure!(
        counts["approved_weight"] == 2 && counts_approval(&counts, "org2-admin"),
        "a routine rotation dropped an approval: {counts}"
    );

    // The old key leaked: org2's governor marks it compromised with the new key. Its approval stops counting.
    let compromised = build_tx(
        &harness,
        "org2-admin",
        &new_key,
        "compromised.tx.json",
        &["mark-key-compromised", "--account", "org2-admin", "--leaked", &old_key],
    )?;
    submit_and_wait(&harness, &compromised)?;
    let counts = tally(&harness, &pending.id)?;
    ensure!(
        counts["approved_weight"] == 1 && !counts_approval(&counts, "org2-admin"),
        "an approval made with a compromised key still counts: {counts}"
    );

    // The old key cannot sign for the account any more.
    let fresh =
        draft(&harness, "after-leak", "org2-admin", &["--actions", &path(&harness, "define-role.actions.json")])?;
    let stale = fresh.submission(&harness, &["org2-admin"])?;
    match submit_to(&harness, "n1", &stale) {
        Ok(hash) => anyhow::bail!("n1 took a transaction signed with a compromised key ({hash})"),
        Err(e) => ensure!(format!("{e:#}").contains("rejected"), "refused for another reason: {e:#}"),
    }
    Ok(())
}

/// Every node of `nodes` drops `peer` and logs its disconnection at `height`.
fn dropped_at(harness: &mut Harness, nodes: &[&str], peer: &str, height: u64) -> anyhow::Result<()> {
    harness.wait_until(&format!("every node to drop {peer}"), SOON, nodes, |h| {
        for &id in nodes {
            let peers = h.status(id)?["peers"].as_array().cloned().unwrap_or_default();
            if peers.iter().any(|p| p["node_id"] == peer) {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    for &id in nodes {
        let log = harness.log(id);
        let line = log
            .lines()
            .find(|l| l.contains("peer no longer admitted") && l.contains(&format!("peer={peer} ")))
            .ok_or_else(|| anyhow!("{id} logged no disconnection of {peer}"))?;
        ensure!(line.contains(&format!("height={height} ")), "{id} dropped {peer} at another height: {line}");
    }
    Ok(())
}

/// The height of the last transaction about proposal `id` (the one that executed it, once it executed).
fn executed_at(harness: &Harness, id: &str) -> anyhow::Result<u64> {
    let (code, body) = harness.get("n1", &format!("/v1/proposals/{id}"))?;
    ensure!(code == 200, "/v1/proposals/{id}: {code} {body}");
    body["receipts"]
        .as_array()
        .and_then(|receipts| receipts.iter().filter_map(|r| r["height"].as_u64()).max())
        .ok_or_else(|| anyhow!("no receipt for {id}: {body}"))
}

/// Administrators expel a member that runs a sealer, staged so that sealer safety holds: the dry run shows the
/// expulsion would change the sealer set, so the committee first demotes the member's sealer to observer, after
/// which the same expulsion leaves the sealers alone. Every remaining node disconnects the member's node at the
/// expulsion's height and the chain goes on without it; the node receives no block after that height, the member
/// has no governors left, and its governor's transactions are refused as frozen by every node.
#[test]
fn an_expelled_members_node_is_disconnected_at_the_expulsion_height() -> anyhow::Result<()> {
    const REMAINING: [&str; 4] = ["n1", "n2", "n3", "n4"];
    const COMMITTEE: [&str; 4] = ["org1-admin", "org2-admin", "org3-admin", "org4-admin"];
    let mut harness = network_of("story_expulsion", 5)?;

    // The expulsion's dry run: it removes n5 and, with n5 a sealer, changes the sealer set in the same block.
    let expel = draft(&harness, "expel-org5", "org1-admin", &["expel-member", "--member", "org5"])?;
    let proposal = std::fs::read(&expel.file)?;
    let dry_run = |h: &Harness| -> anyhow::Result<String> {
        let (code, run) = h.post("n1", "/v1/proposals/dry-run", "application/json", &proposal)?;
        ensure!(code == 200 && run["receipt"]["outcome"]["status"] == "applied", "dry run: {code} {run}");
        Ok(run["receipt"]["events"].to_string())
    };
    let events = dry_run(&harness)?;
    ensure!(
        events.contains("node_removed") && events.contains("sealer_set_changed"),
        "the dry run does not show n5 leaving the sealers: {events}"
    );

    // Stage one: n5 becomes an observer (five sealers become four; the fault tolerance of one holds). The
    // expulsion no longer touches the sealer set.
    enact(&harness, "demote-n5", "org1-admin", &["demote", "--node", "n5"], &COMMITTEE)?;
    harness.wait_until("n5 to be an observer", SOON, &["n5"], |h| Ok(h.status("n5")?["kind"] == "observer"))?;
    let events = dry_run(&harness)?;
    ensure!(events.contains("node_removed") && !events.contains("sealer_set_changed"), "after the demotion: {events}");

    // Stage two: the expulsion drafted first now executes.
    submit_and_wait(&harness, &expel.submission(&harness, &COMMITTEE)?)?;
    wait_executed(&harness, &expel.id)?;
    let expelled_at = executed_at(&harness, &expel.id)?;

    dropped_at(&mut harness, &REMAINING, "n5", expelled_at)?;

    // The chain goes on without it; n5 holds nothing after the expulsion.
    let target = harness.height("n1")?.saturating_add(8);
    harness.wait_all_height_of(&REMAINING, target, SOON)?;
    let n5_height = harness.height("n5")?;
    ensure!(n5_height <= expelled_at, "n5 reached height {n5_height} after its expulsion at {expelled_at}");
    harness.assert_one_chain(n5_height)?;

    // Its node is gone from the chain; the member is expelled with no governors, and its governor's transactions are
    // refused as frozen.
    let (code, record) = harness.get("n1", "/v1/nodes/n5")?;
    ensure!(code == 404, "n5 is still on the chain after its owner's expulsion: {code} {record}");
    let (_, member) = harness.get("n1", "/v1/members/org5")?;
    ensure!(
        member["status"] == "expelled" && member["governors"].as_array().is_some_and(Vec::is_empty),
        "org5 after its expulsion: {member}"
    );
    let by_org5 = draft(&harness, "by-org5", "org5-admin", &["suspend-member", "--member", "org1"])?;
    refused_by(
        &harness,
        &REMAINING,
        &by_org5.submission(&harness, &["org5-admin"])?,
        "frozen",
        "the expelled governor",
    )?;
    Ok(())
}

/// A node's key leaks and the committee revokes it (three quarters of the weight; the emergency rule's short delay,
/// then executed): every other node disconnects the node at the revocation's height and refuses the leaked key at the handshake from then on, and the four remaining sealers
/// keep finalising without the node's votes. The committee then gives the node a new key by proposal (the new key,
/// made on the node's machine, signs its own proof of possession); the node, restarted with the new key beside
/// the leaked one, presents the new key, is admitted again and catches up as an observer that holds the chain.
#[test]
fn a_leaked_node_key_is_revoked_and_the_node_returns_with_a_new_key() -> anyhow::Result<()> {
    const OTHERS: [&str; 4] = ["n1", "n2", "n3", "n4"];
    const COMMITTEE: [&str; 4] = ["org1-admin", "org2-admin", "org3-admin", "org4-admin"];
    let mut harness = network_of("story_node_key_leak", 5)?;
    let node_record = |h: &Harness| -> anyhow::Result<Value> {
        let (code, record) = h.get("n1", "/v1/nodes/n5")?;
        ensure!(code == 200, "/v1/nodes/n5: {code} {record}");
        Ok(record)
    };
    let leaked = node_record(&harness)?["key"].as_str().ok_or_else(|| anyhow!("n5 has no key"))?.to_owned();

    // Revoked: n5 is demoted and dropped by every node at the height the revocation executes.
    let revoke =
        enact(&harness, "revoke-n5", "org1-admin", &["revoke-node-key", "--node", "n5", "--key", &leaked], &COMMITTEE)?;
    let revoked_at = executed_at(&harness, &revoke.id)?;
    dropped_at(&mut harness, &OTHERS, "n5", revoked_at)?;
    let record = node_record(&harness)?;
    ensure!(record["kind"] == "observer" && record["key"].is_null(), "n5 after the revocation: {record}");

    // The four sealers go on without it; n5, still running with the leaked key, is refused at every handshake.
    let target = harness.height("n1")?.saturating_add(8);
    harness.wait_all_height_of(&OTHERS, target, SOON)?;
    let stuck = harness.height("n5")?;
    ensure!(stuck <= revoked_at, "n5 reached height {stuck} after its key was revoked at {revoked_at}");
    harness.wait_until("the leaked key to be refused at the handshake", SOON, &["n1"], |h| {
        Ok(h.log("n1").lines().any(|l| l.contains("peer refused at the handshake") && l.contains("reason=revoked_key")))
    })?;

    // On n5's machine, its operator makes a new key in the node's home; the committee gives it to n5.
    let home = harness.node("n5")?.home.clone();
    let new_key = home.join("keys").join("node-1.pem").display().to_string();
    harness.synod(&["keygen", "--out", &new_key])?;
    let new_public = harness.synod(&["key", "show", &new_key])?.trim().to_owned();
    enact(
        &harness,
        "replace-n5",
        "org1-admin",
        &["replace-node-key", "--node", "n5", "--new-key", &new_key],
        &COMMITTEE,
    )?;
    let record = node_record(&harness)?;
    ensure!(record["key"] == new_public.as_str(), "the chain does not list n5's new key: {record}");

    // Restarted, n5 presents the new key (at once if its store reached the revocation; after peers close its
    // handshakes otherwise), is admitted and catches up.
    harness.kill("n5")?;
    harness.start("n5")?;
    let head = harness.height("n1")?;
    harness.wait_height("n5", head, SOON)?;
    harness.assert_one_chain(head)?;
    Ok(())
}
