//! A small harness for checking the Rango stages in a real browser.
//!
//! The stages' own tests talk to the app with reqwest. This crate asks the
//! question the chapter really cares about: what does *a browser* do with the
//! cookies? It serves a stage's [`Router`] in-process ([`Site`]), starts a
//! headless Chromium through `chromedriver` ([`Chrome`]), and speaks just
//! enough of the W3C `WebDriver` protocol to open pages, read them, read the
//! browser's cookie jar, take screenshots and restart the browser on the same
//! profile.
//!
//! It needs Debian's `chromium` and `chromium-driver` packages
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`), or the binaries named by
//! the `CHROMIUM` and `CHROMEDRIVER` environment variables, or both on `PATH`.
//! Every test that uses it is `#[ignore]`d with that reason, so a machine with
//! only Rust reports them as ignored; run them with
//! `cargo test -p browser-suite -- --ignored`.
//!
//! Everything stays on the loopback interface: chromedriver listens on
//! 127.0.0.1, the site on 127.0.0.1, Chromium is told to use no proxy and
//! to phone nowhere.

use std::ffi::OsString;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The longest any single wait may take: a page load, chromedriver coming
/// up, the browser going down. Tests stay fast when things work and fail
/// with a message, rather than hang, when they do not.
pub const WAIT: Duration = Duration::from_secs(15);

/// What to tell someone whose machine lacks the browser.
pub const INSTALL_HINT: &str = "install Chromium and its WebDriver \
    (Debian/Ubuntu: `apt-get install -y chromium chromium-driver`), or set \
    CHROMIUM and CHROMEDRIVER to the binaries' paths";

/// Chromium's command line: headless, quiet, no network of its own, and one
/// profile directory per [`Chrome`] so tests never share cookies.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--password-store=basic",
    "--window-size=1024,768",
];

/// A failure of the harness or the browser, worded for the person reading
/// the test output.
pub struct Error(String);

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The same text as `Display`: a test returning `Err` prints it with `{:?}`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stage's app served on a free loopback port for as long as this lives.
#[derive(Debug)]
pub struct Site {
    base: String,
    server: JoinHandle<()>,
}

impl Site {
    /// Serves `router` on `127.0.0.1:0`.
    pub async fn serve(router: Router) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|err| Error::new(format!("cannot bind a loopback port: {err}")))?;
        let port = listener
            .local_addr()
            .map_err(|err| Error::new(format!("bound socket has no address: {err}")))?
            .port();
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                eprintln!("site stopped: {err}");
            }
        });
        // `localhost` rather than 127.0.0.1, as in the stages' own tests:
        // the cookie jar files the cookies under a host name.
        Ok(Self {
            base: format!("http://localhost:{port}"),
            server,
        })
    }

    /// The absolute URL of `path` (which starts with `/`) on this site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One cookie as the browser holds it (`WebDriver`'s cookie object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub path: String,
    pub http_only: bool,
    pub secure: bool,
    /// `Lax`, `Strict` or `None`, as the browser reports it.
    pub same_site: Option<String>,
    /// Seconds since the epoch; `None` for a session cookie, which the
    /// browser drops when it closes.
    pub expiry: Option<u64>,
}

impl Cookie {
    fn from_webdriver(value: &Value) -> Result<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let flag = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        Ok(Self {
            name: text("name")
                .ok_or_else(|| Error::new(format!("cookie without a name: {value}")))?,
            value: text("value").unwrap_or_default(),
            path: text("path").unwrap_or_default(),
            http_only: flag("httpOnly"),
            secure: flag("secure"),
            same_site: text("sameSite"),
            expiry: value.get("expiry").and_then(Value::as_u64),
        })
    }
}

/// A headless Chromium driven through its own chromedriver.
///
/// [`Chrome::launch`] starts chromedriver on a free loopback port, makes a
/// fresh profile directory and opens a browser on it. [`Chrome::restart`]
/// closes that browser for real and opens a new one on the same profile,
/// which is what a user does when they quit and start their browser again.
/// Dropping a `Chrome` kills whatever is still running and deletes the
/// profile.
#[derive(Debug)]
pub struct Chrome {
    chromium: PathBuf,
    driver: Child,
    endpoint: String,
    http: reqwest::Client,
    /// Holds `profile/` and `chromedriver.log`.
    workdir: TempDir,
    /// The `WebDriver` session id of the running browser.
    session: Option<String>,
}

