//! The terminal tables of `backtest` and `calibrate`, and `backtest.json`.

use std::fmt::Write;

use crate::backtest::Backtest;
use crate::calibrate::Posterior;

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

/// The backtest as terminal tables.
pub fn render(bt: &Backtest) -> String {
    let mut out = String::new();
    let y = bt.years;
    let _ = writeln!(
        out,
        "{} against {}: {}-{} ({} years), 90% intervals",
        bt.scenario,
        bt.record_name(),
        y.from,
        y.to,
        y.count
    );
    shock_table(&mut out, bt);
    commodity_table(&mut out, bt);
    clustering_table(&mut out, bt);
    coverage(&mut out, bt);
    out
}

fn shock_table(out: &mut String, bt: &Backtest) {
    let _ = writeln!(
        out,
        "\n  {:<22} {:>3} {:>8} {:>15} {:>8} {:>9} {:>10}  matched events",
        "shock", "n", "obs/yr", "obs interval", "model/yr", "pred. n", "consistent"
    );
    for s in &bt.shocks {
        let _ = writeln!(
            out,
            "  {:<22} {:>3} {:>8.3} {:>15} {:>8.3} {:>9} {:>10}  {}",
            s.id,
            s.observed,
            s.observed_per_year,
            format!(
                "{:.3}-{:.3}",
                s.observed_interval[0], s.observed_interval[1]
            ),
            s.model_per_year,
            format!("{}-{}", s.predictive_interval[0], s.predictive_interval[1]),
            yes(s.consistent),
            s.matched.join(" ")
        );
    }
}

fn commodity_table(out: &mut String, bt: &Backtest) {
    let _ = writeln!(
        out,
        "\n  {:<14} {:>11} {:>11} {:>9} {:>14} {:>10}",
        "commodity", "event years", "pred. years", "observed", "model P(year)", "consistent"
    );
    for c in &bt.commodities {
        let _ = writeln!(
            out,
            "  {:<14} {:>11} {:>11} {:>8.0}% {:>13.0}% {:>10}",
            c.id,
            c.years_with_event,
            format!("{}-{}", c.predictive_interval[0], c.predictive_interval[1]),
            c.observed_share * 100.0,
            c.model_probability * 100.0,
            yes(c.consistent)
        );
    }
}

fn clustering_table(out: &mut String, bt: &Backtest) {
    if !bt.clustering.is_empty() {
        let _ = writeln!(
            out,
            "\n  clustering: yearly count variance/mean (1 = Poisson)\n  {:<8} {:<12} {:>6} {:>9} {:>6}  shocks",
            "country", "kind", "events", "observed", "model"
        );
        for g in &bt.clustering {
            let _ = writeln!(
                out,
                "  {:<8} {:<12} {:>6} {:>9} {:>6}  {}",
                g.country,
                g.kind,
                g.events,
                opt(g.observed_dispersion),
                opt(g.model_dispersion),
                g.shocks.join(" ")
            );
        }
    }
}

fn coverage(out: &mut String, bt: &Backtest) {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(" ")
        }
    };
    let _ = writeln!(
        out,
        "\n  record events matching no shock: {}",
        list(&bt.unmatched)
    );
    if !bt.outside_years.is_empty() {
        let _ = writeln!(
            out,
            "  record events outside the years (not counted): {}",
            list(&bt.outside_years)
        );
    }
    let bad = bt.shocks.iter().filter(|s| !s.consistent).count();
    let _ = writeln!(
        out,
        "\n  {} of {} shocks consistent with the record",
        bt.shocks.len() - bad,
        bt.shocks.len()
    );
}

/// `backtest.json`.
pub fn json(bt: &Backtest) -> String {
    let mut s = serde_json::to_string_pretty(bt).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// The rates `calibrate` wrote, one line per shock.
pub fn render_posteriors(bt: &Backtest, posts: &[Posterior]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<22} {:>3} {:>10} {:>8} {:>10}",
        "shock", "n", "shape", "scale", "mean/yr"
    );
    for (s, p) in bt.shocks.iter().zip(posts) {
        let _ = writeln!(
            out,
            "  {:<22} {:>3} {:>10} {:>8.4} {:>10.4}",
            p.id,
            s.observed,
            p.shape,
            p.scale,
            p.shape * p.scale * s.regime_multiplier
        );
    }
    out
}
