//! Keys, signatures and hashes, each naming its scheme so that another suite (for example SM2/SM3) can be added
//! without a format break. The chain's suite is fixed in its genesis ([`CryptoSuite`]).
//!
//! Text form (JSON, CLI): `ed25519:<hex>` for keys and signatures, `sha256:<hex>` for digests.

use core::fmt;
use core::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// The signature and hash schemes a chain uses, fixed at genesis.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CryptoSuite {
    /// Ed25519 signatures (RFC 8032, strict verification) and SHA-256 hashes.
    Ed25519Sha256,
}

/// A hash, naming its function.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum Digest {
    /// SHA-256.
    Sha256([u8; 32]),
}

impl Digest {
    /// SHA-256 of the concatenation of `parts`.
    pub fn sha256(parts: &[&[u8]]) -> Self {
        let mut hasher = sha2::Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Self::Sha256(hasher.finalize().into())
    }

    /// The raw hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        match self {
            Self::Sha256(bytes) => bytes,
        }
    }

    /// The all-zero SHA-256 digest, used as the parent of the first block.
    pub const ZERO: Self = Self::Sha256([0; 32]);
}

/// A public key, naming its scheme.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum PublicKey {
    /// An Ed25519 verifying key (32 bytes, compressed Edwards point).
    Ed25519([u8; 32]),
}

/// A signature, naming its scheme.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum Signature {
    /// An Ed25519 signature (64 bytes).
    Ed25519([u8; 64]),
}

/// Why a public key is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not a valid point, or a weak (small-order) key.
    #[error("not a valid public key")]
    InvalidKey,
    /// The key's scheme is not the chain's suite.
    #[error("key scheme does not match the chain's crypto suite")]
    WrongScheme,
    /// A private key file could not be read.
    #[error("not an Ed25519 PKCS#8 private key: {0}")]
    BadPrivateKey(String),
    /// Text could not be parsed as a key, signature or digest.
    #[error("cannot parse {0:?}: expected `scheme:hex`")]
    Unparseable(String),
}

impl PublicKey {
    /// Checks that the key is a valid, non-weak point of the chain's suite. Keys are checked when registered, so a
    /// key that can sign for everything never enters state.
    pub fn validate(&self, suite: CryptoSuite) -> Result<(), KeyError> {
        match (self, suite) {
            (Self::Ed25519(bytes), CryptoSuite::Ed25519Sha256) => {
                let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidKey)?;
                if key.is_weak() {
                    return Err(KeyError::InvalidKey);
                }
                Ok(())
            }
        }
    }

    /// Verifies `signature` over the 32-byte `digest` (strict Ed25519: no malleable signatures, no weak keys).
    pub fn verify(&self, digest: &Digest, signature: &Signature) -> bool {
        match (self, signature) {
            (Self::Ed25519(key), Signature::Ed25519(sig)) => {
                let Ok(key) = VerifyingKey::from_bytes(key) else { return false };
                let sig = ed25519_dalek::Signature::from_bytes(sig);
                key.verify_strict(digest.as_bytes(), &sig).is_ok()
            }
        }
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        match self {
            Self::Ed25519(bytes) => bytes,
        }
    }
}

/// One signature to check: who, over what, with which signature.
#[derive(Debug, Clone, Copy)]
pub struct SignedDigest {
    /// The claimed signer.
    pub key: PublicKey,
    /// What was signed.
    pub digest: Digest,
    /// The signature.
    pub signature: Signature,
}

/// Verifies many signatures at once (ed25519 batch verification over non-weak keys). Returns the index of the
/// first invalid one.
///
/// The batch equation is cofactored and may accept a few signatures that strict single verification refuses, so
/// this function *defines* acceptance for the data it is used on (proposal approvals): the mempool, execution and
/// dry runs all call it, and every node reaches the same verdict. Small inputs take the strict path.
pub fn verify_all(items: &[SignedDigest]) -> Result<(), usize> {
    if items.len() < 4 {
        return match items.iter().position(|i| !i.key.verify(&i.digest, &i.signature)) {
            Some(bad) => Err(bad),
            None => Ok(()),
        };
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let (PublicKey::Ed25519(key), Signature::Ed25519(sig)) = (item.key, item.signature);
        let Ok(key) = VerifyingKey::from_bytes(&key) else { return Err(index) };
        if key.is_weak() {
            return Err(index);
        }
        keys.push(key);
        sigs.push(ed25519_dalek::Signature::from_bytes(&sig));
    }
    let messages: Vec<&[u8]> = items.iter().map(|i| i.digest.as_bytes().as_slice()).collect();
    if ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok() {
        return Ok(());
    }
    match items.iter().position(|i| !i.key.verify(&i.digest, &i.signature)) {
        Some(bad) => Err(bad),
        // The batch failed though every item verifies alone: refuse deterministically, naming the first.
        None => Err(0),
    }
}

