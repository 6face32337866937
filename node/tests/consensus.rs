//! The consensus host on its own: it proposes a block when it is the round's proposer, accepts an honest block
//! from a peer, refuses (prevotes nil on) a block whose header does not match re-execution, and counts only votes
//! signed with the key the sealer set lists now.

use governance_contracts::crypto::Digest;
use governance_contracts::testkit::{genesis, node, secret};
use governance_contracts::types::Genesis;
use malachite_core_types::{NilOrVal, VoteType};
use synod::consensus::context::{Address, Proposal, Vote, sign_proposal, sign_vote};
use synod::consensus::host::{Clock, Host, HostConfig, NetMessage, Output, ProposedBlock};
use synod::consensus::store::MemoryBlockStore;

struct FixedClock(u64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

fn host(name: &str) -> Host<MemoryBlockStore, FixedClock> {
    host_on(genesis(4), name)
}

fn host_on(genesis: Genesis, name: &str) -> Host<MemoryBlockStore, FixedClock> {
    let store = MemoryBlockStore::from_genesis(&genesis).expect("testkit genesis applies");
    let time = genesis.genesis_time_ms.saturating_add(1_000);
    let config = HostConfig { genesis, node: node(name), keys: vec![secret(name)], timeouts: Default::default() };
    Host::new(config, store, FixedClock(time)).expect("a host over the genesis state")
}

fn broadcasts(outputs: &[Output]) -> Vec<NetMessage> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The proposer of height 1, round 0 (n1) builds a block at once and broadcasts the signed proposal with it.
fn proposal_of_n1() -> (NetMessage, ProposedBlock) {
    let mut proposer = host("n1");
    let sent = broadcasts(&proposer.start().expect("n1 starts"));
    let proposal = sent.iter().find(|m| matches!(m, NetMessage::Proposal(_))).expect("n1 proposes").clone();
    let block = sent
        .iter()
        .find_map(|m| match m {
            NetMessage::Block(b) => Some((**b).clone()),
            _ => None,
        })
        .expect("n1 sends its block");
    (proposal, block)
}

fn prevote_of(outputs: &[Output]) -> Option<NilOrVal<governance_contracts::ids::BlockHash>> {
    broadcasts(outputs).into_iter().find_map(|m| match m {
        NetMessage::Vote(v) if v.vote_type == VoteType::Prevote => Some(v.value),
        _ => None,
    })
}

/// n1's validly signed proposal of `block` (whatever the block holds).
fn signed_by_n1(block: &ProposedBlock) -> NetMessage {
    let chain = genesis(4).identity();
    let proposal = Proposal {
        height: synod::consensus::context::Height(block.block.header.height),
        round: block.round,
        value: synod::consensus::context::Value(block.block.hash(&chain)),
        pol_round: block.valid_round,
        proposer: Address(node("n1")),
    };
    NetMessage::Proposal(sign_proposal(&chain, &secret("n1"), proposal).expect("a proposal with a round signs"))
}

/// Sealer n0, started and handed n1's honest proposal and block, with the outputs of the last step.
fn sealer_given_n1s_proposal() -> (Host<MemoryBlockStore, FixedClock>, Vec<Output>) {
    let (proposal, block) = proposal_of_n1();
    let mut sealer = host("n0");
    sealer.start().expect("n0 starts");
    sealer.on_message(&node("n1"), proposal).expect("n0 takes the proposal");
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block))).expect("n0 takes the block");
    (sealer, outputs)
}

/// A sealer that receives the proposer's honest block and proposal prevotes for that block.
#[test]
fn honest_block_gets_a_prevote() {
    let (proposal, block) = proposal_of_n1();
    let chain = genesis(4).identity();
    let hash = block.block.hash(&chain);
    let mut sealer = host("n0");
    sealer.start().unwrap();
    sealer.on_message(&node("n1"), proposal).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block))).unwrap();
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Val(hash)));
    assert_eq!(sealer.rejected_blocks(), 0);
}

/// A block whose state root differs from re-execution, even under a validly signed proposal, is refused: the
/// sealer counts it and prevotes nil.
#[test]
fn block_with_a_wrong_state_root_gets_a_nil_prevote() {
    let (_, mut block) = proposal_of_n1();
    block.block.header.state_root = Digest::sha256(&[b"not the state"]);
    let mut sealer = host("n0");
    sealer.start().unwrap();
    sealer.on_message(&node("n1"), signed_by_n1(&block)).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block))).unwrap();
    assert_eq!(sealer.rejected_blocks(), 1);
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Nil));
}

/// A vote whose signature does not cover it is dropped and counted, and does not stop the node.
#[test]
fn vote_with_a_bad_signature_is_counted_and_dropped() {
    let (mut sealer, outputs) = sealer_given_n1s_proposal();
    let mut forged = broadcasts(&outputs)
        .into_iter()
        .find_map(|m| match m {
            NetMessage::Vote(v) => Some(v),
            _ => None,
        })
        .expect("n0 prevotes");
    forged.message.voter = Address(node("n2"));
    sealer.on_message(&node("n2"), NetMessage::Vote(forged)).unwrap();
    assert_eq!(sealer.counters().bad_signatures, 1);
}

