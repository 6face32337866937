//! Sign-in with a key, sessions and the login rate limit.
//!
//! A sign-in is a one-time [`LoginChallenge`] (random nonce, this console's origin, two minutes to live) that the
//! account's current key signs in the browser under the console-login domain. The server takes the nonce once,
//! checks the signature against the key the chain holds now, checks the account's roles, and only then issues a
//! fresh session id (any session the browser carried is deleted first, so a planted id is useless). The cookie is
//! HttpOnly and SameSite=Strict, and Secure when the console is served over TLS; the database keeps only the id's
//! SHA-256. Every request resolves its session again and every server function re-reads the roles from the chain.
//!
//! A session remembers the key that signed in. When the chain's current key for the account is another (rotated,
//! replaced after a compromise, or revoked), the next request ends the session and writes `session_ended` to the
//! audit trail: whoever held the old key is signed out with it.
//!
//! Sign-in attempts are limited per client ([`LoginLimiter`]), the client being the address [`client_address`]
//! settles on (the TCP peer, or behind a trusted proxy the address the proxy forwarded). A refused signature is
//! recorded as `sign_in_refused` by `anonymous` with the client's address: the account the challenge named is only
//! an unverified detail, never the actor, and each client writes at most a few such rows.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::http::StatusCode;
use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{HeaderMap, Request, header},
    middleware::Next,
    response::Response,
};
use base64::Engine as _;
use governance_contracts::{
    codec::{self, BoundedString},
    crypto::{PublicKey, Signature},
    types::LoginChallenge,
};
use leptos::prelude::*;

use crate::server::actions::refuse;

use crate::{
    api::{LoginOffer, Me},
    i18n::Lang,
    server::{
        audit::{self, AuditKind},
        db::{Challenge, NewSession},
        net,
        state::AppState,
    },
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "synod_session";
/// The language cookie's name (for users not signed in).
pub const LANG_COOKIE: &str = "synod_lang";
/// How long a login challenge may be answered.
const CHALLENGE_TTL_MS: i64 = 120_000;
/// How long a session lasts.
const SESSION_TTL_MS: i64 = 8 * 3600 * 1000;

/// A limiter keyed by client (see [`net::rate_key`]).
pub type RateLimiter = governor::DefaultKeyedRateLimiter<IpAddr>;

/// The actor refused sign-ins are recorded under: nobody proved who they are.
pub const ANONYMOUS: &str = "anonymous";

/// The sign-in limits, per client: attempts (a burst of 10, then one every 6 seconds), and how many refused
/// sign-ins are written to the audit trail (a burst of [`REFUSALS_RECORDED_BURST`], then one every 10 minutes;
/// and at most 100 at once, then one every 10 seconds, over all clients together). A refusal beyond those is
/// still refused and logged, but adds no row.
pub struct LoginLimiter {
    /// Sign-in attempts per client.
    pub attempts: RateLimiter,
    /// Refused sign-ins recorded per client.
    pub refusals_recorded: RateLimiter,
    /// Refused sign-ins recorded over all clients.
    pub refusals_recorded_total: governor::DefaultDirectRateLimiter,
}

/// How many refused sign-ins one client may have recorded in a burst.
pub const REFUSALS_RECORDED_BURST: u32 = 3;

/// The login limits.
pub fn login_limiter() -> LoginLimiter {
    let attempts = governor::Quota::per_minute(NonZeroU32::new(10).expect("non-zero"))
        .allow_burst(NonZeroU32::new(10).expect("non-zero"));
    let refusals = governor::Quota::with_period(Duration::from_secs(600))
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(REFUSALS_RECORDED_BURST).expect("non-zero"));
    let total = governor::Quota::with_period(Duration::from_secs(10))
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(100).expect("non-zero"));
    LoginLimiter {
        attempts: governor::RateLimiter::keyed(attempts),
        refusals_recorded: governor::RateLimiter::keyed(refusals),
        refusals_recorded_total: governor::RateLimiter::direct(total),
    }
}

