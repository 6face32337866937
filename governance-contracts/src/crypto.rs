//! Keys, signatures and hashes, each naming its scheme so that another suite (for example SM2/SM3) can be added
//! without a format break. The chain's suite is fixed in its genesis ([`CryptoSuite`]).
//!
//! Text form (JSON, CLI): `ed25519:<hex>` for keys and signatures, `sha256:<hex>` for digests.
//!
//! Key files: [`SecretKey::from_key_file`] is the one reader of private key files, used by the node, the CLI and
//! the console's browser signer alike, so each says the same words ([`KeyFileError`]) about the same bad file.

use core::fmt;
use core::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, PrivateKeyInfoRef};
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
    /// A private key could not be read or written (the reason, in [`KeyFileError`]'s words).
    #[error("{0}")]
    BadPrivateKey(String),
    /// Text could not be parsed as a key, signature or digest.
    #[error("cannot parse {0:?}: expected `scheme:hex`")]
    Unparseable(String),
}

/// The largest private key file read, in bytes (an Ed25519 key file has 119, an RSA-4096 one about 3,300).
pub const MAX_KEY_FILE_BYTES: usize = 16 * 1024;

/// The key file Synod reads, in the words that end every [`KeyFileError`].
pub const KEY_FILE_NEEDED: &str = "an unencrypted Ed25519 private key in PKCS#8 PEM, as `synod keygen` or \
                                   `openssl genpkey -algorithm ed25519` writes";

/// Why a private key file is not a key Synod can sign with ([`SecretKey::from_key_file`]). Each message is one
/// sentence: what is wrong with the file, then what Synod needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The file is empty, or holds only whitespace.
    #[error("the key file is empty; Synod needs {KEY_FILE_NEEDED}")]
    Empty,
    /// The file is larger than any key file.
    #[error("the key file is {len} bytes, more than the {max} a key file may have; Synod needs {KEY_FILE_NEEDED}")]
    TooLarge {
        /// Bytes given.
        len: usize,
        /// Bytes allowed ([`MAX_KEY_FILE_BYTES`]).
        max: usize,
    },
    /// The file is binary (for example a DER key), not PEM text.
    #[error("the key file is binary, not PEM text; Synod needs {KEY_FILE_NEEDED}")]
    NotText,
    /// The file is text without any PEM block.
    #[error("the key file holds no \"-----BEGIN PRIVATE KEY-----\" block; Synod needs {KEY_FILE_NEEDED}")]
    NoPemBlock,
    /// The file holds an encrypted PKCS#8 key.
    #[error(
        "the key file holds an encrypted private key; decrypt it with `openssl pkey -in KEY -out PLAIN.pem`, since \
         Synod needs {KEY_FILE_NEEDED}"
    )]
    Encrypted,
    /// The file holds PEM blocks of other kinds only: a public key, a certificate, an OpenSSH, PKCS#1 or SEC1 key.
    #[error(
        "the key file holds {}, not a PKCS#8 private key; Synod needs {KEY_FILE_NEEDED}",
        key_file::label_words(label)
    )]
    WrongLabel {
        /// The first block's label (`PUBLIC KEY`, `OPENSSH PRIVATE KEY`, ...), at most 64 characters.
        label: String,
    },
    /// The private key block has no `-----END PRIVATE KEY-----` line: the file was cut short.
    #[error(
        "the key file is cut short: its private key block has no \"-----END PRIVATE KEY-----\" line; Synod needs \
         {KEY_FILE_NEEDED}"
    )]
    Truncated,
    /// The private key block's content is not valid base64, or does not decode to a PKCS#8 private key.
    #[error(
        "the key file is damaged: its private key block does not decode to a PKCS#8 private key; Synod needs \
         {KEY_FILE_NEEDED}"
    )]
    Damaged,
    /// A PKCS#8 private key of an algorithm this reader does not name.
    #[error(
        "the key file holds a private key for an algorithm Synod does not know (OID {oid}), not for Ed25519; Synod \
         needs {KEY_FILE_NEEDED}"
    )]
    UnknownAlgorithm {
        /// The algorithm's object identifier, dotted.
        oid: String,
    },
    /// A PKCS#8 private key of another algorithm.
    #[error("the key file holds a private key for {name}, not for Ed25519; Synod needs {KEY_FILE_NEEDED}")]
    OtherAlgorithm {
        /// The algorithm in words (`RSA`, `X25519`, `EC P-256`, `SM2`, ...).
        name: String,
    },
}