/// A sealer that crashes after prevoting restarts from its store and WAL, replays the logged entries, and says
/// exactly what it said before: any prevote it sends again is the same signed prevote.
#[test]
fn restart_replays_the_wal_and_repeats_the_same_prevote() {
    let (sealer, outputs) = sealer_given_n1s_proposal();
    let before = broadcasts(&outputs)
        .into_iter()
        .find(|m| matches!(m, NetMessage::Vote(v) if v.vote_type == VoteType::Prevote))
        .expect("n0 prevotes");
    let storage = sealer.into_storage().crashed();
    let genesis = genesis(4);
    let time = genesis.genesis_time_ms.saturating_add(2_000);
    let config = HostConfig { genesis, node: node("n0"), keys: vec![secret("n0")], timeouts: Default::default() };
    let mut restarted = Host::new(config, storage, FixedClock(time)).unwrap();
    let outputs = restarted.start().unwrap();
    assert!(restarted.counters().replayed_entries > 0, "the WAL held the height's entries");
    let prevotes: Vec<NetMessage> = broadcasts(&outputs)
        .into_iter()
        .filter(|m| matches!(m, NetMessage::Vote(v) if v.vote_type == VoteType::Prevote))
        .collect();
    assert!(prevotes.iter().all(|m| *m == before), "a different prevote after restart: {prevotes:?}");
}

/// A block claiming a time more than the allowed drift ahead of the sealer's clock is refused (nil prevote), even
/// under a validly signed proposal.
#[test]
fn block_from_the_future_gets_a_nil_prevote() {
    let (_, mut block) = proposal_of_n1();
    block.block.header.time_ms =
        block.block.header.time_ms.saturating_add(synod::consensus::host::MAX_CLOCK_DRIFT_MS + 60_000);
    let mut sealer = host("n0");
    sealer.start().unwrap();
    sealer.on_message(&node("n1"), signed_by_n1(&block)).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block))).unwrap();
    assert_eq!(sealer.rejected_blocks(), 1);
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Nil));
}

/// Once a sealer's key has rotated, the set lists only its new key: a prevote signed with the key it had before is
/// dropped and counted as a bad signature, and does not count toward a quorum (n0 holds two of the three prevotes
/// it needs and does not precommit); the same prevote signed with the new key completes the quorum and n0
/// precommits the block.
#[test]
fn a_vote_signed_with_a_rotated_out_key_is_ignored() {
    let mut rotated = genesis(4);
    let mut nodes = rotated.nodes.into_inner();
    let n2 = nodes.iter_mut().find(|n| n.node == node("n2")).expect("n2 is a sealer");
    n2.key = secret("n2-next").public_key();
    rotated.nodes = nodes.try_into().expect("as many nodes as before");
    let chain = rotated.identity();

    let mut proposer = host_on(rotated.clone(), "n1");
    let sent = broadcasts(&proposer.start().expect("n1 starts"));
    let mut sealer = host_on(rotated, "n0");
    sealer.start().expect("n0 starts");
    let mut outputs = Vec::new();
    for message in sent.into_iter().filter(|m| matches!(m, NetMessage::Proposal(_) | NetMessage::Block(_))) {
        outputs = sealer.on_message(&node("n1"), message).expect("n0 takes n1's proposal and block");
    }
    let Some(NilOrVal::Val(hash)) = prevote_of(&outputs) else { panic!("n0 did not prevote the block") };
    let prevote = |voter: &str| Vote {
        height: synod::consensus::context::Height(governance_contracts::ids::Height(1)),
        round: malachite_core_types::Round::new(0),
        vote_type: VoteType::Prevote,
        value: NilOrVal::Val(hash),
        voter: Address(node(voter)),
    };
    let precommits = |outputs: &[Output]| {
        broadcasts(outputs)
            .iter()
            .filter(|m| matches!(m, NetMessage::Vote(v) if v.vote_type == VoteType::Precommit))
            .count()
    };

    let by_n1 = sign_vote(&chain, &secret("n1"), prevote("n1")).unwrap();
    assert_eq!(precommits(&sealer.on_message(&node("n1"), NetMessage::Vote(by_n1)).unwrap()), 0);
    let with_old_key = sign_vote(&chain, &secret("n2"), prevote("n2")).unwrap();
    let outputs = sealer.on_message(&node("n2"), NetMessage::Vote(with_old_key)).unwrap();
    assert_eq!(sealer.counters().bad_signatures, 1, "the old key's prevote was not refused");
    assert_eq!(precommits(&outputs), 0, "n0 precommitted on a prevote signed with a rotated-out key");

    let with_new_key = sign_vote(&chain, &secret("n2-next"), prevote("n2")).unwrap();
    let outputs = sealer.on_message(&node("n2"), NetMessage::Vote(with_new_key)).unwrap();
    assert_eq!(sealer.counters().bad_signatures, 1);
    assert_eq!(precommits(&outputs), 1, "the new key's prevote did not complete the quorum");
}
