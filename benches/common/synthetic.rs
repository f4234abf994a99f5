//! A synthetic scenario of any size, for benchmarks: `n_commodities`
//! two-stage commodities, `n_countries` producer countries, `n_consumers`
//! consumers, `n_shocks` shocks with long events, over `horizon` months.
//! Deterministic (a fixed 64-bit mixer drives every choice), so a bench
//! always runs the same file. Used by `benches/engine.rs` and printed by
//! `cargo run --release --example synthetic -- ...`.

use std::fmt::Write;

/// Sizes of a synthetic scenario.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub commodities: usize,
    pub countries: usize,
    pub consumers: usize,
    pub shocks: usize,
    pub horizon: usize,
}

impl Spec {
    /// The large scenario of the speed targets: 200 commodities, 300
    /// countries, 10 consumers, 1000 shocks, 600 months.
    pub const LARGE: Spec = Spec {
        commodities: 200,
        countries: 300,
        consumers: 10,
        shocks: 1000,
        horizon: 600,
    };
}

/// SplitMix64: the state walks by a fixed odd step, each output is mixed.
struct Mixer(u64);

impl Mixer {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `k` distinct values below `n`, in increasing order.
    fn pick(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::with_capacity(k);
        while v.len() < k.min(n) {
            let x = self.below(n);
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v.sort_unstable();
        v
    }
}

/// The scenario file (TOML) of `spec`.
pub fn scenario_toml(spec: Spec) -> String {
    let mut m = Mixer(0x5eed);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "[scenario]\nname = \"synthetic\"\ntitle = \"Synthetic benchmark scenario\"\n\
         horizon_months = {}\ntrials = 10000\nseed = 1\n",
        spec.horizon
    );
    for c in 0..spec.countries {
        let _ = writeln!(
            s,
            "[[country]]\nid = \"C{c}\"\nname = \"Country {c}\"\nregion = \"r{}\"\ngovernance = 0.0\n",
            c % 12
        );
    }
    consumers(&mut s, spec);
    let producers: Vec<Vec<usize>> = (0..spec.commodities)
        .map(|k| commodity(&mut s, &mut m, k, spec.countries))
        .collect();
    for i in 0..spec.shocks {
        shock(&mut s, &mut m, i, spec, &producers);
    }
    let members: Vec<String> = (0..spec.consumers.min(3))
        .map(|j| format!("\"K{j}\""))
        .collect();
    let _ = writeln!(
        s,
        "[[alliance]]\nid = \"club\"\nmembers = [{}]\nspare_capacity = 0.1\n\
         ramp_months = 3.0\ndiversion = 0.2\n",
        members.join(", ")
    );
    let _ = writeln!(
        s,
        "[[regime]]\nid = \"tense\"\nprobability = 0.2\n\
         multipliers = [ {{ kind = \"export_ban\", factor = 3.0 }} ]\n"
    );
    s
}

fn consumers(s: &mut String, spec: Spec) {
    let share = 0.9 / spec.consumers as f64;
    for j in 0..spec.consumers {
        let per = |v: f64| {
            (0..spec.commodities)
                .map(|k| format!("m{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "[[consumer]]\nid = \"K{j}\"\nname = \"Consumer {j}\"\n\
             demand_share = {{ {} }}\nstockpile_months = {{ {} }}\n",
            per(share),
            per(if j.is_multiple_of(2) { 1.0 } else { 0.0 })
        );
    }
}

/// Writes commodity `k`; returns its producer countries (final stage).
fn commodity(s: &mut String, m: &mut Mixer, k: usize, n_countries: usize) -> Vec<usize> {
    let _ = writeln!(
        s,
        "[[commodity]]\nid = \"m{k}\"\nname = \"Material {k}\"\nannual_demand = 1000\n\
         stages = [\"mining\", \"refining\"]\nbuffer_months = {{ mining = 1.0 }}"
    );
    let mut who = Vec::new();
    for stage in ["mining", "refining"] {
        let _ = writeln!(s, "[commodity.producers.{stage}]");
        who = m.pick(8, n_countries);
        let w: Vec<f64> = who.iter().map(|_| 0.2 + m.unit()).collect();
        let total: f64 = w.iter().sum();
        for (c, w) in who.iter().zip(&w) {
            let _ = writeln!(s, "C{c} = {:.6}", 0.9 * w / total);
        }
    }
    s.push('\n');
    who
}

/// Writes shock `i`: one or two commodities, and one to three countries
/// that produce the first of them.
fn shock(s: &mut String, m: &mut Mixer, i: usize, spec: Spec, producers: &[Vec<usize>]) {
    const KINDS: [&str; 4] = ["conflict", "disaster", "nationalism", "export_ban"];
    let kind = KINDS[i % 4];
    let (n_c, n_k) = (1 + m.below(3), 1 + m.below(2));
    let ks = m.pick(n_k, spec.commodities);
    let own = &producers[ks[0]];
    let countries: Vec<String> = m
        .pick(n_c, own.len())
        .iter()
        .map(|&c| format!("\"C{}\"", own[c]))
        .collect();
    let commodities: Vec<String> = ks.iter().map(|k| format!("\"m{k}\"")).collect();
    let _ = writeln!(
        s,
        "[[shock]]\nid = \"s{i}\"\nkind = \"{kind}\"\ncountries = [{}]\ncommodities = [{}]\n\
         rate_per_year = {{ dist = \"gamma\", shape = 2.0, scale = {:.6} }}\n\
         severity = {{ dist = \"pert\", min = 0.1, mode = 0.4, max = 0.9 }}\n\
         duration_months = {{ dist = \"lognormal\", median = {:.1}, sigma = 0.6 }}\n\
         per_country = \"{}\"",
        countries.join(", "),
        commodities.join(", "),
        0.005 + 0.01 * m.unit(),
        6.0 + 18.0 * m.unit(),
        if i.is_multiple_of(3) {
            "independent"
        } else {
            "shared"
        }
    );
    if kind == "export_ban" {
        let _ = writeln!(s, "leakage = 0.1");
    }
    s.push('\n');
}
