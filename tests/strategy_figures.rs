//! The strategy and attribution figures and report sections: `compare`
//! draws the strategy figures (overlaid exceedance curves, reductions with
//! confidence intervals, cost against shortfall avoided) and the attribution
//! figures; report.html gets "Strategies" and "Attribution" sections with the
//! numbers of summary.json; `crmsim plot` redraws the same SVGs; a plain
//! `run` has attribution but no strategy figures.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crmsim::report::Summary;

use crmsim::report::table::tonnes;

mod common;
use common::{crmsim, scratch};

const STRATEGY_STEMS: [&str; 3] = [
    "strategies-exceedance",
    "strategies-reduction",
    "strategies-cost",
];
const ATTRIBUTION_STEMS: [&str; 3] = [
    "attribution",
    "attribution-sources",
    "attribution-countries",
];
const STRATEGY_FILES: [&str; 4] = [
    "scenarios/strategies/eu-stockpile.toml",
    "scenarios/strategies/eu-recycling.toml",
    "scenarios/strategies/msp-surge.toml",
    "scenarios/strategies/diversify.toml",
];
const STRATEGY_IDS: [&str; 4] = ["eu-stockpile", "eu-recycling", "msp-surge", "diversify"];

/// One `compare` of the four bundled strategies, shared by the tests.
fn compare_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = scratch_named("compare");
        let mut cmd = crmsim();
        cmd.arg("compare");
        for f in STRATEGY_FILES {
            cmd.arg("--strategy")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(f));
        }
        cmd.args(["--trials", "2000", "--quiet", "--out"])
            .arg(&d)
            .assert()
            .success();
        d
    })
}

/// One plain `run` (no strategies).
fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = scratch_named("run");
        crmsim()
            .args(["run", "--trials", "500", "--quiet", "--out"])
            .arg(&d)
            .assert()
            .success();
        d
    })
}

fn summary(dir: &Path) -> Summary {
    serde_json::from_str(&read(&dir.join("summary.json"))).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// All text of an SVG, one string per text element.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn svg_size(svg: &str) -> (u32, u32) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let r = doc.root_element();
    let n = |a: &str| r.attribute(a).unwrap().parse::<u32>().unwrap();
    (n("width"), n("height"))
}

fn png_size(p: &Path) -> (u32, u32) {
    let file = std::fs::File::open(p).unwrap();
    let reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    (reader.info().width, reader.info().height)
}

// The report's number formats (as the terminal tables).
use crmsim::format::{pct, pp};
fn share(part: f64, total: f64) -> String {
    if total > 0.0 {
        format!("{:.1}%", part / total * 100.0)
    } else {
        "-".into()
    }
}

