"""One adjudication run end to end, on any engine: the set-up (``prepare``), the skeleton every engine plugs its
own part into (``Engine``, ``run_engine``: prepass, batches, then the manifest and the report, published
atomically), and the embedded engine's part (``adjudicate``). The options of a past run are ``adjudicator.replay``."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import polars as pl

from adjudicator import about
from adjudicator.contract import CLAIM_ID
from adjudicator.embedded.driver import run_batches
from adjudicator.embedded.events import Meter, RunLog
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.staging import stage_text_inputs, staged_rows, staging_gauge
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.totals import Totals
from adjudicator.errors import InputError, InternalError
from adjudicator.options import RunOptions
from adjudicator.publish import folders, history
from adjudicator.publish.gates import Gates, future_service_lines, record_gates, run_date
from adjudicator.publish.guards import check_out
from adjudicator.publish.hashing import BytesRead, checksums_in_background
from adjudicator.publish.manifest import CLAIMS_LIST, REJECTS, RESULTS, build_manifest, new_run_id, write_manifest
from adjudicator.publish.watch import InputWatch, watch_inputs
from adjudicator.readers import claims_list
from adjudicator.readers.diagnose import polars_message
from adjudicator.readers.history import HistoryAt, history_at
from adjudicator.readers.inputs import quoted_text_files, read_inputs, streamed_text_files
from adjudicator.report import run_report as report
from adjudicator.report.draw import ChartRenderer
from adjudicator.report.html import write_page
from adjudicator.rules.check import RulesCheck
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules


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
    #: where the run's phases, progress and warnings go (``adjudicator.embedded.events``)
    log: RunLog = field(default_factory=lambda: RunLog(progress=False))
    #: the ids of the ``--claims`` list as read for the slice (None without one); kept in OUT (``CLAIMS_LIST``)
    claim_ids: pl.Series | None = None
    #: ``raw`` file by file (the same rows), for staging many files in groups
    parts: tuple[pl.LazyFrame, ...] = ()
    #: the child process that draws the report's charts (started with the run, ``run_engine``)
    charts: ChartRenderer = field(default_factory=ChartRenderer)
    #: the history table and the version the run reads (None: no ``--history``)
    history: HistoryAt | None = None
    #: the bytes the inputs' checksum thread has read (``publish.hashing``), left out of the staging's progress
    hashed: BytesRead = field(default_factory=BytesRead)

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """The run after ``prepare``: errors give way to the rule tables' own (``RulesCheck.guard``), and the
        helpers (the rules check, the chart renderer) never outlive the run."""
        try:
            with self.rules_check.guard() if self.rules_check is not None else contextlib.nullcontext():
                yield
        finally:
            self.charts.close()
            if self.rules_check is not None:
                self.rules_check.close()


def prepare(options: RunOptions, rules: RuleSet | None = None, *, log: RunLog | None = None) -> Prepared:
    """A run's set-up (``Prepared``); raises ``AdjudicatorError`` before anything is read or written.

    Without ``rules``, the rule tables are loaded here with every check but their pandera schemas, which a
    helper process runs meanwhile (``adjudicator.rules.check``); run the rest inside ``Prepared.checking``.
    ``log``: the run's log; its run id is the run's, and inputs read whole here (an 837P) are its "reading"
    phase, in bytes.
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
        inputs = read_inputs(options, rule_set, reading=log.counting("reading", unit="bytes") if log else None)
        listed = options.slice.claims_file
        claim_ids = claims_list.read_claim_ids(listed) if listed is not None else None
        return Prepared(
            options=options,
            started=started,
            started_at=started_at,
            rules=rule_set,
            compiled=compiled,
            raw=inputs.raw,
            paths=inputs.paths,
            layout=inputs.layout,
            supersede=inputs.supersede,
            watch=watch_inputs(inputs.paths, options),
            run_id=log.run_id if log is not None else new_run_id(),
            keep=options.slice.predicate(claim_ids),
            rules_check=check,
            claim_ids=claim_ids,
            log=log if log is not None else RunLog(progress=False),
            parts=inputs.parts,
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
    meter: Meter | None = None,
) -> dict[str, Any]:
    """The end of every engine's run: the rule tables proved valid (``RulesCheck.wait``), the inputs proved
    unchanged, the manifest (``amend`` adds what an engine records of its own), the report, the inputs proved
    unchanged again, OUT published atomically. ``meter``: advanced by each of those five steps."""
    step = (meter or Meter("writing the report")).advance
    if run.rules_check is not None:
        run.rules_check.wait(run.rules.checksums)
    run.watch.verify()
    step()
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
    if run.claim_ids is not None:
        # the slice as the run took it: a diff of this run never reads the list file again (it may since have
        # been edited or deleted)
        pl.DataFrame({CLAIM_ID: run.claim_ids}).write_parquet(tmp / CLAIMS_LIST)
        manifest.setdefault("claims_list", {})["ids_file"] = CLAIMS_LIST
    step()
    # the report never costs the run its outputs: charts that cannot be drawn are left out (the page and the
    # manifest say so), and the run stops here only for a stop signal
    drawn = report.publishable_run_report(manifest, run.charts)
    step()
    manifest["report"] = drawn.record()
    write_manifest(tmp, manifest)
    write_page(tmp, drawn.html)
    step()
    run.watch.verify()
    folders.publish(tmp, run.options.out, run.run_id, overwrite=run.options.overwrite)
    step()
    return manifest


