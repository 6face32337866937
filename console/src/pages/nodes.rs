//! Nodes: admitted nodes with kind, owner, key, readiness and connection; drafts to admit an observer, promote,
//! demote, remove, change address, revoke a key at once; and key rotation: the operator uploads the rotation
//! request the node produced (`synod key rotate`), reviews it here, relays it and approves it.

use governance_contracts::{
    crypto::PublicKey,
    ids::{NodeId, Weight},
    types::{Action, Payload, SignedTransaction},
};
use leptos::prelude::*;

use crate::{
    api,
    app::{ChainVersion, KeyRing, MeResource, use_lang},
    i18n::Msg,
    pages::{
        forms::{Field, FormError, create_draft, parsed, required, show},
        proposal::send,
    },
};

/// The nodes page.
#[component]
pub fn Nodes() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let tables = Resource::new(move || version.get(), |_| api::chain_tables());
    view! {
        <h1>{move || Msg::Nodes.text(lang.get())}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(tables.await.map(|t| view! {
                    <p data-testid="fault-tolerance">"The chain now tolerates "{t.fault_tolerance}" faulty sealer(s) by weight."</p>
                    <table data-testid="nodes"><tbody>
                        <tr><th>{Msg::Node.text(l)}</th><th>{Msg::Kind.text(l)}</th><th>{Msg::Owner.text(l)}</th><th>{Msg::Weight.text(l)}</th>
                            <th>{Msg::Key.text(l)}</th><th>{Msg::Address.text(l)}</th><th>{Msg::Readiness.text(l)}</th><th>{Msg::Connected.text(l)}</th></tr>
                        {t.nodes.into_iter().map(|n| view! {
                            <tr data-testid=format!("node-{}", n.id)>
                                <td><code>{n.id.clone()}</code></td><td>{n.kind}</td><td>{n.owner}</td><td>{n.weight}</td>
                                <td><code data-testid=format!("node-key-{}", n.id)>{n.key}</code></td><td><code>{n.address}</code></td>
                                <td>{n.attested.map(|h| format!("height {h}")).unwrap_or_else(|| "—".to_owned())}</td>
                                <td>{if n.connected { "●" } else { "○" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                    {(!t.evidence.is_empty()).then(|| view! {
                        <h2>{Msg::Evidence.text(l)}</h2>
                        <ul data-testid="evidence">{t.evidence.into_iter().map(|(h, node)| view! {
                            <li>"height "{h}": "<code>{node.clone()}</code>" signed two different votes. "
                                <SuspendSealer node />
                            </li>
                        }).collect_view()}</ul>
                    })}
                }))
            })}
        </Transition>
        <Rotation />
        <NodeForms />
    }
}

/// A ready draft to take an equivocating sealer out of the sealer set.
#[component]
fn SuspendSealer(node: String) -> impl IntoView {
    let error = RwSignal::new(None);
    let id = node.clone();
    view! {
        <button data-testid=format!("evidence-draft-{node}") on:click=move |_| {
            let action = id.parse::<NodeId>().map(|node| vec![Action::DemoteNode { node, override_fault_tolerance: false }]).map_err(|_| "bad node id".to_owned());
            create_draft(format!("Demote equivocating sealer {id}"), action, error);
        }>"Draft its demotion"</button>
        <FormError testid="evidence-error" error />
    }
}

#[component]
fn NodeForms() -> impl IntoView {
    let (node, owner, key, address, weight, expected) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("1".to_owned()),
        RwSignal::new(String::new()),
    );
    let error = RwSignal::new(None);
    let draft = move |kind: &'static str| {
        let actions = (|| -> Result<Vec<Action>, String> {
            let node = parsed::<NodeId>(node, "the node id")?;
            let address_of = |value: RwSignal<String>, what: &str| {
                governance_contracts::codec::BoundedString::try_new(required(value, what)?)
                    .map_err(|_| format!("{what} is too long"))
            };
            Ok(vec![match kind {
                "admit" => Action::AdmitNode {
                    node,
                    owner: parsed(owner, "the owner member")?,
                    key: parsed::<PublicKey>(key, "the node's public key")?,
                    address: address_of(address, "the address")?,
                },
                "promote" => Action::PromoteNode {
                    node,
                    weight: Weight(parsed(weight, "the weight")?),
                    override_fault_tolerance: false,
                },
                "demote" => Action::DemoteNode { node, override_fault_tolerance: false },
                "remove" => Action::RemoveNode { node, override_fault_tolerance: false },
                "address" => Action::SetNodeAddress {
                    node,
                    expected: address_of(expected, "the current address")?,
                    address: address_of(address, "the new address")?,
                },
                _ => Action::RevokeNodeKey {
                    node,
                    key: parsed::<PublicKey>(key, "the key to revoke")?,
                    override_fault_tolerance: false,
                },
            }])
        })();
        let title = format!("{kind} node {}", node.get_untracked().trim());
        create_draft(title, actions, error);
    };
    view! {
        <section class="card">
            <h2>"Change nodes / 变更节点"</h2>
            <p>"Sealer changes are checked before anyone signs: the draft shows the sealer set and fault tolerance before and after, and readiness."</p>
            <div class="row">
                <Field label="Node id" testid="node-id" value=node />
                <Field label="Owner member" testid="node-owner" value=owner />
                <Field label="Public key" testid="node-key" value=key />
                <Field label="Address host:port" testid="node-address" value=address />
                <Field label="Weight" testid="node-weight" value=weight />
                <Field label="Current address" testid="node-address-expected" value=expected />
            </div>
            <div class="row">
                <button data-testid="admit-node-draft" on:click=move |_| draft("admit")>"Admit observer"</button>
                <button data-testid="promote-node-draft" on:click=move |_| draft("promote")>"Promote to sealer"</button>
                <button data-testid="demote-node-draft" class="secondary" on:click=move |_| draft("demote")>"Demote"</button>
                <button data-testid="remove-node-draft" class="secondary" on:click=move |_| draft("remove")>"Remove"</button>
                <button data-testid="address-node-draft" class="secondary" on:click=move |_| draft("address")>"Change address"</button>
                <button data-testid="revoke-key-draft" class="secondary" on:click=move |_| draft("revoke")>"Revoke key at once (emergency)"</button>
            </div>
            <FormError testid="node-error" error />
        </section>
    }
}

