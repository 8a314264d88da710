#!/usr/bin/env python3
"""callgrind.py FILE REQUESTS: a callgrind profile's instructions per request,
by the part of the server that ran them, as tab-separated `part<TAB>count`
lines (support/bench/profile writes them into book/performance-profile.tsv).

Each function's own instructions (not those of what it calls) go to the
first part whose pattern its name matches; so the parts add up to the total.
"""

import re
import sys
from collections import Counter

# (part, pattern over "object:function"), first match wins. The C
# libraries come first, by their file; then SQLite's own C code, the only
# code in the server whose names carry no Rust path (`::`).
PARTS = [
    ("libc", r"^(lib(c|m|gcc_s|pthread)[.-]|ld-linux)[^:]*:"),
    ("sqlite", r"rusqlite::|^[^:]*:[^:<]*$"),
    ("log", r"tower_http::|tracing|rango_site::pages"),
    ("data", r"serde|chrono::|itoa::|ryu::"),
    ("id", r"rand::|rand_core::|rand_chacha::|chacha|base64::"),
    ("stores", r"rango_sessions::|lru::|tokio::sync::(mpsc|oneshot)"),
    ("layer", r"tower_sessions|tower_cookies|cookie::|percent_encoding|::time::|^[^:]*:time::|hashbrown|sip::|hash_one|batch_semaphore"),
]


def parts(path: str) -> Counter:
    names: dict[str, str] = {}
    objects: dict[str, str] = {}
    own: Counter = Counter()
    fn = obj = ""
    in_call = False
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.strip():
            continue
        head = line[0]
        if head.isdigit() or head in "+-*":
            fields = line.split()
            if len(fields) >= 2:
                if in_call:
                    in_call = False  # the cost of a call, not the caller's own
                else:
                    own[(obj, fn)] += int(fields[1])
            continue
        key, _, rest = line.rstrip("\n").partition("=")
        if key in ("fn", "ob", "cob", "cfn"):
            table = names if key in ("fn", "cfn") else objects
            match = re.match(r"\((\d+)\)(?: (.*))?", rest)
            if match:
                if match[2] is not None:
                    table[match[1]] = match[2]
                rest = table[match[1]]
            if key == "fn":
                fn = rest
            elif key == "ob":
                obj = rest
        elif key == "calls":
            in_call = True
    out: Counter = Counter()
    for (obj, fn), cost in own.items():
        name = f"{obj.rsplit('/', 1)[-1]}:{fn}"
        part = next((p for p, rx in PARTS if re.search(rx, name)), "other")
        out[part] += cost
    return out


def main() -> None:
    path, requests = sys.argv[1], int(sys.argv[2])
    for part, cost in sorted(parts(path).items()):
        print(f"{part}\t{round(cost / requests)}")


if __name__ == "__main__":
    main()
