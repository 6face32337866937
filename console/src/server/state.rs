//! The server's shared state: the pinned chain, the SQLite workspace, the node link and the chain snapshot.

use std::sync::Arc;

use axum::extract::FromRef;
use governance_contracts::{domain::ChainIdentity, types::Genesis};
use leptos::prelude::*;
use tokio::sync::{broadcast, watch};

use crate::{
    api::{Identity, Me},
    i18n::Lang,
    model::{ChainSnapshot, LiveEvent},
    server::{
        anchor::Anchoring,
        auth::{LoginLimiter, Session},
        bundle::Bundle,
        db::Db,
        net::{Cidr, TargetPolicy},
        node::NodeClient,
    },
};

/// Everything a request handler or server function needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Leptos' own options (site root, output name).
    pub leptos: LeptosOptions,
    inner: Arc<Inner>,
}

/// The parts of [`AppState`].
pub struct Inner {
    /// The chain, pinned from the genesis file.
    pub chain: ChainIdentity,
    /// The genesis itself.
    pub genesis: Genesis,
    /// The origin browsers reach this console at.
    pub origin: String,
    /// The SQLite workspace.
    pub db: Db,
    /// The node link.
    pub node: NodeClient,
    /// The latest chain snapshot.
    pub snapshot: watch::Receiver<Arc<ChainSnapshot>>,
    /// Live events for browsers.
    pub live: broadcast::Sender<LiveEvent>,
    /// The browser bundle's hashes.
    pub bundle: Bundle,
    /// Sign-in attempts, and recorded refusals, per client address.
    pub login_limiter: LoginLimiter,
    /// What the operator decided about access.
    pub access: Access,
    /// Anchoring the audit trail on chain (`--anchor-key`), when the console has a key for it.
    pub anchoring: Option<Arc<Anchoring>>,
}

/// What the operator decided about access (`synod-console` flags): anonymous reads, which proxies to believe,
/// where webhooks may deliver. The default is the strict one: sign-in required, no proxy believed, webhooks to
/// public addresses only.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--public-read`: visitors who are not signed in may read the chain's tables, accounts and proposals (never
    /// the workspace, the audit trail, webhooks or node URLs).
    pub public_read: bool,
    /// `--trusted-proxy`: reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
    /// `--webhook-allow`: where webhooks may deliver besides public addresses.
    pub webhooks: TargetPolicy,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(leptos: LeptosOptions, inner: Inner) -> Self {
        Self { leptos, inner: Arc::new(inner) }
    }

    /// The state, from a server function's or a page's context.
    pub fn get() -> Result<Self, ServerFnError> {
        use_context::<Self>().ok_or_else(|| ServerFnError::new("the console's state is missing from the context"))
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<ChainSnapshot> {
        self.inner.snapshot.borrow().clone()
    }

    /// What the chain says `account` may do now, or `None` when it is not a current, unfrozen account.
    pub fn identity(&self, account: &str) -> Option<Identity> {
        let snapshot = self.snapshot();
        let id: governance_contracts::ids::AccountId = account.parse().ok()?;
        let record = &snapshot.account(&id)?.record;
        if record.frozen {
            return None;
        }
        let governor = snapshot.governor_of(&id).is_some();
        let roles: Vec<String> = snapshot.roles_of(&id).into_iter().map(|(role, _)| role.to_string()).collect();
        let acts = governor || roles.iter().any(|r| r == "compliance" || r == "operator");
        if !acts && !roles.iter().any(|r| r == "auditor") {
            return None;
        }
        Some(Identity {
            account: account.to_owned(),
            member: record.member.to_string(),
            governor,
            roles,
            read_only: !acts,
        })
    }

    /// The page header's facts for this session.
    pub fn me(&self, session: Option<&Session>) -> Me {
        let snapshot = self.snapshot();
        let lang = session.map(|s| s.lang).or_else(super::auth::cookie_lang).unwrap_or_default();
        Me {
            identity: session.and_then(|s| self.identity(&s.account)),
            lang,
            chain: self.chain.clone(),
            height: snapshot.height.0,
            stale: snapshot.stale,
        }
    }
}

/// The user's language when nobody is signed in.
pub fn default_lang() -> Lang {
    Lang::default()
}
