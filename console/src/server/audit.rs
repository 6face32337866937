//! The audit trail: an append-only, hash-chained log of who did what in this console, and when.
//!
//! # The chain
//!
//! Rows are numbered `seq = 1, 2, 3, ...` with no gaps. Each row stores `prev_hash`, the `hash` of the row before
//! it (for row 1, 32 zero bytes), and its own `hash`:
//!
//! ```text
//! hash = SHA-256( "synod/v1/console-audit"          (22 ASCII bytes, no terminator)
//!               || prev_hash                         (32 bytes)
//!               || seq                               (8 bytes, unsigned, big-endian)
//!               || at_ms                             (8 bytes, signed two's complement, big-endian)
//!               || len(actor)   || actor             (len: 4 bytes, unsigned, big-endian; then UTF-8 bytes)
//!               || len(kind)    || kind
//!               || len(subject) || subject           (empty when the entry concerns nothing in particular)
//!               || len(detail)  || detail )          (the JSON text exactly as stored and exported)
//! ```
//!
//! Hashes are stored and exported as lowercase hex. Anyone holding an export can recompute every hash with these
//! rules and check that each row's `prev_hash` equals the previous row's `hash` ([`verify_rows`] does exactly
//! that). The table `audit_head` holds the last row's `seq` and `hash`, so that rows removed from the end show too.
//! Someone who can write the file can still rewrite the whole tail and the head together: what shows that is a head
//! recorded outside the file, the anchor the console puts on chain at a bounded interval ([`super::anchor`]), which
//! the console's own check and `synod-console verify-export` compare with the trail.
//!
//! Appends are serialised: one `BEGIN IMMEDIATE` transaction reads the head, inserts the row and moves the head.
//! Triggers refuse `UPDATE` and `DELETE` on the table; the chain is what shows a change made around them.
//!
//! `at_ms` never decreases along the chain: an append whose clock reads earlier than the last row is recorded at
//! the last row's time. This keeps time filters index ranges over `seq`.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

use super::db::{
    Cursor, Db, Keyed, MAX_NAME_LEN, Page, PageRequest, Result, StoreError, check_optional_text, check_text, make_page,
};

/// The domain tag that opens every audit hash.
pub const AUDIT_HASH_DOMAIN: &[u8] = b"synod/v1/console-audit";
/// The `prev_hash` of row 1.
pub const GENESIS_PREV_HASH: [u8; 32] = [0; 32];
/// The largest detail, in bytes of JSON text.
pub const MAX_DETAIL_LEN: usize = 16 * 1024;
/// The longest subject (a proposal id, an account, a URL...).
pub const MAX_SUBJECT_LEN: usize = 256;
/// The longest actor: an account name or `system`.
pub const MAX_ACTOR_LEN: usize = MAX_NAME_LEN;
/// The most rows one JSON export holds; narrow the filter for more.
pub const MAX_EXPORT_ROWS: u64 = 100_000;
/// How many rows [`verify`] and the exports read at a time.
const BATCH: u32 = 1_000;

