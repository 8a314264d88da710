#!/usr/bin/env python3
"""Replays the curl commands the book shows, against the stages themselves.

Usage (from anywhere in the workspace; needs curl, sh and Python 3):
  python3 book/replay.py              every scene below
  python3 book/replay.py step03 ...   the scenes of these stages
  python3 book/replay.py --list       the scenes, and what each replays

The tests write the transcripts in src/transcripts/ (each stage's
tests/transcripts.rs); this script is the reader's side of that promise.
For each scene it builds the stage, starts it on a free port in an empty
directory, as the book starts it (`cargo run -p STAGE -- ARGS`), and runs
each command of the scene's transcripts with `sh`, in order, as typed:
curl and its cookie jar, `sleep` (really waiting), `sed`, `cp`, `rm`. A
`cargo run` line in a transcript stops the server and starts it again with
that line's arguments; `cargo run -p STAGE -- clearsessions` runs to its end.
What each command (or a started server) printed must contain the lines the
transcript shows, in order, where a word in square brackets such as
`[SESSION_ID]`, `[DATE]` or `[TIME]` stands for any value of its kind, and
the free port is shown as 8000. Transcripts that need something more (a
Redis server, sqlite3) are not replayed here; the tests check them.

Exit status: 0 if every line was found, 1 otherwise (each miss is shown).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "book" / "src" / "transcripts"

# A scene: one stage, started with these arguments in one empty directory,
# and the transcripts replayed there one after the other (a later one goes
# on with the server and the cookie jar an earlier one left). A transcript
# that starts the server itself (`$ cargo run ...`) needs no arguments here.
SCENES: list[tuple[str, list[str], list[str]]] = [
    ("step01-test-cookie", [], ["step01-curl.txt", "step01-cookieless.txt"]),
    ("step02-client-cookies", ["--visit-interval", "5s"],
     ["step02-curl.txt", "step02-later.txt", "step02-cookies-page.txt", "step02-edit.txt"]),
    ("step02-client-cookies", [], ["step02-bad-cookies.txt"]),
    # Signed cookies need a key of 64 bytes or more: a new one each run.
    ("step02-client-cookies", ["--visit-interval", "5s", "--signed-cookies"],
     ["step02-signed.txt", "step02-signed-edit.txt"]),
    ("step02-client-cookies", ["--visit-interval", "5s", "--signed-cookies"],
     ["step02-replay.txt"]),
    ("step03-server-sessions", ["--visit-interval", "10s"],
     ["step03-curl.txt", "step03-cookies-page.txt"]),
    ("step03-server-sessions", [], ["step03-restart.txt"]),
    ("step03-server-sessions", [], ["step03-restart-memory.txt"]),
    ("step03-server-sessions", ["--session-store", "memory"], ["step03-made-up-id.txt"]),
    ("step03-server-sessions", [], ["step03-secure.txt"]),
    ("step04-expiry", [], ["step04-persistent.txt"]),
    ("step04-expiry", [], ["step04-browser-length.txt"]),
    ("step04-expiry", ["--cookie-age", "120"],
     ["step04-sliding.txt", "step04-refreshed-at.txt"]),
    ("step04-expiry", [], ["step04-clearsessions.txt"]),
]

# Transcripts with a curl command that no scene replays, and why. Any other
# transcript with one must be in a scene: the script refuses to forget one.
NOT_REPLAYED = {
    "step03-redis.txt": "two servers on one Redis: the Redis suite runs it (.ci/run)",
}

# What a word in square brackets stands for (as rango_site::testing::transcript
# masks it).
MASKS = {
    "[SESSION_ID]": r"[A-Za-z0-9_-]{22}",
    "[SIGNATURE]": r"(?:[A-Za-z0-9+/]|%2B|%2F){43}(?:=|%3D)",
    "[TIME]": r"\d{4}-\d\d-\d\d(?:T| )\d\d(?::|%3A)\d\d(?::|%3A)\d\d(?:\.\d+)?(?:Z|\+00:00| UTC)?",
    "[SHORT_ID]": r"[A-Za-z0-9_-]{6}",
    "[MS]": r"\d+",
    "[DATE]": r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
}

# The commands replayed as typed; anything else fails the scene.
SHELL_COMMANDS = ("curl ", "for ", "sleep ", "sed ", "cp ", "rm ")


def pattern(line: str) -> re.Pattern[str]:
    """A transcript's line as a regular expression for a whole line."""
    parts = re.split(r"(\[[A-Z_]+\])", line)
    return re.compile("".join(MASKS.get(part, re.escape(part)) for part in parts) + r"\Z")


SET_COOKIE = "set-cookie: "


def groups(expected: list[str]) -> list[list[str]]:
    """The expected lines, one to a group, except adjacent `set-cookie` lines, one group.

    A server may send its Set-Cookie headers in any order (stage 2's does:
    axum-extra's jar keeps them in a hash set), so those of one response
    may be found in any order, next to each other.
    """
    result: list[list[str]] = []
    for line in expected:
        if line.startswith(SET_COOKIE) and result and result[-1][0].startswith(SET_COOKIE):
            result[-1].append(line)
        else:
            result.append([line])
    return result


def matches_in_some_order(wanted: list[re.Pattern[str]], lines: list[str]) -> bool:
    if not wanted:
        return True
    return any(want.match(lines[0]) and matches_in_some_order(wanted[:i] + wanted[i + 1:], lines[1:])
               for i, want in enumerate(wanted))


