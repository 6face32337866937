//! One proposal on chain: decoded and digested here, its approvals, its threshold progress and a forecast of who
//! can still carry it, and the actions a signer takes: approve, apply, cancel, or relay approvals signed offline.

use std::sync::Arc;

use governance_contracts::ids::{AccountId, Height, ProposalId};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use api_types::ProposalStatusName;
use governance_contracts::types::Event;

use crate::{
    api::{self, HistoryRow, ProposalInfo, TallyView, VerdictView},
    app::{ChainVersion, KeyRing, MeResource, loaded, use_lang},
    i18n::{Lang, Msg, Text, status_text, t},
    pages::{
        events,
        forms::{FormError, rich, show},
        review::{Review, Reviewed},
    },
    signer::{Signer, Validity},
    wysiwys,
};

/// Relays a signed transaction (canonical hex) and waits for its receipt: `(tx hash, receipt in words)`.
pub async fn send(tx_hex: String) -> Result<(String, String), String> {
    let submitted = api::submit_transaction(tx_hex).await.map_err(|e| e.to_string())?;
    let receipt = api::wait_transaction(submitted.tx_hash.clone()).await.map_err(|e| e.to_string())?;
    Ok((submitted.tx_hash, receipt))
}

/// The proposal page. The review (decoded bytes, digest) is loaded once; the status, approvals and tally reload
/// on every block.
#[component]
pub fn ProposalPage() -> impl IntoView {
    let params = use_params_map();
    let version = expect_context::<ChainVersion>().0;
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let reviewed = RwSignal::new(None::<Reviewed>);
    // Owned here, not by the part that reloads on every block, so a result outlives the reload it causes.
    let outcome = Outcome { error: RwSignal::new(None), notice: RwSignal::new(None), busy: RwSignal::new(false) };
    let once = Resource::new(id, api::proposal_detail);
    let detail = Resource::new(move || (id(), version.get()), |(id, _)| api::proposal_detail(id));
    view! {
        <Suspense fallback=|| ()>
            {loaded(once, move |once, l| {
                show(once.map(|d| {
                    let closed = d.status.is_closed();
                    view! {
                        <h1>{PROPOSAL.get(l)}" "<code class="id">{d.id.clone()}</code></h1>
                        {d.proposal_hex.clone().map(|hex| view! { <Review proposal_hex=hex expected_id=d.id.clone() reviewed closed /> })}
                    }
                }))
            })}
        </Suspense>
        <Transition fallback=|| ()>
            {loaded(detail, move |detail, l| show(detail.map(|d| view! { <Body detail=d reviewed outcome l /> })))}
        </Transition>
        <p class="ok" data-testid="action-result">{move || outcome.notice.get()}</p>
        <FormError testid="action-error" error=outcome.error />
    }
}

/// Builds one signed transaction (canonical hex) from the loaded key, the chain, the signer's account and how long
/// the transaction stays valid.
type Build = Arc<
    dyn Fn(&Signer, &governance_contracts::domain::ChainIdentity, &AccountId, Validity) -> Result<String, String>
        + Send
        + Sync,
>;

/// The result of the last action on the page.
#[derive(Clone, Copy)]
struct Outcome {
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
}

