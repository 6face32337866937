//! The offline CLI: everything an administrator or operator does without a node. Keys, the genesis ceremony,
//! proposals, approvals and signed transactions are made here as files; another machine (or `synod tx submit`)
//! carries them to a node.
//!
//! - [`keys`]: `synod keygen`, `synod key show`, `synod key rotate` (a node's own key rotation, generated in its
//!   home so the new private key never travels).
//! - [`genesis`]: `synod org init` (one organisation's public file), `synod genesis` (combine them),
//!   `synod genesis hash`.
//! - [`proposal`]: `synod proposal draft|show|sign`.
//! - [`tx`]: `synod tx build|show`.
//! - [`proof`]: `synod verify-proof`.
//! - [`describe`]: actions and transactions in plain words; [`files`]: bounded reads and careful writes;
//!   [`home`]: a node home's paths; [`height`]: heights given as `H` or as `+N` blocks after the chain's current
//!   height, asked of a node.
//!
//! Every file written is pretty-printed JSON of the contracts' own types, except keys (PKCS#8 PEM). All signing
//! goes through the digest functions of `governance_contracts`, so the CLI, the node and the console agree on
//! every digest. Every command that prints data takes `--json`.

pub mod describe;
pub mod files;
pub mod genesis;
pub mod height;
pub mod home;
pub mod keys;
pub mod login;
pub mod proof;
pub mod proposal;
pub mod tx;

use anyhow::{anyhow, bail};
use governance_contracts::ids::Height;
use height::{ChainHeight, HeightArg, NodeUrl};

/// How long a transaction stays valid: `--valid-until H` (or `+N`, counted from the chain's current height as a
/// node reports it), or `--height H` (the chain's current height) with `--valid-for N` blocks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Validity {
    /// The last height at which the transaction may be included (at most the chain's `max_tx_ttl` ahead of the
    /// height it is included at): `H`, or `+N` for N blocks after the chain's current height, asked of
    /// --node-url.
    #[arg(long, value_name = "H|+N", global = true)]
    pub valid_until: Option<HeightArg>,
    /// The chain's current height (`synod status` shows it); the transaction is valid for --valid-for blocks after
    /// it.
    #[arg(long, value_name = "H", global = true, conflicts_with = "valid_until")]
    pub height: Option<u64>,
    /// With --height: how many blocks the transaction stays valid [default: 100].
    #[arg(long, value_name = "N", global = true, conflicts_with = "valid_until")]
    pub valid_for: Option<u64>,
    /// The node asked for the chain's current height, for heights given as `+N`.
    #[command(flatten)]
    pub node: NodeUrl,
}

/// Blocks a transaction stays valid after `--height` when `--valid-for` is not given.
pub const DEFAULT_VALID_FOR: u64 = 100;

impl Validity {
    /// What resolves this command's heights: the node of `--node-url`, if given.
    pub fn heights(&self) -> ChainHeight {
        ChainHeight::new(self.node.url.as_deref())
    }

    /// The transaction's last valid height, relative heights resolved by `heights`.
    pub fn valid_until(&self, heights: &ChainHeight) -> anyhow::Result<Height> {
        match (self.valid_until, self.height, self.valid_for) {
            (Some(until), None, None) => heights.resolve("--valid-until", until),
            (None, Some(height), valid_for) => {
                let blocks = valid_for.unwrap_or(DEFAULT_VALID_FOR);
                if blocks == 0 {
                    bail!("--valid-for must be at least 1 block");
                }
                height.checked_add(blocks).map(Height).ok_or_else(|| anyhow!("--height plus --valid-for overflows"))
            }
            (None, None, Some(_)) => bail!("--valid-for needs --height H (the chain's current height)"),
            _ => bail!(
                "give --valid-until H, or --valid-until +N with --node-url URL (N blocks after the chain's current \
                 height), or --height H (the chain's current height) with an optional --valid-for N"
            ),
        }
    }
}

/// A fresh random salt for a proposal, so that two otherwise identical drafts get different ids.
pub fn random_salt() -> anyhow::Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness from the operating system: {e}"))?;
    Ok(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--valid-until H` is taken as given and `+N` counts from the chain's height, `--height` adds `--valid-for`
    /// (100 by default), and a missing or half-given validity is an error that says what to give.
    #[test]
    fn validity_forms() {
        let heights = ChainHeight::at(Height(489));
        let v = |valid_until: Option<u64>, height, valid_for| {
            let valid_until = valid_until.map(HeightArg::At);
            Validity { valid_until, height, valid_for, node: NodeUrl::default() }.valid_until(&heights)
        };
        assert_eq!(v(Some(7), None, None).unwrap(), Height(7));
        let relative = Validity { valid_until: Some(HeightArg::Ahead(300)), ..Validity::default() };
        assert_eq!(relative.valid_until(&heights).unwrap(), Height(789));
        assert_eq!(v(None, Some(10), None).unwrap(), Height(110));
        assert_eq!(v(None, Some(10), Some(5)).unwrap(), Height(15));
        assert!(v(None, None, None).unwrap_err().to_string().contains("--valid-until"));
        assert!(v(None, None, Some(5)).unwrap_err().to_string().contains("--height"));
        assert!(v(None, Some(u64::MAX), Some(1)).is_err());
        assert!(v(None, Some(1), Some(0)).is_err());
    }
}
