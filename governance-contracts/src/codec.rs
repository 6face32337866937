//! The canonical binary encoding (borsh, see `docs/adr/0001-canonical-encoding.md`) and the bounded types that make
//! decoding untrusted bytes safe.
//!
//! Everything that is hashed or signed is encoded with [`encode`]; everything that arrives from outside is decoded
//! with [`decode`], which refuses inputs over [`MAX_DECODE_BYTES`], trailing bytes, and any length or count above the
//! bound its type declares. Bounds are checked before anything is allocated, so a hostile length prefix costs nothing.

use core::fmt;
use core::ops::Deref;
use std::io::{self, Read, Write};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest input [`decode`] accepts, whatever the type (a transaction is further bounded by the chain's
/// `max_transaction_bytes`).
pub const MAX_DECODE_BYTES: usize = 4 * 1024 * 1024;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than any value of the expected type may be.
    #[error("input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Bytes given.
        len: usize,
        /// Bytes allowed.
        max: usize,
    },
    /// The bytes are not a canonical encoding of the expected type.
    #[error("malformed canonical bytes: {0}")]
    Malformed(String),
}

/// Encodes a value canonically.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("serialising into a Vec cannot fail")
}

/// Decodes a value from exactly `bytes` (no trailing bytes), refusing oversized input and out-of-bound lengths.
pub fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(DecodeError::TooLarge { len: bytes.len(), max: MAX_DECODE_BYTES });
    }
    borsh::from_slice(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn read_len<R: Read>(reader: &mut R, max: usize, what: &str) -> io::Result<usize> {
    let len = u32::deserialize_reader(reader)?;
    let len = usize::try_from(len).map_err(|_| invalid(format!("{what} length does not fit in memory")))?;
    if len > max {
        return Err(invalid(format!("{what} length {len} exceeds the bound {max}")));
    }
    Ok(len)
}

fn write_len<W: Write>(writer: &mut W, len: usize) -> io::Result<()> {
    let len = u32::try_from(len).map_err(|_| invalid("length exceeds u32".into()))?;
    BorshSerialize::serialize(&len, writer)
}

/// A `Vec` of at most `N` items. Decoding (canonical or JSON) refuses more.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedVec<T, const N: usize>(Vec<T>);

impl<T, const N: usize> BoundedVec<T, N> {
    /// The bound.
    pub const MAX: usize = N;

    /// An empty vector.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Wraps `items` if there are at most `N` of them.
    pub fn try_new(items: Vec<T>) -> Result<Self, BoundExceeded> {
        if items.len() > N {
            return Err(BoundExceeded { len: items.len(), max: N });
        }
        Ok(Self(items))
    }

    /// Appends an item if there is room.
    pub fn try_push(&mut self, item: T) -> Result<(), BoundExceeded> {
        if self.0.len() >= N {
            return Err(BoundExceeded { len: self.0.len().saturating_add(1), max: N });
        }
        self.0.push(item);
        Ok(())
    }

    /// Removes and returns the items matching `pred`.
    pub fn retain(&mut self, pred: impl FnMut(&T) -> bool) {
        self.0.retain(pred);
    }

    /// The items.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

/// A collection or string is longer than its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{len} exceeds the bound {max}")]
pub struct BoundExceeded {
    /// The length given.
    pub len: usize,
    /// The bound.
    pub max: usize,
}

impl<T, const N: usize> Deref for BoundedVec<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for BoundedVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T, const N: usize> TryFrom<Vec<T>> for BoundedVec<T, N> {
    type Error = BoundExceeded;
    fn try_from(items: Vec<T>) -> Result<Self, BoundExceeded> {
        Self::try_new(items)
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a BoundedVec<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: BorshSerialize, const N: usize> BorshSerialize for BoundedVec<T, N> {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        write_len(writer, self.0.len())?;
        for item in &self.0 {
            item.serialize(writer)?;
        }
        Ok(())
    }
}

impl<T: BorshDeserialize, const N: usize> BorshDeserialize for BoundedVec<T, N> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        let len = read_len(reader, N, "list")?;
        let mut items = Vec::with_capacity(len.min(64));
        for _ in 0..len {
            items.push(T::deserialize_reader(reader)?);
        }
        Ok(Self(items))
    }
}

impl<T: Serialize, const N: usize> Serialize for BoundedVec<T, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for BoundedVec<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(deserializer)?;
        Self::try_new(items).map_err(|e| serde::de::Error::custom(format!("list length {e}")))
    }
}

