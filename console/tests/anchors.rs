//! The audit trail against its anchor on chain, with a real SQLite file: someone who can write the file rewrites a
//! row below the anchor, or cuts the trail short, and recomputes every hash and the head. The console's hash-chain
//! check passes the doctored file (the trail is consistent with itself); the anchor does not: the console's
//! comparison with the chain and `verify-export` refuse it, naming the row.

#![allow(clippy::arithmetic_side_effects, reason = "test fixtures count small numbers of rows and blocks")]

use console::server::anchor;
use console::server::audit::{self, AuditFilter, AuditKind, NewEntry, entry_hash};
use console::server::db::Db;
use console::server::export_check;
use console::server::exports;
use governance_contracts::codec::BoundedVec;
use governance_contracts::crypto::{Digest, PublicKey, SecretKey};
use governance_contracts::execution;
use governance_contracts::ids::{BlockHash, Height, RoleId};
use governance_contracts::state::records::AnchorRecord;
use governance_contracts::state::root;
use governance_contracts::testkit::{self, TestChain, account, member, public, secret};
use governance_contracts::types::block::{CommitCertificate, CommitSignature, ConsensusVote, VoteKind};
use governance_contracts::types::{
    Action, CertifiedHeader, Outcome, Payload, ProofBundle, RecordKey, SignedTransaction,
};
use serde_json::{Value, json};
use tempfile::TempDir;

const CONSOLE: &str = "m0-console";

/// A chain of four members whose blocks are certified by their four sealers, with m0's console account.
struct Chain {
    chain: TestChain,
    headers: Vec<CertifiedHeader>,
}

impl Chain {
    fn new() -> Self {
        let mut chain = Self { chain: TestChain::with_members(4), headers: Vec::new() };
        let create = Action::CreateAccount { account: account(CONSOLE), member: member("m0"), key: public(CONSOLE) };
        let grant = Action::GrantRole {
            account: account(CONSOLE),
            role: RoleId::console(),
            expires_at: Height(10_000),
            expected: None,
        };
        for action in [create, grant] {
            let proposal =
                chain.chain.proposal(governance_contracts::types::Principal::Account(account("m0-gov")), vec![action]);
            let approvals = BoundedVec::try_new(vec![chain.chain.approval(&proposal, "m0-gov")])
                .expect("the fixture is well formed");
            chain.block(vec![chain.chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals })]);
        }
        chain
    }

    /// Applies `txs` as the next block, certified by every sealer.
    fn block(&mut self, txs: Vec<SignedTransaction>) {
        let ids = self.chain.chain.clone();
        let set = execution::validator_set(&self.chain.store).expect("the fixture is well formed");
        let height = self.chain.height.plus(1);
        let parent = self.headers.last().map_or(BlockHash(Digest::ZERO), |c| c.header.hash(&ids));
        let outcome = self.chain.apply_block(txs.clone());
        assert!(outcome.receipts.iter().all(|r| r.outcome == Outcome::Applied), "{:?}", outcome.receipts);
        let time_ms = 1_767_225_600_000 + height.0 * 1_000;
        let header = testkit::block_header(&ids, height, parent, &txs, &outcome, &set, time_ms);
        assert_eq!(set.hash(&ids), outcome.next_validator_set.hash(&ids), "the fixture keeps its sealers");
        let block = header.hash(&ids);
        let secrets: Vec<SecretKey> = ["n0", "n1", "n2", "n3"].into_iter().map(secret).collect();
        let key =
            |k: &PublicKey| secrets.iter().find(|s| &s.public_key() == k).expect("the fixture is well formed").clone();
        let signatures = set
            .validators
            .iter()
            .map(|v| {
                let vote = ConsensusVote {
                    height,
                    round: 0,
                    kind: VoteKind::Precommit,
                    block: Some(block),
                    voter: v.node.clone(),
                };
                CommitSignature { node: v.node.clone(), signature: key(&v.key).sign(&vote.signing_digest(&ids)) }
            })
            .collect();
        let certificate = CommitCertificate {
            height,
            round: 0,
            block,
            signatures: BoundedVec::try_new(signatures).expect("the fixture is well formed"),
        };
        self.headers.push(CertifiedHeader { header, certificate });
    }

    /// The console anchors row `seq` with hash `hash` (lowercase hex), in its own block.
    fn anchor(&mut self, seq: u64, hash: &str) {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hash, &mut bytes).expect("the fixture is well formed");
        let tx = self.chain.account_tx(CONSOLE, Payload::AnchorAuditTrail { seq, head: Digest::Sha256(bytes) });
        self.block(vec![tx]);
    }

    /// The console's latest anchor as the chain holds it.
    fn latest(&self) -> AnchorRecord {
        governance_contracts::contracts::anchors::latest(&self.chain.store, &account(CONSOLE))
            .expect("the store reads")
            .expect("the record is there")
    }

    /// The proof of the console's anchor at the last height, as a node serves it (no set change to carry).
    fn anchor_proof(&self) -> Value {
        let record = RecordKey::Anchor { account: account(CONSOLE) };
        let (table, key) = record.location();
        let state_proof = root::prove(&self.chain.store, table, &key, self.chain.height)
            .expect("the store reads")
            .expect("the record is there");
        let bundle = ProofBundle {
            chain: self.chain.chain.clone(),
            record,
            state_proof,
            header: self.headers.last().expect("the fixture is well formed").clone(),
            set_changes: BoundedVec::new(),
        };
        json!({ "kind": "anchor", "id": CONSOLE, "bundle": bundle })
    }
}

