//! The render benchmark (`cargo bench -p console --bench render`): how fast the console renders its pages on the
//! server over a large workspace.
//!
//! It seeds a fresh SQLite file with [`db::seed`] (100,000 mirrored proposals and 1,000,000 hash-chained audit rows
//! by default), builds the server's state directly (a synthetic chain snapshot of realistic size, no node process
//! and no follower), signs a governor in through a stored session, and then drives the console's own router
//! ([`router::router`]) in process: every page by GET, and the server functions the browser pages through by POST,
//! each request carrying the session cookie. For each it prints the p50, p95, p99 and max of `--samples`
//! sequential timings and whether p95 is under the 50 ms target.
//!
//! A slow figure is reported, never an error: the exit status is non-zero only when something fails (a request
//! answered with another status than 200, or the set-up failed).

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use clap::Parser;
use console::{
    api,
    i18n::Lang,
    model::{
        Account, AccountRole, BlockSummary, ChainSnapshot, LiveEvent, Member, Node, NodeHealth, NodeStatus, Peer,
        PeerDirection, PolicyRule, Role, RoleGrant,
    },
    server::{
        auth,
        bundle::{Bundle, FileHashes},
        db::{self, Db, NewDraft, NewSession},
        node::NodeClient,
        router,
        state::{Access, AppState, Inner},
    },
};
use governance_contracts::{
    codec::{self, BoundedString, BoundedVec},
    contracts::roles::builtin_roles,
    crypto::Digest,
    domain::ChainIdentity,
    ids::{AccountId, BlockHash, Height, NodeId, RoleId, Weight},
    state::records::{AccountRecord, MemberRecord, NodeRecord},
    testkit,
    types::{Action, Genesis, MemberStatus, NodeKind, Principal, Proposal, RoleDefinition, RoleScope, default_policy},
};
use leptos::{prelude::LeptosOptions, server_fn::ServerFn};
use tokio::sync::{broadcast, watch};
use tower::ServiceExt as _;

/// The render target the issue sets: every page under 50 ms at the 95th percentile.
const TARGET_P95: Duration = Duration::from_millis(50);
/// Unmeasured requests before each target's samples.
const WARM_UPS: usize = 5;
/// The largest response body the benchmark reads.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// The most proposals, audit rows and samples the benchmark accepts (bounds on its own input).
const MAX_PROPOSALS: u32 = 10_000_000;
const MAX_AUDIT_ROWS: u32 = 100_000_000;
const MAX_SAMPLES: usize = 100_000;
/// The origin the console believes it is served at; the cross-site check compares POSTs' `Origin` with it.
const ORIGIN: &str = "http://127.0.0.1:8080";
/// The signed-in governor (of member `m0` in the test genesis).
const GOVERNOR: &str = "m0-gov";
/// How deep the deep proposal page is: the benchmark follows `next` cursors until this many rows lie before it.
const DEEP_PROPOSAL_ROWS: usize = 1_000;
/// Members, nodes and accounts in the synthetic chain snapshot.
const MEMBERS: usize = 20;
const OBSERVERS: usize = 20;
const ACCOUNTS: usize = 5_000;

/// Times the console's server-side rendering over a seeded SQLite workspace.
#[derive(Debug, Parser)]
#[command(name = "render", about = "Times the console's server-side rendering over a seeded SQLite workspace")]
struct Args {
    /// Mirrored proposals to seed (default 100,000; 5,000 with --quick).
    #[arg(long)]
    proposals: Option<u32>,
    /// Audit rows to seed (default 1,000,000; 50,000 with --quick).
    #[arg(long)]
    audit_rows: Option<u32>,
    /// Timed requests per target, after a few warm-ups.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// A small workspace, for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Passed by `cargo bench` to every benchmark; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The wall clock's monotonic reading.
#[allow(clippy::disallowed_methods, reason = "a benchmark measures elapsed wall-clock time")]
fn now() -> Instant {
    Instant::now()
}

/// Milliseconds, for the table.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let proposals = args.proposals.unwrap_or(if args.quick { 5_000 } else { 100_000 });
    let audit_rows = args.audit_rows.unwrap_or(if args.quick { 50_000 } else { 1_000_000 });
    ensure!(proposals <= MAX_PROPOSALS, "--proposals is at most {MAX_PROPOSALS}");
    ensure!(audit_rows <= MAX_AUDIT_ROWS, "--audit-rows is at most {MAX_AUDIT_ROWS}");
    ensure!((1..=MAX_SAMPLES).contains(&args.samples), "--samples is between 1 and {MAX_SAMPLES}");

