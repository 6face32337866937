//! The console's HTTP server driven in-process: every request goes through `server::router::router` (sessions,
//! the cross-site check, the security headers, the server functions and the pages) with a real SQLite file in a
//! temporary directory and a chain snapshot built here from the testkit genesis (published again by cases that
//! change the chain). No node is needed: the node URL points at a closed port, and no case below reaches it.

#![cfg(feature = "ssr")]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, StatusCode, header};
use console::api::{AuditRows, DraftView, LoginOffer, Me};
use console::model::{Account, AccountRole, ChainSnapshot, Member, Node, Role, RoleGrant};
use console::server::auth::{REFUSALS_RECORDED_BURST, SESSION_COOKIE, login_limiter};
use console::server::bundle::{Bundle, FileHashes};
use console::server::db::{Db, MirroredProposal, ProposalState};
use console::server::net::{Cidr, TargetPolicy};
use console::server::node::NodeClient;
use console::server::router::router;
use console::server::state::{Access, AppState, Inner};
use console::server::webhooks::{self, Notice};
use console::signer::{Signer, Validity};
use governance_contracts::codec;
use governance_contracts::contracts::roles::builtin_roles;
use governance_contracts::crypto::Digest;
use governance_contracts::ids::{AccountId, Height, ProposalId, RoleId};
use governance_contracts::state::records::{AccountRecord, MemberRecord, NodeRecord};
use governance_contracts::testkit;
use governance_contracts::types::{Action, LoginChallenge, MemberStatus, RoleDefinition, RoleScope};
use leptos::prelude::LeptosOptions;
use leptos::server_fn::ServerFn;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tempfile::TempDir;
use tokio::sync::{broadcast, watch};
use tower::ServiceExt as _;

/// The origin of the consoles under test, unless a case needs another.
const ORIGIN: &str = "http://console.test:8080";
/// The chain height the snapshots show.
const HEIGHT: u64 = 10;
/// A role the committee made delegable, so compliance staff may grant it.
const DELEGABLE_ROLE: &str = "kyc-reviewer";
/// An account of member `m0` that holds no role and governs nothing.
const NO_ROLE: &str = "m0-clerk";

/// A console served in-process, with its state, the sender of its chain snapshots and the directory holding its
/// database and site.
struct Console {
    app: Router,
    state: AppState,
    publish: watch::Sender<Arc<ChainSnapshot>>,
    dir: TempDir,
}

/// The chain as the console would see it: the testkit genesis of four members at height [`HEIGHT`], plus an
/// account with no role and a delegable role definition.
fn snapshot() -> ChainSnapshot {
    let genesis = testkit::genesis(4);
    let mut snapshot = ChainSnapshot::empty(genesis.identity());
    snapshot.stale = false;
    snapshot.height = Height(HEIGHT);
    snapshot.params = Some(genesis.params.clone());
    for member in genesis.members.iter() {
        let governors: Vec<AccountId> = member.governors.iter().map(|g| g.account.clone()).collect();
        snapshot.members.push(Member {
            id: member.member.clone(),
            record: MemberRecord {
                name: member.name.clone(),
                weight: member.weight,
                status: MemberStatus::Active,
                governors: codec::BoundedVec::try_new(governors).expect("as many governors as the genesis holds"),
                admitted_at: Height(0),
            },
        });
        for governor in member.governors.iter() {
            snapshot.accounts.push(account(governor.account.clone(), &member.member, governor.key));
        }
    }
    for founding in genesis.accounts.iter() {
        snapshot.accounts.push(account(founding.account.clone(), &founding.member, founding.key));
    }
    snapshot.accounts.push(account(testkit::account(NO_ROLE), &testkit::member("m0"), testkit::public(NO_ROLE)));
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
                attested_at: None,
                admitted_at: Height(0),
            },
        });
    }
    snapshot.roles = builtin_roles().into_iter().map(|(id, definition)| Role { id, definition }).collect();
    snapshot.roles.push(Role {
        id: role(DELEGABLE_ROLE),
        definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 100_000 },
    });
    for grant in genesis.grants.iter() {
        snapshot.grants.push(RoleGrant {
            account: grant.account.clone(),
            role: grant.role.clone(),
            granted_at: Height(0),
            expires_at: grant.expires_at,
            active: true,
        });
        if let Some(holder) = snapshot.accounts.iter_mut().find(|a| a.id == grant.account) {
            holder.roles.push(AccountRole {
                role: grant.role.clone(),
                granted_at: Height(0),
                expires_at: grant.expires_at,
                active: true,
            });
        }
    }
    snapshot
}

fn account(
    id: AccountId,
    member: &governance_contracts::ids::MemberId,
    key: governance_contracts::crypto::PublicKey,
) -> Account {
    Account {
        id,
        record: AccountRecord { member: member.clone(), key: Some(key), frozen: false, created_at: Height(0) },
        roles: Vec::new(),
    }
}

fn role(text: &str) -> RoleId {
    text.parse().expect("a valid role id")
}

/// A console at `origin` with a fresh database, the [`snapshot`] published, and placeholder bundle bytes.
async fn console_at(origin: &str) -> Console {
    console_with(origin, Access::default()).await
}

/// A console at `origin` serving with the access decisions `access`, as [`console_at`].
async fn console_with(origin: &str, access: Access) -> Console {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Db::open(&dir.path().join("console.db")).await.expect("the database opens");
    let genesis = testkit::genesis(4);
    let chain = genesis.identity();
    let (publish, snapshot_rx) = watch::channel(Arc::new(snapshot()));
    let (live, _) = broadcast::channel(16);
    let bundle = Bundle {
        js: FileHashes::of("/pkg/console.js", b"placeholder glue"),
        wasm: FileHashes::of("/pkg/console_bg.wasm", b"placeholder wasm"),
    };
    let leptos =
        LeptosOptions::builder().output_name("console").site_root(dir.path().to_string_lossy().into_owned()).build();
    let state = AppState::new(
        leptos,
        Inner {
            chain,
            genesis,
            origin: origin.to_owned(),
            db,
            node: NodeClient::new(vec!["http://127.0.0.1:9".to_owned()]).expect("a valid node URL"),
            snapshot: snapshot_rx,
            live,
            bundle,
            login_limiter: login_limiter(),
            access,
            anchoring: None,
        },
    );
    Console { app: router(state.clone()), state, publish, dir }
}

/// The access decisions of a console whose webhooks may deliver to loopback, where the cases' receivers listen.
fn loopback_webhooks() -> Access {
    let allow = vec![cidr("127.0.0.1"), cidr("::1")];
    Access { webhooks: TargetPolicy { allow }, ..Access::default() }
}

fn cidr(text: &str) -> Cidr {
    text.parse().expect("a network")
}

