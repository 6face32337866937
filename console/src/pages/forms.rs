//! Pieces every drafting form shares: a text field bound to a signal, and turning typed actions into a draft
//! (refusing first, in the user's language, any text the chain would refuse).

use governance_contracts::text::{SignerText, TextField, action_texts};
use governance_contracts::types::Action;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api,
    app::use_lang,
    i18n::{Lang, Text, t},
    wysiwys::signer_text,
};

/// The button that turns a form into a draft.
pub const DRAFT: Text = t("Draft", "起草");

/// "`what` is too long, or holds too many", in `lang`.
pub fn too_long(what: Text, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{}: too long, or too many", what.en),
        Lang::ZhCn => format!("{}：过长或数量过多", what.zh),
    }
}

/// A text in the current language, as a reactive view.
pub fn say(text: Text) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    let lang = use_lang();
    move || text.get(lang.get())
}

/// A labelled text input bound to `value`, found by `testid`; with an `error` signal, the field's own error is shown
/// under it (`<testid>-error`), and with `help`, a line saying where the value comes from (`backticked` commands
/// are shown as code).
#[component]
pub fn Field(
    label: Text,
    testid: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] error: Option<RwSignal<Option<String>>>,
    #[prop(optional)] help: Option<Text>,
) -> impl IntoView {
    let lang = use_lang();
    let error_id = format!("{testid}-error");
    let help_id = format!("{testid}-help");
    let invalid = move || error.is_some_and(|e| e.get().is_some());
    view! {
        <label class="field">
            {say(label)}
            <input
                data-testid=testid
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=format!("{error_id} {help_id}")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {help.map(|help| view! { <small class="help" id=help_id.clone()>{move || rich(help.get(lang.get()))}</small> })}
            {error.map(|error| view! {
                <small class="error" id=error_id.clone() data-testid=error_id.clone()>{move || error.get()}</small>
            })}
        </label>
    }
}

/// One input of a form: its text and the error shown under it.
#[derive(Clone, Copy)]
pub struct Input {
    /// What is typed.
    pub value: RwSignal<String>,
    /// Its own error, when the last check found one.
    pub error: RwSignal<Option<String>>,
}

impl Input {
    /// An input starting with `text`.
    pub fn new(text: &str) -> Self {
        Self { value: RwSignal::new(text.to_owned()), error: RwSignal::new(None) }
    }
}

/// Reads a form's inputs, checking every one of them: each input's error is shown under it, all at once, and
/// [`Check::done`] refuses the form when any failed.
pub struct Check {
    lang: Lang,
    failed: usize,
}

impl Check {
    /// A check whose messages are in `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang, failed: 0 }
    }

    fn outcome<T>(&mut self, input: Input, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => {
                input.error.set(None);
                Some(value)
            }
            Err(reason) => {
                input.error.set(Some(reason));
                self.failed = self.failed.saturating_add(1);
                None
            }
        }
    }

    /// The input's text, trimmed; an empty one fails.
    pub fn text(&mut self, input: Input, what: Text) -> Option<String> {
        let result = required(input.value, what, self.lang);
        self.outcome(input, result)
    }

    /// The input parsed as `T`; an empty or unparsable one fails.
    pub fn parse<T: std::str::FromStr>(&mut self, input: Input, what: Text) -> Option<T> {
        let result = parsed(input.value, what, self.lang);
        self.outcome(input, result)
    }

    /// A further rule on an input's value (`Err` fails the input with that reason).
    pub fn rule<T>(&mut self, input: Input, result: Result<T, String>) -> Option<T> {
        self.outcome(input, result)
    }

    /// `value` when every input passed, else how many need attention.
    pub fn done<T>(self, value: Option<T>) -> Result<T, String> {
        match value {
            Some(value) if self.failed == 0 => Ok(value),
            _ => Err(match self.lang {
                Lang::En => format!(
                    "{} {} to be corrected: see the message under each",
                    self.failed.max(1),
                    if self.failed > 1 { "fields need" } else { "field needs" }
                ),
                Lang::ZhCn => format!("有 {} 处需要更正：请看各项下方的提示", self.failed.max(1)),
            }),
        }
    }
}

/// Reads a field, trimmed, refusing an empty one with a message (in `lang`) naming it.
pub fn required(value: RwSignal<String>, what: Text, lang: Lang) -> Result<String, String> {
    let text = value.get_untracked().trim().to_owned();
    if !text.is_empty() {
        return Ok(text);
    }
    Err(match lang {
        Lang::En => format!("{} is required", what.en),
        Lang::ZhCn => format!("请填写{}", what.zh),
    })
}

