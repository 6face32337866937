//! The console's client of the node API: typed reads of the governance state and the chain, transaction
//! submission, long polls, proofs and the event stream, over the `--node` URLs with fail-over. Every query it
//! sends and every answer it decodes is a type of `api_types`, the crate the node's handlers answer with, so the
//! client and the node cannot disagree on a name, a shape or a bound.
//!
//! - **URLs** are plain `http://host:port[/prefix]` (the console is built without TLS; put it beside its nodes),
//!   checked once at start with a clear error.
//! - **Fail-over**: a request goes first to the URL that last answered, then to the others in the order given. A
//!   node that cannot be reached, times out, fails (5xx), sends an answer that does not decode, or serves another
//!   chain is passed over; if none serves, the error is [`NodeError::Unreachable`] with each URL's reason. A node
//!   that refuses the request itself (4xx: a malformed body, a rejected transaction, an unknown id) answers for all:
//!   that is [`NodeError::Refused`] with the node's code, message and, for a transaction, the contracts' named
//!   rejection.
//! - **The pinned chain**: once [`NodeClient::with_chain`] pins the chain identity (from the genesis file), a URL is
//!   used only after its `/v1/status` shows that chain id and genesis hash. A node of another chain is refused and
//!   re-checked at most every [`FOREIGN_RECHECK`].
//! - **Bounds**: connections time out after [`CONNECT_TIMEOUT`], requests after [`REQUEST_TIMEOUT`] (long polls
//!   after their wait plus that), silent reads after [`READ_TIMEOUT`]; an answer larger than
//!   [`MAX_RESPONSE_BYTES`], an event larger than [`MAX_EVENT_BYTES`] or a list longer than [`MAX_LIST_ITEMS`] is
//!   refused.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::{
    AccountList, BlockQuery, ChainEvent, ErrorBody, EvidenceList, EvidenceQuery, Lagged, Listing, MemberList, NodeList,
    Page, PolicyAnswer, ProposalList, ProposalQuery, Submitted, WaitQuery,
};
pub use api_types::{
    BlockBody, BlockList as BlockPage, DryRun, ProofKind, ProposalDetail, ProposalEntry, ProposalReceipt,
    ProposalStatusName as ProposalFilter, RolesAnswer, TransactionBody,
};
use eventsource_stream::Eventsource as _;
use futures_util::{Stream, StreamExt as _};
use governance_contracts::codec::encode;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::error::Rejection;
use governance_contracts::ids::{BlockHash, Height, ProposalId, TxHash};
use governance_contracts::types::{ChainParams, Event, Proposal};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Account, EvidenceSummary, Member, Node, NodeHealth, NodeStatus, PolicyRule, TxOutcome};

/// How long opening a connection to a node may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one request may take, from sending to the last byte of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a connection may stay silent (longer than the node's 15 s keep-alive on its event stream).
pub const READ_TIMEOUT: Duration = Duration::from_secs(45);
/// The longest wait a long poll asks for (the node's own limit).
pub const MAX_WAIT: Duration = Duration::from_millis(api_types::MAX_WAIT_MS);
/// The largest answer read from a node.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The largest single event read from a node's event stream.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;
/// The most items a paged list (members, nodes, accounts) may hold in all.
pub const MAX_LIST_ITEMS: usize = 200_000;
/// The page size used to read paged lists (the node's largest).
pub const PAGE: usize = api_types::MAX_PAGE as usize;
/// The most blocks one `/v1/blocks` page holds (the node's limit).
pub const MAX_BLOCK_PAGE: usize = api_types::MAX_BLOCK_PAGE as usize;
/// The largest signed transaction relayed, in canonical bytes (the node's body limit is 8 MiB of JSON).
pub const MAX_TX_BYTES: usize = 4 * 1024 * 1024;
/// The most `--node` URLs.
pub const MAX_URLS: usize = 16;
/// How long a node found serving another chain is passed over before it is checked again.
pub const FOREIGN_RECHECK: Duration = Duration::from_secs(30);
/// The most characters of a node's error message kept.
const MAX_MESSAGE_CHARS: usize = 500;