async fn console() -> Console {
    console_at(ORIGIN).await
}

/// A client address, so cases that sign in often do not share one rate-limit bucket.
fn ip(last: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, last])
}

/// An HTTP exchange's status, headers and body text.
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    async fn from(response: Response<Body>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.expect("the body reads");
        Self { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// The body as JSON of type `T`, after checking the call succeeded.
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        assert_eq!(self.status, StatusCode::OK, "the call failed: {}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not the expected JSON ({e}): {}", self.body))
    }

    /// Asserts the call was refused (a 4xx: a refusal is never answered as a failure of the console) with a message
    /// containing `text`.
    fn refused_with(&self, text: &str) {
        assert!(self.status.is_client_error(), "expected a 4xx refusal, got {}: {}", self.status, self.body);
        assert!(self.body.contains(text), "expected an error mentioning {text:?}, got {} {}", self.status, self.body);
    }

    /// The `Set-Cookie` header that sets the session cookie.
    fn session_set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
    }
}

/// How a request shows where it came from.
#[derive(Clone, Copy)]
enum Sent<'a> {
    /// `Origin: <the given origin>`.
    Origin(&'a str),
    /// No `Origin`, but `Sec-Fetch-Site: same-origin`.
    SameOriginFetch,
    /// Neither header.
    Nowhere,
}

/// One request to the console.
struct Call<'a> {
    method: Method,
    path: &'a str,
    form: &'a [(&'a str, &'a str)],
    cookie: Option<&'a str>,
    from: Sent<'a>,
    ip: IpAddr,
    /// An `X-Forwarded-For` header, if any.
    forwarded: Option<&'a str>,
}

impl Console {
    async fn send(&self, call: Call<'_>) -> Reply {
        let mut request = Request::builder().method(call.method).uri(call.path);
        match call.from {
            Sent::Origin(origin) => request = request.header(header::ORIGIN, origin),
            Sent::SameOriginFetch => request = request.header("sec-fetch-site", "same-origin"),
            Sent::Nowhere => {}
        }
        if let Some(cookie) = call.cookie {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"));
        }
        if let Some(forwarded) = call.forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let body = call
            .form
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = request
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body))
            .expect("a valid request");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(call.ip, 40_000)));
        let response = self.app.clone().oneshot(request).await.expect("the router always answers");
        Reply::from(response).await
    }

    /// Calls server function `F` from the console's own origin.
    async fn call<F: ServerFn>(&self, form: &[(&str, &str)], cookie: Option<&str>, ip: IpAddr) -> Reply {
        let origin = self.state.origin.clone();
        let from = Sent::Origin(&origin);
        self.send(Call { method: Method::POST, path: F::PATH, form, cookie, from, ip, forwarded: None }).await
    }

    /// A GET of `path`.
    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        self.send(Call {
            method: Method::GET,
            path,
            form: &[],
            cookie,
            from: Sent::Nowhere,
            ip: ip(200),
            forwarded: None,
        })
        .await
    }

    /// Asks for a challenge for `label`'s testkit key and decodes it.
    async fn challenge(&self, label: &str, ip: IpAddr) -> (String, LoginChallenge) {
        let key = testkit::public(label).to_string();
        let offer: LoginOffer = self.call::<console::api::BeginLogin>(&[("public_key", &key)], None, ip).await.json();
        let bytes = hex::decode(&offer.challenge_hex).expect("the challenge is hex");
        let challenge = codec::decode(&bytes).expect("the challenge decodes");
        (offer.challenge_hex, challenge)
    }

    /// Answers a challenge with `signer_label`'s key, sending `cookie` if any.
    async fn finish(&self, challenge_hex: &str, signer_label: &str, cookie: Option<&str>, ip: IpAddr) -> Reply {
        let challenge: LoginChallenge =
            codec::decode(&hex::decode(challenge_hex).expect("hex")).expect("the challenge decodes");
        let signature = signer(signer_label).sign_login(&challenge, &self.state.chain).to_string();
        self.call::<console::api::FinishLogin>(
            &[("challenge_hex", challenge_hex), ("signature", &signature)],
            cookie,
            ip,
        )
        .await
    }

    /// Signs `label` in and returns the session cookie's value.
    async fn sign_in(&self, label: &str, ip: IpAddr) -> String {
        let (hex, _) = self.challenge(label, ip).await;
        let reply = self.finish(&hex, label, None, ip).await;
        let _: Me = reply.json();
        cookie_value(&reply.session_set_cookie().expect("a session cookie is set"))
    }

    /// Who the console says is signed in with `cookie`.
    async fn whoami(&self, cookie: Option<&str>) -> Me {
        self.call::<console::api::Whoami>(&[], cookie, ip(201)).await.json()
    }

    /// The workspace's open drafts as `cookie`'s account sees them.
    async fn drafts(&self, cookie: &str) -> Vec<DraftView> {
        self.call::<console::api::OpenDrafts>(&[], Some(cookie), ip(202)).await.json()
    }

    /// Drafts `actions` as `cookie`'s account.
    async fn draft(&self, cookie: &str, title: &str, actions: &str) -> Reply {
        self.call::<console::api::CreateDraft>(
            &[("title", title), ("description", ""), ("actions_json", actions)],
            Some(cookie),
            ip(203),
        )
        .await
    }
}

/// The signer for `label`'s testkit key, read from its PKCS#8 PEM as the browser reads a key file.
fn signer(label: &str) -> Signer {
    Signer::from_pem(&testkit::secret(label).to_pkcs8_pem().expect("the key writes as PEM")).expect("the PEM loads")
}

/// The value of a `Set-Cookie: name=value; ...` header.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().expect("a name=value pair");
    pair.split_once('=').expect("name=value").1.to_owned()
}

/// The attributes of a `Set-Cookie` header, lowercased and trimmed.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect()
}

fn actions_json(actions: &[Action]) -> String {
    serde_json::to_string(actions).expect("actions serialise")
}

// ---- 1. Sign-in ----

/// A governor's challenge names this console's origin; the signed answer sets an HttpOnly, SameSite=Strict,
/// non-Secure (plain http) session cookie, and `whoami` with it names the governor's account.
#[tokio::test]
async fn a_governor_signs_in_with_a_strict_cookie() {
    let console = console().await;
    let (hex, challenge) = console.challenge("m0-gov", ip(1)).await;
    assert_eq!(challenge.origin.as_str(), ORIGIN);
    assert_eq!(challenge.account, testkit::account("m0-gov"));
    let reply = console.finish(&hex, "m0-gov", None, ip(1)).await;
    let me: Me = reply.json();
    assert_eq!(me.identity.as_ref().map(|i| i.account.as_str()), Some("m0-gov"));
    let set_cookie = reply.session_set_cookie().expect("a session cookie is set");
    let attributes = cookie_attributes(&set_cookie);
    assert!(attributes.contains(&"httponly".to_owned()), "{set_cookie}");
    assert!(attributes.contains(&"samesite=strict".to_owned()), "{set_cookie}");
    assert!(!attributes.contains(&"secure".to_owned()), "no Secure on a plain http origin: {set_cookie}");
    let cookie = cookie_value(&set_cookie);
    let me = console.whoami(Some(&cookie)).await;
    let identity = me.identity.expect("the cookie resolves to a session");
    assert_eq!(identity.account, "m0-gov");
    assert!(identity.governor);
    assert!(!identity.read_only);
    assert!(console.whoami(None).await.identity.is_none());
}

