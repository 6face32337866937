//! A node's home directory and its configuration file.
//!
//! ```text
//! HOME/config.toml       this file (below)
//! HOME/genesis.json      the chain's genesis
//! HOME/keys/node-N.pem   every node key the node has held, numbered from 0; the node loads them all and signs
//!                        with the one the chain lists for it (a rotation adds the next number). Each must be a
//!                        regular file only its owner may read (mode 600), in a directory only its owner may
//!                        write into; a symbolic link is refused (see `key_files`)
//! HOME/data/             the RocksDB store and the node's other state
//! HOME/node.log          written by `synod up`, not by the node
//! ```
//!
//! `config.toml`:
//!
//! ```toml
//! node = "n1"                      # the node's id, as admitted on chain
//!
//! [p2p]
//! listen = "127.0.0.1:7701"        # where peers connect
//! [p2p.dial]                       # optional: dial these addresses instead of the ones governance recorded
//! n2 = "127.0.0.1:17702"           #   (`host:port`, by the rule governance applies to node addresses)
//!
//! [api]
//! listen = "127.0.0.1:8701"        # the HTTP API
//! # tls_cert = "tls/cert.pem"      # optional: serve it over TLS with this certificate chain (PEM) and key
//! # tls_key = "tls/key.pem"        #   (relative paths are inside HOME)
//!
//! [readiness]
//! attest = true                    # post the readiness attestation once synced (default true)
//! ```
//!
//! Unknown keys are refused, so a misspelt setting is an error rather than silently ignored. The file is read up
//! to [`MAX_CONFIG_BYTES`], holds at most [`MAX_DIAL_OVERRIDES`] dial overrides, and its only numbers, the ports
//! of its addresses, are checked as such (a port past 65535 is refused, the line named); no text, however
//! malformed or deeply nested, makes parsing panic. Flags of `synod node` override the file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::ids::NodeId;
use governance_contracts::text::check_network_address;
use serde::{Deserialize, Serialize};

pub use super::key_files::load_keys;
use super::read_bounded;

/// Largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;
/// Most key files a home's `keys` directory may hold.
pub const MAX_KEY_FILES: usize = 64;
/// Most `[p2p.dial]` overrides a configuration may hold.
pub const MAX_DIAL_OVERRIDES: usize = 1_024;

/// The configuration file's path in a home.
pub fn config_path(home: &Path) -> PathBuf {
    home.join("config.toml")
}

/// The genesis file's path in a home.
pub fn genesis_path(home: &Path) -> PathBuf {
    home.join("genesis.json")
}

/// The key directory of a home.
pub fn keys_dir(home: &Path) -> PathBuf {
    home.join("keys")
}

/// The path of the node's `index`-th key in a home.
pub fn key_path(home: &Path, index: u32) -> PathBuf {
    keys_dir(home).join(format!("node-{index}.pem"))
}

/// The data directory of a home.
pub fn data_dir(home: &Path) -> PathBuf {
    home.join("data")
}

/// `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The node's id, as admitted on chain.
    pub node: String,
    /// Peer-to-peer settings.
    pub p2p: P2pSection,
    /// HTTP API settings.
    pub api: ApiSection,
    /// Readiness attestation.
    #[serde(default)]
    pub readiness: ReadinessSection,
}

/// `[p2p]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    /// Where peers connect.
    pub listen: SocketAddr,
    /// Addresses to dial instead of the ones governance recorded, by node id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dial: BTreeMap<String, String>,
}

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// The TLS certificate chain (PEM); with `tls_key`, the API is served over TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl ApiSection {
    /// An API on `listen`, without TLS.
    pub fn plain(listen: SocketAddr) -> Self {
        Self { listen, tls_cert: None, tls_key: None }
    }

    /// The TLS certificate and key paths (relative ones inside `home`), when both are set; an error when only one
    /// is.
    pub fn tls(&self, home: &Path) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some((home.join(cert), home.join(key)))),
            _ => bail!("[api] tls_cert and tls_key go together: give both or neither"),
        }
    }
}

