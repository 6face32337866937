//! The text a signer reads, made visible: each title, description, display name and address of a proposal that
//! holds a character outside ASCII is marked with a badge listing those characters' code points (so `pаypal`, whose
//! second letter is Cyrillic, shows `U+0430` beside it), and the contracts' own rule (`governance_contracts::text`)
//! gives the verdict the chain will give, in the signer's language. The drafting forms refuse with the same
//! verdict before anything is drafted.

use governance_contracts::text::{
    AddressError, CodePoint, Hazard, SignerText, TextField, TextProblem, UnsafeText, escape_non_ascii, non_ascii,
    proposal_texts,
};
use governance_contracts::types::Proposal;
use serde::{Deserialize, Serialize};

use super::words::{T, list, tr};
use crate::i18n::Lang;

/// The most code points a badge lists; the rest are counted.
pub const MAX_LISTED_CODE_POINTS: usize = 16;

/// A signer-visible text that needs the signer's attention: it holds non-ASCII characters, or the chain refuses
/// it (or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMark {
    /// The action it belongs to (from 1), or `None` for the title and description.
    pub action: Option<usize>,
    /// Where it sits, in words.
    pub field: String,
    /// The text with every non-ASCII character escaped (`p\u{430}ypal`).
    pub escaped: String,
    /// The distinct non-ASCII characters' code points, in order of appearance (`U+0430`).
    pub code_points: Vec<String>,
    /// The badge: "contains non-ASCII characters: U+0430", or `None` for plain ASCII.
    pub badge: Option<String>,
    /// Why the chain refuses the text, if it does.
    pub refused: Option<String>,
}

/// Where a text sits, in words.
pub fn field_words(lang: Lang, field: &TextField) -> String {
    match field {
        TextField::Title => tr(lang, T::FieldTitle, &[]),
        TextField::Description => tr(lang, T::FieldDescription, &[]),
        TextField::MemberName { action } => tr(lang, T::FieldMemberName, &[action]),
        TextField::NodeAddress { action } => tr(lang, T::FieldNodeAddress, &[action]),
        TextField::ExpectedNodeAddress { action } => tr(lang, T::FieldExpectedAddress, &[action]),
        TextField::GenesisMemberName(member) => tr(lang, T::FieldGenesisMemberName, &[member]),
        TextField::GenesisNodeAddress(node) => tr(lang, T::FieldGenesisNodeAddress, &[node]),
    }
}

fn hazard_words(lang: Lang, hazard: Hazard) -> String {
    let key = match hazard {
        Hazard::Control => T::HazardControl,
        Hazard::Bidi => T::HazardBidi,
        Hazard::Format => T::HazardFormat,
        Hazard::Separator => T::HazardSeparator,
        Hazard::Space => T::HazardSpace,
        Hazard::Invisible => T::HazardInvisible,
        Hazard::PrivateUse => T::HazardPrivateUse,
        Hazard::Unassigned => T::HazardUnassigned,
    };
    tr(lang, key, &[])
}

/// Why the chain refuses a text, in words (what it quotes, escaped).
pub fn problem_words(lang: Lang, problem: &TextProblem) -> String {
    match problem {
        TextProblem::Unsafe(UnsafeText::Character { position, code_point, hazard }) => {
            tr(lang, T::UnsafeCharacter, &[position, &CodePoint(*code_point), &hazard_words(lang, *hazard)])
        }
        TextProblem::Unsafe(UnsafeText::MixedScripts { position, word, scripts }) => {
            tr(lang, T::MixedScripts, &[position, &escape_non_ascii(word), &list(lang, scripts)])
        }
        TextProblem::Address(AddressError::NoPort) => tr(lang, T::AddressNoPort, &[]),
        TextProblem::Address(AddressError::BadPort(port)) => tr(lang, T::AddressBadPort, &[&escape_non_ascii(port)]),
        TextProblem::Address(AddressError::BadHost(host)) => tr(lang, T::AddressBadHost, &[&escape_non_ascii(host)]),
    }
}

