//! What the book and the README show of a run (commands, their output,
//! response headers), checked against a run the tests make, so that a
//! changed flag or message fails `cargo test` until the book follows.
//!
//! Each transcript is a file in `book/src/transcripts/`, which the book
//! includes. A test builds the same text from a real run and compares:
//! on a difference it fails and shows it; `SNAPSHOTS=overwrite cargo test`
//! writes the new text instead (then read the page that includes it). What
//! changes from run to run is masked: `[SESSION_ID]`, `[SIGNATURE]`,
//! `[SHORT_ID]`, `[TIME]`, `[DATE]`, `[MS]`. The tests run servers on free
//! ports; a transcript shows the default one, 8000.
//!
//! A command shown as `curl` is run as shown, with curl, by
//! [`Transcript::shell`]: its output is what curl printed, headers in the
//! order the server sent them. A machine with only Rust may have no curl:
//! then such a test says so and is skipped ([`curl_is_installed`]), unless
//! `RANGO_REQUIRE_CURL=1` (`.ci/run` sets it) makes that a failure. A
//! `cargo run` shows what the program printed on stdout and stderr
//! together, as its terminal shows them ([`Transcript::cargo_run`],
//! [`crate::testing::Running::start_terminal`]). `sqlite3` is not run (a
//! machine with only Rust may lack it): the test makes the same query, and
//! prints it as `sqlite3` does. The Redis suite runs `redis-cli`, which
//! comes with the `redis-server` it needs anyway.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use snapbox::{Assert, Data, Redactions};

/// A transcript being written: commands and what they printed.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Each command, and each output: `(is_command, text)`.
    parts: Vec<(bool, String)>,
    /// What the run printed that the book shows otherwise (a free port as
    /// the default one, say): `(printed, shown)`.
    shown_as: Vec<(String, String)>,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows the server that ran on `port` as the default one, 8000. (A
    /// line that [`Transcript::shell`] runs goes to 127.0.0.1, as shown:
    /// the latest pair is put back first.)
    pub fn on_port(&mut self, port: u16) -> &mut Self {
        for host in ["localhost", "127.0.0.1"] {
            self.shown_as(&format!("{host}:{port}"), "127.0.0.1:8000");
        }
        self
    }

    /// Shows `printed` as `shown`.
    pub fn shown_as(&mut self, printed: &str, shown: &str) -> &mut Self {
        self.shown_as.push((printed.to_owned(), shown.to_owned()));
        self
    }

    /// `$ line`, as typed at the prompt.
    pub fn command(&mut self, line: &str) -> &mut Self {
        self.parts.push((true, format!("$ {line}\n")));
        self
    }

    /// What the last command printed (a final newline is added if missing).
    pub fn output(&mut self, text: &str) -> &mut Self {
        let mut text = text.to_owned();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        self.parts.push((false, text));
        self
    }

    /// Runs the binary `bin` of `package` with `args` in `dir` to its end,
    /// shows it as `cargo run -p PACKAGE -- ARGS` with what it printed on
    /// stdout and stderr, in one stream as the terminal shows them (Cargo's
    /// own lines aside), and says whether it succeeded.
    pub fn cargo_run(&mut self, bin: &str, package: &str, args: &[&str], dir: &Path) -> bool {
        let mut command = super::command(bin);
        command.args(args).current_dir(dir);
        let (success, printed) = run_as_terminal(command);
        let mut line = format!("cargo run -p {package}");
        if !args.is_empty() {
            line = format!("{line} -- {}", args.join(" "));
        }
        self.command(&line).output(&printed);
        success
    }

    /// Runs `line` as typed at the prompt (with `sh -c`, in `dir`), shows
    /// it and what it printed, and gives that output. What the transcript
    /// shows in place of something else (the default port, 8000, for the
    /// port a test server really has: [`Transcript::on_port`]) is put back
    /// before the line runs, the latest first (a server started again has
    /// a new port), so call `on_port` first. The line must succeed. A line
    /// that runs curl needs [`curl_is_installed`] first.
    pub async fn shell(&mut self, line: &str, dir: &Path) -> String {
        self.shell_after("", line, dir).await
    }

    /// [`Transcript::shell`], with `prelude` run first in the same shell,
    /// and not shown: a shell function that points a tool at the test's
    /// server, say.
    pub async fn shell_after(&mut self, prelude: &str, line: &str, dir: &Path) -> String {
        let mut typed = line.to_owned();
        let mut done = Vec::new();
        for (printed, shown) in self.shown_as.iter().rev() {
            if !done.contains(shown) {
                typed = typed.replace(shown, printed);
                done.push(shown.clone());
            }
        }
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{prelude}\n{typed}"))
            .current_dir(dir);
        // Blocking on its own thread, so that a server in this test's
        // runtime goes on answering.
        let (success, printed) = tokio::task::spawn_blocking(move || run_as_terminal(command))
            .await
            .unwrap();
        assert!(success, "`{typed}` failed:\n{printed}");
        self.command(line).output(&printed);
        printed
    }

    /// Fails unless the text, shown as asked and with what changes from run
    /// to run masked in the outputs, is `book/src/transcripts/{name}`.
    #[track_caller]
    pub fn check(&self, name: &str) {
        // Masked here, not matched: the file then holds the masks, and a
        // rewrite writes them again. Commands are shown as typed.
        let redactions = redactions();
        let text: String = self
            .parts
            .iter()
            .map(|(is_command, text)| {
                let mut text = text.clone();
                for (printed, shown) in &self.shown_as {
                    text = text.replace(printed, shown);
                }
                if *is_command {
                    text
                } else {
                    redactions.redact(&text)
                }
            })
            .collect();
        // A server may send its `Set-Cookie` headers in any order (stage
        // 2's, from axum-extra's jar, changes it from one response to the
        // next): a run that differs from the file only in that order shows
        // what the file shows. Any other difference shows the real order.
        let shown = std::fs::read_to_string(path(name)).unwrap_or_default();
        let text = if in_any_order(&text, SET_COOKIE) == in_any_order(&shown, SET_COOKIE) {
            shown
        } else {
            text
        };
        Assert::new()
            .action_env("SNAPSHOTS")
            .eq(text, Data::read_from(&path(name), None).raw());
    }
}

