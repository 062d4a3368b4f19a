"""Deterministic, chunked generator of canonical claim-line files (contract section 2).

Grain: one row per claim line; (claim_id, line_number) is unique except on the
rows deliberately given a duplicated key. The output depends only on
(--lines, --seed, the plan/payer ids found in `rules/`): chunk k is drawn from
its own generator seeded with (seed, k), so memory stays bounded by one chunk
whatever --lines is, and a file of N lines is a prefix of a file of M > N lines
except for the last, shortened claim.

Shape (so every policy version, gap and decision row is hit):
- claims of 1-6 lines; each member has about three claims per chunk;
- 97545/97546 on about 4% of lines: 97546 mostly on the line after a 97545 of
  the same claim and date, sometimes alone; 97545 with units 2 on 5%; about
  10% of work-hardening claims share member and date with another one (two
  97545 lines for one member/date);
- payers of the rule tables plus unknown ones; plans of the plans table plus
  unknown ones and nulls; service dates uniform over 1995-01-01..2027-12-31;
- place of service mostly 11, some 22/21/51/61/02/12 and nulls;
- about 0.1% bad rows (see DEFECTS). The same rows are bad in both formats:
  text-only defects (an impossible date, non-numeric units) become nulls in
  Parquet, so both formats carry the same number of rejects.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from benchmarks import _rules

GENERATOR_VERSION = 1
#: lines per chunk; fixed (not an option) because chunk boundaries shape the data
CHUNK_LINES = 1_000_000
FORMATS = ("parquet", "csv")

CLAIM_SIZE_P = np.array([0.22, 0.22, 0.2, 0.15, 0.12, 0.09])  # 1..6 lines, mean ~3
#: claim-level probabilities of a work-hardening claim (97545 first) and of a lone 97546
P_WH_CLAIM = 0.075
P_ADDON_ALONE_CLAIM = 0.006
P_ADDON_AFTER_PRIMARY = 0.8
P_PRIMARY_UNITS_2 = 0.05
P_SAME_MEMBER_DATE = 0.10
P_LINE_DATE_SHIFT = 0.04
MEMBERS_PER_CLAIM = 1 / 3
P_BAD_ROW = 0.001

UNKNOWN_PAYERS = ("UHC", "CIGNA", "PAYER-ZZ9")
UNKNOWN_PLANS = ("PLAN-UNKNOWN-1", "PLAN-UNKNOWN-2")
P_UNKNOWN_PAYER = 0.12
P_UNKNOWN_PLAN = 0.08
P_NULL_PLAN = 0.08

OTHER_CODES = (
    "97110",
    "97140",
    "97530",
    "97112",
    "97116",
    "97161",
    "97162",
    "97750",
    "97014",
    "G0283",
    "99213",
    "99214",
    "99203",
    "36415",
    "85025",
    "80053",
    "J1100",
    "72100",
    "73030",
    "20610",
)
POS_CODES = ("11", "22", "21", "51", "61", "02", "12", None)
POS_P = np.array([0.78, 0.07, 0.03, 0.01, 0.02, 0.02, 0.02, 0.05])

FIRST_DAY = int(np.datetime64("1995-01-01", "D").astype(np.int64))
LAST_DAY = int(np.datetime64("2027-12-31", "D").astype(np.int64))

#: defect name -> (text written to CSV or None to keep the typed value's text)
DEFECTS = (
    "bad_date",  # CSV: impossible / malformed date; Parquet: null
    "units_not_numeric",  # CSV: text; Parquet: null
    "units_zero",
    "negative_amount",
    "short_code",
    "duplicate_key",  # copies (claim_id, line_number) of the previous line
    "missing_member",
)
BAD_DATES = ("2024-13-01", "2023-02-30", "20240101", "not a date")
BAD_UNITS = ("two", "1.5", "x")
SHORT_CODES = ("9754", "975", "97")

SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("line_number", pa.int64()),
        ("member_id", pa.string()),
        ("payer_id", pa.string()),
        ("plan_id", pa.string()),
        ("service_date", pa.date32()),
        ("procedure_code", pa.string()),
        ("units", pa.int64()),
        ("billed_amount", pa.decimal128(18, 2)),
        ("place_of_service", pa.string()),
    ]
)
CSV_SCHEMA = pa.schema([(field.name, pa.string()) for field in SCHEMA])


@dataclass(frozen=True)
class Vocabulary:
    """The categorical values a run draws from, fixed before the first chunk."""

    payers: tuple[str, ...]
    plans: tuple[str, ...]

    @classmethod
    def from_rules(cls) -> Vocabulary:
        return cls(payers=_rules.payer_ids(), plans=_rules.plan_ids())


@dataclass(frozen=True)
class Chunk:
    """One chunk: the typed table for Parquet and the all-text table for CSV."""

    typed: pa.Table
    text: pa.Table


def _decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """decimal128(18, 2) whose unscaled values are `cents` (two's complement, little endian)."""
    words = np.empty((cents.size, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), cents.size, [None, pa.py_buffer(words)])


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _take(values: tuple[str | None, ...], index: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(index))


def _weighted(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    return rng.choice(weights.size, size=n, p=weights / weights.sum())


def make_chunk(seed: int, index: int, n: int, vocab: Vocabulary) -> Chunk:
    """Chunk `index` of a file: `n` lines drawn from a generator seeded with (seed, index)."""
    rng = np.random.default_rng([seed, index])

    # claims: sizes 1..6, the last one cut to fill exactly n lines
    sizes = _weighted(rng, n, CLAIM_SIZE_P) + 1
    ends = np.cumsum(sizes)
    n_claims = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:n_claims]
    sizes[-1] -= int(ends[n_claims - 1]) - n
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    claim_of = np.repeat(np.arange(n_claims), sizes)
    line_number = np.arange(n, dtype=np.int64) - starts[claim_of] + 1

    # claim-level attributes
    n_members = max(1, int(n_claims * MEMBERS_PER_CLAIM))
    member = rng.integers(0, n_members, n_claims)
    n_known_payers = len(vocab.payers)
    payer = rng.integers(0, n_known_payers, n_claims)
    unknown_payer = rng.random(n_claims) < P_UNKNOWN_PAYER
    payer[unknown_payer] = n_known_payers + rng.integers(0, len(UNKNOWN_PAYERS), int(unknown_payer.sum()))
    n_known_plans = len(vocab.plans)
    plan = rng.integers(0, n_known_plans, n_claims)
    u = rng.random(n_claims)
    unknown_plan = u < P_UNKNOWN_PLAN
    plan[unknown_plan] = n_known_plans + rng.integers(0, len(UNKNOWN_PLANS), unknown_plan.sum())
    null_plan = (u >= P_UNKNOWN_PLAN) & (u < P_UNKNOWN_PLAN + P_NULL_PLAN)
    plan[null_plan] = n_known_plans + len(UNKNOWN_PLANS)  # the None at the vocabulary's end
    day = rng.integers(FIRST_DAY, LAST_DAY + 1, n_claims)
    pos = _weighted(rng, n_claims, POS_P)

    kind_u = rng.random(n_claims)
    wh_claim = kind_u < P_WH_CLAIM
    addon_alone = (kind_u >= P_WH_CLAIM) & (kind_u < P_WH_CLAIM + P_ADDON_ALONE_CLAIM)
    # two 97545 lines for one member and date: copy both from another work-hardening claim
    wh_index = np.flatnonzero(wh_claim)
    if wh_index.size > 1:
        copies = wh_index[rng.random(wh_index.size) < P_SAME_MEMBER_DATE]
        donors = wh_index[rng.integers(0, wh_index.size, copies.size)]
        member[copies] = member[donors]
        day[copies] = day[donors]

    # line-level values
    line_day = day[claim_of]
    shifted = (line_number > 1) & (rng.random(n) < P_LINE_DATE_SHIFT)
    line_day[shifted] = np.minimum(line_day[shifted] + rng.integers(1, 4, shifted.sum()), LAST_DAY)
    codes = (*OTHER_CODES, "97545", "97546", *SHORT_CODES)
    code = rng.integers(0, len(OTHER_CODES), n)
    i_primary, i_addon = len(OTHER_CODES), len(OTHER_CODES) + 1
    first_line = starts
    code[first_line[wh_claim]] = i_primary
    code[first_line[addon_alone]] = i_addon
    second = starts + 1
    has_addon = wh_claim & (sizes >= 2) & (rng.random(n_claims) < P_ADDON_AFTER_PRIMARY)
    code[second[has_addon]] = i_addon
    units = rng.integers(1, 5, n).astype(np.int64)
    is_primary = code == i_primary
    units[is_primary] = np.where(rng.random(int(is_primary.sum())) < P_PRIMARY_UNITS_2, 2, 1)
    cents = rng.integers(1_500, 60_000, n).astype(np.int64)

    claim_id_num = np.int64(index) * 10_000_000 + claim_of
    member_num = np.int64(index) * 10_000_000 + member[claim_of]
    claim_ids = _ids("CLM", claim_id_num, 13)
    member_ids = _ids("MBR", member_num, 13)
    member_null = np.zeros(n, dtype=bool)
    payer_line = payer[claim_of]
    plan_line = plan[claim_of]
    pos_line = pos[claim_of]

    # defects: one per bad row
    bad = np.flatnonzero(rng.random(n) < P_BAD_ROW)
    defect = rng.integers(0, len(DEFECTS), bad.size)
    rows = {name: bad[defect == i] for i, name in enumerate(DEFECTS)}
    dup = rows["duplicate_key"][rows["duplicate_key"] > 0]
    line_number[dup] = line_number[dup - 1]
    claim_id_num[dup] = claim_id_num[dup - 1]
    claim_ids = _ids("CLM", claim_id_num, 13) if dup.size else claim_ids
    units[rows["units_zero"]] = 0
    cents[rows["negative_amount"]] *= -1
    code[rows["short_code"]] = len(OTHER_CODES) + 2 + rng.integers(0, len(SHORT_CODES), rows["short_code"].size)
    member_null[rows["missing_member"]] = True
    date_null = np.zeros(n, dtype=bool)
    date_null[rows["bad_date"]] = True
    units_null = np.zeros(n, dtype=bool)
    units_null[rows["units_not_numeric"]] = True

    typed = pa.table(
        [
            claim_ids,
            pa.array(line_number),
            pc.if_else(pa.array(member_null), pa.scalar(None, pa.string()), member_ids),
            _take((*vocab.payers, *UNKNOWN_PAYERS), payer_line),
            _take((*vocab.plans, *UNKNOWN_PLANS, None), plan_line),
            pa.array(line_day.astype(np.int32), pa.int32(), mask=date_null).cast(pa.date32()),
            _take(codes, code),
            pa.array(units, mask=units_null),
            _decimal_from_cents(cents),
            _take(POS_CODES, pos_line),
        ],
        schema=SCHEMA,
    )

    text_columns = [pc.cast(column, pa.string()) for column in typed.columns]
    date_col = SCHEMA.get_field_index("service_date")
    units_col = SCHEMA.get_field_index("units")
    for col, defect_rows, choices in (
        (date_col, rows["bad_date"], BAD_DATES),
        (units_col, rows["units_not_numeric"], BAD_UNITS),
    ):
        if defect_rows.size:
            mask = np.zeros(n, dtype=bool)
            mask[defect_rows] = True
            replacement = _take(choices, rng.integers(0, len(choices), defect_rows.size))
            text_columns[col] = pc.replace_with_mask(text_columns[col], pa.array(mask), replacement)
    text = pa.table(text_columns, schema=CSV_SCHEMA)
    return Chunk(typed=typed, text=text)


def chunks(lines: int, seed: int, vocab: Vocabulary) -> Iterator[Chunk]:
    """The chunks of a file of `lines` lines, in order."""
    for index, start in enumerate(range(0, lines, CHUNK_LINES)):
        yield make_chunk(seed, index, min(CHUNK_LINES, lines - start), vocab)


def output_paths(out: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    """`out` with each format's suffix (a given .parquet/.csv suffix is replaced)."""
    stem = out.with_suffix("") if out.suffix in (".parquet", ".csv") else out
    return {fmt: stem.with_name(f"{stem.name}.{fmt}") for fmt in formats}


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def describe(lines: int, seed: int, fmt: str, vocab: Vocabulary) -> dict[str, object]:
    """What a generated file is made of; a cached file is reused only when this matches."""
    return {
        "generator_version": GENERATOR_VERSION,
        "lines": lines,
        "seed": seed,
        "format": fmt,
        "chunk_lines": CHUNK_LINES,
        "payers": list(vocab.payers),
        "plans": list(vocab.plans),
    }


def generate(
    *,
    lines: int,
    seed: int,
    formats: tuple[str, ...],
    out: Path,
    vocab: Vocabulary | None = None,
    quiet: bool = False,
) -> dict[str, Path]:
    """Write the requested formats of one file in a single pass; each appears atomically."""
    if lines < 1:
        msg = f"'lines' must be >= 1, got {lines!r}"
        raise ValueError(msg)
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        msg = f"'format' must be among {FORMATS}, got {formats!r}"
        raise ValueError(msg)
    vocab = vocab or Vocabulary.from_rules()
    paths = output_paths(out, formats)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = {fmt: path.with_name(path.name + f".tmp{os.getpid()}") for fmt, path in paths.items()}
    parquet_writer = pq.ParquetWriter(tmp["parquet"], SCHEMA, compression="zstd") if "parquet" in tmp else None
    csv_writer = (
        pacsv.CSVWriter(tmp["csv"], CSV_SCHEMA, write_options=pacsv.WriteOptions(quoting_style="none"))
        if "csv" in tmp
        else None
    )
    started = time.perf_counter()
    try:
        written = 0
        for chunk in chunks(lines, seed, vocab):
            if parquet_writer is not None:
                parquet_writer.write_table(chunk.typed, row_group_size=CHUNK_LINES)
            if csv_writer is not None:
                csv_writer.write_table(chunk.text)
            written += chunk.typed.num_rows
            if not quiet and lines > CHUNK_LINES:
                print(f"  generated {written:,}/{lines:,} lines", file=sys.stderr, flush=True)
    except BaseException:
        for path in tmp.values():
            path.unlink(missing_ok=True)
        raise
    finally:
        if parquet_writer is not None:
            parquet_writer.close()
        if csv_writer is not None:
            csv_writer.close()
    for fmt, path in paths.items():
        os.replace(tmp[fmt], path)
        meta = describe(lines, seed, fmt, vocab) | {
            "bytes": path.stat().st_size,
            "seconds": round(time.perf_counter() - started, 2),
        }
        meta_path(path).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return paths


def is_cached(path: Path, lines: int, seed: int, fmt: str, vocab: Vocabulary) -> bool:
    """True when `path` exists and was generated with the same parameters and vocabulary."""
    meta = meta_path(path)
    if not (path.is_file() and meta.is_file()):
        return False
    recorded = json.loads(meta.read_text(encoding="utf-8"))
    expected = describe(lines, seed, fmt, vocab)
    return all(recorded.get(key) == value for key, value in expected.items())


def parse_count(text: str) -> int:
    """'1_000_000', '1000000', '200k', '20M' -> int."""
    text = text.strip().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    number = text[:-1] if factor != 1 else text
    return int(float(number) * factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=parse_count, required=True, help="e.g. 1_000_000 or 20M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=(*FORMATS, "both"), default="parquet")
    parser.add_argument("--out", type=Path, required=True, help="output path; .parquet/.csv is appended per format")
    args = parser.parse_args(argv)
    formats = FORMATS if args.format == "both" else (args.format,)
    paths = generate(lines=args.lines, seed=args.seed, formats=formats, out=args.out)
    for path in paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
