#!/usr/bin/env python3
"""The book's diagrams, drawn as SVG from the descriptions below.

Usage (from the workspace root, Python 3 standard library only):
  python3 book/diagrams.py            write book/src/diagrams/{en,ru}/*.svg
  python3 book/diagrams.py --check    fail if a written file differs (CI)

The four stage diagrams share one layout (browser, server, store; the
request above, the answer below) and mark what the stage changed. The
stage 4 timeline sets a persistent and a browser-length session side by
side. The performance chart is drawn from the table that support/bench/run
writes (book/src/performance-results.md), so the two cannot disagree.

Every label is written here in English and in Russian: a page includes the
SVG of its language (`{{#include diagrams/en/stage1.svg}}`), and the Russian
edition's ru.po turns that line into the `ru` one. The same goes for the
results table: this script writes its Russian twin, performance-results.ru.md. The SVG is inline text, so
a reader's browser draws it with no script and no network, and its labels
can be searched and read aloud.
"""

from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path

BOOK = Path(__file__).resolve().parent
OUT = BOOK / "src" / "diagrams"
LANGS = ("en", "ru")

FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"
MONO = "font-family:ui-monospace,'SFMono-Regular',Menlo,Consolas,monospace"
INK, MUTED, LINE = "#222", "#555", "#888"
NEW_FILL, NEW_INK = "#fff2b3", "#7a4d00"  # what this stage changed
BOX_FILL = "#f6f7f9"

# --- the stage diagrams ------------------------------------------------------

# Words that every stage diagram uses.
COMMON = {
    "browser": {"en": "Browser", "ru": "Браузер"},
    "jar": {"en": "cookie jar", "ru": "хранилище cookie"},
    "server": {"en": "Server", "ru": "Сервер"},
    "layer": {"en": "session layer", "ru": "слой сессий"},
    "store": {"en": "Session store", "ru": "Хранилище сессий"},
    "request": {"en": "request", "ru": "запрос"},
    "answer": {"en": "answer", "ru": "ответ"},
    "load": {"en": "load", "ru": "загрузить"},
    "save": {"en": "save", "ru": "сохранить"},
    "new": {"en": "changed in this stage", "ru": "изменилось на этом этапе"},
    "empty": {"en": "(nothing)", "ru": "(ничего)"},
}

