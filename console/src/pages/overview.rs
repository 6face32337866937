//! Overview: network health (sealers and observers, height, last block time, who is connected), proposals that
//! need my approval, recent governance events in words, a labelled picture of the network around the node this
//! console reads from, and a block timeline with its heights and times.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::{self, BlockBar, NodeRow, Tables},
    app::{ChainVersion, loaded, use_lang},
    i18n::{Lang, Msg, Text, t},
    pages::{
        events::AuditLine,
        forms::show,
        time::{Moment, utc_clock},
    },
};

/// The overview page.
#[component]
pub fn Overview() -> impl IntoView {
    let lang = use_lang();
    let version = expect_context::<ChainVersion>().0;
    let tables = Resource::new(move || version.get(), |_| api::chain_tables());
    let extras = Resource::new(move || version.get(), |_| api::overview_extras());
    view! {
        <h1>{move || Msg::Overview.text(lang.get())}</h1>
        <Transition fallback=|| ()>
            {loaded(tables, move |tables, l| show(tables.map(|t| {
                let sealers = t.nodes.iter().filter(|n| n.kind == "sealer").count();
                let observers = t.nodes.len().saturating_sub(sealers);
                let tolerance = t.fault_tolerance;
                view! {
                    <div class="grid">
                        <div class="card"><p>{Msg::Height.text(l)}</p><h2 data-testid="height">{t.height}</h2></div>
                        <div class="card"><p>{Msg::LastBlock.text(l)}</p>
                            <h2 data-testid="last-block-time">{(t.last_block_time_ms > 0).then(|| view! { <Moment ms=clamp_ms(t.last_block_time_ms) lang=l /> })}</h2></div>
                        <div class="card"><p>{Msg::Sealers.text(l)}" / "{Msg::Observers.text(l)}</p>
                            <h2 data-testid="node-counts">{sealers}" / "{observers}</h2>
                            <p>{match l {
                                Lang::En => format!("tolerates {tolerance} faulty sealer weight"),
                                Lang::ZhCn => format!("可容忍故障共识权重 {tolerance}"),
                            }}</p></div>
                    </div>
                    <h2>{Msg::NetworkPicture.text(l)}</h2>
                    <NetworkPicture nodes=t.nodes.clone() hub=t.console_node.clone() lang=l />
                    <h2>{Msg::BlockTimeline.text(l)}</h2>
                    <Timeline tables=t lang=l />
                }
            })))}
        </Transition>
        <Transition fallback=|| ()>
            {loaded(extras, move |extras, l| show(extras.map(|x| {
                let no_events = x.recent.is_empty();
                view! {
                    <h2>{Msg::NeedsMyApproval.text(l)}</h2>
                    <ul data-testid="needs-my-approval">
                        {x.needs_my_approval.is_empty().then(|| view! { <li>{Msg::Nothing.text(l)}</li> })}
                        {x.needs_my_approval.into_iter().map(|p| view! {
                            <li><A href=format!("/proposals/{}", p.id) attr:data-testid="needs-approval-link">{p.title}</A>" "<code>{p.kinds}</code></li>
                        }).collect_view()}
                    </ul>
                    <h2>{Msg::RecentEvents.text(l)}</h2>
                    <ul class="events" data-testid="recent-events">
                        {no_events.then(|| view! { <li>{NO_EVENTS.get(l)}</li> })}
                        {x.recent.into_iter().map(|r| view! {
                            <AuditLine at_ms=r.at_ms actor=r.actor kind=r.kind subject=r.subject detail=r.detail lang=l />
                        }).collect_view()}
                    </ul>
                    <h2>{NODES_READ.get(l)}</h2>
                    <ul data-testid="node-health">
                        {x.node_health.into_iter().map(|(url, ok, what)| {
                            // A healthy node's answer is its height; an unhealthy one's, the reason.
                            let what = if ok && what.parse::<u64>().is_ok() { format!("{} {what}", Msg::Height.text(l)) } else { what };
                            view! { <li class=if ok { "ok" } else { "bad" }><code>{url}</code>" "{what}</li> }
                        }).collect_view()}
                    </ul>
                }
            })))}
        </Transition>
        <crate::pages::webhooks::Webhooks />
    }
}

const NODES_READ: Text = t("Nodes this console reads from", "本控制台读取的节点");
const NO_EVENTS: Text = t(
    "Nothing recorded yet (signed-in users see the console's latest audit rows here).",
    "尚无记录（登录后可在此查看本控制台最新的审计记录）。",
);

