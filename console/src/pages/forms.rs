//! Pieces every drafting form shares: a text field bound to a signal, and turning typed actions into a draft
//! (refusing first, in the user's language, any text the chain would refuse).

use governance_contracts::text::{SignerText, TextField, action_texts};
use governance_contracts::types::Action;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

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

/// A labelled text input bound to `value`, found by `testid`.
#[component]
pub fn Field(label: Text, testid: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>
            {say(label)}
            <input
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
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

/// The error line of a form.
#[component]
pub fn FormError(testid: &'static str, error: RwSignal<Option<String>>) -> impl IntoView {
    view! { <p class="error" data-testid=testid>{move || error.get()}</p> }
}

/// A loaded value's view, or its error as a message.
pub fn show<V: IntoView + 'static, E: std::fmt::Display>(result: Result<V, E>) -> AnyView {
    match result {
        Ok(view) => view.into_any(),
        Err(error) => view! { <p class="error" data-testid="load-error">{error.to_string()}</p> }.into_any(),
    }
}
