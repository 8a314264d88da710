#!/usr/bin/env python3
"""Check the book after `mdbook build book`. Python 3 standard library only.

Usage (from the workspace root):  book/editions build && python3 book/check.py
(or `mdbook build book` for the English edition alone; the Russian one, in
book/build/ru/, is checked whenever it was built).

Checks:
1. Every {{#include ...}} / {{#rustdoc_include ...}} in book/src names a file
   that exists and, if it names an anchor, that file has both
   `ANCHOR: name` and a later `ANCHOR_END: name`. (mdBook itself only warns
   about a missing file, and silently includes nothing for a missing anchor.)
2. The built HTML under book/build (both editions) contains no unresolved
   `{{#`.
3. Every internal link (an href to a relative .html or .md page, or a bare
   #fragment) points to a page that exists, and its #fragment to an id in it.
4. Shown output is never typed in by hand: a ```console or ```text block
   holds only commands (`$ ...`) or includes of transcripts/, the files the
   tests write from real runs (rango_site::testing::transcript).
5. No word limits are checked here; `book/words.py` counts them.

Exits 0 when all is well; otherwise prints every problem and exits 1.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

BOOK = Path(__file__).resolve().parent
SRC = BOOK / "src"
BUILD = BOOK / "build"

# The same patterns mdBook 0.5 uses (mdbook-driver, links.rs and take_lines.rs).
LINK = re.compile(
    r"\\\{\{\#.*\}\}"  # an escaped link: shown as text, not processed
    r"|\{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}"
)
ANCHOR_START = re.compile(r"ANCHOR:\s*([\w_-]+)")
ANCHOR_END = re.compile(r"ANCHOR_END:\s*([\w_-]+)")
INCLUDE_KINDS = {"include", "rustdoc_include"}


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(BOOK.parent))
    except ValueError:
        return str(path)


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def anchor_problem(target: Path, anchor: str) -> str | None:
    """Why `anchor` cannot be taken from `target`, or None if it can."""
    started = False
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        if not started:
            start = ANCHOR_START.search(line)
            if start and start.group(1) == anchor:
                started = True
        else:
            end = ANCHOR_END.search(line)
            if end and end.group(1) == anchor:
                return None
    if started:
        return f"has `ANCHOR: {anchor}` but no `ANCHOR_END: {anchor}` after it"
    return f"has no `ANCHOR: {anchor}`"


def check_includes(md: Path, problems: list[str], depth: int = 0) -> None:
    text = md.read_text(encoding="utf-8")
    for match in LINK.finditer(text):
        kind, rest = match.group(1), match.group(2)
        if kind not in INCLUDE_KINDS:
            continue  # escaped links, {{#title}}, {{#playground}}
        where = f"{rel(md)}:{line_of(text, match.start())}"
        spec = rest.split()[0]
        file_part, _, selector = spec.partition(":")
        target = (md.parent / file_part).resolve()
        if not target.is_file():
            problems.append(f"{where}: {{{{#{kind} {spec}}}}}: no such file {rel(target)}")
            continue
        first = selector.split(":")[0]
        if first and not first.isdigit():  # a name, not a line range: an anchor
            why = anchor_problem(target, first)
            if why:
                problems.append(f"{where}: {{{{#{kind} {spec}}}}}: {rel(target)} {why}")
        if target.suffix == ".md" and depth < 10:  # mdBook expands includes in includes
            check_includes(target, problems, depth + 1)


FENCE = re.compile(r"^(\s*)```(\w*)")


def check_shown_output(md: Path, problems: list[str]) -> None:
    """Console and text blocks: commands, or transcripts, nothing typed."""
    lines = md.read_text(encoding="utf-8").splitlines()
    language = None
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(2)
            continue
        if language not in ("console", "text") or not line.strip():
            continue
        if line.startswith("$ ") or re.fullmatch(r"\{\{#include transcripts/[\w.-]+\}\}", line.strip()):
            continue
        problems.append(
            f"{rel(md)}:{number}: output typed into a ```{language} block: "
            f"include it from transcripts/ instead ({line.strip()[:60]!r})"
        )


class PageParser(HTMLParser):
    """Collects the ids defined in a page and the hrefs of its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if tag == "a" and name == "href":
                self.hrefs.append((self.getpos()[0], value))


def check_html(problems: list[str]) -> None:
    pages = sorted(BUILD.rglob("*.html"))
    parsed: dict[Path, PageParser] = {}
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if "{{#" in line:
                snippet = line.strip()[:100]
                problems.append(f"{rel(page)}:{number}: unresolved `{{{{#`: {snippet}")
        parser = PageParser()
        parser.feed(text)
        parsed[page.resolve()] = parser

    for page in pages:
        for number, href in parsed[page.resolve()].hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("//"):
                continue  # external
            path = unquote(parts.path)
            if path and not path.endswith((".html", ".md")):
                continue  # a folder, an image, a source file: not a page link
            where = f"{rel(page)}:{number}: link {href!r}"
            target = (page.parent / path).resolve() if path else page.resolve()
            if path.endswith(".md"):
                problems.append(f"{where}: still points to a .md file (not a chapter in SUMMARY.md?)")
                continue
            if target not in parsed:
                problems.append(f"{where}: no page {rel(target)}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and fragment not in parsed[target].ids:
                problems.append(f"{where}: {rel(target)} has no id {fragment!r}")


def main() -> int:
    problems: list[str] = []
    for md in sorted(SRC.rglob("*.md")):
        check_includes(md, problems)
        check_shown_output(md, problems)
    if not (BUILD / "index.html").is_file():
        problems.append(f"{rel(BUILD)}/index.html missing: run `mdbook build book` first")
    else:
        check_html(problems)

    if problems:
        print(f"book check: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("book check: includes, built HTML and internal links are all fine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