/// A fresh console database holding `rows` audit rows.
async fn trail(rows: u64) -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("the fixture is well formed");
    let db = Db::open(&dir.path().join("console.db")).await.expect("the fixture is well formed");
    for n in 1..=rows {
        let detail = json!({ "n": n });
        let entry = NewEntry {
            at_ms: 1_767_225_600_000 + i64::try_from(n).expect("the fixture is well formed"),
            actor: "org1-admin",
            kind: AuditKind::DraftCreated,
            subject: &format!("draft-{n}"),
            detail: &detail,
        };
        audit::append(&db, &entry).await.expect("the fixture is well formed");
    }
    (dir, db)
}

/// The JSON export of the whole trail with the anchor's proof, as `/audit/export.json` builds it.
async fn export(db: &Db, chain: &Chain) -> String {
    let proofs = vec![chain.anchor_proof()];
    let rows = audit::export_json(db, &AuditFilter::default()).await.expect("the fixture is well formed");
    exports::document(&chain.chain.chain, rows, proofs).to_string()
}

/// What someone with write access to the file does: drops the append-only triggers, applies `change`, then
/// recomputes every hash from the first row and moves the head to the last row, so that the trail is consistent
/// with itself again.
async fn doctor(db: &Db, change: &str) {
    for trigger in ["audit_no_update", "audit_no_delete"] {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .execute(db.pool())
            .await
            .expect("the fixture is well formed");
    }
    sqlx::query(change).execute(db.pool()).await.expect("the fixture is well formed");
    let mut prev = [0u8; 32];
    let mut last = (0u64, String::new());
    let all: Vec<(i64,)> = sqlx::query_as("SELECT seq FROM audit ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .expect("the fixture is well formed");
    for (seq,) in all {
        let row = audit::row(db, u64::try_from(seq).expect("the fixture is well formed"))
            .await
            .expect("the store reads")
            .expect("the record is there");
        let hash = entry_hash(&prev, row.seq, row.at_ms, &row.actor, &row.kind, &row.subject, &row.detail);
        sqlx::query("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?")
            .bind(hex::encode(prev))
            .bind(hex::encode(hash))
            .bind(seq)
            .execute(db.pool())
            .await
            .expect("the fixture is well formed");
        prev = hash;
        last = (row.seq, hex::encode(hash));
    }
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
        .bind(i64::try_from(last.0).expect("the fixture is well formed"))
        .bind(last.1)
        .execute(db.pool())
        .await
        .expect("the fixture is well formed");
}

/// An untouched trail agrees with its anchor: the console's check and `verify-export` pass, and the report names
/// the anchored row and the rows after it.
#[tokio::test]
async fn an_untouched_trail_agrees_with_its_anchor() {
    let (_dir, db) = trail(12).await;
    let mut chain = Chain::new();
    let head = audit::head(&db).await.unwrap().unwrap();
    chain.anchor(head.seq, &head.hash);
    for n in 13..=15 {
        let detail = json!({ "n": n });
        let entry = NewEntry { at_ms: 0, actor: "org1-admin", kind: AuditKind::SignIn, subject: "", detail: &detail };
        audit::append(&db, &entry).await.unwrap();
    }
    assert_eq!(anchor::disagreement(&db, &chain.latest()).await.unwrap(), None);
    let report = export_check::check(&chain.chain.genesis, &export(&db, &chain).await, false).unwrap();
    let checked = report.anchor.clone().expect("checked against the anchor");
    assert_eq!((checked.seq, checked.rows_after, checked.account.as_str()), (12, 3, CONSOLE));
    assert!(report.to_string().contains("anchored on chain: row 12 of console m0-console (m0)"), "{report}");
}

/// A row below the anchor rewritten, and every hash after it recomputed: the trail passes the console's hash-chain
/// check, but not the anchor: the console's comparison and `verify-export` name the anchored row.
#[tokio::test]
async fn a_rewritten_and_rehashed_trail_is_refused() {
    let (_dir, db) = trail(12).await;
    let mut chain = Chain::new();
    chain.anchor(10, &audit::row(&db, 10).await.unwrap().unwrap().hash);
    doctor(&db, "UPDATE audit SET actor = 'mallory' WHERE seq = 4").await;

    assert!(audit::verify(&db).await.unwrap().is_sound(), "the doctored trail is consistent with itself");
    let why = anchor::disagreement(&db, &chain.latest()).await.unwrap().expect("the anchor disagrees");
    assert!(why.contains("audit row 10: its hash") && why.contains("rewritten"), "{why}");
    let error = export_check::check(&chain.chain.genesis, &export(&db, &chain).await, false).unwrap_err();
    let error = format!("{error:#}");
    assert!(error.contains("audit row 10: its hash is not the one anchored on chain"), "{error}");
}

/// The trail cut short below the anchor, the head moved back to its new last row: the console's hash-chain check
/// passes, the anchor does not: the console and `verify-export` say rows were removed, naming the anchored row.
#[tokio::test]
async fn a_truncated_trail_is_refused() {
    let (_dir, db) = trail(12).await;
    let mut chain = Chain::new();
    chain.anchor(12, &audit::head(&db).await.unwrap().unwrap().hash);
    doctor(&db, "DELETE FROM audit WHERE seq > 9").await;

    assert!(audit::verify(&db).await.unwrap().is_sound(), "the cut trail is consistent with itself");
    let why = anchor::disagreement(&db, &chain.latest()).await.unwrap().expect("the anchor disagrees");
    assert!(why.contains("audit row 12: anchored on chain") && why.contains("removed"), "{why}");
    let error = export_check::check(&chain.chain.genesis, &export(&db, &chain).await, false).unwrap_err();
    let error = format!("{error:#}");
    assert!(error.contains("audit row 12: anchored on chain at height"), "{error}");
    assert!(error.contains("removed from the end"), "{error}");
}

/// An export whose anchor proof was taken out is refused unless the reader accepts an unanchored export.
#[tokio::test]
async fn an_export_stripped_of_its_anchor_is_refused() {
    let (_dir, db) = trail(5).await;
    let mut chain = Chain::new();
    chain.anchor(5, &audit::head(&db).await.unwrap().unwrap().hash);
    let mut stripped: Value = serde_json::from_str(&export(&db, &chain).await).unwrap();
    stripped["proofs"] = json!([]);
    let error = export_check::check(&chain.chain.genesis, &stripped.to_string(), false).unwrap_err();
    assert!(format!("{error:#}").contains("carries no anchor"), "{error:#}");
    assert!(export_check::check(&chain.chain.genesis, &stripped.to_string(), true).is_ok());
}