/// A console served over https marks its session cookie Secure.
#[tokio::test]
async fn an_https_console_sets_a_secure_cookie() {
    let console = console_at("https://console.example").await;
    let (hex, challenge) = console.challenge("m1-gov", ip(1)).await;
    assert_eq!(challenge.origin.as_str(), "https://console.example");
    let reply = console.finish(&hex, "m1-gov", None, ip(1)).await;
    let set_cookie = reply.session_set_cookie().expect("a session cookie is set");
    let attributes = cookie_attributes(&set_cookie);
    assert!(attributes.contains(&"secure".to_owned()), "{set_cookie}");
    assert!(attributes.contains(&"httponly".to_owned()), "{set_cookie}");
    assert!(attributes.contains(&"samesite=strict".to_owned()), "{set_cookie}");
}

/// A challenge answered once cannot be answered again, even with a valid signature.
#[tokio::test]
async fn a_challenge_is_used_once() {
    let console = console().await;
    let (hex, _) = console.challenge("m0-gov", ip(1)).await;
    let first = console.finish(&hex, "m0-gov", None, ip(1)).await;
    let _: Me = first.json();
    let again = console.finish(&hex, "m0-gov", None, ip(1)).await;
    again.refused_with("the challenge is unknown, used or expired");
    assert!(again.session_set_cookie().is_none());
}

/// A challenge signed by another account's key is refused and sets no cookie.
#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let console = console().await;
    let (hex, _) = console.challenge("m0-gov", ip(1)).await;
    let reply = console.finish(&hex, "m1-gov", None, ip(1)).await;
    reply.refused_with("the signature does not match the account's current key");
    assert!(reply.session_set_cookie().is_none());
}

/// A challenge whose origin was changed before signing is refused, even though the account's own key signed it.
#[tokio::test]
async fn an_altered_challenge_is_refused() {
    let console = console().await;
    let (_, mut challenge) = console.challenge("m0-gov", ip(1)).await;
    challenge.origin = codec::BoundedString::try_new("http://evil.example".to_owned()).expect("a short origin");
    let altered = hex::encode(codec::encode(&challenge));
    let reply = console.finish(&altered, "m0-gov", None, ip(1)).await;
    reply.refused_with("the challenge was altered");
    assert!(reply.session_set_cookie().is_none());
}

/// A key that is no account's current key gets a clear error, and so does text that is not a key.
#[tokio::test]
async fn an_unknown_key_is_refused() {
    let console = console().await;
    let key = testkit::public("stranger").to_string();
    console.call::<console::api::BeginLogin>(&[("public_key", &key)], None, ip(1)).await.refused_with(&format!(
        "no account on this chain has {key} as its current key: ask your organisation's governors"
    ));
    console
        .call::<console::api::BeginLogin>(&[("public_key", "not a key")], None, ip(1))
        .await
        .refused_with("that is not an ed25519 public key");
}

/// An account that holds no role and governs nothing proves its key but is still refused a session.
#[tokio::test]
async fn an_account_without_a_role_is_refused() {
    let console = console().await;
    let (hex, _) = console.challenge(NO_ROLE, ip(1)).await;
    let reply = console.finish(&hex, NO_ROLE, None, ip(1)).await;
    reply.refused_with("this account holds no role the console serves");
    assert!(reply.session_set_cookie().is_none());
}

/// A session id the browser carried before signing in (planted, or a previous session) is never the one issued,
/// and a previous session stops resolving once the new one is issued.
#[tokio::test]
async fn sign_in_issues_a_fresh_session_id() {
    let console = console().await;
    let planted = "planted-by-an-attacker";
    let (hex, _) = console.challenge("m0-gov", ip(1)).await;
    let reply = console.finish(&hex, "m0-gov", Some(planted), ip(1)).await;
    let first = cookie_value(&reply.session_set_cookie().expect("a session cookie is set"));
    assert_ne!(first, planted);
    assert!(console.whoami(Some(planted)).await.identity.is_none());

    let (hex, _) = console.challenge("m0-gov", ip(1)).await;
    let reply = console.finish(&hex, "m0-gov", Some(&first), ip(1)).await;
    let second = cookie_value(&reply.session_set_cookie().expect("a session cookie is set"));
    assert_ne!(second, first);
    assert!(console.whoami(Some(&first)).await.identity.is_none(), "the old session still resolves");
    assert_eq!(console.whoami(Some(&second)).await.identity.map(|i| i.account), Some("m0-gov".to_owned()));
}

// ---- 2. Rate limit ----

/// Ten sign-in starts from one address within a minute pass, the eleventh is refused with the rate-limit message,
/// and another address is not affected.
#[tokio::test]
async fn the_eleventh_sign_in_attempt_is_refused() {
    let console = console().await;
    let key = testkit::public("m0-gov").to_string();
    for attempt in 1..=10 {
        let reply = console.call::<console::api::BeginLogin>(&[("public_key", &key)], None, ip(7)).await;
        assert_eq!(reply.status, StatusCode::OK, "attempt {attempt} was refused: {}", reply.body);
    }
    console
        .call::<console::api::BeginLogin>(&[("public_key", &key)], None, ip(7))
        .await
        .refused_with("too many sign-in attempts from this address");
    let other = console.call::<console::api::BeginLogin>(&[("public_key", &key)], None, ip(8)).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
}

// ---- 3. Cross-site requests ----

/// A server-function POST from another site is refused with 403, one from the console's origin (or a same-origin
/// fetch without Origin) passes, and one showing neither is refused with 403.
#[tokio::test]
async fn writes_from_other_sites_are_refused() {
    let console = console().await;
    let post = |from| Call {
        method: Method::POST,
        path: console::api::Whoami::PATH,
        form: &[],
        cookie: None,
        from,
        ip: ip(1),
        forwarded: None,
    };
    let evil = console.send(post(Sent::Origin("http://evil.example"))).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN, "{}", evil.body);
    assert!(evil.body.contains("another site"), "{}", evil.body);
    let own = console.send(post(Sent::Origin(ORIGIN))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let fetch = console.send(post(Sent::SameOriginFetch)).await;
    assert_eq!(fetch.status, StatusCode::OK, "{}", fetch.body);
    let bare = console.send(post(Sent::Nowhere)).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN, "{}", bare.body);
}

