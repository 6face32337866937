//! The runtime's table of pending host timers, on a monotonic millisecond clock that the caller reads (so the
//! table itself is deterministic and tested without waiting).
//!
//! It honours the host's timer outputs: [`TimerTable::schedule`] replaces a pending timer equal to the new one,
//! [`TimerTable::cancel`] drops one, [`TimerTable::cancel_consensus`] drops every consensus timeout (the core's
//! timeouts carry no height, so a late one must never reach the next height). Due timers come out earliest first,
//! ties in the order they were scheduled.

use crate::consensus::host::Timer;

/// A pending timer.
#[derive(Debug, Clone, Copy)]
struct Pending {
    timer: Timer,
    due_ms: u64,
    seq: u64,
}

/// Pending timers, each due at a point of the runtime's monotonic clock.
#[derive(Debug, Default)]
pub struct TimerTable {
    pending: Vec<Pending>,
    seq: u64,
}

impl TimerTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `timer` at `due_ms`, replacing a pending timer equal to it.
    pub fn schedule(&mut self, timer: Timer, due_ms: u64) {
        self.cancel(timer);
        self.seq = self.seq.saturating_add(1);
        self.pending.push(Pending { timer, due_ms, seq: self.seq });
    }

    /// Cancels `timer` if pending.
    pub fn cancel(&mut self, timer: Timer) {
        self.pending.retain(|p| p.timer != timer);
    }

    /// Cancels every pending consensus timeout; [`Timer::StartHeight`] stays.
    pub fn cancel_consensus(&mut self) {
        self.pending.retain(|p| !matches!(p.timer, Timer::Consensus(_)));
    }

    /// When the earliest pending timer is due.
    pub fn next_due(&self) -> Option<u64> {
        self.pending.iter().map(|p| p.due_ms).min()
    }

    /// Removes and returns the earliest timer due at `now_ms` or before.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<Timer> {
        let (index, _) = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due_ms <= now_ms)
            .min_by_key(|(_, p)| (p.due_ms, p.seq))?;
        Some(self.pending.swap_remove(index).timer)
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use malachite_core_types::{Round, Timeout};

    use super::*;

    fn propose(round: u32) -> Timer {
        Timer::Consensus(Timeout::propose(Round::new(round)))
    }

    /// Timers fire earliest first, ties in scheduling order, and none before it is due.
    #[test]
    fn due_timers_come_out_in_order() {
        let mut table = TimerTable::new();
        table.schedule(propose(1), 30);
        table.schedule(Timer::StartHeight, 10);
        table.schedule(propose(0), 10);
        assert_eq!(table.next_due(), Some(10));
        assert_eq!(table.pop_due(9), None);
        assert_eq!(table.pop_due(10), Some(Timer::StartHeight));
        assert_eq!(table.pop_due(10), Some(propose(0)));
        assert_eq!(table.pop_due(29), None);
        assert_eq!(table.pop_due(100), Some(propose(1)));
        assert!(table.is_empty());
        assert_eq!(table.next_due(), None);
    }

    /// Scheduling an equal timer replaces the pending one instead of adding a second.
    #[test]
    fn schedule_replaces_an_equal_timer() {
        let mut table = TimerTable::new();
        table.schedule(propose(0), 10);
        table.schedule(propose(0), 50);
        assert_eq!(table.len(), 1);
        assert_eq!(table.pop_due(10), None);
        assert_eq!(table.pop_due(50), Some(propose(0)));
    }

    /// Cancel drops one timer; cancelling consensus timers drops every timeout but keeps the height start.
    #[test]
    fn cancel_and_cancel_consensus() {
        let mut table = TimerTable::new();
        table.schedule(propose(0), 10);
        table.schedule(propose(1), 10);
        table.schedule(Timer::StartHeight, 20);
        table.cancel(propose(1));
        assert_eq!(table.len(), 2);
        table.cancel_consensus();
        assert_eq!(table.len(), 1);
        assert_eq!(table.pop_due(u64::MAX), Some(Timer::StartHeight));
    }
}