    let dir = tempfile::Builder::new().prefix("console-render-bench-").tempdir().context("cannot create a temp dir")?;
    let db_path = dir.path().join("console.db");
    let db = Db::open(&db_path).await.with_context(|| format!("cannot open {}", db_path.display()))?;
    println!("seeding {} with {proposals} proposals and {audit_rows} audit rows ...", db_path.display());
    let started = now();
    db::seed(&db, proposals, audit_rows, auth::now_ms()).await.context("seeding failed")?;
    let seeding = started.elapsed();
    let size = std::fs::metadata(&db_path).map_or(0, |m| m.len());
    println!(
        "seeded in {:.1} s (database file {} MB, plus its write-ahead log)",
        seeding.as_secs_f64(),
        size / 1_000_000
    );

    let genesis = testkit::genesis(MEMBERS);
    let chain = genesis.identity();
    let height = u64::from(proposals).saturating_mul(3).saturating_add(100);
    let node_url = unused_loopback_url()?;
    let snapshot = synthetic_snapshot(&genesis, &chain, height, &node_url)?;
    let bench = Bench::new(db, genesis, chain, snapshot, node_url, dir.path()).await?;
    let draft = bench.draft_path().await?;

    let mut targets: Vec<Target> = [
        "/",
        "/proposals",
        "/proposals/new",
        "/members",
        "/nodes",
        "/accounts",
        "/audit",
        draft.as_str(),
        "/bundle",
        "/login",
    ]
    .into_iter()
    .map(Target::page)
    .collect();

    let list = |status: &str, kind: &str, text: &str, after: &str| api::ListProposals {
        status: status.to_owned(),
        kind: kind.to_owned(),
        text: text.to_owned(),
        after: after.to_owned(),
    };
    let deep = bench.deep_proposal_cursor().await?;
    for (label, args) in [
        ("list_proposals: first page", list("", "", "", "")),
        ("list_proposals: status open", list("open", "", "", "")),
        ("list_proposals: kind grant_role", list("", "grant_role", "", "")),
        ("list_proposals: kind + status", list("applied", "set_params", "", "")),
        ("list_proposals: title \"node\" (common)", list("", "", "node", "")),
        ("list_proposals: title \"bank-42\" (rare)", list("", "", "bank-42", "")),
        ("list_proposals: title \"(4321)\" (one)", list("", "", "(4321)", "")),
        ("list_proposals: 1,000 rows deep", list("", "", "", &deep.0)),
    ] {
        targets.push(Target::server_fn(label, &args)?);
    }
    let audit = |actor: &str, kind: &str, before: i64| api::AuditPage {
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        subject: String::new(),
        before,
    };
    let middle = i64::from(audit_rows / 2);
    for (label, args) in [
        ("audit_page: first page", audit("", "", 0)),
        ("audit_page: actor org2-admin", audit("org2-admin", "", 0)),
        ("audit_page: kind approval_signed", audit("", "approval_signed", 0)),
        ("audit_page: mid-log (seq < N/2)", audit("", "", middle)),
        ("audit_page: actor, mid-log", audit("org2-admin", "", middle)),
    ] {
        targets.push(Target::server_fn(label, &args)?);
    }

