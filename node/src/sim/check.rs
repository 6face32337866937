//! The invariants checked after every simulation step, over what each node reports finalised:
//!
//! - **agreement**: never two different blocks finalised at one height (across all nodes);
//! - **certificate**: every finalised block's certificate passes `verify_certificate` against the validator set
//!   the finalising node derived itself for that height;
//! - **state roots**: a node's state root after a height equals the block header's, and equal heights have equal
//!   roots on every node;
//! - **monotonic heights**: each node finalises heights 1, 2, 3, … in order, none skipped or repeated;
//! - **no honest equivocation**: an honest node never signs two different votes of one kind, or two different
//!   proposals, in one height and round, even across its own crashes and restarts (what the WAL guarantees).

use std::collections::BTreeMap;

use governance_contracts::crypto::Digest;
use governance_contracts::domain::ChainIdentity;
use governance_contracts::ids::{BlockHash, Height, NodeId};
use governance_contracts::types::block::{VoteKind, verify_certificate};

use crate::consensus::host::{DecidedBlock, NetMessage};

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Two nodes finalised different blocks at one height.
    #[error("height {height}: {node} finalised {got}, another node {first}")]
    Disagreement {
        /// The height.
        height: Height,
        /// The node that disagrees with the first.
        node: NodeId,
        /// The first block finalised there.
        first: BlockHash,
        /// This node's block.
        got: BlockHash,
    },
    /// A certificate does not prove its block final.
    #[error("height {height}: {node}'s certificate is invalid: {reason}")]
    BadCertificate {
        /// The height.
        height: Height,
        /// The node.
        node: NodeId,
        /// Why.
        reason: String,
    },
    /// A node's state root differs from its block's header or from another node's.
    #[error("height {height}: {node}'s state root differs ({detail})")]
    StateRoot {
        /// The height.
        height: Height,
        /// The node.
        node: NodeId,
        /// From what.
        detail: &'static str,
    },
    /// A node finalised a height out of order.
    #[error("{node} finalised height {got} after height {previous}")]
    NotMonotonic {
        /// The node.
        node: NodeId,
        /// Its previous height.
        previous: Height,
        /// The height it finalised.
        got: Height,
    },
    /// An honest node signed two conflicting messages.
    #[error("{node} signed two different {what}s at height {height}, round {round}")]
    Equivocation {
        /// The node.
        node: NodeId,
        /// The height.
        height: Height,
        /// The round.
        round: u32,
        /// Which message.
        what: &'static str,
    },
}

/// What one signed message of a node was, by (height, round, kind).
type Said = BTreeMap<(NodeId, Height, u32, u8), Option<BlockHash>>;

/// The checker's memory of what every node finalised and signed.
#[derive(Debug, Clone)]
pub struct Checker {
    chain: ChainIdentity,
    finalised: BTreeMap<Height, (BlockHash, Digest)>,
    heights: BTreeMap<NodeId, Height>,
    said: Said,
    violations: Vec<Violation>,
}

impl Checker {
    /// A checker for `chain`.
    pub fn new(chain: ChainIdentity) -> Self {
        Self {
            chain,
            finalised: BTreeMap::new(),
            heights: BTreeMap::new(),
            said: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// Checks a message an honest `node` sent against everything it signed before.
    pub fn on_sent(&mut self, node: &NodeId, message: &NetMessage) {
        let (height, round, kind, block, what) = match message {
            NetMessage::Vote(vote) => match vote.message.to_protocol() {
                Ok(v) => {
                    let (kind, what) = match v.kind {
                        VoteKind::Prevote => (0, "prevote"),
                        VoteKind::Precommit => (1, "precommit"),
                    };
                    (v.height, v.round, kind, v.block, what)
                }
                Err(_) => return,
            },
            NetMessage::Proposal(proposal) => match proposal.message.to_protocol() {
                Ok(p) => (p.height, p.round, 2, Some(p.block), "proposal"),
                Err(_) => return,
            },
            _ => return,
        };
        match self.said.get(&(node.clone(), height, round, kind)) {
            None => {
                self.said.insert((node.clone(), height, round, kind), block);
            }
            Some(before) if *before != block => {
                self.violations.push(Violation::Equivocation { node: node.clone(), height, round, what });
            }
            Some(_) => {}
        }
    }

    /// Checks one finalised block reported by `node`.
    pub fn on_decided(&mut self, node: &NodeId, decided: &DecidedBlock) {
        let header = &decided.block.header;
        let height = header.height;
        let previous = self.heights.get(node).copied().unwrap_or(Height(0));
        if height != previous.plus(1) {
            self.violations.push(Violation::NotMonotonic { node: node.clone(), previous, got: height });
        }
        self.heights.insert(node.clone(), height);
        if let Err(e) = verify_certificate(&self.chain, header, &decided.certificate, &decided.validator_set) {
            self.violations.push(Violation::BadCertificate { height, node: node.clone(), reason: e.to_string() });
        }
        if decided.state_root != header.state_root {
            self.violations.push(Violation::StateRoot { height, node: node.clone(), detail: "from its header" });
        }
        let hash = decided.block.hash(&self.chain);
        match self.finalised.get(&height) {
            None => {
                self.finalised.insert(height, (hash, decided.state_root));
            }
            Some((first, root)) => {
                if *first != hash {
                    self.violations.push(Violation::Disagreement {
                        height,
                        node: node.clone(),
                        first: *first,
                        got: hash,
                    });
                }
                if *root != decided.state_root {
                    self.violations.push(Violation::StateRoot {
                        height,
                        node: node.clone(),
                        detail: "from another node's",
                    });
                }
            }
        }
    }

    /// Every violation found so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Forgets what nodes signed below `height` (every node has moved past it), bounding the memory of long runs.
    pub fn forget_below(&mut self, height: Height) {
        self.said.retain(|(_, h, _, _), _| *h >= height);
    }

    /// The height each node has finalised.
    pub fn heights(&self) -> &BTreeMap<NodeId, Height> {
        &self.heights
    }
}
