"""A report page read back from its markup, for the report's tests: the element ids in document order, the links,
the sections and whether each lies in a closed ``<details>``, the headline figures (``data-value``), the tables'
rows (their ``data-*`` values), and each chart's marks as the SVG describes them (their ``aria-label``)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

#: elements that never have an end tag
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"})


class AnalystPage(HTMLParser):
    """What a report shows, read from its markup (one level of detail more than tests/e2e/test_report.py's)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        #: the page's element ids outside the charts, in document order; and every id, the charts' included
        self.ids: list[str] = []
        self.all_ids: list[str] = []
        self.links: list[str] = []
        self.contents: list[str] = []
        #: section ids in page order
        self.sections: list[str] = []
        #: table id -> whether it sits inside a closed <details> (hidden until opened)
        self.collapsed: dict[str, bool] = {}
        self.figures: dict[str, str] = {}
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.table_headers: dict[str, list[str]] = {}
        #: chart name -> the aria-labels of its marks (one per bar, cell or point drawn), and of its legends
        self.marks: dict[str, list[str]] = {}
        self.legends: dict[str, list[str]] = {}
        #: chart name -> every text the SVG draws (axis labels, legend labels, titles)
        self.texts: dict[str, list[str]] = {}
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._rows: list[dict[str, str]] | None = None
        self._table: str | None = None
        self._in_th = False
        self._chart: str | None = None
        self._in_svg_text = False
        self._in_nav = False
        self.feed(text)

    def _inside_closed_details(self) -> bool:
        return any(tag == "details" and "open" not in attrs for tag, attrs in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        data = {k[5:]: v for k, v in found.items() if k.startswith("data-")}
        if "id" in found:
            self.all_ids.append(found["id"])
            if self._chart is None:
                self.ids.append(found["id"])
        if tag == "a" and "href" in found:
            self.links.append(found["href"])
            if self._in_nav:
                self.contents.append(found["href"])
        if tag == "nav":
            self._in_nav = True
        if tag == "section" and "id" in found:
            self.sections.append(found["id"])
        if tag == "table":
            self._table = found.get("id")
            self._rows = []
            if self._table:
                self.tables[self._table] = self._rows
                self.table_headers[self._table] = []
                self.collapsed[self._table] = self._inside_closed_details()
        elif tag == "th" and self._table:
            self._in_th = True
        elif tag == "tr" and self._rows is not None and data:
            self._rows.append(data)
        elif tag == "dd" and "id" in found:
            self.figures[found["id"]] = found["data-value"]
        elif tag == "figure" and "chart" in data:
            self._chart = data["chart"]
            self.marks[self._chart], self.legends[self._chart], self.texts[self._chart] = [], [], []
        elif self._chart is not None and found.get("role") == "graphics-symbol" and "aria-label" in found:
            kind = found.get("aria-roledescription")
            if kind == "legend":
                self.legends[self._chart].append(found["aria-label"])
            elif kind != "axis":
                self.marks[self._chart].append(found["aria-label"])
        elif tag == "text" and self._chart is not None:
            self._in_svg_text = True
        if tag not in _VOID and not tag.endswith("/"):
            self._stack.append((tag, found))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        if tag == "table":
            self._rows, self._table = None, None
        elif tag == "th":
            self._in_th = False
        elif tag == "figure":
            self._chart = None
        elif tag == "text":
            self._in_svg_text = False
        elif tag == "nav":
            self._in_nav = False

    def handle_data(self, data: str) -> None:
        if self._in_th and self._table:
            self.table_headers[self._table].append(data.strip())
        if self._in_svg_text and self._chart is not None:
            self.texts[self._chart].append(data)


def aria_fields(label: str) -> dict[str, Any]:
    """A mark's aria-label ("month: 2019-01; Sum of billed: $1.2k; determination: X") as a dict."""
    fields = {}
    for part in label.split("; "):
        key, _, value = part.partition(": ")
        fields[key] = value
    return fields


__all__ = ["AnalystPage", "aria_fields"]
