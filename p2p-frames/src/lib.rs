//! Synod's p2p framing, sans IO: how application frames are cut into, and reassembled from, the plaintext of
//! consecutive Noise messages.
//!
//! On the TCP stream every Noise message travels behind a two-byte big-endian length, so a message is at most
//! [`NOISE_MAX_MESSAGE`] bytes, of which [`NOISE_TAG_BYTES`] are the authentication tag. An application frame is a
//! four-byte big-endian length followed by that many payload bytes; it starts at the beginning of a Noise message
//! and is carried in as many consecutive messages as it needs, each filled up to [`MAX_CHUNK_PLAINTEXT`] bytes of
//! plaintext, the last possibly shorter. No message carries bytes of two frames.
//!
//! [`FrameAssembler`] refuses a frame whose declared length is zero or above its limit as soon as it reads the
//! header, before allocating anything for the payload, and grows the payload buffer only as bytes arrive, so a
//! hostile length costs nothing. Nothing a peer sends panics it. This crate has no dependency on the node's storage
//! or runtime, so the fuzz target for it builds in seconds; the node's `p2p::frame` adds the Noise encryption and
//! the async reader and writer on top.

use std::io;

/// Largest Noise message, tag included (the Noise specification's limit).
pub const NOISE_MAX_MESSAGE: usize = 65_535;
/// Bytes of authentication tag in each encrypted Noise message (ChaCha20-Poly1305).
pub const NOISE_TAG_BYTES: usize = 16;
/// Most plaintext bytes one Noise message carries.
pub const MAX_CHUNK_PLAINTEXT: usize = NOISE_MAX_MESSAGE - NOISE_TAG_BYTES;
/// Bytes of the length header in front of each frame.
pub const FRAME_HEADER_BYTES: usize = 4;

/// The largest frame payload: 4 MiB, the largest input the canonical decoder accepts
/// (`governance_contracts::codec::MAX_DECODE_BYTES`, which the node's wire decoder applies and checks equal).
///
/// The largest message a node must send is one block or one sync pair. A block's transactions are capped by the
/// chain's `max_block_bytes` at 3 MiB (3 × 1024 × 1024 bytes), and its header, with the round and proposer of the
/// proposal it travels with, takes under 1 KiB. A sync pair adds the block's commit certificate: at most 1,024
/// signatures of at most 133 bytes each (a node id of up to 64 bytes, an Ed25519 signature), about 135 KiB. Both
/// fit with room to spare. A sync response of several pairs, or a transaction relay, that does not fit is split by
/// the sender into several messages of the same kind (the node's `wire::encode_frames`), each valid on its own.
/// A connection therefore holds at most one partial frame of this size in memory.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The connection failed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The connection closed in the middle of a Noise message or a frame.
    #[error("connection closed in the middle of a frame")]
    Truncated,
    /// A frame declared a length above the limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not follow the framing rules.
    #[error("malformed framing: {0}")]
    Malformed(&'static str),
    /// A Noise message did not decrypt (tampered, replayed, or not encrypted under this session at all).
    #[error("a message failed to decrypt")]
    Decrypt,
    /// Encryption failed or the session's nonces are exhausted.
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

/// Reassembles frames from the plaintext of consecutive Noise messages. Sans-IO: feed it chunks, get frames.
#[derive(Debug)]
pub struct FrameAssembler {
    max: usize,
    expected: Option<usize>,
    buffer: Vec<u8>,
}

impl FrameAssembler {
    /// An assembler refusing frames longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self { max, expected: None, buffer: Vec::new() }
    }

    /// Changes the limit for the frames that follow.
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// Whether a frame has begun and not yet completed.
    pub fn in_frame(&self) -> bool {
        self.expected.is_some()
    }

    /// Takes the plaintext of the next Noise message; returns the completed frame's payload, if this chunk
    /// completed one.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        if chunk.is_empty() {
            return Err(FrameError::Malformed("an empty message"));
        }
        let (expected, body) = match self.expected {
            Some(expected) => (expected, chunk),
            None => {
                let Some((header, body)) = chunk.split_first_chunk::<FRAME_HEADER_BYTES>() else {
                    return Err(FrameError::Malformed("a message too short to hold a frame header"));
                };
                let len = usize::try_from(u32::from_be_bytes(*header)).unwrap_or(usize::MAX);
                if len == 0 {
                    return Err(FrameError::Malformed("a frame of zero bytes"));
                }
                if len > self.max {
                    return Err(FrameError::TooLarge { len, max: self.max });
                }
                self.expected = Some(len);
                self.buffer = Vec::new();
                (len, body)
            }
        };
        let total = self.buffer.len().saturating_add(body.len());
        if total > expected {
            return Err(FrameError::Malformed("a message runs past the end of its frame"));
        }
        self.buffer.extend_from_slice(body);
        if total == expected {
            self.expected = None;
            return Ok(Some(std::mem::take(&mut self.buffer)));
        }
        Ok(None)
    }
}

