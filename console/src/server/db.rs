//! The console's off-chain workspace in SQLite: drafts, a mirror of on-chain proposals, sessions, login challenges,
//! webhooks and the audit log (whose chain is in [`super::audit`]).
//!
//! Nothing stored here is trusted by the chain: the chain verifies every approval itself. The store exists for this
//! organisation's own work and for fast lists.
//!
//! Rules this module keeps:
//! - The schema lives in `console/migrations/` and is applied by [`Db::open`]; queries are checked at run time, so
//!   building needs no database.
//! - Every list is ordered by an indexed key and paginated by keyset ([`Cursor`]): a deep page costs the same as
//!   the first. Every filter a list offers is served by an index (the tests assert it on SQLite's query plan).
//! - Every value from outside is bounded and checked before it is written; a bad value is a
//!   [`StoreError::Invalid`], never a panic.
//! - The wall clock is never read here: callers pass `now_ms` (milliseconds since the Unix epoch).

use std::{path::Path, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::{
    FromRow, QueryBuilder, Row, Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::i18n::Lang;

/// The most rows one page holds; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The longest proposal, as hex of its canonical bytes (twice the contracts' decoding bound).
pub const MAX_PROPOSAL_HEX_LEN: usize = 2 * governance_contracts::codec::MAX_DECODE_BYTES;
/// The longest title, in bytes of UTF-8.
pub const MAX_TITLE_LEN: usize = 512;
/// The longest account, member or role name (the contracts' bound on names).
pub const MAX_NAME_LEN: usize = governance_contracts::codec::MAX_NAME_LEN;
/// The most distinct action kinds one proposal carries (the contracts' bound on actions).
pub const MAX_KINDS: usize = governance_contracts::types::proposal::MAX_ACTIONS;
/// The longest action kind name.
pub const MAX_KIND_LEN: usize = 64;
/// The largest JSON detail stored with a mirrored proposal, in bytes.
pub const MAX_PROPOSAL_DETAIL_LEN: usize = 256 * 1024;
/// The longest text a title search accepts, in bytes.
pub const MAX_SEARCH_LEN: usize = 128;
/// The longest webhook URL.
pub const MAX_URL_LEN: usize = 2048;
/// The most webhooks one console keeps.
pub const MAX_WEBHOOKS: u32 = 100;
/// The most login challenges that may be outstanding (unexpired) at once.
pub const MAX_LIVE_CHALLENGES: u32 = 10_000;
/// The longest hex string stored as an id, nonce or hash (512 bits).
pub const MAX_HEX_ID_LEN: usize = 128;
/// The longest origin a login challenge is bound to.
pub const MAX_ORIGIN_LEN: usize = 512;
/// The longest CSRF token.
pub const MAX_CSRF_LEN: usize = 256;
/// The longest public key text (`<suite>:<hex>`).
pub const MAX_KEY_LEN: usize = 256;
/// The most connections the pool opens (SQLite has one writer; readers share the WAL).
const POOL_CONNECTIONS: u32 = 4;
/// How long a statement waits for another writer before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("cannot apply the console's database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value from outside is not acceptable.
    #[error("{field} is invalid: {reason}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No row has that key.
    #[error("no {what} {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its key.
        id: String,
    },
    /// The row exists but is not in a state that allows the change.
    #[error("{0}")]
    Conflict(String),
    /// A stored value cannot be read back as what it should be (the file was changed outside the console).
    #[error("the stored {field} is not valid: {reason}")]
    Corrupt {
        /// Which value.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing an export failed.
    #[error("cannot write the export: {0}")]
    Export(String),
}

/// A store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where a page starts, in the list's own order (each list documents its order, newest first for all of them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Cursor<K> {
    /// The first page.
    #[default]
    Start,
    /// The rows that come after this key in list order (the next page).
    After(K),
    /// The rows that come just before this key in list order (the previous page).
    Before(K),
}

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest<K> {
    /// Where the page starts.
    pub cursor: Cursor<K>,
    /// How many rows at most (clamped to 1..=[`MAX_PAGE_SIZE`]).
    pub limit: u32,
}

impl<K> PageRequest<K> {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { cursor: Cursor::Start, limit }
    }

    /// The page after `key`.
    pub fn after(key: K, limit: u32) -> Self {
        Self { cursor: Cursor::After(key), limit }
    }

    /// The page before `key`.
    pub fn before(key: K, limit: u32) -> Self {
        Self { cursor: Cursor::Before(key), limit }
    }

    /// The row limit actually used.
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of a list, in list order, with the cursors to its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T, K> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as [`Cursor::Before`] to read the previous page; `None` when this page is the first.
    pub prev: Option<K>,
    /// Pass as [`Cursor::After`] to read the next page; `None` when this page is the last.
    pub next: Option<K>,
}

/// A row that knows its position in its list.
pub trait Keyed {
    /// The keyset pagination key.
    type Key: Clone;
    /// This row's key.
    fn key(&self) -> Self::Key;
}

/// Builds a page from rows read with `limit + 1` in the direction the cursor asks for (`Before` reads in reverse).
pub(crate) fn make_page<T: Keyed>(mut rows: Vec<T>, cursor: &Cursor<T::Key>, limit: u32) -> Page<T, T::Key> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    match cursor {
        Cursor::Start => Page { next: more.then(|| rows.last().map(Keyed::key)).flatten(), prev: None, items: rows },
        Cursor::After(_) => Page {
            next: more.then(|| rows.last().map(Keyed::key)).flatten(),
            prev: rows.first().map(Keyed::key),
            items: rows,
        },
        Cursor::Before(_) => {
            rows.reverse();
            Page {
                prev: more.then(|| rows.first().map(Keyed::key)).flatten(),
                next: rows.last().map(Keyed::key),
                items: rows,
            }
        }
    }
}

/// The console's SQLite database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
}