# Each stage: what the browser holds, what travels, what the server does,
# what the store holds, and which of these the stage changed. Lines in
# `code` are shown as code (the same in both languages).
STAGES = {
    "stage1": {
        "title": {"en": "Stage 1: the test cookie", "ru": "Этап 1: тестовая cookie"},
        "jar": ["sessionid=[id]"],
        "cookie": ["GET /rango/about/", "Cookie: sessionid=[id]"],
        "set_cookie": ["Set-Cookie: sessionid=[id];", "  HttpOnly; SameSite=Lax;", "  Path=/"],
        "handler": {
            "en": ["index:", "  set_test_cookie()", "about:", "  test_cookie_worked()"],
            "ru": ["index:", "  set_test_cookie()", "about:", "  test_cookie_worked()"],
        },
        "store_kind": {"en": "memory", "ru": "в памяти"},
        "store": ["[id] →", "  testcookie: \"worked\""],
        "new": {"jar", "set_cookie", "store", "handler"},
    },
    "stage2": {
        "title": {"en": "Stage 2: the counter in cookies", "ru": "Этап 2: счётчик в cookie"},
        "jar": ["sessionid=[id]", "visits=2", "last_visit=[time]"],
        "cookie": ["GET /rango/", "Cookie: visits=2;", "  last_visit=[time];", "  sessionid=[id]"],
        "set_cookie": ["Set-Cookie: visits=3; …", "Set-Cookie:", "  last_visit=[now]; …"],
        "handler": {
            "en": ["visitor_cookie_handler:", "parse, check, count"],
            "ru": ["visitor_cookie_handler:", "разобрать, проверить,", "посчитать"],
        },
        "store_kind": {"en": "memory", "ru": "в памяти"},
        "store": ["[id] →", "  testcookie: \"worked\""],
        "new": {"jar", "cookie", "set_cookie", "handler"},
    },
    "stage3": {
        "title": {"en": "Stage 3: the counter in the session", "ru": "Этап 3: счётчик в сессии"},
        "jar": ["sessionid=[id]"],
        "cookie": ["GET /rango/", "Cookie: sessionid=[id]"],
        "set_cookie": ["(no Set-Cookie: the id", " is already in the jar)"],
        "handler": {
            "en": ["visitor_cookie_handler:", "session.get / insert"],
            "ru": ["visitor_cookie_handler:", "session.get / insert"],
        },
        "store_kind": {"en": "SQLite file", "ru": "файл SQLite"},
        "store": ["[id] →", "  visits: 3,", "  last_visit: [time],", "  testcookie: \"worked\""],
        "new": {"jar", "cookie", "set_cookie", "handler", "store"},
    },
    "stage4": {
        "title": {"en": "Stage 4: how long a session lasts", "ru": "Этап 4: сколько живёт сессия"},
        "jar": ["sessionid=[id]", "(kept until [expires])"],
        "cookie": ["GET /rango/", "Cookie: sessionid=[id]"],
        "set_cookie": ["Set-Cookie: sessionid=[id];", "  Max-Age=1209600;", "  Expires=[date]"],
        "handler": {
            "en": ["visitor_cookie_handler", "then refresh_expiry:", "save if a minute stale"],
            "ru": ["visitor_cookie_handler", "затем refresh_expiry:", "сохранить, если", "прошла минута"],
        },
        "store_kind": {"en": "SQLite file", "ru": "файл SQLite"},
        "store": ["[id] → visits: 3, …", "expires [expires]", "(clearsessions deletes", " expired rows)"],
        "new": {"jar", "set_cookie", "handler", "store"},
    },
}

# Translations of the few words inside the code-like lines.
CODE_WORDS = {
    "(no Set-Cookie: the id": {"ru": "(Set-Cookie нет: id"},
    " is already in the jar)": {"ru": " уже в хранилище)"},
    "(kept until [expires])": {"ru": "(хранится до [expires])"},
    "expires [expires]": {"ru": "истекает [expires]"},
    "(clearsessions deletes": {"ru": "(clearsessions удаляет"},
    " expired rows)": {"ru": " истёкшие строки)"},
}


def text(x: float, y: float, body: str, *, size: int = 13, weight: str = "normal",
         fill: str = INK, anchor: str = "start", mono: bool = False) -> str:
    family = MONO if mono else FONT
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" font-weight="{weight}" '
            f'fill="{fill}" text-anchor="{anchor}" style="{family};white-space:pre">'
            f'{escape(body)}</text>')


def box(x: float, y: float, w: float, h: float, *, fill: str = BOX_FILL,
        stroke: str = LINE, dash: bool = False) -> str:
    extra = ' stroke-dasharray="5 4"' if dash else ""
    return (f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="8" '
            f'fill="{fill}" stroke="{stroke}"{extra}/>')


def arrow(x1: float, y1: float, x2: float, y2: float, color: str = INK) -> str:
    return (f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{color}" '
            f'stroke-width="1.6" marker-end="url(#arrow)"/>')


def svg(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="rango-diagram">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INK}"/></marker></defs>',
        *body,
        "</svg>",
    ]) + "\n"


def code_line(line: str, lang: str) -> str:
    return CODE_WORDS.get(line, {}).get(lang, line)


