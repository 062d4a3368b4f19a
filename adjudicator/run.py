"""One adjudication run end to end, on any engine: the set-up (``prepare``), the skeleton every engine plugs its
own part into (``Engine``, ``run_engine``: prepass, batches, then the manifest and the report, published
atomically), the embedded engine's part (``adjudicate``), and the options of a past run (``replay_options``)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import polars as pl

from adjudicator.embedded.driver import run_batches
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.staging import stage_text_inputs, staged_rows
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.totals import Totals
from adjudicator.errors import InputError, InternalError
from adjudicator.options import NO_HISTORY_YET, RunOptions, recorded_path
from adjudicator.publish import folders, history
from adjudicator.publish.disk import raise_if_disk_full
from adjudicator.publish.guards import check_out
from adjudicator.publish.hashing import checksums_in_background
from adjudicator.publish.manifest import REJECTS, RESULTS, build_manifest, new_run_id, write_manifest
from adjudicator.publish.watch import InputWatch, watch_inputs
from adjudicator.readers import claims_list
from adjudicator.readers.diagnose import polars_message
from adjudicator.readers.history import HistoryAt, history_at
from adjudicator.readers.inputs import read_inputs
from adjudicator.report import run_report as report
from adjudicator.report.charts import warm_up
from adjudicator.rules.check import RulesCheck
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules, sha256


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
        raise InputError(f"not a readable adjudicator manifest: {exc!r}", path=manifest_path) from None


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
            raise InputError(f"{what} of the run {run_id} is gone; cannot replay", path=path)
        if sha256(path) != digest:
            raise InputError(f"{what} changed since run {run_id} (sha256 differs); refusing to replay", path=path)
    history = manifest.get("history") or {}
    read = history.get("version_read")
    return dataclasses.replace(
        options,
        out=Path(out) if out is not None else options.out,
        layout=manifest.get("layout") or recorded.get("layout"),
        overwrite=overwrite,
        # the history as the run saw it (Delta time travel); a replay writes nothing to it
        history_version=(NO_HISTORY_YET if read is None else int(read)) if options.history is not None else None,
    )


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
    #: the history table and the version the run reads (None: no ``--history``)
    history: HistoryAt | None = None

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
            history=history_at(options),
        )


#: what an engine adds to the manifest of its run (``publish_run``'s ``amend``)
Amend = Callable[[dict[str, Any]], None]


def publish_run(
    run: Prepared,
    tmp: Path,
    hashes: dict[str, Any],
    summary: dict[str, Any],
    timings: dict[str, float | None],
    amend: Amend,
) -> dict[str, Any]:
    """The end of every engine's run: the rule tables proved valid (``RulesCheck.wait``), the inputs proved
    unchanged, the manifest (``amend`` adds what an engine records of its own), the report, the inputs proved
    unchanged again, OUT published atomically."""
    if run.rules_check is not None:
        run.rules_check.wait(run.rules.checksums)
    run.watch.verify()
    manifest = build_manifest(
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


def stage_history(
    run: Prepared, tmp: Path, results: Path, effects: pl.DataFrame | None, manifest: dict[str, Any]
) -> None:
    """With ``--history``: its files staged beside the results (a file, or a dataset's folder) and the
    manifest's ``history`` section (``publish.history.stage``)."""
    if run.history is None:
        return
    manifest["history"] = history.stage(
        tmp,
        results,
        run.compiled,
        run.run_id,
        run.started_at,
        run.history,
        effects,
        writes=run.options.history_writes,
        replay=run.options.history_version is not None,
    )


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


#: what an engine's prepass hands to its adjudication
FoundT = TypeVar("FoundT")


class Engine(Protocol[FoundT]):
    """An engine's own part of one run, made for the ``Prepared`` run; ``run_engine`` does the rest, the same
    way for every engine."""

    @property
    def spills(self) -> bool:
        """Whether the engine needs a scratch folder beside OUT (``folders.scratch``) from its prepass on."""
        ...

    def prepass(self, scratch: Path | None) -> tuple[float, FoundT]:
        """Read the inputs and find the batch-wide facts; returns when the prepass started
        (``time.perf_counter``) and what the adjudication needs of it."""
        ...

    def batches(self, found: FoundT, tmp: Path) -> tuple[Totals, Amend]:
        """Adjudicate every line into the staging folder ``tmp``: the run's totals, and what the engine adds to
        the manifest."""
        ...

    def close(self) -> None:
        """Let go of what the engine holds, whatever happened (called last)."""
        ...


def run_engine(
    options: RunOptions, rules: RuleSet | None, engine_for: Callable[[Prepared], Engine[FoundT]]
) -> dict[str, Any]:
    """One run on an engine; returns the manifest it published in ``options.out``.

    ``prepare``, then, inside ``Prepared.checking``: the engine made for the run (``engine_for``: its own
    checks raise there, before anything is read), the inputs hashed on a thread, the facts found (in a
    scratch folder when the engine spills), every line adjudicated into a staging folder, and ``publish_run``
    with the phases' timings.
    """
    run = prepare(options, rules)
    with run.checking():
        engine = engine_for(run)
        pool, hashes = checksums_in_background(run.paths)
        try:
            spill = folders.scratch(options.out, run.run_id) if engine.spills else _no_scratch(options.out)
            with spill as scratch:
                prepass_started, found = engine.prepass(scratch)
                planned = time.perf_counter()
                with folders.staging(options.out, run.run_id) as tmp:
                    totals, amend = engine.batches(found, tmp)
                    executed = time.perf_counter()
                    timings = phase_timings(run, prepass_started, planned, executed, _startup(totals.first_batch_at))
                    manifest = publish_run(run, tmp, hashes, totals.summary(), timings, amend)
            # OUT is published: the history's commit comes after it, and says so when it fails
            return history.after_publish(options.out, manifest)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            engine.close()


@contextlib.contextmanager
def _no_scratch(out: Path) -> Iterator[None]:
    """No scratch folder, for an engine that does not spill; a full disk met before the staging folder exists is
    still ``DiskFullError``, as inside ``folders.scratch`` and ``folders.staging``."""
    try:
        yield None
    except BaseException as exc:
        raise_if_disk_full(exc, out)
        raise


def adjudicate(options: RunOptions, *, rules: RuleSet | None = None, progress: bool = False) -> dict[str, Any]:
    """Run the adjudicator; returns the manifest it published in ``options.out``.

    Compiles the rules, finds the batch-wide facts in a prepass, then reads
    the input once in batches through the batch function into the two outputs
    (``adjudicator.embedded.driver``). Raises ``AdjudicatorError`` (one-line message)
    for bad input, rules or options; OUT is then left exactly as it was.
    ``progress``: a progress line on stderr when it is a terminal.
    """
    return run_engine(options, rules, lambda run: _Embedded(run, progress))


@dataclass(frozen=True)
class _Staged:
    """The embedded prepass's hand-over: the raw frame as staged, its lines, the facts, the scratch folder."""

    raw: pl.LazyFrame
    lines: int
    facts: BatchFacts
    scratch: Path


@dataclass(frozen=True)
class _Embedded:
    """The embedded engine's part of a run: text inputs staged once to Parquet in the scratch folder, the
    prepass (``embedded.prepass``), then the batches (``embedded.driver``); polars' errors are the input's."""

    run: Prepared
    progress: bool
    spills: bool = True

    def prepass(self, scratch: Path | None) -> tuple[float, _Staged]:
        run, paths = self.run, self.run.paths
        if scratch is None:
            raise InternalError("the embedded engine spills: it needs a scratch folder")
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
                settings=run.options.settings,
                history=run.history,
            )
        except pl.exceptions.PolarsError as exc:
            raise InputError(polars_message(exc, paths)) from exc
        return prepass_started, _Staged(raw, lines, facts, scratch)

    def batches(self, found: _Staged, tmp: Path) -> tuple[Totals, Amend]:
        run, options = self.run, self.run.options
        try:
            totals = run_batches(
                found.raw,
                found.facts,
                run.compiled,
                run.run_id,
                tmp / RESULTS,
                tmp / REJECTS,
                keep=run.keep,
                settings=options.settings,
                expected_lines=found.lines,
                progress=self.progress,
                scratch=found.scratch,
                # the report's renderer warms up once the input is read: started with the run, it delayed the
                # first batch and added to the peak memory (docs/benchmarks.md)
                after_read=warm_up,
                between_batches=run.rules_check.failed if run.rules_check is not None else None,
            )
        except pl.exceptions.PolarsError as exc:
            raise InputError(polars_message(exc, run.paths)) from exc

        def amend(manifest: dict[str, Any]) -> None:
            report_claims_list(manifest, found.raw, options)
            stage_history(run, tmp, tmp / RESULTS, found.facts.history_effects, manifest)

        return totals, amend

    def close(self) -> None:
        """Nothing: the scratch folder and the staging folder are the run's."""


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