/// What happened. Stored as its snake_case name; rows read back keep the name as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An account signed in.
    SignIn,
    /// An account signed out.
    SignOut,
    /// A sign-in was refused (recorded as `anonymous`, with the client's address as the subject).
    SignInRefused,
    /// A session ended because the account's key on chain is no longer the one that signed in.
    SessionEnded,
    /// A draft was created.
    DraftCreated,
    /// A draft was marked submitted by its author.
    DraftSubmitted,
    /// A draft was abandoned.
    DraftAbandoned,
    /// An approval was signed in the browser.
    ApprovalSigned,
    /// An approval signed offline was uploaded.
    ApprovalUploaded,
    /// A transaction was relayed to a node.
    TxSubmitted,
    /// A transaction's receipt arrived.
    Receipt,
    /// A proposal was applied on chain.
    ProposalApplied,
    /// An approval landed on chain, by any member's account (recorded by the console's indexer as the block is
    /// finalised; the actor is the approver).
    ApprovalOnChain,
    /// An approval was withdrawn on chain (recorded like [`Self::ApprovalOnChain`]).
    ApprovalRevokedOnChain,
    /// A setting changed (language, webhooks...).
    Settings,
    /// The audit trail was exported.
    Export,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [Self; 16] = [
        Self::SignIn,
        Self::SignOut,
        Self::SignInRefused,
        Self::SessionEnded,
        Self::DraftCreated,
        Self::DraftSubmitted,
        Self::DraftAbandoned,
        Self::ApprovalSigned,
        Self::ApprovalUploaded,
        Self::TxSubmitted,
        Self::Receipt,
        Self::ProposalApplied,
        Self::ApprovalOnChain,
        Self::ApprovalRevokedOnChain,
        Self::Settings,
        Self::Export,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignOut => "sign_out",
            Self::SignInRefused => "sign_in_refused",
            Self::SessionEnded => "session_ended",
            Self::DraftCreated => "draft_created",
            Self::DraftSubmitted => "draft_submitted",
            Self::DraftAbandoned => "draft_abandoned",
            Self::ApprovalSigned => "approval_signed",
            Self::ApprovalUploaded => "approval_uploaded",
            Self::TxSubmitted => "tx_submitted",
            Self::Receipt => "receipt",
            Self::ProposalApplied => "proposal_applied",
            Self::ApprovalOnChain => "approval_on_chain",
            Self::ApprovalRevokedOnChain => "approval_revoked_on_chain",
            Self::Settings => "settings",
            Self::Export => "export",
        }
    }

    /// The kind with this stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry<'a> {
    /// When it happened (the caller's clock; see the module docs on ordering).
    pub at_ms: i64,
    /// Who: an account name, or `system`.
    pub actor: &'a str,
    /// What.
    pub kind: AuditKind,
    /// What it concerns (a proposal id, an account...), or empty.
    pub subject: &'a str,
    /// Particulars, as JSON (at most [`MAX_DETAIL_LEN`] bytes once serialised).
    pub detail: &'a serde_json::Value,
}

/// A row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its position in the chain, from 1.
    pub seq: u64,
    /// When it happened.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What (an [`AuditKind`] name).
    pub kind: String,
    /// What it concerns, or empty.
    pub subject: String,
    /// Particulars: JSON text, exactly as hashed.
    pub detail: String,
    /// The previous row's hash, lowercase hex.
    pub prev_hash: String,
    /// This row's hash, lowercase hex.
    pub hash: String,
}

impl Keyed for AuditEntry {
    type Key = u64;
    fn key(&self) -> u64 {
        self.seq
    }
}

impl AuditEntry {
    /// Recomputes this row's hash from its `prev_hash` and fields; `None` when `prev_hash` is not 32 bytes of hex.
    pub fn computed_hash(&self) -> Option<[u8; 32]> {
        let mut prev = [0u8; 32];
        hex::decode_to_slice(&self.prev_hash, &mut prev).ok()?;
        Some(entry_hash(&prev, self.seq, self.at_ms, &self.actor, &self.kind, &self.subject, &self.detail))
    }
}

#[derive(FromRow)]
struct AuditRow {
    seq: i64,
    at_ms: i64,
    actor: String,
    kind: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> Result<Self> {
        Ok(Self {
            seq: u64::try_from(row.seq)
                .map_err(|_| StoreError::Corrupt { field: "audit seq", reason: format!("{} is negative", row.seq) })?,
            at_ms: row.at_ms,
            actor: row.actor,
            kind: row.kind,
            subject: row.subject,
            detail: row.detail,
            prev_hash: row.prev_hash,
            hash: row.hash,
        })
    }
}

const AUDIT_COLUMNS: &str = "seq, at_ms, actor, kind, subject, detail, prev_hash, hash";

/// Appends one length-prefixed field to the hash input.
fn hash_field(hasher: &mut Sha256, value: &str) {
    // Every stored field is bounded far below 4 GiB; saturating keeps the encoding total even so.
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    hasher.update(len.to_be_bytes());
    hasher.update(value.as_bytes());
}

