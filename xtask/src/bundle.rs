//! `cargo xtask bundle`: the console's browser bundle, built without any hand-installed tool (ADR 0005).
//!
//! 1. `cargo build -p console --lib --target wasm32-unknown-unknown --profile wasm-release --no-default-features
//!    --features hydrate` compiles the browser half of the console crate;
//! 2. wasm-bindgen, linked into this program as a library at exactly the version of the `wasm-bindgen` crate the
//!    console uses, writes the JavaScript glue and the final module into `SITE/pkg/` (`console.js`,
//!    `console_bg.wasm`, and `snippets/` when a dependency carries inline JavaScript);
//! 3. `wasm-opt -Oz` from binaryen shrinks the module: the npm package `binaryen` at the pinned
//!    [`crate::BINARYEN_VERSION`], which the test command's `setup` phase and `cargo xtask up` install into
//!    `<target>/tools/binaryen-<version>` (or `$WASM_OPT`, or one on `PATH`, if version 132 or newer); any older
//!    `wasm-opt` (Debian's binaryen 108 produces a module that fails to hydrate) is refused, and without one the
//!    step is skipped and the bundle works unoptimised, only larger;
//! 4. every JavaScript and wasm file of `pkg/` gets a Brotli (`.br`, quality 11) and a gzip (`.gz`, level 9)
//!    copy beside it, which the console serves to browsers that accept them (`ServeDir::precompressed_br`), so the
//!    bundle crosses the wire compressed without the server compressing anything per request;
//! 5. `SITE/pkg/bundle.json` records, for every file in `pkg/` (the compressed copies aside: a browser checks the
//!    bytes they decode to), its size, its SHA-256 in hex (the published bundle hash a signer compares) and its
//!    Subresource Integrity string (`sha384-<base64>`, which the console puts in the page's `integrity`
//!    attributes), with the git commit the bundle was built from.
//!
//! The optimised module and its compressed copies are kept in `<target>/bundle-cache/`, keyed by the module
//! wasm-bindgen wrote and the `wasm-opt` found: a build of an unchanged console reuses them instead of running
//! `wasm-opt` and Brotli again. It prints each file's size raw and compressed, and how long the build, `wasm-opt`
//! and the compression took.
//!
//! `SITE` is `<target directory>/site` (`$CARGO_TARGET_DIR/site`, else `target/site`).

use std::{
    collections::BTreeMap,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256, Sha384};

use crate::{WASM_TARGET, Workspace, now, run};

/// The exact `wasm-bindgen` version the bundle is generated with: the version of `wasm-bindgen-cli-support` this
/// program links, which must equal the `wasm-bindgen` crate's version in `Cargo.lock` (a unit test checks it).
pub const WASM_BINDGEN_VERSION: &str = "0.2.129";

/// The cargo profile of the browser build (declared in the workspace's `Cargo.toml`).
const WASM_PROFILE: &str = "wasm-release";

/// The bundle's output name: `console.js` and `console_bg.wasm`. The server's hydration script asks for
/// `/pkg/<name>.js` and `/pkg/<name>_bg.wasm`.
const OUT_NAME: &str = "console";

/// The oldest `wasm-opt` whose output hydrates (binaryen 132, from npm, was checked; Debian's 108 breaks it).
const MIN_WASM_OPT_VERSION: u32 = 132;

/// The manifest's format version, bumped when its fields change meaning.
const MANIFEST_FORMAT: u32 = 1;

/// The manifest's file name inside `pkg/`.
pub const MANIFEST_NAME: &str = "bundle.json";

/// Largest file the manifest hashes (the bundle is about 1 MB; anything near this is a mistake).
const MAX_BUNDLE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Most files `pkg/` may hold.
const MAX_BUNDLE_FILES: usize = 256;

/// `SITE/pkg/bundle.json`: what was built, from which commit, and the digests of every file.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// The manifest's format version.
    pub format: u32,
    /// The git commit the bundle was built from, when the workspace is a git checkout.
    pub commit: Option<String>,
    /// Whether the checkout had uncommitted changes (then `commit` alone does not reproduce the bundle).
    pub dirty: Option<bool>,
    /// The wasm-bindgen version that generated the glue.
    pub wasm_bindgen: String,
    /// The `wasm-opt` that optimised the module (its `--version` line), or `None` when the step was skipped.
    pub wasm_opt: Option<String>,
    /// Every file of `pkg/` except the manifest, by path relative to `pkg/` (with `/` separators).
    pub files: BTreeMap<String, FileDigest>,
}