// ---- 4. Headers ----

/// The `nonce="..."` value of every `<script` tag in `html`.
fn script_nonces(html: &str) -> Vec<Option<String>> {
    html.split("<script")
        .skip(1)
        .map(|tag| {
            let tag = tag.split('>').next().unwrap_or_default();
            tag.split_once("nonce=\"").and_then(|(_, rest)| rest.split_once('"')).map(|(nonce, _)| nonce.to_owned())
        })
        .collect()
}

/// A page carries a Content-Security-Policy whose nonce is on every inline script and which allows neither
/// inline scripts nor eval; it refuses framing, and it holds the import map with the bundle's integrity values.
#[tokio::test]
async fn pages_carry_a_strict_policy_and_the_bundle_integrity() {
    let console = console().await;
    let page = console.get("/login", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let policy = page
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("a Content-Security-Policy header")
        .to_owned();
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(!policy.contains("'unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let nonce = policy
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .expect("the policy names a nonce");
    assert!(nonce.len() >= 16, "the nonce is too short to be unguessable: {nonce}");
    let nonces = script_nonces(&page.body);
    assert!(nonces.len() >= 2, "the page has its import map and boot script: {}", page.body);
    for found in &nonces {
        assert_eq!(found.as_deref(), Some(nonce.as_str()), "a script without the response's nonce");
    }
    assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()), Some(&b"DENY"[..]));
    assert!(page.body.contains("<script type=\"importmap\""), "no import map");
    assert!(page.body.contains(&console.state.bundle.import_map()), "the import map is not the bundle's");
    assert!(page.body.contains(&console.state.bundle.js.sri));
    assert!(page.body.contains(&console.state.bundle.wasm.sri));

    let again = console.get("/login", None).await;
    let other = again.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(!other.contains(&format!("'nonce-{nonce}'")), "the nonce is reused across responses");
}

// ---- 5. Drafting rules ----

/// A compliance officer drafts a freeze and a grant of a delegable role, and is refused a grant of a
/// non-delegable role with a message naming it; the refused draft is not stored.
#[tokio::test]
async fn compliance_drafts_only_delegable_grants_and_freezes() {
    let console = console().await;
    let cookie = console.sign_in("m0-compliance", ip(1)).await;
    let freeze = actions_json(&[Action::FreezeAccount { account: testkit::account("m1-ops") }]);
    let freeze_id: i64 = console.draft(&cookie, "Freeze m1-ops", &freeze).await.json();
    let grant = actions_json(&[Action::GrantRole {
        account: testkit::account("m1-ops"),
        role: role(DELEGABLE_ROLE),
        expires_at: Height(HEIGHT + 1_000),
        expected: None,
    }]);
    let grant_id: i64 = console.draft(&cookie, "Grant KYC review", &grant).await.json();
    assert_ne!(freeze_id, grant_id);
    let stored = console.drafts(&cookie).await;
    let mut ids: Vec<i64> = stored.iter().map(|d| d.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, {
        let mut expected = vec![freeze_id, grant_id];
        expected.sort_unstable();
        expected
    });
    assert!(stored.iter().all(|d| d.author == "m0-compliance"));

    let forbidden = actions_json(&[Action::GrantRole {
        account: testkit::account("m1-ops"),
        role: RoleId::operator(),
        expires_at: Height(HEIGHT + 1_000),
        expected: None,
    }]);
    console.draft(&cookie, "Grant operator", &forbidden).await.refused_with("`operator` is not");
    assert_eq!(console.drafts(&cookie).await.len(), 2, "a refused draft was stored");
}

/// A read-only auditor cannot draft anything, not even what compliance staff may draft.
#[tokio::test]
async fn an_auditor_cannot_draft() {
    let console = console().await;
    let cookie = console.sign_in("m0-auditor", ip(1)).await;
    let me = console.whoami(Some(&cookie)).await;
    assert!(me.identity.expect("signed in").read_only);
    let freeze = actions_json(&[Action::FreezeAccount { account: testkit::account("m1-ops") }]);
    console.draft(&cookie, "Freeze", &freeze).await.refused_with("your account may only read");
    assert!(console.drafts(&cookie).await.is_empty());
}

/// Actions that are not valid JSON, or JSON that is not a list of actions, or an empty list, get a clear error
/// and store nothing.
#[tokio::test]
async fn bad_actions_are_refused_and_store_nothing() {
    let console = console().await;
    let cookie = console.sign_in("m0-gov", ip(1)).await;
    console.draft(&cookie, "Broken", "not json at all").await.refused_with("the actions are not valid");
    console
        .draft(&cookie, "Missing field", r#"[{"action":"freeze_account"}]"#)
        .await
        .refused_with("the actions are not valid");
    console.draft(&cookie, "Unknown", r#"[{"action":"mint_money"}]"#).await.refused_with("the actions are not valid");
    console.draft(&cookie, "Empty", "[]").await.refused_with("a proposal needs at least one action");
    assert!(console.drafts(&cookie).await.is_empty(), "a refused draft was stored");
    let audit: AuditRows = console
        .call::<console::api::AuditPage>(
            &[("actor", ""), ("kind", "draft_created"), ("subject", ""), ("before", "0")],
            Some(&cookie),
            ip(2),
        )
        .await
        .json();
    assert!(audit.rows.is_empty(), "a refused draft was audited as created");
}

// ---- 6. Relaying ----

/// `submit_transaction` refuses a transaction another account signed, text that is not hex and hex that is not
/// a transaction, each with a clear message and without reaching a node.
#[tokio::test]
async fn relaying_refuses_foreign_and_garbage_transactions() {
    let console = console().await;
    let cookie = console.sign_in("m0-gov", ip(1)).await;
    let proposal = ProposalId(Digest::sha256(&[b"some proposal"]));
    let foreign = signer("m1-gov")
        .cancel(
            &console.state.chain,
            &testkit::account("m1-gov"),
            proposal,
            Validity { height: Height(HEIGHT), ttl: 5 },
        )
        .expect("the transaction builds")
        .hex;
    let submit = |hex: String| {
        let cookie = cookie.clone();
        let console = &console;
        async move { console.call::<console::api::SubmitTransaction>(&[("signed_hex", &hex)], Some(&cookie), ip(2)).await }
    };
    submit(foreign).await.refused_with("this transaction is signed by m1-gov, not by you");
    submit("zz-not-hex".to_owned()).await.refused_with("the transaction is not hex");
    submit("00ff00ff".to_owned()).await.refused_with("the transaction does not decode");
    let nobody = console.call::<console::api::SubmitTransaction>(&[("signed_hex", "00")], None, ip(2)).await;
    nobody.refused_with("sign in first");
}

// ---- 7. Audit trail ----

/// A sign-in and a draft appear in the audit trail; the CSV export answers 401 without a session and, with one,
/// holds those rows.
#[tokio::test]
async fn sign_ins_and_drafts_are_audited_and_exported() {
    let console = console().await;
    let cookie = console.sign_in("m0-gov", ip(1)).await;
    let freeze = actions_json(&[Action::FreezeAccount { account: testkit::account("m1-ops") }]);
    let _: i64 = console.draft(&cookie, "Freeze m1-ops", &freeze).await.json();

    let audit: AuditRows = console
        .call::<console::api::AuditPage>(
            &[("actor", ""), ("kind", ""), ("subject", ""), ("before", "0")],
            Some(&cookie),
            ip(2),
        )
        .await
        .json();
    let has = |kind: &str| audit.rows.iter().any(|r| r.kind == kind && r.actor == "m0-gov");
    assert!(has("sign_in"), "no sign-in row: {:?}", audit.rows);
    assert!(has("draft_created"), "no draft row: {:?}", audit.rows);
    let draft_row = audit.rows.iter().find(|r| r.kind == "draft_created").expect("a draft row");
    assert!(draft_row.detail.contains("Freeze m1-ops"), "{}", draft_row.detail);

    let anonymous = console.get("/audit/export.csv", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.body);
    let planted = console.get("/audit/export.csv", Some("not-a-session")).await;
    assert_eq!(planted.status, StatusCode::UNAUTHORIZED, "{}", planted.body);

    let export = console.get("/audit/export.csv", Some(&cookie)).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let content_type = export.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines.len() >= 3, "a header and two rows: {}", export.body);
    assert!(lines.iter().skip(1).any(|l| l.contains(",m0-gov,sign_in,")), "{}", export.body);
    assert!(lines.iter().skip(1).any(|l| l.contains(",m0-gov,draft_created,")), "{}", export.body);
    for row in &audit.rows {
        assert!(export.body.contains(&row.hash), "the export lacks row {} of the trail", row.seq);
    }
}

// ---- Webhooks ----

/// A registered webhook receives `needs_approval` for each open proposal its member has not approved and
/// `expires_soon` once few blocks remain, nothing for a proposal one of its member's governors approved, and each
/// notice once: a second pass sends nothing new.
#[tokio::test]
async fn webhooks_announce_each_unapproved_proposal_once() {
    let console = console_with(ORIGIN, loopback_webhooks()).await;
    let received = Arc::new(std::sync::Mutex::new(Vec::<Notice>::new()));
    let receiver = Router::new().route(
        "/hook",
        axum::routing::post({
            let received = Arc::clone(&received);
            move |axum::Json(notice): axum::Json<Notice>| async move {
                received.lock().expect("the receiver's list").push(notice);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, receiver).await.ok() });
    let events = vec!["needs_approval".to_owned(), "expires_soon".to_owned()];
    console.state.db.add_webhook(&format!("http://{address}/hook"), &events, "m0", 1).await.expect("the hook is added");
    // Open proposals: m0 has not approved 1 (far from expiry) nor 2 (5 blocks left); m0's governor approved 3.
    for (n, expires_at, approvers) in [
        (1_u64, HEIGHT + 1_000, vec!["m1-gov"]),
        (2, HEIGHT + 5, vec![]),
        (3, HEIGHT + 1_000, vec!["m0-gov", "m1-gov"]),
    ] {
        let proposal = MirroredProposal {
            id: format!("{n:064x}"),
            title: format!("proposal {n}"),
            status: ProposalState::Pending,
            proposer: "m1-gov".to_owned(),
            kinds: vec!["admit_member".to_owned()],
            submitted_height: n,
            expires_at,
            approved_weight: 1,
            required_weight: 3,
            updated_height: HEIGHT,
            detail: serde_json::to_string(&approvers).expect("a list"),
        };
        console.state.db.upsert_proposal(&proposal).await.expect("the proposal is mirrored");
    }
    let client = webhooks::client(&console.state.access.webhooks).expect("a client");

    let acknowledged = webhooks::dispatch_once(&console.state, &client, 10).await.expect("a pass");
    assert_eq!(acknowledged, 3, "two needs-approval notices and one expires-soon notice");
    let mut got: Vec<(String, String, u64)> = received
        .lock()
        .expect("the list")
        .iter()
        .map(|n| (n.event.clone(), n.proposal.clone(), n.blocks_left))
        .collect();
    got.sort();
    let id = |n: u64| format!("sha256:{n:064x}");
    assert_eq!(
        got,
        vec![
            ("expires_soon".to_owned(), id(2), 5),
            ("needs_approval".to_owned(), id(1), 1_000),
            ("needs_approval".to_owned(), id(2), 5),
        ]
    );
    let first = received.lock().expect("the list").first().cloned().expect("a notice");
    assert_eq!(first.member, "m0");
    assert!(first.url.starts_with(&format!("{ORIGIN}/proposals/sha256:")), "{}", first.url);

    assert_eq!(webhooks::dispatch_once(&console.state, &client, 10).await.expect("a second pass"), 0);
    assert_eq!(received.lock().expect("the list").len(), 3, "a notice was sent twice");
}

/// A receiver that refuses a notice gets it again on the next pass, at most five times in all.
#[tokio::test]
async fn a_refused_webhook_notice_is_retried_a_bounded_number_of_times() {
    let console = console_with(ORIGIN, loopback_webhooks()).await;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let receiver = Router::new().route(
        "/hook",
        axum::routing::post({
            let calls = Arc::clone(&calls);
            move || async move {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, receiver).await.ok() });
    let events = vec!["needs_approval".to_owned()];
    console.state.db.add_webhook(&format!("http://{address}/hook"), &events, "m0", 1).await.expect("the hook is added");
    let proposal = MirroredProposal {
        id: format!("{:064x}", 7),
        title: "proposal 7".to_owned(),
        status: ProposalState::Pending,
        proposer: "m1-gov".to_owned(),
        kinds: vec!["freeze_account".to_owned()],
        submitted_height: 7,
        expires_at: HEIGHT + 100,
        approved_weight: 1,
        required_weight: 3,
        updated_height: HEIGHT,
        detail: "[]".to_owned(),
    };
    console.state.db.upsert_proposal(&proposal).await.expect("the proposal is mirrored");
    let client = webhooks::client(&console.state.access.webhooks).expect("a client");
    for _ in 0..8 {
        assert_eq!(webhooks::dispatch_once(&console.state, &client, 10).await.expect("a pass"), 0);
    }
    let attempts = usize::try_from(webhooks::MAX_ATTEMPTS).expect("a small number");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), attempts);
}

// ---- 8. Authority: who may read, write and be recorded ----

/// The audit trail as `cookie`'s account sees it, filtered by `actor` and `kind` (empty = any).
async fn audit_rows(console: &Console, cookie: &str, actor: &str, kind: &str) -> AuditRows {
    console
        .call::<console::api::AuditPage>(
            &[("actor", actor), ("kind", kind), ("subject", ""), ("before", "0")],
            Some(cookie),
            ip(240),
        )
        .await
        .json()
}

/// `cookie`'s member's webhooks as the Webhooks page lists them.
async fn listed_webhooks(console: &Console, cookie: &str) -> Vec<console::api::WebhookView> {
    console.call::<console::api::Webhooks>(&[], Some(cookie), ip(241)).await.json()
}

/// Registers `url` for `needs_approval` as `cookie`'s governor.
async fn add_webhook(console: &Console, cookie: &str, url: &str) -> Reply {
    console.call::<console::api::AddWebhook>(&[("url", url), ("events", "needs_approval")], Some(cookie), ip(242)).await
}

/// A read-only session (an auditor) asking for webhooks, a governors' matter, is refused with 403 and the reason,
/// never a 500; a visitor with no session is refused with 401.
#[tokio::test]
async fn webhooks_refuse_those_who_may_not_manage_them_with_a_4xx() {
    let console = console().await;
    let auditor = console.sign_in("m0-auditor", ip(1)).await;
    let reply = console.call::<console::api::Webhooks>(&[], Some(&auditor), ip(1)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    reply.refused_with("only a member's governors manage webhooks");
    let reply = add_webhook(&console, &auditor, "http://93.184.215.14/hook").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = console.call::<console::api::Webhooks>(&[], None, ip(2)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    reply.refused_with(console::api::SIGN_IN_FIRST);
}

/// A webhook belongs to its member: another member's governor neither lists nor removes it (the removal changes
/// nothing and says so), while its own member's governor does both.
#[tokio::test]
async fn a_webhook_is_listed_and_removed_only_by_its_own_member() {
    let console = console().await;
    let m0 = console.sign_in("m0-gov", ip(1)).await;
    let m1 = console.sign_in("m1-gov", ip(2)).await;
    let id: i64 = add_webhook(&console, &m0, "http://93.184.215.14/m0-hook").await.json();
    let _: i64 = add_webhook(&console, &m1, "http://93.184.215.14/m1-hook").await.json();

    let seen_by_m1 = listed_webhooks(&console, &m1).await;
    assert!(seen_by_m1.iter().all(|h| h.member == "m1"), "m1's governor sees another member's webhook: {seen_by_m1:?}");
    assert_eq!(seen_by_m1.len(), 1);
    let removed: bool =
        console.call::<console::api::RemoveWebhook>(&[("id", &id.to_string())], Some(&m1), ip(2)).await.json();
    assert!(!removed, "m1's governor removed m0's webhook");
    let seen_by_m0 = listed_webhooks(&console, &m0).await;
    assert_eq!(seen_by_m0.iter().map(|h| h.id).collect::<Vec<_>>(), vec![id], "m0's webhook is gone or m1's shows");

    let removed: bool =
        console.call::<console::api::RemoveWebhook>(&[("id", &id.to_string())], Some(&m0), ip(1)).await.json();
    assert!(removed);
    assert!(listed_webhooks(&console, &m0).await.is_empty());
}

/// A webhook may not target loopback, private, link-local, shared or unspecified addresses, however written, nor a
/// name that resolves to one; a public address passes, and an address the operator allowed (`--webhook-allow`)
/// passes too.
#[tokio::test]
async fn a_webhook_cannot_target_internal_addresses_unless_the_operator_allows_them() {
    let console = console().await;
    let cookie = console.sign_in("m0-gov", ip(1)).await;
    for internal in [
        "http://127.0.0.1:9/hook",
        "http://127.1/hook",
        "http://0x7f.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.0.1/hook",
        "http://100.64.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://localhost:9/hook",
    ] {
        add_webhook(&console, &cookie, internal).await.refused_with("not a public address");
    }
    add_webhook(&console, &cookie, "http://user:secret@93.184.215.14/hook").await.refused_with("credentials");
    assert!(listed_webhooks(&console, &cookie).await.is_empty(), "a refused webhook was stored");
    let _: i64 = add_webhook(&console, &cookie, "https://93.184.215.14/hook").await.json();

    let allowed = console_with(ORIGIN, loopback_webhooks()).await;
    let cookie = allowed.sign_in("m0-gov", ip(1)).await;
    let _: i64 = add_webhook(&allowed, &cookie, "http://127.0.0.1:9/hook").await.json();
    let _: i64 = add_webhook(&allowed, &cookie, "http://localhost:9/hook").await.json();
    add_webhook(&allowed, &cookie, "http://10.1.2.3/hook").await.refused_with("not a public address");
}

/// Delivery checks the address it connects to, not the one seen at registration: a stored webhook whose name now
/// resolves to loopback (as after DNS rebinding), or whose URL names loopback, receives nothing and the attempt
/// counts as failed; with loopback allowed by the operator the same webhooks are delivered to.
#[tokio::test]
async fn delivery_refuses_a_target_that_resolves_to_an_internal_address() {
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let receiver = Router::new().route(
        "/hook",
        axum::routing::post({
            let received = Arc::clone(&received);
            move || async move {
                received.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    tokio::spawn(async move { axum::serve(listener, receiver).await.ok() });
    let open = MirroredProposal {
        id: format!("{:064x}", 9),
        title: "proposal 9".to_owned(),
        status: ProposalState::Pending,
        proposer: "m1-gov".to_owned(),
        kinds: vec!["admit_member".to_owned()],
        submitted_height: 9,
        expires_at: HEIGHT + 100,
        approved_weight: 1,
        required_weight: 3,
        updated_height: HEIGHT,
        detail: "[]".to_owned(),
    };
    let events = vec!["needs_approval".to_owned()];
    for (access, delivered) in [(Access::default(), 0), (loopback_webhooks(), 2)] {
        let console = console_with(ORIGIN, access).await;
        for url in [format!("http://localhost:{port}/hook"), format!("http://127.0.0.1:{port}/hook")] {
            console.state.db.add_webhook(&url, &events, "m0", 1).await.expect("stored as if registered earlier");
        }
        console.state.db.upsert_proposal(&open).await.expect("the proposal is mirrored");
        let client = webhooks::client(&console.state.access.webhooks).expect("a client");
        let acknowledged = webhooks::dispatch_once(&console.state, &client, 10).await.expect("a pass");
        assert_eq!(acknowledged, delivered);
        assert_eq!(received.swap(0, std::sync::atomic::Ordering::SeqCst), delivered, "the receiver's count");
        for hook in console.state.db.list_webhooks().await.expect("the hooks") {
            let attempt = console.state.db.delivery(hook.id, "needs_approval", &open.id).await.expect("read");
            assert_eq!(attempt.map(|a| a.attempts), Some(1), "{} was not attempted once", hook.url);
        }
    }
}

/// Marking a draft submitted is a write: a read-only auditor and another account (of the same member or another)
/// are refused and the draft stays a draft; its author's mark is stored and audited.
#[tokio::test]
async fn only_a_drafts_author_marks_it_submitted_and_the_mark_is_audited() {
    let console = console().await;
    let author = console.sign_in("m0-gov", ip(1)).await;
    let freeze = actions_json(&[Action::FreezeAccount { account: testkit::account("m1-ops") }]);
    let id: i64 = console.draft(&author, "Freeze m1-ops", &freeze).await.json();
    let id_text = id.to_string();
    let hash = format!("sha256:{}", "ab".repeat(32));
    let mark = |cookie: String, ip: IpAddr| {
        let console = &console;
        let form = [("id", id_text.clone()), ("tx_hash", hash.clone())];
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            console.call::<console::api::MarkDraftSubmitted>(&form, Some(&cookie), ip).await
        }
    };
    for (label, why) in [
        ("m0-auditor", "your account may only read"),
        ("m0-compliance", "only its author"),
        ("m1-gov", "only its author"),
    ] {
        let cookie = console.sign_in(label, ip(2)).await;
        mark(cookie, ip(2)).await.refused_with(why);
        assert_eq!(console.drafts(&author).await.len(), 1, "{label} took the draft out of the open drafts");
    }
    console
        .call::<console::api::MarkDraftSubmitted>(&[("id", &id_text), ("tx_hash", &hash)], None, ip(3))
        .await
        .refused_with("sign in first");

    let _: () = mark(author.clone(), ip(1)).await.json();
    assert!(console.drafts(&author).await.is_empty(), "the author's mark did not take");
    let rows = audit_rows(&console, &author, "", "draft_submitted").await.rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].actor, "m0-gov");
    assert!(rows[0].detail.contains(&hash), "{}", rows[0].detail);
}

/// Without a session the chain's tables, accounts, snapshot, proposals and the node URLs are refused, while the
/// sign-in page, the overview's shell and the bundle still load; with `--public-read` a visitor reads the chain
/// but still not the node URLs, which a signed-in user sees.
#[tokio::test]
async fn chain_data_needs_a_session_unless_the_console_serves_public_reads() {
    let mut chain = snapshot();
    chain.node_health = vec![console::model::NodeHealth {
        url: "http://10.9.8.7:7070".to_owned(),
        ok: true,
        height: Some(Height(HEIGHT)),
        error: None,
    }];
    for access in [Access::default(), Access { public_read: true, ..Access::default() }] {
        let public = access.public_read;
        let console = console_with(ORIGIN, access).await;
        console.publish.send_replace(Arc::new(chain.clone()));
        let pkg = console.dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).expect("the site's pkg directory");
        std::fs::write(pkg.join("console.js"), b"placeholder glue").expect("the glue");
        std::fs::write(pkg.join("console_bg.wasm"), b"placeholder wasm").expect("the wasm");

        let proposal = format!("sha256:{}", "00".repeat(32));
        let reads = [
            (console::api::ChainTables::PATH, vec![]),
            (console::api::Accounts::PATH, vec![("query", ""), ("limit", "10")]),
            (console::api::ChainSnapshot::PATH, vec![]),
            (console::api::ListProposals::PATH, vec![("status", ""), ("kind", ""), ("text", ""), ("after", "")]),
            (console::api::OverviewExtras::PATH, vec![]),
        ];
        for (path, form) in &reads {
            let origin = console.state.origin.clone();
            let call = Call {
                method: Method::POST,
                path,
                form,
                cookie: None,
                from: Sent::Origin(&origin),
                ip: ip(9),
                forwarded: None,
            };
            let reply = console.send(call).await;
            if public {
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{path} refused a visitor of a public console: {}",
                    reply.body
                );
                assert!(!reply.body.contains("10.9.8.7"), "{path} shows a visitor the node URL: {}", reply.body);
            } else {
                reply.refused_with("sign in first");
            }
        }
        if !public {
            console
                .call::<console::api::ProposalDetail>(&[("id", &proposal)], None, ip(9))
                .await
                .refused_with("sign in first");
        }
        for page in ["/login", "/", "/pkg/console.js", "/pkg/console_bg.wasm", "/assets/console.css"] {
            let reply = console.get(page, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{page} does not load without a session: {}", reply.body);
        }

        let cookie = console.sign_in("m0-auditor", ip(10)).await;
        let _: console::api::Tables =
            console.call::<console::api::ChainTables>(&[], Some(&cookie), ip(10)).await.json();
        let extras: console::api::Extras =
            console.call::<console::api::OverviewExtras>(&[], Some(&cookie), ip(10)).await.json();
        assert_eq!(extras.node_health.len(), 1, "a signed-in auditor does not see the node's health");
    }
}

/// The live stream tells a visitor of a console without public reads only that a block came, never what it held;
/// a signed-in session hears the block's height and proposals.
#[tokio::test]
async fn the_live_stream_tells_only_readers_what_a_block_held() {
    use futures_util::StreamExt as _;
    let console = console().await;
    let cookie = console.sign_in("m0-gov", ip(1)).await;
    let proposal = ProposalId(Digest::sha256(&[b"a touched proposal"]));
    for (who, cookie) in [("a visitor", None), ("a governor", Some(cookie.as_str()))] {
        let mut request = Request::builder().uri("/live");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"));
        }
        let mut request = request.body(Body::empty()).expect("a request");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip(5), 40_000)));
        let response = console.app.clone().oneshot(request).await.expect("the router answers");
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body().into_data_stream();
        let event = console::model::LiveEvent {
            height: Height(HEIGHT + 1),
            hash: governance_contracts::ids::BlockHash(Digest::sha256(&[b"block"])),
            time_ms: 1,
            proposals_touched: vec![proposal],
            receipts: Vec::new(),
            events: Vec::new(),
        };
        console.state.live.send(event).expect("the stream listens");
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .expect("a frame")
            .expect("the frame reads");
        let text = String::from_utf8_lossy(&frame).into_owned();
        assert!(text.contains("event: block"), "{who}: {text}");
        let data = text.lines().find_map(|line| line.strip_prefix("data:")).map(str::trim).unwrap_or_default();
        assert!(!data.is_empty(), "{who} got an event with no data, which a browser drops: {text:?}");
        let told = text.contains(&proposal.to_string()) || text.contains(&(HEIGHT + 1).to_string());
        assert_eq!(told, cookie.is_some(), "{who} was told {text:?}");
    }
}