/// The hash of an audit row (see the module docs for the encoding).
pub fn entry_hash(
    prev_hash: &[u8; 32],
    seq: u64,
    at_ms: i64,
    actor: &str,
    kind: &str,
    subject: &str,
    detail: &str,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(AUDIT_HASH_DOMAIN);
    hasher.update(prev_hash);
    hasher.update(seq.to_be_bytes());
    hasher.update(at_ms.to_be_bytes());
    hash_field(&mut hasher, actor);
    hash_field(&mut hasher, kind);
    hash_field(&mut hasher, subject);
    hash_field(&mut hasher, detail);
    hasher.finalize().into()
}

/// The chain's last row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Its seq (the number of rows).
    pub seq: u64,
    /// Its hash, lowercase hex.
    pub hash: String,
    /// Its time.
    pub at_ms: i64,
}

/// Reads the head inside a transaction: `(seq, hash bytes, at_ms)`, or row 0 for an empty log.
async fn read_head(conn: &mut SqliteConnection) -> Result<(u64, [u8; 32], i64)> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *conn).await?;
    let Some((seq, hash_hex)) = head else {
        return Ok((0, GENESIS_PREV_HASH, i64::MIN));
    };
    let (at_ms,): (i64,) = sqlx::query_as("SELECT at_ms FROM audit WHERE seq = ?")
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Corrupt { field: "audit head", reason: format!("row {seq} is missing") })?;
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&hash_hex, &mut hash)
        .map_err(|e| StoreError::Corrupt { field: "audit head", reason: e.to_string() })?;
    let seq = u64::try_from(seq)
        .map_err(|_| StoreError::Corrupt { field: "audit head", reason: format!("seq {seq} is negative") })?;
    Ok((seq, hash, at_ms))
}

/// A row ready to insert.
pub(crate) struct PreparedRow {
    seq: i64,
    at_ms: i64,
    actor: String,
    kind: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

/// The chain state an appender carries from row to row.
pub(crate) struct Appender {
    seq: u64,
    hash: [u8; 32],
    at_ms: i64,
}

impl Appender {
    /// Starts from the current head (inside the caller's write transaction).
    pub(crate) async fn from_head(conn: &mut SqliteConnection) -> Result<Self> {
        let (seq, hash, at_ms) = read_head(conn).await?;
        Ok(Self { seq, hash, at_ms })
    }

    /// Chains the next row onto the head and advances it.
    pub(crate) fn next(
        &mut self,
        at_ms: i64,
        actor: &str,
        kind: &str,
        subject: &str,
        detail: String,
    ) -> Result<PreparedRow> {
        let seq = self
            .seq
            .checked_add(1)
            .ok_or_else(|| StoreError::Conflict("the audit log has reached its last seq".into()))?;
        let seq_i64 = i64::try_from(seq).map_err(|_| StoreError::Conflict("the audit log is full".into()))?;
        let at_ms = at_ms.max(self.at_ms);
        let hash = entry_hash(&self.hash, seq, at_ms, actor, kind, subject, &detail);
        let row = PreparedRow {
            seq: seq_i64,
            at_ms,
            actor: actor.to_owned(),
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            detail,
            prev_hash: hex::encode(self.hash),
            hash: hex::encode(hash),
        };
        self.seq = seq;
        self.hash = hash;
        self.at_ms = at_ms;
        Ok(row)
    }