/// Splits a frame payload into the plaintext chunks of its Noise messages: the first starts with the length
/// header. Fails if the payload is empty or longer than `u32::MAX` bytes.
pub fn chunks(payload: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Malformed("a frame of zero bytes"));
    }
    let len = u32::try_from(payload.len()).map_err(|_| FrameError::TooLarge { len: payload.len(), max: 0 })?;
    let first_body = payload.len().min(MAX_CHUNK_PLAINTEXT.saturating_sub(FRAME_HEADER_BYTES));
    let (head, rest) = payload.split_at(first_body);
    let mut first = Vec::with_capacity(FRAME_HEADER_BYTES.saturating_add(head.len()));
    first.extend_from_slice(&len.to_be_bytes());
    first.extend_from_slice(head);
    let mut out = vec![first];
    out.extend(rest.chunks(MAX_CHUNK_PLAINTEXT).map(<[u8]>::to_vec));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reassemble(max: usize, payload: &[u8]) -> Vec<u8> {
        let mut assembler = FrameAssembler::new(max);
        let parts = chunks(payload).unwrap();
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            assert!(part.len() <= MAX_CHUNK_PLAINTEXT);
            let out = assembler.push(part).unwrap();
            if i == last {
                return out.expect("the last chunk completes the frame");
            }
            assert!(out.is_none(), "no frame before the last chunk");
        }
        unreachable!("chunks is never empty")
    }

    /// Frames of every size around the chunk boundaries split into full chunks and reassemble to the same bytes.
    #[test]
    fn frames_round_trip_across_chunk_boundaries() {
        let first = MAX_CHUNK_PLAINTEXT - FRAME_HEADER_BYTES;
        for len in [1, 100, first - 1, first, first + 1, first + MAX_CHUNK_PLAINTEXT, 3 * MAX_CHUNK_PLAINTEXT + 7] {
            let payload: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            assert_eq!(reassemble(MAX_FRAME_BYTES, &payload), payload, "length {len}");
        }
    }

    /// A header declaring more than the limit is refused at once, before any payload is buffered.
    #[test]
    fn oversized_header_is_refused_before_allocating() {
        let mut assembler = FrameAssembler::new(1_000);
        let mut chunk = 1_001u32.to_be_bytes().to_vec();
        chunk.push(0);
        assert!(matches!(assembler.push(&chunk), Err(FrameError::TooLarge { len: 1_001, max: 1_000 })));
        let huge = u32::MAX.to_be_bytes();
        assert!(matches!(assembler.push(&huge), Err(FrameError::TooLarge { .. })));
        assert_eq!(assembler.buffer.capacity(), 0);
    }

    /// Short headers, empty messages, zero-length frames and messages overrunning their frame are malformed.
    #[test]
    fn malformed_chunks_are_refused() {
        assert!(matches!(FrameAssembler::new(10).push(&[]), Err(FrameError::Malformed(_))));
        assert!(matches!(FrameAssembler::new(10).push(&[0, 0, 1]), Err(FrameError::Malformed(_))));
        assert!(matches!(FrameAssembler::new(10).push(&0u32.to_be_bytes()), Err(FrameError::Malformed(_))));
        let mut overrun = 2u32.to_be_bytes().to_vec();
        overrun.extend_from_slice(&[1, 2, 3]);
        assert!(matches!(FrameAssembler::new(10).push(&overrun), Err(FrameError::Malformed(_))));
        let mut assembler = FrameAssembler::new(10);
        let mut start = 4u32.to_be_bytes().to_vec();
        start.push(9);
        assert!(assembler.push(&start).unwrap().is_none());
        assert!(assembler.in_frame());
        assert!(matches!(assembler.push(&[1, 2, 3, 4]), Err(FrameError::Malformed(_))));
    }

    /// A frame cannot be empty, so the writer refuses to send one.
    #[test]
    fn empty_payload_is_refused() {
        assert!(matches!(chunks(&[]), Err(FrameError::Malformed(_))));
    }
}
