//! Helpers shared by the property-test files.

use proptest::prelude::ProptestConfig;

/// `cases` cases (unless `PROPTEST_CASES` asks for another number), and no failure files written next to the
/// sources.
pub fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}
