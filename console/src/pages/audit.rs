//! The audit trail: every draft, approval (by any member, as it lands on chain), submission, receipt and sign-in,
//! hash-chained in SQLite so tampering shows; filter, page, verify, and export as CSV or as a JSON bundle. Each row
//! reads in words, with its time in the reader's zone and in UTC, and its hashes short with the full value on
//! demand.

use leptos::prelude::*;

use crate::{
    api,
    app::{ChainVersion, loaded, use_lang},
    i18n::{Msg, Text, t},
    pages::{
        events::{AUDIT_KINDS, Copyable, RECORDED, actor_words, audit_detail_words, audit_kind_words},
        forms::{say, show},
        time::Moment,
    },
};

const ANY_KIND: Text = t("Any kind", "全部类型");
const WHO: Text = t("Who", "操作者");
const WHAT: Text = t("What", "事件");
const ABOUT: Text = t("About", "对象");
const DETAILS: Text = t("Details", "详情");
const HASH: Text = t("Row hash", "行哈希");
const TIME: Text = t("Time (yours, and UTC)", "时间（本地与 UTC）");
const EXPORT_CSV: Text = t("Export CSV", "导出 CSV");
const EXPORT_JSON: Text = t("Export JSON (verifiable offline)", "导出 JSON（可离线验证）");
const NO_ROWS: Text = t("No rows match.", "没有符合条件的记录。");

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
            <label>{move || Msg::Kind.text(lang.get())}
                <select data-testid="audit-kind" on:change=move |ev| { kind.set(event_target_value(&ev)); reset(); }>
                    <option value="">{say(ANY_KIND)}</option>
                    {AUDIT_KINDS.iter().map(|k| view! { <option value=*k>{move || audit_kind_words(lang.get(), k)}</option> }).collect_view()}
                </select>
            </label>
            <label>{move || Msg::Subject.text(lang.get())}<input data-testid="audit-subject" on:change=move |ev| { subject.set(event_target_value(&ev)); reset(); } /></label>
            <a data-testid="export-csv" href=move || format!("/audit/export.csv?{}", query()) rel="external">{say(EXPORT_CSV)}</a>
            <a data-testid="export-json" href=move || format!("/audit/export.json?{}", query()) rel="external">{say(EXPORT_JSON)}</a>
            <button class="secondary" data-testid="audit-verify" on:click=verify>{move || Msg::Verify.text(lang.get())}</button>
            <span data-testid="audit-integrity">{move || verified.get()}</span>
        </div>
        <Transition fallback=|| ()>
            {loaded(page, move |page, l| show(page.map(|p| {
                let next = p.next;
                let empty = p.rows.is_empty();
                view! {
                    <table class="audit" data-testid="audit">
                        <colgroup><col class="seq" /><col class="time" /><col class="who" /><col class="what" /><col class="about" /><col class="details" /><col class="hash" /></colgroup>
                        <thead><tr><th>"#"</th><th>{TIME.get(l)}</th><th>{WHO.get(l)}</th><th>{WHAT.get(l)}</th>
                            <th>{ABOUT.get(l)}</th><th>{DETAILS.get(l)}</th><th>{HASH.get(l)}</th></tr></thead>
                        <tbody>
                        {p.rows.into_iter().map(|r| {
                            let what = audit_kind_words(l, &r.kind);
                            let words = audit_detail_words(l, &r.kind, &r.detail);
                            let who = actor_words(l, &r.actor);
                            let kind = r.kind.clone();
                            view! {
                                <tr data-testid="audit-row" data-kind=kind>
                                    <td>{r.seq}</td>
                                    <td><Moment ms=r.at_ms lang=l /></td>
                                    <td class="who">{who}</td>
                                    <td class="what" title=r.kind>{what}</td>
                                    <td>{(!r.subject.is_empty()).then(|| view! { <Copyable value=r.subject lang=l /> })}</td>
                                    <td class="details">{words}
                                        <details class="raw"><summary>{RECORDED.get(l)}</summary><pre>{r.detail}</pre></details>
                                    </td>
                                    <td><Copyable value=r.hash lang=l testid="audit-hash" /></td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    {empty.then(|| view! { <p>{NO_ROWS.get(l)}</p> })}
                    <div class="row">
                        <button class="secondary" data-testid="audit-previous" disabled=move || cursors.with(|c| c.len() <= 1)
                            on:click=move |_| cursors.update(|c| { if c.len() > 1 { c.pop(); } })>{Msg::Previous.text(l)}</button>
                        <button class="secondary" data-testid="audit-next" disabled=next.is_none()
                            on:click=move |_| if let Some(n) = next { cursors.update(|c| c.push(n)) }>{Msg::Next.text(l)}</button>
                    </div>
                }
            })))}
        </Transition>
    }
}

/// Percent-encodes a query value.
fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
