//! The consensus write-ahead log, behind a trait so that a durable (RocksDB or file) log plugs in later.
//!
//! The core asks to log votes, proposals, proposed values, elapsed timeouts and polka certificates of the current
//! height ([`Input`]s). The host appends them as asked, [`Wal::flush`]es before anything they guard leaves the
//! node (a publish, a block write), and [`Wal::reset`]s the log when a new height starts. On restart the entries
//! of the unfinished height are replayed into a fresh core. An append or flush failure is fatal.

use malachite_core_consensus::Input;

use super::context::{Height, SynodContext};
use super::store::StorageFailure;

/// A consensus write-ahead log for one height at a time.
pub trait Wal {
    /// The height the log holds entries for.
    fn height(&self) -> Height;
    /// Appends an entry of the current height (buffered until [`Self::flush`]).
    fn append(&mut self, entry: Input<SynodContext>) -> Result<(), StorageFailure>;
    /// Makes every appended entry durable.
    fn flush(&mut self) -> Result<(), StorageFailure>;
    /// The durable entries, in order.
    fn entries(&self) -> Result<Vec<Input<SynodContext>>, StorageFailure>;
    /// Empties the log and moves it to `height`.
    fn reset(&mut self, height: Height) -> Result<(), StorageFailure>;
}

/// A log in memory: flushed entries are what survive a simulated crash.
#[derive(Debug, Clone, Default)]
pub struct MemoryWal {
    height: Height,
    durable: Vec<Input<SynodContext>>,
    buffered: Vec<Input<SynodContext>>,
}

impl MemoryWal {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries appended but not yet flushed.
    pub fn buffered(&self) -> usize {
        self.buffered.len()
    }
}

impl Wal for MemoryWal {
    fn height(&self) -> Height {
        self.height
    }

    fn append(&mut self, entry: Input<SynodContext>) -> Result<(), StorageFailure> {
        self.buffered.push(entry);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageFailure> {
        self.durable.append(&mut self.buffered);
        Ok(())
    }

    fn entries(&self) -> Result<Vec<Input<SynodContext>>, StorageFailure> {
        Ok(self.durable.clone())
    }

    fn reset(&mut self, height: Height) -> Result<(), StorageFailure> {
        self.height = height;
        self.durable.clear();
        self.buffered.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::ids;
    use malachite_core_types::{Round, Timeout};

    use super::*;

    /// Only flushed entries are durable, and a reset empties the log and moves it to the new height.
    #[test]
    fn flush_makes_entries_durable_and_reset_clears() {
        let mut wal = MemoryWal::new();
        wal.reset(Height(ids::Height(3))).unwrap();
        wal.append(Input::TimeoutElapsed(Timeout::propose(Round::new(0)))).unwrap();
        assert!(wal.entries().unwrap().is_empty());
        assert_eq!(wal.buffered(), 1);
        wal.flush().unwrap();
        assert_eq!(wal.entries().unwrap().len(), 1);
        wal.reset(Height(ids::Height(4))).unwrap();
        assert!(wal.entries().unwrap().is_empty());
        assert_eq!(wal.height(), Height(ids::Height(4)));
    }
}
