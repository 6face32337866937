//! A webhook receiver on loopback: accepts HTTP POSTs, answers 200 and keeps each body as JSON, so a test can wait
//! for the notice a console sends.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The largest body the receiver reads.
const MAX_BODY: usize = 1024 * 1024;

/// A receiver; stops accepting when dropped with the test.
pub struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
        let address = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(Some(body)) = read_request(stream)
                    && let Ok(mut list) = sink.lock()
                {
                    list.push(body);
                }
            }
        });
        Ok(Self { address, received })
    }

    /// The URL to register.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Waits until a received body satisfies `matches`, and returns it.
    pub fn wait_for(
        &self,
        timeout: Duration,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<serde_json::Value> {
        let end = crate::browser::deadline(timeout);
        loop {
            let list = self.received.lock().map_err(|_| anyhow::anyhow!("the receiver's list is poisoned"))?;
            if let Some(found) = list.iter().find(|body| matches(body)) {
                return Ok(found.clone());
            }
            if Instant::now() >= end {
                bail!("no matching webhook notice within {timeout:?}; received: {list:?}");
            }
            drop(list);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Reads one request, answers 200, and returns its body as JSON (`None` for a body that is not JSON).
fn read_request(mut stream: TcpStream) -> anyhow::Result<Option<serde_json::Value>> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0_usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("the connection closed inside the headers");
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().context("a bad Content-Length")?;
        }
    }
    if length > MAX_BODY {
        bail!("a body of {length} bytes");
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok(serde_json::from_slice(&body).ok())
}