    println!(
        "\n{:<42} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8}  p95 < 50 ms",
        "target", "count", "bytes", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let mut slow = Vec::new();
    for target in &targets {
        let figures = bench.measure(target, args.samples).await?;
        let pass = figures.p95 < TARGET_P95;
        if !pass {
            slow.push(target.label.clone());
        }
        println!(
            "{:<42} {:>6} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {}",
            target.label,
            figures.count,
            figures.bytes,
            ms(figures.p50),
            ms(figures.p95),
            ms(figures.p99),
            ms(figures.max),
            if pass { "PASS" } else { "FAIL" }
        );
    }
    print_method(proposals, audit_rows, args.samples, deep.1);
    if slow.is_empty() {
        println!("\nevery target renders under 50 ms at p95");
    } else {
        println!("\nover 50 ms at p95: {}", slow.join("; "));
    }
    bench.db.close().await;
    Ok(())
}

/// What the figures mean, printed under the table.
fn print_method(proposals: u32, audit_rows: u32, samples: usize, deep_pages: usize) {
    println!(
        "\nMethod:
- Seeded: a fresh SQLite file (WAL, the console's own migrations and indexes) filled by `db::seed` with
  {proposals} mirrored proposals (every status and action kind, searchable titles) and {audit_rows} hash-chained
  audit rows; one draft. The chain snapshot is synthetic and held in memory as the follower would hold it:
  {MEMBERS} members with governors, {} nodes ({MEMBERS} sealers, {OBSERVERS} observers), {ACCOUNTS} accounts with role
  grants, the built-in and 3 business roles, the default policy, parameters and 30 recent blocks.
- Requests: built in process and sent through the console's full router (`server::router::router`, every layer:
  body limit, security headers, cross-site check, session lookup in SQLite) with `tower::ServiceExt::oneshot`, one
  at a time, {WARM_UPS} warm-ups then {samples} timed, each carrying the session cookie of a signed-in governor.
  Pages are GETs; lists are the server-function POSTs the browser sends (form-encoded arguments, `Origin` set).
- Each timing runs from handing the request to the router until the whole response body has been read: routing,
  session lookup, server-side rendering of the full page with every resource it loads resolved (SQLite queries,
  snapshot reads) and serialised for hydration. No compression, no network socket, no TLS.
- The deep proposal page is reached by following `next` cursors {deep_pages} pages down (1,000 rows); the mid-log
  audit page starts at the middle of the log.
- `/drafts/<id>` asks the node for a dry run: the node URL is an unused loopback port, so that part is one refused
  connection; `/proposals/<id>` (read live from the node) is not measured here.",
        MEMBERS.saturating_add(OBSERVERS)
    );
}

/// A loopback URL on a port nothing listens on (bound, then released).
fn unused_loopback_url() -> anyhow::Result<String> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).context("cannot bind loopback")?;
    let port = listener.local_addr().context("no local address")?.port();
    drop(listener);
    Ok(format!("http://127.0.0.1:{port}"))
}

/// What one target sends.
struct Target {
    /// Its row in the table.
    label: String,
    /// The request line's method and path.
    method: Method,
    path: String,
    /// The form-encoded arguments of a server function.
    body: Option<String>,
}

impl Target {
    /// A page, by GET.
    fn page(path: &str) -> Self {
        Self { label: format!("GET {path}"), method: Method::GET, path: path.to_owned(), body: None }
    }

    /// A server function call, encoded as Leptos encodes it (`PostUrl`: the arguments as a form).
    fn server_fn<F: ServerFn + serde::Serialize>(label: &str, args: &F) -> anyhow::Result<Self> {
        let body = serde_qs::to_string(args).context("cannot encode the server function's arguments")?;
        Ok(Self { label: label.to_owned(), method: Method::POST, path: F::PATH.to_owned(), body: Some(body) })
    }
}

/// The figures of one target.
struct Figures {
    count: usize,
    /// The response body's size (of the last sample).
    bytes: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

/// The nearest-rank percentile `p` (in percent) of sorted `samples` (not empty).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = sorted.len().saturating_mul(p).div_ceil(100).max(1);
    sorted.get(rank.saturating_sub(1)).or(sorted.last()).copied().unwrap_or_default()
}

/// The router and the session it signs requests with.
struct Bench {
    router: Router,
    db: Db,
    cookie: String,
    state: AppState,
}