/// A session ends once the chain's current key for its account is another (rotated, or replaced after a
/// compromise) and the end is audited; putting the old key back does not revive it. A compromise that leaves the
/// account without a key ends its sessions too.
#[tokio::test]
async fn a_session_ends_when_its_accounts_key_changes_on_chain() {
    let console = console().await;
    let governor = console.sign_in("m0-gov", ip(1)).await;
    let other = console.sign_in("m0-compliance", ip(2)).await;
    let witness = console.sign_in("m1-gov", ip(3)).await;
    assert!(console.whoami(Some(&governor)).await.identity.is_some());

    let with_key = |label: &str, key: Option<governance_contracts::crypto::PublicKey>| {
        let mut chain = snapshot();
        for holder in chain.accounts.iter_mut().filter(|a| a.id == testkit::account(label)) {
            holder.record.key = key;
        }
        Arc::new(chain)
    };
    console.publish.send_replace(with_key("m0-gov", Some(testkit::public("m0-gov-replacement"))));
    assert!(console.whoami(Some(&governor)).await.identity.is_none(), "the session outlived its key");
    let freeze = actions_json(&[Action::FreezeAccount { account: testkit::account("m1-ops") }]);
    console.draft(&governor, "Freeze", &freeze).await.refused_with("sign in first");
    assert!(console.whoami(Some(&other)).await.identity.is_some(), "another account's session ended");

    console.publish.send_replace(Arc::new(snapshot()));
    assert!(console.whoami(Some(&governor)).await.identity.is_none(), "the ended session came back with the key");

    console.publish.send_replace(with_key("m0-compliance", None));
    assert!(console.whoami(Some(&other)).await.identity.is_none(), "a session outlived its revoked key");

    console.publish.send_replace(Arc::new(snapshot()));
    let ended = audit_rows(&console, &witness, "", "session_ended").await.rows;
    let mut actors: Vec<&str> = ended.iter().map(|r| r.actor.as_str()).collect();
    actors.sort_unstable();
    assert_eq!(actors, vec!["m0-compliance", "m0-gov"], "{ended:?}");
}

