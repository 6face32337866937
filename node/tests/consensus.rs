//! The consensus host on its own: it proposes a block when it is the round's proposer, accepts an honest block
//! from a peer, refuses (prevotes nil on) a block whose header does not match re-execution, and counts only votes
//! signed with the key the sealer set lists now. Then the host against hostile peers: oversized blocks, blocks no
//! proposal names, tampered copies of the real block, forged votes from far ahead and floods of later-height
//! messages cost it bounded work and never stop it or the height.

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::crypto::Digest;
use governance_contracts::testkit::{TestChain, account, genesis, node, secret};
use governance_contracts::types::{
    Action, ChainParams, Genesis, Payload, Principal, SignedTransaction, transactions_root,
};
use malachite_core_types::{NilOrVal, VoteType};
use synod::consensus::context::{Address, Proposal, Vote, sign_proposal, sign_vote};
use synod::consensus::host::{Clock, Host, HostConfig, NetMessage, Output, ProposedBlock};
use synod::consensus::store::MemoryBlockStore;
use synod::consensus::sync::SyncRequest;
use synod::consensus::wal::{Wal as _, WalEntry};
use synod::storage::NodeStore;

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
    (proposal, block_in(&sent))
}

/// The block among broadcast messages.
fn block_in(sent: &[NetMessage]) -> ProposedBlock {
    sent.iter()
        .find_map(|m| match m {
            NetMessage::Block(b) => Some((**b).clone()),
            _ => None,
        })
        .expect("the proposer sends its block")
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

/// `count` valid proposals by governor m0-gov, each with a 4 KiB description (about 4.3 KB signed).
fn proposals_with_long_descriptions(count: usize) -> Vec<SignedTransaction> {
    let mut chain = TestChain::with_members(4);
    (0..count)
        .map(|_| {
            let freeze = vec![Action::FreezeAccount { account: account("m1-ops") }];
            let mut proposal = chain.proposal(Principal::Account(account("m0-gov")), freeze);
            proposal.description = BoundedString::try_new("x".repeat(4_096)).expect("4 KiB is the bound");
            chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() })
        })
        .collect()
}

/// A host over a real RocksDB store (whose records are bounded) in `dir`.
fn stored_host(dir: &std::path::Path, name: &str) -> Host<NodeStore, FixedClock> {
    let genesis = genesis(4);
    let store = NodeStore::open_with_genesis(&dir.join(name), &genesis).expect("a fresh store");
    let time = genesis.genesis_time_ms.saturating_add(1_000);
    let config = HostConfig { genesis, node: node(name), keys: vec![secret(name)], timeouts: Default::default() };
    Host::new(config, store, FixedClock(time)).expect("a host over the genesis state")
}

fn block_bytes(block: &ProposedBlock) -> usize {
    block.block.transactions.iter().map(|tx| encode(tx).len()).sum()
}

fn sync_requests(outputs: &[Output]) -> Vec<(governance_contracts::ids::NodeId, SyncRequest)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to, message: NetMessage::SyncRequest(r) } => Some((to.clone(), *r)),
            _ => None,
        })
        .collect()
}

/// A proposer whose mempool holds 1,100 valid proposals of 4 KiB (4.7 MB, past every store record) builds a block
/// within the chain's byte limit and goes on, instead of stopping on a block it cannot log.
#[test]
fn a_proposer_never_builds_a_block_past_the_byte_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut proposer = stored_host(dir.path(), "n1");
    for tx in proposals_with_long_descriptions(1_100) {
        proposer.submit(tx).expect("a valid proposal is admitted");
    }
    let sent = broadcasts(&proposer.start().expect("the proposer builds and goes on"));
    let block = sent
        .iter()
        .find_map(|m| match m {
            NetMessage::Block(b) => Some((**b).clone()),
            _ => None,
        })
        .expect("the proposer sends its block");
    let limit = usize::try_from(ChainParams::default().max_block_bytes).unwrap();
    assert!(block_bytes(&block) <= limit, "{} bytes past the limit {limit}", block_bytes(&block));
    assert!((400..1_100).contains(&block.block.transactions.len()), "{} transactions", block.block.transactions.len());
}

