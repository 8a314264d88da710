//! `cargo run -p step03-server-sessions`: serve stage 3 of Rango.

use std::process::ExitCode;

use clap::Parser;
use step03_server_sessions::{Args, Config, app};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    rango_site::serve_with(&args.serve, async || {
        Config::from_args(&args).await.map(app)
    })
    .await
}
