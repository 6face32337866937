//! The simulator's fault model.
//!
//! While faults are on (virtual time below [`FaultConfig::until_ms`]):
//! - **links**: each delivery is dropped, duplicated (a second copy with its own delay) or reordered (held back by
//!   up to [`REORDER_MAX_MS`] beyond the normal delay) with the configured per-mille probabilities;
//! - **partitions**: the nodes are split into two sides for one to four seconds; messages across are dropped, and
//!   the partition heals before faults end;
//! - **crashes**: an honest node stops for half a second to three seconds and restarts from what its store made
//!   durable (blocks and evidence, and only the flushed part of its write-ahead log); its pending transactions
//!   and timers are gone; at most one node is down at a time, and every node is back before faults end;
//! - **Byzantine twin**: a second host runs under the last sealer's id and key, with its clock one millisecond
//!   ahead so the blocks it builds differ: whenever both propose or vote differently in one round, the sealer
//!   equivocates. Neither copy is held to the honest-node invariants.
//! - **hostile peers** ([`crate::hostile`]): an observer that no governance lists, and the Byzantine twin (a sealer,
//!   signing with the sealer's key), each send one burst of a random attack every [`HOSTILE_BURST_MS`] (at most
//!   [`HOSTILE_BURST_MESSAGES`] messages): an
//!   oversized block (to one random node), a flood of blocks no proposal names, votes or proposals at far heights,
//!   or signature-tampered copies of the real block (also sent at once whenever a new real block arrives). Both
//!   stay silent when asked to sync. Honest nodes must drop or refuse all of it at a bounded cost.
//!
//! After `until_ms` the network is reliable and every node is up: liveness requires a new block within the
//! liveness window.

/// Longest extra hold-back of a reordered message.
pub const REORDER_MAX_MS: u64 = 500;
/// How often each hostile peer sends a burst while faults are on.
pub const HOSTILE_BURST_MS: u64 = 2_000;
/// Most messages of one hostile burst the simulator sends (the volume of each attack is the unit tests' and the
/// fault suite's concern; the simulation covers every kind against every other fault).
pub const HOSTILE_BURST_MESSAGES: usize = 8;

/// Which faults a simulation injects, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultConfig {
    /// Per-mille chance a delivery is dropped.
    pub drop_per_mille: u64,
    /// Per-mille chance a delivery is duplicated.
    pub duplicate_per_mille: u64,
    /// Per-mille chance a delivery is held back.
    pub reorder_per_mille: u64,
    /// Partitions that heal.
    pub partitions: bool,
    /// Crashes and restarts.
    pub crashes: bool,
    /// A Byzantine twin of the last sealer.
    pub byzantine: bool,
    /// A hostile observer, and hostile traffic from the Byzantine twin (if there is one).
    pub hostile: bool,
    /// Virtual time at which every fault stops.
    pub until_ms: u64,
}

impl FaultConfig {
    /// No faults at all.
    pub fn none() -> Self {
        Self {
            drop_per_mille: 0,
            duplicate_per_mille: 0,
            reorder_per_mille: 0,
            partitions: false,
            crashes: false,
            byzantine: false,
            hostile: false,
            until_ms: 0,
        }
    }

    /// Every fault kind for the first 20 virtual seconds: 5 % drops, 5 % duplicates, 10 % reordering, two
    /// partitions, two crashes, a Byzantine twin and hostile peers.
    pub fn all() -> Self {
        Self {
            drop_per_mille: 50,
            duplicate_per_mille: 50,
            reorder_per_mille: 100,
            partitions: true,
            crashes: true,
            byzantine: true,
            hostile: true,
            until_ms: 20_000,
        }
    }

    /// Whether any fault is configured.
    pub fn any(&self) -> bool {
        *self != Self { until_ms: self.until_ms, ..Self::none() }
    }
}

/// What the faults did in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Deliveries dropped on a lossy link.
    pub dropped: u64,
    /// Deliveries duplicated.
    pub duplicated: u64,
    /// Deliveries held back.
    pub reordered: u64,
    /// Deliveries dropped across a partition.
    pub partitioned: u64,
    /// Partitions begun.
    pub partitions: u64,
    /// Crashes.
    pub crashes: u64,
    /// Restarts.
    pub restarts: u64,
    /// Messages hostile peers sent (each delivery counted).
    pub hostile: u64,
}

impl FaultCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Self) {
        self.dropped = self.dropped.saturating_add(other.dropped);
        self.duplicated = self.duplicated.saturating_add(other.duplicated);
        self.reordered = self.reordered.saturating_add(other.reordered);
        self.partitioned = self.partitioned.saturating_add(other.partitioned);
        self.partitions = self.partitions.saturating_add(other.partitions);
        self.crashes = self.crashes.saturating_add(other.crashes);
        self.restarts = self.restarts.saturating_add(other.restarts);
        self.hostile = self.hostile.saturating_add(other.hostile);
    }
}