/// n1's real block at height 1 with its transactions replaced by 1,100 proposals of 4 KiB (4.7 MB), its header's
/// transactions root matching them.
fn oversized_copy_of_n1s_block() -> ProposedBlock {
    let (_, mut block) = proposal_of_n1();
    block.block.transactions =
        BoundedVec::try_new(proposals_with_long_descriptions(1_100)).expect("within a block's transaction count");
    block.block.header.transactions_root = transactions_root(&genesis(4).identity(), &block.block.transactions);
    block
}

/// A block larger than any store record, sent by an observer or proposed under the real proposer's signature, is
/// dropped or refused as invalid before anything is logged: the node goes on and prevotes nil.
#[test]
fn an_oversized_block_never_stops_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let mut sealer = stored_host(dir.path(), "n0");
    sealer.start().unwrap();
    let block = oversized_copy_of_n1s_block();
    sealer.on_message(&node("observer"), NetMessage::Block(Box::new(block.clone()))).expect("an observer's block");
    assert_eq!(sealer.counters().unnamed_blocks, 1);
    sealer.on_message(&node("n1"), signed_by_n1(&block)).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block))).expect("the proposer's block");
    assert_eq!(sealer.rejected_blocks(), 1);
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Nil));
}

/// Hundreds of blocks that no proposal names, from an observer and from a sealer that does not propose the round,
/// are dropped unchecked and never logged; the proposer's block still gets a prevote and is the only block logged.
#[test]
fn junk_blocks_do_not_crowd_out_the_proposers_block() {
    let (proposal, block) = proposal_of_n1();
    let chain = genesis(4).identity();
    let mut sealer = host("n0");
    sealer.start().unwrap();
    for i in 0..300u64 {
        let mut junk = block.clone();
        junk.block.header.time_ms = junk.block.header.time_ms.saturating_add(i + 1);
        sealer.on_message(&node("observer"), NetMessage::Block(Box::new(junk.clone()))).unwrap();
        junk.proposer = Address(node("n2"));
        sealer.on_message(&node("n2"), NetMessage::Block(Box::new(junk))).unwrap();
    }
    assert_eq!(sealer.counters().unnamed_blocks, 600);
    sealer.on_message(&node("n1"), proposal).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(block.clone()))).unwrap();
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Val(block.block.hash(&chain))));
    assert_eq!(sealer.rejected_blocks(), 0, "a junk block was checked");
    let logged = sealer.storage().log_entries(governance_contracts::ids::Height(1)).expect("the log reads");
    let blocks = logged.iter().filter(|entry| matches!(entry, WalEntry::Block { .. })).count();
    assert_eq!(blocks, 1, "the write-ahead log holds a junk block, which a restart would restore");
}

/// A copy of the real block with one signature byte changed (sent first, by the proposer itself) is refused
/// without judging the block's hash, so the real block that follows is still found valid and prevoted.
#[test]
fn a_tampered_copy_cannot_make_the_real_block_look_invalid() {
    let chain = genesis(4).identity();
    let mut proposer = host("n1");
    proposer.submit(proposals_with_long_descriptions(1).remove(0)).unwrap();
    let sent = broadcasts(&proposer.start().unwrap());
    let proposal = sent.iter().find(|m| matches!(m, NetMessage::Proposal(_))).unwrap().clone();
    let real = sent
        .iter()
        .find_map(|m| match m {
            NetMessage::Block(b) => Some((**b).clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(real.block.transactions.len(), 1);
    let mut tampered = real.clone();
    let mut txs = tampered.block.transactions.into_inner();
    let mut bytes = encode(&txs[0].signature);
    bytes[1] ^= 0x01;
    txs[0].signature = governance_contracts::codec::decode(&bytes).expect("still a signature");
    tampered.block.transactions = BoundedVec::try_new(txs).unwrap();
    assert_eq!(tampered.block.hash(&chain), real.block.hash(&chain), "the copy keeps the real header");

    let mut sealer = host("n0");
    sealer.start().unwrap();
    sealer.on_message(&node("n1"), proposal).unwrap();
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(tampered))).unwrap();
    assert_eq!(prevote_of(&outputs), None, "no verdict on the tampered copy");
    let outputs = sealer.on_message(&node("n1"), NetMessage::Block(Box::new(real.clone()))).unwrap();
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Val(real.block.hash(&chain))));
}

