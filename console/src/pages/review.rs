//! What you see is what you sign: a proposal's canonical bytes decoded, described and digested by this page's own
//! code (the contracts crate compiled to WebAssembly), never taken from the server's word. Every title,
//! description, name and address holding non-ASCII characters carries a badge with their code points
//! ([`TextMarks`]).

use governance_contracts::types::Proposal;
use leptos::prelude::*;

use crate::{
    api,
    app::{MeResource, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::forms::show,
    wysiwys,
};

/// What a closed proposal's review says instead of its checks.
const CLOSED_NOTE: Text = t(
    "This proposal is closed. Its actions are shown as they were signed; how it was judged is its verdict below, \
     recorded in the block that closed it. Nothing here is checked against the chain's state now.",
    "此提案已结束。以下按签署时的内容列出其操作；其判定结果见下方在结束它的区块中记录的裁决。此处不再以链的当前状态重新检查。",
);

/// A proposal whose digest this page computed itself and found equal to the id it was offered under.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// The decoded proposal.
    pub proposal: Proposal,
    /// Its digest (= its id), as computed here.
    pub digest: String,
}

/// Decodes `proposal_hex`, renders every action with its before → after and checks, shows the digest and how to
/// check it on a second machine, and publishes the proposal to `reviewed` when its digest equals `expected_id`.
/// A `closed` proposal (executed, failed, expired or cancelled) is shown as signed, without its before → after or
/// checks: those describe it against the chain's state now, and history is never re-judged by a later state.
#[component]
pub fn Review(
    proposal_hex: String,
    expected_id: String,
    reviewed: RwSignal<Option<Reviewed>>,
    #[prop(optional)] closed: bool,
) -> impl IntoView {
    let lang = use_lang();
    let me = expect_context::<MeResource>().0;
    // Loaded once per review: a review that re-rendered on every block would reset what the signer is reading.
    let snapshot = Resource::new(|| (), |()| api::chain_snapshot());
    let hex = StoredValue::new(proposal_hex);
    let expected = StoredValue::new(expected_id);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(async {
                let me = me.await.map_err(|e| e.to_string())?;
                let snapshot = snapshot.await.map_err(|e| e.to_string())?;
                let proposal = wysiwys::decode_proposal(&hex.get_value()).map_err(|e| e.text(l))?;
                let review = wysiwys::ProposalReview::new(&proposal, &me.chain, &snapshot, l);
                let digest = review.digest.clone();
                let matches = digest == expected.get_value();
                if matches {
                    reviewed.set(Some(Reviewed { proposal: proposal.clone(), digest: digest.clone() }));
                } else {
                    reviewed.set(None);
                }
                let file_json = wysiwys::proposal_file_json(&proposal);
                Ok::<_, String>(view! {
                    <section class="card review" data-testid="review">
                        <h2 data-testid="review-title">{review.title.clone()}</h2>
                        <p class="description">{review.description.clone()}</p>
                        <TextMarks marks=review.marks.iter().filter(|m| m.action.is_none()).cloned().collect() />
                        <ReviewBody review=review.clone() closed />
                        <p>{Msg::Digest.text(l)}</p>
                        <p class="digest mono" data-testid="digest">{digest.clone()}</p>
                        {(!matches).then(|| view! {
                            <p class="bad" data-testid="digest-mismatch">{Msg::DigestMismatch.text(l)}</p>
                        })}
                        <p>{Msg::CheckOnSecondDevice.text(l)}</p>
                        <pre class="mono" data-testid="second-device">{review.second_device_command.clone()}"\n# "{review.second_device_line.clone()}</pre>
                        <details data-testid="proposal-file">
                            <summary>{Msg::ProposalFile.text(l)}" "<code>{review.file_name.clone()}</code></summary>
                            <pre class="mono">{file_json}</pre>
                        </details>
                    </section>
                })
                }.await)
            })}
        </Suspense>
    }
}

/// The marks of the texts a signer reads: for each text holding non-ASCII characters, a badge with their code
/// points and the text with them escaped, so a look-alike letter or an invisible character cannot pass unseen;
/// for a text the chain refuses, why.
#[component]
pub fn TextMarks(marks: Vec<wysiwys::signer_text::TextMark>) -> impl IntoView {
    (!marks.is_empty()).then(|| {
        view! {
            <ul class="text-marks" data-testid="text-marks">
                {marks.into_iter().map(|mark| view! {
                    <li data-testid="text-mark">
                        <strong>{mark.field}</strong>": "<code data-testid="text-escaped">{mark.escaped}</code>
                        {mark.badge.map(|badge| view! { " "<span class="badge" data-testid="non-ascii">{badge}</span> })}
                        {mark.refused.map(|why| view! { " "<span class="bad" data-testid="text-refused">{why}" ✗"</span> })}
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

/// A reviewed proposal's proposer, expiry, actions (each with its before → after, the approval it needs and its
/// checks), the sealer pre-flight and the checks about the proposal as a whole. A `closed` proposal shows its
/// actions only.
#[component]
pub fn ReviewBody(review: wysiwys::ProposalReview, #[prop(optional)] closed: bool) -> impl IntoView {
    let lang = use_lang();
    let l = lang.try_get_untracked().unwrap_or_default();
    let checks = move |checks: Vec<wysiwys::Check>| {
        (!closed).then(|| {
            view! {
                <ul class="checks">
                    {checks.into_iter().map(|c| view! {
                        <li class=if c.ok { "ok" } else { "bad" } data-testid="review-check">{c.text}</li>
                    }).collect_view()}
                </ul>
            }
        })
    };
    let changes = move |changes: Vec<wysiwys::Change>| {
        (!closed).then(|| {
            view! {
                <table class="change"><tbody>
                    {changes.into_iter().map(|c| view! {
                        <tr>
                            <th>{c.what}</th>
                            <td class="before">{c.before}</td>
                            <td>"→"</td>
                            <td class="after">{c.after}</td>
                        </tr>
                    }).collect_view()}
                </tbody></table>
            }
        })
    };
    let marks = review.marks.clone();
    let sealers = review.sealers.filter(|_| !closed);
    view! {
        <p data-testid="review-proposer">{Msg::Proposer.text(l)}": "{review.proposer}" · "{Msg::ExpiresAt.text(l)}" "{review.expires_at.0}</p>
        {closed.then(|| view! {
            <p class="notice" data-testid="review-closed">{CLOSED_NOTE.get(l)}</p>
        })}
        {checks(review.checks)}
        <ol>
            {review.actions.into_iter().map(|action| view! {
                <li data-testid="review-action">
                    <p><strong>{action.headline}</strong></p>
                    <TextMarks marks=marks.iter().filter(|m| m.action == Some(action.number)).cloned().collect() />
                    {changes(action.changes)}
                    <ul class="needs">{action.needs.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    {checks(action.checks)}
                </li>
            }).collect_view()}
        </ol>
        {sealers.map(|preflight| view! {
            <section data-testid="sealer-preflight">
                <h3>{Msg::SealerPreflight.text(l)}</h3>
                {changes(preflight.changes)}
                {checks(preflight.checks)}
                {preflight.rejection.map(|reason| view! {
                    <p class="bad" data-testid="sealer-refusal">{match l {
                        Lang::En => format!("The chain refuses this change: {reason}"),
                        Lang::ZhCn => format!("链将拒绝此变更：{reason}"),
                    }}</p>
                })}
            </section>
        })}
    }
}
