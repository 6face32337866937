//! Crash safety of the real `synod` binary: a single sealer over a one-node genesis is frozen at a named failpoint
//! (`SYNOD_FAILPOINTS=NAME@N`, the Nth hit, so at a later height than the first), killed with SIGKILL, restarted
//! without failpoints, and stopped with SIGTERM after a few more heights. Then every height it reported finalised
//! is still in its store with the same hash, the chain continues without a gap, and no two of its votes across
//! both runs share a height, round and kind but name different blocks (it never signed conflicting votes).
//!
//! The node is observed through its output lines (`started …`, `vote …`, `finalized …` on standard output,
//! `failpoint reached: NAME` on standard error) and, after the final stop, by opening its store.

// A test that drives real processes waits on real time: its deadlines read the system's monotonic clock.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::Height;
use governance_contracts::testkit;
use synod::failpoint;
use synod::runtime::store_path;
use synod::storage::NodeStore;
use tempfile::TempDir;

/// How long any one expected line may take before the test fails with the captured output.
const DEADLINE: Duration = Duration::from_secs(90);
/// The failpoints are armed for their Nth hit: a later height than the first.
const HIT: u64 = 3;
/// Heights the restarted node must finalise past the ones reported before the crash.
const MORE_HEIGHTS: u64 = 3;

/// When a wait that starts now gives up.
fn deadline() -> Instant {
    Instant::now().checked_add(DEADLINE).expect("a deadline within the clock's range")
}

/// A data directory with a one-sealer genesis (`n0`, 50 ms blocks) and `n0`'s key.
struct Fixture {
    dir: TempDir,
    genesis: PathBuf,
    key: PathBuf,
    chain: ChainIdentity,
}

impl Fixture {
    fn new() -> Self {
        let dir = TempDir::new().expect("a temporary directory");
        let mut genesis = testkit::genesis(1);
        genesis.params.block_interval_ms = 50;
        // In the past, so that blocks follow at the interval from the first one on.
        genesis.genesis_time_ms = 1_600_000_000_000;
        let genesis_path = dir.path().join("genesis.json");
        std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis).expect("a genesis serialises"))
            .expect("the genesis is written");
        let key_path = dir.path().join("n0.pem");
        let pem = testkit::secret("n0").to_pkcs8_pem().expect("the key encodes");
        std::fs::write(&key_path, pem).expect("the key is written");
        Self { chain: genesis.identity(), genesis: genesis_path, key: key_path, dir }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `synod run` for `n0`, with `failpoints` armed if given.
    fn spawn(&self, failpoints: Option<&str>) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_synod"));
        command
            .arg("run")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--genesis")
            .arg(&self.genesis)
            .arg("--key")
            .arg(&self.key)
            .args(["--node", "n0"])
            .env_remove(failpoint::ENV)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(list) = failpoints {
            command.env(failpoint::ENV, list);
        }
        let mut child = command.spawn().expect("synod starts");
        let (sender, events) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let readers = vec![forward(stdout, Stream::Out, sender.clone()), forward(stderr, Stream::Err, sender)];
        Running { child, events, readers, seen: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// Sends every line of `pipe` to `sender` until the pipe closes.
fn forward(
    pipe: impl Read + Send + 'static,
    stream: Stream,
    sender: Sender<(Stream, String)>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if sender.send((stream, line)).is_err() {
                break;
            }
        }
    })
}

/// A running node process and what it printed so far.
struct Running {
    child: Child,
    events: Receiver<(Stream, String)>,
    readers: Vec<thread::JoinHandle<()>>,
    seen: Vec<(Stream, String)>,
}

impl Running {
    /// Everything printed so far, for failure messages.
    fn transcript(&self) -> String {
        self.seen.iter().map(|(s, l)| format!("{}: {l}\n", if *s == Stream::Out { "out" } else { "err" })).collect()
    }