/// A refused sign-in names no account as its actor: it is recorded as `anonymous` from the client's address, the
/// account the challenge named only as unverified detail; and one client writes at most a few such rows.
#[tokio::test]
async fn refused_sign_ins_are_recorded_as_anonymous_and_bounded_per_client() {
    let console = console().await;
    let attacker = ip(66);
    let mut refusals = 0;
    loop {
        let key = testkit::public("m0-gov").to_string();
        let offer = console.call::<console::api::BeginLogin>(&[("public_key", &key)], None, attacker).await;
        if offer.status != StatusCode::OK {
            offer.refused_with("too many sign-in attempts");
            break;
        }
        let hex = offer.json::<LoginOffer>().challenge_hex;
        let reply = console.finish(&hex, "m1-gov", None, attacker).await;
        if reply.body.contains("too many sign-in attempts") {
            break;
        }
        reply.refused_with("the signature does not match");
        refusals += 1;
    }
    assert!(refusals > REFUSALS_RECORDED_BURST, "only {refusals} refusals before the rate limit");

    let auditor = console.sign_in("m0-auditor", ip(67)).await;
    let named = audit_rows(&console, &auditor, "m0-gov", "").await.rows;
    assert!(named.is_empty(), "an unauthenticated client wrote rows naming m0-gov: {named:?}");
    let refused = audit_rows(&console, &auditor, "", "sign_in_refused").await.rows;
    assert_eq!(refused.len(), usize::try_from(REFUSALS_RECORDED_BURST).expect("small"), "{refused:?}");
    for row in &refused {
        assert_eq!(row.actor, "anonymous");
        assert_eq!(row.subject, attacker.to_string());
        assert!(row.detail.contains("unverified_account"), "{}", row.detail);
    }
}

