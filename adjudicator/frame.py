"""A run over a polars frame already in memory (``adjudicate_frame``), for a notebook: the embedded engine's run,
returned as frames and the manifest's summary instead of files, with no file written anywhere.

The run is the one ``adjudicate run`` makes of the same lines written to a canonical Parquet file (the same
checks, results, rejects and counts): the frame gets the canonical layout's checks and raw forms
(``readers.inputs.frame_inputs``), the rule tables are loaded with every check, pandera's included, in this
process, the prepass finds the batch-wide facts in memory (``find_facts(..., in_memory=True)``) and the batches
are adjudicated into frames (``embedded.driver.adjudicate_lines``). No temporary folder, spill, staging file,
report or helper process: it runs with the temporary and the working folders read-only.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

import polars as pl

from adjudicator.embedded.driver import adjudicate_lines
from adjudicator.embedded.events import RunLog, check_run_id, new_run_id
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.tuning import tune_reader
from adjudicator.errors import InputError, UsageError, first_line
from adjudicator.options import RunOptions
from adjudicator.publish.gates import Gates, future_service_rows, record_gates, run_date
from adjudicator.publish.manifest import build_manifest
from adjudicator.readers.inputs import frame_inputs
from adjudicator.readers.specs import CANONICAL_LAYOUT
from adjudicator.rules.compiled import compile_rules
from adjudicator.rules.tables import RuleSet, load_rules

#: ``source_file`` of every line of a frame, in the outputs and the manifest
FRAME_SOURCE = "dataframe"
#: the manifest's ``report`` of a frame run: no page is drawn, since nothing is written
NO_REPORT = {"charts": "not drawn", "problem": "adjudicate_frame writes no file, so it draws no report"}


@dataclass(frozen=True)
class FrameRun:
    """What ``adjudicate_frame`` returns: the results and the rejects, in memory, and the manifest the run would
    have published (``counts``, ``summary``, ``rules``, ``timings``, ``gates``...), its input named
    ``dataframe``."""

    #: one row per adjudicated line: the frame's columns (typed), the decision columns, ``source_file``
    #: ("dataframe") and ``run_id``
    results: pl.DataFrame
    #: one row per line that broke the input contract: its columns as given, ``failed_checks``, ``source_file``
    #: and ``run_id``
    rejects: pl.DataFrame
    #: the manifest ``adjudicate run`` writes, as a dict; ``options.out`` None, the input's ``bytes`` and
    #: ``sha256`` None (``in_memory``: no file), ``timings.startup_s`` None, ``report`` saying none was drawn
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        """The manifest's ``counts``: lines read, results, rejects, skipped, by determination and by reason."""
        counts: dict[str, Any] = self.manifest["counts"]
        return counts


def adjudicate_frame(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    plans: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    rules_as_of: dt.date | None = None,
) -> FrameRun:
    """Adjudicate a polars DataFrame or LazyFrame of claim lines in the canonical layout (contract section 2) on
    the embedded engine, in memory; returns a ``FrameRun``: the results and rejects frames and the manifest of
    the run. Writes no file (the module's docstring says how); a LazyFrame is collected once.

    ``rules``: a folder of rule tables or a loaded ``RuleSet`` (default: the shipped tables); ``plans``: a
    benefit-plans CSV replacing the folder's; ``rules_as_of``: only policy rows published by that day (both only
    with a folder). ``run_id``: the id the engine stamps on every line and the manifest records (default: a new
    one), as ``--run-id`` takes it. Raises ``AdjudicatorError`` with the one-line message a run gives for bad
    input, rules or arguments (``UsageError`` for an unsafe ``run_id``), ``TypeError`` for a ``frame`` that is
    not a polars frame.
    """
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise TypeError(f"'frame' must be a polars DataFrame or LazyFrame, got {type(frame).__name__}")
    run_id = check_run_id(run_id, what="'run_id'") if run_id is not None else new_run_id()
    given = rules if isinstance(rules, RuleSet) else None
    if given is not None and (plans is not None or rules_as_of is not None):
        raise UsageError("'plans' and 'rules_as_of' apply to a rules folder; a RuleSet is already loaded")
    started, started_at = time.perf_counter(), dt.datetime.now(dt.UTC)
    tune_reader()
    options = RunOptions(
        inputs=(FRAME_SOURCE,),
        out=os.curdir,  # type: ignore[arg-type]  # none: the manifest records None (``_manifest``)
        rules_dir=None if given is not None else rules,  # type: ignore[arg-type]  # RunOptions makes it a Path
        plans=plans,  # type: ignore[arg-type]
        layout=CANONICAL_LAYOUT,
        rules_as_of=rules_as_of,
    )
    with warnings.catch_warnings():
        # pandera's import loads pyspark's pandas support where pyspark is installed, which warns about the
        # pandas version on every notebook's first call; the adjudicator does not use it
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        rule_set = given or load_rules(options.rules_dir, plans=options.plans, as_of=rules_as_of, validate=True)
    compiled = compile_rules(rule_set)
    try:
        held = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        inputs = frame_inputs(held.lazy(), FRAME_SOURCE)
        prepass_started = time.perf_counter()
        facts = find_facts(inputs.raw, compiled, supersede=inputs.supersede, in_memory=True, settings=options.settings)
        planned = time.perf_counter()
        results, rejects, totals = adjudicate_lines(
            inputs.raw,
            facts,
            compiled,
            run_id=run_id,
            keep=options.slice.predicate(),
            batch_size=options.settings.batch_size,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot be read: {first_line(exc)}", path=FRAME_SOURCE) from exc
    timings: dict[str, float | None] = {
        # a notebook's process started long before the run: its age says nothing of this run's start-up
        "startup_s": None,
        "start_s": round(prepass_started - started, 4),
        "prepass_s": round(planned - prepass_started, 4),
        "execute_s": round(time.perf_counter() - planned, 4),
    }
    manifest = build_manifest(
        options,
        rule_set,
        inputs.layout,
        inputs.paths,
        {},
        totals.summary(),
        run_id,
        started_at=started_at,
        timings=timings,
        in_memory=inputs.paths,
    )
    manifest["options"]["out"] = None
    day = run_date(started_at)
    record_gates(manifest, Gates(), run_date=day, future_lines=future_service_rows(results.lazy(), day))
    manifest["report"] = dict(NO_REPORT)
    # the warning lines ``adjudicate`` prints on stderr (no file): a notebook shows them under the cell
    log = RunLog(progress=False, run_id=run_id)
    for warning in manifest["gates"]["warnings"]:
        log.warning(warning["code"], warning["message"])
    return FrameRun(results, rejects, manifest)


__all__ = ["FRAME_SOURCE", "FrameRun", "adjudicate_frame"]
