//! Property tests of the rule for signer-visible text (`governance_contracts::text`): any hiding character
//! injected anywhere into otherwise plain text is refused, by the rule and by the chain at submission; a Latin word
//! with one look-alike letter from Cyrillic or Greek is refused; plain printable text whose words are English,
//! Chinese, Latin-and-Chinese, Cyrillic or Greek passes, and such a proposal is accepted on chain.

use governance_contracts::Rejection;
use governance_contracts::codec::{BoundedString, BoundedVec};
use governance_contracts::ids::Weight;
use governance_contracts::testkit::{TestChain, account, member, public};
use governance_contracts::text::{Lines, UnsafeText, check_signer_text};
use governance_contracts::types::{Action, NewAccount, Outcome, Payload, Principal};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

mod common;
use common::config;

/// Characters that hide or reorder text: the bidirectional controls, the zero-width and other format characters
/// (Cf, from several blocks: Arabic, Syriac, Mongolian, general punctuation, specials, tags), control characters
/// (C0 and C1, tab and carriage return included), line and paragraph separators, exotic spaces and the other
/// default-ignorable characters.
fn hiding_char() -> impl Strategy<Value = char> {
    let ranges: &[(u32, u32)] = &[
        (0x0000, 0x0009),
        (0x000B, 0x001F),
        (0x007F, 0x009F),
        (0x00A0, 0x00A0),
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x180E, 0x180E),
        (0x2000, 0x200F),
        (0x2028, 0x202F),
        (0x205F, 0x2064),
        (0x2066, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
        (0xE0100, 0xE01EF),
    ];
    select(ranges.to_vec())
        .prop_flat_map(|(low, high)| low..=high)
        .prop_map(|code| char::from_u32(code).expect("the ranges hold no surrogate"))
}

/// One plain word: English, Chinese, a Latin-and-Chinese token, Cyrillic, Greek, digits and punctuation.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z]{1,10}",
        "[\u{4E00}-\u{9FA5}]{1,6}",
        "[A-Za-z0-9]{1,5}[\u{4E00}-\u{9FA5}]{1,4}[.,:!?]?",
        "[\u{430}-\u{44F}]{1,8}",
        "[\u{3B1}-\u{3C9}]{1,8}",
        "[0-9]{1,4}[.,:;!?%)-]?",
        "[(\"'«“]?[a-z]{1,8}[\"'»”,.]?",
    ]
}

/// Plain text of mixed scripts by word, with single spaces, ideographic spaces and (for several lines) newlines
/// between words.
fn plain_text(lines: Lines) -> impl Strategy<Value = String> {
    let separators: Vec<&str> = match lines {
        Lines::One => vec![" ", " ", "\u{3000}"],
        Lines::Many => vec![" ", " ", "\u{3000}", "\n"],
    };
    vec((word(), select(separators)), 1..12).prop_map(|words| {
        let mut text = String::new();
        for (word, separator) in words {
            text.push_str(&word);
            text.push_str(separator);
        }
        text.trim_end().to_owned()
    })
}

/// `text` with `c` inserted before the character `at` picks; the position of `c`, counted from 1.
fn inject(text: &str, c: char, at: Index) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let position = at.index(chars.len().saturating_add(1));
    let mut out: String = chars.iter().take(position).collect();
    out.push(c);
    out.extend(chars.iter().skip(position));
    (out, position.saturating_add(1))
}

/// Latin letters and a look-alike from Cyrillic or Greek.
const LOOK_ALIKES: &[(char, char)] = &[
    ('a', '\u{430}'),
    ('e', '\u{435}'),
    ('o', '\u{43E}'),
    ('p', '\u{440}'),
    ('c', '\u{441}'),
    ('y', '\u{443}'),
    ('x', '\u{445}'),
    ('i', '\u{456}'),
    ('o', '\u{3BF}'),
    ('v', '\u{3BD}'),
    ('a', '\u{3B1}'),
];

