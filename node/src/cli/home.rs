//! The node home's paths, as the CLI and the running node both use them (the layout is documented in
//! [`crate::runtime::config`], which these delegate to so that there is one definition):
//!
//! ```text
//! HOME/config.toml             the node's configuration
//! HOME/genesis.json            the chain's genesis
//! HOME/keys/node-N.pem         every node key the node has held, numbered from 0
//! HOME/rotation-request.json   the transaction `synod key rotate` wrote for the node to submit
//! HOME/data/                   the store
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::runtime::config;

/// `HOME/config.toml`.
pub fn config_path(home: &Path) -> PathBuf {
    config::config_path(home)
}

/// `HOME/genesis.json`.
pub fn genesis_path(home: &Path) -> PathBuf {
    config::genesis_path(home)
}

/// `HOME/keys`.
pub fn keys_dir(home: &Path) -> PathBuf {
    config::keys_dir(home)
}

/// `HOME/keys/node-<index>.pem`.
pub fn key_path(home: &Path, index: u32) -> PathBuf {
    config::key_path(home, index)
}

/// `HOME/data`.
pub fn data_dir(home: &Path) -> PathBuf {
    config::data_dir(home)
}

/// `HOME/rotation-request.json`: the node's own key-rotation transaction, written by `synod key rotate`.
pub fn rotation_request_path(home: &Path) -> PathBuf {
    home.join("rotation-request.json")
}

/// The numbers `N` of the `HOME/keys/node-N.pem` files, ascending (empty when the directory is missing).
pub fn key_indices(home: &Path) -> anyhow::Result<Vec<u32>> {
    let dir = keys_dir(home);
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&dir).with_context(|| format!("key directory {}: cannot read", dir.display()))?;
    let mut indices = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("key directory {}: cannot read", dir.display()))?;
        if let Some(index) = entry.file_name().to_str().and_then(config::key_index) {
            if indices.len() >= config::MAX_KEY_FILES {
                bail!("key directory {}: more than {} node keys", dir.display(), config::MAX_KEY_FILES);
            }
            indices.push(index);
        }
    }
    indices.sort_unstable();
    Ok(indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key numbers are read from the file names in ascending order, ignoring other files.
    #[test]
    fn key_indices_are_sorted_and_other_files_ignored() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(key_indices(home.path()).unwrap(), Vec::<u32>::new());
        std::fs::create_dir_all(keys_dir(home.path())).unwrap();
        for name in ["node-3.pem", "node-0.pem", "notes.txt", "node-x.pem"] {
            std::fs::write(keys_dir(home.path()).join(name), "").unwrap();
        }
        assert_eq!(key_indices(home.path()).unwrap(), vec![0, 3]);
        assert_eq!(key_path(home.path(), 3), home.path().join("keys/node-3.pem"));
    }
}
