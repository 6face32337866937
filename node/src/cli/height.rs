//! Heights on the command line: absolute (`400`) or relative to the chain's current height (`+300`), so that a
//! command written down (in a README, a runbook) stays valid as the chain grows. A relative height is resolved by
//! asking a node for its current height (`--node-url URL`, default `$SYNOD_NODE`), once per command; without a
//! node it is an error that says what to pass.

use core::cell::Cell;
use core::fmt;
use core::str::FromStr;

use anyhow::{anyhow, bail};
use api_types::NodeStatus;
use governance_contracts::ids::Height;

use crate::client::Node;
use crate::client::http::expect_json;

/// A height as given: `H`, or `+N` for N blocks after the chain's current height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeightArg {
    /// The height itself.
    At(u64),
    /// Blocks after the chain's current height.
    Ahead(u64),
}

impl FromStr for HeightArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |digits: &str| {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<u64>().ok()
        };
        let parsed = match text.strip_prefix('+') {
            Some(blocks) => number(blocks).map(Self::Ahead),
            None => number(text).map(Self::At),
        };
        parsed.ok_or_else(|| {
            format!("{text:?} is not a height: give H, or +N for N blocks after the chain's current height")
        })
    }
}

impl fmt::Display for HeightArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::At(height) => write!(f, "{height}"),
            Self::Ahead(blocks) => write!(f, "+{blocks}"),
        }
    }
}

/// The option that names the node relative heights are counted from; flattened into the commands that take them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NodeUrl {
    /// The node's HTTP API (`http://HOST:PORT`), asked for the chain's current height when a height is given as
    /// `+N`.
    #[arg(long = "node-url", value_name = "URL", env = "SYNOD_NODE", global = true)]
    pub url: Option<String>,
}

/// Resolves heights for one command: absolute ones as given, relative ones from the current height of the node at
/// `url`, asked at most once.
#[derive(Debug)]
pub struct ChainHeight {
    url: Option<String>,
    current: Cell<Option<Height>>,
}

impl ChainHeight {
    /// Heights resolved against the node at `url`, when given.
    pub fn new(url: Option<&str>) -> Self {
        Self { url: url.map(str::to_owned), current: Cell::new(None) }
    }

    /// Heights resolved against the chain at `current`, without asking a node.
    pub fn at(current: Height) -> Self {
        Self { url: None, current: Cell::new(Some(current)) }
    }

    /// The height `arg` names; `flag` names the option in errors.
    pub fn resolve(&self, flag: &str, arg: HeightArg) -> anyhow::Result<Height> {
        match arg {
            HeightArg::At(height) => Ok(Height(height)),
            HeightArg::Ahead(blocks) => {
                let current = self.current(flag, arg)?;
                current
                    .0
                    .checked_add(blocks)
                    .map(Height)
                    .ok_or_else(|| anyhow!("{flag} {arg}: the chain's height {current} plus {blocks} overflows"))
            }
        }
    }

    /// The chain's current height: as given, or asked of the node.
    fn current(&self, flag: &str, arg: HeightArg) -> anyhow::Result<Height> {
        if let Some(height) = self.current.get() {
            return Ok(height);
        }
        let Some(url) = &self.url else {
            bail!(
                "{flag} {arg} counts from the chain's current height: give --node-url URL (or set SYNOD_NODE) so a \
                 node can be asked for it, or give an absolute height (`synod status` prints the current one)"
            );
        };
        let node = Node::new(url)?;
        let status: NodeStatus = expect_json(node.get("/v1/status", &[]), "status")
            .map_err(|e| anyhow!("{flag} {arg}: cannot ask {url} for the chain's current height: {e:#}"))?;
        self.current.set(Some(status.height));
        Ok(status.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `H` and `+N` parse, anything else (signs, spaces, words, an empty offset, overflow) is refused with the
    /// forms to use.
    #[test]
    fn heights_parse_absolute_or_relative() {
        assert_eq!("400".parse(), Ok(HeightArg::At(400)));
        assert_eq!("+300".parse(), Ok(HeightArg::Ahead(300)));
        assert_eq!("+0".parse(), Ok(HeightArg::Ahead(0)));
        for bad in ["", "+", "-5", "+-5", "++5", " 5", "5 ", "abc", "+1e3", "99999999999999999999"] {
            let error = bad.parse::<HeightArg>().unwrap_err();
            assert!(error.contains("+N for N blocks after the chain's current height"), "{bad:?}: {error}");
        }
        assert_eq!(HeightArg::Ahead(7).to_string(), "+7");
    }

    /// A relative height adds to the chain's current height and an absolute one ignores it; without a node, a
    /// relative height is an error naming the option and what to pass, and an absolute one needs no node.
    #[test]
    fn relative_heights_count_from_the_current_height() {
        let chain = ChainHeight::at(Height(489));
        assert_eq!(chain.resolve("--valid-until", HeightArg::Ahead(300)).unwrap(), Height(789));
        assert_eq!(chain.resolve("--valid-until", HeightArg::At(400)).unwrap(), Height(400));
        assert!(chain.resolve("--valid-until", HeightArg::Ahead(u64::MAX)).is_err());
        let offline = ChainHeight::new(None);
        assert_eq!(offline.resolve("--expires-at", HeightArg::At(9)).unwrap(), Height(9));
        let error = offline.resolve("--expires-at", HeightArg::Ahead(300)).unwrap_err().to_string();
        assert!(error.starts_with("--expires-at +300 counts from the chain's current height"), "{error}");
        assert!(error.contains("--node-url URL") && error.contains("SYNOD_NODE"), "{error}");
    }
}
