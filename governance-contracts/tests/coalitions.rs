//! The guarantee against coalitions (`contracts::policy`'s header), played by an adversary: a coalition of members
//! holding less than a rule's fraction of the seated weight proposes and approves, on its own, random sequences of
//! every action that could help it (suspending, expelling and re-weighting members, taking over another member's
//! governors or keys, admitting puppets, changing sealers, the policy and roles), over many blocks, executing what
//! gets queued. It must never execute an action above its power, nor change the committee, another member's
//! governors or keys, or the policy; below two thirds it must not change the validator set or anyone's status.

mod common;

use governance_contracts::codec::{BoundedString, BoundedVec, Name};
use governance_contracts::contracts::proposals::{Requirement as Needed, requirements};
use governance_contracts::crypto::{CryptoSuite, PublicKey};
use governance_contracts::execution;
use governance_contracts::ids::{AccountId, Height, MemberId, NodeId, ProposalId, RoleId, Weight};
use governance_contracts::state::Store;
use governance_contracts::state::records::{MemberRecord, ProposalStatus};
use governance_contracts::state::tables::{ACCOUNTS, MEMBERS, NODES, POLICY, PROPOSALS};
use governance_contracts::testkit::{TestChain, public};
use governance_contracts::types::{
    Action, ActionKind, ChainParams, Event, Genesis, GenesisAccount, GenesisGrant, GenesisMember, GenesisNode,
    MemberStatus, NewAccount, NodeKind, Payload, Principal, Proposal, Rule, ValidatorSet,
};
use proptest::prelude::*;

use common::config;

/// Member ids of mixed lengths and characters, distinct for distinct `i`.
fn member_id(i: usize) -> String {
    match i % 5 {
        0 => format!("m{i}"),
        1 => format!("org-{i}"),
        2 => format!("beijing-branch-{i}"),
        3 => format!("{i}x"),
        _ => format!("z.{i}_bank"),
    }
}

/// A committee of members with `weights`, each with one governor `<id>-gov`, an `operator` account `<id>-ops` and a
/// sealer `<id>-s` of weight 1.
fn committee(weights: &[u64]) -> Genesis {
    let far = Height(1_000_000);
    let (mut members, mut accounts, mut grants, mut nodes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, weight) in weights.iter().enumerate() {
        let id = member_id(i);
        let gov = format!("{id}-gov");
        members.push(GenesisMember {
            member: MemberId(Name::new(id.clone()).expect("valid id")),
            name: BoundedString::try_new(format!("Member {id}")).expect("short"),
            weight: Weight(*weight),
            governors: BoundedVec::try_new(vec![NewAccount { account: acct(&gov), key: public(&gov) }]).expect("one"),
        });
        let ops = format!("{id}-ops");
        accounts.push(GenesisAccount { account: acct(&ops), member: mem(&id), key: public(&ops) });
        grants.push(GenesisGrant { account: acct(&ops), role: RoleId::operator(), expires_at: far });
        let sealer = format!("{id}-s");
        nodes.push(GenesisNode {
            node: NodeId(Name::new(sealer.clone()).expect("valid id")),
            owner: mem(&id),
            key: public(&sealer),
            address: BoundedString::try_new(format!("127.0.0.1:{}", 27_000usize.saturating_add(i))).expect("short"),
            kind: NodeKind::Sealer,
            weight: Weight(1),
        });
    }
    Genesis {
        chain_id: Name::new("synod-coalitions").expect("valid"),
        crypto_suite: CryptoSuite::Ed25519Sha256,
        genesis_time_ms: 1_767_225_600_000,
        params: ChainParams::default(),
        members: BoundedVec::try_new(members).expect("within bound"),
        accounts: BoundedVec::try_new(accounts).expect("within bound"),
        nodes: BoundedVec::try_new(nodes).expect("within bound"),
        roles: BoundedVec::new(),
        grants: BoundedVec::try_new(grants).expect("within bound"),
        policy: None,
    }
}

