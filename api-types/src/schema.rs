//! OpenAPI components for the contracts' types, which know nothing of OpenAPI: the text forms of ids, digests, keys
//! and signatures (with the patterns their parsers accept), heights, and the node kind. Fields of the API's types
//! name them with `#[schema(value_type = ...)]`; each pattern is tested against the contracts' own parser.
//!
//! Records and protocol values the contracts define in depth (`MemberRecord`, `Proposal`, `Receipt`, ...) are
//! described as JSON objects, with their type named in the field's description.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

/// The text of an id ([`governance_contracts::codec::Name`]): 1 to 64 characters from `a-z`, `0-9`, `.`, `_` and
/// `-`, starting with a letter or digit.
pub const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,63}$";
/// A SHA-256 digest's text form: `sha256:` and 64 hex digits.
pub const SHA256_PATTERN: &str = "^sha256:[0-9a-fA-F]{64}$";
/// An ed25519 public key's text form: `ed25519:` and 64 hex digits.
pub const PUBLIC_KEY_PATTERN: &str = "^ed25519:[0-9a-fA-F]{64}$";
/// An ed25519 signature's text form: `ed25519:` and 128 hex digits.
pub const SIGNATURE_PATTERN: &str = "^ed25519:[0-9a-fA-F]{128}$";
/// A role grant's name in a proof's path: `ACCOUNT:ROLE`.
pub const GRANT_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,63}:[a-z0-9][a-z0-9._-]{0,63}$";

/// A string schema with `pattern`, `description` and one example.
fn string(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
        .into()
}

macro_rules! component {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

component!(
    /// A member, account, node or role id.
    Name,
    "Name",
    string(
        NAME_PATTERN,
        "An id: 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
        "org1"
    )
);

component!(
    /// A proposal id, transaction hash, block hash or other SHA-256 digest.
    Sha256,
    "Sha256",
    string(
        SHA256_PATTERN,
        "A SHA-256 digest: a proposal id, transaction or block hash",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    )
);

component!(
    /// An ed25519 public key.
    PublicKey,
    "PublicKey",
    string(
        PUBLIC_KEY_PATTERN,
        "An ed25519 public key",
        "ed25519:0000000000000000000000000000000000000000000000000000000000000000"
    )
);

component!(
    /// An ed25519 signature.
    Signature,
    "Signature",
    string(
        SIGNATURE_PATTERN,
        "An ed25519 signature",
        "ed25519:00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    )
);

component!(
    /// A role grant named `ACCOUNT:ROLE`.
    GrantName,
    "GrantName",
    string(GRANT_PATTERN, "A role grant: the account and the role, `ACCOUNT:ROLE`", "org1-ops:operator")
);

component!(
    /// A block height (genesis state is height 0, the first block height 1).
    Height,
    "Height",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::Custom("uint64".to_owned())))
        .minimum(Some(0_u64))
        .maximum(Some(u64::MAX))
        .description(Some("A block height: 0 is the genesis state, 1 the first block"))
        .into()
);

component!(
    /// Whether a node votes in consensus or follows ([`governance_contracts::types::NodeKind`]).
    NodeKind,
    "NodeKind",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["observer", "sealer"]))
        .description(Some("sealer: votes in consensus; observer: follows and verifies"))
        .into()
);

component!(
    /// A value's canonical (borsh) bytes, as a request body of type `application/octet-stream`.
    CanonicalBytes,
    "CanonicalBytes",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .description(Some("The value's canonical (borsh) bytes (docs/adr/0001-canonical-encoding.md)"))
        .into()
);

#[cfg(test)]
mod tests {
    use governance_contracts::codec::Name as ContractName;
    use governance_contracts::crypto::{Digest, PublicKey as ContractKey, Signature as ContractSignature};
    use governance_contracts::types::NodeKind as ContractKind;

    use super::*;

    /// Whether `text` matches `pattern` in full, by a real regex engine (JSON Schema patterns are ECMA regexes;
    /// these use only the syntax both share).
    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).expect("a valid pattern").is_match(text)
    }

    /// Each pattern accepts exactly what the contracts' parser accepts, over a spread of edge cases.
    #[test]
    fn patterns_agree_with_the_parsers() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let key = format!("ed25519:{}", "Cd".repeat(32));
        let signature = format!("ed25519:{}", "0f".repeat(64));
        let names = ["a", "0", "org1", "a.b_c-d", &"x".repeat(64), &"x".repeat(65), "", "-a", ".a", "A", "a b", "é"];
        for name in names {
            assert_eq!(matches(NAME_PATTERN, name), ContractName::new(name).is_ok(), "{name:?}");
        }
        for text in [digest.as_str(), "sha256:00", "sha256:", "ed25519:00", &digest.to_uppercase(), &key] {
            assert_eq!(matches(SHA256_PATTERN, text), text.parse::<Digest>().is_ok(), "{text:?}");
        }
        for text in [key.as_str(), &digest, "ed25519:zz", &signature] {
            assert_eq!(matches(PUBLIC_KEY_PATTERN, text), text.parse::<ContractKey>().is_ok(), "{text:?}");
            assert_eq!(matches(SIGNATURE_PATTERN, text), text.parse::<ContractSignature>().is_ok(), "{text:?}");
        }
        assert!(matches(GRANT_PATTERN, "org1-ops:operator") && !matches(GRANT_PATTERN, "org1-ops"));
    }

    /// The node kinds listed are the contracts' own names.
    #[test]
    fn node_kinds_are_the_contracts_names() {
        let schema = serde_json::to_value(NodeKind::schema()).expect("serialises");
        for kind in [ContractKind::Observer, ContractKind::Sealer] {
            let name = serde_json::to_value(kind).expect("serialises");
            assert!(schema["enum"].as_array().is_some_and(|names| names.contains(&name)), "{name} in {schema}");
        }
    }
}