/// The first text the chain refuses, as "field: why: the chain refuses this text" in `lang`; `Ok` when it would
/// accept them all. What the drafting forms show before drafting.
pub fn refuse_texts(lang: Lang, texts: &[SignerText<'_>]) -> Result<(), String> {
    for text in texts {
        if let Err(problem) = text.check() {
            return Err(tr(lang, T::TextRefused, &[&field_words(lang, &text.field), &problem_words(lang, &problem)]));
        }
    }
    Ok(())
}

/// The badge for `text`'s non-ASCII characters, with their code points; `None` for plain ASCII.
fn badge(lang: Lang, code_points: &[String]) -> Option<String> {
    if code_points.is_empty() {
        return None;
    }
    let listed = list(lang, code_points.iter().take(MAX_LISTED_CODE_POINTS));
    let more = code_points.len().saturating_sub(MAX_LISTED_CODE_POINTS);
    let listed = if more == 0 { listed } else { tr(lang, T::NonAsciiMore, &[&listed, &more]) };
    Some(tr(lang, T::NonAscii, &[&listed]))
}

/// The marks of one text, if it needs any.
pub fn mark(lang: Lang, text: &SignerText<'_>) -> Option<TextMark> {
    let code_points: Vec<String> = non_ascii(text.text).into_iter().map(|c| CodePoint(c).to_string()).collect();
    let refused = text.check().err().map(|problem| problem_words(lang, &problem));
    if code_points.is_empty() && refused.is_none() {
        return None;
    }
    let action = match text.field {
        TextField::MemberName { action }
        | TextField::NodeAddress { action }
        | TextField::ExpectedNodeAddress { action } => Some(action),
        _ => None,
    };
    Some(TextMark {
        action,
        field: field_words(lang, &text.field),
        escaped: escape_non_ascii(text.text),
        badge: badge(lang, &code_points),
        code_points,
        refused,
    })
}

/// The marks of every signer-visible text of `proposal`, in the order a signer reads them.
pub fn marks(lang: Lang, proposal: &Proposal) -> Vec<TextMark> {
    proposal_texts(proposal).iter().filter_map(|text| mark(lang, text)).collect()
}

#[cfg(test)]
mod tests {
    use governance_contracts::codec::BoundedString;

    use super::*;

    /// A field's words and a refusal's words exist in both languages and quote nothing unescaped.
    #[test]
    fn refusals_read_in_both_languages() {
        let title = SignerText { field: TextField::Title, text: "Pay p\u{430}ypal" };
        let en = refuse_texts(Lang::En, std::slice::from_ref(&title)).unwrap_err();
        assert_eq!(en, "title: word 2 “p\\u{430}ypal” mixes scripts: Latin, Cyrillic: the chain refuses this text");
        let zh = refuse_texts(Lang::ZhCn, &[title]).unwrap_err();
        assert_eq!(zh, "标题：第 2 个词“p\\u{430}ypal”混用了多种文字：Latin、Cyrillic：链将拒绝此文本");
        let address = SignerText { field: TextField::NodeAddress { action: 2 }, text: "host:0" };
        let zh = refuse_texts(Lang::ZhCn, &[address]).unwrap_err();
        assert!(zh.starts_with("第 2 项操作：节点地址：端口“0”"), "{zh}");
        let fine = SignerText { field: TextField::Description, text: "理由：\nOrg1的提案" };
        assert_eq!(refuse_texts(Lang::En, &[fine]), Ok(()));
    }

    /// Plain ASCII needs no mark; non-ASCII gets a badge with its code points, the list bounded.
    #[test]
    fn badges_list_code_points() {
        let name = BoundedString::<128>::try_new("Acme").unwrap();
        assert_eq!(mark(Lang::En, &SignerText { field: TextField::Title, text: name.as_str() }), None);
        let long: String = ('\u{4E00}'..='\u{4E13}').collect();
        let mark = mark(Lang::En, &SignerText { field: TextField::Description, text: &long }).unwrap();
        assert_eq!(mark.code_points.len(), 20);
        assert_eq!(mark.refused, None);
        let badge = mark.badge.unwrap();
        assert!(badge.starts_with("contains non-ASCII characters: U+4E00, U+4E01"), "{badge}");
        assert!(badge.ends_with("U+4E0F and 4 more"), "{badge}");
    }
}
