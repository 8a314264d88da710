//! The test harness the stages share (the `testing` feature): a site on a
//! free port, browsers with and without a cookie jar, reading pages, and
//! running a stage's binary. Django's counterpart is its test `Client`.
//! [`suite`] holds the checks of what stage 3 does, which stage 4 runs too;
//! [`transcript`], what the book shows of runs.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

pub mod suite;
pub mod transcript;

// ANCHOR: serve
/// A copy of the app serving on a free port, until [`Server::stop`] (or
/// until the test ends).
#[derive(Debug)]
pub struct Server {
    /// `http://localhost:PORT`.
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
        // Served as `cargo run` serves it, with the same limits.
        let task = tokio::spawn(crate::serve::run(
            listener,
            router,
            crate::serve::Limits::default(),
            async {
                stopped.await.ok();
            },
        ));
        // `localhost`, not 127.0.0.1: it is the name cookie jars treat as a real host.
        let base = format!("http://localhost:{port}");
        Self { base, stop, task }
    }

    /// The absolute URL of `path`, which starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server as Ctrl-C would, and waits until it has.
    pub async fn stop(self) {
        self.stop.send(()).ok();
        self.task.await.unwrap();
    }
}

/// A browser that keeps cookies.
pub fn browser() -> reqwest::Client {
    browser_with_jar().0
}

/// A browser that keeps cookies, and its cookie jar to look into.
pub fn browser_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (client, jar)
}

/// A browser that refuses every cookie.
pub fn cookieless_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(false)
        .build()
        .unwrap()
}
// ANCHOR_END: serve