fn far_vote(height: u64, voter: &str, key: &str) -> NetMessage {
    let chain = genesis(4).identity();
    let vote = Vote {
        height: synod::consensus::context::Height(governance_contracts::ids::Height(height)),
        round: malachite_core_types::Round::new(0),
        vote_type: VoteType::Precommit,
        value: NilOrVal::Nil,
        voter: Address(node(voter)),
    };
    NetMessage::Vote(sign_vote(&chain, &secret(key), vote).expect("a vote with a round signs"))
}

/// A vote from far ahead in a sealer's name under a forged signature teaches the node nothing: no sync target, no
/// request. One sealer's own validly signed claim (at most a third of the weight) is not enough either; a second
/// sealer's makes the target and one of them is asked; an observer's own far vote changes nothing after that.
#[test]
fn a_forged_vote_from_far_ahead_sets_no_sync_target() {
    let mut sealer = host("n0");
    sealer.start().unwrap();
    let outputs = sealer.on_message(&node("observer"), far_vote(u64::MAX, "n2", "observer")).unwrap();
    assert!(sync_requests(&outputs).is_empty());
    assert_eq!(sealer.sync_target(), None);
    assert_eq!(sealer.counters().bad_signatures, 1);

    let outputs = sealer.on_message(&node("n2"), far_vote(1_000, "n2", "n2")).unwrap();
    assert!(sync_requests(&outputs).is_empty(), "one sealer's word started a sync");
    assert_eq!(sealer.sync_target(), None);
    let outputs = sealer.on_message(&node("n3"), far_vote(1_000, "n3", "n3")).unwrap();
    assert_eq!(sealer.sync_target(), Some(governance_contracts::ids::Height(999)));
    let requests = sync_requests(&outputs);
    assert_eq!(requests.len(), 1);
    assert!([node("n2"), node("n3")].contains(&requests[0].0));

    let outputs = sealer.on_message(&node("observer"), far_vote(u64::MAX, "observer", "observer")).unwrap();
    assert!(sync_requests(&outputs).is_empty());
    assert_eq!(sealer.sync_target(), Some(governance_contracts::ids::Height(999)));
}

/// Votes for later heights reach the consensus core only when a sealer of the known set signed them, at most
/// FUTURE_PER_SEALER per sealer and height, and within FUTURE_HEIGHTS; the rest are dropped and counted.
#[test]
fn later_height_messages_reach_the_core_only_from_sealers_within_bounds() {
    use synod::consensus::host::{FUTURE_HEIGHTS, FUTURE_PER_SEALER};
    let mut sealer = host("n0");
    sealer.start().unwrap();
    for _ in 0..300 {
        sealer.on_message(&node("observer"), far_vote(2, "observer", "observer")).unwrap();
    }
    assert_eq!(sealer.counters().dropped_ahead, 300, "an observer's votes were buffered");
    let chain = genesis(4).identity();
    let mut sent = 0u64;
    for round in 0..8u32 {
        for vote_type in [VoteType::Prevote, VoteType::Precommit] {
            let vote = Vote {
                height: synod::consensus::context::Height(governance_contracts::ids::Height(2)),
                round: malachite_core_types::Round::new(round),
                vote_type,
                value: NilOrVal::Nil,
                voter: Address(node("n2")),
            };
            sealer.on_message(&node("n2"), NetMessage::Vote(sign_vote(&chain, &secret("n2"), vote).unwrap())).unwrap();
            sent += 1;
        }
    }
    let over = sent - u64::try_from(FUTURE_PER_SEALER).unwrap();
    assert_eq!(sealer.counters().dropped_ahead, 300 + over);
    sealer.on_message(&node("n2"), far_vote(2 + FUTURE_HEIGHTS, "n2", "n2")).unwrap();
    assert_eq!(sealer.counters().dropped_ahead, 300 + over + 1, "a vote too far ahead was buffered");
    assert_eq!(sealer.counters().bad_signatures, 0);
}

