//! `report.html`: one self-contained page per run (no external files, no
//! network): run metadata, the headline table, every figure as inline SVG
//! with a caption, and the static concentration table. All text taken from
//! the summary is escaped.

use std::fmt::Write;

use super::Summary;
use super::table::pct;
use crate::model::WORLD;
use crate::plot::Figure;

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

/// An integer with thousands separators.
fn thousands(n: u64) -> String {
    crate::plot::style::thousands(n)
}

const CSS: &str = r#"
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
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
tr.world td { font-weight: 600; }
tr.first td { border-top: 2px solid #cfcfcf; }
td.flag { color: #d55e00; font-weight: 600; text-align: left; }
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
    let strategies = crate::plot::strategies(summary);
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

    // Contents.
    let _ = writeln!(
        h,
        "<nav>\n<h2>Contents</h2>\n<ul>\n<li><a href=\"#headline\">Headline results</a></li>"
    );
    for (i, f) in figures.iter().enumerate() {
        let _ = writeln!(
            h,
            "<li><a href=\"#fig-{}\">Figure {}. {}</a></li>",
            escape(&f.stem),
            i + 1,
            escape(&f.title)
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
    for (i, f) in figures.iter().enumerate() {
        let svg = f.svg.trim_start_matches(|c: char| c.is_whitespace());
        let svg = match svg.strip_prefix("<svg ") {
            Some(rest) => format!(
                "<svg role=\"img\" aria-label=\"{}\" {rest}",
                escape(&f.title)
            ),
            None => svg.to_string(),
        };
        let links = f
            .files
            .iter()
            .map(|p| format!("<a href=\"{0}\">{0}</a>", escape(p)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            h,
            "<figure id=\"fig-{stem}\">\n<h3>Figure {n}. {title}</h3>\n<div class=\"img\" style=\"max-width:{w}px\">\n{svg}\n</div>\n\
             <figcaption>{caption}{files}</figcaption>\n</figure>",
            stem = escape(&f.stem),
            n = i + 1,
            title = escape(&f.title),
            w = f.size.0,
            caption = escape(&f.caption),
            files = if links.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"note\">Files: {links}.</span>")
            },
        );
    }
    let _ = writeln!(h, "</section>");

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
         <th>HHI-gov</th><th class=\"l\">flag</th></tr></thead>\n<tbody>"
    );
    for (i, r) in rows.iter().enumerate() {
        let first = i == 0 || rows[i - 1].commodity != r.commodity;
        let _ = writeln!(
            h,
            "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.0}</td><td class=\"l\">{}</td>\
             <td>{:.1}%</td><td>{:.1}%</td><td>{:.1}%</td><td>{}</td><td class=\"flag\">{}</td></tr>",
            if first { " class=\"first\"" } else { "" },
            escape(&r.commodity),
            escape(&r.commodity_name),
            escape(&r.stage),
            r.hhi,
            escape(r.top_producer.as_deref().unwrap_or("-")),
            r.top_share * 100.0,
            r.top3_share * 100.0,
            r.row_share * 100.0,
            r.hhi_governance
                .map(|g| format!("{g:.0}"))
                .unwrap_or_else(|| "n/a".into()),
            if r.over_65 { "&gt;65% (CRMA)" } else { "" }
        );
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"note\">HHI over listed producers (0-10,000; ROW left out). HHI-gov weights each \
         share² by (2.5 - governance)/5. Flag: one country holds more than 65% of the stage (EU Critical Raw Materials \
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
