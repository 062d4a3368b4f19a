"""What a run is asked to do (``RunOptions``, its ``Slice``) and how the engine sizes its work (``EngineSettings``):
frozen values, each with its JSON round trip.

``RunOptions`` is recorded in the manifest, so a run can be replayed; ``EngineSettings`` never changes an output,
only how much a step holds in memory or how many files it opens, so it is not recorded. Settings travel as an
argument to the prepass, the driver, the spills and the diff; no module global chooses a code path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def recorded_path(path: str, cwd: str | None) -> str:
    """A path recorded in a manifest as seen from here: a relative path that does not exist here was relative to
    the recording run's working folder (``cwd``)."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return str(Path(cwd or ".") / path)


@dataclass(frozen=True)
class Slice:
    """Which lines a reprocessing run looks at; the others are counted as skipped."""

    service_from: dt.date | None = None
    service_to: dt.date | None = None
    payers: tuple[str, ...] = ()
    claims_file: Path | None = None

    def predicate(self, claim_ids: pl.Series | None = None) -> pl.Expr | None:
        """True for lines inside the slice, over the typed canonical columns; ``claim_ids``: the ids of the
        claims list, read by the caller (``readers.claims_list.slice_predicate``), required when it has one."""
        # polars here, not at the top: the command line imports this module before it tunes polars' reader
        import polars as pl

        from adjudicator.contract import CLAIM_ID, PAYER_ID, SERVICE_DATE

        if self.claims_file is not None and claim_ids is None:
            raise ValueError(f"the slice's claims list {self.claims_file} must be read first")
        parts: list[pl.Expr] = []
        if self.service_from is not None:
            parts.append(pl.col(SERVICE_DATE) >= self.service_from)
        if self.service_to is not None:
            parts.append(pl.col(SERVICE_DATE) <= self.service_to)
        if self.payers:
            parts.append(pl.col(PAYER_ID).is_in(pl.Series(self.payers, dtype=pl.String)))
        if claim_ids is not None:
            parts.append(pl.col(CLAIM_ID).is_in(claim_ids))
        return pl.all_horizontal(parts) if parts else None

    def as_json(self) -> dict[str, Any]:
        return {
            "service_from": self.service_from.isoformat() if self.service_from else None,
            "service_to": self.service_to.isoformat() if self.service_to else None,
            "only_payers": list(self.payers),
            "claims_file": str(self.claims_file) if self.claims_file else None,
        }

    @classmethod
    def from_json(cls, recorded: dict[str, Any] | None, *, cwd: str | None = None) -> Slice:
        """The slice ``as_json`` recorded; a relative claims list is found from ``cwd`` (``recorded_path``)."""
        recorded = recorded or {}
        claims = recorded.get("claims_file")
        return cls(
            service_from=_date(recorded.get("service_from")),
            service_to=_date(recorded.get("service_to")),
            payers=tuple(recorded.get("only_payers") or ()),
            claims_file=Path(recorded_path(claims, cwd)) if claims else None,
        )


