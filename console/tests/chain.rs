//! The console's link to the chain against real local networks: `synod up` run as a child process (the `synod`
//! binary cargo built beside the tests, or `$SYNOD_BIN`), each in its own directory under
//! `<target>/console-tests/<test>/` (emptied when the test starts, kept afterwards with every node's log).
//!
//! Build the node first: `cargo build --profile test -p synod`. Every wait polls for a condition with a generous
//! deadline; nothing is timed.

#![cfg(feature = "ssr")]
// A test harness lives in real time: it waits on wall-clock deadlines.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use console::model::{ChainSnapshot, LiveEvent, fault_tolerance};
use console::server::follower::{Follower, build_snapshot};
use console::server::node::{Failure, NodeClient, NodeError, ProofKind};
use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::{Digest, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{AccountId, Height, MemberId, ProposalId, TxHash, Weight};
use governance_contracts::types::{
    Action, ActionKind, Genesis, NodeKind, Outcome, Payload, Principal, Proposal, Transaction,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::sync::{broadcast, watch};

/// How long a network may take to come up, and any awaited condition to hold.
const DEADLINE: Duration = Duration::from_secs(90);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(100);

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a valid id")
}

/// The directory cargo builds into.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test executable");
    exe.ancestors().nth(3).expect("the test runs inside a target directory").to_path_buf()
}

/// The `synod` binary beside the tests (`<target>/<profile>/synod`), or `$SYNOD_BIN`.
fn synod_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SYNOD_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test executable");
    let bin = exe.ancestors().nth(2).expect("a profile directory").join("synod");
    assert!(bin.exists(), "{} not found: run `cargo build --profile test -p synod` first", bin.display());
    bin
}

/// A base port whose `synod up` ports (base+1..=5 for p2p, base+101..=105 for the APIs) are free now.
fn free_base_port() -> u16 {
    for _ in 0..200 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = probe.local_addr().expect("an address").port().saturating_sub(1);
        drop(probe);
        if !(1_024..=60_000).contains(&base) {
            continue;
        }
        let ports = (1..=5u16).flat_map(|i| [base.saturating_add(i), base.saturating_add(100).saturating_add(i)]);
        let held: Result<Vec<_>, _> = ports.map(|port| std::net::TcpListener::bind(("127.0.0.1", port))).collect();
        if held.is_ok() {
            return base;
        }
    }
    panic!("no free block of ports for a local network");
}

/// A URL nothing listens on.
fn dead_url() -> String {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = probe.local_addr().expect("an address").port();
    drop(probe);
    format!("http://127.0.0.1:{port}")
}

/// A `synod up` demo network: 4 organisations with a sealer each, one observer. Stopped (SIGTERM, which stops
/// its nodes; SIGKILL if it lingers) when dropped.
struct LocalNet {
    child: Child,
    dir: PathBuf,
    /// The genesis, once `synod up` has written it.
    genesis: Option<Genesis>,
    /// The node APIs: n1..n4, then obs1.
    urls: Vec<String>,
}