/// `[readiness]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSection {
    /// Whether the node posts its readiness attestation once it has caught up.
    pub attest: bool,
}

impl Default for ReadinessSection {
    fn default() -> Self {
        Self { attest: true }
    }
}

impl NodeConfig {
    /// Reads and checks `HOME/config.toml`.
    pub fn load(home: &Path) -> anyhow::Result<Self> {
        let path = config_path(home);
        let bytes = read_bounded(&path, MAX_CONFIG_BYTES, "config file")?;
        let text =
            std::str::from_utf8(&bytes).map_err(|_| anyhow!("config file {}: not UTF-8 text", path.display()))?;
        Self::parse(text).map_err(|e| anyhow!("config file {}: {e:#}", path.display()))
    }

    /// Parses and checks the text of a configuration file.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        config.node_id()?;
        if config.p2p.dial.len() > MAX_DIAL_OVERRIDES {
            bail!(
                "[p2p.dial] holds {} overrides, more than the {MAX_DIAL_OVERRIDES} allowed: keep those of the peers \
                 this node must reach at another address than governance recorded",
                config.p2p.dial.len()
            );
        }
        for (peer, address) in &config.p2p.dial {
            NodeId::new(peer.clone()).map_err(|e| anyhow!("[p2p.dial] {peer:?}: {e}"))?;
            check_network_address(address).map_err(|e| anyhow!("[p2p.dial] {peer}: {e}"))?;
        }
        Ok(config)
    }

    /// Writes `HOME/config.toml`.
    pub fn save(&self, home: &Path) -> anyhow::Result<()> {
        let path = config_path(home);
        let text = toml::to_string_pretty(self).context("encoding the node configuration")?;
        std::fs::write(&path, text).with_context(|| format!("config file {}: cannot write", path.display()))
    }

    /// The node's id.
    pub fn node_id(&self) -> anyhow::Result<NodeId> {
        NodeId::new(self.node.clone()).map_err(|e| anyhow!("node {:?}: {e}", self.node))
    }

    /// The dial overrides by node id.
    pub fn dial_overrides(&self) -> BTreeMap<NodeId, String> {
        self.p2p
            .dial
            .iter()
            .filter_map(|(node, address)| Some((NodeId::new(node.clone()).ok()?, address.clone())))
            .collect()
    }
}