impl Bench {
    /// The console's state over `db` and `snapshot`, and a session for the governor.
    async fn new(
        db: Db,
        genesis: Genesis,
        chain: ChainIdentity,
        snapshot: ChainSnapshot,
        node_url: String,
        site: &Path,
    ) -> anyhow::Result<Self> {
        let (_publisher, snapshot) = watch::channel(Arc::new(snapshot));
        let (live, _) = broadcast::channel::<LiveEvent>(16);
        let node = NodeClient::new(vec![node_url])?.with_chain(chain.clone());
        let bundle = Bundle {
            js: FileHashes::of("/pkg/console.js", b"// the benchmark serves no bundle\n"),
            wasm: FileHashes::of("/pkg/console_bg.wasm", b"\0asm\x01\0\0\0"),
        };
        let leptos =
            LeptosOptions::builder().output_name("console").site_root(site.to_string_lossy().into_owned()).build();
        let state = AppState::new(
            leptos,
            Inner {
                chain,
                genesis,
                origin: ORIGIN.to_owned(),
                db: db.clone(),
                node,
                snapshot,
                live,
                bundle,
                login_limiter: auth::login_limiter(),
                access: Access::default(),
                anchoring: None,
            },
        );
        let mut token = [0_u8; 32];
        getrandom::fill(&mut token).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let token = hex::encode(token);
        let created_ms = auth::now_ms();
        let signing_key = state
            .snapshot()
            .account(&account_id(GOVERNOR))
            .and_then(|holder| holder.record.key)
            .map(|key| key.to_string())
            .ok_or_else(|| anyhow::anyhow!("{GOVERNOR} has no key in the snapshot"))?;
        db.create_session(&NewSession {
            token: &token,
            account: GOVERNOR,
            signing_key: &signing_key,
            member: Some("m0"),
            created_ms,
            expires_ms: created_ms.saturating_add(24 * 3_600 * 1_000),
            lang: Lang::En,
            csrf_token: "bench",
        })
        .await?;
        ensure!(state.identity(GOVERNOR).is_some_and(|i| i.governor), "{GOVERNOR} is no governor in the snapshot");
        Ok(Self {
            router: router::router(state.clone()),
            db,
            cookie: format!("{}={token}", auth::SESSION_COOKIE),
            state,
        })
    }

    /// Stores a draft the governor could have written (three grants and a freeze) and returns its page's path.
    async fn draft_path(&self) -> anyhow::Result<String> {
        let snapshot = self.state.snapshot();
        let account = |n: usize| account_id(&format!("acct-{n:04}"));
        let mut actions: Vec<Action> = (1..=3)
            .map(|n| Action::GrantRole {
                account: account(n),
                role: role_id("clearing"),
                expires_at: snapshot.height.plus(10_000),
                expected: None,
            })
            .collect();
        actions.push(Action::FreezeAccount { account: account(4) });
        let proposal = Proposal {
            proposer: Principal::Account(account_id(GOVERNOR)),
            title: BoundedString::try_new("Clearing roles for three tellers; freeze a fourth")
                .map_err(|_| anyhow::anyhow!("title too long"))?,
            description: BoundedString::try_new("Seeded by the render benchmark.")
                .map_err(|_| anyhow::anyhow!("description too long"))?,
            actions: BoundedVec::try_new(actions).map_err(|_| anyhow::anyhow!("too many actions"))?,
            expires_at: snapshot.height.plus(100_000),
            salt: 7,
        };
        let id = proposal.id(&self.state.chain);
        let draft = self
            .db
            .create_draft(
                &NewDraft {
                    proposal_hex: hex::encode(codec::encode(&proposal)),
                    proposal_id: hex::encode(id.0.as_bytes()),
                    title: proposal.title.to_string(),
                    kinds: vec!["grant_role".to_owned(), "freeze_account".to_owned()],
                    author: GOVERNOR.to_owned(),
                },
                auth::now_ms(),
            )
            .await?;
        Ok(format!("/drafts/{}", draft.id))
    }

    /// The cursor of the unfiltered proposal list after [`DEEP_PROPOSAL_ROWS`] rows, found by paging through it
    /// as the browser does; with how many pages that took.
    async fn deep_proposal_cursor(&self) -> anyhow::Result<(String, usize)> {
        let mut after = String::new();
        let mut rows = 0_usize;
        let mut pages = 0_usize;
        while rows < DEEP_PROPOSAL_ROWS {
            let args = api::ListProposals {
                status: String::new(),
                kind: String::new(),
                text: String::new(),
                after: after.clone(),
            };
            let target = Target::server_fn("cursor", &args)?;
            let (body, _) = self.send(&target).await?;
            let page: api::ProposalPage =
                serde_json::from_slice(&body).context("list_proposals did not answer a page of proposals")?;
            rows = rows.saturating_add(page.rows.len());
            pages = pages.saturating_add(1);
            match page.next {
                Some(next) => after = next,
                None => break,
            }
        }
        Ok((after, pages))
    }

