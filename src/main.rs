//! The `crmsim` binary: parse the arguments, run, map errors to exit codes
//! (2 for bad input, 1 for everything else).

use clap::Parser;

fn main() {
    let cli = crmsim::cli::Cli::parse();
    if let Err(e) = crmsim::cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(e.exit_code());
    }
}
