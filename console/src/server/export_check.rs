//! `synod-console verify-export`: checks an audit export (`/audit/export.json`) offline, with the genesis as the only
//! thing trusted. An auditor or regulator runs it on their own machine, with no node and no console database:
//!
//! - the export names the chain the genesis pins (id and genesis hash);
//! - its rows re-hash to their stored hashes and link to each other ([`audit::verify_rows`]); when the export
//!   reaches the console's head at export time, the last row is that head; an unfiltered export holds every row
//!   from the first to the head, so a row removed from it shows (a filtered one has gaps by design);
//! - every proof bundle it carries verifies from the genesis (`governance_contracts::types::proof::verify`), as
//!   `synod verify-proof` would check it;
//! - it carries the proof of its trail's latest anchor on chain (`contracts::anchors`), and its rows agree with it:
//!   the anchored row is in the export with exactly the anchored hash, and neither the head nor, unfiltered, the
//!   last row is before it. Rows rewritten and re-hashed, or removed from the end, below the anchor are refused,
//!   naming the row. Rows after the anchor rest on the console's word (the console anchors at a bounded interval),
//!   and the report says how many. An export without an anchor is refused unless `--unanchored` accepts it.
//!
//! What remains possible is in `docs/adr/0006-audit-trail-anchors.md`: dropping or rewriting rows after the latest
//! anchor, and presenting an older anchor's genuine proof (the report gives the height and time it was proven at).
//!
//! Any failure is an error naming the row or the proof at fault; nothing is repaired or skipped silently.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::state::records::AnchorRecord;
use governance_contracts::types::{Genesis, ProofBundle, RecordValue, VerifiedRecord, proof};
use serde::{Deserialize, Serialize};

use crate::server::audit::{self, AuditExport, AuditFilter, BreakKind};
use crate::server::exports::EXPORT_FORMAT;

/// The largest export read: [`audit::MAX_EXPORT_ROWS`] rows of a few KiB each, with proofs, fits well within it.
pub const MAX_EXPORT_BYTES: u64 = 512 * 1024 * 1024;

/// An export as `/audit/export.json` writes it.
#[derive(Debug, Clone, Deserialize)]
struct ExportFile {
    format: String,
    chain: governance_contracts::domain::ChainIdentity,
    audit: AuditExport,
    #[serde(default)]
    proofs: Vec<ProofEntry>,
}

/// One entry of an export's `proofs`: a bundle, or why the console could not get one.
#[derive(Debug, Clone, Deserialize)]
struct ProofEntry {
    kind: String,
    id: String,
    bundle: Option<ProofBundle>,
    error: Option<String>,
}

/// What an export was found to hold, once every check passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    /// How many rows were checked.
    pub rows: usize,
    /// The first and last row's seq, if any.
    pub seqs: Option<(u64, u64)>,
    /// Whether the last row is the console's head at export time (an unfiltered export reaches it).
    pub reaches_head: bool,
    /// Every proof verified: kind, id, and the height it was proven at.
    pub proofs: Vec<CheckedProof>,
    /// Proofs the console could not include, with its reason (reported, not a failure of the export).
    pub missing_proofs: Vec<(String, String, String)>,
    /// The anchor the rows were checked against; `None` for an export accepted without one (`--unanchored`).
    pub anchor: Option<CheckedAnchor>,
}

/// The anchor on chain an export's rows agree with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedAnchor {
    /// The console's account.
    pub account: String,
    /// Its member.
    pub member: String,
    /// The row anchored.
    pub seq: u64,
    /// The height of the block that recorded the anchor.
    pub anchored_at: u64,
    /// The height the anchor is proven at (the newest anchor at that height).
    pub proven_at: u64,
    /// That block's time, milliseconds since the Unix epoch.
    pub proven_time_ms: u64,
    /// How many exported rows follow the anchored row: they rest on the console's word until the next anchor.
    pub rows_after: usize,
}

/// A proof that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedProof {
    /// What kind of record.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The height it was proven at.
    pub height: u64,
}

