//! Anchoring the audit trail on chain (`--anchor-key`; `governance_contracts::contracts::anchors` holds the rules,
//! `docs/adr/0006-audit-trail-anchors.md` the reasons).
//!
//! The console holds the key of its own account, one holding the `console` role (a machine's key: the account can
//! do nothing but anchor). After each block it compares its trail's head with its latest anchor on chain and, once
//! at least one row is unanchored and either `rows` rows were appended since the anchor or `blocks` blocks passed
//! since it (whichever comes first), signs and submits `AnchorAuditTrail { seq, head }` for its head and waits for
//! the receipt. So every row is anchored within about `blocks` blocks of being written while the chain runs.
//!
//! Before anchoring, the console checks that its trail still holds the row its latest anchor names, with the
//! anchored hash. If it does not (rows rewritten or removed below the anchor, or a database restored from an older
//! copy), it stops anchoring, says so in its log and in the audit page's integrity check, and never anchors over
//! the break: a new anchor on a rewritten trail would vouch for the rewrite.
//!
//! The chain's anchor is read as a proof bundle (`/v1/proofs/anchor/{account}`) and verified from the genesis
//! before it is believed, the same check `synod-console verify-export` makes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use governance_contracts::codec::encode;
use governance_contracts::crypto::{Digest, SecretKey};
use governance_contracts::ids::{AccountId, Height, RoleId};
use governance_contracts::state::records::AnchorRecord;
use governance_contracts::types::{
    Outcome, Payload, Principal, ProofBundle, RecordKey, RecordValue, Transaction, proof,
};

use crate::model::ChainSnapshot;
use crate::server::audit;
use crate::server::db::{Db, StoreError};
use crate::server::node::ProofKind;
use crate::server::state::AppState;

/// How long the console waits for an anchor's receipt.
const RECEIPT_WAIT: Duration = Duration::from_secs(30);
/// The most blocks ahead an anchor transaction stays valid.
const ANCHOR_TTL_BLOCKS: u64 = 30;
/// The largest anchor key file read.
const MAX_KEY_BYTES: u64 = 16 * 1024;

/// When the console anchors: after `rows` new rows or `blocks` blocks since its last anchor, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorInterval {
    /// Rows appended since the last anchor.
    pub rows: u64,
    /// Blocks since the last anchor.
    pub blocks: u64,
}

/// Whether the trail, whose head is row `head_seq` at `height`, is due an anchor after `latest`: some row is
/// unanchored, and `interval.rows` rows or `interval.blocks` blocks have passed since `latest` (a trail never
/// anchored is due at once).
pub fn due(latest: Option<&AnchorRecord>, head_seq: u64, height: Height, interval: AnchorInterval) -> bool {
    let Some(latest) = latest else { return head_seq > 0 };
    head_seq > latest.seq
        && (head_seq.saturating_sub(latest.seq) >= interval.rows || height.since(latest.anchored_at) >= interval.blocks)
}

/// What the console knows of its anchoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnchorStatus {
    /// The console's account: the one whose current key is the anchor key and which holds the `console` role.
    pub account: Option<AccountId>,
    /// The latest anchor of that account the chain holds, as last read or confirmed (`None`: none yet).
    pub latest: Option<AnchorRecord>,
    /// Whether the chain's anchor was read since the console started.
    pub read: bool,
    /// Why anchoring stopped or failed last, if it did.
    pub problem: Option<String>,
}

/// The console's anchoring: its key, its interval, and what it knows.
pub struct Anchoring {
    key: SecretKey,
    interval: AnchorInterval,
    status: Mutex<AnchorStatus>,
}

impl std::fmt::Debug for Anchoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchoring")
            .field("key", &self.key.public_key())
            .field("interval", &self.interval)
            .field("status", &self.status())
            .finish()
    }
}