    /// Sends one request and reads the whole response; refuses any status but 200. Returns the body and how long
    /// the router took from request to last byte.
    async fn send(&self, target: &Target) -> anyhow::Result<(Vec<u8>, Duration)> {
        let mut request = Request::builder()
            .method(target.method.clone())
            .uri(&target.path)
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT, if target.body.is_some() { "application/json" } else { "text/html" });
        if target.body.is_some() {
            request = request
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request.body(Body::from(target.body.clone().unwrap_or_default()))?;
        let started = now();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), MAX_BODY).await?;
        let elapsed = started.elapsed();
        if status != StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            bail!(
                "{} {} answered {status}: {}",
                target.method,
                target.path,
                text.chars().take(500).collect::<String>()
            );
        }
        Ok((body.to_vec(), elapsed))
    }

    /// Warms up, then times `samples` requests one after another.
    async fn measure(&self, target: &Target, samples: usize) -> anyhow::Result<Figures> {
        for _ in 0..WARM_UPS {
            self.send(target).await?;
        }
        let mut times = Vec::with_capacity(samples);
        let mut bytes = 0;
        for _ in 0..samples {
            let (body, elapsed) = self.send(target).await?;
            bytes = body.len();
            times.push(elapsed);
        }
        times.sort_unstable();
        Ok(Figures {
            count: times.len(),
            bytes,
            p50: percentile(&times, 50),
            p95: percentile(&times, 95),
            p99: percentile(&times, 99),
            max: times.last().copied().unwrap_or_default(),
        })
    }
}

fn account_id(text: &str) -> AccountId {
    testkit::account(text)
}

fn role_id(text: &str) -> RoleId {
    RoleId(testkit::name(text))
}

fn bounded<const N: usize>(text: String) -> anyhow::Result<BoundedString<N>> {
    BoundedString::try_new(text).map_err(|_| anyhow::anyhow!("a name longer than {N} bytes"))
}

