//! Running a stage: what `cargo run -p step01-test-cookie` shares with
//! Django's `manage.py runserver`. Logging, the listening socket, the
//! `Listening on` line, and stopping cleanly on Ctrl-C.

use std::convert::Infallible;
use std::fmt::Display;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The flags every stage takes for serving. A stage's own `Args` takes them
/// in with `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "RANGO_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
}

/// Sends log lines to stderr, at the level `RUST_LOG` names (`info` if it
/// names none: one line per request). Calling it again does nothing.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .try_init();
}

/// Serves `app` on the address in `args` until Ctrl-C or SIGTERM; if it
/// cannot, says why on stderr, in one line, and fails.
pub async fn serve(args: &ServeArgs, app: Router) -> ExitCode {
    serve_with(args, async || Ok::<_, Infallible>(app)).await
}

/// [`serve`]s the app that `app` builds, or says why it could not build it.
///
/// The address is taken first and the app built second, so that a server
/// that cannot listen leaves nothing behind (no new database file, say).
pub async fn serve_with<E: Display>(
    args: &ServeArgs,
    app: impl AsyncFnOnce() -> Result<Router, E>,
) -> ExitCode {
    init_logging();
    let listener = match bind(args.addr).await {
        Ok(listener) => listener,
        Err(err) => return failure(err),
    };
    let app = match app().await {
        Ok(app) => app,
        Err(err) => return failure(err),
    };
    match listener.local_addr() {
        Ok(addr) => println!("Listening on http://{addr}/rango/"),
        Err(err) => return failure(err),
    }
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => failure(format_args!("server stopped: {err}")),
    }
}

/// Prints `error: {err}` and gives the failing exit code.
fn failure(err: impl Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::FAILURE
}

/// Listens on `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, CannotListen> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| CannotListen { addr, err })
}

/// The address is taken, or not ours to take.
#[derive(Debug)]
pub struct CannotListen {
    addr: SocketAddr,
    err: io::Error,
}

impl Display for CannotListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot listen on {}: {}", self.addr, self.err)
    }
}

impl std::error::Error for CannotListen {}

/// Resolves on Ctrl-C or SIGTERM, so requests in flight can finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[tokio::test]
    async fn a_port_in_use_is_a_one_line_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind(addr).await.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("cannot listen on {addr}: ")),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn a_bad_address_is_rejected_by_the_parser() {
        let err = Args::try_parse_from(["rango", "--addr", "not-an-address"]).unwrap_err();
        assert!(err.to_string().contains("--addr"), "{err}");
        let args = Args::try_parse_from(["rango"]).unwrap();
        assert_eq!(args.serve.addr.to_string(), "127.0.0.1:8000");
    }
}