impl std::fmt::Display for ExportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seqs {
            Some((first, last)) => {
                writeln!(f, "{} audit rows (seq {first} to {last}): every hash and link holds", self.rows)?
            }
            None => writeln!(f, "no audit rows")?,
        }
        if self.reaches_head {
            writeln!(f, "the last row is the console's head at export time")?;
        }
        for p in &self.proofs {
            writeln!(f, "proof of {} {}: verified from the genesis at height {}", p.kind, p.id, p.height)?;
        }
        for (kind, id, why) in &self.missing_proofs {
            writeln!(f, "proof of {kind} {id}: not in the export ({why})")?;
        }
        match &self.anchor {
            Some(a) => {
                writeln!(
                    f,
                    "anchored on chain: row {} of console {} ({}) at height {}, the latest anchor at height {} \
                     (block time {} ms): the export holds it with the anchored hash",
                    a.seq, a.account, a.member, a.anchored_at, a.proven_at, a.proven_time_ms
                )?;
                if a.rows_after > 0 {
                    writeln!(
                        f,
                        "{} exported rows follow the anchored row: they rest on the console's word until its next \
                         anchor",
                        a.rows_after
                    )?;
                }
            }
            None => {
                writeln!(f, "NOT anchored: the export carries no anchor on chain; its rows rest on the console's word")?
            }
        }
        Ok(())
    }
}

/// Checks the export text `text` against `genesis`; `unanchored` accepts an export that carries no anchor.
pub fn check(genesis: &Genesis, text: &str, unanchored: bool) -> anyhow::Result<ExportReport> {
    let export: ExportFile = serde_json::from_str(text).context("not a console audit export")?;
    if export.format != EXPORT_FORMAT {
        bail!("the export's format is {:?}; this checker reads {EXPORT_FORMAT:?}", export.format);
    }
    let chain = genesis.identity();
    if export.chain != chain {
        bail!(
            "the export is of chain {} ({}), not of the genesis' chain {} ({})",
            export.chain.chain_id,
            export.chain.genesis_hash,
            chain.chain_id,
            chain.genesis_hash
        );
    }
    let rows = &export.audit.rows;
    if let Some(at) = audit::verify_rows(rows) {
        bail!("audit row {}: {}", at.seq, at.kind);
    }
    let last = rows.last();
    let unfiltered = export.audit.filter == AuditFilter::default();
    if unfiltered {
        // Unfiltered, the export must be the whole trail: from seq 1, without gaps, up to the head.
        for (expected, row) in (1u64..).zip(rows) {
            if row.seq != expected {
                bail!("audit row {expected}: {} from an unfiltered export", BreakKind::Missing);
            }
        }
        if let Some(head) = &export.audit.head
            && last.is_none_or(|last| last.seq != head.seq)
        {
            bail!("audit row {}: {} from an unfiltered export (the head at export time)", head.seq, BreakKind::Missing);
        }
    }
    let reaches_head = match (&export.audit.head, last) {
        (Some(head), Some(last)) if head.seq == last.seq => {
            if head.hash != last.hash {
                bail!("audit row {}: it is the head's seq but not the head's hash {}", last.seq, head.hash);
            }
            true
        }
        _ => false,
    };
    let mut report = ExportReport {
        rows: rows.len(),
        seqs: rows.first().zip(last).map(|(first, last)| (first.seq, last.seq)),
        reaches_head,
        proofs: Vec::new(),
        missing_proofs: Vec::new(),
        anchor: None,
    };
    let mut anchors = Vec::new();
    for entry in export.proofs {
        match (entry.bundle, entry.error) {
            (Some(bundle), _) => {
                let verified = proof::verify(genesis, &bundle)
                    .map_err(|e| anyhow!("proof of {} {}: does not verify: {e}", entry.kind, entry.id))?;
                let record = verified.record.to_string();
                if record != format!("{} {}", entry.kind, entry.id) {
                    bail!("proof of {} {}: it proves another record, {record}", entry.kind, entry.id);
                }
                if let Some(RecordValue::Anchor(anchor)) = &verified.value {
                    anchors.push((entry.id.clone(), anchor.clone(), verified.clone()));
                }
                report.proofs.push(CheckedProof { kind: entry.kind, id: entry.id, height: verified.height.0 });
            }
            (None, Some(why)) => report.missing_proofs.push((entry.kind, entry.id, why)),
            (None, None) => bail!("proof of {} {}: neither a bundle nor a reason", entry.kind, entry.id),
        }
    }
    for (account, anchor, verified) in &anchors {
        report.anchor = Some(check_anchor(&export.audit, unfiltered, account, anchor, verified)?);
    }
    if report.anchor.is_none() && !unanchored {
        bail!(
            "the export carries no anchor of its trail on chain, so rows rewritten or removed could not show; \
             `--unanchored` accepts it on the console's word alone"
        );
    }
    Ok(report)
}