impl Db {
    /// Opens (creating when missing) the database at `path` in WAL mode with foreign keys on, and applies the
    /// migrations that have not been applied yet.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().max_connections(POOL_CONNECTIONS).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool, for queries this module does not offer.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (waiting for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks on values from outside.

/// Checks a required text of at most `max` bytes with no control characters.
pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(StoreError::Invalid { field, reason: "must not be empty".into() });
    }
    check_optional_text(field, value, max)
}

/// Checks a text (possibly empty) of at most `max` bytes with no control characters.
pub(crate) fn check_optional_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(StoreError::Invalid { field, reason: format!("is {} bytes, more than {max}", value.len()) });
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::Invalid { field, reason: "contains a control character".into() });
    }
    Ok(())
}

/// Checks a non-empty lowercase hex string of even length and at most `max` characters.
pub(crate) fn check_hex(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.len() > max || !value.len().is_multiple_of(2) {
        return Err(StoreError::Invalid {
            field,
            reason: format!("must be hex of even length between 2 and {max} characters"),
        });
    }
    if !value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(StoreError::Invalid { field, reason: "must be lowercase hex".into() });
    }
    Ok(())
}

/// Checks an account, member or role name.
pub(crate) fn check_name(field: &'static str, value: &str) -> Result<()> {
    check_text(field, value, MAX_NAME_LEN)
}

/// Checks a JSON text of at most `max` bytes.
fn check_json(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(StoreError::Invalid { field, reason: format!("is {} bytes, more than {max}", value.len()) });
    }
    serde_json::from_str::<serde::de::IgnoredAny>(value)
        .map_err(|e| StoreError::Invalid { field, reason: format!("is not JSON: {e}") })?;
    Ok(())
}

/// Checks a list of action kinds and joins it with commas (duplicates removed, order kept).
fn join_kinds(kinds: &[String]) -> Result<(String, Vec<String>)> {
    let mut unique: Vec<String> = Vec::new();
    for kind in kinds {
        check_kind(kind)?;
        if !unique.contains(kind) {
            unique.push(kind.clone());
        }
    }
    if unique.len() > MAX_KINDS {
        return Err(StoreError::Invalid { field: "kinds", reason: format!("more than {MAX_KINDS} kinds") });
    }
    Ok((unique.join(","), unique))
}

/// Checks one action kind name: ASCII letters, digits and `_`.
fn check_kind(kind: &str) -> Result<()> {
    if kind.is_empty() || kind.len() > MAX_KIND_LEN || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Invalid {
            field: "kind",
            reason: format!("`{kind}` is not 1 to {MAX_KIND_LEN} ASCII letters, digits or underscores"),
        });
    }
    Ok(())
}

/// Splits a stored comma-joined list.
fn split_list(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A stored integer that must not be negative.
fn stored_u64(field: &'static str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt { field, reason: format!("{value} is negative") })
}

/// An integer to store: SQLite integers are signed 64-bit.
fn to_i64(field: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Invalid { field, reason: format!("{value} exceeds {}", i64::MAX) })
}

/// Reads an `EXPLAIN QUERY PLAN` result into its detail lines.
async fn plan_lines(mut query: QueryBuilder<'_, Sqlite>, pool: &SqlitePool) -> Result<Vec<String>> {
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(|row| row.try_get::<String, _>("detail").map_err(StoreError::from)).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Drafts.

/// Where a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Being prepared.
    Draft,
    /// Submitted on chain (the transaction hash is recorded).
    Submitted,
    /// Given up before submission.
    Abandoned,
}

impl DraftStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Abandoned => "abandoned",
        }
    }
}

impl FromStr for DraftStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Self::Draft),
            "submitted" => Ok(Self::Submitted),
            "abandoned" => Ok(Self::Abandoned),
            other => Err(StoreError::Invalid { field: "draft status", reason: format!("unknown status `{other}`") }),
        }
    }
}

/// A new draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDraft {
    /// The proposal's canonical bytes, lowercase hex.
    pub proposal_hex: String,
    /// The proposal id (its approval digest), lowercase hex.
    pub proposal_id: String,
    /// A title for lists.
    pub title: String,
    /// The action kinds it carries (snake_case names, e.g. `admit_member`).
    pub kinds: Vec<String>,
    /// The account that drafted it.
    pub author: String,
}

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The draft's number in this console.
    pub id: i64,
    /// The proposal's canonical bytes, lowercase hex.
    pub proposal_hex: String,
    /// The proposal id, lowercase hex.
    pub proposal_id: String,
    /// Its title.
    pub title: String,
    /// Its action kinds.
    pub kinds: Vec<String>,
    /// Who drafted it.
    pub author: String,
    /// When it was created.
    pub created_ms: i64,
    /// When it last changed.
    pub updated_ms: i64,
    /// Where it is.
    pub status: DraftStatus,
    /// The hash of the transaction that submitted it, once submitted.
    pub submitted_tx: Option<String>,
}

impl Keyed for Draft {
    type Key = i64;
    fn key(&self) -> i64 {
        self.id
    }
}

#[derive(FromRow)]
struct DraftRow {
    id: i64,
    proposal_hex: String,
    proposal_id: String,
    title: String,
    kinds: String,
    author: String,
    created_ms: i64,
    updated_ms: i64,
    status: String,
    submitted_tx: Option<String>,
}

impl TryFrom<DraftRow> for Draft {
    type Error = StoreError;
    fn try_from(row: DraftRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            proposal_hex: row.proposal_hex,
            proposal_id: row.proposal_id,
            title: row.title,
            kinds: split_list(&row.kinds),
            author: row.author,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
            status: row
                .status
                .parse()
                .map_err(|e: StoreError| StoreError::Corrupt { field: "draft status", reason: e.to_string() })?,
            submitted_tx: row.submitted_tx,
        })
    }
}

/// Which drafts a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFilter {
    /// Only drafts in this state.
    pub status: Option<DraftStatus>,
    /// Only drafts by this account.
    pub author: Option<String>,
}

const DRAFT_COLUMNS: &str =
    "id, proposal_hex, proposal_id, title, kinds, author, created_ms, updated_ms, status, submitted_tx";

