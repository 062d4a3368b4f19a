"""One command for the benchmark suite: generate inputs, run the contenders in turn, report medians.

    python -m benchmarks.run --scales 1M,20M --formats parquet,csv --repeats 3
    python -m benchmarks.run --scenario diff --scales 10M,100M --repeats 2

The `diff` scenario (issue 14) adjudicates each generated Parquet input twice,
untimed (the shipped rules, then a plans table corrected in one row, see
`_rules.corrected_plans`), and then times `adjudicate diff` of those two runs
against one `adjudicate run` of the same input (with the corrected plans), in turn.

For each (format, scale) the contenders run as subprocesses in turn, A B C A B
C ..., so that a noisy neighbour hurts them alike; each run goes through a
fresh `benchmarks._measure` wrapper that reports wall time and the peak RSS
the kernel recorded for the child. Figures are medians over the runs (peak RSS:
the largest over the runs). Results are printed as a table and written as JSON
(`benchmarks/results/latest.json` plus a timestamped copy) for comparison
between commits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import _rules
from benchmarks.generate import FORMATS, Vocabulary, generate, is_cached, parse_count

REPO_ROOT = _rules.REPO_ROOT
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATA_DIR = REPO_ROOT / "bench_data"
SCHEMA_VERSION = 1

FLOOR = "io_floor"
DUCKDB = "duckdb_sql"
PANDAS = "pandas_merge"
ADJUDICATOR = "adjudicator"
#: the adjudicator on Spark (issue 11): run only when named, as it needs Java and the `spark` extra
SPARK = "spark"
#: its peers (issue 25): the same job written natively in PySpark, and its decision table alone
PYSPARK = "pyspark_native"
PYSPARK_DECISION = "pyspark_decision"
SPARK_CONTENDERS = (SPARK, PYSPARK, PYSPARK_DECISION)
CONTENDERS = (FLOOR, DUCKDB, PANDAS, ADJUDICATOR)
ALL_CONTENDERS = (*CONTENDERS, *SPARK_CONTENDERS)
#: the Spark contender's master and driver memory (a local master runs every task in the driver's JVM)
DEFAULT_SPARK_MASTER = "local[2]"
SPARK_DRIVER_MEMORY = "4g"

#: the targets (issue 20): the adjudicator against the floor and the DuckDB peer on all cores (2.0 and 1.0 are
#: the stretch goals; issue 4 asked 1.25 x the floor and 0.8 x DuckDB), against the floor on one core, the
#: speed-up from one core to two, and its memory
TARGET_VS_FLOOR = 3.0
TARGET_VS_DUCKDB = 1.5
TARGET_ONE_CORE_VS_FLOOR = 2.5
TARGET_TWO_CORES_SPEEDUP = 1.6
TARGET_PEAK_MIB = 1024.0
TARGET_FLAT = 1.15
FLAT_SCALES = (10_000_000, 100_000_000)
TARGET_SCALE = 20_000_000

SCENARIOS = ("adjudicate", "diff")
#: the diff scenario's contenders: one run of the input, the diff, the diff's partitioned path alone
RUN = "run"
DIFF = "diff"
DIFF_PARTITIONED = "diff_partitioned"
DIFF_CONTENDERS = (RUN, DIFF, DIFF_PARTITIONED)
#: issue 14 targets: the diff's memory at 10M, its growth to 100M, its wall time against one run
TARGET_DIFF_PEAK_MIB = 1024.0
TARGET_DIFF_FLAT = 1.15
TARGET_DIFF_VS_RUN = 1.0
DIFF_PEAK_SCALE = 10_000_000


@dataclass(frozen=True)
class Contender:
    """A way of turning an input file into Parquet output, run as one subprocess."""

    name: str
    description: str
    #: (input, outdir) -> argv
    command: Callable[[Path, Path], list[str]]
    #: Parquet files under outdir whose rows are counted after the run
    outputs: tuple[str, ...] = ("results.parquet",)
    max_lines: int | None = None
    #: why it cannot run at all (None when it can)
    missing: str | None = None


@dataclass
class Sample:
    wall_s: float
    peak_rss_mib: float
    user_s: float
    sys_s: float
    returncode: int
    timed_out: bool
    rows_out: int | None
    log: str


@dataclass
class Cell:
    """All runs of one contender on one input."""

    format: str
    lines: int
    contender: str
    status: str = "ok"  # ok | failed | missing | skipped
    note: str = ""
    samples: list[Sample] = field(default_factory=list)

    @property
    def ok_samples(self) -> list[Sample]:
        return [s for s in self.samples if s.returncode == 0 and not s.timed_out]

    @property
    def median_wall_s(self) -> float | None:
        ok = self.ok_samples
        return statistics.median(s.wall_s for s in ok) if ok else None

    @property
    def peak_rss_mib(self) -> float | None:
        ok = self.ok_samples
        return max(s.peak_rss_mib for s in ok) if ok else None

    @property
    def lines_per_s(self) -> float | None:
        wall = self.median_wall_s
        return self.lines / wall if wall else None

    @property
    def rows_out(self) -> int | None:
        rows = {s.rows_out for s in self.ok_samples}
        return rows.pop() if len(rows) == 1 else None


def _peer(module: str) -> Callable[[Path, Path], list[str]]:
    def command(input_path: Path, outdir: Path) -> list[str]:
        return [sys.executable, "-m", f"benchmarks.peers.{module}", str(input_path), str(outdir)]

    return command


def _probe(argv: list[str]) -> str | None:
    """None when `argv --help` runs and offers the `run` command, else why not."""
    try:
        done = subprocess.run([*argv, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{shlex.join(argv)}: {exc}"
    if done.returncode != 0 or "run" not in done.stdout:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{shlex.join(argv)} --help exited {done.returncode}: {last}"
    return None


def adjudicator_prefix(explicit: str | None) -> tuple[list[str] | None, str | None]:
    """The argv that starts the adjudicator of this checkout, or None and why it cannot.

    `python -m adjudicator` from the repository root comes first because it runs
    this working tree; an installed `adjudicate` may be another version.
    """
    candidates = [shlex.split(explicit)] if explicit else [[sys.executable, "-m", "adjudicator"]]
    if not explicit and (installed := shutil.which("adjudicate")):
        candidates.append([installed])
    reasons = []
    for argv in candidates:
        reason = _probe(argv)
        if reason is None:
            return argv, None
        reasons.append(reason)
    return None, "; ".join(reasons)


def spark_missing() -> str | None:
    """Why the Spark contender cannot run here (no Java, or no pyspark), or None."""
    import importlib.util

    if shutil.which("java") is None:
        return "no java on PATH"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install -e '.[spark]'"
    return None


def contenders(
    names: Sequence[str],
    *,
    pandas_max_lines: int,
    adjudicator_cmd: str | None,
    spark_master: str = DEFAULT_SPARK_MASTER,
) -> list[Contender]:
    """The requested contenders, in the order they take turns."""
    known: dict[str, Contender] = {
        FLOOR: Contender(FLOOR, "polars scan -> sink_parquet, unchanged", _peer("io_floor")),
        DUCKDB: Contender(DUCKDB, "DuckDB: decision table as one SQL query", _peer("duckdb_sql")),
        PANDAS: Contender(PANDAS, "pandas: merge then filter", _peer("pandas_merge"), max_lines=pandas_max_lines),
    }
    if ADJUDICATOR in names:
        prefix, missing = adjudicator_prefix(adjudicator_cmd)

        def adjudicate(input_path: Path, outdir: Path) -> list[str]:
            assert prefix is not None
            return [*prefix, "run", str(input_path), "--out", str(outdir), "--overwrite"]

        known[ADJUDICATOR] = Contender(
            ADJUDICATOR,
            "adjudicate run INPUT --out OUT --overwrite",
            adjudicate,
            outputs=("results.parquet", "rejects.parquet"),
            missing=missing,
        )
    if SPARK in names:
        prefix, missing = adjudicator_prefix(adjudicator_cmd)

        def on_spark(input_path: Path, outdir: Path) -> list[str]:
            assert prefix is not None
            # the driver's memory is fixed when its JVM starts: spark-submit's own option, through pyspark
            return [
                "env",
                f"PYSPARK_SUBMIT_ARGS=--driver-memory {SPARK_DRIVER_MEMORY} pyspark-shell",
                *prefix,
                "run",
                str(input_path),
                "--out",
                str(outdir),
                "--overwrite",
                "--engine",
                "spark",
                "--spark-master",
                spark_master,
            ]

        known[SPARK] = Contender(
            SPARK,
            f"adjudicate run INPUT --out OUT --overwrite --engine spark --spark-master {spark_master} "
            f"(driver memory {SPARK_DRIVER_MEMORY})",
            on_spark,
            outputs=("results", "rejects"),
            missing=missing or spark_missing(),
        )
    for name, extra in ((PYSPARK, []), (PYSPARK_DECISION, ["--decision-only"])):
        if name in names:

            def native(input_path: Path, outdir: Path, extra: list[str] = extra) -> list[str]:
                return [
                    "env",
                    f"PYSPARK_SUBMIT_ARGS=--driver-memory {SPARK_DRIVER_MEMORY} pyspark-shell",
                    *_peer("pyspark_native")(input_path, outdir),
                    "--master",
                    spark_master,
                    *extra,
                ]

            what = "the decision table alone" if extra else "decision table, duplicates, unit limit, rejects"
            known[name] = Contender(
                name,
                f"native PySpark, {what} (master {spark_master}, driver memory {SPARK_DRIVER_MEMORY})",
                native,
                outputs=("results",) if extra else ("lines/output=results", "lines/output=rejects"),
                missing=spark_missing(),
            )
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"'contenders' must be among {ALL_CONTENDERS}, got {unknown!r}"
        raise ValueError(msg)
    return [known[n] for n in names]


#: a pinned contender's name: its own, then the cores it may use (``adjudicator@1c``)
PINNED = "@"


def pinned(contender: Contender, cores: int) -> Contender:
    """``contender`` confined to the first ``cores`` CPUs (``taskset``) with as many threads: polars'
    ``POLARS_MAX_THREADS``, and the DuckDB peer's ``--threads``."""

    def command(input_path: Path, outdir: Path) -> list[str]:
        threads = ["--threads", str(cores)] if contender.name == DUCKDB else []
        return [
            "taskset",
            "-c",
            f"0-{cores - 1}",
            "env",
            f"POLARS_MAX_THREADS={cores}",
            *contender.command(input_path, outdir),
            *threads,
        ]

    return Contender(
        f"{contender.name}{PINNED}{cores}c",
        f"{contender.description}, pinned to {cores} core(s)",
        command,
        outputs=contender.outputs,
        max_lines=contender.max_lines,
        missing=contender.missing or (None if shutil.which("taskset") else "no taskset on PATH"),
    )


