//! Keeping the signer's key between visits: sealed under a passphrase in this browser ([`crate::keystore`]), and
//! unlocked again on a later page load. Sealing and opening run here, in the page's WebAssembly; the server never
//! sees the key, the passphrase or the sealed form.

#[cfg(feature = "hydrate")]
use std::sync::Arc;

use leptos::prelude::*;

use crate::{
    app::{KeyRing, MeResource, use_lang},
    i18n::Msg,
    keystore::SealedKey,
};

/// Offers to keep the loaded key in this browser under a passphrase (shown once a key is loaded and signed in).
#[component]
pub fn KeepKey() -> impl IntoView {
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let lang = use_lang();
    let passphrase = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let kept = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let ready = crate::app::hydrated();
    let keep = move |_| {
        let l = lang.get_untracked();
        if passphrase.get_untracked() != again.get_untracked() {
            return error.set(Some(Msg::PassphrasesDiffer.text(l).to_owned()));
        }
        let Some(signer) = keys.get_untracked() else {
            return error.set(Some(Msg::KeyNotLoaded.text(l).to_owned()));
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let chain = me.await.map_err(|e| e.to_string())?.chain;
                seal_and_save(&signer, &chain, &passphrase.get_untracked()).map_err(|e| e.text(l))
            }
            .await;
            busy.set(false);
            match result {
                Ok(()) => {
                    error.set(None);
                    passphrase.set(String::new());
                    again.set(String::new());
                    kept.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Only a key that signed in is worth keeping: a key with no account behind it is never offered.
    let signed_in = move || me.get().and_then(Result::ok).is_some_and(|m| m.identity.is_some());
    view! {
        <Show when=move || keys.get().is_some() && signed_in()>
            <section class="card" data-testid="keep-key">
                <h2>{move || Msg::KeepKey.text(lang.get())}</h2>
                <p>{move || Msg::KeepKeyHelp.text(lang.get())}</p>
                <div class="row">
                    <label>{move || Msg::Passphrase.text(lang.get())}
                        <input type="password" autocomplete="new-password" data-testid="keep-passphrase"
                            prop:value=move || passphrase.get() on:input=move |ev| passphrase.set(event_target_value(&ev)) />
                    </label>
                    <label>{move || Msg::PassphraseAgain.text(lang.get())}
                        <input type="password" autocomplete="new-password" data-testid="keep-passphrase-again"
                            prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev)) />
                    </label>
                    <button class="secondary" data-testid="keep-key-button" disabled=move || !ready.get() || busy.get() on:click=keep>
                        {move || Msg::KeepIt.text(lang.get())}
                    </button>
                </div>
                <Show when=move || kept.get()>
                    <p class="ok" data-testid="key-kept">{move || Msg::KeyKept.text(lang.get())}</p>
                </Show>
                <p class="error" data-testid="keep-error">{move || error.get()}</p>
            </section>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
fn seal_and_save(
    signer: &crate::signer::Signer,
    chain: &governance_contracts::domain::ChainIdentity,
    passphrase: &str,
) -> Result<(), crate::keystore::KeystoreError> {
    use crate::keystore::{self, NONCE_BYTES, SALT_BYTES, browser};
    let salt = browser::random::<SALT_BYTES>()?;
    let nonce = browser::random::<NONCE_BYTES>()?;
    browser::save(&keystore::seal(signer, chain, passphrase, salt, nonce)?)
}

#[cfg(not(feature = "hydrate"))]
fn seal_and_save(
    _signer: &crate::signer::Signer,
    _chain: &governance_contracts::domain::ChainIdentity,
    _passphrase: &str,
) -> Result<(), crate::keystore::KeystoreError> {
    Err(crate::keystore::KeystoreError::Malformed("keys are kept only in a browser".to_owned()))
}

/// When no key is in memory but one is kept in this browser: its public key, a passphrase field to unlock it,
/// and a way to forget it. Renders nothing on the server (the kept key is the browser's alone).
#[component]
pub fn UnlockKey() -> impl IntoView {
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let lang = use_lang();
    let kept = RwSignal::new(None::<Result<SealedKey, String>>);
    let passphrase = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = crate::app::hydrated();
    // Effects run only in the browser, after hydration: the server and the first render agree on "nothing kept".
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        kept.set(crate::keystore::browser::load().map(|entry| entry.map_err(|e| e.text(lang.get_untracked()))));
    });
    let unlock = move |_| {
        let Some(Ok(sealed)) = kept.get_untracked() else { return };
        let l = lang.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let chain = me.await.map_err(|e| e.to_string())?.chain;
                crate::keystore::open(&sealed, &chain, &passphrase.get_untracked()).map_err(|e| e.text(l))
            }
            .await;
            busy.set(false);
            match result {
                Ok(signer) => {
                    error.set(None);
                    passphrase.set(String::new());
                    #[cfg(feature = "hydrate")]
                    keys.set(Some(Arc::new(signer)));
                    #[cfg(not(feature = "hydrate"))]
                    drop(signer);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let forget = move |_| {
        #[cfg(feature = "hydrate")]
        crate::keystore::browser::forget();
        kept.set(None);
        error.set(None);
    };
    view! {
        <Show when=move || keys.get().is_none() && kept.get().is_some()>
            <div class="unlock" data-testid="unlock-key">
                <span>{move || Msg::KeptKey.text(lang.get())}" "</span>
                {move || match kept.get() {
                    Some(Ok(sealed)) => view! {
                        <code data-testid="kept-public-key">{sealed.public_key.to_string()}</code>
                        <input type="password" autocomplete="current-password" data-testid="unlock-passphrase"
                            placeholder=move || Msg::Passphrase.text(lang.get())
                            prop:value=move || passphrase.get() on:input=move |ev| passphrase.set(event_target_value(&ev)) />
                        <button data-testid="unlock-button" disabled=move || !ready.get() || busy.get() on:click=unlock>
                            {move || Msg::Unlock.text(lang.get())}
                        </button>
                    }.into_any(),
                    Some(Err(reason)) => view! { <span class="error">{reason}</span> }.into_any(),
                    None => ().into_any(),
                }}
                <button class="secondary" data-testid="forget-key" on:click=forget>{move || Msg::ForgetKey.text(lang.get())}</button>
                <span class="error" data-testid="unlock-error">{move || error.get()}</span>
            </div>
        </Show>
    }
}