/// A relayed batch is admitted once and relayed on to every peer but its sender, without its duplicate and without
/// a copy whose signature is forged (same transaction hash as an honest copy the node verified); the same batch
/// from another peer is relayed no further (the node holds it all).
#[test]
fn a_relayed_batch_goes_on_once_never_back_and_without_forgeries() {
    let mut host = host("n0");
    host.start().unwrap();
    let mut chain = TestChain::with_members(4);
    let freeze = |chain: &mut TestChain, who: &str| {
        let proposal = chain
            .proposal(Principal::Account(account("m0-gov")), vec![Action::FreezeAccount { account: account(who) }]);
        chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() })
    };
    let (a, b) = (freeze(&mut chain, "m1-ops"), freeze(&mut chain, "m2-ops"));
    let mut forged = b.clone();
    forged.signature = a.signature;
    let batch = vec![a.clone(), a.clone(), forged, b.clone()];
    let outputs = host.on_message(&node("n1"), NetMessage::Transactions(batch.clone())).unwrap();
    let relays: Vec<(Option<governance_contracts::ids::NodeId>, Vec<SignedTransaction>)> = outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Relay { except, transactions } => Some((except, transactions)),
            _ => None,
        })
        .collect();
    assert_eq!(relays, vec![(Some(node("n1")), vec![a, b])]);
    assert!(outputs_have_no_transactions_broadcast(
        &host.on_message(&node("n2"), NetMessage::Transactions(batch)).unwrap()
    ));
    assert_eq!(host.pending().len(), 2);
}

/// No output relays or broadcasts transactions.
fn outputs_have_no_transactions_broadcast(outputs: &[Output]) -> bool {
    !outputs.iter().any(|o| matches!(o, Output::Relay { .. } | Output::Broadcast(NetMessage::Transactions(_))))
}

/// Each signature is verified once per node: the proposer verifies a transaction's two signatures (its own and the
/// approval it carries) when it admits it and finds them verified when it builds its block; a peer verifies them
/// when the relay reaches it and finds them verified when it checks the block that includes them.
#[test]
fn each_signature_is_verified_once_per_node() {
    let mut chain = TestChain::with_members(4);
    let proposal = chain
        .proposal(Principal::Account(account("m0-gov")), vec![Action::FreezeAccount { account: account("m1-ops") }]);
    let approval = chain.approval(&proposal, "m0-gov");
    let payload = Payload::SubmitProposal { proposal, approvals: BoundedVec::try_new(vec![approval]).unwrap() };
    let tx = chain.account_tx("m0-gov", payload);

    let mut proposer = host("n1");
    proposer.submit(tx.clone()).unwrap();
    assert_eq!(proposer.signature_checks(), 2, "admission verifies both");
    let block = block_in(&broadcasts(&proposer.start().unwrap()));
    assert_eq!(block.block.transactions.iter().collect::<Vec<_>>(), vec![&tx]);
    assert_eq!(proposer.signature_checks(), 2, "building found both verified");

    let mut peer = host("n0");
    peer.start().unwrap();
    peer.on_message(&node("n1"), NetMessage::Transactions(vec![tx])).unwrap();
    assert_eq!(peer.signature_checks(), 2, "the relay verifies both");
    peer.on_message(&node("n1"), signed_by_n1(&block)).unwrap();
    let outputs = peer.on_message(&node("n1"), NetMessage::Block(Box::new(block.clone()))).unwrap();
    let hash = block.block.hash(&genesis(4).identity());
    assert_eq!(prevote_of(&outputs), Some(NilOrVal::Val(hash)), "the peer finds the block valid");
    assert_eq!(peer.signature_checks(), 2, "checking the block found both verified");
}
