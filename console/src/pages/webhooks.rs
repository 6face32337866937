//! Webhooks, for a member's governors: where "needs your approval" and "expires soon" notices are posted.

use leptos::prelude::*;

use crate::{
    api,
    app::MeResource,
    i18n::t,
    pages::forms::{FormError, say},
};

/// The list of webhooks with a form to add one; shown to governors only.
#[component]
pub fn Webhooks() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    let changed = RwSignal::new(0_u32);
    // Only a governor's session asks for the list: anyone else is refused it, and the panel is not shown to them.
    let is_governor =
        move || me.get().and_then(Result::ok).and_then(|m| m.identity).is_some_and(|i| i.governor && !i.read_only);
    let hooks = Resource::new(
        move || (changed.get(), is_governor()),
        |(_, governor)| async move { if governor { api::webhooks().await } else { Ok(Vec::new()) } },
    );
    let url = RwSignal::new(String::new());
    let needs = RwSignal::new(true);
    let expiring = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let ready = crate::app::hydrated();
    let add = move |_| {
        let events: Vec<&str> = [(needs.get_untracked(), "needs_approval"), (expiring.get_untracked(), "expires_soon")]
            .into_iter()
            .filter_map(|(on, event)| on.then_some(event))
            .collect();
        let (target, events) = (url.get_untracked(), events.join(","));
        leptos::task::spawn_local(async move {
            match api::add_webhook(target, events).await {
                Ok(_) => {
                    error.set(None);
                    url.set(String::new());
                    changed.update(|n| *n = n.wrapping_add(1));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let governor = me.await.ok().and_then(|m| m.identity).is_some_and(|i| i.governor && !i.read_only);
                governor.then(|| view! {
                    <section class="card" data-testid="webhooks">
                        <h2>{say(t("Webhooks", "Webhook 通知"))}</h2>
                        <p>{say(t(
                            "Posts JSON to your URL when a proposal needs your organisation's approval, and again when it expires soon.",
                            "当提案需要本机构批准时，以及提案即将过期时，向您的 URL 发送 JSON 通知。",
                        ))}</p>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                hooks.await.ok().map(|list| view! {
                                    <table data-testid="webhook-list"><tbody>
                                        {list.into_iter().map(|hook| {
                                            let id = hook.id;
                                            view! {
                                                <tr>
                                                    <td><code>{hook.url}</code></td><td>{hook.events}</td><td>{hook.member}</td>
                                                    <td><button class="secondary" data-testid=format!("webhook-remove-{id}") on:click=move |_| {
                                                        leptos::task::spawn_local(async move {
                                                            if let Err(e) = api::remove_webhook(id).await {
                                                                error.set(Some(e.to_string()));
                                                            }
                                                            changed.update(|n| *n = n.wrapping_add(1));
                                                        });
                                                    }>{say(t("Remove", "删除"))}</button></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody></table>
                                })
                            })}
                        </Transition>
                        <div class="row">
                            <label>"URL"
                                <input data-testid="webhook-url" placeholder="https://" prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
                            </label>
                            <label><input type="checkbox" data-testid="webhook-needs-approval" prop:checked=move || needs.get() on:change=move |ev| needs.set(event_target_checked(&ev)) />
                                {say(t("needs our approval", "需要本机构批准"))}</label>
                            <label><input type="checkbox" data-testid="webhook-expires-soon" prop:checked=move || expiring.get() on:change=move |ev| expiring.set(event_target_checked(&ev)) />
                                {say(t("expires soon", "即将过期"))}</label>
                            <button data-testid="webhook-add" disabled=move || !ready.get() on:click=add>{say(t("Add", "添加"))}</button>
                        </div>
                        <FormError testid="webhook-error" error />
                    </section>
                })
            })}
        </Suspense>
    }
}
