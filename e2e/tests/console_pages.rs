//! The console's overview, accounts and audit pages as a reader meets them, in a real browser (Debian's headless
//! Chromium at 1280 px) against a real local network: pictures labelled, events and rows in words, times as dates,
//! expiries as heights with dates and days left, and every member's approval in the audit trail as it lands.

#![allow(clippy::arithmetic_side_effects, clippy::disallowed_methods)]

use std::time::Duration;

use anyhow::{Context as _, ensure};
use e2e::cli::{draft, submit_and_wait, wait_executed};
use e2e::{Harness, browser::Driver};

/// Blocks every 250 ms: fast tests, and still a real network.
const BLOCK_INTERVAL_MS: u64 = 250;
/// How long any one step may take.
const SOON: Duration = Duration::from_secs(60);

/// While three governors approve a committee grant from the CLI, org1's administrator reads the console at
/// 1280 px: the overview labels its network picture (the centre is the console's node; sealer, observer and
/// connection explained), gives the timeline heights, times and a caption, and writes recent events in words; the
/// accounts page shows each grant's expiry height with a date and the days left, flags the grant ending soon and
/// says what a governor holds; the audit trail lists each governor's approval with their member, weight and
/// height, shows times in the browser's zone and in UTC, and fits the window.
#[test]
fn the_overview_accounts_and_audit_pages_read_in_words_and_fit_the_window() -> anyhow::Result<()> {
    let mut harness = Harness::new("console_pages", 4, 1, BLOCK_INTERVAL_MS)?;
    harness.start_all()?;
    harness.wait_all_height(2, SOON)?;
    let org1 = harness.start_console("org1", &["n1"])?;
    let driver = Driver::start(harness.dir())?;
    let admin = driver.browser("admin1")?;
    admin.set_window_size(1280, 900)?;
    admin.sign_in(&org1, &harness.key("org1-admin"), "org1-admin")?;

    // The committee grants org2-ops the auditor role for 2,000 blocks (under ten minutes at this pace): org1
    // submits with its approval, org2 and org3 approve in their own transactions, the last applies it.
    let until = harness.height("n1")? + 2_000;
    let grant = ["grant-role", "--account", "org2-ops", "--role", "auditor", "--until", &until.to_string()];
    let drafted = draft(&harness, "grant-auditor", "org1-admin", &grant)?;
    submit_and_wait(&harness, &drafted.submission(&harness, &["org1-admin"])?)?;
    submit_and_wait(&harness, &drafted.approval_tx(&harness, "org2-admin")?)?;
    submit_and_wait(&harness, &drafted.approval_tx(&harness, "org3-admin")?)?;
    wait_executed(&harness, &drafted.id)?;

    // Overview: no test hook on the page, labelled pictures, events in words.
    admin.click("nav-overview")?;
    admin.wait_text("network-legend", "Centre: n1, the node this console reads from", SOON)?;
    let legend = admin.text("network-legend")?;
    ensure!(legend.contains("Sealer") && legend.contains("Observer") && legend.contains("connected"), "{legend}");
    admin.wait("network-hub", SOON)?;
    ensure!(admin.find("hydration-probe")?.is_none(), "the overview still shows the hydration probe");
    let caption = admin.wait_text("timeline-caption", "Each bar is one block", SOON)?;
    ensure!(caption.starts_with("Blocks ") && caption.contains(" UTC)"), "timeline caption: {caption}");
    let first: u64 = admin.text("timeline-axis-start")?.trim().parse().context("the axis starts at a height")?;
    let last: u64 = admin.text("timeline-axis-end")?.trim().parse().context("the axis ends at a height")?;
    ensure!(first < last, "the timeline runs from {first} to {last}");
    let events = admin.wait_text("recent-events", "Approved on chain", SOON)?;
    ensure!(events.contains("org1-admin · Signed in"), "the sign-in is not in words: {events}");
    for code in ["approval_on_chain", "sign_in", "proposal_applied"] {
        ensure!(!events.contains(code), "recent events print the kind code {code}: {events}");
    }

    // Accounts: expiries as heights with dates and days, the short grant flagged, governors' standing explained.
    admin.click("nav-accounts")?;
    let granted = admin.wait_text("account-roles-org2-ops", &format!("until height {until}"), SOON)?;
    ensure!(granted.contains("expires in less than a day") && granted.contains("expires soon"), "{granted}");
    let founding = admin.text("account-roles-org1-ops")?;
    ensure!(founding.contains(" UTC, expires in ") && founding.contains(" days)"), "org1-ops: {founding}");
    ensure!(!founding.contains("expires soon"), "a founding grant is flagged: {founding}");
    let governor = admin.text("account-roles-org1-admin")?;
    ensure!(governor.contains("governor of org1"), "org1-admin's roles: {governor}");
    admin.wait_text("governor-legend", "★ governor", SOON)?;

    // Audit trail: every governor's approval as it landed, times local and UTC, and a table that fits 1280 px.
    admin.click("nav-audit")?;
    let trail = admin.wait_text("audit", "org3-admin, governor of org3 (weight 1) approved", SOON)?;
    for approver in ["org1-admin, governor of org1", "org2-admin, governor of org2"] {
        ensure!(trail.contains(&format!("{approver} (weight 1) approved")), "no approval by {approver}:\n{trail}");
    }
    ensure!(!trail.contains("\"approver\""), "the trail shows raw JSON:\n{trail}");
    admin.wait_text("time-local", "(local, UTC", SOON)?;
    let utc = admin.text("time-utc")?;
    ensure!(utc.ends_with(" UTC") && utc.len() == "2026-12-05 14:03:21 UTC".len(), "UTC time: {utc}");
    let widths = admin.script(
        "const table = document.querySelector('[data-testid=\"audit\"]'); \
         return [table.scrollWidth, table.clientWidth, document.documentElement.scrollWidth, window.innerWidth];",
        Vec::new(),
    )?;
    let width = |i: usize| widths.get(i).and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX);
    ensure!(width(3) <= 1280, "the window is {} px wide", width(3));
    ensure!(width(0) <= width(1), "the audit table overflows itself: {widths}");
    ensure!(width(2) <= width(3), "the page scrolls sideways at 1280 px: {widths}");
    Ok(())
}