/// Checks the exported rows agree with `anchor`, the latest anchor of console `account` as `verified` proves it:
/// the anchored row is there with the anchored hash, and the export does not end before it.
fn check_anchor(
    audit: &AuditExport,
    unfiltered: bool,
    account: &str,
    anchor: &AnchorRecord,
    verified: &VerifiedRecord,
) -> anyhow::Result<CheckedAnchor> {
    let (seq, at) = (anchor.seq, anchor.anchored_at);
    let anchored = hex::encode(anchor.head.as_bytes());
    let rows = &audit.rows;
    match rows.iter().position(|row| row.seq == seq) {
        Some(index) if rows[index].hash != anchored => {
            bail!(
                "audit row {seq}: its hash is not the one anchored on chain at height {at} ({anchored}): the trail was rewritten"
            )
        }
        Some(_) => {}
        None => {
            // A filtered export may leave the anchored row out; the head shows whether it ends before it.
            let last = rows.last().map_or(0, |row| row.seq);
            if unfiltered {
                bail!(
                    "audit row {seq}: anchored on chain at height {at}, but the export ends at row {last}: rows were \
                     removed from the end"
                );
            }
        }
    }
    match &audit.head {
        Some(head) if head.seq < seq => bail!(
            "audit row {seq}: anchored on chain at height {at}, after the export's head, row {}: rows were removed from \
             the end",
            head.seq
        ),
        Some(head) if head.seq == seq && head.hash != anchored => {
            bail!(
                "audit row {seq}: the export's head hash is not the one anchored on chain at height {at} ({anchored})"
            )
        }
        Some(_) => {}
        None => {
            bail!("audit row {seq}: anchored on chain at height {at}, but the export has no head: rows were removed")
        }
    }
    Ok(CheckedAnchor {
        account: account.to_owned(),
        member: anchor.member.to_string(),
        seq,
        anchored_at: at.0,
        proven_at: verified.height.0,
        proven_time_ms: verified.time_ms,
        rows_after: rows.iter().filter(|row| row.seq > seq).count(),
    })
}