    /// Inserts rows (one multi-row statement per 100) and moves the stored head to this appender's state.
    pub(crate) async fn write(&self, conn: &mut SqliteConnection, rows: &[PreparedRow]) -> Result<()> {
        for chunk in rows.chunks(100) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO audit (seq, at_ms, actor, kind, subject, detail, prev_hash, hash) ",
            );
            query.push_values(chunk, |mut b, row| {
                b.push_bind(row.seq)
                    .push_bind(row.at_ms)
                    .push_bind(&row.actor)
                    .push_bind(&row.kind)
                    .push_bind(&row.subject)
                    .push_bind(&row.detail)
                    .push_bind(&row.prev_hash)
                    .push_bind(&row.hash);
            });
            query.build().persistent(true).execute(&mut *conn).await?;
        }
        let seq = i64::try_from(self.seq).map_err(|_| StoreError::Conflict("the audit log is full".into()))?;
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(seq)
        .bind(hex::encode(self.hash))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Checks an actor: an account name or `system`.
fn check_actor(actor: &str) -> Result<()> {
    check_text("actor", actor, MAX_ACTOR_LEN)
}

/// Appends an entry and returns the stored row.
pub async fn append(db: &Db, entry: &NewEntry<'_>) -> Result<AuditEntry> {
    check_actor(entry.actor)?;
    check_optional_text("subject", entry.subject, MAX_SUBJECT_LEN)?;
    let detail = serde_json::to_string(entry.detail)
        .map_err(|e| StoreError::Invalid { field: "audit detail", reason: e.to_string() })?;
    if detail.len() > MAX_DETAIL_LEN {
        return Err(StoreError::Invalid {
            field: "audit detail",
            reason: format!("is {} bytes, more than {MAX_DETAIL_LEN}", detail.len()),
        });
    }
    let mut tx = db.pool().begin_with("BEGIN IMMEDIATE").await?;
    let mut appender = Appender::from_head(&mut tx).await?;
    let row = appender.next(entry.at_ms, entry.actor, entry.kind.as_str(), entry.subject, detail)?;
    appender.write(&mut tx, std::slice::from_ref(&row)).await?;
    tx.commit().await?;
    Ok(AuditEntry {
        seq: appender.seq,
        at_ms: row.at_ms,
        actor: row.actor,
        kind: row.kind,
        subject: row.subject,
        detail: row.detail,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

/// The chain's head, or `None` when the log is empty.
pub async fn head(db: &Db) -> Result<Option<ChainHead>> {
    let mut conn = db.pool().acquire().await?;
    let (seq, hash, at_ms) = read_head(&mut conn).await?;
    Ok((seq > 0).then(|| ChainHead { seq, hash: hex::encode(hash), at_ms }))
}

/// The row `seq`, if the trail holds it.
pub async fn row(db: &Db, seq: u64) -> Result<Option<AuditEntry>> {
    let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
    let row: Option<AuditRow> = sqlx::query_as(&format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq = ?"))
        .bind(seq)
        .fetch_optional(db.pool())
        .await?;
    row.map(AuditEntry::try_from).transpose()
}

/// What is wrong with a row of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum BreakKind {
    /// The row's stored hash is not the hash of its fields: a field was changed.
    HashMismatch,
    /// The row's `prev_hash` is not the previous row's hash: a row before it was changed, removed or inserted.
    LinkMismatch,
    /// The row with this seq is missing (the next row present, if any, has a larger seq).
    Missing,
    /// The stored head names a row that is not the chain's last row.
    HeadMismatch,
    /// A stored hash is not 32 bytes of hex.
    Malformed,
}

impl std::fmt::Display for BreakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::HashMismatch => "its hash is not the hash of its fields (a field was changed)",
            Self::LinkMismatch => "it does not link to the row before it (a row was changed, removed or inserted)",
            Self::Missing => "it is missing",
            Self::HeadMismatch => "it is not the head",
            Self::Malformed => "a hash in it is not 32 bytes of hex",
        })
    }
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The seq of the row at fault (for [`BreakKind::Missing`], the seq that should be there).
    pub seq: u64,
    /// What is wrong.
    #[serde(flatten)]
    pub kind: BreakKind,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// How many rows were checked before the walk ended.
    pub rows_checked: u64,
    /// The last row checked that was sound, if any.
    pub last_good: Option<ChainHead>,
    /// The first break found; `None` when the whole chain is sound.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// Whether the chain is sound.
    pub fn is_sound(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Checks one row against the state of the walk (expected seq and previous hash).
fn check_row(row: &AuditEntry, expected_seq: u64, prev_hash: &str) -> Option<ChainBreak> {
    if row.seq != expected_seq {
        return Some(ChainBreak { seq: expected_seq, kind: BreakKind::Missing });
    }
    if row.prev_hash != prev_hash {
        return Some(ChainBreak { seq: row.seq, kind: BreakKind::LinkMismatch });
    }
    match row.computed_hash() {
        None => Some(ChainBreak { seq: row.seq, kind: BreakKind::Malformed }),
        Some(hash) if hex::encode(hash) != row.hash => Some(ChainBreak { seq: row.seq, kind: BreakKind::HashMismatch }),
        Some(_) => None,
    }
}

/// Walks the whole chain in batches from row 1 and reports the first row whose hash or link does not hold, or
/// whose seq is missing, and whether the stored head is the last row.
pub async fn verify(db: &Db) -> Result<VerifyReport> {
    let mut report = VerifyReport { rows_checked: 0, last_good: None, first_break: None };
    let mut prev_hash = hex::encode(GENESIS_PREV_HASH);
    let mut last_seq: u64 = 0;
    loop {
        let rows: Vec<AuditRow> =
            sqlx::query_as(&format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"))
                .bind(i64::try_from(last_seq).unwrap_or(i64::MAX))
                .bind(i64::from(BATCH))
                .fetch_all(db.pool())
                .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let row = AuditEntry::try_from(row)?;
            let expected = last_seq.saturating_add(1);
            report.rows_checked = report.rows_checked.saturating_add(1);
            if let Some(broken) = check_row(&row, expected, &prev_hash) {
                report.first_break = Some(broken);
                return Ok(report);
            }
            last_seq = row.seq;
            report.last_good = Some(ChainHead { seq: row.seq, hash: row.hash.clone(), at_ms: row.at_ms });
            prev_hash = row.hash;
        }
    }
    let stored: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(db.pool()).await?;
    let head_matches = match (&stored, &report.last_good) {
        (None, None) => true,
        (Some((seq, hash)), Some(last)) => u64::try_from(*seq).ok() == Some(last.seq) && *hash == last.hash,
        _ => false,
    };
    if !head_matches {
        // Name the row the head claims when it lies beyond the end (rows removed from the end), otherwise the
        // last row.
        let seq = match &stored {
            Some((seq, _)) => u64::try_from(*seq).unwrap_or(0).max(last_seq.saturating_add(1)),
            None => last_seq,
        };
        let kind = if stored.as_ref().is_some_and(|(s, _)| u64::try_from(*s).unwrap_or(0) > last_seq) {
            BreakKind::Missing
        } else {
            BreakKind::HeadMismatch
        };
        report.first_break = Some(ChainBreak { seq, kind });
    }
    Ok(report)
}

/// Re-checks exported rows offline: each row's hash against its fields and `prev_hash`, and the link between rows
/// whose seqs follow each other (a filtered export has gaps; a row after a gap is checked on its own hash). Rows
/// must be in ascending seq order. Returns the first break.
pub fn verify_rows(rows: &[AuditEntry]) -> Option<ChainBreak> {
    let mut previous: Option<&AuditEntry> = None;
    for row in rows {
        if let Some(prev) = previous {
            if row.seq <= prev.seq {
                return Some(ChainBreak { seq: row.seq, kind: BreakKind::LinkMismatch });
            }
            if prev.seq.checked_add(1) == Some(row.seq) && row.prev_hash != prev.hash {
                return Some(ChainBreak { seq: row.seq, kind: BreakKind::LinkMismatch });
            }
        } else if row.seq == 1 && row.prev_hash != hex::encode(GENESIS_PREV_HASH) {
            return Some(ChainBreak { seq: 1, kind: BreakKind::LinkMismatch });
        }
        match row.computed_hash() {
            None => return Some(ChainBreak { seq: row.seq, kind: BreakKind::Malformed }),
            Some(hash) if hex::encode(hash) != row.hash => {
                return Some(ChainBreak { seq: row.seq, kind: BreakKind::HashMismatch });
            }
            Some(_) => {}
        }
        previous = Some(row);
    }
    None
}

/// Which rows a list or an export shows. Every set field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only rows by this actor.
    pub actor: Option<String>,
    /// Only rows of this kind.
    pub kind: Option<AuditKind>,
    /// Only rows about this subject.
    pub subject: Option<String>,
    /// Only rows at or after this time.
    pub from_ms: Option<i64>,
    /// Only rows at or before this time.
    pub to_ms: Option<i64>,
}

impl AuditFilter {
    fn check(&self) -> Result<()> {
        if let Some(actor) = &self.actor {
            check_actor(actor)?;
        }
        if let Some(subject) = &self.subject {
            check_optional_text("subject", subject, MAX_SUBJECT_LEN)?;
        }
        Ok(())
    }
}

/// The seq range a time window covers (times never decrease along the chain), or `None` when it holds no row.
async fn seq_range(db: &Db, filter: &AuditFilter) -> Result<Option<(i64, i64)>> {
    let low = match filter.from_ms {
        None => 1,
        Some(from) => {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT seq FROM audit WHERE at_ms >= ? ORDER BY at_ms ASC, seq ASC LIMIT 1")
                    .bind(from)
                    .fetch_optional(db.pool())
                    .await?;
            match row {
                Some((seq,)) => seq,
                None => return Ok(None),
            }
        }
    };
    let high = match filter.to_ms {
        None => i64::MAX,
        Some(to) => {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT seq FROM audit WHERE at_ms <= ? ORDER BY at_ms DESC, seq DESC LIMIT 1")
                    .bind(to)
                    .fetch_optional(db.pool())
                    .await?;
            match row {
                Some((seq,)) => seq,
                None => return Ok(None),
            }
        }
    };
    Ok((low <= high).then_some((low, high)))
}

/// Narrows a seq range to the rows a cursor asks for: in list order (newest first), "after" is older and "before"
/// newer, whichever way SQL then reads them. `None` when nothing is left.
fn narrow(range: (i64, i64), cursor: &Cursor<u64>) -> Result<Option<(i64, i64)>> {
    let (mut low, mut high) = range;
    match cursor {
        Cursor::Start => {}
        Cursor::After(seq) | Cursor::Before(seq) => {
            let seq = i64::try_from(*seq)
                .map_err(|_| StoreError::Invalid { field: "cursor", reason: format!("{seq} is out of range") })?;
            if matches!(cursor, Cursor::After(_)) {
                high = high.min(seq.saturating_sub(1));
            } else {
                low = low.max(seq.saturating_add(1));
            }
        }
    }
    Ok((low <= high).then_some((low, high)))
}

/// Builds the list query (after `prefix`, e.g. `EXPLAIN QUERY PLAN `) over one seq range, newest first or
/// ascending. The range is the only condition on seq, so SQLite uses it as the bounds of its index range.
fn list_query<'a>(
    prefix: &str,
    filter: &'a AuditFilter,
    range: (i64, i64),
    ascending: bool,
    limit: u32,
) -> QueryBuilder<'a, Sqlite> {
    let mut query = QueryBuilder::<Sqlite>::new(prefix);
    query.push(format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq BETWEEN "));
    query.push_bind(range.0).push(" AND ").push_bind(range.1);
    if let Some(actor) = &filter.actor {
        query.push(" AND actor = ").push_bind(actor);
    }
    if let Some(kind) = filter.kind {
        query.push(" AND kind = ").push_bind(kind.as_str());
    }
    if let Some(subject) = &filter.subject {
        query.push(" AND subject = ").push_bind(subject);
    }
    query.push(if ascending { " ORDER BY seq ASC LIMIT " } else { " ORDER BY seq DESC LIMIT " });
    query.push_bind(i64::from(limit).saturating_add(1));
    query
}