    /// Waits for a line matching `wanted`, failing the test with the transcript after [`DEADLINE`].
    fn wait_for(&mut self, what: &str, wanted: impl Fn(Stream, &str) -> bool) -> String {
        let end = deadline();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((stream, line)) => {
                    self.seen.push((stream, line.clone()));
                    if wanted(stream, &line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {DEADLINE:?}; output so far:\n{}", self.transcript())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!("the node exited ({status:?}) before {what}; output:\n{}", self.transcript())
                }
            }
        }
    }

    /// Waits until the node reports height `height` finalised.
    fn wait_for_height(&mut self, height: u64) {
        self.wait_for(&format!("finalized height {height}"), |stream, line| {
            stream == Stream::Out && finalized(line).is_some_and(|(h, _)| h >= height)
        });
    }

    /// Reads the rest of the output after the process ended.
    fn drain(mut self) -> Vec<(Stream, String)> {
        for reader in self.readers.drain(..) {
            reader.join().expect("a reader thread ends at end of file");
        }
        self.seen.extend(self.events.try_iter());
        self.seen
    }

    /// SIGKILLs the process and returns everything it printed.
    fn kill(mut self) -> Vec<(Stream, String)> {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed node is reaped");
        self.drain()
    }

    /// Stops the process with SIGTERM, waits for it to exit, and returns its status and everything it printed.
    fn stop(mut self) -> (ExitStatus, Vec<(Stream, String)>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        let end = deadline();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the node's status") {
                break status;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("the node did not stop on SIGTERM; output:\n{}", self.transcript());
            }
            thread::sleep(Duration::from_millis(20));
        };
        (status, self.drain())
    }
}

/// `(height, hash)` of a `finalized height=H hash=X` line.
fn finalized(line: &str) -> Option<(u64, String)> {
    let rest = line.strip_prefix("finalized height=")?;
    let (height, hash) = rest.split_once(" hash=")?;
    Some((height.parse().ok()?, hash.to_owned()))
}

/// `((height, round, kind), block)` of a `vote height=H round=R kind=K block=B` line.
fn vote(line: &str) -> Option<((u64, u32, String), String)> {
    let rest = line.strip_prefix("vote ")?;
    let fields: BTreeMap<&str, &str> = rest.split(' ').filter_map(|f| f.split_once('=')).collect();
    let height = fields.get("height")?.parse().ok()?;
    let round = fields.get("round")?.parse().ok()?;
    Some(((height, round, (*fields.get("kind")?).to_owned()), (*fields.get("block")?).to_owned()))
}

/// The `(height, replayed entries)` of the `started …` line.
fn started(lines: &[(Stream, String)]) -> Option<(u64, u64)> {
    lines.iter().find_map(|(stream, line)| {
        let rest = line.strip_prefix("started height=").filter(|_| *stream == Stream::Out)?;
        let (height, replayed) = rest.split_once(" replayed_entries=")?;
        Some((height.parse().ok()?, replayed.parse().ok()?))
    })
}

fn finalized_lines(lines: &[(Stream, String)]) -> Vec<(u64, String)> {
    lines.iter().filter(|(s, _)| *s == Stream::Out).filter_map(|(_, l)| finalized(l)).collect()
}

fn heights(list: &[(u64, String)]) -> Vec<u64> {
    list.iter().map(|(h, _)| *h).collect()
}

/// Where the failpoint freezes the node relative to the store write of the height it is deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frozen {
    /// Before the height's block is written: the restart decides that height again, replaying its WAL.
    BeforeCommit,
    /// After the block is written but before it was reported: the restart begins at the next height.
    AfterCommit,
}

