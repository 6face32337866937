//! Nodes: admitted nodes with kind, owner, key, readiness and connection; drafts to admit an observer, promote,
//! demote, remove, change address, revoke a key at once; and key rotation: the operator uploads the rotation
//! request the node produced (`synod key rotate`), reviews it here, relays it and approves it.

use governance_contracts::{
    crypto::PublicKey,
    ids::{Height, NodeId, Weight},
    types::{Action, Payload, SignedTransaction},
};
use leptos::prelude::*;

use crate::{
    api,
    app::{ChainVersion, KeyRing, MeResource, loaded, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::{
        forms::{Check, Field, FormError, Input, create_draft, rich, say, show, too_long},
        proposal::send,
        review::ReviewBody,
    },
    signer::Validity,
    wysiwys,
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
            {loaded(tables, move |tables, l| {
                show(tables.map(|t| view! {
                    <p data-testid="fault-tolerance">{match l {
                        Lang::En => format!("The chain now tolerates {} faulty sealer weight.", t.fault_tolerance),
                        Lang::ZhCn => format!("本链当前可容忍的故障出块权重：{}。", t.fault_tolerance),
                    }}</p>
                    <table data-testid="nodes"><tbody>
                        <tr><th>{Msg::Node.text(l)}</th><th>{Msg::Kind.text(l)}</th><th>{Msg::Owner.text(l)}</th><th>{Msg::Weight.text(l)}</th>
                            <th>{Msg::Key.text(l)}</th><th>{Msg::Address.text(l)}</th><th>{Msg::Readiness.text(l)}</th><th>{Msg::Connected.text(l)}</th></tr>
                        {t.nodes.into_iter().map(|n| view! {
                            <tr data-testid=format!("node-{}", n.id)>
                                <td><code>{n.id.clone()}</code></td><td>{kind_words(&n.kind, l)}</td><td>{n.owner}</td><td>{n.weight}</td>
                                <td><code data-testid=format!("node-key-{}", n.id)>{n.key}</code></td><td><code>{n.address}</code></td>
                                <td>{n.attested.map(|h| format!("{} {h}", Msg::Height.text(l))).unwrap_or_else(|| "—".to_owned())}</td>
                                <td>{if n.connected { "●" } else { "○" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                    <p class="muted" data-testid="nodes-legend">{READINESS_HELP.get(l)}</p>
                    {(!t.evidence.is_empty()).then(|| view! {
                        <h2>{Msg::Evidence.text(l)}</h2>
                        <ul data-testid="evidence">{t.evidence.into_iter().map(|(h, node)| view! {
                            <li>{Msg::Height.text(l)}" "{h}": "<code>{node.clone()}</code>" "{t_equivocated(l)}" "
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
            let title = match use_lang().get_untracked() {
                Lang::En => format!("Demote equivocating sealer {id}"),
                Lang::ZhCn => format!("降级双重签名的共识节点 {id}"),
            };
            create_draft(title, action, error);
        }>{say(t("Draft its demotion", "起草将其降级的提案"))}</button>
        <FormError testid="evidence-error" error />
    }
}

const NODE_ID: Text = t("Node id", "节点编号");
/// Where a node's public key comes from.
const NODE_KEY_HELP: Text = t(
    "The operator makes the node's key on its own host with `synod keygen --out KEY.pem`, which prints the public key (ed25519:…); to revoke, the key the node holds now.",
    "运维人员在节点所在主机上用 `synod keygen --out KEY.pem` 生成节点密钥，该命令会输出公钥（ed25519:…）；吊销时填写节点当前的公钥。",
);
/// The rotation request's file input.
const ROTATION_FILE: Text = t("Rotation request (rotation-request.json)", "轮换请求（rotation-request.json）");
/// What the readiness column means.
const READINESS_HELP: Text = t(
    "Readiness: the height at which the node proved it holds its key and runs the chain's software (its attestation); a sealer must have one. Connected: ● the node this console reads from is connected to it now, ○ it is not.",
    "就绪：节点证明其持有私钥并运行本链软件（其证明）时的区块高度；共识节点必须具备。连接：● 本控制台读取的节点当前与其直连，○ 未直连。",
);
const OWNER: Text = t("Owner member", "所属成员机构");
const PUBLIC_KEY: Text = t("Public key (ed25519:…)", "公钥（ed25519:…）");
const ADDRESS: Text = t("Address host:port", "地址 host:port");
const WEIGHT: Text = t("Weight", "权重");
const CURRENT_ADDRESS: Text = t("Current address", "当前地址");

/// A node's kind in words.
fn kind_words(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "sealer" => t("sealer", "共识节点").get(lang),
        "observer" => t("observer", "观察节点").get(lang),
        _ => t("unknown", "未知").get(lang),
    }
}

fn t_equivocated(lang: Lang) -> &'static str {
    t("signed two different votes at the same height and round.", "在同一高度和轮次签署了两个不同的投票。").get(lang)
}

#[component]
fn NodeForms() -> impl IntoView {
    let (node, owner, key, address, weight, expected) =
        (Input::new(""), Input::new(""), Input::new(""), Input::new(""), Input::new("1"), Input::new(""));
    let error = RwSignal::new(None);
    let lang = use_lang();
    let draft = move |kind: &'static str| {
        let l = lang.get_untracked();
        let mut check = Check::new(l);
        let id = check.parse::<NodeId>(node, NODE_ID);
        let address_of = |check: &mut Check, input: Input, what: Text| {
            let text = check.text(input, what)?;
            check.rule(input, governance_contracts::codec::BoundedString::try_new(text).map_err(|_| too_long(what, l)))
        };
        let action = match kind {
            "admit" => {
                let owner = check.parse(owner, OWNER);
                let key = check.parse::<PublicKey>(key, PUBLIC_KEY);
                let address = address_of(&mut check, address, ADDRESS);
                (|| Some(Action::AdmitNode { node: id?, owner: owner?, key: key?, address: address? }))()
            }
            "promote" => {
                let weight = check.parse(weight, WEIGHT);
                (|| Some(Action::PromoteNode { node: id?, weight: Weight(weight?), override_fault_tolerance: false }))()
            }
            "demote" => id.map(|node| Action::DemoteNode { node, override_fault_tolerance: false }),
            "remove" => id.map(|node| Action::RemoveNode { node, override_fault_tolerance: false }),
            "address" => {
                let expected = address_of(&mut check, expected, CURRENT_ADDRESS);
                let address = address_of(&mut check, address, ADDRESS);
                (|| Some(Action::SetNodeAddress { node: id?, expected: expected?, address: address? }))()
            }
            _ => {
                let key = check.parse::<PublicKey>(key, PUBLIC_KEY);
                (|| Some(Action::RevokeNodeKey { node: id?, key: key?, override_fault_tolerance: false }))()
            }
        };
        let actions = check.done(action).map(|a| vec![a]);
        let which = node.value.get_untracked().trim().to_owned();
        let title = match (kind, l) {
            ("admit", Lang::En) => format!("Admit node {which}"),
            ("admit", Lang::ZhCn) => format!("准入节点 {which}"),
            ("promote", Lang::En) => format!("Promote node {which} to sealer"),
            ("promote", Lang::ZhCn) => format!("将节点 {which} 升为共识节点"),
            ("demote", Lang::En) => format!("Demote node {which} to observer"),
            ("demote", Lang::ZhCn) => format!("将节点 {which} 降为观察节点"),
            ("remove", Lang::En) => format!("Remove node {which}"),
            ("remove", Lang::ZhCn) => format!("移除节点 {which}"),
            ("address", Lang::En) => format!("Change the address of node {which}"),
            ("address", Lang::ZhCn) => format!("变更节点 {which} 的地址"),
            (_, Lang::En) => format!("Revoke the key of node {which}"),
            (_, Lang::ZhCn) => format!("吊销节点 {which} 的密钥"),
        };
        create_draft(title, actions, error);
    };
    view! {
        <section class="card">
            <h2>{say(t("Change nodes", "变更节点"))}</h2>
            <p>{say(t(
                "Sealer changes are checked before anyone signs: the draft shows the sealer set and fault tolerance before and after, and readiness.",
                "出块节点的变更在任何人签名前先做预检：草案会显示变更前后的出块节点集合、容错能力和就绪状态。",
            ))}</p>
            <div class="row">
                <Field label=NODE_ID testid="node-id" value=node.value error=node.error />
                <Field label=OWNER testid="node-owner" value=owner.value error=owner.error />
                <Field label=PUBLIC_KEY testid="node-key" value=key.value error=key.error help=NODE_KEY_HELP />
                <Field label=ADDRESS testid="node-address" value=address.value error=address.error />
                <Field label=WEIGHT testid="node-weight" value=weight.value error=weight.error />
                <Field label=CURRENT_ADDRESS testid="node-address-expected" value=expected.value error=expected.error />
            </div>
            <div class="row">
                <button data-testid="admit-node-draft" on:click=move |_| draft("admit")>{say(t("Admit observer", "接入观察节点"))}</button>
                <button data-testid="promote-node-draft" on:click=move |_| draft("promote")>{say(t("Promote to sealer", "升为出块节点"))}</button>
                <button data-testid="demote-node-draft" class="secondary" on:click=move |_| draft("demote")>{say(t("Demote", "降为观察节点"))}</button>
                <button data-testid="remove-node-draft" class="secondary" on:click=move |_| draft("remove")>{say(t("Remove", "移除"))}</button>
                <button data-testid="address-node-draft" class="secondary" on:click=move |_| draft("address")>{say(t("Change address", "变更地址"))}</button>
                <button data-testid="revoke-key-draft" class="secondary" on:click=move |_| draft("revoke")>{say(t("Revoke key at once (emergency)", "立即吊销密钥（紧急）"))}</button>
            </div>
            <FormError testid="node-error" error />
        </section>
    }
}

/// The operator's key-rotation wizard.
/// A rotation request as this page reviewed it: the node's signed submission, what it does and the proposal it
/// carries in words, against the chain as the console last saw it.
#[derive(Clone, PartialEq)]
struct RotationReview {
    tx: SignedTransaction,
    summary: wysiwys::TransactionReview,
    proposal: wysiwys::ProposalReview,
}

/// Reads, checks and reviews an uploaded rotation request in `lang`.
#[cfg(feature = "hydrate")]
async fn review_request(text: String, lang: Lang) -> Result<RotationReview, String> {
    let tx = check_request(&text, lang)?;
    let me = api::whoami().await.map_err(|e| e.to_string())?;
    let snapshot = api::chain_snapshot().await.map_err(|e| e.to_string())?;
    let Payload::SubmitProposal { proposal, .. } = &tx.tx.payload else {
        return Err("a rotation request submits a proposal".to_owned());
    };
    let summary = wysiwys::transaction_review(&tx, &me.chain, lang);
    if !summary.signature_valid {
        return Err(match lang {
            Lang::En => {
                "the request's signature does not verify for this chain: it was not made by this node for this chain"
                    .to_owned()
            }
            Lang::ZhCn => "请求的签名对本链无效：它不是该节点为本链生成的".to_owned(),
        });
    }
    let proposal = wysiwys::ProposalReview::new(proposal, &me.chain, &snapshot, lang);
    Ok(RotationReview { tx, summary, proposal })
}

#[component]
fn Rotation() -> impl IntoView {
    let lang = use_lang();
    let keys = expect_context::<KeyRing>().0;
    let me = expect_context::<MeResource>().0;
    let request = RwSignal::new(None::<RotationReview>);
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
                request.set(None);
                result.set(None);
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "a bound compared with the browser's file size, a double"
                )]
                if file.size() > wysiwys::MAX_INPUT_CHARS as f64 {
                    return error.set(Some("this file is too large to be a rotation request".to_owned()));
                }
                let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(t) => t.as_string().unwrap_or_default(),
                    Err(_) => return error.set(Some("cannot read the file".to_owned())),
                };
                match review_request(text, lang.get_untracked()).await {
                    Ok(review) => {
                        error.set(None);
                        request.set(Some(review));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let authorise = move |_| {
        let Some(review) = request.get_untracked() else { return };
        let Some(signer) = keys.get_untracked() else {
            return error.set(Some(Msg::KeyNotLoaded.text(lang.get_untracked()).to_owned()));
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let outcome = async {
                let l = lang.get_untracked();
                let me = me.await.map_err(|e| e.to_string())?;
                let tables = api::chain_tables().await.map_err(|e| e.to_string())?;
                let Payload::SubmitProposal { proposal, .. } = &review.tx.tx.payload else {
                    return Err("not a rotation request".to_owned());
                };
                let account: governance_contracts::ids::AccountId = me
                    .identity
                    .as_ref()
                    .ok_or("sign in first")?
                    .account
                    .parse()
                    .map_err(|_| "bad account".to_owned())?;
                // The node's own request first (a repeat of one already on chain is refused and harmless)...
                if let Err(e) = send(wysiwys::canonical_hex(&review.tx)).await
                    && !e.contains("duplicate")
                    && !e.contains("already")
                {
                    return Err(e);
                }
                // ...then the operator's approval.
                let validity = Validity::for_chain(Height(me.height), tables.max_tx_ttl);
                let approve = signer.approve_own(&me.chain, &account, proposal, validity).map_err(|e| e.text(l))?;
                send(approve.hex).await.map(|(_, receipt)| receipt)
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
            <h2>{move || Msg::RotateNodeKey.text(lang.get())}</h2>
            <p>{move || rich(Msg::RotateNodeKeyHelp.text(lang.get()))}</p>
            <label>{move || ROTATION_FILE.get(lang.get())}
                <input type="file" accept=".json,application/json" data-testid="rotation-file" on:change=on_file />
            </label>
            {move || request.get().map(|review| {
                let RotationReview { summary, proposal, .. } = review;
                view! {
                    <div data-testid="rotation-review">
                        <p><strong>{summary.headline}</strong></p>
                        <ul>{summary.details.into_iter().map(|w| view! { <li class="mono">{w}</li> }).collect_view()}</ul>
                        <ul>{summary.checks.into_iter().map(|c| view! {
                            <li class=if c.ok { "ok" } else { "bad" }>{c.text}</li>
                        }).collect_view()}</ul>
                        <ReviewBody review=proposal />
                        <button data-testid="rotation-authorise" disabled=move || !ready.get() || busy.get() on:click=authorise>
                            {move || Msg::AuthoriseRotation.text(lang.get())}
                        </button>
                    </div>
                }
            })}
            <p class="ok" data-testid="rotation-result">{move || result.get()}</p>
            <FormError testid="rotation-error" error />
        </section>
    }
}

/// Checks an uploaded rotation request (the JSON `synod key rotate` writes, or canonical hex): a node's own
/// proposal whose actions all rotate that node's key.
pub fn check_request(text: &str, lang: Lang) -> Result<SignedTransaction, String> {
    let tx = wysiwys::parse_transaction_text(text).map_err(|e| e.text(lang))?;
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