/// Audit rows, newest first.
pub async fn list(db: &Db, filter: &AuditFilter, page: &PageRequest<u64>) -> Result<Page<AuditEntry, u64>> {
    filter.check()?;
    let limit = page.clamped_limit();
    let Some(range) = seq_range(db, filter).await? else {
        return Ok(Page { items: Vec::new(), prev: None, next: None });
    };
    let Some(range) = narrow(range, &page.cursor)? else {
        return Ok(make_page(Vec::new(), &page.cursor, limit));
    };
    let ascending = matches!(page.cursor, Cursor::Before(_));
    let mut query = list_query("", filter, range, ascending, limit);
    let rows: Vec<AuditRow> = query.build_query_as().fetch_all(db.pool()).await?;
    let entries = rows.into_iter().map(AuditEntry::try_from).collect::<Result<Vec<_>>>()?;
    Ok(make_page(entries, &page.cursor, limit))
}

/// SQLite's plan for [`list`] with this filter and page (one line per plan step), to check which index serves it.
pub async fn list_plan(db: &Db, filter: &AuditFilter, page: &PageRequest<u64>) -> Result<Vec<String>> {
    filter.check()?;
    let range = seq_range(db, filter).await?.unwrap_or((1, 0));
    let range = narrow(range, &page.cursor)?.unwrap_or((1, 0));
    let ascending = matches!(page.cursor, Cursor::Before(_));
    let mut query = list_query("EXPLAIN QUERY PLAN ", filter, range, ascending, page.clamped_limit());
    let rows = query.build().fetch_all(db.pool()).await?;
    use sqlx::Row as _;
    rows.iter().map(|row| row.try_get::<String, _>("detail").map_err(StoreError::from)).collect()
}

