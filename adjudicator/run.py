"""One adjudication run end to end: rules compiled, facts found by the prepass, the input read once in batches
by the driver, then the manifest and the report, published atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.contract import DETERMINATION, REASON, SOURCE_FILE
from adjudicator.embedded.driver import run_batches
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.staging import stage_text_inputs, staged_rows
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.facts import Supersede
from adjudicator.errors import InputError
from adjudicator.options import RunOptions, recorded_path
from adjudicator.publish import folders
from adjudicator.publish.guards import check_out
from adjudicator.publish.hashing import checksums_in_background
from adjudicator.publish.manifest import REJECTS, RESULTS, new_run_id, write_manifest
from adjudicator.publish.watch import InputWatch, watch_inputs
from adjudicator.readers import claims_list
from adjudicator.readers.diagnose import polars_message
from adjudicator.readers.inputs import read_inputs
from adjudicator.report import run_report as report
from adjudicator.report.charts import warm_up
from adjudicator.rules.check import RulesCheck
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules, sha256

MANIFEST_VERSION = 1


def replay_options(manifest_path: Path, *, out: Path | None = None, overwrite: bool = False) -> RunOptions:
    """The options of a past run, after proving its inputs and rule tables are byte-for-byte the same.

    Raises ``InputError`` naming the first file whose checksum differs (or that
    is gone), so a replay never silently runs on changed data.
    """
    try:
        manifest = json.loads(Path(manifest_path).read_text())
        return _replay_options(manifest, out=out, overwrite=overwrite)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{manifest_path}: not a readable adjudicator manifest: {exc!r}") from None


def _replay_options(manifest: dict[str, Any], *, out: Path | None, overwrite: bool) -> RunOptions:
    recorded = manifest["options"]
    run_id = manifest["run_id"]
    cwd = recorded.get("cwd")
    inputs = tuple(recorded_path(i["path"], cwd) for i in manifest["inputs"])
    options = RunOptions.from_json(recorded, inputs=inputs)
    files = [(path, i["sha256"], "input") for path, i in zip(inputs, manifest["inputs"], strict=True)]
    files += [
        (recorded_path(r["path"], cwd), r["sha256"], f"rule table {name}") for name, r in manifest["rules"].items()
    ]
    if options.slice.claims_file is not None:
        files.append((str(options.slice.claims_file), manifest.get("claims_file_sha256"), "claims list"))
    for path, digest, what in files:
        if not os.path.isfile(path):
            raise InputError(f"{path}: {what} of the run {run_id} is gone; cannot replay")
        if sha256(path) != digest:
            raise InputError(f"{path}: {what} changed since run {run_id} (sha256 differs); refusing to replay")
    return dataclasses.replace(
        options,
        out=Path(out) if out is not None else options.out,
        layout=manifest.get("layout") or recorded.get("layout"),
        overwrite=overwrite,
    )


def _versions() -> dict[str, str]:
    from importlib import metadata  # at the end of a run: 0.02 s of start-up otherwise

    found = {"python": platform.python_version()}
    for package in ("adjudicator", "polars", "pyarrow", "pandera"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


@dataclass(frozen=True)
class Prepared:
    """What every engine does before it reads a line, with the same checks and exit codes: OUT checked, the
    rules loaded and compiled, the inputs opened (file-level problems raise here) and watched."""

    options: RunOptions
    started: float
    started_at: dt.datetime
    rules: RuleSet
    compiled: CompiledRules
    raw: pl.LazyFrame
    paths: list[str]
    layout: str
    supersede: Supersede | None
    watch: InputWatch
    run_id: str
    keep: pl.Expr | None
    #: the pandera validation of the rule tables, running beside the run (None: the caller gave the rules)
    rules_check: RulesCheck | None = None

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """The run after ``prepare``: errors give way to the rule tables' own (``RulesCheck.guard``), and the
        helper never outlives the run."""
        if self.rules_check is None:
            yield
            return
        try:
            with self.rules_check.guard():
                yield
        finally:
            self.rules_check.close()


def prepare(options: RunOptions, rules: RuleSet | None = None) -> Prepared:
    """A run's set-up (``Prepared``); raises ``AdjudicatorError`` before anything is read or written.

    Without ``rules``, the rule tables are loaded here with every check but their pandera schemas, which a
    helper process runs meanwhile (``adjudicator.rules.check``); run the rest inside ``Prepared.checking``.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    tune_reader()
    check_out(options)
    check = None
    if rules is None:
        check = RulesCheck.start(options.rules_dir, plans=options.plans, as_of=options.rules_as_of)
    with check.guard() if check is not None else contextlib.nullcontext():
        rule_set = rules or load_rules(
            options.rules_dir, plans=options.plans, as_of=options.rules_as_of, validate=check is None
        )
        compiled = compile_rules(rule_set)
        raw, paths, layout, supersede = read_inputs(options, rule_set)
        return Prepared(
            options=options,
            started=started,
            started_at=started_at,
            rules=rule_set,
            compiled=compiled,
            raw=raw,
            paths=paths,
            layout=layout,
            supersede=supersede,
            watch=watch_inputs(paths, options),
            run_id=new_run_id(),
            keep=claims_list.slice_predicate(options.slice),
            rules_check=check,
        )