/// Reads the export at `path` (at most [`MAX_EXPORT_BYTES`]) and checks it against the genesis at `genesis`;
/// `unanchored` accepts an export that carries no anchor.
pub fn check_file(genesis: &Path, path: &Path, unanchored: bool) -> anyhow::Result<ExportReport> {
    let (genesis, _) = crate::server::config::load_genesis(genesis)?;
    let size = std::fs::metadata(path).with_context(|| format!("cannot read the export {}", path.display()))?.len();
    if size > MAX_EXPORT_BYTES {
        bail!("the export {} is larger than {MAX_EXPORT_BYTES} bytes", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the export {}", path.display()))?;
    check(&genesis, &text, unanchored).with_context(|| format!("the export {} does not verify", path.display()))
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit;

    use super::*;
    use crate::server::audit::{AuditEntry, ChainHead, GENESIS_PREV_HASH};

    /// Three hash-chained rows from seq 1.
    fn rows() -> Vec<AuditEntry> {
        let mut prev = hex::encode(GENESIS_PREV_HASH);
        let mut rows = Vec::new();
        for (seq, (actor, kind)) in
            (1u64..).zip([("org1-admin", "sign_in"), ("org1-admin", "draft_created"), ("chain", "proposal_applied")])
        {
            let mut row = AuditEntry {
                seq,
                at_ms: 1_700_000_000_000_i64.saturating_add(i64::try_from(seq).unwrap()),
                actor: actor.into(),
                kind: kind.into(),
                subject: format!("subject-{seq}"),
                detail: format!("{{\"n\":{seq}}}"),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            row.hash = hex::encode(row.computed_hash().unwrap());
            prev = row.hash.clone();
            rows.push(row);
        }
        rows
    }

    fn export(genesis: &Genesis, rows: Vec<AuditEntry>, filter: AuditFilter) -> String {
        let head = rows.last().map(|r| ChainHead { seq: r.seq, hash: r.hash.clone(), at_ms: r.at_ms });
        serde_json::json!({
            "format": EXPORT_FORMAT,
            "chain": genesis.identity(),
            "audit": AuditExport { hash_rule: "see the module docs".into(), filter, head, rows },
            "proofs": [{ "kind": "member", "id": "org1", "error": "the node was unreachable" }],
        })
        .to_string()
    }

    /// An untouched unfiltered export verifies, reaching the head, and a proof the console could not include is
    /// reported as missing rather than passed over.
    #[test]
    fn an_untouched_export_verifies() {
        let genesis = testkit::genesis(1);
        let report = check(&genesis, &export(&genesis, rows(), AuditFilter::default()), true).unwrap();
        assert_eq!((report.rows, report.seqs, report.reaches_head), (3, Some((1, 3)), true));
        assert_eq!(report.missing_proofs.len(), 1);
        assert!(report.to_string().contains("3 audit rows (seq 1 to 3)"), "{report}");
    }

    /// An export that carries no anchor is refused, since a rewritten or shortened trail could not show; told
    /// `--unanchored`, the checker accepts it and says it is not anchored.
    #[test]
    fn an_unanchored_export_is_refused_unless_accepted() {
        let genesis = testkit::genesis(1);
        let text = export(&genesis, rows(), AuditFilter::default());
        let error = check(&genesis, &text, false).unwrap_err();
        assert!(format!("{error:#}").contains("carries no anchor"), "{error:#}");
        let report = check(&genesis, &text, true).unwrap();
        assert_eq!(report.anchor, None);
        assert!(report.to_string().contains("NOT anchored"), "{report}");
    }

    /// A changed field, a removed row and a reordered pair are each caught, naming the row.
    #[test]
    fn tampered_rows_are_named() {
        let genesis = testkit::genesis(1);
        let mut changed = rows();
        changed[1].detail = "{\"n\":99}".into();
        let error = check(&genesis, &export(&genesis, changed, AuditFilter::default()), true).unwrap_err();
        assert!(format!("{error:#}").contains("audit row 2: its hash is not the hash of its fields"), "{error:#}");

        let mut removed = rows();
        removed.remove(1);
        let error = check(&genesis, &export(&genesis, removed, AuditFilter::default()), true).unwrap_err();
        assert!(format!("{error:#}").contains("audit row 2: it is missing"), "{error:#}");

        let mut swapped = rows();
        swapped.swap(0, 1);
        let error = check(&genesis, &export(&genesis, swapped, AuditFilter::default()), true).unwrap_err();
        assert!(format!("{error:#}").contains("audit row 1"), "{error:#}");
    }

    /// A filtered export may skip rows (each is checked on its own hash), but not alter them.
    #[test]
    fn a_filtered_export_may_have_gaps_but_no_changes() {
        let genesis = testkit::genesis(1);
        let filter = AuditFilter { actor: Some("org1-admin".into()), ..AuditFilter::default() };
        let mut gapped = rows();
        gapped.remove(1);
        let report = check(&genesis, &export(&genesis, gapped.clone(), filter.clone()), true).unwrap();
        assert_eq!(report.seqs, Some((1, 3)));
        gapped[1].actor = "someone-else".into();
        let error = check(&genesis, &export(&genesis, gapped, filter), true).unwrap_err();
        assert!(format!("{error:#}").contains("audit row 3"), "{error:#}");
    }

    /// An export of another chain, of another format, or that is not an export at all, is refused saying so.
    #[test]
    fn wrong_chain_format_or_garbage_is_refused() {
        let genesis = testkit::genesis(1);
        let mut other = testkit::genesis(1);
        other.chain_id = governance_contracts::codec::Name::new("another-chain").unwrap();
        let error = check(&genesis, &export(&other, rows(), AuditFilter::default()), true).unwrap_err();
        assert!(format!("{error:#}").contains("not of the genesis' chain"), "{error:#}");

        let wrong_format = export(&genesis, rows(), AuditFilter::default()).replace(EXPORT_FORMAT, "csv/v0");
        let error = check(&genesis, &wrong_format, true).unwrap_err();
        assert!(format!("{error:#}").contains("format"), "{error:#}");

        for garbage in ["", "{", "[1,2]", "{\"format\":3}"] {
            let error = check(&genesis, garbage, true).unwrap_err();
            assert!(format!("{error:#}").contains("not a console audit export"), "{garbage}: {error:#}");
        }
    }
}