/// A private signing key. It lives in the signer's process (CLI, node keystore, browser memory) and never in state,
/// on the wire or on a server.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A key from 32 bytes of seed. The caller supplies the randomness (this crate draws none).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// Reads a PKCS#8 PEM private key, the format `openssl genpkey -algorithm ed25519` writes.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem).map(Self).map_err(|e| KeyError::BadPrivateKey(e.to_string()))
    }

    /// Writes the key as PKCS#8 PEM in the form `openssl genpkey -algorithm ed25519` writes: version 1, the
    /// private key only (OpenSSL 3.0 refuses the version 2 form that also embeds the public key).
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes { secret_key: self.0.to_bytes(), public_key: None };
        bytes
            .to_pkcs8_pem(Default::default())
            .map(|pem| pem.to_string())
            .map_err(|e| KeyError::BadPrivateKey(e.to_string()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.0.verifying_key().to_bytes())
    }

    /// Signs a 32-byte digest made by one of the functions in [`crate::domain`].
    pub fn sign(&self, digest: &Digest) -> Signature {
        Signature::Ed25519(self.0.sign(digest.as_bytes()).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.public_key())
    }
}

fn parse_tagged<const N: usize>(text: &str, tag: &str) -> Result<[u8; N], KeyError> {
    let bad = || KeyError::Unparseable(text.chars().take(160).collect());
    let hex_part = text.strip_prefix(tag).and_then(|rest| rest.strip_prefix(':')).ok_or_else(bad)?;
    let mut out = [0u8; N];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| bad())?;
    Ok(out)
}

macro_rules! text_form {
    ($ty:ident, $variant:ident, $tag:literal, $len:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let Self::$variant(bytes) = self;
                write!(f, concat!($tag, ":{}"), hex::encode(bytes))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $ty {
            type Err = KeyError;
            fn from_str(text: &str) -> Result<Self, KeyError> {
                parse_tagged::<$len>(text, $tag).map(Self::$variant)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_form!(PublicKey, Ed25519, "ed25519", 32);
text_form!(Signature, Ed25519, "ed25519", 64);
text_form!(Digest, Sha256, "sha256", 32);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    /// A signature verifies under its own key and digest, and under no other.
    #[test]
    fn signatures_bind_key_and_digest() {
        let d = Digest::sha256(&[b"x"]);
        let sig = key(1).sign(&d);
        assert!(key(1).public_key().verify(&d, &sig));
        assert!(!key(2).public_key().verify(&d, &sig));
        assert!(!key(1).public_key().verify(&Digest::sha256(&[b"y"]), &sig));
    }

    /// Batch verification accepts a valid batch and names the first bad item of an invalid one.
    #[test]
    fn batch_verification_names_the_bad_item() {
        let items: Vec<SignedDigest> = (0..8u8)
            .map(|n| {
                let digest = Digest::sha256(&[&[n]]);
                SignedDigest { key: key(n).public_key(), digest, signature: key(n).sign(&digest) }
            })
            .collect();
        assert_eq!(verify_all(&items), Ok(()));
        let mut bad = items.clone();
        bad[5].signature = bad[4].signature;
        assert_eq!(verify_all(&bad), Err(5));
    }

    /// Keys round-trip through PKCS#8 PEM in openssl's layout, and a PEM written by `openssl genpkey -algorithm
    /// ed25519` loads.
    #[test]
    fn pkcs8_pem_round_trip_and_openssl_compatibility() {
        let pem = key(7).to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(SecretKey::from_pkcs8_pem(&pem).unwrap().public_key(), key(7).public_key());
        // Version 1, private key only: the same 48-byte layout (and so the same base64 prefix) as openssl's.
        assert!(pem.lines().nth(1).unwrap().starts_with("MC4CAQAwBQYDK2VwBCIEI"), "{pem}");
        // Generated with `openssl genpkey -algorithm ed25519` (OpenSSL 3.0).
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINnzeNAbKOiqyPx4bQSOn6yzRsNyHV65QHf9nPBrYsZE\n-----END PRIVATE KEY-----\n";
        assert!(SecretKey::from_pkcs8_pem(openssl).is_ok());
        assert!(SecretKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
    }

    /// Text forms round-trip and refuse the wrong scheme or length.
    #[test]
    fn text_forms_round_trip() {
        let pk = key(3).public_key();
        assert_eq!(pk.to_string().parse::<PublicKey>().unwrap(), pk);
        assert!("sha256:00".parse::<PublicKey>().is_err());
        assert!(format!("ed25519:{}", "ab".repeat(31)).parse::<PublicKey>().is_err());
        let d = Digest::sha256(&[b"a"]);
        assert_eq!(serde_json::from_str::<Digest>(&serde_json::to_string(&d).unwrap()).unwrap(), d);
    }

    /// The identity point (a weak key) is refused at registration.
    #[test]
    fn weak_keys_are_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::Ed25519(identity).validate(CryptoSuite::Ed25519Sha256), Err(KeyError::InvalidKey));
        assert!(key(1).public_key().validate(CryptoSuite::Ed25519Sha256).is_ok());
    }
}
