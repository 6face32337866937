//! The application: the document shell, the routes, the layout every page shares, and the browser-side state
//! (the signer's key, the chain's live version) the pages use.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, ParentRoute, Route, Router, Routes},
    path,
};

use crate::{
    api::{self, Me},
    i18n::{Lang, Msg},
    pages,
    signer::Signer,
};

/// The whole HTML document the server renders around the application. The scripts are the console's own: an
/// import map pinning the glue module's integrity and a module that fetches the WebAssembly with its integrity
/// checked, both carrying this response's CSP nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let _ = options;
    let boot = boot_scripts();
    view! {
        <!DOCTYPE html>
        <html lang=initial_lang().tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="stylesheet" href="/assets/console.css" />
                <link rel="icon" href="/favicon.ico" />
                <script type="importmap" nonce=boot.nonce.clone() inner_html=boot.import_map></script>
                <script type="module" nonce=boot.nonce inner_html=boot.script></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The inline scripts of one page and the nonce they carry.
#[derive(Default)]
struct Boot {
    nonce: Option<String>,
    import_map: String,
    script: String,
}

#[cfg(feature = "ssr")]
fn boot_scripts() -> Boot {
    use leptos::nonce::use_nonce;
    let nonce = use_nonce().map(|n| n.to_string());
    let state = use_context::<crate::server::state::AppState>();
    if let (Some(nonce), Some(response)) = (&nonce, use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = crate::server::security::content_security_policy(nonce).parse()
    {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    match state {
        Some(state) => Boot { nonce, import_map: state.bundle.import_map(), script: state.bundle.boot_script() },
        None => Boot { nonce, ..Boot::default() },
    }
}

#[cfg(not(feature = "ssr"))]
fn boot_scripts() -> Boot {
    Boot::default()
}

/// The signer's key, held in this tab's memory only (never sent anywhere, gone on reload).
#[derive(Clone, Copy)]
pub struct KeyRing(pub RwSignal<Option<Arc<Signer>>>);

/// Bumped whenever the console hears of a new block, so every page's data reloads.
#[derive(Clone, Copy)]
pub struct ChainVersion(pub RwSignal<u64>);

/// Whether this page has hydrated (its WebAssembly runs): buttons that sign stay disabled until then, so a click
/// is never lost on a page that cannot act on it yet.
#[derive(Clone, Copy)]
pub struct Hydrated(pub RwSignal<bool>);

/// Whether the page can act (hydrated). The signal belongs to the application's root, so a closure that keeps it
/// never outlives it, whichever page made the closure.
pub fn hydrated() -> RwSignal<bool> {
    expect_context::<Hydrated>().0
}

/// Who is signed in, the language and the pinned chain, loaded once per page and again after sign-in.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Me, ServerFnError>>);

/// The interface language. The server renders in the request's language (the session's, else the language
/// cookie's) and writes it into `<html lang>`; the browser starts from that attribute, so hydration renders the
/// same text, and follows the user's choice afterwards.
#[derive(Clone, Copy)]
pub struct UiLang(pub RwSignal<Lang>);

/// The language of the request being rendered.
#[cfg(feature = "ssr")]
fn initial_lang() -> Lang {
    crate::server::auth::current_session()
        .map(|session| session.lang)
        .or_else(crate::server::auth::cookie_lang)
        .unwrap_or_default()
}

/// The language the server rendered this document in.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn initial_lang() -> Lang {
    web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
        .and_then(|root| root.get_attribute("lang"))
        .and_then(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn initial_lang() -> Lang {
    Lang::default()
}

/// A part of a page drawn from `resource` once it has loaded, in the current language: `render` gets the loaded
/// value and the language as plain values. The language and the resource are read before the await, so the part
/// follows both; nothing reactive is read after it, because a server-side render may resolve after its page is gone
/// (a reactive read would then panic).
pub fn loaded<T, V>(
    resource: Resource<T>,
    render: impl Fn(T, Lang) -> V + Clone + Send + Sync + 'static,
) -> impl Fn() -> Suspend<V> + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let lang = use_lang();
    move || {
        let l = lang.get();
        let value = resource.into_future();
        let render = render.clone();
        Suspend::new(async move { render(value.await, l) })
    }
}

/// The interface language. This is the root's own signal, not a wrapper made in the caller's scope: text that a
/// page disposed of mid-render may still be asked for once during a language switch, and it must find a live
/// signal (a wrapper would be disposed with the page, and reading it panics).
pub fn use_lang() -> RwSignal<Lang> {
    expect_context::<UiLang>().0
}

/// A message in the current language, as a reactive text.
pub fn tr(msg: Msg) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    let lang = use_lang();
    move || msg.text(lang.get())
}

/// The application's root component.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let keys = KeyRing(RwSignal::new(None));
    let version = ChainVersion(RwSignal::new(0));
    let me = MeResource(Resource::new(|| (), |()| api::whoami()));
    provide_context(keys);
    provide_context(version);
    provide_context(me);
    let ui_lang = UiLang(RwSignal::new(initial_lang()));
    provide_context(ui_lang);
    // After a sign-in or a change of language the user's record says which language to speak.
    Effect::new(move |_| {
        if let Some(Ok(me)) = me.0.get() {
            ui_lang.0.set(me.lang);
        }
    });
    let ready = Hydrated(RwSignal::new(false));
    provide_context(ready);
    // Effects run only in the browser, after hydration. The document's root also says so, for tools that drive
    // the page (an attribute users never see).
    Effect::new(move |_| {
        ready.0.set(true);
        mark_hydrated();
    });
    follow_live_updates(version);
    warn_before_unload(keys);
    view! {
        <Title text="Synod console" />
        <Router>
            <Routes fallback=|| view! { <p data-testid="not-found">"Page not found."</p> }>
                <ParentRoute path=StaticSegment("") view=Layout>
                    <Route path=StaticSegment("") view=pages::overview::Overview />
                    <Route path=path!("login") view=pages::login::Login />
                    <Route path=path!("proposals") view=pages::proposals::ProposalList />
                    <Route path=path!("proposals/new") view=pages::draft::NewDraft />
                    <Route path=path!("proposals/:id") view=pages::proposal::ProposalPage />
                    <Route path=path!("drafts/:id") view=pages::draft::DraftDetail />
                    <Route path=path!("members") view=pages::members::Members />
                    <Route path=path!("nodes") view=pages::nodes::Nodes />
                    <Route path=path!("accounts") view=pages::accounts::Accounts />
                    <Route path=path!("audit") view=pages::audit::AuditTrail />
                    <Route path=path!("bundle") view=pages::bundle::BundlePage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// While a key is in this tab's memory, leaving or reloading the page first asks the browser's own "leave this
/// page?" question: the key is gone after a reload unless it was kept under a passphrase (the header says so).
#[cfg(feature = "hydrate")]
fn warn_before_unload(keys: KeyRing) {
    let handle = window_event_listener(leptos::ev::beforeunload, move |event| {
        if keys.0.get_untracked().is_some() {
            event.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

#[cfg(not(feature = "hydrate"))]
fn warn_before_unload(_keys: KeyRing) {}

/// Sets `data-hydrated` on the document's root element.
#[cfg(feature = "hydrate")]
fn mark_hydrated() {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        root.set_attribute("data-hydrated", "true").ok();
    }
}

#[cfg(not(feature = "hydrate"))]
fn mark_hydrated() {}

/// Opens the console's live stream in the browser; each message bumps [`ChainVersion`].
#[cfg(feature = "hydrate")]
fn follow_live_updates(version: ChainVersion) {
    use wasm_bindgen::{JsCast, closure::Closure};
    Effect::new(move |_| {
        let Ok(source) = web_sys::EventSource::new("/live") else { return };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_event: web_sys::MessageEvent| {
            version.0.update(|v| *v = v.wrapping_add(1));
        });
        source.add_event_listener_with_callback("block", on_message.as_ref().unchecked_ref()).ok();
        on_message.forget();
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow_live_updates(_version: ChainVersion) {}

/// The frame around every page: navigation, who is signed in, the key state and the language switch.
#[component]
fn Layout() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    let keys = expect_context::<KeyRing>().0;
    let lang = use_lang();
    let set_lang = ServerAction::<api::SetLang>::new();
    let sign_out = ServerAction::<api::SignOut>::new();
    // Signing out changes who the pages are for; a change of language changes only the words, which follow the
    // language signal at once (nothing reloads, nothing is fetched again, the key stays in memory).
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            me.refetch();
        }
    });
    // A language chosen while the page was still loading (before its WebAssembly ran) is applied once it runs, so
    // the selector and the page never disagree.
    let selector = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        if let Some(select) = selector.get()
            && let Some(chosen) = Lang::from_tag(&select.value())
            && chosen != lang.get_untracked()
        {
            lang.set(chosen);
            set_lang.dispatch(api::SetLang { lang: chosen.tag().to_owned() });
        }
    });
    let nav = move |href: &'static str, msg: Msg, id: &'static str| {
        view! { <A href=href attr:data-testid=id>{move || msg.text(lang.get())}</A> }
    };
    view! {
        <header class="top">
            <span class="brand">"Synod"</span>
            <nav>
                {nav("/", Msg::Overview, "nav-overview")}
                {nav("/proposals", Msg::Proposals, "nav-proposals")}
                {nav("/members", Msg::Members, "nav-members")}
                {nav("/nodes", Msg::Nodes, "nav-nodes")}
                {nav("/accounts", Msg::Accounts, "nav-accounts")}
                {nav("/audit", Msg::Audit, "nav-audit")}
            </nav>
            <Suspense fallback=|| ()>
                // Signals are read here, before the await, so the header follows them; after the await only
                // plain values are used: a server-side render may resolve after its page is gone.
                {move || {
                    let l = lang.get();
                    let has_key = keys.get().is_some();
                    let me = me.into_future();
                    Suspend::new(async move {
                        let me = me.await.ok();
                        let who = me.as_ref().and_then(|m| m.identity.clone());
                        let signed_in = who.is_some();
                        view! {
                            <span class="who" data-testid="who">
                                {match &who {
                                    Some(id) => {
                                        let ro = if id.read_only {
                                            format!(" ({})", Msg::ReadOnly.text(l))
                                        } else {
                                            String::new()
                                        };
                                        format!("{} {}{}", Msg::SignedInAs.text(l), id.account, ro)
                                    }
                                    None => Msg::NotSignedIn.text(l).to_owned(),
                                }}
                            </span>
                            // The key matters to a signed-in user only; before sign-in the sign-in page speaks of it.
                            {signed_in.then(|| view! {
                                <span class="key" data-testid="key-state">
                                    {if has_key { Msg::KeyLoaded.text(l) } else { Msg::KeyNotLoaded.text(l) }}
                                </span>
                                <button class="secondary" data-testid="sign-out" on:click=move |_| {
                                    keys.set(None);
                                    sign_out.dispatch(api::SignOut {});
                                }>{Msg::SignOut.text(l)}</button>
                            })}
                            {(!signed_in).then(|| view! {
                                <A href="/login" attr:data-testid="nav-login">{Msg::SignIn.text(l)}</A>
                            })}
                        }
                    })
                }}
            </Suspense>
            <select node_ref=selector data-testid="lang" aria-label=move || Msg::Language.text(lang.get()) on:change=move |ev| {
                let tag = event_target_value(&ev);
                if let Some(chosen) = Lang::from_tag(&tag) {
                    lang.set(chosen);
                }
                set_lang.dispatch(api::SetLang { lang: tag });
            }>
                <option value="en" selected=move || lang.get() == Lang::En>"English"</option>
                <option value="zh-CN" selected=move || lang.get() == Lang::ZhCn>"简体中文"</option>
            </select>
        </header>
        <pages::keys::UnlockKey />
        <Suspense fallback=|| ()>
            {move || {
                let l = lang.get();
                let me = me.into_future();
                Suspend::new(async move {
                    let stale = me.await.map(|m| m.stale).unwrap_or(true);
                    stale.then(|| view! { <p class="stale" data-testid="stale">{Msg::Stale.text(l)}</p> })
                })
            }}
        </Suspense>
        <main>
            <leptos_router::components::Outlet />
        </main>
        <footer>
            <A href="/bundle" attr:data-testid="nav-bundle">{move || Msg::Bundle.text(lang.get())}</A>
        </footer>
    }
}
