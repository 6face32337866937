//! A signer's key kept in this browser between visits, encrypted under a passphrase only its owner knows.
//!
//! Keeping the key is a choice the signer makes when loading it; otherwise it lives in the tab's memory and is
//! gone on reload. A kept key is sealed here, in the browser: the passphrase is stretched with Argon2id (19 MiB,
//! 2 passes, 1 lane, a fresh random salt) into a key for XChaCha20-Poly1305, which encrypts the key's PKCS#8 form
//! under a fresh random nonce. The associated data binds the sealed key to its purpose, the chain (id and genesis
//! hash) and its public key, so a sealed key copied from another chain's console, or with its public key
//! altered, does not open. Only the sealed form is written to the browser's storage; the server never sees the
//! key, the passphrase or the sealed form.
//!
//! Everything here is pure (randomness comes in as arguments), so the same code is tested natively and runs in the
//! browser.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use governance_contracts::{
    codec,
    crypto::{PublicKey, SecretKey},
    domain::ChainIdentity,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    i18n::Lang,
    signer::{MAX_PEM_BYTES, Signer},
};

/// The browser storage entry a sealed key is kept under.
pub const STORAGE_KEY: &str = "synod.console.sealed-key";
/// The shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// The longest passphrase accepted, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// The longest sealed key read back from storage, in characters.
pub const MAX_SEALED_CHARS: usize = 8 * 1024;
/// Bytes of salt.
pub const SALT_BYTES: usize = 16;
/// Bytes of nonce (XChaCha20's extended nonce: random nonces never collide in practice).
pub const NONCE_BYTES: usize = 24;

/// The format of [`SealedKey`] this code writes.
const VERSION: u8 = 1;
/// Argon2id's cost when sealing: the memory in KiB, passes and lanes OWASP recommends for interactive use.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
/// The most any stored sealed key may ask of the browser when opened (a tampered entry cannot hang the page).
const MAX_MEMORY_KIB: u32 = 64 * 1024;
const MAX_PASSES: u32 = 8;
const MAX_LANES: u32 = 4;
/// What the associated data begins with.
const PURPOSE: &[u8] = b"synod/console/sealed-key/v1";

/// A key sealed under a passphrase, as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    /// The format version.
    pub version: u8,
    /// The key's public half, shown before the passphrase is asked for.
    pub public_key: PublicKey,
    /// Argon2id's memory cost in KiB.
    pub memory_kib: u32,
    /// Argon2id's passes.
    pub passes: u32,
    /// Argon2id's lanes.
    pub lanes: u32,
    /// The salt, hex.
    pub salt: String,
    /// The nonce, hex.
    pub nonce: String,
    /// The encrypted PKCS#8 PEM with its authentication tag, hex.
    pub ciphertext: String,
}

/// Why a key could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    /// The passphrase is too short to protect a key.
    #[error("the passphrase has {len} characters; use at least {min}")]
    WeakPassphrase {
        /// Characters given.
        len: usize,
        /// Characters required.
        min: usize,
    },
    /// The passphrase is longer than any passphrase the console accepts.
    #[error("the passphrase is longer than {max} bytes")]
    LongPassphrase {
        /// Bytes allowed.
        max: usize,
    },
    /// The passphrase is wrong, or the sealed key was altered or sealed for another chain.
    #[error("the passphrase is wrong, or the kept key was altered or belongs to another chain")]
    WrongPassphrase,
    /// The stored entry is not a sealed key this console reads.
    #[error("the kept key cannot be read: {0}")]
    Malformed(String),
    /// The key inside does not match the public key the entry names.
    #[error("the kept key does not match its public key")]
    Mismatch,
}

impl KeystoreError {
    /// The error in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, _) => self.to_string(),
            (Lang::ZhCn, Self::WeakPassphrase { len, min }) => format!("口令只有 {len} 个字符；至少需要 {min} 个"),
            (Lang::ZhCn, Self::LongPassphrase { max }) => format!("口令超过 {max} 字节"),
            (Lang::ZhCn, Self::WrongPassphrase) => "口令错误，或保存的私钥已被改动或属于另一条链".to_owned(),
            (Lang::ZhCn, Self::Malformed(detail)) => format!("无法读取保存的私钥：{detail}"),
            (Lang::ZhCn, Self::Mismatch) => "保存的私钥与其公钥不符".to_owned(),
        }
    }
}

/// The passphrase's length checks.
fn check_passphrase(passphrase: &str, sealing: bool) -> Result<(), KeystoreError> {
    if passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(KeystoreError::LongPassphrase { max: MAX_PASSPHRASE_BYTES });
    }
    let len = passphrase.chars().count();
    if sealing && len < MIN_PASSPHRASE_CHARS {
        return Err(KeystoreError::WeakPassphrase { len, min: MIN_PASSPHRASE_CHARS });
    }
    Ok(())
}