/// "Needs 1/3 more weight: any one of A, B or C; expires in 40 blocks" for one requirement.
pub fn forecast(tally: &TallyView, blocks_left: u64, lang: Lang) -> String {
    if tally.met {
        return match lang {
            Lang::En => "met".to_owned(),
            Lang::ZhCn => "已满足".to_owned(),
        };
    }
    let Some((num, den)) = tally.fraction else {
        let who: Vec<String> = tally.candidates.iter().flat_map(|c| c.2.clone()).collect();
        return match lang {
            Lang::En => format!("needs one approval from {}; expires in {blocks_left} blocks", who.join(", ")),
            Lang::ZhCn => format!("还需 {} 中任意一人批准；{blocks_left} 个区块后过期", who.join("、")),
        };
    };
    // Weight still needed, by the contracts' own arithmetic.
    let missing =
        u128::from(governance_contracts::types::weight_missing(tally.approved_weight, tally.seated_weight, (num, den)));
    let single: Vec<&str> =
        tally.candidates.iter().filter(|c| u128::from(c.1) >= missing).map(|c| c.0.as_str()).collect();
    let mut sorted: Vec<u64> = tally.candidates.iter().map(|c| c.1).collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut least = 0_usize;
    let mut sum = 0_u128;
    for w in &sorted {
        if sum >= missing {
            break;
        }
        sum = sum.saturating_add(u128::from(*w));
        least = least.saturating_add(1);
    }
    let reachable = sum >= missing;
    match lang {
        Lang::En => {
            let who = if !reachable {
                "the remaining members cannot reach it".to_owned()
            } else if single.is_empty() {
                format!("at least {least} more members")
            } else {
                format!("any one of {}", single.join(", "))
            };
            format!(
                "needs {missing} more weight ({num}/{den} of {}): {who}; expires in {blocks_left} blocks",
                tally.seated_weight
            )
        }
        Lang::ZhCn => {
            let who = if !reachable {
                "其余成员不足以达到门槛".to_owned()
            } else if single.is_empty() {
                format!("至少还需 {least} 个成员")
            } else {
                format!("{} 中任意一个", single.join("、"))
            };
            format!("还需权重 {missing}（{}的 {num}/{den}）：{who}；{blocks_left} 个区块后过期", tally.seated_weight)
        }
    }
}

