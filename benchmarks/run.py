"""One command for the benchmark suite: generate inputs, run the contenders in turn, report medians.

    python -m benchmarks.run --scales 1M,20M --formats parquet,csv --repeats 3

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
CONTENDERS = (FLOOR, DUCKDB, PANDAS, ADJUDICATOR)

#: the one-read engine's targets (issue 10): the adjudicator against the floor and the DuckDB peer, and its
#: memory (issue 4 asked 1.25 x the floor, 0.8 x DuckDB and 1.2 flat: now the stretch goals)
TARGET_VS_FLOOR = 2.0
TARGET_VS_DUCKDB = 1.0
TARGET_PEAK_MIB = 1024.0
TARGET_FLAT = 1.15
FLAT_SCALES = (10_000_000, 100_000_000)
TARGET_SCALE = 20_000_000


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


def contenders(names: Sequence[str], *, pandas_max_lines: int, adjudicator_cmd: str | None) -> list[Contender]:
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
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"'contenders' must be among {CONTENDERS}, got {unknown!r}"
        raise ValueError(msg)
    return [known[n] for n in names]


def count_rows(outdir: Path, names: Sequence[str]) -> int | None:
    """Rows in the named Parquet outputs, from their footers (None if one is missing)."""
    import pyarrow.parquet as pq

    total = 0
    for name in names:
        path = outdir / name
        if not path.is_file():
            return None
        total += pq.ParquetFile(path).metadata.num_rows
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
        floor = by_key.get((cell.format, cell.lines, FLOOR))
        duck = by_key.get((cell.format, cell.lines, DUCKDB))
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
        if cell.contender != ADJUDICATOR or cell.median_wall_s is None:
            continue
        fmt, lines = cell.format, cell.lines
        check(
            fmt,
            lines,
            "wall / I/O floor",
            _ratio(cell, by_key.get((fmt, lines, FLOOR))),
            TARGET_VS_FLOOR,
        )
        if fmt == "parquet":
            check(
                fmt,
                lines,
                "wall / DuckDB peer",
                _ratio(cell, by_key.get((fmt, lines, DUCKDB))),
                TARGET_VS_DUCKDB,
            )
        check(fmt, lines, "peak RSS MiB", cell.peak_rss_mib, TARGET_PEAK_MIB)
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


def write_json(payload: dict[str, Any], paths: Sequence[Path]) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def update_doc(doc: Path, table: str, header: str) -> None:
    """Replace the text between the bench markers of `doc` with the latest table."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
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
    parser.add_argument("--scales", type=_counts, default=[1_000_000], help="e.g. 1M,20M")
    parser.add_argument("--formats", type=_names, default=list(FORMATS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--contenders", type=_names, default=list(CONTENDERS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pandas-max-lines", type=parse_count, default=2_000_000)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--adjudicator-cmd", default=None, help="argv prefix (default: python -m adjudicator)")
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
    if args.quick:
        args.scales, args.repeats = [200_000], 1
    unknown = set(args.formats) - set(FORMATS)
    if unknown:
        parser.error(f"'--formats' must be among {FORMATS}, got {sorted(unknown)!r}")
    if args.repeats < 1:
        parser.error(f"'--repeats' must be >= 1, got {args.repeats!r}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    env = environment()
    chosen = contenders(
        args.contenders,
        pandas_max_lines=args.pandas_max_lines,
        adjudicator_cmd=args.adjudicator_cmd,
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
                    sample = measure(c, paths[fmt], outdir, log, args.timeout)
                    if not args.keep_outputs:
                        shutil.rmtree(outdir, ignore_errors=True)
                    cell.samples.append(sample)
                    ok = sample.returncode == 0 and not sample.timed_out
                    print(
                        f"  {fmt:<8}{_scale(lines):>6}  {c.name:<13} run {repeat + 1}: "
                        f"{sample.wall_s:8.2f}s {sample.peak_rss_mib:8.0f} MiB"
                        + ("" if ok else f"  FAILED rc={sample.returncode} (log {log})"),
                        file=sys.stderr,
                        flush=True,
                    )
            for cell in group:
                if cell.status == "ok" and len(cell.ok_samples) < len(cell.samples):
                    cell.status = "failed"
                    cell.note = next(s.log for s in cell.samples if s.returncode != 0)
            cells += group

    rows = summarize(cells)
    growth = memory_growth(cells)
    checks = targets(cells)
    table = markdown_table(rows)
    machine = env["machine"]
    header = (
        f"Measured {started:%Y-%m-%d} on {machine['cpu'] or 'unknown CPU'}, "
        f"{machine['cores']} cores, {machine['memory']} RAM; commit "
        f"{env['git']['commit'][:10]}{' (dirty)' if env['git']['dirty'] else ''}; "
        f"seed {args.seed}, {args.repeats} repeat(s), rules {_rules.fingerprint(rules)}.\n"
        f"Command: `python -m benchmarks.run {' '.join(argv or sys.argv[1:])}`"
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
            print(
                f"  {t['format']:<8}{_scale(t['lines']):>6}  {t['target']:<24}"
                f"{t['value']:>9.2f} <= {t['limit']:<7g} {'met' if t['met'] else 'NOT MET'}"
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
    write_json(payload, outputs)
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