#: the steps of "writing the report" (``run_engine``): the gates' counts, then each of ``publish_run``'s five
PUBLISH_STEPS = 6


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
    options: RunOptions,
    rules: RuleSet | None,
    engine_for: Callable[[Prepared], Engine[FoundT]],
    *,
    log: RunLog | None = None,
    gates: Gates | None = None,
) -> dict[str, Any]:
    """One run on an engine; returns the manifest it published in ``options.out``.

    ``prepare``, then, inside ``Prepared.checking``: the engine made for the run (``engine_for``: its own
    checks raise there, before anything is read), the inputs hashed on a thread, the facts found (in a
    scratch folder when the engine spills), every line adjudicated into a staging folder, and ``publish_run``
    with the phases' timings and the data-quality ``gates`` (``record_gates``: a breach is recorded in the
    manifest and OUT still published; the caller decides the exit). ``log``: the run's phases, progress and
    warnings.
    """
    run = prepare(options, rules, log=log)
    with run.checking():
        engine = engine_for(run)
        # the report's chart renderer starts now, in its own process: its engine's start overlaps the run and
        # holds neither this process's lock nor its memory (in-process, it slowed the first batches:
        # docs/benchmarks.md)
        run.charts.warm_up()
        quoted = quoted_text_files(run.layout, run.paths)
        pool, hashes = checksums_in_background(run.paths, quoted=quoted, counted=run.hashed)
        try:
            spill = folders.scratch(options.out, run.run_id) if engine.spills else folders.no_scratch(options.out)
            # an input removed or replaced while read is reported as such, not as the read error it causes
            with spill as scratch, run.watch.guard():
                prepass_started, found = engine.prepass(scratch)
                planned = time.perf_counter()
                with folders.staging(options.out, run.run_id) as tmp:
                    totals, amend = engine.batches(found, tmp)
                    executed = time.perf_counter()
                    timings = phase_timings(
                        run, prepass_started, planned, executed, about.startup_seconds(totals.first_batch_at)
                    )
                    with run.log.phase("writing the report", total=PUBLISH_STEPS, unit="steps") as meter:
                        gated = _gated(amend, run, gates or Gates(), tmp)
                        meter.advance()
                        manifest = publish_run(run, tmp, hashes, totals.summary(), timings, gated, meter)
            # OUT is published: the history's commit comes after it, and says so when it fails
            manifest = history.after_publish(options.out, manifest)
            # once OUT is published: a run that fails after all says only why it failed
            for warning in manifest["gates"]["warnings"]:
                run.log.warning(warning["code"], warning["message"])
            return manifest
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            engine.close()


def _gated(amend: Amend, run: Prepared, gates: Gates, tmp: Path) -> Amend:
    """``amend``, then the manifest's ``gates`` (``publish.gates.record_gates``) from its counts."""
    day = run_date(run.started_at)
    future = future_service_lines(tmp, day)

    def both(manifest: dict[str, Any]) -> None:
        amend(manifest)
        record_gates(manifest, gates, run_date=day, future_lines=future, only_payers=run.options.slice.payers)

    return both


def adjudicate(
    options: RunOptions,
    *,
    rules: RuleSet | None = None,
    progress: bool = False,
    log: RunLog | None = None,
    gates: Gates | None = None,
) -> dict[str, Any]:
    """Run the adjudicator; returns the manifest it published in ``options.out``.

    Compiles the rules, finds the batch-wide facts in a prepass, then reads
    the input once in batches through the batch function into the two outputs
    (``adjudicator.embedded.driver``). Raises ``AdjudicatorError`` (one-line message)
    for bad input, rules or options; OUT is then left exactly as it was.
    ``progress``: progress lines on stderr (without ``log``). ``log``: the run's log
    (``adjudicator.embedded.events.RunLog``: text or JSON, its run id). ``gates``:
    data-quality thresholds; a breach is recorded in the manifest's ``gates``
    (``failed``) and OUT is published all the same.
    """
    with contextlib.nullcontext(log) if log is not None else RunLog(progress=progress) as each:
        return run_engine(options, rules, lambda run: _Embedded(run, progress), log=each, gates=gates)


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
            # measured from outside polars (``StagingGauge``): the timer thread polls it, the staging never waits
            gauge = staging_gauge(paths, streamed_text_files(run.layout, paths), len(run.parts), others=run.hashed)
            with run.log.phase("staging", total=gauge.total, unit=gauge.unit) as meter:
                meter.poll = gauge
                raw = stage_text_inputs(run.raw, paths, scratch, parts=run.parts, gauge=gauge)
                lines = staged_rows(raw, paths, gauge=gauge)
            prepass_started = time.perf_counter()
            with run.log.phase("prepass", total=None) as meter:
                facts = find_facts(
                    raw,
                    run.compiled,
                    supersede=run.supersede,
                    spill_dir=scratch,
                    expected_rows=lines,
                    settings=run.options.settings,
                    meter=meter,
                    history=run.history,
                )
        except pl.exceptions.PolarsError as exc:
            raise InputError(polars_message(exc, paths)) from exc
        return prepass_started, _Staged(raw, lines, facts, scratch)

    def batches(self, found: _Staged, tmp: Path) -> tuple[Totals, Amend]:
        run, options = self.run, self.run.options
        try:
            with run.log.phase("adjudicating", total=found.lines) as meter:
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
                    progress=meter,
                    scratch=found.scratch,
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
