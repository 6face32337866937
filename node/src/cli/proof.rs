//! `synod verify-proof`: checks a record's proof bundle offline, from the genesis (or a checkpoint verified
//! before), and prints the record as it stood at the proven height. See `governance_contracts::types::proof`.

use std::path::PathBuf;

use anyhow::anyhow;
use governance_contracts::types::proof::{self, Checkpoint, ProofBundle, VerifiedRecord};

use super::files;

/// `synod verify-proof`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The proof bundle (JSON).
    #[arg(value_name = "BUNDLE.json")]
    pub bundle: PathBuf,
    /// The chain's genesis: the root of trust.
    #[arg(long, value_name = "FILE.json")]
    pub genesis: PathBuf,
    /// A checkpoint verified before (the `checkpoint` of an earlier `--json` output), to start from instead of
    /// the genesis; it must be for the same chain.
    #[arg(long, value_name = "FILE.json")]
    pub checkpoint: Option<PathBuf>,
    /// Print JSON (with the checkpoint to keep for later bundles).
    #[arg(long)]
    pub json: bool,
}

/// Verifies the bundle as `args` say.
pub fn verify_bundle(args: &VerifyArgs) -> anyhow::Result<VerifiedRecord> {
    let genesis = files::load_genesis(&args.genesis)?;
    let bundle: ProofBundle = files::read_json(&args.bundle, "proof bundle")?;
    let checkpoint = match &args.checkpoint {
        Some(path) => {
            let checkpoint: Checkpoint = files::read_json(path, "checkpoint file")?;
            if checkpoint.chain != genesis.identity() {
                return Err(anyhow!("checkpoint file {}: for another chain than the genesis", path.display()));
            }
            checkpoint
        }
        None => {
            Checkpoint::from_genesis(&genesis).map_err(|e| anyhow!("genesis file {}: {e}", args.genesis.display()))?
        }
    };
    proof::verify_from(&checkpoint, &bundle)
        .map_err(|e| anyhow!("proof bundle {}: does not verify: {e}", args.bundle.display()))
}

/// `synod verify-proof`: prints the verified record, or fails naming the check that failed.
pub fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let verified = verify_bundle(args)?;
    files::print(args.json, &verified, || {
        let value = match &verified.value {
            Some(value) => serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("(cannot print: {e})")),
            None => "absent: the proof shows it does not exist".to_owned(),
        };
        format!(
            "verified {} at height {} (block {}, state root {}, {} validator-set changes checked)\n{value}",
            verified.record, verified.height, verified.block, verified.state_root, verified.set_changes
        )
    })
}
