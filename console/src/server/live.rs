//! `/live`: the server-sent event stream open pages follow. Each finalised block the follower reports becomes one
//! `block` event (its height and the proposals it touched), so pages reload their data within a second of a
//! block; a browser that falls behind gets a `lagged` event and simply reloads.
//!
//! A page opens the stream once, when it loads, usually before its user signs in; so the stream is open to every
//! browser, but only a signed-in session, or any visitor when the console serves public reads, is told what a block
//! held. Anyone else gets each `block` event with the word `block` as its only data: enough to reload its data once
//! signed in, and nothing more.

use std::convert::Infallible;

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt as _};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

use crate::server::{
    auth::{KeyCheck, Session, check_session_key},
    state::AppState,
};

/// The live stream.
pub async fn live(
    State(state): State<AppState>,
    session: Option<axum::Extension<Session>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let session = session.map(|axum::Extension(session)| session);
    // Checked again at every event: a session whose key changed, or whose account lost its roles, stops being told.
    let told = move |state: &AppState| {
        state.access.public_read
            || session.as_ref().is_some_and(|s| {
                state.identity(&s.account).is_some()
                    && check_session_key(state, &s.account, &s.signing_key) == KeyCheck::Current
            })
    };
    let stream = BroadcastStream::new(state.live.subscribe()).map(move |item| {
        Ok(match item {
            // Not empty: a browser drops an event whose data is empty, and the page would not reload.
            Ok(_) if !told(&state) => Event::default().event("block").data("block"),
            Ok(event) => Event::default().event("block").json_data(&event).unwrap_or_else(|_| Event::default()),
            Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("block").data("lagged"),
        })
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