/// Freezes a node at `name`'s [`HIT`]th hit, SIGKILLs it, restarts it, and checks what survived.
fn crash_and_recover(name: &str, frozen: Frozen) {
    let fixture = Fixture::new();
    let mut first = fixture.spawn(Some(&format!("{name}@{HIT}")));
    let reached = format!("failpoint reached: {name}");
    first.wait_for(&reached, |stream, line| stream == Stream::Err && line == reached);
    let before = first.kill();
    let finalized_before = finalized_lines(&before);
    let last_before = finalized_before.last().map_or(0, |(h, _)| *h);
    assert!(last_before >= 1, "the failpoint should hit after the first height: {before:?}");
    assert_eq!(heights(&finalized_before), (1..=last_before).collect::<Vec<_>>(), "run before the crash");

    let mut second = fixture.spawn(None);
    second.wait_for_height(last_before.saturating_add(MORE_HEIGHTS));
    let (status, after) = second.stop();
    assert!(status.success(), "SIGTERM is a graceful stop, got {status}: {after:?}");

    let resumed_at = match frozen {
        Frozen::BeforeCommit => last_before.saturating_add(1),
        Frozen::AfterCommit => last_before.saturating_add(2),
    };
    let (started_at, replayed) = started(&after).expect("the restarted node reports its start");
    assert_eq!(started_at, resumed_at, "the restart resumes after the last durable height");
    if frozen == Frozen::BeforeCommit {
        assert!(replayed > 0, "the restart replays the write-ahead log of the interrupted height");
    }
    let finalized_after = finalized_lines(&after);
    let last_after = finalized_after.last().map_or(0, |(h, _)| *h);
    assert_eq!(heights(&finalized_after), (resumed_at..=last_after).collect::<Vec<_>>(), "run after the restart");

    // The store holds every height up to the last one reported, chained without a gap, with the reported hashes.
    let store = NodeStore::open(&store_path(&fixture.data_dir())).expect("the stopped node's store opens");
    let last = store.last_height().expect("the store has a genesis");
    assert!(last.0 >= last_after, "store at {last}, reported {last_after}");
    let mut hashes = BTreeMap::new();
    let mut parent = None;
    for height in 1..=last.0 {
        let block = store.block(Height(height)).expect("the store reads").expect("no gap in the stored chain");
        if let Some(parent) = parent {
            assert_eq!(block.header.parent, parent, "height {height} follows its parent");
        }
        let hash = block.hash(&fixture.chain);
        hashes.insert(height, hash.to_string());
        parent = Some(hash);
    }
    for (height, hash) in finalized_before.iter().chain(&finalized_after) {
        assert_eq!(hashes.get(height), Some(hash), "height {height} as reported");
    }

    // No conflicting votes across both runs.
    let mut votes: BTreeMap<(u64, u32, String), String> = BTreeMap::new();
    for (stream, line) in before.iter().chain(&after) {
        let Some((key, block)) = vote(line).filter(|_| *stream == Stream::Out) else { continue };
        if let Some(earlier) = votes.insert(key.clone(), block.clone()) {
            assert_eq!(earlier, block, "two votes for {key:?}: a conflicting signature");
        }
    }
    assert!(votes.keys().any(|(h, _, _)| *h > last_before), "the restarted node votes again");
}

/// A single sealer finalises consecutive heights at the chain's interval, signs one prevote and one precommit per
/// height for the block it finalises, and exits cleanly on SIGTERM.
#[test]
fn single_sealer_finalises_heights_and_stops_on_sigterm() {
    let fixture = Fixture::new();
    let mut node = fixture.spawn(None);
    node.wait_for_height(4);
    let (status, lines) = node.stop();
    assert!(status.success(), "{status}: {lines:?}");
    assert_eq!(started(&lines), Some((1, 0)));
    let finalized = finalized_lines(&lines);
    let last = finalized.last().map_or(0, |(h, _)| *h);
    assert_eq!(heights(&finalized), (1..=last).collect::<Vec<_>>());
    for (height, hash) in &finalized {
        for kind in ["prevote", "precommit"] {
            let line = format!("vote height={height} round=0 kind={kind} block={hash}");
            assert!(lines.iter().any(|(_, l)| *l == line), "missing {line:?}");
        }
    }
}

/// Frozen right after signing its prevote (before the WAL holds it), the killed node restarts, replays the height
/// and re-signs the same vote, losing no finalised height.
#[test]
fn crash_after_sign_vote_recovers() {
    crash_and_recover(failpoint::AFTER_SIGN_VOTE, Frozen::BeforeCommit);
}

/// Frozen after its votes are in the WAL but before they are broadcast (a lone sealer feeds its votes to itself, so
/// by then it has already stored the height they decided), the killed node keeps that height and resumes after it
/// without conflicting votes.
#[test]
fn crash_before_broadcast_recovers() {
    crash_and_recover(failpoint::BEFORE_BROADCAST, Frozen::AfterCommit);
}

/// Frozen after deciding a height but before its block is written, the killed node decides the same height again
/// from its WAL and keeps every earlier height.
#[test]
fn crash_before_block_commit_recovers() {
    crash_and_recover(failpoint::BEFORE_BLOCK_COMMIT, Frozen::BeforeCommit);
}

