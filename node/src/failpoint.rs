//! Named failpoints for crash tests on a real process.
//!
//! A failpoint is armed by listing it in the `SYNOD_FAILPOINTS` environment variable (comma-separated) when the
//! node starts, either as `NAME` (trigger on the first hit) or as `NAME@N` (trigger on the Nth hit, N ≥ 1, to
//! crash at a later height than the first). When execution reaches an armed failpoint for the triggering time,
//! the node writes `failpoint reached: NAME` to standard error and freezes the calling thread forever, so a test
//! can SIGKILL the process at exactly that point and restart it. Earlier hits only count. Unarmed failpoints cost
//! one lookup in a map read once at start.
//!
//! The names are the constants below; a test arms one and waits for its line. A node refuses to start when the
//! variable holds anything else ([`unknown_names`]), so a typo never arms nothing silently.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms failpoints.
pub const ENV: &str = "SYNOD_FAILPOINTS";

/// After the node signed its own vote, before the vote is written to the consensus WAL.
pub const AFTER_SIGN_VOTE: &str = "after-sign-vote";
/// After the WAL holds the node's own vote, before the vote is broadcast.
pub const BEFORE_BROADCAST: &str = "before-broadcast";
/// A block was decided and the WAL flushed, before the block's atomic store write.
pub const BEFORE_BLOCK_COMMIT: &str = "before-block-commit";
/// The block's store write returned, before the node moves to the next height.
pub const AFTER_BLOCK_COMMIT: &str = "after-block-commit";

/// Every failpoint name, for validation of the environment variable.
pub const ALL: [&str; 4] = [AFTER_SIGN_VOTE, BEFORE_BROADCAST, BEFORE_BLOCK_COMMIT, AFTER_BLOCK_COMMIT];

/// How many times each failpoint of [`ALL`] was hit, by position.
static HITS: [AtomicU64; ALL.len()] = [const { AtomicU64::new(0) }; ALL.len()];

/// One item of the environment variable: a name and the hit that triggers it, `None` if the count is malformed.
fn parse_item(item: &str) -> (&str, Option<u64>) {
    match item.split_once('@') {
        None => (item, Some(1)),
        Some((name, count)) => (name.trim(), count.trim().parse::<u64>().ok().filter(|n| *n >= 1)),
    }
}

/// The items of a `SYNOD_FAILPOINTS` value, trimmed, empty ones skipped.
fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn variable() -> &'static str {
    static VALUE: OnceLock<String> = OnceLock::new();
    VALUE.get_or_init(|| std::env::var(ENV).unwrap_or_default())
}

/// The armed failpoints with the hit that triggers each (well-formed items only).
fn armed() -> &'static BTreeMap<String, u64> {
    static ARMED: OnceLock<BTreeMap<String, u64>> = OnceLock::new();
    ARMED.get_or_init(|| armed_in(variable()))
}

fn armed_in(list: &str) -> BTreeMap<String, u64> {
    items(list)
        .filter_map(|item| match parse_item(item) {
            (name, Some(count)) => Some((name.to_owned(), count)),
            (_, None) => None,
        })
        .collect()
}

fn unknown_in(list: &str) -> Vec<String> {
    items(list)
        .filter(|item| match parse_item(item) {
            (name, Some(_)) => !ALL.contains(&name),
            (_, None) => true,
        })
        .map(str::to_owned)
        .collect()
}

/// Items of `SYNOD_FAILPOINTS` that are not a failpoint name, optionally with a count `@N` (N ≥ 1).
pub fn unknown_names() -> Vec<String> {
    unknown_in(variable())
}

/// Counts a hit of failpoint `name`; if it is armed and this is its triggering hit, says so on standard error and
/// freezes the calling thread forever.
pub fn hit(name: &'static str) {
    let Some(&trigger) = armed().get(name) else {
        return;
    };
    let Some(counter) = ALL.iter().position(|n| *n == name).and_then(|i| HITS.get(i)) else {
        return;
    };
    let hits = counter.fetch_add(1, Ordering::SeqCst).saturating_add(1);
    if hits != trigger {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    // If standard error is gone the test cannot see the line either; freezing is still the right behaviour.
    let _ = writeln!(stderr, "failpoint reached: {name}");
    let _ = stderr.flush();
    drop(stderr);
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain names trigger on the first hit, `NAME@N` on the Nth, and blanks are ignored.
    #[test]
    fn names_and_counts_are_parsed() {
        let armed = armed_in(" after-sign-vote , before-broadcast@3,,");
        assert_eq!(armed.get(AFTER_SIGN_VOTE), Some(&1));
        assert_eq!(armed.get(BEFORE_BROADCAST), Some(&3));
        assert_eq!(armed.len(), 2);
        assert!(unknown_in(" after-sign-vote , before-broadcast@3,,").is_empty());
    }

    /// Unknown names and malformed or zero counts are reported, so a typo never arms nothing silently.
    #[test]
    fn unknown_names_and_bad_counts_are_reported() {
        let unknown = unknown_in("after-sign-vot,before-broadcast@0,after-block-commit@x,before-block-commit@2");
        assert_eq!(unknown, vec!["after-sign-vot", "before-broadcast@0", "after-block-commit@x"]);
    }
}
