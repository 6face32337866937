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
    i18n::{Msg, Text, t},
    pages::forms::{DRAFT, Field, FormError, create_draft, parsed, required, say, show, too_long},
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

const MEMBER_ID: Text = t("Member id", "成员机构编号");
const NAME: Text = t("Name", "名称");
const WEIGHT: Text = t("Weight", "权重");
const GOVERNOR_ACCOUNT: Text = t("Governor account", "治理账户");
const GOVERNOR_KEY: Text = t("Governor public key (ed25519:…)", "治理账户公钥（ed25519:…）");
const CURRENT_WEIGHT: Text = t("Current weight", "当前权重");
const NEW_WEIGHT: Text = t("New weight", "新权重");
const CURRENT_GOVERNORS: Text = t("Current governors (comma-separated)", "当前治理账户（逗号分隔）");
const NEW_GOVERNORS: Text = t("New governors", "新治理账户");

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
    let lang = use_lang();
    let submit = move |_| {
        let l = lang.get_untracked();
        let action = (|| -> Result<Action, String> {
            let governors = vec![NewAccount {
                account: parsed::<AccountId>(governor, GOVERNOR_ACCOUNT, l)?,
                key: parsed::<PublicKey>(key, GOVERNOR_KEY, l)?,
            }];
            Ok(Action::AdmitMember {
                member: parsed::<MemberId>(id, MEMBER_ID, l)?,
                name: BoundedString::try_new(required(name, NAME, l)?).map_err(|_| too_long(NAME, l))?,
                weight: Weight(parsed::<u64>(weight, WEIGHT, l)?),
                governors: BoundedVec::try_new(governors).map_err(|_| too_long(GOVERNOR_ACCOUNT, l))?,
            })
        })();
        let title = format!("Admit member {}", id.get_untracked().trim());
        create_draft(title, action.map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Admit a member organisation", "接纳成员机构"))}</h2>
            <div class="row">
                <Field label=MEMBER_ID testid="admit-member-id" value=id />
                <Field label=NAME testid="admit-member-name" value=name />
                <Field label=WEIGHT testid="admit-member-weight" value=weight />
                <Field label=GOVERNOR_ACCOUNT testid="admit-member-governor" value=governor />
                <Field label=GOVERNOR_KEY testid="admit-member-governor-key" value=key />
                <button data-testid="admit-member-draft" on:click=submit>{say(DRAFT)}</button>
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
    let lang = use_lang();
    let draft = move |kind: &'static str| {
        let l = lang.get_untracked();
        let action = (|| -> Result<Action, String> {
            let member = parsed::<MemberId>(member, MEMBER_ID, l)?;
            let list = |value: RwSignal<String>, what: Text| -> Result<BoundedVec<AccountId, 16>, String> {
                let ids: Result<Vec<AccountId>, String> = value
                    .get_untracked()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().map_err(|_| format!("{}: `{s}` ✗", what.get(l))))
                    .collect();
                BoundedVec::try_new(ids?).map_err(|_| too_long(what, l))
            };
            Ok(match kind {
                "suspend" => Action::SuspendMember { member },
                "reinstate" => Action::ReinstateMember { member },
                "expel" => Action::ExpelMember { member },
                "weight" => Action::SetMemberWeight {
                    member,
                    expected: Weight(parsed::<u64>(expected, CURRENT_WEIGHT, l)?),
                    weight: Weight(parsed::<u64>(weight, NEW_WEIGHT, l)?),
                },
                _ => Action::ReplaceGovernors {
                    member,
                    expected: list(expected_governors, CURRENT_GOVERNORS)?,
                    governors: list(governors, NEW_GOVERNORS)?,
                },
            })
        })();
        let title = format!("{kind} member {}", member.get_untracked().trim());
        create_draft(title, action.map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Change a member", "变更成员"))}</h2>
            <div class="row">
                <Field label=MEMBER_ID testid="change-member-id" value=member />
                <button data-testid="suspend-member-draft" on:click=move |_| draft("suspend")>{say(t("Suspend", "暂停"))}</button>
                <button data-testid="reinstate-member-draft" on:click=move |_| draft("reinstate")>{say(t("Reinstate", "恢复"))}</button>
                <button data-testid="expel-member-draft" class="secondary" on:click=move |_| draft("expel")>{say(t("Expel", "除名"))}</button>
            </div>
            <div class="row">
                <Field label=CURRENT_WEIGHT testid="member-weight-expected" value=expected />
                <Field label=NEW_WEIGHT testid="member-weight-new" value=weight />
                <button data-testid="member-weight-draft" on:click=move |_| draft("weight")>{say(t("Re-weight", "调整权重"))}</button>
            </div>
            <div class="row">
                <Field label=CURRENT_GOVERNORS testid="governors-expected" value=expected_governors />
                <Field label=NEW_GOVERNORS testid="governors-new" value=governors />
                <button data-testid="governors-draft" on:click=move |_| draft("governors")>{say(t("Replace governors", "更换治理账户"))}</button>
            </div>
            <FormError testid="change-member-error" error />
        </section>
    }
}