/// Why one URL did not serve a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection, or the connection broke.
    Connect(String),
    /// No answer in time.
    Timeout,
    /// The node answered with a server error (5xx).
    Server {
        /// The HTTP status.
        status: u16,
        /// The node's error code (`unavailable`, `mempool_full`, `internal`, ...).
        code: String,
        /// The node's message.
        message: String,
    },
    /// The node serves another chain than the pinned one.
    WrongChain {
        /// The chain id it reports.
        chain_id: String,
        /// The genesis hash it reports.
        genesis_hash: String,
    },
    /// The answer does not decode, or is too large.
    BadAnswer(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(reason) => write!(f, "unreachable: {reason}"),
            Self::Timeout => write!(f, "no answer in time"),
            Self::Server { status, code, message } => write!(f, "failed ({status} {code}): {message}"),
            Self::WrongChain { chain_id, genesis_hash } => {
                write!(f, "serves another chain ({chain_id}, genesis {genesis_hash}): refused")
            }
            Self::BadAnswer(detail) => write!(f, "sent an answer that cannot be read: {detail}"),
        }
    }
}

/// One URL tried and why it did not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The node URL.
    pub url: String,
    /// What went wrong.
    pub failure: Failure,
}

/// A request a node answered with a refusal (4xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The node URL.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The node's stable error code (`bad_request`, `not_found`, `malformed`, `rejected`, ...).
    pub code: String,
    /// The node's message, for a person.
    pub message: String,
    /// For a rejected transaction: the contracts' rejection name (`unknown_account`, `bad_signature`, ...).
    pub rejection: Option<String>,
    /// For a rejected transaction: the rejection with its fields.
    pub reason: Option<Rejection>,
}

/// Why a request to the chain failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// A `--node` URL is not usable.
    #[error("node URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No node could serve the request.
    #[error("no node could serve the request: {}", describe(attempts))]
    Unreachable {
        /// Each URL tried and why it did not serve.
        attempts: Vec<Attempt>,
    },
    /// A node refused the request.
    #[error("{} refused the request ({} {}): {}", .0.url, .0.status, .0.code, .0.message)]
    Refused(Box<Refusal>),
    /// The request was not sent: what the caller gave is not valid.
    #[error("{0}")]
    InvalidInput(String),
}

fn describe(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no node URL to try".to_owned();
    }
    attempts.iter().map(|a| format!("{} {}", a.url, a.failure)).collect::<Vec<_>>().join("; ")
}

impl NodeError {
    /// The refusal, if a node refused the request.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// The contracts' rejection name, if a node rejected a transaction.
    pub fn rejection(&self) -> Option<&str> {
        self.refusal().and_then(|refusal| refusal.rejection.as_deref())
    }

    /// Whether no node could be reached (as opposed to a node refusing).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// `{code, message}` of an error answer; a body that is not the node's JSON is quoted, shortened.
fn error_body(status: StatusCode, bytes: &[u8]) -> ErrorBody {
    serde_json::from_slice(bytes).unwrap_or_else(|_| ErrorBody {
        code: format!("http_{}", status.as_u16()),
        message: String::from_utf8_lossy(bytes).chars().take(MAX_MESSAGE_CHARS).collect(),
        rejection: None,
        reason: None,
    })
}

/// A block the node finalised, as its event stream announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalizedBlock {
    /// Its height.
    pub height: Height,
    /// Its hash.
    pub hash: BlockHash,
    /// Its time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Its transactions with their outcomes.
    pub transactions: Vec<TxOutcome>,
    /// The governance events of its receipts.
    pub events: Vec<Event>,
}

impl From<ChainEvent> for FinalizedBlock {
    fn from(event: ChainEvent) -> Self {
        let ChainEvent::Finalized { height, hash, time_ms, transactions, events } = event;
        Self { height, hash, time_ms, transactions, events }
    }
}

/// One item of a node's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// A block was finalised.
    Finalized(Box<FinalizedBlock>),
    /// The console fell behind and missed this many blocks; the stream goes on from the newest.
    Lagged {
        /// Blocks missed.
        missed: u64,
    },
}

