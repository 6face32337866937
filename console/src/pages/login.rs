//! Sign in with a key: the key file is read in this tab, the server's one-time challenge is decoded and checked
//! here, signed here, and only the signature leaves the browser.

#[cfg(feature = "hydrate")]
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api,
    app::{KeyRing, MeResource, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::forms::{say, server_error},
    signer::Signer,
};

/// The sign-in page.
#[component]
pub fn Login() -> impl IntoView {
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let lang = use_lang();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = crate::app::hydrated();

    let on_file = move |ev: leptos::ev::Event| {
        let _ = &ev;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            leptos::task::spawn_local(async move {
                match read_file(&file, lang.get_untracked())
                    .await
                    .and_then(|text| Signer::from_pem(&text).map_err(|e| e.text(lang.get_untracked())))
                {
                    Ok(signer) => {
                        error.set(None);
                        keys.set(Some(Arc::new(signer)));
                    }
                    // A file that is not a usable key leaves no key behind: the button stays off and the reason
                    // stays on screen.
                    Err(reason) => {
                        keys.set(None);
                        error.set(Some(reason));
                    }
                }
            });
        }
    };

    let sign_in = move |_| {
        let Some(signer) = keys.get_untracked() else {
            error.set(Some(Msg::KeyNotLoaded.text(lang.try_get_untracked().unwrap_or_default()).to_owned()));
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match sign_in_with(&signer, lang.get_untracked()).await {
                // The page stays: it offers to keep the key that just signed in, and a way on.
                Ok(()) => {
                    error.set(None);
                    me.refetch();
                }
                Err(reason) => error.set(Some(reason)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="login">
            <h1>{move || Msg::SignIn.text(lang.get())}</h1>
            <p>{move || Msg::KeyStaysHere.text(lang.get())}</p>
            <label>
                {move || Msg::KeyFile.text(lang.get())}
                <input type="file" accept=".pem,.key,text/plain" data-testid="key-file" on:change=on_file />
            </label>
            <p data-testid="key-public">
                {move || keys.get().map(|s| s.public_key().to_string()).unwrap_or_default()}
            </p>
            <button data-testid="sign-in" disabled=move || !ready.get() || busy.get() || keys.get().is_none() on:click=sign_in>
                {move || Msg::SignIn.text(lang.get())}
            </button>
            <p class="error" data-testid="login-error">{move || error.get()}</p>
        </section>
        <Show when=move || me.get().and_then(Result::ok).is_some_and(|m| m.identity.is_some())>
            <p class="ok" data-testid="signed-in">
                {move || SIGNED_IN.get(lang.get())}" "<A href="/" attr:data-testid="continue">{move || CONTINUE.get(lang.get())}</A>
            </p>
        </Show>
        <crate::pages::keys::KeepKey />
        <CliSignIn />
    }
}

/// Sign-in for a key that never touches a browser: the console shows the challenge, `synod login sign` signs it
/// on the key's own machine, and the signature is pasted back.
#[component]
fn CliSignIn() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    let lang = use_lang();
    let public_key = RwSignal::new(String::new());
    let challenge = RwSignal::new(None::<String>);
    let signature = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let get_challenge = move |_| {
        let key = public_key.get_untracked().trim().to_owned();
        leptos::task::spawn_local(async move {
            match api::begin_login(key).await {
                Ok(offer) => {
                    error.set(None);
                    challenge.set(Some(offer.challenge_hex));
                }
                Err(e) => error.set(Some(server_error(&e, lang.get_untracked()))),
            }
        });
    };
    let finish = move |_| {
        let Some(hex) = challenge.get_untracked() else { return };
        let sig = signature.get_untracked().trim().to_owned();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::finish_login(hex, sig).await {
                Ok(_) => {
                    me.refetch();
                    navigate("/", Default::default());
                }
                Err(e) => error.set(Some(server_error(&e, lang.get_untracked()))),
            }
        });
    };
    view! {
        <section class="card">
            <h2>{say(t("Sign in with the command line", "使用命令行签名登录"))}</h2>
            <div class="row">
                <label>{say(t("Public key (ed25519:…)", "公钥（ed25519:…）"))}
                    <input data-testid="cli-public-key" prop:value=move || public_key.get() on:input=move |ev| public_key.set(event_target_value(&ev)) />
                </label>
                <button class="secondary" data-testid="cli-get-challenge" on:click=get_challenge>{say(t("Get a challenge", "获取登录挑战"))}</button>
            </div>
            {move || challenge.get().map(|hex| view! {
                <p>{say(t("On the machine that holds the key, run:", "在持有私钥的机器上运行："))}</p>
                <pre class="mono" data-testid="cli-command">{format!("synod login sign --genesis genesis.json --key KEY.pem {hex}")}</pre>
                <div class="row">
                    <label>{say(t("Signature it printed", "它输出的签名"))}
                        <input data-testid="cli-signature" prop:value=move || signature.get() on:input=move |ev| signature.set(event_target_value(&ev)) />
                    </label>
                    <button data-testid="cli-sign-in" on:click=finish.clone()>{say(t("Sign in", "登录"))}</button>
                </div>
            })}
            <p class="error" data-testid="cli-login-error">{move || error.get()}</p>
        </section>
    }
}