/// The operator's key-rotation wizard.
#[component]
fn Rotation() -> impl IntoView {
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let request = RwSignal::new(None::<SignedTransaction>);
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = crate::app::hydrated();
    let on_file = move |ev: leptos::ev::Event| {
        let _ = &ev;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(file) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                return;
            };
            leptos::task::spawn_local(async move {
                if file.size() > 1_048_576.0 {
                    return error.set(Some("this file is too large to be a rotation request".to_owned()));
                }
                let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(t) => t.as_string().unwrap_or_default(),
                    Err(_) => return error.set(Some("cannot read the file".to_owned())),
                };
                match check_request(&text) {
                    Ok(tx) => {
                        error.set(None);
                        request.set(Some(tx));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let authorise = move |_| {
        let Some(tx) = request.get_untracked() else { return };
        let Some(signer) = keys.get_untracked() else {
            return error.set(Some("load your operator key first".to_owned()));
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let outcome = async {
                let me = me.await.map_err(|e| e.to_string())?;
                let tables = api::chain_tables().await.map_err(|e| e.to_string())?;
                let Payload::SubmitProposal { proposal, .. } = &tx.tx.payload else {
                    return Err("not a rotation request".to_owned());
                };
                let proposal = proposal.clone();
                if !tx.key.verify(&tx.tx.signing_digest(&me.chain), &tx.signature) {
                    return Err("the request's signature does not verify for this chain".to_owned());
                }
                let account: governance_contracts::ids::AccountId = me
                    .identity
                    .as_ref()
                    .ok_or("sign in first")?
                    .account
                    .parse()
                    .map_err(|_| "bad account".to_owned())?;
                let hex = hex::encode(governance_contracts::codec::encode(&tx));
                // The node's own request first (a repeat of one already on chain is refused and harmless)...
                if let Err(e) = send(hex).await
                    && !e.contains("duplicate")
                    && !e.contains("already")
                {
                    return Err(e);
                }
                // ...then the operator's approval.
                let valid_until = me.height.saturating_add((tables.max_tx_ttl / 2).max(1));
                let approval = signer.approve_proposal(&proposal, &me.chain, account.clone());
                let approve = signer
                    .approve(proposal.id(&me.chain), vec![approval], &me.chain, account, valid_until)
                    .map_err(|e| e.to_string())?;
                send(approve).await.map(|(_, receipt)| receipt)
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(receipt) => result.set(Some(receipt)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Rotate a node's key / 节点密钥轮换"</h2>
            <p>"On the node, run "<code>"synod key rotate --home DIR"</code>", then upload the "<code>"rotation-request.json"</code>" it wrote. The request is checked here; authorising relays it and signs your approval."</p>
            <input type="file" accept=".json,application/json" data-testid="rotation-file" on:change=on_file />
            {move || request.get().map(|tx| {
                let words = crate::wysiwys::describe_transaction(&tx.tx);
                view! {
                    <div data-testid="rotation-review">
                        <ul>{words.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        <button data-testid="rotation-authorise" disabled=move || !ready.get() || busy.get() on:click=authorise>"Authorise rotation"</button>
                    </div>
                }
            })}
            <p class="ok" data-testid="rotation-result">{move || result.get()}</p>
            <FormError testid="rotation-error" error />
        </section>
    }
}

/// Checks an uploaded rotation request: a node's own proposal whose actions all rotate that node's key.
pub fn check_request(text: &str) -> Result<SignedTransaction, String> {
    let tx: SignedTransaction =
        serde_json::from_str(text).map_err(|e| format!("this is not a rotation request: {e}"))?;
    let governance_contracts::types::Principal::Node(node) = &tx.tx.sender else {
        return Err("a rotation request is sent by the node itself".to_owned());
    };
    let Payload::SubmitProposal { proposal, .. } = &tx.tx.payload else {
        return Err("a rotation request submits a proposal".to_owned());
    };
    if proposal.actions.is_empty()
        || !proposal.actions.iter().all(|a| matches!(a, Action::RotateNodeKey { node: n, .. } if n == node))
    {
        return Err(format!("this proposal does more than rotate the key of {node}"));
    }
    Ok(tx)
}