/// The digests of one bundle file.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct FileDigest {
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lowercase hex: the published bundle hash (`sha256sum` prints the same).
    pub sha256: String,
    /// Its Subresource Integrity string: `sha384-` and the base64 of the SHA-384 of its bytes.
    pub sri: String,
}

impl FileDigest {
    /// The digests of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let sri = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)));
        Self { bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX), sha256: hex::encode(Sha256::digest(bytes)), sri }
    }
}

/// Where the bundle went.
pub struct Built {
    /// The site directory (`--site` of `synod-console`).
    pub site: PathBuf,
}

/// What a bundle build measured: each compressed file's sizes, and how long each step took.
struct Report {
    sizes: BTreeMap<String, Sizes>,
    built_in: Duration,
    optimised_in: Duration,
    compressed_in: Duration,
}

/// Puts the complete bundle in `staging` in the place of `pkg`: the old `pkg/` is moved aside, `staging` renamed to
/// `pkg`, and the old one removed. When another build swaps its own bundle in at the same moment, the last rename
/// wins, and each build's bundle is whole.
fn swap_in(staging: &Path, pkg: &Path) -> Result<()> {
    let aside = staging.with_extension("old");
    for _ in 0..3 {
        match fs::rename(pkg, &aside) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("cannot move {} aside", pkg.display())),
        }
        let placed = fs::rename(staging, pkg);
        if aside.exists() {
            fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))?;
        }
        match placed {
            Ok(()) => return Ok(()),
            // Another build put its `pkg/` back in between: move that one aside too, and try again.
            Err(_) if pkg.exists() => {}
            Err(error) => return Err(error).with_context(|| format!("cannot move the bundle to {}", pkg.display())),
        }
    }
    bail!("another bundle build keeps replacing {}: run one build at a time", pkg.display())
}

