//! The audit trail: every draft, approval, submission, receipt and sign-in, hash-chained in SQLite so tampering
//! shows; filter, page, verify, and export as CSV or as a JSON bundle.

use leptos::prelude::*;

use crate::{
    api,
    app::{ChainVersion, use_lang},
    i18n::Msg,
    pages::forms::show,
};

/// The audit-trail page.
#[component]
pub fn AuditTrail() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let (actor, kind, subject) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let cursors = RwSignal::new(vec![0_i64]);
    let page = Resource::new(
        move || (actor.get(), kind.get(), subject.get(), cursors.get().last().copied().unwrap_or(0), version.get()),
        |(a, k, s, before, _)| api::audit_page(a, k, s, before),
    );
    let verified = RwSignal::new(None::<String>);
    let verify = move |_| {
        leptos::task::spawn_local(async move {
            verified.set(Some(api::verify_audit().await.unwrap_or_else(|e| e.to_string())));
        });
    };
    let query = move || {
        format!(
            "actor={}&kind={}&subject={}",
            urlencode(&actor.get()),
            urlencode(&kind.get()),
            urlencode(&subject.get())
        )
    };
    let reset = move || cursors.set(vec![0]);
    view! {
        <h1>{move || Msg::Audit.text(lang.get())}</h1>
        <div class="row">
            <label>{move || Msg::Actor.text(lang.get())}<input data-testid="audit-actor" on:change=move |ev| { actor.set(event_target_value(&ev)); reset(); } /></label>
            <label>{move || Msg::Kind.text(lang.get())}<input data-testid="audit-kind" on:change=move |ev| { kind.set(event_target_value(&ev)); reset(); } /></label>
            <label>{move || Msg::Subject.text(lang.get())}<input data-testid="audit-subject" on:change=move |ev| { subject.set(event_target_value(&ev)); reset(); } /></label>
            <a data-testid="export-csv" href=move || format!("/audit/export.csv?{}", query()) rel="external">"CSV"</a>
            <a data-testid="export-json" href=move || format!("/audit/export.json?{}", query()) rel="external">"JSON"</a>
            <button class="secondary" data-testid="audit-verify" on:click=verify>{move || Msg::Verify.text(lang.get())}</button>
            <span data-testid="audit-integrity">{move || verified.get()}</span>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(page.await.map(|p| {
                    let next = p.next;
                    view! {
                        <table data-testid="audit"><tbody>
                            <tr><th>"#"</th><th>{Msg::Time.text(l)}</th><th>{Msg::Actor.text(l)}</th><th>{Msg::Kind.text(l)}</th>
                                <th>{Msg::Subject.text(l)}</th><th>"detail"</th><th>"hash"</th></tr>
                            {p.rows.into_iter().map(|r| view! {
                                <tr data-testid="audit-row">
                                    <td>{r.seq}</td><td>{r.at_ms}</td><td>{r.actor}</td><td><code>{r.kind}</code></td>
                                    <td><code>{r.subject}</code></td><td>{r.detail}</td><td><code>{r.hash.chars().take(16).collect::<String>()}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody></table>
                        <div class="row">
                            <button class="secondary" data-testid="audit-previous" disabled=move || cursors.with(|c| c.len() <= 1)
                                on:click=move |_| cursors.update(|c| { if c.len() > 1 { c.pop(); } })>{Msg::Previous.text(l)}</button>
                            <button class="secondary" data-testid="audit-next" disabled=next.is_none()
                                on:click=move |_| if let Some(n) = next { cursors.update(|c| c.push(n)) }>{Msg::Next.text(l)}</button>
                        </div>
                    }
                }))
            })}
        </Transition>
    }
}

/// Percent-encodes a query value.
fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