impl LocalNet {
    /// Starts `synod up` in `<target>/console-tests/<name>/` and waits until every node answers and the chain has
    /// a block.
    async fn start(name: &str) -> Self {
        let root = target_dir().join("console-tests").join(name);
        if root.exists() {
            std::fs::remove_dir_all(&root).expect("empty the test directory");
        }
        std::fs::create_dir_all(&root).expect("create the test directory");
        let dir = root.join("net");
        let base = free_base_port();
        let log = std::fs::File::create(root.join("up.log")).expect("create the log");
        let child = Command::new(synod_bin())
            .arg("up")
            .arg("--dir")
            .arg(&dir)
            .arg("--base-port")
            .arg(base.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("share the log"))
            .stderr(log)
            .spawn()
            .expect("start synod up");
        let urls: Vec<String> =
            (1..=5u16).map(|i| format!("http://127.0.0.1:{}", base.saturating_add(100).saturating_add(i))).collect();
        let mut net = Self { child, dir: dir.clone(), genesis: None, urls };
        let genesis_path = dir.join("genesis.json");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = net.child.try_wait() {
                let log = std::fs::read_to_string(root.join("up.log")).unwrap_or_default();
                panic!("synod up exited ({status}):\n{log}");
            }
            if genesis_path.exists() && net.all_serve_a_block(&http).await {
                break;
            }
            assert!(started.elapsed() < DEADLINE, "the network in {} did not come up", dir.display());
            tokio::time::sleep(POLL).await;
        }
        let text = std::fs::read_to_string(&genesis_path).expect("read the genesis");
        net.genesis = Some(serde_json::from_str(&text).expect("a genesis"));
        net
    }

    async fn all_serve_a_block(&self, http: &reqwest::Client) -> bool {
        for url in &self.urls {
            let Ok(response) = http.get(format!("{url}/v1/status")).send().await else { return false };
            let Ok(status) = response.json::<serde_json::Value>().await else { return false };
            if status["height"].as_u64().unwrap_or(0) < 1 {
                return false;
            }
        }
        true
    }

    fn chain(&self) -> ChainIdentity {
        self.genesis.as_ref().expect("the network has started").identity()
    }

    fn key(&self, account: &str) -> SecretKey {
        let pem = std::fs::read_to_string(self.dir.join("keys").join(format!("{account}.pem"))).expect("a demo key");
        SecretKey::from_pkcs8_pem(&pem).expect("a PKCS#8 key")
    }
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `account` signs a transaction submitting `actions` as a proposal with its own approval, valid for 100 blocks
/// from `height`; answers its canonical hex, its hash and the proposal's id.
fn submission(net: &LocalNet, account: &str, actions: Vec<Action>, height: Height) -> (String, TxHash, ProposalId) {
    let chain = net.chain();
    let key = net.key(account);
    let proposal = Proposal {
        proposer: Principal::Account(id(account)),
        title: BoundedString::try_new("console chain test").expect("short"),
        description: BoundedString::try_new("").expect("empty"),
        actions: BoundedVec::try_new(actions).expect("few"),
        expires_at: height.plus(100),
        salt: height.0,
    };
    let proposal_id = proposal.id(&chain);
    let approval = proposal.approve(&chain, id(account), &key);
    let tx = Transaction {
        sender: Principal::Account(id(account)),
        valid_until: height.plus(100),
        payload: Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).expect("one") },
    };
    let hash = tx.hash(&chain);
    (hex::encode(encode(&tx.sign(&chain, &key))), hash, proposal_id)
}

/// Waits until the published snapshot satisfies `check`, answering it.
async fn wait_snapshot(
    snapshots: &mut watch::Receiver<Arc<ChainSnapshot>>,
    what: &str,
    check: impl Fn(&ChainSnapshot) -> bool,
) -> Arc<ChainSnapshot> {
    let waited = tokio::time::timeout(DEADLINE, async {
        snapshots.wait_for(|snapshot| check(snapshot)).await.map(|snapshot| Arc::clone(&snapshot))
    })
    .await;
    match waited {
        Ok(Ok(snapshot)) => snapshot,
        Ok(Err(_)) => panic!("the follower stopped before {what}"),
        Err(_) => panic!("no snapshot showed {what}; the last: {:?}", snapshots.borrow()),
    }
}

/// Waits for a live event satisfying `check`.
async fn wait_live(
    live: &mut broadcast::Receiver<LiveEvent>,
    what: &str,
    check: impl Fn(&LiveEvent) -> bool,
) -> LiveEvent {
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            match live.recv().await {
                Ok(event) if check(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the live channel closed before {what}"),
            }
        }
    })
    .await;
    waited.unwrap_or_else(|_| panic!("no live event showed {what}"))
}

