//! Signer-visible text: what a person reads before signing must be what the signature covers.
//!
//! Proposal titles and descriptions, member display names and node network addresses are shown to every signer
//! (in the console's review, by `synod proposal show`, in receipts). A character that renders as nothing, reorders
//! the text around it, or looks like a letter of another script makes the shown text differ from the signed bytes.
//! So every such string obeys one rule, [`check_signer_text`], checked when a proposal is submitted
//! ([`crate::types::Proposal::check_signer_text`]) and when a genesis is applied
//! ([`crate::types::Genesis::check_signer_text`]); the CLI and the console call the same function to refuse such
//! input before anything is signed.
//!
//! **Characters.** Refused everywhere: control characters (Unicode category Cc: tab and carriage return included),
//! bidirectional controls (the embeddings, overrides and isolates, and the left-to-right, right-to-left and Arabic
//! letter marks), every other format character (Cf: zero-width space and joiners, the byte-order mark, the soft
//! hyphen, tags), line and paragraph separators (Zl, Zp), spaces other than the ordinary space and the ideographic
//! space (no-break, thin, em spaces: they make two different strings look alike), the remaining default-ignorable
//! code points (Hangul fillers, variation selectors, the combining grapheme joiner), private-use and unassigned code
//! points. A newline is allowed in multi-line text ([`Lines::Many`]: proposal descriptions) and nowhere else.
//!
//! **Words.** Each word (a run between whitespace) keeps to one script, or mixes Latin with the scripts written
//! together with Han (Han with Hiragana and Katakana, Bopomofo or Hangul): Unicode TR39's *highly restrictive*
//! level, applied per word. So `Org1的提案` and `東京Tower` pass while `pаypal`, whose second letter is Cyrillic, does
//! not. Punctuation, digits and symbols (the Common script) and combining marks (Inherited) count for no script.
//! Whole-script look-alikes (a word entirely in Cyrillic that reads like a Latin one) pass this rule: legitimate
//! text in those scripts looks the same; the console therefore marks every non-ASCII character it shows
//! ([`non_ascii`]) and the CLI prints it escaped ([`escape_non_ascii`]).
//!
//! **Addresses.** A node's network address is `host:port` ([`check_network_address`]): a DNS name of
//! letter-digit-hyphen labels, a dotted IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535
//! written without leading zeros. It is what the node's dialer resolves and what its configuration file accepts.
//!
//! The Unicode data comes from `unicode-properties`, `unicode-script` and `unicode-security`, pinned to exact
//! versions in the workspace: which characters pass is part of the protocol, so upgrading them (a new Unicode
//! version) is a consensus change, made at one release by every node. [`UNICODE_VERSION`] names the version.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Rejection, detail};
use crate::ids::{MemberId, NodeId};
use crate::types::action::Action;
use crate::types::genesis::Genesis;
use crate::types::proposal::Proposal;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_script::{Script, UnicodeScript};
use unicode_security::GeneralSecurityProfile;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::mixed_script::AugmentedScriptSet;

/// The Unicode version of the character data the rule uses.
pub const UNICODE_VERSION: (u64, u64, u64) = unicode_security::UNICODE_VERSION;

/// Whether a text may hold newlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: titles, names, addresses.
    One,
    /// Several lines separated by `\n`: descriptions.
    Many,
}

/// Why a character is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hazard {
    /// A control character (category Cc), or a newline in one-line text.
    Control,
    /// A bidirectional control: it reorders the text shown around it.
    Bidi,
    /// Another format character (category Cf), invisible: a zero-width space or joiner, a byte-order mark, ...
    Format,
    /// A line or paragraph separator (category Zl or Zp).
    Separator,
    /// A space other than the ordinary space and the ideographic space.
    Space,
    /// Another default-ignorable code point: rendered as nothing.
    Invisible,
    /// A private-use code point: its glyph depends on the font.
    PrivateUse,
    /// A code point unassigned in [`UNICODE_VERSION`] (noncharacters included).
    Unassigned,
}