/// A UTF-8 string of at most `N` bytes with no control characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedString<const N: usize>(String);

impl<const N: usize> BoundedString<N> {
    /// Wraps `text` if it is at most `N` bytes and has no control characters other than newlines and tabs.
    pub fn try_new(text: impl Into<String>) -> Result<Self, TextError> {
        let text = text.into();
        if text.len() > N {
            return Err(TextError::TooLong { len: text.len(), max: N });
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(TextError::ControlCharacter);
        }
        Ok(Self(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than the field allows.
    #[error("text of {len} bytes exceeds the bound of {max} bytes")]
    TooLong {
        /// Bytes given.
        len: usize,
        /// Bytes allowed.
        max: usize,
    },
    /// Contains a control character (other than newline or tab).
    #[error("text contains a control character")]
    ControlCharacter,
    /// Not a valid name.
    #[error("invalid name {0:?}: use 1-64 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    InvalidName(String),
}

impl<const N: usize> fmt::Debug for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const N: usize> fmt::Display for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const N: usize> BorshSerialize for BoundedString<N> {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        write_len(writer, self.0.len())?;
        writer.write_all(self.0.as_bytes())
    }
}

fn read_string<R: Read>(reader: &mut R, max: usize) -> io::Result<String> {
    let len = read_len(reader, max, "text")?;
    let mut bytes = vec![0u8; len];
    reader.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| invalid("text is not UTF-8".into()))
}

impl<const N: usize> BorshDeserialize for BoundedString<N> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        let text = read_string(reader, N)?;
        Self::try_new(text).map_err(|e| invalid(e.to_string()))
    }
}

impl<const N: usize> Serialize for BoundedString<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const N: usize> Deserialize<'de> for BoundedString<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as Deserialize>::deserialize(deserializer)?;
        Self::try_new(text).map_err(serde::de::Error::custom)
    }
}

/// The longest identifier, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// An identifier: 1 to 64 characters from `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit. Names are
/// stable: they never change when a key rotates.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Validates `text` as a name.
    pub fn new(text: impl Into<String>) -> Result<Self, TextError> {
        let text = text.into();
        let mut chars = text.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '-');
        if !first_ok || !rest_ok || text.len() > MAX_NAME_LEN {
            return Err(TextError::InvalidName(text));
        }
        Ok(Self(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::str::FromStr for Name {
    type Err = TextError;
    fn from_str(s: &str) -> Result<Self, TextError> {
        Self::new(s)
    }
}

impl BorshSerialize for Name {
    fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
        write_len(writer, self.0.len())?;
        writer.write_all(self.0.as_bytes())
    }
}

impl BorshDeserialize for Name {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        let text = read_string(reader, MAX_NAME_LEN)?;
        Self::new(text).map_err(|e| invalid(e.to_string()))
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as Deserialize>::deserialize(deserializer)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length prefix above the bound is refused before any allocation.
    #[test]
    fn bounded_vec_refuses_oversized_length_prefix() {
        let bytes = encode(&(u32::MAX));
        let err = decode::<BoundedVec<u8, 4>>(&bytes).unwrap_err();
        assert!(matches!(err, DecodeError::Malformed(m) if m.contains("exceeds the bound")));
    }

    /// Trailing bytes after a complete value are refused, so every value has exactly one encoding.
    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&Name::new("acme").unwrap());
        bytes.push(0);
        assert!(decode::<Name>(&bytes).is_err());
    }

    /// Names accept the documented alphabet only.
    #[test]
    fn names_are_validated() {
        assert!(Name::new("acme-bank.ops_1").is_ok());
        for bad in ["", "Acme", "-acme", "a b", "ä", &"a".repeat(65)] {
            assert!(Name::new(bad).is_err(), "{bad:?} must be refused");
        }
        let bytes = encode(&"Bad".to_string());
        assert!(decode::<Name>(&bytes).is_err());
    }

    /// Control characters are refused in free text, on both decoding paths.
    #[test]
    fn bounded_string_refuses_control_characters() {
        assert!(BoundedString::<10>::try_new("a\u{7}").is_err());
        assert!(serde_json::from_str::<BoundedString<10>>("\"a\\u0007\"").is_err());
        assert!(serde_json::from_str::<BoundedString<3>>("\"abcd\"").is_err());
    }
}
