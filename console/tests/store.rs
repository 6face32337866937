//! The console's SQLite workspace and audit trail, against real database files in a temporary directory.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test fixtures compute small row numbers and times"
)]

use console::i18n::Lang;
use console::server::audit::{self, AuditFilter, AuditKind, BreakKind, ChainBreak, NewEntry};
use console::server::db::{
    Challenge, Cursor, Db, Delivery, DraftFilter, DraftStatus, MirroredProposal, NewDraft, NewSession, Page,
    PageRequest, ProposalFilter, ProposalKey, ProposalState, StoreError, seed, seed_proposal_id,
};
use serde_json::json;

const MAX_PAGE: u32 = console::server::db::MAX_PAGE_SIZE;
use tempfile::TempDir;

/// A new database file in a new temporary directory.
async fn fresh() -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&dir.path().join("console.db")).await.expect("open");
    (dir, db)
}

fn new_draft(author: &str, title: &str) -> NewDraft {
    NewDraft {
        proposal_hex: "00aa11bb".into(),
        proposal_id: "ab".repeat(32),
        title: title.into(),
        kinds: vec!["admit_member".into(), "set_member_weight".into()],
        author: author.into(),
    }
}

fn proposal(id: u32, status: ProposalState, height: u64, updated: u64) -> MirroredProposal {
    MirroredProposal {
        id: seed_proposal_id(id),
        title: format!("Admit member bank-{id}"),
        status,
        proposer: "org1-admin".into(),
        kinds: vec!["admit_member".into()],
        submitted_height: height,
        expires_at: height + 100,
        approved_weight: 10,
        required_weight: 67,
        updated_height: updated,
        detail: "{\"actions\":1}".into(),
    }
}

/// Reads every page of a list forwards, then every page backwards from the last one, returning the keys each walk
/// saw in list order.
async fn walk<T, K, F, Fut>(limit: u32, mut read: F) -> (Vec<K>, Vec<K>)
where
    K: Clone,
    T: console::server::db::Keyed<Key = K>,
    F: FnMut(PageRequest<K>) -> Fut,
    Fut: std::future::Future<Output = Page<T, K>>,
{
    let keys = |page: &Page<T, K>| -> Vec<K> {
        assert!(page.items.len() <= limit as usize);
        page.items.iter().map(|item| item.key()).collect()
    };
    let mut pages: Vec<Vec<K>> = Vec::new();
    let mut request = PageRequest::first(limit);
    loop {
        let page = read(request).await;
        pages.push(keys(&page));
        match page.next {
            Some(next) => request = PageRequest::after(next, limit),
            None => break,
        }
    }
    let forward: Vec<K> = pages.concat();
    let last = pages.pop().unwrap_or_default();
    let mut cursor = last.first().cloned();
    let mut backward_pages = vec![last];
    while let Some(key) = cursor {
        let page = read(PageRequest::before(key, limit)).await;
        backward_pages.push(keys(&page));
        cursor = page.prev;
    }
    let backward = backward_pages.into_iter().rev().flatten().collect();
    (forward, backward)
}

/// The migrations create every table in a new file, and reopening the same file applies nothing twice and keeps
/// the data.
#[tokio::test]
async fn migrations_apply_to_a_new_file_and_reopen_idempotently() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested-name.db");
    assert!(!path.exists());
    let db = Db::open(&path).await.expect("open new");
    assert!(path.exists());
    let tables: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(db.pool())
        .await
        .expect("tables");
    let names: Vec<&str> = tables.iter().map(|(n,)| n.as_str()).collect();
    for table in ["audit", "audit_head", "challenges", "drafts", "proposal_kinds", "proposals", "sessions", "webhooks"]
    {
        assert!(names.contains(&table), "missing table {table} in {names:?}");
    }
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(db.pool()).await.expect("mode");
    assert_eq!(mode, "wal");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(db.pool()).await.expect("fk");
    assert_eq!(fk, 1);
    let draft = db.create_draft(&new_draft("org1-admin", "Keep me"), 1).await.expect("draft");
    db.close().await;

    let db = Db::open(&path).await.expect("reopen");
    let (applied,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(db.pool()).await.expect("migrations");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).expect("dir").count();
    assert_eq!(applied, i64::try_from(files).expect("count"));
    assert_eq!(db.get_draft(draft.id).await.expect("get"), Some(draft));
}

