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
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from adjudicator.publish.manifest import REPORT

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
margin:0 auto;max-width:1100px;padding:24px}
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
"""


def _write(folder: Path, text: str) -> Path:
    """Write ``folder``/report.html through a temporary name, so a reader never sees half a file."""
    path = Path(folder) / REPORT
    tmp = path.with_name(f".{REPORT}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


#: (key in the row, header, kind: "text", "code", "int", "money", "bool", "change": "old → new" on two lines)
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
    shown = "—" if value is None or value == "" else _esc(value)
    return f'<td class="{kind}">{shown}</td>'


def _attr(value: Any) -> str:
    """A raw value for a data-* attribute: JSON for lists and booleans, "" for null."""
    if isinstance(value, bool | list):
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


def _page(title: str, subtitle: str, body: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may load from anywhere: the page is one file, charts inline
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="sub">{_esc(subtitle)}</p>' + "\n".join(body) + "</body></html>\n"
    )


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_esc(title)}</h2>{''.join(parts)}</section>"


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


__all__ = ["CSS", "Column", "counts_block", "table"]