def with_cores(chosen: Sequence[Contender], cores: Sequence[int]) -> list[Contender]:
    """Each contender once per number of ``cores`` (pinned); unpinned as they are when ``cores`` is empty."""
    if not cores:
        return list(chosen)
    return [pinned(c, n) for n in cores for c in chosen]


def base_name(contender: str) -> str:
    """The contender a (maybe pinned) cell measures: ``adjudicator@1c`` -> ``adjudicator``."""
    return contender.split(PINNED, 1)[0]


def cores_of(contender: str) -> str:
    """The pinning suffix of a cell's contender (``@1c``), or "" when it ran unpinned."""
    name, _, cores = contender.partition(PINNED)
    return PINNED + cores if cores else ""


def count_rows(outdir: Path, names: Sequence[str]) -> int | None:
    """Rows in the named Parquet outputs, from their footers (None if one is missing)."""
    import pyarrow.parquet as pq

    total = 0
    for name in names:
        path = outdir / name
        if not path.exists():
            return None
        # the Spark engine writes datasets: folders of part files
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        total += sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
    return total


def measure(contender: Contender, input_path: Path, outdir: Path, log: Path, timeout: float | None) -> Sample:
    """One run of one contender, measured by a fresh wrapper process."""
    shutil.rmtree(outdir, ignore_errors=True)
    wrapper = [sys.executable, "-m", "benchmarks._measure", "--log", str(log)]
    if timeout:
        wrapper += ["--timeout", str(timeout)]
    argv = [*wrapper, "--", *contender.command(input_path, outdir)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    rows = count_rows(outdir, contender.outputs) if report["returncode"] == 0 else None
    return Sample(**report, rows_out=rows, log=str(log))


def ensure_inputs(data_dir: Path, lines: int, seed: int, formats: Sequence[str], vocab: Vocabulary) -> dict[str, Path]:
    """The input files of one scale, generated (all missing formats in one pass) if not cached."""
    stem = data_dir / f"claims_{lines}_s{seed}"
    paths = {fmt: stem.with_name(f"{stem.name}.{fmt}") for fmt in formats}
    missing = tuple(f for f, p in paths.items() if not is_cached(p, lines, seed, f, vocab))
    if missing:
        print(f"generating {lines:,} lines as {', '.join(missing)} ...", file=sys.stderr)
        started = time.perf_counter()
        generate(lines=lines, seed=seed, formats=missing, out=stem, vocab=vocab)
        print(f"  done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return paths


def _ratio(cell: Cell, base: Cell | None) -> float | None:
    a, b = cell.median_wall_s, base.median_wall_s if base else None
    return a / b if a and b else None


def index(cells: Sequence[Cell]) -> dict[tuple[str, int, str], Cell]:
    return {(c.format, c.lines, c.contender): c for c in cells}


def summarize(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """One row per cell with the figures of the table (also what the JSON stores)."""
    by_key = index(cells)
    rows = []
    for cell in cells:
        # ratios compare contenders on the same cores
        floor = by_key.get((cell.format, cell.lines, FLOOR + cores_of(cell.contender)))
        duck = by_key.get((cell.format, cell.lines, DUCKDB + cores_of(cell.contender)))
        rows.append(
            {
                "format": cell.format,
                "lines": cell.lines,
                "contender": cell.contender,
                "status": cell.status,
                "note": cell.note,
                "runs_ok": len(cell.ok_samples),
                "runs": len(cell.samples),
                "median_wall_s": cell.median_wall_s,
                "lines_per_s": cell.lines_per_s,
                "peak_rss_mib": cell.peak_rss_mib,
                "vs_floor": _ratio(cell, floor),
                "vs_duckdb": _ratio(cell, duck),
                "rows_out": cell.rows_out,
            }
        )
    return rows


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _scale(lines: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if lines >= size and lines % (size // 10) == 0:
            return f"{lines / size:g}{unit}"
    return f"{lines:,}"


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        "| format | lines | contender | median wall s | lines/s | peak RSS MiB "
        "| vs I/O floor | vs DuckDB | rows out | runs ok |"
    )
    out = [header, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["status"] in ("missing", "skipped"):
            out.append(
                f"| {r['format']} | {_scale(r['lines'])} | {r['contender']} | {r['status']}: {r['note']} | | | | | | |"
            )
            continue
        status = "" if r["status"] == "ok" else f" ({r['status']})"
        out.append(
            f"| {r['format']} | {_scale(r['lines'])} | {r['contender']}{status} "
            f"| {_fmt(r['median_wall_s'], '.2f')} | {_fmt(r['lines_per_s'], ',.0f')} "
            f"| {_fmt(r['peak_rss_mib'], ',.0f')} | {_fmt(r['vs_floor'], '.2f')} "
            f"| {_fmt(r['vs_duckdb'], '.2f')} "
            f"| {'-' if r['rows_out'] is None else format(r['rows_out'], ',')} "
            f"| {r['runs_ok']}/{r['runs']} |"
        )
    return "\n".join(out)


def memory_growth(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """Peak RSS at the largest scale over the smallest, per (format, contender)."""
    growth = []
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        if cell.peak_rss_mib is not None:
            groups.setdefault((cell.format, cell.contender), []).append(cell)
    for (fmt, name), group in groups.items():
        if len(group) < 2:
            continue
        small = min(group, key=lambda c: c.lines)
        large = max(group, key=lambda c: c.lines)
        assert small.peak_rss_mib and large.peak_rss_mib
        growth.append(
            {
                "format": fmt,
                "contender": name,
                "small_lines": small.lines,
                "large_lines": large.lines,
                "ratio": large.peak_rss_mib / small.peak_rss_mib,
            }
        )
    return growth


def targets(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """The targets checked on every adjudicator cell measured (official scale: 20M)."""
    by_key = index(cells)
    checks: list[dict[str, Any]] = []

    def check(fmt: str, lines: int, name: str, value: float | None, limit: float) -> None:
        if value is not None:
            checks.append(
                {
                    "format": fmt,
                    "lines": lines,
                    "target": name,
                    "value": value,
                    "limit": limit,
                    "met": value <= limit,
                    "official": lines == TARGET_SCALE,
                }
            )

    for cell in cells:
        if base_name(cell.contender) != ADJUDICATOR or cell.median_wall_s is None:
            continue
        fmt, lines, cores = cell.format, cell.lines, cores_of(cell.contender)
        one_core = cores == f"{PINNED}1c"
        check(
            fmt,
            lines,
            f"wall / I/O floor{cores}",
            _ratio(cell, by_key.get((fmt, lines, FLOOR + cores))),
            TARGET_ONE_CORE_VS_FLOOR if one_core else TARGET_VS_FLOOR,
        )
        if fmt == "parquet" and not one_core:
            check(
                fmt,
                lines,
                f"wall / DuckDB peer{cores}",
                _ratio(cell, by_key.get((fmt, lines, DUCKDB + cores))),
                TARGET_VS_DUCKDB,
            )
        check(fmt, lines, f"peak RSS MiB{cores}", cell.peak_rss_mib, TARGET_PEAK_MIB)
        if cores == f"{PINNED}2c" and (single := by_key.get((fmt, lines, f"{ADJUDICATOR}{PINNED}1c"))):
            speedup = _ratio(single, cell)
            if speedup is not None:
                checks.append(
                    {
                        "format": fmt,
                        "lines": lines,
                        "target": "1 core / 2 cores (speed-up)",
                        "value": speedup,
                        "limit": TARGET_TWO_CORES_SPEEDUP,
                        "met": speedup >= TARGET_TWO_CORES_SPEEDUP,
                        "official": lines == TARGET_SCALE,
                    }
                )
    for fmt in FORMATS:
        small = by_key.get((fmt, FLAT_SCALES[0], ADJUDICATOR))
        large = by_key.get((fmt, FLAT_SCALES[1], ADJUDICATOR))
        if small and large and small.peak_rss_mib and large.peak_rss_mib:
            checks.append(
                {
                    "format": fmt,
                    "lines": FLAT_SCALES[1],
                    "target": "peak(100M) / peak(10M)",
                    "value": large.peak_rss_mib / small.peak_rss_mib,
                    "limit": TARGET_FLAT,
                    "met": large.peak_rss_mib / small.peak_rss_mib <= TARGET_FLAT,
                    "official": True,
                }
            )
    return checks


def diff_contenders(
    names: Sequence[str], prefix: list[str], runs: dict[Path, tuple[Path, Path]], plans: Path
) -> list[Contender]:
    """The diff scenario's contenders; ``runs`` maps each input to its (old, new) run folders."""

    def run(input_path: Path, outdir: Path) -> list[str]:
        return [*prefix, "run", str(input_path), "--plans", str(plans), "--out", str(outdir), "--overwrite", "--quiet"]

    def diff(input_path: Path, outdir: Path) -> list[str]:
        old, new = runs[input_path]
        return [*prefix, "diff", str(old), str(new), "--out", str(outdir), "--overwrite", "--quiet"]

    def diff_partitioned(input_path: Path, outdir: Path) -> list[str]:
        old, new = runs[input_path]
        return [sys.executable, "-m", "benchmarks.diff_partitioned", str(old), str(new), str(outdir)]

    known = {
        RUN: Contender(
            RUN, "adjudicate run INPUT --plans CORRECTED --out OUT", run, outputs=("results.parquet", "rejects.parquet")
        ),
        DIFF: Contender(DIFF, "adjudicate diff OLD NEW --out OUT", diff, outputs=("changes.parquet",)),
        DIFF_PARTITIONED: Contender(
            DIFF_PARTITIONED, "diff_runs(OLD, NEW, OUT, aligned=False)", diff_partitioned, outputs=("changes.parquet",)
        ),
    }
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"'contenders' must be among {DIFF_CONTENDERS} for the diff scenario, got {unknown!r}"
        raise ValueError(msg)
    return [known[n] for n in names]


def prepare_runs(prefix: list[str], input_path: Path, plans: Path, folder: Path) -> tuple[Path, Path]:
    """The two runs a diff compares (the shipped rules; ``plans`` for the plans), made once, untimed.

    Kept in ``folder`` with a note of the input and plans they were made from;
    made again when either changed.
    """
    stat = input_path.stat()
    made_from = {
        "input": str(input_path),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "plans": plans.read_text(encoding="utf-8"),
    }
    note = folder / "made_from.json"
    old, new = folder / "old", folder / "new"
    if note.is_file() and json.loads(note.read_text(encoding="utf-8")) == made_from:
        return old, new
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for out, extra in ((old, []), (new, ["--plans", str(plans)])):
        print(f"adjudicating {input_path.name} into {out} (untimed) ...", file=sys.stderr, flush=True)
        subprocess.run(
            [*prefix, "run", str(input_path), *extra, "--out", str(out), "--quiet"], cwd=REPO_ROOT, check=True
        )
    note.write_text(json.dumps(made_from), encoding="utf-8")
    return old, new


def diff_rows(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """``summarize``'s rows for the diff scenario, with each cell's median wall over the run's (``vs_run``)."""
    by_key = index(cells)
    rows = summarize(cells)
    for row, cell in zip(rows, cells, strict=True):
        row["vs_run"] = _ratio(cell, by_key.get((cell.format, cell.lines, RUN)))
        del row["vs_floor"], row["vs_duckdb"]
    return rows


def diff_markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    out = [
        "| lines | contender | median wall s | peak RSS MiB | vs one run | rows out | runs ok |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        status = "" if r["status"] == "ok" else f" ({r['status']})"
        out.append(
            f"| {_scale(r['lines'])} | {r['contender']}{status} | {_fmt(r['median_wall_s'], '.2f')} "
            f"| {_fmt(r['peak_rss_mib'], ',.0f')} | {_fmt(r['vs_run'], '.2f')} "
            f"| {'-' if r['rows_out'] is None else format(r['rows_out'], ',')} | {r['runs_ok']}/{r['runs']} |"
        )
    return "\n".join(out)


def diff_targets(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """Issue 14's targets on every diff cell measured: wall over one run's, peak RSS at 10M, growth to 100M."""
    by_key = index(cells)
    checks: list[dict[str, Any]] = []

    def check(cell: Cell, name: str, value: float | None, limit: float, official: bool) -> None:
        if value is not None:
            checks.append(
                {
                    "format": cell.format,
                    "lines": cell.lines,
                    "contender": cell.contender,
                    "target": name,
                    "value": value,
                    "limit": limit,
                    "met": value <= limit,
                    "official": official,
                }
            )

    for cell in cells:
        if cell.contender not in (DIFF, DIFF_PARTITIONED):
            continue
        one_run = by_key.get((cell.format, cell.lines, RUN))
        check(cell, "wall / one run", _ratio(cell, one_run), TARGET_DIFF_VS_RUN, True)
        check(cell, "peak RSS MiB", cell.peak_rss_mib, TARGET_DIFF_PEAK_MIB, cell.lines == DIFF_PEAK_SCALE)
        small = by_key.get((cell.format, FLAT_SCALES[0], cell.contender))
        if cell.lines == FLAT_SCALES[1] and small and small.peak_rss_mib and cell.peak_rss_mib:
            check(cell, "peak(100M) / peak(10M)", cell.peak_rss_mib / small.peak_rss_mib, TARGET_DIFF_FLAT, True)
    return checks


def measure_in_turn(
    chosen: Sequence[Contender],
    fmt: str,
    lines: int,
    input_path: Path,
    args: argparse.Namespace,
    logs: Path,
    data_dir: Path,
) -> list[Cell]:
    """Every contender on one input, ``args.repeats`` times, taking turns (A B C A B C ...)."""
    group = [Cell(fmt, lines, c.name) for c in chosen]
    for cell, c in zip(group, chosen, strict=True):
        if c.missing:
            cell.status, cell.note = "missing", c.missing
        elif c.max_lines is not None and lines > c.max_lines:
            cell.status, cell.note = "skipped", f"above {_scale(c.max_lines)} lines"
    for repeat in range(args.repeats):
        for cell, c in zip(group, chosen, strict=True):
            if cell.status in ("missing", "skipped"):
                continue
            outdir = data_dir / "out" / c.name
            log = logs / f"{fmt}_{lines}_{c.name}_{repeat}.log"
            sample = measure(c, input_path, outdir, log, args.timeout)
            if not args.keep_outputs:
                shutil.rmtree(outdir, ignore_errors=True)
            cell.samples.append(sample)
            ok = sample.returncode == 0 and not sample.timed_out
            print(
                f"  {fmt:<8}{_scale(lines):>6}  {c.name:<17} run {repeat + 1}: "
                f"{sample.wall_s:8.2f}s {sample.peak_rss_mib:8.0f} MiB"
                + ("" if ok else f"  FAILED rc={sample.returncode} (log {log})"),
                file=sys.stderr,
                flush=True,
            )
    for cell in group:
        if cell.status == "ok" and len(cell.ok_samples) < len(cell.samples):
            cell.status = "failed"
            cell.note = next(s.log for s in cell.samples if s.returncode != 0)
    return group


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip()


def environment() -> dict[str, Any]:
    """The machine, versions and commit a result was measured on."""
    cpu = ""
    meminfo = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        cpu = models[0] if models else ""
        total_kib = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].split()[0]
        meminfo = f"{int(total_kib) / 1024**2:.1f} GiB"
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("polars", "duckdb", "pandas", "pyarrow", "numpy", "pandera"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory": meminfo,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg(),
        },
        "versions": versions,
        "git": {"commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain"))},
    }


def compare(rows: Sequence[dict[str, Any]], previous: dict[str, Any]) -> list[str]:
    """Lines saying how each median moved against a previous result file."""
    before = {(r["format"], r["lines"], r["contender"]): r for r in previous.get("rows", [])}
    out = []
    for r in rows:
        old = before.get((r["format"], r["lines"], r["contender"]))
        if not old or not old.get("median_wall_s") or not r["median_wall_s"]:
            continue
        change = r["median_wall_s"] / old["median_wall_s"] - 1
        out.append(
            f"  {r['format']:<8}{_scale(r['lines']):>6}  {r['contender']:<13}"
            f"{old['median_wall_s']:>9.2f}s -> {r['median_wall_s']:>8.2f}s  ({change:+.0%})"
        )
    return out


def write_json(payload: dict[str, Any], paths: Sequence[Path], *, data_dir: Path | None = None) -> None:
    """``payload`` as JSON in each of ``paths``, its paths made portable (``portable_paths``)."""
    text = portable_paths(json.dumps(payload, indent=2) + "\n", data_dir)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def portable_paths(text: str, data_dir: Path | None) -> str:
    """``text`` with the machine's absolute paths taken out, so that a committed result names no folder of the
    machine it ran on: paths in the repository relative to it, paths in the data folder relative to the data
    folder's parent (``bench_data/logs/...``)."""
    for prefix in (REPO_ROOT, *([data_dir.resolve().parent] if data_dir is not None else [])):
        text = text.replace(json.dumps(str(prefix) + os.sep)[1:-1], "")
    return text


def update_doc(
    doc: Path, table: str, header: str, *, markers: tuple[str, str] = ("<!-- bench:start -->", "<!-- bench:end -->")
) -> None:
    """Replace the text between the bench markers of `doc` with the latest table."""
    start, end = markers
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text:
        msg = f"{doc} has no {start} ... {end} markers to replace"
        raise ValueError(msg)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{start}\n{header}\n\n{table}\n{end}{tail}", encoding="utf-8")


def _counts(text: str) -> list[int]:
    return [parse_count(part) for part in text.split(",") if part.strip()]


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="adjudicate",
        help="adjudicate: a run against its peers; diff: `adjudicate diff` against one run",
    )
    parser.add_argument("--scales", type=_counts, default=[1_000_000], help="e.g. 1M,20M")
    parser.add_argument(
        "--formats", type=_names, default=None, help=f"default: {','.join(FORMATS)}; parquet for the diff scenario"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--contenders",
        type=_names,
        default=None,
        help=f"default: {','.join(CONTENDERS)}; for the diff scenario {RUN},{DIFF} "
        f"(also: {DIFF_PARTITIONED}); {SPARK} (the Spark engine) and its peers {PYSPARK}, {PYSPARK_DECISION} "
        "run only when named",
    )
    parser.add_argument(
        "--cores",
        type=_counts,
        default=[],
        help="e.g. 1,2: run every contender pinned to each number of cores in turn (taskset -c 0-(N-1), "
        "POLARS_MAX_THREADS=N, DuckDB's --threads N), reported side by side as CONTENDER@Nc; "
        "default: unpinned",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pandas-max-lines", type=parse_count, default=2_000_000)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--adjudicator-cmd", default=None, help="argv prefix (default: python -m adjudicator)")
    parser.add_argument(
        "--spark-master",
        default=DEFAULT_SPARK_MASTER,
        help=f"the {SPARK} contender's master (default {DEFAULT_SPARK_MASTER}; local[1] to compare)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="200k lines, 1 repeat; JSON goes to DATA_DIR/quick.json, not benchmarks/results",
    )
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="earlier result JSON to compare with (default: the previous latest.json)",
    )
    parser.add_argument("--update-doc", type=Path, default=None, help="e.g. docs/benchmarks.md")
    parser.add_argument("--keep-outputs", action="store_true")
    parser.add_argument("--clean-inputs", action="store_true", help="delete the generated inputs at the end")
    args = parser.parse_args(argv)
    diff = args.scenario == "diff"
    if args.formats is None:
        args.formats = ["parquet"] if diff else list(FORMATS)
    if args.contenders is None:
        args.contenders = [RUN, DIFF] if diff else list(CONTENDERS)
    if args.quick:
        args.scales, args.repeats = [200_000], 1
    unknown = set(args.formats) - set(FORMATS)
    if unknown:
        parser.error(f"'--formats' must be among {FORMATS}, got {sorted(unknown)!r}")
    if args.repeats < 1:
        parser.error(f"'--repeats' must be >= 1, got {args.repeats!r}")
    available = os.cpu_count() or 1
    if any(n < 1 or n > available for n in args.cores):
        parser.error(f"'--cores' must be between 1 and {available} (this machine's cores), got {args.cores!r}")
    if args.cores and diff:
        parser.error("'--cores' is for the adjudicate scenario")
    return args


def measured_header(env: dict[str, Any], started: dt.datetime, argv: Sequence[str] | None, run: str) -> str:
    """The two lines above a results table: the machine, the commit and ``run`` (seed, repeats and the
    like), then the command that measured it."""
    machine = env["machine"]
    return (
        f"Measured {started:%Y-%m-%d} on {machine['cpu'] or 'unknown CPU'}, "
        f"{machine['cores']} cores, {machine['memory']} RAM; commit "
        f"{env['git']['commit'][:10]}{' (dirty)' if env['git']['dirty'] else ''}; {run}.\n"
        f"Command: `python -m benchmarks.run {' '.join(argv or sys.argv[1:])}`"
    )


def main_diff(args: argparse.Namespace, argv: Sequence[str] | None, started: dt.datetime, env: dict[str, Any]) -> int:
    """The diff scenario (issue 14): per scale, two runs made once, then the diff and one run timed in turn."""
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    prefix, missing = adjudicator_prefix(args.adjudicator_cmd)
    if prefix is None:
        print(f"the adjudicator cannot run: {missing}", file=sys.stderr)
        return 2
    vocab = Vocabulary.from_rules()
    data_dir = args.data_dir.resolve()
    logs = data_dir / "logs" / stamp
    logs.mkdir(parents=True, exist_ok=True)
    plans = _rules.corrected_plans(data_dir / "diff" / "plans_corrected.csv")
    runs: dict[Path, tuple[Path, Path]] = {}
    chosen = diff_contenders(args.contenders, prefix, runs, plans)
    cells: list[Cell] = []
    inputs: list[Path] = []
    for lines in args.scales:
        paths = ensure_inputs(data_dir, lines, args.seed, args.formats, vocab)
        inputs += paths.values()
        for fmt, path in paths.items():
            folder = data_dir / "diff" / f"runs_{path.name}"
            runs[path] = prepare_runs(prefix, path, plans, folder)
            cells += measure_in_turn(chosen, fmt, lines, path, args, logs, data_dir)
            if not args.keep_outputs:
                shutil.rmtree(folder, ignore_errors=True)

    rows = diff_rows(cells)
    growth = memory_growth(cells)
    checks = diff_targets(cells)
    table = diff_markdown_table(rows)
    header = measured_header(
        env, started, argv, f"seed {args.seed}, {args.repeats} repeat(s) in turn, {args.formats[0]} input"
    )
    print(f"\n{header}\n\n{table}")
    if growth:
        print("\npeak RSS growth (largest scale / smallest scale):")
        for g in growth:
            print(f"  {g['contender']:<17} {_scale(g['large_lines'])} / {_scale(g['small_lines'])}: {g['ratio']:.2f}")
    if checks:
        print("\nissue 14 targets (peak RSS: official at 10M):")
        for t in checks:
            print(
                f"  {_scale(t['lines']):>6}  {t['contender']:<17} {t['target']:<24}"
                f"{t['value']:>9.2f} <= {t['limit']:<7g} {'met' if t['met'] else 'NOT MET'}"
                + ("" if t["official"] else "  (not the official scale)")
            )
    env["machine"]["loadavg_at_end"] = os.getloadavg()
    payload = {
        "schema_version": SCHEMA_VERSION,
        "scenario": "diff",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": ["python", "-m", "benchmarks.run", *(argv or sys.argv[1:])],
        "config": {
            "scales": args.scales,
            "formats": args.formats,
            "repeats": args.repeats,
            "seed": args.seed,
            "contenders": [{"name": c.name, "description": c.description} for c in chosen],
            "plans": plans.read_text(encoding="utf-8"),
        },
        "environment": env,
        "rows": rows,
        "memory_growth": growth,
        "targets": checks,
        "samples": [
            {"format": c.format, "lines": c.lines, "contender": c.contender, "runs": [asdict(s) for s in c.samples]}
            for c in cells
        ],
    }
    results_dir = args.results_dir or (data_dir if args.quick else RESULTS_DIR)
    commit = env["git"]["commit"][:7] or "nogit"
    latest = results_dir / ("quick_diff.json" if args.quick else "diff_latest.json")
    outputs = [latest] if args.quick else [latest, results_dir / f"{stamp}_{commit}_diff.json"]
    write_json(payload, outputs, data_dir=data_dir)
    print(f"\nwrote {', '.join(str(p) for p in outputs)}", file=sys.stderr)
    if args.update_doc:
        update_doc(args.update_doc, table, header, markers=("<!-- bench-diff:start -->", "<!-- bench-diff:end -->"))
        print(f"updated {args.update_doc}", file=sys.stderr)
    if args.clean_inputs:
        for path in inputs:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".meta.json").unlink(missing_ok=True)
    return 1 if any(c.status == "failed" for c in cells) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    env = environment()
    if args.scenario == "diff":
        return main_diff(args, argv, started, env)
    chosen = with_cores(
        contenders(
            args.contenders,
            pandas_max_lines=args.pandas_max_lines,
            adjudicator_cmd=args.adjudicator_cmd,
            spark_master=args.spark_master,
        ),
        args.cores,
    )
    for c in chosen:
        if c.missing:
            print(f"note: {c.name} cannot run: {c.missing}", file=sys.stderr)
    vocab = Vocabulary.from_rules()
    rules = _rules.rules_dir()
    data_dir = args.data_dir.resolve()
    logs = data_dir / "logs" / stamp
    logs.mkdir(parents=True, exist_ok=True)

    cells: list[Cell] = []
    inputs: list[Path] = []
    for lines in args.scales:
        paths = ensure_inputs(data_dir, lines, args.seed, args.formats, vocab)
        inputs += paths.values()
        for fmt in args.formats:
            cells += measure_in_turn(chosen, fmt, lines, paths[fmt], args, logs, data_dir)

    rows = summarize(cells)
    growth = memory_growth(cells)
    checks = targets(cells)
    table = markdown_table(rows)
    header = measured_header(
        env, started, argv, f"seed {args.seed}, {args.repeats} repeat(s), rules {_rules.fingerprint(rules)}"
    )
    print()
    print(header)
    print()
    print(table)
    if growth:
        print("\npeak RSS growth (largest scale / smallest scale):")
        for g in growth:
            print(
                f"  {g['format']:<8}{g['contender']:<13} {_scale(g['large_lines'])} / "
                f"{_scale(g['small_lines'])}: {g['ratio']:.2f}"
            )
    if checks:
        print(f"\ntargets (official at {_scale(TARGET_SCALE)} parquet and 10M/100M):")
        for t in checks:
            relation = ">=" if "speed-up" in t["target"] else "<="
            print(
                f"  {t['format']:<8}{_scale(t['lines']):>6}  {t['target']:<28}"
                f"{t['value']:>9.2f} {relation} {t['limit']:<7g} {'met' if t['met'] else 'NOT MET'}"
                + ("" if t["official"] else "  (not the official scale)")
            )

    results_dir = args.results_dir or (data_dir if args.quick else RESULTS_DIR)
    latest = results_dir / ("quick.json" if args.quick else "latest.json")
    previous_path = args.compare or (latest if latest.is_file() else None)
    if previous_path is not None and previous_path.is_file():
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
        moved = compare(rows, previous)
        if moved:
            commit = previous.get("environment", {}).get("git", {}).get("commit", "")[:10]
            print(f"\nchange against {previous_path.name} (commit {commit}):")
            print("\n".join(moved))

    env["machine"]["loadavg_at_end"] = os.getloadavg()
    payload = {
        "schema_version": SCHEMA_VERSION,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": ["python", "-m", "benchmarks.run", *(argv or sys.argv[1:])],
        "config": {
            "scales": args.scales,
            "formats": args.formats,
            "repeats": args.repeats,
            "seed": args.seed,
            "contenders": [{"name": c.name, "description": c.description, "missing": c.missing} for c in chosen],
            "cores": args.cores,
            "rules_dir": str(rules),
            "rules_fingerprint": _rules.fingerprint(rules),
        },
        "environment": env,
        "rows": rows,
        "memory_growth": growth,
        "targets": checks,
        "samples": [
            {
                "format": c.format,
                "lines": c.lines,
                "contender": c.contender,
                "runs": [asdict(s) for s in c.samples],
            }
            for c in cells
        ],
    }
    commit = env["git"]["commit"][:7] or "nogit"
    outputs = [latest] if args.quick else [latest, results_dir / f"{stamp}_{commit}.json"]
    write_json(payload, outputs, data_dir=data_dir)
    print(f"\nwrote {', '.join(str(p) for p in outputs)}", file=sys.stderr)
    if args.update_doc:
        update_doc(args.update_doc, table, header)
        print(f"updated {args.update_doc}", file=sys.stderr)
    if args.clean_inputs:
        for path in inputs:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".meta.json").unlink(missing_ok=True)
    failed = [c for c in cells if c.status == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
