"""Misread values (issue 13) at the reader and the row checks: every typed Parquet value, whole-number text and
header spelling that tests/e2e/test_typed_inputs.py also runs end to end (one or two cases each there), with the
same expectations: a value a run would reject fails that check here, a value a run keeps is the typed column's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.engine.checks import FLAG_PREFIX, any_failed, flag_columns, with_checks
from adjudicator.readers.canonical import scan_canonical
from tests.helpers import BASE_LINE
from tests.support.typed_values import HEADERS_MAPPED, TYPED_CASES, WHOLE_NUMBER_TEXTS, header_csv, typed_parquet

#: True when the row passed every row check (a run would adjudicate it rather than reject it)
VALID = "valid"


def _checked(path: Path) -> pl.DataFrame:
    """The file's lines as the reader and the row checks leave them, with VALID."""
    checked = with_checks(scan_canonical([str(path)])).collect()
    return checked.with_columns((~any_failed(flag_columns(checked.schema))).alias(VALID))


@pytest.mark.parametrize(("case", "column", "dtype", "value", "expected"), TYPED_CASES, ids=[c[0] for c in TYPED_CASES])
def test_typed_parquet_values_get_the_same_checks_as_text(
    tmp_path: Path, case: str, column: str, dtype: pl.DataType, value: Any, expected: Any
) -> None:
    checked = _checked(typed_parquet(tmp_path / "typed.parquet", [{column: value}], {column: dtype}))
    if isinstance(expected, str) and expected.islower() and "_" in expected:
        assert checked[VALID].to_list() == [False], checked
        assert checked[FLAG_PREFIX + expected][0], checked
    else:
        assert checked[VALID].to_list() == [True], checked
        assert checked[column][0] == expected


@pytest.mark.parametrize(("text", "ok"), WHOLE_NUMBER_TEXTS)
def test_text_whole_numbers(tmp_path: Path, text: str, ok: bool) -> None:
    path = tmp_path / "c.csv"
    path.write_text(",".join(BASE_LINE) + "\n" + ",".join(str(v) for v in {**BASE_LINE, "units": text}.values()) + "\n")
    assert _checked(path)[VALID][0] is ok, text


@pytest.mark.parametrize(("case", "header", "newline"), HEADERS_MAPPED, ids=[h[0] for h in HEADERS_MAPPED])
def test_header_names_are_trimmed_and_matched_regardless_of_case(
    tmp_path: Path, case: str, header: list[str], newline: str
) -> None:
    checked = _checked(header_csv(tmp_path / "h.csv", header, newline=newline))
    assert checked[VALID].to_list() == [True], checked
    assert checked["claim_id"][0] == "C1" and checked["place_of_service"][0] == "11"
    assert checked["plan_id"][0] == "HCSC-PPO-100"
    assert not [c for c in checked.columns if c.strip() != c or c.lower() != c]
