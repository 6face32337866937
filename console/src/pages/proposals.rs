//! Proposals: the list (pending, queued, executed, failed, expired, cancelled), filtered and paginated from the
//! console's indexed mirror of the chain, and a link to draft a new one. The filters live in the page's address
//! (`?status=pending&kind=admit_member&q=bank`), so a filtered list can be bookmarked and shared.

use leptos::prelude::*;
use leptos_router::components::A;

use api_types::ProposalStatusName;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::{
    api,
    app::{ChainVersion, loaded, use_lang},
    i18n::{Msg, status_text},
    pages::forms::show,
};

/// The proposal list.
#[component]
pub fn ProposalList() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let query = use_query_map();
    let param = move |name: &'static str| Signal::derive(move || query.with(|q| q.get(name).unwrap_or_default()));
    let (status, kind, text) = (param("status"), param("kind"), param("q"));
    let navigate = use_navigate();
    // A filter changed: the address takes it (so back, reload and a shared link keep it) and the list starts over.
    let set_filter = move |name: &'static str, value: String| {
        let mut next = query.get_untracked();
        if value.trim().is_empty() {
            next.remove(name);
        } else {
            next.replace(name, value);
        }
        navigate(
            &format!("/proposals{}", next.to_query_string()),
            NavigateOptions { replace: true, ..Default::default() },
        );
    };
    // The cursors of the pages visited, so "previous" goes back.
    let cursors = RwSignal::new(vec![String::new()]);
    let page = Resource::new(
        move || {
            (status.get(), kind.get(), text.get(), cursors.get().last().cloned().unwrap_or_default(), version.get())
        },
        |(s, k, t, after, _)| api::list_proposals(s, k, t, after),
    );
    let reset = move || cursors.set(vec![String::new()]);
    let filter = move |name: &'static str| {
        let set_filter = set_filter.clone();
        move |ev: leptos::ev::Event| {
            set_filter(name, event_target_value(&ev));
            reset();
        }
    };
    view! {
        <h1>{move || Msg::Proposals.text(lang.get())}" "<A href="/proposals/new" attr:data-testid="new-draft">"+ "{move || Msg::Draft.text(lang.get())}</A></h1>
        <div class="row">
            <label>{move || Msg::Status.text(lang.get())}
                <select data-testid="filter-status" on:change=filter("status")>
                    <option value="" selected=move || status.get().is_empty()>"—"</option>
                    {ProposalStatusName::ALL.iter().map(|s| {
                        let s = *s;
                        view! { <option value=s.as_str() selected=move || status.get() == s.as_str()>{move || status_text(s, lang.get())}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>{move || Msg::Kind.text(lang.get())}
                <input data-testid="filter-kind" placeholder="admit_member" prop:value=move || kind.get() on:change=filter("kind") />
            </label>
            <label>{move || Msg::Search.text(lang.get())}
                <input data-testid="filter-text" prop:value=move || text.get() on:change=filter("q") />
            </label>
        </div>
        <Transition fallback=|| ()>
            {loaded(page, move |page, l| {
                show(page.map(|p| {
                    let next = p.next.clone();
                    view! {
                        <table data-testid="proposals"><tbody>
                            <tr><th>{Msg::Title.text(l)}</th><th>{Msg::Status.text(l)}</th><th>{Msg::Kind.text(l)}</th>
                                <th>{Msg::Proposer.text(l)}</th><th>{Msg::ExpiresAt.text(l)}</th></tr>
                            {p.rows.into_iter().map(|r| view! {
                                <tr data-testid="proposal-row">
                                    <td><A href=format!("/proposals/{}", r.id) attr:data-testid=format!("proposal-link-{}", r.id)>{r.title}</A></td>
                                    <td data-status=r.status.as_str()>{status_text(r.status, l)}</td><td><code>{r.kinds}</code></td><td>{r.proposer}</td><td>{r.expires_at}</td>
                                </tr>
                            }).collect_view()}
                        </tbody></table>
                        <div class="row">
                            <button class="secondary" data-testid="page-previous" disabled=move || cursors.with(|c| c.len() <= 1)
                                on:click=move |_| cursors.update(|c| { if c.len() > 1 { c.pop(); } })>{Msg::Previous.text(l)}</button>
                            <button class="secondary" data-testid="page-next" disabled=next.is_none()
                                on:click=move |_| if let Some(n) = next.clone() { cursors.update(|c| c.push(n)) }>{Msg::Next.text(l)}</button>
                        </div>
                    }
                }))
            })}
        </Transition>
        <crate::pages::draft::OpenDrafts />
    }
}