/// The address a request came from, as [`client_address`] settled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// Settles which address the request came from ([`net::client_address`]: `X-Forwarded-For` is believed only
/// from the trusted proxies) and keeps it as a [`ClientAddress`] extension.
pub async fn client_address(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |connect| connect.0.ip());
    let client = net::client_address(peer, request.headers(), &state.access.trusted_proxies);
    request.extensions_mut().insert(ClientAddress(client));
    next.run(request).await
}

/// A signed-in session, resolved for each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The cookie value (the database keeps only its SHA-256).
    pub token: String,
    /// The account signed in.
    pub account: String,
    /// The key that signed in.
    pub signing_key: String,
    /// The user's language.
    pub lang: Lang,
}

/// Milliseconds since the Unix epoch, from the wall clock.
#[allow(clippy::disallowed_methods, reason = "sessions and challenges expire by the wall clock")]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Appends to the audit trail; a failure is logged, never shown to the user as theirs.
pub async fn record(state: &AppState, actor: &str, kind: AuditKind, subject: &str, detail: serde_json::Value) {
    let entry = audit::NewEntry { at_ms: now_ms(), actor, kind, subject, detail: &detail };
    if let Err(error) = audit::append(&state.db, &entry).await {
        tracing::error!(%error, "cannot append to the audit trail");
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What the chain says of the key a session signed in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// It is still the account's current key.
    Current,
    /// The account's current key is another one, or it has none, or the account is gone.
    Replaced,
    /// Nothing is known of the chain yet (no node has answered since the console started).
    Unknown,
}

/// Whether `key` is still `account`'s current key in the chain snapshot.
pub fn check_session_key(state: &AppState, account: &str, key: &str) -> KeyCheck {
    let snapshot = state.snapshot();
    if snapshot.params.is_none() {
        return KeyCheck::Unknown;
    }
    let current = account
        .parse::<governance_contracts::ids::AccountId>()
        .ok()
        .and_then(|id| snapshot.account(&id).and_then(|holder| holder.record.key));
    match current {
        Some(current) if current.to_string() == key => KeyCheck::Current,
        _ => KeyCheck::Replaced,
    }
}

/// Resolves the request's session cookie into a [`Session`] request extension. A session whose key is no longer
/// the account's current key on chain is ended here (deleted and audited); while nothing is known of the chain, a
/// session is kept but not served.
pub async fn resolve_session(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response {
    if let Some(value) = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned)
        && let Ok(Some(row)) = state.db.valid_session(&value, now_ms()).await
    {
        match check_session_key(&state, &row.account, &row.signing_key) {
            KeyCheck::Current => {
                let session =
                    Session { token: value, account: row.account, signing_key: row.signing_key, lang: row.lang };
                request.extensions_mut().insert(session);
            }
            KeyCheck::Unknown => {}
            KeyCheck::Replaced => {
                if let Ok(true) = state.db.delete_session(&value).await {
                    let detail = serde_json::json!({
                        "reason": "the key that signed in is no longer the account's current key on chain",
                        "key": row.signing_key,
                    });
                    record(&state, &row.account, AuditKind::SessionEnded, &row.account, detail).await;
                }
            }
        }
    }
    next.run(request).await
}

fn parts() -> Option<axum::http::request::Parts> {
    use_context::<axum::http::request::Parts>()
}

/// The session of the request being served, if signed in.
pub fn current_session() -> Option<Session> {
    parts().and_then(|p| p.extensions.get::<Session>().cloned())
}

/// The language cookie of the request being served.
pub fn cookie_lang() -> Option<Lang> {
    parts().and_then(|p| cookie(&p.headers, LANG_COOKIE).and_then(Lang::from_tag))
}

fn set_cookie(value: String) {
    if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), value.parse()) {
        response.append_header(header::SET_COOKIE, value);
    }
}

