//! `GET /v1/events`: the chain's events as server-sent events. Each finalised block is one `finalized` event
//! whose data is the [`ChainEvent`] JSON; a client too slow to keep up gets a `lagged` event (`{"missed": n}`)
//! and the stream goes on from the newest block. Comments keep idle connections alive. At most
//! [`MAX_EVENT_STREAMS`](super::bridge::MAX_EVENT_STREAMS) streams are served at once; the next is refused with a
//! 503 until one ends.

use std::convert::Infallible;
use std::time::Duration;

use api_types::{ChainEvent, ErrorBody, Lagged, StreamEvent};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::ApiState;
use super::error::ApiError;

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What a stream sends next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A chain event.
    Chain(ChainEvent),
    /// The client fell this many events behind; it goes on from the oldest event still held.
    Lagged(u64),
}

/// The next item of a stream reading `blocks`, or `None` when the channel is closed.
async fn next_item(blocks: &mut broadcast::Receiver<ChainEvent>) -> Option<Item> {
    match blocks.recv().await {
        Ok(event) => Some(Item::Chain(event)),
        Err(broadcast::error::RecvError::Lagged(missed)) => Some(Item::Lagged(missed)),
        Err(broadcast::error::RecvError::Closed) => None,
    }
}

/// The SSE event named `name` whose data is `data`'s JSON.
fn sse_event(name: &str, data: &impl serde::Serialize) -> Event {
    match Event::default().event(name).json_data(data) {
        Ok(event) => event,
        Err(e) => Event::default().event("error").data(format!("cannot encode the event: {e}")),
    }
}

/// `GET /v1/events`: server-sent `finalized` events (data: the `ChainEvent` JSON) and `lagged` events.
#[utoipa::path(get, path = "/v1/events", tag = "chain",
    responses((status = 200, description = "`text/event-stream`: `finalized` events (data: a ChainEvent) and `lagged` events (data: a Lagged); comment lines keep an idle stream alive", body = StreamEvent, content_type = "text/event-stream"),
        (status = 503, body = ErrorBody, description = "Too many streams are open: retry later")))]
pub async fn events(State(state): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let permit = state
        .inner
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::unavailable("too many event streams are open: retry later"))?;
    let mut blocks = state.inner.events.subscribe();
    let mut closing = state.inner.closing.subscribe();
    let (sender, receiver) = mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        let _permit = permit;
        loop {
            let event = tokio::select! {
                item = next_item(&mut blocks) => match item {
                    Some(Item::Chain(event)) => sse_event(ChainEvent::EVENT, &event),
                    Some(Item::Lagged(missed)) => sse_event(Lagged::EVENT, &Lagged { missed }),
                    None => return,
                },
                _ = closing.wait_for(|closing| *closing) => return,
                () = sender.closed() => return,
            };
            if sender.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(receiver)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{BlockHash, Height};

    use super::*;

    fn finalized(height: u64) -> ChainEvent {
        ChainEvent::Finalized {
            height: Height(height),
            hash: BlockHash(Digest::ZERO),
            time_ms: height,
            transactions: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A reader that fell behind the channel's capacity is told how many events it missed, then goes on with
    /// the events still held; a closed channel ends the stream.
    #[tokio::test]
    async fn a_lagging_reader_is_told_and_goes_on() {
        let (sender, mut reader) = broadcast::channel(2);
        for height in 1..=5 {
            sender.send(finalized(height)).expect("a reader listens");
        }
        assert_eq!(next_item(&mut reader).await, Some(Item::Lagged(3)));
        assert_eq!(next_item(&mut reader).await, Some(Item::Chain(finalized(4))));
        assert_eq!(next_item(&mut reader).await, Some(Item::Chain(finalized(5))));
        drop(sender);
        assert_eq!(next_item(&mut reader).await, None);
    }
}
