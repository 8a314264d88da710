//! A small harness for checking the Rango stages in a real browser.
//!
//! The stages' own tests talk to the app with reqwest. This crate asks the
//! question the chapter really cares about: what does *a browser* do with the
//! cookies? It serves a stage's router in-process ([`Server`], from
//! `rango_site::testing`) and drives a
//! headless Chromium through `chromedriver` ([`Chrome`]) with the
//! [`fantoccini`] `WebDriver` client: open pages, read them, read the
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
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
pub use rango_site::testing::Server;
use serde_json::{Value, json};
pub use tempfile::TempDir;

/// The longest any single wait may take: a page load, chromedriver coming
/// up, the browser going down. Tests stay fast when things work and fail
/// with a message, rather than hang, when they do not.
pub const WAIT: Duration = Duration::from_secs(15);

/// What to tell someone whose machine lacks the browser.
pub const INSTALL_HINT: &str = "install Chromium and its WebDriver \
    (Debian/Ubuntu: `apt-get install -y chromium chromium-driver`), or set \
    CHROMIUM and CHROMEDRIVER to the binaries' paths";

/// Chromium's command line: headless, quiet, no network of its own. The
/// profile directory (one per [`Chrome`], so tests never share cookies) is
/// added to these.
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

impl From<CmdError> for Error {
    fn from(err: CmdError) -> Self {
        // Chromium's messages carry a long stack trace after the first line.
        Self(first_line(&err))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Self(err.to_string())
    }
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn fail<T>(message: String) -> Result<T> {
    Err(Error(message))
}

fn first_line(err: &impl fmt::Display) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// One cookie as the browser holds it.
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

impl From<fantoccini::cookies::Cookie<'_>> for Cookie {
    fn from(cookie: fantoccini::cookies::Cookie<'_>) -> Self {
        Self {
            name: cookie.name().to_owned(),
            value: cookie.value().to_owned(),
            path: cookie.path().unwrap_or_default().to_owned(),
            http_only: cookie.http_only().unwrap_or(false),
            secure: cookie.secure().unwrap_or(false),
            same_site: cookie.same_site().map(|same_site| same_site.to_string()),
            expiry: cookie
                .expires_datetime()
                .and_then(|time| u64::try_from(time.unix_timestamp()).ok()),
        }
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
    /// The `WebDriver` session of the running browser.
    client: Client,
    chromium: PathBuf,
    endpoint: String,
    /// Declared before `workdir`: the browser is stopped before its
    /// profile is deleted.
    _driver: Driver,
    /// Holds `profile/` and `chromedriver.log`.
    workdir: TempDir,
}

/// chromedriver, killed when dropped together with every process of its
/// group: chromedriver does not take the browser down when it dies, and a
/// test that failed half-way never called [`Chrome::quit`].
#[derive(Debug)]
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Chrome {
    /// Starts chromedriver and a browser on a fresh, empty profile.
    pub async fn launch() -> Result<Self> {
        let chromium = find_binary("CHROMIUM", "chromium")?;
        let chromedriver = find_binary("CHROMEDRIVER", "chromedriver")?;
        let workdir = tempfile::Builder::new()
            .prefix("browser-suite-chrome-")
            .tempdir()?;
        std::fs::create_dir(workdir.path().join("profile"))?;

        let log = workdir.path().join("chromedriver.log");
        let (driver, port) = start_driver(&chromedriver, &log).await?;
        let endpoint = format!("http://127.0.0.1:{port}");
        Ok(Self {
            client: open_browser(&endpoint, &chromium, &workdir.path().join("profile")).await?,
            chromium,
            endpoint,
            _driver: driver,
            workdir,
        })
    }

    /// The profile directory (Chromium's `--user-data-dir`).
    pub fn profile(&self) -> PathBuf {
        self.workdir.path().join("profile")
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        self.check_not_an_error_page().await
    }

    /// Reloads the current page, as the reload button does.
    pub async fn refresh(&self) -> Result<()> {
        self.client.refresh().await?;
        self.check_not_an_error_page().await
    }

    /// Clicks the first element matching the CSS `selector` (a form's
    /// button, say) and waits for the page it leads to.
    pub async fn click(&self, selector: &str) -> Result<()> {
        let old_page = self.client.find(Locator::Css("html")).await?;
        self.client
            .find(Locator::Css(selector))
            .await?
            .click()
            .await?;
        // chromedriver may answer the click while the form's request is
        // still in flight, so the next read could find an element on the
        // old page and then lose it to the new one ("stale element
        // reference"). Wait until the old page is gone: its root element
        // goes stale. By hand, because fantoccini's `Wait` waits for an
        // element or a URL to appear, and a form here may lead back to the
        // same URL.
        let deadline = Instant::now() + WAIT;
        loop {
            match old_page.tag_name().await {
                Err(error) if error.is_stale_element_reference() => break,
                Err(error) => return Err(error.into()),
                Ok(_) if Instant::now() > deadline => {
                    return fail(format!(
                        "clicking `{selector}` did not lead to a new page within {WAIT:?}"
                    ));
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        self.check_not_an_error_page().await
    }

    /// The address of the current page, as `WebDriver` reports it.
    pub async fn current_url(&self) -> Result<String> {
        Ok(self.client.current_url().await?.into())
    }

    /// When a server cannot be reached, or answers an error with an empty
    /// body, Chromium shows a page of its own from `chrome-error://`, and
    /// everything read afterwards (text, cookies) is about that page.
    /// `WebDriver` still reports the address asked for; the document knows
    /// better. Fail right here instead, with the reason.
    async fn check_not_an_error_page(&self) -> Result<()> {
        let href = self
            .client
            .execute("return document.location.href", Vec::new())
            .await?;
        if !href
            .as_str()
            .is_some_and(|href| href.starts_with("chrome-error:"))
        {
            return Ok(());
        }
        let text = self.text("body").await.unwrap_or_default();
        let reason = text.split_whitespace().collect::<Vec<_>>().join(" ");
        fail(format!(
            "the browser shows its own error page instead of the site: {reason}"
        ))
    }

    /// Runs `script` (the body of a function) in the current page and gives
    /// back what it returns.
    pub async fn script(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// The current page's HTML, as the browser now has it.
    pub async fn source(&self) -> Result<String> {
        Ok(self.client.source().await?)
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
        Ok(self
            .client
            .find(Locator::Css(selector))
            .await?
            .text()
            .await?)
    }

    /// Every cookie the browser would send to the current page, sorted by
    /// name, `HttpOnly` ones included (page scripts cannot see those;
    /// `WebDriver` can).
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        let mut cookies: Vec<Cookie> = (self.client.get_all_cookies().await?)
            .into_iter()
            .map(Cookie::from)
            .collect();
        cookies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cookies)
    }

    /// The browser's one cookie, which must be `sessionid`: from stage 3 on,
    /// the session id is all a browser holds.
    pub async fn session_cookie(&self) -> Result<Cookie> {
        let mut cookies = self.cookies().await?;
        assert_eq!(cookies.len(), 1, "only the session id: {cookies:?}");
        let cookie = cookies.remove(0);
        assert_eq!(cookie.name, "sessionid");
        Ok(cookie)
    }

    /// Saves a PNG of the whole page at `path`, creating its directory. The
    /// window is first made as tall as the page (and stays so).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let script = "return [window.outerWidth, window.outerHeight - window.innerHeight \
                      + document.documentElement.scrollHeight]";
        let size = self.client.execute(script, Vec::new()).await?;
        if let Ok([width, height]) = serde_json::from_value::<[u32; 2]>(size) {
            self.client.set_window_size(width, height).await?;
        }
        let png = self.client.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|err| Error(format!("cannot create {}: {err}", dir.display())))?;
        }
        std::fs::write(path, png)
            .map_err(|err| Error(format!("cannot write {}: {err}", path.display())))
    }

    /// Quits the browser, waits until it has really exited, and starts a
    /// new one on the same profile: session cookies are gone, persistent
    /// ones are still there.
    pub async fn restart(&mut self) -> Result<()> {
        self.close_browser().await?;
        self.client = open_browser(&self.endpoint, &self.chromium, &self.profile()).await?;
        Ok(())
    }

    /// Quits the browser and chromedriver, and deletes the profile.
    pub async fn quit(self) -> Result<()> {
        self.close_browser().await
        // Dropping `_driver` and `workdir` stops chromedriver and removes
        // the profile.
    }

    /// Ends the `WebDriver` session (chromedriver asks the browser to close,
    /// which writes its cookie jar to disk) and waits until every process
    /// using the profile is gone: only then may the next browser open it.
    async fn close_browser(&self) -> Result<()> {
        self.client.clone().close().await?;
        // chromedriver answers as soon as the browser *starts* closing.
        let profile = self.profile();
        let deadline = Instant::now() + WAIT;
        loop {
            let running = processes_using(&profile);
            if running.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "the browser was still running {WAIT:?} after it was told to quit \
                     (processes {running:?})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Starts chromedriver on a loopback port it picks itself, and says which.
///
/// It picks a free IPv4 port, then needs the same port on IPv6 as well and
/// exits ("IPv6 port not available") when that one is taken; it is then
/// started again. (Picking a port here and passing it in is worse: the
/// chromedriver of a test running alongside can take it, and then answers
/// for both until it quits.)
async fn start_driver(chromedriver: &Path, log: &Path) -> Result<(Driver, u16)> {
    const ATTEMPTS: u32 = 3;
    for _ in 0..ATTEMPTS {
        let mut command = Command::new(chromedriver);
        // Its own process group, which the browser it starts joins: `Drop`
        // can then stop every process of this test, and only those.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut driver = command
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map(Driver)
            .map_err(|err| Error(format!("cannot start {}: {err}", chromedriver.display())))?;

        // Ready once it prints `ChromeDriver was started successfully on
        // port N.` on stdout.
        let stdout = driver.0.stdout.take().expect("stdout is piped");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
                let rest = line.split("started successfully on port ").nth(1)?;
                rest.trim_end_matches('.').parse::<u16>().ok()
            });
            let _ = port_tx.send(port);
            // Keep reading, so a later line never meets a closed pipe.
            lines.for_each(drop);
        });
        match tokio::time::timeout(WAIT, port_rx).await {
            Ok(Ok(Some(port))) => return Ok((driver, port)),
            // It stopped without a port: drop it (and its group) and retry.
            Ok(_) => {}
            Err(_) => {
                let log = log_tail(log);
                return fail(format!("chromedriver not ready in {WAIT:?}: {log}"));
            }
        }
    }
    let log = log_tail(log);
    fail(format!(
        "chromedriver exited at start, {ATTEMPTS} times: {log}"
    ))
}

