//! The bundle page: the hashes of the code this console runs in the browser, and how to check them.

use leptos::prelude::*;

use crate::{
    api,
    app::{loaded, use_lang},
    i18n::Lang,
};

/// The bundle page.
#[component]
pub fn BundlePage() -> impl IntoView {
    let lang = use_lang();
    let hashes = Resource::new(|| (), |()| api::bundle_hashes());
    view! {
        <h1>{move || match lang.get() { Lang::En => "The code your browser runs", Lang::ZhCn => "浏览器运行的代码" }}</h1>
        <Suspense fallback=|| ()>
            {loaded(hashes, move |hashes, l| {
                crate::pages::forms::show(hashes.map(|h| view! {
                    <table><tbody>
                        <tr><th>"/pkg/console.js (SHA-256)"</th><td><code data-testid="bundle-js-sha256">{h.js_sha256}</code></td></tr>
                        <tr><th>"/pkg/console_bg.wasm (SHA-256)"</th><td><code data-testid="bundle-wasm-sha256">{h.wasm_sha256}</code></td></tr>
                        <tr><th>{match l { Lang::En => "Subresource Integrity", Lang::ZhCn => "子资源完整性" }}</th><td><code>{h.js_sri}</code><br /><code>{h.wasm_sri}</code></td></tr>
                    </tbody></table>
                }))
            })}
        </Suspense>
        <p>{move || match lang.get() {
            Lang::En => "Pages load both files with Subresource Integrity, so a browser refuses any other bytes. To check these are the bytes of the published source, build the same commit yourself and compare with the manifest the build writes:",
            Lang::ZhCn => "页面以子资源完整性加载这两个文件，浏览器会拒绝任何其他内容。如需确认它们与公开源码一致，请自行构建同一提交，并与构建写出的清单对比：",
        }}</p>
        <pre class="mono">"cargo xtask bundle\ncat target/site/pkg/bundle.json"</pre>
    }
}