impl Chrome {
    /// Starts chromedriver and a browser on a fresh, empty profile.
    pub async fn launch() -> Result<Self> {
        let chromium = find_binary("CHROMIUM", "chromium")?;
        let chromedriver = find_binary("CHROMEDRIVER", "chromedriver")?;
        let workdir = TempDir::new("chrome")?;
        std::fs::create_dir(workdir.path().join("profile"))
            .map_err(|err| Error::new(format!("cannot create the profile directory: {err}")))?;

        let port = free_port()?;
        let mut command = Command::new(&chromedriver);
        // Its own process group, which the browser it starts joins: `Drop`
        // can then stop every process of this test, and only those.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                workdir.path().join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| Error::new(format!("cannot start {}: {err}", chromedriver.display())))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(WAIT * 2)
            .build()
            .map_err(|err| Error::new(format!("cannot build an HTTP client: {err}")))?;
        let mut chrome = Self {
            chromium,
            driver,
            endpoint: format!("http://127.0.0.1:{port}"),
            http,
            workdir,
            session: None,
        };
        chrome.wait_for_driver().await?;
        chrome.open_browser().await?;
        Ok(chrome)
    }

    /// The profile directory (Chromium's `--user-data-dir`).
    pub fn profile(&self) -> PathBuf {
        self.workdir.path().join("profile")
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.session_command(Method::POST, "/url", Some(json!({ "url": url })))
            .await?;
        self.check_not_an_error_page().await
    }

    /// Reloads the current page, as the reload button does.
    pub async fn refresh(&self) -> Result<()> {
        self.session_command(Method::POST, "/refresh", Some(json!({})))
            .await?;
        self.check_not_an_error_page().await
    }

    /// The address of the current page, as `WebDriver` reports it.
    pub async fn current_url(&self) -> Result<String> {
        let value = self.session_command(Method::GET, "/url", None).await?;
        as_string(value, "current URL")
    }

    /// When a server cannot be reached, or answers an error with an empty
    /// body, Chromium shows a page of its own from `chrome-error://`, and
    /// everything read afterwards (text, cookies) is about that page.
    /// `WebDriver` still reports the address asked for; the document knows
    /// better. Fail right here instead, with the reason.
    async fn check_not_an_error_page(&self) -> Result<()> {
        let href = self.execute("return document.location.href").await?;
        if !href
            .as_str()
            .is_some_and(|href| href.starts_with("chrome-error:"))
        {
            return Ok(());
        }
        let text = self.text("body").await.unwrap_or_default();
        let reason = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Err(Error::new(format!(
            "the browser shows its own error page instead of the site: {reason}"
        )))
    }

    /// The current page's HTML, as the browser now has it.
    pub async fn source(&self) -> Result<String> {
        let value = self.session_command(Method::GET, "/source", None).await?;
        as_string(value, "page source")
    }

    /// The `N` of the page's `visits: N` line (every stage from 2 on shows
    /// one). Panics, with the page text, when there is none.
    pub async fn shown_visits(&self) -> Result<String> {
        let text = self.text("main").await?;
        let line = text.lines().find_map(|line| line.strip_prefix("visits: "));
        Ok(line
            .unwrap_or_else(|| panic!("no `visits: N` line on the page: {text}"))
            .to_owned())
    }