impl Db {
    /// Stores a new draft (status `draft`) and returns it.
    pub async fn create_draft(&self, draft: &NewDraft, now_ms: i64) -> Result<Draft> {
        check_hex("proposal", &draft.proposal_hex, MAX_PROPOSAL_HEX_LEN)?;
        check_hex("proposal id", &draft.proposal_id, MAX_HEX_ID_LEN)?;
        check_text("title", &draft.title, MAX_TITLE_LEN)?;
        check_name("author", &draft.author)?;
        let (kinds, _) = join_kinds(&draft.kinds)?;
        let row: DraftRow = sqlx::query_as(&format!(
            "INSERT INTO drafts (proposal_hex, proposal_id, title, kinds, author, created_ms, updated_ms, status) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'draft') RETURNING {DRAFT_COLUMNS}"
        ))
        .bind(&draft.proposal_hex)
        .bind(&draft.proposal_id)
        .bind(&draft.title)
        .bind(kinds)
        .bind(&draft.author)
        .bind(now_ms)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// The draft with this number, if any.
    pub async fn get_draft(&self, id: i64) -> Result<Option<Draft>> {
        let row: Option<DraftRow> = sqlx::query_as(&format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Draft::try_from).transpose()
    }

    /// Drafts, newest first (by number).
    pub async fn list_drafts(&self, filter: &DraftFilter, page: &PageRequest<i64>) -> Result<Page<Draft, i64>> {
        if let Some(author) = &filter.author {
            check_name("author", author)?;
        }
        let limit = page.clamped_limit();
        let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE 1"));
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(author) = &filter.author {
            query.push(" AND author = ").push_bind(author.clone());
        }
        let ascending = match page.cursor {
            Cursor::Start => false,
            Cursor::After(id) => {
                query.push(" AND id < ").push_bind(id);
                false
            }
            Cursor::Before(id) => {
                query.push(" AND id > ").push_bind(id);
                true
            }
        };
        query.push(if ascending { " ORDER BY id ASC" } else { " ORDER BY id DESC" });
        query.push(" LIMIT ").push_bind(i64::from(limit).saturating_add(1));
        let rows: Vec<DraftRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let drafts = rows.into_iter().map(Draft::try_from).collect::<Result<Vec<_>>>()?;
        Ok(make_page(drafts, &page.cursor, limit))
    }

    /// Records that the draft was submitted by the transaction `tx_hash`. Only a draft in state `draft` can be
    /// submitted.
    pub async fn mark_draft_submitted(&self, id: i64, tx_hash: &str, now_ms: i64) -> Result<Draft> {
        check_hex("transaction hash", tx_hash, MAX_HEX_ID_LEN)?;
        self.change_draft(id, DraftStatus::Submitted, Some(tx_hash), now_ms).await
    }

    /// Gives up a draft. Only a draft in state `draft` can be abandoned.
    pub async fn abandon_draft(&self, id: i64, now_ms: i64) -> Result<Draft> {
        self.change_draft(id, DraftStatus::Abandoned, None, now_ms).await
    }

    async fn change_draft(&self, id: i64, to: DraftStatus, tx_hash: Option<&str>, now_ms: i64) -> Result<Draft> {
        let row: Option<DraftRow> = sqlx::query_as(&format!(
            "UPDATE drafts SET status = ?, submitted_tx = ?, updated_ms = ? WHERE id = ? AND status = 'draft' \
             RETURNING {DRAFT_COLUMNS}"
        ))
        .bind(to.as_str())
        .bind(tx_hash)
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => row.try_into(),
            None => match self.get_draft(id).await? {
                Some(draft) => Err(StoreError::Conflict(format!(
                    "draft {id} is {}, so it cannot become {}",
                    draft.status.as_str(),
                    to.as_str()
                ))),
                None => Err(StoreError::NotFound { what: "draft", id: id.to_string() }),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The proposal mirror.

/// A mirrored proposal's state: the API's own vocabulary ([`api_types::ProposalStatusName`]), the words the CLI
/// and every page use.
pub use api_types::ProposalStatusName as ProposalState;

/// The name the mirror's `status` column stores for a state. The column keeps the names of its first schema (its
/// `CHECK` constraint lists them), so only this pair of functions knows them.
fn stored_state(state: ProposalState) -> &'static str {
    match state {
        ProposalState::Pending => "open",
        ProposalState::Queued => "queued",
        ProposalState::Executed => "applied",
        ProposalState::Failed => "failed",
        ProposalState::Expired => "expired",
        ProposalState::Cancelled => "cancelled",
    }
}

/// The state a stored `status` names.
fn state_from_stored(stored: &str) -> Result<ProposalState> {
    ProposalState::ALL
        .into_iter()
        .find(|state| stored_state(*state) == stored)
        .ok_or_else(|| StoreError::Corrupt { field: "proposal status", reason: format!("unknown status `{stored}`") })
}

/// A mirrored on-chain proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirroredProposal {
    /// The proposal id, lowercase hex.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its state.
    pub status: ProposalState,
    /// The account that submitted it.
    pub proposer: String,
    /// Its action kinds (snake_case names).
    pub kinds: Vec<String>,
    /// The height it was submitted at.
    pub submitted_height: u64,
    /// The last height at which it may still be approved.
    pub expires_at: u64,
    /// The weight approving so far.
    pub approved_weight: u64,
    /// The weight it needs.
    pub required_weight: u64,
    /// The height of the chain state this row reflects: a newer row replaces an older one, never the reverse.
    pub updated_height: u64,
    /// Whatever else the pages show (decoded actions, approvals, receipt), as JSON text.
    pub detail: String,
}

/// The position of a proposal in lists: newest submission first, then by id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProposalKey {
    /// The height it was submitted at.
    pub submitted_height: u64,
    /// Its id.
    pub id: String,
}

impl std::fmt::Display for ProposalKey {
    /// The cursor's URL form, `height-id`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.submitted_height, self.id)
    }
}