def stage_diagram(name: str, lang: str) -> str:
    spec = STAGES[name]
    word = {key: value[lang] for key, value in COMMON.items()}
    new = spec["new"]
    body: list[str] = []
    width, height = 900, 320

    def lines(x: float, y: float, items: list[str], key: str, room: float) -> None:
        for i, line in enumerate(items):
            line = code_line(line, lang)
            # A common monospace font's glyphs are 0.6 em wide: the line
            # must fit the `room` its panel leaves, or it spills out.
            if len(line) * 12 * 0.6 > room:
                raise SystemExit(f"{name} ({lang}): {line!r} is wider than its panel ({room:g} px)")
            body.append(text(x, y + 17 * i, line, size=12, mono=True,
                             fill=NEW_INK if key in new else INK))

    def panel(x: float, y: float, w: float, h: float, key: str) -> None:
        highlight = key in new
        body.append(box(x, y, w, h, fill=NEW_FILL if highlight else "#ffffff",
                        stroke=NEW_INK if highlight else LINE, dash=not highlight))

    body.append(text(width / 2, 22, spec["title"][lang], size=15, weight="bold", anchor="middle"))
    # The browser and its cookie jar.
    body.append(box(10, 40, 200, 240))
    body.append(text(110, 62, word["browser"], size=14, weight="bold", anchor="middle"))
    panel(20, 75, 180, 110, "jar")
    body.append(text(28, 93, word["jar"] + ":", size=12, fill=MUTED))
    lines(28, 112, spec["jar"], "jar", 168)
    # The request, then the answer, on the wire between browser and server.
    panel(222, 50, 238, 17 * len(spec["cookie"]) + 24, "cookie")
    body.append(text(230, 66, word["request"] + " →", size=11, fill=MUTED))
    lines(230, 83, spec["cookie"], "cookie", 226)
    body.append(arrow(212, 158, 470, 158))
    body.append(arrow(470, 178, 212, 178))
    panel(222, 188, 238, 17 * len(spec["set_cookie"]) + 24, "set_cookie")
    body.append(text(230, 204, "← " + word["answer"], size=11, fill=MUTED))
    lines(230, 221, spec["set_cookie"], "set_cookie", 226)
    # The server: the handler, over the session layer.
    body.append(box(470, 40, 200, 240))
    body.append(text(570, 62, word["server"], size=14, weight="bold", anchor="middle"))
    panel(480, 75, 180, 80, "handler")
    lines(488, 95, spec["handler"][lang], "handler", 168)
    body.append(box(480, 200, 180, 40, fill="#ffffff"))
    body.append(text(570, 225, word["layer"], size=12, anchor="middle", fill=MUTED))
    body.append(arrow(570, 200, 570, 158))
    # The store, which the session layer loads from and saves to.
    body.append(box(700, 40, 190, 240))
    body.append(text(795, 62, word["store"], size=14, weight="bold", anchor="middle"))
    body.append(text(795, 80, f'({spec["store_kind"][lang]})', size=12, anchor="middle", fill=MUTED))
    panel(708, 92, 174, 100, "store")
    lines(714, 112, spec["store"], "store", 164)
    body.append(arrow(660, 212, 708, 212, LINE))
    body.append(text(684, 206, word["load"], size=11, anchor="middle", fill=MUTED))
    body.append(arrow(708, 232, 662, 232, LINE))
    body.append(text(684, 248, word["save"], size=11, anchor="middle", fill=MUTED))
    # The key.
    body.append(box(10, 292, 14, 14, fill=NEW_FILL, stroke=NEW_INK))
    body.append(text(30, 304, word["new"], size=11, fill=MUTED))
    return svg(width, height, spec["title"][lang], body)


# --- the stage 4 timeline ----------------------------------------------------

TIMELINE = {
    "title": {"en": "Persistent and browser-length sessions (a two-week cookie age)",
              "ru": "Сессия постоянная и до закрытия браузера (время жизни cookie — две недели)"},
    "persistent": {"en": "Persistent (the default)", "ru": "Постоянная (по умолчанию)"},
    "browser": {"en": "Browser-length (--expire-at-browser-close)",
                "ru": "До закрытия браузера (--expire-at-browser-close)"},
    "cookie": {"en": "cookie in the browser", "ru": "cookie в браузере"},
    "record": {"en": "record in the store", "ru": "запись в хранилище"},
    "visits": {"en": "visits", "ru": "посещения"},
    "new_session": {"en": "a new session", "ru": "новая сессия"},
    "restart": {"en": "browser closed and reopened", "ru": "браузер закрыт и открыт снова"},
    "persistent_note": {
        "en": "Day 22: cookie and record end together, 14 days after the last visit.",
        "ru": "День 22: cookie и запись кончаются вместе, через 14 дней после последнего посещения.",
    },
    "browser_note": {
        "en": "Day 5: the cookie goes with the browser. Day 17: the record expires, 14 days",
        "ru": "День 5: cookie уходит вместе с браузером. День 17: запись истекает, через 14 дней",
    },
    "browser_note2": {
        "en": "after the last visit it saw. Day 24: clearsessions deletes it from the store.",
        "ru": "после последнего её посещения. День 24: clearsessions удаляет её из хранилища.",
    },
    "day": {"en": "day", "ru": "день"},
}


