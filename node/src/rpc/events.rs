//! `GET /v1/events`: the chain's events as server-sent events. Each finalised block is one `finalized` event
//! whose data is the [`ChainEvent`] JSON. Comments keep idle connections alive.
//!
//! The fan-out never slows the node and holds bounded memory per client:
//!
//! - the runtime publishes each block once on a broadcast channel of [`EVENT_CAPACITY`](super::bridge) blocks
//!   shared by every stream (publishing never waits for a reader);
//! - each stream has a task that moves blocks from that channel into the stream's own buffer, which the HTTP
//!   response drains: at most [`ApiLimits::stream_buffer_events`] events and
//!   [`ApiLimits::stream_buffer_bytes`] bytes unread (an event larger than the byte bound alone is sent to a
//!   stream that has read everything before it);
//! - a client that leaves its buffer full when the next block comes is **cut off**: its stream ends with a `lagged`
//!   event (`{"missed": n}`, the events it will not get), and its place is freed. It reconnects and reads what it
//!   missed from `/v1/blocks`;
//! - a stream whose task fell behind the shared channel itself gets a `lagged` event and goes on from the oldest
//!   block still held;
//! - at most [`ApiLimits::event_streams`] streams are served at once; the next is refused with 503 `busy` and a
//!   `Retry-After` header.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use api_types::{ChainEvent, ErrorBody, Lagged, StreamEvent};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;

use super::ApiState;
use super::bridge::ApiLimits;
use super::error::ApiError;

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What a stream sends next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A chain event.
    Chain(ChainEvent),
    /// The stream's task fell this many events behind the shared channel; it goes on from the oldest still held.
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

/// One SSE event waiting in a stream's buffer: its name and its data (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Queued {
    name: &'static str,
    data: String,
}

impl Queued {
    /// The event named `name` whose data is `data`'s JSON.
    fn json(name: &'static str, data: &impl serde::Serialize) -> Self {
        match serde_json::to_string(data) {
            Ok(data) => Self { name, data },
            Err(e) => Self { name: "error", data: format!("cannot encode the event: {e}") },
        }
    }

    fn of(item: &Item) -> Self {
        match item {
            Item::Chain(event) => Self::json(ChainEvent::EVENT, event),
            Item::Lagged(missed) => Self::json(Lagged::EVENT, &Lagged { missed: *missed }),
        }
    }
}

/// What became of an event offered to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// It waits in the stream's buffer.
    Queued,
    /// The buffer was full: the stream is told so and ends.
    CutOff,
}