impl Hazard {
    /// The hazard in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Control => "a control character",
            Self::Bidi => "a bidirectional control character",
            Self::Format => "an invisible format character",
            Self::Separator => "a line or paragraph separator",
            Self::Space => "a space other than the ordinary space",
            Self::Invisible => "a default-ignorable (invisible) character",
            Self::PrivateUse => "a private-use character",
            Self::Unassigned => "an unassigned code point",
        }
    }
}

/// The bidirectional controls (the Unicode `Bidi_Control` property): ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI,
/// RLI, FSI, PDI.
const BIDI_CONTROLS: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// The ideographic space, typed between words in Chinese and Japanese text.
const IDEOGRAPHIC_SPACE: char = '\u{3000}';

/// Why a signer-visible text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeText {
    /// A character that hides, reorders or disguises text.
    #[error("character {position} is {}, {}", CodePoint(*code_point), hazard.describe())]
    Character {
        /// Its position, counted in characters from 1.
        position: usize,
        /// The character.
        code_point: char,
        /// What it does.
        hazard: Hazard,
    },
    /// A word mixes scripts beyond what TR39's highly restrictive level allows.
    #[error("word {position} \"{}\" mixes the {} scripts", escape_non_ascii(word), scripts.join(" and "))]
    MixedScripts {
        /// Its position among the text's words, from 1.
        position: usize,
        /// The word.
        word: String,
        /// The scripts of its letters, in order of appearance.
        scripts: Vec<&'static str>,
    },
}

/// A code point written `U+XXXX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePoint(pub char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// What makes `c` unsafe in text of `lines`, if anything.
pub fn hazard(c: char, lines: Lines) -> Option<Hazard> {
    if c == '\n' {
        return (lines == Lines::One).then_some(Hazard::Control);
    }
    if BIDI_CONTROLS.contains(&c) {
        return Some(Hazard::Bidi);
    }
    match c.general_category() {
        GeneralCategory::Control => return Some(Hazard::Control),
        GeneralCategory::Format => return Some(Hazard::Format),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => return Some(Hazard::Separator),
        GeneralCategory::SpaceSeparator if c != ' ' && c != IDEOGRAPHIC_SPACE => return Some(Hazard::Space),
        GeneralCategory::PrivateUse => return Some(Hazard::PrivateUse),
        GeneralCategory::Unassigned | GeneralCategory::Surrogate => return Some(Hazard::Unassigned),
        _ => {}
    }
    (c.identifier_type() == Some(IdentifierType::Default_Ignorable)).then_some(Hazard::Invisible)
}

/// The scripts of a word's letters when they mix beyond TR39's highly restrictive level; `None` when the word is
/// fine. The same computation as `unicode-security`'s restriction level, without its identifier-only gate (which
/// rates any punctuation "unrestricted"): the word's resolved script set is not empty (one script), or its
/// non-Latin characters resolve to Han with Bopomofo, Japanese or Korean.
fn mixed_scripts(word: &str) -> Option<Vec<&'static str>> {
    let mut all = AugmentedScriptSet::default();
    let mut non_latin = AugmentedScriptSet::default();
    for c in word.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        if !set.base.contains_script(Script::Latin) {
            non_latin.intersect_with(set);
        }
    }
    if !all.is_empty() || non_latin.hanb || non_latin.jpan || non_latin.kore {
        return None;
    }
    let mut scripts = Vec::new();
    for c in word.chars() {
        let script = c.script();
        if !matches!(script, Script::Common | Script::Inherited | Script::Unknown) {
            let name = script.full_name();
            if !scripts.contains(&name) {
                scripts.push(name);
            }
        }
    }
    Some(scripts)
}

