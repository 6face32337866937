//! Drafts: a proposal prepared in this organisation's workspace, reviewed in the browser, dry-run on the node,
//! and signed and submitted with the drafter's own approval.

use governance_contracts::ids::Height;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::{
    api,
    app::{KeyRing, MeResource, loaded, use_lang},
    i18n::{Msg, t},
    pages::{
        forms::{FormError, refuse_unsafe_text, say, show},
        proposal::send,
        review::{Review, Reviewed},
    },
    signer::Validity,
};

/// A draft from actions written as JSON, for any action kind the forms do not cover.
#[component]
pub fn NewDraft() -> impl IntoView {
    let lang = use_lang();
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let actions = RwSignal::new("[]".to_owned());
    let error = RwSignal::new(None);
    let navigate = use_navigate();
    let submit = move |_| {
        let navigate = navigate.clone();
        let (t, d, a) = (title.get_untracked(), description.get_untracked(), actions.get_untracked());
        // Text the chain would refuse is refused here; actions that do not parse are the server's to explain.
        let typed: Vec<governance_contracts::types::Action> = serde_json::from_str(&a).unwrap_or_default();
        if let Err(reason) = refuse_unsafe_text(lang.get_untracked(), t.trim(), d.trim(), &typed) {
            error.set(Some(reason));
            return;
        }
        leptos::task::spawn_local(async move {
            match api::create_draft(t, d, a).await {
                Ok(id) => navigate(&format!("/drafts/{id}"), Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <h1>{move || Msg::Draft.text(lang.get())}</h1>
        <section class="card">
            <label>{move || Msg::Title.text(lang.get())}
                <input data-testid="draft-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            </label>
            <label>{move || Msg::Description.text(lang.get())}
                <textarea data-testid="draft-description" rows="3" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))></textarea>
            </label>
            <label>{say(t("Actions (JSON)", "操作（JSON）"))}
                <textarea data-testid="draft-actions" rows="10" class="mono" prop:value=move || actions.get()
                    on:input=move |ev| actions.set(event_target_value(&ev))></textarea>
            </label>
            <button data-testid="draft-create" on:click=submit>{move || Msg::Draft.text(lang.get())}</button>
            <FormError testid="draft-error" error />
        </section>
        <OpenDrafts />
    }
}

/// This workspace's open drafts.
#[component]
pub fn OpenDrafts() -> impl IntoView {
    let lang = use_lang();
    let drafts = Resource::new(|| (), |()| api::open_drafts());
    view! {
        <h2>{move || Msg::Drafts.text(lang.get())}</h2>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                show(drafts.await.map(|list| view! {
                    <ul data-testid="drafts">
                        {list.into_iter().map(|d| view! {
                            <li><a href=format!("/drafts/{}", d.id)>{d.title}</a>" — "{d.author}</li>
                        }).collect_view()}
                    </ul>
                }))
            })}
        </Suspense>
    }
}

const RULES_NEEDED: crate::i18n::Text = t("Approval rules it needs:", "所需审批规则：");

/// One draft: review, dry run, sign and submit.
#[component]
pub fn DraftDetail() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let draft = Resource::new(id, api::draft);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                show(draft.await.map(|d| view! {
                    <h1>{Msg::Draft.text(lang.try_get_untracked().unwrap_or_default())}" #"{d.id}</h1>
                    <DraftBody draft=d />
                }))
            })}
        </Suspense>
    }
}

#[component]
fn DraftBody(draft: api::DraftView) -> impl IntoView {
    let lang = use_lang();
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let reviewed = RwSignal::new(None::<Reviewed>);
    let ready = crate::app::hydrated();
    let error = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let dry = Resource::new(|| (), {
        let hex = draft.proposal_hex.clone();
        move |()| api::dry_run(hex.clone())
    });
    let navigate = use_navigate();
    let draft_id = draft.id;
    let sign = move |_| {
        let Some(reviewed) = reviewed.get_untracked() else {
            error.set(Some("the proposal has not been reviewed here: nothing to sign".to_owned()));
            return;
        };
        let Some(signer) = keys.get_untracked() else {
            error.set(Some(Msg::KeyNotLoaded.text(lang.try_get_untracked().unwrap_or_default()).to_owned()));
            return;
        };
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let me = me.await.map_err(|e| e.to_string())?;
                let tables = api::chain_tables().await.map_err(|e| e.to_string())?;
                let account = me.identity.as_ref().map(|i| i.account.clone()).ok_or("sign in first")?;
                let account = account.parse().map_err(|_| "bad account id".to_owned())?;
                let validity = Validity::for_chain(Height(me.height), tables.max_tx_ttl);
                let tx = signer
                    .submit_with_approval(&me.chain, &account, reviewed.proposal.clone(), validity)
                    .map_err(|e| e.text(lang.get_untracked()))?;
                let (hash, _receipt) = send(tx.hex).await?;
                api::mark_draft_submitted(draft_id, hash).await.map_err(|e| e.to_string())?;
                Ok::<_, String>(reviewed.digest)
            }
            .await;
            busy.set(false);
            match result {
                Ok(digest) => navigate(&format!("/proposals/{digest}"), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <p>{say(t("Status: ", "状态："))}<span data-testid="draft-status">{draft.status.clone()}</span>" · "{draft.author.clone()}</p>
        <Review proposal_hex=draft.proposal_hex.clone() expected_id=draft.proposal_id.clone() reviewed />
        <section class="card">
            <h2>{move || Msg::DryRun.text(lang.get())}</h2>
            <Suspense fallback=|| ()>
                {loaded(dry, move |dry, l| show(dry.map(|d| {
                    let words = crate::pages::events::dry_run_words(l, &d.outcome, &d.events);
                    let rules: Vec<String> = d
                        .requirements
                        .iter()
                        .map(|(kind, rule)| format!("{}: {}", crate::wysiwys::kind_name(*kind), crate::wysiwys::rule_words(l, rule)))
                        .collect();
                    view! {
                        <div class=if d.applies { "ok" } else { "bad" } data-testid="dry-run">
                            <p>{words.heading}</p>
                            <ul class="events">{words.lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                        </div>
                        <p>{RULES_NEEDED.get(l)}</p>
                        <ul>{rules.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                    }
                })))}
            </Suspense>
        </section>
        <button data-testid="sign-and-submit" disabled=move || !ready.get() || busy.get() || reviewed.get().is_none() || draft.status != "draft" on:click=sign>
            {move || Msg::SignAndSubmit.text(lang.get())}
        </button>
        <FormError testid="sign-error" error />
    }
}