impl Workspace {
    /// Builds the bundle into the site directory and writes its manifest; returns where it went.
    pub fn bundle(&self) -> Result<Built> {
        let started = now();
        let target = self.target_dir()?;
        let site = target.join("site");
        let pkg = site.join("pkg");
        println!("site directory: {}", site.display());
        self.cargo(&[
            "build",
            "-p",
            "console",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            WASM_PROFILE,
            "--no-default-features",
            "--features",
            "hydrate",
        ])?;
        let input = target.join(WASM_TARGET).join(WASM_PROFILE).join("console.wasm");
        if !input.is_file() {
            bail!("the browser build did not produce {}", input.display());
        }
        // A fresh directory each time, made beside `pkg/` and swapped in when complete: a file left from an older
        // bundle (a snippet that is gone) is never served or listed in the manifest, a console serving `pkg/` finds
        // the old bundle or the new one, never a mix, and two builds sharing the target directory do not write into
        // each other's files.
        let staging = site.join(format!(".pkg-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).with_context(|| format!("cannot empty {}", staging.display()))?;
        }
        fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        let result = self.bundle_into(&staging, &input, started);
        let swapped = result.and_then(|(manifest, report)| swap_in(&staging, &pkg).map(|()| (manifest, report)));
        if swapped.is_err() {
            // Best effort: the error is what matters.
            let _ = fs::remove_dir_all(&staging);
        }
        let (manifest, report) = swapped?;
        for (name, digest) in &manifest.files {
            println!("  pkg/{name:<24} {:>9} bytes  sha256 {}", digest.bytes, digest.sha256);
            if let Some(sizes) = report.sizes.get(name) {
                println!("  {:<29} {:>9} bytes brotli, {} bytes gzip", "", sizes.brotli, sizes.gzip);
            }
        }
        let raw: u64 = report.sizes.values().map(|sizes| sizes.raw).sum();
        let brotli: u64 = report.sizes.values().map(|sizes| sizes.brotli).sum();
        let gzip: u64 = report.sizes.values().map(|sizes| sizes.gzip).sum();
        println!("bundle on the wire: {raw} bytes raw, {brotli} brotli, {gzip} gzip");
        println!(
            "bundle step: {:.1} s (build and wasm-bindgen {:.1} s, wasm-opt {:.1} s, compression {:.1} s)",
            started.elapsed().as_secs_f64(),
            report.built_in.as_secs_f64(),
            report.optimised_in.as_secs_f64(),
            report.compressed_in.as_secs_f64()
        );
        println!("manifest: {}", pkg.join(MANIFEST_NAME).display());
        Ok(Built { site })
    }

    /// wasm-bindgen's output for `input`, optimised and compressed, with its manifest, written into the empty
    /// directory `pkg`; the manifest and what the steps measured.
    fn bundle_into(&self, pkg: &Path, input: &Path, started: Instant) -> Result<(Manifest, Report)> {
        println!("wasm-bindgen {WASM_BINDGEN_VERSION} (library): {} -> {}", input.display(), pkg.display());
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(input)
            .web(true)
            .map_err(|error| anyhow::anyhow!("wasm-bindgen refused the web target: {error:#}"))?
            .out_name(OUT_NAME)
            .generate(pkg)
            .map_err(|error| anyhow::anyhow!("wasm-bindgen failed on {}: {error:#}", input.display()))?;
        let built_in = started.elapsed();
        let optimise_started = now();
        let wasm = pkg.join(format!("{OUT_NAME}_bg.wasm"));
        let found = find_wasm_opt(&self.binaryen_prefix()?);
        let version = found.as_ref().map(|(_, version)| version.clone());
        let unoptimised = fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
        let cache = self.target_dir()?.join("bundle-cache").join(cache_key(&unoptimised, version.as_deref()));
        let reused = restore(&cache, &wasm)?;
        if reused {
            println!("wasm-opt and compression: reused from {} (the same module and wasm-opt)", cache.display());
        } else if let Some((program, _)) = &found {
            optimise(&wasm, program)?;
        }
        let optimised_in = optimise_started.elapsed();
        let compress_started = now();
        let sizes = precompress(pkg)?;
        let compressed_in = compress_started.elapsed();
        if !reused {
            keep(&cache, &wasm)?;
        }
        let wasm_opt = version;
        let (commit, dirty) = self.git_commit();
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            commit,
            dirty,
            wasm_bindgen: WASM_BINDGEN_VERSION.to_owned(),
            wasm_opt,
            files: digest_dir(pkg)?,
        };
        let manifest_path = pkg.join(MANIFEST_NAME);
        fs::write(&manifest_path, manifest.to_json()?)
            .with_context(|| format!("cannot write {}", manifest_path.display()))?;
        Ok((manifest, Report { sizes, built_in, optimised_in, compressed_in }))
    }

    /// The git commit of the workspace and whether it has uncommitted changes; `(None, None)` outside git.
    fn git_commit(&self) -> (Option<String>, Option<bool>) {
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(&self.root)
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        };
        match git(&["rev-parse", "HEAD"]) {
            Some(commit) if !commit.is_empty() => {
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).map(|status| !status.is_empty());
                (Some(commit), dirty)
            }
            _ => (None, None),
        }
    }
}

impl Manifest {
    /// The manifest as pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self).context("cannot encode the bundle manifest")?;
        text.push('\n');
        Ok(text)
    }
}

/// The digests of every file under `pkg` (recursively), except the manifest itself.
pub fn digest_dir(pkg: &Path) -> Result<BTreeMap<String, FileDigest>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![pkg.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(pkg).context("a listed file lies outside pkg/")?;
            let name =
                relative.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if name == MANIFEST_NAME || is_compressed_copy(&name) {
                continue;
            }
            let size = fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.len();
            if size > MAX_BUNDLE_FILE_BYTES {
                bail!("{} is {size} bytes, over the {MAX_BUNDLE_FILE_BYTES}-byte bound", path.display());
            }
            let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            files.insert(name, FileDigest::of(&bytes));
            if files.len() > MAX_BUNDLE_FILES {
                bail!("{} holds more than {MAX_BUNDLE_FILES} files", pkg.display());
            }
        }
    }
    for required in [format!("{OUT_NAME}.js"), format!("{OUT_NAME}_bg.wasm")] {
        if !files.contains_key(&required) {
            bail!("wasm-bindgen did not write pkg/{required}");
        }
    }
    Ok(files)
}

