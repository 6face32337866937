//! Idle TCP connections to nodes' p2p ports: a client that connects and never says a word, as a slow or hostile
//! host does to tie up a node's pending handshakes.
//!
//! [`IdleConnections::open`] binds each connection to a source address of the test's choosing (any of loopback's
//! `127.0.0.0/8` on Linux), so a node sees them all come from one host that is not a peer. A thread keeps the
//! count up: a connection the node closes (at its handshake timeout, say) is opened again, until
//! [`IdleConnections::stop`].

// Counters stay far below overflow.
#![allow(clippy::arithmetic_side_effects)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use tokio::net::{TcpSocket, TcpStream};

/// How often closed connections are looked for and opened again.
const CHECK_EVERY: Duration = Duration::from_millis(200);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Idle connections held open against a set of addresses.
pub struct IdleConnections {
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl IdleConnections {
    /// Opens `per_target` connections from `source` to each of `targets` and keeps them open; fails if the first
    /// round cannot open a single one.
    pub fn open(source: IpAddr, targets: &[SocketAddr], per_target: usize) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot build a runtime for the idle connections")?;
        let stop = Arc::new(AtomicBool::new(false));
        let opened = Arc::new(AtomicU64::new(0));
        let mut slots: Vec<(SocketAddr, Option<TcpStream>)> =
            targets.iter().flat_map(|target| (0..per_target).map(|_| (*target, None))).collect();
        runtime.block_on(refill(source, &mut slots, &opened));
        if opened.load(Ordering::Relaxed) == 0 && !slots.is_empty() {
            return Err(anyhow!("no idle connection from {source} to {targets:?} could be opened"));
        }
        let thread = {
            let (stop, opened) = (Arc::clone(&stop), Arc::clone(&opened));
            std::thread::Builder::new()
                .name("idle-connections".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(CHECK_EVERY);
                        runtime.block_on(refill(source, &mut slots, &opened));
                    }
                })
                .context("cannot start the idle connections' thread")?
        };
        Ok(Self { stop, opened, thread: Some(thread) })
    }

    /// How many connections were opened so far, the first round and every reopening.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Closes every connection.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // A panic in the thread leaves nothing to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for IdleConnections {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Opens the connection of every slot that has none or whose connection the other end closed.
async fn refill(source: IpAddr, slots: &mut [(SocketAddr, Option<TcpStream>)], opened: &AtomicU64) {
    for (target, slot) in slots.iter_mut() {
        if slot.as_ref().is_some_and(is_open) {
            continue;
        }
        *slot = connect(source, *target).await;
        if slot.is_some() {
            opened.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whether the other end has not closed `stream` (it never sends to an idle client; anything read is discarded).
fn is_open(stream: &TcpStream) -> bool {
    let mut buffer = [0u8; 256];
    match stream.try_read(&mut buffer) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
    }
}

/// A connection from `source` (any port) to `target`, or none if it cannot be made in time.
async fn connect(source: IpAddr, target: SocketAddr) -> Option<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .ok()?;
    socket.bind(SocketAddr::new(source, 0)).ok()?;
    tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(target)).await.ok()?.ok()
}