/// A stream's buffer, as its task fills it: a channel of one more event than the limit allows (the last place is
/// kept for the notice that cuts the stream off) and the bytes waiting in it, which the response gives back as it
/// takes each event.
struct Buffer {
    sender: mpsc::Sender<Queued>,
    bytes: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl Buffer {
    /// A buffer within `limits`, and the receiving end the response drains (with the same byte count).
    fn new(limits: &ApiLimits) -> (Self, mpsc::Receiver<Queued>, Arc<AtomicUsize>) {
        let (sender, receiver) = mpsc::channel(limits.stream_buffer_events.saturating_add(1));
        let bytes = Arc::new(AtomicUsize::new(0));
        (Self { sender, bytes: Arc::clone(&bytes), max_bytes: limits.stream_buffer_bytes }, receiver, bytes)
    }

    /// Queues `item` if the buffer has room for it; otherwise queues the notice that cuts the stream off.
    fn offer(&self, item: &Item) -> Offer {
        let queued = Queued::of(item);
        let len = queued.data.len();
        let waiting = self.bytes.load(Ordering::Acquire);
        let fits = waiting == 0 || waiting.saturating_add(len) <= self.max_bytes;
        // One place stays free for the notice.
        if fits && self.sender.capacity() > 1 {
            // Counted before the response can take it, so the count never goes below zero.
            self.bytes.fetch_add(len, Ordering::AcqRel);
            if self.sender.try_send(queued).is_ok() {
                return Offer::Queued;
            }
            self.bytes.fetch_sub(len, Ordering::AcqRel);
        }
        // The place kept free takes the notice: this event and every later one are missed until it reconnects.
        let _ = self.sender.try_send(Queued::json(Lagged::EVENT, &Lagged { missed: 1 }));
        Offer::CutOff
    }
}

/// A stream's task: moves blocks from the shared channel into the stream's buffer until the channel closes, the
/// server shuts down, the client goes, or the client is cut off.
async fn forward(mut blocks: broadcast::Receiver<ChainEvent>, mut closing: watch::Receiver<bool>, buffer: Buffer) {
    loop {
        let item = tokio::select! {
            item = next_item(&mut blocks) => match item {
                Some(item) => item,
                None => return,
            },
            _ = closing.wait_for(|closing| *closing) => return,
            () = buffer.sender.closed() => return,
        };
        if buffer.offer(&item) == Offer::CutOff {
            return;
        }
    }
}

/// `GET /v1/events`: server-sent `finalized` events (data: the `ChainEvent` JSON) and `lagged` events.
#[utoipa::path(get, path = "/v1/events", tag = "chain",
    responses((status = 200, description = "`text/event-stream`: `finalized` events (data: a ChainEvent) and `lagged` events (data: a Lagged); comment lines keep an idle stream alive. A client that leaves 16 events (or 1 MiB) unread when the next block comes is cut off: its stream ends after a `lagged` event", body = StreamEvent, content_type = "text/event-stream"),
        (status = 503, body = ErrorBody, description = "As many streams as the node serves are open (`busy`): retry after `Retry-After` seconds",
            headers(("Retry-After" = u64, description = "The seconds to wait before retrying")))))]
