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
    app::{ChainVersion, MeResource, loaded, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::{
        events::Copyable,
        forms::{Field, FormError, create_draft, parsed, say, show},
    },
};

/// Most rows one CSV upload may hold (one proposal holds at most 32 actions).
const MAX_CSV_ROWS: usize = 32;

/// Grants ending within this many days are flagged.
pub const SOON_DAYS: u64 = 7;

const DAY_MS: u64 = 86_400_000;

/// When a grant ends, as far as the chain's height and pace tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryEstimate {
    /// The last height at which the grant holds.
    pub expires_at: u64,
    /// Blocks from the current height to it.
    pub blocks_left: u64,
    /// The estimated time of that block, ms since the epoch; `None` when the pace is unknown or the height lies
    /// beyond any date.
    pub at_ms: Option<u64>,
    /// Whole days left at the chain's pace (`None` as for `at_ms`).
    pub days_left: Option<u64>,
}

impl ExpiryEstimate {
    /// Estimates when height `expires_at` comes, from the current `height`, its block's time and the chain's
    /// target time between blocks.
    pub fn new(expires_at: u64, height: u64, last_block_time_ms: u64, block_interval_ms: u64) -> Self {
        let blocks_left = expires_at.saturating_sub(height);
        let ahead_ms = (block_interval_ms > 0).then(|| blocks_left.checked_mul(block_interval_ms)).flatten();
        // Past year 9999 a date says nothing useful.
        let at_ms = ahead_ms.and_then(|ms| last_block_time_ms.checked_add(ms)).filter(|ms| *ms < 253_402_300_800_000);
        Self { expires_at, blocks_left, at_ms, days_left: at_ms.and(ahead_ms).map(|ms| ms / DAY_MS) }
    }

    /// Whether the grant ends within [`SOON_DAYS`].
    pub fn soon(&self) -> bool {
        self.days_left.is_some_and(|days| days < SOON_DAYS)
    }

    /// The expiry in words: its height, the estimated date and how many days are left.
    pub fn words(&self, lang: Lang) -> String {
        let h = self.expires_at;
        let Some(at_ms) = self.at_ms else {
            return match lang {
                Lang::En => format!("until height {h}"),
                Lang::ZhCn => format!("有效至高度 {h}"),
            };
        };
        let date = crate::pages::time::utc_date(i64::try_from(at_ms).unwrap_or(i64::MAX));
        let days = self.days_left.unwrap_or(0);
        match (lang, days) {
            (Lang::En, 0) => format!("until height {h} (≈ {date} UTC, expires in less than a day)"),
            (Lang::En, 1) => format!("until height {h} (≈ {date} UTC, expires in 1 day)"),
            (Lang::En, _) => format!("until height {h} (≈ {date} UTC, expires in {days} days)"),
            (Lang::ZhCn, 0) => format!("有效至高度 {h}（约 {date} UTC，不到一天后到期）"),
            (Lang::ZhCn, _) => format!("有效至高度 {h}（约 {date} UTC，{days} 天后到期）"),
        }
    }
}

const GOVERNOR_LEGEND: Text = t(
    "★ governor: proposes and approves for its member, with the member's weight. Governors are named in the member's \
     record (not by a role grant), so this lasts until the committee replaces them, with no expiry height.",
    "★ 治理人：代表其成员提出和批准提案，按成员权重计票。治理人由成员记录指定（而非角色授予），在委员会更换之前一直有效，没有到期高度。",
);
const SOON: Text = t("expires soon", "即将到期");
const NO_ROLES: Text = t("no roles", "无角色");

