"""The report's HTML: escaping, cells and tables with raw ``data-*`` values, headline figures, sections, the page.

Every number shown is also in a table whose rows carry the raw values as
``data-*`` attributes, so the page can be checked by parsing it
(``tests/e2e/test_report.py``). The page loads nothing: its Content-Security-Policy
allows only inline styles and ``data:`` images.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from adjudicator.errors import OutputError
from adjudicator.publish.manifest import REPORT
from adjudicator.report.labels import labelled

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #d9dee3;
padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:#52606d;margin:0 0 16px}
dl.counts{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
dl.counts div{background:#f5f7fa;border:1px solid #e4e7eb;border-radius:6px;padding:8px 14px;min-width:120px}
dl.counts dt{color:#52606d;font-size:12px}dl.counts dd{margin:0;font-size:19px;font-weight:600}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
tr.bad td{background:#fdecea}.ok{color:#1e7e34}.notok{color:#c0392b;font-weight:600}
figure.chart{margin:8px 0 12px}figure.chart svg{max-width:100%;height:auto}
td.change{white-space:nowrap}figcaption{color:#52606d;font-size:12px}.note{color:#52606d;font-style:italic}
details summary{cursor:pointer;color:#3e4c59}
nav.toc{font-size:13px;margin:0 0 8px}nav.toc a{color:#1f4e79;margin-right:14px;white-space:nowrap}
dl.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px;margin:12px 0}
dl.cards div{background:#f5f7fa;border:1px solid #e4e7eb;border-radius:6px;padding:8px 10px;min-width:0}
dl.cards dt{color:#52606d;font-size:12px}dl.cards dd{margin:0;font-size:20px;font-weight:600;white-space:nowrap}
dl.cards dd.more{font-size:11px;font-weight:400;color:#52606d;white-space:normal;display:inline}
dl.cards dd.more+dd.more:before{content:" · "}dl.cards dd.bad{color:#c0392b}
section.audit details>summary{font-size:13px}p.alert{color:#c0392b;font-weight:600}
"""


#: where a page says that its charts could not be drawn (``adjudicator.report.draw``): a comment, so no escaped
#: value can spell it
CHARTS_NOTE = "<!--charts-note-->"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _write(folder: Path, text: str) -> Path:
    """Write ``folder``/report.html through a temporary name, so a reader never sees half a file."""
    path = Path(folder) / REPORT
    tmp = path.with_name(f".{REPORT}.tmp-{os.getpid()}")
    try:
        # a lone surrogate (a manifest may spell one, as JSON allows) has no UTF-8 form: U+FFFD stands for it
        tmp.write_text(_SURROGATE.sub("\ufffd", text), encoding="utf-8")
        os.replace(tmp, path)
    except PermissionError:
        tmp.unlink(missing_ok=True)
        raise OutputError("permission denied: the report cannot be written there", path=path) from None
    return path


def write_page(folder: Path, page: str) -> Path:
    """Write a finished page as ``folder``/report.html (through a temporary name); returns its path."""
    return _write(folder, page)


#: (key in the row, header, kind): "text", "code", "int", "money", "bool", "change" ("old → new" on two lines),
#: "label" (a code with its plain-language label, ``labels.labelled``), "codes" (a list, or a mapping of code to
#: count, on one line), "percent" (a ratio as a percentage)
Column = tuple[str, str, str]


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _money(value: Any) -> str:
    return f"${Decimal(value or 0):,.2f}"


def _cell(value: Any, kind: str) -> str:
    if kind == "int":
        return f'<td class="n">{int(value or 0):,}</td>'
    if kind == "money":
        return f'<td class="n">{_money(value)}</td>'
    if kind == "change" and value and " → " in str(value):
        old, new = str(value).split(" → ", 1)
        return f'<td class="change">{_esc(old)}<br>→ {_esc(new)}</td>'
    if kind == "bool":
        return '<td class="ok">yes</td>' if value else '<td class="notok">NO</td>'
    if kind == "label":
        return f'<td class="text">{_esc(labelled(value))}</td>'
    if kind == "percent":
        return f'<td class="n">{_percent(value)}</td>'
    if kind == "codes" and isinstance(value, list | dict):
        if isinstance(value, dict):
            shown = ", ".join(f"{k} ({v:,})" if isinstance(v, int) else f"{k} ({v})" for k, v in value.items())
        else:
            shown = ", ".join(map(str, value))
        return f'<td class="codes">{_esc(shown) or "—"}</td>'
    shown = "—" if value is None or value == "" else _esc(value)
    return f'<td class="{kind}">{shown}</td>'


