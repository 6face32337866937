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
    app::{ChainVersion, loaded, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::forms::{Check, DRAFT, Field, FormError, Input, create_draft, say, show, too_long},
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
            {loaded(tables, move |tables, l| {
                show(tables.map(|t| view! {
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
                                <td data-testid=format!("member-status-{}", m.id)>{status_words(&m.status, l)}</td>
                                <td><code>{m.governors.join(", ")}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                }))
            })}
        </Suspense>
        <AdmitMember />
        <ChangeMember tables />
    }
}

/// A member's standing in words.
fn status_words(status: &str, lang: Lang) -> &'static str {
    match status {
        "active" => t("active", "正常").get(lang),
        "suspended" => t("suspended", "已暂停").get(lang),
        "expelled" => t("expelled", "已除名").get(lang),
        _ => t("unknown", "未知").get(lang),
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
    let (id, name, weight, governor, key) =
        (Input::new(""), Input::new(""), Input::new("1"), Input::new(""), Input::new(""));
    let error = RwSignal::new(None);
    let lang = use_lang();
    let submit = move |_| {
        let mut check = Check::new(lang.get_untracked());
        let l = lang.get_untracked();
        let member = check.parse::<MemberId>(id, MEMBER_ID);
        let name_text = check.text(name, NAME);
        let name =
            name_text.and_then(|text| check.rule(name, BoundedString::try_new(text).map_err(|_| too_long(NAME, l))));
        let weight = check.parse::<u64>(weight, WEIGHT);
        let account = check.parse::<AccountId>(governor, GOVERNOR_ACCOUNT);
        let key = check.parse::<PublicKey>(key, GOVERNOR_KEY);
        let action = (|| {
            let governors = BoundedVec::try_new(vec![NewAccount { account: account?, key: key? }]).ok()?;
            Some(Action::AdmitMember { member: member?, name: name?, weight: Weight(weight?), governors })
        })();
        let who = id.value.get_untracked().trim().to_owned();
        let title = match l {
            Lang::En => format!("Admit member {who}"),
            Lang::ZhCn => format!("接纳成员 {who}"),
        };
        create_draft(title, check.done(action).map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Admit a member organisation", "接纳成员机构"))}</h2>
            <div class="row">
                <Field label=MEMBER_ID testid="admit-member-id" value=id.value error=id.error help=MEMBER_ID_HELP />
                <Field label=NAME testid="admit-member-name" value=name.value error=name.error />
                <Field label=WEIGHT testid="admit-member-weight" value=weight.value error=weight.error />
                <Field label=GOVERNOR_ACCOUNT testid="admit-member-governor" value=governor.value error=governor.error help=GOVERNOR_ACCOUNT_HELP />
                <Field label=GOVERNOR_KEY testid="admit-member-governor-key" value=key.value error=key.error help=GOVERNOR_KEY_HELP />
                <button data-testid="admit-member-draft" on:click=submit>{say(DRAFT)}</button>
            </div>
            <FormError testid="admit-member-error" error />
        </section>
    }
}

/// Where a new member's id comes from.
const MEMBER_ID_HELP: Text = t(
    "A short id the new organisation chose (letters, digits, `-` and `_`), as in its organisation file from `synod org init`.",
    "新机构选定的简短编号（字母、数字、`-` 与 `_`），与其用 `synod org init` 生成的机构文件一致。",
);
/// Where a governor's account id comes from.
const GOVERNOR_ACCOUNT_HELP: Text = t(
    "The account the new organisation's governor signs with; the id is new on this chain.",
    "新机构治理人签名所用的账户；该编号在本链上须为新编号。",
);
/// Where a governor's public key comes from.
const GOVERNOR_KEY_HELP: Text = t(
    "The governor makes their key on their own machine with `synod keygen --out KEY.pem`, and sends you what `synod key show KEY.pem` prints (ed25519:…). Never their private key.",
    "治理人在自己的机器上用 `synod keygen --out KEY.pem` 生成私钥，并把 `synod key show KEY.pem` 输出的公钥（ed25519:…）发给您。切勿发送私钥。",
);

/// The forms that change an admitted member. Choosing a member fills in its current weight and governors from the
/// chain: they are what the proposal expects to replace (its compare-and-set), for the user to confirm.
#[component]
fn ChangeMember(tables: Resource<Result<api::Tables, ServerFnError>>) -> impl IntoView {
    let (member, weight, expected, governors, expected_governors) =
        (Input::new(""), Input::new(""), Input::new(""), Input::new(""), Input::new(""));
    let error = RwSignal::new(None);
    let lang = use_lang();
    // The member chosen last, so its current values are filled in once per choice and edits are kept.
    let filled_for = RwSignal::new(String::new());
    Effect::new(move |_| {
        let chosen = member.value.get().trim().to_owned();
        let Some(Ok(tables)) = tables.get() else { return };
        if chosen == filled_for.get_untracked() {
            return;
        }
        if let Some(row) = tables.members.iter().find(|m| m.id == chosen) {
            expected.value.set(row.weight.to_string());
            expected_governors.value.set(row.governors.join(", "));
            filled_for.set(chosen);
        }
    });
    let draft = move |kind: &'static str| {
        let l = lang.get_untracked();
        let mut check = Check::new(l);
        let id = check.parse::<MemberId>(member, MEMBER_ID);
        let list = |check: &mut Check, input: Input, what: Text| -> Option<BoundedVec<AccountId, 16>> {
            let ids: Result<Vec<AccountId>, String> = input
                .value
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| format!("{}: `{s}` ✗", what.get(l))))
                .collect();
            check.rule(input, ids.and_then(|ids| BoundedVec::try_new(ids).map_err(|_| too_long(what, l))))
        };
        let action = match kind {
            "suspend" => id.map(|member| Action::SuspendMember { member }),
            "reinstate" => id.map(|member| Action::ReinstateMember { member }),
            "expel" => id.map(|member| Action::ExpelMember { member }),
            "weight" => {
                let (from, to) = (check.parse::<u64>(expected, CURRENT_WEIGHT), check.parse::<u64>(weight, NEW_WEIGHT));
                (|| Some(Action::SetMemberWeight { member: id?, expected: Weight(from?), weight: Weight(to?) }))()
            }
            _ => {
                let (from, to) = (
                    list(&mut check, expected_governors, CURRENT_GOVERNORS),
                    list(&mut check, governors, NEW_GOVERNORS),
                );
                (|| Some(Action::ReplaceGovernors { member: id?, expected: from?, governors: to? }))()
            }
        };
        let who = member.value.get_untracked().trim().to_owned();
        let title = match (kind, l) {
            ("suspend", Lang::En) => format!("Suspend member {who}"),
            ("suspend", Lang::ZhCn) => format!("暂停成员 {who}"),
            ("reinstate", Lang::En) => format!("Reinstate member {who}"),
            ("reinstate", Lang::ZhCn) => format!("恢复成员 {who}"),
            ("expel", Lang::En) => format!("Expel member {who}"),
            ("expel", Lang::ZhCn) => format!("除名成员 {who}"),
            ("weight", Lang::En) => format!("Re-weight member {who}"),
            ("weight", Lang::ZhCn) => format!("调整成员 {who} 的权重"),
            (_, Lang::En) => format!("Replace the governors of member {who}"),
            (_, Lang::ZhCn) => format!("更换成员 {who} 的治理账户"),
        };
        create_draft(title, check.done(action).map(|a| vec![a]), error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Change a member", "变更成员"))}</h2>
            <div class="row">
                <Field label=MEMBER_ID testid="change-member-id" value=member.value error=member.error />
                <button data-testid="suspend-member-draft" on:click=move |_| draft("suspend")>{say(t("Suspend", "暂停"))}</button>
                <button data-testid="reinstate-member-draft" on:click=move |_| draft("reinstate")>{say(t("Reinstate", "恢复"))}</button>
                <button data-testid="expel-member-draft" class="secondary" on:click=move |_| draft("expel")>{say(t("Expel", "除名"))}</button>
            </div>
            <div class="row">
                <Field label=CURRENT_WEIGHT testid="member-weight-expected" value=expected.value error=expected.error help=CURRENT_HELP />
                <Field label=NEW_WEIGHT testid="member-weight-new" value=weight.value error=weight.error />
                <button data-testid="member-weight-draft" on:click=move |_| draft("weight")>{say(t("Re-weight", "调整权重"))}</button>
            </div>
            <div class="row">
                <Field label=CURRENT_GOVERNORS testid="governors-expected" value=expected_governors.value error=expected_governors.error help=CURRENT_HELP />
                <Field label=NEW_GOVERNORS testid="governors-new" value=governors.value error=governors.error />
                <button data-testid="governors-draft" on:click=move |_| draft("governors")>{say(t("Replace governors", "更换治理账户"))}</button>
            </div>
            <FormError testid="change-member-error" error />
        </section>
    }
}

/// What a "current" field is.
const CURRENT_HELP: Text = t(
    "Filled in from the chain when you choose a member: the proposal applies only if this is still the value when it executes.",
    "选择成员后按链上数据自动填写：仅当执行时该值仍未改变，提案才会生效。",
);
