//! The console's HTTP routes and the layers around them, shared by `synod-console` and the render benchmark.

use axum::{Router, middleware, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

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

/// The largest request body the console accepts.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Every route: the pages (server-rendered, then hydrated), the server functions under `/api`, the live stream,
/// the audit exports and the style sheet; with the session, cross-site and header layers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let leptos = state.leptos.clone();
    let origin = Origin(state.origin.clone());
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