/// The `N` of a file named `node-N.pem`.
pub fn key_index(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_prefix("node-")?.strip_suffix(".pem")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A written configuration reads back equal, and the documented example in the module docs parses.
    #[test]
    fn config_round_trips_and_the_documented_example_parses() {
        let home = tempfile::tempdir().unwrap();
        let config = NodeConfig {
            node: "n1".into(),
            p2p: P2pSection {
                listen: "127.0.0.1:7701".parse().unwrap(),
                dial: BTreeMap::from([("n2".into(), "127.0.0.1:17702".into())]),
            },
            api: ApiSection::plain("127.0.0.1:8701".parse().unwrap()),
            readiness: ReadinessSection::default(),
        };
        config.save(home.path()).unwrap();
        assert_eq!(NodeConfig::load(home.path()).unwrap(), config);

        let docs = include_str!("config.rs");
        let example: String = docs
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let parsed: NodeConfig = toml::from_str(&example).unwrap();
        assert_eq!(parsed, config);
    }

    /// A misspelt key, a bad listen or dial address and a bad node id are errors naming the file.
    #[test]
    fn bad_configs_are_refused_with_the_file_named() {
        let home = tempfile::tempdir().unwrap();
        for (text, needle) in [
            ("node = \"n1\"\n[p2p]\nlisten = \"127.0.0.1:1\"\nlistn = 2\n[api]\nlisten = \"127.0.0.1:2\"\n", "listn"),
            ("node = \"n1\"\n[p2p]\nlisten = \"nowhere\"\n[api]\nlisten = \"127.0.0.1:2\"\n", "invalid socket address"),
            ("node = \"\"\n[p2p]\nlisten = \"127.0.0.1:1\"\n[api]\nlisten = \"127.0.0.1:2\"\n", "node \"\""),
            (
                "node = \"n1\"\n[p2p]\nlisten = \"127.0.0.1:1\"\n[p2p.dial]\nn2 = \"127.0.0.1:0\"\n[api]\nlisten = \"127.0.0.1:2\"\n",
                "[p2p.dial] n2: the port \"0\"",
            ),
        ] {
            std::fs::write(config_path(home.path()), text).unwrap();
            let error = format!("{:#}", NodeConfig::load(home.path()).unwrap_err());
            assert!(error.contains("config.toml") && error.contains(needle), "{error}");
        }
    }

    /// Only `node-N.pem` names count as node keys, read in the order of N.
    #[test]
    fn key_files_are_numbered() {
        assert_eq!(key_index("node-0.pem"), Some(0));
        assert_eq!(key_index("node-12.pem"), Some(12));
        for name in ["node-.pem", "node-1.pem.bak", "admin.pem", "node-x.pem", "node--1.pem"] {
            assert_eq!(key_index(name), None, "{name}");
        }
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(keys_dir(home.path())).unwrap();
        for (index, label) in [(10, "b"), (2, "a")] {
            let key = governance_contracts::testkit::secret(label);
            crate::cli::files::write_secret_key(&key_path(home.path(), index), &key, false).unwrap();
        }
        std::fs::write(keys_dir(home.path()).join("README"), "not a key").unwrap();
        let keys = load_keys(home.path()).unwrap();
        let order: Vec<_> = keys.iter().map(|(i, k)| (*i, k.public_key())).collect();
        assert_eq!(
            order,
            vec![
                (2, governance_contracts::testkit::secret("a").public_key()),
                (10, governance_contracts::testkit::secret("b").public_key())
            ]
        );
    }

    /// A home whose key directory holds `node-0.pem`, a valid key readable by its owner only.
    fn home_with_key() -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        let key = governance_contracts::testkit::secret("k0");
        crate::cli::files::write_secret_key(&key_path(home.path(), 0), &key, false).unwrap();
        home
    }

    /// The error of loading `home`'s keys, which must fail.
    fn refusal(home: &Path) -> String {
        format!("{:#}", load_keys(home).map(|_| ()).unwrap_err())
    }

    /// A key file that is a symbolic link (out of the home or not) is refused, naming the file and what to do.
    #[cfg(unix)]
    #[test]
    fn symlinked_key_files_are_refused() {
        let home = home_with_key();
        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().join("stolen.pem");
        crate::cli::files::write_secret_key(&elsewhere, &governance_contracts::testkit::secret("x"), false).unwrap();
        std::os::unix::fs::symlink(&elsewhere, key_path(home.path(), 1)).unwrap();
        let error = refusal(home.path());
        assert!(error.contains("node-1.pem") && error.contains("symbolic link"), "{error}");

        let inside = home_with_key();
        std::os::unix::fs::symlink(key_path(inside.path(), 0), key_path(inside.path(), 1)).unwrap();
        assert!(refusal(inside.path()).contains("symbolic link"));
    }

    /// A key file that group or others may read is refused with the command that fixes it.
    #[cfg(unix)]
    #[test]
    fn key_files_others_may_read_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let home = home_with_key();
        let path = key_path(home.path(), 0);
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = refusal(home.path());
            assert!(error.contains("node-0.pem") && error.contains("chmod 600"), "{mode:o}: {error}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(load_keys(home.path()).unwrap().len(), 1, "read-only by its owner is fine");
    }

    /// A key "file" that is a FIFO or a directory is refused as not a regular file, without waiting for a writer.
    #[cfg(unix)]
    #[test]
    fn key_files_that_are_not_regular_files_are_refused() {
        let home = home_with_key();
        nix::unistd::mkfifo(&key_path(home.path(), 1), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let error = refusal(home.path());
        assert!(error.contains("node-1.pem") && error.contains("not a regular file"), "{error}");

        let home = home_with_key();
        std::fs::create_dir(key_path(home.path(), 1)).unwrap();
        assert!(refusal(home.path()).contains("not a regular file"));
    }

    /// A key directory that is a symbolic link, or that others may write into, is refused.
    #[cfg(unix)]
    #[test]
    fn key_directories_that_leave_the_home_or_others_may_write_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let outside = home_with_key();
        let home = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(keys_dir(outside.path()), keys_dir(home.path())).unwrap();
        let error = refusal(home.path());
        assert!(error.contains("keys") && error.contains("symbolic link"), "{error}");

        let home = home_with_key();
        std::fs::set_permissions(keys_dir(home.path()), std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = refusal(home.path());
        assert!(error.contains("chmod go-w"), "{error}");
    }

    /// A `[p2p.dial]` list longer than the bound is refused with an error naming it and the bound; one at the
    /// bound is accepted.
    #[test]
    fn dial_overrides_are_bounded() {
        let text = |count: usize| {
            let dial: String = (0..count).map(|i| format!("n{i} = \"127.0.0.1:{}\"\n", 1_000 + i)).collect();
            format!(
                "node = \"n1\"\n[p2p]\nlisten = \"127.0.0.1:1\"\n[p2p.dial]\n{dial}[api]\nlisten = \"127.0.0.1:2\"\n"
            )
        };
        assert_eq!(
            NodeConfig::parse(&text(MAX_DIAL_OVERRIDES)).expect("at the bound").p2p.dial.len(),
            MAX_DIAL_OVERRIDES
        );
        let error = format!("{:#}", NodeConfig::parse(&text(MAX_DIAL_OVERRIDES + 1)).expect_err("past the bound"));
        assert!(error.contains("[p2p.dial]") && error.contains(&MAX_DIAL_OVERRIDES.to_string()), "{error}");
    }

    /// Text that is not a configuration is refused with an error, whatever it holds: deep nesting, huge
    /// numbers, a thousand-level inline table, control characters.
    #[test]
    fn hostile_texts_are_refused_without_panicking() {
        let nested = |open: &str, close: &str| format!("x = {}1{}", open.repeat(20_000), close.repeat(20_000));
        let texts = [
            nested("[", "]"),
            nested("{a = ", "}"),
            format!("node = \"n1\"\n{}", "[p2p]\n".repeat(5_000)),
            "node = 1e999999".to_owned(),
            "node = \"n1\"\n[p2p]\nlisten = \"127.0.0.1:99999999999999999999\"\n".to_owned(),
            "\u{0}\u{7f}\u{202e}".to_owned(),
        ];
        for text in texts {
            assert!(NodeConfig::parse(&text).is_err(), "{:.60}", text);
        }
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// Parsing never panics: any text, and any mix of the configuration's own keys, sections and values of
        /// every shape, is accepted or refused with an error.
        #[test]
        fn parsing_never_panics(
            text in proptest::prop_oneof![
                proptest::string::string_regex("(?s).{0,300}").expect("a regex"),
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::string::string_regex(r"\[(p2p|api|readiness|p2p\.dial|x)\]").expect("a regex"),
                        proptest::string::string_regex(
                            r"(node|listen|dial|tls_cert|tls_key|attest|n2|x) = (\x22[^\x22]{0,30}\x22|-?[0-9]{1,25}|true|\[\]|\{\}|1e400|\x22127\.0\.0\.1:[0-9]{1,8}\x22)"
                        ).expect("a regex"),
                    ],
                    0..12,
                )
                .prop_map(|lines| lines.join("\n")),
            ]
        ) {
            let _ = NodeConfig::parse(&text);
        }
    }
}