type EventItems = Pin<Box<dyn Stream<Item = Result<eventsource_stream::Event, String>> + Send>>;

/// A node's live event stream (`GET /v1/events`).
pub struct EventStream {
    url: String,
    events: EventItems,
    /// Bytes read since the last complete event.
    pending: Arc<AtomicUsize>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").field("url", &self.url).finish_non_exhaustive()
    }
}

impl EventStream {
    /// The node it comes from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next block or lag notice; `None` when the node ended the stream, an error when it broke or sent
    /// something unreadable (the stream is then over: reconnect).
    pub async fn next(&mut self) -> Option<Result<StreamItem, Attempt>> {
        loop {
            let event = match self.events.next().await? {
                Ok(event) => event,
                Err(detail) => {
                    return Some(Err(Attempt { url: self.url.clone(), failure: Failure::Connect(detail) }));
                }
            };
            self.pending.store(0, Ordering::Relaxed);
            let bad =
                |detail: String| Some(Err(Attempt { url: self.url.clone(), failure: Failure::BadAnswer(detail) }));
            match event.event.as_str() {
                ChainEvent::EVENT => match serde_json::from_str::<ChainEvent>(&event.data) {
                    Ok(chain) => return Some(Ok(StreamItem::Finalized(Box::new(chain.into())))),
                    Err(e) => return bad(format!("a finalized event that does not decode: {e}")),
                },
                Lagged::EVENT => match serde_json::from_str::<Lagged>(&event.data) {
                    Ok(lagged) => return Some(Ok(StreamItem::Lagged { missed: lagged.missed })),
                    Err(e) => return bad(format!("a lagged event that does not decode: {e}")),
                },
                // Event kinds this console does not know are skipped.
                _ => {}
            }
        }
    }
}

/// Whether a URL was found to serve the pinned chain.
#[derive(Debug, Clone)]
enum Verification {
    /// Not checked yet (or a check could not reach it).
    Unknown,
    /// Serves the pinned chain.
    Verified,
    /// Serves another chain, as found at that moment.
    Foreign(Failure, tokio::time::Instant),
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    urls: Vec<Url>,
    chain: Option<ChainIdentity>,
    /// The index of the URL that last served.
    preferred: AtomicUsize,
    verification: Mutex<Vec<Verification>>,
}

/// A client of the node API over one or more node URLs with fail-over. Cheap to clone (clones share which URL
/// answered last).
#[derive(Debug, Clone)]
pub struct NodeClient {
    inner: Arc<Inner>,
}

/// Checks one `--node` URL: `http`, a host, no credentials, query or fragment.
fn parse_url(text: &str) -> Result<Url, NodeError> {
    let invalid = |reason: &str| NodeError::InvalidUrl { url: text.to_owned(), reason: reason.to_owned() };
    let url = Url::parse(text.trim()).map_err(|e| invalid(&format!("not a URL ({e}); use http://host:port")))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(invalid(
                "https is not supported: the console talks plain http to nodes it runs beside (use http://)",
            ));
        }
        other => return Err(invalid(&format!("scheme {other:?} is not supported; use http://host:port"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not supported"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a query or fragment is not supported"));
    }
    Ok(url)
}

/// The URL of `path` (each segment escaped) under `base`.
fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    // `http` URLs with a host always have path segments.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Reads a body of at most `max` bytes.
async fn read_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let too_large = || Failure::BadAnswer(format!("the answer exceeds {max} bytes"));
    if response.content_length().is_some_and(|length| length > u64::try_from(max).unwrap_or(u64::MAX)) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport error as a failure.
fn transport(error: reqwest::Error) -> Failure {
    if error.is_timeout() {
        Failure::Timeout
    } else {
        // The innermost cause says most ("connection refused").
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        Failure::Connect(detail)
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(bytes).map_err(|e| Failure::BadAnswer(e.to_string()))
}

/// What one request sends.
struct Request<'a> {
    method: Method,
    path: &'a [&'a str],
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    timeout: Duration,
    /// Statuses besides 2xx that are answers, not refusals (408 for a long poll, 404 for a lookup).
    answers: &'a [StatusCode],
}