/// The parts of [`SecretKey::from_key_file`]: finding the private key block, and naming other algorithms.
mod key_file {
    use ed25519_dalek::pkcs8::ObjectIdentifier;
    use ed25519_dalek::pkcs8::spki::AlgorithmIdentifierRef;
    use ed25519_dalek::pkcs8::spki::der::pem;

    use super::{KeyFileError, MAX_KEY_FILE_BYTES};

    /// The label of the PEM block Synod reads.
    const PRIVATE_KEY: &str = "PRIVATE KEY";
    /// The longest label quoted back in an error.
    const MAX_LABEL_CHARS: usize = 64;
    /// Ed25519 (RFC 8410).
    pub(super) const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    /// EC public keys (RFC 5480): the curve is the algorithm's parameter.
    const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

    /// Algorithms a private key file may hold, by object identifier.
    const ALGORITHMS: [(&str, &str); 8] = [
        ("1.2.840.113549.1.1.1", "RSA"),
        ("1.2.840.113549.1.1.10", "RSA-PSS"),
        ("1.2.840.10040.4.1", "DSA"),
        ("1.2.840.113549.1.3.1", "Diffie-Hellman"),
        ("1.3.101.110", "X25519"),
        ("1.3.101.111", "X448"),
        ("1.3.101.113", "Ed448"),
        ("1.2.156.10197.1.301", "SM2"),
    ];

    /// Elliptic curves of EC keys, by object identifier.
    const CURVES: [(&str, &str); 7] = [
        ("1.2.840.10045.3.1.7", "EC P-256"),
        ("1.3.132.0.34", "EC P-384"),
        ("1.3.132.0.35", "EC P-521"),
        ("1.3.132.0.10", "EC secp256k1"),
        ("1.2.156.10197.1.301", "SM2"),
        ("1.3.36.3.3.2.8.1.1.7", "EC brainpoolP256r1"),
        ("1.2.840.10045.3.1.1", "EC P-192"),
    ];

    /// The DER bytes of the file's `PRIVATE KEY` block, or why there is none.
    pub(super) fn private_key_der(bytes: &[u8]) -> Result<Vec<u8>, KeyFileError> {
        if bytes.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyFileError::TooLarge { len: bytes.len(), max: MAX_KEY_FILE_BYTES });
        }
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(KeyFileError::Empty);
        }
        let text = core::str::from_utf8(bytes).map_err(|_| KeyFileError::NotText)?;
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(KeyFileError::NotText);
        }
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let labels: Vec<(usize, &str)> = lines
            .iter()
            .enumerate()
            .filter_map(|(at, line)| line.strip_prefix("-----BEGIN ")?.strip_suffix("-----").map(|label| (at, label)))
            .collect();
        let Some(&(begin, _)) = labels.iter().find(|(_, label)| *label == PRIVATE_KEY) else {
            return Err(match labels.first() {
                None => KeyFileError::NoPemBlock,
                Some(_) if labels.iter().any(|(_, label)| *label == "ENCRYPTED PRIVATE KEY") => KeyFileError::Encrypted,
                Some((_, label)) => KeyFileError::WrongLabel { label: label.chars().take(MAX_LABEL_CHARS).collect() },
            });
        };
        let body = lines.get(begin.saturating_add(1)..).unwrap_or_default();
        let end = body.iter().position(|line| *line == "-----END PRIVATE KEY-----").ok_or(KeyFileError::Truncated)?;
        let base64: String = body.get(..end).unwrap_or_default().concat();
        if base64.is_empty() || base64.contains(|c: char| c.is_whitespace() || c == ':') {
            return Err(KeyFileError::Damaged);
        }
        // Re-wrapped at RFC 7468's 64 columns, so a file wrapped at another width still reads.
        let mut block = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in base64.as_bytes().chunks(64) {
            block.push_str(core::str::from_utf8(chunk).map_err(|_| KeyFileError::Damaged)?);
            block.push('\n');
        }
        block.push_str("-----END PRIVATE KEY-----\n");
        pem::decode_vec(block.as_bytes()).map(|(_, der)| der).map_err(|_| KeyFileError::Damaged)
    }

    /// The error for a key of another algorithm than Ed25519: its name (an EC key's curve), or its object
    /// identifier when this reader does not know it.
    pub(super) fn other_algorithm(algorithm: &AlgorithmIdentifierRef<'_>) -> KeyFileError {
        let oid = algorithm.oid.to_string();
        let name = if algorithm.oid == EC_PUBLIC_KEY {
            let curve = algorithm.parameters_oid().map(|curve| curve.to_string()).unwrap_or_default();
            Some(CURVES.iter().find(|(id, _)| *id == curve).map_or("EC", |(_, name)| *name))
        } else {
            ALGORITHMS.iter().find(|(id, _)| *id == oid).map(|(_, name)| *name)
        };
        match name {
            Some(name) => KeyFileError::OtherAlgorithm { name: name.to_owned() },
            None => KeyFileError::UnknownAlgorithm { oid },
        }
    }

    /// A PEM block's label in words.
    pub fn label_words(label: &str) -> String {
        match label {
            "PUBLIC KEY" => "a public key".to_owned(),
            "RSA PRIVATE KEY" => "an RSA private key in the older PKCS#1 form".to_owned(),
            "EC PRIVATE KEY" => "an EC private key in the SEC1 form".to_owned(),
            "OPENSSH PRIVATE KEY" => "an OpenSSH private key".to_owned(),
            "CERTIFICATE" => "a certificate".to_owned(),
            other => format!("a \"{other}\" block"),
        }
    }
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

