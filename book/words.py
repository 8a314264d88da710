#!/usr/bin/env python3
"""Prose words per book page, the measure of the stage pages' size (about
2,000 each at most): fenced code blocks, {{#include}} lines, HTML tags,
table rules and headings' {#id}s are left out; everything else is split on
white space.

Usage (from the workspace root):  python3 book/words.py [GIT-REVISION]
"""

import re
import subprocess
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent


def words(text: str) -> int:
    count = 0
    fence = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fence = not fence
            continue
        if fence or "{{#" in line:
            continue
        line = re.sub(r"<[^>]+>", "", line)
        line = re.sub(r"\{#[\w-]+\}", "", line)  # a heading's explicit id
        if re.fullmatch(r"[\s|:\-]*", line):
            continue
        count += sum(1 for word in line.split() if re.search(r"\w", word))
    return count


def main() -> None:
    revision = sys.argv[1] if len(sys.argv) > 1 else None
    if revision:
        listing = subprocess.run(
            ["git", "ls-tree", "--name-only", revision, "book/src/"],
            cwd=BOOK.parent, capture_output=True, text=True, check=True,
        ).stdout.split()
        pages = {
            Path(name).name: subprocess.run(
                ["git", "show", f"{revision}:{name}"],
                cwd=BOOK.parent, capture_output=True, text=True, check=True,
            ).stdout
            for name in listing if name.endswith(".md")
        }
    else:
        pages = {page.name: page.read_text() for page in (BOOK / "src").glob("*.md")}
    for name in sorted(pages):
        print(f"{name:36} {words(pages[name]):6}")


if __name__ == "__main__":
    main()
