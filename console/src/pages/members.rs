//! Members: the alliance's organisations, their weights, standing and governors; drafts to admit, suspend,
//! reinstate, expel, re-weight and replace governors.

use governance_contracts::{
    codec::{BoundedString, BoundedVec},
    crypto::PublicKey,
    ids::{AccountId, MemberId, Weight},
    types::{Action, NewAccount},
};
use leptos::prelude::*;

use crate::{
    api,
    app::{ChainVersion, use_lang},
    i18n::Msg,
    pages::forms::{Field, FormError, create_draft, parsed, required, show},
};

/// The members page.
#[component]
pub fn Members() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let tables = Resource::new(move || version.get(), |_| api::chain_tables());
    view! {
        <h1>{move || Msg::Members.text(lang.get())}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(tables.await.map(|t| view! {
                    <table data-testid="members"><tbody>
                        <tr>
                            <th>{Msg::Member.text(l)}</th><th>{Msg::Name.text(l)}</th><th>{Msg::Weight.text(l)}</th>
                            <th>{Msg::Status.text(l)}</th><th>{Msg::Governors.text(l)}</th>
                        </tr>
                        {t.members.into_iter().map(|m| view! {
                            <tr data-testid=format!("member-{}", m.id)>
                                <td><code>{m.id.clone()}</code></td>
                                <td>{m.name}</td>
                                <td>{m.weight}</td>
                                <td data-testid=format!("member-status-{}", m.id)>{m.status}</td>
                                <td><code>{m.governors.join(", ")}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                }))
            })}
        </Suspense>
        <AdmitMember />
        <ChangeMember />
    }
}

#[component]
fn AdmitMember() -> impl IntoView {
    let (id, name, weight, governor, key) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("1".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let error = RwSignal::new(None);
    let submit = move |_| {
        let action = (|| -> Result<Action, String> {
            let governors = vec![NewAccount {
                account: parsed::<AccountId>(governor, "the governor account")?,
                key: parsed::<PublicKey>(key, "the governor's public key")?,
            }];
            Ok(Action::AdmitMember {
                member: parsed::<MemberId>(id, "the member id")?,
                name: BoundedString::try_new(required(name, "the name")?)
                    .map_err(|_| "the name is too long".to_owned())?,
                weight: Weight(parsed::<u64>(weight, "the weight")?),
                governors: BoundedVec::try_new(governors).map_err(|_| "too many governors".to_owned())?,
            })
        })();
        let title = format!("Admit member {}", id.get_untracked().trim());
        create_draft(title, action.map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>"Admit a member organisation / 接纳成员机构"</h2>
            <div class="row">
                <Field label="Member id" testid="admit-member-id" value=id />
                <Field label="Name" testid="admit-member-name" value=name />
                <Field label="Weight" testid="admit-member-weight" value=weight />
                <Field label="Governor account" testid="admit-member-governor" value=governor />
                <Field label="Governor public key (ed25519:…)" testid="admit-member-governor-key" value=key />
                <button data-testid="admit-member-draft" on:click=submit>"Draft"</button>
            </div>
            <FormError testid="admit-member-error" error />
        </section>
    }
}

#[component]
fn ChangeMember() -> impl IntoView {
    let (member, weight, expected, governors, expected_governors) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let error = RwSignal::new(None);
    let draft = move |kind: &'static str| {
        let action = (|| -> Result<Action, String> {
            let member = parsed::<MemberId>(member, "the member id")?;
            let list = |value: RwSignal<String>, what: &str| -> Result<BoundedVec<AccountId, 16>, String> {
                let ids: Result<Vec<AccountId>, String> = value
                    .get_untracked()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().map_err(|_| format!("{what}: `{s}` is not an account id")))
                    .collect();
                BoundedVec::try_new(ids?).map_err(|_| format!("{what}: too many"))
            };
            Ok(match kind {
                "suspend" => Action::SuspendMember { member },
                "reinstate" => Action::ReinstateMember { member },
                "expel" => Action::ExpelMember { member },
                "weight" => Action::SetMemberWeight {
                    member,
                    expected: Weight(parsed::<u64>(expected, "the current weight")?),
                    weight: Weight(parsed::<u64>(weight, "the new weight")?),
                },
                _ => Action::ReplaceGovernors {
                    member,
                    expected: list(expected_governors, "the current governors")?,
                    governors: list(governors, "the new governors")?,
                },
            })
        })();
        let title = format!("{kind} member {}", member.get_untracked().trim());
        create_draft(title, action.map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>"Change a member / 变更成员"</h2>
            <div class="row">
                <Field label="Member id" testid="change-member-id" value=member />
                <button data-testid="suspend-member-draft" on:click=move |_| draft("suspend")>"Suspend"</button>
                <button data-testid="reinstate-member-draft" on:click=move |_| draft("reinstate")>"Reinstate"</button>
                <button data-testid="expel-member-draft" class="secondary" on:click=move |_| draft("expel")>"Expel"</button>
            </div>
            <div class="row">
                <Field label="Current weight" testid="member-weight-expected" value=expected />
                <Field label="New weight" testid="member-weight-new" value=weight />
                <button data-testid="member-weight-draft" on:click=move |_| draft("weight")>"Re-weight"</button>
            </div>
            <div class="row">
                <Field label="Current governors (comma-separated)" testid="governors-expected" value=expected_governors />
                <Field label="New governors" testid="governors-new" value=governors />
                <button data-testid="governors-draft" on:click=move |_| draft("governors")>"Replace governors"</button>
            </div>
            <FormError testid="change-member-error" error />
        </section>
    }
}