/// Parses a field into `T`, with a message (in `lang`) naming it.
pub fn parsed<T: std::str::FromStr>(value: RwSignal<String>, what: Text, lang: Lang) -> Result<T, String> {
    let text = required(value, what, lang)?;
    text.parse().map_err(|_| match lang {
        Lang::En => format!("{}: `{text}` is not valid", what.en),
        Lang::ZhCn => format!("{}：`{text}` 无效", what.zh),
    })
}

/// The drafting forms' refusal, in `lang`, of a title, description or action text the chain would refuse
/// (the contracts' own rule, see [`crate::wysiwys::signer_text`]).
pub fn refuse_unsafe_text(lang: Lang, title: &str, description: &str, actions: &[Action]) -> Result<(), String> {
    let mut texts = vec![
        SignerText { field: TextField::Title, text: title },
        SignerText { field: TextField::Description, text: description },
    ];
    for (index, action) in actions.iter().enumerate() {
        texts.extend(action_texts(index.saturating_add(1), action));
    }
    signer_text::refuse_texts(lang, &texts)
}

/// Sends `actions` to the server as a new draft titled `title` and opens it; errors land in `error`. Text the
/// chain would refuse is refused here, before anything is drafted.
pub fn create_draft(title: String, actions: Result<Vec<Action>, String>, error: RwSignal<Option<String>>) {
    let navigate = use_navigate();
    let lang = use_lang().get_untracked();
    let actions = match actions.and_then(|actions| refuse_unsafe_text(lang, &title, "", &actions).map(|()| actions)) {
        Ok(actions) => actions,
        Err(reason) => {
            error.set(Some(reason));
            return;
        }
    };
    let json = match serde_json::to_string(&actions) {
        Ok(json) => json,
        Err(e) => {
            error.set(Some(e.to_string()));
            return;
        }
    };
    leptos::task::spawn_local(async move {
        match api::create_draft(title, String::new(), json).await {
            Ok(id) => {
                error.set(None);
                navigate(&format!("/drafts/{id}"), Default::default());
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    });
}

/// A server function's error as the user reads it: the console's own message, with no framework prefix; a
/// failure to reach the console at all says so in `lang`.
pub fn server_error(error: &ServerFnError, lang: Lang) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(detail) | ServerFnError::Response(detail) => match lang {
            Lang::En => format!("the console could not be reached ({detail}): check the connection and try again"),
            Lang::ZhCn => format!("无法连接控制台（{detail}）：请检查网络后重试"),
        },
        other => match lang {
            Lang::En => format!("the console could not read its answer ({other})"),
            Lang::ZhCn => format!("控制台无法读取应答（{other}）"),
        },
    }
}

/// Text whose `backticked` spans are commands, file names or values: each is shown as code, without the backticks.
pub fn rich(text: &str) -> Vec<AnyView> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(index, part)| {
            let part = part.to_owned();
            if index % 2 == 1 { view! { <code>{part}</code> }.into_any() } else { part.into_any() }
        })
        .collect()
}

/// The error line of a form.
#[component]
pub fn FormError(testid: &'static str, error: RwSignal<Option<String>>) -> impl IntoView {
    view! { <p class="error" data-testid=testid role="alert">{move || error.get().map(|e| rich(&e))}</p> }
}

/// A loaded value's view, or its error as a message in the page's language (with no framework prefix). A page
/// that needs a session says so, with the way to sign in.
pub fn show<V: IntoView + 'static, E: std::fmt::Display>(result: Result<V, E>) -> AnyView {
    match result {
        Ok(view) => view.into_any(),
        Err(error) => {
            let text = error.to_string();
            let text = text.strip_prefix(SERVER_FN_PREFIX).unwrap_or(&text).to_owned();
            // Read without tracking, and only while the page lives (a server-side render may finish after it).
            let lang = use_context::<crate::app::UiLang>().and_then(|l| l.0.try_get_untracked()).unwrap_or_default();
            if text == crate::api::SIGN_IN_FIRST {
                view! {
                    <p class="notice" data-testid="load-error">
                        {SIGN_IN_TO_SEE.get(lang)}" "<A href="/login">{SIGN_IN_LINK.get(lang)}</A>
                    </p>
                }
                .into_any()
            } else {
                view! { <p class="error" data-testid="load-error">{rich(&text)}</p> }.into_any()
            }
        }
    }
}

/// How a server function's error is prefixed when shown as text.
const SERVER_FN_PREFIX: &str = "error running server function: ";
/// A page's data needs a session.
const SIGN_IN_TO_SEE: Text =
    t("This page shows the chain's data to signed-in members.", "此页面的链上数据仅向已登录的成员显示。");
/// The link to the sign-in page.
const SIGN_IN_LINK: Text = t("Sign in", "登录");
