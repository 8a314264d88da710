//! `cargo run -p exercises`: serve the exercises' Rango (stage 3, plus your answers).

use std::process::ExitCode;

use clap::Parser;
use exercises::{Args, Config, app};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    rango_site::serve_with(&args.stage3.serve, async || {
        Config::from_args(&args.stage3).await.map(app)
    })
    .await
}
