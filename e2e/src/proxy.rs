//! A TCP proxy for one direction of one p2p link, so a test can cut the link and heal it.
//!
//! The harness points each node's dial override for each peer at its own proxy ([`crate::Harness::proxy_links`]),
//! so every connection between two nodes passes through the proxy of whichever side dialled. Cutting a proxy
//! closes the connections passing through it and refuses new ones until it is healed; the nodes see what a broken
//! network shows them (a reset connection, then failed dials), and nothing else changes. The proxy copies bytes
//! and understands none of them: the Noise handshake and admission run end to end between the nodes.

use std::{
    io::{Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, anyhow};

/// How long the proxy waits to reach its target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One direction of one link: accepts on a loopback port and forwards to `target`.
pub struct LinkProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    target: SocketAddr,
    cut: AtomicBool,
    stopped: AtomicBool,
    /// Both ends of every connection passing through, to close them on a cut.
    streams: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn close_all(&self) {
        if let Ok(mut streams) = self.streams.lock() {
            for stream in streams.drain(..) {
                stream.shutdown(Shutdown::Both).ok();
            }
        }
    }
}

impl LinkProxy {
    /// Starts a proxy to `target` on a free loopback port.
    pub fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port for a link proxy")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            cut: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            streams: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        std::thread::Builder::new()
            .name(format!("proxy-{address}"))
            .spawn(move || accept_loop(&listener, &accepting))
            .context("cannot start a link proxy thread")?;
        Ok(Self { address, shared })
    }

    /// Where nodes dial to reach the target through this proxy.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Closes every connection through the proxy and refuses new ones until [`Self::heal`].
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        self.shared.close_all();
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Whether the proxy is cut.
    pub fn is_cut(&self) -> bool {
        self.shared.cut.load(Ordering::SeqCst)
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.close_all();
        // Wake the accepting thread so it sees the stop.
        TcpStream::connect_timeout(&self.address, CONNECT_TIMEOUT).ok();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for incoming in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(inbound) = incoming else { continue };
        if shared.cut.load(Ordering::SeqCst) {
            inbound.shutdown(Shutdown::Both).ok();
            continue;
        }
        if let Err(error) = forward(inbound, shared) {
            // A refused or failed forward looks to the dialler like a dropped connection, which is the point.
            let _ = error;
        }
    }
}

/// Connects to the target and copies bytes both ways on two threads until either side closes.
fn forward(inbound: TcpStream, shared: &Arc<Shared>) -> anyhow::Result<()> {
    let outbound = TcpStream::connect_timeout(&shared.target, CONNECT_TIMEOUT)
        .with_context(|| format!("cannot reach {}", shared.target))?;
    inbound.set_nodelay(true).ok();
    outbound.set_nodelay(true).ok();
    {
        let mut streams = shared.streams.lock().map_err(|_| anyhow!("the proxy's stream list is poisoned"))?;
        streams.push(inbound.try_clone()?);
        streams.push(outbound.try_clone()?);
    }
    // A cut that raced with the connect closes this connection too.
    if shared.cut.load(Ordering::SeqCst) {
        shared.close_all();
        return Ok(());
    }
    let (inbound_reader, outbound_writer) = (inbound.try_clone()?, outbound.try_clone()?);
    std::thread::spawn(move || pump(inbound_reader, outbound_writer));
    std::thread::spawn(move || pump(outbound, inbound));
    Ok(())
}

/// Copies `from` into `to` until either fails or `from` ends, then closes both.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let Some(chunk) = buffer.get(..n) else { break };
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
        }
    }
    from.shutdown(Shutdown::Both).ok();
    to.shutdown(Shutdown::Both).ok();
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    /// An echo server on loopback.
    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = listener.local_addr().expect("its address");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = stream.try_clone().expect("a clone");
                    let mut writer = stream;
                    io::copy(&mut reader, &mut writer).ok();
                });
            }
        });
        address
    }

    fn round_trip(address: SocketAddr) -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"ping")?;
        let mut answer = [0_u8; 4];
        stream.read_exact(&mut answer)?;
        Ok(answer.to_vec())
    }

    /// Bytes pass through an open proxy; a cut closes the connection already open and refuses new ones; a heal lets
    /// new ones through again.
    #[test]
    fn a_proxy_forwards_until_cut_and_again_once_healed() {
        let proxy = LinkProxy::start(echo()).expect("a proxy");
        assert_eq!(round_trip(proxy.address()).expect("through the proxy"), b"ping");

        let mut open = TcpStream::connect_timeout(&proxy.address(), CONNECT_TIMEOUT).expect("connects");
        open.set_read_timeout(Some(Duration::from_secs(2))).expect("a timeout");
        open.write_all(b"ping").expect("writes");
        let mut answer = [0_u8; 4];
        open.read_exact(&mut answer).expect("echoed");
        proxy.cut();
        assert!(proxy.is_cut());
        let mut rest = Vec::new();
        let after_cut = open.write_all(b"ping").and_then(|()| open.read_to_end(&mut rest));
        assert!(after_cut.is_err() || rest.is_empty(), "the open connection survived the cut: {rest:?}");
        assert!(round_trip(proxy.address()).is_err(), "a new connection got through a cut proxy");

        proxy.heal();
        assert_eq!(round_trip(proxy.address()).expect("through the healed proxy"), b"ping");
    }
}