/// Checks a signer-visible text: no character that hides, reorders or disguises text, and no word that mixes
/// scripts (see the module docs). The first problem found is returned.
pub fn check_signer_text(text: &str, lines: Lines) -> Result<(), UnsafeText> {
    for (index, c) in text.chars().enumerate() {
        if let Some(hazard) = hazard(c, lines) {
            return Err(UnsafeText::Character { position: index.saturating_add(1), code_point: c, hazard });
        }
    }
    for (index, word) in text.split(char::is_whitespace).filter(|w| !w.is_empty()).enumerate() {
        if let Some(scripts) = mixed_scripts(word) {
            return Err(UnsafeText::MixedScripts { position: index.saturating_add(1), word: word.to_owned(), scripts });
        }
    }
    Ok(())
}

/// Why a network address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `:port` part.
    #[error("expected HOST:PORT")]
    NoPort,
    /// The port is not a number from 1 to 65535 written plainly.
    #[error("the port \"{}\" is not a number from 1 to 65535 (without a sign or leading zeros)", escape_non_ascii(.0))]
    BadPort(String),
    /// The host is none of the three forms.
    #[error(
        "the host \"{}\" is not a DNS name (letters, digits and hyphens in dot-separated labels), an IPv4 address \
         or a bracketed IPv6 address",
        escape_non_ascii(.0)
    )]
    BadHost(String),
}

/// The longest DNS name, in bytes.
const MAX_DNS_NAME: usize = 253;
/// The longest DNS label, in bytes.
const MAX_DNS_LABEL: usize = 63;

fn is_dns_name(host: &str) -> bool {
    if host.is_empty() || host.len() > MAX_DNS_NAME {
        return false;
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_DNS_LABEL
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    // A last label of digits only would read as a (malformed) IPv4 address.
    let last_ok = host.rsplit('.').next().is_some_and(|last| !last.bytes().all(|b| b.is_ascii_digit()));
    host.split('.').all(label_ok) && last_ok
}

fn check_port(port: &str) -> Result<(), AddressError> {
    let plain = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !port.starts_with('0');
    match port.parse::<u16>() {
        Ok(number) if plain && number != 0 => Ok(()),
        _ => Err(AddressError::BadPort(port.to_owned())),
    }
}

/// Checks a node's network address: `host:port` with a DNS name, an IPv4 address or a bracketed IPv6 address
/// (`[::1]:7701`) as the host and a port from 1 to 65535.
pub fn check_network_address(address: &str) -> Result<(), AddressError> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or(AddressError::NoPort)?;
        host.parse::<Ipv6Addr>().map_err(|_| AddressError::BadHost(format!("[{host}]")))?;
        return check_port(port);
    }
    let (host, port) = address.rsplit_once(':').ok_or(AddressError::NoPort)?;
    let dotted_digits = !host.is_empty() && host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let host_ok = if dotted_digits { host.parse::<Ipv4Addr>().is_ok() } else { is_dns_name(host) };
    if !host_ok {
        return Err(AddressError::BadHost(host.to_owned()));
    }
    check_port(port)
}

/// A signer-visible text's place in a proposal or a genesis. Its `Display` is the field a rejection names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextField {
    /// A proposal's title.
    Title,
    /// A proposal's description.
    Description,
    /// The display name of the member an `AdmitMember` action admits (actions are numbered from 1).
    MemberName {
        /// The action's number.
        action: usize,
    },
    /// The address of the node an `AdmitNode` action admits, or a `SetNodeAddress` action's new address.
    NodeAddress {
        /// The action's number.
        action: usize,
    },
    /// A `SetNodeAddress` action's expected (current) address.
    ExpectedNodeAddress {
        /// The action's number.
        action: usize,
    },
    /// A founding member's display name.
    GenesisMemberName(MemberId),
    /// A founding node's address.
    GenesisNodeAddress(NodeId),
}

impl fmt::Display for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Title => f.write_str("title"),
            Self::Description => f.write_str("description"),
            Self::MemberName { action } => write!(f, "action {action} name"),
            Self::NodeAddress { action } => write!(f, "action {action} address"),
            Self::ExpectedNodeAddress { action } => write!(f, "action {action} expected address"),
            Self::GenesisMemberName(member) => write!(f, "member {member} name"),
            Self::GenesisNodeAddress(node) => write!(f, "node {node} address"),
        }
    }
}