#[component]
fn Body(detail: ProposalInfo, reviewed: RwSignal<Option<Reviewed>>, outcome: Outcome, l: Lang) -> impl IntoView {
    let lang = use_lang();
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let Outcome { error, notice, busy } = outcome;
    let ready = crate::app::hydrated();
    let blocks_left = detail.expires_at.saturating_sub(detail.height);
    let id_text = detail.id.clone();
    let status = detail.status;
    let pending = status == ProposalStatusName::Pending;
    let my_account = me.try_get_untracked().flatten().and_then(Result::ok).and_then(|m| m.identity).map(|i| i.account);
    let approved_by_me = my_account.is_some_and(|a| detail.approvals.iter().any(|(who, _)| *who == a));
    let queued = status == ProposalStatusName::Queued;

    // Builds and relays one transaction signed by the loaded key.
    let act = move |build: Build| {
        let Some(signer) = keys.get_untracked() else {
            error.set(Some(Msg::KeyNotLoaded.text(lang.try_get_untracked().unwrap_or_default()).to_owned()));
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let me = me.await.map_err(|e| e.to_string())?;
                let tables = api::chain_tables().await.map_err(|e| e.to_string())?;
                let account: AccountId = me
                    .identity
                    .as_ref()
                    .ok_or("sign in first")?
                    .account
                    .parse()
                    .map_err(|_| "bad account id".to_owned())?;
                let validity = Validity::for_chain(Height(me.height), tables.max_tx_ttl);
                let hex = build(&signer, &me.chain, &account, validity)?;
                send(hex).await
            }
            .await;
            busy.set(false);
            match result {
                Ok((_, receipt)) => {
                    error.set(None);
                    notice.set(Some(receipt));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let approve = {
        move |_| {
            let Some(reviewed) = reviewed.get_untracked() else {
                error.set(Some("the proposal has not been reviewed here: nothing to sign".to_owned()));
                return;
            };
            act(Arc::new(move |signer, chain, account, validity| {
                let lang = lang.try_get_untracked().unwrap_or_default();
                signer
                    .approve_own(chain, account, &reviewed.proposal, validity)
                    .map(|t| t.hex)
                    .map_err(|e| e.text(lang))
            }));
        }
    };
    let id_for = {
        let text = id_text.clone();
        move || text.parse::<ProposalId>().map_err(|_| "bad proposal id".to_owned())
    };
    let execute = {
        let id_for = id_for.clone();
        move |_| {
            let id_for = id_for.clone();
            act(Arc::new(move |signer, chain, account, validity| {
                let lang = lang.try_get_untracked().unwrap_or_default();
                signer.execute(chain, account, id_for()?, validity).map(|t| t.hex).map_err(|e| e.text(lang))
            }));
        }
    };
    let cancel = {
        let id_for = id_for.clone();
        move |_| {
            let id_for = id_for.clone();
            act(Arc::new(move |signer, chain, account, validity| {
                let lang = lang.try_get_untracked().unwrap_or_default();
                signer.cancel(chain, account, id_for()?, validity).map(|t| t.hex).map_err(|e| e.text(lang))
            }));
        }
    };
    let upload = {
        move |ev: leptos::ev::Event| {
            let _ = (&ev, &act);
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                let Some(reviewed) = reviewed.get_untracked() else {
                    error.set(Some("the proposal has not been reviewed here".to_owned()));
                    return;
                };
                let Some(file) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .and_then(|i| i.files())
                    .and_then(|f| f.get(0))
                else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                        Ok(t) => t.as_string().unwrap_or_default(),
                        Err(_) => return error.set(Some("cannot read the file".to_owned())),
                    };
                    let l = lang.try_get_untracked().unwrap_or_default();
                    let approval: governance_contracts::types::Approval =
                        match crate::signer::parse_offline_approval(&text) {
                            Ok(a) => a,
                            Err(e) => return error.set(Some(e.text(l))),
                        };
                    act(Arc::new(move |signer, chain, account, validity| {
                        crate::signer::verify_approval(&approval, &reviewed.proposal, chain).map_err(|e| e.text(l))?;
                        let id = reviewed.proposal.id(chain);
                        signer
                            .approve(chain, account, id, vec![approval.clone()], validity)
                            .map(|t| t.hex)
                            .map_err(|e| e.text(l))
                    }));
                });
            }
        }
    };

    let stage = status_line(&detail, l);
    let verdict = detail.verdict.clone();
    let failure = detail.failure.clone();
    let open_tally = (!status.is_closed()).then(|| detail.tally.clone());
    view! {
        <p>{Msg::Status.text(l)}": "<strong data-testid="proposal-status" data-status=status.as_str()>{status_text(status, l)}</strong>
           " · "<span data-testid="proposal-stage">{stage}</span></p>
        {open_tally.map(|tally| view! {
            <section class="card">
                <h2>{Msg::Threshold.text(l)}</h2>
                {tally.iter().map(|t| {
                    view! {
                        <div data-testid="tally">
                            <p><code>{wysiwys::kind_name(t.kind)}</code>" — "{wysiwys::rule_words(l, &t.rule)}</p>
                            {t.fraction.map(|_| view! { <progress max=t.seated_weight.to_string() value=t.approved_weight.to_string()></progress> })}
                            <p data-testid="forecast">{forecast(t, blocks_left, l)}</p>
                        </div>
                    }
                }).collect_view()}
            </section>
        })}
        {verdict.map(|v| view! { <Verdict verdict=v failure=failure.clone() l /> })}
        <section class="card">
            <h2>{Msg::Approvals.text(l)}</h2>
            <ul data-testid="approvals">
                {detail.approvals.iter().map(|(who, key)| view! { <li><code>{who.clone()}</code>" "<code class="key">{key.clone()}</code></li> }).collect_view()}
            </ul>
        </section>
        {pending.then(|| view! {
            <div class="row">
                {if approved_by_me {
                    view! { <span class="ok" data-testid="approved-by-me">"✓ "{Msg::Approvals.text(l)}</span> }.into_any()
                } else {
                    view! { <button data-testid="approve" disabled=move || !ready.get() || busy.get() || reviewed.get().is_none() on:click=approve>{Msg::Approve.text(l)}</button> }.into_any()
                }}
                <button data-testid="cancel" class="secondary" disabled=move || !ready.get() || busy.get() on:click=cancel>{Msg::Cancel.text(l)}</button>
                <label>{rich(t("Upload an approval signed offline (`synod proposal sign`)", "上传离线签署的批准（`synod proposal sign`）").get(l))}
                    <input type="file" data-testid="upload-approval" on:change=upload />
                </label>
            </div>
        })}
        {detail.ready_at.map(|ready_at| {
            let left = ready_at.saturating_sub(detail.height);
            let window = match l {
                Lang::En => format!(
                    "Approved and queued: it may apply from block {ready_at}, {left} blocks from now. Until then every \
                     member can see it and react (revoke approvals, or have the committee cancel it)."
                ),
                Lang::ZhCn => format!(
                    "已获批准并排队：自区块 {ready_at} 起可执行（还有 {left} 个区块）。在此之前所有成员都能看到并作出反应（撤回批准，或由委员会取消）。"
                ),
            };
            view! { <p data-testid="delay-window" class="notice">{window}</p> }
        })}
        {queued.then(|| view! {
            <button data-testid="apply" disabled=move || !ready.get() || busy.get() on:click=execute>{Msg::Apply.text(l)}</button>
        })}
        <section class="card">
            <h2>{HISTORY.get(l)}</h2>
            <ul data-testid="history">{detail.history.iter().map(|h| history_row(h, l)).collect_view()}</ul>
        </section>
    }
}

