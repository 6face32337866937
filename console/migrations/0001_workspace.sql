-- The console's off-chain workspace. Nothing here is trusted by the chain.
--
-- Every list a page offers is ordered by an indexed key and paginated by keyset (never OFFSET); every filter a
-- page offers has an index whose leading columns are the filter and whose trailing columns are the list order.

-- Proposals being prepared in this organisation, before and after they are submitted.
CREATE TABLE drafts (
    id            INTEGER PRIMARY KEY,
    proposal_hex  TEXT    NOT NULL,            -- the proposal's canonical bytes, lowercase hex
    proposal_id   TEXT    NOT NULL,            -- the proposal id (its approval digest), lowercase hex
    title         TEXT    NOT NULL,
    kinds         TEXT    NOT NULL,            -- the action kinds, comma-joined
    author        TEXT    NOT NULL,            -- the account that drafted it
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'submitted', 'abandoned')),
    submitted_tx  TEXT                         -- the hash of the transaction that submitted it
);
CREATE INDEX drafts_by_status ON drafts (status, id);
CREATE INDEX drafts_by_author ON drafts (author, id);

-- The console's mirror of on-chain proposals, for fast lists. `seq` is a stable row number for the title index;
-- `id` is the proposal id.
CREATE TABLE proposals (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL,
    status           TEXT    NOT NULL
                     CHECK (status IN ('open', 'queued', 'applied', 'failed', 'expired', 'cancelled')),
    proposer         TEXT    NOT NULL,
    kinds            TEXT    NOT NULL,         -- comma-joined; `proposal_kinds` holds one row per kind
    submitted_height INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    approved_weight  INTEGER NOT NULL,
    required_weight  INTEGER NOT NULL,
    updated_height   INTEGER NOT NULL,
    detail           TEXT    NOT NULL          -- JSON
);
CREATE INDEX proposals_by_height ON proposals (submitted_height, id);
CREATE INDEX proposals_by_status ON proposals (status, submitted_height, id);
CREATE INDEX proposals_by_proposer ON proposals (proposer, submitted_height, id);

-- One row per (proposal, action kind), carrying the list order and the status so that "kind = X" and
-- "kind = X and status = Y" are index ranges.
CREATE TABLE proposal_kinds (
    proposal_id      TEXT    NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    submitted_height INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, kind)
) WITHOUT ROWID;
CREATE INDEX proposal_kinds_by_kind ON proposal_kinds (kind, submitted_height, proposal_id);
CREATE INDEX proposal_kinds_by_kind_status ON proposal_kinds (kind, status, submitted_height, proposal_id);

-- Substring search in titles: a trigram full-text index kept in step with `proposals` by triggers.
CREATE VIRTUAL TABLE proposal_titles USING fts5 (title, content = 'proposals', content_rowid = 'seq', tokenize = 'trigram');
CREATE TRIGGER proposals_title_insert AFTER INSERT ON proposals BEGIN
    INSERT INTO proposal_titles (rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER proposals_title_delete AFTER DELETE ON proposals BEGIN
    INSERT INTO proposal_titles (proposal_titles, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER proposals_title_update AFTER UPDATE OF title ON proposals BEGIN
    INSERT INTO proposal_titles (proposal_titles, rowid, title) VALUES ('delete', old.seq, old.title);
    INSERT INTO proposal_titles (rowid, title) VALUES (new.seq, new.title);
END;

-- Signed-in browsers. The key is the SHA-256 of the session cookie's value, never the value itself.
CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL,
    member     TEXT,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    lang       TEXT    NOT NULL,
    csrf_token TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_ms);

-- One-time login challenges.
CREATE TABLE challenges (
    nonce      TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL,
    origin     TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX challenges_by_expiry ON challenges (expires_ms);

-- Where to send notifications.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL UNIQUE,
    events     TEXT    NOT NULL,               -- comma-joined event names
    created_ms INTEGER NOT NULL
);

-- The append-only, hash-chained audit log (see `server/audit.rs` for the hash).
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    detail    TEXT    NOT NULL,                -- JSON, exactly the text that was hashed
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_by_actor ON audit (actor, seq);
CREATE INDEX audit_by_kind ON audit (kind, seq);
CREATE INDEX audit_by_subject ON audit (subject, seq);
CREATE INDEX audit_by_time ON audit (at_ms, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The audit chain's head (its last row), so that removing rows from the end shows too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
