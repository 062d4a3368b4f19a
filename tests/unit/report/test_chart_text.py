"""What a chart renderer is given: characters XML forbids written as visible escapes, long labels shortened with
an ellipsis (two long values never to the same label), a spec's domain still naming its data's values."""

from __future__ import annotations

import pytest

from adjudicator.report.chart_text import LABEL_CHARACTERS, safe_spec, safe_text, short_label

SAFE_TEXT = [
    ("plain", "HCSC", "HCSC"),
    ("C0 control", "HC\x01SC", "HC\\x01SC"),
    ("NUL", "a\x00b", "a\\x00b"),
    ("carriage return", "a\rb", "a\\x0db"),
    ("tab and newline stay", "a\tb\nc", "a\tb\nc"),
    ("U+FFFE", "a\ufffeb", "a\\ufffeb"),
    ("U+FFFF", "a\uffffb", "a\\uffffb"),
    ("lone surrogate", "a\ud800b", "a\\ud800b"),
    ("markup is the renderer's to escape", "<b>&amp;", "<b>&amp;"),
    ("other characters stay", "é\u2028✓\x85", "é\u2028✓\x85"),
]


@pytest.mark.parametrize(("case", "text", "expected"), SAFE_TEXT, ids=[c[0] for c in SAFE_TEXT])
def test_safe_text_escapes_what_xml_forbids(case: str, text: str, expected: str) -> None:
    assert safe_text(text) == expected


def test_a_long_label_is_shortened_with_an_ellipsis() -> None:
    shown = short_label("X" * 100_000)
    assert len(shown) == LABEL_CHARACTERS and shown.endswith("…")
    assert short_label("X" * LABEL_CHARACTERS) == "X" * LABEL_CHARACTERS


def test_a_spec_keeps_its_domain_matching_its_data_and_long_values_apart() -> None:
    a, b = "A" * 200 + "1", "A" * 200 + "2"
    spec = {
        "data": {"values": [{"claim": a, "n": 1}, {"claim": b, "n": 2}, {"claim": "HC\x01SC", "n": 3}]},
        "encoding": {"y": {"field": "claim", "scale": {"domain": [b, a, "HC\x01SC"]}}, "x": {"title": "t\x02"}},
        "labelExpr": "datum.value == 0 ? '$0' : " + "x" * 200,
    }
    safe = safe_spec(spec)
    shown = [v["claim"] for v in safe["data"]["values"]]
    assert len(set(shown)) == 3, "two long values drawn as one bar"
    assert all(len(s) <= LABEL_CHARACTERS for s in shown) and shown[2] == "HC\\x01SC"
    assert safe["encoding"]["y"]["scale"]["domain"] == [shown[1], shown[0], shown[2]]
    assert safe["encoding"]["x"]["title"] == "t\\x02"
    assert safe["labelExpr"] == spec["labelExpr"], "an expression is never shortened"
    assert [v["n"] for v in safe["data"]["values"]] == [1, 2, 3]
    assert spec["data"]["values"][0]["claim"] == a, "the spec given is not changed"