/// Where the proposal stands, in words: when it was submitted and when it expires, or the block that closed it.
fn status_line(detail: &ProposalInfo, l: Lang) -> String {
    let submitted = match l {
        Lang::En => format!("submitted at height {}", detail.submitted_at),
        Lang::ZhCn => format!("提交于高度 {}", detail.submitted_at),
    };
    let closed_at = detail.verdict.as_ref().map(|v| v.height).or_else(|| {
        // A cancellation carries no verdict: its block is the one whose receipt says so.
        detail
            .history
            .iter()
            .find(|h| h.events.iter().any(|e| matches!(e, Event::ProposalCancelled { .. })))
            .map(|h| h.height)
    });
    let end = match (detail.status, closed_at, l) {
        (ProposalStatusName::Executed, Some(h), Lang::En) => format!("executed at height {h}"),
        (ProposalStatusName::Executed, Some(h), Lang::ZhCn) => format!("于高度 {h} 执行"),
        (ProposalStatusName::Failed, Some(h), Lang::En) => format!("failed at height {h}"),
        (ProposalStatusName::Failed, Some(h), Lang::ZhCn) => format!("于高度 {h} 执行失败"),
        (ProposalStatusName::Cancelled, Some(h), Lang::En) => format!("cancelled at height {h}"),
        (ProposalStatusName::Cancelled, Some(h), Lang::ZhCn) => format!("于高度 {h} 取消"),
        (ProposalStatusName::Expired, _, Lang::En) => format!("expired at height {}", detail.expires_at),
        (ProposalStatusName::Expired, _, Lang::ZhCn) => format!("于高度 {} 过期", detail.expires_at),
        (_, _, Lang::En) => format!("expires at height {}", detail.expires_at),
        (_, _, Lang::ZhCn) => format!("于高度 {} 过期", detail.expires_at),
    };
    format!("{submitted} · {end}")
}

