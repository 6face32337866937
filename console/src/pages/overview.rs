//! Overview: network health (sealers and observers, height, last block time, who is connected), proposals that
//! need my approval, recent governance events, a picture of the network and a block timeline.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::{self, NodeRow, Tables},
    app::{ChainVersion, use_lang},
    i18n::{Lang, Msg},
    pages::forms::show,
};

/// The overview page.
#[component]
pub fn Overview() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let tables = Resource::new(move || version.get(), |_| api::chain_tables());
    let extras = Resource::new(move || version.get(), |_| api::overview_extras());
    let clicks = RwSignal::new(0_u32);
    view! {
        <h1>{move || Msg::Overview.text(lang.get())}
            <button class="secondary" data-testid="hydration-probe" title="live" on:click=move |_| clicks.update(|n| *n = n.saturating_add(1))>
                {move || clicks.get()}
            </button>
        </h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(tables.await.map(|t| {
                    let sealers = t.nodes.iter().filter(|n| n.kind == "sealer").count();
                    let observers = t.nodes.len().saturating_sub(sealers);
                    view! {
                        <div class="grid">
                            <div class="card"><p>{Msg::Height.text(l)}</p><h2 data-testid="height">{t.height}</h2></div>
                            <div class="card"><p>{Msg::LastBlock.text(l)}</p><h2 data-testid="last-block-time">{format_time(t.last_block_time_ms)}</h2></div>
                            <div class="card"><p>{Msg::Sealers.text(l)}" / "{Msg::Observers.text(l)}</p>
                                <h2 data-testid="node-counts">{sealers}" / "{observers}</h2>
                                <p>{match l {
                                    Lang::En => format!("tolerates {} faulty sealer weight", t.fault_tolerance),
                                    Lang::ZhCn => format!("可容忍故障出块权重 {}", t.fault_tolerance),
                                }}</p></div>
                        </div>
                        <h2>{Msg::NetworkPicture.text(l)}</h2>
                        <NetworkPicture nodes=t.nodes.clone() />
                        <h2>{Msg::BlockTimeline.text(l)}</h2>
                        <Timeline tables=t />
                    }
                }))
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let l = lang.try_get_untracked().unwrap_or_default();
                show(extras.await.map(|x| view! {
                    <h2>{Msg::NeedsMyApproval.text(l)}</h2>
                    <ul data-testid="needs-my-approval">
                        {if x.needs_my_approval.is_empty() { Some(view! { <li>{Msg::Nothing.text(l)}</li> }) } else { None }}
                        {x.needs_my_approval.into_iter().map(|p| view! {
                            <li><A href=format!("/proposals/{}", p.id) attr:data-testid="needs-approval-link">{p.title}</A>" "<code>{p.kinds}</code></li>
                        }).collect_view()}
                    </ul>
                    <h2>{Msg::RecentEvents.text(l)}</h2>
                    <ul data-testid="recent-events">
                        {x.recent.into_iter().map(|r| view! { <li>{format_time(u64::try_from(r.at_ms).unwrap_or(0))}" "<code>{r.kind}</code>" "{r.actor}" "<code>{r.subject}</code></li> }).collect_view()}
                    </ul>
                    <h2>{match l { Lang::En => "Nodes this console reads from", Lang::ZhCn => "本控制台读取的节点" }}</h2>
                    <ul data-testid="node-health">
                        {x.node_health.into_iter().map(|(url, ok, what)| view! { <li class=if ok { "ok" } else { "bad" }><code>{url}</code>" "{what}</li> }).collect_view()}
                    </ul>
                }))
            })}
        </Transition>
        <crate::pages::webhooks::Webhooks />
    }
}

/// A UTC time of day from epoch milliseconds.
fn format_time(ms: u64) -> String {
    let secs = ms / 1000;
    format!("{:02}:{:02}:{:02} UTC", (secs / 3600) % 24, (secs / 60) % 60, secs % 60)
}

/// The nodes on a circle: sealers filled, observers hollow, a line to each node the console's node is connected to.
#[component]
fn NetworkPicture(nodes: Vec<NodeRow>) -> impl IntoView {
    let n = nodes.len().max(1);
    let points: Vec<(f64, f64, NodeRow)> = nodes
        .into_iter()
        .enumerate()
        .map(|(i, node)| {
            #[allow(clippy::cast_precision_loss, reason = "a handful of nodes on a circle")]
            let angle = std::f64::consts::TAU * (i as f64) / (n as f64);
            (150.0 + 100.0 * angle.cos(), 120.0 + 90.0 * angle.sin(), node)
        })
        .collect();
    view! {
        <svg class="network" viewBox="0 0 300 240" width="420" height="336" data-testid="network-picture" role="img">
            {points.iter().filter(|p| p.2.connected).map(|(x, y, _)| view! {
                <line x1="150" y1="120" x2=x.to_string() y2=y.to_string() stroke="#9aa7bd" />
            }).collect_view()}
            {points.into_iter().map(|(x, y, node)| {
                let sealer = node.kind == "sealer";
                view! {
                    <circle cx=x.to_string() cy=y.to_string() r="14" fill=if sealer { "#1f5fbf" } else { "#fff" } stroke="#1f5fbf" stroke-width="2" />
                    <text x=x.to_string() y=(y + 28.0).to_string() text-anchor="middle">{node.id}</text>
                }
            }).collect_view()}
        </svg>
    }
}

/// Recent blocks as bars whose height is their transaction count (SVG: the CSP allows no inline styles).
#[component]
fn Timeline(tables: Tables) -> impl IntoView {
    let most = tables.timeline.iter().map(|b| b.txs).max().unwrap_or(0).max(1);
    view! {
        <svg class="timeline" viewBox="0 0 300 60" width="600" height="120" data-testid="timeline" role="img">
            {tables.timeline.into_iter().enumerate().map(|(i, b)| {
                let h = b.txs.saturating_mul(56).checked_div(most).unwrap_or(0).max(3);
                let x = u64::try_from(i).unwrap_or(0).saturating_mul(10);
                view! {
                    <rect x=x.to_string() y=(60_u64.saturating_sub(h)).to_string() width="8" height=h.to_string() fill="#1f5fbf">
                        <title>{format!("#{} · {} tx", b.height, b.txs)}</title>
                    </rect>
                }
            }).collect_view()}
        </svg>
    }
}
