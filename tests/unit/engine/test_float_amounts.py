"""A float64 billed_amount is checked and converted numerically: the verdict and the value must be exactly those
of its text (polars' shortest round-trip form) under the text rules, for every float, and files of different
amount types combined keep each file's own verdicts."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from adjudicator.contract import BILLED_AMOUNT
from adjudicator.engine.checks import parse, raw_form_dtype
from adjudicator.readers.canonical import scan_canonical
from tests.helpers import BASE_LINE

#: amounts whose text is a tricky case: too many decimals, a binary value below its cents (0.29), signed zero,
#: the plain-notation boundary, exponent notation, not numbers, the smallest subnormal
EDGES = [
    0.0,
    -0.0,
    0.29,
    -0.004,
    12.345,
    0.1 + 0.2,
    2.675,
    0.005,
    1e-5,
    5e-324,
    1e13 - 0.01,
    1e13,
    1e13 + 0.5,
    123456789012345.67,
    1e15,
    9999999999999998.0,
    1e16,
    1e300,
    float("nan"),
    float("inf"),
    -float("inf"),
    -1.5,
    100.0,
]


def _amounts() -> list[float]:
    draw = random.Random(20)
    cents = [draw.randint(-(10**17), 10**17) / 100 for _ in range(20_000)]
    small = [draw.randint(-(10**8), 10**8) / 100 for _ in range(20_000)]
    thousandths = [draw.randint(0, 10**7) / 1000 for _ in range(20_000)]
    anything = [draw.uniform(-1e17, 1e17) for _ in range(5_000)] + [draw.uniform(-10, 10) for _ in range(5_000)]
    return EDGES + cents + small + thousandths + anything


def test_the_numeric_check_gives_the_texts_verdict_and_value() -> None:
    assert raw_form_dtype(BILLED_AMOUNT, pl.Float64()) == pl.Float64
    frame = pl.DataFrame({"_raw_" + BILLED_AMOUNT: _amounts()}, schema={"_raw_" + BILLED_AMOUNT: pl.Float64})
    got = frame.select(parse(BILLED_AMOUNT, pl.Float64()).alias("numeric"))["numeric"]
    as_text = frame.select(pl.col("_raw_" + BILLED_AMOUNT).cast(pl.String))
    want = as_text.select(parse(BILLED_AMOUNT, pl.String()).alias("text"))["text"]
    assert got.dtype == want.dtype
    differ = frame.with_columns(got, want).filter(pl.col("numeric").ne_missing(pl.col("text")))
    assert differ.is_empty(), differ
    assert want.null_count() > 1_000 and got.drop_nulls().len() > 40_000  # both kinds are exercised


def test_a_float_file_combined_with_a_text_file_keeps_each_files_verdicts(tmp_path: Path) -> None:
    line = {k: v for k, v in BASE_LINE.items()}
    floats = pl.DataFrame(
        [{**line, "claim_id": "F1", BILLED_AMOUNT: 12.5}, {**line, "claim_id": "F2", BILLED_AMOUNT: 0.004}]
    )
    floats = floats.with_columns(pl.col(BILLED_AMOUNT).cast(pl.Float64))
    floats.write_parquet(tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text(",".join(line) + "\n" + ",".join({**line, "claim_id": "T1"}.values()) + "\n")
    raw = scan_canonical([str(tmp_path / "a.parquet"), str(tmp_path / "b.csv")]).collect()
    assert raw.schema[BILLED_AMOUNT] == pl.String
    assert raw[BILLED_AMOUNT].to_list()[:2] == ["12.5", "0.004"]
    alone = scan_canonical([str(tmp_path / "a.parquet")]).collect()
    assert alone.schema[BILLED_AMOUNT] == pl.Float64