impl Anchoring {
    /// Anchoring with `key` at `interval`.
    pub fn new(key: SecretKey, interval: AnchorInterval) -> Self {
        Self { key, interval, status: Mutex::new(AnchorStatus::default()) }
    }

    /// Reads the key file (PKCS#8 PEM, as `synod key` and `openssl genpkey -algorithm ed25519` write it).
    pub fn load(path: &std::path::Path, interval: AnchorInterval) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let size = std::fs::metadata(path).with_context(|| format!("cannot read the anchor key {}", path.display()))?;
        if size.len() > MAX_KEY_BYTES {
            anyhow::bail!("the anchor key {} is larger than {MAX_KEY_BYTES} bytes", path.display());
        }
        let pem =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the anchor key {}", path.display()))?;
        let key = SecretKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("the anchor key {} is not a PKCS#8 ed25519 key: {e}", path.display()))?;
        Ok(Self::new(key, interval))
    }

    /// What the console knows now.
    pub fn status(&self) -> AnchorStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, change: impl FnOnce(&mut AnchorStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }

    /// The interval.
    pub fn interval(&self) -> AnchorInterval {
        self.interval
    }

    /// The console's account in `snapshot`: the one whose current key is the anchor key.
    pub fn account_in(&self, snapshot: &ChainSnapshot) -> Option<AccountId> {
        snapshot.account_by_key(&self.key.public_key()).map(|account| account.id.clone())
    }
}

/// How row `anchor.seq` of the trail in `db` disagrees with the anchor, in words, or `None` when it holds the
/// anchored hash.
pub async fn disagreement(db: &Db, anchor: &AnchorRecord) -> Result<Option<String>, StoreError> {
    let anchored = hex::encode(anchor.head.as_bytes());
    Ok(match audit::row(db, anchor.seq).await? {
        Some(row) if row.hash == anchored => None,
        Some(row) => Some(format!(
            "audit row {}: its hash {} is not the one the chain anchored at height {} ({anchored}): the trail was \
             rewritten",
            anchor.seq, row.hash, anchor.anchored_at
        )),
        None => Some(format!(
            "audit row {}: anchored on chain at height {} but missing from the trail: rows were removed",
            anchor.seq, anchor.anchored_at
        )),
    })
}

/// The chain's latest anchor of `account`, from a proof bundle the node serves, verified from the genesis.
pub async fn read_chain_anchor(state: &AppState, account: &AccountId) -> anyhow::Result<Option<AnchorRecord>> {
    let value = state.node.proof(ProofKind::Anchor, account.as_str()).await?;
    let bundle: ProofBundle = serde_json::from_value(value)?;
    let verified = proof::verify(&state.genesis, &bundle)?;
    if verified.record != (RecordKey::Anchor { account: account.clone() }) {
        anyhow::bail!("the node sent a proof of {} for the anchor of {account}", verified.record);
    }
    match verified.value {
        None => Ok(None),
        Some(RecordValue::Anchor(record)) => Ok(Some(record)),
        Some(other) => anyhow::bail!("the anchor of {account} proves another kind of record: {other:?}"),
    }
}

/// Starts anchoring in the background, when the console has an anchor key.
pub fn spawn(state: AppState) {
    let Some(anchoring) = state.anchoring.clone() else { return };
    tokio::spawn(async move {
        let mut blocks = state.snapshot.clone();
        loop {
            if let Err(error) = step(&state, &anchoring).await {
                tracing::warn!(error = %format!("{error:#}"), "anchoring the audit trail");
                anchoring.update(|s| s.problem = Some(format!("{error:#}")));
            }
            if blocks.changed().await.is_err() {
                return;
            }
        }
    });
}