impl FromStr for ProposalKey {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        let invalid = || StoreError::Invalid { field: "cursor", reason: "expected `height-id`".into() };
        let (height, id) = s.split_once('-').ok_or_else(invalid)?;
        let submitted_height = height.parse().map_err(|_| invalid())?;
        check_hex("cursor", id, MAX_HEX_ID_LEN)?;
        Ok(Self { submitted_height, id: id.to_owned() })
    }
}

impl Keyed for MirroredProposal {
    type Key = ProposalKey;
    fn key(&self) -> ProposalKey {
        ProposalKey { submitted_height: self.submitted_height, id: self.id.clone() }
    }
}

#[derive(FromRow)]
struct ProposalRow {
    id: String,
    title: String,
    status: String,
    proposer: String,
    kinds: String,
    submitted_height: i64,
    expires_at: i64,
    approved_weight: i64,
    required_weight: i64,
    updated_height: i64,
    detail: String,
}

impl TryFrom<ProposalRow> for MirroredProposal {
    type Error = StoreError;
    fn try_from(row: ProposalRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            title: row.title,
            status: state_from_stored(&row.status)?,
            proposer: row.proposer,
            kinds: split_list(&row.kinds),
            submitted_height: stored_u64("submitted height", row.submitted_height)?,
            expires_at: stored_u64("expiry", row.expires_at)?,
            approved_weight: stored_u64("approved weight", row.approved_weight)?,
            required_weight: stored_u64("required weight", row.required_weight)?,
            updated_height: stored_u64("updated height", row.updated_height)?,
            detail: row.detail,
        })
    }
}

/// Which proposals a list shows. Every set field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalFilter {
    /// Only proposals in this state.
    pub status: Option<ProposalState>,
    /// Only proposals with an action of this kind.
    pub kind: Option<String>,
    /// Only proposals submitted by this account.
    pub proposer: Option<String>,
    /// Only proposals whose title contains this text, ignoring the case of ASCII letters. Text of at least three
    /// characters found in few titles is looked up in a trigram index; short or common text is tested row by row
    /// along the list order, which fills a page quickly precisely because matches are common.
    pub text: Option<String>,
}

const PROPOSAL_COLUMNS: &str = "p.id, p.title, p.status, p.proposer, p.kinds, p.submitted_height, p.expires_at, \
     p.approved_weight, p.required_weight, p.updated_height, p.detail";

impl ProposalFilter {
    fn check(&self) -> Result<()> {
        if let Some(kind) = &self.kind {
            check_kind(kind)?;
        }
        if let Some(proposer) = &self.proposer {
            check_name("proposer", proposer)?;
        }
        if let Some(text) = &self.text {
            check_optional_text("search text", text, MAX_SEARCH_LEN)?;
        }
        Ok(())
    }
}

/// The most title matches for which a search reads them all from the trigram index and sorts them; with more, the
/// list walks its ordering index and tests each title, which then fills a page within a few thousand rows.
const TITLE_INDEX_MAX_MATCHES: i64 = 2_000;

/// How a title search is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TitleSearch {
    /// Every match from the trigram index, then sorted: for rare text.
    Index,
    /// Walk the list order and test each title: for short or common text.
    Scan,
}

/// The text as one quoted FTS5 phrase (a substring match under the trigram tokenizer).
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Builds the proposal list query (after `prefix`, e.g. `EXPLAIN QUERY PLAN `).
fn proposal_list_query<'a>(
    prefix: &str,
    filter: &'a ProposalFilter,
    title_search: TitleSearch,
    cursor: &'a Cursor<ProposalKey>,
    limit: u32,
) -> Result<QueryBuilder<'a, Sqlite>> {
    let mut query = QueryBuilder::<Sqlite>::new(prefix);
    query.push("SELECT ").push(PROPOSAL_COLUMNS);
    // With a kind filter the list is driven by `proposal_kinds`, which carries the list order (and the status).
    let order = if let Some(kind) = &filter.kind {
        query.push(" FROM proposal_kinds k JOIN proposals p ON p.id = k.proposal_id WHERE k.kind = ").push_bind(kind);
        if let Some(status) = filter.status {
            query.push(" AND k.status = ").push_bind(stored_state(status));
        }
        ("k.submitted_height", "k.proposal_id")
    } else {
        query.push(" FROM proposals p WHERE 1");
        if let Some(status) = filter.status {
            query.push(" AND p.status = ").push_bind(stored_state(status));
        }
        ("p.submitted_height", "p.id")
    };
    if let Some(proposer) = &filter.proposer {
        query.push(" AND p.proposer = ").push_bind(proposer);
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        if title_search == TitleSearch::Index {
            query.push(" AND p.seq IN (SELECT rowid FROM proposal_titles WHERE proposal_titles MATCH ");
            query.push_bind(fts_phrase(text)).push(")");
        } else {
            query.push(" AND instr(lower(p.title), lower(").push_bind(text).push(")) > 0");
        }
    }
    let (height, id) = order;
    let ascending = match cursor {
        Cursor::Start => false,
        Cursor::After(key) => {
            query.push(format!(" AND ({height}, {id}) < ("));
            query.push_bind(to_i64("cursor height", key.submitted_height)?).push(", ").push_bind(&key.id).push(")");
            false
        }
        Cursor::Before(key) => {
            query.push(format!(" AND ({height}, {id}) > ("));
            query.push_bind(to_i64("cursor height", key.submitted_height)?).push(", ").push_bind(&key.id).push(")");
            true
        }
    };
    let direction = if ascending { "ASC" } else { "DESC" };
    query.push(format!(" ORDER BY {height} {direction}, {id} {direction} LIMIT "));
    query.push_bind(i64::from(limit).saturating_add(1));
    Ok(query)
}

