"""A run over a polars frame already in memory (``adjudicate_frame``), for a notebook: the embedded engine's run,
returned as frames and the manifest's summary instead of files.

The run is the one ``adjudicate run`` makes (the same checks, results, rejects and counts): the frame is written
once to Parquet in a temporary folder that also holds the run's output, which is read back into memory; the
folder is deleted before ``adjudicate_frame`` returns or raises, so nothing is left behind.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.contract import RUN_ID, SOURCE_FILE
from adjudicator.errors import UsageError
from adjudicator.options import RunOptions
from adjudicator.publish.manifest import REJECTS, RESULTS
from adjudicator.readers.specs import CANONICAL_LAYOUT
from adjudicator.rules.tables import RuleSet
from adjudicator.run import adjudicate

#: ``source_file`` of every line of a frame, in the outputs and the manifest
FRAME_SOURCE = "dataframe"


@dataclass(frozen=True)
class FrameRun:
    """What ``adjudicate_frame`` returns: the results and the rejects, in memory, and the manifest the run would
    have published (``counts``, ``summary``, ``rules``, ``timings``...), its inputs named ``dataframe``."""

    #: one row per adjudicated line: the frame's columns, the decision columns and ``run_id``
    results: pl.DataFrame
    #: one row per line that broke the input contract, with ``failed_checks``
    rejects: pl.DataFrame
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
    the embedded engine; returns a ``FrameRun``: the results and rejects frames and the manifest of the run.

    ``rules``: a folder of rule tables or a loaded ``RuleSet`` (default: the shipped tables); ``plans``: a
    benefit-plans CSV replacing the folder's; ``rules_as_of``: only policy rows published by that day (both only
    with a folder). ``run_id``: the id stamped on every line and on the manifest (default: a new one). No file
    is left behind (the module's docstring says how); raises ``AdjudicatorError`` with the one-line message a run
    gives for bad input or rules.
    """
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise TypeError(f"'frame' must be a polars DataFrame or LazyFrame, got {type(frame).__name__}")
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise UsageError(f"'run_id' must be a non-empty string, got {run_id!r}")
    given = rules if isinstance(rules, RuleSet) else None
    if given is not None and (plans is not None or rules_as_of is not None):
        raise UsageError("'plans' and 'rules_as_of' apply to a rules folder; a RuleSet is already loaded")
    folder = None if given is not None or rules is None else rules
    with tempfile.TemporaryDirectory(prefix="adjudicator-frame-") as scratch:
        source = Path(scratch) / "frame.parquet"
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(source)
        else:
            frame.write_parquet(source)
        options = RunOptions(
            inputs=(str(source),),
            out=Path(scratch) / "out",
            rules_dir=folder,  # type: ignore[arg-type]  # str or Path: RunOptions makes it a Path
            plans=plans,  # type: ignore[arg-type]
            layout=CANONICAL_LAYOUT,
            rules_as_of=rules_as_of,
        )
        manifest = adjudicate(options, rules=given)
        # read into memory, not mapped: the folder goes when this block ends
        results, rejects = (
            _from_frame(pl.read_parquet(options.out / name, memory_map=False), run_id) for name in (RESULTS, REJECTS)
        )
    return FrameRun(results, rejects, _frame_manifest(manifest, str(source), run_id))


def _from_frame(output: pl.DataFrame, run_id: str | None) -> pl.DataFrame:
    """An output of the run as the frame's: ``source_file`` names the frame, ``run_id`` is the caller's."""
    named = [pl.lit(FRAME_SOURCE, pl.String).alias(SOURCE_FILE)]
    if run_id is not None:
        named.append(pl.lit(run_id, pl.String).alias(RUN_ID))
    return output.with_columns(named)


def _frame_manifest(manifest: dict[str, Any], source: str, run_id: str | None) -> dict[str, Any]:
    """The manifest with the temporary file replaced by the frame's name wherever it appears (the inputs, the
    examples of rejects), and no OUT: both are gone."""
    renamed: dict[str, Any] = _renamed(manifest, source)
    renamed["options"]["out"] = None
    if run_id is not None:
        renamed["run_id"] = run_id
    return renamed


def _renamed(value: Any, source: str) -> Any:
    if value == source:
        return FRAME_SOURCE
    if isinstance(value, dict):
        return {key: _renamed(each, source) for key, each in value.items()}
    if isinstance(value, list):
        return [_renamed(each, source) for each in value]
    return value


__all__ = ["FRAME_SOURCE", "FrameRun", "adjudicate_frame"]