#[test]
fn compare_draws_every_new_figure_with_title_labels_and_source() {
    let d = compare_dir();
    let s = summary(d);
    let c = s.comparison.as_ref().expect("comparison block");
    let a = s.attribution.as_ref().expect("attribution block");
    let source = format!(
        "crmsim {} · scenario baseline · seed 42 · 2,000 trials",
        env!("CARGO_PKG_VERSION")
    );
    let mut expect: Vec<(&str, Vec<String>)> = vec![
        (
            "strategies-exceedance",
            vec![
                "Strategies against the base: exceedance curves of the world shortfall".into(),
                "P(shortfall > x)".into(),
                "world shortfall x (% of 12-month demand)".into(),
                "return period (years)".into(),
                "base (no strategy)".into(),
                "Rare earths (REO)".into(),
            ],
        ),
        (
            "strategies-reduction",
            vec![
                "Strategies against the base: reduction of the world shortfall, with 95% confidence intervals"
                    .into(),
                "Mean shortfall reduction".into(),
                "cvar95 reduction (mean of the worst 5% of trials)".into(),
                "reduction (pp of 12-month world demand)".into(),
                "95% confidence interval".into(),
                "Rare earths (REO)".into(),
            ],
        ),
        (
            "strategies-cost",
            vec![
                "Strategies: cost against shortfall avoided, with the cost-effectiveness frontier".into(),
                "cost per year (million EUR)".into(),
                "world cvar95 reduction, average over commodities (pp of 12-month demand)".into(),
                "efficient frontier (filled points)".into(),
            ],
        ),
        (
            "attribution",
            vec![
                "Attribution of the world shortfall by kind of shock".into(),
                "share of the world shortfall".into(),
                "% of demand".into(),
                "expected".into(),
                "tail (cvar95)".into(),
                "export ban".into(),
                "Rare earths (REO)".into(),
            ],
        ),
        (
            "attribution-sources",
            vec![
                "Attribution of the world shortfall by source (shock or event)".into(),
                "share of the world shortfall".into(),
                "cn-sb-licensing".into(),
            ],
        ),
        (
            "attribution-countries",
            vec![
                "Attribution of the world shortfall by producer country".into(),
                "share of the world shortfall".into(),
                "CN".into(),
            ],
        ),
    ];
    // Every strategy is in the legends of the strategy figures; the cost
    // figure labels each costed point with its tonnes avoided.
    for (stem, wanted) in expect.iter_mut() {
        if stem.starts_with("strategies-") {
            wanted.extend(STRATEGY_IDS.iter().map(|s| s.to_string()));
        }
    }
    for st in &c.strategies {
        if let (Some(_), Some(t)) = (st.cost_per_year, st.world_tonnes_avoided) {
            expect[2].1.push(format!("{} t avoided", tonnes(t)));
        }
    }
    // Each attribution figure prints the world totals of summary.json.
    for r in a.rows.iter().filter(|r| r.consumer == "world") {
        for e in expect.iter_mut().skip(3) {
            e.1.push(pct(r.mean));
            e.1.push(pct(r.tail_total));
        }
    }
    for (stem, wanted) in &expect {
        let svg_path = d.join("figures").join(format!("{stem}.svg"));
        let png_path = d.join("figures").join(format!("{stem}.png"));
        assert!(png_path.is_file(), "missing {}", png_path.display());
        let svg = read(&svg_path);
        let texts = svg_texts(&svg);
        for w in wanted {
            assert!(
                texts.iter().any(|t| t == w || t.contains(w.as_str())),
                "{stem}.svg lacks {w:?}"
            );
        }
        assert!(
            texts.iter().any(|t| t.starts_with(&source)),
            "{stem}.svg lacks the source line"
        );
        assert_eq!(svg_size(&svg), png_size(&png_path), "{stem}.png size");
    }
}

#[test]
fn report_has_strategy_and_attribution_sections_with_summary_numbers() {
    let d = compare_dir();
    let s = summary(d);
    let html = read(&d.join("report.html"));
    let c = s.comparison.as_ref().unwrap();
    let a = s.attribution.as_ref().unwrap();
    let strat_at = html
        .find("<section id=\"strategies\">")
        .expect("Strategies section");
    let attr_at = html
        .find("<section id=\"attribution\">")
        .expect("Attribution section");
    let conc_at = html.find("<section id=\"concentration-table\">").unwrap();
    assert!(strat_at < attr_at && attr_at < conc_at);
    // Each figure sits in its section, with a caption and its files.
    let strategies = &html[strat_at..attr_at];
    // Each strategy's own gallery follows the attribution section.
    let gallery_at = html
        .find("<section id=\"strategy-figures\">")
        .expect("galleries of each strategy");
    assert!(strat_at < gallery_at && attr_at < gallery_at && gallery_at < conc_at);
    let attribution = &html[attr_at..gallery_at];
    for stem in STRATEGY_STEMS {
        assert!(
            strategies.contains(&format!("<figure id=\"fig-{stem}\">")),
            "{stem}"
        );
    }
    for stem in ATTRIBUTION_STEMS {
        assert!(
            attribution.contains(&format!("<figure id=\"fig-{stem}\">")),
            "{stem}"
        );
    }
    assert_eq!(
        strategies.matches("<figcaption>").count(),
        STRATEGY_STEMS.len()
    );
    assert_eq!(
        attribution.matches("<figcaption>").count(),
        ATTRIBUTION_STEMS.len()
    );
    // Strategy summary: cost, average reductions, tonnes, frontier.
    for st in &c.strategies {
        let row = format!(
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            st.cost_per_year
                .map(crmsim::format::money)
                .unwrap_or_else(|| "-".into()),
            pp(st.world_mean_reduction_avg),
            pp(st.world_cvar95_reduction_avg),
            st.world_tonnes_avoided
                .map(tonnes)
                .unwrap_or_else(|| "-".into()),
            if st.efficient { "yes" } else { "" }
        );
        assert!(strategies.contains(&row), "no summary row {row}");
        assert!(strategies.contains(&format!("<td class=\"l\">{}</td>", st.id)));
    }
    // Ranking: every world row of the comparison.
    let world: Vec<_> = c.rows.iter().filter(|r| r.consumer == "world").collect();
    assert_eq!(world.len(), 12 * STRATEGY_IDS.len());
    for r in world {
        let ci = |v: f64, ci: [f64; 2]| format!("{} [{}, {}]", pp(v), pp(ci[0]), pp(ci[1]));
        let row = format!(
            "<td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.rank.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
            r.strategy,
            pct(r.mean),
            pct(r.cvar95),
            pct(r.prob_gt_10),
            ci(r.mean_reduction, r.mean_reduction_ci),
            ci(r.cvar95_reduction, r.cvar95_reduction_ci),
            r.tonnes_avoided.map(tonnes).unwrap_or_else(|| "-".into()),
            r.tonnes_per_million
                .map(tonnes)
                .unwrap_or_else(|| "-".into())
        );
        assert!(strategies.contains(&row), "no ranking row {row}");
    }
    // Attribution: world totals, every kind, the largest source and country.
    let world: Vec<_> = a.rows.iter().filter(|r| r.consumer == "world").collect();
    assert_eq!(world.len(), 12);
    for r in world {
        let totals = format!(
            "<td>{}</td><td>{}</td><td class=\"parts\">",
            pct(r.mean),
            pct(r.tail_total)
        );
        assert!(attribution.contains(&totals), "no totals {totals}");
        let parts = r
            .by_kind
            .iter()
            .chain(r.by_source.first())
            .chain(r.by_country.first());
        for p in parts {
            let cell = format!(
                "<span class=\"n\">{}</span> {} / {}",
                p.name,
                share(p.mean, r.mean),
                share(p.tail, r.tail_total)
            );
            assert!(attribution.contains(&cell), "no part {cell}");
        }
    }
}

