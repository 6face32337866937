//! Reading the node's keys from its home (`HOME/keys/node-N.pem`, see [`super::config`]) so that what is read is
//! what the checks judged, and nothing outside the home or readable by others is ever taken for a key:
//!
//! - the key directory is opened once, without following a symbolic link, and must be a directory that only its
//!   owner may write into (`chmod go-w`);
//! - each key file is opened relative to that open directory, without following a symbolic link (a link is
//!   refused, wherever it points) and without waiting (a FIFO is refused, never waited on); its kind, its
//!   permissions and its size are then checked on the open handle, and it is read once from that same handle,
//!   so nothing can be swapped in between a check and the read;
//! - it must be a regular file that neither group nor others may read or write (`chmod 600`, as `synod keygen`
//!   and `synod key rotate` create them), of at most [`MAX_KEY_BYTES`] bytes;
//! - every load runs every check again: the runtime's key pickup after a rotation judges a file replaced while the
//!   node ran as it would at start.
//!
//! On platforms other than Unix the files are read as plain files, without these checks.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use governance_contracts::crypto::SecretKey;

use super::MAX_KEY_BYTES;
use super::config::{MAX_KEY_FILES, key_index, key_path, keys_dir};

/// Every key in `HOME/keys/node-N.pem`, in the order of `N`, each checked (see the [module docs](self)). A home
/// without any is an error; so is a file named like a key that fails a check or is not an ed25519 key.
pub fn load_keys(home: &Path) -> anyhow::Result<Vec<(u32, SecretKey)>> {
    let dir = keys_dir(home);
    let mut directory = open_directory(&dir)?;
    let mut keys = Vec::new();
    for (index, name) in directory.key_files()? {
        if keys.len() >= MAX_KEY_FILES {
            bail!("key directory {}: more than {MAX_KEY_FILES} node keys", dir.display());
        }
        keys.push((index, directory.read_key(&name)?));
    }
    if keys.is_empty() {
        bail!("key directory {}: no node key (node-0.pem, node-1.pem, ...)", dir.display());
    }
    keys.sort_by_key(|(index, _)| *index);
    Ok(keys)
}

/// The key in `HOME/keys/node-<index>.pem`, checked as [`load_keys`] checks each.
pub fn load_key(home: &Path, index: u32) -> anyhow::Result<SecretKey> {
    let path = key_path(home, index);
    let name = path.file_name().ok_or_else(|| anyhow!("{} is not a file path", path.display()))?;
    open_directory(&keys_dir(home))?.read_key(&name.to_string_lossy())
}

