//! `report.html`: one self-contained page per run (no external files, no
//! network): run metadata, the headline table, every figure as inline SVG
//! with a caption, the strategies against the base (when the summary has a
//! `comparison`), the attribution of the base's shortfall (when it has an
//! `attribution`), and the static concentration table. All text taken from
//! the summary is escaped.

use std::fmt::Write;

use super::Summary;
use crate::format::{fixed, money, pct, thousands, tonnes};
pub use crate::format::{pp, pp_ci};
use crate::model::WORLD;
use crate::plot::{Figure, Section};
use crate::results::comparison::{Attribution, AttributionRow, Comparison, ComparisonRow, Part};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page style, shared with the sweep report.
pub const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1e1e1e;
       margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1640px; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .6rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.meta dt { color: #5f5f5f; }
dl.meta dd { margin: 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; word-break: break-all; }
nav ul { padding-left: 1.2rem; columns: 2; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; max-width: 100%; }
@media (max-width: 1280px) { body { padding: 1rem 1rem 2rem; } table { font-size: .8rem; } }
th, td { padding: .2rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: right; }
td.l, th.l, h1, h2, h3, p, dd, figcaption, summary { overflow-wrap: anywhere; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
tr.world td { font-weight: 600; }
tr.first td { border-top: 2px solid #cfcfcf; }
td.flag { color: #d55e00; font-weight: 600; text-align: left; }
tr.ref td { color: #5f5f5f; font-style: italic; }
td.parts { text-align: left; min-width: 10rem; }
td.parts .n { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
.note { color: #5f5f5f; font-size: .9rem; }
figure { margin: 1.5rem 0 2.5rem; }
figure .img { max-width: 100%; overflow-x: auto; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #eee; }
figcaption { margin-top: .4rem; max-width: 70rem; }
details summary { cursor: pointer; font-weight: 600; margin: .6rem 0; }
"#;

/// The report page of `summary`, embedding `figures`.
pub fn render(summary: &Summary, figures: &[Figure]) -> String {
    let mut h = String::new();
    let heading = summary
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Scenario {}", summary.scenario.name));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"crmsim {}\">\n<title>crmsim report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&summary.crmsim_version),
        escape(&heading)
    );
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", escape(&heading));
    let strategies = crate::results::strategies(summary);
    let _ = writeln!(h, "<dl class=\"meta\">");
    let mut meta = |k: &str, v: String| {
        let _ = writeln!(h, "<dt>{}</dt><dd>{v}</dd>", escape(k));
    };
    meta("Scenario", escape(&summary.scenario.name));
    meta(
        "Scenario sha256",
        format!("<code>{}</code>", escape(&summary.scenario.sha256)),
    );
    meta("Seed", summary.seed.to_string());
    meta("Trials", thousands(summary.trials));
    meta("Horizon", format!("{} months", summary.horizon_months));
    meta("crmsim version", escape(&summary.crmsim_version));
    if strategies.len() > 1 {
        meta(
            "Strategies",
            strategies
                .iter()
                .map(|s| escape(s))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let _ = writeln!(h, "</dl>\n</header>");

    // Figures in page order, numbered through the page.
    let in_section = |sec: Section| -> Vec<&Figure> {
        figures.iter().filter(|f| f.kind.section() == sec).collect()
    };
    // The base run's figures first; each strategy's own gallery comes after
    // the strategies and attribution sections.
    let base_id = strategies.first().cloned().unwrap_or_default();
    let (main, galleries): (Vec<&Figure>, Vec<&Figure>) = in_section(Section::Figures)
        .into_iter()
        .partition(|f| f.strategy == base_id);
    let strat = if summary.comparison.is_some() {
        in_section(Section::Strategies)
    } else {
        Vec::new()
    };
    let attr = if summary.attribution.is_some() {
        in_section(Section::Attribution)
    } else {
        Vec::new()
    };
    let number = |f: &Figure| -> usize {
        main.iter()
            .chain(&strat)
            .chain(&attr)
            .chain(&galleries)
            .position(|g| std::ptr::eq(*g, f))
            .map(|i| i + 1)
            .unwrap_or(0)
    };

    // Contents.
    let _ = writeln!(
        h,
        "<nav>\n<h2>Contents</h2>\n<ul>\n<li><a href=\"#headline\">Headline results</a></li>"
    );
    let nav_fig = |h: &mut String, f: &Figure| {
        let _ = writeln!(
            h,
            "<li><a href=\"#fig-{}\">Figure {}. {}</a></li>",
            escape(&f.stem),
            number(f),
            escape(&f.title)
        );
    };
    for f in &main {
        nav_fig(&mut h, f);
    }
    if summary.comparison.is_some() {
        let _ = writeln!(
            h,
            "<li><a href=\"#strategies\">Strategies against the base</a></li>"
        );
        for f in &strat {
            nav_fig(&mut h, f);
        }
    }
    if summary.attribution.is_some() {
        let _ = writeln!(
            h,
            "<li><a href=\"#attribution\">Attribution of the shortfall</a></li>"
        );
        for f in &attr {
            nav_fig(&mut h, f);
        }
    }
    if !galleries.is_empty() {
        let _ = writeln!(
            h,
            "<li><a href=\"#strategy-figures\">Figures of each strategy</a></li>"
        );
    }
    let _ = writeln!(
        h,
        "<li><a href=\"#concentration-table\">Static supply concentration</a></li>\n</ul>\n</nav>"
    );

    headline(&mut h, summary, &strategies);

    let _ = writeln!(h, "<section id=\"figures\">\n<h2>Figures</h2>");
    if figures.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">This summary has no figure data (no <code>figures</code> block).</p>"
        );
    }
    for f in &main {
        figure(&mut h, f, number(f));
    }
    let _ = writeln!(h, "</section>");

    if let Some(c) = &summary.comparison {
        comparison(&mut h, summary, c, &strat, &number);
    }
    if let Some(a) = &summary.attribution {
        attribution(&mut h, summary, a, &attr, &number);
    }
    if !galleries.is_empty() {
        galleries_section(&mut h, &strategies[1..], &galleries, &number);
    }

    concentration(&mut h, summary);

    let _ = writeln!(
        h,
        "<footer class=\"note\"><p>Generated by crmsim {} from scenario {} (sha256 <code>{}</code>), seed {}, {} trials.</p></footer>\n</body>\n</html>",
        escape(&summary.crmsim_version),
        escape(&summary.scenario.name),
        escape(&summary.scenario.sha256),
        summary.seed,
        thousands(summary.trials)
    );
    h
}

/// The figures of each strategy's own run, one collapsed gallery per strategy.
fn galleries_section(
    h: &mut String,
    strategies: &[String],
    figures: &[&Figure],
    number: &dyn Fn(&Figure) -> usize,
) {
    let _ = writeln!(
        h,
        "<section id=\"strategy-figures\">\n<h2>Figures of each strategy</h2>\n<p class=\"note\">The figures \
         above, drawn for each strategy's run.</p>"
    );
    for s in strategies {
        let figs: Vec<&&Figure> = figures.iter().filter(|f| &f.strategy == s).collect();
        if figs.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<details>\n<summary>Strategy {}</summary>", escape(s));
        for f in figs {
            figure(h, f, number(f));
        }
        let _ = writeln!(h, "</details>");
    }
    let _ = writeln!(h, "</section>");
}

/// One figure: inline SVG, title and caption (the page is self-contained:
/// it names no file the reader may not have).
fn figure(h: &mut String, f: &Figure, n: usize) {
    let svg = f.svg.trim_start_matches(|c: char| c.is_whitespace());
    let svg = match svg.strip_prefix("<svg ") {
        Some(rest) => format!(
            "<svg role=\"img\" aria-label=\"{}\" {rest}",
            escape(&f.title)
        ),
        None => svg.to_string(),
    };
    let _ = writeln!(
        h,
        "<figure id=\"fig-{stem}\">\n<h3>Figure {n}. {title}</h3>\n<div class=\"img\" style=\"max-width:{w}px\">\n{svg}\n</div>\n\
         <figcaption>{caption}</figcaption>\n</figure>",
        stem = escape(&f.stem),
        title = escape(&f.title),
        w = f.size.0,
        caption = escape(&f.caption),
    );
}

/// `part` as a share of `total`, one decimal (a dash without a total).
pub fn share(part: f64, total: f64) -> String {
    if total > 0.0 && part.is_finite() {
        format!("{}%", fixed(part / total * 100.0, 1))
    } else {
        "-".to_string()
    }
}

/// Commodities in the order of the summary's results.
fn commodity_order(summary: &Summary) -> Vec<&str> {
    let mut v: Vec<&str> = Vec::new();
    for r in &summary.results {
        if !v.contains(&r.commodity.as_str()) {
            v.push(&r.commodity);
        }
    }
    v
}

/// Consumer series in the order of the summary's results, world first.
fn consumer_order(summary: &Summary) -> Vec<&str> {
    let mut v: Vec<&str> = vec![WORLD];
    for r in &summary.results {
        if !v.contains(&r.consumer.as_str()) {
            v.push(&r.consumer);
        }
    }
    v
}

fn comparison(
    h: &mut String,
    summary: &Summary,
    c: &Comparison,
    figures: &[&Figure],
    number: &dyn Fn(&Figure) -> usize,
) {
    let currency = c
        .currency
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or("currency units");
    let base = crate::results::strategies(summary)
        .into_iter()
        .next()
        .unwrap_or_else(|| "base".into());
    let _ = writeln!(
        h,
        "<section id=\"strategies\">\n<h2>Strategies against the base</h2>\n<p class=\"note\">Every strategy is \
         simulated on the same random draws as the base run. <b>Reductions</b> are base minus strategy, in \
         percentage points (pp) of the consumer's demand over the {months}-month horizon, with 95% confidence \
         intervals from the paired trial-by-trial differences; <b>t avoided</b> is the expected shortfall avoided \
         over the horizon in tonnes; <b>t/M</b> is tonnes of expected shortfall avoided per million {cur} of cost over \
         the horizon. Rank 1 is the largest cvar95 reduction; a strategy that changes nothing for a commodity and \
         consumer (the same shortfall as the base in every trial) gets no rank (-).reduction.</p>",
        months = summary.horizon_months,
        cur = escape(currency)
    );
    let _ = writeln!(
        h,
        "<h3>Overall (world, averaged over commodities)</h3>\n<table class=\"strategies\">\n<thead><tr>\
         <th class=\"l\">strategy</th><th class=\"l\">name</th><th>cost/year ({cur})</th><th>&Delta;mean (pp)</th>\
         <th>&Delta;cvar95 (pp)</th><th>tonnes avoided</th><th class=\"l\">frontier</th></tr></thead>\n<tbody>",
        cur = escape(currency)
    );
    for st in &c.strategies {
        let _ = writeln!(
            h,
            "<tr data-strategy=\"{id}\"><td class=\"l\">{id}</td><td class=\"l\">{name}</td><td>{cost}</td><td>{dm}</td>\
             <td>{dc}</td><td>{t}</td><td class=\"l\">{f}</td></tr>",
            id = escape(&st.id),
            name = escape(st.name.as_deref().unwrap_or("")),
            cost = st.cost_per_year.map(money).unwrap_or_else(|| "-".into()),
            dm = pp(st.world_mean_reduction_avg),
            dc = pp(st.world_cvar95_reduction_avg),
            t = st
                .world_tonnes_avoided
                .map(tonnes)
                .unwrap_or_else(|| "-".into()),
            f = if st.efficient { "yes" } else { "" }
        );
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"note\">&Delta;: average over the commodities of the world reduction. Tonnes \
         avoided: expected world shortfall avoided over the horizon, shown when a single commodity has an annual \
         demand (tonnes of different materials are not added; see the ranking for each commodity). Frontier: no other strategy with a cost costs as little or less and cuts the average world cvar95 as \
         much or more.</p>"
    );
    for f in figures {
        figure(h, f, number(f));
    }
    let _ = writeln!(h, "<h3>Ranking per commodity (world)</h3>");
    ranking(h, summary, c, &base, &[WORLD]);
    let consumers = consumer_order(summary);
    if consumers.len() > 1 {
        let _ = writeln!(
            h,
            "<details>\n<summary>Ranking per commodity and consumer</summary>"
        );
        ranking(h, summary, c, &base, &consumers);
        let _ = writeln!(h, "</details>");
    }
    let _ = writeln!(h, "</section>");
}

/// The ranking table of `consumers` (a consumer column when several).
fn ranking(h: &mut String, summary: &Summary, c: &Comparison, base: &str, consumers: &[&str]) {
    let many = consumers.len() > 1;
    let _ = writeln!(
        h,
        "<table class=\"ranking\" data-consumers=\"{}\">\n<thead><tr><th class=\"l\">commodity</th>{}<th>rank</th>\
         <th class=\"l\">strategy</th><th>mean</th><th>cvar95</th><th>P(&gt;10%)</th><th>&Delta;mean [95% CI] (pp)</th>\
         <th>&Delta;cvar95 [95% CI] (pp)</th><th>t avoided</th><th>t/M</th></tr></thead>\n<tbody>",
        if many { "all" } else { "world" },
        if many {
            "<th class=\"l\">consumer</th>"
        } else {
            ""
        }
    );
    for k in commodity_order(summary) {
        // Per consumer: the base's row for reference and the strategies by rank.
        let groups: Vec<(&str, Option<&super::ResultRow>, Vec<&ComparisonRow>)> = consumers
            .iter()
            .map(|&consumer| {
                let mut rows: Vec<&ComparisonRow> = c
                    .rows
                    .iter()
                    .filter(|r| r.commodity == k && r.consumer == consumer)
                    .collect();
                rows.sort_by_key(|r| r.rank.unwrap_or(usize::MAX));
                let reference = summary
                    .results
                    .iter()
                    .find(|r| r.strategy == base && r.commodity == k && r.consumer == consumer);
                (consumer, reference, rows)
            })
            .filter(|g| !g.2.is_empty())
            .collect();
        let span: usize = groups
            .iter()
            .map(|g| g.2.len() + usize::from(g.1.is_some()))
            .sum();
        let mut first_of_commodity = true;
        for (consumer, reference, rows) in groups {
            let n = rows.len() + usize::from(reference.is_some());
            let mut first_of_consumer = true;
            let mut lead = |h: &mut String, class: &str| {
                let mut classes: Vec<&str> = Vec::new();
                if first_of_commodity {
                    classes.push("first");
                }
                if !class.is_empty() {
                    classes.push(class);
                }
                if classes.is_empty() {
                    h.push_str("<tr>");
                } else {
                    let _ = write!(h, "<tr class=\"{}\">", classes.join(" "));
                }
                if first_of_commodity {
                    let _ = write!(
                        h,
                        "<td class=\"l\" rowspan=\"{span}\">{}</td>",
                        escape(commodity_name(summary, k))
                    );
                }
                if first_of_consumer && many {
                    let _ = write!(
                        h,
                        "<td class=\"l\" rowspan=\"{n}\">{}</td>",
                        escape(consumer)
                    );
                }
                first_of_commodity = false;
                first_of_consumer = false;
            };
            if let Some(b) = reference {
                lead(h, "ref");
                let _ = writeln!(
                    h,
                    "<td></td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>-</td><td>-</td><td>-</td>\
                     <td>-</td></tr>",
                    escape(base),
                    pct(b.metrics.mean),
                    pct(b.metrics.cvar95),
                    pct(b.metrics.prob_gt_10)
                );
            }
            for r in rows {
                lead(h, "");
                let _ = writeln!(h, "{}</tr>", ranking_cells(r));
            }
        }
    }
    let _ = writeln!(h, "</tbody>\n</table>");
}

/// The cells of one ranking row after the commodity (and consumer) columns.
pub fn ranking_cells(r: &ComparisonRow) -> String {
    format!(
        "<td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        r.rank.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
        escape(&r.strategy),
        pct(r.mean),
        pct(r.cvar95),
        pct(r.prob_gt_10),
        pp_ci(r.mean_reduction, r.mean_reduction_ci),
        pp_ci(r.cvar95_reduction, r.cvar95_reduction_ci),
        r.tonnes_avoided.map(tonnes).unwrap_or_else(|| "-".into()),
        r.tonnes_per_million
            .map(tonnes)
            .unwrap_or_else(|| "-".into())
    )
}

/// How many causes of each kind the attribution table lists.
const TOP_PARTS: usize = 3;

fn attribution(
    h: &mut String,
    summary: &Summary,
    a: &Attribution,
    figures: &[&Figure],
    number: &dyn Fn(&Figure) -> usize,
) {
    let _ = writeln!(
        h,
        "<section id=\"attribution\">\n<h2>Attribution of the shortfall</h2>\n<p class=\"note\">Where the base \
         run's shortfall comes from. Each month, a consumer's shortfall is split over the disruptions active that month \
         in proportion to the supply each removed from it (output lost at the final stage in full, the loss of a \
         binding upstream stage through the bottleneck, export bans to the consumers they target); the parts add up to \
         the expected shortfall (<b>mean</b>) and, averaged over the worst 5% of trials, to the <b>tail</b> (cvar95). \
         Shares below are of the mean / of the tail; the totals are % of demand over the {}-month horizon.</p>",
        summary.horizon_months
    );
    for f in figures {
        figure(h, f, number(f));
    }
    let _ = writeln!(h, "<h3>By commodity (world)</h3>");
    attribution_table(h, summary, a, &[WORLD]);
    let consumers = consumer_order(summary);
    if consumers.len() > 1 {
        let _ = writeln!(h, "<details>\n<summary>By commodity and consumer</summary>");
        attribution_table(h, summary, a, &consumers);
        let _ = writeln!(h, "</details>");
    }
    let _ = writeln!(h, "</section>");
}

fn attribution_table(h: &mut String, summary: &Summary, a: &Attribution, consumers: &[&str]) {
    let many = consumers.len() > 1;
    let _ = writeln!(
        h,
        "<table class=\"attribution\" data-consumers=\"{}\">\n<thead><tr><th class=\"l\">commodity</th>{}\
         <th>mean</th><th>tail</th><th class=\"l\">by kind (share of mean / tail)</th>\
         <th class=\"l\">top sources (share of mean / tail)</th>\
         <th class=\"l\">top producer countries (share of mean / tail)</th></tr></thead>\n<tbody>",
        if many { "all" } else { "world" },
        if many {
            "<th class=\"l\">consumer</th>"
        } else {
            ""
        }
    );
    let mut order = commodity_order(summary);
    for r in &a.rows {
        if !order.contains(&r.commodity.as_str()) {
            order.push(&r.commodity);
        }
    }
    for k in order {
        let rows: Vec<&AttributionRow> = consumers
            .iter()
            .filter_map(|s| a.rows.iter().find(|r| r.commodity == k && r.consumer == *s))
            .collect();
        for (i, r) in rows.iter().enumerate() {
            let _ = write!(h, "<tr{}>", if i == 0 { " class=\"first\"" } else { "" });
            if i == 0 {
                let _ = write!(
                    h,
                    "<td class=\"l\" rowspan=\"{}\">{}</td>",
                    rows.len(),
                    escape(commodity_name(summary, k))
                );
            }
            if many {
                let _ = write!(h, "<td class=\"l\">{}</td>", escape(&r.consumer));
            }
            let _ = writeln!(h, "{}</tr>", attribution_cells(r));
        }
    }
    let _ = writeln!(h, "</tbody>\n</table>");
}

/// One cause: its name and its shares of the mean and of the tail.
pub fn part_cell(p: &Part, r: &AttributionRow) -> String {
    format!(
        "<span class=\"n\">{}</span> {} / {}",
        escape(&p.name),
        share(p.mean, r.mean),
        share(p.tail, r.tail_total)
    )
}

/// The cells of one attribution row after the commodity (and consumer)
/// columns: totals, every kind, the top sources and countries.
pub fn attribution_cells(r: &AttributionRow) -> String {
    let list = |parts: &[Part], top: usize| -> String {
        if parts.is_empty() {
            return "-".into();
        }
        let mut items: Vec<String> = parts.iter().take(top).map(|p| part_cell(p, r)).collect();
        if parts.len() > top {
            items.push(format!(
                "<span class=\"note\">+{} more</span>",
                parts.len() - top
            ));
        }
        items.join("<br>")
    };
    format!(
        "<td>{}</td><td>{}</td><td class=\"parts\">{}</td><td class=\"parts\">{}</td><td class=\"parts\">{}</td>",
        pct(r.mean),
        pct(r.tail_total),
        list(&r.by_kind, usize::MAX),
        list(&r.by_source, TOP_PARTS),
        list(&r.by_country, TOP_PARTS)
    )
}

/// Display name of a commodity (from the concentration data), else its id.
fn commodity_name<'a>(summary: &'a Summary, id: &'a str) -> &'a str {
    summary
        .figures
        .as_ref()
        .and_then(|fd| fd.concentration.iter().find(|c| c.commodity == id))
        .map(|c| c.commodity_name.as_str())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(id)
}

fn headline(h: &mut String, summary: &Summary, strategies: &[String]) {
    let _ = writeln!(
        h,
        "<section id=\"headline\">\n<h2>Headline results</h2>\n<p class=\"note\">Shortfall as a share of each consumer's \
         demand over the {}-month horizon, across {} trials: <b>mean</b>; <b>p95</b>, the 95th percentile; <b>cvar95</b>, \
         the mean of the worst 5% of trials; <b>P(&gt;10%)</b>, the probability that the shortfall exceeds 10% of demand. \
         Consumers are the scenario's blocs, ROW (the rest of the world) and world (all consumers).</p>",
        summary.horizon_months,
        thousands(summary.trials)
    );
    for (si, s) in strategies.iter().enumerate() {
        let rows: Vec<_> = summary
            .results
            .iter()
            .filter(|r| &r.strategy == s)
            .collect();
        let mut commodities: Vec<&str> = Vec::new();
        for r in &rows {
            if !commodities.contains(&r.commodity.as_str()) {
                commodities.push(&r.commodity);
            }
        }
        if si > 0 {
            let _ = writeln!(h, "<details>\n<summary>Strategy {}</summary>", escape(s));
        } else if strategies.len() > 1 {
            let _ = writeln!(h, "<h3>Strategy {}</h3>", escape(s));
        }
        let _ = writeln!(
            h,
            "<table class=\"headline\" data-strategy=\"{}\">\n<thead><tr><th class=\"l\">commodity</th><th class=\"l\">consumer</th>\
             <th>mean</th><th>p95</th><th>cvar95</th><th>P(&gt;10%)</th></tr></thead>\n<tbody>",
            escape(s)
        );
        for k in commodities {
            // World first, then the consumers and ROW, as in the terminal table.
            let mut rs: Vec<_> = rows.iter().filter(|r| r.commodity == k).collect();
            rs.sort_by_key(|r| r.consumer != WORLD);
            let n = rs.len();
            for (i, r) in rs.iter().enumerate() {
                let mut class = Vec::new();
                if i == 0 {
                    class.push("first");
                }
                if r.consumer == WORLD {
                    class.push("world");
                }
                let _ = write!(h, "<tr class=\"{}\">", class.join(" "));
                if i == 0 {
                    let _ = write!(
                        h,
                        "<td class=\"l\" rowspan=\"{n}\">{}</td>",
                        escape(commodity_name(summary, k))
                    );
                }
                let m = &r.metrics;
                let _ = writeln!(
                    h,
                    "<td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&r.consumer),
                    pct(m.mean),
                    pct(m.p95),
                    pct(m.cvar95),
                    pct(m.prob_gt_10)
                );
            }
        }
        let _ = writeln!(h, "</tbody>\n</table>");
        if si > 0 {
            let _ = writeln!(h, "</details>");
        }
    }
    let _ = writeln!(h, "</section>");
}

fn concentration(h: &mut String, summary: &Summary) {
    let _ = writeln!(
        h,
        "<section id=\"concentration-table\">\n<h2>Static supply concentration</h2>"
    );
    let rows = summary
        .figures
        .as_ref()
        .map(|fd| fd.concentration.as_slice())
        .unwrap_or(&[]);
    if rows.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">This summary has no concentration data.</p>\n</section>"
        );
        return;
    }
    let _ = writeln!(
        h,
        "<table class=\"concentration\">\n<thead><tr><th class=\"l\">commodity</th><th class=\"l\">name</th>\
         <th class=\"l\">stage</th><th>HHI</th><th class=\"l\">top</th><th>share</th><th>top-3</th><th>ROW</th>\
         <th>HHI-gov</th><th>buffer</th><th class=\"l\">flag</th></tr></thead>\n<tbody>"
    );
    for (i, r) in rows.iter().enumerate() {
        let first = i == 0 || rows[i - 1].commodity != r.commodity;
        let _ = writeln!(
            h,
            "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td>\
             <td>{}%</td><td>{}%</td><td>{}%</td><td>{}</td><td>{}</td><td class=\"flag\">{}</td></tr>",
            if first { " class=\"first\"" } else { "" },
            escape(&r.commodity),
            escape(&r.commodity_name),
            escape(&r.stage),
            fixed(r.hhi, 0),
            escape(r.top_producer.as_deref().unwrap_or("-")),
            fixed(r.top_share * 100.0, 1),
            fixed(r.top3_share * 100.0, 1),
            fixed(r.row_share * 100.0, 1),
            r.hhi_governance
                .map(|g| fixed(g, 0))
                .unwrap_or_else(|| "n/a".into()),
            super::inspect::buffer_cell(r.buffer_months),
            if r.over_65 { "&gt;65% (CRMA)" } else { "" }
        );
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"note\">HHI over listed producers (0-10,000; ROW left out). HHI-gov weights each \
         share² by (2.5 - governance)/5. Buffer: midstream stock of the stage's output, months of primary \
         demand. Flag: one country holds more than 65% of the stage (EU Critical Raw Materials \
         Act benchmark). Same content as <code>crmsim inspect</code>.</p>\n</section>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<a href=\"x\">T&amp;'s</a>"),
            "&lt;a href=&quot;x&quot;&gt;T&amp;amp;&#39;s&lt;/a&gt;"
        );
    }
}