/// The associated data: the purpose, the chain and the public key.
fn associated_data(chain: &ChainIdentity, public_key: &PublicKey) -> Vec<u8> {
    let mut aad = PURPOSE.to_vec();
    aad.extend_from_slice(&codec::encode(chain));
    aad.extend_from_slice(public_key.as_bytes());
    aad
}

/// The cipher keyed by the passphrase stretched with Argon2id under `salt`.
fn cipher(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<XChaCha20Poly1305, KeystoreError> {
    let params =
        Params::new(memory_kib, passes, lanes, Some(32)).map_err(|e| KeystoreError::Malformed(e.to_string()))?;
    let mut key = Zeroizing::new([0_u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| KeystoreError::Malformed(e.to_string()))?;
    Ok(XChaCha20Poly1305::new(key.as_ref().into()))
}

/// Seals `signer`'s key for `chain` under `passphrase`, with a fresh random `salt` and `nonce`.
pub fn seal(
    signer: &Signer,
    chain: &ChainIdentity,
    passphrase: &str,
    salt: [u8; SALT_BYTES],
    nonce: [u8; NONCE_BYTES],
) -> Result<SealedKey, KeystoreError> {
    check_passphrase(passphrase, true)?;
    let public_key = signer.public_key();
    let pem = Zeroizing::new(signer.secret().to_pkcs8_pem().map_err(|e| KeystoreError::Malformed(e.to_string()))?);
    let cipher = cipher(passphrase, &salt, MEMORY_KIB, PASSES, LANES)?;
    let aad = associated_data(chain, &public_key);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: pem.as_bytes(), aad: &aad })
        .map_err(|_| KeystoreError::Malformed("encryption failed".to_owned()))?;
    Ok(SealedKey {
        version: VERSION,
        public_key,
        memory_kib: MEMORY_KIB,
        passes: PASSES,
        lanes: LANES,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Reads a stored entry (bounded) without opening it: enough to say whose key is kept.
pub fn parse(text: &str) -> Result<SealedKey, KeystoreError> {
    if text.len() > MAX_SEALED_CHARS {
        return Err(KeystoreError::Malformed(format!("the entry is longer than {MAX_SEALED_CHARS} characters")));
    }
    let sealed: SealedKey = serde_json::from_str(text).map_err(|e| KeystoreError::Malformed(e.to_string()))?;
    if sealed.version != VERSION {
        return Err(KeystoreError::Malformed(format!("format version {} is not {VERSION}", sealed.version)));
    }
    if sealed.memory_kib > MAX_MEMORY_KIB || sealed.passes > MAX_PASSES || sealed.lanes > MAX_LANES {
        return Err(KeystoreError::Malformed("its key-stretching cost is beyond what the console allows".to_owned()));
    }
    Ok(sealed)
}

/// Opens `sealed` for `chain` with `passphrase`: the signer it holds.
pub fn open(sealed: &SealedKey, chain: &ChainIdentity, passphrase: &str) -> Result<Signer, KeystoreError> {
    check_passphrase(passphrase, false)?;
    let field = |name: &str, text: &str, len: Option<usize>| {
        let bytes = hex::decode(text).map_err(|e| KeystoreError::Malformed(format!("{name}: {e}")))?;
        match len {
            Some(len) if bytes.len() != len => {
                Err(KeystoreError::Malformed(format!("{name} has {} bytes, not {len}", bytes.len())))
            }
            _ => Ok(bytes),
        }
    };
    let salt = field("salt", &sealed.salt, Some(SALT_BYTES))?;
    let nonce = field("nonce", &sealed.nonce, Some(NONCE_BYTES))?;
    let ciphertext = field("ciphertext", &sealed.ciphertext, None)?;
    let cipher = cipher(passphrase, &salt, sealed.memory_kib, sealed.passes, sealed.lanes)?;
    let aad = associated_data(chain, &sealed.public_key);
    let pem = Zeroizing::new(
        cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: &aad })
            .map_err(|_| KeystoreError::WrongPassphrase)?,
    );
    if pem.len() > MAX_PEM_BYTES {
        return Err(KeystoreError::Malformed("the key inside is too large".to_owned()));
    }
    let text =
        std::str::from_utf8(&pem).map_err(|_| KeystoreError::Malformed("the key inside is not text".to_owned()))?;
    let secret = SecretKey::from_pkcs8_pem(text).map_err(|e| KeystoreError::Malformed(e.to_string()))?;
    if secret.public_key() != sealed.public_key {
        return Err(KeystoreError::Mismatch);
    }
    Ok(Signer::from_secret(secret))
}

/// The browser's storage and randomness for kept keys.
#[cfg(feature = "hydrate")]
pub mod browser {
    use super::{KeystoreError, STORAGE_KEY, SealedKey};

    fn storage() -> Result<web_sys::Storage, KeystoreError> {
        web_sys::window()
            .and_then(|window| window.local_storage().ok().flatten())
            .ok_or_else(|| KeystoreError::Malformed("this browser offers no local storage".to_owned()))
    }

    /// The kept key, if there is one (an unreadable entry reads as an error, never as a key).
    pub fn load() -> Option<Result<SealedKey, KeystoreError>> {
        let text = storage().ok()?.get_item(STORAGE_KEY).ok().flatten()?;
        Some(super::parse(&text))
    }

    /// Keeps `sealed`, replacing any key kept before.
    pub fn save(sealed: &SealedKey) -> Result<(), KeystoreError> {
        let text = serde_json::to_string(sealed).map_err(|e| KeystoreError::Malformed(e.to_string()))?;
        storage()?
            .set_item(STORAGE_KEY, &text)
            .map_err(|_| KeystoreError::Malformed("the browser refused to store the key".to_owned()))
    }

    /// Forgets the kept key.
    pub fn forget() {
        if let Ok(storage) = storage() {
            storage.remove_item(STORAGE_KEY).ok();
        }
    }

    /// `N` bytes from the browser's cryptographic random source.
    pub fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
        let mut bytes = [0_u8; N];
        web_sys::window()
            .and_then(|window| window.crypto().ok())
            .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok())
            .ok_or_else(|| KeystoreError::Malformed("this browser offers no secure random numbers".to_owned()))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use governance_contracts::testkit;

    use super::*;

    fn chain(name: &str) -> ChainIdentity {
        ChainIdentity { chain_id: testkit::name(name), genesis_hash: governance_contracts::crypto::Digest::ZERO }
    }

    fn signer() -> Signer {
        Signer::from_secret(SecretKey::from_seed([7; 32]))
    }

    const PASSPHRASE: &str = "correct horse battery staple";

    /// A sealed key opens with its passphrase on its chain and yields the same key.
    #[test]
    fn a_sealed_key_opens_with_its_passphrase() {
        let sealed = seal(&signer(), &chain("alliance"), PASSPHRASE, [1; SALT_BYTES], [2; NONCE_BYTES]).unwrap();
        let stored = serde_json::to_string(&sealed).unwrap();
        let opened = open(&parse(&stored).unwrap(), &chain("alliance"), PASSPHRASE).unwrap();
        assert_eq!(opened.public_key(), signer().public_key());
        assert!(!stored.contains("PRIVATE KEY"), "the stored entry holds the key in the clear: {stored}");
    }

    /// A wrong passphrase, another chain, or an altered public key or ciphertext all fail to open, with the same
    /// error (nothing tells which).
    #[test]
    fn a_sealed_key_refuses_the_wrong_passphrase_chain_or_tampering() {
        let sealed = seal(&signer(), &chain("alliance"), PASSPHRASE, [1; SALT_BYTES], [2; NONCE_BYTES]).unwrap();
        assert_eq!(
            open(&sealed, &chain("alliance"), "correct horse battery stapler").err(),
            Some(KeystoreError::WrongPassphrase)
        );
        assert_eq!(open(&sealed, &chain("other"), PASSPHRASE).err(), Some(KeystoreError::WrongPassphrase));
        let mut swapped = sealed.clone();
        swapped.public_key = SecretKey::from_seed([8; 32]).public_key();
        assert_eq!(open(&swapped, &chain("alliance"), PASSPHRASE).err(), Some(KeystoreError::WrongPassphrase));
        let mut flipped = sealed;
        flipped.ciphertext.replace_range(0..2, if flipped.ciphertext.starts_with("00") { "01" } else { "00" });
        assert_eq!(open(&flipped, &chain("alliance"), PASSPHRASE).err(), Some(KeystoreError::WrongPassphrase));
    }

    /// A short passphrase is refused when sealing, with the length it needs.
    #[test]
    fn a_short_passphrase_is_refused() {
        let error = seal(&signer(), &chain("alliance"), "short", [1; SALT_BYTES], [2; NONCE_BYTES]).err();
        assert_eq!(error, Some(KeystoreError::WeakPassphrase { len: 5, min: MIN_PASSPHRASE_CHARS }));
    }

    /// Stored entries that are oversized, not JSON, of another version or asking for an extreme stretching cost
    /// are refused before any work is done.
    #[test]
    fn malformed_or_costly_entries_are_refused() {
        let sealed = seal(&signer(), &chain("alliance"), PASSPHRASE, [1; SALT_BYTES], [2; NONCE_BYTES]).unwrap();
        assert!(matches!(parse(&"x".repeat(MAX_SEALED_CHARS + 1)), Err(KeystoreError::Malformed(_))));
        assert!(matches!(parse("{not json"), Err(KeystoreError::Malformed(_))));
        let mut future = sealed.clone();
        future.version = 2;
        assert!(matches!(parse(&serde_json::to_string(&future).unwrap()), Err(KeystoreError::Malformed(_))));
        let mut costly = sealed.clone();
        costly.memory_kib = 4 * 1024 * 1024;
        assert!(matches!(parse(&serde_json::to_string(&costly).unwrap()), Err(KeystoreError::Malformed(_))));
        let mut short_salt = sealed;
        short_salt.salt = "00".to_owned();
        assert!(matches!(open(&short_salt, &chain("alliance"), PASSPHRASE), Err(KeystoreError::Malformed(_))));
    }
}