/// The bytes of a key file, as a secret key, read by the contracts' one key-file reader.
fn parse_key(path: &Path, bytes: &[u8]) -> anyhow::Result<SecretKey> {
    SecretKey::from_key_file(bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

#[cfg(unix)]
use unix::open_directory;

#[cfg(unix)]
mod unix {
    use std::ffi::OsStr;
    use std::fs::File;
    use std::io::Read as _;
    use std::os::unix::ffi::OsStrExt as _;
    use std::path::{Path, PathBuf};

    use nix::dir::Dir;
    use nix::errno::Errno;
    use nix::fcntl::{OFlag, open, openat};
    use nix::libc::mode_t;
    use nix::sys::stat::{FileStat, Mode, SFlag, fstat};

    use super::*;

    /// Permission bits for group and others.
    const GROUP_OR_OTHERS: mode_t = 0o077;
    /// Write permission for group and others.
    const GROUP_OR_OTHERS_WRITE: mode_t = 0o022;
    /// Every permission bit.
    const PERMISSIONS: mode_t = 0o777;

    /// The key directory, open.
    pub(super) struct KeyDirectory {
        path: PathBuf,
        dir: Dir,
    }

    /// The kind of file `stat` describes, in words.
    fn kind(stat: &FileStat) -> &'static str {
        match SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) {
            SFlag::S_IFREG => "a regular file",
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFIFO => "a FIFO",
            SFlag::S_IFSOCK => "a socket",
            SFlag::S_IFCHR => "a character device",
            SFlag::S_IFBLK => "a block device",
            SFlag::S_IFLNK => "a symbolic link",
            _ => "of an unknown kind",
        }
    }

    fn is(stat: &FileStat, kind: SFlag) -> bool {
        stat.st_mode & SFlag::S_IFMT.bits() == kind.bits()
    }

    /// Opens the key directory `path` without following a symbolic link.
    pub(super) fn open_directory(path: &Path) -> anyhow::Result<KeyDirectory> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = open(path, flags, Mode::empty()).map_err(|errno| match errno {
            Errno::ELOOP | Errno::ENOTDIR if path.is_symlink() => anyhow!(
                "key directory {}: is a symbolic link: the node reads its keys only from a directory inside its \
                 home; make it a directory and put the keys in it",
                path.display()
            ),
            Errno::ENOTDIR => anyhow!("key directory {}: is not a directory", path.display()),
            other => anyhow!("key directory {}: cannot open: {}", path.display(), std::io::Error::from(other)),
        })?;
        let stat = fstat(&fd).with_context(|| format!("key directory {}: cannot read its kind", path.display()))?;
        if stat.st_mode & GROUP_OR_OTHERS_WRITE != 0 {
            bail!(
                "key directory {}: group or others may write into it (mode {:o}): run `chmod go-w {}`",
                path.display(),
                stat.st_mode & PERMISSIONS,
                path.display()
            );
        }
        let dir = Dir::from_fd(fd).with_context(|| format!("key directory {}: cannot read", path.display()))?;
        Ok(KeyDirectory { path: path.to_path_buf(), dir })
    }

    impl KeyDirectory {
        /// The `node-N.pem` names in the directory, with their `N` (one more than [`MAX_KEY_FILES`] at most).
        pub(super) fn key_files(&mut self) -> anyhow::Result<Vec<(u32, String)>> {
            let mut names = Vec::new();
            for entry in self.dir.iter() {
                let entry = entry.with_context(|| format!("key directory {}: cannot read", self.path.display()))?;
                let Ok(name) = entry.file_name().to_str() else { continue };
                if let Some(index) = key_index(name) {
                    if names.len() > MAX_KEY_FILES {
                        break;
                    }
                    names.push((index, name.to_owned()));
                }
            }
            Ok(names)
        }

        /// Opens the key file `name` in this directory, checks it on the open handle and reads it from there.
        pub(super) fn read_key(&self, name: &str) -> anyhow::Result<SecretKey> {
            let path = self.path.join(name);
            let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
            let fd =
                openat(&self.dir, OsStr::from_bytes(name.as_bytes()), flags, Mode::empty()).map_err(
                    |errno| match errno {
                        Errno::ELOOP => anyhow!(
                            "key file {}: is a symbolic link: the node reads keys only from regular files in {}; copy \
                         the key there (mode 600) instead of linking it",
                            path.display(),
                            self.path.display()
                        ),
                        other => anyhow!("key file {}: cannot open: {}", path.display(), std::io::Error::from(other)),
                    },
                )?;
            let stat = fstat(&fd).with_context(|| format!("key file {}: cannot read its kind", path.display()))?;
            if !is(&stat, SFlag::S_IFREG) {
                bail!(
                    "key file {}: is not a regular file but {}: put the key itself there",
                    path.display(),
                    kind(&stat)
                );
            }
            if stat.st_mode & GROUP_OR_OTHERS != 0 {
                bail!(
                    "key file {}: group or others may read or write it (mode {:o}): run `chmod 600 {}`",
                    path.display(),
                    stat.st_mode & PERMISSIONS,
                    path.display()
                );
            }
            let len = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
            if len > MAX_KEY_BYTES {
                bail!("key file {}: {len} bytes, more than the {MAX_KEY_BYTES} allowed", path.display());
            }
            let mut bytes = Vec::new();
            File::from(fd)
                .take(MAX_KEY_BYTES.saturating_add(1))
                .read_to_end(&mut bytes)
                .with_context(|| format!("key file {}: cannot read", path.display()))?;
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_BYTES {
                bail!("key file {}: grew past the {MAX_KEY_BYTES} bytes allowed while being read", path.display());
            }
            parse_key(&path, &bytes)
        }
    }
}

#[cfg(not(unix))]
use portable::open_directory;

#[cfg(not(unix))]
mod portable {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The key directory.
    pub(super) struct KeyDirectory {
        path: PathBuf,
    }

    pub(super) fn open_directory(path: &Path) -> anyhow::Result<KeyDirectory> {
        Ok(KeyDirectory { path: path.to_path_buf() })
    }

    impl KeyDirectory {
        pub(super) fn key_files(&mut self) -> anyhow::Result<Vec<(u32, String)>> {
            let entries = std::fs::read_dir(&self.path)
                .with_context(|| format!("key directory {}: cannot read", self.path.display()))?;
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.with_context(|| format!("key directory {}: cannot read", self.path.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(index) = key_index(&name) {
                    names.push((index, name));
                }
            }
            Ok(names)
        }

        pub(super) fn read_key(&self, name: &str) -> anyhow::Result<SecretKey> {
            let path = self.path.join(name);
            let bytes = crate::cli::files::read_bounded(&path, MAX_KEY_BYTES, "key file")?;
            parse_key(&path, &bytes)
        }
    }
}
