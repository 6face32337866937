//! Accounts and roles: search; grant (with an expiry) and revoke roles, one at a time or in bulk from CSV; freeze
//! and unfreeze. Compliance staff are offered only the roles the committee made delegable; the chain refuses the
//! rest whatever a page offers, and the console says so before anything is signed.

use governance_contracts::{
    ids::{AccountId, Height, RoleId},
    types::Action,
};
use leptos::prelude::*;

use crate::{
    api::{self, RoleRow},
    app::{ChainVersion, MeResource, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::forms::{Field, FormError, create_draft, parsed, say, show},
};

/// Most rows one CSV upload may hold (one proposal holds at most 32 actions).
const MAX_CSV_ROWS: usize = 32;

/// The accounts page.
#[component]
pub fn Accounts() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let query = RwSignal::new(String::new());
    let rows = Resource::new(move || (query.get(), version.get()), |(q, _)| api::accounts(q, 200));
    view! {
        <h1>{move || Msg::Accounts.text(lang.get())}</h1>
        <label>{move || Msg::Search.text(lang.get())}
            <input data-testid="account-search" prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
        </label>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(rows.await.map(|rows| view! {
                    <table data-testid="accounts"><tbody>
                        <tr><th>{Msg::Account.text(l)}</th><th>{Msg::Member.text(l)}</th><th>{Msg::Status.text(l)}</th>
                            <th>{Msg::Roles.text(l)}</th><th>{Msg::Key.text(l)}</th></tr>
                        {rows.into_iter().map(|a| view! {
                            <tr data-testid=format!("account-{}", a.id)>
                                <td><code>{a.id.clone()}</code>{a.governor.then_some(" ★")}</td>
                                <td>{a.member}</td>
                                <td data-testid=format!("account-status-{}", a.id)>
                                    {if a.frozen { Msg::Frozen.text(l) } else { Msg::Active.text(l) }}
                                </td>
                                <td data-testid=format!("account-roles-{}", a.id)>
                                    {a.roles.iter().map(|g| format!("{} (≤ {})", g.role, g.expires_at)).collect::<Vec<_>>().join(", ")}
                                </td>
                                <td><code>{a.key.unwrap_or_default()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                }))
            })}
        </Transition>
        <RoleForms />
    }
}

/// Roles the signed-in user may grant through the console: all for governors, the delegable ones for compliance.
fn grantable(roles: &[RoleRow], governor: bool) -> Vec<RoleRow> {
    roles.iter().filter(|r| governor || r.delegable).cloned().collect()
}

const ACCOUNT: Text = t("Account", "账户");
const ROLE: Text = t("Role", "角色");
const EXPIRES: Text = t("Expires at height", "到期高度");

#[component]
fn RoleForms() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    let tables = Resource::new(|| (), |()| api::chain_tables());
    let (account, role, expires, csv) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let error = RwSignal::new(None);
    let lang = use_lang();
    let draft = move |kind: &'static str| {
        let l = lang.get_untracked();
        let actions = (|| -> Result<Vec<Action>, String> {
            let account = parsed::<AccountId>(account, ACCOUNT, l)?;
            Ok(vec![match kind {
                "grant" => Action::GrantRole {
                    account,
                    role: parsed::<RoleId>(role, ROLE, l)?,
                    expires_at: Height(parsed::<u64>(expires, EXPIRES, l)?),
                    expected: None,
                },
                "revoke" => Action::RevokeRole { account, role: parsed::<RoleId>(role, ROLE, l)? },
                "freeze" => Action::FreezeAccount { account },
                _ => Action::UnfreezeAccount { account },
            }])
        })();
        let title = format!("{kind} {}", account.get_untracked().trim());
        create_draft(title, actions, error);
    };
    let bulk = move |_| {
        let actions = parse_csv(&csv.get_untracked(), lang.get_untracked());
        create_draft("Role grants from CSV".to_owned(), actions, error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Roles and freezing", "角色与冻结"))}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let governor = me.await.ok().and_then(|m| m.identity).is_some_and(|i| i.governor);
                    show(tables.await.map(|chain| {
                        let offered = grantable(&chain.roles, governor);
                        view! {
                            <p>{say(t("Height now: ", "当前高度："))}{chain.height}". "{say(t("Roles you may grant: ", "您可授予的角色："))}
                                <span data-testid="grantable-roles">{offered.iter().map(|r| r.id.clone()).collect::<Vec<_>>().join(", ")}</span></p>
                            <datalist id="roles">{offered.into_iter().map(|r| view! { <option value=r.id /> }).collect_view()}</datalist>
                        }
                    }))
                })}
            </Suspense>
            <div class="row">
                <Field label=ACCOUNT testid="role-account" value=account />
                <label>{say(ROLE)}<input list="roles" data-testid="role-name" prop:value=move || role.get() on:input=move |ev| role.set(event_target_value(&ev)) /></label>
                <Field label=EXPIRES testid="role-expires" value=expires />
                <button data-testid="grant-draft" on:click=move |_| draft("grant")>{say(t("Grant", "授予"))}</button>
                <button data-testid="revoke-draft" class="secondary" on:click=move |_| draft("revoke")>{say(t("Revoke", "撤销"))}</button>
                <button data-testid="freeze-draft" on:click=move |_| draft("freeze")>{say(t("Freeze", "冻结"))}</button>
                <button data-testid="unfreeze-draft" class="secondary" on:click=move |_| draft("unfreeze")>{say(t("Unfreeze", "解冻"))}</button>
            </div>
            <label>{say(t(
                "Bulk grants, CSV: account,role,expires_at (one per line, at most 32)",
                "批量授予，CSV 格式：account,role,expires_at（每行一条，最多 32 条）",
            ))}
                <textarea data-testid="role-csv" rows="4" class="mono" prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))></textarea>
            </label>
            <button data-testid="csv-draft" on:click=bulk>{say(t("Draft grants", "起草批量授予"))}</button>
            <FormError testid="role-error" error />
        </section>
    }
}