/// One round: find the account, read its anchor once, check the trail against it, and anchor when due.
async fn step(state: &AppState, anchoring: &Arc<Anchoring>) -> anyhow::Result<()> {
    let snapshot = state.snapshot();
    if snapshot.stale {
        return Ok(());
    }
    let key = anchoring.key.public_key();
    let Some((account, member)) = snapshot.account_by_key(&key).map(|a| (a.id.clone(), a.record.member.clone())) else {
        anyhow::bail!("the anchor key {key} is no account's current key: nothing is anchored");
    };
    if !snapshot.holds_role(&account, &RoleId::console()) {
        anyhow::bail!("{account}, whose key is the anchor key, does not hold the console role: nothing is anchored");
    }
    let status = anchoring.status();
    let latest = if status.read && status.account.as_ref() == Some(&account) {
        status.latest
    } else {
        let latest = read_chain_anchor(state, &account).await?;
        anchoring.update(|s| {
            s.account = Some(account.clone());
            s.latest = latest.clone();
            s.read = true;
        });
        latest
    };
    if let Some(anchor) = &latest
        && let Some(why) = disagreement(&state.db, anchor).await?
    {
        tracing::error!(%account, "{why}; the console stops anchoring");
        anchoring.update(|s| s.problem = Some(why.clone()));
        return Ok(());
    }
    let Some(head) = audit::head(&state.db).await? else { return Ok(()) };
    if !due(latest.as_ref(), head.seq, snapshot.height, anchoring.interval) {
        anchoring.update(|s| s.problem = None);
        return Ok(());
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&head.hash, &mut bytes)
        .map_err(|e| anyhow::anyhow!("the trail's head hash {} is not 32 bytes of hex: {e}", head.hash))?;
    let ttl = snapshot.params.as_ref().map_or(ANCHOR_TTL_BLOCKS, |p| p.max_tx_ttl.min(ANCHOR_TTL_BLOCKS));
    let tx = Transaction {
        sender: Principal::Account(account.clone()),
        valid_until: snapshot.height.plus(ttl),
        payload: Payload::AnchorAuditTrail { seq: head.seq, head: Digest::Sha256(bytes) },
    };
    let signed = tx.sign(&state.chain, &anchoring.key);
    let hash = state.node.submit(&hex::encode(encode(&signed))).await?;
    let Some(body) = state.node.wait(&hash, RECEIPT_WAIT).await? else {
        anyhow::bail!("the anchor of row {} ({hash}) was not finalised within {RECEIPT_WAIT:?}", head.seq);
    };
    match body.receipt.outcome {
        Outcome::Applied => {
            let record = AnchorRecord { member, seq: head.seq, head: Digest::Sha256(bytes), anchored_at: body.height };
            tracing::info!(%account, seq = head.seq, height = %body.height, "anchored the audit trail");
            anchoring.update(|s| {
                s.latest = Some(record);
                s.problem = None;
            });
            Ok(())
        }
        Outcome::Rejected { reason } => {
            // Read the chain again next round: it may hold an anchor this console did not make.
            anchoring.update(|s| s.read = false);
            anyhow::bail!("the chain refused the anchor of row {}: {reason}", head.seq)
        }
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit::member;

    use super::*;

    fn anchored(seq: u64, at: u64) -> AnchorRecord {
        AnchorRecord { member: member("m0"), seq, head: Digest::ZERO, anchored_at: Height(at) }
    }

    /// A trail is due an anchor once a row is unanchored and either enough rows or enough blocks passed; a trail
    /// never anchored is due as soon as it has a row; an anchored head is never due again.
    #[test]
    fn anchors_come_at_a_bounded_interval() {
        let every = AnchorInterval { rows: 10, blocks: 5 };
        assert!(!due(None, 0, Height(1), every));
        assert!(due(None, 1, Height(1), every));
        let latest = anchored(20, 100);
        assert!(!due(Some(&latest), 20, Height(1_000), every), "nothing new");
        assert!(!due(Some(&latest), 21, Height(104), every), "one row, four blocks");
        assert!(due(Some(&latest), 21, Height(105), every), "five blocks");
        assert!(due(Some(&latest), 30, Height(101), every), "ten rows");
    }
}