fn cookie_attributes(state: &AppState) -> &'static str {
    if state.origin.starts_with("https://") {
        "Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

/// The address of the client being served ([`client_address`]).
pub fn client_ip() -> IpAddr {
    parts().and_then(|p| p.extensions.get::<ClientAddress>().map(|c| c.0)).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn rate_limited(state: &AppState) -> Result<(), ServerFnError> {
    state.login_limiter.attempts.check_key(&net::rate_key(client_ip())).map_err(|_| {
        refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too many sign-in attempts from this address: wait a minute and try again",
        )
    })
}

/// Writes a refused sign-in to the audit trail as `anonymous` from the client's address, the account the
/// challenge named only as an unverified detail; within the per-client and overall bounds of [`LoginLimiter`].
async fn record_refusal(state: &AppState, claimed: &str, reason: &str) {
    let client = client_ip();
    tracing::warn!(%client, claimed, reason, "sign-in refused");
    let limits = &state.login_limiter;
    if limits.refusals_recorded.check_key(&net::rate_key(client)).is_err()
        || limits.refusals_recorded_total.check().is_err()
    {
        return;
    }
    let detail = serde_json::json!({ "reason": reason, "unverified_account": claimed });
    record(state, ANONYMOUS, AuditKind::SignInRefused, &client.to_string(), detail).await;
}

/// Issues a challenge for the account whose current key is `public_key`.
pub async fn begin_login(public_key: &str) -> Result<LoginOffer, ServerFnError> {
    let state = AppState::get()?;
    rate_limited(&state)?;
    let key: PublicKey = public_key
        .parse()
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "that is not an ed25519 public key (ed25519:…)"))?;
    let snapshot = state.snapshot();
    let account = snapshot.account_by_key(&key).map(|a| a.id.clone()).ok_or_else(|| {
        refuse(
            StatusCode::FORBIDDEN,
            format!(
                "no account on this chain has {key} as its current key: ask your organisation's governors to \
                     create an account for it (or, if it replaced an older key, to check the rotation was applied)"
            ),
        )
    })?;
    let mut nonce = [0_u8; 32];
    getrandom::fill(&mut nonce).map_err(|e| ServerFnError::new(format!("no randomness: {e}")))?;
    let origin = BoundedString::<255>::try_new(state.origin.clone())
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "the console's origin is too long"))?;
    let now = now_ms();
    let expires_ms = now.saturating_add(CHALLENGE_TTL_MS);
    let expires_at_ms = u64::try_from(expires_ms).unwrap_or(0);
    let challenge = LoginChallenge { account: account.clone(), origin, nonce, expires_at_ms };
    let row =
        Challenge { nonce: hex::encode(nonce), account: account.to_string(), origin: state.origin.clone(), expires_ms };
    state
        .db
        .insert_challenge(&row, now)
        .await
        .map_err(|e| ServerFnError::new(format!("cannot store the challenge: {e}")))?;
    Ok(LoginOffer { challenge_hex: hex::encode(codec::encode(&challenge)) })
}