impl TextField {
    /// Whether the field holds an address (else free text).
    pub fn is_address(&self) -> bool {
        matches!(self, Self::NodeAddress { .. } | Self::ExpectedNodeAddress { .. } | Self::GenesisNodeAddress(_))
    }

    /// Whether the field may hold several lines.
    pub fn lines(&self) -> Lines {
        if *self == Self::Description { Lines::Many } else { Lines::One }
    }
}

/// Why a field's text is refused: an unsafe text, or a malformed address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    /// Free text that could show other than it is.
    #[error(transparent)]
    Unsafe(#[from] UnsafeText),
    /// Not a `host:port` address.
    #[error(transparent)]
    Address(#[from] AddressError),
}

/// One signer-visible text and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerText<'a> {
    /// Where it sits.
    pub field: TextField,
    /// The text.
    pub text: &'a str,
}

impl SignerText<'_> {
    /// Checks the text by its field's rule: [`check_network_address`] for addresses, [`check_signer_text`] for the
    /// rest.
    pub fn check(&self) -> Result<(), TextProblem> {
        if self.field.is_address() {
            check_network_address(self.text)?;
        } else {
            check_signer_text(self.text, self.field.lines())?;
        }
        Ok(())
    }

    /// The rejection naming this field for `problem`.
    pub fn rejection(&self, problem: &TextProblem) -> Rejection {
        let (field, why) = (detail(self.field.to_string()), detail(problem.to_string()));
        match problem {
            TextProblem::Unsafe(_) => Rejection::UnsafeText { field, detail: why },
            TextProblem::Address(_) => Rejection::InvalidAddress { field, detail: why },
        }
    }
}

/// Checks each text in order; the first refusal, as a rejection naming its field.
pub fn check_all(texts: &[SignerText<'_>]) -> Result<(), Rejection> {
    for text in texts {
        text.check().map_err(|problem| text.rejection(&problem))?;
    }
    Ok(())
}

/// The signer-visible texts of action `number` (from 1) of a proposal: a new member's display name and every
/// network address it names (the expected one included: a signer reads it too).
pub fn action_texts(number: usize, action: &Action) -> Vec<SignerText<'_>> {
    fn text(field: TextField, text: &str) -> SignerText<'_> {
        SignerText { field, text }
    }
    match action {
        Action::AdmitMember { name, .. } => vec![text(TextField::MemberName { action: number }, name.as_str())],
        Action::AdmitNode { address, .. } => vec![text(TextField::NodeAddress { action: number }, address.as_str())],
        Action::SetNodeAddress { expected, address, .. } => vec![
            text(TextField::ExpectedNodeAddress { action: number }, expected.as_str()),
            text(TextField::NodeAddress { action: number }, address.as_str()),
        ],
        // No free text: ids, keys, numbers, flags and enumerations only. A new action with text belongs above.
        Action::SetMemberWeight { .. }
        | Action::SuspendMember { .. }
        | Action::ReinstateMember { .. }
        | Action::ExpelMember { .. }
        | Action::ReplaceGovernors { .. }
        | Action::CreateAccount { .. }
        | Action::FreezeAccount { .. }
        | Action::UnfreezeAccount { .. }
        | Action::ReplaceAccountKey { .. }
        | Action::DefineRole { .. }
        | Action::GrantRole { .. }
        | Action::RevokeRole { .. }
        | Action::PromoteNode { .. }
        | Action::DemoteNode { .. }
        | Action::SetNodeWeight { .. }
        | Action::RemoveNode { .. }
        | Action::RotateNodeKey { .. }
        | Action::RevokeNodeKey { .. }
        | Action::ReplaceNodeKey { .. }
        | Action::SetPolicyRule { .. }
        | Action::SetParams { .. }
        | Action::CancelProposal { .. } => Vec::new(),
    }
}

