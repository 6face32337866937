//! Proposals: the list (open, queued, applied, failed, expired, cancelled), filtered and paginated from the
//! console's indexed mirror of the chain, and a link to draft a new one.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api,
    app::{ChainVersion, use_lang},
    i18n::Msg,
    pages::forms::show,
};

/// The statuses a list can be filtered by.
const STATUSES: [&str; 6] = ["open", "queued", "applied", "failed", "expired", "cancelled"];

/// The proposal list.
#[component]
pub fn ProposalList() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let status = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    // The cursors of the pages visited, so "previous" goes back.
    let cursors = RwSignal::new(vec![String::new()]);
    let page = Resource::new(
        move || {
            (status.get(), kind.get(), text.get(), cursors.get().last().cloned().unwrap_or_default(), version.get())
        },
        |(s, k, t, after, _)| api::list_proposals(s, k, t, after),
    );
    let reset = move || cursors.set(vec![String::new()]);
    view! {
        <h1>{move || Msg::Proposals.text(lang.get())}" "<A href="/proposals/new" attr:data-testid="new-draft">"+ "{move || Msg::Draft.text(lang.get())}</A></h1>
        <div class="row">
            <label>{move || Msg::Status.text(lang.get())}
                <select data-testid="filter-status" on:change=move |ev| { status.set(event_target_value(&ev)); reset(); }>
                    <option value="">"—"</option>
                    {STATUSES.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                </select>
            </label>
            <label>{move || Msg::Kind.text(lang.get())}
                <input data-testid="filter-kind" placeholder="admit_member" on:change=move |ev| { kind.set(event_target_value(&ev)); reset(); } />
            </label>
            <label>{move || Msg::Search.text(lang.get())}
                <input data-testid="filter-text" on:change=move |ev| { text.set(event_target_value(&ev)); reset(); } />
            </label>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(page.await.map(|p| {
                    let next = p.next.clone();
                    view! {
                        <table data-testid="proposals"><tbody>
                            <tr><th>{Msg::Title.text(l)}</th><th>{Msg::Status.text(l)}</th><th>{Msg::Kind.text(l)}</th>
                                <th>{Msg::Proposer.text(l)}</th><th>{Msg::ExpiresAt.text(l)}</th></tr>
                            {p.rows.into_iter().map(|r| view! {
                                <tr data-testid="proposal-row">
                                    <td><A href=format!("/proposals/{}", r.id) attr:data-testid=format!("proposal-link-{}", r.id)>{r.title}</A></td>
                                    <td>{r.status}</td><td><code>{r.kinds}</code></td><td>{r.proposer}</td><td>{r.expires_at}</td>
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
