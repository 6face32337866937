//! Synod's web console: where an alliance's administrators draft, multi-sign and apply governance proposals.
//!
//! One crate, two builds. The `ssr` feature (the default) is the server, `synod-console`: it renders every page,
//! keeps the organisation's off-chain workspace in SQLite and relays signed transactions to a node. The `hydrate`
//! feature is the browser bundle (wasm32): it takes over the server-rendered page, holds the signer's key in memory
//! and signs with the same `governance-contracts` code the node runs. The chain trusts nothing the console stores.

// Leptos views are nested static types; the larger pages need a deeper query limit to compute their layout.
#![recursion_limit = "256"]

#[allow(
    missing_docs,
    reason = "the server-function macro generates an argument struct per function; its fields are the documented parameters"
)]
pub mod api;
pub mod app;
pub mod i18n;
pub mod keystore;
pub mod model;
#[allow(
    missing_docs,
    reason = "the component macro generates a props struct per component; its fields are the documented parameters"
)]
pub mod pages;
pub mod signer;
pub mod wysiwys;

#[cfg(feature = "ssr")]
pub mod server;

/// The browser bundle's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