impl Db {
    /// Chooses how to answer the filter's title search: through the trigram index when the text has at least three
    /// characters and at most [`TITLE_INDEX_MAX_MATCHES`] titles contain it.
    async fn title_search(&self, filter: &ProposalFilter) -> Result<TitleSearch> {
        let Some(text) = filter.text.as_deref().filter(|t| t.chars().count() >= 3) else {
            return Ok(TitleSearch::Scan);
        };
        let (matches,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT rowid FROM proposal_titles WHERE proposal_titles MATCH ? LIMIT ?)",
        )
        .bind(fts_phrase(text))
        .bind(TITLE_INDEX_MAX_MATCHES.saturating_add(1))
        .fetch_one(&self.pool)
        .await?;
        Ok(if matches > TITLE_INDEX_MAX_MATCHES { TitleSearch::Scan } else { TitleSearch::Index })
    }

    /// Stores a proposal's current state unless the stored row reflects a newer height (`updated_height`): the
    /// same or a newer state replaces it, an older one is ignored. Returns whether the row was written.
    pub async fn upsert_proposal(&self, proposal: &MirroredProposal) -> Result<bool> {
        check_hex("proposal id", &proposal.id, MAX_HEX_ID_LEN)?;
        check_text("title", &proposal.title, MAX_TITLE_LEN)?;
        check_name("proposer", &proposal.proposer)?;
        check_json("proposal detail", &proposal.detail, MAX_PROPOSAL_DETAIL_LEN)?;
        let (kinds_text, kinds) = join_kinds(&proposal.kinds)?;
        let submitted_height = to_i64("submitted height", proposal.submitted_height)?;
        let mut tx = self.pool.begin().await?;
        let written = upsert_proposal_in(&mut tx, proposal, &kinds_text, &kinds, submitted_height).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// The mirrored proposal with this id, if any.
    pub async fn get_proposal(&self, id: &str) -> Result<Option<MirroredProposal>> {
        check_hex("proposal id", id, MAX_HEX_ID_LEN)?;
        let row: Option<ProposalRow> =
            sqlx::query_as(&format!("SELECT {PROPOSAL_COLUMNS} FROM proposals p WHERE p.id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(MirroredProposal::try_from).transpose()
    }

    /// Mirrored proposals, newest submission first (then by id, descending).
    pub async fn list_proposals(
        &self,
        filter: &ProposalFilter,
        page: &PageRequest<ProposalKey>,
    ) -> Result<Page<MirroredProposal, ProposalKey>> {
        let limit = page.clamped_limit();
        filter.check()?;
        let title_search = self.title_search(filter).await?;
        let mut query = proposal_list_query("", filter, title_search, &page.cursor, limit)?;
        let rows: Vec<ProposalRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let proposals = rows.into_iter().map(MirroredProposal::try_from).collect::<Result<Vec<_>>>()?;
        Ok(make_page(proposals, &page.cursor, limit))
    }

    /// SQLite's plan for [`Db::list_proposals`] with this filter and page (one line per plan step), to check which
    /// index serves a list.
    pub async fn proposal_list_plan(
        &self,
        filter: &ProposalFilter,
        page: &PageRequest<ProposalKey>,
    ) -> Result<Vec<String>> {
        filter.check()?;
        let title_search = self.title_search(filter).await?;
        let query =
            proposal_list_query("EXPLAIN QUERY PLAN ", filter, title_search, &page.cursor, page.clamped_limit())?;
        plan_lines(query, &self.pool).await
    }

    /// How many mirrored proposals are in each state (every state is present, zero when none).
    pub async fn count_proposals_by_status(&self) -> Result<Vec<(ProposalState, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM proposals GROUP BY status").fetch_all(&self.pool).await?;
        let mut counts: Vec<(ProposalState, u64)> = ProposalState::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, count) in rows {
            let state = state_from_stored(&status)?;
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == state) {
                entry.1 = stored_u64("proposal count", count)?;
            }
        }
        Ok(counts)
    }
}