/// Epoch milliseconds from the chain (unsigned) as the signed value times are rendered from.
fn clamp_ms(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

const LEGEND_SEALER: Text = t("Sealer: seals blocks, with its weight", "共识节点：按权重参与出块");
const LEGEND_OBSERVER: Text = t("Observer: follows the chain, no vote", "观察节点：跟随链，不参与投票");
const LEGEND_LINK: Text = t("Line: connected to the node in the centre", "连线：与中心节点直连");
const HUB_UNKNOWN: Text = t("Centre: this console (no node has answered yet)", "中心：本控制台（尚无节点应答）");

/// Where a node sits in the picture: the hub (the console's node) in the centre, the others on a circle.
fn layout(nodes: &[NodeRow], hub: Option<&str>) -> Vec<(f64, f64, bool)> {
    let around = nodes.iter().filter(|n| Some(n.id.as_str()) != hub).count().max(1);
    let mut index = 0_usize;
    nodes
        .iter()
        .map(|node| {
            if Some(node.id.as_str()) == hub {
                return (180.0, 130.0, true);
            }
            #[allow(clippy::cast_precision_loss, reason = "a handful of nodes on a circle")]
            let angle = std::f64::consts::TAU * (index as f64) / (around as f64) - std::f64::consts::FRAC_PI_2;
            index = index.saturating_add(1);
            (180.0 + 120.0 * angle.cos(), 130.0 + 95.0 * angle.sin(), false)
        })
        .collect()
}

/// The nodes around the one this console reads from: sealers filled, observers hollow, a line to each node that
/// node is connected to; every mark is named, and a legend says what each means.
#[component]
fn NetworkPicture(nodes: Vec<NodeRow>, hub: Option<String>, lang: Lang) -> impl IntoView {
    let places = layout(&nodes, hub.as_deref());
    let placed: Vec<(f64, f64, bool, NodeRow)> =
        places.into_iter().zip(nodes).map(|((x, y, centre), node)| (x, y, centre, node)).collect();
    let hub_label = hub.clone();
    view! {
        <figure class="network">
            <svg class="network" viewBox="0 0 360 270" width="480" height="360" data-testid="network-picture" role="img"
                aria-label=match lang { Lang::En => "Network picture", Lang::ZhCn => "网络示意图" }>
                {placed.iter().filter(|p| p.3.connected && !p.2).map(|(x, y, _, _)| view! {
                    <line x1="180" y1="130" x2=x.to_string() y2=y.to_string() stroke="#9aa7bd" stroke-width="1.5" />
                }).collect_view()}
                {hub.is_none().then(|| view! { <circle cx="180" cy="130" r="10" fill="#9aa7bd" /> })}
                {placed.into_iter().map(|(x, y, centre, node)| {
                    let sealer = node.kind == "sealer";
                    let r = if centre { "18" } else { "14" };
                    view! {
                        <g data-testid=if centre { "network-hub" } else { "network-node" }>
                            <circle cx=x.to_string() cy=y.to_string() r=r fill=if sealer { "#1f5fbf" } else { "#fff" } stroke="#1f5fbf" stroke-width="2" />
                            <text x=x.to_string() y=(y + if centre { 32.0 } else { 28.0 }).to_string() text-anchor="middle" class=if centre { "hub" } else { "" }>{node.id}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>
                <ul class="legend" data-testid="network-legend">
                    <li data-testid="legend-hub"><svg viewBox="0 0 20 20" width="16" height="16"><circle cx="10" cy="10" r="8" fill="#1f5fbf" stroke="#1d2330" stroke-width="2" /></svg>
                        {match &hub_label {
                            Some(id) => match lang {
                                Lang::En => format!("Centre: {id}, the node this console reads from"),
                                Lang::ZhCn => format!("中心：{id}，本控制台读取的节点"),
                            },
                            None => HUB_UNKNOWN.get(lang).to_owned(),
                        }}</li>
                    <li><svg viewBox="0 0 20 20" width="16" height="16"><circle cx="10" cy="10" r="7" fill="#1f5fbf" stroke="#1f5fbf" stroke-width="2" /></svg>{LEGEND_SEALER.get(lang)}</li>
                    <li><svg viewBox="0 0 20 20" width="16" height="16"><circle cx="10" cy="10" r="7" fill="#fff" stroke="#1f5fbf" stroke-width="2" /></svg>{LEGEND_OBSERVER.get(lang)}</li>
                    <li><svg viewBox="0 0 20 20" width="16" height="16"><line x1="1" y1="10" x2="19" y2="10" stroke="#9aa7bd" stroke-width="2" /></svg>{LEGEND_LINK.get(lang)}</li>
                </ul>
            </figcaption>
        </figure>
    }
}

/// What the timeline shows, in words: its blocks and times, and how to read a bar.
fn timeline_caption(lang: Lang, blocks: &[BlockBar]) -> String {
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return t(
            "No blocks yet: the timeline fills in as the chain finalises blocks.",
            "尚无区块：链上区块确认后，时间线会逐步显示。",
        )
        .get(lang)
        .to_owned();
    };
    let txs: u64 = blocks.iter().map(|b| b.txs).fold(0, u64::saturating_add);
    let (from, to) = (utc_clock(clamp_ms(first.time_ms)), utc_clock(clamp_ms(last.time_ms)));
    let (a, b, n) = (first.height, last.height, blocks.len());
    match lang {
        Lang::En => format!(
            "Blocks {a} to {b} ({n} blocks, {from} to {to} UTC), {txs} transactions in all. Each bar is one block, as \
             tall as its number of transactions; a thin bar is an empty block."
        ),
        Lang::ZhCn => format!(
            "区块 {a} 至 {b}（共 {n} 个区块，UTC {from} 至 {to}），合计 {txs} 笔交易。每根柱代表一个区块，高度为其交易数；\
             细柱表示空区块。"
        ),
    }
}

/// Recent blocks, oldest on the left, as bars whose height is their transaction count, with the heights and UTC
/// times of the first and last on the axis (SVG: the CSP allows no inline styles).
#[component]
fn Timeline(tables: Tables, lang: Lang) -> impl IntoView {
    let mut blocks = tables.timeline;
    blocks.sort_by_key(|b| b.height);
    let caption = timeline_caption(lang, &blocks);
    if blocks.is_empty() {
        return view! { <p class="timeline-empty" data-testid="timeline-caption">{caption}</p> }.into_any();
    }
    let most = blocks.iter().map(|b| b.txs).max().unwrap_or(0).max(1);
    let (first, last) = (blocks.first().cloned(), blocks.last().cloned());
    let count = u64::try_from(blocks.len()).unwrap_or(1).max(1);
    let step = 280_u64.checked_div(count).unwrap_or(280);
    view! {
        <figure class="timeline">
            <svg class="timeline" viewBox="0 0 330 100" width="660" height="200" data-testid="timeline" role="img"
                aria-label=match lang { Lang::En => "Block timeline", Lang::ZhCn => "出块时间线" }>
                <line x1="36" y1="70" x2="320" y2="70" stroke="#5b6475" />
                <line x1="36" y1="10" x2="36" y2="70" stroke="#5b6475" />
                <text x="32" y="14" text-anchor="end" class="axis">{most}</text>
                <text x="32" y="70" text-anchor="end" class="axis">"0"</text>
                {blocks.into_iter().enumerate().map(|(i, b)| {
                    let h = b.txs.saturating_mul(58).checked_div(most).unwrap_or(0).max(2);
                    let x = 40_u64.saturating_add(u64::try_from(i).unwrap_or(0).saturating_mul(step));
                    let width = step.saturating_sub(2).max(1);
                    let (height, txs) = (b.height, b.txs);
                    view! {
                        <rect x=x.to_string() y=(70_u64.saturating_sub(h)).to_string() width=width.to_string() height=h.to_string() fill="#1f5fbf">
                            <title>{match lang {
                                Lang::En => format!("block {height} · {txs} transactions"),
                                Lang::ZhCn => format!("区块 {height} · {txs} 笔交易"),
                            }}</title>
                        </rect>
                    }
                }).collect_view()}
                {first.map(|b| view! {
                    <text x="40" y="82" class="axis" data-testid="timeline-axis-start">{b.height}</text>
                    <text x="40" y="94" class="axis">{utc_clock(clamp_ms(b.time_ms))}</text>
                })}
                {last.map(|b| view! {
                    <text x="320" y="82" text-anchor="end" class="axis" data-testid="timeline-axis-end">{b.height}</text>
                    <text x="320" y="94" text-anchor="end" class="axis">{utc_clock(clamp_ms(b.time_ms))}" UTC"</text>
                })}
            </svg>
            <figcaption data-testid="timeline-caption">{caption}</figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, kind: &str) -> NodeRow {
        NodeRow {
            id: id.into(),
            owner: "org1".into(),
            kind: kind.into(),
            weight: u64::from(kind == "sealer"),
            key: String::new(),
            address: String::new(),
            attested: None,
            connected: true,
        }
    }

    /// The console's node sits in the centre and every other node on the circle around it, none on another.
    #[test]
    fn the_console_node_is_the_hub() {
        let nodes = vec![node("n1", "sealer"), node("n2", "sealer"), node("obs1", "observer")];
        let places = layout(&nodes, Some("n2"));
        assert_eq!(places.iter().filter(|p| p.2).count(), 1);
        assert!(places[1].2 && (places[1].0 - 180.0).abs() < f64::EPSILON);
        assert!(places[0].0.ne(&places[2].0) || places[0].1.ne(&places[2].1));
        assert!(layout(&nodes, None).iter().all(|p| !p.2));
    }

    /// The timeline says when it is empty, and otherwise names its first and last block, their UTC times and the
    /// transactions, in both languages.
    #[test]
    fn the_timeline_caption_names_heights_and_times() {
        assert!(timeline_caption(Lang::En, &[]).starts_with("No blocks yet"));
        assert!(timeline_caption(Lang::ZhCn, &[]).starts_with("尚无区块"));
        let blocks = [
            BlockBar { height: 40, time_ms: 1_796_447_231_000, txs: 0 },
            BlockBar { height: 41, time_ms: 1_796_447_232_000, txs: 3 },
        ];
        let en = timeline_caption(Lang::En, &blocks);
        assert!(en.starts_with("Blocks 40 to 41 (2 blocks, 05:07:11 to 05:07:12 UTC), 3 transactions"), "{en}");
        let zh = timeline_caption(Lang::ZhCn, &blocks);
        assert!(zh.starts_with("区块 40 至 41（共 2 个区块，UTC 05:07:11 至 05:07:12），合计 3 笔交易"), "{zh}");
    }
}
