"""A run on Spark: the plan of a notebook's DataFrame (``adjudicate``), a whole run as ``adjudicate run`` makes it
(``run``, ``run_options``: the run skeleton of ``adjudicator.run`` with the Spark engine plugged in), the session.

Spark does what only it can do here: spread the work items over its tasks
and group keys across machines. It never parses a value and never decides a
line: reading (``spark.reading``), the facts (``spark.narrow``, and
``spark.facts`` for a notebook's DataFrame) and the batch (``spark.tasks``)
run the embedded engine's own readers, prepass functions and batch function
inside Spark tasks. In a run, only the facts' keys and the few lines an edit
names cross into Spark; every task reads its own lines, adjudicates them with
the run's facts and writes its part files.

The compiled rules travel to the tasks by pickling (``CompiledRules`` is
frozen; its size: docs/benchmarks.md). No text is cast by Spark, so ANSI mode
and Spark's CSV and trimming rules never touch a value. Costs and how to run
on a cluster: README, "Running on Spark"; figures: docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from adjudicator.embedded.events import RunLog
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.totals import Totals
from adjudicator.errors import AdjudicatorError, InputError
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings, RunOptions, Slice
from adjudicator.publish.gates import Gates
from adjudicator.readers.claims_list import claims_list_entry, read_claim_ids
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules
from adjudicator.run import Amend, Prepared, run_engine, stage_history
from adjudicator.spark.facts import find_facts
from adjudicator.spark.narrow import find_run_facts
from adjudicator.spark.reading import ReadItems, _raise_input_error, lines_from_frame, work_items
from adjudicator.spark.tasks import Plan, adjudicate_items, adjudicate_lines
from adjudicator.spark.types import REJECTS_DIR, RESULTS_DIR, SOURCE_ROW

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: pyspark 4.x warns on every import that it "does not yet fully support pandas >= 3.0.0"; the engine uses
#: pandas only as pyspark's own dependency of mapInArrow (Arrow batches in and out, never a pandas frame)
_PANDAS_WARNING: Final = "PySpark does not yet fully support pandas"


def quiet_pandas_warning() -> None:
    """Silence pyspark's pandas-version warning here and in the Python workers a local session starts."""
    import warnings

    warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
    rule = f"ignore:{_PANDAS_WARNING}:FutureWarning"
    current = os.environ.get("PYTHONWARNINGS")
    if rule not in (current or ""):
        os.environ["PYTHONWARNINGS"] = f"{current},{rule}" if current else rule


