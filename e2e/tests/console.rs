//! The console's user stories in a real browser (Debian's headless Chromium) against a real local network and real
//! `synod-console` processes: administrators admitting a member in their own browser sessions, a compliance
//! officer granting and freezing within the limits the committee set, an operator authorising a node key
//! rotation while the chain keeps finalising, and a regulator following from an observer and re-verifying an
//! exported audit trail offline.

#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::time::Duration;

use anyhow::{Context as _, anyhow, ensure};
use e2e::cli::{draft, submit_and_wait, wait_executed};
use e2e::{Harness, browser::Driver};
use serde_json::Value;

/// Blocks every 250 ms: fast tests, and still a real network.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long any one step may take.
const SOON: Duration = Duration::from_secs(60);

fn start(name: &str) -> anyhow::Result<Harness> {
    let mut harness = Harness::new(name, 4, 1, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    harness.wait_all_height(2, SOON)?;
    Ok(harness)
}

/// Three administrators of three organisations admit a new member through the console, each in their own browser
/// session (two of them on different organisations' consoles): the first drafts and signs, the next two approve
/// after the console decoded the proposal and computed its digest in their browser (the second unlocking a key kept
/// under a passphrase after a page load, the third told by a webhook that the proposal needs their organisation);
/// the last approval applies it, and the pages already open show the new member without a reload.
#[test]
fn administrators_admit_a_member_from_their_own_browsers() -> anyhow::Result<()> {
    let mut harness = start("console_admit_member")?;
    // org1's console delivers webhooks to the test's receiver on loopback, which it refuses unless allowed.
    let org1 = harness.start_console_with("org1", &["n1", "n2"], &["--webhook-allow", "127.0.0.1"])?;
    let org2 = harness.start_console("org2", &["n2", "n3"])?;
    let driver = Driver::start(harness.dir())?;

    let governor_key = harness.dir().join("org5-admin.pem");
    harness.synod(&["keygen", "--out", &governor_key.display().to_string()])?;
    let governor_public = harness.synod(&["key", "show", &governor_key.display().to_string()])?.trim().to_owned();

    let admin1 = driver.browser("admin1")?;
    admin1.sign_in(&org1, &harness.key("org1-admin"), "org1-admin")?;
    admin1.click("nav-members")?;
    admin1.fill("admit-member-id", "org5")?;
    admin1.fill("admit-member-name", "Echo Bank")?;
    admin1.fill("admit-member-governor", "org5-admin")?;
    admin1.fill("admit-member-governor-key", &governor_public)?;
    admin1.click("admit-member-draft")?;
    let digest = admin1.wait_text("digest", "sha256:", SOON)?;
    admin1.wait_text("dry-run", "Member org5 admitted", SOON)?;
    admin1.click("sign-and-submit")?;
    admin1.wait_text("proposal-status", "pending", SOON)?;
    let proposal_url = admin1.url()?;
    assert!(proposal_url.ends_with(&format!("/proposals/{digest}")), "{proposal_url} is not proposal {digest}");

    // The second administrator keeps their key in their browser under a passphrase, follows a link to the
    // proposal on their own organisation's console (a fresh page load: the key is no longer in memory), unlocks
    // the kept key and approves.
    let admin2 = driver.browser("admin2")?;
    let passphrase = "a passphrase only admin2 knows";
    admin2.sign_in_keeping(&org2, &harness.key("org2-admin"), "org2-admin", Some(passphrase))?;
    admin2.goto(&format!("{org2}/proposals/{digest}"))?;
    // The unlock form appears only once the page's WebAssembly runs and finds the kept key.
    admin2.fill("unlock-passphrase", passphrase)?;
    admin2.click("unlock-button")?;
    admin2.wait_text("key-state", "Key loaded in this tab", SOON)?;
    assert_eq!(admin2.wait_text("digest", "sha256:", SOON)?, digest, "admin2's browser computed another digest");
    admin2.click("approve")?;
    admin2.wait_text("action-result", "included", SOON)?;

    // The third registers a webhook for their organisation, which is told the proposal needs its approval; they
    // find it among the proposals needing their approval, and theirs applies it.
    let admin3 = driver.browser("admin3")?;
    admin3.sign_in(&org1, &harness.key("org3-admin"), "org3-admin")?;
    let receiver = e2e::webhook::Receiver::start()?;
    admin3.fill("webhook-url", &receiver.url())?;
    admin3.click("webhook-add")?;
    admin3.wait_text("webhook-list", &receiver.url(), SOON)?;
    let notice = receiver.wait_for(SOON, |n| n["event"] == "needs_approval" && n["proposal"] == digest.as_str())?;
    assert_eq!(notice["member"], "org3", "the notice is for another member: {notice}");
    admin3.click("needs-approval-link")?;
    assert_eq!(admin3.wait_text("digest", "sha256:", SOON)?, digest);
    admin3.click("approve")?;
    admin3.wait_text("proposal-status", "executed", SOON)?;

    // The executed proposal's page and the CLI show the verdict its closing receipt records (who approved, with
    // what weight, out of what), not a tally against the state after it applied.
    let (_, detail) = harness.get("n1", &format!("/v1/proposals/{digest}"))?;
    let verdict = closing_verdict(&detail)?;
    admin3.wait("verdict", SOON)?;
    let shown = admin3.text("verdict")?;
    for vote in verdict["approvals"].as_array().into_iter().flatten() {
        let account = vote["account"].as_str().unwrap_or_default();
        ensure!(shown.contains(account), "the page's verdict leaves out {account}: {shown}");
    }
    for rule in verdict["requirements"].as_array().into_iter().flatten() {
        let weights = format!("{} of {} seated weight", rule["approved_weight"], rule["seated_weight"]);
        ensure!(shown.contains(&weights), "the page's verdict does not say {weights}: {shown}");
    }
    let page = admin3.page_text();
    ensure!(!page.contains("more weight") && !page.contains('✗'), "the executed proposal is judged again: {page}");
    let node = format!("http://{}", harness.node("n1")?.api);
    let cli = harness.synod(&["proposals", &digest, "--node", &node])?;
    ensure!(cli.contains("status      executed") && cli.contains("decision"), "{cli}");
    ensure!(!cli.contains("met=false") && !cli.contains("not met"), "the CLI judges it again: {cli}");
    for vote in verdict["approvals"].as_array().into_iter().flatten() {
        let account = vote["account"].as_str().unwrap_or_default();
        ensure!(cli.contains(account), "the CLI's verdict leaves out {account}: {cli}");
    }

    // Pages open elsewhere follow the chain.
    admin1.wait_text("proposal-status", "executed", SOON)?;
    admin1.click("nav-members")?;
    admin1.wait("member-org5", SOON)?;
    admin2.click("nav-members")?;
    admin2.wait_text("member-status-org5", "active", SOON)?;
    let (_, member) = harness.get("n4", "/v1/members/org5")?;
    assert_eq!(member["name"], "Echo Bank", "the chain does not hold the new member: {member}");
    Ok(())
}

/// A compliance officer grants the committee's delegable role with an expiry and freezes an account, both of its own
/// organisation; the grant of a committee-only role is refused before anything is signed, with the reason.
#[test]
fn compliance_grants_and_freezes_within_the_committees_limits() -> anyhow::Result<()> {
    let mut harness = start("console_compliance")?;
    let org1 = harness.start_console("org1", &["n1"])?;
    let driver = Driver::start(harness.dir())?;
    let officer = driver.browser("compliance")?;
    officer.sign_in(&org1, &harness.key("org1-compliance"), "org1-compliance")?;

    officer.click("nav-accounts")?;
    officer.wait_text("grantable-roles", synod::localnet::DEMO_DELEGABLE_ROLE, SOON)?;
    let expiry = (harness.height("n1")? + 5_000).to_string();
    officer.fill("role-account", "org1-ops")?;
    officer.fill("role-name", synod::localnet::DEMO_DELEGABLE_ROLE)?;
    officer.fill("role-expires", &expiry)?;
    officer.click("grant-draft")?;
    officer.wait_text("digest", "sha256:", SOON)?;
    officer.click("sign-and-submit")?;
    officer.wait_text("proposal-status", "executed", SOON)?;
    officer.click("nav-accounts")?;
    officer.wait_text(
        "account-roles-org1-ops",
        &format!("{} until height {expiry}", synod::localnet::DEMO_DELEGABLE_ROLE),
        SOON,
    )?;

    officer.fill("role-account", "auditor")?;
    officer.click("freeze-draft")?;
    officer.wait_text("digest", "sha256:", SOON)?;
    officer.click("sign-and-submit")?;
    officer.wait_text("proposal-status", "executed", SOON)?;
    officer.click("nav-accounts")?;
    officer.wait_text("account-status-auditor", "Frozen", SOON)?;

    // A committee-only role: the console refuses to draft it and says why.
    officer.fill("role-account", "org2-compliance")?;
    officer.fill("role-name", "operator")?;
    officer.fill("role-expires", &expiry)?;
    officer.click("grant-draft")?;
    let refusal = officer.wait_text("role-error", "delegable", SOON)?;
    assert!(refusal.contains("operator"), "the refusal does not name the role: {refusal}");
    let (_, account) = harness.get("n1", "/v1/accounts/org2-compliance")?;
    assert!(!account.to_string().contains("\"operator\""), "org2-compliance was granted operator: {account}");
    Ok(())
}

/// An operator authorises their node's routine key rotation in the console: the node produced the request
/// (`synod key rotate`), the console checks and shows it, relays it and signs the operator's approval; the chain
/// lists the new key and keeps finalising with the node sealing under it, without a restart.
#[test]
fn an_operator_authorises_a_node_key_rotation_and_the_node_keeps_sealing() -> anyhow::Result<()> {
    let mut harness = start("console_key_rotation")?;
    let org1 = harness.start_console("org1", &["n2"])?;
    let home = harness.node("n1")?.home.clone();
    let valid_until = (harness.height("n1")? + 200).to_string();
    harness.synod(&["key", "rotate", "--home", &home.display().to_string(), "--valid-until", &valid_until])?;
    let new_key = synod::runtime::load_key(&synod::runtime::config::key_path(&home, 1))?.public_key().to_string();

    let driver = Driver::start(harness.dir())?;
    let operator = driver.browser("operator")?;
    operator.sign_in(&org1, &harness.key("org1-ops"), "org1-ops")?;
    operator.click("nav-nodes")?;
    operator.upload("rotation-file", &home.join("rotation-request.json"))?;
    operator.wait_text("rotation-review", &new_key, SOON)?;
    operator.click("rotation-authorise")?;
    operator.wait_text("rotation-result", "included", SOON)?;
    operator.wait_text("node-key-n1", &new_key, SOON).context("the nodes page does not show n1's new key")?;

    let switched = harness.height("n2")?;
    harness.wait_all_height(switched + 8, SOON)?;
    assert!(harness.is_running("n1"), "n1 stopped");
    let log = harness.log("n1");
    assert!(log.contains("picked up a new node key"), "n1 did not pick up its new key:\n{}", e2e::tail(&log, 40));
    Ok(())
}

/// A regulator follows the chain from their own observer, started after the committee had already suspended a
/// member: the observer catches up by syncing, checking each block's certificate itself (none refused), and holds
/// the sealers' chain. On a console reading from that observer alone, which anchors its audit trail on chain with
/// org1's console key, the auditor signs in read-only, finds the committee's decision and their own sign-in in the
/// audit trail, and exports it from the Audit page; the export re-verifies offline from the genesis alone
/// (`synod-console verify-export`, checking the rows against the trail's anchor on chain, and each member's proof
/// with `synod verify-proof`), and the same export with one row altered, with a proof's record altered, or cut
/// short before the anchored row with its head moved back, does not.
#[test]
fn a_regulator_follows_from_an_observer_and_an_exported_audit_trail_verifies_offline() -> anyhow::Result<()> {
    const SEALERS: [&str; 4] = ["n1", "n2", "n3", "n4"];
    let mut harness = Harness::new("console_regulator", 4, 1, BLOCK_INTERVAL_MS)?;
    for id in SEALERS {
        harness.start(id)?;
    }
    harness.wait_all_height_of(&SEALERS, 2, SOON)?;

    // The committee suspends org4 (CLI, offline signatures) before the regulator's observer runs.
    let suspend = draft(&harness, "suspend-org4", "org1-admin", &["suspend-member", "--member", "org4"])?;
    submit_and_wait(&harness, &suspend.submission(&harness, &["org1-admin", "org2-admin", "org3-admin"])?)?;
    wait_executed(&harness, &suspend.id)?;

    // The observer (obs1) starts behind and syncs: every block it commits came with a certificate it checked.
    let behind = harness.height("n1")?;
    harness.start("obs1")?;
    harness.wait_height("obs1", behind, SOON)?;
    let synced = harness.metric("obs1", "synod_synced_heights")?;
    ensure!(synced >= 1, "obs1 reached height {behind} without syncing a height");
    for refused in ["synod_rejected_synced", "synod_rejected_blocks", "synod_bad_signatures"] {
        ensure!(harness.metric("obs1", refused)? == 0, "obs1 counted {refused}");
    }
    harness.assert_one_chain(behind)?;

    // The auditor, on a console that reads from the observer only and anchors its trail every block, signs in
    // read-only.
    let anchor_key = harness.key("org1-console").display().to_string();
    let flags = ["--anchor-key", anchor_key.as_str(), "--anchor-blocks", "1"];
    let console = harness.start_console_with("regulator", &["obs1"], &flags)?;
    let driver = Driver::start(harness.dir())?;
    let auditor = driver.browser("auditor")?;
    auditor.sign_in(&console, &harness.key("auditor"), "auditor")?;
    auditor.wait_text("who", "read-only", SOON)?;
    auditor.click("nav-audit")?;
    auditor.wait_text("audit", "Proposal executed", SOON)?;
    auditor.wait_text("audit", "Signed in", SOON)?;

    // Once the console has anchored its trail on chain, the export, as the Audit page's JSON link gives it, checks
    // out offline from the genesis.
    harness.wait_until("org1's console to anchor its audit trail", SOON, &[], |h| {
        let (status, bundle) = h.get("obs1", "/v1/proofs/anchor/org1-console")?;
        Ok(status == 200 && !bundle["state_proof"]["value"].is_null())
    })?;
    let exported = auditor.download("export-json")?;
    let export_file = harness.dir().join("synod-audit.json");
    std::fs::write(&export_file, &exported)?;
    let genesis = synod::localnet::genesis_path(harness.dir()).display().to_string();
    let export_path = export_file.display().to_string();
    let report = console_cli(&["verify-export", "--genesis", &genesis, &export_path])?;
    ensure!(report.contains("every hash and link holds") && report.contains("proof of member org4"), "{report}");
    ensure!(report.contains("anchored on chain: row") && report.contains("of console org1-console"), "{report}");

    let export: Value = serde_json::from_str(&exported)?;
    let proofs = export["proofs"].as_array().cloned().unwrap_or_default();
    let members: Vec<&Value> = proofs.iter().filter(|p| p["kind"] == "member").collect();
    ensure!(members.len() == 4, "a proof for each of the four members: {export}");
    for proof in members {
        let file = harness.dir().join(format!("proof-{}.json", proof["id"].as_str().unwrap_or("unknown")));
        std::fs::write(&file, proof["bundle"].to_string())?;
        let verified = harness.synod(&["verify-proof", "--genesis", &genesis, &file.display().to_string()])?;
        ensure!(verified.contains(&format!("verified member {}", proof["id"].as_str().unwrap_or("?"))), "{verified}");
    }
    let org4_file = harness.dir().join("proof-org4.json").display().to_string();
    let org4 = harness.synod(&["verify-proof", "--genesis", &genesis, &org4_file])?;
    ensure!(org4.contains("suspended"), "the proof of org4 does not show its suspension: {org4}");

    // Altered, it does not.
    let mut altered: Value = export.clone();
    let rows = altered["audit"]["rows"].as_array_mut().ok_or_else(|| anyhow!("no rows in the export"))?;
    let first = rows.first_mut().ok_or_else(|| anyhow!("no rows in the export"))?;
    first["actor"] = Value::from("someone-else");
    refused_offline(&harness, &genesis, "synod-audit-altered.json", &altered, "audit row 1")?;
    // Cut short before the anchored row, its head moved back to the last row kept: every remaining hash and link
    // holds, but the anchor on chain names a row the export no longer has.
    let anchored = anchored_row(&export)?;
    let mut cut: Value = export.clone();
    let rows = cut["audit"]["rows"].as_array_mut().ok_or_else(|| anyhow!("no rows in the export"))?;
    rows.retain(|row| row["seq"].as_u64().is_some_and(|seq| seq < anchored));
    let head =
        rows.last().map(|row| serde_json::json!({ "seq": row["seq"], "hash": row["hash"], "at_ms": row["at_ms"] }));
    cut["audit"]["head"] = head.unwrap_or(Value::Null);
    refused_offline(
        &harness,
        &genesis,
        "synod-audit-cut.json",
        &cut,
        &format!("audit row {anchored}: anchored on chain"),
    )?;
    // org4's proof with one byte of its record changed (its name's first letter).
    let mut forged: Value = export;
    let entry = forged["proofs"]
        .as_array_mut()
        .and_then(|proofs| proofs.iter_mut().find(|p| p["id"] == "org4"))
        .ok_or_else(|| anyhow!("no proof of org4 in the export"))?;
    let byte = &mut entry["bundle"]["state_proof"]["value"][4];
    let letter = byte.as_u64().ok_or_else(|| anyhow!("org4's proof has no record value"))?;
    *byte = Value::from(letter ^ 1);
    refused_offline(&harness, &genesis, "synod-audit-forged.json", &forged, "does not verify")?;
    Ok(())
}

/// The row the export's anchor proof names (its record's `seq`).
fn anchored_row(export: &Value) -> anyhow::Result<u64> {
    let proof = export["proofs"]
        .as_array()
        .and_then(|proofs| proofs.iter().find(|p| p["kind"] == "anchor"))
        .ok_or_else(|| anyhow!("no anchor proof in the export"))?;
    let bundle: governance_contracts::types::ProofBundle = serde_json::from_value(proof["bundle"].clone())?;
    let value = bundle.state_proof.value.ok_or_else(|| anyhow!("the anchor proof shows no anchor"))?;
    let record: governance_contracts::state::records::AnchorRecord = governance_contracts::codec::decode(&value)?;
    Ok(record.seq)
}

/// Writes the altered export `export` to `name` and checks that `synod-console verify-export` refuses it, saying
/// `because`.
fn refused_offline(harness: &Harness, genesis: &str, name: &str, export: &Value, because: &str) -> anyhow::Result<()> {
    let file = harness.dir().join(name);
    std::fs::write(&file, export.to_string())?;
    let refused = console_cli(&["verify-export", "--genesis", genesis, &file.display().to_string()]);
    ensure!(refused.as_ref().is_err_and(|e| format!("{e:#}").contains(because)), "{name} passed: {refused:?}");
    Ok(())
}

/// Runs `synod-console ARGS` (the offline commands); returns its standard output, or fails with its standard error.
fn console_cli(args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new(e2e::console_bin()?).args(args).output()?;
    if !output.status.success() {
        anyhow::bail!("synod-console {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The verdict of the receipt that closed the proposal `detail` (`GET /v1/proposals/{id}`) describes.
fn closing_verdict(detail: &Value) -> anyhow::Result<Value> {
    detail["receipts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["receipt"]["events"].as_array().cloned().unwrap_or_default())
        .find(|e| e["event"] == "proposal_executed" || e["event"] == "proposal_failed")
        .map(|e| e["verdict"].clone())
        .ok_or_else(|| anyhow!("no closing receipt in {detail}"))
}

/// Every page of the console, signed in and not, switches language both ways without an error or a panic and keeps
/// working (navigation still answers); in Chinese no English is left on any page apart from ids, hashes, keys,
/// commands and the chain's own names; and the accessibility checker axe finds no serious or critical violation
/// on any page (signed out in Chinese, signed in in English).
#[test]
fn every_page_speaks_both_languages_without_errors_and_passes_an_accessibility_check() -> anyhow::Result<()> {
    let mut harness = start("console_languages")?;
    let console = harness.start_console("org1", &["n1", "n2"])?;
    let axe = std::fs::read_to_string(axe_path()?).context("axe-core is missing: `cargo xtask test` installs it")?;
    let executed = draft(&harness, "suspend-org4", "org1-admin", &["suspend-member", "--member", "org4"])?;
    submit_and_wait(&harness, &executed.submission(&harness, &["org1-admin", "org2-admin", "org3-admin"])?)?;
    wait_executed(&harness, &executed.id)?;
    let pending = draft(&harness, "reinstate-org4", "org1-admin", &["reinstate-member", "--member", "org4"])?;
    submit_and_wait(&harness, &pending.submission(&harness, &["org1-admin"])?)?;
    let chain_words = chain_words(&harness)?;

    let pages = [
        "/".to_owned(),
        "/login".to_owned(),
        "/proposals".to_owned(),
        "/proposals/new".to_owned(),
        format!("/proposals/{}", executed.id),
        format!("/proposals/{}", pending.id),
        "/members".to_owned(),
        "/nodes".to_owned(),
        "/accounts".to_owned(),
        "/audit".to_owned(),
        "/bundle".to_owned(),
    ];
    let driver = Driver::start(harness.dir())?;
    let visitor = driver.browser("visitor")?;
    let admin = driver.browser("admin")?;
    admin.sign_in(&console, &harness.key("org1-admin"), "org1-admin")?;
    let mut problems = Vec::new();
    for (who, browser) in [("signed out", &visitor), ("signed in", &admin)] {
        for page in &pages {
            let at = format!("{page} ({who})");
            browser.goto(&format!("{console}{page}"))?;
            browser.wait_hydrated()?;
            browser.watch_errors()?;
            browser.choose_language("zh-CN")?;
            browser.wait_text("nav-overview", "概览", SOON)?;
            // A part of the page still reloading redraws a moment later: what is left after a few seconds counts.
            let settled = std::time::Instant::now() + Duration::from_secs(5);
            let mut english = english_left(&browser.prose()?, &chain_words);
            while !english.is_empty() && std::time::Instant::now() < settled {
                std::thread::sleep(Duration::from_millis(250));
                english = english_left(&browser.prose()?, &chain_words);
            }
            if !english.is_empty() {
                problems.push(format!("{at}: English on the zh-CN page: {english:?}"));
            }
            // Every page is checked for accessibility once per session, signed out in Chinese and signed in in
            // English, so each page and each language is covered.
            let signed_in = who == "signed in";
            if !signed_in {
                for violation in browser.accessibility_violations(&axe)? {
                    problems.push(format!("{at} in Chinese: {violation}"));
                }
            }
            browser.choose_language("en")?;
            browser.wait_text("nav-overview", "Overview", SOON)?;
            if signed_in {
                for violation in browser.accessibility_violations(&axe)? {
                    problems.push(format!("{at} in English: {violation}"));
                }
            }
            let errors = browser.page_errors()?;
            for error in &errors {
                problems.push(format!("{at}: the page reported an error: {error}"));
            }
            // Still alive: a client-side navigation answers.
            browser.click("nav-proposals")?;
            browser
                .wait("filter-status", SOON)
                .with_context(|| format!("{at}: navigation stopped; errors: {errors:?}"))?;
        }
    }
    ensure!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    Ok(())
}

/// `axe.min.js` of the npm package `axe-core`, where `cargo xtask test` installs it (`<target>/tools`).
fn axe_path() -> anyhow::Result<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("SYNOD_AXE") {
        return Ok(path.into());
    }
    let tools = e2e::target_dir()?.join("tools");
    let installed = std::fs::read_dir(&tools)
        .with_context(|| format!("no {}", tools.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("axe-core-")))
        .max()
        .ok_or_else(|| anyhow!("axe-core is not installed under {}: run `cargo xtask test`", tools.display()))?;
    Ok(installed.join("node_modules/axe-core/axe.min.js"))
}

/// The words of the chain's own names and titles (members' names, proposals' titles), which a page shows as they
/// are in any language.
fn chain_words(harness: &Harness) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut words = std::collections::BTreeSet::new();
    let (_, members) = harness.get("n1", "/v1/members?limit=1000")?;
    let (_, proposals) = harness.get("n1", "/v1/proposals?limit=1000")?;
    let names = members["members"].as_array().into_iter().flatten().map(|m| m["name"].clone());
    let titles = proposals["proposals"].as_array().into_iter().flatten().map(|p| p["proposal"]["title"].clone());
    for text in names.chain(titles) {
        for word in text.as_str().unwrap_or_default().split(|c: char| !c.is_ascii_alphanumeric()) {
            words.insert(word.to_ascii_lowercase());
        }
    }
    Ok(words)
}

/// English words left in `prose` (a zh-CN page's text): runs of two or more ASCII letters that are not part of an
/// id, a hash or a number (tokens holding digits or `-_:./@#`), not one of the chain's `names`, and not a name
/// every language writes the same way.
fn english_left(prose: &str, names: &std::collections::BTreeSet<String>) -> Vec<String> {
    const SAME_IN_EVERY_LANGUAGE: [&str; 20] = [
        "synod",
        "ed25519",
        "sha256",
        "sha384",
        "json",
        "csv",
        "pem",
        "pkcs",
        "utc",
        "url",
        "http",
        "https",
        "id",
        "webhook",
        "webassembly",
        "wasm",
        "english",
        "cli",
        "api",
        "ok",
    ];
    let mut left: Vec<String> = prose
        .split(|c: char| {
            c.is_whitespace() || (!c.is_ascii() && !c.is_alphanumeric()) || "()[]{},;!?\"'“”‘’·…→|<>=+*%".contains(c)
        })
        .filter(|token| !token.is_empty())
        .filter(|token| !token.chars().any(|c| c.is_ascii_digit() || "-_:./@#$".contains(c)))
        .flat_map(|token| token.split(|c: char| !c.is_ascii_alphabetic()).map(str::to_owned).collect::<Vec<_>>())
        .filter(|word| word.len() >= 2 && word.chars().all(|c| c.is_ascii_alphabetic()))
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            !SAME_IN_EVERY_LANGUAGE.contains(&lower.as_str()) && !names.contains(&lower)
        })
        .collect();
    left.sort();
    left.dedup();
    left
}

/// Signing in says what is wrong and what to do: the button stays off until a usable key is loaded, a file that is
/// not one says why (and leaves no key behind), a key with no account names the key and the next step, with no
/// framework text and no "key loaded" beside "not signed in", and such a key is never offered for keeping. Once
/// signed in, switching language keeps the key in the tab. The member forms show every error at once under its
/// field, say where a governor's key comes from, and fill in a member's current values from the chain.
#[test]
fn sign_in_and_member_forms_say_what_is_wrong_and_what_to_do() -> anyhow::Result<()> {
    let mut harness = start("console_sign_in_forms")?;
    let console = harness.start_console("org1", &["n1"])?;
    let driver = Driver::start(harness.dir())?;
    let visitor = driver.browser("visitor")?;
    visitor.goto(&format!("{console}/login"))?;
    visitor.wait_hydrated()?;
    let disabled = |b: &e2e::browser::Browser<'_>| -> anyhow::Result<bool> {
        Ok(b.script("return document.querySelector('[data-testid=sign-in]').disabled;", Vec::new())?.as_bool()
            == Some(true))
    };
    ensure!(disabled(&visitor)?, "sign-in is enabled with no key loaded");

    let empty = harness.dir().join("empty.pem");
    std::fs::write(&empty, "")?;
    visitor.upload("key-file", &empty)?;
    visitor.wait_text("login-error", "the key file is empty", SOON)?;
    ensure!(disabled(&visitor)?, "sign-in is enabled after a file that is no key");

    let stranger = harness.dir().join("stranger.pem");
    harness.synod(&["keygen", "--out", &stranger.display().to_string()])?;
    let public = harness.synod(&["key", "show", &stranger.display().to_string()])?.trim().to_owned();
    visitor.upload("key-file", &stranger)?;
    visitor.wait_text("key-public", &public, SOON)?;
    ensure!(!disabled(&visitor)?, "sign-in stays off with a usable key loaded");
    visitor.click("sign-in")?;
    let error = visitor.wait_text("login-error", "ask your organisation's governors", SOON)?;
    ensure!(error.contains(&public) && !error.contains("server function"), "{error}");
    ensure!(visitor.text("who")?.contains("Not signed in"), "the header does not say not signed in");
    ensure!(visitor.find("key-state")?.is_none(), "the header speaks of a key beside \"not signed in\"");
    ensure!(visitor.find("keep-key")?.is_none(), "a key with no account is offered for keeping");

    let admin = driver.browser("admin")?;
    admin.sign_in(&console, &harness.key("org1-admin"), "org1-admin")?;
    admin.wait_text("key-state", "Key loaded", SOON)?;
    admin.choose_language("zh-CN")?;
    admin.wait_text("key-state", "私钥已载入", SOON)?;
    admin.choose_language("en")?;
    admin.wait_text("key-state", "Key loaded", SOON)?;

    admin.click("nav-members")?;
    admin.click("admit-member-draft")?;
    for field in ["admit-member-id", "admit-member-name", "admit-member-governor", "admit-member-governor-key"] {
        admin.wait_for(&format!("{field}-error"), SOON, |text, _| !text.trim().is_empty())?;
    }
    admin.wait_text("admit-member-error", "4 fields need", SOON)?;
    ensure!(admin.page_text().contains("synod keygen"), "nothing says where a governor's key comes from");
    admin.fill("change-member-id", "org2")?;
    admin.wait_for("member-weight-expected", SOON, |_, _| true)?;
    let filled = |id: &str| -> anyhow::Result<String> {
        let value = admin.script(&format!("return document.querySelector('[data-testid={id}]').value;"), Vec::new())?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    };
    let deadline = std::time::Instant::now() + SOON;
    while filled("governors-expected")?.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    ensure!(filled("governors-expected")?.contains("org2-admin"), "org2's governors are not filled in");
    ensure!(!filled("member-weight-expected")?.is_empty(), "org2's weight is not filled in");
    Ok(())
}
