//! Runs the store conformance suite (`state::conformance`) against the in-memory store, and against deliberately
//! broken stores to show that each kind of defect a real store could have is caught.

use std::panic::{AssertUnwindSafe, catch_unwind};

use governance_contracts::state::conformance::{ConformanceStore, check_names, run_all};
use governance_contracts::state::{ChangeSet, Entries, MemoryStore, Store, StoreError, TableId};

/// The in-memory store passes every conformance check.
#[test]
fn memory_store_conforms() {
    let mut made = 0;
    run_all(&mut || {
        made += 1;
        Box::new(MemoryStore::new())
    });
    assert_eq!(made, check_names().len(), "every check gets a fresh store");
    assert_eq!(check_names().len(), 12);
}

/// A defect a store could have.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Defect {
    /// Scans return entries in descending order.
    ReversedScan,
    /// Empty values read back as absent.
    EmptyValueIsAbsent,
    /// Scans return matching keys of every table.
    ScanIgnoresTable,
    /// A prefix ending in `0xff` overflows the computed upper bound and scans nothing.
    PrefixUpperBoundOverflow,
    /// Deletes are ignored.
    DeleteIgnored,
    /// Only the first half of a change set is written.
    PartialApply,
}

/// A memory store with one defect.
struct Faulty {
    inner: MemoryStore,
    defect: Defect,
}

impl Store for Faulty {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.inner.get(table, key)?;
        Ok(match (self.defect, value) {
            (Defect::EmptyValueIsAbsent, Some(v)) if v.is_empty() => None,
            (_, value) => value,
        })
    }

    fn scan_prefix(&self, table: TableId, prefix: &[u8]) -> Result<Entries, StoreError> {
        Ok(match self.defect {
            Defect::ReversedScan => self.inner.scan_prefix(table, prefix)?.into_iter().rev().collect(),
            Defect::EmptyValueIsAbsent => {
                self.inner.scan_prefix(table, prefix)?.into_iter().filter(|(_, v)| !v.is_empty()).collect()
            }
            Defect::ScanIgnoresTable => {
                let mut all = Entries::new();
                for t in TableId::ALL {
                    all.extend(self.inner.scan_prefix(t, prefix)?);
                }
                all.sort();
                all
            }
            Defect::PrefixUpperBoundOverflow if prefix.last() == Some(&0xff) => Entries::new(),
            _ => self.inner.scan_prefix(table, prefix)?,
        })
    }
}

impl ConformanceStore for Faulty {
    fn apply(&mut self, changes: ChangeSet) -> Result<(), StoreError> {
        let keep = changes.len().div_ceil(2);
        let changes: ChangeSet = match self.defect {
            Defect::DeleteIgnored => changes.into_iter().filter(|(_, v)| v.is_some()).collect(),
            Defect::PartialApply if changes.len() > 1 => changes.into_iter().take(keep).collect(),
            _ => changes,
        };
        self.inner.apply(changes);
        Ok(())
    }
}

/// Runs the suite on stores with `defect` and returns the panic message.
fn failure(defect: Defect) -> String {
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_all(&mut || Box::new(Faulty { inner: MemoryStore::new(), defect }));
    }));
    let payload = result.expect_err("a store with a defect must fail the suite");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Each defect fails the suite at the check written for it, with a message naming the check.
#[test]
fn defective_stores_are_caught() {
    for (defect, check) in [
        (Defect::ReversedScan, "scan order and bounds"),
        (Defect::EmptyValueIsAbsent, "put then get"),
        (Defect::ScanIgnoresTable, "put then get"),
        (Defect::PrefixUpperBoundOverflow, "scan order and bounds"),
        (Defect::DeleteIgnored, "delete"),
        (Defect::PartialApply, "delete"),
    ] {
        let message = failure(defect);
        assert!(
            message.starts_with(&format!("store conformance [{check}]: ")),
            "{defect:?} should fail `{check}`, got: {message}"
        );
    }
}