def timeline(lang: str) -> str:
    t = {key: value[lang] for key, value in TIMELINE.items()}
    width, height = 760, 340
    left, right = 40, 720
    days = 28
    x = lambda day: left + (right - left) * day / days  # noqa: E731
    body: list[str] = [text(width / 2, 22, t["title"], size=15, weight="bold", anchor="middle")]
    # The time axis, in days.
    axis = 305
    body.append(f'<line x1="{left}" y1="{axis}" x2="{right}" y2="{axis}" stroke="{LINE}"/>')
    for day in range(0, days + 1, 2):
        body.append(f'<line x1="{x(day):g}" y1="{axis - 4}" x2="{x(day):g}" y2="{axis + 4}" stroke="{LINE}"/>')
        body.append(text(x(day), axis + 18, str(day), size=11, anchor="middle", fill=MUTED))
    body.append(text(right, axis - 8, t["day"], size=11, anchor="end", fill=MUTED))
    restart, clear = 5, 24
    body.append(f'<line x1="{x(restart):g}" y1="44" x2="{x(restart):g}" y2="{axis}" '
                f'stroke="#b33" stroke-dasharray="4 3"/>')
    body.append(text(x(restart) + 4, 44, t["restart"], size=11, fill="#b33"))

    def bar(row_y: float, start: float, end: float, label: str, fill: str) -> None:
        body.append(f'<rect x="{x(start):g}" y="{row_y:g}" width="{x(end) - x(start):g}" '
                    f'height="18" rx="4" fill="{fill}"/>')
        body.append(text(x(start) + 6, row_y + 13, label, size=11, fill=INK))

    def dots(row_y: float, days_seen: tuple[int, ...], later: int | None) -> None:
        for day in days_seen:
            body.append(f'<circle cx="{x(day):g}" cy="{row_y:g}" r="5" fill="{INK}"/>')
        end = days_seen[-1]
        if later is not None:
            body.append(f'<circle cx="{x(later):g}" cy="{row_y:g}" r="5" fill="#fff" stroke="{INK}"/>')
            body.append(text(x(later) + 9, row_y + 4, t["new_session"], size=11, fill=MUTED))
        else:
            body.append(text(x(end) + 9, row_y + 4, t["visits"], size=11, fill=MUTED))

    # Persistent: the cookie and the record both last 14 days after the
    # last visit; closing the browser changes nothing.
    y = 70
    body.append(text(left, y, t["persistent"], size=13, weight="bold"))
    dots(y + 18, (0, 3, 8), None)
    bar(y + 32, 0, 22, t["cookie"], "#cfe3ff")
    bar(y + 54, 0, 22, t["record"], "#d9f2d0")
    body.append(text(left, y + 90, t["persistent_note"], size=11, fill=MUTED))
    # Browser-length: the cookie ends with the browser; the record lives on
    # 14 days after the last visit it saw, expires, and is cleared later.
    y = 190
    body.append(text(left, y, t["browser"], size=13, weight="bold"))
    dots(y + 18, (0, 3), 8)
    bar(y + 32, 0, restart, t["cookie"], "#cfe3ff")
    bar(y + 54, 0, 17, t["record"], "#d9f2d0")
    body.append(f'<rect x="{x(17):g}" y="{y + 54:g}" width="{x(clear) - x(17):g}" height="18" '
                f'fill="#eeeeee" stroke="{LINE}" stroke-dasharray="3 3"/>')
    body.append(text(left, y + 88, t["browser_note"], size=11, fill=MUTED))
    body.append(text(left, y + 102, t["browser_note2"], size=11, fill=MUTED))
    return svg(width, height + 20, t["title"], body)