/// `GET url`: the status and the body.
pub async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The cookies `jar` would send to `base`, as `(name, value)` pairs.
pub fn cookies_in(jar: &Jar, base: &str) -> Vec<(String, String)> {
    let Some(header) = jar.cookies(&base.parse().unwrap()) else {
        return Vec::new();
    };
    header
        .to_str()
        .unwrap()
        .split("; ")
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// The session id in `jar` for `base`, which must be the only cookie there.
pub fn session_id(jar: &Jar, base: &str) -> Id {
    match &cookies_in(jar, base)[..] {
        [(name, value)] if name == "sessionid" => value.parse().unwrap(),
        other => panic!("only the session cookie, got {other:?}"),
    }
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

/// The text of each `<li>` in the list with the given id, tags removed.
pub fn list_items(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("<ol id=\"{id}\">"))
        .expect("list present");
    let list = &html[start..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<li>")
        .skip(1)
        .map(|item| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in item.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// A session store that is down: every operation fails.
#[derive(Debug, Clone)]
pub struct BrokenStore;

#[async_trait::async_trait]
impl SessionStore for BrokenStore {
    async fn save(&self, _: &Record) -> session_store::Result<()> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
    async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
    async fn delete(&self, _: &Id) -> session_store::Result<()> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
}

/// A stage's binary (`env!("CARGO_BIN_EXE_...")`), with none of the
/// settings a developer's shell may hold: no `RUST_LOG`, no `RANGO_*`, no
/// `SESSION_*`.
pub fn command(bin: &str) -> Command {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name == "RUST_LOG" || name.starts_with("RANGO_") || name.starts_with("SESSION_") {
            command.env_remove(&*name);
        }
    }
    command
}

/// Runs `command` to its end, or kills it after a generous minute: whether
/// it succeeded, and what it wrote to stderr.
pub fn run_to_exit(command: &mut Command) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_within(&mut child, LINE_WAIT, "it should have given up");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.success(), stderr)
}

/// How long a [`Running`] server may take to print its next line, or any
/// child to exit when it should.
const LINE_WAIT: Duration = Duration::from_secs(60);

/// Waits for `child` to exit; kills it and fails the test if it is still
/// running after `wait`, rather than hanging the whole run. (std's `wait`
/// has no time limit.)
fn exit_within(child: &mut Child, wait: Duration, why: &str) -> ExitStatus {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after {wait:?}: {why}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A stage's binary serving on a free port.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// Its console's lines, read by a thread of their own so that waiting
    /// for one can give up: a line that never comes fails the test in a
    /// minute instead of hanging it.
    lines: Receiver<String>,
    /// What it printed up to its `Listening on` line, that line included.
    started: String,
    /// `http://127.0.0.1:PORT/rango/`, as the binary printed it.
    pub url: String,
}

impl Running {
    /// Starts `command` in `dir` on a free port; returns once it says where
    /// it listens.
    pub fn start(command: Command, dir: &Path) -> Self {
        Self::spawn(command, dir, Output::Console)
    }

    /// [`Running::start`], keeping what the server logs on stderr for
    /// [`Running::finish`].
    pub fn start_logging(command: Command, dir: &Path) -> Self {
        Self::spawn(command, dir, Output::ConsoleAndLog)
    }

    /// [`Running::start`] with stdout and stderr in one stream, as the
    /// terminal of `cargo run` shows them: the console's lines and the
    /// log's, in the order they were written.
    pub fn start_terminal(command: Command, dir: &Path) -> Self {
        Self::spawn(command, dir, Output::Terminal)
    }

    fn spawn(mut command: Command, dir: &Path, output: Output) -> Self {
        let (reader, writer) = std::io::pipe().unwrap();
        let stderr = match output {
            Output::Console => Stdio::null(),
            Output::ConsoleAndLog => Stdio::piped(),
            Output::Terminal => writer.try_clone().unwrap().into(),
        };
        let mut child = command
            .current_dir(dir)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(writer)
            .stderr(stderr)
            .spawn()
            .unwrap();
        // The command holds the pipe's writing end: dropped, the pipe ends
        // when the child exits.
        drop(command);
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut started = String::new();
        let first = loop {
            let line = match lines.recv_timeout(LINE_WAIT) {
                Ok(line) => line,
                Err(RecvTimeoutError::Disconnected) => {
                    let status = exit_within(&mut child, LINE_WAIT, "its console is closed");
                    panic!(
                        "the server printed no `Listening on` line, and exited: {status}\n{started}"
                    );
                }
                Err(RecvTimeoutError::Timeout) => {
                    child.kill().ok();
                    panic!("no `Listening on` line after {LINE_WAIT:?}:\n{started}");
                }
            };
            started.push_str(&line);
            started.push('\n');
            if line.starts_with("Listening on ") {
                break line;
            }
            assert!(
                matches!(output, Output::Terminal),
                "the first line is `Listening on`: {line}"
            );
        };
        let url = first
            .strip_prefix("Listening on ")
            .expect(&first)
            .to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/rango/"),
            "{first}"
        );
        assert!(!url.contains(":0/"), "the real port, not 0: {first}");
        Self {
            child,
            lines,
            started,
            url,
        }
    }

    /// What the server printed up to where it says it listens, that line
    /// included (with [`Running::start_terminal`], its log lines too).
    pub fn started(&self) -> &str {
        &self.started
    }

    /// The URL of `path` on this server (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        self.url.replace("/rango/", path)
    }

    /// The next line the server prints on its console.
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(LINE_WAIT) {
            Ok(line) => line,
            Err(err) => {
                self.child.kill().ok();
                panic!("no next line from the server ({err}) within {LINE_WAIT:?}");
            }
        }
    }

    /// Stops the server as a service manager would, with SIGTERM; it must
    /// exit cleanly.
    pub fn stop(mut self) {
        self.signal("-TERM");
    }

    /// Stops the server as Ctrl-C would, and gives what it printed: all of
    /// its console (stdout, from its first line; with
    /// [`Running::start_terminal`], the log's lines too), and its log
    /// (stderr; empty unless started with [`Running::start_logging`]).
    pub fn finish(mut self) -> (String, String) {
        self.signal("-INT");
        let mut console = std::mem::take(&mut self.started);
        // The child has exited: its pipe is closed, and the lines end.
        for line in &self.lines {
            console.push_str(&line);
            console.push('\n');
        }
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut log).unwrap();
        }
        (console, log)
    }

    /// Sends `signal` (`-INT` is Ctrl-C), then waits for a clean exit.
    fn signal(&mut self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = exit_within(
            &mut self.child,
            LINE_WAIT,
            &format!("a graceful shutdown ends on {signal}"),
        );
        assert!(status.success(), "graceful shutdown exits 0: {status}");
    }
}

/// Where a [`Running`] server's stdout and stderr go.
#[derive(Debug, Clone, Copy)]
enum Output {
    /// stdout read, stderr dropped.
    Console,
    /// Each read on its own.
    ConsoleAndLog,
    /// Both read as one stream, as a terminal shows them.
    Terminal,
}