/// Signatures a node has already verified strictly, remembered so that each is checked once however many times
/// the node meets it (mempool admission, block building, checking a proposed block, executing it).
///
/// An implementation must only ever hold triples that [`PublicKey::verify`] accepts: [`Verifier`] inserts a
/// triple only after verifying it, and trusts whatever the set holds. Held or not, a triple gets the same
/// verdict, so the set changes how fast a node decides, never what it decides.
pub trait VerifiedSignatures: Send + Sync {
    /// Whether `item` was verified.
    fn contains(&self, item: &SignedDigest) -> bool;
    /// Remembers that `item` verified (the set may forget it again: it is bounded).
    fn insert(&self, item: &SignedDigest);
}

/// How the contracts verify signatures: strictly, consulting and feeding a node's [`VerifiedSignatures`] when
/// it has one. The verdicts are those of [`PublicKey::verify`] and [`verify_all`] whatever the set holds.
#[derive(Clone, Default)]
pub struct Verifier {
    verified: Option<std::sync::Arc<dyn VerifiedSignatures>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("cached", &self.verified.is_some()).finish()
    }
}

impl Verifier {
    /// A verifier that remembers what it verifies in `verified`, and trusts what it holds.
    pub fn cached(verified: std::sync::Arc<dyn VerifiedSignatures>) -> Self {
        Self { verified: Some(verified) }
    }

    /// [`PublicKey::verify`] of one triple, skipped when the set holds it; a triple that verifies is remembered.
    pub fn verify(&self, item: &SignedDigest) -> bool {
        if let Some(verified) = &self.verified
            && verified.contains(item)
        {
            return true;
        }
        let valid = item.key.verify(&item.digest, &item.signature);
        if valid && let Some(verified) = &self.verified {
            verified.insert(item);
        }
        valid
    }

    /// [`verify_all`]: `Ok` at once when the set holds every item (each verifies strictly, so the batch
    /// equation holds for them all); otherwise the very same check over all of them, whose batch acceptance is
    /// not remembered (it is not strict acceptance). Below four items, each item goes through [`Self::verify`].
    pub fn verify_all(&self, items: &[SignedDigest]) -> Result<(), usize> {
        if items.len() < 4 {
            return match items.iter().position(|item| !self.verify(item)) {
                Some(bad) => Err(bad),
                None => Ok(()),
            };
        }
        if let Some(verified) = &self.verified
            && items.iter().all(|item| verified.contains(item))
        {
            return Ok(());
        }
        verify_all(items)
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

    /// Reads a PKCS#8 PEM private key, the format `openssl genpkey -algorithm ed25519` writes, with
    /// [`Self::from_key_file`], for callers that report a [`KeyError`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_key_file(pem.as_bytes()).map_err(|e| KeyError::BadPrivateKey(e.to_string()))
    }

