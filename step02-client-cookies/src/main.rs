//! `cargo run -p step02-client-cookies`: serve stage 2 of Rango.

use std::process::ExitCode;

use clap::Parser;
use step02_client_cookies::{Args, Config, app};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    rango_site::serve_with(&args.serve, async || Config::from_args(&args).map(app)).await
}
