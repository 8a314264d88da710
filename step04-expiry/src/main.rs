//! `cargo run -p step04-expiry`: serve stage 4 of Rango, or, with
//! `clearsessions`, delete expired sessions and exit.

use std::process::ExitCode;

use clap::Parser;
use rango_sessions::clear_expired_every;
use step04_expiry::{Args, Command, Config, app, clearsessions};

// ANCHOR: main
#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.command == Some(Command::Clearsessions) {
        return clearsessions::run(&args.sessions).await;
    }
    rango_site::serve_with(&args.serve, async || {
        let config = Config::from_args(&args).await?;
        // Django's daily `clearsessions` cron job, run by the server itself.
        clear_expired_every(config.store.clone(), args.clear_expired_every).await;
        Ok::<_, rango_sessions::StoreError>(app(config))
    })
    .await
}
// ANCHOR_END: main