pub async fn events(State(state): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let limits = state.inner.limits;
    let permit = state.inner.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::busy(format!(
            "{} event streams are open, as many as this node serves: retry in {} s",
            limits.event_streams,
            api_types::BUSY_RETRY_AFTER_SECONDS
        ))
    })?;
    let blocks = state.inner.events.subscribe();
    let closing = state.inner.closing.subscribe();
    let (buffer, receiver, bytes) = Buffer::new(&limits);
    tokio::spawn(async move {
        let _permit = permit;
        forward(blocks, closing, buffer).await;
    });
    let stream = ReceiverStream::new(receiver).map(move |queued| {
        bytes.fetch_sub(queued.data.len(), Ordering::AcqRel);
        Ok::<_, Infallible>(Event::default().event(queued.name).data(queued.data))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use governance_contracts::crypto::Digest;
    use governance_contracts::ids::{BlockHash, Height};
    use governance_contracts::testkit;

    use super::*;
    use crate::rpc::bridge::NodeStatus;
    use crate::storage::NodeStore;

    fn finalized(height: u64) -> ChainEvent {
        ChainEvent::Finalized {
            height: Height(height),
            hash: BlockHash(Digest::ZERO),
            time_ms: height,
            transactions: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Every event waiting in `receiver`, by name and height (`None` for a `lagged` event), and whether the
    /// sending side is gone.
    fn drain(receiver: &mut mpsc::Receiver<Queued>) -> (Vec<(&'static str, Option<u64>)>, bool) {
        let mut events = Vec::new();
        loop {
            match receiver.try_recv() {
                Ok(queued) => {
                    let data: serde_json::Value = serde_json::from_str(&queued.data).expect("JSON data");
                    events.push((queued.name, data["height"].as_u64()));
                }
                Err(mpsc::error::TryRecvError::Empty) => return (events, false),
                Err(mpsc::error::TryRecvError::Disconnected) => return (events, true),
            }
        }
    }

    /// A task that fell behind the shared channel's capacity is told how many events it missed, then goes on
    /// with the events still held; a closed channel ends the stream.
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

    /// A client that reads nothing gets at most its buffer's worth of events, then a `lagged` notice, and its
    /// stream ends there: its task stops however many more blocks come, holding nothing more.
    #[tokio::test]
    async fn a_client_that_leaves_its_buffer_full_is_cut_off() {
        let limits = ApiLimits { stream_buffer_events: 3, ..ApiLimits::default() };
        let (buffer, mut receiver, _bytes) = Buffer::new(&limits);
        let (blocks, reader) = broadcast::channel(64);
        let (_closing, closed) = watch::channel(false);
        for height in 1..=10 {
            blocks.send(finalized(height)).expect("the task listens");
        }
        forward(reader, closed, buffer).await;
        let (events, ended) = drain(&mut receiver);
        assert_eq!(events, [("finalized", Some(1)), ("finalized", Some(2)), ("finalized", Some(3)), ("lagged", None)]);
        assert!(ended, "the stream ends after the notice");
    }

    /// The buffer is bounded in bytes too: a client whose unread events would pass the bound is cut off, while
    /// one event larger than the bound still goes to a client that has read everything before it.
    #[test]
    fn the_buffer_is_bounded_in_bytes() {
        let one = Queued::of(&Item::Chain(finalized(1))).data.len();
        let limits = ApiLimits { stream_buffer_bytes: one.saturating_mul(2), ..ApiLimits::default() };
        let (buffer, mut receiver, bytes) = Buffer::new(&limits);
        assert_eq!(buffer.offer(&Item::Chain(finalized(1))), Offer::Queued);
        assert_eq!(buffer.offer(&Item::Chain(finalized(2))), Offer::Queued);
        assert_eq!(bytes.load(Ordering::Acquire), one.saturating_mul(2));
        assert_eq!(buffer.offer(&Item::Chain(finalized(3))), Offer::CutOff);
        drop(buffer);
        let (events, _) = drain(&mut receiver);
        assert_eq!(events, [("finalized", Some(1)), ("finalized", Some(2)), ("lagged", None)]);

        let small = ApiLimits { stream_buffer_bytes: 1, ..ApiLimits::default() };
        let (buffer, mut receiver, _) = Buffer::new(&small);
        assert_eq!(buffer.offer(&Item::Chain(finalized(7))), Offer::Queued, "alone, a large event still goes");
        assert_eq!(buffer.offer(&Item::Chain(finalized(8))), Offer::CutOff);
        drop(buffer);
        assert_eq!(drain(&mut receiver).0, [("finalized", Some(7)), ("lagged", None)]);
    }

    /// A client cut off gives its place back: with one stream allowed, a second is refused `busy` while the first
    /// is open, and served once the first, having read nothing, was cut off.
    #[tokio::test]
    async fn a_cut_off_client_frees_its_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let genesis = testkit::genesis(4);
        let store = NodeStore::open_with_genesis(dir.path(), &genesis).expect("the store opens");
        let limits = ApiLimits { event_streams: 1, stream_buffer_events: 2, ..ApiLimits::default() };
        let status = NodeStatus::starting(&genesis, testkit::node("n0"));
        let (state, runtime) = ApiState::with_channels_within(genesis, store.reader(), status, limits);

        let first = events(State(state.clone())).await.map(IntoResponse::into_response).expect("a place is free");
        let refused = events(State(state.clone())).await.err().expect("the one place is taken");
        assert_eq!((refused.body().code.as_str(), refused.retry_after()), ("busy", Some(1)));
        for height in 1..=3 {
            runtime.events.send(finalized(height)).expect("the first stream listens");
        }
        // The first client reads nothing: its task queues two events and is cut off at the third.
        let mut turns = 0u32;
        while state.inner.streams.available_permits() == 0 {
            assert!(turns < 100_000, "the cut-off stream never gave its place back");
            turns = turns.saturating_add(1);
            tokio::task::yield_now().await;
        }
        assert!(events(State(state)).await.is_ok(), "the freed place is taken by the next client");
        drop(first);
    }
}