/// A draft is stored and read back whole, lists filter by status and author, and only a draft in state `draft`
/// can be submitted or abandoned.
#[tokio::test]
async fn drafts_round_trip_and_change_state_once() {
    let (_dir, db) = fresh().await;
    let a = db.create_draft(&new_draft("org1-admin", "Admit bank"), 100).await.expect("a");
    let b = db.create_draft(&new_draft("org2-admin", "Re-weight"), 200).await.expect("b");
    assert_eq!(a.status, DraftStatus::Draft);
    assert_eq!(a.kinds, vec!["admit_member".to_owned(), "set_member_weight".to_owned()]);
    assert_eq!(a.created_ms, 100);
    assert_eq!(db.get_draft(a.id).await.expect("get").as_ref(), Some(&a));

    let submitted = db.mark_draft_submitted(a.id, &"cd".repeat(32), 300).await.expect("submit");
    assert_eq!(submitted.status, DraftStatus::Submitted);
    assert_eq!(submitted.submitted_tx, Some("cd".repeat(32)));
    assert_eq!(submitted.updated_ms, 300);
    assert!(matches!(db.abandon_draft(a.id, 400).await, Err(StoreError::Conflict(_))));
    assert!(matches!(db.mark_draft_submitted(a.id, "ee", 400).await, Err(StoreError::Conflict(_))));
    assert!(matches!(db.abandon_draft(9999, 400).await, Err(StoreError::NotFound { .. })));
    assert_eq!(db.abandon_draft(b.id, 500).await.expect("abandon").status, DraftStatus::Abandoned);

    let all = db.list_drafts(&DraftFilter::default(), &PageRequest::first(10)).await.expect("all");
    assert_eq!(all.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    let by_author = DraftFilter { author: Some("org1-admin".into()), ..DraftFilter::default() };
    let page = db.list_drafts(&by_author, &PageRequest::first(10)).await.expect("author");
    assert_eq!(page.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![a.id]);
    let abandoned = DraftFilter { status: Some(DraftStatus::Abandoned), ..DraftFilter::default() };
    let page = db.list_drafts(&abandoned, &PageRequest::first(10)).await.expect("status");
    assert_eq!(page.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![b.id]);
}

/// Bad draft input is refused with a clear error naming the field.
#[tokio::test]
async fn drafts_refuse_bad_input() {
    let (_dir, db) = fresh().await;
    let mut bad_hex = new_draft("org1-admin", "t");
    bad_hex.proposal_hex = "zz".into();
    assert!(matches!(db.create_draft(&bad_hex, 1).await, Err(StoreError::Invalid { field: "proposal", .. })));
    let long_title = new_draft("org1-admin", &"x".repeat(10_000));
    assert!(matches!(db.create_draft(&long_title, 1).await, Err(StoreError::Invalid { field: "title", .. })));
    let mut bad_kind = new_draft("org1-admin", "t");
    bad_kind.kinds = vec!["admit,member".into()];
    assert!(matches!(db.create_draft(&bad_kind, 1).await, Err(StoreError::Invalid { field: "kind", .. })));
    let no_author = new_draft("", "t");
    assert!(matches!(db.create_draft(&no_author, 1).await, Err(StoreError::Invalid { field: "author", .. })));
}

/// Mirroring a proposal is idempotent, a newer `updated_height` replaces the row (status, kinds and all) and an
/// older one is ignored.
#[tokio::test]
async fn proposal_upsert_keeps_the_newest_state() {
    let (_dir, db) = fresh().await;
    let first = proposal(1, ProposalState::Pending, 10, 12);
    assert!(db.upsert_proposal(&first).await.expect("insert"));
    assert!(db.upsert_proposal(&first).await.expect("same again"));
    assert_eq!(db.get_proposal(&first.id).await.expect("get"), Some(first.clone()));

    let mut newer = first.clone();
    newer.status = ProposalState::Executed;
    newer.kinds = vec!["change_sealers".into()];
    newer.updated_height = 20;
    assert!(db.upsert_proposal(&newer).await.expect("newer"));
    let mut older = first.clone();
    older.status = ProposalState::Cancelled;
    older.updated_height = 15;
    assert!(!db.upsert_proposal(&older).await.expect("older"));
    assert_eq!(db.get_proposal(&first.id).await.expect("get"), Some(newer.clone()));

    let by_old_kind = ProposalFilter { kind: Some("admit_member".into()), ..ProposalFilter::default() };
    assert!(db.list_proposals(&by_old_kind, &PageRequest::first(10)).await.expect("old kind").items.is_empty());
    let by_new_kind = ProposalFilter {
        kind: Some("change_sealers".into()),
        status: Some(ProposalState::Executed),
        ..ProposalFilter::default()
    };
    let page = db.list_proposals(&by_new_kind, &PageRequest::first(10)).await.expect("new kind");
    assert_eq!(page.items, vec![newer]);
    let counts = db.count_proposals_by_status().await.expect("counts");
    assert!(counts.contains(&(ProposalState::Executed, 1)));
    assert!(counts.contains(&(ProposalState::Pending, 0)));
}

/// Keyset pagination of proposals, forwards and backwards, with and without filters, visits every matching row
/// exactly once in list order, and the filters select exactly the rows a full scan would.
#[tokio::test]
async fn proposal_pages_visit_every_row_once_in_order() {
    let (_dir, db) = fresh().await;
    seed(&db, 1_200, 0, 1_000_000).await.expect("seed");
    let all: Vec<MirroredProposal> = {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM proposals").fetch_all(db.pool()).await.expect("ids");
        let mut all = Vec::new();
        for (id,) in rows {
            all.push(db.get_proposal(&id).await.expect("get").expect("present"));
        }
        all
    };
    assert_eq!(all.len(), 1_200);
    let filters = [
        ProposalFilter::default(),
        ProposalFilter { status: Some(ProposalState::Executed), ..ProposalFilter::default() },
        ProposalFilter { kind: Some("admit_member".into()), ..ProposalFilter::default() },
        ProposalFilter {
            kind: Some("set_policy".into()),
            status: Some(ProposalState::Expired),
            ..ProposalFilter::default()
        },
        ProposalFilter { proposer: Some("org2-admin".into()), ..ProposalFilter::default() },
        ProposalFilter { text: Some("BANK-1".into()), ..ProposalFilter::default() },
        ProposalFilter { text: Some("n".into()), status: Some(ProposalState::Pending), ..ProposalFilter::default() },
    ];
    for filter in filters {
        let mut expected: Vec<ProposalKey> = all
            .iter()
            .filter(|p| filter.status.is_none_or(|s| p.status == s))
            .filter(|p| filter.kind.as_ref().is_none_or(|k| p.kinds.contains(k)))
            .filter(|p| filter.proposer.as_ref().is_none_or(|who| &p.proposer == who))
            .filter(|p| filter.text.as_ref().is_none_or(|t| p.title.to_lowercase().contains(&t.to_lowercase())))
            .map(|p| ProposalKey { submitted_height: p.submitted_height, id: p.id.clone() })
            .collect();
        expected.sort();
        expected.reverse();
        assert!(!expected.is_empty(), "filter {filter:?} selects nothing in the seed");
        let (forward, backward) = walk(37, |request| {
            let db = db.clone();
            let filter = filter.clone();
            async move { db.list_proposals(&filter, &request).await.expect("page") }
        })
        .await;
        assert_eq!(forward, expected, "forward walk with {filter:?}");
        assert_eq!(backward, expected, "backward walk with {filter:?}");
    }
}

/// The proposal list by status, by kind and by kind and status is served by its index, in index order (no sort).
#[tokio::test]
async fn proposal_filters_use_their_index() {
    let (_dir, db) = fresh().await;
    seed(&db, 300, 0, 1_000_000).await.expect("seed");
    let deep = PageRequest::after(ProposalKey { submitted_height: 500, id: seed_proposal_id(3) }, 50);
    let cases = [
        (ProposalFilter { status: Some(ProposalState::Pending), ..ProposalFilter::default() }, "proposals_by_status"),
        (ProposalFilter { kind: Some("admit_node".into()), ..ProposalFilter::default() }, "proposal_kinds_by_kind"),
        (
            ProposalFilter {
                kind: Some("admit_node".into()),
                status: Some(ProposalState::Failed),
                ..ProposalFilter::default()
            },
            "proposal_kinds_by_kind_status",
        ),
        (ProposalFilter { proposer: Some("org3-admin".into()), ..ProposalFilter::default() }, "proposals_by_proposer"),
        (ProposalFilter::default(), "proposals_by_height"),
    ];
    for (filter, index) in cases {
        for page in [PageRequest::first(50), deep.clone()] {
            let plan = db.proposal_list_plan(&filter, &page).await.expect("plan").join("\n");
            assert!(uses_index(&plan, index), "{filter:?} should use {index}:\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{filter:?} should read in index order:\n{plan}");
        }
    }
}

/// Whether a query plan reads through the named index.
fn uses_index(plan: &str, index: &str) -> bool {
    plan.lines().any(|line| line.contains(" INDEX ") && (line.ends_with(index) || line.contains(&format!(" {index} "))))
}

/// A title search finds exactly the matching titles both when the text is rare (through the trigram index) and
/// when it is common (row by row along the list order), and says which way it went in its plan.
#[tokio::test]
async fn title_search_is_exact_for_rare_and_common_text() {
    let (_dir, db) = fresh().await;
    for n in 0..2_050_u32 {
        let mut row = proposal(n, ProposalState::Pending, u64::from(n) + 1, 1);
        row.title = format!("Common title {n}");
        db.upsert_proposal(&row).await.expect("upsert");
    }
    let cases = [("COMMON", 2_050, false), ("title 7", 1 + 10 + 100, true), ("le 2049", 1, true)];
    for (text, count, indexed) in cases {
        let filter = ProposalFilter { text: Some(text.into()), ..ProposalFilter::default() };
        let mut seen = Vec::new();
        let mut request = PageRequest::first(MAX_PAGE);
        loop {
            let page = db.list_proposals(&filter, &request).await.expect("page");
            assert!(page.items.iter().all(|p| p.title.to_lowercase().contains(&text.to_lowercase())));
            seen.extend(page.items.iter().map(|p| p.submitted_height));
            match page.next {
                Some(next) => request = PageRequest::after(next, MAX_PAGE),
                None => break,
            }
        }
        assert_eq!(seen.len(), count, "matches for {text:?}");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first for {text:?}");
        let plan = db.proposal_list_plan(&filter, &PageRequest::first(50)).await.expect("plan").join("\n");
        assert_eq!(plan.contains("proposal_titles"), indexed, "{text:?}:\n{plan}");
    }
}

/// A login challenge can be taken once, never after it expires, and expired ones are purged.
#[tokio::test]
async fn challenges_are_taken_once_and_not_after_expiry() {
    let (_dir, db) = fresh().await;
    let challenge = |nonce: &str, expires_ms| Challenge {
        nonce: nonce.into(),
        account: "org1-admin".into(),
        origin: "http://127.0.0.1:8080".into(),
        expires_ms,
    };
    db.insert_challenge(&challenge("aa01", 2_000), 1_000).await.expect("insert");
    db.insert_challenge(&challenge("aa02", 2_000), 1_000).await.expect("insert");
    assert!(matches!(db.insert_challenge(&challenge("aa01", 3_000), 1_000).await, Err(StoreError::Database(_))));
    assert!(matches!(
        db.insert_challenge(&challenge("aa03", 500), 1_000).await,
        Err(StoreError::Invalid { field: "challenge expiry", .. })
    ));

    assert_eq!(db.take_challenge("aa01", 1_500).await.expect("take"), Some(challenge("aa01", 2_000)));
    assert_eq!(db.take_challenge("aa01", 1_500).await.expect("take again"), None);
    assert_eq!(db.take_challenge("aa02", 2_000).await.expect("take expired"), None);
    assert_eq!(db.take_challenge("ffff", 1_000).await.expect("take unknown"), None);
    assert_eq!(db.purge_expired_challenges(2_000).await.expect("purge"), 2);
}

/// A session is found by its cookie value until it expires, is stored under the value's hash only, keeps the
/// chosen language, and is gone once deleted.
#[tokio::test]
async fn sessions_expire_and_store_only_the_hash() {
    let (_dir, db) = fresh().await;
    let token = "secret-cookie-value-0123456789";
    let new = NewSession {
        token,
        account: "org1-admin",
        signing_key: "ed25519:00",
        member: Some("org1"),
        created_ms: 1_000,
        expires_ms: 5_000,
        lang: Lang::En,
        csrf_token: "csrf-abc",
    };
    let session = db.create_session(&new).await.expect("create");
    assert_eq!(session.id_hash, console::server::db::session_id_hash(token));
    let (leaks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE id_hash = ? OR account = ?")
        .bind(token)
        .bind(token)
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(leaks, 0);

    assert_eq!(db.valid_session(token, 4_999).await.expect("valid"), Some(session.clone()));
    assert_eq!(db.valid_session(token, 5_000).await.expect("expired"), None);
    assert_eq!(db.valid_session("another-value", 2_000).await.expect("unknown"), None);
    assert!(db.set_session_lang(token, Lang::ZhCn).await.expect("lang"));
    assert_eq!(db.valid_session(token, 2_000).await.expect("valid").map(|s| s.lang), Some(Lang::ZhCn));
    assert!(db.delete_session(token).await.expect("delete"));
    assert_eq!(db.valid_session(token, 2_000).await.expect("deleted"), None);

    db.create_session(&NewSession { token: "other", expires_ms: 3_000, ..new.clone() }).await.expect("other");
    db.create_session(&NewSession { token: "third", expires_ms: 9_000, ..new }).await.expect("third");
    assert_eq!(db.delete_expired_sessions(3_000).await.expect("purge"), 1);
    assert!(db.valid_session("third", 3_000).await.expect("kept").is_some());
}

/// Webhooks are added, listed (all, or one member's) and removed by their own member only, with what they were
/// sent; a duplicate URL or a URL that is not HTTP is refused.
#[tokio::test]
async fn webhooks_round_trip() {
    let (_dir, db) = fresh().await;
    let events = vec!["needs_approval".to_owned(), "expires_soon".to_owned()];
    let hook = db.add_webhook("https://hooks.example/synod", &events, "m0", 10).await.expect("add");
    assert_eq!(db.list_webhooks().await.expect("list"), vec![hook.clone()]);
    assert!(matches!(
        db.add_webhook("https://hooks.example/synod", &events, "m0", 11).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(db.add_webhook("file:///etc/passwd", &events, "m0", 11).await, Err(StoreError::Invalid { .. })));
    assert!(matches!(db.add_webhook("https://x.example", &[], "m0", 11).await, Err(StoreError::Invalid { .. })));
    assert_eq!(db.delivery(hook.id, "needs_approval", "ab").await.expect("none yet"), None);
    db.record_delivery(hook.id, "needs_approval", "ab", false, 12).await.expect("a failed attempt");
    db.record_delivery(hook.id, "needs_approval", "ab", true, 13).await.expect("an acknowledged one");
    db.record_delivery(hook.id, "needs_approval", "ab", false, 14).await.expect("a later failure");
    assert_eq!(
        db.delivery(hook.id, "needs_approval", "ab").await.expect("recorded"),
        Some(Delivery { attempts: 3, delivered: true }),
        "attempts count up and an acknowledgement is never taken back"
    );
    let other = db.add_webhook("https://hooks.example/m1", &events, "m1", 15).await.expect("add m1's");
    assert_eq!(db.list_member_webhooks("m0").await.expect("m0's"), vec![hook.clone()]);
    assert_eq!(db.list_member_webhooks("m1").await.expect("m1's"), vec![other.clone()]);
    assert!(!db.remove_webhook(hook.id, "m1").await.expect("m1 removes m0's"), "another member removed it");
    assert_eq!(db.delivery(hook.id, "needs_approval", "ab").await.expect("kept").map(|d| d.attempts), Some(3));
    assert!(db.remove_webhook(hook.id, "m0").await.expect("remove"));
    assert!(!db.remove_webhook(hook.id, "m0").await.expect("remove again"));
    assert_eq!(db.list_webhooks().await.expect("list"), vec![other]);
    assert_eq!(db.delivery(hook.id, "needs_approval", "ab").await.expect("gone"), None, "deliveries go with the hook");
}

/// Appends `n` varied entries, at times 1000, 2000, ...
async fn append_entries(db: &Db, n: u64) {
    for i in 1..=n {
        let actor = ["org1-admin", "org2-admin", "system"][(i % 3) as usize];
        let kind = AuditKind::ALL[(i % AuditKind::ALL.len() as u64) as usize];
        let subject = format!("{:064x}", i % 4);
        let detail = json!({ "n": i, "text": "détail, with \"quotes\"\nand a newline" });
        let entry = NewEntry { at_ms: (i * 1000) as i64, actor, kind, subject: &subject, detail: &detail };
        let row = audit::append(db, &entry).await.expect("append");
        assert_eq!(row.seq, i);
    }
}

/// Drops the triggers that keep the audit table append-only, as someone editing the file directly would.
async fn allow_tampering(db: &Db) {
    sqlx::query("DROP TRIGGER audit_no_update").execute(db.pool()).await.expect("drop");
    sqlx::query("DROP TRIGGER audit_no_delete").execute(db.pool()).await.expect("drop");
}

/// A log written by appends verifies, its rows link hash to hash, and the table refuses UPDATE and DELETE.
#[tokio::test]
async fn audit_chain_verifies_and_is_append_only() {
    let (_dir, db) = fresh().await;
    assert!(audit::verify(&db).await.expect("empty").is_sound());
    append_entries(&db, 25).await;
    let report = audit::verify(&db).await.expect("verify");
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(report.rows_checked, 25);
    let head = audit::head(&db).await.expect("head").expect("some");
    assert_eq!(report.last_good, Some(head.clone()));
    assert_eq!(head.seq, 25);

    assert!(sqlx::query("UPDATE audit SET actor = 'x' WHERE seq = 3").execute(db.pool()).await.is_err());
    assert!(sqlx::query("DELETE FROM audit WHERE seq = 3").execute(db.pool()).await.is_err());

    // A clock that goes backwards does not make time go backwards in the chain.
    let detail = json!({});
    let late = NewEntry { at_ms: 5, actor: "system", kind: AuditKind::Settings, subject: "", detail: &detail };
    assert_eq!(audit::append(&db, &late).await.expect("append").at_ms, 25_000);
}

/// Changing any one field of any row (through a direct UPDATE) is detected and the changed row is named.
#[tokio::test]
async fn audit_verify_names_a_changed_row() {
    let (_dir, db) = fresh().await;
    append_entries(&db, 12).await;
    allow_tampering(&db).await;
    let fields = [
        ("at_ms", "at_ms + 1"),
        ("actor", "'mallory'"),
        ("kind", "'tampered'"),
        ("subject", "'other'"),
        ("detail", "'{}'"),
        ("prev_hash", "iif(substr(prev_hash, 1, 2) = 'ff', '00', 'ff') || substr(prev_hash, 3)"),
        ("hash", "iif(substr(hash, 1, 2) = 'ff', '00', 'ff') || substr(hash, 3)"),
    ];
    for seq in [1_i64, 6, 12] {
        for (field, new_value) in fields {
            let (original,): (String,) =
                sqlx::query_as(&format!("SELECT CAST({field} AS TEXT) FROM audit WHERE seq = ?"))
                    .bind(seq)
                    .fetch_one(db.pool())
                    .await
                    .expect("read");
            sqlx::query(&format!("UPDATE audit SET {field} = {new_value} WHERE seq = ?"))
                .bind(seq)
                .execute(db.pool())
                .await
                .expect("tamper");
            let report = audit::verify(&db).await.expect("verify");
            let broken = report.first_break.expect("a change must be detected");
            let kind = if field == "prev_hash" { BreakKind::LinkMismatch } else { BreakKind::HashMismatch };
            assert_eq!(broken, ChainBreak { seq: seq as u64, kind }, "changing {field} of row {seq}");
            let restore = if field == "at_ms" { "CAST(? AS INTEGER)" } else { "?" };
            sqlx::query(&format!("UPDATE audit SET {field} = {restore} WHERE seq = ?"))
                .bind(original)
                .bind(seq)
                .execute(db.pool())
                .await
                .expect("restore");
            assert!(audit::verify(&db).await.expect("verify").is_sound(), "restoring {field} of row {seq}");
        }
    }
}

/// Deleting the first, a middle or the last row of the log is detected and the missing row is named.
#[tokio::test]
async fn audit_verify_names_a_deleted_row() {
    for seq in [1_u64, 7, 15] {
        let (_dir, db) = fresh().await;
        append_entries(&db, 15).await;
        allow_tampering(&db).await;
        sqlx::query("DELETE FROM audit WHERE seq = ?").bind(seq as i64).execute(db.pool()).await.expect("delete");
        let report = audit::verify(&db).await.expect("verify");
        assert_eq!(report.first_break, Some(ChainBreak { seq, kind: BreakKind::Missing }), "deleting row {seq}");
    }
}

/// Audit pages, forwards and backwards, with each filter (including a time window), visit every matching row once
/// in order, newest first.
#[tokio::test]
async fn audit_pages_and_filters_visit_every_row_once() {
    let (_dir, db) = fresh().await;
    append_entries(&db, 120).await;
    let filters = [
        AuditFilter::default(),
        AuditFilter { actor: Some("org2-admin".into()), ..AuditFilter::default() },
        AuditFilter { kind: Some(AuditKind::Receipt), ..AuditFilter::default() },
        AuditFilter { subject: Some(format!("{:064x}", 1)), ..AuditFilter::default() },
        AuditFilter {
            from_ms: Some(30_500),
            to_ms: Some(90_000),
            actor: Some("system".into()),
            ..AuditFilter::default()
        },
    ];
    for filter in filters {
        let expected: Vec<u64> = (1..=120_u64)
            .rev()
            .filter(|i| {
                filter.actor.as_deref().is_none_or(|a| a == ["org1-admin", "org2-admin", "system"][(i % 3) as usize])
            })
            .filter(|i| filter.kind.is_none_or(|k| k == AuditKind::ALL[(i % AuditKind::ALL.len() as u64) as usize]))
            .filter(|i| filter.subject.as_deref().is_none_or(|s| s == format!("{:064x}", i % 4)))
            .filter(|i| filter.from_ms.is_none_or(|from| (i * 1000) as i64 >= from))
            .filter(|i| filter.to_ms.is_none_or(|to| (i * 1000) as i64 <= to))
            .collect();
        assert!(!expected.is_empty());
        let (forward, backward) = walk(7, |request| {
            let db = db.clone();
            let filter = filter.clone();
            async move { audit::list(&db, &filter, &request).await.expect("page") }
        })
        .await;
        assert_eq!(forward, expected, "forward with {filter:?}");
        assert_eq!(backward, expected, "backward with {filter:?}");
    }
    let empty = AuditFilter { from_ms: Some(500_000), ..AuditFilter::default() };
    assert!(audit::list(&db, &empty, &PageRequest::first(10)).await.expect("empty").items.is_empty());
    let page = audit::list(&db, &AuditFilter::default(), &PageRequest { cursor: Cursor::Start, limit: 5 })
        .await
        .expect("first");
    assert_eq!(page.prev, None);
    assert_eq!(page.next, Some(116));
}

/// The audit list by actor and by kind is served by its index, in index order (no sort), on deep pages too.
#[tokio::test]
async fn audit_filters_use_their_index() {
    let (_dir, db) = fresh().await;
    append_entries(&db, 40).await;
    let cases = [
        (AuditFilter { actor: Some("system".into()), ..AuditFilter::default() }, "audit_by_actor"),
        (AuditFilter { kind: Some(AuditKind::SignIn), ..AuditFilter::default() }, "audit_by_kind"),
        (AuditFilter { subject: Some("ab".into()), ..AuditFilter::default() }, "audit_by_subject"),
        (
            AuditFilter {
                actor: Some("system".into()),
                from_ms: Some(3_000),
                to_ms: Some(30_000),
                ..AuditFilter::default()
            },
            "audit_by_actor",
        ),
    ];
    for (filter, index) in cases {
        for page in [PageRequest::first(20), PageRequest::after(30, 20), PageRequest::before(10, 20)] {
            let plan = audit::list_plan(&db, &filter, &page).await.expect("plan").join("\n");
            assert!(uses_index(&plan, index), "{filter:?} should use {index}:\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{filter:?} should read in index order:\n{plan}");
        }
    }
}

/// The CSV and JSON exports hold exactly the filtered rows, oldest first, and the JSON export re-verifies offline
/// while a changed row in it does not.
#[tokio::test]
async fn audit_exports_hold_the_filtered_rows() {
    let (_dir, db) = fresh().await;
    append_entries(&db, 2_500).await;
    let filter = AuditFilter { actor: Some("org1-admin".into()), ..AuditFilter::default() };
    let expected: Vec<u64> = (1..=2_500_u64).filter(|i| i % 3 == 0).collect();

    let mut csv_bytes = Vec::new();
    let written = audit::export_csv(&db, &filter, &mut csv_bytes).await.expect("csv");
    assert_eq!(written, expected.len() as u64);
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), audit::CSV_HEADER.to_vec());
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
    let seqs: Vec<u64> = records.iter().map(|r| r[0].parse().expect("seq")).collect();
    assert_eq!(seqs, expected);
    assert!(records.iter().all(|r| &r[2] == "org1-admin"));
    assert!(records[0][5].contains("\\\"quotes\\\""), "detail keeps its JSON text: {}", &records[0][5]);

    let export = audit::export_json(&db, &filter).await.expect("json");
    assert_eq!(export.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), expected);
    assert_eq!(export.head.as_ref().map(|h| h.seq), Some(2_500));
    assert_eq!(audit::verify_rows(&export.rows), None);
    let text = serde_json::to_string(&export).expect("serialise");
    let mut back: audit::AuditExport = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, export);
    back.rows[10].detail = "{\"n\":0}".into();
    assert_eq!(
        audit::verify_rows(&back.rows),
        Some(ChainBreak { seq: back.rows[10].seq, kind: BreakKind::HashMismatch })
    );

    let everything = audit::export_json(&db, &AuditFilter::default()).await.expect("all");
    assert_eq!(everything.rows.len(), 2_500);
    assert_eq!(audit::verify_rows(&everything.rows), None);
    assert_eq!(everything.rows.last().map(|r| r.hash.clone()), everything.head.map(|h| h.hash));
}

/// Seeding fills the mirror and appends a chain that verifies, continuing a chain that already has rows.
#[tokio::test]
async fn seeding_writes_varied_rows_and_a_sound_chain() {
    let (_dir, db) = fresh().await;
    append_entries(&db, 3).await;
    seed(&db, 700, 12_345, 50_000_000).await.expect("seed");
    let counts = db.count_proposals_by_status().await.expect("counts");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 700);
    assert!(counts.iter().all(|(_, n)| *n > 0), "every state appears: {counts:?}");
    let report = audit::verify(&db).await.expect("verify");
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(report.rows_checked, 12_348);
    let (kinds,): (i64,) =
        sqlx::query_as("SELECT COUNT(DISTINCT kind) FROM proposal_kinds").fetch_one(db.pool()).await.expect("kinds");
    assert!(kinds > 20);
}
