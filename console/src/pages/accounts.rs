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
    i18n::Msg,
    pages::forms::{Field, FormError, create_draft, parsed, show},
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
    let draft = move |kind: &'static str| {
        let actions = (|| -> Result<Vec<Action>, String> {
            let account = parsed::<AccountId>(account, "the account")?;
            Ok(vec![match kind {
                "grant" => Action::GrantRole {
                    account,
                    role: parsed::<RoleId>(role, "the role")?,
                    expires_at: Height(parsed::<u64>(expires, "the expiry height")?),
                    expected: None,
                },
                "revoke" => Action::RevokeRole { account, role: parsed::<RoleId>(role, "the role")? },
                "freeze" => Action::FreezeAccount { account },
                _ => Action::UnfreezeAccount { account },
            }])
        })();
        let title = format!("{kind} {}", account.get_untracked().trim());
        create_draft(title, actions, error);
    };
    let bulk = move |_| {
        let actions = parse_csv(&csv.get_untracked());
        create_draft("Role grants from CSV".to_owned(), actions, error);
    };
    view! {
        <section class="card">
            <h2>"Roles and freezing / 角色与冻结"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let governor = me.await.ok().and_then(|m| m.identity).is_some_and(|i| i.governor);
                    show(tables.await.map(|t| {
                        let offered = grantable(&t.roles, governor);
                        view! {
                            <p>"Height now: "{t.height}". Roles you may grant: "
                                <span data-testid="grantable-roles">{offered.iter().map(|r| r.id.clone()).collect::<Vec<_>>().join(", ")}</span></p>
                            <datalist id="roles">{offered.into_iter().map(|r| view! { <option value=r.id /> }).collect_view()}</datalist>
                        }
                    }))
                })}
            </Suspense>
            <div class="row">
                <Field label="Account" testid="role-account" value=account />
                <label>"Role"<input list="roles" data-testid="role-name" prop:value=move || role.get() on:input=move |ev| role.set(event_target_value(&ev)) /></label>
                <Field label="Expires at height" testid="role-expires" value=expires />
                <button data-testid="grant-draft" on:click=move |_| draft("grant")>"Grant"</button>
                <button data-testid="revoke-draft" class="secondary" on:click=move |_| draft("revoke")>"Revoke"</button>
                <button data-testid="freeze-draft" on:click=move |_| draft("freeze")>"Freeze"</button>
                <button data-testid="unfreeze-draft" class="secondary" on:click=move |_| draft("unfreeze")>"Unfreeze"</button>
            </div>
            <label>"Bulk grants, CSV: account,role,expires_at (one per line, at most 32)"
                <textarea data-testid="role-csv" rows="4" class="mono" prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))></textarea>
            </label>
            <button data-testid="csv-draft" on:click=bulk>"Draft grants"</button>
            <FormError testid="role-error" error />
        </section>
    }
}

/// Parses `account,role,expires_at` lines (a header line naming `account` is skipped) into grants.
pub fn parse_csv(text: &str) -> Result<Vec<Action>, String> {
    let mut actions = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = n.saturating_add(1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.first() == Some(&"account") {
            continue;
        }
        let [account, role, expires] = fields.as_slice() else {
            return Err(format!("line {line_no}: expected account,role,expires_at"));
        };
        actions.push(Action::GrantRole {
            account: account.parse().map_err(|_| format!("line {line_no}: `{account}` is not an account id"))?,
            role: role.parse().map_err(|_| format!("line {line_no}: `{role}` is not a role"))?,
            expires_at: Height(expires.parse().map_err(|_| format!("line {line_no}: `{expires}` is not a height"))?),
            expected: None,
        });
        if actions.len() > MAX_CSV_ROWS {
            return Err(format!("at most {MAX_CSV_ROWS} grants per proposal"));
        }
    }
    if actions.is_empty() {
        return Err("the CSV holds no grants".to_owned());
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV with a header and two rows gives two grants; a malformed row names its line.
    #[test]
    fn csv_grants_parse_and_errors_name_the_line() {
        let actions = parse_csv("account,role,expires_at\nalice,auditor,100\nbob,auditor,200\n").expect("valid");
        assert_eq!(actions.len(), 2);
        let error = parse_csv("alice,auditor,100\nbob,auditor\n").expect_err("short line");
        assert!(error.contains("line 2"), "{error}");
        assert!(parse_csv("\n").is_err());
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