@dataclass(frozen=True)
class EngineSettings:
    """How the engine sizes its work. No setting changes a result, a reject or a count; tests choose small values
    to reach the spilled and multi-batch paths. Why each default: docs/benchmarks.md."""

    #: lines per batch of the driver and per Spark task chunk
    batch_size: int = 100_000
    #: lines per spill partition of the prepass's key check
    rows_per_partition: int = 2_500_000
    #: up to this many lines the key check holds every key hash in memory; beyond, the keys are spilled
    hashes_in_memory: int = 20_000_000
    #: concerned lines per spill partition of the edits (their rows are wider than the keys')
    concerned_rows_per_partition: int = 1_000_000
    #: per-claim partials per part when the report's top claims are summed at the end of a run
    claims_per_partition: int = 250_000
    #: the most partition files one spill writes at once; more partitions are written in several passes
    spill_files_open: int = 20
    #: rows per partition of the diff's spill
    diff_rows_per_partition: int = 500_000
    #: rows per slice when the diff zips two aligned runs
    diff_zip_rows: int = 1_000_000
    #: the most rejects per run the diff compares in memory beside two aligned runs
    diff_aligned_max_rejects: int = 500_000
    #: key hashes per partition when the diff checks that a run's keys are unique
    diff_hashes_per_partition: int = 5_000_000
    #: a run shows its progress once it has taken this long (seconds), when stderr is a terminal
    progress_after_s: float = 3.0
    #: fact keys up to which the Spark engine broadcasts them to its tasks
    spark_broadcast_fact_keys: int = 250_000
    #: rows per Spark read item
    spark_rows_per_item: int = 1_000_000

    def __post_init__(self) -> None:
        for each in dataclasses.fields(self):
            value = getattr(self, each.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"EngineSettings.{each.name} must be a number >= 0, got {value!r}")
        for name in (
            "batch_size",
            "rows_per_partition",
            "concerned_rows_per_partition",
            "claims_per_partition",
            "diff_rows_per_partition",
            "diff_zip_rows",
            "diff_hashes_per_partition",
            "spark_rows_per_item",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"EngineSettings.{name} must be at least 1, got {getattr(self, name)!r}")
        if self.spill_files_open < 2:
            raise ValueError(f"EngineSettings.spill_files_open must be at least 2, got {self.spill_files_open!r}")

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, recorded: dict[str, Any]) -> EngineSettings:
        """The settings ``as_json`` wrote; an unknown key is refused (``ValueError`` naming it)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(recorded) - known)
        if unknown:
            raise ValueError(f"unknown engine settings {unknown}; known: {sorted(known)}")
        return cls(**recorded)


DEFAULT_SETTINGS = EngineSettings()

#: ``RunOptions.history_version`` of a run that read no history table (it did not exist yet)
NO_HISTORY_YET = -1


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do; recorded in the manifest so a run can be replayed.

    ``settings`` sizes the engine's work and is not recorded: it never changes an output.
    """

    inputs: tuple[str, ...]
    out: Path
    rules_dir: Path | None = None
    plans: Path | None = None
    layout: str | None = None
    payer: str | None = None
    overwrite: bool = False
    rules_as_of: dt.date | None = None
    slice: Slice = field(default_factory=Slice)
    #: the command line as typed, recorded for the audit trail (not used to replay)
    command_line: tuple[str, ...] = ()
    settings: EngineSettings = DEFAULT_SETTINGS
    #: the history table (contract section 7): a Delta table's path, created on first use
    history: str | None = None
    #: read the history without committing tonight's lines to it (what-if runs)
    history_read_only: bool = False
    #: the history's version to read (a replay's: the version its run read; ``NO_HISTORY_YET``: the table did
    #: not exist then); None: the latest. A run given a version writes nothing to the history
    history_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "inputs": list(self.inputs),
            "out": str(self.out),
            "rules_dir": str(self.rules_dir) if self.rules_dir else None,
            "plans": str(self.plans) if self.plans else None,
            "layout": self.layout,
            "payer": self.payer,
            "rules_as_of": self.rules_as_of.isoformat() if self.rules_as_of else None,
            "slice": self.slice.as_json(),
            "command_line": list(self.command_line),
            "cwd": os.getcwd(),
            "history": self.history,
            "history_read_only": self.history_read_only,
        }

    @classmethod
    def from_json(cls, recorded: dict[str, Any], *, inputs: tuple[str, ...] | None = None) -> RunOptions:
        """The options ``as_json`` recorded, relative paths found from the recorded ``cwd``; ``inputs`` replaces
        the recorded ones (a manifest's resolved inputs)."""
        cwd = recorded.get("cwd")
        return cls(
            inputs=inputs if inputs is not None else tuple(recorded_path(i, cwd) for i in recorded["inputs"]),
            out=Path(recorded_path(recorded["out"], cwd)),
            rules_dir=Path(recorded_path(recorded["rules_dir"], cwd)) if recorded.get("rules_dir") else None,
            plans=Path(recorded_path(recorded["plans"], cwd)) if recorded.get("plans") else None,
            layout=recorded.get("layout"),
            payer=recorded.get("payer"),
            rules_as_of=_date(recorded.get("rules_as_of")),
            slice=Slice.from_json(recorded.get("slice"), cwd=cwd),
            history=_history_path(recorded.get("history"), cwd),
            history_read_only=bool(recorded.get("history_read_only", False)),
        )

    @property
    def history_writes(self) -> bool:
        """Whether the run commits its lines to the history (a history, not read-only, not pinned)."""
        return self.history is not None and not self.history_read_only and self.history_version is None


def _history_path(path: str | None, cwd: str | None) -> str | None:
    """A recorded history path as seen from here (an object-store URL as it is)."""
    if path is None or "://" in path:
        return path
    return recorded_path(path, cwd)


__all__ = ["DEFAULT_SETTINGS", "NO_HISTORY_YET", "EngineSettings", "RunOptions", "Slice", "recorded_path"]