/// Behind a reverse proxy named with `--trusted-proxy`, the sign-in limit counts each client by the address the
/// proxy forwarded (the right-most untrusted one, whatever the client wrote to its left), so one client's attempts
/// do not lock out another; a peer that is not a trusted proxy is counted by its own address, whatever it forwards.
#[tokio::test]
async fn the_sign_in_limit_counts_clients_behind_a_trusted_proxy_separately() {
    let access = Access { trusted_proxies: vec![cidr("10.0.0.1")], ..Access::default() };
    let console = console_with(ORIGIN, access).await;
    let key = testkit::public("m0-gov").to_string();
    let form = [("public_key", key.as_str())];
    let origin = console.state.origin.clone();
    let begin = |peer: IpAddr, forwarded: &'static str| {
        let console = &console;
        let origin = origin.clone();
        async move {
            let call = Call {
                method: Method::POST,
                path: console::api::BeginLogin::PATH,
                form: &form,
                cookie: None,
                from: Sent::Origin(&origin),
                ip: peer,
                forwarded: Some(forwarded),
            };
            console.send(call).await
        }
    };
    let proxy = ip(1);
    for attempt in 1..=10 {
        let reply = begin(proxy, "198.51.100.7").await;
        assert_eq!(reply.status, StatusCode::OK, "attempt {attempt} was refused: {}", reply.body);
    }
    begin(proxy, "198.51.100.7").await.refused_with("too many sign-in attempts");
    begin(proxy, "6.6.6.6, 198.51.100.7").await.refused_with("too many sign-in attempts");
    let other = begin(proxy, "198.51.100.8").await;
    assert_eq!(other.status, StatusCode::OK, "another client behind the proxy was locked out: {}", other.body);

    let stranger = ip(2);
    for _ in 1..=10 {
        let _: LoginOffer = begin(stranger, "198.51.100.20").await.json();
    }
    begin(stranger, "198.51.100.21").await.refused_with("too many sign-in attempts");
}

/// The audit exports answer only a session whose account still holds a role the console serves, as the server
/// functions do: once the account is frozen on chain its session, still valid, exports nothing.
#[tokio::test]
async fn an_export_needs_an_account_that_still_holds_a_role() {
    let console = console().await;
    let cookie = console.sign_in("m0-auditor", ip(1)).await;
    for path in ["/audit/export.csv", "/audit/export.json"] {
        assert_eq!(console.get(path, Some(&cookie)).await.status, StatusCode::OK, "{path}");
    }
    let mut frozen = snapshot();
    for holder in frozen.accounts.iter_mut().filter(|a| a.id == testkit::account("m0-auditor")) {
        holder.record.frozen = true;
    }
    console.publish.send_replace(Arc::new(frozen));
    for path in ["/audit/export.csv", "/audit/export.json"] {
        let reply = console.get(path, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} answered a frozen account: {}", reply.body);
    }
}
