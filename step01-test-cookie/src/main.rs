//! `cargo run -p step01-test-cookie`: serve stage 1 of Rango.

use std::process::ExitCode;

use clap::Parser;
use step01_test_cookie::{Args, Config, app};

// ANCHOR: main
#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    rango_site::serve(&args.serve, app(Config::default())).await
}
// ANCHOR_END: main