/// Calls `each` with every row the filter selects, oldest first, reading [`BATCH`] rows at a time.
async fn for_each_row(db: &Db, filter: &AuditFilter, mut each: impl FnMut(AuditEntry) -> Result<()>) -> Result<()> {
    filter.check()?;
    let Some(range) = seq_range(db, filter).await? else {
        return Ok(());
    };
    let mut range = range;
    loop {
        let mut query = list_query("", filter, range, true, BATCH.saturating_sub(1));
        let rows: Vec<AuditRow> = query.build_query_as().fetch_all(db.pool()).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        let next_low = last.seq.saturating_add(1);
        for row in rows {
            each(AuditEntry::try_from(row)?)?;
        }
        if next_low > range.1 {
            return Ok(());
        }
        range.0 = next_low;
    }
}

/// The CSV header of an export.
pub const CSV_HEADER: [&str; 8] = ["seq", "at_ms", "actor", "kind", "subject", "detail", "prev_hash", "hash"];

/// Writes the rows the filter selects as CSV (a header, then one row per entry, oldest first); returns how many
/// rows were written.
pub async fn export_csv<W: Write>(db: &Db, filter: &AuditFilter, writer: W) -> Result<u64> {
    let mut csv = csv::Writer::from_writer(writer);
    let export_error = |e: csv::Error| StoreError::Export(e.to_string());
    csv.write_record(CSV_HEADER).map_err(export_error)?;
    let mut count: u64 = 0;
    for_each_row(db, filter, |row| {
        csv.write_record([
            row.seq.to_string().as_str(),
            row.at_ms.to_string().as_str(),
            &row.actor,
            &row.kind,
            &row.subject,
            &row.detail,
            &row.prev_hash,
            &row.hash,
        ])
        .map_err(export_error)?;
        count = count.saturating_add(1);
        Ok(())
    })
    .await?;
    csv.flush().map_err(|e| StoreError::Export(e.to_string()))?;
    Ok(count)
}