/// The accounts page.
#[component]
pub fn Accounts() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let query = RwSignal::new(String::new());
    let rows = Resource::new(move || (query.get(), version.get()), |(q, _)| api::accounts(q, 200));
    // The chain's height, time and pace, which the expiries are estimated from (read once per visit: an estimate in
    // days does not move with each block).
    let chain = Resource::new(|| (), |()| api::chain_tables());
    view! {
        <h1>{move || Msg::Accounts.text(lang.get())}</h1>
        <label>{move || Msg::Search.text(lang.get())}
            <input data-testid="account-search" prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
        </label>
        <Transition fallback=|| ()>
            {loaded(chain, move |chain, _| show(chain.map(|chain| view! {
                <Transition fallback=|| ()>
                    {loaded(rows, move |rows, l| show(rows.map(|rows| {
                let chain = chain.clone();
                let estimate = move |expires_at: u64| {
                    ExpiryEstimate::new(expires_at, chain.height, chain.last_block_time_ms, chain.block_interval_ms)
                };
                view! {
                    <table data-testid="accounts"><tbody>
                        <tr><th>{Msg::Account.text(l)}</th><th>{Msg::Member.text(l)}</th><th>{Msg::Status.text(l)}</th>
                            <th>{Msg::Roles.text(l)}</th><th>{Msg::Key.text(l)}</th></tr>
                        {rows.into_iter().map(|a| {
                            let governor = a.governor;
                            let no_roles = a.roles.is_empty() && !governor;
                            let governs = match l {
                                Lang::En => format!("governor of {} (named in the member's record; no expiry)", a.member),
                                Lang::ZhCn => format!("{} 的治理人（由成员记录指定，无到期高度）", a.member),
                            };
                            view! {
                            <tr data-testid=format!("account-{}", a.id)>
                                <td><code>{a.id.clone()}</code>{governor.then(|| view! { " "<span class="star" title=GOVERNOR_LEGEND.get(l)>"★"</span> })}</td>
                                <td>{a.member}</td>
                                <td data-testid=format!("account-status-{}", a.id)>
                                    {if a.frozen { Msg::Frozen.text(l) } else { Msg::Active.text(l) }}
                                </td>
                                <td data-testid=format!("account-roles-{}", a.id)>
                                    <ul class="grants">
                                    {governor.then(|| view! { <li class="governor">"★ "{governs}</li> })}
                                    {a.roles.into_iter().map(|g| {
                                        let e = estimate(g.expires_at);
                                        view! {
                                            <li class=if e.soon() { "grant soon" } else { "grant" } data-testid="grant">
                                                <code>{g.role}</code>" "{e.words(l)}
                                                {e.soon().then(|| view! { " "<span class="badge soon" data-testid="expires-soon">{SOON.get(l)}</span> })}
                                            </li>
                                        }
                                    }).collect_view()}
                                    {no_roles.then(|| view! { <li class="none">{NO_ROLES.get(l)}</li> })}
                                    </ul>
                                </td>
                                <td>{a.key.map(|key| view! { <Copyable value=key lang=l /> })}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody></table>
                    <p class="legend" data-testid="governor-legend">{GOVERNOR_LEGEND.get(l)}</p>
                }
            })))}
                </Transition>
            })))}
        </Transition>
        <RoleForms />
    }
}

/// Roles the signed-in user may grant through the console: all for governors, the delegable ones for compliance.
fn grantable(roles: &[RoleRow], governor: bool) -> Vec<RoleRow> {
    roles.iter().filter(|r| governor || r.delegable).cloned().collect()
}

const ACCOUNT: Text = t("Account", "账户");
const HEIGHT_NOW: Text = t("Height now: ", "当前高度：");
const ROLES_OFFERED: Text = t("Roles you may grant: ", "您可授予的角色：");
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
                {move || {
                    // Read before the await, so a change of language draws this part again.
                    let (l, me, tables) = (lang.get(), me.into_future(), tables.into_future());
                    Suspend::new(async move {
                    let governor = me.await.ok().and_then(|m| m.identity).is_some_and(|i| i.governor);
                    show(tables.await.map(|chain| {
                        let offered = grantable(&chain.roles, governor);
                        view! {
                            <p>{HEIGHT_NOW.get(l)}{chain.height}". "{ROLES_OFFERED.get(l)}
                                <code data-testid="grantable-roles">{offered.iter().map(|r| r.id.clone()).collect::<Vec<_>>().join(", ")}</code></p>
                            <datalist id="roles">{offered.into_iter().map(|r| view! { <option value=r.id /> }).collect_view()}</datalist>
                        }
                    }))
                    })
                }}
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
            <label>{say(t("Bulk grants, CSV: ", "批量授予，CSV 格式："))}<code>"account,role,expires_at"</code>{say(t(
                " (one per line, at most 32)",
                "（每行一条，最多 32 条）",
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

    /// An expiry reads as its height, an estimated UTC date and the days left at the chain's pace; fewer than
    /// seven days left is flagged; an unknown pace or a height beyond any date gives the height alone.
    #[test]
    fn expiries_read_as_heights_dates_and_days() {
        // Height 1,000 at 2026-12-05 05:07:11 UTC, one block a second: height 87,400 comes 86,400 s later.
        let now_ms = 1_796_447_231_621;
        let next_day = ExpiryEstimate::new(87_400, 1_000, now_ms, 1_000);
        assert_eq!(next_day.words(Lang::En), "until height 87400 (≈ 2026-12-06 UTC, expires in 1 day)");
        assert!(next_day.soon());
        let later = ExpiryEstimate::new(1_000 + 30 * 86_400 * 4, 1_000, now_ms, 250);
        assert_eq!(later.days_left, Some(30));
        assert!(!later.soon());
        assert_eq!(later.words(Lang::ZhCn), "有效至高度 10369000（约 2027-01-04 UTC，30 天后到期）");
        let today = ExpiryEstimate::new(1_010, 1_000, now_ms, 1_000);
        assert!(today.words(Lang::En).ends_with("expires in less than a day)") && today.soon());
        let forever = ExpiryEstimate::new(u64::MAX, 1_000, now_ms, 1_000);
        assert_eq!(forever.words(Lang::En), "until height 18446744073709551615");
        assert!(!forever.soon());
        assert_eq!(ExpiryEstimate::new(5_000, 1_000, now_ms, 0).words(Lang::ZhCn), "有效至高度 5000");
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