    /// Reads the bytes of a private key file: an unencrypted Ed25519 private key in PKCS#8 PEM, as `synod keygen`
    /// and `openssl genpkey -algorithm ed25519` write it. Text around the block (comments, other PEM blocks such as
    /// a certificate, a byte-order mark, Windows line ends) is ignored, and the base64 may be wrapped at any width.
    /// Anything else is refused with the reason in words ([`KeyFileError`]): the node, the CLI and the console all
    /// read keys here.
    pub fn from_key_file(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let der = key_file::private_key_der(bytes)?;
        let info = PrivateKeyInfoRef::try_from(der.as_slice()).map_err(|_| KeyFileError::Damaged)?;
        if info.algorithm.oid != key_file::ED25519 {
            return Err(key_file::other_algorithm(&info.algorithm));
        }
        SigningKey::from_pkcs8_der(&der).map(Self).map_err(|_| KeyFileError::Damaged)
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

    /// Key files of other algorithms, generated once with `openssl genpkey -algorithm ALG` (OpenSSL 3.0; RSA at
    /// 512 bits to stay short), with the name each error gives them.
    const OTHER_ALGORITHMS: [(&str, &str); 6] = [
        (
            "RSA",
            "-----BEGIN PRIVATE KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEFAASCAUEwggE9AgEAAkEAwbD0ylYb8KjTbZV+\n\
             9uZSq3oF58oc97yPKTzx1luAFvCpNxPYdMBv+i/KG58/PGca8DvdE1FsUIZ0rebL\n\
             c29wAwIDAQABAkEAlxOdfAz6MhadA0auB4rTRKki3g7J1Xof+DxvLZGlMT4eQ2fN\n\
             WpW1bNUPZVEFCtZkjF3q0MsfjQ5tt5h4oWYgAQIhAOb0RTXuCAw3B6yh1u/E90XF\n\
             OPZaAhuxha0hew3fW3gBAiEA1rIx+u0HYEtIQ/cpQ47lscwtV+Q9J3RLdIkTFmGd\n\
             CAMCIQCMWRDeDwKQ+bgOLmNBXb6uhYVyH4x8a8rCRUBUU9FwAQIhAKu/k2IDedIb\n\
             hyzvrO/hgXhROLjF2fIVA0OvYDiYT/GXAiEA5NZZO4vNcjVwPqTr4nys3gPAKXF2\n\
             m0qqVi1+458u9H0=\n-----END PRIVATE KEY-----\n",
        ),
        (
            "X25519",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIEBB55FL6hFSaVTamR8Zlbn53StRFlIyNCEXNgt9lfh0\n\
             -----END PRIVATE KEY-----\n",
        ),
        (
            "Ed448",
            "-----BEGIN PRIVATE KEY-----\nMEcCAQAwBQYDK2VxBDsEOffK8dsWCIEsV6iYF+kB47fpGUIChQcF38sIstcMZfSc\n\
             Y55/5l3Zj3VQ/qdZFrkYmDMJQ5leTblgUw==\n-----END PRIVATE KEY-----\n",
        ),
        (
            "EC P-256",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghAv7cakqk50fhJYr\n\
             TpkRtJoOGdOkbjhZjxnNRsJZn1ShRANCAARuPLjWvCNq3lS49eu6tzESA5XTpxXy\n\
             kcqu/KCaelhKKmTph9kCN7ek2gRcJOjPFDwVVM+ymvpXAXcwqTET11z4\n-----END PRIVATE KEY-----\n",
        ),
        (
            "EC secp256k1",
            "-----BEGIN PRIVATE KEY-----\nMIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQglgdwsjpfExpmBvxx4zpm\n\
             RCglTRb2nHy88WVn2kQFnByhRANCAAQqJiTkMf5f9tPTLPi7ro+SC+k8oxReYzs+\n\
             IraBWOemnYuh9Xgib8w7jMz0cQgNj8PPA0bCD4doKQyNrQ2A3Ybr\n-----END PRIVATE KEY-----\n",
        ),
        (
            "SM2",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgj32m3DGOZLwZsoYl\n\
             xHJafbnez5XmTH+R19VGocpmwpChRANCAATuwAcDA19WVSC25dR4tihIXXiXdPrx\n\
             H+QPHLEuCWI8Wz2AcDBV26RFWnPu6rGRJSmaMzCDHiY6AhzQgariDAum\n-----END PRIVATE KEY-----\n",
        ),
    ];

    /// An Ed25519 key written by `openssl genpkey -algorithm ed25519` (OpenSSL 3.0).
    const OPENSSL_ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINnzeNAbKOiqyPx4bQSOn6yzRsNyHV65QHf9nPBrYsZE\n-----END PRIVATE KEY-----\n";

    /// The same key encrypted by `openssl pkcs8 -topk8` (PBES2).
    const ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAh/HUuFUd1cswICCAAw\n\
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEA5pxcgvTT7uEa6kri1WYRcEQP58\n\
        lT5QI2vwQb0a974igeITfViQPDnAKrqzSW6AK7aSflYJESYkbYAKU0/yv3iAhwAN\n\
        Rh2xvOb4ElbeeWzS7vc=\n-----END ENCRYPTED PRIVATE KEY-----\n";

    fn read(text: &str) -> Result<PublicKey, KeyFileError> {
        SecretKey::from_key_file(text.as_bytes()).map(|key| key.public_key())
    }

    /// A key file of another algorithm is refused naming that algorithm in words, never by its object identifier.
    #[test]
    fn other_algorithms_are_named_in_words() {
        for (name, pem) in OTHER_ALGORITHMS {
            let error = read(pem).unwrap_err();
            assert_eq!(error, KeyFileError::OtherAlgorithm { name: name.to_owned() });
            let message = error.to_string();
            assert!(message.contains(&format!("a private key for {name}, not for Ed25519")), "{message}");
            assert!(!message.contains("1.2.840") && !message.contains("1.3.101"), "{message}");
        }
    }

    /// Each kind of bad file gets its own error, and every message is one sentence that names the problem and
    /// ends with the key Synod needs, saying "PKCS#8" no more than that ending does.
    #[test]
    fn each_bad_key_file_gets_its_own_sentence() {
        let (begin, end) = ("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----");
        let base64 = OPENSSL_ED25519.lines().nth(1).unwrap();
        let cases: Vec<(String, KeyFileError)> = vec![
            (String::new(), KeyFileError::Empty),
            (" \n\r\n".to_owned(), KeyFileError::Empty),
            ("x".repeat(MAX_KEY_FILE_BYTES + 1), KeyFileError::TooLarge { len: MAX_KEY_FILE_BYTES + 1, max: MAX_KEY_FILE_BYTES }),
            ("0\u{0}\u{1}binary".to_owned(), KeyFileError::NotText),
            ("ed25519:abcd\n".to_owned(), KeyFileError::NoPemBlock),
            (ENCRYPTED.to_owned(), KeyFileError::Encrypted),
            (
                "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAqruVNpqVy6L5EK+lDZpAeiyu/iR00fuIACe3YBrdRNo=\n-----END PUBLIC KEY-----\n"
                    .to_owned(),
                KeyFileError::WrongLabel { label: "PUBLIC KEY".to_owned() },
            ),
            ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n".to_owned(), KeyFileError::WrongLabel { label: "OPENSSH PRIVATE KEY".to_owned() }),
            (format!("{begin}\n{}\n", &base64[..30]), KeyFileError::Truncated),
            (format!("{begin}\n{}\n{end}\n", &base64[..30]), KeyFileError::Damaged),
            (format!("{begin}\n{end}\n"), KeyFileError::Damaged),
            (format!("{begin}\nnot base64 at all!\n{end}\n"), KeyFileError::Damaged),
            (format!("{begin}\n{}\n{end}\n", "MC4CAQAwBQYDK2VwBCIEINnzeNAbKOiqyPx4bQSOn6yzRsNyHV65QHf9nPBr"), KeyFileError::Damaged),
        ];
        for (text, expected) in cases {
            let error = read(&text).unwrap_err();
            assert_eq!(error, expected, "{text:?}");
            let message = error.to_string();
            assert!(message.ends_with(&format!("Synod needs {KEY_FILE_NEEDED}")), "{message}");
            assert_eq!(
                message.matches("PKCS#8").count(),
                1 + usize::from(message.contains("not a PKCS#8") || message.contains("to a PKCS#8")),
                "{message}"
            );
            assert_eq!(message.matches(". ").count(), 0, "one sentence: {message}");
            assert!(!message.contains("NUL") && !message.contains("encapsulation"), "{message}");
        }
    }

    /// Text around the key, other PEM blocks before it, a byte-order mark, Windows line ends and another base64
    /// line width do not stop a good key from loading.
    #[test]
    fn a_good_key_loads_whatever_surrounds_it() {
        let expected = read(OPENSSL_ED25519).unwrap();
        let base64 = OPENSSL_ED25519.lines().nth(1).unwrap();
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAqruVNpqVy6L5EK+lDZpAeiyu/iR00fuIACe3YBrdRNo=\n-----END PUBLIC KEY-----\n";
        let variants = [
            format!("\u{feff}{}", OPENSSL_ED25519.replace('\n', "\r\n")),
            format!("my key, made on the 1st\n{OPENSSL_ED25519}trailing words\n"),
            format!("{public}{OPENSSL_ED25519}"),
            format!("-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n", &base64[..20], &base64[20..]),
            key(7).to_pkcs8_pem().unwrap(),
        ];
        for text in &variants[..4] {
            assert_eq!(read(text), Ok(expected), "{text:?}");
        }
        assert_eq!(read(&variants[4]), Ok(key(7).public_key()));
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