def find_in_order(expected: list[str], printed: list[str]) -> str | None:
    """None if every expected line is a line of `printed`, in order; else the first missing."""
    at = 0
    for group in groups(expected):
        wanted = [pattern(line) for line in group]
        while at < len(printed) and not matches_in_some_order(wanted, printed[at:at + len(group)]):
            at += 1
        if at == len(printed):
            return group[0]
        at += len(group)
    return None


def steps(name: str) -> list[tuple[str, list[str]]]:
    """The commands of a transcript, each with the lines shown after it."""
    result: list[tuple[str, list[str]]] = []
    for line in (TRANSCRIPTS / name).read_text().splitlines():
        if line.startswith("$ "):
            result.append((line[2:], []))
        elif result:
            result[-1][1].append(line)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    """The environment without the settings a developer's shell may hold, as the tests run.

    Only a signing key is added, made afresh (stage 2's `--signed-cookies`
    needs one; `openssl rand -base64 48`, as the README has it).
    """
    env = {k: v for k, v in os.environ.items()
           if k != "RUST_LOG" and not k.startswith(("RANGO_", "SESSION_"))}
    env["RANGO_SECRET_KEY"] = KEY
    return env


KEY = base64.b64encode(os.urandom(48)).decode()


def build(package: str) -> str:
    """Builds the stage's binary (quietly) and gives its path."""
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", package, "--bin", package, "--message-format=json",
         "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        message = json.loads(line)
        if message.get("executable"):
            return message["executable"]
    raise SystemExit(f"replay: cargo built no binary for {package}")


class Server:
    """A stage on a free port, its stdout and stderr read as one stream, as its terminal shows them."""

    def __init__(self, binary: str, args: list[str], cwd: Path) -> None:
        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [binary, "--addr", f"127.0.0.1:{self.port}", *args], cwd=cwd, env=clean_env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not any(line.startswith("Listening on ") for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"replay: {binary} did not start:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def printed(self) -> list[str]:
        return [shown(line, self.port) for line in self.lines]

    def stop(self) -> None:
        """Ctrl-C, and a clean exit."""
        self.process.send_signal(signal.SIGINT)
        if self.process.wait(timeout=15) != 0:
            raise SystemExit(f"replay: the server exited with {self.process.returncode}")


def shown(text: str, port: int) -> str:
    """What was printed, with the free port shown as the book shows it."""
    return text.replace(f"127.0.0.1:{port}", "127.0.0.1:8000").replace("\r", "")


def replay(package: str, args: list[str], names: list[str]) -> list[str]:
    """Replays one scene; gives what went wrong."""
    binary = build(package)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rango-replay-") as tmp:
        cwd = Path(tmp)
        server = Server(binary, args, cwd) if args or not starts_a_server(names[0]) else None
        for name in names:
            for command, expected in steps(name):
                words = shlex.split(command)
                if words[:2] == ["cargo", "run"]:
                    arguments = words[words.index("--") + 1:] if "--" in words else []
                    if arguments[:1] == ["clearsessions"]:
                        done = subprocess.run([binary, *arguments], cwd=cwd, env=clean_env(),
                                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                              text=True)
                        printed = done.stdout.replace("\r", "").splitlines()
                    else:
                        if server:
                            server.stop()
                        server = Server(binary, arguments, cwd)
                        printed = wait_for(server, expected)
                elif command.startswith(SHELL_COMMANDS):
                    if server is None:
                        raise SystemExit(f"replay: {name}: no server is running for `{command}`")
                    typed = command.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
                    done = subprocess.run(["sh", "-c", typed], cwd=cwd, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True)
                    printed = shown(done.stdout, server.port).splitlines()
                else:
                    raise SystemExit(f"replay: {name}: `{command}` is not a command this script runs")
                missing = find_in_order(expected, printed)
                status = "ok" if missing is None else "MISSING"
                print(f"  {status:7} $ {command}")
                if missing is not None:
                    failures.append(f"{name}: `{command}` printed no line like\n    {missing}\n"
                                    "  it printed:\n" + "\n".join(f"    {line}" for line in printed))
        if server:
            server.stop()
    return failures


def starts_a_server(name: str) -> bool:
    first = steps(name)[0][0]
    return first.startswith("cargo run") and " clearsessions" not in first


def wait_for(server: Server, expected: list[str]) -> list[str]:
    """What the server has printed once the lines expected of it are there (or two seconds on)."""
    deadline = time.monotonic() + 2
    while find_in_order(expected, server.printed()) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.printed()


def main() -> int:
    wanted = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    scenes = [s for s in SCENES if not wanted or any(s[0].startswith(w) for w in wanted)]
    if "--list" in sys.argv:
        for package, args, names in scenes:
            print(f"{package} {' '.join(args)}: {', '.join(names)}")
        return 0
    if subprocess.run(["curl", "--version"], capture_output=True).returncode != 0:
        print("replay: curl is not installed", file=sys.stderr)
        return 1
    replayed = {name for _, _, names in SCENES for name in names}
    forgotten = sorted(
        path.name for path in TRANSCRIPTS.glob("*.txt")
        if path.name not in replayed and path.name not in NOT_REPLAYED
        and any(command.startswith("curl ") or " curl " in command
                for command, _ in steps(path.name)))
    failures: list[str] = [f"{name} shows curl, but no scene replays it (add it to SCENES)"
                           for name in forgotten]
    for package, args, names in scenes:
        print(f"{package} {' '.join(args)}".rstrip() + f": {', '.join(names)}")
        failures += replay(package, args, names)
    for failure in failures:
        print(f"\nreplay: {failure}", file=sys.stderr)
    print(f"\nreplay: {len(scenes)} scenes, "
          + ("every shown line found" if not failures else f"{len(failures)} commands differ"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
