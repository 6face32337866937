//! The bodies of Synod's fuzz targets. Each takes arbitrary bytes, must never panic on them, and checks a property
//! that holds for every input; a failed check panics, which is how a fuzzer reports it.
//!
//! - [`canonical_decode`]: the canonical decoder (`governance_contracts::codec::decode`) over every type a node,
//!   the console or the CLI decodes from untrusted bytes. Whatever decodes re-encodes to exactly the input: one
//!   encoding per value, so hashes and signatures over the bytes mean one thing.
//! - [`frame_assembler`]: the p2p frame reader's reassembly (`p2p_frames::FrameAssembler`) fed a stream of
//!   message plaintexts cut from the input. A completed frame is never longer than the limit nor empty, and a frame
//!   split by `p2p_frames::chunks` reassembles to itself.
//! - [`rpc_bodies`]: the HTTP API's request bodies, which are the same types read as JSON or as canonical bytes
//!   (`POST /v1/transactions` takes a signed transaction, `POST /v1/proposals/dry-run` a proposal). A JSON body that
//!   parses serialises back to a value that parses to the same thing, and its canonical bytes decode to it. The
//!   genesis file the node, the CLI and the console read is checked the same way.
//!
//! `fuzz/` holds the cargo-fuzz crate that drives these with libFuzzer (`cargo fuzz run <target>`, on a toolchain
//! that allows `-Z` flags), its corpora, and the inputs of every crash found, which `tests/replay.rs` replays on the
//! stable toolchain with the rest of the tests.

use std::fmt::Debug;

use borsh::{BorshDeserialize, BorshSerialize};
use governance_contracts::codec::{decode, encode};
use governance_contracts::types::{
    Approval, Block, CommitCertificate, ConsensusProposal, ConsensusVote, Genesis, HandshakeStatement, KeyProof,
    LoginChallenge, ProofBundle, Proposal, Receipt, SignedTransaction,
};
use p2p_frames::{FrameAssembler, chunks};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A fuzz target: takes any bytes, panics only when a check fails.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/fuzz_targets/<name>.rs` and the corpus directories call them.
pub const TARGETS: [(&str, Target); 3] =
    [("canonical_decode", canonical_decode), ("frame_assembler", frame_assembler), ("rpc_bodies", rpc_bodies)];

/// Decodes `bytes` as a `T`; if that succeeds, checks that the value encodes back to exactly `bytes`.
fn round_trip<T: BorshSerialize + BorshDeserialize + Debug>(bytes: &[u8]) {
    if let Ok(value) = decode::<T>(bytes) {
        let again = encode(&value);
        assert_eq!(again, bytes, "{} decoded from bytes it does not encode to: {value:?}", std::any::type_name::<T>());
    }
}

/// The canonical decoder over every type read from untrusted bytes. The first byte picks the type (so the fuzzer
/// explores each one's grammar), the rest is the encoding.
pub fn canonical_decode(data: &[u8]) {
    let Some((which, bytes)) = data.split_first() else { return };
    match which % 12 {
        0 => round_trip::<SignedTransaction>(bytes),
        1 => round_trip::<Proposal>(bytes),
        2 => round_trip::<Approval>(bytes),
        3 => round_trip::<Block>(bytes),
        4 => round_trip::<CommitCertificate>(bytes),
        5 => round_trip::<ConsensusVote>(bytes),
        6 => round_trip::<ConsensusProposal>(bytes),
        7 => round_trip::<KeyProof>(bytes),
        8 => round_trip::<ProofBundle>(bytes),
        9 => round_trip::<Receipt>(bytes),
        10 => round_trip::<HandshakeStatement>(bytes),
        _ => round_trip::<LoginChallenge>(bytes),
    }
}

/// The limit the frame target runs the assembler with: small, so the fuzzer reaches it.
const FUZZ_MAX_FRAME: usize = 4_096;

/// The frame reader's reassembly over a stream of message plaintexts: each message is a one-byte length (0 to 255)
/// followed by that many bytes of the input. After an error the reader drops the connection, so the stream ends
/// there. The input as a whole is also split with `chunks` and must reassemble to itself.
pub fn frame_assembler(data: &[u8]) {
    let mut assembler = FrameAssembler::new(FUZZ_MAX_FRAME);
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        let (message, after) = tail.split_at(take);
        rest = after;
        match assembler.push(message) {
            Ok(Some(frame)) => {
                assert!(!frame.is_empty(), "an empty frame was completed");
                assert!(
                    frame.len() <= FUZZ_MAX_FRAME,
                    "a frame of {} bytes passed a limit of {FUZZ_MAX_FRAME}",
                    frame.len()
                );
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
    if !data.is_empty() {
        let parts = match chunks(data) {
            Ok(parts) => parts,
            Err(e) => panic!("a frame of {} bytes could not be split: {e}", data.len()),
        };
        let mut whole = FrameAssembler::new(data.len());
        let mut completed = None;
        for part in &parts {
            match whole.push(part) {
                Ok(Some(frame)) => completed = Some(frame),
                Ok(None) => {}
                Err(e) => panic!("a frame split by `chunks` was refused: {e}"),
            }
        }
        assert_eq!(completed.as_deref(), Some(data), "a frame split by `chunks` did not reassemble to itself");
    }
}

/// Parses `bytes` as JSON `T`; if that succeeds, checks that the value's JSON parses to the same value and that
/// its canonical bytes decode to it.
fn json_round_trip<T: Serialize + DeserializeOwned + BorshSerialize + BorshDeserialize + PartialEq + Debug>(
    bytes: &[u8],
) {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else { return };
    let json = match serde_json::to_vec(&value) {
        Ok(json) => json,
        Err(e) => panic!("{} parsed from JSON cannot be written as JSON: {e}", std::any::type_name::<T>()),
    };
    match serde_json::from_slice::<T>(&json) {
        Ok(again) => assert_eq!(again, value, "{}'s JSON does not parse back to it", std::any::type_name::<T>()),
        Err(e) => panic!("{}'s own JSON does not parse: {e}", std::any::type_name::<T>()),
    }
    match decode::<T>(&encode(&value)) {
        Ok(again) => {
            assert_eq!(again, value, "{}'s canonical bytes decode to another value", std::any::type_name::<T>())
        }
        Err(e) => panic!("{}'s canonical bytes do not decode: {e}", std::any::type_name::<T>()),
    }
}

/// The API's request bodies: the first byte picks the body and its form (JSON or canonical bytes), the rest is the
/// body.
pub fn rpc_bodies(data: &[u8]) {
    let Some((which, body)) = data.split_first() else { return };
    match which % 5 {
        0 => json_round_trip::<SignedTransaction>(body),
        1 => json_round_trip::<Proposal>(body),
        2 => round_trip::<SignedTransaction>(body),
        3 => round_trip::<Proposal>(body),
        _ => json_round_trip::<Genesis>(body),
    }
}