/// Parses `account,role,expires_at` lines (a header line naming `account` is skipped) into grants; errors name the
/// line, in `lang`.
pub fn parse_csv(text: &str, lang: Lang) -> Result<Vec<Action>, String> {
    let line_error = |line_no: usize, what: &str| match lang {
        Lang::En => format!("line {line_no}: {what}"),
        Lang::ZhCn => format!("第 {line_no} 行：{what}"),
    };
    let mut actions = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = n.saturating_add(1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.first() == Some(&"account") {
            continue;
        }
        let [account, role, expires] = fields.as_slice() else {
            return Err(line_error(line_no, "account,role,expires_at?"));
        };
        actions.push(Action::GrantRole {
            account: account
                .parse()
                .map_err(|_| line_error(line_no, &format!("{}: `{account}` ✗", ACCOUNT.get(lang))))?,
            role: role.parse().map_err(|_| line_error(line_no, &format!("{}: `{role}` ✗", ROLE.get(lang))))?,
            expires_at: Height(
                expires.parse().map_err(|_| line_error(line_no, &format!("{}: `{expires}` ✗", EXPIRES.get(lang))))?,
            ),
            expected: None,
        });
        if actions.len() > MAX_CSV_ROWS {
            return Err(match lang {
                Lang::En => format!("at most {MAX_CSV_ROWS} grants per proposal"),
                Lang::ZhCn => format!("每个提案最多 {MAX_CSV_ROWS} 条授予"),
            });
        }
    }
    if actions.is_empty() {
        return Err(t("the CSV holds no grants", "CSV 中没有任何授予").get(lang).to_owned());
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV with a header and two rows gives two grants; a malformed row names its line.
    #[test]
    fn csv_grants_parse_and_errors_name_the_line() {
        let actions =
            parse_csv("account,role,expires_at\nalice,auditor,100\nbob,auditor,200\n", Lang::En).expect("valid");
        assert_eq!(actions.len(), 2);
        let error = parse_csv("alice,auditor,100\nbob,auditor\n", Lang::En).expect_err("short line");
        assert!(error.contains("line 2"), "{error}");
        let error = parse_csv("alice,auditor,100\nbob,auditor,soon\n", Lang::ZhCn).expect_err("bad height");
        assert!(error.contains("第 2 行") && error.contains("soon"), "{error}");
        assert!(parse_csv("\n", Lang::En).is_err());
    }

    /// Compliance staff are offered only delegable roles; governors are offered all.
    #[test]
    fn compliance_sees_only_delegable_roles() {
        let roles = vec![
            RoleRow { id: "auditor".into(), delegable: true, max_grant_blocks: 10 },
            RoleRow { id: "operator".into(), delegable: false, max_grant_blocks: 10 },
        ];
        assert_eq!(grantable(&roles, false).len(), 1);
        assert_eq!(grantable(&roles, true).len(), 2);
    }
}
