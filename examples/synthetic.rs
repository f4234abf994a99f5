//! Prints a synthetic benchmark scenario (TOML) to stdout:
//! `cargo run --release --example synthetic -- [commodities countries consumers shocks horizon]`
//! (default: the large scenario of the speed targets).

#[path = "../benches/common/synthetic.rs"]
mod synthetic;

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let spec = match a[..] {
        [commodities, countries, consumers, shocks, horizon] => synthetic::Spec {
            commodities,
            countries,
            consumers,
            shocks,
            horizon,
        },
        _ => synthetic::Spec::LARGE,
    };
    print!("{}", synthetic::scenario_toml(spec));
}