    /// The rendered text of the first element matching the CSS `selector`.
    pub async fn text(&self, selector: &str) -> Result<String> {
        let query = json!({ "using": "css selector", "value": selector });
        let found = self
            .session_command(Method::POST, "/element", Some(query))
            .await?;
        // The W3C element reference: an object with this one odd key.
        let element = found
            .get("element-6066-11e4-a52e-4f735466cecf")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("no element for {selector:?}: {found}")))?;
        let text = self
            .session_command(Method::GET, &format!("/element/{element}/text"), None)
            .await?;
        as_string(text, "element text")
    }

    /// Every cookie the browser would send to the current page, `HttpOnly`
    /// ones included (page scripts cannot see those; `WebDriver` can).
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        let value = self.session_command(Method::GET, "/cookie", None).await?;
        let list = value
            .as_array()
            .ok_or_else(|| Error::new(format!("cookie list is not a list: {value}")))?;
        let mut cookies = list
            .iter()
            .map(Cookie::from_webdriver)
            .collect::<Result<Vec<_>>>()?;
        cookies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cookies)
    }

    /// Saves a PNG of the whole page at `path`, creating its directory. The
    /// window is first made as tall as the page (and stays so).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let script = "return [window.outerHeight - window.innerHeight, \
                      document.documentElement.scrollHeight]";
        let sizes = self.execute(script).await?;
        if let Some([frame, page]) = sizes
            .as_array()
            .and_then(|sizes| <&[Value; 2]>::try_from(sizes.as_slice()).ok())
            .map(|[frame, page]| [frame.as_u64(), page.as_u64()])
            && let (Some(frame), Some(page)) = (frame, page)
        {
            let rect = json!({ "height": frame + page });
            self.session_command(Method::POST, "/window/rect", Some(rect))
                .await?;
        }
        let value = self
            .session_command(Method::GET, "/screenshot", None)
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(as_string(value, "screenshot")?)
            .map_err(|err| Error::new(format!("screenshot is not base64: {err}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|err| Error::new(format!("cannot create {}: {err}", dir.display())))?;
        }
        std::fs::write(path, png)
            .map_err(|err| Error::new(format!("cannot write {}: {err}", path.display())))
    }

    /// Quits the browser, waits until it has really exited, and starts a
    /// new one on the same profile: session cookies are gone, persistent
    /// ones are still there.
    pub async fn restart(&mut self) -> Result<()> {
        self.close_browser().await?;
        self.open_browser().await
    }

    /// Quits the browser and chromedriver, and deletes the profile.
    pub async fn quit(mut self) -> Result<()> {
        self.close_browser().await
        // `Drop` stops chromedriver and removes the directory.
    }

    async fn open_browser(&mut self) -> Result<()> {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&arg| arg.to_owned()).collect();
        args.push(format!("--user-data-dir={}", self.profile().display()));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": {
                        "pageLoad": millis(WAIT),
                        "script": millis(WAIT),
                        "implicit": 0,
                    },
                    "goog:chromeOptions": {
                        "binary": self.chromium,
                        "args": args,
                    },
                }
            }
        });
        let value = self
            .command(Method::POST, "/session", Some(capabilities))
            .await
            .map_err(|err| {
                Error::new(format!(
                    "Chromium ({}) did not start: {err}",
                    self.chromium.display()
                ))
            })?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("new session without an id: {value}")))?
            .to_owned();
        self.session = Some(id);
        Ok(())
    }

    /// Ends the `WebDriver` session (chromedriver asks the browser to close,
    /// which writes its cookie jar to disk) and waits until every process
    /// using the profile is gone: only then may the next browser open it.
    async fn close_browser(&mut self) -> Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        self.command(Method::DELETE, &format!("/session/{session}"), None)
            .await?;
        // chromedriver answers as soon as the browser *starts* closing.
        let profile = self.profile();
        let deadline = Instant::now() + WAIT;
        loop {
            let running = processes_using(&profile);
            if running.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::new(format!(
                    "the browser was still running {WAIT:?} after it was told to quit \
                     (processes {running:?})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_for_driver(&mut self) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(Error::new(format!(
                    "chromedriver exited at start ({status}); its log: {}",
                    self.driver_log()
                )));
            }
            if let Ok(status) = self.command(Method::GET, "/status", None).await
                && status.get("ready").and_then(Value::as_bool) == Some(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::new(format!(
                    "chromedriver was not ready within {WAIT:?}; its log: {}",
                    self.driver_log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn driver_log(&self) -> String {
        let log = std::fs::read_to_string(self.workdir.path().join("chromedriver.log"))
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Runs `script` (a function body) in the page and returns its value.
    async fn execute(&self, script: &str) -> Result<Value> {
        let body = json!({ "script": script, "args": [] });
        self.session_command(Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// A command on the current browser session.
    async fn session_command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| Error::new("the browser is not running"))?;
        self.command(method, &format!("/session/{session}{path}"), body)
            .await
    }

    /// One `WebDriver` request: the reply's `value`, or its error as text.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let what = format!("WebDriver {method} {path}");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.endpoint));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|err| Error::new(format!("{what}: {err}")))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| Error::new(format!("{what}: {err}")))?;
        let mut reply: Value = serde_json::from_slice(&bytes).map_err(|err| {
            Error::new(format!(
                "{what}: reply is not JSON ({err}): {}",
                String::from_utf8_lossy(&bytes)
            ))
        })?;
        let value = reply.get_mut("value").map(Value::take).unwrap_or_default();
        if status.is_success() {
            return Ok(value);
        }
        let error = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let message = value.get("message").and_then(Value::as_str).unwrap_or("");
        // Chromium's messages carry a long stack trace after the first line.
        let message = message.lines().next().unwrap_or_default();
        Err(Error::new(format!("{what}: {status} {error}: {message}")))
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // A test that failed half-way never called `quit`: stop the browser
        // the hard way (chromedriver does not take it down when it dies),
        // with every helper process it started.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Then the fields drop, and `workdir` with them.
    }
}

/// Where screenshots go: `target/browser-screenshots/`, next to the build
/// output (never committed).
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("browser-screenshots");
    }
    // Tests run from target/<profile>/deps/; cargo marks the target
    // directory itself with a CACHEDIR.TAG file.
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
            Path::to_path_buf,
        )
        .join("browser-screenshots")
}

