//! The request log, in a test binary of its own.
//!
//! tracing caches, process-wide, whether anyone wants each log line. A
//! test in another thread that reaches a line first, with no subscriber,
//! can race with this test's `set_default` and leave that line cached as
//! unwanted, so the line never comes (seen in CI). Alone in its process,
//! this test is the only one that reaches the lines it reads.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::get;
use rango_site::pages::site;
use tower::ServiceExt;

/// What the request log writes for one request to `path` with the log at
/// `level`: the answer's status, and the lines.
async fn logged(level: &str, path: &str) -> (StatusCode, String) {
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // This thread's subscriber: a current-thread test runs the request here.
    let _guard = tracing::subscriber::set_default(subscriber);
    let pages = Router::new().route(
        "/rango/",
        get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let request = Request::get(path).body(Body::empty()).unwrap();
    let status = site(pages).oneshot(request).await.unwrap().status();
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    (status, text)
}

/// At `info` each answer gets tower-http's line; at `warn` only a failure
/// does, the same `response failed` line either way.
#[tokio::test]
async fn the_request_log_writes_what_its_level_asks_for() {
    let (status, info) = logged("info", "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        info.contains("tower_http::trace::on_response: finished processing request"),
        "{info}"
    );
    assert!(info.contains("status=404"), "{info}");

    let (status, warn) = logged("warn", "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(warn, "", "nothing for an answer that is not a failure");

    let failed = "tower_http::trace::on_failure: response failed \
                  classification=Status code: 500 Internal Server Error";
    for level in ["info", "warn"] {
        let (status, log) = logged(level, "/rango/").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{level}");
        assert!(log.contains(failed), "{level}: {log}");
    }
}