impl<'a> Request<'a> {
    fn get(path: &'a [&'a str]) -> Self {
        Self { method: Method::GET, path, query: Vec::new(), body: None, timeout: REQUEST_TIMEOUT, answers: &[] }
    }
}

impl NodeClient {
    /// A client of the nodes at `urls`, tried in this order. Each must be `http://host:port` (optionally with a
    /// path prefix); at least one, at most [`MAX_URLS`].
    pub fn new(urls: Vec<String>) -> Result<Self, NodeError> {
        if urls.is_empty() {
            return Err(NodeError::InvalidUrl { url: String::new(), reason: "give at least one node URL".into() });
        }
        if urls.len() > MAX_URLS {
            return Err(NodeError::InvalidUrl { url: urls.join(" "), reason: format!("at most {MAX_URLS} node URLs") });
        }
        let urls = urls.iter().map(|url| parse_url(url)).collect::<Result<Vec<_>, _>>()?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // Nodes sit beside the console: never route to them through a proxy from the environment.
            .no_proxy()
            .build()
            .map_err(|e| NodeError::InvalidInput(format!("cannot build the HTTP client: {e}")))?;
        let verification = Mutex::new(vec![Verification::Unknown; urls.len()]);
        Ok(Self { inner: Arc::new(Inner { http, urls, chain: None, preferred: AtomicUsize::new(0), verification }) })
    }

