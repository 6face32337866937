//! The wall clock: the one place a running node reads the time of day (block times). Consensus timers run on the
//! runtime's monotonic clock instead ([`super::timers`]).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::consensus::host::Clock;

/// The system's time of day, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    // The workspace bans reading the system clock so that deterministic code takes time as an input; the node's
    // runtime is where that input comes from.
    #[allow(clippy::disallowed_methods)]
    fn now_ms(&self) -> u64 {
        // A clock set before 1970 reads as the epoch: block times then come from the parent block (the host never
        // lets time run backwards).
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wall clock reads a time after 2025-01-01 and never earlier on a second read.
    #[test]
    fn wall_clock_reads_the_time_of_day() {
        let first = WallClock.now_ms();
        assert!(first > 1_735_689_600_000, "{first}");
        assert!(WallClock.now_ms() >= first);
    }
}