def publish_run(
    run: Prepared,
    tmp: Path,
    hashes: dict[str, Any],
    summary: dict[str, Any],
    timings: dict[str, float | None],
    amend: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The end of every engine's run: the rule tables proved valid (``RulesCheck.wait``), the inputs proved
    unchanged, the manifest (``amend`` adds what an engine records of its own), the report, the inputs proved
    unchanged again, OUT published atomically."""
    if run.rules_check is not None:
        run.rules_check.wait(run.rules.checksums)
    run.watch.verify()
    manifest = _manifest(
        run.options,
        run.rules,
        run.layout,
        run.paths,
        hashes,
        summary,
        run.run_id,
        started_at=run.started_at,
        timings=timings,
    )
    amend(manifest)
    write_manifest(tmp, manifest)
    report.write_run_report(tmp, manifest)
    run.watch.verify()
    folders.publish(tmp, run.options.out, run.run_id, overwrite=run.options.overwrite)
    return manifest


def report_claims_list(manifest: dict[str, Any], raw: pl.LazyFrame, options: RunOptions) -> None:
    """Record in the manifest (``claims_list``) which ids of ``--claims`` matched no line of the batch."""
    if options.slice.claims_file is not None:
        manifest["claims_list"] = claims_list.unmatched_report(raw, options.slice.claims_file)


def phase_timings(
    run: Prepared, prepass_started: float, planned: float, executed: float, startup: float | None
) -> dict[str, float | None]:
    """The manifest's ``timings``: start-up, then the start, prepass and execute phases (seconds)."""
    return {
        "startup_s": startup,
        "start_s": round(prepass_started - run.started, 4),
        "prepass_s": round(planned - prepass_started, 4),
        "execute_s": round(executed - planned, 4),
    }


def adjudicate(options: RunOptions, *, rules: RuleSet | None = None, progress: bool = False) -> dict[str, Any]:
    """Run the adjudicator; returns the manifest it published in ``options.out``.

    Compiles the rules, finds the batch-wide facts in a prepass, then reads
    the input once in batches through the batch function into the two outputs
    (``adjudicator.embedded.driver``). Raises ``AdjudicatorError`` (one-line message)
    for bad input, rules or options; OUT is then left exactly as it was.
    ``progress``: a progress line on stderr when it is a terminal.
    """
    run = prepare(options, rules)
    paths, run_id = run.paths, run.run_id
    with run.checking():
        pool, hashes = checksums_in_background(paths)
        try:
            with folders.scratch(options.out, run_id) as scratch:
                try:
                    raw = stage_text_inputs(run.raw, paths, scratch)
                    lines = staged_rows(raw, paths)
                    prepass_started = time.perf_counter()
                    facts = find_facts(
                        raw,
                        run.compiled,
                        supersede=run.supersede,
                        spill_dir=scratch,
                        expected_rows=lines,
                        settings=options.settings,
                    )
                except pl.exceptions.PolarsError as exc:
                    raise InputError(polars_message(exc, paths)) from exc
                planned = time.perf_counter()
                with folders.staging(options.out, run_id) as tmp:
                    try:
                        totals = run_batches(
                            raw,
                            facts,
                            run.compiled,
                            run_id,
                            tmp / RESULTS,
                            tmp / REJECTS,
                            keep=run.keep,
                            settings=options.settings,
                            expected_lines=lines,
                            progress=progress,
                            scratch=scratch,
                            # the report's renderer warms up once the input is read: started with the run, it
                            # delayed the first batch by 0.4 s (sample) and added 65 MB to the peak (20M lines)
                            after_read=warm_up,
                            between_batches=run.rules_check.failed if run.rules_check is not None else None,
                        )
                    except pl.exceptions.PolarsError as exc:
                        raise InputError(polars_message(exc, paths)) from exc
                    executed = time.perf_counter()
                    timings = phase_timings(run, prepass_started, planned, executed, _startup(totals.first_batch_at))
                    return publish_run(
                        run,
                        tmp,
                        hashes,
                        totals.summary(),
                        timings,
                        amend=lambda manifest: report_claims_list(manifest, raw, options),
                    )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _process_age() -> float | None:
    """Seconds since this process started (Linux: /proc; None elsewhere)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _startup(first_batch_at: float | None) -> float | None:
    """Start-up: from the process's start to the first batch of lines read (None when no batch came)."""
    age = _process_age()
    if age is None or first_batch_at is None:
        return None
    return round(age - (time.perf_counter() - first_batch_at), 3)


def _manifest(
    options: RunOptions,
    rules: RuleSet,
    layout: str,
    paths: list[str],
    hashes: dict[str, Any],
    summary: dict[str, Any],
    run_id: str,
    *,
    started_at: dt.datetime,
    timings: dict[str, float | None],
) -> dict[str, Any]:
    per_file = (
        pl.DataFrame({SOURCE_FILE: paths})
        .join(summary["per_file"], on=SOURCE_FILE, how="left", maintain_order="left")
        .fill_null(0)
    )
    inputs = [
        {
            "path": row[SOURCE_FILE],
            "bytes": os.path.getsize(row[SOURCE_FILE]),
            "sha256": hashes[row[SOURCE_FILE]].result(),
            "read": row["read"],
            "results": row["results"],
            "rejects": row["rejects"],
            "skipped": row["skipped"],
            "reconciled": row["read"] == row["results"] + row["rejects"] + row["skipped"],
        }
        for row in per_file.iter_rows(named=True)
    ]
    read = sum(i["read"] for i in inputs)
    n_results = sum(i["results"] for i in inputs)
    n_rejects = sum(i["rejects"] for i in inputs)
    n_skipped = sum(i["skipped"] for i in inputs)
    by_reason = summary["by_reason"]
    flagged = by_reason.filter(pl.col(DETERMINATION) != "NO_ACTION")
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "layout": layout,
        "options": options.as_json(),
        "inputs": inputs,
        "rules": {name: {"path": str(path), "sha256": rules.checksums[name]} for name, path in rules.files.items()},
        "rules_as_of": rules.as_of.isoformat() if rules.as_of else None,
        "claims_file_sha256": sha256(options.slice.claims_file) if options.slice.claims_file else None,
        "counts": {
            "read": read,
            "results": n_results,
            "rejects": n_rejects,
            "skipped": n_skipped,
            "reconciled": read == n_results + n_rejects + n_skipped and all(i["reconciled"] for i in inputs),
            "by_determination": {
                k: v
                for k, v in by_reason.group_by(DETERMINATION).agg(pl.col("lines").sum()).sort(DETERMINATION).iter_rows()
            },
            "by_reason": [
                {
                    "determination": r[DETERMINATION],
                    "reason": r[REASON],
                    "lines": r["lines"],
                    "billed_amount": str(r["billed"]),
                }
                for r in by_reason.iter_rows(named=True)
            ],
            "rejects_by_check": dict(summary["by_check"].iter_rows()),
            "flagged_lines": int(flagged["lines"].sum()),
            "flagged_billed_amount": str(flagged["billed"].sum()),
        },
        "timings": timings,
        "versions": _versions(),
        "summary": summary["extended"],
    }