/// Every signer-visible text of a proposal, in the order a signer reads them: title, description, then each
/// action's.
pub fn proposal_texts(proposal: &Proposal) -> Vec<SignerText<'_>> {
    let mut texts = vec![
        SignerText { field: TextField::Title, text: proposal.title.as_str() },
        SignerText { field: TextField::Description, text: proposal.description.as_str() },
    ];
    for (index, action) in proposal.actions.iter().enumerate() {
        texts.extend(action_texts(index.saturating_add(1), action));
    }
    texts
}

/// Every signer-visible text of a genesis: each founding member's display name and each founding node's address.
pub fn genesis_texts(genesis: &Genesis) -> Vec<SignerText<'_>> {
    let members = genesis
        .members
        .iter()
        .map(|m| SignerText { field: TextField::GenesisMemberName(m.member.clone()), text: m.name.as_str() });
    let nodes = genesis
        .nodes
        .iter()
        .map(|n| SignerText { field: TextField::GenesisNodeAddress(n.node.clone()), text: n.address.as_str() });
    members.chain(nodes).collect()
}

/// `text` with every character outside printable ASCII written as a Rust escape (`\u{430}`), and backslashes
/// doubled so an escape typed into the text stays distinguishable; newlines are kept. The result is plain ASCII.
pub fn escape_non_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' | ' '..='~' => out.push(c),
            _ => out.extend(c.escape_unicode()),
        }
    }
    out
}

