//! Figures and report.html: `crmsim run` draws every figure, `crmsim plot`
//! redraws them byte for byte from summary.json, `--no-figures` skips them,
//! and a bad summary.json is a clean error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crmsim::report::Summary;

mod common;
use common::{crmsim, scratch};

const STEMS: [&str; 9] = [
    "exceedance",
    "histogram",
    "heatmap",
    "fan",
    "concentration",
    "convergence",
    "attribution",
    "attribution-sources",
    "attribution-countries",
];
const TRIALS: u64 = 2000;

/// One run of the bundled baseline, shared by the tests.
fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = scratch_named("run");
        let out = crmsim()
            .args(["run", "--trials", &TRIALS.to_string(), "--out"])
            .arg(&d)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("report.html"), "{out}");
        assert!(out.contains("figures and report:"), "{out}");
        d
    })
}

fn summary() -> Summary {
    let text = std::fs::read_to_string(run_dir().join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
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
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

fn svg_size(svg: &str) -> (u32, u32) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let r = doc.root_element();
    let n = |a: &str| r.attribute(a).unwrap().parse::<u32>().unwrap();
    (n("width"), n("height"))
}

#[test]
fn run_writes_every_figure_and_report() {
    let d = run_dir();
    for stem in STEMS {
        for ext in ["svg", "png"] {
            let p = d.join("figures").join(format!("{stem}.{ext}"));
            assert!(p.is_file(), "missing {}", p.display());
        }
    }
    assert!(d.join("report.html").is_file());
    // No temporary files left behind.
    for e in std::fs::read_dir(d.join("figures")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left over {name}");
    }
}

#[test]
fn svgs_parse_and_carry_titles_axis_labels_and_source() {
    let d = run_dir();
    let expect: [(&str, &[&str]); 6] = [
        (
            "exceedance",
            &[
                "Exceedance curves",
                "P(shortfall > x)",
                "return period (years)",
                "shortfall x (% of 12-month demand)",
                "world (all consumers)",
                "EU",
            ],
        ),
        (
            "histogram",
            &[
                "World shortfall distribution",
                "trials",
                "world shortfall (% of 12-month demand)",
                "cvar95 (mean of worst 5%)",
                "no shortfall:",
            ],
        ),
        ("heatmap", &["Risk heatmap", "cvar95", "EU", "world"]),
        (
            "fan",
            &[
                "Monthly world shortfall",
                "month of the horizon",
                "world shortfall (% of monthly demand)",
                "p50 (median)",
            ],
        ),
        (
            "concentration",
            &[
                "Supply concentration",
                "share of world capacity",
                "ROW (unlisted remainder)",
                "HHI",
            ],
        ),
        (
            "convergence",
            &[
                "Convergence",
                "trials (log scale)",
                "% of demand",
                "95% confidence interval",
            ],
        ),
    ];
    let source = format!(
        "crmsim {} · scenario baseline · seed 42 · 2,000 trials",
        env!("CARGO_PKG_VERSION")
    );
    for (stem, wanted) in expect {
        let texts = svg_texts(&read(&d.join("figures").join(format!("{stem}.svg"))));
        let all = texts.join("\n");
        for w in wanted {
            assert!(all.contains(w), "{stem}.svg lacks {w:?}");
        }
        assert!(all.contains(&source), "{stem}.svg lacks the source line");
    }
}

#[test]
fn pngs_match_svg_size_and_are_not_blank() {
    let d = run_dir();
    for stem in STEMS {
        let (w, h) = svg_size(&read(&d.join("figures").join(format!("{stem}.svg"))));
        let file = std::fs::File::open(d.join("figures").join(format!("{stem}.png"))).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (w, h), "{stem}.png size");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let mut buf = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buf).unwrap();
        // Stop counting once the image is clearly not blank.
        let mut colours: HashSet<&[u8]> = HashSet::new();
        for px in buf.chunks_exact(3) {
            colours.insert(px);
            if colours.len() > 50 {
                break;
            }
        }
        assert!(
            colours.len() > 50,
            "{stem}.png has only {} colours",
            colours.len()
        );
    }
}