# --- the stage 1 layers ------------------------------------------------------

# The layers of stage 1's `app`, outermost first: (code, what it does).
ONION = {
    "title": {"en": "Stage 1: the layers around the handlers",
              "ru": "Этап 1: слои вокруг обработчиков"},
    "request": {"en": "request", "ru": "запрос"},
    "response": {"en": "response", "ru": "ответ"},
    "layers": [
        ("rango_site::site(pages)",
         {"en": "the request log; a 500 page if saving the session fails",
          "ru": "журнал запросов; страница 500, если сессию не удалось сохранить"}),
        (".layer(sessions)",
         {"en": "finds the session by its cookie; on the way out, saves it and sets the cookie",
          "ru": "находит сессию по cookie; на обратном пути сохраняет её и ставит cookie"}),
        (".route_layer(map_response(vary_on_cookie))",
         {"en": "adds Vary: Cookie to the Rango pages",
          "ru": "добавляет Vary: Cookie к страницам Rango"}),
        ("index, about",
         {"en": "the handlers, with State(config) from .with_state(config)",
          "ru": "обработчики; State(config) им даёт .with_state(config)"}),
    ],
}


def onion(lang: str) -> str:
    """Stage 1's layers as nested boxes: a request goes in from the left
    through each layer to a handler, and its response comes out through
    them again on the right."""
    title = ONION["title"][lang]
    width, left, right = 780, 90, 690
    inset, strip, handler_h, below = 26, 40, 46, 10
    layers = ONION["layers"]
    inner = len(layers) - 1
    bottom = 40 + strip * inner + handler_h + below * inner
    fills = ["#f6f7f9", NEW_FILL, "#e8f1fb", "#ffffff"]
    strokes = [LINE, NEW_INK, "#6b9bd1", INK]
    body = [text(width / 2, 22, title, size=15, weight="bold", anchor="middle")]
    for i, (code, what) in enumerate(layers):
        x, y = left + inset * i, 40 + strip * i
        w, h = right - left - 2 * inset * i, bottom - below * i - y
        body.append(box(x, y, w, h, fill=fills[i], stroke=strokes[i]))
        body.append(text(x + 10, y + 16, code, size=12, mono=True, weight="bold"))
        body.append(text(x + 10, y + 32, what[lang], size=11, fill=MUTED))
    # In at the left, out at the right, level with the handlers.
    hx = left + inset * inner
    hy = 40 + strip * inner + handler_h / 2
    body.append(arrow(6, hy, hx, hy))
    body.append(text(6, hy - 6, ONION["request"][lang], size=11, fill=MUTED))
    body.append(arrow(right - inset * inner, hy, width - 6, hy))
    body.append(text(width - 6, hy - 6, ONION["response"][lang], size=11, anchor="end", fill=MUTED))
    return svg(width, bottom + 12, title, body)


# --- the performance chart -----------------------------------------------------

CHART = {
    "title": {"en": "Requests per second, as a share of the no-session ceiling (16 connections)",
              "ru": "Запросов в секунду, доля от потолка без сессий (16 соединений)"},
    "step03-server-sessions": {"en": "Stage 3", "ru": "Этап 3"},
    "step04-expiry (refresh every visit)": {"en": "Stage 4, expiry saved on every visit",
                                            "ru": "Этап 4, срок сохраняется при каждом посещении"},
    "step04-expiry (default refresh)": {"en": "Stage 4, expiry saved at most once a minute (default)",
                                        "ru": "Этап 4, срок сохраняется не чаще раза в минуту (по умолчанию)"},
    "returning": {"en": "returning", "ru": "вернувшийся"},
    "new": {"en": "new", "ru": "новый"},
    "sqlite + cache": {"en": "sqlite + cache", "ru": "sqlite + кэш"},
    "memory": {"en": "memory", "ru": "память"},
}

ROW = re.compile(r"^\| (?P<label>[^|]+?) \| 16 \| (?P<rps>\d+) \| (?P<share>\d+)% \|")