def _percent(value: Any) -> str:
    """A ratio (0.638...) as a percentage ("63.8%"); "—" for none."""
    return "—" if value is None or value == "" else f"{float(value) * 100:.1f}%"


def _attr(value: Any) -> str:
    """A raw value for a data-* attribute: JSON for lists, mappings and booleans, "" for null."""
    if isinstance(value, bool | list | dict):
        return _esc(json.dumps(value))
    return _esc(value)


def table(
    table_id: str | None,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    row_class: Callable[[dict[str, Any]], str] | None = None,
    extra: str = "",
) -> str:
    """A table whose every row carries each shown value raw as ``data-<key>`` (null: the attribute is absent)."""
    head = "".join(f'<th class="{"n" if k in ("int", "money") else ""}">{_esc(h)}</th>' for _, h, k in columns)
    thead = f"<thead><tr>{head}</tr></thead>" if any(h for _, h, _ in columns) else ""
    body = []
    for row in rows:
        attrs = "".join(f' data-{key}="{_attr(row[key])}"' for key, _, _ in columns if row.get(key) is not None)
        klass = f' class="{row_class(row)}"' if row_class and row_class(row) else ""
        body.append(f"<tr{klass}{attrs}>" + "".join(_cell(row.get(k), kind) for k, _, kind in columns) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f'<table{ident} class="data"{extra}>{thead}<tbody>{"".join(body)}</tbody></table>'


def counts_block(items: Sequence[tuple[str, str, Any, str]]) -> str:
    """Headline figures: (id, label, raw value, shown text), each with its raw value in ``data-value``."""
    cells = "".join(
        f'<div><dt>{_esc(label)}</dt><dd id="{ident}" data-value="{_attr(raw)}">{_esc(shown)}</dd></div>'
        for ident, label, raw, shown in items
    )
    return f'<dl class="counts">{cells}</dl>'


#: a headline card: (id, label, raw value, shown text, details); each detail (id or None, raw value, shown text)
Card = tuple[str, str, Any, str, Sequence[tuple[str | None, Any, str]]]


def _figure(ident: str | None, raw: Any) -> str:
    return f' id="{ident}" data-value="{_attr(raw)}"' if ident else ""


def cards(items: Sequence[Card], *, bad: Iterable[str] = ()) -> str:
    """Headline figures as one row of cards, each figure with its raw value in ``data-value``; a card's details
    (smaller, under the figure) likewise; the ids in ``bad`` are shown as alarms."""
    alarms = set(bad)
    out = []
    for ident, label, raw, shown, details in items:
        klass = ' class="bad"' if ident in alarms else ""
        more = "".join(
            f'<dd class="more"{_figure(d_id, d_raw)}>{_esc(d_shown)}</dd>' for d_id, d_raw, d_shown in details
        )
        out.append(
            f'<div><dt>{_esc(label)}</dt><dd id="{ident}"{klass} data-value="{_attr(raw)}">{_esc(shown)}</dd>'
            f"{more}</div>"
        )
    return f'<dl class="cards">{"".join(out)}</dl>'


def contents(entries: Sequence[tuple[str, str]]) -> str:
    """A table of contents: a link to each (element id, title)."""
    links = "".join(f'<a href="#{_esc(ident)}">{_esc(title)}</a>' for ident, title in entries)
    return f'<nav class="toc" id="contents" aria-label="contents">{links}</nav>'


def _page(title: str, subtitle: str, body: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may load from anywhere: the page is one file, charts inline
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="sub">{_esc(subtitle)}</p>{CHARTS_NOTE}' + "\n".join(body) + "</body></html>\n"
    )


def _section(title: str, *parts: str, ident: str | None = None, klass: str | None = None) -> str:
    """A section under its heading; ``ident``: its element id (a table of contents' anchor)."""
    attrs = (f' id="{_esc(ident)}"' if ident else "") + (f' class="{_esc(klass)}"' if klass else "")
    return f"<section{attrs}><h2>{_esc(title)}</h2>{''.join(parts)}</section>"


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


__all__ = ["CHARTS_NOTE", "CSS", "Card", "Column", "cards", "contents", "counts_block", "table", "write_page"]
