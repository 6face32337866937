//! Reading and writing the CLI's files: every read is size-bounded and every error names the file and what is
//! wrong; every write goes to a temporary file in the same directory and is renamed into place, so a reader never
//! sees half a file; nothing is overwritten without `--force`; private keys are created readable by their owner
//! only.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::crypto::{PublicKey, SecretKey};
use governance_contracts::types::Genesis;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest JSON file the CLI reads (proposals, approvals, transactions, organisation files, proof bundles).
pub const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;
/// Largest key file read (private or public PEM).
pub const MAX_KEY_BYTES: u64 = crate::runtime::MAX_KEY_BYTES;

/// Reads at most `max` bytes of `path`, refusing a larger file before reading it. `what` names the kind of file
/// in errors ("proposal file").
pub fn read_bounded(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("{what} {}: cannot open", path.display()))?;
    let len = file.metadata().with_context(|| format!("{what} {}: cannot read its size", path.display()))?.len();
    if len > max {
        bail!("{what} {}: {len} bytes, more than the {max} allowed", path.display());
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("{what} {}: cannot read", path.display()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max {
        bail!("{what} {}: grew past the {max} bytes allowed while being read", path.display());
    }
    Ok(bytes)
}

/// Reads the JSON file at `path` as a `T`; `what` names it in errors ("proposal file").
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = read_bounded(path, MAX_JSON_BYTES, what)?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow!("{what} {}: not valid: {e}", path.display()))
}

/// Reads the JSON file at `path` as an untyped value, for files that may hold one of several types.
pub fn read_json_value(path: &Path, what: &str) -> anyhow::Result<serde_json::Value> {
    read_json(path, what)
}

/// The genesis in the JSON file at `path`.
pub fn load_genesis(path: &Path) -> anyhow::Result<Genesis> {
    crate::runtime::load_genesis(path)
}

/// The secret key in the PKCS#8 PEM file at `path`.
pub fn load_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    crate::runtime::load_key(path)
}

/// A public key given on the command line: its text form `ed25519:<hex>`, or the path of a PEM file holding a
/// private key (PKCS#8, as `openssl genpkey -algorithm ed25519` writes; only its public half is used) or a public
/// key (SPKI, as `openssl pkey -pubout` writes).
pub fn parse_public_key(text: &str) -> anyhow::Result<PublicKey> {
    if text.starts_with("ed25519:") {
        return text.parse().map_err(|e| anyhow!("public key {text:?}: {e}"));
    }
    let path = Path::new(text);
    if !path.exists() {
        bail!("{text:?} is neither a public key (ed25519:<64 hex digits>) nor an existing PEM key file");
    }
    public_key_from_pem_file(path)
}

/// The public key of the PEM file at `path`: a PKCS#8 private key or an SPKI public key.
pub fn public_key_from_pem_file(path: &Path) -> anyhow::Result<PublicKey> {
    use ed25519_dalek::pkcs8::DecodePublicKey as _;
    let bytes = read_bounded(path, MAX_KEY_BYTES, "key file")?;
    if let Ok(pem) = std::str::from_utf8(&bytes)
        && pem.contains("-----BEGIN PUBLIC KEY-----")
        && !pem.contains("-----BEGIN PRIVATE KEY-----")
    {
        let key = ed25519_dalek::VerifyingKey::from_public_key_pem(pem).map_err(|_| {
            anyhow!("{}: the key file holds a public key that is not an Ed25519 public key in PEM", path.display())
        })?;
        return Ok(PublicKey::Ed25519(key.to_bytes()));
    }
    SecretKey::from_key_file(&bytes).map(|key| key.public_key()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Refuses to replace an existing file unless `force`.
pub fn check_writable(path: &Path, force: bool) -> anyhow::Result<()> {
    if !force && path.exists() {
        bail!("{} already exists: pass --force to overwrite it", path.display());
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file renamed into place. Refuses an existing file unless `force`.
/// A `private` file is created with mode 0600 (on Unix), so a key is never readable by others, not even briefly.
pub fn write_file(path: &Path, bytes: &[u8], force: bool, private: bool) -> anyhow::Result<()> {
    check_writable(path, force)?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
    let name = path.file_name().ok_or_else(|| anyhow!("{} is not a file path", path.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let result = (|| {
        let mut file = options.open(&temp).with_context(|| format!("{}: cannot create", temp.display()))?;
        file.write_all(bytes).with_context(|| format!("{}: cannot write", temp.display()))?;
        file.sync_all().with_context(|| format!("{}: cannot sync", temp.display()))?;
        if !force && path.exists() {
            bail!("{} appeared while being written: pass --force to overwrite it", path.display());
        }
        std::fs::rename(&temp, path).with_context(|| format!("{}: cannot move into place", path.display()))
    })();
    if result.is_err() {
        // Best effort: the error above is what matters.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `value` as pretty-printed JSON (with a final newline).
pub fn write_json<T: Serialize>(path: &Path, value: &T, force: bool) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    text.push('\n');
    write_file(path, text.as_bytes(), force, false)
}

/// Writes `key` as PKCS#8 PEM, readable by its owner only.
pub fn write_secret_key(path: &Path, key: &SecretKey, force: bool) -> anyhow::Result<()> {
    let pem = key.to_pkcs8_pem().map_err(|e| anyhow!("encoding a key: {e}"))?;
    write_file(path, pem.as_bytes(), force, true)
}

/// Prints `value` as pretty JSON when `json`, else the lines of `text`.
pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value).context("encoding JSON output")?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An existing file is kept unless `force`, and a private file is created with mode 0600.
    #[test]
    fn writes_refuse_to_overwrite_and_keys_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key.pem");
        let key = governance_contracts::testkit::secret("a");
        write_secret_key(&path, &key, false).unwrap();
        let error = write_secret_key(&path, &governance_contracts::testkit::secret("b"), false).unwrap_err();
        assert!(error.to_string().contains("--force"), "{error}");
        assert_eq!(load_secret_key(&path).unwrap().public_key(), key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        write_secret_key(&path, &governance_contracts::testkit::secret("b"), true).unwrap();
        assert_eq!(load_secret_key(&path).unwrap().public_key(), governance_contracts::testkit::public("b"));
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    /// A public key is read from its text form, a private PEM or a public PEM, and nonsense is refused by name.
    #[test]
    fn public_keys_come_from_text_or_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = governance_contracts::testkit::secret("k");
        let private = dir.path().join("k.pem");
        write_secret_key(&private, &key, false).unwrap();
        assert_eq!(parse_public_key(&key.public_key().to_string()).unwrap(), key.public_key());
        assert_eq!(parse_public_key(private.to_str().unwrap()).unwrap(), key.public_key());
        let error = parse_public_key("nope").unwrap_err().to_string();
        assert!(error.contains("nope"), "{error}");
        let garbage = dir.path().join("g.pem");
        std::fs::write(&garbage, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap();
        let error = parse_public_key(garbage.to_str().unwrap()).unwrap_err().to_string();
        assert!(error.contains("g.pem"), "{error}");
    }
}