def chart_rows(results: Path) -> list[tuple[str, str, int]]:
    """The 16-connection rows of the results table: (group, row, share)."""
    rows = []
    for line in results.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and not match["label"].startswith("ceiling"):
            group, _, rest = match["label"].partition(", ")
            rows.append((group, rest, int(match["share"])))
    return rows


def say(words: str, lang: str) -> str:
    """`words` (`sqlite + cache, returning`) in `lang`."""
    return ", ".join(CHART.get(part, {}).get(lang, part) for part in words.split(", "))


AS_OF = re.compile(r"^step03-server-sessions @(\w+)$")


def group_name(group: str, lang: str) -> str:
    """A group of rows (`step03-server-sessions @632adef`) in `lang`."""
    if match := AS_OF.match(group):
        return {"en": f"Stage 3 as of {match[1]}", "ru": f"Этап 3 на коммите {match[1]}"}[lang]
    return CHART.get(group, {}).get(lang, group)


def chart(lang: str, rows: list[tuple[str, str, int]]) -> str:
    title = CHART["title"][lang]
    bar_left, bar_right, row_h = 230, 700, 20
    groups = list(dict.fromkeys(group for group, _, _ in rows))
    height = 50 + row_h * (len(rows) + len(groups)) + 30
    body = [text(380, 22, title, size=14, weight="bold", anchor="middle")]
    scale = lambda share: (bar_right - bar_left) * share / 100  # noqa: E731
    for share in (0, 25, 50, 75, 100):
        sx = bar_left + scale(share)
        body.append(f'<line x1="{sx:g}" y1="38" x2="{sx:g}" y2="{height - 24}" stroke="#ddd"/>')
        body.append(text(sx, height - 10, f"{share}%", size=11, anchor="middle", fill=MUTED))
    y = 40
    for group in groups:
        body.append(text(10, y + 14, group_name(group, lang), size=12, weight="bold"))
        y += row_h
        fill = "#6b9bd1" if group.startswith("step03") else "#8fbf7f"
        for _, row, share in (r for r in rows if r[0] == group):
            body.append(text(bar_left - 8, y + 13, say(row, lang), size=11, anchor="end"))
            body.append(f'<rect x="{bar_left}" y="{y + 2:g}" width="{scale(share):g}" '
                        f'height="{row_h - 6}" fill="{fill}"/>')
            body.append(text(bar_left + scale(share) + 4, y + 13, f"{share}%", size=11, fill=MUTED))
            y += row_h
    return svg(760, height, title, body)


# --- the profile chart ------------------------------------------------------------

PROFILE = {
    "title": {"en": "Instructions per request, by part of the server (callgrind)",
              "ru": "Инструкций на запрос, по частям сервера (callgrind)"},
    "ceiling": {"en": "ceiling (no session layer)", "ru": "потолок (без слоя сессий)"},
    "before": {"en": "before", "ru": "до"},
    "after": {"en": "after", "ru": "после"},
    "thousands": {"en": "thousand instructions", "ru": "тысяч инструкций"},
    "stage 3": {"en": "stage 3", "ru": "этап 3"},
    "stage 4 (default)": {"en": "stage 4 (default)", "ru": "этап 4 (по умолчанию)"},
}

# The parts support/bench/callgrind.py splits a count into, in the order
# drawn, with their colours.
PARTS = {
    "other": ({"en": "HTTP, routing, layers, page", "ru": "HTTP, маршруты, слои, страница"}, "#c9ced6"),
    "libc": ({"en": "allocation and copying (libc)", "ru": "выделение памяти, копирование (libc)"}, "#e0a96d"),
    "layer": ({"en": "session layer, cookies, maps", "ru": "слой сессий, cookie, словари"}, "#6b9bd1"),
    "data": ({"en": "session data: JSON, dates", "ru": "данные сессии: JSON, даты"}, "#8fbf7f"),
    "stores": ({"en": "our stores (rango-sessions)", "ru": "наши хранилища (rango-sessions)"}, "#b58fd1"),
    "sqlite": ({"en": "SQLite", "ru": "SQLite"}, "#d17b7b"),
    "log": ({"en": "request log, tracing", "ru": "журнал запросов, tracing"}, "#e6d36b"),
    "id": ({"en": "session id: random, base64", "ru": "id сессии: случайное число, base64"}, "#7fc8c4"),
}