def require_pyspark() -> None:
    """Stop with one line when the optional Spark dependencies are missing (the default engine needs none)."""
    quiet_pandas_warning()
    missing = []
    for module in ("pyspark", "pandas"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise AdjudicatorError(
            f"--engine spark needs {' and '.join(missing)}: pip install -e '.[spark]' (pyspark>=4.0, pandas>=2.2)"
        )


def plan(
    lines: DataFrame,
    raw: pl.Schema,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    supersede: Supersede | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> Plan:
    """The lazy plan over Spark ``lines`` (``lines_from_frame``: a notebook's DataFrame): the facts, then
    the lines joined to them (Spark chooses the join) through the batch function."""
    lines = lines.persist()
    lines, facts = find_facts(lines, raw, compiled, supersede=supersede, settings=settings)
    return adjudicate_lines(
        lines, facts, raw, compiled, run_id=run_id, keep=keep, supersede=supersede, settings=settings
    )


def adjudicate(
    raw_df: DataFrame,
    rules: RuleSet | CompiledRules | None = None,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    source: str = "dataframe",
) -> tuple[DataFrame, DataFrame]:
    """Results and rejects of a Spark DataFrame of claim lines in the canonical layout, as lazy DataFrames.

    ``raw_df``: the canonical columns (any types; names as the canonical
    reader maps them) and any extra columns, carried through; ``source_file``
    when it has one, else ``source``. ``rules``: a ``RuleSet`` (default: the
    shipped rules) or compiled rules. ``keep``: a slice, a polars expression
    over the typed canonical columns (``Slice.predicate``); lines
    outside it are neither results nor rejects. The outputs are those of
    a local run of the same lines, with ``source_row`` (the frame's row
    order) beside ``source_file``. Nothing runs until an output is used.
    """
    require_pyspark()
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules or load_rules())
    lines, raw = lines_from_frame(raw_df, source=source)
    found = plan(lines, raw, compiled, run_id=run_id, keep=keep)
    return found.results, found.rejects


def run_options(
    spark: SparkSession,
    options: RunOptions,
    *,
    rules: RuleSet | None = None,
    log: RunLog | None = None,
    gates: Gates | None = None,
) -> dict[str, Any]:
    """A run on Spark with the options of a local run; returns the manifest it published in ``options.out``.

    The same checks before anything is read (OUT, inputs, headers: exit 2,
    OUT untouched), the same watch on the inputs, the same manifest and
    report, published atomically; the outputs are the Parquet datasets
    ``OUT/results/`` and ``OUT/rejects/``. A file-level problem a task meets
    (a malformed CSV row, bytes that are not UTF-8) is exit 2 as locally. ``log`` and ``gates``: as
    ``adjudicator.run.run_engine`` takes them.
    """
    return run_engine(options, rules, functools.partial(_SparkEngine.start, spark), log=log, gates=gates)


@dataclass(frozen=True)
class _Found:
    """The Spark prepass's hand-over: the work items, how a task reads them, the run's facts, the listed claim
    ids some line carries (with ``--claims``)."""

    work: DataFrame
    source: ReadItems
    facts: BatchFacts
    #: the ids of ``--claims`` (None without it), and those some line carries
    listed: pl.Series | None
    listed_found: set[str]
    #: with ``--history``: what it changed on the night's lines (``engine.history.effects``)
    history_effects: pl.DataFrame | None = None


@dataclass(frozen=True)
class _SparkEngine:
    """The Spark engine's part of a run (``adjudicator.run.Engine``): the facts from a narrow pass
    (``spark.narrow``), then one task per work item reading its lines, adjudicating them and writing its part
    files into ``OUT/results/`` and ``OUT/rejects/``; no line is turned into a Spark row, and nothing is
    cached but the narrow pass's keys while the facts are found. An input problem a task met is exit 2
    (``_raise_input_error``)."""

    spark: SparkSession
    run: Prepared
    raw_schema: pl.Schema
    spills: bool = False

    @classmethod
    def start(cls, spark: SparkSession, run: Prepared) -> _SparkEngine:
        raw_schema = run.raw.collect_schema()
        if SOURCE_ROW in raw_schema:
            problem = f"has a column named {SOURCE_ROW!r}, which the Spark engine writes itself"
            raise InputError(problem, path=run.paths[0])
        return cls(spark, run, raw_schema)

    def prepass(self, scratch: Path | None) -> tuple[float, _Found]:
        with self.run.log.phase("prepass", total=None, unit="tasks") as meter:
            meter.poll = functools.partial(running_tasks, self.spark)
            return self._prepass()

    def _prepass(self) -> tuple[float, _Found]:
        run, options = self.run, self.run.options
        aliases = None if run.layout == "canonical" else run.rules.payer_aliases
        source = ReadItems(run.layout, options.payer, aliases, self.raw_schema, options.settings.batch_size)
        claims = options.slice.claims_file
        listed = read_claim_ids(claims) if claims is not None else None
        prepass_started = time.perf_counter()
        try:
            work, items = work_items(self.spark, run.paths, run.layout, options.settings.spark_rows_per_item)
            # each grouping's partitions sized to the data: one per work item (a Parquet range, or a text file)
            facts, found, effects = find_run_facts(
                work,
                source,
                run.compiled,
                supersede=run.supersede,
                listed=listed,
                buckets=items,
                history=run.history,
            )
        except Exception as exc:
            raise_worker_error(exc)
            _raise_input_error(exc)
            raise
        return prepass_started, _Found(work, source, facts, listed, found, effects)

    def batches(self, found: _Found, tmp: Path) -> tuple[Totals, Amend]:
        with self.run.log.phase("adjudicating", total=None, unit="tasks") as meter:
            meter.poll = functools.partial(running_tasks, self.spark)
            return self._batches(found, tmp)

    def _batches(self, found: _Found, tmp: Path) -> tuple[Totals, Amend]:
        run, options = self.run, self.run.options
        try:
            folders = (tmp.resolve() / RESULTS_DIR, tmp.resolve() / REJECTS_DIR)
            for folder in folders:
                folder.mkdir()
            totals = adjudicate_items(
                found.work,
                found.source,
                found.facts,
                run.compiled,
                run_id=run.run_id,
                keep=run.keep,
                write_to=folders,
            )
            for folder in folders:  # what attempts that failed, or lost to another, left
                for leftover in folder.glob(".part-*.tmp"):
                    leftover.unlink(missing_ok=True)
        except Exception as exc:
            raise_worker_error(exc)
            _raise_input_error(exc)
            raise
        claims = None
        if options.slice.claims_file is not None and found.listed is not None:
            claims = claims_list_entry(options.slice.claims_file, found.listed, found.listed_found)
        staged = functools.partial(stage_history, run, tmp, tmp / RESULTS_DIR, found.history_effects)
        return totals, functools.partial(_amend, self.spark, claims, staged)

    def close(self) -> None:
        """Nothing: the narrow pass's cache is let go as soon as the facts are found."""


def running_tasks(spark: SparkSession) -> tuple[int, int | None]:
    """Tasks done, and in all, of the stages running now (Spark's status tracker): a phase's progress lines."""
    tracker = spark.sparkContext.statusTracker()
    stages = [info for info in map(tracker.getStageInfo, tracker.getActiveStageIds()) if info is not None]
    return sum(s.numCompletedTasks for s in stages), sum(s.numTasks for s in stages) or None


def _amend(spark: SparkSession, claims: dict[str, Any] | None, staged: Amend, manifest: dict[str, Any]) -> None:
    """What the manifest records of a Spark run: the engine, pyspark's version, the claims list's report, the
    history's section (``stage_history``)."""
    staged(manifest)
    manifest["engine"] = engine_json(spark)
    manifest["versions"] = {**manifest["versions"], "pyspark": spark.version}
    if claims is not None:
        manifest["claims_list"] = claims


def engine_json(spark: SparkSession) -> dict[str, Any]:
    """What the manifest records of the engine: Spark, its master and its version."""
    return {"name": "spark", "master": spark.conf.get("spark.master", None), "spark_version": spark.version}


def run(
    spark: SparkSession,
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    rules_dir: Path | None = None,
    plans: Path | None = None,
    layout: str | None = None,
    payer: str | None = None,
    overwrite: bool = False,
    rules_as_of: dt.date | None = None,
    slice: Slice | None = None,
) -> dict[str, Any]:
    """Adjudicate ``inputs`` (one path or glob, or many) on ``spark`` into ``out`` (``results/`` and ``rejects/``
    Parquet datasets, ``manifest.json``, ``report.html``); the options are those of ``adjudicate run``. Returns the
    manifest."""
    require_pyspark()
    options = RunOptions(
        # as given: RunOptions takes one input or many, str or Path, and refuses a URI naming it
        inputs=inputs,  # type: ignore[arg-type]
        out=out,  # type: ignore[arg-type]
        rules_dir=rules_dir,
        plans=plans,
        layout=layout,
        payer=payer,
        overwrite=overwrite,
        rules_as_of=rules_as_of,
        slice=slice or Slice(),
    )
    return run_options(spark, options)


def session(master: str | None = None) -> tuple[SparkSession, bool]:
    """The active Spark session (``spark-submit``, a notebook), else a new one (on ``master`` when given).
    Returns (session, whether it was made here: the caller stops it)."""
    require_pyspark()
    quiet_pandas_warning()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active, False
    import adjudicator

    if master is not None and not master.startswith("local") and adjudicator.SPARK_LOCAL_IP_AT_START is None:
        # pandera's 127.0.0.1 (see ``adjudicator.SPARK_LOCAL_IP_AT_START``): executors elsewhere must reach us
        os.environ.pop("SPARK_LOCAL_IP", None)
    builder = SparkSession.builder.appName("adjudicator").config("spark.ui.showConsoleProgress", "false")
    if master is not None:
        builder = builder.master(master)
    with _environment("PYSPARK_PYTHON", worker_python(master, os.environ)):
        made = builder.getOrCreate()
    made.sparkContext.setLogLevel("ERROR")
    return made, active is None


def worker_python(master: str | None, environ: Mapping[str, str]) -> str | None:
    """The interpreter Spark's Python workers are to run, when this process chooses it: the one running this (a
    virtual environment's console script run by its path, as cron and Airflow do, is not the ``python3`` on
    PATH), for a local or standalone master (``spark://``) and when no ``PYSPARK_PYTHON`` says otherwise.
    None: Spark's own choice (a YARN or Kubernetes node has its own Python; spark-submit has its settings)."""
    if environ.get("PYSPARK_PYTHON") or not sys.executable:
        return None
    if master is None:
        # no master given: a local session, unless spark-submit started this process with its own settings
        return None if "PYSPARK_GATEWAY_PORT" in environ else sys.executable
    return sys.executable if master.startswith(("local", "spark://")) else None


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """``name`` set to ``value`` (None: left alone) while a session starts, as it was afterwards: the
    SparkContext reads it once, when it starts."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


#: what a Python worker prints when it cannot import the package the tasks are pickled from
_NO_PACKAGE = re.compile(r"ModuleNotFoundError: No module named '(adjudicator)[.']")
#: what Spark says when the workers' interpreter does not exist on a node
_NO_PYTHON = re.compile(r'Cannot run program "([^"]+)"')


def raise_worker_error(exc: BaseException) -> None:
    """A Python worker that could not start the tasks, as one line saying how to fix it (exit 2); anything
    else goes on as it is."""
    text = str(exc)
    fix = "install claims-adjudicator on every node, or set PYSPARK_PYTHON to an interpreter that has it"
    if _NO_PACKAGE.search(text):
        raise AdjudicatorError(f"Spark's Python workers cannot import the adjudicator package: {fix}") from None
    missing = _NO_PYTHON.search(text)
    if missing:
        raise AdjudicatorError(
            f"Spark cannot start its Python workers' interpreter {missing.group(1)}: {fix}"
        ) from None


__all__ = [
    "REJECTS_DIR",
    "RESULTS_DIR",
    "SOURCE_ROW",
    "adjudicate",
    "engine_json",
    "plan",
    "quiet_pandas_warning",
    "require_pyspark",
    "run",
    "run_options",
    "running_tasks",
    "session",
    "worker_python",
]