    /// The same URLs, used only once each shows it serves `chain` (the identity pinned from the genesis file).
    pub fn with_chain(&self, chain: ChainIdentity) -> Self {
        let count = self.inner.urls.len();
        Self {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                urls: self.inner.urls.clone(),
                chain: Some(chain),
                preferred: AtomicUsize::new(self.inner.preferred.load(Ordering::Relaxed)),
                verification: Mutex::new(vec![Verification::Unknown; count]),
            }),
        }
    }

    /// The pinned chain, if any.
    pub fn chain(&self) -> Option<&ChainIdentity> {
        self.inner.chain.as_ref()
    }

    /// The node URLs, in the order given.
    pub fn urls(&self) -> Vec<String> {
        self.inner.urls.iter().map(|url| url.as_str().trim_end_matches('/').to_owned()).collect()
    }

    /// The URL tried first: the one that last served.
    pub fn current_url(&self) -> String {
        let index = self.inner.preferred.load(Ordering::Relaxed);
        self.urls().get(index).cloned().unwrap_or_default()
    }

    /// The URL indexes in the order to try: the one that last served, then the others as given.
    fn order(&self) -> Vec<usize> {
        let preferred = self.inner.preferred.load(Ordering::Relaxed);
        std::iter::once(preferred).chain((0..self.inner.urls.len()).filter(|i| *i != preferred)).collect()
    }

    fn display(&self, index: usize) -> String {
        self.urls().get(index).cloned().unwrap_or_default()
    }

    fn verification(&self) -> std::sync::MutexGuard<'_, Vec<Verification>> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.inner.verification.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_verification(&self, index: usize, state: Verification) {
        if let Some(slot) = self.verification().get_mut(index) {
            *slot = state;
        }
    }

    /// Sends one request to URL `index` and reads the whole answer.
    async fn send_once(&self, index: usize, request: &Request<'_>) -> Result<(StatusCode, Vec<u8>), Failure> {
        let base = self.inner.urls.get(index).ok_or_else(|| Failure::Connect("no such URL".into()))?;
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), join(base, request.path))
            .timeout(request.timeout)
            .query(&request.query);
        if let Some(body) = &request.body {
            builder = builder.header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(body.clone());
        }
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let body = read_body(response, MAX_RESPONSE_BYTES).await?;
        Ok((status, body))
    }

    /// The status of URL `index`, and whether it serves the pinned chain (recorded for fail-over).
    async fn status_at(&self, index: usize) -> Result<NodeStatus, Failure> {
        let (status, body) = self.send_once(index, &Request::get(&["v1", "status"])).await?;
        if !status.is_success() {
            let error = error_body(status, &body);
            return Err(Failure::Server { status: status.as_u16(), code: error.code, message: error.message });
        }
        let answer: NodeStatus = decode(&body)?;
        if let Some(chain) = &self.inner.chain {
            if answer.is_chain(chain) {
                self.set_verification(index, Verification::Verified);
            } else {
                let failure = Failure::WrongChain {
                    chain_id: answer.chain_id.clone(),
                    genesis_hash: answer.genesis_hash.to_string(),
                };
                tracing::warn!(url = %self.display(index), %failure, "refusing a node of another chain");
                self.set_verification(index, Verification::Foreign(failure.clone(), tokio::time::Instant::now()));
                return Err(failure);
            }
        }
        Ok(answer)
    }

    /// Checks URL `index` serves the pinned chain before it is used.
    async fn check_chain(&self, index: usize) -> Result<(), Failure> {
        if self.inner.chain.is_none() {
            return Ok(());
        }
        let state = self.verification().get(index).cloned().unwrap_or(Verification::Unknown);
        match state {
            Verification::Verified => Ok(()),
            Verification::Foreign(failure, at) if at.elapsed() < FOREIGN_RECHECK => Err(failure),
            Verification::Foreign(..) | Verification::Unknown => self.status_at(index).await.map(|_| ()),
        }
    }

    /// Sends `request` with fail-over; answers the status and body of the node that served.
    async fn call(&self, request: Request<'_>) -> Result<(StatusCode, Vec<u8>), NodeError> {
        let mut attempts = Vec::new();
        for index in self.order() {
            let url = self.display(index);
            if let Err(failure) = self.check_chain(index).await {
                attempts.push(Attempt { url, failure });
                continue;
            }
            match self.send_once(index, &request).await {
                Ok((status, body)) if status.is_success() || request.answers.contains(&status) => {
                    self.inner.preferred.store(index, Ordering::Relaxed);
                    return Ok((status, body));
                }
                Ok((status, body)) if status.is_client_error() => {
                    self.inner.preferred.store(index, Ordering::Relaxed);
                    let error = error_body(status, &body);
                    return Err(NodeError::Refused(Box::new(Refusal {
                        url,
                        status: status.as_u16(),
                        code: error.code,
                        message: error.message,
                        rejection: error.rejection,
                        reason: error.reason,
                    })));
                }
                Ok((status, body)) => {
                    let error = error_body(status, &body);
                    let failure = Failure::Server { status: status.as_u16(), code: error.code, message: error.message };
                    attempts.push(Attempt { url, failure });
                }
                Err(failure) => attempts.push(Attempt { url, failure }),
            }
        }
        Err(NodeError::Unreachable { attempts })
    }

    /// Sends `request` with fail-over and decodes the 2xx answer as `T`; an answer that does not decode is the
    /// serving node's failure, reported as unreachable with its reason.
    async fn get_json<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, NodeError> {
        let (_, body) = self.call(request).await?;
        decode(&body)
            .map_err(|failure| NodeError::Unreachable { attempts: vec![Attempt { url: self.current_url(), failure }] })
    }

    /// Reads every page of a list keyed by id (`limit` and `after`, following each answer's `next_after`).
    async fn list_all<L: Listing + DeserializeOwned>(
        &self,
        path: &[&str],
        what: &str,
    ) -> Result<Vec<L::Item>, NodeError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut request = Request::get(path);
            request.query = Page { limit: Some(api_types::MAX_PAGE), after: after.clone() }.pairs();
            let (items, next) = self.get_json::<L>(request).await?.into_page();
            all.extend(items);
            if all.len() > MAX_LIST_ITEMS {
                return Err(NodeError::Unreachable {
                    attempts: vec![Attempt {
                        url: self.current_url(),
                        failure: Failure::BadAnswer(format!("the {what} list exceeds {MAX_LIST_ITEMS} items")),
                    }],
                });
            }
            match next {
                Some(next) if after.as_deref() != Some(next.as_str()) => after = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// `GET /v1/status` of the node that serves.
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        self.get_json(Request::get(&["v1", "status"])).await
    }

    /// Every `--node` URL's status, checked at once: whether it answers and serves the pinned chain, and its
    /// height. Records what it finds for fail-over.
    pub async fn health(&self) -> Vec<NodeHealth> {
        let checks = (0..self.inner.urls.len()).map(|index| async move {
            let url = self.display(index);
            match self.status_at(index).await {
                Ok(status) => NodeHealth { url, ok: true, height: Some(status.height), error: None },
                Err(failure) => NodeHealth { url, ok: false, height: None, error: Some(failure.to_string()) },
            }
        });
        futures_util::future::join_all(checks).await
    }

    /// Every member organisation.
    pub async fn members(&self) -> Result<Vec<Member>, NodeError> {
        self.list_all::<MemberList>(&["v1", "members"], "members").await
    }

    /// Every node.
    pub async fn nodes(&self) -> Result<Vec<Node>, NodeError> {
        self.list_all::<NodeList>(&["v1", "nodes"], "nodes").await
    }

    /// Every account with its grants (all pages).
    pub async fn accounts(&self) -> Result<Vec<Account>, NodeError> {
        self.list_all::<AccountList>(&["v1", "accounts"], "accounts").await
    }

    /// Role definitions and every grant.
    pub async fn roles(&self) -> Result<RolesAnswer, NodeError> {
        self.get_json(Request::get(&["v1", "roles"])).await
    }

    /// The approval rule of each action kind.
    pub async fn policy(&self) -> Result<Vec<PolicyRule>, NodeError> {
        let policy: PolicyAnswer = self.get_json(Request::get(&["v1", "policy"])).await?;
        Ok(policy.rules)
    }

    /// The chain parameters.
    pub async fn params(&self) -> Result<ChainParams, NodeError> {
        self.get_json(Request::get(&["v1", "params"])).await
    }

    /// A page of the proposals still in state, by id, optionally of one status: at most `limit` (1 to 1000), after
    /// the id `after`.
    pub async fn proposals(
        &self,
        status: Option<ProposalFilter>,
        limit: usize,
        after: Option<&ProposalId>,
    ) -> Result<Vec<ProposalEntry>, NodeError> {
        let query = ProposalQuery {
            status,
            limit: Some(u32::try_from(limit).unwrap_or(u32::MAX)),
            after: after.map(ToString::to_string),
        };
        query.page().limit().map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let mut request = Request::get(&["v1", "proposals"]);
        request.query = query.pairs();
        let page: ProposalList = self.get_json(request).await?;
        Ok(page.proposals)
    }

    /// One proposal with its receipts and tally; `None` when the node knows nothing of it.
    pub async fn proposal(&self, id: &ProposalId) -> Result<Option<ProposalDetail>, NodeError> {
        let id = id.to_string();
        let path = ["v1", "proposals", id.as_str()];
        let mut request = Request::get(&path);
        request.answers = &[StatusCode::NOT_FOUND];
        let (status, body) = self.call(request).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        decode(&body)
            .map(Some)
            .map_err(|failure| NodeError::Unreachable { attempts: vec![Attempt { url: self.current_url(), failure }] })
    }

    /// What `proposal` would do if executed in the next block with every approval in place.
    pub async fn dry_run(&self, proposal: &Proposal) -> Result<DryRun, NodeError> {
        let mut request = Request::get(&["v1", "proposals", "dry-run"]);
        request.method = Method::POST;
        request.body = Some(encode(proposal));
        self.get_json(request).await
    }

    /// Committed blocks, latest first: at most `limit` (1 to 100) below height `before` (default: from the
    /// latest).
    pub async fn blocks(&self, before: Option<Height>, limit: usize) -> Result<BlockPage, NodeError> {
        let query = BlockQuery { limit: Some(u32::try_from(limit).unwrap_or(u32::MAX)), before: before.map(|h| h.0) };
        query.limit().map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let mut request = Request::get(&["v1", "blocks"]);
        request.query = query.pairs();
        self.get_json(request).await
    }

    /// Equivocation evidence from height `from` on, at most `limit` (1 to 1000) pieces, oldest first.
    pub async fn evidence(&self, from: Height, limit: usize) -> Result<Vec<EvidenceSummary>, NodeError> {
        let query = EvidenceQuery { from: Some(from.0), limit: Some(u32::try_from(limit).unwrap_or(u32::MAX)) };
        query.limit().map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let mut request = Request::get(&["v1", "evidence"]);
        request.query = query.pairs();
        let list: EvidenceList = self.get_json(request).await?;
        Ok(list.evidence.iter().map(EvidenceSummary::of).collect())
    }

    /// Relays a signed transaction (its canonical bytes as hex) to a node, which admits it to its mempool:
    /// answers its hash, or the node's refusal (for a transaction the contracts refuse, [`NodeError::rejection`]
    /// names the reason).
    pub async fn submit(&self, signed_tx_hex: &str) -> Result<TxHash, NodeError> {
        let hex_text = signed_tx_hex.trim();
        if hex_text.len() > MAX_TX_BYTES.saturating_mul(2) {
            return Err(NodeError::InvalidInput(format!("the transaction exceeds {MAX_TX_BYTES} bytes")));
        }
        let bytes = hex::decode(hex_text)
            .map_err(|e| NodeError::InvalidInput(format!("the transaction is not valid hex: {e}")))?;
        if bytes.is_empty() {
            return Err(NodeError::InvalidInput("the transaction is empty".into()));
        }
        let mut request = Request::get(&["v1", "transactions"]);
        request.method = Method::POST;
        request.body = Some(bytes);
        let submitted: Submitted = self.get_json(request).await?;
        Ok(submitted.tx_hash)
    }

    /// Waits up to `timeout` (at most [`MAX_WAIT`]) for transaction `hash` to be finalised: its body, or `None`
    /// if it was not finalised within the wait.
    pub async fn wait(&self, hash: &TxHash, timeout: Duration) -> Result<Option<TransactionBody>, NodeError> {
        let wait = timeout.min(MAX_WAIT);
        let hash = hash.to_string();
        let path = ["v1", "transactions", hash.as_str(), "wait"];
        let mut request = Request::get(&path);
        request.query =
            WaitQuery { timeout_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(api_types::MAX_WAIT_MS)) }.pairs();
        request.timeout = wait.saturating_add(REQUEST_TIMEOUT);
        request.answers = &[StatusCode::REQUEST_TIMEOUT];
        let (status, body) = self.call(request).await?;
        if status == StatusCode::REQUEST_TIMEOUT {
            return Ok(None);
        }
        decode(&body)
            .map(Some)
            .map_err(|failure| NodeError::Unreachable { attempts: vec![Attempt { url: self.current_url(), failure }] })
    }

    /// The offline-verifiable proof bundle of one record, as the node serves it (what `synod verify-proof` reads).
    /// For a grant, `id` is `ACCOUNT:ROLE`.
    pub async fn proof(&self, kind: ProofKind, id: &str) -> Result<Value, NodeError> {
        if id.is_empty() || id.len() > 200 {
            return Err(NodeError::InvalidInput("a record id has 1 to 200 characters".into()));
        }
        self.get_json(Request::get(&["v1", "proofs", kind.as_str(), id])).await
    }

    /// Opens the event stream of the first node that serves it (fail-over as for every request), and prefers
    /// that node for the reads that follow.
    pub async fn events(&self) -> Result<EventStream, NodeError> {
        let mut attempts = Vec::new();
        for index in self.order() {
            let url = self.display(index);
            if let Err(failure) = self.check_chain(index).await {
                attempts.push(Attempt { url, failure });
                continue;
            }
            let Some(base) = self.inner.urls.get(index) else { continue };
            let sent = self
                .inner
                .http
                .get(join(base, &["v1", "events"]))
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    attempts.push(Attempt { url, failure: transport(error) });
                    continue;
                }
            };
            let status = response.status();
            if !status.is_success() {
                let body = read_body(response, MAX_MESSAGE_CHARS.saturating_mul(8)).await.unwrap_or_default();
                let error = error_body(status, &body);
                let failure = Failure::Server { status: status.as_u16(), code: error.code, message: error.message };
                attempts.push(Attempt { url, failure });
                continue;
            }
            self.inner.preferred.store(index, Ordering::Relaxed);
            let pending = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&pending);
            let bytes = response.bytes_stream().map(move |chunk| {
                let chunk = chunk.map_err(|e| match transport(e) {
                    Failure::Timeout => "the event stream went silent".to_owned(),
                    other => other.to_string(),
                })?;
                let read = counter.fetch_add(chunk.len(), Ordering::Relaxed).saturating_add(chunk.len());
                if read > MAX_EVENT_BYTES {
                    return Err(format!("an event exceeds {MAX_EVENT_BYTES} bytes"));
                }
                Ok(chunk)
            });
            let events = bytes.eventsource().map(|event| event.map_err(|e| e.to_string()));
            return Ok(EventStream { url, events: Box::pin(events), pending });
        }
        Err(NodeError::Unreachable { attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only plain `http` URLs with a host and nothing else are accepted, each refusal saying why.
    #[test]
    fn urls_are_checked() {
        assert!(NodeClient::new(vec!["http://127.0.0.1:7801".into(), "http://node.example/api/".into()]).is_ok());
        for (url, reason) in [
            ("https://127.0.0.1:7801", "https is not supported"),
            ("ftp://127.0.0.1", "scheme"),
            ("127.0.0.1:7801", "not a URL"),
            ("http://user:pw@127.0.0.1:7801", "credentials"),
            ("http://127.0.0.1:7801/?a=b", "query"),
        ] {
            let error = NodeClient::new(vec![url.into()]).expect_err(url).to_string();
            assert!(error.contains(reason), "{url}: {error}");
        }
        assert!(NodeClient::new(Vec::new()).is_err());
        assert!(NodeClient::new(vec!["http://127.0.0.1:1".into(); MAX_URLS + 1]).is_err());
    }

    /// Paths are joined under the URL's own prefix with every segment escaped, so an id cannot change the route.
    #[test]
    fn paths_are_escaped_under_the_prefix() {
        let base = parse_url("http://h:1/api/").expect("valid");
        assert_eq!(join(&base, &["v1", "proofs", "grant", "a:b"]).as_str(), "http://h:1/api/v1/proofs/grant/a:b");
        assert_eq!(join(&base, &["v1", "x/../y?z"]).as_str(), "http://h:1/api/v1/x%2F..%2Fy%3Fz");
        let bare = parse_url("http://h:1").expect("valid");
        assert_eq!(join(&bare, &["v1", "status"]).as_str(), "http://h:1/v1/status");
    }

    /// A node's JSON error keeps its code and rejection name; anything else becomes `http_<status>` with the text
    /// shortened.
    #[test]
    fn error_bodies_are_read() {
        let body = br#"{"code":"rejected","message":"unknown account x","rejection":"unknown_account","reason":{"reason":"unknown_account","account":"x"}}"#;
        let error = error_body(StatusCode::UNPROCESSABLE_ENTITY, body);
        assert_eq!((error.code.as_str(), error.rejection.as_deref()), ("rejected", Some("unknown_account")));
        assert!(matches!(error.reason, Some(Rejection::UnknownAccount { .. })));
        let long = vec![b'x'; 10_000];
        let error = error_body(StatusCode::BAD_GATEWAY, &long);
        assert_eq!(error.code, "http_502");
        assert_eq!(error.message.len(), MAX_MESSAGE_CHARS);
    }

    /// Bad hex, an empty transaction and an oversized one are refused before anything is sent.
    #[tokio::test]
    async fn submit_checks_its_input() {
        let client = NodeClient::new(vec!["http://127.0.0.1:9".into()]).expect("valid");
        for (input, reason) in [("zz", "not valid hex"), ("", "empty"), ("abc", "not valid hex")] {
            let error = client.submit(input).await.expect_err(input);
            assert!(matches!(&error, NodeError::InvalidInput(m) if m.contains(reason)), "{input}: {error}");
        }
        let huge = "00".repeat(MAX_TX_BYTES + 1);
        assert!(matches!(client.submit(&huge).await, Err(NodeError::InvalidInput(_))));
    }
}