fn acct(id: &str) -> AccountId {
    AccountId(Name::new(id).expect("valid id"))
}

fn mem(id: &str) -> MemberId {
    MemberId(Name::new(id).expect("valid id"))
}

/// What the coalition tries in one proposal; indices pick a victim, a coalition member or a kind.
#[derive(Debug, Clone)]
enum Move {
    Suspend(usize),
    Reinstate(usize),
    Expel(usize),
    RaiseOwnWeight(usize),
    LowerVictimWeight(usize),
    TakeGovernors(usize),
    TakeGovernorKey(usize),
    AdmitPuppet,
    DemoteSealer(usize),
    RemoveSealer(usize),
    RevokeSealerKey(usize),
    WeakenPolicy(usize),
    FreezeGovernor(usize),
    GrantCompliance(usize),
}

fn moves() -> impl Strategy<Value = Move> {
    let i = 0..64_usize;
    prop_oneof![
        i.clone().prop_map(Move::Suspend),
        i.clone().prop_map(Move::Reinstate),
        i.clone().prop_map(Move::Expel),
        i.clone().prop_map(Move::RaiseOwnWeight),
        i.clone().prop_map(Move::LowerVictimWeight),
        i.clone().prop_map(Move::TakeGovernors),
        i.clone().prop_map(Move::TakeGovernorKey),
        Just(Move::AdmitPuppet),
        i.clone().prop_map(Move::DemoteSealer),
        i.clone().prop_map(Move::RemoveSealer),
        i.clone().prop_map(Move::RevokeSealerKey),
        i.clone().prop_map(Move::WeakenPolicy),
        i.clone().prop_map(Move::FreezeGovernor),
        i.prop_map(Move::GrantCompliance),
    ]
}

/// One step of the adversary: a proposal of one to three moves, or blocks passing with every queued proposal
/// executed.
#[derive(Debug, Clone)]
enum Step {
    Propose(Vec<Move>),
    Wait(u64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        4 => proptest::collection::vec(moves(), 1..=3).prop_map(Step::Propose),
        1 => (1..=120_u64).prop_map(Step::Wait),
    ];
    proptest::collection::vec(step, 1..=24)
}

/// The adversary's world: the chain, who is in the coalition, and the fractions it may and may not reach.
struct Game {
    chain: TestChain,
    ids: Vec<String>,
    coalition: Vec<usize>,
    victims: Vec<usize>,
    /// The coalition's weight and the seated weight at genesis.
    share: (u64, u64),
    puppets: usize,
    open: Vec<(ProposalId, Proposal)>,
}