/// Through an unreachable first URL the client fails over to the second and remembers it; the snapshot it builds
/// lists the demo network's 4 members, 5 nodes, 13 accounts and their roles, with a fault tolerance of 1 (0 once a
/// sealer is gone); typed reads work; garbage bytes and a transaction from an unknown account come back as named
/// refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_fail_over_and_refusals_are_named() {
    let net = LocalNet::start("reads_fail_over_and_refusals_are_named").await;
    let chain = net.chain();
    let client = NodeClient::new(vec![dead_url(), net.urls[0].clone()]).expect("valid URLs").with_chain(chain.clone());

    let snapshot = build_snapshot(&client, &chain, Vec::new()).await.expect("a snapshot through fail-over");
    assert_eq!(client.current_url(), net.urls[0], "the working URL is remembered");
    assert!(!snapshot.stale);
    assert!(snapshot.height >= Height(1));
    assert_eq!(snapshot.source.as_deref(), Some(net.urls[0].as_str()));

    let members: Vec<&str> = snapshot.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, ["org1", "org2", "org3", "org4"]);
    assert_eq!(snapshot.member_name(&id("org1")), Some("Aurora Bank"));
    assert_eq!(snapshot.member_name(&id("org4")), Some("Delta Securities"));
    let nodes: Vec<(&str, NodeKind)> = snapshot.nodes.iter().map(|n| (n.id.as_str(), n.record.kind)).collect();
    assert_eq!(
        nodes,
        [
            ("n1", NodeKind::Sealer),
            ("n2", NodeKind::Sealer),
            ("n3", NodeKind::Sealer),
            ("n4", NodeKind::Sealer),
            ("obs1", NodeKind::Observer)
        ]
    );
    assert_eq!(snapshot.accounts.len(), 17, "4 governors, 4 operators, 4 compliance officers, 4 consoles, the auditor");
    for org in ["org1", "org2", "org3", "org4"] {
        let member: MemberId = id(org);
        assert_eq!(snapshot.governor_of(&id(&format!("{org}-admin"))), Some(member));
        assert_eq!(snapshot.governor_of(&id(&format!("{org}-ops"))), None);
        let roles = |account: &str| -> Vec<String> {
            snapshot.roles_of(&id(account)).into_iter().map(|(role, _)| role.to_string()).collect()
        };
        assert_eq!(roles(&format!("{org}-ops")), ["operator"]);
        assert_eq!(roles(&format!("{org}-compliance")), ["compliance"]);
        assert_eq!(roles(&format!("{org}-console")), ["console"]);
        assert!(roles(&format!("{org}-admin")).is_empty());
    }
    assert_eq!(snapshot.roles_of(&id("auditor")).first().map(|(role, _)| role.to_string()).as_deref(), Some("auditor"));
    let admin_key = net.key("org2-admin").public_key();
    assert_eq!(snapshot.account_by_key(&admin_key).map(|a| a.id.as_str()), Some("org2-admin"));
    // The four built-in roles and the demo network's delegable one.
    assert_eq!(snapshot.roles.len(), 5);
    assert!(snapshot.roles.iter().any(|r| r.id.as_str() == "kyc-verified" && r.definition.delegable));
    assert!(!snapshot.policy.is_empty());
    assert_eq!(snapshot.params.as_ref().map(|p| p.block_interval_ms), Some(1_000));
    assert!(!snapshot.recent_blocks.is_empty());
    assert_eq!(snapshot.recent_blocks.first().map(|b| b.height), Some(snapshot.height));
    assert_eq!(snapshot.evidence_count(), 0);

    assert_eq!(snapshot.fault_tolerance(), Weight(1), "4 equal sealers tolerate 1 fault");
    let mut sealers = snapshot.sealer_weights();
    sealers.pop_last();
    assert_eq!(fault_tolerance(sealers.into_values().map(|(_, w)| w)), Weight(0), "3 equal sealers tolerate none");

    // Typed reads of the rest of the API.
    assert!(client.proposals(None, 10, None).await.expect("proposals").is_empty());
    let unknown = ProposalId(Digest::Sha256([7; 32]));
    assert_eq!(client.proposal(&unknown).await.expect("a lookup"), None);
    let nothing = TxHash(Digest::Sha256([8; 32]));
    assert_eq!(client.wait(&nothing, Duration::from_millis(100)).await.expect("a long poll"), None);
    let bundle = client.proof(ProofKind::Member, "org1").await.expect("a proof bundle");
    assert_eq!(bundle["chain"]["chain_id"], "synod-local");
    let page = client.blocks(Some(Height(2)), 5).await.expect("blocks below height 2");
    let heights: Vec<Height> = page.blocks.iter().map(|b| b.height).collect();
    assert_eq!((heights, page.next_before), (vec![Height(1)], None));

    // Garbage bytes: the node refuses the body.
    let error = client.submit("00ff00ff").await.expect_err("garbage is refused");
    let refusal = error.refusal().unwrap_or_else(|| panic!("a refusal, not {error}"));
    assert_eq!((refusal.status, refusal.code.as_str()), (400, "malformed"));
    assert!(!error.is_unreachable());

    // A well-formed transaction from an account the chain does not know: the contracts' named rejection.
    let stranger = SecretKey::from_seed([5; 32]);
    let tx = Transaction {
        sender: Principal::Account(id("nobody")),
        valid_until: snapshot.height.plus(50),
        payload: Payload::RevokeApproval { proposal: unknown },
    }
    .sign(&chain, &stranger);
    let error = client.submit(&hex::encode(encode(&tx))).await.expect_err("an unknown sender is rejected");
    assert_eq!(error.rejection(), Some("unknown_account"), "{error}");
    assert_eq!(error.refusal().map(|r| r.code.as_str()), Some("rejected"));

    // A dry run names the rule a proposal needs: freezing a governor is a privileged freeze.
    let (hex, _, _) =
        submission(&net, "org1-compliance", vec![Action::FreezeAccount { account: id("org2-admin") }], snapshot.height);
    let dry = client.dry_run(&proposal_of(&hex)).await.expect("a dry run");
    let kinds: Vec<ActionKind> = dry.requirements.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [ActionKind::FreezePrivilegedAccount]);
}

