//! `synod proof KIND ID --out FILE`: fetches a record's proof bundle (`GET /v1/proofs/{kind}/{id}`) and saves it,
//! as the node sent it, for `synod verify-proof` to check offline against the genesis. The bundle is decoded
//! before it is saved, and must be for the record asked for; nothing is trusted here, the verification is
//! `verify-proof`'s.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use api_types::ProofKind;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use governance_contracts::types::{ProofBundle, RecordKey};

use super::NodeArgs;
use super::http::{Answer, segment};
use super::query::MAX_ID_CHARS;
use crate::cli::files;

/// Whether `record` is of kind `kind`.
fn is_kind(kind: ProofKind, record: &RecordKey) -> bool {
    matches!(
        (kind, record),
        (ProofKind::Member, RecordKey::Member { .. })
            | (ProofKind::Node, RecordKey::Node { .. })
            | (ProofKind::Account, RecordKey::Account { .. })
            | (ProofKind::Grant, RecordKey::Grant { .. })
            | (ProofKind::Anchor, RecordKey::Anchor { .. })
    )
}

/// `KIND`: exactly the kinds the node has a proof route for.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = ProofKind> {
    PossibleValuesParser::new(ProofKind::names()).try_map(|name: String| name.parse::<ProofKind>())
}

/// `synod proof`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProofArgs {
    /// The kind of record.
    #[arg(value_name = "KIND", value_parser = kind_parser())]
    pub kind: ProofKind,
    /// The record's id; for a grant `ACCOUNT:ROLE`.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Where to save the bundle.
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// The node and the output form (`--json` prints the bundle too).
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `synod proof`: saves the bundle and says what it proves at which height.
pub fn proof(args: &ProofArgs) -> anyhow::Result<()> {
    let id = args.id.trim();
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        bail!("the record id must have 1 to {MAX_ID_CHARS} characters");
    }
    if args.kind == ProofKind::Grant && !id.contains(':') {
        bail!("a grant is named ACCOUNT:ROLE, not {id:?}");
    }
    files::check_writable(&args.out, args.force)?;
    let kind = args.kind.as_str();
    let node = args.node.connect()?;
    let answer = node
        .get(&format!("/v1/proofs/{kind}/{}", segment(id)), &[])
        .and_then(Answer::success)
        .with_context(|| format!("fetching the proof of {kind} {id}"))?;
    let bundle: ProofBundle = answer.json("proof bundle")?;
    if !is_kind(args.kind, &bundle.record) {
        bail!("the node sent a proof of {} when asked for {kind} {id}", bundle.record);
    }
    files::write_file(&args.out, &answer.body, args.force, false)?;
    if args.node.json {
        println!("{}", answer.json_text("proof bundle")?);
    } else {
        println!(
            "saved the proof of {} at height {} to {} (check it with `synod verify-proof {} --genesis GENESIS.json`)",
            bundle.record,
            bundle.header.header.height,
            args.out.display(),
            args.out.display()
        );
    }
    Ok(())
}
