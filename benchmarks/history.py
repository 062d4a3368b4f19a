"""The `history` scenario (issue 23): one night's run with `--history` against the same run without, in turn.

    python -m benchmarks.history --night bench_data/claims_10000000_s42.parquet \\
        --earlier bench_data/claims_20000000_s42.parquet --copies 5 --repeats 3

The history is built once, untimed, from the earlier lines (`--earlier`, a canonical Parquet file) as the nights
before would have left it: the lines whose code an add-on pair or a unit limit names, one row per key,
partitioned by service month. `--copies K` stands K earlier files' worth of lines on one file: each copy's claim
ids get their own prefix, so the keys differ from the night's and from each other while members and days
overlap. `--skip N` leaves out the file's first N lines: the generator's 10M file is the first 10M lines of its
20M file, so the command above (no skip) puts five earlier lines on every member-day of the night (the worst
case), and `--skip 10000000 --copies 10` gives the history of 100M other lines (about 4M rows). Each timed run
with history gets a fresh copy of the table (copied untimed), so it reads, adjudicates and commits as a night
does.

Wall time, user+sys CPU seconds and peak RSS come from the `benchmarks._measure` wrapper, one fresh process per
run; the figures are medians over the repeats (peak RSS: the largest). Results go to
`benchmarks/results/history_latest.json`; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import _rules

REPO_ROOT = _rules.REPO_ROOT
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: issue 23's target: the run with --history over the same run without (wall time)
TARGET_RATIO = 1.25


def build_history(earlier: Path, copies: int, table: Path, skip: int = 0) -> int:
    """The history the earlier nights would have left (see the module docstring); returns its rows."""
    import deltalake

    from adjudicator.engine.history import HISTORY_SCHEMA, night_rows
    from adjudicator.rules.compiled import compile_rules
    from adjudicator.rules.tables import load_rules

    compiled = compile_rules(load_rules())
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lines = (
        pl.scan_parquet(earlier)
        .slice(skip)
        .with_columns(
            pl.lit("BENEFIT_PLAN_REVIEW").alias("determination"),
            pl.lit(earlier.name).alias("source_file"),
        )
    )
    frames = [
        night_rows(
            lines.with_columns(
                pl.format("H{}-{}", pl.lit(k), pl.col("claim_id")).alias("claim_id"),
                pl.lit(f"earlier-night-{k}").alias("run_id"),
            ),
            compiled,
            at,
        )
        for k in range(copies)
    ]
    rows = pl.concat(frames).collect(engine="streaming").select(list(HISTORY_SCHEMA))
    shutil.rmtree(table, ignore_errors=True)
    deltalake.write_deltalake(str(table), rows.to_arrow(), partition_by=["service_month"], mode="overwrite")
    return rows.height


def measure(argv: list[str], log: Path) -> dict[str, Any]:
    """One run through a fresh ``benchmarks._measure`` wrapper: wall, CPU and peak RSS."""
    wrapper = [sys.executable, "-m", "benchmarks._measure", "--log", str(log), "--"]
    done = subprocess.run([*wrapper, *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if report["returncode"] != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {report['returncode']}); see {log}")
    return report


def summary(samples: list[dict[str, Any]]) -> dict[str, float]:
    return {
        "wall_s": round(statistics.median(s["wall_s"] for s in samples), 2),
        "cpu_s": round(statistics.median(s["user_s"] + s["sys_s"] for s in samples), 2),
        "peak_rss_mib": round(max(s["peak_rss_mib"] for s in samples), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--night", type=Path, required=True, help="the night's canonical Parquet file")
    parser.add_argument("--earlier", type=Path, required=True, help="earlier lines, canonical Parquet")
    parser.add_argument("--copies", type=int, default=5, help="earlier files' worth of lines (default 5)")
    parser.add_argument(
        "--skip", type=int, default=0, help="earlier lines to leave out first (the night's own, when it is a prefix)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "bench_data" / "history", help="scratch folder")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR / "history_latest.json")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    base = args.work / f"history_{args.earlier.stem}_from{args.skip}_x{args.copies}"
    if not (base / "_delta_log").is_dir():
        print(f"building the history from {args.earlier} x {args.copies} ...", file=sys.stderr)
        rows = build_history(args.earlier, args.copies, base, args.skip)
    else:
        rows = pl.scan_delta(str(base)).select(pl.len()).collect().item()
    prefix = [sys.executable, "-m", "adjudicator", "run", str(args.night), "--quiet", "--overwrite"]
    samples: dict[str, list[dict[str, Any]]] = {"without": [], "with_history": []}
    for repeat in range(args.repeats):
        for name in samples:  # in turn, so that a noisy neighbour hurts both alike
            out = args.work / f"out_{name}"
            command = [*prefix, "--out", str(out)]
            if name == "with_history":
                table = args.work / "history_run"
                shutil.rmtree(table, ignore_errors=True)
                shutil.copytree(base, table)
                command += ["--history", str(table)]
            samples[name].append(measure(command, args.work / f"{name}_{repeat}.log"))
            print(f"{name} #{repeat + 1}: {samples[name][-1]}", file=sys.stderr)
    without, with_history = summary(samples["without"]), summary(samples["with_history"])
    ratio = round(with_history["wall_s"] / without["wall_s"], 3)
    payload = {
        "scenario": "history",
        "night": str(args.night),
        "earlier": str(args.earlier),
        "copies": args.copies,
        "skip": args.skip,
        "history_rows": rows,
        "repeats": args.repeats,
        "without": without,
        "with_history": with_history,
        "wall_ratio": ratio,
        "cpu_ratio": round(with_history["cpu_s"] / without["cpu_s"], 3),
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }
    from benchmarks.run import portable_paths  # the results name no folder of this machine

    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(portable_paths(json.dumps(payload, indent=2) + "\n", args.night.parent))
    print(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
