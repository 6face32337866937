//! Writes seed inputs for the fuzz targets into `fuzz/corpus/<target>/`: valid encodings of the values each target
//! reads (a genesis, a signed transaction, a proposal and its approval, frames split into messages), each behind the
//! selector byte its target expects, so the fuzzer starts from inputs that reach deep into each grammar.
//!
//! `cargo run -p fuzz-targets --example seeds`

use std::path::{Path, PathBuf};

use governance_contracts::codec::{BoundedString, BoundedVec, encode};
use governance_contracts::ids::{Height, RoleId};
use governance_contracts::testkit::{account, genesis, secret};
use governance_contracts::types::{Action, Payload, Principal, Proposal, RoleDefinition, RoleScope, Transaction};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target)
}

fn write(target: &str, name: &str, selector: Option<u8>, body: &[u8]) -> std::io::Result<()> {
    let dir = corpus(target);
    std::fs::create_dir_all(&dir)?;
    let mut bytes = selector.map(|s| vec![s]).unwrap_or_default();
    bytes.extend_from_slice(body);
    std::fs::write(dir.join(format!("seed-{name}")), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let genesis = genesis(4);
    let chain = genesis.identity();
    let proposal = Proposal {
        proposer: Principal::Account(account("m0-gov")),
        title: BoundedString::try_new("seed")?,
        description: BoundedString::try_new("a seed for the fuzzer")?,
        actions: BoundedVec::try_new(vec![Action::DefineRole {
            role: RoleId::new("seed-role")?,
            definition: RoleDefinition { scope: RoleScope::Alliance, delegable: true, max_grant_blocks: 100 },
        }])?,
        expires_at: Height(1_000),
        salt: 7,
    };
    let approval = proposal.approve(&chain, account("m0-gov"), &secret("m0-gov"));
    let tx = Transaction {
        sender: Principal::Account(account("m0-gov")),
        valid_until: Height(100),
        payload: Payload::SubmitProposal {
            proposal: proposal.clone(),
            approvals: BoundedVec::try_new(vec![approval.clone()])?,
        },
    }
    .sign(&chain, &secret("m0-gov"));

    write("canonical_decode", "transaction", Some(0), &encode(&tx))?;
    write("canonical_decode", "proposal", Some(1), &encode(&proposal))?;
    write("canonical_decode", "approval", Some(2), &encode(&approval))?;
    write("rpc_bodies", "transaction-json", Some(0), &serde_json::to_vec(&tx)?)?;
    write("rpc_bodies", "proposal-json", Some(1), &serde_json::to_vec(&proposal)?)?;
    write("rpc_bodies", "transaction-bytes", Some(2), &encode(&tx))?;
    write("rpc_bodies", "proposal-bytes", Some(3), &encode(&proposal))?;
    write("rpc_bodies", "genesis-json", Some(4), &serde_json::to_vec(&genesis)?)?;

    // Frames: messages as the frame target reads them (a length byte, then the message).
    let mut stream = Vec::new();
    for chunk in p2p_frames::chunks(b"a frame split over one message")? {
        stream.push(u8::try_from(chunk.len())?);
        stream.extend_from_slice(&chunk);
    }
    write("frame_assembler", "one-frame", None, &stream)?;
    let mut split = Vec::new();
    let mut header = 40_u32.to_be_bytes().to_vec();
    header.extend_from_slice(&[1; 20]);
    for message in [header, vec![2; 20]] {
        split.push(u8::try_from(message.len())?);
        split.extend_from_slice(&message);
    }
    write("frame_assembler", "two-messages", None, &split)?;
    Ok(())
}