/// Asks for a challenge, checks it is for this console and this key's account and unexpired, signs it, and
/// completes the sign-in.
async fn sign_in_with(signer: &Signer, lang: Lang) -> Result<(), String> {
    use governance_contracts::{codec, types::LoginChallenge};
    let offer = api::begin_login(signer.public_key().to_string()).await.map_err(|e| server_error(&e, lang))?;
    let malformed = || MALFORMED.get(lang).to_owned();
    let bytes = hex::decode(&offer.challenge_hex).map_err(|_| malformed())?;
    let challenge: LoginChallenge = codec::decode(&bytes).map_err(|_| malformed())?;
    let me = api::whoami().await.map_err(|e| server_error(&e, lang))?;
    check_origin(challenge.origin.as_str())?;
    let signature = signer.sign_login(&challenge, &me.chain);
    api::finish_login(offer.challenge_hex, signature.to_string()).await.map_err(|e| server_error(&e, lang))?;
    Ok(())
}

/// Said once the key has signed in.
const SIGNED_IN: Text = t("Signed in.", "已登录。");
/// The way on after signing in.
const CONTINUE: Text = t("Go to the overview →", "前往概览 →");

/// A challenge that does not decode.
const MALFORMED: Text = t(
    "the console sent a challenge this page cannot read: reload the page and try again",
    "控制台发来的登录挑战无法解析：请刷新页面后重试",
);

/// A challenge must name the origin this page was loaded from: a challenge relayed from another site is refused.
fn check_origin(origin: &str) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        let here = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        if here != origin {
            return Err(format!("the challenge is for {origin}, but this page is {here}: not signing"));
        }
    }
    let _ = origin;
    Ok(())
}

#[cfg(feature = "hydrate")]
async fn read_file(file: &web_sys::File, lang: Lang) -> Result<String, String> {
    const MAX_KEY_FILE: f64 = 64.0 * 1024.0;
    if file.size() > MAX_KEY_FILE {
        return Err(TOO_LARGE.get(lang).to_owned());
    }
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.map_err(|_| UNREADABLE.get(lang).to_owned())?;
    text.as_string().ok_or_else(|| UNREADABLE.get(lang).to_owned())
}

/// A file far larger than any key file.
#[cfg(feature = "hydrate")]
const TOO_LARGE: Text = t(
    "this file is too large to be a key file: choose the .pem file `synod keygen` wrote",
    "文件过大，不是私钥文件：请选择 synod keygen 生成的 .pem 文件",
);
/// A file the browser could not read as text.
#[cfg(feature = "hydrate")]
const UNREADABLE: Text = t(
    "this browser could not read the file as text: choose the .pem file `synod keygen` wrote",
    "浏览器无法以文本读取该文件：请选择 synod keygen 生成的 .pem 文件",
);
