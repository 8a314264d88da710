//! What the HTTP test suites share: a running site, browsers, a scratch
//! directory for `SQLite` files, and reading the visit count off the index.

#![allow(dead_code, reason = "each suite uses a different part")]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::StatusCode;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A copy of the app serving on a free port, until [`Server::stop`].
pub struct Server {
    pub base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `router` on a free port.
    pub async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .unwrap();
        });
        // `localhost`, not 127.0.0.1: it is the name cookie jars treat as a real host.
        let base = format!("http://localhost:{port}");
        Self { base, stop, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server as Ctrl-C would, and waits until it has.
    pub async fn stop(self) {
        self.stop.send(()).ok();
        self.task.await.unwrap();
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

pub fn cookieless_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(false)
        .build()
        .unwrap()
}

pub async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The count the index shows in its `<p>visits: N</p>` line.
pub fn visits_in(html: &str) -> u64 {
    let start = html.find("<p>visits: ").expect("a visits line") + "<p>visits: ".len();
    let rest = &html[start..];
    rest[..rest.find("</p>").unwrap()].parse().unwrap()
}

/// Loads the index with `client` and returns the count it shows.
pub async fn visit(client: &reqwest::Client, base: &str) -> u64 {
    let (status, body) = get(client, &format!("{base}/rango/")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    visits_in(&body)
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "rango-step04-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The `--session-store` URL of a `SQLite` file in this directory.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("sessions.sqlite3").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Runs a test once for each kind of store: `name::sqlite`, `name::cached_sqlite`
/// and `name::memory`.
#[allow(unused_macros)] // not every test file runs tests on each store
macro_rules! on_each_store {
    ($(#[$doc:meta])* async fn $name:ident($kind:ident: Kind) $body:block) => {
        $(#[$doc])*
        mod $name {
            use super::*;

            async fn run($kind: Kind) $body

            #[tokio::test]
            async fn sqlite() {
                run(Kind::Sqlite).await;
            }

            #[tokio::test]
            async fn cached_sqlite() {
                run(Kind::CachedSqlite).await;
            }

            #[tokio::test]
            async fn memory() {
                run(Kind::Memory).await;
            }
        }
    };
}