/// A JSON export: the selected rows with their hashes, the hash rule, and the chain head at export time, so the
/// export can be re-checked offline ([`verify_rows`]) and its last rows compared with the head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExport {
    /// How each hash is computed (a pointer to the rule; the module docs define it).
    pub hash_rule: String,
    /// The filter the rows were selected with.
    pub filter: AuditFilter,
    /// The chain head when the export was made.
    pub head: Option<ChainHead>,
    /// The rows, oldest first.
    pub rows: Vec<AuditEntry>,
}

/// Builds a JSON export of the rows the filter selects, up to the head it reads first (rows appended meanwhile wait
/// for the next export); refused when more than [`MAX_EXPORT_ROWS`] match.
pub async fn export_json(db: &Db, filter: &AuditFilter) -> Result<AuditExport> {
    let head = head(db).await?;
    let last = head.as_ref().map_or(0, |head| head.seq);
    let mut rows = Vec::new();
    for_each_row(db, filter, |row| {
        if row.seq > last {
            return Ok(());
        }
        if u64::try_from(rows.len()).unwrap_or(u64::MAX) >= MAX_EXPORT_ROWS {
            return Err(StoreError::Invalid {
                field: "audit filter",
                reason: format!("selects more than {MAX_EXPORT_ROWS} rows; narrow it"),
            });
        }
        rows.push(row);
        Ok(())
    })
    .await?;
    Ok(AuditExport {
        hash_rule: "sha256(\"synod/v1/console-audit\" || prev_hash || u64be(seq) || i64be(at_ms) || \
                    u32be(len) || actor || u32be(len) || kind || u32be(len) || subject || u32be(len) || detail)"
            .to_owned(),
        filter: filter.clone(),
        head,
        rows,
    })
}
