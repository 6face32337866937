//! Named failpoints for crash tests on a real process.
//!
//! A failpoint is armed by listing its name in the `SYNOD_FAILPOINTS` environment variable (comma-separated) when
//! the node starts. When execution reaches an armed failpoint, the node writes `failpoint reached: NAME` to
//! standard error and freezes the calling thread forever, so a test can SIGKILL the process at exactly that
//! point and restart it. Unarmed failpoints cost one lookup in a set read once at start.
//!
//! The names are the constants below; a test arms one and waits for its line.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::OnceLock;

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

fn armed() -> &'static BTreeSet<String> {
    static ARMED: OnceLock<BTreeSet<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var(ENV)
            .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    })
}

/// Names in `SYNOD_FAILPOINTS` that are not failpoints (a typo would otherwise arm nothing silently).
pub fn unknown_names() -> Vec<String> {
    armed().iter().filter(|name| !ALL.contains(&name.as_str())).cloned().collect()
}

/// Freezes the calling thread forever if `name` is armed, after saying so on standard error.
pub fn hit(name: &'static str) {
    if !armed().contains(name) {
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