/// A chain snapshot the size of a busy alliance: the test genesis' members (each with a second governor), their
/// sealers plus as many observers, [`ACCOUNTS`] accounts spread over the members with business roles (some
/// expired, some frozen), the built-in and three business roles, the default policy and 30 recent blocks, at
/// `height`, as if read from the node at `node_url`.
fn synthetic_snapshot(
    genesis: &Genesis,
    chain: &ChainIdentity,
    height: u64,
    node_url: &str,
) -> anyhow::Result<ChainSnapshot> {
    let height = Height(height);
    let time_ms = u64::try_from(auth::now_ms()).unwrap_or(0);
    let mut snapshot = ChainSnapshot::empty(chain.clone());
    snapshot.stale = false;
    snapshot.source = Some(node_url.to_owned());
    snapshot.height = height;
    snapshot.last_block_time_ms = time_ms;
    snapshot.last_block_hash = BlockHash(Digest::sha256(&[b"block", &height.0.to_le_bytes()]));
    snapshot.params = Some(genesis.params.clone());
    snapshot.policy = default_policy().into_iter().map(|(kind, rule)| PolicyRule { kind, rule }).collect();

    let mut accounts = Vec::new();
    for (i, member) in genesis.members.iter().enumerate() {
        let mut governors: Vec<AccountId> = member.governors.iter().map(|g| g.account.clone()).collect();
        let deputy = account_id(&format!("{}-deputy", member.member));
        governors.push(deputy.clone());
        for governor in &governors {
            accounts.push((governor.clone(), member.member.clone()));
        }
        snapshot.members.push(Member {
            id: member.member.clone(),
            record: MemberRecord {
                name: member.name.clone(),
                weight: Weight(u64::try_from(i % 3).unwrap_or(0).saturating_add(1)),
                status: if i == MEMBERS.saturating_sub(1) { MemberStatus::Suspended } else { MemberStatus::Active },
                governors: BoundedVec::try_new(governors).map_err(|_| anyhow::anyhow!("too many governors"))?,
                admitted_at: Height(0),
            },
        });
    }
    for node in genesis.nodes.iter() {
        snapshot.nodes.push(Node {
            id: node.node.clone(),
            record: NodeRecord {
                owner: node.owner.clone(),
                kind: node.kind,
                weight: node.weight,
                address: node.address.clone(),
                key: Some(node.key),
                key_history: vec![node.key],
                attested_at: Some(Height(height.0.saturating_sub(50))),
                admitted_at: Height(0),
            },
        });
    }
    for i in 0..OBSERVERS {
        let id = format!("obs{i}");
        let owner = genesis.members.get(i % MEMBERS).map(|m| m.member.clone()).context("a member")?;
        let key = testkit::public(&id);
        snapshot.nodes.push(Node {
            id: NodeId(testkit::name(&id)),
            record: NodeRecord {
                owner,
                kind: NodeKind::Observer,
                weight: Weight(0),
                address: bounded(format!("10.0.{}.{}:26656", i / 200, i % 200))?,
                key: Some(key),
                key_history: vec![key],
                attested_at: i.is_multiple_of(2).then(|| Height(height.0.saturating_sub(700))),
                admitted_at: Height(u64::try_from(i).unwrap_or(0).saturating_mul(1_000)),
            },
        });
    }
    let status_peers = snapshot
        .nodes
        .iter()
        .skip(1)
        .step_by(2)
        .map(|n| Peer {
            node_id: n.id.clone(),
            address: n.record.address.to_string(),
            direction: PeerDirection::Outbound,
        })
        .collect();
    let first_node = snapshot.nodes.first().map(|n| n.id.clone()).context("a node")?;
    snapshot.status = Some(NodeStatus {
        chain_id: chain.chain_id.to_string(),
        genesis_hash: chain.genesis_hash,
        node_id: first_node.clone(),
        kind: NodeKind::Sealer,
        height,
        last_block_hash: snapshot.last_block_hash,
        last_block_time_ms: time_ms,
        peers: status_peers,
        syncing: false,
        sync_target: None,
        mempool_size: 12,
        counters: Default::default(),
    });
    snapshot.node_health = vec![NodeHealth { url: node_url.to_owned(), ok: true, height: Some(height), error: None }];

    for (role, definition) in builtin_roles() {
        snapshot.roles.push(Role { id: role, definition });
    }
    let business = ["clearing", "settlement", "teller"];
    for (i, role) in business.iter().enumerate() {
        snapshot.roles.push(Role {
            id: role_id(role),
            definition: RoleDefinition { scope: RoleScope::Alliance, delegable: i != 1, max_grant_blocks: 1_000_000 },
        });
    }

    for account in genesis.accounts.iter() {
        accounts.push((account.account.clone(), account.member.clone()));
    }
    for grant in genesis.grants.iter() {
        snapshot.grants.push(RoleGrant {
            account: grant.account.clone(),
            role: grant.role.clone(),
            granted_at: Height(0),
            expires_at: grant.expires_at.max(height.plus(1_000)),
            active: true,
        });
    }
    let mut n = 0_usize;
    while accounts.len() < ACCOUNTS {
        n = n.saturating_add(1);
        let member = genesis.members.get(n % MEMBERS).map(|m| m.member.clone()).context("a member")?;
        let id = account_id(&format!("acct-{n:04}"));
        if n.is_multiple_of(3) {
            let role = business.get(n.checked_rem(business.len()).unwrap_or(0)).copied().unwrap_or("teller");
            let expires_at =
                if n.is_multiple_of(30) { Height(height.0.saturating_sub(10)) } else { height.plus(50_000) };
            snapshot.grants.push(RoleGrant {
                account: id.clone(),
                role: role_id(role),
                granted_at: Height(1),
                expires_at,
                active: expires_at > height,
            });
        }
        accounts.push((id, member));
    }
    for (i, (id, member)) in accounts.into_iter().enumerate() {
        let roles = snapshot
            .grants
            .iter()
            .filter(|g| g.account == id)
            .map(|g| AccountRole {
                role: g.role.clone(),
                granted_at: g.granted_at,
                expires_at: g.expires_at,
                active: g.active,
            })
            .collect();
        snapshot.accounts.push(Account {
            record: AccountRecord {
                member: member.clone(),
                key: Some(testkit::public(id.as_str())),
                frozen: i % 97 == 96,
                created_at: Height(u64::try_from(i).unwrap_or(0)),
            },
            id,
            roles,
        });
    }

    for back in 0..30_u64 {
        let h = height.0.saturating_sub(back);
        let proposer = snapshot.nodes.get(usize::try_from(h).unwrap_or(0) % MEMBERS).map(|n| n.id.clone());
        snapshot.recent_blocks.push(BlockSummary {
            height: Height(h),
            hash: BlockHash(Digest::sha256(&[b"block", &h.to_le_bytes()])),
            time_ms: time_ms.saturating_sub(back.saturating_mul(1_000)),
            tx_count: h % 17,
            proposer: proposer.unwrap_or_else(|| first_node.clone()),
        });
    }
    Ok(snapshot)
}