/// Asks chromedriver for a new browser on `profile`.
async fn open_browser(endpoint: &str, chromium: &Path, profile: &Path) -> Result<Client> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&arg| arg.to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let wait = u64::try_from(WAIT.as_millis()).unwrap_or(u64::MAX);
    let Value::Object(capabilities) = json!({
        "browserName": "chrome",
        "timeouts": { "pageLoad": wait, "script": wait, "implicit": 0 },
        "goog:chromeOptions": { "binary": chromium, "args": args },
    }) else {
        unreachable!("a JSON object literal")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(endpoint)
        .await
        .map_err(|err| {
            let err = first_line(&err);
            Error(format!(
                "Chromium ({}) did not start: {err}",
                chromium.display()
            ))
        })
}

/// The last lines of chromedriver's log, for an error message.
fn log_tail(log: &Path) -> String {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
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
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
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
        if file.is_file() {
            return Ok(file);
        }
        return fail(format!(
            "{var}={} is not a file; {INSTALL_HINT}",
            file.display()
        ));
    }
    let on_path: Vec<PathBuf> = path
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect()
        })
        .unwrap_or_default();
    std::iter::once(Path::new("/usr/bin").join(name))
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error(format!(
                "`{name}` not found in /usr/bin or on PATH: {INSTALL_HINT}"
            ))
        })
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
    // The state is the first field after the parenthesised command name.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
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

    /// A stand-in for chromedriver: a script that prints what chromedriver
    /// prints when it cannot have its port on IPv6 the first `failures`
    /// times it runs, and then starts on port 4444.
    #[cfg(unix)]
    fn fake_chromedriver(dir: &Path, failures: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("chromedriver");
        let runs = dir.join("runs");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 echo run >> '{runs}'\n\
                 if [ \"$(wc -l < '{runs}')\" -le {failures} ]; then\n\
                 echo 'IPv6 port not available. Exiting...'; exit 1\n\
                 fi\n\
                 echo 'ChromeDriver was started successfully on port 4444.'\n\
                 exec sleep 60\n",
                runs = runs.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn chromedriver_is_started_again_when_its_port_was_taken() {
        let temp = TempDir::new().unwrap();
        let driver = fake_chromedriver(temp.path(), 2);
        let (_driver, port) = start_driver(&driver, &temp.path().join("log"))
            .await
            .unwrap();
        assert_eq!(port, 4444);

        let temp = TempDir::new().unwrap();
        let driver = fake_chromedriver(temp.path(), 3);
        let err = start_driver(&driver, &temp.path().join("log"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("exited at start, 3 times"),
            "{err}"
        );
    }

    #[test]
    fn processes_are_found_by_their_profile() {
        let temp = TempDir::new().unwrap();
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
            // `spawn` returns once the kernel has swapped in the new program,
            // a moment before it has laid out the arguments that
            // `/proc/PID/cmdline` reads: until then the line is empty.
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut found = processes_using(dir);
            while found.is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
                found = processes_using(dir);
            }
            assert_eq!(found, [sleeper.id()]);
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
