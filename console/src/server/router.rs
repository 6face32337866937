//! The console's HTTP routes and the layers around them, shared by `synod-console` and the render benchmark.

use axum::http::{HeaderValue, header};
use axum::{Router, middleware, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    app::{App, shell},
    server::{
        auth, exports, live,
        security::{self, Origin},
        state::AppState,
    },
};

/// The console's style sheet, served at `/assets/console.css`.
const STYLE: &str = include_str!("../../style/console.css");

/// The console's icon (three members joined, on the console's blue; 16 and 32 pixels), served at `/favicon.ico`.
const FAVICON: &[u8] = include_bytes!("../../assets/favicon.ico");

/// The largest request body the console accepts.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Every route: the pages (server-rendered, then hydrated), the server functions under `/api`, the live stream,
/// the audit exports, the style sheet, the icon and the browser bundle under `/pkg`; with the session, cross-site
/// and header layers. The bundle is served from `SITE/pkg` as its Brotli or gzip copy when the browser accepts one
/// (`cargo xtask bundle` writes them beside each file), else as it is.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let leptos = state.leptos.clone();
    let origin = Origin(state.origin.clone());
    // The file names do not change between builds: a browser revalidates (a 304 when unchanged) rather than reuse
    // a copy the page's integrity hashes would refuse after an upgrade.
    let bundle = Router::new()
        .fallback_service(
            ServeDir::new(std::path::Path::new(&*state.leptos.site_root).join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(SetResponseHeaderLayer::overriding(header::VARY, HeaderValue::from_static("accept-encoding")));
    Router::new()
        .route(
            "/api/{*name}",
            axum::routing::post({
                let context = context.clone();
                move |request| leptos_axum::handle_server_fns_with_context(context.clone(), request)
            }),
        )
        .route("/live", get(live::live))
        .route("/assets/console.css", get(|| async { ([(axum::http::header::CONTENT_TYPE, "text/css")], STYLE) }))
        .route("/favicon.ico", get(|| async { ([(header::CONTENT_TYPE, "image/x-icon")], FAVICON) }))
        .nest_service("/pkg", bundle)
        .merge(exports::routes())
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(middleware::from_fn_with_state(state.clone(), auth::resolve_session))
        .layer(middleware::from_fn_with_state(state.clone(), auth::client_address))
        .layer(middleware::from_fn_with_state(origin, security::same_origin_writes))
        .layer(middleware::from_fn(security::headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use governance_contracts::testkit;
    use tokio::sync::{broadcast, watch};
    use tower::ServiceExt as _;

    use super::*;
    use crate::model::ChainSnapshot;
    use crate::server::auth::login_limiter;
    use crate::server::bundle::{Bundle, FileHashes};
    use crate::server::db::Db;
    use crate::server::node::NodeClient;
    use crate::server::state::{Access, Inner};

    /// The router of a console whose site directory is `site`.
    async fn console(site: &std::path::Path) -> Router {
        let genesis = testkit::genesis(4);
        let chain = genesis.identity();
        let (_, snapshot) = watch::channel(Arc::new(ChainSnapshot::empty(chain.clone())));
        let leptos =
            LeptosOptions::builder().output_name("console").site_root(site.to_string_lossy().into_owned()).build();
        let inner = Inner {
            chain,
            genesis,
            origin: "http://127.0.0.1:8081".to_owned(),
            db: Db::open(&site.join("console.db")).await.expect("the database opens"),
            node: NodeClient::new(vec!["http://127.0.0.1:9".to_owned()]).expect("a valid node URL"),
            snapshot,
            live: broadcast::channel(1).0,
            bundle: Bundle { js: FileHashes::of("/pkg/console.js", b"js"), wasm: FileHashes::of("/pkg/w.wasm", b"w") },
            login_limiter: login_limiter(),
            access: Access::default(),
            anchoring: None,
        };
        router(AppState::new(leptos, inner))
    }

    /// `GET path` with `Accept-Encoding: accept` (none when empty): status, content type and encoding, body, and
    /// the caching headers (`Cache-Control`, `Vary`).
    async fn get(app: &Router, path: &str, accept: &str) -> (StatusCode, String, String, Vec<u8>, [String; 2]) {
        let mut request = Request::get(path);
        if !accept.is_empty() {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).expect("a request")).await.expect("answered");
        let text = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (content_type, encoding) = (text(header::CONTENT_TYPE), text(header::CONTENT_ENCODING));
        let caching = [text(header::CACHE_CONTROL), text(header::VARY)];
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body").to_vec();
        (status, content_type, encoding, body, caching)
    }

    /// The bundle goes out as its Brotli copy to a browser that accepts Brotli, as its gzip copy to one that
    /// accepts only gzip, and as it is to one that accepts neither, always as wasm, revalidated on every use and
    /// varying by encoding; `/favicon.ico` is the icon.
    #[tokio::test]
    async fn the_bundle_goes_out_compressed_and_the_icon_is_served() {
        let site = tempfile::tempdir().expect("a temporary directory");
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(&pkg).expect("pkg/");
        for (name, bytes) in
            [("console_bg.wasm", "raw"), ("console_bg.wasm.br", "brotli"), ("console_bg.wasm.gz", "gzip")]
        {
            std::fs::write(pkg.join(name), bytes).expect("written");
        }
        let app = console(site.path()).await;
        for (accept, encoding, body) in
            [("gzip, deflate, br", "br", "brotli"), ("gzip", "gzip", "gzip"), ("", "", "raw")]
        {
            let (status, content_type, sent_encoding, sent, caching) = get(&app, "/pkg/console_bg.wasm", accept).await;
            assert_eq!(
                (status, content_type.as_str(), sent_encoding.as_str()),
                (StatusCode::OK, "application/wasm", encoding)
            );
            assert_eq!(sent, body.as_bytes(), "Accept-Encoding: {accept}");
            assert_eq!(caching, ["no-cache", "accept-encoding"]);
        }
        let (status, content_type, _, body, _) = get(&app, "/favicon.ico", "").await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "image/x-icon"));
        assert_eq!(body, FAVICON);
        assert!(body.starts_with(&[0, 0, 1, 0]), "an ICO file starts with its reserved word and type 1");
    }
}
