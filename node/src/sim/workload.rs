//! The simulation's governance workload: a fixed story of sealer-set changes run mid-flight, one transaction at a
//! time, each built against the height the cluster has reached and resubmitted if it expires unincluded.
//!
//! Node `i` is called `ids[i]` (`n{i}`, or ids of mixed lengths: see [`super::NodeNaming`]). The genesis
//! ([`genesis`]) has `N + 1` members: `N` sealers `ids[0..N]` and one observer `ids[N]` owned by the last member.
//! The story:
//!
//! 1. **admission**: the committee admits a new observer `ids[N+1]`;
//! 2. **attestation**: observer `ids[N]` attests it is in sync;
//! 3. **promotion**: the committee promotes `ids[N]` to sealer (the validator set grows to `N + 1`);
//! 4. **key rotation**: sealer `ids[1]` rotates to its next key (its host holds both), approved by its operator;
//! 5. **demotion**: the committee demotes `ids[N]` back to observer;
//! 6. **removal**: the committee removes `ids[N+1]`.
//!
//! Every governance proposal carries every governor's approval, so it executes in the block that includes it; a
//! step whose transaction is included but does not execute is a workload failure (a bug to report).

use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{Height, NodeId, TxHash, Weight};
use governance_contracts::testkit::{self, account, member, node, public, secret};
use governance_contracts::types::action::{KeyProofBody, NodeKind};
use governance_contracts::types::block::Block;
use governance_contracts::types::{
    Action, Approval, Event, Genesis, Outcome, Payload, Principal, Proposal, Receipt, SignedTransaction, Transaction,
};

/// How many blocks a workload transaction stays valid.
const TX_TTL: u64 = 20;

/// One step of the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Admit observer `ids[N+1]`.
    Admission,
    /// `ids[N]` attests readiness.
    Attestation,
    /// Promote `ids[N]` to sealer.
    Promotion,
    /// `ids[1]` rotates its key.
    KeyRotation,
    /// Demote `ids[N]`.
    Demotion,
    /// Remove `ids[N+1]`.
    Removal,
}

const STORY: [Step; 6] =
    [Step::Admission, Step::Attestation, Step::Promotion, Step::KeyRotation, Step::Demotion, Step::Removal];

/// The workload genesis: [`testkit::genesis_with_node_ids`]`(node_ids)` (the sealers' ids and then the
/// observer's) with the last node an observer.
pub fn genesis(node_ids: &[String]) -> Genesis {
    let mut genesis = testkit::genesis_with_node_ids(node_ids);
    let mut nodes = genesis.nodes.clone().into_inner();
    if let Some(last) = nodes.last_mut() {
        last.kind = NodeKind::Observer;
    }
    genesis.nodes = BoundedVec::try_new(nodes).unwrap_or_else(|_| BoundedVec::new());
    genesis
}

/// The label of a node's next key (its host holds it from the start).
pub fn next_key_label(node: &str) -> String {
    format!("{node}-next")
}

/// The workload's progress.
#[derive(Debug, Clone)]
pub struct Workload {
    chain: ChainIdentity,
    ids: Vec<String>,
    sealers: usize,
    next: usize,
    in_flight: Option<(TxHash, Height)>,
    salt: u64,
    failures: Vec<String>,
    sealer_changes: u64,
    key_rotations: u64,
}

impl Workload {
    /// The story for a cluster of `sealers` sealers on `chain`, node `i` called `ids[i]` (`sealers + 2` of them:
    /// the sealers, the observer and the newcomer).
    pub fn new(chain: ChainIdentity, ids: Vec<String>, sealers: usize) -> Self {
        Self {
            chain,
            ids,
            sealers,
            next: 0,
            in_flight: None,
            salt: 0,
            failures: Vec::new(),
            sealer_changes: 0,
            key_rotations: 0,
        }
    }

    /// Whether every step executed.
    pub fn finished(&self) -> bool {
        self.next >= STORY.len()
    }

    /// Steps included but not executed, with why.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// Sealer-set changes executed (admission, promotion, demotion, removal).
    pub fn sealer_changes(&self) -> u64 {
        self.sealer_changes
    }

    /// Key rotations executed.
    pub fn key_rotations(&self) -> u64 {
        self.key_rotations
    }

    /// The transaction to submit now that the cluster has committed `height`: the current step's, if none is in
    /// flight or the one in flight expired.
    pub fn poll(&mut self, height: Height) -> Option<SignedTransaction> {
        let step = *STORY.get(self.next)?;
        if self.in_flight.is_some_and(|(_, valid_until)| valid_until > height) {
            return None;
        }
        let tx = self.build(step, height);
        self.in_flight = Some((tx.tx.hash(&self.chain), tx.tx.valid_until));
        Some(tx)
    }