/// One transaction about the proposal: its block, its hash, what it did to the proposal, and its own outcome
/// (worded as the transaction's, never as the proposal's status).
fn history_row(row: &HistoryRow, l: Lang) -> impl IntoView + use<> {
    let did: Vec<String> = row.events.iter().map(|e| events::event_words(l, e)).collect();
    let outcome = match (&row.rejected, l) {
        (None, Lang::En) => "transaction applied".to_owned(),
        (None, Lang::ZhCn) => "交易已生效".to_owned(),
        (Some(reason), Lang::En) => {
            format!("transaction rejected, nothing changed: {}", events::rejection_words(l, reason))
        }
        (Some(reason), Lang::ZhCn) => format!("交易被拒绝，未作任何更改：{}", events::rejection_words(l, reason)),
    };
    let at = match l {
        Lang::En => format!("height {}", row.height),
        Lang::ZhCn => format!("高度 {}", row.height),
    };
    view! {
        <li data-testid="history-row">
            {at}" · "<code title=row.tx.clone()>{events::short_hash(&row.tx)}</code>" · "
            {did.join("; ")}{(!did.is_empty()).then_some(" · ")}
            <span class=if row.rejected.is_some() { "bad" } else { "muted" }>{outcome}</span>
        </li>
    }
}

/// How a closed proposal was judged, as recorded in the block that closed it: each rule with the weights it was
/// measured on, and the approvals that counted with their members' weights then.
#[component]
fn Verdict(verdict: VerdictView, failure: Option<governance_contracts::Rejection>, l: Lang) -> impl IntoView {
    let heading = match l {
        Lang::En => format!("Decision, as recorded at height {}", verdict.height),
        Lang::ZhCn => format!("裁决（记录于高度 {}）", verdict.height),
    };
    view! {
        <section class="card" data-testid="verdict">
            <h2>{heading}</h2>
            {failure.map(|reason| view! {
                <p class="bad" data-testid="verdict-failure">{match l {
                    Lang::En => format!("Its rules were met, but its actions could not apply, so nothing of it applied: {}", events::rejection_words(l, &reason)),
                    Lang::ZhCn => format!("规则已满足，但其操作无法执行，因此没有任何操作生效：{}", events::rejection_words(l, &reason)),
                }}</p>
            })}
            {verdict.requirements.iter().map(|r| view! {
                <div data-testid="verdict-rule">
                    <p><code>{wysiwys::kind_name(r.kind)}</code>" — "{wysiwys::rule_words(l, &r.rule)}</p>
                    <p>{judged_words(r, l)}</p>
                </div>
            }).collect_view()}
            <table data-testid="verdict-approvals"><tbody>
                <tr><th>{Msg::Account.text(l)}</th><th>{Msg::Member.text(l)}</th><th>{Msg::Weight.text(l)}</th><th>{GOVERNOR.get(l)}</th></tr>
                {verdict.approvals.iter().map(|v| view! {
                    <tr data-testid="verdict-approval">
                        <td><code>{v.account.to_string()}</code></td><td><code>{v.member.to_string()}</code></td>
                        <td>{v.weight.0}</td><td>{if v.governor { "✓" } else { "—" }}</td>
                    </tr>
                }).collect_view()}
            </tbody></table>
        </section>
    }
}

/// "met: 6 of 8 seated weight approved (needs 2/3)" for one judged rule.
pub fn judged_words(r: &TallyView, l: Lang) -> String {
    let mark = if r.met { "✓" } else { "✗" };
    match (r.fraction, l) {
        (Some((num, den)), Lang::En) => format!(
            "{mark} {}: {} of {} seated weight approved (needs {num}/{den})",
            if r.met { "met" } else { "not met" },
            r.approved_weight,
            r.seated_weight
        ),
        (Some((num, den)), Lang::ZhCn) => format!(
            "{mark} {}：在席权重 {} 中已批准 {}（需 {num}/{den}）",
            if r.met { "已满足" } else { "未满足" },
            r.seated_weight,
            r.approved_weight
        ),
        (None, Lang::En) => format!("{mark} {}", if r.met { "met" } else { "not met" }),
        (None, Lang::ZhCn) => format!("{mark} {}", if r.met { "已满足" } else { "未满足" }),
    }
}

/// The page's heading.
const PROPOSAL: Text = t("Proposal", "提案");
/// The history card's heading.
const HISTORY: Text = t("History", "历史");
/// The verdict table's governor column.
const GOVERNOR: Text = t("Governor", "治理人");