/// How curl prints a `Set-Cookie` header (hyper sends names in lower case).
const SET_COOKIE: &str = "set-cookie: ";

/// `text` with each run of adjacent lines that start with `prefix` sorted:
/// the same for two texts that differ only in the order of those lines.
fn in_any_order(text: &str, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n').chain([""]) {
        if line.starts_with(prefix) {
            run.push(line);
            continue;
        }
        run.sort_unstable();
        lines.extend(run.drain(..).map(str::to_owned));
        lines.push(line.to_owned());
    }
    lines
}

/// Fails unless `cargo run -p {package} -- --help`, run as the binary
/// `bin` with no setting from the environment, prints what
/// `book/src/transcripts/{name}` shows.
#[track_caller]
pub fn check_help(bin: &str, package: &str, name: &str) {
    let output = super::command(bin).arg("--help").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    Transcript::new()
        .command(&format!("cargo run -p {package} -- --help"))
        .output(&String::from_utf8(output.stdout).unwrap())
        .check(name);
}

/// Runs `command` to its end, with stdout and stderr in one stream as a
/// terminal shows them: whether it succeeded, and what it printed (line
/// ends as `\n`: curl prints a header's line end as `\r\n`).
fn run_as_terminal(mut command: Command) -> (bool, String) {
    let (mut reader, writer) = std::io::pipe().unwrap();
    command
        .stdin(Stdio::null())
        .stderr(writer.try_clone().unwrap())
        .stdout(writer);
    let mut child = command.spawn().unwrap();
    // The command holds the pipe's writing end: dropped, the pipe ends when
    // the child exits.
    drop(command);
    let mut printed = Vec::new();
    reader.read_to_end(&mut printed).unwrap();
    let status = child.wait().unwrap();
    let printed = String::from_utf8_lossy(&printed).replace("\r\n", "\n");
    (status.success(), printed)
}

/// Whether curl is installed, for a test that runs a shown curl command. If
/// not, it says so on stderr and the test should return (skipped): the
/// workspace's tests pass with only Rust. With `RANGO_REQUIRE_CURL=1`
/// (`.ci/run` sets it, and installs curl) a missing curl fails the test.
#[track_caller]
pub fn curl_is_installed() -> bool {
    let installed = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        assert!(
            std::env::var_os("RANGO_REQUIRE_CURL").is_none_or(|value| value != "1"),
            "curl is not installed, and RANGO_REQUIRE_CURL=1 requires it"
        );
        // Written to stderr itself, not with `eprintln!`, which the test
        // harness captures: a skip is said even when the test passes.
        writeln!(
            std::io::stderr(),
            "{}: skipped, curl is not installed, so the curl commands the book shows were not \
             run (install curl to check them; RANGO_REQUIRE_CURL=1 makes this a failure)",
            std::thread::current().name().unwrap_or("a transcript test")
        )
        .ok();
    }
    installed
}

/// The file a transcript lives in.
fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../book/src/transcripts")
        .join(name)
}

/// What changes from one run to the next, and what stands for it.
fn redactions() -> Redactions {
    let pattern = |text: &str| regex::Regex::new(text).unwrap();
    let mut redactions = Redactions::new();
    redactions
        .extend([
            // A session id: 22 characters of URL-safe base64.
            ("[SESSION_ID]", pattern(r"sessionid=(?<redacted>[A-Za-z0-9_-]{22})\b")),
            // A cookie's signature: 32 bytes of base64, percent-encoded.
            (
                "[SIGNATURE]",
                pattern(r"=(?<redacted>(?:[A-Za-z0-9+/]|%2B|%2F){43}(?:=|%3D))"),
            ),
            // An RFC 3339 time, as a cookie or a log line holds it (`:`
            // maybe as `%3A`), or as a person reads it.
            (
                "[TIME]",
                pattern(
                    r"\d{4}-\d\d-\d\d(?:T| )\d\d(?::|%3A)\d\d(?::|%3A)\d\d(?:\.\d+)?(?:Z|\+00:00| UTC)?",
                ),
            ),
            // The start of a session id, as the cookie page shows it.
            ("[SHORT_ID]", pattern(r"<code>(?<redacted>[A-Za-z0-9_-]{6})…</code>")),
            // How long a request took, in a log line.
            ("[MS]", pattern(r"latency=(?<redacted>\d+) ms")),
            // An HTTP date.
            (
                "[DATE]",
                pattern(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"),
            ),
        ])
        .unwrap();
    redactions
}

/// The lines of `text` that contain `pattern`, as `grep PATTERN` prints them.
pub fn grep(text: &str, pattern: &str) -> String {
    grep_any(text, &[pattern])
}

/// The lines of `text` that contain any of `patterns`, as `grep -E "A|B"`
/// prints them.
pub fn grep_any(text: &str, patterns: &[&str]) -> String {
    let mut found = String::new();
    for line in text.lines() {
        if patterns.iter().any(|pattern| line.contains(pattern)) {
            found.push_str(line);
            found.push('\n');
        }
    }
    found
}

/// The port of a `http://HOST:PORT/...` URL.
pub fn port(url: &str) -> u16 {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap_or_default();
    host_port.rsplit_once(':').unwrap().1.parse().unwrap()
}