/// Whether a file of `pkg/` is a compressed copy of another ([`precompress`]).
fn is_compressed_copy(name: &str) -> bool {
    COMPRESSED_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// The suffixes of the compressed copies, as `ServeDir::precompressed_br` and `precompressed_gzip` look them up.
const COMPRESSED_SUFFIXES: [&str; 2] = [".br", ".gz"];

/// Brotli's best quality and largest window: the bundle is compressed once per build and read by every browser.
const BROTLI_QUALITY: i32 = 11;
/// Brotli's window, as a power of two.
const BROTLI_WINDOW_BITS: i32 = 22;

/// One file's size raw and in each compressed copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    raw: u64,
    brotli: u64,
    gzip: u64,
}

/// Writes a Brotli (`NAME.br`) and a gzip (`NAME.gz`) copy beside every `.js` and `.wasm` file under `pkg` that
/// has none (a module restored from the cache comes with its copies), and returns each file's sizes by its
/// `/`-separated path relative to `pkg`.
fn precompress(pkg: &Path) -> Result<BTreeMap<String, Sizes>> {
    let mut sizes = BTreeMap::new();
    for name in digest_dir(pkg)?.into_keys() {
        if !(name.ends_with(".js") || name.ends_with(".wasm")) {
            continue;
        }
        let path = pkg.join(&name);
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let copy = |suffix: &str| {
            let mut copy = path.clone().into_os_string();
            copy.push(suffix);
            PathBuf::from(copy)
        };
        let len = |data: &[u8]| u64::try_from(data.len()).unwrap_or(u64::MAX);
        if let (Ok(brotli), Ok(gzip)) = (fs::metadata(copy(".br")), fs::metadata(copy(".gz"))) {
            // Restored from the cache with the module they compress.
            sizes.insert(name, Sizes { raw: len(&bytes), brotli: brotli.len(), gzip: gzip.len() });
            continue;
        }
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: BROTLI_QUALITY,
            lgwin: BROTLI_WINDOW_BITS,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &params)
            .with_context(|| format!("cannot compress {} with brotli", path.display()))?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&bytes).context("gzip in memory")?;
        let gzip = gzip.finish().context("gzip in memory")?;
        for (suffix, compressed) in [(".br", &brotli), (".gz", &gzip)] {
            let copy = copy(suffix);
            fs::write(&copy, compressed).with_context(|| format!("cannot write {}", copy.display()))?;
        }
        sizes.insert(name, Sizes { raw: len(&bytes), brotli: len(&brotli), gzip: len(&gzip) });
    }
    Ok(sizes)
}

/// Shrinks `wasm` in place with `program -Oz` (a `wasm-opt` [`find_wasm_opt`] found).
fn optimise(wasm: &Path, program: &Path) -> Result<()> {
    let optimised = wasm.with_extension("opt.wasm");
    let mut command = Command::new(program);
    command.arg("-Oz").arg("-o").arg(&optimised).arg(wasm);
    run(command)?;
    fs::rename(&optimised, wasm).with_context(|| format!("cannot replace {}", wasm.display()))
}

/// What the optimised module and its compressed copies follow from: the module wasm-bindgen wrote, the `wasm-opt`
/// that shrinks it (`None`: none) and the compression settings; SHA-256, in hex.
fn cache_key(unoptimised: &[u8], wasm_opt: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(unoptimised);
    hasher.update(format!("\n{}\nbrotli {BROTLI_QUALITY} {BROTLI_WINDOW_BITS}, gzip best", wasm_opt.unwrap_or("none")));
    hex::encode(hasher.finalize())
}

/// The file names a cache entry holds for `wasm`: the module and its compressed copies.
fn cached_names(wasm: &Path) -> Vec<std::ffi::OsString> {
    let name = wasm.file_name().unwrap_or_default().to_owned();
    let mut names = vec![name.clone()];
    for suffix in COMPRESSED_SUFFIXES {
        let mut copy = name.clone();
        copy.push(suffix);
        names.push(copy);
    }
    names
}