impl Game {
    fn pick<'a>(&self, from: &'a [usize], i: usize) -> &'a usize {
        from.get(i.checked_rem(from.len()).expect("non-empty")).expect("non-empty")
    }

    fn record(&self, i: usize) -> MemberRecord {
        MEMBERS.get(&self.chain.store, &mem(&self.ids[i])).expect("store").expect("member exists")
    }

    fn action(&mut self, step: &Move) -> Option<Action> {
        let store = &self.chain.store;
        let victim = |game: &Self, i: usize| game.ids[*game.pick(&game.victims, i)].clone();
        let own = |game: &Self, i: usize| game.ids[*game.pick(&game.coalition, i)].clone();
        let sealer = |id: &str| NodeId(Name::new(format!("{id}-s")).expect("valid id"));
        Some(match step {
            Move::Suspend(i) => Action::SuspendMember { member: mem(&victim(self, *i)) },
            Move::Reinstate(i) => Action::ReinstateMember { member: mem(&victim(self, *i)) },
            Move::Expel(i) => Action::ExpelMember { member: mem(&victim(self, *i)) },
            Move::RaiseOwnWeight(i) => {
                let id = own(self, *i);
                let expected = MEMBERS.get(store, &mem(&id)).ok()??.weight;
                Action::SetMemberWeight { member: mem(&id), expected, weight: Weight(1_000_000) }
            }
            Move::LowerVictimWeight(i) => {
                let id = victim(self, *i);
                let expected = MEMBERS.get(store, &mem(&id)).ok()??.weight;
                Action::SetMemberWeight { member: mem(&id), expected, weight: Weight(1) }
            }
            Move::TakeGovernors(i) => {
                let id = victim(self, *i);
                let expected = MEMBERS.get(store, &mem(&id)).ok()??.governors;
                let governors = BoundedVec::try_new(vec![acct(&format!("{id}-ops"))]).expect("one");
                Action::ReplaceGovernors { member: mem(&id), expected, governors }
            }
            Move::TakeGovernorKey(i) => {
                let id = victim(self, *i);
                let gov = format!("{id}-gov");
                let old = ACCOUNTS.get(store, &acct(&gov)).ok()??.key;
                let proof = self.chain.key_proof(Principal::Account(acct(&gov)), old, &format!("stolen-{gov}"));
                Action::ReplaceAccountKey { account: acct(&gov), proof }
            }
            Move::AdmitPuppet => {
                self.puppets = self.puppets.saturating_add(1);
                let id = format!("puppet-{}", self.puppets);
                let gov = format!("{id}-gov");
                Action::AdmitMember {
                    member: mem(&id),
                    name: BoundedString::try_new(id.clone()).expect("short"),
                    weight: Weight(1_000_000),
                    governors: BoundedVec::try_new(vec![NewAccount { account: acct(&gov), key: public(&gov) }])
                        .expect("one"),
                }
            }
            Move::DemoteSealer(i) => {
                Action::DemoteNode { node: sealer(&victim(self, *i)), override_fault_tolerance: false }
            }
            Move::RemoveSealer(i) => {
                Action::RemoveNode { node: sealer(&victim(self, *i)), override_fault_tolerance: *i % 2 == 0 }
            }
            Move::RevokeSealerKey(i) => {
                let node = sealer(&victim(self, *i));
                let key = NODES.get(store, &node).ok()??.key?;
                Action::RevokeNodeKey { node, key, override_fault_tolerance: *i % 2 == 0 }
            }
            Move::WeakenPolicy(i) => {
                let kind = ActionKind::ALL[i.checked_rem(ActionKind::ALL.len()).expect("kinds exist")];
                let expected = POLICY.get(store, &kind).ok()?;
                Action::SetPolicyRule { kind, expected, rule: Rule::weight(1, 2, false, 0) }
            }
            Move::FreezeGovernor(i) => Action::FreezeAccount { account: acct(&format!("{}-gov", victim(self, *i))) },
            Move::GrantCompliance(i) => Action::GrantRole {
                account: acct(&format!("{}-gov", own(self, *i))),
                role: RoleId::compliance(),
                expires_at: self.chain.height.plus(500),
                expected: None,
            },
        })
    }

    fn coalition_governors(&self) -> Vec<String> {
        self.coalition.iter().map(|i| format!("{}-gov", self.ids[*i])).collect()
    }

    /// The weight requirements of `proposal` in the state it would execute against now.
    fn weight_needs(&self, proposal: &Proposal) -> Vec<Needed> {
        let ctx = execution::next_block_context(&self.chain.store).expect("context");
        match requirements(&self.chain.store, &ctx, proposal) {
            Ok(needs) => needs.into_iter().filter(|n| n.rule.fraction().is_some()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Applies one transaction; for each proposal it executed, every weight rule it needed must be within the
    /// coalition's share.
    fn apply_checked(&mut self, payload: Payload, watched: &[(ProposalId, Proposal)]) {
        let needs: Vec<(ProposalId, Vec<Needed>)> =
            watched.iter().map(|(id, proposal)| (*id, self.weight_needs(proposal))).collect();
        let proposer = self.coalition_governors().into_iter().next().expect("non-empty coalition");
        let tx = self.chain.account_tx(&proposer, payload);
        let receipt = self.chain.apply(tx);
        let (own, seated) = self.share;
        for event in &receipt.events {
            let Event::ProposalExecuted { proposal, .. } = event else { continue };
            let (_, needed) = needs.iter().find(|(id, _)| id == proposal).expect("a watched proposal executed");
            for need in needed {
                let (numerator, denominator) = need.rule.fraction().expect("weight rules only");
                assert!(
                    governance_contracts::types::weight_met(own, seated, (numerator, denominator)),
                    "a coalition of weight {own}/{seated} executed {:?}, whose rule asks {numerator}/{denominator}",
                    need.kind
                );
            }
        }
    }

    fn play(&mut self, step: &Step) {
        match step {
            Step::Propose(moves) => {
                let actions: Vec<Action> = moves.iter().filter_map(|m| self.action(m)).collect();
                if actions.is_empty() {
                    return;
                }
                let proposer = self.coalition_governors().into_iter().next().expect("non-empty coalition");
                let proposal = self.chain.proposal(Principal::Account(acct(&proposer)), actions);
                let approvals: Vec<_> =
                    self.coalition_governors().iter().map(|gov| self.chain.approval(&proposal, gov)).collect();
                let id = proposal.id(&self.chain.chain);
                let payload = Payload::SubmitProposal {
                    proposal: proposal.clone(),
                    approvals: BoundedVec::try_new(approvals).expect("within bound"),
                };
                self.apply_checked(payload, &[(id, proposal.clone())]);
                self.open.push((id, proposal));
            }
            Step::Wait(blocks) => {
                for _ in 0..*blocks {
                    self.chain.apply_block(Vec::new());
                }
                let queued: Vec<(ProposalId, Proposal)> = self
                    .open
                    .iter()
                    .filter(|(id, _)| {
                        PROPOSALS
                            .get(&self.chain.store, id)
                            .ok()
                            .flatten()
                            .is_some_and(|r| matches!(r.status, ProposalStatus::Queued { .. }))
                    })
                    .cloned()
                    .collect();
                for (id, proposal) in queued {
                    self.apply_checked(Payload::ExecuteProposal { proposal: id }, &[(id, proposal)]);
                }
            }
        }
    }
}

/// What the victims keep: the seated weight and every member's weight and seat, each victim's governors and their
/// keys, the policy, and (for a coalition below two thirds) every status and the validator set.
#[derive(Debug, PartialEq, Eq)]
struct Kept {
    members: Vec<(MemberId, u64, bool)>,
    victim_governors: Vec<(Vec<AccountId>, Vec<Option<PublicKey>>)>,
    policy: Vec<(ActionKind, Rule)>,
    statuses: Option<Vec<MemberStatus>>,
    validators: Option<ValidatorSet>,
}

fn kept(game: &Game, below_two_thirds: bool) -> Kept {
    let store: &dyn Store = &game.chain.store;
    let members: Vec<(MemberId, MemberRecord)> = MEMBERS.all(store).expect("store");
    let victim_governors = game
        .victims
        .iter()
        .map(|i| {
            let governors: Vec<AccountId> = game.record(*i).governors.iter().cloned().collect();
            let keys = governors.iter().map(|g| ACCOUNTS.get(store, g).expect("store").and_then(|a| a.key)).collect();
            (governors, keys)
        })
        .collect();
    Kept {
        members: members.iter().map(|(id, m)| (id.clone(), m.weight.0, m.status != MemberStatus::Expelled)).collect(),
        victim_governors,
        policy: POLICY.all(store).expect("store"),
        statuses: below_two_thirds.then(|| members.iter().map(|(_, m)| m.status).collect()),
        validators: below_two_thirds.then(|| execution::validator_set(store).expect("validator set")),
    }
}

/// A committee of 3 to 30 members with random weights, a coalition below `numerator/denominator` of the seated
/// weight (the largest such prefix of a random order), and the adversary's steps.
fn game() -> impl Strategy<Value = (Vec<u64>, Vec<usize>, (u32, u32), Vec<Step>)> {
    (proptest::collection::vec(1..=10_u64, 3..=30), any::<u64>(), prop_oneof![Just((2, 3)), Just((3, 4))], steps())
        .prop_map(|(weights, seed, fraction, steps)| {
            // A deterministic shuffle of the members by `seed`, then the longest prefix below the fraction.
            let mut order: Vec<usize> = (0..weights.len()).collect();
            order.sort_by_key(|i| (seed.rotate_left(u32::try_from(*i % 64).expect("small")) ^ (*i as u64)) % 97);
            let total: u64 = weights.iter().sum();
            let (mut coalition, mut own) = (Vec::new(), 0_u64);
            for i in order {
                let with = own.saturating_add(weights[i]);
                if !governance_contracts::types::weight_met(with, total, fraction) {
                    coalition.push(i);
                    own = with;
                }
            }
            (weights, coalition, fraction, steps)
        })
        .prop_filter("a coalition and at least one victim", |(weights, coalition, _, _)| {
            !coalition.is_empty() && coalition.len() < weights.len()
        })
}

proptest! {
    #![proptest_config(config(48))]

    /// A coalition below a rule's fraction of the seated weight never executes an action of that fraction, and
    /// never changes the committee, another member's governors or keys, or the policy; below two thirds it changes
    /// no status and no sealer, whatever it proposes over however many blocks.
    #[test]
    fn a_coalition_never_executes_above_its_share((weights, coalition, fraction, steps) in game()) {
        let ids: Vec<String> = (0..weights.len()).map(member_id).collect();
        let victims: Vec<usize> = (0..weights.len()).filter(|i| !coalition.contains(i)).collect();
        let own: u64 = coalition.iter().map(|i| weights[*i]).sum();
        let chain = TestChain::new(committee(&weights));
        let mut game = Game {
            chain, ids, coalition, victims, share: (own, weights.iter().sum()), puppets: 0, open: Vec::new(),
        };
        let below_two_thirds = fraction == (2, 3);
        let before = kept(&game, below_two_thirds);
        for step in &steps {
            game.play(step);
            prop_assert_eq!(&kept(&game, below_two_thirds), &before, "after {:?}", step);
        }
    }
}

/// Two of four equal members cannot purge the other two: neither both at once in one proposal, nor one after the
/// other, and the victims' weight stays in every denominator.
#[test]
fn half_of_the_committee_cannot_suspend_the_other_half() {
    let mut chain = TestChain::new(committee(&[1, 1, 1, 1]));
    let (a, b, c, d) = (member_id(0), member_id(1), member_id(2), member_id(3));
    let coalition = [format!("{a}-gov"), format!("{d}-gov")];
    let approvers: Vec<&str> = coalition.iter().map(String::as_str).collect();
    let both = vec![Action::SuspendMember { member: mem(&b) }, Action::SuspendMember { member: mem(&c) }];
    let (_, receipt) = chain.propose(&coalition[0], both, &approvers);
    assert!(!TestChain::executed(&receipt), "two of four suspended two members at once: {receipt:?}");
    for victim in [&b, &c] {
        let (_, receipt) =
            chain.propose(&coalition[0], vec![Action::SuspendMember { member: mem(victim) }], &approvers);
        assert!(!TestChain::executed(&receipt), "two of four suspended {victim}: {receipt:?}");
    }
    for id in [&a, &b, &c, &d] {
        let record = MEMBERS.get(&chain.store, &mem(id)).unwrap().unwrap();
        assert_eq!(record.status, MemberStatus::Active, "{id}");
    }
    // Three of four can suspend the fourth; its weight stays in the denominator, so the remaining pair still
    // cannot suspend a third member.
    let three = [format!("{a}-gov"), format!("{b}-gov"), format!("{d}-gov")];
    let approvers3: Vec<&str> = three.iter().map(String::as_str).collect();
    let (_, receipt) = chain.propose(&three[0], vec![Action::SuspendMember { member: mem(&c) }], &approvers3);
    assert!(TestChain::executed(&receipt), "three of four could not suspend the fourth: {receipt:?}");
    let (_, receipt) = chain.propose(&coalition[0], vec![Action::SuspendMember { member: mem(&b) }], &approvers);
    assert!(!TestChain::executed(&receipt), "two of four suspended a member once a third was suspended");
}

/// A delay counts from the block in which the approvals first met the rules: a proposal submitted with too few
/// approvals, completed after the delay has passed since submission, still waits the full delay.
#[test]
fn a_delay_counts_from_when_the_rules_are_met() {
    let mut chain = TestChain::new(committee(&[1, 1, 1, 1]));
    let govs: Vec<String> = (0..4).map(|i| format!("{}-gov", member_id(i))).collect();
    let kind = ActionKind::ChangeSealers;
    let expected = POLICY.get(&chain.store, &kind).unwrap();
    let rule = Rule::weight(2, 3, false, 5);
    let action = Action::SetPolicyRule { kind, expected, rule };
    let (id, receipt) = chain.propose(&govs[0], vec![action], &[govs[0].as_str()]);
    assert!(!TestChain::executed(&receipt));
    // The policy delay (100 blocks) passes with one approval only.
    for _ in 0..120 {
        chain.apply_block(Vec::new());
    }
    let proposal = PROPOSALS.get(&chain.store, &id).unwrap().unwrap().proposal;
    let approvals: Vec<_> = govs[1..].iter().map(|g| chain.approval(&proposal, g)).collect();
    let approve = Payload::Approve { proposal: id, approvals: BoundedVec::try_new(approvals).unwrap() };
    let met_at = chain.height.plus(1);
    let receipt = chain.apply(chain.account_tx(&govs[1], approve));
    assert!(!TestChain::executed(&receipt), "executed in the block its approvals were met: {receipt:?}");
    let status = PROPOSALS.get(&chain.store, &id).unwrap().unwrap().status;
    assert_eq!(status, ProposalStatus::Queued { ready_at: met_at.plus(100) });
    let execute = || Payload::ExecuteProposal { proposal: id };
    let receipt = chain.apply(chain.account_tx(&govs[0], execute()));
    assert!(!TestChain::executed(&receipt), "executed before the delay since the rules were met");
    while chain.height < met_at.plus(99) {
        chain.apply_block(Vec::new());
    }
    let receipt = chain.apply(chain.account_tx(&govs[0], execute()));
    assert!(TestChain::executed(&receipt), "not executed once the delay had passed: {receipt:?}");
}

proptest! {
    #![proptest_config(config(512))]

    /// The forecast's arithmetic is the rule's: adding exactly the weight `weight_missing` names meets the fraction,
    /// one less does not, and a met rule misses nothing.
    #[test]
    fn the_missing_weight_is_exactly_what_meets_the_rule(
        seated in 1..=1_000_000_u64,
        approved_share in 0..=1_000_u64,
        (numerator, denominator) in (1..=20_u32).prop_flat_map(|d| (1..=d, Just(d))),
    ) {
        use governance_contracts::types::{weight_met, weight_missing};
        let approved = seated.saturating_mul(approved_share) / 1_000;
        let fraction = (numerator, denominator);
        let missing = weight_missing(approved, seated, fraction);
        prop_assert_eq!(missing == 0, weight_met(approved, seated, fraction));
        prop_assert!(weight_met(approved.saturating_add(missing), seated, fraction));
        if missing > 1 || (missing == 1 && approved > 0) {
            prop_assert!(!weight_met(approved.saturating_add(missing).saturating_sub(1), seated, fraction));
        }
    }
}
