//! What a running node does on its own after each committed block, besides consensus:
//!
//! - **Key pickup.** When the chain lists a key for this node that it does not hold (its operator ran
//!   `synod key rotate`, which wrote the new key into `HOME/keys/`, and the rotation was approved), it reloads the
//!   key directory, so from the switch height on it signs with the new key without a restart.
//! - **Readiness attestation.** An observer that has caught up signs an `AttestReadiness` transaction with its node
//!   key, so the committee can promote it (promotion needs an attestation within `readiness_window` blocks). It
//!   attests again when half the window has passed, and never has more than one attestation in flight.

use std::path::PathBuf;

use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId};
use governance_contracts::state::records::NodeRecord;
use governance_contracts::state::tables::NODES;
use governance_contracts::types::action::{NodeKind, Principal};
use governance_contracts::types::{Payload, SignedTransaction, Transaction};

/// How many blocks an attestation stays valid for inclusion.
const ATTESTATION_TTL: u64 = 20;

/// The node's own duties (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Duties {
    /// The node's home, where rotated keys appear; `None` for a node run without one.
    pub home: Option<PathBuf>,
    /// Whether to attest readiness.
    pub attest: bool,
    /// The last height at which the attestation in flight may still be included.
    attestation_until: Option<Height>,
}

impl Duties {
    /// Duties of a node with `home`, attesting when `attest`.
    pub fn new(home: Option<PathBuf>, attest: bool) -> Self {
        Self { home, attest, attestation_until: None }
    }

    /// Keys in the home's key directory that `held` lacks, when the chain lists `listed` for this node and it is
    /// not held. Errors reading the directory are logged: the node keeps running with the keys it has.
    pub fn pick_up_keys(&self, listed: Option<&PublicKey>, held: &[SecretKey]) -> Vec<SecretKey> {
        let (Some(home), Some(listed)) = (&self.home, listed) else { return Vec::new() };
        if held.iter().any(|k| &k.public_key() == listed) {
            return Vec::new();
        }
        match super::config::load_keys(home) {
            Ok(keys) => {
                let fresh: Vec<SecretKey> = keys
                    .into_iter()
                    .map(|(_, key)| key)
                    .filter(|key| !held.iter().any(|h| h.public_key() == key.public_key()))
                    .collect();
                if !fresh.iter().any(|k| &k.public_key() == listed) {
                    tracing::warn!(%listed, "the chain lists a key for this node that its key directory lacks");
                }
                fresh
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot reload the node's keys");
                Vec::new()
            }
        }
    }

    /// The attestation to submit after committing `committed`, if one is due: this node is an observer whose last
    /// attestation is older than half of `readiness_window` (or absent), it is not catching up, it holds its
    /// listed key, and no earlier attestation is still in flight.
    #[allow(clippy::too_many_arguments, reason = "each input is a distinct fact the decision reads")]
    pub fn attestation(
        &mut self,
        chain: &ChainIdentity,
        node: &NodeId,
        record: Option<&NodeRecord>,
        committed: Height,
        readiness_window: u64,
        catching_up: bool,
        keys: &[SecretKey],
    ) -> Option<SignedTransaction> {
        if !self.attest || catching_up || self.attestation_until.is_some_and(|until| committed <= until) {
            return None;
        }
        let record = record?;
        if record.kind != NodeKind::Observer {
            return None;
        }
        let fresh_for = readiness_window / 2;
        if record.attested_at.is_some_and(|at| committed.0.saturating_sub(at.0) < fresh_for) {
            return None;
        }
        let listed = record.key.as_ref()?;
        let key = keys.iter().find(|k| &k.public_key() == listed)?;
        let until = Height(committed.0.saturating_add(ATTESTATION_TTL));
        self.attestation_until = Some(until);
        let tx = Transaction {
            sender: Principal::Node(node.clone()),
            valid_until: until,
            payload: Payload::AttestReadiness { synced_height: committed },
        };
        Some(tx.sign(chain, key))
    }
}