#[test]
fn plot_redraws_identical_svgs() {
    let d = compare_dir();
    let out = scratch_named("replot");
    crmsim()
        .arg("plot")
        .arg(d.join("summary.json"))
        .args(["--format", "svg", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut n = 0;
    for e in std::fs::read_dir(d.join("figures")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".svg") {
            continue;
        }
        let a = std::fs::read(d.join("figures").join(&name)).unwrap();
        let b = std::fs::read(out.join("figures").join(&name))
            .unwrap_or_else(|e| panic!("plot did not write {name}: {e}"));
        assert!(a == b, "{name} differs between compare and plot");
        n += 1;
    }
    // 4 figures for each of 5 runs, concentration, convergence, and the 6 new ones.
    assert_eq!(
        n,
        4 * 5 + 2 + STRATEGY_STEMS.len() + ATTRIBUTION_STEMS.len()
    );
}

#[test]
fn plain_run_has_attribution_but_no_strategy_figures() {
    let d = run_dir();
    let s = summary(d);
    assert!(s.comparison.is_none());
    assert!(s.attribution.is_some());
    for stem in ATTRIBUTION_STEMS {
        for ext in ["svg", "png"] {
            let p = d.join("figures").join(format!("{stem}.{ext}"));
            assert!(p.is_file(), "missing {}", p.display());
        }
    }
    for stem in STRATEGY_STEMS {
        for ext in ["svg", "png"] {
            let p = d.join("figures").join(format!("{stem}.{ext}"));
            assert!(!p.exists(), "unexpected {}", p.display());
        }
    }
    let html = read(&d.join("report.html"));
    assert!(html.contains("<section id=\"attribution\">"));
    assert!(!html.contains("id=\"strategies\""));
    assert!(!html.contains("strategies-"));
}

#[test]
fn sections_and_figures_are_left_out_without_their_blocks() {
    let mut s = summary(compare_dir());
    s.comparison = None;
    s.attribution = None;
    let figs = crmsim::plot::render_all(&s, crmsim::plot::Formats::Svg).unwrap();
    for f in &figs {
        assert!(
            !STRATEGY_STEMS.contains(&f.stem.as_str())
                && !ATTRIBUTION_STEMS.contains(&f.stem.as_str()),
            "{} drawn without its data",
            f.stem
        );
    }
    let html = crmsim::report::html::render(&s, &figs);
    assert!(!html.contains("id=\"strategies\""));
    assert!(!html.contains("id=\"attribution\""));
    // Escaped: a strategy id with markup never reaches the page raw.
    let mut s = summary(compare_dir());
    let c = s.comparison.as_mut().unwrap();
    c.strategies[0].name = Some("<script>alert(1)</script> & co".into());
    let figs = crmsim::plot::render_all(&s, crmsim::plot::Formats::Svg).unwrap();
    let html = crmsim::report::html::render(&s, &figs);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
}

fn scratch_named(name: &str) -> PathBuf {
    scratch(&format!("strategy-figures-{name}"))
}
