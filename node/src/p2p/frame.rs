//! Frames over an established Noise session.
//!
//! On the TCP stream every Noise message travels behind a two-byte big-endian length, so a message is at most
//! [`NOISE_MAX_MESSAGE`] bytes, of which [`NOISE_TAG_BYTES`] are the authentication tag. An application frame is a
//! four-byte big-endian length followed by that many payload bytes; it starts at the beginning of a Noise message
//! and is carried in as many consecutive messages as it needs, each filled up to [`MAX_CHUNK_PLAINTEXT`] bytes of
//! plaintext, the last possibly shorter. No message carries bytes of two frames.
//!
//! The reading side refuses a frame whose declared length is zero or above its limit as soon as it reads the
//! header, before allocating anything for the payload, and grows the payload buffer only as authenticated bytes
//! arrive, so a hostile length costs nothing. Decryption failure, a message that overruns its frame, a message too
//! short to hold a frame header, and a connection closed in the middle of a frame are all errors ([`FrameError`]);
//! nothing a peer sends panics the reader.
//!
//! [`FrameAssembler`] is the sans-IO part (plaintext chunks in, frames out), so it can be driven from any bytes; it
//! lives in the `p2p-frames` crate, which the fuzz targets build without the node's storage.

use std::io;
use std::sync::Arc;

use snow::StatelessTransportState;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

pub use p2p_frames::{
    FRAME_HEADER_BYTES, FrameAssembler, FrameError, MAX_CHUNK_PLAINTEXT, MAX_FRAME_BYTES, NOISE_MAX_MESSAGE,
    NOISE_TAG_BYTES, chunks,
};

/// Reads one length-prefixed Noise message into `buffer`; `Ok(None)` if the connection closed cleanly before it.
pub async fn read_message<R: AsyncRead + Unpin>(
    io: &mut R,
    buffer: &mut [u8; NOISE_MAX_MESSAGE],
) -> Result<Option<usize>, FrameError> {
    let mut len = [0u8; 2];
    if io.read(&mut len[..1]).await? == 0 {
        return Ok(None);
    }
    io.read_exact(&mut len[1..]).await.map_err(truncated)?;
    let len = usize::from(u16::from_be_bytes(len));
    io.read_exact(&mut buffer[..len]).await.map_err(truncated)?;
    Ok(Some(len))
}

/// Writes `message` with its two-byte length.
pub async fn write_message<W: AsyncWrite + Unpin>(io: &mut W, message: &[u8]) -> Result<(), FrameError> {
    let len = u16::try_from(message.len()).map_err(|_| FrameError::Malformed("a message over 65535 bytes"))?;
    let mut out = Vec::with_capacity(message.len().saturating_add(2));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    io.write_all(&out).await?;
    Ok(())
}

fn truncated(e: io::Error) -> FrameError {
    if e.kind() == io::ErrorKind::UnexpectedEof { FrameError::Truncated } else { FrameError::Io(e) }
}

/// The receiving half of a session: decrypts Noise messages and reassembles frames.
pub struct FrameReader<R> {
    io: R,
    session: Arc<StatelessTransportState>,
    nonce: u64,
    assembler: FrameAssembler,
    message: Box<[u8; NOISE_MAX_MESSAGE]>,
    plaintext: Box<[u8; NOISE_MAX_MESSAGE]>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader over `io` for `session`, refusing frames over `max` bytes.
    pub fn new(io: R, session: Arc<StatelessTransportState>, max: usize) -> Self {
        Self {
            io,
            session,
            nonce: 0,
            assembler: FrameAssembler::new(max),
            message: Box::new([0; NOISE_MAX_MESSAGE]),
            plaintext: Box::new([0; NOISE_MAX_MESSAGE]),
        }
    }

    /// Changes the frame limit for the frames that follow.
    pub fn set_max(&mut self, max: usize) {
        self.assembler.set_max(max);
    }

    /// The next frame's payload; `Ok(None)` if the peer closed the connection between frames.
    pub async fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        loop {
            let Some(len) = read_message(&mut self.io, &mut self.message).await? else {
                return if self.assembler.in_frame() { Err(FrameError::Truncated) } else { Ok(None) };
            };
            let plain = self
                .session
                .read_message(self.nonce, &self.message[..len], &mut self.plaintext[..])
                .map_err(|_| FrameError::Decrypt)?;
            self.nonce = self.nonce.checked_add(1).ok_or(FrameError::Malformed("receive nonces exhausted"))?;
            if let Some(frame) = self.assembler.push(&self.plaintext[..plain])? {
                return Ok(Some(frame));
            }
        }
    }
}

/// The sending half of a session: chunks frames and encrypts them.
pub struct FrameWriter<W> {
    io: W,
    session: Arc<StatelessTransportState>,
    nonce: u64,
    message: Box<[u8; NOISE_MAX_MESSAGE]>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer over `io` for `session`.
    pub fn new(io: W, session: Arc<StatelessTransportState>) -> Self {
        Self { io, session, nonce: 0, message: Box::new([0; NOISE_MAX_MESSAGE]) }
    }

    /// Sends one frame carrying `payload` (non-empty).
    pub async fn write_frame(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        for chunk in chunks(payload)? {
            self.write_chunk(&chunk).await?;
        }
        self.io.flush().await?;
        Ok(())
    }

    /// Sends one Noise message carrying exactly `plaintext` (at most [`MAX_CHUNK_PLAINTEXT`] bytes), whatever it
    /// holds: the building block of [`Self::write_frame`], public for tests and tools that must send malformed
    /// frames on purpose.
    pub async fn write_chunk(&mut self, plaintext: &[u8]) -> Result<(), FrameError> {
        let len = self
            .session
            .write_message(self.nonce, plaintext, &mut self.message[..])
            .map_err(|e| FrameError::Encrypt(e.to_string()))?;
        self.nonce = self.nonce.checked_add(1).ok_or(FrameError::Encrypt("send nonces exhausted".into()))?;
        write_message(&mut self.io, &self.message[..len]).await
    }

    /// The underlying stream (to send raw bytes in tests, or to shut it down).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.io
    }
}