/// This node's record in the committed state, if it is admitted (a read failure is logged and treated as absent).
pub fn node_record(state: &dyn governance_contracts::state::Store, node: &NodeId) -> Option<NodeRecord> {
    NODES.get(state, node).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read this node's record");
        None
    })
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit;

    use super::*;

    fn record(kind: NodeKind, key: PublicKey, attested_at: Option<Height>) -> NodeRecord {
        NodeRecord {
            owner: testkit::member("m0"),
            kind,
            weight: governance_contracts::ids::Weight(0),
            address: governance_contracts::codec::BoundedString::try_new("127.0.0.1:1").unwrap(),
            key: Some(key),
            key_history: vec![],
            attested_at,
            admitted_at: Height(0),
        }
    }

    /// An observer that caught up attests once, signed by its listed key for its committed height; it does not
    /// attest again while that attestation may still be included, nor while its attestation is fresh, nor as a
    /// sealer or while catching up.
    #[test]
    fn observers_attest_once_when_caught_up() {
        let chain = testkit::genesis(1).identity();
        let node = testkit::node("n9");
        let key = testkit::secret("n9");
        let observer = record(NodeKind::Observer, key.public_key(), None);
        let mut duties = Duties::new(None, true);
        let keys = [testkit::secret("other"), key.clone()];

        assert!(duties.attestation(&chain, &node, Some(&observer), Height(5), 600, true, &keys).is_none());
        let tx = duties.attestation(&chain, &node, Some(&observer), Height(5), 600, false, &keys).unwrap();
        assert_eq!(tx.key, key.public_key());
        assert_eq!(tx.tx.payload, Payload::AttestReadiness { synced_height: Height(5) });
        assert_eq!(tx.tx.sender, Principal::Node(node.clone()));
        assert!(tx.key.verify(&tx.tx.signing_digest(&chain), &tx.signature));
        assert!(duties.attestation(&chain, &node, Some(&observer), Height(6), 600, false, &keys).is_none());
        // The first one expired unincluded: try again.
        assert!(duties.attestation(&chain, &node, Some(&observer), Height(26), 600, false, &keys).is_some());

        let mut fresh = Duties::new(None, true);
        let attested = record(NodeKind::Observer, key.public_key(), Some(Height(100)));
        assert!(fresh.attestation(&chain, &node, Some(&attested), Height(399), 600, false, &keys).is_none());
        assert!(fresh.attestation(&chain, &node, Some(&attested), Height(400), 600, false, &keys).is_some());

        let sealer = record(NodeKind::Sealer, key.public_key(), None);
        assert!(
            Duties::new(None, true).attestation(&chain, &node, Some(&sealer), Height(5), 600, false, &keys).is_none()
        );
        assert!(
            Duties::new(None, false)
                .attestation(&chain, &node, Some(&observer), Height(5), 600, false, &keys)
                .is_none()
        );
    }

    /// A key the chain lists but the node lacks is picked up from the home's key directory; nothing is reloaded
    /// while the listed key is held.
    #[test]
    fn rotated_keys_are_picked_up_from_the_home() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(super::super::config::keys_dir(home.path())).unwrap();
        let old = testkit::secret("old");
        let new = testkit::secret("new");
        for (index, key) in [(0, &old), (1, &new)] {
            crate::cli::files::write_secret_key(&super::super::config::key_path(home.path(), index), key, false)
                .unwrap();
        }
        let duties = Duties::new(Some(home.path().to_path_buf()), true);
        assert!(duties.pick_up_keys(Some(&old.public_key()), std::slice::from_ref(&old)).is_empty());
        let picked = duties.pick_up_keys(Some(&new.public_key()), std::slice::from_ref(&old));
        assert_eq!(picked.iter().map(SecretKey::public_key).collect::<Vec<_>>(), vec![new.public_key()]);
    }

    /// Every pickup judges the key directory anew: a rotated key whose file others may read, or that was swapped
    /// for a symbolic link while the node ran, is not taken; once it is a private regular file again, it is.
    #[cfg(unix)]
    #[test]
    fn picked_up_keys_are_checked_again() {
        use std::os::unix::fs::PermissionsExt as _;
        let home = tempfile::tempdir().unwrap();
        let old = testkit::secret("old");
        let new = testkit::secret("new");
        let path = super::super::config::key_path(home.path(), 1);
        crate::cli::files::write_secret_key(&super::super::config::key_path(home.path(), 0), &old, false).unwrap();
        crate::cli::files::write_secret_key(&path, &new, false).unwrap();
        let duties = Duties::new(Some(home.path().to_path_buf()), true);
        let held = std::slice::from_ref(&old);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(duties.pick_up_keys(Some(&new.public_key()), held).is_empty(), "others may read it");

        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().join("new.pem");
        crate::cli::files::write_secret_key(&elsewhere, &new, false).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(duties.pick_up_keys(Some(&new.public_key()), held).is_empty(), "a symbolic link out of the home");

        std::fs::remove_file(&path).unwrap();
        crate::cli::files::write_secret_key(&path, &new, false).unwrap();
        let picked = duties.pick_up_keys(Some(&new.public_key()), held);
        assert_eq!(picked.iter().map(SecretKey::public_key).collect::<Vec<_>>(), vec![new.public_key()]);
    }
}