/// The proposal inside a hex-encoded submission.
fn proposal_of(hex_text: &str) -> Proposal {
    let bytes = hex::decode(hex_text).expect("hex");
    let signed: governance_contracts::types::SignedTransaction =
        governance_contracts::codec::decode(&bytes).expect("a signed transaction");
    match signed.tx.payload {
        Payload::SubmitProposal { proposal, .. } => proposal,
        other => panic!("not a submission: {other:?}"),
    }
}

/// The follower publishes a snapshot, advances with the chain, reports each block as a live event, and a
/// proposal's block reaches the live channel only once the snapshot shows its effect (the frozen account).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follower_advances_and_reports_blocks() {
    let net = LocalNet::start("the_follower_advances_and_reports_blocks").await;
    let chain = net.chain();
    let client = NodeClient::new(vec![net.urls[0].clone(), net.urls[4].clone()]).expect("valid URLs");
    let (mut snapshots, live) = Follower::spawn(client.clone(), chain.clone());
    let mut events = live.subscribe();

    let first = wait_snapshot(&mut snapshots, "a fresh snapshot", |s| !s.stale && s.height >= Height(1)).await;
    assert_eq!(first.members.len(), 4);
    let later = wait_snapshot(&mut snapshots, "a later height", |s| s.height > first.height).await;
    assert!(later.recent_blocks.first().is_some_and(|b| b.height == later.height));
    let event = wait_live(&mut events, "a block after the first snapshot", |e| e.height > first.height).await;
    assert!(snapshots.borrow().height >= event.height, "the snapshot shows the block before its event is sent");
    wait_snapshot(&mut snapshots, "both nodes healthy", |s| {
        s.node_health.len() == 2 && s.node_health.iter().all(|h| h.ok && h.height.is_some())
    })
    .await;

    // A compliance officer freezes the auditor: one holder's approval suffices, so it applies at once.
    let height = snapshots.borrow().height;
    let (hex, hash, proposal) =
        submission(&net, "org1-compliance", vec![Action::FreezeAccount { account: id("auditor") }], height);
    assert!(!snapshots.borrow().account(&id("auditor")).expect("the auditor").record.frozen);
    assert_eq!(client.submit(&hex).await.expect("admitted"), hash);
    let event = wait_live(&mut events, "the proposal's block", |e| e.proposals_touched.contains(&proposal)).await;
    let receipt = event.receipts.iter().find(|r| r.hash == hash).expect("the transaction's receipt");
    assert_eq!(receipt.outcome, Outcome::Applied);
    let snapshot = snapshots.borrow().clone();
    assert!(snapshot.height >= event.height);
    let frozen: AccountId = id("auditor");
    assert!(snapshot.account(&frozen).expect("the auditor").record.frozen, "the snapshot already shows the freeze");
    let found = client.wait(&hash, Duration::from_secs(5)).await.expect("a long poll").expect("finalised");
    assert_eq!(found.height, event.height);
}

/// A node of another chain (a second `synod up`, whose genesis differs) is refused: the follower pinned to the
/// first chain skips it though it comes first, follows the right node, and shows the foreign one unhealthy; a
/// client with only the foreign node reports it as serving another chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_chain_is_refused() {
    let ours = LocalNet::start("a_node_of_another_chain_is_refused_ours").await;
    let theirs = LocalNet::start("a_node_of_another_chain_is_refused_theirs").await;
    let chain = ours.chain();
    assert_ne!(chain, theirs.chain(), "two networks, two genesis hashes");

    let client = NodeClient::new(vec![theirs.urls[0].clone(), ours.urls[0].clone()]).expect("valid URLs");
    let (mut snapshots, _live) = Follower::spawn(client.clone(), chain.clone());
    let snapshot = wait_snapshot(&mut snapshots, "a snapshot of our chain with both URLs checked", |s| {
        !s.stale && s.node_health.len() == 2
    })
    .await;
    assert_eq!(snapshot.source.as_deref(), Some(ours.urls[0].as_str()));
    assert_eq!(snapshot.status.as_ref().map(|s| s.genesis_hash), Some(chain.genesis_hash));
    let foreign = &snapshot.node_health[0];
    assert_eq!(foreign.url, theirs.urls[0]);
    assert!(!foreign.ok);
    assert!(foreign.error.as_deref().is_some_and(|e| e.contains("another chain")), "{foreign:?}");
    assert!(snapshot.node_health[1].ok);

    let only_theirs = NodeClient::new(vec![theirs.urls[0].clone()]).expect("a valid URL").with_chain(chain);
    match only_theirs.status().await {
        Err(NodeError::Unreachable { attempts }) => {
            assert_eq!(attempts.len(), 1);
            assert!(matches!(attempts[0].failure, Failure::WrongChain { .. }), "{attempts:?}");
        }
        other => panic!("a node of another chain must be refused, got {other:?}"),
    }
}