#[test]
fn report_embeds_every_figure_and_the_summary_numbers() {
    let d = run_dir();
    let html = read(&d.join("report.html"));
    let s = summary();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: no external resources.
    for bad in ["<script", "<link", "<img", "src=", "url("] {
        assert!(!html.contains(bad), "report.html contains {bad}");
    }
    let title = s.title.clone().unwrap();
    assert!(html.contains(&crmsim::report::html::escape(&title)));
    assert!(html.contains(&s.scenario.sha256));
    assert!(html.contains(&format!("<dd>{}</dd>", s.seed)));
    assert!(html.contains("<dd>2,000</dd>"));
    assert!(html.contains(&format!("<dd>{}</dd>", s.crmsim_version)));
    for stem in STEMS {
        assert!(html.contains(&format!("id=\"fig-{stem}\"")), "{stem}");
    }
    // Self-contained: the page links no file the reader may not have.
    assert!(
        !html.contains("href=\"figures/"),
        "report links figure files"
    );
    assert!(
        !html.contains("docs/"),
        "report points to documentation files"
    );
    assert_eq!(html.matches("<svg ").count(), STEMS.len());
    // Inline SVGs carry their figure text.
    assert!(html.contains("P(shortfall &gt; x)") || html.contains("P(shortfall > x)"));
    // Headline table: the numbers of summary.json, formatted as in the terminal table.
    let pct = |x: f64| format!("<td>{}</td>", crmsim::format::pct(x));
    for r in &s.results {
        let row = format!(
            "<td class=\"l\">{}</td>{}{}{}{}</tr>",
            r.consumer,
            pct(r.metrics.mean),
            pct(r.metrics.p95),
            pct(r.metrics.cvar95),
            pct(r.metrics.prob_gt_10)
        );
        assert!(html.contains(&row), "no row {row}");
    }
    // Concentration table: as `crmsim inspect`.
    for c in &s.figures.as_ref().unwrap().concentration {
        let cell = format!("<td class=\"l\">{}</td><td>{:.0}</td>", c.stage, c.hhi);
        assert!(html.contains(&cell), "no concentration cell {cell}");
        assert!(html.contains(&format!("<td>{:.1}%</td>", c.top3_share * 100.0)));
    }
    // Midstream buffers (model v2) are in the table too, as in `inspect`:
    // the baseline's cobalt ore stage holds 2 months.
    let conc = &html[html.find("<section id=\"concentration-table\">").unwrap()..];
    assert!(conc.contains("<th>buffer</th>"), "no buffer column");
    let row = |stage: &str| {
        let at = format!("<td class=\"l\">Cobalt</td><td class=\"l\">{stage}</td>");
        let from = conc
            .find(&at)
            .unwrap_or_else(|| panic!("no cobalt {stage} row"));
        &conc[from..from + conc[from..].find("</tr>").unwrap()]
    };
    assert!(
        row("mining").contains("<td>2.0 mo</td>"),
        "{}",
        row("mining")
    );
    assert!(
        row("refining").contains("<td>-</td>"),
        "{}",
        row("refining")
    );
}

#[test]
fn plot_redraws_identical_files() {
    let d = run_dir();
    let out = scratch_named("replot");
    let stdout = crmsim()
        .arg("plot")
        .arg(d.join("summary.json"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&stdout).contains("report.html"));
    for stem in STEMS {
        for ext in ["svg", "png"] {
            let name = format!("figures/{stem}.{ext}");
            let a = std::fs::read(d.join(&name)).unwrap();
            let b = std::fs::read(out.join(&name)).unwrap();
            assert!(a == b, "{name} differs between run and plot");
        }
    }
    assert_eq!(read(&d.join("report.html")), read(&out.join("report.html")));
}

#[test]
fn plot_default_out_and_format_svg() {
    let d = scratch_named("svg-only");
    std::fs::copy(run_dir().join("summary.json"), d.join("summary.json")).unwrap();
    crmsim()
        .arg("plot")
        .arg(d.join("summary.json"))
        .args(["--format", "svg", "--quiet"])
        .assert()
        .success()
        .stdout("");
    for stem in STEMS {
        assert!(d.join(format!("figures/{stem}.svg")).is_file());
        assert!(!d.join(format!("figures/{stem}.png")).exists());
    }
    let html = read(&d.join("report.html"));
    assert_eq!(html.matches("<svg ").count(), STEMS.len());
    assert!(!html.contains(".png\""));
}

#[test]
fn no_figures_writes_none() {
    let d = scratch_named("nofig");
    let out = crmsim()
        .args(["run", "--trials", "500", "--no-figures", "--out"])
        .arg(&d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8_lossy(&out);
    assert!(
        !out.contains("report.html") && !out.contains(".svg"),
        "{out}"
    );
    assert!(d.join("summary.json").is_file());
    assert!(!d.join("figures").exists());
    assert!(!d.join("report.html").exists());
}

#[test]
fn bad_summary_is_a_clean_error() {
    let d = scratch_named("bad");
    let cases: [(&str, &str); 3] = [
        ("garbage.json", "this is not json"),
        ("other.json", "{\"hello\": [1, 2, 3]}"),
        (
            "empty.json",
            "{\"crmsim_version\":\"0.1.0\",\"scenario\":{\"name\":\"x\",\"sha256\":\"0\"},\
             \"seed\":1,\"trials\":1,\"horizon_months\":12,\"results\":[]}",
        ),
    ];
    for (name, text) in cases {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        let out = crmsim()
            .arg("plot")
            .arg(&p)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    crmsim()
        .arg("plot")
        .arg(d.join("missing.json"))
        .assert()
        .code(1);
    assert!(!d.join("figures").exists());
}

fn scratch_named(name: &str) -> PathBuf {
    scratch(&format!("figures-{name}"))
}
