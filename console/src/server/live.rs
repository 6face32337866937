//! `/live`: the server-sent event stream open pages follow. Each finalised block the follower reports becomes one
//! `block` event (its height and the proposals it touched), so pages reload their data within a second of a
//! block; a browser that falls behind gets a `lagged` event and simply reloads.

use std::convert::Infallible;

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt as _};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

use crate::server::state::AppState;

/// The live stream.
pub async fn live(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.live.subscribe()).map(|item| {
        Ok(match item {
            Ok(event) => Event::default().event("block").json_data(&event).unwrap_or_else(|_| Event::default()),
            Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("block").data("lagged"),
        })
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
