"""The looks gallery: tables of numbers 0..36 styled the way real sites style them.

Each look is an HTML page built around one board element (`#board`: a table, a CSS grid, an
inline <svg> or a <canvas> a script draws on), styled by a real CSS framework vendored from its
npm package (`vendor/`, with its licence) wherever one exists, or by the few rules a roulette
front-end or a wiki writes itself. `variant()` draws a table's
contents (shape, empty cells, header rows and columns of words, numbers or letters, text size)
from a seed; `page_html()` writes the page. Rendering happens in real headless Chromium
(`render.py`). None of these looks is drawn by the training data generator: the whole gallery
measures looks the model has never seen.
"""
from __future__ import annotations

import enum
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from recognizer.labels import RED_NUMBERS

VENDOR = Path(__file__).resolve().parent / "vendor"


class Header(str, enum.Enum):
    NONE = "none"
    NUMBERS = "numbers"  # 1, 2, 3 ... (themselves numbers 0..36: the reader must be told to skip them)
    WORDS = "words"  # "Spin 1", "Round 3", ...
    LETTERS = "letters"  # A, B, C ... above the columns, like a spreadsheet


@dataclass(frozen=True)
class Variant:
    """The contents of one gallery table: values (None = empty) and its headers."""

    values: tuple[tuple[int | None, ...], ...]
    col_header: Header
    row_header: Header
    text_px: int

    @property
    def rows(self) -> int:
        return len(self.values)

    @property
    def cols(self) -> int:
        return len(self.values[0])

    @property
    def skip_rows(self) -> int:
        return int(self.col_header is not Header.NONE)

    @property
    def skip_cols(self) -> int:
        return int(self.row_header is not Header.NONE)


@dataclass(frozen=True)
class Look:
    name: str
    css: tuple[str, ...]  # stylesheets under vendor/
    body: Callable[[Variant], str]  # the page's <body> content, holding #board
    style: str = ""  # the page's own CSS, after the frameworks'
    shapes: tuple[tuple[int, int], ...] = ((8, 15), (6, 12), (4, 10), (10, 20), (20, 15))
    headers: tuple[tuple[Header, Header], ...] = (
        (Header.NONE, Header.NONE), (Header.NUMBERS, Header.NONE), (Header.WORDS, Header.WORDS),
        (Header.LETTERS, Header.NUMBERS), (Header.NUMBERS, Header.WORDS))
    text_px: tuple[int, int] = (11, 24)
    tags: tuple[str, ...] = field(default=())  # "roulette", "framework", ...
    html_attrs: str = ""  # attributes of the page's <html> element (a framework's theme switch)


# ---------------------------------------------------------------------------- contents