/// The upsert inside a caller's transaction (shared with the seeding).
async fn upsert_proposal_in(
    conn: &mut sqlx::SqliteConnection,
    proposal: &MirroredProposal,
    kinds_text: &str,
    kinds: &[String],
    submitted_height: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO proposals (id, title, status, proposer, kinds, submitted_height, expires_at, approved_weight, \
         required_weight, updated_height, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, \
         proposer = excluded.proposer, kinds = excluded.kinds, submitted_height = excluded.submitted_height, \
         expires_at = excluded.expires_at, approved_weight = excluded.approved_weight, \
         required_weight = excluded.required_weight, updated_height = excluded.updated_height, \
         detail = excluded.detail WHERE excluded.updated_height >= proposals.updated_height",
    )
    .bind(&proposal.id)
    .bind(&proposal.title)
    .bind(stored_state(proposal.status))
    .bind(&proposal.proposer)
    .bind(kinds_text)
    .bind(submitted_height)
    .bind(to_i64("expiry", proposal.expires_at)?)
    .bind(to_i64("approved weight", proposal.approved_weight)?)
    .bind(to_i64("required weight", proposal.required_weight)?)
    .bind(to_i64("updated height", proposal.updated_height)?)
    .bind(&proposal.detail)
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM proposal_kinds WHERE proposal_id = ?").bind(&proposal.id).execute(&mut *conn).await?;
    for kind in kinds {
        sqlx::query("INSERT INTO proposal_kinds (proposal_id, kind, status, submitted_height) VALUES (?, ?, ?, ?)")
            .bind(&proposal.id)
            .bind(kind)
            .bind(stored_state(proposal.status))
            .bind(submitted_height)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions.

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    /// The session cookie's value (only its SHA-256 is stored).
    pub token: &'a str,
    /// The signed-in account.
    pub account: &'a str,
    /// The key that signed in (`ed25519:<hex>`): the session ends once the account's current key is another.
    pub signing_key: &'a str,
    /// The member the account belongs to, when it has one.
    pub member: Option<&'a str>,
    /// When it was created.
    pub created_ms: i64,
    /// When it stops being valid.
    pub expires_ms: i64,
    /// The language the user chose.
    pub lang: Lang,
    /// The token state-changing requests of this session must carry.
    pub csrf_token: &'a str,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the cookie value, lowercase hex.
    pub id_hash: String,
    /// The signed-in account.
    pub account: String,
    /// The key that signed in.
    pub signing_key: String,
    /// Its member, when it has one.
    pub member: Option<String>,
    /// When it was created.
    pub created_ms: i64,
    /// When it stops being valid.
    pub expires_ms: i64,
    /// The user's language.
    pub lang: Lang,
    /// The session's CSRF token, stored as given: it is of no use without the session cookie, whose value is
    /// never stored.
    pub csrf_token: String,
}

#[derive(FromRow)]
struct SessionRow {
    id_hash: String,
    account: String,
    signing_key: String,
    member: Option<String>,
    created_ms: i64,
    expires_ms: i64,
    lang: String,
    csrf_token: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(row: SessionRow) -> Result<Self> {
        Ok(Self {
            lang: Lang::from_tag(&row.lang)
                .ok_or_else(|| StoreError::Corrupt { field: "session language", reason: row.lang.clone() })?,
            id_hash: row.id_hash,
            account: row.account,
            signing_key: row.signing_key,
            member: row.member,
            created_ms: row.created_ms,
            expires_ms: row.expires_ms,
            csrf_token: row.csrf_token,
        })
    }
}

/// SHA-256 of a session cookie's value, lowercase hex: the key sessions are stored under.
pub fn session_id_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The longest session cookie value accepted.
pub const MAX_SESSION_TOKEN_LEN: usize = 256;

impl Db {
    /// Stores a new session under the hash of its token.
    pub async fn create_session(&self, session: &NewSession<'_>) -> Result<Session> {
        check_text("session token", session.token, MAX_SESSION_TOKEN_LEN)?;
        check_name("account", session.account)?;
        check_text("signing key", session.signing_key, MAX_KEY_LEN)?;
        if let Some(member) = session.member {
            check_name("member", member)?;
        }
        check_text("CSRF token", session.csrf_token, MAX_CSRF_LEN)?;
        if session.expires_ms <= session.created_ms {
            return Err(StoreError::Invalid { field: "session expiry", reason: "must be after its creation".into() });
        }
        let row: SessionRow = sqlx::query_as(
            "INSERT INTO sessions (id_hash, account, signing_key, member, created_ms, expires_ms, lang, csrf_token) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id_hash, account, signing_key, member, created_ms, expires_ms, lang, csrf_token",
        )
        .bind(session_id_hash(session.token))
        .bind(session.account)
        .bind(session.signing_key)
        .bind(session.member)
        .bind(session.created_ms)
        .bind(session.expires_ms)
        .bind(session.lang.tag())
        .bind(session.csrf_token)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// The session whose cookie value is `token`, if it exists and has not expired at `now_ms`.
    pub async fn valid_session(&self, token: &str, now_ms: i64) -> Result<Option<Session>> {
        if token.is_empty() || token.len() > MAX_SESSION_TOKEN_LEN {
            return Ok(None);
        }
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT id_hash, account, signing_key, member, created_ms, expires_ms, lang, csrf_token FROM sessions \
             WHERE id_hash = ? AND expires_ms > ?",
        )
        .bind(session_id_hash(token))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Session::try_from).transpose()
    }

    /// Deletes the session whose cookie value is `token`; returns whether it existed.
    pub async fn delete_session(&self, token: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(session_id_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes every session expired at `now_ms`; returns how many.
    pub async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_ms <= ?").bind(now_ms).execute(&self.pool).await?;
        Ok(result.rows_affected())
    }

    /// Sets a session's language; returns whether the session exists.
    pub async fn set_session_lang(&self, token: &str, lang: Lang) -> Result<bool> {
        let result = sqlx::query("UPDATE sessions SET lang = ? WHERE id_hash = ?")
            .bind(lang.tag())
            .bind(session_id_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Login challenges.

/// A login challenge the server issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The nonce, lowercase hex.
    pub nonce: String,
    /// The account it was issued to.
    pub account: String,
    /// The origin it is bound to.
    pub origin: String,
    /// When it stops being accepted.
    pub expires_ms: i64,
}

impl Db {
    /// Stores a new challenge. Refused when [`MAX_LIVE_CHALLENGES`] unexpired challenges are outstanding at
    /// `now_ms` (expired ones are purged first).
    pub async fn insert_challenge(&self, challenge: &Challenge, now_ms: i64) -> Result<()> {
        check_hex("nonce", &challenge.nonce, MAX_HEX_ID_LEN)?;
        check_name("account", &challenge.account)?;
        check_text("origin", &challenge.origin, MAX_ORIGIN_LEN)?;
        if challenge.expires_ms <= now_ms {
            return Err(StoreError::Invalid { field: "challenge expiry", reason: "is already past".into() });
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM challenges WHERE expires_ms <= ?").bind(now_ms).execute(&mut *tx).await?;
        let (live,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM challenges").fetch_one(&mut *tx).await?;
        if live >= i64::from(MAX_LIVE_CHALLENGES) {
            return Err(StoreError::Conflict(format!(
                "{live} login challenges are outstanding; try again when some have expired"
            )));
        }
        sqlx::query("INSERT INTO challenges (nonce, account, origin, expires_ms) VALUES (?, ?, ?, ?)")
            .bind(&challenge.nonce)
            .bind(&challenge.account)
            .bind(&challenge.origin)
            .bind(challenge.expires_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a challenge: marks it used and returns it, in one statement, only if it exists, was not used and has
    /// not expired at `now_ms`. A second take of the same nonce returns `None`.
    pub async fn take_challenge(&self, nonce: &str, now_ms: i64) -> Result<Option<Challenge>> {
        if nonce.is_empty() || nonce.len() > MAX_HEX_ID_LEN {
            return Ok(None);
        }
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "UPDATE challenges SET used = 1 WHERE nonce = ? AND used = 0 AND expires_ms > ? \
             RETURNING nonce, account, origin, expires_ms",
        )
        .bind(nonce)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(nonce, account, origin, expires_ms)| Challenge { nonce, account, origin, expires_ms }))
    }

    /// Deletes every challenge expired at `now_ms`; returns how many.
    pub async fn purge_expired_challenges(&self, now_ms: i64) -> Result<u64> {
        let result =
            sqlx::query("DELETE FROM challenges WHERE expires_ms <= ?").bind(now_ms).execute(&self.pool).await?;
        Ok(result.rows_affected())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks.

/// A webhook: where to send which events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its number.
    pub id: i64,
    /// Where to POST.
    pub url: String,
    /// The events it wants (e.g. `needs_approval`, `expires_soon`).
    pub events: Vec<String>,
    /// The member whose approvals it watches.
    pub member: String,
    /// When it was added.
    pub created_ms: i64,
}

fn webhook_of((id, url, events, member, created_ms): (i64, String, String, String, i64)) -> Webhook {
    Webhook { id, url, events: split_list(&events), member, created_ms }
}

/// What a webhook was told about one proposal so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// How many times the notice was sent.
    pub attempts: i64,
    /// Whether the receiver acknowledged it (answered 2xx).
    pub delivered: bool,
}

impl Db {
    /// Adds a webhook for `url` (which must be `http://` or `https://`) watching `member`'s approvals; refused when
    /// the URL is already registered or [`MAX_WEBHOOKS`] exist.
    pub async fn add_webhook(&self, url: &str, events: &[String], member: &str, now_ms: i64) -> Result<Webhook> {
        check_text("webhook URL", url, MAX_URL_LEN)?;
        check_text("webhook member", member, MAX_NAME_LEN)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace) {
            return Err(StoreError::Invalid {
                field: "webhook URL",
                reason: "must start with http:// or https:// and contain no spaces".into(),
            });
        }
        if events.is_empty() {
            return Err(StoreError::Invalid { field: "webhook events", reason: "name at least one event".into() });
        }
        let (events_text, events) = join_kinds(events)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhooks").fetch_one(&mut *tx).await?;
        if count >= i64::from(MAX_WEBHOOKS) {
            return Err(StoreError::Conflict(format!("this console already has {MAX_WEBHOOKS} webhooks")));
        }
        let (exists,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhooks WHERE url = ?").bind(url).fetch_one(&mut *tx).await?;
        if exists > 0 {
            return Err(StoreError::Conflict(format!("a webhook for {url} already exists")));
        }
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO webhooks (url, events, member, created_ms) VALUES (?, ?, ?, ?) RETURNING id")
                .bind(url)
                .bind(events_text)
                .bind(member)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Webhook { id, url: url.to_owned(), events, member: member.to_owned(), created_ms: now_ms })
    }

    /// Every webhook (at most [`MAX_WEBHOOKS`]), oldest first: the dispatcher's list.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        let rows: Vec<(i64, String, String, String, i64)> =
            sqlx::query_as("SELECT id, url, events, member, created_ms FROM webhooks ORDER BY id LIMIT ?")
                .bind(i64::from(MAX_WEBHOOKS))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(webhook_of).collect())
    }

    /// The webhooks of `member`, oldest first: what its governors see and manage.
    pub async fn list_member_webhooks(&self, member: &str) -> Result<Vec<Webhook>> {
        check_text("webhook member", member, MAX_NAME_LEN)?;
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, url, events, member, created_ms FROM webhooks WHERE member = ? ORDER BY id LIMIT ?",
        )
        .bind(member)
        .bind(i64::from(MAX_WEBHOOKS))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(webhook_of).collect())
    }

    /// Removes webhook `id` of `member` and what it was sent; returns whether `member` had it (another member's
    /// webhook is left alone).
    pub async fn remove_webhook(&self, id: i64, member: &str) -> Result<bool> {
        check_text("webhook member", member, MAX_NAME_LEN)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let result = sqlx::query("DELETE FROM webhooks WHERE id = ? AND member = ?")
            .bind(id)
            .bind(member)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() > 0 {
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = ?").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(result.rows_affected() > 0)
    }

    /// What webhook `webhook` was told about `proposal` under `event`, if anything.
    pub async fn delivery(&self, webhook: i64, event: &str, proposal: &str) -> Result<Option<Delivery>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT attempts, delivered FROM webhook_deliveries WHERE webhook_id = ? AND event = ? AND proposal_id = ?",
        )
        .bind(webhook)
        .bind(event)
        .bind(proposal)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(attempts, delivered)| Delivery { attempts, delivered: delivered != 0 }))
    }

    /// Records one attempt to tell webhook `webhook` about `proposal` under `event`, and whether it was acknowledged.
    pub async fn record_delivery(
        &self,
        webhook: i64,
        event: &str,
        proposal: &str,
        delivered: bool,
        now_ms: i64,
    ) -> Result<()> {
        check_text("webhook event", event, MAX_KIND_LEN)?;
        check_text("proposal id", proposal, MAX_HEX_ID_LEN)?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event, proposal_id, attempts, delivered, last_ms) \
             VALUES (?, ?, ?, 1, ?, ?) \
             ON CONFLICT (webhook_id, event, proposal_id) DO UPDATE SET \
             attempts = attempts + 1, delivered = MAX(delivered, excluded.delivered), last_ms = excluded.last_ms",
        )
        .bind(webhook)
        .bind(event)
        .bind(proposal)
        .bind(i64::from(delivered))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Seeding, for benchmarks.

