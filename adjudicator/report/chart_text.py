"""The text a chart renderer is given: every string of a Vega-Lite spec made safe to draw (``safe_spec``).

A chart's labels come from the data (payer, claim and policy ids, ``--payer``,
a diff's moved claims). The renderer writes SVG, which is XML: a character
XML forbids (C0 controls other than tab and newline, U+FFFE, U+FFFF, a lone
surrogate) made it abort the whole process, and a very long label made it run
for minutes. So before a spec reaches it, such characters are written as
visible escapes (``\\x01``, ``\\ufffe``), and a label longer than
``LABEL_CHARACTERS`` is shortened with an ellipsis. The page's tables keep the
full value (``adjudicator.report.html`` escapes it for HTML).
"""

from __future__ import annotations

import re
from typing import Any, Final

#: a chart label (a category, a legend entry) is shortened to this many characters, the ellipsis included
LABEL_CHARACTERS: Final = 60
#: what XML 1.0 forbids in text, and tab and newline aside, what a label should not carry: C0 controls
#: (carriage return too), U+FFFE and U+FFFF, and surrogates (only a lone one can be in a Python string)
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_ELLIPSIS: Final = "…"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with every character XML forbids written as a visible escape (``\\x01``, ``\\ud800``)."""
    return _FORBIDDEN.sub(_escape, text)


def short_label(text: str, limit: int = LABEL_CHARACTERS) -> str:
    """``safe_text(text)``, cut to ``limit`` characters with an ellipsis when longer."""
    text = safe_text(text)
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


class _Labels:
    """One spec's labels: each value shortened once, two long values never shortened to the same label (a
    bar per value, as in the table)."""

    def __init__(self) -> None:
        self.shown: dict[str, str] = {}
        self.taken: set[str] = set()

    def __call__(self, text: str) -> str:
        if text in self.shown:
            return self.shown[text]
        shown = short_label(text)
        if shown != text and shown in self.taken:
            n = 2
            while shown in self.taken:
                tag = f"{_ELLIPSIS}#{n}"
                shown = short_label(text)[: LABEL_CHARACTERS - len(tag)] + tag
                n += 1
        self.shown[text] = shown
        self.taken.add(shown)
        return shown


def safe_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Vega-Lite spec that the renderer can draw whatever the data: every string ``safe_text``,
    and the data's values and the scales' domains (what becomes a label) shortened alike, so a domain still
    names the values it orders."""
    labels = _Labels()

    def walk(node: Any, shorten: bool) -> Any:
        if isinstance(node, str):
            return labels(node) if shorten else safe_text(node)
        if isinstance(node, dict):
            return {key: walk(value, shorten or key in ("values", "domain")) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return [walk(item, shorten) for item in node]
        return node

    safe: dict[str, Any] = walk(spec, False)
    return safe


__all__ = ["LABEL_CHARACTERS", "safe_spec", "safe_text", "short_label"]