    /// A block finalised (by an honest node): if it carries the step in flight, the step is done (or failed).
    pub fn on_block(&mut self, block: &Block, receipts: &[Receipt]) {
        let Some((hash, _)) = self.in_flight else { return };
        let Some(index) = block.transactions.iter().position(|tx| tx.tx.hash(&self.chain) == hash) else { return };
        let Some(step) = STORY.get(self.next).copied() else { return };
        let receipt = receipts.get(index);
        let executed = receipt.is_some_and(|r| {
            r.outcome == Outcome::Applied
                && (step == Step::Attestation || r.events.iter().any(|e| matches!(e, Event::ProposalExecuted { .. })))
        });
        if executed {
            match step {
                Step::KeyRotation => self.key_rotations = self.key_rotations.saturating_add(1),
                Step::Attestation => {}
                _ => self.sealer_changes = self.sealer_changes.saturating_add(1),
            }
        } else {
            self.failures.push(format!("step {step:?} at height {}: {receipt:?}", block.header.height));
        }
        self.next = self.next.saturating_add(1);
        self.in_flight = None;
    }

    /// Node `index`'s id.
    fn id(&self, index: usize) -> String {
        self.ids.get(index).cloned().unwrap_or_else(|| format!("n{index}"))
    }

    fn build(&mut self, step: Step, height: Height) -> SignedTransaction {
        let observer = self.id(self.sealers);
        let newcomer = self.id(self.sealers.saturating_add(1));
        let rotating = self.id(1);
        match step {
            Step::Admission => self.governance(
                height,
                Action::AdmitNode {
                    node: node(&newcomer),
                    owner: member(&format!("m{}", self.sealers)),
                    key: public(&newcomer),
                    address: BoundedString::try_new("127.0.0.1:26999").unwrap_or_default(),
                },
            ),
            Step::Attestation => self.sign(
                Principal::Node(node(&observer)),
                &observer,
                height,
                Payload::AttestReadiness { synced_height: height },
            ),
            Step::Promotion => self.governance(
                height,
                Action::PromoteNode { node: node(&observer), weight: Weight(1), override_fault_tolerance: false },
            ),
            Step::KeyRotation => {
                let next = next_key_label(&rotating);
                let proof = KeyProofBody {
                    subject: Principal::Node(node(&rotating)),
                    old_key: Some(public(&rotating)),
                    new_key: public(&next),
                    expires_at: height.plus(TX_TTL),
                }
                .sign(&self.chain, &secret(&next));
                let proposal = self.proposal(
                    Principal::Node(node(&rotating)),
                    height,
                    Action::RotateNodeKey { node: node(&rotating), proof },
                );
                // Node 1 belongs to member m1.
                let approval = proposal.approve(&self.chain, account("m1-ops"), &secret("m1-ops"));
                let payload = Payload::SubmitProposal {
                    proposal,
                    approvals: BoundedVec::try_new(vec![approval]).unwrap_or_else(|_| BoundedVec::new()),
                };
                self.sign(Principal::Node(node(&rotating)), &rotating, height, payload)
            }
            Step::Demotion => {
                self.governance(height, Action::DemoteNode { node: node(&observer), override_fault_tolerance: false })
            }
            Step::Removal => {
                self.governance(height, Action::RemoveNode { node: node(&newcomer), override_fault_tolerance: false })
            }
        }
    }

    fn proposal(&mut self, proposer: Principal, height: Height, action: Action) -> Proposal {
        self.salt = self.salt.saturating_add(1);
        Proposal {
            proposer,
            title: BoundedString::try_new("simulation workload").unwrap_or_default(),
            description: BoundedString::default(),
            actions: BoundedVec::try_new(vec![action]).unwrap_or_else(|_| BoundedVec::new()),
            expires_at: height.plus(1_000),
            salt: self.salt,
        }
    }

    /// A committee proposal by `m0-gov` with every governor's approval.
    fn governance(&mut self, height: Height, action: Action) -> SignedTransaction {
        let proposal = self.proposal(Principal::Account(account("m0-gov")), height, action);
        let approvals: Vec<Approval> = (0..=self.sealers)
            .map(|i| {
                let governor = format!("m{i}-gov");
                proposal.approve(&self.chain, account(&governor), &secret(&governor))
            })
            .collect();
        let payload = Payload::SubmitProposal {
            proposal,
            approvals: BoundedVec::try_new(approvals).unwrap_or_else(|_| BoundedVec::new()),
        };
        self.sign(Principal::Account(account("m0-gov")), "m0-gov", height, payload)
    }

    fn sign(&self, sender: Principal, key: &str, height: Height, payload: Payload) -> SignedTransaction {
        Transaction { sender, valid_until: height.plus(TX_TTL), payload }.sign(&self.chain, &secret(key))
    }
}

/// The node ids a workload run involves beyond the sealers: the observer that runs from the start.
pub fn observer_id(sealers: usize) -> NodeId {
    node(&format!("n{sealers}"))
}
