//! `synod-console`: serves the console to an organisation's administrators.

use axum::Router;
use clap::Parser;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use console::{
    app::{App, shell},
    server::config::{Args, load_genesis},
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let (_genesis, chain) = load_genesis(&args.genesis)?;
    let site = args.site.to_string_lossy().into_owned();
    let options = LeptosOptions::builder().output_name("console").site_root(site).build();
    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(listen = %args.listen, chain = %chain.chain_id, "synod-console listening");
    axum::serve(listener, app).await?;
    Ok(())
}