/// A small deterministic generator (SplitMix64) for varied seed data.
struct SeedRng(u64);

impl SeedRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next().checked_rem(n).unwrap_or(0)
    }

    /// One of `items` (not empty).
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let index = usize::try_from(self.below(len)).unwrap_or(0);
        &items[index.min(items.len().saturating_sub(1))]
    }
}

/// The id the seeding gives its `n`th proposal: SHA-256 of `seed-proposal-n`, lowercase hex.
pub fn seed_proposal_id(n: u32) -> String {
    hex::encode(Sha256::digest(format!("seed-proposal-{n}").as_bytes()))
}

/// Rows per seeding transaction.
const SEED_BATCH: u32 = 10_000;
/// Rows per multi-row insert statement.
const SEED_STATEMENT_ROWS: usize = 50;

/// Fills the store with `proposals` varied mirrored proposals (ids from [`seed_proposal_id`], so seeding again
/// leaves existing ones alone) and appends `audit_rows` varied, properly chained audit rows, in transactions of
/// 10,000 rows with multi-row prepared inserts. Times run up to `now_ms`, one second apart.
pub async fn seed(db: &Db, proposals: u32, audit_rows: u32, now_ms: i64) -> Result<()> {
    let kinds: Vec<String> = governance_contracts::types::policy::ActionKind::ALL
        .iter()
        .filter_map(|kind| serde_json::to_value(kind).ok()?.as_str().map(str::to_owned))
        .collect();
    let proposers = ["org1-admin", "org2-admin", "org3-admin", "org4-admin", "org1-ops", "org2-ops", "org3-compliance"];
    let subjects = ["member bank-", "node n", "account teller-", "role clearing-", "policy rule ", "params set "];
    let mut rng = SeedRng(0x5EED);
    let mut start: u32 = 0;
    while start < proposals {
        let end = start.saturating_add(SEED_BATCH).min(proposals);
        let mut batch = Vec::new();
        for n in start..end {
            let count = rng.below(3).saturating_add(1);
            let mut own: Vec<String> = Vec::new();
            for _ in 0..count {
                let kind = rng.pick(&kinds).clone();
                if !own.contains(&kind) {
                    own.push(kind);
                }
            }
            let status = match rng.below(100) {
                0..=4 => ProposalState::Pending,
                5..=6 => ProposalState::Queued,
                7..=76 => ProposalState::Executed,
                77..=81 => ProposalState::Failed,
                82..=94 => ProposalState::Expired,
                _ => ProposalState::Cancelled,
            };
            let height = u64::from(n).saturating_mul(3).saturating_add(rng.below(3)).saturating_add(1);
            let approved = match status {
                ProposalState::Pending | ProposalState::Expired | ProposalState::Cancelled => rng.below(67),
                _ => rng.below(34).saturating_add(67),
            };
            let title = format!(
                "{} {}{} ({})",
                own.first().map(String::as_str).unwrap_or("change").replace('_', " "),
                rng.pick(&subjects),
                rng.below(500),
                n
            );
            batch.push(MirroredProposal {
                id: seed_proposal_id(n),
                title,
                status,
                proposer: (*rng.pick(&proposers)).to_owned(),
                kinds: own,
                submitted_height: height,
                expires_at: height.saturating_add(1_000),
                approved_weight: approved,
                required_weight: 67,
                updated_height: height.saturating_add(rng.below(50)),
                detail: format!("{{\"actions\":{count},\"seeded\":true}}"),
            });
        }
        let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in batch.chunks(SEED_STATEMENT_ROWS) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO proposals (id, title, status, proposer, kinds, submitted_height, expires_at, \
                 approved_weight, required_weight, updated_height, detail) ",
            );
            let mut bad = None;
            query.push_values(chunk, |mut b, p| {
                let height = to_i64("height", p.submitted_height).unwrap_or_else(|e| {
                    bad = Some(e);
                    0
                });
                b.push_bind(&p.id)
                    .push_bind(&p.title)
                    .push_bind(stored_state(p.status))
                    .push_bind(&p.proposer)
                    .push_bind(p.kinds.join(","))
                    .push_bind(height)
                    .push_bind(i64::try_from(p.expires_at).unwrap_or(i64::MAX))
                    .push_bind(i64::try_from(p.approved_weight).unwrap_or(i64::MAX))
                    .push_bind(i64::try_from(p.required_weight).unwrap_or(i64::MAX))
                    .push_bind(i64::try_from(p.updated_height).unwrap_or(i64::MAX))
                    .push_bind(&p.detail);
            });
            if let Some(error) = bad {
                return Err(error);
            }
            query.push(" ON CONFLICT (id) DO NOTHING");
            query.build().persistent(true).execute(&mut *tx).await?;
            let pairs: Vec<(&MirroredProposal, &String)> =
                chunk.iter().flat_map(|p| p.kinds.iter().map(move |k| (p, k))).collect();
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO proposal_kinds (proposal_id, kind, status, submitted_height) ",
            );
            query.push_values(pairs, |mut b, (p, kind)| {
                b.push_bind(&p.id)
                    .push_bind(kind)
                    .push_bind(stored_state(p.status))
                    .push_bind(i64::try_from(p.submitted_height).unwrap_or(i64::MAX));
            });
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        start = end;
    }

    let actors =
        ["org1-admin", "org2-admin", "org3-admin", "org4-admin", "org1-ops", "org2-compliance", "auditor", "system"];
    let audit_kinds = super::audit::AuditKind::ALL;
    let total = i64::from(audit_rows);
    let mut start: u32 = 0;
    while start < audit_rows {
        let end = start.saturating_add(SEED_BATCH).min(audit_rows);
        let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut appender = super::audit::Appender::from_head(&mut tx).await?;
        let mut rows = Vec::new();
        for n in start..end {
            let at_ms = now_ms.saturating_sub(total.saturating_sub(i64::from(n)).saturating_mul(1_000));
            let kind = rng.pick(&audit_kinds).as_str();
            let actor = if kind == "receipt" || kind == "proposal_applied" { "system" } else { *rng.pick(&actors) };
            let subject = if proposals > 0 {
                seed_proposal_id(u32::try_from(rng.below(u64::from(proposals))).unwrap_or(0))
            } else {
                String::new()
            };
            let detail = format!("{{\"height\":{},\"note\":\"seeded row {n}\"}}", rng.below(1_000_000));
            rows.push(appender.next(at_ms, actor, kind, &subject, detail)?);
        }
        appender.write(&mut tx, &rows).await?;
        tx.commit().await?;
        start = end;
    }
    Ok(())
}