/// Frozen right after a block's store write, the killed node restarts at the next height with that block kept.
#[test]
fn crash_after_block_commit_recovers() {
    crash_and_recover(failpoint::AFTER_BLOCK_COMMIT, Frozen::AfterCommit);
}

/// A misspelt failpoint name stops the node at start with an error naming it, instead of arming nothing.
#[test]
fn unknown_failpoint_names_are_refused() {
    let fixture = Fixture::new();
    let node = fixture.spawn(Some("after-sign-vot"));
    let (status, lines) = wait_exit(node);
    assert!(!status.success());
    assert!(lines.iter().any(|(s, l)| *s == Stream::Err && l.contains("after-sign-vot")), "{lines:?}");
}

/// Bad input files stop the node with an error naming the file and the reason, never a panic.
#[test]
fn bad_files_are_named_in_the_error() {
    let fixture = Fixture::new();
    let garbage = fixture.dir.path().join("garbage.txt");
    std::fs::write(&garbage, "not json, not pem").expect("written");
    let missing = fixture.dir.path().join("missing.pem");
    let cases: [(&Path, &Path, &str); 3] = [
        (&garbage, &fixture.key, "not a valid genesis"),
        (&fixture.genesis, &garbage, "the key file holds no \"-----BEGIN PRIVATE KEY-----\" block"),
        (&fixture.genesis, &missing, "cannot open"),
    ];
    for (genesis, key, reason) in cases {
        let child = Command::new(env!("CARGO_BIN_EXE_synod"))
            .arg("run")
            .arg("--data-dir")
            .arg(fixture.data_dir())
            .arg("--genesis")
            .arg(genesis)
            .arg("--key")
            .arg(key)
            .args(["--node", "n0"])
            .env_remove(failpoint::ENV)
            .output()
            .expect("synod runs");
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(!child.status.success(), "{stderr}");
        let named = if genesis == garbage.as_path() { genesis } else { key };
        assert!(stderr.contains(&named.display().to_string()), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Waits for a node that is expected to exit on its own.
fn wait_exit(mut node: Running) -> (ExitStatus, Vec<(Stream, String)>) {
    let end = deadline();
    loop {
        if let Some(status) = node.child.try_wait().expect("the node's status") {
            return (status, node.drain());
        }
        assert!(Instant::now() < end, "the node did not exit: {}", node.transcript());
        thread::sleep(Duration::from_millis(20));
    }
}

/// A node killed after logging its own proposal of a height re-derives that proposal on restart under the replay
/// index, reusing the logged signature (so a non-deterministic rebuild would be caught as a replay divergence
/// rather than signed afresh).
#[test]
fn restart_reuses_the_logged_proposal() {
    let fixture = Fixture::new();
    let mut first = fixture.spawn(Some(&format!("{}@{HIT}", failpoint::AFTER_SIGN_VOTE)));
    let reached = format!("failpoint reached: {}", failpoint::AFTER_SIGN_VOTE);
    first.wait_for(&reached, |stream, line| stream == Stream::Err && line == reached);
    let before = first.kill();
    let resumed_at = finalized_lines(&before).last().map_or(0, |(h, _)| *h).saturating_add(1);
    let mut second = fixture.spawn(None);
    second.wait_for_height(resumed_at);
    let (_, after) = second.stop();
    let reused = "Reusing the proposal recorded in the write-ahead log";
    assert!(after.iter().any(|(s, l)| *s == Stream::Err && l.contains(reused)), "{after:#?}");
}

/// A sealer started without the key the validator set lists for it is refused with an error naming the node, rather
/// than running with votes that never verify.
#[test]
fn a_sealer_without_its_listed_key_is_refused() {
    let fixture = Fixture::new();
    let other = fixture.dir.path().join("n1.pem");
    std::fs::write(&other, testkit::secret("n1").to_pkcs8_pem().expect("the key encodes")).expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_synod"))
        .arg("run")
        .arg("--data-dir")
        .arg(fixture.data_dir())
        .arg("--genesis")
        .arg(&fixture.genesis)
        .arg("--key")
        .arg(&other)
        .args(["--node", "n0"])
        .env_remove(failpoint::ENV)
        .output()
        .expect("synod runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("none of the --key files holds n0's key for height 1"), "{stderr}");
}