/// `$VAR` if set, else `/usr/bin/NAME`, else `NAME` on `PATH`.
fn find_binary(var: &str, name: &str) -> Result<PathBuf> {
    locate(var, std::env::var_os(var), name, std::env::var_os("PATH"))
}

fn locate(
    var: &str,
    value: Option<OsString>,
    name: &str,
    path: Option<OsString>,
) -> Result<PathBuf> {
    if let Some(value) = value {
        let file = PathBuf::from(value);
        return if file.is_file() {
            Ok(file)
        } else {
            Err(Error::new(format!(
                "{var}={} is not a file; {INSTALL_HINT}",
                file.display()
            )))
        };
    }
    let on_path = path
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    std::iter::once(Path::new("/usr/bin").join(name))
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::new(format!(
                "`{name}` not found in /usr/bin or on PATH: {INSTALL_HINT}"
            ))
        })
}

/// A port nobody is listening on right now. Another process could take it
/// before chromedriver does; that shows up as a clear start-up error.
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|err| Error::new(format!("cannot find a free loopback port: {err}")))
}

/// A new, empty directory under the system's temporary directory, removed
/// with everything in it when this is dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `browser-suite-PID-N-LABEL` in the temporary directory.
    pub fn new(label: &str) -> Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "browser-suite-{}-{}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // Left over from an earlier run that was killed: not ours any more.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|err| Error::new(format!("cannot create {}: {err}", dir.display())))?;
        Ok(Self(dir))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The live processes whose command line names `profile` as their
/// `--user-data-dir`: the browser and its helpers. Read from `/proc`, so on
/// a system without it (not Linux) this finds nothing and a restart does not
/// wait.
fn processes_using(profile: &Path) -> Vec<u32> {
    let wanted = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                cmdline
                    .split(|&byte| byte == 0)
                    .any(|arg| arg == wanted.as_bytes())
            })
        })
        .filter(|&pid| process_alive(pid))
        .collect()
}

/// Whether `pid` is still a running process (a zombie waiting for its parent
/// to collect it has exited, so it counts as gone).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn as_string(value: Value, what: &str) -> Result<String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(Error::new(format!("{what} is not a string: {other}"))),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_browser_says_what_to_install() {
        let err = locate("CHROMIUM", None, "no-such-browser", Some(OsString::new()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`no-such-browser` not found"), "{err}");
        assert!(
            err.contains("apt-get install -y chromium chromium-driver"),
            "{err}"
        );

        let err = locate("CHROMIUM", Some("/no/such/file".into()), "chromium", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("CHROMIUM=/no/such/file is not a file"),
            "{err}"
        );
    }

    #[test]
    fn processes_are_found_by_their_profile() {
        let temp = TempDir::new("ps").unwrap();
        let dir = temp.path();
        assert!(processes_using(dir).is_empty());
        if Path::new("/proc").exists() {
            // A shell waiting on its stdin, with the browser's argument.
            let mut sleeper = Command::new("sh")
                .args(["-c", "read line", "sh"])
                .arg(format!("--user-data-dir={}", dir.display()))
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            assert_eq!(processes_using(dir), [sleeper.id()]);
            sleeper.kill().unwrap();
            sleeper.wait().unwrap();
            assert!(processes_using(dir).is_empty());
        }
        let kept = dir.to_owned();
        drop(temp);
        assert!(!kept.exists(), "removed on drop");
    }

    #[test]
    fn our_own_process_is_alive_and_a_bogus_one_is_not() {
        assert!(process_alive(std::process::id()) || !Path::new("/proc").exists());
        assert!(!process_alive(u32::MAX));
    }
}
