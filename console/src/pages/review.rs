//! What you see is what you sign: a proposal's canonical bytes decoded, described and digested by this page's own
//! code (the contracts crate compiled to WebAssembly), never taken from the server's word.

use governance_contracts::types::Proposal;
use leptos::prelude::*;

use crate::{
    api,
    app::{MeResource, use_lang},
    i18n::Msg,
    pages::forms::show,
    wysiwys,
};

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
#[component]
pub fn Review(proposal_hex: String, expected_id: String, reviewed: RwSignal<Option<Reviewed>>) -> impl IntoView {
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
                let proposal = wysiwys::decode_proposal(&hex.get_value()).map_err(|e| e.to_string())?;
                let review = wysiwys::ProposalReview::new(&proposal, &me.chain, &snapshot, l);
                let digest = review.digest.clone();
                let matches = digest == expected.get_value();
                if matches {
                    reviewed.set(Some(Reviewed { proposal: proposal.clone(), digest: digest.clone() }));
                } else {
                    reviewed.set(None);
                }
                let command = wysiwys::second_device_command(&digest);
                Ok::<_, String>(view! {
                    <section class="card review" data-testid="review">
                        <h2 data-testid="review-title">{proposal.title.to_string()}</h2>
                        <p>{proposal.description.to_string()}</p>
                        <ol>
                            {review.actions.into_iter().map(|action| view! {
                                <li data-testid="review-action">
                                    <p><strong>{action.headline}</strong></p>
                                    <table class="change"><tbody>
                                        {action.changes.into_iter().map(|c| view! {
                                            <tr>
                                                <th>{c.what}</th>
                                                <td class="before">{c.before}</td>
                                                <td>"→"</td>
                                                <td class="after">{c.after}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody></table>
                                    <ul>
                                        {action.checks.into_iter().map(|c| view! {
                                            <li class=if c.ok { "ok" } else { "bad" } data-testid="review-check">
                                                {if c.ok { "✓ " } else { "✗ " }}{c.text}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </li>
                            }).collect_view()}
                        </ol>
                        <p>{Msg::Digest.text(l)}</p>
                        <p class="digest mono" data-testid="digest">{digest.clone()}</p>
                        {(!matches).then(|| view! {
                            <p class="bad" data-testid="digest-mismatch">
                                "The digest computed here differs from the id the server gave: do not sign. / 本地计算的摘要与服务器给出的编号不一致：请勿签名。"
                            </p>
                        })}
                        <p>{Msg::CheckOnSecondDevice.text(l)}</p>
                        <pre class="mono" data-testid="second-device">{command}</pre>
                    </section>
                })
                }.await)
            })}
        </Suspense>
    }
}