/// Checks a signed challenge and starts a session.
pub async fn finish_login(challenge_hex: &str, signature: &str) -> Result<Me, ServerFnError> {
    let state = AppState::get()?;
    rate_limited(&state)?;
    let refused = |why: &str| refuse(StatusCode::FORBIDDEN, format!("sign-in refused: {why}"));
    if challenge_hex.len() > 4096 {
        return Err(refused("the challenge is too long"));
    }
    let bytes = hex::decode(challenge_hex).map_err(|_| refused("the challenge is not hex"))?;
    let challenge: LoginChallenge = codec::decode(&bytes).map_err(|_| refused("the challenge does not decode"))?;
    let signature: Signature = signature.parse().map_err(|_| refused("the signature is malformed"))?;
    let now = now_ms();
    let taken = state
        .db
        .take_challenge(&hex::encode(challenge.nonce), now)
        .await
        .map_err(|e| ServerFnError::new(format!("cannot read the challenge: {e}")))?;
    let Some(row) = taken else {
        return Err(refused("the challenge is unknown, used or expired: start again"));
    };
    if row.account != challenge.account.to_string()
        || challenge.origin.as_str() != state.origin
        || row.origin != state.origin
    {
        return Err(refused("the challenge was altered"));
    }
    let snapshot = state.snapshot();
    let holder = snapshot.account(&challenge.account).ok_or_else(|| refused("the account no longer exists"))?;
    let key = holder.record.key.ok_or_else(|| refused("the account has no current key"))?;
    if !key.verify(&challenge.signing_digest(&state.chain), &signature) {
        record_refusal(&state, &challenge.account.to_string(), "bad signature").await;
        return Err(refused("the signature does not match the account's current key"));
    }
    let account = challenge.account.to_string();
    let identity = state.identity(&account).ok_or_else(|| refused("this account holds no role the console serves"))?;
    if let Some(old) = current_session() {
        state.db.delete_session(&old.token).await.ok();
    }
    let mut raw = [0_u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ServerFnError::new(format!("no randomness: {e}")))?;
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let lang = cookie_lang().unwrap_or_default();
    let mut csrf = [0_u8; 16];
    getrandom::fill(&mut csrf).map_err(|e| ServerFnError::new(format!("no randomness: {e}")))?;
    let csrf = hex::encode(csrf);
    let signing_key = key.to_string();
    let new = NewSession {
        token: &value,
        account: &account,
        signing_key: &signing_key,
        member: Some(&identity.member),
        created_ms: now,
        expires_ms: now.saturating_add(SESSION_TTL_MS),
        lang,
        csrf_token: &csrf,
    };
    state.db.create_session(&new).await.map_err(|e| ServerFnError::new(format!("cannot store the session: {e}")))?;
    set_cookie(format!("{SESSION_COOKIE}={value}; Max-Age={}; {}", SESSION_TTL_MS / 1000, cookie_attributes(&state)));
    record(&state, &account, AuditKind::SignIn, &account, serde_json::json!({ "read_only": identity.read_only })).await;
    let session = Session { token: value, account, signing_key, lang };
    Ok(state.me(Some(&session)))
}

/// Ends the current session.
pub async fn sign_out() -> Result<(), ServerFnError> {
    let state = AppState::get()?;
    if let Some(session) = current_session() {
        state.db.delete_session(&session.token).await.map_err(|e| ServerFnError::new(e.to_string()))?;
        record(&state, &session.account, AuditKind::SignOut, &session.account, serde_json::Value::Null).await;
    }
    set_cookie(format!("{SESSION_COOKIE}=; Max-Age=0; {}", cookie_attributes(&state)));
    Ok(())
}

/// Sets the user's language.
pub async fn set_lang(lang: Lang) -> Result<(), ServerFnError> {
    let state = AppState::get()?;
    if let Some(session) = current_session() {
        state.db.set_session_lang(&session.token, lang).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    }
    set_cookie(format!("{LANG_COOKIE}={}; Max-Age=31536000; {}", lang.tag(), cookie_attributes(&state)));
    Ok(())
}

/// The session of a request, for handlers outside Leptos.
pub fn session_of(request: &Request<Body>) -> Option<Arc<Session>> {
    request.extensions().get::<Session>().cloned().map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session cookie is found among others, and a missing one is absent.
    #[test]
    fn finds_the_session_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; synod_session=abc; b=2".parse().expect("header"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    /// The limiter lets a burst of attempts through and then refuses the same address, while another address
    /// still gets in.
    #[test]
    fn sign_in_attempts_are_limited_per_address() {
        let limiter = login_limiter().attempts;
        let a = IpAddr::from([10, 0, 0, 1]);
        let allowed = (0..20).filter(|_| limiter.check_key(&a).is_ok()).count();
        assert_eq!(allowed, 10);
        assert!(limiter.check_key(&IpAddr::from([10, 0, 0, 2])).is_ok());
    }
}