def variant(look: Look, rng: np.random.Generator) -> Variant:
    rows, cols = look.shapes[rng.integers(len(look.shapes))]
    col_header, row_header = look.headers[rng.integers(len(look.headers))]
    values = rng.integers(0, 37, size=(rows, cols)).tolist()
    grid: list[list[int | None]] = [list(r) for r in values]
    kind = rng.integers(3)
    if kind == 1:  # scattered empty cells
        for _ in range(max(1, rows * cols // 25)):
            grid[rng.integers(rows)][rng.integers(cols)] = None
    elif kind == 2 and cols == 1:  # a history column not full yet: it ends early
        for r in range(int(rng.integers(1, rows)), rows):
            grid[r][0] = None
    elif kind == 2:  # a history not full yet: the last row ends early
        for c in range(int(rng.integers(1, cols)), cols):
            grid[-1][c] = None
    lo, hi = look.text_px
    return Variant(tuple(tuple(r) for r in grid), col_header, row_header, int(rng.integers(lo, hi + 1)))


def labels(kind: Header, count: int, word: str) -> list[str]:
    """Header labels: 1, 2, ...; "<word> 1", ...; A, B, ...; or none."""
    if kind is Header.NUMBERS:
        return [str(i + 1) for i in range(count)]
    if kind is Header.WORDS:
        return [f"{word} {i + 1}" for i in range(count)]
    if kind is Header.LETTERS:
        return [chr(ord("A") + i) for i in range(count)]
    return []


def col_labels(kind: Header, cols: int) -> list[str]:
    return labels(kind, cols, "Spin")


def row_labels(kind: Header, rows: int) -> list[str]:
    return labels(kind, rows, "Round")


def text(value: int | None) -> str:
    return "" if value is None else str(value)


def colour_of(value: int | None) -> str:
    if value is None:
        return "empty"
    return "green" if value == 0 else ("red" if value in RED_NUMBERS else "black")


# ---------------------------------------------------------------------------- markup

def html_table(v: Variant, *, table_attrs: str = "", th: str = "", td: str = "",
               cell: Callable[[int | None], str] = lambda value: html.escape(text(value)),
               td_attrs: Callable[[int | None], str] = lambda value: "", corner: str = "",
               thead: str = "", tbody: str = "", tr: str = "", row_th: str | None = None) -> str:
    """A plain <table id=board> with optional header row/column (th) and data cells (td).

    `thead`, `tbody` and `tr` are attributes of those elements; `row_th`, when given, writes the
    row labels as `<td {row_th}>` (frameworks whose markup has no header cells in the body)."""
    out = [f'<table id="board" {table_attrs}>']
    cols = col_labels(v.col_header, v.cols)
    rows = row_labels(v.row_header, v.rows)
    if cols:
        head = ([f"<th {th}>{html.escape(corner)}</th>"] if rows else []) + [f"<th {th}>{c}</th>" for c in cols]
        out.append(f"<thead {thead}><tr {tr}>" + "".join(head) + "</tr></thead>")
    out.append(f"<tbody {tbody}>")
    for r, line in enumerate(v.values):
        if not rows:
            tds = []
        elif row_th is None:
            tds = [f"<th {th}>{rows[r]}</th>"]
        else:
            tds = [f"<td {row_th}>{rows[r]}</td>"]
        tds += [f"<td {td} {td_attrs(value)}>{cell(value)}</td>" for value in line]
        out.append(f"<tr {tr}>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def grid_board(v: Variant, cell: Callable[[int | None], str], spacing: str) -> str:
    """A CSS grid board (`#board`): a div.label per header label, `cell(value)` per number or empty cell."""
    cols = col_labels(v.col_header, v.cols)
    rows = row_labels(v.row_header, v.rows)
    cells = []
    if cols:
        cells += (['<div class="label"></div>'] if rows else []) + [f'<div class="label">{c}</div>' for c in cols]
    for r, line in enumerate(v.values):
        if rows:
            cells.append(f'<div class="label">{rows[r]}</div>')
        cells += [cell(value) for value in line]
    style = f"display:inline-grid;grid-template-columns:repeat({v.cols + bool(rows)}, auto);{spacing}"
    return f'<div id="board" style="{style}">' + "".join(cells) + "</div>"


def chip_grid(v: Variant, chip: str, gap_px: int, pad_px: int) -> str:
    """Roulette boards: a CSS grid of chips (div.chip.red/.black/.green, .empty for none), optional labels."""
    return grid_board(v, lambda value: f'<div class="{chip} {colour_of(value)}">{text(value)}</div>',
                      f"gap:{gap_px}px;padding:{pad_px}px")


def page_html(look: Look, v: Variant) -> str:
    links = "".join(f'<link rel="stylesheet" href="{(VENDOR / css).as_uri()}">' for css in look.css)
    size = f"#board, #board th, #board td, #board .chip, #board .label {{ font-size: {v.text_px}px; }}"
    html_tag = f"<html {look.html_attrs}>" if look.html_attrs else "<html>"
    return (f"<!doctype html>{html_tag}<head><meta charset='utf-8'>{links}"
            f"<style>{look.style}\n{size}</style></head>"
            f"<body><div id='wrap'>{look.body(v)}</div></body></html>")


# ---------------------------------------------------------------------------- the looks

BOOTSTRAP = ("bootstrap-5.3.9/bootstrap.min.css",)
WRAP = "#wrap { padding: 16px; display: inline-block; } #board { width: auto; }"
# Frameworks' own default: the table fills its container, so cells are much wider than their numbers.
FLUID = "#wrap { padding: 16px; width: 1100px; }"


def bootstrap(classes: str) -> Callable[[Variant], str]:
    return lambda v: html_table(v, table_attrs=f'class="{classes}"')


def tailwind(v: Variant) -> str:
    cell = "border border-gray-300 px-3 py-1 text-right text-gray-900 tabular-nums"
    head = "border border-gray-300 px-3 py-1 bg-gray-100 font-semibold text-gray-700 text-center"
    return html_table(v, table_attrs='class="table-auto border-collapse font-sans bg-white"', th=f'class="{head}"',
                      td=f'class="{cell}"')


def spreadsheet(v: Variant) -> str:
    # jspreadsheet's markup: headers in thead <td>s, row numbers in the first <td> of each row.
    letters = [chr(ord("A") + c) if c < 26 else f"A{chr(ord('A') + c - 26)}" for c in range(v.cols)]
    out = ['<div class="jss_container"><table id="board" class="jss_worksheet" cellpadding="0" cellspacing="0">',
           '<thead><tr><td class="jss_selectall"></td>' + "".join(f"<td>{c}</td>" for c in letters) + "</tr></thead>",
           "<tbody>"]
    for r, line in enumerate(v.values):
        out.append(f"<tr><td>{r + 1}</td>" + "".join(f'<td style="text-align:right">{text(x)}</td>' for x in line)
                   + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def heat(value: int | None) -> str:
    if value is None:
        return 'style="background:#ffffff"'
    t = value / 36
    r, g, b = int(68 + t * (253 - 68)), int(1 + t * (231 - 1)), int(84 + t * (37 - 84))  # viridis' two ends
    ink = "#000" if t > 0.55 else "#fff"
    return f'style="background:rgb({r},{g},{b});color:{ink}"'


# ---------------------------------------------------------------------------- boards without a <table>, Ant Design

def text_width(label: str, px: float) -> float:
    """A generous estimate of a sans label's width (digits and letters are 0.5-0.65 em)."""
    return 0.65 * px * len(label)


def svg_board(v: Variant) -> str:
    """A history board drawn as one inline <svg>: each number a ball (a coloured disc, a white face,
    the number in the disc's colour as <text>), an empty slot a dashed circle, labels as <text>."""
    px = v.text_px
    radius, gap, pad = 1.25 * px, 0.35 * px, 0.6 * px
    cols, rows = col_labels(v.col_header, v.cols), row_labels(v.row_header, v.rows)
    pitch_x = max([2 * radius + gap] + [text_width(c, px) + gap for c in cols])
    pitch_y = 2 * radius + gap
    left = pad + (max(text_width(r, px) for r in rows) + gap if rows else 0)
    top = pad + (1.6 * px if cols else 0)
    width, height = left + v.cols * pitch_x + pad, top + v.rows * pitch_y + pad
    fill = {"red": "#c62828", "black": "#1a1a1a", "green": "#2e7d32"}
    out = [(f'<svg id="board" xmlns="http://www.w3.org/2000/svg" width="{width:.1f}" height="{height:.1f}" '
            f'font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="#fafafa"/>')]
    for c, label in enumerate(cols):
        out.append(f'<text x="{left + (c + .5) * pitch_x:.1f}" y="{top - .5 * px:.1f}" text-anchor="middle" '
                   f'font-size="{px}" fill="#666">{html.escape(label)}</text>')
    for r, label in enumerate(rows):
        out.append(f'<text x="{left - gap:.1f}" y="{top + (r + .5) * pitch_y:.1f}" text-anchor="end" '
                   f'dominant-baseline="central" font-size="{px}" fill="#666">{html.escape(label)}</text>')
    for r, line in enumerate(v.values):
        for c, value in enumerate(line):
            x, y = left + (c + .5) * pitch_x, top + (r + .5) * pitch_y
            if value is None:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius - 1:.1f}" fill="none" stroke="#c4c4c4" '
                           'stroke-dasharray="3 3"/>')
                continue
            ink = fill[colour_of(value)]
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{ink}"/>'
                       f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{.7 * radius:.1f}" fill="#fff"/>'
                       f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" dominant-baseline="central" '
                       f'font-size="{.95 * px:.1f}" font-weight="700" fill="{ink}">{value}</text>')
    out.append("</svg>")
    return "".join(out)


# The board a front-end paints on a <canvas>: sized for the device pixel ratio, labels measured with
# measureText, numbers drawn with fillText. `window.galleryReady` resolves once it is drawn (render.py
# waits for it before the screenshot).
CANVAS_JS = """
(() => {
  const d = %s;
  window.galleryReady = document.fonts.load(`700 ${d.px}px Roboto`).then(() => {
    const c = document.getElementById('board'), ctx = c.getContext('2d');
    const px = d.px, dpr = window.devicePixelRatio || 1;
    const num = `700 ${px}px Roboto, sans-serif`, lab = `400 ${Math.round(px * 0.85)}px Roboto, sans-serif`;
    const ch = Math.round(px * 1.7), gap = Math.max(2, Math.round(px * 0.25)), pad = Math.round(px * 0.5);
    ctx.font = lab;
    const colW = Math.max(Math.round(px * 2.2), ...d.cols.map(t => Math.ceil(ctx.measureText(t).width) + gap));
    const rowW = d.rows.length ? Math.max(...d.rows.map(t => Math.ceil(ctx.measureText(t).width))) + 2 * gap : 0;
    const headH = d.cols.length ? ch : 0;
    const W = 2 * pad + rowW + d.values[0].length * (colW + gap) - gap;
    const H = 2 * pad + headH + d.values.length * (ch + gap) - gap;
    c.style.width = W + 'px'; c.style.height = H + 'px';
    c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
    ctx.scale(dpr, dpr);
    ctx.fillStyle = '#f3f4f6'; ctx.fillRect(0, 0, W, H);
    ctx.font = lab; ctx.fillStyle = '#6b7280'; ctx.textBaseline = 'middle';
    ctx.textAlign = 'center';
    d.cols.forEach((t, j) => ctx.fillText(t, pad + rowW + j * (colW + gap) + colW / 2, pad + ch / 2));
    ctx.textAlign = 'right';
    d.rows.forEach((t, i) => ctx.fillText(t, pad + rowW - gap, pad + headH + i * (ch + gap) + ch / 2));
    ctx.textAlign = 'center'; ctx.font = num;
    const fill = {red: '#d32f2f', black: '#212121', green: '#2e7d32'};
    d.values.forEach((line, i) => line.forEach((x, j) => {
      const X = pad + rowW + j * (colW + gap), Y = pad + headH + i * (ch + gap);
      ctx.beginPath(); ctx.roundRect(X, Y, colW, ch, Math.round(ch * 0.25));
      if (x === null) {
        ctx.setLineDash([3, 3]); ctx.strokeStyle = '#c0c4cc'; ctx.lineWidth = 1; ctx.stroke(); ctx.setLineDash([]);
        return;
      }
      ctx.fillStyle = fill[d.colours[i][j]]; ctx.fill();
      ctx.fillStyle = '#fff'; ctx.fillText(String(x), X + colW / 2, Y + ch / 2 + 1);
    }));
  });
})();
"""


def canvas_board(v: Variant) -> str:
    data = {"values": [list(line) for line in v.values], "colours": [[colour_of(x) for x in line] for line in v.values],
            "cols": col_labels(v.col_header, v.cols), "rows": row_labels(v.row_header, v.rows), "px": v.text_px}
    return f'<canvas id="board"></canvas><script>{CANVAS_JS % json.dumps(data)}</script>'


def tag_grid(v: Variant) -> str:
    """Numbers as Ant Design `Tag`s (red and green presets, the default tag for black) in a CSS grid."""
    preset = {"red": " ant-tag-red", "green": " ant-tag-green", "black": ""}
    return grid_board(v, lambda x: '<div></div>' if x is None else
                      f'<div><span class="chip ant-tag{preset[colour_of(x)]}">{x}</span></div>', "row-gap:8px;padding:12px")


def antd_table(classes: str) -> Callable[[Variant], str]:
    """Ant Design 4's Table markup (what its React component writes), styled by its own CSS."""
    def body(v: Variant) -> str:
        table = html_table(v, table_attrs='style="table-layout: auto;"', thead='class="ant-table-thead"',
                           tbody='class="ant-table-tbody"', th='class="ant-table-cell"',
                           td='class="ant-table-cell"', row_th='class="ant-table-cell"')
        return (f'<div class="ant-table-wrapper"><div class="ant-table {classes}"><div class="ant-table-container">'
                f'<div class="ant-table-content">{table}</div></div></div></div>')
    return body



# ---------------------------------------------------------------------------- third batch: helpers

BLUEPRINT = ("blueprintjs-core-6.20.0/blueprint.css",)
HALFMOON = ("halfmoon-2.0.2/halfmoon.min.css",)


def win98_window(v: Variant) -> str:
    """98.css's table: a `.sunken-panel` holding `table.interactive`, inside a `.window` with its title bar."""
    table = html_table(v, table_attrs='class="interactive"')
    return ('<div class="window" style="display:inline-block"><div class="title-bar"><div class="title-bar-text">'
            'Spin history</div><div class="title-bar-controls"><button aria-label="Minimize"></button>'
            '<button aria-label="Close"></button></div></div><div class="window-body"><div class="sunken-panel">'
            f'{table}</div></div></div>')


def hot_cold_board(v: Variant) -> str:
    """A casino "statistics" board: small coloured squares, the history's most frequent numbers framed hot,
    the least frequent ones framed cold."""
    seen = [x for line in v.values for x in line if x is not None]
    counts = {x: seen.count(x) for x in set(seen)}
    by_count = sorted(counts, key=lambda x: (-counts[x], x))
    hot, cold = set(by_count[:4]), set(by_count[-4:]) - set(by_count[:4])

    def cell(value: int | None) -> str:
        mark = " hot" if value in hot else (" cold" if value in cold else "")
        return f'<div class="sq {colour_of(value)}{mark}">{text(value)}</div>'
    return grid_board(v, cell, "gap:3px;padding:8px")


def history_column(v: Variant) -> str:
    """A live table's history column: the latest spin on top, red numbers to the left, black to the right,
    zero in the middle, in an italic condensed face; optional position numbers beside it."""
    rows = row_labels(v.row_header, v.rows)
    cells = []
    for r, line in enumerate(v.values):
        if rows:
            cells.append(f'<div class="label">{rows[r]}</div>')
        latest = " latest" if r == 0 else ""
        cells += [f'<div class="h {colour_of(x)}{latest}">{text(x)}</div>' for x in line]
    columns = ("auto " if rows else "") + " ".join(["5.5em"] * v.cols)
    return f'<div id="board" style="display:inline-grid;grid-template-columns:{columns}">' + "".join(cells) + "</div>"


# A felt's grain: SVG fractal noise over the cloth's radial gradient, as casino front-ends paint it.
FELT_NOISE = ("url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='180' height='180'%3E"
              "%3Cfilter id='n'%3E%3CfeTurbulence type='fractalNoise' baseFrequency='.85' numOctaves='3' "
              "stitchTiles='stitch'/%3E%3CfeColorMatrix type='saturate' values='0'/%3E%3C/filter%3E"
              "%3Crect width='100%25' height='100%25' filter='url(%23n)' opacity='.22'/%3E%3C/svg%3E\")")

BOOTSTRAP4 = ("bootstrap-4.6.2/bootstrap.min.css",)
FOUNDATION = ("foundation-sites-6.9.0/foundation.min.css",)
FOMANTIC = tuple(f"fomantic-ui-css-2.9.4/components/{c}.min.css" for c in ("reset", "site", "table"))
UIKIT = ("uikit-3.25.29/uikit.min.css",)
PICO = ("picocss-pico-2.1.1/pico.min.css",)
ANTD = ("antd-4.24.16/es/style/index.css", "antd-4.24.16/es/table/style/index.css")

LOOKS: tuple[Look, ...] = (
    Look("bootstrap", BOOTSTRAP, bootstrap("table"), WRAP, tags=("framework",)),
    Look("bootstrap-dark", BOOTSTRAP, bootstrap("table table-dark"), WRAP + " body { background: #212529; }",
         tags=("framework", "dark")),
    Look("bootstrap-striped", BOOTSTRAP, bootstrap("table table-striped table-hover"), WRAP, tags=("framework",)),
    Look("bootstrap-bordered", BOOTSTRAP, bootstrap("table table-bordered"), WRAP, tags=("framework",)),
    Look("bootstrap-small", BOOTSTRAP, bootstrap("table table-sm table-bordered table-striped"), WRAP,
         text_px=(10, 16), tags=("framework", "tight")),
    Look("bootstrap-fluid", BOOTSTRAP, bootstrap("table table-striped"), FLUID, tags=("framework", "wide")),
    Look("bulma-fullwidth", ("bulma-1.0.4/bulma.min.css",), lambda v: html_table(
        v, table_attrs='class="table is-fullwidth is-hoverable"'), FLUID, tags=("framework", "wide")),
    Look("bulma", ("bulma-1.0.4/bulma.min.css",), lambda v: html_table(
        v, table_attrs='class="table is-bordered is-striped is-narrow"'), WRAP, tags=("framework",)),
    Look("pure", ("purecss-3.1.0/pure-min.css",), lambda v: html_table(
        v, table_attrs='class="pure-table pure-table-bordered"'), WRAP, tags=("framework",)),
    Look("skeleton", ("skeleton-css-2.0.4/normalize.css", "skeleton-css-2.0.4/skeleton.css"),
         lambda v: html_table(v), WRAP, tags=("framework",)),
    Look("tailwind", ("tailwindcss-2.2.19/tailwind.subset.css",), tailwind, WRAP, tags=("framework",)),
    Look("github-markdown", ("github-markdown-css-5.9.0/github-markdown-light.css",),
         lambda v: f'<div class="markdown-body">{html_table(v)}</div>', WRAP, tags=("framework",)),
    Look("spreadsheet", ("jspreadsheet-ce-5.0.4/jspreadsheet.css",), spreadsheet,
         WRAP + " body { font-family: Arial, sans-serif; }", headers=((Header.LETTERS, Header.NUMBERS),),
         text_px=(11, 15), tags=("framework", "spreadsheet")),
    # MediaWiki's `wikitable` rules (resources/src/mediawiki.skinning) are not published on npm:
    # these are the few declarations that give its look.
    Look("wikitable", (), lambda v: html_table(v, table_attrs='class="wikitable"'), WRAP + """
        body { font-family: sans-serif; color: #202122; }
        .wikitable { background: #f8f9fa; border: 1px solid #a2a9b1; border-collapse: collapse; margin: 1em 0; }
        .wikitable > * > tr > th, .wikitable > * > tr > td { border: 1px solid #a2a9b1; padding: 0.2em 0.4em; }
        .wikitable > * > tr > th { background: #eaecf0; text-align: center; }""", tags=("wiki",)),
    Look("datagrid", (), lambda v: html_table(v, table_attrs='class="grid"'), WRAP + """
        body { font-family: Roboto, sans-serif; color: rgba(0,0,0,.87); }
        .grid { border-collapse: separate; border-spacing: 0; border: 1px solid rgba(224,224,224,1); border-radius: 4px; }
        .grid th { font-weight: 500; text-align: left; padding: 0 10px; height: 56px; border-bottom: 1px solid rgba(224,224,224,1); }
        .grid td { padding: 0 10px; height: 52px; border-bottom: 1px solid rgba(224,224,224,1); text-align: right; }""",
         tags=("app",)),
    Look("heatmap", (), lambda v: html_table(v, td_attrs=heat, table_attrs='class="heat"'), WRAP + """
        body { font-family: "Open Sans", sans-serif; }
        .heat { border-collapse: collapse; } .heat td { width: 2.4em; height: 2em; text-align: center; }
        .heat th { padding: 0 6px; color: #555; font-weight: normal; }""", tags=("app",)),
    Look("browser-default", (), lambda v: html_table(v, table_attrs='border="0" cellpadding="2"'), "",
         tags=("plain", "tight")),
    Look("browser-border", (), lambda v: html_table(v, table_attrs='border="1" cellpadding="3"'), "",
         tags=("plain",)),
    # Roulette front-ends draw their own boards; the rules below are what such boards are made of.
    Look("roulette-chips", (), lambda v: chip_grid(v, "chip", 6, 12), """
        body { background: #0b3d2e; font-family: Roboto, sans-serif; }
        .chip { width: 2.3em; height: 2.3em; border-radius: 50%; display: flex; align-items: center;
                justify-content: center; color: #fff; font-weight: 700; border: 2px solid rgba(255,255,255,.55); }
        .chip.red { background: radial-gradient(circle at 35% 30%, #ff5a5f, #b3001b 70%); }
        .chip.black { background: radial-gradient(circle at 35% 30%, #555, #111 70%); }
        .chip.green { background: radial-gradient(circle at 35% 30%, #39d98a, #00753a 70%); }
        .chip.empty { background: transparent; border-color: transparent; }
        .label { color: #cde; display: flex; align-items: center; justify-content: center; }""",
         tags=("roulette",)),
    Look("roulette-rings", (), lambda v: chip_grid(v, "ring", 8, 12), """
        body { background: #101418; font-family: "Open Sans", sans-serif; }
        .ring { width: 2.4em; height: 2.4em; border-radius: 50%; display: flex; align-items: center;
                justify-content: center; font-weight: 600; border: 3px solid; box-sizing: border-box; }
        .ring.red { color: #ff4d4f; border-color: #ff4d4f; } .ring.black { color: #e6e6e6; border-color: #9aa0a6; }
        .ring.green { color: #2ecc71; border-color: #2ecc71; } .ring.empty { border-color: transparent; }
        .label { color: #8899aa; display: flex; align-items: center; justify-content: center; }""",
         tags=("roulette", "dark")),
    Look("roulette-felt", (), lambda v: chip_grid(v, "tile", 4, 14), """
        body { background: radial-gradient(#1f7a3a, #0d4d22); font-family: Lato, sans-serif; }
        .tile { min-width: 2.2em; height: 2.2em; border-radius: 6px; display: flex; align-items: center;
                justify-content: center; color: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.6); }
        .tile.red { background: #c8102e; } .tile.black { background: #1b1b1b; } .tile.green { background: #008a3e; }
        .tile.empty { background: rgba(255,255,255,.08); box-shadow: none; }
        .label { color: #e8f5e9; display: flex; align-items: center; justify-content: center; }""",
         tags=("roulette",)),
    Look("roulette-led", (), lambda v: chip_grid(v, "led", 6, 12), """
        body { background: #2b1d14; }
        .led { font-family: "DSEG7 Classic"; min-width: 2.6em; height: 1.9em; display: flex; align-items: center;
               justify-content: flex-end; padding-right: .3em; background: #140c07; border-radius: 3px; }
        .led.red { color: #ff3b30; } .led.black { color: #f5f5f5; } .led.green { color: #34c759; }
        .label { color: #c8b59a; font-family: sans-serif; display: flex; align-items: center; justify-content: center; }""",
         headers=((Header.NONE, Header.NONE), (Header.NUMBERS, Header.NONE)), tags=("roulette", "dark")),
    Look("roulette-tracker", (), lambda v: html_table(
        v, table_attrs='class="tracker"', td_attrs=lambda x: f'class="{colour_of(x)}"'), """
        body { background: #fff; font-family: Arial, sans-serif; }
        .tracker { border-collapse: collapse; } .tracker td, .tracker th { border: 1px solid #ddd; padding: 1px 3px;
        text-align: center; } .tracker .red { color: #d0021b; } .tracker .black { color: #000; }
        .tracker .green { color: #1a9c3e; font-weight: bold; } .tracker th { background: #f4f4f4; font-weight: normal; }""",
         shapes=((20, 15), (10, 20), (8, 15)), text_px=(10, 13), tags=("roulette", "tight")),
    Look("last-numbers-strip", (), lambda v: chip_grid(v, "chip", 3, 6), """
        body { background: #1c1c1c; font-family: Roboto, sans-serif; }
        .chip { width: 1.9em; height: 1.9em; display: flex; align-items: center; justify-content: center;
                color: #fff; font-weight: 700; }
        .chip.red { background: #e0162b; } .chip.black { background: #000; } .chip.green { background: #0a8f3c; }
        .chip.empty { background: transparent; }""",
         shapes=((1, 12), (1, 10), (1, 15)), headers=((Header.NONE, Header.NONE),), tags=("roulette", "strip")),
    # ------------------------------------------------------------------ added later, measured first unseen
    Look("bootstrap4", BOOTSTRAP4, lambda v: html_table(
        v, table_attrs='class="table table-sm table-bordered"', thead='class="thead-light"'), WRAP,
         tags=("framework",)),
    Look("bootstrap4-dark", BOOTSTRAP4, bootstrap("table table-dark table-striped table-hover"),
         WRAP + " body { background: #343a40; }", tags=("framework", "dark")),
    Look("foundation", FOUNDATION, lambda v: html_table(v, table_attrs='class="hover"'), WRAP,
         tags=("framework",)),
    Look("foundation-unstriped-fluid", FOUNDATION, lambda v: html_table(v, table_attrs='class="unstriped"'),
         FLUID, tags=("framework", "wide")),
    Look("fomantic-celled", FOMANTIC, lambda v: html_table(v, table_attrs='class="ui celled striped compact table"'),
         WRAP, tags=("framework",)),
    Look("fomantic-inverted", FOMANTIC, lambda v: html_table(
        v, table_attrs='class="ui inverted selectable table"'), WRAP, tags=("framework", "dark")),
    # The first column of a definition table is bold on grey: without a header column, a data column.
    Look("fomantic-definition", FOMANTIC, lambda v: html_table(
        v, table_attrs='class="ui definition celled table"'), WRAP, tags=("framework",)),
    Look("materialize", ("materialize-css-1.0.0/materialize.min.css",), lambda v: html_table(
        v, table_attrs='class="striped highlight centered"'), WRAP, tags=("framework",)),
    Look("spectre", ("spectre.css-0.5.9/spectre.min.css",), lambda v: html_table(
        v, table_attrs='class="table table-striped table-hover"'), WRAP, tags=("framework",)),
    Look("pico", PICO, lambda v: html_table(v, table_attrs='class="striped"'), WRAP, tags=("framework",)),
    Look("pico-dark", PICO, lambda v: html_table(v), WRAP, html_attrs='data-theme="dark"',
         tags=("framework", "dark")),
    Look("uikit", UIKIT, lambda v: html_table(v, table_attrs='class="uk-table uk-table-divider uk-table-small"'),
         WRAP, tags=("framework",)),
    Look("uikit-striped-fluid", UIKIT, lambda v: html_table(
        v, table_attrs='class="uk-table uk-table-striped uk-table-justify uk-table-middle"'), FLUID,
         tags=("framework", "wide")),
    Look("milligram", ("milligram-1.4.1/milligram.min.css",), lambda v: html_table(v), WRAP, tags=("framework",)),
    Look("water-dark", ("water.css-2.1.1/dark.min.css",), lambda v: html_table(v),
         WRAP + " body { max-width: none; }", tags=("framework", "dark")),
    Look("antd-table", ANTD, antd_table("ant-table-small ant-table-bordered"), WRAP, tags=("framework",)),
    Look("antd-tags", ANTD + ("antd-4.24.16/es/tag/style/index.css",), tag_grid, """
        body { background: #fff; } .label { color: rgba(0,0,0,.45); display: flex; align-items: center;
        justify-content: center; padding: 0 8px; }""", text_px=(12, 18), tags=("framework", "roulette")),
    # Roulette boards drawn otherwise than the CSS chips above: <svg>, <canvas>, conic-gradient chips, neon text.
    Look("roulette-svg-balls", (), svg_board, "body { background: #fafafa; }", tags=("roulette",)),
    Look("roulette-canvas", (), canvas_board, "body { background: #f3f4f6; }", tags=("roulette", "canvas")),
    Look("roulette-casino-chips", (), lambda v: chip_grid(v, "cchip", 5, 12), """
        body { background: #1d2b53; font-family: "Roboto Condensed", sans-serif; }
        .cchip { --c: #222; width: 2.7em; height: 2.7em; border-radius: 50%; display: flex; align-items: center;
                 justify-content: center; color: #fff; font-weight: 700;
                 background: radial-gradient(circle closest-side, var(--c) 0 60%, rgba(255,255,255,.9) 61% 64%,
                             var(--c) 65% 70%, transparent 71%),
                             repeating-conic-gradient(var(--c) 0 22.5deg, #f2f2f2 22.5deg 45deg);
                 box-shadow: inset 0 0 0 2px rgba(0,0,0,.35), 0 2px 3px rgba(0,0,0,.5); }
        .cchip.red { --c: #c0392b; } .cchip.black { --c: #222; } .cchip.green { --c: #1e8449; }
        .cchip.empty { background: none; box-shadow: inset 0 0 0 2px rgba(255,255,255,.15); }
        .label { color: #c9d1e3; display: flex; align-items: center; justify-content: center; }""",
         tags=("roulette",)),
    Look("roulette-neon", (), lambda v: chip_grid(v, "chip", 6, 14), """
        body { background: #07070d; font-family: Lato, sans-serif; }
        .chip { min-width: 2em; height: 1.7em; display: flex; align-items: center; justify-content: center;
                font-weight: 900; -webkit-text-stroke: 1.5px var(--n); color: rgba(0,0,0,0);
                text-shadow: 0 0 4px var(--n), 0 0 10px var(--n); }
        .chip.red { --n: #ff2d55; } .chip.black { --n: #e0f7ff; } .chip.green { --n: #39ff14; }
        .label { color: #6b7280; display: flex; align-items: center; justify-content: center; }""",
         text_px=(14, 28), tags=("roulette", "dark")),

    # ------------------------------------------------------------------ third batch, measured first unseen
    Look("blueprint-striped", BLUEPRINT, lambda v: html_table(
        v, table_attrs='class="bp6-html-table bp6-html-table-striped bp6-html-table-bordered"'), WRAP,
         tags=("framework",)),
    Look("blueprint-dark-compact", BLUEPRINT, lambda v: '<div class="bp6-dark bp6-card">' + html_table(
        v, table_attrs='class="bp6-html-table bp6-compact bp6-html-table-striped bp6-interactive"') + "</div>",
         WRAP + " body { background: #252a31; }", text_px=(10, 18), tags=("framework", "dark", "tight")),
    # Tachyons' "striped" table component: utility classes on every cell, the table at most 64rem wide.
    Look("tachyons-striped", ("tachyons-4.12.0/tachyons.min.css",), lambda v: '<div class="pa4">' + html_table(
        v, table_attrs='class="f6 w-100 mw8 center collapse ba br2 b--black-10" cellspacing="0"',
        th='class="fw6 bb b--black-20 tl pv2 ph3 bg-white"', td='class="pv2 ph3 tr"', tr='class="stripe-dark"')
         + "</div>", FLUID + " body { font-family: -apple-system, 'Helvetica Neue', Roboto, sans-serif; }",
         tags=("framework", "wide")),
    # mini.css lays a table out as flex rows of equal cells and caps it at 400px with a scroll bar; a page
    # showing a whole history lifts that cap.
    Look("mini-dark", ("mini.css-3.0.1/mini-dark.min.css",), lambda v: html_table(v), FLUID +
         " table#board:not(.horizontal) { max-height: none; }", tags=("framework", "dark", "wide")),
    Look("chota-striped", ("chota-0.9.2/chota.min.css",), lambda v: '<div class="container">' + html_table(
        v, table_attrs='class="striped"') + "</div>", FLUID, tags=("framework", "wide")),
    Look("win98", ("98.css-0.1.21/98.css",), win98_window, "body { background: #008080; margin: 0; } #wrap { padding: 16px; }",
         text_px=(11, 13), tags=("framework", "tight")),
    Look("halfmoon-dark", HALFMOON + ("halfmoon-2.0.2/cores/halfmoon.modern.css",), lambda v: html_table(
        v, table_attrs='class="table table-striped table-hover"'), WRAP,
         html_attrs='data-bs-theme="dark" data-bs-core="modern"', tags=("framework", "dark")),
    Look("halfmoon-elegant", HALFMOON + ("halfmoon-2.0.2/cores/halfmoon.elegant.css",), lambda v: html_table(
        v, table_attrs='class="table table-bordered table-sm"'), WRAP, html_attrs='data-bs-core="elegant"',
         text_px=(10, 18), tags=("framework", "tight")),
    # Sakura is classless: a bare <table> in a body 38em wide.
    Look("sakura", ("sakura.css-1.5.1/sakura.css",), lambda v: html_table(v), "", tags=("framework",)),
    # Roulette front-ends once more: a statistics board, pills on felt, a history column.
    Look("roulette-hot-cold", (), hot_cold_board, """
        body { background: #0f1923; font-family: "Open Sans", sans-serif; }
        #wrap { display: inline-block; margin: 12px; background: #16222e; border-radius: 8px; }
        .sq { min-width: 1.9em; height: 1.9em; display: flex; align-items: center; justify-content: center;
              color: #fff; font-weight: 600; border-radius: 3px; box-sizing: border-box; border: 2px solid transparent; }
        .sq.red { background: #d7263d; } .sq.black { background: #2b2d31; } .sq.green { background: #1f9d55; }
        .sq.empty { background: rgba(255,255,255,.04); }
        .sq.hot { border-color: #ffb020; box-shadow: 0 0 6px rgba(255,176,32,.8); }
        .sq.cold { border-color: #4fc3f7; box-shadow: 0 0 6px rgba(79,195,247,.7); }
        .label { color: #7f8fa3; display: flex; align-items: center; justify-content: center; padding: 0 4px; }""",
         text_px=(10, 16), tags=("roulette", "dark", "tight")),
    Look("roulette-felt-pills", (), lambda v: grid_board(
        v, lambda x: f'<div class="pill {colour_of(x)}">{text(x)}</div>', "gap:7px 5px;padding:14px"), f"""
        body {{ margin: 0; min-height: 100vh; font-family: Lato, sans-serif;
               background: {FELT_NOISE}, radial-gradient(ellipse at 50% 30%, #1e7b45 0%, #0f5130 65%, #0a3d24 100%); }}
        #wrap {{ padding: 20px; display: inline-block; }}
        .pill {{ min-width: 2.4em; padding: .15em .55em; border-radius: 999px; color: #fff; font-weight: 700;
                text-align: center; box-shadow: 0 2px 4px rgba(0,0,0,.55), inset 0 1px 0 rgba(255,255,255,.25); }}
        .pill.red {{ background: linear-gradient(#e53935, #b71c1c); }}
        .pill.black {{ background: linear-gradient(#3a3a3a, #111); }}
        .pill.green {{ background: linear-gradient(#2fbf71, #0b7a3e); }}
        .pill.empty {{ box-shadow: none; border: 1px dashed rgba(255,255,255,.3); }}
        .label {{ color: #f1e9c9; display: flex; align-items: center; justify-content: center; }}""",
         text_px=(12, 22), tags=("roulette",)),
    Look("roulette-history-column", (), history_column, """
        body { background: #0c0c0c; }
        #wrap { display: inline-block; margin: 12px; background: #161616; border: 1px solid #333; }
        .h { height: 1.6em; display: flex; align-items: center; padding: 0 .45em; border-bottom: 1px solid #2a2a2a;
             font-family: "Roboto Condensed", sans-serif; font-style: italic; font-weight: 700; }
        .h.red { justify-content: flex-start; color: #ff3b3b; } .h.black { justify-content: flex-end; color: #f0f0f0; }
        .h.green { justify-content: center; color: #2ee66b; }
        .h.latest { background: rgba(255,213,74,.12); box-shadow: inset 3px 0 0 #ffd54a; }
        .label { color: #777; font-family: "Roboto Condensed", sans-serif; display: flex; align-items: center;
                 justify-content: flex-end; padding: 0 .5em; border-bottom: 1px solid #2a2a2a; }""",
         shapes=((20, 1), (15, 1), (12, 1), (10, 1)), headers=((Header.NONE, Header.NONE), (Header.NONE, Header.NUMBERS)),
         text_px=(14, 26), tags=("roulette", "dark", "column")),
)

BY_NAME = {look.name: look for look in LOOKS}
