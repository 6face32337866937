//! `synod-console`: serves the console to an organisation's administrators.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use leptos::prelude::*;

use console::server::{
    anchor, auth,
    bundle::Bundle,
    config::{Cli, Command, load_genesis},
    db::Db,
    export_check,
    follower::Follower,
    indexer,
    node::NodeClient,
    router::router,
    state::{AppState, Inner},
    webhooks,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colour only on a terminal: `cargo xtask up` and the e2e harness send the output to log files.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let cli = Cli::parse();
    let args = match (cli.command, cli.serve) {
        (Some(Command::VerifyExport { genesis, export, json, unanchored }), _) => {
            let report = export_check::check_file(&genesis, &export, unanchored)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            return Ok(());
        }
        (None, Some(args)) => args,
        (None, None) => {
            use clap::CommandFactory as _;
            Cli::command()
                .error(clap::error::ErrorKind::MissingRequiredArgument, "serving needs --genesis, --node and --db")
                .exit()
        }
    };
    let (genesis, chain) = load_genesis(&args.genesis)?;
    let anchoring = args.anchoring()?.map(std::sync::Arc::new);
    let bundle = Bundle::load(&args.site)?;
    let db = Db::open(&args.db).await.with_context(|| format!("cannot open the database {}", args.db.display()))?;
    let node = NodeClient::new(args.nodes.clone())?;
    let (snapshot, live) = Follower::spawn(node.clone(), chain.clone());
    let origin = args.origin();
    let leptos =
        LeptosOptions::builder().output_name("console").site_root(args.site.to_string_lossy().into_owned()).build();
    let state = AppState::new(
        leptos,
        Inner {
            chain: chain.clone(),
            genesis,
            origin: origin.clone(),
            db,
            node,
            snapshot,
            live,
            bundle,
            login_limiter: auth::login_limiter(),
            access: args.access(),
            anchoring,
        },
    );
    indexer::spawn(state.clone());
    anchor::spawn(state.clone());
    webhooks::spawn(state.clone(), args.expiry_warning_blocks)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        origin = %origin,
        chain = %chain.chain_id,
        public_read = args.public_read,
        trusted_proxies = ?args.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>(),
        webhook_allow = ?args.webhook_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
        anchor_key = ?args.anchor_key.as_ref().map(|path| path.display().to_string()),
        anchor_rows = args.anchor_rows,
        anchor_blocks = args.anchor_blocks,
        "synod-console listening"
    );
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
                _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
            }
        })
        .await?;
    Ok(())
}
