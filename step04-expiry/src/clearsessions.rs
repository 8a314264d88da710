//! `cargo run -p step04-expiry -- clearsessions`: Django's
//! `python manage.py clearsessions`, which deletes expired sessions from the
//! store and exits.

use std::process::ExitCode;

use rango_sessions::{Cleared, StoreArgs, redacted};

// ANCHOR: clearsessions
/// Runs `clearsessions` on the store `sessions` names: prints what it did,
/// or why it could not, and says whether it succeeded.
pub async fn run(sessions: &StoreArgs) -> ExitCode {
    rango_site::serve::init_logging();
    match clearsessions(&sessions.session_store).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Deletes the expired sessions in the store `url` names and says how many,
/// or why there is nothing to delete.
pub async fn clearsessions(url: &str) -> Result<String, String> {
    if url == "memory" {
        return Ok(
            "The memory store lives inside a running server, and this new process \
             has an empty one: there is nothing here to clear. (A running server \
             never serves an expired session, and drops one when it is next asked \
             for it or when the store, full, makes room.)"
                .into(),
        );
    }
    // A mistyped file name is an error, not a new, empty database.
    let store = rango_sessions::Store::open_existing(url)
        .await
        .map_err(|err| err.to_string())?;
    match store.clear_expired().await {
        Ok(Cleared::Deleted(1)) => Ok("Deleted 1 expired session.".into()),
        Ok(Cleared::Deleted(count)) => Ok(format!("Deleted {count} expired sessions.")),
        Ok(Cleared::ByItself) => Ok(format!(
            "{} expires sessions by itself (each one is stored with a time to live): \
             there is nothing to clear.",
            redacted(url)
        )),
        Err(err) => Err(format!("cannot clear expired sessions: {err}")),
    }
}
// ANCHOR_END: clearsessions