/// A proposal admitting `newco`, titled `title` and described by `description`, submitted by m0's governor; the
/// receipt's outcome.
fn submit(chain: &mut TestChain, title: &str, description: &str) -> Outcome {
    let admit = Action::AdmitMember {
        member: member("newco"),
        name: BoundedString::try_new("NewCo").expect("short"),
        weight: Weight(1),
        governors: BoundedVec::try_new(vec![NewAccount { account: account("newco-gov"), key: public("newco-gov") }])
            .expect("one governor"),
    };
    let mut proposal = chain.proposal(Principal::Account(account("m0-gov")), vec![admit]);
    proposal.title = BoundedString::try_new(title).expect("within the title bound");
    proposal.description = BoundedString::try_new(description).expect("within the description bound");
    let tx = chain.account_tx("m0-gov", Payload::SubmitProposal { proposal, approvals: BoundedVec::new() });
    chain.apply(tx).outcome
}

fn truncated(text: String, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

proptest! {
    #![proptest_config(config(256))]

    /// Any hiding character, anywhere in plain text, is refused, and the refusal names it and its position.
    #[test]
    fn an_injected_hiding_character_is_refused(text in plain_text(Lines::Many), c in hiding_char(), at in any::<Index>()) {
        let (text, position) = inject(&text, c, at);
        let verdict = check_signer_text(&text, Lines::Many);
        prop_assert!(
            matches!(verdict, Err(UnsafeText::Character { position: p, code_point, .. }) if p == position && code_point == c),
            "{:?} at {position} in {text:?}: {verdict:?}", c
        );
    }

    /// Plain printable text whose words each keep to one script (or mix Latin with Chinese) passes.
    #[test]
    fn plain_text_of_mixed_scripts_by_word_passes(one in plain_text(Lines::One), many in plain_text(Lines::Many)) {
        prop_assert_eq!(check_signer_text(&one, Lines::One), Ok(()), "{:?}", one);
        prop_assert_eq!(check_signer_text(&many, Lines::Many), Ok(()), "{:?}", many);
        prop_assert!(check_signer_text(&many, Lines::One).is_err() == many.contains('\n'));
    }

    /// A Latin word with one letter swapped for its Cyrillic or Greek look-alike is refused as mixing scripts.
    #[test]
    fn a_look_alike_letter_inside_a_latin_word_is_refused(
        before in "[a-z]{0,6}",
        swap in select(LOOK_ALIKES),
        after in "[a-z]{0,6}",
        context in plain_text(Lines::One),
    ) {
        let word = format!("{before}{}{after}", swap.1);
        prop_assume!(before.len().saturating_add(after.len()) > 0);
        let text = format!("{context} {word}");
        prop_assert!(
            matches!(check_signer_text(&text, Lines::One), Err(UnsafeText::MixedScripts { .. })),
            "{:?} must be refused", text
        );
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// On chain: a proposal whose title or description carries an injected hiding character is refused at
    /// submission as `UnsafeText` (at the mempool's door and in a block alike), and the same proposal with plain
    /// text is accepted.
    #[test]
    fn the_chain_refuses_hidden_characters_and_accepts_plain_text(
        title in plain_text(Lines::One),
        description in plain_text(Lines::Many),
        // Other control characters never decode as text at all (`BoundedString`): nothing to submit.
        c in hiding_char().prop_filter("decodes as text", |c| !c.is_control() || *c == '\t'),
        at in any::<Index>(),
        in_title in any::<bool>(),
    ) {
        let title = truncated(title, 40);
        let description = truncated(description, 400);
        let mut chain = TestChain::with_members(4);
        let (bad_title, bad_description) = if in_title {
            (inject(&title, c, at).0, description.clone())
        } else {
            (title.clone(), inject(&description, c, at).0)
        };
        let outcome = submit(&mut chain, &bad_title, &bad_description);
        let field = if in_title { "title" } else { "description" };
        prop_assert!(
            matches!(&outcome, Outcome::Rejected { reason: Rejection::UnsafeText { field: f, .. } } if f.as_str() == field),
            "{outcome:?}"
        );
        let outcome = submit(&mut chain, &title, &description);
        prop_assert_eq!(&outcome, &Outcome::Applied, "{:?} / {:?}", title, description);
    }
}