def profile_rows(table: Path) -> list[tuple[str, str, dict[str, int]]]:
    """(version, scenario, {part: instructions}) for each profiled server."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    if not table.is_file():
        return []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        version, scenario, part, count = line.split("\t")
        rows.setdefault((version, scenario), {})[part] = int(count)
    return [(version, scenario, parts) for (version, scenario), parts in rows.items()]


def profile_chart(lang: str, rows: list[tuple[str, str, dict[str, int]]]) -> str:
    title = PROFILE["title"][lang]
    scenarios = list(dict.fromkeys(scenario for _, scenario, _ in rows))
    bar_left, bar_right, row_h = 150, 690, 20
    most = max((sum(parts.values()) for _, _, parts in rows), default=1)
    top = -(-most // 20000) * 20000
    scale = lambda n: (bar_right - bar_left) * n / top  # noqa: E731
    axis_bottom = 40 + row_h * (len(rows) + len(scenarios))
    legend_h = 20 * ((len(PARTS) + 1) // 2)
    height = axis_bottom + 44 + legend_h
    body = [text(380, 22, title, size=14, weight="bold", anchor="middle")]
    for tick in range(0, top + 1, 20000):
        tx = bar_left + scale(tick)
        body.append(f'<line x1="{tx:g}" y1="38" x2="{tx:g}" y2="{axis_bottom}" stroke="#ddd"/>')
        body.append(text(tx, axis_bottom + 14, f"{tick // 1000}", size=11, anchor="middle", fill=MUTED))
    body.append(text(bar_right, axis_bottom + 28, PROFILE["thousands"][lang], size=11,
                     anchor="end", fill=MUTED))
    y = 40
    for scenario in scenarios:
        name = ", ".join(PROFILE.get(part, CHART.get(part, {})).get(lang, part)
                         for part in scenario.split(", "))
        body.append(text(10, y + 14, name[:1].upper() + name[1:], size=12, weight="bold"))
        y += row_h
        for version, _, parts in (r for r in rows if r[1] == scenario):
            when, commit = version.split()
            body.append(text(bar_left - 8, y + 13, f"{PROFILE[when][lang]} ({commit})",
                             size=11, anchor="end"))
            x = bar_left
            for part, (_, colour) in PARTS.items():
                width = scale(parts.get(part, 0))
                body.append(f'<rect x="{x:g}" y="{y + 2:g}" width="{width:g}" '
                            f'height="{row_h - 6}" fill="{colour}"/>')
                x += width
            total = sum(parts.values())
            body.append(text(x + 4, y + 13, f"{total / 1000:.1f}k", size=11, fill=MUTED))
            y += row_h
    y = axis_bottom + 40
    for i, (label, colour) in enumerate(PARTS.values()):
        lx = 20 + (i % 2) * 370
        ly = y + 20 * (i // 2)
        body.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        body.append(text(lx + 18, ly + 11, label[lang], size=11))
    return svg(760, height, title, body)


# --- the results table, in Russian ---------------------------------------------------

# The fixed sentences of the table support/bench/run writes, and the Russian
# for them; the numbers and names in them are kept.
RESULTS_RU = [
    (r"^<!-- Written by support/bench/run(.*?); do not edit by hand\. -->$",
     r"<!-- Written by book/diagrams.py from performance-results.md; do not edit by hand. -->"),
    (r"^Measured on (\S+) (\S+) UTC with `support/bench/run`:$",
     r"Замерено \1 в \2 UTC с помощью `support/bench/run`:"),
    (r"^(\d+) CPUs \((.*)\),$", r"процессоров: \1 (\2),"),
    (r"^wrk with one thread, the median of (\d+) runs of (\S+) s per scenario on 127\.0\.0\.1, servers built in$",
     r"wrk в один поток, медиана \1 запусков по \2 с на сценарий на 127.0.0.1; серверы собраны"),
    (r"^Rows marked @(\w+) are stage 3 as of that commit \((\S+)\), built by `support/bench/build-rev`\.$",
     r"Строки с пометкой @\1 — этап 3 на этом коммите (\2), собранный `support/bench/build-rev`."),
    (r"^release mode and run with `RUST_LOG=warn` \(no line per request\)\.$",
     r"в режиме release и запущены с `RUST_LOG=warn` (без строки журнала на запрос)."),
    (r"^A ratio is the figure divided by the ceiling's at the same number of connections\.$",
     r"Отношение — это значение, делённое на значение потолка при том же числе соединений."),
    (r"^\| scenario \| conns \| req/s \| of ceiling \| p50 ms \| p99 ms \|$",
     r"| сценарий | соединений | запросов/с | от потолка | p50, мс | p99, мс |"),
    (r"^Resident memory \(VmRSS\) of each server:$", r"Резидентная память (VmRSS) каждого сервера:"),
    (r"^\| server \| idle MiB \| after load MiB \|$",
     r"| сервер | без нагрузки, МиБ | после нагрузки, МиБ |"),
    (r"^Build times:$", r"Время сборки:"),
    (r"^- cold `cargo build --workspace --all-targets` \(empty target directory, crates already downloaded\): (.*) s$",
     r"- холодная сборка `cargo build --workspace --all-targets` (пустой каталог target, крейты уже скачаны): \1 с"),
    (r"^- edit-and-check on the exercise: (`.*`) \(builds and runs the checks\): (.*) s$",
     r"- правка и проверка упражнения: \1 (сборка и запуск проверок): \2 с"),
]


# A decimal point in a number becomes the Russian decimal comma (0.07 -> 0,07),
# outside `code` spans; 127.0.0.1 and version numbers (1.95.0) keep their dots.
DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])")


def decimal_commas(line: str) -> str:
    parts = line.split("`")
    return "`".join(DECIMAL.sub(r"\1,\2", part) if i % 2 == 0 else part
                    for i, part in enumerate(parts))


def results_ru(english: str) -> str:
    out = []
    for line in english.splitlines():
        for pattern, russian in RESULTS_RU:
            if re.match(pattern, line):
                line = re.sub(pattern, russian, line)
                break
        else:
            if line.startswith("| "):
                cells = line.split(" | ")
                label = cells[0][2:]
                group, _, rest = label.partition(", ")
                label = ", ".join(part for part in (
                    {"ceiling (no session layer)": "потолок (без слоя сессий)"}.get(group)
                    or group_name(group, "ru"),
                    say(rest, "ru") if rest else "",
                ) if part)
                line = " | ".join(["| " + label, *cells[1:]])
                line = line.replace("×)", "×)")
        out.append(line if line.startswith("<!--") else decimal_commas(line))
    return "\n".join(out) + "\n"


# --- writing and checking --------------------------------------------------------


def drawings() -> dict[Path, str]:
    files: dict[Path, str] = {}
    rows = chart_rows(BOOK / "src" / "performance-results.md")
    for lang in LANGS:
        for name in STAGES:
            files[OUT / lang / f"{name}.svg"] = stage_diagram(name, lang)
        files[OUT / lang / "stage4-timeline.svg"] = timeline(lang)
        files[OUT / lang / "stage1-layers.svg"] = onion(lang)
        files[OUT / lang / "performance.svg"] = chart(lang, rows)
        files[OUT / lang / "performance-profile.svg"] = profile_chart(
            lang, profile_rows(BOOK / "performance-profile.tsv"))
    english = (BOOK / "src" / "performance-results.md").read_text(encoding="utf-8")
    files[BOOK / "src" / "performance-results.ru.md"] = results_ru(english)
    return files


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path, content in drawings().items():
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != content:
                stale.append(path.relative_to(BOOK.parent))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    if stale:
        print("book/diagrams.py: out of date (run `python3 book/diagrams.py`):", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        return 1
    if check:
        print("book diagrams: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
