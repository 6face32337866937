//! Replays every checked-in input of every fuzz target on the stable toolchain: the corpora the fuzzer built
//! (`fuzz/corpus/<target>/`) and the input of every crash it found (`fuzz/regressions/<target>/`), so a fixed crash
//! stays fixed and the targets' properties hold on everything the fuzzer learnt from.

use std::path::{Path, PathBuf};

/// The repository's `fuzz/` directory.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fuzz")
}

/// The files directly inside `dir` (none when it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Every target has a non-empty corpus, and no input of its corpus or its regressions fails its checks.
#[test]
fn every_checked_in_input_passes_its_target() {
    for (name, target) in fuzz_targets::TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty: run the fuzzer (see fuzz/README.md)");
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(panic) = std::panic::catch_unwind(|| target(&data)) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                panic!("{name} fails on {}: {message}", path.display());
            }
        }
    }
}

/// Each target's name matches a libFuzzer entry point in `fuzz/fuzz_targets/`, so what CI replays is what is fuzzed.
#[test]
fn every_target_has_a_fuzz_entry_point() {
    for (name, _) in fuzz_targets::TARGETS {
        let entry = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&entry).unwrap_or_else(|e| panic!("{}: {e}", entry.display()));
        assert!(
            text.contains(&format!("fuzz_targets::{name}(")),
            "{} does not call fuzz_targets::{name}",
            entry.display()
        );
    }
}