/// The distinct characters of `text` outside ASCII, in order of first appearance.
pub fn non_ascii(text: &str) -> Vec<char> {
    let mut seen = Vec::new();
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str, lines: Lines) -> Option<Hazard> {
        match check_signer_text(text, lines) {
            Err(UnsafeText::Character { hazard, .. }) => Some(hazard),
            Err(other) => panic!("{text:?}: expected a character hazard, got {other}"),
            Ok(()) => None,
        }
    }

    /// Every class of hiding character is refused and named; a newline only in multi-line text.
    #[test]
    fn hiding_characters_are_refused_by_class() {
        let cases = [
            ("a\u{202E}b", Hazard::Bidi),
            ("a\u{2067}b", Hazard::Bidi),
            ("a\u{200F}b", Hazard::Bidi),
            ("a\u{200B}b", Hazard::Format),
            ("a\u{200D}b", Hazard::Format),
            ("\u{FEFF}ab", Hazard::Format),
            ("a\u{AD}b", Hazard::Format),
            ("a\u{E0041}b", Hazard::Format),
            ("a\tb", Hazard::Control),
            ("a\rb", Hazard::Control),
            ("a\u{7F}b", Hazard::Control),
            ("a\u{85}b", Hazard::Control),
            ("a\u{2028}b", Hazard::Separator),
            ("a\u{2029}b", Hazard::Separator),
            ("a\u{A0}b", Hazard::Space),
            ("a\u{2009}b", Hazard::Space),
            ("a\u{3164}b", Hazard::Invisible),
            ("a\u{FE0F}b", Hazard::Invisible),
            ("a\u{34F}b", Hazard::Invisible),
            ("a\u{E000}b", Hazard::PrivateUse),
            ("a\u{FFFF}b", Hazard::Unassigned),
        ];
        for (text, hazard) in cases {
            assert_eq!(refused(text, Lines::Many), Some(hazard), "{}", escape_non_ascii(text));
        }
        assert_eq!(refused("two\nlines", Lines::One), Some(Hazard::Control));
        assert_eq!(refused("two\nlines", Lines::Many), None);
    }

    /// The refusal names the position and the code point, in plain ASCII.
    #[test]
    fn refusals_name_the_code_point() {
        let error = check_signer_text("pay\u{202E}lap", Lines::One).unwrap_err();
        assert_eq!(error.to_string(), "character 4 is U+202E, a bidirectional control character");
        let error = check_signer_text("Pay p\u{430}ypal now", Lines::One).unwrap_err();
        assert_eq!(error.to_string(), "word 2 \"p\\u{430}ypal\" mixes the Latin and Cyrillic scripts");
    }

    /// Words keep to one script, or mix Latin with Han and its companions; mixing Latin with Cyrillic or Greek
    /// inside one word is refused, while the same scripts in separate words pass.
    #[test]
    fn words_keep_to_one_script() {
        for good in [
            "Admit Acme Bank (org4), weight 2: see https://acme.example/why?x=1#a",
            "Org1的提案",
            "接纳成员 org4，权重 2。",
            "東京Towerタワー",
            "한국Korea中",
            "Москва и Athens: Αθήνα",
            "café naïve Ünïcödé",
            "version 2.0 — “quoted” «text» ½ ✓ €5",
            "全角　空格",
        ] {
            assert_eq!(check_signer_text(good, Lines::One), Ok(()), "{good}");
        }
        for bad in
            ["p\u{430}ypal", "\u{3B1}lpha", "www.p\u{430}ypal.com", "提案\u{430}", "ID:\u{639}\u{631}\u{628}\u{64A}"]
        {
            assert!(
                matches!(check_signer_text(bad, Lines::One), Err(UnsafeText::MixedScripts { .. })),
                "{} must be refused",
                escape_non_ascii(bad)
            );
        }
    }

    /// Addresses: DNS names, IPv4 and bracketed IPv6 with a port from 1 to 65535; everything else is refused.
    #[test]
    fn network_addresses() {
        for good in [
            "127.0.0.1:26000",
            "localhost:1",
            "node-1.acme.example:65535",
            "Node1.Example.COM:7701",
            "[::1]:7701",
            "[2001:db8::17]:443",
            "n0:80",
            "xn--bcher-kva.example:80",
        ] {
            assert_eq!(check_network_address(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "localhost",
            "localhost:",
            ":80",
            "host:0",
            "host:65536",
            "host:+80",
            "host:080",
            "host:8o",
            "256.1.1.1:80",
            "1.2.3:80",
            "01.2.3.4:80",
            "::1:80",
            "[::1]80",
            "[::1]",
            "[fe80::1%eth0]:80",
            "[127.0.0.1]:80",
            "-host:80",
            "host-:80",
            "ho_st:80",
            "host..example:80",
            "host.example.:80",
            "h\u{43E}st:80",
            "host :80",
            "host:80 ",
            "user@host:80",
            "http://host:80",
        ] {
            assert!(check_network_address(bad).is_err(), "{bad:?} must be refused");
        }
        let long_label = format!("{}.example:80", "a".repeat(64));
        assert!(check_network_address(&long_label).is_err());
        let long_name = format!("{}a:80", "a.".repeat(127));
        assert!(check_network_address(&long_name).is_err());
    }

    /// Escaping makes any text plain ASCII, keeps newlines, and keeps a typed escape distinguishable from a real
    /// non-ASCII character.
    #[test]
    fn escaping_is_plain_ascii_and_unambiguous() {
        assert_eq!(escape_non_ascii("p\u{430}ypal"), "p\\u{430}ypal");
        assert_eq!(escape_non_ascii("p\\u{430}ypal"), "p\\\\u{430}ypal");
        assert_eq!(escape_non_ascii("a\u{202E}b\tc\nd"), "a\\u{202e}b\\u{9}c\nd");
        assert_eq!(escape_non_ascii("提案"), "\\u{63d0}\\u{6848}");
        assert_eq!(non_ascii("p\u{430}yp\u{430}l 提"), vec!['\u{430}', '提']);
    }

    /// The character data is the version the protocol names: changing it is a consensus change (module docs).
    #[test]
    fn unicode_data_is_one_version() {
        assert_eq!(unicode_properties::UNICODE_VERSION, UNICODE_VERSION);
        assert_eq!(unicode_script::UNICODE_VERSION, UNICODE_VERSION);
    }
}
