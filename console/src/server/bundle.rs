//! The browser bundle this console serves, and its published hashes.
//!
//! The hashes are computed at start from the files actually served, so the Subresource Integrity strings in every
//! page and the hashes on the bundle page always describe the bytes a browser receives. A signer compares the
//! published SHA-256 with `target/site/pkg/bundle.json` from their own `cargo xtask bundle` of the same commit.

use std::path::Path;

use anyhow::Context;
use base64::Engine as _;
use sha2::{Digest as _, Sha256, Sha384};

/// The largest bundle file the console reads.
const MAX_BUNDLE_FILE: u64 = 64 * 1024 * 1024;

/// Hashes of one served file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHashes {
    /// The path under the site root (e.g. `/pkg/console.js`).
    pub path: String,
    /// The Subresource Integrity value, `sha384-<base64>`.
    pub sri: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl FileHashes {
    /// Hashes `bytes` served at `path`.
    pub fn of(path: &str, bytes: &[u8]) -> Self {
        let sri = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)));
        Self { path: path.to_owned(), sri, sha256: hex::encode(Sha256::digest(bytes)) }
    }
}

/// The bundle's two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The JavaScript glue module.
    pub js: FileHashes,
    /// The WebAssembly module.
    pub wasm: FileHashes,
}

impl Bundle {
    /// Reads and hashes `site/pkg/console.js` and `site/pkg/console_bg.wasm`.
    pub fn load(site: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<FileHashes> {
            let path = site.join("pkg").join(name);
            let size = std::fs::metadata(&path)
                .with_context(|| {
                    format!("the browser bundle is missing: {} (build it with `cargo xtask bundle`)", path.display())
                })?
                .len();
            anyhow::ensure!(size <= MAX_BUNDLE_FILE, "{} is larger than {MAX_BUNDLE_FILE} bytes", path.display());
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(FileHashes::of(&format!("/pkg/{name}"), &bytes))
        };
        Ok(Self { js: read("console.js")?, wasm: read("console_bg.wasm")? })
    }

    /// The import map that pins the glue module's integrity.
    pub fn import_map(&self) -> String {
        serde_json::json!({ "imports": {}, "integrity": { self.js.path.clone(): self.js.sri.clone() } }).to_string()
    }

    /// The module script that loads the glue, fetches the WebAssembly with its integrity checked, and hydrates.
    pub fn boot_script(&self) -> String {
        format!(
            "import init, {{ hydrate }} from {js:?};\n\
             const wasm = await fetch({wasm:?}, {{ integrity: {sri:?} }});\n\
             await init({{ module_or_path: wasm }});\n\
             hydrate();\n",
            js = self.js.path,
            wasm = self.wasm.path,
            sri = self.wasm.sri,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SRI string and hex digest of known bytes are the standard ones.
    #[test]
    fn hashes_of_known_bytes() {
        let hashes = FileHashes::of("/pkg/x", b"abc");
        assert_eq!(hashes.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hashes.sri, "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn");
    }

    /// The boot script fetches the wasm with its integrity and the import map pins the glue module.
    #[test]
    fn boot_script_and_import_map_carry_the_hashes() {
        let bundle = Bundle { js: FileHashes::of("/pkg/console.js", b"js"), wasm: FileHashes::of("/pkg/w.wasm", b"w") };
        assert!(bundle.boot_script().contains(&bundle.wasm.sri));
        assert!(bundle.import_map().contains(&bundle.js.sri));
        assert!(bundle.import_map().contains("/pkg/console.js"));
    }
}