/// Copies the optimised module and its compressed copies from `cache` over `wasm` and beside it; `false` when the
/// cache holds no complete entry.
fn restore(cache: &Path, wasm: &Path) -> Result<bool> {
    let names = cached_names(wasm);
    if !names.iter().all(|name| cache.join(name).is_file()) {
        return Ok(false);
    }
    let dir = wasm.parent().context("the module has no directory")?;
    for name in names {
        fs::copy(cache.join(&name), dir.join(&name))
            .with_context(|| format!("cannot copy {} from {}", Path::new(&name).display(), cache.display()))?;
    }
    Ok(true)
}

/// Keeps the optimised module and its compressed copies in `cache`, the only entry beside it: the next build of the
/// same module reuses them instead of running `wasm-opt` and Brotli again (about two minutes on two cores).
fn keep(cache: &Path, wasm: &Path) -> Result<()> {
    let root = cache.parent().context("the cache entry has no directory")?;
    if root.exists() {
        fs::remove_dir_all(root).with_context(|| format!("cannot empty {}", root.display()))?;
    }
    let partial = root.join(format!(".partial-{}", std::process::id()));
    fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let dir = wasm.parent().context("the module has no directory")?;
    for name in cached_names(wasm) {
        fs::copy(dir.join(&name), partial.join(&name))
            .with_context(|| format!("cannot keep {} in {}", Path::new(&name).display(), root.display()))?;
    }
    fs::rename(&partial, cache).with_context(|| format!("cannot move the cache entry to {}", cache.display()))
}

/// The `wasm-opt` that npm installs under `prefix` (`npm install --prefix PREFIX binaryen`).
pub fn wasm_opt_under(prefix: &Path) -> PathBuf {
    prefix.join("node_modules").join(".bin").join("wasm-opt")
}

/// The first line `program --version` prints, when it runs and succeeds.
pub fn wasm_opt_version_line(program: &Path) -> Option<String> {
    let output = Command::new(program).arg("--version").stderr(Stdio::null()).output().ok()?;
    let line = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().trim().to_owned();
    output.status.success().then_some(line)
}

/// The first `wasm-opt` that is recent enough: `$WASM_OPT`, binaryen under `binaryen_prefix` (the pinned release
/// the setup phase installs), then the one on `PATH`. Prints why each candidate was passed over.
fn find_wasm_opt(binaryen_prefix: &Path) -> Option<(PathBuf, String)> {
    let mut candidates = Vec::new();
    if let Some(explicit) = std::env::var_os("WASM_OPT") {
        candidates.push(PathBuf::from(explicit));
    }
    candidates.push(wasm_opt_under(binaryen_prefix));
    candidates.push(PathBuf::from("wasm-opt"));
    for candidate in candidates {
        let Some(line) = wasm_opt_version_line(&candidate) else {
            continue;
        };
        match wasm_opt_version(&line) {
            Some(version) if version >= MIN_WASM_OPT_VERSION => return Some((candidate, line)),
            _ => println!(
                "wasm-opt: passing over {} ({line:?}): binaryen {MIN_WASM_OPT_VERSION} or newer is required",
                candidate.display()
            ),
        }
    }
    println!(
        "wasm-opt: skipped (no binaryen {MIN_WASM_OPT_VERSION}+ found; the test command's setup phase and `cargo xtask \
         up` install binaryen {} into {}). The bundle works unoptimised, only larger.",
        crate::BINARYEN_VERSION,
        binaryen_prefix.display()
    );
    None
}

/// The release number in a `wasm-opt --version` line (`wasm-opt version 132 (version_132)` → 132).
pub fn wasm_opt_version(line: &str) -> Option<u32> {
    let rest = line.strip_prefix("wasm-opt version ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The release number of an npm version of binaryen (`132.0.0` → 132), as `wasm-opt --version` names it.
pub fn release_of(npm_version: &str) -> Option<u32> {
    npm_version.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digests of known bytes are the standard SHA-256 and SHA-384 test vectors, in the formats the manifest
    /// promises (lowercase hex; `sha384-` and standard base64, as `openssl dgst -sha384 -binary | base64` prints).
    #[test]
    fn file_digests_of_known_bytes() {
        let digest = FileDigest::of(b"abc");
        assert_eq!(digest.bytes, 3);
        assert_eq!(digest.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest.sri, "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn");
        let empty = FileDigest::of(b"");
        assert_eq!(empty.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(empty.sri, "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb");
    }

    /// The manifest lists every file of `pkg/` (nested snippets too, by `/`-separated path) except itself, with each
    /// file's digests, and refuses a `pkg/` that lacks the module or its glue.
    #[test]
    fn manifest_lists_every_bundle_file() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path();
        fs::write(pkg.join("console.js"), b"abc").unwrap();
        assert!(digest_dir(pkg).is_err(), "a pkg/ without console_bg.wasm must be refused");
        fs::write(pkg.join("console_bg.wasm"), b"").unwrap();
        fs::create_dir_all(pkg.join("snippets/leptos-1")).unwrap();
        fs::write(pkg.join("snippets/leptos-1/inline0.js"), b"abc").unwrap();
        fs::write(pkg.join(MANIFEST_NAME), b"{}").unwrap();
        let files = digest_dir(pkg).unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(names, ["console.js", "console_bg.wasm", "snippets/leptos-1/inline0.js"]);
        assert_eq!(files["console.js"], FileDigest::of(b"abc"));
        assert_eq!(files["console_bg.wasm"], FileDigest::of(b""));

        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            commit: Some("0123abcd".into()),
            dirty: Some(false),
            wasm_bindgen: WASM_BINDGEN_VERSION.into(),
            wasm_opt: None,
            files,
        };
        let json: serde_json::Value = serde_json::from_str(&manifest.to_json().unwrap()).unwrap();
        assert_eq!(json["format"], 1);
        assert_eq!(json["commit"], "0123abcd");
        assert_eq!(json["wasm_opt"], serde_json::Value::Null);
        assert_eq!(json["files"]["console.js"]["sri"], FileDigest::of(b"abc").sri);
        assert_eq!(json["files"]["console_bg.wasm"]["sha256"], FileDigest::of(b"").sha256);
    }

    /// The bundle is generated with the wasm-bindgen version the console's `wasm-bindgen` crate has in Cargo.lock:
    /// generated glue and runtime crate must come from the same release.
    #[test]
    fn bindgen_version_matches_the_lock_file() {
        let lock = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock")).unwrap();
        let lock: toml::Table = toml::from_str(&lock).unwrap();
        let packages = lock["package"].as_array().unwrap();
        let versions = |name: &str| -> Vec<&str> {
            packages
                .iter()
                .filter(|package| package["name"].as_str() == Some(name))
                .filter_map(|package| package["version"].as_str())
                .collect()
        };
        assert_eq!(versions("wasm-bindgen"), [WASM_BINDGEN_VERSION]);
        assert_eq!(versions("wasm-bindgen-cli-support"), [WASM_BINDGEN_VERSION]);
    }

    /// Every JavaScript and wasm file gets a Brotli and a gzip copy that decode to its bytes, other files get none,
    /// and the manifest lists the originals only.
    #[test]
    fn bundle_files_get_compressed_copies_that_decode_to_them() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path();
        let js = b"export function hydrate() { return 1; }\n".repeat(200);
        let wasm: Vec<u8> = (0..50_000u32).map(|n| u8::try_from(n % 7).unwrap()).collect();
        fs::write(pkg.join("console.js"), &js).unwrap();
        fs::write(pkg.join("console_bg.wasm"), &wasm).unwrap();
        fs::write(pkg.join("notes.txt"), b"not served compressed").unwrap();
        let sizes = precompress(pkg).unwrap();
        assert_eq!(sizes.keys().collect::<Vec<_>>(), ["console.js", "console_bg.wasm"]);
        for (name, original) in [("console.js", &js), ("console_bg.wasm", &wasm)] {
            let mut decoded = Vec::new();
            brotli::BrotliDecompress(&mut fs::read(pkg.join(format!("{name}.br"))).unwrap().as_slice(), &mut decoded)
                .unwrap();
            assert_eq!(&decoded, original, "{name}.br");
            let mut gunzipped = Vec::new();
            flate2::read::GzDecoder::new(fs::read(pkg.join(format!("{name}.gz"))).unwrap().as_slice())
                .read_to_end(&mut gunzipped)
                .unwrap();
            assert_eq!(&gunzipped, original, "{name}.gz");
            let size = sizes[name];
            assert!(size.brotli < size.raw && size.gzip < size.raw, "{name}: {size:?}");
        }
        assert!(!pkg.join("notes.txt.br").exists());
        let listed: Vec<String> = digest_dir(pkg).unwrap().into_keys().collect();
        assert_eq!(listed, ["console.js", "console_bg.wasm", "notes.txt"]);
    }

    /// A module and its compressed copies kept under one key come back for that key only (another module or
    /// another `wasm-opt` gives another key), and keeping an entry drops the one kept before.
    #[test]
    fn optimised_modules_are_reused_for_the_same_input_only() {
        let first = cache_key(b"module", Some("wasm-opt version 132 (version_132)"));
        assert_ne!(first, cache_key(b"module", None));
        assert_ne!(first, cache_key(b"module!", Some("wasm-opt version 132 (version_132)")));
        let dir = tempfile::tempdir().unwrap();
        let (built, next, cache) = (dir.path().join("built"), dir.path().join("next"), dir.path().join("cache"));
        for pkg in [&built, &next] {
            fs::create_dir_all(pkg).unwrap();
        }
        for (name, bytes) in [("console_bg.wasm", "small"), ("console_bg.wasm.br", "br"), ("console_bg.wasm.gz", "gz")]
        {
            fs::write(built.join(name), bytes).unwrap();
        }
        keep(&cache.join(&first), &built.join("console_bg.wasm")).unwrap();
        fs::write(next.join("console_bg.wasm"), "large").unwrap();
        assert!(!restore(&cache.join("another"), &next.join("console_bg.wasm")).unwrap());
        assert_eq!(fs::read_to_string(next.join("console_bg.wasm")).unwrap(), "large");
        assert!(restore(&cache.join(&first), &next.join("console_bg.wasm")).unwrap());
        for (name, bytes) in [("console_bg.wasm", "small"), ("console_bg.wasm.br", "br"), ("console_bg.wasm.gz", "gz")]
        {
            assert_eq!(fs::read_to_string(next.join(name)).unwrap(), bytes, "{name}");
        }
        keep(&cache.join("second"), &built.join("console_bg.wasm")).unwrap();
        let entries: Vec<String> = fs::read_dir(&cache)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, ["second"]);
    }

    /// A complete bundle replaces `pkg/` whole (no file of the old one stays), also where there was none, and
    /// nothing is left beside it.
    #[test]
    fn a_built_bundle_is_swapped_in_whole() {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        let build = |name: &str, files: &[&str]| {
            let staging = site.path().join(name);
            fs::create_dir_all(&staging).unwrap();
            for file in files {
                fs::write(staging.join(file), name).unwrap();
            }
            staging
        };
        swap_in(&build(".pkg-1", &["console.js", "snippet.js"]), &pkg).unwrap();
        swap_in(&build(".pkg-2", &["console.js"]), &pkg).unwrap();
        let names: Vec<String> = fs::read_dir(&pkg)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["console.js"]);
        assert_eq!(fs::read_to_string(pkg.join("console.js")).unwrap(), ".pkg-2");
        let left: Vec<String> = fs::read_dir(site.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["pkg"]);
    }

    /// `wasm-opt --version` lines are parsed to their release number, so Debian's 108 is told apart from 132, and
    /// the pinned npm release names the same number.
    #[test]
    fn wasm_opt_versions_are_parsed() {
        assert_eq!(release_of(crate::BINARYEN_VERSION), Some(132));
        assert!(release_of(crate::BINARYEN_VERSION) >= Some(MIN_WASM_OPT_VERSION));
        assert_eq!(wasm_opt_version("wasm-opt version 132 (version_132)"), Some(132));
        assert_eq!(wasm_opt_version("wasm-opt version 108"), Some(108));
        assert_eq!(wasm_opt_version("binaryen 132"), None);
        assert_eq!(wasm_opt_version(""), None);
    }
}
